/* The eigenbasis machinery of spec/optimizers.md 1.2 (SOAP, DeVA-Sinf and
 * its variants), following nikhilvyas/SOAP soap.py (init_preconditioner,
 * update_preconditioner, project, project_back, get_orthogonal_matrix_QR).
 *
 * Order of operations (docs/reference-arithmetic.md):
 *  - factor update P <- b P + (1 - b) G G^T: each entry of G G^T (or G^T G)
 *    is one correctly rounded dot (mpmat_mul_nt / mpmat_mul_tn), b P is
 *    rounded, then one fused rounding fma(1 - b, (G G^T)_ij, b P_ij); the
 *    same operations on (i, j) and (j, i), so P stays exactly symmetric
 *    (mpmat_eigh requires it);
 *  - project(X) = (Q_L^T X) Q_R and project_back(X) = (Q_L X) Q_R^T: two
 *    correctly rounded products, the left one first (soap.py contracts
 *    dimension 0 first); an unrotated side is skipped (identity, exact);
 *  - refresh of a side with factor P and basis Q: PQ = P Q (correctly
 *    rounded entries), e_j = dot(Q[:, j], PQ[:, j]) correctly rounded (this is
 *    (Q^T P Q)_jj: P is exactly symmetric, so (Q^T P)_j = (P Q)_j^T bit for
 *    bit), pi = mpvec_argsort(e, descending) (stable), the second-moment
 *    tensor permuted along the side's axis by pi (exact moves), and
 *    Q <- eigenbasis_qr_canonical(PQ[:, pi]) -- the columns of P Q[:, pi] are
 *    the permuted columns of PQ, the same rounded numbers -- with
 *    tol = 2^(-p/2) ||P||_F. */
#include "eigenbasis.h"

#include <stdlib.h>

void eigenbasis_get(eigenbasis *E, const ref_opt *o)
{
    E->L = ref_opt_state(o, "L");
    E->R = ref_opt_state(o, "R");
    E->QL = ref_opt_state(o, "Q_L");
    E->QR = ref_opt_state(o, "Q_R");
    E->ready = ref_opt_state(o, "basis_ready");
    E->k = ref_opt_state(o, "k");
}

int eigenbasis_ready(const eigenbasis *E)
{
    return !mpfr_zero_p(E->ready->e);
}

unsigned long eigenbasis_count(const eigenbasis *E)
{
    mpfr_add_ui(E->k->e, E->k->e, 1, MPFR_RNDN); /* exact: k < 2^53 */
    return mpfr_get_ui(E->k->e, MPFR_RNDN);
}

void eigenbasis_tol(mpfr_ptr tol, mpmat_srcptr P)
{
    mpfr_t nrm;
    mpfr_init2(nrm, mpfr_get_prec(tol));
    mpmat_norm_fro(nrm, P);
    mpfr_set_ui_2exp(tol, 1, -(long)mpfr_get_prec(tol), MPFR_RNDN);
    mpfr_sqrt(tol, tol, MPFR_RNDN); /* 2^(-p/2) */
    mpfr_mul(tol, tol, nrm, MPFR_RNDN);
    mpfr_clear(nrm);
}

/* P <- b P + (1 - b) G G^T (left) or G^T G (right); skipped when P is 0 x 0. */
static optref_status update_factor(const ref_opt *o, mpmat_ptr P, mpmat_srcptr G, int right)
{
    if (P->rows == 0)
        return OPTREF_OK;
    mpfr_srcptr b = ref_opt_real(o, "shampoo_beta");
    mpmat_t GG;
    optref_status st = mpmat_init(GG, P->rows, P->cols, o->prec);
    if (st != OPTREF_OK)
        return st;
    st = right ? mpmat_mul_tn(GG, G, G) : mpmat_mul_nt(GG, G, G);
    if (st == OPTREF_OK) {
        mpfr_t w, bp;
        REF_TMP_INIT(o, w, bp);
        mpfr_ui_sub(w, 1, b, MPFR_RNDN); /* 1 - b */
        for (size_t i = 0; i < P->rows * P->cols; i++) {
            mpfr_mul(bp, b, P->e + i, MPFR_RNDN);
            mpfr_fma(P->e + i, w, GG->e + i, bp, MPFR_RNDN);
        }
        REF_TMP_CLEAR(w, bp);
    }
    mpmat_clear(GG);
    return st;
}

/* Q = the canonical eigenvectors of P (descending); skipped when 0 x 0. */
static optref_status eigenbasis_of(mpmat_ptr Q, mpmat_srcptr P)
{
    if (P->rows == 0)
        return OPTREF_OK;
    mpmat_t w;
    optref_status st = mpmat_init(w, P->rows, 1, Q->prec);
    if (st == OPTREF_OK)
        st = mpmat_eigh(w, Q, P);
    mpmat_clear(w);
    return st;
}

