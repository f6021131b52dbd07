/* adam and adamw (spec/optimizers.md section 2) against a plain re-evaluation
 * of the spec's formulas at 1536 bits (separate mpfr operations, no fma),
 * and the Adam bound of spec 3.
 *
 * ratio = ||W_impl - W_model||_F / ((||W|| + movement) 2^-256) < 16: every
 * entry of the step is about ten roundings of 2^-257, and the direction
 * M_hat / sqrt(V_hat) can magnify the absolute rounding error of a cancelling
 * M by at most 1 / sqrt(1 - beta2) relative to the moved distance (about 32
 * for beta2 = 0.999); the measured worst ratios stay below 1.
 * Covered: bias correction at t = 1, 2, 3 (at t = 1 the step is
 * eta G / (|G| + eps)); eps outside the sqrt; coupled decay (adam: G + lambda W
 * before the moments) against decoupled decay (adamw: W (1 - eta lambda)
 * first); shapes 1x1, 2x3, 3x2 and the 9x9 trace-het problem. */
#include "opt_harness.h"

typedef struct {
    mpmat_t M, V;
    mpfr_t beta1, beta2, eps, lambda;
    int decoupled;
} adam_model;

static void model_init(adam_model *s, size_t m, size_t n, const char *b1, const char *b2,
                       const char *eps, const char *lambda, int decoupled)
{
    TEST_OK(mpmat_init(s->M, m, n, HI_PREC));
    TEST_OK(mpmat_init(s->V, m, n, HI_PREC));
    mpfr_inits2(HI_PREC, s->beta1, s->beta2, s->eps, s->lambda, (mpfr_ptr)0);
    set_b64(s->beta1, b1), set_b64(s->beta2, b2), set_b64(s->eps, eps);
    set_b64(s->lambda, lambda);
    s->decoupled = decoupled;
}

static void model_clear(adam_model *s)
{
    mpmat_clear(s->M), mpmat_clear(s->V);
    mpfr_clears(s->beta1, s->beta2, s->eps, s->lambda, (mpfr_ptr)0);
}

static void model_step(void *model, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                       unsigned long t)
{
    adam_model *s = model;
    mpfr_t g, a, b, bc1, bc2, decay;
    mpfr_inits2(HI_PREC, g, a, b, bc1, bc2, decay, (mpfr_ptr)0);
    mpfr_pow_ui(bc1, s->beta1, t, MPFR_RNDN);
    mpfr_ui_sub(bc1, 1, bc1, MPFR_RNDN);
    mpfr_pow_ui(bc2, s->beta2, t, MPFR_RNDN);
    mpfr_ui_sub(bc2, 1, bc2, MPFR_RNDN);
    mpfr_mul(decay, eta, s->lambda, MPFR_RNDN);
    mpfr_ui_sub(decay, 1, decay, MPFR_RNDN);
    for (size_t k = 0; k < W->rows * W->cols; k++) {
        mpfr_ptr w = W->e + k, m = s->M->e + k, v = s->V->e + k;
        mpfr_set(g, G->e + k, MPFR_RNDN);
        if (s->decoupled) { /* adamw 1. */
            mpfr_mul(w, w, decay, MPFR_RNDN);
        } else { /* adam 1. */
            mpfr_mul(a, s->lambda, w, MPFR_RNDN);
            mpfr_add(g, g, a, MPFR_RNDN);
        }
        test_adam_moments(m, v, g, s->beta1, s->beta2, a); /* 2. */
        mpfr_div(b, v, bc2, MPFR_RNDN); /* 3. */
        mpfr_sqrt(b, b, MPFR_RNDN);
        mpfr_add(b, b, s->eps, MPFR_RNDN);
        mpfr_div(a, m, bc1, MPFR_RNDN);
        mpfr_mul(a, a, eta, MPFR_RNDN);
        mpfr_div(a, a, b, MPFR_RNDN);
        mpfr_sub(w, w, a, MPFR_RNDN);
    }
    mpfr_clears(g, a, b, bc1, bc2, decay, (mpfr_ptr)0);
}

