/* Running error bounds (Wilkinson; Higham, "Accuracy and Stability of
 * Numerical Algorithms", 2nd ed., section 3.3), evaluated by the reference.
 *
 * An rerr is a value v, computed exactly (at the reference's working
 * precision), and a bound e >= 0 such that a backend of unit roundoff u that
 * evaluates the same formula in its format returns a value within u e of v.
 * Every operation adds the propagated bounds of its operands and, for its
 * own rounding, the largest magnitude the computed result may have (|x|
 * written for |x| + u e_x, the magnitude bound of an operand):
 *   a + b:   e_a + e_b + |a + b| + u (e_a + e_b)
 *   a b:     e_a |b| + |a| e_b + |a| |b|
 *   a / b:   (e_a + |a / b| e_b + |a|) / (|b| - u e_b)
 *   sqrt a:  min(e_a / (2 sqrt a), sqrt(e_a / u)) + sqrt a
 * With exact inputs these are Wilkinson's first-order rules; the extra terms
 * keep them bounds when the inputs' errors are large (open-loop trajectories,
 * where an earlier sign decided near zero carries its jump).
 * This is "the same formula evaluated on absolute values" of
 * spec/conformance.md 2; proofs/conformance-running-error.md derives it and
 * the thresholds built on it. A comparison or a sign whose argument lies
 * within its own bound (|v| <= u e) may go either way in the backend: the
 * result carries the whole jump in its bound and the operation is counted as
 * near a discontinuity. */
#ifndef OPTREF_CONFORMANCE_RERR_H
#define OPTREF_CONFORMANCE_RERR_H

#include <mpfr.h>

#include "optref/mpmat.h"

typedef struct {
    mpfr_prec_t prec;    /* working precision of values and bounds */
    optref_format fmt;   /* the backend's format */
    mpfr_t u;            /* the backend's unit roundoff */
    unsigned long near;  /* operations near a discontinuity so far */
} rerr_ctx;

typedef struct {
    mpfr_t v, e;
} rerr;

void rerr_ctx_init(rerr_ctx *c, mpfr_prec_t prec, optref_format fmt);
void rerr_ctx_clear(rerr_ctx *c);

void rerr_init(const rerr_ctx *c, rerr *x);
void rerr_clear(rerr *x);

/* An input the backend holds exactly (e = 0). */
void rerr_exact(rerr *x, mpfr_srcptr v);
void rerr_exact_d(rerr *x, double v);
/* A value the backend holds rounded once to its format (e = |v|): the
 * scalars computed in binary64 and rounded to binary32, the learning rate. */
void rerr_rounded(const rerr_ctx *c, rerr *x, mpfr_srcptr v);
void rerr_copy(rerr *r, const rerr *a);

void rerr_add(const rerr_ctx *c, rerr *r, const rerr *a, const rerr *b);
void rerr_sub(const rerr_ctx *c, rerr *r, const rerr *a, const rerr *b);
void rerr_mul(const rerr_ctx *c, rerr *r, const rerr *a, const rerr *b);
/* A denominator whose magnitude may reach zero gives an infinite bound
 * (counted near a discontinuity). */
void rerr_div(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b);
/* a / b where the formula guarantees |b| >= lower in the backend (eps in
 * sqrt(V) + eps): the denominator's magnitude is at least max(|b| - u e_b, lower). */
void rerr_div_lower(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b, double lower);
void rerr_sqrt(const rerr_ctx *c, rerr *r, const rerr *a);
/* Exact operations: no rounding of their own. */
void rerr_neg(rerr *r, const rerr *a);
void rerr_abs(rerr *r, const rerr *a);
/* sign(a) per spec 0; near a discontinuity when |a| <= u e_a: then the
 * result may be any of -1, 0, 1 and carries the jump 2 (e = 2 / u). */
void rerr_sign(rerr_ctx *c, rerr *r, const rerr *a);
/* max(a, b) and min(a, b): the bound of the chosen operand, or, when the
 * two are within their bounds of each other, the larger bound plus their
 * difference (either may be chosen; counted as near a discontinuity). */
void rerr_max(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b);
void rerr_min(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b);
/* a / b with 0 / 0 = 0 (the reference's decision for eps = 0). */
void rerr_div0(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b);

/* ---- matrices of rerr ---- */

typedef struct {
    mpmat_t v, e;
} rerr_mat;

optref_status rerr_mat_init(const rerr_ctx *c, rerr_mat *X, size_t rows, size_t cols);
void rerr_mat_clear(rerr_mat *X);
/* An exact input matrix (e = 0). */
void rerr_mat_exact(rerr_mat *X, mpmat_srcptr A);
/* C = A B as a BLAS product: any summation order, so the rounding term is
 * the standard gamma_k |A||B| with k the inner dimension (Higham 3.5), plus
 * the propagated e_A |B| + |A| e_B. */
optref_status rerr_mat_mul(const rerr_ctx *c, rerr_mat *C, const rerr_mat *A, const rerr_mat *B);
optref_status rerr_mat_mul_tn(const rerr_ctx *c, rerr_mat *C, const rerr_mat *A, const rerr_mat *B);
optref_status rerr_mat_mul_nt(const rerr_ctx *c, rerr_mat *C, const rerr_mat *A, const rerr_mat *B);
/* C = op(A) op(B) with op transposing when ta (tb) is set; not both. */
optref_status rerr_mat_mul_op(const rerr_ctx *c, rerr_mat *C, const rerr_mat *A,
                              const rerr_mat *B, int ta, int tb);
/* Entry access as an rerr (copies in and out). */
void rerr_mat_get(rerr *x, const rerr_mat *X, size_t i, size_t j);
void rerr_mat_set(rerr_mat *X, size_t i, size_t j, const rerr *x);

#endif
