/* deva-linf (spec/optimizers.md section 2) against a plain re-evaluation of
 * the spec's formulas at 1536 bits (separate mpfr operations, no fma, lerp
 * spelt (1 - w) a + w b), and its properties from spec 3.
 *
 * ratio = ||X_impl - X_model||_F / ((||X|| + movement) 2^-256) < 16 for W, and
 * for the states M, V, Gamma (scale ||X_model||_F plus the size of the terms).
 * Covered: no bias correction (it moves at t = 1); V is the EMA of M.M, not
 * G.G; Gamma = sqrt(M.M / (V + eps)) with eps = 1e-5 (the source's constant);
 * Nesterov on and off; decoupled decay first; shapes 1x1, 2x3, 3x2 and 9x9
 * trace-het. Properties: nesterov false is W - eta M / sqrt(V + eps); Gamma
 * starts at ones and stays <= 1 / sqrt(1 - beta2); positive scaling of the
 * gradients with eps = 0. */
#include "opt_harness.h"

typedef struct {
    mpmat_t M, V, Gamma;
    mpfr_t beta1, beta2, eps, lambda, gsize;
    int nesterov;
} deva_model;

/* a = (1 - w) x + w y */
static void lerp2(mpfr_ptr a, mpfr_srcptr x, mpfr_srcptr y, mpfr_srcptr w)
{
    mpfr_t p, q;
    mpfr_inits2(HI_PREC, p, q, (mpfr_ptr)0);
    mpfr_ui_sub(p, 1, w, MPFR_RNDN);
    mpfr_mul(p, p, x, MPFR_RNDN);
    mpfr_mul(q, w, y, MPFR_RNDN);
    mpfr_add(a, p, q, MPFR_RNDN);
    mpfr_clears(p, q, (mpfr_ptr)0);
}

static void model_step(void *model, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                       unsigned long t)
{
    (void)t;
    deva_model *s = model;
    mpfr_t a, w1, w2, decay, d;
    mpfr_inits2(HI_PREC, a, w1, w2, decay, d, (mpfr_ptr)0);
    mpfr_ui_sub(w1, 1, s->beta1, MPFR_RNDN);
    mpfr_ui_sub(w2, 1, s->beta2, MPFR_RNDN);
    mpfr_mul(decay, eta, s->lambda, MPFR_RNDN);
    mpfr_ui_sub(decay, 1, decay, MPFR_RNDN);
    mpmat_norm_fro(s->gsize, G);
    for (size_t k = 0; k < W->rows * W->cols; k++) {
        mpfr_ptr m = s->M->e + k, v = s->V->e + k, gam = s->Gamma->e + k, w = W->e + k;
        mpfr_srcptr g = G->e + k;
        mpfr_mul(w, w, decay, MPFR_RNDN); /* 1. */
        lerp2(m, m, g, w1);               /* 2. */
        mpfr_mul(a, m, m, MPFR_RNDN);     /* 3. */
        lerp2(v, v, a, w2);
        mpfr_add(d, v, s->eps, MPFR_RNDN); /* 4. */
        mpfr_div(a, a, d, MPFR_RNDN);
        mpfr_sqrt(gam, a, MPFR_RNDN);
        if (s->nesterov) /* 5. */
            lerp2(d, g, m, s->beta1);
        else
            mpfr_set(d, m, MPFR_RNDN);
        mpfr_mul_si(a, gam, mpfr_sgn(d), MPFR_RNDN); /* 6. */
        mpfr_mul(a, a, eta, MPFR_RNDN);
        mpfr_sub(w, w, a, MPFR_RNDN);
    }
    mpfr_clears(a, w1, w2, decay, d, (mpfr_ptr)0);
}

static void model_check(void *model, const ref_opt *o, unsigned long t, test_worst *w)
{
    (void)t;
    deva_model *s = model;
    mpfr_t g2;
    mpfr_init2(g2, HI_PREC);
    mpfr_sqr(g2, s->gsize, MPFR_RNDN);
    check_state(w, o, "M", s->M, s->gsize);
    check_state(w, o, "V", s->V, g2);
    check_state(w, o, "Gamma", s->Gamma, NULL);
    mpfr_clear(g2);
}

