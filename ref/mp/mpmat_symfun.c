/* Functions of a symmetric matrix through its eigendecomposition:
 * f(A) = V diag(f(w)) V^T with A = V diag(w) V^T from mpmat_eigh.
 *
 * Precision: with p the output's precision, the eigendecomposition is taken
 * at pw = p + SYMFUN_GUARD_BITS (w and V rounded to pw; mpmat_eigh adds its
 * own guard bits inside), f(w_i) is computed at pw, and only the final
 * product is rounded to p.
 *
 * f(w_i), each correctly rounded at pw (one rounding) unless stated:
 *   sqrt:      sqrt(max(w_i, 0))                          (mpfr_sqrt)
 *   invsqrt:   1/sqrt(w_i)                                (mpfr_rec_sqrt)
 *   inv_root:  x_i = max(w_i, 0) + eps (one rounding), then x_i^(-1/r):
 *              for r a power of two the exponent -1/r is an exact dyadic and
 *              mpfr_pow rounds x^(-1/r) once (r = 1, 2, 4: Shampoo's roots);
 *              otherwise 1 / mpfr_rootn_ui(x, r), two roundings at pw.
 *
 * The product: F = V diag(f) V^T has entries F_ij = sum_k V_ik f_k V_jk.
 * V diag(f) is formed exactly (each V_ik f_k at precision prec(V) + prec(f),
 * where the product of two MPFR numbers is exact), then each F_ij is one
 * correctly rounded mpfr_dot of those exact products with V_jk
 * (mpmat_mul_nt): F_ij is the correctly rounded value of the exact 3-way sum
 * over the pw-precision V and f, so F is exactly symmetric (F_ij and F_ji
 * round the same exact number).
 *
 * The solve X = A^{-1} B = V (diag(1/w) (V^T B)): Y = V^T B (each entry one
 * correctly rounded dot at pw), Z_kj = Y_kj / w_k (one rounding at pw),
 * X = V Z (each entry one correctly rounded dot at X's precision). Errors
 * made in Y and Z are mapped back by A to at most 2^-pw ||B|| in A X - B,
 * and the explicit inverse is never formed.
 *
 * Thresholds: sqrt treats an eigenvalue in [-tol, 0) as zero, tol =
 * 2^(-p/2) ||A||_F (p = S's precision, computed at pw as sqrt(2^-p) ||A||_F,
 * the cluster tolerance of spec 1.2); below -tol it is OPTREF_EINVAL.
 * invsqrt and solve require every computed eigenvalue to be > 0; inv_root
 * requires r >= 1, eps finite and >= 0, and max(w_i, 0) + eps > 0.
 *
 * The input is read completely (by mpmat_eigh) before the output is
 * written, so the output may alias A (or B for the solve). */
#include "optref/mpmat.h"

#include <stdio.h>

#define SYMFUN_GUARD_BITS 32

/* The eigendecomposition of the n x n A into w (n x 1), V (n x n) at pw. */
static optref_status eig_init(mpmat_ptr w, mpmat_ptr V, mpmat_srcptr A, mpfr_prec_t pw,
                              const char *fn)
{
    size_t n = A->rows;
    if (A->cols != n)
        return optref_fail(OPTREF_ESHAPE, "%s: A is %zux%zu, not square", fn, A->rows, A->cols);
    optref_status st = mpmat_init(w, n, 1, pw);
    if (st != OPTREF_OK)
        return st;
    if ((st = mpmat_init(V, n, n, pw)) != OPTREF_OK) {
        mpmat_clear(w);
        return st;
    }
    if ((st = mpmat_eigh(w, V, A)) != OPTREF_OK) {
        mpmat_clear(w), mpmat_clear(V);
        return st;
    }
    return OPTREF_OK;
}

/* F = V diag(f) V^T, each entry one correctly rounded dot of exact products. */
static optref_status reassemble(mpmat_ptr F, mpmat_srcptr V, mpmat_srcptr f)
{
    size_t n = V->rows;
    mpmat_t W;
    optref_status st = mpmat_init(W, n, n, V->prec + f->prec);
    if (st != OPTREF_OK)
        return st;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n; k++) /* exact: the precision holds the whole product */
            mpfr_mul(mpmat_entry(W, i, k), mpmat_entry(V, i, k), mpmat_entry(f, k, 0),
                     MPFR_RNDN);
    st = mpmat_mul_nt(F, W, V);
    mpmat_clear(W);
    return st;
}

