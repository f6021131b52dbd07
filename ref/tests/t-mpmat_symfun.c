/* mpmat_sym_sqrt, mpmat_sym_invsqrt, mpmat_sym_solve, mpmat_sym_inv_root on
 * planted spectra A = RN_p(Q diag(lambda) Q^T) (Q orthogonal to ~2^-(p+64),
 * see t-mpmat_eigh.c) at 53, 113, 256 and 1024 bits. Ratios (u = 2^-p,
 * kappa = lambda_max / lambda_min; proofs/eigh-residuals.md):
 *   sqrt     ||S S - A_+||_F / (n ||A||_F u), A_+ = A with eigenvalues in
 *            [-tol, 0) set to 0 (A_+ = A when A is semidefinite)
 *   sqrt fwd ||S - S*||_F 2 sqrt(lambda_min) / (n ||A||_F u), S* = Q sqrt(lambda) Q^T,
 *            positive definite A only
 *   invsqrt  ||S A S - I||_F / (n sqrt(kappa) u)
 *   solve    ||A X - B||_F / (n ||A||_F ||X||_F u)
 *   root     ||P^r (A + eps I) - I||_F / (n r kappa_eps u), A + eps I definite
 *   root fwd ||P - P*||_F / (n ||P*||_2 kappa_eps u), P* = Q diag((max(lambda,0)+eps)^(-1/r)) Q^T
 * Every output is exactly symmetric; outputs may alias the input; special
 * values are exact; the error cases return the documented codes. */
#include "testlib.h"

#include <stdio.h>

#include "optref/mpmat.h"

#define GUARD 64

static test_worst w_sqrt = {"sqrt ||S S - A|| / (n ||A|| u)", 0, 10};
static test_worst w_sqrt_fwd = {"sqrt ||S - S*|| 2 sqrt(l_min) / (n|A|u)", 0, 10};
static test_worst w_invsqrt = {"invsqrt ||S A S - I|| / (n sqrt(k) u)", 0, 10};
static test_worst w_solve = {"solve ||A X - B|| / (n |A| |X| u)", 0, 10};
static test_worst w_root = {"root ||P^r (A+eps) - I|| / (n r k u)", 0, 10};
static test_worst w_root_fwd = {"root ||P - P*|| / (n ||P*|| k u)", 0, 10};

static int exactly_symmetric(mpmat_srcptr S)
{
    for (size_t i = 0; i < S->rows; i++)
        for (size_t j = i + 1; j < S->cols; j++)
            if (!mpfr_equal_p(mpmat_entry(S, i, j), mpmat_entry(S, j, i)))
                return 0;
    return 1;
}

/* num / (scale 2^-p) as a long double. */
static long double ratio_of(mpfr_srcptr num, mpfr_srcptr scale, mpfr_prec_t p)
{
    mpfr_t s, r;
    mpfr_inits2(64, s, r, (mpfr_ptr)0);
    mpfr_mul_2si(s, scale, -(long)p, MPFR_RNDN);
    mpfr_div(r, num, s, MPFR_RNDN);
    long double out = mpfr_get_ld(r, MPFR_RNDN);
    mpfr_clears(s, r, (mpfr_ptr)0);
    return out;
}

/* ||M||_F / (scale 2^-p). */
static long double mat_ratio(mpmat_srcptr M, mpfr_srcptr scale, mpfr_prec_t p)
{
    mpfr_t nm;
    mpfr_init2(nm, 64);
    mpmat_norm_fro(nm, M);
    long double r = ratio_of(nm, scale, p);
    mpfr_clear(nm);
    return r;
}

/* A spectrum of size n at lam's precision: kind 0 positive definite with
 * kappa about 8 n (lambda_i = 1 + i / 2 + u_i, then scaled); kind 1 PSD with
 * zeros of multiplicity n - 2; kind 2 PD with a repeated eigenvalue; kind 3
 * PD with kappa about 2^20. */
