/* The running error bound of one step of each optimizer (conformance/rerr.h):
 * the step's formula re-evaluated on rerr values, from the exact (already
 * rounded) inputs of a teacher-forced step. Internal to conformance/. */
#ifndef OPTREF_CONFORMANCE_BOUNDS_H
#define OPTREF_CONFORMANCE_BOUNDS_H

#include "optref/fast.h"
#include "rerr.h"

/* The inputs of one step. Values are the reference's; each carries the bound
 * of what the backend may hold instead: zero in a teacher-forced step
 * (level 1: the inputs are the rounded teacher state, exactly representable),
 * the previous step's output bounds in an open-loop trajectory (level 2).
 * Bound functions read every input through these rerr matrices. */
typedef struct {
    const ref_opt *in;     /* options, and t: in->t steps done before this one */
    const rerr_mat *W;     /* the parameter */
    const rerr_mat *G;     /* the gradient */
    const rerr_mat *state; /* the state tensors in the order of out[1..] below */
    mpfr_srcptr eta;       /* the learning rate, a binary64 value */
    const rerr_mat *G2;    /* SAM's gradient at W + E, or NULL */
    const rerr_mat *HU;    /* Sophia's H u, or NULL */
    rerr_mat *query;       /* out, when not NULL: the point where the backend asks the
                            * oracle for G2 (SAM's W + E), compared as its own tensor */
    uint64_t seed;         /* the oracle's seed (Sophia's probes are drawn from it) */
} bound_input;

/* Fills out[0] (W after the step) and out[1 + i] (state tensor i after the
 * step; a wrapper's base's tensors follow its own), each initialised by the
 * caller at its shape. out may not alias the inputs. */
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
