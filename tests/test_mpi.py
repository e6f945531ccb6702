"""Data-parallel training on MPI (bptt.distributed): ``mpiexec -n 2`` and ``-n 3`` on this machine,
started by the tests.  N processes must train the model one process trains on the same global
batches (float64, 1e-12), with dropout, variable lengths, a tagger and a stateful language model
with truncated BPTT; resume across N; a rank that fails or dies stops the whole job quickly and
names itself; without mpiexec, MPI is never imported."""

import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from bptt import checkpoint
from conftest import run

pytest.importorskip("mpi4py")
MPIEXEC = next((str(p) for p in (pathlib.Path(sys.executable).parent / "mpiexec",) if p.exists()),
               shutil.which("mpiexec"))
if MPIEXEC is None:
    pytest.skip("no mpiexec (pip install 'bptt[mpi]')", allow_module_level=True)
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "BPTT_CPU_THREADS": "1"}


def mpi(n, *args, cwd, timeout=120, shell=None):
    cmd = [MPIEXEC, "-n", str(n)] + (["sh", "-c", shell] if shell else [sys.executable, "-m", "bptt", *args])
    return subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)


def weights(path):
    return checkpoint.load(path).model.params


def assert_same(a, b, tol=1e-12):
    assert sorted(a) == sorted(b)
    for k in a:
        scale = max(1.0, float(np.max(np.abs(a[k]))))
        assert np.max(np.abs(a[k] - b[k])) <= tol * scale, k


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("mpi")
    from bptt.cli import main
    main(["data", "make", "parity", "--lengths", "1-12", "--n", "300", "--seed", "1", "--out", str(d / "tr.tsv")])
    main(["data", "make", "parity", "--lengths", "1-12", "--n", "50", "--seed", "2", "--out", str(d / "va.tsv")])
    main(["data", "make", "addition", "--lengths", "1-4", "--n", "150", "--seed", "1", "--out", str(d / "add.tsv")])
    (d / "t.txt").write_text("to be or not to be, that is the question. whether tis nobler in the mind " * 30)
    return d


JOBS = {
    "classify": ["train", "--data", "tr.tsv", "--valid", "va.tsv", "--task", "classify", "--hidden", "8",
                 "--dropout", "0.2", "--word-dropout", "0.1", "--batch-size", "13", "--no-curriculum"],
    "curriculum": ["train", "--data", "tr.tsv", "--valid", "va.tsv", "--task", "classify", "--hidden", "8",
                   "--batch-size", "16", "--cell", "lstm"],  # the length curriculum on, as by default here
    "tag": ["train", "--data", "add.tsv", "--valid", "add.tsv", "--task", "tag", "--hidden", "6", "--dropout", "0.1", "--batch-size", "7",
            "--no-curriculum", "--bidirectional", "--cell", "gru"],
    "lm": ["train", "--task", "lm", "--data", "t.txt", "--valid", "t.txt", "--hidden", "8", "--window", "16", "--bptt-steps", "10",
           "--batch-size", "5", "--dropout", "0.1", "--layers", "2", "--cell", "lstm"],
}
COMMON = ["--dtype", "float64", "--epochs", "2", "--stop-perfect", "0", "--quiet"]


@pytest.mark.parametrize("job", list(JOBS))
def test_n_processes_train_what_one_process_trains(files, capsys, job, monkeypatch):
    monkeypatch.chdir(files)
    args = JOBS[job] + COMMON
    assert run(capsys, *args, "--out", f"{job}-1.bptt")[0] == 0
    one = checkpoint.load(files / f"{job}-1.bptt.last")
    for n in (2, 3):
        r = mpi(n, *args, "--out", f"{job}-{n}.bptt", cwd=files)
        assert r.returncode == 0, r.stderr
        assert r.stdout.count("best model saved") == 1  # rank 0 alone prints
        assert ("length curriculum on" in r.stdout) == (job == "curriculum")
        many = checkpoint.load(files / f"{job}-{n}.bptt.last")
        assert many.meta["train_state"]["step"] == one.meta["train_state"]["step"]
        assert_same(one.model.params, many.model.params)
        def metrics(path):
            rows = [r.split(",") for r in (files / path).read_text().splitlines()]
            return rows[0], [r[:2] + r[3:] for r in rows[1:]]  # all but the time
        head, mine = metrics(f"{job}-{n}.bptt.metrics.csv")
        assert any(h.startswith("valid") for h in head), head
        if job != "lm":  # validation split across the ranks by batches: the same figures, bit for bit
            assert mine == metrics(f"{job}-1.bptt.metrics.csv")[1]
        else:  # a language model's streams split across the ranks: the same figures up to the sum's rounding
            def floats(rows):
                return np.array([[float(v) if v else np.nan for v in r] for r in rows])
            np.testing.assert_allclose(floats(mine), floats(metrics(f"{job}-1.bptt.metrics.csv")[1]), rtol=1e-12)
        for k in one.opt_state:  # Adam's moments too, and a language model's carried state
            if k != "t":
                assert np.max(np.abs(np.asarray(one.opt_state[k]) - np.asarray(many.opt_state[k]))) <= 1e-12, k


