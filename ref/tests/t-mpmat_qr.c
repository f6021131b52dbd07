/* mpmat_qr: Householder QR in the canonical form R_jj >= 0.
 *
 * LAPACK-style scale-free ratios (proofs/qr-svd-residuals.md derives the
 * bounds and the threshold 10), at 53, 113, 256 and 1024 bits:
 *   ||A - Q R||_F / (max(m,n) ||A||_F 2^-p)     backward error,
 *   ||Q^T Q - I||_F / (max(m,n) 2^-p)            orthonormality,
 * the products and differences formed at 2p + 64 bits so that the test's
 * own roundings do not count. Exact properties: R upper triangular (exact
 * +0 below the diagonal), R_jj >= 0 (and +0 when zero), every zero +0;
 * the same call twice, Q alone and R alone give the same bits; aliasing;
 * exact scaling by powers of two; known exact factorisations; rank-deficient
 * inputs (zero columns, repeated columns, the zero matrix); error cases. */
#include "testlib.h"

#include <stdlib.h>

#include "factor_shapes.h"
#include "optref/mpmat.h"

#define THRESH 10.0L

/* ||A - B C||_F / (max(m,n) ||A||_F 2^-p), formed at 2 prec(B) + 64 bits. */
static long double residual_ratio(mpmat_srcptr A, mpmat_srcptr B, mpmat_srcptr C, mpfr_prec_t p)
{
    mpfr_prec_t h = 2 * (B->prec > C->prec ? B->prec : C->prec) + 64;
    mpmat_t P;
    TEST_OK(mpmat_init(P, A->rows, A->cols, h));
    TEST_OK(mpmat_mul(P, B, C));
    TEST_OK(mpmat_sub(P, A, P));
    mpfr_t scale;
    mpfr_init2(scale, 64);
    mpmat_norm_fro(scale, A);
    mpfr_mul_ui(scale, scale, test_max_sz(A->rows, A->cols), MPFR_RNDN);
    long double r = test_ratio(P, scale, p);
    mpfr_clear(scale);
    mpmat_clear(P);
    return r;
}

/* Every check on one input: ratios, exact structure, reproducibility, the
 * NULL-output variants. */
static void check_qr(mpmat_srcptr A, mpfr_prec_t p, test_worst *wres, test_worst *worth)
{
    size_t m = A->rows, n = A->cols, k = test_min_sz(m, n);
    mpmat_t Q, R, Q2, R2;
    TEST_OK(mpmat_init(Q, m, k, p));
    TEST_OK(mpmat_init(R, k, n, p));
    TEST_OK(mpmat_init(Q2, m, k, p));
    TEST_OK(mpmat_init(R2, k, n, p));
    TEST_OK(mpmat_qr(Q, R, A));

    test_worst_add(wres, residual_ratio(A, Q, R, p));
    test_worst_add(worth, test_orth_ratio(Q, test_max_sz(m, n), p));
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(mpfr_zero_p(mpmat_entry(R, i, j)), "R[%zu][%zu] of a %zux%zu QR at "
                          "%ld bits is below the diagonal but not zero", i, j, m, n, (long)p);
        mpfr_srcptr d = mpmat_entry(R, i, i);
        ck_assert_msg(mpfr_sgn(d) >= 0 && !mpfr_signbit(d), "R[%zu][%zu] < 0 (or -0) in a "
                      "%zux%zu QR at %ld bits", i, i, m, n, (long)p);
    }
    ck_assert(test_no_negative_zero(Q) && test_no_negative_zero(R));

    /* the same bits again, and with one output only */
    TEST_OK(mpmat_qr(Q2, R2, A));
    ck_assert_msg(mpmat_equal(Q, Q2) && mpmat_equal(R, R2), "QR is not reproducible");
    mpmat_zero(Q2), mpmat_zero(R2);
    TEST_OK(mpmat_qr(Q2, NULL, A));
    TEST_OK(mpmat_qr(NULL, R2, A));
    ck_assert_msg(mpmat_equal(Q, Q2) && mpmat_equal(R, R2), "QR with a NULL output differs");
    TEST_OK(mpmat_qr(NULL, NULL, A));
    mpmat_clear(Q), mpmat_clear(R), mpmat_clear(Q2), mpmat_clear(R2);
}

static void report(test_worst *a, test_worst *b)
{
    test_worst_report(a);
    test_worst_report(b);
}

