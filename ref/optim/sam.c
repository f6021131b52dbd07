/* sam (Sharpness-Aware Minimization, Foret et al. 2021; davda54/sam sam.py),
 * a wrapper around a plain optimizer, spec/optimizers.md section 2 sam:
 * 1. N = ||G||_F (adaptive: ||W . G||_F).
 * 2. E = rho G / (N + 1e-12) (adaptive: rho W . W . G / (N + 1e-12)).
 * 3. G2 = the oracle's gradient at W + E (same minibatch).
 * 4. base.step(W, G2): the base steps from the original W.
 * Rounding: docs/reference-arithmetic.md; the products and the division of
 * step 2 are evaluated left to right as the spec writes them, one rounding
 * each (docs/optimizers/wrappers.md). */
#include "optim_internal.h"

static const param_spec sam_hyper[] = {
    {"rho", PARAM_REAL, "0.05", "0", NULL, 0, NULL, "radius of the ascent step E"},
    {"adaptive", PARAM_BOOL, "false", NULL, NULL, 0, NULL,
     "ASAM: scale the ascent step elementwise by W . W"},
};

/* Steps 1-2: E (m x n) from W and G. */
static optref_status sam_ascent(const ref_opt *o, mpmat_ptr E, mpmat_srcptr W, mpmat_srcptr G)
{
    mpfr_srcptr rho = ref_opt_real(o, "rho");
    int adaptive = ref_opt_bool(o, "adaptive");
    size_t mn = o->m * o->n;
    mpfr_t nrm, tiny;
    REF_TMP_INIT(o, nrm, tiny);
    optref_status st = param_parse_real(tiny, "1e-12");
    if (adaptive) {
        for (size_t k = 0; k < mn; k++)
            mpfr_mul(E->e + k, W->e + k, G->e + k, MPFR_RNDN); /* W . G */
        mpmat_norm_fro(nrm, E);                                 /* 1 */
    } else {
        mpmat_norm_fro(nrm, G); /* 1 */
    }
    mpfr_add(nrm, nrm, tiny, MPFR_RNDN); /* N + 1e-12 */
    for (size_t k = 0; st == OPTREF_OK && k < mn; k++) { /* 2 */
        mpfr_ptr e = E->e + k;
        if (adaptive) {
            mpfr_mul(e, rho, W->e + k, MPFR_RNDN);
            mpfr_mul(e, e, W->e + k, MPFR_RNDN);
            mpfr_mul(e, e, G->e + k, MPFR_RNDN);
        } else {
            mpfr_mul(e, rho, G->e + k, MPFR_RNDN);
        }
        mpfr_div(e, e, nrm, MPFR_RNDN);
    }
    REF_TMP_CLEAR(nrm, tiny);
    return st;
}

static optref_status sam_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                              const ref_oracle *oracle)
{
    if (oracle == NULL || oracle->gradient_at == NULL)
        return optref_fail(OPTREF_EINVAL, "sam: the oracle has no gradient_at: SAM needs the "
                           "gradient at W + E on the call's minibatch");
    mpmat_t E, G2;
    optref_status st = mpmat_init(E, o->m, o->n, o->prec);
    optref_status st2 = mpmat_init(G2, o->m, o->n, o->prec);
    if (st == OPTREF_OK)
        st = st2;
    if (st == OPTREF_OK)
        st = sam_ascent(o, E, W, G); /* 1-2 */
    if (st == OPTREF_OK)
        st = mpmat_add(E, W, E); /* E <- W + E */
    if (st == OPTREF_OK && (st = oracle->gradient_at(oracle->ctx, G2, E)) != OPTREF_OK)
        st = optref_fail(st, "sam: the gradient at W + E failed: %s", optref_last_error());
    if (st == OPTREF_OK) { /* 3: G2 is an input of the base step (spec 0) */
        size_t k = mpmat_first_nonfinite(G2);
        if (G2->rows != o->m || G2->cols != o->n)
            st = optref_fail(OPTREF_ESHAPE, "sam: the gradient at W + E is %zu x %zu, expected "
                             "%zu x %zu", G2->rows, G2->cols, o->m, o->n);
        else if (k < o->m * o->n)
            st = optref_fail(OPTREF_ENONFINITE, "sam: the gradient at W + E, G2[%zu][%zu], is "
                             "not finite", k / o->n, k % o->n);
    }
    if (st == OPTREF_OK)
        st = ref_opt_substep(o->base, W, G2, eta, oracle); /* 4 */
    mpmat_clear(E);
    mpmat_clear(G2);
    return st;
}

const optimizer_info opt_sam = {
    .name = "sam",
    .source = "Foret et al. 2021, Sharpness-Aware Minimization (davda54/sam sam.py)",
    .hyper = sam_hyper,
    .nhyper = sizeof sam_hyper / sizeof sam_hyper[0],
    .state = NULL, /* no tensor of its own; the base's state follows in the serialisation */
    .nstate = 0,
    .needs = NEEDS_GRADIENT_AT,
    .default_base = "sgd",
    .ref_init = NULL,
    .ref_step = sam_step,
};
