/* Pieces shared by the step bounds of the eigenbasis optimizers
 * (bounds_eigenbasis.c: soap, shampoo; bounds_deva.c: the deva-sinf family):
 * the machinery of spec/optimizers.md 1.2 on rerr values. Internal to
 * conformance/. */
#ifndef OPTREF_CONFORMANCE_BOUNDS_EIGENBASIS_H
#define OPTREF_CONFORMANCE_BOUNDS_EIGENBASIS_H

#include "bounds_families.h"

/* Where an optimizer keeps the machinery's tensors (state indices): M, the
 * moments permuted along rows and columns on a refresh (V twice, or nu_r
 * and nu_c), and L (followed by R, Q_L, Q_R, basis_ready, k). */
typedef struct {
    size_t iM, irow, icol, iL;
} eb_layout;

/* Y := X (values and bounds). */
void bound_eb_copy(rerr_mat *Y, const rerr_mat *X);
/* A scalar computed in binary64, rounded once to the format (binary32: e += |x|). */
void bound_eb_to_format(const rerr_ctx *c, rerr *x);
/* 1 - x of an exact binary64 option, computed in binary64, rounded to the format. */
void bound_eb_one_minus(rerr_ctx *c, rerr *r, const ref_opt *o, const char *name);

/* The first call: W and the other tensors unchanged, the factors updated,
 * the canonical bases (bound_eigh_canonical), basis_ready = 1. */
optref_status bound_eb_first_call(rerr_ctx *c, const bound_input *in, rerr_mat *out,
                                  const eb_layout *L);
/* Y = project(X) (back: project_back) with the bases QL, QR (0 x 0: skipped). */
optref_status bound_eb_project(rerr_ctx *c, rerr_mat *Y, const rerr_mat *QL, const rerr_mat *QR,
                               const rerr_mat *X, int back);
/* The update tail on W (holding the input W): normalize_grads on U, W - eta' U,
 * W - (eta lambda) W. */
optref_status bound_eb_apply_update(rerr_ctx *c, const bound_input *in, rerr_mat *W,
                                    rerr_mat *U, unsigned long k);
/* (a)-(d) with M the updated first moment (in the rotated basis); writes
 * out's M, L, R, Q_L, Q_R, and permutes out's row / column moments (already
 * holding this step's values) on a refresh (k mod f = 0). */
optref_status bound_eb_after_update(rerr_ctx *c, const bound_input *in, rerr_mat *out,
                                    const eb_layout *L, rerr_mat *M, unsigned long k);

#endif
