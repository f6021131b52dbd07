/* mpmat_eigh: LAPACK-style scale-free ratios (proofs/eigh-residuals.md has
 * the thresholds and their derivation) on planted spectra and random
 * matrices at 53, 113, 256 and 1024 bits, the canonical form of spec 1.2
 * (descending order, clusters given by the cluster rule, sign-canonical
 * singletons), exact special cases, bit reproducibility and error codes.
 *
 * A planted matrix is A = RN_p(Q diag(lambda) Q^T), with Q orthogonal to
 * about 2^-(p+64) (Gram-Schmidt, twice, of random data at p + 64 bits: this
 * test does not depend on mpmat_qr) and the product correctly rounded once,
 * so A is exactly symmetric and A = Q diag(lambda) Q^T + E, ||E||_F <=
 * 2^-p ||A||_F. The checks, with N = ||A||_F and u = 2^-p:
 *   resid   ||A V - V diag(w)||_F / (n N u)
 *   orth    ||V^T V - I||_F / (n u)
 *   eigval  ||w - lambda||_2 / (n N u)                       (Hoffman-Wielandt)
 *   dk      ||v_i - q_i||_2 gap_i / (n N u), singleton i     (Davis-Kahan)
 *   cluster ||V_c - K_c||_F gap_c / (n N u), K_c = mpmat_basis_canonical_cluster
 *           of the planted columns Q_c (the cluster's canonical basis must
 *           be that of the planted subspace)
 * where q_i is the planted column made sign-canonical and gap is the
 * distance of the eigenvalue (cluster) to the rest of the planted spectrum. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optref/mpmat.h"

#define GUARD 64 /* extra bits of the planted data and of every residual */

static test_worst w_resid = {"eigh ||AV - VW|| / (n ||A|| u)", 0, 10};
static test_worst w_spread = {"eigh ||AV_c - V_c W_c|| / (sqrt(d) spread)", 0, 10};
static test_worst w_orth = {"eigh ||V^T V - I|| / (n u)", 0, 10};
static test_worst w_eigval = {"eigh ||w - lambda|| / (n ||A|| u)", 0, 10};
static test_worst w_dk = {"eigh ||v - q|| gap / (n ||A|| u)", 0, 10};
static test_worst w_cluster = {"eigh ||V_c - K_c|| gap / (n ||A|| u)", 0, 100};

/* Stable sort of lam descending, permuting Q's columns alike. */
static void sort_planted(mpmat_ptr Q, mpmat_ptr lam)
{
    size_t n = Q->rows;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && mpfr_greater_p(mpmat_entry(lam, j, 0),
                                                   mpmat_entry(lam, j - 1, 0)); j--) {
            mpfr_swap(mpmat_entry(lam, j, 0), mpmat_entry(lam, j - 1, 0));
            for (size_t r = 0; r < n; r++)
                mpfr_swap(mpmat_entry(Q, r, j), mpmat_entry(Q, r, j - 1));
        }
}

/* tol = 2^(-p/2) nrm, as mpmat_eigh computes it. */
static void cluster_tol(mpfr_ptr tol, mpfr_srcptr nrm, mpfr_prec_t p)
{
    mpfr_set_ui_2exp(tol, 1, -(long)p, MPFR_RNDN);
    mpfr_sqrt(tol, tol, MPFR_RNDN);
    mpfr_mul(tol, tol, nrm, MPFR_RNDN);
}

/* group[k] = index of the first member of k's cluster in the descending x. */
static void clusters_of(size_t *group, mpmat_srcptr x, mpfr_srcptr tol)
{
    mpfr_t d;
    mpfr_init2(d, mpfr_get_prec(tol));
    for (size_t k = 0; k < x->rows; k++) {
        group[k] = k;
        if (k > 0) {
            mpfr_sub(d, mpmat_entry(x, k - 1, 0), mpmat_entry(x, k, 0), MPFR_RNDN);
            if (mpfr_lessequal_p(d, tol))
                group[k] = group[k - 1];
        }
    }
    mpfr_clear(d);
}

