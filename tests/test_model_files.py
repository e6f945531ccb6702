"""Model files from someone else: every damaged, foreign or inconsistent file gets a ModelFileError
(or the command line's one-line error) naming the file, never another exception, never an allocation
beyond what the config implies, and never a pickle."""

import io
import json
import os
import tracemalloc
import zipfile

import numpy as np
import pytest

from bptt import checkpoint
from bptt.checkpoint import ModelFileError
from bptt.cli import main


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("m")
    tr = d / "tr.tsv"
    assert main(["data", "make", "parity", "--lengths", "1-6", "--n", "60", "--seed", "1", "--out", str(tr)]) == 0
    out = d / "m.bptt"
    assert main(["train", "--data", str(tr), "--valid", str(tr), "--task", "classify", "--out", str(out), "--epochs", "1",
                 "--hidden", "4", "--embed", "3", "--quiet", "--cell", "rnn"]) == 0  # the tutorial's names and shapes
    return out


def _members(path):
    with zipfile.ZipFile(path) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def _npy(a):
    b = io.BytesIO()
    np.save(b, a, allow_pickle=False)
    return b.getvalue()


def _head(path):
    return json.loads(np.load(io.BytesIO(_members(path)["__meta__.npy"])).tobytes())


def _write(path, members, compress=zipfile.ZIP_STORED, infos=None):
    with zipfile.ZipFile(path, "w", compress) as z:
        for name, data in members.items():
            info = (infos or {}).get(name) or zipfile.ZipInfo(name)
            info.compress_type = info.compress_type if infos and name in infos else compress
            z.writestr(info, data)
    return path


def _with_head(src, dst, change):
    m = _members(src)
    head = _head(src)
    change(head)
    m["__meta__.npy"] = _npy(np.frombuffer(json.dumps(head).encode(), np.uint8))
    return _write(dst, m)