static void spectrum(mpmat_ptr lam, int kind, test_rng *rng)
{
    size_t n = lam->rows;
    for (size_t i = 0; i < n; i++) {
        mpfr_ptr x = mpmat_entry(lam, i, 0);
        mpfr_set_uj(x, test_rng_next(rng) >> 11, MPFR_RNDN);
        mpfr_mul_2si(x, x, -53, MPFR_RNDN); /* [0, 1) */
        mpfr_add_ui(x, x, 1 + 4 * i, MPFR_RNDN);
        if (kind == 1 && i > 0 && i + 1 < n)
            mpfr_set_zero(x, 1);
        if (kind == 2 && i > 0 && i < 3 && n >= 4)
            mpfr_set_ui(x, 3, MPFR_RNDN);
        if (kind == 3 && i == 0)
            mpfr_mul_2si(x, x, -20, MPFR_RNDN);
    }
}

/* min and max of lam's entries. */
static void extremes(mpfr_ptr lo, mpfr_ptr hi, mpmat_srcptr lam)
{
    mpfr_set(lo, mpmat_entry(lam, 0, 0), MPFR_RNDN);
    mpfr_set(hi, lo, MPFR_RNDN);
    for (size_t i = 1; i < lam->rows; i++) {
        mpfr_min(lo, lo, mpmat_entry(lam, i, 0), MPFR_RNDN);
        mpfr_max(hi, hi, mpmat_entry(lam, i, 0), MPFR_RNDN);
    }
}

static void check_sqrt(mpmat_srcptr Q, mpmat_srcptr lam, mpfr_prec_t p)
{
    size_t n = Q->rows;
    mpfr_prec_t ph = p + GUARD;
    mpmat_t A, S, R, L;
    TEST_OK(mpmat_init(A, n, n, p));
    TEST_OK(mpmat_init(S, n, n, p));
    TEST_OK(mpmat_init(R, n, n, ph));
    TEST_OK(mpmat_init(L, n, 1, ph));
    test_plant_symmetric(A, Q, lam);
    TEST_OK(mpmat_sym_sqrt(S, A));
    ck_assert(exactly_symmetric(S));
    TEST_OK(mpmat_mul(R, S, S));
    TEST_OK(mpmat_sub(R, R, A));
    mpfr_t nA, lo, hi, t;
    mpfr_inits2(ph, nA, lo, hi, t, (mpfr_ptr)0);
    mpmat_norm_fro(nA, A);
    mpfr_mul_ui(t, nA, n, MPFR_RNDN);
    test_worst_add(&w_sqrt, mat_ratio(R, t, p));
    extremes(lo, hi, lam);
    if (mpfr_sgn(lo) > 0) { /* forward error against Q sqrt(lambda) Q^T */
        for (size_t i = 0; i < n; i++)
            mpfr_sqrt(mpmat_entry(L, i, 0), mpmat_entry(lam, i, 0), MPFR_RNDN);
        test_plant_symmetric(R, Q, L);
        TEST_OK(mpmat_sub(R, S, R));
        mpfr_sqrt(lo, lo, MPFR_RNDN);
        mpfr_mul_2si(lo, lo, 1, MPFR_RNDN);
        mpfr_div(t, t, lo, MPFR_RNDN); /* n ||A|| / (2 sqrt(lambda_min)) */
        test_worst_add(&w_sqrt_fwd, mat_ratio(R, t, p));
    }
    /* aliasing: A <- sqrt(A) gives the same bits */
    TEST_OK(mpmat_sym_sqrt(A, A));
    ck_assert(mpmat_equal(A, S));
    mpfr_clears(nA, lo, hi, t, (mpfr_ptr)0);
    mpmat_clear(A), mpmat_clear(S), mpmat_clear(R), mpmat_clear(L);
}

