/* mpmat_polar: the polar factor P = sum_{s_i > tol} u_i v_i^T (spec 1.1
 * `polar`), tol = 2^(-p/2) s_1.
 *
 * Ratios (threshold 10, proofs/qr-svd-residuals.md), at 53, 113, 256 and
 * 1024 bits, products formed at 2p + 64 bits:
 *   full rank:   ||P^T P - I||_F (or ||P P^T - I||_F when m < n) / (max(m,n) 2^-p);
 *   every A:     the polar decomposition A = P H with H = P^T A symmetric
 *                positive semidefinite and A P^T symmetric:
 *                ||P^T A - A^T P||_F and ||A P^T - P A^T||_F / (max(m,n) ||A||_F 2^-p),
 *                |tr(P^T A) - sum_j s_j| / (max(m,n) sum_j s_j 2^-p) (the
 *                nuclear norm: H's eigenvalues are the s_j >= 0);
 *   planted A = Q1 diag(s) Q2^T (Q's from mpmat_qr, A at p + 128 bits):
 *                ||P - Q1_r Q2_r^T||_F / (max(m,n) 2^-p), r = the rank;
 *   rank r:      P is a partial isometry of rank r:
 *                ||P P^T P - P||_F / (max(m,n) 2^-p) and
 *                | ||P||_F^2 - r | / (max(m,n) 2^-p);
 *   random A:    ||P - U V^T||_F / (max(m,n) 2^-p) with U, V from mpmat_svd
 *                at 2p bits.
 * Exact: the zero matrix gives +0 everywhere; P(2^e A) = P(A) bit for bit;
 * the same call twice and P = A (aliasing) give the same bits; errors. */
#include "testlib.h"

#include <stdlib.h>

#include "factor_shapes.h"
#include "optref/mpmat.h"

#define THRESH 10.0L

/* ||D||_F / (dim * norm 2^-p); norm NULL means 1. */
static long double ratio_of(mpmat_srcptr D, size_t dim, mpmat_srcptr normof, mpfr_prec_t p)
{
    mpfr_t scale;
    mpfr_init2(scale, 64);
    if (normof != NULL)
        mpmat_norm_fro(scale, normof);
    else
        mpfr_set_ui(scale, 1, MPFR_RNDN);
    mpfr_mul_ui(scale, scale, dim, MPFR_RNDN);
    long double r = test_ratio(D, scale, p);
    mpfr_clear(scale);
    return r;
}

/* D = X^T Y - (X^T Y)^T (tn = 1) or X Y^T - (X Y^T)^T (tn = 0), at h bits. */
static void skew_part(mpmat_ptr D, mpmat_srcptr X, mpmat_srcptr Y, int tn, mpfr_prec_t h)
{
    size_t d = tn ? X->cols : X->rows;
    mpmat_t M, T;
    TEST_OK(mpmat_init(M, d, d, h));
    TEST_OK(mpmat_init(T, d, d, h));
    TEST_OK(mpmat_init(D, d, d, h));
    TEST_OK(tn ? mpmat_mul_tn(M, X, Y) : mpmat_mul_nt(M, X, Y));
    TEST_OK(mpmat_transpose(T, M));
    TEST_OK(mpmat_sub(D, M, T));
    mpmat_clear(M), mpmat_clear(T);
}

typedef struct {
    test_worst orth, sym, trace, ref, iso, rank;
} polar_worst;

static void polar_worst_init(polar_worst *w, const char *prefix_names[6])
{
    w->orth = (test_worst){prefix_names[0], 0, THRESH};
    w->sym = (test_worst){prefix_names[1], 0, THRESH};
    w->trace = (test_worst){prefix_names[2], 0, THRESH};
    w->ref = (test_worst){prefix_names[3], 0, THRESH};
    w->iso = (test_worst){prefix_names[4], 0, THRESH};
    w->rank = (test_worst){prefix_names[5], 0, THRESH};
}

static void polar_worst_report(const polar_worst *w)
{
    test_worst_report(&w->orth);
    test_worst_report(&w->sym);
    test_worst_report(&w->trace);
    test_worst_report(&w->ref);
    test_worst_report(&w->iso);
    test_worst_report(&w->rank);
}

