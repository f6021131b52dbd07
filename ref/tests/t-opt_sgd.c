/* sgd (spec/optimizers.md section 2) against an exact rational model.
 *
 * Every input is a binary64 number and every operation of sgd is rational,
 * so the model evaluates the spec's three steps in exact rationals (GMP mpq)
 * and the implementation at 256 bits must agree to a few roundings:
 * ratio = ||W_impl - W_exact||_F / ((||W|| + movement) 2^-256) < 16 (each
 * step adds at most about three relative roundings of 2^-257 per entry).
 * Covered: no momentum, momentum with the buffer initialised to G at t = 1,
 * dampening, Nesterov on and off, coupled decay; shapes 1x1, 2x3, 3x2 and
 * the 9x9 trace-het problem (gradient H W_t rounded to binary64). */
#include <stdlib.h>

#include "opt_harness.h"

typedef struct {
    size_t mn;
    mpq_t *W, *B;
    mpq_t mu, damp, lambda;
    int nesterov;
} sgd_model;

static void sgd_model_init(sgd_model *s, size_t mn, const char *mu, const char *damp,
                           const char *lambda, int nesterov)
{
    mpfr_t x;
    mpfr_init2(x, 53);
    s->mn = mn;
    s->W = malloc(mn * sizeof *s->W);
    s->B = malloc(mn * sizeof *s->B);
    for (size_t k = 0; k < mn; k++)
        mpq_init(s->W[k]), mpq_init(s->B[k]);
    mpq_inits(s->mu, s->damp, s->lambda, NULL);
    set_b64(x, mu), mpfr_get_q(s->mu, x);
    set_b64(x, damp), mpfr_get_q(s->damp, x);
    set_b64(x, lambda), mpfr_get_q(s->lambda, x);
    s->nesterov = nesterov;
    mpfr_clear(x);
}

static void sgd_model_clear(sgd_model *s)
{
    for (size_t k = 0; k < s->mn; k++)
        mpq_clear(s->W[k]), mpq_clear(s->B[k]);
    free(s->W), free(s->B);
    mpq_clears(s->mu, s->damp, s->lambda, NULL);
}

/* The spec's steps 1-3 in exact rationals. */
static void sgd_model_step(void *model, mpmat_ptr Wm, mpmat_srcptr G, mpfr_srcptr eta,
                           unsigned long t)
{
    sgd_model *s = model;
    mpq_t g, d, e, tmp;
    mpq_inits(g, d, e, tmp, NULL);
    mpfr_get_q(e, eta);
    for (size_t k = 0; k < s->mn; k++) {
        if (t == 1)
            mpfr_get_q(s->W[k], Wm->e + k);
        mpfr_get_q(g, G->e + k);
        mpq_mul(tmp, s->lambda, s->W[k]); /* 1. G + lambda W */
        mpq_add(g, g, tmp);
        if (mpq_sgn(s->mu) != 0) { /* 2. */
            if (t == 1) {
                mpq_set(s->B[k], g);
            } else {
                mpq_mul(s->B[k], s->B[k], s->mu);
                mpq_set_ui(tmp, 1, 1);
                mpq_sub(tmp, tmp, s->damp);
                mpq_mul(tmp, tmp, g);
                mpq_add(s->B[k], s->B[k], tmp);
            }
            if (s->nesterov) {
                mpq_mul(d, s->mu, s->B[k]);
                mpq_add(d, d, g);
            } else {
                mpq_set(d, s->B[k]);
            }
        } else {
            mpq_set(d, g);
        }
        mpq_mul(d, d, e); /* 3. W - eta D */
        mpq_sub(s->W[k], s->W[k], d);
        mpfr_set_q(Wm->e + k, s->W[k], MPFR_RNDN);
    }
    mpq_clears(g, d, e, tmp, NULL);
}

typedef struct {
    const char *mu, *damp, *lambda;
    int nesterov;
} sgd_case;

