/* deva-sinf and its variants (Decoupled-Variance-Adaptation optimizers/deva.py:
 * DeVASchattenNorm, DeVASchattenNormSignStablization, DeVASchattenNormIns,
 * DeVASchattenNormEfficient), spec/optimizers.md section 2 deva-sinf, with
 * the eigenbasis machinery of 1.2 (eigenbasis.c) and msign of 1.1 (msign.c).
 * First call: the 1.2 first-call rule (no update). Later calls:
 * 1. G' = project(G). 2. k <- k + 1. 3. M <- lerp(M, G', 1 - beta1).
 * 4. r_i = sqrt(sum_j M_ij^2), c_j = sqrt(sum_i M_ij^2).
 * 5. V <- beta2 V + (1 - beta2) r c^T.
 * 6. N <- lerp(G', M, beta1) if nesterov else M. 7. O <- msign(N).
 * 8. Gamma_ij <- sqrt(r_i) sqrt(c_j) / sqrt(V_ij + eps).
 * 9. U' <- 0.2 sqrt(max(m, n)) O . Gamma. 10. eta' as soap.
 * 11. U = project_back(U') (normalize_grads as soap). 12. W <- W - eta' U.
 * 13. W <- W - eta lambda W. 14. The 1.2 refresh with the raw G (V permuted).
 * Variants: sign: O <- msign(sign(N)); ins: r, c from G' (steps 5 and 8);
 * fact: nu_r <- lerp(nu_r, rowsums(G'.G'), 1 - beta2), nu_c likewise,
 * Gamma_ij = sqrt(r_i / sqrt(nu_r,i + eps)) sqrt(c_j / sqrt(nu_c,j + eps)),
 * O <- msign(sign(N)), the refresh permutes nu_r and nu_c.
 * Rounding: docs/reference-arithmetic.md; decisions: docs/optimizers/eigenbasis.md. */
#include <stdlib.h>
#include <string.h>

#include "adam_moments.h"
#include "eigenbasis.h"
#include "msign.h"

typedef enum { DEVA_PLAIN, DEVA_SIGN, DEVA_INS, DEVA_FACT } deva_variant;

#define DEVA_HYPER                                                                              \
    {"lr", PARAM_REAL, "3e-3", "0", NULL, 0, NULL,                                            \
     "learning rate (the caller passes eta_t)"},                                              \
    {"beta1", PARAM_REAL, "0.95", "0", "1", PARAM_MAX_OPEN, NULL, "EMA factor of M"},         \
    {"beta2", PARAM_REAL, "0.95", "0", "1", PARAM_MAX_OPEN, NULL,                             \
     "EMA factor of the variance V (or of nu_r, nu_c)"},                                        \
    {"shampoo_beta", PARAM_REAL, "=beta2", "0", "1", PARAM_MAX_OPEN, NULL,                    \
     "EMA factor of the factors L and R (default: beta2)"},                                    \
    {"eps", PARAM_REAL, "1e-8", "0", NULL, 0, NULL, "added inside the square roots of Gamma"}, \
    {"weight_decay", PARAM_REAL, "0.01", "0", NULL, 0, NULL,                                  \
     "decoupled weight decay lambda, applied after the step with the uncorrected eta"},        \
    {"precondition_frequency", PARAM_INT, "10", "1", NULL, 0, NULL,                           \
     "the basis is refreshed when k mod precondition_frequency = 0"},                          \
    {"max_precond_dim", PARAM_INT, "10000", "0", NULL, 0, NULL,                               \
     "a side longer than this is not rotated (identity basis, no factor)"},                    \
    {"correct_bias", PARAM_BOOL, "true", NULL, NULL, 0, NULL,                                 \
     "eta' = eta sqrt(1 - beta2^k) / (1 - beta1^k)"},                                          \
    {"nesterov", PARAM_BOOL, "true", NULL, NULL, 0, NULL,                                     \
     "N = lerp(G', M, beta1) if true, else N = M"},                                                \
    {"normalize_grads", PARAM_BOOL, "false", NULL, NULL, 0, NULL,                             \
     "divide the update by 1e-30 + its root mean square"},                                     \
    {"ns", PARAM_CHOICE, "ns-deva", NULL, NULL, 0, MSIGN_CHOICES, "msign method (spec 1.1)"},  \
    {"ns_steps", PARAM_INT, "5", "1", NULL, 0, NULL, "Newton-Schulz iterations"},              \
    {"ns_dtype", PARAM_CHOICE, "exact", NULL, NULL, 0, "exact|bf16",                           \
     "msign arithmetic: working precision, or the bf16 model of spec 1.1"}

