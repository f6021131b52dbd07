/* mpmat_svd: one-sided Jacobi SVD in the canonical form of mpmat.h.
 *
 * LAPACK-style scale-free ratios (proofs/qr-svd-residuals.md derives the
 * bounds and the threshold 10), at 53, 113, 256 and 1024 bits:
 *   ||A - U diag(s) V^T||_F / (max(m,n) ||A||_F 2^-p)
 *   ||U^T U - I||_F / (max(m,n) 2^-p),  ||V^T V - I||_F / (max(m,n) 2^-p)
 * and, for matrices with planted singular values A = Q1 diag(s) Q2^T (Q1, Q2
 * from mpmat_qr of random data, A formed at p + 128 bits):
 *   |s^_j - s_j| / (s_j 2^-p)                    (s_j > 0: relative accuracy)
 *   s^_j / (max(m,n) s_1 2^-p)                   (s_j = 0)
 *   ||U_c U_c^T - Q1_c Q1_c^T||_F / (max(m,n) 2^-p), the same for V,
 *       for each cluster c of equal nonzero planted values (subspaces),
 *   ||U_0 - complete(Q1_r)||_F / (max(m,n) 2^-p) for the columns of the
 *       zero singular values (the canonical completion of spec 1.2), and
 *       the same for V with each completed column sign-canonical.
 * Exact properties: s descending and >= 0, V's columns sign-canonical,
 * zeros are +0, the same call twice and every NULL-output variant give the
 * same bits, exact power-of-two scaling, aliasing, the zero matrix, errors. */
#include "testlib.h"

#include "optref/problem.h"

#include <stdlib.h>

#include "factor_shapes.h"
#include "optref/mpmat.h"

#define THRESH 10.0L

/* ||A - U diag(s) V^T||_F / (max(m,n) ||A||_F 2^-p), at 2 prec + 64 bits. */
static long double svd_residual(mpmat_srcptr A, mpmat_srcptr U, mpmat_srcptr s, mpmat_srcptr V,
                                mpfr_prec_t p)
{
    mpfr_prec_t h = 2 * U->prec + 64; /* U_ij s_j exact; each dot rounded once */
    mpmat_t US, P;
    TEST_OK(mpmat_init(US, U->rows, U->cols, h));
    TEST_OK(mpmat_init(P, A->rows, A->cols, h));
    for (size_t i = 0; i < U->rows; i++)
        for (size_t j = 0; j < U->cols; j++) /* exact */
            mpfr_mul(mpmat_entry(US, i, j), mpmat_entry(U, i, j), mpmat_entry(s, j, 0), MPFR_RNDN);
    TEST_OK(mpmat_mul_nt(P, US, V));
    TEST_OK(mpmat_sub(P, A, P));
    mpfr_t scale;
    mpfr_init2(scale, 64);
    mpmat_norm_fro(scale, A);
    mpfr_mul_ui(scale, scale, test_max_sz(A->rows, A->cols), MPFR_RNDN);
    long double r = test_ratio(P, scale, p);
    mpfr_clear(scale);
    mpmat_clear(US), mpmat_clear(P);
    return r;
}

/* ||X[:, c0:c1] - Y[:, c0:c1]||_F / (dim 2^-p), or of their projectors
 * X_c X_c^T - Y_c Y_c^T when projector is set. */
