/* Step bounds of the Muon family and AdaMuon (spec/optimizers.md 1.1 and
 * section 2), in the order of operations of fast/cpu/muon.c, adamuon.c and
 * msign.c. Derivations and thresholds: proofs/conformance-muon.md.
 *
 * The elementwise parts are rerr operations in the backend's order; msign
 * is msign_bound (conformance/bounds_msign.c), adamuon's ||O||_F a dot of
 * squares (msign_sumsq). */
#include "bounds_families.h"

#include <string.h>

/* The learning rate as the backend holds it (binary64: exact; binary32: rounded). */
static void learning_rate(rerr_ctx *c, rerr *lr, mpfr_srcptr eta)
{
    if (c->fmt == OPTREF_BINARY64)
        rerr_exact(lr, eta);
    else
        rerr_rounded(c, lr, eta);
}

/* W <- W (1 - eta lambda), c computed in binary64 (two roundings, modelled at
 * the backend's u) and skipped when lambda = 0 (exact). */
static void decay(rerr_ctx *c, rerr_mat *W, mpfr_srcptr eta, mpfr_srcptr lambda)
{
    if (mpfr_zero_p(lambda))
        return;
    rerr f, one, x, w;
    rerr_init(c, &f), rerr_init(c, &one), rerr_init(c, &x), rerr_init(c, &w);
    rerr_exact(&f, eta);
    rerr_exact(&x, lambda);
    rerr_mul(c, &f, &f, &x);
    rerr_exact_d(&one, 1.0);
    rerr_sub(c, &f, &one, &f); /* 1 - eta lambda */
    for (size_t i = 0; i < W->v->rows; i++)
        for (size_t j = 0; j < W->v->cols; j++) {
            rerr_mat_get(&w, W, i, j);
            rerr_mul(c, &w, &w, &f);
            rerr_mat_set(W, i, j, &w);
        }
    rerr_clear(&f), rerr_clear(&one), rerr_clear(&x), rerr_clear(&w);
}

/* muon step 4: s in binary64 (then rounded in binary32), modelled at u. */
static void muon_scale(rerr_ctx *c, rerr *s, const ref_opt *o)
{
    const char *scale = ref_opt_text(o, "scale");
    size_t big = o->m > o->n ? o->m : o->n;
    rerr x;
    rerr_init(c, &x);
    if (strcmp(scale, "keller") == 0) {
        if (o->m <= o->n) {
            rerr_exact_d(s, 1.0);
        } else {
            rerr_exact_d(s, (double)o->m);
            rerr_exact_d(&x, (double)o->n);
            rerr_div(c, s, s, &x);
            rerr_sqrt(c, s, s);
        }
    } else {
        rerr_exact_d(&x, (double)big);
        rerr_sqrt(c, s, &x);
        if (strcmp(scale, "rms") == 0) {
            rerr_exact_d(&x, 0.2);
            rerr_mul(c, s, &x, s);
        }
    }
    rerr_clear(&x);
}

optref_status bound_muon(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    const ref_opt *o = in->in;
    const size_t m = o->m, n = o->n;
    rerr mu, mu_x, one, w1, lr, s, g, x, d, t;
    rerr *all[] = {&mu, &mu_x, &one, &w1, &lr, &s, &g, &x, &d, &t};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rerr_init(c, all[i]);
    rerr_mat D;
    optref_status st = rerr_mat_init(c, &D, m, n);
    if (st != OPTREF_OK)
        return st;
    bound_option(c, &mu, o, "momentum");
    bound_option_exact(&mu_x, o, "momentum");
    rerr_exact_d(&one, 1.0);
    rerr_sub(c, &w1, &one, &mu_x); /* 1 - mu in binary64, rounded */
    int nesterov = ref_opt_bool(o, "nesterov");
    /* steps 1 and 2: M <- M + w1 (G - M); D <- G + mu (M - G) or M */
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            rerr_mat_get(&g, in->G, i, j);
            rerr_mat_get(&x, &in->state[0], i, j);
            rerr_sub(c, &t, &g, &x);
            rerr_mul(c, &t, &w1, &t);
            rerr_add(c, &x, &x, &t);
            rerr_mat_set(&out[1], i, j, &x);
            if (nesterov) {
                rerr_sub(c, &t, &x, &g);
                rerr_mul(c, &t, &mu, &t);
                rerr_add(c, &d, &g, &t);
            } else {
                rerr_copy(&d, &x);
            }
            rerr_mat_set(&D, i, j, &d);
        }
    /* step 3 */
    st = msign_bound(c, &D, &D, ref_opt_text(o, "ns"), ref_opt_int(o, "ns_steps"), o->prec);
    if (st == OPTREF_OK) {
        /* steps 4 and 5 */
        int on_lr = strcmp(o->info->name, "muon-torch") == 0;
        muon_scale(c, &s, o);
        if (on_lr) {
            rerr_exact(&lr, in->eta);
            rerr_mul(c, &lr, &lr, &s); /* eta s in binary64, rounded */
        } else {
            learning_rate(c, &lr, in->eta);
        }
        mpmat_set(out[0].v, in->W->v);
        mpmat_set(out[0].e, in->W->e);
        decay(c, &out[0], in->eta, ref_opt_real(o, "weight_decay"));
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) {
                rerr_mat_get(&x, &out[0], i, j);
                rerr_mat_get(&d, &D, i, j);
                if (!on_lr)
                    rerr_mul(c, &d, &s, &d); /* U = s O */
                rerr_mul(c, &t, &lr, &d);
                rerr_sub(c, &x, &x, &t);
                rerr_mat_set(&out[0], i, j, &x);
            }
    }
    rerr_mat_clear(&D);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rerr_clear(all[i]);
    return st;
}

