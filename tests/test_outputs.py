"""Where bptt writes: outputs that would destroy an input or a device, folders, unwritable places,
outputs too large for the disk, and a SIGTERM in the middle of a write."""

import os
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from bptt import checkpoint
from conftest import run


@pytest.fixture
def data(tmp_path, capsys):
    tr, va = tmp_path / "train.tsv", tmp_path / "valid.tsv"
    for path, seed in ((tr, "1"), (va, "2")):
        assert run(capsys, "data", "make", "parity", "--lengths", "1-6", "--n", "60", "--seed", seed,
                   "--out", str(path))[0] == 0
    return tr, va


TRAIN = ["--task", "classify", "--epochs", "1", "--hidden", "4", "--quiet", "--no-curriculum"]


def _train(capsys, tr, *extra):
    return run(capsys, "train", "--data", str(tr), *TRAIN, *extra)


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_out_that_names_an_input_is_refused_and_the_input_kept(tmp_path, capsys, data):
    tr, va = data
    before = tr.read_bytes(), va.read_bytes()
    rc, out, err = _train(capsys, tr, "--out", str(tr))
    assert rc == 2 and f"--out {str(tr)!r} is the --data file" in err and "epoch" not in out
    (tmp_path / "link.tsv").symlink_to(tr)  # the same file by another name
    rc, _, err = _train(capsys, tmp_path / "link.tsv", "--out", str(tr))
    assert rc == 2 and "is the --data file" in err
    rc, _, err = _train(capsys, tr, "--valid", str(va), "--out", str(tmp_path / "valid.tsv.x"),
                        "--plot", str(va))
    assert rc == 2 and f"--plot {str(va)!r} is the --valid file" in err
    # OUT.metrics.csv is written too: a --valid file of that name would be lost
    csv = tmp_path / "m.metrics.csv"
    csv.write_bytes(va.read_bytes())
    rc, _, err = _train(capsys, tr, "--valid", str(csv), "--out", str(tmp_path / "m"))
    assert rc == 2 and "OUT.metrics.csv" in err and "is the --valid file" in err
    assert (tr.read_bytes(), va.read_bytes()) == before and csv.read_bytes() == va.read_bytes()
    assert not (tmp_path / "m").exists()


def test_out_that_is_a_users_file_or_another_output_is_refused(tmp_path, capsys, data):
    tr, _ = data
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    rc, _, err = _train(capsys, tr, "--out", str(notes))
    assert rc == 2 and "exists and is not a model file written by bptt" in err
    assert notes.read_text() == "my notes\n"
    m = tmp_path / "m.bptt"
    rc, _, err = _train(capsys, tr, "--out", str(m), "--plot", str(m))
    assert rc == 2 and f"--plot {str(m)!r} is also --out" in err
    assert _train(capsys, tr, "--out", str(m))[0] == 0  # a model file of bptt's own is replaced, as before
    assert _train(capsys, tr, "--out", str(m))[0] == 0
    empty = tmp_path / "empty.bptt"
    empty.touch()  # an empty file loses nothing
    assert _train(capsys, tr, "--out", str(empty))[0] == 0 and checkpoint.load(str(empty))


@pytest.mark.parametrize("kind", ["folder", "fifo", "devnull", "file-on-the-way"])
def test_out_that_is_not_a_regular_file_is_refused_before_training(tmp_path, capsys, data, kind, monkeypatch):
    tr, _ = data
    real_replace = os.replace

    def guarded_replace(src, dst):  # were the check to fail, the test fails without replacing /dev/null
        assert os.fspath(dst) != os.devnull, "a rename over /dev/null"
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", guarded_replace)
    if kind == "folder":
        out = tmp_path / "models"
        out.mkdir()
        want = "is a folder"
    elif kind == "fifo":
        out = tmp_path / "pipe"
        os.mkfifo(out)
        want = "is not a regular file"
    elif kind == "devnull":
        out = os.devnull  # a rename over it would replace the device (as root)
        want = "is not a regular file"
    else:
        out = tr / "m.bptt"
        want = "is a file, not a folder"
    rc, stdout, err = _train(capsys, tr, "--out", str(out))
    assert rc == 2 and want in err and "epoch" not in stdout
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    if kind == "folder":
        assert _files(out) == []
    rc, _, err = run(capsys, "data", "make", "parity", "--lengths", "1-3", "--n", "5", "--out", str(out))
    assert rc == 2 and want in err
    with pytest.raises(checkpoint.OutputPathError, match=want):
        checkpoint.atomic_write_bytes(str(out), lambda f: f.write(b"x"))


