"""Variable-length sequences for the recurrent layers: PackedSequence and the functions that make
and undo it (PyTorch's torch.nn.utils.rnn).

A packed sequence stores a batch of sequences of lengths L_0 >= L_1 >= ... time step by time
step: ``data`` (sum(lengths), *) holds step 0 of every sequence, then step 1 of every sequence
still running, and so on; ``batch_sizes[t]`` (int64, CPU) is the number of sequences longer than
t. ``sorted_indices[k]`` is the original batch index of the k-th longest sequence (None when the
batch came sorted) and ``unsorted_indices`` its inverse. RNN, LSTM and GRU take and return it.

Packing and padding are index_select gathers of rows (the index maps are built in NumPy from the
lengths), so gradients flow through them to the padded input.
"""
from collections import namedtuple

import numpy as np

from lamina import _C
from lamina._creation import full, tensor

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


def _as_index(values):
    """A 1-d int64 lamina tensor from a list, tuple, NumPy array or int64 tensor."""
    return tensor(np.asarray(values, dtype=np.int64).reshape(-1))


def _to_numpy_int(values, op, name):
    """values (a list, tuple, NumPy array or lamina tensor of integers) as a 1-d int64 array."""
    if isinstance(values, _C.Tensor):
        if values.is_floating_point():
            raise TypeError(f"[{op}] {name} must hold integers, got {values.dtype}")
        values = values.numpy()
    array = np.asarray(values)
    if array.dtype.kind not in "iu" and not (array.size == 0 and array.dtype.kind == "f"):
        raise TypeError(f"[{op}] {name} must hold integers, got {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"[{op}] {name} must be 1-d, got shape {tuple(array.shape)}")
    return array.astype(np.int64)


def invert_permutation(permutation):
    """The inverse of a permutation (int64 tensor): out[permutation[i]] = i; None for None."""
    if permutation is None:
        return None
    p = _to_numpy_int(permutation, "invert_permutation", "permutation")
    inverse = np.empty_like(p)
    inverse[p] = np.arange(p.size, dtype=np.int64)
    return _as_index(inverse)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A batch of variable-length sequences, packed step by step (see the module docstring).

    Fields: data (sum(lengths), *), batch_sizes (max_len,) int64, sorted_indices and
    unsorted_indices (batch,) int64 or None. Build it with pack_padded_sequence or pack_sequence;
    unsorted_indices defaults to the inverse of sorted_indices.
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:
            raise TypeError("[PackedSequence] batch_sizes is required")
        if isinstance(batch_sizes, _C.Tensor):
            if batch_sizes.dtype != _C.dtype.int64 or batch_sizes.dim() != 1:
                raise TypeError(f"[PackedSequence] batch_sizes must be a 1-d int64 tensor, got {batch_sizes.dtype} "
                                f"of shape {tuple(batch_sizes.shape)}")
        else:
            batch_sizes = _as_index(batch_sizes)
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same sequence with data converted by Tensor.to (batch_sizes and indices kept)."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes, self.sorted_indices,
                                                          self.unsorted_indices)

    def cpu(self):
        return self.to("cpu")

    def double(self):
        return self.to(_C.dtype.float64)

    def float(self):
        return self.to(_C.dtype.float32)

    @property
    def is_cuda(self):
        return self.data.device.type == "cuda"


