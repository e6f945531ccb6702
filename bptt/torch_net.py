"""A bptt model as a ``torch.nn.Module``, from the safetensors file that ``bptt export`` writes.

This file needs PyTorch alone (not bptt, not the safetensors package): copy it into a project
that uses PyTorch, or import it as ``bptt.torch_net`` where bptt is installed (bptt itself never
imports it; PyTorch is no dependency of bptt)::

    from bptt.torch_net import load
    net = load("model.safetensors")                 # eval mode, the model's dtype
    ids, lengths = net.encode(["0110", "10"])       # the model's tokenizer and vocabulary (or its numbers)
    logits, state = net(ids, lengths)               # [B, O] (classify) or [B, T, O] (tag, lm)
    probs = net.output(logits)                      # f_o: softmax / sigmoid, or regress's numbers

``Net`` is ``torch.nn.Embedding`` -> ``torch.nn.RNN`` / ``GRU`` / ``LSTM`` (``batch_first``,
``num_layers``, ``bidirectional``) -> ``torch.nn.Linear``.  Rows of different lengths are run
through ``pack_padded_sequence``, so each row's outputs and final states are those of its
sequence alone, as in bptt.  A many-to-one head reads the top layer's ``h_n``: the forward
direction's state after each row's last real step and, for a bidirectional layer, the reverse
direction's after its first.  ``s0`` / ``c0`` (``[L*K, H]``) are the learned initial states, when
the model has them.  Layers of kind ``layer_norm`` added at a point of the chain (``bptt train
--add-layer layer_norm@input|states|head``) are ``torch.nn.LayerNorm`` in ``net.norms``, applied
where bptt applies them: to the embedded input, to the top layer's states at every step (a
many-to-one head then reads them at each row's real ends), or to what the head reads.
"""

from __future__ import annotations

import json
import re

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["Net", "load", "read_safetensors"]

FORMAT = "bptt-torch"
_DTYPES = {"F32": torch.float32, "F64": torch.float64}
_ENGLISH = re.compile(r"[a-z0-9]+(?=n't)|n't|'[a-z]+|[a-z0-9]+|[^\sa-z0-9]")  # bptt.data.files' "english"
_WORDS = []  # bptt.data.files' "words" pattern, built on first use (this file needs PyTorch alone)


def _words(text):
    """bptt.data.files' "words" tokens of lower-cased ``text``."""
    if text.isascii():  # the same tokens as "english" on ASCII text
        return _ENGLISH.findall(text)
    if not _WORDS:
        import sys
        import unicodedata
        codes = [i for i in range(0x300, sys.maxunicode + 1) if unicodedata.category(chr(i))[0] == "M"]
        spans = []  # the combining marks, which belong to their word, as ranges
        for i in codes:
            if spans and i == spans[-1][1] + 1:
                spans[-1][1] = i
            else:
                spans.append([i, i])
        marks = "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in spans)
        w, letters = f"[\\w{marks}]", f"(?:[^\\W\\d_]|[{marks}])"
        _WORDS.append(re.compile(f"{w}+(?=n't)|n't|'{letters}+|{w}+|\\S"))
    return _WORDS[0].findall(text.replace("_", " _ "))


_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")  # bptt.data.files.decimal's
MAX_HEADER = 100 << 20