def test_out_in_an_unwritable_folder_is_refused_before_training(tmp_path, capsys, data, monkeypatch):
    tr, _ = data
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: the folder is made to read as unwritable instead
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(locked) else real(p, mode))
    try:
        rc, out, err = _train(capsys, tr, "--out", str(locked / "sub" / "m.bptt"))
        assert rc == 2 and f"the folder {str(locked)!r} is not writable" in err and "epoch" not in out
    finally:
        locked.chmod(0o755)


def test_a_missing_folder_for_out_is_made(tmp_path, capsys, data):
    tr, _ = data
    out = tmp_path / "new" / "deeper" / "m.bptt"
    assert _train(capsys, tr, "--out", str(out))[0] == 0 and checkpoint.load(str(out))


def test_evaluate_plot_and_embeddings_out_do_not_overwrite_inputs(tmp_path, capsys, data):
    tr, va = data
    m = tmp_path / "m.bptt"
    assert _train(capsys, tr, "--out", str(m))[0] == 0
    before = m.read_bytes()
    rc, _, err = run(capsys, "evaluate", "--model", str(m), "--data", str(va), "--plot", str(va))
    assert rc == 2 and "--plot" in err and "is the --data file" in err
    rc, _, err = run(capsys, "embeddings", "--model", str(m), "--out", str(m))
    assert rc == 2 and "is the --model file" in err
    assert m.read_bytes() == before


def test_an_output_that_exists_is_replaced_only_by_one_of_its_kind(tmp_path, capsys, data):
    """--plot, --grad-norms, embeddings --out, data make --out and a restart's files refuse to replace a
    file of another kind (a slip of the hand: --plot train.tsv), and replace one of their own."""
    tr, va = data
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    m = tmp_path / "m.bptt"
    assert _train(capsys, tr, "--out", str(m))[0] == 0
    refused = [
        (["train", "--data", str(tr), *TRAIN, "--out", str(m), "--plot", str(notes)], "--plot", "a PNG image"),
        (["train", "--data", str(tr), *TRAIN, "--out", str(m), "--grad-norms", str(notes)], "--grad-norms",
         "a PNG image"),
        (["evaluate", "--model", str(m), "--data", str(va), "--plot", str(notes)], "--plot", "a PNG image"),
        (["data", "make", "parity", "--lengths", "1-4", "--n", "5", "--out", str(notes)], "--out",
         "a data file written by bptt data make"),
    ]
    for argv, opt, what in refused:
        rc, _, err = run(capsys, *argv)
        assert rc == 2 and f"{opt} {str(notes)!r} exists and is not {what}" in err, err
        assert notes.read_text() == "my notes\n"
    # their own kind is replaced, as a second run of the same command expects
    png, made = tmp_path / "c.png", tmp_path / "made.tsv"
    for _ in range(2):
        assert _train(capsys, tr, "--out", str(m), "--plot", str(png))[0] == 0
        assert run(capsys, "data", "make", "parity", "--lengths", "1-4", "--n", "5", "--out", str(made))[0] == 0
    assert png.read_bytes()[:4] == b"\x89PNG" and made.read_text().startswith("text\tlabel\n")
    # a restart's metrics file that a user's file stands in for
    other = tmp_path / "r.bptt"
    (tmp_path / "r.bptt.run2.metrics.csv").write_text("my numbers\n")
    rc, _, err = _train(capsys, tr, "--out", str(other), "--restarts", "2")
    assert rc == 2 and "(restart 2, OUT.run2)" in err and "not a metrics file written by bptt train" in err
    assert (tmp_path / "r.bptt.run2.metrics.csv").read_text() == "my numbers\n"


