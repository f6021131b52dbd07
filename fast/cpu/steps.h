/* The step functions of fast/cpu/, each in a binary64 (_64) and a binary32
 * (_32) instance. One line per step function in FAST_CPU_STEPS. */
#ifndef OPTREF_FAST_CPU_STEPS_H
#define OPTREF_FAST_CPU_STEPS_H

#include "../fast_internal.h"

#define FAST_CPU_STEPS(X) \
    X(cpu_sgd_step) \
    X(cpu_signsgd_step) \
    X(cpu_adam_step) \
    X(cpu_adagrad_step) \
    X(cpu_lion_step) \
    X(cpu_stableadamw_step) \
    X(cpu_orthoadam_step) \
    X(cpu_deva_linf_step) \
    X(cpu_asm_step) \
    X(cpu_sophia_step) \
    X(cpu_smi_step) \
    X(cpu_sam_step) \
    X(cpu_soap_step) \
    X(cpu_shampoo_step) \
    X(cpu_deva_sinf_step) \
    X(cpu_muon_step) \
    X(cpu_adamuon_step)

#define FAST_STEP_DECL(fn)                                                                         \
    optref_status fn##_64(fast_opt *o, void *W, const void *G, double eta,                         \
                          const fast_oracle *oracle);                                              \
    optref_status fn##_32(fast_opt *o, void *W, const void *G, double eta,                         \
                          const fast_oracle *oracle);
FAST_CPU_STEPS(FAST_STEP_DECL)

#endif
