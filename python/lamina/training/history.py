"""History: what fit returns, the per-epoch logs ('loss', metrics, 'val_' ones, 'lr') and the
per-step training losses, and History.plot, a PNG of the curves drawn with matplotlib's Agg
backend (an optional dependency: pip install lamina[plot])."""
from lamina.training.callbacks import Callback

__all__ = ["History"]


class History(Callback):
    """Records fit's logs. ``history[key]`` is the list of per-epoch values of key (e.g.
    history['val_accuracy']), ``epoch`` the epoch indices (0-based, as Keras), ``steps['loss']``
    the loss of every training batch in order and ``params`` fit's settings. A run resumed from
    a ModelCheckpoint checkpoint continues the History saved in it."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []
        self.steps = {"loss": []}

    def on_batch_end(self, batch, logs=None):
        self.steps["loss"].append(logs["batch_loss"])

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def state_dict(self):
        return {"history": {k: list(v) for k, v in self.history.items()}, "epoch": list(self.epoch),
                "steps": {k: list(v) for k, v in self.steps.items()}}

    def load_state_dict(self, state):
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.epoch = list(state["epoch"])
        self.steps = {k: list(v) for k, v in state["steps"].items()}

    def __getitem__(self, key):
        return self.history[key]

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"

    def plot(self, path, keys=None, title=None):
        """Writes a PNG to path: one panel per quantity ('loss' first, then each metric; keys
        picks them), training curve solid, validation ('val_' + key) dashed, against the epoch
        number (1-based). Returns path. Needs matplotlib (pip install lamina[plot])."""
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
            from matplotlib.ticker import MaxNLocator
        except ImportError:
            raise ImportError("History.plot needs matplotlib, which is not installed: pip install lamina[plot] "
                              "(or pip install matplotlib)") from None

        if keys is None:
            keys = [k for k in self.history if not k.startswith("val_") and k != "lr"]
            keys += [k[4:] for k in self.history if k.startswith("val_") and k[4:] not in keys]
            keys.sort(key=lambda k: k != "loss")
        if not keys:
            raise ValueError("History.plot: nothing to plot (the history is empty)")
        epochs = [e + 1 for e in self.epoch]
        fig = Figure(figsize=(5 * len(keys), 4), dpi=100, layout="constrained")
        FigureCanvasAgg(fig)  # the Agg (PNG) canvas, without touching pyplot's global backend
        for i, key in enumerate(keys):
            ax = fig.add_subplot(1, len(keys), i + 1)
            for name, style in ((key, "-"), ("val_" + key, "--")):
                if name in self.history:
                    ax.plot(epochs, self.history[name], style, marker="o", markersize=3, label=name)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_title(key)
            ax.grid(True, alpha=0.3)
            ax.legend()
        if title:
            fig.suptitle(title)
        fig.savefig(path, format="png")
        return path
