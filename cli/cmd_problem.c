/* optref problem NAME --seed S [--prec BITS] [--set key=value ...] [--json] [--exact] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "optref/problem.h"

static void help(void)
{
    printf("usage: optref problem NAME --seed S [--prec BITS] [--set key=value ...] [--json] [--exact]\n\n"
           "Builds a problem instance with the reference generator and prints it.\n"
           "  --seed S       generator seed, an integer in [0, 2^64 - 1] (required)\n"
           "  --prec BITS    working precision, 53..65536 (default 256)\n"
           "  --set k=v      a problem option (see 'optref list problems')\n"
           "  --json         JSON: name, seed, d, p, H, B, X0, Xstar, fstar, eigenvalues\n"
           "                 (numbers are the shortest round-trip binary64 of the reference value;\n"
           "                 a diagonal H, as nqm's, is given as H_diagonal instead of H)\n"
           "  --exact        with --json, also the same fields under \"exact\" as decimal strings\n"
           "                 carrying the full working precision\n");
}

static json_object *problem_json(const problem *P, int exact)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(P->info->name));
    json_object_object_add(o, "seed", json_object_new_uint64(P->seed));
    json_object_object_add(o, "prec", json_object_new_int64(P->prec));
    json_object_object_add(o, "d", json_object_new_uint64(P->d));
    json_object_object_add(o, "p", json_object_new_uint64(P->p));
    json_object_object_add(o, P->diagonal ? "H_diagonal" : "H",
                           P->diagonal ? json_mpmat_flat(P->H, exact) : json_mpmat_rows(P->H, exact));
    json_object_object_add(o, "B", json_mpmat_rows(P->B, exact));
    json_object_object_add(o, "X0", json_mpmat_rows(P->X0, exact));
    json_object_object_add(o, "Xstar", json_mpmat_rows(P->Xstar, exact));
    json_object_object_add(o, "fstar", exact ? json_mpfr_exact(P->fstar) : json_mpfr_b64(P->fstar));
    json_object_object_add(o, "eigenvalues", json_mpmat_flat(P->eigenvalues, exact));
    return o;
}

static void print_human(const problem *P)
{
    mpfr_t s;
    mpfr_init2(s, P->prec);
    problem_subopt(s, P, P->X0);
    printf("problem %s, seed %llu, %ld-bit working precision\n", P->info->name,
           (unsigned long long)P->seed, (long)P->prec);
    printf("  X is %zu x %zu; H is %s\n", P->d, P->p, P->diagonal ? "diagonal" : "dense");
    size_t n = P->eigenvalues->rows;
    mpfr_printf("  eigenvalues: %.6Rg (largest) .. %.6Rg (smallest)\n", mpmat_entry(P->eigenvalues, 0, 0),
                mpmat_entry(P->eigenvalues, n - 1, 0));
    mpfr_printf("  f* = %.17Rg\n  subopt(X0) = %.17Rg\n", P->fstar, s);
    mpfr_clear(s);
}

int cmd_problem(int argc, char **argv)
{
    static const struct option opts[] = {
        {"seed", required_argument, NULL, 's'}, {"prec", required_argument, NULL, 'p'},
        {"set", required_argument, NULL, 'S'},  {"json", no_argument, NULL, 'j'},
        {"exact", no_argument, NULL, 'x'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    uint64_t seed = 0;
    int have_seed = 0, json = 0, exact = 0, c;
    mpfr_prec_t prec = 256;
    const char **sets = calloc((size_t)argc, sizeof *sets);
    size_t nsets = 0;
    int rc = EXIT_PASS;
    if (sets == NULL)
        return cli_usage_error("problem", "out of memory");
    optind = 1;
    opterr = 0;
    while (rc == EXIT_PASS && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (cli_parse_seed(&seed, optarg) != 0)
                rc = cli_usage_error("problem", "--seed '%s': expected an integer in [0, 2^64 - 1]", optarg);
            have_seed = 1;
            break;
        case 'p':
            if (cli_parse_prec(&prec, optarg) != 0)
                rc = cli_usage_error("problem", "--prec '%s': expected an integer number of bits in [53, 65536]",
                                     optarg);
            break;
        case 'S': sets[nsets++] = optarg; break;
        case 'j': json = 1; break;
        case 'x': exact = 1; break;
        case 'h': free(sets); help(); return EXIT_PASS;
        default:
            rc = cli_usage_error("problem", "unknown or incomplete option '%s' (run 'optref problem --help')",
                                 argv[optind - 1]);
        }
    }
    const problem_info *info = NULL;
    if (rc == EXIT_PASS) {
        if (optind != argc - 1)
            rc = cli_usage_error("problem", "expected one problem name (see 'optref list problems')");
        else if ((info = problem_info_find(argv[optind])) == NULL)
            rc = cli_usage_error("problem", "unknown problem '%s' (see 'optref list problems')", argv[optind]);
        else if (!have_seed)
            rc = cli_usage_error("problem", "--seed is required");
        else if (exact && !json)
            rc = cli_usage_error("problem", "--exact needs --json");
    }
    param_set ps = {0};
    if (rc == EXIT_PASS && param_set_init(&ps, info->params, info->nparams) != OPTREF_OK)
        rc = cli_usage_error("problem", "%s", optref_last_error());
    for (size_t i = 0; rc == EXIT_PASS && i < nsets; i++)
        if (param_set_parse(&ps, sets[i]) != OPTREF_OK)
            rc = cli_usage_error("problem", "%s: %s", info->name, optref_last_error());
    free(sets);
    if (rc != EXIT_PASS) {
        param_set_clear(&ps);
        return rc;
    }
    problem P;
    if (problem_create(&P, info->name, seed, prec, &ps) != OPTREF_OK) {
        rc = cli_usage_error("problem", "%s", optref_last_error());
        param_set_clear(&ps);
        return rc;
    }
    param_set_clear(&ps);
    if (json) {
        json_object *o = problem_json(&P, 0);
        if (exact)
            json_object_object_add(o, "exact", problem_json(&P, 1));
        if (json_print(o, 0) != 0)
            rc = cli_usage_error("problem", "cannot write to standard output");
        json_object_put(o);
    } else {
        print_human(&P);
    }
    problem_clear(&P);
    return rc;
}
