"""A sequence model composed of the layers: optional ``Embedding`` -> ``rnn`` -> ``Dense`` head.

Two heads:

* ``many_to_one`` -- the tutorial's ``o = f_o(s^T @ W_o + b_o)``: one output
  from each sequence's final state (sentiment, parity, ...).
* ``many_to_many`` -- an output at every real step (language models, tagging);
  pad steps carry no loss.

``f_o`` is given by the loss: softmax (classes), sigmoid (binary labels) or
identity (mean squared error).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import numbers
from dataclasses import dataclass

import numpy as np

from . import _cpu, cells, stack
from ._checks import as_rng, plain_numbers
from ._xp import namespace, to_numpy
from .activations import ACTIVATIONS
from .layers import Dense, Dropout, Embedding, FinalGrad, LastStates
from .losses import LOSSES

HEADS = ("many_to_one", "many_to_many")


@dataclass(frozen=True)
class ModelConfig:
    """Everything that fixes a model's shape and behaviour (saved inside model files).

    Give ``vocab_size`` (token ids in, with an embedding of ``embed_dim``) or
    ``input_size`` (float vectors in), not both.
    """

    hidden_size: int = 64
    output_size: int = 2
    input_size: int | None = None
    vocab_size: int | None = None
    embed_dim: int = 32
    pad_id: int = 0
    activation: str = "tanh"
    learn_s0: bool = False
    head: str = "many_to_one"
    loss: str = "softmax"
    dtype: str = "float32"
    num_layers: int = 1  # recurrent layers; layer k reads the states of layer k - 1 (bptt.stack)
    bidirectional: bool = False  # each layer also reads each sequence from its last real step back
    cell: str = "rnn"  # the tutorial's cell, or "gru" / "lstm" (bptt.cells)
    #: layers of other kinds (bptt.layers.register), each a dict {"kind": ..., "at": ..., fields...};
    #: "at" is a point of the chain (bptt.layers.POINTS): "input", "states" or "head"
    extra_layers: tuple = ()
    #: the LSTM's gate biases at init: 0, forget bias 1 (Jozefowicz et al. 2015); N >= 3, the chrono
    #: initialisation, for memories of up to about N steps (Tallec & Ollivier 2018; bptt.cells.lstm.init)
    chrono_init: int = 0

    def __post_init__(self):
        plain_numbers(self, ("hidden_size", "output_size", "input_size", "vocab_size", "embed_dim", "pad_id",
                             "num_layers"), ())
        if not isinstance(self.extra_layers, (tuple, list)):
            raise ValueError(f"extra_layers must be a list of layer specs (dicts), got {self.extra_layers!r}")
        object.__setattr__(self, "extra_layers", tuple(  # NumPy scalars as Python's (the file's JSON)
            {k: v.item() if isinstance(v, np.generic) else v for k, v in s.items()} if isinstance(s, dict) else s
            for s in self.extra_layers))
        for name in ("hidden_size", "output_size", "embed_dim"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if (self.input_size is None) == (self.vocab_size is None):
            raise ValueError(
                f"give exactly one of input_size (float inputs) and vocab_size (token ids); "
                f"got input_size={self.input_size!r}, vocab_size={self.vocab_size!r}"
            )
        for name in ("input_size", "vocab_size"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if isinstance(self.pad_id, bool) or not isinstance(self.pad_id, int) or not (
                0 <= self.pad_id < (self.vocab_size or 1)):
            raise ValueError(f"pad_id must be a token id in 0..vocab_size - 1, got {self.pad_id!r}")
        if not isinstance(self.learn_s0, bool):
            raise ValueError(f"learn_s0 must be True or False, got {self.learn_s0!r}")
        if isinstance(self.num_layers, bool) or not isinstance(self.num_layers, int) or not 1 <= self.num_layers <= 16:
            raise ValueError(f"num_layers must be an integer 1..16, got {self.num_layers!r}")
        c = self.chrono_init
        if isinstance(c, bool) or not isinstance(c, int) or c < 0 or c in (1, 2):
            raise ValueError(f"chrono_init must be 0 (forget bias 1) or a number of steps >= 3, got {c!r}")
        if c and self.cell != "lstm":
            raise ValueError(f"chrono_init={c} sets the LSTM's gate biases; cell={self.cell!r} has none of them "
                             f"(leave chrono_init at 0)")
        if not isinstance(self.bidirectional, bool):
            raise ValueError(f"bidirectional must be True or False, got {self.bidirectional!r}")
        for name in ("activation", "head", "loss", "dtype", "cell"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string, got {getattr(self, name)!r}")
        if self.cell not in cells.CELLS:
            raise ValueError(f"cell={self.cell!r} is not known; choose one of {list(cells.CELLS)}")
        if self.cell != "rnn" and self.activation != "tanh":
            raise ValueError(f"activation={self.activation!r} is the tutorial cell's f_s; the {self.cell} cell has "
                             f"its own nonlinearities (leave activation at 'tanh')")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation={self.activation!r} is not known; choose one of {sorted(ACTIVATIONS)}")
        if self.head not in HEADS:
            raise ValueError(f"head={self.head!r} is not known; choose one of {list(HEADS)}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss={self.loss!r} is not known; choose one of {sorted(LOSSES)}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype={self.dtype!r} must be 'float32' or 'float64'")
        if self.loss == "softmax" and self.output_size < 2:
            raise ValueError(f"output_size must be >= 2 for a softmax head, got {self.output_size}")
        self._extras()  # each extra layer's kind, point and fields, checked now

    def _extras(self) -> tuple:
        """The extra layers by point, built: ``({point: [layer, ...]}, rnn_input_width, head_width)``."""
        from .layers import POINTS, build_extra

        width = {"input": self.embed_dim if self.vocab_size is not None else self.input_size,
                 "states": self.directions * self.hidden_size}
        width["head"] = width["states"]
        for spec in self.extra_layers:
            if not isinstance(spec, dict) or spec.get("at") not in POINTS:
                build_extra(spec, 0, 0)  # says what an entry must be
        built = {p: [] for p in POINTS}
        for point in POINTS:  # in the order of the chain; within a point, in the order given
            for spec in self.extra_layers:
                if spec["at"] != point:
                    continue
                layer, width[point] = build_extra(spec, width[point], len(built[point]))
                built[point].append(layer)
        return built, width["input"], width["head"]

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown model config key(s) {unknown}; known keys: {sorted(known)}")
        return cls(**d)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        if not self.extra_layers:
            del d["extra_layers"]  # a model without them writes the file it always wrote
        if not self.chrono_init:
            del d["chrono_init"]  # likewise: a file that an earlier bptt reads
        else:
            d["extra_layers"] = [dict(s) for s in self.extra_layers]
        return d

    @property
    def rnn_input_size(self) -> int:
        """The width the first recurrent level reads: the embedding's (or the input's), or what the
        extra layers at ``"input"`` make of it."""
        return self._extras()[1]

    @property
    def stacked(self) -> bool:
        """More than the tutorial's one layer in one direction: parameters named per layer (W_s_l0, ...)."""
        return self.num_layers > 1 or self.bidirectional

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def step_width(self) -> int:
        """``sqrt`` of a step's multiply-adds per row, ``H * sqrt(G)``: what bptt._cpu.parallel weighs."""
        return cells.step_width(self.cell, self.hidden_size)

    @property
    def state_width(self) -> int:
        """The width of a carried state: H, or 2H for the LSTM's [h, c]."""
        return cells.state_parts(self.cell) * self.hidden_size

    @property
    def state_shape_prefix(self) -> tuple:
        """The leading axes of a carried state: () for one layer ([B, S]), (L*K,) for a stack ([L*K, B, S])."""
        return (self.num_layers * self.directions,) if self.stacked else ()

    def param_shapes(self) -> dict:
        """Name -> shape of every parameter this config has: its layers' (:meth:`Model.build_layers`)."""
        shapes = {}
        for layer in Model.build_layers(self):
            shapes.update(layer.param_shapes())
        return shapes


