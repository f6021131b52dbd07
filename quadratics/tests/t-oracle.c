/* The gradient oracles (spec/problems.md 3); the statistical tolerances are
 * derived in proofs/oracle-statistics.md.
 *  - exact: G is the correctly rounded H X + B (bit for bit against an exact
 *    sum at 4096 bits), also with G aliasing X; dense, block and diagonal.
 *  - formulas: rows-sq, rows-norm and gauss match the spec's expressions
 *    recomputed at 4 prec bits from the indices S (stream 4, substream t) and
 *    the normals Z (stream 5, substream t) that the test draws itself: so
 *    the oracle uses exactly those draws (shared by every optimizer), two
 *    calls agree bit for bit, and different t give different draws.
 *  - rows-sq mean over N = 4000 steps (batch 3, 53 bits) equals H X + B:
 *    per-entry z = (mean - mu) / (s / sqrt N) with |z| < Z_MAX = 6 for every
 *    entry (Bonferroni); the same statistic rejects a 25 % scale error.
 *  - gauss mean (known variance H_ii / batch) and covariance (H / batch, per
 *    column) within Z_MAX; the noise at batch 4 is exactly the noise at
 *    batch 1 over 2 (same Z), so the covariance scales as 1 / batch.
 *  - rows-norm: G = +0 at X = Xstar = 0 on trace-het (R = 0 exactly);
 *    ||G||_F <= (d / (2 batch)) ||A_S||_F; invariant under X -> 2X when Y = 0.
 *  - nqm with d = 10000 at 53 bits: exact, gauss and rows-sq.
 *  - errors: batch 0 or > 2^31, t = 0 or >= 2^32, hvp, shapes. */
#include "dense_problem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optref/problem.h"
#include "optref/rng.h"

#define Z_MAX 6
#define FORMULA_THRESHOLD 8.0L

static void create_nqm(problem *P, const char *d, mpfr_prec_t prec)
{
    const problem_info *info = problem_info_find("nqm");
    param_set ps;
    TEST_OK(param_set_init(&ps, info->params, info->nparams));
    TEST_OK(param_set_value(&ps, "d", d));
    TEST_OK(problem_create(P, "nqm", 3, prec, &ps));
    param_set_clear(&ps);
}

static long double abs_ld(long double x)
{
    return x < 0 ? -x : x;
}

/* The dense H (d x d) of any problem, at H's precision. */
static void dense_H(mpmat_ptr H, const problem *P, mpmat_srcptr M)
{
    TEST_OK(mpmat_init(H, P->d, P->d, M->prec));
    for (size_t i = 0; i < P->d; i++)
        for (size_t j = 0; j < P->d; j++)
            if (!P->diagonal)
                mpfr_set(mpmat_entry(H, i, j), mpmat_entry(M, i, j), MPFR_RNDN);
            else if (i == j)
                mpfr_set(mpmat_entry(H, i, i), mpmat_entry(M, i, 0), MPFR_RNDN);
}

/* E = H X + B exactly (4096-bit sum of exact products), then rounded to E. */
static void exact_gradient(mpmat_ptr E, const problem *P, mpmat_srcptr X)
{
    mpfr_t acc, prod;
    mpfr_inits2(4096, acc, prod, (mpfr_ptr)0);
    for (size_t i = 0; i < P->d; i++)
        for (size_t j = 0; j < P->p; j++) {
            mpfr_set(acc, mpmat_entry(P->B, i, j), MPFR_RNDN);
            for (size_t k = 0; k < P->d; k++) {
                if (P->diagonal && k != i)
                    continue;
                mpfr_mul(prod, mpmat_entry(P->H, i, P->diagonal ? 0 : k), mpmat_entry(X, k, j),
                         MPFR_RNDN);
                mpfr_add(acc, acc, prod, MPFR_RNDN);
            }
            mpfr_set(mpmat_entry(E, i, j), acc, MPFR_RNDN);
        }
    mpfr_clears(acc, prod, (mpfr_ptr)0);
}

