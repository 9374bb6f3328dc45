"""lamina.training: the one-call training loop PyTorch leaves to its users.

Importing it gives every nn.Module compile / fit / evaluate / predict (fit.py) and summary
(summary.py); it also holds metrics, callbacks, History (with plot), the progress display and
training checkpoints (save_checkpoint / load_checkpoint, fit(..., resume_from=...)).
"""
from lamina.nn.module import Module
from lamina.training import callbacks, metrics  # noqa: F401
from lamina.training.callbacks import (  # noqa: F401
    Callback, CSVLogger, EarlyStopping, LambdaCallback, LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau,
    TerminateOnNaN,
)
from lamina.training.checkpoint import load_checkpoint, save_checkpoint  # noqa: F401
from lamina.training.fit import compile, evaluate, fit, predict
from lamina.training.history import History  # noqa: F401
from lamina.training.summary import ModelSummary, summary  # noqa: F401

Module.compile = compile
Module.fit = fit
Module.evaluate = evaluate
Module.predict = predict
Module.summary = summary

__all__ = ["callbacks", "metrics", "Callback", "CSVLogger", "EarlyStopping", "LambdaCallback", "LearningRateScheduler",
           "ModelCheckpoint", "ReduceLROnPlateau", "TerminateOnNaN", "History", "ModelSummary", "save_checkpoint",
           "load_checkpoint", "compile", "fit", "evaluate", "predict", "summary"]
