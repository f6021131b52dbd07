/* Learning-rate schedules (spec/problems.md 4), hand-worked values:
 *  - const: lr at every step;
 *  - deva-fig2, T = 10 (h = 5, T - h = 5), lr = 1: t = 1, 5, 6 give 1; t = 7
 *    gives 1 - 1/5 = 0.8; t = 10 gives 1 - 4/5 = 0.2; t = 11 gives 0. T = 7
 *    (h = 3, T - h = 4): t = 4 gives 1, t = 5 gives 0.75, t = 7 gives 0.25.
 *    With lr = 0.1 (binary64) the values are the correctly rounded lr (4/5).
 *  - cosine-warmup, T = 10, w = 2, lr = 1, lr_min = 0.1: t = 1 (i = 0) gives
 *    0; t = 2 gives 1/2; t = 3 (r = 0) gives 1; t = 7 (r = 1/2) gives
 *    (1 + lr_min) / 2; t = 9 (r = 3/4) gives lr_min + (1 - lr_min)(2 - sqrt 2)/4;
 *    t = 11 and later (r = 1) give lr_min; each the correctly rounded value
 *    (compared bit for bit with a 1024-bit evaluation) at 53 and 113 bits.
 *  - errors: unknown name, T = 0, warmup > T, t = 0, non-finite lr. */
#include "testlib.h"

#include <string.h>

#include "optref/problem.h"

/* eta(t) == expected (a 1024-bit value) rounded to prec. */
static void expect_lr(const schedule *S, uint64_t t, mpfr_srcptr expected, mpfr_prec_t prec)
{
    mpfr_t eta, e;
    mpfr_inits2(prec, eta, e, (mpfr_ptr)0);
    mpfr_set(e, expected, MPFR_RNDN);
    TEST_OK(schedule_lr(eta, S, t));
    ck_assert_msg(mpfr_equal_p(eta, e) && mpfr_signbit(eta) == mpfr_signbit(e),
                  "t=%llu at %ld bits: eta is not the expected value",
                  (unsigned long long)t, (long)prec);
    mpfr_clears(eta, e, (mpfr_ptr)0);
}

/* v = n / m at 1024 bits times lr. */
static void ratio(mpfr_ptr v, mpfr_srcptr lr, unsigned long n, unsigned long m)
{
    mpfr_mul_ui(v, lr, n, MPFR_RNDN);
    mpfr_div_ui(v, v, m, MPFR_RNDN);
}

START_TEST(test_const)
{
    mpfr_t lr, v;
    mpfr_inits2(1024, lr, v, (mpfr_ptr)0);
    TEST_OK(param_parse_real(lr, "0.1"));
    schedule S;
    TEST_OK(schedule_init(&S, "const", lr, 0, 0, NULL, 53));
    for (uint64_t t = 1; t < 1000; t += 97)
        expect_lr(&S, t, lr, 53);
    schedule_clear(&S);
    mpfr_clears(lr, v, (mpfr_ptr)0);
}
END_TEST

START_TEST(test_deva_fig2)
{
    mpfr_t lr, v;
    mpfr_inits2(1024, lr, v, (mpfr_ptr)0);
    for (int c = 0; c < 2; c++) {
        if (c == 0)
            mpfr_set_ui(lr, 1, MPFR_RNDN);
        else
            TEST_OK(param_parse_real(lr, "0.1"));
        for (int pi = 0; pi < 2; pi++) {
            mpfr_prec_t prec = test_precisions[pi];
            schedule S;
            TEST_OK(schedule_init(&S, "deva-fig2", lr, 10, 0, NULL, prec));
            expect_lr(&S, 1, lr, prec);
            expect_lr(&S, 5, lr, prec);
            expect_lr(&S, 6, lr, prec); /* i = h: 1 - 0/5 */
            ratio(v, lr, 4, 5), expect_lr(&S, 7, v, prec);
            ratio(v, lr, 1, 5), expect_lr(&S, 10, v, prec);
            mpfr_set_zero(v, 1), expect_lr(&S, 11, v, prec);
            expect_lr(&S, 500, v, prec);
            if (c == 0) { /* the decimal values, as a reader works them out */
                mpfr_set_str(v, "0.8", 10, MPFR_RNDN), expect_lr(&S, 7, v, prec);
                mpfr_set_str(v, "0.2", 10, MPFR_RNDN), expect_lr(&S, 10, v, prec);
            }
            schedule_clear(&S);
            TEST_OK(schedule_init(&S, "deva-fig2", lr, 7, 0, NULL, prec));
            expect_lr(&S, 4, lr, prec);
            ratio(v, lr, 3, 4), expect_lr(&S, 5, v, prec);
            ratio(v, lr, 1, 4), expect_lr(&S, 7, v, prec);
            mpfr_set_zero(v, 1), expect_lr(&S, 8, v, prec);
            schedule_clear(&S);
            TEST_OK(schedule_init(&S, "deva-fig2", lr, 1, 0, NULL, prec)); /* h = 0, T - h = 1 */
            expect_lr(&S, 1, lr, prec);
            expect_lr(&S, 2, v, prec);
            schedule_clear(&S);
        }
    }
    mpfr_clears(lr, v, (mpfr_ptr)0);
}
END_TEST

