/* JSON output of MPFR values (spec/cli.md: numbers are the shortest
 * round-trip binary64 of the reference value; --exact adds decimal strings
 * that carry the full working precision). */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_object *json_mpfr_b64(mpfr_srcptr x)
{
    if (!mpfr_number_p(x))
        return NULL; /* JSON has no Inf or NaN: null */
    mpfr_t r;
    mpfr_init2(r, 53);
    optref_round_format(r, x, OPTREF_BINARY64);
    char buf[32];
    optref_shortest_b64(buf, r);
    /* The double is exact (r is a binary64 value); json-c prints buf. */
    json_object *o = mpfr_number_p(r) ? json_object_new_double_s(mpfr_get_d(r, MPFR_RNDN), buf)
                                      : NULL;
    mpfr_clear(r);
    return o;
}

json_object *json_mpfr_exact(mpfr_srcptr x)
{
    if (!mpfr_number_p(x))
        return json_object_new_string(mpfr_nan_p(x) ? "nan" : mpfr_sgn(x) > 0 ? "inf" : "-inf");
    if (mpfr_zero_p(x))
        return json_object_new_string(mpfr_signbit(x) ? "-0" : "0");
    /* mpfr_get_str_ndigits digits make the decimal string round-trip at x's precision. */
    size_t n = mpfr_get_str_ndigits(10, mpfr_get_prec(x));
    mpfr_exp_t e;
    char *digits = mpfr_get_str(NULL, &e, 10, n, x, MPFR_RNDN);
    if (digits == NULL)
        return NULL;
    const char *d = digits[0] == '-' ? digits + 1 : digits;
    size_t len = strlen(d) + 32;
    char *s = malloc(len);
    json_object *o = NULL;
    if (s != NULL) {
        snprintf(s, len, "%s%c.%se%+ld", digits[0] == '-' ? "-" : "", d[0], d + 1, (long)e - 1);
        o = json_object_new_string(s);
        free(s);
    }
    mpfr_free_str(digits);
    return o;
}

static json_object *number(mpfr_srcptr x, int exact)
{
    return exact ? json_mpfr_exact(x) : json_mpfr_b64(x);
}

json_object *json_mpmat_rows(mpmat_srcptr A, int exact)
{
    json_object *rows = json_object_new_array_ext((int)A->rows);
    for (size_t i = 0; i < A->rows; i++) {
        json_object *row = json_object_new_array_ext((int)A->cols);
        for (size_t j = 0; j < A->cols; j++)
            json_object_array_add(row, number(mpmat_entry(A, i, j), exact));
        json_object_array_add(rows, row);
    }
    return rows;
}

json_object *json_mpmat_flat(mpmat_srcptr A, int exact)
{
    json_object *a = json_object_new_array_ext((int)(A->rows * A->cols));
    for (size_t k = 0; k < A->rows * A->cols; k++)
        json_object_array_add(a, number(A->e + k, exact));
    return a;
}

int json_print(json_object *obj, int pretty)
{
    int flags = pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN;
    flags |= JSON_C_TO_STRING_NOSLASHESCAPE;
    const char *s = json_object_to_json_string_ext(obj, flags);
    if (s == NULL || fputs(s, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
        return -1;
    return 0;
}

static const char *kind_name(param_kind k)
{
    switch (k) {
    case PARAM_REAL: return "real";
    case PARAM_INT: return "int";
    case PARAM_BOOL: return "bool";
    case PARAM_CHOICE: return "choice";
    }
    return "?";
}

static void add_string(json_object *o, const char *key, const char *value)
{
    json_object_object_add(o, key, value ? json_object_new_string(value) : NULL);
}

json_object *json_param_table(const param_spec *spec, size_t n)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *p = json_object_new_object();
        add_string(p, "name", spec[i].name);
        add_string(p, "type", kind_name(spec[i].kind));
        add_string(p, "default", spec[i].def);
        if (spec[i].min)
            add_string(p, spec[i].flags & PARAM_MIN_OPEN ? "greater_than" : "min", spec[i].min);
        if (spec[i].max)
            add_string(p, spec[i].flags & PARAM_MAX_OPEN ? "less_than" : "max", spec[i].max);
        if (spec[i].choices)
            add_string(p, "choices", spec[i].choices);
        add_string(p, "doc", spec[i].doc);
        json_object_array_add(a, p);
    }
    return a;
}
