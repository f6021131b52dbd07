/* The fast elementwise optimizers on what the conformance suite does not
 * reach (proofs/conformance-elementwise.md): asm's zero rule on singular
 * and ill-conditioned W, orthoadam with identity rotations equal to adamw
 * bit for bit (spec 3), sophia's probes drawn from the project generator,
 * a non-finite H u failing the step with the state untouched, and 0 / 0 = 0
 * with eps = 0. Both backends. */
#include "testlib.h"

#include <math.h>
#include <string.h>

#include "optref/fast.h"
#include "optref/rng.h"

/* Element k of a backend array, as a double. */
static double get(fast_backend b, const void *X, size_t k)
{
    return b == BACKEND_CPU64 ? ((const double *)X)[k] : (double)((const float *)X)[k];
}

static void put(fast_backend b, void *X, size_t k, double v)
{
    if (b == BACKEND_CPU64)
        ((double *)X)[k] = v;
    else
        ((float *)X)[k] = (float)v;
}

/* One asm step with eta = 0 (W unchanged) on the 2 x 2 W = diag(a, d) + off
 * E_12; returns s and kappa after the check of t = 1. */
static void asm_scale(fast_backend b, double a, double d, double off, double *s, double *kappa)
{
    const char *opts[] = {"tau=8"};
    fast_opt *o;
    TEST_OK(fast_opt_create(&o, b, "asm", 2, 2, opts, 1));
    double W[4] = {a, off, 0, d}, G[4] = {1, -1, 0.5, 2}, Wb[4], Gb[4]; /* storage for either format */
    for (size_t k = 0; k < 4; k++)
        put(b, Wb, k, W[k]), put(b, Gb, k, G[k]);
    TEST_OK(fast_opt_step(o, Wb, Gb, 0.0, NULL));
    *s = get(b, fast_opt_state(o, "s")->data, 0);
    *kappa = get(b, fast_opt_state(o, "kappa")->data, 0);
    fast_opt_free(o);
}

START_TEST(test_asm_zero_rule)
{
    for (int bi = 0; bi < FAST_BACKEND_COUNT; bi++) {
        fast_backend b = (fast_backend)bi;
        double s, kappa;
        asm_scale(b, 0, 0, 0, &s, &kappa); /* W = 0 */
        ck_assert(s == 0 && isinf(kappa));
        asm_scale(b, 1, 0, 1, &s, &kappa); /* rank 1 */
        ck_assert(s == 0 && isinf(kappa));
        asm_scale(b, 1, 1e-3, 0, &s, &kappa); /* kappa = 1000: s = 8e-3 */
        ck_assert_msg(fabs(kappa - 1000) <= 1e-3 && fabs(s - 8e-3) <= 1e-8, "%g %g", kappa, s);
        asm_scale(b, 1, 0.5, 0, &s, &kappa); /* kappa = 2 < tau: s = 1 */
        ck_assert(s == 1 && kappa == 2);
        /* sigma_min = 1e-9 sigma_1: resolved in binary64, below max(m, n) eps
         * sigma_1 in binary32 */
        asm_scale(b, 1, 1e-9, 0, &s, &kappa);
        if (b == BACKEND_CPU64)
            ck_assert_msg(fabs(s - 8e-9) <= 1e-20 && fabs(kappa / 1e9 - 1) < 1e-12, "%g", s);
        else
            ck_assert(s == 0 && isinf(kappa));
    }
}
END_TEST

/* orthoadam with P_L = I, P_R = I (loaded from a reference instance) is
 * adamw bit for bit: every product entry is one exact term plus zeros. */
START_TEST(test_orthoadam_identity_is_adamw)
{
    const size_t m = 3, n = 4, mn = 12;
    for (int bi = 0; bi < FAST_BACKEND_COUNT; bi++) {
        fast_backend b = (fast_backend)bi;
        ref_opt *r;
        TEST_OK(ref_opt_create(&r, "orthoadam", m, n, 64, NULL, 0));
        mpmat_one(ref_opt_state(r, "P_L"));
        mpmat_one(ref_opt_state(r, "P_R"));
        fast_opt *oa, *aw;
        TEST_OK(fast_opt_create(&oa, b, "orthoadam", m, n, NULL, 0));
        TEST_OK(fast_opt_load_ref(oa, r));
        TEST_OK(fast_opt_create(&aw, b, "adamw", m, n, NULL, 0));
        double W1[12], W2[12], G[12]; /* storage for either format */
        test_rng g = {7};
        for (size_t k = 0; k < mn; k++)
            put(b, W1, k, (double)test_rng_below(&g, 2001) / 1000 - 1), put(b, W2, k, get(b, W1, k));
        for (int t = 0; t < 3; t++) {
            for (size_t k = 0; k < mn; k++)
                put(b, G, k, (double)test_rng_below(&g, 2001) / 100 - 10);
            TEST_OK(fast_opt_step(oa, W1, G, 1e-2, NULL));
            TEST_OK(fast_opt_step(aw, W2, G, 1e-2, NULL));
            ck_assert(memcmp(W1, W2, mn * fast_backend_size(b)) == 0);
            ck_assert(memcmp(fast_opt_state(oa, "V")->data, fast_opt_state(aw, "V")->data,
                             mn * fast_backend_size(b)) == 0);
        }
        fast_opt_free(oa), fast_opt_free(aw);
        ref_opt_free(r);
    }
}
END_TEST

