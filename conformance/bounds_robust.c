/* Second-order-safe running error bounds (bounds_robust.h). */
#include "bounds_robust.h"

/* x := |v| + u e (the largest magnitude the backend's value may have). */
static void hat(const rerr_ctx *c, mpfr_ptr x, const rerr *a)
{
    mpfr_mul(x, a->e, c->u, MPFR_RNDU);
    if (mpfr_sgn(a->v) >= 0)
        mpfr_add(x, x, a->v, MPFR_RNDU);
    else
        mpfr_sub(x, x, a->v, MPFR_RNDU);
}

void rb_mul(const rerr_ctx *c, rerr *r, const rerr *a, const rerr *b)
{
    mpfr_t ha, hb, e, t;
    mpfr_inits2(c->prec, ha, hb, e, t, (mpfr_ptr)0);
    hat(c, ha, a), hat(c, hb, b);
    mpfr_abs(t, b->v, MPFR_RNDU);
    mpfr_mul(e, a->e, t, MPFR_RNDU);  /* e_a |b| */
    mpfr_mul(t, ha, b->e, MPFR_RNDU); /* (|a| + u e_a) e_b */
    mpfr_add(e, e, t, MPFR_RNDU);
    mpfr_mul(t, ha, hb, MPFR_RNDU);   /* own rounding of the computed product */
    mpfr_add(e, e, t, MPFR_RNDU);
    mpfr_mul(r->v, a->v, b->v, MPFR_RNDN);
    mpfr_swap(r->e, e);
    mpfr_clears(ha, hb, e, t, (mpfr_ptr)0);
}

static void add_sub(const rerr_ctx *c, rerr *r, const rerr *a, const rerr *b, int sub)
{
    mpfr_t e, t;
    mpfr_inits2(c->prec, e, t, (mpfr_ptr)0);
    mpfr_add(e, a->e, b->e, MPFR_RNDU);
    if (sub)
        mpfr_sub(r->v, a->v, b->v, MPFR_RNDN);
    else
        mpfr_add(r->v, a->v, b->v, MPFR_RNDN);
    mpfr_mul(t, e, c->u, MPFR_RNDU); /* the computed sum is within u (e_a + e_b) */
    mpfr_add(e, e, t, MPFR_RNDU);
    mpfr_abs(t, r->v, MPFR_RNDU);
    mpfr_add(r->e, e, t, MPFR_RNDU);
    mpfr_clears(e, t, (mpfr_ptr)0);
}

void rb_add(const rerr_ctx *c, rerr *r, const rerr *a, const rerr *b)
{
    add_sub(c, r, a, b, 0);
}

void rb_sub(const rerr_ctx *c, rerr *r, const rerr *a, const rerr *b)
{
    add_sub(c, r, a, b, 1);
}

void rb_div(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b, double blow)
{
    if (mpfr_zero_p(a->v) && mpfr_zero_p(b->v) && mpfr_zero_p(a->e)) {
        mpfr_set_zero(r->v, 1), mpfr_set_zero(r->e, 1); /* 0 / 0 = 0 in both */
        return;
    }
    mpfr_t bl, ab, e, t, ha;
    mpfr_inits2(c->prec, bl, ab, e, t, ha, (mpfr_ptr)0);
    mpfr_mul(bl, b->e, c->u, MPFR_RNDU);
    mpfr_abs(t, b->v, MPFR_RNDD);
    mpfr_sub(bl, t, bl, MPFR_RNDD); /* |b| - u e_b */
    if (mpfr_cmp_d(bl, blow) < 0)
        mpfr_set_d(bl, blow, MPFR_RNDD);
    if (mpfr_sgn(bl) <= 0 || mpfr_zero_p(b->v)) {
        /* the denominator may vanish: no bound from this formula */
        mpfr_set_zero(r->v, 1);
        if (!mpfr_zero_p(b->v))
            mpfr_div(r->v, a->v, b->v, MPFR_RNDN);
        mpfr_set_ui_2exp(r->e, 1, 1000, MPFR_RNDU);
        c->near++;
    } else {
        /* |a^/b^ - a/b| <= u (e_a + |a/b| e_b) / bl; the rounding: (|a| + u e_a) / bl */
        mpfr_div(r->v, a->v, b->v, MPFR_RNDN);
        mpfr_abs(ab, r->v, MPFR_RNDU);
        mpfr_mul(t, ab, b->e, MPFR_RNDU);
        mpfr_add(e, a->e, t, MPFR_RNDU);
        hat(c, ha, a);
        mpfr_add(e, e, ha, MPFR_RNDU);
        mpfr_div(r->e, e, bl, MPFR_RNDU);
    }
    mpfr_clears(bl, ab, e, t, ha, (mpfr_ptr)0);
}

/* B = |A| + u e_A (hat) or |A| (plain). */
static void mat_hat(const rerr_ctx *c, mpmat_ptr B, const rerr_mat *A, int with_e)
{
    for (size_t k = 0; k < B->rows * B->cols; k++) {
        mpfr_abs(B->e + k, A->v->e + k, MPFR_RNDU);
        if (with_e) {
            mpfr_t t;
            mpfr_init2(t, B->prec);
            mpfr_mul(t, A->e->e + k, c->u, MPFR_RNDU);
            mpfr_add(B->e + k, B->e + k, t, MPFR_RNDU);
            mpfr_clear(t);
        }
    }
}

typedef optref_status (*product_fn)(mpmat_ptr, mpmat_srcptr, mpmat_srcptr);

optref_status rb_mat_mul(const rerr_ctx *c, rerr_mat *C, const rerr_mat *A, const rerr_mat *B,
                         int ta, int tb)
{
    product_fn mul = ta ? mpmat_mul_tn : tb ? mpmat_mul_nt : mpmat_mul;
    if (ta && tb)
        return optref_fail(OPTREF_EINVAL, "rb_mat_mul: A^T B^T is not provided");
    size_t k = ta ? A->v->rows : A->v->cols;
    mpmat_t hA, aB, hB, T, P;
    hA->e = aB->e = hB->e = T->e = P->e = NULL;
    optref_status st = mpmat_init(hA, A->v->rows, A->v->cols, c->prec);
    if (st == OPTREF_OK)
        st = mpmat_init(aB, B->v->rows, B->v->cols, c->prec);
    if (st == OPTREF_OK)
        st = mpmat_init(hB, B->v->rows, B->v->cols, c->prec);
    if (st == OPTREF_OK)
        st = mpmat_init(T, C->v->rows, C->v->cols, c->prec);
    if (st == OPTREF_OK)
        st = mpmat_init(P, C->v->rows, C->v->cols, c->prec);
    if (st == OPTREF_OK) {
        mat_hat(c, hA, A, 1), mat_hat(c, aB, B, 0), mat_hat(c, hB, B, 1);
        mpfr_t kk;
        mpfr_init2(kk, 64);
        mpfr_set_ui(kk, (unsigned long)k, MPFR_RNDN);
        mul(T, hA, hB);
        mpmat_scale(T, T, kk); /* k (|A| + u e_A)(|B| + u e_B) */
        mpfr_clear(kk);
        mul(P, A->e, aB); /* e_A |B| */
        mpmat_add(T, T, P);
        mul(P, hA, B->e); /* (|A| + u e_A) e_B */
        mpmat_add(T, T, P);
        st = mul(C->v, A->v, B->v);
        mpmat_set(C->e, T);
    }
    mpmat_clear(hA), mpmat_clear(aB), mpmat_clear(hB), mpmat_clear(T), mpmat_clear(P);
    return st;
}
