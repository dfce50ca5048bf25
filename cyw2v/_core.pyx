# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The training engine: typed C-level loops that run without the GIL.

Two orthogonal axes:

* the *architecture* forms hidden vectors from input rows (``syn0``) and spreads their
  gradient back: skip-gram (one input row per context, or all contexts of a centre word
  as one batch) and CBOW (mean or sum of the context rows);
* the *objective* scores a target against ``m`` hidden vectors, updates the output rows
  it touches and accumulates the gradient of the hidden vectors: negative sampling,
  hierarchical softmax, full softmax.  Every objective has the signature of
  :c:func:`train_target` and is one function.

All hot loops use raw pointers into NumPy arrays owned by the Python layer.
Updates are Hogwild: threads write shared rows without locks.
"""

from libc.stdint cimport uint64_t, uint32_t, int32_t, int64_t, uint8_t
from libc.stdlib cimport malloc, calloc, free
from libc.string cimport memset, memcpy, memcmp
from libc.math cimport exp, log, log1p
from libc.stdio cimport FILE, fopen, fclose, fread, fseek, SEEK_SET
from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject

import numpy as np

cdef extern from "stdlib.h" nogil:
    int posix_memalign(void** memptr, size_t alignment, size_t size)

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define CYW2V_PREFETCH(p) __builtin_prefetch((const void*)(p), 1, 3)
    #else
    #define CYW2V_PREFETCH(p) ((void)0)
    #endif
    """
    void prefetch "CYW2V_PREFETCH"(const void* p) nogil

cdef extern from *:
    """
    #include <string.h>
    static int cyw2v_cpu_supports(const char* feature) {
    #if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
        __builtin_cpu_init();
        if (!strcmp(feature, "avx2")) return __builtin_cpu_supports("avx2");
        if (!strcmp(feature, "fma")) return __builtin_cpu_supports("fma");
        if (!strcmp(feature, "avx512f")) return __builtin_cpu_supports("avx512f");
        if (!strcmp(feature, "avx512vl")) return __builtin_cpu_supports("avx512vl");
        if (!strcmp(feature, "avx512bw")) return __builtin_cpu_supports("avx512bw");
        if (!strcmp(feature, "avx512dq")) return __builtin_cpu_supports("avx512dq");
    #endif
        return 0;
    }
    """
    int cyw2v_cpu_supports(const char* feature) nogil


def cpu_supports(str feature) -> bool:
    """Whether this CPU has an x86 feature ('avx2', 'fma', 'avx512f', 'avx512vl', ...)."""
    b = feature.encode()
    return bool(cyw2v_cpu_supports(b))

# ---------------------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------------------

cdef enum:
    SIG_TABLE_SIZE = 1024      # table intervals over [-SIG_MAX, SIG_MAX]
    MAX_CODE_LEN = 128         # longest Huffman code accepted (int64 counts reach depth ~90)
    MAX_COMBINE = 16           # most skip-gram centres trained as one block
    MAX_TOKEN_BYTES = 4096     # longer tokens are never matched in corpus_file mode
    READ_BUFFER_BYTES = 1 << 20

cdef float SIG_MAX = 8.0
cdef float SIG_SCALE = SIG_TABLE_SIZE / (2.0 * 8.0)

SIGMOID_TABLE_SIZE = SIG_TABLE_SIZE
SIGMOID_MAX = 8.0
MAX_CODE_LENGTH = MAX_CODE_LEN
MAX_COMBINED_CENTRES = MAX_COMBINE

# Constant lookup tables, filled once at import (read-only afterwards).
cdef float SIGMOID[SIG_TABLE_SIZE + 1]
cdef float LOG_SIGMOID[SIG_TABLE_SIZE + 1]


cdef void _fill_tables() noexcept:
    cdef int i
    cdef double x
    for i in range(SIG_TABLE_SIZE + 1):
        x = (2.0 * i / SIG_TABLE_SIZE - 1.0) * SIG_MAX
        SIGMOID[i] = <float>(1.0 / (1.0 + exp(-x)))
        LOG_SIGMOID[i] = <float>(-log1p(exp(-x)))

_fill_tables()


cdef inline float sigmoid(float x) noexcept nogil:
    """sigma(x) by linear interpolation in the table; 0 below -SIG_MAX, 1 above (and NaN)."""
    cdef float pos, frac
    cdef int i
    if x < SIG_MAX:
        if x > -SIG_MAX:
            pos = (x + SIG_MAX) * SIG_SCALE
            i = <int>pos
            frac = pos - i
            return SIGMOID[i] + frac * (SIGMOID[i + 1] - SIGMOID[i])
        return 0.0
    return 1.0


cdef inline double log_sigmoid(float x) noexcept nogil:
    """log sigma(x): table inside the range, the exact formula outside (loss only)."""
    cdef float pos, frac
    cdef int i
    if x < SIG_MAX and x > -SIG_MAX:
        pos = (x + SIG_MAX) * SIG_SCALE
        i = <int>pos
        frac = pos - i
        return LOG_SIGMOID[i] + frac * (LOG_SIGMOID[i + 1] - LOG_SIGMOID[i])
    if x >= SIG_MAX:
        return -log1p(exp(-x))
    return x - log1p(exp(x))


def sigmoid_table():
    """The sigmoid and log-sigmoid tables as float32 arrays of SIGMOID_TABLE_SIZE + 1 points."""
    return (np.array([SIGMOID[i] for i in range(SIG_TABLE_SIZE + 1)], dtype=np.float32),
            np.array([LOG_SIGMOID[i] for i in range(SIG_TABLE_SIZE + 1)], dtype=np.float32))


def table_sigmoid(float x):
    """The engine's sigma(x) (for tests)."""
    return sigmoid(x)


def table_log_sigmoid(float x):
    """The engine's log sigma(x) (for tests)."""
    return log_sigmoid(x)


# ---------------------------------------------------------------------------------------
# Random numbers: SplitMix64, one state per job or worker (no shared RNG).
# ---------------------------------------------------------------------------------------

cdef inline uint64_t rng_next(uint64_t* state) noexcept nogil:
    cdef uint64_t z
    state[0] += <uint64_t>0x9E3779B97F4A7C15ULL
    z = state[0]
    z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9ULL
    z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EBULL
    return z ^ (z >> 31)


cdef inline uint32_t rng_below(uint64_t* state, uint32_t n) noexcept nogil:
    """Uniform integer in [0, n) by multiply-shift (bias below 2**-32 * n)."""
    return <uint32_t>(((rng_next(state) >> 32) * <uint64_t>n) >> 32)


cpdef uint64_t mix_seed(uint64_t a, uint64_t b):
    """Derive an independent stream seed from two integers (SplitMix64 finaliser)."""
    cdef uint64_t s = a * <uint64_t>0x9E3779B97F4A7C15ULL + b
    rng_next(&s)
    return rng_next(&s)


# ---------------------------------------------------------------------------------------
# Shared state of one training run, and per-thread scratch space
# ---------------------------------------------------------------------------------------

cdef struct Net:
    float* syn0          # V x d input vectors (the embeddings)
    float* syn1neg       # V x d output vectors for negative sampling
    float* syn1          # (V-1) x d inner-node vectors for hierarchical softmax
    float* syn1sm        # V x d output vectors for the full softmax
    int32_t V
    int32_t d
    int sg
    int cbow_mean
    int window
    int shrink_windows
    int negative
    int hs
    int softmax
    int batch_window
    int combine                      # skip-gram centres trained as one block (1 = per centre)
    int compute_loss
    int max_targets                  # most output rows one logistic block scores
    const uint64_t* keep_threshold   # keep if 32-bit uniform < threshold (2**32 = always)
    const uint64_t* alias            # noise table: alias index << 32 | keep threshold (one load)
    const int64_t* hs_offset         # CSR Huffman paths: word w uses [hs_offset[w], hs_offset[w+1])
    const uint8_t* hs_code
    const int32_t* hs_point
    int32_t* stop_flag               # set to 1 by the Python layer to interrupt
    int32_t hot_rows                 # rows per output matrix each thread caches (0 = off)
    int32_t hot_sync_words           # kept words between merges of the cached rows