static long double cols_ratio(mpmat_srcptr X, mpmat_srcptr Y, size_t c0, size_t c1, int projector,
                              size_t dim, mpfr_prec_t p)
{
    mpfr_prec_t h = 2 * (X->prec > Y->prec ? X->prec : Y->prec) + 64;
    mpmat_t Xc, Yc, D;
    test_columns(Xc, X, c0, c1, h);
    test_columns(Yc, Y, c0, c1, h);
    if (projector) {
        mpmat_t PX, PY;
        TEST_OK(mpmat_init(PX, X->rows, X->rows, h));
        TEST_OK(mpmat_init(PY, X->rows, X->rows, h));
        TEST_OK(mpmat_mul_nt(PX, Xc, Xc));
        TEST_OK(mpmat_mul_nt(PY, Yc, Yc));
        TEST_OK(mpmat_init(D, X->rows, X->rows, h));
        TEST_OK(mpmat_sub(D, PX, PY));
        mpmat_clear(PX), mpmat_clear(PY);
    } else {
        TEST_OK(mpmat_init(D, X->rows, c1 - c0, h));
        TEST_OK(mpmat_sub(D, Xc, Yc));
    }
    mpfr_t scale;
    mpfr_init2(scale, 64);
    mpfr_set_ui(scale, dim, MPFR_RNDN);
    long double r = test_ratio(D, scale, p);
    mpfr_clear(scale);
    mpmat_clear(Xc), mpmat_clear(Yc), mpmat_clear(D);
    return r;
}

typedef struct {
    test_worst res, orth_u, orth_v;
} svd_worst;

/* The SVD of A at p bits with every generic check; U, s, V are returned
 * (initialised here, cleared by the caller). */
static void check_svd(mpmat_ptr U, mpmat_ptr s, mpmat_ptr V, mpmat_srcptr A, mpfr_prec_t p,
                      svd_worst *w)
{
    size_t m = A->rows, n = A->cols, k = test_min_sz(m, n);
    TEST_OK(mpmat_init(U, m, k, p));
    TEST_OK(mpmat_init(s, k, 1, p));
    TEST_OK(mpmat_init(V, n, k, p));
    TEST_OK(mpmat_svd(U, s, V, A));
    test_worst_add(&w->res, svd_residual(A, U, s, V, p));
    test_worst_add(&w->orth_u, test_orth_ratio(U, test_max_sz(m, n), p));
    test_worst_add(&w->orth_v, test_orth_ratio(V, test_max_sz(m, n), p));
    for (size_t j = 0; j < k; j++) {
        ck_assert_msg(mpfr_sgn(s->e + j) >= 0, "s[%zu] < 0", j);
        if (j > 0)
            ck_assert_msg(mpfr_cmp(s->e + j - 1, s->e + j) >= 0, "s not descending at %zu", j);
        ck_assert_msg(test_column_is_sign_canonical(V, j), "V column %zu of a %zux%zu SVD at "
                      "%ld bits is not sign-canonical", j, m, n, (long)p);
    }
    ck_assert(test_no_negative_zero(U) && test_no_negative_zero(s) && test_no_negative_zero(V));

    /* the same bits again, and with any of the outputs NULL */
    mpmat_t U2, s2, V2;
    TEST_OK(mpmat_init(U2, m, k, p));
    TEST_OK(mpmat_init(s2, k, 1, p));
    TEST_OK(mpmat_init(V2, n, k, p));
    TEST_OK(mpmat_svd(U2, s2, V2, A));
    ck_assert_msg(mpmat_equal(U, U2) && mpmat_equal(s, s2) && mpmat_equal(V, V2),
                  "SVD is not reproducible");
    mpmat_zero(U2), mpmat_zero(s2), mpmat_zero(V2);
    TEST_OK(mpmat_svd(U2, NULL, NULL, A));
    TEST_OK(mpmat_svd(NULL, s2, NULL, A));
    TEST_OK(mpmat_svd(NULL, NULL, V2, A));
    ck_assert_msg(mpmat_equal(U, U2) && mpmat_equal(s, s2) && mpmat_equal(V, V2),
                  "SVD with NULL outputs differs");
    TEST_OK(mpmat_svd(NULL, NULL, NULL, A));
    mpmat_clear(U2), mpmat_clear(s2), mpmat_clear(V2);
}

static void svd_worst_init(svd_worst *w, const char *res, const char *ou, const char *ov)
{
    w->res = (test_worst){res, 0, THRESH};
    w->orth_u = (test_worst){ou, 0, THRESH};
    w->orth_v = (test_worst){ov, 0, THRESH};
}

static void svd_worst_report(const svd_worst *w)
{
    test_worst_report(&w->res);
    test_worst_report(&w->orth_u);
    test_worst_report(&w->orth_v);
}