static const param_spec deva_hyper[] = {DEVA_HYPER};

#define EIGEN_STATE                                                                             \
    {"L", STATE_LEFT, INIT_ZERO, "left factor, EMA of G G^T (0 x 0 when not rotated)"},       \
    {"R", STATE_RIGHT, INIT_ZERO, "right factor, EMA of G^T G (0 x 0 when not rotated)"},     \
    {"Q_L", STATE_LEFT, INIT_IDENTITY, "left eigenbasis (columns; descending eigenvalues)"},   \
    {"Q_R", STATE_RIGHT, INIT_IDENTITY, "right eigenbasis (columns; descending eigenvalues)"}, \
    {"basis_ready", STATE_SCALAR, INIT_ZERO, "0 before the (skipped) first call, then 1"},     \
    {"k", STATE_SCALAR, INIT_ZERO, "real-update counter (calls after the first)"}

static const state_spec deva_state[] = {
    {"M", STATE_PARAM, INIT_ZERO, "first moment, in the current eigenbasis"},
    {"V", STATE_PARAM, INIT_ZERO, "EMA of r c^T, in the current eigenbasis (permuted on refresh)"},
    {"Gamma", STATE_PARAM, INIT_ONE, "the last scaling sqrt(r_i c_j / (V_ij + eps))"},
    EIGEN_STATE,
};

static const state_spec deva_fact_state[] = {
    {"M", STATE_PARAM, INIT_ZERO, "first moment, in the current eigenbasis"},
    {"nu_r", STATE_ROWS, INIT_ZERO, "EMA of the row sums of G'.G' (permuted on refresh)"},
    {"nu_c", STATE_COLS, INIT_ZERO, "EMA of the column sums of G'.G' (permuted on refresh)"},
    {"Gamma", STATE_PARAM, INIT_ONE,
     "the last scaling sqrt(r_i / sqrt(nu_r,i + eps)) sqrt(c_j / sqrt(nu_c,j + eps))"},
    EIGEN_STATE,
};

/* Sums of squares of each row (x is m x 1) or column (x is 1 x n) of A,
 * each correctly rounded (one mpfr_dot); with root, then sqrt (one rounding). */
static optref_status axis_sumsq(mpmat_ptr x, mpmat_srcptr A, int cols, int root)
{
    size_t len = cols ? A->rows : A->cols, count = cols ? A->cols : A->rows;
    mpfr_ptr *p = malloc((len ? len : 1) * sizeof *p);
    if (p == NULL)
        return optref_fail(OPTREF_ENOMEM, "deva-sinf: out of memory");
    for (size_t a = 0; a < count; a++) {
        for (size_t b = 0; b < len; b++)
            p[b] = cols ? mpmat_entry(A, b, a) : mpmat_entry(A, a, b);
        mpfr_dot(x->e + a, p, p, len, MPFR_RNDN);
        if (root)
            mpfr_sqrt(x->e + a, x->e + a, MPFR_RNDN);
    }
    free(p);
    return OPTREF_OK;
}

/* x <- lerp(x, y, w) = x + w (y - x): y - x rounded, then one fma. */
static void lerp_vec(mpfr_ptr x, mpfr_srcptr y, mpfr_srcptr w, mpfr_ptr tmp)
{
    mpfr_sub(tmp, y, x, MPFR_RNDN);
    mpfr_fma(x, w, tmp, x, MPFR_RNDN);
}

