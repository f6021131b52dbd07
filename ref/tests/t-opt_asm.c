/* asm (spec/optimizers.md section 2) against a plain re-evaluation of the
 * spec's formulas at 1536 bits, and its properties (spec 3: s in [0, 1]).
 *
 * The model computes the singular values independently of the
 * implementation's one-sided Jacobi SVD: kappa = sqrt(lambda_max / lambda_min)
 * from mpmat_eigh (cyclic Jacobi) of the smaller Gram matrix of its own W at
 * 1536 bits. ratio = ||W_impl - W_model||_F / ((||W|| + movement) 2^-256) < 16,
 * and s, kappa to the same ratio against their size (s and kappa depend on W
 * with condition kappa, at most a few hundred here; the measured ratios are
 * below 1). Covered: the check on steps with (t - 1) mod K = 0 (K = 1, 2, 50:
 * s is held between checks), sigma of W after this step's decay, eta s on
 * Adam's bias-corrected direction, 1-D parameters (s = 1); shapes 1x1, 2x3,
 * 3x2, 9x9 trace-het. */
#include <stdlib.h>

#include "opt_harness.h"

typedef struct {
    mpmat_t M, V;
    mpfr_t beta1, beta2, eps, lambda, tau, s, kappa;
    unsigned long K;
    test_worst *ws; /* s and kappa */
} asm_model;

/* kappa = sigma_1 / sigma_min of W from the eigenvalues of its Gram matrix. */
static void model_kappa(mpfr_ptr kappa, mpmat_srcptr W)
{
    size_t m = W->rows, n = W->cols, k = m < n ? m : n;
    mpmat_t C, w;
    TEST_OK(mpmat_init(C, k, k, HI_PREC));
    TEST_OK(mpmat_init(w, k, 1, HI_PREC));
    TEST_OK(m >= n ? mpmat_mul_tn(C, W, W) : mpmat_mul_nt(C, W, W));
    TEST_OK(mpmat_eigh(w, NULL, C));
    mpfr_div(kappa, w->e, w->e + (k - 1), MPFR_RNDN);
    mpfr_sqrt(kappa, kappa, MPFR_RNDN);
    mpmat_clear(C), mpmat_clear(w);
}

static void model_step(void *model, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                       unsigned long t)
{
    asm_model *s = model;
    size_t mn = W->rows * W->cols;
    mpfr_t a, b, bc1, bc2, decay;
    mpfr_inits2(HI_PREC, a, b, bc1, bc2, decay, (mpfr_ptr)0);
    mpfr_mul(decay, eta, s->lambda, MPFR_RNDN); /* 1. */
    mpfr_ui_sub(decay, 1, decay, MPFR_RNDN);
    for (size_t k = 0; k < mn; k++)
        mpfr_mul(W->e + k, W->e + k, decay, MPFR_RNDN);
    if ((t - 1) % s->K == 0) { /* 3. */
        if (W->rows == 1 || W->cols == 1) {
            mpfr_set_ui(s->s, 1, MPFR_RNDN);
            mpfr_set_ui(s->kappa, 1, MPFR_RNDN);
        } else {
            model_kappa(s->kappa, W);
            mpfr_div(s->s, s->tau, s->kappa, MPFR_RNDN);
            if (mpfr_cmp_ui(s->s, 1) > 0)
                mpfr_set_ui(s->s, 1, MPFR_RNDN);
        }
    }
    mpfr_pow_ui(bc1, s->beta1, t, MPFR_RNDN);
    mpfr_ui_sub(bc1, 1, bc1, MPFR_RNDN);
    mpfr_pow_ui(bc2, s->beta2, t, MPFR_RNDN);
    mpfr_ui_sub(bc2, 1, bc2, MPFR_RNDN);
    for (size_t k = 0; k < mn; k++) { /* 2. and 4. */
        mpfr_ptr mk = s->M->e + k, vk = s->V->e + k;
        test_adam_moments(mk, vk, G->e + k, s->beta1, s->beta2, a);
        mpfr_div(a, vk, bc2, MPFR_RNDN);
        mpfr_sqrt(a, a, MPFR_RNDN);
        mpfr_add(a, a, s->eps, MPFR_RNDN);
        mpfr_div(b, mk, bc1, MPFR_RNDN);
        mpfr_mul(b, b, s->s, MPFR_RNDN);
        mpfr_mul(b, b, eta, MPFR_RNDN);
        mpfr_div(b, b, a, MPFR_RNDN);
        mpfr_sub(W->e + k, W->e + k, b, MPFR_RNDN);
    }
    mpfr_clears(a, b, bc1, bc2, decay, (mpfr_ptr)0);
}