def test_a_run_of_2_processes_resumes_on_3_exactly(files, capsys, monkeypatch):
    monkeypatch.chdir(files)
    args = JOBS["lm"] + COMMON
    assert run(capsys, *args, "--out", "r-1.bptt")[0] == 0
    r = mpi(2, *args, "--out", "r-n.bptt", "--max-steps", "30", cwd=files)
    assert r.returncode == 0, r.stderr
    assert checkpoint.load(files / "r-n.bptt.last").meta["train_state"]["step"] == 30
    r = mpi(3, *args, "--out", "r-n.bptt", "--resume", cwd=files)
    assert r.returncode == 0, r.stderr
    assert_same(weights(files / "r-1.bptt.last"), weights(files / "r-n.bptt.last"))


def test_one_allreduce_per_step(files, tmp_path):
    script = tmp_path / "count.py"
    script.write_text("""
import numpy as np
from bptt import Model, ModelConfig, distributed
from bptt.train import SeqData, TrainConfig, train
comm = distributed.from_environment()
rng = np.random.default_rng(0)
data = SeqData([rng.integers(2, 6, rng.integers(1, 9)) for _ in range(40)], [int(v) for v in rng.integers(0, 2, 40)],
               "classify")
m = Model(ModelConfig(vocab_size=6, hidden_size=5, dtype="float64"), rng=np.random.default_rng(1))
hist = train(m, distributed.Sharded(data, comm), None, TrainConfig(epochs=3, batch_size=8, stop_perfect=0),
             log=lambda *a: None, comm=comm)
open(f"count.{comm.rank}", "w").write(f"steps {hist[-1]['step']} allreduces {comm.allreduce_calls}")
""")
    r = mpi(2, cwd=tmp_path, shell=f"{sys.executable} {script}")
    assert r.returncode == 0, r.stderr
    for rank in (0, 1):  # 40 sequences in batches of 8, 3 epochs: 15 steps, each one allreduce
        assert (tmp_path / f"count.{rank}").read_text() == "steps 15 allreduces 15"


def test_a_rank_fed_a_bad_file_stops_the_job_and_names_itself(files, tmp_path):
    (tmp_path / "bad.tsv").write_bytes(b"0 1\t1\n\xff\xfe broken\t0\n")
    shutil.copy(files / "tr.tsv", tmp_path / "good.tsv")
    job = (f"if [ \"$PMI_RANK\" = 1 ]; then F=bad.tsv; else F=good.tsv; fi; exec {sys.executable} -m bptt train "
           f"--data $F --task classify --hidden 8 --epochs 50 --no-curriculum --quiet --out m.bptt")
    t0 = time.monotonic()
    r = mpi(2, cwd=tmp_path, shell=job, timeout=60)
    assert r.returncode != 0 and time.monotonic() - t0 < 30
    assert "error (rank 1 of 2)" in r.stderr and "bad.tsv" in r.stderr
    assert not list(tmp_path.glob("m.bptt*")) and not list(tmp_path.glob(".m.bptt*"))


LONG_RUN = "train --data tr.tsv --task classify --hidden 16 --epochs 10000 --stop-perfect 0 --no-curriculum --quiet"


