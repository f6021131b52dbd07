/* adamuon (spec/optimizers.md section 2, ref/optim/adamuon.c).
 *
 * - Defaults and option validation.
 * - First three steps on 1x1, 2x3, 3x2 and the 9x9 trace-het problem against
 *   the tests' own model at 1536 bits (opt_harness.h, msign_model.h): the
 *   sum-form momentum beta1 M + G, msign(sign(M)) by ns-deva (default),
 *   ns-keller, polar and the bf16 model (with O.O in bf16), V and the
 *   normalisation, the RMS scale 0.2 sqrt(m n) / ||O||_F and decoupled decay.
 *   M and V are compared too.
 * - Sum form: M after G_1 = G_2 = 1 is exactly beta1 + 1.
 * - O = 0 (a zero gradient at t = 1, eps = 1e-8 or 0): no update, only the
 *   decay; V stays 0.
 * - Positive scaling of the gradient stream (spec 3): msign sees only
 *   sign(M), so W and V are bit for bit unchanged for c = 3 and c = 2^-7
 *   (with the default Newton-Schulz eps) and M scales. */
#include "testlib.h"

#include <string.h>

#include "msign_model.h"
#include "opt_harness.h"

/* Ratios relative to ||W|| + the distance moved (opt_harness.h), and to
 * ||M||, ||V|| for the state: msign's error (t-msign.c: below 20 u relative
 * to ||O||) reaches V through O.O and W through the normalisation and the
 * scale, all of relative condition about 1. Observed worst ratios: W below
 * 1, V about 20; thresholds 64. A misread formula gives ratios above 2^100. */
static test_worst w_w = {"adamuon W vs model", 0, 64};
static test_worst w_bf = {"adamuon bf16 W vs model", 0, 64};
static test_worst w_state = {"adamuon M, V vs model", 0, 64};

typedef struct {
    mpmat_t M, V;
    const char *ns, *beta1, *beta2, *eps, *lambda;
    int bf16;
    size_t m, n;
} adamuon_model;

static void adamuon_model_step(void *ctx, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                               unsigned long t)
{
    adamuon_model *md = ctx;
    (void)t;
    size_t N = md->m * md->n;
    mpmat_t S, O;
    TEST_OK(mpmat_init(S, md->m, md->n, HI_PREC));
    TEST_OK(mpmat_init(O, md->m, md->n, HI_PREC));
    mpfr_t b1, b2, eps, lam, x, y, nrm;
    mpfr_inits2(HI_PREC, b1, b2, eps, lam, x, y, nrm, (mpfr_ptr)0);
    model_b64(b1, md->beta1), model_b64(b2, md->beta2), model_b64(eps, md->eps);
    model_b64(lam, md->lambda);
    for (size_t k = 0; k < N; k++) {
        mpfr_mul(x, b1, md->M->e + k, MPFR_RNDN); /* M = beta1 M + G */
        mpfr_add(md->M->e + k, x, G->e + k, MPFR_RNDN);
        mpfr_set_si(S->e + k, mpfr_sgn(md->M->e + k), MPFR_RNDN);
    }
    if (strcmp(md->ns, "polar") == 0)
        model_polar(O, S);
    else if (md->bf16)
        model_msign_bf16(O, S, md->ns, 5, NULL);
    else
        model_msign(O, S, md->ns, 5, NULL);
    mpfr_set_zero(nrm, 1);
    for (size_t k = 0; k < N; k++) {
        mpfr_mul(y, O->e + k, O->e + k, MPFR_RNDN);
        if (md->bf16) { /* (O_t * O_t) on bf16 tensors */
            mpfr_t y8;
            mpfr_init2(y8, 8);
            model_bf(y8, y);
            mpfr_set(y, y8, MPFR_RNDN);
            mpfr_clear(y8);
        }
        mpfr_ui_sub(x, 1, b2, MPFR_RNDN); /* V = beta2 V + (1 - beta2) O.O */
        mpfr_mul(y, x, y, MPFR_RNDN);
        mpfr_mul(x, b2, md->V->e + k, MPFR_RNDN);
        mpfr_add(md->V->e + k, x, y, MPFR_RNDN);
        mpfr_sqrt(x, md->V->e + k, MPFR_RNDN);
        mpfr_add(x, x, eps, MPFR_RNDN);
        if (mpfr_zero_p(O->e + k))
            mpfr_set_zero(O->e + k, 1);
        else
            mpfr_div(O->e + k, O->e + k, x, MPFR_RNDN);
        mpfr_mul(x, O->e + k, O->e + k, MPFR_RNDN);
        mpfr_add(nrm, nrm, x, MPFR_RNDN);
    }
    mpfr_sqrt(nrm, nrm, MPFR_RNDN);
    mpfr_mul(x, eta, lam, MPFR_RNDN);
    mpfr_ui_sub(x, 1, x, MPFR_RNDN);
    for (size_t k = 0; k < N; k++)
        mpfr_mul(W->e + k, W->e + k, x, MPFR_RNDN);
    if (!mpfr_zero_p(nrm)) { /* eta 0.2 sqrt(m n) / ||O|| */
        mpfr_set_ui(y, (unsigned long)N, MPFR_RNDN);
        mpfr_sqrt(y, y, MPFR_RNDN);
        model_b64(x, "0.2");
        mpfr_mul(y, y, x, MPFR_RNDN);
        mpfr_div(y, y, nrm, MPFR_RNDN);
        mpfr_mul(y, y, eta, MPFR_RNDN);
        for (size_t k = 0; k < N; k++) {
            mpfr_mul(x, y, O->e + k, MPFR_RNDN);
            mpfr_sub(W->e + k, W->e + k, x, MPFR_RNDN);
        }
    }
    mpfr_clears(b1, b2, eps, lam, x, y, nrm, (mpfr_ptr)0);
    mpmat_clear(S), mpmat_clear(O);
}

