/* Support for the unit tests: the suite hook, a deterministic test-data
 * source independent of the library's generator, and ratio reporting in the
 * style of LAPACK's tests (scale-free residual / (n ||A|| 2^-p) < threshold). */
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

/* Keeps the worst ratio of a named check and prints it at the end of the
 * test (call test_worst_report once). */
typedef struct { const char *name; long double worst; long double threshold; } test_worst;
void test_worst_add(test_worst *w, long double ratio);
void test_worst_report(const test_worst *w);

#endif
