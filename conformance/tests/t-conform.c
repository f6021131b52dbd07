/* The conformance gate on the correct backends: every case of the default
 * suite passes on cpu64 and cpu32 (the gate flags no correct backend), the
 * bound models agree with the reference, and the worst ratios are printed
 * (the observed margins of proofs/conformance-running-error.md). */
#include "testlib.h"

#include <stdio.h>
#include <string.h>

#include "optref/conform.h"

START_TEST(test_default_suite_passes)
{
    const conform_case *cases;
    size_t n = conform_cases(&cases);
    ck_assert_uint_gt(n, 0);
    double worst[FAST_BACKEND_COUNT] = {0};
    for (size_t k = 0; k < n; k++)
        for (int b = 0; cases[k].tier <= 1 && b < FAST_BACKEND_COUNT; b++)
            for (int level = CONFORM_STEP; level <= CONFORM_TRAJECTORY; level++) {
            conform_result r;
            optref_status st = conform_run(&cases[k], (fast_backend)b, (conform_level)level, &r);
            ck_assert_msg(st == OPTREF_OK, "%s on %s: %s", cases[k].name,
                          fast_backend_name((fast_backend)b), optref_last_error());
            ck_assert_msg(r.passed, "%s on %s, level %s: ratio %.3g > %.3g at step %u %s[%zu][%zu]",
                          cases[k].name, fast_backend_name((fast_backend)b),
                          conform_level_name(r.level), r.ratio, r.threshold, r.step, r.tensor,
                          r.row, r.col);
            ck_assert_uint_gt(r.compared, 0);
            if (r.ratio > worst[b])
                worst[b] = r.ratio;
        }
    for (int b = 0; b < FAST_BACKEND_COUNT; b++)
        printf("  %s: worst ratio over the default suite %.3g\n",
               fast_backend_name((fast_backend)b), worst[b]);
}
END_TEST

/* Every optimizer with a fast backend and a bound has a quick case on the
 * DeVA problem, so the quick suite covers the registry. */
START_TEST(test_quick_suite_covers_the_registry)
{
    const conform_case *cases;
    size_t n = conform_cases(&cases);
    ck_assert_int_eq(conform_suite_tier("quick"), 0);
    ck_assert_int_eq(conform_suite_tier("full"), 2);
    ck_assert_int_eq(conform_suite_tier("nonsense"), -1);
    for (size_t i = 0; i < optimizer_count(); i++) {
        const char *opt = optimizer_info_at(i)->name;
        if (!conform_has_bound(opt) || !fast_opt_supported(BACKEND_CPU64, opt))
            continue;
        int quick = 0;
        for (size_t k = 0; k < n; k++)
            quick |= cases[k].tier == 0 && strcmp(cases[k].opt, opt) == 0;
        ck_assert_msg(quick, "%s has no quick case", opt);
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("conform");
    TCase *tc = tcase_create("gate");
    tcase_set_timeout(tc, 1200); /* the whole suite: minutes on a shared 2-core machine */
    tcase_add_test(tc, test_default_suite_passes);
    tcase_add_test(tc, test_quick_suite_covers_the_registry);
    suite_add_tcase(s, tc);
    return s;
}
