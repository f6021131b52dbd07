/* Thin SVD by one-sided (Hestenes) Jacobi, and the polar factor.
 *
 * A is m x n, k = min(m, n). With X = A when m >= n and X = A^T when m < n
 * (r x k, r = max(m, n)), Jacobi rotations J are applied to the columns of
 * X until they are numerically orthogonal: X J = G, so X = (G S^-1) S J^T
 * with S = diag(||g_j||). For m >= n: U = G S^-1, V = J; for m < n (the
 * roles swap): U = J, V = G S^-1. Error analysis and the tested ratios:
 * proofs/qr-svd-residuals.md (Demmel and Veselic 1992; Drmac 1997).
 *
 * Working precision: w = p + 32 bits (SVD_GUARD_BITS, fixed), where p is the
 * largest precision among the requested outputs (P's for mpmat_polar). A is
 * rounded once to w bits; every temporary has w bits; outputs are rounded
 * once at the end.
 *
 * Order of operations. Columns g_0..g_{k-1} of X (kept as contiguous rows
 * of a scratch matrix) and the rows of J^T start as X's columns and I.
 * a_j = g_j . g_j is one correctly rounded mpfr_dot, recomputed whenever g_j
 * changes. A sweep visits the pairs (i, j), i < j, in row-cyclic order
 * (0,1), (0,2), ..., (0,k-1), (1,2), ..., (k-2,k-1). For each pair:
 *   c_ij = g_i . g_j                 correctly rounded mpfr_dot;
 *   rotate iff c_ij^2 > 2^(-2(p+16)) a_i a_j  (the test |cos angle(g_i, g_j)|
 *       > 2^-(p+16), evaluated as c_ij^2 (rounded) against
 *       (a_i a_j rounded) times 2^(-2(p+16)) (exact)); a zero column never
 *       rotates (c_ij = 0), nor does a negligible one: a_j <= 2^(-2(p+16))
 *       sum_l a_l, i.e. ||g_j|| <= 2^-(p+16) ||A||_F. Such a column is
 *       rounding noise of an exactly rank-deficient A (its singular value is
 *       far below the zero tolerance below); a relative test could never be
 *       met on it, since every rotation against a large column puts back
 *       noise of its own size, and leaving it adds at most 2^-(p+16) ||A||_F
 *       to the backward error;
 *   Rutishauser's rotation (as in Demmel and Veselic's one-sided Jacobi):
 *       zeta = (a_j - a_i) / (2 c_ij)          (subtract, then divide)
 *       t    = sign(zeta) / (|zeta| + hypot(1, zeta))   sign(0) = +1
 *       cs   = 1 / hypot(1, t),  sn = cs t     (each step one rounding);
 *   for every entry, of g and of J^T's rows alike:
 *       g_i <- cs g_i - sn g_j   (mpfr_fmms: one rounding)
 *       g_j <- sn g_i + cs g_j   (mpfr_fmma, from the old g_i: one rounding);
 *   a_i, a_j recomputed.
 * A sweep with no rotation ends the iteration (then every pair's cosine is
 * at most 2^-(p+16)); after SVD_MAX_SWEEPS sweeps with rotations the result
 * is OPTREF_ENOCONV. Cyclic Jacobi converges quadratically: the tests use
 * 9 to 12 sweeps, a 64 x 64 at 256 bits 12, a 128 x 128 at 256 bits 15.
 *
 * Singular values s_j = sqrt(a_j) (one rounding), sorted descending by a
 * stable insertion sort (equal values keep column order). U's column of a
 * nonzero singular value is g_j / s_j (one division per entry), which in
 * exact arithmetic is A v_j / s_j; taken from G rather than recomputed as
 * A v_j so that U is orthonormal to the convergence tolerance whatever the
 * conditioning (Demmel-Veselic).
 *
 * Zero singular values [decision, spec 1.1 and 1.2]: s_j is "zero" when
 * s_j <= tol = sqrt(2^-p) s_1 (sqrt(2^-p) correctly rounded, then times s_1,
 * rounded: the spec's 2^(-p/2), also for odd p), and all are zero when
 * A = 0. The columns of U and V belonging to zero singular values are
 * replaced by mpmat_basis_complete of the columns kept before them (spec
 * 1.2's completion rule; for V of a square or tall A this is the canonical
 * basis of the same null space). The value s_j itself is reported as
 * computed (a tiny number, of the order of 2^-w s_1, for an exactly
 * rank-deficient A); it is not set to zero.
 *
 * Signs (mpmat.h): each column of V gets its largest-magnitude component
 * positive (first index on ties); for a nonzero singular value U's column is
 * negated with it, keeping A v_j = s_j u_j; completed U columns are left as
 * the completion gives them. Every exact zero in the outputs is +0.
 *
 * mpmat_polar: P = sum over s_j > tol of u_j v_j^T, from the same internal
 * SVD at w = prec(P) + 32 bits, each entry of P one correctly rounded dot
 * over the kept columns (no completion or sign step: P does not depend on
 * them). A = 0 gives P = 0.
 *
 * Aliasing: U, s, V or P may be A (A is copied first); U, s and V must be
 * distinct from one another. */