/* Q := the given basis of the conformance hook (ref_optim.h basis_override). */
static optref_status take_basis(mpmat_ptr Q, mpmat_srcptr given)
{
    if (given->rows != Q->rows || given->cols != Q->cols)
        return optref_fail(OPTREF_ESHAPE, "eigenbasis: the given basis is %zux%zu, the side's "
                           "is %zux%zu", given->rows, given->cols, Q->rows, Q->cols);
    return mpmat_set(Q, given);
}

optref_status eigenbasis_first_call(const ref_opt *o, const eigenbasis *E, mpmat_srcptr G)
{
    optref_status st = update_factor(o, E->L, G, 0);
    if (st == OPTREF_OK)
        st = update_factor(o, E->R, G, 1);
    if (st == OPTREF_OK)
        st = o->basis_override[0] ? take_basis(E->QL, o->basis_override[0])
                                  : eigenbasis_of(E->QL, E->L);
    if (st == OPTREF_OK)
        st = o->basis_override[1] ? take_basis(E->QR, o->basis_override[1])
                                  : eigenbasis_of(E->QR, E->R);
    if (st == OPTREF_OK)
        mpfr_set_ui(E->ready->e, 1, MPFR_RNDN);
    return st;
}

optref_status eigenbasis_project(mpmat_ptr Y, const eigenbasis *E, mpmat_srcptr X)
{
    optref_status st = E->QL->rows ? mpmat_mul_tn(Y, E->QL, X) : mpmat_set(Y, X);
    if (st == OPTREF_OK && E->QR->rows)
        st = mpmat_mul(Y, Y, E->QR);
    return st;
}

optref_status eigenbasis_project_back(mpmat_ptr Y, const eigenbasis *E, mpmat_srcptr X)
{
    optref_status st = E->QL->rows ? mpmat_mul(Y, E->QL, X) : mpmat_set(Y, X);
    if (st == OPTREF_OK && E->QR->rows)
        st = mpmat_mul_nt(Y, Y, E->QR);
    return st;
}

/* The QR of the columns of A listed in keep[0..nk) into Qk (n x nk) and Rk
 * (nk x nk); returns in *bad the first position whose R_jj <= tol, or nk. */
static optref_status qr_kept(mpmat_ptr Qk, mpmat_srcptr A, const size_t *keep, size_t nk,
                             mpfr_srcptr tol, size_t *bad)
{
    size_t n = A->rows;
    mpmat_t Ak, Rk;
    *bad = nk;
    optref_status st = mpmat_init(Ak, n, nk, A->prec);
    if (st != OPTREF_OK)
        return st;
    if ((st = mpmat_init(Rk, nk, nk, A->prec)) != OPTREF_OK) {
        mpmat_clear(Ak);
        return st;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < nk; j++)
            mpfr_set(mpmat_entry(Ak, i, j), mpmat_entry(A, i, keep[j]), MPFR_RNDN);
    st = mpmat_qr(Qk, Rk, Ak);
    for (size_t j = 0; st == OPTREF_OK && j < nk; j++)
        if (mpfr_lessequal_p(mpmat_entry(Rk, j, j), tol)) {
            *bad = j;
            break;
        }
    mpmat_clear(Ak), mpmat_clear(Rk);
    return st;
}

