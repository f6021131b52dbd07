/* soap (spec/optimizers.md section 2, with the machinery of 1.2) against the
 * tests' own model (eigenbasis_model.h: plain MPFR at 1536 bits, products by
 * loops without fma, the refresh's QR by Gram-Schmidt), and the properties of
 * spec 3 that concern soap.
 *
 * Ratios: ||X_impl - X_model||_F / (scale 2^-256), scale = ||W|| + movement
 * for W (opt_harness.h) and ||X_model||_F for a state X. A step is a few
 * dozen roundings of 2^-257 in the products and the elementwise formulas; the
 * Adam direction M / (sqrt(V) + eps) passes a relative error of its inputs
 * through unchanged (it is homogeneous of degree 0 when eps is small); the
 * refresh's QR is column-scaling invariant and the factors here are far from
 * rank-deficient except where a column is exactly dependent. Threshold 64;
 * the measured worst ratios are printed.
 * Covered: the skipped first call (W, M, V unchanged), bias correction at
 * k = 1, 2, 3 (calls 2, 3, 4), correct_bias off, normalize_grads, decay after
 * the step with the uncorrected eta (weight_decay 0.1 makes a misplaced decay
 * visible), shampoo_beta != beta2, refresh every call (f = 1) and every second
 * call, max_precond_dim below a side (0 x 0 factor and basis), shapes 1x1,
 * 2x3, 3x2, 1x4, 4x1 and the 9x9 trace-het problem; spec 3: the reduction
 * to Adam when the basis is forced to I, invariance under column sign flips
 * of Q_L and Q_R, and invariance to positive scaling of the gradients (eps = 0). */
#include "eigenbasis_model.h"

#define W_THRESHOLD 64

static void run_soap_case(const ebm_opts *p, int shape, int calls, int forced, test_worst *w,
                          test_worst *ws)
{
    eb_stream st;
    ebs_init(&st, shape, 1000 + (uint64_t)shape);
    char buf[12][64];
    const char *opts[12];
    size_t nopts = ebm_option_strings(p, buf, opts);
    ebm_run run = {.state_w = ws};
    ebm_init(&run.s, EBM_SOAP, st.gs.m, st.gs.n, p);
    opt_model model = {&run, ebm_step, shape == 6 ? ebm_check_basis : ebm_check};
    ebm_run_against("soap", opts, nopts, &st, "0.05", calls, &model, forced, w);
    ebm_clear(&run.s);
    ebs_clear(&st);
}

START_TEST(test_soap_against_model)
{
    test_worst w = {"soap W vs 1536-bit model (4 calls)", 0, W_THRESHOLD};
    test_worst ws = {"soap states vs model", 0, W_THRESHOLD};
    ebm_opts cases[5];
    cases[0] = ebm_defaults(); /* f = 10: no refresh in 4 calls */
    cases[1] = ebm_defaults();
    cases[1].f = 1, cases[1].wd = "0.1", cases[1].shampoo_beta = "0.5";
    cases[2] = ebm_defaults();
    cases[2].f = 2, cases[2].correct_bias = 0, cases[2].normalize = 1, cases[2].eps = "1e-3";
    cases[2].beta1 = "0.9", cases[2].beta2 = "0.99";
    cases[3] = ebm_defaults();
    cases[3].f = 1, cases[3].max_dim = 2; /* 3x2, 4x1, 1x4: one side not rotated */
    cases[4] = ebm_defaults();
    cases[4].f = 1, cases[4].max_dim = 0; /* no side rotated: plain Adam in the original basis */
    for (int c = 0; c < 5; c++) {
        for (int shape = 0; shape < 6; shape++) /* free-running unless the basis is refreshed */
            run_soap_case(&cases[c], shape, 4, c == 1 || c == 2, &w, &ws);
        run_soap_case(&cases[c], 6, 4, 1, &w, &ws); /* rank-3 gradients, teacher-forced */
    }
    test_worst_report(&w);
    test_worst_report(&ws);
}
END_TEST

/* Spec 3: with the basis forced to I, call t + 1 of soap is step k = t of
 * Adam (bias-corrected, no decay) on G_2, G_3, ... with eps / sqrt(1 - beta2^k)
 * in place of eps, followed by W <- W - eta lambda W. The model below is
 * Adam's own formula (M_hat / (sqrt(V_hat) + eps_k)). */
