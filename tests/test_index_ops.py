"""Joining, splitting and indexing: cat, stack, split, chunk, index_select, gather, masked_select,
nonzero. Forward and gradients against PyTorch and finite differences (repeated indices
accumulate), dtype promotion in cat, uneven chunks; errors of malformed calls."""
import numpy as np
import pytest

import lamina as lm
from helpers import check_against_torch, gradcheck, torch_or_skip

RNG = np.random.default_rng(0)


def randn(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def index(values):
    return np.array(values, dtype=np.int64)


def assert_same(got, want):
    assert tuple(got.shape) == tuple(want.shape), f"shape {tuple(got.shape)} != torch {tuple(want.shape)}"
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


# ---------------------------------------------------------------- cat and stack
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_cat_matches_torch_and_sends_each_input_its_gradient(dim):
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for k, n in enumerate([1, 3, 2]):
        shapes[k][dim] = n
    check_against_torch(lambda m, a, b, c: m.cat([a, b, c], dim), [randn(*s) for s in shapes])


def test_cat_gradcheck_and_non_contiguous_inputs():
    gradcheck(lambda a, b: lm.cat([a, b], 1), [randn(2, 3, dtype=np.float64), randn(2, 1, dtype=np.float64)])
    gradcheck(lambda a, b: lm.cat([a.t(), b], 0), [randn(3, 2, dtype=np.float64), randn(1, 3, dtype=np.float64)])
    check_against_torch(lambda m, a, b: m.cat([a.t(), b[:, ::2]], 1), [randn(4, 3), randn(3, 6)])


def test_cat_of_a_tensor_with_itself_and_with_constants():
    check_against_torch(lambda m, a: m.cat([a, a * 2, a], 0), [randn(2, 3)])
    check_against_torch(lambda m, a, b: m.cat([a, b], 1), [randn(2, 3), np.ones((2, 2), dtype=np.int64)])


def test_cat_promotes_mixed_dtypes_like_torch():
    torch = torch_or_skip()
    arrays = {"f32": randn(2, 2), "f64": randn(2, 2, dtype=np.float64), "i64": index([[1, 2], [3, 4]]),
              "bool": np.array([[True, False], [False, True]])}
    for a in arrays.values():
        for b in arrays.values():
            assert_same(lm.cat([lm.tensor(a), lm.tensor(b)]), torch.cat([torch.tensor(a), torch.tensor(b)]))


def test_cat_gradients_keep_each_input_dtype():
    a = lm.tensor(randn(2, 2), requires_grad=True)
    b = lm.tensor(randn(1, 2, dtype=np.float64), requires_grad=True)
    out = lm.cat([a, b])
    assert out.dtype == lm.float64
    out.sum().backward()
    assert a.grad.dtype == lm.float32 and b.grad.dtype == lm.float64
    np.testing.assert_array_equal(a.grad.numpy(), np.ones((2, 2)))


def test_cat_of_a_single_tensor_and_of_empty_pieces():
    check_against_torch(lambda m, a: m.cat([a], 1), [randn(2, 3)])
    check_against_torch(lambda m, a, b: m.cat([a, b], 0), [randn(0, 3), randn(2, 3)])
    check_against_torch(lambda m, a, b: m.cat((a, b), 1), [randn(2, 0), randn(2, 3)])


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -3])
def test_stack_matches_torch(dim):
    check_against_torch(lambda m, a, b, c: m.stack([a, b, c], dim), [randn(2, 3), randn(2, 3), randn(2, 3)])
    check_against_torch(lambda m, a, b: m.stack((a.t(), b), dim), [randn(3, 2), randn(2, 3)])


def test_stack_gradcheck_and_zero_dim():
    gradcheck(lambda a, b: lm.stack([a, b], 1), [randn(2, 3, dtype=np.float64), randn(2, 3, dtype=np.float64)])
    check_against_torch(lambda m, a, b: m.stack([a, b]), [np.array(1.0, dtype=np.float32), np.array(2.0, dtype=np.float32)])


