/* msign (spec/optimizers.md 1.1, ref/optim/msign.c).
 *
 * - Exact model: each Newton-Schulz variant at 256 bits against the tests'
 *   own evaluation at 1536 bits (msign_model.h), end to end and step by
 *   step (every traced iterate Y_k -> Y_k+1 against one model step from the
 *   same Y_k: a local error of a few roundings of the terms,
 *   ||dY|| <= c u (|a| ||Y|| + |b| ||Y||^3 + |c| ||Y||^5), c = 16, since
 *   every product entry is a correctly rounded dot).
 * - bf16 model: bit for bit against msign_model.h's directly rounded
 *   evaluation; every traced intermediate and the output are bfloat16 values.
 * - Transposition (m > n): msign(X) = msign(X^T)^T bit for bit.
 * - polar: orthogonal with O^T X symmetric positive definite for a full-rank
 *   square X; u v^T / (|u| |v|) for a rank-1 X; sign(x) for 1 x 1.
 * - Diagonal X: each singular value follows the scalar iteration
 *   p(s) = a s + b s^3 + c s^5 (after the method's normalisation and
 *   ns-deva's rescale), off-diagonal entries stay exactly zero.
 * - Signature matrices: msign(S X T) = S msign(X) T, bit for bit for
 *   Newton-Schulz (every operation is odd in each sign).
 * - Positive scaling with eps = 0 (spec 3): msign(c X) = msign(X), bit for
 *   bit for c = 2^k, within the end-to-end bound for c = 3.
 * - Zero input, bad arguments, bf16 overflow. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../optim/msign.h"
#include "msign_model.h"
#include "optref/problem.h"

#define LO 256
#define HI 1536

static const char *const NS[] = {"ns-keller", "ns-torch", "ns-deva"};

/* End to end: ||O - O_model||_F / (2^-LO ||O_model||_F). Each step adds a
 * local error below 16 u S (checked step by step below) and amplifies the
 * earlier ones by at most the norm of the iteration's derivative, |a| +
 * 3 |b| ||Y||^2 + 5 |c| ||Y||^4 <= 45 for ||Y||_2 <= 1.2: an a priori bound
 * far too loose to test (45^5 16). The observed ratios are below 20 (the
 * iterates contract on the large singular values); the threshold is 2^10,
 * for the end-to-end, diagonal and scaled (c = 3) comparisons alike. */
static test_worst w_end = {"msign exact vs model, end to end", 0, 1024};
static test_worst w_local = {"msign exact, one step vs model step", 0, 16};
static test_worst w_norm = {"msign exact, normalisation", 0, 8};
static test_worst w_polar = {"polar: orthogonality, symmetry, rank 1", 0, 64};
static test_worst w_diag = {"diagonal: scalar iteration", 0, 1024};
static test_worst w_scale3 = {"eps = 0: msign(3X) vs msign(X)", 0, 1024};
static test_worst w_polar_sign = {"polar: p(S X T) vs S p(X) T", 0, 64};

/* ---- data ---- */

/* The 9 x 9 trace-het gradient H X0, rounded to binary64. */
static void trace_het_gradient(mpmat_ptr G)
{
    problem P;
    TEST_OK(problem_create(&P, "trace-het", 7, LO, NULL));
    mpmat_t T;
    TEST_OK(mpmat_init(T, 9, 9, LO));
    TEST_OK(problem_apply_H(T, &P, P.X0));
    mpmat_round_format(T, OPTREF_BINARY64);
    mpmat_set(G, T);
    mpmat_clear(T);
    problem_clear(&P);
}

/* Test matrix number `shape`: 1x1, 2x3, 3x2, 9x9 (trace-het), 1x4, 4x1. */
static const size_t SHAPES[][2] = {{1, 1}, {2, 3}, {3, 2}, {9, 9}, {1, 4}, {4, 1}};
#define NSHAPES (sizeof SHAPES / sizeof SHAPES[0])

static void make_input(mpmat_ptr X, size_t shape, uint64_t seed)
{
    TEST_OK(mpmat_init(X, SHAPES[shape][0], SHAPES[shape][1], 53));
    if (SHAPES[shape][0] == 9) {
        trace_het_gradient(X);
    } else {
        test_rng rng = {seed};
        test_fill_uniform(X, &rng);
    }
}

