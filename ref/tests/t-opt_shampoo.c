/* shampoo (spec/optimizers.md section 2) against the test's own evaluation:
 *  - L, R: the sums (beta = 0) or EMAs of G G^T, G^T G, re-evaluated
 *    independently at 1536 bits (plain loops, no fma); ratio against
 *    ||L||_F 2^-256;
 *  - PL, PR: recomputed exactly when (t - 1) mod update_freq = 0 (else
 *    unchanged, bit for bit): the model takes the implementation's L (just
 *    checked), its eigendecomposition by mpmat_eigh at 1536 bits (tested in
 *    t-mpmat_eigh.c), and forms V diag(1 / sqrt(sqrt(max(w, 0) + eps))) V^T
 *    by plain loops. Scale ||PL||_F max(1, kappa 2^-32), kappa =
 *    (w_max + eps) / (w_min + eps): the library's eigendecomposition carries
 *    32 guard bits, and (L + eps)^(-1/4) magnifies an error of L by up to kappa;
 *  - W <- W - eta PL G PR with the implementation's PL, PR, free-running at
 *    1536 bits; ratio against (||W|| + movement) 2^-256.
 * Threshold 16. Shapes 1x1, 2x3, 3x2, 1x4, 4x1 (random dyadics: L is exact at
 * 256 bits) and the 9x9 trace-het problem with the gauss oracle; beta 0 and
 * 0.9; update_freq 1 and 2; eps 1e-12 and 1e-4; an indefinite L (set in the
 * state) has its negative eigenvalue clipped to 0. */
#include "eigenbasis_model.h"

#define THRESHOLD 16

/* P = V diag((max(w, 0) + eps)^(-1/4)) V^T from L (any precision) at HI_PREC;
 * returns kappa = (w_max + eps) / (w_min + eps) for the clipped w. */
static long double model_inv_root(mpmat_ptr P, mpmat_srcptr L, mpfr_srcptr eps)
{
    size_t n = L->rows;
    mpmat_t w, V, Vf;
    TEST_OK(mpmat_init(w, n, 1, HI_PREC));
    TEST_OK(mpmat_init(V, n, n, HI_PREC));
    TEST_OK(mpmat_init(Vf, n, n, HI_PREC));
    TEST_OK(mpmat_eigh(w, V, L));
    mpfr_t f, lo, hi;
    mpfr_inits2(HI_PREC, f, lo, hi, (mpfr_ptr)0);
    for (size_t k = 0; k < n; k++) {
        mpfr_ptr x = w->e + k;
        if (mpfr_sgn(x) < 0)
            mpfr_set_zero(x, 1);
        mpfr_add(x, x, eps, MPFR_RNDN);
        if (k == 0)
            mpfr_set(hi, x, MPFR_RNDN);
        mpfr_set(lo, x, MPFR_RNDN);
        mpfr_sqrt(f, x, MPFR_RNDN);
        mpfr_sqrt(f, f, MPFR_RNDN);
        mpfr_ui_div(f, 1, f, MPFR_RNDN);
        for (size_t i = 0; i < n; i++)
            mpfr_mul(mpmat_entry(Vf, i, k), mpmat_entry(V, i, k), f, MPFR_RNDN);
    }
    model_mul_op(P, Vf, 0, V, 1);
    mpfr_div(f, hi, lo, MPFR_RNDN);
    long double kappa = mpfr_get_ld(f, MPFR_RNDN);
    mpfr_clears(f, lo, hi, (mpfr_ptr)0);
    mpmat_clear(w), mpmat_clear(V), mpmat_clear(Vf);
    return kappa;
}

/* F <- F + G G^T (beta = 0) or beta F + (1 - beta) G G^T; right: G^T G. */
static void model_accumulate(mpmat_ptr F, mpmat_srcptr G, mpfr_srcptr beta, int right)
{
    mpmat_t GG;
    TEST_OK(mpmat_init(GG, F->rows, F->cols, HI_PREC));
    model_mul_op(GG, G, right, G, !right);
    mpfr_t t;
    mpfr_init2(t, HI_PREC);
    for (size_t i = 0; i < F->rows * F->cols; i++) {
        if (mpfr_zero_p(beta)) {
            mpfr_add(F->e + i, F->e + i, GG->e + i, MPFR_RNDN);
        } else {
            mpfr_ui_sub(t, 1, beta, MPFR_RNDN);
            mpfr_mul(t, t, GG->e + i, MPFR_RNDN);
            mpfr_mul(F->e + i, F->e + i, beta, MPFR_RNDN);
            mpfr_add(F->e + i, F->e + i, t, MPFR_RNDN);
        }
    }
    mpfr_clear(t);
    mpmat_clear(GG);
}

typedef struct {
    test_worst w, wl, wp;
} shampoo_worst;

