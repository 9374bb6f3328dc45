"""lamina.nn.functional: the stateless form of every layer, activation and loss, with
PyTorch's names and arguments. Most are the C++ ops themselves; the rest are thin wrappers
where PyTorch's signature carries Python-only arguments (inplace, size_average, ...)."""
from lamina._C import (  # noqa: F401
    linear, batch_norm, layer_norm, group_norm, gelu, softplus, prelu, sigmoid, tanh,
)
from lamina.nn._functional_layers import (  # noqa: F401
    dropout, dropout2d, embedding, softmax, log_softmax, relu, leaky_relu, elu, selu, silu, mish, hardtanh,
)
from lamina.nn._functional_loss import (  # noqa: F401
    mse_loss, l1_loss, smooth_l1_loss, huber_loss, cross_entropy, nll_loss, binary_cross_entropy,
    binary_cross_entropy_with_logits, kl_div,
)
from lamina.nn._functional_conv import (  # noqa: F401
    conv1d, conv2d, conv_transpose1d, conv_transpose2d, max_pool1d, max_pool2d, max_pool1d_with_indices,
    max_pool2d_with_indices, avg_pool1d, avg_pool2d, adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool2d,
    adaptive_max_pool2d_with_indices, interpolate, pad,
)
