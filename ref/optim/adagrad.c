/* adagrad (torch.optim.Adagrad, lr_decay 0, initial accumulator 0),
 * spec/optimizers.md section 2:
 * 1. G <- G + lambda W (coupled).
 * 2. S <- S + G.G (one fused rounding: fma(G, G, S)).
 * 3. W <- W - eta G / (sqrt(S) + eps): D = G / (sqrt(S) + eps), then
 *    fma(-eta, D, W). Rounding: docs/reference-arithmetic.md. */
#include "adam_moments.h"

static const param_spec adagrad_hyper[] = {
    {"lr", PARAM_REAL, "0.01", "0", NULL, 0, NULL, "learning rate (the caller passes eta_t)"},
    {"eps", PARAM_REAL, "1e-10", "0", NULL, 0, NULL, "added to sqrt(S) in the denominator"},
    {"weight_decay", PARAM_REAL, "0", "0", NULL, 0, NULL,
     "coupled (L2) weight decay lambda: G <- G + lambda W"},
};

static const state_spec adagrad_state[] = {
    {"S", STATE_PARAM, INIT_ZERO, "sum of squared gradients"},
};

static optref_status adagrad_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                                  const ref_oracle *oracle)
{
    (void)oracle;
    mpfr_srcptr lambda = ref_opt_real(o, "weight_decay"), eps = ref_opt_real(o, "eps");
    mpmat_ptr S = ref_opt_state(o, "S");
    mpfr_t g, den, d, neg_eta;
    REF_TMP_INIT(o, g, den, d, neg_eta);
    mpfr_neg(neg_eta, eta, MPFR_RNDN);
    for (size_t k = 0; k < o->m * o->n; k++) {
        mpfr_ptr s = S->e + k, w = W->e + k;
        mpfr_fma(g, lambda, w, G->e + k, MPFR_RNDN); /* 1. */
        mpfr_fma(s, g, g, s, MPFR_RNDN);             /* 2. */
        mpfr_sqrt(den, s, MPFR_RNDN);                /* 3. */
        mpfr_add(den, den, eps, MPFR_RNDN);
        ref_div_or_zero(d, g, den);
        mpfr_fma(w, neg_eta, d, w, MPFR_RNDN);
    }
    REF_TMP_CLEAR(g, den, d, neg_eta);
    return OPTREF_OK;
}

const optimizer_info opt_adagrad = {
    .name = "adagrad",
    .source = "torch.optim.Adagrad (lr_decay 0, initial_accumulator_value 0)",
    .hyper = adagrad_hyper,
    .nhyper = sizeof adagrad_hyper / sizeof adagrad_hyper[0],
    .state = adagrad_state,
    .nstate = sizeof adagrad_state / sizeof adagrad_state[0],
    .ref_step = adagrad_step,
};
