/* The run loop shared by `optref run` and `optref hash`. */
#include "trajectory.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fast_run.h"

int run_config_parse(run_config *c, const char *cmd, int argc, char **argv)
{
    enum { O_OPT = 1000, O_PROBLEM, O_SEED, O_STEPS, O_PREC, O_ORACLE, O_BATCH, O_LR, O_SCHEDULE,
           O_WARMUP, O_LR_MIN, O_SET, O_PSET, O_LOAD, O_SAVE, O_OUT, O_BACKEND, O_HELP,
           O_SCHED_T };
    static const struct option opts[] = {
        {"opt", required_argument, NULL, O_OPT},          {"problem", required_argument, NULL, O_PROBLEM},
        {"seed", required_argument, NULL, O_SEED},        {"steps", required_argument, NULL, O_STEPS},
        {"prec", required_argument, NULL, O_PREC},        {"oracle", required_argument, NULL, O_ORACLE},
        {"batch", required_argument, NULL, O_BATCH},      {"lr", required_argument, NULL, O_LR},
        {"schedule", required_argument, NULL, O_SCHEDULE}, {"warmup", required_argument, NULL, O_WARMUP},
        {"lr-min", required_argument, NULL, O_LR_MIN},    {"set", required_argument, NULL, O_SET},
        {"problem-set", required_argument, NULL, O_PSET}, {"load-state", required_argument, NULL, O_LOAD},
        {"save-state", required_argument, NULL, O_SAVE},  {"out", required_argument, NULL, O_OUT},
        {"backend", required_argument, NULL, O_BACKEND},  {"schedule-steps", required_argument, NULL, O_SCHED_T},
        {"help", no_argument, NULL, O_HELP},              {NULL, 0, NULL, 0}};
    memset(c, 0, sizeof *c);
    c->cmd = cmd;
    c->prec = 256;
    c->oracle = "exact";
    c->batch = 1;
    c->schedule = "const";
    c->lr_min = "0";
    c->backend = "ref";
    c->opt_sets = calloc((size_t)argc + 1, sizeof *c->opt_sets);
    c->prob_sets = calloc((size_t)argc + 1, sizeof *c->prob_sets);
    if (c->opt_sets == NULL || c->prob_sets == NULL)
        return cli_usage_error(cmd, "out of memory");
    int have_seed = 0, have_steps = 0, opt;
    uint64_t v;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case O_OPT: c->opt = optarg; break;
        case O_PROBLEM: c->problem = optarg; break;
        case O_SEED:
            if (cli_parse_seed(&c->seed, optarg) != 0)
                return cli_usage_error(cmd, "--seed '%s': expected an integer in [0, 2^64 - 1]", optarg);
            have_seed = 1;
            break;
        case O_STEPS:
        case O_BATCH:
        case O_WARMUP:
        case O_SCHED_T:
            if (cli_parse_seed(&v, optarg) != 0 || v > ((uint64_t)1 << 31))
                return cli_usage_error(cmd, "%s '%s': expected an integer in [0, 2^31]",
                                       argv[optind - 1], optarg);
            if (opt == O_STEPS)
                c->steps = v, have_steps = 1;
            else if (opt == O_BATCH)
                c->batch = v;
            else if (opt == O_WARMUP)
                c->warmup = v;
            else
                c->schedule_steps = v;
            break;
        case O_PREC:
            if (cli_parse_prec(&c->prec, optarg) != 0)
                return cli_usage_error(cmd, "--prec '%s': expected an integer number of bits in [53, 65536]", optarg);
            break;
        case O_ORACLE: c->oracle = optarg; break;
        case O_LR: c->lr = optarg; break;
        case O_SCHEDULE: c->schedule = optarg; break;
        case O_LR_MIN: c->lr_min = optarg; break;
        case O_SET: c->opt_sets[c->nopt_sets++] = optarg; break;
        case O_PSET: c->prob_sets[c->nprob_sets++] = optarg; break;
        case O_LOAD: c->load_state = optarg; break;
        case O_SAVE: c->save_state = optarg; break;
        case O_OUT: c->out = optarg; break;
        case O_BACKEND: c->backend = optarg; break;
        case O_HELP: c->help = 1; return EXIT_PASS;
        default:
            return cli_usage_error(cmd, "unknown or incomplete option '%s' (run 'optref %s --help')",
                                   argv[optind - 1], cmd);
        }
    }
    if (optind != argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (c->load_state == NULL && c->opt == NULL)
        return cli_usage_error(cmd, "--opt is required (see 'optref list optimizers')");
    if (c->problem == NULL)
        return cli_usage_error(cmd, "--problem is required (see 'optref list problems')");
    if (!have_seed)
        return cli_usage_error(cmd, "--seed is required");
    if (!have_steps)
        return cli_usage_error(cmd, "--steps is required");
    if (c->batch == 0)
        return cli_usage_error(cmd, "--batch must be at least 1");
    fast_backend fb;
    int run = strcmp(cmd, "run") == 0;
    if (strcmp(c->backend, "ref") != 0 && (!run || fast_backend_find(&fb, c->backend) != 0))
        return cli_usage_error(cmd, "backend '%s' is not available to %s in this build "
                               "(available: %s)", c->backend, cmd,
                               run ? "ref, cpu64, cpu32" : "ref");
    const char *paths[] = {c->load_state, c->save_state, c->out};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (paths[i] != NULL && paths[j] != NULL && strcmp(paths[i], paths[j]) == 0)
                return cli_usage_error(cmd, "the same file '%s' is given for two of --load-state, "
                                       "--save-state and --out", paths[i]);
    return EXIT_PASS;
}