/* The residual checks. With the clusters of w (spec 1.2), V's columns in a
 * cluster c are the cluster rule's basis of the invariant subspace, not
 * eigenvectors of the individual w_i, so the residual is taken against
 * M = diag(w) outside clusters and the block M_c = V_c^T A V_c inside:
 *   resid   ||A V - V M||_F / (n ||A||_F u)
 *   spread  ||A V_c - V_c diag(w_c)||_F / (sqrt(d_c) (max w_c - min w_c) + n ||A||_F u),
 *           the part of the residual the canonical basis is allowed
 *   orth    ||V^T V - I||_F / (n u). */
static void check_residuals(mpmat_srcptr A, mpmat_srcptr w, mpmat_srcptr V, mpfr_prec_t p)
{
    size_t n = A->rows;
    mpfr_prec_t ph = p + GUARD;
    mpmat_t R, T, M, AV;
    TEST_OK(mpmat_init(R, n, n, ph));
    TEST_OK(mpmat_init(T, n, n, ph));
    TEST_OK(mpmat_init(M, n, n, ph));
    TEST_OK(mpmat_init(AV, n, n, ph));
    mpfr_t s, tol, num, den;
    mpfr_inits2(ph, s, tol, num, den, (mpfr_ptr)0);
    mpmat_norm_fro(s, A);
    cluster_tol(tol, s, p);
    mpfr_mul_ui(s, s, n, MPFR_RNDN); /* n ||A||_F */
    size_t *g = malloc(n * sizeof *g);
    ck_assert(g != NULL);
    clusters_of(g, w, tol);

    TEST_OK(mpmat_mul(AV, A, V));
    TEST_OK(mpmat_mul_tn(T, V, AV)); /* V^T A V */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            mpfr_ptr m = mpmat_entry(M, i, j);
            if (g[i] != g[j])
                mpfr_set_zero(m, 1);
            else if (i == j && (i + 1 == n || g[i + 1] != g[i]) && g[i] == i)
                mpfr_set(m, mpmat_entry(w, i, 0), MPFR_RNDN); /* singleton */
            else
                mpfr_set(m, mpmat_entry(T, i, j), MPFR_RNDN);
        }
    TEST_OK(mpmat_mul(R, V, M));
    TEST_OK(mpmat_sub(R, AV, R));
    test_worst_add(&w_resid, test_ratio(R, s, p));

    /* clusters: the residual against diag(w_c) is bounded by the spread */
    for (size_t c0 = 0; c0 < n;) {
        size_t c1 = c0 + 1;
        while (c1 < n && g[c1] == c0)
            c1++;
        if (c1 - c0 >= 2) {
            mpfr_set_zero(num, 1);
            for (size_t i = 0; i < n; i++)
                for (size_t j = c0; j < c1; j++) {
                    mpfr_mul(den, mpmat_entry(V, i, j), mpmat_entry(w, j, 0), MPFR_RNDN);
                    mpfr_sub(den, mpmat_entry(AV, i, j), den, MPFR_RNDN);
                    mpfr_fma(num, den, den, num, MPFR_RNDN);
                }
            mpfr_sqrt(num, num, MPFR_RNDN);
            mpfr_sub(den, mpmat_entry(w, c0, 0), mpmat_entry(w, c1 - 1, 0), MPFR_RNDN);
            mpfr_mul_ui(den, den, c1 - c0, MPFR_RNDN);
            mpfr_sqrt(den, den, MPFR_RNDN);
            mpfr_sub(tol, mpmat_entry(w, c0, 0), mpmat_entry(w, c1 - 1, 0), MPFR_RNDN);
            mpfr_sqrt(tol, tol, MPFR_RNDN);
            mpfr_mul(den, den, tol, MPFR_RNDN); /* sqrt(d) spread */
            mpfr_mul_2si(tol, s, -(long)p, MPFR_RNDN);
            mpfr_add(den, den, tol, MPFR_RNDN);
            mpfr_div(num, num, den, MPFR_RNDN);
            test_worst_add(&w_spread, mpfr_get_ld(num, MPFR_RNDN));
        }
        c0 = c1;
    }

    TEST_OK(mpmat_mul_tn(R, V, V));
    for (size_t i = 0; i < n; i++)
        mpfr_sub_ui(mpmat_entry(R, i, i), mpmat_entry(R, i, i), 1, MPFR_RNDN);
    mpfr_set_ui(s, n, MPFR_RNDN);
    test_worst_add(&w_orth, test_ratio(R, s, p));
    free(g);
    mpfr_clears(s, tol, num, den, (mpfr_ptr)0);
    mpmat_clear(R), mpmat_clear(T), mpmat_clear(M), mpmat_clear(AV);
}

