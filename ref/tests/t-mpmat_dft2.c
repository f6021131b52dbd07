/* mpmat_dft2_real, mpmat_idft2, mpmat_cabs.
 *
 * Accuracy is checked against the definition evaluated directly, with no
 * separation into rows and columns: F[k,l] = sum_{i,j} X[i,j] exp(-2 pi i m/N),
 * m = (i k n2 + j l n1) mod N, N = n1 n2, at precision p + 128 with a naive
 * running sum (its own error is below 2^-(p+100) ||X||_1, invisible in the
 * ratios). The ratios and thresholds are the bounds of proofs/dft-error.md,
 * with c = 1 + 2^-28 and the documented 32 guard bits of the reference:
 *   A  ||F - F_def||_F / (c N ||X||_F 2^-p)                       < 1
 *   B  ||F - F_def||_F / ((1 + 2^-30 sqrt(N)) sqrt(N) ||X||_F 2^-p) < 1
 *   inverse, general complex G:
 *   A' ||X - X_def||_F / (c ||G||_F 2^-p)                          < 1
 *   B' ||X - X_def||_F / ((1 + 2^-30 (1 + sqrt N)) ||G||_F/sqrt(N) 2^-p) < 1
 *   round trip, X~ = IDFT2(DFT2(X)):
 *   R  ||Re X~ - X||_F / (2 (1 + 2^-20) ||X||_F 2^-p)              < 1
 *   I  ||Im X~||_F / (4 (1 + 2^-20) ||F||_F 2^-(p+32))               < 1
 *      (and in fact Im X~ = 0 exactly, which is asserted too)
 * at 53, 113, 256 and 1024 bits, shapes 1x1 ... 16x12, inputs of 53-bit and of
 * full precision, scaled by 2^-300 and 2^300 too. Exact properties are
 * checked bit for bit: Hermitian symmetry of F and |F|, +0 imaginary parts
 * at self-conjugate bins, the delta and constant inputs, mpmat_cabs against
 * its two-rounding definition, aliasing, and the error statuses. */
#include "testlib.h"

#include <stdlib.h>

#include "optref/mpmat.h"

static const size_t SHAPES[][2] = {{1, 1}, {1, 5}, {4, 1}, {3, 4}, {6, 6}, {5, 7},
                                   {8, 8}, {2, 2}, {1, 2}, {2, 3}, {7, 1}, {4, 6},
                                   {9, 10}, {16, 12}};
#define NSHAPES (sizeof SHAPES / sizeof SHAPES[0])

/* Fills A with values uniform in [-1, 1) carrying A->prec random bits. */
static void fill_full(mpmat_ptr A, test_rng *rng)
{
    mpfr_t acc, w;
    mpfr_init2(acc, A->prec + 128);
    mpfr_init2(w, 64);
    for (size_t k = 0; k < A->rows * A->cols; k++) {
        mpfr_set_zero(acc, 1);
        long words = (long)(A->prec / 64 + 1);
        for (long t = 1; t <= words; t++) {
            mpfr_set_uj(w, test_rng_next(rng), MPFR_RNDN);
            mpfr_mul_2si(w, w, -64 * t, MPFR_RNDN);
            mpfr_add(acc, acc, w, MPFR_RNDN); /* exact */
        }
        mpfr_mul_2ui(acc, acc, 1, MPFR_RNDN);
        mpfr_sub_ui(acc, acc, 1, MPFR_RNDN);
        mpfr_set(A->e + k, acc, MPFR_RNDN);
    }
    mpfr_clears(acc, w, (mpfr_ptr)0);
}

/* (Dre, Dim) = sum_{a,b} (Gre + i Gim)[a,b] exp(sign 2 pi i (a k/n1 + b l/n2)) at
 * D's precision, divided by N when inverse; the definition, term by term. */
