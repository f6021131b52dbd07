/* The reference driver, for every optimizer of the registry:
 *  - every shape works (1 x 1, 1 x n, n x 1, wide, tall) and stays finite;
 *  - two runs give identical bits, and resume is bit-identical: 6 steps,
 *    save, load, 6 more equals 12 uninterrupted steps byte for byte;
 *  - bad input (non-finite G or W, wrong shape, negative or non-finite eta)
 *    is an error that leaves the parameter and the state untouched;
 *  - bad options (unknown name, a beta of 1.5, a negative lr, precision
 *    below 53) are errors naming the option. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "optref/ref_optim.h"

#define PREC 113

/* The oracle of f(X) = 1/2 ||X||^2 + sum(X) / 4: gradient X + 1/4, H = I. */
static optref_status quad_gradient(void *ctx, mpmat_ptr G, mpmat_srcptr X)
{
    (void)ctx;
    for (size_t k = 0; k < X->rows * X->cols; k++)
        mpfr_add_d(G->e + k, X->e + k, 0.25, MPFR_RNDN);
    return OPTREF_OK;
}

static optref_status quad_hvp(void *ctx, mpmat_ptr HU, mpmat_srcptr X, mpmat_srcptr U)
{
    (void)ctx, (void)X;
    return mpmat_set(HU, U);
}

static const ref_oracle oracle = {NULL, 7, quad_gradient, quad_hvp};

/* Options that make any optimizer runnable: its required ones, and its
 * default base's (as base.KEY) for a wrapper. */
static size_t required_options(const optimizer_info *info, char buf[][64], const char **opts)
{
    size_t n = 0;
    const optimizer_info *base = info->default_base ? optimizer_info_find(info->default_base) : NULL;
    const optimizer_info *each[2] = {info, base};
    for (int w = 0; w < 2 && each[w] != NULL; w++)
        for (size_t i = 0; i < each[w]->nhyper; i++)
            if (each[w]->hyper[i].def == NULL) {
                snprintf(buf[n], 64, "%s%s=%s", w ? "base." : "", each[w]->hyper[i].name,
                         each[w]->hyper[i].kind == PARAM_INT ? "10" : "0.01");
                opts[n] = buf[n];
                n++;
            }
    return n;
}

static ref_opt *create(const optimizer_info *info, size_t m, size_t n)
{
    char buf[16][64];
    const char *opts[16];
    size_t k = required_options(info, buf, opts);
    ref_opt *o = NULL;
    optref_status st = ref_opt_create(&o, info->name, m, n, PREC, opts, k);
    ck_assert_msg(st == OPTREF_OK, "%s %zux%zu: %s", info->name, m, n, optref_last_error());
    return o;
}

/* The deterministic gradient of step t: G = W + 1/4 + a t-dependent wiggle. */
static void gradient(mpmat_ptr G, mpmat_srcptr W, uint64_t t)
{
    for (size_t k = 0; k < W->rows * W->cols; k++) {
        mpfr_add_d(G->e + k, W->e + k, 0.25, MPFR_RNDN);
        mpfr_add_si(G->e + k, G->e + k, (long)((k * 7 + t * 3) % 5) - 2, MPFR_RNDN);
    }
}

static void steps(ref_opt *o, mpmat_ptr W, uint64_t count)
{
    mpmat_t G;
    mpfr_t eta;
    TEST_OK(mpmat_init(G, W->rows, W->cols, PREC));
    mpfr_init2(eta, PREC);
    mpfr_set_d(eta, 0.01, MPFR_RNDN);
    for (uint64_t i = 0; i < count; i++) {
        gradient(G, W, o->t + 1);
        optref_status st = ref_opt_step(o, W, G, eta, &oracle);
        ck_assert_msg(st == OPTREF_OK, "%s step %llu: %s", o->info->name,
                      (unsigned long long)o->t + 1, optref_last_error());
    }
    mpfr_clear(eta);
    mpmat_clear(G);
}

static void start_point(mpmat_ptr W, size_t m, size_t n)
{
    test_rng r = {42};
    TEST_OK(mpmat_init(W, m, n, PREC));
    test_fill_uniform(W, &r);
}

/* The serialisation of (o, W) as a malloc'd string. */
static char *serialise(const ref_opt *o, mpmat_srcptr W)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert(f != NULL);
    TEST_OK(ref_opt_save(o, W, f));
    fclose(f);
    return buf;
}

