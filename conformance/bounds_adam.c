/* Step bounds of the Adam family: adam, adamw, stableadamw, orthoadam (the
 * rotations through rerr_mat_mul's gamma_k) and asm (the step scale from
 * perturbed singular values). Each re-evaluates fast/cpu/<name>.c's order
 * of operations on rerr values (bounds_elementwise.h);
 * proofs/conformance-elementwise.md derives the rules. */
#include <string.h>

#include "bounds_elementwise.h"

/* ---- the Adam scalars and one element ---- */

void bound_adam_scalars_init(rerr_ctx *c, bound_adam_scalars *s, const ref_opt *o,
                             uint64_t t)
{
    rerr *all[] = {&s->beta1, &s->c1, &s->beta2, &s->c2, &s->bc1, &s->bc2, &s->eps};
    bound_rerrs_init(c, all, sizeof all / sizeof all[0]);
    bound_option(c, &s->beta1, o, "beta1");
    bound_one_minus(c, &s->c1, o, "beta1");
    bound_option(c, &s->beta2, o, "beta2");
    bound_one_minus(c, &s->c2, o, "beta2");
    bound_bias_correction(c, &s->bc1, o, "beta1", t);
    bound_bias_correction(c, &s->bc2, o, "beta2", t);
    bound_option(c, &s->eps, o, "eps");
}

void bound_adam_scalars_clear(bound_adam_scalars *s)
{
    rerr *all[] = {&s->beta1, &s->c1, &s->beta2, &s->c2, &s->bc1, &s->bc2, &s->eps};
    bound_rerrs_clear(all, sizeof all / sizeof all[0]);
}

void bound_adam_element(rerr_ctx *c, const bound_adam_scalars *s, rerr *m, rerr *v,
                        const rerr *g, rerr *d)
{
    rerr x, y;
    rerr_init(c, &x), rerr_init(c, &y);
    bound_mul(c, &x, &s->beta1, m); /* step 2 */
    bound_mul(c, &y, &s->c1, g);
    bound_add(c, m, &x, &y);
    bound_mul(c, &y, g, g);
    bound_mul(c, &y, &s->c2, &y);
    bound_mul(c, &x, &s->beta2, v);
    bound_add(c, v, &x, &y);
    rerr_div(c, &x, m, &s->bc1);    /* step 3: M_hat */
    rerr_div(c, &y, v, &s->bc2);    /* V_hat */
    rerr_sqrt(c, &y, &y);
    bound_add(c, &y, &y, &s->eps);
    rerr_div0(c, d, &x, &y);
    rerr_clear(&x), rerr_clear(&y);
}

/* ---- adam, adamw ---- */

optref_status bound_adam(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    const ref_opt *o = in->in;
    int decoupled = strcmp(o->info->name, "adamw") == 0;
    bound_adam_scalars s;
    bound_adam_scalars_init(c, &s, o, o->t + 1);
    rerr lam, cf, lr, w, g, m, v, d, t;
    rerr *all[] = {&lam, &cf, &lr, &w, &g, &m, &v, &d, &t};
    bound_rerrs_init(c, all, sizeof all / sizeof all[0]);
    rerr_exact_d(&cf, 1.0); /* adam: W times exactly 1 */
    if (decoupled)
        bound_decay_factor(c, &cf, in->eta, o);
    else
        bound_option(c, &lam, o, "weight_decay"); /* adamw: lam = 0, exact */
    bound_learning_rate(c, &lr, in->eta);
    for (size_t i = 0; i < o->m; i++)
        for (size_t j = 0; j < o->n; j++) {
            rerr_mat_get(&w, in->W, i, j);
            rerr_mat_get(&g, in->G, i, j);
            rerr_mat_get(&m, &in->state[0], i, j);
            rerr_mat_get(&v, &in->state[1], i, j);
            bound_mul(c, &t, &lam, &w);        /* 1. coupled */
            bound_add(c, &g, &g, &t);
            bound_mul(c, &w, &w, &cf);         /* 1. decoupled */
            bound_adam_element(c, &s, &m, &v, &g, &d); /* 2.-3. */
            bound_mul(c, &t, &lr, &d);
            bound_sub(c, &w, &w, &t);
            rerr_mat_set(&out[0], i, j, &w);
            rerr_mat_set(&out[1], i, j, &m);
            rerr_mat_set(&out[2], i, j, &v);
        }
    bound_rerrs_clear(all, sizeof all / sizeof all[0]);
    bound_adam_scalars_clear(&s);
    return OPTREF_OK;
}

/* ---- stableadamw ---- */

