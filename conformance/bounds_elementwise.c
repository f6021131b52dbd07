/* Step bounds of the elementwise optimizers sgd, signsgd, adagrad, lion,
 * deva-linf and sophia, and the helpers the elementwise family shares
 * (bounds_elementwise.h): each formula of spec/optimizers.md section 2,
 * element by element, on rerr values, in the order fast/cpu/ evaluates it.
 * The Adam family is in bounds_adam.c. Derivations:
 * proofs/conformance-running-error.md, proofs/conformance-elementwise.md. */
#include "bounds_elementwise.h"

#include "optref/rng.h"

/* ---- helpers ---- */

void bound_rerrs_init(rerr_ctx *c, rerr *const *all, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rerr_init(c, all[i]);
}

void bound_rerrs_clear(rerr *const *all, size_t n)
{
    for (size_t i = 0; i < n; i++)
        rerr_clear(all[i]);
}

void bound_learning_rate(rerr_ctx *c, rerr *lr, mpfr_srcptr eta)
{
    if (c->fmt == OPTREF_BINARY64)
        rerr_exact(lr, eta);
    else
        rerr_rounded(c, lr, eta);
}

void bound_one_minus(rerr_ctx *c, rerr *r, const ref_opt *o, const char *name)
{
    rerr one, x;
    rerr_init(c, &one), rerr_init(c, &x);
    rerr_exact_d(&one, 1.0);
    bound_option_exact(&x, o, name);
    bound_sub(c, r, &one, &x);
    rerr_clear(&one), rerr_clear(&x);
}

void bound_decay_factor(rerr_ctx *c, rerr *cf, mpfr_srcptr eta, const ref_opt *o)
{
    rerr one, e, lambda, p;
    rerr *all[] = {&one, &e, &lambda, &p};
    bound_rerrs_init(c, all, 4);
    rerr_exact_d(&one, 1.0);
    rerr_exact(&e, eta);
    bound_option_exact(&lambda, o, "weight_decay");
    bound_mul(c, &p, &e, &lambda);
    bound_sub(c, cf, &one, &p);
    bound_rerrs_clear(all, 4);
}

void bound_pow(rerr_ctx *c, rerr *p, mpfr_srcptr beta, uint64_t t)
{
    (void)c;
    mpfr_pow_ui(p->v, beta, (unsigned long)t, MPFR_RNDN);
    if (t <= 1)
        mpfr_set_zero(p->e, 1);
    else
        mpfr_mul_2ui(p->e, p->v, 1, MPFR_RNDU); /* one ulp <= 2 u |p| */
    mpfr_abs(p->e, p->e, MPFR_RNDU);
}

void bound_bias_correction(rerr_ctx *c, rerr *bc, const ref_opt *o, const char *name,
                           uint64_t t)
{
    rerr one, p;
    rerr_init(c, &one), rerr_init(c, &p);
    rerr_exact_d(&one, 1.0);
    bound_pow(c, &p, ref_opt_real(o, name), t);
    bound_sub(c, bc, &one, &p);
    rerr_clear(&one), rerr_clear(&p);
}

/* x is held exactly and is 0, 1 or -1: a product with it is exact. */
static int exact_unit(const rerr *x)
{
    return mpfr_zero_p(x->e) && (mpfr_zero_p(x->v) || mpfr_cmpabs_ui(x->v, 1) == 0);
}

static int exact_zero(const rerr *x)
{
    return mpfr_zero_p(x->e) && mpfr_zero_p(x->v);
}

void bound_mul(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b)
{
    if (!exact_unit(a) && !exact_unit(b)) {
        rerr_mul(c, r, a, b);
        return;
    }
    mpfr_t e, t;
    mpfr_inits2(c->prec, e, t, (mpfr_ptr)0);
    mpfr_abs(t, b->v, MPFR_RNDN);
    mpfr_mul(e, a->e, t, MPFR_RNDU); /* e_a |b| + |a| e_b, no rounding of its own */
    mpfr_abs(t, a->v, MPFR_RNDN);
    mpfr_mul(t, t, b->e, MPFR_RNDU);
    mpfr_add(e, e, t, MPFR_RNDU);
    mpfr_mul(r->v, a->v, b->v, MPFR_RNDN);
    mpfr_swap(r->e, e);
    mpfr_clears(e, t, (mpfr_ptr)0);
}

