/* Symmetric eigendecomposition by cyclic Jacobi (spec/optimizers.md 1.2).
 *
 * Algorithm (Jacobi 1846; Rutishauser 1966, "The Jacobi method for real
 * symmetric matrices", Numer. Math. 9; Golub & Van Loan 8.5):
 *
 *  - Working precision wp = p_out + EIGH_GUARD_BITS, p_out = the larger of
 *    w's and V's precisions (the guard is fixed, so the whole computation is
 *    a function of (A, p_out) alone). A is copied (rounded) to wp; only its
 *    upper triangle is stored and updated, the lower one being implied by
 *    symmetry.
 *  - Sweeps in row-cyclic order (p, q) = (0,1), (0,2), ..., (0,n-1), (1,2),
 *    ..., (n-2,n-1). The rotation that annihilates a_pq (Rutishauser):
 *        theta = (a_qq - a_pp) / (2 a_pq),
 *        t = sign(theta) / (|theta| + sqrt(theta^2 + 1))   (sign(0) = +1),
 *        c = 1 / sqrt(t^2 + 1),  s = t c,
 *        a_pp <- a_pp - t a_pq,  a_qq <- a_qq + t a_pq,  a_pq <- 0,
 *        a_rp <- c a_rp - s a_rq,  a_rq <- s a_rp + c a_rq   (r != p, q),
 *        v_p  <- c v_p - s v_q,    v_q  <- s v_p + c v_q     (eigenvector rows).
 *    sqrt(theta^2 + 1) and sqrt(t^2 + 1) are mpfr_hypot (one rounding each);
 *    each updated entry is one correctly rounded mpfr_fma / mpfr_fmma, so a
 *    rotation rounds every entry it touches exactly once.
 *  - Skip test: a rotation is skipped when |a_pq| <= 2^-wp ||A||_F (||A||_F
 *    of the input, computed once at wp). The iteration stops after the first
 *    sweep that skips every rotation; then every off-diagonal entry is at most
 *    2^-wp ||A||_F, so off(A) <= n 2^-wp ||A||_F, a backward error far below
 *    the output's 2^-p_out (proofs/eigh-residuals.md). A sweep limit of
 *    EIGH_MAX_SWEEPS gives OPTREF_ENOCONV (cyclic Jacobi converges
 *    quadratically; 1056 bits take about a dozen sweeps).
 *  - The eigenvalues are the final diagonal; they are stably sorted
 *    descending (equal values keep their index order), and the eigenvector
 *    rows are permuted alike.
 *  - Canonical form (spec 1.2): with p = V's precision and
 *    tol = 2^(-p/2) ||A||_F (computed at wp as sqrt(2^-p) ||A||_F), sorted
 *    working eigenvalues (at wp) whose consecutive differences are <= tol
 *    form a cluster; a cluster of size >= 2 gets mpmat_basis_canonical_cluster
 *    (applied at wp, before rounding to V); then V is rounded, and every
 *    singleton column is made sign-canonical on the rounded values
 *    (mpmat_column_sign_canonical), so the output itself satisfies the rule.
 *    Every zero in w and V is +0 (a column's sign flip or an exact product
 *    would otherwise leave -0; the sign of zero is part of the canonical
 *    form).
 *
 * Inputs: A must be finite (else OPTREF_ENONFINITE) and exactly symmetric,
 * a_ij == a_ji as numbers (else OPTREF_EINVAL naming the first pair in
 * row-major order). A is read completely before any output is written, so
 * w or V may alias A. */
#include "optref/mpmat.h"

#include <stdlib.h>

/* Fixed extra bits of the working precision. */
#define EIGH_GUARD_BITS 32
/* Sweeps before OPTREF_ENOCONV. */
#define EIGH_MAX_SWEEPS 100

/* The stored (upper-triangle) entry (i, j) or (j, i) of the working matrix. */
static inline mpfr_ptr upper(__mpfr_struct *a, size_t n, size_t i, size_t j)
{
    return i < j ? a + i * n + j : a + j * n + i;
}

