/* deva-linf (DeVA optimizers/deva.py DeVAEuclideanNorm), spec/optimizers.md
 * section 2:
 * 1. W <- W (1 - eta lambda) (decoupled).
 * 2. M <- lerp(M, G, 1 - beta1).
 * 3. V <- lerp(V, M.M, 1 - beta2) (second moment of the momentum).
 * 4. Gamma <- sqrt(M.M / (V + eps)).
 * 5. D <- lerp(G, M, beta1) if nesterov else M.
 * 6. W <- W - eta Gamma . sign(D).
 * No bias correction. lerp(a, b, w) is fma(w, b - a, a) after rounding
 * b - a; M.M is rounded once and used in steps 3 and 4 (the source's m2);
 * Gamma . sign(D) is exact; 0 / 0 in step 4 (eps = 0, M = V = 0) is 0. */
#include "adam_moments.h"

static const param_spec deva_linf_hyper[] = {
    {"lr", PARAM_REAL, "0.02", "0", NULL, 0, NULL, "learning rate (the caller passes eta_t)"},
    {"beta1", PARAM_REAL, "0.9", "0", "1", PARAM_MAX_OPEN, NULL, "momentum (EMA of G) decay"},
    {"beta2", PARAM_REAL, "0.999", "0", "1", PARAM_MAX_OPEN, NULL,
     "decay of V, the EMA of M.M"},
    {"nesterov", PARAM_BOOL, "false", NULL, NULL, 0, NULL, "step along lerp(G, M, beta1)"},
    {"weight_decay", PARAM_REAL, "0", "0", NULL, 0, NULL,
     "decoupled weight decay lambda: W <- W (1 - eta lambda)"},
    {"eps", PARAM_REAL, "1e-5", "0", NULL, 0, NULL,
     "added to V in Gamma's denominator (hard-coded 1e-5 in the source)"},
};

static const state_spec deva_linf_state[] = {
    {"M", STATE_PARAM, INIT_ZERO, "momentum (EMA of G)"},
    {"V", STATE_PARAM, INIT_ZERO, "EMA of M.M"},
    {"Gamma", STATE_PARAM, INIT_ONE, "elementwise step scale sqrt(M.M / (V + eps))"},
};

static optref_status deva_linf_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                                    const ref_oracle *oracle)
{
    (void)oracle;
    mpfr_srcptr beta1 = ref_opt_real(o, "beta1"), beta2 = ref_opt_real(o, "beta2");
    mpfr_srcptr eps = ref_opt_real(o, "eps");
    int nesterov = ref_opt_bool(o, "nesterov");
    mpmat_ptr M = ref_opt_state(o, "M"), V = ref_opt_state(o, "V");
    mpmat_ptr Gamma = ref_opt_state(o, "Gamma");
    mpfr_t c1, c2, diff, mm, d, neg_eta;
    REF_TMP_INIT(o, c1, c2, diff, mm, d, neg_eta);
    mpfr_ui_sub(c1, 1, beta1, MPFR_RNDN);
    mpfr_ui_sub(c2, 1, beta2, MPFR_RNDN);
    mpfr_neg(neg_eta, eta, MPFR_RNDN);
    ref_decay_decoupled(o, W, eta, ref_opt_real(o, "weight_decay")); /* 1. */
    for (size_t k = 0; k < o->m * o->n; k++) {
        mpfr_srcptr g = G->e + k;
        mpfr_ptr m = M->e + k, v = V->e + k, gam = Gamma->e + k;
        mpfr_sub(diff, g, m, MPFR_RNDN); /* 2. */
        mpfr_fma(m, c1, diff, m, MPFR_RNDN);
        mpfr_sqr(mm, m, MPFR_RNDN); /* 3. */
        mpfr_sub(diff, mm, v, MPFR_RNDN);
        mpfr_fma(v, c2, diff, v, MPFR_RNDN);
        mpfr_add(d, v, eps, MPFR_RNDN); /* 4. */
        ref_div_or_zero(gam, mm, d);
        mpfr_sqrt(gam, gam, MPFR_RNDN);
        if (nesterov) { /* 5. */
            mpfr_sub(diff, m, g, MPFR_RNDN);
            mpfr_fma(d, beta1, diff, g, MPFR_RNDN);
        } else {
            mpfr_set(d, m, MPFR_RNDN);
        }
        if (mpfr_sgn(d) < 0) /* 6. Gamma . sign(D), exact */
            mpfr_neg(d, gam, MPFR_RNDN);
        else if (mpfr_sgn(d) > 0)
            mpfr_set(d, gam, MPFR_RNDN);
        else
            mpfr_set_zero(d, 1);
        mpfr_fma(W->e + k, neg_eta, d, W->e + k, MPFR_RNDN);
    }
    REF_TMP_CLEAR(c1, c2, diff, mm, d, neg_eta);
    return OPTREF_OK;
}

const optimizer_info opt_deva_linf = {
    .name = "deva-linf",
    .source = "DeVA optimizers/deva.py DeVAEuclideanNorm",
    .hyper = deva_linf_hyper,
    .nhyper = sizeof deva_linf_hyper / sizeof deva_linf_hyper[0],
    .state = deva_linf_state,
    .nstate = sizeof deva_linf_state / sizeof deva_linf_state[0],
    .ref_step = deva_linf_step,
};
