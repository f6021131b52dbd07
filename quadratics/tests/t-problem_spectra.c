/* The problem registry and the spectra of the problems (spec/problems.md 2).
 * For trace-het, trace-hom and trace-dense (loguniform and power:k spectra,
 * d in {1, 5, 12}, p != d) at 53, 113, 256 bits (and 1024 once):
 *  - the stored eigenvalues are the specified spectrum, each correctly
 *    rounded (compared bit for bit with an independent exp/log or pow
 *    evaluation at 4 prec + 256 bits);
 *  - mpmat_eigh(H) recovers them: max |w_i - lambda_i| / (d lambda_max 2^-p)
 *    below EIG_THRESHOLD;
 *  - H and A are exactly symmetric; A A = H to working precision
 *    (||A A - H||_F / (d ||H||_F 2^-p) below SQRT_THRESHOLD);
 *  - trace-het/hom: exact +0 outside the 3x3 blocks, each block's
 *    eigenvalues are its listed spectrum;
 *  - determinism: the same seed gives identical bits, another seed another H;
 *    the 53-bit instance is the 256-bit one rounded to 53 bits (Q carries 64
 *    guard bits, so H is the correctly rounded value of a nearly exact
 *    Q diag(lambda) Q^T at every precision);
 *  - nqm: H_i is exactly the correctly rounded 1/i (GMP rational rounded by
 *    mpfr_set_q), A_i the correctly rounded 1/sqrt(i).
 * Errors of problem_create: precision, unknown name, foreign options,
 * lambda_max < lambda_min. */
#include "dense_problem.h"

#include <gmp.h>
#include <stdio.h>
#include <string.h>

#include "optref/problem.h"

#define EIG_THRESHOLD 10.0L
#define SQRT_THRESHOLD 10.0L

static const unsigned long het_blocks[3][3] = {{1, 2, 3}, {99, 100, 101}, {4998, 4999, 5000}};
static const unsigned long hom_blocks[3][3] = {{1, 99, 4998}, {2, 100, 4999}, {3, 101, 5000}};

/* The specified lambda_i (i = 1..d) rounded to prec, evaluated independently
 * of the library (exp/log for loguniform) at 4 prec + 256 bits. */
static void expected_lambda(mpfr_ptr out, const char *spectrum, const char *lmin_s,
                            const char *lmax_s, unsigned long i, unsigned long d)
{
    mpfr_prec_t w = 4 * mpfr_get_prec(out) + 256;
    mpfr_t lmin, lmax, a, s;
    mpfr_inits2(w, lmin, lmax, a, s, (mpfr_ptr)0);
    TEST_OK(param_parse_real(lmin, lmin_s)); /* the binary64 values */
    TEST_OK(param_parse_real(lmax, lmax_s));
    if (d == 1)
        mpfr_set(a, lmax, MPFR_RNDN);
    else if (strcmp(spectrum, "loguniform") == 0) {
        mpfr_log(a, lmin, MPFR_RNDN), mpfr_log(s, lmax, MPFR_RNDN);
        mpfr_sub(a, a, s, MPFR_RNDN);
        mpfr_mul_ui(a, a, i - 1, MPFR_RNDN), mpfr_div_ui(a, a, d - 1, MPFR_RNDN);
        mpfr_exp(a, a, MPFR_RNDN);
        mpfr_mul(a, a, lmax, MPFR_RNDN);
    } else {
        mpfr_t k;
        mpfr_init2(k, w);
        TEST_OK(param_parse_real(k, spectrum + 6));
        mpfr_set_ui(s, d - i, MPFR_RNDN), mpfr_div_ui(s, s, d - 1, MPFR_RNDN);
        mpfr_pow(s, s, k, MPFR_RNDN);
        mpfr_sub(a, lmax, lmin, MPFR_RNDN);
        mpfr_fma(a, a, s, lmin, MPFR_RNDN);
        mpfr_clear(k);
    }
    mpfr_set(out, a, MPFR_RNDN);
    mpfr_clears(lmin, lmax, a, s, (mpfr_ptr)0);
}

static void check_symmetric(mpmat_srcptr M, const char *what)
{
    for (size_t i = 0; i < M->rows; i++)
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(mpfr_equal_p(mpmat_entry(M, i, j), mpmat_entry(M, j, i)) &&
                              mpfr_signbit(mpmat_entry(M, i, j)) ==
                                  mpfr_signbit(mpmat_entry(M, j, i)),
                          "%s is not exactly symmetric at (%zu, %zu)", what, i, j);
}

