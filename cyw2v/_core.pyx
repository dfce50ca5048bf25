# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The training engine: typed C-level loops that run without the GIL.

Two orthogonal axes:

* the *architecture* forms hidden vectors from input rows (``syn0``) and spreads their
  gradient back: skip-gram (one input row per context, or all contexts of a centre word
  as one batch) and CBOW (mean or sum of the context rows);
* the *objective* scores a target against ``m`` hidden vectors, updates the output rows
  it touches and accumulates the gradient of the hidden vectors: negative sampling,
  hierarchical softmax, full softmax.  Every objective has the signature
  ``objective_fn`` and is one function, with its shared state in one struct of ``Net``
  and its per-thread state in one struct of ``Scratch``.

Which architecture and objectives train is decided once, when the ``Engine`` is built
(``Net.train_sentence``, ``Net.objective``, ``Net.objectives``); the loops never test the
settings again. Each thread trains through one ``Worker``, which owns its ``Scratch``.

This file holds the constants, the sigmoid tables and the random numbers; ``_text.pxi``
the tokeniser, the token tables, the corpus encoders and the Huffman builder;
``_engine.pxi`` the training engine. The AVX2 / AVX-512 variants include this file.

All hot loops use raw pointers into NumPy arrays owned by the Python layer.
Updates are Hogwild: threads write shared rows without locks.
"""

cimport cython
from libc.stdint cimport uint64_t, uint32_t, int32_t, int64_t, uint8_t
from libc.stdlib cimport malloc, calloc, realloc, free
from libc.string cimport memset, memcpy, memcmp, memmove
from libc.math cimport exp, log, log1p
from libc.stdio cimport FILE, fopen, fclose, fread, fseek, SEEK_SET
from libc.limits cimport INT_MAX
from cpython.dict cimport PyDict_GetItem
from cpython.object cimport PyObject

import os

import numpy as np

cdef extern from "stdlib.h" nogil:
    int posix_memalign(void** memptr, size_t alignment, size_t size)

cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define CYW2V_PREFETCH(p) __builtin_prefetch((const void*)(p), 1, 3)
    #define CYW2V_PREFETCH_READ(p) __builtin_prefetch((const void*)(p), 0, 3)
    #else
    #define CYW2V_PREFETCH(p) ((void)0)
    #define CYW2V_PREFETCH_READ(p) ((void)0)
    #endif
    """
    void prefetch "CYW2V_PREFETCH"(const void* p) nogil
    # for data the threads share and never write (a write prefetch would take the line
    # from the other cores' caches)
    void prefetch_read "CYW2V_PREFETCH_READ"(const void* p) nogil

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


