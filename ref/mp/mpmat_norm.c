/* Norms and reductions of mpmat. Sums and dot products are correctly
 * rounded (mpfr_sum, mpfr_dot), hence independent of summation order. */
#include "optref/mpmat.h"

#include <stdlib.h>

#include "mp_internal.h"

void mpmat_sumsq(mpfr_ptr r, mpmat_srcptr A)
{
    size_t count = A->rows * A->cols;
    mpfr_ptr *p = mp_entry_pointers(A);
    if (p == NULL && count != 0) { /* allocation failure: no value */
        mpfr_set_nan(r);
        return;
    }
    mpfr_dot(r, p, p, count, MPFR_RNDN);
    free(p);
}

void mpmat_norm_fro(mpfr_ptr r, mpmat_srcptr A)
{
    mpmat_sumsq(r, A);
    mpfr_sqrt(r, r, MPFR_RNDN);
}

void mpmat_norm_max(mpfr_ptr r, mpmat_srcptr A)
{
    mpfr_set_zero(r, 1);
    for (size_t k = 0; k < A->rows * A->cols; k++) {
        if (mpfr_nan_p(A->e + k)) {
            mpfr_set_nan(r);
            return;
        }
        if (mpfr_cmpabs(A->e + k, r) > 0)
            mpfr_abs(r, A->e + k, MPFR_RNDN);
    }
}

void mpmat_sum(mpfr_ptr r, mpmat_srcptr A)
{
    size_t count = A->rows * A->cols;
    mpfr_ptr *p = mp_entry_pointers(A);
    if (p == NULL && count != 0) {
        mpfr_set_nan(r);
        return;
    }
    mpfr_sum(r, p, count, MPFR_RNDN);
    free(p);
}

optref_status mpmat_dot(mpfr_ptr r, mpmat_srcptr A, mpmat_srcptr B)
{
    if (A->rows != B->rows || A->cols != B->cols)
        return optref_fail(OPTREF_ESHAPE, "mpmat_dot: shapes %zux%zu and %zux%zu differ",
                           A->rows, A->cols, B->rows, B->cols);
    size_t count = A->rows * A->cols;
    mpfr_ptr *pa = mp_entry_pointers(A), *pb = mp_entry_pointers(B);
    if ((pa == NULL || pb == NULL) && count != 0) {
        free(pa);
        free(pb);
        return optref_fail(OPTREF_ENOMEM, "mpmat_dot: cannot allocate %zu pointers", count);
    }
    mpfr_dot(r, pa, pb, count, MPFR_RNDN);
    free(pa);
    free(pb);
    return OPTREF_OK;
}