def test_embeddings_out_writes_a_file_that_reads_back_and_replaces_only_vectors(tmp_path, capsys):
    """A character model's ' ' and '\\n' cannot stand in the text format (they split a line): they are left
    out and named, and what is written reads back word for word; a user's file is not replaced."""
    from bptt.data.vectors import read_vectors

    text = tmp_path / "t.txt"
    text.write_text("the cat sat on the mat\nthe dog sat on the log\n" * 20)
    m = tmp_path / "lm.bptt"
    assert run(capsys, "train", "--task", "lm", "--level", "char", "--data", str(text), "--epochs", "1",
               "--hidden", "8", "--quiet", "--out", str(m))[0] == 0
    vec = tmp_path / "v.txt"
    rc, out, _ = run(capsys, "embeddings", "--model", str(m), "--out", str(vec))
    assert rc == 0 and "left out 2 token(s) holding whitespace" in out and "' ', '\\n'" in out
    ck = checkpoint.load(str(m))
    vocab, E = ck.meta["vocab"], ck.model.params["E"]
    words, M = read_vectors(str(vec))[:2]
    assert sorted(words) == sorted(w for w in vocab[2:] if not w.isspace()) and len(vec.read_text().split("\n")) == 13
    for w, row in zip(words, M):
        np.testing.assert_allclose(row, E[vocab.index(w)], rtol=1e-5, atol=1e-6)
    assert run(capsys, "embeddings", "--model", str(m), "--out", str(vec))[0] == 0  # its own kind: replaced
    rc, out, _ = run(capsys, "embeddings", "--model", str(m), "--near", "t", "-k", "20")
    assert rc == 0 and "' '\t" in out and "'\\n'\t" in out  # shown so that each neighbour is one line
    assert len(out.strip().split("\n")) == len(vocab) - 3
    text_before = text.read_bytes()
    rc, _, err = run(capsys, "embeddings", "--model", str(m), "--out", str(text))
    assert rc == 2 and "exists and is not a word-vector text file" in err and text.read_bytes() == text_before


def test_a_model_path_that_is_not_a_file_is_named_as_such(tmp_path, capsys):
    rc, _, err = run(capsys, "predict", "--model", str(tmp_path), "0101")
    assert rc == 2 and "is not a regular file" in err and "does not exist" not in err


def test_data_make_refuses_what_the_disk_cannot_hold_and_streams_the_rest(tmp_path, capsys, monkeypatch):
    import shutil
    from collections import namedtuple

    from bptt.tasks import estimated_bytes, make

    out = tmp_path / "d.tsv"
    rc, _, err = run(capsys, "data", "make", "parity", "--lengths", "1-3", "--n", str(10**11), "--out", str(out))
    assert rc == 2 and "GiB" in err and "free" in err and not out.exists() and _files(tmp_path) == []
    # the estimate is close to what is written
    for task, lengths in (("parity", "1-40"), ("addition", "5-9"), ("modular-arithmetic", "3-30")):
        assert run(capsys, "data", "make", task, "--lengths", lengths, "--n", "400", "--out", str(out))[0] == 0
        lo, hi = (int(x) for x in lengths.split("-"))
        est = estimated_bytes(task, range(lo, hi + 1), 400)
        assert 0.7 < est / out.stat().st_size < 1.3, (task, est, out.stat().st_size)
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**6, 10**6 - 5000, 5000))
    rc, _, err = run(capsys, "data", "make", "parity", "--lengths", "1-40", "--n", "400", "--out", str(out))
    assert rc == 2 and "ask for fewer or shorter examples" in err
    monkeypatch.undo()
    # written as drawn: the rows are make()'s, in order
    assert run(capsys, "data", "make", "parity", "--lengths", "1-9", "--n", "5000", "--seed", "3",
               "--out", str(out))[0] == 0
    rows = [tuple(line.split("\t")) for line in out.read_text().splitlines()[1:]]
    assert rows == make("parity", range(1, 10), 5000, 3)