/* The generic checks of P = polar(A) at p bits: rank r (number of nonzero
 * singular values), nuclear norm `nuc` (the exact sum of the s_j). Pref is
 * the exact polar factor when known (or NULL). */
static void check_polar(mpmat_srcptr A, mpfr_prec_t p, size_t r, mpfr_srcptr nuc,
                        mpmat_srcptr Pref, polar_worst *w)
{
    size_t m = A->rows, n = A->cols, k = test_min_sz(m, n), big = test_max_sz(m, n);
    mpfr_prec_t h = 2 * (A->prec > p ? A->prec : p) + 64;
    mpmat_t P, P2, D;
    TEST_OK(mpmat_init(P, m, n, p));
    TEST_OK(mpmat_init(P2, m, n, p));
    TEST_OK(mpmat_polar(P, A));
    TEST_OK(mpmat_polar(P2, A));
    ck_assert_msg(mpmat_equal(P, P2), "polar is not reproducible");
    for (size_t e = 0; e < m * n; e++)
        ck_assert(!(mpfr_zero_p(P->e + e) && mpfr_signbit(P->e + e)));

    /* orthonormality for full rank: P^T P = I (m >= n) or P P^T = I */
    if (r == k) {
        mpmat_t G, I;
        TEST_OK(mpmat_init(G, k, k, h));
        TEST_OK(mpmat_init(I, k, k, h));
        TEST_OK(m >= n ? mpmat_mul_tn(G, P, P) : mpmat_mul_nt(G, P, P));
        mpmat_one(I);
        TEST_OK(mpmat_sub(G, G, I));
        test_worst_add(&w->orth, ratio_of(G, big, NULL, p));
        mpmat_clear(G), mpmat_clear(I);
    }
    /* H = P^T A and A P^T symmetric */
    skew_part(D, P, A, 1, h);
    test_worst_add(&w->sym, ratio_of(D, big, A, p));
    mpmat_clear(D);
    skew_part(D, A, P, 0, h);
    test_worst_add(&w->sym, ratio_of(D, big, A, p));
    mpmat_clear(D);
    /* tr(P^T A) = sum s_j */
    if (nuc != NULL && !mpfr_zero_p(nuc)) {
        mpfr_t tr;
        mpfr_init2(tr, h);
        TEST_OK(mpmat_dot(tr, P, A));
        mpfr_sub(tr, tr, nuc, MPFR_RNDN);
        mpfr_t den;
        mpfr_init2(den, h);
        mpfr_mul_ui(den, nuc, big, MPFR_RNDN);
        test_worst_add(&w->trace, test_relative_ratio(tr, den, p));
        mpfr_clears(tr, den, (mpfr_ptr)0);
    }
    /* the exact factor */
    if (Pref != NULL) {
        TEST_OK(mpmat_init(D, m, n, h));
        TEST_OK(mpmat_sub(D, P, Pref));
        test_worst_add(&w->ref, ratio_of(D, big, NULL, p));
        mpmat_clear(D);
    }
    /* partial isometry of rank r: P P^T P = P and ||P||_F^2 = r */
    {
        mpmat_t PPt, PPtP;
        TEST_OK(mpmat_init(PPt, m, m, h));
        TEST_OK(mpmat_init(PPtP, m, n, h + p));
        TEST_OK(mpmat_mul_nt(PPt, P, P));
        TEST_OK(mpmat_mul(PPtP, PPt, P));
        TEST_OK(mpmat_sub(PPtP, PPtP, P));
        test_worst_add(&w->iso, ratio_of(PPtP, big, NULL, p));
        mpmat_clear(PPt), mpmat_clear(PPtP);
        mpfr_t f, one;
        mpfr_inits2(h, f, one, (mpfr_ptr)0);
        mpmat_sumsq(f, P);
        mpfr_sub_ui(f, f, r, MPFR_RNDN);
        mpfr_set_ui(one, big, MPFR_RNDN);
        test_worst_add(&w->rank, test_relative_ratio(f, one, p));
        mpfr_clears(f, one, (mpfr_ptr)0);
    }
    if (r == 0) /* the zero matrix (or nothing above tol): P = +0 exactly */
        for (size_t e = 0; e < m * n; e++)
            ck_assert(mpfr_zero_p(P->e + e) && !mpfr_signbit(P->e + e));
    mpmat_clear(P), mpmat_clear(P2);
}