void bound_add(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b)
{
    if (exact_zero(b))
        rerr_copy(r, a);
    else if (exact_zero(a))
        rerr_copy(r, b);
    else
        rerr_add(c, r, a, b);
}

void bound_sub(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b)
{
    if (exact_zero(b))
        rerr_copy(r, a);
    else if (exact_zero(a))
        rerr_neg(r, b);
    else
        rerr_sub(c, r, a, b);
}

void bound_lerp(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b, const rerr *w)
{
    rerr d;
    rerr_init(c, &d);
    bound_sub(c, &d, b, a);
    bound_mul(c, &d, w, &d);
    bound_add(c, r, a, &d);
    rerr_clear(&d);
}

void bound_signed(rerr_ctx *c, rerr *r, const rerr *x, const rerr *d)
{
    if (exact_zero(d)) { /* the backend's d is 0 too: sign 0, no discontinuity */
        mpfr_set_zero(r->v, 1);
        mpfr_set_zero(r->e, 1);
        return;
    }
    rerr s;
    rerr_init(c, &s);
    rerr_sign(c, &s, d);
    int sg = mpfr_sgn(s.v), near = !mpfr_zero_p(s.e);
    mpfr_t jump;
    mpfr_init2(jump, c->prec);
    mpfr_abs(jump, x->v, MPFR_RNDU);
    mpfr_mul(jump, jump, s.e, MPFR_RNDU); /* 2 |x| / u when near, else 0 */
    if (sg == 0 && !near)
        mpfr_set_zero(r->e, 1);
    else if (near)
        mpfr_add(r->e, x->e, jump, MPFR_RNDU);
    else
        mpfr_set(r->e, x->e, MPFR_RNDU);
    if (sg > 0)
        mpfr_set(r->v, x->v, MPFR_RNDN);
    else if (sg < 0)
        mpfr_neg(r->v, x->v, MPFR_RNDN);
    else
        mpfr_set_zero(r->v, 1);
    mpfr_clear(jump);
    rerr_clear(&s);
}

void bound_sum(rerr_ctx *c, rerr *r, const rerr_mat *X)
{
    size_t count = X->v->rows * X->v->cols;
    mpfr_t a, t;
    mpfr_inits2(c->prec, a, t, (mpfr_ptr)0);
    mpfr_set_zero(a, 1);
    mpfr_set_zero(r->e, 1);
    for (size_t k = 0; k < count; k++) {
        mpfr_abs(t, X->v->e + k, MPFR_RNDU);
        mpfr_add(a, a, t, MPFR_RNDU);
        mpfr_add(r->e, r->e, X->e->e + k, MPFR_RNDU);
    }
    mpfr_mul_ui(a, a, count > 0 ? (unsigned long)(count - 1) : 0, MPFR_RNDU);
    mpfr_add(r->e, r->e, a, MPFR_RNDU);
    mpmat_sum(r->v, X->v);
    mpfr_clears(a, t, (mpfr_ptr)0);
}

/* ---- sgd ---- */

optref_status bound_sgd(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    const ref_opt *o = in->in;
    rerr lambda, mu, damp1, lr, w, g, b, d, t;
    rerr *all[] = {&lambda, &mu, &damp1, &lr, &w, &g, &b, &d, &t};
    bound_rerrs_init(c, all, sizeof all / sizeof all[0]);
    bound_option(c, &lambda, o, "weight_decay");
    bound_option(c, &mu, o, "momentum");
    bound_one_minus(c, &damp1, o, "dampening"); /* 1 - dampening, rounded once */
    bound_learning_rate(c, &lr, in->eta);
    int nesterov = ref_opt_bool(o, "nesterov"), first = o->t + 1 == 1;
    int momentum = !mpfr_zero_p(mu.v);
    const rerr_mat *B = &in->state[0];
    for (size_t i = 0; i < o->m; i++)
        for (size_t j = 0; j < o->n; j++) {
            rerr_mat_get(&w, in->W, i, j);
            rerr_mat_get(&g, in->G, i, j);
            rerr_mat_get(&b, B, i, j);
            rerr_mul(c, &t, &lambda, &w);
            rerr_add(c, &g, &g, &t);                 /* G + lambda W */
            rerr_copy(&d, &g);
            if (momentum) {
                if (first) {
                    rerr_copy(&b, &g);
                } else {
                    rerr_mul(c, &t, &mu, &b);
                    rerr_mul(c, &b, &damp1, &g);
                    rerr_add(c, &b, &t, &b);         /* mu B + (1 - dampening) G */
                }
                if (nesterov) {
                    rerr_mul(c, &t, &mu, &b);
                    rerr_add(c, &d, &g, &t);         /* G + mu B */
                } else {
                    rerr_copy(&d, &b);
                }
            }
            rerr_mul(c, &t, &lr, &d);
            rerr_sub(c, &w, &w, &t);                 /* W - eta D */
            rerr_mat_set(&out[0], i, j, &w);
            rerr_mat_set(&out[1], i, j, &b);
        }
    bound_rerrs_clear(all, sizeof all / sizeof all[0]);
    return OPTREF_OK;
}