/* Prints the worst ratios (each test runs in its own process). */
static void report_all(void)
{
    test_worst_report(&w_resid);
    test_worst_report(&w_spread);
    test_worst_report(&w_orth);
    test_worst_report(&w_eigval);
    test_worst_report(&w_dk);
    test_worst_report(&w_cluster);
}

/* Eigendecomposition of the planted A = Q diag(lam) Q^T (lam descending, Q
 * and lam at p + GUARD bits), every check of the header. */
static void check_planted(const char *name, mpmat_srcptr Q, mpmat_srcptr lam, mpfr_prec_t p)
{
    size_t n = Q->rows;
    mpfr_prec_t ph = p + GUARD;
    mpmat_t A, w, V, w2, V2, Qc;
    TEST_OK(mpmat_init(A, n, n, p));
    TEST_OK(mpmat_init(w, n, 1, p));
    TEST_OK(mpmat_init(V, n, n, p));
    TEST_OK(mpmat_init(w2, n, 1, p));
    TEST_OK(mpmat_init(V2, n, n, p));
    TEST_OK(mpmat_init(Qc, n, n, ph));
    test_plant_symmetric(A, Q, lam);
    TEST_OK(mpmat_eigh(w, V, A));
    check_residuals(A, w, V, p);
    ck_assert_msg(test_no_negative_zero(w) && test_no_negative_zero(V), "%s: -0 in the output",
                  name);

    /* bit reproducibility, and V = NULL gives the same eigenvalues */
    TEST_OK(mpmat_eigh(w2, V2, A));
    ck_assert_msg(mpmat_equal(w, w2) && mpmat_equal(V, V2), "%s: two calls differ", name);
    mpmat_zero(w2);
    TEST_OK(mpmat_eigh(w2, NULL, A));
    ck_assert_msg(mpmat_equal(w, w2), "%s: eigenvalues differ without V", name);

    mpfr_t nrm, tol, scale, d, gap, num;
    mpfr_inits2(ph, nrm, tol, scale, d, gap, num, (mpfr_ptr)0);
    mpmat_norm_fro(nrm, A);
    mpfr_mul_ui(scale, nrm, n, MPFR_RNDN); /* n ||A||_F */

    /* descending order */
    for (size_t k = 1; k < n; k++)
        ck_assert_msg(mpfr_greaterequal_p(mpmat_entry(w, k - 1, 0), mpmat_entry(w, k, 0)),
                      "%s: eigenvalues not descending at %zu", name, k);
    /* eigenvalues: ||w - lambda||_2 */
    mpfr_set_zero(num, 1);
    for (size_t k = 0; k < n; k++) {
        mpfr_sub(d, mpmat_entry(w, k, 0), mpmat_entry(lam, k, 0), MPFR_RNDN);
        mpfr_fma(num, d, d, num, MPFR_RNDN);
    }
    mpfr_sqrt(num, num, MPFR_RNDN);
    test_worst_add(&w_eigval, test_scalar_ratio(num, scale, p));

    /* clusters of the planted spectrum must be those of the computed one */
    size_t *gp = malloc(n * sizeof *gp), *gw = malloc(n * sizeof *gw);
    ck_assert(gp != NULL && gw != NULL);
    cluster_tol(tol, nrm, p);
    clusters_of(gp, lam, tol);
    clusters_of(gw, w, tol);
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(gp[k] == gw[k], "%s (%ld bits): eigenvalue %zu is clustered with %zu, "
                      "planted with %zu", name, (long)p, k, gw[k], gp[k]);

    /* the expected basis: the cluster rule on the planted columns, signs on singletons */
    TEST_OK(mpmat_set(Qc, Q));
    for (size_t c0 = 0; c0 < n;) {
        size_t c1 = c0 + 1;
        while (c1 < n && gp[c1] == c0)
            c1++;
        if (c1 - c0 >= 2)
            TEST_OK(mpmat_basis_canonical_cluster(Qc, c0, c1));
        else
            mpmat_column_sign_canonical(Qc, c0);
        /* gap: distance of the cluster's planted eigenvalues to the others */
        int any = 0;
        for (size_t i = c0; i < c1; i++)
            for (size_t j = 0; j < n; j++) {
                if (j >= c0 && j < c1)
                    continue;
                mpfr_sub(d, mpmat_entry(lam, i, 0), mpmat_entry(lam, j, 0), MPFR_RNDN);
                mpfr_abs(d, d, MPFR_RNDN);
                if (!any || mpfr_less_p(d, gap))
                    mpfr_set(gap, d, MPFR_RNDN);
                any = 1;
            }
        if (!any) /* the whole space: no gap enters */
            mpfr_set(gap, nrm, MPFR_RNDN);
        mpfr_set_zero(num, 1);
        for (size_t i = 0; i < n; i++)
            for (size_t j = c0; j < c1; j++) {
                mpfr_sub(d, mpmat_entry(V, i, j), mpmat_entry(Qc, i, j), MPFR_RNDN);
                mpfr_fma(num, d, d, num, MPFR_RNDN);
            }
        mpfr_sqrt(num, num, MPFR_RNDN);
        mpfr_mul(num, num, gap, MPFR_RNDN);
        long double r = test_scalar_ratio(num, scale, p);
        if (c1 - c0 >= 2) {
            test_worst_add(&w_cluster, r);
        } else {
            test_worst_add(&w_dk, r);
            ck_assert_msg(test_column_is_sign_canonical(V, c0),
                          "%s: column %zu is not sign-canonical", name, c0);
        }
        c0 = c1;
    }
    free(gp), free(gw);
    mpfr_clears(nrm, tol, scale, d, gap, num, (mpfr_ptr)0);
    mpmat_clear(A), mpmat_clear(w), mpmat_clear(V), mpmat_clear(w2), mpmat_clear(V2);
    mpmat_clear(Qc);
}

