"""CoNLL files for tagging: a token and its tag on each line, sentences between blank lines
(CoNLL-2003's space-separated columns, tab-separated two-column files, Universal Dependencies'
CoNLL-U), read as the same sentences a TSV of one sentence a line gives, and found by their
content when their name does not say so."""

import random

import numpy as np
import pytest

from bptt import checkpoint
from bptt.data import DataError, detect_format, read_examples
from conftest import run

WORDS = ["john", "lives", "in", "paris", "and", "works", "at", "acme", "mary", "visited", "london", "with", "zeta"]
TAGS = {"john": "B-PER", "mary": "B-PER", "paris": "B-LOC", "london": "B-LOC", "acme": "B-ORG", "zeta": "B-ORG"}


def _sentences(n, seed):
    r = random.Random(seed)
    return [[r.choice(WORDS) for _ in range(r.randint(1, 8))] for _ in range(n)]


def _write(tmp_path, name, sents, style):
    """The same sentences as a TSV of one sentence a line, or in a CoNLL style."""
    p = tmp_path / name
    with open(p, "w") as f:
        if style == "tsv":
            for s in sents:
                f.write(" ".join(s) + "\t" + " ".join(TAGS.get(w, "O") for w in s) + "\n")
        elif style == "conll2003":  # space-separated columns, -DOCSTART-, the tag last
            f.write("-DOCSTART- -X- -X- O\n\n")
            for s in sents:
                f.write("".join(f"{w} NN I-NP {TAGS.get(w, 'O')}\n" for w in s) + "\n")
        elif style == "tab":  # token<TAB>tag, CR LF line ends, no blank line at the end
            f.write("\r\n\r\n".join("\r\n".join(f"{w}\t{TAGS.get(w, 'O')}" for w in s) for s in sents))
        elif style == "conllu":
            for k, s in enumerate(sents):
                f.write(f"# sent_id = {k}\n# text = {' '.join(s)}\n")
                if len(s) > 1:
                    f.write(f"1-2\t{s[0]}{s[1]}\t_\t_\t_\t_\t_\t_\t_\t_\n")  # a multiword token: skipped
                f.write("".join(f"{i}\t{w}\t{w}\t{TAGS.get(w, 'O')}\tNN\t_\t0\troot\t_\t_\n"
                                for i, w in enumerate(s, 1)) + "\n")
    return p


@pytest.mark.parametrize("style,name", [("conll2003", "train.txt"), ("conll2003", "eng.train"), ("tab", "train.tsv"),
                                        ("conllu", "train.conllu"), ("tab", "train.conll")])
def test_conll_files_read_as_the_sentences_of_a_tsv(tmp_path, style, name):
    sents = _sentences(60, 0)
    want, _ = read_examples(_write(tmp_path, "ref.tsv", sents, "tsv"), "tag")
    p = _write(tmp_path, name, sents, style)
    fmt, why = detect_format(p)
    assert fmt == ("conllu" if style == "conllu" else "conll"), (fmt, why)
    assert (why is None) == name.endswith((".conll", ".conllu")), why  # named by the extension: nothing to say
    got, skipped = read_examples(p, "tag", fmt=fmt)
    assert skipped == 0 and [(e.tokens, e.target) for e in got] == [(e.tokens, e.target) for e in want]
    first = {"conll2003": 3, "tab": 1, "conllu": 4 if len(sents[0]) > 1 else 3}[style]  # its first token's line
    assert got[0].line == first


def test_a_table_of_sequences_is_not_taken_for_conll(tmp_path):
    sents = _sentences(40, 1)
    assert detect_format(_write(tmp_path, "a.tsv", sents, "tsv")) == ("tsv", None)
    lm = tmp_path / "poem.txt"  # plain text with stanzas: lines of two words, most of them different
    r = random.Random(2)
    lm.write_text("\n\n".join("\n".join(f"w{r.randrange(10**6)} v{r.randrange(10**6)}" for _ in range(4))
                              for _ in range(30)) + "\n")
    assert detect_format(lm) == ("tsv", None)
    one = tmp_path / "one.tsv"  # one-token sequences with a header: a table
    one.write_text("text\tlabel\n" + "\n\n".join("a\tx\nb\ty" for _ in range(10)) + "\n")
    assert detect_format(one) == ("tsv", None)


