"""lamina.save / lamina.load: safetensors files that the safetensors package reads (NumPy and
torch), torch-written files that lamina reads, nested optimizer-like state round trips, model
state dicts into and out of PyTorch, atomic writes, and clear ValueErrors (naming the file) for
truncated, corrupted, foreign and pickle files."""
import json
import os
import pickle
import struct

import numpy as np
import pytest

import lamina as lm
from lamina import serialization
from lamina.serialization import load, save

safetensors_numpy = pytest.importorskip("safetensors.numpy", reason="safetensors (test extra) is not installed")


def flat_state():
    lm.manual_seed(0)
    return {"layer.weight": lm.randn(4, 3), "layer.bias": lm.randn(4), "steps": lm.tensor(12),
            "mask": lm.tensor([True, False, True]), "double": lm.randn(2, 2, dtype=lm.float64),
            "scalar": lm.tensor(3.5), "empty": lm.zeros(0, 5), "view": lm.arange(12.0).reshape(3, 4).t()}


def assert_same_tensors(a, b):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and tuple(a[k].shape) == tuple(b[k].shape), k
        np.testing.assert_array_equal(a[k].numpy(), b[k].numpy())


def test_flat_state_dict_round_trip_and_safetensors_numpy_reads_it(tmp_path):
    path = tmp_path / "model.safetensors"
    state = flat_state()
    save(state, path)
    assert_same_tensors(load(path), state)
    arrays = safetensors_numpy.load_file(str(path))
    assert set(arrays) == set(state)
    for k, t in state.items():
        assert arrays[k].dtype == t.numpy().dtype and arrays[k].shape == tuple(t.shape)
        np.testing.assert_array_equal(arrays[k], t.numpy())


