/* Step bounds of deva-sinf and its variants (spec/optimizers.md section 2
 * deva-sinf): the order of fast/cpu/deva_sinf.c on rerr values (rerr.h's
 * rules keep input-error products), msign by msign_bound (bounds_msign.c), the
 * machinery by bounds_eigenbasis.c. Derivation: proofs/conformance-eigenbasis.md. */
#include <math.h>
#include <string.h>

#include "bounds_eigenbasis.h"

typedef enum { DEVA_PLAIN, DEVA_SIGN, DEVA_INS, DEVA_FACT } deva_variant;

static deva_variant variant_of(const char *name)
{
    if (strcmp(name, "deva-sinf-sign") == 0)
        return DEVA_SIGN;
    if (strcmp(name, "deva-sinf-ins") == 0)
        return DEVA_INS;
    if (strcmp(name, "deva-sinf-fact") == 0)
        return DEVA_FACT;
    return DEVA_PLAIN;
}

/* x[a] = sum of squares of row a (cols = 0) or column a (cols = 1) of A,
 * summed in index order as the backend does (one rounding per operation);
 * with root, its sqrt. x is m x 1 or 1 x n. */
static void axis_sumsq(rerr_ctx *c, rerr_mat *x, const rerr_mat *A, int cols, int root)
{
    size_t m = A->v->rows, n = A->v->cols, len = cols ? m : n, count = cols ? n : m;
    rerr s, a, t;
    rerr_init(c, &s), rerr_init(c, &a), rerr_init(c, &t);
    for (size_t p = 0; p < count; p++) {
        rerr_exact_d(&s, 0.0);
        for (size_t q = 0; q < len; q++) {
            rerr_mat_get(&a, A, cols ? q : p, cols ? p : q);
            rerr_mul(c, &t, &a, &a);
            if (q == 0)
                rerr_copy(&s, &t);
            else
                rerr_add(c, &s, &s, &t);
        }
        if (root)
            rerr_sqrt(c, &s, &s);
        rerr_mat_set(x, cols ? 0 : p, cols ? p : 0, &s);
    }
    rerr_clear(&s), rerr_clear(&a), rerr_clear(&t);
}

/* lerp(a, b, w) = a + w (b - a). */
static void lerp(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b, const rerr *w, rerr *t)
{
    rerr_sub(c, t, b, a);
    rerr_mul(c, t, w, t);
    rerr_add(c, r, a, t);
}

/* Gamma's factor: sqrt(r), or (fact) sqrt(r / sqrt(nu + eps)), in place. */
static void gamma_factor(rerr_ctx *c, rerr_mat *r, const rerr_mat *nu, const rerr *eps,
                         double sqrt_eps_low)
{
    rerr x, d;
    rerr_init(c, &x), rerr_init(c, &d);
    for (size_t i = 0; i < r->v->rows * r->v->cols; i++) {
        size_t a = r->v->rows == 1 ? 0 : i, b = r->v->rows == 1 ? i : 0;
        rerr_mat_get(&x, r, a, b);
        if (nu != NULL) {
            rerr_mat_get(&d, nu, a, b);
            rerr_add(c, &d, &d, eps);
            rerr_sqrt(c, &d, &d);
            rerr_div_lower(c, &x, &x, &d, sqrt_eps_low);
        }
        rerr_sqrt(c, &x, &x);
        rerr_mat_set(r, a, b, &x);
    }
    rerr_clear(&x), rerr_clear(&d);
}

typedef struct {
    rerr b1, w1, b2, w2, eps, s, x, y, t;
} deva_scalars;

static void scalars_init(rerr_ctx *c, deva_scalars *K, const ref_opt *o)
{
    rerr *all[] = {&K->b1, &K->w1, &K->b2, &K->w2, &K->eps, &K->s, &K->x, &K->y, &K->t};
    for (size_t i = 0; i < 9; i++)
        rerr_init(c, all[i]);
    bound_option(c, &K->b1, o, "beta1");
    bound_option(c, &K->b2, o, "beta2");
    bound_eb_one_minus(c, &K->w1, o, "beta1");
    bound_eb_one_minus(c, &K->w2, o, "beta2");
    bound_option(c, &K->eps, o, "eps");
    /* s = 0.2 sqrt(max(m, n)) in binary64, rounded to the format */
    rerr_exact_d(&K->x, (double)(o->m > o->n ? o->m : o->n));
    rerr_sqrt(c, &K->s, &K->x);
    rerr_exact_d(&K->x, 0.2);
    rerr_mul(c, &K->s, &K->x, &K->s);
    bound_eb_to_format(c, &K->s);
}

