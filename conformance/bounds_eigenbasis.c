/* Step bounds of the eigenbasis optimizers (soap, the deva-sinf family,
 * shampoo): each step of spec/optimizers.md re-evaluated on rerr values in
 * the order fast/cpu/ evaluates it (soap.c, deva_sinf.c, shampoo.c,
 * eigenbasis.c): BLAS products with gamma_k |A||B|, elementwise formulas
 * operation by operation, and the spectral steps (eigenvectors, the
 * refresh's QR, inverse roots) by the perturbation bounds of
 * bounds_spectral.c. Derivation: proofs/conformance-eigenbasis.md. */
#include <stdlib.h>

#include "bounds_eigenbasis.h"
#include "bounds_spectral.h"

/* ---- small helpers ---- */

/* Y := X (values and bounds). */
void bound_eb_copy(rerr_mat *Y, const rerr_mat *X)
{
    mpmat_set(Y->v, X->v);
    mpmat_set(Y->e, X->e);
}

/* A value of a scalar computed in binary64 and rounded once to the format:
 * binary32 adds the rounding |x| (binary64's own rounding is modelled by the
 * operation that produced x). */
void bound_eb_to_format(const rerr_ctx *c, rerr *x)
{
    if (c->fmt != OPTREF_BINARY64) {
        mpfr_t a;
        mpfr_init2(a, mpfr_get_prec(x->v));
        mpfr_abs(a, x->v, MPFR_RNDU);
        mpfr_add(x->e, x->e, a, MPFR_RNDU);
        mpfr_clear(a);
    }
}

/* 1 - x of an exact binary64 option x, computed in binary64 and rounded to the format. */
void bound_eb_one_minus(rerr_ctx *c, rerr *r, const ref_opt *o, const char *name)
{
    rerr one, x;
    rerr_init(c, &one), rerr_init(c, &x);
    rerr_exact_d(&one, 1.0);
    bound_option_exact(&x, o, name);
    rerr_sub(c, r, &one, &x);
    bound_eb_to_format(c, r);
    rerr_clear(&one), rerr_clear(&x);
}

/* Y = Q_L^T X Q_R (back: Q_L X Q_R^T), the left product first; a side with a
 * 0 x 0 basis is skipped. T is m x n scratch. */
static optref_status project(rerr_ctx *c, rerr_mat *Y, const rerr_mat *QL, const rerr_mat *QR,
                             const rerr_mat *X, rerr_mat *T, int back)
{
    optref_status st = OPTREF_OK;
    if (QL->v->rows)
        st = rerr_mat_mul_op(c, T, QL, X, !back, 0);
    else
        bound_eb_copy(T, X);
    if (st == OPTREF_OK && QR->v->rows)
        st = rerr_mat_mul_op(c, Y, T, QR, 0, back);
    else if (st == OPTREF_OK)
        bound_eb_copy(Y, T);
    return st;
}

/* P' = b P + (1 - b) G G^T (right: G^T G): the product by SYRK (gamma_k),
 * b P and w GG rounded, their sum rounded; the value as the reference's
 * fma(w, GG, round(b P)). */
static optref_status factor_update(rerr_ctx *c, rerr_mat *Pout, const rerr_mat *P,
                                   const rerr_mat *G, const rerr *b, const rerr *w, int right)
{
    size_t k = P->v->rows;
    if (k == 0)
        return OPTREF_OK;
    rerr_mat GG;
    optref_status st = rerr_mat_init(c, &GG, k, k);
    if (st != OPTREF_OK)
        return st;
    st = rerr_mat_mul_op(c, &GG, G, G, right, !right);
    rerr p, gg, t1, t2;
    rerr_init(c, &p), rerr_init(c, &gg), rerr_init(c, &t1), rerr_init(c, &t2);
    for (size_t i = 0; st == OPTREF_OK && i < k; i++)
        for (size_t j = 0; j < k; j++) {
            rerr_mat_get(&p, P, i, j);
            rerr_mat_get(&gg, &GG, i, j);
            rerr_mul(c, &t1, b, &p);
            rerr_mul(c, &t2, w, &gg);
            rerr_add(c, &p, &t1, &t2);
            mpfr_fma(p.v, w->v, gg.v, t1.v, MPFR_RNDN); /* the reference's value */
            rerr_mat_set(Pout, i, j, &p);
        }
    rerr_clear(&p), rerr_clear(&gg), rerr_clear(&t1), rerr_clear(&t2);
    rerr_mat_clear(&GG);
    return st;
}

