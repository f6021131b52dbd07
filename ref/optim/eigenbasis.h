/* The eigenbasis machinery of spec/optimizers.md 1.2, shared by soap and the
 * deva-sinf family: the Kronecker factors L = EMA(G G^T), R = EMA(G^T G),
 * their eigenbases Q_L, Q_R, the projections, the skipped first call and the
 * refresh (a)-(d). Not part of the public API; docs/optimizers/eigenbasis.md.
 *
 * A side of the m x n parameter longer than max_precond_dim is not rotated:
 * its factor and basis are 0 x 0 state tensors (STATE_LEFT/STATE_RIGHT) and
 * act as the identity. A side of length 1 is rotated like any other (its L
 * is 1 x 1 and its basis is [1]). */
#ifndef OPTREF_EIGENBASIS_H
#define OPTREF_EIGENBASIS_H

#include "optim_internal.h"

/* The machinery's state tensors, by their spec names: L, R, Q_L, Q_R,
 * basis_ready and k (the real-update counter), both 1 x 1. */
typedef struct {
    mpmat_ptr L, R, QL, QR, ready, k;
} eigenbasis;

/* Looks the tensors up in o's state (names L, R, Q_L, Q_R, basis_ready, k). */
void eigenbasis_get(eigenbasis *E, const ref_opt *o);

/* basis_ready != 0. */
int eigenbasis_ready(const eigenbasis *E);

/* The first call (basis_ready = 0): L, R updated with G, Q_L, Q_R = their
 * canonical eigenvectors (descending eigenvalues), basis_ready = 1. Here and
 * at a refresh, a side with o->basis_override set takes that basis instead
 * (the conformance hook, include/optref/ref_optim.h). */
optref_status eigenbasis_first_call(const ref_opt *o, const eigenbasis *E, mpmat_srcptr G);

/* Y = Q_L^T X Q_R and Y = Q_L X Q_R^T (the left product first; an unrotated
 * side is skipped). Y may alias X. */
optref_status eigenbasis_project(mpmat_ptr Y, const eigenbasis *E, mpmat_srcptr X);
optref_status eigenbasis_project_back(mpmat_ptr Y, const eigenbasis *E, mpmat_srcptr X);

/* k <- k + 1; returns the new k. */
unsigned long eigenbasis_count(const eigenbasis *E);

/* Steps (a)-(d) after the parameter update, with the raw G of the call:
 * (a) M <- project_back(M); (b) L, R updated with G; (c) if k mod f = 0,
 * each rotated side is refreshed (its second-moment tensor permuted: the rows
 * of row_moment for the left side, the columns of col_moment for the right);
 * (d) M <- project(M). soap and deva-sinf pass V twice; deva-sinf-fact
 * passes nu_r (m x 1) and nu_c (1 x n). */
optref_status eigenbasis_after_update(const ref_opt *o, const eigenbasis *E, mpmat_srcptr G,
                                      mpmat_ptr M, mpmat_ptr row_moment, mpmat_ptr col_moment);

/* The update shared by soap (steps 5-8) and deva-sinf (10-13), U the update
 * in the original basis (overwritten when normalize_grads):
 * eta' = eta sqrt(1 - beta2^k) / (1 - beta1^k) if correct_bias else eta;
 * normalize_grads: U <- U / (1e-30 + sqrt(mean(U.U)));
 * W <- W - eta' U; W <- W - eta lambda W (uncorrected eta). */
optref_status eigenbasis_apply_update(const ref_opt *o, mpmat_ptr W, mpmat_ptr U,
                                      mpfr_srcptr eta, unsigned long k);

/* The canonical thin QR factor of a square A (spec 1.2): Q = the Q factor
 * of A's Householder QR (mpmat_qr, R_jj >= 0) when every R_jj > tol;
 * otherwise the columns are taken greedily in index order, a column being
 * dropped when its R_jj (in the QR of the columns kept so far and itself)
 * is <= tol; the kept columns get the Q factor of their own QR, the dropped
 * positions (in index order) the canonical completion of those columns
 * (mpmat_basis_complete); finally every column is made sign-canonical.
 * Q (n x n) must not alias A. */
optref_status eigenbasis_qr_canonical(mpmat_ptr Q, mpmat_srcptr A, mpfr_srcptr tol);

/* tol = 2^(-p/2) ||P||_F at precision p = tol's precision (spec 1.2). */
void eigenbasis_tol(mpfr_ptr tol, mpmat_srcptr P);

#endif