START_TEST(test_qr_random)
{
    test_rng rng = {11};
    test_worst wres = {"qr random: ||A-QR||/(max(m,n)|A| u)", 0, THRESH};
    test_worst worth = {"qr random: ||Q^TQ-I||/(max(m,n) u)", 0, THRESH};
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip];
        for (size_t s = 0; s < factor_shape_count(ip); s++) {
            size_t m, n;
            factor_shape(s, &m, &n);
            for (int rep = 0; rep < 3; rep++) {
                mpmat_t A;
                TEST_OK(mpmat_init(A, m, n, p));
                test_fill_full(A, &rng);
                check_qr(A, p, &wres, &worth);
                mpmat_clear(A);
            }
        }
    }
    report(&wres, &worth);
}
END_TEST

/* Rank-deficient inputs: a zero first column, a zero middle column, a
 * repeated column, a rank-1 matrix, the zero matrix; a 1e-30 scaling. */
START_TEST(test_qr_rank_deficient)
{
    test_rng rng = {12};
    test_worst wres = {"qr rank-deficient: ||A-QR||/(..)", 0, THRESH};
    test_worst worth = {"qr rank-deficient: ||Q^TQ-I||/(..)", 0, THRESH};
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip];
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            size_t m = shapes[s][0], n = shapes[s][1];
            for (int kind = 0; kind < 6; kind++) {
                mpmat_t A;
                TEST_OK(mpmat_init(A, m, n, p));
                test_fill_full(A, &rng);
                if (kind == 0 || kind == 1) { /* zero column 0, or the middle one */
                    size_t c = kind == 0 ? 0 : n / 2;
                    for (size_t i = 0; i < m; i++)
                        mpfr_set_zero(mpmat_entry(A, i, c), 1);
                } else if (kind == 2 && n >= 2) { /* column 1 = column 0 */
                    for (size_t i = 0; i < m; i++)
                        mpfr_set(mpmat_entry(A, i, 1), mpmat_entry(A, i, 0), MPFR_RNDN);
                } else if (kind == 3) { /* rank 1: a_ij = x_i y_j exactly (x_i y_j in 2p bits) */
                    mpmat_t B;
                    TEST_OK(mpmat_init(B, m, n, 2 * p));
                    for (size_t i = 0; i < m; i++)
                        for (size_t j = 0; j < n; j++)
                            mpfr_mul(mpmat_entry(B, i, j), mpmat_entry(A, i, 0),
                                     mpmat_entry(A, 0, j), MPFR_RNDN);
                    mpmat_struct tmp = *A; /* swap A and B, then free the old A */
                    *A = *B, *B = tmp;
                    mpmat_clear(B);
                } else if (kind == 4) {
                    mpmat_zero(A);
                } else if (kind == 5) { /* 1e-30 scaling (rounded to p bits) */
                    mpfr_t c;
                    mpfr_init2(c, p);
                    mpfr_set_str(c, "1e-30", 10, MPFR_RNDN);
                    TEST_OK(mpmat_scale(A, A, c));
                    mpfr_clear(c);
                }
                check_qr(A, p, &wres, &worth);
                if (kind <= 1 || kind == 4) { /* a zero column gives R_jj = +0 exactly */
                    size_t c = kind == 0 ? 0 : n / 2;
                    mpmat_t R;
                    TEST_OK(mpmat_init(R, test_min_sz(m, n), n, p));
                    TEST_OK(mpmat_qr(NULL, R, A));
                    if (kind == 4 || c < test_min_sz(m, n))
                        ck_assert(mpfr_zero_p(mpmat_entry(R, kind == 4 ? 0 : c, kind == 4 ? 0 : c)));
                    if (kind == 4)
                        for (size_t e = 0; e < R->rows * R->cols; e++)
                            ck_assert(mpfr_zero_p(R->e + e) && !mpfr_signbit(R->e + e));
                    mpmat_clear(R);
                }
                if (kind == 4) { /* the zero matrix: Q = the first k columns of I */
                    mpmat_t Q, I;
                    TEST_OK(mpmat_init(Q, m, test_min_sz(m, n), p));
                    TEST_OK(mpmat_init(I, m, test_min_sz(m, n), p));
                    TEST_OK(mpmat_qr(Q, NULL, A));
                    mpmat_one(I);
                    ck_assert(mpmat_equal(Q, I));
                    mpmat_clear(Q), mpmat_clear(I);
                }
                mpmat_clear(A);
            }
        }
    }
    report(&wres, &worth);
}
END_TEST

/* QR(2^e A) = Q (2^e R) bit for bit: every operation commutes with exact
 * power-of-two scaling (squares scale by 2^2e, sqrt by 2^e, ratios not). */
