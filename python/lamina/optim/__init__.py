"""Optimizers with PyTorch's names, arguments and state_dict layout; each update of a parameter
group is one fused C++ call. ``lr_scheduler`` holds the learning-rate schedulers."""
from lamina.optim.optimizer import Optimizer
from lamina.optim.sgd import SGD
from lamina.optim.adam import Adam, AdamW
from lamina.optim.rmsprop import RMSprop
from lamina.optim.adagrad import Adagrad
from lamina.optim.adadelta import Adadelta
from lamina.optim import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "lr_scheduler"]
