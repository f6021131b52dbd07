/* The fast backends' slots of the optimizer registry: for each optimizer,
 * its cpu64 and cpu32 step (fast/cpu/, compiled once per format). Names
 * follow the reference registry; named variants share a step function. */
#include <string.h>

#include "cpu/steps.h"
#include "fast_internal.h"

#define CPU_STEPS(fn) {fn##_64, fn##_32}

static const fast_impl impls[] = {
    {"sgd", CPU_STEPS(cpu_sgd_step)},
    {"signsgd", CPU_STEPS(cpu_signsgd_step)},
    {"adam", CPU_STEPS(cpu_adam_step)},
    {"adamw", CPU_STEPS(cpu_adam_step)},
    {"adagrad", CPU_STEPS(cpu_adagrad_step)},
    {"lion", CPU_STEPS(cpu_lion_step)},
    {"stableadamw", CPU_STEPS(cpu_stableadamw_step)},
    {"orthoadam", CPU_STEPS(cpu_orthoadam_step)},
    {"deva-linf", CPU_STEPS(cpu_deva_linf_step)},
    {"asm", CPU_STEPS(cpu_asm_step)},
    {"sophia", CPU_STEPS(cpu_sophia_step)},
    {"smi", CPU_STEPS(cpu_smi_step)},
    {"sam", CPU_STEPS(cpu_sam_step)},
    {"soap", CPU_STEPS(cpu_soap_step)},
    {"shampoo", CPU_STEPS(cpu_shampoo_step)},
    {"deva-sinf", CPU_STEPS(cpu_deva_sinf_step)},
    {"deva-sinf-sign", CPU_STEPS(cpu_deva_sinf_step)},
    {"deva-sinf-ins", CPU_STEPS(cpu_deva_sinf_step)},
    {"deva-sinf-fact", CPU_STEPS(cpu_deva_sinf_step)},
    {"muon", CPU_STEPS(cpu_muon_step)},
    {"muon-deva", CPU_STEPS(cpu_muon_step)},
    {"muon-torch", CPU_STEPS(cpu_muon_step)},
    {"muon-polar", CPU_STEPS(cpu_muon_step)},
    {"adamuon", CPU_STEPS(cpu_adamuon_step)},
};

const fast_impl *fast_impl_find(const char *name)
{
    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++)
        if (strcmp(impls[i].name, name) == 0)
            return &impls[i];
    return NULL;
}
