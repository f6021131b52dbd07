/* The eigenbasis machinery of spec/optimizers.md 1.2 on the CPU (soap and
 * the deva-sinf family; shampoo uses eb_sym_eigh): the factors L, R, their
 * canonical eigenbases, the projections, the skipped first call, the refresh
 * (a)-(d) and the update tail. Included after real.h; every function has a
 * binary64 and a binary32 instance (FN). Order of operations: the
 * reference's (ref/optim/eigenbasis.c), with BLAS products and LAPACK
 * factorisations; conformance/bounds_eigenbasis.c models it and
 * proofs/conformance-eigenbasis.md derives the bound.
 *
 * Storage: state tensors are row-major; the scratch of a side keeps vectors
 * contiguous (column-major n x n), the layout LAPACK works in. */
#ifndef OPTREF_FAST_CPU_EIGENBASIS_H
#define OPTREF_FAST_CPU_EIGENBASIS_H

#include "real.h"

/* Scratch of one side of length n (n = 0: the side is not rotated). */
typedef struct {
    size_t n;
    real *A, *B, *C;  /* n x n (column-major) */
    real *w, *tau, *e; /* n */
    size_t *pi, *pos;  /* n */
    real *work;        /* LAPACK workspace (lwork reals, liwork ints) */
    lapack_int lwork, liwork, *iwork;
} FN(eb_side);

/* The workspace of an eigenbasis optimizer on an m x n parameter. */
typedef struct {
    int ready;
    size_t m, n;
    FN(eb_side) left, right;
    real *X, *Y, *T; /* m x n */
} FN(eb_work);

/* The stored state of the machinery (pointers into the fast_opt). */
typedef struct {
    real *L, *R, *QL, *QR, *ready, *k;
    size_t nl, nr; /* side lengths, 0 when not rotated */
} FN(eb_state);

/* Gets the workspace of o when it is the machinery's alone (soap; made on
 * the first call, kept); NULL when out of memory. */
FN(eb_work) *FN(eb_work_get)(fast_opt *o);
/* Makes w (inside a larger workspace: deva-sinf) on its first use; frees its members. */
optref_status FN(eb_work_init)(FN(eb_work) *w, const fast_opt *o);
void FN(eb_work_release)(FN(eb_work) *w);
void FN(eb_state_get)(FN(eb_state) *E, const fast_opt *o);

/* P <- b P + w G G^T (right: G^T G), w = 1 - b rounded from binary64, G
 * m x n; P symmetric (both triangles). */
void FN(eb_update_factor)(real *P, const real *G, size_t m, size_t n, int right, real b, real w,
                          real *scratch);

/* The canonical eigenvectors of the symmetric P (n x n, row-major) into Q
 * (row-major, columns, descending eigenvalues; spec 1.2 clusters and signs).
 * With w != NULL the descending eigenvalues are also returned. */
optref_status FN(eb_eigh)(real *Q, real *w, const real *P, FN(eb_side) *s);
/* The same eigendecomposition without the canonical forms (shampoo): Q's
 * columns are LAPACK's eigenvectors, w ascending. */
optref_status FN(eb_sym_eigh)(real *Q, real *w, const real *P, FN(eb_side) *s);
optref_status FN(eb_side_init)(FN(eb_side) *s, size_t n);
void FN(eb_side_free)(FN(eb_side) *s);

/* First call: L, R updated with G, Q_L, Q_R their canonical eigenbases, basis_ready = 1. */
optref_status FN(eb_first_call)(const fast_opt *o, const FN(eb_state) *E, FN(eb_work) *w,
                                const real *G);

/* Y = Q_L^T X Q_R and Y = Q_L X Q_R^T (left product first); Y may be X. */
void FN(eb_project)(const FN(eb_state) *E, FN(eb_work) *w, real *Y, const real *X);
void FN(eb_project_back)(const FN(eb_state) *E, FN(eb_work) *w, real *Y, const real *X);

/* k <- k + 1; returns the new k. */
unsigned long FN(eb_count)(const FN(eb_state) *E);

/* (a)-(d) after the parameter update, with the raw G: on a refresh
 * (k mod f = 0) rowm (m x rcols) is permuted along its rows by the left
 * side's order and colm (crows x n) along its columns by the right side's:
 * soap and deva pass V twice, deva-sinf-fact nu_r (m x 1) and nu_c (1 x n). */
optref_status FN(eb_after_update)(const fast_opt *o, const FN(eb_state) *E, FN(eb_work) *w,
                                  const real *G, real *M, real *rowm, size_t rcols, real *colm,
                                  size_t crows);

/* The update tail (soap 5-8, deva 10-13): normalize_grads, W <- W - eta' U,
 * W <- W - (eta lambda) W. U is overwritten when normalize_grads. */
void FN(eb_apply_update)(const fast_opt *o, real *W, real *U, double eta, unsigned long k);

/* The canonical thin QR factor of the square A (column-major n x n, kept
 * intact) into Qcm (column-major); tol as spec 1.2. Uses s's A and tau. */
optref_status FN(eb_qr_canonical)(real *Qcm, const real *Acm, real tol, FN(eb_side) *s);

#endif
