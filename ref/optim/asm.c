/* asm (Adaptive Spectral Momentum, seed paper Eq. 1), spec/optimizers.md
 * section 2:
 * 1. W <- W (1 - eta lambda) (decoupled).
 * 2. Adam moments and bias correction as adam (no coupled decay).
 * 3. If (t - 1) mod K = 0: sigma = singular values of the decayed W;
 *    kappa = sigma_1 / sigma_min(m,n) (+Inf when sigma_min = 0);
 *    s = min(1, tau / kappa) (0 when kappa = +Inf). Otherwise s, kappa keep
 *    their values. A 1-D parameter (m = 1 or n = 1) has s = kappa = 1.
 * 4. W <- W - eta s M_hat / (sqrt(V_hat) + eps): eta s is one rounding,
 *    then fma(-(eta s), N, W) with N adam's direction.
 * sigma_min counts as zero [decision] when sigma_min <= 2^(-p/2) sigma_1
 * (the zero rule of mpmat_svd/mpmat_polar; the Jacobi SVD reports an exact
 * rank deficiency as a tiny nonzero value) or when W = 0. */
#include "adam_moments.h"

static const param_spec asm_hyper[] = {
    {"lr", PARAM_REAL, "8e-3", "0", NULL, 0, NULL,
     "learning rate (the paper's matrix lr; the caller passes eta_t)"},
    {"beta1", PARAM_REAL, "0.9", "0", "1", PARAM_MAX_OPEN, NULL, "first-moment decay"},
    {"beta2", PARAM_REAL, "0.98", "0", "1", PARAM_MAX_OPEN, NULL, "second-moment decay"},
    {"eps", PARAM_REAL, "1e-8", "0", NULL, 0, NULL, "added to sqrt(V_hat) in the denominator"},
    {"tau", PARAM_REAL, "8.0", "0", NULL, PARAM_MIN_OPEN, NULL,
     "condition-number threshold: s = min(1, tau / kappa)"},
    {"check_interval", PARAM_INT, "50", "1", NULL, 0, NULL,
     "K: s is recomputed on steps t with (t - 1) mod K = 0"},
    {"weight_decay", PARAM_REAL, "0", "0", NULL, 0, NULL,
     "decoupled weight decay lambda: W <- W (1 - eta lambda)"},
};

static const state_spec asm_state[] = {
    {"M", STATE_PARAM, INIT_ZERO, "first moment"},
    {"V", STATE_PARAM, INIT_ZERO, "second moment"},
    {"s", STATE_SCALAR, INIT_ONE, "step scale min(1, tau / kappa), in [0, 1]"},
    {"kappa", STATE_SCALAR, INIT_ONE, "condition number of W at the last check (+Inf: singular)"},
};

/* Step 3: kappa and s from the singular values of W. */
static optref_status spectral_scale(const ref_opt *o, mpfr_ptr s, mpfr_ptr kappa, mpmat_srcptr W)
{
    size_t k = o->m < o->n ? o->m : o->n;
    if (k == 1) { /* 1-D: plain AdamW */
        mpfr_set_ui(s, 1, MPFR_RNDN);
        mpfr_set_ui(kappa, 1, MPFR_RNDN);
        return OPTREF_OK;
    }
    mpmat_t sv;
    optref_status st = mpmat_init(sv, k, 1, o->prec);
    if (st != OPTREF_OK)
        return st;
    if ((st = mpmat_svd(NULL, sv, NULL, W)) == OPTREF_OK) {
        mpfr_srcptr s1 = sv->e, smin = sv->e + (k - 1);
        mpfr_t tol;
        REF_TMP_INIT(o, tol);
        mpfr_set_ui_2exp(tol, 1, -(long)o->prec, MPFR_RNDN); /* 2^(-p/2) sigma_1 */
        mpfr_sqrt(tol, tol, MPFR_RNDN);
        mpfr_mul(tol, tol, s1, MPFR_RNDN);
        if (mpfr_zero_p(s1) || mpfr_cmp(smin, tol) <= 0) {
            mpfr_set_inf(kappa, 1);
            mpfr_set_zero(s, 1);
        } else {
            mpfr_div(kappa, s1, smin, MPFR_RNDN);
            mpfr_div(s, ref_opt_real(o, "tau"), kappa, MPFR_RNDN);
            if (mpfr_cmp_ui(s, 1) > 0)
                mpfr_set_ui(s, 1, MPFR_RNDN);
        }
        REF_TMP_CLEAR(tol);
    }
    mpmat_clear(sv);
    return st;
}

static optref_status asm_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                              const ref_oracle *oracle)
{
    (void)oracle;
    mpmat_ptr M = ref_opt_state(o, "M"), V = ref_opt_state(o, "V");
    mpfr_ptr s = ref_opt_state(o, "s")->e, kappa = ref_opt_state(o, "kappa")->e;
    unsigned long K = (unsigned long)ref_opt_int(o, "check_interval");
    mpmat_t N;
    optref_status st = mpmat_init(N, o->m, o->n, o->prec);
    if (st != OPTREF_OK)
        return st;
    ref_decay_decoupled(o, W, eta, ref_opt_real(o, "weight_decay")); /* 1. */
    adam_moments_update(o, M, V, G);                                  /* 2. */
    adam_direction(o, N, M, V);
    if ((o->t - 1) % K == 0) /* 3. */
        st = spectral_scale(o, s, kappa, W);
    if (st == OPTREF_OK) { /* 4. */
        mpfr_t es;
        REF_TMP_INIT(o, es);
        mpfr_mul(es, eta, s, MPFR_RNDN);
        ref_apply_step(W, mpfr_cmp_ui(s, 1) == 0 ? eta : es, N); /* s = 1: exactly adamw */
        REF_TMP_CLEAR(es);
    }
    mpmat_clear(N);
    return st;
}

const optimizer_info opt_asm = {
    .name = "asm",
    .source = "Adaptive Spectral Momentum (seed paper, Eq. 1)",
    .hyper = asm_hyper,
    .nhyper = sizeof asm_hyper / sizeof asm_hyper[0],
    .state = asm_state,
    .nstate = sizeof asm_state / sizeof asm_state[0],
    .ref_step = asm_step,
};