enum { DISTINCT, REPEATED, TIGHT, NEAR, RANKDEF, SCALAR, NDESIGNS };
static const char *const design_names[NDESIGNS] = {"distinct", "repeated", "tight", "near",
                                                   "rank-deficient", "scalar"};

/* Fills lam (n x 1, descending after sort_planted) for a design; returns 0
 * when the design needs a larger n. */
static int design_spectrum(mpmat_ptr lam, int design, mpfr_prec_t p, test_rng *rng)
{
    size_t n = lam->rows;
    mpfr_t u, delta;
    mpfr_inits2(lam->prec, u, delta, (mpfr_ptr)0);
    /* distinct base: lambda_i = n - 1 - 2 i + u_i / 2 (gaps in [1.5, 2.5]) */
    for (size_t i = 0; i < n; i++) {
        mpfr_set_uj(u, test_rng_next(rng) >> 11, MPFR_RNDN);
        mpfr_mul_2si(u, u, -54, MPFR_RNDN); /* [0, 1/2) */
        mpfr_set_si(mpmat_entry(lam, i, 0), (long)n - 1 - 2 * (long)i, MPFR_RNDN);
        mpfr_add(mpmat_entry(lam, i, 0), mpmat_entry(lam, i, 0), u, MPFR_RNDN);
    }
    /* delta = 2^(-p/2) ||lambda||_2: the cluster tolerance of the planted matrix */
    mpfr_set_ui_2exp(delta, 1, -(long)p, MPFR_RNDN);
    mpfr_sqrt(delta, delta, MPFR_RNDN);
    int ok = 1;
    switch (design) {
    case DISTINCT:
        break;
    case REPEATED: /* multiplicities 3 and 2 */
        if ((ok = n >= 5)) {
            for (size_t i = 0; i < 3; i++)
                mpfr_set_ui(mpmat_entry(lam, i, 0), 3 * (unsigned long)n, MPFR_RNDN);
            mpfr_set_ui(mpmat_entry(lam, 3, 0), 1, MPFR_RNDN);
            mpfr_set_ui(mpmat_entry(lam, 4, 0), 1, MPFR_RNDN);
        }
        break;
    case TIGHT: /* three eigenvalues 2n - k delta / 10, k = 0, 1, 2 */
    case NEAR:  /* two eigenvalues 2n and 2n + 16 delta */
        if ((ok = n >= (design == TIGHT ? 3u : 2u))) {
            mpfr_mul_ui(delta, delta, 2 * (unsigned long)n, MPFR_RNDN); /* >= ||lambda|| */
            if (design == TIGHT)
                mpfr_div_ui(delta, delta, 10, MPFR_RNDN);
            else
                mpfr_mul_ui(delta, delta, 16, MPFR_RNDN);
            for (size_t k = 0; k < (design == TIGHT ? 3u : 2u); k++) {
                mpfr_mul_si(u, delta, design == TIGHT ? -(long)k : (long)k, MPFR_RNDN);
                mpfr_add_ui(mpmat_entry(lam, k, 0), u, 2 * (unsigned long)n, MPFR_RNDN);
            }
        }
        break;
    case RANKDEF: /* zeros of multiplicity n - 2 */
        if ((ok = n >= 3))
            for (size_t i = 1; i + 1 < n; i++)
                mpfr_set_zero(mpmat_entry(lam, i, 0), 1);
        break;
    case SCALAR: /* -3 I */
        if ((ok = n >= 2))
            for (size_t i = 0; i < n; i++)
                mpfr_set_si(mpmat_entry(lam, i, 0), -3, MPFR_RNDN);
        break;
    }
    mpfr_clears(u, delta, (mpfr_ptr)0);
    return ok;
}

