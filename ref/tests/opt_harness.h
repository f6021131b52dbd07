/* Shared by the t-opt_*.c tests of the elementwise optimizers: gradient
 * streams (random dyadics, or the trace-het problem's exact gradient rounded
 * to binary64) and a driver that runs the implementation at LO_PREC beside
 * the test's own re-evaluation of the spec's formulas (a "model", written
 * independently: exact rationals or plain MPFR operations without fma at
 * HI_PREC) and reports the worst ratio
 *     ||W_impl - W_model||_F / (scale 2^-LO_PREC),
 *     scale = ||W_model,t||_F + sum_{s <= t} ||W_model,s - W_model,s-1||_F
 * (the size of the parameter plus the distance it has moved). Every input
 * (W_0, G_t, eta, options) is a binary64 number, so both sides see identical
 * inputs; the gradient at step t is the problem's H W_t at the
 * implementation's iterate, rounded to binary64. */
#ifndef OPTREF_TEST_OPT_HARNESS_H
#define OPTREF_TEST_OPT_HARNESS_H

#include <string.h>

#include "testlib.h"

#include "optref/problem.h"
#include "optref/ref_optim.h"

#define LO_PREC 256
#define HI_PREC 1536

/* ---- gradient streams ---- */

typedef struct {
    size_t m, n;
    int trace_het; /* 9 x 9: G = fl64(H W) */
    problem P;
    test_rng rng;
} grad_stream;

static inline void gs_init_random(grad_stream *gs, size_t m, size_t n, uint64_t seed)
{
    memset(gs, 0, sizeof *gs);
    gs->m = m, gs->n = n, gs->rng.s = seed;
}

static inline void gs_init_trace_het(grad_stream *gs, uint64_t seed)
{
    memset(gs, 0, sizeof *gs);
    TEST_OK(problem_create(&gs->P, "trace-het", seed, LO_PREC, NULL));
    gs->m = gs->P.d, gs->n = gs->P.p, gs->trace_het = 1;
}

static inline void gs_clear(grad_stream *gs)
{
    if (gs->trace_het)
        problem_clear(&gs->P);
}

/* W_0: uniform dyadics in [-1, 1), or the problem's X0 (binary64 normals). */
static inline void gs_initial(grad_stream *gs, mpmat_ptr W)
{
    if (gs->trace_het)
        mpmat_set(W, gs->P.X0);
    else
        test_fill_uniform(W, &gs->rng);
}

/* G_t at the implementation's iterate W (binary64 values). */
static inline void gs_next(grad_stream *gs, mpmat_ptr G, mpmat_srcptr W)
{
    if (gs->trace_het) {
        TEST_OK(problem_apply_H(G, &gs->P, W));
        mpmat_round_format(G, OPTREF_BINARY64);
    } else {
        test_fill_uniform(G, &gs->rng);
    }
}

/* x = the binary64 number nearest text, at precision prec. */
static inline void set_b64(mpfr_ptr x, const char *text)
{
    mpfr_t v;
    mpfr_init2(v, 53);
    TEST_OK(param_parse_real(v, text));
    mpfr_set(x, v, MPFR_RNDN);
    mpfr_clear(v);
}

/* ---- the independent model ---- */

typedef struct {
    void *model;
    /* One step of the model: W (HI_PREC) <- step(W, G, eta) at call t >= 1. */
    void (*step)(void *model, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta, unsigned long t);
    /* Optional: compare the model's state with the implementation's after
     * step t (adds to w); NULL to compare W only. */
    void (*check)(void *model, const ref_opt *o, unsigned long t, test_worst *w);
} opt_model;

/* Runs `steps` steps of the implementation (LO_PREC) and the model on the
 * same stream and learning rate; adds every step's ratio to w. Returns the
 * optimizer (caller frees) and leaves the implementation's final W in
 * Wout when it is not NULL (initialised by the caller at LO_PREC). */
