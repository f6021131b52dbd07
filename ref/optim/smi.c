/* smi (Spectral Momentum Integration), a wrapper around any plain optimizer,
 * spec/optimizers.md section 2 smi, with the quantile and 2-D DFT of 1.3:
 * 1. p = min((t - 1)/T, 1); alpha = alpha0 + (alpha_end - alpha0) p (linear)
 *    or alpha0 + (alpha_end - alpha0)(1 - cos(pi p))/2 (cosine).
 * 2. F = DFT2(G). 3. H <- beta H + (1 - beta)|F|. 4. tau = quantile(H, q).
 * 5. Mask = [H >= tau]. 6. Gf = Re(IDFT2(F . Mask)).
 * 7. G~ = (1 - alpha) G + alpha Gf. 8. base.step(W, G~).
 * Rounding: docs/reference-arithmetic.md. Decisions (docs/optimizers/wrappers.md):
 * cos(pi p) is the correctly rounded cos(pi (t - 1)/T) of the exact argument;
 * masked bins are +0; when alpha = 0 or the mask keeps every bin, G~ = G
 * exactly (its exact value), so q = 0 and alpha = 0 give the base bit for bit. */
#include "optim_internal.h"

static const param_spec smi_hyper[] = {
    {"beta", PARAM_REAL, "0.99", "0", "1", PARAM_MAX_OPEN, NULL,
     "EMA factor of the spectral magnitudes H"},
    {"q", PARAM_REAL, "0.25", "0", "1", 0, NULL,
     "quantile of H below which frequency bins are filtered out"},
    {"alpha0", PARAM_REAL, "0.1", "0", "1", 0, NULL, "blend weight of the filtered gradient at t = 1"},
    {"alpha_end", PARAM_REAL, "0.5", "0", "1", 0, NULL, "blend weight of the filtered gradient from t = T + 1 on"},
    {"schedule", PARAM_CHOICE, "cosine", NULL, NULL, 0, "cosine|linear",
     "shape of alpha_t from alpha0 to alpha_end"},
    {"T", PARAM_INT, NULL, "1", NULL, 0, NULL, "total steps of the alpha schedule (required)"},
};

static const state_spec smi_state[] = {
    {"H", STATE_PARAM, INIT_ZERO, "EMA of the DFT magnitudes |DFT2(G)| (exactly Hermitian-symmetric)"},
};

/* Step 1: alpha_t. t - 1 >= T gives p = 1 exactly. */
static void smi_alpha(mpfr_ptr alpha, const ref_opt *o)
{
    mpfr_srcptr a0 = ref_opt_real(o, "alpha0"), a1 = ref_opt_real(o, "alpha_end");
    unsigned long T = (unsigned long)ref_opt_int(o, "T");
    uint64_t s = o->t - 1; /* 0-based step index */
    int cosine = ref_opt_text(o, "schedule")[0] == 'c';
    mpfr_t d, w, x;
    REF_TMP_INIT(o, d, w);
    mpfr_init2(x, 64);
    mpfr_sub(d, a1, a0, MPFR_RNDN); /* alpha_end - alpha0 */
    if (s >= T) {
        mpfr_set_ui(w, 1, MPFR_RNDN); /* p = 1: both schedules give weight 1 */
    } else if (!cosine) {
        mpfr_set_uj(x, s, MPFR_RNDN);
        mpfr_div_ui(w, x, T, MPFR_RNDN); /* p = (t - 1)/T */
    } else {
        mpfr_set_uj(x, s, MPFR_RNDN);
        mpfr_cosu(w, x, 2 * T, MPFR_RNDN);  /* cos(2 pi s / 2T) = cos(pi p) */
        mpfr_ui_sub(w, 1, w, MPFR_RNDN);    /* 1 - cos(pi p) */
        mpfr_div_2ui(w, w, 1, MPFR_RNDN);   /* /2, exact */
    }
    mpfr_fma(alpha, d, w, a0, MPFR_RNDN); /* alpha0 + (alpha_end - alpha0) w */
    REF_TMP_CLEAR(d, w);
    mpfr_clear(x);
}