#include "optref/mpmat.h"

#include <stdlib.h>

#define SVD_GUARD_BITS 32
#define SVD_CONV_BITS 16 /* convergence at cosine 2^-(p + SVD_CONV_BITS) */
#define SVD_MAX_SWEEPS 100

/* The SVD at working precision w, before rounding to the outputs. */
typedef struct {
    size_t m, n, k;
    mpmat_t U, V; /* m x k and n x k at w bits */
    __mpfr_struct *s; /* k values, descending */
    size_t rank;      /* number of s_j > tol */
} svd_work;

static mpfr_ptr *all_pointers(mpmat_srcptr A)
{
    size_t count = A->rows * A->cols;
    mpfr_ptr *p = malloc((count ? count : 1) * sizeof *p);
    if (p != NULL)
        for (size_t t = 0; t < count; t++)
            p[t] = A->e + t;
    return p;
}

/* Applies the rotation (cs, sn) to rows i and j of M (entries 0..len-1). */
static void rotate_rows(mpfr_ptr *ri, mpfr_ptr *rj, size_t len, mpfr_srcptr cs,
                        mpfr_srcptr sn, mpfr_ptr t1, mpfr_ptr t2)
{
    for (size_t e = 0; e < len; e++) {
        mpfr_fmms(t1, cs, ri[e], sn, rj[e], MPFR_RNDN); /* cs g_i - sn g_j */
        mpfr_fmma(t2, sn, ri[e], cs, rj[e], MPFR_RNDN); /* sn g_i + cs g_j */
        mpfr_swap(ri[e], t1);
        mpfr_swap(rj[e], t2);
    }
}

/* One-sided Jacobi on the k rows of G (each of length r, the columns of X),
 * accumulating the rotations into the rows of JT (k x k). On return a[j] =
 * g_j . g_j. */
