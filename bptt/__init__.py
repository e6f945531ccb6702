"""bptt: recurrent neural networks trained by backpropagation through time.

The layer of the tutorial (``bptt.rnn``): ``s^t = f_s([s^{t-1}, i^t] @ W_s + b_s)``,
output ``o = f_o(s^T @ W_o + b_o)``, trained by a hand-written, vectorised BPTT.
The same layer with a gated cell (GRU, LSTM): ``bptt.recurrent`` and ``bptt.cells``.
"""

__version__ = "0.1.0"

from . import batching, cells, checkpoint, export, recurrent, rnn, stack  # noqa: E402
from ._cpu import keep_freed_memory  # noqa: E402
from .batching import batch_indices, pad_sequences  # noqa: E402
from .checkpoint import ModelFileError  # noqa: E402
from .defaults import Defaults, defaults_for  # noqa: E402
from .gradcheck import gradcheck  # noqa: E402
from .layers import Dense, Embedding  # noqa: E402
from .losses import mean_squared_error, sigmoid_binary_cross_entropy, softmax_cross_entropy  # noqa: E402
from .model import Batch, Model, ModelConfig  # noqa: E402
from .optim import SGD, Adam, clip_grad_norm, global_norm  # noqa: E402

__all__ = [
    "rnn", "recurrent", "cells", "stack", "batching", "checkpoint", "export", "Dense", "Embedding", "Batch", "Model", "ModelConfig",
    "SGD", "Adam", "clip_grad_norm", "global_norm", "softmax_cross_entropy",
    "sigmoid_binary_cross_entropy", "mean_squared_error", "pad_sequences", "batch_indices",
    "gradcheck", "ModelFileError", "defaults_for", "Defaults", "keep_freed_memory", "__version__",
]
