"""Data-parallel training on MPI: ``mpiexec -n N bptt train ...``.

N processes train the same model as one process on the same global batches.
Every rank draws the global batch one process would draw (same seed, same
order), computes the gradient sums of its own rows (a contiguous shard:
rows ``B*r//N .. B*(r+1)//N - 1``), and one ``Allreduce`` of one flat buffer
per step (every gradient, the loss, the counts and, for a stateful language
model, the shards' carried states) gives every rank the global sums.  The loss
and gradients are normalised by the global count of sequences (a many-to-one
head) or of tokens (many-to-many), as one process normalises them.  Every rank
then takes the same optimiser step, so the replicas stay equal; dropout masks
are drawn for the global batch and cut into the same shards.  Rank 0 alone
prints and writes files.  Stopping decisions (``--max-time``, Ctrl-C) are taken
by rank 0's clock and any rank's interrupt, agreed on every step, so that no
rank waits for another that has stopped.

MPI comes from ``mpi4py`` (``pip install 'bptt[mpi]'``, which also brings the
``mpich`` wheel and its ``mpiexec``).  ``bptt train`` imports it only when it
was started by ``mpiexec`` with more than one process.  On a GPU each rank uses
its local GPU (its local rank modulo the GPUs it sees).  The flat buffer is
packed on the device; a CUDA-aware MPI reduces it there, any other MPI gets it
staged through the host (one copy each way).  Whether the MPI is CUDA-aware is
asked of the MPI library itself (:meth:`Comm.cuda_aware`): MPICH's
``MPIX_GPU_query_support(MPIX_GPU_SUPPORT_CUDA)`` (MPICH >= 4.0.1, Cray MPICH),
else Open MPI's ``MPIX_Query_cuda_support()``; ``BPTT_MPI_CUDA_AWARE=0/1``
overrides the answer.  Neither query is part of the MPI standard, and an MPI
with neither is taken as not CUDA-aware.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from ._xp import namespace, to_numpy

__all__ = ["launched_size", "Comm", "from_environment", "shard_range", "Sharded", "SplitEvaluation"]

_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "PMIX_SIZE", "SLURM_NTASKS")


def launched_size() -> int:
    """How many processes the launcher (mpiexec) started, from its environment (1 when none)."""
    for var in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):
        v = os.environ.get(var, "").strip()
        if v.isdigit():
            return int(v)
    return 1


class MPIMissing(RuntimeError):
    pass


class Comm:
    """The few collective operations training needs, on ``MPI.COMM_WORLD``."""

    def __init__(self, mpi_comm, MPI):
        self._c, self._MPI = mpi_comm, MPI
        self.rank, self.size = mpi_comm.Get_rank(), mpi_comm.Get_size()
        self.allreduce_calls = 0  # counted for the tests: one per training step
        self.device_buffers = False  # reduce GPU buffers in place (a CUDA-aware MPI; see cuda_aware)

    def cuda_aware(self) -> tuple[bool, str]:
        """``(aware, how it was found)``: whether this MPI takes CUDA device buffers, asked of the MPI
        library loaded in this process: MPICH's ``MPIX_GPU_query_support`` with
        ``MPIX_GPU_SUPPORT_CUDA`` (0), else Open MPI's ``MPIX_Query_cuda_support()``; the environment
        variable ``BPTT_MPI_CUDA_AWARE`` (0 or 1) overrides.  False when the library has neither."""
        env = os.environ.get("BPTT_MPI_CUDA_AWARE", "").strip()
        if env in ("0", "1"):
            return env == "1", f"BPTT_MPI_CUDA_AWARE={env}"
        import ctypes

        for path in _loaded_mpi_libraries():
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            if hasattr(lib, "MPIX_GPU_query_support"):  # MPICH >= 4.0.1
                ok = ctypes.c_int(0)
                if lib.MPIX_GPU_query_support(ctypes.c_int(0), ctypes.byref(ok)) == 0:
                    return bool(ok.value), "MPIX_GPU_query_support(MPIX_GPU_SUPPORT_CUDA)"
            if hasattr(lib, "MPIX_Query_cuda_support"):  # Open MPI's CUDA extension
                lib.MPIX_Query_cuda_support.restype = ctypes.c_int
                return bool(lib.MPIX_Query_cuda_support()), "MPIX_Query_cuda_support()"
        return False, "the MPI library has no query for it"

    @property
    def local_rank(self) -> int:
        for var in ("MPI_LOCALRANKID", "OMPI_COMM_WORLD_LOCAL_RANK"):
            v = os.environ.get(var, "").strip()
            if v.isdigit():
                return int(v)
        return self.rank

    @property
    def local_size(self) -> int:
        """How many ranks run on this machine."""
        return self._c.Split_type(self._MPI.COMM_TYPE_SHARED).Get_size()

    def share_cores(self) -> int:
        """Give each rank its share of this machine's cores (``os.cpu_count() // local ranks``, at least
        one): the BLAS's threads and bptt's own split (``BPTT_CPU_THREADS``).  N ranks that each start
        every core's worth of threads oversubscribe the machine, and MPI's waiting ranks spin.  A
        ``BPTT_CPU_THREADS`` or ``OPENBLAS_NUM_THREADS`` / ``OMP_NUM_THREADS`` the user set is kept."""
        if any(os.environ.get(v) for v in ("BPTT_CPU_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")):
            return int(os.environ.get("BPTT_CPU_THREADS") or 0) or 0
        n = max(1, (os.cpu_count() or 1) // self.local_size)
        os.environ["BPTT_CPU_THREADS"] = str(n)
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(limits=n, user_api="blas")
        except Exception:  # no threadpoolctl, or a BLAS it cannot set: the BLAS keeps its threads
            pass
        return n

    def allreduce_sum(self, buf):
        """The sum over the ranks of ``buf``, a NumPy or a device (CuPy) array, returned in its namespace:
        a device array is reduced on the device when :attr:`device_buffers` (a CUDA-aware MPI; the
        work queued on it is waited for first, since MPI reads the memory itself), else through the
        host, one copy each way."""
        xp = namespace(buf)
        if xp is not np:
            if not self.device_buffers:
                return xp.asarray(self.allreduce_sum(to_numpy(buf)))
            import cupy

            cupy.cuda.get_current_stream().synchronize()  # the packing kernels have written buf
        out = xp.empty_like(buf)
        self._c.Allreduce(buf, out, op=self._MPI.SUM)
        self.allreduce_calls += 1
        return out

    def bcast(self, obj, root: int = 0):
        return self._c.bcast(obj, root=root)

    def allgather(self, obj) -> list:
        return self._c.allgather(obj)

    def agree(self, elapsed: float, interrupted: bool) -> tuple[float, bool]:
        """Rank 0's clock and whether any rank was interrupted: the same stop decision everywhere."""
        buf = np.array([elapsed if self.rank == 0 else 0.0, 1.0 if interrupted else 0.0])
        out = np.empty_like(buf)
        self._c.Allreduce(buf, out, op=self._MPI.SUM)
        return float(out[0]), bool(out[1] > 0)

    def settle(self, timeout: float = 10.0) -> bool:
        """Whether every rank reaches this point within ``timeout`` seconds (a non-blocking barrier,
        polled): after a Ctrl-C, the ranks that all got there may end normally; otherwise abort."""
        import time

        req = self._c.Ibarrier()
        deadline = time.monotonic() + timeout
        while not req.Test():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def odd_ranks(self, what: dict, *arrays) -> list[int]:
        """The ranks whose ``what`` (JSON-able) and ``arrays`` differ from rank 0's (a digest each,
        gathered once): every rank must train the same model on the same data and settings."""
        import hashlib
        import json

        h = hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode())
        for a in arrays:
            a = np.ascontiguousarray(np.asarray(a))
            h.update(str((a.dtype.str, a.shape)).encode())
            h.update(a.tobytes())
        digests = self.allgather(h.hexdigest())
        return [r for r, d in enumerate(digests) if d != digests[0]]

    #: seconds between this rank's last words and the abort: the launcher forwards a rank's output
    #: through its own process, and an abort that reaches it first drops what is still in the pipe
    #: (seen on a loaded CI machine: exit status 2, the error message lost)
    ABORT_GRACE_S = 1.0

    def abort(self, code: int = 1):
        """Stop every rank of the job (a rank that raised must not leave the others waiting)."""
        try:
            sys.stdout.flush()
            sys.stderr.flush()
            time.sleep(self.ABORT_GRACE_S)
        finally:
            self._c.Abort(code)


