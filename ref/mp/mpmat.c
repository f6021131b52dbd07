/* Life cycle and elementwise operations of mpmat. Each result entry is one
 * MPFR operation, correctly rounded to the output's precision. */
#include "optref/mpmat.h"

#include <stdlib.h>

#define CHECK_SAME_SHAPE(fn, A, B)                                                     \
    do {                                                                               \
        if ((A)->rows != (B)->rows || (A)->cols != (B)->cols)                          \
            return optref_fail(OPTREF_ESHAPE, "%s: shapes %zux%zu and %zux%zu differ", \
                               fn, (A)->rows, (A)->cols, (B)->rows, (B)->cols);        \
    } while (0)

optref_status mpmat_init(mpmat_ptr A, size_t m, size_t n, mpfr_prec_t prec)
{
    A->rows = m;
    A->cols = n;
    A->prec = prec;
    A->e = NULL;
    if (prec < MPFR_PREC_MIN || prec > MPFR_PREC_MAX)
        return optref_fail(OPTREF_EINVAL, "mpmat_init: precision %ld is outside [%ld, %ld]",
                           (long)prec, (long)MPFR_PREC_MIN, (long)MPFR_PREC_MAX);
    if (n != 0 && m > MPMAT_MAX_ENTRIES / n)
        return optref_fail(OPTREF_ENOMEM, "mpmat_init: %zu x %zu entries exceed the limit of %zu",
                           m, n, MPMAT_MAX_ENTRIES);
    size_t count = m * n;
    if (count == 0)
        return OPTREF_OK;
    A->e = malloc(count * sizeof *A->e);
    if (A->e == NULL)
        return optref_fail(OPTREF_ENOMEM, "mpmat_init: cannot allocate %zu x %zu entries", m, n);
    for (size_t k = 0; k < count; k++)
        mpfr_init2(A->e + k, prec), mpfr_set_zero(A->e + k, 1);
    return OPTREF_OK;
}

void mpmat_clear(mpmat_ptr A)
{
    if (A->e != NULL) {
        for (size_t k = 0; k < A->rows * A->cols; k++)
            mpfr_clear(A->e + k);
        free(A->e);
    }
    A->e = NULL;
    A->rows = A->cols = 0;
}

optref_status mpmat_resize(mpmat_ptr A, size_t m, size_t n)
{
    mpfr_prec_t prec = A->prec;
    mpmat_clear(A);
    return mpmat_init(A, m, n, prec);
}

optref_status mpmat_set(mpmat_ptr B, mpmat_srcptr A)
{
    CHECK_SAME_SHAPE("mpmat_set", A, B);
    if (A != B)
        for (size_t k = 0; k < A->rows * A->cols; k++)
            mpfr_set(B->e + k, A->e + k, MPFR_RNDN);
    return OPTREF_OK;
}

void mpmat_zero(mpmat_ptr A)
{
    for (size_t k = 0; k < A->rows * A->cols; k++)
        mpfr_set_zero(A->e + k, 1);
}

void mpmat_one(mpmat_ptr A)
{
    for (size_t i = 0; i < A->rows; i++)
        for (size_t j = 0; j < A->cols; j++)
            mpfr_set_ui(mpmat_entry(A, i, j), i == j, MPFR_RNDN);
}

optref_status mpmat_transpose(mpmat_ptr B, mpmat_srcptr A)
{
    if (B->rows != A->cols || B->cols != A->rows)
        return optref_fail(OPTREF_ESHAPE, "mpmat_transpose: output is %zux%zu, expected %zux%zu",
                           B->rows, B->cols, A->cols, A->rows);
    if (A == B) {
        for (size_t i = 0; i < A->rows; i++)
            for (size_t j = i + 1; j < A->cols; j++)
                mpfr_swap(mpmat_entry(B, i, j), mpmat_entry(B, j, i));
        return OPTREF_OK;
    }
    for (size_t i = 0; i < A->rows; i++)
        for (size_t j = 0; j < A->cols; j++)
            mpfr_set(mpmat_entry(B, j, i), mpmat_entry(A, i, j), MPFR_RNDN);
    return OPTREF_OK;
}

optref_status mpmat_add(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B)
{
    CHECK_SAME_SHAPE("mpmat_add", A, B);
    CHECK_SAME_SHAPE("mpmat_add", A, C);
    for (size_t k = 0; k < A->rows * A->cols; k++)
        mpfr_add(C->e + k, A->e + k, B->e + k, MPFR_RNDN);
    return OPTREF_OK;
}

optref_status mpmat_sub(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B)
{
    CHECK_SAME_SHAPE("mpmat_sub", A, B);
    CHECK_SAME_SHAPE("mpmat_sub", A, C);
    for (size_t k = 0; k < A->rows * A->cols; k++)
        mpfr_sub(C->e + k, A->e + k, B->e + k, MPFR_RNDN);
    return OPTREF_OK;
}

optref_status mpmat_neg(mpmat_ptr B, mpmat_srcptr A)
{
    CHECK_SAME_SHAPE("mpmat_neg", A, B);
    for (size_t k = 0; k < A->rows * A->cols; k++)
        mpfr_neg(B->e + k, A->e + k, MPFR_RNDN);
    return OPTREF_OK;
}

optref_status mpmat_scale(mpmat_ptr B, mpmat_srcptr A, mpfr_srcptr s)
{
    CHECK_SAME_SHAPE("mpmat_scale", A, B);
    for (size_t k = 0; k < A->rows * A->cols; k++)
        mpfr_mul(B->e + k, A->e + k, s, MPFR_RNDN);
    return OPTREF_OK;
}

optref_status mpmat_hadamard(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B)
{
    CHECK_SAME_SHAPE("mpmat_hadamard", A, B);
    CHECK_SAME_SHAPE("mpmat_hadamard", A, C);
    for (size_t k = 0; k < A->rows * A->cols; k++)
        mpfr_mul(C->e + k, A->e + k, B->e + k, MPFR_RNDN);
    return OPTREF_OK;
}

int mpmat_equal(mpmat_srcptr A, mpmat_srcptr B)
{
    if (A->rows != B->rows || A->cols != B->cols)
        return 0;
    for (size_t k = 0; k < A->rows * A->cols; k++) {
        if (mpfr_nan_p(A->e + k) || mpfr_nan_p(B->e + k)) {
            if (!(mpfr_nan_p(A->e + k) && mpfr_nan_p(B->e + k)))
                return 0;
        } else if (!mpfr_equal_p(A->e + k, B->e + k) ||
                   mpfr_signbit(A->e + k) != mpfr_signbit(B->e + k)) {
            return 0;
        }
    }
    return 1;
}

size_t mpmat_first_nonfinite(mpmat_srcptr A)
{
    size_t count = A->rows * A->cols;
    for (size_t k = 0; k < count; k++)
        if (!mpfr_number_p(A->e + k))
            return k;
    return count;
}

int mpmat_is_finite(mpmat_srcptr A)
{
    return mpmat_first_nonfinite(A) == A->rows * A->cols;
}