static void adamuon_model_check(void *ctx, const ref_opt *o, unsigned long t, test_worst *w)
{
    adamuon_model *md = ctx;
    (void)t, (void)w;
    check_state(&w_state, o, "M", md->M, NULL);
    check_state(&w_state, o, "V", md->V, NULL);
}

typedef struct {
    const char *opts[3];
    size_t nopts;
    const char *ns, *beta1, *eps, *lambda;
    int bf16;
} config;

static const config CONFIGS[] = {
    {{NULL}, 0, "ns-deva", "0.95", "1e-8", "0", 0},
    {{"weight_decay=0.1", "beta1=0.9"}, 2, "ns-deva", "0.9", "1e-8", "0.1", 0},
    {{"ns=ns-keller", "eps=1e-3"}, 2, "ns-keller", "0.95", "1e-3", "0", 0},
    {{"ns=polar", "eps=0"}, 2, "polar", "0.95", "0", "0", 0},
    {{"ns_dtype=bf16", "weight_decay=0.1"}, 2, "ns-deva", "0.95", "1e-8", "0.1", 1},
    {{"ns_dtype=bf16", "ns=ns-torch"}, 2, "ns-torch", "0.95", "1e-8", "0", 1},
};

START_TEST(test_first_steps_against_model)
{
    for (size_t ci = 0; ci < sizeof CONFIGS / sizeof CONFIGS[0]; ci++) {
        const config *c = &CONFIGS[ci];
        for (int shape = 0; shape < 4; shape++) {
            grad_stream gs;
            gs_init_shape(&gs, shape, 60 + (uint64_t)shape);
            adamuon_model md = {.ns = c->ns, .beta1 = c->beta1, .beta2 = "0.95", .eps = c->eps,
                                .lambda = c->lambda, .bf16 = c->bf16, .m = gs.m, .n = gs.n};
            TEST_OK(mpmat_init(md.M, gs.m, gs.n, HI_PREC));
            TEST_OK(mpmat_init(md.V, gs.m, gs.n, HI_PREC));
            opt_model model = {&md, adamuon_model_step, adamuon_model_check};
            ref_opt *o = run_against_model("adamuon", c->opts, c->nopts, &gs, "0.02", 3, &model,
                                           c->bf16 ? &w_bf : &w_w, NULL);
            ref_opt_free(o);
            mpmat_clear(md.M), mpmat_clear(md.V);
            gs_clear(&gs);
        }
    }
    test_worst_report(&w_w);
    test_worst_report(&w_bf);
    test_worst_report(&w_state);
}
END_TEST

