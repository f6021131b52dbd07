/* mpmat_basis_canonical_cluster, mpmat_basis_complete and
 * mpmat_column_sign_canonical (spec/optimizers.md 1.2).
 *
 * Ratios (u = 2^-p, p the matrix's precision; proofs/eigh-residuals.md):
 *   oracle     ||K - K*||_F / (n u): K* is the rule evaluated independently
 *              here at p + 64 bits (projector P = V_c V_c^T formed
 *              explicitly, Gram-Schmidt twice of its columns P e_i)
 *   invariance ||K(V_c) - K(V_c R)||_F / (n u) for R a random orthogonal
 *              d x d: the result depends only on the subspace
 *   orth       ||K^T K - I||_F / (n u)
 *   span       ||K - V_c V_c^T K||_F / (n u): the span is preserved
 * and for the completion of the kept columns V_0 (n x c0) to n x k:
 *   the same oracle, invariance under V_0 -> V_0 R, orthonormality of all k
 *   columns (so the completion spans a complement of span V_0, all of it
 *   when k = n), kept columns untouched bit for bit.
 * Exact cases: the identity, coordinate subspaces, a skipped candidate. */
#include "testlib.h"

#include <stdio.h>

#include "optref/mpmat.h"

#define GUARD 64

static test_worst w_oracle = {"basis ||K - K*|| / (n u)", 0, 100};
static test_worst w_inv = {"basis ||K(V) - K(V R)|| / (n u)", 0, 100};
static test_worst w_orth = {"basis ||K^T K - I|| / (n u)", 0, 10};
static test_worst w_span = {"basis ||K - V V^T K|| / (n u)", 0, 10};
static test_worst w_c_oracle = {"complete ||C - C*|| / (n u)", 0, 100};
static test_worst w_c_inv = {"complete ||C(V0) - C(V0 R)|| / (n u)", 0, 100};
static test_worst w_c_orth = {"complete ||V^T V - I|| / (n u)", 0, 10};

/* The rule of spec 1.2, written independently: the columns of K (n x d, at
 * K's precision) become Gram-Schmidt (twice) of the candidates x_i, i = 0,
 * 1, ..., skipping those with 4 n ||x||^2 < 1 after orthogonalisation. The
 * candidates are the columns of X (n x n). K's first `have` columns are kept. */
static void oracle_rule(mpmat_ptr K, size_t have, mpmat_srcptr X)
{
    size_t n = K->rows, d = K->cols;
    mpfr_t c, x[64];
    ck_assert(n <= 64);
    mpfr_init2(c, K->prec);
    for (size_t k = 0; k < n; k++)
        mpfr_init2(x[k], K->prec);
    for (size_t i = 0; i < n && have < d; i++) {
        for (size_t k = 0; k < n; k++)
            mpfr_set(x[k], mpmat_entry(X, k, i), MPFR_RNDN);
        for (int pass = 0; pass < 2; pass++)
            for (size_t j = 0; j < have; j++) {
                mpfr_set_zero(c, 1);
                for (size_t k = 0; k < n; k++)
                    mpfr_fma(c, mpmat_entry(K, k, j), x[k], c, MPFR_RNDN);
                mpfr_neg(c, c, MPFR_RNDN);
                for (size_t k = 0; k < n; k++)
                    mpfr_fma(x[k], c, mpmat_entry(K, k, j), x[k], MPFR_RNDN);
            }
        mpfr_set_zero(c, 1);
        for (size_t k = 0; k < n; k++)
            mpfr_fma(c, x[k], x[k], c, MPFR_RNDN);
        mpfr_mul_ui(c, c, 4 * (unsigned long)n, MPFR_RNDN);
        if (mpfr_cmp_ui(c, 1) < 0)
            continue;
        mpfr_div_ui(c, c, 4 * (unsigned long)n, MPFR_RNDN);
        mpfr_sqrt(c, c, MPFR_RNDN);
        for (size_t k = 0; k < n; k++)
            mpfr_div(mpmat_entry(K, k, have), x[k], c, MPFR_RNDN);
        have++;
    }
    ck_assert_msg(have == d, "oracle found %zu of %zu vectors", have, d);
    mpfr_clear(c);
    for (size_t k = 0; k < n; k++)
        mpfr_clear(x[k]);
}