static const char *rand_names[6] = {
    "polar random: ||P^TP-I||/(max u)",       "polar random: symmetry of P^TA, AP^T",
    "polar random: tr(P^TA) = sum s",         "polar random: ||P-UV^T||/(max u)",
    "polar random: ||PP^TP-P||/(max u)",      "polar random: | |P|^2 - rank |/(max u)"};

START_TEST(test_polar_random)
{
    test_rng rng = {31};
    polar_worst w;
    polar_worst_init(&w, rand_names);
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip];
        for (size_t sh = 0; sh < factor_shape_count(ip); sh++) {
            size_t m, n;
            factor_shape(sh, &m, &n);
            size_t k = test_min_sz(m, n);
            for (int rep = 0; rep < 2; rep++) {
                /* reference: U V^T and sum s from mpmat_svd at 2p bits */
                mpfr_prec_t q = 2 * p;
                mpmat_t A, U, s, V, UVt;
                TEST_OK(mpmat_init(A, m, n, p));
                TEST_OK(mpmat_init(U, m, k, q));
                TEST_OK(mpmat_init(s, k, 1, q));
                TEST_OK(mpmat_init(V, n, k, q));
                TEST_OK(mpmat_init(UVt, m, n, 2 * q + 64));
                test_fill_full(A, &rng);
                TEST_OK(mpmat_svd(U, s, V, A));
                TEST_OK(mpmat_mul_nt(UVt, U, V));
                mpfr_t nuc;
                mpfr_init2(nuc, 2 * q);
                mpmat_sum(nuc, s);
                check_polar(A, p, k, nuc, UVt, &w);
                mpfr_clear(nuc);
                mpmat_clear(A), mpmat_clear(U), mpmat_clear(s), mpmat_clear(V), mpmat_clear(UVt);
            }
        }
    }
    polar_worst_report(&w);
}
END_TEST

static const char *planted_names[6] = {
    "polar planted: ||P^TP-I||/(max u)",       "polar planted: symmetry of P^TA, AP^T",
    "polar planted: tr(P^TA) = sum s",         "polar planted: ||P-Q1_r Q2_r^T||/(max u)",
    "polar planted: ||PP^TP-P||/(max u)",      "polar planted: | |P|^2 - rank |/(max u)"};

/* A = Q1 diag(s) Q2^T with s of rank r: full, repeated values, one zero,
 * rank 1, rank k/2, 1e-30 scaled, zero. */