static optref_status check_square_out(mpmat_srcptr F, mpmat_srcptr A, const char *fn)
{
    if (A->rows != A->cols)
        return optref_fail(OPTREF_ESHAPE, "%s: A is %zux%zu, not square", fn, A->rows, A->cols);
    if (F->rows != A->rows || F->cols != A->cols)
        return optref_fail(OPTREF_ESHAPE, "%s: output is %zux%zu, expected %zux%zu", fn,
                           F->rows, F->cols, A->rows, A->cols);
    return OPTREF_OK;
}

/* An EINVAL naming eigenvalue k and its value. */
static optref_status bad_eigenvalue(const char *fn, size_t k, mpfr_srcptr x, const char *why)
{
    char buf[64];
    mpfr_snprintf(buf, sizeof buf, "%.6Rg", x);
    return optref_fail(OPTREF_EINVAL, "%s: eigenvalue %zu (descending) is %s: %s", fn, k, buf,
                       why);
}

optref_status mpmat_sym_sqrt(mpmat_ptr S, mpmat_srcptr A)
{
    const char *fn = "mpmat_sym_sqrt";
    optref_status st = check_square_out(S, A, fn);
    if (st != OPTREF_OK)
        return st;
    size_t n = A->rows;
    mpfr_prec_t pw = S->prec + SYMFUN_GUARD_BITS;
    mpmat_t w, V;
    if ((st = eig_init(w, V, A, pw, fn)) != OPTREF_OK)
        return st;
    mpfr_t tol;
    mpfr_init2(tol, pw);
    mpfr_set_ui_2exp(tol, 1, -(long)S->prec, MPFR_RNDN); /* tol = sqrt(2^-p) ||A||_F */
    mpfr_sqrt(tol, tol, MPFR_RNDN);
    mpfr_t nf;
    mpfr_init2(nf, pw);
    mpmat_norm_fro(nf, A);
    mpfr_mul(tol, tol, nf, MPFR_RNDN);
    mpfr_neg(tol, tol, MPFR_RNDN); /* -tol */
    for (size_t k = 0; k < n && st == OPTREF_OK; k++) {
        mpfr_ptr x = mpmat_entry(w, k, 0);
        if (mpfr_less_p(x, tol))
            st = bad_eigenvalue(fn, k, x, "below -2^(-p/2) ||A||_F (not semidefinite)");
        else if (mpfr_sgn(x) < 0)
            mpfr_set_zero(x, 1);
        else
            mpfr_sqrt(x, x, MPFR_RNDN);
    }
    if (st == OPTREF_OK)
        st = reassemble(S, V, w);
    mpfr_clears(tol, nf, (mpfr_ptr)0);
    mpmat_clear(w), mpmat_clear(V);
    return st;
}

optref_status mpmat_sym_invsqrt(mpmat_ptr S, mpmat_srcptr A)
{
    const char *fn = "mpmat_sym_invsqrt";
    optref_status st = check_square_out(S, A, fn);
    if (st != OPTREF_OK)
        return st;
    size_t n = A->rows;
    mpmat_t w, V;
    if ((st = eig_init(w, V, A, S->prec + SYMFUN_GUARD_BITS, fn)) != OPTREF_OK)
        return st;
    for (size_t k = 0; k < n && st == OPTREF_OK; k++) {
        mpfr_ptr x = mpmat_entry(w, k, 0);
        if (mpfr_sgn(x) <= 0)
            st = bad_eigenvalue(fn, k, x, "not positive (A must be positive definite)");
        else
            mpfr_rec_sqrt(x, x, MPFR_RNDN);
    }
    if (st == OPTREF_OK)
        st = reassemble(S, V, w);
    mpmat_clear(w), mpmat_clear(V);
    return st;
}