cdef struct HotRows:
    # A thread's private copy of the hottest rows of one shared output matrix.  Every
    # thread writes the rows of frequent words and the top Huffman nodes all the time;
    # sharing those cache lines between cores costs more than the arithmetic.  A thread
    # works on its copy and adds its accumulated change (local - snap) into the shared
    # rows every Net.hot_sync_words kept words, so updates are delayed, never lost.
    float* shared        # the shared matrix (row 0)
    int32_t first        # rows [first, first + count) are cached
    int32_t count
    float* local         # count x d: this thread's working copy
    float* snap          # count x d: the shared rows as they were when loaded
    uint8_t* loaded      # per slot: loaded since the last merge
    int32_t* dirty       # slots loaded since the last merge
    int32_t n_dirty


cdef struct Scratch:
    uint64_t rng
    int max_m            # rows of H / gH
    float* H             # max_m x d hidden vectors
    float* gH            # max_m x d their gradient
    float* G             # max_m x max_targets scores, then gradient factors
    float** rows         # max_targets output rows of one logistic block
    float* labels        # their labels
    float* W             # max_m x max_targets weights of the units (see logistic_block)
    uint8_t* mask        # max_m x combine: hidden row j predicts target c (context combining)
    float* S             # max_m x V softmax scores (full softmax only)
    int32_t* ctx         # max_m context word indices
    int32_t* sent        # subsampled sentence
    int32_t* drawn_negatives  # noise words drawn so far, recorded only when record_negatives
    int n_drawn_negatives
    int record_negatives
    int32_t* next_negatives   # noise words for the next call, already being prefetched
    int negatives_ready
    double loss
    int64_t loss_terms
    HotRows hot_neg      # cached rows of syn1neg (the most frequent words)
    HotRows hot_hs       # cached rows of syn1 (the Huffman nodes nearest the root)
    int64_t since_sync   # kept words since the cached rows were last merged


cdef void* aligned_malloc(size_t n) noexcept nogil:
    cdef void* p = NULL
    if n == 0:
        n = 64
    # round up so that distinct buffers never share a cache line
    n = (n + 63) & ~(<size_t>63)
    if posix_memalign(&p, 64, n) != 0:
        return NULL
    return p


cdef int scratch_init(Scratch* w, const Net* net, int max_sentence, uint64_t seed) noexcept nogil:
    # a block of `combine` centres has at most combine - 1 + 2 window + 1 distinct positions
    cdef int max_m = 2 * net.window + net.combine
    cdef size_t d = net.d
    w.rng = seed
    w.max_m = max_m
    w.loss = 0.0
    w.loss_terms = 0
    w.n_drawn_negatives = 0
    w.record_negatives = 0
    w.H = <float*>aligned_malloc(max_m * d * sizeof(float))
    w.gH = <float*>aligned_malloc(max_m * d * sizeof(float))
    w.G = <float*>aligned_malloc(max_m * <size_t>net.max_targets * sizeof(float))
    w.rows = <float**>aligned_malloc(net.max_targets * sizeof(float*))
    w.labels = <float*>aligned_malloc(net.max_targets * sizeof(float))
    w.W = <float*>aligned_malloc(max_m * <size_t>net.max_targets * sizeof(float))
    w.mask = <uint8_t*>aligned_malloc(max_m * <size_t>net.combine * sizeof(uint8_t))
    w.ctx = <int32_t*>aligned_malloc(max_m * sizeof(int32_t))
    w.sent = <int32_t*>aligned_malloc((max_sentence + 1) * sizeof(int32_t))
    w.drawn_negatives = <int32_t*>aligned_malloc((max_m * net.negative + 1) * sizeof(int32_t))
    w.next_negatives = <int32_t*>aligned_malloc((net.negative + 1) * sizeof(int32_t))
    w.negatives_ready = 0
    w.S = NULL
    if net.softmax:
        w.S = <float*>aligned_malloc(max_m * <size_t>net.V * sizeof(float))
    if (w.H == NULL or w.gH == NULL or w.G == NULL or w.rows == NULL or w.labels == NULL
            or w.W == NULL or w.mask == NULL or w.ctx == NULL or w.sent == NULL
            or w.drawn_negatives == NULL or w.next_negatives == NULL or (net.softmax and w.S == NULL)):
        return -1
    w.since_sync = 0
    if net.negative > 0 and hot_init(&w.hot_neg, net.syn1neg, 0, net.hot_rows, net.V, net.d) != 0:
        return -1
    if net.hs and hot_init(&w.hot_hs, net.syn1, net.V - 1 - net.hot_rows, net.hot_rows, net.V - 1, net.d) != 0:
        return -1
    return 0


cdef int hot_init(HotRows* c, float* shared, int32_t first, int32_t count, int32_t n_rows,
                  int d) noexcept nogil:
    """Cache rows [first, first + count) of an n_rows x d matrix, clipped to its rows."""
    if first < 0:
        count += first
        first = 0
    if count > n_rows - first:
        count = n_rows - first
    c.shared = shared
    c.first = first
    c.count = count if count > 0 else 0
    c.n_dirty = 0
    if c.count == 0:
        return 0
    c.local = <float*>aligned_malloc(<size_t>c.count * d * sizeof(float))
    c.snap = <float*>aligned_malloc(<size_t>c.count * d * sizeof(float))
    c.loaded = <uint8_t*>calloc(c.count, sizeof(uint8_t))
    c.dirty = <int32_t*>aligned_malloc(<size_t>c.count * sizeof(int32_t))
    if c.local == NULL or c.snap == NULL or c.loaded == NULL or c.dirty == NULL:
        c.count = 0   # unusable; scratch_free still frees what was allocated
        return -1
    return 0


cdef inline float* hot_row(HotRows* c, int32_t row, int d) noexcept nogil:
    """Pointer to the row to read and update: the thread's copy if cached, else shared."""
    cdef uint32_t slot = <uint32_t>(row - c.first)
    cdef float* mine
    if slot >= <uint32_t>c.count:
        return c.shared + <size_t>row * d
    mine = c.local + <size_t>slot * d
    if not c.loaded[slot]:
        memcpy(mine, c.shared + <size_t>row * d, d * sizeof(float))
        memcpy(c.snap + <size_t>slot * d, mine, d * sizeof(float))
        c.loaded[slot] = 1
        c.dirty[c.n_dirty] = <int32_t>slot
        c.n_dirty += 1
    return mine


cdef void hot_merge(HotRows* c, int d) noexcept nogil:
    """Add this thread's change of every loaded row into the shared matrix; the next
    access reloads the row, with the other threads' changes."""
    cdef int32_t i, slot
    cdef int k
    cdef float* dst
    cdef const float* mine
    cdef const float* old
    for i in range(c.n_dirty):
        slot = c.dirty[i]
        dst = c.shared + <size_t>(c.first + slot) * d
        mine = c.local + <size_t>slot * d
        old = c.snap + <size_t>slot * d
        for k in range(d):
            dst[k] += mine[k] - old[k]
        c.loaded[slot] = 0
    c.n_dirty = 0


cdef inline void scratch_merge(const Net* net, Scratch* w) noexcept nogil:
    hot_merge(&w.hot_neg, net.d)
    hot_merge(&w.hot_hs, net.d)
    w.since_sync = 0


cdef void hot_free(HotRows* c) noexcept nogil:
    free(c.local)
    free(c.snap)
    free(c.loaded)
    free(c.dirty)
    c.local = c.snap = NULL
    c.loaded = NULL
    c.dirty = NULL
    c.count = 0


