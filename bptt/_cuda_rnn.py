r"""Fused CUDA kernels for the recurrent layer when its arrays are CuPy's.

:mod:`bptt.rnn` stays the one implementation of the algorithm; on CuPy arrays
it hands only its two time loops to this module, which runs them with few
kernel launches.  NumPy remains the reference (the GPU benchmark checks that
both agree to 1e-10 in float64).  Two ways to run a loop:

* ``persistent`` (small ``H``): one kernel runs the whole recurrence.  Each
  sequence of the batch gets one thread block, which keeps ``W_s[:H]`` (or its
  transpose, backward) and the current state in shared memory for all ``T``
  steps: one launch per direction instead of two per step.  It is used when
  ``H * H`` values fit in a block's shared memory (``H <= 240`` in float32 on
  an H100).
* ``stepwise`` (any ``H``): per step one cuBLAS product ``s^{t-1} @ W_s[:H]``
  (or ``da^t @ W_s[:H]^T``) and one fused elementwise kernel that applies
  ``f_s`` (or its derivative), the pad-step carry-over and, backward, the
  loss gradient ``dLoss/ds^t`` of that step.  The ``2 T`` launches are
  captured once as a CUDA graph and replayed whenever the loop meets the same
  arrays at the same addresses again, as a training loop's buffers do.

Only this module and :mod:`bptt.device` import CuPy (this one lazily, when
:mod:`bptt.rnn` hands it CuPy arrays).  Settings (environment, or
:data:`settings`): ``BPTT_CUDA_RNN=auto|stepwise|off`` picks the way (``off``:
the generic array-API loop of :mod:`bptt.rnn`); ``BPTT_CUDA_GRAPH=0`` runs the
stepwise loop without a graph; ``BPTT_CUDA_GEMM=cupy`` calls its products
through ``cupy.matmul(out=)`` instead of cuBLAS (no graph then).  With CuPy's
``CUPY_TF32=1`` the float32 products of the stepwise loop use TF32 tensor
cores, as CuPy's own products then do.
"""

from __future__ import annotations

import os
import threading

import numpy as np

MODES = ("auto", "stepwise", "off")
GEMMS = ("cublas", "cupy")
settings = {
    "mode": os.environ.get("BPTT_CUDA_RNN", "auto"),
    "gemm": os.environ.get("BPTT_CUDA_GEMM", "cublas"),
    "graph": os.environ.get("BPTT_CUDA_GRAPH", "1") != "0",
}
ACTIVATIONS = {"tanh": 0, "sigmoid": 1, "relu": 2, "identity": 3}

