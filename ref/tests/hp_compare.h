/* Shared by t-opt_sam.c and t-opt_smi.c: the implementation runs at PREC
 * bits and the test's independent re-evaluation at HP bits; constants are
 * parsed by MPFR here, not by the library's option parser. */
#ifndef OPTREF_TEST_HP_COMPARE_H
#define OPTREF_TEST_HP_COMPARE_H

#include "testlib.h"

#define PREC 256
#define HP 1024

/* x = the binary64 number nearest the decimal text, held exactly. */
static inline void b64(mpfr_ptr x, const char *text)
{
    mpfr_t t;
    mpfr_init2(t, 53);
    mpfr_set_str(t, text, 10, MPFR_RNDN);
    mpfr_set(x, t, MPFR_RNDN);
    mpfr_clear(t);
}

/* ||A - Ahp||_F / ((||Ahp||_F + ||X||_F) 2^-PREC); X (may be NULL) adds the
 * size of a term that cancels in Ahp (the gradient added to a momentum). */
static inline long double diff_ratio(mpmat_srcptr A, mpmat_srcptr Ahp, mpmat_srcptr X)
{
    mpmat_t D;
    mpfr_t s, x;
    mpfr_inits2(64, s, x, (mpfr_ptr)0);
    TEST_OK(mpmat_init(D, A->rows, A->cols, HP));
    mpmat_set(D, A);
    TEST_OK(mpmat_sub(D, D, Ahp));
    mpmat_norm_fro(s, Ahp);
    if (X != NULL)
        mpmat_norm_fro(x, X), mpfr_add(s, s, x, MPFR_RNDN);
    if (mpfr_zero_p(s))
        mpfr_set_ui(s, 1, MPFR_RNDN);
    long double r = test_ratio(D, s, PREC);
    mpfr_clears(s, x, (mpfr_ptr)0);
    mpmat_clear(D);
    return r;
}

#endif