START_TEST(test_sgd_against_exact_model)
{
    static const sgd_case cases[] = {
        {"0", "0", "0", 0},        {"0.9", "0", "0", 0},   {"0.9", "0", "0", 1},
        {"0.9", "0.5", "0", 0},    {"0.9", "0", "0.01", 1}, {"0", "0", "0.1", 0},
        {"0.5", "0.25", "0.05", 0},
    };
    test_worst w = {"sgd vs exact rationals (3 steps)", 0, 16};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int shape = 0; shape < 4; shape++) {
            grad_stream gs;
            gs_init_shape(&gs, shape, 100 + c);
            char o1[64], o2[64], o3[64], o4[64];
            snprintf(o1, sizeof o1, "momentum=%s", cases[c].mu);
            snprintf(o2, sizeof o2, "dampening=%s", cases[c].damp);
            snprintf(o3, sizeof o3, "weight_decay=%s", cases[c].lambda);
            snprintf(o4, sizeof o4, "nesterov=%s", cases[c].nesterov ? "true" : "false");
            const char *opts[] = {"lr=0.1", o1, o2, o3, o4};
            sgd_model s;
            sgd_model_init(&s, gs.m * gs.n, cases[c].mu, cases[c].damp, cases[c].lambda,
                           cases[c].nesterov);
            opt_model model = {&s, sgd_model_step, NULL};
            ref_opt *o = run_against_model("sgd", opts, 5, &gs, shape == 3 ? "1e-4" : "0.1", 3,
                                           &model, &w, NULL);
            ref_opt_free(o);
            sgd_model_clear(&s);
            gs_clear(&gs);
        }
    }
    test_worst_report(&w);
}
END_TEST

/* t = 1: B <- G + lambda W exactly, not (1 - dampening) G (torch's
 * first-step rule). With binary64 inputs G + lambda W is exact at 256 bits,
 * so B must equal the exact value bit for bit. */
START_TEST(test_sgd_buffer_first_step)
{
    const char *opts[] = {"lr=0.1", "momentum=0.9", "dampening=0.5", "weight_decay=0.01"};
    ref_opt *o;
    TEST_OK(ref_opt_create(&o, "sgd", 2, 3, LO_PREC, opts, 4));
    test_rng rng = {7};
    mpmat_t W, G, E;
    TEST_OK(mpmat_init(W, 2, 3, LO_PREC));
    TEST_OK(mpmat_init(G, 2, 3, LO_PREC));
    TEST_OK(mpmat_init(E, 2, 3, 1024));
    test_fill_uniform(W, &rng);
    test_fill_uniform(G, &rng);
    mpfr_t lambda, eta, tmp;
    mpfr_inits2(1024, lambda, eta, tmp, (mpfr_ptr)0);
    set_b64(lambda, "0.01");
    set_b64(eta, "0.1");
    for (size_t k = 0; k < 6; k++) {
        mpfr_mul(tmp, lambda, W->e + k, MPFR_RNDN);
        mpfr_add(E->e + k, G->e + k, tmp, MPFR_RNDN);
    }
    TEST_OK(ref_opt_step(o, W, G, eta, NULL));
    ck_assert_msg(mpmat_equal(ref_opt_state(o, "B"), E), "B after t = 1 is not G + lambda W");
    mpfr_clears(lambda, eta, tmp, (mpfr_ptr)0);
    mpmat_clear(W), mpmat_clear(G), mpmat_clear(E);
    ref_opt_free(o);
}
END_TEST

START_TEST(test_sgd_options_rejected)
{
    ref_opt *o;
    const char *nd[] = {"lr=0.1", "momentum=0.9", "dampening=0.1", "nesterov=true"};
    ck_assert_int_eq(ref_opt_create(&o, "sgd", 2, 2, LO_PREC, nd, 4), OPTREF_EINVAL);
    ck_assert_int_eq(ref_opt_create(&o, "sgd", 2, 2, LO_PREC, NULL, 0), OPTREF_EINVAL); /* no lr */
    const char *mu1[] = {"lr=0.1", "momentum=1"};
    ck_assert_int_eq(ref_opt_create(&o, "sgd", 2, 2, LO_PREC, mu1, 2), OPTREF_EINVAL);
    const char *neg[] = {"lr=0.1", "weight_decay=-1"};
    ck_assert_int_eq(ref_opt_create(&o, "sgd", 2, 2, LO_PREC, neg, 2), OPTREF_EINVAL);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("opt_sgd");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_sgd_against_exact_model);
    tcase_add_test(tc, test_sgd_buffer_first_step);
    tcase_add_test(tc, test_sgd_options_rejected);
    suite_add_tcase(s, tc);
    return s;
}
