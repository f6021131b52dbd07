/* The error bound of the fast backends' polar factor (fast/cpu/msign.c:
 * gesvd, P = U_k V_k^T): first-order perturbation theory of the polar factor
 * with gesvd's backward error (proofs/conformance-muon.md, "polar"). */
#include "bounds_msign.h"

/* gesvd's backward error ||A - U S V^T||_F and orthogonality ||U^T U - I||_F,
 * ||V^T V - I||_F in units of N u ||A||_F and N u (N = max(m, n)): LAPACK's
 * test-ratio threshold 30 (proofs/conformance-muon.md, "polar": measured at
 * most 15.7 and 6.5). */
#define POLAR_C_RESIDUAL 30
#define POLAR_C_ORTHO 30

/* The constant L of the first-order bound ||dP||_F <= L ||E||_F for the
 * singular values s (descending, r of them, of an r x cc matrix) of which
 * the first k are kept, each perturbed by at most du (Weyl); 0 when the
 * bound does not apply (a denominator not positive: the caller treats it
 * as a discontinuity). proofs/conformance-muon.md, "polar". */
static int polar_lipschitz(mpfr_ptr L, mpmat_srcptr s, size_t k, size_t r, size_t cc,
                           mpfr_srcptr du)
{
    mpfr_t den, t;
    mpfr_inits2(mpfr_get_prec(L), den, t, (mpfr_ptr)0);
    mpfr_sub(den, s->e + (k - 1), du, MPFR_RNDD); /* s_k - du */
    mpfr_set_ui(L, 1, MPFR_RNDN);
    if (k < r) { /* 1 / ((s_k - du) - (s_k+1 + du)) */
        mpfr_add(t, s->e + k, du, MPFR_RNDU);
        mpfr_sub(den, den, t, MPFR_RNDD);
    } else if (r == cc) { /* square, full rank: 2 / ((s_r - du) + (s_r-1 - du)) */
        if (r == 1) {
            mpfr_set_zero(L, 1);
        } else {
            mpfr_sub(t, s->e + (k - 2), du, MPFR_RNDD);
            mpfr_add(den, den, t, MPFR_RNDD);
            mpfr_set_ui(L, 2, MPFR_RNDN);
        }
    } /* else rectangular, full rank: 1 / (s_r - du) */
    int ok = mpfr_zero_p(L) || mpfr_sgn(den) > 0;
    if (ok && !mpfr_zero_p(L))
        mpfr_div(L, L, den, MPFR_RNDU);
    mpfr_clears(den, t, (mpfr_ptr)0);
    return ok;
}

/* The rank decisions, from the exact singular values s (descending) each
 * within du of the backend's: *k = the number the backend certainly keeps
 * (s_i > sqrt(u) s_1, its rule, with s_i - du > sqrt(u) (s_1 + du) (1 + 4u));
 * returns how many past k either side may keep (the backend when s_i + du >
 * sqrt(u) (s_1 - du) (1 - 4u), the reference when s_i > 2^(-ref_prec/2) s_1,
 * mpmat_polar's rule). */
static size_t polar_rank(size_t *k, mpmat_srcptr s, mpfr_srcptr du, const rerr_ctx *c,
                         mpfr_prec_t ref_prec)
{
    size_t r = s->rows, unsure = 0;
    mpfr_t su, lo, hi, ref_tol, x;
    mpfr_inits2(c->prec, su, lo, hi, ref_tol, x, (mpfr_ptr)0);
    mpfr_sqrt(su, c->u, MPFR_RNDU);
    mpfr_add(hi, s->e, du, MPFR_RNDU);
    mpfr_mul(hi, hi, su, MPFR_RNDU);
    mpfr_mul_ui(x, c->u, 4, MPFR_RNDU);
    mpfr_add_ui(x, x, 1, MPFR_RNDU);
    mpfr_mul(hi, hi, x, MPFR_RNDU);
    mpfr_sub(lo, s->e, du, MPFR_RNDD);
    mpfr_mul(lo, lo, su, MPFR_RNDD);
    mpfr_mul_ui(x, c->u, 4, MPFR_RNDU);
    mpfr_ui_sub(x, 1, x, MPFR_RNDD);
    mpfr_mul(lo, lo, x, MPFR_RNDD);
    mpfr_set_ui_2exp(ref_tol, 1, -(long)ref_prec, MPFR_RNDN);
    mpfr_sqrt(ref_tol, ref_tol, MPFR_RNDN);
    mpfr_mul(ref_tol, ref_tol, s->e, MPFR_RNDN);
    *k = 0;
    if (!mpfr_zero_p(s->e))
        while (*k < r && (mpfr_sub(x, s->e + *k, du, MPFR_RNDD), mpfr_cmp(x, hi) > 0))
            (*k)++;
    for (size_t i = *k; i < r; i++) {
        mpfr_add(x, s->e + i, du, MPFR_RNDU);
        if (mpfr_cmp(x, lo) > 0 || mpfr_cmp(s->e + i, ref_tol) > 0)
            unsure++;
    }
    mpfr_clears(su, lo, hi, ref_tol, x, (mpfr_ptr)0);
    return unsure;
}