/* ---- trace log ---- */

typedef struct {
    size_t n;
    char name[256][16];
    mpmat_t M[256];
} trace_log;

static void log_trace(void *ctx, const char *what, mpmat_srcptr M)
{
    trace_log *L = ctx;
    ck_assert(L->n < 256);
    snprintf(L->name[L->n], sizeof L->name[0], "%s", what);
    TEST_OK(mpmat_init(L->M[L->n], M->rows, M->cols, M->prec));
    mpmat_set(L->M[L->n], M);
    L->n++;
}

static void log_clear(trace_log *L)
{
    for (size_t k = 0; k < L->n; k++)
        mpmat_clear(L->M[k]);
    L->n = 0;
}

/* ---- helpers ---- */

static void transpose_new(mpmat_ptr T, mpmat_srcptr A)
{
    TEST_OK(mpmat_init(T, A->cols, A->rows, A->prec));
    TEST_OK(mpmat_transpose(T, A));
}

/* x is a bfloat16 number: at most 8 significant bits, lowest bit at or
 * above 2^-133, below 2^128. */
static int is_bf16(mpfr_srcptr x)
{
    if (mpfr_zero_p(x))
        return 1;
    if (!mpfr_number_p(x))
        return 0;
    mpfr_exp_t e = mpfr_get_exp(x);
    mpfr_prec_t bits = mpfr_min_prec(x);
    return bits <= 8 && e - bits >= -133 && e <= 128;
}

static void frob(mpfr_ptr r, mpmat_srcptr A)
{
    mpmat_norm_fro(r, A);
}

/* ---- exact model ---- */

/* S = |a| n + |b| n^3 + |c| n^5, n = ||Y||_F: the size of the step's terms. */
static void step_size(mpfr_ptr S, mpmat_srcptr Y)
{
    mpfr_t n, t;
    mpfr_inits2(64, n, t, (mpfr_ptr)0);
    frob(n, Y);
    mpfr_mul_d(S, n, 3.4445, MPFR_RNDU);
    mpfr_pow_ui(t, n, 3, MPFR_RNDU), mpfr_mul_d(t, t, 4.775, MPFR_RNDU);
    mpfr_add(S, S, t, MPFR_RNDU);
    mpfr_pow_ui(t, n, 5, MPFR_RNDU), mpfr_mul_d(t, t, 2.0315, MPFR_RNDU);
    mpfr_add(S, S, t, MPFR_RNDU);
    mpfr_clears(n, t, (mpfr_ptr)0);
}

/* Walks the trace of an exact run: Y0 against the model's normalisation of
 * "X", each "Y" against one model step from the previous iterate. */
static void check_local_steps(const trace_log *L, const char *ns)
{
    model_method m = model_method_of(ns);
    mpfr_t S;
    mpfr_init2(S, 64);
    mpmat_srcptr prev = NULL;
    long k = 0;
    for (size_t i = 0; i < L->n; i++) {
        mpmat_srcptr M = L->M[i];
        mpmat_t Y;
        if (strcmp(L->name[i], "Y0") == 0) {
            ck_assert_str_eq(L->name[0], "X");
            TEST_OK(mpmat_init(Y, M->rows, M->cols, HI));
            mpmat_set(Y, L->M[0]);
            model_normalise(Y, m, NULL);
            frob(S, Y);
            test_worst_add(&w_norm, test_diff_ratio(M, Y, S, HI, LO));
            mpmat_clear(Y);
            prev = M;
        } else if (strcmp(L->name[i], "Y") == 0) {
            ck_assert(prev != NULL);
            TEST_OK(mpmat_init(Y, M->rows, M->cols, HI));
            mpmat_set(Y, prev);
            mpfr_t eps;
            mpfr_init2(eps, 64);
            model_b64(eps, m == MODEL_DEVA ? "1e-20" : "1e-7");
            model_quintic(Y, m == MODEL_DEVA && k == 0, eps);
            step_size(S, prev);
            if (m == MODEL_DEVA && k == 0) { /* the rescaled Y enters the step */
                for (size_t j = 0; j < i; j++)
                    if (strcmp(L->name[j], "Y/s") == 0)
                        step_size(S, L->M[j]);
            }
            test_worst_add(&w_local, test_diff_ratio(M, Y, S, HI, LO));
            mpfr_clear(eps);
            mpmat_clear(Y);
            prev = M;
            k++;
        }
    }
    ck_assert_int_eq(k, 5);
    mpfr_clear(S);
}

