/* The tests' own model of msign (spec/optimizers.md 1.1), written apart from
 * ref/optim/msign.c and shared by t-msign.c, t-opt_muon.c and
 * t-opt_adamuon.c:
 *  - model_msign: the Newton-Schulz variants in plain MPFR at the output's
 *    (high) precision: triple-loop products with mpfr_mul / mpfr_add, no
 *    fma, the quintic as a Y + b (A Y) + c (B Y), ns-deva's s by three square
 *    roots (the library uses mpfr_rootn_ui);
 *  - model_msign_bf16: spec 1.1's bf16 model with every operation rounded
 *    directly to an 8-bit MPFR number (mpfr_div, mpfr_sqrt, mpfr_rootn_ui
 *    into 8 bits; sums and products accumulated exactly at MODEL_EXACT
 *    bits first), valid while every value stays a normal bfloat16 number,
 *    which model_bf16_check asserts (the library instead rounds a wide
 *    result with optref_round_format).
 * Static inline so that a test that uses part of it does not warn. */
#ifndef OPTREF_TEST_MSIGN_MODEL_H
#define OPTREF_TEST_MSIGN_MODEL_H

#include <string.h>

#include "testlib.h"

#include "optref/params.h"

#define MODEL_EXACT 2048 /* exact for sums of products of bf16 numbers here */

typedef enum { MODEL_KELLER, MODEL_TORCH, MODEL_DEVA } model_method;

static inline model_method model_method_of(const char *ns)
{
    if (strcmp(ns, "ns-torch") == 0)
        return MODEL_TORCH;
    if (strcmp(ns, "ns-deva") == 0)
        return MODEL_DEVA;
    ck_assert_str_eq(ns, "ns-keller");
    return MODEL_KELLER;
}

/* x = the binary64 number nearest text. */
static inline void model_b64(mpfr_ptr x, const char *text)
{
    mpfr_t v;
    mpfr_init2(v, 53);
    ck_assert(param_parse_real(v, text) == OPTREF_OK);
    mpfr_set(x, v, MPFR_RNDN);
    mpfr_clear(v);
}

/* Y (r x c) = X or X^T, whichever is wide. */
static inline void model_orient(mpmat_ptr Y, mpmat_srcptr X)
{
    for (size_t i = 0; i < Y->rows; i++)
        for (size_t j = 0; j < Y->cols; j++)
            mpfr_set(mpmat_entry(Y, i, j),
                     X->rows > X->cols ? mpmat_entry(X, j, i) : mpmat_entry(X, i, j), MPFR_RNDN);
}

static inline void model_unorient(mpmat_ptr O, mpmat_srcptr Y)
{
    for (size_t i = 0; i < Y->rows; i++)
        for (size_t j = 0; j < Y->cols; j++)
            mpfr_set(O->rows > O->cols ? mpmat_entry(O, j, i) : mpmat_entry(O, i, j),
                     mpmat_entry(Y, i, j), MPFR_RNDN);
}

/* C = op(A) op(B) by plain loops at C's precision (ta, tb: transpose). C
 * must not alias A or B. */
static inline void model_mul_op(mpmat_ptr C, mpmat_srcptr A, int ta, mpmat_srcptr B, int tb)
{
    size_t k = ta ? A->rows : A->cols;
    mpfr_t acc, t;
    mpfr_inits2(C->prec, acc, t, (mpfr_ptr)0);
    for (size_t i = 0; i < C->rows; i++)
        for (size_t j = 0; j < C->cols; j++) {
            mpfr_set_zero(acc, 1);
            for (size_t l = 0; l < k; l++) {
                mpfr_mul(t, ta ? mpmat_entry(A, l, i) : mpmat_entry(A, i, l),
                         tb ? mpmat_entry(B, j, l) : mpmat_entry(B, l, j), MPFR_RNDN);
                mpfr_add(acc, acc, t, MPFR_RNDN);
            }
            mpfr_set(mpmat_entry(C, i, j), acc, MPFR_RNDN);
        }
    mpfr_clears(acc, t, (mpfr_ptr)0);
}