START_TEST(test_svd_random)
{
    test_rng rng = {21};
    svd_worst w;
    svd_worst_init(&w, "svd random: ||A-USV^T||/(max(m,n)|A| u)", "svd random: ||U^TU-I||/(max u)",
                   "svd random: ||V^TV-I||/(max u)");
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip];
        for (size_t sh = 0; sh < factor_shape_count(ip); sh++) {
            size_t m, n;
            factor_shape(sh, &m, &n);
            for (int rep = 0; rep < 3; rep++) {
                mpmat_t A, U, s, V;
                TEST_OK(mpmat_init(A, m, n, p));
                test_fill_full(A, &rng);
                check_svd(U, s, V, A, p, &w);
                mpmat_clear(A), mpmat_clear(U), mpmat_clear(s), mpmat_clear(V);
            }
        }
    }
    svd_worst_report(&w);
}
END_TEST

/* The planted singular values of kind `kind` for k values, at h bits (each
 * divided by 3, so that no value is exactly representable at p bits). */
enum { PL_DISTINCT, PL_REPEATED, PL_ONE_ZERO, PL_RANK1, PL_GRADED, PL_TINY, PL_ZERO, PL_KINDS };

static void planted_values(__mpfr_struct *sv, size_t k, int kind)
{
    for (size_t j = 0; j < k; j++) {
        mpfr_ptr x = sv + j;
        switch (kind) {
        case PL_DISTINCT:
        case PL_TINY: /* k - j + 1/2 */
            mpfr_set_ui(x, 2 * (k - j) + 1, MPFR_RNDN);
            mpfr_div_2ui(x, x, 1, MPFR_RNDN);
            if (kind == PL_TINY) {
                mpfr_t c;
                mpfr_init2(c, mpfr_get_prec(x));
                mpfr_set_str(c, "1e-30", 10, MPFR_RNDN);
                mpfr_mul(x, x, c, MPFR_RNDN);
                mpfr_clear(c);
            }
            break;
        case PL_REPEATED: /* 3, 2, 2, ..., 2, 1 */
            mpfr_set_ui(x, j == 0 ? 3 : (j + 1 == k && k >= 3) ? 1 : 2, MPFR_RNDN);
            break;
        case PL_ONE_ZERO: /* k, k-1, ..., 2, 0 */
            mpfr_set_ui(x, (j + 1 == k && k >= 2) ? 0 : k - j + 1, MPFR_RNDN);
            break;
        case PL_RANK1:
            mpfr_set_ui(x, j == 0 ? 5 : 0, MPFR_RNDN);
            break;
        case PL_GRADED: /* 2^-4j: condition up to 2^24 at k = 7, above 2^(-p/2) for p >= 53 */
            mpfr_set_ui_2exp(x, 1, -4 * (long)j, MPFR_RNDN);
            break;
        default:
            mpfr_set_zero(x, 1);
        }
        mpfr_div_ui(x, x, 3, MPFR_RNDN); /* not a short dyadic: the output must round */
    }
}

