/* Support for the unit tests: the suite hook, a deterministic test-data
 * source independent of the library's generator, ratio reporting in the
 * style of LAPACK's tests (scale-free residual / (n ||A|| 2^-p) < threshold),
 * and the test matrices and formulas that several test files share. */
#ifndef OPTREF_TESTLIB_H
#define OPTREF_TESTLIB_H

#include <check.h>
#include <stdint.h>

#include <mpfr.h>

#include "optref/mpmat.h"

/* Each test file defines its suite; tests/support/check_main.c runs it. */
Suite *test_suite(void);

/* The precisions every kernel is tested at. */
extern const mpfr_prec_t test_precisions[4]; /* 53, 113, 256, 1024 */

/* splitmix64: a tiny deterministic source of test data. */
typedef struct { uint64_t s; } test_rng;
uint64_t test_rng_next(test_rng *r);
/* A uniform integer in [0, n). */
uint64_t test_rng_below(test_rng *r, uint64_t n);
/* Fills A with exact dyadics uniform in [-1, 1) (53-bit numerators). */
void test_fill_uniform(mpmat_ptr A, test_rng *r);

/* Aborts the test with a message when st is not OPTREF_OK. */
#define TEST_OK(expr)                                                                    \
    do {                                                                                 \
        optref_status st_ = (expr);                                                      \
        ck_assert_msg(st_ == OPTREF_OK, "%s failed: %s", #expr, optref_last_error());    \
    } while (0)

/* ratio = ||R||_F / (scale * 2^-prec), as a long double for printing. */
long double test_ratio(mpmat_srcptr R, mpfr_srcptr scale, mpfr_prec_t prec);
/* ratio = num / (scale * 2^-prec) for a number num >= 0 (0 when both are 0,
 * 1e300 when only scale is). */
long double test_scalar_ratio(mpfr_srcptr num, mpfr_srcptr scale, mpfr_prec_t prec);
/* ratio = |num / den| / 2^-prec (1e300 for NaN). */
long double test_relative_ratio(mpfr_srcptr num, mpfr_srcptr den, mpfr_prec_t prec);
/* ratio = ||A - B||_F / (scale * 2^-prec), the difference formed at h bits. */
long double test_diff_ratio(mpmat_srcptr A, mpmat_srcptr B, mpfr_srcptr scale, mpfr_prec_t h,
                            mpfr_prec_t prec);
/* ratio = ||Q^T Q - I||_F / (dim * 2^-prec), formed at 2 prec(Q) + 64 bits. */
long double test_orth_ratio(mpmat_srcptr Q, size_t dim, mpfr_prec_t prec);

/* ---- matrices for the mpmat tests ---- */

static inline size_t test_max_sz(size_t a, size_t b) { return a > b ? a : b; }
static inline size_t test_min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* Fills A with entries uniform in [-1, 1) carrying A->prec random bits (53
 * at a time). */
void test_fill_full(mpmat_ptr A, test_rng *r);
/* Sets A from a row-major list of small integers. */
void test_set_ints(mpmat_ptr A, const long *v);
/* C (initialised here, at prec) = columns [c0, c1) of V. */
void test_columns(mpmat_ptr C, mpmat_srcptr V, size_t c0, size_t c1, mpfr_prec_t prec);
/* Q (n x n, initialised by the caller) orthogonal to about 2^-prec(Q):
 * Gram-Schmidt, twice, of random rows at Q's precision (independent of
 * mpmat_qr); a nearly dependent draw is drawn again. */
void test_random_orthogonal(mpmat_ptr Q, test_rng *r);
/* Q (initialised here: n x n at h bits) = the Q factor of mpmat_qr of
 * test_fill_full data. */
void test_random_orthogonal_qr(mpmat_ptr Q, size_t n, mpfr_prec_t h, test_rng *r);
/* A = RN(Q diag(lam) Q^T) for Q n x n and lam n x 1: Q diag(lam) exactly,
 * then one rounding per entry at A's precision. */
void test_plant_symmetric(mpmat_ptr A, mpmat_srcptr Q, mpmat_srcptr lam);

/* No entry of M is -0. */
int test_no_negative_zero(mpmat_srcptr M);
/* Column j's largest-magnitude entry (the first on ties) is positive. */
int test_column_is_sign_canonical(mpmat_srcptr V, size_t j);
/* A and B have one shape and equal values (zeros of either sign equal). */
int test_same_values(mpmat_srcptr A, mpmat_srcptr B);

/* ---- formulas of the optimizer tests' own models ---- */

/* Adam's moments at one entry, plain roundings at tmp's precision:
 * m <- beta1 m + (1 - beta1) g, v <- beta2 v + (1 - beta2) g g. */
void test_adam_moments(mpfr_ptr m, mpfr_ptr v, mpfr_srcptr g, mpfr_srcptr beta1,
                       mpfr_srcptr beta2, mpfr_ptr tmp);

/* Keeps the worst ratio of a named check and prints it at the end of the
 * test (call test_worst_report once). */
typedef struct { const char *name; long double worst; long double threshold; } test_worst;
void test_worst_add(test_worst *w, long double ratio);
void test_worst_report(const test_worst *w);

#endif
