/* Step bound of asm (fast/cpu/asm.c): Adam's element bound, and the step
 * scale s = min(1, tau / kappa) from singular values that LAPACK computes
 * within delta of the exact ones:
 *   delta = u (||e_W||_F + ASM_SVD_C m n ||W||_F)
 * (Weyl's inequality for the backend's perturbed W, plus the backward error
 * of Householder bidiagonalisation and the bidiagonal SVD);
 * proofs/conformance-elementwise.md, "asm". s and kappa are monotone in
 * sigma_1 and sigma_min, so their bounds are the intervals those ranges
 * give (rigorous, not first order). Where the backend's zero rule
 * (sigma_min <= max(m, n) eps sigma_1, eps = 2u) may hold, s may be anything
 * in [0, s_max]: the check counts as near a discontinuity, s carries that
 * interval and kappa an infinite bound (either outcome accepted, +Inf not
 * compared). */
#include "bounds_elementwise.h"

/* The constant of the singular values' backward error (per unit of m n u ||W||_F). */
#define ASM_SVD_C 4

/* x (1 + k u), rounded up (k > 0) or down (k < 0). */
static void times_1pku(rerr_ctx *c, mpfr_ptr x, long k)
{
    mpfr_t f;
    mpfr_init2(f, mpfr_get_prec(x));
    mpfr_mul_si(f, c->u, k, k > 0 ? MPFR_RNDU : MPFR_RNDD);
    mpfr_add_ui(f, f, 1, k > 0 ? MPFR_RNDU : MPFR_RNDD);
    mpfr_mul(x, x, f, k > 0 ? MPFR_RNDU : MPFR_RNDD);
    mpfr_clear(f);
}

/* e = max(hi - v, v - lo) / u: the bound of a value known to lie in [lo, hi]. */
static void interval_bound(rerr_ctx *c, rerr *x, mpfr_srcptr lo, mpfr_srcptr hi)
{
    mpfr_t d;
    mpfr_init2(d, mpfr_get_prec(x->e));
    mpfr_sub(x->e, hi, x->v, MPFR_RNDU);
    mpfr_sub(d, x->v, lo, MPFR_RNDU);
    mpfr_max(x->e, x->e, d, MPFR_RNDU);
    mpfr_div(x->e, x->e, c->u, MPFR_RNDU);
    mpfr_clear(d);
}

/* s, kappa of step 3 from Wd, the decayed W with its bound (k = min(m, n) > 1).
 * The backend's sigma_1, sigma_min lie within u delta of the exact ones;
 * kappa = s1 / smin and s = tau / kappa are monotone in them, each
 * rounding a factor (1 +- u): the intervals below are rigorous, and the
 * clamp min(1, .) is continuous and monotone (applied to both ends). */
static optref_status spectral_scale(rerr_ctx *c, const ref_opt *o, const rerr_mat *Wd, rerr *s,
                                    rerr *kappa)
{
    size_t k = o->m < o->n ? o->m : o->n, big = o->m > o->n ? o->m : o->n;
    mpmat_t sv;
    optref_status st = mpmat_init(sv, k, 1, c->prec);
    if (st != OPTREF_OK)
        return st;
    if ((st = mpmat_svd(NULL, sv, NULL, Wd->v)) != OPTREF_OK) {
        mpmat_clear(sv);
        return st;
    }
    mpfr_t ud, t, lo, hi, tol, tau;
    mpfr_inits2(c->prec, ud, t, lo, hi, tol, tau, (mpfr_ptr)0);
    mpfr_srcptr s1 = sv->e, smin = sv->e + (k - 1);
    /* u delta = u (||e_Wd||_F + C m n ||Wd||_F) */
    mpmat_norm_fro(ud, Wd->v);
    mpfr_mul_ui(ud, ud, (unsigned long)(ASM_SVD_C * o->m * o->n), MPFR_RNDU);
    mpmat_norm_fro(t, Wd->e);
    mpfr_add(ud, ud, t, MPFR_RNDU);
    mpfr_mul(ud, ud, c->u, MPFR_RNDU);
    /* the reference: s = 0, kappa = +Inf below its zero rule 2^(-p/2) sigma_1 */
    mpfr_set_ui_2exp(tol, 1, -(long)o->prec, MPFR_RNDN);
    mpfr_sqrt(tol, tol, MPFR_RNDN);
    mpfr_mul(tol, tol, s1, MPFR_RNDN);
    int ref_zero = mpfr_zero_p(s1) || mpfr_cmp(smin, tol) <= 0;
    mpfr_set(tau, ref_opt_real(o, "tau"), MPFR_RNDN);
    if (ref_zero) {
        mpfr_set_zero(s->v, 1);
        mpfr_set_inf(kappa->v, 1);
    } else {
        mpfr_div(kappa->v, s1, smin, MPFR_RNDN);
        mpfr_div(s->v, tau, kappa->v, MPFR_RNDN);
        if (mpfr_cmp_ui(s->v, 1) > 0)
            mpfr_set_ui(s->v, 1, MPFR_RNDN);
    }
    /* the backend's zero rule: smin <= max(m, n) 2u s1 (one rounding); it may
     * hold when the smallest smin it can see is below the largest tolerance */
    mpfr_sub(lo, smin, ud, MPFR_RNDD);
    mpfr_add(hi, s1, ud, MPFR_RNDU);
    mpfr_mul_ui(tol, c->u, 2 * (unsigned long)big, MPFR_RNDU);
    mpfr_mul(tol, tol, hi, MPFR_RNDU);
    times_1pku(c, tol, 1);
    int may_zero = mpfr_cmp(lo, tol) <= 0;
    /* s_hi = min(1, tau (smin + u delta) / (s1 - u delta) (1 + 4u)) (1 for s1 <= u delta) */
    mpfr_sub(t, s1, ud, MPFR_RNDD);
    mpfr_set_ui(hi, 1, MPFR_RNDN);
    if (mpfr_sgn(t) > 0) {
        mpfr_add(hi, smin, ud, MPFR_RNDU);
        mpfr_div(hi, hi, t, MPFR_RNDU);
        mpfr_mul(hi, hi, tau, MPFR_RNDU);
        times_1pku(c, hi, 4);
        if (mpfr_cmp_ui(hi, 1) > 0)
            mpfr_set_ui(hi, 1, MPFR_RNDN);
    }
    if (mpfr_zero_p(s1) && mpfr_zero_p(ud)) { /* W = 0 exactly: s = 0 on both */
        mpfr_set_zero(s->e, 1);
        mpfr_set_inf(kappa->e, 1);
    } else if (may_zero) {
        /* either outcome: s in [0, s_hi], kappa +Inf or anything (not compared) */
        c->near++;
        mpfr_set_zero(lo, 1);
        interval_bound(c, s, lo, hi);
        mpfr_set_inf(kappa->e, 1);
    } else {
        /* s_lo = min(1, tau (smin - u delta) / (s1 + u delta) (1 - 4u)) */
        mpfr_add(t, s1, ud, MPFR_RNDU);
        mpfr_div(lo, lo, t, MPFR_RNDD);
        mpfr_mul(lo, lo, tau, MPFR_RNDD);
        times_1pku(c, lo, -4);
        if (mpfr_cmp_ui(lo, 1) > 0)
            mpfr_set_ui(lo, 1, MPFR_RNDN);
        interval_bound(c, s, lo, hi);
        /* kappa in [(s1 - u delta) / (smin + u delta) (1 - u), (s1 + u delta) / smin_lo (1 + u)] */
        mpfr_sub(lo, smin, ud, MPFR_RNDD);
        mpfr_div(hi, t, lo, MPFR_RNDU);
        times_1pku(c, hi, 2);
        mpfr_sub(t, s1, ud, MPFR_RNDD);
        mpfr_add(lo, smin, ud, MPFR_RNDU);
        mpfr_div(lo, t, lo, MPFR_RNDD);
        times_1pku(c, lo, -2);
        interval_bound(c, kappa, lo, hi);
    }
    mpfr_clears(ud, t, lo, hi, tol, tau, (mpfr_ptr)0);
    mpmat_clear(sv);
    return OPTREF_OK;
}

