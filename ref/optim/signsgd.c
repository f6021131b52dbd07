/* signsgd (Signum; DeVA optimizers/signgd.py), spec/optimizers.md section 2:
 * 1. W <- W (1 - eta lambda) (decoupled).
 * 2. M <- lerp(M, G, 1 - beta).
 * 3. D <- lerp(G, M, beta) if nesterov else M.
 * 4. W <- W - eta sign(D).
 * lerp(a, b, w) = a + w (b - a) is fma(w, b - a, a) after rounding b - a
 * (docs/reference-arithmetic.md 2); sign is exact. */
#include "adam_moments.h"

static const param_spec signsgd_hyper[] = {
    {"lr", PARAM_REAL, "0.02", "0", NULL, 0, NULL, "learning rate (the caller passes eta_t)"},
    {"beta", PARAM_REAL, "0.9", "0", "1", PARAM_MAX_OPEN, NULL, "momentum (EMA) coefficient"},
    {"nesterov", PARAM_BOOL, "false", NULL, NULL, 0, NULL, "step along lerp(G, M, beta)"},
    {"weight_decay", PARAM_REAL, "0", "0", NULL, 0, NULL,
     "decoupled weight decay lambda: W <- W (1 - eta lambda)"},
};

static const state_spec signsgd_state[] = {
    {"M", STATE_PARAM, INIT_ZERO, "momentum (EMA of G)"},
};

static optref_status signsgd_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                                  const ref_oracle *oracle)
{
    (void)oracle;
    mpfr_srcptr beta = ref_opt_real(o, "beta");
    int nesterov = ref_opt_bool(o, "nesterov");
    mpmat_ptr M = ref_opt_state(o, "M");
    mpfr_t c, diff, d, sg, neg_eta;
    REF_TMP_INIT(o, c, diff, d, sg, neg_eta);
    mpfr_ui_sub(c, 1, beta, MPFR_RNDN);
    mpfr_neg(neg_eta, eta, MPFR_RNDN);
    ref_decay_decoupled(o, W, eta, ref_opt_real(o, "weight_decay")); /* step 1 */
    for (size_t k = 0; k < o->m * o->n; k++) {
        mpfr_srcptr g = G->e + k;
        mpfr_ptr m = M->e + k;
        mpfr_sub(diff, g, m, MPFR_RNDN); /* 2. M + (1 - beta)(G - M) */
        mpfr_fma(m, c, diff, m, MPFR_RNDN);
        if (nesterov) { /* 3. G + beta (M - G) */
            mpfr_sub(diff, m, g, MPFR_RNDN);
            mpfr_fma(d, beta, diff, g, MPFR_RNDN);
        } else {
            mpfr_set(d, m, MPFR_RNDN);
        }
        mpfr_set_si(sg, mpfr_sgn(d), MPFR_RNDN); /* 4. */
        mpfr_fma(W->e + k, neg_eta, sg, W->e + k, MPFR_RNDN);
    }
    REF_TMP_CLEAR(c, diff, d, sg, neg_eta);
    return OPTREF_OK;
}

const optimizer_info opt_signsgd = {
    .name = "signsgd",
    .source = "Signum; DeVA optimizers/signgd.py",
    .hyper = signsgd_hyper,
    .nhyper = sizeof signsgd_hyper / sizeof signsgd_hyper[0],
    .state = signsgd_state,
    .nstate = sizeof signsgd_state / sizeof signsgd_state[0],
    .ref_step = signsgd_step,
};