def test_cat_and_stack_bad_input():
    with pytest.raises(ValueError, match=r"\[cat\].*non-empty"):
        lm.cat([])
    with pytest.raises(ValueError, match=r"\[cat\].*sizes of tensors must match"):
        lm.cat([lm.zeros(2, 3), lm.zeros(3, 3)], 1)
    with pytest.raises(ValueError, match=r"\[cat\].*number of dimensions"):
        lm.cat([lm.zeros(2, 3), lm.zeros(2)])
    with pytest.raises(ValueError, match=r"\[cat\].*zero-dimensional"):
        lm.cat([lm.tensor(1.0), lm.tensor(2.0)])
    with pytest.raises(IndexError, match=r"\[cat\].*dim"):
        lm.cat([lm.zeros(2, 3), lm.zeros(2, 3)], 2)
    with pytest.raises(ValueError, match=r"\[stack\].*equal size"):
        lm.stack([lm.zeros(2, 3), lm.zeros(3, 2)])
    with pytest.raises(ValueError, match=r"\[stack\].*non-empty"):
        lm.stack([])
    with pytest.raises(IndexError, match=r"\[stack\].*dim"):
        lm.stack([lm.zeros(2, 3), lm.zeros(2, 3)], 3)
    with pytest.raises(TypeError):
        lm.cat([lm.zeros(2), [1.0, 2.0]])


# ---------------------------------------------------------------- split and chunk
@pytest.mark.parametrize("size_or_sections,dim", [(2, 0), (3, 0), (5, 0), (7, 0), (1, 1), (2, -1), ([1, 4], 0), ([2, 0, 3], 0),
                                                  ([3, 1], 1), ((1, 1, 2), -1)])
def test_split_matches_torch(size_or_sections, dim):
    torch = torch_or_skip()
    x = randn(5, 4)
    got, want = lm.split(lm.tensor(x), size_or_sections, dim), torch.split(torch.tensor(x), size_or_sections, dim)
    assert isinstance(got, (list, tuple)) and len(got) == len(want)
    for g, w in zip(got, want):
        assert_same(g, w)
    check_against_torch(lambda m, t: tuple(t.split(size_or_sections, dim)), [x])