def read_safetensors(path) -> tuple[dict, dict]:
    """``(tensors, metadata)`` of a safetensors file holding float32/float64 arrays, checked before use."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path!r} is not a safetensors file (shorter than its 8-byte header size)")
    n = int.from_bytes(blob[:8], "little")
    if n > min(MAX_HEADER, len(blob) - 8):
        raise ValueError(f"{path!r} is not a safetensors file, or is truncated (header of {n} bytes)")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path!r} has a damaged safetensors header: {e}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path!r} has a damaged safetensors header (not a JSON object)")
    data, meta, tensors = memoryview(blob)[8 + n:], header.pop("__metadata__", {}) or {}, {}
    for name, spec in header.items():
        try:
            dtype, shape, (start, end) = _DTYPES[spec["dtype"]], [int(s) for s in spec["shape"]], spec["data_offsets"]
            count = 1
            for s in shape:
                count *= s
            ok = min(shape, default=0) >= 0 and 0 <= start <= end <= len(data) \
                and end - start == count * (8 if dtype == torch.float64 else 4)
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{path!r}: tensor {name!r} has a damaged entry {spec!r} (bptt exports float32 "
                             f"or float64 arrays)") from None
        if not ok:
            raise ValueError(f"{path!r}: tensor {name!r} ({spec}) does not fit the file's {len(data)} data bytes")
        t = torch.frombuffer(bytearray(data[start:end]), dtype=dtype) if count else torch.zeros(0, dtype=dtype)
        tensors[name] = t.reshape(shape)
    return tensors, meta


class Net(nn.Module):
    """bptt's model of ``config`` (a ``ModelConfig`` as a dict) in PyTorch's layers; ``meta``: the
    model file's metadata (``vocab``, ``labels``, ``tokenizer``, ``target_mean`` / ``target_sd``, ...)."""

    def __init__(self, config: dict, meta: dict | None = None):
        super().__init__()
        c = self.config = dict(config)
        self.meta = dict(meta or {})
        dtype = _DTYPES["F64" if c.get("dtype") == "float64" else "F32"]
        H, L, K = c["hidden_size"], c["num_layers"], 2 if c["bidirectional"] else 1
        self.embedding = None
        if c.get("vocab_size") is not None:
            self.embedding = nn.Embedding(c["vocab_size"], c["embed_dim"], padding_idx=c["pad_id"], dtype=dtype)
        D = c["embed_dim"] if self.embedding is not None else c["input_size"]
        self.norms, self.at = nn.ModuleDict(), {"input": [], "states": [], "head": []}
        for spec in c.get("extra_layers") or ():  # named as bptt names them: kind, point, index at the point
            at = spec.get("at") if isinstance(spec, dict) else None
            if at not in self.at or spec.get("kind") != "layer_norm":
                raise ValueError(f"an added layer {spec!r} is not one that a Net has (layer_norm at input, states "
                                 f"or head)")
            name = f"layer_norm_{at}{len(self.at[at])}"
            self.norms[name] = nn.LayerNorm(D if at == "input" else K * H, eps=spec.get("eps", 1e-5), dtype=dtype)
            self.at[at].append(name)
        kind = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[c["cell"]]
        kw = {"nonlinearity": c["activation"]} if c["cell"] == "rnn" else {}
        self.rnn = kind(D, H, num_layers=L, bidirectional=K == 2, batch_first=True, dtype=dtype, **kw)
        self.s0 = self.c0 = None
        if c["learn_s0"]:
            self.s0 = nn.Parameter(torch.zeros(L * K, H, dtype=dtype))
            if c["cell"] == "lstm":
                self.c0 = nn.Parameter(torch.zeros(L * K, H, dtype=dtype))
        self.out = nn.Linear(K * H, c["output_size"], dtype=dtype)

    def forward(self, x, lengths=None, state=None):
        """``x``: token ids ``[B, T]`` (or floats ``[B, T, D]``), ``lengths`` ``[B]`` (None: every row
        ``T`` long), ``state``: ``h_0`` ``[L*K, B, H]`` (a tuple ``(h_0, c_0)`` for the LSTM; None: the
        learned ``s0`` / ``c0``, or zeros).  Returns ``(outputs, state)``: the head's logits ``[B, O]``
        for a many-to-one model, ``[B, T, O]`` for a many-to-many one (rows past their length hold
        the output of a zero state), and ``h_n`` (``(h_n, c_n)``) to carry on."""
        c = self.config
        B, T = int(x.shape[0]), int(x.shape[1])
        h = self._norms(self.embedding(x) if self.embedding is not None else x, "input")
        if state is None and self.s0 is not None:
            state = self.s0[:, None, :].expand(-1, B, -1).contiguous()
            if self.c0 is not None:
                state = (state, self.c0[:, None, :].expand(-1, B, -1).contiguous())
        seq = h
        if lengths is not None:
            lengths = torch.as_tensor(lengths, dtype=torch.int64).cpu()
            seq = pack_padded_sequence(h, lengths, batch_first=True, enforce_sorted=False)
        y, state = self.rnn(seq, state)
        H, K = c["hidden_size"], 2 if c["bidirectional"] else 1
        if c["head"] == "many_to_one" and not self.at["states"]:
            h_n = state[0] if isinstance(state, tuple) else state
            z = h_n[-K:].transpose(0, 1).reshape(B, K * H)  # the top layer's [s^T, r^1]
        else:
            z = pad_packed_sequence(y, batch_first=True, total_length=T)[0] if lengths is not None else y
            z = self._norms(z, "states")
            if c["head"] == "many_to_one":  # the normalised states at each row's real ends: s^T and r^1
                last = (lengths if lengths is not None else torch.full((B,), T)) - 1
                z = torch.cat([z[torch.arange(B), last, :H], z[:, 0, H:]], dim=1) if K == 2 else \
                    z[torch.arange(B), last]
        return self.out(self._norms(z, "head")), state

    def _norms(self, x, point):
        for name in self.at[point]:
            x = self.norms[name](x)
        return x

    def output(self, logits):
        """``f_o`` of the model's loss: softmax probabilities, sigmoid probabilities, or for a
        regression (``bptt train --task regress``) the numbers in the data's units."""
        loss = self.config["loss"]
        if loss == "softmax":
            return torch.softmax(logits, dim=-1)
        if loss == "sigmoid":
            return torch.sigmoid(logits)
        if "target_mean" in self.meta:  # the targets were standardised for training
            mean = torch.as_tensor(self.meta["target_mean"], dtype=logits.dtype)
            sd = torch.as_tensor(self.meta["target_sd"], dtype=logits.dtype)
            return logits * sd + mean
        return logits

    def tokens(self, text: str) -> list:
        mode = self.meta.get("tokenizer", "space")
        if mode == "chars":
            return list(text)
        if mode == "commas":  # a list: a,b,c / [0.5, 1.2] / ['x', 'y']
            s = text.strip()
            s = s[1:-1] if len(s) >= 2 and s[0] == "[" and s[-1] == "]" else s
            parts = [p.strip() for p in s.split(",")] if s.strip() else []
            parts = parts[:-1] if len(parts) > 1 and not parts[-1] else parts
            return [p[1:-1] if len(p) >= 2 and p[0] == p[-1] and p[0] in "'\"" else p for p in parts]
        if mode in ("words", "english"):
            text = text.lower().replace("''", '"').replace("``", '"')
            return _words(text) if mode == "words" else _ENGLISH.findall(text)
        return text.split()

    def encode(self, texts) -> tuple:
        """``(ids [B, T], lengths [B])`` of ``texts`` by the model's tokenizer and vocabulary (an
        unknown token is ``<unk>``); padded with ``pad_id``.  For a model of numbers (``bptt train
        --inputs numbers``) the standardised steps ``[B, T, D]`` instead."""
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts) or not len(texts):
            raise ValueError(f"texts must be a non-empty list of strings, got {str(texts)[:80]!r}")
        if self.meta.get("inputs") == "numbers":
            return self._encode_numbers(texts)
        vocab = self.meta.get("vocab")
        if not vocab or self.embedding is None:
            raise ValueError("this model reads float vectors [B, T, D], not tokens: give them to it as they are")
        index = {t: i for i, t in enumerate(vocab)}
        unk = index.get("<unk>", 1)
        rows = [[index.get(t, unk) for t in self.tokens(s)] for s in texts]
        for i, r in enumerate(rows):
            if not r:
                raise ValueError(f"text {i} ({texts[i]!r}) has no tokens")
        T = max(len(r) for r in rows)
        ids = torch.full((len(rows), T), self.config["pad_id"], dtype=torch.int64)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r, dtype=torch.int64)
        return ids, torch.tensor([len(r) for r in rows], dtype=torch.int64)


    def _encode_numbers(self, texts) -> tuple:
        """A model trained with ``--inputs numbers``: each step a number or D numbers joined by commas,
        standardised by the training file's ``input_mean`` / ``input_sd`` -> ``(x [B, T, D], lengths [B])``."""
        mean, sd = self.meta["input_mean"], self.meta["input_sd"]
        D, rows = len(mean), []
        for i, text in enumerate(texts):
            items = self.tokens(text) if self.meta.get("tokenizer") == "commas" else text.split()  # a list: a step an item
            steps = [tok.split(",") for tok in items]
            if not all(_NUMBER.fullmatch(v) for s in steps for v in s):  # not 1_000, nan or other scripts' digits
                raise ValueError(f"text {i} ({text[:40]!r}) holds a step that is not a finite number")
            steps = [[float(v) for v in s] for s in steps]
            if not steps or any(len(s) != D for s in steps):
                raise ValueError(f"text {i} ({text[:40]!r}) needs one or more steps of {D} number(s) each")
            rows.append([[(v - m) / d for v, m, d in zip(s, mean, sd)] for s in steps])
        T = max(len(r) for r in rows)
        x = torch.zeros(len(rows), T, D, dtype=self.out.weight.dtype)
        for i, r in enumerate(rows):
            x[i, :len(r)] = torch.tensor(r, dtype=x.dtype)
        return x, torch.tensor([len(r) for r in rows], dtype=torch.int64)


def load(path) -> Net:
    """The :class:`Net` of a file written by ``bptt export`` (``bptt.export.write_torch``), in eval mode."""
    tensors, meta = read_safetensors(path)
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path!r} is a safetensors file but not one that bptt export wrote "
                         f"(metadata format {meta.get('format')!r})")
    net = Net(json.loads(meta["bptt_config"]), json.loads(meta.get("bptt_meta", "{}")))
    net.load_state_dict(tensors, strict=True)
    return net.eval()