/* ||P||_F and its bound (units of u) for the backend's tolerance. */
static void fro_with_bound(mpfr_ptr nrm, mpfr_ptr nrm_e, const rerr_mat *P)
{
    mpmat_norm_fro(nrm, P->v);
    mpmat_norm_fro(nrm_e, P->e);
}

/* ---- the machinery's pieces ---- */

/* Q := the backend's basis adopted by the engine (conformance/adopt_basis.h):
 * the reference takes it exactly (ref_opt basis_override), so the backend's
 * Q equals it: e = 0. */
static optref_status adopted(rerr_mat *Q, mpmat_srcptr given)
{
    if (given->rows != Q->v->rows || given->cols != Q->v->cols)
        return optref_fail(OPTREF_ESHAPE, "bound: the adopted basis is %zux%zu, the side's is "
                           "%zux%zu", given->rows, given->cols, Q->v->rows, Q->v->cols);
    mpmat_set(Q->v, given);
    mpmat_zero(Q->e);
    return OPTREF_OK;
}

/* The first call: L, R updated with G, Q_L, Q_R their canonical bases;
 * out indices of L, R, Q_L, Q_R are iL.. iL + 3 (state order). */
static optref_status first_call(rerr_ctx *c, const bound_input *in, rerr_mat *out, size_t iL)
{
    const ref_opt *o = in->in;
    rerr b, w;
    rerr_init(c, &b), rerr_init(c, &w);
    bound_option(c, &b, o, "shampoo_beta");
    bound_eb_one_minus(c, &w, o, "shampoo_beta");
    optref_status st = factor_update(c, &out[1 + iL], &in->state[iL], in->G, &b, &w, 0);
    if (st == OPTREF_OK)
        st = factor_update(c, &out[2 + iL], &in->state[iL + 1], in->G, &b, &w, 1);
    const mpmat_struct *const *given = o->basis_override;
    if (st == OPTREF_OK)
        st = given[0] ? adopted(&out[3 + iL], given[0])
                      : bound_eigh_canonical(c, &out[3 + iL], &out[1 + iL]);
    if (st == OPTREF_OK)
        st = given[1] ? adopted(&out[4 + iL], given[1])
                      : bound_eigh_canonical(c, &out[4 + iL], &out[2 + iL]);
    rerr_clear(&b), rerr_clear(&w);
    return st;
}

/* Stable descending argsort groups: runs of positions in sorted order whose
 * values lie within their bounds of one another (the backend may order them
 * either way; the closure of overlapping intervals). grp[p] = first position
 * of p's group. Exact values with zero bounds order alike in the backend. */
static void order_groups(const rerr_ctx *c, size_t *grp, const size_t *pi, mpmat_srcptr ev,
                         mpmat_srcptr ee, size_t n)
{
    double u = mpfr_get_d(c->u, MPFR_RNDN), low = 0;
    for (size_t p = 0; p < n; p++) {
        double v = mpfr_get_d(ev->e + pi[p], MPFR_RNDN);
        double e = u * mpfr_get_d(ee->e + pi[p], MPFR_RNDU);
        if (p > 0 && v + e >= low && (e > 0 || v != low))
            grp[p] = grp[p - 1];
        else
            grp[p] = p, low = v - e;
        if (v - e < low)
            low = v - e;
    }
}

/* The refresh of one side (c): P the updated factor, Q the basis (in and
 * out), X the moment permuted along rows (left) or columns (right); given
 * (an adopted basis, or NULL) replaces the canonical QR. */