/* Per-row (or per-column) factor of Gamma: sqrt(r) for V, or
 * sqrt(r / sqrt(nu + eps)) for the fact variant, in place in r. */
static void gamma_factor(mpmat_ptr r, mpmat_srcptr nu, mpfr_srcptr eps, mpfr_ptr tmp)
{
    for (size_t i = 0; i < r->rows * r->cols; i++) {
        if (nu != NULL) {
            mpfr_add(tmp, nu->e + i, eps, MPFR_RNDN);
            mpfr_sqrt(tmp, tmp, MPFR_RNDN);
            ref_div_or_zero(r->e + i, r->e + i, tmp); /* 0/0 = 0 (eps = 0) */
        }
        mpfr_sqrt(r->e + i, r->e + i, MPFR_RNDN);
    }
}

/* Scratch of one step. */
typedef struct {
    mpmat_t X;      /* G', then N, O and U' */
    mpmat_t r, c;   /* m x 1 and 1 x n */
    mpmat_t sr, sc; /* fact: row / column sums of G'.G' */
} deva_tmp;

static optref_status tmp_init(deva_tmp *T, const ref_opt *o)
{
    T->X->e = T->r->e = T->c->e = T->sr->e = T->sc->e = NULL;
    optref_status st = mpmat_init(T->X, o->m, o->n, o->prec);
    if (st == OPTREF_OK)
        st = mpmat_init(T->r, o->m, 1, o->prec);
    if (st == OPTREF_OK)
        st = mpmat_init(T->c, 1, o->n, o->prec);
    if (st == OPTREF_OK)
        st = mpmat_init(T->sr, o->m, 1, o->prec);
    if (st == OPTREF_OK)
        st = mpmat_init(T->sc, 1, o->n, o->prec);
    return st;
}

static void tmp_clear(deva_tmp *T)
{
    mpmat_clear(T->X), mpmat_clear(T->r), mpmat_clear(T->c);
    mpmat_clear(T->sr), mpmat_clear(T->sc);
}

/* Steps 3-5 (M, r, c, and V or nu_r, nu_c) from G' in T->X. */
static optref_status deva_moments(const ref_opt *o, deva_variant var, deva_tmp *T)
{
    mpmat_ptr M = ref_opt_state(o, "M");
    mpfr_srcptr b2 = ref_opt_real(o, "beta2");
    mpfr_t w, t;
    REF_TMP_INIT(o, w, t);
    mpfr_ui_sub(w, 1, ref_opt_real(o, "beta1"), MPFR_RNDN);
    for (size_t i = 0; i < o->m * o->n; i++)
        lerp_vec(M->e + i, T->X->e + i, w, t); /* 3 */
    mpmat_srcptr src = var == DEVA_INS ? T->X : M;
    optref_status st = axis_sumsq(T->r, src, 0, 1); /* 4 */
    if (st == OPTREF_OK)
        st = axis_sumsq(T->c, src, 1, 1);
    mpfr_ui_sub(w, 1, b2, MPFR_RNDN);
    if (st == OPTREF_OK && var == DEVA_FACT) { /* nu_r, nu_c */
        mpmat_ptr nr = ref_opt_state(o, "nu_r"), nc = ref_opt_state(o, "nu_c");
        st = axis_sumsq(T->sr, T->X, 0, 0);
        if (st == OPTREF_OK)
            st = axis_sumsq(T->sc, T->X, 1, 0);
        for (size_t i = 0; st == OPTREF_OK && i < o->m; i++)
            lerp_vec(nr->e + i, T->sr->e + i, w, t);
        for (size_t j = 0; st == OPTREF_OK && j < o->n; j++)
            lerp_vec(nc->e + j, T->sc->e + j, w, t);
    } else if (st == OPTREF_OK) { /* 5: V <- beta2 V + (1 - beta2) r c^T */
        mpmat_ptr V = ref_opt_state(o, "V");
        mpfr_t bv;
        REF_TMP_INIT(o, bv);
        for (size_t i = 0; i < o->m; i++)
            for (size_t j = 0; j < o->n; j++) {
                mpfr_ptr v = mpmat_entry(V, i, j);
                mpfr_mul(t, T->r->e + i, T->c->e + j, MPFR_RNDN);
                mpfr_mul(bv, b2, v, MPFR_RNDN);
                mpfr_fma(v, w, t, bv, MPFR_RNDN);
            }
        REF_TMP_CLEAR(bv);
    }
    REF_TMP_CLEAR(w, t);
    return st;
}