START_TEST(test_defaults_and_options)
{
    ref_opt *o;
    TEST_OK(ref_opt_create(&o, "adamuon", 2, 3, 64, NULL, 0));
    ck_assert_str_eq(ref_opt_text(o, "lr"), "0.02");
    ck_assert_str_eq(ref_opt_text(o, "beta1"), "0.95");
    ck_assert_str_eq(ref_opt_text(o, "beta2"), "0.95");
    ck_assert_str_eq(ref_opt_text(o, "eps"), "1e-8");
    ck_assert_str_eq(ref_opt_text(o, "weight_decay"), "0");
    ck_assert_str_eq(ref_opt_text(o, "ns"), "ns-deva");
    ck_assert_str_eq(ref_opt_text(o, "ns_dtype"), "exact");
    ck_assert_int_eq(ref_opt_int(o, "ns_steps"), 5);
    ck_assert_int_eq(o->info->nstate, 2);
    ck_assert(ref_opt_state(o, "M") != NULL && ref_opt_state(o, "V") != NULL);
    ref_opt_free(o);
    const char *bad[] = {"beta1=1", "beta2=1", "beta2=-0.5", "eps=-1", "lr=-0.1",
                         "weight_decay=-1", "ns=svd", "ns_steps=0", "ns_dtype=fp16",
                         "momentum=0.9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *opts[] = {bad[i]};
        o = NULL;
        ck_assert_msg(ref_opt_create(&o, "adamuon", 2, 3, 64, opts, 1) != OPTREF_OK,
                      "adamuon %s was accepted", bad[i]);
        ck_assert(o == NULL);
    }
    const char *polar_bf16[] = {"ns=polar", "ns_dtype=bf16"};
    ck_assert_int_eq(ref_opt_create(&o, "adamuon", 2, 3, 64, polar_bf16, 2), OPTREF_EINVAL);
}
END_TEST

START_TEST(test_sum_form)
{
    ref_opt *o;
    TEST_OK(ref_opt_create(&o, "adamuon", 1, 1, LO_PREC, NULL, 0));
    mpmat_t W, G;
    TEST_OK(mpmat_init(W, 1, 1, LO_PREC));
    TEST_OK(mpmat_init(G, 1, 1, LO_PREC));
    mpfr_t eta, e;
    mpfr_inits2(LO_PREC, eta, e, (mpfr_ptr)0);
    set_b64(eta, "0.02");
    mpfr_set_ui(G->e, 1, MPFR_RNDN);
    TEST_OK(ref_opt_step(o, W, G, eta, NULL));
    ck_assert(mpfr_cmp_ui(ref_opt_state(o, "M")->e, 1) == 0); /* not 1 - beta1 */
    TEST_OK(ref_opt_step(o, W, G, eta, NULL));
    set_b64(e, "0.95");
    mpfr_add_ui(e, e, 1, MPFR_RNDN); /* exact */
    ck_assert(mpfr_equal_p(ref_opt_state(o, "M")->e, e));
    /* 1 x 1: O > 0 and s O = 0.2 sqrt(1) O / |O| = 0.2, so W = -2 eta 0.2 */
    mpfr_mul_ui(e, eta, 2, MPFR_RNDN);
    mpfr_mul_d(e, e, 0.2, MPFR_RNDN);
    mpfr_add(e, e, W->e, MPFR_RNDN);
    ck_assert(mpfr_zero_p(e) || mpfr_get_exp(e) < -240);
    mpfr_clears(eta, e, (mpfr_ptr)0);
    mpmat_clear(W), mpmat_clear(G);
    ref_opt_free(o);
}
END_TEST