static void check_invsqrt_solve(mpmat_srcptr Q, mpmat_srcptr lam, mpfr_prec_t p, test_rng *rng)
{
    size_t n = Q->rows;
    mpfr_prec_t ph = p + GUARD;
    mpmat_t A, S, R, T, B, X, X2;
    TEST_OK(mpmat_init(A, n, n, p));
    TEST_OK(mpmat_init(S, n, n, p));
    TEST_OK(mpmat_init(R, n, n, ph));
    TEST_OK(mpmat_init(T, n, n, ph));
    test_plant_symmetric(A, Q, lam);
    mpfr_t lo, hi, t, nA, nX;
    mpfr_inits2(ph, lo, hi, t, nA, nX, (mpfr_ptr)0);
    extremes(lo, hi, lam);
    /* invsqrt: S A S - I */
    TEST_OK(mpmat_sym_invsqrt(S, A));
    ck_assert(exactly_symmetric(S));
    TEST_OK(mpmat_mul(T, S, A));
    TEST_OK(mpmat_mul(R, T, S));
    for (size_t i = 0; i < n; i++)
        mpfr_sub_ui(mpmat_entry(R, i, i), mpmat_entry(R, i, i), 1, MPFR_RNDN);
    mpfr_div(t, hi, lo, MPFR_RNDN);
    mpfr_sqrt(t, t, MPFR_RNDN);
    mpfr_mul_ui(t, t, n, MPFR_RNDN);
    test_worst_add(&w_invsqrt, mat_ratio(R, t, p));
    /* inv_root with r = 2, eps = 0 is the same function, rounded the same way */
    mpmat_t P;
    TEST_OK(mpmat_init(P, n, n, p));
    mpfr_set_zero(t, 1);
    TEST_OK(mpmat_sym_inv_root(P, A, 2, t));
    ck_assert(mpmat_equal(P, S));
    mpmat_clear(P);

    /* solve with 1 and 3 right-hand sides */
    mpmat_norm_fro(nA, A);
    for (size_t m = 1; m <= 3; m += 2) {
        TEST_OK(mpmat_init(B, n, m, p));
        TEST_OK(mpmat_init(X, n, m, p));
        TEST_OK(mpmat_init(X2, n, m, p));
        mpmat_t AX;
        TEST_OK(mpmat_init(AX, n, m, ph));
        test_fill_uniform(B, rng);
        TEST_OK(mpmat_sym_solve(X, A, B));
        TEST_OK(mpmat_mul(AX, A, X));
        TEST_OK(mpmat_sub(AX, AX, B));
        mpmat_norm_fro(nX, X);
        mpfr_mul(t, nA, nX, MPFR_RNDN);
        mpfr_mul_ui(t, t, n, MPFR_RNDN);
        test_worst_add(&w_solve, mat_ratio(AX, t, p));
        TEST_OK(mpmat_set(X2, B)); /* aliasing X = B */
        TEST_OK(mpmat_sym_solve(X2, A, X2));
        ck_assert(mpmat_equal(X, X2));
        mpmat_clear(B), mpmat_clear(X), mpmat_clear(X2), mpmat_clear(AX);
    }
    mpfr_clears(lo, hi, t, nA, nX, (mpfr_ptr)0);
    mpmat_clear(A), mpmat_clear(S), mpmat_clear(R), mpmat_clear(T);
}

/* Shampoo's inverse root for r = 1..4, with lam possibly semidefinite or
 * with a negative eigenvalue (clamped to 0 before eps is added). */
