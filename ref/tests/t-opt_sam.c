/* sam (spec/optimizers.md section 2 sam; davda54/sam sam.py).
 *
 * The implementation runs at 256 bits through the driver (ref_opt_step) with
 * a quadratic oracle G(X) = H X + B defined here. Each trajectory is
 * re-evaluated independently at HP = 1024 bits, written straight from the
 * spec: scale = rho / (N + 1e-12) first (the source's association, not the
 * implementation's), plain mpfr_add loops for the products, and torch's SGD
 * for the base. The comparison ratio is ||W_impl - W_hp||_F / (||W_hp||_F 2^-256)
 * (for the oracle's point W + E likewise, and for the base's momentum buffer
 * B with ||B||_F + ||G2||_F as the scale, since mu B + G2 may cancel); it
 * stays below THRESH = 16:
 * each step adds a few roundings of relative size 2^-256 in the oracle, the
 * norm, E, W + E and the base step, and the maps are contractions or mild
 * expansions over three steps (eta ||H|| <= 0.6). */
#include "hp_compare.h"

#include <string.h>

#include "optref/problem.h"
#include "optref/ref_optim.h"

#define THRESH 16.0L

/* ---- the quadratic oracle G(X) = H X + B ---- */

typedef struct {
    mpmat_srcptr H, B; /* H: m x m symmetric, B: m x n */
    int calls;
    int bad;           /* 1: return a NaN entry; 2: fail */
    mpmat_t lastX;     /* the point of the last call, at the impl's precision */
} quad_oracle;

static optref_status quad_grad(void *ctx, mpmat_ptr G, mpmat_srcptr X)
{
    quad_oracle *q = ctx;
    q->calls++;
    mpmat_set(q->lastX, X);
    if (q->bad == 2)
        return optref_fail(OPTREF_EINVAL, "test oracle: asked to fail");
    optref_status st = mpmat_mul(G, q->H, X);
    if (st == OPTREF_OK)
        st = mpmat_add(G, G, q->B);
    if (q->bad == 1)
        mpfr_set_nan(G->e);
    return st;
}

/* ---- the independent evaluation at HP ---- */

typedef struct {
    const char *rho, *lambda, *mu; /* decimal text; mu "0": no momentum */
    int nesterov, adaptive;
} sam_cfg;

/* E = (rho / (N + 1e-12)) (W.W.)G with N = ||(W.)G||_F, each sum a plain loop. */
static void hp_ascent(mpmat_ptr E, mpmat_srcptr W, mpmat_srcptr G, const sam_cfg *c)
{
    size_t mn = W->rows * W->cols;
    mpfr_t acc, x, scale, tiny;
    mpfr_inits2(HP, acc, x, scale, tiny, (mpfr_ptr)0);
    mpfr_set_zero(acc, 1);
    for (size_t k = 0; k < mn; k++) {
        mpfr_set(x, G->e + k, MPFR_RNDN);
        if (c->adaptive)
            mpfr_mul(x, x, W->e + k, MPFR_RNDN);
        mpfr_sqr(x, x, MPFR_RNDN);
        mpfr_add(acc, acc, x, MPFR_RNDN);
    }
    mpfr_sqrt(acc, acc, MPFR_RNDN);
    b64(tiny, "1e-12");
    mpfr_add(acc, acc, tiny, MPFR_RNDN);
    b64(scale, c->rho);
    mpfr_div(scale, scale, acc, MPFR_RNDN);
    for (size_t k = 0; k < mn; k++) {
        mpfr_mul(E->e + k, G->e + k, scale, MPFR_RNDN);
        if (c->adaptive) {
            mpfr_sqr(x, W->e + k, MPFR_RNDN);
            mpfr_mul(E->e + k, E->e + k, x, MPFR_RNDN);
        }
    }
    mpfr_clears(acc, x, scale, tiny, (mpfr_ptr)0);
}

