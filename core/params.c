/* Typed key=value parameters validated against a table (params.h). */
#include "optref/params.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optref/mpmat.h"

/* Real parameters are binary64 numbers (spec 0): 53 bits hold them exactly. */
#define PARAM_PREC 53

static const param_spec *find_spec(const param_set *ps, const char *name, size_t *index)
{
    for (size_t i = 0; i < ps->n; i++)
        if (strcmp(ps->spec[i].name, name) == 0) {
            if (index != NULL)
                *index = i;
            return &ps->spec[i];
        }
    return NULL;
}

void param_list_names(char *buf, size_t size, const param_spec *spec, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", spec[i].name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

optref_status param_parse_real(mpfr_ptr out, const char *text)
{
    mpfr_t v;
    char *end;
    mpfr_init2(v, PARAM_PREC);
    /* One rounding to 53 bits, then the binary64 exponent range and
     * subnormals applied exactly by optref_round_format. */
    mpfr_strtofr(v, text, &end, 10, MPFR_RNDN);
    optref_status st = OPTREF_OK;
    if (*text == '\0' || end == text || *end != '\0')
        st = optref_fail(OPTREF_EPARSE, "'%s' is not a decimal number", text);
    else if (!mpfr_number_p(v))
        st = optref_fail(OPTREF_ENONFINITE, "'%s' is not a finite number", text);
    else {
        optref_round_format(v, v, OPTREF_BINARY64);
        if (!mpfr_number_p(v))
            st = optref_fail(OPTREF_ENONFINITE, "'%s' overflows binary64", text);
        else
            mpfr_set(out, v, MPFR_RNDN);
    }
    mpfr_clear(v);
    return st;
}

static optref_status parse_long(long *out, const char *text)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*text == '\0' || end == text || *end != '\0')
        return optref_fail(OPTREF_EPARSE, "'%s' is not an integer", text);
    if (errno == ERANGE)
        return optref_fail(OPTREF_EINVAL, "'%s' is out of the range of a long integer", text);
    *out = v;
    return OPTREF_OK;
}

static optref_status parse_bool(int *out, const char *text)
{
    if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
        *out = 1;
    else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
        *out = 0;
    else
        return optref_fail(OPTREF_EPARSE, "'%s' is not a boolean (true, false, 1, 0)", text);
    return OPTREF_OK;
}

/* Describes the valid range of s into buf: "0 <= beta1 < 1". */
static void describe_range(char *buf, size_t size, const param_spec *s)
{
    snprintf(buf, size, "%s%s%s%s%s", s->min ? s->min : "", s->min ? ((s->flags & PARAM_MIN_OPEN) ? " < " : " <= ") : "",
             s->name, s->max ? ((s->flags & PARAM_MAX_OPEN) ? " < " : " <= ") : "",
             s->max ? s->max : "");
}

/* Compares v with the bound text b at 53 bits. */
static int cmp_bound(mpfr_srcptr v, const char *b)
{
    mpfr_t t;
    mpfr_init2(t, PARAM_PREC);
    mpfr_set_str(t, b, 10, MPFR_RNDN);
    int c = mpfr_cmp(v, t);
    mpfr_clear(t);
    return c;
}

static optref_status check_real_range(const param_spec *s, mpfr_srcptr v, const char *text)
{
    int low_ok = s->min == NULL ||
                 ((s->flags & PARAM_MIN_OPEN) ? cmp_bound(v, s->min) > 0 : cmp_bound(v, s->min) >= 0);
    int high_ok = s->max == NULL ||
                  ((s->flags & PARAM_MAX_OPEN) ? cmp_bound(v, s->max) < 0 : cmp_bound(v, s->max) <= 0);
    if (low_ok && high_ok)
        return OPTREF_OK;
    char range[160];
    describe_range(range, sizeof range, s);
    return optref_fail(OPTREF_EINVAL, "%s=%s is out of range: expected %s", s->name, text, range);
}

/* A choice entry ending in ':' ("power:") takes a positive real argument. */
static optref_status check_choice(const param_spec *s, const char *text)
{
    const char *c = s->choices;
    while (*c != '\0') {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len > 0 && c[len - 1] == ':' && strncmp(text, c, len) == 0) {
            mpfr_t v;
            mpfr_init2(v, PARAM_PREC);
            optref_status st = param_parse_real(v, text + len);
            if (st == OPTREF_OK && mpfr_sgn(v) <= 0)
                st = OPTREF_EINVAL;
            mpfr_clear(v);
            if (st != OPTREF_OK)
                return optref_fail(OPTREF_EINVAL, "%s=%s: expected %.*s followed by a positive "
                                   "number", s->name, text, (int)len, c);
            return OPTREF_OK;
        }
        if (strlen(text) == len && strncmp(text, c, len) == 0)
            return OPTREF_OK;
        c += len + (bar != NULL);
    }
    return optref_fail(OPTREF_EINVAL, "%s=%s is not valid: expected one of %s", s->name, text,
                       s->choices);
}