typedef struct { const char *b1, *b2, *eps, *lambda; } adam_case;

static void run_cases(const char *name, int decoupled, test_worst *w)
{
    static const adam_case cases[] = {
        {"0.9", "0.999", "1e-8", "0"},    {"0.9", "0.999", "1e-8", "0.01"},
        {"0.5", "0.9", "1e-3", "0.1"},    {"0", "0.99", "1e-8", "0.05"},
        {"0.95", "0.95", "0", "0"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int shape = 0; shape < 4; shape++) {
            grad_stream gs;
            gs_init_shape(&gs, shape, 400 + c);
            char o1[64], o2[64], o3[64], o4[64];
            snprintf(o1, sizeof o1, "beta1=%s", cases[c].b1);
            snprintf(o2, sizeof o2, "beta2=%s", cases[c].b2);
            snprintf(o3, sizeof o3, "eps=%s", cases[c].eps);
            snprintf(o4, sizeof o4, "weight_decay=%s", cases[c].lambda);
            const char *opts[] = {o1, o2, o3, o4};
            adam_model s;
            model_init(&s, gs.m, gs.n, cases[c].b1, cases[c].b2, cases[c].eps, cases[c].lambda,
                       decoupled);
            opt_model model = {&s, model_step, NULL};
            ref_opt_free(run_against_model(name, opts, 4, &gs, "0.1", 3, &model, w, NULL));
            model_clear(&s);
            gs_clear(&gs);
        }
    }
}

START_TEST(test_adam_against_model)
{
    test_worst w = {"adam vs 1536-bit model (3 steps)", 0, 16};
    run_cases("adam", 0, &w);
    test_worst_report(&w);
}
END_TEST

START_TEST(test_adamw_against_model)
{
    test_worst w = {"adamw vs 1536-bit model (3 steps)", 0, 16};
    run_cases("adamw", 1, &w);
    test_worst_report(&w);
}
END_TEST

/* g_{t,j} of the bound test's streams, element j of a 1 x 8 parameter. */
static void bound_gradient(mpfr_ptr g, int j, unsigned long t, mpfr_srcptr b1, mpfr_srcptr b2,
                           test_rng *rng)
{
    mpfr_t q;
    mpfr_init2(q, 53);
    switch (j) {
    case 0: /* near-extremal: g_s proportional to (beta2 / beta1)^s */
    case 1: /* the same with alternating sign */
        mpfr_div(q, b2, b1, MPFR_RNDN);
        mpfr_pow_ui(g, q, t, MPFR_RNDN);
        if (j == 1 && t % 2)
            mpfr_neg(g, g, MPFR_RNDN);
        break;
    case 2: /* one spike, then zeros */
        mpfr_set_ui(g, t == 1 ? 1 : 0, MPFR_RNDN);
        break;
    case 3: /* tiny for long, then one huge gradient */
        mpfr_set_ui_2exp(g, 1, t % 17 == 0 ? 40 : -40, MPFR_RNDN);
        break;
    case 4: /* constant */
        mpfr_set_ui(g, 1, MPFR_RNDN);
        break;
    default: /* random signs and magnitudes 2^[-30, 30) */
        mpfr_set_ui_2exp(g, 1 + test_rng_below(rng, 1000), (long)test_rng_below(rng, 60) - 40,
                         MPFR_RNDN);
        if (test_rng_below(rng, 2))
            mpfr_neg(g, g, MPFR_RNDN);
        break;
    }
    mpfr_set(g, g, MPFR_RNDN);
    mpfr_clear(q);
}

