/* mpvec_argsort and mpmat_quantile (spec 1.3, torch.quantile 'linear').
 *
 * argsort: against a stable insertion sort (the oracle) on random vectors
 * with many ties (values drawn from a small set, including -0, +0 and
 * +-Inf), ascending and descending, lengths 0..40 and 1000; stability on a
 * hand-made case; NaN rejected.
 *
 * quantile: hand-worked cases, each with the value torch.quantile gives
 * (worked below by its rule: sort, pos = q (N - 1), lo = floor(pos),
 * lerp(s[lo], s[lo+1], pos - lo)), and the exact-value property: the result
 * is the exact s[lo] + frac (s[lo+1] - s[lo]) rounded ONCE to r's precision,
 * checked bit for bit against an exact evaluation on random dyadic data with
 * random binary64 q. Error statuses for q outside [0, 1], NaN q, an empty
 * matrix and non-finite entries. */
#include "testlib.h"

#include <stdlib.h>

#include "optref/mpmat.h"

/* ---- argsort ---- */

static void oracle_argsort(size_t *perm, const __mpfr_struct *x, size_t n, int desc)
{
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        /* insert i after every earlier element that is not strictly after it */
        while (j > 0) {
            int c = mpfr_cmp(x + perm[j - 1], x + i);
            int after = desc ? c < 0 : c > 0;
            if (!after)
                break;
            perm[j] = perm[j - 1];
            j--;
        }
        perm[j] = i;
    }
}

START_TEST(test_argsort_random_ties)
{
    test_rng rng = {31};
    static const char *const pool[] = {"-inf", "-2", "-0.5", "-0", "0", "0.25", "0.5", "3", "inf"};
    const size_t npool = sizeof pool / sizeof pool[0];
    for (int rep = 0; rep < 200; rep++) {
        size_t n = rep < 190 ? (size_t)(rep % 41) : 1000;
        __mpfr_struct *x = malloc((n ? n : 1) * sizeof *x);
        size_t *p = malloc((n ? n : 1) * sizeof *p), *q = malloc((n ? n : 1) * sizeof *q);
        for (size_t i = 0; i < n; i++) {
            mpfr_init2(x + i, 53);
            if (rep % 3 == 0) /* mostly distinct values */
                mpfr_set_si(x + i, (long)test_rng_below(&rng, 1000) - 500, MPFR_RNDN);
            else
                mpfr_set_str(x + i, pool[test_rng_below(&rng, npool)], 10, MPFR_RNDN);
        }
        for (int desc = 0; desc < 2; desc++) {
            TEST_OK(mpvec_argsort(p, x, n, desc));
            oracle_argsort(q, x, n, desc);
            for (size_t i = 0; i < n; i++)
                ck_assert_msg(p[i] == q[i], "n=%zu desc=%d: perm[%zu] = %zu, expected %zu", n,
                              desc, i, p[i], q[i]);
        }
        for (size_t i = 0; i < n; i++)
            mpfr_clear(x + i);
        free(x), free(p), free(q);
    }
}
END_TEST

START_TEST(test_argsort_hand)
{
    /* x = [2, -1, 2, +0, 5, -1, -0]
     * ascending:  -1(1) -1(5) +0(3) -0(6) 2(0) 2(2) 5(4)
     * descending: 5(4) 2(0) 2(2) +0(3) -0(6) -1(1) -1(5) */
    static const char *const v[] = {"2", "-1", "2", "0", "5", "-1", "-0"};
    static const size_t up[] = {1, 5, 3, 6, 0, 2, 4}, down[] = {4, 0, 2, 3, 6, 1, 5};
    __mpfr_struct x[7];
    size_t p[7];
    for (int i = 0; i < 7; i++)
        mpfr_init2(x + i, 24), mpfr_set_str(x + i, v[i], 10, MPFR_RNDN);
    TEST_OK(mpvec_argsort(p, x, 7, 0));
    for (int i = 0; i < 7; i++)
        ck_assert_uint_eq(p[i], up[i]);
    TEST_OK(mpvec_argsort(p, x, 7, 1));
    for (int i = 0; i < 7; i++)
        ck_assert_uint_eq(p[i], down[i]);
    mpfr_set_nan(x + 4);
    ck_assert_int_eq(mpvec_argsort(p, x, 7, 0), OPTREF_ENONFINITE);
    TEST_OK(mpvec_argsort(p, x, 0, 0)); /* empty: nothing to do */
    for (int i = 0; i < 7; i++)
        mpfr_clear(x + i);
}
END_TEST