START_TEST(test_every_shape_runs)
{
    const size_t shapes[][2] = {{1, 1}, {1, 5}, {4, 1}, {2, 3}, {3, 2}};
    const optimizer_info *info = optimizer_info_at((size_t)_i);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        mpmat_t W;
        start_point(W, shapes[s][0], shapes[s][1]);
        ref_opt *o = create(info, shapes[s][0], shapes[s][1]);
        steps(o, W, 12);
        ck_assert_msg(mpmat_is_finite(W), "%s: non-finite parameter", info->name);
        ck_assert_int_eq(o->t, 12);
        ref_opt_free(o);
        mpmat_clear(W);
    }
}
END_TEST

START_TEST(test_resume_is_bit_identical)
{
    const optimizer_info *info = optimizer_info_at((size_t)_i);
    mpmat_t W1, W2, W3;
    start_point(W1, 3, 4);
    start_point(W2, 3, 4);
    ref_opt *a = create(info, 3, 4), *b = create(info, 3, 4), *c = NULL;
    steps(a, W1, 12);
    steps(b, W2, 6);
    char *saved = serialise(b, W2);
    FILE *f = fmemopen(saved, strlen(saved), "r");
    TEST_OK(ref_opt_load(&c, W3, f, "memory"));
    fclose(f);
    char *again = serialise(c, W3);
    ck_assert_msg(strcmp(saved, again) == 0, "%s: load(save(x)) != x", info->name);
    steps(c, W3, 6);
    char *full = serialise(a, W1), *resumed = serialise(c, W3);
    ck_assert_msg(strcmp(full, resumed) == 0, "%s: resumed run differs from the full run",
                  info->name);
    /* A second uninterrupted run gives the same bytes. */
    steps(b, W2, 6);
    char *second = serialise(b, W2);
    ck_assert_msg(strcmp(full, second) == 0, "%s: two runs differ", info->name);
    free(saved), free(again), free(full), free(resumed), free(second);
    ref_opt_free(a), ref_opt_free(b), ref_opt_free(c);
    mpmat_clear(W1), mpmat_clear(W2), mpmat_clear(W3);
}
END_TEST

START_TEST(test_bad_input_leaves_state_untouched)
{
    const optimizer_info *info = optimizer_info_at((size_t)_i);
    mpmat_t W, G, Gbad;
    mpfr_t eta;
    start_point(W, 2, 3);
    TEST_OK(mpmat_init(G, 2, 3, PREC));
    TEST_OK(mpmat_init(Gbad, 3, 2, PREC));
    mpfr_init2(eta, PREC);
    ref_opt *o = create(info, 2, 3);
    steps(o, W, 3);
    char *before = serialise(o, W);
    gradient(G, W, 4);
    mpfr_set_d(eta, 0.01, MPFR_RNDN);

    mpfr_set_nan(mpmat_entry(G, 1, 2));
    ck_assert_int_eq(ref_opt_step(o, W, G, eta, &oracle), OPTREF_ENONFINITE);
    ck_assert_msg(strstr(optref_last_error(), "G[1][2]") != NULL, "message: %s",
                  optref_last_error());
    mpfr_set_inf(mpmat_entry(G, 1, 2), -1);
    ck_assert_int_eq(ref_opt_step(o, W, G, eta, &oracle), OPTREF_ENONFINITE);
    gradient(G, W, 4);
    ck_assert_int_eq(ref_opt_step(o, W, Gbad, eta, &oracle), OPTREF_ESHAPE);
    mpfr_set_d(eta, -0.01, MPFR_RNDN);
    ck_assert_int_eq(ref_opt_step(o, W, G, eta, &oracle), OPTREF_EINVAL);
    mpfr_set_nan(eta);
    ck_assert_int_eq(ref_opt_step(o, W, G, eta, &oracle), OPTREF_ENONFINITE);
    if (info->needs != 0) {
        mpfr_set_d(eta, 0.01, MPFR_RNDN);
        ck_assert_int_eq(ref_opt_step(o, W, G, eta, NULL), OPTREF_EINVAL);
    }
    char *after = serialise(o, W);
    ck_assert_msg(strcmp(before, after) == 0, "%s: a failed step changed the state", info->name);

    /* A non-finite parameter is refused too, naming W. */
    mpfr_set_d(eta, 0.01, MPFR_RNDN);
    mpfr_set_nan(mpmat_entry(W, 0, 0));
    ck_assert_int_eq(ref_opt_step(o, W, G, eta, &oracle), OPTREF_ENONFINITE);
    ck_assert_msg(strstr(optref_last_error(), "W[0][0]") != NULL, "message: %s",
                  optref_last_error());
    free(before), free(after);
    ref_opt_free(o);
    mpfr_clear(eta);
    mpmat_clear(W), mpmat_clear(G), mpmat_clear(Gbad);
}
END_TEST

