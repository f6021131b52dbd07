/* msign on the CPU (spec/optimizers.md 1.1), in the backend's format.
 *
 * Order of operations (conformance/bounds_msign.c models exactly this; the
 * reference's exact model, ref/optim/msign.c, is the same formula):
 *   The m x n input Z is never transposed: with r = min(m, n), the Gram
 *   matrix is A = Z Z^T (m <= n) or Z^T Z (m > n), r x r, and the product
 *   C Y of the spec's wide orientation Y = Z^T is formed as Z C; each entry
 *   is the same dot product as in the transposed form.
 *   Normalise: ss = dot(Z, Z) (BLAS, any order), then
 *     ns-keller d = sqrt(ss) + 1e-7, ns-torch d = max(sqrt(ss), 1e-7),
 *     ns-deva   d = sqrt(ss + 1e-20);  Y = Z / d (one division per entry).
 *   Iteration i = 0 .. steps-1:
 *     A = Y Y^T (syrk), B = A A (syrk: A is symmetric), both mirrored;
 *     ns-deva, i = 0: q = dot(B, B) + 1e-20, s = sqrt(sqrt(sqrt(q))),
 *       s2 = s s, s4 = s2 s2; Y <- Y / s, A <- A / s2, B <- B / s4;
 *     C = b A + c B (elementwise, into A); P = C Y (gemm);
 *     Y <- a Y + P (elementwise).
 *   (a, b, c) = (3.4445, -4.7750, 2.0315) and eps are the binary64
 *   constants, rounded once to binary32 in cpu32.
 *   polar: gesvd of Z (thin), P = U_k V_k^T over the k singular values
 *   s_i > tol = 2^(-p/2) s_1 with p the format's precision (53 or 24): the
 *   reference's zero rule (ref/mp/mpmat_svd.c) at the backend's precision
 *   [decision]; the product U_k V_k^T by gemm. Scratch is made once per
 *   shape (msign_ws, kept in the optimizer's workspace).
 *   A zero input gives a zero output (as the reference). */
#include "msign.h"

#include <stdlib.h>

#include "../mutants.h"

#if FAST_REAL_BITS == 64
#define R_SYRK cblas_dsyrk
#define R_DOT cblas_ddot
#define R_PREC 53
#else
#define R_SYRK cblas_ssyrk
#define R_DOT cblas_sdot
#define R_PREC 24
#endif

void FN(msign_ws_free)(FN(msign_ws) *w)
{
    free(w->Y), free(w->P), free(w->A), free(w->B), free(w->superb);
    memset(w, 0, sizeof *w);
}

/* Allocates the scratch for an m x n input once. */
static optref_status reserve(FN(msign_ws) *w, size_t m, size_t n, const char *who)
{
    if (w->m == m && w->n == n && w->Y != NULL)
        return OPTREF_OK;
    FN(msign_ws_free)(w);
    size_t r = m < n ? m : n, mn = m * n;
    w->Y = malloc(mn * sizeof(real));
    w->P = malloc(mn * sizeof(real));
    w->A = malloc(r * r * sizeof(real));
    w->B = malloc((r * r > mn ? r * r : mn) * sizeof(real)); /* polar: V^T, r x n */
    w->superb = malloc(r * sizeof(real));
    if (w->Y == NULL || w->P == NULL || w->A == NULL || w->B == NULL || w->superb == NULL) {
        FN(msign_ws_free)(w);
        return optref_fail(OPTREF_ENOMEM, "%s: cannot allocate msign scratch for %zu x %zu", who,
                           m, n);
    }
    w->m = m, w->n = n;
    return OPTREF_OK;
}

/* Fills the lower triangle of the r x r row-major S from its upper one. */
static void mirror(real *S, size_t r)
{
    for (size_t i = 1; i < r; i++)
        for (size_t j = 0; j < i; j++)
            S[i * r + j] = S[j * r + i];
}

/* A = Y Y^T in the wide orientation (Z Z^T or Z^T Z), r x r. */
static void gram(real *A, const real *Z, size_t m, size_t n)
{
    if (m <= n)
        R_SYRK(CblasRowMajor, CblasUpper, CblasNoTrans, m, n, 1, Z, n, 0, A, m);
    else
        R_SYRK(CblasRowMajor, CblasUpper, CblasTrans, n, m, 1, Z, n, 0, A, n);
    mirror(A, m <= n ? m : n);
}

/* P = C Y in the wide orientation: C Z (m <= n) or Z C (m > n). */
static void apply_left(real *P, const real *C, const real *Z, size_t m, size_t n)
{
    if (m <= n)
        R_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, m, 1, C, m, Z, n, 0, P, n);
    else
        R_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, n, 1, Z, n, C, n, 0, P, n);
}