def start_long_run(files, tmp_path):
    """A 2-rank run that would go on for long, each rank's pid in ``pid.RANK``, returned once it has
    saved ``m.bptt.last``."""
    shutil.copy(files / "tr.tsv", tmp_path / "tr.tsv")
    job = f"echo $$ > pid.$PMI_RANK; exec {sys.executable} -m bptt {LONG_RUN} --out m.bptt"
    p = subprocess.Popen([MPIEXEC, "-n", "2", "sh", "-c", job], cwd=tmp_path, env=ENV, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (tmp_path / "m.bptt.last").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    if not (tmp_path / "m.bptt.last").exists():
        p.kill()
        pytest.fail("the run saved nothing in 60 s")
    return p


def pid_of(tmp_path, rank) -> int:
    return int((tmp_path / f"pid.{rank}").read_text())


def test_a_rank_killed_mid_run_stops_the_job_and_the_saved_state_resumes(files, tmp_path):
    p = start_long_run(files, tmp_path)
    try:
        os.kill(pid_of(tmp_path, 1), signal.SIGKILL)
        t0 = time.monotonic()
        out, err = p.communicate(timeout=30)
        assert p.returncode != 0 and time.monotonic() - t0 < 20
        # mpiexec names a process it saw end by its pid: the killed rank 1, or rank 0 when it reaped that one
        # first (seen once in CI: "PID <rank 0's> ... EXIT CODE: 9") ...
        named = [r for r in (0, 1) if f"PID {pid_of(tmp_path, r)} " in out + err]
        assert named, out + err
        assert all(f"{r}: {pid_of(tmp_path, r)}" in out for r in named)  # ... and the first lines say which rank
    finally:
        if p.poll() is None:
            p.kill()
    ck = checkpoint.load(tmp_path / "m.bptt.last")  # whole: writes are atomic
    assert ck.meta["train_state"]["epoch"] >= 1
    r = mpi(2, *LONG_RUN.split(), "--out", "m.bptt", "--resume", "--max-steps",
            str(ck.meta["train_state"]["step"] + 3), cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_without_mpiexec_mpi_is_never_imported(files, monkeypatch):
    code = ("import sys; from bptt.cli import main; "
            f"rc = main(['train', '--data', {str(files / 'tr.tsv')!r}, '--task', 'classify', '--epochs', '1', "
            f"'--quiet', '--out', {str(files / 'plain.bptt')!r}]); "
            "assert rc == 0 and 'mpi4py' not in sys.modules, sorted(m for m in sys.modules if 'mpi' in m)")
    env = {k: v for k, v in ENV.items() if not k.startswith(("PMI_", "OMPI_"))}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_under_mpiexec_without_mpi4py_the_message_says_what_to_install(files, capsys, monkeypatch):
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if not installed
    rc, _, err = run(capsys, "train", "--data", str(files / "tr.tsv"), "--task", "classify",
                     "--out", str(files / "x.bptt"))
    assert rc == 2 and "mpi4py is not installed: pip install 'bptt[mpi]'" in err


def test_ctrl_c_to_the_ranks_stops_them_at_one_batch_and_saves(files, tmp_path):
    """SIGINT to every rank (as a terminal's Ctrl-C sends it to the whole job): the ranks agree on
    the batch to stop after, rank 0 saves OUT.last, every rank ends with 130 and none is left waiting."""
    p = start_long_run(files, tmp_path)
    try:
        for rank in (0, 1):
            os.kill(pid_of(tmp_path, rank), signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, err
    assert "interrupted; state saved to m.bptt.last" in out
    assert not list(tmp_path.glob(".m.bptt*.tmp"))
    ck = checkpoint.load(tmp_path / "m.bptt.last")
    assert ck.meta["train_state"]["step"] > 0


def test_each_rank_takes_its_share_of_the_cores(tmp_path):
    """Without thread settings of the user's, N ranks on one machine each get cores // N BLAS threads
    and bptt threads (N ranks with every core's worth of threads each, spinning in MPI, ran a small
    training 9x slower than one process, found by a new-user try); a setting of the user's is kept."""
    script = tmp_path / "share.py"
    script.write_text("""
import os
from threadpoolctl import threadpool_info
from bptt import distributed
comm = distributed.from_environment()
n = comm.share_cores()
blas = sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
open(f"share.{comm.rank}", "w").write(f"{n} {os.environ.get('BPTT_CPU_THREADS')} {blas}")
""")
    env = {k: v for k, v in ENV.items() if k not in ("BPTT_CPU_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    r = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(script)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    want = max(1, (os.cpu_count() or 1) // 2)
    for rank in (0, 1):
        assert (tmp_path / f"share.{rank}").read_text() == f"{want} {want} [{want}]"
    r = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(script)], cwd=tmp_path,
                       env={**env, "BPTT_CPU_THREADS": "1"}, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "share.0").read_text().startswith("1 1 ")


ASK = r"""
import os, numpy as np
from mpi4py import MPI
from bptt.distributed import Comm
c = Comm(MPI.COMM_WORLD, MPI)
with open(f"rank{c.rank}.txt", "w") as f:  # a file each: the ranks' stdout lines would interleave
    f.write(repr(c.cuda_aware()) + "\n" + repr(c.allreduce_sum(np.arange(5.0)).tolist()))
"""


@pytest.mark.parametrize("env, want", [(None, None), ("0", (False, "BPTT_MPI_CUDA_AWARE=0")),
                                       ("1", (True, "BPTT_MPI_CUDA_AWARE=1"))])
def test_the_mpi_is_asked_whether_it_is_cuda_aware(tmp_path, env, want):
    e = dict(ENV)
    e.pop("BPTT_MPI_CUDA_AWARE", None)
    if env is not None:
        e["BPTT_MPI_CUDA_AWARE"] = env
    r = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-c", ASK], cwd=tmp_path, env=e, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    said = [(tmp_path / f"rank{k}.txt").read_text().split("\n") for k in range(2)]
    answers = {line[0] for line in said}
    assert len(answers) == 1  # every rank the same answer
    aware, how = eval(answers.pop())
    if want is not None:
        assert (aware, how) == want
    else:  # the mpich wheel: built without CUDA, and it says so through MPICH's query
        assert aware is False and how in ("MPIX_GPU_query_support(MPIX_GPU_SUPPORT_CUDA)", "MPIX_Query_cuda_support()")
    assert all(line[1] == "[0.0, 2.0, 4.0, 6.0, 8.0]" for line in said)  # a NumPy buffer summed over the 2 ranks


STAGED = r"""
import numpy as np, array_api_strict as xps
from mpi4py import MPI
from bptt import Model, ModelConfig
from bptt.distributed import Comm, Sharded
from bptt.train import SeqData, TrainConfig
from bptt._xp import to_numpy
comm = Comm(MPI.COMM_WORLD, MPI)
rng = np.random.default_rng(0)
ids = [rng.integers(2, 6, int(L)) for L in rng.integers(1, 9, 23)]
data = SeqData(ids, [int(s.sum() % 2) for s in ids], "classify")
cfg = ModelConfig(vocab_size=6, embed_dim=4, hidden_size=5, output_size=2, dtype="float64")
m = Model(cfg, rng=np.random.default_rng(1))
desc = data.epoch_batches(TrainConfig(batch_size=23), 0)[0]
loss, g, _, n_seq, _ = Sharded(data, comm).train_step(m, desc)
strict = Model(cfg, {k: xps.asarray(v) for k, v in m.params.items()})
loss_s, g_s, _, n_seq_s, _ = Sharded(data, comm).train_step(strict, desc)
whole, g1 = m.loss_and_grads(data.batch(desc[0], m))  # one process, the whole global batch
rel = lambda a, b: float(np.max(np.abs(to_numpy(a) - to_numpy(b)))) / max(1e-300, float(np.max(np.abs(to_numpy(b)))))
with open(f"rank{comm.rank}.txt", "w") as f:
    f.write(repr([type(g_s["W_s"]).__module__.split(".")[0], n_seq, n_seq_s,
                  max(rel(g_s[k], g[k]) for k in g), rel(loss_s, loss), max(rel(g[k], g1[k]) for k in g)]))
"""


def test_gradients_packed_in_another_namespace_are_staged_through_the_host(tmp_path):
    """The path a GPU's gradients take to a MPI that is not CUDA-aware (packed in their own namespace,
    one copy to the host and back), run here with array_api_strict arrays standing in for CuPy's."""
    pytest.importorskip("array_api_strict")
    r = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-c", STAGED], cwd=tmp_path, env=ENV,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    for k in range(2):
        module, n_seq, n_seq_s, g_rel, loss_rel, whole_rel = eval((tmp_path / f"rank{k}.txt").read_text())
        assert module == "array_api_strict" and n_seq == n_seq_s == 23  # the global count, 23 rows in 2 shards
        assert g_rel < 1e-12 and loss_rel < 1e-12 and whole_rel < 1e-12
