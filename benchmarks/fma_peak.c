/* The FMA limit of one core (BENCHMARKS.md, "The FMA limit").
 *
 *   gcc -O3 -mavx512f -mfma benchmarks/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak
 *
 * 1. One dependent chain of 512-bit FMAs: each waits for the previous one, so the time per
 *    FMA is the FMA latency (4 cycles on Zen 4/5 and on Intel cores since Skylake-SP);
 *    4 / that time is the clock.
 * 2. Twelve independent chains: enough to hide the latency, so the rate is the core's
 *    issue width for 512-bit FMAs (2 per cycle with two full-width pipes, 1 on Zen 4,
 *    which runs each on both of its 256-bit pipes), then the same with 256-bit FMAs.
 * The accumulators are printed so that the compiler cannot drop the loops.
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

#define LATENCY_CYCLES 4.0

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double dependent(long n, float *sink) {
    __m512 a = _mm512_set1_ps(1.0f), b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    double t = now();
    for (long i = 0; i < n; i++) a = _mm512_fmadd_ps(a, b, c);
    t = now() - t;
    *sink += _mm512_reduce_add_ps(a);
    return t / n;
}

/* Twelve independent chains of FMAs of one width. The chains start from distinct values:
   with equal ones the compiler proves them equal and keeps one. */
#define INDEPENDENT(NAME, VEC, SET1, FMADD, STORE, LANES)                          \
    static double NAME(long n, float *sink) {                                     \
        VEC b = SET1(0.999999f), c = SET1(1e-7f), x[12];                          \
        for (int k = 0; k < 12; k++) x[k] = SET1(1.0f + 0.01f * k);               \
        double t = now();                                                         \
        for (long i = 0; i < n; i++) {                                            \
            _Pragma("GCC unroll 12")                                              \
            for (int k = 0; k < 12; k++) x[k] = FMADD(x[k], b, c);                \
        }                                                                         \
        t = now() - t;                                                            \
        float out[LANES];                                                         \
        for (int k = 0; k < 12; k++) {                                            \
            STORE(out, x[k]);                                                     \
            for (int l = 0; l < LANES; l++) *sink += out[l];                      \
        }                                                                         \
        return t / (12.0 * n);                                                    \
    }

INDEPENDENT(independent, __m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_storeu_ps, 16)
INDEPENDENT(independent256, __m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_storeu_ps, 8)

int main(void) {
    float sink = 0.0f;
    double lat = 1e9, thr = 1e9, thr256 = 1e9;
    for (int r = 0; r < 5; r++) {   /* best of 5: the machine is shared */
        double a = dependent(200000000L, &sink), b = independent(50000000L, &sink),
               h = independent256(50000000L, &sink);
        if (a < lat) lat = a;
        if (b < thr) thr = b;
        if (h < thr256) thr256 = h;
    }
    double ghz = LATENCY_CYCLES / (lat * 1e9);
    double per_cycle = (1.0 / (thr * 1e9)) / ghz;
    printf("dependent chain: %.3f ns per FMA -> %.2f GHz at a %.0f-cycle latency\n", lat * 1e9, ghz, LATENCY_CYCLES);
    printf("12 chains: %.2f FMAs per ns = %.2f per cycle; peak %.1f G float multiply-adds/s per core\n",
           1.0 / (thr * 1e9), per_cycle, 16.0 / (thr * 1e9));
    printf("12 chains of 256-bit FMAs: %.2f per cycle (%.1f G multiply-adds/s)\n",
           (1.0 / (thr256 * 1e9)) / ghz, 8.0 / (thr256 * 1e9));
    printf("(sink %g)\n", sink);
    return 0;
}
