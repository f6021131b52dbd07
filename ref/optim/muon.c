/* muon (KellerJordan/Muon muon.py) and its named variants, spec/optimizers.md
 * section 2:
 * 1. M <- lerp(M, G, 1 - mu).
 * 2. D <- lerp(G, M, mu) if nesterov else M.
 * 3. O <- msign(D) (spec 1.1, ref/optim/msign.c).
 * 4. s = sqrt(max(1, m/n)) (scale=keller), sqrt(max(m, n)) (deva),
 *    0.2 sqrt(max(m, n)) (rms).
 * 5. W <- W (1 - eta lambda) - eta s O.
 * Variants (own registry entries, one step function, different defaults):
 * muon-deva (ns-deva, scale deva, nesterov false), muon-torch (ns-torch,
 * lr 1e-3, weight_decay 0.1), muon-polar (polar).
 * Rounding (docs/reference-arithmetic.md, docs/optimizers/muon.md):
 * lerp(a, b, w) = fma(w, b - a, a); 1 - mu and s one rounding each; step 5
 * as the sources: W <- W (1 - eta lambda) (ref_decay_decoupled: the factor
 * one fused rounding, then one rounding per entry), then muon, muon-deva
 * and muon-polar scale the update, U = s O (one rounding; in the bf16 model
 * bf16(bf16(s) O)), and W <- fma(-eta, U, W); muon-torch scales the
 * learning rate (torch's adjusted_lr): eta' = eta s, W <- fma(-eta', O, W). */
#include <string.h>

#include "adam_moments.h"
#include "msign.h"
#include "optim_internal.h"

#define MUON_HYPER(LR, WD, NESTEROV, NS, SCALE)                                                 \
    {                                                                                           \
        {"lr", PARAM_REAL, LR, "0", NULL, 0, NULL, "learning rate"},                            \
        {"momentum", PARAM_REAL, "0.95", "0", "1", PARAM_MAX_OPEN, NULL,                        \
         "momentum mu: M <- lerp(M, G, 1 - mu)"},                                               \
        {"nesterov", PARAM_BOOL, NESTEROV, NULL, NULL, 0, NULL,                                 \
         "orthogonalise lerp(G, M, mu) instead of M"},                                          \
        {"weight_decay", PARAM_REAL, WD, "0", NULL, 0, NULL,                                    \
         "decoupled weight decay lambda: W <- W (1 - eta lambda)"},                             \
        {"ns", PARAM_CHOICE, NS, NULL, NULL, 0, MSIGN_CHOICES, "msign method (spec 1.1)"},      \
        {"ns_steps", PARAM_INT, "5", "1", NULL, 0, NULL, "Newton-Schulz iterations"},           \
        {"ns_dtype", PARAM_CHOICE, "exact", NULL, NULL, 0, "exact|bf16",                        \
         "msign arithmetic: exact, or the bf16 model of spec 1.1"},                             \
        {"scale", PARAM_CHOICE, SCALE, NULL, NULL, 0, "keller|deva|rms",                        \
         "update scale s: sqrt(max(1, m/n)), sqrt(max(m, n)) or 0.2 sqrt(max(m, n))"},          \
    }

static const param_spec muon_hyper[] = MUON_HYPER("0.02", "0", "true", "ns-keller", "keller");
static const param_spec muon_deva_hyper[] = MUON_HYPER("0.02", "0", "false", "ns-deva", "deva");
static const param_spec muon_torch_hyper[] =
    MUON_HYPER("1e-3", "0.1", "true", "ns-torch", "keller");
static const param_spec muon_polar_hyper[] = MUON_HYPER("0.02", "0", "true", "polar", "keller");

static const state_spec muon_state[] = {
    {"M", STATE_PARAM, INIT_ZERO, "momentum buffer"},
};

static int uses_bf16(const ref_opt *o)
{
    return strcmp(ref_opt_text(o, "ns_dtype"), "bf16") == 0;
}

static optref_status muon_check(const ref_opt *o)
{
    if (uses_bf16(o) && strcmp(ref_opt_text(o, "ns"), "polar") == 0)
        return optref_fail(OPTREF_EINVAL, "%s: ns=polar has no bf16 model (use ns_dtype=exact)",
                           o->info->name);
    return OPTREF_OK;
}

/* Step 4: s at the working precision. */
static void muon_scale(mpfr_ptr s, const ref_opt *o)
{
    const char *scale = ref_opt_text(o, "scale");
    size_t big = o->m > o->n ? o->m : o->n;
    if (strcmp(scale, "keller") == 0) {
        if (o->m <= o->n) {
            mpfr_set_ui(s, 1, MPFR_RNDN);
            return;
        }
        mpfr_set_ui(s, (unsigned long)o->m, MPFR_RNDN);
        mpfr_div_ui(s, s, (unsigned long)o->n, MPFR_RNDN);
        mpfr_sqrt(s, s, MPFR_RNDN);
        return;
    }
    mpfr_sqrt_ui(s, (unsigned long)big, MPFR_RNDN);
    if (strcmp(scale, "rms") == 0) {
        mpfr_t f;
        mpfr_init2(f, 64);
        param_parse_real(f, "0.2");
        mpfr_mul(s, f, s, MPFR_RNDN);
        mpfr_clear(f);
    }
}