def from_environment() -> Comm | None:
    """A :class:`Comm` when this process was started by ``mpiexec -n N`` with N > 1, else None.

    MPI is imported only then; without mpi4py the error says what to install."""
    n = launched_size()
    if n <= 1:
        return None
    try:
        from mpi4py import MPI
    except ImportError:
        raise MPIMissing(f"started by mpiexec with {n} processes, but mpi4py is not installed: "
                         f"pip install 'bptt[mpi]' (mpi4py and the mpich wheel, which brings mpiexec)") from None
    comm = MPI.COMM_WORLD
    if comm.Get_size() != n:
        raise MPIMissing(f"the launcher started {n} processes but MPI sees {comm.Get_size()}: this mpiexec and "
                         f"mpi4py's MPI library do not belong together (use the mpiexec that came with them)")
    return Comm(comm, MPI)


def _loaded_mpi_libraries() -> list:
    """Paths of the MPI libraries (``libmpi*``) loaded in this process (Linux's /proc/self/maps)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "libmpi" in line}
    except OSError:
        return []
    return sorted(p for p in paths if p.startswith("/"))


def shard_range(rows: int, rank: int, size: int) -> tuple[int, int]:
    """Rank ``rank``'s contiguous share ``(lo, hi)`` of ``rows`` rows cut into ``size`` near-equal parts
    (empty when ``rows < size`` leaves it none)."""
    return rows * rank // size, rows * (rank + 1) // size


class _OnRanks:
    """Data seen by one rank of ``comm``: everything a subclass does not define is the wrapped data's."""

    def __init__(self, data, comm: Comm):
        self.data, self.comm = data, comm

    def __getattr__(self, name):
        return getattr(self.data, name)

    def __len__(self):
        return len(self.data)


