/* The step functions of fast/cpu/, each in a binary64 (_64) and a binary32
 * (_32) instance. One line per step function in FAST_CPU_STEPS. */
#ifndef OPTREF_FAST_CPU_STEPS_H
#define OPTREF_FAST_CPU_STEPS_H

#include "../fast_internal.h"

#define FAST_CPU_STEPS(X) \
    X(cpu_sgd_step)

#define FAST_STEP_DECL(fn)                                                                         \
    optref_status fn##_64(fast_opt *o, void *W, const void *G, double eta,                         \
                          const fast_oracle *oracle);                                              \
    optref_status fn##_32(fast_opt *o, void *W, const void *G, double eta,                         \
                          const fast_oracle *oracle);
FAST_CPU_STEPS(FAST_STEP_DECL)

#endif