START_TEST(test_exact_against_model)
{
    for (size_t sh = 0; sh < NSHAPES; sh++) {
        mpmat_t X, O, E;
        make_input(X, sh, 100 + sh);
        TEST_OK(mpmat_init(O, X->rows, X->cols, LO));
        TEST_OK(mpmat_init(E, X->rows, X->cols, HI));
        for (int v = 0; v < 3; v++) {
            trace_log *L = calloc(1, sizeof *L);
            msign_hooks h = {NULL, log_trace, L};
            TEST_OK(ref_msign_hooked(O, X, NS[v], 5, 0, &h));
            model_msign(E, X, NS[v], 5, NULL);
            mpfr_t s;
            mpfr_init2(s, 64);
            frob(s, E);
            test_worst_add(&w_end, test_diff_ratio(O, E, s, HI, LO));
            mpfr_clear(s);
            check_local_steps(L, NS[v]);
            /* the plain entry point gives the same bits */
            mpmat_t O2;
            TEST_OK(mpmat_init(O2, X->rows, X->cols, LO));
            TEST_OK(ref_msign(O2, X, NS[v], 5, 0));
            ck_assert(mpmat_equal(O, O2));
            mpmat_clear(O2);
            log_clear(L);
            free(L);
        }
        mpmat_clear(X), mpmat_clear(O), mpmat_clear(E);
    }
    /* other step counts and the aliased form O = X */
    mpmat_t X, O, E;
    make_input(X, 1, 5);
    TEST_OK(mpmat_init(O, 2, 3, LO));
    TEST_OK(mpmat_init(E, 2, 3, HI));
    for (long steps = 1; steps <= 8; steps += 7)
        for (int v = 0; v < 3; v++) {
            mpmat_set(O, X);
            TEST_OK(ref_msign(O, O, NS[v], steps, 0));
            model_msign(E, X, NS[v], steps, NULL);
            mpfr_t s;
            mpfr_init2(s, 64);
            frob(s, E);
            test_worst_add(&w_end, test_diff_ratio(O, E, s, HI, LO));
            mpfr_clear(s);
        }
    mpmat_clear(X), mpmat_clear(O), mpmat_clear(E);
    test_worst_report(&w_end);
    test_worst_report(&w_local);
    test_worst_report(&w_norm);
}
END_TEST

/* Hand-picked bf16 inputs (found by an exact rational search) on which the
 * normalisation's rounding rules decide the result: with x = (1, 0.83203125),
 * ns-deva's bf(sqrt(bf(bf(sum bf(x_i^2)) + eps))) differs from the same with
 * exact squares, and ns-keller's one-rounding norm bf(sqrt(sum x_i^2))
 * differs from bf(sqrt(sum bf(x_i^2))) and from bf(sqrt(bf(sum bf(x_i^2)))). */
static const double PICKED[2][4] = {{1.0, 0.83203125}, {1.0, 0.83203125, -0.703125, 0.5}};