optref_status polar_bound(rerr_ctx *c, rerr_mat *Y, mpfr_prec_t ref_prec)
{
    size_t r = Y->v->rows, cc = Y->v->cols;
    mpfr_prec_t p = c->prec;
    mpmat_t U, s, V, P, absU, absV, T;
    mpmat_ptr mats[] = {U, s, V, P, absU, absV, T};
    const size_t rows[] = {r, r, cc, r, r, cc, r}, cols[] = {r, 1, r, cc, r, r, cc};
    size_t made = 0;
    optref_status st = OPTREF_OK;
    for (; made < 7 && st == OPTREF_OK; made++)
        st = mpmat_init(mats[made], rows[made], cols[made], made == 3 ? ref_prec : p);
    if (st == OPTREF_OK)
        st = mpmat_polar(P, Y->v);
    if (st == OPTREF_OK)
        st = mpmat_svd(U, s, V, Y->v);
    if (st != OPTREF_OK) {
        for (size_t i = 0; i < made; i++)
            mpmat_clear(mats[i]);
        return st;
    }
    mpfr_t nA, ein, delta, du, L, x, jump;
    mpfr_inits2(p, nA, ein, delta, du, L, x, jump, (mpfr_ptr)0);
    /* Delta = ||e_Y||_F + C_R N ||Y||_F (units of u); du = u Delta */
    mpmat_norm_fro(nA, Y->v);
    mpfr_set_zero(ein, 1);
    for (size_t k = 0; k < r * cc; k++)
        mpfr_fma(ein, Y->e->e + k, Y->e->e + k, ein, MPFR_RNDU);
    mpfr_sqrt(ein, ein, MPFR_RNDU);
    mpfr_mul_ui(delta, nA, (unsigned long)(POLAR_C_RESIDUAL * cc), MPFR_RNDU);
    mpfr_add(delta, delta, ein, MPFR_RNDU);
    mpfr_mul(du, delta, c->u, MPFR_RNDU);
    size_t k, unsure = polar_rank(&k, s, du, c, ref_prec);
    /* a partial isometry's entries are at most 1: the directions past k,
     * kept by one side and not the other, move an entry by at most 2 */
    mpfr_set_zero(jump, 1);
    if (k > 0 && !polar_lipschitz(L, s, k, r, cc, du))
        unsure++, k = 0;
    if (unsure > 0 || (k == 0 && !mpfr_zero_p(ein))) {
        c->near += unsure > 0 ? unsure : 1;
        mpfr_ui_div(jump, 2, c->u, MPFR_RNDU);
    }
    /* e_P = L Delta + 2 C_O N + k (|U_k| |V_k|^T) + jump */
    mpfr_set_zero(x, 1);
    if (k > 0) {
        mpfr_mul(x, L, delta, MPFR_RNDU);
        mpfr_add_ui(x, x, (unsigned long)(2 * POLAR_C_ORTHO * cc), MPFR_RNDU);
    }
    mpfr_add(x, x, jump, MPFR_RNDU);
    mpmat_zero(absU), mpmat_zero(absV);
    for (size_t i = 0; i < r; i++)
        for (size_t j = 0; j < k; j++)
            mpfr_abs(mpmat_entry(absU, i, j), mpmat_entry(U, i, j), MPFR_RNDU);
    for (size_t i = 0; i < cc; i++)
        for (size_t j = 0; j < k; j++)
            mpfr_abs(mpmat_entry(absV, i, j), mpmat_entry(V, i, j), MPFR_RNDU);
    mpmat_mul_nt(T, absU, absV);
    for (size_t e = 0; e < r * cc; e++) {
        mpfr_mul_ui(T->e + e, T->e + e, (unsigned long)k, MPFR_RNDU);
        mpfr_add(Y->e->e + e, T->e + e, x, MPFR_RNDU);
    }
    mpmat_set(Y->v, P);
    mpfr_clears(nA, ein, delta, du, L, x, jump, (mpfr_ptr)0);
    for (size_t i = 0; i < made; i++)
        mpmat_clear(mats[i]);
    return OPTREF_OK;
}

