"""Model files: config + weights (+ vocabulary, optimiser state, training state), no pickle.

A ``.bptt`` file is a zip archive in NumPy's ``.npz`` layout: one array per
parameter (``param/W_s``, ...), optional optimiser arrays (``opt/...``), and
``__meta__``: UTF-8 JSON holding the format name and version, the model config
and any JSON metadata (vocabulary, labels, tokenisation, training progress).
It is read with ``allow_pickle=False``; names, shapes, dtypes and values are
checked against the config before anything is returned.  Writes go to a
temporary file in the same folder, are flushed to disk, then renamed over the
target, so a crash never leaves a half-written model under the real name.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np

from . import memory
from ._xp import to_numpy
from .data.files import GZIP_MAGIC, is_pickle
from .model import Model, ModelConfig

FORMAT = "bptt-model"
VERSION = 1


class ModelFileError(ValueError):
    """A model file that cannot be used: damaged, foreign, or inconsistent with its config."""


@dataclass
class Checkpoint:
    model: Model
    meta: dict = field(default_factory=dict)
    opt_state: dict | None = None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what open() would give a new file


class OutputPathError(ValueError):
    """A path that bptt will not write to: a folder, a pipe or device, an unwritable folder, or one of
    the run's own input files."""


def nearest_existing(path) -> str:
    """The nearest existing path on the way to ``path``'s folder (the folder itself when it exists):
    where a write to ``path`` lands once atomic_write_bytes has made the missing folders."""
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    while not os.path.exists(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    return folder


def is_model_file(path) -> bool:
    """Whether ``path`` (a path or a binary file object) looks like a file that bptt wrote: a zip archive
    with a ``__meta__`` entry and ``param/...`` arrays; :func:`load` is what checks it."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return False
    return "__meta__.npy" in names and any(n.startswith("param/") for n in names)


def output_problem(path) -> str | None:
    """Why ``path`` cannot take an atomic write (None when it can): it is a folder, a pipe or a
    device (a rename would replace it, even ``/dev/null``), a folder on its way is a file, or the
    nearest existing folder on its way is not writable."""
    path = os.fspath(path)
    if not path or path.endswith(os.sep):
        return "is a folder name, not a file name"
    if os.path.lexists(path):
        if os.path.isdir(path):
            return "is a folder"
        if not os.path.isfile(path):
            return "exists and is not a regular file (a pipe, a device or a broken link)"
    folder = nearest_existing(path)  # atomic_write_bytes makes missing folders: the first existing one counts
    if not os.path.isdir(folder):
        return f"cannot be made: {folder!r} is a file, not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot be written: the folder {folder!r} is not writable"
    return None


def check_output(path, what: str = "output") -> None:
    """Raise :class:`OutputPathError`, naming ``what`` and ``path``, when ``path`` cannot be written."""
    problem = output_problem(path)
    if problem:
        raise OutputPathError(f"{what} {os.fspath(path)!r} {problem}")


def _fspath(name: str, path) -> str:
    """``os.fspath(path)``, or a TypeError naming the argument (``None``, a number, a list)."""
    try:
        return os.fspath(path)
    except TypeError:
        raise TypeError(f"{name} must be a file name (str or os.PathLike), got {type(path).__name__} "
                        f"{str(path)[:80]!r}") from None


def atomic_write_bytes(path: str, write) -> None:
    """Call ``write(fileobj)`` on a temp file beside ``path``, fsync, then rename it over ``path``.

    A ``path`` that is a folder, a pipe or a device is refused (OutputPathError) before anything
    is written: the rename would replace it."""
    path = _fspath("path", path)
    check_output(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, FILE_MODE)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError) and not isinstance(e, OutputPathError) and e.filename is None:
            e.filename = path  # a full disk says so without a name: this is the file it was for
        raise


def remove_stale_temps(path) -> list:
    """Remove the temporary files that an :func:`atomic_write_bytes` to ``path`` killed mid-write
    (SIGKILL, power loss) left beside it; returns their names.  Call it only where no other
    process is writing ``path``."""
    path = os.fspath(path)
    folder, base = os.path.dirname(os.path.abspath(path)), os.path.basename(path)
    gone = []
    try:
        names = os.listdir(folder)
    except OSError:
        return gone
    for name in names:
        # atomic_write_bytes's mkstemp names: "." + base + "." + 8 random characters + ".tmp"
        if name.startswith("." + base + ".") and name.endswith(".tmp") and len(name) == len(base) + 14:
            try:
                os.unlink(os.path.join(folder, name))
                gone.append(name)
            except OSError:
                pass
    return gone


def save(path, model: Model, *, meta: dict | None = None, opt_state: dict | None = None) -> None:
    """Write ``model`` (config and parameters), JSON ``meta`` and optimiser state to ``path`` atomically."""
    path = _fspath("path", path)
    if not isinstance(model, Model):
        raise TypeError(f"model must be a bptt.Model, got {type(model).__name__}")
    for name, value in (("meta", meta), ("opt_state", opt_state)):
        if value is not None and not isinstance(value, dict):
            raise TypeError(f"{name} must be a dict or None, got {type(value).__name__} {str(value)[:80]!r}")
    head = {"format": FORMAT, "version": VERSION, "config": model.config.to_dict(), "meta": meta or {}}
    scalars = {}
    arrays = {"param/" + k: to_numpy(v) for k, v in model.params.items()}
    for k, v in (opt_state or {}).items():
        if hasattr(v, "shape"):
            arrays["opt/" + k] = to_numpy(v)
        else:
            scalars[k] = v
    head["opt_scalars"] = scalars
    head["has_opt"] = opt_state is not None
    try:
        blob = json.dumps(head, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise ValueError(f"meta must be plain JSON data (str, numbers, lists, dicts): {e}") from None
    arrays["__meta__"] = np.frombuffer(blob, dtype=np.uint8)
    atomic_write_bytes(path, lambda f: np.savez(f, **arrays))


MAX_META_BYTES = 256 << 20  # the JSON metadata (a vocabulary of millions of words fits)
MAX_CARRY_ROWS = 1 << 20  # a stateful language model's carried state [B, H]


def _bad(path, what):
    return ModelFileError(f"model file {path!r}{'' if what.startswith(':') else ' '}{what}")


def _member_array(zf, info, path, name, check):
    """One ``.npy`` member: its header is read and ``check(shape, dtype)`` called before any data
    is, and exactly the bytes that header declares are inflated, never more."""
    fmt = np.lib.format
    with zf.open(info) as f:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(f, max_header_size=10_000)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(f, max_header_size=10_000)
        else:
            raise _bad(path, f"has {name} in .npy format version {version}, which bptt does not read")
        if dtype.hasobject:
            raise _bad(path, f"holds {name} as Python objects (a pickle); bptt never loads pickles")
        check(tuple(shape), dtype)
        n = int(np.prod(shape, dtype=object)) * dtype.itemsize
        data = f.read(n + 1)
    if len(data) != n:
        raise _bad(path, f"has {name} of {len(data)} bytes where its header declares {n}: damaged")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C").copy()


_BY_EXPORT = ("bptt evaluate, predict and generate read the model file it was exported from "
              "(the one bptt train --out wrote)")


def _what_file(path: str) -> str:
    """What a file that is no zip archive seems to be, from its first bytes (and its name, for ONNX),
    for the error that refuses it: someone else's weights, bptt's own exports, a data file, a pickle."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as e:
        return f"it cannot be read ({e.strerror or e})"
    if not head:
        return "it is empty (0 bytes)"
    if head.startswith(b"PK\x03\x04"):  # a zip's first entry, without the directory at its end
        return "a zip archive cut short (truncated, as by a full disk or an interrupted copy)"
    n = int.from_bytes(head[:8], "little") if len(head) >= 9 else 0
    if 2 <= n <= 100_000_000 and head[8:9] == b"{":  # safetensors: header length, then JSON
        if b'"bptt-torch"' in head:
            return f"a safetensors file written by bptt export for PyTorch; {_BY_EXPORT}"
        return "a safetensors file (weights for PyTorch or Hugging Face), not written by bptt train"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "an HDF5 file (as Keras writes its .h5 weights), not written by bptt train"
    if is_pickle(head):
        return "a Python pickle (as pickle.dump or an old torch.save write), which bptt never loads"
    if head.startswith(GZIP_MAGIC):
        return "a gzip-compressed file; bptt reads model files as bptt train wrote them (gunzip it first)"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as e:  # the read may stop inside a character
        text = head[:e.start].decode("utf-8") if e.start >= len(head) - 3 else None
    if text is not None and all(c.isprintable() or c in "\t\r\n" for c in text):
        return ("a text file (a data file?); --model takes the model file that "
                "bptt train --out wrote")
    if path.lower().endswith(".onnx") or (head[:1] == b"\x08" and b"bptt" in head[:16]):
        if b"bptt" in head[:64]:
            return f"an ONNX model written by bptt export; {_BY_EXPORT}"
        return "an ONNX model, not written by bptt train"
    return "not a zip/npz archive as bptt writes, nor a format bptt knows"


def load(path) -> Checkpoint:
    """Read a model file written by :func:`save`; ModelFileError says what is wrong with a bad one.

    Nothing in the file is trusted before it is checked: the archive's entries (names, compression,
    encryption, declared sizes), the metadata, and then each array's header against the shapes and
    dtype the config implies, before that array's bytes are inflated; a file never makes bptt
    allocate more than the config implies."""
    path = _fspath("path", path)
    if not os.path.isfile(path):
        if os.path.exists(path):
            raise _bad(path, "is not a regular file (a folder, a pipe or a device)")
        raise FileNotFoundError(f"model file {path!r} does not exist")
    if not zipfile.is_zipfile(path):
        raise _bad(path, f"is not a bptt model: {_what_file(path)}")
    try:
        with zipfile.ZipFile(path) as zf:
            return _load(zf, path)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, KeyError, ValueError, NotImplementedError,
            RuntimeError, OverflowError, MemoryError, SyntaxError) as e:
        raise _bad(path, f"is damaged or not a bptt model: {type(e).__name__}: {str(e)[:200]}") from None