# Reduced-precision weights, emulated: an engine compiled with CYW2V_ROUNDED_WEIGHTS=1
# (cyw2v._core_emulate, never chosen by the dispatcher on its own) rounds every weight row
# it writes to bfloat16 or float16 and keeps it in float32, so that training sees exactly
# the values such storage would hold. It measures what the precision costs the embeddings
# before any kernel stores 16-bit rows. Every other build compiles the rounding out.
cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    #ifndef CYW2V_ROUNDED_WEIGHTS
    #define CYW2V_ROUNDED_WEIGHTS 0
    #endif
    enum { CYW2V_FLOAT32 = 0, CYW2V_BF16_NEAREST = 1, CYW2V_BF16_STOCHASTIC = 2,
           CYW2V_FP16_NEAREST = 3 };

    /* bfloat16 keeps float32's top 16 bits. Nearest adds 0x7FFF plus the lowest kept bit
       (ties to even); stochastic adds 16 uniform bits, so it rounds up with probability
       equal to the dropped fraction and is unbiased. Inf and NaN pass unchanged. */
    static inline float cyw2v_bf16(float x, uint32_t noise, int nearest) {
        uint32_t u;
        memcpy(&u, &x, sizeof u);
        if ((u & 0x7F800000u) == 0x7F800000u) return x;
        u += nearest ? 0x7FFFu + ((u >> 16) & 1u) : (noise & 0xFFFFu);
        u &= 0xFFFF0000u;
        memcpy(&x, &u, sizeof u);
        return x;
    }

    static inline uint64_t cyw2v_round_bits(uint64_t* state) {   /* SplitMix64 */
        uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }

    /* Round y[0..d) in place to the storage precision `mode`; 0 if the mode is known. */
    static int cyw2v_round_row(float* y, int d, int mode, uint64_t* state) {
        int k;
        uint64_t bits = 0;
        switch (mode) {
        case CYW2V_FLOAT32:
            return 0;
        case CYW2V_BF16_NEAREST:
            for (k = 0; k < d; k++) y[k] = cyw2v_bf16(y[k], 0, 1);
            return 0;
        case CYW2V_BF16_STOCHASTIC:
            for (k = 0; k < d; k++) {
                if ((k & 3) == 0) bits = cyw2v_round_bits(state);   /* 16 bits per value */
                y[k] = cyw2v_bf16(y[k], (uint32_t)(bits >> (16 * (k & 3))), 0);
            }
            return 0;
        case CYW2V_FP16_NEAREST:
    #ifdef __FLT16_MAX__
            for (k = 0; k < d; k++) y[k] = (float)(_Float16)y[k];
            return 0;
    #else
            return -1;
    #endif
        }
        return -1;
    }
    """
    int ROUNDED_WEIGHTS "CYW2V_ROUNDED_WEIGHTS"
    int cyw2v_round_row(float* y, int d, int mode, uint64_t* state) nogil

#: Storage precisions an emulating engine rounds the weights to (CYW2V_EMULATE_WEIGHTS).
EMULATED_PRECISIONS = {"float32": 0, "bf16": 1, "bf16-stochastic": 2, "fp16": 3}


def emulates_rounded_weights() -> bool:
    """Whether this build rounds the weights it writes (CYW2V_EMULATE_WEIGHTS, see above)."""
    return bool(ROUNDED_WEIGHTS)


def round_weights(float[::1] values, str precision, uint64_t seed=1):
    """Round ``values`` in place as the emulating engine rounds a weight row it wrote."""
    cdef uint64_t state = seed
    if precision not in EMULATED_PRECISIONS:
        raise ValueError(f"precision must be one of {sorted(EMULATED_PRECISIONS)}, not {precision!r}")
    if values.shape[0] and cyw2v_round_row(&values[0], <int>values.shape[0],
                                           EMULATED_PRECISIONS[precision], &state) != 0:
        raise ValueError(f"this compiler has no float16 type; cannot round to {precision}")


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

# Constant lookup tables, filled once at import (read-only afterwards). One point more than
# the table holds, repeating its last: an x just below SIG_MAX can round to pos = TABLE_SIZE,
# whose interpolation reads point i + 1 (with weight 0).
cdef float SIGMOID[SIG_TABLE_SIZE + 2]
cdef float LOG_SIGMOID[SIG_TABLE_SIZE + 2]


cdef void _fill_tables() noexcept:
    cdef int i
    cdef double x
    for i in range(SIG_TABLE_SIZE + 1):
        x = (2.0 * i / SIG_TABLE_SIZE - 1.0) * SIG_MAX
        SIGMOID[i] = <float>(1.0 / (1.0 + exp(-x)))
        LOG_SIGMOID[i] = <float>(-log1p(exp(-x)))
    SIGMOID[SIG_TABLE_SIZE + 1] = SIGMOID[SIG_TABLE_SIZE]
    LOG_SIGMOID[SIG_TABLE_SIZE + 1] = LOG_SIGMOID[SIG_TABLE_SIZE]

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


# Text (tokeniser, token tables, corpus encoders, Huffman tree), then the training engine.
include "_text.pxi"
include "_engine.pxi"