static inline ref_opt *run_against_model_oracle(const char *name, const char *const *opts,
                                                size_t nopts, grad_stream *gs,
                                                const char *eta_text, int steps,
                                                const opt_model *model, test_worst *w,
                                                mpmat_ptr Wout, const ref_oracle *oracle)
{
    size_t m = gs->m, n = gs->n;
    ref_opt *o;
    TEST_OK(ref_opt_create(&o, name, m, n, LO_PREC, opts, nopts));
    mpmat_t W, G, Wm, Wprev, R;
    TEST_OK(mpmat_init(W, m, n, LO_PREC));
    TEST_OK(mpmat_init(G, m, n, LO_PREC));
    TEST_OK(mpmat_init(Wm, m, n, HI_PREC));
    TEST_OK(mpmat_init(Wprev, m, n, HI_PREC));
    TEST_OK(mpmat_init(R, m, n, HI_PREC));
    mpfr_t eta, moved, scale, d;
    mpfr_inits2(HI_PREC, eta, moved, scale, d, (mpfr_ptr)0);
    set_b64(eta, eta_text);
    mpfr_set_zero(moved, 1);
    gs_initial(gs, W);
    mpmat_set(Wm, W);
    for (int t = 1; t <= steps; t++) {
        gs_next(gs, G, W);
        TEST_OK(ref_opt_step(o, W, G, eta, oracle));
        mpmat_set(Wprev, Wm);
        model->step(model->model, Wm, G, eta, (unsigned long)t);
        TEST_OK(mpmat_sub(R, Wm, Wprev));
        mpmat_norm_fro(d, R);
        mpfr_add(moved, moved, d, MPFR_RNDN);
        mpmat_norm_fro(scale, Wm);
        mpfr_add(scale, scale, moved, MPFR_RNDN);
        TEST_OK(mpmat_sub(R, W, Wm));
        long double r = test_ratio(R, scale, LO_PREC);
        ck_assert_msg(r < w->threshold, "%s %zux%zu step %d: ratio %.3Lg >= %.3Lg", name, m, n, t,
                      r, w->threshold);
        test_worst_add(w, r);
        if (model->check != NULL)
            model->check(model->model, o, (unsigned long)t, w);
    }
    if (Wout != NULL)
        mpmat_set(Wout, W);
    mpfr_clears(eta, moved, scale, d, (mpfr_ptr)0);
    mpmat_clear(W), mpmat_clear(G), mpmat_clear(Wm), mpmat_clear(Wprev), mpmat_clear(R);
    return o;
}

static inline ref_opt *run_against_model(const char *name, const char *const *opts, size_t nopts,
                                         grad_stream *gs, const char *eta_text, int steps,
                                         const opt_model *model, test_worst *w, mpmat_ptr Wout)
{
    return run_against_model_oracle(name, opts, nopts, gs, eta_text, steps, model, w, Wout, NULL);
}

/* ||X - X_model||_F / (scale 2^-LO_PREC), the difference formed at HI_PREC. */
static inline long double model_ratio(mpmat_srcptr X, mpmat_srcptr Xmodel, mpfr_srcptr scale)
{
    return test_diff_ratio(X, Xmodel, scale, HI_PREC, LO_PREC);
}

/* Ratio of a state tensor: ||S_impl - S_model||_F / (scale 2^-LO_PREC) with
 * scale = ||S_model||_F + extra (extra: the size of the terms it sums). */
static inline void check_state(test_worst *w, const ref_opt *o, const char *name,
                               mpmat_srcptr Smodel, mpfr_srcptr extra)
{
    mpmat_srcptr S = ref_opt_state(o, name);
    ck_assert_msg(S != NULL, "no state tensor %s", name);
    mpfr_t scale;
    mpfr_init2(scale, HI_PREC);
    mpmat_norm_fro(scale, Smodel);
    if (extra != NULL)
        mpfr_add(scale, scale, extra, MPFR_RNDN);
    long double r = model_ratio(S, Smodel, scale);
    ck_assert_msg(r < w->threshold, "state %s: ratio %.3Lg >= %.3Lg", name, r, w->threshold);
    test_worst_add(w, r);
    mpfr_clear(scale);
}

/* Positive scaling of the gradient stream: o1 steps on G_t, o2 on c G_t
 * (c G_t is exact at LO_PREC: c is 2^k or a small integer and G_t has 53
 * bits), both from the same W_0; G_t is taken at o1's iterate. After every
 * step `after` compares what the caller wants (W1, W2, the states). */
typedef void (*pair_check_fn)(const ref_opt *o1, const ref_opt *o2, mpmat_srcptr W1,
                              mpmat_srcptr W2, int t, void *ctx);

