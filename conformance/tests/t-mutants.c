/* Every mutant of the catalogue (fast/mutants.c) is caught by the gate on
 * the default suite: with the mutant active in cpu64, at least one case of
 * its optimizer fails, and the report names where. Linked with
 * build/liboptref-mutants.a; without a mutant that library is the correct
 * backend, and the same cases pass. */
#include "testlib.h"

#include <stdio.h>
#include <string.h>

#include "../../fast/mutants.h"
#include "optref/conform.h"

/* The worst result over the default-suite cases of opt on cpu64. */
static int run_cases(const char *opt, conform_result *worst)
{
    const conform_case *cases;
    size_t n = conform_cases(&cases);
    int failed = 0, ran = 0;
    worst->ratio = -1;
    for (size_t k = 0; k < n; k++) {
        if (strcmp(cases[k].opt, opt) != 0 || cases[k].tier > 1)
            continue;
        conform_result r;
        optref_status st = conform_run(&cases[k], BACKEND_CPU64, CONFORM_STEP, &r);
        ck_assert_msg(st == OPTREF_OK, "%s: %s", cases[k].name, optref_last_error());
        ran++;
        failed += !r.passed;
        if (r.ratio > worst->ratio)
            *worst = r;
    }
    ck_assert_msg(ran > 0, "the default suite has no case of %s", opt);
    return failed;
}

START_TEST(test_every_mutant_is_caught)
{
    for (size_t i = 0; i < fast_mutant_count(); i++) {
        const fast_mutant_info *m = fast_mutant_at(i);
        fast_mutant_select(m->id);
        conform_result w;
        int failed = run_cases(m->opt, &w);
        fast_mutant_select(NULL);
        ck_assert_msg(failed > 0, "mutant %s (%s) was not caught: worst ratio %.3g", m->id,
                      m->what, w.ratio);
        printf("  caught %-32s %d case(s); worst: step %u %s[%zu][%zu] ratio %.3g\n", m->id,
               failed, w.step, w.tensor, w.row, w.col, w.ratio);
    }
}
END_TEST

START_TEST(test_without_mutant_all_pass)
{
    fast_mutant_select(NULL);
    for (size_t i = 0; i < fast_mutant_count(); i++) {
        conform_result w;
        ck_assert_int_eq(run_cases(fast_mutant_at(i)->opt, &w), 0);
    }
}
END_TEST

/* Level 3 sees a backend whose method is really different: heavy-ball
 * momentum run as Nesterov's (the flipped mutant) moves the quartiles of
 * log(subopt) outside the reference's confidence intervals on a
 * well-conditioned problem (ratio about 7), while the correct backend stays
 * inside them (ratio about 1e-15). */
START_TEST(test_statistics_see_a_changed_method)
{
    /* heavy ball against Nesterov on a well-conditioned dense quadratic */
    const conform_case heavy = {"sgd/heavy-ball", 1, "sgd", {"lr=0.005", "momentum=0.9", NULL},
                                "trace-dense", {"d=6", "p=3", "lambda_max=100"}, 11, "exact", 1,
                                10, "0.005"};
    const conform_case *c = &heavy;
    conform_result good, bad;
    fast_mutant_select(NULL);
    TEST_OK(conform_statistics(c, BACKEND_CPU64, 16, 4 * c->steps, &good));
    fast_mutant_select("sgd-nesterov-flipped");
    TEST_OK(conform_statistics(c, BACKEND_CPU64, 16, 4 * c->steps, &bad));
    fast_mutant_select(NULL);
    printf("  statistics: correct ratio %.3g, mutant ratio %.3g (threshold 1)\n", good.ratio,
           bad.ratio);
    ck_assert(good.passed);
    ck_assert(!bad.passed);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("mutants");
    TCase *tc = tcase_create("catalogue");
    tcase_set_timeout(tc, 1200); /* the whole suite: minutes on a shared 2-core machine */
    tcase_add_test(tc, test_every_mutant_is_caught);
    tcase_add_test(tc, test_without_mutant_all_pass);
    tcase_add_test(tc, test_statistics_see_a_changed_method);
    suite_add_tcase(s, tc);
    return s;
}
