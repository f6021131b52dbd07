/* lion (spec/optimizers.md section 2) against an exact rational model, and
 * its invariance to positive scaling of the gradient stream (spec 3).
 *
 * Lion is rational (sign is exact): the model runs the spec's four steps in
 * GMP mpq; ratio = ||W_impl - W_exact||_F / ((||W|| + movement) 2^-256) < 16.
 * Covered: the sign uses C = beta1 M + (1 - beta1) G while M is updated
 * AFTER the step with beta2 (beta1 != beta2 in every case, so swapping them,
 * or updating M first, changes signs); decoupled decay before the step;
 * shapes 1x1, 2x3, 3x2 and 9x9 trace-het. */
#include <stdlib.h>

#include "opt_harness.h"

typedef struct {
    size_t mn;
    mpq_t *W, *M;
    mpq_t beta1, beta2, lambda;
} lion_model;

static void model_init(lion_model *s, size_t mn, const char *b1, const char *b2,
                       const char *lambda)
{
    mpfr_t x;
    mpfr_init2(x, 53);
    s->mn = mn;
    s->W = malloc(mn * sizeof *s->W);
    s->M = malloc(mn * sizeof *s->M);
    for (size_t k = 0; k < mn; k++)
        mpq_init(s->W[k]), mpq_init(s->M[k]);
    mpq_inits(s->beta1, s->beta2, s->lambda, NULL);
    set_b64(x, b1), mpfr_get_q(s->beta1, x);
    set_b64(x, b2), mpfr_get_q(s->beta2, x);
    set_b64(x, lambda), mpfr_get_q(s->lambda, x);
    mpfr_clear(x);
}

static void model_clear(lion_model *s)
{
    for (size_t k = 0; k < s->mn; k++)
        mpq_clear(s->W[k]), mpq_clear(s->M[k]);
    free(s->W), free(s->M);
    mpq_clears(s->beta1, s->beta2, s->lambda, NULL);
}

/* a = beta x + (1 - beta) g in rationals. */
static void q_ema(mpq_t a, const mpq_t beta, const mpq_t x, const mpq_t g)
{
    mpq_t one_m, tmp;
    mpq_inits(one_m, tmp, NULL);
    mpq_set_ui(one_m, 1, 1);
    mpq_sub(one_m, one_m, beta);
    mpq_mul(tmp, one_m, g);
    mpq_mul(a, beta, x);
    mpq_add(a, a, tmp);
    mpq_clears(one_m, tmp, NULL);
}

static void model_step(void *model, mpmat_ptr Wm, mpmat_srcptr G, mpfr_srcptr eta,
                       unsigned long t)
{
    lion_model *s = model;
    mpq_t g, c, e, decay;
    mpq_inits(g, c, e, decay, NULL);
    mpfr_get_q(e, eta);
    mpq_mul(decay, e, s->lambda);
    mpq_set_ui(c, 1, 1);
    mpq_sub(decay, c, decay);
    for (size_t k = 0; k < s->mn; k++) {
        if (t == 1)
            mpfr_get_q(s->W[k], Wm->e + k);
        mpfr_get_q(g, G->e + k);
        mpq_mul(s->W[k], s->W[k], decay); /* 1. */
        q_ema(c, s->beta1, s->M[k], g);   /* 2. */
        if (mpq_sgn(c) > 0)               /* 3. */
            mpq_sub(s->W[k], s->W[k], e);
        else if (mpq_sgn(c) < 0)
            mpq_add(s->W[k], s->W[k], e);
        q_ema(s->M[k], s->beta2, s->M[k], g); /* 4. */
        mpfr_set_q(Wm->e + k, s->W[k], MPFR_RNDN);
    }
    mpq_clears(g, c, e, decay, NULL);
}

START_TEST(test_lion_against_exact_model)
{
    static const char *cases[][3] = {
        {"0.9", "0.99", "0"}, {"0.9", "0.99", "0.5"}, {"0.2", "0.95", "0.1"}, {"0.99", "0.1", "0"},
    };
    test_worst w = {"lion vs exact rationals (3 steps)", 0, 16};
    for (size_t c = 0; c < 4; c++) {
        for (int shape = 0; shape < 4; shape++) {
            grad_stream gs;
            gs_init_shape(&gs, shape, 800 + c);
            char o1[64], o2[64], o3[64];
            snprintf(o1, sizeof o1, "beta1=%s", cases[c][0]);
            snprintf(o2, sizeof o2, "beta2=%s", cases[c][1]);
            snprintf(o3, sizeof o3, "weight_decay=%s", cases[c][2]);
            const char *opts[] = {o1, o2, o3};
            lion_model s;
            model_init(&s, gs.m * gs.n, cases[c][0], cases[c][1], cases[c][2]);
            opt_model model = {&s, model_step, NULL};
            ref_opt_free(run_against_model("lion", opts, 3, &gs, "0.1", 3, &model, &w, NULL));
            model_clear(&s);
            gs_clear(&gs);
        }
    }
    test_worst_report(&w);
}
END_TEST

/* Spec 3: W depends on the gradients only through sign(C). For c = 2^k every
 * rounded C and M scales exactly: W bit-identical, M2 = c M1 bit for bit. For
 * c = 3 the roundings differ, but each computed C is within a few relative
 * roundings of its exact value, so the signs (and W) agree bit for bit unless
 * an exact C lies within ~2^-250 of zero relative to its terms, which the
 * random and trace-het streams here never produce. */
START_TEST(test_lion_scale_invariance)
{
    static const long cs[] = {2, 1L << 30, 3};
    const char *opts[] = {"weight_decay=0.3"};
    for (size_t i = 0; i < 3; i++) {
        for (int shape = 1; shape < 4; shape++) {
            grad_stream gs;
            gs_init_shape(&gs, shape, 900 + i);
            sign_scale_ctx ctx = {"lion", cs[i], cs[i] != 3};
            run_scaled_pair("lion", opts, 1, &gs, "0.01", 20, cs[i], check_sign_scaled, &ctx);
            gs_clear(&gs);
        }
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("opt_lion");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_lion_against_exact_model);
    tcase_add_test(tc, test_lion_scale_invariance);
    suite_add_tcase(s, tc);
    return s;
}