/* G = H X + B by plain loops. */
static void hp_grad(mpmat_ptr G, mpmat_srcptr H, mpmat_srcptr B, mpmat_srcptr X)
{
    mpfr_t acc, x;
    mpfr_inits2(HP, acc, x, (mpfr_ptr)0);
    for (size_t i = 0; i < X->rows; i++)
        for (size_t j = 0; j < X->cols; j++) {
            mpfr_set(acc, mpmat_entry(B, i, j), MPFR_RNDN);
            for (size_t k = 0; k < X->rows; k++) {
                mpfr_mul(x, mpmat_entry(H, i, k), mpmat_entry(X, k, j), MPFR_RNDN);
                mpfr_add(acc, acc, x, MPFR_RNDN);
            }
            mpfr_set(mpmat_entry(G, i, j), acc, MPFR_RNDN);
        }
    mpfr_clears(acc, x, (mpfr_ptr)0);
}

/* torch.optim.SGD with dampening 0: coupled decay, buffer = g at t = 1. */
static void hp_sgd(mpmat_ptr W, mpmat_ptr Bm, mpmat_srcptr G, mpfr_srcptr eta, uint64_t t,
                   const sam_cfg *c)
{
    mpfr_t lam, mu, g, d;
    mpfr_inits2(HP, lam, mu, g, d, (mpfr_ptr)0);
    b64(lam, c->lambda);
    b64(mu, c->mu);
    for (size_t k = 0; k < W->rows * W->cols; k++) {
        mpfr_mul(g, lam, W->e + k, MPFR_RNDN);
        mpfr_add(g, g, G->e + k, MPFR_RNDN);
        if (mpfr_zero_p(mu)) {
            mpfr_set(d, g, MPFR_RNDN);
        } else {
            if (t == 1)
                mpfr_set(Bm->e + k, g, MPFR_RNDN);
            else
                mpfr_mul(Bm->e + k, Bm->e + k, mu, MPFR_RNDN),
                    mpfr_add(Bm->e + k, Bm->e + k, g, MPFR_RNDN);
            if (c->nesterov)
                mpfr_mul(d, mu, Bm->e + k, MPFR_RNDN), mpfr_add(d, d, g, MPFR_RNDN);
            else
                mpfr_set(d, Bm->e + k, MPFR_RNDN);
        }
        mpfr_mul(d, d, eta, MPFR_RNDN);
        mpfr_sub(W->e + k, W->e + k, d, MPFR_RNDN);
    }
    mpfr_clears(lam, mu, g, d, (mpfr_ptr)0);
}

/* ---- helpers ---- */

static ref_opt *make_sam(size_t m, size_t n, const sam_cfg *c, const char *extra)
{
    char o1[64], o2[64], o3[64], o4[64], o5[64];
    snprintf(o1, sizeof o1, "rho=%s", c->rho);
    snprintf(o2, sizeof o2, "adaptive=%s", c->adaptive ? "true" : "false");
    snprintf(o3, sizeof o3, "base.momentum=%s", c->mu);
    snprintf(o4, sizeof o4, "base.nesterov=%s", c->nesterov ? "true" : "false");
    snprintf(o5, sizeof o5, "base.weight_decay=%s", c->lambda);
    const char *opts[7] = {o1, o2, o3, o4, o5, "base.lr=0.1", extra};
    ref_opt *o = NULL;
    TEST_OK(ref_opt_create(&o, "sam", m, n, PREC, opts, extra ? 7 : 6));
    return o;
}

/* Runs `steps` steps of sam from W0 with oracle (Hi, Bi at PREC; Hh, Bh at HP)
 * and the HP re-evaluation, checking W, the point of the oracle call and B. */