def test_torch_reads_lamina_files_and_lamina_reads_torch_files(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch (test extra) is not installed")
    from safetensors.torch import load_file, save_file
    state = flat_state()
    save(state, tmp_path / "lamina.safetensors")
    loaded = load_file(str(tmp_path / "lamina.safetensors"))
    assert set(loaded) == set(state)
    for k in state:
        np.testing.assert_array_equal(loaded[k].numpy(), state[k].numpy())
    gen = torch.Generator().manual_seed(0)
    tstate = {"w": torch.randn(3, 5, generator=gen), "n": torch.arange(4), "d": torch.randn(2, dtype=torch.float64),
              "flag": torch.tensor([True, False]), "half": torch.randn(4, generator=gen).half(),
              "bf": torch.randn(4, generator=gen).bfloat16(), "i32": torch.arange(-3, 3, dtype=torch.int32),
              "u8": torch.arange(250, 256, dtype=torch.uint8)}
    save_file(tstate, str(tmp_path / "torch.safetensors"))
    ours = load(tmp_path / "torch.safetensors")
    assert set(ours) == set(tstate)
    widened = {"half": lm.float32, "bf": lm.float32, "i32": lm.int64, "u8": lm.int64}
    for k, t in tstate.items():
        assert str(ours[k].dtype) == str(widened.get(k, t.dtype)).replace("torch", "lamina")
        np.testing.assert_array_equal(ours[k].numpy(), t.float().numpy() if k in ("half", "bf") else t.numpy())


def test_model_state_dict_moves_between_lamina_and_torch(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch (test extra) is not installed")
    from safetensors.torch import load_file, save_file
    from lamina.nn.containers import Sequential
    from lamina.nn.module import Module
    from lamina.nn.parameter import Parameter

    class Affine(Module):
        def __init__(self, n_in, n_out):
            super().__init__()
            self.weight = Parameter(lm.randn(n_out, n_in))
            self.bias = Parameter(lm.randn(n_out))

        def forward(self, x):
            return x @ self.weight.t() + self.bias

    model = Sequential(Affine(3, 5), Affine(5, 2))
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Linear(5, 2))
    save(model.state_dict(), tmp_path / "lamina.safetensors")
    tmodel.load_state_dict(load_file(str(tmp_path / "lamina.safetensors")))
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(tmodel(torch.tensor(x)).detach().numpy(), model(lm.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    torch.nn.init.normal_(tmodel[0].weight)
    save_file(tmodel.state_dict(), str(tmp_path / "torch.safetensors"))
    model.load_state_dict(load(tmp_path / "torch.safetensors"))
    np.testing.assert_allclose(tmodel(torch.tensor(x)).detach().numpy(), model(lm.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_nested_optimizer_like_state_round_trips(tmp_path):
    state = {
        "state": {0: {"step": lm.tensor(3.0), "exp_avg": lm.randn(4, 3), "exp_avg_sq": lm.rand(4, 3)},
                  1: {"step": 3, "momentum_buffer": None}},
        "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0, "amsgrad": False,
                          "params": [0, 1], "name": "main", "max_grad": float("inf"), "nan": float("nan")}],
        "epoch": 7,
        "history": [1.5, 0.25, {"a.b": lm.ones(1), "a": {"b": lm.zeros(1)}}],
    }
    save(state, tmp_path / "opt.safetensors")
    back = load(tmp_path / "opt.safetensors")
    assert list(back) == ["state", "param_groups", "epoch", "history"] and list(back["state"]) == [0, 1]
    assert back["state"][1] == {"step": 3, "momentum_buffer": None}
    group = back["param_groups"][0]
    assert group["betas"] == (0.9, 0.999) and isinstance(group["betas"], tuple) and group["params"] == [0, 1]
    assert group["lr"] == 0.001 and group["amsgrad"] is False and group["name"] == "main"
    assert group["max_grad"] == float("inf") and group["nan"] != group["nan"]
    for k in ("step", "exp_avg", "exp_avg_sq"):
        np.testing.assert_array_equal(back["state"][0][k].numpy(), state["state"][0][k].numpy())
    assert back["history"][2]["a.b"].numpy().tolist() == [1.0] and back["history"][2]["a"]["b"].numpy().tolist() == [0.0]
    # every tensor is a named safetensors entry that other tools can read
    arrays = safetensors_numpy.load_file(str(tmp_path / "opt.safetensors"))
    assert set(arrays) >= {"state.0.exp_avg", "state.0.step", "history.2.a.b"}
    assert len(arrays) == 5


def test_unsupported_values_raise_type_error_and_write_nothing(tmp_path):
    with pytest.raises(TypeError, match="can't save a object at 'a.b'"):
        save({"a": {"b": object()}}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="dict keys must be str or int"):
        save({(1, 2): lm.zeros(1)}, tmp_path / "x.safetensors")
    assert os.listdir(tmp_path) == []


def write_raw(path, header_obj, data=b"", header_size=None):
    header = json.dumps(header_obj).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header) if header_size is None else header_size) + header + data)


def load_error(path):
    with pytest.raises(ValueError) as info:
        load(path)
    message = str(info.value)
    assert str(path) in message
    return message


