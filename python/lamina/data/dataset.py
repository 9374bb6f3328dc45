"""Map-style datasets (an object with __getitem__ and __len__) and the ways to combine them:
TensorDataset (rows of tensors), Subset, ConcatDataset, random_split. Random choices draw from
lamina's generator, so lamina.manual_seed makes them reproducible."""
import bisect
import itertools
import math
import warnings

import numpy as np

from lamina import _C
from lamina._creation import rand

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]


def _randperm(n, generator=None):
    """A random permutation of range(n) as a list of ints: the argsort of n uniform samples
    from lamina's generator. A generator (any object with get_state()/set_state(), such as a
    torch-style Generator over lamina's RNG state) is used instead of the global state and
    advanced, leaving the global state untouched."""
    if generator is None:
        return np.argsort(rand(n, dtype=_C.dtype.float64).numpy(), kind="stable").tolist()
    saved = _C.get_rng_state()
    _C.set_rng_state(generator.get_state())
    try:
        perm = np.argsort(rand(n, dtype=_C.dtype.float64).numpy(), kind="stable").tolist()
        generator.set_state(_C.get_rng_state())
    finally:
        _C.set_rng_state(saved)
    return perm


class Dataset:
    """A map-style dataset: subclasses define __getitem__(index) and __len__()."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are rows: dataset[i] = (t[i] for each tensor); all tensors share size(0)."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("[TensorDataset] needs at least one tensor")
        for t in tensors:
            if not isinstance(t, _C.Tensor):
                raise TypeError(f"[TensorDataset] expected lamina tensors, got {type(t).__name__}")
            if t.dim() == 0 or t.shape[0] != tensors[0].shape[0]:
                raise ValueError("Size mismatch between tensors: every tensor needs the same size(0), got "
                                 + ", ".join(str(tuple(t.shape)) for t in tensors))
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of dataset at the given indices, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        if idx >= len(self):
            raise IndexError(f"index {idx} is out of range for a dataset of length {len(self)}")
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx if dataset_idx == 0 else idx - self.cumulative_sizes[dataset_idx - 1]
        return self.datasets[dataset_idx][sample_idx]


def random_split(dataset, lengths, generator=None):
    """Splits dataset into non-overlapping random Subsets of the given lengths, or of the given
    fractions of len(dataset) (summing to 1; the remainder goes round-robin to the first
    subsets, as in PyTorch)."""
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        subset_lengths = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            subset_lengths.append(int(math.floor(len(dataset) * frac)))
        for i in range((len(dataset) - sum(subset_lengths))):
            subset_lengths[i % len(subset_lengths)] += 1
        for i, length in enumerate(subset_lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
        lengths = subset_lengths
    if sum(lengths) != len(dataset):
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    indices = _randperm(sum(lengths), generator)
    return [Subset(dataset, indices[offset - length:offset])
            for offset, length in zip(itertools.accumulate(lengths), lengths)]
