/* The FMA limit of one core (BENCHMARKS.md, "The FMA limit").
 *
 *   gcc -O3 -mavx512f -mfma benchmarks/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak
 *
 * 1. One dependent chain of 512-bit FMAs: each waits for the previous one, so the time per
 *    FMA is the FMA latency (4 cycles on Zen 4/5 and on Intel cores since Skylake-SP);
 *    4 / that time is the clock.
 * 2. Twelve independent chains: enough to hide the latency, so the rate is the core's
 *    issue width for 512-bit FMAs (2 per cycle on a core with two FMA pipes).
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

static double independent(long n, float *sink) {
    __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    /* distinct starting values: with equal ones the compiler proves the chains equal and keeps one */
    __m512 x0 = _mm512_set1_ps(1.00f), x1 = _mm512_set1_ps(1.01f), x2 = _mm512_set1_ps(1.02f),
           x3 = _mm512_set1_ps(1.03f), x4 = _mm512_set1_ps(1.04f), x5 = _mm512_set1_ps(1.05f),
           x6 = _mm512_set1_ps(1.06f), x7 = _mm512_set1_ps(1.07f), x8 = _mm512_set1_ps(1.08f),
           x9 = _mm512_set1_ps(1.09f), x10 = _mm512_set1_ps(1.10f), x11 = _mm512_set1_ps(1.11f);
    double t = now();
    for (long i = 0; i < n; i++) {
        x0 = _mm512_fmadd_ps(x0, b, c); x1 = _mm512_fmadd_ps(x1, b, c); x2 = _mm512_fmadd_ps(x2, b, c);
        x3 = _mm512_fmadd_ps(x3, b, c); x4 = _mm512_fmadd_ps(x4, b, c); x5 = _mm512_fmadd_ps(x5, b, c);
        x6 = _mm512_fmadd_ps(x6, b, c); x7 = _mm512_fmadd_ps(x7, b, c); x8 = _mm512_fmadd_ps(x8, b, c);
        x9 = _mm512_fmadd_ps(x9, b, c); x10 = _mm512_fmadd_ps(x10, b, c); x11 = _mm512_fmadd_ps(x11, b, c);
    }
    t = now() - t;
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(x0, x1), _mm512_add_ps(x2, x3)),
                             _mm512_add_ps(_mm512_add_ps(x4, x5), _mm512_add_ps(x6, x7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(x8, x9), _mm512_add_ps(x10, x11)));
    *sink += _mm512_reduce_add_ps(s);
    return t / (12.0 * n);
}

static double independent256(long n, float *sink) {
    /* the same with 256-bit FMAs: a core that splits a 512-bit FMA into two halves (Zen 4)
       issues twice as many of these per cycle, one that has full-width pipes the same number */
    __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    __m256 x[12];
    for (int k = 0; k < 12; k++) x[k] = _mm256_set1_ps(1.0f + 0.01f * k);
    double t = now();
    for (long i = 0; i < n; i++) {
#pragma GCC unroll 12
        for (int k = 0; k < 12; k++) x[k] = _mm256_fmadd_ps(x[k], b, c);
    }
    t = now() - t;
    __m256 s = x[0];
    for (int k = 1; k < 12; k++) s = _mm256_add_ps(s, x[k]);
    float out[8];
    _mm256_storeu_ps(out, s);
    for (int k = 0; k < 8; k++) *sink += out[k];
    return t / (12.0 * n);
}

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
