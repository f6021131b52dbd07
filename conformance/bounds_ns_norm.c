/* A normwise running error bound of the fast backends' Newton-Schulz
 * iteration (fast/cpu/msign.c), and the exact iterates (proofs/conformance-
 * muon.md, "Newton-Schulz, normwise"). Cheaper than the adjoint bound of
 * bounds_ns.c and used alone for large matrices; for small ones each entry
 * takes the smaller of the two. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bounds_families.h"
#include "bounds_msign.h"

/* The values are the exact iterates Y_i (the reference's formula at the
 * context's precision). delta_i bounds ||Yhat_i - Y_i||_F, where Yhat_i is
 * the backend's iterate; it is propagated as
 *   delta_{i+1} = Lambda_i delta_i + rho_i,
 * Lambda_i the norm of the iteration's Frechet derivative on the ball of
 * radius delta_i around Y_i (from Y_i's singular values), rho_i the local
 * rounding error of one iteration evaluated in the backend's order. Norms
 * are evaluated in binary64 from the exact matrices, rounded up, with a
 * relative margin NS_MARGIN for their own roundings. */

#define NS_MARGIN (1 + 0x1p-40)

static double up(mpfr_srcptr x)
{
    return mpfr_get_d(x, MPFR_RNDU);
}

static double fro(mpmat_srcptr A)
{
    mpfr_t t;
    mpfr_init2(t, 64);
    mpmat_norm_fro(t, A);
    double r = up(t) * NS_MARGIN;
    mpfr_clear(t);
    return r;
}

/* || |A| |B| ||_F, or || |A| |B|^T ||_F (nt). */
static double abs_product_fro(mpmat_srcptr A, mpmat_srcptr B, int nt)
{
    mpmat_t aA, aB, T;
    mpmat_init(aA, A->rows, A->cols, 64);
    mpmat_init(aB, B->rows, B->cols, 64);
    mpmat_init(T, A->rows, nt ? B->rows : B->cols, 64);
    for (size_t k = 0; k < A->rows * A->cols; k++)
        mpfr_abs(aA->e + k, A->e + k, MPFR_RNDU);
    for (size_t k = 0; k < B->rows * B->cols; k++)
        mpfr_abs(aB->e + k, B->e + k, MPFR_RNDU);
    if (nt)
        mpmat_mul_nt(T, aA, aB);
    else
        mpmat_mul(T, aA, aB);
    double r = fro(T);
    mpmat_clear(aA), mpmat_clear(aB), mpmat_clear(T);
    return r;
}

/* The singular values of Y from the eigenvalues of A = Y Y^T (r x r), descending. */
static optref_status singular_values(double *sv, mpmat_srcptr A)
{
    size_t r = A->rows;
    mpmat_t A64, w;
    optref_status st = mpmat_init(A64, r, r, 64);
    if (st != OPTREF_OK)
        return st;
    if ((st = mpmat_init(w, r, 1, 64)) != OPTREF_OK) {
        mpmat_clear(A64);
        return st;
    }
    mpmat_set(A64, A);
    if ((st = mpmat_eigh(w, NULL, A64)) == OPTREF_OK)
        for (size_t i = 0; i < r; i++) {
            double l = up(w->e + i);
            sv[i] = l > 0 ? sqrt(l) * NS_MARGIN : 0;
        }
    mpmat_clear(A64), mpmat_clear(w);
    return st;
}

typedef struct {
    double a, b, c; /* the coefficients (binary64) */
    double held;    /* 1 when the backend holds them exactly, 2 when rounded (binary32) */
    double u;
} ns_consts;

/* Lambda: the largest |divided difference| of p(x) = a x + b x^3 + c x^5
 * over pairs of singular values, (p(x) - p(y)) / (x - y) and
 * (p(x) + p(y)) / (x + y), with 0 added for a rectangular Y (its
 * complement), plus the change when each moves by delta. */
static double ns_lambda(const double *sv, size_t r, int rect, double delta, const ns_consts *K)
{
    double M = sv[0] + delta, best = 0;
    size_t n = r + (rect ? 1 : 0);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++) {
            double x = i < r ? sv[i] : 0, y = j < r ? sv[j] : 0;
            double x2 = x * x, y2 = y * y, xy = x * y;
            double s2 = x2 + y2, s4 = x2 * x2 + x2 * y2 + y2 * y2, o4 = xy * s2;
            double sym = K->a + K->b * (s2 + xy) + K->c * (s4 + o4);
            double anti = K->a + K->b * (s2 - xy) + K->c * (s4 - o4);
            double v = fabs(sym);
            if (i != j && fabs(anti) > v)
                v = fabs(anti);
            if (v > best)
                best = v;
        }
    return (best + 2 * delta * (3 * fabs(K->b) * M + 10 * fabs(K->c) * M * M * M)) * NS_MARGIN;
}

