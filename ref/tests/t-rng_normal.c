/* rng_normal_pair_b64 and rng_fill_normal (spec/problems.md 1):
 *  - every value is the correctly rounded binary64 of the exact Box-Muller
 *    deviate: compared bit for bit with an independent 2000-bit evaluation
 *    (mpfr_const_pi and mpfr_cos / mpfr_sin, not the cosu / sinu of the code
 *    under test), rounded once to 53 bits after mpfr_can_round confirms that
 *    rounding; for random pairs and for the edge cases (u1 = 1, u1 = 2^-53,
 *    angles 0, pi/4, pi/2, pi, 3 pi/2 and their neighbours). Exact zeros are +0;
 *  - the value does not depend on the output precision (53 ... 1024 bits);
 *  - rng_fill_normal is row-major, z0 then z1, an odd count discards the last
 *    z1 but still consumes its pair's four words;
 *  - moments of 20000 deviates: mean, E z^2, E z^3, E z^4, E z0 z1 and the
 *    frequency of |z| > 3, each within 5 standard errors of its exact value
 *    (derivation in proofs/rng-normal-rounding.md, section 4).
 * No binary64 arithmetic: all statistics are computed in MPFR. */
#include "testlib.h"

#include <stdio.h>

#include "optref/rng.h"

#define TWO53 ((uint64_t)1 << 53)
#define ORACLE_PREC 2000

/* The exact deviate at ORACLE_PREC bits, rounded to 53 bits in e. Returns 0
 * if the 2000-bit value is below 2^-500 in magnitude: it is then an exact
 * zero (nonzero deviates exceed 2^-80, proofs note section 2) and e = +0. */
static void oracle(mpfr_ptr e, uint64_t k1, uint64_t k2, int which)
{
    mpfr_t r, a, t;
    mpfr_inits2(ORACLE_PREC, r, a, t, (mpfr_ptr)0);
    mpfr_set_uj(r, TWO53 - k1, MPFR_RNDN);
    mpfr_mul_2si(r, r, -53, MPFR_RNDN);
    mpfr_log(r, r, MPFR_RNDN);
    mpfr_mul_si(r, r, -2, MPFR_RNDN);
    mpfr_sqrt(r, r, MPFR_RNDN);
    mpfr_const_pi(a, MPFR_RNDN);
    mpfr_set_uj(t, k2, MPFR_RNDN); /* exact */
    mpfr_mul(a, a, t, MPFR_RNDN);
    mpfr_mul_2si(a, a, 1 - 53, MPFR_RNDN); /* 2 pi k2 / 2^53 */
    if (which == 0)
        mpfr_cos(t, a, MPFR_RNDN);
    else
        mpfr_sin(t, a, MPFR_RNDN);
    mpfr_mul(t, t, r, MPFR_RNDN);
    if (mpfr_zero_p(t) || mpfr_get_exp(t) < -500) {
        mpfr_set_zero(e, 1);
    } else {
        /* relative error below 2^-1940 even where cos or sin is ~2^-51, so
         * 2^(EXP - 1900) bounds the error */
        ck_assert_msg(mpfr_can_round(t, 1900, MPFR_RNDN, MPFR_RNDZ, 54),
                      "oracle cannot round k1=%lu k2=%lu", (unsigned long)k1, (unsigned long)k2);
        mpfr_set(e, t, MPFR_RNDN);
    }
    mpfr_clears(r, a, t, (mpfr_ptr)0);
}

/* rng_normal_pair_b64(k1, k2) into outputs of out_prec bits against the oracle;
 * counts the exact zeros. */
static void check_pair(uint64_t k1, uint64_t k2, mpfr_prec_t out_prec, long *zeros)
{
    mpfr_t z0, z1, e;
    mpfr_init2(z0, out_prec), mpfr_init2(z1, out_prec), mpfr_init2(e, 53);
    rng_normal_pair_b64(z0, z1, k1, k2);
    for (int which = 0; which < 2; which++) {
        mpfr_srcptr z = which == 0 ? z0 : z1;
        oracle(e, k1, k2, which);
        ck_assert_msg(mpfr_equal_p(z, e) || (mpfr_zero_p(z) && mpfr_zero_p(e)),
                      "z%d(k1=%lu, k2=%lu) at %ld bits is not the correctly rounded value", which,
                      (unsigned long)k1, (unsigned long)k2, (long)out_prec);
        ck_assert_msg(mpfr_min_prec(z) <= 53, "z%d is not a binary64 value", which);
        if (mpfr_zero_p(e)) {
            ck_assert_msg(mpfr_zero_p(z) && !mpfr_signbit(z), "z%d(k1=%lu, k2=%lu) should be +0",
                          which, (unsigned long)k1, (unsigned long)k2);
            ++*zeros;
        }
    }
    mpfr_clears(z0, z1, e, (mpfr_ptr)0);
}