static void run_case(test_worst *w, mpmat_srcptr W0, mpmat_srcptr Hi, mpmat_srcptr Bi,
                     mpmat_srcptr Hh, mpmat_srcptr Bh, const sam_cfg *c, const char *eta_text,
                     int steps)
{
    size_t m = W0->rows, n = W0->cols;
    ref_opt *o = make_sam(m, n, c, NULL);
    quad_oracle q = {.H = Hi, .B = Bi};
    ref_oracle orc = {.ctx = &q, .gradient_at = quad_grad};
    mpmat_t W, G, Wh, Gh, Eh, Xh, Bmh;
    mpfr_t eta, etah;
    mpfr_init2(eta, PREC);
    mpfr_init2(etah, HP);
    b64(eta, eta_text);
    b64(etah, eta_text);
    TEST_OK(mpmat_init(q.lastX, m, n, PREC));
    TEST_OK(mpmat_init(W, m, n, PREC));
    TEST_OK(mpmat_init(G, m, n, PREC));
    TEST_OK(mpmat_init(Wh, m, n, HP));
    TEST_OK(mpmat_init(Gh, m, n, HP));
    TEST_OK(mpmat_init(Eh, m, n, HP));
    TEST_OK(mpmat_init(Xh, m, n, HP));
    TEST_OK(mpmat_init(Bmh, m, n, HP));
    mpmat_set(W, W0);
    mpmat_set(Wh, W0);
    for (int t = 1; t <= steps; t++) {
        /* implementation: G at the current W, then one sam step */
        TEST_OK(quad_grad(&q, G, W));
        q.calls = 0;
        TEST_OK(ref_opt_step(o, W, G, eta, &orc));
        ck_assert_int_eq(q.calls, 1);
        ck_assert_int_eq(o->t, (uint64_t)t);
        ck_assert_int_eq(o->base->t, (uint64_t)t);
        /* independent: G, E, X = W + E, G2, base step from the original W */
        hp_grad(Gh, Hh, Bh, Wh);
        hp_ascent(Eh, Wh, Gh, c);
        TEST_OK(mpmat_add(Xh, Wh, Eh));
        test_worst_add(w, diff_ratio(q.lastX, Xh, NULL)); /* the oracle saw W + E */
        hp_grad(Gh, Hh, Bh, Xh);
        hp_sgd(Wh, Bmh, Gh, etah, (uint64_t)t, c);
        test_worst_add(w, diff_ratio(W, Wh, NULL));
        if (strcmp(c->mu, "0") != 0)
            test_worst_add(w, diff_ratio(ref_opt_state(o->base, "B"), Bmh, Gh));
    }
    mpfr_clears(eta, etah, (mpfr_ptr)0);
    mpmat_clear(q.lastX), mpmat_clear(W), mpmat_clear(G), mpmat_clear(Wh), mpmat_clear(Gh);
    mpmat_clear(Eh), mpmat_clear(Xh), mpmat_clear(Bmh);
    ref_opt_free(o);
}

static const sam_cfg cfgs[] = {
    {"0.05", "0", "0", 0, 0},        /* defaults, plain sgd base */
    {"0.05", "0", "0.9", 0, 0},      /* heavy ball */
    {"0.05", "0", "0.9", 1, 0},      /* nesterov */
    {"0.05", "0.01", "0.9", 0, 0},   /* coupled decay in the base */
    {"0.05", "0", "0.9", 0, 1},      /* adaptive */
    {"0.5", "0.01", "0.9", 1, 1},    /* adaptive, larger rho, decay, nesterov */
};
#define NCFG (sizeof cfgs / sizeof cfgs[0])

/* A random symmetric m x m H with a shifted diagonal and a random B, 53-bit. */
static void random_quadratic(mpmat_ptr H, mpmat_ptr B, test_rng *r)
{
    test_fill_uniform(H, r);
    for (size_t i = 0; i < H->rows; i++) {
        for (size_t j = 0; j < i; j++)
            mpfr_set(mpmat_entry(H, i, j), mpmat_entry(H, j, i), MPFR_RNDN);
        mpfr_add_ui(mpmat_entry(H, i, i), mpmat_entry(H, i, i), 2, MPFR_RNDN);
    }
    test_fill_uniform(B, r);
}