/* C = A B (nt: A B^T), plain loops at C's precision. */
static inline void model_mul(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B, int nt)
{
    model_mul_op(C, A, 0, B, nt);
}

static inline void model_sumsq(mpfr_ptr r, mpmat_srcptr A)
{
    mpfr_t t;
    mpfr_init2(t, mpfr_get_prec(r));
    mpfr_set_zero(r, 1);
    for (size_t k = 0; k < A->rows * A->cols; k++)
        mpfr_mul(t, A->e + k, A->e + k, MPFR_RNDN), mpfr_add(r, r, t, MPFR_RNDN);
    mpfr_clear(t);
}

/* One quintic step Y <- a Y + b A Y + c B Y with A = Y Y^T, B = A A, and
 * ns-deva's rescale when first is set (A, B recomputed from the rescaled Y:
 * the same numbers in exact arithmetic). eps: the normalisation eps. */
static inline void model_quintic(mpmat_ptr Y, int deva_first, mpfr_srcptr eps)
{
    size_t r = Y->rows, c = Y->cols;
    mpfr_prec_t p = Y->prec;
    mpmat_t A, B, AY, BY;
    ck_assert(mpmat_init(A, r, r, p) == OPTREF_OK && mpmat_init(B, r, r, p) == OPTREF_OK);
    ck_assert(mpmat_init(AY, r, c, p) == OPTREF_OK && mpmat_init(BY, r, c, p) == OPTREF_OK);
    mpfr_t a, b, cc, t;
    mpfr_inits2(p, a, b, cc, t, (mpfr_ptr)0);
    model_b64(a, "3.4445"), model_b64(b, "-4.7750"), model_b64(cc, "2.0315");
    model_mul(A, Y, Y, 1);
    model_mul(B, A, A, 0);
    if (deva_first) {
        model_sumsq(t, B);
        mpfr_add(t, t, eps, MPFR_RNDN);
        for (int k = 0; k < 3; k++)
            mpfr_sqrt(t, t, MPFR_RNDN); /* (.)^(1/8) */
        for (size_t k = 0; k < r * c; k++)
            mpfr_div(Y->e + k, Y->e + k, t, MPFR_RNDN);
        model_mul(A, Y, Y, 1);
        model_mul(B, A, A, 0);
    }
    model_mul(AY, A, Y, 0);
    model_mul(BY, B, Y, 0);
    for (size_t k = 0; k < r * c; k++) {
        mpfr_mul(Y->e + k, a, Y->e + k, MPFR_RNDN);
        mpfr_mul(t, b, AY->e + k, MPFR_RNDN);
        mpfr_add(Y->e + k, Y->e + k, t, MPFR_RNDN);
        mpfr_mul(t, cc, BY->e + k, MPFR_RNDN);
        mpfr_add(Y->e + k, Y->e + k, t, MPFR_RNDN);
    }
    mpfr_clears(a, b, cc, t, (mpfr_ptr)0);
    mpmat_clear(A), mpmat_clear(B), mpmat_clear(AY), mpmat_clear(BY);
}

/* The normalisation of spec 1.1 (Y in place). eps NULL: the method's own. */
static inline void model_normalise(mpmat_ptr Y, model_method m, mpfr_srcptr eps_in)
{
    mpfr_t n, eps;
    mpfr_inits2(Y->prec, n, eps, (mpfr_ptr)0);
    if (eps_in != NULL)
        mpfr_set(eps, eps_in, MPFR_RNDN);
    else
        model_b64(eps, m == MODEL_DEVA ? "1e-20" : "1e-7");
    model_sumsq(n, Y);
    if (m == MODEL_DEVA) {
        mpfr_add(n, n, eps, MPFR_RNDN);
        mpfr_sqrt(n, n, MPFR_RNDN);
    } else {
        mpfr_sqrt(n, n, MPFR_RNDN);
        if (m == MODEL_KELLER)
            mpfr_add(n, n, eps, MPFR_RNDN);
        else if (mpfr_cmp(n, eps) < 0)
            mpfr_set(n, eps, MPFR_RNDN);
    }
    for (size_t k = 0; k < Y->rows * Y->cols; k++)
        mpfr_div(Y->e + k, Y->e + k, n, MPFR_RNDN);
    mpfr_clears(n, eps, (mpfr_ptr)0);
}