START_TEST(test_exact)
{
    test_rng rng = {21};
    for (int c = 0; c < 6; c++) {
        problem P;
        mpfr_prec_t prec = test_precisions[c % 3];
        if (c < 3)
            create_dense(&P, 5, prec, 5, 3, NULL, "1", "1000");
        else if (c < 5)
            TEST_OK(problem_create(&P, c == 3 ? "trace-het" : "trace-hom", 9, prec, NULL));
        else
            create_nqm(&P, "50", prec);
        mpmat_t X, G, E;
        TEST_OK(mpmat_init(X, P.d, P.p, prec));
        TEST_OK(mpmat_init(G, P.d, P.p, prec));
        TEST_OK(mpmat_init(E, P.d, P.p, prec));
        test_fill_uniform(X, &rng);
        TEST_OK(oracle_gradient(G, &P, ORACLE_EXACT, 0, 1, X));
        exact_gradient(E, &P, X);
        ck_assert_msg(mpmat_equal(G, E), "exact oracle is not the correctly rounded H X + B");
        TEST_OK(oracle_gradient(X, &P, ORACLE_EXACT, 7, 3, X)); /* G aliases X */
        ck_assert(mpmat_equal(X, E));
        mpmat_clear(X), mpmat_clear(G), mpmat_clear(E);
        problem_clear(&P);
    }
}
END_TEST

/* The row indices of step t, drawn as the spec says. */
static void draw_rows(uint32_t *S, const problem *P, size_t batch, uint64_t t)
{
    rng_stream s;
    rng_stream_init(&s, P->seed, RNG_STREAM_ROWS, (uint32_t)t);
    for (size_t b = 0; b < batch; b++)
        S[b] = rng_next_bounded(&s, (uint32_t)P->d);
}

/* A_S (batch x d) and Y_S (batch x p) at A's precision. */
static void rows_of(mpmat_ptr AS, mpmat_ptr YS, const problem *P, const uint32_t *S, size_t batch)
{
    TEST_OK(mpmat_init(AS, batch, P->d, P->prec));
    TEST_OK(mpmat_init(YS, batch, P->p, P->prec));
    for (size_t b = 0; b < batch; b++) {
        for (size_t k = 0; k < P->d; k++)
            if (!P->diagonal)
                mpfr_set(mpmat_entry(AS, b, k), mpmat_entry(P->A, S[b], k), MPFR_RNDN);
        if (P->diagonal)
            mpfr_set(mpmat_entry(AS, b, S[b]), mpmat_entry(P->A, S[b], 0), MPFR_RNDN);
        for (size_t j = 0; j < P->p; j++)
            mpfr_set(mpmat_entry(YS, b, j), mpmat_entry(P->Y, S[b], j), MPFR_RNDN);
    }
}

static test_worst w_sq = {"rows-sq formula ratio", 0, FORMULA_THRESHOLD};
static test_worst w_norm = {"rows-norm formula ratio", 0, FORMULA_THRESHOLD};
static test_worst w_gauss = {"gauss formula ratio", 0, FORMULA_THRESHOLD};

/* rows-sq and rows-norm at step t against the formulas evaluated at 4p bits:
 * ratio ||G - G_e||_F / ((||G_e||_F + (d / batch) ||A_S||_F ||R||_F) 2^-p)
 * for rows-sq and ((||G_e||_F + (d / batch) ||A_S||_F) 2^-p) for rows-norm.
 * Also checks the norm bound of rows-norm. */