optref_status bound_asm(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    const ref_opt *o = in->in;
    uint64_t t = o->t + 1, K = (uint64_t)ref_opt_int(o, "check_interval");
    rerr_mat Wd, N;
    optref_status st = rerr_mat_init(c, &Wd, o->m, o->n);
    if (st != OPTREF_OK)
        return st;
    if ((st = rerr_mat_init(c, &N, o->m, o->n)) != OPTREF_OK) {
        rerr_mat_clear(&Wd);
        return st;
    }
    bound_adam_scalars sc;
    bound_adam_scalars_init(c, &sc, o, t);
    rerr cf, lr, w, g, m, v, d, s, kappa, es;
    rerr *all[] = {&cf, &lr, &w, &g, &m, &v, &d, &s, &kappa, &es};
    bound_rerrs_init(c, all, sizeof all / sizeof all[0]);
    bound_decay_factor(c, &cf, in->eta, o);
    bound_learning_rate(c, &lr, in->eta);
    for (size_t i = 0; i < o->m; i++)
        for (size_t j = 0; j < o->n; j++) {
            rerr_mat_get(&w, in->W, i, j);
            rerr_mat_get(&g, in->G, i, j);
            rerr_mat_get(&m, &in->state[0], i, j);
            rerr_mat_get(&v, &in->state[1], i, j);
            bound_mul(c, &w, &w, &cf);                  /* 1. */
            bound_adam_element(c, &sc, &m, &v, &g, &d); /* 2. */
            rerr_mat_set(&Wd, i, j, &w);
            rerr_mat_set(&N, i, j, &d);
            rerr_mat_set(&out[1], i, j, &m);
            rerr_mat_set(&out[2], i, j, &v);
        }
    rerr_mat_get(&s, &in->state[2], 0, 0);
    rerr_mat_get(&kappa, &in->state[3], 0, 0);
    if ((t - 1) % K == 0) { /* 3. */
        if (o->m == 1 || o->n == 1) {
            rerr_exact_d(&s, 1.0);
            rerr_exact_d(&kappa, 1.0);
        } else {
            st = spectral_scale(c, o, &Wd, &s, &kappa);
        }
    }
    bound_mul(c, &es, &lr, &s); /* 4. eta s (eta itself when s = 1) */
    for (size_t i = 0; st == OPTREF_OK && i < o->m; i++)
        for (size_t j = 0; j < o->n; j++) {
            rerr_mat_get(&w, &Wd, i, j);
            rerr_mat_get(&d, &N, i, j);
            bound_mul(c, &d, &es, &d);
            bound_sub(c, &w, &w, &d);
            rerr_mat_set(&out[0], i, j, &w);
        }
    rerr_mat_set(&out[3], 0, 0, &s);
    rerr_mat_set(&out[4], 0, 0, &kappa);
    bound_rerrs_clear(all, sizeof all / sizeof all[0]);
    bound_adam_scalars_clear(&sc);
    rerr_mat_clear(&Wd), rerr_mat_clear(&N);
    return st;
}