START_TEST(test_first_steps_small)
{
    static test_worst w = {"sam small shapes vs 1024-bit", 0, THRESH};
    const size_t shapes[][2] = {{1, 1}, {2, 3}, {3, 2}, {1, 5}, {4, 1}};
    test_rng r = {11};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t m = shapes[s][0], n = shapes[s][1];
        mpmat_t H, B, W0;
        TEST_OK(mpmat_init(H, m, m, 53));
        TEST_OK(mpmat_init(B, m, n, 53));
        TEST_OK(mpmat_init(W0, m, n, 53));
        random_quadratic(H, B, &r);
        test_fill_uniform(W0, &r);
        for (size_t c = 0; c < NCFG; c++)
            run_case(&w, W0, H, B, H, B, &cfgs[c], "0.1", 3);
        mpmat_clear(H), mpmat_clear(B), mpmat_clear(W0);
    }
    test_worst_report(&w);
}
END_TEST

START_TEST(test_first_steps_trace_het)
{
    static test_worst w = {"sam 9x9 trace-het vs 1024-bit", 0, THRESH};
    problem Pi, Ph;
    TEST_OK(problem_create(&Pi, "trace-het", 1234, PREC, NULL));
    TEST_OK(problem_create(&Ph, "trace-het", 1234, HP, NULL));
    for (size_t c = 0; c < NCFG; c++)
        run_case(&w, Pi.X0, Pi.H, Pi.B, Ph.H, Ph.B, &cfgs[c], "1.2e-4", 3);
    problem_clear(&Pi);
    problem_clear(&Ph);
    test_worst_report(&w);
}
END_TEST

/* Hand-worked 2 x 1 case: H = I, B = [1; -1], W = [1; 1], so G = [2; 0],
 * N = ||G||_F = ||W . G||_F = 2 and E = [2 / (2 + 1e-12); 0] for rho = 1,
 * adaptive or not (W . W = 1). The oracle must be asked at W + E, and with
 * eta = 1/2 the sgd base gives W1 = [1 - (X_0 + 1)/2; 1] from the ORIGINAL W. */
START_TEST(test_hand_worked)
{
    mpmat_t H, Bc, W, G;
    TEST_OK(mpmat_init(H, 2, 2, 53));
    TEST_OK(mpmat_init(Bc, 2, 1, 53));
    mpmat_one(H);
    TEST_OK(mpmat_init(W, 2, 1, PREC));
    TEST_OK(mpmat_init(G, 2, 1, PREC));
    mpfr_set_si(Bc->e, 1, MPFR_RNDN);
    mpfr_set_si(Bc->e + 1, -1, MPFR_RNDN);
    mpfr_set_ui(W->e, 1, MPFR_RNDN);
    mpfr_set_ui(W->e + 1, 1, MPFR_RNDN);
    quad_oracle q = {.H = H, .B = Bc};
    TEST_OK(mpmat_init(q.lastX, 2, 1, PREC));
    ref_oracle orc = {.ctx = &q, .gradient_at = quad_grad};
    for (int adaptive = 0; adaptive <= 1; adaptive++) {
        sam_cfg c = {"1", "0", "0", 0, adaptive};
        ref_opt *o = make_sam(2, 1, &c, NULL);
        mpmat_t W1;
        TEST_OK(mpmat_init(W1, 2, 1, PREC));
        mpmat_set(W1, W);
        TEST_OK(quad_grad(&q, G, W1));
        mpfr_t eta, e, x;
        mpfr_inits2(PREC, eta, e, x, (mpfr_ptr)0);
        mpfr_set_d(eta, 0.5, MPFR_RNDN);
        TEST_OK(ref_opt_step(o, W1, G, eta, &orc));
        /* E = [2 / (2 + 1e-12), 0] either way (W = 1): one rounding of a quotient */
        b64(e, "1e-12");
        mpfr_add_ui(e, e, 2, MPFR_RNDN);
        mpfr_ui_div(e, 2, e, MPFR_RNDN);
        mpfr_add_ui(x, e, 1, MPFR_RNDN);
        ck_assert(mpfr_equal_p(q.lastX->e, x));
        ck_assert(mpfr_equal_p(q.lastX->e + 1, W->e + 1));
        /* G2 = X + B = [X_0 + 1; 0] (one rounding); W1 = W - G2 / 2 (one rounding) */
        mpfr_add_ui(x, x, 1, MPFR_RNDN);
        mpfr_mul(x, x, eta, MPFR_RNDN);
        mpfr_ui_sub(x, 1, x, MPFR_RNDN);
        ck_assert(mpfr_equal_p(W1->e, x));
        ck_assert(mpfr_equal_p(W1->e + 1, W->e + 1));
        mpfr_clears(eta, e, x, (mpfr_ptr)0);
        mpmat_clear(W1);
        ref_opt_free(o);
    }
    mpmat_clear(H), mpmat_clear(Bc), mpmat_clear(W), mpmat_clear(G);
    mpmat_clear(q.lastX);
}
END_TEST