/* ||X - Y||_F / (n u) for matrices of one shape. */
static long double diff_ratio(mpmat_srcptr X, mpmat_srcptr Y, size_t n, mpfr_prec_t p)
{
    mpmat_t D;
    TEST_OK(mpmat_init(D, X->rows, X->cols, p + GUARD));
    TEST_OK(mpmat_sub(D, X, Y));
    mpfr_t s;
    mpfr_init2(s, 64);
    mpfr_set_ui(s, n, MPFR_RNDN);
    long double r = test_ratio(D, s, p);
    mpfr_clear(s);
    mpmat_clear(D);
    return r;
}

/* ||K^T K - I||_F / (n u). */
static long double orth_ratio(mpmat_srcptr K, mpfr_prec_t p)
{
    mpmat_t G;
    TEST_OK(mpmat_init(G, K->cols, K->cols, p + GUARD));
    TEST_OK(mpmat_mul_tn(G, K, K));
    for (size_t i = 0; i < K->cols; i++)
        mpfr_sub_ui(mpmat_entry(G, i, i), mpmat_entry(G, i, i), 1, MPFR_RNDN);
    mpfr_t s;
    mpfr_init2(s, 64);
    mpfr_set_ui(s, K->rows, MPFR_RNDN);
    long double r = test_ratio(G, s, p);
    mpfr_clear(s);
    mpmat_clear(G);
    return r;
}

/* One cluster case: V is an n x k matrix whose columns [c0, c1) are
 * orthonormal (columns of a random orthogonal matrix), the others random. */
static void check_cluster(size_t n, size_t k, size_t c0, size_t c1, mpfr_prec_t p,
                          test_rng *rng)
{
    size_t d = c1 - c0;
    mpfr_prec_t ph = p + GUARD;
    mpmat_t Q, R, V, V2, Vc, Vr, Kc, K2c, Ko, P, T;
    TEST_OK(mpmat_init(Q, n, n, p));
    TEST_OK(mpmat_init(V, n, k, p));
    test_random_orthogonal(Q, rng);
    test_fill_uniform(V, rng);
    for (size_t i = 0; i < n; i++)
        for (size_t j = c0; j < c1; j++)
            mpfr_set(mpmat_entry(V, i, j), mpmat_entry(Q, i, j - c0), MPFR_RNDN);
    /* V2: the same columns rotated by a random orthogonal d x d R */
    TEST_OK(mpmat_init(R, d, d, p));
    test_random_orthogonal(R, rng);
    test_columns(Vc, V, c0, c1, p);
    TEST_OK(mpmat_init(Vr, n, d, p));
    TEST_OK(mpmat_mul(Vr, Vc, R));
    TEST_OK(mpmat_init(V2, n, k, p));
    TEST_OK(mpmat_set(V2, V));
    for (size_t i = 0; i < n; i++)
        for (size_t j = c0; j < c1; j++)
            mpfr_set(mpmat_entry(V2, i, j), mpmat_entry(Vr, i, j - c0), MPFR_RNDN);

    mpmat_t Vsave;
    TEST_OK(mpmat_init(Vsave, n, k, p));
    TEST_OK(mpmat_set(Vsave, V));
    TEST_OK(mpmat_basis_canonical_cluster(V, c0, c1));
    TEST_OK(mpmat_basis_canonical_cluster(V2, c0, c1));
    /* columns outside [c0, c1) untouched */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++)
            if (j < c0 || j >= c1)
                ck_assert(mpfr_equal_p(mpmat_entry(V, i, j), mpmat_entry(Vsave, i, j)));
    test_columns(Kc, V, c0, c1, p);
    test_columns(K2c, V2, c0, c1, p);
    test_worst_add(&w_inv, diff_ratio(Kc, K2c, n, p));
    test_worst_add(&w_orth, orth_ratio(Kc, p));
    test_worst_add(&w_orth, orth_ratio(K2c, p));

    /* span: K - Vc Vc^T K */
    TEST_OK(mpmat_init(P, n, n, ph));
    TEST_OK(mpmat_mul_nt(P, Vc, Vc));
    TEST_OK(mpmat_init(T, n, d, ph));
    TEST_OK(mpmat_mul(T, P, Kc));
    test_worst_add(&w_span, diff_ratio(Kc, T, n, p));

    /* the independent evaluation at ph from the projector's columns */
    TEST_OK(mpmat_init(Ko, n, d, ph));
    oracle_rule(Ko, 0, P);
    test_worst_add(&w_oracle, diff_ratio(Kc, Ko, n, p));

    mpmat_clear(Q), mpmat_clear(R), mpmat_clear(V), mpmat_clear(V2), mpmat_clear(Vc);
    mpmat_clear(Vr), mpmat_clear(Kc), mpmat_clear(K2c), mpmat_clear(Ko), mpmat_clear(P);
    mpmat_clear(T), mpmat_clear(Vsave);
}

