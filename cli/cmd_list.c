/* optref list [optimizers|problems|oracles|backends] [--json] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "optref/conform.h"
#include "optref/fast.h"
#include "optref/optimizer.h"
#include "optref/problem.h"

static const char *const kinds[] = {"optimizers", "problems", "oracles", "backends"};

static void help(void)
{
    printf("usage: optref list [optimizers|problems|oracles|backends] [--json]\n\n"
           "Lists what exists in this build; with no kind, everything.\n"
           "  --json   machine-readable output\n");
}

static const char *shape_rule(state_shape s)
{
    switch (s) {
    case STATE_PARAM: return "m x n";
    case STATE_LEFT: return "m x m (0 x 0 when m > max_precond_dim)";
    case STATE_RIGHT: return "n x n (0 x 0 when n > max_precond_dim)";
    case STATE_LEFT_FULL: return "m x m";
    case STATE_RIGHT_FULL: return "n x n";
    case STATE_ROWS: return "m x 1";
    case STATE_COLS: return "1 x n";
    case STATE_SCALAR: return "1 x 1";
    case STATE_FLAT_SQ: return "mn x mn (0 x 0 unless rotation=dense)";
    }
    return "?";
}

static json_object *optimizers_json(void)
{
    static const char *const inits[] = {"zeros", "ones", "identity"};
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < optimizer_count(); i++) {
        const optimizer_info *p = optimizer_info_at(i);
        json_object *o = json_object_new_object(), *st = json_object_new_array();
        json_object_object_add(o, "name", json_object_new_string(p->name));
        json_object_object_add(o, "summary", json_object_new_string(p->source));
        json_object_object_add(o, "options", json_param_table(p->hyper, p->nhyper));
        for (size_t k = 0; k < p->nstate; k++) {
            json_object *t = json_object_new_object();
            json_object_object_add(t, "name", json_object_new_string(p->state[k].name));
            json_object_object_add(t, "shape", json_object_new_string(shape_rule(p->state[k].shape)));
            json_object_object_add(t, "init", json_object_new_string(inits[p->state[k].init]));
            json_object_object_add(t, "meaning", json_object_new_string(p->state[k].meaning));
            json_object_array_add(st, t);
        }
        json_object_object_add(o, "state", st);
        json_object_object_add(o, "shapes", json_object_new_string("any m x n (vectors as 1 x n or d x 1)"));
        json_object *needs = json_object_new_array();
        if (p->needs & NEEDS_GRADIENT_AT)
            json_object_array_add(needs, json_object_new_string("gradient_at"));
        if (p->needs & NEEDS_HVP)
            json_object_array_add(needs, json_object_new_string("hvp"));
        json_object_object_add(o, "needs", needs);
        if (p->default_base != NULL)
            json_object_object_add(o, "default_base", json_object_new_string(p->default_base));
        json_object *backends = json_object_new_array();
        json_object_array_add(backends, json_object_new_string("ref"));
        for (int b = 0; b < FAST_BACKEND_COUNT; b++)
            if (fast_opt_supported((fast_backend)b, p->name))
                json_object_array_add(backends,
                                      json_object_new_string(fast_backend_name((fast_backend)b)));
        json_object_object_add(o, "backends", backends);
        json_object_object_add(o, "conformance_bound", json_object_new_boolean(conform_has_bound(p->name)));
        json_object_array_add(a, o);
    }
    return a;
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

static void add_backend(json_object *a, const char *name, const char *summary, int available,
                        const char *why_not)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_object_add(o, "summary", json_object_new_string(summary));
    json_object_object_add(o, "available", json_object_new_boolean(available));
    if (why_not != NULL)
        json_object_object_add(o, "why_not", json_object_new_string(why_not));
    json_object_array_add(a, o);
}

static json_object *backends_json(void)
{
    json_object *a = json_object_new_array();
    add_backend(a, "ref", "exact MPFR reference (any precision >= 53 bits)", 1, NULL);
    add_backend(a, "cpu64", "binary64 on the CPU (OpenBLAS, LAPACKE, FFTW3)", 1, NULL);
    add_backend(a, "cpu32", "binary32 on the CPU (OpenBLAS, LAPACKE, FFTW3)", 1, NULL);
    add_backend(a, "cuda64", "binary64 on an NVIDIA GPU", 0, "not built: the CUDA backend does not exist yet");
    add_backend(a, "cuda32", "binary32 on an NVIDIA GPU", 0, "not built: the CUDA backend does not exist yet");
    return a;
}

static void print_human(const char *kind, json_object *items)
{
    printf("%s:\n", kind);
    for (size_t i = 0; i < json_object_array_length(items); i++) {
        json_object *o = json_object_array_get_idx(items, i), *name, *summary, *opts, *why;
        json_object_object_get_ex(o, "name", &name);
        json_object_object_get_ex(o, "summary", &summary);
        printf("  %-12s %s", json_object_get_string(name), json_object_get_string(summary));
        if (json_object_object_get_ex(o, "why_not", &why))
            printf(" [unavailable: %s]", json_object_get_string(why));
        printf("\n");
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
            return cli_usage_error("list", "unknown kind '%s': expected optimizers, problems, oracles or backends",
                                   want);
    }
    json_object *all = json_object_new_object();
    json_object *(*makers[])(void) = {optimizers_json, problems_json, oracles_json, backends_json};
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
