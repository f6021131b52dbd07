/* Running error bounds: the rules are in rerr.h and derived in
 * proofs/conformance-running-error.md. Values and bounds are evaluated at
 * the context's precision; bounds round upward so that they stay bounds. */
#include "rerr.h"

#include <stdlib.h>

void rerr_ctx_init(rerr_ctx *c, mpfr_prec_t prec, optref_format fmt)
{
    c->prec = prec;
    c->fmt = fmt;
    c->near = 0;
    mpfr_init2(c->u, 64);
    /* u = 2^-p for a format of precision p (round to nearest) */
    mpfr_set_ui_2exp(c->u, 1, -(long)optref_format_prec(fmt), MPFR_RNDN);
}

void rerr_ctx_clear(rerr_ctx *c)
{
    mpfr_clear(c->u);
}

void rerr_init(const rerr_ctx *c, rerr *x)
{
    mpfr_inits2(c->prec, x->v, x->e, (mpfr_ptr)0);
    mpfr_set_zero(x->v, 1);
    mpfr_set_zero(x->e, 1);
}

void rerr_clear(rerr *x)
{
    mpfr_clears(x->v, x->e, (mpfr_ptr)0);
}

void rerr_exact(rerr *x, mpfr_srcptr v)
{
    mpfr_set(x->v, v, MPFR_RNDN);
    mpfr_set_zero(x->e, 1);
}

void rerr_exact_d(rerr *x, double v)
{
    mpfr_set_d(x->v, v, MPFR_RNDN);
    mpfr_set_zero(x->e, 1);
}

void rerr_rounded(const rerr_ctx *c, rerr *x, mpfr_srcptr v)
{
    (void)c;
    mpfr_set(x->v, v, MPFR_RNDN);
    mpfr_abs(x->e, v, MPFR_RNDU);
}

void rerr_copy(rerr *r, const rerr *a)
{
    mpfr_set(r->v, a->v, MPFR_RNDN);
    mpfr_set(r->e, a->e, MPFR_RNDU);
}

/* x := |v| + u e: the largest magnitude the backend's value may have. */
static void magnitude(const rerr_ctx *c, mpfr_ptr x, const rerr *a)
{
    mpfr_mul(x, a->e, c->u, MPFR_RNDU);
    if (mpfr_sgn(a->v) >= 0)
        mpfr_add(x, x, a->v, MPFR_RNDU);
    else
        mpfr_sub(x, x, a->v, MPFR_RNDU);
}

/* a +- b: the propagated e_a + e_b, and the rounding of a computed value of
 * magnitude at most |a +- b| + u (e_a + e_b). */
static void add_sub(const rerr_ctx *c, rerr *r, const rerr *a, const rerr *b, int sub)
{
    mpfr_t e, t;
    mpfr_inits2(c->prec, e, t, (mpfr_ptr)0);
    mpfr_add(e, a->e, b->e, MPFR_RNDU);
    if (sub)
        mpfr_sub(r->v, a->v, b->v, MPFR_RNDN);
    else
        mpfr_add(r->v, a->v, b->v, MPFR_RNDN);
    mpfr_mul(t, e, c->u, MPFR_RNDU);
    mpfr_add(e, e, t, MPFR_RNDU);
    mpfr_abs(t, r->v, MPFR_RNDU);
    mpfr_add(r->e, e, t, MPFR_RNDU);
    mpfr_clears(e, t, (mpfr_ptr)0);
}

void rerr_add(const rerr_ctx *c, rerr *r, const rerr *a, const rerr *b)
{
    add_sub(c, r, a, b, 0);
}

void rerr_sub(const rerr_ctx *c, rerr *r, const rerr *a, const rerr *b)
{
    add_sub(c, r, a, b, 1);
}

/* a b: e_a |b| + (|a| + u e_a) e_b propagated (exact: (a + x)(b + y) - ab =
 * x b + (a + x) y), and the rounding of a value of magnitude at most
 * (|a| + u e_a)(|b| + u e_b). */