START_TEST(test_edge_cases)
{
    static const uint64_t k1s[] = {0, 1, 2, 3, TWO53 / 2, TWO53 - 2, TWO53 - 1};
    static const uint64_t k2s[] = {0, 1, 2, TWO53 / 8, TWO53 / 4 - 1, TWO53 / 4, TWO53 / 4 + 1,
                                   TWO53 / 2 - 1, TWO53 / 2, TWO53 / 2 + 1, 3 * (TWO53 / 4) - 1,
                                   3 * (TWO53 / 4), 3 * (TWO53 / 4) + 1, TWO53 - 1};
    long zeros = 0;
    for (size_t a = 0; a < sizeof k1s / sizeof k1s[0]; a++)
        for (size_t b = 0; b < sizeof k2s / sizeof k2s[0]; b++)
            for (int p = 0; p < 4; p++)
                check_pair(k1s[a], k2s[b], test_precisions[p], &zeros);
    /* k1 = 0 gives 2 zeros for each of the 14 angles; each other k1 gives one
     * zero at each of the 4 angles 0, pi/2, pi, 3 pi/2: (28 + 6 * 4) * 4 precisions */
    ck_assert_int_eq(zeros, (28 + 6 * 4) * 4);

    /* the largest deviate: u1 = 2^-53, z0 = sqrt(106 ln 2) = 8.5717... */
    mpfr_t z0, z1;
    mpfr_inits2(53, z0, z1, (mpfr_ptr)0);
    rng_normal_pair_b64(z0, z1, TWO53 - 1, 0);
    ck_assert(mpfr_cmp_ui(z0, 8) > 0 && mpfr_cmp_ui(z0, 9) < 0);
    rng_normal_pair_b64(z0, z1, TWO53 - 1, TWO53 / 2);
    ck_assert(mpfr_cmp_si(z0, -8) < 0 && mpfr_cmp_si(z0, -9) > 0);
    mpfr_clears(z0, z1, (mpfr_ptr)0);
}
END_TEST

START_TEST(test_random_pairs)
{
    test_rng rng = {77};
    long zeros = 0;
    for (int i = 0; i < 6000; i++) {
        uint64_t k1 = test_rng_next(&rng) >> 11, k2 = test_rng_next(&rng) >> 11;
        /* small k1 (z near 0) and large k1 (the tail) are over-represented */
        if (i % 5 == 1)
            k1 >>= test_rng_below(&rng, 53);
        else if (i % 5 == 2)
            k1 = TWO53 - 1 - (k1 >> test_rng_below(&rng, 53));
        check_pair(k1, k2, test_precisions[i % 4], &zeros);
    }
    /* and pairs straight from a project stream */
    rng_stream s;
    rng_stream_init(&s, 1234, RNG_STREAM_X0, 0);
    for (int i = 0; i < 2000; i++) {
        uint64_t k1 = rng_next_u53(&s);
        uint64_t k2 = rng_next_u53(&s);
        check_pair(k1, k2, 53, &zeros);
    }
    /* zeros only where a shifted k1 became 0 (u1 = 1) */
    printf("  %d pairs correctly rounded (%ld exact zeros)\n", 8000, zeros);
}
END_TEST

START_TEST(test_fill_order)
{
    static const size_t shapes[][2] = {{3, 3}, {2, 4}, {1, 1}, {1, 7}, {0, 5}};
    for (size_t sh = 0; sh < 5; sh++) {
        size_t m = shapes[sh][0], n = shapes[sh][1], count = m * n;
        for (int p = 0; p < 4; p++) {
            mpmat_t A;
            TEST_OK(mpmat_init(A, m, n, test_precisions[p]));
            rng_stream s, raw;
            rng_stream_init(&s, 31, RNG_STREAM_B, 4);
            rng_stream_init(&raw, 31, RNG_STREAM_B, 4);
            rng_fill_normal(A, &s);
            mpfr_t z0, z1;
            mpfr_inits2(53, z0, z1, (mpfr_ptr)0);
            for (size_t k = 0; k < count; k += 2) {
                uint64_t k1 = rng_next_u53(&raw);
                uint64_t k2 = rng_next_u53(&raw);
                rng_normal_pair_b64(z0, z1, k1, k2);
                ck_assert(mpfr_equal_p(A->e + k, z0));
                if (k + 1 < count)
                    ck_assert(mpfr_equal_p(A->e + k + 1, z1));
            }
            /* both streams now at word 4 ceil(count / 2) */
            ck_assert(rng_next_u32(&s) == rng_next_u32(&raw));
            mpfr_clears(z0, z1, (mpfr_ptr)0);
            mpmat_clear(A);
        }
    }
}
END_TEST