/* Steps 2-5: H update and the mask applied to F in place (masked bins +0).
 * Returns in *all_kept whether every bin was kept. */
static optref_status smi_filter(ref_opt *o, mpmat_ptr Fre, mpmat_ptr Fim, mpmat_ptr A,
                                mpmat_srcptr G, int *all_kept)
{
    mpfr_srcptr beta = ref_opt_real(o, "beta");
    mpmat_ptr H = ref_opt_state(o, "H");
    optref_status st = mpmat_dft2_real(Fre, Fim, G); /* 2 */
    if (st == OPTREF_OK)
        st = mpmat_cabs(A, Fre, Fim);
    if (st != OPTREF_OK)
        return st;
    mpfr_t omb, tau;
    REF_TMP_INIT(o, omb, tau);
    mpfr_ui_sub(omb, 1, beta, MPFR_RNDN);
    for (size_t k = 0; k < o->m * o->n; k++) { /* 3: H <- beta H + (1 - beta)|F| */
        mpfr_mul(H->e + k, beta, H->e + k, MPFR_RNDN);
        mpfr_fma(H->e + k, omb, A->e + k, H->e + k, MPFR_RNDN);
    }
    st = mpmat_quantile(tau, H, ref_opt_real(o, "q")); /* 4 */
    *all_kept = 1;
    for (size_t k = 0; st == OPTREF_OK && k < o->m * o->n; k++)
        if (mpfr_cmp(H->e + k, tau) < 0) { /* 5: Mask = [H >= tau] */
            mpfr_set_zero(Fre->e + k, 1);
            mpfr_set_zero(Fim->e + k, 1);
            *all_kept = 0;
        }
    REF_TMP_CLEAR(omb, tau);
    return st;
}

static optref_status smi_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                              const ref_oracle *oracle)
{
    size_t m = o->m, n = o->n;
    mpmat_t Fre, Fim, A;
    optref_status st = mpmat_init(Fre, m, n, o->prec);
    optref_status st2 = mpmat_init(Fim, m, n, o->prec);
    optref_status st3 = mpmat_init(A, m, n, o->prec);
    if (st == OPTREF_OK)
        st = st2 != OPTREF_OK ? st2 : st3;
    mpfr_t alpha, oma, t1;
    REF_TMP_INIT(o, alpha, oma, t1);
    int all_kept = 1;
    smi_alpha(alpha, o); /* 1 */
    if (st == OPTREF_OK)
        st = smi_filter(o, Fre, Fim, A, G, &all_kept); /* 2-5 */
    if (st == OPTREF_OK && !mpfr_zero_p(alpha) && !all_kept) {
        st = mpmat_idft2(A, NULL, Fre, Fim); /* 6: A <- Gf */
        mpfr_ui_sub(oma, 1, alpha, MPFR_RNDN);
        for (size_t k = 0; st == OPTREF_OK && k < m * n; k++) { /* 7: A <- G~ */
            mpfr_mul(t1, oma, G->e + k, MPFR_RNDN);
            mpfr_fma(A->e + k, alpha, A->e + k, t1, MPFR_RNDN);
        }
    } else if (st == OPTREF_OK) {
        st = mpmat_set(A, G); /* alpha = 0 or Gf = G: G~ = G exactly */
    }
    if (st == OPTREF_OK)
        st = ref_opt_substep(o->base, W, A, eta, oracle); /* 8 */
    REF_TMP_CLEAR(alpha, oma, t1);
    mpmat_clear(Fre);
    mpmat_clear(Fim);
    mpmat_clear(A);
    return st;
}

const optimizer_info opt_smi = {
    .name = "smi",
    .source = "Spectral Momentum Integration (seed paper), spectral filter of the gradient "
              "around a base optimizer",
    .hyper = smi_hyper,
    .nhyper = sizeof smi_hyper / sizeof smi_hyper[0],
    .state = smi_state,
    .nstate = sizeof smi_state / sizeof smi_state[0],
    .default_base = "adamw",
    .ref_init = NULL,
    .ref_step = smi_step,
};