static void run_shampoo(int shape, const char *beta_s, long f, const char *eps_s, int calls,
                        shampoo_worst *sw)
{
    eb_stream st;
    ebs_init(&st, shape, 9000 + (uint64_t)shape);
    size_t m = st.gs.m, n = st.gs.n;
    char o1[64], o2[64], o3[64];
    snprintf(o1, sizeof o1, "beta=%s", beta_s);
    snprintf(o2, sizeof o2, "update_freq=%ld", f);
    snprintf(o3, sizeof o3, "eps=%s", eps_s);
    const char *opts[] = {"lr=0.01", o1, o2, o3};
    ref_opt *o;
    TEST_OK(ref_opt_create(&o, "shampoo", m, n, LO_PREC, opts, 4));
    mpmat_t W, G, Wm, Wprev, Lm, Rm, P, PLold, PRold, T, D;
    TEST_OK(mpmat_init(W, m, n, LO_PREC));
    TEST_OK(mpmat_init(G, m, n, LO_PREC));
    TEST_OK(mpmat_init(Wm, m, n, HI_PREC));
    TEST_OK(mpmat_init(Wprev, m, n, HI_PREC));
    TEST_OK(mpmat_init(Lm, m, m, HI_PREC));
    TEST_OK(mpmat_init(Rm, n, n, HI_PREC));
    TEST_OK(mpmat_init(PLold, m, m, LO_PREC));
    TEST_OK(mpmat_init(PRold, n, n, LO_PREC));
    TEST_OK(mpmat_init(T, m, n, HI_PREC));
    TEST_OK(mpmat_init(D, m, n, HI_PREC));
    mpfr_t eta, beta, eps, scale, moved, d;
    mpfr_inits2(HI_PREC, eta, beta, eps, scale, moved, d, (mpfr_ptr)0);
    set_b64(eta, "0.01"), set_b64(beta, beta_s), set_b64(eps, eps_s);
    mpfr_set_zero(moved, 1);
    gs_initial(&st.gs, W);
    mpmat_set(Wm, W);
    for (int t = 1; t <= calls; t++) {
        ebs_next(&st, G, W);
        TEST_OK(ref_opt_step(o, W, G, eta, NULL));
        /* 1. L, R */
        model_accumulate(Lm, G, beta, 0);
        model_accumulate(Rm, G, beta, 1);
        mpmat_norm_fro(scale, Lm);
        test_worst_add(&sw->wl, model_ratio(ref_opt_state(o, "L"), Lm, scale));
        mpmat_norm_fro(scale, Rm);
        test_worst_add(&sw->wl, model_ratio(ref_opt_state(o, "R"), Rm, scale));
        /* 2. PL, PR */
        for (int side = 0; side < 2; side++) {
            mpmat_srcptr Pi = ref_opt_state(o, side ? "PR" : "PL");
            mpmat_ptr old = side ? PRold : PLold;
            if ((t - 1) % f != 0) {
                ck_assert_msg(mpmat_equal(Pi, old), "P%c changed at t = %d (update_freq %ld)",
                              side ? 'R' : 'L', t, f);
                continue;
            }
            size_t k = side ? n : m;
            TEST_OK(mpmat_init(P, k, k, HI_PREC));
            long double kappa = model_inv_root(P, ref_opt_state(o, side ? "R" : "L"), eps);
            mpmat_norm_fro(scale, P);
            kappa = kappa / 4294967296.0L;
            mpfr_mul_d(scale, scale, kappa > 1 ? (double)kappa : 1.0, MPFR_RNDN);
            test_worst_add(&sw->wp, model_ratio(Pi, P, scale));
            mpmat_clear(P);
            mpmat_set(old, Pi);
        }
        /* 3. W <- W - eta PL G PR, the implementation's PL, PR */
        mpmat_set(Wprev, Wm);
        model_mul_op(T, ref_opt_state(o, "PL"), 0, G, 0);
        model_mul_op(D, T, 0, ref_opt_state(o, "PR"), 0);
        for (size_t i = 0; i < m * n; i++) {
            mpfr_mul(d, eta, D->e + i, MPFR_RNDN);
            mpfr_sub(Wm->e + i, Wm->e + i, d, MPFR_RNDN);
        }
        TEST_OK(mpmat_sub(T, Wm, Wprev));
        mpmat_norm_fro(d, T);
        mpfr_add(moved, moved, d, MPFR_RNDN);
        mpmat_norm_fro(scale, Wm);
        mpfr_add(scale, scale, moved, MPFR_RNDN);
        test_worst_add(&sw->w, model_ratio(W, Wm, scale));
    }
    mpfr_clears(eta, beta, eps, scale, moved, d, (mpfr_ptr)0);
    mpmat_clear(W), mpmat_clear(G), mpmat_clear(Wm), mpmat_clear(Wprev), mpmat_clear(Lm);
    mpmat_clear(Rm), mpmat_clear(PLold), mpmat_clear(PRold), mpmat_clear(T), mpmat_clear(D);
    ref_opt_free(o);
    ebs_clear(&st);
}