static optref_status validate(const param_spec *s, const char *text)
{
    optref_status st = OPTREF_OK;
    switch (s->kind) {
    case PARAM_REAL: {
        mpfr_t v;
        mpfr_init2(v, PARAM_PREC);
        st = param_parse_real(v, text);
        if (st != OPTREF_OK)
            st = optref_fail(st, "%s=%s: expected a finite decimal number", s->name, text);
        else
            st = check_real_range(s, v, text);
        mpfr_clear(v);
        break;
    }
    case PARAM_INT: {
        long v;
        st = parse_long(&v, text);
        if (st != OPTREF_OK)
            return optref_fail(st, "%s=%s: expected an integer", s->name, text);
        mpfr_t t;
        mpfr_init2(t, 64);
        mpfr_set_si(t, v, MPFR_RNDN);
        st = check_real_range(s, t, text);
        mpfr_clear(t);
        break;
    }
    case PARAM_BOOL: {
        int b;
        st = parse_bool(&b, text);
        if (st != OPTREF_OK)
            st = optref_fail(st, "%s=%s: expected true or false", s->name, text);
        break;
    }
    case PARAM_CHOICE:
        st = check_choice(s, text);
        break;
    }
    return st;
}

optref_status param_set_init(param_set *ps, const param_spec *spec, size_t n)
{
    ps->spec = spec;
    ps->n = n;
    ps->value = calloc(n ? n : 1, sizeof *ps->value);
    if (ps->value == NULL)
        return optref_fail(OPTREF_ENOMEM, "param_set_init: cannot allocate %zu values", n);
    return OPTREF_OK;
}

void param_set_clear(param_set *ps)
{
    if (ps->value != NULL)
        for (size_t i = 0; i < ps->n; i++)
            free(ps->value[i]);
    free(ps->value);
    ps->value = NULL;
    ps->n = 0;
}

optref_status param_set_value(param_set *ps, const char *key, const char *value)
{
    size_t i;
    if (find_spec(ps, key, &i) == NULL) {
        char names[512];
        param_list_names(names, sizeof names, ps->spec, ps->n);
        return optref_fail(OPTREF_ENOTFOUND, "unknown option '%s': valid options are %s", key,
                           ps->n ? names : "(none)");
    }
    optref_status st = validate(&ps->spec[i], value);
    if (st != OPTREF_OK)
        return st;
    char *copy = strdup(value);
    if (copy == NULL)
        return optref_fail(OPTREF_ENOMEM, "param_set_value: out of memory");
    free(ps->value[i]);
    ps->value[i] = copy;
    return OPTREF_OK;
}

optref_status param_set_parse(param_set *ps, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv)
        return optref_fail(OPTREF_EPARSE, "'%s' is not of the form key=value", kv);
    char key[128];
    size_t len = (size_t)(eq - kv);
    if (len >= sizeof key)
        return optref_fail(OPTREF_EPARSE, "key in '%s' is too long", kv);
    memcpy(key, kv, len);
    key[len] = '\0';
    return param_set_value(ps, key, eq + 1);
}

optref_status param_set_check_required(const param_set *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        if (ps->spec[i].def == NULL && ps->value[i] == NULL)
            return optref_fail(OPTREF_EINVAL, "option '%s' is required (%s)", ps->spec[i].name,
                               ps->spec[i].doc);
    return OPTREF_OK;
}

const char *param_get_text(const param_set *ps, const char *name)
{
    size_t i;
    if (find_spec(ps, name, &i) == NULL)
        return NULL;
    if (ps->value[i] != NULL)
        return ps->value[i];
    const char *def = ps->spec[i].def;
    if (def != NULL && def[0] == '=') /* a default that follows another option */
        return strcmp(def + 1, name) == 0 ? NULL : param_get_text(ps, def + 1);
    return def;
}

/* The effective text of a known parameter, or an error for a programming
 * mistake (unknown name) or a missing required value. */
static optref_status effective_text(const char **text, const param_set *ps, const char *name)
{
    if (find_spec(ps, name, NULL) == NULL)
        return optref_fail(OPTREF_ENOTFOUND, "parameter '%s' is not in the table", name);
    *text = param_get_text(ps, name);
    if (*text == NULL)
        return optref_fail(OPTREF_EINVAL, "option '%s' is required", name);
    return OPTREF_OK;
}

optref_status param_get_real(mpfr_ptr out, const param_set *ps, const char *name)
{
    const char *text;
    optref_status st = effective_text(&text, ps, name);
    return st != OPTREF_OK ? st : param_parse_real(out, text);
}

optref_status param_get_int(long *out, const param_set *ps, const char *name)
{
    const char *text;
    optref_status st = effective_text(&text, ps, name);
    return st != OPTREF_OK ? st : parse_long(out, text);
}

optref_status param_get_bool(int *out, const param_set *ps, const char *name)
{
    const char *text;
    optref_status st = effective_text(&text, ps, name);
    return st != OPTREF_OK ? st : parse_bool(out, text);
}