/* |x - mu| < 5 sqrt(var / N), all in MPFR; prints the standardised error. */
static void check_moment(const char *name, mpfr_srcptr sum, long n, long mu, long var)
{
    mpfr_t m, se;
    mpfr_inits2(128, m, se, (mpfr_ptr)0);
    mpfr_div_si(m, sum, n, MPFR_RNDN);
    mpfr_sub_si(m, m, mu, MPFR_RNDN);
    mpfr_set_si(se, var, MPFR_RNDN);
    mpfr_div_si(se, se, n, MPFR_RNDN);
    mpfr_sqrt(se, se, MPFR_RNDN);
    mpfr_div(m, m, se, MPFR_RNDN);
    mpfr_printf("  %-22s (mean - %ld) / se = %+.3Rf  (|.| < 5)\n", name, mu, m);
    ck_assert_msg(mpfr_cmpabs_ui(m, 5) < 0, "%s outside 5 standard errors", name);
    mpfr_clears(m, se, (mpfr_ptr)0);
}

START_TEST(test_moments)
{
    const size_t rows = 100, cols = 200;
    const long n = (long)(rows * cols);
    mpmat_t A;
    TEST_OK(mpmat_init(A, rows, cols, 53));
    rng_stream s;
    rng_stream_init(&s, 1234, RNG_STREAM_X0, 0);
    rng_fill_normal(A, &s);
    mpfr_t s1, s2, s3, s4, s01, t, t2;
    mpfr_inits2(256, s1, s2, s3, s4, s01, t, t2, (mpfr_ptr)0);
    mpfr_set_zero(s1, 1), mpfr_set_zero(s2, 1), mpfr_set_zero(s3, 1), mpfr_set_zero(s4, 1);
    mpfr_set_zero(s01, 1);
    long tail = 0;
    for (long k = 0; k < n; k++) {
        mpfr_srcptr z = A->e + k;
        mpfr_add(s1, s1, z, MPFR_RNDN);
        mpfr_sqr(t, z, MPFR_RNDN);
        mpfr_add(s2, s2, t, MPFR_RNDN);
        mpfr_mul(t2, t, z, MPFR_RNDN);
        mpfr_add(s3, s3, t2, MPFR_RNDN);
        mpfr_sqr(t2, t, MPFR_RNDN);
        mpfr_add(s4, s4, t2, MPFR_RNDN);
        if (k % 2 == 0) { /* z0 z1 of one pair */
            mpfr_mul(t2, z, A->e + k + 1, MPFR_RNDN);
            mpfr_add(s01, s01, t2, MPFR_RNDN);
        }
        tail += mpfr_cmpabs_ui(z, 3) > 0;
    }
    /* N(0,1): E z = 0, var 1; E z^2 = 1, var 2; E z^3 = 0, var 15;
     * E z^4 = 3, var 105 - 9 = 96; E z0 z1 = 0, var 1 (n/2 pairs). */
    check_moment("E z", s1, n, 0, 1);
    check_moment("E z^2", s2, n, 1, 2);
    check_moment("E z^3", s3, n, 0, 15);
    check_moment("E z^4", s4, n, 3, 96);
    check_moment("E z0 z1", s01, n / 2, 0, 1);
    /* P(|z| > 3) = erfc(3 / sqrt 2) = 0.0026998: expected 54.0 of 20000,
     * sd sqrt(n p (1 - p)) = 7.34; within 5 sd: [18, 90]. */
    printf("  |z| > 3: %ld of %ld (expected 54.0, 5 sd: [18, 90])\n", tail, n);
    ck_assert(tail >= 18 && tail <= 90);
    mpfr_clears(s1, s2, s3, s4, s01, t, t2, (mpfr_ptr)0);
    mpmat_clear(A);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("rng_normal");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_edge_cases);
    tcase_add_test(tc, test_random_pairs);
    tcase_add_test(tc, test_fill_order);
    tcase_add_test(tc, test_moments);
    suite_add_tcase(s, tc);
    return s;
}