static void check_inv_root(mpmat_srcptr Q, mpmat_srcptr lam, mpfr_srcptr eps, mpfr_prec_t p,
                           int definite)
{
    size_t n = Q->rows;
    mpfr_prec_t ph = p + GUARD;
    mpmat_t A, P, M, R, T, Ps, L;
    TEST_OK(mpmat_init(A, n, n, p));
    TEST_OK(mpmat_init(P, n, n, p));
    TEST_OK(mpmat_init(M, n, n, ph));
    TEST_OK(mpmat_init(R, n, n, ph));
    TEST_OK(mpmat_init(T, n, n, ph));
    TEST_OK(mpmat_init(Ps, n, n, ph));
    TEST_OK(mpmat_init(L, n, 1, ph));
    test_plant_symmetric(A, Q, lam);
    mpfr_t lo, hi, k, s;
    mpfr_inits2(ph, lo, hi, k, s, (mpfr_ptr)0);
    /* mu = max(lambda, 0) + eps; kappa_eps = mu_max / mu_min */
    mpfr_set_zero(s, 1);
    for (size_t i = 0; i < n; i++) {
        mpfr_max(mpmat_entry(L, i, 0), mpmat_entry(lam, i, 0), s, MPFR_RNDN);
        mpfr_add(mpmat_entry(L, i, 0), mpmat_entry(L, i, 0), eps, MPFR_RNDN);
    }
    extremes(lo, hi, L);
    mpfr_div(k, hi, lo, MPFR_RNDN);
    /* M = A + eps I (exact at ph) */
    TEST_OK(mpmat_set(M, A));
    for (size_t i = 0; i < n; i++)
        mpfr_add(mpmat_entry(M, i, i), mpmat_entry(M, i, i), eps, MPFR_RNDN);
    for (unsigned long r = 1; r <= 4; r++) {
        TEST_OK(mpmat_sym_inv_root(P, A, r, eps));
        ck_assert(exactly_symmetric(P));
        /* P^r (A + eps I) - I, for positive definite A only: where a
         * computed eigenvalue is clamped (a zero or negative one) P is not a
         * function of A + eps I */
        if (definite) {
        TEST_OK(mpmat_set(T, P));
        for (unsigned long j = 1; j < r; j++)
            TEST_OK(mpmat_mul(T, T, P));
        TEST_OK(mpmat_mul(R, T, M));
        for (size_t i = 0; i < n; i++)
            mpfr_sub_ui(mpmat_entry(R, i, i), mpmat_entry(R, i, i), 1, MPFR_RNDN);
        mpfr_mul_ui(s, k, n * r, MPFR_RNDN); /* n r kappa_eps */
        test_worst_add(&w_root, mat_ratio(R, s, p));
        }
        /* forward: P* = Q diag(mu^(-1/r)) Q^T */
        mpmat_t F;
        TEST_OK(mpmat_init(F, n, 1, ph));
        for (size_t i = 0; i < n; i++) {
            mpfr_rootn_ui(mpmat_entry(F, i, 0), mpmat_entry(L, i, 0), r, MPFR_RNDN);
            mpfr_ui_div(mpmat_entry(F, i, 0), 1, mpmat_entry(F, i, 0), MPFR_RNDN);
        }
        test_plant_symmetric(Ps, Q, F);
        TEST_OK(mpmat_sub(T, P, Ps));
        mpfr_rootn_ui(s, lo, r, MPFR_RNDN); /* ||P*||_2 = mu_min^(-1/r) */
        mpfr_ui_div(s, 1, s, MPFR_RNDN);
        mpfr_mul(s, s, k, MPFR_RNDN);
        mpfr_mul_ui(s, s, n, MPFR_RNDN);
        test_worst_add(&w_root_fwd, mat_ratio(T, s, p));
        mpmat_clear(F);
    }
    mpfr_clears(lo, hi, k, s, (mpfr_ptr)0);
    mpmat_clear(A), mpmat_clear(P), mpmat_clear(M), mpmat_clear(R), mpmat_clear(T);
    mpmat_clear(Ps), mpmat_clear(L);
}

