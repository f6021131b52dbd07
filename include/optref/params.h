/* Named, typed, range-checked parameters given as key=value text.
 *
 * Problems (and later optimizers) describe their options as a table of
 * param_spec; a param_set holds the values given by the user, validated
 * against that table. Real values follow spec/optimizers.md 0: the binary64
 * number nearest the decimal spelling, converted exactly. */
#ifndef OPTREF_PARAMS_H
#define OPTREF_PARAMS_H

#include <stddef.h>

#include <mpfr.h>

#include "optref/status.h"

typedef enum { PARAM_REAL, PARAM_INT, PARAM_BOOL, PARAM_CHOICE } param_kind;

/* Range flags for PARAM_REAL and PARAM_INT. */
enum { PARAM_MIN_OPEN = 1, PARAM_MAX_OPEN = 2 };

typedef struct {
    const char *name;
    param_kind kind;
    const char *def;     /* default as text; "=other" means other's effective value;
                            NULL: the user must give it */
    const char *min;     /* lower bound as text, NULL: none */
    const char *max;     /* upper bound as text, NULL: none */
    unsigned flags;      /* PARAM_MIN_OPEN, PARAM_MAX_OPEN */
    const char *choices; /* PARAM_CHOICE: '|'-separated names; PARAM_REAL with a
                            pattern such as "power:k" is not a choice */
    const char *doc;     /* one line */
} param_spec;

typedef struct {
    const param_spec *spec;
    size_t n;
    char **value; /* value[i]: the text given for spec[i], or NULL (default) */
} param_set;

optref_status param_set_init(param_set *ps, const param_spec *spec, size_t n);
void param_set_clear(param_set *ps);
/* Parses one "key=value": unknown keys and values of the wrong type or out of
 * range fail with a message that names the key and lists what is valid. */
optref_status param_set_parse(param_set *ps, const char *kv);
/* Sets a value by name, validated as param_set_parse does. */
optref_status param_set_value(param_set *ps, const char *key, const char *value);
/* Checks that every parameter without a default was given. */
optref_status param_set_check_required(const param_set *ps);

/* The effective value of a parameter (given or default). The name must be in
 * the table (a programming error otherwise: OPTREF_ENOTFOUND). */
optref_status param_get_real(mpfr_ptr out, const param_set *ps, const char *name);
optref_status param_get_int(long *out, const param_set *ps, const char *name);
optref_status param_get_bool(int *out, const param_set *ps, const char *name);
/* The effective text (for choices and patterned values). */
const char *param_get_text(const param_set *ps, const char *name);

/* Parses decimal text as the nearest binary64 number, stored exactly in out
 * (precision >= 53). Rejects NaN, Inf, empty text and trailing garbage. */
optref_status param_parse_real(mpfr_ptr out, const char *text);

/* Writes the valid keys of a table as "a, b, c" into buf. */
void param_list_names(char *buf, size_t size, const param_spec *spec, size_t n);

#endif
