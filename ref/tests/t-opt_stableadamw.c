/* stableadamw (spec/optimizers.md section 2) against a plain re-evaluation of
 * the spec's formulas at 1536 bits (separate mpfr operations, no fma).
 *
 * ratio = ||W_impl - W_model||_F / ((||W|| + movement) 2^-256) < 16.
 * Covered: b1 = b2 = 0 at t = 1 (so M = G and U = G.G, checked bit for bit:
 * both are exact at 256 bits for binary64 gradients); the clipping ratio
 * r = sqrt(mean(G.G / max(U, eps^2))) with the NEW U (at t = 1, r = 1, so
 * clip_thresh = 0.25 clips by 4), active in several steps (counted); the
 * decay W (1 - eta lambda) with the UNCLIPPED eta (the gist), visible because
 * clipping and lambda = 0.2 are active together; shapes 1x1, 2x3, 3x2 and
 * 9x9 trace-het. */
#include "opt_harness.h"

typedef struct {
    mpmat_t M, U, G;
    mpfr_t beta1, beta2, eps, lambda, d;
    int clipped; /* steps with r / d > 1 */
} sadam_model;

/* b = beta (1 - beta^(t-1)) / (1 - beta^t) */
static void corrected(mpfr_ptr b, mpfr_srcptr beta, unsigned long t)
{
    mpfr_t x, y;
    mpfr_inits2(HI_PREC, x, y, (mpfr_ptr)0);
    mpfr_pow_ui(x, beta, t - 1, MPFR_RNDN);
    mpfr_ui_sub(x, 1, x, MPFR_RNDN);
    mpfr_pow_ui(y, beta, t, MPFR_RNDN);
    mpfr_ui_sub(y, 1, y, MPFR_RNDN);
    mpfr_mul(b, beta, x, MPFR_RNDN);
    mpfr_div(b, b, y, MPFR_RNDN);
    mpfr_clears(x, y, (mpfr_ptr)0);
}

static void model_step(void *model, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                       unsigned long t)
{
    sadam_model *s = model;
    size_t mn = W->rows * W->cols;
    mpfr_t b1, b2, a, r, e2, etac, decay;
    mpfr_inits2(HI_PREC, b1, b2, a, r, e2, etac, decay, (mpfr_ptr)0);
    mpmat_set(s->G, G);
    corrected(b1, s->beta1, t); /* 1. */
    corrected(b2, s->beta2, t);
    mpfr_mul(e2, s->eps, s->eps, MPFR_RNDN);
    mpfr_set_zero(r, 1);
    for (size_t k = 0; k < mn; k++) {
        mpfr_ptr m = s->M->e + k, u = s->U->e + k;
        mpfr_srcptr g = G->e + k;
        test_adam_moments(m, u, g, b1, b2, a); /* 2. */
        mpfr_mul(a, g, g, MPFR_RNDN); /* 3. */
        mpfr_div(a, a, mpfr_greater_p(u, e2) ? u : e2, MPFR_RNDN);
        mpfr_add(r, r, a, MPFR_RNDN);
    }
    mpfr_div_ui(r, r, mn, MPFR_RNDN);
    mpfr_sqrt(r, r, MPFR_RNDN);
    mpfr_div(r, r, s->d, MPFR_RNDN); /* 4. */
    if (mpfr_cmp_ui(r, 1) > 0)
        s->clipped++;
    else
        mpfr_set_ui(r, 1, MPFR_RNDN);
    mpfr_div(etac, eta, r, MPFR_RNDN);
    mpfr_mul(decay, eta, s->lambda, MPFR_RNDN);
    mpfr_ui_sub(decay, 1, decay, MPFR_RNDN);
    for (size_t k = 0; k < mn; k++) {
        mpfr_sqrt(a, s->U->e + k, MPFR_RNDN);
        mpfr_add(a, a, s->eps, MPFR_RNDN);
        mpfr_div(a, s->M->e + k, a, MPFR_RNDN);
        mpfr_mul(a, a, etac, MPFR_RNDN);
        mpfr_mul(W->e + k, W->e + k, decay, MPFR_RNDN);
        mpfr_sub(W->e + k, W->e + k, a, MPFR_RNDN);
    }
    mpfr_clears(b1, b2, a, r, e2, etac, decay, (mpfr_ptr)0);
}