START_TEST(test_zero_update)
{
    const char *eps_opts[][2] = {{"weight_decay=0.5", "eps=1e-8"}, {"weight_decay=0.5", "eps=0"}};
    for (int v = 0; v < 2; v++) {
        ref_opt *o;
        TEST_OK(ref_opt_create(&o, "adamuon", 3, 2, LO_PREC, eps_opts[v], 2));
        mpmat_t W, G, E;
        TEST_OK(mpmat_init(W, 3, 2, LO_PREC));
        TEST_OK(mpmat_init(G, 3, 2, LO_PREC));
        TEST_OK(mpmat_init(E, 3, 2, LO_PREC));
        test_rng rng = {31};
        test_fill_uniform(W, &rng);
        mpfr_t eta, f;
        mpfr_inits2(LO_PREC, eta, f, (mpfr_ptr)0);
        set_b64(eta, "0.02");
        mpfr_div_2ui(f, eta, 1, MPFR_RNDN);
        mpfr_ui_sub(f, 1, f, MPFR_RNDN);
        TEST_OK(mpmat_scale(E, W, f));
        TEST_OK(ref_opt_step(o, W, G, eta, NULL)); /* G = 0: M = 0, O = 0 */
        ck_assert(mpmat_equal(W, E));
        for (size_t k = 0; k < 6; k++)
            ck_assert(mpfr_zero_p(ref_opt_state(o, "V")->e + k));
        /* a partly zero gradient: zero columns of sign(M) are fine too */
        mpfr_set_ui(G->e, 1, MPFR_RNDN);
        TEST_OK(ref_opt_step(o, W, G, eta, NULL));
        ck_assert(mpmat_is_finite(W));
        mpfr_clears(eta, f, (mpfr_ptr)0);
        mpmat_clear(W), mpmat_clear(G), mpmat_clear(E);
        ref_opt_free(o);
    }
}
END_TEST

/* Three steps from a fixed W0 on the stream c G_t (c = num 2^e2); M and V
 * receive the final state. */
static void run_scaled(mpmat_ptr W, mpmat_ptr M, mpmat_ptr V, const char *const *opts,
                       size_t nopts, unsigned long num, long e2)
{
    ref_opt *o = run_scaled_stream(W, "adamuon", opts, nopts, 4321, num, e2);
    mpmat_set(M, ref_opt_state(o, "M"));
    mpmat_set(V, ref_opt_state(o, "V"));
    ref_opt_free(o);
}

START_TEST(test_scale_invariance)
{
    const size_t shapes[][2] = {{3, 2}, {4, 4}, {1, 5}};
    const char *variants[][1] = {{"ns=ns-deva"}, {"ns=ns-keller"}, {"ns_dtype=bf16"}};
    for (int sh = 0; sh < 3; sh++)
        for (int v = 0; v < 3; v++) {
            size_t m = shapes[sh][0], n = shapes[sh][1];
            mpmat_t W1, W2, M1, M2, V1, V2;
            TEST_OK(mpmat_init(W1, m, n, LO_PREC));
            TEST_OK(mpmat_init(W2, m, n, LO_PREC));
            TEST_OK(mpmat_init(M1, m, n, LO_PREC));
            TEST_OK(mpmat_init(M2, m, n, LO_PREC));
            TEST_OK(mpmat_init(V1, m, n, LO_PREC));
            TEST_OK(mpmat_init(V2, m, n, LO_PREC));
            run_scaled(W1, M1, V1, variants[v], 1, 1, 0);
            const struct { unsigned long num; long e2; } c[] = {{3, 0}, {1, -7}};
            for (int q = 0; q < 2; q++) {
                run_scaled(W2, M2, V2, variants[v], 1, c[q].num, c[q].e2);
                ck_assert_msg(mpmat_equal(W1, W2), "adamuon %s: W changed under scaling",
                              variants[v][0]);
                ck_assert(mpmat_equal(V1, V2));
                for (size_t k = 0; k < m * n; k++)
                    ck_assert_int_eq(mpfr_sgn(M1->e + k), mpfr_sgn(M2->e + k));
            }
            mpmat_clear(W1), mpmat_clear(W2), mpmat_clear(M1), mpmat_clear(M2);
            mpmat_clear(V1), mpmat_clear(V2);
        }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("opt_adamuon");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_defaults_and_options);
    tcase_add_test(tc, test_first_steps_against_model);
    tcase_add_test(tc, test_sum_form);
    tcase_add_test(tc, test_zero_update);
    tcase_add_test(tc, test_scale_invariance);
    suite_add_tcase(s, tc);
    return s;
}