START_TEST(test_cosine_warmup)
{
    mpfr_t lr, lr_min, v, s;
    mpfr_inits2(1024, lr, lr_min, v, s, (mpfr_ptr)0);
    mpfr_set_ui(lr, 1, MPFR_RNDN);
    TEST_OK(param_parse_real(lr_min, "0.1"));
    for (int pi = 0; pi < 2; pi++) {
        mpfr_prec_t prec = test_precisions[pi];
        schedule S;
        TEST_OK(schedule_init(&S, "cosine-warmup", lr, 10, 2, lr_min, prec));
        mpfr_set_zero(v, 1), expect_lr(&S, 1, v, prec);      /* lr 0 / 2 = +0 */
        mpfr_set_str(v, "0.5", 10, MPFR_RNDN), expect_lr(&S, 2, v, prec);
        expect_lr(&S, 3, lr, prec);                          /* r = 0 */
        mpfr_add(v, lr, lr_min, MPFR_RNDN);                  /* r = 1/2 */
        mpfr_div_2ui(v, v, 1, MPFR_RNDN), expect_lr(&S, 7, v, prec);
        /* r = 3/4: lr_min + (1 - lr_min)(1 - sqrt(2)/2)/2 */
        mpfr_sqrt_ui(s, 2, MPFR_RNDN);
        mpfr_ui_sub(s, 2, s, MPFR_RNDN);
        mpfr_div_2ui(s, s, 2, MPFR_RNDN);
        mpfr_sub(v, lr, lr_min, MPFR_RNDN);
        mpfr_fma(v, v, s, lr_min, MPFR_RNDN), expect_lr(&S, 9, v, prec);
        expect_lr(&S, 11, lr_min, prec);                     /* r = 1 */
        expect_lr(&S, 1000, lr_min, prec);                   /* r clamps at 1 */
        schedule_clear(&S);
        /* no warmup: t = 1 is the peak */
        TEST_OK(schedule_init(&S, "cosine-warmup", lr, 10, 0, lr_min, prec));
        expect_lr(&S, 1, lr, prec);
        schedule_clear(&S);
    }
    mpfr_clears(lr, lr_min, v, s, (mpfr_ptr)0);
}
END_TEST

START_TEST(test_errors)
{
    mpfr_t lr, eta;
    mpfr_inits2(53, lr, eta, (mpfr_ptr)0);
    mpfr_set_ui(lr, 1, MPFR_RNDN);
    schedule S;
    ck_assert_int_eq(schedule_init(&S, "linear", lr, 10, 0, NULL, 53), OPTREF_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(optref_last_error(), "const, deva-fig2, cosine-warmup"));
    schedule_clear(&S); /* valid after a failure */
    ck_assert_int_eq(schedule_init(&S, "deva-fig2", lr, 0, 0, NULL, 53), OPTREF_EINVAL);
    schedule_clear(&S);
    ck_assert_int_eq(schedule_init(&S, "cosine-warmup", lr, 0, 0, lr, 53), OPTREF_EINVAL);
    schedule_clear(&S);
    ck_assert_int_eq(schedule_init(&S, "cosine-warmup", lr, 5, 6, lr, 53), OPTREF_EINVAL);
    schedule_clear(&S);
    ck_assert_int_eq(schedule_init(&S, "const", lr, 0, 0, NULL, 0), OPTREF_EINVAL);
    schedule_clear(&S);
    mpfr_set_inf(eta, 1);
    ck_assert_int_eq(schedule_init(&S, "const", eta, 0, 0, NULL, 53), OPTREF_ENONFINITE);
    schedule_clear(&S);
    TEST_OK(schedule_init(&S, "const", lr, 0, 0, NULL, 53)); /* T is not needed */
    ck_assert_int_eq(schedule_lr(eta, &S, 0), OPTREF_EINVAL);
    ck_assert_ptr_nonnull(strstr(optref_last_error(), "1-based"));
    schedule_clear(&S);
    mpfr_clears(lr, eta, (mpfr_ptr)0);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("schedule");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_const);
    tcase_add_test(tc, test_deva_fig2);
    tcase_add_test(tc, test_cosine_warmup);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}
