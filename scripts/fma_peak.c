/* The CPU's fp32 peak, measured: each thread runs 12 independent chains of fused multiply-adds in registers
 * (no memory traffic), once with 256-bit AVX2 and once with 512-bit AVX-512 vectors where the CPU has them.
 * Prints one line: "<threads> <avx2 GFLOPS> <avx512 GFLOPS or 0>". Built and run by scripts/bench_train.py. */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

#define CHAINS(F) a0 = F(a0, b, c); a1 = F(a1, b, c); a2 = F(a2, b, c); a3 = F(a3, b, c); a4 = F(a4, b, c); \
    a5 = F(a5, b, c); a6 = F(a6, b, c); a7 = F(a7, b, c); a8 = F(a8, b, c); a9 = F(a9, b, c);               \
    a10 = F(a10, b, c); a11 = F(a11, b, c);
#define KEEP(R) __asm__ volatile("" : "+" R(a0), "+" R(a1), "+" R(a2), "+" R(a3), "+" R(a4), "+" R(a5),       \
                                 "+" R(a6), "+" R(a7), "+" R(a8), "+" R(a9), "+" R(a10), "+" R(a11))

/* One function per vector width: 12 chains of TYPE fused multiply-adds for ITERS rounds, in GFLOPS. */
#define FMA_LOOP(NAME, TARGET, TYPE, SET1, FMADD, LANES, REG)                                                 \
    __attribute__((target(TARGET))) static double NAME(long iters) {                                         \
        TYPE b = SET1(1.0000001f), c = SET1(1e-7f);                                                           \
        TYPE a0 = b, a1 = c, a2 = b, a3 = c, a4 = b, a5 = c, a6 = b, a7 = c, a8 = b, a9 = c, a10 = b, a11 = c; \
        double t0 = now();                                                                                    \
        for (long k = 0; k < iters; k++) { CHAINS(FMADD) KEEP(REG); }                                         \
        return 12.0 * LANES * 2 * iters / (now() - t0) / 1e9;                                                \
    }
FMA_LOOP(fma256, "avx2,fma", __m256, _mm256_set1_ps, _mm256_fmadd_ps, 8, "x")
FMA_LOOP(fma512, "avx512f", __m512, _mm512_set1_ps, _mm512_fmadd_ps, 16, "v")

static int wide;
static void *run(void *out) {
    double *r = out;
    r[0] = fma256(30000000L);
    r[1] = wide ? fma512(15000000L) : 0.0;
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1 || threads > 256) {
        fprintf(stderr, "fma_peak: threads must be 1..256\n");
        return 2;
    }
    __builtin_cpu_init();
    wide = __builtin_cpu_supports("avx512f");
    pthread_t *tid = malloc(sizeof(pthread_t) * threads);
    double (*r)[2] = malloc(sizeof(double[2]) * threads), s256 = 0, s512 = 0;
    for (int i = 0; i < threads; i++) pthread_create(&tid[i], NULL, run, r[i]);
    for (int i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        s256 += r[i][0];
        s512 += r[i][1];
    }
    printf("%d %.1f %.1f\n", threads, s256, s512);
    return 0;
}