START_TEST(test_planted)
{
    test_rng rng = {31};
    const size_t sizes[] = {1, 2, 3, 5, 8, 16};
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip];
        for (size_t is = 0; is < sizeof sizes / sizeof sizes[0]; is++) {
            size_t n = sizes[is];
            if (n == 16 && p > 113)
                continue;
            for (int kind = 0; kind < 4; kind++) {
                mpmat_t Q, lam;
                TEST_OK(mpmat_init(Q, n, n, p + GUARD));
                TEST_OK(mpmat_init(lam, n, 1, p + GUARD));
                test_random_orthogonal(Q, &rng);
                spectrum(lam, kind, &rng);
                check_sqrt(Q, lam, p);
                if (kind != 1)
                    check_invsqrt_solve(Q, lam, p, &rng);
                mpfr_t eps;
                mpfr_init2(eps, 53);
                mpfr_set_ui_2exp(eps, 1, -10, MPFR_RNDN);
                check_inv_root(Q, lam, eps, p, kind != 1 || n < 3);
                if (kind == 1 && p >= 113) { /* Shampoo: rank-deficient, eps ~ 1e-12 */
                    mpfr_set_ui_2exp(eps, 1, -40, MPFR_RNDN);
                    check_inv_root(Q, lam, eps, p, n < 3);
                }
                if (kind == 0 && n >= 2) { /* a negative eigenvalue, clamped to 0 */
                    mpfr_set_si(mpmat_entry(lam, n - 1, 0), -1, MPFR_RNDN);
                    mpfr_set_ui_2exp(eps, 1, -4, MPFR_RNDN);
                    check_inv_root(Q, lam, eps, p, 0);
                }
                mpfr_clear(eps);
                mpmat_clear(Q), mpmat_clear(lam);
            }
        }
    }
    test_worst_report(&w_sqrt);
    test_worst_report(&w_sqrt_fwd);
    test_worst_report(&w_invsqrt);
    test_worst_report(&w_solve);
    test_worst_report(&w_root);
    test_worst_report(&w_root_fwd);
}
END_TEST

/* Eigenvalues slightly below zero: above -tol they are treated as zero,
 * below it sqrt fails. tol = 2^(-p/2) ||A||_F. */
START_TEST(test_sqrt_negative)
{
    test_rng rng = {32};
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip], ph = p + GUARD;
        size_t n = 4;
        mpmat_t Q, lam, A, S, R, Ap;
        TEST_OK(mpmat_init(Q, n, n, ph));
        TEST_OK(mpmat_init(lam, n, 1, ph));
        TEST_OK(mpmat_init(A, n, n, p));
        TEST_OK(mpmat_init(S, n, n, p));
        TEST_OK(mpmat_init(R, n, n, ph));
        TEST_OK(mpmat_init(Ap, n, n, ph));
        test_random_orthogonal(Q, &rng);
        static const long base[4] = {4, 2, 1, 0};
        for (size_t i = 0; i < n; i++)
            mpfr_set_si(mpmat_entry(lam, i, 0), base[i], MPFR_RNDN);
        mpfr_t tol, nA;
        mpfr_inits2(ph, tol, nA, (mpfr_ptr)0);
        mpfr_set_ui(tol, 21, MPFR_RNDN); /* ||lambda||_2^2 = 16 + 4 + 1 */
        mpfr_sqrt(tol, tol, MPFR_RNDN);
        mpfr_mul_2si(nA, tol, -(long)p, MPFR_RNDN);
        mpfr_sqrt(tol, nA, MPFR_RNDN);
        mpfr_sqrt_ui(nA, 21, MPFR_RNDN);
        mpfr_mul(tol, tol, nA, MPFR_RNDN); /* 2^(-p/2) ||A||_F, as 2^(-p/2) sqrt(21) */
        /* -tol / 4: treated as zero, S S = A_+ = Q diag(4, 2, 1, 0) Q^T */
        mpfr_div_si(mpmat_entry(lam, 3, 0), tol, -4, MPFR_RNDN);
        test_plant_symmetric(A, Q, lam);
        TEST_OK(mpmat_sym_sqrt(S, A));
        mpfr_set_zero(mpmat_entry(lam, 3, 0), 1);
        test_plant_symmetric(Ap, Q, lam);
        TEST_OK(mpmat_mul(R, S, S));
        TEST_OK(mpmat_sub(R, R, Ap));
        mpfr_mul_ui(nA, nA, n, MPFR_RNDN);
        test_worst_add(&w_sqrt, mat_ratio(R, nA, p));
        /* -2 tol: not semidefinite */
        mpfr_mul_si(mpmat_entry(lam, 3, 0), tol, -2, MPFR_RNDN);
        test_plant_symmetric(A, Q, lam);
        ck_assert_int_eq(mpmat_sym_sqrt(S, A), OPTREF_EINVAL);
        mpfr_clears(tol, nA, (mpfr_ptr)0);
        mpmat_clear(Q), mpmat_clear(lam), mpmat_clear(A), mpmat_clear(S), mpmat_clear(R);
        mpmat_clear(Ap);
    }
    test_worst_report(&w_sqrt);
}
END_TEST