START_TEST(test_bf16_against_model)
{
    const size_t shapes[][2] = {{1, 1}, {2, 3}, {3, 2}, {2, 2}, {4, 3}, {9, 9}, {1, 2}, {2, 2}};
    for (size_t sh = 0; sh < 8; sh++) {
        size_t m = shapes[sh][0], n = shapes[sh][1];
        mpmat_t X, O, E, Oex;
        TEST_OK(mpmat_init(X, m, n, LO));
        if (sh >= 6) {
            for (size_t k = 0; k < m * n; k++)
                mpfr_set_d(X->e + k, PICKED[sh - 6][k], MPFR_RNDN);
        } else if (m == 9) {
            trace_het_gradient(X);
        } else {
            test_rng rng = {200 + sh};
            test_fill_uniform(X, &rng);
        }
        TEST_OK(mpmat_init(O, m, n, LO));
        TEST_OK(mpmat_init(Oex, m, n, LO));
        TEST_OK(mpmat_init(E, m, n, LO));
        for (int v = 0; v < 3; v++) {
            trace_log *L = calloc(1, sizeof *L);
            msign_hooks h = {NULL, log_trace, L};
            TEST_OK(ref_msign_hooked(O, X, NS[v], 5, 1, &h));
            mpmat_t iter[6];
            model_msign_bf16_iterates(E, X, NS[v], 5, NULL, iter);
            ck_assert_msg(test_same_values(O, E), "%s bf16 %zux%zu differs from the model",
                          NS[v], m, n);
            /* every iterate, Y0 included, bit for bit */
            size_t k_it = 0;
            for (size_t i = 0; i < L->n; i++)
                if (strcmp(L->name[i], "Y0") == 0 || strcmp(L->name[i], "Y") == 0) {
                    ck_assert(k_it < 6);
                    ck_assert_msg(test_same_values(L->M[i], iter[k_it]), "%s bf16 %zux%zu: iterate "
                                  "%zu differs from the model", NS[v], m, n, k_it);
                    k_it++;
                }
            ck_assert_int_eq(k_it, 6);
            for (int i = 0; i < 6; i++)
                mpmat_clear(iter[i]);
            for (size_t k = 0; k < m * n; k++)
                ck_assert(is_bf16(O->e + k));
            ck_assert(L->n > 20);
            for (size_t i = 0; i < L->n; i++)
                for (size_t k = 0; k < L->M[i]->rows * L->M[i]->cols; k++)
                    ck_assert_msg(is_bf16(L->M[i]->e + k), "%s: intermediate %s is not bf16",
                                  NS[v], L->name[i]);
            /* and the model is not the exact one */
            TEST_OK(ref_msign(Oex, X, NS[v], 5, 0));
            ck_assert(!test_same_values(O, Oex));
            log_clear(L);
            free(L);
        }
        mpmat_clear(X), mpmat_clear(O), mpmat_clear(E), mpmat_clear(Oex);
    }
}
END_TEST

START_TEST(test_transpose_rule)
{
    const size_t shapes[][2] = {{3, 2}, {5, 3}, {4, 1}, {9, 4}};
    const char *methods[] = {"ns-keller", "ns-torch", "ns-deva", "polar"};
    for (size_t sh = 0; sh < 4; sh++) {
        size_t m = shapes[sh][0], n = shapes[sh][1];
        mpmat_t X, XT, O, OT, OTT;
        TEST_OK(mpmat_init(X, m, n, 53));
        test_rng rng = {300 + sh};
        test_fill_uniform(X, &rng);
        transpose_new(XT, X);
        TEST_OK(mpmat_init(O, m, n, LO));
        TEST_OK(mpmat_init(OT, n, m, LO));
        TEST_OK(mpmat_init(OTT, m, n, LO));
        for (int v = 0; v < 4; v++)
            for (int bf16 = 0; bf16 <= (v < 3); bf16++) {
                TEST_OK(ref_msign(O, X, methods[v], 5, bf16));
                TEST_OK(ref_msign(OT, XT, methods[v], 5, bf16));
                TEST_OK(mpmat_transpose(OTT, OT));
                ck_assert_msg(mpmat_equal(O, OTT), "%s bf16=%d %zux%zu: msign(X) != "
                              "msign(X^T)^T", methods[v], bf16, m, n);
            }
        mpmat_clear(X), mpmat_clear(XT), mpmat_clear(O), mpmat_clear(OT), mpmat_clear(OTT);
    }
}
END_TEST