static void scalars_clear(deva_scalars *K)
{
    rerr *all[] = {&K->b1, &K->w1, &K->b2, &K->w2, &K->eps, &K->s, &K->x, &K->y, &K->t};
    for (size_t i = 0; i < 9; i++)
        rerr_clear(all[i]);
}

/* Steps 3-9 from G' in X: M, V (nu_r, nu_c), Gamma into out; U' into X. */
static optref_status deva_core(rerr_ctx *c, const bound_input *in, rerr_mat *out,
                               deva_variant var, rerr_mat *X, deva_scalars *K)
{
    const ref_opt *o = in->in;
    size_t m = o->m, n = o->n;
    int fact = var == DEVA_FACT;
    const rerr_mat *S = in->state;
    rerr_mat *M = &out[1], *Gamma = &out[fact ? 4 : 3];
    rerr_mat r, cn, sr, sc, N;
    rerr_mat_init(c, &r, m, 1), rerr_mat_init(c, &cn, 1, n);
    rerr_mat_init(c, &sr, m, 1), rerr_mat_init(c, &sc, 1, n);
    optref_status st = rerr_mat_init(c, &N, m, n);
    for (size_t i = 0; i < m; i++) /* 3 */
        for (size_t j = 0; j < n; j++) {
            rerr_mat_get(&K->x, &S[0], i, j);
            rerr_mat_get(&K->y, X, i, j);
            lerp(c, &K->x, &K->x, &K->y, &K->w1, &K->t);
            rerr_mat_set(M, i, j, &K->x);
        }
    const rerr_mat *src = var == DEVA_INS ? X : M; /* 4 */
    axis_sumsq(c, &r, src, 0, 1);
    axis_sumsq(c, &cn, src, 1, 1);
    if (fact) { /* 5: nu_r, nu_c */
        axis_sumsq(c, &sr, X, 0, 0);
        axis_sumsq(c, &sc, X, 1, 0);
        for (size_t i = 0; i < m; i++) {
            rerr_mat_get(&K->x, &S[1], i, 0);
            rerr_mat_get(&K->y, &sr, i, 0);
            lerp(c, &K->x, &K->x, &K->y, &K->w2, &K->t);
            rerr_mat_set(&out[2], i, 0, &K->x);
        }
        for (size_t j = 0; j < n; j++) {
            rerr_mat_get(&K->x, &S[2], 0, j);
            rerr_mat_get(&K->y, &sc, 0, j);
            lerp(c, &K->x, &K->x, &K->y, &K->w2, &K->t);
            rerr_mat_set(&out[3], 0, j, &K->x);
        }
    } else { /* 5: V <- b2 V + w2 (r c) */
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) {
                rerr_mat_get(&K->x, &r, i, 0);
                rerr_mat_get(&K->y, &cn, 0, j);
                rerr_mul(c, &K->t, &K->x, &K->y);
                rerr_mul(c, &K->t, &K->w2, &K->t);
                rerr_mat_get(&K->x, &S[1], i, j);
                rerr_mul(c, &K->x, &K->b2, &K->x);
                rerr_add(c, &K->x, &K->x, &K->t);
                rerr_mat_set(&out[2], i, j, &K->x);
            }
    }
    int nesterov = ref_opt_bool(o, "nesterov"), sgn = var == DEVA_SIGN || fact;
    for (size_t i = 0; i < m; i++) /* 6 */
        for (size_t j = 0; j < n; j++) {
            rerr_mat_get(&K->x, M, i, j);
            if (nesterov) {
                rerr_mat_get(&K->y, X, i, j);
                lerp(c, &K->x, &K->y, &K->x, &K->b1, &K->t);
            }
            if (sgn)
                rerr_sign(c, &K->x, &K->x);
            rerr_mat_set(&N, i, j, &K->x);
        }
    if (st == OPTREF_OK) /* 7 */
        st = msign_bound(c, &N, &N, ref_opt_text(o, "ns"), ref_opt_int(o, "ns_steps"), o->prec);
    /* 8: sqrt(nu + eps) >= sqrt(eps) and sqrt(V + eps) >= sqrt(eps) in the backend */
    double u = mpfr_get_d(c->u, MPFR_RNDU);
    double se = sqrt(mpfr_get_d(K->eps.v, MPFR_RNDD)) * (1 - 4 * u);
    gamma_factor(c, &r, fact ? &out[2] : NULL, &K->eps, se);
    gamma_factor(c, &cn, fact ? &out[3] : NULL, &K->eps, se);
    for (size_t i = 0; st == OPTREF_OK && i < m; i++)
        for (size_t j = 0; j < n; j++) {
            rerr_mat_get(&K->x, &r, i, 0);
            rerr_mat_get(&K->y, &cn, 0, j);
            rerr_mul(c, &K->x, &K->x, &K->y);
            if (!fact) {
                rerr_mat_get(&K->y, &out[2], i, j);
                rerr_add(c, &K->y, &K->y, &K->eps);
                rerr_sqrt(c, &K->y, &K->y);
                rerr_div_lower(c, &K->x, &K->x, &K->y, se);
            }
            rerr_mat_set(Gamma, i, j, &K->x);
            rerr_mat_get(&K->y, &N, i, j); /* 9: (s O) Gamma */
            rerr_mul(c, &K->y, &K->s, &K->y);
            rerr_mul(c, &K->y, &K->y, &K->x);
            rerr_mat_set(X, i, j, &K->y);
        }
    rerr_mat_clear(&r), rerr_mat_clear(&cn), rerr_mat_clear(&sr), rerr_mat_clear(&sc);
    rerr_mat_clear(&N);
    return st;
}