static optref_status refresh_side(rerr_ctx *c, const rerr_mat *P, const rerr_mat *Qin,
                                  rerr_mat *Qout, rerr_mat *X, int right, mpmat_srcptr given)
{
    size_t n = P->v->rows;
    if (n == 0)
        return OPTREF_OK;
    rerr_mat PQ, A, Xn;
    mpmat_t ev, ee;
    size_t *pi = malloc(n * sizeof *pi), *grp = malloc(n * sizeof *grp);
    unsigned char *status = malloc(n);
    mpfr_ptr *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
    optref_status st = pi && grp && status && pa && pb ? OPTREF_OK
                                             : optref_fail(OPTREF_ENOMEM, "bound: out of memory");
    rerr_mat_init(c, &PQ, n, n), rerr_mat_init(c, &A, n, n);
    rerr_mat_init(c, &Xn, X->v->rows, X->v->cols);
    mpmat_init(ev, n, 1, c->prec), mpmat_init(ee, n, 1, c->prec);
    if (st == OPTREF_OK)
        st = rerr_mat_mul_op(c, &PQ, P, Qin, 0, 0);
    /* e_j = (Q^T P Q)_jj: one dot per column, gamma_n */
    mpfr_t t, s;
    mpfr_inits2(c->prec, t, s, (mpfr_ptr)0);
    for (size_t j = 0; st == OPTREF_OK && j < n; j++) {
        for (size_t i = 0; i < n; i++)
            pa[i] = mpmat_entry(Qin->v, i, j), pb[i] = mpmat_entry(PQ.v, i, j);
        mpfr_dot(ev->e + j, pa, pb, n, MPFR_RNDN);
        mpfr_set_zero(s, 1);
        for (size_t i = 0; i < n; i++) {
            mpfr_mul(t, mpmat_entry(Qin->e, i, j), mpmat_entry(PQ.v, i, j), MPFR_RNDU);
            mpfr_abs(t, t, MPFR_RNDU), mpfr_add(s, s, t, MPFR_RNDU);
            mpfr_mul(t, mpmat_entry(Qin->v, i, j), mpmat_entry(PQ.e, i, j), MPFR_RNDU);
            mpfr_abs(t, t, MPFR_RNDU), mpfr_add(s, s, t, MPFR_RNDU);
            mpfr_mul(t, mpmat_entry(Qin->v, i, j), mpmat_entry(PQ.v, i, j), MPFR_RNDU);
            mpfr_abs(t, t, MPFR_RNDU), mpfr_mul_ui(t, t, n, MPFR_RNDU); /* gamma_n */
            mpfr_add(s, s, t, MPFR_RNDU);
            mpfr_mul(t, mpmat_entry(Qin->e, i, j), mpmat_entry(PQ.e, i, j), MPFR_RNDU);
            mpfr_mul(t, t, c->u, MPFR_RNDU), mpfr_add(s, s, t, MPFR_RNDU); /* second order */
        }
        mpfr_set(ee->e + j, s, MPFR_RNDU);
    }
    if (st == OPTREF_OK)
        st = mpvec_argsort(pi, ev->e, n, 1);
    if (st == OPTREF_OK)
        order_groups(c, grp, pi, ev, ee, n);

    /* the moment, permuted; within a group any member may land at a position */
    size_t rows = X->v->rows, cols = X->v->cols;
    for (size_t i = 0; st == OPTREF_OK && i < rows; i++)
        for (size_t j = 0; j < cols; j++) {
            size_t p = right ? j : i, src = pi[p];
            size_t si = right ? i : src, sj = right ? src : j;
            mpfr_set(mpmat_entry(Xn.v, i, j), mpmat_entry(X->v, si, sj), MPFR_RNDN);
            mpfr_set(s, mpmat_entry(X->e, si, sj), MPFR_RNDU);
            for (size_t q = grp[p]; q < n && grp[q] == grp[p]; q++) {
                if (q == p)
                    continue;
                size_t qi = right ? i : pi[q], qj = right ? pi[q] : j;
                mpfr_sub(t, mpmat_entry(X->v, qi, qj), mpmat_entry(X->v, si, sj), MPFR_RNDA);
                mpfr_abs(t, t, MPFR_RNDU);
                mpfr_div(t, t, c->u, MPFR_RNDU);
                mpfr_add(t, t, mpmat_entry(X->e, qi, qj), MPFR_RNDU);
                mpfr_max(s, s, t, MPFR_RNDU);
            }
            mpfr_set(mpmat_entry(Xn.e, i, j), s, MPFR_RNDU);
        }
    /* A = P Q[:, pi], Q <- its canonical QR */
    for (size_t i = 0; st == OPTREF_OK && i < n; i++)
        for (size_t j = 0; j < n; j++) {
            mpfr_set(mpmat_entry(A.v, i, j), mpmat_entry(PQ.v, i, pi[j]), MPFR_RNDN);
            mpfr_set(mpmat_entry(A.e, i, j), mpmat_entry(PQ.e, i, pi[j]), MPFR_RNDU);
        }
    if (st == OPTREF_OK && given != NULL) {
        st = adopted(Qout, given);
    } else if (st == OPTREF_OK) {
        fro_with_bound(t, s, P);
        st = bound_qr_canonical(c, Qout, &A, t, s, status);
    }
    if (st == OPTREF_OK) {
        bound_eb_copy(X, &Xn);
        /* another order within a group gives another QR from there on, unless
         * every column of the group is dropped (the completion fills the same
         * positions whatever their order); an adopted basis is the backend's
         * whatever its order, and only the moment's permutation stays open */
        for (size_t p = 0; p < n; p++) {
            size_t q = p;
            int all_dropped = 1;
            for (; q < n && grp[q] == grp[p]; q++)
                all_dropped &= given != NULL || status[q] == QR_DROPPED;
            if (q - p >= 2) {
                c->near++;
                if (!all_dropped) {
                    bound_columns_wild(c, Qout, p);
                    for (size_t j = 0; j < p; j++) /* the completions: the kept span */
                        if (status[j] == QR_DROPPED)
                            bound_columns_wild_one(c, Qout, j);
                    break;
                }
            }
            p = q - 1;
        }
    }
    mpfr_clears(t, s, (mpfr_ptr)0);
    rerr_mat_clear(&PQ), rerr_mat_clear(&A), rerr_mat_clear(&Xn);
    mpmat_clear(ev), mpmat_clear(ee);
    free(pi), free(grp), free(status), free(pa), free(pb);
    return st;
}

