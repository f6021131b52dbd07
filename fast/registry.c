/* The fast backends' slots of the optimizer registry: for each optimizer,
 * its cpu64 and cpu32 step (fast/cpu/, compiled once per format). Names
 * follow the reference registry; named variants share a step function. */
#include <string.h>

#include "cpu/steps.h"
#include "fast_internal.h"

#define CPU_STEPS(fn) {fn##_64, fn##_32}

static const fast_impl impls[] = {
    {"sgd", CPU_STEPS(cpu_sgd_step)},
};

const fast_impl *fast_impl_find(const char *name)
{
    for (size_t i = 0; i < sizeof impls / sizeof impls[0]; i++)
        if (strcmp(impls[i].name, name) == 0)
            return &impls[i];
    return NULL;
}
