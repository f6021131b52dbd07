/* adagrad (spec/optimizers.md section 2) against a plain re-evaluation of the
 * spec's formulas at 1536 bits (separate mpfr operations, no fma).
 *
 * ratio = ||W_impl - W_model||_F / ((||W|| + movement) 2^-256) < 16 (about
 * six roundings of 2^-257 per entry and step; G / sqrt(S) is at most 1).
 * Covered: the accumulator starts at 0 (initial_accumulator_value 0) and
 * sums G.G with no lr decay; eps outside the sqrt (eps = 1e-2 makes it
 * visible); coupled decay G + lambda W before the accumulator; shapes 1x1,
 * 2x3, 3x2 and 9x9 trace-het. Without decay and with binary64 gradients the
 * accumulator is exact at 256 bits: S must equal sum_t G_t.G_t bit for bit. */
#include "opt_harness.h"

typedef struct {
    mpmat_t S;
    mpfr_t eps, lambda;
} adagrad_model;

static void model_step(void *model, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                       unsigned long t)
{
    (void)t;
    adagrad_model *s = model;
    mpfr_t g, a;
    mpfr_inits2(HI_PREC, g, a, (mpfr_ptr)0);
    for (size_t k = 0; k < W->rows * W->cols; k++) {
        mpfr_ptr w = W->e + k, acc = s->S->e + k;
        mpfr_mul(a, s->lambda, w, MPFR_RNDN); /* 1. */
        mpfr_add(g, G->e + k, a, MPFR_RNDN);
        mpfr_mul(a, g, g, MPFR_RNDN); /* 2. */
        mpfr_add(acc, acc, a, MPFR_RNDN);
        mpfr_sqrt(a, acc, MPFR_RNDN); /* 3. */
        mpfr_add(a, a, s->eps, MPFR_RNDN);
        mpfr_div(a, g, a, MPFR_RNDN);
        mpfr_mul(a, a, eta, MPFR_RNDN);
        mpfr_sub(w, w, a, MPFR_RNDN);
    }
    mpfr_clears(g, a, (mpfr_ptr)0);
}

/* Without decay S is exact at 256 bits: compare bit for bit. */
static void model_check(void *model, const ref_opt *o, unsigned long t, test_worst *w)
{
    (void)t, (void)w;
    adagrad_model *s = model;
    if (mpfr_zero_p(s->lambda))
        ck_assert_msg(mpmat_equal(ref_opt_state(o, "S"), s->S), "S is not sum G.G exactly");
}

START_TEST(test_adagrad_against_model)
{
    static const char *cases[][2] = {{"1e-10", "0"}, {"1e-2", "0"}, {"1e-10", "0.1"},
                                     {"0", "0.01"}};
    test_worst w = {"adagrad vs 1536-bit model (3 steps)", 0, 16};
    for (size_t c = 0; c < 4; c++) {
        for (int shape = 0; shape < 4; shape++) {
            grad_stream gs;
            gs_init_shape(&gs, shape, 700 + c);
            char o1[64], o2[64];
            snprintf(o1, sizeof o1, "eps=%s", cases[c][0]);
            snprintf(o2, sizeof o2, "weight_decay=%s", cases[c][1]);
            const char *opts[] = {o1, o2};
            adagrad_model s;
            TEST_OK(mpmat_init(s.S, gs.m, gs.n, HI_PREC));
            mpfr_inits2(HI_PREC, s.eps, s.lambda, (mpfr_ptr)0);
            set_b64(s.eps, cases[c][0]), set_b64(s.lambda, cases[c][1]);
            opt_model model = {&s, model_step, model_check};
            ref_opt_free(run_against_model("adagrad", opts, 2, &gs, "0.1", 3, &model, &w, NULL));
            mpmat_clear(s.S);
            mpfr_clears(s.eps, s.lambda, (mpfr_ptr)0);
            gs_clear(&gs);
        }
    }
    test_worst_report(&w);
}
END_TEST

/* eps = 0 and a gradient entry that is 0 from the start: S = 0 and 0 / 0 is
 * taken as 0 (the source gives NaN): that entry stays put, the step succeeds. */
START_TEST(test_adagrad_zero_gradient_eps0)
{
    const char *opts[] = {"eps=0"};
    ref_opt *o;
    TEST_OK(ref_opt_create(&o, "adagrad", 1, 2, LO_PREC, opts, 1));
    mpmat_t W, G;
    TEST_OK(mpmat_init(W, 1, 2, LO_PREC));
    TEST_OK(mpmat_init(G, 1, 2, LO_PREC));
    mpfr_set_ui(W->e, 3, MPFR_RNDN), mpfr_set_ui(W->e + 1, 5, MPFR_RNDN);
    mpfr_set_ui(G->e + 1, 2, MPFR_RNDN);
    mpfr_t eta;
    mpfr_init2(eta, 53);
    set_b64(eta, "0.5");
    TEST_OK(ref_opt_step(o, W, G, eta, NULL));
    ck_assert(mpfr_cmp_ui(W->e, 3) == 0);
    ck_assert(mpfr_cmp_d(W->e + 1, 4.5) == 0); /* 5 - 0.5 * 2 / 2 */
    mpfr_clear(eta);
    mpmat_clear(W), mpmat_clear(G);
    ref_opt_free(o);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("opt_adagrad");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_adagrad_against_model);
    tcase_add_test(tc, test_adagrad_zero_gradient_eps0);
    suite_add_tcase(s, tc);
    return s;
}
