"""Reading labelled sequence files (TSV, CSV, JSONL) into examples.

One column holds the sequence -- tokens separated by spaces, single
characters (``tokenizer="chars"``) or words and punctuation
(``tokenizer="words"``: lower-cased, punctuation split off; ``"english"``: the same with ASCII words only) -- and another the target: one label
(``classify``, the tutorial's many-to-one), one label per token (``tag``,
space separated) or one number per sequence (``regress``; several, space separated, for
several outputs).  A header line is optional: it is recognised when its cells
are the column names (``text`` and ``label`` by default).  Bad lines are
reported with file and line number, or skipped and counted with ``skip_bad``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shlex
from dataclasses import dataclass

TASKS = ("classify", "tag", "regress")


class DataError(ValueError):
    """A data file that cannot be read as asked; the message names the file and line."""


@dataclass
class Example:
    tokens: list
    target: object  # str (classify), list[str] (tag) or list[float] (regress)
    line: int


TOKENIZERS = ("space", "chars", "words", "english", "commas")
_ENGLISH = re.compile(r"[a-z0-9]+(?=n't)|n't|'[a-z]+|[a-z0-9]+|[^\sa-z0-9]")
_WORDS = []  # the "words" pattern, built on first use


def _combining_marks() -> str:
    """A regex class body of every combining mark (Unicode categories Mn, Mc, Me): the vowel signs and
    viramas of Indic scripts, accents written as marks, ... which belong to the word they follow."""
    import sys
    import unicodedata

    spans = []  # runs of consecutive code points
    for i in range(0x300, sys.maxunicode + 1):
        if unicodedata.category(chr(i))[0] == "M":
            if spans and i == spans[-1][1] + 1:
                spans[-1][1] = i
            else:
                spans.append([i, i])
    return "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in spans)


def _words(text: str) -> list:
    """The "words" tokens of lower-cased ``text``."""
    if text.isascii():  # the same tokens as "english" on ASCII text, and 6x faster than the pattern below
        return _ENGLISH.findall(text)
    if not _WORDS:
        marks = _combining_marks()
        w = f"[\\w{marks}]"  # a letter or digit of any script, or a mark on one (and "_", spaced apart below)
        letters = f"(?:[^\\W\\d_]|[{marks}])"
        _WORDS.append(re.compile(f"{w}+(?=n't)|n't|'{letters}+|{w}+|\\S"))
    return _WORDS[0].findall(text.replace("_", " _ "))  # "_" a token of its own, as "english" has it


def tokenize(text: str, mode: str = "space") -> list:
    """Split ``text`` into tokens: "space" (on whitespace), "chars" (every character), "words"
    (lower-cased words of any script -- runs of letters, digits and the combining marks on them --
    with English clitics split as GloVe's corpus has them -- "isn't" -> "is", "n't"; "it's" -> "it",
    "'s" -- and every other character but spaces a token of its own), or "english": the same on ASCII
    text, but only the ASCII letters and digits make words ("café" -> "caf", "é"), as bptt read
    English text before "words" (model files written with it keep it); or "commas": items separated by
    commas, as a list (``a,b,c``, ``0.5, 1.2, -0.3``, ``['a', 'b']`` as pandas writes a list column; the
    brackets, the spaces around each item and its quotes dropped)."""
    if mode == "space":
        return text.split()
    if mode == "commas":
        return _items(text)
    if mode == "chars":
        return list(text)
    if mode in ("words", "english"):
        text = text.lower().replace("''", '"').replace("``", '"')
        return _words(text) if mode == "words" else _ENGLISH.findall(text)
    raise ValueError(f"tokenizer={mode!r} is not known; choose one of {list(TOKENIZERS)}")


def _items(text: str) -> list:
    """The items of a list written with commas: ``[0.5, 1.2]``, ``a,b,c``, ``['x', 'y']``."""
    s = text.strip()
    if len(s) >= 2 and s[0] == "[" and s[-1] == "]":
        s = s[1:-1]
    if not s.strip():
        return []
    parts = [p.strip() for p in s.split(",")]
    if len(parts) > 1 and not parts[-1]:  # a comma after the last item
        parts.pop()
    return [p[1:-1] if len(p) >= 2 and p[0] == p[-1] and p[0] in "'\"" else p for p in parts]


def _list_label(label: str) -> str:
    """Tags or numbers written as a list, as the sequences of ``--tokenize commas`` are (``[3, 0, 7]``), as
    space-separated parts (``3 0 7``); any other label as it is."""
    return " ".join(_items(label)) if _a_list(label) else label


def _a_list(text: str) -> bool | None:
    """True: ``text`` is a list of items written with commas (or brackets); None: one item, no comma,
    space or bracket (it fits any reading); False: neither (whitespace inside an item: words)."""
    s = text.strip()
    bracketed = len(s) >= 2 and s[0] == "[" and s[-1] == "]"
    if "," not in s and not bracketed:
        return None if not any(c.isspace() for c in s) else False
    items = _items(s)
    return bool(items) and all(p and not any(c.isspace() for c in p) for p in items)


def detect_tokenizer(path, *, fmt: str | None = None, text_col: str = "text", label_col: str = "label") -> str:
    """``"commas"`` when every sequence in the file is a list written with commas (``0.5,1.2,-0.3``,
    ``[a, b]``; one item alone too) and some has several; else ``"chars"`` when no sequence holds a
    space or other whitespace (``0110``, ``3+4*2``: every character a token), else ``"space"``."""
    path = os.fspath(path)
    _require_file(path)
    if _format_of(path, fmt) in CONLL:
        return "space"  # a token per line
    spaced, lists = False, True  # some sequence holds whitespace; every one so far reads as a list
    some_list = False
    for _, text, _ in _rows(path, _format_of(path, fmt), text_col, label_col):
        if text is None:
            continue
        if lists:
            kind = _a_list(text)
            lists, some_list = kind is not False, some_list or bool(kind)
        spaced = spaced or len(text.split(None, 1)) > 1  # whitespace between two characters
        if spaced and not lists:
            return "space"
    if lists and some_list:
        return "commas"
    return "space" if spaced else "chars"


def detect_task(path, *, fmt: str | None = None, text_col: str = "text", label_col: str = "label",
                tokenizer: str | None = None) -> tuple[str, str, str | None]:
    """``(task, why, tokenizer)`` for a training file given without ``--task``: ``"lm"`` for plain text
    (a ``.txt`` or extension-less file whose lines are not ``sequence<TAB>label``), ``"tag"`` when every
    line's label has one space-separated part per token (and some line more than one token), else
    ``"classify"``.  ``tokenizer`` None: as :func:`detect_tokenizer` decides; the one used is returned
    (None for plain text).  Lines that cannot be read are left to the reader that follows (which names
    them)."""
    path = os.fspath(path)
    _require_file(path)
    ext = _ext(path)
    if _format_of(path, fmt) in CONLL:
        return "tag", "CoNLL: a token and its tag on each line", "space"
    if fmt == "fasttext":
        return "classify", f"fastText lines: {FASTTEXT}NAME, then the text", (
            tokenizer or detect_tokenizer(path, fmt=fmt, text_col=text_col, label_col=label_col))
    if fmt is None and ext not in (".tsv", ".csv", ".jsonl", ".json") and (text_col, label_col) == ("text", "label"):
        lines = [line for line in _lines(read_utf8(path))[:1000] if line.strip()]
        tabbed = sum("\t" in line for line in lines)
        if not lines or tabbed < 0.9 * len(lines) and _numeric_table(lines) is None:
            return "lm", "plain text, not sequence<TAB>label lines", None
    if tokenizer is None:
        tokenizer = detect_tokenizer(path, fmt=fmt, text_col=text_col, label_col=label_col)
    rows = longest = lines = 0
    tags = True  # every label so far has one part per token
    values: set | None = set()  # the distinct labels while each is numbers (None: one is not)
    parts: set = set()  # the distinct parts of those labels (tags that may be numbers)
    for _, text, label in _rows(path, _format_of(path, fmt), text_col, label_col, numbers="any"):
        if text is None:
            continue
        lines += 1
        if tokenizer == "commas":
            label = _list_label(label)
        if values is not None:
            values.add(" ".join(label.split()))
            if not all(_DECIMAL.fullmatch(p) for p in label.split()):
                values = None
            elif tags:
                parts.update(label.split())
        if tags:
            n = len(tokenize(text, tokenizer))
            if n == 0:
                continue
            tags = len(label.split()) == n
            rows, longest = rows + 1, max(longest, n)
        if not tags and values is None:
            break
    if tags and rows and longest > 1:
        if values is not None and measured_values(parts):
            shown = ", ".join(sorted(parts, key=float)[:3])
            return ("regress", f"one number per token on every line, {len(parts):,} different ones, some with a "
                               f"fraction ({shown}, ...): measurements, a regression at every step", tokenizer)
        return "tag", "one label per token on every line", tokenizer
    measured = values is not None and measured_values(values)
    if measured or values is not None and quantities(values, lines):
        shown = ", ".join(sorted(values, key=lambda v: [float(p) for p in v.split()])[:3])
        width = len(next(iter(values)).split())
        whole = "" if measured else "whole "
        kind = f"{whole}numbers" if width == 1 else f"sets of {width} {whole}numbers"
        why = (f", some with a fraction ({shown}, ...): measurements" if measured else
               f" ({shown}, ...) for {lines:,} sequences, {lines / len(values):.1f} a value: quantities")
        return "regress", f"the labels are {len(values):,} different {kind}{why}, not classes", tokenizer
    whole = whole_number_labels(values or ())
    if whole:  # many whole numbers, each seen often enough to be a class: say what classes cannot do
        return "classify", (f"one label per sequence; its {len(values):,} labels are whole numbers ({whole}), each "
                            f"a class: a number not among them cannot be predicted, --task regress reads them as "
                            f"numbers"), tokenizer
    return "classify", "one label per sequence", tokenizer


def whole_number_labels(names) -> str:
    """``'0 to 29'`` when the labels ``names`` are more than 10 different whole numbers (a count, a sum, a
    score, which a classifier learns as so many classes and cannot go beyond), else ``''``."""
    names = list(names)
    if len(names) <= 10 or not all(_WHOLE.fullmatch(n) for n in names):
        return ""
    values = sorted(int(n) for n in names)
    return f"{values[0]} to {values[-1]}"


QUANTITY_LINES = 20  # whole-number labels seen fewer times than this each, on average, are quantities


def quantities(names, lines: int) -> bool:
    """Whole-number labels that are quantities (a sum, a count, a price) rather than class ids: more than
    10 different ones (or sets of the same count), each on fewer than ``QUANTITY_LINES`` of the ``lines``
    on average, too few to learn each as a class, and a value not seen in training (a larger sum) could
    not be predicted at all.  Class ids (``0``-``19``, star ratings) are few and each seen often."""
    values = _number_sets(names)
    return values is not None and len(values) > 10 and lines < QUANTITY_LINES * len(values)


def detect_numbers(path, *, fmt: str | None = None, text_col: str = "text", label_col: str = "label",
                   tokenizer: str = "space") -> str | None:
    """Why the sequences of a classify, tag or regress file are measured values (``--inputs numbers``), or
    None: every space-separated step of every sequence is a number, or the same count of numbers joined
    by commas (``0.5,1.2``), and they are measurements by :func:`measured_values` (more than 10 different
    ones, some with a fraction).  Whole numbers (``3 1 4``, word ids) stay symbols."""
    path = os.fspath(path)
    steps: set = set()
    for _, text, _ in _rows(path, _format_of(path, fmt), text_col, label_col, numbers="any"):
        if text is None:
            continue
        for step in (_items(text) if tokenizer == "commas" else text.split()):
            if step not in steps:
                if not all(_DECIMAL.fullmatch(p) for p in step.split(",")):
                    return None
                steps.add(step)
    if not measured_values(" ".join(step.split(",")) for step in steps):
        return None
    width = len(next(iter(steps)).split(","))
    what = "a number" if width == 1 else f"{width} numbers joined by commas"
    if tokenizer == "commas":
        what += " (the steps separated by commas)"
    return f"every step of its sequences is {what}, {len(steps):,} different steps, some with a fraction: measurements"


def measured_values(names) -> bool:
    """Labels that look like measurements rather than classes: more than 10 different ones, each a number
    (or the same count of numbers, separated by spaces), some with a fraction (``0.333``, ``2.5``).  A nan
    or inf among them counts as a number, not towards the 10: the reader that follows refuses it by line."""
    values = _number_sets(names)
    return values is not None and len(values) > 10 and any(x != int(x) for v in values for x in v)


def _number_sets(names) -> list | None:
    """The distinct finite values of ``names`` (each a number, or the same count of numbers separated by
    spaces; a nan or inf one is left out), or None when one is not numbers or their counts differ."""
    try:
        values = {tuple(decimal(p) for p in n.split()) for n in set(names)}
    except ValueError:
        return None
    if len({len(v) for v in values}) != 1 or not next(iter(values)):
        return None
    return [v for v in values if all(math.isfinite(x) for x in v)]


FORMATS = ("tsv", "csv", "jsonl", "conll", "conllu", "fasttext")
FASTTEXT = "__label__"  # the prefix of a label in fastText's files: __label__pos the text
CONLL = ("conll", "conllu")  # a token per line, sentences between blank lines


def _format_of(path: str, fmt: str | None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise ValueError(f"format={fmt!r} is not known; choose one of {', '.join(FORMATS)}")
        return fmt
    return {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".conll": "conll",
            ".conllu": "conllu"}.get(_ext(path), "tsv")


def _fields(line: str) -> list:
    """A CoNLL line's columns: split at tabs when it has any (a token may then hold a space, which is
    refused by name), else at runs of whitespace (CoNLL-2003's own files)."""
    return [c.strip() for c in line.split("\t")] if "\t" in line else line.split()


def _sample(lines) -> list:
    """The first 1,000 non-blank of ``lines`` (looked for among the first 5,000), that a format is told by."""
    return [line for line in lines[:5000] if line.strip()][:1000]


def _fasttext_lines(lines) -> bool:
    """Lines of fastText's classification files: nearly all (95%) of the first 1,000 non-blank ones start
    with ``__label__``, and none holds a tab."""
    some = _sample(lines)
    return bool(some) and not any("\t" in line for line in some) and sum(
        line.lstrip().startswith(FASTTEXT) for line in some) >= 0.95 * len(some)


def detect_format(path, *, text_col: str = "text", label_col: str = "label",
                  task: str | None = None) -> tuple[str, str | None]:
    """``(format, why)``: the format by the file's extension (``why`` None), ``"fasttext"`` for a file
    named otherwise whose lines are fastText's (``__label__pos the text``; not for ``task`` tag), or
    ``"conll"`` for a file
    named otherwise (``.tsv``, ``.txt``, none) that holds CoNLL-style sentences -- a token and its
    tags on each line, the same number of columns on nearly every line, blank lines between sentences
    of more than one token, and few distinct tags in the last column -- which read line by line would
    be one-token sequences."""
    path = os.fspath(path)
    fmt = _format_of(path, None)
    if fmt != "tsv" or (text_col, label_col) != ("text", "label"):
        return fmt, None
    lines = _lines(read_utf8(path))[:20000]
    if task in (None, "classify") and _fasttext_lines(lines):
        return "fasttext", f"fastText lines: {FASTTEXT}NAME, then the text"
    if task in (None, "classify") and _numeric_table(lines) == ",":  # the UCR archive's older files
        return "csv", "CSV: one series a line in numbers separated by commas"
    if task not in (None, "tag"):
        return fmt, None
    rows, blocks, run, widths, tags, firsts = 0, [], 0, {}, set(), set()
    for line in lines + [""]:
        if not line.strip():
            if run:
                blocks.append(run)
            run = 0
            continue
        f = _fields(line)
        if f and f[0] == "-DOCSTART-":
            continue
        rows, run = rows + 1, run + 1
        widths[len(f)] = widths.get(len(f), 0) + 1
        if len(f) >= 2:
            tags.add(f[-1])
            firsts.add(f[0])
    if rows < 4 or len(blocks) < 2 or max(blocks) < 2:
        return fmt, None
    k, n_k = max(widths.items(), key=lambda kv: kv[1])
    if k < 2 or n_k < 0.95 * rows or widths.get(1, 0) > 0.01 * rows:
        return fmt, None
    if {t.lower() for t in (lines[0].split("\t") if lines else [])} >= {"text", "label"}:
        return fmt, None  # a header line: a table
    if len(tags) > 100 or len(tags) > 0.2 * rows or len(firsts) <= len(tags):
        return fmt, None
    return "conll", f"CoNLL: a token and its tags on each line ({k} columns), sentences between blank lines"


def _clip(text: str, n: int = 40) -> str:
    """``text`` as a message shows it: at most ``n`` characters, then ``...`` (a cell of 5,000 characters
    named in a note made a note of 5,000)."""
    return text if len(text) <= n else text[:n] + "..."


def _ext(path: str) -> str:
    """The extension that names a file's format, lower-cased: ``.csv`` for ``train.csv`` and ``train.csv.gz``."""
    base = path[:-3] if path.lower().endswith(".gz") else path
    return os.path.splitext(base)[1].lower()


def _require_file(path: str) -> None:
    """A data file must be a regular file: a folder cannot be read, and a pipe or /dev/zero would be
    read for ever."""
    if path == "-" and not os.path.exists(path):
        raise DataError("-: standard input is not read here (training reads its files more than once, and "
                        "--resume checks them); save it to a file and give the file's name (bptt predict reads "
                        "standard input)")
    if not os.path.isfile(path):
        raise DataError(f"{path}: " + ("not a regular file (a folder, a pipe or a device)" if os.path.exists(path)
                                        else "no such file"))


def read_utf8(path) -> str:
    """The whole of a UTF-8 file; errors name the file, and the line of a bad byte."""
    path = os.fspath(path)
    _require_file(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DataError(f"{path}: cannot read: {e.strerror or e}") from None
    if raw[:2] == GZIP_MAGIC:
        raw = _gunzip(raw, path)
    else:
        table = _table_file(raw, path)
        if table is not None:
            raise DataError(f"{path}: is {table[0]}, not text: {table[1]} (bptt reads UTF-8 text: TSV, CSV, JSON Lines)")
        for magic, what in _PACKED.items():
            if raw.startswith(magic):
                raise DataError(f"{path}: is {what}, not text: unpack it first (bptt reads UTF-8 text, plain or "
                                f"gzip-compressed)")
    return decode_utf8(raw, path)


GZIP_MAGIC = b"\x1f\x8b"  # the first two bytes of a gzip file (bptt.data.vectors reads them too)
_PACKED = {b"PK\x03\x04": "a zip archive", b"BZh": "bzip2-compressed", b"\xfd7zXZ\x00": "xz-compressed",
           b"\x28\xb5\x2f\xfd": "zstd-compressed"}
GUNZIP_CHUNK = 64 << 20
_TO_JSONL = "python -c \"import pandas as pd; pd.{}('{}').to_json('{}', orient='records', lines=True)\""


def _table_file(raw: bytes, path: str):
    """``(what, how to write it as text)`` for the binary files tables are kept in (Parquet, as Hugging Face's
    datasets are stored; Arrow, as they are cached; Excel workbooks; a pickle), else None.  Parquet and Arrow
    files hold their mark at both ends (a text file may well begin with PAR1)."""
    out = os.path.splitext(os.path.basename(path))[0] + ".jsonl"
    if raw.startswith(b"PAR1") and raw.endswith(b"PAR1") and len(raw) >= 8:
        return "a Parquet file", "write it as JSON Lines, e.g. " + _TO_JSONL.format("read_parquet", path, out)
    if raw.startswith(b"ARROW1") and raw.endswith(b"ARROW1") and len(raw) >= 12:
        return "an Apache Arrow file", "write it as JSON Lines, e.g. " + _TO_JSONL.format("read_feather", path, out)
    from ..checkpoint import is_model_file  # here: checkpoint reads this module's marks

    if raw.startswith(b"PK\x03\x04") and is_model_file(io.BytesIO(raw)):  # given as data by mistake
        return "a bptt model file (as bptt train --out writes one)", "give it as --model, and a data file as --data"
    if raw.startswith(b"PK\x03\x04") and b"xl/" in raw[:1 << 16]:
        return "an Excel workbook", "save it as CSV UTF-8 (Excel: File > Save As > CSV UTF-8)"
    if raw.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "an Excel 97-2003 workbook (or another old Office file)", "save it as CSV UTF-8"
    if is_pickle(raw):
        return "a Python pickle", "bptt never reads pickles (they can run code); write the data as JSON Lines"
    return None


def is_pickle(head: bytes) -> bool:
    """Whether bytes open as a pickle of protocol 2-5 does (bptt.checkpoint names such a model file too)."""
    return head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")


def _gunzip_limit() -> int:
    """The most bytes a gzip-compressed data file may unpack to: half the free memory (4 GiB when it cannot
    be read), so that a small file that unpacks to far more (a zip bomb) is refused, not read."""
    from ..memory import available_bytes

    free = available_bytes("cpu")
    return (4 << 30) if free is None else free // 2


def _gunzip(raw: bytes, path: str) -> bytes:
    """A gzip file's contents (every member of a concatenated one), unpacked a chunk at a time up to
    :func:`_gunzip_limit`; a damaged or truncated file is refused by name."""
    import zlib

    from ..memory import size

    limit, unpacked, out, data = _gunzip_limit(), 0, [], raw
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # a gzip header and trailer around the deflate stream
    try:
        while True:
            chunk = d.decompress(data, GUNZIP_CHUNK)
            unpacked += len(chunk)
            if unpacked > limit:
                raise DataError(f"{path}: unpacks to more than {size(limit)} (half the free memory); "
                                f"unpack it yourself if it is meant to be that large")
            out.append(chunk)
            data = d.unconsumed_tail
            if data:
                continue
            if d.eof and d.unused_data.strip(b"\x00"):  # another member follows
                data = d.unused_data
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                continue
            break
    except zlib.error as e:
        raise DataError(f"{path}: a damaged gzip file ({e})") from None
    if not d.eof:
        raise DataError(f"{path}: a truncated gzip file (it ends before its data do)")
    return b"".join(out)


def decode_utf8(raw: bytes, name: str) -> str:
    """``raw`` as UTF-8 text (a BOM dropped), or as UTF-16 / UTF-32 when it opens with their BOM (Excel's
    "Unicode Text" and Windows tools write UTF-16); errors name ``name`` (a file, "stdin") and the line."""
    for bom, codec in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
                       (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError as e:
                line = raw[: e.start].decode(codec, errors="replace").count("\n") + 1
                raise DataError(f"{name}:{line}: not valid {codec.upper()} (it opens with a {codec.upper()} byte-order "
                                f"mark); save the file as UTF-8") from None
            if "\x00" in text:
                line = text[: text.find("\x00")].count("\n") + 1
                raise DataError(f"{name}:{line}: holds NUL characters: a binary file, not text")
            return text
    if b"\x00" in raw:
        line = raw[: max(raw.find(b"\x00"), 0)].count(b"\n") + 1
        raise DataError(f"{name}:{line}: holds NUL bytes: UTF-16 without a byte-order mark, or a binary file, not "
                        f"UTF-8 text; save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise DataError(f"{name}:{line}: not valid UTF-8 (byte {raw[e.start]:#04x}); save the file as UTF-8") from None


def text_lines(content: str) -> list:
    """The lines of a text (line feeds, CR LF or lone carriage returns), without a final empty one."""
    lines = _lines(content)
    return lines[:-1] if lines and lines[-1] == "" else lines


def _lines(content: str) -> list:
    """Lines split at a line feed, a CR LF or a lone carriage return (old Mac files) -- and at
    nothing else: a U+2028 inside a JSON string or a text is not a line break."""
    return content.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _lone_cr_hint(path: str, n: int) -> str:
    """Why line ``n`` of a file of line feeds may be a fragment: a lone carriage return ends it or
    the line before it (``_lines`` ends a line there, as old Mac files need), said beside that
    line's error; "" where neither line ends at one, or the file has no line feeds."""
    content = read_utf8(path).replace("\r\n", "\n")
    if "\r" not in content or "\n" not in content:
        return ""
    line = 1
    for m in re.finditer("[\r\n]", content):
        if line > n:
            break
        if m.group() == "\r" and line >= n - 1:
            return (f" (line {line} ends at a lone carriage return, \\r, in a file whose lines end at line feeds; "
                    f"bptt ends a line at each, as old Mac files need: remove the stray \\r, e.g. tr -d '\\r')")
        line += 1
    return ""


def _whole(v):
    """A float that is a whole number as that int; anything else as it is."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _finite(t) -> bool:
    """Whether a JSON number is a finite float (an integer of 400 digits is not: it overflows)."""
    try:
        return math.isfinite(float(t))
    except OverflowError:
        return False


def _json_number(t) -> bool:
    """A JSON value that is a finite number (not a bool)."""
    return isinstance(t, (int, float)) and not isinstance(t, bool) and _finite(t)


def _steps_problem(v: list) -> str | None:
    """What is wrong with a JSON list of steps that is nearly numbers (an empty list, a step that is NaN
    or infinite, an empty step), said by step; None for anything else (steps of different widths are
    told where the steps are read as numbers)."""
    if not v:
        return "is an empty list: a sequence needs at least one step"
    plain = lambda t: isinstance(t, (int, float)) and not isinstance(t, bool)  # noqa: E731
    if all(plain(t) for t in v) or all(isinstance(t, list) and all(plain(u) for u in t) for t in v):
        for k, t in enumerate(v, 1):
            if isinstance(t, list) and not t:
                return f"step {k} is an empty list: a step holds at least one number"
            bad = next((u for u in (t if isinstance(t, list) else [t]) if not _finite(u)), None)
            if bad is not None:
                return f"step {k} holds {bad!r}: every number of a step must be finite"
    return None


def _json_label(t) -> str:
    """A JSON label as the file writes it: a string as it is, 3 as "3", true as "true"."""
    return ("true" if t else "false") if isinstance(t, bool) else str(t)


def _json_value(v, what: str, many: bool, numbers: bool | str = False):
    """A JSONL cell as text: a string, or an integer or true/false label; a tag target may be a list of those.
    With ``numbers`` (regress) a label may be any finite number, or a list of them; ``numbers="any"``
    (:func:`detect_task`) takes either kind of label."""
    if isinstance(v, str):
        return v
    if what == "text" and isinstance(v, list) and v:  # numbers a step (--inputs numbers), as its text reads them
        if all(_json_number(t) for t in v):
            return " ".join(repr(float(t)) for t in v)
        if all(isinstance(t, list) and t and all(_json_number(u) for u in t) for t in v):
            return " ".join(",".join(repr(float(u)) for u in t) for t in v)
        if all(isinstance(t, str) for t in v):  # tokens already split, as Hugging Face's sets write them: one a step
            if any(holds_whitespace(t) for t in v):
                raise ValueError(f"text list holds an empty token or one with a space (each item is one token): "
                                 f"{json.dumps(v)[:40]}")
            return " ".join(v)
    if numbers and what != "text":
        vals = v if isinstance(v, list) and v else [v]
        if all(_json_number(t) for t in vals):
            return " ".join(repr(float(t)) for t in vals)
        if numbers != "any":
            raise ValueError(f"{what} must be a finite number or a list of them (regress), got "
                             f"{'null' if v is None else type(v).__name__}: {json.dumps(v)[:40]}")
    w = v  # 1.0, as pandas writes an integer column, is the integer 1
    if what != "text":
        w = [_whole(t) for t in v] if isinstance(v, list) else _whole(v)
    if isinstance(w, int) and what != "text":  # true / false (as pandas writes a bool column) read as they are written
        return _json_label(w)
    if many and isinstance(w, list) and all(isinstance(t, (str, int)) for t in w):
        if any(isinstance(t, str) and holds_whitespace(t) for t in w):
            raise ValueError(f"{what} list holds an empty tag or one with a space")
        return " ".join(_json_label(t) for t in w)
    if what == "text" and isinstance(v, list):
        problem = _steps_problem(v)
        if problem:
            raise ValueError(f"text {problem}")
    kind = "null" if v is None else type(v).__name__
    want = ("a string (or for --inputs numbers a list of finite numbers, or of lists of them)" if what == "text" else
            "a string, a whole number or true/false" + (" (or a list of them)" if many else ""))
    fraction = what != "text" and all(_json_number(t) for t in (v if isinstance(v, list) and v else [v]))
    raise ValueError(f"{what} must be {want}, got {kind}: {json.dumps(v)[:40]}" +
                     (" (a number with a fraction: --task regress predicts numbers)" if fraction else ""))


def _header_names(cells):
    return [c.strip().lower() for c in cells]


# what tables name their two columns, besides "text" and "label" (a header of two cells naming one of
# each is read as the header; one naming "text" or "label" and any other word is read too)
TEXT_NAMES = frozenset("""text texts sentence sentences sequence sequences seq seqs review reviews input inputs
    string strings tokens words document documents doc content tweet tweets comment comments title body
    utterance utterances query question message phrase phrases smiles dna protein x source series signal
    trace""".split())
LABEL_NAMES = frozenset("""label labels class classes target targets y sentiment polarity tag tags category
    categories output outputs score scores rating ratings stars intent topic emotion gold answer value
    values""".split())


def _text_name(name: str) -> bool:
    """A column's name that names sequences (lower-cased): ``sentence``, or ``review_text``, ``src_tokens``."""
    return name in TEXT_NAMES or name.endswith(("_text", "_tokens", "_sentence", "_seq", "_sequence"))


def _label_name(name: str) -> bool:
    """A column's name that names targets (lower-cased): ``sentiment``, or ``ner_tags``, ``gold_label``."""
    return name in LABEL_NAMES or name.endswith(("_tags", "_tag", "_label", "_labels", "_class", "_target", "_score"))


def _name_like(cell: str) -> bool:
    """A header cell names a column: a word or a few, not a number."""
    cell = cell.strip()
    return bool(cell) and len(cell.split()) <= 3 and not _DECIMAL.fullmatch(cell)


def _header_unseen(body) -> bool:
    """The first of ``body``'s lines names columns rather than holds values: neither cell is also a value
    of its column on another line (a class or a sequence repeats; a column's name does not)."""
    head = [c.strip() for c in body[0]]
    return not any(len(c) == 2 and (c[0].strip() == head[0] or c[1].strip() == head[1]) for c in body[1:])


_NAN = frozenset(("nan", "NaN", "NAN", ""))  # a missing step: the UCR archive pads shorter series with NaN


def _common_width(rows) -> tuple:
    """``(K, the rows of K cells)``: the commonest count of cells, and its rows when nearly all (90%) have it
    (else None in their place)."""
    widths: dict = {}
    for c in rows:
        widths[len(c)] = widths.get(len(c), 0) + 1
    k = max(widths, key=widths.get)
    return k, ([c for c in rows if len(c) == k] if widths[k] >= 0.9 * len(rows) else None)


def _wide(body):
    """The layout of a file of one series a line, a column a step, and the label in the first column (the
    UCR time-series archive's files: ``2<TAB>1.19<TAB>0.93<TAB>...``) or the last (a wide table,
    ``x0,x1,...,label``): ``(steps, label column, columns, header, why)``, ``steps`` a slice; or None.
    At least 11 lines (under an optional header line of names, which is left), nearly all (90%) of the
    same K >= 4 cells; every cell between the label and the other end a number (or NaN, as the archive
    pads a shorter series at its end: those steps are left out); the label column holds whole numbers
    or words, at most max(10, a quarter of the lines) different ones, while the other end column is
    numbers with a fraction somewhere (a step's values), and not labels too (then which end is the
    label cannot be told, and the reader asks)."""
    header = all(_name_like(c) and not _DECIMAL.fullmatch(c.strip()) for c in body[0]) and len(body[0]) >= 4
    rows = body[1:] if header else body
    if len(rows) < 11:
        return None
    k, rows = _common_width(rows)
    if k < 4 or rows is None or (header and len(body[0]) != k):
        return None

    def labels_like(j):
        cells = [c[j].strip() for c in rows]
        if len(set(cells)) > max(10, len(rows) / 4) or not all(cells):
            return False
        return not any(_DECIMAL.fullmatch(x) and decimal(x) != int(decimal(x)) for x in cells
                       if _DECIMAL.fullmatch(x) and math.isfinite(decimal(x)))

    def steps_like(cols):
        vals = [c[j].strip() for c in rows[:500] for j in cols]
        return all(x in _NAN or _DECIMAL.fullmatch(x) for x in vals) and any(
            _DECIMAL.fullmatch(x) and math.isfinite(decimal(x)) and decimal(x) != int(decimal(x)) for x in vals)

    first, last = labels_like(0), labels_like(k - 1)
    if first and not last and steps_like(range(1, k)):
        steps, label, where = slice(1, k), 0, "first"
    elif last and not first and steps_like(range(0, k - 1)):
        steps, label, where = slice(0, k - 1), k - 1, "last"
    else:
        return None
    kinds = len({c[label].strip() for c in rows})
    head = " under a header line" if header else ""
    return (steps, label, k, header, f"{k} columns of numbers on every line{head}, one series a line as the UCR "
            f"archive writes them: the label {where} ({kinds} different values), then {k - 1} steps, read as a "
            f"sequence of numbers (NaN cells at the end of a line are steps the series does not have)")


def _label_then_texts(body):
    """The layout of a file without a header whose lines are a class, then K - 1 >= 2 columns of text, as the
    classic text classification sets of Zhang et al. (2015) are written (AG News: ``"3","Wall St. Bears Claw
    Back","Reuters - Short-sellers, ..."``; DBpedia, Yahoo! Answers): ``(slice(1, K), 0, K, False, why)``,
    the text columns read as one sequence joined by spaces; or None.  At least 11 lines, nearly all (90%)
    of K >= 3 cells; the first cells single words or whole numbers, at most max(10, a quarter of the lines)
    different ones, the first line's among the others' (no header); every other column text, of two words or
    more on at least half of the lines (a column of ids or numbers is not text: such a file is refused for
    its columns, with the options that name them)."""
    if len(body) < 11:
        return None
    k, rows = _common_width(body)
    if k < 3 or rows is None or len(body[0]) != k:
        return None
    labels = [c[0].strip() for c in rows]
    kinds = set(labels)
    if (not all(labels) or not 2 <= len(kinds) <= max(10, len(rows) / 4) or labels.count(labels[0]) < 2
            or any(holds_whitespace(x) or _DECIMAL.fullmatch(x) and not _WHOLE.fullmatch(x) for x in kinds)):
        return None
    if not all(sum(len(c[j].split()) >= 2 for c in rows) >= 0.5 * len(rows) for j in range(1, k)):
        return None
    return (slice(1, k), 0, k, False, f"no header line; {k} columns on every line: a label first ({len(kinds)} "
            f"different values), then {k - 1} columns of text read as one sequence, joined by spaces (as Zhang et "
            f"al.'s AG News, DBpedia and Yahoo! Answers files are written)")


def _numeric_table(lines) -> str | None:
    """``","`` or ``" "`` for lines without tabs that are one series a line in numbers separated by commas
    or by spaces (the UCR archive's older files, ``CBF_TRAIN`` without an extension): nearly all (90%) of
    the first 1,000 non-blank lines (11 or more) split so into the same count of 4 or more numbers (or NaN),
    read as :func:`_wide` reads a table (a label column at one end, steps with fractions); else None (lines
    of whole numbers, such as a language model's note numbers, stay text)."""
    some = _sample(lines)
    if len(some) < 11 or any("\t" in line for line in some):
        return None
    for sep in (",", None):
        widths: dict = {}
        rows = [[c.strip() for c in line.strip().split(sep)] for line in some]
        for cells in rows:
            if len(cells) >= 4 and all(c in _NAN or _DECIMAL.fullmatch(c) for c in cells):
                widths[len(cells)] = widths.get(len(cells), 0) + 1
        if widths and max(widths.values()) >= 0.9 * len(some) and _wide(rows) is not None:
            return sep or " "
    return None


def _cell_text(cells, col) -> str:
    """A row's sequence: its cell ``col``, or for a slice (one series a line, a column a step: :func:`_wide`)
    those cells' steps separated by spaces, without the NaN that pad a shorter series at its end."""
    if not isinstance(col, slice):
        return cells[col]
    steps = [c.strip() for c in cells[col]]
    while steps and steps[-1] in _NAN:
        steps.pop()
    return " ".join(steps)


def _unnamed_names(body, known: frozenset | None = None) -> str | None:
    """Why the first of ``body``'s lines (two cells, each a word or a few) is read as a header naming the
    columns in words no list of :data:`TEXT_NAMES` and :data:`LABEL_NAMES` knows (``number,divisible``),
    or None.  It is one when, of at least 11 lines nearly all of two cells, neither of its cells is a
    value of its column on another line (:func:`_header_unseen`) and its second cell is no number, while
    the other lines' second cells are numbers (a regression's targets), or repeat (at most half as many
    different words as words, the labels of classes or tags) and share no word with it, and its first
    cell holds a character or a word that no other line's does (``number`` above ``0110``; a first line
    in the others' symbols may be an example of a rare class, which :func:`_unnamed_header` asks about).
    Read as an example it would be a class of its own, of one line.  Given ``known``, the labels of the
    model that reads the file, when 90% of the other lines' label words are the model's, it is one when,
    of 2 lines or more, no word of its second cell is."""
    pairs = [(c[0].strip(), c[1].strip()) for c in body if len(c) == 2]
    least = 2 if known is not None else 11
    if len(body) < least or len(pairs) < 0.9 * len(body) or len(body[0]) != 2 or not _header_unseen(body):
        return None
    a, b = pairs[0]
    if not a or not b or len(a.split()) > 3 or len(b.split()) > 3 or any(_DECIMAL.fullmatch(w) for w in b.split()):
        return None
    rest = [w for _, lab in pairs[1:] for w in lab.split()]
    texts = [t for t, _ in pairs[1:]]
    # its sequence holds a character or a word that no other line's does (a column's name above the data)
    foreign = set(a) - set("".join(texts)) or not set(a.split()) & {w for t in texts for w in t.split()}
    if not rest or not foreign:
        return None  # an example, of a rare class perhaps (or a header the reader asks about: _unnamed_header)
    if known is not None and sum(w in known for w in rest) >= 0.9 * len(rest):  # the model's labels
        if set(b.split()) & known:
            return None
        kind = "whose other values are the model's labels"
    elif len(body) < 11:
        return None
    elif all(_DECIMAL.fullmatch(w) for w in rest):
        kind = "whose other cells are numbers"
    elif not set(b.split()) & set(rest) and len(set(rest)) <= len(rest) / 2:
        kind = "whose values repeat"
    else:
        return None
    return (f"its first line ({a[:40]!r}, {b[:40]!r}) is read as the header naming the columns: {b[:40]!r} is on no "
            f"other line of the label column, {kind}, and {a[:40]!r} holds what no other line's sequence does (if "
            f"the line is an example, put a header line text and label above it)")


def _fasttext_split(line: str) -> tuple[list, str]:
    """A fastText line's labels (its leading ``__label__`` words) and the text after them."""
    parts = line.split(None)
    k = next((i for i, p in enumerate(parts) if not p.startswith(FASTTEXT)), len(parts))
    return parts[:k], line.split(None, k)[k] if k < len(parts) else ""


def _fasttext_rows(content: str):
    """``(line, text, label)`` of a fastText file (``__label__pos the text``: the label is what follows
    the prefix), or ``(line, None, message)``: a line without a label, or with several (fastText's
    multi-label lines: bptt classifies one label per sequence)."""
    for n, line in enumerate(_lines(content), 1):
        if not line.strip():
            continue
        labels, text = _fasttext_split(line)
        if not labels:
            yield n, None, f"does not start with a label ({FASTTEXT}NAME, then the text, as fastText's files are)"
        elif len(labels) > 1:
            yield n, None, (f"has {len(labels)} labels ({' '.join(labels)[:80]}): bptt classifies one label per "
                            f"sequence; keep one")
        elif labels[0] == FASTTEXT:
            yield n, None, f"has an empty label ({FASTTEXT} with no name after it)"
        else:
            yield n, text, labels[0][len(FASTTEXT):]


def _json_error(e: Exception) -> str:
    if isinstance(e, json.JSONDecodeError):
        return f"not valid JSON ({e.msg})"
    if isinstance(e, RecursionError):
        return "not usable JSON (nested too deeply)"
    return f"not usable JSON ({str(e).split(';')[0]})"  # e.g. an integer of thousands of digits


def json_keys(content: str, text_col: str = "text", label_col: str = "label") -> tuple:
    """``(text key, label key, why)``: the keys a JSON(L) file's records hold their sequence and label
    under.  ``text_col`` and ``label_col`` when nearly every record holds them (:func:`_json_common_keys`),
    or when they are not the defaults (named by ``--text-col``/``--label-col``); else the one such key named
    as sequences are (:func:`_text_name`: ``sentence``, ``string``, ``review_text``) and the one named as
    labels are (:func:`_label_name`: ``sentiment``, ``gold_label``), ``text``/``label`` themselves first;
    of records of two keys, one named so, the other is the other column.  ``why`` says what was chosen
    (None when it is ``text_col`` and ``label_col``)."""
    if (text_col, label_col) != ("text", "label"):
        return text_col, label_col, None
    keys = _json_common_keys(content)
    if not keys or {text_col, label_col} <= keys:
        return text_col, label_col, None
    texts = [text_col] if text_col in keys else [k for k in keys if _text_name(k.strip().lower())]
    labels = [label_col] if label_col in keys else [k for k in keys if _label_name(k.strip().lower())]
    if len(keys) == 2:  # records of two keys: one named, the other is the other column
        if len(texts) == 1 and not labels:
            labels = list(keys - set(texts))
        elif len(labels) == 1 and not texts:
            texts = list(keys - set(labels))
    if len(texts) != 1 or len(labels) != 1 or texts == labels:
        return text_col, label_col, None
    return texts[0], labels[0], (f"its records' keys {_clip(texts[0])!r} and {_clip(labels[0])!r} are read as the "
                                 f"sequences and the labels")


def _json_common_keys(content: str) -> set | None:
    """The keys nearly every record (90%) of the first 1,000 of a JSON(L) file holds, so that a bad
    record does not hide the others' keys (None: no record)."""
    counts: dict = {}
    n = 0
    for k, (_, obj, err) in enumerate(_json_objects(content)):
        if k == 1000:
            break
        n += 1
        if err is None and isinstance(obj, dict):
            for key in obj:
                counts[key] = counts.get(key, 0) + 1
    return {key for key, c in counts.items() if c >= 0.9 * n} if n else None


def _json_text_key(content: str, text_col: str) -> str:
    """The key of a JSON(L) file's sequences for ``bptt predict``: ``text_col`` when every record holds it
    or it was named; else as :func:`json_keys` finds it, or the one key named as sequences are, or the
    records' only key."""
    if text_col != "text":
        return text_col
    key = json_keys(content)[0]
    keys = _json_common_keys(content)
    if key != text_col or not keys or text_col in keys:
        return key
    named = [k for k in keys if _text_name(k.strip().lower())]
    return named[0] if len(named) == 1 else next(iter(keys)) if len(keys) == 1 else text_col


def _keys_hint(obj, advice: str = ": --text-col KEY --label-col KEY name the two") -> str:
    """What a JSON record that lacks the keys read holds instead, and (``advice``) the options that name them."""
    if not isinstance(obj, dict) or not obj:
        return ""
    shown = ", ".join(repr(k[:30]) for k in list(obj)[:6]) + (", ..." if len(obj) > 6 else "")
    texts = [k for k in obj if isinstance(k, str) and _text_name(k.strip().lower())]
    labels = [k for k in obj if isinstance(k, str) and _label_name(k.strip().lower())]
    if len(texts) == 1 and 1 < len(labels) <= 6:  # conll2003's records: tokens, pos_tags, chunk_tags, ner_tags
        return (f" (it has {shown}: --text-col {texts[0]} --label-col KEY, KEY one of "
                f"{', '.join(repr(k) for k in labels)}, name the two)")
    return f" (it has {shown}{advice})"


def _json_objects(content: str):
    """``(line, value, None)`` for each record of a JSON Lines file, or of a JSON array of records
    (``[{...}, {...}]``, as ``pandas.DataFrame.to_json(orient="records")`` writes one; the line is where
    the record starts), or ``(line, None, message)`` for one that cannot be read (an array stops there)."""
    start = len(content) - len(content.lstrip())
    if not content.startswith("[", start):
        for n, line in enumerate(content.replace("\r\n", "\n").split("\n"), 1):
            if not line.strip():
                continue
            try:
                yield n, json.loads(line), None
            except (ValueError, RecursionError) as e:
                yield n, None, _json_error(e)
        return
    decoder, line, seen = json.JSONDecoder(), 1, 0

    def at(i):  # the line of offset i, counted on from the last one asked for
        nonlocal line, seen
        line, seen = line + content.count("\n", seen, i), i
        return line

    def skip(i):
        while i < len(content) and content[i] in " \t\r\n":
            i += 1
        return i

    i = skip(start + 1)
    if content.startswith("]", i):
        i = skip(i + 1)
    else:
        while True:
            try:
                value, end = decoder.raw_decode(content, i)
            except (ValueError, RecursionError) as e:
                yield at(getattr(e, "pos", i)), None, _json_error(e)
                return
            yield at(i), value, None
            i = skip(end)
            if content.startswith(",", i):
                i = skip(i + 1)
                continue
            if content.startswith("]", i):
                i = skip(i + 1)
                break
            yield at(i), None, "not valid JSON (a record of the array is followed by neither ',' nor ']')"
            return
    if i < len(content):
        yield at(i), None, "not valid JSON (more after the array's closing ']')"


def _semicolons(lines) -> bool:
    """A CSV file written with semicolons between its columns (as spreadsheets do where the comma is the
    decimal mark): each of its first 1,000 non-blank lines splits at semicolons into the same count of 2
    or more cells, and at commas not so (commas inside a text split lines into counts that differ)."""
    some = _sample(lines)
    if not some or not all(";" in line for line in some):
        return False
    by_semi = {len(next(csv.reader([line], delimiter=";"))) for line in some}
    by_comma = {len(next(csv.reader([line]))) for line in some}
    return len(by_semi) == 1 and min(by_semi) >= 2 and not (len(by_comma) == 1 and min(by_comma) >= 2)


def _table_rows(content: str, fmt: str, seen: dict | None = None) -> tuple[list, str]:
    """A TSV or CSV file's ``(first line, cells, last line)``, and the separator's name; CSV stops at a
    line it cannot read, given as ``(line, None, message)``.  A CSV file of semicolons
    (:func:`_semicolons`) is split at them, and its cells of numbers written with decimal commas read
    with points (:func:`_points`; ``seen`` gets the first such cell as ``"comma"`` and ``"point"``)."""
    lines = _lines(content)
    if fmt == "csv" and _semicolons(lines):
        rows = []
        for n, cells, end in _csv_rows(lines, ";"):
            if cells is not None:
                pointed = [_points(c) for c in cells]
                if seen is not None and "comma" not in seen and pointed != cells:
                    i = next(i for i, (a, b) in enumerate(zip(cells, pointed)) if a != b)
                    seen.update(comma=cells[i].strip(), point=pointed[i])
                cells = pointed
            rows.append((n, cells, end))
        return rows, "semicolon"
    if fmt == "tsv" and _numeric_table(lines) == " ":  # one series a line in numbers separated by spaces
        return [(n, line.split(), n) for n, line in enumerate(lines, 1)], "space"
    if fmt == "tsv":  # no quoting: every tab separates
        rows = [(n, line.split("\t"), n) for n, line in enumerate(lines, 1)]
        cols = _comma_columns(rows)
        for j, (comma, point) in cols.items():
            for _, cells, _ in rows:
                if j < len(cells):
                    cells[j] = _points(cells[j])  # a header's name (no comma) stays
            if seen is not None and "comma" not in seen:
                seen.update(comma=comma, point=point, column=j + 1)
        return rows, "tab"
    return list(_csv_rows(lines)), "comma"


_WHOLE = re.compile(r"[+-]?[0-9]+")
_THOUSANDS = re.compile(r"[+-]?[1-9][0-9]{0,2}(?:,[0-9]{3})+")


def _comma_columns(rows) -> dict:
    """The columns of a TSV file (0-based) that hold one number a cell written with a decimal comma, as a
    spreadsheet exports one where the comma is the decimal mark (``0,55``): every cell but the first
    line's (a header) a whole number or such a number, some with a comma, and not every comma one
    that groups thousands (``1,250``, which a file of points writes); ``{column: (a cell, as read)}``.
    Cells of several parts (a sequence, several outputs: ``1,2 3,4`` may be steps of two numbers) and
    columns with a point anywhere are left as written."""
    body = [c for _, c, _ in rows if not _blank(c)]
    if len(body) < 2:
        return {}
    out = {}
    for j in range(len(body[1])):
        cells = [c[j].strip() for c in body if j < len(c)]
        if j < len(body[0]) and "," not in cells[0] and not _WHOLE.fullmatch(cells[0]):
            cells = cells[1:]  # a header's name
        commas = [c for c in cells if "," in c]
        if (commas and all(_COMMA_DECIMAL.fullmatch(c) or _WHOLE.fullmatch(c) for c in cells)
                and not all(_THOUSANDS.fullmatch(c) for c in commas)):
            out[j] = (commas[0], commas[0].replace(",", "."))
    return out


def _blank(cells) -> bool:
    """A table row that is a blank line (no cells, or one of whitespace)."""
    return not cells or (len(cells) == 1 and not cells[0].strip())


def _body(rows) -> list:
    """The cells of ``rows`` that are not blank lines, without empty cells after the second (a separator
    at the end of a line)."""
    return [_two(c) for _, c, _ in rows if c is not None and not _blank(c)]


def _two(cells):
    return cells[:2] if len(cells) > 2 and not any(c.strip() for c in cells[2:]) else cells


def detect_columns(path, *, fmt: str | None = None, text_col: str = "text", label_col: str = "label") -> str | None:
    """Why a TSV or CSV file is read otherwise than as its sequence, then its label, under no header or
    one naming ``text_col`` and ``label_col`` (see :func:`_layout`): its header names them otherwise,
    or its label comes first; and when a CSV file's columns are separated by semicolons.  None when it
    is read as it stands, or when the columns are named by ``--text-col``/``--label-col``."""
    notes = [n for n in column_notes(path, fmt=fmt, text_col=text_col, label_col=label_col) if n is not None]
    return "; ".join(notes) or None


def column_notes(path, *, fmt: str | None = None, text_col: str = "text", label_col: str = "label",
                 known: frozenset | None = None) -> tuple:
    """:func:`detect_columns`' two parts, ``(separator, layout)``, each None when there is nothing to say:
    how a CSV file of semicolons is split (and its decimal commas read), and which columns are read as
    what when that is not the sequence, then its label.  ``known``: the labels of the model that reads the
    file (``bptt evaluate``; see :func:`_unnamed_names`)."""
    path = os.fspath(path)
    fmt = _format_of(path, fmt)
    if fmt == "jsonl":
        return None, json_keys(read_utf8(path), text_col, label_col)[2]
    if fmt not in ("tsv", "csv") or (text_col, label_col) != ("text", "label"):
        return None, None
    seen: dict = {}
    rows, sep = _table_rows(read_utf8(path), fmt, seen)
    layout = _layout(rows, text_col, label_col, known)
    separator = None
    if sep == "semicolon":
        marks = f", and its numbers' decimal commas are read as points ({seen['comma']} as {seen['point']})" \
            if "comma" in seen else ""
        separator = f"its columns are separated by semicolons{marks}"
    elif "comma" in seen:  # a TSV file's column of numbers with decimal commas
        separator = (f"column {seen['column']} holds numbers written with decimal commas, read as points "
                     f"({seen['comma']} as {seen['point']})")
    return separator, None if layout is None else layout[4]


def _layout(rows, text_col: str, label_col: str, known: frozenset | None = None):
    """How a TSV or CSV file without a header naming ``text_col`` and ``label_col`` holds its
    columns: ``(ti, li, columns, header_line, why)``, or None to read it as it stands (the sequence,
    then its label).  ``rows``: its ``(line, cells, end)``.

    - A first line of two cells that names one column by its default name (``sequence,label``) or
      both by names tables use (``review,sentiment``, ``class,sentence``; :data:`TEXT_NAMES`,
      :data:`LABEL_NAMES`) is the header, when neither cell is a value of its column elsewhere.  A first
      line of more cells is the header when one names the sequences and one the labels so
      (``id,sentence,label``, ``textID,text,selected_text,sentiment``); the other columns are left.
    - Without a header, the label comes first when the first column looks like labels and the second
      like sequences: the first column's cells repeat (at most a quarter as many different ones as
      lines) and the second column's tell them on at least 90% of the lines, while they tell the
      second on at most half (as labels, the second column could not be learned); or the first
      column's cells are measured numbers and the second's are different and longer.  Never when the
      second column's cells are measured numbers (a regression's targets) or tags of the first."""
    body = _body(rows)
    if not body or len(body[0]) < 2:
        return None
    wide = _wide(body) or _label_then_texts(body)
    if wide is not None:
        return wide
    names = _header_names(body[0])
    t, lab = text_col.lower(), label_col.lower()
    if {t, lab} <= set(names):
        return None  # the header names both: read as it says
    if len(names) > 2:  # id,sentence,label / textID,text,selected_text,sentiment: one column named as each
        texts = [i for i, c in enumerate(names) if c == t] or [i for i, c in enumerate(names) if _text_name(c)]
        labels = [i for i, c in enumerate(names) if c == lab] or [i for i, c in enumerate(names) if _label_name(c)]
        if len(texts) != 1 or len(labels) != 1 or texts == labels or not all(_name_like(c) for c in body[0]):
            return None
        shown = [_clip(c.strip()) for c in body[0]]
        return (texts[0], labels[0], len(names), True,
                f"its header line names column {texts[0] + 1}, {shown[texts[0]]!r}, as the sequences and column "
                f"{labels[0] + 1}, {shown[labels[0]]!r}, as the labels (of {len(names)} columns)")
    if names[0] != names[1] and all(_name_like(c) for c in body[0]):
        for i in (0, 1):
            a, b = names[i], names[1 - i]
            if a == t and b != lab or _text_name(a) and _label_name(b):
                which = i
                break
            if a == lab and b != t:
                which = 1 - i
                break
        else:
            which = None
        if which is not None and _header_unseen(body):
            shown = [_clip(c.strip()) for c in body[0]]
            return (which, 1 - which, 2, True, f"its header line names column {which + 1}, {shown[which]!r}, as the "
                    f"sequences and column {2 - which}, {shown[1 - which]!r}, as the labels")
        why = _unnamed_names(body, known)
        if which is None and why is not None:
            return 0, 1, 2, True, why
    pairs = [(c[0].strip(), c[1].strip()) for c in body if len(c) == 2]
    n = len(pairs)
    if n < 10 or n < 0.9 * len(body) or measured_values(p[1] for p in pairs):
        return None  # too few lines to tell; or the second column is measurements: a regression's targets
    if any(len(a.split()) > 1 for a, _ in pairs) and all(len(a.split()) == len(b.split()) for a, b in pairs):
        return None  # tags and their tokens, one each
    first, second = [p[0] for p in pairs], [p[1] for p in pairs]
    kinds_1, kinds_2 = len(set(first)), len(set(second))
    blank = sum(1 for a in first if not a) > n / 2  # a column of blanks is no labels' (their sequences are missing)
    if kinds_1 <= n / 4 and all(len(a.split()) <= 3 for a in first) and not blank:
        ahead, behind = _told(second, first), _told(first, second)
        if ahead < 0.9 or behind > 0.5:
            return None
        return (1, 0, 2, False, f"no header line; column 1 holds {kinds_1:,} different values that repeat, and column 2 "
                             f"{kinds_2:,} different ones that tell column 1 on {ahead:.0%} of the lines (column 1 "
                             f"tells column 2 on {behind:.0%}): the label comes first")
    if kinds_2 > n / 2 and sum(map(len, second)) > sum(map(len, first)) and measured_values(first):
        return (1, 0, 2, False, f"no header line; column 1 holds {kinds_1:,} different numbers, some with a fraction, and "
                             f"column 2 {kinds_2:,} different sequences, not numbers: the label comes first")
    return None


def _told(keys, values) -> float:
    """The fraction of lines whose value is the one most often seen with their key: how far ``keys``
    tell ``values`` (1.0: a function of them)."""
    counts: dict = {}
    for k, v in zip(keys, values):
        per = counts.setdefault(k, {})
        per[v] = per.get(v, 0) + 1
    return sum(max(per.values()) for per in counts.values()) / max(len(keys), 1)


def _rows(path: str, fmt: str, text_col: str, label_col: str, names_given: bool = False, info: dict | None = None,
          numbers: bool | str = False, known: frozenset | None = None):
    """Yield (line_number, text, label) or (line_number, None, error message).

    The header is the first non-blank line when its cells name both columns (any case); a line
    that repeats it later is an error, as is a ``text_col``/``label_col`` given but named by no
    header (``names_given``).  ``info`` (a dict) gets ``"first"``: the cells of the first non-blank
    line of a TSV or CSV file that was not read as a header."""
    content = read_utf8(path)
    if fmt in CONLL:
        yield from _conll_rows(path, content, fmt, text_col, label_col)
        return
    if fmt == "fasttext":
        yield from _fasttext_rows(content)
        return
    if fmt == "jsonl":
        if not names_given:
            text_col, label_col = json_keys(content, text_col, label_col)[:2]
        for n, obj, err in _json_objects(content):
            if err is not None:
                yield n, None, err
                continue
            if not isinstance(obj, dict) or text_col not in obj or label_col not in obj:
                yield n, None, f"needs an object with keys {text_col!r} and {label_col!r}" + _keys_hint(obj)
                continue
            try:
                text = _json_value(obj[text_col], "text", False)
                label = _json_value(obj[label_col], "label", True, numbers)
                (text + label).encode("utf-8")
            except UnicodeEncodeError:  # (a ValueError too: caught first)
                yield n, None, "holds a lone surrogate (an unpaired \\ud800-\\udfff escape), which is not text"
                continue
            except ValueError as e:
                yield n, None, str(e)
                continue
            yield n, text, label
        return
    rows, sep = _table_rows(content, fmt)
    ti, li, expected, header, has_header = 0, 1, 2, None, False  # header: the first non-blank line, lower-cased
    col_names = {text_col.lower(), label_col.lower()}
    layout = None if names_given else _layout(rows, text_col, label_col, known)
    if layout is not None:
        ti, li, expected = layout[:3]
    for n, cells, end in rows:
        if cells is None:
            raise DataError(f"{path}:{n}: {end}")
        if _blank(cells):
            continue
        # the lower-cased cells, needed only for the first line and for a line that may repeat a header
        first = cells[0].strip().lower()
        maybe_header = header is None or first in col_names or (has_header and first == header[0])
        names = _header_names(cells) if maybe_header else None
        if header is None:
            header = names
            if layout is not None and layout[3]:  # a header naming the columns otherwise (_layout): its names
                col_names, has_header = set(names), True
                continue
            if col_names <= set(names):
                ti, li, expected = names.index(text_col.lower()), names.index(label_col.lower()), len(cells)
                has_header = True
                continue
            if names_given:
                absent = [c for c in (text_col, label_col) if c.lower() not in names]
                which = " and ".join(repr(c) for c in absent) or f"{text_col!r} and {label_col!r}"
                raise DataError(f"{path}:{n}: the first line names no column{'s' if len(absent) != 1 else ''} "
                                f"{which} (found {cells[:6]}); give a header line, or leave out --text-col/--label-col")
            if info is not None:
                info["first"] = (n, [cells[ti], cells[li]] if len(cells) == 2 else cells)
        elif names is not None and ((has_header and names == header) or (len(names) == 2 and set(names) == col_names)):
            yield n, None, "repeats the header line (two files joined together?)"
            continue
        if len(cells) > expected and not any(c.strip() for c in cells[expected:]):
            cells = cells[:expected]  # a separator at the end of the line (as spreadsheets write): no column
        if len(cells) != expected:
            hint = ""
            if not has_header and names is header and len(cells) > 2:  # the first line: name the two columns
                shown = ", ".join(repr(c.strip()[:30]) for c in cells[:6])
                hint = (f" ({shown}): the sequence, then its label; for other columns give a header line that "
                        f"names them and --text-col NAME --label-col NAME")
            if len(cells) == 1 and cells[0].lstrip().startswith(FASTTEXT):
                hint = f" (a line of fastText's: --format fasttext reads {FASTTEXT}NAME, then the text)"
            yield n, None, f"has {len(cells)} column(s), expected {expected} separated by a {sep}{hint}"
            continue
        yield n, _cell_text(cells, ti), cells[li]


_COMMA_DECIMAL = re.compile(r"[+-]?[0-9]*,[0-9]+(?:[eE][+-]?[0-9]+)?")


def _points(label: str) -> str:
    """A cell of a file of semicolons (:func:`_semicolons`, as spreadsheets write where the comma is the
    decimal mark), or of a TSV file's column of such numbers (:func:`_comma_columns`), whose numbers are
    written with decimal commas, with points: ``4,25`` -> ``4.25``, and
    ``0,5 -1,25`` (several labels, or a value a step) -> ``0.5 -1.25``; a cell with a part that is no
    number (text, ``0.5,1.2``), or with no decimal comma, as it is."""
    parts = label.split()
    if not parts or not any("," in p for p in parts):
        return label
    if not all(_COMMA_DECIMAL.fullmatch(p) or _DECIMAL.fullmatch(p) for p in parts):
        return label
    return " ".join(p.replace(",", ".") for p in parts)


def conll_columns(fmt: str, text_col: str, label_col: str) -> tuple[int, int]:
    """The 0-based columns of the token and the tag in a CoNLL file: ``--text-col``/``--label-col``
    as column numbers from 1 (-1: the last), by default the first and the last (``conll``), or FORM
    and UPOS, 2 and 4 (``conllu``)."""
    default = (0, -1) if fmt == "conll" else (1, 3)
    cols = []
    for given, name, d in ((text_col, "text_col", default[0]), (label_col, "label_col", default[1])):
        if given == name.split("_")[0]:  # "text" / "label": the default
            cols.append(d)
            continue
        try:
            c = int(given)
        except ValueError:
            c = 0
        if c == 0:
            raise DataError(f"--{name.replace('_', '-')} {given!r}: a {fmt} file's columns are numbered from 1 "
                            f"(-1: the last)")
        cols.append(c - 1 if c > 0 else c)
    return cols[0], cols[1]


def _conll_rows(path: str, content: str, fmt: str, text_col: str, label_col: str):
    """One ``(first line, tokens, tags)`` per sentence of a CoNLL file, tokens and tags joined by
    spaces; ``-DOCSTART-`` lines are skipped, and in CoNLL-U the comments (``#``), multiword-token
    ranges (``1-2``) and empty nodes (``1.1``).  A bad line is reported once, and its sentence left
    out."""
    ti, li = conll_columns(fmt, text_col, label_col)
    need = max(2, max(ti if ti >= 0 else -ti - 1, li if li >= 0 else -li - 1) + 1)  # a token and its tag
    tokens, tags, start, bad = [], [], None, False
    for n, line in enumerate(_lines(content) + [""], 1):
        if not line.strip():
            if tokens and not bad:
                yield start, " ".join(tokens), " ".join(tags)
            tokens, tags, start, bad = [], [], None, False
            continue
        if fmt == "conllu" and line.startswith("#"):
            continue
        f = _fields(line)
        if f[0] == "-DOCSTART-" or (fmt == "conllu" and ("-" in f[0] or "." in f[0])):
            continue
        start = start or n
        if bad:
            continue
        if len(f) < need:
            bad = True
            yield n, None, (f"has {len(f)} column(s), expected at least {need} (the token in column "
                            f"{ti + 1 if ti >= 0 else len(f) + ti + 1}, its tag in column "
                            f"{li + 1 if li >= 0 else 'the last'})")
            continue
        token, tag = f[ti], f[li]
        if not token or any(c.isspace() for c in token) or not tag or any(c.isspace() for c in tag):
            bad = True
            yield n, None, f"token {token!r} or tag {tag!r} is empty or holds a space"
            continue
        tokens.append(token)
        tags.append(tag)


def _csv_rows(lines, delimiter: str = ","):
    """CSV rows ``(first line, cells, last line)``; a quote never closed is reported where it opens,
    as ``(line, None, message)``."""
    limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)  # a field may be as long as a line can be
    try:
        reader = csv.reader((line + "\n" for line in lines), strict=False, delimiter=delimiter)
        start = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                yield start, None, f"cannot be read as CSV ({e})"
                return
            end = reader.line_num
            if sum(line.count('"') for line in lines[start - 1 : end]) % 2:  # quotes pair up ("" inside a field)
                yield start, None, "opens a quoted field that is never closed"
                return
            yield start, cells, end
            start = end + 1
    finally:
        csv.field_size_limit(limit)


def read_examples(path, task: str, *, tokenizer: str = "space", fmt: str | None = None,
                  text_col: str = "text", label_col: str = "label", skip_bad: bool = False,
                  known: frozenset | None = None):
    """Read ``path`` into a list of :class:`Example`; returns ``(examples, n_skipped)``.  ``known``: the
    labels of the model the examples are for, which tell a header line in other words in a short file
    (:func:`_unnamed_names`)."""
    path = os.fspath(path)
    if task not in TASKS:
        raise ValueError(f"task={task!r} is not known; choose one of {list(TASKS)}")
    _require_file(path)
    fmt = _format_of(path, fmt)
    if fmt == "fasttext" and task != "classify":
        raise DataError(f"{path}: a fastText file holds one label per line ({FASTTEXT}NAME, then the text), which "
                        f"is classify data, not {task}")
    if fmt in CONLL:
        if task != "tag":
            raise DataError(f"{path}: a {fmt} file holds tags, a token and its tag on each line; task {task!r} "
                            f"reads a sequence and its target on each line (tsv, csv, jsonl)")
        tokenizer = "space"  # the tokens are given, one per line
    examples, skipped = [], 0
    names_given = (text_col, label_col) != ("text", "label")
    info = {}
    for n, text, label in _rows(path, fmt, text_col, label_col, names_given, info, numbers=task == "regress",
                                known=known):
        err = label if text is None else None
        if err is None:
            tokens = tokenize(text, tokenizer)
            if tokenizer == "commas" and task != "classify":
                label = _list_label(label)
            if not tokens or isinstance(text, str) and not text.strip():  # blanks alone: the sequence is missing
                err = "empty sequence" if not tokens else f"empty sequence ({text!r}: blanks only)"
            elif task == "regress":
                label, err = _numbers(label)
                first = info.get("first")
                if (err and "is not a number" in err and first is not None and first[0] == n and len(first[1]) == 2
                        and not examples):
                    # review,score: a header naming other columns
                    err += f"; if line {n} is a header naming the columns, say so: {_column_options(first[1])}"
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
            # a first record without the keys read is the file's layout, not a bad line to skip
            skip = "" if not examples and err.startswith("needs an object with key") else \
                " (use --skip-bad to skip such lines)"
            raise DataError(f"{path}:{n}: {err}{_lone_cr_hint(path, n)}{skip}")
        examples.append(Example(tokens, label, n))
    if not examples:
        if skipped:
            raise DataError(f"{path}: no usable examples ({skipped} bad lines skipped)")
        what = "is empty" if os.path.getsize(path) == 0 else "holds no examples (blank lines or a header alone)"
        raise DataError(f"{path}: no usable examples: the file {what}")
    if task == "regress":
        k = len(examples[0].target)
        odd = next((e for e in examples if len(e.target) != k), None)
        first = examples[0]
        if odd is not None and not per_step(examples):
            if len(first.target) == len(first.tokens) > 1:  # the first line reads as a number at every step
                odd = next(e for e in examples if len(e.target) != len(e.tokens))
                raise DataError(f"{path}:{odd.line}: {len(odd.target)} number(s) for {len(odd.tokens)} token(s), "
                                f"where line {first.line} has one number per token (a regression at every step "
                                f"needs one number per token on every line)")
            raise DataError(f"{path}:{odd.line}: {len(odd.target)} number(s) where line {examples[0].line} has {k} "
                            f"(regress needs as many on every line: one per output)")
    else:
        _unnamed_header(path, fmt, examples, info.get("first"))
    return examples, skipped


def per_step(examples) -> bool:
    """Regress examples whose targets are one number per step (a regression at every step, the
    many-to-many head): every line has as many numbers as tokens, and some line more than one.  Else
    each line's numbers are the outputs of one prediction from the final state."""
    return bool(examples) and all(len(e.target) == len(e.tokens) for e in examples) and any(
        len(e.tokens) > 1 for e in examples)


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:nan|inf|infinity)",
                      re.IGNORECASE)


def decimal(text: str) -> float:
    """``text`` as a float when it is a number written as data files write one: ASCII digits, an optional
    sign, point and exponent (``-0.5``, ``1e-3``, ``.5``), or nan / inf, which callers refuse by name.
    ValueError otherwise, where Python's ``float`` would also take ``1_000`` and other scripts' digits
    (``１２``, ``٣``), which no data file means as a number."""
    if not _DECIMAL.fullmatch(text):
        raise ValueError(f"not a number: {text!r}")
    return float(text)


def _numbers(label: str):
    """A regress target: ``(list of floats, None)``, or ``(None, why not)``."""
    parts = label.split()
    if not parts:
        return None, "empty label"
    vals = []
    for p in parts:
        try:
            v = decimal(p)
        except ValueError:
            return None, f"label {label.strip()[:40]!r} is not a number (regress reads one number per sequence, " \
                         f"or several separated by spaces)"
        if not math.isfinite(v):
            return None, f"label {label.strip()[:40]!r} is not a finite number"
        vals.append(v)
    return vals, None


def _column_options(cells) -> str:
    """The options that read a first line of two cells as the header naming the columns."""
    a, b = (shlex.quote(c.strip()) for c in cells)
    return f"--text-col {a} --label-col {b}"


def _unnamed_header(path: str, fmt: str, examples: list, first) -> None:
    """Refuse a first line that reads as an example but looks like a header naming other columns than
    "text" and "label" (``review,sentiment``): its label (or, for tags, every tag of it) is on no other
    line, where the other lines' labels repeat.  Read as an example it would be a class of its own."""
    if first is None or len(examples) < 11 or examples[0].line != first[0] or len(first[1]) != 2:
        return
    a, b = (c.strip() for c in first[1])
    try:
        float(b)
        return  # a number is a class id, not a column's name
    except ValueError:
        pass
    if len(a.split()) > 3:  # a column's name is a word or a few, not a sentence
        return
    head, rest = examples[0].target, examples[1:]
    if isinstance(head, str):
        seen = [e.target for e in rest]
        odd = head not in set(seen)
    else:  # tags: one per token
        seen = [t for e in rest for t in e.target]
        odd = not set(head) & set(seen)
    if not odd or len(set(seen)) > len(seen) / 2:  # labels that do not repeat: no header to tell apart
        return
    sep = "<TAB>" if fmt == "tsv" else ","
    raise DataError(f"{path}:{first[0]}: ({a[:40]!r}, {b[:40]!r}) reads as an example whose label is on no other line: is "
                    f"it a header naming the columns? Then say so: {_column_options(first[1])}. If it is an "
                    f"example, put a header line text{sep}label above it")


def read_sequences(path, *, text_col: str = "text", fmt: str | None = None, known: frozenset | None = None,
                   named: bool = False) -> list | None:
    """The sequences of a CSV, JSON(L) or fastText file for ``bptt predict``: ``[(line, text)]``, one a record
    (a fastText line's text without its label); None for other files (read a line each). A CSV file of one
    column may open with a header naming it (``text``, ``series``, ...: dropped); of several, a header must
    name the sequences' column (``text_col``, or the one column named as sequences are; a label column beside
    it is left), or the file be one series a line (:func:`_wide`, TSV too: the steps). JSON(L): ``text_col``
    of each object.  ``named``: ``text_col`` was given by the user, so a CSV file must have a column so named."""
    path = os.fspath(path)
    if fmt is None and _format_of(path, None) == "tsv":  # a fastText file's texts, without their labels
        content = read_utf8(path)
        lines = _lines(content)
        if not _fasttext_lines(lines):
            kind = "tsv" if "\t" in content else {",": "csv", " ": "tsv"}.get(_numeric_table(lines))
            if kind is None:
                return None
            rows = _table_rows(content, kind)[0]  # one series a line, a column a step (the UCR archive's files)
            layout = _wide(_body(rows)) if all(c is not None for _, c, _ in rows) else None
            if layout is None:
                return None
            body = [(n, c) for n, c, _ in rows if not _blank(c)][1 if layout[3] else 0:]
            if any(len(c) != layout[2] for _, c in body):
                return None  # a line of another width: read a line each, and refused for its tabs
            return [(n, _cell_text(c, layout[0])) for n, c in body]
        out = [(n, _fasttext_split(line)[1]) for n, line in enumerate(lines, 1)]  # a line without labels: all of it
        while out and not out[-1][1].strip():
            out.pop()  # the blank lines at the end
        return out
    fmt = _format_of(path, fmt)
    if fmt == "jsonl":
        out, content = [], read_utf8(path)
        text_col = _json_text_key(content, text_col)
        for n, obj, err in _json_objects(content):
            if err is None and not (isinstance(obj, dict) and text_col in obj):
                err = f"needs an object with key {text_col!r}" + _keys_hint(
                    obj, ": --text-col KEY names the key of the sequences" if text_col == "text" else "")
            if err is not None:
                raise DataError(f"{path}:{n}: {err}")
            try:
                out.append((n, _json_value(obj[text_col], "text", False)))
            except ValueError as e:
                raise DataError(f"{path}:{n}: {e}") from None
        return out
    if fmt != "csv":
        return None
    rows, sep = _table_rows(read_utf8(path), "csv")
    bad = next(((n, why) for n, c, why in rows if c is None), None)  # a line CSV cannot read (the last row)
    if bad is not None:
        raise DataError(f"{path}:{bad[0]}: {bad[1]}")
    body = [(n, _two(c)) for n, c, _ in rows if not _blank(c)]
    if not body:
        return []
    names = _header_names(body[0][1])
    t = text_col.lower()
    col = names.index(t) if t in names else None
    if named and col is None:
        raise DataError(f"{path}:{body[0][0]}: no column named {text_col!r} (its first line: "
                        f"{', '.join(repr(c.strip()[:20]) for c in body[0][1][:6])})")
    if col is None:
        texts = [i for i, c in enumerate(names) if _text_name(c)]
        col = texts[0] if len(texts) == 1 and all(_name_like(c) for c in body[0][1]) else None
    header = col is not None
    if col is None and len(names) >= 2:  # a header in other words, the label first, or one series a line (_wide)
        layout = _layout(rows, text_col, "label", known)
        if layout is not None:
            col, header = layout[0], layout[3]
    if col is None and len(names) > 1:
        raise DataError(f"{path}:{body[0][0]}: {len(names)} columns separated by a {sep} and no header line naming "
                        f"the sequences' column ({', '.join(repr(c.strip()[:20]) for c in body[0][1][:6])}): give one "
                        f"(text{',' if sep == 'comma' else ';'}...)")
    if header:
        body = body[1:]
    out = []
    for n, c in body:
        if len(c) != len(names):
            raise DataError(f"{path}:{n}: has {len(c)} column(s), expected {len(names)} separated by a {sep}")
        out.append((n, _cell_text(c, col or 0)))
    return out


def holds_whitespace(token: str) -> bool:
    """Whether ``token`` is empty or holds whitespace: what a format that separates tokens by spaces and
    lines (a tag list, the word-vector text format) cannot hold."""
    return not token or any(c.isspace() for c in token)


def write_examples(path, rows) -> int:
    """Write ``(sequence_text, target_text)`` rows (any iterable, consumed as it is written) as a TSV
    with a header line, atomically; returns the number of rows."""
    from ..checkpoint import atomic_write_bytes

    count = 0

    def write(f):  # f is buffered: a line at a time costs no system call each
        nonlocal count
        f.write(b"text\tlabel\n")
        for s, t in rows:
            f.write(f"{s}\t{t}\n".encode("utf-8"))
            count += 1

    atomic_write_bytes(path, write)
    return count