class Sharded(_OnRanks):
    """Training data whose minibatches are cut into row shards across the ranks of ``comm``.

    Everything but ``train_step`` is the wrapped data's (``epoch_batches``, ``evaluate``, ...);
    ``train_step`` returns the global batch's mean loss and gradients (every rank the same),
    its carried state (for a stateful language model, all the streams) and its global counts.
    """

    def shard(self, rows: int) -> tuple[int, int]:
        return shard_range(rows, self.comm.rank, self.comm.size)

    def train_step(self, model, desc, carry=None, frozen=(), dropout=0.0, rng=None, **weighted):
        rows = self.data.batch_rows(desc)
        lo, hi = self.shard(rows)
        per_token = model.config.head == "many_to_many"  # what the loss is a mean over: tokens or sequences
        keys = [k for k in sorted(model.params) if k not in frozen]
        xp = namespace(next(iter(model.params.values())))
        dt = np.dtype(model.config.dtype)
        if hi > lo:
            loss, grads, c, n_seq, n_tok = self.data.train_step(model, desc, carry, frozen=frozen, dropout=dropout,
                                                                rng=rng, shard=(lo, hi), **weighted)
            count = n_tok if per_token else n_seq
        else:  # fewer rows than ranks: this rank adds nothing (but still takes part in the allreduce)
            loss, grads, c, n_seq, n_tok, count = 0.0, {}, None, 0, 0, 0
        sizes = [int(np.prod(model.params[k].shape)) for k in keys]
        carry_shape = None
        if self.data_stateful and rows:
            S = model.config.state_width
            carry_shape = model.config.state_shape_prefix + (rows, S)
        n_carry = 0 if carry_shape is None else int(np.prod(carry_shape))
        # one flat buffer, packed where the gradients are (a GPU's: no copy per parameter)
        pdt = model.params[keys[0]].dtype if keys else dt  # the parameters' dtype, in their namespace
        buf = xp.zeros(sum(sizes) + 4 + n_carry, dtype=pdt)
        at = 0
        for k, size in zip(keys, sizes):  # the sums of this shard: its mean times its count
            if k in grads:
                buf[at:at + size] = xp.reshape(grads[k], (-1,)) * count
            at += size
        buf[at:at + 4] = xp.asarray([float(to_numpy(loss)) * count, float(count), float(n_seq), float(n_tok)],
                                    dtype=pdt)
        if c is not None and carry_shape is not None:  # this shard's streams, in their place among all
            full = xp.zeros(carry_shape, dtype=pdt)
            full[..., lo:hi, :] = c
            buf[at + 4:] = xp.reshape(full, (-1,))
        tot = self.comm.allreduce_sum(buf)
        at = 0
        head = to_numpy(tot[sum(sizes):sum(sizes) + 4]).astype(np.float64)  # loss sum and counts: read back
        total_count = float(head[1])
        g = {}
        for k, size in zip(keys, sizes):  # the global mean
            g[k] = xp.reshape(tot[at:at + size], model.params[k].shape) / total_count  # (weak: stays pdt)
            at += size
        loss_sum, _, n_seq, n_tok = (float(v) for v in head)
        carry_out = None
        if carry_shape is not None:
            carry_out = xp.reshape(tot[at + 4:], carry_shape)
        return xp.asarray(loss_sum / total_count, dtype=pdt), g, carry_out, int(n_seq), int(n_tok)

    @property
    def data_stateful(self) -> bool:
        return bool(getattr(self.data, "stateful", False)) and getattr(self.data, "per_token_loss", False)


class SplitEvaluation(_OnRanks):
    """Validation data evaluated in parts, and one allreduce adds the parts, so every rank gets the
    figures of the whole data: sequences, each rank every N-th evaluation batch (bptt.train.evaluate's
    ``part`` and ``reduce``; the figures one process gets, bit for bit); a language model's text, each
    rank its share of the side-by-side streams, each stream carrying its state from chunk to chunk
    (the figures one process gets up to the rounding of their sum)."""

    def evaluate(self, model) -> dict:
        from .train import SeqData, evaluate

        part = (self.comm.rank, self.comm.size)
        if not isinstance(self.data, SeqData):
            return self.data.evaluate(model, part=part, reduce=self.comm.allreduce_sum)
        return evaluate(model, self.data, part=part, reduce=self.comm.allreduce_sum)
