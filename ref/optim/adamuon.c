/* adamuon (DeVA optimizers/adamuon.py, Algorithm 1 of arXiv 2507.11005),
 * spec/optimizers.md section 2:
 * 1. M <- beta1 M + G (sum form, no 1 - beta1).
 * 2. O <- msign(sign(M)).
 * 3. V <- lerp(V, O.O, 1 - beta2).
 * 4. O <- O / (sqrt(V) + eps).
 * 5. s = 0.2 sqrt(m n) / ||O||_F; the update is zero when O = 0 [decision:
 *    the source produces NaN].
 * 6. W <- W (1 - eta lambda) - eta s O.
 * Rounding (docs/reference-arithmetic.md, docs/optimizers/muon.md): step 1
 * is fma(beta1, M, G); sign is exact; O.O one rounding per entry (in the
 * bf16 model bf16(O.O), the source's bf16 product); lerp(a, b, w) =
 * fma(w, b - a, a); step 4: sqrt, add, divide, one rounding each, with 0/0
 * (eps = 0 and V_ij = 0, which needs O_ij = 0) taken as 0 [decision]; step
 * 5: sqrt(m n), times 0.2, ||O||_F (sumsq, sqrt), divide, one rounding each;
 * step 6 as the source: W <- W (1 - eta lambda) (ref_decay_decoupled),
 * U = s O (one rounding), W <- fma(-eta, U, W). */
#include <string.h>

#include "adam_moments.h"
#include "msign.h"
#include "optim_internal.h"

static const param_spec adamuon_hyper[] = {
    {"lr", PARAM_REAL, "0.02", "0", NULL, 0, NULL, "learning rate"},
    {"beta1", PARAM_REAL, "0.95", "0", "1", PARAM_MAX_OPEN, NULL,
     "momentum: M <- beta1 M + G (sum form)"},
    {"beta2", PARAM_REAL, "0.95", "0", "1", PARAM_MAX_OPEN, NULL,
     "second moment: V <- lerp(V, O.O, 1 - beta2)"},
    {"eps", PARAM_REAL, "1e-8", "0", NULL, 0, NULL, "added to sqrt(V)"},
    {"weight_decay", PARAM_REAL, "0", "0", NULL, 0, NULL,
     "decoupled weight decay lambda: W <- W (1 - eta lambda)"},
    {"ns", PARAM_CHOICE, "ns-deva", NULL, NULL, 0, MSIGN_CHOICES, "msign method (spec 1.1)"},
    {"ns_steps", PARAM_INT, "5", "1", NULL, 0, NULL, "Newton-Schulz iterations"},
    {"ns_dtype", PARAM_CHOICE, "exact", NULL, NULL, 0, "exact|bf16",
     "msign and O.O arithmetic: exact, or the bf16 model of spec 1.1"},
};

static const state_spec adamuon_state[] = {
    {"M", STATE_PARAM, INIT_ZERO, "momentum (sum form)"},
    {"V", STATE_PARAM, INIT_ZERO, "second moment of the orthogonalised momentum"},
};

static int uses_bf16(const ref_opt *o)
{
    return strcmp(ref_opt_text(o, "ns_dtype"), "bf16") == 0;
}

static optref_status adamuon_check(const ref_opt *o)
{
    if (uses_bf16(o) && strcmp(ref_opt_text(o, "ns"), "polar") == 0)
        return optref_fail(OPTREF_EINVAL, "adamuon: ns=polar has no bf16 model (use "
                           "ns_dtype=exact)");
    return OPTREF_OK;
}