/* max |w_i - lambda_i| / (d lambda_max 2^-p), w = eigh(M) (descending). */
static long double eig_ratio(mpmat_srcptr M, mpmat_srcptr lambda, mpfr_prec_t prec)
{
    size_t d = M->rows;
    mpmat_t w, diff;
    TEST_OK(mpmat_init(w, d, 1, prec));
    TEST_OK(mpmat_init(diff, d, 1, prec + 64));
    TEST_OK(mpmat_eigh(w, NULL, M));
    TEST_OK(mpmat_sub(diff, w, lambda));
    mpfr_t scale;
    mpfr_init2(scale, 64);
    mpfr_mul_ui(scale, mpmat_entry(lambda, 0, 0), (unsigned long)d, MPFR_RNDN);
    /* max norm, via test_ratio on each entry */
    long double worst = 0;
    for (size_t i = 0; i < d; i++) {
        mpmat_t one;
        TEST_OK(mpmat_init(one, 1, 1, prec + 64));
        mpfr_set(one->e, mpmat_entry(diff, i, 0), MPFR_RNDN);
        long double r = test_ratio(one, scale, prec);
        if (r > worst)
            worst = r;
        mpmat_clear(one);
    }
    mpfr_clear(scale);
    mpmat_clear(w), mpmat_clear(diff);
    return worst;
}

/* ||A A - H||_F / (d ||H||_F 2^-p). */
static long double sqrt_ratio(const problem *P)
{
    mpmat_t AA;
    TEST_OK(mpmat_init(AA, P->d, P->d, P->prec + 64));
    TEST_OK(mpmat_mul(AA, P->A, P->A));
    TEST_OK(mpmat_sub(AA, AA, P->H));
    mpfr_t scale;
    mpfr_init2(scale, 64);
    mpmat_norm_fro(scale, P->H);
    mpfr_mul_ui(scale, scale, (unsigned long)P->d, MPFR_RNDN);
    long double r = test_ratio(AA, scale, P->prec);
    mpfr_clear(scale);
    mpmat_clear(AA);
    return r;
}

static void check_identical(const problem *P, const problem *Q)
{
    ck_assert(mpmat_equal(P->H, Q->H) && mpmat_equal(P->A, Q->A) && mpmat_equal(P->B, Q->B));
    ck_assert(mpmat_equal(P->Y, Q->Y) && mpmat_equal(P->X0, Q->X0));
    ck_assert(mpmat_equal(P->Xstar, Q->Xstar) && mpmat_equal(P->eigenvalues, Q->eigenvalues));
    ck_assert(mpfr_equal_p(P->fstar, Q->fstar) || (mpfr_zero_p(P->fstar) && mpfr_zero_p(Q->fstar)));
}

static test_worst worst_eig = {"eigh(H) vs spectrum", 0, EIG_THRESHOLD};
static test_worst worst_sqrt = {"A A - H", 0, SQRT_THRESHOLD};