/* t = 1: M = G and U = G.G exactly. */
static void model_check(void *model, const ref_opt *o, unsigned long t, test_worst *w)
{
    (void)w;
    sadam_model *s = model;
    if (t != 1)
        return;
    mpmat_srcptr M = ref_opt_state(o, "M"), U = ref_opt_state(o, "U");
    ck_assert_msg(mpmat_equal(M, s->G), "t = 1: M is not G");
    mpfr_t gg;
    mpfr_init2(gg, 2 * 53 + 2);
    for (size_t k = 0; k < U->rows * U->cols; k++) {
        mpfr_sqr(gg, s->G->e + k, MPFR_RNDN); /* exact */
        ck_assert_msg(mpfr_equal_p(gg, U->e + k), "t = 1: U is not G.G");
    }
    mpfr_clear(gg);
}

START_TEST(test_stableadamw_against_model)
{
    static const char *cases[][5] = {
        /* beta1, beta2, eps, weight_decay, clip_thresh */
        {"0.9", "0.99", "1e-8", "0.2", "1"},  {"0.9", "0.99", "1e-8", "0.2", "0.25"},
        {"0.5", "0.9", "1e-3", "0.1", "0.8"}, {"0", "0.5", "1e-8", "0", "1"},
    };
    test_worst w = {"stableadamw vs 1536-bit model (4 steps)", 0, 16};
    int clipped = 0;
    for (size_t c = 0; c < 4; c++) {
        for (int shape = 0; shape < 4; shape++) {
            grad_stream gs;
            gs_init_shape(&gs, shape, 1000 + c);
            char o1[64], o2[64], o3[64], o4[64], o5[64];
            snprintf(o1, sizeof o1, "beta1=%s", cases[c][0]);
            snprintf(o2, sizeof o2, "beta2=%s", cases[c][1]);
            snprintf(o3, sizeof o3, "eps=%s", cases[c][2]);
            snprintf(o4, sizeof o4, "weight_decay=%s", cases[c][3]);
            snprintf(o5, sizeof o5, "clip_thresh=%s", cases[c][4]);
            const char *opts[] = {o1, o2, o3, o4, o5};
            sadam_model s;
            TEST_OK(mpmat_init(s.M, gs.m, gs.n, HI_PREC));
            TEST_OK(mpmat_init(s.U, gs.m, gs.n, HI_PREC));
            TEST_OK(mpmat_init(s.G, gs.m, gs.n, HI_PREC));
            mpfr_inits2(HI_PREC, s.beta1, s.beta2, s.eps, s.lambda, s.d, (mpfr_ptr)0);
            set_b64(s.beta1, cases[c][0]), set_b64(s.beta2, cases[c][1]);
            set_b64(s.eps, cases[c][2]), set_b64(s.lambda, cases[c][3]);
            set_b64(s.d, cases[c][4]);
            s.clipped = 0;
            opt_model model = {&s, model_step, model_check};
            ref_opt_free(run_against_model("stableadamw", opts, 5, &gs, "0.1", 4, &model, &w,
                                           NULL));
            clipped += s.clipped;
            mpmat_clear(s.M), mpmat_clear(s.U), mpmat_clear(s.G);
            mpfr_clears(s.beta1, s.beta2, s.eps, s.lambda, s.d, (mpfr_ptr)0);
            gs_clear(&gs);
        }
    }
    test_worst_report(&w);
    printf("  stableadamw: clipping active in %d of 64 steps\n", clipped);
    ck_assert(clipped >= 16); /* clip_thresh = 0.25 clips every step of its 16 */
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("opt_stableadamw");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_stableadamw_against_model);
    suite_add_tcase(s, tc);
    return s;
}