/* O = msign(X) by ns-keller / ns-torch / ns-deva, at O's precision. */
static inline void model_msign(mpmat_ptr O, mpmat_srcptr X, const char *ns, long steps,
                               mpfr_srcptr eps)
{
    model_method m = model_method_of(ns);
    size_t r = X->rows < X->cols ? X->rows : X->cols, c = X->rows + X->cols - r;
    mpmat_t Y;
    ck_assert(mpmat_init(Y, r, c, O->prec) == OPTREF_OK);
    model_orient(Y, X);
    mpfr_t e;
    mpfr_init2(e, O->prec);
    if (eps != NULL)
        mpfr_set(e, eps, MPFR_RNDN);
    else
        model_b64(e, m == MODEL_DEVA ? "1e-20" : "1e-7");
    model_normalise(Y, m, e);
    for (long i = 0; i < steps; i++)
        model_quintic(Y, m == MODEL_DEVA && i == 0, e);
    model_unorient(O, Y);
    mpfr_clear(e);
    mpmat_clear(Y);
}

/* ---- the bf16 model ---- */

/* Asserts that x is a normal bfloat16 number or zero (so that rounding an
 * 8-bit MPFR result is IEEE bfloat16 rounding). */
static inline void model_bf16_check(mpfr_srcptr x)
{
    if (mpfr_zero_p(x))
        return;
    ck_assert(mpfr_number_p(x));
    ck_assert_msg(mpfr_get_exp(x) >= -125 && mpfr_get_exp(x) <= 128,
                  "test data left the normal bfloat16 range");
    ck_assert(mpfr_min_prec(x) <= 8);
}

/* Sets a (8 bits) from a value and checks it. */
static inline void model_bf(mpfr_ptr r8, mpfr_srcptr x)
{
    mpfr_set(r8, x, MPFR_RNDN);
    model_bf16_check(r8);
}

static inline void model_bf_mul(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B, int nt)
{
    mpmat_t W;
    ck_assert(mpmat_init(W, C->rows, C->cols, MODEL_EXACT) == OPTREF_OK);
    model_mul(W, A, B, nt); /* exact at MODEL_EXACT bits */
    for (size_t k = 0; k < C->rows * C->cols; k++)
        model_bf(C->e + k, W->e + k);
    mpmat_clear(W);
}

/* C = s A, C = A + B, C = A / s elementwise, each rounded directly to 8 bits. */
static inline void model_bf_scale(mpmat_ptr C, mpfr_srcptr s, mpmat_srcptr A)
{
    for (size_t k = 0; k < C->rows * C->cols; k++)
        mpfr_mul(C->e + k, s, A->e + k, MPFR_RNDN), model_bf16_check(C->e + k);
}

static inline void model_bf_add(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B)
{
    for (size_t k = 0; k < C->rows * C->cols; k++)
        mpfr_add(C->e + k, A->e + k, B->e + k, MPFR_RNDN), model_bf16_check(C->e + k);
}

static inline void model_bf_div(mpmat_ptr C, mpmat_srcptr A, mpfr_srcptr s)
{
    for (size_t k = 0; k < C->rows * C->cols; k++)
        mpfr_div(C->e + k, A->e + k, s, MPFR_RNDN), model_bf16_check(C->e + k);
}