START_TEST(test_blocks)
{
    const char *names[2] = {"trace-het", "trace-hom"};
    const mpfr_prec_t precs[4] = {53, 113, 256, 1024};
    for (int n = 0; n < 2; n++)
        for (int pi = 0; pi < 4; pi++) {
            problem P, P2;
            mpfr_prec_t prec = precs[pi];
            TEST_OK(problem_create(&P, names[n], 1234 + pi, prec, NULL));
            ck_assert_uint_eq(P.d, 9);
            ck_assert_uint_eq(P.p, 9);
            ck_assert_int_eq(P.diagonal, 0);
            const unsigned long(*D)[3] = n == 0 ? het_blocks : hom_blocks;
            /* eigenvalues: 5000, 4999, ..., 1 (both problems have this set) */
            static const unsigned long sorted[9] = {5000, 4999, 4998, 101, 100, 99, 3, 2, 1};
            for (size_t i = 0; i < 9; i++)
                ck_assert(mpfr_cmp_ui(mpmat_entry(P.eigenvalues, i, 0), sorted[i]) == 0);
            check_symmetric(P.H, "H");
            check_symmetric(P.A, "A");
            /* B = 0, Xstar = 0, Y = 0, fstar = 0, all +0 */
            for (size_t k = 0; k < 81; k++) {
                ck_assert(mpfr_zero_p(P.B->e + k) && !mpfr_signbit(P.B->e + k));
                ck_assert(mpfr_zero_p(P.Xstar->e + k) && !mpfr_signbit(P.Xstar->e + k));
                ck_assert(mpfr_zero_p(P.Y->e + k) && !mpfr_signbit(P.Y->e + k));
            }
            ck_assert(mpfr_zero_p(P.fstar) && !mpfr_signbit(P.fstar));
            /* exact +0 outside the blocks */
            for (size_t i = 0; i < 9; i++)
                for (size_t j = 0; j < 9; j++)
                    if (i / 3 != j / 3) {
                        ck_assert(mpfr_zero_p(mpmat_entry(P.H, i, j)));
                        ck_assert(!mpfr_signbit(mpmat_entry(P.H, i, j)));
                        ck_assert(mpfr_zero_p(mpmat_entry(P.A, i, j)));
                    } else
                        ck_assert(!mpfr_zero_p(mpmat_entry(P.H, i, j)));
            /* each block's spectrum */
            for (size_t k = 0; k < 3; k++) {
                mpmat_t Hk, lk;
                TEST_OK(mpmat_init(Hk, 3, 3, prec));
                TEST_OK(mpmat_init(lk, 3, 1, prec));
                for (size_t i = 0; i < 3; i++) {
                    for (size_t j = 0; j < 3; j++)
                        mpfr_set(mpmat_entry(Hk, i, j), mpmat_entry(P.H, 3 * k + i, 3 * k + j),
                                 MPFR_RNDN);
                    mpfr_set_ui(mpmat_entry(lk, i, 0), D[k][2 - i], MPFR_RNDN); /* descending */
                }
                test_worst_add(&worst_eig, eig_ratio(Hk, lk, prec));
                mpmat_clear(Hk), mpmat_clear(lk);
            }
            test_worst_add(&worst_eig, eig_ratio(P.H, P.eigenvalues, prec));
            test_worst_add(&worst_sqrt, sqrt_ratio(&P));
            /* determinism */
            TEST_OK(problem_create(&P2, names[n], 1234 + pi, prec, NULL));
            check_identical(&P, &P2);
            problem_clear(&P2);
            TEST_OK(problem_create(&P2, names[n], 99 + pi, prec, NULL));
            ck_assert(!mpmat_equal(P.H, P2.H));
            ck_assert(!mpmat_equal(P.X0, P2.X0));
            problem_clear(&P2);
            problem_clear(&P);
            problem_clear(&P); /* idempotent */
        }
    test_worst_report(&worst_eig);
    test_worst_report(&worst_sqrt);
}
END_TEST

START_TEST(test_dense)
{
    const char *spectra[3] = {"loguniform", "power:2", "power:0.5"};
    const long dims[3] = {1, 5, 12};
    const mpfr_prec_t precs[3] = {53, 113, 256};
    for (int si = 0; si < 3; si++)
        for (int di = 0; di < 3; di++)
            for (int pi = 0; pi < 4; pi++) {
                if (pi == 3 && !(si == 0 && di == 1))
                    continue; /* one case at 1024 bits */
                mpfr_prec_t prec = pi == 3 ? 1024 : precs[pi];
                long d = dims[di], p = d + 3 - 2 * di; /* p != d: 4, 4, 11 */
                const char *lmin = di == 2 ? "0.001" : "1", *lmax = di == 2 ? "1000" : "250.5";
                problem P, P2;
                create_dense(&P, 7 + (uint64_t)pi, prec, d, p, spectra[si], lmin, lmax);
                ck_assert_uint_eq(P.d, (size_t)d);
                ck_assert_uint_eq(P.p, (size_t)p);
                mpfr_t e;
                mpfr_init2(e, prec);
                for (unsigned long i = 1; i <= (unsigned long)d; i++) {
                    expected_lambda(e, spectra[si], lmin, lmax, i, (unsigned long)d);
                    ck_assert_msg(mpfr_equal_p(e, mpmat_entry(P.eigenvalues, i - 1, 0)),
                                  "%s d=%ld prec=%ld: lambda_%lu is not correctly rounded",
                                  spectra[si], d, (long)prec, i);
                }
                mpfr_clear(e);
                check_symmetric(P.H, "H");
                check_symmetric(P.A, "A");
                test_worst_add(&worst_eig, eig_ratio(P.H, P.eigenvalues, prec));
                test_worst_add(&worst_sqrt, sqrt_ratio(&P));
                create_dense(&P2, 7 + (uint64_t)pi, prec, d, p, spectra[si], lmin, lmax);
                check_identical(&P, &P2);
                problem_clear(&P2);
                if (d > 1) {
                    create_dense(&P2, 8 + (uint64_t)pi, prec, d, p, spectra[si], lmin, lmax);
                    ck_assert(!mpmat_equal(P.H, P2.H));
                    ck_assert(!mpmat_equal(P.B, P2.B));
                    problem_clear(&P2);
                }
                problem_clear(&P);
            }
    test_worst_report(&worst_eig);
    test_worst_report(&worst_sqrt);
}
END_TEST