def _load(zf: zipfile.ZipFile, path: str) -> Checkpoint:
    infos = zf.infolist()
    if len(infos) > 100_000:
        raise _bad(path, f"has {len(infos)} entries: not a bptt model")
    members = {}
    for info in infos:
        if info.flag_bits & 0x1:
            raise _bad(path, f"has an encrypted entry {info.filename!r}")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _bad(path, f"has entry {info.filename!r} in an unsupported compression (method {info.compress_type})")
        if info.filename.endswith("data.pkl"):  # torch.save's zip: tensors behind a pickle
            raise _bad(path, f"is a PyTorch file (torch.save; its entry {info.filename!r} is a pickle, which "
                             f"bptt never loads), not a bptt model")
        if not info.filename.endswith(".npy") or info.filename[:-4] in members:
            raise _bad(path, f"has an unexpected or repeated entry {info.filename!r}")
        members[info.filename[:-4]] = info
    if "__meta__" not in members:
        raise _bad(path, "has no __meta__ entry: not written by bptt")
    if members["__meta__"].file_size > MAX_META_BYTES + 1024:
        raise _bad(path, f"declares {members['__meta__'].file_size} bytes of metadata (at most {MAX_META_BYTES})")

    def meta_ok(shape, dtype):
        if dtype != np.uint8 or len(shape) != 1 or shape[0] > MAX_META_BYTES:
            raise _bad(path, f"has __meta__ of shape {shape} and dtype {dtype}; bptt writes UTF-8 bytes")

    blob = _member_array(zf, members.pop("__meta__"), path, "__meta__", meta_ok)
    try:
        head = json.loads(blob.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise _bad(path, f"has unreadable metadata: {str(e)[:200]}") from None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise _bad(path, f"is not a bptt model (format {head.get('format') if isinstance(head, dict) else None!r})")
    if head.get("version") != VERSION:
        raise _bad(path, f"has format version {head.get('version')!r}; this bptt reads version {VERSION}")
    if not isinstance(head.get("config"), dict):
        raise _bad(path, "has no config object in its metadata")
    try:
        config = ModelConfig.from_dict(head["config"])
    except (TypeError, ValueError) as e:
        raise _bad(path, f"has a bad config: {e}") from None
    meta = head.get("meta", {})
    if not isinstance(meta, dict):
        raise _bad(path, f"has metadata 'meta' of type {type(meta).__name__}, not an object")
    dt = np.dtype(config.dtype)

    def exactly(name, shape):
        def check(got_shape, got_dtype):
            if got_shape != tuple(shape):
                raise _bad(path, f": {name} has shape {got_shape}, config needs {tuple(shape)}")
            if got_dtype != dt:
                raise _bad(path, f": {name} has dtype {got_dtype}, config says {config.dtype}")
        return check

    shapes = config.param_shapes()
    need = sum(math.prod(s) for s in shapes.values()) * dt.itemsize * (3 if head.get("has_opt") else 1)
    short = memory._short_of(need, "cpu", None)
    if short:  # a config from elsewhere may declare weights of any size: refused before any is read
        raise _bad(path, f"declares a model of {memory.size(need)} (hidden_size {config.hidden_size}, "
                         f"vocab_size {config.vocab_size}, {config.num_layers} layer(s)), and {short}")
    params = {}
    for name, shape in shapes.items():
        info = members.pop("param/" + name, None)
        if info is None:
            raise _bad(path, f"is missing the array {name!r} its config needs")
        a = _member_array(zf, info, path, name, exactly(name, shape))
        if not np.all(np.isfinite(a)):
            raise _bad(path, f": {name} holds NaN or inf")
        params[name] = a
    opt_state = None
    if head.get("has_opt"):
        scalars = head.get("opt_scalars") or {}
        if not isinstance(scalars, dict) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in scalars.values()):
            raise _bad(path, f"has optimiser scalars that are not finite numbers: {str(scalars)[:100]}")
        if "t" in scalars and not (isinstance(scalars["t"], int) and scalars["t"] >= 0):
            raise _bad(path, f"has an optimiser step count t = {scalars['t']!r}")
        opt_state = dict(scalars)
        for key in [k for k in members if k.startswith("opt/")]:
            name = key[4:]
            moment = name.split(".", 1)
            if len(moment) == 2 and moment[0] in ("m", "v") and moment[1] in shapes:
                check = exactly(name, shapes[moment[1]])
            elif name == "carry":
                def check(shape, dtype, name=name):
                    lead = config.state_shape_prefix  # () for one layer, (L*K,) for a stack
                    n = len(lead)
                    if (len(shape) != n + 2 or tuple(shape[:n]) != lead or shape[-1] != config.state_width
                            or not 1 <= shape[n] <= MAX_CARRY_ROWS):
                        raise _bad(path, f": {name} has shape {shape}, needs [{''.join(f'{v}, ' for v in lead)}B, "
                                         f"S = {config.state_width}]")
                    if dtype != dt:
                        raise _bad(path, f": {name} has dtype {dtype}, config says {config.dtype}")
            else:
                raise _bad(path, f"holds an unknown optimiser array {name!r}")
            a = _member_array(zf, members.pop(key), path, name, check)
            if not np.all(np.isfinite(a)):
                raise _bad(path, f": optimiser array {name} holds NaN or inf")
            opt_state[name] = a
    if members:
        raise _bad(path, f"holds unexpected arrays {sorted(members)[:10]}")
    return Checkpoint(Model(config, params), meta, opt_state)