static void check_rows_formula(const problem *P, mpmat_srcptr X, size_t batch, uint64_t t)
{
    mpfr_prec_t p = P->prec, w = 4 * p;
    uint32_t *S = malloc(batch * sizeof *S);
    draw_rows(S, P, batch, t);
    mpmat_t AS, YS, R, D, G, E;
    rows_of(AS, YS, P, S, batch);
    TEST_OK(mpmat_init(R, batch, P->p, w));
    TEST_OK(mpmat_init(D, P->d, P->p, w));
    TEST_OK(mpmat_init(E, P->d, P->p, w));
    TEST_OK(mpmat_init(G, P->d, P->p, p));
    TEST_OK(mpmat_mul(R, AS, X));
    TEST_OK(mpmat_sub(R, R, YS));
    TEST_OK(mpmat_mul_tn(D, AS, R));
    mpfr_t c, nR, nA, scale;
    mpfr_inits2(w, c, nR, nA, scale, (mpfr_ptr)0);
    mpmat_norm_fro(nR, R);
    mpmat_norm_fro(nA, AS);
    for (int norm = 0; norm < 2; norm++) {
        /* c = d / batch, or d / (2 batch ||R||) */
        mpfr_set_ui(c, (unsigned long)P->d, MPFR_RNDN);
        mpfr_div_ui(c, c, (unsigned long)batch, MPFR_RNDN);
        if (norm)
            mpfr_div(c, c, nR, MPFR_RNDN), mpfr_div_2ui(c, c, 1, MPFR_RNDN);
        if (norm && mpfr_zero_p(nR))
            mpmat_zero(E);
        else
            TEST_OK(mpmat_scale(E, D, c));
        TEST_OK(oracle_gradient(G, P, norm ? ORACLE_ROWS_NORM : ORACLE_ROWS_SQ, batch, t, X));
        mpfr_set_ui(scale, (unsigned long)P->d, MPFR_RNDN);
        mpfr_div_ui(scale, scale, (unsigned long)batch, MPFR_RNDN);
        mpfr_mul(scale, scale, nA, MPFR_RNDN);
        if (!norm)
            mpfr_mul(scale, scale, nR, MPFR_RNDN);
        mpmat_norm_fro(c, E);
        mpfr_add(scale, scale, c, MPFR_RNDN);
        if (norm) {
            /* ||G|| <= (d / (2 batch)) ||A_S||_2 <= (d / (2 batch)) ||A_S||_F */
            mpmat_norm_fro(c, G);
            mpfr_set_ui(nA, (unsigned long)P->d, MPFR_RNDN);
            mpfr_div_ui(nA, nA, 2 * (unsigned long)batch, MPFR_RNDN);
            mpmat_t Ahi;
            TEST_OK(mpmat_init(Ahi, batch, P->d, w));
            TEST_OK(mpmat_set(Ahi, AS));
            mpfr_t fa;
            mpfr_init2(fa, w);
            mpmat_norm_fro(fa, Ahi);
            mpfr_mul(nA, nA, fa, MPFR_RNDN);
            mpfr_mul_d(fa, nA, 1e-12, MPFR_RNDN); /* rounding allowance */
            mpfr_add(nA, nA, fa, MPFR_RNDN);
            ck_assert_msg(mpfr_lessequal_p(c, nA), "rows-norm exceeds its norm bound");
            mpfr_clear(fa);
            mpmat_clear(Ahi);
        }
        TEST_OK(mpmat_sub(E, E, G));
        test_worst_add(norm ? &w_norm : &w_sq, test_ratio(E, scale, p));
        /* a second call is bit-identical */
        mpmat_t G2;
        TEST_OK(mpmat_init(G2, P->d, P->p, p));
        TEST_OK(oracle_gradient(G2, P, norm ? ORACLE_ROWS_NORM : ORACLE_ROWS_SQ, batch, t, X));
        ck_assert(mpmat_equal(G, G2));
        mpmat_clear(G2);
    }
    mpfr_clears(c, nR, nA, scale, (mpfr_ptr)0);
    mpmat_clear(AS), mpmat_clear(YS), mpmat_clear(R), mpmat_clear(D), mpmat_clear(G);
    mpmat_clear(E);
    free(S);
}

/* gauss at step t against H X + B + A Z / sqrt(batch) at 4p bits, Z drawn by
 * the test: ratio ||G - G_e||_F / ((||G_e||_F + ||A Z||_F / sqrt(batch)) 2^-p). */
