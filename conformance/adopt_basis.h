/* Continuing the reference from the backend's basis (spec/conformance.md 3)
 * for the eigenbasis optimizers (soap and the deva-sinf family): where the
 * step bound leaves a column of Q_L or Q_R loose (a cluster or a dropped QR
 * column that the 256-bit reference and the backend, at tolerance
 * sqrt(u) ||P||_F, decide differently; a sign-rule tie), the engine checks
 * that the backend's basis is a valid decomposition of its own factor (the
 * LAPACK test) and, if it is, re-runs the reference's step and the bound with
 * that basis (ref_opt basis_override), so the loose columns are judged by the
 * test instead of being accepted unchecked and every later step is compared
 * exactly. Derivation, threshold and observed ratios:
 * proofs/conformance-adopted-basis.md. Internal to conformance/. */
#ifndef OPTREF_CONFORMANCE_ADOPT_BASIS_H
#define OPTREF_CONFORMANCE_ADOPT_BASIS_H

#include "optref/ref_optim.h"
#include "rerr.h"

/* Every ratio of the validation passes at most this (LAPACK's test threshold;
 * proofs/conformance-adopted-basis.md). */
#define ADOPT_THRESHOLD 30.0

/* The worst test of a validation: ratio (passes <= ADOPT_THRESHOLD), the
 * test's name and the column (of Q) where it happened. */
enum { ADOPT_ORTHOGONALITY, ADOPT_RESIDUAL, ADOPT_CLUSTER, ADOPT_QR, ADOPT_DROPPED, ADOPT_TESTS };
typedef struct {
    double ratio;
    const char *test;
    size_t col;
    double by_test[ADOPT_TESTS]; /* the worst ratio of each test (the observed margins) */
} adopt_verdict;

/* The name of test i ("orthogonality", "residual", "cluster", "QR relation",
 * "dropped column"). */
const char *adopt_test_name(int i);

/* One eigenbasis optimizer's run: where its tensors sit, and the backend's
 * input bases of the current step. */
typedef struct {
    int on;                  /* the optimizer has the machinery (basis_ready) */
    size_t iP[2], iQ[2], iready, ik; /* state indices: L, R; Q_L, Q_R; basis_ready, k */
    mpmat_t Qin[2];          /* the backend's Q_L, Q_R before the step */
} adopt_ctx;

/* Finds the machinery's tensors of o (on = 0 when it has none: nothing to
 * adopt). */
optref_status adopt_init(adopt_ctx *a, const ref_opt *o);
void adopt_clear(adopt_ctx *a);

/* Records the backend's input bases (its state before the step). */
void adopt_note_inputs(adopt_ctx *a, const ref_opt *backend_in);

/* The step from `in` computes new bases: a first call (basis_ready 0) or a
 * refresh (k + 1 a multiple of precondition_frequency). */
int adopt_basis_step(const adopt_ctx *a, const ref_opt *in);

/* Side s (0: Q_L, 1: Q_R) of the bound's output `out` (out[1 + i] is state
 * tensor i) has a loose column: an entry whose bound reaches 1/2 (u e >=
 * 1/2: the column is not determined to O(1), or its sign may flip). */
int adopt_loose(const adopt_ctx *a, const rerr_ctx *c, const rerr_mat *out, int s);

/* The validation of side s of the backend's output state `fast` (its factor
 * P^ and basis Q^; exact copies) for a step from `in` (the inputs: first call
 * when its basis_ready is 0, else a refresh from the bases noted by
 * adopt_note_inputs). u: the backend's unit roundoff. */
optref_status adopt_validate(adopt_verdict *v, const adopt_ctx *a, const ref_opt *in,
                             const ref_opt *fast, int s, mpfr_srcptr u);

/* The validation tests on one side, public for the tests:
 * first call: Q^ an eigenbasis of P^ up to clusters; refresh: Q^ the
 * canonical-rule QR of P^ Qold[:, pi]. */
optref_status adopt_check_eigh(adopt_verdict *v, mpmat_srcptr P, mpmat_srcptr Q, double u);
optref_status adopt_check_refresh(adopt_verdict *v, mpmat_srcptr P, mpmat_srcptr Qold,
                                  mpmat_srcptr Q, double u);

#endif
