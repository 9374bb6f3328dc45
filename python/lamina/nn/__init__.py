"""lamina.nn: modules (layers, activations, losses, containers), Parameter, init, functional
and utils, with PyTorch's names, arguments, parameter names and state_dict keys."""
from lamina.nn.module import Module  # noqa: F401
from lamina.nn.parameter import Parameter  # noqa: F401
from lamina.nn.containers import Sequential, ModuleList, ModuleDict  # noqa: F401
from lamina.nn.flatten import Identity, Flatten, Unflatten  # noqa: F401
from lamina.nn.layers import (  # noqa: F401
    Linear, Dropout, Dropout2d, BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm, Embedding,
    ReLU, LeakyReLU, PReLU, ELU, SELU, GELU, SiLU, Mish, Sigmoid, Tanh, Hardtanh, Softplus, Softmax, LogSoftmax,
)
from lamina.nn.loss import (  # noqa: F401
    L1Loss, MSELoss, SmoothL1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, KLDivLoss,
)
from lamina.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d  # noqa: F401
from lamina.nn.pooling import (  # noqa: F401
    MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool2d,
)
from lamina.nn.upsampling import (  # noqa: F401
    Upsample, ZeroPad1d, ZeroPad2d, ConstantPad1d, ConstantPad2d, ReflectionPad1d, ReflectionPad2d,
    ReplicationPad1d, ReplicationPad2d, CircularPad1d, CircularPad2d,
)
from lamina.nn.rnn import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell  # noqa: F401
from lamina.nn import functional, init, utils  # noqa: F401