START_TEST(test_polar_planted)
{
    test_rng rng = {32};
    polar_worst w;
    polar_worst_init(&w, planted_names);
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip], h = p + 128;
        for (size_t sh = 0; sh < factor_shape_count(ip); sh++) {
            size_t m, n;
            factor_shape(sh, &m, &n);
            size_t k = test_min_sz(m, n);
            for (int kind = 0; kind < 7; kind++) {
                mpmat_t Q1, Q2, Q1S, A, Pref;
                test_random_orthogonal_qr(Q1, m, h, &rng);
                test_random_orthogonal_qr(Q2, n, h, &rng);
                TEST_OK(mpmat_init(Q1S, m, n, h));
                TEST_OK(mpmat_init(A, m, n, h));
                TEST_OK(mpmat_init(Pref, m, n, 2 * h + 64));
                size_t r = k;
                mpfr_t sj, tiny, nuc;
                mpfr_inits2(h, sj, tiny, nuc, (mpfr_ptr)0);
                mpfr_set_str(tiny, "1e-30", 10, MPFR_RNDN);
                mpfr_set_zero(nuc, 1);
                for (size_t j = 0; j < k; j++) {
                    switch (kind) {
                    case 0: mpfr_set_ui(sj, 2 * (k - j) + 1, MPFR_RNDN); break;        /* distinct */
                    case 1: mpfr_set_ui(sj, j == 0 ? 3 : 2, MPFR_RNDN); break;          /* repeated */
                    case 2: mpfr_set_ui(sj, j + 1 == k ? 0 : k - j, MPFR_RNDN); break;  /* one zero */
                    case 3: mpfr_set_ui(sj, j == 0 ? 5 : 0, MPFR_RNDN); break;          /* rank 1 */
                    case 4: mpfr_set_ui(sj, 2 * j < k ? 2 : 0, MPFR_RNDN); break;       /* rank k/2 */
                    case 5: mpfr_set_ui(sj, k + 1 - j, MPFR_RNDN);                      /* 1e-30 */
                            mpfr_mul(sj, sj, tiny, MPFR_RNDN); break;
                    default: mpfr_set_zero(sj, 1);                                      /* zero */
                    }
                    if (mpfr_zero_p(sj) && r == k)
                        r = j;
                    mpfr_add(nuc, nuc, sj, MPFR_RNDN);
                    for (size_t i = 0; i < m; i++)
                        mpfr_mul(mpmat_entry(Q1S, i, j), mpmat_entry(Q1, i, j), sj, MPFR_RNDN);
                }
                TEST_OK(mpmat_mul_nt(A, Q1S, Q2));
                /* Pref = Q1[:, :r] Q2[:, :r]^T */
                mpmat_t Q1r;
                TEST_OK(mpmat_init(Q1r, m, n, h));
                for (size_t i = 0; i < m; i++)
                    for (size_t j = 0; j < r; j++)
                        mpfr_set(mpmat_entry(Q1r, i, j), mpmat_entry(Q1, i, j), MPFR_RNDN);
                TEST_OK(mpmat_mul_nt(Pref, Q1r, Q2));
                check_polar(A, p, r, nuc, Pref, &w);
                mpfr_clears(sj, tiny, nuc, (mpfr_ptr)0);
                mpmat_clear(Q1), mpmat_clear(Q2), mpmat_clear(Q1S), mpmat_clear(A);
                mpmat_clear(Pref), mpmat_clear(Q1r);
            }
        }
    }
    polar_worst_report(&w);
}
END_TEST

/* P(2^e A) = P(A) bit for bit; P = A in place gives the same bits. */
START_TEST(test_polar_scaling_and_aliasing)
{
    test_rng rng = {33};
    const size_t sh[][2] = {{6, 4}, {4, 6}, {5, 5}, {1, 3}};
    for (int ip = 0; ip < 4; ip++)
        for (int t = 0; t < 4; t++) {
            mpfr_prec_t p = test_precisions[ip];
            size_t m = sh[t][0], n = sh[t][1];
            mpmat_t A, B, P, P2;
            TEST_OK(mpmat_init(A, m, n, p));
            TEST_OK(mpmat_init(B, m, n, p));
            TEST_OK(mpmat_init(P, m, n, p));
            TEST_OK(mpmat_init(P2, m, n, p));
            test_fill_full(A, &rng);
            TEST_OK(mpmat_polar(P, A));
            for (long e = -1000; e <= 1000; e += 2000) {
                for (size_t q = 0; q < m * n; q++)
                    mpfr_mul_2si(B->e + q, A->e + q, e, MPFR_RNDN);
                TEST_OK(mpmat_polar(P2, B));
                ck_assert(mpmat_equal(P, P2));
            }
            TEST_OK(mpmat_set(B, A));
            TEST_OK(mpmat_polar(B, B));
            ck_assert(mpmat_equal(P, B));
            mpmat_clear(A), mpmat_clear(B), mpmat_clear(P), mpmat_clear(P2);
        }
}
END_TEST

/* Exact small cases: polar([-3]) = [-1]; polar(diag(2, 0)) = diag(1, 0);
 * polar([3 4]) = [0.6 0.8] rounded. */