static void check_gauss_formula(const problem *P, mpmat_srcptr X, size_t batch, uint64_t t)
{
    mpfr_prec_t p = P->prec, w = 4 * p;
    mpmat_t Z, AZ, E, G;
    TEST_OK(mpmat_init(Z, P->d, P->p, 53));
    rng_stream s;
    rng_stream_init(&s, P->seed, RNG_STREAM_NOISE, (uint32_t)t);
    rng_fill_normal(Z, &s);
    TEST_OK(mpmat_init(AZ, P->d, P->p, w));
    TEST_OK(mpmat_init(E, P->d, P->p, w));
    TEST_OK(mpmat_init(G, P->d, P->p, p));
    if (P->diagonal) /* never a d x d matrix for nqm */
        for (size_t i = 0; i < P->d; i++)
            for (size_t j = 0; j < P->p; j++) {
                mpfr_mul(mpmat_entry(AZ, i, j), mpmat_entry(P->A, i, 0), mpmat_entry(Z, i, j),
                         MPFR_RNDN);
                mpfr_mul(mpmat_entry(E, i, j), mpmat_entry(P->H, i, 0), mpmat_entry(X, i, j),
                         MPFR_RNDN);
            }
    else {
        TEST_OK(mpmat_mul(AZ, P->A, Z));
        TEST_OK(mpmat_mul(E, P->H, X));
    }
    mpfr_t r, scale, t2;
    mpfr_inits2(w, r, scale, t2, (mpfr_ptr)0);
    mpfr_sqrt_ui(r, (unsigned long)batch, MPFR_RNDN);
    mpfr_ui_div(r, 1, r, MPFR_RNDN);
    TEST_OK(mpmat_scale(AZ, AZ, r));
    TEST_OK(mpmat_add(E, E, P->B));
    TEST_OK(mpmat_add(E, E, AZ));
    TEST_OK(oracle_gradient(G, P, ORACLE_GAUSS, batch, t, X));
    mpmat_norm_fro(scale, E);
    mpmat_norm_fro(t2, AZ);
    mpfr_add(scale, scale, t2, MPFR_RNDN);
    TEST_OK(mpmat_sub(E, E, G));
    test_worst_add(&w_gauss, test_ratio(E, scale, p));
    mpfr_clears(r, scale, t2, (mpfr_ptr)0);
    mpmat_clear(Z), mpmat_clear(AZ), mpmat_clear(E), mpmat_clear(G);
}

START_TEST(test_formulas)
{
    test_rng rng = {22};
    for (int c = 0; c < 5; c++) {
        problem P;
        mpfr_prec_t prec = test_precisions[c % 3];
        if (c < 3)
            create_dense(&P, 6, prec, 5, 3, NULL, "1", "1000");
        else if (c == 3)
            TEST_OK(problem_create(&P, "trace-het", 9, 113, NULL));
        else
            create_nqm(&P, "10000", 53);
        mpmat_t X;
        TEST_OK(mpmat_init(X, P.d, P.p, P.prec));
        test_fill_uniform(X, &rng);
        const size_t batches[3] = {1, 3, 7};
        for (uint64_t t = 1; t <= 4; t++)
            for (int b = 0; b < 3; b++) {
                check_rows_formula(&P, X, batches[b], t);
                check_gauss_formula(&P, X, batches[b], t);
            }
        mpmat_clear(X);
        problem_clear(&P);
    }
    test_worst_report(&w_sq);
    test_worst_report(&w_norm);
    test_worst_report(&w_gauss);
}
END_TEST

START_TEST(test_draws_differ_across_t)
{
    problem P;
    TEST_OK(problem_create(&P, "trace-het", 1234, 53, NULL));
    /* 20 steps of rows-sq at X0: G differs from step to step (the index
     * sequences of these steps are pairwise distinct multisets here). */
    mpmat_t G[20];
    size_t distinct = 0;
    for (int t = 0; t < 20; t++) {
        TEST_OK(mpmat_init(G[t], 9, 9, 53));
        TEST_OK(oracle_gradient(G[t], &P, ORACLE_ROWS_SQ, 3, (uint64_t)t + 1, P.X0));
        int seen = 0;
        for (int u = 0; u < t; u++)
            seen |= mpmat_equal(G[t], G[u]);
        distinct += !seen;
    }
    printf("  rows-sq: %zu distinct gradients in 20 steps\n", distinct);
    ck_assert_uint_ge(distinct, 15);
    for (int t = 0; t < 20; t++)
        mpmat_clear(G[t]);
    /* gauss: the noise differs across t */
    mpmat_t A, B;
    TEST_OK(mpmat_init(A, 9, 9, 53));
    TEST_OK(mpmat_init(B, 9, 9, 53));
    TEST_OK(oracle_gradient(A, &P, ORACLE_GAUSS, 1, 1, P.X0));
    TEST_OK(oracle_gradient(B, &P, ORACLE_GAUSS, 1, 2, P.X0));
    ck_assert(!mpmat_equal(A, B));
    mpmat_clear(A), mpmat_clear(B);
    problem_clear(&P);
}
END_TEST

/* Running sums of G and G^2 per entry over steps. */
typedef struct {
    mpmat_t sum, sumsq;
    unsigned long n;
} moments;