static optref_status jacobi(mpmat_ptr G, mpmat_ptr JT, __mpfr_struct *a, mpfr_prec_t p)
{
    size_t k = G->rows, r = G->cols;
    mpfr_prec_t w = G->prec;
    mpfr_ptr *pg = all_pointers(G), *pj = all_pointers(JT);
    if (pg == NULL || pj == NULL) {
        free(pg), free(pj);
        return optref_fail(OPTREF_ENOMEM, "mpmat_svd: cannot allocate pointer tables");
    }
    mpfr_t c, lhs, rhs, zeta, t, cs, sn, t1, t2;
    mpfr_inits2(w, c, lhs, rhs, zeta, t, cs, sn, t1, t2, (mpfr_ptr)0);
    mpfr_t negligible;
    mpfr_init2(negligible, w);
    for (size_t j = 0; j < k; j++)
        mpfr_dot(a + j, pg + j * r, pg + j * r, r, MPFR_RNDN);
    /* negligible = 2^(-2(p+16)) ||A||_F^2 (the rotations keep ||A||_F) */
    mpfr_dot(negligible, pg, pg, r * k, MPFR_RNDN);
    mpfr_mul_2si(negligible, negligible, -2 * (long)(p + SVD_CONV_BITS), MPFR_RNDN);
    optref_status st = OPTREF_ENOCONV;
    for (int sweep = 0; sweep < SVD_MAX_SWEEPS; sweep++) {
        size_t rotations = 0;
        for (size_t i = 0; i + 1 < k; i++)
            for (size_t j = i + 1; j < k; j++) {
                mpfr_ptr *gi = pg + i * r, *gj = pg + j * r;
                if (mpfr_cmp(a + i, negligible) <= 0 || mpfr_cmp(a + j, negligible) <= 0)
                    continue;
                mpfr_dot(c, gi, gj, r, MPFR_RNDN);
                if (mpfr_zero_p(c))
                    continue;
                /* |c| > 2^-(p+16) sqrt(a_i a_j)  <=>  c^2 > 2^(-2(p+16)) a_i a_j */
                mpfr_sqr(lhs, c, MPFR_RNDN);
                mpfr_mul(rhs, a + i, a + j, MPFR_RNDN);
                mpfr_mul_2si(rhs, rhs, -2 * (long)(p + SVD_CONV_BITS), MPFR_RNDN);
                if (mpfr_cmp(lhs, rhs) <= 0)
                    continue;
                rotations++;
                /* zeta = (a_j - a_i) / (2 c), t = sign(zeta) / (|zeta| + sqrt(1 + zeta^2)) */
                mpfr_sub(zeta, a + j, a + i, MPFR_RNDN);
                mpfr_div(zeta, zeta, c, MPFR_RNDN);
                mpfr_div_2ui(zeta, zeta, 1, MPFR_RNDN);
                mpfr_set_ui(t, 1, MPFR_RNDN);
                mpfr_hypot(t, t, zeta, MPFR_RNDN);
                mpfr_abs(t1, zeta, MPFR_RNDN);
                mpfr_add(t, t, t1, MPFR_RNDN);
                mpfr_ui_div(t, 1, t, MPFR_RNDN);
                if (mpfr_sgn(zeta) < 0)
                    mpfr_neg(t, t, MPFR_RNDN);
                /* cs = 1 / sqrt(1 + t^2), sn = cs t */
                mpfr_set_ui(cs, 1, MPFR_RNDN);
                mpfr_hypot(cs, cs, t, MPFR_RNDN);
                mpfr_ui_div(cs, 1, cs, MPFR_RNDN);
                mpfr_mul(sn, cs, t, MPFR_RNDN);
                rotate_rows(gi, gj, r, cs, sn, t1, t2);
                rotate_rows(pj + i * k, pj + j * k, k, cs, sn, t1, t2);
                mpfr_dot(a + i, gi, gi, r, MPFR_RNDN);
                mpfr_dot(a + j, gj, gj, r, MPFR_RNDN);
            }
        if (rotations == 0) {
            st = OPTREF_OK;
            break;
        }
    }
    if (st != OPTREF_OK)
        optref_fail(st, "mpmat_svd: one-sided Jacobi did not converge in %d sweeps "
                    "(%zu columns at %ld bits)", SVD_MAX_SWEEPS, k, (long)w);
    mpfr_clears(c, lhs, rhs, zeta, t, cs, sn, t1, t2, negligible, (mpfr_ptr)0);
    free(pg), free(pj);
    return st;
}

/* Column j of M gets its largest-magnitude entry positive (first index on
 * ties); returns whether it was negated. */
static int sign_canonical(mpmat_ptr M, size_t j)
{
    size_t best = 0;
    for (size_t i = 1; i < M->rows; i++)
        if (mpfr_cmpabs(mpmat_entry(M, i, j), mpmat_entry(M, best, j)) > 0)
            best = i;
    if (M->rows == 0 || mpfr_sgn(mpmat_entry(M, best, j)) >= 0)
        return 0;
    for (size_t i = 0; i < M->rows; i++)
        mpfr_neg(mpmat_entry(M, i, j), mpmat_entry(M, i, j), MPFR_RNDN);
    return 1;
}

static void svd_work_clear(svd_work *W)
{
    if (W->s != NULL) {
        for (size_t j = 0; j < W->k; j++)
            mpfr_clear(W->s + j);
        free(W->s);
    }
    W->s = NULL;
    mpmat_clear(W->U), mpmat_clear(W->V);
}

/* The SVD of A at w = p + 32 bits into W (U and V both: V's signs decide
 * U's). complete: apply the completion and sign rules (mpmat_svd); without
 * it (mpmat_polar) only the columns of nonzero singular values are filled. */
