/* sophia (SophiaH, spec/optimizers.md section 2) against a plain
 * re-evaluation of the spec's formulas at 1536 bits, with a test oracle whose
 * Hessian-vector product is H U for a fixed symmetric H (the trace-het
 * problem's H for 9x9, a random symmetric binary64 H otherwise).
 *
 * ratio = ||W_impl - W_model||_F / ((||W|| + movement) 2^-256) < 16, and the
 * state h to the same ratio against ||h|| + (1 - beta2)||H||_F sqrt(n).
 * Covered: steps 1..k run with h = 0 (ratio = 1 wherever |M| > 1e-12: the
 * step is eta / (1 - beta1^t) sign(M)); the Hessian estimate is made after
 * the step on the calls t = k, 2k, ... only (hvp call count checked), with
 * u drawn from stream 6, seed = the oracle's seed, substream t (the model
 * draws u itself with rng_next_rademacher, row-major); from step k + 1 the
 * clip min(|M| / (gamma max(h, 0) + 1e-12), 1) is active (both branches and
 * negative h occur); bias correction 1 / (1 - beta1^t); decoupled decay
 * first; shapes 1x1, 2x3, 3x2, 9x9 trace-het. */
#include <stdlib.h>

#include "opt_harness.h"

#include "optref/rng.h"

typedef struct {
    mpmat_t H; /* m x m */
    int calls;
} hvp_ctx;

static optref_status test_hvp(void *vctx, mpmat_ptr HU, mpmat_srcptr X, mpmat_srcptr U)
{
    hvp_ctx *c = vctx;
    (void)X;
    c->calls++;
    return mpmat_mul(HU, c->H, U);
}

typedef struct {
    mpmat_t M, h;
    mpmat_srcptr H;
    uint64_t seed;
    unsigned long k;
    mpfr_t beta1, beta2, gamma, lambda, tiny;
    int clipped, unclipped; /* entries with ratio < 1 and = 1 after step k */
} sophia_model;

static void model_step(void *model, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                       unsigned long t)
{
    sophia_model *s = model;
    size_t m = W->rows, n = W->cols;
    mpfr_t a, den, step, decay;
    mpfr_inits2(HI_PREC, a, den, step, decay, (mpfr_ptr)0);
    mpfr_mul(decay, eta, s->lambda, MPFR_RNDN);
    mpfr_ui_sub(decay, 1, decay, MPFR_RNDN);
    mpfr_pow_ui(step, s->beta1, t, MPFR_RNDN);
    mpfr_ui_sub(step, 1, step, MPFR_RNDN);
    mpfr_div(step, eta, step, MPFR_RNDN);
    for (size_t k = 0; k < m * n; k++) {
        mpfr_ptr mk = s->M->e + k, w = W->e + k;
        mpfr_mul(w, w, decay, MPFR_RNDN); /* 1. */
        mpfr_ui_sub(a, 1, s->beta1, MPFR_RNDN); /* 2. */
        mpfr_mul(a, a, G->e + k, MPFR_RNDN);
        mpfr_mul(mk, mk, s->beta1, MPFR_RNDN);
        mpfr_add(mk, mk, a, MPFR_RNDN);
        if (mpfr_sgn(s->h->e + k) > 0) /* 3. */
            mpfr_mul(den, s->gamma, s->h->e + k, MPFR_RNDN);
        else
            mpfr_set_zero(den, 1);
        mpfr_add(den, den, s->tiny, MPFR_RNDN);
        mpfr_abs(a, mk, MPFR_RNDN);
        mpfr_div(a, a, den, MPFR_RNDN);
        if (mpfr_cmp_ui(a, 1) >= 0) {
            mpfr_set_ui(a, 1, MPFR_RNDN);
            s->unclipped += t > s->k;
        } else {
            ck_assert_msg(t > s->k, "ratio < 1 before the first Hessian estimate");
            s->clipped++;
        }
        mpfr_mul_si(a, a, mpfr_sgn(mk), MPFR_RNDN); /* 4. */
        mpfr_mul(a, a, step, MPFR_RNDN);
        mpfr_sub(w, w, a, MPFR_RNDN);
    }
    if (t % s->k == 0) { /* 5. u . (H u), H u as explicit sums */
        rng_stream rs;
        rng_stream_init(&rs, s->seed, RNG_STREAM_SOPHIA, (uint32_t)t);
        mpmat_t U;
        TEST_OK(mpmat_init(U, m, n, HI_PREC));
        for (size_t k = 0; k < m * n; k++)
            mpfr_set_si(U->e + k, rng_next_rademacher(&rs), MPFR_RNDN);
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) {
                mpfr_set_zero(den, 1);
                for (size_t l = 0; l < m; l++) {
                    mpfr_mul(a, mpmat_entry(s->H, i, l), mpmat_entry(U, l, j), MPFR_RNDN);
                    mpfr_add(den, den, a, MPFR_RNDN);
                }
                mpfr_mul(den, den, mpmat_entry(U, i, j), MPFR_RNDN);
                mpfr_ui_sub(a, 1, s->beta2, MPFR_RNDN);
                mpfr_mul(den, den, a, MPFR_RNDN);
                mpfr_ptr h = mpmat_entry(s->h, i, j);
                mpfr_mul(h, h, s->beta2, MPFR_RNDN);
                mpfr_add(h, h, den, MPFR_RNDN);
            }
        mpmat_clear(U);
    }
    mpfr_clears(a, den, step, decay, (mpfr_ptr)0);
}

