"""Model files round-trip exactly and bad ones are refused with a clear error."""

import json
import os
import pickle
import zipfile

import numpy as np
import pytest

from bptt import Model, ModelConfig, ModelFileError, checkpoint


@pytest.fixture
def model(rng):
    return Model(ModelConfig(vocab_size=9, embed_dim=4, hidden_size=5, output_size=3, learn_s0=True), rng=rng)


def test_round_trip(tmp_path, model):
    path = tmp_path / "m.bptt"
    meta = {"vocab": ["<pad>", "<unk>", "a", "é"], "labels": ["x", "y", "z"]}
    opt = {"t": 7, "m.W_s": np.ones((9, 5), np.float32)}
    checkpoint.save(path, model, meta=meta, opt_state=opt)
    ck = checkpoint.load(path)
    assert ck.model.config == model.config
    assert ck.meta == meta
    assert ck.opt_state["t"] == 7
    np.testing.assert_array_equal(ck.opt_state["m.W_s"], opt["m.W_s"])
    for k, v in model.params.items():
        np.testing.assert_array_equal(ck.model.params[k], v)
        assert ck.model.params[k].dtype == v.dtype
    assert [f for f in os.listdir(tmp_path)] == ["m.bptt"]  # no temp file left behind


def _rewrite(path, edit):
    """Rewrite the npz at path with ``edit(dict_of_arrays)`` applied."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    edit(arrays)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _meta_edit(fn):
    def edit(arrays):
        head = json.loads(arrays["__meta__"].tobytes())
        fn(head)
        arrays["__meta__"] = np.frombuffer(json.dumps(head).encode(), np.uint8)
    return edit


@pytest.mark.parametrize("edit,words", [
    (lambda a: a.__setitem__("param/W_s", np.zeros((3, 3), np.float32)), "W_s has shape (3, 3)"),
    (lambda a: a.pop("param/b_o"), "missing the array 'b_o'"),
    (lambda a: a.__setitem__("param/b_s", np.zeros(5, np.float64)), "b_s has dtype float64"),
    (lambda a: a.__setitem__("param/b_s", np.full(5, np.nan, np.float32)), "b_s holds NaN"),
    (lambda a: a.__setitem__("param/extra", np.zeros(2)), "unexpected arrays ['param/extra']"),
    (lambda a: a.pop("__meta__"), "no __meta__"),
    (_meta_edit(lambda h: h.__setitem__("version", 99)), "format version 99"),
    (_meta_edit(lambda h: h.__setitem__("format", "other")), "not a bptt model"),
    (_meta_edit(lambda h: h["config"].__setitem__("hidden", 3)), "unknown model config key(s) ['hidden']"),
])
def test_inconsistent_files_refused(tmp_path, model, edit, words):
    path = tmp_path / "m.bptt"
    checkpoint.save(path, model)
    _rewrite(path, edit)
    with pytest.raises(ModelFileError) as e:
        checkpoint.load(path)
    assert words in str(e.value) and str(path) in str(e.value)


def test_truncated_file_refused(tmp_path, model):
    path = tmp_path / "m.bptt"
    checkpoint.save(path, model)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated|damaged|not a bptt model"):
        checkpoint.load(path)


def test_flipped_byte_refused(tmp_path, model):
    path = tmp_path / "m.bptt"
    checkpoint.save(path, model)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("param/W_s.npy")
    data[info.header_offset + 200] ^= 0xFF  # inside W_s's bytes: the zip CRC no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="damaged"):
        checkpoint.load(path)


def test_pickle_inside_refused(tmp_path, model):
    path = tmp_path / "m.bptt"
    checkpoint.save(path, model)
    obj = np.array([{"evil": 1}], dtype=object)
    _rewrite(path, lambda a: a.__setitem__("param/W_s", obj))
    with pytest.raises(ModelFileError, match="pickle"):
        checkpoint.load(path)


def test_foreign_files_refused(tmp_path):
    p1 = tmp_path / "a.bptt"
    p1.write_bytes(pickle.dumps({"W_s": 1}))
    with pytest.raises(ModelFileError, match="not a bptt model"):
        checkpoint.load(p1)
    p2 = tmp_path / "b.npz"
    np.savez(p2, W_s=np.zeros(3))
    with pytest.raises(ModelFileError, match="no __meta__"):
        checkpoint.load(p2)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        checkpoint.load(tmp_path / "missing.bptt")


def test_failed_write_keeps_old_file(tmp_path, model):
    path = tmp_path / "m.bptt"
    checkpoint.save(path, model)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="plain JSON"):
        checkpoint.save(path, model, meta={"bad": object()})

    def boom(f):
        f.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError):
        checkpoint.atomic_write_bytes(path, boom)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.bptt"]


@pytest.mark.parametrize("call, match", [
    (lambda m, p: checkpoint.load(None), "path must be a file name .* got NoneType"),
    (lambda m, p: checkpoint.load(3), "path must be a file name .* got int"),
    (lambda m, p: checkpoint.save(None, m), "path must be a file name .* got NoneType"),
    (lambda m, p: checkpoint.save(p, None), "model must be a bptt.Model, got NoneType"),
    (lambda m, p: checkpoint.save(p, m, meta="notes"), "meta must be a dict or None, got str 'notes'"),
    (lambda m, p: checkpoint.save(p, m, opt_state=[1]), "opt_state must be a dict or None, got list"),
])
def test_bad_arguments_are_named_and_nothing_is_written(tmp_path, model, call, match):
    path = str(tmp_path / "m.bptt")
    with pytest.raises(TypeError, match=match):
        call(model, path)
    assert os.listdir(tmp_path) == []