static void divide(real *X, size_t count, real d)
{
    for (size_t k = 0; k < count; k++)
        X[k] = X[k] / d;
}

/* Y <- Y / ||Y||_F with the method's eps (spec 1.1). */
static void normalise(real *Y, size_t count, msign_method method)
{
    const real ss = R_DOT(count, Y, 1, Y, 1);
    real d;
    if (method == MSIGN_DEVA) {
        d = R_SQRT(ss + R_SCALAR(1e-20));
    } else {
        const real eps = R_SCALAR(MUTANT("muon-frobenius-eps") ? 1e-3 : 1e-7);
        const real nrm = R_SQRT(ss);
        const int keller = method == MSIGN_KELLER && !MUTANT("muon-keller-eps-max");
        d = keller ? nrm + eps : (nrm > eps ? nrm : eps);
    }
    divide(Y, count, d);
}

/* ns-deva's first-iteration rescale by s = (||B||_F^2 + 1e-20)^(1/8). */
static void rescale(real *Y, real *A, real *B, size_t m, size_t n)
{
    const size_t r = m < n ? m : n;
    const real q = R_DOT(r * r, B, 1, B, 1) + R_SCALAR(1e-20);
    const real s = R_SQRT(R_SQRT(R_SQRT(q))), s2 = s * s, s4 = s2 * s2;
    divide(Y, m * n, s);
    divide(A, r * r, s2);
    divide(B, r * r, s4);
}

static void newton_schulz(FN(msign_ws) *w, size_t m, size_t n, msign_method method, long steps)
{
    const size_t r = m < n ? m : n, mn = m * n;
    const real a = R_SCALAR(3.4445), c = R_SCALAR(2.0315);
    const real b = R_SCALAR(MUTANT("muon-ns-coefficient") ? -4.7500 : -4.7750);
    real *Y = w->Y, *P = w->P, *A = w->A, *B = w->B;
    normalise(Y, mn, method);
    for (long i = 0; i < steps; i++) {
        gram(A, Y, m, n);
        R_SYRK(CblasRowMajor, CblasUpper, CblasNoTrans, r, r, 1, A, r, 0, B, r); /* A A^T = A A */
        mirror(B, r);
        if (method == MSIGN_DEVA && i == 0)
            rescale(Y, A, B, m, n);
        for (size_t k = 0; k < r * r; k++)
            A[k] = b * A[k] + c * B[k];
        apply_left(P, A, Y, m, n);
        for (size_t k = 0; k < mn; k++)
            Y[k] = a * Y[k] + P[k];
    }
}

/* O = U_k V_k^T from gesvd of Y (destroyed). */
static optref_status polar(FN(msign_ws) *w, real *O, size_t m, size_t n, const char *who)
{
    const size_t r = m < n ? m : n;
    real *S = w->A, *U = w->P, *VT = w->B; /* S: r (<= r x r); U: m x r; VT: r x n */
    lapack_int info = R_GESVD(LAPACK_ROW_MAJOR, 'S', 'S', m, n, w->Y, n, S, U, r, VT, n,
                              w->superb);
    if (info != 0)
        return optref_fail(info > 0 ? OPTREF_ENOCONV : OPTREF_EINVAL,
                           "%s: gesvd of the %zu x %zu momentum failed (info %d)", who, m, n,
                           (int)info);
    const real tol = R_SCALAR(sqrt(ldexp(1.0, -R_PREC))) * S[0];
    size_t k = 0;
    while (k < r && S[k] > tol)
        k++;
    if (k == 0) {
        memset(O, 0, m * n * sizeof(real));
        return OPTREF_OK;
    }
    R_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1, U, r, VT, n, 0, O, n);
    return OPTREF_OK;
}

optref_status FN(cpu_msign)(FN(msign_ws) *w, real *O, const real *X, size_t m, size_t n,
                            msign_method method, long steps, const char *who)
{
    const size_t mn = m * n;
    optref_status st = reserve(w, m, n, who);
    if (st != OPTREF_OK)
        return st;
    size_t nz = 0;
    while (nz < mn && X[nz] == 0)
        nz++;
    if (nz == mn) { /* a zero X gives O = 0 */
        memset(O, 0, mn * sizeof(real));
        return OPTREF_OK;
    }
    memcpy(w->Y, X, mn * sizeof(real));
    if (method == MSIGN_POLAR)
        return polar(w, O, m, n, who);
    newton_schulz(w, m, n, method, steps);
    memcpy(O, w->Y, mn * sizeof(real));
    return OPTREF_OK;
}