static void dft_definition(mpmat_ptr Dre, mpmat_ptr Dim, mpmat_srcptr Gre, mpmat_srcptr Gim,
                           int inverse)
{
    size_t n1 = Gre->rows, n2 = Gre->cols, N = n1 * n2;
    mpfr_prec_t P = Dre->prec;
    __mpfr_struct *c = malloc(N * sizeof *c), *s = malloc(N * sizeof *s);
    mpfr_t m, t, re, im;
    mpfr_inits2(P, m, t, re, im, (mpfr_ptr)0);
    for (size_t r = 0; r < N; r++) {
        mpfr_inits2(P, c + r, s + r, (mpfr_ptr)0);
        mpfr_set_ui(m, (unsigned long)r, MPFR_RNDN);
        mpfr_cosu(c + r, m, (unsigned long)N, MPFR_RNDN);
        mpfr_sinu(s + r, m, (unsigned long)N, MPFR_RNDN);
        if (!inverse)
            mpfr_neg(s + r, s + r, MPFR_RNDN); /* exp(-i theta) = cos - i sin */
    }
    for (size_t k = 0; k < n1; k++)
        for (size_t l = 0; l < n2; l++) {
            mpfr_set_zero(re, 1);
            mpfr_set_zero(im, 1);
            for (size_t a = 0; a < n1; a++)
                for (size_t b = 0; b < n2; b++) {
                    size_t r = (a * k * n2 + b * l * n1) % N;
                    mpfr_srcptr gr = mpmat_entry(Gre, a, b);
                    /* (gr + i gi)(c + i s) = gr c - gi s + i (gi c + gr s) */
                    mpfr_mul(t, gr, c + r, MPFR_RNDN), mpfr_add(re, re, t, MPFR_RNDN);
                    mpfr_mul(t, gr, s + r, MPFR_RNDN), mpfr_add(im, im, t, MPFR_RNDN);
                    if (Gim != NULL) {
                        mpfr_srcptr gi = mpmat_entry(Gim, a, b);
                        mpfr_mul(t, gi, s + r, MPFR_RNDN), mpfr_sub(re, re, t, MPFR_RNDN);
                        mpfr_mul(t, gi, c + r, MPFR_RNDN), mpfr_add(im, im, t, MPFR_RNDN);
                    }
                }
            if (inverse) {
                mpfr_div_ui(re, re, (unsigned long)N, MPFR_RNDN);
                mpfr_div_ui(im, im, (unsigned long)N, MPFR_RNDN);
            }
            mpfr_set(mpmat_entry(Dre, k, l), re, MPFR_RNDN);
            mpfr_set(mpmat_entry(Dim, k, l), im, MPFR_RNDN);
        }
    for (size_t r = 0; r < N; r++)
        mpfr_clears(c + r, s + r, (mpfr_ptr)0);
    free(c);
    free(s);
    mpfr_clears(m, t, re, im, (mpfr_ptr)0);
}

/* R (2 n1 x n2, precision of Dre) = [Are - Dre; Aim - Dim] (Aim NULL: 0). */
static void complex_residual(mpmat_ptr R, mpmat_srcptr Are, mpmat_srcptr Aim, mpmat_srcptr Dre,
                             mpmat_srcptr Dim)
{
    size_t n = Dre->rows * Dre->cols;
    for (size_t k = 0; k < n; k++) {
        mpfr_sub(R->e + k, Are->e + k, Dre->e + k, MPFR_RNDN);
        if (Aim != NULL)
            mpfr_sub(R->e + n + k, Aim->e + k, Dim->e + k, MPFR_RNDN);
        else
            mpfr_neg(R->e + n + k, Dim->e + k, MPFR_RNDN);
    }
}

/* sqrt(||A||_F^2 + ||B||_F^2) (B may be NULL) at 128 bits. */
static void complex_norm(mpfr_ptr r, mpmat_srcptr A, mpmat_srcptr B)
{
    mpfr_t a, b;
    mpfr_inits2(mpfr_get_prec(r), a, b, (mpfr_ptr)0);
    mpmat_sumsq(a, A);
    if (B != NULL)
        mpmat_sumsq(b, B);
    else
        mpfr_set_zero(b, 1);
    mpfr_add(r, a, b, MPFR_RNDU);
    mpfr_sqrt(r, r, MPFR_RNDU);
    mpfr_clears(a, b, (mpfr_ptr)0);
}

/* 1 + 2^-e1 + 2^-e2 sqrt(N) (any term with exponent 0 left out), at 128 bits. */
static void constant(mpfr_ptr c, long e1, long e2, size_t N)
{
    mpfr_t t;
    mpfr_init2(t, 128);
    mpfr_set_ui(c, 1, MPFR_RNDU);
    if (e1) {
        mpfr_set_ui_2exp(t, 1, -e1, MPFR_RNDU);
        mpfr_add(c, c, t, MPFR_RNDU);
    }
    if (e2) {
        mpfr_set_ui(t, (unsigned long)N, MPFR_RNDU);
        mpfr_sqrt(t, t, MPFR_RNDU);
        mpfr_mul_2si(t, t, -e2, MPFR_RNDU);
        mpfr_add(c, c, t, MPFR_RNDU);
    }
    mpfr_clear(t);
}