static void moments_init(moments *m, size_t d, size_t p)
{
    TEST_OK(mpmat_init(m->sum, d, p, 256));
    TEST_OK(mpmat_init(m->sumsq, d, p, 256));
    m->n = 0;
}

static void moments_add(moments *m, mpmat_srcptr G)
{
    mpfr_t sq;
    mpfr_init2(sq, 256);
    for (size_t k = 0; k < G->rows * G->cols; k++) {
        mpfr_add(m->sum->e + k, m->sum->e + k, G->e + k, MPFR_RNDN);
        mpfr_sqr(sq, G->e + k, MPFR_RNDN);
        mpfr_add(m->sumsq->e + k, m->sumsq->e + k, sq, MPFR_RNDN);
    }
    mpfr_clear(sq);
    m->n++;
}

/* max_e |z_e|, z_e = (mean_e - f mu_e) / (s_e / sqrt(n)), s_e the sample
 * standard deviation (or sqrt(var_e) when var != NULL: var_e known); f
 * scales the hypothesised mean (1: the claim; != 1: a power check). Also
 * returns the median over entries of Z_MAX s_e / sqrt(n) / |mu_e| (the
 * relative bias the test resolves) in *resolve when non-NULL. */
static long double max_z(const moments *m, mpmat_srcptr mu, mpmat_srcptr var, long double f,
                         long double *resolve)
{
    mpfr_t mean, v, z, worst, fm;
    mpfr_inits2(256, mean, v, z, worst, fm, (mpfr_ptr)0);
    mpfr_set_zero(worst, 1);
    size_t K = mu->rows * mu->cols, below = 0;
    long double *res = malloc(K * sizeof *res);
    for (size_t k = 0; k < K; k++) {
        mpfr_div_ui(mean, m->sum->e + k, m->n, MPFR_RNDN);
        if (var != NULL)
            mpfr_set(v, var->e + k, MPFR_RNDN);
        else {
            mpfr_mul(v, mean, m->sum->e + k, MPFR_RNDN);
            mpfr_sub(v, m->sumsq->e + k, v, MPFR_RNDN);
            mpfr_div_ui(v, v, m->n - 1, MPFR_RNDN);
        }
        mpfr_div_ui(v, v, m->n, MPFR_RNDN);
        mpfr_sqrt(v, v, MPFR_RNDN); /* standard error */
        mpfr_set_ld(fm, f, MPFR_RNDN);
        mpfr_mul(fm, fm, mu->e + k, MPFR_RNDN);
        mpfr_sub(z, mean, fm, MPFR_RNDN);
        mpfr_abs(z, z, MPFR_RNDN);
        ck_assert_msg(!mpfr_zero_p(v), "entry %zu has zero variance", k);
        mpfr_div(z, z, v, MPFR_RNDN);
        if (mpfr_greater_p(z, worst))
            mpfr_set(worst, z, MPFR_RNDN);
        mpfr_mul_ui(v, v, Z_MAX, MPFR_RNDN);
        mpfr_div(v, v, mu->e + k, MPFR_RNDN);
        res[k] = abs_ld(mpfr_get_ld(v, MPFR_RNDN));
    }
    if (resolve != NULL) { /* median by selection */
        for (size_t i = 0; i < K; i++) {
            below = 0;
            for (size_t j = 0; j < K; j++)
                below += res[j] < res[i];
            if (below == K / 2)
                *resolve = res[i];
        }
    }
    long double r = mpfr_get_ld(worst, MPFR_RNDN);
    free(res);
    mpfr_clears(mean, v, z, worst, fm, (mpfr_ptr)0);
    return r;
}

