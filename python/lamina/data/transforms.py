"""Sample transforms with torchvision's names: ToTensor (uint8 images -> float32 in [0, 1],
channels first), Normalize (per-channel (x - mean) / std), Compose, Lambda. Each is a callable
taking one sample; they also work on a whole batch where the layout allows it (Normalize on
(N, C, H, W))."""
import numpy as np

from lamina import _C
from lamina._creation import tensor

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda"]


class Compose:
    """Applies the transforms one after the other: Compose([ToTensor(), Normalize(...)])."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for transform in self.transforms:
            x = transform(x)
        return x

    def __repr__(self):
        return "Compose(\n" + "".join(f"    {t!r},\n" for t in self.transforms) + ")"


class ToTensor:
    """A NumPy image (or a tensor) to a float32 tensor, channels first: (H, W) -> (1, H, W) and
    (H, W, C) -> (C, H, W) (torchvision's layout rule); uint8 values are divided by 255 (to
    [0, 1]), other dtypes keep their values."""

    def __call__(self, pic):
        arr = pic.numpy() if isinstance(pic, _C.Tensor) else np.asarray(pic)
        if arr.ndim == 2:
            arr = arr[None]
        elif arr.ndim == 3:
            arr = arr.transpose(2, 0, 1)
        else:
            raise ValueError(f"[ToTensor] expected an (H, W) or (H, W, C) image, got shape {arr.shape}")
        scaled = arr.astype(np.float32) / 255.0 if arr.dtype == np.uint8 else arr.astype(np.float32)
        return _C.from_numpy(np.ascontiguousarray(scaled, dtype=np.float32))

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """out[c] = (x[c] - mean[c]) / std[c] over the channel dim of a (C, H, W) tensor or an
    (N, C, H, W) batch (dim -3); one number for mean and std applies to every channel."""

    def __init__(self, mean, std):
        self.mean = [float(m) for m in np.atleast_1d(mean)]
        self.std = [float(s) for s in np.atleast_1d(std)]
        if len(self.mean) != len(self.std):
            raise ValueError(f"[Normalize] mean has {len(self.mean)} values but std has {len(self.std)}")
        if any(s == 0 for s in self.std):
            raise ValueError(f"[Normalize] std evaluated to zero, leading to division by zero: {self.std}")

    def __call__(self, x):
        if not isinstance(x, _C.Tensor):
            raise TypeError(f"[Normalize] expected a lamina tensor (apply ToTensor first), got {type(x).__name__}")
        if x.dim() < 3:
            raise ValueError(f"[Normalize] expected (C, H, W) or (N, C, H, W), got shape {tuple(x.shape)}")
        channels = x.shape[-3]
        if len(self.mean) not in (1, channels):
            raise ValueError(f"[Normalize] {len(self.mean)} means for {channels} channels")
        mean = tensor(self.mean, dtype=x.dtype).reshape(-1, 1, 1)
        std = tensor(self.std, dtype=x.dtype).reshape(-1, 1, 1)
        return (x - mean) / std

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class Lambda:
    """A function as a transform."""

    def __init__(self, fn):
        if not callable(fn):
            raise TypeError(f"[Lambda] expected a callable, got {type(fn).__name__}")
        self.fn = fn

    def __call__(self, x):
        return self.fn(x)

    def __repr__(self):
        return f"Lambda({self.fn!r})"
