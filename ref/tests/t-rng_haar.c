/* rng_haar (spec/problems.md 1; Mezzadri 2007):
 *  - orthogonality at 53, 113, 256 and 1024 bits: ||Q^T Q - I||_F / (n 2^-p)
 *    below 10, with Q^T Q formed at 2p + 64 bits so that the check adds no
 *    rounding of its own at the scale measured;
 *  - Q is the sign-corrected QR factor of the drawn matrix: with G drawn by
 *    rng_fill_normal from an identical stream, Q^T G is upper triangular
 *    (strict lower part ||.||_F / (n ||G||_F 2^-p) below 10) with a positive
 *    diagonal, and rng_haar consumed exactly the words of G;
 *  - determinism: the same seed gives the same bits;
 *  - distribution (n = 3, 2000 draws at 53 bits): E Q_11 = 0 (var 1/3),
 *    E Q_11^2 = 1/3 (var 3/15 - 1/9 = 4/45: Q's first column is uniform on the
 *    sphere, E x_1^4 = 3 / (n (n + 2))), E tr Q = 0 (var E (tr Q)^2 = 1), each
 *    within 5 standard errors, and det Q = +1 in Binomial(2000, 1/2) draws,
 *    within 5 sd (111.8) of 1000. A QR without the sign step (LAPACK's
 *    Householder gives R_11 = -sign(G_11) ||g_1||, so Q_11 = -|Q_11|, mean
 *    -1/2) fails the first check by ~39 standard errors.
 * The thresholds are derived in proofs/rng-normal-rounding.md, section 4. */
#include "testlib.h"

#include <stdio.h>

#include "optref/rng.h"

#define ORTHO_THRESHOLD 10.0L

START_TEST(test_orthogonality)
{
    static const size_t ns[] = {1, 2, 3, 5, 8, 12};
    test_worst worst_orth = {"Q^T Q - I / (n 2^-p)", 0, ORTHO_THRESHOLD};
    test_worst worst_tri = {"tril(Q^T G) / (n ||G|| 2^-p)", 0, ORTHO_THRESHOLD};
    for (int p = 0; p < 4; p++) {
        mpfr_prec_t prec = test_precisions[p], wide = 2 * prec + 64;
        for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++) {
            size_t n = ns[in];
            for (uint32_t rep = 0; rep < 3; rep++) {
                mpmat_t Q, G, C, I;
                TEST_OK(mpmat_init(Q, n, n, prec));
                TEST_OK(mpmat_init(G, n, n, prec));
                TEST_OK(mpmat_init(C, n, n, wide));
                TEST_OK(mpmat_init(I, n, n, wide));
                rng_stream s, g;
                rng_stream_init(&s, 1000 + rep, RNG_STREAM_HESSIAN, (uint32_t)n);
                rng_stream_init(&g, 1000 + rep, RNG_STREAM_HESSIAN, (uint32_t)n);
                TEST_OK(rng_haar(Q, &s));
                rng_fill_normal(G, &g);
                ck_assert_msg(rng_next_u32(&s) == rng_next_u32(&g),
                              "rng_haar did not consume exactly the words of G");

                mpfr_t scale, gn;
                mpfr_inits2(64, scale, gn, (mpfr_ptr)0);
                mpfr_set_ui(scale, (unsigned long)n, MPFR_RNDN);
                /* ||Q^T Q - I||_F / (n 2^-p) */
                TEST_OK(mpmat_mul_tn(C, Q, Q));
                mpmat_one(I);
                TEST_OK(mpmat_sub(C, C, I));
                test_worst_add(&worst_orth, test_ratio(C, scale, prec));

                /* Q^T G: strict lower part tiny, diagonal positive */
                TEST_OK(mpmat_mul_tn(C, Q, G));
                for (size_t j = 0; j < n; j++) {
                    ck_assert_msg(mpfr_sgn(mpmat_entry(C, j, j)) > 0,
                                  "(Q^T G)_%zu%zu <= 0 (n=%zu, %ld bits)", j, j, n, (long)prec);
                    for (size_t i = 0; i <= j; i++)
                        mpfr_set_zero(mpmat_entry(C, i, j), 1);
                }
                mpmat_norm_fro(gn, G);
                mpfr_mul(scale, scale, gn, MPFR_RNDN);
                test_worst_add(&worst_tri, test_ratio(C, scale, prec));

                mpfr_clears(scale, gn, (mpfr_ptr)0);
                mpmat_clear(Q), mpmat_clear(G), mpmat_clear(C), mpmat_clear(I);
            }
        }
    }
    test_worst_report(&worst_orth);
    test_worst_report(&worst_tri);
}
END_TEST

START_TEST(test_determinism)
{
    for (int p = 0; p < 4; p++) {
        mpmat_t A, B;
        TEST_OK(mpmat_init(A, 6, 6, test_precisions[p]));
        TEST_OK(mpmat_init(B, 6, 6, test_precisions[p]));
        rng_stream s, t;
        rng_stream_init(&s, 1234, RNG_STREAM_ORTHOADAM, 1);
        rng_stream_init(&t, 1234, RNG_STREAM_ORTHOADAM, 1);
        TEST_OK(rng_haar(A, &s));
        TEST_OK(rng_haar(B, &t));
        ck_assert(mpmat_equal(A, B));
        /* the next draw from the same stream is a different matrix */
        TEST_OK(rng_haar(B, &t));
        ck_assert(!mpmat_equal(A, B));
        mpmat_clear(A), mpmat_clear(B);
    }
}
END_TEST

/* |sum / N - mu| < 5 sqrt(var / N) with mu = mu_num / mu_den and var =
 * var_num / var_den; prints the standardised deviation. */