static void check_planted(size_t m, size_t n, mpfr_prec_t p, int kind, test_rng *rng,
                          svd_worst *w, test_worst *wsv, test_worst *wsub, test_worst *wcomp)
{
    size_t k = test_min_sz(m, n), big = test_max_sz(m, n);
    mpfr_prec_t h = p + 128;
    __mpfr_struct *sv = malloc(k * sizeof *sv);
    for (size_t j = 0; j < k; j++)
        mpfr_init2(sv + j, h);
    planted_values(sv, k, kind);
    mpmat_t Q1, Q2, A, Q1S;
    test_random_orthogonal_qr(Q1, m, h, rng);
    test_random_orthogonal_qr(Q2, n, h, rng);
    /* A = Q1[:, :k] diag(sv) Q2[:, :k]^T at h bits */
    TEST_OK(mpmat_init(Q1S, m, n, h));
    TEST_OK(mpmat_init(A, m, n, h));
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < k; j++)
            mpfr_mul(mpmat_entry(Q1S, i, j), mpmat_entry(Q1, i, j), sv + j, MPFR_RNDN);
    TEST_OK(mpmat_mul_nt(A, Q1S, Q2));

    mpmat_t U, s, V;
    check_svd(U, s, V, A, p, w);

    /* singular values */
    mpfr_t d, den;
    mpfr_inits2(h, d, den, (mpfr_ptr)0);
    for (size_t j = 0; j < k; j++) {
        mpfr_sub(d, s->e + j, sv + j, MPFR_RNDN);
        if (!mpfr_zero_p(sv + j)) {
            mpfr_set(den, sv + j, MPFR_RNDN);
        } else {
            mpfr_mul_ui(den, sv, big, MPFR_RNDN);
            if (mpfr_zero_p(den)) { /* the zero matrix: exact zeros */
                ck_assert(mpfr_zero_p(s->e + j));
                continue;
            }
        }
        test_worst_add(wsv, test_relative_ratio(d, den, p));
    }
    mpfr_clears(d, den, (mpfr_ptr)0);

    /* subspaces of the clusters of equal nonzero values; completed columns */
    size_t r = 0;
    while (r < k && !mpfr_zero_p(sv + r))
        r++;
    for (size_t c0 = 0; c0 < r;) {
        size_t c1 = c0 + 1;
        while (c1 < r && mpfr_equal_p(sv + c1, sv + c0))
            c1++;
        test_worst_add(wsub, cols_ratio(U, Q1, c0, c1, 1, big, p));
        test_worst_add(wsub, cols_ratio(V, Q2, c0, c1, 1, big, p));
        c0 = c1;
    }
    if (r < k) { /* the canonical completion of the exact kept subspace */
        mpmat_t C1, C2;
        TEST_OK(mpmat_init(C1, m, k, h));
        TEST_OK(mpmat_init(C2, n, k, h));
        for (size_t j = 0; j < r; j++) {
            for (size_t i = 0; i < m; i++)
                mpfr_set(mpmat_entry(C1, i, j), mpmat_entry(Q1, i, j), MPFR_RNDN);
            for (size_t i = 0; i < n; i++)
                mpfr_set(mpmat_entry(C2, i, j), mpmat_entry(Q2, i, j), MPFR_RNDN);
        }
        TEST_OK(mpmat_basis_complete(C1, r));
        TEST_OK(mpmat_basis_complete(C2, r));
        for (size_t j = r; j < k; j++)
            mpmat_column_sign_canonical(C2, j);
        test_worst_add(wcomp, cols_ratio(U, C1, r, k, 0, big, p));
        test_worst_add(wcomp, cols_ratio(V, C2, r, k, 0, big, p));
        if (kind == PL_ZERO) { /* completion of nothing: the first k columns of I */
            mpmat_one(C1), mpmat_one(C2);
            mpmat_t I1, I2;
            TEST_OK(mpmat_init(I1, m, k, p));
            TEST_OK(mpmat_init(I2, n, k, p));
            mpmat_one(I1), mpmat_one(I2);
            ck_assert(mpmat_equal(U, I1) && mpmat_equal(V, I2));
            mpmat_clear(I1), mpmat_clear(I2);
        }
        mpmat_clear(C1), mpmat_clear(C2);
    }

    for (size_t j = 0; j < k; j++)
        mpfr_clear(sv + j);
    free(sv);
    mpmat_clear(Q1), mpmat_clear(Q2), mpmat_clear(A), mpmat_clear(Q1S);
    mpmat_clear(U), mpmat_clear(s), mpmat_clear(V);
}