START_TEST(test_qr_scaling_exact)
{
    test_rng rng = {13};
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip];
        for (long e = -1000; e <= 1000; e += 2000) {
            mpmat_t A, B, Q, R, Q2, R2;
            TEST_OK(mpmat_init(A, 6, 4, p));
            TEST_OK(mpmat_init(B, 6, 4, p));
            TEST_OK(mpmat_init(Q, 6, 4, p));
            TEST_OK(mpmat_init(Q2, 6, 4, p));
            TEST_OK(mpmat_init(R, 4, 4, p));
            TEST_OK(mpmat_init(R2, 4, 4, p));
            test_fill_full(A, &rng);
            for (size_t t = 0; t < 24; t++)
                mpfr_mul_2si(B->e + t, A->e + t, e, MPFR_RNDN);
            TEST_OK(mpmat_qr(Q, R, A));
            TEST_OK(mpmat_qr(Q2, R2, B));
            for (size_t t = 0; t < 16; t++)
                mpfr_mul_2si(R->e + t, R->e + t, e, MPFR_RNDN);
            ck_assert(mpmat_equal(Q, Q2) && mpmat_equal(R, R2));
            mpmat_clear(A), mpmat_clear(B), mpmat_clear(Q), mpmat_clear(Q2);
            mpmat_clear(R), mpmat_clear(R2);
        }
    }
}
END_TEST

/* Small cases known exactly: [3; 4] = [0.6; 0.8] [5]; [-2] = [-1] [2];
 * [0 0; 0 -3] = I diag(0, 3) with row 2 negated: Q = diag(1, -1). */
START_TEST(test_qr_exact_cases)
{
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip];
        mpmat_t A, Q, R;
        mpfr_t x;
        mpfr_init2(x, p);
        TEST_OK(mpmat_init(A, 2, 1, 53));
        TEST_OK(mpmat_init(Q, 2, 1, p));
        TEST_OK(mpmat_init(R, 1, 1, p));
        mpfr_set_si(A->e, 3, MPFR_RNDN), mpfr_set_si(A->e + 1, 4, MPFR_RNDN);
        TEST_OK(mpmat_qr(Q, R, A));
        ck_assert(mpfr_cmp_ui(R->e, 5) == 0);
        mpfr_set_str(x, "0.6", 10, MPFR_RNDN);
        ck_assert(mpfr_equal_p(Q->e, x));
        mpfr_set_str(x, "0.8", 10, MPFR_RNDN);
        ck_assert(mpfr_equal_p(Q->e + 1, x));
        TEST_OK(mpmat_resize(A, 1, 1));
        TEST_OK(mpmat_resize(Q, 1, 1));
        mpfr_set_si(A->e, -2, MPFR_RNDN);
        TEST_OK(mpmat_qr(Q, R, A));
        ck_assert(mpfr_cmp_si(Q->e, -1) == 0 && mpfr_cmp_ui(R->e, 2) == 0);
        TEST_OK(mpmat_resize(A, 2, 2));
        TEST_OK(mpmat_resize(Q, 2, 2));
        TEST_OK(mpmat_resize(R, 2, 2));
        mpfr_set_si(mpmat_entry(A, 1, 1), -3, MPFR_RNDN);
        TEST_OK(mpmat_qr(Q, R, A));
        ck_assert(mpfr_cmp_ui(mpmat_entry(Q, 0, 0), 1) == 0 && mpfr_cmp_si(mpmat_entry(Q, 1, 1), -1) == 0);
        ck_assert(mpfr_zero_p(mpmat_entry(Q, 0, 1)) && mpfr_zero_p(mpmat_entry(Q, 1, 0)));
        ck_assert(mpfr_zero_p(mpmat_entry(R, 0, 0)) && mpfr_cmp_ui(mpmat_entry(R, 1, 1), 3) == 0);
        mpmat_clear(A), mpmat_clear(Q), mpmat_clear(R);
        mpfr_clear(x);
    }
}
END_TEST

/* Q = A (tall or square) and R = A (wide or square) give the same bits;
 * outputs of different precisions keep their ratios at their own precision. */
