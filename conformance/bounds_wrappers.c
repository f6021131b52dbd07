/* Step bounds of the wrappers smi and sam (spec/optimizers.md section 2), in
 * the order of operations of fast/cpu/smi.c and sam.c; derivations and
 * thresholds: proofs/conformance-wrappers.md.
 *
 * A wrapper's bound fills its own tensors, then runs its base's bound (found
 * by name in the table) on the gradient the base receives, carried as an
 * rerr matrix: smi's G~ with its bound, sam's G2 (an oracle answer, exact).
 * The base's outputs are rescaled to the wrapper's threshold when the base's
 * threshold is larger, so the verdict on them is the base's own.
 *
 * smi's values are computed by the reference's own kernels (mpmat_dft2_real,
 * mpmat_cabs, mpmat_quantile, mpmat_idft2, the same mpfr operations for H),
 * so the bound's mask decisions are the reference's bit for bit; the bounds
 * beside them are running bounds, with a normwise bound for the FFTs. */
#include "bounds_families.h"

#include <stdlib.h>

/* ---- the base's step ---- */

/* Runs the base's bound with gradient Gt: out[0] is W, the wrapper's `own`
 * tensors are out[1..own], the base's follow. */
static optref_status base_bound(rerr_ctx *c, const bound_input *in, const rerr_mat *Gt,
                                size_t own, rerr_mat *out)
{
    const ref_opt *base = in->in->base;
    const bound_entry *be = bound_find(base->info->name);
    if (be == NULL)
        return optref_fail(OPTREF_ENOTFOUND, "conform: %s: no error bound for its base %s",
                           in->in->info->name, base->info->name);
    size_t nb = base->info->nstate;
    rerr_mat *bout = calloc(1 + nb, sizeof *bout);
    if (bout == NULL)
        return optref_fail(OPTREF_ENOMEM, "conform: out of memory");
    bout[0] = out[0]; /* the same entries: the base writes into out */
    for (size_t i = 0; i < nb; i++)
        bout[1 + i] = out[1 + own + i];
    bound_input bi = *in;
    bi.in = base;
    bi.G = Gt;
    bi.state = in->state + own;
    bi.G2 = bi.HU = NULL;
    bi.query = NULL;
    optref_status st = be->fn(c, &bi, bout);
    free(bout);
    if (st != OPTREF_OK || be->threshold <= BOUND_THRESHOLD_WRAPPER)
        return st;
    /* ratio <= base threshold  <=>  ratio * (wrapper / base) <= wrapper threshold */
    mpfr_t f;
    mpfr_init2(f, 64);
    mpfr_set_d(f, be->threshold, MPFR_RNDU);
    mpfr_div_d(f, f, BOUND_THRESHOLD_WRAPPER, MPFR_RNDU);
    for (size_t i = 0; i <= nb; i++) {
        mpmat_ptr E = out[i == 0 ? 0 : own + i].e;
        for (size_t k = 0; k < E->rows * E->cols; k++)
            mpfr_mul(E->e + k, E->e + k, f, MPFR_RNDU);
    }
    mpfr_clear(f);
    return OPTREF_OK;
}

/* ---- sam ---- */

/* X = W + E (fast/cpu/sam.c): s = sum of p_k^2 (p = G, or W . G rounded) in
 * any order, e(s) = sum 2 |p_k| e(p_k) + N s; d = sqrt(s) + 1e-12;
 * E = (rho G) / d or (((rho W) W) G) / d. */
static optref_status sam_query(rerr_ctx *c, const bound_input *in, rerr_mat *X)
{
    const ref_opt *o = in->in;
    const size_t m = o->m, n = o->n;
    const int adaptive = ref_opt_bool(o, "adaptive");
    rerr rho, tiny, s, p, w, g, e, t;
    rerr *all[] = {&rho, &tiny, &s, &p, &w, &g, &e, &t};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rerr_init(c, all[i]);
    bound_option(c, &rho, o, "rho");
    optref_status st = param_parse_real(t.v, "1e-12");
    rerr_rounded(c, &tiny, t.v); /* the backend's literal, at most one rounding away */
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            rerr_mat_get(&w, in->W, i, j);
            rerr_mat_get(&p, in->G, i, j);
            if (adaptive)
                rerr_mul(c, &p, &w, &p);
            mpfr_mul(t.v, p.v, p.v, MPFR_RNDN);
            mpfr_add(s.v, s.v, t.v, MPFR_RNDN);
            mpfr_abs(t.v, p.v, MPFR_RNDU);
            mpfr_mul(t.v, t.v, p.e, MPFR_RNDU);
            mpfr_mul_2ui(t.v, t.v, 1, MPFR_RNDU);
            mpfr_add(s.e, s.e, t.v, MPFR_RNDU); /* 2 |p| e(p) */
        }
    mpfr_mul_ui(t.v, s.v, (unsigned long)(m * n), MPFR_RNDU);
    mpfr_add(s.e, s.e, t.v, MPFR_RNDU);        /* + N s: squares and sum, gamma_N */
    rerr_sqrt(c, &s, &s);
    rerr_add(c, &s, &s, &tiny);                /* d = N + 1e-12 */
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            rerr_mat_get(&w, in->W, i, j);
            rerr_mat_get(&g, in->G, i, j);
            rerr_mul(c, &e, &rho, adaptive ? &w : &g);
            if (adaptive) {
                rerr_mul(c, &e, &e, &w);
                rerr_mul(c, &e, &e, &g);
            }
            rerr_div(c, &e, &e, &s);
            rerr_add(c, &e, &w, &e);           /* W + E */
            rerr_mat_set(X, i, j, &e);
        }
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rerr_clear(all[i]);
    return st;
}

optref_status bound_sam(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    if (in->G2 == NULL)
        return optref_fail(OPTREF_EINVAL, "conform: sam's bound needs the gradient at W + E");
    optref_status st = in->query != NULL ? sam_query(c, in, in->query) : OPTREF_OK;
    return st == OPTREF_OK ? base_bound(c, in, in->G2, 0, out) : st;
}

/* ---- smi ---- */

optref_status bound_smi(rerr_ctx *c, const bound_input *in, rerr_mat *out)
{
    rerr_mat Gt;
    optref_status st = rerr_mat_init(c, &Gt, in->in->m, in->in->n);
    if (st != OPTREF_OK)
        return st;
    st = smi_filter_bound(c, in, &out[1], &Gt); /* H after the step, and G~ */
    if (st == OPTREF_OK)
        st = base_bound(c, in, &Gt, 1, out);
    rerr_mat_clear(&Gt);
    return st;
}
