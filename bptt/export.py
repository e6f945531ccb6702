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
``W_s``, ``b_s``, ``s0`` are ``_l0``'s.  Layers added at a point of the chain (``extra_layers``,
``bptt train --add-layer``) export when they are of a kind listed in ``EXPORTED_KINDS``:
``layer_norm`` is ``torch.nn.LayerNorm`` (``norms.NAME.weight = NAME_g``, ``norms.NAME.bias =
NAME_b``, NAME as bptt names it: ``layer_norm_states0``, ...) and ONNX's ``LayerNormalization``.
What PyTorch's layers cannot express is refused by name: ``activation`` sigmoid or identity
(``torch.nn.RNN`` has tanh and relu) and added layers of other kinds.  Dropout is a training-time
matter and is not part of the file.

``write_onnx(path, model, meta)`` writes the same network as an ONNX graph (opset 17: ``Gather``
-> ``RNN`` / ``GRU`` / ``LSTM`` with ``sequence_lens`` -> ``MatMul`` + ``Add``), in float32 (ONNX
Runtime's recurrent operators have no float64), for ONNX Runtime and the tools around ONNX.  It
needs the ``onnx`` package (``pip install 'bptt[onnx]'``); bptt never needs it otherwise.  Its
inputs are ``x`` (token ids ``[B, T]`` int64, or floats ``[B, T, D]``) and ``lengths`` ``[B]``
int64; its output ``logits`` ``[B, O]`` or ``[B, T, O]``.  ONNX's gate orders differ from
PyTorch's: the LSTM's blocks i, f, g, o are written as ONNX's i, o, f, c, the GRU's r, z, n as
z, r, h (``linear_before_reset=1``: PyTorch's formulation).
"""

from __future__ import annotations

import json

import numpy as np

from . import stack
from ._xp import to_numpy
from .checkpoint import atomic_write_bytes
from .model import Model

__all__ = ["torch_tensors", "write_torch", "onnx_model", "write_onnx", "is_export_file", "FORMAT"]

FORMAT = "bptt-torch"  # the safetensors metadata's "format": what bptt/torch_net.py reads
_DTYPES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64"}
EXPORTED_KINDS = ("layer_norm",)  # added layers (extra_layers) that bptt/torch_net.py and the ONNX graph have


def _exportable(model: Model) -> None:
    c = model.config
    other = [f"{s.get('kind')}@{s.get('at')}" for s in c.extra_layers if s.get("kind") not in EXPORTED_KINDS]
    if other:
        raise ValueError(f"the model has added layers of a kind that does not export ({', '.join(other)}): the "
                         f"PyTorch module of bptt/torch_net.py and the ONNX graph have embedding -> recurrent "
                         f"layers -> dense head, with {', '.join(EXPORTED_KINDS)} at any point")
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
        lp = stack._layer_params(p, sfx, c.cell) if c.stacked else p  # this level's W_s, b_s, ... unsuffixed
        W, b = lp["W_s"], lp["b_s"]
        out[f"rnn.weight_ih_{sfx}"] = np.ascontiguousarray(W[H:].T)  # the input rows, [G*H, D]
        out[f"rnn.weight_hh_{sfx}"] = np.ascontiguousarray(W[:H].T)  # the state rows, [G*H, H]
        out[f"rnn.bias_ih_{sfx}"] = b.copy()
        b_hh = np.zeros_like(b)
        if c.cell == "gru":
            b_hh[2 * H:] = lp["b_hn"]  # the bias inside r * (...): PyTorch's bias_hh_n
        out[f"rnn.bias_hh_{sfx}"] = b_hh
        if c.learn_s0:
            s0.append(lp["s0"])
            if c.cell == "lstm":
                c0.append(lp["c0"])
    if s0:
        out["s0"] = np.stack(s0)  # [L*K, H], in h_n's order
    if c0:
        out["c0"] = np.stack(c0)
    out["out.weight"] = np.ascontiguousarray(p["W_o"].T)  # [O, I]
    out["out.bias"] = p["b_o"].copy()
    for layers in c._extras()[0].values():
        for layer in layers:  # layer_norm: torch.nn.LayerNorm's weight (the gain) and bias
            out[f"norms.{layer.name}.weight"] = p[f"{layer.name}_g"].copy()
            out[f"norms.{layer.name}.bias"] = p[f"{layer.name}_b"].copy()
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
    """Whether ``path`` is a file that :func:`write_torch` or :func:`write_onnx` wrote (what an export
    may replace)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            n = int.from_bytes(head, "little")
            if 2 <= n <= 100 << 20:  # a safetensors header
                header = json.loads(f.read(n).decode("utf-8"))
                return isinstance(header, dict) and (header.get("__metadata__") or {}).get("format") == FORMAT
        import onnx

        m = onnx.load_model(path, load_external_data=False)
        return any(p.key == "format" and p.value == FORMAT for p in m.metadata_props)
    except Exception:  # anything that is not such a file (onnx raises its own kinds of errors)
        return False

# ONNX's gate blocks, as indices into bptt's (= PyTorch's) blocks
_ONNX_ORDER = {"rnn": [0], "gru": [1, 0, 2], "lstm": [0, 3, 1, 2]}


def onnx_model(model: Model, meta: dict | None = None, carry_state: bool | None = None):
    """``model`` as an ``onnx.ModelProto`` (module docstring); ImportError names the extra to install.

    ``carry_state`` (None: for a language model, ``meta["task"] == "lm"``): the graph also takes the
    initial state ``h0`` ``[L*K, B, H]`` (and ``c0`` for the LSTM; it replaces a learned ``s0``) and
    gives the final one, ``h_n`` (``c_n``), so that a language model's text is read window after
    window as bptt's stateful training reads it."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        raise ImportError("writing ONNX needs the onnx package: pip install 'bptt[onnx]' (or pip install onnx)") \
            from None
    t = {k: v.astype(np.float32) for k, v in torch_tensors(model).items()}  # float32: see the docstring
    c = model.config
    if carry_state is None:
        carry_state = (meta or {}).get("task") == "lm"
    H, K = c.hidden_size, c.directions
    order = _ONNX_ORDER[c.cell]
    nodes, inits = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(op, ins, outs, **attrs):
        nodes.append(helper.make_node(op, ins, outs, name=f"{op}_{len(nodes)}", **attrs))
        return outs[0] if len(outs) == 1 else outs

    def blocks(a):  # [G*H, ...] in PyTorch's gate order -> ONNX's
        return np.concatenate([a[g * H:(g + 1) * H] for g in order], axis=0)

    extras = c._extras()[0]

    def norms(x, point):  # the layer_norm layers at ``point``, over the last axis of x
        for layer in extras[point]:
            n = layer.name
            x = node("LayerNormalization", [x, const(f"{n}.weight", t[f"norms.{n}.weight"]),
                                            const(f"{n}.bias", t[f"norms.{n}.bias"])], [f"{n}_out"],
                     axis=-1, epsilon=float(layer.eps))
        return x

    if c.vocab_size is not None:
        x_info = helper.make_tensor_value_info("x", TensorProto.INT64, ["batch", "time"])
        h = node("Gather", [const("embedding.weight", t["embedding.weight"]), "x"], ["embedded"])  # [B, T, D]
    else:
        x_info = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "time", c.input_size])
        h = "x"
    h = norms(h, "input")
    lens_info = helper.make_tensor_value_info("lengths", TensorProto.INT64, ["batch"])
    lens = node("Cast", ["lengths"], ["lengths_int32"], to=TensorProto.INT32)
    seq = node("Transpose", [h], ["time_major"], perm=[1, 0, 2])  # [T, B, D]: ONNX's layout 0
    parts = ("h", "c") if c.cell == "lstm" else ("h",)
    state_infos, finals = [], {p: [] for p in parts}
    if carry_state:
        for p in parts:
            state_infos.append(helper.make_tensor_value_info(f"{p}0", TensorProto.FLOAT, [c.num_layers * K, "batch", H]))
    elif c.learn_s0:
        batch = node("Shape", ["x"], ["batch_size"], start=0, end=1)
        one = const("one", np.array([1], np.int64))
        bcast = node("Concat", [one, batch, one], ["state_shape"], axis=0)  # [1, B, 1]
    suffixes = stack._suffixes(c.num_layers, c.bidirectional)
    Y_h = None
    for k in range(c.num_layers):
        sfx = suffixes[k * K:(k + 1) * K]
        W = np.stack([blocks(t[f"rnn.weight_ih_{s}"]) for s in sfx])  # [K, G*H, D_in]
        R = np.stack([blocks(t[f"rnn.weight_hh_{s}"]) for s in sfx])  # [K, G*H, H]
        B = np.stack([np.concatenate([blocks(t[f"rnn.bias_ih_{s}"]), blocks(t[f"rnn.bias_hh_{s}"])]) for s in sfx])
        ins = [seq, const(f"W_l{k}", W), const(f"R_l{k}", R), const(f"B_l{k}", B), lens]
        if carry_state:  # this layer's entries of h0 (and c0): [K, B, H]
            lo, hi = const(f"lo_l{k}", np.array([k * K], np.int64)), const(f"hi_l{k}", np.array([(k + 1) * K], np.int64))
            axis = const(f"axis0_l{k}", np.array([0], np.int64))
            ins += [node("Slice", [f"{p}0", lo, hi, axis], [f"{p}0_l{k}"]) for p in parts]
        elif c.learn_s0:
            for part in ("s0", "c0") if c.cell == "lstm" else ("s0",):
                init = const(f"{part}_l{k}", t[part][k * K:(k + 1) * K][:, None, :])  # [K, 1, H]
                ins.append(node("Expand", [init, bcast], [f"{part}_l{k}_rows"]))  # [K, B, H]
        attrs = {"hidden_size": H, "direction": "bidirectional" if K == 2 else "forward"}
        if c.cell == "rnn":
            attrs["activations"] = [c.activation.capitalize()] * K
        if c.cell == "gru":
            attrs["linear_before_reset"] = 1
        outs = node(c.cell.upper(), ins, [f"Y_l{k}", f"Y_h_l{k}"] + ([f"Y_c_l{k}"] if c.cell == "lstm" else []),
                    **attrs)  # [T, K, B, H], [K, B, H] (and the LSTM's c: [K, B, H])
        Y, Y_h = outs[0], outs[1]
        finals["h"].append(Y_h)
        if c.cell == "lstm":
            finals["c"].append(outs[2])
        both = node("Transpose", [Y], [f"Y_l{k}_tbkh"], perm=[0, 2, 1, 3])
        seq = node("Reshape", [both, const(f"tb_shape_l{k}", np.array([0, 0, -1], np.int64))], [f"states_l{k}"])
    flat = const("bk_shape", np.array([0, -1], np.int64)) if c.head == "many_to_one" else None
    if c.head == "many_to_one" and not extras["states"]:  # the top layer's [s^T, r^1]
        z = node("Transpose", [Y_h], ["finals_bkh"], perm=[1, 0, 2])
        z = node("Reshape", [z, flat], ["finals"])
    else:
        z = norms(node("Transpose", [seq], ["states"], perm=[1, 0, 2]), "states")  # [B, T, K*H]
        if c.head == "many_to_one":
            # the normalised states at each row's real ends: the forward half at its last step, the reverse
            # half at its first (a layer at "states" normalises both directions' states of a step together)
            last = node("Sub", ["lengths", const("one_i64", np.array(1, np.int64))], ["last_step"])  # [B]
            idx = node("Unsqueeze", [last, const("axes_12", np.array([1, 2], np.int64))], ["last_idx"])  # [B, 1, 1]
            batch_n = node("Shape", [z], ["z_batch"], start=0, end=1)
            width = const("one_and_width", np.array([1, K * H], np.int64))
            idx = node("Expand", [idx, node("Concat", [batch_n, width], ["gather_shape"], axis=0)], ["last_idx_rows"])
            ends = node("Reshape", [node("GatherElements", [z, idx], ["at_last"], axis=1), flat], ["at_last_rows"])
            if K == 2:
                axis1, zero = const("axis_1", np.array([1], np.int64)), const("zero_i64", np.array([0], np.int64))
                first = node("Reshape", [node("Slice", [z, zero, const("one_1", np.array([1], np.int64)), axis1],
                                              ["at_first"]), flat], ["at_first_rows"])
                mid, end = const("h_i64", np.array([H], np.int64)), const("2h_i64", np.array([2 * H], np.int64))
                ends = node("Concat", [node("Slice", [ends, zero, mid, axis1], ["fwd_last"]),
                                       node("Slice", [first, mid, end, axis1], ["rev_first"])], ["ends"], axis=1)
            z = ends
    if c.head == "many_to_one":
        out_info = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", c.output_size])
    else:
        out_info = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", "time", c.output_size])
    z = norms(z, "head")
    zw = node("MatMul", [z, const("out.weight_t", t["out.weight"].T.copy())], ["head"])
    node("Add", [zw, const("out.bias", t["out.bias"])], ["logits"])
    out_infos = [out_info]
    if carry_state:  # every layer's final state, in h0's order
        for p in parts:
            node("Concat", finals[p], [f"{p}_n"], axis=0)
            out_infos.append(helper.make_tensor_value_info(f"{p}_n", TensorProto.FLOAT, [c.num_layers * K, "batch", H]))
    graph = helper.make_graph(nodes, "bptt", [x_info, lens_info] + state_infos, out_infos, inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="bptt")
    m.ir_version = 8  # readable by ONNX Runtime 1.10 and later
    props = [("format", FORMAT), ("bptt_config", json.dumps(model.config.to_dict(), allow_nan=False)),
             ("bptt_meta", json.dumps(meta or {}, ensure_ascii=False, allow_nan=False))]
    if carry_state and c.learn_s0:  # what a first window starts from: h0 (c0) of one row, [L*K, H]
        props.append(("bptt_initial_state", json.dumps({f"{p}0": t[f"{'s' if p == 'h' else 'c'}0"].tolist()
                                                        for p in parts})))
    for key, value in props:
        m.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(m)
    return m


def write_onnx(path, model: Model, meta: dict | None = None, carry_state: bool | None = None):
    """Write :func:`onnx_model` to ``path`` atomically; returns the ``onnx.ModelProto``."""
    m = onnx_model(model, meta, carry_state)
    blob = m.SerializeToString()
    atomic_write_bytes(path, lambda f: f.write(blob))
    return m