cdef void scratch_free(const Net* net, Scratch* w) noexcept nogil:
    """Merge the thread's cached rows into the shared matrices, then free everything."""
    scratch_merge(net, w)
    hot_free(&w.hot_neg)
    hot_free(&w.hot_hs)
    free(w.H)
    free(w.gH)
    free(w.G)
    free(w.rows)
    free(w.labels)
    free(w.W)
    free(w.mask)
    free(w.ctx)
    free(w.sent)
    free(w.drawn_negatives)
    free(w.next_negatives)
    free(w.S)
    w.H = w.gH = w.G = w.S = w.labels = NULL
    w.rows = NULL
    w.ctx = w.sent = w.drawn_negatives = w.next_negatives = NULL


# ---------------------------------------------------------------------------------------
# Vector primitives (plain loops: GCC vectorises them at -O3 with -fassociative-math)
# ---------------------------------------------------------------------------------------

cdef inline float dot(const float* a, const float* b, int d) noexcept nogil:
    cdef float s = 0.0
    cdef int k
    for k in range(d):
        s += a[k] * b[k]
    return s


cdef inline void axpy(float* y, float a, const float* x, int d) noexcept nogil:
    cdef int k
    for k in range(d):
        y[k] += a * x[k]


cdef inline void scale(float* y, float a, int d) noexcept nogil:
    cdef int k
    for k in range(d):
        y[k] *= a


# ---------------------------------------------------------------------------------------
# Objectives: score one target against m hidden vectors H (m x d, row-major), add the
# gradient of log-likelihood w.r.t. H (times alpha) into gH, and update output rows.
# ---------------------------------------------------------------------------------------

cdef inline void dot4(const float* a0, const float* a1, const float* a2, const float* a3,
                      const float* b, int d, float* out) noexcept nogil:
    """Four dot products against one vector: four independent accumulator chains."""
    cdef float s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0, x
    cdef int k
    for k in range(d):
        x = b[k]
        s0 += a0[k] * x
        s1 += a1[k] * x
        s2 += a2[k] * x
        s3 += a3[k] * x
    out[0] = s0
    out[1] = s1
    out[2] = s2
    out[3] = s3


cdef inline void axpy4(float* y, float g0, float g1, float g2, float g3, const float* x0,
                       const float* x1, const float* x2, const float* x3, int d) noexcept nogil:
    """y += g0 x0 + g1 x1 + g2 x2 + g3 x3: one read-modify-write of y instead of four."""
    cdef int k
    for k in range(d):
        y[k] += g0 * x0[k] + g1 * x1[k] + g2 * x2[k] + g3 * x3[k]


cdef inline void prefetch_row(const float* row, int d) noexcept nogil:
    cdef int k
    for k in range(0, d, 16):   # one 64-byte line per 16 floats
        prefetch(row + k)


cdef void logistic_block(const Net* net, Scratch* w, const float* H, int m, float** rows,
                         const float* labels, const float* weight, int T, float alpha,
                         float* gH) noexcept nogil:
    """T binary logistic units (output rows ``rows``, targets ``labels``) against m hidden
    rows H: the building block of negative sampling and hierarchical softmax.

    With S = H U^T (m x T) and G = alpha W * (labels - sigma(S)):  gH += G U,  U += G^T H.
    W (m x T, row-major) weighs each (row, unit) term of the log-likelihood; NULL means all
    ones. All scores use the output rows as they were on entry (HogBatch semantics), and
    each output row is written once per call.
    """
    cdef int d = net.d
    cdef int j, t
    cdef float* G = w.G
    cdef float* Gj
    cdef const float* h
    cdef float* y
    cdef float s, label, wt
    for j in range(m):                       # S = H U^T, four targets per pass over h_j
        h = H + j * d
        Gj = G + j * T
        t = 0
        while t + 4 <= T:
            dot4(rows[t], rows[t + 1], rows[t + 2], rows[t + 3], h, d, Gj + t)
            t += 4
        while t < T:
            Gj[t] = dot(rows[t], h, d)
            t += 1
    for j in range(m):                       # G = alpha W (label - sigma(S))
        Gj = G + j * T
        for t in range(T):
            s = Gj[t]
            label = labels[t]
            wt = weight[j * T + t] if weight != NULL else 1.0
            if net.compute_loss and wt != 0.0:
                w.loss -= wt * log_sigmoid(s if label > 0.5 else -s)
                w.loss_terms += 1
            Gj[t] = (label - sigmoid(s)) * alpha * wt
    for j in range(m):                       # gH += G U
        y = gH + j * d
        Gj = G + j * T
        t = 0
        while t + 4 <= T:
            axpy4(y, Gj[t], Gj[t + 1], Gj[t + 2], Gj[t + 3],
                  rows[t], rows[t + 1], rows[t + 2], rows[t + 3], d)
            t += 4
        while t < T:
            axpy(y, Gj[t], rows[t], d)
            t += 1
    for t in range(T):                       # U += G^T H
        y = rows[t]
        j = 0
        while j + 4 <= m:
            axpy4(y, G[j * T + t], G[(j + 1) * T + t], G[(j + 2) * T + t], G[(j + 3) * T + t],
                  H + j * d, H + (j + 1) * d, H + (j + 2) * d, H + (j + 3) * d, d)
            j += 4
        while j < m:
            axpy(y, G[j * T + t], H + j * d, d)
            j += 1


cdef inline int32_t draw_noise(const Net* net, uint64_t* rng) noexcept nogil:
    """One draw from the noise distribution by the alias method: O(1)."""
    cdef uint64_t r = rng_next(rng)
    cdef uint32_t i = <uint32_t>(((r >> 32) * <uint64_t>net.V) >> 32)
    cdef uint64_t entry = net.alias[i]
    if <uint32_t>(r & 0xFFFFFFFFULL) < <uint32_t>(entry & 0xFFFFFFFFULL):
        return <int32_t>i
    return <int32_t>(entry >> 32)


cdef inline void draw_ahead(const Net* net, Scratch* w) noexcept nogil:
    """Draw the next call's noise words now and start loading their rows, so that their
    cache misses overlap with the current call's arithmetic."""
    cdef int n
    cdef int32_t noise
    for n in range(net.negative):
        noise = draw_noise(net, &w.rng)
        w.next_negatives[n] = noise
        prefetch_row(hot_row(&w.hot_neg, noise, net.d), net.d)


cdef void negative_sampling(const Net* net, Scratch* w, const float* H, int m,
                            const int32_t* targets, int n_targets, const uint8_t* mask,
                            float* gH, float alpha) noexcept nogil:
    """sum_c [log sigma(h.u_c) + sum_k log sigma(-h.u_k)] over the targets c each row h
    predicts, the k negatives shared by all rows and targets: a negative term counts once
    per (row, target) pair, as if drawn for each pair."""
    cdef int n, c, j, T = n_targets
    cdef int32_t noise
    cdef int d = net.d
    cdef float pairs
    cdef bint is_target
    if not w.negatives_ready:
        draw_ahead(net, w)
    for c in range(n_targets):
        w.rows[c] = hot_row(&w.hot_neg, targets[c], d)
        w.labels[c] = 1.0
    for n in range(net.negative):
        noise = w.next_negatives[n]
        if w.record_negatives:
            w.drawn_negatives[w.n_drawn_negatives] = noise
            w.n_drawn_negatives += 1
        is_target = 0
        for c in range(n_targets):   # word2vec.c skips a draw of the target itself
            if noise == targets[c]:
                is_target = 1
                break
        if is_target:
            continue
        w.rows[T] = hot_row(&w.hot_neg, noise, d)
        w.labels[T] = 0.0
        T += 1
    draw_ahead(net, w)
    w.negatives_ready = 1
    if mask == NULL:
        logistic_block(net, w, H, m, w.rows, w.labels, NULL, T, alpha, gH)
        return
    for j in range(m):
        pairs = 0.0
        for c in range(n_targets):
            w.W[j * T + c] = mask[j * n_targets + c]
            pairs += mask[j * n_targets + c]
        for c in range(n_targets, T):
            w.W[j * T + c] = pairs
    logistic_block(net, w, H, m, w.rows, w.labels, w.W, T, alpha, gH)