optref_status bound_eb_after_update(rerr_ctx *c, const bound_input *in, rerr_mat *out,
                                    const eb_layout *L, rerr_mat *M, unsigned long k)
{
    const ref_opt *o = in->in;
    size_t m = o->m, n = o->n;
    const rerr_mat *QL = &in->state[L->iL + 2], *QR = &in->state[L->iL + 3];
    rerr_mat *QLo = &out[1 + L->iL + 2], *QRo = &out[1 + L->iL + 3];
    rerr_mat T, Mb;
    optref_status st = rerr_mat_init(c, &T, m, n);
    if (st == OPTREF_OK)
        st = rerr_mat_init(c, &Mb, m, n);
    if (st == OPTREF_OK)
        st = project(c, &Mb, QL, QR, M, &T, 1); /* (a) */
    rerr b, w;
    rerr_init(c, &b), rerr_init(c, &w);
    bound_option(c, &b, o, "shampoo_beta");
    bound_eb_one_minus(c, &w, o, "shampoo_beta");
    if (st == OPTREF_OK) /* (b) */
        st = factor_update(c, &out[1 + L->iL], &in->state[L->iL], in->G, &b, &w, 0);
    if (st == OPTREF_OK)
        st = factor_update(c, &out[2 + L->iL], &in->state[L->iL + 1], in->G, &b, &w, 1);
    unsigned long f = (unsigned long)ref_opt_int(o, "precondition_frequency");
    if (st == OPTREF_OK && k % f == 0) { /* (c) */
        const mpmat_struct *const *given = o->basis_override;
        st = refresh_side(c, &out[1 + L->iL], QL, QLo, &out[1 + L->irow], 0, given[0]);
        if (st == OPTREF_OK)
            st = refresh_side(c, &out[2 + L->iL], QR, QRo, &out[1 + L->icol], 1, given[1]);
    } else if (st == OPTREF_OK) {
        bound_eb_copy(QLo, QL);
        bound_eb_copy(QRo, QR);
    }
    if (st == OPTREF_OK) /* (d) */
        st = project(c, &out[1 + L->iM], QLo, QRo, &Mb, &T, 0);
    rerr_clear(&b), rerr_clear(&w);
    rerr_mat_clear(&T), rerr_mat_clear(&Mb);
    return st;
}

optref_status bound_eb_project(rerr_ctx *c, rerr_mat *Y, const rerr_mat *QL, const rerr_mat *QR,
                               const rerr_mat *X, int back)
{
    rerr_mat T;
    optref_status st = rerr_mat_init(c, &T, X->v->rows, X->v->cols);
    if (st == OPTREF_OK)
        st = project(c, Y, QL, QR, X, &T, back);
    rerr_mat_clear(&T);
    return st;
}

/* eta' of soap step 5 (binary64 arithmetic: pow within 1 ulp, then one
 * rounding per operation; rounded once to the format). */
