/* optref conform: the conformance gate (spec/cli.md, spec/conformance.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "optref/conform.h"

static void help(void)
{
    printf("usage: optref conform [--opt LIST|all] [--backend LIST|all] [--suite quick|default|full]\n"
           "                      [--json FILE]\n\n"
           "Runs the conformance gate: every case of the suite on every backend, each step\n"
           "teacher-forced from the reference and judged against its derived error bound.\n"
           "Prints one row per optimizer and backend (worst ratio, threshold, verdict, elements\n"
           "near a discontinuity) and a summary line; --json also writes the machine-readable\n"
           "report. LISTs are comma-separated.\n\n"
           "Exit status: 0 every case passed, 1 a violation, 2 the run could not be judged.\n");
}

/* Level 3's size: seeds per case (default 16, full 64) and steps per run. */
#define STAT_SEEDS(tier) ((tier) >= 2 ? 64u : 16u)
#define STAT_STEPS(steps) (4 * (steps))

/* The next item of a comma-separated list into buf; returns the rest of the
 * list, or NULL when the list is exhausted. */
static const char *next_item(const char *p, char *buf, size_t size)
{
    if (*p == '\0')
        return NULL;
    const char *comma = strchr(p, ',');
    size_t l = comma ? (size_t)(comma - p) : strlen(p);
    snprintf(buf, size, "%.*s", (int)l, p);
    return p + l + (comma != NULL);
}

/* name is in the comma-separated list (or the list is "all"). */
static int in_list(const char *list, const char *name)
{
    char item[64];
    if (strcmp(list, "all") == 0)
        return 1;
    for (const char *p = list; (p = next_item(p, item, sizeof item)) != NULL;)
        if (strcmp(item, name) == 0)
            return 1;
    return 0;
}

/* Every name of the list is known (optimizer, or backend); else the first
 * unknown one is left in bad. */
static int check_list(const char *list, int backends, char *bad, size_t size)
{
    fast_backend b;
    if (strcmp(list, "all") == 0)
        return 0;
    for (const char *p = list; (p = next_item(p, bad, size)) != NULL;)
        if (backends ? fast_backend_find(&b, bad) != 0 : optimizer_info_find(bad) == NULL)
            return -1;
    return 0;
}

/* Names the registry's optimizers the gate does not cover yet. */
static void uncovered(void)
{
    int first = 1;
    for (size_t i = 0; i < optimizer_count(); i++) {
        const char *name = optimizer_info_at(i)->name;
        int covered = conform_has_bound(name);
        for (int b = 0; b < FAST_BACKEND_COUNT; b++)
            covered &= fast_opt_supported((fast_backend)b, name);
        if (!covered) {
            printf("%s%s", first ? "not yet covered by the gate (no fast backend or bound): " : ", ",
                   name);
            first = 0;
        }
    }
    if (!first)
        printf("\n");
}

typedef struct {
    const char *opt;
    fast_backend backend;
    conform_level level;
    conform_result worst;
    const char *worst_case;
    unsigned cases, failed;
    unsigned long near, unbounded, adopted;
    double adopt_ratio, adopt_threshold;
} row;

static json_object *result_json(const char *case_name, const char *opt, fast_backend b,
                                const conform_result *r)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "case", json_object_new_string(case_name));
    json_object_object_add(o, "optimizer", json_object_new_string(opt));
    json_object_object_add(o, "backend", json_object_new_string(fast_backend_name(b)));
    json_object_object_add(o, "level", json_object_new_string(conform_level_name(r->level)));
    json_object_object_add(o, "passed", json_object_new_boolean(r->passed));
    json_object_object_add(o, "ratio", json_object_new_double(r->ratio));
    json_object_object_add(o, "threshold", json_object_new_double(r->threshold));
    json_object_object_add(o, "near_discontinuity", json_object_new_uint64(r->near));
    json_object_object_add(o, "compared", json_object_new_uint64(r->compared));
    json_object_object_add(o, "unbounded", json_object_new_uint64(r->unbounded));
    json_object_object_add(o, "adopted_bases", json_object_new_uint64(r->adopted));
    if (r->adopted > 0) {
        json_object_object_add(o, "adopt_ratio", json_object_new_double(r->adopt_ratio));
        json_object_object_add(o, "adopt_threshold", json_object_new_double(r->adopt_threshold));
    }
    json_object *w = json_object_new_object();
    json_object_object_add(w, "step", json_object_new_int64(r->step));
    json_object_object_add(w, "tensor", json_object_new_string(r->tensor));
    json_object_object_add(w, "row", json_object_new_uint64(r->row));
    json_object_object_add(w, "col", json_object_new_uint64(r->col));
    json_object_object_add(w, "reference", json_object_new_double(r->ref));
    json_object_object_add(w, "observed", json_object_new_double(r->observed));
    json_object_object_add(w, "error", json_object_new_double(r->error));
    json_object_object_add(w, "scale", json_object_new_double(r->scale));
    json_object_object_add(o, "worst", w);
    return o;
}