/* ---- quantile ---- */

/* r = quantile of the entries (decimal strings, read to 53 bits) at q (a
 * decimal read as binary64, spec 0), into precision prec; compared with the
 * decimal `want` read at prec. */
static void expect_quantile(size_t rows, size_t cols, const char *const *vals, const char *q,
                            mpfr_prec_t prec, const char *want)
{
    mpmat_t A;
    TEST_OK(mpmat_init(A, rows, cols, 53));
    for (size_t k = 0; k < rows * cols; k++)
        mpfr_set_str(A->e + k, vals[k], 10, MPFR_RNDN);
    mpfr_t qq, r, e;
    mpfr_init2(qq, 53);
    mpfr_inits2(prec, r, e, (mpfr_ptr)0);
    mpfr_set_str(qq, q, 10, MPFR_RNDN);
    mpfr_set_str(e, want, 10, MPFR_RNDN);
    TEST_OK(mpmat_quantile(r, A, qq));
    ck_assert_msg(mpfr_equal_p(r, e), "quantile(q=%s) of %zu values: got %.20Lg, expected %s",
                  q, rows * cols, mpfr_get_ld(r, MPFR_RNDN), want);
    mpfr_clears(qq, r, e, (mpfr_ptr)0);
    mpmat_clear(A);
}

START_TEST(test_quantile_hand)
{
    /* N = 5, sorted [1, 2, 3, 4, 5]: q = 0.25, pos = 1 (whole): s[1] = 2.
     * torch.quantile(torch.tensor([3., 1., 2., 5., 4.]), 0.25) = 2. */
    static const char *const five[] = {"3", "1", "2", "5", "4"};
    expect_quantile(1, 5, five, "0.25", 53, "2");
    expect_quantile(5, 1, five, "0.25", 53, "2");
    /* q = 0 is the minimum, q = 1 the maximum; q = 0.5 the median 3 */
    expect_quantile(1, 5, five, "0", 53, "1");
    expect_quantile(1, 5, five, "1", 53, "5");
    expect_quantile(1, 5, five, "0.5", 53, "3");
    /* N = 4, sorted [1, 2, 3, 4] (as 2x2 [[4, 1], [3, 2]]): q = 0.25, pos =
     * 0.75, lo = 0, frac = 0.75: 1 + 0.75 (2 - 1) = 1.75, torch's value. */
    static const char *const four[] = {"4", "1", "3", "2"};
    expect_quantile(2, 2, four, "0.25", 53, "1.75");
    /* q = 0.9: pos = 2.7 (binary64 q = 0.9000000000000000222, times 3 is
     * 2.7000000000000000666 exactly), lo = 2, frac = 0.70000000000000006661,
     * 3 + frac (4 - 3) = 3.70000000000000006661, to binary64: 3.7 (torch:
     * 3.7000). At 256 bits the exact value appears: */
    expect_quantile(2, 2, four, "0.9", 53, "3.7");
    expect_quantile(2, 2, four, "0.9", 256, "3.700000000000000066613381477509392425417900085449218750");
    /* Ties: [2, -1, 2, 0, 5, -1] sorted [-1, -1, 0, 2, 2, 5], N = 6.
     * q = 0.5: pos = 2.5, 0 + 0.5 (2 - 0) = 1 (torch: 1.).
     * q = 0.1: pos = 0.5000000000000000277, between the two -1: -1 exactly.
     * q = 0.7: pos = 3.4999999999999997780 (binary64 0.7 is below 0.7):
     * lo = 3, between the two 2: exactly 2 (torch: 2.). */
    static const char *const six[] = {"2", "-1", "2", "0", "5", "-1"};
    expect_quantile(2, 3, six, "0.5", 53, "1");
    expect_quantile(2, 3, six, "0.1", 53, "-1");
    expect_quantile(3, 2, six, "0.7", 53, "2");
    /* q = 0.3: pos = 1.5 (q 0.29999999999999998890 times 5 = 1.4999999999999999445):
     * lo = 1, frac = 0.4999999999999999445, -1 + frac (0 - (-1)) =
     * -0.5000000000000000555, binary64: -0.5 (torch: -0.5000) */
    expect_quantile(2, 3, six, "0.3", 53, "-0.5");
    /* N = 1: every q gives the value */
    static const char *const one[] = {"-7.25"};
    expect_quantile(1, 1, one, "0", 53, "-7.25");
    expect_quantile(1, 1, one, "0.37", 53, "-7.25");
    expect_quantile(1, 1, one, "1", 53, "-7.25");
    /* all equal: the value, for every q */
    static const char *const same[] = {"0.1", "0.1", "0.1", "0.1", "0.1", "0.1", "0.1"};
    expect_quantile(1, 7, same, "0.33", 53, "0.1");
    expect_quantile(7, 1, same, "0.9", 53, "0.1");
    /* Two values [0, 10], q = 0.3: 0 + q 10 = 2.9999999999999998890 exactly,
     * binary64: 3 (torch float64: 3.); in 24 bits: 3 too. */
    static const char *const two[] = {"10", "0"};
    expect_quantile(1, 2, two, "0.3", 53, "3");
    expect_quantile(1, 2, two, "0.3", 24, "3");
    expect_quantile(1, 2, two, "0.3", 128, "2.99999999999999988897769753748434595763683319091796875");
    /* torch.quantile(torch.tensor([[1., 9.], [2., 8.]]), 0.6): sorted
     * [1, 2, 8, 9], pos = 1.8 (q = 0.59999999999999997780, times 3 =
     * 1.7999999999999999334), 2 + 0.7999999999999999334 (8 - 2) =
     * 6.7999999999999996004, binary64 6.8 (6.79999999999999982236431605997495353221893310546875;
     * torch prints 6.8000). */
    static const char *const m2[] = {"1", "9", "2", "8"};
    expect_quantile(2, 2, m2, "0.6", 53, "6.8");
}
END_TEST