START_TEST(test_deva_linf_against_model)
{
    static const struct { const char *b1, *b2, *eps, *lambda; int nesterov; } cases[] = {
        {"0.9", "0.999", "1e-5", "0", 0}, {"0.9", "0.999", "1e-5", "0", 1},
        {"0", "0.99", "1e-5", "0.1", 0},  {"0.5", "0.9", "1e-3", "0.05", 1},
        {"0.9", "0.99", "0", "0", 0},
    };
    test_worst w = {"deva-linf vs 1536-bit model (3 steps)", 0, 16};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int shape = 0; shape < 4; shape++) {
            grad_stream gs;
            gs_init_shape(&gs, shape, 1100 + c);
            char o1[64], o2[64], o3[64], o4[64], o5[64];
            snprintf(o1, sizeof o1, "beta1=%s", cases[c].b1);
            snprintf(o2, sizeof o2, "beta2=%s", cases[c].b2);
            snprintf(o3, sizeof o3, "eps=%s", cases[c].eps);
            snprintf(o4, sizeof o4, "weight_decay=%s", cases[c].lambda);
            snprintf(o5, sizeof o5, "nesterov=%s", cases[c].nesterov ? "true" : "false");
            const char *opts[] = {o1, o2, o3, o4, o5};
            deva_model s;
            TEST_OK(mpmat_init(s.M, gs.m, gs.n, HI_PREC));
            TEST_OK(mpmat_init(s.V, gs.m, gs.n, HI_PREC));
            TEST_OK(mpmat_init(s.Gamma, gs.m, gs.n, HI_PREC));
            mpfr_inits2(HI_PREC, s.beta1, s.beta2, s.eps, s.lambda, s.gsize, (mpfr_ptr)0);
            set_b64(s.beta1, cases[c].b1), set_b64(s.beta2, cases[c].b2);
            set_b64(s.eps, cases[c].eps), set_b64(s.lambda, cases[c].lambda);
            s.nesterov = cases[c].nesterov;
            opt_model model = {&s, model_step, model_check};
            ref_opt_free(run_against_model("deva-linf", opts, 5, &gs, "0.1", 3, &model, &w, NULL));
            mpmat_clear(s.M), mpmat_clear(s.V), mpmat_clear(s.Gamma);
            mpfr_clears(s.beta1, s.beta2, s.eps, s.lambda, s.gsize, (mpfr_ptr)0);
            gs_clear(&gs);
        }
    }
    test_worst_report(&w);
}
END_TEST

/* Spec 3: with nesterov false the step is W (1 - eta lambda) - eta M / sqrt(V + eps)
 * (Gamma sign(M) = |M| / sqrt(V + eps) sign(M)). Checked to working precision
 * from the implementation's own M and V after each step: the two forms round
 * differently, ratio < 16 as above. */
START_TEST(test_deva_linf_no_nesterov_form)
{
    test_worst w = {"deva-linf = W - eta M/sqrt(V+eps)", 0, 16};
    const char *opts[] = {"weight_decay=0.1"};
    for (int shape = 1; shape < 4; shape++) {
        grad_stream gs;
        gs_init_shape(&gs, shape, 1200);
        size_t m = gs.m, n = gs.n;
        ref_opt *o;
        TEST_OK(ref_opt_create(&o, "deva-linf", m, n, LO_PREC, opts, 1));
        mpmat_t W, G, P, R;
        TEST_OK(mpmat_init(W, m, n, LO_PREC));
        TEST_OK(mpmat_init(G, m, n, LO_PREC));
        TEST_OK(mpmat_init(P, m, n, HI_PREC));
        TEST_OK(mpmat_init(R, m, n, HI_PREC));
        mpfr_t eta, decay, a, scale;
        mpfr_inits2(HI_PREC, eta, decay, a, scale, (mpfr_ptr)0);
        set_b64(eta, "0.05");
        set_b64(a, "0.1");
        mpfr_mul(decay, eta, a, MPFR_RNDN);
        mpfr_ui_sub(decay, 1, decay, MPFR_RNDN);
        gs_initial(&gs, W);
        for (int t = 1; t <= 10; t++) {
            gs_next(&gs, G, W);
            mpmat_set(P, W);
            TEST_OK(ref_opt_step(o, W, G, eta, NULL));
            mpmat_srcptr M = ref_opt_state(o, "M"), V = ref_opt_state(o, "V");
            for (size_t k = 0; k < m * n; k++) {
                mpfr_mul(P->e + k, P->e + k, decay, MPFR_RNDN);
                mpfr_add(a, V->e + k, ref_opt_real(o, "eps"), MPFR_RNDN);
                mpfr_sqrt(a, a, MPFR_RNDN);
                mpfr_div(a, M->e + k, a, MPFR_RNDN);
                mpfr_mul(a, a, eta, MPFR_RNDN);
                mpfr_sub(P->e + k, P->e + k, a, MPFR_RNDN);
            }
            TEST_OK(mpmat_sub(R, W, P));
            mpmat_norm_fro(scale, P);
            mpfr_mul_ui(a, eta, m * n, MPFR_RNDN); /* + the moved distance, at most eta sqrt(mn) Gamma */
            mpfr_add(scale, scale, a, MPFR_RNDN);
            test_worst_add(&w, test_ratio(R, scale, LO_PREC));
        }
        mpfr_clears(eta, decay, a, scale, (mpfr_ptr)0);
        mpmat_clear(W), mpmat_clear(G), mpmat_clear(P), mpmat_clear(R);
        ref_opt_free(o);
        gs_clear(&gs);
    }
    test_worst_report(&w);
}
END_TEST