static void model_check(void *model, const ref_opt *o, unsigned long t, test_worst *w)
{
    sophia_model *s = model;
    if (t < s->k)
        ck_assert_msg(mpmat_equal(ref_opt_state(o, "h"), s->h), "h changed before step k");
    mpfr_t extra;
    mpfr_init2(extra, HI_PREC);
    mpmat_norm_fro(extra, s->H);
    mpfr_mul_ui(extra, extra, s->h->rows * s->h->cols, MPFR_RNDN);
    check_state(w, o, "h", s->h, extra);
    mpfr_clear(extra);
}

START_TEST(test_sophia_against_model)
{
    static const struct { const char *gamma, *k, *lambda; } cases[] = {
        {"10", "3", "1e-2"}, {"0.01", "2", "0"}, {"1e-4", "1", "0.1"},
    };
    test_worst w = {"sophia vs 1536-bit model (7 steps)", 0, 16};
    int clipped = 0, unclipped = 0;
    for (size_t c = 0; c < 3; c++) {
        for (int shape = 0; shape < 4; shape++) {
            grad_stream gs;
            gs_init_shape(&gs, shape, 2000 + c);
            hvp_ctx hc = {0};
            TEST_OK(mpmat_init(hc.H, gs.m, gs.m, LO_PREC));
            if (shape == 3) {
                mpmat_set(hc.H, gs.P.H);
            } else { /* random symmetric binary64 H */
                test_fill_uniform(hc.H, &gs.rng);
                for (size_t i = 0; i < gs.m; i++)
                    for (size_t j = 0; j < i; j++)
                        mpfr_set(mpmat_entry(hc.H, j, i), mpmat_entry(hc.H, i, j), MPFR_RNDN);
            }
            ref_oracle oracle = {&hc, 31337 + c, NULL, test_hvp};
            char o1[64], o2[64], o3[64];
            snprintf(o1, sizeof o1, "gamma=%s", cases[c].gamma);
            snprintf(o2, sizeof o2, "k=%s", cases[c].k);
            snprintf(o3, sizeof o3, "weight_decay=%s", cases[c].lambda);
            const char *opts[] = {o1, o2, o3};
            sophia_model s;
            TEST_OK(mpmat_init(s.M, gs.m, gs.n, HI_PREC));
            TEST_OK(mpmat_init(s.h, gs.m, gs.n, HI_PREC));
            s.H = hc.H;
            s.seed = oracle.seed;
            s.k = strtoul(cases[c].k, NULL, 10);
            s.clipped = s.unclipped = 0;
            mpfr_inits2(HI_PREC, s.beta1, s.beta2, s.gamma, s.lambda, s.tiny, (mpfr_ptr)0);
            set_b64(s.beta1, "0.9"), set_b64(s.beta2, "0.99"), set_b64(s.gamma, cases[c].gamma);
            set_b64(s.lambda, cases[c].lambda), set_b64(s.tiny, "1e-12");
            opt_model model = {&s, model_step, model_check};
            const int steps = 7;
            ref_opt_free(run_against_model_oracle("sophia", opts, 3, &gs, "0.01", steps, &model,
                                                  &w, NULL, &oracle));
            ck_assert_int_eq(hc.calls, steps / (int)s.k);
            clipped += s.clipped, unclipped += s.unclipped;
            mpmat_clear(s.M), mpmat_clear(s.h), mpmat_clear(hc.H);
            mpfr_clears(s.beta1, s.beta2, s.gamma, s.lambda, s.tiny, (mpfr_ptr)0);
            gs_clear(&gs);
        }
    }
    test_worst_report(&w);
    printf("  sophia: after step k, %d entries clipped (ratio < 1), %d at ratio 1\n", clipped,
           unclipped);
    ck_assert(clipped > 0 && unclipped > 0);
}
END_TEST

START_TEST(test_sophia_needs_oracle)
{
    ref_opt *o;
    TEST_OK(ref_opt_create(&o, "sophia", 2, 2, LO_PREC, NULL, 0));
    ck_assert(o->info->needs & NEEDS_HVP);
    mpmat_t W, G;
    TEST_OK(mpmat_init(W, 2, 2, LO_PREC));
    TEST_OK(mpmat_init(G, 2, 2, LO_PREC));
    mpfr_t eta;
    mpfr_init2(eta, 53);
    set_b64(eta, "0.1");
    ck_assert_int_eq(ref_opt_step(o, W, G, eta, NULL), OPTREF_EINVAL);
    ck_assert_uint_eq(o->t, 0);
    mpfr_clear(eta);
    mpmat_clear(W), mpmat_clear(G);
    ref_opt_free(o);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("opt_sophia");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_sophia_against_model);
    tcase_add_test(tc, test_sophia_needs_oracle);
    suite_add_tcase(s, tc);
    return s;
}
