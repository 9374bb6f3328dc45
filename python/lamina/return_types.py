"""Named results of ops that return several tensors, as in ``torch.return_types``."""
import collections

max = collections.namedtuple("max", ["values", "indices"])  # noqa: A001
min = collections.namedtuple("min", ["values", "indices"])  # noqa: A001