/* ---- signsgd: W c; M <- lerp(M, G, 1 - beta); D; W - eta sign(D) ---- */

optref_status bound_signsgd(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    const ref_opt *o = in->in;
    rerr beta, cb, lr, cf, w, g, m, d, t;
    rerr *all[] = {&beta, &cb, &lr, &cf, &w, &g, &m, &d, &t};
    bound_rerrs_init(c, all, sizeof all / sizeof all[0]);
    bound_option(c, &beta, o, "beta");
    bound_one_minus(c, &cb, o, "beta");
    bound_learning_rate(c, &lr, in->eta);
    bound_decay_factor(c, &cf, in->eta, o);
    int nesterov = ref_opt_bool(o, "nesterov");
    for (size_t i = 0; i < o->m; i++)
        for (size_t j = 0; j < o->n; j++) {
            rerr_mat_get(&w, in->W, i, j);
            rerr_mat_get(&g, in->G, i, j);
            rerr_mat_get(&m, &in->state[0], i, j);
            bound_mul(c, &w, &w, &cf);           /* 1. */
            bound_lerp(c, &m, &m, &g, &cb);      /* 2. */
            if (nesterov)
                bound_lerp(c, &d, &g, &m, &beta); /* 3. */
            else
                rerr_copy(&d, &m);
            bound_signed(c, &t, &lr, &d);        /* 4. eta sign(D), exact */
            bound_sub(c, &w, &w, &t);
            rerr_mat_set(&out[0], i, j, &w);
            rerr_mat_set(&out[1], i, j, &m);
        }
    bound_rerrs_clear(all, sizeof all / sizeof all[0]);
    return OPTREF_OK;
}

/* ---- adagrad: g = G + lambda W; S <- S + g.g; W - eta g / (sqrt(S) + eps) ---- */

optref_status bound_adagrad(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    const ref_opt *o = in->in;
    rerr lambda, eps, lr, w, g, s, d, t;
    rerr *all[] = {&lambda, &eps, &lr, &w, &g, &s, &d, &t};
    bound_rerrs_init(c, all, sizeof all / sizeof all[0]);
    bound_option(c, &lambda, o, "weight_decay");
    bound_option(c, &eps, o, "eps");
    bound_learning_rate(c, &lr, in->eta);
    for (size_t i = 0; i < o->m; i++)
        for (size_t j = 0; j < o->n; j++) {
            rerr_mat_get(&w, in->W, i, j);
            rerr_mat_get(&g, in->G, i, j);
            rerr_mat_get(&s, &in->state[0], i, j);
            bound_mul(c, &t, &lambda, &w);       /* 1. */
            bound_add(c, &g, &g, &t);
            bound_mul(c, &t, &g, &g);            /* 2. */
            bound_add(c, &s, &s, &t);
            rerr_sqrt(c, &d, &s);                /* 3. */
            bound_add(c, &d, &d, &eps);
            rerr_div0(c, &d, &g, &d);
            bound_mul(c, &t, &lr, &d);
            bound_sub(c, &w, &w, &t);
            rerr_mat_set(&out[0], i, j, &w);
            rerr_mat_set(&out[1], i, j, &s);
        }
    bound_rerrs_clear(all, sizeof all / sizeof all[0]);
    return OPTREF_OK;
}

/* ---- lion: W c; C = beta1 M + (1 - beta1) G; W - eta sign(C); M update ---- */

