/* Running error bounds that stay bounds for large input errors (level 2,
 * open loop, where a basis may be off by O(1)): rerr.h's rules are first
 * order in u e; these keep the products of input errors and bound the
 * computed values by |x| + u e_x in the operation's own rounding
 * (proofs/conformance-eigenbasis.md, "second-order terms"). With exact
 * inputs they equal rerr.h's. Internal to conformance/. */
#ifndef OPTREF_CONFORMANCE_BOUNDS_ROBUST_H
#define OPTREF_CONFORMANCE_BOUNDS_ROBUST_H

#include "rerr.h"

/* a * b: e_a |b| + (|a| + u e_a) e_b + (|a| + u e_a)(|b| + u e_b). */
void rb_mul(const rerr_ctx *c, rerr *r, const rerr *a, const rerr *b);
/* a +- b: e_a + e_b + |a +- b| + u (e_a + e_b). */
void rb_add(const rerr_ctx *c, rerr *r, const rerr *a, const rerr *b);
void rb_sub(const rerr_ctx *c, rerr *r, const rerr *a, const rerr *b);
/* a / b with 0 / 0 = 0; blow >= 0 a lower bound on the backend's |b| known
 * from the formula (eps for sqrt(V) + eps), else 0. With bl = max(|b| - u e_b,
 * blow) > 0: e = (e_a + |a / b| e_b + |a| + u e_a) / bl; bl = 0: the quotient
 * is unbounded (a huge bound, counted near). */
void rb_div(rerr_ctx *c, rerr *r, const rerr *a, const rerr *b, double blow);
/* C = op(A) op(B) (ta, tb: transposed), inner dimension k:
 * e_A |B| + (|A| + u e_A) e_B + k (|A| + u e_A)(|B| + u e_B). */
optref_status rb_mat_mul(const rerr_ctx *c, rerr_mat *C, const rerr_mat *A, const rerr_mat *B,
                         int ta, int tb);

#endif