static void scale_matrix(mpmat_ptr A, long e)
{
    for (size_t k = 0; k < A->rows * A->cols; k++)
        mpfr_mul_2si(A->e + k, A->e + k, e, MPFR_RNDN);
}

static test_worst wA = {"dft2 vs definition, c N ||X|| u", 0, 1};
static test_worst wB = {"dft2 vs definition, sqrt(N) ||X|| u", 0, 1};
static test_worst wIA = {"idft2 vs definition, c ||G|| u", 0, 1};
static test_worst wIB = {"idft2 vs definition, ||G||/sqrt(N) u", 0, 1};
static test_worst wR = {"round trip Re, 2 ||X|| u", 0, 1};
static test_worst wI = {"round trip Im, 4 ||F|| 2^-(p+32)", 0, 1};

/* One input X (n1 x n2, precision p) through every accuracy check. */
static void check_accuracy(mpmat_srcptr X, mpfr_prec_t p)
{
    size_t n1 = X->rows, n2 = X->cols, N = n1 * n2;
    mpfr_prec_t P = p + 128;
    mpmat_t Fre, Fim, Dre, Dim, R, Yre, Yim, Gim;
    TEST_OK(mpmat_init(Fre, n1, n2, p));
    TEST_OK(mpmat_init(Fim, n1, n2, p));
    TEST_OK(mpmat_init(Dre, n1, n2, P));
    TEST_OK(mpmat_init(Dim, n1, n2, P));
    TEST_OK(mpmat_init(R, 2 * n1, n2, P));
    TEST_OK(mpmat_init(Yre, n1, n2, p));
    TEST_OK(mpmat_init(Yim, n1, n2, p));
    TEST_OK(mpmat_init(Gim, n1, n2, p));
    mpfr_t nx, nf, sc, c;
    mpfr_inits2(128, nx, nf, sc, c, (mpfr_ptr)0);
    mpmat_norm_fro(nx, X);

    /* forward against the definition */
    TEST_OK(mpmat_dft2_real(Fre, Fim, X));
    dft_definition(Dre, Dim, X, NULL, 0);
    complex_residual(R, Fre, Fim, Dre, Dim);
    constant(c, 28, 0, N);
    mpfr_mul_ui(sc, nx, (unsigned long)N, MPFR_RNDN);
    mpfr_mul(sc, sc, c, MPFR_RNDN);
    test_worst_add(&wA, test_ratio(R, sc, p));
    constant(c, 0, 30, N);
    mpfr_set_ui(sc, (unsigned long)N, MPFR_RNDN);
    mpfr_sqrt(sc, sc, MPFR_RNDN);
    mpfr_mul(sc, sc, nx, MPFR_RNDN);
    mpfr_mul(sc, sc, c, MPFR_RNDN);
    test_worst_add(&wB, test_ratio(R, sc, p));

    /* round trip */
    TEST_OK(mpmat_idft2(Yre, Yim, Fre, Fim));
    for (size_t k = 0; k < N; k++)
        mpfr_sub(R->e + k, Yre->e + k, X->e + k, MPFR_RNDN), mpfr_set_zero(R->e + N + k, 1);
    constant(c, 20, 0, N);
    mpfr_mul_ui(sc, nx, 2, MPFR_RNDN);
    mpfr_mul(sc, sc, c, MPFR_RNDN);
    test_worst_add(&wR, test_ratio(R, sc, p));
    complex_norm(nf, Fre, Fim);
    mpfr_mul_ui(sc, nf, 4, MPFR_RNDN);
    mpfr_mul(sc, sc, c, MPFR_RNDN);
    mpfr_mul_2si(sc, sc, -32, MPFR_RNDN);
    for (size_t k = 0; k < N; k++)
        mpfr_set_zero(R->e + k, 1), mpfr_set(R->e + N + k, Yim->e + k, MPFR_RNDN);
    test_worst_add(&wI, test_ratio(R, sc, p));
    /* Stronger, and exact: F is exactly Hermitian and the twiddle tables are
     * exactly (anti)symmetric, so both stages of the inverse preserve
     * conjugate symmetry bit for bit and Im X~ is exactly zero
     * (proofs/dft-error.md, section 5). */
    for (size_t k = 0; k < N; k++)
        ck_assert(mpfr_zero_p(Yim->e + k));
    /* Xim = NULL gives the same real part */
    mpmat_t Y2;
    TEST_OK(mpmat_init(Y2, n1, n2, p));
    TEST_OK(mpmat_idft2(Y2, NULL, Fre, Fim));
    ck_assert(mpmat_equal(Y2, Yre));
    mpmat_clear(Y2);

    /* inverse of a general complex G = (X, Gim) against the definition */
    fill_full(Gim, &(test_rng){N * 1000 + (uint64_t)p});
    TEST_OK(mpmat_idft2(Yre, Yim, X, Gim));
    dft_definition(Dre, Dim, X, Gim, 1);
    complex_residual(R, Yre, Yim, Dre, Dim);
    complex_norm(nf, X, Gim);
    constant(c, 28, 0, N);
    mpfr_mul(sc, nf, c, MPFR_RNDN);
    test_worst_add(&wIA, test_ratio(R, sc, p));
    constant(c, 30, 30, N);
    mpfr_set_ui(sc, (unsigned long)N, MPFR_RNDN);
    mpfr_sqrt(sc, sc, MPFR_RNDN);
    mpfr_div(sc, nf, sc, MPFR_RNDN);
    mpfr_mul(sc, sc, c, MPFR_RNDN);
    test_worst_add(&wIB, test_ratio(R, sc, p));

    mpfr_clears(nx, nf, sc, c, (mpfr_ptr)0);
    mpmat_clear(Fre), mpmat_clear(Fim), mpmat_clear(Dre), mpmat_clear(Dim);
    mpmat_clear(R), mpmat_clear(Yre), mpmat_clear(Yim), mpmat_clear(Gim);
}