START_TEST(test_polar_exact_cases)
{
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip];
        mpmat_t A, P;
        TEST_OK(mpmat_init(A, 1, 1, p));
        TEST_OK(mpmat_init(P, 1, 1, p));
        mpfr_set_si(A->e, -3, MPFR_RNDN);
        TEST_OK(mpmat_polar(P, A));
        ck_assert(mpfr_cmp_si(P->e, -1) == 0);
        TEST_OK(mpmat_resize(A, 2, 2));
        TEST_OK(mpmat_resize(P, 2, 2));
        mpfr_set_ui(A->e, 2, MPFR_RNDN);
        TEST_OK(mpmat_polar(P, A));
        ck_assert(mpfr_cmp_ui(P->e, 1) == 0);
        for (size_t e = 1; e < 4; e++)
            ck_assert(mpfr_zero_p(P->e + e) && !mpfr_signbit(P->e + e));
        TEST_OK(mpmat_resize(A, 1, 2));
        TEST_OK(mpmat_resize(P, 1, 2));
        mpfr_set_ui(A->e, 3, MPFR_RNDN);
        mpfr_set_ui(A->e + 1, 4, MPFR_RNDN);
        TEST_OK(mpmat_polar(P, A));
        mpfr_t x;
        mpfr_init2(x, p);
        mpfr_set_str(x, "0.6", 10, MPFR_RNDN);
        ck_assert(mpfr_equal_p(P->e, x));
        mpfr_set_str(x, "0.8", 10, MPFR_RNDN);
        ck_assert(mpfr_equal_p(P->e + 1, x));
        mpfr_clear(x);
        mpmat_clear(A), mpmat_clear(P);
    }
}
END_TEST

/* One 64 x 64 polar factor at 256 bits: orthogonality and symmetry. */
START_TEST(test_polar_64x64)
{
    test_rng rng = {35};
    test_worst worth = {"polar 64x64@256: ||P^TP-I||/(max u)", 0, THRESH};
    test_worst wsym = {"polar 64x64@256: symmetry of P^TA", 0, THRESH};
    mpmat_t A, P, D;
    TEST_OK(mpmat_init(A, 64, 64, 256));
    TEST_OK(mpmat_init(P, 64, 64, 256));
    test_fill_full(A, &rng);
    TEST_OK(mpmat_polar(P, A));
    test_worst_add(&worth, test_orth_ratio(P, 64, 256));
    skew_part(D, P, A, 1, 2 * 256 + 64);
    test_worst_add(&wsym, ratio_of(D, 64, A, 256));
    test_worst_report(&worth);
    test_worst_report(&wsym);
    mpmat_clear(A), mpmat_clear(P), mpmat_clear(D);
}
END_TEST

START_TEST(test_polar_errors)
{
    mpmat_t A, P, bad;
    TEST_OK(mpmat_init(A, 3, 2, 53));
    TEST_OK(mpmat_init(P, 3, 2, 53));
    TEST_OK(mpmat_init(bad, 2, 3, 53));
    test_rng rng = {34};
    test_fill_full(A, &rng);
    ck_assert_int_eq(mpmat_polar(bad, A), OPTREF_ESHAPE);
    mpfr_set_ui(P->e, 7, MPFR_RNDN);
    mpfr_set_nan(mpmat_entry(A, 2, 0));
    ck_assert_int_eq(mpmat_polar(P, A), OPTREF_ENONFINITE);
    ck_assert(mpfr_cmp_ui(P->e, 7) == 0);
    mpfr_set_inf(mpmat_entry(A, 2, 0), -1);
    ck_assert_int_eq(mpmat_polar(P, A), OPTREF_ENONFINITE);
    mpmat_t E, PE;
    TEST_OK(mpmat_init(E, 0, 4, 53));
    TEST_OK(mpmat_init(PE, 0, 4, 53));
    TEST_OK(mpmat_polar(PE, E));
    mpmat_clear(A), mpmat_clear(P), mpmat_clear(bad), mpmat_clear(E), mpmat_clear(PE);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("mpmat_polar");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_polar_random);
    tcase_add_test(tc, test_polar_planted);
    tcase_add_test(tc, test_polar_scaling_and_aliasing);
    tcase_add_test(tc, test_polar_exact_cases);
    tcase_add_test(tc, test_polar_64x64);
    tcase_add_test(tc, test_polar_errors);
    suite_add_tcase(s, tc);
    return s;
}