optref_status eigenbasis_qr_canonical(mpmat_ptr Q, mpmat_srcptr A, mpfr_srcptr tol)
{
    size_t n = A->rows;
    if (A->cols != n || Q->rows != n || Q->cols != n)
        return optref_fail(OPTREF_ESHAPE, "eigenbasis_qr_canonical: A is %zux%zu and Q %zux%zu, "
                           "expected square and equal", A->rows, A->cols, Q->rows, Q->cols);
    size_t *keep = malloc((n ? n : 1) * sizeof *keep), nk = n, bad = n;
    char *kept = malloc(n ? n : 1);
    if (keep == NULL || kept == NULL) {
        free(keep), free(kept);
        return optref_fail(OPTREF_ENOMEM, "eigenbasis_qr_canonical: out of memory");
    }
    for (size_t j = 0; j < n; j++)
        keep[j] = j;
    mpmat_t S; /* n x n: the kept columns' Q factor, then its completion */
    optref_status st = mpmat_init(S, n, n, Q->prec);
    /* Greedy: drop the first column with R_jj <= tol and redo the QR (the
     * columns before it are exact; a later small R_jj is only an upper bound
     * on that column's distance from the kept span). */
    while (st == OPTREF_OK && nk > 0) {
        mpmat_t Qk;
        if ((st = mpmat_init(Qk, n, nk, Q->prec)) != OPTREF_OK)
            break;
        st = qr_kept(Qk, A, keep, nk, tol, &bad);
        if (st == OPTREF_OK && bad == nk)
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < nk; j++)
                    mpfr_set(mpmat_entry(S, i, j), mpmat_entry(Qk, i, j), MPFR_RNDN);
        mpmat_clear(Qk);
        if (st != OPTREF_OK || bad == nk)
            break;
        for (size_t j = bad; j + 1 < nk; j++)
            keep[j] = keep[j + 1];
        nk--;
    }
    if (st == OPTREF_OK)
        st = mpmat_basis_complete(S, nk);
    if (st == OPTREF_OK) {
        for (size_t j = 0; j < n; j++)
            kept[j] = 0;
        for (size_t j = 0; j < nk; j++)
            kept[keep[j]] = 1;
        /* kept positions take S's first nk columns in order, the others the
         * completion columns in order */
        size_t a = 0, b = nk;
        for (size_t j = 0; j < n; j++) {
            size_t from = kept[j] ? a++ : b++;
            for (size_t i = 0; i < n; i++)
                mpfr_set(mpmat_entry(Q, i, j), mpmat_entry(S, i, from), MPFR_RNDN);
            mpmat_column_sign_canonical(Q, j);
        }
    }
    mpmat_clear(S); /* safe after a failed init: e is NULL */
    free(keep), free(kept);
    return st;
}

/* Permutes the rows (left side) or columns (right side) of X by pi:
 * X_new[i, :] = X[pi[i], :] (exact moves). */
static optref_status permute_axis(mpmat_ptr X, const size_t *pi, int right)
{
    mpmat_t T;
    optref_status st = mpmat_init(T, X->rows, X->cols, X->prec);
    if (st != OPTREF_OK)
        return st;
    for (size_t i = 0; i < X->rows; i++)
        for (size_t j = 0; j < X->cols; j++)
            mpfr_swap(mpmat_entry(T, i, j),
                      right ? mpmat_entry(X, i, pi[j]) : mpmat_entry(X, pi[i], j));
    for (size_t k = 0; k < X->rows * X->cols; k++)
        mpfr_swap(X->e + k, T->e + k);
    mpmat_clear(T);
    return OPTREF_OK;
}

/* Refresh (c) of one rotated side: factor P, basis Q, second moment X
 * permuted along rows (left) or columns (right); given (the conformance
 * hook, or NULL) replaces the canonical QR's result. */
static optref_status refresh_side(const ref_opt *o, mpmat_srcptr P, mpmat_ptr Q, mpmat_ptr X,
                                  int right, mpmat_srcptr given)
{
    size_t n = P->rows;
    if (n == 0)
        return OPTREF_OK;
    mpmat_t PQ, A, e;
    size_t *pi = malloc(n * sizeof *pi);
    mpfr_ptr *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
    mpfr_t tol;
    PQ->e = A->e = e->e = NULL;
    optref_status st = pi && pa && pb ? OPTREF_OK
                                      : optref_fail(OPTREF_ENOMEM, "eigenbasis: out of memory");
    if (st == OPTREF_OK)
        st = mpmat_init(PQ, n, n, o->prec);
    if (st == OPTREF_OK)
        st = mpmat_init(A, n, n, o->prec);
    if (st == OPTREF_OK)
        st = mpmat_init(e, n, 1, o->prec);
    if (st == OPTREF_OK)
        st = mpmat_mul(PQ, P, Q);
    for (size_t j = 0; st == OPTREF_OK && j < n; j++) { /* e_j = (Q^T P Q)_jj */
        for (size_t i = 0; i < n; i++)
            pa[i] = mpmat_entry(Q, i, j), pb[i] = mpmat_entry(PQ, i, j);
        mpfr_dot(e->e + j, pa, pb, n, MPFR_RNDN);
    }
    if (st == OPTREF_OK)
        st = mpvec_argsort(pi, e->e, n, 1);
    if (st == OPTREF_OK)
        st = permute_axis(X, pi, right);
    if (st == OPTREF_OK && given != NULL)
        st = take_basis(Q, given);
    else if (st == OPTREF_OK) { /* A = P Q[:, pi] */
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                mpfr_set(mpmat_entry(A, i, j), mpmat_entry(PQ, i, pi[j]), MPFR_RNDN);
        mpfr_init2(tol, o->prec);
        eigenbasis_tol(tol, P);
        st = eigenbasis_qr_canonical(Q, A, tol);
        mpfr_clear(tol);
    }
    mpmat_clear(PQ), mpmat_clear(A), mpmat_clear(e); /* e is NULL when not initialised */
    free(pi), free(pa), free(pb);
    return st;
}