START_TEST(test_rows_sq_mean)
{
    const int N = 4000;
    for (int c = 0; c < 2; c++) {
        problem P;
        if (c == 0)
            create_dense(&P, 31, 53, 6, 3, NULL, "1", "4");
        else
            TEST_OK(problem_create(&P, "trace-het", 1234, 53, NULL));
        mpmat_t G, mu;
        TEST_OK(mpmat_init(G, P.d, P.p, 53));
        TEST_OK(mpmat_init(mu, P.d, P.p, 256));
        exact_gradient(mu, &P, P.X0);
        moments m;
        moments_init(&m, P.d, P.p);
        for (int t = 1; t <= N; t++) {
            TEST_OK(oracle_gradient(G, &P, ORACLE_ROWS_SQ, 3, (uint64_t)t, P.X0));
            moments_add(&m, G);
        }
        long double resolve = 0;
        long double z = max_z(&m, mu, NULL, 1.0L, &resolve);
        long double zwrong = max_z(&m, mu, NULL, 0.75L, NULL);
        printf("  rows-sq mean, %s, N=%d, batch 3: max |z| = %.3Lf (< %d over %zu entries); "
               "median resolvable relative bias %.3Lf; max |z| against 3/4 of the mean "
               "%.1Lf\n", c == 0 ? "trace-dense d=6 p=3" : "trace-het", N, z, Z_MAX,
               P.d * P.p, resolve, zwrong);
        ck_assert_msg(z < Z_MAX, "rows-sq mean: max |z| = %Lg", z);
        if (c == 0)
            ck_assert_msg(zwrong > Z_MAX, "the mean test cannot see a 25%% scale error");
        mpmat_clear(m.sum), mpmat_clear(m.sumsq);
        mpmat_clear(G), mpmat_clear(mu);
        problem_clear(&P);
    }
}
END_TEST

START_TEST(test_gauss_mean_covariance)
{
    const int N = 4000;
    problem P;
    create_dense(&P, 41, 53, 4, 2, NULL, "1", "4");
    size_t d = P.d, p = P.p;
    mpmat_t G, mu, var, C1, C4, H;
    TEST_OK(mpmat_init(G, d, p, 53));
    TEST_OK(mpmat_init(mu, d, p, 256));
    TEST_OK(mpmat_init(var, d, p, 256));
    TEST_OK(mpmat_init(C1, d * d, p, 256)); /* (i, k) x column: sum of products */
    TEST_OK(mpmat_init(C4, d * d, p, 256));
    exact_gradient(mu, &P, P.X0);
    dense_H(H, &P, P.H);
    mpfr_t a, b, z, worst, sc;
    mpfr_inits2(256, a, b, z, worst, sc, (mpfr_ptr)0);
    const unsigned long batches[2] = {1, 4};
    for (int bi = 0; bi < 2; bi++) {
        moments m;
        moments_init(&m, d, p);
        mpmat_ptr C = bi == 0 ? C1 : C4;
        for (int t = 1; t <= N; t++) {
            TEST_OK(oracle_gradient(G, &P, ORACLE_GAUSS, batches[bi], (uint64_t)t, P.X0));
            moments_add(&m, G);
            for (size_t i = 0; i < d; i++)
                for (size_t k = 0; k < d; k++)
                    for (size_t j = 0; j < p; j++) {
                        mpfr_sub(a, mpmat_entry(G, i, j), mpmat_entry(mu, i, j), MPFR_RNDN);
                        mpfr_sub(b, mpmat_entry(G, k, j), mpmat_entry(mu, k, j), MPFR_RNDN);
                        mpfr_mul(a, a, b, MPFR_RNDN);
                        mpfr_add(mpmat_entry(C, i * d + k, j), mpmat_entry(C, i * d + k, j), a,
                                 MPFR_RNDN);
                    }
        }
        /* mean, with the known variance H_ii / batch */
        for (size_t i = 0; i < d; i++)
            for (size_t j = 0; j < p; j++)
                mpfr_div_ui(mpmat_entry(var, i, j), mpmat_entry(H, i, i), batches[bi], MPFR_RNDN);
        long double zm = max_z(&m, mu, var, 1.0L, NULL);
        /* covariance: z = (c_ik - H_ik / b) / sqrt((H_ii H_kk + H_ik^2) / (b^2 N)) */
        mpfr_set_zero(worst, 1);
        for (size_t i = 0; i < d; i++)
            for (size_t k = i; k < d; k++)
                for (size_t j = 0; j < p; j++) {
                    mpfr_div_ui(a, mpmat_entry(C, i * d + k, j), (unsigned long)N, MPFR_RNDN);
                    mpfr_div_ui(b, mpmat_entry(H, i, k), batches[bi], MPFR_RNDN);
                    mpfr_sub(z, a, b, MPFR_RNDN);
                    mpfr_mul(sc, mpmat_entry(H, i, i), mpmat_entry(H, k, k), MPFR_RNDN);
                    mpfr_fma(sc, mpmat_entry(H, i, k), mpmat_entry(H, i, k), sc, MPFR_RNDN);
                    mpfr_div_ui(sc, sc, batches[bi] * batches[bi] * (unsigned long)N, MPFR_RNDN);
                    mpfr_sqrt(sc, sc, MPFR_RNDN);
                    mpfr_div(z, z, sc, MPFR_RNDN);
                    mpfr_abs(z, z, MPFR_RNDN);
                    if (mpfr_greater_p(z, worst))
                        mpfr_set(worst, z, MPFR_RNDN);
                }
        long double zc = mpfr_get_ld(worst, MPFR_RNDN);
        printf("  gauss batch %lu, N=%d: mean max |z| = %.3Lf (%zu entries), covariance max "
               "|z| = %.3Lf (%zu entries), limit %d\n", batches[bi], N, zm, d * p, zc,
               p * d * (d + 1) / 2, Z_MAX);
        ck_assert(zm < Z_MAX && zc < Z_MAX);
        mpmat_clear(m.sum), mpmat_clear(m.sumsq);
    }
    /* same Z at every batch: 4 C4 = C1 up to the roundings of G (53 bits) */
    long double worst_rel = 0;
    for (size_t i = 0; i < d; i++)
        for (size_t k = 0; k < d; k++)
            for (size_t j = 0; j < p; j++) {
                mpfr_mul_ui(a, mpmat_entry(C4, i * d + k, j), 4, MPFR_RNDN);
                mpfr_sub(a, a, mpmat_entry(C1, i * d + k, j), MPFR_RNDN);
                mpfr_mul(sc, mpmat_entry(C1, i * d + i, j), mpmat_entry(C1, k * d + k, j),
                         MPFR_RNDN);
                mpfr_sqrt(sc, sc, MPFR_RNDN);
                mpfr_div(a, a, sc, MPFR_RNDN);
                long double r = abs_ld(mpfr_get_ld(a, MPFR_RNDN));
                if (r > worst_rel)
                    worst_rel = r;
            }
    printf("  gauss: |4 C(batch 4) - C(batch 1)| / sqrt(C_ii C_kk) <= %.3Lg\n", worst_rel);
    ck_assert(worst_rel < 1e-9L);
    mpfr_clears(a, b, z, worst, sc, (mpfr_ptr)0);
    mpmat_clear(G), mpmat_clear(mu), mpmat_clear(var), mpmat_clear(C1), mpmat_clear(C4);
    mpmat_clear(H);
    problem_clear(&P);
}
END_TEST