optref_status mpmat_sym_solve(mpmat_ptr X, mpmat_srcptr A, mpmat_srcptr B)
{
    const char *fn = "mpmat_sym_solve";
    size_t n = A->rows;
    if (A->cols != n)
        return optref_fail(OPTREF_ESHAPE, "%s: A is %zux%zu, not square", fn, A->rows, A->cols);
    if (B->rows != n)
        return optref_fail(OPTREF_ESHAPE, "%s: B is %zux%zu, expected %zu rows", fn, B->rows,
                           B->cols, n);
    if (X->rows != B->rows || X->cols != B->cols)
        return optref_fail(OPTREF_ESHAPE, "%s: X is %zux%zu, expected %zux%zu", fn, X->rows,
                           X->cols, B->rows, B->cols);
    size_t bad = mpmat_first_nonfinite(B);
    if (bad < B->rows * B->cols)
        return optref_fail(OPTREF_ENONFINITE, "%s: B[%zu][%zu] is not finite", fn,
                           bad / B->cols, bad % B->cols);
    mpfr_prec_t pw = X->prec + SYMFUN_GUARD_BITS;
    mpmat_t w, V, Y;
    optref_status st = eig_init(w, V, A, pw, fn);
    if (st != OPTREF_OK)
        return st;
    for (size_t k = 0; k < n && st == OPTREF_OK; k++)
        if (mpfr_sgn(mpmat_entry(w, k, 0)) <= 0)
            st = bad_eigenvalue(fn, k, mpmat_entry(w, k, 0),
                                "not positive (A must be positive definite)");
    if (st == OPTREF_OK && (st = mpmat_init(Y, n, B->cols, pw)) == OPTREF_OK) {
        st = mpmat_mul_tn(Y, V, B); /* Y = V^T B */
        for (size_t k = 0; k < n && st == OPTREF_OK; k++)
            for (size_t j = 0; j < B->cols; j++) /* Z = diag(1/w) Y */
                mpfr_div(mpmat_entry(Y, k, j), mpmat_entry(Y, k, j), mpmat_entry(w, k, 0),
                         MPFR_RNDN);
        if (st == OPTREF_OK)
            st = mpmat_mul(X, V, Y); /* X = V Z */
        mpmat_clear(Y);
    }
    mpmat_clear(w), mpmat_clear(V);
    return st;
}

optref_status mpmat_sym_inv_root(mpmat_ptr P, mpmat_srcptr A, unsigned long r, mpfr_srcptr eps)
{
    const char *fn = "mpmat_sym_inv_root";
    optref_status st = check_square_out(P, A, fn);
    if (st != OPTREF_OK)
        return st;
    if (r < 1)
        return optref_fail(OPTREF_EINVAL, "%s: root r = %lu, expected r >= 1", fn, r);
    if (!mpfr_number_p(eps))
        return optref_fail(OPTREF_ENONFINITE, "%s: eps is not finite", fn);
    if (mpfr_sgn(eps) < 0)
        return optref_fail(OPTREF_EINVAL, "%s: eps is negative, expected eps >= 0", fn);
    size_t n = A->rows;
    mpfr_prec_t pw = P->prec + SYMFUN_GUARD_BITS;
    mpmat_t w, V;
    if ((st = eig_init(w, V, A, pw, fn)) != OPTREF_OK)
        return st;
    /* exponent -1/r, exact when r = 2^k */
    int pow2 = (r & (r - 1)) == 0;
    long k2 = 0;
    for (unsigned long rr = r; pow2 && rr > 1; rr >>= 1)
        k2++; /* r = 2^k2 */
    mpfr_t e;
    mpfr_init2(e, 2);
    mpfr_set_si_2exp(e, -1, -k2, MPFR_RNDN);
    for (size_t k = 0; k < n && st == OPTREF_OK; k++) {
        mpfr_ptr x = mpmat_entry(w, k, 0);
        if (mpfr_sgn(x) < 0)
            mpfr_set_zero(x, 1);
        mpfr_add(x, x, eps, MPFR_RNDN); /* max(w, 0) + eps */
        if (mpfr_sgn(x) <= 0)
            st = bad_eigenvalue(fn, k, x, "max(w, 0) + eps is not positive");
        else if (pow2)
            mpfr_pow(x, x, e, MPFR_RNDN); /* x^(-1/r), one rounding */
        else {
            mpfr_rootn_ui(x, x, r, MPFR_RNDN);
            mpfr_ui_div(x, 1, x, MPFR_RNDN);
        }
    }
    mpfr_clear(e);
    if (st == OPTREF_OK)
        st = reassemble(P, V, w);
    mpmat_clear(w), mpmat_clear(V);
    return st;
}
