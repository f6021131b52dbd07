/* Shared by the quadratics tests: a trace-dense problem with explicit
 * options. */
#ifndef OPTREF_TEST_DENSE_PROBLEM_H
#define OPTREF_TEST_DENSE_PROBLEM_H

#include <stdio.h>

#include "testlib.h"

#include "optref/problem.h"

/* P = trace-dense with d, p, lambda_min, lambda_max and, unless it is NULL,
 * spectrum (else the default spectrum). */
static inline void create_dense(problem *P, uint64_t seed, mpfr_prec_t prec, long d, long p,
                                const char *spectrum, const char *lmin, const char *lmax)
{
    const problem_info *info = problem_info_find("trace-dense");
    ck_assert_ptr_nonnull(info);
    param_set ps;
    char kv[64];
    TEST_OK(param_set_init(&ps, info->params, info->nparams));
    snprintf(kv, sizeof kv, "d=%ld", d);
    TEST_OK(param_set_parse(&ps, kv));
    snprintf(kv, sizeof kv, "p=%ld", p);
    TEST_OK(param_set_parse(&ps, kv));
    if (spectrum != NULL)
        TEST_OK(param_set_value(&ps, "spectrum", spectrum));
    TEST_OK(param_set_value(&ps, "lambda_min", lmin));
    TEST_OK(param_set_value(&ps, "lambda_max", lmax));
    TEST_OK(problem_create(P, "trace-dense", seed, prec, &ps));
    param_set_clear(&ps);
}

#endif
