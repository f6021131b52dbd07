/* Stable argsort and the torch.quantile 'linear' quantile (spec 1.3).
 *
 * mpvec_argsort is a bottom-up merge sort of indices: runs of width 1, 2, 4,
 * ... are merged left to right, and on equal keys the element of the left
 * run (the lower original index) is taken first, so the permutation is
 * stable and fully determined by the input (qsort's order on ties is not).
 * Comparisons are exact (mpfr_cmp); -0 and +0 compare equal and so keep
 * their index order; +-Inf sort at the ends; NaN is rejected
 * (OPTREF_ENONFINITE), having no place in an order.
 *
 * mpmat_quantile, for the N entries of A (row-major) sorted ascending into
 * s[0..N-1] and 0 <= q <= 1:
 *   pos  = q (N - 1)        exact: computed at prec(q) + 64 bits, N - 1 < 2^64
 *   lo   = floor(pos)       exact integer, 0 <= lo <= N - 1
 *   frac = pos - lo         exact (its bits are a subset of pos's)
 *   r    = s[lo]                                   when frac = 0
 *        = s[lo] + frac (s[lo+1] - s[lo])          otherwise,
 * the latter evaluated as ONE correctly rounded 3-term dot product
 * s[lo] * 1 + s[lo+1] * frac + s[lo] * (-frac) (mpfr_dot sums the exact
 * products and rounds once). So r is the exact spec value rounded once to
 * r's precision, to nearest-even: one rounding in every case. torch computes
 * the same expression in its dtype with its own roundings (lerp); the
 * reference is the exact value. The sort uses mpvec_argsort, so ties do not
 * matter to the value. Errors: q NaN or outside [0, 1] or an empty A
 * (OPTREF_EINVAL); a NaN or Inf entry (OPTREF_ENONFINITE, spec 0). */
#include "optref/mpmat.h"

#include <stdlib.h>

/* True when x[b] must come before x[a] (a from the left run, b from the
 * right run): strictly smaller (larger when descending). Equal keys: false,
 * so the left (lower-index) element goes first. */
static int right_first(const __mpfr_struct *x, size_t a, size_t b, int descending)
{
    int c = mpfr_cmp(x + b, x + a);
    return descending ? c > 0 : c < 0;
}

optref_status mpvec_argsort(size_t *perm, const __mpfr_struct *x, size_t n, int descending)
{
    for (size_t i = 0; i < n; i++)
        if (mpfr_nan_p(x + i))
            return optref_fail(OPTREF_ENONFINITE,
                               "mpvec_argsort: x[%zu] is NaN; expected numbers only", i);
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    if (n < 2)
        return OPTREF_OK;
    size_t *tmp = malloc(n * sizeof *tmp);
    if (tmp == NULL)
        return optref_fail(OPTREF_ENOMEM, "mpvec_argsort: cannot allocate %zu indices", n);
    size_t *src = perm, *dst = tmp;
    for (size_t width = 1; width < n; width = width > n / 2 ? n : 2 * width) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = mid + width < n ? mid + width : n;
            size_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                dst[o++] = right_first(x, src[a], src[b], descending) ? src[b++] : src[a++];
            while (a < mid)
                dst[o++] = src[a++];
            while (b < hi)
                dst[o++] = src[b++];
        }
        size_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != perm)
        for (size_t i = 0; i < n; i++)
            perm[i] = src[i];
    free(tmp);
    return OPTREF_OK;
}

optref_status mpmat_quantile(mpfr_ptr r, mpmat_srcptr A, mpfr_srcptr q)
{
    size_t N = A->rows * A->cols;
    if (mpfr_nan_p(q) || mpfr_cmp_ui(q, 0) < 0 || mpfr_cmp_ui(q, 1) > 0)
        return optref_fail(OPTREF_EINVAL, "mpmat_quantile: q must be a number in [0, 1]");
    if (N == 0)
        return optref_fail(OPTREF_EINVAL, "mpmat_quantile: the matrix is empty (%zux%zu)",
                           A->rows, A->cols);
    for (size_t k = 0; k < N; k++)
        if (!mpfr_number_p(A->e + k))
            return optref_fail(OPTREF_ENONFINITE,
                               "mpmat_quantile: entry %zu (row %zu, column %zu) is not finite",
                               k, k / A->cols, k % A->cols);
    size_t *perm = malloc(N * sizeof *perm);
    if (perm == NULL)
        return optref_fail(OPTREF_ENOMEM, "mpmat_quantile: cannot allocate %zu indices", N);
    optref_status st = mpvec_argsort(perm, A->e, N, 0);
    if (st != OPTREF_OK) {
        free(perm);
        return st;
    }
    mpfr_t pos, frac, nfrac, one, res;
    mpfr_inits2(mpfr_get_prec(q) + 64, pos, frac, nfrac, (mpfr_ptr)0);
    mpfr_init2(one, 2);
    mpfr_init2(res, mpfr_get_prec(r));
    mpfr_mul_ui(pos, q, (unsigned long)(N - 1), MPFR_RNDN); /* exact */
    unsigned long lo = mpfr_get_ui(pos, MPFR_RNDD);          /* floor */
    mpfr_sub_ui(frac, pos, lo, MPFR_RNDN);                    /* exact */
    mpfr_srcptr s_lo = A->e + perm[lo];
    if (mpfr_zero_p(frac)) {
        mpfr_set(res, s_lo, MPFR_RNDN);
    } else { /* frac > 0 implies lo < N - 1 */
        mpfr_srcptr s_hi = A->e + perm[lo + 1];
        mpfr_set_ui(one, 1, MPFR_RNDN);
        mpfr_neg(nfrac, frac, MPFR_RNDN);
        mpfr_ptr a[3] = {(mpfr_ptr)s_lo, (mpfr_ptr)s_hi, (mpfr_ptr)s_lo};
        mpfr_ptr b[3] = {one, frac, nfrac};
        mpfr_dot(res, a, b, 3, MPFR_RNDN);
    }
    mpfr_set(r, res, MPFR_RNDN); /* exact: same precision; r may alias an entry of A */
    mpfr_clears(pos, frac, nfrac, one, res, (mpfr_ptr)0);
    free(perm);
    return OPTREF_OK;
}