def test_bad_files_raise_value_error_naming_the_file(tmp_path):
    good = tmp_path / "good.safetensors"
    save(flat_state(), good)
    raw = good.read_bytes()
    cases = {"truncated": raw[:-10], "header_cut": raw[:40], "tiny": raw[:5], "empty": b"",
             "random": np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()}
    messages = {}
    for name, content in cases.items():
        path = tmp_path / f"{name}.bin"
        path.write_bytes(content)
        messages[name] = load_error(path)
    assert "truncated" in messages["truncated"] and "too short" in messages["tiny"]
    assert "header size" in messages["header_cut"] and "not a safetensors file" in messages["random"]

    for protocol in (2, 4, 5):
        pickled = tmp_path / f"model{protocol}.pkl"
        pickled.write_bytes(pickle.dumps({"w": [1.0, 2.0]}, protocol=protocol))
        assert "pickle" in load_error(pickled)
    torch = pytest.importorskip("torch", reason="PyTorch (test extra) is not installed")
    zipped = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, zipped)
    assert "torch.save zip archive" in load_error(zipped)

    past_end = tmp_path / "past_end.safetensors"
    write_raw(past_end, {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, data=b"\0" * 8)
    assert "'w'" in load_error(past_end) and "[0, 16]" in load_error(past_end)

    for name, header, data, needle in [
        ("not_json", None, b"", "not valid JSON"),
        ("bad_dtype", {"w": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}, b"\0" * 8, "'C64'"),
        ("bad_size", {"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\0" * 8, "needs 12 bytes"),
        ("gap", {"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8, "contiguous"),
        ("bad_shape", {"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4, "shape"),
        ("bad_meta", {"__metadata__": {"lamina.structure": "{\"tensor\": \"zz\"}"}}, b"", "lacks"),
    ]:
        path = tmp_path / f"{name}.safetensors"
        if header is None:
            path.write_bytes(struct.pack("<Q", 5) + b"{nope")
        else:
            write_raw(path, header, data)
        assert needle in load_error(path), name


def test_interrupted_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save({"w": lm.ones(3)}, path)
    before = path.read_bytes()
    calls = []

    def failing(t):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return original(t)

    original = serialization._tensor_bytes
    monkeypatch.setattr(serialization, "_tensor_bytes", failing)
    with pytest.raises(OSError, match="disk full"):
        save({"a": lm.zeros(100), "b": lm.zeros(100)}, path)
    assert len(calls) == 2  # it failed mid-write
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.safetensors"]
    monkeypatch.setattr(serialization, "_tensor_bytes", original)
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("fsync failed")))
    with pytest.raises(OSError, match="fsync failed"):
        save({"a": lm.zeros(2)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.safetensors"]
    monkeypatch.undo()
    save({"new": lm.zeros(2)}, path)
    assert list(load(path)) == ["new"]


def test_saved_file_layout_is_aligned_safetensors(tmp_path):
    path = tmp_path / "x.safetensors"
    save({"a": lm.zeros(3), "b": lm.ones(2, dtype=lm.int64)}, path)
    raw = path.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    assert n % 8 == 0
    header = json.loads(raw[8:8 + n])
    assert header["a"] == {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}
    assert header["b"] == {"dtype": "I64", "shape": [2], "data_offsets": [12, 28]}
    assert all(isinstance(v, str) for v in header["__metadata__"].values())
    assert len(raw) == 8 + n + 28


def test_training_checkpoint_with_optimizer_and_scheduler_resumes_exactly(tmp_path):
    optim = pytest.importorskip("lamina.optim")
    layers = pytest.importorskip("lamina.nn.layers")
    from lamina.optim import lr_scheduler
    if not hasattr(optim, "Adam") or not hasattr(layers, "Linear"):
        pytest.skip("lamina.optim.Adam / lamina.nn.Linear are not written yet")

    def make():
        model = layers.Linear(3, 2)
        opt = optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
        return model, opt, lr_scheduler.MultiStepLR(opt, [2, 4, 4], gamma=0.5), lr_scheduler.ReduceLROnPlateau(opt)

    def train_step(model, opt, sched, plateau, x):
        opt.zero_grad()
        loss = (model(x) ** 2).sum()
        loss.backward()
        opt.step()
        sched.step()
        plateau.step(loss.item())

    lm.manual_seed(0)
    xs = [lm.randn(4, 3) for _ in range(6)]
    model, opt, sched, plateau = make()
    for x in xs[:3]:
        train_step(model, opt, sched, plateau, x)
    save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
          "plateau": plateau.state_dict(), "epoch": 3}, tmp_path / "ckpt.safetensors")
    ckpt = load(tmp_path / "ckpt.safetensors")
    model2, opt2, sched2, plateau2 = make()
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    plateau2.load_state_dict(ckpt["plateau"])
    assert ckpt["epoch"] == 3 and sched2.get_last_lr() == sched.get_last_lr()
    for x in xs[3:]:
        train_step(model, opt, sched, plateau, x)
        train_step(model2, opt2, sched2, plateau2, x)
        assert sched2.get_last_lr() == sched.get_last_lr()
    for a, b in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    with pytest.warns(UserWarning, match="deprecated"):
        sched2.step(5)  # the closed form (Counter.elements) works after a round trip through a file