void run_config_free(run_config *c)
{
    free(c->opt_sets);
    free(c->prob_sets);
}

/* ---- the oracle handed to optimizers that need more than G ---- */

typedef struct {
    const problem *P;
    oracle_kind kind;
    size_t batch;
    uint64_t t;
} oracle_ctx;

static optref_status gradient_at(void *ctx, mpmat_ptr G, mpmat_srcptr X)
{
    const oracle_ctx *c = ctx;
    return oracle_gradient(G, c->P, c->kind, c->batch, c->t, X);
}

static optref_status hvp(void *ctx, mpmat_ptr HU, mpmat_srcptr X, mpmat_srcptr U)
{
    const oracle_ctx *c = ctx;
    (void)X; /* the quadratics' Hessian does not depend on the point */
    return problem_apply_H(HU, c->P, U);
}

/* ---- the state file: ref_opt_save's text, then "chain <hex>" ---- */

static void hex(char *out, const uint8_t *h)
{
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        sprintf(out + 2 * i, "%02x", h[i]);
}

/* chain <- SHA-256(chain || serialisation) (initial: without the chain). */
static optref_status chain_update(uint8_t chain[SHA256_DIGEST_SIZE], int initial, const ref_opt *o,
                                  mpmat_srcptr W)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL)
        return optref_fail(OPTREF_ENOMEM, "cannot open a memory stream");
    optref_status st = ref_opt_save(o, W, f);
    if (fclose(f) != 0 && st == OPTREF_OK)
        st = optref_fail(OPTREF_EIO, "cannot serialise the state");
    if (st == OPTREF_OK) {
        struct sha256_ctx h;
        sha256_init(&h);
        if (!initial)
            sha256_update(&h, SHA256_DIGEST_SIZE, chain);
        sha256_update(&h, len, (const uint8_t *)buf);
        sha256_digest(&h, SHA256_DIGEST_SIZE, chain);
    }
    free(buf);
    return st;
}

