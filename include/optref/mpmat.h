/* mpmat: dense matrices of MPFR numbers, the exact core of the reference.
 *
 * A matrix owns its precision: every entry has precision `prec`, and every
 * kernel rounds its results to the precision of its output (round to
 * nearest, ties to even). Entries are stored row-major.
 *
 * Guarantees (docs/exact-core.md has the full list):
 *  - every entry of a product, every dot product and every sum is correctly
 *    rounded (mpfr_dot / mpfr_sum): the result does not depend on the order of
 *    summation, so it is the same on every machine, compiler and -O level;
 *  - iterative kernels (Jacobi eigh, Jacobi SVD, Householder QR) follow one
 *    fixed, documented order of operations; their outputs are reproducible
 *    bit for bit, and accurate to the stated residual bounds;
 *  - no libm and no binary64 arithmetic is used anywhere in this module.
 *
 * Conventions: functions return OPTREF_OK or an error status (shape
 * mismatch, non-finite input, allocation failure, no convergence) with a
 * message in optref_last_error(). Outputs must be initialised by the caller
 * with the right shape; an output may alias an input unless stated. */
#ifndef OPTREF_MPMAT_H
#define OPTREF_MPMAT_H

#include <stddef.h>
#include <stdint.h>

#include <mpfr.h>

#include "optref/status.h"

typedef struct {
    size_t rows, cols;
    mpfr_prec_t prec;
    __mpfr_struct *e; /* rows * cols entries, row-major */
} mpmat_struct;

typedef mpmat_struct mpmat_t[1];
typedef mpmat_struct *mpmat_ptr;
typedef const mpmat_struct *mpmat_srcptr;

/* Largest number of entries a matrix may have (guards size overflow and
 * absurd requests); 2^28 entries is 16 GiB of limbs at 256 bits. */
#define MPMAT_MAX_ENTRIES ((size_t)1 << 28)

static inline mpfr_ptr mpmat_entry(mpmat_srcptr A, size_t i, size_t j)
{
    return A->e + i * A->cols + j;
}

/* ---- life cycle and elementary operations (ref/mp/mpmat.c) ---- */

/* Initialises an m x n matrix of zeros at precision prec. m or n may be 0. */
optref_status mpmat_init(mpmat_ptr A, size_t m, size_t n, mpfr_prec_t prec);
void mpmat_clear(mpmat_ptr A);
/* Frees A's entries and re-initialises it as an m x n zero matrix. */
optref_status mpmat_resize(mpmat_ptr A, size_t m, size_t n);
/* Rounds every entry of A to the precision of B (shapes must agree). */
optref_status mpmat_set(mpmat_ptr B, mpmat_srcptr A);
void mpmat_zero(mpmat_ptr A);
void mpmat_one(mpmat_ptr A); /* ones on the diagonal, zero elsewhere */
optref_status mpmat_transpose(mpmat_ptr B, mpmat_srcptr A); /* B may not alias A unless square */
optref_status mpmat_add(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B);
optref_status mpmat_sub(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B);
optref_status mpmat_neg(mpmat_ptr B, mpmat_srcptr A);
optref_status mpmat_scale(mpmat_ptr B, mpmat_srcptr A, mpfr_srcptr s);   /* B = s A */
optref_status mpmat_hadamard(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B); /* C = A .* B */
int mpmat_equal(mpmat_srcptr A, mpmat_srcptr B);   /* same shape and same values */
int mpmat_is_finite(mpmat_srcptr A);
/* Index (row-major) of the first non-finite entry, or rows*cols if none. */
size_t mpmat_first_nonfinite(mpmat_srcptr A);

/* ---- norms and reductions (ref/mp/mpmat_norm.c) ---- */

/* r = sum of squares of all entries, correctly rounded. */
void mpmat_sumsq(mpfr_ptr r, mpmat_srcptr A);
/* r = ||A||_F = sqrt(sumsq), two roundings (sum, then sqrt). */
void mpmat_norm_fro(mpfr_ptr r, mpmat_srcptr A);
/* r = max |a_ij| (exact). */
void mpmat_norm_max(mpfr_ptr r, mpmat_srcptr A);
/* r = sum of all entries, correctly rounded. */
void mpmat_sum(mpfr_ptr r, mpmat_srcptr A);
/* r = tr(A^T B) = sum a_ij b_ij, correctly rounded. */
optref_status mpmat_dot(mpfr_ptr r, mpmat_srcptr A, mpmat_srcptr B);