def test_bad_conll_lines_are_named_and_can_be_skipped(tmp_path):
    p = tmp_path / "bad.conll"
    p.write_text("john\tB-PER\nlives\tO\n\nmary\nvisited\tO\n\nnew york\tB-LOC\n\nparis\tB-LOC\n")
    with pytest.raises(DataError, match=r"bad.conll:4: has 1 column\(s\), expected at least 2"):
        read_examples(p, "tag")
    got, skipped = read_examples(p, "tag", skip_bad=True)
    assert skipped == 2 and [e.tokens for e in got] == [["john", "lives"], ["paris"]]
    with pytest.raises(DataError, match="a conll file holds tags"):
        read_examples(p, "classify")
    with pytest.raises(DataError, match="--label-col 'tag': a conll file's columns are numbered from 1"):
        read_examples(p, "tag", label_col="tag")
    u = tmp_path / "u.conllu"
    u.write_text("1\tjohn\tjohn\tPROPN\n2\tlives\tlive\tVERB\n\n")
    assert [e.target for e in read_examples(u, "tag")[0]] == [["PROPN", "VERB"]]
    assert [e.target for e in read_examples(u, "tag", label_col="3")[0]] == [["john", "live"]]


def test_bptt_train_finds_a_conll_file_and_trains_the_tsv_model(tmp_path, capsys):
    """bptt train on a CoNLL-2003-style file named train.txt (which read line by line would be a
    language model's text) says what it read and trains, bit for bit, the model of the same sentences
    as a TSV; evaluate reads the CoNLL file, and predict labels a sentence a line."""
    sents, vsents = _sentences(200, 3), _sentences(40, 4)
    ref, vref = _write(tmp_path, "ref.tsv", sents, "tsv"), _write(tmp_path, "vref.tsv", vsents, "tsv")
    tr, va = _write(tmp_path, "train.txt", sents, "conll2003"), _write(tmp_path, "valid.txt", vsents, "tab")
    common = ["--epochs", "3", "--hidden", "8", "--no-curriculum", "--quiet"]
    rc, out, e = run(capsys, "train", "--data", str(tr), "--valid", str(va), "--out", str(tmp_path / "c.bptt"), *common)
    assert rc == 0, e
    assert f"reading {tr} as CoNLL: a token and its tags on each line (4 columns), sentences between blank " \
           f"lines; --format tsv reads each line as a sequence" in out, out
    assert "200 training sequences" in out, out
    assert f"reading {va} as CoNLL" in out and "task tag" in out and "one a line" in out, out
    rc, _, e = run(capsys, "train", "--data", str(ref), "--valid", str(vref), "--out", str(tmp_path / "t.bptt"), *common)
    assert rc == 0, e
    a, b = checkpoint.load(str(tmp_path / "c.bptt")), checkpoint.load(str(tmp_path / "t.bptt"))
    assert a.meta["vocab"] == b.meta["vocab"] and a.meta["labels"] == b.meta["labels"]
    for k in a.model.params:
        np.testing.assert_array_equal(a.model.params[k], b.model.params[k])
    rc, o1, e = run(capsys, "evaluate", "--model", str(tmp_path / "c.bptt"), "--data", str(va))
    assert rc == 0 and "token accuracy" in o1, e
    rc, o2, e = run(capsys, "evaluate", "--model", str(tmp_path / "c.bptt"), "--data", str(vref))
    assert rc == 0 and o1 == o2, (o1, o2)
    rc, o, e = run(capsys, "predict", "--model", str(tmp_path / "c.bptt"), "mary visited london")
    assert rc == 0 and len(o.split()) == 3, o
    rc, _, e = run(capsys, "train", "--data", str(tr), "--tokenize", "words", "--out", str(tmp_path / "x.bptt"))
    assert rc == 2 and "is a CoNLL file, which gives its tokens one a line" in e, e
    rc, out, e = run(capsys, "train", "--data", str(tr), "--task", "lm", "--out", str(tmp_path / "l.bptt"),
                     "--epochs", "1", "--quiet")
    assert rc == 0 and "CoNLL" not in out, e  # told otherwise: read as it says
    rc, _, e = run(capsys, "train", "--data", str(tr), "--task", "lm", "--format", "conll", "--out",
                   str(tmp_path / "l2.bptt"))
    assert rc == 2 and "--format: for files of sequences and their targets; a language model reads plain" in e, e
