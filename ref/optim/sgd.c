/* sgd (torch.optim.SGD), spec/optimizers.md section 2:
 * 1. G <- G + lambda W (coupled decay).
 * 2. mu != 0: B <- G if t = 1 else mu B + (1 - dampening) G;
 *    D <- G + mu B if nesterov else B. mu = 0: D <- G.
 * 3. W <- W - eta D.
 * Rounding: docs/reference-arithmetic.md (a product added to a term is one
 * fused rounding; every other operation one rounding). */
#include "optim_internal.h"

static const param_spec sgd_hyper[] = {
    {"lr", PARAM_REAL, NULL, "0", NULL, 0, NULL, "learning rate (required: no default)"},
    {"momentum", PARAM_REAL, "0", "0", "1", PARAM_MAX_OPEN, NULL, "momentum mu"},
    {"dampening", PARAM_REAL, "0", "0", "1", 0, NULL, "dampening of the momentum update"},
    {"nesterov", PARAM_BOOL, "false", NULL, NULL, 0, NULL, "Nesterov momentum (needs dampening 0)"},
    {"weight_decay", PARAM_REAL, "0", "0", NULL, 0, NULL, "coupled (L2) weight decay lambda"},
};

static const state_spec sgd_state[] = {
    {"B", STATE_PARAM, INIT_ZERO, "momentum buffer"},
};

static optref_status sgd_check(const ref_opt *o)
{
    if (ref_opt_bool(o, "nesterov") && !mpfr_zero_p(ref_opt_real(o, "dampening")))
        return optref_fail(OPTREF_EINVAL, "sgd: nesterov=true needs dampening=0");
    return OPTREF_OK;
}

static optref_status sgd_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                              const ref_oracle *oracle)
{
    (void)oracle;
    mpfr_srcptr lambda = ref_opt_real(o, "weight_decay"), mu = ref_opt_real(o, "momentum");
    mpfr_srcptr damp = ref_opt_real(o, "dampening");
    int nesterov = ref_opt_bool(o, "nesterov");
    mpmat_ptr B = ref_opt_state(o, "B");
    mpfr_t g, d, one_minus_damp, neg_eta;
    REF_TMP_INIT(o, g, d, one_minus_damp, neg_eta);
    mpfr_ui_sub(one_minus_damp, 1, damp, MPFR_RNDN);
    mpfr_neg(neg_eta, eta, MPFR_RNDN);
    for (size_t k = 0; k < o->m * o->n; k++) {
        mpfr_ptr w = W->e + k, b = B->e + k;
        mpfr_fma(g, lambda, w, G->e + k, MPFR_RNDN); /* G + lambda W */
        if (mpfr_zero_p(mu)) {
            mpfr_set(d, g, MPFR_RNDN);
        } else {
            if (o->t == 1) {
                mpfr_set(b, g, MPFR_RNDN);
            } else {
                mpfr_mul(b, mu, b, MPFR_RNDN);
                mpfr_fma(b, one_minus_damp, g, b, MPFR_RNDN);
            }
            if (nesterov)
                mpfr_fma(d, mu, b, g, MPFR_RNDN);
            else
                mpfr_set(d, b, MPFR_RNDN);
        }
        mpfr_fma(w, neg_eta, d, w, MPFR_RNDN); /* W - eta D */
    }
    REF_TMP_CLEAR(g, d, one_minus_damp, neg_eta);
    return OPTREF_OK;
}

const optimizer_info opt_sgd = {
    .name = "sgd",
    .source = "torch.optim.SGD",
    .hyper = sgd_hyper,
    .nhyper = sizeof sgd_hyper / sizeof sgd_hyper[0],
    .state = sgd_state,
    .nstate = sizeof sgd_state / sizeof sgd_state[0],
    .check = sgd_check,
    .ref_step = sgd_step,
};