/* r8 = bf(bf(sum of bf(x^2)) + eps8), the source's (x**2).sum() + eps. */
static inline void model_bf_sumsq_eps(mpfr_ptr r8, mpmat_srcptr A, mpfr_srcptr eps8)
{
    mpfr_t acc, sq;
    mpfr_init2(acc, MODEL_EXACT);
    mpfr_init2(sq, 8);
    mpfr_set_zero(acc, 1);
    for (size_t k = 0; k < A->rows * A->cols; k++) {
        mpfr_sqr(sq, A->e + k, MPFR_RNDN);
        model_bf16_check(sq);
        mpfr_add(acc, acc, sq, MPFR_RNDN); /* exact */
    }
    model_bf(r8, acc);
    mpfr_add(r8, r8, eps8, MPFR_RNDN);
    model_bf16_check(r8);
    mpfr_clears(acc, sq, (mpfr_ptr)0);
}

/* O = the bf16 model of msign(X) (values exact in O). iter, when not NULL,
 * receives the normalised Y0 and the iterate after each step (steps + 1
 * matrices, r x c with r <= c, initialised here at 8 bits). */
static inline void model_msign_bf16_iterates(mpmat_ptr O, mpmat_srcptr X, const char *ns,
                                             long steps, mpfr_srcptr eps, mpmat_t *iter)
{
    model_method m = model_method_of(ns);
    size_t r = X->rows < X->cols ? X->rows : X->cols, c = X->rows + X->cols - r;
    mpmat_t Y, A, B, C, P, Q;
    ck_assert(mpmat_init(Y, r, c, 8) == OPTREF_OK && mpmat_init(P, r, c, 8) == OPTREF_OK);
    ck_assert(mpmat_init(Q, r, c, 8) == OPTREF_OK && mpmat_init(A, r, r, 8) == OPTREF_OK);
    ck_assert(mpmat_init(B, r, r, 8) == OPTREF_OK && mpmat_init(C, r, r, 8) == OPTREF_OK);
    for (size_t i = 0; i < r; i++) /* X.bfloat16(), transposed when tall */
        for (size_t j = 0; j < c; j++)
            model_bf(mpmat_entry(Y, i, j),
                     X->rows > X->cols ? mpmat_entry(X, j, i) : mpmat_entry(X, i, j));
    mpfr_t a, b, cc, e, d, s, s2, s4, acc;
    mpfr_inits2(8, a, b, cc, e, d, s, s2, s4, (mpfr_ptr)0);
    mpfr_init2(acc, MODEL_EXACT);
    model_b64(acc, "3.4445"), mpfr_set(a, acc, MPFR_RNDN);
    model_b64(acc, "-4.7750"), mpfr_set(b, acc, MPFR_RNDN);
    model_b64(acc, "2.0315"), mpfr_set(cc, acc, MPFR_RNDN);
    if (eps != NULL)
        mpfr_set(acc, eps, MPFR_RNDN);
    else
        model_b64(acc, m == MODEL_DEVA ? "1e-20" : "1e-7");
    mpfr_set(e, acc, MPFR_RNDN);
    if (m == MODEL_DEVA) {
        model_bf_sumsq_eps(d, Y, e);
        mpfr_sqrt(d, d, MPFR_RNDN);
    } else {
        model_sumsq(acc, Y); /* exact at MODEL_EXACT bits */
        mpfr_sqrt(d, acc, MPFR_RNDN);
        if (m == MODEL_KELLER)
            mpfr_add(d, d, e, MPFR_RNDN);
        else if (mpfr_cmp(d, e) < 0)
            mpfr_set(d, e, MPFR_RNDN);
    }
    model_bf16_check(d);
    model_bf_div(Y, Y, d);
    if (iter != NULL)
        ck_assert(mpmat_init(iter[0], r, c, 8) == OPTREF_OK), mpmat_set(iter[0], Y);
    for (long i = 0; i < steps; i++) {
        model_bf_mul(A, Y, Y, 1);
        if (m == MODEL_DEVA) {
            model_bf_mul(B, A, A, 0);
            if (i == 0) {
                model_bf_sumsq_eps(s, B, e);
                mpfr_rootn_ui(s, s, 8, MPFR_RNDN);
                mpfr_sqr(s2, s, MPFR_RNDN);
                mpfr_pow_ui(s4, s, 4, MPFR_RNDN);
                model_bf16_check(s), model_bf16_check(s2), model_bf16_check(s4);
                model_bf_div(Y, Y, s), model_bf_div(A, A, s2), model_bf_div(B, B, s4);
            }
            model_bf_scale(C, b, A);
            model_bf_scale(B, cc, B);
            model_bf_add(C, C, B);
        } else {
            model_bf_scale(C, b, A);
            model_bf_scale(B, cc, A);
            model_bf_mul(B, B, A, 0);
            model_bf_add(C, C, B);
        }
        model_bf_mul(P, C, Y, 0);
        model_bf_scale(Q, a, Y);
        model_bf_add(Y, Q, P);
        if (iter != NULL)
            ck_assert(mpmat_init(iter[i + 1], r, c, 8) == OPTREF_OK), mpmat_set(iter[i + 1], Y);
    }
    model_unorient(O, Y);
    mpfr_clears(a, b, cc, e, d, s, s2, s4, acc, (mpfr_ptr)0);
    mpmat_clear(Y), mpmat_clear(A), mpmat_clear(B), mpmat_clear(C), mpmat_clear(P),
        mpmat_clear(Q);
}

