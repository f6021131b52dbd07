/* Thin Householder QR, A = Q R, in the canonical form R_jj >= 0.
 *
 * A is m x n, k = min(m, n); Q is m x k with orthonormal columns, R is k x n
 * upper triangular. Error analysis and the tested residual ratios:
 * proofs/qr-svd-residuals.md.
 *
 * Working precision: w = p + 32 bits, p = the larger precision of the
 * requested outputs (QR_GUARD_BITS guard bits, fixed). A is rounded once to
 * w bits; Q and R are rounded once from w bits to their own precision at
 * the end. Every internal temporary has w bits.
 *
 * Order of operations. Column j = 0, 1, ..., k-1 of the partially reduced
 * matrix, x = its entries j..m-1 (alpha = x_0):
 *   sigma2 = sum_{i>=1} x_i^2        one correctly rounded mpfr_dot;
 *   if sigma2 == 0 (exactly): no reflector (H_j = I; this covers a zero or
 *     already reduced column and the 1-entry column of a wide or square A),
 *     R_jj = alpha;
 *   else (LAPACK dlarfg's choice of sign, no cancellation in v_0):
 *     nrm  = sqrt(x . x)             correctly rounded dot, then sqrt;
 *     beta = -sign(alpha) nrm        (sign(+-0) = +1), exact;
 *     v    = x with v_0 = alpha - beta (one rounding), R_jj = beta;
 *     h    = (v . v) / 2             correctly rounded dot, exact halving;
 *     H_j  = I - v v^T / h, which is orthogonal up to the one rounding of h;
 *     each later column y (entries j..m-1), in increasing column order:
 *       c   = (v . y) / h            correctly rounded dot, then divide;
 *       y_i = y_i - c v_i            mpfr_fma, one rounding per entry.
 * The entries of R below the diagonal are exact zeros (not computed).
 * Q = H_0 H_1 ... H_{k-1} [I_k; 0] is formed backwards (LAPACK dorg2r):
 * starting from the first k columns of I, H_j for j = k-1, ..., 0 is applied,
 * by the same update, to columns j..k-1 only (columns < j are still e_i and
 * H_j does not touch them).
 *
 * Canonical form (spec 1.2 and mpmat.h): where R_jj < 0, R's row j and Q's
 * column j are negated (exact). A zero R_jj (a column with no new
 * direction) is +0 and its Q column is H_0 ... H_{j-1} e_j, an orthonormal
 * completion determined by the earlier reflectors. Every exact zero of Q and
 * R is written as +0.
 *
 * Columns are worked on as rows of scratch matrices (T = A^T, the
 * reflectors, Q^T) so that each vector is contiguous. Aliasing: Q or R may
 * be A (A is copied first); Q and R must be distinct. */
#include "optref/mpmat.h"

#include <stdlib.h>

#define QR_GUARD_BITS 32

/* Pointers to every entry of A, row-major, so that row r from column c is
 * p + r * A->cols + c. */
static mpfr_ptr *all_pointers(mpmat_srcptr A)
{
    size_t count = A->rows * A->cols;
    mpfr_ptr *p = malloc((count ? count : 1) * sizeof *p);
    if (p != NULL)
        for (size_t t = 0; t < count; t++)
            p[t] = A->e + t;
    return p;
}

/* y <- y - ((v . y) / h) v over len entries (one reflector applied). */
static void reflect(mpfr_ptr *y, mpfr_ptr *v, size_t len, mpfr_srcptr h, mpfr_ptr c)
{
    mpfr_dot(c, v, y, len, MPFR_RNDN);
    if (mpfr_zero_p(c))
        return; /* y - 0 v = y exactly */
    mpfr_div(c, c, h, MPFR_RNDN);
    mpfr_neg(c, c, MPFR_RNDN);
    for (size_t i = 0; i < len; i++)
        mpfr_fma(y[i], c, v[i], y[i], MPFR_RNDN); /* y_i - c v_i, one rounding */
}

/* rop = x rounded to rop's precision; an exact zero becomes +0. */
static void set_canonical(mpfr_ptr rop, mpfr_srcptr x, int negate)
{
    if (mpfr_zero_p(x))
        mpfr_set_zero(rop, 1);
    else if (negate)
        mpfr_neg(rop, x, MPFR_RNDN);
    else
        mpfr_set(rop, x, MPFR_RNDN);
}

