"""Reading labelled sequence files (TSV, CSV, JSONL) into examples.

One column holds the sequence -- tokens separated by spaces, single
characters (``tokenizer="chars"``) or English words and punctuation
(``tokenizer="english"``: lower-cased, punctuation split off) -- and another the target: one label
(``classify``, the tutorial's many-to-one) or one label per token (``tag``,
space separated).  A header line is optional: it is recognised when its cells
are the column names (``text`` and ``label`` by default).  Bad lines are
reported with file and line number, or skipped and counted with ``skip_bad``.
"""

from __future__ import annotations

import csv
import io
import re
import json
import os
from dataclasses import dataclass

TASKS = ("classify", "tag")


class DataError(ValueError):
    """A data file that cannot be read as asked; the message names the file and line."""


@dataclass
class Example:
    tokens: list
    target: object  # str (classify) or list[str] (tag)
    line: int


TOKENIZERS = ("space", "chars", "english")
_ENGLISH = re.compile(r"[a-z0-9]+(?=n't)|n't|'[a-z]+|[a-z0-9]+|[^\sa-z0-9]")


def tokenize(text: str, mode: str = "space") -> list:
    """Split ``text`` into tokens: "space" (on whitespace), "chars" (every character) or
    "english" (lower-cased words, clitics split as GloVe's corpus has them -- "isn't" ->
    "is", "n't"; "it's" -> "it", "'s" -- and every punctuation mark a token of its own)."""
    if mode == "space":
        return text.split()
    if mode == "chars":
        return list(text)
    if mode == "english":
        return _ENGLISH.findall(text.lower().replace("''", '"').replace("``", '"'))
    raise ValueError(f"tokenizer={mode!r} is not known; choose one of {list(TOKENIZERS)}")


def detect_tokenizer(path, *, fmt: str | None = None, text_col: str = "text", label_col: str = "label") -> str:
    """``"chars"`` when no sequence in the file holds a space or other whitespace (``0110``,
    ``3+4*2``: every character a token), else ``"space"``."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    for _, text, _ in _rows(path, _format_of(path, fmt), text_col, label_col):
        if text is not None and any(ch.isspace() for ch in text.strip()):
            return "space"
    return "chars"


def _format_of(path: str, fmt: str | None) -> str:
    if fmt:
        if fmt not in ("tsv", "csv", "jsonl"):
            raise ValueError(f"format={fmt!r} is not known; choose tsv, csv or jsonl")
        return fmt
    ext = os.path.splitext(path)[1].lower()
    return {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl"}.get(ext, "tsv")


def read_utf8(path) -> str:
    """The whole of a UTF-8 file; errors name the file, and the line of a bad byte."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror or e}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not valid UTF-8 (byte {raw[e.start]:#04x}); save the file as UTF-8") from None


def _rows(path: str, fmt: str, text_col: str, label_col: str):
    """Yield (line_number, text, label) or (line_number, None, error message)."""
    content = read_utf8(path)
    if fmt == "jsonl":
        for n, line in enumerate(content.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                yield n, None, f"not valid JSON ({e.msg})"
                continue
            if not isinstance(obj, dict) or text_col not in obj or label_col not in obj:
                yield n, None, f"needs an object with keys {text_col!r} and {label_col!r}"
                continue
            label = obj[label_col]
            if isinstance(label, list):
                label = " ".join(str(v) for v in label)
            yield n, str(obj[text_col]), str(label)
        return
    delim = "\t" if fmt == "tsv" else ","
    reader = csv.reader(io.StringIO(content), delimiter=delim,
                        quoting=csv.QUOTE_NONE if fmt == "tsv" else csv.QUOTE_MINIMAL)
    ti, li, expected = 0, 1, 2
    for cells in reader:
        n = reader.line_num
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        if n == 1 and text_col in cells and label_col in cells:  # a header line
            ti, li, expected = cells.index(text_col), cells.index(label_col), len(cells)
            continue
        if len(cells) != expected:
            sep = "tab" if fmt == "tsv" else "comma"
            yield n, None, f"has {len(cells)} column(s), expected {expected} separated by a {sep}"
            continue
        yield n, cells[ti], cells[li]


def read_examples(path, task: str, *, tokenizer: str = "space", fmt: str | None = None,
                  text_col: str = "text", label_col: str = "label", skip_bad: bool = False):
    """Read ``path`` into a list of :class:`Example`; returns ``(examples, n_skipped)``."""
    path = os.fspath(path)
    if task not in TASKS:
        raise ValueError(f"task={task!r} is not known; choose one of {list(TASKS)}")
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file")
    fmt = _format_of(path, fmt)
    examples, skipped = [], 0
    for n, text, label in _rows(path, fmt, text_col, label_col):
        err = label if text is None else None
        if err is None:
            tokens = tokenize(text, tokenizer)
            if not tokens:
                err = "empty sequence"
            elif task == "classify":
                label = label.strip()
                if not label:
                    err = "empty label"
            else:
                label = label.split()
                if len(label) != len(tokens):
                    err = f"{len(label)} labels for {len(tokens)} tokens (tag needs one label per token)"
        if err is not None:
            if skip_bad:
                skipped += 1
                continue
            raise DataError(f"{path}:{n}: {err} (use --skip-bad to skip such lines)")
        examples.append(Example(tokens, label, n))
    if not examples:
        raise DataError(f"{path}: no usable examples" + (f" ({skipped} bad lines skipped)" if skipped else ""))
    return examples, skipped


def write_examples(path, rows, *, atomic: bool = True) -> None:
    """Write ``(sequence_text, target_text)`` rows as a TSV with a header line."""
    from ..checkpoint import atomic_write_bytes

    body = "text\tlabel\n" + "".join(f"{s}\t{t}\n" for s, t in rows)
    atomic_write_bytes(path, lambda f: f.write(body.encode("utf-8")))