static inline void run_scaled_pair(const char *name, const char *const *opts, size_t nopts,
                                   grad_stream *gs, const char *eta_text, int steps,
                                   long c, pair_check_fn after, void *ctx)
{
    size_t m = gs->m, n = gs->n;
    ref_opt *o1, *o2;
    TEST_OK(ref_opt_create(&o1, name, m, n, LO_PREC, opts, nopts));
    TEST_OK(ref_opt_create(&o2, name, m, n, LO_PREC, opts, nopts));
    mpmat_t W1, W2, G, cG;
    TEST_OK(mpmat_init(W1, m, n, LO_PREC));
    TEST_OK(mpmat_init(W2, m, n, LO_PREC));
    TEST_OK(mpmat_init(G, m, n, LO_PREC));
    TEST_OK(mpmat_init(cG, m, n, LO_PREC));
    mpfr_t eta;
    mpfr_init2(eta, 53);
    set_b64(eta, eta_text);
    gs_initial(gs, W1);
    mpmat_set(W2, W1);
    for (int t = 1; t <= steps; t++) {
        gs_next(gs, G, W1);
        for (size_t k = 0; k < m * n; k++)
            ck_assert(mpfr_mul_si(cG->e + k, G->e + k, c, MPFR_RNDN) == 0); /* exact */
        TEST_OK(ref_opt_step(o1, W1, G, eta, NULL));
        TEST_OK(ref_opt_step(o2, W2, cG, eta, NULL));
        after(o1, o2, W1, W2, t, ctx);
    }
    mpfr_clear(eta);
    mpmat_clear(W1), mpmat_clear(W2), mpmat_clear(G), mpmat_clear(cG);
    ref_opt_free(o1), ref_opt_free(o2);
}

/* Three steps of `name` from W_0 (uniform dyadics) on the stream num 2^e2 G_t
 * (G_t uniform dyadics; the product is exact in 64 bits), W_0 and G_t drawn
 * from one rng seeded with seed, eta = 0.02; W receives the result. Returns
 * the optimizer, for its state (caller frees). */
static inline ref_opt *run_scaled_stream(mpmat_ptr W, const char *name, const char *const *opts,
                                         size_t nopts, uint64_t seed, unsigned long num, long e2)
{
    ref_opt *o;
    TEST_OK(ref_opt_create(&o, name, W->rows, W->cols, LO_PREC, opts, nopts));
    test_rng rng = {seed};
    test_fill_uniform(W, &rng);
    mpmat_t G;
    TEST_OK(mpmat_init(G, W->rows, W->cols, 64));
    mpfr_t eta;
    mpfr_init2(eta, 64);
    set_b64(eta, "0.02");
    for (int t = 0; t < 3; t++) {
        test_fill_uniform(G, &rng);
        for (size_t k = 0; k < W->rows * W->cols; k++) {
            mpfr_mul_ui(G->e + k, G->e + k, num, MPFR_RNDN);
            mpfr_mul_2si(G->e + k, G->e + k, e2, MPFR_RNDN);
        }
        TEST_OK(ref_opt_step(o, W, G, eta, NULL));
    }
    mpfr_clear(eta);
    mpmat_clear(G);
    return o;
}

/* State `name` of o2 equals c times o1's, bit for bit (c = 2^k: exact). */
static inline void assert_state_scaled(const ref_opt *o1, const ref_opt *o2, const char *name,
                                       long c)
{
    mpmat_srcptr S1 = ref_opt_state(o1, name), S2 = ref_opt_state(o2, name);
    mpfr_t x;
    mpfr_init2(x, LO_PREC + 64);
    for (size_t k = 0; k < S1->rows * S1->cols; k++) {
        mpfr_mul_si(x, S1->e + k, c, MPFR_RNDN);
        ck_assert_msg(mpfr_equal_p(x, S2->e + k), "state %s[%zu] is not %ld times", name, k, c);
    }
    mpfr_clear(x);
}

/* The pair_check_fn of the sign optimizers (lion, signsgd): W bit-identical
 * under the scaling, and the momentum M exactly c times o1's when
 * exact_state (c = 2^k). */
typedef struct {
    const char *name;
    long c;
    int exact_state;
} sign_scale_ctx;

static inline void check_sign_scaled(const ref_opt *o1, const ref_opt *o2, mpmat_srcptr W1,
                                     mpmat_srcptr W2, int t, void *vctx)
{
    const sign_scale_ctx *ctx = vctx;
    ck_assert_msg(mpmat_equal(W1, W2), "%s: W differs at step %d with gradients times %ld",
                  ctx->name, t, ctx->c);
    if (ctx->exact_state)
        assert_state_scaled(o1, o2, "M", ctx->c);
}

/* The four test shapes of the elementwise tests: 1x1, 2x3, 3x2 random and
 * 9x9 trace-het (shape index 3). */
static inline void gs_init_shape(grad_stream *gs, int shape, uint64_t seed)
{
    static const size_t dims[3][2] = {{1, 1}, {2, 3}, {3, 2}};
    if (shape == 3)
        gs_init_trace_het(gs, seed);
    else
        gs_init_random(gs, dims[shape][0], dims[shape][1], seed);
}

#endif