START_TEST(test_rows_norm)
{
    for (int pi = 0; pi < 3; pi++) {
        problem P;
        TEST_OK(problem_create(&P, "trace-het", 77, test_precisions[pi], NULL));
        mpmat_t X, G, G2;
        TEST_OK(mpmat_init(X, 9, 9, P.prec));
        TEST_OK(mpmat_init(G, 9, 9, P.prec));
        TEST_OK(mpmat_init(G2, 9, 9, P.prec));
        /* X = Xstar = 0: R = A_S 0 - 0 = 0 exactly, G = +0 */
        for (uint64_t t = 1; t <= 5; t++) {
            mpmat_one(G);
            TEST_OK(oracle_gradient(G, &P, ORACLE_ROWS_NORM, 3, t, P.Xstar));
            for (size_t k = 0; k < 81; k++)
                ck_assert(mpfr_zero_p(G->e + k) && !mpfr_signbit(G->e + k));
        }
        /* Y = 0: G(2 X0) = G(X0) bit for bit (scale invariance) */
        mpfr_t two;
        mpfr_init2(two, 2);
        mpfr_set_ui(two, 2, MPFR_RNDN);
        TEST_OK(mpmat_scale(X, P.X0, two));
        for (uint64_t t = 1; t <= 5; t++) {
            TEST_OK(oracle_gradient(G, &P, ORACLE_ROWS_NORM, 3, t, P.X0));
            TEST_OK(oracle_gradient(G2, &P, ORACLE_ROWS_NORM, 3, t, X));
            ck_assert(mpmat_equal(G, G2));
        }
        mpfr_clear(two);
        mpmat_clear(X), mpmat_clear(G), mpmat_clear(G2);
        problem_clear(&P);
    }
}
END_TEST