START_TEST(test_planted_spectra)
{
    test_rng rng = {11};
    const size_t sizes[] = {1, 2, 3, 5, 8, 16};
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip];
        for (size_t is = 0; is < sizeof sizes / sizeof sizes[0]; is++) {
            size_t n = sizes[is];
            if (n == 16 && p > 113)
                continue; /* 16 x 16 at the low precisions only */
            for (int design = 0; design < NDESIGNS; design++) {
                mpmat_t Q, lam;
                TEST_OK(mpmat_init(Q, n, n, p + GUARD));
                TEST_OK(mpmat_init(lam, n, 1, p + GUARD));
                if (design_spectrum(lam, design, p, &rng)) {
                    test_random_orthogonal(Q, &rng);
                    sort_planted(Q, lam);
                    check_planted(design_names[design], Q, lam, p);
                }
                mpmat_clear(Q), mpmat_clear(lam);
            }
        }
    }
    printf("planted spectra, n <= 16:\n");
    report_all();
}
END_TEST

/* The trace-het Hessian of spec problems.md: blockdiag(Q_k D_k Q_k^T),
 * D = {1,2,3}, {99,100,101}, {4998,4999,5000}, Q_k random orthogonal 3 x 3;
 * and trace-hom's blocks {1,99,4998}, {2,100,4999}, {3,101,5000}. */