START_TEST(test_accuracy)
{
    test_rng rng = {21};
    for (int pi = 0; pi < 4; pi++) {
        mpfr_prec_t p = test_precisions[pi];
        for (size_t s = 0; s < NSHAPES; s++) {
            mpmat_t X;
            TEST_OK(mpmat_init(X, SHAPES[s][0], SHAPES[s][1], p));
            test_fill_uniform(X, &rng);
            check_accuracy(X, p);
            fill_full(X, &rng);
            check_accuracy(X, p);
            scale_matrix(X, (s & 1) ? 300 : -300);
            check_accuracy(X, p);
            mpmat_clear(X);
        }
    }
    test_worst_report(&wA);
    test_worst_report(&wB);
    test_worst_report(&wIA);
    test_worst_report(&wIB);
    test_worst_report(&wR);
    test_worst_report(&wI);
}
END_TEST

static int same_bits(mpfr_srcptr a, mpfr_srcptr b)
{
    return mpfr_equal_p(a, b) && mpfr_signbit(a) == mpfr_signbit(b);
}

/* F Hermitian bit for bit, +0 imaginary parts at self-conjugate bins, |F|
 * symmetric bit for bit. */
START_TEST(test_hermitian_exact)
{
    test_rng rng = {22};
    for (int pi = 0; pi < 4; pi++) {
        mpfr_prec_t p = test_precisions[pi];
        for (size_t s = 0; s < NSHAPES; s++) {
            size_t n1 = SHAPES[s][0], n2 = SHAPES[s][1];
            mpmat_t X, Fre, Fim, M;
            TEST_OK(mpmat_init(X, n1, n2, p));
            TEST_OK(mpmat_init(Fre, n1, n2, p));
            TEST_OK(mpmat_init(Fim, n1, n2, p));
            TEST_OK(mpmat_init(M, n1, n2, p));
            fill_full(X, &rng);
            TEST_OK(mpmat_dft2_real(Fre, Fim, X));
            TEST_OK(mpmat_cabs(M, Fre, Fim));
            for (size_t k = 0; k < n1; k++)
                for (size_t l = 0; l < n2; l++) {
                    size_t mk = (n1 - k) % n1, ml = (n2 - l) % n2;
                    ck_assert(same_bits(mpmat_entry(Fre, k, l), mpmat_entry(Fre, mk, ml)));
                    ck_assert(same_bits(mpmat_entry(M, k, l), mpmat_entry(M, mk, ml)));
                    mpfr_srcptr a = mpmat_entry(Fim, k, l), b = mpmat_entry(Fim, mk, ml);
                    if (mk == k && ml == l) {
                        ck_assert(mpfr_zero_p(a) && !mpfr_signbit(a));
                    } else {
                        mpfr_t nb;
                        mpfr_init2(nb, p);
                        mpfr_neg(nb, b, MPFR_RNDN);
                        ck_assert(same_bits(a, nb));
                        mpfr_clear(nb);
                    }
                }
            mpmat_clear(X), mpmat_clear(Fre), mpmat_clear(Fim), mpmat_clear(M);
        }
    }
}
END_TEST