/* b = beta (1 - beta^(t-1)) / (1 - beta^t) and 1 - b, binary64 (step 1). */
static void corrected_beta(rerr_ctx *c, rerr *b, rerr *cb, const ref_opt *o,
                           const char *name, uint64_t t)
{
    rerr beta, one, x, y;
    rerr *all[] = {&beta, &one, &x, &y};
    bound_rerrs_init(c, all, 4);
    bound_option_exact(&beta, o, name);
    rerr_exact_d(&one, 1.0);
    bound_pow(c, &x, beta.v, t - 1);
    bound_sub(c, &x, &one, &x);
    bound_mul(c, &x, &beta, &x);
    bound_bias_correction(c, &y, o, name, t);
    rerr_div(c, b, &x, &y);
    bound_sub(c, cb, &one, b);
    bound_rerrs_clear(all, 4);
}

optref_status bound_stableadamw(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    const ref_opt *o = in->in;
    uint64_t t = o->t + 1;
    rerr_mat Q, D;
    optref_status st = rerr_mat_init(c, &Q, o->m, o->n);
    if (st != OPTREF_OK)
        return st;
    if ((st = rerr_mat_init(c, &D, o->m, o->n)) != OPTREF_OK) {
        rerr_mat_clear(&Q);
        return st;
    }
    rerr b1, c1, b2, c2, eps, epsx, eps2, one, r, x, y, w, g, m, u;
    rerr *all[] = {&b1, &c1, &b2, &c2, &eps, &epsx, &eps2, &one, &r, &x, &y, &w, &g, &m, &u};
    bound_rerrs_init(c, all, sizeof all / sizeof all[0]);
    corrected_beta(c, &b1, &c1, o, "beta1", t);
    corrected_beta(c, &b2, &c2, o, "beta2", t);
    bound_option(c, &eps, o, "eps");
    bound_option_exact(&epsx, o, "eps");
    bound_mul(c, &eps2, &epsx, &epsx); /* eps^2 in binary64, rounded once */
    rerr_exact_d(&one, 1.0);
    for (size_t i = 0; i < o->m; i++)
        for (size_t j = 0; j < o->n; j++) {
            rerr_mat_get(&g, in->G, i, j);
            rerr_mat_get(&m, &in->state[0], i, j);
            rerr_mat_get(&u, &in->state[1], i, j);
            bound_mul(c, &x, &b1, &m);         /* 2. */
            bound_mul(c, &y, &c1, &g);
            bound_add(c, &m, &x, &y);
            bound_mul(c, &r, &g, &g);
            bound_mul(c, &x, &b2, &u);
            bound_mul(c, &y, &c2, &r);
            bound_add(c, &u, &x, &y);
            rerr_max(c, &x, &u, &eps2);        /* 3. G.G / max(U, eps^2) */
            rerr_div0(c, &x, &r, &x);
            rerr_mat_set(&Q, i, j, &x);
            rerr_sqrt(c, &x, &u);              /* 4. D = M / (sqrt(U) + eps) */
            bound_add(c, &x, &x, &eps);
            rerr_div0(c, &x, &m, &x);
            rerr_mat_set(&D, i, j, &x);
            rerr_mat_set(&out[1], i, j, &m);
            rerr_mat_set(&out[2], i, j, &u);
        }
    /* 3.-4. r = sqrt(sum / mn) / d; eta' = eta / max(r, 1) (binary64, rounded once) */
    bound_sum(c, &r, &Q);
    rerr_exact_d(&x, (double)(o->m * o->n));
    rerr_div(c, &r, &r, &x);
    rerr_sqrt(c, &r, &r);
    bound_option_exact(&x, o, "clip_thresh");
    rerr_div(c, &r, &r, &x);
    rerr_max(c, &r, &r, &one);
    rerr_exact(&x, in->eta);
    rerr_div(c, &r, &x, &r);
    bound_decay_factor(c, &y, in->eta, o);
    for (size_t i = 0; i < o->m; i++)
        for (size_t j = 0; j < o->n; j++) {
            rerr_mat_get(&w, in->W, i, j);
            rerr_mat_get(&x, &D, i, j);
            bound_mul(c, &w, &w, &y);          /* 4. W c - eta' D */
            bound_mul(c, &x, &r, &x);
            bound_sub(c, &w, &w, &x);
            rerr_mat_set(&out[0], i, j, &w);
        }
    bound_rerrs_clear(all, sizeof all / sizeof all[0]);
    rerr_mat_clear(&Q), rerr_mat_clear(&D);
    return OPTREF_OK;
}

/* ---- orthoadam ---- */

static void mat_copy(rerr_mat *Y, const rerr_mat *X)
{
    mpmat_set(Y->v, X->v);
    mpmat_set(Y->e, X->e);
}