static void check_scalar(test_worst *w, const ref_opt *o, const char *name, mpfr_srcptr x)
{
    mpmat_t X;
    TEST_OK(mpmat_init(X, 1, 1, HI_PREC));
    mpfr_set(X->e, x, MPFR_RNDN);
    check_state(w, o, name, X, NULL);
    mpmat_clear(X);
}

static void model_check(void *model, const ref_opt *o, unsigned long t, test_worst *w)
{
    (void)t, (void)w;
    asm_model *s = model;
    check_scalar(s->ws, o, "s", s->s);
    check_scalar(s->ws, o, "kappa", s->kappa);
}

START_TEST(test_asm_against_model)
{
    static const struct { const char *tau, *K, *lambda; } cases[] = {
        {"8.0", "50", "0"}, {"1.5", "2", "0.1"}, {"1.2", "1", "0"}, {"3", "2", "0.5"},
    };
    test_worst w = {"asm vs 1536-bit model (4 steps)", 0, 16};
    test_worst ws = {"asm s, kappa vs the model's", 0, 16};
    int below_one = 0;
    for (size_t c = 0; c < 4; c++) {
        for (int shape = 0; shape < 4; shape++) {
            grad_stream gs;
            gs_init_shape(&gs, shape, 1700 + c);
            char o1[64], o2[64], o3[64];
            snprintf(o1, sizeof o1, "tau=%s", cases[c].tau);
            snprintf(o2, sizeof o2, "check_interval=%s", cases[c].K);
            snprintf(o3, sizeof o3, "weight_decay=%s", cases[c].lambda);
            const char *opts[] = {o1, o2, o3};
            asm_model s;
            TEST_OK(mpmat_init(s.M, gs.m, gs.n, HI_PREC));
            TEST_OK(mpmat_init(s.V, gs.m, gs.n, HI_PREC));
            mpfr_inits2(HI_PREC, s.beta1, s.beta2, s.eps, s.lambda, s.tau, s.s, s.kappa,
                        (mpfr_ptr)0);
            set_b64(s.beta1, "0.9"), set_b64(s.beta2, "0.98"), set_b64(s.eps, "1e-8");
            set_b64(s.lambda, cases[c].lambda), set_b64(s.tau, cases[c].tau);
            s.K = strtoul(cases[c].K, NULL, 10);
            s.ws = &ws;
            opt_model model = {&s, model_step, model_check};
            ref_opt_free(run_against_model("asm", opts, 3, &gs, "0.05", 4, &model, &w, NULL));
            below_one += mpfr_cmp_ui(s.s, 1) < 0;
            mpmat_clear(s.M), mpmat_clear(s.V);
            mpfr_clears(s.beta1, s.beta2, s.eps, s.lambda, s.tau, s.s, s.kappa, (mpfr_ptr)0);
            gs_clear(&gs);
        }
    }
    test_worst_report(&w);
    test_worst_report(&ws);
    ck_assert(below_one >= 6); /* s < 1 was exercised */
}
END_TEST

/* Spec 3: s in [0, 1] for random W of many shapes and a range of tau, and
 * s = 0, kappa = +Inf for singular W (a zero W, a repeated row: the SVD's
 * tiny sigma_min <= 2^(-p/2) sigma_1 counts as zero); then W moves only by
 * the decay. */