/* g_{t,j}: element j of a 1 x 6 stream (random, growing, flipping, spike,
 * zero then spike, tiny then huge). */
static void gamma_gradient(mpfr_ptr g, int j, unsigned long t, test_rng *rng)
{
    switch (j) {
    case 0: mpfr_set_ui_2exp(g, 1, (long)t, MPFR_RNDN); break;
    case 1: mpfr_set_si_2exp(g, t % 2 ? 1 : -1, (long)t, MPFR_RNDN); break;
    case 2: mpfr_set_ui(g, t == 1 ? 1 : 0, MPFR_RNDN); break;
    case 3: mpfr_set_ui(g, t == 5 ? 1 : 0, MPFR_RNDN); break;
    case 4: mpfr_set_ui_2exp(g, 1, t % 13 == 0 ? 60 : -60, MPFR_RNDN); break;
    default:
        mpfr_set_si_2exp(g, (long)test_rng_below(rng, 2001) - 1000, -(long)test_rng_below(rng, 40),
                         MPFR_RNDN);
    }
}

/* Spec 3: V >= (1 - beta2) M.M, so Gamma <= 1 / sqrt(1 - beta2), with
 * equality at t = 1 when eps = 0 (V = (1 - beta2) M.M): allowed a relative
 * slack of 2^-240 for the roundings. Gamma starts at ones; with eps = 0 and
 * M = V = 0 (element 3 before its spike) Gamma is 0 (decision: 0 / 0 = 0). */
START_TEST(test_deva_linf_gamma_bound)
{
    static const char *cases[][3] = {{"0.9", "0.999", "0"}, {"0.9", "0.999", "1e-5"},
                                     {"0", "0.5", "0"},     {"0.99", "0.9", "0"}};
    long double closest = 0;
    for (size_t c = 0; c < 4; c++) {
        char o1[64], o2[64], o3[64];
        snprintf(o1, sizeof o1, "beta1=%s", cases[c][0]);
        snprintf(o2, sizeof o2, "beta2=%s", cases[c][1]);
        snprintf(o3, sizeof o3, "eps=%s", cases[c][2]);
        const char *opts[] = {o1, o2, o3};
        ref_opt *o;
        TEST_OK(ref_opt_create(&o, "deva-linf", 1, 6, LO_PREC, opts, 3));
        mpmat_srcptr Gamma = ref_opt_state(o, "Gamma");
        for (size_t k = 0; k < 6; k++)
            ck_assert(mpfr_cmp_ui(Gamma->e + k, 1) == 0);
        mpmat_t W, G;
        TEST_OK(mpmat_init(W, 1, 6, LO_PREC));
        TEST_OK(mpmat_init(G, 1, 6, LO_PREC));
        mpfr_t eta, bound, r;
        mpfr_inits2(LO_PREC, eta, bound, r, (mpfr_ptr)0);
        set_b64(eta, "0.01");
        set_b64(r, cases[c][1]);
        mpfr_ui_sub(bound, 1, r, MPFR_RNDN);
        mpfr_rec_sqrt(bound, bound, MPFR_RNDN);
        test_rng rng = {1300 + c};
        for (unsigned long t = 1; t <= 40; t++) {
            for (int j = 0; j < 6; j++)
                gamma_gradient(G->e + j, j, t, &rng);
            TEST_OK(ref_opt_step(o, W, G, eta, NULL));
            Gamma = ref_opt_state(o, "Gamma");
            for (int j = 0; j < 6; j++) {
                mpfr_div(r, Gamma->e + j, bound, MPFR_RNDN);
                long double q = mpfr_get_ld(r, MPFR_RNDN);
                closest = q > closest ? q : closest;
                mpfr_ui_sub(r, 1, r, MPFR_RNDN);
                ck_assert_msg(mpfr_cmp_si_2exp(r, -1, -240) >= 0,
                              "Gamma[%d] exceeds 1/sqrt(1 - beta2) at t = %lu", j, t);
                if (j == 3 && t < 5 && mpfr_zero_p(ref_opt_real(o, "eps")))
                    ck_assert(mpfr_zero_p(Gamma->e + j));
            }
        }
        mpfr_clears(eta, bound, r, (mpfr_ptr)0);
        mpmat_clear(W), mpmat_clear(G);
        ref_opt_free(o);
    }
    printf("  deva-linf: largest Gamma sqrt(1 - beta2)  %.6Lf (must be <= 1)\n", closest);
    ck_assert(closest > 0.999L); /* equality at t = 1 with eps = 0 */
}
END_TEST