static inline void model_msign_bf16(mpmat_ptr O, mpmat_srcptr X, const char *ns, long steps,
                                    mpfr_srcptr eps)
{
    model_msign_bf16_iterates(O, X, ns, steps, eps, NULL);
}

/* O = the polar factor of a full-rank X by the convergent cubic iteration
 * Y <- 1.5 Y - 0.5 (Y Y^T) Y from Y = X / ||X||_F (singular values in
 * (0, 1], driven to 1), run until a step changes Y by less than
 * 2^(40 - prec) (at most 2000 steps), at O's precision. */
static inline void model_polar(mpmat_ptr O, mpmat_srcptr X)
{
    size_t r = X->rows < X->cols ? X->rows : X->cols, c = X->rows + X->cols - r;
    mpfr_prec_t p = O->prec;
    mpmat_t Y, A, AY;
    ck_assert(mpmat_init(Y, r, c, p) == OPTREF_OK && mpmat_init(A, r, r, p) == OPTREF_OK);
    ck_assert(mpmat_init(AY, r, c, p) == OPTREF_OK);
    model_orient(Y, X);
    mpfr_t n, t, d;
    mpfr_inits2(p, n, t, d, (mpfr_ptr)0);
    model_sumsq(n, Y);
    mpfr_sqrt(n, n, MPFR_RNDN);
    for (size_t k = 0; k < r * c; k++)
        mpfr_div(Y->e + k, Y->e + k, n, MPFR_RNDN);
    int converged = 0;
    for (int it = 0; it < 2000 && !converged; it++) {
        model_mul(A, Y, Y, 1);
        model_mul(AY, A, Y, 0);
        mpfr_set_zero(d, 1);
        for (size_t k = 0; k < r * c; k++) { /* step = 0.5 (Y - A Y) */
            mpfr_sub(t, Y->e + k, AY->e + k, MPFR_RNDN);
            mpfr_div_2ui(t, t, 1, MPFR_RNDN);
            mpfr_add(Y->e + k, Y->e + k, t, MPFR_RNDN);
            mpfr_abs(t, t, MPFR_RNDN);
            mpfr_max(d, d, t, MPFR_RNDN);
        }
        converged = mpfr_zero_p(d) || mpfr_get_exp(d) < 40 - (mpfr_exp_t)p;
    }
    ck_assert_msg(converged, "model_polar: no convergence (rank-deficient test data?)");
    model_unorient(O, Y);
    mpfr_clears(n, t, d, (mpfr_ptr)0);
    mpmat_clear(Y), mpmat_clear(A), mpmat_clear(AY);
}

#endif