/* Steps 3 and 4: V updated, O normalised in place. */
static void adamuon_second_moment(ref_opt *o, mpmat_ptr O)
{
    mpfr_srcptr beta2 = ref_opt_real(o, "beta2"), eps = ref_opt_real(o, "eps");
    mpmat_ptr V = ref_opt_state(o, "V");
    int bf16 = uses_bf16(o);
    mpfr_t w, oo, den;
    REF_TMP_INIT(o, w, oo, den);
    mpfr_ui_sub(w, 1, beta2, MPFR_RNDN);
    for (size_t k = 0; k < o->m * o->n; k++) {
        mpfr_ptr v = V->e + k, x = O->e + k;
        mpfr_sqr(oo, x, MPFR_RNDN); /* exact in the bf16 model (16 bits) */
        if (bf16)
            optref_round_format(oo, oo, OPTREF_BFLOAT16);
        mpfr_sub(oo, oo, v, MPFR_RNDN);
        mpfr_fma(v, w, oo, v, MPFR_RNDN); /* lerp(V, O.O, 1 - beta2) */
        mpfr_sqrt(den, v, MPFR_RNDN);
        mpfr_add(den, den, eps, MPFR_RNDN);
        ref_div_or_zero(x, x, den); /* 0/0 = 0 [decision] */
    }
    REF_TMP_CLEAR(w, oo, den);
}

/* Steps 5 and 6. */
static void adamuon_apply(ref_opt *o, mpmat_ptr W, mpmat_srcptr O, mpfr_srcptr eta)
{
    mpfr_t s, nrm, f, u, neg;
    REF_TMP_INIT(o, s, nrm, f, u, neg);
    ref_decay_decoupled(o, W, eta, ref_opt_real(o, "weight_decay"));
    mpmat_norm_fro(nrm, O);
    if (!mpfr_zero_p(nrm)) { /* O = 0: no update [decision] */
        mpfr_set_ui(s, (unsigned long)o->m, MPFR_RNDN);
        mpfr_mul_ui(s, s, (unsigned long)o->n, MPFR_RNDN); /* exact: m n < 2^28 */
        mpfr_sqrt(s, s, MPFR_RNDN);
        param_parse_real(f, "0.2");
        mpfr_mul(s, f, s, MPFR_RNDN);
        mpfr_div(s, s, nrm, MPFR_RNDN);
        mpfr_neg(neg, eta, MPFR_RNDN);
        for (size_t k = 0; k < o->m * o->n; k++) {
            mpfr_mul(u, O->e + k, s, MPFR_RNDN); /* update = O_t * scaling */
            mpfr_fma(W->e + k, neg, u, W->e + k, MPFR_RNDN);
        }
    }
    REF_TMP_CLEAR(s, nrm, f, u, neg);
}

static optref_status adamuon_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                                  const ref_oracle *oracle)
{
    (void)oracle;
    mpfr_srcptr beta1 = ref_opt_real(o, "beta1");
    mpmat_ptr M = ref_opt_state(o, "M");
    mpmat_t O;
    optref_status st = mpmat_init(O, o->m, o->n, o->prec);
    if (st != OPTREF_OK)
        return st;
    for (size_t k = 0; k < o->m * o->n; k++) {
        mpfr_fma(M->e + k, beta1, M->e + k, G->e + k, MPFR_RNDN); /* beta1 M + G */
        mpfr_set_si(O->e + k, mpfr_sgn(M->e + k), MPFR_RNDN);      /* sign(M) */
    }
    st = ref_msign(O, O, ref_opt_text(o, "ns"), ref_opt_int(o, "ns_steps"), uses_bf16(o));
    if (st == OPTREF_OK) {
        adamuon_second_moment(o, O);
        adamuon_apply(o, W, O, eta);
    } else {
        st = optref_fail(st, "adamuon: %s", optref_last_error());
    }
    mpmat_clear(O);
    return st;
}

const optimizer_info opt_adamuon = {
    .name = "adamuon",
    .source = "Tsedao/Decoupled-Variance-Adaptation optimizers/adamuon.py (SingleDeviceAdamuon), "
              "arXiv 2507.11005 Algorithm 1",
    .hyper = adamuon_hyper,
    .nhyper = sizeof adamuon_hyper / sizeof adamuon_hyper[0],
    .state = adamuon_state,
    .nstate = sizeof adamuon_state / sizeof adamuon_state[0],
    .check = adamuon_check,
    .ref_step = adamuon_step,
};