START_TEST(test_svd_planted)
{
    test_rng rng = {22};
    svd_worst w;
    svd_worst_init(&w, "svd planted: ||A-USV^T||/(max(m,n)|A| u)", "svd planted: ||U^TU-I||/(max u)",
                   "svd planted: ||V^TV-I||/(max u)");
    test_worst wsv = {"svd planted: singular values (rel)", 0, THRESH};
    test_worst wsvg = {"svd planted graded: sing. values (rel)", 0, THRESH};
    test_worst wsub = {"svd planted: cluster subspaces", 0, THRESH};
    test_worst wcomp = {"svd planted: completed columns", 0, THRESH};
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip];
        for (size_t sh = 0; sh < factor_shape_count(ip); sh++) {
            size_t m, n;
            factor_shape(sh, &m, &n);
            for (int kind = 0; kind < PL_KINDS; kind++) {
                if (kind == PL_GRADED && test_min_sz(m, n) > 7)
                    continue; /* keep 2^-4(k-1) above the zero tolerance 2^(-p/2) */
                check_planted(m, n, p, kind, &rng, &w, kind == PL_GRADED ? &wsvg : &wsv, &wsub,
                              &wcomp);
            }
        }
    }
    svd_worst_report(&w);
    test_worst_report(&wsv);
    test_worst_report(&wsvg);
    test_worst_report(&wsub);
    test_worst_report(&wcomp);
}
END_TEST

/* SVD(2^e A) = U diag(2^e s) V^T bit for bit. */
START_TEST(test_svd_scaling_exact)
{
    test_rng rng = {23};
    const size_t sh[][2] = {{6, 4}, {4, 6}, {5, 5}};
    for (int ip = 0; ip < 4; ip++)
        for (int t = 0; t < 3; t++)
            for (long e = -1000; e <= 1000; e += 2000) {
                mpfr_prec_t p = test_precisions[ip];
                size_t m = sh[t][0], n = sh[t][1], k = test_min_sz(m, n);
                mpmat_t A, B, U, s, V, U2, s2, V2;
                TEST_OK(mpmat_init(A, m, n, p));
                TEST_OK(mpmat_init(B, m, n, p));
                TEST_OK(mpmat_init(U, m, k, p));
                TEST_OK(mpmat_init(U2, m, k, p));
                TEST_OK(mpmat_init(s, k, 1, p));
                TEST_OK(mpmat_init(s2, k, 1, p));
                TEST_OK(mpmat_init(V, n, k, p));
                TEST_OK(mpmat_init(V2, n, k, p));
                test_fill_full(A, &rng);
                if (t == 2) /* rank-deficient: last column = first */
                    for (size_t i = 0; i < m; i++)
                        mpfr_set(mpmat_entry(A, i, n - 1), mpmat_entry(A, i, 0), MPFR_RNDN);
                for (size_t q = 0; q < m * n; q++)
                    mpfr_mul_2si(B->e + q, A->e + q, e, MPFR_RNDN);
                TEST_OK(mpmat_svd(U, s, V, A));
                TEST_OK(mpmat_svd(U2, s2, V2, B));
                for (size_t j = 0; j < k; j++)
                    mpfr_mul_2si(s->e + j, s->e + j, e, MPFR_RNDN);
                ck_assert(mpmat_equal(U, U2) && mpmat_equal(s, s2) && mpmat_equal(V, V2));
                mpmat_clear(A), mpmat_clear(B), mpmat_clear(U), mpmat_clear(U2);
                mpmat_clear(s), mpmat_clear(s2), mpmat_clear(V), mpmat_clear(V2);
            }
}
END_TEST

