/* signsgd (spec/optimizers.md section 2) against an exact rational model,
 * and its invariance to positive scaling of the gradient stream (spec 3).
 *
 * All of signsgd is rational (sign is exact), so the model evaluates the
 * spec's four steps in exact rationals (GMP mpq); the implementation at 256
 * bits agrees to a few roundings: ratio < 16 (W is only decayed and moved by
 * +-eta; a sign could differ only if an exact D were within 2^-250 of zero).
 * Covered: Nesterov on and off, decoupled decay applied BEFORE the step
 * (W (1 - eta lambda) - eta sign(D); decaying after would differ by
 * eta^2 lambda, about 1e-3 here), shapes 1x1, 2x3, 3x2, 9x9 trace-het. */
#include <stdlib.h>

#include "opt_harness.h"

typedef struct {
    size_t mn;
    mpq_t *W, *M;
    mpq_t beta, lambda;
    int nesterov;
} signsgd_model;

static void model_init(signsgd_model *s, size_t mn, const char *beta, const char *lambda,
                       int nesterov)
{
    mpfr_t x;
    mpfr_init2(x, 53);
    s->mn = mn;
    s->W = malloc(mn * sizeof *s->W);
    s->M = malloc(mn * sizeof *s->M);
    for (size_t k = 0; k < mn; k++)
        mpq_init(s->W[k]), mpq_init(s->M[k]);
    mpq_inits(s->beta, s->lambda, NULL);
    set_b64(x, beta), mpfr_get_q(s->beta, x);
    set_b64(x, lambda), mpfr_get_q(s->lambda, x);
    s->nesterov = nesterov;
    mpfr_clear(x);
}

static void model_clear(signsgd_model *s)
{
    for (size_t k = 0; k < s->mn; k++)
        mpq_clear(s->W[k]), mpq_clear(s->M[k]);
    free(s->W), free(s->M);
    mpq_clears(s->beta, s->lambda, NULL);
}

static void model_step(void *model, mpmat_ptr Wm, mpmat_srcptr G, mpfr_srcptr eta,
                       unsigned long t)
{
    signsgd_model *s = model;
    mpq_t g, d, e, decay, tmp;
    mpq_inits(g, d, e, decay, tmp, NULL);
    mpfr_get_q(e, eta);
    mpq_mul(decay, e, s->lambda); /* 1 - eta lambda */
    mpq_set_ui(tmp, 1, 1);
    mpq_sub(decay, tmp, decay);
    for (size_t k = 0; k < s->mn; k++) {
        if (t == 1)
            mpfr_get_q(s->W[k], Wm->e + k);
        mpfr_get_q(g, G->e + k);
        mpq_mul(s->W[k], s->W[k], decay); /* 1. */
        mpq_set_ui(tmp, 1, 1);            /* 2. M = beta M + (1 - beta) G */
        mpq_sub(tmp, tmp, s->beta);
        mpq_mul(tmp, tmp, g);
        mpq_mul(s->M[k], s->M[k], s->beta);
        mpq_add(s->M[k], s->M[k], tmp);
        if (s->nesterov) { /* 3. D = (1 - beta) G + beta M */
            mpq_set_ui(tmp, 1, 1);
            mpq_sub(tmp, tmp, s->beta);
            mpq_mul(d, tmp, g);
            mpq_mul(tmp, s->beta, s->M[k]);
            mpq_add(d, d, tmp);
        } else {
            mpq_set(d, s->M[k]);
        }
        if (mpq_sgn(d) > 0) /* 4. */
            mpq_sub(s->W[k], s->W[k], e);
        else if (mpq_sgn(d) < 0)
            mpq_add(s->W[k], s->W[k], e);
        mpfr_set_q(Wm->e + k, s->W[k], MPFR_RNDN);
    }
    mpq_clears(g, d, e, decay, tmp, NULL);
}

START_TEST(test_signsgd_against_exact_model)
{
    static const struct { const char *beta, *lambda; int nesterov; } cases[] = {
        {"0.9", "0", 0}, {"0.9", "0", 1}, {"0.9", "0.1", 0}, {"0.5", "0.1", 1}, {"0", "0", 0},
    };
    test_worst w = {"signsgd vs exact rationals (3 steps)", 0, 16};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int shape = 0; shape < 4; shape++) {
            grad_stream gs;
            gs_init_shape(&gs, shape, 200 + c);
            char o1[64], o2[64], o3[64];
            snprintf(o1, sizeof o1, "beta=%s", cases[c].beta);
            snprintf(o2, sizeof o2, "weight_decay=%s", cases[c].lambda);
            snprintf(o3, sizeof o3, "nesterov=%s", cases[c].nesterov ? "true" : "false");
            const char *opts[] = {o1, o2, o3};
            signsgd_model s;
            model_init(&s, gs.m * gs.n, cases[c].beta, cases[c].lambda, cases[c].nesterov);
            opt_model model = {&s, model_step, NULL};
            ref_opt_free(run_against_model("signsgd", opts, 3, &gs, "0.1", 3, &model, &w, NULL));
            model_clear(&s);
            gs_clear(&gs);
        }
    }
    test_worst_report(&w);
}
END_TEST

/* Spec 3: W depends on the gradients only through sign(D), and the W
 * arithmetic (decay, +-eta) never touches G. Scaling by c = 2^k scales every
 * rounded M and D exactly, so W is bit-identical and M2 = c M1 bit for bit.
 * With c = 3 the roundings of M differ, but the computed D of either run is
 * within a few relative roundings of its exact value (c times the other's),
 * so the signs, and hence W, are bit-identical unless an exact D lies within
 * ~2^-250 of 0 relative to its terms, which random dyadic streams never do. */
START_TEST(test_signsgd_scale_invariance)
{
    static const long cs[] = {4, 1L << 20, 3};
    for (int nesterov = 0; nesterov < 2; nesterov++) {
        const char *opts[] = {nesterov ? "nesterov=true" : "nesterov=false", "weight_decay=0.1"};
        for (size_t i = 0; i < 3; i++) {
            for (int shape = 2; shape < 4; shape++) {
                grad_stream gs;
                gs_init_shape(&gs, shape, 300 + i);
                sign_scale_ctx ctx = {"signsgd", cs[i], cs[i] != 3};
                run_scaled_pair("signsgd", opts, 2, &gs, "0.01", 20, cs[i], check_sign_scaled,
                                &ctx);
                gs_clear(&gs);
            }
        }
    }
}
END_TEST

START_TEST(test_signsgd_options)
{
    ref_opt *o;
    TEST_OK(ref_opt_create(&o, "signsgd", 1, 4, LO_PREC, NULL, 0));
    ck_assert(mpfr_cmp_d(ref_opt_real(o, "beta"), 0.9) == 0);
    ck_assert(mpfr_cmp_d(ref_opt_real(o, "lr"), 0.02) == 0);
    ck_assert(!ref_opt_bool(o, "nesterov"));
    ck_assert(mpfr_zero_p(ref_opt_real(o, "weight_decay")));
    ref_opt_free(o);
    const char *bad[] = {"beta=1"};
    ck_assert_int_eq(ref_opt_create(&o, "signsgd", 1, 4, LO_PREC, bad, 1), OPTREF_EINVAL);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("opt_signsgd");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_signsgd_against_exact_model);
    tcase_add_test(tc, test_signsgd_scale_invariance);
    tcase_add_test(tc, test_signsgd_options);
    suite_add_tcase(s, tc);
    return s;
}
