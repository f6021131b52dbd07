/* Matrix products. Every entry of the result is one correctly rounded dot
 * product (mpfr_dot), so the product is the same whatever order a machine
 * would sum in. An output that aliases an input is computed into a
 * temporary first. */
#include "optref/mpmat.h"

#include <stdlib.h>

#include "mp_internal.h"

mpfr_ptr *mp_entry_pointers(mpmat_srcptr A)
{
    size_t count = A->rows * A->cols;
    if (count == 0)
        return NULL;
    mpfr_ptr *p = malloc(count * sizeof *p);
    if (p != NULL)
        for (size_t k = 0; k < count; k++)
            p[k] = A->e + k;
    return p;
}

/* out[k] = the k-th entry of row `index` of A, or of column `index` when
 * along_columns is set. */
static void vector_pointers(mpfr_ptr *out, mpmat_srcptr A, size_t index, int along_columns)
{
    if (along_columns)
        for (size_t k = 0; k < A->rows; k++)
            out[k] = mpmat_entry(A, k, index);
    else
        for (size_t k = 0; k < A->cols; k++)
            out[k] = mpmat_entry(A, index, k);
}

/* C = op(A) op(B), where op(A) has rows "A vectors" and op(B) has columns
 * "B vectors": ta = 1 means A is used transposed, tb = 1 means B transposed. */
static optref_status product(mpmat_ptr C, mpmat_srcptr A, int ta, mpmat_srcptr B, int tb,
                             const char *fn)
{
    size_t m = ta ? A->cols : A->rows, ka = ta ? A->rows : A->cols;
    size_t kb = tb ? B->cols : B->rows, n = tb ? B->rows : B->cols;
    if (ka != kb || C->rows != m || C->cols != n)
        return optref_fail(OPTREF_ESHAPE,
                           "%s: cannot multiply %zux%zu by %zux%zu into %zux%zu", fn, m, ka,
                           kb, n, C->rows, C->cols);
    mpmat_t T;
    mpmat_ptr out = C;
    if (C == A || C == B) {
        optref_status st = mpmat_init(T, m, n, C->prec);
        if (st != OPTREF_OK)
            return st;
        out = T;
    }
    size_t k = ka;
    mpfr_ptr *pa = malloc((k ? k : 1) * m * sizeof *pa);
    mpfr_ptr *pb = malloc((k ? k : 1) * n * sizeof *pb);
    if (pa == NULL || pb == NULL) {
        free(pa);
        free(pb);
        if (out != C)
            mpmat_clear(T);
        return optref_fail(OPTREF_ENOMEM, "%s: cannot allocate pointer tables", fn);
    }
    /* Row i of op(A) is row i of A (ta = 0) or column i of A (ta = 1);
     * column j of op(B) is column j of B (tb = 0) or row j of B (tb = 1). */
    for (size_t i = 0; i < m; i++)
        vector_pointers(pa + i * k, A, i, ta);
    for (size_t j = 0; j < n; j++)
        vector_pointers(pb + j * k, B, j, !tb);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++)
            mpfr_dot(mpmat_entry(out, i, j), pa + i * k, pb + j * k, k, MPFR_RNDN);
    free(pa);
    free(pb);
    if (out != C) {
        mpmat_set(C, T);
        mpmat_clear(T);
    }
    return OPTREF_OK;
}

optref_status mpmat_mul(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B)
{
    return product(C, A, 0, B, 0, "mpmat_mul");
}

optref_status mpmat_mul_tn(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B)
{
    return product(C, A, 1, B, 0, "mpmat_mul_tn");
}

optref_status mpmat_mul_nt(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B)
{
    return product(C, A, 0, B, 1, "mpmat_mul_nt");
}