@dataclass
class Batch:
    """A padded batch: ``x`` [B, T, D] floats or [B, T] ids, ``lengths`` [B] (or ``mask`` [B, T]),
    and targets ``y``: [B] (many-to-one) or [B, T] (many-to-many) class ids, or float
    targets with a trailing output axis for sigmoid/mse heads."""

    x: object
    y: object = None
    lengths: object = None
    mask: object = None


def _on_cores(method):
    """Run a method of a NumPy model (its first argument a Batch or inputs [B, ...]) inside
    :func:`bptt._cpu.parallel`: the whole forward and backward pass, so that when the work
    is split across cores no multi-threaded BLAS call wakes the BLAS's own threads between
    the time loops."""
    @functools.wraps(method)
    def wrapped(self, *args, **kwargs):
        data = args[0] if args else kwargs.get("batch", kwargs.get("x"))
        shape = getattr(data.x if isinstance(data, Batch) else data, "shape", None)
        rows = int(shape[0]) if shape else 0
        with _cpu.parallel_for(namespace(self._w), rows, self.config.step_width):
            return method(self, *args, **kwargs)
    return wrapped


def _check_room(config: ModelConfig) -> None:
    """A MemoryError that names the config when its new weights (and the float64 work of their
    orthogonal initialisation) would not fit in the free memory, before anything is allocated."""
    from .memory import _short_of, size

    n = sum(math.prod(s) for s in config.param_shapes().values())
    need = n * np.dtype(config.dtype).itemsize + 3 * config.hidden_size ** 2 * 8
    short = _short_of(need, "cpu", None)
    if short:
        raise MemoryError(f"a model of {n:,} parameters (hidden_size {config.hidden_size}, vocab_size "
                          f"{config.vocab_size}, {config.num_layers} layer(s)) needs about {size(need)} "
                          f"to initialise, and {short}")