START_TEST(test_hessian_blocks)
{
    test_rng rng = {12};
    static const unsigned long het[9] = {1, 2, 3, 99, 100, 101, 4998, 4999, 5000};
    static const unsigned long hom[9] = {1, 99, 4998, 2, 100, 4999, 3, 101, 5000};
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip];
        for (int kind = 0; kind < 2; kind++) {
            mpmat_t Q, lam, B;
            TEST_OK(mpmat_init(Q, 9, 9, p + GUARD));
            TEST_OK(mpmat_init(lam, 9, 1, p + GUARD));
            TEST_OK(mpmat_init(B, 3, 3, p + GUARD));
            for (size_t k = 0; k < 3; k++) {
                test_random_orthogonal(B, &rng);
                for (size_t i = 0; i < 3; i++)
                    for (size_t j = 0; j < 3; j++)
                        mpfr_set(mpmat_entry(Q, 3 * k + i, 3 * k + j), mpmat_entry(B, i, j),
                                 MPFR_RNDN);
            }
            for (size_t i = 0; i < 9; i++)
                mpfr_set_ui(mpmat_entry(lam, i, 0), kind ? hom[i] : het[i], MPFR_RNDN);
            sort_planted(Q, lam);
            check_planted(kind ? "trace-hom" : "trace-het", Q, lam, p);
            mpmat_clear(Q), mpmat_clear(lam), mpmat_clear(B);
        }
    }
    printf("trace-het and trace-hom Hessians:\n");
    report_all();
}
END_TEST

/* Random symmetric matrices: residuals, orthogonality, order, signs,
 * reproducibility; 64 x 64 at 256 bits is the size the reference must
 * handle in about a second. */
START_TEST(test_random_symmetric)
{
    test_rng rng = {13};
    const struct { size_t n; mpfr_prec_t p; } cases[] = {
        {2, 53}, {7, 53}, {16, 53}, {7, 113}, {16, 113}, {7, 256}, {6, 1024}, {64, 256}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n = cases[c].n;
        mpfr_prec_t p = cases[c].p;
        mpmat_t A, w, V, V2;
        TEST_OK(mpmat_init(A, n, n, p));
        TEST_OK(mpmat_init(w, n, 1, p));
        TEST_OK(mpmat_init(V, n, n, p));
        TEST_OK(mpmat_init(V2, n, n, p));
        test_fill_uniform(A, &rng);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < i; j++)
                mpfr_set(mpmat_entry(A, i, j), mpmat_entry(A, j, i), MPFR_RNDN);
        TEST_OK(mpmat_eigh(w, V, A));
        check_residuals(A, w, V, p);
        for (size_t k = 0; k < n; k++) {
            if (k > 0)
                ck_assert(mpfr_greaterequal_p(mpmat_entry(w, k - 1, 0), mpmat_entry(w, k, 0)));
            ck_assert(test_column_is_sign_canonical(V, k)); /* random spectra have no clusters */
        }
        if (n <= 16) {
            TEST_OK(mpmat_eigh(w, V2, A));
            ck_assert(mpmat_equal(V, V2));
        }
        mpmat_clear(A), mpmat_clear(w), mpmat_clear(V), mpmat_clear(V2);
    }
    printf("random symmetric, up to 64 x 64:\n");
    test_worst_report(&w_resid);
    test_worst_report(&w_orth);
}
END_TEST