START_TEST(test_bad_options_are_refused)
{
    const optimizer_info *info = optimizer_info_at((size_t)_i);
    char buf[16][64], opt[64];
    const char *opts[17];
    size_t k = required_options(info, buf, opts);
    ref_opt *o = NULL;
    opts[k] = "no_such_option=1";
    ck_assert_int_eq(ref_opt_create(&o, info->name, 2, 2, PREC, opts, k + 1), OPTREF_ENOTFOUND);
    ck_assert_msg(strstr(optref_last_error(), "no_such_option") != NULL, "%s", optref_last_error());
    ck_assert_int_eq(ref_opt_create(&o, info->name, 2, 2, 52, opts, k), OPTREF_EINVAL);
    ck_assert_int_eq(ref_opt_create(&o, info->name, 0, 2, PREC, opts, k), OPTREF_ESHAPE);
    for (size_t i = 0; i < info->nhyper; i++) {
        const param_spec *p = &info->hyper[i];
        const char *bad = NULL;
        if (strncmp(p->name, "beta", 4) == 0 || strcmp(p->name, "momentum") == 0)
            bad = "1.5";
        else if (strcmp(p->name, "lr") == 0 || strcmp(p->name, "eps") == 0)
            bad = "-0.5";
        else if (p->kind == PARAM_REAL)
            bad = "nan";
        if (bad == NULL)
            continue;
        snprintf(opt, sizeof opt, "%s=%s", p->name, bad);
        opts[k] = opt;
        optref_status st = ref_opt_create(&o, info->name, 2, 2, PREC, opts, k + 1);
        ck_assert_msg(st != OPTREF_OK && o == NULL, "%s: %s accepted", info->name, opt);
        ck_assert_msg(strstr(optref_last_error(), p->name) != NULL, "%s: message '%s' does not "
                      "name %s", info->name, optref_last_error(), p->name);
    }
}
END_TEST

/* asm's kappa is +Inf for a singular W: the state holds Inf and must load. */
START_TEST(test_infinite_state_round_trips)
{
    mpmat_t W, G, W2;
    mpfr_t eta;
    TEST_OK(mpmat_init(W, 3, 3, PREC));
    TEST_OK(mpmat_init(G, 3, 3, PREC));
    mpfr_init2(eta, PREC);
    mpfr_set_d(eta, 0.01, MPFR_RNDN);
    ref_opt *o = create(optimizer_info_find("asm"), 3, 3), *c = NULL;
    gradient(G, W, 1);
    TEST_OK(ref_opt_step(o, W, G, eta, NULL));
    ck_assert(mpfr_inf_p(mpmat_entry(ref_opt_state(o, "kappa"), 0, 0)));
    char *saved = serialise(o, W);
    FILE *f = fmemopen(saved, strlen(saved), "r");
    TEST_OK(ref_opt_load(&c, W2, f, "memory"));
    fclose(f);
    char *again = serialise(c, W2);
    ck_assert_str_eq(saved, again);
    free(saved), free(again);
    ref_opt_free(o), ref_opt_free(c);
    mpfr_clear(eta);
    mpmat_clear(W), mpmat_clear(G), mpmat_clear(W2);
}
END_TEST

START_TEST(test_unknown_optimizer)
{
    ref_opt *o = NULL;
    ck_assert_int_eq(ref_opt_create(&o, "adamx", 2, 2, PREC, NULL, 0), OPTREF_ENOTFOUND);
    ck_assert(o == NULL);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("ref_opt");
    TCase *tc = tcase_create("registry");
    int n = (int)optimizer_count();
    tcase_add_loop_test(tc, test_every_shape_runs, 0, n);
    tcase_add_loop_test(tc, test_resume_is_bit_identical, 0, n);
    tcase_add_loop_test(tc, test_bad_input_leaves_state_untouched, 0, n);
    tcase_add_loop_test(tc, test_bad_options_are_refused, 0, n);
    tcase_add_test(tc, test_infinite_state_round_trips);
    tcase_add_test(tc, test_unknown_optimizer);
    suite_add_tcase(s, tc);
    return s;
}
