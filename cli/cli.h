/* The optref command: subcommands and the helpers they share. */
#ifndef OPTREF_CLI_H
#define OPTREF_CLI_H

#include <stdint.h>

#include <json-c/json.h>
#include <mpfr.h>

#include "optref/mpmat.h"
#include "optref/params.h"

/* Exit statuses of spec/cli.md. */
enum { EXIT_PASS = 0, EXIT_VIOLATION = 1, EXIT_USAGE = 2 };

/* Each subcommand takes argv from its own name on and returns an exit status. */
int cmd_list(int argc, char **argv);
int cmd_problem(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_hash(int argc, char **argv);
int cmd_conform(int argc, char **argv);

/* Prints "optref <cmd>: error: <message>" on stderr and returns EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Parses a seed: a decimal integer in [0, 2^64 - 1]. */
int cli_parse_seed(uint64_t *seed, const char *text);
/* Parses a working precision in bits: an integer in [53, 65536]. */
int cli_parse_prec(mpfr_prec_t *prec, const char *text);

/* JSON values of MPFR numbers and matrices (cli/json_out.c). Numbers are the
 * shortest round-trip binary64 decimal of the value rounded to binary64
 * (non-finite values become null); "exact" forms are decimal strings with
 * enough digits to recover the value at its precision. */
json_object *json_mpfr_b64(mpfr_srcptr x);
json_object *json_mpfr_exact(mpfr_srcptr x);
json_object *json_mpmat_rows(mpmat_srcptr A, int exact);   /* [[...], ...] */
json_object *json_mpmat_flat(mpmat_srcptr A, int exact);   /* [...] row-major */
/* Writes obj to stdout, pretty or compact, followed by a newline; returns 0
 * or -1 when the write failed. */
int json_print(json_object *obj, int pretty);

/* A JSON description of a parameter table: [{"name", "type", "default", ...}]. */
json_object *json_param_table(const param_spec *spec, size_t n);

#endif