cdef void hierarchical_softmax(const Net* net, Scratch* w, const float* H, int m,
                               const int32_t* targets, int n_targets, const uint8_t* mask,
                               float* gH, float alpha) noexcept nogil:
    """sum_c sum over the Huffman path of c of log sigma((1 - 2 code) h.u_node)."""
    cdef int64_t n, first
    cdef int c, j, T = 0, units = 0
    cdef int d = net.d
    for c in range(n_targets):
        units += <int>(net.hs_offset[targets[c] + 1] - net.hs_offset[targets[c]])
    for c in range(n_targets):
        first = net.hs_offset[targets[c]]
        for n in range(net.hs_offset[targets[c] + 1] - first):
            w.rows[T] = hot_row(&w.hot_hs, net.hs_point[first + n], d)
            w.labels[T] = <float>(1 - net.hs_code[first + n])
            prefetch_row(w.rows[T], d)
            if mask != NULL:
                for j in range(m):
                    w.W[j * units + T] = mask[j * n_targets + c]
            T += 1
    logistic_block(net, w, H, m, w.rows, w.labels, w.W if mask != NULL else NULL, T, alpha, gH)


cdef void full_softmax(const Net* net, Scratch* w, const float* H, int m,
                       const int32_t* targets, int n_targets, const uint8_t* mask,
                       float* gH, float alpha) noexcept nogil:
    """sum_c log P(c|h) = h.u_c - log sum_w exp(h.u_w): exact, O(V d) per hidden row."""
    cdef int j, c
    cdef int32_t v
    cdef int d = net.d
    cdef int32_t V = net.V
    cdef float* S
    cdef float* u
    cdef float mx, pairs
    cdef double Z
    for j in range(m):
        S = w.S + <size_t>j * V
        mx = -3.4e38
        for v in range(V):
            S[v] = dot(H + j * d, net.syn1sm + <size_t>v * d, d)
            if S[v] > mx:
                mx = S[v]
        Z = 0.0
        for v in range(V):
            Z += exp(S[v] - mx)
        pairs = 0.0
        for c in range(n_targets):
            if mask == NULL or mask[j * n_targets + c]:
                pairs += 1.0
                if net.compute_loss:
                    w.loss -= (S[targets[c]] - mx) - log(Z)
                    w.loss_terms += 1
        # S becomes the gradient factor alpha * sum_c (1[v == c] - P(v|h))
        for v in range(V):
            S[v] = -alpha * pairs * <float>(exp(S[v] - mx) / Z)
        for c in range(n_targets):
            if mask == NULL or mask[j * n_targets + c]:
                S[targets[c]] += alpha
    for v in range(V):
        u = net.syn1sm + <size_t>v * d
        for j in range(m):
            axpy(gH + j * d, w.S[<size_t>j * V + v], u, d)
        for j in range(m):
            axpy(u, w.S[<size_t>j * V + v], H + j * d, d)


cdef inline void train_targets(const Net* net, Scratch* w, const float* H, int m,
                               const int32_t* targets, int n_targets, const uint8_t* mask,
                               float* gH, float alpha) noexcept nogil:
    """Apply every enabled objective (their losses add, as in word2vec.c's hs + negative).

    Row j of H predicts target c where mask[j * n_targets + c] is set (NULL: every target).
    """
    if net.hs:
        hierarchical_softmax(net, w, H, m, targets, n_targets, mask, gH, alpha)
    if net.negative > 0:
        negative_sampling(net, w, H, m, targets, n_targets, mask, gH, alpha)
    if net.softmax:
        full_softmax(net, w, H, m, targets, n_targets, mask, gH, alpha)


# ---------------------------------------------------------------------------------------
# Architectures: form hidden vectors from the window, spread their gradient back.
# ---------------------------------------------------------------------------------------

cdef void skipgram_pairs(const Net* net, Scratch* w, const int32_t* sent, int n, int i,
                         int win, float alpha) noexcept nogil:
    """Classic skip-gram: one (context, centre) pair at a time, fresh negatives per pair."""
    cdef int j
    cdef int d = net.d
    cdef float* h
    cdef int lo = i - win if i - win > 0 else 0
    cdef int hi = i + win + 1 if i + win + 1 < n else n
    for j in range(lo, hi):
        if j == i:
            continue
        h = net.syn0 + <size_t>sent[j] * d
        memset(w.gH, 0, d * sizeof(float))
        train_targets(net, w, h, 1, &sent[i], 1, NULL, w.gH, alpha)
        axpy(h, 1.0, w.gH, d)


cdef void skipgram_block(const Net* net, Scratch* w, const int32_t* sent, int n, int first,
                         int n_centres, const int* wins, float alpha) noexcept nogil:
    """Batched skip-gram (HogBatch): the contexts of centre words first .. first + n_centres - 1
    against one target set, those centres and one shared draw of negatives.

    With one centre, its window's context rows predict it. With several (context combining,
    Rengasamy et al. 2017), each position of the union of their windows enters once, and
    w.mask says which centres it predicts. Scores are one m x (centres + k) product and
    every row is written once per block.
    """
    cdef int j, c, p, centre, m = 0, lo = n, hi = 0
    cdef int d = net.d
    cdef uint8_t inside, used
    for c in range(n_centres):
        centre = first + c
        if centre - wins[c] < lo:
            lo = centre - wins[c]
        if centre + wins[c] + 1 > hi:
            hi = centre + wins[c] + 1
    if lo < 0:
        lo = 0
    if hi > n:
        hi = n
    for p in range(lo, hi):
        used = 0
        for c in range(n_centres):
            centre = first + c
            inside = p != centre and centre - wins[c] <= p <= centre + wins[c]
            w.mask[m * n_centres + c] = inside
            used |= inside
        if not used:
            continue
        w.ctx[m] = sent[p]
        memcpy(w.H + m * d, net.syn0 + <size_t>sent[p] * d, d * sizeof(float))
        m += 1
    if m == 0:
        return
    memset(w.gH, 0, m * d * sizeof(float))
    train_targets(net, w, w.H, m, sent + first, n_centres, w.mask if n_centres > 1 else NULL,
                  w.gH, alpha)
    for j in range(m):
        axpy(net.syn0 + <size_t>w.ctx[j] * d, 1.0, w.gH + j * d, d)


cdef void cbow_window(const Net* net, Scratch* w, const int32_t* sent, int n, int i,
                      int win, float alpha) noexcept nogil:
    """CBOW: h = mean (or sum) of the context rows.

    Each context row then receives gH (mean) or gH / m (sum): word2vec.c's and gensim's
    convention, which does not divide the mean's gradient by the window size.
    """
    cdef int j, m = 0
    cdef int d = net.d
    cdef int lo = i - win if i - win > 0 else 0
    cdef int hi = i + win + 1 if i + win + 1 < n else n
    memset(w.H, 0, d * sizeof(float))
    for j in range(lo, hi):
        if j == i:
            continue
        w.ctx[m] = sent[j]
        axpy(w.H, 1.0, net.syn0 + <size_t>sent[j] * d, d)
        m += 1
    if m == 0:
        return
    if net.cbow_mean:
        scale(w.H, 1.0 / m, d)
    memset(w.gH, 0, d * sizeof(float))
    train_targets(net, w, w.H, 1, &sent[i], 1, NULL, w.gH, alpha)
    if not net.cbow_mean:
        scale(w.gH, 1.0 / m, d)
    for j in range(m):
        axpy(net.syn0 + <size_t>w.ctx[j] * d, 1.0, w.gH, d)