optref_status bound_lion(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    const ref_opt *o = in->in;
    rerr b1, c1, b2, c2, lr, cf, w, g, m, x, t;
    rerr *all[] = {&b1, &c1, &b2, &c2, &lr, &cf, &w, &g, &m, &x, &t};
    bound_rerrs_init(c, all, sizeof all / sizeof all[0]);
    bound_option(c, &b1, o, "beta1");
    bound_one_minus(c, &c1, o, "beta1");
    bound_option(c, &b2, o, "beta2");
    bound_one_minus(c, &c2, o, "beta2");
    bound_learning_rate(c, &lr, in->eta);
    bound_decay_factor(c, &cf, in->eta, o);
    for (size_t i = 0; i < o->m; i++)
        for (size_t j = 0; j < o->n; j++) {
            rerr_mat_get(&w, in->W, i, j);
            rerr_mat_get(&g, in->G, i, j);
            rerr_mat_get(&m, &in->state[0], i, j);
            bound_mul(c, &w, &w, &cf);           /* 1. */
            bound_mul(c, &x, &b1, &m);           /* 2. */
            bound_mul(c, &t, &c1, &g);
            bound_add(c, &x, &x, &t);
            bound_signed(c, &t, &lr, &x);        /* 3. */
            bound_sub(c, &w, &w, &t);
            bound_mul(c, &m, &b2, &m);           /* 4. */
            bound_mul(c, &t, &c2, &g);
            bound_add(c, &m, &m, &t);
            rerr_mat_set(&out[0], i, j, &w);
            rerr_mat_set(&out[1], i, j, &m);
        }
    bound_rerrs_clear(all, sizeof all / sizeof all[0]);
    return OPTREF_OK;
}

/* ---- deva-linf: W c; M, V lerps; Gamma = sqrt(M.M / (V + eps)); W - eta Gamma sign(D) ---- */

optref_status bound_deva_linf(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    const ref_opt *o = in->in;
    rerr b1, c1, c2, eps, lr, cf, w, g, m, v, mm, gam, d, t;
    rerr *all[] = {&b1, &c1, &c2, &eps, &lr, &cf, &w, &g, &m, &v, &mm, &gam, &d, &t};
    bound_rerrs_init(c, all, sizeof all / sizeof all[0]);
    bound_option(c, &b1, o, "beta1");
    bound_one_minus(c, &c1, o, "beta1");
    bound_one_minus(c, &c2, o, "beta2");
    bound_option(c, &eps, o, "eps");
    bound_learning_rate(c, &lr, in->eta);
    bound_decay_factor(c, &cf, in->eta, o);
    int nesterov = ref_opt_bool(o, "nesterov");
    for (size_t i = 0; i < o->m; i++)
        for (size_t j = 0; j < o->n; j++) {
            rerr_mat_get(&w, in->W, i, j);
            rerr_mat_get(&g, in->G, i, j);
            rerr_mat_get(&m, &in->state[0], i, j);
            rerr_mat_get(&v, &in->state[1], i, j);
            bound_mul(c, &w, &w, &cf);           /* 1. */
            bound_lerp(c, &m, &m, &g, &c1);      /* 2. */
            bound_mul(c, &mm, &m, &m);           /* 3. */
            bound_lerp(c, &v, &v, &mm, &c2);
            bound_add(c, &t, &v, &eps);          /* 4. */
            rerr_div0(c, &t, &mm, &t);
            rerr_sqrt(c, &gam, &t);
            if (nesterov)                        /* 5. */
                bound_lerp(c, &d, &g, &m, &b1);
            else
                rerr_copy(&d, &m);
            bound_signed(c, &t, &gam, &d);       /* 6. Gamma sign(D), exact */
            bound_mul(c, &t, &lr, &t);
            bound_sub(c, &w, &w, &t);
            rerr_mat_set(&out[0], i, j, &w);
            rerr_mat_set(&out[1], i, j, &m);
            rerr_mat_set(&out[2], i, j, &v);
            rerr_mat_set(&out[3], i, j, &gam);
        }
    bound_rerrs_clear(all, sizeof all / sizeof all[0]);
    return OPTREF_OK;
}

/* ---- sophia ---- */

/* Step 3's denominator gamma max(h, 0) + tiny as fast_sophia_ratio forms
 * it: tiny itself where the backend's h <= 0; max through rerr_max when h
 * carries a bound (h may then be on either side of 0). */
static void sophia_den(rerr_ctx *c, rerr *den, const rerr *gamma, const rerr *h, const rerr *tiny)
{
    rerr hp, zero;
    rerr_init(c, &hp), rerr_init(c, &zero);
    if (mpfr_zero_p(h->e))
        rerr_copy(&hp, h);
    else
        rerr_max(c, &hp, h, &zero);
    if (mpfr_sgn(hp.v) <= 0 && mpfr_zero_p(hp.e)) {
        rerr_copy(den, tiny);
    } else {
        bound_mul(c, &hp, gamma, &hp);
        bound_add(c, den, &hp, tiny);
    }
    rerr_clear(&hp), rerr_clear(&zero);
}