static void corrected_lr(rerr_ctx *c, rerr *lr, const ref_opt *o, mpfr_srcptr eta,
                         unsigned long k)
{
    rerr_exact(lr, eta);
    if (ref_opt_bool(o, "correct_bias")) {
        rerr one, p, q;
        rerr_init(c, &one), rerr_init(c, &p), rerr_init(c, &q);
        rerr_exact_d(&one, 1.0);
        mpfr_pow_ui(p.v, ref_opt_real(o, "beta2"), k, MPFR_RNDN);
        mpfr_abs(p.e, p.v, MPFR_RNDU), mpfr_mul_2ui(p.e, p.e, 1, MPFR_RNDU); /* pow: 1 ulp */
        rerr_sub(c, &p, &one, &p);
        rerr_sqrt(c, &p, &p);
        rerr_mul(c, lr, lr, &p);
        mpfr_pow_ui(q.v, ref_opt_real(o, "beta1"), k, MPFR_RNDN);
        mpfr_abs(q.e, q.v, MPFR_RNDU), mpfr_mul_2ui(q.e, q.e, 1, MPFR_RNDU);
        rerr_sub(c, &q, &one, &q);
        rerr_div_lower(c, lr, lr, &q, 0);
        rerr_clear(&one), rerr_clear(&p), rerr_clear(&q);
    }
    bound_eb_to_format(c, lr);
}

optref_status bound_eb_apply_update(rerr_ctx *c, const bound_input *in, rerr_mat *W,
                                    rerr_mat *U, unsigned long k)
{
    const ref_opt *o = in->in;
    size_t count = o->m * o->n;
    rerr lr, cc, lam, x, t, s;
    rerr *all[] = {&lr, &cc, &lam, &x, &t, &s};
    for (size_t i = 0; i < 6; i++)
        rerr_init(c, all[i]);
    if (ref_opt_bool(o, "normalize_grads")) {
        /* s = sqrt(sum U^2 / (m n)) + 1e-30: the sum sequential (gamma_mn) */
        mpfr_set_zero(s.v, 1), mpfr_set_zero(s.e, 1);
        for (size_t i = 0; i < count; i++) {
            rerr_mat_get(&x, U, i / o->n, i % o->n);
            mpfr_mul(t.v, x.v, x.v, MPFR_RNDN);
            mpfr_add(s.v, s.v, t.v, MPFR_RNDN);
            mpfr_abs(t.e, x.v, MPFR_RNDU), mpfr_mul(t.e, t.e, x.e, MPFR_RNDU);
            mpfr_mul_2ui(t.e, t.e, 1, MPFR_RNDU); /* 2 |U| e_U */
            mpfr_add(s.e, s.e, t.e, MPFR_RNDU);
            mpfr_mul_ui(t.v, t.v, count, MPFR_RNDU);
            mpfr_add(s.e, s.e, t.v, MPFR_RNDU);
        }
        rerr_exact_d(&t, (double)count);
        rerr_div_lower(c, &s, &s, &t, 0);
        rerr_sqrt(c, &s, &s);
        mpfr_set_d(t.v, 1e-30, MPFR_RNDN);
        mpfr_set_zero(t.e, 1);
        bound_eb_to_format(c, &t);
        rerr_add(c, &s, &s, &t);
        for (size_t i = 0; i < count; i++) {
            rerr_mat_get(&x, U, i / o->n, i % o->n);
            rerr_div_lower(c, &x, &x, &s, 1e-30);
            rerr_mat_set(U, i / o->n, i % o->n, &x);
        }
    }
    corrected_lr(c, &lr, o, in->eta, k);
    rerr_exact(&cc, in->eta);
    bound_option_exact(&lam, o, "weight_decay");
    rerr_mul(c, &cc, &cc, &lam);
    bound_eb_to_format(c, &cc);
    int decay = !mpfr_zero_p(cc.v);
    for (size_t i = 0; i < count; i++) {
        size_t r = i / o->n, q = i % o->n;
        rerr_mat_get(&x, W, r, q);
        rerr_mat_get(&s, U, r, q);
        rerr_mul(c, &t, &lr, &s);
        rerr_sub(c, &x, &x, &t); /* W - eta' U */
        if (decay) {
            rerr_mul(c, &t, &cc, &x);
            rerr_sub(c, &x, &x, &t); /* W - (eta lambda) W */
        }
        rerr_mat_set(W, r, q, &x);
    }
    for (size_t i = 0; i < 6; i++)
        rerr_clear(all[i]);
    return OPTREF_OK;
}

