"""Models that leave bptt: a model's weights in PyTorch's names, in a safetensors file.

``torch_tensors(model)`` gives the parameters as the state dict of :class:`bptt.torch_net.Net`
(``torch.nn.Embedding`` -> ``torch.nn.RNN`` / ``GRU`` / ``LSTM`` -> ``torch.nn.Linear``);
``write_torch(path, model, meta)`` writes them with the model's config and metadata into a
`safetensors <https://huggingface.co/docs/safetensors>`_ file (a JSON header and the raw
little-endian arrays: no pickle), which ``bptt/torch_net.py`` -- a file that needs PyTorch alone
-- loads as a ``torch.nn.Module``.  ``bptt export`` is the command line's way to it.

The mapping (the one the PyTorch parity tests use)::

    weight_ih_lk = W_s_lk[H:].T        weight_hh_lk = W_s_lk[:H].T        (state rows first in W_s)
    bias_ih_lk   = b_s_lk              bias_hh_lk   = 0,  for the GRU [0, 0, b_hn_lk]
    embedding.weight = E               out.weight = W_o.T,  out.bias = b_o
    s0 [L*K, H] (and c0 for the LSTM): the learned initial states, h_0 (and c_0) of every row

with ``_lk`` PyTorch's suffix of layer k (``_l0_reverse`` its reverse direction); a one-layer model's
``W_s``, ``b_s``, ``s0`` are ``_l0``'s.  What PyTorch's layers cannot express is refused by name:
``activation`` sigmoid or identity (``torch.nn.RNN`` has tanh and relu) and layers of other kinds
(``extra_layers``).  Dropout is a training-time matter and is not part of the file.
"""

from __future__ import annotations

import json

import numpy as np

from . import stack
from ._xp import to_numpy
from .checkpoint import atomic_write_bytes
from .model import Model

__all__ = ["torch_tensors", "write_torch", "is_export_file", "FORMAT"]

FORMAT = "bptt-torch"  # the safetensors metadata's "format": what bptt/torch_net.py reads
_DTYPES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64"}


def _exportable(model: Model) -> None:
    c = model.config
    if c.extra_layers:
        kinds = [f"{s.get('kind')}@{s.get('at')}" for s in c.extra_layers]
        raise ValueError(f"the model has layers of other kinds ({', '.join(kinds)}), which the PyTorch "
                         f"module of bptt/torch_net.py does not have; only embedding -> recurrent layers -> "
                         f"dense head models export")
    if c.cell == "rnn" and c.activation not in ("tanh", "relu"):
        raise ValueError(f"activation={c.activation!r}: torch.nn.RNN has tanh and relu only, so this model "
                         f"does not export")


def torch_tensors(model: Model) -> dict:
    """The parameters of ``model`` as NumPy arrays under the names of :class:`bptt.torch_net.Net`'s
    state dict (module docstring); ValueError names what PyTorch's layers cannot express."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a bptt.Model, got {type(model).__name__}")
    _exportable(model)
    c, p = model.config, {k: np.ascontiguousarray(to_numpy(v)) for k, v in model.params.items()}
    H = c.hidden_size
    out = {}
    if c.vocab_size is not None:
        out["embedding.weight"] = p["E"]
    suffixes = stack._suffixes(c.num_layers, c.bidirectional)  # l0, l0_reverse, l1, ...: h_n's order
    s0, c0 = [], []
    for sfx in suffixes:
        name = (lambda k: k) if not c.stacked else (lambda k, sfx=sfx: f"{k}_{sfx}")
        W, b = p[name("W_s")], p[name("b_s")]
        out[f"rnn.weight_ih_{sfx}"] = np.ascontiguousarray(W[H:].T)  # the input rows, [G*H, D]
        out[f"rnn.weight_hh_{sfx}"] = np.ascontiguousarray(W[:H].T)  # the state rows, [G*H, H]
        out[f"rnn.bias_ih_{sfx}"] = b.copy()
        b_hh = np.zeros_like(b)
        if c.cell == "gru":
            b_hh[2 * H:] = p[name("b_hn")]  # the bias inside r * (...): PyTorch's bias_hh_n
        out[f"rnn.bias_hh_{sfx}"] = b_hh
        if c.learn_s0:
            s0.append(p[name("s0")])
            if c.cell == "lstm":
                c0.append(p[name("c0")])
    if s0:
        out["s0"] = np.stack(s0)  # [L*K, H], in h_n's order
    if c0:
        out["c0"] = np.stack(c0)
    out["out.weight"] = np.ascontiguousarray(p["W_o"].T)  # [O, I]
    out["out.bias"] = p["b_o"].copy()
    return out


def _safetensors_bytes(tensors: dict, metadata: dict) -> tuple[bytes, list]:
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        data = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)  # the arrays start 8-byte aligned, as the format advises
    return len(head).to_bytes(8, "little") + head, blobs


def write_torch(path, model: Model, meta: dict | None = None) -> dict:
    """Write ``model`` to ``path`` as a safetensors file for :func:`bptt.torch_net.load`, atomically;
    ``meta`` (the model file's: vocabulary, labels, tokenizer, ...) goes into its metadata as JSON.
    Returns the tensors written."""
    tensors = torch_tensors(model)
    try:
        metadata = {"format": FORMAT, "bptt_config": json.dumps(model.config.to_dict(), allow_nan=False),
                    "bptt_meta": json.dumps(meta or {}, ensure_ascii=False, allow_nan=False)}
    except (TypeError, ValueError) as e:
        raise ValueError(f"meta must be plain JSON data (str, numbers, lists, dicts): {e}") from None
    head, blobs = _safetensors_bytes(tensors, metadata)

    def write(f):
        f.write(head)
        for b in blobs:
            f.write(b)

    atomic_write_bytes(path, write)
    return tensors


def is_export_file(path) -> bool:
    """Whether ``path`` is a safetensors file that :func:`write_torch` wrote (what an export may replace)."""
    try:
        with open(path, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            if not 2 <= n <= 100 << 20:
                return False
            header = json.loads(f.read(n).decode("utf-8"))
        return isinstance(header, dict) and (header.get("__metadata__") or {}).get("format") == FORMAT
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return False