_SOURCE = r"""
extern __shared__ __align__(16) unsigned char bptt_smem[];

__device__ __forceinline__ float bptt_tanh(float a) { return tanhf(a); }
__device__ __forceinline__ double bptt_tanh(double a) { return tanh(a); }

// f_s of a pre-activation, as bptt.activations writes it
template <typename F> __device__ __forceinline__ F act_f(F a, int act) {
    if (act == 0) return bptt_tanh(a);
    if (act == 1) return F(0.5) * (bptt_tanh(F(0.5) * a) + F(1));
    if (act == 2) return a > F(0) ? a : F(0);
    return a;
}
// f_s' written from the output y = f_s(a)
template <typename F> __device__ __forceinline__ F act_d(F y, int act) {
    if (act == 0) return F(1) - y * y;
    if (act == 1) return y * (F(1) - y);
    if (act == 2) return y > F(0) ? F(1) : F(0);
    return F(1);
}

// stepwise forward, after P = S[t] @ W_h was written into S[t+1]:
// S[t+1] = f_s(P + U[t]) on real rows, S[t] (carried over) on pad rows.  n = B * H.
template <typename F> __device__ void fwd_step(F* Snext, const F* U, const F* Sprev, const bool* m,
                                               int has_mask, int n, int H, int act) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        F s = act_f(Snext[i] + U[i], act);
        if (has_mask && !m[i / H]) s = Sprev[i];
        Snext[i] = s;
    }
}

// stepwise backward at step t (t = T-1 .. 0):
//   g = (m[t+1] ? gp : g) + dS[:, t]      total dLoss/ds^t (gp = da^{t+1} @ W_h^T; a pad step passes g on)
//   dA[t] = m[t] ? g * f_s'(S[t+1]) : 0   backprop through f_s (a pad step has none)
template <typename F> __device__ void bwd_step(F* g, const F* gp, int use_gp, const bool* m_next,
                                               const F* dS, int has_dS, int t, int T,
                                               const F* Snext, const bool* m_t, int has_mask,
                                               F* dA_t, int n, int H, int act) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        const int b = i / H, j = i - (i / H) * H;
        F gi = g[i];
        if (use_gp && (!has_mask || m_next[b])) gi = gp[i];
        if (has_dS) gi += dS[((size_t)b * T + t) * H + j];
        g[i] = gi;
        F d = gi * act_d(Snext[i], act);
        if (has_mask && !m_t[b]) d = F(0);
        dA_t[i] = d;
    }
}

// after the last stepwise backward step: g = dLoss/ds^0
template <typename F> __device__ void bwd_finish(F* g, const F* gp, const bool* m0, int has_mask, int n, int H) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        if (!has_mask || m0[i / H]) g[i] = gp[i];
    }
}

// persistent forward: block b runs sequence b through all T steps; W_h [H, H] and s in shared memory.
// U [T, B, H] (input part + bias), S [T+1, B, H] with S[0] set, m [T, B].
template <typename F> __device__ void fwd_persistent(const F* U, const F* Wh, const bool* m, int has_mask,
                                                     F* S, int T, int B, int H, int act) {
    F* W = reinterpret_cast<F*>(bptt_smem);
    F* s = W + H * H;
    const int b = blockIdx.x, j = threadIdx.x;
    for (int i = j; i < H * H; i += blockDim.x) W[i] = Wh[i];
    if (j < H) s[j] = S[(size_t)b * H + j];
    bool real_next = !has_mask || m[b];
    F u_next = (j < H) ? U[(size_t)b * H + j] : F(0);
    __syncthreads();
    for (int t = 0; t < T; ++t) {
        const bool real = real_next;
        const F u = u_next;
        if (t + 1 < T) {  // fetch the next step's input while this one computes
            real_next = !has_mask || m[(size_t)(t + 1) * B + b];
            if (j < H) u_next = U[((size_t)(t + 1) * B + b) * H + j];
        }
        F out = F(0);
        if (j < H) {
            if (real) {
                F acc = F(0);
                for (int k = 0; k < H; ++k) acc += s[k] * W[k * H + j];  // (s^{t-1} @ W_h)_j
                out = act_f(acc + u, act);
            } else {
                out = s[j];  // pad step: carry the state over
            }
        }
        __syncthreads();  // every thread has read s^{t-1}
        if (j < H) {
            s[j] = out;
            S[((size_t)(t + 1) * B + b) * H + j] = out;
        }
        __syncthreads();
    }
}

// persistent backward: block b runs sequence b from T-1 down to 0; W_h^T and da in shared memory,
// thread j keeps g_j = dLoss/ds^t_j in a register.  Writes dA [T, B, H] and g0 = dLoss/ds^0 [B, H].
template <typename F> __device__ void bwd_persistent(const F* S, const F* Wh, const bool* m, int has_mask,
                                                     const F* dS, int has_dS, const F* dlast, int has_dlast,
                                                     F* dA, F* g0, int T, int B, int H, int act) {
    F* Wt = reinterpret_cast<F*>(bptt_smem);  // Wt[k * H + j] = W_h[j, k]
    F* d = Wt + H * H;
    const int b = blockIdx.x, j = threadIdx.x;
    for (int i = j; i < H * H; i += blockDim.x) {
        const int r = i / H, c = i - (i / H) * H;
        Wt[c * H + r] = Wh[i];
    }
    F g = (j < H && has_dlast) ? dlast[(size_t)b * H + j] : F(0);
    __syncthreads();
    for (int t = T - 1; t >= 0; --t) {
        const bool real = !has_mask || m[(size_t)t * B + b];
        F da = F(0);
        if (j < H) {
            if (has_dS) g += dS[((size_t)b * T + t) * H + j];  // this step's own loss
            if (real) da = g * act_d(S[((size_t)(t + 1) * B + b) * H + j], act);  // backprop through f_s
            dA[((size_t)t * B + b) * H + j] = da;
            d[j] = da;
        }
        __syncthreads();
        if (j < H && real) {  // backprop through s^{t-1} @ W_h; a pad step passes g on unchanged
            F acc = F(0);
            for (int k = 0; k < H; ++k) acc += d[k] * Wt[k * H + j];
            g = acc;
        }
        __syncthreads();  // d is rewritten next step
    }
    if (j < H) g0[(size_t)b * H + j] = g;
}
"""

