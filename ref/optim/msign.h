/* msign: the orthogonalisation of spec/optimizers.md 1.1, shared by the Muon
 * family, AdaMuon and the DeVA-Sinf family. Internal to ref/optim.
 *
 * Methods (the `ns` option of every optimizer that orthogonalises):
 *   ns-keller  KellerJordan/Muon:  Y = X / (||X||_F + 1e-7)
 *   ns-torch   torch.optim.Muon:   Y = X / max(||X||_F, 1e-7)
 *   ns-deva    DeVA msign:         Y = X / sqrt(||X||_F^2 + 1e-20), first
 *                                  iteration rescaled by s = (||B||_F^2 + 1e-20)^(1/8)
 *   polar      the exact polar factor U V^T (zero singular values to zero)
 * followed by `steps` quintic iterations with (a, b, c) = (3.4445, -4.7750,
 * 2.0315); every method works on X^T when m > n and transposes back.
 *
 * Two arithmetic models (docs/optimizers/muon.md has the exact order and
 * roundings of each):
 *   bf16 = 0  exact: every operation at O's precision p, one rounding each
 *             (docs/reference-arithmetic.md);
 *   bf16 = 1  spec 1.1's bf16 model: every tensor operation of the source
 *             rounded once to bfloat16; O then holds bfloat16 values exactly.
 * The bf16 model has no polar form: polar with bf16 = 1 is OPTREF_EINVAL.
 * A zero X (after the bf16 rounding of the input, in that model) gives O = 0. */
#ifndef OPTREF_MSIGN_H
#define OPTREF_MSIGN_H

#include "optref/mpmat.h"

/* The method names, in param_spec.choices form. */
#define MSIGN_CHOICES "ns-keller|ns-torch|ns-deva|polar"

/* O = msign(X). O and X are m x n (O may alias X); O's precision is the
 * working precision. steps >= 1 (unused by polar). Errors: an unknown
 * method or steps < 1 or polar with bf16 (OPTREF_EINVAL), shapes
 * (OPTREF_ESHAPE), a non-finite X or a bf16 overflow (OPTREF_ENONFINITE). */
optref_status ref_msign(mpmat_ptr O, mpmat_srcptr X, const char *ns, long steps, int bf16);

/* 1 if ns names a method above, else 0. */
int ref_msign_method_known(const char *ns);

/* ---- for tests only ---- */

/* Called with each intermediate, in order: "X" (the input after the
 * transposition, and the bf16 rounding in that model), "Y0" (normalised),
 * then per iteration "A", "B" (and for ns-deva at the first iteration the
 * scalars "s", "s2", "s4" as 1 x 1 and the rescaled "Y/s", "A/s2", "B/s4"),
 * ..., "Y" (the iterate after the step); the bf16 model also reports every
 * other rounded tensor and scalar. Nothing is traced for polar or a zero X
 * beyond "X". */
typedef void (*msign_trace_fn)(void *ctx, const char *what, mpmat_srcptr M);

typedef struct {
    mpfr_srcptr eps;      /* NULL: the method's own eps; else this one (>= 0),
                             e.g. 0 for the scale invariance of spec 3 */
    msign_trace_fn trace; /* NULL: none */
    void *trace_ctx;
} msign_hooks;

optref_status ref_msign_hooked(mpmat_ptr O, mpmat_srcptr X, const char *ns, long steps, int bf16,
                               const msign_hooks *hooks);

#endif
