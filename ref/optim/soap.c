/* soap (nikhilvyas/SOAP soap.py), spec/optimizers.md section 2 soap, with
 * the eigenbasis machinery of 1.2 (eigenbasis.c).
 * First call: the 1.2 first-call rule (no update). Later calls:
 * 1. G' = project(G). 2. k <- k + 1.
 * 3. M <- beta1 M + (1 - beta1) G'; V <- beta2 V + (1 - beta2) G'.G'.
 * 4. N = M / (sqrt(V) + eps).
 * 5. eta' = eta sqrt(1 - beta2^k) / (1 - beta1^k) if correct_bias else eta.
 * 6. U = project_back(N); normalize_grads: U <- U / (1e-30 + sqrt(mean(U.U))).
 * 7. W <- W - eta' U. 8. W <- W - eta lambda W (uncorrected eta).
 * 9. The 1.2 refresh (a)-(d) with the raw G (V permuted).
 * Rounding: docs/reference-arithmetic.md; decisions: docs/optimizers/eigenbasis.md. */
#include "adam_moments.h"
#include "eigenbasis.h"

static const param_spec soap_hyper[] = {
    {"lr", PARAM_REAL, "3e-3", "0", NULL, 0, NULL,
     "learning rate (the caller passes eta_t)"},
    {"beta1", PARAM_REAL, "0.95", "0", "1", PARAM_MAX_OPEN, NULL,
     "EMA factor of the first moment M"},
    {"beta2", PARAM_REAL, "0.95", "0", "1", PARAM_MAX_OPEN, NULL,
     "EMA factor of the second moment V"},
    {"shampoo_beta", PARAM_REAL, "=beta2", "0", "1", PARAM_MAX_OPEN, NULL,
     "EMA factor of the factors L and R (default: beta2)"},
    {"eps", PARAM_REAL, "1e-8", "0", NULL, 0, NULL, "added to sqrt(V)"},
    {"weight_decay", PARAM_REAL, "0.01", "0", NULL, 0, NULL,
     "decoupled weight decay lambda, applied after the step with the uncorrected eta"},
    {"precondition_frequency", PARAM_INT, "10", "1", NULL, 0, NULL,
     "the basis is refreshed when k mod precondition_frequency = 0"},
    {"max_precond_dim", PARAM_INT, "10000", "0", NULL, 0, NULL,
     "a side longer than this is not rotated (identity basis, no factor)"},
    {"correct_bias", PARAM_BOOL, "true", NULL, NULL, 0, NULL,
     "eta' = eta sqrt(1 - beta2^k) / (1 - beta1^k)"},
    {"normalize_grads", PARAM_BOOL, "false", NULL, NULL, 0, NULL,
     "divide the update by 1e-30 + its root mean square"},
};

static const state_spec soap_state[] = {
    {"M", STATE_PARAM, INIT_ZERO, "first moment, in the current eigenbasis"},
    {"V", STATE_PARAM, INIT_ZERO, "second moment, in the current eigenbasis (permuted on refresh)"},
    {"L", STATE_LEFT, INIT_ZERO, "left factor, EMA of G G^T (0 x 0 when not rotated)"},
    {"R", STATE_RIGHT, INIT_ZERO, "right factor, EMA of G^T G (0 x 0 when not rotated)"},
    {"Q_L", STATE_LEFT, INIT_IDENTITY, "left eigenbasis (columns; descending eigenvalues)"},
    {"Q_R", STATE_RIGHT, INIT_IDENTITY, "right eigenbasis (columns; descending eigenvalues)"},
    {"basis_ready", STATE_SCALAR, INIT_ZERO, "0 before the (skipped) first call, then 1"},
    {"k", STATE_SCALAR, INIT_ZERO, "real-update counter (calls after the first)"},
};

/* Steps 3 and 4: the moments, and N = M / (sqrt(V) + eps) into Gp. */
static void soap_moments(const ref_opt *o, mpmat_ptr M, mpmat_ptr V, mpmat_ptr Gp)
{
    mpfr_srcptr b1 = ref_opt_real(o, "beta1"), b2 = ref_opt_real(o, "beta2");
    mpfr_srcptr eps = ref_opt_real(o, "eps");
    mpfr_t w1, w2, t, s;
    REF_TMP_INIT(o, w1, w2, t, s);
    mpfr_ui_sub(w1, 1, b1, MPFR_RNDN);
    mpfr_ui_sub(w2, 1, b2, MPFR_RNDN);
    for (size_t i = 0; i < o->m * o->n; i++) {
        mpfr_ptr m = M->e + i, v = V->e + i, g = Gp->e + i;
        mpfr_mul(t, b1, m, MPFR_RNDN);
        mpfr_fma(m, w1, g, t, MPFR_RNDN); /* beta1 M + (1 - beta1) G' */
        mpfr_sqr(s, g, MPFR_RNDN);
        mpfr_mul(t, b2, v, MPFR_RNDN);
        mpfr_fma(v, w2, s, t, MPFR_RNDN); /* beta2 V + (1 - beta2) G'.G' */
        mpfr_sqrt(s, v, MPFR_RNDN);
        mpfr_add(s, s, eps, MPFR_RNDN);
        ref_div_or_zero(g, m, s); /* N; 0/0 = 0 (eps = 0) */
    }
    REF_TMP_CLEAR(w1, w2, t, s);
}

static optref_status soap_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                               const ref_oracle *oracle)
{
    (void)oracle;
    eigenbasis E;
    eigenbasis_get(&E, o);
    if (!eigenbasis_ready(&E))
        return eigenbasis_first_call(o, &E, G);
    mpmat_ptr M = ref_opt_state(o, "M"), V = ref_opt_state(o, "V");
    mpmat_t X;
    optref_status st = mpmat_init(X, o->m, o->n, o->prec);
    if (st == OPTREF_OK)
        st = eigenbasis_project(X, &E, G); /* 1 */
    if (st == OPTREF_OK) {
        unsigned long k = eigenbasis_count(&E); /* 2 */
        soap_moments(o, M, V, X);                /* 3, 4: X <- N */
        st = eigenbasis_project_back(X, &E, X);  /* 6 */
        if (st == OPTREF_OK)
            st = eigenbasis_apply_update(o, W, X, eta, k); /* 5, 6 (normalize), 7, 8 */
    }
    if (st == OPTREF_OK)
        st = eigenbasis_after_update(o, &E, G, M, V, V); /* 9 */
    mpmat_clear(X);
    return st;
}

const optimizer_info opt_soap = {
    .name = "soap",
    .source = "nikhilvyas/SOAP soap.py (Vyas et al. 2024, arXiv 2409.11321)",
    .hyper = soap_hyper,
    .nhyper = sizeof soap_hyper / sizeof soap_hyper[0],
    .state = soap_state,
    .nstate = sizeof soap_state / sizeof soap_state[0],
    .ref_step = soap_step,
};