/* Exact cases: a delta at the origin has F = 1 everywhere (twiddles of angle
 * 0 are exactly 1 and 0); a constant x has F[0,0] = N x exactly; a 1x1
 * matrix is its own transform, rounded once. */
START_TEST(test_exact_inputs)
{
    for (size_t s = 0; s < NSHAPES; s++) {
        size_t n1 = SHAPES[s][0], n2 = SHAPES[s][1];
        mpmat_t X, Fre, Fim;
        TEST_OK(mpmat_init(X, n1, n2, 53));
        TEST_OK(mpmat_init(Fre, n1, n2, 113));
        TEST_OK(mpmat_init(Fim, n1, n2, 113));
        mpfr_set_ui(X->e, 1, MPFR_RNDN);
        TEST_OK(mpmat_dft2_real(Fre, Fim, X));
        for (size_t k = 0; k < n1 * n2; k++) {
            ck_assert(mpfr_cmp_ui(Fre->e + k, 1) == 0);
            ck_assert(mpfr_zero_p(Fim->e + k));
        }
        for (size_t k = 0; k < n1 * n2; k++)
            mpfr_set_str(X->e + k, "0.7", 10, MPFR_RNDN);
        TEST_OK(mpmat_dft2_real(Fre, Fim, X));
        mpfr_t e;
        mpfr_init2(e, 113);
        mpfr_mul_ui(e, X->e, (unsigned long)(n1 * n2), MPFR_RNDN); /* exact */
        ck_assert(mpfr_equal_p(Fre->e, e) && mpfr_zero_p(Fim->e));
        mpfr_clear(e);
        mpmat_clear(X), mpmat_clear(Fre), mpmat_clear(Fim);
    }
    mpmat_t X, Fre, Fim;
    TEST_OK(mpmat_init(X, 1, 1, 113));
    TEST_OK(mpmat_init(Fre, 1, 1, 24));
    TEST_OK(mpmat_init(Fim, 1, 1, 24));
    mpfr_set_str(X->e, "-0.1", 10, MPFR_RNDN);
    TEST_OK(mpmat_dft2_real(Fre, Fim, X));
    mpfr_t e;
    mpfr_init2(e, 24);
    mpfr_set(e, X->e, MPFR_RNDN);
    ck_assert(mpfr_equal_p(Fre->e, e) && mpfr_zero_p(Fim->e) && !mpfr_signbit(Fim->e));
    mpfr_clear(e);
    mpmat_clear(X), mpmat_clear(Fre), mpmat_clear(Fim);
}
END_TEST

/* mpmat_cabs: 53-bit inputs make re^2 + im^2 exact at 128 bits; the result
 * must be that sum rounded to M's precision, then sqrt rounded. */
START_TEST(test_cabs_definition)
{
    test_rng rng = {23};
    for (int pi = 0; pi < 4; pi++) {
        mpfr_prec_t p = test_precisions[pi];
        mpmat_t A, B, M, E;
        TEST_OK(mpmat_init(A, 3, 5, 53));
        TEST_OK(mpmat_init(B, 3, 5, 53));
        TEST_OK(mpmat_init(M, 3, 5, p));
        TEST_OK(mpmat_init(E, 3, 5, p));
        test_fill_uniform(A, &rng);
        test_fill_uniform(B, &rng);
        mpfr_set_zero(A->e, 1), mpfr_set_zero(B->e, -1); /* |+-0| = +0 */
        mpfr_t t, u;
        mpfr_inits2(128, t, u, (mpfr_ptr)0);
        for (size_t k = 0; k < 15; k++) {
            mpfr_sqr(t, A->e + k, MPFR_RNDN);
            mpfr_sqr(u, B->e + k, MPFR_RNDN);
            mpfr_add(t, t, u, MPFR_RNDN); /* exact */
            mpfr_set(E->e + k, t, MPFR_RNDN);
            mpfr_sqrt(E->e + k, E->e + k, MPFR_RNDN);
        }
        mpfr_clears(t, u, (mpfr_ptr)0);
        TEST_OK(mpmat_cabs(M, A, B));
        ck_assert(mpmat_equal(M, E));
        /* aliasing: M = A (same precision needed for a bit-equal check) */
        mpmat_t A2;
        TEST_OK(mpmat_init(A2, 3, 5, p));
        TEST_OK(mpmat_set(A2, A));
        TEST_OK(mpmat_cabs(A2, A2, B));
        ck_assert(mpmat_equal(A2, E));
        mpmat_clear(A), mpmat_clear(B), mpmat_clear(M), mpmat_clear(E), mpmat_clear(A2);
    }
}
END_TEST

