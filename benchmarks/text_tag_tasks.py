"""Two tagging tasks on real text, made from a sentence corpus of `bptt data fetch`, for measuring
bptt train's defaults on tags of text (benchmarks/text_tag_defaults.sh).

* punct: the words lower-cased, punctuation removed; each word tagged with the punctuation mark that
  followed it in the sentence (``,`` ``.`` ``?`` ``!`` ``;`` ``:`` or ``O`` for none): punctuation
  restoration, a task of speech recognition's post-processing.
* case: the same words; each tagged with how it was written (``lower``, ``Cap`` for a capital first
  letter, ``UP`` for all capitals of two or more letters, ``other``): truecasing.

Words are runs of letters, digits and apostrophes; a sentence with fewer than two words is dropped.

    python benchmarks/text_tag_tasks.py CORPUS_DIR OUT_DIR     # writes OUT_DIR/{punct,case}/{train,valid,test}.tsv
"""
from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

WORD = re.compile(r"[A-Za-z0-9']+")
MARKS = ",.?!;:"


def tag_lines(text: str):
    words, punct, case = [], [], []
    for m in WORD.finditer(text):
        w = m.group(0).strip("'")  # '' is this corpus's quotation mark
        if not w:
            continue
        after = text[m.end():].lstrip(" ")
        words.append(w.lower())
        punct.append(after[0] if after[:1] and after[0] in MARKS else "O")
        case.append("UP" if len(w) > 1 and w.isupper() else "Cap" if w[:1].isupper() and w[1:] == w[1:].lower()
                    else "lower" if w == w.lower() else "other")
    return words, punct, case


def main(argv) -> int:
    src, out = Path(argv[0]), Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for split in ("train", "valid", "test"):
        with open(src / f"{split}.tsv", newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
        for t in ("punct", "case"):
            (out / t).mkdir(exist_ok=True)
        files = {t: open(out / t / f"{split}.tsv", "w", encoding="utf-8") for t in ("punct", "case")}
        for row in rows:
            words, punct, case = tag_lines(row[0])
            if len(words) < 2:
                continue
            files["punct"].write(" ".join(words) + "\t" + " ".join(punct) + "\n")
            files["case"].write(" ".join(words) + "\t" + " ".join(case) + "\n")
        for f in files.values():
            f.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
