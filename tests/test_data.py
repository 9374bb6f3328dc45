"""lamina.data: datasets (TensorDataset, Subset, ConcatDataset, random_split) and DataLoader
(batching, drop_last, shuffling reproducible under manual_seed and with a generator, samplers),
default_collate of tensors, arrays, numbers, tuples, dicts and namedtuples (compared with
torch's default_collate), and the lamina.utils.data import path."""
import collections

import numpy as np
import pytest

import lamina as lm
from lamina.data import ConcatDataset, DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split


def values(t):
    return t.numpy().tolist()


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {"x": np.array([i, i * i], dtype=np.float32), "y": i % 3, "name": f"s{i}"}

    def __len__(self):
        return self.n


class LamGenerator:
    """A torch-style generator over lamina's RNG state (get_state/set_state)."""

    def __init__(self, seed):
        saved = lm.get_rng_state()
        lm.manual_seed(seed)
        self.state = lm.get_rng_state()
        lm.set_rng_state(saved)

    def get_state(self):
        return self.state

    def set_state(self, state):
        self.state = state


def test_tensor_dataset_indexes_rows_and_checks_sizes():
    x, y = lm.arange(12.0).reshape(6, 2), lm.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    xi, yi = ds[4]
    assert values(xi) == [8.0, 9.0] and yi.item() == 4
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(x, lm.arange(5))
    with pytest.raises(TypeError, match="lamina tensors"):
        TensorDataset(np.zeros(3))


def test_dataloader_batches_in_order_with_and_without_drop_last():
    x, y = lm.arange(20.0).reshape(10, 2), lm.arange(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    assert [values(b[1]) for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert values(batches[2][0]) == [[16.0, 17.0], [18.0, 19.0]]
    assert isinstance(batches[0], list) and batches[0][0].dtype == lm.float32 and batches[0][1].dtype == lm.int64
    dropped = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(dropped) == 2 and [values(b[1]) for b in dropped] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert len(DataLoader(TensorDataset(x, y))) == 10


def test_shuffle_is_a_permutation_reproducible_under_manual_seed_and_new_each_epoch():
    ds = TensorDataset(lm.arange(50))
    loader = DataLoader(ds, batch_size=8, shuffle=True)
    lm.manual_seed(7)
    epoch1 = [v for (b,) in loader for v in values(b)]
    epoch2 = [v for (b,) in loader for v in values(b)]
    lm.manual_seed(7)
    again = [v for (b,) in loader for v in values(b)]
    assert sorted(epoch1) == list(range(50)) and epoch1 != list(range(50))
    assert epoch1 == again and epoch1 != epoch2


def test_generator_drives_shuffle_without_touching_the_global_state():
    ds = TensorDataset(lm.arange(30))
    order = lambda seed: [v for (b,) in DataLoader(ds, batch_size=30, shuffle=True,  # noqa: E731
                                                   generator=LamGenerator(seed)) for v in values(b)]
    lm.manual_seed(1)
    before = lm.get_rng_state()
    first = order(5)
    assert lm.get_rng_state() == before
    assert first == order(5) and first != order(6)
    gen = LamGenerator(5)
    loader = DataLoader(ds, batch_size=30, shuffle=True, generator=gen)
    assert [values(b) for (b,) in loader] != [values(b) for (b,) in loader]  # the generator advances


def test_general_dataset_collates_dicts_arrays_ints_and_strings():
    batches = list(DataLoader(Squares(5), batch_size=2))
    assert len(batches) == 3
    first = batches[0]
    assert set(first) == {"x", "y", "name"}
    assert values(first["x"]) == [[0.0, 0.0], [1.0, 1.0]] and first["x"].dtype == lm.float32
    assert values(first["y"]) == [0, 1] and first["y"].dtype == lm.int64
    assert first["name"] == ["s0", "s1"]
    assert values(batches[2]["x"]) == [[4.0, 16.0]]


def test_default_collate_matches_torch():
    torch = pytest.importorskip("torch", reason="PyTorch (test extra) is not installed")
    from torch.utils.data import default_collate as torch_collate
    Point = collections.namedtuple("Point", "a b")
    batch_np = [((np.float32(i), np.arange(3, dtype=np.int64) * i), {"f": 0.5 * i, "i": i, "b": i % 2 == 0},
                 Point(i, [i, -i])) for i in range(4)]
    lam = default_collate(batch_np)
    ref = torch_collate(batch_np)

    def compare(a, b):
        if isinstance(b, torch.Tensor):
            assert isinstance(a, lm.Tensor)
            assert str(a.dtype).replace("lamina", "torch") == str(b.dtype)
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        elif isinstance(b, dict):
            assert type(a) is type(b) and list(a) == list(b)
            for k in b:
                compare(a[k], b[k])
        else:
            assert type(a) is type(b) and len(a) == len(b)
            for x, y in zip(a, b):
                compare(x, y)

    compare(lam, ref)
    stacked = default_collate([lm.ones(2, 3), lm.zeros(2, 3)])
    assert tuple(stacked.shape) == (2, 2, 3)
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([(1, 2), (3,)])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])


def test_custom_collate_fn_sampler_and_batch_sampler():
    ds = TensorDataset(lm.arange(10))
    loader = DataLoader(ds, batch_size=3, collate_fn=lambda samples: [int(s[0].item()) for s in samples])
    assert list(loader) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    loader = DataLoader(ds, batch_size=2, sampler=[9, 0, 5])
    assert [values(b) for (b,) in loader] == [[9, 0], [5]] and len(loader) == 2
    loader = DataLoader(ds, batch_sampler=[[1, 2, 3], [7]])
    assert [values(b) for (b,) in loader] == [[1, 2, 3], [7]] and len(loader) == 2


def test_dataloader_bad_arguments():
    ds = TensorDataset(lm.arange(4))
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)


def test_subset_concat_and_random_split():
    ds = TensorDataset(lm.arange(10))
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and sub[1][0].item() == 2
    cat = ConcatDataset([Subset(ds, [0, 1]), Subset(ds, [8, 9, 3])])
    assert len(cat) == 5 and [cat[i][0].item() for i in range(5)] == [0, 1, 8, 9, 3] and cat[-1][0].item() == 3
    assert len(ds + ds) == 20
    with pytest.raises(ValueError, match="should not be an empty"):
        ConcatDataset([])
    lm.manual_seed(3)
    a, b = random_split(ds, [7, 3])
    lm.manual_seed(3)
    a2, b2 = random_split(ds, [7, 3])
    assert sorted(a.indices + b.indices) == list(range(10)) and a.indices == a2.indices and len(b) == 3
    parts = random_split(Squares(11), [0.5, 0.3, 0.2], generator=LamGenerator(0))
    assert [len(p) for p in parts] == [6, 3, 2]  # torch's round-robin remainder
    with pytest.raises(ValueError, match="Sum of input lengths"):
        random_split(ds, [5, 4])


def test_utils_data_import_path():
    from lamina.utils.data import DataLoader as DL, TensorDataset as TD
    import lamina.utils.data as data
    assert DL is DataLoader and TD is TensorDataset and data.random_split is random_split