static optref_status save_state(const char *path, const ref_opt *o, mpmat_srcptr W,
                                const uint8_t chain[SHA256_DIGEST_SIZE])
{
    size_t len = strlen(path) + 16;
    char *tmp = malloc(len);
    if (tmp == NULL)
        return optref_fail(OPTREF_ENOMEM, "out of memory");
    snprintf(tmp, len, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    optref_status st = f ? OPTREF_OK : optref_fail(OPTREF_EIO, "cannot write '%s'", tmp);
    if (st == OPTREF_OK) {
        char h[2 * SHA256_DIGEST_SIZE + 1];
        hex(h, chain);
        st = ref_opt_save(o, W, f);
        if (st == OPTREF_OK && fprintf(f, "chain %s\n", h) < 0)
            st = optref_fail(OPTREF_EIO, "cannot write '%s'", tmp);
        if (fclose(f) != 0 && st == OPTREF_OK)
            st = optref_fail(OPTREF_EIO, "cannot write '%s'", tmp);
        if (st == OPTREF_OK && rename(tmp, path) != 0)
            st = optref_fail(OPTREF_EIO, "cannot rename '%s' to '%s'", tmp, path);
        if (st != OPTREF_OK)
            remove(tmp);
    }
    free(tmp);
    return st;
}

static optref_status load_state(const char *path, ref_opt **o, mpmat_ptr W,
                                uint8_t chain[SHA256_DIGEST_SIZE])
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return optref_fail(OPTREF_EIO, "cannot open '%s'", path);
    optref_status st = ref_opt_load(o, W, f, path);
    char line[128];
    if (st == OPTREF_OK) {
        unsigned v;
        int ok = fgets(line, sizeof line, f) != NULL && strncmp(line, "chain ", 6) == 0 &&
                 strlen(line) == 6 + 2 * SHA256_DIGEST_SIZE + 1;
        for (int i = 0; ok && i < SHA256_DIGEST_SIZE; i++) {
            ok = sscanf(line + 6 + 2 * i, "%2x", &v) == 1;
            chain[i] = (uint8_t)v;
        }
        if (!ok) {
            st = optref_fail(OPTREF_EPARSE, "%s: missing or malformed 'chain' line after 'end'", path);
            ref_opt_free(*o);
            *o = NULL;
            mpmat_clear(W);
        }
    }
    fclose(f);
    return st;
}

/* The learning rate text: --lr, else the optimizer's (or its base's) lr option. */
static const char *lr_text(const run_config *c, const ref_opt *o)
{
    if (c->lr != NULL)
        return c->lr;
    for (; o != NULL; o = o->base)
        if (ref_opt_text(o, "lr") != NULL)
            return ref_opt_text(o, "lr");
    return NULL;
}

static int fail(const run_config *c, const char *what)
{
    return cli_usage_error(c->cmd, "%s: %s", what, optref_last_error());
}

static int has_option(const run_config *c, const char *key)
{
    size_t len = strlen(key);
    for (size_t i = 0; i < c->nopt_sets; i++)
        if (strncmp(c->opt_sets[i], key, len) == 0 && c->opt_sets[i][len] == '=')
            return 1;
    return 0;
}

/* Whether an optimizer has an option `lr`, and whether it is required. */
static int lr_option(const optimizer_info *info, int *required)
{
    for (size_t i = 0; info != NULL && i < info->nhyper; i++)
        if (strcmp(info->hyper[i].name, "lr") == 0) {
            *required = info->hyper[i].def == NULL;
            return 1;
        }
    return 0;
}

/* Creates the optimizer from the options. --lr becomes its lr option, or,
 * for a wrapper (smi, sam), its base's: base.lr. */