START_TEST(test_across_precisions)
{
    const char *names[4] = {"trace-het", "trace-hom", "trace-dense", "nqm"};
    for (int n = 0; n < 4; n++) {
        problem P53, P256;
        TEST_OK(problem_create(&P53, names[n], 4321, 53, NULL));
        TEST_OK(problem_create(&P256, names[n], 4321, 256, NULL));
        mpmat_ptr lo[5] = {P53.H, P53.A, P53.B, P53.X0, P53.Xstar};
        mpmat_ptr hi[5] = {P256.H, P256.A, P256.B, P256.X0, P256.Xstar};
        for (int k = 0; k < 5; k++) {
            mpmat_t R;
            TEST_OK(mpmat_init(R, lo[k]->rows, lo[k]->cols, 53));
            TEST_OK(mpmat_set(R, hi[k]));
            ck_assert_msg(mpmat_equal(R, lo[k]), "%s: matrix %d at 53 bits is not the 256-bit "
                          "one rounded", names[n], k);
            mpmat_clear(R);
        }
        problem_clear(&P53), problem_clear(&P256);
    }
}
END_TEST

START_TEST(test_nqm)
{
    for (int pi = 0; pi < 3; pi++) {
        mpfr_prec_t prec = test_precisions[pi];
        const problem_info *info = problem_info_find("nqm");
        param_set ps;
        TEST_OK(param_set_init(&ps, info->params, info->nparams));
        TEST_OK(param_set_parse(&ps, "d=3000"));
        problem P;
        TEST_OK(problem_create(&P, "nqm", 5, prec, &ps));
        param_set_clear(&ps);
        ck_assert_uint_eq(P.d, 3000);
        ck_assert_uint_eq(P.p, 1);
        ck_assert_int_eq(P.diagonal, 1);
        ck_assert_uint_eq(P.H->cols, 1);
        ck_assert_uint_eq(P.A->cols, 1);
        mpq_t q;
        mpq_init(q);
        mpfr_t e;
        mpfr_init2(e, prec);
        for (unsigned long i = 1; i <= 3000; i++) {
            mpq_set_ui(q, 1, i);
            mpfr_set_q(e, q, MPFR_RNDN); /* the correctly rounded 1/i */
            ck_assert(mpfr_equal_p(e, mpmat_entry(P.H, i - 1, 0)));
            ck_assert(mpfr_equal_p(e, mpmat_entry(P.eigenvalues, i - 1, 0)));
            mpfr_set_ui(e, i, MPFR_RNDN);
            mpfr_rec_sqrt(e, e, MPFR_RNDN);
            ck_assert(mpfr_equal_p(e, mpmat_entry(P.A, i - 1, 0)));
            ck_assert(mpfr_cmp_ui(mpmat_entry(P.X0, i - 1, 0), 1) == 0);
            ck_assert(mpfr_zero_p(mpmat_entry(P.B, i - 1, 0)));
            ck_assert(mpfr_zero_p(mpmat_entry(P.Xstar, i - 1, 0)));
        }
        ck_assert(mpfr_zero_p(P.fstar));
        mpq_clear(q);
        mpfr_clear(e);
        problem_clear(&P);
    }
    problem P;
    TEST_OK(problem_create(&P, "nqm", 5, 53, NULL)); /* default d = 10000 */
    ck_assert_uint_eq(P.d, 10000);
    problem_clear(&P);
}
END_TEST