/* G = 0: N = 0, E = rho 0 / 1e-12 = 0, the oracle is asked at W exactly.
 * Adaptive with W = 0 likewise. */
START_TEST(test_zero_gradient)
{
    test_rng r = {5};
    mpmat_t H, B, W, G, Wb;
    TEST_OK(mpmat_init(H, 3, 3, 53));
    TEST_OK(mpmat_init(B, 3, 2, 53));
    random_quadratic(H, B, &r);
    TEST_OK(mpmat_init(W, 3, 2, PREC));
    TEST_OK(mpmat_init(Wb, 3, 2, PREC));
    TEST_OK(mpmat_init(G, 3, 2, PREC));
    quad_oracle q = {.H = H, .B = B};
    TEST_OK(mpmat_init(q.lastX, 3, 2, PREC));
    ref_oracle orc = {.ctx = &q, .gradient_at = quad_grad};
    mpfr_t eta;
    mpfr_init2(eta, PREC);
    mpfr_set_d(eta, 0.25, MPFR_RNDN);
    for (int adaptive = 0; adaptive <= 1; adaptive++)
        for (int wzero = 0; wzero <= 1; wzero++) {
            sam_cfg c = {"0.05", "0", "0.9", 0, adaptive};
            ref_opt *o = make_sam(3, 2, &c, NULL);
            if (wzero)
                mpmat_zero(W);
            else
                test_fill_uniform(W, &r);
            mpmat_set(Wb, W);
            mpmat_zero(G);
            if (wzero && adaptive) /* W = 0: W . G = 0 for any G */
                test_fill_uniform(G, &r);
            TEST_OK(ref_opt_step(o, W, G, eta, &orc));
            ck_assert_msg(mpmat_equal(q.lastX, Wb), "E != 0 (adaptive=%d, W=0: %d)", adaptive,
                          wzero);
            /* base: sgd with momentum, t = 1: W1 = Wb - eta (H Wb + B) */
            mpmat_t G2;
            TEST_OK(mpmat_init(G2, 3, 2, PREC));
            TEST_OK(quad_grad(&q, G2, Wb));
            for (size_t k = 0; k < 6; k++)
                mpfr_fms(G2->e + k, eta, G2->e + k, Wb->e + k, MPFR_RNDN),
                    mpfr_neg(G2->e + k, G2->e + k, MPFR_RNDN);
            ck_assert(mpmat_equal(W, G2));
            mpmat_clear(G2);
            ref_opt_free(o);
        }
    mpfr_clear(eta);
    mpmat_clear(H), mpmat_clear(B), mpmat_clear(W), mpmat_clear(Wb), mpmat_clear(G);
    mpmat_clear(q.lastX);
}
END_TEST

