"""Training checkpoints: one safetensors file (lamina.save, atomic) holding everything a run
needs to go on exactly as if it had never stopped: the model's state_dict, the optimizer's and
the scheduler's state, the number of finished epochs, lamina's random-generator state (the
shuffling and dropout of later epochs draw from it) and the state of fit's callbacks (History,
EarlyStopping, LR schedules, ...).

    save_checkpoint("run.safetensors", model=model, optimizer=opt, scheduler=sched, epoch=5)
    state = load_checkpoint("run.safetensors", model=model, optimizer=opt, scheduler=sched)
    model.fit(x, y, epochs=10, resume_from="run.safetensors")   # or fit's ModelCheckpoint files
"""
from lamina import _C
from lamina.serialization import load, save

__all__ = ["save_checkpoint", "load_checkpoint"]

_FORMAT = "lamina.checkpoint/1"


def _callback_key(index, callback):
    return f"{index}.{type(callback).__name__}"


def save_checkpoint(path, model, optimizer=None, scheduler=None, epoch=None, callbacks=None, extra=None):
    """Writes a checkpoint to path: model.state_dict(), optimizer.state_dict(),
    scheduler.state_dict(), epoch (the number of finished epochs, the initial_epoch to resume
    from), lamina.get_rng_state(), each callback's state_dict() (keyed by position and class
    name) and extra (any tensors, numbers, strings and containers of them)."""
    state = {
        "format": _FORMAT,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "epoch": epoch,
        "rng_state": list(_C.get_rng_state()),
        "callbacks": {_callback_key(i, cb): cb.state_dict() for i, cb in enumerate(callbacks or [])},
        "extra": extra,
    }
    save(state, path)


def load_checkpoint(path, model=None, optimizer=None, scheduler=None, callbacks=None, restore_rng=True,
                    map_location=None):
    """Reads a checkpoint written by save_checkpoint and loads it into whichever of model,
    optimizer, scheduler and callbacks are given (callbacks matched by position and class name;
    those the file lacks keep their state), and sets lamina's RNG state (restore_rng).
    Returns the checkpoint dict: 'model', 'optimizer', 'scheduler', 'epoch', 'rng_state',
    'callbacks', 'extra'. Raises ValueError if the file is not a lamina checkpoint."""
    state = load(path, map_location=map_location)
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        raise ValueError(f"[load_checkpoint] {path}: not a lamina training checkpoint (no '{_FORMAT}' format "
                         "tag); a file of weights alone loads with model.load_state_dict(lamina.load(path))")
    for name, obj in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is None:
            continue
        if state[name] is None:
            raise ValueError(f"[load_checkpoint] {path}: the checkpoint holds no {name} state")
        obj.load_state_dict(state[name])
    for i, cb in enumerate(callbacks or []):
        saved = state["callbacks"].get(_callback_key(i, cb))
        if saved is not None:
            cb.load_state_dict(saved)
    if restore_rng:
        _C.set_rng_state(state["rng_state"])
    return state
