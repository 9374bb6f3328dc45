"""DataLoader: iterates over a map-style dataset in batches, in order or shuffled (a new
permutation from lamina's generator each epoch), collated by default_collate into tensors.
Loading runs in the calling process."""
import collections.abc
import copy

import numpy as np

from lamina import _C
from lamina._creation import tensor
from lamina.data.dataset import TensorDataset, _randperm

__all__ = ["DataLoader", "default_collate"]

_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def default_collate(batch):
    """Merges a list of samples into a batch, recursively, as PyTorch does:
    tensors -> stacked along a new dim 0; NumPy arrays -> stacked into a tensor; NumPy scalars
    -> a 1-d tensor; Python floats -> float64 tensor, ints -> int64 tensor, bools -> bool tensor;
    str/bytes -> the list; dicts -> a dict of collated values per key; namedtuples -> the same
    namedtuple of collated fields; tuples and lists -> a list of collated fields (transposed)."""
    elem = batch[0]
    if isinstance(elem, _C.Tensor):
        return _C.stack(list(batch), 0)
    if isinstance(elem, (np.ndarray, np.generic)):
        if elem.dtype.kind in "OSUV":
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return tensor(np.stack(batch) if isinstance(elem, np.ndarray) else np.array(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=_C.dtype.float64)
    if isinstance(elem, int):  # bools included: they collate to a bool tensor
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(collated)
            return clone
        return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(samples)) for samples in zip(*batch)]
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


class DataLoader:
    """Batches of dataset: ``for x, y in DataLoader(ds, batch_size=64, shuffle=True): ...``.

    batch_size: samples per batch; shuffle: a new random order each epoch (from lamina's
    generator, or from ``generator``, any object with get_state()/set_state() over lamina's RNG
    state); sampler: an iterable of indices instead of shuffle; batch_sampler: an iterable of
    index lists instead of batch_size/shuffle/sampler/drop_last; drop_last: drop a final
    incomplete batch; collate_fn: merges a list of samples (default_collate).
    num_workers and pin_memory are accepted for PyTorch compatibility; loading always runs in
    the calling process.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, *, generator=None):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
        elif isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        self.dataset = dataset
        self.batch_size = None if batch_sampler is not None else batch_size
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.drop_last = drop_last
        self.collate_fn = default_collate if collate_fn is None else collate_fn
        self.generator = generator

    def _indices(self):
        if self.sampler is not None:
            return self.sampler
        if self.shuffle:
            return _randperm(len(self.dataset), self.generator)
        return range(len(self.dataset))

    def _batches(self):
        if self.batch_sampler is not None:
            yield from self.batch_sampler
            return
        batch = []
        for idx in self._indices():
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __iter__(self):
        # a TensorDataset with default collation is batched by one index op per tensor; the
        # result equals stacking the samples
        fast = type(self.dataset) is TensorDataset and self.collate_fn is default_collate
        for indices in self._batches():
            if fast:
                index = tensor(list(indices), dtype=_C.dtype.int64)
                yield [t[index] for t in self.dataset.tensors]
            else:
                yield self.collate_fn([self.dataset[i] for i in indices])

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
