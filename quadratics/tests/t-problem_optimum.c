/* The exact optimum, f and subopt (spec/problems.md 2). For trace-dense
 * (two spectra, several d x p) at 53, 113, 256 bits (and 1024 once):
 *  - H Xstar + B = 0: ||H X* + B||_F / ((d ||H||_F ||X*||_F + ||B||_F) 2^-p);
 *  - A Y + B = 0:     ||A Y + B||_F / ((d ||A||_F ||Y||_F + ||B||_F) 2^-p);
 *  - fstar = -1/2 tr(B^T H^-1 B) computed another way (mpmat_sym_solve at
 *    p + 64 bits): |fstar - f2| / ((|fstar| + d ||H||_F ||X*||_F^2) 2^-p);
 *  - subopt(Xstar) is exactly +0; for random X and for X0,
 *    subopt(X) = f(X) - fstar: |s - (f - f*)| / ((|f| + |f*| + s +
 *    d ||H||_F ||X*||_F (||X - X*||_F + ||X*||_F)) 2^-p); the last term is
 *    the rounding E of H: f - f* - s = X*^T E (X - X*) + 1/2 X*^T E X*;
 * every ratio below THRESHOLD. trace-het: f(X0) = subopt(X0) bit for bit
 * (fstar = 0); nqm (d = 10000): subopt(X0) = (sum_i H_i) / 2 bit for bit and
 * problem_apply_H is the diagonal product. Errors: shapes, non-finite X. */
#include "dense_problem.h"

#include <stdio.h>

#include "optref/problem.h"

#define THRESHOLD 10.0L

/* ||M X + B||_F / ((d ||M||_F ||X||_F + ||B||_F) 2^-p), product at p + 64. */
static long double residual_ratio(const problem *P, mpmat_srcptr M, mpmat_srcptr X)
{
    mpmat_t R;
    TEST_OK(mpmat_init(R, P->d, P->p, P->prec + 64));
    TEST_OK(mpmat_mul(R, M, X));
    TEST_OK(mpmat_add(R, R, P->B));
    mpfr_t s, t;
    mpfr_inits2(64, s, t, (mpfr_ptr)0);
    mpmat_norm_fro(s, M), mpmat_norm_fro(t, X);
    mpfr_mul(s, s, t, MPFR_RNDN);
    mpfr_mul_ui(s, s, (unsigned long)P->d, MPFR_RNDN);
    mpmat_norm_fro(t, P->B);
    mpfr_add(s, s, t, MPFR_RNDN);
    long double r = test_ratio(R, s, P->prec);
    mpfr_clears(s, t, (mpfr_ptr)0);
    mpmat_clear(R);
    return r;
}

/* |a - b| / (scale 2^-p) for scalars. */
static long double scalar_ratio(mpfr_srcptr a, mpfr_srcptr b, mpfr_srcptr scale, mpfr_prec_t p)
{
    mpmat_t D;
    TEST_OK(mpmat_init(D, 1, 1, mpfr_get_prec(a) + mpfr_get_prec(b) + 64));
    mpfr_sub(D->e, a, b, MPFR_RNDN);
    long double r = test_ratio(D, scale, p);
    mpmat_clear(D);
    return r;
}

static test_worst w_res = {"||H X* + B|| ratio", 0, THRESHOLD};
static test_worst w_y = {"||A Y + B|| ratio", 0, THRESHOLD};
static test_worst w_fstar = {"fstar vs sym_solve ratio", 0, THRESHOLD};
static test_worst w_sub = {"subopt vs f - fstar ratio", 0, THRESHOLD};