/* Steps 1 and 2: M and D (both at the working precision). */
static void muon_momentum(ref_opt *o, mpmat_ptr D, mpmat_srcptr G)
{
    mpfr_srcptr mu = ref_opt_real(o, "momentum");
    int nesterov = ref_opt_bool(o, "nesterov");
    mpmat_ptr M = ref_opt_state(o, "M");
    mpfr_t w, diff;
    REF_TMP_INIT(o, w, diff);
    mpfr_ui_sub(w, 1, mu, MPFR_RNDN);
    for (size_t k = 0; k < o->m * o->n; k++) {
        mpfr_sub(diff, G->e + k, M->e + k, MPFR_RNDN);
        mpfr_fma(M->e + k, w, diff, M->e + k, MPFR_RNDN); /* lerp(M, G, 1 - mu) */
        if (nesterov) {
            mpfr_sub(diff, M->e + k, G->e + k, MPFR_RNDN);
            mpfr_fma(D->e + k, mu, diff, G->e + k, MPFR_RNDN); /* lerp(G, M, mu) */
        } else {
            mpfr_set(D->e + k, M->e + k, MPFR_RNDN);
        }
    }
    REF_TMP_CLEAR(w, diff);
}

/* Step 5 (see the header comment for the association). */
static void muon_apply(ref_opt *o, mpmat_ptr W, mpmat_srcptr O, mpfr_srcptr eta)
{
    int on_lr = o->info == &opt_muon_torch, bf16 = uses_bf16(o);
    mpfr_t s, neg, u;
    REF_TMP_INIT(o, s, neg, u);
    muon_scale(s, o);
    ref_decay_decoupled(o, W, eta, ref_opt_real(o, "weight_decay"));
    if (on_lr)
        mpfr_mul(neg, eta, s, MPFR_RNDN); /* adjusted_lr = lr * s */
    else
        mpfr_set(neg, eta, MPFR_RNDN);
    mpfr_neg(neg, neg, MPFR_RNDN);
    if (bf16 && !on_lr) /* update *= s on a bf16 tensor: s rounded to bf16 */
        optref_round_format(s, s, OPTREF_BFLOAT16);
    for (size_t k = 0; k < o->m * o->n; k++) {
        if (on_lr) {
            mpfr_set(u, O->e + k, MPFR_RNDN);
        } else {
            mpfr_mul(u, s, O->e + k, MPFR_RNDN); /* exact in the bf16 model (16 bits) */
            if (bf16)
                optref_round_format(u, u, OPTREF_BFLOAT16);
        }
        mpfr_fma(W->e + k, neg, u, W->e + k, MPFR_RNDN);
    }
    REF_TMP_CLEAR(s, neg, u);
}

static optref_status muon_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                               const ref_oracle *oracle)
{
    (void)oracle;
    mpmat_t D;
    optref_status st = mpmat_init(D, o->m, o->n, o->prec);
    if (st != OPTREF_OK)
        return st;
    muon_momentum(o, D, G);
    st = ref_msign(D, D, ref_opt_text(o, "ns"), ref_opt_int(o, "ns_steps"), uses_bf16(o));
    if (st == OPTREF_OK)
        muon_apply(o, W, D, eta);
    else
        st = optref_fail(st, "%s: %s", o->info->name, optref_last_error());
    mpmat_clear(D);
    return st;
}

#define MUON_ENTRY(NAME, SOURCE, HYPER)                                                         \
    {                                                                                           \
        .name = NAME, .source = SOURCE, .hyper = HYPER,                                         \
        .nhyper = sizeof HYPER / sizeof HYPER[0], .state = muon_state,                          \
        .nstate = sizeof muon_state / sizeof muon_state[0], .check = muon_check,              \
        .ref_step = muon_step,                                                                  \
    }

const optimizer_info opt_muon =
    MUON_ENTRY("muon", "KellerJordan/Muon muon.py (Muon, SingleDeviceMuon)", muon_hyper);
const optimizer_info opt_muon_deva =
    MUON_ENTRY("muon-deva", "Tsedao/Decoupled-Variance-Adaptation optimizers/muon.py "
               "(SingleDeviceMuon)", muon_deva_hyper);
const optimizer_info opt_muon_torch =
    MUON_ENTRY("muon-torch", "torch.optim.Muon (adjust_lr_fn original, use_addmm false)",
               muon_torch_hyper);
const optimizer_info opt_muon_polar =
    MUON_ENTRY("muon-polar", "Muon with the exact polar factor (the theoretical msign)",
               muon_polar_hyper);