/* The mn x 1 view of an m x n rerr matrix (row-major flattening). */
static rerr_mat flat(const rerr_mat *X)
{
    rerr_mat f = *X;
    f.v->rows = f.e->rows = X->v->rows * X->v->cols;
    f.v->cols = f.e->cols = 1;
    return f;
}

/* Y = P_L^T X P_R (forward) or P_L X P_R^T (back) as fast/cpu/orthoadam.c
 * forms it: the left product first, a side of length 1 skipped (exact);
 * dense: vec(Y) = P^T vec(X) or P vec(X). T is m x n scratch; Y may not
 * alias X or T. */
static optref_status rotate(rerr_ctx *c, const bound_input *in, int dense, rerr_mat *Y,
                            const rerr_mat *X, rerr_mat *T, int forward)
{
    const ref_opt *o = in->in;
    const rerr_mat *PL = &in->state[2], *PR = &in->state[3], *P = &in->state[4];
    if (dense) {
        if (o->m * o->n == 1) {
            mat_copy(Y, X);
            return OPTREF_OK;
        }
        rerr_mat y = flat(Y), x = flat(X);
        return forward ? rerr_mat_mul_tn(c, &y, P, &x) : rerr_mat_mul(c, &y, P, &x);
    }
    optref_status st = OPTREF_OK;
    const rerr_mat *L = X;
    if (o->m > 1) {
        st = forward ? rerr_mat_mul_tn(c, T, PL, X) : rerr_mat_mul(c, T, PL, X);
        L = T;
    }
    if (st != OPTREF_OK)
        return st;
    if (o->n > 1)
        return forward ? rerr_mat_mul(c, Y, L, PR) : rerr_mat_mul_nt(c, Y, L, PR);
    mat_copy(Y, L);
    return OPTREF_OK;
}

optref_status bound_orthoadam(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    const ref_opt *o = in->in;
    int dense = strcmp(ref_opt_text(o, "rotation"), "dense") == 0;
    rerr_mat T, R, N;
    optref_status st = rerr_mat_init(c, &T, o->m, o->n);
    if (st == OPTREF_OK && (st = rerr_mat_init(c, &R, o->m, o->n)) != OPTREF_OK)
        rerr_mat_clear(&T);
    if (st == OPTREF_OK && (st = rerr_mat_init(c, &N, o->m, o->n)) != OPTREF_OK)
        rerr_mat_clear(&T), rerr_mat_clear(&R);
    if (st != OPTREF_OK)
        return st;
    bound_adam_scalars s;
    bound_adam_scalars_init(c, &s, o, o->t + 1);
    rerr cf, lr, w, g, m, v, d;
    rerr *all[] = {&cf, &lr, &w, &g, &m, &v, &d};
    bound_rerrs_init(c, all, sizeof all / sizeof all[0]);
    bound_decay_factor(c, &cf, in->eta, o);
    bound_learning_rate(c, &lr, in->eta);
    st = rotate(c, in, dense, &R, in->G, &T, 1); /* 2. */
    for (size_t i = 0; st == OPTREF_OK && i < o->m; i++)
        for (size_t j = 0; j < o->n; j++) {     /* 3. */
            rerr_mat_get(&g, &R, i, j);
            rerr_mat_get(&m, &in->state[0], i, j);
            rerr_mat_get(&v, &in->state[1], i, j);
            bound_adam_element(c, &s, &m, &v, &g, &d);
            rerr_mat_set(&N, i, j, &d);
            rerr_mat_set(&out[1], i, j, &m);
            rerr_mat_set(&out[2], i, j, &v);
        }
    if (st == OPTREF_OK)
        st = rotate(c, in, dense, &R, &N, &T, 0); /* 4. */
    for (size_t i = 0; st == OPTREF_OK && i < o->m; i++)
        for (size_t j = 0; j < o->n; j++) {
            rerr_mat_get(&w, in->W, i, j);
            rerr_mat_get(&d, &R, i, j);
            bound_mul(c, &w, &w, &cf);           /* 1. */
            bound_mul(c, &d, &lr, &d);           /* 4. */
            bound_sub(c, &w, &w, &d);
            rerr_mat_set(&out[0], i, j, &w);
        }
    for (size_t k = 2; st == OPTREF_OK && k < 5; k++)
        mat_copy(&out[1 + k], &in->state[k]);    /* the rotations do not change */
    bound_rerrs_clear(all, sizeof all / sizeof all[0]);
    bound_adam_scalars_clear(&s);
    rerr_mat_clear(&T), rerr_mat_clear(&R), rerr_mat_clear(&N);
    return st;
}