def _check_params(config: ModelConfig, params) -> None:
    """Refuse, by name, parameters that are not those of ``config``: missing or extra names, another
    shape or dtype."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
    want = config.param_shapes()
    missing, extra = sorted(set(want) - set(params)), sorted(set(params) - set(want))
    if missing or extra:
        raise ValueError(f"params do not match the config: {'missing ' + str(missing) if missing else ''}"
                         f"{'; ' if missing and extra else ''}{'unknown ' + str(extra) if extra else ''} "
                         f"(the config has {sorted(want)})")
    for k, shape in want.items():
        v = params[k]
        if not (hasattr(v, "shape") and hasattr(v, "dtype")):
            raise TypeError(f"params[{k!r}] must be an array, got {type(v).__name__}")
        if tuple(v.shape) != tuple(shape):
            raise ValueError(f"params[{k!r}] has shape {tuple(v.shape)}, the config needs {tuple(shape)}")
        if str(v.dtype).rsplit(".", 1)[-1] != config.dtype:  # "float32", or "array_api_strict.float32"
            raise TypeError(f"params[{k!r}] has dtype {v.dtype}, the config says {config.dtype!r}")


class Model:
    """Config plus parameters, with ``loss_and_grads(batch)`` and ``predict(...)``.

    The parameters live in ``self.params`` (a dict of arrays); every
    computation is done by the pure layer functions.
    """

    def __init__(self, config: ModelConfig, params: dict | None = None, *, rng: np.random.Generator | None = None):
        if not isinstance(config, ModelConfig):
            raise TypeError(f"config must be a ModelConfig, got {type(config).__name__}")
        self.config = config
        self.layers = self.build_layers(config)  # the pure layers this model runs, in order
        if params is None:
            if rng is None:
                raise TypeError("give params, or rng to initialise new ones (e.g. rng=np.random.default_rng(0))")
            rng = as_rng(rng)  # a Generator, or an int seed
            _check_room(config)
            params = self.init_params(config, rng)
        else:
            _check_params(config, params)
        self.params = params

    @staticmethod
    def build_layers(config: ModelConfig) -> list:
        """The layers of a model of this config, in the order they run (:mod:`bptt.layers`)."""
        c = config
        extra, _, head_width = c._extras()
        layers = []
        if c.vocab_size is not None:
            layers.append(Embedding(c.vocab_size, c.embed_dim, c.pad_id))
        layers += extra["input"]
        layers.append(Dropout("in"))  # on the input connection i^t
        for k, level in enumerate(stack.levels(c.rnn_input_size, c.hidden_size, num_layers=c.num_layers,
                                               bidirectional=c.bidirectional, cell=c.cell, activation=c.activation,
                                               learn_s0=c.learn_s0, plain=not c.stacked, chrono=c.chrono_init)):
            if k > 0:
                layers.append(Dropout(("between", k - 1)))  # on the connection from level k-1 to level k
            layers.append(level)
        layers += extra["states"]
        if c.head == "many_to_one":
            # s^T (and r^1): what the head reads; at each row's real ends when a layer at "states" is between
            layers.append(LastStates(c.hidden_size, c.bidirectional, real_ends=bool(extra["states"])))
        layers.append(Dropout("out"))  # on the output connection
        layers += extra["head"]
        layers.append(Dense(head_width, c.output_size))
        return layers

    @staticmethod
    def init_params(config: ModelConfig, rng: np.random.Generator) -> dict:
        dt = np.dtype(config.dtype)
        params = {}
        for layer in Model.build_layers(config):  # in order: the same draws as the layers' own init
            params.update(layer.init(rng, dt))
        return params

    @property
    def _w(self):
        """A recurrent weight matrix: its namespace and dtype are the model's."""
        return self.params["W_s_l0" if self.config.stacked else "W_s"]

    @_on_cores
    def forward(self, x, lengths=None, mask=None, s_init=None, check: bool = True, drop=None):
        """Logits ``[B, O]`` (many-to-one) or ``[B, T, O]`` (many-to-many), and the caches.

        Runs :attr:`layers` in order.  ``drop``: optional dropout masks (already scaled by
        1 / (1 - p)) for the non-recurrent connections: ``"in"`` [B, T, D] on the RNN's input,
        ``"between"`` (a list, one [B, T, K*H] per connection between recurrent levels) and
        ``"out"`` (the shape of the head's input) on what the head reads.
        """
        c = self.config
        if not (hasattr(x, "shape") and hasattr(x, "dtype")):  # a list of lists, a string, None
            how = ("; sequences of different lengths: x, lengths = bptt.pad_sequences(seqs), then pass "
                   "lengths=lengths (pads change no result)" if isinstance(x, (list, tuple)) else "")
            raise TypeError(f"x must be an array ({'[B, T] token ids' if c.vocab_size else '[B, T, D] floats'}), "
                            f"got {type(x).__name__}; convert it with np.asarray{how}")
        ctx = {"lengths": lengths, "mask": mask, "s_init": s_init, "check": check, "drop": drop}
        if check:
            self._check_finite_params()
        x_in, T = x, int(x.shape[1]) if len(x.shape) > 1 else 0
        caches, states, finals = [], None, []
        for i, layer in enumerate(self.layers):
            if c.stacked and isinstance(layer, stack.Recurrent) and layer.level == 0:
                # a stack's input, lengths and s_init are checked once, before its first level
                stack.check_batch(namespace(x), x, lengths, mask, s_init, c.num_layers * c.directions, check)
                ctx["check"] = False
            # a level whose states only a many-to-one head reads, at the ends it carried them to: its
            # final states are all it needs to give (no [B, T, K*H] output is built)
            nxt = self.layers[i + 1] if i + 1 < len(self.layers) else None
            ctx["finals_only"] = isinstance(nxt, LastStates) and not nxt.real_ends
            try:
                x, cache = layer.forward(self.params, x, ctx)
            except ValueError as e:
                if x is not x_in and "NaN or inf" in str(e):  # in what a layer before made, not in the caller's x
                    raise ValueError(f"the input of the {type(layer).__name__} layer holds NaN or inf, although x "
                                     f"and the parameters are finite: the layers before it overflowed "
                                     f"(activation='relu' or 'identity' with large weights?)") from None
                raise
            caches.append(cache)
            if isinstance(layer, stack.Recurrent):
                states = x  # [B, T, K*H]: the top level's output so far (None: its finals only)
                finals += cache["finals"]
                ctx["finals"] = cache["finals"]
        xp = namespace(finals[0])
        final = finals[0] if not c.stacked else xp.stack(finals, axis=0)  # [B, S], or [L*K, B, S] for a stack
        return x, {"layers": caches, "states": states, "final": final, "T": T}

    def check_frozen(self, frozen) -> None:
        """Refuse names in ``frozen`` that are no parameter of this model (a typo would freeze nothing)."""
        unknown = sorted(set(frozen) - set(self.params))
        if unknown:
            raise ValueError(f"frozen names {unknown}, which are not parameters of this model ({sorted(self.params)})")

    def _check_finite_params(self) -> None:
        """A parameter holding NaN or inf would make every output NaN: refused by name."""
        xp = namespace(self._w)
        ok = [xp.all(xp.isfinite(v)) for v in self.params.values()]
        if bool(xp.all(xp.stack(ok))):  # one read-back on a GPU
            return
        bad = [k for k, v in zip(self.params, ok) if not bool(v)]
        raise ValueError(f"params {bad} hold NaN or inf (a diverged training?), so every output would be NaN")

    def loss_mask(self, batch: Batch, T: int):
        """[B, T] bool of the steps that carry a loss (many-to-many), from lengths or mask."""
        xp = namespace(self._w)
        if batch.mask is not None:
            return xp.asarray(batch.mask)
        B = int(batch.x.shape[0])
        if batch.lengths is None:
            return None
        L = to_numpy(batch.lengths)
        return xp.asarray(np.arange(T)[None, :] < L.reshape(B, 1))

    def dropout_masks(self, batch: Batch, p: float, rng: np.random.Generator) -> dict:
        """Inverted-dropout masks for :meth:`forward`'s ``drop``: each unit kept with probability
        ``1 - p`` and scaled by ``1 / (1 - p)``, drawn from ``rng`` on the host."""
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p < 1.0:
            raise ValueError(f"dropout must be in [0, 1) (a number), got {p!r}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"dropout needs rng, a numpy.random.Generator; got {type(rng).__name__}")
        c = self.config
        xp = namespace(self._w)
        dt = np.dtype(c.dtype)
        B, T = int(batch.x.shape[0]), int(batch.x.shape[1])
        KH = c.directions * c.hidden_size
        h_shape = (B, KH) if c.head == "many_to_one" else (B, T, KH)
        scale = dt.type(1.0 / (1.0 - p))

        def draw(shape):
            return xp.asarray((rng.random(shape, dtype=np.float32) >= p).astype(dt) * scale)

        masks = {name: draw(shape) for name, shape in (("in", (B, T, c.rnn_input_size)), ("out", h_shape))}
        if c.num_layers > 1:  # the connections between layers (drawn after the others: one layer's draws unchanged)
            masks["between"] = [draw((B, T, KH)) for _ in range(c.num_layers - 1)]
        return masks

    @_on_cores
    def loss_and_grads(self, batch: Batch, *, step_norms: bool = False, check: bool = True, s_init=None,
                       return_state: bool = False, frozen=(), dropout: float = 0.0, rng=None, drop_masks=None,
                       class_weights=None):
        """Mean loss over the batch and the gradient of every parameter (keyed like ``params``).

        The loss is a 0-d array on the parameters' device (no host round-trip).
        With ``step_norms=True`` also returns ``[T]`` norms of dLoss/ds^t.
        ``check=False`` skips the NaN and class-id checks of data validated once.
        ``s_init`` [B, S] (``[L*K, B, S]`` for a stack; ``S = config.state_width``) starts from a
        given state (no gradient flows into it); ``return_state=True`` also returns the final
        states (to carry on), of the same shape.
        ``frozen`` names parameters whose gradient is not needed (``"E"``: the
        embedding's backward pass is skipped; its gradient is absent).
        ``dropout`` > 0 drops units of the RNN's input and of the head's input
        (the non-recurrent connections) with that probability, masks drawn from
        ``rng`` (a ``numpy.random.Generator``); the loss and gradients are those
        of the thinned network.  ``drop_masks`` gives the masks instead (as :meth:`dropout_masks`
        returns them, for the rows as given): a shard of a larger batch uses the rows of that
        batch's masks (bptt.distributed).
        ``class_weights`` ``[C]`` (a softmax output): each position's loss times its target class's
        weight, still divided by the count of positions (``bptt.losses.softmax_cross_entropy``).
        """
        c = self.config
        if not isinstance(batch, Batch):
            raise TypeError(f"batch must be a bptt.Batch (x, y, lengths or mask), got {type(batch).__name__}")
        if class_weights is not None:
            if c.loss != "softmax":
                raise ValueError(f"class_weights are for a softmax output (class ids); this model's loss is {c.loss!r}")
            class_weights = namespace(self._w).asarray(class_weights, dtype=self._w.dtype)
        frozen = (frozen,) if isinstance(frozen, str) else frozen  # one name, not its letters
        if check:
            self.check_frozen(frozen)
        drop = drop_masks
        if drop is None and dropout:
            drop = self.dropout_masks(batch, dropout, rng)  # drawn for the rows as given
        batch, s_init, order = self._longest_first(batch, s_init)
        if drop is not None and order is not None:
            drop = {k: ([u[order] for u in v] if isinstance(v, list) else v[order]) for k, v in drop.items()}
        logits, caches = self.forward(batch.x, batch.lengths, batch.mask, s_init=s_init, check=check, drop=drop)
        T = caches["T"]
        m = self.loss_mask(batch, T) if c.head == "many_to_many" else None
        weighted = {} if class_weights is None else {"class_weights": class_weights}  # a softmax's only
        loss, dlogits = LOSSES[c.loss](logits, batch.y, m, check=check, **weighted)
        # BPTT through the layers, last first; a layer below which nothing is trained sends nothing back
        trained = [any(k not in frozen for k in layer.param_shapes()) for layer in self.layers]
        grads, dy, norms = {}, dlogits, []
        for i in reversed(range(len(self.layers))):
            layer, cache = self.layers[i], caches["layers"][i]
            need_dx = any(trained[:i])
            if not trained[i] and not need_dx:
                break  # e.g. a frozen embedding: its backward pass is skipped
            if isinstance(dy, FinalGrad) and not isinstance(layer, stack.Recurrent):
                dy = dy.dense(caches["states"])  # a layer at "states" reads every step
            if isinstance(layer, stack.Recurrent):
                out = layer.backward(self.params, cache, dy, need_dx=need_dx, step_norms=step_norms)
                if step_norms:
                    norms += out[2]
            else:
                out = layer.backward(self.params, cache, dy)
            if trained[i]:
                grads.update(out[0])
            dy = out[1]
        extra = ()
        if step_norms:
            extra += (stack.combine_norms(norms),)
        if return_state:
            xp = namespace(caches["final"])
            s_T = xp.asarray(caches["final"], copy=True)  # [B, S] or [L*K, B, S]
            if order is not None:  # back in the batch's order
                back = np.argsort(order)
                s_T = s_T[:, back] if c.stacked else s_T[back]
            extra += (s_T,)
        return (loss, grads) + extra

    def _longest_first(self, batch: Batch, s_init):
        """``(batch, s_init, order)``: a NumPy batch given by ``lengths`` with its rows
        sorted longest first (a stable sort, as ``pack_padded_sequence`` does), so that
        the time loops compute only the real rows of each step; ``order`` undoes it.
        The mean loss and the gradients do not depend on the order of the rows.  Nothing
        is sorted (``order`` None) when the rows are in that order already, on a GPU, or
        when the batch is malformed (the layers then name the problem on the rows as given)."""
        L, x = batch.lengths, batch.x
        if (L is None or batch.mask is not None or not isinstance(x, np.ndarray) or x.ndim < 2
                or namespace(self._w) is not np):
            return batch, s_init, None
        L = np.asarray(L)
        if (L.ndim != 1 or L.shape[0] != x.shape[0] or not np.issubdtype(L.dtype, np.integer)
                or np.any((L < 1) | (L > x.shape[1])) or np.all(L[:-1] >= L[1:])):
            return batch, s_init, None
        y = batch.y
        rows_axis = len(self.config.state_shape_prefix)  # s_init: [B, S], or [L*K, B, S] for a stack
        if (y is not None and (not isinstance(y, np.ndarray) or y.ndim == 0 or y.shape[0] != L.shape[0])) or (
                s_init is not None and getattr(s_init, "shape", ())[rows_axis:rows_axis + 1] != (L.shape[0],)):
            return batch, s_init, None
        order = np.argsort(-L, kind="stable")
        sorted_batch = Batch(x=x[order], y=None if y is None else y[order], lengths=L[order])
        if s_init is not None:
            s_init = s_init[:, order] if rows_axis else s_init[order]
        return sorted_batch, s_init, order

    def to(self, device: str) -> "Model":
        """Move the parameters to ``"cpu"`` or ``"gpu"`` (in place); returns self."""
        from .device import to_device

        self.params = to_device(self.params, device)
        return self

    INFER_CHUNK = 1 << 16  # steps of a long sequence run at a time by :meth:`infer`

    def chunked(self, x, lengths=None, mask=None) -> bool:
        """Whether :meth:`infer` runs ``x`` a chunk of steps at a time: one sequence with no pads, longer
        than ``INFER_CHUNK``."""
        T = int(x.shape[1]) if hasattr(x, "shape") and len(x.shape) > 1 else 0
        return (mask is None and T > self.INFER_CHUNK and int(x.shape[0]) == 1
                and (lengths is None or int(np.asarray(to_numpy(lengths)).reshape(-1)[0]) == T))

    @_on_cores
    def infer(self, x, lengths=None, mask=None):
        """The logits of :meth:`forward` (``[B, O]`` or ``[B, T, O]``) with no cache kept for a backward pass.

        A long sequence (see :meth:`chunked`) runs ``INFER_CHUNK`` steps at a time, each chunk starting from
        the state the one before ended in (``s_init``, as a language model's windows do): the same outputs,
        in the memory of one chunk's states instead of every step's (a line of 5,000,000 characters took
        10 GB in ``bptt predict`` before).  A bidirectional model runs level by level (:meth:`_infer_by_levels`):
        it keeps the ``[1, T, K*H]`` states of the levels below the top, which the next level reads in both
        directions, but no step's cache (:meth:`infer_kept_floats`)."""
        if not self.chunked(x, lengths, mask):
            return self.forward(x, lengths, mask)[0]
        if self.config.directions == 2:
            return self._infer_by_levels(x)
        xp = namespace(self._w)
        T, C = int(x.shape[1]), self.INFER_CHUNK
        s, outs, logits = None, [], None
        for lo in range(0, T, C):
            logits, caches = self.forward(x[:, lo:min(lo + C, T), ...], s_init=s)
            s = caches["final"]  # [1, S], or [L, 1, S] for a stack: where the next chunk starts
            if self.config.head == "many_to_many":
                outs.append(logits)
        return xp.concat(outs, axis=1) if outs else logits

    def _infer_by_levels(self, x):
        """:meth:`infer` of one long unpadded sequence through a bidirectional model: the layers in order,
        each recurrent level's directions a chunk at a time (the reverse one from the last chunk back to the
        first, each chunk starting from the state the one after it ended in), and no step's cache kept.

        A level below the top writes its states into one ``[1, T, K*H]`` output for the next level; layers
        that read each step on its own (``per_step``: the embedding, dropout, layer norm) between two
        levels run on each chunk the next level reads, so their outputs are never whole.  The top level
        of a tagger (whose head reads every step) runs streamed (:meth:`_top_level_streamed`): no
        ``[1, T, K*H]`` at all, only the head's outputs.  What is kept a step: :meth:`infer_kept_floats`."""
        self._check_finite_params()
        ctx = {"lengths": None, "mask": None, "s_init": None, "check": True, "drop": None}
        layers, T = self.layers, int(x.shape[1])
        top = self._level_indices()[-1]
        h, pending = x, []  # pending: per-step layers run on each chunk that the next level reads
        for i, layer in enumerate(layers):
            if isinstance(layer, stack.Recurrent):
                nxt = layers[i + 1] if i + 1 < len(layers) else None
                ctx["finals_only"] = isinstance(nxt, LastStates) and not nxt.real_ends
                feed = self._chunk_feed(h, tuple(pending), ctx)
                keep = self._top_keeps() if i == top else "all"
                if keep == "streamed":
                    return self._top_level_streamed(layer, feed, T, layers[i + 1:], ctx)
                keep = "finals" if ctx["finals_only"] else keep
                h, ctx["finals"] = self._level_by_chunks(layer, feed, T, keep, check=ctx["check"])
                ctx["check"], pending = False, []
            elif i < top and getattr(layer, "per_step", False):
                pending.append(layer)
            else:
                for before in pending:  # a layer that reads across steps needs its input whole
                    h, _ = before.forward(self.params, h, ctx)
                pending = []
                h, _ = layer.forward(self.params, h, ctx)
        return h

    def _level_indices(self) -> list:
        """The indices in :attr:`layers` of the recurrent levels, bottom first."""
        return [i for i, layer in enumerate(self.layers) if isinstance(layer, stack.Recurrent)]

    def _top_keeps(self) -> str:
        """What :meth:`_infer_by_levels` keeps of the top level of this bidirectional model: ``"streamed"``
        when every layer after it reads each step on its own (a tagger's head, layer norm; nothing kept,
        :meth:`_top_level_streamed`); ``"ends"`` when such layers lead to a many-to-one head's
        :class:`LastStates`, which reads only the first and the last step of an unpadded sequence (so
        only those two steps' states are kept, ``[1, 2, K*H]``); else ``"all"`` (``[1, T, K*H]``)."""
        top = self._level_indices()[-1]
        after = [layer for layer in self.layers[top + 1:] if not getattr(layer, "per_step", False)]
        if not after:
            return "streamed"
        return "ends" if isinstance(after[0], LastStates) else "all"

    def infer_kept_floats(self) -> int:
        """Floats of every step that :meth:`infer` keeps for a long unpadded sequence besides a chunk's work,
        the token ids and the head's outputs: none for one direction or one bidirectional level; for a
        stack, the ``[1, T, K*H]`` states of the levels below the top, a level's input and its output at
        once (and the top level's states too, where a layer that reads across steps reads them whole)."""
        if self.config.directions == 1:
            return 0
        widths = [self.layers[i].directions * self.layers[i].hidden_size for i in self._level_indices()]
        # the levels below the top; the top's states and a layer's output over them where such a layer reads them whole
        widths = widths[:-1] + (widths[-1:] * 2 if self._top_keeps() == "all" else [])
        return max([a + b for a, b in zip([0] + widths, widths)], default=0)

    def _chunk_feed(self, h, layers: tuple, ctx):
        """``feed(lo, hi)``: steps ``lo:hi`` of ``h`` through the per-step ``layers`` (what a level reads of
        them), computed when asked for, so that no step's output of those layers is kept."""
        def feed(lo: int, hi: int):
            part = h[:, lo:hi, ...]
            for layer in layers:
                part, _ = layer.forward(self.params, part, ctx)
            return part
        return feed

    def _run_direction(self, layer, d: int, part, s, check: bool):
        """One direction ``d`` of the recurrent level ``layer`` over ``part`` ``[1, c, D]`` (the reverse one
        given its steps reversed) from state ``s``: ``(states [1, c, H], final state)``, no cache kept."""
        from . import recurrent

        states, cache = recurrent.forward(layer._params(self.params, d), part, cell=layer.cell,
                                          activation=layer.activation, s_init=s, check=check)
        final = namespace(states).asarray(recurrent.final_state(cache), copy=True)  # no view of the cache kept
        return states, final

    def _spans(self, T: int) -> list:
        C = self.INFER_CHUNK
        return [(lo, min(lo + C, T)) for lo in range(0, T, C)]

    def _level_by_chunks(self, layer, feed, T: int, keep: str, check: bool):
        """One recurrent level over the ``T`` steps that ``feed(lo, hi)`` gives, ``INFER_CHUNK`` steps at a
        time in each direction: ``(states, [final state of each direction])``, the states ``[1, T, K*H]``
        (``keep="all"``), those of the first and the last step alone, ``[1, 2, K*H]`` (``"ends"``), or None
        (``"finals"``: only the final states are read)."""
        H, K, spans = layer.hidden_size, layer.directions, self._spans(T)
        y, finals = None, []
        for d in range(K):
            s = None
            for lo, hi in (spans if d == 0 else spans[::-1]):
                part = feed(lo, hi)
                xp = namespace(part)
                states, s = self._run_direction(layer, d, part if d == 0 else xp.flip(part, axis=1), s, check)
                if keep != "finals":
                    if d:  # the reverse run read backwards: its states back in the steps' order
                        states = xp.flip(states, axis=1)
                    if y is None:
                        y = xp.empty((1, T if keep == "all" else 2, K * H), dtype=states.dtype)
                    if keep == "all":
                        y[:, lo:hi, d * H:(d + 1) * H] = states
                    else:  # the first step's states and the last step's
                        if lo == 0:
                            y[:, 0, d * H:(d + 1) * H] = states[:, 0, ...]
                        if hi == T:
                            y[:, 1, d * H:(d + 1) * H] = states[:, hi - lo - 1, ...]
                del states
            finals.append(s)
        return y, finals

    def _top_level_streamed(self, layer, feed, T: int, tail, ctx):
        """The top bidirectional level and the per-step layers after it (``tail``: the head) over the ``T``
        steps that ``feed(lo, hi)`` gives, keeping no step's states: the forward direction runs once over
        the chunks keeping only the state where each chunk starts; then, from the last chunk back to the
        first, it runs each chunk again from that state (the same arithmetic, so the same states) beside
        the reverse direction's run of it, and the two directions' states of the chunk go through ``tail``
        into the ``[1, T, O]`` output.  The price is the forward direction's arithmetic twice."""
        spans, check = self._spans(T), ctx["check"]
        starts, s = [], None
        for lo, hi in spans[:-1]:  # where each chunk starts, in the forward direction
            starts.append(s)
            _, s = self._run_direction(layer, 0, feed(lo, hi), s, check)
            check = False
        starts.append(s)
        out, r = None, None
        for k in range(len(spans) - 1, -1, -1):
            lo, hi = spans[k]
            part = feed(lo, hi)
            xp = namespace(part)
            fwd, _ = self._run_direction(layer, 0, part, starts[k], check)
            rev, r = self._run_direction(layer, 1, xp.flip(part, axis=1), r, False)  # reads backwards
            starts[k], check = None, False
            y = xp.concat([fwd, xp.flip(rev, axis=1)], axis=-1)  # [1, c, 2H]: both directions at each step
            del fwd, rev
            for after in tail:
                y, _ = after.forward(self.params, y, ctx)
            if out is None:
                out = xp.empty((1, T) + tuple(y.shape[2:]), dtype=y.dtype)
            out[:, lo:hi, ...] = y
        return out

    @_on_cores
    def predict(self, x, lengths=None, mask=None):
        """Output probabilities (softmax/sigmoid) or values (mse): [B, O] or [B, T, O]."""
        logits = self.infer(x, lengths, mask)
        xp = namespace(logits)
        if self.config.loss == "softmax":
            z = logits - xp.max(logits, axis=-1, keepdims=True)
            e = xp.exp(z)
            return e / xp.sum(e, axis=-1, keepdims=True)
        if self.config.loss == "sigmoid":
            return 0.5 * (xp.tanh(0.5 * logits) + 1.0)
        return logits