START_TEST(test_shampoo_against_model)
{
    shampoo_worst sw = {{"shampoo W vs 1536-bit model (4 steps)", 0, THRESHOLD},
                        {"shampoo L, R vs sums / EMAs", 0, THRESHOLD},
                        {"shampoo PL, PR vs inverse fourth roots", 0, THRESHOLD}};
    static const int shapes[] = {0, 1, 2, 4, 5, 3};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        run_shampoo(shapes[s], "0", 1, "1e-12", 4, &sw);
        run_shampoo(shapes[s], "0.9", 1, "1e-12", 4, &sw);
        run_shampoo(shapes[s], "0", 2, "1e-12", 5, &sw);
        run_shampoo(shapes[s], "0.9", 2, "1e-4", 5, &sw);
    }
    test_worst_report(&sw.w);
    test_worst_report(&sw.wl);
    test_worst_report(&sw.wp);
}
END_TEST

/* An indefinite L (set in the state) with G = 0: PL = diag(eps^(-1/4),
 * (2 + eps)^(-1/4)) -- the eigenvalue -1 is clipped to 0 -- and W is
 * unchanged (D = PL 0 PR = 0). */
START_TEST(test_shampoo_clips_negative_eigenvalues)
{
    const char *opts[] = {"lr=1", "eps=1e-4"};
    ref_opt *o;
    TEST_OK(ref_opt_create(&o, "shampoo", 2, 1, LO_PREC, opts, 2));
    mpmat_ptr L = ref_opt_state(o, "L");
    mpfr_set_si(mpmat_entry(L, 0, 0), -1, MPFR_RNDN);
    mpfr_set_si(mpmat_entry(L, 1, 1), 2, MPFR_RNDN);
    mpmat_t W, W0, G, E;
    TEST_OK(mpmat_init(W, 2, 1, LO_PREC));
    TEST_OK(mpmat_init(W0, 2, 1, LO_PREC));
    TEST_OK(mpmat_init(G, 2, 1, LO_PREC));
    TEST_OK(mpmat_init(E, 2, 2, HI_PREC));
    mpfr_set_ui(W->e, 3, MPFR_RNDN);
    mpmat_set(W0, W);
    mpfr_t eta, x, eps;
    mpfr_inits2(HI_PREC, eta, x, eps, (mpfr_ptr)0);
    mpfr_set_ui(eta, 1, MPFR_RNDN);
    set_b64(eps, "1e-4");
    TEST_OK(ref_opt_step(o, W, G, eta, NULL));
    ck_assert(mpmat_equal(W, W0));
    /* eigenvalues descending: 2 + eps first, so the (1, 1) entry */
    mpfr_add_ui(x, eps, 2, MPFR_RNDN), mpfr_rootn_ui(x, x, 4, MPFR_RNDN);
    mpfr_ui_div(mpmat_entry(E, 1, 1), 1, x, MPFR_RNDN);
    mpfr_rootn_ui(x, eps, 4, MPFR_RNDN);
    mpfr_ui_div(mpmat_entry(E, 0, 0), 1, x, MPFR_RNDN);
    mpfr_set_ui(x, 1, MPFR_RNDN);
    mpmat_norm_fro(x, E);
    ck_assert(model_ratio(ref_opt_state(o, "PL"), E, x) < 4);
    mpfr_clears(eta, x, eps, (mpfr_ptr)0);
    mpmat_clear(W), mpmat_clear(W0), mpmat_clear(G), mpmat_clear(E);
    ref_opt_free(o);
}
END_TEST

START_TEST(test_shampoo_options)
{
    ref_opt *o;
    ck_assert(ref_opt_create(&o, "shampoo", 2, 3, LO_PREC, NULL, 0) != OPTREF_OK); /* lr */
    const char *bad[][2] = {{"lr=0.1", "beta=1"}, {"lr=0.1", "eps=-1"}, {"lr=0.1", "update_freq=0"},
                            {"lr=-1", "beta=0"}};
    for (size_t i = 0; i < 4; i++)
        ck_assert(ref_opt_create(&o, "shampoo", 2, 3, LO_PREC, bad[i], 2) != OPTREF_OK);
    const char *good[] = {"lr=0.1"};
    TEST_OK(ref_opt_create(&o, "shampoo", 2, 3, LO_PREC, good, 1));
    ck_assert(mpfr_cmp_d(ref_opt_real(o, "eps"), 1e-12) == 0);
    ck_assert(mpfr_zero_p(ref_opt_real(o, "beta")));
    ck_assert_int_eq(ref_opt_int(o, "update_freq"), 1);
    ck_assert_uint_eq(ref_opt_state(o, "L")->rows, 2);
    ck_assert_uint_eq(ref_opt_state(o, "PR")->cols, 3);
    ref_opt_free(o);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("opt_shampoo");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_shampoo_against_model);
    tcase_add_test(tc, test_shampoo_clips_negative_eigenvalues);
    tcase_add_test(tc, test_shampoo_options);
    suite_add_tcase(s, tc);
    return s;
}
