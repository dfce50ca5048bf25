/* Core-to-core latency of the machine's two CPUs (BENCHMARKS.md, "Where the second core waits").
 *
 *   gcc -O2 -pthread benchmarks/pingpong.c -o /tmp/pingpong && /tmp/pingpong 20
 *
 * Two threads, pinned to CPUs 0 and 1, hand one cache line back and forth: thread A writes
 * an odd value and waits for B to write the next even one. Each hand-off moves the line from
 * one core's cache to the other's, which is what two training threads pay each time both
 * write the same frequent word's row. Prints the round trip of each of N samples (one
 * sample = 200,000 round trips, ~0.1 s), to show how it varies while the host moves the VM's
 * CPUs around.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define TRIPS 200000L

static _Alignas(64) atomic_long line;

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *echo(void *arg) {
    long samples = *(long *)arg;
    pin(1);
    for (long i = 0; i < samples * TRIPS; i++) {
        while (atomic_load_explicit(&line, memory_order_acquire) != 2 * i + 1) {}
        atomic_store_explicit(&line, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
    long samples = argc > 1 ? atol(argv[1]) : 10;
    pthread_t other;
    pin(0);
    pthread_create(&other, NULL, echo, &samples);
    for (long s = 0; s < samples; s++) {
        double t = now();
        for (long k = 0; k < TRIPS; k++) {
            long i = s * TRIPS + k;
            atomic_store_explicit(&line, 2 * i + 1, memory_order_release);
            while (atomic_load_explicit(&line, memory_order_acquire) != 2 * i + 2) {}
        }
        printf("%.0f ", (now() - t) / TRIPS * 1e9);
        fflush(stdout);
    }
    printf("ns per round trip\n");
    pthread_join(other, NULL);
    return 0;
}
