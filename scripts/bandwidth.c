/*
 * Sustained memory bandwidth of this machine, for the roofline in docs/kernels.md.
 *
 * A STREAM-like measurement (the method of McCalpin's STREAM benchmark, written afresh):
 * three arrays of doubles, each far larger than the last-level cache, and two kernels
 *
 *   triad:  a[i] = b[i] + s * c[i]     counted as 24 bytes per element (2 reads, 1 write)
 *   sum:    t += a[i]                  counted as  8 bytes per element (1 read)
 *
 * each run REPS times on 1 thread and on 2 threads (OpenMP); the best repetition is
 * reported, as STREAM does, because on a shared machine the slow runs measure the
 * neighbours, not the memory. Byte counts follow STREAM's convention and ignore the
 * write-allocate read of `a` that an ordinary store causes, so the triad's real traffic is
 * up to 32 bytes per element and its figure is a conservative one.
 *
 * Build and run (gcc with OpenMP):
 *
 *   gcc -O3 -march=native -fopenmp scripts/bandwidth.c -o /tmp/bandwidth && /tmp/bandwidth
 *
 * Optional arguments: elements per array (default 2^25, 256 MiB per array) and
 * repetitions (default 10, at most 64).
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1L << 25;
    int reps = argc > 2 ? atoi(argv[2]) : 10;
    if (n <= 0 || reps <= 0) {
        fprintf(stderr, "usage: %s [elements per array] [repetitions]\n", argv[0]);
        return 1;
    }
    if (reps > 64)
        reps = 64; /* the per-repetition figures are kept in arrays of 64 */
    /* aligned_alloc wants a size that is a multiple of the alignment. */
    size_t bytes = ((size_t)n * sizeof(double) + 63) / 64 * 64;
    double *a = aligned_alloc(64, bytes);
    double *b = aligned_alloc(64, bytes);
    double *c = aligned_alloc(64, bytes);
    if (!a || !b || !c) {
        fprintf(stderr, "cannot allocate 3 x %ld doubles\n", n);
        return 1;
    }
    const double s = 3.0;
    printf("arrays: 3 x %ld doubles = 3 x %.0f MiB; best of %d repetitions\n", n,
           (double)n * sizeof(double) / (1024.0 * 1024.0), reps);
    printf("%-8s %-6s %12s %12s\n", "threads", "kernel", "best GB/s", "median GB/s");

    int counts[2] = {1, 2};
    for (int t = 0; t < 2; t++) {
        int threads = counts[t];
        omp_set_num_threads(threads);
        /* First touch with the same static split as the kernels, so each thread's pages
         * are the ones it will stream. */
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) {
            a[i] = 0.0;
            b[i] = 1.0 + (double)(i % 7);
            c[i] = 2.0 - (double)(i % 5);
        }
        double triad[64], sum[64];
        double checksum = 0.0;
        for (int r = 0; r < reps && r < 64; r++) {
            double t0 = now();
#pragma omp parallel for schedule(static)
            for (long i = 0; i < n; i++)
                a[i] = b[i] + s * c[i];
            double t1 = now();
            double total = 0.0;
            /* `simd` lets the compiler keep several partial sums per thread; one running
             * sum would measure the latency of an add, not the memory. */
#pragma omp parallel for simd schedule(static) reduction(+ : total)
            for (long i = 0; i < n; i++)
                total += a[i];
            double t2 = now();
            checksum += total;
            triad[r] = 24.0 * (double)n / (t1 - t0) / 1e9;
            sum[r] = 8.0 * (double)n / (t2 - t1) / 1e9;
        }
        int m = reps < 64 ? reps : 64;
        double *series[2] = {triad, sum};
        const char *names[2] = {"triad", "sum"};
        for (int k = 0; k < 2; k++) {
            double *x = series[k];
            /* Insertion sort: m is small. */
            for (int i = 1; i < m; i++)
                for (int j = i; j > 0 && x[j - 1] > x[j]; j--) {
                    double tmp = x[j];
                    x[j] = x[j - 1];
                    x[j - 1] = tmp;
                }
            printf("%-8d %-6s %12.1f %12.1f\n", threads, names[k], x[m - 1], x[m / 2]);
        }
        /* Every a[i] = b[i] + 3 c[i]; print the check so the loops cannot be elided. */
        double want = 0.0;
        for (long i = 0; i < n; i++)
            want += b[i] + s * c[i];
        printf("         check: %s\n", checksum == want * (double)m ? "ok" : "sums differ (rounding)");
    }
    free(a);
    free(b);
    free(c);
    return 0;
}