/* rho = 0 gives the base optimizer on the oracle's gradient at W, bit for bit
 * (E = 0 exactly, and the test's G is that gradient). */
START_TEST(test_rho_zero_is_base)
{
    test_rng r = {6};
    mpmat_t H, B, W, Wb, G;
    TEST_OK(mpmat_init(H, 2, 2, 53));
    TEST_OK(mpmat_init(B, 2, 3, 53));
    random_quadratic(H, B, &r);
    TEST_OK(mpmat_init(W, 2, 3, PREC));
    TEST_OK(mpmat_init(Wb, 2, 3, PREC));
    TEST_OK(mpmat_init(G, 2, 3, PREC));
    test_fill_uniform(W, &r);
    mpmat_set(Wb, W);
    quad_oracle q = {.H = H, .B = B};
    TEST_OK(mpmat_init(q.lastX, 2, 3, PREC));
    ref_oracle orc = {.ctx = &q, .gradient_at = quad_grad};
    int have_adamw = optimizer_info_find("adamw") != NULL;
    for (int base = 0; base <= have_adamw; base++) {
        const char *so[] = {"rho=0", base ? "base=adamw" : "base.lr=0.1", "base.momentum=0.9",
                            "base.nesterov=true"};
        const char *bo[] = {"lr=0.1", "momentum=0.9", "nesterov=true"};
        ref_opt *o = NULL, *p = NULL;
        TEST_OK(ref_opt_create(&o, "sam", 2, 3, PREC, so, base ? 2 : 4));
        TEST_OK(ref_opt_create(&p, base ? "adamw" : "sgd", 2, 3, PREC, bo, base ? 0 : 3));
        mpfr_t eta;
        mpfr_init2(eta, PREC);
        mpfr_set_d(eta, 0.125, MPFR_RNDN);
        test_fill_uniform(W, &r);
        mpmat_set(Wb, W);
        for (int t = 0; t < 5; t++) {
            TEST_OK(quad_grad(&q, G, W));
            TEST_OK(ref_opt_step(o, W, G, eta, &orc));
            TEST_OK(ref_opt_step(p, Wb, G, eta, NULL));
            ck_assert_msg(mpmat_equal(W, Wb), "sam(rho=0) != %s at step %d",
                          base ? "adamw" : "sgd", t + 1);
        }
        mpfr_clear(eta);
        ref_opt_free(o);
        ref_opt_free(p);
    }
    if (!have_adamw)
        printf("  note: adamw is not registered; sam(rho=0, base=adamw) not checked\n");
    mpmat_clear(H), mpmat_clear(B), mpmat_clear(W), mpmat_clear(Wb), mpmat_clear(G);
    mpmat_clear(q.lastX);
}
END_TEST

/* Errors: no oracle, an oracle without gradient_at, a failing or non-finite
 * oracle leave W, the state and t untouched; bad options are rejected. */