def test_sigterm_during_a_write_leaves_no_file(tmp_path):
    """`kill PID` while `bptt data make` writes: exit status 143, "terminated", no temp file, no OUT."""
    out = tmp_path / "d.tsv"
    p = subprocess.Popen([sys.executable, "-m", "bptt", "data", "make", "parity", "--lengths", "200000-400000",
                          "--n", "100000", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not any(n.endswith(".tmp") for n in os.listdir(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.05)  # wait until the temp file exists: the write has begun
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 143 and err.decode().strip().endswith("terminated")
    assert _files(tmp_path) == []


def test_a_full_disk_during_training_is_one_line_and_leaves_the_last_state_whole(tmp_path, capsys, data,
                                                                                   monkeypatch):
    tr, _ = data
    out = tmp_path / "m.bptt"
    common = ["train", "--data", str(tr), "--task", "classify", "--epochs", "3", "--hidden", "4", "--quiet",
              "--no-curriculum", "--stop-perfect", "0", "--batch-size", "32", "--out", str(out)]
    assert run(capsys, *common, "--max-steps", "2")[0] == 0  # epoch 1 of 60 rows in batches of 32: 2 steps
    saved = (tmp_path / "m.bptt.last").read_bytes()
    real_fsync, calls = os.fsync, []

    def full(fd):
        calls.append(fd)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    rc, _, err = run(capsys, *common[:-2], "--out", str(tmp_path / "n.bptt"))
    assert rc == 1 and calls
    assert err.strip().startswith(f"bptt train: error: {tmp_path / 'n.bptt'}") and "No space left on device" in err
    assert "no training state was saved yet: --resume has nothing to continue from" in err  # no n.bptt.last
    assert "Traceback" not in err and _files(tmp_path) == ["m.bptt", "m.bptt.last", "m.bptt.metrics.csv",
                                                           "train.tsv", "valid.tsv"]
    rc, _, err = run(capsys, *common, "--resume")  # fails at its first save: OUT.last as it was
    assert rc == 1 and "No space left on device" in err and f"--resume continues from {out}.last" in err
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert (tmp_path / "m.bptt.last").read_bytes() == saved


def test_a_full_disk_at_the_lock_file_is_named_and_leaves_no_lock_behind(tmp_path, capsys, data, monkeypatch):
    """The run's first write is its pid into .OUT.lock; on a full disk that failed with a message that
    named no file, and the lock file stayed."""
    tr, _ = data
    real = os.pwrite

    def full(fd, data, offset):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    rc, _, err = run(capsys, "train", "--data", str(tr), "--task", "classify", "--epochs", "1", "--hidden", "4",
                     "--quiet", "--out", str(tmp_path / "m.bptt"))
    monkeypatch.setattr(os, "pwrite", real)
    assert rc == 1 and err.startswith(f"bptt train: error: {tmp_path / '.m.bptt.lock'}: No space left on device")
    assert "Traceback" not in err and _files(tmp_path) == ["train.tsv", "valid.tsv"]


def test_demo_out_dir_that_is_a_file_or_holds_a_folder_is_named(tmp_path, capsys):
    from conftest import run
    f = tmp_path / "notes.txt"
    f.write_text("mine")
    rc, _, err = run(capsys, "demo", "--out-dir", str(f), "--quiet")
    assert rc == 2 and "is a file, not a folder" in err and f.read_text() == "mine"
    (tmp_path / "d" / "addition.bptt").mkdir(parents=True)
    rc, _, err = run(capsys, "demo", "--out-dir", str(tmp_path / "d"), "--quiet")
    assert rc == 2 and "addition.bptt' is a folder" in err and "Traceback" not in err


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc, where no file can be made")
@pytest.mark.parametrize("argv", [
    ["train", "--data", "TR", "--out", "/proc/m.bptt", "--epochs", "1", "--quiet"],
    ["train", "--data", "TR", "--out", "OUT", "--plot", "/proc/loss.png", "--epochs", "1", "--quiet"],
    ["embeddings", "--model", "MODEL", "--out", "/proc/vectors.txt"],
    ["export", "--model", "MODEL", "--out", "/proc/m.safetensors"],
    ["demo", "--out-dir", "/proc", "--quiet"],
])
def test_a_folder_where_no_file_can_be_made_is_named_before_any_work(tmp_path, capsys, argv):
    """Write permission alone passed (root on /proc); the write failed at the end with a traceback."""
    from conftest import run
    tr = tmp_path / "tr.tsv"
    tr.write_text("text\tlabel\n" + "".join(f"{'ab' * k}\t{k % 2}\n" for k in range(1, 9)))
    model = tmp_path / "m.bptt"
    assert run(capsys, "train", "--data", str(tr), "--out", str(model), "--epochs", "1", "--quiet")[0] == 0
    argv = [{"TR": str(tr), "OUT": str(tmp_path / "o.bptt"), "MODEL": str(model)}.get(a, a) for a in argv]
    rc, _, err = run(capsys, *argv)
    assert rc == 2 and "no file can be made in '/proc'" in err and "Traceback" not in err, err
