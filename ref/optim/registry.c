/* The optimizer registry: the table behind `optref list optimizers`. The
 * order is the listing order. */
#include <string.h>

#include "optim_internal.h"
#include "optref/optimizer.h"

static const optimizer_info *const registry[] = {
    &opt_sgd,
    &opt_signsgd,
    &opt_adam,
    &opt_adamw,
    &opt_adagrad,
    &opt_lion,
    &opt_stableadamw,
    &opt_orthoadam,
    &opt_muon,
    &opt_muon_deva,
    &opt_muon_torch,
    &opt_muon_polar,
    &opt_adamuon,
    &opt_deva_linf,
    &opt_soap,
    &opt_deva_sinf,
    &opt_deva_sinf_sign,
    &opt_deva_sinf_ins,
    &opt_deva_sinf_fact,
    &opt_asm,
    &opt_sophia,
    &opt_shampoo,
    &opt_smi,
    &opt_sam,
};

size_t optimizer_count(void)
{
    return sizeof registry / sizeof registry[0];
}

const optimizer_info *optimizer_info_at(size_t i)
{
    return i < optimizer_count() ? registry[i] : NULL;
}

const optimizer_info *optimizer_info_find(const char *name)
{
    for (size_t i = 0; i < optimizer_count(); i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

size_t optimizer_state_index(const optimizer_info *info, const char *name)
{
    for (size_t i = 0; i < info->nstate; i++)
        if (strcmp(info->state[i].name, name) == 0)
            return i;
    return info->nstate;
}

optref_status ref_opt_substep(ref_opt *base, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                              const ref_oracle *oracle)
{
    base->t += 1;
    return base->info->ref_step(base, W, G, eta, oracle);
}