START_TEST(test_polar)
{
    size_t n = 5;
    mpmat_t X, O, OtO, I, OtX, XtO, w;
    TEST_OK(mpmat_init(X, n, n, 53));
    test_rng rng = {400};
    test_fill_uniform(X, &rng);
    TEST_OK(mpmat_init(O, n, n, LO));
    TEST_OK(mpmat_init(OtO, n, n, HI));
    TEST_OK(mpmat_init(I, n, n, HI));
    TEST_OK(mpmat_init(OtX, n, n, LO));
    TEST_OK(mpmat_init(XtO, n, n, LO));
    TEST_OK(mpmat_init(w, n, 1, LO));
    TEST_OK(ref_msign(O, X, "polar", 5, 0));
    TEST_OK(mpmat_mul_tn(OtO, O, O));
    mpmat_one(I);
    mpfr_t s;
    mpfr_init2(s, 64);
    mpfr_set_ui(s, (unsigned long)n, MPFR_RNDN);
    test_worst_add(&w_polar, test_diff_ratio(OtO, I, s, HI, LO)); /* O^T O = I */
    TEST_OK(mpmat_mul_tn(OtX, O, X));
    TEST_OK(mpmat_mul_tn(XtO, X, O));
    frob(s, X);
    test_worst_add(&w_polar, test_diff_ratio(OtX, XtO, s, HI, LO)); /* O^T X symmetric */
    /* positive definite: the eigenvalues of its symmetric part are > 0 */
    TEST_OK(mpmat_add(OtX, OtX, XtO));
    TEST_OK(mpmat_eigh(w, NULL, OtX));
    for (size_t i = 0; i < n; i++)
        ck_assert(mpfr_sgn(w->e + i) > 0);
    /* rank 1: u v^T / (|u| |v|) */
    mpmat_t u, v, R, O34, E;
    TEST_OK(mpmat_init(u, 3, 1, 53));
    TEST_OK(mpmat_init(v, 4, 1, 53));
    test_fill_uniform(u, &rng);
    test_fill_uniform(v, &rng);
    TEST_OK(mpmat_init(R, 3, 4, 106));
    TEST_OK(mpmat_mul_nt(R, u, v)); /* exact */
    TEST_OK(mpmat_init(O34, 3, 4, LO));
    TEST_OK(mpmat_init(E, 3, 4, HI));
    TEST_OK(ref_msign(O34, R, "polar", 5, 0));
    mpfr_t nu, nv;
    mpfr_inits2(HI, nu, nv, (mpfr_ptr)0);
    model_sumsq(nu, u), model_sumsq(nv, v);
    mpfr_mul(nu, nu, nv, MPFR_RNDN);
    mpfr_sqrt(nu, nu, MPFR_RNDN);
    for (size_t k = 0; k < 12; k++)
        mpfr_div(E->e + k, R->e + k, nu, MPFR_RNDN);
    mpfr_set_ui(s, 1, MPFR_RNDN);
    test_worst_add(&w_polar, test_diff_ratio(O34, E, s, HI, LO));
    /* 1 x 1: the sign; zero: zero */
    mpmat_t x, o;
    TEST_OK(mpmat_init(x, 1, 1, 53));
    TEST_OK(mpmat_init(o, 1, 1, LO));
    mpfr_set_d(x->e, -0.375, MPFR_RNDN);
    TEST_OK(ref_msign(o, x, "polar", 5, 0));
    ck_assert(mpfr_cmp_si(o->e, -1) == 0);
    mpfr_set_zero(x->e, 1);
    TEST_OK(ref_msign(o, x, "polar", 5, 0));
    ck_assert(mpfr_zero_p(o->e));
    mpfr_clears(nu, nv, s, (mpfr_ptr)0);
    mpmat_clear(X), mpmat_clear(O), mpmat_clear(OtO), mpmat_clear(I), mpmat_clear(OtX);
    mpmat_clear(XtO), mpmat_clear(w), mpmat_clear(u), mpmat_clear(v), mpmat_clear(R);
    mpmat_clear(O34), mpmat_clear(E), mpmat_clear(x), mpmat_clear(o);
    test_worst_report(&w_polar);
}
END_TEST

/* The scalar iteration of a diagonal X: y_i = d_i / den, ns-deva's rescale
 * by (sum y_i^8 + eps)^(1/8), then y <- a y + b y^3 + c y^5. */