/* subopt(X) against f(X) - fstar. */
static void check_subopt(const problem *P, mpmat_srcptr X)
{
    mpfr_prec_t p = P->prec;
    mpfr_t s, f, diff, scale, t;
    mpfr_inits2(p, s, f, (mpfr_ptr)0);
    mpfr_inits2(p + 64, diff, (mpfr_ptr)0);
    mpfr_inits2(64, scale, t, (mpfr_ptr)0);
    TEST_OK(problem_subopt(s, P, X));
    TEST_OK(problem_f(f, P, X));
    ck_assert(mpfr_sgn(s) >= 0);
    mpfr_sub(diff, f, P->fstar, MPFR_RNDN);
    /* scale = |f| + |f*| + s + d ||H|| ||X*|| (||X - X*|| + ||X*||) */
    mpmat_t R;
    TEST_OK(mpmat_init(R, P->d, P->p, p + 64));
    TEST_OK(mpmat_sub(R, X, P->Xstar));
    mpmat_norm_fro(scale, R);
    mpmat_norm_fro(t, P->Xstar), mpfr_add(scale, scale, t, MPFR_RNDN);
    mpfr_mul(scale, scale, t, MPFR_RNDN);
    mpmat_norm_fro(t, P->H), mpfr_mul(scale, scale, t, MPFR_RNDN);
    mpfr_mul_ui(scale, scale, (unsigned long)P->d, MPFR_RNDN);
    mpfr_abs(t, f, MPFR_RNDN), mpfr_add(scale, scale, t, MPFR_RNDN);
    mpfr_abs(t, P->fstar, MPFR_RNDN), mpfr_add(scale, scale, t, MPFR_RNDN);
    mpfr_add(scale, scale, s, MPFR_RNDN);
    test_worst_add(&w_sub, scalar_ratio(s, diff, scale, p));
    mpmat_clear(R);
    mpfr_clears(s, f, diff, scale, t, (mpfr_ptr)0);
}

static void check_problem(const problem *P, test_rng *rng)
{
    mpfr_prec_t p = P->prec;
    test_worst_add(&w_res, residual_ratio(P, P->H, P->Xstar));
    test_worst_add(&w_y, residual_ratio(P, P->A, P->Y));
    /* fstar another way: Z = H^-1 B at p + 64, f2 = -1/2 <B, Z>. */
    mpmat_t Z;
    TEST_OK(mpmat_init(Z, P->d, P->p, p + 64));
    TEST_OK(mpmat_sym_solve(Z, P->H, P->B));
    mpfr_t f2, scale, t;
    mpfr_init2(f2, p + 64);
    mpfr_inits2(64, scale, t, (mpfr_ptr)0);
    TEST_OK(mpmat_dot(f2, P->B, Z));
    mpfr_div_si(f2, f2, -2, MPFR_RNDN);
    mpmat_norm_fro(scale, P->Xstar);
    mpfr_sqr(scale, scale, MPFR_RNDN);
    mpmat_norm_fro(t, P->H), mpfr_mul(scale, scale, t, MPFR_RNDN);
    mpfr_mul_ui(scale, scale, (unsigned long)P->d, MPFR_RNDN);
    mpfr_abs(t, P->fstar, MPFR_RNDN), mpfr_add(scale, scale, t, MPFR_RNDN);
    test_worst_add(&w_fstar, scalar_ratio(P->fstar, f2, scale, p));
    mpfr_clears(f2, scale, t, (mpfr_ptr)0);
    mpmat_clear(Z);
    /* subopt(X*) = +0 exactly */
    mpfr_t s;
    mpfr_init2(s, p);
    TEST_OK(problem_subopt(s, P, P->Xstar));
    ck_assert(mpfr_zero_p(s) && !mpfr_signbit(s));
    mpfr_clear(s);
    /* random X, X0, and X* plus a small perturbation */
    mpmat_t X;
    TEST_OK(mpmat_init(X, P->d, P->p, p));
    for (int k = 0; k < 3; k++) {
        test_fill_uniform(X, rng);
        check_subopt(P, X);
    }
    check_subopt(P, P->X0);
    test_fill_uniform(X, rng);
    mpfr_t eps;
    mpfr_init2(eps, 53);
    mpfr_set_ui_2exp(eps, 1, -20, MPFR_RNDN);
    TEST_OK(mpmat_scale(X, X, eps));
    TEST_OK(mpmat_add(X, X, P->Xstar));
    check_subopt(P, X);
    mpfr_clear(eps);
    mpmat_clear(X);
}