void rerr_mul(const rerr_ctx *c, rerr *r, const rerr *a, const rerr *b)
{
    mpfr_t ha, hb, e, t;
    mpfr_inits2(c->prec, ha, hb, e, t, (mpfr_ptr)0);
    magnitude(c, ha, a), magnitude(c, hb, b);
    mpfr_abs(t, b->v, MPFR_RNDU);
    mpfr_mul(e, a->e, t, MPFR_RNDU);
    mpfr_mul(t, ha, b->e, MPFR_RNDU);
    mpfr_add(e, e, t, MPFR_RNDU);
    mpfr_mul(t, ha, hb, MPFR_RNDU);
    mpfr_add(e, e, t, MPFR_RNDU);
    mpfr_mul(r->v, a->v, b->v, MPFR_RNDN);
    mpfr_swap(r->e, e);
    mpfr_clears(ha, hb, e, t, (mpfr_ptr)0);
}

/* r->e += |r->v|: the operation's own rounding (sqrt, whose propagated term
 * is already a bound for any input error). */
static void add_own_rounding(rerr *r)
{
    if (mpfr_sgn(r->v) >= 0)
        mpfr_add(r->e, r->e, r->v, MPFR_RNDU);
    else
        mpfr_sub(r->e, r->e, r->v, MPFR_RNDU);
}

void rerr_div(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b)
{
    rerr_div_lower(c, r, a, b, 0);
}

/* a / b: (a + x)/(b + y) - a/b = (x - (a/b) y) / (b + y), so with bl <= |b + y|
 * the propagated error is at most (e_a + |a/b| e_b) / bl and the computed
 * quotient at most (|a| + u e_a) / bl in magnitude; bl = |b| - u e_b, or the
 * caller's lower bound when it is larger. */
void rerr_div_lower(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b, double lower)
{
    if (mpfr_zero_p(a->v) && mpfr_zero_p(a->e)) {
        /* an exact zero numerator: the backend's quotient is 0 (0 / 0 = 0 too) */
        mpfr_set_zero(r->v, 1), mpfr_set_zero(r->e, 1);
        return;
    }
    mpfr_t bl, q, e, t, ha;
    mpfr_inits2(c->prec, bl, q, e, t, ha, (mpfr_ptr)0);
    mpfr_mul(bl, b->e, c->u, MPFR_RNDU);
    mpfr_abs(t, b->v, MPFR_RNDD);
    mpfr_sub(bl, t, bl, MPFR_RNDD);
    if (mpfr_cmp_d(bl, lower) < 0)
        mpfr_set_d(bl, lower, MPFR_RNDD);
    mpfr_set_zero(q, 1);
    if (!mpfr_zero_p(b->v))
        mpfr_div(q, a->v, b->v, MPFR_RNDN);
    if (mpfr_sgn(bl) <= 0) {
        /* the denominator may vanish: no bound from this formula */
        mpfr_set_inf(e, 1);
        c->near++;
    } else {
        mpfr_abs(t, q, MPFR_RNDU);
        mpfr_mul(t, t, b->e, MPFR_RNDU);
        mpfr_add(e, a->e, t, MPFR_RNDU);
        magnitude(c, ha, a);
        mpfr_add(e, e, ha, MPFR_RNDU);
        mpfr_div(e, e, bl, MPFR_RNDU);
    }
    mpfr_swap(r->v, q);
    mpfr_swap(r->e, e);
    mpfr_clears(bl, q, e, t, ha, (mpfr_ptr)0);
}

void rerr_div0(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b)
{
    if (mpfr_zero_p(b->v) && mpfr_zero_p(a->v) && mpfr_zero_p(a->e)) {
        mpfr_set_zero(r->v, 1);
        mpfr_set_zero(r->e, 1);
        return;
    }
    rerr_div(c, r, a, b);
}

void rerr_sqrt(const rerr_ctx *c, rerr *r, const rerr *a)
{
    mpfr_t e, t;
    mpfr_inits2(c->prec, e, t, (mpfr_ptr)0);
    /* |sqrt(a + d) - sqrt(a)| <= min(|d| / (2 sqrt a), sqrt |d|), d = u e_a */
    mpfr_div(e, a->e, c->u, MPFR_RNDU);
    mpfr_sqrt(e, e, MPFR_RNDU);               /* sqrt(e_a / u) */
    mpfr_sqrt(r->v, a->v, MPFR_RNDN);
    if (mpfr_sgn(r->v) > 0) {
        mpfr_mul_2ui(t, r->v, 1, MPFR_RNDD);
        mpfr_div(t, a->e, t, MPFR_RNDU);      /* e_a / (2 sqrt a) */
        mpfr_min(e, e, t, MPFR_RNDU);
    }
    mpfr_swap(r->e, e);
    add_own_rounding(r);
    mpfr_clears(e, t, (mpfr_ptr)0);
}