/* Steps 6 and 7: T->X (G') <- O = msign(N) or msign(sign(N)). */
static optref_status deva_direction(const ref_opt *o, deva_variant var, deva_tmp *T)
{
    mpmat_srcptr M = ref_opt_state(o, "M");
    if (ref_opt_bool(o, "nesterov")) { /* lerp(G', M, beta1) = G' + beta1 (M - G') */
        mpfr_t d;
        REF_TMP_INIT(o, d);
        for (size_t i = 0; i < o->m * o->n; i++) {
            mpfr_sub(d, M->e + i, T->X->e + i, MPFR_RNDN);
            mpfr_fma(T->X->e + i, ref_opt_real(o, "beta1"), d, T->X->e + i, MPFR_RNDN);
        }
        REF_TMP_CLEAR(d);
    } else {
        mpmat_set(T->X, M);
    }
    if (var == DEVA_SIGN || var == DEVA_FACT)
        for (size_t i = 0; i < o->m * o->n; i++)
            mpfr_set_si(T->X->e + i, mpfr_sgn(T->X->e + i), MPFR_RNDN); /* sign(0) = +0 */
    int bf16 = strcmp(ref_opt_text(o, "ns_dtype"), "bf16") == 0;
    return ref_msign(T->X, T->X, ref_opt_text(o, "ns"), ref_opt_int(o, "ns_steps"), bf16);
}

/* Steps 8 and 9: Gamma, and T->X (O) <- U' = (0.2 sqrt(max(m, n)) O) . Gamma. */
static optref_status deva_scale(const ref_opt *o, deva_variant var, deva_tmp *T)
{
    mpmat_ptr Gamma = ref_opt_state(o, "Gamma");
    mpfr_srcptr eps = ref_opt_real(o, "eps");
    mpfr_t s, t;
    REF_TMP_INIT(o, s, t);
    optref_status st = param_parse_real(t, "0.2");
    mpfr_sqrt_ui(s, o->m > o->n ? o->m : o->n, MPFR_RNDN);
    mpfr_mul(s, t, s, MPFR_RNDN); /* 0.2 sqrt(max(m, n)) */
    int fact = var == DEVA_FACT;
    gamma_factor(T->r, fact ? ref_opt_state(o, "nu_r") : NULL, eps, t);
    gamma_factor(T->c, fact ? ref_opt_state(o, "nu_c") : NULL, eps, t);
    mpmat_srcptr V = fact ? NULL : ref_opt_state(o, "V");
    for (size_t i = 0; i < o->m; i++)
        for (size_t j = 0; j < o->n; j++) {
            mpfr_ptr g = mpmat_entry(Gamma, i, j), x = mpmat_entry(T->X, i, j);
            mpfr_mul(g, T->r->e + i, T->c->e + j, MPFR_RNDN);
            if (!fact) { /* sqrt(r_i) sqrt(c_j) / sqrt(V_ij + eps) */
                mpfr_add(t, mpmat_entry(V, i, j), eps, MPFR_RNDN);
                mpfr_sqrt(t, t, MPFR_RNDN);
                ref_div_or_zero(g, g, t); /* 0/0 = 0 (eps = 0) */
            }
            mpfr_mul(x, s, x, MPFR_RNDN);
            mpfr_mul(x, x, g, MPFR_RNDN);
        }
    REF_TMP_CLEAR(s, t);
    return st;
}

