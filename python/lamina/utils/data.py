"""lamina.utils.data: the same objects as lamina.data, for PyTorch-style imports."""
from lamina.data import *  # noqa: F401,F403
from lamina.data import __all__  # noqa: F401