/* sign(x) as rerr_sign, except that an exact zero (v = 0, e = 0) is exactly
 * 0: the backend holds the same zero, no discontinuity is near. */
static void sign_of(rerr_ctx *c, rerr *r, const rerr *x)
{
    if (mpfr_zero_p(x->v) && mpfr_zero_p(x->e)) {
        mpfr_set_zero(r->v, 1);
        mpfr_set_zero(r->e, 1);
    } else {
        rerr_sign(c, r, x);
    }
}

/* adamuon steps 5 and 6 on W (out) from the normalised O. */
static void adamuon_apply(rerr_ctx *c, rerr_mat *W, const rerr_mat *O, const bound_input *in)
{
    const ref_opt *o = in->in;
    rerr nrm, c0, x, s, lr, w, t;
    rerr *all[] = {&nrm, &c0, &x, &s, &lr, &w, &t};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rerr_init(c, all[i]);
    decay(c, W, in->eta, ref_opt_real(o, "weight_decay"));
    msign_sumsq(c, &nrm, O);
    rerr_sqrt(c, &nrm, &nrm);
    rerr_exact_d(&x, (double)(o->m * o->n));
    rerr_sqrt(c, &c0, &x);
    rerr_exact_d(&x, 0.2);
    rerr_mul(c, &c0, &x, &c0); /* 0.2 sqrt(m n) in binary64, rounded */
    learning_rate(c, &lr, in->eta);
    if (mpfr_zero_p(nrm.v)) {
        /* O = 0: no update; if the backend's O may be nonzero, it may move
         * each entry by up to eta 0.2 sqrt(m n) (||s O||_F = c0) */
        if (!mpfr_zero_p(nrm.e)) {
            c->near++;
            rerr_mul(c, &t, &lr, &c0);
            mpfr_div(t.v, t.v, c->u, MPFR_RNDU);
            for (size_t k = 0; k < W->e->rows * W->e->cols; k++)
                mpfr_add(W->e->e + k, W->e->e + k, t.v, MPFR_RNDU);
        }
    } else {
        rerr_div(c, &s, &c0, &nrm);
        for (size_t i = 0; i < o->m; i++)
            for (size_t j = 0; j < o->n; j++) {
                rerr_mat_get(&w, W, i, j);
                rerr_mat_get(&x, O, i, j);
                rerr_mul(c, &x, &x, &s);  /* U = O s */
                rerr_mul(c, &t, &lr, &x);
                rerr_sub(c, &w, &w, &t);
                rerr_mat_set(W, i, j, &w);
            }
    }
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rerr_clear(all[i]);
}

optref_status bound_adamuon(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    const ref_opt *o = in->in;
    const size_t m = o->m, n = o->n;
    rerr beta1, b2x, one, w2, eps, g, x, v, t;
    rerr *all[] = {&beta1, &b2x, &one, &w2, &eps, &g, &x, &v, &t};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rerr_init(c, all[i]);
    rerr_mat O;
    optref_status st = rerr_mat_init(c, &O, m, n);
    if (st != OPTREF_OK)
        return st;
    bound_option(c, &beta1, o, "beta1");
    bound_option_exact(&b2x, o, "beta2");
    bound_option(c, &eps, o, "eps");
    rerr_exact_d(&one, 1.0);
    rerr_sub(c, &w2, &one, &b2x); /* 1 - beta2 in binary64, rounded */
    /* steps 1 and 2: M <- beta1 M + G; O <- sign(M) */
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            rerr_mat_get(&g, in->G, i, j);
            rerr_mat_get(&x, &in->state[0], i, j);
            rerr_mul(c, &x, &beta1, &x);
            rerr_add(c, &x, &x, &g);
            rerr_mat_set(&out[1], i, j, &x);
            sign_of(c, &t, &x);
            rerr_mat_set(&O, i, j, &t);
        }
    st = msign_bound(c, &O, &O, ref_opt_text(o, "ns"), ref_opt_int(o, "ns_steps"), o->prec);
    if (st == OPTREF_OK) {
        /* steps 3 and 4: V <- V + w2 (O O - V); O <- O / (sqrt(V) + eps) */
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) {
                rerr_mat_get(&x, &O, i, j);
                rerr_mat_get(&v, &in->state[1], i, j);
                rerr_mul(c, &t, &x, &x);
                rerr_sub(c, &t, &t, &v);
                rerr_mul(c, &t, &w2, &t);
                rerr_add(c, &v, &v, &t);
                rerr_mat_set(&out[2], i, j, &v);
                rerr_sqrt(c, &t, &v);
                rerr_add(c, &t, &t, &eps);
                rerr_div0(c, &x, &x, &t);
                rerr_mat_set(&O, i, j, &x);
            }
        mpmat_set(out[0].v, in->W->v);
        mpmat_set(out[0].e, in->W->e);
        adamuon_apply(c, &out[0], &O, in);
    }
    rerr_mat_clear(&O);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rerr_clear(all[i]);
    return st;
}