/* Spec 3: with eps = 0, lambda = 0 and beta1^2 < beta2, every element moves by
 * at most eta (1 - beta1) sqrt(1 - beta2^t) / ((1 - beta1^t)
 * sqrt((1 - beta2)(1 - beta1^2 / beta2))) (Cauchy-Schwarz on the moment sums).
 * The bound is evaluated at 256 bits and allowed a relative slack of 2^-240
 * for the roundings of both sides; the near-extremal stream reaches it up
 * to the finite-t gap sqrt(1 - (beta1^2/beta2)^t). */
START_TEST(test_adam_bound)
{
    static const char *betas[][2] = {{"0.9", "0.999"}, {"0.5", "0.3"}, {"0.95", "0.95"}};
    long double closest = 0;
    for (size_t c = 0; c < 3; c++) {
        for (int lib = 0; lib < 2; lib++) {
            char o1[64], o2[64];
            snprintf(o1, sizeof o1, "beta1=%s", betas[c][0]);
            snprintf(o2, sizeof o2, "beta2=%s", betas[c][1]);
            const char *opts[] = {o1, o2, "eps=0", "weight_decay=0"};
            ref_opt *o;
            TEST_OK(ref_opt_create(&o, lib ? "adamw" : "adam", 1, 8, LO_PREC, opts, 4));
            mpmat_t W, Wold, G;
            TEST_OK(mpmat_init(W, 1, 8, LO_PREC));
            TEST_OK(mpmat_init(Wold, 1, 8, LO_PREC));
            TEST_OK(mpmat_init(G, 1, 8, LO_PREC));
            mpfr_t eta, b1, b2, bound, a, d;
            mpfr_inits2(LO_PREC, eta, b1, b2, bound, a, d, (mpfr_ptr)0);
            set_b64(eta, "0.125");
            set_b64(b1, betas[c][0]), set_b64(b2, betas[c][1]);
            test_rng rng = {500 + c};
            for (unsigned long t = 1; t <= 60; t++) {
                for (int j = 0; j < 8; j++)
                    bound_gradient(G->e + j, j, t, b1, b2, &rng);
                mpmat_set(Wold, W);
                TEST_OK(ref_opt_step(o, W, G, eta, NULL));
                /* bound = eta (1 - b1) sqrt(1 - b2^t) / ((1 - b1^t) sqrt((1 - b2)(1 - b1^2/b2))) */
                mpfr_pow_ui(a, b2, t, MPFR_RNDN);
                mpfr_ui_sub(a, 1, a, MPFR_RNDN);
                mpfr_sqrt(a, a, MPFR_RNDN);
                mpfr_ui_sub(bound, 1, b1, MPFR_RNDN);
                mpfr_mul(bound, bound, a, MPFR_RNDN);
                mpfr_mul(bound, bound, eta, MPFR_RNDN);
                mpfr_pow_ui(a, b1, t, MPFR_RNDN);
                mpfr_ui_sub(a, 1, a, MPFR_RNDN);
                mpfr_div(bound, bound, a, MPFR_RNDN);
                mpfr_sqr(a, b1, MPFR_RNDN);
                mpfr_div(a, a, b2, MPFR_RNDN);
                mpfr_ui_sub(a, 1, a, MPFR_RNDN);
                mpfr_ui_sub(d, 1, b2, MPFR_RNDN);
                mpfr_mul(a, a, d, MPFR_RNDN);
                mpfr_sqrt(a, a, MPFR_RNDN);
                mpfr_div(bound, bound, a, MPFR_RNDN);
                for (int j = 0; j < 8; j++) {
                    mpfr_sub(d, W->e + j, Wold->e + j, MPFR_RNDN);
                    mpfr_abs(d, d, MPFR_RNDN);
                    mpfr_div(d, d, bound, MPFR_RNDN);
                    long double r = mpfr_get_ld(d, MPFR_RNDN);
                    if (r > closest)
                        closest = r;
                    mpfr_ui_sub(d, 1, d, MPFR_RNDN); /* 1 - move / bound >= -2^-240 */
                    ck_assert_msg(mpfr_cmp_si_2exp(d, -1, -240) >= 0,
                                  "%s beta=(%s, %s) t=%lu element %d exceeds the bound",
                                  lib ? "adamw" : "adam", betas[c][0], betas[c][1], t, j);
                }
            }
            mpfr_clears(eta, b1, b2, bound, a, d, (mpfr_ptr)0);
            mpmat_clear(W), mpmat_clear(Wold), mpmat_clear(G);
            ref_opt_free(o);
        }
    }
    printf("  adam bound: largest move / bound         %.6Lf (must be <= 1)\n", closest);
    ck_assert(closest > 0.9L); /* the near-extremal stream gets close */
}
END_TEST