optref_status eigenbasis_after_update(const ref_opt *o, const eigenbasis *E, mpmat_srcptr G,
                                      mpmat_ptr M, mpmat_ptr row_moment, mpmat_ptr col_moment)
{
    optref_status st = eigenbasis_project_back(M, E, M); /* (a) */
    if (st == OPTREF_OK)
        st = update_factor(o, E->L, G, 0); /* (b) */
    if (st == OPTREF_OK)
        st = update_factor(o, E->R, G, 1);
    unsigned long f = (unsigned long)ref_opt_int(o, "precondition_frequency");
    unsigned long k = mpfr_get_ui(E->k->e, MPFR_RNDN);
    if (st == OPTREF_OK && k % f == 0) { /* (c) */
        st = refresh_side(o, E->L, E->QL, row_moment, 0, o->basis_override[0]);
        if (st == OPTREF_OK)
            st = refresh_side(o, E->R, E->QR, col_moment, 1, o->basis_override[1]);
    }
    if (st == OPTREF_OK)
        st = eigenbasis_project(M, E, M); /* (d) */
    return st;
}

/* eta' = eta sqrt(1 - beta2^k) / (1 - beta1^k), left to right. */
static void corrected_lr(const ref_opt *o, mpfr_ptr etap, mpfr_srcptr eta, unsigned long k)
{
    mpfr_set(etap, eta, MPFR_RNDN);
    if (!ref_opt_bool(o, "correct_bias"))
        return;
    mpfr_t c;
    REF_TMP_INIT(o, c);
    mpfr_pow_ui(c, ref_opt_real(o, "beta2"), k, MPFR_RNDN);
    mpfr_ui_sub(c, 1, c, MPFR_RNDN);
    mpfr_sqrt(c, c, MPFR_RNDN);
    mpfr_mul(etap, etap, c, MPFR_RNDN);
    mpfr_pow_ui(c, ref_opt_real(o, "beta1"), k, MPFR_RNDN);
    mpfr_ui_sub(c, 1, c, MPFR_RNDN);
    mpfr_div(etap, etap, c, MPFR_RNDN);
    REF_TMP_CLEAR(c);
}

/* U <- U / (1e-30 + sqrt(mean(U.U))): the sum of squares correctly rounded,
 * then / (m n), sqrt, + 1e-30 (binary64), one rounding each. */
static optref_status normalize_update(const ref_opt *o, mpmat_ptr U)
{
    mpfr_t s, tiny;
    REF_TMP_INIT(o, s, tiny);
    optref_status st = param_parse_real(tiny, "1e-30");
    mpmat_sumsq(s, U);
    mpfr_div_ui(s, s, (unsigned long)(U->rows * U->cols), MPFR_RNDN);
    mpfr_sqrt(s, s, MPFR_RNDN);
    mpfr_add(s, tiny, s, MPFR_RNDN);
    for (size_t i = 0; st == OPTREF_OK && i < U->rows * U->cols; i++)
        mpfr_div(U->e + i, U->e + i, s, MPFR_RNDN);
    REF_TMP_CLEAR(s, tiny);
    return st;
}

optref_status eigenbasis_apply_update(const ref_opt *o, mpmat_ptr W, mpmat_ptr U,
                                      mpfr_srcptr eta, unsigned long k)
{
    optref_status st = OPTREF_OK;
    if (ref_opt_bool(o, "normalize_grads"))
        st = normalize_update(o, U);
    if (st != OPTREF_OK)
        return st;
    mpfr_t etap, c;
    REF_TMP_INIT(o, etap, c);
    corrected_lr(o, etap, eta, k);
    mpfr_neg(etap, etap, MPFR_RNDN);
    for (size_t i = 0; i < W->rows * W->cols; i++)
        mpfr_fma(W->e + i, etap, U->e + i, W->e + i, MPFR_RNDN); /* W - eta' U */
    mpfr_mul(c, eta, ref_opt_real(o, "weight_decay"), MPFR_RNDN);
    if (!mpfr_zero_p(c)) { /* soap.py skips the decay when weight_decay = 0 */
        mpfr_neg(c, c, MPFR_RNDN);
        for (size_t i = 0; i < W->rows * W->cols; i++)
            mpfr_fma(W->e + i, c, W->e + i, W->e + i, MPFR_RNDN); /* W - (eta lambda) W */
    }
    REF_TMP_CLEAR(etap, c);
    return OPTREF_OK;
}