/* Small exact cases: 1x1, a diagonal matrix, a 1 x 2 row. */
START_TEST(test_svd_exact_cases)
{
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip];
        mpmat_t A, U, s, V;
        TEST_OK(mpmat_init(A, 1, 1, p));
        TEST_OK(mpmat_init(U, 1, 1, p));
        TEST_OK(mpmat_init(s, 1, 1, p));
        TEST_OK(mpmat_init(V, 1, 1, p));
        mpfr_set_si(A->e, -3, MPFR_RNDN); /* -3 = (-1) 3 (1) */
        TEST_OK(mpmat_svd(U, s, V, A));
        ck_assert(mpfr_cmp_si(U->e, -1) == 0 && mpfr_cmp_ui(s->e, 3) == 0 && mpfr_cmp_ui(V->e, 1) == 0);
        mpfr_set_zero(A->e, -1); /* -0: s = +0, U = V = 1 */
        TEST_OK(mpmat_svd(U, s, V, A));
        ck_assert(mpfr_cmp_ui(U->e, 1) == 0 && mpfr_zero_p(s->e) && !mpfr_signbit(s->e) &&
                  mpfr_cmp_ui(V->e, 1) == 0);
        /* diag(1, -4, 2) (3 x 3): s = 4, 2, 1; V = e2, e3, e1; U = -e2, e3, e1 */
        TEST_OK(mpmat_resize(A, 3, 3));
        TEST_OK(mpmat_resize(U, 3, 3));
        TEST_OK(mpmat_resize(s, 3, 1));
        TEST_OK(mpmat_resize(V, 3, 3));
        mpfr_set_si(mpmat_entry(A, 0, 0), 1, MPFR_RNDN);
        mpfr_set_si(mpmat_entry(A, 1, 1), -4, MPFR_RNDN);
        mpfr_set_si(mpmat_entry(A, 2, 2), 2, MPFR_RNDN);
        TEST_OK(mpmat_svd(U, s, V, A));
        ck_assert(mpfr_cmp_ui(s->e, 4) == 0 && mpfr_cmp_ui(s->e + 1, 2) == 0 &&
                  mpfr_cmp_ui(s->e + 2, 1) == 0);
        ck_assert(mpfr_cmp_ui(mpmat_entry(V, 1, 0), 1) == 0 && mpfr_cmp_ui(mpmat_entry(V, 2, 1), 1) == 0 &&
                  mpfr_cmp_ui(mpmat_entry(V, 0, 2), 1) == 0);
        ck_assert(mpfr_cmp_si(mpmat_entry(U, 1, 0), -1) == 0 && mpfr_cmp_ui(mpmat_entry(U, 2, 1), 1) == 0 &&
                  mpfr_cmp_ui(mpmat_entry(U, 0, 2), 1) == 0);
        /* the row [0, -2]: U = -1... V = [0; 1] after the sign rule, U = [-1] */
        TEST_OK(mpmat_resize(A, 1, 2));
        TEST_OK(mpmat_resize(U, 1, 1));
        TEST_OK(mpmat_resize(s, 1, 1));
        TEST_OK(mpmat_resize(V, 2, 1));
        mpfr_set_si(mpmat_entry(A, 0, 1), -2, MPFR_RNDN);
        TEST_OK(mpmat_svd(U, s, V, A));
        ck_assert(mpfr_cmp_si(U->e, -1) == 0 && mpfr_cmp_ui(s->e, 2) == 0);
        ck_assert(mpfr_zero_p(V->e) && !mpfr_signbit(V->e) && mpfr_cmp_ui(V->e + 1, 1) == 0);
        mpmat_clear(A), mpmat_clear(U), mpmat_clear(s), mpmat_clear(V);
    }
}
END_TEST

/* U = A (m >= n), V = A (square), s = A (1 x 1) give the same bits. */
START_TEST(test_svd_aliasing)
{
    test_rng rng = {24};
    const size_t sh[][2] = {{7, 4}, {5, 5}, {1, 1}};
    for (int ip = 0; ip < 4; ip++)
        for (int t = 0; t < 3; t++) {
            mpfr_prec_t p = test_precisions[ip];
            size_t m = sh[t][0], n = sh[t][1], k = test_min_sz(m, n);
            mpmat_t A, B, U, s, V, X, Y;
            TEST_OK(mpmat_init(A, m, n, p));
            TEST_OK(mpmat_init(B, m, n, p));
            TEST_OK(mpmat_init(U, m, k, p));
            TEST_OK(mpmat_init(s, k, 1, p));
            TEST_OK(mpmat_init(V, n, k, p));
            TEST_OK(mpmat_init(X, k, 1, p));
            TEST_OK(mpmat_init(Y, n, k, p));
            test_fill_full(A, &rng);
            TEST_OK(mpmat_svd(U, s, V, A));
            TEST_OK(mpmat_set(B, A));
            TEST_OK(mpmat_svd(B, X, Y, B));
            ck_assert(mpmat_equal(B, U) && mpmat_equal(X, s) && mpmat_equal(Y, V));
            if (m == n) {
                mpmat_t Z;
                TEST_OK(mpmat_init(Z, m, k, p));
                TEST_OK(mpmat_set(B, A));
                TEST_OK(mpmat_svd(Z, X, B, B));
                ck_assert(mpmat_equal(Z, U) && mpmat_equal(X, s) && mpmat_equal(B, V));
                mpmat_clear(Z);
            }
            if (m == 1 && n == 1) {
                TEST_OK(mpmat_set(B, A));
                TEST_OK(mpmat_svd(NULL, B, NULL, B));
                ck_assert(mpmat_equal(B, s));
            }
            mpmat_clear(A), mpmat_clear(B), mpmat_clear(U), mpmat_clear(s), mpmat_clear(V);
            mpmat_clear(X), mpmat_clear(Y);
        }
}
END_TEST