static void check_mean(const char *name, mpfr_srcptr sum, long n, long mu_num, long mu_den,
                       long var_num, long var_den)
{
    mpfr_t m, t, se;
    mpfr_inits2(128, m, t, se, (mpfr_ptr)0);
    mpfr_div_si(m, sum, n, MPFR_RNDN);
    mpfr_set_si(t, mu_num, MPFR_RNDN);
    mpfr_div_si(t, t, mu_den, MPFR_RNDN);
    mpfr_sub(m, m, t, MPFR_RNDN);
    mpfr_set_si(se, var_num, MPFR_RNDN);
    mpfr_div_si(se, se, var_den, MPFR_RNDN);
    mpfr_div_si(se, se, n, MPFR_RNDN);
    mpfr_sqrt(se, se, MPFR_RNDN);
    mpfr_div(m, m, se, MPFR_RNDN);
    mpfr_printf("  %-10s (mean - %ld/%ld) / se = %+.3Rf  (|.| < 5)\n", name, mu_num, mu_den, m);
    ck_assert_msg(mpfr_cmpabs_ui(m, 5) < 0, "%s outside 5 standard errors", name);
    mpfr_clears(m, t, se, (mpfr_ptr)0);
}

START_TEST(test_distribution)
{
    const long draws = 2000;
    mpmat_t Q;
    TEST_OK(mpmat_init(Q, 3, 3, 53));
    mpfr_t s1, s2, tr, t, d, c;
    mpfr_inits2(256, s1, s2, tr, t, d, c, (mpfr_ptr)0);
    mpfr_set_zero(s1, 1), mpfr_set_zero(s2, 1), mpfr_set_zero(tr, 1);
    long positive_det = 0;
    for (long k = 0; k < draws; k++) {
        rng_stream s;
        rng_stream_init(&s, 5000 + (uint64_t)k, RNG_STREAM_HESSIAN, 0);
        TEST_OK(rng_haar(Q, &s));
        mpfr_srcptr q11 = mpmat_entry(Q, 0, 0);
        mpfr_add(s1, s1, q11, MPFR_RNDN);
        mpfr_sqr(t, q11, MPFR_RNDN);
        mpfr_add(s2, s2, t, MPFR_RNDN);
        for (size_t i = 0; i < 3; i++)
            mpfr_add(tr, tr, mpmat_entry(Q, i, i), MPFR_RNDN);
        /* det by cofactors along the first row (exact enough: |det| = 1) */
        mpfr_set_zero(d, 1);
        for (size_t j = 0; j < 3; j++) {
            size_t a = (j + 1) % 3, b = (j + 2) % 3;
            mpfr_mul(t, mpmat_entry(Q, 1, a), mpmat_entry(Q, 2, b), MPFR_RNDN);
            mpfr_mul(c, mpmat_entry(Q, 1, b), mpmat_entry(Q, 2, a), MPFR_RNDN);
            mpfr_sub(t, t, c, MPFR_RNDN);
            mpfr_mul(t, t, mpmat_entry(Q, 0, j), MPFR_RNDN);
            mpfr_add(d, d, t, MPFR_RNDN);
        }
        mpfr_abs(t, d, MPFR_RNDN);
        mpfr_sub_ui(t, t, 1, MPFR_RNDN);
        ck_assert(mpfr_get_exp(t) < -40 || mpfr_zero_p(t)); /* |det| = 1 to ~2^-50 */
        positive_det += mpfr_sgn(d) > 0;
    }
    check_mean("Q_11", s1, draws, 0, 1, 1, 3);
    check_mean("Q_11^2", s2, draws, 1, 3, 4, 45);
    check_mean("tr Q", tr, draws, 0, 1, 1, 1);
    printf("  det Q = +1 in %ld of %ld draws (5 sd: [889, 1111])\n", positive_det, draws);
    ck_assert(positive_det >= 889 && positive_det <= 1111);
    mpfr_clears(s1, s2, tr, t, d, c, (mpfr_ptr)0);
    mpmat_clear(Q);
}
END_TEST

START_TEST(test_shapes)
{
    mpmat_t Q;
    rng_stream s;
    rng_stream_init(&s, 1, RNG_STREAM_FREE, 0);
    TEST_OK(mpmat_init(Q, 2, 3, 53));
    ck_assert_int_eq(rng_haar(Q, &s), OPTREF_ESHAPE);
    mpmat_clear(Q);
    TEST_OK(mpmat_init(Q, 0, 0, 53));
    TEST_OK(rng_haar(Q, &s));
    mpmat_clear(Q);
    /* n = 1: Q = sign(G_11) (R_11 = |G_11|), to within a few ulps */
    mpmat_t G;
    TEST_OK(mpmat_init(Q, 1, 1, 53));
    TEST_OK(mpmat_init(G, 1, 1, 53));
    rng_stream g = s;
    rng_fill_normal(G, &g);
    TEST_OK(rng_haar(Q, &s));
    ck_assert_int_eq(mpfr_sgn(Q->e), mpfr_sgn(G->e));
    mpfr_t t;
    mpfr_init2(t, 64);
    mpfr_abs(t, Q->e, MPFR_RNDN);
    mpfr_sub_ui(t, t, 1, MPFR_RNDN);
    ck_assert(mpfr_zero_p(t) || mpfr_get_exp(t) <= -50); /* | |Q_11| - 1 | < 2^-50 */
    mpfr_clear(t);
    mpmat_clear(Q), mpmat_clear(G);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("rng_haar");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_orthogonality);
    tcase_add_test(tc, test_determinism);
    tcase_add_test(tc, test_distribution);
    tcase_add_test(tc, test_shapes);
    suite_add_tcase(s, tc);
    return s;
}
