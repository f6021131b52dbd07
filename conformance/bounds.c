/* The table of step bounds, and the helpers bound functions share. Each
 * family's bounds live in conformance/bounds_<family>.c; thresholds are
 * derived in proofs/conformance-running-error.md. */
#include "bounds.h"

#include <string.h>

#include "bounds_families.h"
#include "optref/conform.h"

static const bound_entry bounds[] = {
    {"sgd", bound_sgd, BOUND_THRESHOLD_ELEMENTWISE},
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