/* The size the reference must handle: one 64 x 64 SVD at 256 bits (about
 * 1.2 s, 12 sweeps, on the development machine). */
START_TEST(test_svd_64x64)
{
    test_rng rng = {26};
    svd_worst w;
    svd_worst_init(&w, "svd 64x64@256: ||A-USV^T||/(max|A| u)", "svd 64x64@256: ||U^TU-I||/(max u)",
                   "svd 64x64@256: ||V^TV-I||/(max u)");
    mpmat_t A, U, s, V;
    TEST_OK(mpmat_init(A, 64, 64, 256));
    TEST_OK(mpmat_init(U, 64, 64, 256));
    TEST_OK(mpmat_init(s, 64, 1, 256));
    TEST_OK(mpmat_init(V, 64, 64, 256));
    test_fill_full(A, &rng);
    TEST_OK(mpmat_svd(U, s, V, A));
    test_worst_add(&w.res, svd_residual(A, U, s, V, 256));
    test_worst_add(&w.orth_u, test_orth_ratio(U, 64, 256));
    test_worst_add(&w.orth_v, test_orth_ratio(V, 64, 256));
    for (size_t j = 0; j < 64; j++) {
        ck_assert(j == 0 || mpfr_cmp(s->e + j - 1, s->e + j) >= 0);
        ck_assert(test_column_is_sign_canonical(V, j));
    }
    svd_worst_report(&w);
    mpmat_clear(A), mpmat_clear(U), mpmat_clear(s), mpmat_clear(V);
}
END_TEST

START_TEST(test_svd_errors)
{
    mpmat_t A, U, s, V, bad;
    TEST_OK(mpmat_init(A, 4, 3, 53));
    TEST_OK(mpmat_init(U, 4, 3, 53));
    TEST_OK(mpmat_init(s, 3, 1, 53));
    TEST_OK(mpmat_init(V, 3, 3, 53));
    TEST_OK(mpmat_init(bad, 4, 4, 53));
    test_rng rng = {25};
    test_fill_full(A, &rng);
    ck_assert_int_eq(mpmat_svd(bad, s, V, A), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_svd(U, bad, V, A), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_svd(U, s, bad, A), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_svd(NULL, U, NULL, A), OPTREF_ESHAPE); /* s as 4 x 3 */
    ck_assert_int_eq(mpmat_svd(V, NULL, V, V), OPTREF_EINVAL);    /* U and V the same */
    mpfr_set_ui(s->e, 7, MPFR_RNDN);
    mpfr_set_nan(mpmat_entry(A, 1, 2));
    ck_assert_int_eq(mpmat_svd(U, s, V, A), OPTREF_ENONFINITE);
    ck_assert(mpfr_cmp_ui(s->e, 7) == 0); /* outputs untouched */
    mpfr_set_inf(mpmat_entry(A, 1, 2), 1);
    ck_assert_int_eq(mpmat_svd(NULL, s, NULL, A), OPTREF_ENONFINITE);
    ck_assert_int_eq(mpmat_svd(NULL, NULL, NULL, A), OPTREF_ENONFINITE);
    mpmat_t E, UE, sE, VE; /* empty: fine */
    TEST_OK(mpmat_init(E, 0, 3, 53));
    TEST_OK(mpmat_init(UE, 0, 0, 53));
    TEST_OK(mpmat_init(sE, 0, 1, 53));
    TEST_OK(mpmat_init(VE, 3, 0, 53));
    TEST_OK(mpmat_svd(UE, sE, VE, E));
    mpmat_clear(A), mpmat_clear(U), mpmat_clear(s), mpmat_clear(V), mpmat_clear(bad);
    mpmat_clear(E), mpmat_clear(UE), mpmat_clear(sE), mpmat_clear(VE);
}
END_TEST