_WRAPPERS = r"""
extern "C" {{
__global__ void fwd_step_{s}({F}* Snext, const {F}* U, const {F}* Sprev, const bool* m, int has_mask,
                            int n, int H, int act)
{{ fwd_step<{F}>(Snext, U, Sprev, m, has_mask, n, H, act); }}
__global__ void bwd_step_{s}({F}* g, const {F}* gp, int use_gp, const bool* m_next, const {F}* dS, int has_dS,
                            int t, int T, const {F}* Snext, const bool* m_t, int has_mask, {F}* dA_t,
                            int n, int H, int act)
{{ bwd_step<{F}>(g, gp, use_gp, m_next, dS, has_dS, t, T, Snext, m_t, has_mask, dA_t, n, H, act); }}
__global__ void bwd_finish_{s}({F}* g, const {F}* gp, const bool* m0, int has_mask, int n, int H)
{{ bwd_finish<{F}>(g, gp, m0, has_mask, n, H); }}
__global__ void fwd_persistent_{s}(const {F}* U, const {F}* Wh, const bool* m, int has_mask, {F}* S,
                                  int T, int B, int H, int act)
{{ fwd_persistent<{F}>(U, Wh, m, has_mask, S, T, B, H, act); }}
__global__ void bwd_persistent_{s}(const {F}* S, const {F}* Wh, const bool* m, int has_mask, const {F}* dS,
                                  int has_dS, const {F}* dlast, int has_dlast, {F}* dA, {F}* g0,
                                  int T, int B, int H, int act)
{{ bwd_persistent<{F}>(S, Wh, m, has_mask, dS, has_dS, dlast, has_dlast, dA, g0, T, B, H, act); }}
}}
"""


def cuda_source() -> str:
    """The kernels' CUDA C++ source, float32 (``_f32``) and float64 (``_f64``) entry points."""
    return _SOURCE + "".join(_WRAPPERS.format(F=F, s=s) for F, s in (("float", "f32"), ("double", "f64")))


def is_cupy(a) -> bool:
    return type(a).__module__.startswith("cupy")


def plan(S, activation: str):
    """How to run the loops for states ``S`` [T+1, B, H]: "persistent", "stepwise" or None (generic)."""
    mode = settings["mode"]
    if mode not in MODES:
        raise ValueError(f"BPTT_CUDA_RNN={mode!r} is not known; choose one of {list(MODES)}")
    if mode == "off" or not is_cupy(S) or activation not in ACTIVATIONS:
        return None
    if S.dtype.name not in ("float32", "float64"):
        return None
    H = int(S.shape[2])
    if mode == "auto" and H <= 1024 and _persistent_smem(H, S.dtype.itemsize) <= _smem_limit():
        return "persistent"
    return "stepwise"


def _persistent_smem(H: int, itemsize: int) -> int:
    return (H * H + H) * itemsize


_cache: dict = {}


def _device() -> int:
    import cupy

    return cupy.cuda.Device().id


def _smem_limit() -> int:
    """Shared memory one block may opt in to on the current device (227 KB on an H100)."""
    key = ("smem", _device())
    if key not in _cache:
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(key[1])
        _cache[key] = int(props.get("sharedMemPerBlockOptin", props.get("sharedMemPerBlock", 48 * 1024)))
    return _cache[key]


def _module():
    if "module" not in _cache:
        import cupy

        _cache["module"] = cupy.RawModule(code=cuda_source(), options=("--std=c++14",))
    return _cache["module"]


def _kernel(name: str, dtype):
    key = (name, dtype.name)
    if key not in _cache:
        _cache[key] = _module().get_function(f"{name}_{'f32' if dtype.name == 'float32' else 'f64'}")
    return _cache[key]


