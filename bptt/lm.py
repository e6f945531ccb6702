"""Language models: predict the next token of a long text, at every step.

A text is one stream of token ids.  Training cuts it into windows of ``window``
tokens (k1): inputs ``ids[i : i + k1]``, targets ``ids[i + 1 : i + k1 + 1]``.

* not stateful: windows are shuffled and every window starts from ``s^0``;
* ``stateful``: the text is split into ``batch_size`` contiguous streams read
  side by side, and each window starts from the final state of the window
  before it (carried over, with no gradient: it never flows past the window).
  With ``bptt_steps`` k2 < k1 the first k1 - k2 steps of a window only advance
  the state, and the gradient flows back through the last k2 steps
  (truncated BPTT(k1, k2)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import _checks
from ._xp import to_numpy
from .distributed import shard_range
from .losses import softmax_cross_entropy
from .model import Batch, Model


@dataclass
class TextStream:
    ids: np.ndarray  # [N] token ids
    window: int = 64
    bptt_steps: int | None = None
    stateful: bool = True
    batch_size: int = 32
    bits: bool = False  # report bits per token (character level)
    per_token_loss = True

    def __post_init__(self):
        ids = np.asarray(self.ids)
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"ids must be integer token ids, got dtype {ids.dtype}")
        self.ids = ids.astype(np.int64, copy=False)
        if self.ids.ndim != 1:
            raise ValueError(f"ids must be a 1-D token stream, got shape {self.ids.shape}")
        for name in ("window", "batch_size"):
            _checks.positive_int(name, getattr(self, name))
        if self.bptt_steps is not None and (isinstance(self.bptt_steps, bool)
                                            or not isinstance(self.bptt_steps, (int, np.integer))):
            raise ValueError(f"bptt_steps must be an integer or None, got {self.bptt_steps!r}")
        for name in ("stateful", "bits"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.bptt_steps is not None and not 1 <= self.bptt_steps <= self.window:
            raise ValueError(f"bptt_steps must be in 1..window = 1..{self.window}, got {self.bptt_steps!r}")
        if self.ids.shape[0] < self.window + 1:
            raise ValueError(f"the text has {self.ids.shape[0]} tokens, too short for one window of "
                             f"{self.window} inputs and their next tokens; use a smaller --window")

    def check(self, model: Model, name: str = "data") -> None:
        """Refuse, by name, a text that does not fit ``model``: a language model reads each id as an
        input and predicts it as a class, so every id must be inside its vocabulary and its outputs."""
        c = model.config
        if c.vocab_size is None or c.head != "many_to_many":
            raise ValueError(f"{name} is a language model's text, which needs a model with a vocabulary and "
                             f"head='many_to_many'")
        size = min(c.vocab_size, c.output_size)
        lo, hi = int(self.ids.min()), int(self.ids.max())
        if lo < 0 or hi >= size:
            bad = lo if lo < 0 else hi
            at = int(np.argmax(self.ids == bad))
            raise ValueError(f"{name} holds token id {bad} (at position {at}), outside 0..{size - 1} (the model's "
                             f"vocabulary of {c.vocab_size} and {c.output_size} outputs)")
        pads = np.flatnonzero(self.ids == c.pad_id)  # the pad's embedding stays zero: as an input it learns nothing
        if pads.size:
            raise ValueError(f"{name} holds token id {c.pad_id} (at position {int(pads[0])}): "
                             f"{_checks.pad_id_text(c.pad_id)}")

    # -- training protocol (see bptt.train.train) --------------------------------------
    def _streams(self, batch_size: int):
        """[B, L + 1] contiguous streams side by side (stateful layout)."""
        B = max(1, min(batch_size, (self.ids.shape[0] - 1) // self.window))
        L = (self.ids.shape[0] - 1) // B
        return self.ids[: B * L + 1], B, L

    def epoch_batches(self, cfg, epoch: int) -> list:
        if self.stateful:
            _, B, L = self._streams(cfg.batch_size)
            return [("s", start, cfg.batch_size) for start in range(0, L - self.window + 1, self.window)]
        n = (self.ids.shape[0] - 1) // self.window
        order = np.random.default_rng(cfg.seed * 100003 + epoch).permutation(n)
        return [("w", order[i : i + cfg.batch_size]) for i in range(0, n, cfg.batch_size)]

    def _xy(self, desc):
        if desc[0] == "s":
            _, start, bs = desc
            ids, B, L = self._streams(bs)
            rows = np.arange(B)[:, None] * L + start + np.arange(self.window + 1)[None, :]
        else:
            rows = desc[1][:, None] * self.window + np.arange(self.window + 1)[None, :]
            ids = self.ids
        chunk = ids[rows]  # [B, k1 + 1]
        return chunk[:, :-1], chunk[:, 1:]

    def batch_rows(self, desc) -> int:
        """How many windows (side-by-side streams) the minibatch ``desc`` holds."""
        return self._streams(desc[2])[1] if desc[0] == "s" else len(desc[1])

    def train_step(self, model: Model, desc, carry=None, frozen=(), dropout=0.0, rng=None, shard=None):
        """As :meth:`bptt.train.SeqData.train_step`; with ``shard=(lo, hi)`` the streams ``lo..hi-1``
        (``carry`` is the whole minibatch's; the carry returned is the shard's rows)."""
        x, y = self._xy(desc)
        masks = None
        if shard is not None:
            lo, hi = shard
            if dropout:  # drawn for the whole minibatch (the steps with a gradient), as one process draws them
                from .train import shard_masks
                k2 = self.bptt_steps or x.shape[1]
                masks = shard_masks(model.dropout_masks(Batch(x=x[:, x.shape[1] - k2:]), dropout, rng), lo, hi)
            x, y = x[lo:hi], y[lo:hi]
            if carry is not None:
                carry = carry[..., lo:hi, :]
        k1 = x.shape[1]
        k2 = self.bptt_steps or k1
        s = carry if self.stateful else None
        if k2 < k1:  # truncated BPTT(k1, k2): the first k1 - k2 steps only advance the state
            _, caches = model.forward(x[:, : k1 - k2], s_init=s, check=False)
            s = caches["final"]
            x, y = x[:, k1 - k2 :], y[:, k1 - k2 :]
        loss, grads, s_T = model.loss_and_grads(Batch(x=x, y=y), check=False, s_init=s, return_state=True,
                                                frozen=frozen, dropout=dropout, rng=rng, drop_masks=masks)
        return loss, grads, (s_T if self.stateful else None), x.shape[0], x.size

    def _eval_chunks(self, batch_size: int):
        """``(x, y, carry_state)`` chunks covering the text once: side-by-side streams read window by
        window with the state carried (stateful), or independent windows of 256 at a time."""
        if self.stateful:
            ids, B, L = self._streams(batch_size)
            streams = np.stack([ids[b * L : b * L + L + 1] for b in range(B)])  # [B, L + 1]
            for start in range(0, L, self.window):
                stop = min(start + self.window, L)
                yield streams[:, start:stop], streams[:, start + 1 : stop + 1], True
        else:
            m = (self.ids.shape[0] - 1) // self.window
            for i in range(0, m, 256):
                yield (*self._xy(("w", np.arange(i, min(i + 256, m)))), False)

    def evaluate(self, model: Model, batch_size: int | None = None, *, part=None, reduce=None) -> dict:
        """Mean loss (nats per token), perplexity, next-token accuracy (and bits per token).

        ``part=(k, n)`` evaluates only process k's share of the text: of side-by-side streams, the
        streams ``lo..hi-1`` of an even cut into n (each stream keeps its carried state), else the
        chunks ``k, k + n, ...``; ``reduce`` (an allreduce-sum, bptt.distributed) adds the shares, so
        that every process gets the figures of the whole text (equal to one process's up to the
        rounding of the sum, ~1e-16 relative)."""
        sums = np.zeros(3)  # loss x tokens, tokens right, tokens
        s = None
        streams = None
        for i, (x, y, carry) in enumerate(self._eval_chunks(batch_size or self.batch_size)):
            if part is not None:
                if carry:  # this process's streams, at every chunk
                    if streams is None:
                        streams = shard_range(int(x.shape[0]), part[0], part[1])
                    x, y = x[streams[0]:streams[1]], y[streams[0]:streams[1]]
                    if x.shape[0] == 0:
                        break
                elif i % part[1] != part[0]:
                    continue
            logits, caches = model.forward(x, s_init=s, check=False)
            if carry:
                s = caches["final"]
            loss, _ = softmax_cross_entropy(logits, y, check=False)
            sums += (float(loss) * y.size, int((to_numpy(logits).argmax(-1) == y).sum()), y.size)
        if reduce is not None:
            sums = np.asarray(reduce(sums), dtype=np.float64)
        total, right, n = float(sums[0]), int(sums[1]), int(sums[2])
        mean = total / n
        out = {"n": n, "loss": mean, "perplexity": math.exp(min(mean, 700.0)), "accuracy": right / n}
        if self.bits:
            out["bits_per_char"] = mean / math.log(2)
        return out


def read_text(path) -> str:
    """A UTF-8 text file; errors name the file (and the line of a bad byte)."""
    from .data.files import DataError, read_utf8

    text = read_utf8(path)
    if not text.strip():
        raise DataError(f"{path}: the text is empty")
    return text.replace("\r\n", "\n")


def unigram_perplexity(counts, test_ids) -> float:
    """Perplexity on ``test_ids`` of the add-one-smoothed unigram model with training ``counts`` [V]."""
    counts = np.asarray(counts, dtype=np.float64) + 1.0
    logp = np.log(counts / counts.sum())
    return float(np.exp(-logp[np.asarray(test_ids)].mean()))


MAX_GENERATE = 1_000_000  # tokens one call samples


def generate(model: Model, prompt_ids, length: int, *, temperature: float = 1.0,
             rng: np.random.Generator, skip_ids=(0, 1)) -> list:
    """Sample ``length`` token ids after ``prompt_ids`` (temperature 0: the most likely token).

    ``skip_ids`` (default: pad and unknown) are never sampled."""
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or not 0 <= length <= MAX_GENERATE:
        raise ValueError(f"length must be an integer 0..{MAX_GENERATE:,} (one step each: more is a hang, "
                         f"not a sample), got {length!r}")
    if not 0 <= temperature < math.inf:
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
    rng = _checks.as_rng(rng)
    if model.config.head != "many_to_many" or model.config.vocab_size != model.config.output_size:
        raise ValueError("model must be a language model (token ids in, the next token's logits at every step: "
                         f"head='many_to_many', output_size = vocab_size), got head={model.config.head!r}, "
                         f"vocab_size={model.config.vocab_size}, output_size={model.config.output_size}")
    prompt = np.asarray(prompt_ids)
    if prompt.ndim != 1 or prompt.size == 0 or not np.issubdtype(prompt.dtype, np.integer):
        raise ValueError(f"prompt_ids must be a non-empty list of token ids, got {prompt_ids!r:.80}")
    logits, caches = model.forward(prompt.astype(np.int64)[None, :])  # checks the ids against the vocabulary
    s = caches["final"]
    out = []
    last = to_numpy(logits)[0, -1].astype(np.float64)
    banned = [i for i in skip_ids if 0 <= i < last.shape[0]]
    for _ in range(length):
        last[banned] = -np.inf  # never emit pad or unknown
        with np.errstate(over="ignore"):
            z = last / temperature if temperature > 0 else None
        if z is None or not np.isfinite(z.max()):  # 0, or so small that the scaled logits overflow: greedy
            k = int(np.argmax(last))
        else:
            p = np.exp(z - z.max())
            p /= p.sum()
            k = int(rng.choice(p.shape[0], p=p))
        out.append(k)
        logits, caches = model.forward(np.array([[k]], dtype=np.int64), s_init=s, check=False)
        s = caches["final"]
        last = to_numpy(logits)[0, -1].astype(np.float64)
    return out