static void print_violation(const char *case_name, fast_backend b, const conform_result *r)
{
    printf("  VIOLATION %s on %s (level %s): step %u, %s[%zu][%zu]: reference %.17g, observed "
           "%.17g, error %.3g, scale %.3g, ratio %.3g > threshold %.3g\n",
           case_name, fast_backend_name(b), conform_level_name(r->level), r->step, r->tensor, r->row, r->col, r->ref,
           r->observed, r->error, r->scale, r->ratio, r->threshold);
}

int cmd_conform(int argc, char **argv)
{
    static const struct option opts[] = {
        {"opt", required_argument, NULL, 'o'},   {"backend", required_argument, NULL, 'b'},
        {"suite", required_argument, NULL, 's'}, {"json", required_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
    const char *opt_list = "all", *backend_list = "all", *suite = "default", *json_path = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'o': opt_list = optarg; break;
        case 'b': backend_list = optarg; break;
        case 's': suite = optarg; break;
        case 'j': json_path = optarg; break;
        case 'h': help(); return EXIT_PASS;
        default:
            return cli_usage_error("conform", "unknown or incomplete option '%s' (run 'optref "
                                   "conform --help')", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return cli_usage_error("conform", "unexpected argument '%s'", argv[optind]);
    char bad[64];
    if (check_list(opt_list, 0, bad, sizeof bad) != 0)
        return cli_usage_error("conform", "unknown optimizer '%s' (see 'optref list optimizers')", bad);
    if (check_list(backend_list, 1, bad, sizeof bad) != 0)
        return cli_usage_error("conform", "unknown backend '%s' (available: cpu64, cpu32)", bad);
    const conform_case *cases;
    size_t ncases = conform_cases(&cases);
    int tier = conform_suite_tier(suite);
    if (tier < 0)
        return cli_usage_error("conform", "unknown suite '%s' (quick, default, full)", suite);

    row *rows = calloc(ncases * FAST_BACKEND_COUNT * CONFORM_LEVEL_COUNT, sizeof *rows);
    json_object *report = json_object_new_object(), *results = json_object_new_array();
    size_t nrows = 0;
    int rc = rows ? EXIT_PASS : cli_usage_error("conform", "out of memory");
    unsigned judged = 0, failed = 0;
    int progress = isatty(STDERR_FILENO);
    printf("optref conform: suite %s: levels step (teacher-forced), trajectory (open loop)%s\n",
           suite, tier > 0 ? " and statistics (seeds, closed loop)" : "");
    for (size_t k = 0; rc == EXIT_PASS && k < ncases; k++) {
        if (!in_list(opt_list, cases[k].opt) || (int)cases[k].tier > tier)
            continue;
        for (int bi = 0; rc == EXIT_PASS && bi < FAST_BACKEND_COUNT * CONFORM_LEVEL_COUNT; bi++) {
            fast_backend b = (fast_backend)(bi / CONFORM_LEVEL_COUNT);
            conform_level level = (conform_level)(CONFORM_STEP + bi % CONFORM_LEVEL_COUNT);
            if (!in_list(backend_list, fast_backend_name(b)))
                continue;
            /* seed statistics: on the quick cases, in the default and full suites */
            if (level == CONFORM_STATISTICS && (tier == 0 || cases[k].tier != 0))
                continue;
            if (progress)
                fprintf(stderr, "\r  %-40s %s   ", cases[k].name, fast_backend_name(b));
            conform_result r;
            optref_status st = level == CONFORM_STATISTICS
                                   ? conform_statistics(&cases[k], b, STAT_SEEDS(tier),
                                                        STAT_STEPS(cases[k].steps), &r)
                                   : conform_run(&cases[k], b, level, &r);
            if (st != OPTREF_OK) {
                if (progress)
                    fputc('\n', stderr);
                rc = cli_usage_error("conform", "%s on %s could not be judged: %s", cases[k].name,
                                     fast_backend_name(b), optref_last_error());
                break;
            }
            judged++;
            json_object_array_add(results, result_json(cases[k].name, cases[k].opt, b, &r));
            size_t i = 0;
            while (i < nrows && !(strcmp(rows[i].opt, cases[k].opt) == 0 && rows[i].backend == b &&
                                  rows[i].level == level))
                i++;
            if (i == nrows) {
                rows[nrows].opt = cases[k].opt;
                rows[nrows].backend = b;
                rows[nrows].level = level;
                rows[nrows].worst.ratio = -1;
                nrows++;
            }
            rows[i].cases++;
            rows[i].near += r.near;
            rows[i].unbounded += r.unbounded;
            rows[i].adopted += r.adopted;
            if (r.adopted > 0 && r.adopt_ratio >= rows[i].adopt_ratio) {
                rows[i].adopt_ratio = r.adopt_ratio;
                rows[i].adopt_threshold = r.adopt_threshold;
            }
            if (r.ratio > rows[i].worst.ratio) {
                rows[i].worst = r;
                rows[i].worst_case = cases[k].name;
            }
            if (!r.passed) {
                rows[i].failed++;
                failed++;
                if (progress)
                    fputc('\n', stderr);
                print_violation(cases[k].name, b, &r);
            }
        }
    }
    if (progress)
        fprintf(stderr, "\r%60s\r", "");
    if (rc == EXIT_PASS) {
        printf("%-16s %-7s %-10s %5s %12s %10s %8s %6s %6s  %s\n", "optimizer", "backend",
               "level", "cases", "worst ratio", "threshold", "verdict", "near", "unbnd",
               "adopted bases (worst validation ratio/threshold)");
        for (size_t i = 0; i < nrows; i++) {
            printf("%-16s %-7s %-10s %5u %12.3g %10.3g %8s %6lu %6lu", rows[i].opt,
                   fast_backend_name(rows[i].backend), conform_level_name(rows[i].level),
                   rows[i].cases, rows[i].worst.ratio, rows[i].worst.threshold,
                   rows[i].failed ? "FAIL" : "pass", rows[i].near, rows[i].unbounded);
            if (rows[i].adopted > 0)
                printf("  %lu (%.3g/%.3g)", rows[i].adopted, rows[i].adopt_ratio,
                       rows[i].adopt_threshold);
            printf("\n");
        }
        printf("near: elements within their error of a discontinuity (either outcome accepted); "
               "unbnd: elements whose bound is not finite (not judged); adopted: eigenbases taken "
               "from the backend after the LAPACK test (spec/conformance.md 3)\n");
        uncovered();
        printf("conform: %u passed, %u failed\n", judged - failed, failed);
        if (failed > 0)
            rc = EXIT_VIOLATION;
    }
    json_object_object_add(report, "suite", json_object_new_string(suite));
    json_object_object_add(report, "passed", json_object_new_boolean(rc == EXIT_PASS));
    json_object_object_add(report, "results", results);
    if (json_path != NULL && rc != EXIT_USAGE) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", json_path);
        if (json_object_to_file_ext(tmp, report, JSON_C_TO_STRING_PRETTY) != 0 ||
            rename(tmp, json_path) != 0) {
            remove(tmp);
            rc = cli_usage_error("conform", "cannot write '%s'", json_path);
        }
    }
    json_object_put(report);
    free(rows);
    return rc;
}