def _lengths_checked(lengths, batch, max_steps, op):
    """lengths as a 1-d int64 array of `batch` values in [1, max_steps]."""
    lengths = _to_numpy_int(lengths, op, "lengths")
    if lengths.size != batch:
        raise ValueError(f"[{op}] Expected `len(lengths)` to be equal to batch_size, but got {lengths.size} "
                         f"(batch_size={batch})")
    if lengths.size and lengths.min() <= 0:
        raise ValueError(f"[{op}] Length of all samples has to be greater than 0, but found an element in 'lengths' "
                         f"that is <= 0: {lengths.tolist()}")
    if lengths.size and lengths.max() > max_steps:
        raise ValueError(f"[{op}] lengths must not exceed the sequence length {max_steps}, got {lengths.tolist()}")
    return lengths


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch: input (T, B, *) (or (B, T, *) with batch_first) holding sequences of
    the given lengths (a list or 1-d int64 tensor, each in [1, T]) -> PackedSequence.

    With enforce_sorted=True the lengths must be nonincreasing; with False the batch is sorted
    by decreasing length (stable) and the permutation kept in sorted_indices.
    """
    op = "pack_padded_sequence"
    if not isinstance(input, _C.Tensor):
        raise TypeError(f"[{op}] input must be a lamina.Tensor, got {type(input).__name__}")
    if input.dim() < 2:
        raise ValueError(f"[{op}] input must be at least 2-d (T, B, *), got shape {tuple(input.shape)}")
    T, B = (input.size(1), input.size(0)) if batch_first else (input.size(0), input.size(1))
    lengths = _lengths_checked(lengths, B, T, op)
    if enforce_sorted:
        if np.any(lengths[1:] > lengths[:-1]):
            raise ValueError(f"[{op}] `lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                             f"True, got {lengths.tolist()}. You can pass `enforce_sorted=False` to "
                             "pack_padded_sequence and/or pack_sequence to sidestep this requirement.")
        order, sorted_indices = np.arange(B, dtype=np.int64), None
    else:
        order = np.argsort(-lengths, kind="stable").astype(np.int64)
        sorted_indices = _as_index(order)
    sorted_lengths = lengths[order]
    steps = int(sorted_lengths[0])
    batch_sizes = (sorted_lengths[None, :] > np.arange(steps)[:, None]).sum(axis=1)
    # Row of the flattened input (B*T or T*B rows) of each packed row, step by step.
    rows = []
    for t in range(steps):
        columns = order[: batch_sizes[t]]
        rows.append(columns * T + t if batch_first else t * B + columns)
    index = np.concatenate(rows)
    flat = input.reshape(T * B, *input.shape[2:])
    data = flat.index_select(0, _as_index(index))
    return PackedSequence(data, _as_index(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undoes pack_padded_sequence: returns (padded, lengths), padded (T, B, *) (or (B, T, *))
    with padding_value after each sequence's end, in the original batch order, and lengths
    (B,) int64. T is the longest length, or total_length (which must be at least that)."""
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"[{op}] sequence must be a PackedSequence, got {type(sequence).__name__}")
    data = sequence.data
    batch_sizes = _to_numpy_int(sequence.batch_sizes, op, "batch_sizes")
    steps, B = batch_sizes.size, int(batch_sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"[{op}] Expected total_length to be at least the length of the longest sequence in "
                             f"input, but got total_length={total_length} and max sequence length being {steps}")
        steps_out = int(total_length)
    else:
        steps_out = steps
    sorted_lengths = (batch_sizes[None, :] > np.arange(B)[:, None]).sum(axis=1)
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)])
    position = (np.arange(B, dtype=np.int64) if sequence.unsorted_indices is None
                else _to_numpy_int(sequence.unsorted_indices, op, "unsorted_indices"))  # sorted slot of batch b
    t = np.arange(steps_out)[:, None]
    pad_row = int(offsets[-1])
    t_clipped = np.minimum(t, steps - 1)
    index = np.where(t < sorted_lengths[position][None, :], offsets[t_clipped] + position[None, :], pad_row)  # (T, B)
    if batch_first:
        index = index.T
    rest = tuple(data.shape[1:])
    source = _C.cat([data, full((1, *rest), padding_value, dtype=data.dtype)], 0)
    padded = source.index_select(0, _as_index(index)).reshape(*index.shape, *rest)
    return padded, _as_index(sorted_lengths[position])


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks sequences (L_i, *) into (max L_i, B, *) (or (B, max L_i, *)), filling with
    padding_value after (padding_side='right') or before ('left') each sequence."""
    op = "pad_sequence"
    if isinstance(sequences, _C.Tensor):
        sequences = [sequences[i] for i in range(sequences.size(0))]
    sequences = list(sequences)
    if not sequences:
        raise ValueError(f"[{op}] received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise ValueError(f"[{op}] padding_side must be 'left' or 'right', got '{padding_side}'")
    rest = tuple(sequences[0].shape[1:])
    for i, s in enumerate(sequences):
        if not isinstance(s, _C.Tensor) or s.dim() < 1:
            raise TypeError(f"[{op}] sequences must be tensors of shape (L, *), got {type(s).__name__} at {i}")
        if tuple(s.shape[1:]) != rest:
            raise ValueError(f"[{op}] all sequences must share their trailing shape {rest}, got "
                             f"{tuple(s.shape[1:])} at index {i}")
    lengths = np.array([s.size(0) for s in sequences], dtype=np.int64)
    B, steps = len(sequences), int(lengths.max())
    starts = np.concatenate([[0], np.cumsum(lengths)])
    pad_row = int(starts[-1])
    t = np.arange(steps)[:, None]
    local = t - (steps - lengths)[None, :] if padding_side == "left" else np.broadcast_to(t, (steps, B))
    inside = (local >= 0) & (local < lengths[None, :])
    index = np.where(inside, starts[:-1][None, :] + local, pad_row)  # (T, B)
    if batch_first:
        index = index.T
    dtype = sequences[0].dtype
    source = _C.cat([*sequences, full((1, *rest), padding_value, dtype=dtype)], 0)
    return source.index_select(0, _as_index(index)).reshape(*index.shape, *rest)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences (L_i, *) of a padded batch (T, B, *) (or (B, T, *))."""
    lengths = _to_numpy_int(lengths, "unpad_sequence", "lengths")
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[b][: int(n)] for b, n in enumerate(lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of sequences (L_i, *): pack_padded_sequence(pad_sequence(sequences), lengths)."""
    lengths = [s.size(0) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences (L_i, *) of a PackedSequence, in the original batch order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