static void scalar_model(__mpfr_struct *y, const double *d, size_t k, const char *ns, long steps)
{
    model_method m = model_method_of(ns);
    mpfr_t den, t, eps, a, b, c;
    mpfr_inits2(HI, den, t, eps, a, b, c, (mpfr_ptr)0);
    model_b64(a, "3.4445"), model_b64(b, "-4.7750"), model_b64(c, "2.0315");
    model_b64(eps, m == MODEL_DEVA ? "1e-20" : "1e-7");
    mpfr_set_zero(den, 1);
    for (size_t i = 0; i < k; i++)
        mpfr_set_d(t, d[i], MPFR_RNDN), mpfr_sqr(t, t, MPFR_RNDN), mpfr_add(den, den, t, MPFR_RNDN);
    if (m == MODEL_DEVA)
        mpfr_add(den, den, eps, MPFR_RNDN);
    mpfr_sqrt(den, den, MPFR_RNDN);
    if (m == MODEL_KELLER)
        mpfr_add(den, den, eps, MPFR_RNDN);
    else if (m == MODEL_TORCH && mpfr_cmp(den, eps) < 0)
        mpfr_set(den, eps, MPFR_RNDN);
    for (size_t i = 0; i < k; i++)
        mpfr_set_d(y + i, d[i], MPFR_RNDN), mpfr_div(y + i, y + i, den, MPFR_RNDN);
    for (long s = 0; s < steps; s++) {
        if (m == MODEL_DEVA && s == 0) {
            mpfr_set(den, eps, MPFR_RNDN);
            for (size_t i = 0; i < k; i++)
                mpfr_pow_ui(t, y + i, 8, MPFR_RNDN), mpfr_add(den, den, t, MPFR_RNDN);
            mpfr_rootn_ui(den, den, 8, MPFR_RNDN);
            for (size_t i = 0; i < k; i++)
                mpfr_div(y + i, y + i, den, MPFR_RNDN);
        }
        for (size_t i = 0; i < k; i++) { /* y (a + y^2 (b + c y^2)) */
            mpfr_sqr(t, y + i, MPFR_RNDN);
            mpfr_mul(den, c, t, MPFR_RNDN);
            mpfr_add(den, den, b, MPFR_RNDN);
            mpfr_mul(den, den, t, MPFR_RNDN);
            mpfr_add(den, den, a, MPFR_RNDN);
            mpfr_mul(y + i, y + i, den, MPFR_RNDN);
        }
    }
    mpfr_clears(den, t, eps, a, b, c, (mpfr_ptr)0);
}

START_TEST(test_diagonal_scalar_iteration)
{
    const double d3[] = {0.75, -0.25, 0.0625}, d2[] = {2.0, -0.5}, d1[] = {-0.3};
    const struct { size_t m, n, k; const double *d; } cases[] = {
        {3, 3, 3, d3}, {2, 3, 2, d2}, {3, 2, 2, d2}, {1, 1, 1, d1}};
    __mpfr_struct y[3];
    for (int i = 0; i < 3; i++)
        mpfr_init2(y + i, HI);
    for (size_t cs = 0; cs < 4; cs++) {
        size_t m = cases[cs].m, n = cases[cs].n, k = cases[cs].k;
        mpmat_t X, O, E;
        TEST_OK(mpmat_init(X, m, n, 53));
        TEST_OK(mpmat_init(O, m, n, LO));
        TEST_OK(mpmat_init(E, m, n, HI));
        for (size_t i = 0; i < k; i++)
            mpfr_set_d(mpmat_entry(X, i, i), cases[cs].d[i], MPFR_RNDN);
        for (int v = 0; v < 3; v++) {
            TEST_OK(ref_msign(O, X, NS[v], 5, 0));
            scalar_model(y, cases[cs].d, k, NS[v], 5);
            mpmat_zero(E);
            for (size_t i = 0; i < k; i++) {
                mpfr_set(mpmat_entry(E, i, i), y + i, MPFR_RNDN);
                /* the quintic keeps each value's sign, and five steps
                 * take these values into Keller's band [0.5, 1.5] */
                ck_assert(mpfr_sgn(y + i) * (cases[cs].d[i] > 0 ? 1 : -1) > 0);
                ck_assert(mpfr_cmp_d(y + i, 0.5) * mpfr_cmp_d(y + i, -0.5) > 0);
                ck_assert(mpfr_cmp_d(y + i, 1.5) < 0 && mpfr_cmp_d(y + i, -1.5) > 0);
            }
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < n; j++)
                    if (i != j)
                        ck_assert(mpfr_zero_p(mpmat_entry(O, i, j)));
            mpfr_t s;
            mpfr_init2(s, 64);
            frob(s, E);
            test_worst_add(&w_diag, test_diff_ratio(O, E, s, HI, LO));
            mpfr_clear(s);
        }
        mpmat_clear(X), mpmat_clear(O), mpmat_clear(E);
    }
    for (int i = 0; i < 3; i++)
        mpfr_clear(y + i);
    test_worst_report(&w_diag);
}
END_TEST