void rerr_neg(rerr *r, const rerr *a)
{
    mpfr_neg(r->v, a->v, MPFR_RNDN);
    mpfr_set(r->e, a->e, MPFR_RNDU);
}

void rerr_abs(rerr *r, const rerr *a)
{
    mpfr_abs(r->v, a->v, MPFR_RNDN);
    mpfr_set(r->e, a->e, MPFR_RNDU);
}

/* |v| <= u e with e > 0: the backend's value may have either sign. With
 * e = 0 the backend holds v exactly (an exact zero row of a gradient), and
 * its sign is decided. */
static int within_bound(const rerr_ctx *c, mpfr_srcptr v, mpfr_srcptr e)
{
    if (mpfr_zero_p(e))
        return 0;
    mpfr_t t;
    mpfr_init2(t, mpfr_get_prec(e));
    mpfr_mul(t, e, c->u, MPFR_RNDU);
    int within = mpfr_cmpabs(v, t) <= 0;
    mpfr_clear(t);
    return within;
}

void rerr_sign(rerr_ctx *c, rerr *r, const rerr *a)
{
    int near = within_bound(c, a->v, a->e);
    int s = mpfr_sgn(a->v);
    mpfr_set_si(r->v, s, MPFR_RNDN);
    if (near) {
        c->near++;
        mpfr_ui_div(r->e, 2, c->u, MPFR_RNDU); /* the jump 2, in units of u */
    } else {
        mpfr_set_zero(r->e, 1);
    }
}

static void choose(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b, int want_max)
{
    mpfr_t d, eb;
    mpfr_inits2(c->prec, d, eb, (mpfr_ptr)0);
    mpfr_sub(d, a->v, b->v, MPFR_RNDN);
    mpfr_add(eb, a->e, b->e, MPFR_RNDU);
    int near = within_bound(c, d, eb);
    int pick_a = want_max ? mpfr_cmp(a->v, b->v) >= 0 : mpfr_cmp(a->v, b->v) <= 0;
    const rerr *p = pick_a ? a : b;
    mpfr_set(r->v, p->v, MPFR_RNDN);
    if (near) {
        /* either operand may come out: the larger bound plus their gap */
        c->near++;
        mpfr_max(eb, a->e, b->e, MPFR_RNDU);
        mpfr_abs(d, d, MPFR_RNDU);
        mpfr_div(d, d, c->u, MPFR_RNDU);
        mpfr_add(r->e, eb, d, MPFR_RNDU);
    } else {
        mpfr_set(r->e, p->e, MPFR_RNDU);
    }
    mpfr_clears(d, eb, (mpfr_ptr)0);
}

void rerr_max(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b)
{
    choose(c, r, a, b, 1);
}

void rerr_min(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b)
{
    choose(c, r, a, b, 0);
}

/* ---- matrices ---- */

optref_status rerr_mat_init(const rerr_ctx *c, rerr_mat *X, size_t rows, size_t cols)
{
    optref_status st = mpmat_init(X->v, rows, cols, c->prec);
    if (st != OPTREF_OK)
        return st;
    if ((st = mpmat_init(X->e, rows, cols, c->prec)) != OPTREF_OK)
        mpmat_clear(X->v);
    return st;
}

void rerr_mat_clear(rerr_mat *X)
{
    mpmat_clear(X->v);
    mpmat_clear(X->e);
}

void rerr_mat_exact(rerr_mat *X, mpmat_srcptr A)
{
    mpmat_set(X->v, A);
    mpmat_zero(X->e);
}

/* B = |A->v|, plus u A->e when `magnitude` (the largest magnitude the
 * backend's entries may have). */
