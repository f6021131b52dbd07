/* Internal to quadratics/: the spectral construction shared by every problem
 * (spec/problems.md 2) and the builders the registry dispatches to.
 *
 * Every problem is H = Q diag(lambda) Q^T with Q orthogonal. The builder
 * fills a `spectral` (Q and lambda, column k of Q paired with lambda_k) and
 * P->B, P->X0; spectral_finish then computes, directly from (Q, lambda):
 *   H     = Q diag(lambda) Q^T
 *   A     = Q diag(lambda^(1/2)) Q^T          (= H^(1/2))
 *   Xstar = -Q diag(lambda^(-1)) Q^T B        (= -H^(-1) B)
 *   Y     = -Q diag(lambda^(-1/2)) Q^T B      (= -A^(-1) B)
 *   fstar = 1/2 tr(B^T Xstar) = -1/2 sum_kj W_kj^2 / lambda_k, W = Q^T B
 * and the descending eigenvalues. Q and lambda are held at prec +
 * SPECTRAL_GUARD bits and never stored in the problem, so every stored
 * matrix is (up to O(2^-64) relative) the correctly rounded value of the
 * exact construction: the 53-bit instance is the 256-bit one rounded to 53
 * bits. Not a public API. */
#ifndef OPTREF_QUADRATICS_SPECTRAL_H
#define OPTREF_QUADRATICS_SPECTRAL_H

#include "optref/problem.h"

/* Extra bits of Q and of the derived spectral factors (sqrt, 1/lambda). */
#define SPECTRAL_GUARD 64

typedef struct {
    size_t d;
    mpmat_t Q;      /* d x d orthogonal, precision prec + SPECTRAL_GUARD */
    mpmat_t lambda; /* d x 1, > 0, precision prec + SPECTRAL_GUARD */
} spectral;

/* Q = 0 and lambda = 0 of size d; prec is the problem's working precision. */
optref_status spectral_init(spectral *S, size_t d, mpfr_prec_t prec);
void spectral_clear(spectral *S);

/* M = Q diag(f) Q^T: each entry (i <= j) one correctly rounded sum (mpfr_sum)
 * of the exact products f_k Q_ik Q_jk (k with Q_ik Q_jk != 0), mirrored, so M
 * is exactly symmetric. f is d x 1 (any precision), M d x d. */
optref_status spectral_symfun(mpmat_ptr M, mpmat_srcptr Q, mpmat_srcptr f);

/* Fills P->H, A, Xstar, Y, fstar and eigenvalues from S and P->B (which the
 * builder has set). P's matrices are allocated (problem_alloc, not diagonal).
 * The eigenvalues are lambda sorted descending and rounded to prec (exact
 * for integer spectra; a builder whose lambda needs rounding overwrites them
 * with the correctly rounded values). */
optref_status spectral_finish(problem *P, const spectral *S);

/* ---- helpers of quadratics/problem_registry.c used by the builders ---- */

/* Allocates P's matrices at P->prec: H and A d x d (d x 1 when diagonal),
 * B, Y, X0, Xstar d x p, eigenvalues d x 1, all zero; sets d, p, diagonal. */
optref_status problem_alloc(problem *P, size_t d, size_t p, int diagonal);
/* M = i.i.d. N(0,1) (binary64 values, exact) from (seed, stream, substream 0). */
void problem_fill_normal(mpmat_ptr M, uint64_t seed, uint32_t stream);

/* ---- the builders (P: seed, prec and fstar set; opts: the problem's table) ---- */

optref_status trace_het_build(problem *P, const param_set *opts);   /* trace_blocks.c */
optref_status trace_hom_build(problem *P, const param_set *opts);   /* trace_blocks.c */
optref_status trace_dense_build(problem *P, const param_set *opts); /* trace_dense.c */
optref_status nqm_build(problem *P, const param_set *opts);         /* nqm.c */

/* The option tables (their files check the counts with _Static_assert). */
#define TRACE_DENSE_NPARAMS 6
#define NQM_NPARAMS 1
extern const param_spec trace_dense_params[TRACE_DENSE_NPARAMS];
extern const param_spec nqm_params[NQM_NPARAMS];

#endif