/* Random data: r must be the exact s[lo] + frac (s[lo+1] - s[lo]) rounded
 * once. With 53-bit dyadic entries in [-1, 1) and a binary64 q, the exact
 * value needs at most 53 + 64 + 60 bits: computed exactly at 512 bits. */
START_TEST(test_quantile_exact_value)
{
    test_rng rng = {32};
    for (int rep = 0; rep < 300; rep++) {
        size_t m = 1 + (size_t)test_rng_below(&rng, 6), n = 1 + (size_t)test_rng_below(&rng, 9);
        size_t N = m * n;
        mpmat_t A;
        TEST_OK(mpmat_init(A, m, n, 53));
        test_fill_uniform(A, &rng);
        if (rep % 4 == 0) /* ties */
            for (size_t k = 1; k < N; k += 2)
                mpfr_set(A->e + k, A->e + k - 1, MPFR_RNDN);
        mpfr_t q, r, e, pos, frac, d;
        mpfr_init2(q, 53);
        mpfr_init2(r, test_precisions[rep % 4]);
        mpfr_inits2(512, e, pos, frac, d, (mpfr_ptr)0);
        mpfr_set_uj(q, test_rng_next(&rng) >> 11, MPFR_RNDN);
        mpfr_mul_2si(q, q, -53, MPFR_RNDN); /* [0, 1) */
        if (rep % 10 == 0)
            mpfr_set_ui(q, rep % 20 == 0, MPFR_RNDN);
        /* the oracle: sort by selection, then the exact formula */
        size_t *perm = malloc(N * sizeof *perm);
        TEST_OK(mpvec_argsort(perm, A->e, N, 0));
        for (size_t k = 1; k < N; k++)
            ck_assert(mpfr_cmp(A->e + perm[k - 1], A->e + perm[k]) <= 0);
        mpfr_mul_ui(pos, q, (unsigned long)(N - 1), MPFR_RNDN);
        unsigned long lo = mpfr_get_ui(pos, MPFR_RNDD);
        mpfr_sub_ui(frac, pos, lo, MPFR_RNDN);
        mpfr_set(e, A->e + perm[lo], MPFR_RNDN);
        if (!mpfr_zero_p(frac)) {
            mpfr_sub(d, A->e + perm[lo + 1], A->e + perm[lo], MPFR_RNDN);
            mpfr_mul(d, d, frac, MPFR_RNDN);
            mpfr_add(e, e, d, MPFR_RNDN);
        }
        TEST_OK(mpmat_quantile(r, A, q));
        mpfr_set(d, e, MPFR_RNDN);
        mpfr_prec_round(d, mpfr_get_prec(r), MPFR_RNDN);
        ck_assert_msg(mpfr_equal_p(r, d), "rep %d: quantile not the exact value rounded once",
                      rep);
        /* r aliasing an entry of A gives the same value */
        TEST_OK(mpmat_quantile(A->e, A, q));
        mpfr_set(d, e, MPFR_RNDN);
        mpfr_prec_round(d, 53, MPFR_RNDN);
        ck_assert(mpfr_equal_p(A->e, d));
        free(perm);
        mpfr_clears(q, r, e, pos, frac, d, (mpfr_ptr)0);
        mpmat_clear(A);
    }
}
END_TEST