cdef inline void train_block(const Net* net, Scratch* w, const int32_t* sent, int n,
                             int first, int n_centres, const int* wins, float alpha) noexcept nogil:
    """Train centres first .. first + n_centres - 1 (more than one only for skip-gram)."""
    if net.sg:
        if net.batch_window:
            skipgram_block(net, w, sent, n, first, n_centres, wins, alpha)
        else:
            skipgram_pairs(net, w, sent, n, first, wins[0], alpha)
    else:
        cbow_window(net, w, sent, n, first, wins[0], alpha)


cdef int64_t train_sentence(const Net* net, Scratch* w, const int32_t* words, int n,
                            double alpha0, double alpha1) noexcept nogil:
    """Subsample, then train every kept position; alpha moves linearly alpha0 -> alpha1."""
    cdef int i, q, c, k = 0, n_centres
    cdef int wins[MAX_COMBINE]
    cdef int32_t word
    cdef float alpha
    cdef int block = net.combine   # the Engine keeps it 1 unless skip-gram with batch_window
    for i in range(n):
        word = words[i]
        if (rng_next(&w.rng) >> 32) < net.keep_threshold[word]:
            w.sent[k] = word
            k += 1
    i = 0
    while i < k:
        n_centres = block if i + block <= k else k - i
        # the next block's output rows and the rows entering the window
        for q in range(i + n_centres, i + 2 * n_centres):
            if q >= k:
                break
            if net.negative > 0:
                prefetch_row(hot_row(&w.hot_neg, w.sent[q], net.d), net.d)
            if q + net.window < k:
                prefetch_row(net.syn0 + <size_t>w.sent[q + net.window] * net.d, net.d)
        alpha = <float>(alpha0 + (alpha1 - alpha0) * i / k)
        for c in range(n_centres):
            wins[c] = net.window
            if net.shrink_windows:
                wins[c] = net.window - <int>rng_below(&w.rng, <uint32_t>net.window)
        train_block(net, w, w.sent, k, i, n_centres, wins, alpha)
        i += n_centres
    w.since_sync += k
    if w.since_sync >= net.hot_sync_words:
        scratch_merge(net, w)
    return k


# ---------------------------------------------------------------------------------------
# Python-facing engine
# ---------------------------------------------------------------------------------------

cdef inline float* _ptr_or_null(float[:, ::1] a) noexcept:
    if a is None or a.shape[0] == 0:
        return NULL
    return &a[0, 0]