START_TEST(test_cluster_random)
{
    test_rng rng = {21};
    const size_t sizes[] = {1, 2, 3, 5, 8, 16};
    for (int ip = 0; ip < 4; ip++)
        for (size_t is = 0; is < sizeof sizes / sizeof sizes[0]; is++) {
            size_t n = sizes[is];
            if (n == 16 && test_precisions[ip] > 113)
                continue;
            /* d = 1, 2, 3, n - 1, n at offsets 0 and 1 inside n x n or n x (d + 2) */
            size_t ds[5] = {1, 2, 3, n - 1, n};
            for (int id = 0; id < 5; id++) {
                size_t d = ds[id];
                if (d == 0 || d > n)
                    continue;
                check_cluster(n, n, 0, d, test_precisions[ip], &rng);
                check_cluster(n, n, n - d, n, test_precisions[ip], &rng);
                check_cluster(n, d + 2, 1, d + 1, test_precisions[ip], &rng);
            }
        }
    test_worst_report(&w_oracle);
    test_worst_report(&w_inv);
    test_worst_report(&w_orth);
    test_worst_report(&w_span);
}
END_TEST

/* Completion of c0 random orthonormal columns of an n x k matrix. */
static void check_complete(size_t n, size_t k, size_t c0, mpfr_prec_t p, test_rng *rng)
{
    mpfr_prec_t ph = p + GUARD;
    mpmat_t Q, V, V2, R, V0, V0r, Co, X, C1, C2;
    TEST_OK(mpmat_init(Q, n, n, p));
    test_random_orthogonal(Q, rng);
    TEST_OK(mpmat_init(V, n, k, p));
    test_fill_uniform(V, rng); /* the columns to be replaced hold garbage */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < c0; j++)
            mpfr_set(mpmat_entry(V, i, j), mpmat_entry(Q, i, j), MPFR_RNDN);
    test_columns(V0, V, 0, c0, p);
    TEST_OK(mpmat_init(R, c0, c0, p));
    test_random_orthogonal(R, rng);
    TEST_OK(mpmat_init(V0r, n, c0, p));
    TEST_OK(mpmat_mul(V0r, V0, R));
    TEST_OK(mpmat_init(V2, n, k, p));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < c0; j++)
            mpfr_set(mpmat_entry(V2, i, j), mpmat_entry(V0r, i, j), MPFR_RNDN);

    TEST_OK(mpmat_basis_complete(V, c0));
    TEST_OK(mpmat_basis_complete(V2, c0));
    for (size_t i = 0; i < n; i++) /* kept columns untouched */
        for (size_t j = 0; j < c0; j++)
            ck_assert(mpfr_equal_p(mpmat_entry(V, i, j), mpmat_entry(V0, i, j)));
    test_worst_add(&w_c_orth, orth_ratio(V, p));
    test_worst_add(&w_c_orth, orth_ratio(V2, p));
    test_columns(C1, V, c0, k, p);
    test_columns(C2, V2, c0, k, p);
    test_worst_add(&w_c_inv, diff_ratio(C1, C2, n, p));
    /* oracle: Gram-Schmidt of e_1, e_2, ... against the kept columns, at ph */
    TEST_OK(mpmat_init(Co, n, k, ph));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < c0; j++)
            mpfr_set(mpmat_entry(Co, i, j), mpmat_entry(V0, i, j), MPFR_RNDN);
    TEST_OK(mpmat_init(X, n, n, ph));
    mpmat_one(X);
    oracle_rule(Co, c0, X);
    test_worst_add(&w_c_oracle, diff_ratio(V, Co, n, p));
    mpmat_clear(Q), mpmat_clear(V), mpmat_clear(V2), mpmat_clear(R), mpmat_clear(V0);
    mpmat_clear(V0r), mpmat_clear(Co), mpmat_clear(X), mpmat_clear(C1), mpmat_clear(C2);
}