/* With lambda = 0 adam and adamw are the same step, bit for bit; with
 * lambda > 0 they differ (the coupled term changes the moments). */
START_TEST(test_adam_adamw_decay_placement)
{
    for (int wd = 0; wd < 2; wd++) {
        const char *opts[] = {wd ? "weight_decay=0.1" : "weight_decay=0"};
        ref_opt *a, *b;
        TEST_OK(ref_opt_create(&a, "adam", 3, 2, LO_PREC, opts, 1));
        TEST_OK(ref_opt_create(&b, "adamw", 3, 2, LO_PREC, opts, 1));
        mpmat_t Wa, Wb, G;
        TEST_OK(mpmat_init(Wa, 3, 2, LO_PREC));
        TEST_OK(mpmat_init(Wb, 3, 2, LO_PREC));
        TEST_OK(mpmat_init(G, 3, 2, LO_PREC));
        test_rng rng = {600};
        test_fill_uniform(Wa, &rng);
        mpmat_set(Wb, Wa);
        mpfr_t eta;
        mpfr_init2(eta, 53);
        set_b64(eta, "0.01");
        for (int t = 0; t < 4; t++) {
            test_fill_uniform(G, &rng);
            TEST_OK(ref_opt_step(a, Wa, G, eta, NULL));
            TEST_OK(ref_opt_step(b, Wb, G, eta, NULL));
        }
        ck_assert_int_eq(mpmat_equal(Wa, Wb), !wd);
        mpfr_clear(eta);
        mpmat_clear(Wa), mpmat_clear(Wb), mpmat_clear(G);
        ref_opt_free(a), ref_opt_free(b);
    }
}
END_TEST

START_TEST(test_adam_defaults_and_ranges)
{
    ref_opt *o;
    TEST_OK(ref_opt_create(&o, "adamw", 2, 2, LO_PREC, NULL, 0));
    mpfr_t x;
    mpfr_init2(x, 53);
    set_b64(x, "0.01");
    ck_assert(mpfr_equal_p(ref_opt_real(o, "weight_decay"), x));
    set_b64(x, "0.999");
    ck_assert(mpfr_equal_p(ref_opt_real(o, "beta2"), x));
    set_b64(x, "1e-8");
    ck_assert(mpfr_equal_p(ref_opt_real(o, "eps"), x));
    ref_opt_free(o);
    TEST_OK(ref_opt_create(&o, "adam", 2, 2, LO_PREC, NULL, 0));
    ck_assert(mpfr_zero_p(ref_opt_real(o, "weight_decay")));
    ref_opt_free(o);
    mpfr_clear(x);
    const char *bad[][1] = {{"beta1=1"}, {"beta2=-0.1"}, {"eps=-1"}, {"weight_decay=-1"},
                            {"lr=-1"}, {"amsgrad=true"}};
    for (size_t i = 0; i < 6; i++)
        ck_assert(ref_opt_create(&o, "adam", 2, 2, LO_PREC, bad[i], 1) != OPTREF_OK);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("opt_adam");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_adam_against_model);
    tcase_add_test(tc, test_adamw_against_model);
    tcase_add_test(tc, test_adam_bound);
    tcase_add_test(tc, test_adam_adamw_decay_placement);
    tcase_add_test(tc, test_adam_defaults_and_ranges);
    suite_add_tcase(s, tc);
    return s;
}