START_TEST(test_aliasing)
{
    test_rng rng = {24};
    mpmat_t X, Fre, Fim, Xre, Xim;
    TEST_OK(mpmat_init(X, 5, 6, 113));
    TEST_OK(mpmat_init(Fre, 5, 6, 113));
    TEST_OK(mpmat_init(Fim, 5, 6, 113));
    TEST_OK(mpmat_init(Xre, 5, 6, 113));
    TEST_OK(mpmat_init(Xim, 5, 6, 113));
    fill_full(X, &rng);
    TEST_OK(mpmat_dft2_real(Fre, Fim, X));
    TEST_OK(mpmat_idft2(Xre, Xim, Fre, Fim));
    mpmat_t A, B;
    TEST_OK(mpmat_init(A, 5, 6, 113));
    TEST_OK(mpmat_init(B, 5, 6, 113));
    TEST_OK(mpmat_set(A, X));
    TEST_OK(mpmat_dft2_real(A, B, A)); /* Fre = X */
    ck_assert(mpmat_equal(A, Fre) && mpmat_equal(B, Fim));
    TEST_OK(mpmat_idft2(A, B, A, B)); /* X = F, in place */
    ck_assert(mpmat_equal(A, Xre) && mpmat_equal(B, Xim));
    TEST_OK(mpmat_set(A, Fre));
    TEST_OK(mpmat_set(B, Fim));
    TEST_OK(mpmat_idft2(B, A, A, B)); /* crossed */
    ck_assert(mpmat_equal(B, Xre) && mpmat_equal(A, Xim));
    mpmat_clear(X), mpmat_clear(Fre), mpmat_clear(Fim), mpmat_clear(Xre), mpmat_clear(Xim);
    mpmat_clear(A), mpmat_clear(B);
}
END_TEST

START_TEST(test_errors)
{
    mpmat_t X, F1, F2, G, E1, E2;
    TEST_OK(mpmat_init(X, 3, 4, 53));
    TEST_OK(mpmat_init(F1, 3, 4, 53));
    TEST_OK(mpmat_init(F2, 3, 4, 53));
    TEST_OK(mpmat_init(G, 4, 3, 53));
    TEST_OK(mpmat_init(E1, 0, 3, 53));
    TEST_OK(mpmat_init(E2, 0, 3, 53));
    ck_assert_int_eq(mpmat_dft2_real(F1, G, X), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_dft2_real(F1, F1, X), OPTREF_EINVAL);
    ck_assert_int_eq(mpmat_idft2(G, NULL, F1, F2), OPTREF_ESHAPE);
    ck_assert_int_eq(mpmat_idft2(F1, F1, F1, F2), OPTREF_EINVAL);
    ck_assert_int_eq(mpmat_cabs(G, F1, F2), OPTREF_ESHAPE);
    mpfr_set_nan(mpmat_entry(X, 1, 2));
    ck_assert_int_eq(mpmat_dft2_real(F1, F2, X), OPTREF_ENONFINITE);
    mpfr_set_inf(mpmat_entry(F2, 2, 3), -1);
    ck_assert_int_eq(mpmat_idft2(X, NULL, F1, F2), OPTREF_ENONFINITE);
    /* empty shapes are valid */
    ck_assert_int_eq(mpmat_dft2_real(E1, E2, E1), OPTREF_OK);
    ck_assert_int_eq(mpmat_idft2(E1, E2, E1, E2), OPTREF_OK);
    ck_assert_int_eq(mpmat_cabs(E1, E1, E2), OPTREF_OK);
    mpmat_clear(X), mpmat_clear(F1), mpmat_clear(F2), mpmat_clear(G);
    mpmat_clear(E1), mpmat_clear(E2);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("mpmat_dft2");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_accuracy);
    tcase_add_test(tc, test_hermitian_exact);
    tcase_add_test(tc, test_exact_inputs);
    tcase_add_test(tc, test_cabs_definition);
    tcase_add_test(tc, test_aliasing);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}
