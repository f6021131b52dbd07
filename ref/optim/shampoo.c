/* shampoo (Gupta et al. 2018, for comparison), spec/optimizers.md section 2:
 * 1. L <- L + G G^T, R <- R + G^T G (beta = 0: sums); with beta > 0,
 *    L <- beta L + (1 - beta) G G^T, likewise R.
 * 2. If (t - 1) mod f = 0: PL = Q diag(max(lambda_i, 0) + eps)^(-1/4) Q^T from
 *    L = Q diag(lambda) Q^T (mpmat_sym_inv_root), likewise PR.
 * 3. W <- W - eta PL G PR.
 * Rounding (docs/reference-arithmetic.md): each entry of G G^T, G^T G and of
 * the products one correctly rounded dot; L + G G^T one rounding per entry;
 * beta L rounded, then fma(1 - beta, G G^T, beta L); PL G PR = (PL G) PR,
 * left product first; W - eta D one fused rounding. L and R stay exactly
 * symmetric. Decisions: docs/optimizers/eigenbasis.md. */
#include "optim_internal.h"

static const param_spec shampoo_hyper[] = {
    {"lr", PARAM_REAL, NULL, "0", NULL, 0, NULL, "learning rate (required: no default)"},
    {"eps", PARAM_REAL, "1e-12", "0", NULL, 0, NULL,
     "added to the clipped eigenvalues before the inverse fourth root"},
    {"beta", PARAM_REAL, "0", "0", "1", PARAM_MAX_OPEN, NULL,
     "0: L and R are sums; otherwise their EMA factor"},
    {"update_freq", PARAM_INT, "1", "1", NULL, 0, NULL,
     "PL and PR are recomputed when (t - 1) mod update_freq = 0"},
};

static const state_spec shampoo_state[] = {
    {"L", STATE_LEFT_FULL, INIT_ZERO, "left statistic: sum (or EMA) of G G^T"},
    {"R", STATE_RIGHT_FULL, INIT_ZERO, "right statistic: sum (or EMA) of G^T G"},
    {"PL", STATE_LEFT_FULL, INIT_ZERO, "last inverse fourth root of L (+ eps)"},
    {"PR", STATE_RIGHT_FULL, INIT_ZERO, "last inverse fourth root of R (+ eps)"},
};

/* Step 1 for one side: P <- P + GG (beta = 0) or beta P + (1 - beta) GG. */
static optref_status shampoo_accumulate(const ref_opt *o, mpmat_ptr P, mpmat_srcptr G, int right)
{
    mpfr_srcptr beta = ref_opt_real(o, "beta");
    mpmat_t GG;
    optref_status st = mpmat_init(GG, P->rows, P->cols, o->prec);
    if (st == OPTREF_OK)
        st = right ? mpmat_mul_tn(GG, G, G) : mpmat_mul_nt(GG, G, G);
    if (st == OPTREF_OK && mpfr_zero_p(beta)) {
        st = mpmat_add(P, P, GG);
    } else if (st == OPTREF_OK) {
        mpfr_t w, bp;
        REF_TMP_INIT(o, w, bp);
        mpfr_ui_sub(w, 1, beta, MPFR_RNDN);
        for (size_t i = 0; i < P->rows * P->cols; i++) {
            mpfr_mul(bp, beta, P->e + i, MPFR_RNDN);
            mpfr_fma(P->e + i, w, GG->e + i, bp, MPFR_RNDN);
        }
        REF_TMP_CLEAR(w, bp);
    }
    mpmat_clear(GG);
    return st;
}

static optref_status shampoo_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                                  const ref_oracle *oracle)
{
    (void)oracle;
    mpmat_ptr L = ref_opt_state(o, "L"), R = ref_opt_state(o, "R");
    mpmat_ptr PL = ref_opt_state(o, "PL"), PR = ref_opt_state(o, "PR");
    mpfr_srcptr eps = ref_opt_real(o, "eps");
    uint64_t f = (uint64_t)ref_opt_int(o, "update_freq");
    optref_status st = shampoo_accumulate(o, L, G, 0); /* 1 */
    if (st == OPTREF_OK)
        st = shampoo_accumulate(o, R, G, 1);
    if (st == OPTREF_OK && (o->t - 1) % f == 0) { /* 2 */
        st = mpmat_sym_inv_root(PL, L, 4, eps);
        if (st == OPTREF_OK)
            st = mpmat_sym_inv_root(PR, R, 4, eps);
    }
    mpmat_t D;
    if (st == OPTREF_OK && (st = mpmat_init(D, o->m, o->n, o->prec)) == OPTREF_OK) {
        st = mpmat_mul(D, PL, G); /* 3: D = (PL G) PR */
        if (st == OPTREF_OK)
            st = mpmat_mul(D, D, PR);
        if (st == OPTREF_OK) {
            mpfr_t neg_eta;
            REF_TMP_INIT(o, neg_eta);
            mpfr_neg(neg_eta, eta, MPFR_RNDN);
            for (size_t i = 0; i < o->m * o->n; i++)
                mpfr_fma(W->e + i, neg_eta, D->e + i, W->e + i, MPFR_RNDN); /* W - eta D */
            REF_TMP_CLEAR(neg_eta);
        }
        mpmat_clear(D);
    }
    return st;
}

const optimizer_info opt_shampoo = {
    .name = "shampoo",
    .source = "Gupta, Koren and Singer 2018, Shampoo (arXiv 1802.09568), Kronecker form",
    .hyper = shampoo_hyper,
    .nhyper = sizeof shampoo_hyper / sizeof shampoo_hyper[0],
    .state = shampoo_state,
    .nstate = sizeof shampoo_state / sizeof shampoo_state[0],
    .ref_step = shampoo_step,
};