START_TEST(test_qr_aliasing_and_mixed_precision)
{
    test_rng rng = {14};
    const size_t sh[][2] = {{7, 4}, {5, 5}, {4, 7}};
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip];
        for (int s = 0; s < 3; s++) {
            size_t m = sh[s][0], n = sh[s][1], k = test_min_sz(m, n);
            mpmat_t A, B, Q, R;
            TEST_OK(mpmat_init(A, m, n, p));
            TEST_OK(mpmat_init(B, m, n, p));
            TEST_OK(mpmat_init(Q, m, k, p));
            TEST_OK(mpmat_init(R, k, n, p));
            test_fill_full(A, &rng);
            TEST_OK(mpmat_qr(Q, R, A));
            if (m >= n) { /* Q aliases A */
                TEST_OK(mpmat_set(B, A));
                mpmat_t R2;
                TEST_OK(mpmat_init(R2, k, n, p));
                TEST_OK(mpmat_qr(B, R2, B));
                ck_assert(mpmat_equal(B, Q) && mpmat_equal(R2, R));
                mpmat_clear(R2);
            }
            if (m <= n) { /* R aliases A */
                TEST_OK(mpmat_set(B, A));
                mpmat_t Q2;
                TEST_OK(mpmat_init(Q2, m, k, p));
                TEST_OK(mpmat_qr(Q2, B, B));
                ck_assert(mpmat_equal(B, R) && mpmat_equal(Q2, Q));
                mpmat_clear(Q2);
            }
            mpmat_clear(Q), mpmat_clear(R);
            /* Q at p, R at 53 bits (or the reverse at 53) */
            mpfr_prec_t pq = p, pr = p == 53 ? 113 : 53;
            TEST_OK(mpmat_init(Q, m, k, pq));
            TEST_OK(mpmat_init(R, k, n, pr));
            TEST_OK(mpmat_qr(Q, R, A));
            test_worst wres = {"qr mixed precision: residual", 0, THRESH};
            test_worst worth = {"qr mixed precision: orthogonality", 0, THRESH};
            test_worst_add(&wres, residual_ratio(A, Q, R, pq < pr ? pq : pr));
            test_worst_add(&worth, test_orth_ratio(Q, test_max_sz(m, n), pq));
            mpmat_clear(A), mpmat_clear(B), mpmat_clear(Q), mpmat_clear(R);
        }
    }
}
END_TEST

START_TEST(test_qr_errors)
{
    mpmat_t A, Q, R, Qbad, Rbad;
    TEST_OK(mpmat_init(A, 3, 2, 53));
    TEST_OK(mpmat_init(Q, 3, 2, 53));
    TEST_OK(mpmat_init(R, 2, 2, 53));
    TEST_OK(mpmat_init(Qbad, 3, 3, 53));
    TEST_OK(mpmat_init(Rbad, 3, 2, 53));
    test_rng rng = {15};
    test_fill_full(A, &rng);
    ck_assert_int_eq(mpmat_qr(Qbad, R, A), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_qr(Q, Rbad, A), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_qr(NULL, Rbad, A), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_qr(R, R, R), OPTREF_EINVAL); /* Q and R the same matrix */
    /* NaN and Inf: an error, and the outputs are left untouched */
    mpfr_set_ui(Q->e, 7, MPFR_RNDN);
    mpfr_set_nan(mpmat_entry(A, 2, 1));
    ck_assert_int_eq(mpmat_qr(Q, R, A), OPTREF_ENONFINITE);
    ck_assert(mpfr_cmp_ui(Q->e, 7) == 0);
    mpfr_set_inf(mpmat_entry(A, 2, 1), -1);
    ck_assert_int_eq(mpmat_qr(NULL, R, A), OPTREF_ENONFINITE);
    ck_assert_int_eq(mpmat_qr(NULL, NULL, A), OPTREF_ENONFINITE);
    /* empty matrices are fine */
    mpmat_t E, QE, RE;
    TEST_OK(mpmat_init(E, 3, 0, 53));
    TEST_OK(mpmat_init(QE, 3, 0, 53));
    TEST_OK(mpmat_init(RE, 0, 0, 53));
    TEST_OK(mpmat_qr(QE, RE, E));
    mpmat_clear(A), mpmat_clear(Q), mpmat_clear(R), mpmat_clear(Qbad), mpmat_clear(Rbad);
    mpmat_clear(E), mpmat_clear(QE), mpmat_clear(RE);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("mpmat_qr");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_qr_random);
    tcase_add_test(tc, test_qr_rank_deficient);
    tcase_add_test(tc, test_qr_scaling_exact);
    tcase_add_test(tc, test_qr_exact_cases);
    tcase_add_test(tc, test_qr_aliasing_and_mixed_precision);
    tcase_add_test(tc, test_qr_errors);
    suite_add_tcase(s, tc);
    return s;
}