static optref_status create_optimizer(const run_config *c, const problem *P, ref_opt **o)
{
    const char **opts = calloc(c->nopt_sets + 1, sizeof *opts);
    if (opts == NULL)
        return optref_fail(OPTREF_ENOMEM, "out of memory");
    size_t n = 0;
    char lr_opt[96];
    const optimizer_info *info = optimizer_info_find(c->opt), *target = info;
    const char *prefix = "";
    if (info != NULL && info->default_base != NULL) {
        const char *base = info->default_base;
        for (size_t i = 0; i < c->nopt_sets; i++)
            if (strncmp(c->opt_sets[i], "base=", 5) == 0)
                base = c->opt_sets[i] + 5;
        target = optimizer_info_find(base);
        prefix = "base.";
    }
    int required = 0;
    char key[16];
    snprintf(key, sizeof key, "%slr", prefix);
    if (lr_option(target, &required)) {
        if (c->lr != NULL) {
            snprintf(lr_opt, sizeof lr_opt, "%s=%s", key, c->lr);
            opts[n++] = lr_opt;
        } else if (required && !has_option(c, key)) {
            free(opts);
            return optref_fail(OPTREF_EINVAL, "--lr is required: %s has no default learning rate",
                               target->name);
        }
    }
    for (size_t i = 0; i < c->nopt_sets; i++)
        opts[n++] = c->opt_sets[i];
    optref_status st = ref_opt_create(o, c->opt, P->d, P->p, c->prec, opts, n);
    free(opts);
    return st;
}

static int build_problem(const run_config *c, problem *P)
{
    const problem_info *pi = problem_info_find(c->problem);
    if (pi == NULL)
        return cli_usage_error(c->cmd, "unknown problem '%s' (see 'optref list problems')", c->problem);
    param_set ps;
    if (param_set_init(&ps, pi->params, pi->nparams) != OPTREF_OK)
        return fail(c, "problem options");
    for (size_t i = 0; i < c->nprob_sets; i++)
        if (param_set_parse(&ps, c->prob_sets[i]) != OPTREF_OK) {
            param_set_clear(&ps);
            return fail(c, c->problem);
        }
    optref_status st = problem_create(P, c->problem, c->seed, c->prec, &ps);
    param_set_clear(&ps);
    return st == OPTREF_OK ? EXIT_PASS : fail(c, c->problem);
}