/* B = S A T for diagonal signatures given as sign vectors. */
static void signature(mpmat_ptr B, mpmat_srcptr A, const int *sr, const int *sc)
{
    for (size_t i = 0; i < A->rows; i++)
        for (size_t j = 0; j < A->cols; j++) {
            mpfr_set(mpmat_entry(B, i, j), mpmat_entry(A, i, j), MPFR_RNDN);
            if (sr[i] * sc[j] < 0)
                mpfr_neg(mpmat_entry(B, i, j), mpmat_entry(B, i, j), MPFR_RNDN);
        }
}

START_TEST(test_sign_invariance)
{
    const size_t shapes[][2] = {{3, 4}, {4, 3}, {5, 5}};
    const int sr[] = {1, -1, -1, 1, -1}, sc[] = {-1, 1, 1, -1, -1};
    const char *methods[] = {"ns-keller", "ns-torch", "ns-deva", "polar"};
    for (size_t sh = 0; sh < 3; sh++) {
        size_t m = shapes[sh][0], n = shapes[sh][1];
        mpmat_t X, SXT, O1, O2, SOT;
        TEST_OK(mpmat_init(X, m, n, 53));
        TEST_OK(mpmat_init(SXT, m, n, 53));
        TEST_OK(mpmat_init(O1, m, n, LO));
        TEST_OK(mpmat_init(O2, m, n, LO));
        TEST_OK(mpmat_init(SOT, m, n, LO));
        test_rng rng = {500 + sh};
        test_fill_uniform(X, &rng);
        signature(SXT, X, sr, sc);
        for (int v = 0; v < 4; v++)
            for (int bf16 = 0; bf16 <= (v < 3); bf16++) {
                TEST_OK(ref_msign(O1, X, methods[v], 5, bf16));
                TEST_OK(ref_msign(O2, SXT, methods[v], 5, bf16));
                signature(SOT, O1, sr, sc);
                if (v < 3) {
                    ck_assert_msg(test_same_values(O2, SOT), "%s bf16=%d: p(S X T) != S p(X) T",
                                  methods[v], bf16);
                } else {
                    mpfr_t s;
                    mpfr_init2(s, 64);
                    mpfr_set_ui(s, 1, MPFR_RNDN);
                    test_worst_add(&w_polar_sign, test_diff_ratio(O2, SOT, s, HI, LO));
                    mpfr_clear(s);
                }
            }
        mpmat_clear(X), mpmat_clear(SXT), mpmat_clear(O1), mpmat_clear(O2), mpmat_clear(SOT);
    }
    test_worst_report(&w_polar_sign);
}
END_TEST

START_TEST(test_scale_invariance_eps0)
{
    mpfr_t zero;
    mpfr_init2(zero, 53);
    mpfr_set_zero(zero, 1);
    msign_hooks h = {zero, NULL, NULL};
    const char *methods[] = {"ns-keller", "ns-torch", "ns-deva", "polar"};
    for (size_t sh = 1; sh < 4; sh++) { /* 2x3, 3x2, 9x9 */
        mpmat_t X, cX, O1, O2;
        make_input(X, sh, 600 + sh);
        TEST_OK(mpmat_init(cX, X->rows, X->cols, 64)); /* holds 3 X exactly */
        TEST_OK(mpmat_init(O1, X->rows, X->cols, LO));
        TEST_OK(mpmat_init(O2, X->rows, X->cols, LO));
        for (int v = 0; v < 4; v++)
            for (int bf16 = 0; bf16 <= (v < 3); bf16++) {
                TEST_OK(ref_msign_hooked(O1, X, methods[v], 5, bf16, &h));
                const long pow2[] = {7, -11};
                for (int q = 0; q < 2; q++) {
                    for (size_t k = 0; k < X->rows * X->cols; k++)
                        mpfr_mul_2si(cX->e + k, X->e + k, pow2[q], MPFR_RNDN);
                    TEST_OK(ref_msign_hooked(O2, cX, methods[v], 5, bf16, &h));
                    ck_assert_msg(test_same_values(O1, O2),
                                  "%s bf16=%d: msign(2^%ld X) != msign(X)", methods[v], bf16,
                                  pow2[q]);
                }
                if (bf16)
                    continue; /* bf16(3 X) is not 3 bf16(X) */
                for (size_t k = 0; k < X->rows * X->cols; k++)
                    mpfr_mul_ui(cX->e + k, X->e + k, 3, MPFR_RNDN); /* exact */
                TEST_OK(ref_msign_hooked(O2, cX, methods[v], 5, 0, &h));
                mpfr_t s;
                mpfr_init2(s, 64);
                frob(s, O1);
                test_worst_add(&w_scale3, test_diff_ratio(O2, O1, s, HI, LO));
                mpfr_clear(s);
            }
        mpmat_clear(X), mpmat_clear(cX), mpmat_clear(O1), mpmat_clear(O2);
    }
    mpfr_clear(zero);
    test_worst_report(&w_scale3);
}
END_TEST