/* An oracle whose H u is k + 1 at entry k (or NaN at entry 2 when bad). */
typedef struct {
    fast_backend b;
    int bad;
} hvp_ctx;

static optref_status fixed_hvp(void *ctx, void *HU, const void *X, const void *U)
{
    hvp_ctx *h = ctx;
    (void)X, (void)U;
    for (size_t k = 0; k < 6; k++)
        put(h->b, HU, k, h->bad && k == 2 ? NAN : (double)(k + 1));
    return OPTREF_OK;
}

START_TEST(test_sophia_probes_and_bad_hvp)
{
    for (int bi = 0; bi < FAST_BACKEND_COUNT; bi++) {
        fast_backend b = (fast_backend)bi;
        const char *opts[] = {"k=2", "beta2=0.5"};
        fast_opt *o;
        TEST_OK(fast_opt_create(&o, b, "sophia", 2, 3, opts, 2));
        hvp_ctx hc = {b, 0};
        fast_oracle orc = {&hc, 1234, NULL, fixed_hvp};
        double W[6], G[6]; /* storage for either format */
        for (size_t k = 0; k < 6; k++)
            put(b, W, k, 1), put(b, G, k, (double)k - 2.5);
        TEST_OK(fast_opt_step(o, W, G, 1e-3, &orc)); /* t = 1: no estimate */
        ck_assert(get(b, fast_opt_state(o, "h")->data, 0) == 0);
        TEST_OK(fast_opt_step(o, W, G, 1e-3, &orc)); /* t = 2: h = 0.5 u (k + 1) */
        rng_stream rs;
        rng_stream_init(&rs, 1234, RNG_STREAM_SOPHIA, 2);
        for (size_t k = 0; k < 6; k++)
            ck_assert(get(b, fast_opt_state(o, "h")->data, k) ==
                      0.5 * rng_next_rademacher(&rs) * (double)(k + 1));
        /* a non-finite H u at t = 4 fails the step and leaves W and the state */
        TEST_OK(fast_opt_step(o, W, G, 1e-3, &orc));
        double W0[6], M0[6];
        memcpy(W0, W, sizeof W0);
        memcpy(M0, fast_opt_state(o, "M")->data, 6 * fast_backend_size(b));
        hc.bad = 1;
        ck_assert(fast_opt_step(o, W, G, 1e-3, &orc) == OPTREF_ENONFINITE);
        ck_assert(memcmp(W0, W, 6 * fast_backend_size(b)) == 0);
        ck_assert(memcmp(M0, fast_opt_state(o, "M")->data, 6 * fast_backend_size(b)) == 0);
        ck_assert_uint_eq(o->t, 3);
        fast_opt_free(o);
    }
}
END_TEST

/* eps = 0 and a zero gradient entry: 0 / 0 = 0, the entry does not move. */
START_TEST(test_zero_over_zero)
{
    static const char *const names[] = {"adam", "adagrad", "stableadamw", "deva-linf"};
    for (int bi = 0; bi < FAST_BACKEND_COUNT; bi++)
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            fast_backend b = (fast_backend)bi;
            const char *opts[] = {"eps=0", "weight_decay=0"};
            fast_opt *o;
            TEST_OK(fast_opt_create(&o, b, names[i], 1, 2, opts, 2));
            double W[2], G[2]; /* storage for either format */
            put(b, W, 0, 0.5), put(b, W, 1, 0.25);
            put(b, G, 0, 0), put(b, G, 1, 1);
            TEST_OK(fast_opt_step(o, W, G, 0.1, NULL));
            ck_assert_msg(get(b, W, 0) == 0.5, "%s", names[i]);
            ck_assert_msg(get(b, W, 1) < 0.25, "%s", names[i]);
            fast_opt_free(o);
        }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("fast_elementwise");
    TCase *tc = tcase_create("edges");
    tcase_add_test(tc, test_asm_zero_rule);
    tcase_add_test(tc, test_orthoadam_identity_is_adamw);
    tcase_add_test(tc, test_sophia_probes_and_bad_hvp);
    tcase_add_test(tc, test_zero_over_zero);
    suite_add_tcase(s, tc);
    return s;
}