/* Preallocated temporaries of the rotation loop. */
typedef struct {
    mpfr_t theta, h, t, negt, c, s, negs, tmp, thr, one;
} jacobi_tmp;

/* One rotation annihilating a_pq (upper triangle: p < q). vt: n x n, the
 * eigenvectors as rows (NULL when not wanted). Returns 1 when rotated, 0
 * when skipped. */
static int rotate(__mpfr_struct *a, size_t n, size_t p, size_t q, mpmat_ptr vt, jacobi_tmp *T)
{
    mpfr_ptr apq = a + p * n + q, app = a + p * n + p, aqq = a + q * n + q;
    if (mpfr_cmpabs(apq, T->thr) <= 0)
        return 0;
    /* theta = (a_qq - a_pp) / (2 a_pq) */
    mpfr_sub(T->theta, aqq, app, MPFR_RNDN);
    mpfr_div(T->theta, T->theta, apq, MPFR_RNDN);
    mpfr_div_2ui(T->theta, T->theta, 1, MPFR_RNDN);
    /* t = sign(theta) / (|theta| + sqrt(theta^2 + 1)) */
    mpfr_hypot(T->h, T->theta, T->one, MPFR_RNDN);
    int neg = mpfr_sgn(T->theta) < 0;
    mpfr_abs(T->theta, T->theta, MPFR_RNDN);
    mpfr_add(T->h, T->h, T->theta, MPFR_RNDN);
    mpfr_ui_div(T->t, 1, T->h, MPFR_RNDN);
    if (neg)
        mpfr_neg(T->t, T->t, MPFR_RNDN);
    /* c = 1 / sqrt(t^2 + 1), s = t c */
    mpfr_hypot(T->h, T->t, T->one, MPFR_RNDN);
    mpfr_ui_div(T->c, 1, T->h, MPFR_RNDN);
    mpfr_mul(T->s, T->t, T->c, MPFR_RNDN);
    mpfr_neg(T->negs, T->s, MPFR_RNDN);
    mpfr_neg(T->negt, T->t, MPFR_RNDN);
    /* diagonal: a_pp - t a_pq, a_qq + t a_pq (one rounding each) */
    mpfr_fma(app, T->negt, apq, app, MPFR_RNDN);
    mpfr_fma(aqq, T->t, apq, aqq, MPFR_RNDN);
    mpfr_set_zero(apq, 1);
    /* rows/columns p and q: x = a_rp, y = a_rq */
    for (size_t r = 0; r < n; r++) {
        if (r == p || r == q)
            continue;
        mpfr_ptr x = upper(a, n, r, p), y = upper(a, n, r, q);
        mpfr_fmma(T->tmp, T->c, x, T->negs, y, MPFR_RNDN); /* c x - s y */
        mpfr_fmma(y, T->s, x, T->c, y, MPFR_RNDN);         /* s x + c y */
        mpfr_swap(x, T->tmp);
    }
    if (vt != NULL) {
        mpfr_ptr vp = mpmat_entry(vt, p, 0), vq = mpmat_entry(vt, q, 0);
        for (size_t r = 0; r < n; r++) {
            mpfr_fmma(T->tmp, T->c, vp + r, T->negs, vq + r, MPFR_RNDN);
            mpfr_fmma(vq + r, T->s, vp + r, T->c, vq + r, MPFR_RNDN);
            mpfr_swap(vp + r, T->tmp);
        }
    }
    return 1;
}

/* Stable insertion sort of idx[0..n-1] by column 0 of W, descending (a
 * value moves before an earlier one only when strictly greater). */
static void sort_descending(size_t *idx, mpmat_srcptr W, size_t n)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 1; i < n; i++) {
        size_t x = idx[i], j = i;
        while (j > 0 && mpfr_greater_p(mpmat_entry(W, x, 0), mpmat_entry(W, idx[j - 1], 0))) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = x;
    }
}

/* Every zero of the output is +0 (a sign flip or an exact product would
 * otherwise leave -0: the sign of zero is part of the canonical form). */