static void adam_reference(mpmat_ptr W, mpmat_ptr M, mpmat_ptr V, mpmat_srcptr G,
                           mpfr_srcptr eta, unsigned long k, const char *b1s, const char *b2s,
                           const char *epss, const char *wds)
{
    mpfr_t b1, b2, eps, wd, c1, c2, epsk, mh, vh, t;
    mpfr_inits2(HI_PREC, b1, b2, eps, wd, c1, c2, epsk, mh, vh, t, (mpfr_ptr)0);
    set_b64(b1, b1s), set_b64(b2, b2s), set_b64(eps, epss), set_b64(wd, wds);
    mpfr_pow_ui(c1, b1, k, MPFR_RNDN), mpfr_ui_sub(c1, 1, c1, MPFR_RNDN);
    mpfr_pow_ui(c2, b2, k, MPFR_RNDN), mpfr_ui_sub(c2, 1, c2, MPFR_RNDN);
    mpfr_sqrt(epsk, c2, MPFR_RNDN), mpfr_div(epsk, eps, epsk, MPFR_RNDN);
    for (size_t i = 0; i < W->rows * W->cols; i++) {
        ebm_ema(M->e + i, b1, G->e + i);
        mpfr_sqr(t, G->e + i, MPFR_RNDN);
        ebm_ema(V->e + i, b2, t);
        mpfr_div(mh, M->e + i, c1, MPFR_RNDN);
        mpfr_div(vh, V->e + i, c2, MPFR_RNDN);
        mpfr_sqrt(vh, vh, MPFR_RNDN);
        mpfr_add(vh, vh, epsk, MPFR_RNDN);
        mpfr_div(t, mh, vh, MPFR_RNDN);
        mpfr_mul(t, t, eta, MPFR_RNDN);
        mpfr_sub(W->e + i, W->e + i, t, MPFR_RNDN);
    }
    mpfr_mul(t, eta, wd, MPFR_RNDN);
    for (size_t i = 0; i < W->rows * W->cols; i++) {
        mpfr_mul(mh, t, W->e + i, MPFR_RNDN);
        mpfr_sub(W->e + i, W->e + i, mh, MPFR_RNDN);
    }
    mpfr_clears(b1, b2, eps, wd, c1, c2, epsk, mh, vh, t, (mpfr_ptr)0);
}

/* Runs soap with the basis forced to I after the first call (overwritten;
 * precondition_frequency huge so that it is never refreshed), or, with
 * diagonal = 1, with diagonal gradients whose entries keep L and R diagonal
 * with strictly descending diagonals, so that the refresh at every call
 * (f = 1) keeps Q = I exactly. */
static void check_adam_reduction(eb_stream *st, int diagonal, test_worst *w)
{
    size_t m = st->gs.m, n = st->gs.n;
    const char *opts[] = {"beta1=0.9", "beta2=0.99", "eps=1e-3", "weight_decay=0.1",
                          diagonal ? "precondition_frequency=1"
                                   : "precondition_frequency=1000000000"};
    ref_opt *o;
    TEST_OK(ref_opt_create(&o, "soap", m, n, LO_PREC, opts, 5));
    mpmat_t W, G, Wm, M, V, R;
    TEST_OK(mpmat_init(W, m, n, LO_PREC));
    TEST_OK(mpmat_init(G, m, n, LO_PREC));
    TEST_OK(mpmat_init(Wm, m, n, HI_PREC));
    TEST_OK(mpmat_init(M, m, n, HI_PREC));
    TEST_OK(mpmat_init(V, m, n, HI_PREC));
    TEST_OK(mpmat_init(R, m, n, HI_PREC));
    mpfr_t eta, scale;
    mpfr_inits2(HI_PREC, eta, scale, (mpfr_ptr)0);
    set_b64(eta, "0.05");
    gs_initial(&st->gs, W);
    mpmat_set(Wm, W);
    for (unsigned long t = 1; t <= 5; t++) {
        ebs_next(st, G, W);
        if (diagonal)
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < n; j++) { /* G_ii in [4 - i, 4.5 - i) */
                    mpfr_ptr g = mpmat_entry(G, i, j);
                    if (i != j)
                        mpfr_set_zero(g, 1);
                    else
                        mpfr_div_2ui(g, g, 2, MPFR_RNDN), mpfr_add_ui(g, g, 4 - i, MPFR_RNDN);
                }
        TEST_OK(ref_opt_step(o, W, G, eta, NULL));
        if (t == 1) {
            ck_assert(mpmat_equal(W, Wm)); /* skipped */
            if (!diagonal) {
                mpmat_one(ref_opt_state(o, "Q_L"));
                mpmat_one(ref_opt_state(o, "Q_R"));
            }
            continue;
        }
        adam_reference(Wm, M, V, G, eta, t - 1, "0.9", "0.99", "1e-3", "0.1");
        TEST_OK(mpmat_sub(R, W, Wm));
        mpmat_norm_fro(scale, Wm);
        test_worst_add(w, test_ratio(R, scale, LO_PREC));
        if (diagonal) { /* the refreshed basis is still exactly I */
            mpmat_t I;
            TEST_OK(mpmat_init(I, m, m, LO_PREC));
            mpmat_one(I);
            ck_assert(mpmat_equal(ref_opt_state(o, "Q_L"), I));
            mpmat_clear(I);
        }
    }
    mpfr_clears(eta, scale, (mpfr_ptr)0);
    mpmat_clear(W), mpmat_clear(G), mpmat_clear(Wm), mpmat_clear(M), mpmat_clear(V);
    mpmat_clear(R);
    ref_opt_free(o);
}