/* An exactly rank-deficient matrix rounded to the working precision: the
 * batch-3 rows-norm gradient of the 9 x 9 DeVA problem (rank 3), as muon-polar
 * orthogonalises it. Its null-space columns become rounding noise, on which a
 * purely relative convergence test can never be met. The SVD must converge;
 * the rank it finds (singular values above the zero tolerance) is at most
 * the batch and the same at every precision, and the others are at noise
 * level, below 2^-(p-16) s_1 (a clean gap). Regression test: this failed
 * with OPTREF_ENOCONV. */
START_TEST(test_svd_rank_deficient_rounded)
{
    int rank0 = -1;
    for (int pi = 0; pi < 4; pi++) {
        mpfr_prec_t p = test_precisions[pi];
        problem P;
        mpmat_t A, U, s, V;
        TEST_OK(problem_create(&P, "trace-het", 1234, p, NULL));
        TEST_OK(mpmat_init(A, 9, 9, p));
        TEST_OK(mpmat_init(U, 9, 9, p));
        TEST_OK(mpmat_init(s, 9, 1, p));
        TEST_OK(mpmat_init(V, 9, 9, p));
        TEST_OK(oracle_gradient(A, &P, ORACLE_ROWS_NORM, 3, 1, P.X0));
        TEST_OK(mpmat_svd(U, s, V, A));
        mpfr_t tol, noise;
        mpfr_inits2(p, tol, noise, (mpfr_ptr)0);
        mpfr_mul_2si(tol, mpmat_entry(s, 0, 0), -(long)(p / 2), MPFR_RNDN);
        mpfr_mul_2si(noise, mpmat_entry(s, 0, 0), -(long)(p - 16), MPFR_RNDN);
        int rank = 0;
        for (size_t j = 0; j < 9; j++) {
            int above = mpfr_cmp(mpmat_entry(s, j, 0), tol) > 0;
            ck_assert_msg(!above || rank == (int)j, "p = %ld: singular values not descending",
                          (long)p);
            rank += above;
            ck_assert_msg(above || mpfr_cmp(mpmat_entry(s, j, 0), noise) <= 0,
                          "p = %ld: singular value %zu is neither above the zero tolerance nor "
                          "at noise level", (long)p, j);
        }
        ck_assert_msg(rank >= 1 && rank <= 3, "p = %ld: rank %d of a batch-3 gradient", (long)p,
                      rank);
        ck_assert_msg(rank0 < 0 || rank == rank0, "rank %d at %ld bits, %d at 53", rank, (long)p,
                      rank0);
        rank0 = rank;
        mpfr_clears(tol, noise, (mpfr_ptr)0);
        mpmat_clear(A), mpmat_clear(U), mpmat_clear(s), mpmat_clear(V);
        problem_clear(&P);
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("mpmat_svd");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_svd_random);
    tcase_add_test(tc, test_svd_planted);
    tcase_add_test(tc, test_svd_scaling_exact);
    tcase_add_test(tc, test_svd_exact_cases);
    tcase_add_test(tc, test_svd_aliasing);
    tcase_add_test(tc, test_svd_64x64);
    tcase_add_test(tc, test_svd_errors);
    tcase_add_test(tc, test_svd_rank_deficient_rounded);
    suite_add_tcase(s, tc);
    return s;
}
