/* The canonical bases of spec/optimizers.md 1.2.
 *
 * Inside a cluster of (numerically) equal eigenvalues the eigenvectors are
 * determined only up to a rotation of the cluster's subspace, yet the basis
 * chosen changes SOAP's and DeVA's trajectories; the spec therefore fixes
 * one basis that depends only on the subspace S:
 *   q_1, q_2, ... = Gram-Schmidt, in index order, of P e_1, P e_2, ...,
 *   P = V_c V_c^T the orthogonal projector onto S,
 * each vector orthogonalised twice against the ones kept so far and skipped
 * when its norm after orthogonalisation is below 1/(2 sqrt(n)). Completing
 * an orthonormal set is the same rule with P the projector onto the
 * complement of the kept columns, i.e. Gram-Schmidt of e_1, e_2, ... against
 * them.
 *
 * Order of operations: every inner product and every squared norm is one
 * correctly rounded mpfr_dot; an update x <- x - (q . x) q rounds each entry
 * once (mpfr_fms); a normalisation divides by the correctly rounded sqrt of
 * the correctly rounded squared norm. Vectors are worked on as rows of a
 * scratch matrix so that each is contiguous. */
#include "optref/mpmat.h"

#include <stdlib.h>

/* Pointers to the n entries of row r of A. */
static void row_pointers(mpfr_ptr *p, mpmat_srcptr A, size_t r)
{
    for (size_t k = 0; k < A->cols; k++)
        p[k] = mpmat_entry(A, r, k);
}

/* x <- x - (q . x) q for each kept row q of K (rows [0, nk)), twice. */
static void orthogonalise(mpmat_ptr K, size_t nk, size_t x, mpfr_ptr *px, mpfr_ptr *pq,
                          mpfr_ptr c)
{
    size_t n = K->cols;
    row_pointers(px, K, x);
    for (int pass = 0; pass < 2; pass++)
        for (size_t q = 0; q < nk; q++) {
            row_pointers(pq, K, q);
            mpfr_dot(c, pq, px, n, MPFR_RNDN);
            mpfr_neg(c, c, MPFR_RNDN);
            for (size_t k = 0; k < n; k++) /* x_k - (q . x) q_k, one rounding */
                mpfr_fma(px[k], c, pq[k], px[k], MPFR_RNDN);
        }
}

/* Normalises row x of K when its norm is at least 1/(2 sqrt(n)), i.e. when
 * 4 n ||x||^2 >= 1; returns whether it was kept. */
static int normalise_if_large(mpmat_ptr K, size_t x, mpfr_ptr *px, mpfr_ptr c)
{
    size_t n = K->cols;
    row_pointers(px, K, x);
    mpfr_dot(c, px, px, n, MPFR_RNDN);
    mpfr_t t;
    mpfr_init2(t, mpfr_get_prec(c));
    mpfr_mul_ui(t, c, 4 * (unsigned long)n, MPFR_RNDN);
    int keep = mpfr_cmp_ui(t, 1) >= 0;
    mpfr_clear(t);
    if (keep) {
        mpfr_sqrt(c, c, MPFR_RNDN);
        for (size_t k = 0; k < n; k++)
            mpfr_div(px[k], px[k], c, MPFR_RNDN);
    }
    return keep;
}

/* Gram-Schmidt of the candidates for i = 1, 2, ... against K's first `have`
 * rows, each written into row `have` of K, until `want` rows are kept.
 * Candidate i is P e_i with P = C^T C (the rows of C orthonormal) when C is
 * given, else e_i itself. */