START_TEST(test_complete_random)
{
    test_rng rng = {22};
    const size_t sizes[] = {1, 2, 3, 5, 8, 16};
    for (int ip = 0; ip < 4; ip++)
        for (size_t is = 0; is < sizeof sizes / sizeof sizes[0]; is++) {
            size_t n = sizes[is];
            if (n == 16 && test_precisions[ip] > 113)
                continue;
            for (size_t c0 = 0; c0 <= n; c0 += (n > 4 ? 2 : 1)) {
                check_complete(n, n, c0, test_precisions[ip], &rng);
                if (c0 + 1 < n)
                    check_complete(n, c0 + 1, c0, test_precisions[ip], &rng);
            }
        }
    test_worst_report(&w_c_oracle);
    test_worst_report(&w_c_inv);
    test_worst_report(&w_c_orth);
}
END_TEST

/* Exact results compared as values (test_same_values): the rule may return -0
 * where a product of a negative entry and 0 was taken; the sign of zero is
 * not part of it. */
START_TEST(test_exact_cases)
{
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip];
        mpmat_t V, E;
        /* the identity, and any permutation with signs, spans everything: I */
        TEST_OK(mpmat_init(V, 4, 4, p));
        TEST_OK(mpmat_init(E, 4, 4, p));
        static const long perm[16] = {0, 0, -1, 0, 1, 0, 0, 0, 0, 0, 0, -1, 0, 1, 0, 0};
        mpmat_one(E);
        mpmat_one(V);
        TEST_OK(mpmat_basis_canonical_cluster(V, 0, 4));
        ck_assert(test_same_values(V, E));
        test_set_ints(V, perm);
        TEST_OK(mpmat_basis_canonical_cluster(V, 0, 4));
        ck_assert(test_same_values(V, E));
        /* completion of nothing is the identity */
        test_set_ints(V, perm);
        TEST_OK(mpmat_basis_complete(V, 0));
        ck_assert(test_same_values(V, E));
        /* columns 1..2 = (e_3, -e_0) (0-based): the rule gives (e_0, e_3), skipping
         * P e_1 = P e_2 = 0 */
        test_set_ints(V, perm);
        TEST_OK(mpmat_basis_canonical_cluster(V, 1, 3));
        static const long e1[16] = {0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, -1, 0, 0, 1, 0};
        test_set_ints(E, e1);
        ck_assert(test_same_values(V, E));
        /* a single column -e_1 becomes e_1 (P e_0 = 0 skipped) */
        static const long m2[16] = {0, 0, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        static const long p2[16] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        test_set_ints(V, m2), test_set_ints(E, p2);
        TEST_OK(mpmat_basis_canonical_cluster(V, 0, 1));
        ck_assert(test_same_values(V, E));
        /* completing e_1 in 4 dimensions: e_0, (e_1 skipped), e_2, e_3 */
        static const long c2[16] = {0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
        test_set_ints(E, c2);
        TEST_OK(mpmat_basis_complete(V, 1));
        ck_assert(test_same_values(V, E));
        /* an empty cluster changes nothing */
        TEST_OK(mpmat_basis_canonical_cluster(V, 2, 2));
        ck_assert(test_same_values(V, E));
        TEST_OK(mpmat_basis_complete(V, 4));
        ck_assert(test_same_values(V, E));
        mpmat_clear(V), mpmat_clear(E);

        /* completing (e_1 + e_2)/sqrt 2 in 2 dimensions: (e_1 - e_2)/sqrt 2 */
        TEST_OK(mpmat_init(V, 2, 2, p));
        mpfr_t h;
        mpfr_init2(h, p);
        mpfr_set_ui_2exp(h, 1, -1, MPFR_RNDN);
        mpfr_sqrt(h, h, MPFR_RNDN);
        mpfr_set(mpmat_entry(V, 0, 0), h, MPFR_RNDN);
        mpfr_set(mpmat_entry(V, 1, 0), h, MPFR_RNDN);
        TEST_OK(mpmat_basis_complete(V, 1));
        mpmat_t C, Ce;
        test_columns(C, V, 1, 2, p);
        TEST_OK(mpmat_init(Ce, 2, 1, p));
        mpfr_set(mpmat_entry(Ce, 0, 0), h, MPFR_RNDN);
        mpfr_neg(mpmat_entry(Ce, 1, 0), h, MPFR_RNDN);
        long double r = diff_ratio(C, Ce, 2, p);
        ck_assert_msg(r < 4, "completion of (1,1)/sqrt2: ratio %Lg", r);
        mpfr_clear(h);
        mpmat_clear(V), mpmat_clear(C), mpmat_clear(Ce);
    }
}
END_TEST