static void positive_zeros(mpmat_ptr M)
{
    for (size_t k = 0; k < M->rows * M->cols; k++)
        if (mpfr_zero_p(M->e + k))
            mpfr_set_zero(M->e + k, 1);
}

static optref_status check_input(mpmat_srcptr w, mpmat_srcptr V, mpmat_srcptr A)
{
    size_t n = A->rows;
    if (A->cols != n)
        return optref_fail(OPTREF_ESHAPE, "mpmat_eigh: A is %zux%zu, not square", A->rows,
                           A->cols);
    if (w->rows != n || w->cols != 1)
        return optref_fail(OPTREF_ESHAPE, "mpmat_eigh: w is %zux%zu, expected %zux1", w->rows,
                           w->cols, n);
    if (V != NULL && (V->rows != n || V->cols != n))
        return optref_fail(OPTREF_ESHAPE, "mpmat_eigh: V is %zux%zu, expected %zux%zu",
                           V->rows, V->cols, n, n);
    size_t bad = mpmat_first_nonfinite(A);
    if (bad < n * n)
        return optref_fail(OPTREF_ENONFINITE, "mpmat_eigh: A[%zu][%zu] is not finite",
                           bad / n, bad % n);
    /* squares and their sum must stay inside MPFR's exponent range (mpfr_dot
     * in ||A||_F does not handle overflow): |a_ij| in 2^(emin/2 + 64) ..
     * 2^(emax/2 - 64), about 2^(+-2^29), or zero */
    mpfr_exp_t elo = mpfr_get_emin() / 2 + 64, ehi = mpfr_get_emax() / 2 - 64;
    for (size_t k = 0; k < n * n; k++)
        if (!mpfr_zero_p(A->e + k) &&
            (mpfr_get_exp(A->e + k) < elo || mpfr_get_exp(A->e + k) > ehi))
            return optref_fail(OPTREF_EINVAL, "mpmat_eigh: A[%zu][%zu] is outside the "
                               "exponent range 2^%ld .. 2^%ld", k / n, k % n, (long)elo,
                               (long)ehi);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (!mpfr_equal_p(mpmat_entry(A, i, j), mpmat_entry(A, j, i)))
                return optref_fail(OPTREF_EINVAL, "mpmat_eigh: A is not symmetric: "
                                   "A[%zu][%zu] != A[%zu][%zu]", i, j, j, i);
    return OPTREF_OK;
}