static optref_status deva_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                               deva_variant var)
{
    eigenbasis E;
    eigenbasis_get(&E, o);
    if (!eigenbasis_ready(&E))
        return eigenbasis_first_call(o, &E, G);
    deva_tmp T;
    optref_status st = tmp_init(&T, o);
    if (st == OPTREF_OK)
        st = eigenbasis_project(T.X, &E, G); /* 1 */
    unsigned long k = st == OPTREF_OK ? eigenbasis_count(&E) : 0; /* 2 */
    if (st == OPTREF_OK)
        st = deva_moments(o, var, &T); /* 3-5 */
    if (st == OPTREF_OK)
        st = deva_direction(o, var, &T); /* 6, 7 */
    if (st == OPTREF_OK)
        st = deva_scale(o, var, &T); /* 8, 9 */
    if (st == OPTREF_OK)
        st = eigenbasis_project_back(T.X, &E, T.X); /* 11 */
    if (st == OPTREF_OK)
        st = eigenbasis_apply_update(o, W, T.X, eta, k); /* 10, 11 (normalize), 12, 13 */
    if (st == OPTREF_OK) { /* 14 */
        mpmat_ptr M = ref_opt_state(o, "M");
        if (var == DEVA_FACT)
            st = eigenbasis_after_update(o, &E, G, M, ref_opt_state(o, "nu_r"),
                                         ref_opt_state(o, "nu_c"));
        else
            st = eigenbasis_after_update(o, &E, G, M, ref_opt_state(o, "V"),
                                         ref_opt_state(o, "V"));
    }
    tmp_clear(&T);
    return st;
}

static optref_status deva_check(const ref_opt *o)
{
    if (strcmp(ref_opt_text(o, "ns"), "polar") == 0 &&
        strcmp(ref_opt_text(o, "ns_dtype"), "bf16") == 0)
        return optref_fail(OPTREF_EINVAL, "%s: ns=polar has no bf16 model (use ns_dtype=exact)",
                           o->info->name);
    return OPTREF_OK;
}

#define DEVA_ENTRY(ident, nm, var, src, st)                                                   \
    static optref_status ident##_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G,               \
                                      mpfr_srcptr eta, const ref_oracle *oracle)             \
    {                                                                                         \
        (void)oracle;                                                                         \
        return deva_step(o, W, G, eta, var);                                                  \
    }                                                                                         \
    const optimizer_info ident = {                                                            \
        .name = nm,                                                                           \
        .source = src,                                                                        \
        .hyper = deva_hyper,                                                                  \
        .nhyper = sizeof deva_hyper / sizeof deva_hyper[0],                                   \
        .state = st,                                                                          \
        .nstate = sizeof st / sizeof st[0],                                                   \
        .check = deva_check,                                                                  \
        .ref_step = ident##_step,                                                             \
    }

DEVA_ENTRY(opt_deva_sinf, "deva-sinf", DEVA_PLAIN,
           "Decoupled-Variance-Adaptation optimizers/deva.py DeVASchattenNorm", deva_state);
DEVA_ENTRY(opt_deva_sinf_sign, "deva-sinf-sign", DEVA_SIGN,
           "Decoupled-Variance-Adaptation optimizers/deva.py DeVASchattenNormSignStablization",
           deva_state);
DEVA_ENTRY(opt_deva_sinf_ins, "deva-sinf-ins", DEVA_INS,
           "Decoupled-Variance-Adaptation optimizers/deva.py DeVASchattenNormIns (Algorithm 4)",
           deva_state);
DEVA_ENTRY(opt_deva_sinf_fact, "deva-sinf-fact", DEVA_FACT,
           "Decoupled-Variance-Adaptation optimizers/deva.py DeVASchattenNormEfficient "
           "(Algorithm 3; follows its comments: the shipped class does not run)",
           deva_fact_state);