optref_status bound_eb_first_call(rerr_ctx *c, const bound_input *in, rerr_mat *out,
                                  const eb_layout *L)
{
    /* W and every tensor but the machinery's unchanged; basis_ready = 1 */
    bound_eb_copy(&out[0], in->W);
    for (size_t i = 0; i < in->in->info->nstate; i++)
        if (i < L->iL || i > L->iL + 3)
            bound_eb_copy(&out[1 + i], &in->state[i]);
    mpfr_set_ui(mpmat_entry(out[1 + L->iL + 4].v, 0, 0), 1, MPFR_RNDN);
    return first_call(c, in, out, L->iL);
}

/* ---- soap ---- */

optref_status bound_soap(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    static const eb_layout lay = {.iM = 0, .irow = 1, .icol = 1, .iL = 2};
    const ref_opt *o = in->in;
    const rerr_mat *S = in->state;
    if (mpfr_zero_p(mpmat_entry(S[6].v, 0, 0)))
        return bound_eb_first_call(c, in, out, &lay);
    size_t m = o->m, n = o->n;
    bound_eb_copy(&out[7], &S[6]);
    bound_eb_copy(&out[8], &S[7]);
    mpfr_add_ui(mpmat_entry(out[8].v, 0, 0), mpmat_entry(out[8].v, 0, 0), 1, MPFR_RNDN);
    unsigned long k = mpfr_get_ui(mpmat_entry(out[8].v, 0, 0), MPFR_RNDN);
    rerr_mat X, Ub;
    optref_status st = rerr_mat_init(c, &X, m, n);
    if (st == OPTREF_OK)
        st = rerr_mat_init(c, &Ub, m, n);
    if (st == OPTREF_OK) /* 1 */
        st = bound_eb_project(c, &X, &S[4], &S[5], in->G, 0);
    /* 3, 4 */
    rerr b1, b2, w1, w2, eps, g, mm, v, t1, t2;
    rerr *all[] = {&b1, &b2, &w1, &w2, &eps, &g, &mm, &v, &t1, &t2};
    for (size_t i = 0; i < 10; i++)
        rerr_init(c, all[i]);
    bound_option(c, &b1, o, "beta1");
    bound_option(c, &b2, o, "beta2");
    bound_eb_one_minus(c, &w1, o, "beta1");
    bound_eb_one_minus(c, &w2, o, "beta2");
    bound_option(c, &eps, o, "eps");
    /* sqrt(V) + eps >= eps in the backend (eps as it holds it) */
    double epslow = mpfr_get_d(eps.v, MPFR_RNDD) * (1 - 2 * mpfr_get_d(c->u, MPFR_RNDU));
    for (size_t i = 0; st == OPTREF_OK && i < m; i++)
        for (size_t j = 0; j < n; j++) {
            rerr_mat_get(&g, &X, i, j);
            rerr_mat_get(&mm, &S[0], i, j);
            rerr_mat_get(&v, &S[1], i, j);
            rerr_mul(c, &t1, &b1, &mm);
            rerr_mul(c, &t2, &w1, &g);
            rerr_add(c, &mm, &t1, &t2); /* b1 M + w1 g */
            rerr_mul(c, &t2, &g, &g);
            rerr_mul(c, &t2, &w2, &t2);
            rerr_mul(c, &t1, &b2, &v);
            rerr_add(c, &v, &t1, &t2); /* b2 V + w2 g^2 */
            rerr_sqrt(c, &t1, &v);
            rerr_add(c, &t1, &t1, &eps);
            rerr_div_lower(c, &g, &mm, &t1, epslow); /* N */
            rerr_mat_set(&out[1], i, j, &mm);
            rerr_mat_set(&out[2], i, j, &v);
            rerr_mat_set(&X, i, j, &g);
        }
    for (size_t i = 0; i < 10; i++)
        rerr_clear(all[i]);
    if (st == OPTREF_OK) /* 6 */
        st = bound_eb_project(c, &Ub, &S[4], &S[5], &X, 1);
    if (st == OPTREF_OK) {
        bound_eb_copy(&out[0], in->W);
        st = bound_eb_apply_update(c, in, &out[0], &Ub, k); /* 5-8 */
    }
    if (st == OPTREF_OK) { /* 9: M <- project(project_back(M)), L, R, refresh */
        bound_eb_copy(&X, &out[1]);
        st = bound_eb_after_update(c, in, out, &lay, &X, k);
    }
    rerr_mat_clear(&X), rerr_mat_clear(&Ub);
    return st;
}

