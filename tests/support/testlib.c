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
    mpfr_t n;
    mpfr_init2(n, 64);
    mpmat_norm_fro(n, R);
    long double ratio = test_scalar_ratio(n, scale, prec);
    mpfr_clear(n);
    return ratio;
}

long double test_scalar_ratio(mpfr_srcptr num, mpfr_srcptr scale, mpfr_prec_t prec)
{
    mpfr_t s, r;
    mpfr_inits2(64, s, r, (mpfr_ptr)0);
    mpfr_mul_2si(s, scale, -(long)prec, MPFR_RNDN);
    long double ratio;
    if (mpfr_zero_p(s))
        ratio = mpfr_zero_p(num) ? 0.0L : 1e300L;
    else {
        mpfr_div(r, num, s, MPFR_RNDN);
        ratio = mpfr_get_ld(r, MPFR_RNDN);
    }
    mpfr_clears(s, r, (mpfr_ptr)0);
    return ratio;
}

long double test_relative_ratio(mpfr_srcptr num, mpfr_srcptr den, mpfr_prec_t prec)
{
    mpfr_t r;
    mpfr_init2(r, 64);
    mpfr_div(r, num, den, MPFR_RNDN);
    mpfr_mul_2si(r, r, (long)prec, MPFR_RNDN);
    mpfr_abs(r, r, MPFR_RNDN);
    long double v = mpfr_nan_p(r) ? 1e300L : mpfr_get_ld(r, MPFR_RNDN);
    mpfr_clear(r);
    return v;
}

long double test_diff_ratio(mpmat_srcptr A, mpmat_srcptr B, mpfr_srcptr scale, mpfr_prec_t h,
                            mpfr_prec_t prec)
{
    mpmat_t R;
    TEST_OK(mpmat_init(R, A->rows, A->cols, h));
    TEST_OK(mpmat_sub(R, A, B));
    long double r = test_ratio(R, scale, prec);
    mpmat_clear(R);
    return r;
}

long double test_orth_ratio(mpmat_srcptr Q, size_t dim, mpfr_prec_t prec)
{
    mpmat_t G, I;
    TEST_OK(mpmat_init(G, Q->cols, Q->cols, 2 * Q->prec + 64));
    TEST_OK(mpmat_init(I, Q->cols, Q->cols, 2 * Q->prec + 64));
    TEST_OK(mpmat_mul_tn(G, Q, Q));
    mpmat_one(I);
    TEST_OK(mpmat_sub(G, G, I));
    mpfr_t scale;
    mpfr_init2(scale, 64);
    mpfr_set_ui(scale, dim, MPFR_RNDN);
    long double r = test_ratio(G, scale, prec);
    mpfr_clear(scale);
    mpmat_clear(G), mpmat_clear(I);
    return r;
}

void test_fill_full(mpmat_ptr A, test_rng *r)
{
    mpfr_t t;
    mpfr_init2(t, A->prec);
    for (size_t e = 0; e < A->rows * A->cols; e++) {
        mpfr_ptr x = A->e + e;
        mpfr_set_zero(x, 1);
        for (long c = 0; c * 53 < (long)A->prec; c++) {
            mpfr_set_uj(t, test_rng_next(r) >> 11, MPFR_RNDN);
            mpfr_mul_2si(t, t, -53 * (c + 1), MPFR_RNDN);
            mpfr_add(x, x, t, MPFR_RNDN);
        }
        mpfr_mul_2ui(x, x, 1, MPFR_RNDN);
        mpfr_sub_ui(x, x, 1, MPFR_RNDN);
    }
    mpfr_clear(t);
}

void test_set_ints(mpmat_ptr A, const long *v)
{
    for (size_t k = 0; k < A->rows * A->cols; k++)
        mpfr_set_si(A->e + k, v[k], MPFR_RNDN);
}

void test_columns(mpmat_ptr C, mpmat_srcptr V, size_t c0, size_t c1, mpfr_prec_t prec)
{
    TEST_OK(mpmat_init(C, V->rows, c1 - c0, prec));
    for (size_t i = 0; i < V->rows; i++)
        for (size_t j = c0; j < c1; j++)
            mpfr_set(mpmat_entry(C, i, j - c0), mpmat_entry(V, i, j), MPFR_RNDN);
}