START_TEST(test_exact_cases)
{
    for (int ip = 0; ip < 4; ip++) {
        mpfr_prec_t p = test_precisions[ip];
        mpmat_t A, w, V, E, ew;
        /* 1 x 1 */
        TEST_OK(mpmat_init(A, 1, 1, p));
        TEST_OK(mpmat_init(w, 1, 1, p));
        TEST_OK(mpmat_init(V, 1, 1, p));
        mpfr_set_si(A->e, -7, MPFR_RNDN);
        TEST_OK(mpmat_eigh(w, V, A));
        ck_assert(mpfr_cmp_si(w->e, -7) == 0 && mpfr_cmp_ui(V->e, 1) == 0);
        mpmat_clear(A), mpmat_clear(w), mpmat_clear(V);

        /* zero 5 x 5 and 2 I: eigenvalues exact, V = I via the cluster rule */
        TEST_OK(mpmat_init(A, 5, 5, p));
        TEST_OK(mpmat_init(w, 5, 1, p));
        TEST_OK(mpmat_init(V, 5, 5, p));
        TEST_OK(mpmat_init(E, 5, 5, p));
        TEST_OK(mpmat_init(ew, 5, 1, p));
        mpmat_one(E);
        for (int s = 0; s < 2; s++) {
            mpmat_one(A);
            mpfr_t two;
            mpfr_init2(two, 2);
            mpfr_set_ui(two, 2 * (unsigned long)s, MPFR_RNDN);
            TEST_OK(mpmat_scale(A, A, two));
            mpfr_clear(two);
            TEST_OK(mpmat_eigh(w, V, A));
            for (size_t k = 0; k < 5; k++)
                ck_assert(mpfr_cmp_ui(mpmat_entry(w, k, 0), 2 * (unsigned long)s) == 0);
            ck_assert_msg(mpmat_equal(V, E), "V of %d I is not I", 2 * s);
        }
        /* diag(1, 3, 1, 2, 1): order 3, 2, then the cluster {1, 1, 1} whose
         * canonical basis is e_0, e_2, e_4 */
        static const long d5[25] = {1, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 1, 0, 0,
                                    0, 0, 0, 2, 0, 0, 0, 0, 0, 1};
        static const long e5[25] = {0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0,
                                    0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
        static const long ew5[5] = {3, 2, 1, 1, 1};
        test_set_ints(A, d5), test_set_ints(E, e5), test_set_ints(ew, ew5);
        TEST_OK(mpmat_eigh(w, V, A));
        ck_assert(mpmat_equal(w, ew) && mpmat_equal(V, E));
        /* -diag: signs of singletons stay positive */
        TEST_OK(mpmat_neg(A, A));
        TEST_OK(mpmat_eigh(w, V, A));
        static const long ew5n[5] = {-1, -1, -1, -2, -3};
        static const long e5n[25] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0,
                                     0, 0, 0, 1, 0, 0, 0, 1, 0, 0};
        test_set_ints(ew, ew5n), test_set_ints(E, e5n);
        ck_assert(mpmat_equal(w, ew) && mpmat_equal(V, E));
        mpmat_clear(A), mpmat_clear(w), mpmat_clear(V), mpmat_clear(E), mpmat_clear(ew);

        /* [[0, 1], [1, 0]]: w = (1, -1), V = [[1, 1], [1, -1]] / sqrt 2 (the
         * second column's tie between |v_0| = |v_1| goes to index 0) */
        TEST_OK(mpmat_init(A, 2, 2, p));
        TEST_OK(mpmat_init(w, 2, 1, p));
        TEST_OK(mpmat_init(V, 2, 2, p));
        static const long a2[4] = {0, 1, 1, 0};
        test_set_ints(A, a2);
        TEST_OK(mpmat_eigh(w, V, A));
        ck_assert(mpfr_cmp_si(mpmat_entry(w, 0, 0), 1) == 0);
        ck_assert(mpfr_cmp_si(mpmat_entry(w, 1, 0), -1) == 0);
        mpfr_t h;
        mpfr_init2(h, p);
        mpfr_set_ui_2exp(h, 1, -1, MPFR_RNDN);
        mpfr_sqrt(h, h, MPFR_RNDN); /* 1/sqrt(2), correctly rounded */
        ck_assert(mpfr_equal_p(mpmat_entry(V, 0, 0), h) && mpfr_equal_p(mpmat_entry(V, 1, 0), h));
        ck_assert(mpfr_equal_p(mpmat_entry(V, 0, 1), h));
        mpfr_neg(h, h, MPFR_RNDN);
        ck_assert(mpfr_equal_p(mpmat_entry(V, 1, 1), h));
        mpfr_clear(h);
        mpmat_clear(A), mpmat_clear(w), mpmat_clear(V);
    }
}
END_TEST

/* The cluster rule applied to the identity gives the identity exactly (what
 * makes the zero matrix's V the identity). */
