/* The error bound of msign (spec/optimizers.md 1.1) in the order of
 * operations of fast/cpu/msign.c; shared by every optimizer that
 * orthogonalises. Derivations: proofs/conformance-muon.md.
 *
 * Newton-Schulz: each entry gets the smaller of two running bounds of the
 * whole iteration, the first-order adjoint bound (bounds_ns.c: the exact
 * sensitivity of the entry to every rounding, so the amplification of early
 * errors by later iterations is propagated, not assumed) and a normwise one
 * (bounds_ns_norm.c, which also computes the values). The elementwise
 * absolute-value recursion of rerr_mat_mul alone grows like 300 per
 * iteration here (proofs/conformance-muon.md) and is not used. polar:
 * bounds_polar.c. */
#include "bounds_families.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bounds_msign.h"

/* The adjoint bound costs about (r cc)^2 r operations per iteration: above
 * this, the normwise bound alone. */
#define ADJOINT_MAX_WORK 150000000.0

/* An input perturbation larger than this (relative, normwise) is not a
 * rounding error (sign jumps of adamuon's input are): the first-order bounds
 * do not apply (amplified by up to 3.4445^5 < 500, it would no longer be
 * small), and each entry gets the jump NS_JUMP instead. */
#define SMALL_INPUT_ERROR 0x1p-16

/* |msign entry| <= ||O||_2 <= 1.2034 (the largest value of p on [0, 1.2034],
 * an interval p maps into itself, holding the normalised singular values):
 * two outputs differ by less than this per entry. */
#define NS_JUMP 2.5

void msign_held_const(const rerr_ctx *c, rerr *x, double v)
{
    rerr_exact_d(x, v);
    if (c->fmt != OPTREF_BINARY64)
        mpfr_abs(x->e, x->v, MPFR_RNDU);
}

void msign_sumsq(const rerr_ctx *c, rerr *r, const rerr_mat *X)
{
    size_t count = X->v->rows * X->v->cols;
    mpfr_t t;
    mpfr_init2(t, c->prec);
    mpfr_set_zero(r->v, 1);
    mpfr_set_zero(r->e, 1);
    for (size_t k = 0; k < count; k++) {
        mpfr_srcptr x = X->v->e + k;
        mpfr_fma(r->v, x, x, r->v, MPFR_RNDN);
        mpfr_abs(t, x, MPFR_RNDU);
        mpfr_mul(t, t, X->e->e + k, MPFR_RNDU);
        mpfr_mul_2ui(t, t, 1, MPFR_RNDU);
        mpfr_add(r->e, r->e, t, MPFR_RNDU); /* 2 |x| e_x */
    }
    mpfr_mul_ui(t, r->v, (unsigned long)count, MPFR_RNDU);
    mpfr_add(r->e, r->e, t, MPFR_RNDU); /* gamma_N sum x^2 */
    mpfr_clear(t);
}

/* Newton-Schulz methods in ns_variant's order, then polar. */
typedef enum { KIND_KELLER, KIND_TORCH, KIND_DEVA, KIND_POLAR, KIND_UNKNOWN } ns_kind;

static ns_kind kind_of(const char *ns)
{
    static const char *const names[] = {"ns-keller", "ns-torch", "ns-deva", "polar"};
    for (int k = 0; k < KIND_UNKNOWN; k++)
        if (strcmp(ns, names[k]) == 0)
            return (ns_kind)k;
    return KIND_UNKNOWN;
}

/* Newton-Schulz on the wide-oriented Y (values and bounds in place). */
static optref_status ns_bound(rerr_ctx *c, rerr_mat *Y, ns_variant kind, long steps)
{
    size_t r = Y->v->rows, cc = Y->v->cols, rc = r * cc;
    double u = mpfr_get_d(c->u, MPFR_RNDU), held = c->fmt == OPTREF_BINARY64 ? 1 : 2;
    double *X = malloc(3 * rc * sizeof *X), *eX = X + rc, *e = X + 2 * rc;
    if (X == NULL)
        return optref_fail(OPTREF_ENOMEM, "msign_bound: out of memory");
    double nX = 0, nE = 0;
    for (size_t k = 0; k < rc; k++) {
        X[k] = mpfr_get_d(Y->v->e + k, MPFR_RNDN);
        eX[k] = mpfr_get_d(Y->e->e + k, MPFR_RNDU);
        nX += X[k] * X[k], nE += eX[k] * eX[k];
    }
    int big = u * sqrt(nE) > SMALL_INPUT_ERROR * sqrt(nX);
    double work = (double)rc * (double)rc * (double)r * (double)steps;
    optref_status st = OPTREF_OK;
    if (!big && work <= ADJOINT_MAX_WORK)
        st = ns_adjoint_bound(e, X, eX, r, cc, kind, steps, held, u, &c->near);
    else
        for (size_t k = 0; k < rc; k++)
            e[k] = INFINITY;
    double delta = 0;
    if (st == OPTREF_OK)
        st = ns_normwise(c, Y, kind, steps, &delta);
    if (st == OPTREF_OK) {
        double normwise = delta / u, jump = big ? NS_JUMP / u : 0;
        if (big)
            c->near++;
        for (size_t k = 0; k < rc; k++) {
            double b = e[k] < normwise ? e[k] : normwise;
            mpfr_set_d(Y->e->e + k, b > jump ? b : jump, MPFR_RNDU);
        }
    }
    free(X);
    return st;
}

/* ---- entry ---- */

static int all_zero(mpmat_srcptr A)
{
    for (size_t k = 0; k < A->rows * A->cols; k++)
        if (!mpfr_zero_p(A->e + k))
            return 0;
    return 1;
}

optref_status msign_bound(rerr_ctx *c, rerr_mat *O, const rerr_mat *X, const char *ns, long steps,
                          mpfr_prec_t ref_prec)
{
    size_t m = X->v->rows, n = X->v->cols, r = m < n ? m : n, cc = m < n ? n : m;
    ns_kind kind = kind_of(ns);
    if (kind == KIND_UNKNOWN)
        return optref_fail(OPTREF_EINVAL, "msign_bound: unknown method '%s'", ns);
    rerr_mat Y;
    optref_status st = rerr_mat_init(c, &Y, r, cc);
    if (st != OPTREF_OK)
        return st;
    if (m > n) {
        mpmat_transpose(Y.v, X->v);
        mpmat_transpose(Y.e, X->e);
    } else {
        mpmat_set(Y.v, X->v);
        mpmat_set(Y.e, X->e);
    }
    if (all_zero(Y.v) && all_zero(Y.e))
        ; /* O = 0 exactly, in the reference and the backend */
    else if (kind == KIND_POLAR)
        st = polar_bound(c, &Y, ref_prec);
    else
        st = ns_bound(c, &Y, (ns_variant)kind, steps); /* the same order */
    if (st == OPTREF_OK) {
        if (m > n) {
            mpmat_transpose(O->v, Y.v);
            mpmat_transpose(O->e, Y.e);
        } else {
            mpmat_set(O->v, Y.v);
            mpmat_set(O->e, Y.e);
        }
    }
    rerr_mat_clear(&Y);
    return st;
}