optref_status mpmat_eigh(mpmat_ptr w, mpmat_ptr V, mpmat_srcptr A)
{
    optref_status st = check_input(w, V, A);
    if (st != OPTREF_OK)
        return st;
    size_t n = A->rows;
    if (n == 0)
        return OPTREF_OK;
    mpfr_prec_t pout = w->prec;
    if (V != NULL && V->prec > pout)
        pout = V->prec;
    mpfr_prec_t wp = pout + EIGH_GUARD_BITS;

    mpmat_t W, VT; /* W: working matrix (upper triangle); VT: eigenvectors as rows */
    VT->e = NULL;
    size_t *idx = malloc(n * sizeof *idx);
    if (idx == NULL)
        return optref_fail(OPTREF_ENOMEM, "mpmat_eigh: cannot allocate %zu indices", n);
    if ((st = mpmat_init(W, n, n, wp)) != OPTREF_OK) {
        free(idx);
        return st;
    }
    if (V != NULL && (st = mpmat_init(VT, n, n, wp)) != OPTREF_OK) {
        free(idx);
        mpmat_clear(W);
        return st;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i; j < n; j++)
            mpfr_set(mpmat_entry(W, i, j), mpmat_entry(A, i, j), MPFR_RNDN);
    if (V != NULL)
        mpmat_one(VT);

    jacobi_tmp T;
    mpfr_inits2(wp, T.theta, T.h, T.t, T.negt, T.c, T.s, T.negs, T.tmp, T.thr, T.one, (mpfr_ptr)0);
    mpfr_t normf, tol, d;
    mpfr_inits2(wp, normf, tol, d, (mpfr_ptr)0);
    /* ||A||_F of the input (correctly rounded sum of squares, then sqrt, at wp) */
    mpmat_norm_fro(normf, A);
    mpfr_mul_2si(T.thr, normf, -(long)wp, MPFR_RNDN); /* skip threshold 2^-wp ||A||_F */
    mpfr_set_ui(T.one, 1, MPFR_RNDN);

    int converged = 0;
    for (int sweep = 0; sweep < EIGH_MAX_SWEEPS && !converged; sweep++) {
        int rotated = 0;
        for (size_t p = 0; p + 1 < n; p++)
            for (size_t q = p + 1; q < n; q++)
                rotated |= rotate(W->e, n, p, q, V != NULL ? VT : NULL, &T);
        converged = !rotated;
    }
    if (!converged) {
        st = optref_fail(OPTREF_ENOCONV, "mpmat_eigh: no convergence of the %zux%zu Jacobi "
                         "iteration after %d sweeps", n, n, EIGH_MAX_SWEEPS);
        goto done;
    }

    /* eigenvalues: the diagonal, sorted descending (stable) */
    for (size_t i = 0; i < n; i++)
        mpfr_swap(mpmat_entry(W, i, 0), mpmat_entry(W, i, i)); /* column 0 := diagonal */
    sort_descending(idx, W, n);

    if (V != NULL) {
        /* Vs: the sorted eigenvectors as columns, at wp */
        mpmat_t Vs;
        if ((st = mpmat_init(Vs, n, n, wp)) != OPTREF_OK)
            goto done;
        for (size_t k = 0; k < n; k++)
            for (size_t r = 0; r < n; r++)
                mpfr_swap(mpmat_entry(Vs, r, k), mpmat_entry(VT, idx[k], r));
        /* clusters: consecutive sorted eigenvalues within tol = 2^(-p/2) ||A||_F */
        mpfr_set_ui_2exp(tol, 1, -(long)V->prec, MPFR_RNDN);
        mpfr_sqrt(tol, tol, MPFR_RNDN);
        mpfr_mul(tol, tol, normf, MPFR_RNDN);
        unsigned char *single = malloc(n);
        if (single == NULL) {
            mpmat_clear(Vs);
            st = optref_fail(OPTREF_ENOMEM, "mpmat_eigh: cannot allocate %zu flags", n);
            goto done;
        }
        size_t c0 = 0;
        for (size_t k = 1; k <= n && st == OPTREF_OK; k++) {
            int joins = 0;
            if (k < n) {
                mpfr_sub(d, mpmat_entry(W, idx[k - 1], 0), mpmat_entry(W, idx[k], 0),
                         MPFR_RNDN);
                joins = mpfr_lessequal_p(d, tol);
            }
            if (!joins) { /* cluster [c0, k) ends */
                for (size_t j = c0; j < k; j++)
                    single[j] = k - c0 == 1;
                if (k - c0 >= 2)
                    st = mpmat_basis_canonical_cluster(Vs, c0, k);
                c0 = k;
            }
        }
        if (st == OPTREF_OK) {
            mpmat_set(V, Vs);
            for (size_t k = 0; k < n; k++)
                if (single[k])
                    mpmat_column_sign_canonical(V, k);
            positive_zeros(V);
        }
        free(single);
        mpmat_clear(Vs);
        if (st != OPTREF_OK)
            goto done;
    }
    for (size_t k = 0; k < n; k++)
        mpfr_set(mpmat_entry(w, k, 0), mpmat_entry(W, idx[k], 0), MPFR_RNDN);
    positive_zeros(w);

done:
    mpfr_clears(T.theta, T.h, T.t, T.negt, T.c, T.s, T.negs, T.tmp, T.thr, T.one,
                (mpfr_ptr)0);
    mpfr_clears(normf, tol, d, (mpfr_ptr)0);
    mpmat_clear(W);
    if (V != NULL)
        mpmat_clear(VT);
    free(idx);
    return st;
}