/* Step 5: h <- beta2 h + (1 - beta2) u . (H u), u the reference's probe
 * (regenerated: stream 6, the oracle's seed, substream t); u . (H u) exact. */
static void sophia_hessian(rerr_ctx *c, const bound_input *in, rerr_mat *hout, uint64_t t)
{
    const ref_opt *o = in->in;
    rerr b2, c2, h, uhu, x;
    rerr *all[] = {&b2, &c2, &h, &uhu, &x};
    bound_rerrs_init(c, all, sizeof all / sizeof all[0]);
    bound_option(c, &b2, o, "beta2");
    bound_one_minus(c, &c2, o, "beta2");
    rng_stream rs;
    rng_stream_init(&rs, in->seed, RNG_STREAM_SOPHIA, (uint32_t)t);
    for (size_t i = 0; i < o->m; i++)
        for (size_t j = 0; j < o->n; j++) {
            rerr_mat_get(&h, hout, i, j);
            rerr_mat_get(&uhu, in->HU, i, j);
            if (rng_next_rademacher(&rs) < 0)
                rerr_neg(&uhu, &uhu);
            bound_mul(c, &h, &b2, &h);
            bound_mul(c, &x, &c2, &uhu);
            bound_add(c, &h, &h, &x);
            rerr_mat_set(hout, i, j, &h);
        }
    bound_rerrs_clear(all, sizeof all / sizeof all[0]);
}

optref_status bound_sophia(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    const ref_opt *o = in->in;
    uint64_t t = o->t + 1;
    int due = t % (uint64_t)ref_opt_int(o, "k") == 0;
    if (due && in->HU == NULL)
        return optref_fail(OPTREF_EINVAL, "sophia's bound needs the Hessian-vector product");
    rerr b1, c1, gamma, tiny, one, lr, eta, bc, cf, w, g, m, h, den, r, x;
    rerr *all[] = {&b1, &c1, &gamma, &tiny, &one, &lr, &eta, &bc, &cf, &w, &g, &m, &h, &den, &r, &x};
    bound_rerrs_init(c, all, sizeof all / sizeof all[0]);
    bound_option(c, &b1, o, "beta1");
    bound_one_minus(c, &c1, o, "beta1");
    bound_option(c, &gamma, o, "gamma");
    mpfr_set_d(x.v, 1e-12, MPFR_RNDN); /* the source's literal, binary64 */
    if (c->fmt == OPTREF_BINARY64)
        rerr_exact(&tiny, x.v);
    else
        rerr_rounded(c, &tiny, x.v);
    rerr_exact_d(&one, 1.0);
    rerr_exact(&eta, in->eta);
    bound_bias_correction(c, &bc, o, "beta1", t);
    rerr_div(c, &lr, &eta, &bc); /* eta / (1 - beta1^t), rounded once */
    bound_decay_factor(c, &cf, in->eta, o);
    for (size_t i = 0; i < o->m; i++)
        for (size_t j = 0; j < o->n; j++) {
            rerr_mat_get(&w, in->W, i, j);
            rerr_mat_get(&g, in->G, i, j);
            rerr_mat_get(&m, &in->state[0], i, j);
            rerr_mat_get(&h, &in->state[1], i, j);
            bound_mul(c, &w, &w, &cf);           /* 1. */
            bound_mul(c, &m, &b1, &m);           /* 2. */
            bound_mul(c, &x, &c1, &g);
            bound_add(c, &m, &m, &x);
            sophia_den(c, &den, &gamma, &h, &tiny); /* 3. */
            rerr_abs(&r, &m);
            rerr_div(c, &r, &r, &den);
            rerr_min(c, &r, &r, &one);
            bound_signed(c, &x, &r, &m);         /* 4. sign(M) ratio, exact */
            bound_mul(c, &x, &lr, &x);
            bound_sub(c, &w, &w, &x);
            rerr_mat_set(&out[0], i, j, &w);
            rerr_mat_set(&out[1], i, j, &m);
            rerr_mat_set(&out[2], i, j, &h);
        }
    if (due)
        sophia_hessian(c, in, &out[2], t); /* 5. */
    bound_rerrs_clear(all, sizeof all / sizeof all[0]);
    return OPTREF_OK;
}