/* ---- shampoo ---- */

/* Step 1 on one side: P + GG (beta = 0) or b P + (1 - b) GG. */
static optref_status shampoo_accumulate(rerr_ctx *c, rerr_mat *Pout, const rerr_mat *P,
                                        const rerr_mat *G, int right)
{
    size_t k = P->v->rows;
    rerr_mat GG;
    optref_status st = rerr_mat_init(c, &GG, k, k);
    if (st == OPTREF_OK)
        st = rerr_mat_mul_op(c, &GG, G, G, right, !right);
    rerr p, gg;
    rerr_init(c, &p), rerr_init(c, &gg);
    for (size_t i = 0; st == OPTREF_OK && i < k; i++)
        for (size_t j = 0; j < k; j++) {
            rerr_mat_get(&p, P, i, j);
            rerr_mat_get(&gg, &GG, i, j);
            rerr_add(c, &p, &p, &gg);
            rerr_mat_set(Pout, i, j, &p);
        }
    rerr_clear(&p), rerr_clear(&gg);
    rerr_mat_clear(&GG);
    return st;
}

optref_status bound_shampoo(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    const ref_opt *o = in->in;
    const rerr_mat *S = in->state; /* L, R, PL, PR */
    size_t m = o->m, n = o->n;
    optref_status st = OPTREF_OK;
    if (mpfr_zero_p(ref_opt_real(o, "beta"))) {
        st = shampoo_accumulate(c, &out[1], &S[0], in->G, 0);
        if (st == OPTREF_OK)
            st = shampoo_accumulate(c, &out[2], &S[1], in->G, 1);
    } else {
        rerr b, w;
        rerr_init(c, &b), rerr_init(c, &w);
        bound_option(c, &b, o, "beta");
        bound_eb_one_minus(c, &w, o, "beta");
        st = factor_update(c, &out[1], &S[0], in->G, &b, &w, 0);
        if (st == OPTREF_OK)
            st = factor_update(c, &out[2], &S[1], in->G, &b, &w, 1);
        rerr_clear(&b), rerr_clear(&w);
    }
    uint64_t f = (uint64_t)ref_opt_int(o, "update_freq");
    if (st == OPTREF_OK && o->t % f == 0) { /* 2: the call t = o->t + 1 */
        rerr eps;
        rerr_init(c, &eps);
        bound_option(c, &eps, o, "eps");
        st = bound_sym_inv_root(c, &out[3], &out[1], &eps);
        if (st == OPTREF_OK)
            st = bound_sym_inv_root(c, &out[4], &out[2], &eps);
        rerr_clear(&eps);
    } else if (st == OPTREF_OK) {
        bound_eb_copy(&out[3], &S[2]);
        bound_eb_copy(&out[4], &S[3]);
    }
    rerr_mat T, D;
    if (st == OPTREF_OK && (st = rerr_mat_init(c, &T, m, n)) == OPTREF_OK) {
        if ((st = rerr_mat_init(c, &D, m, n)) == OPTREF_OK) {
            st = rerr_mat_mul_op(c, &T, &out[3], in->G, 0, 0); /* 3: (PL G) PR */
            if (st == OPTREF_OK)
                st = rerr_mat_mul_op(c, &D, &T, &out[4], 0, 0);
            rerr lr, w, d, t;
            rerr_init(c, &lr), rerr_init(c, &w), rerr_init(c, &d), rerr_init(c, &t);
            rerr_exact(&lr, in->eta);
            bound_eb_to_format(c, &lr);
            for (size_t i = 0; st == OPTREF_OK && i < m; i++)
                for (size_t j = 0; j < n; j++) {
                    rerr_mat_get(&w, in->W, i, j);
                    rerr_mat_get(&d, &D, i, j);
                    rerr_mul(c, &t, &lr, &d);
                    rerr_sub(c, &w, &w, &t);
                    rerr_mat_set(&out[0], i, j, &w);
                }
            rerr_clear(&lr), rerr_clear(&w), rerr_clear(&d), rerr_clear(&t);
            rerr_mat_clear(&D);
        }
        rerr_mat_clear(&T);
    }
    return st;
}