START_TEST(test_sign_canonical)
{
    mpmat_t V;
    TEST_OK(mpmat_init(V, 3, 2, 53));
    static const long v[6] = {1, -2, -3, 2, 2, 1};
    test_set_ints(V, v);
    mpmat_column_sign_canonical(V, 0); /* largest |.| is -3 at index 1: negate */
    mpmat_column_sign_canonical(V, 1); /* tie |-2| = |2|: the first (-2) decides */
    static const long e[6] = {-1, 2, 3, -2, -2, -1};
    for (size_t k = 0; k < 6; k++)
        ck_assert(mpfr_cmp_si(V->e + k, e[k]) == 0);
    mpmat_column_sign_canonical(V, 1); /* idempotent */
    for (size_t k = 0; k < 6; k++)
        ck_assert(mpfr_cmp_si(V->e + k, e[k]) == 0);
    mpmat_clear(V);
}
END_TEST

START_TEST(test_errors)
{
    mpmat_t V;
    TEST_OK(mpmat_init(V, 4, 3, 53));
    ck_assert_int_eq(mpmat_basis_canonical_cluster(V, 2, 1), OPTREF_EINVAL);
    ck_assert_int_eq(mpmat_basis_canonical_cluster(V, 0, 4), OPTREF_EINVAL);
    ck_assert_int_eq(mpmat_basis_complete(V, 4), OPTREF_EINVAL);
    mpmat_clear(V);
    TEST_OK(mpmat_init(V, 2, 3, 53)); /* more columns than rows cannot be completed */
    ck_assert_int_eq(mpmat_basis_complete(V, 0), OPTREF_EINVAL);
    /* more cluster columns than rows cannot be orthonormal (and must not overrun) */
    ck_assert_int_eq(mpmat_basis_canonical_cluster(V, 0, 3), OPTREF_EINVAL);
    mpmat_clear(V);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("mpmat_basis");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_sign_canonical);
    tcase_add_test(tc, test_exact_cases);
    tcase_add_test(tc, test_cluster_random);
    tcase_add_test(tc, test_complete_random);
    suite_add_tcase(s, tc);
    return s;
}
