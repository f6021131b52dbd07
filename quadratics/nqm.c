/* nqm, the Noisy Quadratic Model (Zhang et al. 2019; spec/problems.md 2):
 * H = diag(1/i), i = 1..d, p = 1, B = 0 (so Y = 0, Xstar = 0, fstar = 0),
 * X0 = 1 [decision], noise covariance C = H / batch (the gauss oracle).
 * Stored diagonally (problem.diagonal = 1): H and A are d x 1, never d x d.
 * H_i = 1/i and A_i = 1/sqrt(i), each correctly rounded (A is the square
 * root of the exact H, as for the dense problems); the eigenvalues are H,
 * already descending. No random draws. */
#include "spectral.h"

const param_spec nqm_params[] = {
    {"d", PARAM_INT, "10000", "1", "1000000", 0, NULL, "dimension: H = diag(1/i), i = 1..d"},
};
_Static_assert(sizeof nqm_params / sizeof nqm_params[0] == NQM_NPARAMS,
               "NQM_NPARAMS must count nqm_params");

optref_status nqm_build(problem *P, const param_set *opts)
{
    long d;
    optref_status st = param_get_int(&d, opts, "d");
    if (st == OPTREF_OK)
        st = problem_alloc(P, (size_t)d, 1, 1);
    if (st != OPTREF_OK)
        return st;
    for (size_t i = 0; i < P->d; i++) {
        mpfr_ptr h = mpmat_entry(P->H, i, 0);
        mpfr_set_ui(h, 1, MPFR_RNDN);
        mpfr_div_ui(h, h, (unsigned long)(i + 1), MPFR_RNDN); /* one rounding */
        mpfr_set_ui(mpmat_entry(P->A, i, 0), (unsigned long)(i + 1), MPFR_RNDN); /* exact */
        mpfr_rec_sqrt(mpmat_entry(P->A, i, 0), mpmat_entry(P->A, i, 0), MPFR_RNDN);
        mpfr_set(mpmat_entry(P->eigenvalues, i, 0), h, MPFR_RNDN);
        mpfr_set_ui(mpmat_entry(P->X0, i, 0), 1, MPFR_RNDN);
    }
    return OPTREF_OK;
}