static optref_status canonical_rows(mpmat_ptr K, size_t have, size_t want, mpmat_srcptr C)
{
    size_t n = K->cols;
    mpfr_ptr *px = malloc(n * sizeof *px), *pq = malloc(n * sizeof *pq);
    mpfr_t c;
    if (px == NULL || pq == NULL) {
        free(px), free(pq);
        return optref_fail(OPTREF_ENOMEM, "mpmat_basis: cannot allocate %zu pointers", n);
    }
    mpfr_init2(c, K->prec);
    for (size_t i = 0; i < n && have < want; i++) {
        /* candidate: e_i, or P e_i = C^T (C e_i) = sum_r C[r][i] C[r][:] */
        for (size_t k = 0; k < n; k++) {
            mpfr_ptr x = mpmat_entry(K, have, k);
            if (C == NULL) {
                mpfr_set_ui(x, k == i, MPFR_RNDN);
            } else {
                mpfr_ptr *a = pq, *b = px;
                for (size_t r = 0; r < C->rows; r++)
                    a[r] = mpmat_entry(C, r, i), b[r] = mpmat_entry(C, r, k);
                mpfr_dot(x, a, b, C->rows, MPFR_RNDN);
            }
        }
        orthogonalise(K, have, have, px, pq, c);
        if (normalise_if_large(K, have, px, c))
            have++;
    }
    mpfr_clear(c);
    free(px), free(pq);
    if (have < want) /* impossible in exact arithmetic: sum_i ||P e_i||^2 = dim */
        return optref_fail(OPTREF_ENOCONV, "mpmat_basis: found %zu of %zu basis vectors", have,
                           want);
    return OPTREF_OK;
}

optref_status mpmat_basis_canonical_cluster(mpmat_ptr V, size_t c0, size_t c1)
{
    if (c0 > c1 || c1 > V->cols)
        return optref_fail(OPTREF_EINVAL, "mpmat_basis_canonical_cluster: columns [%zu, %zu) "
                           "outside 0..%zu", c0, c1, V->cols);
    size_t n = V->rows, d = c1 - c0;
    if (d == 0)
        return OPTREF_OK;
    if (d > n) /* canonical_rows' scratch holds n entries; d > n cannot be orthonormal */
        return optref_fail(OPTREF_EINVAL, "mpmat_basis_canonical_cluster: %zu columns of "
                           "length %zu cannot be orthonormal", d, n);
    mpmat_t C, K; /* C: the cluster's columns as rows; K: the new basis as rows */
    optref_status st = mpmat_init(C, d, n, V->prec);
    if (st == OPTREF_OK && (st = mpmat_init(K, d, n, V->prec)) != OPTREF_OK)
        mpmat_clear(C);
    if (st != OPTREF_OK)
        return st;
    for (size_t r = 0; r < d; r++)
        for (size_t k = 0; k < n; k++)
            mpfr_set(mpmat_entry(C, r, k), mpmat_entry(V, k, c0 + r), MPFR_RNDN);
    st = canonical_rows(K, 0, d, C);
    if (st == OPTREF_OK)
        for (size_t r = 0; r < d; r++)
            for (size_t k = 0; k < n; k++)
                mpfr_set(mpmat_entry(V, k, c0 + r), mpmat_entry(K, r, k), MPFR_RNDN);
    mpmat_clear(C), mpmat_clear(K);
    return st;
}

optref_status mpmat_basis_complete(mpmat_ptr V, size_t c0)
{
    size_t n = V->rows, k = V->cols;
    if (c0 > k || k > n)
        return optref_fail(OPTREF_EINVAL, "mpmat_basis_complete: %zu kept columns of a %zux%zu "
                           "basis", c0, n, k);
    if (c0 == k)
        return OPTREF_OK;
    mpmat_t K;
    optref_status st = mpmat_init(K, k, n, V->prec);
    if (st != OPTREF_OK)
        return st;
    for (size_t r = 0; r < c0; r++)
        for (size_t i = 0; i < n; i++)
            mpfr_set(mpmat_entry(K, r, i), mpmat_entry(V, i, r), MPFR_RNDN);
    st = canonical_rows(K, c0, k, NULL);
    if (st == OPTREF_OK)
        for (size_t r = c0; r < k; r++)
            for (size_t i = 0; i < n; i++)
                mpfr_set(mpmat_entry(V, i, r), mpmat_entry(K, r, i), MPFR_RNDN);
    mpmat_clear(K);
    return st;
}

void mpmat_column_sign_canonical(mpmat_ptr V, size_t j)
{
    size_t best = 0;
    for (size_t i = 1; i < V->rows; i++)
        if (mpfr_cmpabs(mpmat_entry(V, i, j), mpmat_entry(V, best, j)) > 0)
            best = i;
    if (V->rows > 0 && mpfr_sgn(mpmat_entry(V, best, j)) < 0)
        for (size_t i = 0; i < V->rows; i++)
            mpfr_neg(mpmat_entry(V, i, j), mpmat_entry(V, i, j), MPFR_RNDN);
}