START_TEST(test_asm_s_in_unit_interval)
{
    static const char *taus[] = {"1e-3", "1", "8", "1e6"};
    test_rng rng = {1800};
    for (int trial = 0; trial < 24; trial++) {
        size_t m = 1 + test_rng_below(&rng, 5), n = 1 + test_rng_below(&rng, 5);
        char o1[64];
        snprintf(o1, sizeof o1, "tau=%s", taus[trial % 4]);
        const char *opts[] = {o1, "check_interval=1"};
        ref_opt *o;
        TEST_OK(ref_opt_create(&o, "asm", m, n, LO_PREC, opts, 2));
        mpmat_t W, G;
        TEST_OK(mpmat_init(W, m, n, LO_PREC));
        TEST_OK(mpmat_init(G, m, n, LO_PREC));
        test_fill_uniform(W, &rng);
        mpfr_t eta;
        mpfr_init2(eta, 53);
        set_b64(eta, "0.1");
        for (int t = 0; t < 3; t++) {
            test_fill_uniform(G, &rng);
            TEST_OK(ref_opt_step(o, W, G, eta, NULL));
            mpfr_srcptr s = ref_opt_state(o, "s")->e;
            ck_assert(mpfr_sgn(s) >= 0 && mpfr_cmp_ui(s, 1) <= 0);
            if (m == 1 || n == 1)
                ck_assert(mpfr_cmp_ui(s, 1) == 0);
        }
        mpfr_clear(eta);
        mpmat_clear(W), mpmat_clear(G);
        ref_opt_free(o);
    }
    for (int kind = 0; kind < 2; kind++) { /* singular W */
        ref_opt *o;
        TEST_OK(ref_opt_create(&o, "asm", 3, 4, LO_PREC, NULL, 0));
        mpmat_t W, W0, G;
        TEST_OK(mpmat_init(W, 3, 4, LO_PREC));
        TEST_OK(mpmat_init(W0, 3, 4, LO_PREC));
        TEST_OK(mpmat_init(G, 3, 4, LO_PREC));
        test_fill_uniform(W, &rng);
        test_fill_uniform(G, &rng);
        if (kind == 0)
            mpmat_zero(W);
        else
            for (size_t j = 0; j < 4; j++) /* row 2 = row 0 */
                mpfr_set(mpmat_entry(W, 2, j), mpmat_entry(W, 0, j), MPFR_RNDN);
        mpmat_set(W0, W);
        mpfr_t eta;
        mpfr_init2(eta, 53);
        set_b64(eta, "0.1");
        TEST_OK(ref_opt_step(o, W, G, eta, NULL));
        ck_assert(mpfr_zero_p(ref_opt_state(o, "s")->e));
        ck_assert(mpfr_inf_p(ref_opt_state(o, "kappa")->e));
        ck_assert(mpmat_equal(W, W0)); /* weight_decay 0 and s = 0: no move */
        mpfr_clear(eta);
        mpmat_clear(W), mpmat_clear(W0), mpmat_clear(G);
        ref_opt_free(o);
    }
}
END_TEST

/* s = 1 (a 1-D parameter, or tau so large that tau / kappa > 1) makes asm
 * adamw with the same beta1, beta2, eps, weight_decay, bit for bit: eta s is
 * eta itself and the rest is the shared Adam code. */
START_TEST(test_asm_s1_is_adamw)
{
    const char *common[] = {"beta1=0.9", "beta2=0.98", "eps=1e-8", "weight_decay=0.02",
                            "tau=1e300", "check_interval=1"};
    static const size_t shapes[][2] = {{1, 5}, {4, 1}, {3, 3}};
    for (int sh = 0; sh < 3; sh++) {
        size_t m = shapes[sh][0], n = shapes[sh][1];
        ref_opt *a, *b;
        TEST_OK(ref_opt_create(&a, "asm", m, n, LO_PREC, common, sh == 2 ? 6 : 4));
        TEST_OK(ref_opt_create(&b, "adamw", m, n, LO_PREC, common, 4));
        mpmat_t W1, W2, G;
        TEST_OK(mpmat_init(W1, m, n, LO_PREC));
        TEST_OK(mpmat_init(W2, m, n, LO_PREC));
        TEST_OK(mpmat_init(G, m, n, LO_PREC));
        test_rng rng = {1900 + sh};
        test_fill_uniform(W1, &rng);
        mpmat_set(W2, W1);
        mpfr_t eta;
        mpfr_init2(eta, 53);
        set_b64(eta, "0.01");
        for (int t = 0; t < 5; t++) {
            test_fill_uniform(G, &rng);
            TEST_OK(ref_opt_step(a, W1, G, eta, NULL));
            TEST_OK(ref_opt_step(b, W2, G, eta, NULL));
            ck_assert(mpmat_equal(W1, W2));
        }
        mpfr_clear(eta);
        mpmat_clear(W1), mpmat_clear(W2), mpmat_clear(G);
        ref_opt_free(a), ref_opt_free(b);
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("opt_asm");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_asm_against_model);
    tcase_add_test(tc, test_asm_s_in_unit_interval);
    tcase_add_test(tc, test_asm_s1_is_adamw);
    suite_add_tcase(s, tc);
    return s;
}
