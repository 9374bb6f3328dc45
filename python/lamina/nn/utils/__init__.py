"""nn.utils: gradient clipping (clip_grad_norm_, clip_grad_value_) and nn.utils.rnn (packed sequences)."""
from lamina.nn.utils.clip_grad import (  # noqa: F401
    clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm,
)
from lamina.nn.utils import rnn  # noqa: F401,E402
