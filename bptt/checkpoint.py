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
import os
import tempfile
import zipfile
from dataclasses import dataclass, field

import numpy as np

from ._xp import to_numpy
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


def atomic_write_bytes(path: str, write) -> None:
    """Call ``write(fileobj)`` on a temp file beside ``path``, fsync, then rename it over ``path``."""
    path = os.fspath(path)
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
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save(path, model: Model, *, meta: dict | None = None, opt_state: dict | None = None) -> None:
    """Write ``model`` (config and parameters), JSON ``meta`` and optimiser state to ``path`` atomically."""
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


def load(path) -> Checkpoint:
    """Read a model file written by :func:`save`; ModelFileError says what is wrong with a bad one."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model file {path!r} does not exist")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"model file {path!r} is not a bptt model (not a zip/npz archive, or truncated)")
    try:
        with np.load(path, allow_pickle=False) as z:
            names = list(z.files)
            if "__meta__" not in names:
                raise ModelFileError(f"model file {path!r} has no __meta__ entry: not written by bptt")
            arrays = {n: z[n] for n in names}
    except ModelFileError:
        raise
    except ValueError as e:
        if "pickle" in str(e).lower():
            raise ModelFileError(f"model file {path!r} holds a pickled object; bptt never loads pickles") from None
        raise ModelFileError(f"model file {path!r} is damaged: {e}") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as e:
        raise ModelFileError(f"model file {path!r} is damaged or truncated: {e}") from None
    try:
        head = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(f"model file {path!r} has unreadable metadata: {e}") from None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise ModelFileError(f"model file {path!r} is not a bptt model (format {head.get('format') if isinstance(head, dict) else None!r})")
    if head.get("version") != VERSION:
        raise ModelFileError(
            f"model file {path!r} has format version {head.get('version')!r}; this bptt reads version {VERSION}"
        )
    try:
        config = ModelConfig.from_dict(head.get("config") or {})
    except (TypeError, ValueError) as e:
        raise ModelFileError(f"model file {path!r} has a bad config: {e}") from None
    params = {}
    expected = config.param_shapes()
    for name, shape in expected.items():
        key = "param/" + name
        if key not in arrays:
            raise ModelFileError(f"model file {path!r} is missing the array {name!r} its config needs")
        a = arrays.pop(key)
        if tuple(a.shape) != tuple(shape):
            raise ModelFileError(f"model file {path!r}: {name} has shape {tuple(a.shape)}, config needs {tuple(shape)}")
        if a.dtype != np.dtype(config.dtype):
            raise ModelFileError(f"model file {path!r}: {name} has dtype {a.dtype}, config says {config.dtype}")
        if not np.all(np.isfinite(a)):
            raise ModelFileError(f"model file {path!r}: {name} holds NaN or inf")
        params[name] = a
    opt_state = None
    if head.get("has_opt"):
        opt_state = dict(head.get("opt_scalars") or {})
        for key in [k for k in arrays if k.startswith("opt/")]:
            opt_state[key[4:]] = arrays.pop(key)
    if arrays:
        raise ModelFileError(f"model file {path!r} holds unexpected arrays {sorted(arrays)}")
    return Checkpoint(Model(config, params), head.get("meta") or {}, opt_state)
