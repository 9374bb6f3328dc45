"""lamina.utils: PyTorch-style import paths (``from lamina.utils.data import DataLoader``)."""
from lamina.utils import data  # noqa: F401
