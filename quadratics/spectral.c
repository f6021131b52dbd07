/* The spectral construction of every problem (quadratics/spectral.h,
 * spec/problems.md 2): H, A, Xstar, Y, fstar from (Q, lambda).
 *
 * Accuracy. Q and lambda are held at x = prec + SPECTRAL_GUARD bits. H and A
 * are the correctly rounded values of Q diag(f) Q^T for that Q (one mpfr_sum
 * of exact triple products per entry): f = lambda for H, f = sqrt(lambda)
 * rounded at x bits for A. W = Q^T B is rounded at x bits (one
 * correctly rounded dot per entry), V = diag(g) W at x bits, and
 * Xstar = -Q V, Y = -Q V' are one correctly rounded dot per entry at prec.
 * fstar = -1/2 sum_kj W_kj (W_kj / lambda_k) is one correctly rounded dot of
 * non-negative terms (no cancellation). The only errors beyond the final
 * roundings are O(d 2^-x) relative, 2^-64 below the working precision. */
#include "spectral.h"

#include <stdlib.h>

optref_status spectral_init(spectral *S, size_t d, mpfr_prec_t prec)
{
    S->d = d;
    optref_status st = mpmat_init(S->Q, d, d, prec + SPECTRAL_GUARD);
    if (st != OPTREF_OK)
        return st;
    st = mpmat_init(S->lambda, d, 1, prec + SPECTRAL_GUARD);
    if (st != OPTREF_OK)
        mpmat_clear(S->Q);
    return st;
}

void spectral_clear(spectral *S)
{
    mpmat_clear(S->Q);
    mpmat_clear(S->lambda);
}

optref_status spectral_symfun(mpmat_ptr M, mpmat_srcptr Q, mpmat_srcptr f)
{
    size_t d = Q->rows;
    if (Q->cols != d || f->rows != d || f->cols != 1 || M->rows != d || M->cols != d)
        return optref_fail(OPTREF_ESHAPE, "spectral_symfun: Q %zux%zu, f %zux%zu, M %zux%zu",
                           Q->rows, Q->cols, f->rows, f->cols, M->rows, M->cols);
    if (d == 0)
        return OPTREF_OK;
    mpfr_prec_t fprec = 0;
    for (size_t k = 0; k < d; k++)
        if (mpfr_get_prec(mpmat_entry(f, k, 0)) > fprec)
            fprec = mpfr_get_prec(mpmat_entry(f, k, 0));
    __mpfr_struct *term = malloc(d * sizeof *term);
    mpfr_ptr *ptr = malloc(d * sizeof *ptr);
    mpfr_t qq;
    if (term == NULL || ptr == NULL) {
        free(term), free(ptr);
        return optref_fail(OPTREF_ENOMEM, "spectral_symfun: cannot allocate %zu terms", d);
    }
    /* Q_ik Q_jk is exact at 2 prec(Q) bits; times f_k exact at that + prec(f). */
    mpfr_init2(qq, 2 * Q->prec);
    for (size_t k = 0; k < d; k++)
        mpfr_init2(term + k, 2 * Q->prec + fprec);
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++) {
            size_t n = 0;
            for (size_t k = 0; k < d; k++) {
                mpfr_srcptr a = mpmat_entry(Q, i, k), b = mpmat_entry(Q, j, k);
                if (mpfr_zero_p(a) || mpfr_zero_p(b))
                    continue; /* exact zero: block structure stays +0 */
                mpfr_mul(qq, a, b, MPFR_RNDN);
                mpfr_mul(term + n, qq, mpmat_entry(f, k, 0), MPFR_RNDN);
                ptr[n] = term + n;
                n++;
            }
            mpfr_sum(mpmat_entry(M, i, j), ptr, n, MPFR_RNDN); /* n = 0 gives +0 */
            if (j != i)
                mpfr_set(mpmat_entry(M, j, i), mpmat_entry(M, i, j), MPFR_RNDN);
        }
    for (size_t k = 0; k < d; k++)
        mpfr_clear(term + k);
    mpfr_clear(qq);
    free(term), free(ptr);
    return OPTREF_OK;
}