def _npy_header(shape, descr="<f4"):
    h = {"descr": descr, "fortran_order": False, "shape": shape}
    text = repr(h).encode("latin1")
    text += b" " * (63 - (10 + len(text)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text


def _refused(path, *words):
    with pytest.raises(ModelFileError) as e:
        checkpoint.load(path)
    msg = str(e.value)
    assert str(path) in msg, msg
    for w in words:
        assert w in msg, msg
    return msg


@pytest.mark.parametrize("shape", [(10**6, 10**6), (10**50, 4), (7, 10**12)])
def test_a_huge_declared_shape_is_refused_before_any_allocation(tmp_path, model_file, shape):
    m = _members(model_file)
    m["param/W_s.npy"] = _npy_header(shape) + b"\0" * 64
    tracemalloc.start()
    _refused(_write(tmp_path / "huge.bptt", m), "W_s has shape")
    assert tracemalloc.get_traced_memory()[1] < 10 << 20
    tracemalloc.stop()


def test_a_compression_bomb_is_not_inflated(tmp_path, model_file):
    m = _members(model_file)
    W = np.load(io.BytesIO(m["param/W_s.npy"]))
    m["param/W_s.npy"] = _npy(W) + b"\0" * (64 << 20)  # the right header, then 64 MiB more (deflates to ~64 KiB)
    path = _write(tmp_path / "bomb.bptt", m, zipfile.ZIP_DEFLATED)
    assert os.path.getsize(path) < 1 << 20
    tracemalloc.start()
    _refused(path, "W_s", "damaged")
    assert tracemalloc.get_traced_memory()[1] < 10 << 20
    tracemalloc.stop()


@pytest.mark.parametrize("hidden", [300_000, 1_000_000])
def test_a_config_larger_than_memory_is_refused_before_any_weight_is_read(tmp_path, model_file, hidden, monkeypatch):
    """A config from elsewhere may declare weights of any size, each array's header agreeing with it (a
    true compression bomb: every check of a shape passes): the config's total is checked first."""
    path = _with_head(model_file, tmp_path / "big.bptt", lambda h: h["config"].update(hidden_size=hidden))
    tracemalloc.start()
    _refused(path, "declares a model of", f"hidden_size {hidden}", "GiB free")
    assert tracemalloc.get_traced_memory()[1] < 10 << 20
    tracemalloc.stop()
    assert checkpoint.load(model_file)  # the same model at its real size loads; and with too little memory, not:
    monkeypatch.setattr(checkpoint.memory, "available_bytes", lambda device="cpu": 10)
    _refused(model_file, "declares a model of", "this machine has 0.0 MiB free")


def test_encrypted_and_unsupported_compression_entries(tmp_path, model_file):
    m = _members(model_file)
    raw = bytearray(open(_write(tmp_path / "plain.bptt", m), "rb").read())
    name = b"param/b_s.npy"
    for sig, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):  # local and central headers
        at = raw.find(sig)
        while at >= 0:
            if raw[at + name_at : at + name_at + len(name)] == name:
                raw[at + flag_at] |= 0x1  # the "encrypted" flag
            at = raw.find(sig, at + 1)
    (tmp_path / "enc.bptt").write_bytes(bytes(raw))
    _refused(tmp_path / "enc.bptt", "encrypted")
    _refused(_write(tmp_path / "bz.bptt", m, zipfile.ZIP_BZIP2), "unsupported compression")


def test_pickles_are_never_loaded(tmp_path, model_file):
    m = _members(model_file)
    b = io.BytesIO()
    np.save(b, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    m["param/b_s.npy"] = b.getvalue()
    _refused(_write(tmp_path / "pickle.bptt", m), "pickle")


class _Trap:
    """Unpickling this writes a file: a loader that ran a pickle would leave it behind."""
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_files_from_elsewhere_are_named_for_what_they_are(tmp_path, model_file, capsys):
    """The files a user may pass as --model by mistake (bptt export's own outputs, PyTorch's and Keras'
    weights, a pickle, a data file, a gzip of a model, an empty or cut-short file) are each refused in
    one line that says what the file is; no pickle inside them is ever run."""
    import gzip
    import pickle

    import torch
    raw = open(model_file, "rb").read()
    trap = tmp_path / "unpickled"
    files = {
        "export.safetensors": None, "export.onnx": None,
        "state.pt": None, "weights.pkl": pickle.dumps(_Trap(str(trap))),
        "weights.h5": b"\x89HDF\r\n\x1a\n" + bytes(200),
        "train.tsv": "0110\t0\n1\t1\n".encode(), "m.bptt.gz": gzip.compress(raw),
        "empty.bptt": b"", "cut.bptt": raw[: len(raw) // 2],
        "other.safetensors": (17).to_bytes(8, "little") + b'{"w":{"dtype":1}}',
    }
    for name, data in files.items():
        if data is not None:
            (tmp_path / name).write_bytes(data)
    for fmt in ("safetensors", "onnx"):
        assert main(["export", "--model", str(model_file), "--out", str(tmp_path / f"export.{fmt}")]) == 0
    torch.save({"net": _Trap(str(trap)), "w": torch.zeros(3)}, tmp_path / "state.pt")
    capsys.readouterr()
    expect = {
        "export.safetensors": "a safetensors file written by bptt export for PyTorch; bptt evaluate, predict",
        "export.onnx": "an ONNX model written by bptt export; bptt evaluate, predict",
        "state.pt": "is a PyTorch file (torch.save;", "weights.pkl": "a Python pickle",
        "weights.h5": "an HDF5 file", "train.tsv": "a text file (a data file?)",
        "m.bptt.gz": "gzip-compressed", "empty.bptt": "it is empty (0 bytes)",
        "cut.bptt": "a zip archive cut short", "other.safetensors": "a safetensors file (weights for PyTorch",
    }
    for name, words in expect.items():
        p = tmp_path / name
        _refused(p, words)
        assert main(["predict", "--model", str(p), "0110"]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and words in err and "Traceback" not in err, err
    assert not trap.exists()


@pytest.mark.parametrize("change,words", [
    (lambda m: m.update({"__meta__.npy": b'{"format": "bptt-model"}'}), ["damaged"]),  # raw JSON, not .npy
    (lambda m: m.update({"__meta__.npy": _npy(np.zeros(3, np.float32))}), ["__meta__"]),
    (lambda m: m.update({"extra.npy": _npy(np.zeros(2))}), ["unexpected arrays"]),
    (lambda m: m.update({"notes.txt": b"hi"}), ["unexpected or repeated entry"]),
    (lambda m: m.pop("param/W_o.npy"), ["missing the array 'W_o'"]),
    (lambda m: m.update({"param/b_s.npy": _npy(np.zeros(4, ">f4"))}), ["dtype >f4"]),
    (lambda m: m.update({"param/b_s.npy": _npy(np.full(4, np.nan, np.float32))}), ["NaN"]),
])
def test_foreign_or_damaged_entries(tmp_path, model_file, change, words):
    m = _members(model_file)
    change(m)
    _refused(_write(tmp_path / "x.bptt", m), *words)


@pytest.mark.parametrize("change,words", [
    (lambda h: h.update({"meta": [1, 2]}), ["'meta' of type list"]),
    (lambda h: h.update({"config": "W_s"}), ["no config"]),
    (lambda h: h.update({"__meta__": {"format": "bptt-model"}, "format": None}), ["format None"]),
    (lambda h: h.update({"version": 99}), ["version 99"]),
    (lambda h: h["config"].update({"pad_id": float("nan")}), ["pad_id"]),
    (lambda h: h["config"].update({"pad_id": "0"}), ["pad_id"]),
    (lambda h: h["config"].update({"hidden_size": 5}), ["shape"]),
    (lambda h: h["config"].update({"colour": "red"}), ["unknown model config key"]),
    (lambda h: h.update({"has_opt": True, "opt_scalars": [1]}), ["optimiser scalars"]),
    (lambda h: h.update({"has_opt": True, "opt_scalars": {"t": -3}}), ["t = -3"]),
])
def test_bad_metadata(tmp_path, model_file, change, words):
    _refused(_with_head(model_file, tmp_path / "x.bptt", change), *words)


def test_optimiser_state_is_checked(tmp_path, model_file):
    last = str(model_file) + ".last"
    ck = checkpoint.load(last)
    assert "m.W_s" in ck.opt_state  # Adam's moments travel with the resumable state
    m = _members(last)
    m["opt/m.W_s.npy"] = _npy(np.zeros((3, 3), np.float32))
    _refused(_write(tmp_path / "o1.bptt", m), "m.W_s has shape")
    m = _members(last)
    m["opt/secret.npy"] = _npy(np.zeros(3, np.float32))
    _refused(_write(tmp_path / "o2.bptt", m), "unknown optimiser array 'secret'")
    m = _members(last)
    m["opt/carry.npy"] = _npy(np.zeros((2, 9), np.float32))
    _refused(_write(tmp_path / "o3.bptt", m), "carry has shape")


@pytest.mark.parametrize("change,words", [
    (lambda h: h["meta"].update({"task": "regression"}), ["task 'regression'"]),
    (lambda h: h["meta"].update({"task": "regress"}), ["a regress model needs an mse head", "loss 'softmax'"]),
    (lambda h: h["meta"].update({"vocab": h["meta"]["vocab"] + ["2", "3"]}), ["embedding has"]),
    (lambda h: h["meta"].update({"vocab": ["a", "b"] + h["meta"]["vocab"][2:]}), ["<pad>"]),
    (lambda h: h["meta"].update({"labels": ["0", "1", "2"]}), ["output layer"]),
    (lambda h: h["meta"].update({"labels": "01"}), ["labels is not a list"]),
    (lambda h: h["meta"].update({"tokenizer": "bytes"}), ["tokenizer 'bytes'"]),
    (lambda h: h["meta"].update({"text_col": 3}), ["text_col 3 is not the name of a column"]),
    (lambda h: h["meta"].update({"text_col": " "}), ["text_col ' ' is not the name of a column"]),
    (lambda h: h["config"].update({"head": "many_to_many"}), ["head 'many_to_many'"]),
    (lambda h: h["config"].update({"loss": "mse", "output_size": 2}), ["loss 'mse'"]),
])
def test_metadata_that_disagrees_with_the_config_is_refused_by_the_commands(tmp_path, model_file, capsys, change,
                                                                             words):
    bad = _with_head(model_file, tmp_path / "x.bptt", change)
    for argv in (["predict", "--model", str(bad), "0110"], ["evaluate", "--model", str(bad), "--data", str(bad)]):
        rc = main(argv)
        err = capsys.readouterr().err
        assert rc == 2 and str(bad) in err and "Traceback" not in err, err
        for w in words:
            assert w in err, err


def test_mutated_files_fuzz(tmp_path, model_file, capsys):
    """500 seeded mutations of a real model file (truncations, byte flips, spliced bytes, zeroed runs):
    each loads as a usable model or is refused with ModelFileError; 60 of them also go through
    `bptt predict` (exit 0 or 2, one line, no traceback) and leave no file behind."""
    raw = open(model_file, "rb").read()
    rng = np.random.default_rng(0)
    outcomes = {"loaded": 0, "refused": 0}
    before = set(os.listdir(tmp_path))
    for i in range(500):
        b = bytearray(raw)
        kind = i % 4
        if kind == 0:
            b = b[: int(rng.integers(0, len(b)))]
        elif kind == 1:
            for pos in rng.integers(0, len(b), size=int(rng.integers(1, 8))):
                b[pos] = int(rng.integers(0, 256))
        elif kind == 2:
            at = int(rng.integers(0, len(b)))
            b[at:at] = bytes(rng.integers(0, 256, size=int(rng.integers(1, 64)), dtype=np.uint8))
        else:
            at = int(rng.integers(0, len(b)))
            b[at : at + int(rng.integers(1, 200))] = b"\0" * len(b[at : at + 200])
        p = tmp_path / "fuzz.bptt"
        p.write_bytes(bytes(b))
        try:
            ck = checkpoint.load(p)
            ck.model.predict(np.array([[2, 3, 2]]))
            outcomes["loaded"] += 1
        except ModelFileError as e:
            assert str(p) in str(e)
            outcomes["refused"] += 1
        if i % 8 == 0:
            rc = main(["predict", "--model", str(p), "0110"])
            out, err = capsys.readouterr()
            assert rc in (0, 2) and "Traceback" not in err, err
            assert rc == 0 or (err.count("\n") == 1 and str(p) in err), err
    assert outcomes["refused"] > 300 and sum(outcomes.values()) == 500
    assert set(os.listdir(tmp_path)) == before | {"fuzz.bptt"}
