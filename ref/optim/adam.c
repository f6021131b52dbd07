/* adam (torch.optim.Adam, amsgrad off) and adamw (torch.optim.AdamW),
 * spec/optimizers.md section 2. One step function; the entry decides where
 * the weight decay sits:
 *   adam:  1. G <- G + lambda W (coupled).
 *   adamw: 1. W <- W (1 - eta lambda) (decoupled), no coupled term.
 *   2. M <- beta1 M + (1 - beta1) G; V <- beta2 V + (1 - beta2) G.G.
 *   3. W <- W - eta (M / (1 - beta1^t)) / (sqrt(V / (1 - beta2^t)) + eps).
 * Rounding: docs/reference-arithmetic.md; steps 2-3 in adam_moments.c. */
#include "adam_moments.h"

#define ADAM_HYPER(wd_default, wd_doc)                                                    \
    {"lr", PARAM_REAL, "1e-3", "0", NULL, 0, NULL, "learning rate (the caller passes eta_t)"}, \
    {"beta1", PARAM_REAL, "0.9", "0", "1", PARAM_MAX_OPEN, NULL, "first-moment decay"},   \
    {"beta2", PARAM_REAL, "0.999", "0", "1", PARAM_MAX_OPEN, NULL, "second-moment decay"}, \
    {"eps", PARAM_REAL, "1e-8", "0", NULL, 0, NULL, "added to sqrt(V_hat) in the denominator"}, \
    {"weight_decay", PARAM_REAL, wd_default, "0", NULL, 0, NULL, wd_doc}

static const param_spec adam_hyper[] = {
    ADAM_HYPER("0", "coupled (L2) weight decay lambda: G <- G + lambda W"),
};

static const param_spec adamw_hyper[] = {
    ADAM_HYPER("0.01", "decoupled weight decay lambda: W <- W (1 - eta lambda)"),
};

static const state_spec adam_state[] = {
    {"M", STATE_PARAM, INIT_ZERO, "first moment (EMA of G)"},
    {"V", STATE_PARAM, INIT_ZERO, "second moment (EMA of G.G)"},
};


static optref_status adam_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                               const ref_oracle *oracle)
{
    (void)oracle;
    int decoupled = o->info == &opt_adamw;
    mpfr_srcptr lambda = ref_opt_real(o, "weight_decay");
    mpmat_ptr M = ref_opt_state(o, "M"), V = ref_opt_state(o, "V");
    mpmat_t Gd, N;
    optref_status st = mpmat_init(Gd, o->m, o->n, o->prec);
    if (st != OPTREF_OK)
        return st;
    if ((st = mpmat_init(N, o->m, o->n, o->prec)) != OPTREF_OK) {
        mpmat_clear(Gd);
        return st;
    }
    if (decoupled) {
        ref_decay_decoupled(o, W, eta, lambda); /* adamw step 1 */
        mpmat_set(Gd, G);
    } else {
        for (size_t k = 0; k < o->m * o->n; k++) /* adam step 1: G + lambda W */
            mpfr_fma(Gd->e + k, lambda, W->e + k, G->e + k, MPFR_RNDN);
    }
    adam_moments_update(o, M, V, Gd); /* step 2 */
    adam_direction(o, N, M, V);       /* step 3 */
    ref_apply_step(W, eta, N);
    mpmat_clear(Gd);
    mpmat_clear(N);
    return OPTREF_OK;
}

const optimizer_info opt_adam = {
    .name = "adam",
    .source = "torch.optim.Adam (amsgrad off)",
    .hyper = adam_hyper,
    .nhyper = sizeof adam_hyper / sizeof adam_hyper[0],
    .state = adam_state,
    .nstate = sizeof adam_state / sizeof adam_state[0],
    .ref_step = adam_step,
};

const optimizer_info opt_adamw = {
    .name = "adamw",
    .source = "torch.optim.AdamW",
    .hyper = adamw_hyper,
    .nhyper = sizeof adamw_hyper / sizeof adamw_hyper[0],
    .state = adam_state,
    .nstate = sizeof adam_state / sizeof adam_state[0],
    .ref_step = adam_step,
};
