/* Perturbation bounds of the spectral steps of the eigenbasis optimizers
 * (spec/conformance.md 3; proofs/conformance-eigenbasis.md): each function
 * computes the reference's value (the same kernel the reference calls, on
 * the values of its rerr inputs) and, for each output entry, the bound e of
 * what a fast backend (syevd, geqrf/orgqr, the canonical rules of spec 1.2
 * at tol = sqrt(u) ||P||_F) may return instead, in units of u. Where the
 * backend may take another branch of a discontinuous rule (a cluster or a
 * dropped column at the edge of its tolerance, a tie of the sign rule, a
 * gap too small for the bound to stay below O(1)) the affected columns get
 * the full jump (any unit vector: e = WILD / u) and are counted in c->near.
 * Internal to conformance/. */
#ifndef OPTREF_CONFORMANCE_BOUNDS_SPECTRAL_H
#define OPTREF_CONFORMANCE_BOUNDS_SPECTRAL_H

#include "rerr.h"

/* Q (n x n) = the canonical eigenvectors of P (mpmat_eigh), e(Q) from
 * Davis-Kahan with the backend's error ||dP||_2 <= u (||e_P||_F + n ||P||_F)
 * (the input's bound and syevd's backward error). */
optref_status bound_eigh_canonical(rerr_ctx *c, rerr_mat *Q, const rerr_mat *P);

/* Q (n x n) = eigenbasis_qr_canonical(A, tol_ref) with tol_ref =
 * 2^(-p/2) ||P||_F of the reference; the backend's tolerance is
 * sqrt(u) ||P||_F, pnorm = ||P||_F and pnorm_e its bound (units of u).
 * e(Q) from the columnwise QR perturbation bound (Sun 1991) of A's kept
 * columns (input bound plus Householder's backward error n ||a_j|| u) and
 * the Gram-Schmidt amplification of the completion. status (n entries, may be
 * NULL) receives each column's QR_KEPT, QR_DROPPED or QR_FREE. */
optref_status bound_qr_canonical(rerr_ctx *c, rerr_mat *Q, const rerr_mat *A, mpfr_srcptr pnorm,
                                 mpfr_srcptr pnorm_e, unsigned char *status);
/* status[j] of bound_qr_canonical (when not NULL): column j kept by both, dropped
 * by both (completed), or free. */
enum { QR_KEPT, QR_DROPPED, QR_FREE };

/* F = mpmat_sym_inv_root(P, 4, eps) = Q diag((max(lambda, 0) + eps)^(-1/4)) Q^T
 * with the Daleckii-Krein bound: |Q| (D o (|Q|^T e_P |Q| + n ||P||_F)) |Q|^T,
 * D the Lipschitz constants of the root between each pair of eigenvalues
 * widened by their error, plus the rounding of the backend's assembly. expo
 * is 4 (Shampoo). eps_e: the bound of eps as the backend holds it. */
optref_status bound_sym_inv_root(rerr_ctx *c, rerr_mat *F, const rerr_mat *P, const rerr *eps);

/* Marks columns [j0, n) of Q (and their entries) as free: any unit vector. */
void bound_columns_wild(rerr_ctx *c, rerr_mat *Q, size_t j0);
/* Marks column j of Q as free. */
void bound_columns_wild_one(rerr_ctx *c, rerr_mat *Q, size_t j);

#endif
