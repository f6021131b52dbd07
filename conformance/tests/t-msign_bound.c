/* msign's error bound (conformance/bounds_msign.c, bounds_ns.c,
 * bounds_ns_norm.c, bounds_polar.c; proofs/conformance-muon.md):
 *  - the adjoint bound's sensitivities are the exact derivatives: with a
 *    huge error on one input entry, e / error equals |d O / d X_q| from
 *    central differences of the reference's msign at 256 bits;
 *  - on the fast backends' msign, every entry's error is within the bound
 *    (ratio <= BOUND_THRESHOLD_MUON) for each method, shapes 9x9, 3x12, 12x3,
 *    1x7, 8x2, 4x1, inputs of unit scale, small scale (||X||_F near the
 *    1e-7 of ns-keller and ns-torch) and rank 2, in binary64 and binary32.
 *    The backend's msign is read through a muon step that returns -s O
 *    exactly (W = 0, lr = 1, momentum 0, s = 1 or 2).
 * The worst ratios are printed (proofs/conformance-muon.md, "Observed").
 * Also: the fast backends refuse ns_dtype=bf16. */
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ref/optim/msign.h"
#include "../bounds_families.h"
#include "../bounds_msign.h"
#include "optref/fast.h"

#define PREC 256

static const char *const METHODS[] = {"ns-keller", "ns-torch", "ns-deva", "polar"};

/* X: r x c of the given kind (0 unit scale, 1 small, 2 rank 2), rounded to fmt. */
static void make_input(mpmat_ptr X, int kind, test_rng *g, optref_format fmt)
{
    if (kind == 2) {
        mpmat_t L, R;
        mpmat_init(L, X->rows, 2, PREC), mpmat_init(R, 2, X->cols, PREC);
        test_fill_uniform(L, g), test_fill_uniform(R, g);
        mpmat_mul(X, L, R);
        mpmat_clear(L), mpmat_clear(R);
    } else {
        test_fill_uniform(X, g);
        if (kind == 1)
            for (size_t k = 0; k < X->rows * X->cols; k++)
                mpfr_mul_2si(X->e + k, X->e + k, -24, MPFR_RNDN);
    }
    mpmat_round_format(X, fmt);
}

/* The backend's msign(X) through one muon step: W = -s O with s = 1 (m <= n)
 * or 2 (m = 4 n), both exact. */
static void fast_msign(mpmat_ptr O, mpmat_srcptr X, const char *ns, fast_backend b)
{
    size_t m = X->rows, n = X->cols, es = fast_backend_size(b);
    char opt[32];
    snprintf(opt, sizeof opt, "ns=%s", ns);
    const char *options[] = {"momentum=0", "nesterov=false", opt};
    fast_opt *o;
    TEST_OK(fast_opt_create(&o, b, "muon", m, n, options, 3));
    void *W = calloc(m * n, es), *G = malloc(m * n * es);
    fast_from_mpmat(G, b, X);
    TEST_OK(fast_opt_step(o, W, G, 1.0, NULL));
    fast_to_mpmat(O, b, W);
    mpfr_t s;
    mpfr_init2(s, 64);
    mpfr_set_si(s, m <= n ? -1 : -2, MPFR_RNDN);
    for (size_t k = 0; k < m * n; k++)
        mpfr_div(O->e + k, O->e + k, s, MPFR_RNDN); /* exact */
    mpfr_clear(s);
    free(W), free(G);
    fast_opt_free(o);
}

/* The bound's values are the reference's to 2^-200 (they are evaluated at
 * 256 bits in another association). */
static int same_values(mpmat_srcptr A, mpmat_srcptr B)
{
    for (size_t k = 0; k < A->rows * A->cols; k++)
        if (fabs(mpfr_get_d(A->e + k, MPFR_RNDN) - mpfr_get_d(B->e + k, MPFR_RNDN)) > 0x1p-200)
            return 0;
    return 1;
}

/* The worst |fast - ref| / (u e) over the entries. */
static double worst_ratio(mpmat_srcptr F, mpmat_srcptr R, const rerr_mat *B, const rerr_ctx *c)
{
    double worst = 0, u = mpfr_get_d(c->u, MPFR_RNDN);
    for (size_t k = 0; k < R->rows * R->cols; k++) {
        double err = fabs(mpfr_get_d(F->e + k, MPFR_RNDN) - mpfr_get_d(R->e + k, MPFR_RNDN));
        double scale = u * mpfr_get_d(B->e->e + k, MPFR_RNDU);
        double r = scale > 0 ? err / scale : err > 0 ? INFINITY : 0;
        worst = r > worst ? r : worst;
    }
    return worst;
}