/* ---- products (ref/mp/mpmat_mul.c); each entry one correctly rounded dot ---- */

optref_status mpmat_mul(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B);    /* C = A B   */
optref_status mpmat_mul_tn(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B); /* C = A^T B */
optref_status mpmat_mul_nt(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B); /* C = A B^T */

/* ---- factorisations (ref/mp/mpmat_qr.c, mpmat_eigh.c, mpmat_svd.c) ---- */

/* Thin Householder QR of an m x n matrix: Q is m x k, R is k x n, k = min(m, n).
 * Canonical form: R_jj >= 0 for every j (Q's column j and R's row j are
 * negated where Householder gives R_jj < 0). Q or R may be NULL. */
optref_status mpmat_qr(mpmat_ptr Q, mpmat_ptr R, mpmat_srcptr A);

/* Symmetric eigendecomposition A = V diag(w) V^T by cyclic Jacobi.
 * A is n x n and symmetric (only exact symmetry is accepted: a_ij == a_ji).
 * w is n x 1 with the eigenvalues in descending order; V is n x n (may be NULL)
 * in the canonical form of spec/optimizers.md 1.2: eigenvalues that differ
 * from their neighbour by at most tol = 2^(-prec/2) ||A||_F form a cluster whose
 * basis is mpmat_basis_canonical_cluster's; every other column has its
 * largest-magnitude component positive (first such index on ties). */
optref_status mpmat_eigh(mpmat_ptr w, mpmat_ptr V, mpmat_srcptr A);

/* The canonical basis of spec 1.2 for the span of columns [c0, c1) of V
 * (orthonormal columns): Gram-Schmidt, in index order, of the projections
 * V_c V_c^T e_1, V_c V_c^T e_2, ..., skipping any whose norm after
 * orthogonalisation is below 1/(2 sqrt(n)), orthogonalising twice. The
 * columns are replaced in place; the result depends only on the subspace. */
optref_status mpmat_basis_canonical_cluster(mpmat_ptr V, size_t c0, size_t c1);

/* Completes an orthonormal set: columns [0, c0) of the n x k matrix V are
 * orthonormal; columns [c0, k) are replaced by the canonical completion of
 * spec 1.2 (the rule that completes a QR factor or an SVD's U): Gram-Schmidt,
 * in index order, of e_1, e_2, ... against every column kept so far,
 * orthogonalising twice, skipping a vector whose norm after
 * orthogonalisation is below 1/(2 sqrt(n)). */
optref_status mpmat_basis_complete(mpmat_ptr V, size_t c0);

/* Makes column j's largest-magnitude component positive (first on ties). */
void mpmat_column_sign_canonical(mpmat_ptr V, size_t j);

/* Thin SVD A = U diag(s) V^T by one-sided Jacobi. A is m x n, k = min(m, n):
 * s is k x 1, descending, non-negative; U is m x k and V is n x k (either may
 * be NULL). Signs: each column of V has its largest-magnitude component
 * positive; U's column j is A v_j / s_j, or completed to an orthonormal set
 * by the cluster rule when s_j is zero. */
optref_status mpmat_svd(mpmat_ptr U, mpmat_ptr s, mpmat_ptr V, mpmat_srcptr A);

/* The polar factor P = U V^T of the thin SVD, with the singular values that
 * are zero (at most 2^(-prec/2) s_1) mapped to zero: P = sum_{s_i > tol} u_i v_i^T.
 * P is m x n. A zero matrix gives a zero P. */
optref_status mpmat_polar(mpmat_ptr P, mpmat_srcptr A);

/* ---- functions of a symmetric matrix via mpmat_eigh (ref/mp/mpmat_symfun.c) ---- */

/* S = A^(1/2) for symmetric positive semidefinite A (negative eigenvalues
 * above -tol are treated as zero; below it is OPTREF_EINVAL). */