@pytest.mark.parametrize("chunks,dim", [(1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (6, 0), (3, 1), (2, -1)])
def test_chunk_matches_torch_including_uneven_chunks(chunks, dim):
    torch = torch_or_skip()
    x = randn(5, 4)
    got, want = lm.chunk(lm.tensor(x), chunks, dim), torch.chunk(torch.tensor(x), chunks, dim)
    assert [tuple(g.shape) for g in got] == [tuple(w.shape) for w in want]
    check_against_torch(lambda m, t: tuple(t.chunk(chunks, dim)), [x])


def test_chunk_of_six_into_four_gives_three_chunks():
    assert [tuple(c.shape) for c in lm.ones(6).chunk(4)] == [(2,), (2,), (2,)]


def test_split_and_chunk_of_an_empty_dim_match_torch():
    torch = torch_or_skip()
    for fn in (lambda m, t: m.split(t, 2), lambda m, t: m.chunk(t, 2), lambda m, t: m.split(t, [0, 0])):
        got, want = fn(lm, lm.zeros(0)), fn(torch, torch.zeros(0))
        assert [tuple(g.shape) for g in got] == [tuple(w.shape) for w in want]


def test_split_pieces_are_views_and_gradients_flow_to_the_used_pieces():
    x = lm.tensor(randn(6, 2), requires_grad=True)
    a, b, c = x.split(2)
    (a.sum() + c.mul(lm.tensor(3.0)).sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.array([1, 1, 0, 0, 3, 3])[:, None] * np.ones((1, 2)))
    base = lm.zeros(4)
    with lm.no_grad():
        base.split(2)[1].fill_(5.0)
    assert base.tolist() == [0.0, 0.0, 5.0, 5.0]
    gradcheck(lambda t: lm.cat(t.split([1, 2], 1)[::-1], 1), [randn(2, 3, dtype=np.float64)])


def test_split_and_chunk_bad_input():
    with pytest.raises(ValueError, match=r"\[split\].*sum"):
        lm.zeros(5).split([2, 2])
    with pytest.raises(ValueError, match=r"\[split\].*non-negative"):
        lm.zeros(5).split([6, -1])
    with pytest.raises(ValueError, match=r"\[split\].*positive"):
        lm.zeros(5).split(0)
    with pytest.raises(IndexError, match=r"\[split\].*dim"):
        lm.zeros(5).split(2, 1)
    with pytest.raises(ValueError, match=r"\[chunk\].*positive"):
        lm.zeros(5).chunk(0)
    with pytest.raises(IndexError, match=r"\[chunk\].*dim"):
        lm.zeros(5).chunk(2, -2)


# ---------------------------------------------------------------- index_select
@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_index_select_matches_torch(dim):
    idx = index([2, 0, 1, 1])
    check_against_torch(lambda m, x, i: m.index_select(x, dim, i), [randn(3, 3, 3), idx])
    check_against_torch(lambda m, x, i: x.transpose(0, 2).index_select(dim, i), [randn(3, 3, 3), idx])


def test_index_select_repeated_indices_accumulate_gradients():
    x = lm.tensor(np.arange(4.0), requires_grad=True)
    x.index_select(0, lm.tensor([1, 1, 3, 1])).sum().backward()
    assert x.grad.tolist() == [0.0, 3.0, 0.0, 1.0]
    check_against_torch(lambda m, t, i: m.index_select(t, 1, i), [randn(2, 4, 3), index([3, 3, 0, 3, 3])])
    gradcheck(lambda t, i: lm.index_select(t, 0, i), [randn(3, 2, dtype=np.float64), index([0, 2, 2, 0, 0])])


def test_index_select_of_integers_bools_zero_dim_and_empty_index():
    torch = torch_or_skip()
    for arr in (index([[5, 6, 7], [8, 9, 10]]), np.array([[True, False, True], [False, False, True]])):
        assert_same(lm.index_select(lm.tensor(arr), 1, lm.tensor([2, 0])), torch.index_select(torch.tensor(arr), 1, torch.tensor([2, 0])))
    check_against_torch(lambda m, x, i: m.index_select(x, 0, i), [np.array(2.5, dtype=np.float32), index([0])])
    check_against_torch(lambda m, x, i: m.index_select(x, 0, i), [np.array(2.5, dtype=np.float32), index(0)])
    check_against_torch(lambda m, x, i: m.index_select(x, 1, i), [randn(3, 4), index(2)])
    check_against_torch(lambda m, x, i: m.index_select(x, 1, i), [randn(3, 4), index([])])


def test_index_select_bad_input():
    x = lm.zeros(3, 4)
    with pytest.raises(IndexError, match=r"\[index_select\] index 4 is out of bounds"):
        x.index_select(1, lm.tensor([0, 4]))
    with pytest.raises(IndexError, match=r"\[index_select\] index -1 is out of bounds"):
        x.index_select(0, lm.tensor([-1]))
    with pytest.raises(IndexError, match=r"\[index_select\].*dim"):
        x.index_select(2, lm.tensor([0]))
    with pytest.raises(TypeError, match=r"\[index_select\].*int64.*float32"):
        x.index_select(0, lm.tensor([0.0]))
    with pytest.raises(ValueError, match=r"\[index_select\].*1-d"):
        x.index_select(0, lm.tensor([[0]]))
    with pytest.raises(TypeError):
        x.index_select(0, [0, 1])
    with pytest.raises(ValueError, match=r"\[index_select\].*0-d input.*one value"):
        lm.tensor(1.0).index_select(0, lm.tensor([0, 0]))


# ---------------------------------------------------------------- gather
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather_matches_torch(dim):
    rng = np.random.default_rng(1)
    x = randn(4, 5)
    size = x.shape[dim]
    idx = rng.integers(0, size, (4, 5)).astype(np.int64)
    check_against_torch(lambda m, t, i: m.gather(t, dim, i), [x, idx])
    # an index smaller than the input in the other dims
    small = rng.integers(0, size, (2, 3)).astype(np.int64)
    check_against_torch(lambda m, t, i: t.gather(dim, i), [x, small])
    check_against_torch(lambda m, t, i: m.gather(t.t().t(), dim, i), [x, small])


def test_gather_of_transposed_input_3d_and_repeated_indices():
    rng = np.random.default_rng(2)
    idx = rng.integers(0, 3, (2, 4, 2)).astype(np.int64)
    check_against_torch(lambda m, t, i: m.gather(t.transpose(0, 2), 2, i), [randn(3, 4, 2), idx])
    check_against_torch(lambda m, t, i: m.gather(t, 1, i), [randn(2, 3), index([[0, 0, 0, 2], [1, 1, 1, 1]])])
    gradcheck(lambda t, i: lm.gather(t, 0, i), [randn(3, 2, dtype=np.float64), index([[0, 0], [2, 0], [2, 2]])])
    gradcheck(lambda t, i: lm.gather(t, -1, i), [randn(3, 4, dtype=np.float64), index([[3, 3, 0], [1, 0, 1]])])


def test_gather_index_may_be_longer_than_the_input_along_dim():
    check_against_torch(lambda m, t, i: m.gather(t, 0, i), [randn(2, 3), index([[0, 1, 1], [1, 0, 0], [1, 1, 1], [0, 0, 1]])])
    check_against_torch(lambda m, t, i: m.gather(t, 1, i), [randn(2, 3), np.zeros((2, 0), dtype=np.int64)])


def test_large_inputs_match_torch():
    # sizes that split into many parallel chunks, with odd inner lengths
    check_against_torch(lambda m, t, i: m.index_select(t, 1, i), [randn(16, 129, 67), np.arange(129)[::-3].copy()])
    check_against_torch(lambda m, t, i: m.gather(t, 2, i), [randn(16, 9, 67), np.random.default_rng(3).integers(0, 67, (16, 9, 70))])
    check_against_torch(lambda m, a, b: m.cat([a, b], 1), [randn(64, 129, 7), randn(64, 3, 7)])


def test_gather_with_a_non_contiguous_index():
    idx = index([[0, 1, 2], [2, 2, 0], [1, 0, 0]])
    check_against_torch(lambda m, t, i: m.gather(t, 1, i.t()), [randn(3, 3), idx])


def test_gather_of_zero_dim_and_integers():
    torch = torch_or_skip()
    check_against_torch(lambda m, t, i: m.gather(t, 0, i), [np.array(1.5, dtype=np.float32), index(0)])
    arr, idx = index([[1, 2], [3, 4]]), index([[1, 1], [0, 1]])
    assert_same(lm.gather(lm.tensor(arr), 1, lm.tensor(idx)), torch.gather(torch.tensor(arr), 1, torch.tensor(idx)))


def test_gather_bad_input():
    x = lm.zeros(3, 4)
    with pytest.raises(IndexError, match=r"\[gather\] index 4 is out of bounds"):
        x.gather(1, lm.tensor([[0, 4]]))
    with pytest.raises(IndexError, match=r"\[gather\] index -1 is out of bounds"):
        x.gather(0, lm.tensor([[-1]]))
    with pytest.raises(IndexError, match=r"\[gather\].*dim"):
        x.gather(2, lm.tensor([[0]]))
    with pytest.raises(ValueError, match=r"\[gather\].*as many dims"):
        x.gather(1, lm.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"\[gather\].*larger than input"):
        x.gather(1, lm.zeros(4, 1, dtype=lm.int64))
    with pytest.raises(TypeError, match=r"\[gather\].*int64"):
        x.gather(1, lm.zeros(3, 1))


# ---------------------------------------------------------------- masked_select and nonzero
def test_masked_select_matches_torch():
    x = randn(3, 4)
    mask = x > 0.2
    check_against_torch(lambda m, t, k: m.masked_select(t, k), [x, mask])
    check_against_torch(lambda m, t, k: t.masked_select(k), [x, mask[0]])           # mask broadcast over rows
    check_against_torch(lambda m, t, k: m.masked_select(t, k), [x[:1], mask])       # input broadcast
    check_against_torch(lambda m, t, k: m.masked_select(t.t(), k), [x, mask.T])
    check_against_torch(lambda m, t, k: m.masked_select(t, k), [x, np.zeros((3, 4), dtype=bool)])
    gradcheck(lambda t, k: lm.masked_select(t, k), [randn(3, 4, dtype=np.float64), mask])


def test_masked_select_broadcasts_a_shorter_mask_from_the_right():
    x = randn(4, 4)
    mask = np.array([True, False, True, True])
    out = check_against_torch(lambda m, t, k: m.masked_select(t, k), [x, mask])  # a column mask, not a row mask
    assert tuple(out.shape) == (12,)
    with pytest.raises(ValueError, match=r"\[masked_select\]"):
        lm.masked_select(lm.zeros(3, 4), lm.tensor([True, False, True]))


def test_masked_select_gradient_of_a_broadcast_input_accumulates():
    x = randn(1, 4)
    mask = np.array([[True, False, True, True], [True, True, False, True]])
    check_against_torch(lambda m, t, k: m.masked_select(t, k), [x, mask])


def test_masked_select_bad_input():
    with pytest.raises(TypeError, match=r"\[masked_select\].*bool"):
        lm.zeros(3).masked_select(lm.tensor([1, 0, 1]))
    with pytest.raises(ValueError, match=r"\[masked_select\]"):
        lm.zeros(3).masked_select(lm.tensor([True, False]))


def test_nonzero_matches_torch():
    torch = torch_or_skip()
    cases = [np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]], dtype=np.float32), index([0, 3, 0, 0, 7]),
             np.array([[[True, False], [False, True]], [[True, True], [False, False]]]), np.zeros((2, 3), dtype=np.float32),
             np.array(3.0, dtype=np.float32), np.array(0.0, dtype=np.float32), np.zeros((0, 2), dtype=np.float32)]
    for arr in cases:
        assert_same(lm.nonzero(lm.tensor(arr)), torch.nonzero(torch.tensor(arr)))
    t = lm.tensor([[0.0, 1.0], [1.0, 0.0]])
    assert_same(t.t().nonzero(), torch.tensor([[0.0, 1.0], [1.0, 0.0]]).t().nonzero())
    assert_same(lm.tensor([0.0, np.nan, -0.0]).nonzero(), torch.tensor([0.0, np.nan, -0.0]).nonzero())
