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
/* The other elementwise optimizers (bounds_elementwise.c, bounds_adam.c,
 * bounds_asm.c; proofs/conformance-elementwise.md): the same threshold, with
 * orthoadam's products through rerr_mat_mul and asm's singular values
 * within their backward-error bound. adamw shares bound_adam. */
optref_status bound_signsgd(rerr_ctx *c, const bound_input *in, rerr_mat *out);
optref_status bound_adam(rerr_ctx *c, const bound_input *in, rerr_mat *out);
optref_status bound_adagrad(rerr_ctx *c, const bound_input *in, rerr_mat *out);
optref_status bound_lion(rerr_ctx *c, const bound_input *in, rerr_mat *out);
optref_status bound_stableadamw(rerr_ctx *c, const bound_input *in, rerr_mat *out);
optref_status bound_orthoadam(rerr_ctx *c, const bound_input *in, rerr_mat *out);
optref_status bound_deva_linf(rerr_ctx *c, const bound_input *in, rerr_mat *out);
optref_status bound_asm(rerr_ctx *c, const bound_input *in, rerr_mat *out);
optref_status bound_sophia(rerr_ctx *c, const bound_input *in, rerr_mat *out);

/* The wrappers smi and sam (conformance/bounds_wrappers.c, bounds_smi.c;
 * proofs/conformance-wrappers.md): elementwise running bounds, normwise FFT
 * bounds, mask decisions near tau accepted with their jump; the base's own
 * bound on the gradient it receives, rescaled when its threshold is larger. */
#define BOUND_THRESHOLD_WRAPPER 4.0
optref_status bound_smi(rerr_ctx *c, const bound_input *in, rerr_mat *out);
optref_status bound_sam(rerr_ctx *c, const bound_input *in, rerr_mat *out);
/* smi steps 1-7: H after the step and the G~ handed to the base. */
optref_status smi_filter_bound(rerr_ctx *c, const bound_input *in, rerr_mat *H, rerr_mat *Gt);

/* msign and the Muon family (conformance/bounds_msign.c, bounds_muon.c;
 * proofs/conformance-muon.md): Newton-Schulz by the first-order running
 * bound of all its iterations (exact sensitivities, bounds_ns.c) or a
 * normwise one (bounds_ns_norm.c), whichever is smaller; polar by the
 * polar factor's perturbation bound with gesvd's backward error
 * (bounds_polar.c); input errors above 2^-16 (sign jumps) give the jump. */
#define BOUND_THRESHOLD_MUON 4.0
optref_status bound_muon(rerr_ctx *c, const bound_input *in, rerr_mat *out);
optref_status bound_adamuon(rerr_ctx *c, const bound_input *in, rerr_mat *out);
/* O = msign(X) with ns one of ref/optim/msign.h's methods (O may alias X);
 * ref_prec: the reference's precision (polar's zero rule). */
optref_status msign_bound(rerr_ctx *c, rerr_mat *O, const rerr_mat *X, const char *ns, long steps,
                          mpfr_prec_t ref_prec);
/* r = sum of X's squares as a BLAS dot (any order): e = 2 |X|.e_X + N |X|.|X|. */
void msign_sumsq(const rerr_ctx *c, rerr *r, const rerr_mat *X);

/* The eigenbasis optimizers (conformance/bounds_eigenbasis.c, bounds_deva.c,
 * bounds_spectral.c; proofs/conformance-eigenbasis.md): running bounds of the
 * elementwise and BLAS steps; eigenvectors by Davis-Kahan with syevd's
 * backward error n ||P||_F u, the refresh's QR by the columnwise QR
 * perturbation bound, clusters and dropped columns at the edge of the
 * backend's tolerance accepted with their jump. */
#define BOUND_THRESHOLD_EIGENBASIS 4.0
optref_status bound_soap(rerr_ctx *c, const bound_input *in, rerr_mat *out);
optref_status bound_shampoo(rerr_ctx *c, const bound_input *in, rerr_mat *out);
optref_status bound_deva_sinf(rerr_ctx *c, const bound_input *in, rerr_mat *out);

#endif