/* One iteration's local rounding error rho (Frobenius) at the backend's
 * iterate, ||Yhat - Y||_F <= delta, Y r x cc with A = Y Y^T, B = A A and
 * C = b A + c B the exact values (sv0 = ||Y||_2); kA, kB the gamma factors of
 * the two Gram products (cc and r; plus 4 each at ns-deva's rescaled
 * first iteration). */
static double ns_local(mpmat_srcptr Y, mpmat_srcptr A, mpmat_srcptr B, mpmat_srcptr C,
                       double sv0, double delta, double kA, double kB,
                       const ns_consts *K)
{
    const double u = K->u, r = (double)Y->rows, d = delta;
    const double ab = fabs(K->a), bb = fabs(K->b), cb = fabs(K->c);
    double nY2 = sv0 + d, nYF = fro(Y), nA = fro(A), nB = fro(B), nC = fro(C);
    double EA = kA * u * (abs_product_fro(Y, Y, 1) + 2 * nYF * d + d * d);
    double dA = 2 * sv0 * d + d * d + EA;
    double EB = kB * u * (abs_product_fro(A, A, 0) + 2 * nA * dA + dA * dA);
    double dB = 2 * sv0 * sv0 * dA + dA * dA + EB;
    double EC = u * (K->held * (bb * (nA + dA) + cb * (nB + dB)) + nC + bb * dA + cb * dB);
    double dC = bb * dA + cb * dB + EC;
    double EP = r * u * (abs_product_fro(C, Y, 0) + dC * nYF + nC * d + dC * d);
    double nP = (nC + dC) * nY2 + EP;
    double EY = u * (K->held * ab * (nYF + d) + ab * (nYF + d) + nP); /* a Y, then + P */
    double epsC = bb * EA + cb * (2 * nY2 * nY2 * EA + EA * EA) + cb * EB + EC;
    return (epsC * nY2 + EP + EY) * NS_MARGIN;
}

/* ns-deva's first-iteration scale s = sqrt(sqrt(sqrt(sumsq(B) + 1e-20)))
 * with ||Bhat - B||_F <= dB: its value and bound (units of u). */
static void ns_deva_scale(rerr_ctx *c, rerr *s, mpmat_srcptr B, double dB)
{
    rerr eps;
    rerr_init(c, &eps);
    mpfr_t t;
    mpfr_init2(t, c->prec);
    mpmat_sumsq(s->v, B);
    double nB = fro(B);
    mpfr_set_d(t, 2 * nB * dB + dB * dB, MPFR_RNDU);
    mpfr_div(s->e, t, c->u, MPFR_RNDU); /* |sumsq(Bhat) - sumsq(B)| / u */
    mpfr_mul_ui(t, s->v, (unsigned long)(B->rows * B->cols), MPFR_RNDU);
    mpfr_add(s->e, s->e, t, MPFR_RNDU); /* gamma_N sum b^2 */
    msign_held_const(c, &eps, 1e-20);
    rerr_add(c, s, s, &eps);
    for (int k = 0; k < 3; k++)
        rerr_sqrt(c, s, s);
    mpfr_clear(t);
    rerr_clear(&eps);
}

/* The normalisation Y0 = X / d: values divided, delta_0 returned. */
static double ns_normalise(rerr_ctx *c, rerr_mat *Y, ns_variant kind)
{
    rerr ss, eps;
    rerr_init(c, &ss), rerr_init(c, &eps);
    msign_sumsq(c, &ss, Y);
    msign_held_const(c, &eps, kind == NS_DEVA ? 1e-20 : 1e-7);
    if (kind == NS_DEVA) {
        rerr_add(c, &ss, &ss, &eps);
        rerr_sqrt(c, &ss, &ss);
    } else {
        rerr_sqrt(c, &ss, &ss);
        if (kind == NS_KELLER)
            rerr_add(c, &ss, &ss, &eps);
        else
            rerr_max(c, &ss, &ss, &eps);
    }
    /* ||Yhat0 - Y0||_F <= ||e_X||_F u / d + ||Y0||_F (u e_d / d) + u ||Y0||_F */
    double ein = fro(Y->e), d = mpfr_get_d(ss.v, MPFR_RNDD), ed = up(ss.e);
    for (size_t k = 0; k < Y->v->rows * Y->v->cols; k++)
        mpfr_div(Y->v->e + k, Y->v->e + k, ss.v, MPFR_RNDN);
    double u = up(c->u), nY = fro(Y->v);
    rerr_clear(&ss), rerr_clear(&eps);
    return (u * ein / d + nY * u * ed / d + u * nY) * NS_MARGIN;
}