START_TEST(test_nqm_large)
{
    problem P;
    create_nqm(&P, "10000", 53);
    mpmat_t G, E;
    TEST_OK(mpmat_init(G, 10000, 1, 53));
    TEST_OK(mpmat_init(E, 10000, 1, 53));
    TEST_OK(oracle_gradient(G, &P, ORACLE_EXACT, 1, 1, P.X0));
    exact_gradient(E, &P, P.X0);
    ck_assert(mpmat_equal(G, E)); /* = H 1 = diag(H) */
    for (uint64_t t = 1; t <= 3; t++)
        TEST_OK(oracle_gradient(G, &P, ORACLE_GAUSS, 8, t, P.X0));
    TEST_OK(oracle_gradient(G, &P, ORACLE_ROWS_SQ, 5, 1, P.X0));
    size_t nonzero = 0;
    for (size_t i = 0; i < 10000; i++)
        nonzero += !mpfr_zero_p(mpmat_entry(G, i, 0));
    ck_assert(nonzero >= 1 && nonzero <= 5); /* only the drawn rows */
    mpmat_clear(G), mpmat_clear(E);
    problem_clear(&P);
}
END_TEST

START_TEST(test_errors_and_table)
{
    static const char *names[5] = {"exact", "rows-sq", "rows-norm", "gauss", "hvp"};
    ck_assert_uint_eq(oracle_count(), 5);
    for (size_t i = 0; i < 5; i++) {
        ck_assert_str_eq(oracle_info_at(i)->name, names[i]);
        ck_assert_int_eq(oracle_info_at(i)->kind, (int)i);
        ck_assert_ptr_eq(oracle_info_find(names[i]), oracle_info_at(i));
    }
    ck_assert_ptr_null(oracle_info_at(5));
    ck_assert_ptr_null(oracle_info_find("rows"));
    problem P;
    TEST_OK(problem_create(&P, "trace-het", 1, 53, NULL));
    mpmat_t G, Bad;
    TEST_OK(mpmat_init(G, 9, 9, 53));
    TEST_OK(mpmat_init(Bad, 9, 8, 53));
    for (int k = ORACLE_ROWS_SQ; k <= ORACLE_GAUSS; k++) {
        ck_assert_int_eq(oracle_gradient(G, &P, (oracle_kind)k, 0, 1, P.X0), OPTREF_EINVAL);
        ck_assert_ptr_nonnull(strstr(optref_last_error(), "batch"));
        ck_assert_int_eq(oracle_gradient(G, &P, (oracle_kind)k, ((size_t)1 << 31) + 1, 1, P.X0),
                         OPTREF_EINVAL);
    }
    TEST_OK(oracle_gradient(G, &P, ORACLE_EXACT, 0, 1, P.X0)); /* batch ignored */
    ck_assert_int_eq(oracle_gradient(G, &P, ORACLE_HVP, 1, 1, P.X0), OPTREF_EINVAL);
    ck_assert_ptr_nonnull(strstr(optref_last_error(), "problem_apply_H"));
    ck_assert_int_eq(oracle_gradient(G, &P, ORACLE_ROWS_SQ, 1, 0, P.X0), OPTREF_EINVAL);
    ck_assert_int_eq(oracle_gradient(G, &P, ORACLE_GAUSS, 1, (uint64_t)1 << 32, P.X0),
                     OPTREF_EINVAL);
    ck_assert_int_eq(oracle_gradient(G, &P, ORACLE_EXACT, 1, 1, Bad), OPTREF_ESHAPE);
    ck_assert_int_eq(oracle_gradient(Bad, &P, ORACLE_EXACT, 1, 1, P.X0), OPTREF_ESHAPE);
    mpmat_clear(G), mpmat_clear(Bad);
    problem_clear(&P);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("oracle");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_errors_and_table);
    tcase_add_test(tc, test_exact);
    tcase_add_test(tc, test_formulas);
    tcase_add_test(tc, test_draws_differ_across_t);
    tcase_add_test(tc, test_rows_norm);
    tcase_add_test(tc, test_nqm_large);
    tcase_add_test(tc, test_rows_sq_mean);
    tcase_add_test(tc, test_gauss_mean_covariance);
    suite_add_tcase(s, tc);
    return s;
}