optref_status mpmat_sym_sqrt(mpmat_ptr S, mpmat_srcptr A);
/* S = A^(-1/2) for symmetric positive definite A. */
optref_status mpmat_sym_invsqrt(mpmat_ptr S, mpmat_srcptr A);
/* X = A^(-1) B for symmetric positive definite A (B is n x p). */
optref_status mpmat_sym_solve(mpmat_ptr X, mpmat_srcptr A, mpmat_srcptr B);
/* P = V diag((max(w_i, 0) + eps)^(-1/r)) V^T (Shampoo's inverse root), r >= 1. */
optref_status mpmat_sym_inv_root(mpmat_ptr P, mpmat_srcptr A, unsigned long r, mpfr_srcptr eps);

/* ---- the 2-D DFT (ref/mp/mpmat_dft.c) ---- */

/* F = DFT2(X) for real X (n1 x n2): F[k,l] = sum_{i,j} X[i,j] exp(-2 pi i (ik/n1 + jl/n2)),
 * rows first then columns, each 1-D transform a correctly rounded dot against
 * correctly rounded twiddles cos(2 pi r/n), sin(2 pi r/n). Each conjugate pair
 * (k,l), (-k mod n1, -l mod n2) is computed once and mirrored, so |F| is exactly
 * Hermitian-symmetric. Fre, Fim are n1 x n2. */
optref_status mpmat_dft2_real(mpmat_ptr Fre, mpmat_ptr Fim, mpmat_srcptr X);
/* X = IDFT2(F) = (1/(n1 n2)) sum F[k,l] exp(+2 pi i (ik/n1 + jl/n2)); Xim may be NULL. */
optref_status mpmat_idft2(mpmat_ptr Xre, mpmat_ptr Xim, mpmat_srcptr Fre, mpmat_srcptr Fim);
/* M = |F| entrywise: sqrt(re^2 + im^2) (sum of squares correctly rounded, then sqrt). */
optref_status mpmat_cabs(mpmat_ptr M, mpmat_srcptr Fre, mpmat_srcptr Fim);

/* ---- sorting and quantiles (ref/mp/mpmat_sort.c) ---- */

/* perm[0..n-1] = the stable permutation sorting x ascending (descending):
 * x[perm[0]] <= x[perm[1]] <= ...; equal values keep index order. No NaN. */
optref_status mpvec_argsort(size_t *perm, const __mpfr_struct *x, size_t n, int descending);
/* r = the torch.quantile 'linear' q-quantile of all entries of A (spec 1.3):
 * sort ascending s[0..N-1], pos = q (N - 1), lo = floor(pos),
 * r = s[lo] + (pos - lo)(s[lo+1] - s[lo]) (the second term absent when pos is
 * whole). 0 <= q <= 1; pos is computed exactly at the needed precision. */
optref_status mpmat_quantile(mpfr_ptr r, mpmat_srcptr A, mpfr_srcptr q);

/* ---- exact rounding to IEEE formats (ref/mp/format.c) ---- */

typedef enum { OPTREF_BINARY64, OPTREF_BINARY32, OPTREF_BFLOAT16 } optref_format;

/* rop = x rounded to nearest-even in the format (its precision, exponent
 * range and subnormals; overflow gives +-Inf), stored exactly in rop, whose
 * precision must be at least the format's. Returns the ternary value. */
int optref_round_format(mpfr_ptr rop, mpfr_srcptr x, optref_format fmt);
/* Rounds every entry of A in place. */
void mpmat_round_format(mpmat_ptr A, optref_format fmt);
/* Precision in bits of the format (53, 24, 8). */
mpfr_prec_t optref_format_prec(optref_format fmt);
const char *optref_format_name(optref_format fmt);

/* Writes to buf the shortest decimal string that rounds back (to nearest, in
 * binary64) to x rounded to binary64: "0.1", "-2.5e-07", "1e+300", "0",
 * "-0", "inf", "-inf", "nan" (JSON callers map the last three). buf must hold
 * 32 bytes. */
void optref_shortest_b64(char *buf, mpfr_srcptr x);

#endif