static optref_status svd_compute(svd_work *W, mpmat_srcptr A, mpfr_prec_t p, int complete,
                                 const char *fn)
{
    size_t m = A->rows, n = A->cols, k = m < n ? m : n;
    W->m = m, W->n = n, W->k = k, W->s = NULL, W->rank = 0;
    W->U->e = W->V->e = NULL;
    if (p > MPFR_PREC_MAX - SVD_GUARD_BITS)
        return optref_fail(OPTREF_EINVAL, "%s: precision %ld too large", fn, (long)p);
    mpfr_prec_t w = p + SVD_GUARD_BITS;
    int wide = m < n;
    size_t r = wide ? n : m;
    mpmat_t G, JT;
    G->e = JT->e = NULL;
    size_t *perm = NULL;
    __mpfr_struct *sorted = NULL;
    int sorted_ready = 0;
    mpfr_t tol;
    mpfr_init2(tol, w);
    optref_status st = mpmat_init(W->U, m, k, w);
    if (st == OPTREF_OK)
        st = mpmat_init(W->V, n, k, w);
    if (st == OPTREF_OK)
        st = mpmat_init(G, k, r, w);
    if (st == OPTREF_OK)
        st = mpmat_init(JT, k, k, w);
    if (st != OPTREF_OK)
        goto done;
    W->s = malloc((k ? k : 1) * sizeof *W->s);
    perm = malloc((k ? k : 1) * sizeof *perm);
    sorted = malloc((k ? k : 1) * sizeof *sorted);
    if (W->s == NULL || perm == NULL || sorted == NULL) {
        free(W->s), W->s = NULL;
        st = optref_fail(OPTREF_ENOMEM, "%s: cannot allocate %zu singular values", fn, k);
        goto done;
    }
    for (size_t j = 0; j < k; j++)
        mpfr_init2(W->s + j, w), mpfr_init2(sorted + j, w);
    sorted_ready = 1;
    if (k == 0)
        goto done;

    /* G's rows = X's columns: A's columns (tall) or A's rows (wide). */
    for (size_t i = 0; i < m; i++)
        for (size_t l = 0; l < n; l++)
            mpfr_set(wide ? mpmat_entry(G, i, l) : mpmat_entry(G, l, i), mpmat_entry(A, i, l),
                     MPFR_RNDN);
    mpmat_one(JT);
    st = jacobi(G, JT, W->s, p);
    if (st != OPTREF_OK)
        goto done;

    /* s_j = sqrt(a_j); stable insertion sort, descending. */
    for (size_t j = 0; j < k; j++)
        mpfr_sqrt(W->s + j, W->s + j, MPFR_RNDN);
    for (size_t j = 0; j < k; j++) {
        size_t i = j;
        for (; i > 0 && mpfr_cmp(W->s + perm[i - 1], W->s + j) < 0; i--)
            perm[i] = perm[i - 1];
        perm[i] = j;
    }
    /* tol = sqrt(2^-p) s_1 */
    mpfr_set_ui_2exp(tol, 1, -(long)p, MPFR_RNDN);
    mpfr_sqrt(tol, tol, MPFR_RNDN);
    mpfr_mul(tol, tol, W->s + perm[0], MPFR_RNDN);
    size_t rank = 0;
    while (rank < k && mpfr_cmp(W->s + perm[rank], tol) > 0)
        rank++;
    W->rank = rank;

    /* The columns of G S^-1 (nonzero s only) and of J, in sorted order. */
    mpmat_ptr GS = wide ? W->V : W->U, Jm = wide ? W->U : W->V;
    for (size_t j = 0; j < rank; j++) {
        size_t c = perm[j];
        for (size_t i = 0; i < r; i++)
            mpfr_div(mpmat_entry(GS, i, j), mpmat_entry(G, c, i), W->s + c, MPFR_RNDN);
        for (size_t i = 0; i < k; i++)
            mpfr_set(mpmat_entry(Jm, i, j), mpmat_entry(JT, c, i), MPFR_RNDN);
    }
    /* s in sorted order (moved by mpfr_swap through `sorted`: no rounding). */
    for (size_t j = 0; j < k; j++)
        mpfr_swap(sorted + j, W->s + perm[j]);
    for (size_t j = 0; j < k; j++)
        mpfr_swap(sorted + j, W->s + j);

    if (complete) {
        /* Signs: V's columns of nonzero s (U's with them), then completion. */
        for (size_t j = 0; j < rank; j++)
            if (sign_canonical(W->V, j))
                for (size_t i = 0; i < m; i++)
                    mpfr_neg(mpmat_entry(W->U, i, j), mpmat_entry(W->U, i, j), MPFR_RNDN);
        if ((st = mpmat_basis_complete(W->U, rank)) != OPTREF_OK ||
            (st = mpmat_basis_complete(W->V, rank)) != OPTREF_OK)
            goto done;
        for (size_t j = rank; j < k; j++)
            sign_canonical(W->V, j);
    }

done:
    if (st != OPTREF_OK)
        svd_work_clear(W);
    if (sorted_ready)
        for (size_t j = 0; j < k; j++)
            mpfr_clear(sorted + j);
    free(perm), free(sorted);
    mpmat_clear(G), mpmat_clear(JT);
    mpfr_clear(tol);
    return st;
}

/* rop = x rounded to rop's precision; an exact zero becomes +0. */
static void set_canonical(mpfr_ptr rop, mpfr_srcptr x)
{
    if (mpfr_zero_p(x))
        mpfr_set_zero(rop, 1);
    else
        mpfr_set(rop, x, MPFR_RNDN);
}