/* The stable descending order of lambda into out (d x 1): insertion sort. */
static void sort_descending(mpmat_ptr out, mpmat_srcptr lambda)
{
    size_t d = lambda->rows;
    for (size_t k = 0; k < d; k++) {
        size_t pos = k;
        mpfr_set(mpmat_entry(out, k, 0), mpmat_entry(lambda, k, 0), MPFR_RNDN);
        while (pos > 0 && mpfr_less_p(mpmat_entry(out, pos - 1, 0), mpmat_entry(out, pos, 0))) {
            mpfr_swap(mpmat_entry(out, pos - 1, 0), mpmat_entry(out, pos, 0));
            pos--;
        }
    }
}

/* V = diag(g) W at V's precision, g_k = lambda_k^(-1) (power = 2) or
 * lambda_k^(-1/2) (power = 1), each g_k rounded at V's precision. */
static void scale_rows(mpmat_ptr V, mpmat_srcptr W, mpmat_srcptr lambda, int power)
{
    mpfr_t g;
    mpfr_init2(g, V->prec);
    for (size_t k = 0; k < W->rows; k++) {
        if (power == 2)
            mpfr_ui_div(g, 1, mpmat_entry(lambda, k, 0), MPFR_RNDN);
        else
            mpfr_rec_sqrt(g, mpmat_entry(lambda, k, 0), MPFR_RNDN);
        for (size_t j = 0; j < W->cols; j++)
            mpfr_mul(mpmat_entry(V, k, j), mpmat_entry(W, k, j), g, MPFR_RNDN);
    }
    mpfr_clear(g);
}

/* M = -M entrywise, with zeros kept +0 (the canonical zero). */
static void negate(mpmat_ptr M)
{
    for (size_t k = 0; k < M->rows * M->cols; k++)
        if (!mpfr_zero_p(M->e + k))
            mpfr_neg(M->e + k, M->e + k, MPFR_RNDN);
}

optref_status spectral_finish(problem *P, const spectral *S)
{
    size_t d = S->d, p = P->p;
    mpfr_prec_t x = S->Q->prec;
    mpmat_t f, W, V;
    optref_status st = mpmat_init(f, d, 1, x);
    if (st != OPTREF_OK)
        return st;
    if ((st = mpmat_init(W, d, p, x)) != OPTREF_OK) {
        mpmat_clear(f);
        return st;
    }
    if ((st = mpmat_init(V, d, p, x)) != OPTREF_OK) {
        mpmat_clear(f), mpmat_clear(W);
        return st;
    }
    sort_descending(P->eigenvalues, S->lambda);
    /* H = Q diag(lambda) Q^T; A = Q diag(sqrt(lambda)) Q^T. */
    st = spectral_symfun(P->H, S->Q, S->lambda);
    for (size_t k = 0; k < d; k++)
        mpfr_sqrt(mpmat_entry(f, k, 0), mpmat_entry(S->lambda, k, 0), MPFR_RNDN);
    if (st == OPTREF_OK)
        st = spectral_symfun(P->A, S->Q, f);
    /* W = Q^T B; Xstar = -Q diag(1/lambda) W; fstar = -1/2 <W, diag(1/lambda) W>. */
    if (st == OPTREF_OK)
        st = mpmat_mul_tn(W, S->Q, P->B);
    if (st == OPTREF_OK) {
        scale_rows(V, W, S->lambda, 2);
        st = mpmat_mul(P->Xstar, S->Q, V);
    }
    if (st == OPTREF_OK) {
        negate(P->Xstar);
        st = mpmat_dot(P->fstar, W, V);
        mpfr_div_2ui(P->fstar, P->fstar, 1, MPFR_RNDN);
        if (!mpfr_zero_p(P->fstar))
            mpfr_neg(P->fstar, P->fstar, MPFR_RNDN);
    }
    /* Y = -Q diag(lambda^(-1/2)) W. */
    if (st == OPTREF_OK) {
        scale_rows(V, W, S->lambda, 1);
        st = mpmat_mul(P->Y, S->Q, V);
    }
    if (st == OPTREF_OK)
        negate(P->Y);
    mpmat_clear(f), mpmat_clear(W), mpmat_clear(V);
    return st;
}