static void mat_abs(const rerr_ctx *c, mpmat_ptr B, const rerr_mat *A, int magnitude)
{
    mpfr_t t;
    mpfr_init2(t, B->prec);
    for (size_t k = 0; k < B->rows * B->cols; k++) {
        mpfr_abs(B->e + k, A->v->e + k, MPFR_RNDU);
        if (magnitude) {
            mpfr_mul(t, A->e->e + k, c->u, MPFR_RNDU);
            mpfr_add(B->e + k, B->e + k, t, MPFR_RNDU);
        }
    }
    mpfr_clear(t);
}

typedef optref_status (*product_fn)(mpmat_ptr, mpmat_srcptr, mpmat_srcptr);

/* C = op(A) op(B) with e_C = e_A |B| + |A^| e_B + k |A^||B^| (k the inner
 * dimension, |X^| = |X| + u e_X the magnitudes the backend's operands may
 * have; gamma_k = k u / (1 - k u), Higham (3.13)). */
static optref_status product(const rerr_ctx *c, rerr_mat *C, const rerr_mat *A,
                             const rerr_mat *B, product_fn mul, size_t k)
{
    mpmat_t hA, aB, hB, T, P;
    mpmat_ptr all[] = {hA, aB, hB, T, P};
    const mpmat_struct *shape[] = {A->v, B->v, B->v, C->v, C->v};
    optref_status st = OPTREF_OK;
    for (size_t i = 0; i < 5; i++)
        all[i]->e = NULL, all[i]->rows = all[i]->cols = 0;
    for (size_t i = 0; st == OPTREF_OK && i < 5; i++)
        st = mpmat_init(all[i], shape[i]->rows, shape[i]->cols, c->prec);
    if (st == OPTREF_OK) {
        mat_abs(c, hA, A, 1);
        mat_abs(c, aB, B, 0);
        mat_abs(c, hB, B, 1);
        mpfr_t kk;
        mpfr_init2(kk, 64);
        mpfr_set_ui(kk, (unsigned long)k, MPFR_RNDN);
        if ((st = mul(T, hA, hB)) == OPTREF_OK) { /* k |A^||B^| */
            mpmat_scale(T, T, kk);
            mul(P, A->e, aB);                     /* e_A |B| */
            mpmat_add(T, T, P);
            mul(P, hA, B->e);                     /* |A^| e_B */
            mpmat_add(T, T, P);
            st = mul(C->v, A->v, B->v);
            mpmat_set(C->e, T);
        }
        mpfr_clear(kk);
    }
    for (size_t i = 0; i < 5; i++)
        mpmat_clear(all[i]);
    return st;
}

optref_status rerr_mat_mul(const rerr_ctx *c, rerr_mat *C, const rerr_mat *A, const rerr_mat *B)
{
    return product(c, C, A, B, mpmat_mul, A->v->cols);
}

optref_status rerr_mat_mul_tn(const rerr_ctx *c, rerr_mat *C, const rerr_mat *A, const rerr_mat *B)
{
    return product(c, C, A, B, mpmat_mul_tn, A->v->rows);
}

optref_status rerr_mat_mul_op(const rerr_ctx *c, rerr_mat *C, const rerr_mat *A,
                              const rerr_mat *B, int ta, int tb)
{
    if (ta && tb)
        return optref_fail(OPTREF_EINVAL, "rerr_mat_mul_op: A^T B^T is not provided");
    return ta ? rerr_mat_mul_tn(c, C, A, B) : tb ? rerr_mat_mul_nt(c, C, A, B)
              : rerr_mat_mul(c, C, A, B);
}

optref_status rerr_mat_mul_nt(const rerr_ctx *c, rerr_mat *C, const rerr_mat *A, const rerr_mat *B)
{
    return product(c, C, A, B, mpmat_mul_nt, A->v->cols);
}

void rerr_mat_get(rerr *x, const rerr_mat *X, size_t i, size_t j)
{
    mpfr_set(x->v, mpmat_entry(X->v, i, j), MPFR_RNDN);
    mpfr_set(x->e, mpmat_entry(X->e, i, j), MPFR_RNDU);
}

void rerr_mat_set(rerr_mat *X, size_t i, size_t j, const rerr *x)
{
    mpfr_set(mpmat_entry(X->v, i, j), x->v, MPFR_RNDN);
    mpfr_set(mpmat_entry(X->e, i, j), x->e, MPFR_RNDU);
}
