/* fast/cpu/smi.c and sam.c: exact properties the conformance gate's ratios
 * cannot show (spec/optimizers.md 1.3 and section 2):
 *  - smi's H stays exactly Hermitian-symmetric, H[k,l] = H[-k,-l] bit for
 *    bit, on every shape, including those where FFTW's complex transforms
 *    are not conjugate-symmetric (dimensions 18, 24, 25, 27);
 *  - smi with q = 0 (every bin kept) or alpha = 0 is its base bit for bit;
 *  - sam with rho = 0 is its base on the gradient at W, bit for bit;
 *  - a failing oracle fails the step and leaves W and the state untouched. */
#include "testlib.h"

#include <string.h>

#include "optref/fast.h"

static const size_t shapes[][2] = {{9, 9}, {1, 25}, {18, 1}, {24, 3}, {3, 27}, {4, 6}, {1, 1}, {2, 2}};

/* Fills a format array with values uniform in [-1, 1). */
static void fill(void *X, fast_backend b, size_t count, test_rng *r)
{
    for (size_t k = 0; k < count; k++) {
        double v = (double)(int64_t)(test_rng_next(r) >> 11) / 9007199254740992.0 * 2 - 1;
        if (b == BACKEND_CPU64)
            ((double *)X)[k] = v;
        else
            ((float *)X)[k] = (float)v;
    }
}

static optref_status no_gradient(void *ctx, void *G, const void *X)
{
    (void)ctx, (void)G, (void)X;
    return optref_fail(OPTREF_EINVAL, "no gradient here");
}

START_TEST(test_smi_h_exactly_symmetric)
{
    test_rng r = {1};
    const char *opts[] = {"T=3", "q=0.25", "beta=0.5", "base=sgd", "base.lr=0.01"};
    for (int b = 0; b < FAST_BACKEND_COUNT; b++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            size_t m = shapes[s][0], n = shapes[s][1], es = fast_backend_size((fast_backend)b);
            fast_opt *o;
            TEST_OK(fast_opt_create(&o, (fast_backend)b, "smi", m, n, opts, 5));
            unsigned char W[8 * 81], G[8 * 81];
            fill(W, (fast_backend)b, m * n, &r);
            for (int t = 0; t < 4; t++) {
                fill(G, (fast_backend)b, m * n, &r);
                TEST_OK(fast_opt_step(o, W, G, 0.01, NULL));
            }
            const unsigned char *H = fast_opt_state(o, "H")->data;
            for (size_t k = 0; k < m; k++)
                for (size_t l = 0; l < n; l++) {
                    size_t a = k * n + l, c = ((m - k) % m) * n + (n - l) % n;
                    ck_assert_msg(memcmp(H + a * es, H + c * es, es) == 0,
                                  "%s %zux%zu: H[%zu][%zu] != H[-%zu][-%zu]",
                                  fast_backend_name((fast_backend)b), m, n, k, l, k, l);
                }
            fast_opt_free(o);
        }
}
END_TEST

/* W after `steps` steps of opt (options) from the same data. */
static void run_steps(fast_backend b, const char *opt, const char *const *opts, size_t nopts,
                      size_t m, size_t n, unsigned char *W, const fast_oracle *oracle)
{
    test_rng r = {7};
    unsigned char G[8 * 81];
    fast_opt *o;
    TEST_OK(fast_opt_create(&o, b, opt, m, n, opts, nopts));
    fill(W, b, m * n, &r);
    for (int t = 0; t < 3; t++) {
        fill(G, b, m * n, &r);
        TEST_OK(fast_opt_step(o, W, G, 0.01, oracle));
    }
    fast_opt_free(o);
}

START_TEST(test_reductions_to_the_base)
{
    const char *base[] = {"lr=0.01", "momentum=0.9"};
    const char *q0[] = {"T=3", "q=0", "base=sgd", "base.lr=0.01", "base.momentum=0.9"};
    const char *a0[] = {"T=3", "alpha0=0", "alpha_end=0", "base=sgd", "base.lr=0.01",
                        "base.momentum=0.9"};
    for (int b = 0; b < FAST_BACKEND_COUNT; b++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            size_t m = shapes[s][0], n = shapes[s][1], bytes;
            unsigned char Wb[8 * 81], Wq[8 * 81], Wa[8 * 81];
            run_steps((fast_backend)b, "sgd", base, 2, m, n, Wb, NULL);
            run_steps((fast_backend)b, "smi", q0, 5, m, n, Wq, NULL);
            run_steps((fast_backend)b, "smi", a0, 6, m, n, Wa, NULL);
            bytes = m * n * fast_backend_size((fast_backend)b);
            ck_assert_msg(memcmp(Wb, Wq, bytes) == 0, "smi q=0 %zux%zu", m, n);
            ck_assert_msg(memcmp(Wb, Wa, bytes) == 0, "smi alpha=0 %zux%zu", m, n);
        }
}
END_TEST

/* The gradient at X: G = X (a quadratic 1/2 ||X||^2), in the format. */
static optref_status identity_gradient(void *ctx, void *G, const void *X)
{
    memcpy(G, X, *(const size_t *)ctx);
    return OPTREF_OK;
}

START_TEST(test_sam)
{
    const char *base[] = {"lr=0.01"};
    const char *rho0[] = {"rho=0", "base.lr=0.01"};
    for (int b = 0; b < FAST_BACKEND_COUNT; b++) {
        size_t m = 3, n = 4, bytes = m * n * fast_backend_size((fast_backend)b);
        fast_oracle orc = {&bytes, 0, identity_gradient, NULL};
        unsigned char Wb[8 * 12], Ws[8 * 12], W0[8 * 12], G[8 * 12];
        /* rho = 0: the gradient is asked at W itself, whose gradient is W */
        test_rng r = {3};
        fast_opt *o;
        TEST_OK(fast_opt_create(&o, (fast_backend)b, "sgd", m, n, base, 1));
        fill(Wb, (fast_backend)b, m * n, &r);
        memcpy(Ws, Wb, bytes);
        memcpy(G, Wb, bytes);
        TEST_OK(fast_opt_step(o, Wb, G, 0.1, NULL));
        fast_opt_free(o);
        TEST_OK(fast_opt_create(&o, (fast_backend)b, "sam", m, n, rho0, 2));
        fill(G, (fast_backend)b, m * n, &r); /* any G: with rho = 0 it is not used */
        TEST_OK(fast_opt_step(o, Ws, G, 0.1, &orc));
        ck_assert_msg(memcmp(Wb, Ws, bytes) == 0, "%s: sam rho=0",
                      fast_backend_name((fast_backend)b));
        /* a failing oracle: the step fails, W and t are untouched */
        fast_oracle bad = {NULL, 0, no_gradient, NULL};
        memcpy(W0, Ws, bytes);
        uint64_t t = o->t;
        ck_assert(fast_opt_step(o, Ws, G, 0.1, &bad) != OPTREF_OK);
        ck_assert(strstr(optref_last_error(), "no gradient here") != NULL);
        ck_assert(memcmp(W0, Ws, bytes) == 0 && o->t == t);
        ck_assert(fast_opt_step(o, Ws, G, 0.1, NULL) != OPTREF_OK); /* no oracle */
        fast_opt_free(o);
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("fast_wrappers");
    TCase *tc = tcase_create("smi_sam");
    tcase_add_test(tc, test_smi_h_exactly_symmetric);
    tcase_add_test(tc, test_reductions_to_the_base);
    tcase_add_test(tc, test_sam);
    suite_add_tcase(s, tc);
    return s;
}