START_TEST(test_exact_cases)
{
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip];
        mpmat_t A, S, E;
        mpfr_t eps;
        mpfr_init2(eps, p);
        /* 1 x 1 */
        TEST_OK(mpmat_init(A, 1, 1, p));
        TEST_OK(mpmat_init(S, 1, 1, p));
        mpfr_set_ui(A->e, 16, MPFR_RNDN);
        TEST_OK(mpmat_sym_sqrt(S, A));
        ck_assert(mpfr_cmp_ui(S->e, 4) == 0);
        TEST_OK(mpmat_sym_invsqrt(S, A));
        ck_assert(mpfr_cmp_ui_2exp(S->e, 1, -2) == 0);
        TEST_OK(mpmat_sym_solve(S, A, A));
        ck_assert(mpfr_cmp_ui(S->e, 1) == 0);
        mpfr_set_zero(eps, 1);
        TEST_OK(mpmat_sym_inv_root(S, A, 4, eps));
        ck_assert(mpfr_cmp_ui_2exp(S->e, 1, -1) == 0);
        mpfr_set_ui(A->e, 15, MPFR_RNDN);
        mpfr_set_ui(eps, 1, MPFR_RNDN);
        TEST_OK(mpmat_sym_inv_root(S, A, 2, eps));
        ck_assert(mpfr_cmp_ui_2exp(S->e, 1, -2) == 0);
        mpfr_set_ui(A->e, 7, MPFR_RNDN); /* (7 + 1)^(-1/3) = 1/2 */
        TEST_OK(mpmat_sym_inv_root(S, A, 3, eps));
        ck_assert(mpfr_cmp_ui_2exp(S->e, 1, -1) == 0);
        mpmat_clear(A), mpmat_clear(S);
        /* zero and identity: sqrt(0) = 0, sqrt(I) = invsqrt(I) = I, solve(I, B) = B,
         * inv_root(0, r, eps = 2^-8 ... ) = 2^(8/r) I for r = 1, 2, 4, 8 */
        TEST_OK(mpmat_init(A, 5, 5, p));
        TEST_OK(mpmat_init(S, 5, 5, p));
        TEST_OK(mpmat_init(E, 5, 5, p));
        TEST_OK(mpmat_sym_sqrt(S, A));
        ck_assert(mpmat_equal(S, A));
        for (unsigned long r = 1; r <= 8; r *= 2) {
            mpfr_set_ui_2exp(eps, 1, -8, MPFR_RNDN);
            TEST_OK(mpmat_sym_inv_root(S, A, r, eps));
            mpmat_one(E);
            mpfr_set_ui_2exp(eps, 1, (long)(8 / r), MPFR_RNDN);
            TEST_OK(mpmat_scale(E, E, eps));
            ck_assert(mpmat_equal(S, E));
        }
        mpmat_one(A), mpmat_one(E);
        TEST_OK(mpmat_sym_sqrt(S, A));
        ck_assert(mpmat_equal(S, E));
        TEST_OK(mpmat_sym_invsqrt(S, A));
        ck_assert(mpmat_equal(S, E));
        TEST_OK(mpmat_sym_solve(S, A, E));
        ck_assert(mpmat_equal(S, E));
        mpmat_clear(A), mpmat_clear(S), mpmat_clear(E);
        mpfr_clear(eps);
    }
}
END_TEST

