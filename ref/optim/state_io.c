/* The exact serialisation of a parameter and an optimizer's state
 * (docs/state-format.md). Text, one MPFR hex-float ("%Ra") per entry: the
 * bytes depend only on the values and precisions, never on the machine, so
 * `optref hash` can hash them. */
#include <stdlib.h>
#include <string.h>

#include "optim_internal.h"

#define FORMAT_TAG "optref-state 1"

static int save_tensor(FILE *f, const char *name, mpmat_srcptr A)
{
    if (fprintf(f, "tensor %s %zu %zu\n", name, A->rows, A->cols) < 0)
        return -1;
    for (size_t k = 0; k < A->rows * A->cols; k++)
        if (mpfr_fprintf(f, "%Ra\n", A->e + k) < 0)
            return -1;
    return 0;
}

static int save_body(const ref_opt *o, FILE *f)
{
    if (fprintf(f, "optimizer %s\nshape %zu %zu\nt %llu\n", o->info->name, o->m, o->n,
                (unsigned long long)o->t) < 0)
        return -1;
    for (size_t i = 0; i < o->info->nhyper; i++)
        if (fprintf(f, "option %s=%s\n", o->info->hyper[i].name,
                    ref_opt_text(o, o->info->hyper[i].name)) < 0)
            return -1;
    for (size_t i = 0; i < o->info->nstate; i++)
        if (save_tensor(f, o->info->state[i].name, o->state[i]) != 0)
            return -1;
    if (o->base != NULL) {
        if (fputs("base\n", f) == EOF || save_body(o->base, f) != 0 || fputs("end-base\n", f) == EOF)
            return -1;
    }
    return 0;
}

optref_status ref_opt_save(const ref_opt *o, mpmat_srcptr W, FILE *f)
{
    if (fprintf(f, FORMAT_TAG "\nprec %ld\n", (long)o->prec) < 0 || save_body(o, f) != 0 ||
        save_tensor(f, "W", W) != 0 || fputs("end\n", f) == EOF)
        return optref_fail(OPTREF_EIO, "ref_opt_save: write failed");
    return OPTREF_OK;
}

/* ---- reading ---- */

typedef struct {
    FILE *f;
    const char *where;
    size_t line;
    char buf[4096];
} reader;

static optref_status next_line(reader *r)
{
    if (fgets(r->buf, sizeof r->buf, r->f) == NULL)
        return optref_fail(OPTREF_EPARSE, "%s: unexpected end of file after line %zu", r->where,
                           r->line);
    r->line++;
    size_t len = strlen(r->buf);
    if (len == 0 || r->buf[len - 1] != '\n')
        return optref_fail(OPTREF_EPARSE, "%s:%zu: line too long or not terminated", r->where,
                           r->line);
    r->buf[len - 1] = '\0';
    return OPTREF_OK;
}

static optref_status expect_prefix(reader *r, const char *prefix, const char **rest)
{
    optref_status st = next_line(r);
    if (st != OPTREF_OK)
        return st;
    size_t len = strlen(prefix);
    if (strncmp(r->buf, prefix, len) != 0)
        return optref_fail(OPTREF_EPARSE, "%s:%zu: expected '%s', found '%.60s'", r->where,
                           r->line, prefix, r->buf);
    *rest = r->buf + len;
    return OPTREF_OK;
}

/* Reads "tensor NAME ROWS COLS" and its entries. State tensors may hold
 * +-Inf (asm's kappa of a singular W); NaN never, and the parameter must be
 * finite (allow_inf = 0). */
static optref_status read_tensor(reader *r, const char *name, mpmat_ptr A, int allow_inf)
{
    const char *rest;
    char got[64];
    size_t rows, cols;
    optref_status st = expect_prefix(r, "tensor ", &rest);
    if (st != OPTREF_OK)
        return st;
    if (sscanf(rest, "%63s %zu %zu", got, &rows, &cols) != 3 || strcmp(got, name) != 0)
        return optref_fail(OPTREF_EPARSE, "%s:%zu: expected 'tensor %s ROWS COLS'", r->where,
                           r->line, name);
    if (rows != A->rows || cols != A->cols)
        return optref_fail(OPTREF_ESHAPE, "%s:%zu: tensor %s is %zu x %zu, expected %zu x %zu",
                           r->where, r->line, name, rows, cols, A->rows, A->cols);
    for (size_t k = 0; k < rows * cols; k++) {
        if ((st = next_line(r)) != OPTREF_OK)
            return st;
        char *end;
        int inex = mpfr_strtofr(A->e + k, r->buf, &end, 16, MPFR_RNDN);
        if (end == r->buf || *end != '\0' || inex != 0)
            return optref_fail(OPTREF_EPARSE, "%s:%zu: '%.60s' is not an exact hex-float of "
                               "%ld bits", r->where, r->line, r->buf, (long)A->prec);
        if (mpfr_nan_p(A->e + k) || (!allow_inf && mpfr_inf_p(A->e + k)))
            return optref_fail(OPTREF_ENONFINITE, "%s:%zu: tensor %s entry %zu is %s",
                               r->where, r->line, name, k, allow_inf ? "NaN" : "not finite");
    }
    return OPTREF_OK;
}