START_TEST(test_dense_optimum)
{
    test_rng rng = {11};
    const long dims[4][2] = {{1, 2}, {5, 3}, {12, 7}, {16, 8}};
    const char *spectra[2][3] = {{"loguniform", "1", "1000"}, {"power:1.5", "0.01", "100"}};
    for (int si = 0; si < 2; si++)
        for (int di = 0; di < 4; di++)
            for (int pi = 0; pi < 4; pi++) {
                if (pi == 3 && !(si == 0 && di == 1))
                    continue; /* one case at 1024 bits */
                problem P;
                create_dense(&P, 100 + (uint64_t)(10 * di + pi), test_precisions[pi], dims[di][0],
                             dims[di][1], spectra[si][0], spectra[si][1], spectra[si][2]);
                check_problem(&P, &rng);
                problem_clear(&P);
            }
    test_worst_report(&w_res);
    test_worst_report(&w_y);
    test_worst_report(&w_fstar);
    test_worst_report(&w_sub);
}
END_TEST

START_TEST(test_blocks_and_nqm)
{
    test_rng rng = {12};
    for (int pi = 0; pi < 3; pi++) {
        problem P;
        TEST_OK(problem_create(&P, pi == 1 ? "trace-hom" : "trace-het", 1234, test_precisions[pi],
                               NULL));
        check_problem(&P, &rng);
        mpfr_t f, s;
        mpfr_inits2(test_precisions[pi], f, s, (mpfr_ptr)0);
        TEST_OK(problem_f(f, &P, P.X0));
        TEST_OK(problem_subopt(s, &P, P.X0));
        ck_assert(mpfr_equal_p(f, s) && mpfr_sgn(s) > 0);
        mpfr_clears(f, s, (mpfr_ptr)0);
        problem_clear(&P);
    }
    problem P;
    TEST_OK(problem_create(&P, "nqm", 1, 53, NULL));
    mpfr_t s, f, e;
    mpfr_inits2(53, s, f, e, (mpfr_ptr)0);
    TEST_OK(problem_subopt(s, &P, P.X0));
    TEST_OK(problem_f(f, &P, P.X0));
    mpmat_sum(e, P.H);
    mpfr_div_2ui(e, e, 1, MPFR_RNDN);
    ck_assert(mpfr_equal_p(s, e) && mpfr_equal_p(f, e));
    mpfr_clears(s, f, e, (mpfr_ptr)0);
    mpmat_t X, HX;
    TEST_OK(mpmat_init(X, P.d, 1, 53));
    TEST_OK(mpmat_init(HX, P.d, 1, 53));
    test_fill_uniform(X, &rng);
    TEST_OK(problem_apply_H(HX, &P, X));
    mpfr_t t;
    mpfr_init2(t, 53);
    for (size_t i = 0; i < P.d; i++) {
        mpfr_mul(t, mpmat_entry(P.H, i, 0), mpmat_entry(X, i, 0), MPFR_RNDN);
        ck_assert(mpfr_equal_p(t, mpmat_entry(HX, i, 0)));
    }
    mpfr_clear(t);
    TEST_OK(problem_apply_H(X, &P, X)); /* aliasing */
    ck_assert(mpmat_equal(X, HX));
    mpmat_clear(X), mpmat_clear(HX);
    problem_clear(&P);
}
END_TEST

START_TEST(test_errors)
{
    problem P;
    TEST_OK(problem_create(&P, "trace-het", 1, 53, NULL));
    mpmat_t X, Y;
    mpfr_t s;
    mpfr_init2(s, 53);
    TEST_OK(mpmat_init(X, 9, 8, 53));
    TEST_OK(mpmat_init(Y, 9, 9, 53));
    ck_assert_int_eq(problem_subopt(s, &P, X), OPTREF_ESHAPE);
    ck_assert_int_eq(problem_f(s, &P, X), OPTREF_ESHAPE);
    ck_assert_int_eq(problem_apply_H(Y, &P, X), OPTREF_ESHAPE);
    TEST_OK(problem_apply_H(X, &P, X)); /* any number of columns */
    mpfr_set_nan(mpmat_entry(Y, 3, 4));
    ck_assert_int_eq(problem_subopt(s, &P, Y), OPTREF_ENONFINITE);
    ck_assert_int_eq(problem_f(s, &P, Y), OPTREF_ENONFINITE);
    mpfr_clear(s);
    mpmat_clear(X), mpmat_clear(Y);
    problem_clear(&P);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("problem_optimum");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_dense_optimum);
    tcase_add_test(tc, test_blocks_and_nqm);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}