optref_status mpmat_qr(mpmat_ptr Q, mpmat_ptr R, mpmat_srcptr A)
{
    size_t m = A->rows, n = A->cols, k = m < n ? m : n;
    if (Q != NULL && (Q->rows != m || Q->cols != k))
        return optref_fail(OPTREF_ESHAPE, "mpmat_qr: Q is %zux%zu, expected %zux%zu for A %zux%zu",
                           Q->rows, Q->cols, m, k, m, n);
    if (R != NULL && (R->rows != k || R->cols != n))
        return optref_fail(OPTREF_ESHAPE, "mpmat_qr: R is %zux%zu, expected %zux%zu for A %zux%zu",
                           R->rows, R->cols, k, n, m, n);
    if (Q != NULL && Q == R)
        return optref_fail(OPTREF_EINVAL, "mpmat_qr: Q and R must be distinct matrices");
    size_t bad = mpmat_first_nonfinite(A);
    if (bad != m * n)
        return optref_fail(OPTREF_ENONFINITE, "mpmat_qr: A[%zu][%zu] is not finite", bad / n,
                           bad % n);
    if ((Q == NULL && R == NULL) || k == 0)
        return OPTREF_OK;

    mpfr_prec_t p = 0;
    if (Q != NULL)
        p = Q->prec;
    if (R != NULL && R->prec > p)
        p = R->prec;
    if (p > MPFR_PREC_MAX - QR_GUARD_BITS)
        return optref_fail(OPTREF_EINVAL, "mpmat_qr: precision %ld too large", (long)p);
    mpfr_prec_t w = p + QR_GUARD_BITS;

    /* T = A^T (row l = column l of A), H = reflectors (row j, entries j..m-1),
     * QT = Q^T (row j = column j of Q). */
    mpmat_t T, H, QT;
    T->e = H->e = QT->e = NULL;
    mpfr_ptr *pt = NULL, *ph = NULL, *pq = NULL;
    int *skip = NULL, *flip = NULL;
    __mpfr_struct *hs = NULL;
    size_t nhs = 0;
    mpfr_t c, nrm;
    mpfr_inits2(w, c, nrm, (mpfr_ptr)0);
    optref_status st = mpmat_init(T, n, m, w);
    if (st == OPTREF_OK)
        st = mpmat_init(H, k, m, w);
    if (st == OPTREF_OK && Q != NULL)
        st = mpmat_init(QT, k, m, w);
    if (st != OPTREF_OK)
        goto done;
    pt = all_pointers(T);
    ph = all_pointers(H);
    pq = Q != NULL ? all_pointers(QT) : NULL;
    skip = malloc(k * sizeof *skip);
    flip = malloc(k * sizeof *flip);
    hs = malloc(k * sizeof *hs);
    if (pt == NULL || ph == NULL || (Q != NULL && pq == NULL) || skip == NULL || flip == NULL ||
        hs == NULL) {
        st = optref_fail(OPTREF_ENOMEM, "mpmat_qr: cannot allocate scratch for %zux%zu", m, n);
        goto done;
    }
    for (; nhs < k; nhs++)
        mpfr_init2(hs + nhs, w);
    for (size_t i = 0; i < m; i++)
        for (size_t l = 0; l < n; l++)
            mpfr_set(mpmat_entry(T, l, i), mpmat_entry(A, i, l), MPFR_RNDN);

    /* Reduction: R = H_{k-1} ... H_0 A. */
    for (size_t j = 0; j < k; j++) {
        size_t len = m - j;
        mpfr_ptr *x = pt + j * m + j, *v = ph + j * m + j;
        mpfr_ptr alpha = x[0];
        mpfr_dot(c, x + 1, x + 1, len - 1, MPFR_RNDN); /* sigma2 */
        skip[j] = mpfr_zero_p(c);
        if (skip[j])
            continue;
        mpfr_dot(nrm, x, x, len, MPFR_RNDN);
        mpfr_sqrt(nrm, nrm, MPFR_RNDN);
        if (mpfr_sgn(alpha) >= 0)
            mpfr_neg(nrm, nrm, MPFR_RNDN); /* nrm <- beta */
        mpfr_sub(v[0], alpha, nrm, MPFR_RNDN);
        for (size_t i = 1; i < len; i++)
            mpfr_set(v[i], x[i], MPFR_RNDN);
        mpfr_set(alpha, nrm, MPFR_RNDN); /* R_jj = beta */
        mpfr_dot(hs + j, v, v, len, MPFR_RNDN);
        mpfr_div_2ui(hs + j, hs + j, 1, MPFR_RNDN);
        for (size_t l = j + 1; l < n; l++)
            reflect(pt + l * m + j, v, len, hs + j, c);
    }
    for (size_t j = 0; j < k; j++)
        flip[j] = mpfr_sgn(mpmat_entry(T, j, j)) < 0;

    if (R != NULL)
        for (size_t i = 0; i < k; i++)
            for (size_t l = 0; l < n; l++) {
                if (l < i)
                    mpfr_set_zero(mpmat_entry(R, i, l), 1);
                else
                    set_canonical(mpmat_entry(R, i, l), mpmat_entry(T, l, i), flip[i]);
            }

    if (Q != NULL) {
        for (size_t j = 0; j < k; j++)
            mpfr_set_ui(mpmat_entry(QT, j, j), 1, MPFR_RNDN);
        for (size_t j = k; j-- > 0;) {
            if (skip[j])
                continue;
            for (size_t l = j; l < k; l++)
                reflect(pq + l * m + j, ph + j * m + j, m - j, hs + j, c);
        }
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < k; j++)
                set_canonical(mpmat_entry(Q, i, j), mpmat_entry(QT, j, i), flip[j]);
    }

done:
    for (size_t t = 0; t < nhs; t++)
        mpfr_clear(hs + t);
    free(hs), free(skip), free(flip), free(pt), free(ph), free(pq);
    mpmat_clear(T), mpmat_clear(H), mpmat_clear(QT);
    mpfr_clears(c, nrm, (mpfr_ptr)0);
    return st;
}