START_TEST(test_errors)
{
    test_rng r = {7};
    mpmat_t H, B, W, Wb, G;
    TEST_OK(mpmat_init(H, 2, 2, 53));
    TEST_OK(mpmat_init(B, 2, 2, 53));
    random_quadratic(H, B, &r);
    TEST_OK(mpmat_init(W, 2, 2, PREC));
    TEST_OK(mpmat_init(Wb, 2, 2, PREC));
    TEST_OK(mpmat_init(G, 2, 2, PREC));
    test_fill_uniform(W, &r);
    mpmat_set(Wb, W);
    test_fill_uniform(G, &r);
    sam_cfg c = {"0.05", "0", "0.9", 0, 0};
    ref_opt *o = make_sam(2, 2, &c, NULL);
    mpfr_t eta;
    mpfr_init2(eta, PREC);
    mpfr_set_d(eta, 0.1, MPFR_RNDN);
    ck_assert_int_ne(ref_opt_step(o, W, G, eta, NULL), OPTREF_OK);
    ref_oracle none = {0};
    ck_assert_int_eq(ref_opt_step(o, W, G, eta, &none), OPTREF_EINVAL);
    ck_assert_msg(strstr(optref_last_error(), "gradient_at") != NULL, "%s", optref_last_error());
    quad_oracle q = {.H = H, .B = B, .bad = 1};
    TEST_OK(mpmat_init(q.lastX, 2, 2, PREC));
    ref_oracle orc = {.ctx = &q, .gradient_at = quad_grad};
    ck_assert_int_eq(ref_opt_step(o, W, G, eta, &orc), OPTREF_ENONFINITE);
    q.bad = 2;
    ck_assert_int_ne(ref_opt_step(o, W, G, eta, &orc), OPTREF_OK);
    ck_assert(mpmat_equal(W, Wb));
    ck_assert_int_eq(o->t, 0);
    ck_assert_int_eq(o->base->t, 0);
    for (size_t k = 0; k < 4; k++)
        ck_assert(mpfr_zero_p(ref_opt_state(o->base, "B")->e + k));
    ref_opt_free(o);

    const char *bad[][2] = {{"rho=-0.1", "base.lr=0.1"},     {"adaptive=maybe", "base.lr=0.1"},
                            {"base=smi", "base.lr=0.1"},     {"base=sam", "base.lr=0.1"},
                            {"base=nosuch", "base.lr=0.1"},  {"base.lr=-1", "rho=0.1"},
                            {"lr=0.1", "rho=0.1"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ref_opt *x = NULL;
        ck_assert_msg(ref_opt_create(&x, "sam", 2, 2, PREC, bad[i], 2) != OPTREF_OK,
                      "accepted %s %s", bad[i][0], bad[i][1]);
        ck_assert_ptr_null(x);
    }
    /* the default base (sgd) has no default lr: it must be given as base.lr */
    ref_opt *x = NULL;
    ck_assert_int_ne(ref_opt_create(&x, "sam", 2, 2, PREC, NULL, 0), OPTREF_OK);
    ck_assert_msg(strstr(optref_last_error(), "lr") != NULL, "%s", optref_last_error());
    mpfr_clear(eta);
    mpmat_clear(H), mpmat_clear(B), mpmat_clear(W), mpmat_clear(Wb), mpmat_clear(G);
    mpmat_clear(q.lastX);
}
END_TEST

/* The registry entry: needs the gradient oracle, default base sgd, no state
 * of its own, the spec's defaults. */
START_TEST(test_registry)
{
    const optimizer_info *info = optimizer_info_find("sam");
    ck_assert_ptr_nonnull(info);
    ck_assert_int_eq(info->needs, NEEDS_GRADIENT_AT);
    ck_assert_str_eq(info->default_base, "sgd");
    ck_assert_int_eq(info->nstate, 0);
    const char *opts[] = {"base.lr=0.1"};
    ref_opt *o = NULL;
    TEST_OK(ref_opt_create(&o, "sam", 3, 4, PREC, opts, 1));
    mpfr_t x;
    mpfr_init2(x, 53);
    mpfr_set_str(x, "0.05", 10, MPFR_RNDN);
    ck_assert(mpfr_equal_p(ref_opt_real(o, "rho"), x));
    ck_assert_int_eq(ref_opt_bool(o, "adaptive"), 0);
    ck_assert_str_eq(o->base->info->name, "sgd");
    mpfr_clear(x);
    ref_opt_free(o);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("opt_sam");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_registry);
    tcase_add_test(tc, test_hand_worked);
    tcase_add_test(tc, test_zero_gradient);
    tcase_add_test(tc, test_rho_zero_is_base);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_first_steps_small);
    tcase_add_test(tc, test_first_steps_trace_het);
    suite_add_tcase(s, tc);
    return s;
}
