/* The pieces of msign's error bound (conformance/bounds_msign.c, bounds_ns.c,
 * bounds_ns_norm.c, bounds_polar.c); internal to conformance/. Derivations:
 * proofs/conformance-muon.md. */
#ifndef OPTREF_CONFORMANCE_BOUNDS_MSIGN_H
#define OPTREF_CONFORMANCE_BOUNDS_MSIGN_H

#include <stddef.h>

#include "rerr.h"

typedef enum { NS_KELLER, NS_TORCH, NS_DEVA } ns_variant;

/* A binary64 constant as the backend holds it: exact, or rounded once (binary32). */
void msign_held_const(const rerr_ctx *c, rerr *x, double v);

/* The first-order (adjoint) bound: e[r x cc] (row-major, units of u) bounds
 * the error of each entry of the backend's Newton-Schulz output for the
 * r x cc input X (r <= cc, the wide orientation) whose entries carry input
 * errors u eX (eX may be NULL). held = 1 when the backend holds the
 * constants exactly (binary64), 2 when rounded (binary32). *near counts
 * ns-torch's max(||X||, eps) ties within their error (the jump is in e). */
optref_status ns_adjoint_bound(double *e, const double *X, const double *eX, size_t r, size_t cc,
                               ns_variant kind, long steps, double held, double u,
                               unsigned long *near);

/* Y <- Newton-Schulz(Y) (values at the context's precision: the reference's
 * formula) and *delta, a normwise bound on the Frobenius norm of the
 * backend's error (absolute, not in units of u). Y is r x cc, r <= cc. */
optref_status ns_normwise(rerr_ctx *c, rerr_mat *Y, ns_variant kind, long steps, double *delta);

/* Y <- polar(Y) with its bound (Y r x cc, r <= cc); ref_prec: the
 * reference's precision, whose zero rule decides the reference's rank. */
optref_status polar_bound(rerr_ctx *c, rerr_mat *Y, mpfr_prec_t ref_prec);

#endif
