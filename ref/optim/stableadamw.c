/* stableadamw (Wortsman et al. 2023, gist "StableAdamWUnfused"),
 * spec/optimizers.md section 2:
 * 1. b1 = beta1 (1 - beta1^(t-1)) / (1 - beta1^t); b2 likewise (0 at t = 1).
 * 2. M <- b1 M + (1 - b1) G; U <- b2 U + (1 - b2) G.G.
 * 3. r = sqrt(mean(G.G / max(U, eps^2))) over the whole tensor (new U).
 * 4. W <- W (1 - eta lambda) - (eta / max(1, r / d)) M / (sqrt(U) + eps);
 *    the decay uses the unclipped eta (the gist).
 * Rounding: docs/reference-arithmetic.md; b1 is pow, subtract, multiply,
 * divide (one rounding each); the mean is a correctly rounded sum divided by
 * mn; step 4 decays W first, then fma(-eta', D, W) with D = M / (sqrt(U) + eps). */
#include "adam_moments.h"

static const param_spec stableadamw_hyper[] = {
    {"lr", PARAM_REAL, "0.002", "0", NULL, 0, NULL, "learning rate (the caller passes eta_t)"},
    {"beta1", PARAM_REAL, "0.9", "0", "1", PARAM_MAX_OPEN, NULL, "first-moment decay"},
    {"beta2", PARAM_REAL, "0.99", "0", "1", PARAM_MAX_OPEN, NULL, "second-moment decay"},
    {"eps", PARAM_REAL, "1e-8", "0", NULL, 0, NULL,
     "added to sqrt(U); eps^2 floors U in the clipping ratio"},
    {"weight_decay", PARAM_REAL, "0.2", "0", NULL, 0, NULL,
     "decoupled weight decay lambda: W <- W (1 - eta lambda), unclipped eta"},
    {"clip_thresh", PARAM_REAL, "1", "0", NULL, PARAM_MIN_OPEN, NULL,
     "update clipping threshold d: eta / max(1, r / d)"},
};

static const state_spec stableadamw_state[] = {
    {"M", STATE_PARAM, INIT_ZERO, "first moment"},
    {"U", STATE_PARAM, INIT_ZERO, "second moment"},
};

/* b = beta (1 - beta^(t-1)) / (1 - beta^t), and c = 1 - b. */
static void corrected_beta(mpfr_ptr b, mpfr_ptr c, mpfr_srcptr beta, uint64_t t,
                           mpfr_prec_t prec)
{
    mpfr_t den;
    mpfr_init2(den, prec);
    mpfr_pow_ui(b, beta, t - 1, MPFR_RNDN);
    mpfr_ui_sub(b, 1, b, MPFR_RNDN);
    mpfr_mul(b, beta, b, MPFR_RNDN);
    mpfr_pow_ui(den, beta, t, MPFR_RNDN);
    mpfr_ui_sub(den, 1, den, MPFR_RNDN);
    mpfr_div(b, b, den, MPFR_RNDN);
    mpfr_ui_sub(c, 1, b, MPFR_RNDN);
    mpfr_clear(den);
}

static optref_status stableadamw_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                                      const ref_oracle *oracle)
{
    (void)oracle;
    mpfr_srcptr eps = ref_opt_real(o, "eps");
    mpmat_ptr M = ref_opt_state(o, "M"), U = ref_opt_state(o, "U");
    size_t mn = o->m * o->n;
    mpmat_t Q, D;
    optref_status st = mpmat_init(Q, o->m, o->n, o->prec);
    if (st != OPTREF_OK)
        return st;
    if ((st = mpmat_init(D, o->m, o->n, o->prec)) != OPTREF_OK) {
        mpmat_clear(Q);
        return st;
    }
    mpfr_t b1, c1, b2, c2, gg, eps2, r, eta_c;
    REF_TMP_INIT(o, b1, c1, b2, c2, gg, eps2, r, eta_c);
    corrected_beta(b1, c1, ref_opt_real(o, "beta1"), o->t, o->prec); /* 1. */
    corrected_beta(b2, c2, ref_opt_real(o, "beta2"), o->t, o->prec);
    mpfr_sqr(eps2, eps, MPFR_RNDN);
    for (size_t k = 0; k < mn; k++) {
        mpfr_srcptr g = G->e + k;
        mpfr_ptr m = M->e + k, u = U->e + k;
        mpfr_mul(m, b1, m, MPFR_RNDN); /* 2. */
        mpfr_fma(m, c1, g, m, MPFR_RNDN);
        mpfr_sqr(gg, g, MPFR_RNDN);
        mpfr_mul(u, b2, u, MPFR_RNDN);
        mpfr_fma(u, c2, gg, u, MPFR_RNDN);
        ref_div_or_zero(Q->e + k, gg, mpfr_cmp(u, eps2) >= 0 ? u : eps2); /* 3. terms */
        mpfr_sqrt(r, u, MPFR_RNDN); /* 4. D = M / (sqrt(U) + eps) */
        mpfr_add(r, r, eps, MPFR_RNDN);
        ref_div_or_zero(D->e + k, m, r);
    }
    mpmat_sum(r, Q); /* 3. r = sqrt(sum / mn) */
    mpfr_div_ui(r, r, (unsigned long)mn, MPFR_RNDN);
    mpfr_sqrt(r, r, MPFR_RNDN);
    mpfr_div(r, r, ref_opt_real(o, "clip_thresh"), MPFR_RNDN); /* 4. eta / max(1, r / d) */
    if (mpfr_cmp_ui(r, 1) < 0)
        mpfr_set_ui(r, 1, MPFR_RNDN);
    mpfr_div(eta_c, eta, r, MPFR_RNDN);
    ref_decay_decoupled(o, W, eta, ref_opt_real(o, "weight_decay"));
    ref_apply_step(W, eta_c, D);
    REF_TMP_CLEAR(b1, c1, b2, c2, gg, eps2, r, eta_c);
    mpmat_clear(Q);
    mpmat_clear(D);
    return OPTREF_OK;
}

const optimizer_info opt_stableadamw = {
    .name = "stableadamw",
    .source = "Wortsman et al. 2023, gist StableAdamWUnfused",
    .hyper = stableadamw_hyper,
    .nhyper = sizeof stableadamw_hyper / sizeof stableadamw_hyper[0],
    .state = stableadamw_state,
    .nstate = sizeof stableadamw_state / sizeof stableadamw_state[0],
    .ref_step = stableadamw_step,
};