cdef class Engine:
    """Training state shared by all worker threads: pointers into the model's arrays.

    ``Engine(weights, tables, config)``: ``weights`` has the float32 C-contiguous matrices
    ``syn0``, ``syn1neg``, ``syn1``, ``syn1softmax`` (a matrix whose objective is off may
    have 0 rows); ``tables`` the arrays ``keep``, ``alias_prob``, ``alias_index``,
    ``hs_offset``, ``hs_code``, ``hs_point``; ``config`` the int/bool settings ``sg``,
    ``cbow_mean``, ``window``, ``shrink_windows``, ``negative``, ``hs``, ``softmax``,
    ``batch_window``, ``combine``, ``compute_loss``, ``hot_rows``, ``hot_sync_words``.

    The arrays are kept alive by this object and must not be reallocated while it exists.
    Training runs in :class:`Worker` objects (``engine.worker(max_sentence)``), one per
    thread. With ``hot_rows`` > 0 a worker keeps a private copy of that many of the most
    used rows of every output matrix (the first rows of syn1neg, the last rows of syn1:
    frequent words and the Huffman nodes nearest the root) and adds its changes into the
    shared rows every ``hot_sync_words`` kept words and at the end of every call (see HotRows).
    """
    cdef Net net
    cdef object _keep_alive
    cdef int32_t[::1] _stop

    def __init__(self, weights, tables, config):
        cdef float[:, ::1] syn0 = weights.syn0
        cdef float[:, ::1] syn1neg = weights.syn1neg
        cdef float[:, ::1] syn1 = weights.syn1
        cdef float[:, ::1] syn1softmax = weights.syn1softmax
        cdef const uint64_t[::1] keep_threshold = tables.keep
        cdef const uint32_t[::1] alias_prob = tables.alias_prob
        cdef const int32_t[::1] alias_index = tables.alias_index
        cdef const int64_t[::1] hs_offset = tables.hs_offset
        cdef const uint8_t[::1] hs_code = tables.hs_code
        cdef const int32_t[::1] hs_point = tables.hs_point
        cdef int sg = config.sg, cbow_mean = config.cbow_mean, window = config.window
        cdef int shrink_windows = config.shrink_windows, negative = config.negative
        cdef int hs = config.hs, softmax = config.softmax, batch_window = config.batch_window
        cdef int combine = config.combine, compute_loss = config.compute_loss
        cdef int hot_rows = config.hot_rows, hot_sync_words = config.hot_sync_words
        cdef int32_t V = syn0.shape[0]
        cdef int32_t d = syn0.shape[1]
        if V < 1 or d < 1:
            raise ValueError("empty model: train needs at least one word and one dimension")
        if window < 1:
            raise ValueError("window must be >= 1")
        if keep_threshold.shape[0] != V:
            raise ValueError("keep_threshold must have one entry per word")
        if negative > 0 and (syn1neg is None or syn1neg.shape[0] != V or syn1neg.shape[1] != d
                             or alias_prob.shape[0] != V or alias_index.shape[0] != V):
            raise ValueError("negative sampling needs syn1neg (V x d) and a noise table of V entries")
        if hs and (syn1 is None or hs_offset.shape[0] != V + 1 or syn1.shape[1] != d
                   or syn1.shape[0] < V - 1):
            raise ValueError("hierarchical softmax needs syn1 ((V-1) x d) and Huffman paths")
        if hs and V > 1:
            if hs_code.shape[0] != hs_offset[V] or hs_point.shape[0] != hs_offset[V]:
                raise ValueError("Huffman arrays disagree with their offsets")
            if np.any(np.asarray(hs_point) >= syn1.shape[0]) or np.any(np.asarray(hs_point) < 0):
                raise ValueError("Huffman points out of range")
        if softmax and (syn1softmax is None or syn1softmax.shape[0] != V or syn1softmax.shape[1] != d):
            raise ValueError("full softmax needs syn1softmax (V x d)")
        if negative > 0:
            ai = np.asarray(alias_index)
            if np.any(ai < 0) or np.any(ai >= V):
                raise ValueError("noise alias table out of range")
        self._stop = np.zeros(16, dtype=np.int32)
        packed = np.zeros(1, dtype=np.uint64)
        if negative > 0:
            packed = ((np.asarray(alias_index).astype(np.uint64) << np.uint64(32))
                      | np.asarray(alias_prob).astype(np.uint64))
        cdef uint64_t[::1] packed_view = packed
        self._keep_alive = (syn0, syn1neg, syn1, syn1softmax, keep_threshold, packed,
                            hs_offset, hs_code, hs_point)
        memset(&self.net, 0, sizeof(Net))
        self.net.syn0 = &syn0[0, 0]
        self.net.syn1neg = _ptr_or_null(syn1neg) if negative > 0 else NULL
        self.net.syn1 = _ptr_or_null(syn1) if hs else NULL
        self.net.syn1sm = _ptr_or_null(syn1softmax) if softmax else NULL
        self.net.V = V
        self.net.d = d
        self.net.sg = sg
        self.net.cbow_mean = cbow_mean
        self.net.window = window
        self.net.shrink_windows = shrink_windows
        self.net.negative = negative
        self.net.hs = hs if V > 1 else 0
        self.net.softmax = softmax
        self.net.batch_window = batch_window
        if not 1 <= combine <= MAX_COMBINE:
            raise ValueError(f"combine must be in [1, {MAX_COMBINE}]")
        self.net.combine = combine if sg and batch_window else 1
        self.net.compute_loss = compute_loss
        self.net.keep_threshold = &keep_threshold[0]
        self.net.alias = &packed_view[0]
        if hs and V > 1:
            self.net.hs_offset = &hs_offset[0]
            self.net.hs_code = &hs_code[0] if hs_code.shape[0] else NULL
            self.net.hs_point = &hs_point[0] if hs_point.shape[0] else NULL
        self.net.stop_flag = &self._stop[0]
        if hot_rows < 0 or hot_sync_words < 1:
            raise ValueError("hot_rows must be >= 0 and hot_sync_words >= 1")
        self.net.hot_rows = hot_rows
        self.net.hot_sync_words = hot_sync_words
        self.net.max_targets = self.net.combine + (negative if negative > 0 else 0)
        if self.net.hs:
            longest = int(np.max(np.diff(np.asarray(hs_offset))))
            if longest > MAX_CODE_LEN:
                raise ValueError(f"Huffman path of length {longest} exceeds {MAX_CODE_LEN}")
            self.net.max_targets = max(self.net.max_targets, self.net.combine * longest)

    def worker(self, int max_sentence):
        """Per-thread training state for sentences of at most ``max_sentence`` words."""
        return Worker(self, max_sentence)

    def request_stop(self) -> None:
        """Ask running calls to return at the next sentence boundary (thread-safe)."""
        self._stop[0] = 1

    def clear_stop(self) -> None:
        self._stop[0] = 0

    @property
    def stopped(self) -> bool:
        return self._stop[0] != 0

    def train_job(self, const int32_t[::1] words, const int64_t[::1] sentence_ends,
                  double alpha0, double alpha1, uint64_t seed):
        """:meth:`Worker.train_job` with a temporary worker sized for the job's longest sentence."""
        cdef int64_t s, start = 0, end, max_len = 1
        for s in range(sentence_ends.shape[0]):
            end = sentence_ends[s]
            if end - start > max_len:
                max_len = end - start
            start = end if end > start else start
        if max_len > 2147483647:
            raise ValueError("sentence too long")
        worker = Worker(self, <int>max_len)
        try:
            return worker.train_job(words, sentence_ends, alpha0, alpha1, seed)
        finally:
            worker.close()

    def train_file_range(self, TokenIndex index, bytes path, int64_t start, int64_t end,
                         double alpha0, double alpha1, uint64_t seed, int max_sentence,
                         int64_t[::1] progress):
        """:meth:`Worker.train_file_range` with a temporary worker of ``max_sentence``."""
        worker = Worker(self, max_sentence)
        try:
            return worker.train_file_range(index, path, start, end, alpha0, alpha1, seed, progress)
        finally:
            worker.close()

    def debug_train_window(self, const int32_t[::1] sentence, int position, int window,
                           float alpha, uint64_t seed):
        """Train exactly one window (no subsampling, fixed window size) and return
        (noise words drawn, in order, loss) for the kernel tests."""
        return self.debug_train_block(sentence, position, [window], alpha, seed)

    def debug_train_block(self, const int32_t[::1] sentence, int first, windows,
                          float alpha, uint64_t seed):
        """Train centres first .. first + len(windows) - 1 as one block with the given window
        sizes (no subsampling) and return (noise words drawn, in order, loss) for the tests.
        More than one centre needs skip-gram with batch_window."""
        cdef Scratch w
        cdef int n = sentence.shape[0]
        cdef int c, n_centres = len(windows)
        cdef int wins[MAX_COMBINE]
        if not 1 <= n_centres <= self.net.combine:
            raise ValueError(f"a block has 1 to {self.net.combine} centres")
        if not (0 <= first and first + n_centres <= n):
            raise IndexError("position out of range")
        for c in range(n_centres):
            if not 1 <= windows[c] <= self.net.window:
                raise ValueError("window must be in [1, engine window]")
            wins[c] = windows[c]
        memset(&w, 0, sizeof(Scratch))
        if np.min(sentence) < 0 or np.max(sentence) >= self.net.V:
            raise ValueError("word index out of range")
        if scratch_init(&w, &self.net, n, seed) != 0:
            scratch_free(&self.net, &w)
            raise MemoryError()
        w.record_negatives = 1
        train_block(&self.net, &w, &sentence[0], n, first, n_centres, wins, alpha)
        negs = [w.drawn_negatives[i] for i in range(w.n_drawn_negatives)]
        loss = w.loss
        scratch_free(&self.net, &w)
        return negs, loss

    def draw_noise_samples(self, int64_t n, uint64_t seed):
        """n draws from the noise table with the engine's sampler (for the statistics tests)."""
        cdef uint64_t rng = seed
        cdef int64_t i
        if self.net.negative <= 0:
            raise ValueError("engine has no negative sampling")
        out = np.empty(n, dtype=np.int32)
        cdef int32_t[::1] o = out
        with nogil:
            for i in range(n):
                o[i] = draw_noise(&self.net, &rng)
        return out

    def subsample_counts(self, const int32_t[::1] words, int repeats, uint64_t seed):
        """How often each position survives subsampling over ``repeats`` passes (tests)."""
        cdef uint64_t rng = seed
        cdef int r, i
        out = np.zeros(words.shape[0], dtype=np.int64)
        cdef int64_t[::1] o = out
        with nogil:
            for r in range(repeats):
                for i in range(words.shape[0]):
                    if (rng_next(&rng) >> 32) < self.net.keep_threshold[words[i]]:
                        o[i] += 1
        return out