typedef struct { long c; test_worst *w; } scale_ctx;

/* c = 2^k: every rounding scales exactly (M by c, M.M and V by c^2, the
 * quotient and Gamma unchanged): W and Gamma bit-identical, M2 = c M1,
 * V2 = c^2 V1. c = 3: Gamma = sqrt(M.M / V) is invariant in exact arithmetic
 * and each run rounds it independently, so W and Gamma agree to working
 * precision (ratio < 16 against ||W|| + eta sqrt(mn) and ||Gamma||). */
static void scaled_check(const ref_opt *o1, const ref_opt *o2, mpmat_srcptr W1, mpmat_srcptr W2,
                         int t, void *vctx)
{
    scale_ctx *ctx = vctx;
    mpmat_srcptr g1 = ref_opt_state(o1, "Gamma"), g2 = ref_opt_state(o2, "Gamma");
    if (ctx->c != 3) {
        ck_assert_msg(mpmat_equal(W1, W2), "deva-linf: W differs at step %d (c = %ld)", t,
                      ctx->c);
        ck_assert(mpmat_equal(g1, g2));
        assert_state_scaled(o1, o2, "M", ctx->c);
        assert_state_scaled(o1, o2, "V", ctx->c * ctx->c);
        return;
    }
    mpmat_t R;
    mpfr_t scale, a;
    TEST_OK(mpmat_init(R, W1->rows, W1->cols, HI_PREC));
    mpfr_inits2(HI_PREC, scale, a, (mpfr_ptr)0);
    TEST_OK(mpmat_sub(R, W1, W2));
    mpmat_norm_fro(scale, W1);
    mpfr_set_ui(a, (unsigned long)t * W1->rows * W1->cols, MPFR_RNDN); /* >= movement / eta */
    mpfr_add(scale, scale, a, MPFR_RNDN);
    test_worst_add(ctx->w, test_ratio(R, scale, LO_PREC));
    TEST_OK(mpmat_sub(R, g1, g2));
    mpmat_norm_fro(scale, g1);
    test_worst_add(ctx->w, test_ratio(R, scale, LO_PREC));
    mpfr_clears(scale, a, (mpfr_ptr)0);
    mpmat_clear(R);
}

START_TEST(test_deva_linf_scale_invariance)
{
    static const long cs[] = {8, 1L << 25, 3};
    test_worst w = {"deva-linf eps=0, gradients times 3", 0, 16};
    for (int nesterov = 0; nesterov < 2; nesterov++) {
        const char *opts[] = {"eps=0", nesterov ? "nesterov=true" : "nesterov=false",
                              "weight_decay=0.1"};
        for (size_t i = 0; i < 3; i++) {
            for (int shape = 1; shape < 4; shape++) {
                grad_stream gs;
                gs_init_shape(&gs, shape, 1400 + i);
                scale_ctx ctx = {cs[i], &w};
                run_scaled_pair("deva-linf", opts, 3, &gs, "0.01", 15, cs[i], scaled_check, &ctx);
                gs_clear(&gs);
            }
        }
    }
    test_worst_report(&w);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("opt_deva_linf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_deva_linf_against_model);
    tcase_add_test(tc, test_deva_linf_no_nesterov_form);
    tcase_add_test(tc, test_deva_linf_gamma_bound);
    tcase_add_test(tc, test_deva_linf_scale_invariance);
    suite_add_tcase(s, tc);
    return s;
}
