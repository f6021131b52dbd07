#include "testlib.h"

#include <stdio.h>

const mpfr_prec_t test_precisions[4] = {53, 113, 256, 1024};

uint64_t test_rng_next(test_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t test_rng_below(test_rng *r, uint64_t n)
{
    return test_rng_next(r) % n; /* the bias is irrelevant for test data */
}

void test_fill_uniform(mpmat_ptr A, test_rng *r)
{
    for (size_t k = 0; k < A->rows * A->cols; k++) {
        uint64_t v = test_rng_next(r) >> 11; /* 53 bits */
        mpfr_set_uj(A->e + k, v, MPFR_RNDN);
        mpfr_mul_2si(A->e + k, A->e + k, -52, MPFR_RNDN); /* [0, 2) */
        mpfr_sub_ui(A->e + k, A->e + k, 1, MPFR_RNDN);     /* [-1, 1) */
    }
}

long double test_ratio(mpmat_srcptr R, mpfr_srcptr scale, mpfr_prec_t prec)
{
    mpfr_t n, s;
    mpfr_inits2(64, n, s, (mpfr_ptr)0);
    mpmat_norm_fro(n, R);
    mpfr_mul_2si(s, scale, -(long)prec, MPFR_RNDN);
    long double ratio;
    if (mpfr_zero_p(s))
        ratio = mpfr_zero_p(n) ? 0.0L : 1e300L;
    else {
        mpfr_div(n, n, s, MPFR_RNDN);
        ratio = mpfr_get_ld(n, MPFR_RNDN);
    }
    mpfr_clears(n, s, (mpfr_ptr)0);
    return ratio;
}

void test_worst_add(test_worst *w, long double ratio)
{
    if (ratio > w->worst)
        w->worst = ratio;
    ck_assert_msg(ratio < w->threshold, "%s: ratio %.3Lg >= threshold %.3Lg", w->name, ratio,
                  w->threshold);
}

void test_worst_report(const test_worst *w)
{
    printf("  %-40s worst ratio %8.3Lg (threshold %.3Lg)\n", w->name, w->worst, w->threshold);
    fflush(stdout);
}