cdef class Worker:
    """One thread's training state (:c:type:`Scratch` and the file reader's buffers),
    allocated once and reused by every call; made by :meth:`Engine.worker`.

    Not thread-safe: one worker per thread. Every call starts from its own seed (fresh
    random stream and negatives) and merges the cached hot rows into the shared matrices
    before it returns, so a call trains exactly as a fresh scratch space would.
    """
    cdef Engine engine
    cdef Scratch w
    cdef readonly int max_sentence   # longest sentence (words) a call may pass
    cdef bint ready
    cdef char* buf          # READ_BUFFER_BYTES of file data (train_file_range)
    cdef char* tok          # MAX_TOKEN_BYTES: the token being read
    cdef int32_t* pending   # max_sentence + 1 word indices of the sentence being read

    def __cinit__(self, Engine engine, int max_sentence):
        memset(&self.w, 0, sizeof(Scratch))
        self.engine = engine
        self.ready = 0
        self.buf = self.tok = NULL
        self.pending = NULL
        if max_sentence < 1:
            raise ValueError("max_sentence must be >= 1")
        self.max_sentence = max_sentence
        self.ready = 1   # from here on close() must free, even after a failed allocation
        self.buf = <char*>malloc(READ_BUFFER_BYTES)
        self.tok = <char*>malloc(MAX_TOKEN_BYTES)
        self.pending = <int32_t*>malloc((<size_t>max_sentence + 1) * sizeof(int32_t))
        if (self.buf == NULL or self.tok == NULL or self.pending == NULL
                or scratch_init(&self.w, &engine.net, max_sentence, 0) != 0):
            self.close()
            raise MemoryError("could not allocate the worker's scratch buffers")

    def __dealloc__(self):
        self.close()

    def close(self) -> None:
        """Free the buffers now (after this, calls raise); idempotent."""
        if self.ready:
            scratch_free(&self.engine.net, &self.w)
            free(self.buf)
            free(self.tok)
            free(self.pending)
            self.buf = self.tok = NULL
            self.pending = NULL
            self.ready = 0

    cdef int _begin(self, uint64_t seed) except -1:
        """Reset the per-call state: as a freshly initialised scratch space with ``seed``."""
        if not self.ready:
            raise ValueError("worker is closed")
        self.w.rng = seed
        self.w.loss = 0.0
        self.w.loss_terms = 0
        self.w.n_drawn_negatives = 0
        self.w.record_negatives = 0
        self.w.negatives_ready = 0
        self.w.since_sync = 0
        return 0

    def train_job(self, const int32_t[::1] words, const int64_t[::1] sentence_ends,
                  double alpha0, double alpha1, uint64_t seed):
        """Train one job: concatenated sentences of word indices.

        ``sentence_ends[s]`` is the end offset of sentence s; a sentence longer than the
        worker's max_sentence raises ValueError. Alpha moves linearly from alpha0 to alpha1
        over the job's words. Returns (kept_words, loss_sum, loss_terms) of this call.
        """
        cdef const Net* net = &self.engine.net
        cdef Scratch* w = &self.w
        cdef int64_t n_sent = sentence_ends.shape[0]
        cdef int64_t total = words.shape[0]
        cdef int64_t s, start = 0, end, kept = 0
        cdef int64_t max_len = 0
        cdef double a0, a1
        for s in range(n_sent):
            end = sentence_ends[s]
            if end < start or end > total:
                raise ValueError("sentence_ends must be non-decreasing and within the job")
            if end - start > max_len:
                max_len = end - start
            start = end
        if total and (np.min(words) < 0 or np.max(words) >= net.V):
            raise ValueError("word index out of range")
        if max_len > self.max_sentence:
            raise ValueError(f"sentence of {max_len} words exceeds the worker's "
                             f"max_sentence={self.max_sentence}")
        self._begin(seed)
        with nogil:
            start = 0
            for s in range(n_sent):
                if net.stop_flag[0]:
                    break
                end = sentence_ends[s]
                if end > start:
                    a0 = alpha0 + (alpha1 - alpha0) * start / total
                    a1 = alpha0 + (alpha1 - alpha0) * end / total
                    kept += train_sentence(net, w, &words[start], <int>(end - start), a0, a1)
                start = end
            scratch_merge(net, w)
        return kept, w.loss, w.loss_terms

    def train_file_range(self, TokenIndex index, bytes path, int64_t start, int64_t end,
                         double alpha0, double alpha1, uint64_t seed, int64_t[::1] progress):
        """Read bytes [start, end) of a plain-text corpus and train on it, without the GIL.

        A token belongs to the range its first byte falls in; '\\n' ends a sentence and
        sentences longer than the worker's max_sentence are split. Alpha moves alpha0 ->
        alpha1 by the fraction of the range consumed. Raw words read so far are added to
        ``progress[0]`` and bytes consumed to ``progress[1]``, so one worker's calls
        accumulate in one row. Returns (raw_words, kept_words, loss, loss_terms).
        """
        cdef const Net* net = &self.engine.net
        cdef Scratch* w = &self.w
        cdef FILE* f
        cdef char* buf = self.buf
        cdef char* tok = self.tok
        cdef int32_t* pending = self.pending
        cdef int max_sentence = self.max_sentence
        cdef size_t nread, b
        cdef int64_t pos, raw = 0, kept = 0
        cdef int tok_len = 0, overlong = 0, skipping = 0, npend = 0, done = 0, rc = 0
        cdef unsigned char c
        cdef int32_t idx
        cdef double span = <double>(end - start) if end > start else 1.0
        cdef double frac, alpha
        cdef const char* cpath = path
        cdef int64_t words_before, bytes_before
        if progress.shape[0] < 2:
            raise ValueError("progress needs two slots")
        self._begin(seed)
        words_before, bytes_before = progress[0], progress[1]
        with nogil:
            f = fopen(cpath, "rb")
            if f == NULL:
                rc = -2
            else:
                pos = start
                if start > 0:
                    # A token straddling `start` belongs to the previous range.
                    fseek(f, start - 1, SEEK_SET)
                    if fread(buf, 1, 1, f) == 1 and not is_space(<unsigned char>buf[0]):
                        skipping = 1
                else:
                    fseek(f, 0, SEEK_SET)
                while not done:
                    nread = fread(buf, 1, READ_BUFFER_BYTES, f)
                    if nread == 0:
                        break
                    for b in range(nread):
                        c = <unsigned char>buf[b]
                        if is_space(c):
                            skipping = 0
                            if tok_len > 0 or overlong:
                                raw += 1
                                idx = -1 if overlong else index.lookup(tok, tok_len)
                                tok_len = 0
                                overlong = 0
                                if idx >= 0:
                                    pending[npend] = idx
                                    npend += 1
                            if npend > 0 and (c == 10 or npend >= max_sentence):
                                frac = (pos + <int64_t>b - start) / span
                                alpha = alpha0 + (alpha1 - alpha0) * (frac if frac < 1 else 1)
                                kept += train_sentence(net, w, pending, npend, alpha, alpha)
                                npend = 0
                                progress[0] = words_before + raw
                                progress[1] = bytes_before + pos + <int64_t>b - start
                                if net.stop_flag[0]:
                                    done = 1
                                    break
                            if pos + <int64_t>b >= end:
                                done = 1
                                break
                        elif not skipping:
                            if tok_len == 0 and not overlong and pos + <int64_t>b >= end:
                                done = 1
                                break
                            if tok_len < MAX_TOKEN_BYTES:
                                tok[tok_len] = <char>c
                                tok_len += 1
                            else:
                                overlong = 1
                                tok_len = 0
                    pos += <int64_t>nread
                if tok_len > 0 or overlong:
                    raw += 1
                    idx = -1 if overlong else index.lookup(tok, tok_len)
                    if idx >= 0:
                        pending[npend] = idx
                        npend += 1
                if npend > 0 and not net.stop_flag[0]:
                    kept += train_sentence(net, w, pending, npend, alpha1, alpha1)
                progress[0] = words_before + raw
                progress[1] = bytes_before + end - start
                scratch_merge(net, w)
                fclose(f)
        if rc == -2:
            raise OSError(f"cannot open corpus file {path!r}")
        return raw, kept, w.loss, w.loss_terms


cdef inline bint is_space(unsigned char c) noexcept nogil:
    # The ASCII characters str.split() treats as whitespace: \t \n \v \f \r, the
    # separators \x1c-\x1f and space. On ASCII text this tokenises exactly as str.split().
    return c == 32 or (c >= 9 and c <= 13) or (c >= 28 and c <= 31)


