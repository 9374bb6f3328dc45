"""lamina.nn: modules (layers, activations, losses, containers), Parameter, init, functional
and utils, with PyTorch's names, arguments, parameter names and state_dict keys."""
from lamina.nn.module import Module  # noqa: F401
from lamina.nn.parameter import Parameter  # noqa: F401
from lamina.nn.containers import Sequential, ModuleList, ModuleDict  # noqa: F401
from lamina.nn.flatten import Identity, Flatten, Unflatten  # noqa: F401
from lamina.nn.layers import (  # noqa: F401
    Linear, Dropout, BatchNorm1d, LayerNorm, GroupNorm, Embedding,
    ReLU, LeakyReLU, PReLU, ELU, SELU, GELU, SiLU, Mish, Sigmoid, Tanh, Hardtanh, Softplus, Softmax, LogSoftmax,
)
from lamina.nn.loss import (  # noqa: F401
    L1Loss, MSELoss, SmoothL1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, KLDivLoss,
)
from lamina.nn import functional, init, utils  # noqa: F401
