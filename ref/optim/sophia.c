/* sophia (SophiaH, Liu et al. 2023, Liuhong99/Sophia commit 01af183
 * sophia.py), spec/optimizers.md section 2:
 * 1. W <- W (1 - eta lambda) (decoupled).
 * 2. M <- beta1 M + (1 - beta1) G.
 * 3. ratio = min(|M| / (gamma max(h, 0) + 1e-12), 1).
 * 4. W <- W - (eta / (1 - beta1^t)) sign(M) . ratio.
 * 5. After the step, if t mod k = 0: u with i.i.d. Rademacher entries
 *    (stream 6, seed = the oracle's seed, substream t, row-major);
 *    h <- beta2 h + (1 - beta2) u . (H u), H u from the oracle's hvp
 *    callback, called after W is updated (the official loop estimates after
 *    optimizer.step(), so steps 1..k run with h = 0).
 * Rounding: docs/reference-arithmetic.md; gamma max(h, 0) + 1e-12 is one
 * fma; sign(M) . ratio is exact; eta / (1 - beta1^t) is pow, subtract,
 * divide. */
#include "adam_moments.h"
#include "optref/rng.h"

static const param_spec sophia_hyper[] = {
    {"lr", PARAM_REAL, "1e-3", "0", NULL, 0, NULL, "learning rate (the caller passes eta_t)"},
    {"beta1", PARAM_REAL, "0.9", "0", "1", PARAM_MAX_OPEN, NULL, "momentum decay"},
    {"beta2", PARAM_REAL, "0.99", "0", "1", PARAM_MAX_OPEN, NULL,
     "decay of the Hessian-diagonal estimate h"},
    {"gamma", PARAM_REAL, "10", "0", NULL, 0, NULL, "clip scale: ratio = |M| / (gamma h + 1e-12)"},
    {"weight_decay", PARAM_REAL, "1e-2", "0", NULL, 0, NULL,
     "decoupled weight decay lambda: W <- W (1 - eta lambda)"},
    {"k", PARAM_INT, "10", "1", NULL, 0, NULL, "Hessian interval: h is updated after steps t = k, 2k, ..."},
};

static const state_spec sophia_state[] = {
    {"M", STATE_PARAM, INIT_ZERO, "momentum (EMA of G)"},
    {"h", STATE_PARAM, INIT_ZERO, "Hutchinson estimate of the Hessian diagonal (EMA)"},
};

/* Step 5: h <- beta2 h + (1 - beta2) u . (H u). */
static optref_status update_hessian(ref_opt *o, mpmat_srcptr W, const ref_oracle *oracle)
{
    mpmat_ptr h = ref_opt_state(o, "h");
    mpmat_t U, HU;
    optref_status st = mpmat_init(U, o->m, o->n, o->prec);
    if (st != OPTREF_OK)
        return st;
    if ((st = mpmat_init(HU, o->m, o->n, o->prec)) != OPTREF_OK) {
        mpmat_clear(U);
        return st;
    }
    rng_stream s;
    rng_stream_init(&s, oracle->seed, RNG_STREAM_SOPHIA, (uint32_t)o->t);
    rng_fill_rademacher(U, &s);
    st = oracle->hvp(oracle->ctx, HU, W, U);
    if (st == OPTREF_OK && !mpmat_is_finite(HU))
        st = optref_fail(OPTREF_ENONFINITE, "sophia: the Hessian-vector product is not finite");
    if (st == OPTREF_OK) {
        mpfr_srcptr beta2 = ref_opt_real(o, "beta2");
        mpfr_t c2, uhu;
        REF_TMP_INIT(o, c2, uhu);
        mpfr_ui_sub(c2, 1, beta2, MPFR_RNDN);
        for (size_t k = 0; k < o->m * o->n; k++) {
            mpfr_mul(uhu, U->e + k, HU->e + k, MPFR_RNDN); /* exact: u = +-1 */
            mpfr_mul(h->e + k, beta2, h->e + k, MPFR_RNDN);
            mpfr_fma(h->e + k, c2, uhu, h->e + k, MPFR_RNDN);
        }
        REF_TMP_CLEAR(c2, uhu);
    }
    mpmat_clear(U), mpmat_clear(HU);
    return st;
}

static optref_status sophia_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                                 const ref_oracle *oracle)
{
    mpfr_srcptr beta1 = ref_opt_real(o, "beta1"), gamma = ref_opt_real(o, "gamma");
    mpmat_ptr M = ref_opt_state(o, "M"), h = ref_opt_state(o, "h");
    if (oracle == NULL || oracle->hvp == NULL)
        return optref_fail(OPTREF_EINVAL, "sophia needs an oracle with Hessian-vector products");
    mpfr_t c1, tiny, den, ratio, neg_step;
    REF_TMP_INIT(o, c1, tiny, den, ratio, neg_step);
    mpfr_ui_sub(c1, 1, beta1, MPFR_RNDN);
    param_parse_real(tiny, "1e-12"); /* the source's literal, binary64 */
    mpfr_pow_ui(neg_step, beta1, o->t, MPFR_RNDN); /* -(eta / (1 - beta1^t)) */
    mpfr_ui_sub(neg_step, 1, neg_step, MPFR_RNDN);
    mpfr_div(neg_step, eta, neg_step, MPFR_RNDN);
    mpfr_neg(neg_step, neg_step, MPFR_RNDN);
    ref_decay_decoupled(o, W, eta, ref_opt_real(o, "weight_decay")); /* 1. */
    for (size_t k = 0; k < o->m * o->n; k++) {
        mpfr_ptr m = M->e + k;
        mpfr_mul(m, beta1, m, MPFR_RNDN); /* 2. */
        mpfr_fma(m, c1, G->e + k, m, MPFR_RNDN);
        if (mpfr_sgn(h->e + k) > 0) /* 3. gamma max(h, 0) + 1e-12 */
            mpfr_fma(den, gamma, h->e + k, tiny, MPFR_RNDN);
        else
            mpfr_set(den, tiny, MPFR_RNDN);
        mpfr_abs(ratio, m, MPFR_RNDN);
        mpfr_div(ratio, ratio, den, MPFR_RNDN);
        if (mpfr_cmp_ui(ratio, 1) > 0)
            mpfr_set_ui(ratio, 1, MPFR_RNDN);
        if (mpfr_sgn(m) < 0) /* 4. sign(M) . ratio, exact */
            mpfr_neg(ratio, ratio, MPFR_RNDN);
        mpfr_fma(W->e + k, neg_step, ratio, W->e + k, MPFR_RNDN);
    }
    REF_TMP_CLEAR(c1, tiny, den, ratio, neg_step);
    optref_status st = OPTREF_OK;
    if (o->t % (uint64_t)ref_opt_int(o, "k") == 0) /* 5. */
        st = update_hessian(o, W, oracle);
    return st;
}

const optimizer_info opt_sophia = {
    .name = "sophia",
    .source = "SophiaH, Liu et al. 2023, Liuhong99/Sophia commit 01af183 sophia.py",
    .hyper = sophia_hyper,
    .nhyper = sizeof sophia_hyper / sizeof sophia_hyper[0],
    .state = sophia_state,
    .nstate = sizeof sophia_state / sizeof sophia_state[0],
    .needs = NEEDS_HVP,
    .ref_step = sophia_step,
};
