/* lion (google/automl lion/lion_pytorch.py), spec/optimizers.md section 2:
 * 1. W <- W (1 - eta lambda) (decoupled).
 * 2. C <- beta1 M + (1 - beta1) G   (fma(1 - beta1, G, beta1 M)).
 * 3. W <- W - eta sign(C).
 * 4. M <- beta2 M + (1 - beta2) G   (fma(1 - beta2, G, beta2 M)).
 * Rounding: docs/reference-arithmetic.md; sign is exact. */
#include "adam_moments.h"

static const param_spec lion_hyper[] = {
    {"lr", PARAM_REAL, "1e-4", "0", NULL, 0, NULL, "learning rate (the caller passes eta_t)"},
    {"beta1", PARAM_REAL, "0.9", "0", "1", PARAM_MAX_OPEN, NULL,
     "interpolation of M and G for the update sign"},
    {"beta2", PARAM_REAL, "0.99", "0", "1", PARAM_MAX_OPEN, NULL, "momentum (EMA) decay"},
    {"weight_decay", PARAM_REAL, "0", "0", NULL, 0, NULL,
     "decoupled weight decay lambda: W <- W (1 - eta lambda)"},
};

static const state_spec lion_state[] = {
    {"M", STATE_PARAM, INIT_ZERO, "momentum (EMA of G with beta2)"},
};

static optref_status lion_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                               const ref_oracle *oracle)
{
    (void)oracle;
    mpfr_srcptr beta1 = ref_opt_real(o, "beta1"), beta2 = ref_opt_real(o, "beta2");
    mpmat_ptr M = ref_opt_state(o, "M");
    mpfr_t c1, c2, c, sg, neg_eta;
    REF_TMP_INIT(o, c1, c2, c, sg, neg_eta);
    mpfr_ui_sub(c1, 1, beta1, MPFR_RNDN);
    mpfr_ui_sub(c2, 1, beta2, MPFR_RNDN);
    mpfr_neg(neg_eta, eta, MPFR_RNDN);
    ref_decay_decoupled(o, W, eta, ref_opt_real(o, "weight_decay")); /* 1. */
    for (size_t k = 0; k < o->m * o->n; k++) {
        mpfr_srcptr g = G->e + k;
        mpfr_ptr m = M->e + k;
        mpfr_mul(c, beta1, m, MPFR_RNDN); /* 2. */
        mpfr_fma(c, c1, g, c, MPFR_RNDN);
        mpfr_set_si(sg, mpfr_sgn(c), MPFR_RNDN); /* 3. */
        mpfr_fma(W->e + k, neg_eta, sg, W->e + k, MPFR_RNDN);
        mpfr_mul(m, beta2, m, MPFR_RNDN); /* 4. */
        mpfr_fma(m, c2, g, m, MPFR_RNDN);
    }
    REF_TMP_CLEAR(c1, c2, c, sg, neg_eta);
    return OPTREF_OK;
}

const optimizer_info opt_lion = {
    .name = "lion",
    .source = "google/automl lion/lion_pytorch.py",
    .hyper = lion_hyper,
    .nhyper = sizeof lion_hyper / sizeof lion_hyper[0],
    .state = lion_state,
    .nstate = sizeof lion_state / sizeof lion_state[0],
    .ref_step = lion_step,
};