START_TEST(test_cluster_rule_identity)
{
    for (int ip = 0; ip < 4; ip++) {
        mpmat_t V, E;
        TEST_OK(mpmat_init(V, 6, 6, test_precisions[ip]));
        TEST_OK(mpmat_init(E, 6, 6, test_precisions[ip]));
        mpmat_one(V), mpmat_one(E);
        TEST_OK(mpmat_basis_canonical_cluster(V, 0, 6));
        ck_assert(mpmat_equal(V, E));
        mpmat_clear(V), mpmat_clear(E);
    }
}
END_TEST

START_TEST(test_errors)
{
    mpmat_t A, w, V, B;
    TEST_OK(mpmat_init(A, 3, 3, 53));
    TEST_OK(mpmat_init(w, 3, 1, 53));
    TEST_OK(mpmat_init(V, 3, 3, 53));
    TEST_OK(mpmat_init(B, 3, 2, 53));
    ck_assert_int_eq(mpmat_eigh(w, V, B), OPTREF_ESHAPE);   /* not square */
    ck_assert_int_eq(mpmat_eigh(B, V, A), OPTREF_ESHAPE);   /* w not 3 x 1 */
    ck_assert_int_eq(mpmat_eigh(w, B, A), OPTREF_ESHAPE);   /* V not 3 x 3 */
    mpfr_set_ui(mpmat_entry(A, 1, 2), 1, MPFR_RNDN);
    ck_assert_int_eq(mpmat_eigh(w, V, A), OPTREF_EINVAL); /* not symmetric */
    ck_assert_msg(strstr(optref_last_error(), "A[1][2] != A[2][1]") != NULL, "message: %s",
                  optref_last_error());
    mpfr_set_ui(mpmat_entry(A, 2, 1), 1, MPFR_RNDN);
    TEST_OK(mpmat_eigh(w, V, A));
    /* signed zeros are equal numbers: symmetric */
    mpfr_set_zero(mpmat_entry(A, 0, 1), -1);
    TEST_OK(mpmat_eigh(w, NULL, A));
    mpfr_set_nan(mpmat_entry(A, 2, 0));
    ck_assert_int_eq(mpmat_eigh(w, V, A), OPTREF_ENONFINITE);
    ck_assert_msg(strstr(optref_last_error(), "A[2][0]") != NULL, "message: %s",
                  optref_last_error());
    mpfr_set_inf(mpmat_entry(A, 2, 0), 1);
    mpfr_set_inf(mpmat_entry(A, 0, 2), 1);
    ck_assert_int_eq(mpmat_eigh(w, NULL, A), OPTREF_ENONFINITE);
    /* entries whose squares leave MPFR's exponent range */
    mpmat_zero(A);
    mpfr_set_ui_2exp(mpmat_entry(A, 1, 1), 1, mpfr_get_emax() / 2 + 1, MPFR_RNDN);
    ck_assert_int_eq(mpmat_eigh(w, V, A), OPTREF_EINVAL);
    mpfr_set_ui_2exp(mpmat_entry(A, 1, 1), 1, mpfr_get_emin() / 2 - 1, MPFR_RNDN);
    ck_assert_int_eq(mpmat_eigh(w, V, A), OPTREF_EINVAL);
    mpmat_clear(A), mpmat_clear(w), mpmat_clear(V), mpmat_clear(B);
    /* empty */
    TEST_OK(mpmat_init(A, 0, 0, 53));
    TEST_OK(mpmat_init(w, 0, 1, 53));
    TEST_OK(mpmat_eigh(w, NULL, A));
    mpmat_clear(A), mpmat_clear(w);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("mpmat_eigh");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_exact_cases);
    tcase_add_test(tc, test_cluster_rule_identity);
    tcase_add_test(tc, test_planted_spectra);
    tcase_add_test(tc, test_hessian_blocks);
    tcase_add_test(tc, test_random_symmetric);
    suite_add_tcase(s, tc);
    return s;
}