void test_random_orthogonal(mpmat_ptr Q, test_rng *r)
{
    size_t n = Q->rows;
    mpfr_t c;
    mpfr_init2(c, Q->prec);
    for (int ok = 0; !ok;) {
        test_fill_uniform(Q, r);
        ok = 1;
        for (size_t i = 0; i < n && ok; i++) {
            mpfr_ptr x = mpmat_entry(Q, i, 0);
            for (int pass = 0; pass < 2; pass++)
                for (size_t j = 0; j < i; j++) {
                    mpfr_ptr q = mpmat_entry(Q, j, 0);
                    mpfr_set_zero(c, 1);
                    for (size_t k = 0; k < n; k++)
                        mpfr_fma(c, q + k, x + k, c, MPFR_RNDN);
                    mpfr_neg(c, c, MPFR_RNDN);
                    for (size_t k = 0; k < n; k++)
                        mpfr_fma(x + k, c, q + k, x + k, MPFR_RNDN);
                }
            mpfr_set_zero(c, 1);
            for (size_t k = 0; k < n; k++)
                mpfr_fma(c, x + k, x + k, c, MPFR_RNDN);
            ok = mpfr_cmp_ui_2exp(c, 1, -20) >= 0; /* else a nearly dependent draw */
            mpfr_sqrt(c, c, MPFR_RNDN);
            for (size_t k = 0; ok && k < n; k++)
                mpfr_div(x + k, x + k, c, MPFR_RNDN);
        }
    }
    mpfr_clear(c);
}

void test_random_orthogonal_qr(mpmat_ptr Q, size_t n, mpfr_prec_t h, test_rng *r)
{
    mpmat_t Z;
    TEST_OK(mpmat_init(Z, n, n, h));
    TEST_OK(mpmat_init(Q, n, n, h));
    test_fill_full(Z, r);
    TEST_OK(mpmat_qr(Q, NULL, Z));
    mpmat_clear(Z);
}

void test_plant_symmetric(mpmat_ptr A, mpmat_srcptr Q, mpmat_srcptr lam)
{
    size_t n = Q->rows;
    mpmat_t W;
    TEST_OK(mpmat_init(W, n, n, Q->prec + lam->prec));
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n; k++)
            mpfr_mul(mpmat_entry(W, i, k), mpmat_entry(Q, i, k), mpmat_entry(lam, k, 0),
                     MPFR_RNDN);
    TEST_OK(mpmat_mul_nt(A, W, Q));
    mpmat_clear(W);
}

void test_adam_moments(mpfr_ptr m, mpfr_ptr v, mpfr_srcptr g, mpfr_srcptr beta1,
                       mpfr_srcptr beta2, mpfr_ptr tmp)
{
    mpfr_ui_sub(tmp, 1, beta1, MPFR_RNDN);
    mpfr_mul(tmp, tmp, g, MPFR_RNDN);
    mpfr_mul(m, m, beta1, MPFR_RNDN);
    mpfr_add(m, m, tmp, MPFR_RNDN);
    mpfr_ui_sub(tmp, 1, beta2, MPFR_RNDN);
    mpfr_mul(tmp, tmp, g, MPFR_RNDN);
    mpfr_mul(tmp, tmp, g, MPFR_RNDN);
    mpfr_mul(v, v, beta2, MPFR_RNDN);
    mpfr_add(v, v, tmp, MPFR_RNDN);
}

int test_no_negative_zero(mpmat_srcptr M)
{
    for (size_t k = 0; k < M->rows * M->cols; k++)
        if (mpfr_zero_p(M->e + k) && mpfr_signbit(M->e + k))
            return 0;
    return 1;
}

int test_column_is_sign_canonical(mpmat_srcptr V, size_t j)
{
    size_t best = 0;
    for (size_t i = 1; i < V->rows; i++)
        if (mpfr_cmpabs(mpmat_entry(V, i, j), mpmat_entry(V, best, j)) > 0)
            best = i;
    return mpfr_sgn(mpmat_entry(V, best, j)) > 0;
}

int test_same_values(mpmat_srcptr A, mpmat_srcptr B)
{
    if (A->rows != B->rows || A->cols != B->cols)
        return 0;
    for (size_t k = 0; k < A->rows * A->cols; k++)
        if (!mpfr_equal_p(A->e + k, B->e + k))
            return 0;
    return 1;
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