START_TEST(test_errors)
{
    mpmat_t A, S, B, X, R;
    mpfr_t eps;
    mpfr_init2(eps, 53);
    mpfr_set_ui(eps, 1, MPFR_RNDN);
    TEST_OK(mpmat_init(A, 3, 3, 53));
    TEST_OK(mpmat_init(S, 3, 3, 53));
    TEST_OK(mpmat_init(B, 3, 2, 53));
    TEST_OK(mpmat_init(X, 3, 2, 53));
    TEST_OK(mpmat_init(R, 2, 3, 53));
    /* shapes */
    ck_assert_int_eq(mpmat_sym_sqrt(S, B), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_sym_sqrt(B, A), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_sym_invsqrt(B, A), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_sym_inv_root(B, A, 2, eps), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_sym_solve(X, A, R), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_sym_solve(S, A, B), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_sym_solve(X, B, B), OPTREF_ESHAPE);
    /* singular and indefinite */
    ck_assert_int_eq(mpmat_sym_invsqrt(S, A), OPTREF_EINVAL); /* zero matrix */
    ck_assert_int_eq(mpmat_sym_solve(X, A, B), OPTREF_EINVAL);
    mpmat_one(A);
    mpfr_set_si(mpmat_entry(A, 1, 1), -1, MPFR_RNDN);
    ck_assert_int_eq(mpmat_sym_invsqrt(S, A), OPTREF_EINVAL);
    ck_assert_int_eq(mpmat_sym_solve(X, A, B), OPTREF_EINVAL);
    ck_assert_int_eq(mpmat_sym_sqrt(S, A), OPTREF_EINVAL);
    TEST_OK(mpmat_sym_inv_root(S, A, 2, eps)); /* clamped: fine */
    /* inv_root arguments */
    mpmat_one(A);
    ck_assert_int_eq(mpmat_sym_inv_root(S, A, 0, eps), OPTREF_EINVAL);
    mpfr_set_si(eps, -1, MPFR_RNDN);
    ck_assert_int_eq(mpmat_sym_inv_root(S, A, 2, eps), OPTREF_EINVAL);
    mpfr_set_nan(eps);
    ck_assert_int_eq(mpmat_sym_inv_root(S, A, 2, eps), OPTREF_ENONFINITE);
    mpfr_set_zero(eps, 1);
    TEST_OK(mpmat_sym_inv_root(S, A, 2, eps));
    mpfr_set_zero(mpmat_entry(A, 2, 2), 1);
    ck_assert_int_eq(mpmat_sym_inv_root(S, A, 2, eps), OPTREF_EINVAL); /* 0 + 0 */
    /* non-finite and asymmetric input */
    mpmat_one(A);
    mpfr_set_inf(mpmat_entry(B, 1, 1), -1);
    ck_assert_int_eq(mpmat_sym_solve(X, A, B), OPTREF_ENONFINITE);
    mpfr_set_nan(mpmat_entry(A, 0, 0));
    ck_assert_int_eq(mpmat_sym_sqrt(S, A), OPTREF_ENONFINITE);
    mpmat_one(A);
    mpfr_set_ui(mpmat_entry(A, 0, 1), 1, MPFR_RNDN);
    ck_assert_int_eq(mpmat_sym_sqrt(S, A), OPTREF_EINVAL);
    mpfr_clear(eps);
    mpmat_clear(A), mpmat_clear(S), mpmat_clear(B), mpmat_clear(X), mpmat_clear(R);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("mpmat_symfun");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_exact_cases);
    tcase_add_test(tc, test_sqrt_negative);
    tcase_add_test(tc, test_planted);
    suite_add_tcase(s, tc);
    return s;
}