/* ns-deva's first iteration: Y <- Y / s (values; A, B recomputed from the
 * scaled Y) with s from Bhat, whose error follows from delta as in
 * ns_local; returns the bound of the scaled iterate. */
static double deva_rescale(rerr_ctx *c, mpmat_ptr Y, mpmat_ptr A, mpmat_ptr B, double sv0,
                           double d, const ns_consts *K)
{
    double kA = (double)Y->cols, kB = (double)Y->rows, nYF = fro(Y), nA = fro(A);
    double EA = kA * K->u * (abs_product_fro(Y, Y, 1) + 2 * nYF * d + d * d);
    double dA = 2 * sv0 * d + d * d + EA;
    double EB = kB * K->u * (abs_product_fro(A, A, 0) + 2 * nA * dA + dA * dA);
    double dB = 2 * sv0 * sv0 * dA + dA * dA + EB;
    rerr s;
    rerr_init(c, &s);
    ns_deva_scale(c, &s, B, dB);
    double sd = mpfr_get_d(s.v, MPFR_RNDD), es = up(s.e);
    for (size_t k = 0; k < Y->rows * Y->cols; k++)
        mpfr_div(Y->e + k, Y->e + k, s.v, MPFR_RNDN);
    rerr_clear(&s);
    mpmat_mul_nt(A, Y, Y); /* A / s^2 */
    mpmat_mul(B, A, A);    /* B / s^4 */
    double nY = fro(Y);
    /* ||fl(Yhat / shat) - Y / s||_F <= d / s + ||Y / s||_F (u e_s / s + u) */
    return (d / sd + nY * K->u * es / sd + K->u * nY) * NS_MARGIN;
}

optref_status ns_normwise(rerr_ctx *c, rerr_mat *Y, ns_variant kind, long steps, double *delta_out)
{
    size_t r = Y->v->rows, cc = Y->v->cols;
    mpmat_t A, B, C, P;
    mpmat_ptr mats[] = {A, B, C, P};
    const size_t cols[] = {r, r, r, cc};
    size_t made = 0;
    optref_status st = OPTREF_OK;
    for (; made < 4 && st == OPTREF_OK; made++)
        st = mpmat_init(mats[made], r, cols[made], c->prec);
    double *sv = malloc(r * sizeof *sv);
    if (sv == NULL && st == OPTREF_OK)
        st = optref_fail(OPTREF_ENOMEM, "msign_bound: out of memory");
    ns_consts K = {3.4445, -4.7750, 2.0315, c->fmt == OPTREF_BINARY64 ? 1 : 2, up(c->u)};
    mpfr_t a, b, cf, t;
    mpfr_inits2(64, a, b, cf, (mpfr_ptr)0);
    mpfr_init2(t, c->prec);
    mpfr_set_d(a, K.a, MPFR_RNDN), mpfr_set_d(b, K.b, MPFR_RNDN), mpfr_set_d(cf, K.c, MPFR_RNDN);
    double delta = st == OPTREF_OK ? ns_normalise(c, Y, kind) : 0;
    mpmat_ptr Yv = Y->v;
    for (long it = 0; st == OPTREF_OK && it < steps; it++) {
        mpmat_mul_nt(A, Yv, Yv);
        mpmat_mul(B, A, A);
        double kA = (double)cc, kB = (double)r;
        /* no spectrum (eigh failed): no normwise bound, the values go on */
        int spectrum = singular_values(sv, A) == OPTREF_OK;
        if (kind == NS_DEVA && it == 0) {
            delta = deva_rescale(c, Yv, A, B, spectrum ? sv[0] : fro(Yv), delta, &K);
            kA += 4, kB += 4;
            spectrum = spectrum && singular_values(sv, A) == OPTREF_OK;
        }
        for (size_t k = 0; k < r * r; k++) { /* C = b A + c B */
            mpfr_mul(t, b, A->e + k, MPFR_RNDN);
            mpfr_fma(C->e + k, cf, B->e + k, t, MPFR_RNDN);
        }
        if (spectrum && isfinite(delta)) {
            double rho = ns_local(Yv, A, B, C, sv[0], delta, kA, kB, &K);
            double lam = ns_lambda(sv, r, r < cc, delta, &K);
            delta = (lam * delta + rho) * NS_MARGIN;
        } else {
            delta = INFINITY;
        }
        mpmat_mul(P, C, Yv);
        for (size_t k = 0; k < r * cc; k++) /* Y <- a Y + C Y */
            mpfr_fma(Yv->e + k, a, Yv->e + k, P->e + k, MPFR_RNDN);
    }
    *delta_out = delta;
    mpfr_clears(a, b, cf, t, (mpfr_ptr)0);
    free(sv);
    for (size_t k = 0; k < made; k++)
        mpmat_clear(mats[k]);
    return st;
}