static optref_status load_body(ref_opt **out, reader *r, mpfr_prec_t prec)
{
    const char *rest;
    char name[64];
    size_t m, n;
    unsigned long long t;
    optref_status st = expect_prefix(r, "optimizer ", &rest);
    if (st != OPTREF_OK)
        return st;
    snprintf(name, sizeof name, "%s", rest);
    if ((st = expect_prefix(r, "shape ", &rest)) != OPTREF_OK)
        return st;
    if (sscanf(rest, "%zu %zu", &m, &n) != 2)
        return optref_fail(OPTREF_EPARSE, "%s:%zu: expected 'shape M N'", r->where, r->line);
    if ((st = expect_prefix(r, "t ", &rest)) != OPTREF_OK)
        return st;
    if (sscanf(rest, "%llu", &t) != 1)
        return optref_fail(OPTREF_EPARSE, "%s:%zu: expected 't STEPS'", r->where, r->line);
    const optimizer_info *info = optimizer_info_find(name);
    if (info == NULL)
        return optref_fail(OPTREF_ENOTFOUND, "%s: unknown optimizer '%s'", r->where, name);
    char **opts = calloc(info->nhyper + 1, sizeof *opts);
    if (opts == NULL)
        return optref_fail(OPTREF_ENOMEM, "%s: out of memory", r->where);
    for (size_t i = 0; st == OPTREF_OK && i < info->nhyper; i++)
        if ((st = expect_prefix(r, "option ", &rest)) == OPTREF_OK && (opts[i] = strdup(rest)) == NULL)
            st = optref_fail(OPTREF_ENOMEM, "%s: out of memory", r->where);
    ref_opt *o = NULL;
    if (st == OPTREF_OK)
        st = ref_opt_create_ex(&o, name, m, n, prec, (const char *const *)opts, info->nhyper,
                               REF_CREATE_NO_BASE);
    for (size_t i = 0; i < info->nhyper; i++)
        free(opts[i]);
    free(opts);
    if (st == OPTREF_OK)
        o->t = t;
    for (size_t i = 0; st == OPTREF_OK && i < info->nstate; i++)
        st = read_tensor(r, info->state[i].name, o->state[i], 1);
    if (st == OPTREF_OK && info->default_base != NULL) {
        ref_opt *base = NULL;
        if ((st = expect_prefix(r, "base", &rest)) == OPTREF_OK &&
            (st = load_body(&base, r, prec)) == OPTREF_OK) {
            o->base = base;
            if (base->m != m || base->n != n || base->info->default_base != NULL)
                st = optref_fail(OPTREF_EPARSE, "%s:%zu: the base optimizer's shape or kind does "
                                 "not fit its wrapper", r->where, r->line);
            else
                st = expect_prefix(r, "end-base", &rest);
        }
    }
    if (st != OPTREF_OK) {
        ref_opt_free(o);
        return st;
    }
    *out = o;
    return OPTREF_OK;
}

optref_status ref_opt_load(ref_opt **out, mpmat_ptr W, FILE *f, const char *where)
{
    reader r = {.f = f, .where = where, .line = 0};
    const char *rest;
    long prec;
    *out = NULL;
    W->e = NULL, W->rows = W->cols = 0;
    optref_status st = expect_prefix(&r, FORMAT_TAG, &rest);
    if (st == OPTREF_OK && (st = expect_prefix(&r, "prec ", &rest)) == OPTREF_OK &&
        (sscanf(rest, "%ld", &prec) != 1 || prec < 53 || prec > 65536))
        st = optref_fail(OPTREF_EPARSE, "%s:%zu: expected 'prec BITS' with 53 <= BITS <= 65536",
                         where, r.line);
    ref_opt *o = NULL;
    if (st == OPTREF_OK)
        st = load_body(&o, &r, (mpfr_prec_t)prec);
    if (st == OPTREF_OK && (st = mpmat_init(W, o->m, o->n, o->prec)) == OPTREF_OK)
        st = read_tensor(&r, "W", W, 0);
    if (st == OPTREF_OK)
        st = expect_prefix(&r, "end", &rest);
    if (st != OPTREF_OK) {
        ref_opt_free(o);
        mpmat_clear(W);
        return st;
    }
    *out = o;
    return OPTREF_OK;
}
