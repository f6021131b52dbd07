/* Helpers shared by the bounds of the elementwise optimizers
 * (bounds_elementwise.c, bounds_adam.c): the scalars as fast/cpu/ derives
 * them (fast/common/scalars.h) and operations the backend performs exactly.
 * proofs/conformance-elementwise.md derives each rule. Internal to
 * conformance/. */
#ifndef OPTREF_CONFORMANCE_BOUNDS_ELEMENTWISE_H
#define OPTREF_CONFORMANCE_BOUNDS_ELEMENTWISE_H

#include "bounds_families.h"

/* Initialises or clears n rerr values. */
void bound_rerrs_init(rerr_ctx *c, rerr *const *all, size_t n);
void bound_rerrs_clear(rerr *const *all, size_t n);

/* The learning rate as the backend holds it (binary64: exact; binary32: rounded). */
void bound_learning_rate(rerr_ctx *c, rerr *lr, mpfr_srcptr eta);
/* 1 - x for an exact binary64 option x, computed in binary64 and rounded
 * once to the format (e = |1 - x|). */
void bound_one_minus(rerr_ctx *c, rerr *r, const ref_opt *o, const char *name);
/* The decoupled decay factor 1 - eta lambda (binary64 product and
 * difference, rounded once); exactly 1 when lambda = 0. */
void bound_decay_factor(rerr_ctx *c, rerr *cf, mpfr_srcptr eta, const ref_opt *o);
/* beta^t by binary64 pow (within one ulp: e = 2 beta^t; exact for t <= 1). */
void bound_pow(rerr_ctx *c, rerr *p, mpfr_srcptr beta, uint64_t t);
/* The bias correction 1 - beta^t of the option `name` (pow, then a difference). */
void bound_bias_correction(rerr_ctx *c, rerr *bc, const ref_opt *o, const char *name,
                           uint64_t t);

/* rerr_mul, rerr_add and rerr_sub, except that an operation the backend
 * performs exactly adds no rounding of its own: a product with an exact
 * operand 0, 1 or -1, a sum or difference with an exact 0. */
void bound_mul(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b);
void bound_add(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b);
void bound_sub(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b);
/* lerp(a, b, w) = a + w (b - a), three operations (fast_lerp). r may alias a or b. */
void bound_lerp(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b, const rerr *w);
/* r = sign(d) x, exact in the backend (a selection: fast_signed); near the
 * discontinuity of sign (rerr_sign), the output may be x, -x or 0: e grows
 * by the jump 2 |x| / u. r may not alias d. */
void bound_signed(rerr_ctx *c, rerr *r, const rerr *x, const rerr *d);
/* r = the sum of X's entries in any order (fast/cpu/ sums in binary64):
 * e = sum e_i + (N - 1) sum |x_i| (Higham (4.4) with gamma_{N-1}). */
void bound_sum(rerr_ctx *c, rerr *r, const rerr_mat *X);

/* The scalars of one Adam step as fast_adam_scalars holds them. */
typedef struct {
    rerr beta1, c1, beta2, c2, bc1, bc2, eps;
} bound_adam_scalars;

void bound_adam_scalars_init(rerr_ctx *c, bound_adam_scalars *s, const ref_opt *o,
                             uint64_t t);
void bound_adam_scalars_clear(bound_adam_scalars *s);
/* fast_adam_moments then fast_adam_direction on one element: m and v are
 * updated in place, d = (m / bc1) / (sqrt(v / bc2) + eps) (0 / 0 = 0). */
void bound_adam_element(rerr_ctx *c, const bound_adam_scalars *s, rerr *m, rerr *v,
                        const rerr *g, rerr *d);

#endif