/* q with more bits than binary64 is used exactly: q = 1/3 rounded to 200
 * bits (rounded up: q = 1/3 + 2^-201/3), N = 4, sorted [1, 2, 3, 4]:
 * pos = 3 q = 1 + 2^-201 exactly, lo = 1, and r = 2 + 2^-201, which a
 * 400-bit r must hold exactly (a pos computed at q's precision would have
 * rounded to 1, giving 2). */
START_TEST(test_quantile_wide_q)
{
    static const char *const four[] = {"4", "1", "3", "2"};
    mpmat_t A;
    TEST_OK(mpmat_init(A, 1, 4, 53));
    for (int k = 0; k < 4; k++)
        mpfr_set_str(A->e + k, four[k], 10, MPFR_RNDN);
    mpfr_t q, r, e;
    mpfr_init2(q, 200);
    mpfr_inits2(400, r, e, (mpfr_ptr)0);
    mpfr_set_ui(q, 1, MPFR_RNDN);
    mpfr_div_ui(q, q, 3, MPFR_RNDN);
    TEST_OK(mpmat_quantile(r, A, q));
    mpfr_set_ui_2exp(e, 1, -201, MPFR_RNDN);
    mpfr_add_ui(e, e, 2, MPFR_RNDN); /* exact at 400 bits */
    ck_assert(mpfr_equal_p(r, e));
    mpfr_clears(q, r, e, (mpfr_ptr)0);
    mpmat_clear(A);
}
END_TEST

START_TEST(test_quantile_errors)
{
    mpmat_t A, E;
    TEST_OK(mpmat_init(A, 2, 2, 53));
    TEST_OK(mpmat_init(E, 0, 3, 53));
    mpfr_t q, r;
    mpfr_inits2(53, q, r, (mpfr_ptr)0);
    mpfr_set_si(q, -1, MPFR_RNDN);
    mpfr_mul_2si(q, q, -60, MPFR_RNDN);
    ck_assert_int_eq(mpmat_quantile(r, A, q), OPTREF_EINVAL); /* -2^-60 */
    mpfr_set_ui(q, 1, MPFR_RNDN);
    mpfr_nextabove(q);
    ck_assert_int_eq(mpmat_quantile(r, A, q), OPTREF_EINVAL); /* 1 + 2^-52 */
    mpfr_set_nan(q);
    ck_assert_int_eq(mpmat_quantile(r, A, q), OPTREF_EINVAL);
    mpfr_set_inf(q, 1);
    ck_assert_int_eq(mpmat_quantile(r, A, q), OPTREF_EINVAL);
    mpfr_set_zero(q, -1); /* -0 is 0: valid */
    TEST_OK(mpmat_quantile(r, A, q));
    mpfr_set_ui(q, 1, MPFR_RNDN);
    TEST_OK(mpmat_quantile(r, A, q));
    ck_assert_int_eq(mpmat_quantile(r, E, q), OPTREF_EINVAL);
    mpfr_set_nan(A->e + 3);
    ck_assert_int_eq(mpmat_quantile(r, A, q), OPTREF_ENONFINITE);
    mpfr_set_inf(A->e + 3, -1);
    ck_assert_int_eq(mpmat_quantile(r, A, q), OPTREF_ENONFINITE);
    mpfr_clears(q, r, (mpfr_ptr)0);
    mpmat_clear(A), mpmat_clear(E);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("mpmat_quantile");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_argsort_random_ties);
    tcase_add_test(tc, test_argsort_hand);
    tcase_add_test(tc, test_quantile_hand);
    tcase_add_test(tc, test_quantile_exact_value);
    tcase_add_test(tc, test_quantile_wide_q);
    tcase_add_test(tc, test_quantile_errors);
    suite_add_tcase(s, tc);
    return s;
}