static void round_out(mpmat_ptr out, mpmat_srcptr in)
{
    for (size_t t = 0; t < in->rows * in->cols; t++)
        set_canonical(out->e + t, in->e + t);
}

static optref_status check_finite(mpmat_srcptr A, const char *fn)
{
    size_t bad = mpmat_first_nonfinite(A);
    if (bad != A->rows * A->cols)
        return optref_fail(OPTREF_ENONFINITE, "%s: A[%zu][%zu] is not finite", fn,
                           bad / A->cols, bad % A->cols);
    return OPTREF_OK;
}

optref_status mpmat_svd(mpmat_ptr U, mpmat_ptr s, mpmat_ptr V, mpmat_srcptr A)
{
    size_t m = A->rows, n = A->cols, k = m < n ? m : n;
    if (U != NULL && (U->rows != m || U->cols != k))
        return optref_fail(OPTREF_ESHAPE, "mpmat_svd: U is %zux%zu, expected %zux%zu for A %zux%zu",
                           U->rows, U->cols, m, k, m, n);
    if (s != NULL && (s->rows != k || s->cols != 1))
        return optref_fail(OPTREF_ESHAPE, "mpmat_svd: s is %zux%zu, expected %zux1 for A %zux%zu",
                           s->rows, s->cols, k, m, n);
    if (V != NULL && (V->rows != n || V->cols != k))
        return optref_fail(OPTREF_ESHAPE, "mpmat_svd: V is %zux%zu, expected %zux%zu for A %zux%zu",
                           V->rows, V->cols, n, k, m, n);
    if ((U != NULL && (U == s || U == V)) || (s != NULL && s == V))
        return optref_fail(OPTREF_EINVAL, "mpmat_svd: U, s and V must be distinct matrices");
    optref_status st = check_finite(A, "mpmat_svd");
    if (st != OPTREF_OK || (U == NULL && s == NULL && V == NULL) || k == 0)
        return st;
    mpfr_prec_t p = 0;
    if (U != NULL)
        p = U->prec;
    if (s != NULL && s->prec > p)
        p = s->prec;
    if (V != NULL && V->prec > p)
        p = V->prec;
    svd_work W;
    st = svd_compute(&W, A, p, 1, "mpmat_svd");
    if (st != OPTREF_OK)
        return st;
    if (U != NULL)
        round_out(U, W.U);
    if (V != NULL)
        round_out(V, W.V);
    if (s != NULL)
        for (size_t j = 0; j < k; j++)
            set_canonical(mpmat_entry(s, j, 0), W.s + j);
    svd_work_clear(&W);
    return OPTREF_OK;
}

optref_status mpmat_polar(mpmat_ptr P, mpmat_srcptr A)
{
    size_t m = A->rows, n = A->cols;
    if (P->rows != m || P->cols != n)
        return optref_fail(OPTREF_ESHAPE, "mpmat_polar: P is %zux%zu, expected %zux%zu",
                           P->rows, P->cols, m, n);
    optref_status st = check_finite(A, "mpmat_polar");
    if (st != OPTREF_OK)
        return st;
    svd_work W;
    st = svd_compute(&W, A, P->prec, 0, "mpmat_polar");
    if (st != OPTREF_OK)
        return st;
    /* P_il = sum_{j < rank} U_ij V_lj, one correctly rounded dot per entry
     * (the empty sum, rank 0, is +0). */
    size_t rank = W.rank;
    mpfr_ptr *pu = malloc((rank ? rank : 1) * sizeof *pu);
    mpfr_ptr *pv = malloc((rank ? rank : 1) * sizeof *pv);
    if (pu == NULL || pv == NULL) {
        free(pu), free(pv);
        svd_work_clear(&W);
        return optref_fail(OPTREF_ENOMEM, "mpmat_polar: cannot allocate pointer tables");
    }
    for (size_t i = 0; i < m; i++) {
        for (size_t j = 0; j < rank; j++)
            pu[j] = mpmat_entry(W.U, i, j);
        for (size_t l = 0; l < n; l++) {
            mpfr_ptr e = mpmat_entry(P, i, l);
            for (size_t j = 0; j < rank; j++)
                pv[j] = mpmat_entry(W.V, l, j);
            mpfr_dot(e, pu, pv, rank, MPFR_RNDN);
            if (mpfr_zero_p(e))
                mpfr_set_zero(e, 1);
        }
    }
    free(pu), free(pv);
    svd_work_clear(&W);
    return OPTREF_OK;
}