int run_trajectory(const run_config *c, step_observer observe, void *ctx,
                   uint8_t chain[SHA256_DIGEST_SIZE])
{
    problem P;
    int rc = build_problem(c, &P);
    if (rc != EXIT_PASS)
        return rc;
    const oracle_info *oi = oracle_info_find(c->oracle);
    if (oi == NULL || oi->kind == ORACLE_HVP) {
        problem_clear(&P);
        return cli_usage_error(c->cmd, "unknown gradient oracle '%s' (exact, rows-sq, rows-norm, gauss)",
                               c->oracle);
    }
    ref_opt *o = NULL;
    mpmat_t W, G;
    mpfr_t eta, lr, lr_min;
    schedule S;
    int have_schedule = 0;
    W->e = G->e = NULL;
    mpfr_inits2(c->prec, eta, lr, lr_min, (mpfr_ptr)0);
    if (c->load_state != NULL) {
        if (load_state(c->load_state, &o, W, chain) != OPTREF_OK)
            rc = fail(c, "--load-state");
        else if (c->opt != NULL && strcmp(c->opt, o->info->name) != 0)
            rc = cli_usage_error(c->cmd, "--load-state holds optimizer '%s', not '%s'", o->info->name, c->opt);
        else if (o->m != P.d || o->n != P.p || o->prec != c->prec)
            rc = cli_usage_error(c->cmd, "--load-state holds a %zu x %zu state at %ld bits; the problem "
                                 "needs %zu x %zu at %ld bits (--prec)", o->m, o->n, (long)o->prec,
                                 P.d, P.p, (long)c->prec);
    } else if (create_optimizer(c, &P, &o) != OPTREF_OK) {
        rc = fail(c, "optimizer");
    } else if (mpmat_init(W, P.d, P.p, c->prec) != OPTREF_OK) {
        rc = fail(c, "parameter");
    } else {
        mpmat_set(W, P.X0);
        if (chain_update(chain, 1, o, W) != OPTREF_OK)
            rc = fail(c, "hash");
    }
    const char *lrt = rc == EXIT_PASS ? lr_text(c, o) : NULL;
    if (rc == EXIT_PASS && lrt == NULL)
        rc = cli_usage_error(c->cmd, "--lr is required: optimizer '%s' has no default learning rate",
                             o->info->name);
    if (rc == EXIT_PASS && (param_parse_real(lr, lrt) != OPTREF_OK || mpfr_sgn(lr) < 0))
        rc = cli_usage_error(c->cmd, "learning rate '%s': expected a finite number >= 0", lrt);
    if (rc == EXIT_PASS && (param_parse_real(lr_min, c->lr_min) != OPTREF_OK || mpfr_sgn(lr_min) < 0))
        rc = cli_usage_error(c->cmd, "--lr-min '%s': expected a finite number >= 0", c->lr_min);
    uint64_t start = rc == EXIT_PASS ? o->t : 0, end = start + c->steps;
    if (rc == EXIT_PASS) {
        uint64_t T = c->schedule_steps ? c->schedule_steps : end;
        have_schedule = 1; /* schedule_clear is safe after a failed init */
        if (schedule_init(&S, c->schedule, lr, T, c->warmup, lr_min, c->prec) != OPTREF_OK)
            rc = fail(c, "--schedule");
    }
    if (rc == EXIT_PASS && mpmat_init(G, P.d, P.p, c->prec) != OPTREF_OK)
        rc = fail(c, "gradient");
    /* a fast backend: W and the state rounded to its format, hashed afresh */
    fast_run fr = {0};
    fast_backend fb;
    int fast = rc == EXIT_PASS && fast_backend_find(&fb, c->backend) == 0;
    if (fast && (fast_run_start(&fr, fb, o, W, &P, oi->kind, c->batch) != OPTREF_OK ||
                 (c->load_state == NULL && chain_update(chain, 1, o, W) != OPTREF_OK)))
        rc = fail(c, "--backend");
    if (rc == EXIT_PASS && observe(ctx, start, &P, o, W) != 0)
        rc = EXIT_USAGE;
    int progress = isatty(STDERR_FILENO) && c->steps >= 10;
    for (uint64_t t = start + 1; rc == EXIT_PASS && t <= end; t++) {
        oracle_ctx octx = {&P, oi->kind, c->batch, t};
        ref_oracle oracle = {&octx, c->seed, gradient_at, hvp};
        char where[64];
        snprintf(where, sizeof where, "step %llu", (unsigned long long)t);
        if (oracle_gradient(G, &P, oi->kind, c->batch, t, W) != OPTREF_OK ||
            schedule_lr(eta, &S, t) != OPTREF_OK ||
            (fast ? fast_run_step(&fr, o, W, G, eta, t)
                  : ref_opt_step(o, W, G, eta, &oracle)) != OPTREF_OK ||
            chain_update(chain, 0, o, W) != OPTREF_OK)
            rc = fail(c, where);
        else if (observe(ctx, t, &P, o, W) != 0)
            rc = EXIT_USAGE;
        if (progress)
            fprintf(stderr, "\roptref %s: step %llu/%llu", c->cmd, (unsigned long long)t,
                    (unsigned long long)end);
    }
    if (progress)
        fputc('\n', stderr);
    if (rc == EXIT_PASS && c->save_state != NULL && save_state(c->save_state, o, W, chain) != OPTREF_OK)
        rc = fail(c, "--save-state");
    if (have_schedule)
        schedule_clear(&S);
    fast_run_clear(&fr);
    mpfr_clears(eta, lr, lr_min, (mpfr_ptr)0);
    mpmat_clear(W);
    mpmat_clear(G);
    ref_opt_free(o);
    problem_clear(&P);
    return rc;
}