START_TEST(test_zero_and_errors)
{
    const char *methods[] = {"ns-keller", "ns-torch", "ns-deva", "polar"};
    mpmat_t X, O, O2;
    TEST_OK(mpmat_init(X, 2, 3, 53));
    TEST_OK(mpmat_init(O, 2, 3, LO));
    TEST_OK(mpmat_init(O2, 3, 2, LO));
    for (int v = 0; v < 4; v++)
        for (int bf16 = 0; bf16 <= (v < 3); bf16++) {
            mpfr_set_ui(O->e, 5, MPFR_RNDN);
            TEST_OK(ref_msign(O, X, methods[v], 5, bf16));
            for (size_t k = 0; k < 6; k++)
                ck_assert(mpfr_zero_p(O->e + k) && !mpfr_signbit(O->e + k));
        }
    /* a value that underflows bf16 gives zero in the bf16 model */
    mpfr_set_ui_2exp(X->e, 1, -200, MPFR_RNDN);
    TEST_OK(ref_msign(O, X, "ns-keller", 5, 1));
    ck_assert(mpfr_zero_p(O->e));
    ck_assert_int_eq(ref_msign(O, X, "ns-foo", 5, 0), OPTREF_EINVAL);
    ck_assert_int_eq(ref_msign(O, X, NULL, 5, 0), OPTREF_EINVAL);
    ck_assert_int_eq(ref_msign(O, X, "ns-keller", 0, 0), OPTREF_EINVAL);
    ck_assert_int_eq(ref_msign(O, X, "polar", 0, 0), OPTREF_OK);
    ck_assert_int_eq(ref_msign(O, X, "polar", 5, 1), OPTREF_EINVAL);
    ck_assert_int_eq(ref_msign(O2, X, "ns-keller", 5, 0), OPTREF_ESHAPE);
    mpfr_t neg;
    mpfr_init2(neg, 53);
    mpfr_set_si(neg, -1, MPFR_RNDN);
    msign_hooks h = {neg, NULL, NULL};
    ck_assert_int_eq(ref_msign_hooked(O, X, "ns-deva", 5, 0, &h), OPTREF_EINVAL);
    mpfr_set_nan(X->e + 4);
    ck_assert_int_eq(ref_msign(O, X, "ns-deva", 5, 0), OPTREF_ENONFINITE);
    ck_assert(strstr(optref_last_error(), "X[1][1]") != NULL);
    mpfr_set_d(X->e + 4, 1e39, MPFR_RNDN); /* above bfloat16's largest finite */
    ck_assert_int_eq(ref_msign(O, X, "ns-keller", 5, 1), OPTREF_ENONFINITE);
    TEST_OK(ref_msign(O, X, "ns-keller", 5, 0));
    ck_assert(ref_msign_method_known("ns-torch") && !ref_msign_method_known("keller"));
    mpfr_clear(neg);
    mpmat_clear(X), mpmat_clear(O), mpmat_clear(O2);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("msign");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_exact_against_model);
    tcase_add_test(tc, test_bf16_against_model);
    tcase_add_test(tc, test_transpose_rule);
    tcase_add_test(tc, test_polar);
    tcase_add_test(tc, test_diagonal_scalar_iteration);
    tcase_add_test(tc, test_sign_invariance);
    tcase_add_test(tc, test_scale_invariance_eps0);
    tcase_add_test(tc, test_zero_and_errors);
    suite_add_tcase(s, tc);
    return s;
}
