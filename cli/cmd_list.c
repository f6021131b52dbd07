/* optref list [optimizers|problems|oracles|backends] [--json] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "optref/problem.h"

static const char *const kinds[] = {"problems", "oracles", "backends"};

static void help(void)
{
    printf("usage: optref list [problems|oracles|backends] [--json]\n\n"
           "Lists what exists in this build; with no kind, everything.\n"
           "  --json   machine-readable output\n");
}

static json_object *problems_json(void)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < problem_count(); i++) {
        const problem_info *p = problem_info_at(i);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(p->name));
        json_object_object_add(o, "summary", json_object_new_string(p->summary));
        json_object_object_add(o, "options", json_param_table(p->params, p->nparams));
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *oracles_json(void)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < oracle_count(); i++) {
        const oracle_info *p = oracle_info_at(i);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(p->name));
        json_object_object_add(o, "summary", json_object_new_string(p->summary));
        json_object_array_add(a, o);
    }
    return a;
}

static json_object *backends_json(void)
{
    json_object *a = json_object_new_array();
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string("ref"));
    json_object_object_add(o, "summary", json_object_new_string("exact MPFR reference"));
    json_object_object_add(o, "available", json_object_new_boolean(1));
    json_object_array_add(a, o);
    return a;
}

static void print_human(const char *kind, json_object *items)
{
    printf("%s:\n", kind);
    for (size_t i = 0; i < json_object_array_length(items); i++) {
        json_object *o = json_object_array_get_idx(items, i), *name, *summary, *opts;
        json_object_object_get_ex(o, "name", &name);
        json_object_object_get_ex(o, "summary", &summary);
        printf("  %-12s %s\n", json_object_get_string(name), json_object_get_string(summary));
        if (json_object_object_get_ex(o, "options", &opts))
            for (size_t k = 0; k < json_object_array_length(opts); k++) {
                json_object *p = json_object_array_get_idx(opts, k), *n, *d, *doc;
                json_object_object_get_ex(p, "name", &n);
                json_object_object_get_ex(p, "default", &d);
                json_object_object_get_ex(p, "doc", &doc);
                printf("      %s=%s  %s\n", json_object_get_string(n),
                       d ? json_object_get_string(d) : "(required)", json_object_get_string(doc));
            }
    }
}

int cmd_list(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else if (c == 'h')
            return help(), EXIT_PASS;
        else
            return cli_usage_error("list", "unknown option '%s' (run 'optref list --help')",
                                   argv[optind - 1]);
    }
    if (argc - optind > 1)
        return cli_usage_error("list", "expected at most one kind, got %d", argc - optind);
    const char *want = optind < argc ? argv[optind] : NULL;
    if (want != NULL) {
        int known = 0;
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            known |= strcmp(want, kinds[i]) == 0;
        if (!known)
            return cli_usage_error("list", "unknown kind '%s': expected problems, oracles or backends",
                                   want);
    }
    json_object *all = json_object_new_object();
    json_object *(*makers[])(void) = {problems_json, oracles_json, backends_json};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (want == NULL || strcmp(want, kinds[i]) == 0)
            json_object_object_add(all, kinds[i], makers[i]());
    int rc = EXIT_PASS;
    if (json) {
        if (json_print(all, 1) != 0)
            rc = cli_usage_error("list", "cannot write to standard output");
    } else {
        json_object_object_foreach(all, key, val) print_human(key, val);
    }
    json_object_put(all);
    return rc;
}
