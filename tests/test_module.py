"""nn.Module, Parameter, containers and shape modules beside PyTorch: the same nested model
built in both gives the same state_dict keys, parameter/buffer/module names and repr;
load_state_dict copies in place and fails with PyTorch's messages; train/eval, zero_grad,
apply, to(), deepcopy, hooks, registration errors; clip_grad_norm_/clip_grad_value_ match
torch's."""
import copy
import math
import re
import types
from collections import OrderedDict

import numpy as np
import pytest

import lamina as lm
from lamina.nn.containers import ModuleDict, ModuleList, Sequential
from lamina.nn.flatten import Flatten, Identity, Unflatten
from lamina.nn.module import Module
from lamina.nn.parameter import Parameter
from lamina.nn.utils import clip_grad_norm_, clip_grad_value_

torch = pytest.importorskip("torch", reason="PyTorch (test extra) is not installed")

LAMINA_NN = types.SimpleNamespace(Module=Module, Parameter=Parameter, Sequential=Sequential, ModuleList=ModuleList,
                                  ModuleDict=ModuleDict, Identity=Identity, Flatten=Flatten, Unflatten=Unflatten)


def build(nn, zeros):
    """The same nested model written against either framework (class names equal, so reprs are
    comparable)."""

    class Affine(nn.Module):
        def __init__(self, n_in, n_out, bias=True):
            super().__init__()
            self.n_in, self.n_out = n_in, n_out
            self.weight = nn.Parameter(zeros(n_out, n_in))
            if bias:
                self.bias = nn.Parameter(zeros(n_out))
            else:
                self.register_parameter("bias", None)

        def forward(self, x):
            y = x @ self.weight.t()
            return y if self.bias is None else y + self.bias

        def extra_repr(self):
            return f"in_features={self.n_in}, out_features={self.n_out}, bias={self.bias is not None}"

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = Affine(3, 4)
            self.register_buffer("running", zeros(4))
            self.register_buffer("scratch", zeros(2), persistent=False)
            self.layers = nn.ModuleList([Affine(4, 4), Affine(4, 4), Affine(4, 2, bias=False)])
            self.heads = nn.ModuleDict({"a": Affine(2, 2), "skip": nn.Identity()})
            self.shape = nn.Sequential(nn.Flatten(), nn.Unflatten(1, (1, 2)), nn.Flatten(0, -1))

        def forward(self, x):
            x = self.fc(x) + self.running
            for layer in self.layers:
                x = layer(x)
            return self.heads["skip"](self.heads["a"](x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.shared = Affine(2, 2)
            self.tail = nn.Sequential(OrderedDict(first=self.shared, second=self.shared, out=Affine(2, 1)))

        def forward(self, x):
            return self.tail(self.block(x))

    return Net()


def lamina_net():
    return build(LAMINA_NN, lm.zeros)


def torch_net():
    return build(torch.nn, torch.zeros)


def randomize(lnet, tnet):
    """Random values, the same in both models (through torch -> lamina state dicts)."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for t in tnet.state_dict().values():
            t.copy_(torch.randn(t.shape, generator=gen))
    lnet.load_state_dict({k: lm.tensor(v.numpy()) for k, v in tnet.state_dict().items()})


def torch_shape_message(msg):
    """torch's message with torch.Size([3, 4]) written as lamina writes shapes, (3, 4)."""
    return re.sub(r"torch\.Size\(\[([\d, ]*)\]\)",
                  lambda m: str(tuple(int(x) for x in m.group(1).split(",") if x.strip())), msg)


# ---------------------------------------------------------------- structure beside torch
def test_state_dict_keys_and_names_match_torch():
    lnet, tnet = lamina_net(), torch_net()
    assert list(lnet.state_dict().keys()) == list(tnet.state_dict().keys())
    assert [n for n, _ in lnet.named_parameters()] == [n for n, _ in tnet.named_parameters()]
    assert [n for n, _ in lnet.named_buffers()] == [n for n, _ in tnet.named_buffers()]
    assert [n for n, _ in lnet.named_modules()] == [n for n, _ in tnet.named_modules()]
    assert [n for n, _ in lnet.named_children()] == [n for n, _ in tnet.named_children()]
    assert [n for n, _ in lnet.block.named_parameters(prefix="x", recurse=False)] == ["x.fc.weight"][:0]
    assert [n for n, _ in lnet.block.fc.named_parameters(prefix="x", recurse=False)] == ["x.weight", "x.bias"]
    assert "block.scratch" not in lnet.state_dict()  # non-persistent
    assert "tail.second.weight" in lnet.state_dict()  # state_dict keeps every path, like torch
    assert len(list(lnet.parameters())) == len(list(tnet.parameters()))  # shared ones once


def test_repr_matches_torch():
    assert repr(lamina_net()) == repr(torch_net())
    assert repr(ModuleList([Identity(), Identity(), Flatten(), Identity()])) == repr(
        torch.nn.ModuleList([torch.nn.Identity(), torch.nn.Identity(), torch.nn.Flatten(), torch.nn.Identity()]))
    assert repr(Sequential()) == repr(torch.nn.Sequential())
    assert repr(ModuleList()) == repr(torch.nn.ModuleList())


def test_forward_matches_torch_after_loading_torch_weights():
    lnet, tnet = lamina_net(), torch_net()
    randomize(lnet, tnet)
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(lnet(lm.tensor(x)).detach().numpy(), tnet(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_sequential_of_linear_relu_linear_matches_torch():
    nn = pytest.importorskip("lamina.nn.layers", reason="lamina.nn.Linear / ReLU are not written yet")
    lnet = Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    assert list(lnet.state_dict()) == list(tnet.state_dict())
    assert repr(lnet) == repr(tnet)
    lnet.load_state_dict({k: lm.tensor(v.numpy()) for k, v in tnet.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(lnet(lm.tensor(x)).detach().numpy(), tnet(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------- load_state_dict
def test_load_state_dict_copies_in_place_and_keeps_parameter_objects():
    lnet, tnet = lamina_net(), torch_net()
    weight = lnet.block.fc.weight
    randomize(lnet, tnet)
    assert lnet.block.fc.weight is weight and isinstance(weight, Parameter) and weight.requires_grad
    np.testing.assert_array_equal(weight.detach().numpy(), tnet.block.fc.weight.detach().numpy())
    state = lnet.state_dict()
    assert all(not t.requires_grad and type(t) is lm.Tensor for t in state.values())
    state["block.fc.bias"].fill_(7.0)  # detached, but sharing storage, as in torch
    assert lnet.block.fc.bias.detach().numpy().tolist() == [7.0] * 4
    kept = lnet.state_dict(keep_vars=True)
    assert kept["block.fc.weight"] is weight
    result = lnet.load_state_dict(lnet.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"


def load_error(net, state, **kwargs):
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(state, **kwargs)
    return str(info.value)


def test_load_state_dict_errors_match_torch_messages():
    lnet, tnet = lamina_net(), torch_net()
    lstate = lnet.state_dict()
    tstate = tnet.state_dict()
    for drop in (["block.fc.bias", "tail.out.weight"], []):
        ls = {k: v for k, v in lstate.items() if k not in drop}
        ts = {k: v for k, v in tstate.items() if k not in drop}
        ls["block.extra"], ts["block.extra"] = lm.zeros(1), torch.zeros(1)
        ls["nothing.here.weight"], ts["nothing.here.weight"] = lm.zeros(1), torch.zeros(1)
        assert load_error(lnet, ls) == load_error(tnet, ts)
    ls, ts = dict(lstate), dict(tstate)
    ls["block.fc.weight"], ts["block.fc.weight"] = lm.zeros(3, 4), torch.zeros(3, 4)
    ls["block.running"], ts["block.running"] = lm.zeros(5), torch.zeros(5)
    del ls["shared.bias"], ts["shared.bias"]
    message = load_error(lnet, ls)
    assert message == torch_shape_message(load_error(tnet, ts))
    assert message == ('Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: "shared.bias". '
                       "\n\tsize mismatch for block.running: copying a param with shape (5,) from checkpoint, the "
                       "shape in current model is (4,).\n\tsize mismatch for block.fc.weight: copying a param with "
                       "shape (3, 4) from checkpoint, the shape in current model is (4, 3).")


def test_load_state_dict_non_strict_reports_keys_and_still_checks_sizes():
    lnet, tnet = lamina_net(), torch_net()
    ls = {k: v for k, v in lnet.state_dict().items() if k != "block.running"}
    ts = {k: v for k, v in tnet.state_dict().items() if k != "block.running"}
    ls["bogus"], ts["bogus"] = lm.zeros(1), torch.zeros(1)
    lres, tres = lnet.load_state_dict(ls, strict=False), tnet.load_state_dict(ts, strict=False)
    assert lres.missing_keys == tres.missing_keys == ["block.running"]
    assert lres.unexpected_keys == tres.unexpected_keys == ["bogus"]
    assert lres._fields == ("missing_keys", "unexpected_keys")
    ls["block.running"] = lm.zeros(2)
    assert "size mismatch for block.running" in load_error(lnet, ls, strict=False)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        lnet.load_state_dict([1, 2])
    ls = lnet.state_dict()
    ls["block.running"] = np.zeros(4)
    assert 'While copying the parameter named "block.running", expected lamina.Tensor' in load_error(lnet, ls)


def test_load_state_dict_converts_dtype_like_torch():
    m = Module()
    m.w = Parameter(lm.zeros(2))
    m.load_state_dict({"w": lm.tensor([1.5, 2.5], dtype=lm.float64)})
    assert m.w.dtype == lm.float32 and m.w.detach().numpy().tolist() == [1.5, 2.5]


# ---------------------------------------------------------------- behaviour
def test_parameter_is_a_leaf_tensor_sharing_data_and_prints_like_torch():
    data = lm.tensor([[1.0, -2.5], [3.0, 4.0]])
    p = Parameter(data)
    assert isinstance(p, lm.Tensor) and p.requires_grad and p.is_leaf and p.grad_fn is None
    assert p.data_ptr() == data.data_ptr()
    assert repr(p) == repr(torch.nn.Parameter(torch.tensor([[1.0, -2.5], [3.0, 4.0]])))
    assert not Parameter(lm.zeros(1), requires_grad=False).requires_grad
    assert tuple(Parameter().shape) == (0,)
    q = copy.deepcopy(p)
    assert type(q) is Parameter and q.requires_grad and q.data_ptr() != p.data_ptr()
    np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy())


def test_train_eval_requires_grad_zero_grad_apply():
    net = lamina_net()
    assert net.training and net.block.layers[2].training
    assert net.eval() is net and not net.training and not net.block.heads["a"].training
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")
    x = lm.randn(2, 3)
    net(x).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    visited, tvisited = [], []
    net.apply(lambda m: visited.append(type(m).__name__))
    torch_net().apply(lambda m: tvisited.append(type(m).__name__))
    assert visited == tvisited and visited[-1] == "Net"


def test_to_float64_converts_floating_parameters_and_buffers():
    net = lamina_net()
    net.block.register_buffer("count", lm.tensor(3))
    net.block.fc.weight.grad = lm.ones(4, 3)
    same = net.to(lm.float32)
    assert same is net and net.block.fc.weight is net.block.fc.weight  # nothing to do: same objects
    net.to(dtype=lm.float64)
    assert all(p.dtype == lm.float64 and isinstance(p, Parameter) and p.requires_grad for p in net.parameters())
    assert net.block.running.dtype == lm.float64 and net.block.count.dtype == lm.int64
    assert net.block.fc.weight.grad.dtype == lm.float64
    assert net.tail.first.weight is net.shared.weight  # sharing survives
    net.float()
    assert net.block.fc.weight.dtype == lm.float32
    assert net.to("cpu") is net
    with pytest.raises(TypeError, match="only accepts floating point"):
        net.to(lm.int64)


def test_deepcopy_gives_independent_parameters_and_keeps_sharing():
    net = lamina_net()
    clone = copy.deepcopy(net)
    assert list(clone.state_dict()) == list(net.state_dict())
    assert clone.block.fc.weight is not net.block.fc.weight
    assert clone.tail.first is clone.shared and clone.tail.first is not net.shared
    with lm.no_grad():
        clone.block.fc.weight.fill_(5.0)
    assert not net.block.fc.weight.detach().numpy().any()
    assert isinstance(clone.block.fc.weight, Parameter) and clone.block.fc.weight.requires_grad


def test_attribute_registration_and_errors():
    m = Module()
    m.w = Parameter(lm.zeros(2))
    m.child = Identity()
    m.register_buffer("buf", lm.ones(1))
    m.plain = 3
    assert list(m._parameters) == ["w"] and list(m._modules) == ["child"] and list(m._buffers) == ["buf"]
    assert {"w", "child", "buf", "plain", "forward"} <= set(dir(m))
    m.buf = lm.zeros(1)  # a buffer may be replaced by a tensor
    assert m.buf.numpy().tolist() == [0.0]
    with pytest.raises(TypeError, match="cannot assign 'lamina.Tensor' as parameter 'w'"):
        m.w = lm.zeros(2)
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'child'"):
        m.child = 1
    with pytest.raises(TypeError, match="as buffer 'buf'"):
        m.buf = [1]
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", lm.zeros(1))
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        m.register_buffer("plain", lm.zeros(1))
    with pytest.raises(TypeError, match="object to parameter"):
        m.register_parameter("q", lm.zeros(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("x", 3)
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'missing'"):
        m.missing
    m.w = None
    assert m.w is None and [n for n, _ in m.named_parameters()] == []
    m.child = Parameter(lm.zeros(1))  # re-registering a name as another kind moves it
    assert "child" in m._parameters and "child" not in m._modules
    del m.child, m.buf, m.plain
    assert not hasattr(m, "child") and not hasattr(m, "buf") and not hasattr(m, "plain")

    class Early(Module):
        def __init__(self):
            self.w = Parameter(lm.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        Module()(1)


def test_forward_hooks_change_inputs_and_outputs_and_can_be_removed():
    seq = Sequential(Identity(), Flatten())
    calls = []
    pre = seq.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    post = seq.register_forward_hook(lambda m, args, out: calls.append(tuple(out.shape)) or out + 1)
    out = seq(lm.ones(2, 2, 2))
    assert out.numpy().tolist() == [[3.0] * 4] * 2 and calls == [(2, 4)]
    pre.remove()
    post.remove()
    assert seq(lm.ones(1, 2)).numpy().tolist() == [[1.0, 1.0]]


def test_containers_index_slice_and_edit_like_torch():
    mods = [Identity(), Flatten(), Unflatten(1, (2, 2)), Identity()]
    seq = Sequential(*mods)
    assert len(seq) == 4 and seq[1] is mods[1] and seq[-1] is mods[3]
    assert list(seq[1:3]) == mods[1:3] and isinstance(seq[1:3], Sequential)
    del seq[0]
    assert list(seq._modules) == ["0", "1", "2"] and seq[0] is mods[1]
    seq.append(Identity()).insert(0, mods[0])
    assert len(seq) == 5 and seq[0] is mods[0]
    with pytest.raises(IndexError):
        seq[5]
    assert "0" not in dir(seq)
    assert len(seq + Sequential(Identity())) == 6
    ml = ModuleList(mods)
    ml += [Identity()]
    assert len(ml) == 5 and ml[-1] is not mods[-1] and isinstance(ml[:2], ModuleList)
    ml[0] = Flatten()
    assert isinstance(ml[0], Flatten)
    md = ModuleDict({"a": Identity()})
    md["b"] = Flatten()
    md.update([("c", Identity())])
    assert list(md.keys()) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert md.pop("b") is not None and list(md) == ["a", "c"]
    with pytest.raises(ValueError, match="has length 1; 2 is required"):
        md.update([("d",)])


def test_flatten_unflatten_identity_shapes_and_reprs_match_torch():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    for lmod, tmod in [(Flatten(), torch.nn.Flatten()), (Flatten(0, 2), torch.nn.Flatten(0, 2)),
                       (Unflatten(1, (3, 1)), torch.nn.Unflatten(1, (3, 1))),
                       (Unflatten(-1, [5, -1]), torch.nn.Unflatten(-1, [5, -1])),
                       (Identity(54, unused=1), torch.nn.Identity(54, unused=1))]:
        np.testing.assert_array_equal(lmod(lm.tensor(x)).numpy(), tmod(torch.tensor(x)).numpy())
        assert repr(lmod) == repr(tmod)
    with pytest.raises(TypeError, match="tuple of ints"):
        Unflatten(1, (2, "a"))
    with pytest.raises(ValueError, match="doesn't match"):
        Unflatten(1, (2, 2))(lm.tensor(x))


# ---------------------------------------------------------------- gradient clipping
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm_matches_torch(norm_type):
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal(s).astype(np.float32) for s in [(4, 3), (3,), (2, 2, 2)]]
    lparams = [Parameter(lm.zeros(*g.shape)) for g in grads]
    tparams = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
    for lp, tp, g in zip(lparams, tparams, grads):
        lp.grad, tp.grad = lm.tensor(g), torch.tensor(g)
    lparams.append(Parameter(lm.zeros(2)))  # without a gradient: skipped
    ltotal = clip_grad_norm_(lparams, max_norm=0.5, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, max_norm=0.5, norm_type=norm_type)
    assert isinstance(ltotal, lm.Tensor) and ltotal.dim() == 0
    np.testing.assert_allclose(ltotal.item(), ttotal.item(), rtol=1e-5)
    for lp, tp in zip(lparams, tparams):
        np.testing.assert_allclose(lp.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_leaves_small_gradients_and_rejects_nonfinite():
    p = Parameter(lm.zeros(2))
    p.grad = lm.tensor([0.3, 0.4])
    total = clip_grad_norm_(p, max_norm=10.0)
    assert total.item() == pytest.approx(0.5) and p.grad.numpy().tolist() == pytest.approx([0.3, 0.4])
    assert clip_grad_norm_([Parameter(lm.zeros(1))], 1.0).item() == 0.0
    p.grad = lm.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch():
    g = np.array([[-3.0, 0.2], [0.7, 5.0]], dtype=np.float32)
    lp, tp = Parameter(lm.zeros(2, 2)), torch.nn.Parameter(torch.zeros(2, 2))
    lp.grad, tp.grad = lm.tensor(g), torch.tensor(g)
    clip_grad_value_([lp], 0.5)
    torch.nn.utils.clip_grad_value_([tp], 0.5)
    np.testing.assert_array_equal(lp.grad.numpy(), tp.grad.numpy())


def test_to_dtype_keeps_parameter_objects_so_optimizers_stay_valid():
    model = lm.nn.Sequential(lm.nn.Linear(3, 4), lm.nn.Linear(4, 2))
    params = list(model.parameters())
    opt = lm.optim.SGD(model.parameters(), lr=0.1)
    model(lm.randn(5, 3)).sum().backward()
    model.double()
    assert all(a is b for a, b in zip(params, model.parameters()))
    assert all(p.dtype == lm.float64 and p.grad.dtype == lm.float64 and p.requires_grad for p in params)
    before = params[0].detach().clone()
    opt.step()
    assert not np.allclose(before.numpy(), params[0].detach().numpy())