START_TEST(test_soap_reduces_to_adam)
{
    test_worst w = {"soap with Q = I vs Adam (eps / sqrt(1 - beta2^k))", 0, W_THRESHOLD};
    eb_stream st;
    for (int shape = 0; shape < 6; shape++) {
        ebs_init(&st, shape, 2000 + (uint64_t)shape);
        check_adam_reduction(&st, 0, &w);
        ebs_clear(&st);
    }
    ebs_init(&st, 0, 2100); /* diagonal gradients: 1x1 and 3x3 */
    check_adam_reduction(&st, 1, &w);
    gs_init_random(&st.gs, 3, 3, 2101);
    check_adam_reduction(&st, 1, &w);
    test_worst_report(&w);
}
END_TEST

START_TEST(test_soap_sign_invariance)
{
    test_worst w = {"soap W under column flips of Q_L, Q_R", 0, 4};
    const char *opts[] = {"precondition_frequency=2"};
    for (int shape = 0; shape < 6; shape++) {
        eb_stream st;
        ebs_init(&st, shape, 3000 + (uint64_t)shape);
        ebm_check_sign_invariance("soap", opts, 1, &st, &w);
        ebs_clear(&st);
    }
    test_worst_report(&w);
}
END_TEST

/* Spec 3 with eps = 0: G and 4 G give the same W bit for bit (every operation
 * commutes with a power-of-two scaling); G and 3 G agree to rounding on the
 * random shapes (on trace-het the eigenbasis of L is conditioned like
 * ||L|| / gap, so only the exact scaling is compared there). */
START_TEST(test_soap_scale_invariance)
{
    test_worst w = {"soap (eps = 0) W for G and 3 G", 0, W_THRESHOLD};
    const char *opts[] = {"eps=0", "precondition_frequency=2"};
    for (int shape = 0; shape < 6; shape++)
        for (int exact = 0; exact < 2; exact++) {
            if (shape == 3 && !exact)
                continue;
            eb_stream st;
            ebs_init(&st, shape, 4000 + (uint64_t)shape);
            ebm_run_scaled("soap", opts, 2, &st, 5, exact ? 4 : 3, exact, &w);
            ebs_clear(&st);
        }
    test_worst_report(&w);
}
END_TEST

START_TEST(test_soap_options)
{
    ref_opt *o;
    const char *bad[] = {"beta1=1", "beta2=-0.1", "eps=-1", "lr=-1", "weight_decay=-0.1",
                         "precondition_frequency=0", "max_precond_dim=-1", "shampoo_beta=1",
                         "normalize_grads=maybe"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(ref_opt_create(&o, "soap", 2, 3, LO_PREC, &bad[i], 1) != OPTREF_OK,
                      "%s was accepted", bad[i]);
    const char *good[] = {"beta2=0.9"};
    TEST_OK(ref_opt_create(&o, "soap", 2, 3, LO_PREC, good, 1));
    ck_assert(mpfr_cmp_d(ref_opt_real(o, "shampoo_beta"), 0.9) == 0); /* default = beta2 */
    ck_assert(mpfr_cmp_d(ref_opt_real(o, "lr"), 3e-3) == 0);
    ck_assert(mpfr_cmp_d(ref_opt_real(o, "weight_decay"), 0.01) == 0);
    ck_assert_int_eq(ref_opt_int(o, "precondition_frequency"), 10);
    ck_assert_int_eq(ref_opt_int(o, "max_precond_dim"), 10000);
    ck_assert(ref_opt_bool(o, "correct_bias") && !ref_opt_bool(o, "normalize_grads"));
    ref_opt_free(o);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("opt_soap");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_soap_against_model);
    tcase_add_test(tc, test_soap_reduces_to_adam);
    tcase_add_test(tc, test_soap_sign_invariance);
    tcase_add_test(tc, test_soap_scale_invariance);
    tcase_add_test(tc, test_soap_options);
    suite_add_tcase(s, tc);
    return s;
}