optref_status bound_deva_sinf(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    const ref_opt *o = in->in;
    deva_variant var = variant_of(o->info->name);
    int fact = var == DEVA_FACT;
    eb_layout lay = {.iM = 0, .irow = 1, .icol = fact ? 2 : 1, .iL = fact ? 4 : 3};
    const rerr_mat *S = in->state;
    size_t iready = lay.iL + 4, ik = lay.iL + 5;
    if (mpfr_zero_p(mpmat_entry(S[iready].v, 0, 0)))
        return bound_eb_first_call(c, in, out, &lay);
    bound_eb_copy(&out[1 + iready], &S[iready]);
    bound_eb_copy(&out[1 + ik], &S[ik]);
    mpfr_ptr kv = mpmat_entry(out[1 + ik].v, 0, 0);
    mpfr_add_ui(kv, kv, 1, MPFR_RNDN);
    unsigned long k = mpfr_get_ui(kv, MPFR_RNDN);
    rerr_mat X, U;
    optref_status st = rerr_mat_init(c, &X, o->m, o->n);
    if (st == OPTREF_OK)
        st = rerr_mat_init(c, &U, o->m, o->n);
    if (st == OPTREF_OK) /* 1 */
        st = bound_eb_project(c, &X, &S[lay.iL + 2], &S[lay.iL + 3], in->G, 0);
    deva_scalars K;
    scalars_init(c, &K, o);
    if (st == OPTREF_OK) /* 3-9 */
        st = deva_core(c, in, out, var, &X, &K);
    scalars_clear(&K);
    if (st == OPTREF_OK) /* 11 */
        st = bound_eb_project(c, &U, &S[lay.iL + 2], &S[lay.iL + 3], &X, 1);
    if (st == OPTREF_OK) { /* 10, 12, 13 */
        bound_eb_copy(&out[0], in->W);
        st = bound_eb_apply_update(c, in, &out[0], &U, k);
    }
    if (st == OPTREF_OK) { /* 14 */
        bound_eb_copy(&X, &out[1]);
        st = bound_eb_after_update(c, in, out, &lay, &X, k);
    }
    rerr_mat_clear(&X), rerr_mat_clear(&U);
    return st;
}