def encode_text(const unsigned char[::1] data, TokenIndex index, int max_sentence,
                bint newline_ends_sentence):
    """Tokenise a block of ASCII text and map tokens to word indices without the GIL.

    Returns (words, sentence_ends, raw_word_count) like :func:`encode_sentences`. With
    ``newline_ends_sentence`` each line is a sentence; sentences longer than
    ``max_sentence`` tokens are split. Unknown tokens are dropped.
    """
    cdef Py_ssize_t n = data.shape[0]
    cdef Py_ssize_t i = 0, start
    cdef int64_t nw = 0, ns = 0, raw = 0, in_sentence = 0
    cdef int32_t idx
    cdef unsigned char c
    if max_sentence < 1:
        raise ValueError("max_sentence must be >= 1")
    words = np.empty(n // 2 + 1, dtype=np.int32)
    ends = np.empty(n // 2 + 2, dtype=np.int64)
    cdef int32_t[::1] w = words
    cdef int64_t[::1] e = ends
    if n == 0:
        return words[:0], ends[:0], 0
    with nogil:
        while i < n:
            c = data[i]
            if is_space(c):
                if c == 10 and newline_ends_sentence and in_sentence > 0:
                    e[ns] = nw
                    ns += 1
                    in_sentence = 0
                i += 1
                continue
            start = i
            while i < n and not is_space(data[i]):
                i += 1
            raw += 1
            idx = index.lookup(<const char*>&data[start], <int>(i - start))
            if idx >= 0:
                w[nw] = idx
                nw += 1
                in_sentence += 1
                if in_sentence >= max_sentence:
                    e[ns] = nw
                    ns += 1
                    in_sentence = 0
        if in_sentence > 0:
            e[ns] = nw
            ns += 1
    return words[:nw], ends[:ns], raw


# ---------------------------------------------------------------------------------------
# Token lookup without Python objects (corpus_file mode)
# ---------------------------------------------------------------------------------------

cdef inline uint64_t fnv1a(const char* s, int n) noexcept nogil:
    cdef uint64_t h = <uint64_t>1469598103934665603ULL
    cdef int i
    for i in range(n):
        h = (h ^ <unsigned char>s[i]) * <uint64_t>1099511628211ULL
    return h


cdef class TokenIndex:
    """An open-addressing hash table from UTF-8 token bytes to word indices, usable
    without the GIL."""
    cdef bytes _blob
    cdef const char* blob
    cdef int64_t[::1] offsets
    cdef int32_t[::1] slots
    cdef uint64_t mask

    def __init__(self, words):
        encoded = [w.encode("utf-8", "surrogateescape") if isinstance(w, str) else bytes(w)
                   for w in words]
        n = len(encoded)
        lengths = np.fromiter((len(e) for e in encoded), dtype=np.int64, count=n)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        self._blob = b"".join(encoded)
        self.blob = self._blob
        self.offsets = offsets
        size = 16
        while size < 2 * n + 1:
            size *= 2
        self.mask = size - 1
        self.slots = np.full(size, -1, dtype=np.int32)
        cdef int32_t i
        cdef uint64_t h
        for i in range(n):
            e = encoded[i]
            if self.lookup(e, len(e)) >= 0:
                continue  # duplicate key: keep the first index
            h = fnv1a(e, len(e)) & self.mask
            while self.slots[h] >= 0:
                h = (h + 1) & self.mask
            self.slots[h] = i

    cdef int32_t lookup(self, const char* s, int n) noexcept nogil:
        cdef uint64_t h = fnv1a(s, n) & self.mask
        cdef int32_t i
        while True:
            i = self.slots[h]
            if i < 0:
                return -1
            if self.offsets[i + 1] - self.offsets[i] == n and \
                    memcmp(self.blob + self.offsets[i], s, n) == 0:
                return i
            h = (h + 1) & self.mask

    def get(self, token) -> int:
        """Index of a token (str or bytes), or -1."""
        b = token.encode("utf-8", "surrogateescape") if isinstance(token, str) else bytes(token)
        return self.lookup(b, len(b))


# ---------------------------------------------------------------------------------------
# Corpus encoding for the iterable path (holds the GIL, but no per-token Python frames)
# ---------------------------------------------------------------------------------------

def encode_sentences(list sentences, dict key_to_index):
    """Map token lists to one int32 array of known-word indices plus sentence end offsets.

    Returns (words, sentence_ends, raw_word_count). Unknown tokens are dropped.
    Raises TypeError for a sentence that is a str/bytes rather than a list of tokens.
    """
    cdef int64_t total = 0, n = 0, s = 0
    cdef PyObject* hit
    for sent in sentences:
        if isinstance(sent, (str, bytes)):
            raise TypeError(
                "each sentence must be a list of tokens (str), got a "
                f"{type(sent).__name__}: {str(sent)[:40]!r}; split it first, e.g. text.split()")
        total += len(sent)
    words = np.empty(total, dtype=np.int32)
    ends = np.empty(len(sentences), dtype=np.int64)
    cdef int32_t[::1] w = words
    cdef int64_t[::1] e = ends
    for sent in sentences:
        for tok in sent:
            hit = PyDict_GetItem(key_to_index, tok)
            if hit != NULL:
                w[n] = <int32_t><object>hit
                n += 1
        e[s] = n
        s += 1
    return words[:n], ends, total


# ---------------------------------------------------------------------------------------
# Huffman tree
# ---------------------------------------------------------------------------------------

def build_huffman(const int64_t[::1] counts, int max_code_length=MAX_CODE_LEN):
    """Huffman codes for hierarchical softmax from word counts, in O(V log V).

    Returns (offsets, codes, points): word w's path is [offsets[w], offsets[w+1]), listed
    root first; points are inner-node indices in [0, V-2] (rows of syn1) and codes the
    branch bits (1 = the heavier child). V = 1 gives an empty path.
    """
    cdef int64_t V = counts.shape[0]
    cdef int64_t i, a, b, leaf, node, inner, total, k, nxt_leaf, nxt_inner, n_inner
    if V < 1:
        raise ValueError("Huffman tree needs at least one word")
    if np.any(np.asarray(counts) < 0):
        raise ValueError("counts must be non-negative")
    if sum(int(c) for c in np.asarray(counts)[np.asarray(counts) > 0]) >= 2 ** 62:
        raise ValueError("total count too large for the Huffman tree (>= 2**62)")
    order_np = np.argsort(np.asarray(counts), kind="stable").astype(np.int64)   # ascending
    cdef int64_t[::1] order = order_np
    # nodes 0..V-1 are leaves (word ids), V..2V-2 inner nodes in creation order
    weight_np = np.zeros(2 * V, dtype=np.int64)
    parent_np = np.full(2 * V, -1, dtype=np.int64)
    bit_np = np.zeros(2 * V, dtype=np.uint8)
    depth_np = np.zeros(2 * V, dtype=np.int64)
    cdef int64_t[::1] weight = weight_np
    cdef int64_t[::1] parent = parent_np
    cdef uint8_t[::1] bit = bit_np
    cdef int64_t[::1] depth = depth_np
    cdef int64_t pick[2]
    for i in range(V):
        weight[i] = counts[i]
    with nogil:
        # Two-queue merge: leaves in ascending order, inner nodes created in ascending order.
        nxt_leaf = 0
        nxt_inner = V
        for inner in range(V, 2 * V - 1):
            for k in range(2):
                if nxt_leaf < V and (nxt_inner >= inner or weight[order[nxt_leaf]] <= weight[nxt_inner]):
                    pick[k] = order[nxt_leaf]
                    nxt_leaf += 1
                else:
                    pick[k] = nxt_inner
                    nxt_inner += 1
            weight[inner] = weight[pick[0]] + weight[pick[1]]
            parent[pick[0]] = inner
            parent[pick[1]] = inner
            bit[pick[1]] = 1
        # depth, top-down: parents are created after their children
        for node in range(2 * V - 3, -1, -1):
            depth[node] = depth[parent[node]] + 1
    lengths = depth_np[:V]
    max_len = int(lengths.max()) if V > 1 else 0
    if max_len > max_code_length:
        raise ValueError(f"Huffman code of length {max_len} exceeds the bound "
                         f"{max_code_length}: the counts are too skewed (Fibonacci-like)")
    offsets_np = np.zeros(V + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets_np[1:])
    total = offsets_np[V]
    codes_np = np.zeros(total, dtype=np.uint8)
    points_np = np.zeros(total, dtype=np.int32)
    cdef int64_t[::1] offsets = offsets_np
    cdef uint8_t[::1] codes = codes_np
    cdef int32_t[::1] points = points_np
    with nogil:
        for leaf in range(V):
            k = offsets[leaf + 1] - 1   # fill from the leaf upwards, so root ends first
            node = leaf
            while parent[node] >= 0:
                codes[k] = bit[node]
                points[k] = <int32_t>(parent[node] - V)
                node = parent[node]
                k -= 1
    return offsets_np, codes_np, points_np