START_TEST(test_backend_within_bound)
{
    static const size_t shapes[][2] = {{9, 9}, {3, 12}, {12, 3}, {1, 7}, {8, 2}, {4, 1}};
    test_rng g = {20261123};
    for (int b = 0; b < FAST_BACKEND_COUNT; b++) {
        optref_format fmt = fast_backend_format((fast_backend)b);
        for (int meth = 0; meth < 4; meth++) {
            double worst = 0;
            unsigned long near = 0;
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
                for (int kind = 0; kind < 3; kind++) {
                    size_t m = shapes[s][0], n = shapes[s][1];
                    mpmat_t X, R, F;
                    mpmat_init(X, m, n, PREC), mpmat_init(R, m, n, PREC);
                    mpmat_init(F, m, n, PREC);
                    make_input(X, kind, &g, fmt);
                    TEST_OK(ref_msign(R, X, METHODS[meth], 5, 0));
                    fast_msign(F, X, METHODS[meth], (fast_backend)b);
                    rerr_ctx c;
                    rerr_ctx_init(&c, PREC, fmt);
                    rerr_mat RX, RO;
                    TEST_OK(rerr_mat_init(&c, &RX, m, n));
                    TEST_OK(rerr_mat_init(&c, &RO, m, n));
                    rerr_mat_exact(&RX, X);
                    TEST_OK(msign_bound(&c, &RO, &RX, METHODS[meth], 5, PREC));
                    ck_assert_msg(same_values(RO.v, R), "%s: the bound's value is not msign",
                                  METHODS[meth]);
                    double w = worst_ratio(F, R, &RO, &c);
                    ck_assert_msg(w <= BOUND_THRESHOLD_MUON || c.near > 0,
                                  "%s %s %zux%zu input kind %d: ratio %.3g",
                                  fast_backend_name((fast_backend)b), METHODS[meth], m, n, kind, w);
                    if (c.near == 0 && w > worst)
                        worst = w;
                    near += c.near;
                    rerr_mat_clear(&RX), rerr_mat_clear(&RO);
                    rerr_ctx_clear(&c);
                    mpmat_clear(X), mpmat_clear(R), mpmat_clear(F);
                }
            printf("  %s %-9s worst ratio %.3g (inputs near a discontinuity: %lu)\n",
                   fast_backend_name((fast_backend)b), METHODS[meth], worst, near);
        }
    }
}
END_TEST

/* With error E on input entry q only (E huge, so the rounding terms are
 * negligible), the adjoint bound of entry k is E |d O_k / d X_q|. */
START_TEST(test_adjoint_is_the_derivative)
{
    static const size_t shapes[][2] = {{4, 6}, {3, 3}, {1, 5}};
    const double E = 1e20;
    test_rng g = {7};
    for (int meth = 0; meth < 3; meth++)
        for (size_t s = 0; s < 3; s++) {
            size_t r = shapes[s][0], cc = shapes[s][1], rc = r * cc;
            mpmat_t X, P, M, D;
            mpmat_init(X, r, cc, PREC), mpmat_init(P, r, cc, PREC);
            mpmat_init(M, r, cc, PREC), mpmat_init(D, r, cc, PREC);
            make_input(X, 0, &g, OPTREF_BINARY64);
            double *x = malloc(rc * sizeof *x), *ex = calloc(rc, sizeof *ex);
            double *e = malloc(rc * sizeof *e);
            for (size_t k = 0; k < rc; k++)
                x[k] = mpfr_get_d(X->e + k, MPFR_RNDN);
            double worst = 0;
            for (size_t q = 0; q < rc; q++) {
                unsigned long near = 0;
                ex[q] = E;
                TEST_OK(ns_adjoint_bound(e, x, ex, r, cc, (ns_variant)meth, 5, 1, 0x1p-53, &near));
                ex[q] = 0;
                mpmat_set(P, X), mpmat_set(M, X);
                mpfr_add_d(P->e + q, P->e + q, 0x1p-100, MPFR_RNDN);
                mpfr_sub_d(M->e + q, M->e + q, 0x1p-100, MPFR_RNDN);
                TEST_OK(ref_msign(P, P, METHODS[meth], 5, 0));
                TEST_OK(ref_msign(M, M, METHODS[meth], 5, 0));
                mpmat_sub(D, P, M);
                for (size_t k = 0; k < rc; k++) {
                    double fd = fabs(ldexp(mpfr_get_d(D->e + k, MPFR_RNDN), 99));
                    double rel = fabs(e[k] / E - fd) / fd;
                    if (fd > 1e-9 && rel > worst)
                        worst = rel;
                }
            }
            ck_assert_msg(worst < 1e-5, "%s %zux%zu: adjoint and differences differ by %.3g",
                          METHODS[meth], r, cc, worst);
            free(x), free(ex), free(e);
            mpmat_clear(X), mpmat_clear(P), mpmat_clear(M), mpmat_clear(D);
        }
}
END_TEST

/* ns_dtype=bf16 (the reference's model of bf16 ports) is refused by the fast
 * backends at the first step, which leaves W and the state untouched. */
START_TEST(test_bf16_refused)
{
    const char *names[] = {"muon", "adamuon"};
    for (int i = 0; i < 2; i++)
        for (int b = 0; b < FAST_BACKEND_COUNT; b++) {
            const char *options[] = {"ns_dtype=bf16"};
            fast_opt *o;
            TEST_OK(fast_opt_create(&o, (fast_backend)b, names[i], 2, 3, options, 1));
            double W[6] = {1, 2, 3, 4, 5, 6}, G[6] = {1, -1, 1, -1, 1, -1};
            float Wf[6] = {1, 2, 3, 4, 5, 6}, Gf[6] = {1, -1, 1, -1, 1, -1};
            void *w = b == BACKEND_CPU64 ? (void *)W : (void *)Wf;
            void *g = b == BACKEND_CPU64 ? (void *)G : (void *)Gf;
            ck_assert_int_eq(fast_opt_step(o, w, g, 0.1, NULL), OPTREF_EINVAL);
            ck_assert_msg(strstr(optref_last_error(), "ns_dtype=bf16") != NULL, "%s",
                          optref_last_error());
            ck_assert(W[0] == 1 && Wf[5] == 6 && o->t == 0);
            fast_opt_free(o);
        }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("msign_bound");
    TCase *tc = tcase_create("bound");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_adjoint_is_the_derivative);
    tcase_add_test(tc, test_backend_within_bound);
    tcase_add_test(tc, test_bf16_refused);
    suite_add_tcase(s, tc);
    return s;
}
