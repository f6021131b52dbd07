/* make bench: seconds per reference step of every optimizer on a 64 x 64
 * parameter at 256 bits, with the cost of one 64 x 64 x 64 product at the
 * same precision measured in the same run as the unit (the machines are
 * shared and noisy: ratios are what compare across runs). Steps 1 to 3 are
 * timed separately: first calls differ (SOAP's eigenbasis, asm's SVD). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "optref/optref.h"

#define N 64
#define PREC 256
#define STEPS 3

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The quadratic oracle of the benchmark: gradient X, H = I. */
static optref_status grad_at(void *ctx, mpmat_ptr G, mpmat_srcptr X)
{
    (void)ctx;
    return mpmat_set(G, X);
}

static optref_status hvp(void *ctx, mpmat_ptr HU, mpmat_srcptr X, mpmat_srcptr U)
{
    (void)ctx, (void)X;
    return mpmat_set(HU, U);
}

/* Values for the options without a default (sgd's lr, smi's T), and for a
 * wrapper's base. */
static size_t required_options(const optimizer_info *info, char buf[][64], const char **opts)
{
    size_t n = 0;
    const optimizer_info *base = info->default_base ? optimizer_info_find(info->default_base) : NULL;
    const optimizer_info *each[2] = {info, base};
    for (int w = 0; w < 2 && each[w] != NULL; w++)
        for (size_t i = 0; i < each[w]->nhyper && n < 8; i++)
            if (each[w]->hyper[i].def == NULL) {
                snprintf(buf[n], 64, "%s%s=%s", w ? "base." : "", each[w]->hyper[i].name,
                         each[w]->hyper[i].kind == PARAM_INT ? "100" : "0.001");
                opts[n] = buf[n];
                n++;
            }
    return n;
}

static void fill(mpmat_ptr A, uint64_t seed)
{
    rng_stream s;
    rng_stream_init(&s, seed, RNG_STREAM_FREE, 0);
    rng_fill_normal(A, &s);
}

int main(void)
{
    mpmat_t A, B, C, W, G;
    mpmat_init(A, N, N, PREC), mpmat_init(B, N, N, PREC), mpmat_init(C, N, N, PREC);
    mpmat_init(W, N, N, PREC), mpmat_init(G, N, N, PREC);
    fill(A, 1), fill(B, 2);
    double t0 = now();
    mpmat_mul(C, A, B);
    double unit = now() - t0;
    printf("# one step, %d x %d parameter, %d bits; unit = one %dx%dx%d product = %.3f s\n", N, N,
           PREC, N, N, N, unit);
    printf("%-16s %10s %10s %10s %10s\n", "optimizer", "step1_s", "step2_s", "step3_s",
           "max/unit");
    ref_oracle oracle = {NULL, 1, grad_at, hvp};
    mpfr_t eta;
    mpfr_init2(eta, PREC);
    mpfr_set_d(eta, 1e-3, MPFR_RNDN);
    for (size_t i = 0; i < optimizer_count(); i++) {
        const optimizer_info *info = optimizer_info_at(i);
        char buf[8][64];
        const char *use[8];
        size_t n = required_options(info, buf, use);
        ref_opt *o;
        if (ref_opt_create(&o, info->name, N, N, PREC, use, n) != OPTREF_OK) {
            printf("%-16s error: %s\n", info->name, optref_last_error());
            continue;
        }
        fill(W, 3);
        double ts[STEPS], worst = 0;
        for (int s = 0; s < STEPS; s++) {
            fill(G, 10 + (uint64_t)s);
            t0 = now();
            optref_status st = ref_opt_step(o, W, G, eta, &oracle);
            ts[s] = now() - t0;
            if (st != OPTREF_OK)
                printf("%-16s step %d: %s\n", info->name, s + 1, optref_last_error());
            if (ts[s] > worst)
                worst = ts[s];
        }
        printf("%-16s %10.3f %10.3f %10.3f %10.1f\n", info->name, ts[0], ts[1], ts[2], worst / unit);
        fflush(stdout);
        ref_opt_free(o);
    }
    mpfr_clear(eta);
    mpmat_clear(A), mpmat_clear(B), mpmat_clear(C), mpmat_clear(W), mpmat_clear(G);
    return 0;
}