def _threads(H: int) -> int:
    return min(1024, -(-H // 32) * 32)


def _grid(n: int) -> int:
    return max(1, min(-(-n // 256), 4096))


class CupyKernels:
    """The kernel launches and products the loops are made of, on CuPy arrays.

    Launches take raw device addresses (``base + t * stride``) rather than
    CuPy views of ``S[t]``: making a view costs the host more than the launch.
    """

    def __init__(self, dtype):
        import cupy

        self.cp = cupy
        self.dtype = np.dtype(dtype.name)
        self._dummy_mask = cupy.zeros((1,), dtype=cupy.bool_)
        self._dummy = cupy.zeros((1,), dtype=self.dtype)
        self._one = np.ones((1,), self.dtype)
        self._zero = np.zeros((1,), self.dtype)
        self._blas = None
        self._capi = None  # cuBLAS through ctypes, for products inside a CUDA graph capture
        self._tf32 = os.environ.get("CUPY_TF32", "0") == "1" and self.dtype == np.float32
        if settings["gemm"] not in GEMMS:
            raise ValueError(f"BPTT_CUDA_GEMM={settings['gemm']!r} is not known; choose one of {list(GEMMS)}")
        if settings["gemm"] == "cublas":
            try:
                from cupy_backends.cuda.libs import cublas
            except ImportError:  # older CuPy
                from cupy.cuda import cublas
            self._blas = cublas
            self._handle = cupy.cuda.device.get_cublas_handle()
            cublas.setPointerMode(self._handle, cublas.CUBLAS_POINTER_MODE_HOST)
            self._gemm = cublas.sgemm if self.dtype == np.float32 else cublas.dgemm
        self.can_capture = self._blas is not None and hasattr(cupy.cuda.Stream, "begin_capture")

    # -- products ---------------------------------------------------------------------------
    def _gemm_call(self, transa, m, n, k, A, lda, B, ldb, C, ldc):
        # inside a capture, cuBLAS's C API (it returns a status); else CuPy's binding (it raises)
        gemm, handle = (self._gemm, self._handle) if self._capi is None else (self._capi["gemm"], self._cap_handle)
        st = gemm(handle, transa, 0, m, n, k, self._one.ctypes.data, A, lda, B, ldb,
                  self._zero.ctypes.data, C, ldc)
        if st:
            raise RuntimeError(f"cuBLAS gemm failed with status {st}")

    def matmul(self, A, i, W, out, j):
        """``out[j] = A[i] @ W`` for C-contiguous ``A`` [., B, K], ``W`` [K, N], ``out`` [., B, N]."""
        if self._blas is None:
            self.cp.matmul(A[i], W, out=out[j])
            return
        self.matmul_rows(A, i, W, out, j)

    def matmul_rows(self, A, i, W, out, j):
        """``out[j][:, :N] = A[i][:, :K] @ W`` for C-contiguous ``A`` [., B, K'], ``W`` [K, N],
        ``out`` [., B, N'] (K <= K', N <= N': the leading columns of each row; cuBLAS only)."""
        B, K, N = A.shape[1], W.shape[0], W.shape[1]
        # row-major C = A W is column-major C^T = W^T A^T: W is the first operand, untransposed;
        # the rows of A and out are A.shape[2] and out.shape[2] apart
        self._gemm_call(0, N, B, K, W.data.ptr, N, A.data.ptr + i * A.strides[0], A.shape[2],
                        out.data.ptr + j * out.strides[0], out.shape[2])

    def matmul_t(self, A, i, W, W_T, out):
        """``out = A[i] @ W.T`` for C-contiguous ``A`` [., B, K], ``W`` [N, K], ``out`` [B, N]
        (``W_T``: the transpose, contiguous, used by the ``cupy`` product)."""
        if self._blas is None:
            self.cp.matmul(A[i], W_T, out=out)
            return
        B, K = A.shape[1], A.shape[2]
        N = W.shape[0]
        # column-major C^T = W A^T, and W's column-major view is W^T: transpose it (op T)
        self._gemm_call(1, N, B, K, W.data.ptr, K, A.data.ptr + i * A.strides[0], K, out.data.ptr, N)

    # -- elementwise steps ------------------------------------------------------------------
    def _row(self, a, t):
        return np.uint64(a.data.ptr + t * a.strides[0])

    def _m(self, m, t):
        """Address of mask row ``t`` and whether there is a mask (a dummy address when not)."""
        return (np.uint64(self._dummy_mask.data.ptr), np.int32(0)) if m is None else (self._row(m, t), np.int32(1))

    def _opt(self, a):
        """An optional input: the array (or a dummy) and whether it was given."""
        return (self._dummy, np.int32(0)) if a is None else (a, np.int32(1))

    def fwd_step(self, S, U, m, t, act):
        B, H = S.shape[1], S.shape[2]
        n = B * H
        mt, has = self._m(m, t)
        _kernel("fwd_step", self.dtype)((_grid(n),), (256,), (
            self._row(S, t + 1), self._row(U, t), self._row(S, t), mt, has, np.int32(n), np.int32(H),
            np.int32(act)))

    def bwd_step(self, g, gp, use_gp, m, dS, t, S, dA, act):
        T, B, H = dA.shape
        n = B * H
        m_next, has = self._m(m, t + 1 if use_gp else t)
        m_t, _ = self._m(m, t)
        _kernel("bwd_step", self.dtype)((_grid(n),), (256,), (
            g, gp, np.int32(use_gp), m_next, *self._opt(dS), np.int32(t), np.int32(T), self._row(S, t + 1),
            m_t, has, self._row(dA, t), np.int32(n), np.int32(H), np.int32(act)))

    def bwd_finish(self, g, gp, m):
        B, H = g.shape
        m0, has = self._m(m, 0)
        _kernel("bwd_finish", self.dtype)((_grid(B * H),), (256,), (g, gp, m0, has, np.int32(B * H), np.int32(H)))

    # -- whole loops ------------------------------------------------------------------------
    def _launch_persistent(self, name, B, H, args):
        k = _kernel(name, self.dtype)
        smem = _persistent_smem(H, self.dtype.itemsize)
        key = ("smem_set", name, self.dtype.name, _device())
        if smem > 48 * 1024 and _cache.get(key, 0) < smem:
            k.max_dynamic_shared_size_bytes = smem  # opt in to more than 48 KB of shared memory
            _cache[key] = smem
        k((B,), (_threads(H),), args, shared_mem=smem)

    def fwd_persistent(self, S, U, W_h, m, act):
        T, B, H = U.shape
        self._launch_persistent("fwd_persistent", B, H, (
            U, W_h, *self._m(m, 0), S, np.int32(T), np.int32(B), np.int32(H), np.int32(act)))

    def bwd_persistent(self, S, W_h, m, dS, d_last, dA, act):
        T, B, H = dA.shape
        g0 = self.cp.empty((B, H), dtype=self.dtype)
        self._launch_persistent("bwd_persistent", B, H, (
            S, W_h, *self._m(m, 0), *self._opt(dS), *self._opt(d_last), dA, g0, np.int32(T), np.int32(B), np.int32(H), np.int32(act)))
        return g0

    # -- CUDA graphs ------------------------------------------------------------------------
    def begin_capture(self, stream):
        """Route products through cuBLAS's C API on ``stream``, with a workspace of our own, so
        that they can be captured (cuBLAS must not allocate while a graph is being captured)."""
        if self._blas is None:
            raise RuntimeError("CUDA graphs need BPTT_CUDA_GEMM=cublas")
        capi = _cublas_capi(self.dtype)
        key = ("workspace", _device())
        if key not in _cache:
            _cache[key] = self.cp.empty((32 << 20,), dtype=self.cp.uint8)  # kept: every graph uses it
        ws = _cache[key]
        hkey = ("capture_handle", _device())
        if hkey not in _cache:  # a cuBLAS handle of the captures' own: CuPy's keeps its stream and workspace
            import ctypes

            h = ctypes.c_void_p()
            st = capi["create"](ctypes.byref(h))
            if st != 0:
                raise RuntimeError(f"cuBLAS handle for graph capture: cublasCreate failed with status {st}")
            _cache[hkey] = h.value
        self._cap_handle = _cache[hkey]
        for st in (capi["set_stream"](self._cap_handle, stream.ptr),
                   capi["set_workspace"](self._cap_handle, ws.data.ptr, ws.nbytes),
                   capi["set_math_mode"](self._cap_handle, 3 if self._tf32 else 0)):  # 3: TF32 tensor cores
            if st != 0:
                raise RuntimeError(f"cuBLAS setup for graph capture failed with status {st}")
        self._capi = capi

    def end_capture(self):
        self._capi = None


def _cublas_capi(dtype):
    """cublasSetStream, cublasSetWorkspace and cublasSgemm/Dgemm of the libcublas CuPy loaded."""
    key = ("capi", dtype.name)
    if key in _cache:
        return _cache[key]
    import ctypes

    path = None
    with open("/proc/self/maps") as f:  # the library CuPy already loaded, not another copy
        for line in f:
            if "libcublas.so" in line and "libcublasLt" not in line:
                path = line.split()[-1]
                break
    if path is None:
        raise RuntimeError("CUDA graphs: could not find the libcublas that CuPy loaded")
    lib = ctypes.CDLL(path)
    vp, ci = ctypes.c_void_p, ctypes.c_int
    gemm = lib.cublasSgemm_v2 if dtype == np.float32 else lib.cublasDgemm_v2
    gemm.argtypes = [vp, ci, ci, ci, ci, ci, vp, vp, ci, vp, ci, vp, vp, ci]
    lib.cublasSetStream_v2.argtypes = [vp, vp]
    lib.cublasSetWorkspace_v2.argtypes = [vp, vp, ctypes.c_size_t]
    lib.cublasCreate_v2.argtypes = [ctypes.POINTER(vp)]
    lib.cublasSetMathMode.argtypes = [vp, ci]
    for fn in (gemm, lib.cublasSetStream_v2, lib.cublasSetWorkspace_v2, lib.cublasCreate_v2, lib.cublasSetMathMode):
        fn.restype = ci
    _cache[key] = {"gemm": gemm, "set_stream": lib.cublasSetStream_v2, "set_workspace": lib.cublasSetWorkspace_v2,
                   "create": lib.cublasCreate_v2, "set_math_mode": lib.cublasSetMathMode}
    return _cache[key]


def kernels_for(S):
    key = ("kernels", S.dtype.name, settings["gemm"], _device())
    if key not in _cache:
        _cache[key] = CupyKernels(S.dtype)
    return _cache[key]


def _contiguous(k, a):
    return None if a is None else k.cp.ascontiguousarray(a)


def forward_loop(kind: str, S, U, W_s, m, activation: str, k=None):
    """Fill ``S[1:]`` [T, B, H] from ``S[0]`` and ``U`` [T, B, H] (``i^t @ W_s[H:] + b_s``)."""
    k = k or kernels_for(S)
    act = ACTIVATIONS[activation]
    T, B, H = U.shape
    W_h = k.cp.ascontiguousarray(W_s[:H])  # rows 0..H-1 of a C-contiguous W_s: no copy
    m = _contiguous(k, m)
    if kind == "persistent":
        k.fwd_persistent(S, U, W_h, m, act)
        return

    def loop():
        for t in range(T):
            k.matmul(S, t, W_h, S, t + 1)  # s^{t-1} @ W_s[:H], written where s^t goes
            k.fwd_step(S, U, m, t, act)  # f_s(. + i^t W_s[H:] + b_s), or carry s^{t-1} over on a pad step

    _run(k, ("fwd", act, S, U, W_h, m), loop)


def backward_loop(kind: str, S, d_states, d_last, dA, W_s, m, activation: str, k=None):
    """Fill ``dA`` [T, B, H] with dLoss/d(pre-activation); return ``g`` = dLoss/ds^0 [B, H].

    ``d_states`` is batch-major [B, T, H] (or None), ``d_last`` [B, H] (or None).
    """
    k = k or kernels_for(S)
    act = ACTIVATIONS[activation]
    T, B, H = dA.shape
    W_h = k.cp.ascontiguousarray(W_s[:H])
    dS, d_last, m = _contiguous(k, d_states), _contiguous(k, d_last), _contiguous(k, m)
    if kind == "persistent":
        return k.bwd_persistent(S, W_h, m, dS, d_last, dA, act)
    g = k.cp.zeros((B, H), dtype=S.dtype) if d_last is None else d_last.copy()
    gp = k.cp.empty((B, H), dtype=S.dtype)
    W_hT = k.cp.ascontiguousarray(W_h.T) if k._blas is None else None

    def loop():
        for t in range(T - 1, -1, -1):
            k.bwd_step(g, gp, t < T - 1, m, dS, t, S, dA, act)  # g = dLoss/ds^t, dA[t] through f_s
            k.matmul_t(dA, t, W_h, W_hT, gp)  # backprop through s^{t-1} @ W_s[:H]
        k.bwd_finish(g, gp, m)  # g = dLoss/ds^0 (a pad step at t = 0 passes g on)

    _run(k, ("bwd", act, S, dS, d_last, dA, W_h, m, g, gp, W_hT), loop)
    return g


_graphs: dict = {}
graph_stats = {"captured": 0, "replayed": 0, "failed": 0, "first_error": None}


_lock = threading.Lock()


def _run(k, arrays, loop):
    """Run ``loop`` as a CUDA graph: captured the first time it sees these arrays at these
    addresses, replayed after that (a training loop's buffers come back at the same addresses
    from CuPy's memory pool, step after step).  ``BPTT_CUDA_GRAPH=0`` runs it directly.

    One loop at a time in the process, whatever the thread: the kernels' object ``k`` (its cuBLAS
    handle, and during a capture the capture handle its products go through), the capture stream
    and the graphs are shared.  On an H200, two threads running loops at once broke each other's
    captures (every bidirectional backward loop was refused on 2026-11-30, when the two directions
    ran on two threads), and a loop run beside another thread's capture sent its products into it
    (wrong losses): ``benchmarks/gpu_bi_graphs_check.sh``, log
    ``benchmarks/results/h200-run9-bi-graphs.log``."""
    with _lock:
        if k._tf32:  # CUPY_TF32=1: the per-step products on TF32 tensor cores too, as CuPy's own
            mode = k._blas.getMathMode(k._handle)
            k._blas.setMathMode(k._handle, 3)  # CUBLAS_TF32_TENSOR_OP_MATH
            try:
                _run_loop(k, arrays, loop)
            finally:
                k._blas.setMathMode(k._handle, mode)
        else:
            _run_loop(k, arrays, loop)


def _capture(k, stream, loop, mode=None):
    """``loop``'s launches captured on ``stream`` as a CUDA graph (the products through ``k``'s
    capture handle); the capture is ended whatever ``loop`` raises.  ``mode``: a CUDA stream capture
    mode other than CuPy's default (``benchmarks/gpu_graph_debug3.py global``)."""
    with stream:
        k.begin_capture(stream)
        try:
            stream.begin_capture() if mode is None else stream.begin_capture(mode=mode)
            try:
                loop()
            finally:
                graph = stream.end_capture()
        finally:
            k.end_capture()
    return graph


def _run_loop(k, arrays, loop):
    if not settings["graph"] or not k.can_capture:
        loop()
        return
    key = (settings["gemm"], k._tf32, _device()) + tuple(
        a if not hasattr(a, "data") else (a.data.ptr, a.shape, a.dtype.name) for a in arrays)
    graph = _graphs.get(key)
    if graph is None:
        skey = ("capture_stream", _device())
        if skey not in _cache:
            _cache[skey] = k.cp.cuda.Stream(non_blocking=True)
        stream = _cache[skey]
        try:
            graph = _capture(k, stream, loop)
        except Exception as e:  # nothing ran: run the loop as it is, and no more graphs in this process
            import sys
            import traceback

            graph_stats["failed"] += 1
            if graph_stats["first_error"] is None:
                graph_stats["first_error"] = "".join(traceback.format_exception(e))
                print(f"bptt: CUDA refused to capture a time loop as a graph ({type(e).__name__}: {e}); the loops run "
                      f"without graphs from now on (the same kernels, more launches)", file=sys.stderr, flush=True)
            settings["graph"] = False  # replays after a refused capture were not checked: none
            try:  # a capture CUDA invalidated may still be open: end it, or nothing may synchronise
                if stream.is_capturing():
                    k.cp.cuda.runtime.streamEndCapture(stream.ptr)
            except Exception:
                pass
            _cache.pop(skey, None)  # a fresh capture stream next time, whatever state this one is in
            loop()
            return
        while len(_graphs) >= 64:  # forget the oldest
            _graphs.pop(next(iter(_graphs)))
        _graphs[key] = graph
        graph_stats["captured"] += 1
    else:
        graph_stats["replayed"] += 1
    graph.launch(stream=k.cp.cuda.get_current_stream())
