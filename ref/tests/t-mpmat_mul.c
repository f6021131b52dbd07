/* mpmat_mul, mpmat_mul_tn, mpmat_mul_nt and the reductions: every entry must
 * equal the correctly rounded exact value. Inputs are 53-bit dyadics, so the
 * exact products and sums are computed exactly at a precision wide enough
 * to hold them (2 * 53 + 2 + log2(k) bits plus the exponent spread), then
 * rounded once and compared bit for bit. Aliased outputs are checked too. */
#include "testlib.h"

#include <stdlib.h>

#include "optref/mpmat.h"

/* The exact value of sum_k a[k] b[k] for dyadic inputs, at 4096 bits. */
static void exact_dot(mpfr_ptr r, mpmat_srcptr A, int ta, size_t i, mpmat_srcptr B, int tb,
                      size_t j, size_t k)
{
    mpfr_t acc, prod;
    mpfr_inits2(4096, acc, prod, (mpfr_ptr)0);
    mpfr_set_zero(acc, 1);
    for (size_t l = 0; l < k; l++) {
        mpfr_srcptr a = ta ? mpmat_entry(A, l, i) : mpmat_entry(A, i, l);
        mpfr_srcptr b = tb ? mpmat_entry(B, j, l) : mpmat_entry(B, l, j);
        mpfr_mul(prod, a, b, MPFR_RNDN); /* exact: 106 bits */
        mpfr_add(acc, acc, prod, MPFR_RNDN); /* exact: exponents span < 4000 bits */
    }
    mpfr_set(r, acc, MPFR_RNDN);
    mpfr_clears(acc, prod, (mpfr_ptr)0);
}

static void check_product(int ta, int tb, size_t m, size_t k, size_t n, mpfr_prec_t prec,
                          test_rng *rng)
{
    mpmat_t A, B, C, E;
    TEST_OK(mpmat_init(A, ta ? k : m, ta ? m : k, 53));
    TEST_OK(mpmat_init(B, tb ? n : k, tb ? k : n, 53));
    TEST_OK(mpmat_init(C, m, n, prec));
    TEST_OK(mpmat_init(E, m, n, prec));
    test_fill_uniform(A, rng);
    test_fill_uniform(B, rng);
    if (!ta && !tb)
        TEST_OK(mpmat_mul(C, A, B));
    else if (ta && !tb)
        TEST_OK(mpmat_mul_tn(C, A, B));
    else
        TEST_OK(mpmat_mul_nt(C, A, B));
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            exact_dot(mpmat_entry(E, i, j), A, ta, i, B, tb, j, k);
    ck_assert_msg(mpmat_equal(C, E), "product (ta=%d tb=%d) %zux%zux%zu at %ld bits is not "
                  "correctly rounded", ta, tb, m, k, n, (long)prec);
    mpmat_clear(A), mpmat_clear(B), mpmat_clear(C), mpmat_clear(E);
}

START_TEST(test_products_correctly_rounded)
{
    test_rng rng = {1};
    const size_t shapes[][3] = {{1, 1, 1}, {2, 3, 4}, {3, 2, 1}, {1, 7, 1}, {5, 1, 5}, {6, 6, 6}, {4, 0, 3}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int p = 0; p < 4; p++)
            for (int v = 0; v < 3; v++)
                check_product(v == 1, v == 2, shapes[s][0], shapes[s][1], shapes[s][2],
                              test_precisions[p], &rng);
}
END_TEST

START_TEST(test_product_aliasing)
{
    test_rng rng = {2};
    mpmat_t A, B, C;
    TEST_OK(mpmat_init(A, 4, 4, 113));
    TEST_OK(mpmat_init(B, 4, 4, 113));
    TEST_OK(mpmat_init(C, 4, 4, 113));
    test_fill_uniform(A, &rng);
    test_fill_uniform(B, &rng);
    TEST_OK(mpmat_mul(C, A, B));
    TEST_OK(mpmat_mul(A, A, B)); /* A <- A B */
    ck_assert(mpmat_equal(A, C));
    TEST_OK(mpmat_mul_nt(C, B, B));
    TEST_OK(mpmat_mul_nt(B, B, B));
    ck_assert(mpmat_equal(B, C));
    mpmat_clear(A), mpmat_clear(B), mpmat_clear(C);
}
END_TEST

START_TEST(test_shape_errors)
{
    mpmat_t A, B, C;
    TEST_OK(mpmat_init(A, 2, 3, 53));
    TEST_OK(mpmat_init(B, 2, 3, 53));
    TEST_OK(mpmat_init(C, 2, 2, 53));
    ck_assert_int_eq(mpmat_mul(C, A, B), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_mul_nt(C, A, B), OPTREF_OK);
    ck_assert_int_eq(mpmat_mul_tn(C, A, B), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_add(C, A, B), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_init(C, (size_t)1 << 20, (size_t)1 << 20, 53), OPTREF_ENOMEM);
    ck_assert_int_eq(mpmat_init(C, 1, 1, 0), OPTREF_EINVAL);
    mpmat_clear(A), mpmat_clear(B);
}
END_TEST

START_TEST(test_reductions_correctly_rounded)
{
    test_rng rng = {3};
    for (int p = 0; p < 4; p++) {
        mpmat_t A, B;
        TEST_OK(mpmat_init(A, 3, 5, 53));
        TEST_OK(mpmat_init(B, 3, 5, 53));
        test_fill_uniform(A, &rng);
        test_fill_uniform(B, &rng);
        mpfr_t r, e, acc, t;
        mpfr_inits2(test_precisions[p], r, e, (mpfr_ptr)0);
        mpfr_inits2(4096, acc, t, (mpfr_ptr)0);
        /* sum of squares */
        mpfr_set_zero(acc, 1);
        for (size_t k = 0; k < 15; k++)
            mpfr_sqr(t, A->e + k, MPFR_RNDN), mpfr_add(acc, acc, t, MPFR_RNDN);
        mpfr_set(e, acc, MPFR_RNDN);
        mpmat_sumsq(r, A);
        ck_assert(mpfr_equal_p(r, e));
        /* dot */
        mpfr_set_zero(acc, 1);
        for (size_t k = 0; k < 15; k++)
            mpfr_mul(t, A->e + k, B->e + k, MPFR_RNDN), mpfr_add(acc, acc, t, MPFR_RNDN);
        mpfr_set(e, acc, MPFR_RNDN);
        TEST_OK(mpmat_dot(r, A, B));
        ck_assert(mpfr_equal_p(r, e));
        /* sum */
        mpfr_set_zero(acc, 1);
        for (size_t k = 0; k < 15; k++)
            mpfr_add(acc, acc, A->e + k, MPFR_RNDN);
        mpfr_set(e, acc, MPFR_RNDN);
        mpmat_sum(r, A);
        ck_assert(mpfr_equal_p(r, e));
        mpfr_clears(r, e, acc, t, (mpfr_ptr)0);
        mpmat_clear(A), mpmat_clear(B);
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("mpmat_mul");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_products_correctly_rounded);
    tcase_add_test(tc, test_product_aliasing);
    tcase_add_test(tc, test_shape_errors);
    tcase_add_test(tc, test_reductions_correctly_rounded);
    suite_add_tcase(s, tc);
    return s;
}