START_TEST(test_registry)
{
    static const char *names[4] = {"trace-het", "trace-hom", "trace-dense", "nqm"};
    ck_assert_uint_eq(problem_count(), 4);
    for (size_t i = 0; i < 4; i++) {
        ck_assert_str_eq(problem_info_at(i)->name, names[i]);
        ck_assert_ptr_eq(problem_info_find(names[i]), problem_info_at(i));
    }
    ck_assert_ptr_null(problem_info_at(4));
    ck_assert_ptr_null(problem_info_find("trace"));
    ck_assert_uint_eq(problem_info_find("trace-het")->nparams, 0);
    ck_assert_uint_eq(problem_info_find("trace-dense")->nparams, 6);
    ck_assert_uint_eq(problem_info_find("nqm")->nparams, 1);

    problem P;
    ck_assert_int_eq(problem_create(&P, "trace-het", 1, 52, NULL), OPTREF_EINVAL);
    ck_assert_ptr_nonnull(strstr(optref_last_error(), "precision"));
    problem_clear(&P); /* safe after a failure */
    ck_assert_int_eq(problem_create(&P, "trace-het", 1, 65537, NULL), OPTREF_EINVAL);
    ck_assert_int_eq(problem_create(&P, "nope", 1, 53, NULL), OPTREF_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(optref_last_error(), "trace-het, trace-hom, trace-dense, nqm"));
    problem_clear(&P);

    param_set ps;
    TEST_OK(param_set_init(&ps, problem_info_find("nqm")->params, 1));
    ck_assert_int_eq(problem_create(&P, "trace-dense", 1, 53, &ps), OPTREF_EINVAL);
    ck_assert_ptr_nonnull(strstr(optref_last_error(), "table"));
    param_set_clear(&ps);

    const problem_info *info = problem_info_find("trace-dense");
    TEST_OK(param_set_init(&ps, info->params, info->nparams));
    TEST_OK(param_set_parse(&ps, "lambda_min=10"));
    TEST_OK(param_set_parse(&ps, "lambda_max=5"));
    ck_assert_int_eq(problem_create(&P, "trace-dense", 1, 53, &ps), OPTREF_EINVAL);
    ck_assert_ptr_nonnull(strstr(optref_last_error(), "lambda_max=5 is below lambda_min=10"));
    problem_clear(&P);
    ck_assert_int_ne(param_set_parse(&ps, "spectrum=power:0"), OPTREF_OK);
    ck_assert_int_ne(param_set_parse(&ps, "spectrum=flat"), OPTREF_OK);
    ck_assert_int_ne(param_set_parse(&ps, "d=0"), OPTREF_OK);
    ck_assert_int_ne(param_set_parse(&ps, "b=1"), OPTREF_OK);
    /* lambda_min = lambda_max is allowed: H = lambda I up to rounding of Q */
    TEST_OK(param_set_parse(&ps, "lambda_max=10"));
    TEST_OK(param_set_parse(&ps, "b=0"));
    TEST_OK(problem_create(&P, "trace-dense", 1, 53, &ps));
    for (size_t i = 0; i < P.d; i++)
        ck_assert(mpfr_cmp_ui(mpmat_entry(P.eigenvalues, i, 0), 10) == 0);
    for (size_t k = 0; k < P.d * P.p; k++)
        ck_assert(mpfr_zero_p(P.B->e + k) && mpfr_zero_p(P.Xstar->e + k));
    ck_assert(mpfr_zero_p(P.fstar));
    ck_assert_uint_eq(P.d, 16);
    ck_assert_uint_eq(P.p, 8);
    problem_clear(&P);
    /* an exact interior value: loguniform 4 (1/4)^(1/2) = 2 (the Ziv loop's cap) */
    TEST_OK(param_set_parse(&ps, "lambda_min=1"));
    TEST_OK(param_set_parse(&ps, "lambda_max=4"));
    TEST_OK(param_set_parse(&ps, "d=3"));
    TEST_OK(problem_create(&P, "trace-dense", 1, 113, &ps));
    ck_assert(mpfr_cmp_ui(mpmat_entry(P.eigenvalues, 0, 0), 4) == 0);
    ck_assert(mpfr_cmp_ui(mpmat_entry(P.eigenvalues, 1, 0), 2) == 0);
    ck_assert(mpfr_cmp_ui(mpmat_entry(P.eigenvalues, 2, 0), 1) == 0);
    problem_clear(&P);
    param_set_clear(&ps);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("problem_spectra");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_registry);
    tcase_add_test(tc, test_blocks);
    tcase_add_test(tc, test_dense);
    tcase_add_test(tc, test_nqm);
    tcase_add_test(tc, test_across_precisions);
    suite_add_tcase(s, tc);
    return s;
}
