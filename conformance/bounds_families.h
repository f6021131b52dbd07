/* The bound functions of each family (conformance/bounds_<family>.c). */
#ifndef OPTREF_CONFORMANCE_BOUNDS_FAMILIES_H
#define OPTREF_CONFORMANCE_BOUNDS_FAMILIES_H

#include "bounds.h"

/* Elementwise formulas evaluated in the backend's order of operations: the
 * first-order running bound is <= 1 (in units of u e); a backend that
 * associates a two- or three-term sum differently, or contracts into an fma,
 * stays within 2 of it; second-order terms are O(k u) (proofs/conformance-
 * running-error.md). */
#define BOUND_THRESHOLD_ELEMENTWISE 4.0

optref_status bound_sgd(rerr_ctx *c, const bound_input *in, rerr_mat *out);

#endif
