/* The running error bound of one step of each optimizer (conformance/rerr.h):
 * the step's formula re-evaluated on rerr values, from the exact (already
 * rounded) inputs of a teacher-forced step. Internal to conformance/. */
#ifndef OPTREF_CONFORMANCE_BOUNDS_H
#define OPTREF_CONFORMANCE_BOUNDS_H

#include "optref/fast.h"
#include "rerr.h"

/* The inputs of one step, exact: every value is representable in the backend's format. */
typedef struct {
    const ref_opt *in;   /* options and the state before the step; in->t steps done */
    mpmat_srcptr W, G;
    mpfr_srcptr eta;     /* the learning rate, a binary64 value */
    mpmat_srcptr G2;     /* SAM's gradient at W + E, or NULL */
    mpmat_srcptr HU;     /* Sophia's H u, or NULL */
} bound_input;

/* Fills out[0] (W after the step) and out[1 + i] (state tensor i after the
 * step; a wrapper's base's tensors follow its own), each initialised by the
 * caller at its shape. */
typedef optref_status (*bound_fn)(rerr_ctx *c, const bound_input *in, rerr_mat *out);

typedef struct {
    const char *opt;
    bound_fn fn;
    double threshold; /* derived in proofs/conformance-*.md */
} bound_entry;

const bound_entry *bound_find(const char *opt);

/* An option as the backend holds it: exact in binary64, rounded once in
 * binary32 (fast/cpu/real.h R_SCALAR). */
void bound_option(const rerr_ctx *c, rerr *x, const ref_opt *o, const char *name);
/* An option as a binary64 scalar computation uses it: exact. Scalars derived
 * in binary64 (1 - beta, beta^t) are then modelled with rerr operations at
 * the backend's u, which over-estimates their error in binary32: still a
 * bound. */
void bound_option_exact(rerr *x, const ref_opt *o, const char *name);

#endif
