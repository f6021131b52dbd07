/* The table of step bounds, and the helpers bound functions share. Each
 * family's bounds live in conformance/bounds_<family>.c; thresholds are
 * derived in proofs/conformance-running-error.md. */
#include "bounds.h"

#include <string.h>

#include "bounds_families.h"
#include "optref/conform.h"

static const bound_entry bounds[] = {
    {"sgd", bound_sgd, BOUND_THRESHOLD_ELEMENTWISE},
    {"soap", bound_soap, BOUND_THRESHOLD_EIGENBASIS},
    {"shampoo", bound_shampoo, BOUND_THRESHOLD_EIGENBASIS},
    {"deva-sinf", bound_deva_sinf, BOUND_THRESHOLD_EIGENBASIS},
    {"deva-sinf-sign", bound_deva_sinf, BOUND_THRESHOLD_EIGENBASIS},
    {"deva-sinf-ins", bound_deva_sinf, BOUND_THRESHOLD_EIGENBASIS},
    {"deva-sinf-fact", bound_deva_sinf, BOUND_THRESHOLD_EIGENBASIS},
    {"signsgd", bound_signsgd, BOUND_THRESHOLD_ELEMENTWISE},
    {"adam", bound_adam, BOUND_THRESHOLD_ELEMENTWISE},
    {"adamw", bound_adam, BOUND_THRESHOLD_ELEMENTWISE},
    {"adagrad", bound_adagrad, BOUND_THRESHOLD_ELEMENTWISE},
    {"lion", bound_lion, BOUND_THRESHOLD_ELEMENTWISE},
    {"stableadamw", bound_stableadamw, BOUND_THRESHOLD_ELEMENTWISE},
    {"orthoadam", bound_orthoadam, BOUND_THRESHOLD_ELEMENTWISE},
    {"deva-linf", bound_deva_linf, BOUND_THRESHOLD_ELEMENTWISE},
    {"asm", bound_asm, BOUND_THRESHOLD_ELEMENTWISE},
    {"sophia", bound_sophia, BOUND_THRESHOLD_ELEMENTWISE},
    {"smi", bound_smi, BOUND_THRESHOLD_WRAPPER},
    {"sam", bound_sam, BOUND_THRESHOLD_WRAPPER},
    {"muon", bound_muon, BOUND_THRESHOLD_MUON},
    {"muon-deva", bound_muon, BOUND_THRESHOLD_MUON},
    {"muon-torch", bound_muon, BOUND_THRESHOLD_MUON},
    {"muon-polar", bound_muon, BOUND_THRESHOLD_MUON},
    {"adamuon", bound_adamuon, BOUND_THRESHOLD_MUON},
};

const bound_entry *bound_find(const char *opt)
{
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++)
        if (strcmp(bounds[i].opt, opt) == 0)
            return &bounds[i];
    return NULL;
}

int conform_has_bound(const char *opt)
{
    return bound_find(opt) != NULL;
}

void bound_option(const rerr_ctx *c, rerr *x, const ref_opt *o, const char *name)
{
    if (c->fmt == OPTREF_BINARY64)
        rerr_exact(x, ref_opt_real(o, name));
    else
        rerr_rounded(c, x, ref_opt_real(o, name));
}

void bound_option_exact(rerr *x, const ref_opt *o, const char *name)
{
    rerr_exact(x, ref_opt_real(o, name));
}
