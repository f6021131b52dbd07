/* Exact rounding to IEEE formats, and the shortest round-tripping decimal.
 *
 * The reference exchanges values with the fast backends only as exact
 * binary64/binary32 numbers (ARCHITECTURE.md, rule 3), and the bf16 model of
 * spec 1.1 rounds every tensor operation to bfloat16. This file emulates the
 * three formats with MPFR alone (no libm, no host floating point):
 *
 *   format    precision  smallest subnormal  largest finite       MPFR emin, emax
 *   binary64  53         2^-1074             (2 - 2^-52) 2^1023   -1073, 1024
 *   binary32  24         2^-149              (2 - 2^-23) 2^127    -148,  128
 *   bfloat16  8          2^-133              (2 - 2^-7)  2^127    -132,  128
 *
 * (MPFR writes x = m 2^e with 1/2 <= m < 1, so emin is the exponent of the
 * smallest subnormal, 2^(emin-1), and emax that of 2^emax, the first
 * overflowing power.) The rounding is MPFR's documented emulation of IEEE
 * arithmetic with subnormals: mpfr_set rounds to the format's precision (in
 * the caller's wide exponent range, where x is valid); then, with the range
 * narrowed to the format's, mpfr_check_range handles overflow (to +-Inf in
 * round-to-nearest) and underflow, and mpfr_subnormalize rounds again to the
 * subnormal precision; both use the first ternary value, so the result is
 * that of ONE rounding of x (no double rounding). MPFR's exponent range is
 * per thread (thread-local storage), so this is safe in parallel code. The
 * shortest-decimal reader below uses the other documented form: the string
 * is converted with the range already narrowed (a string input cannot be out
 * of range), then subnormalized. One rounding, to nearest,
 * ties to even; signed zeros, infinities and NaN pass through; a value that
 * underflows keeps its sign (-2^-1076 gives -0 in binary64). The caller's
 * exponent range is restored before every return. */
#include <stdio.h>
#include <string.h>

#include "optref/mpmat.h"

typedef struct {
    mpfr_prec_t prec;
    mpfr_exp_t emin, emax;
    const char *name;
} format_info;

static const format_info FORMATS[] = {
    [OPTREF_BINARY64] = {53, -1073, 1024, "binary64"},
    [OPTREF_BINARY32] = {24, -148, 128, "binary32"},
    [OPTREF_BFLOAT16] = {8, -132, 128, "bfloat16"},
};

static const format_info *format_lookup(optref_format fmt)
{
    if ((unsigned)fmt >= sizeof FORMATS / sizeof FORMATS[0])
        return NULL;
    return &FORMATS[fmt];
}

mpfr_prec_t optref_format_prec(optref_format fmt)
{
    const format_info *f = format_lookup(fmt);
    return f ? f->prec : 0;
}

const char *optref_format_name(optref_format fmt)
{
    const format_info *f = format_lookup(fmt);
    return f ? f->name : "unknown";
}

/* t holds a value correctly rounded to the format's precision with ternary
 * value inex, possibly outside the format's exponent range, which must be
 * the current range: overflow, underflow, then the subnormal precision (both
 * MPFR functions take the first ternary value, so nothing is rounded twice).
 * Returns the final ternary value. */
static int finish_in_range(mpfr_ptr t, int inex)
{
    inex = mpfr_check_range(t, inex, MPFR_RNDN);
    return mpfr_subnormalize(t, inex, MPFR_RNDN);
}

static int sign_of(int v)
{
    return (v > 0) - (v < 0);
}

int optref_round_format(mpfr_ptr rop, mpfr_srcptr x, optref_format fmt)
{
    const format_info *f = format_lookup(fmt);
    if (f == NULL) { /* not a format: a NaN, so misuse cannot pass silently */
        mpfr_set_nan(rop);
        return 0;
    }
    mpfr_t t;
    mpfr_init2(t, f->prec);
    /* First rounding in the caller's (wide) range: MPFR functions other than
     * mpfr_check_range must not see inputs outside the current range. */
    int inex = mpfr_set(t, x, MPFR_RNDN);
    mpfr_exp_t old_emin = mpfr_get_emin(), old_emax = mpfr_get_emax();
    mpfr_set_emin(f->emin);
    mpfr_set_emax(f->emax);
    inex = finish_in_range(t, inex);
    mpfr_set_emin(old_emin);
    mpfr_set_emax(old_emax);
    /* Exact when rop has at least the format's precision (the contract). */
    mpfr_set(rop, t, MPFR_RNDN);
    mpfr_clear(t);
    return sign_of(inex);
}

void mpmat_round_format(mpmat_ptr A, optref_format fmt)
{
    for (size_t k = 0; k < A->rows * A->cols; k++)
        optref_round_format(A->e + k, A->e + k, fmt);
}

/* ---- shortest decimal ---- */

/* Reads the decimal 0.<digits> 10^e (digits may start with '-') as binary64:
 * one rounding to nearest-even inside binary64's range, subnormals included
 * (mpfr_strtofr under the narrowed range, then mpfr_subnormalize with its
 * ternary value: no double rounding). Returns 1 when it equals v. */
static int reads_back_as(const char *digits, mpfr_exp_t e, mpfr_srcptr v)
{
    char text[64];
    const char *d = digits;
    const char *sign = "";
    if (*d == '-')
        sign = "-", d++;
    /* mpfr_get_str gives at most 17 digits here, so this cannot truncate. */
    snprintf(text, sizeof text, "%s0.%se%ld", sign, d, (long)e);
    const format_info *f = &FORMATS[OPTREF_BINARY64];
    mpfr_t t;
    mpfr_init2(t, f->prec);
    mpfr_exp_t old_emin = mpfr_get_emin(), old_emax = mpfr_get_emax();
    mpfr_set_emin(f->emin);
    mpfr_set_emax(f->emax);
    int inex = mpfr_strtofr(t, text, NULL, 10, MPFR_RNDN);
    finish_in_range(t, inex);
    mpfr_set_emin(old_emin);
    mpfr_set_emax(old_emax);
    int same = mpfr_equal_p(t, v);
    mpfr_clear(t);
    return same;
}

/* Writes the decimal 0.<digits> 10^e (sign first, trailing zeros already
 * stripped) in the output style: with E = e - 1 the exponent of the leading
 * digit, plain notation when -5 <= E < 17 ("0.00001", "123456789012",
 * "10000000000000000"), else d.ddd e+-XX with at least two exponent digits
 * ("1e-06", "1e+300", "5e-324"). */
static void write_decimal(char *buf, const char *digits, long e)
{
    char *o = buf;
    if (*digits == '-')
        *o++ = '-', digits++;
    long n = (long)strlen(digits);
    long E = e - 1;
    if (E >= -5 && E < 17) {
        if (E >= 0) {
            for (long i = 0; i <= E; i++)
                *o++ = i < n ? digits[i] : '0';
            if (n > E + 1) {
                *o++ = '.';
                for (long i = E + 1; i < n; i++)
                    *o++ = digits[i];
            }
        } else {
            *o++ = '0';
            *o++ = '.';
            for (long i = 0; i < -E - 1; i++)
                *o++ = '0';
            for (long i = 0; i < n; i++)
                *o++ = digits[i];
        }
        *o = '\0';
    } else {
        *o++ = digits[0];
        if (n > 1) {
            *o++ = '.';
            for (long i = 1; i < n; i++)
                *o++ = digits[i];
        }
        *o++ = 'e';
        *o++ = E < 0 ? '-' : '+';
        long a = E < 0 ? -E : E; /* 5..324 here */
        if (a >= 100)
            *o++ = (char)('0' + a / 100);
        *o++ = (char)('0' + a / 10 % 10);
        *o++ = (char)('0' + a % 10);
        *o = '\0';
    }
}

/* The shortest decimal that reads back (round to nearest, binary64) to x
 * rounded to binary64. For each length d = 1, 2, ..., 17 the candidates are
 * the d-digit decimals just below and just above v (mpfr_get_str with RNDD
 * and RNDU): the set of decimals that read back as v is an interval around v,
 * so if any d-digit decimal reads back, one of these two does. The nearest of
 * the two (mpfr_get_str RNDN, ties to even) is tried first and wins when both
 * read back; the other matters only at a power of two, whose rounding
 * interval is narrower below than above. 17 digits always suffice. */
void optref_shortest_b64(char *buf, mpfr_srcptr x)
{
    mpfr_t v;
    mpfr_init2(v, 53);
    optref_round_format(v, x, OPTREF_BINARY64);
    if (mpfr_nan_p(v)) {
        strcpy(buf, "nan");
    } else if (mpfr_inf_p(v)) {
        strcpy(buf, mpfr_signbit(v) ? "-inf" : "inf");
    } else if (mpfr_zero_p(v)) {
        strcpy(buf, mpfr_signbit(v) ? "-0" : "0");
    } else {
        char digits[32];
        mpfr_exp_t e = 0;
        int found = 0;
        for (size_t d = 1; d <= 17 && !found; d++) {
            mpfr_get_str(digits, &e, 10, d, v, MPFR_RNDN);
            if (reads_back_as(digits, e, v)) {
                found = 1;
                break;
            }
            /* The other neighbour: RNDN gave one of RNDD, RNDU. */
            char lo[32], hi[32];
            mpfr_exp_t elo, ehi;
            mpfr_get_str(lo, &elo, 10, d, v, MPFR_RNDD);
            mpfr_get_str(hi, &ehi, 10, d, v, MPFR_RNDU);
            int nearest_is_lo = strcmp(lo, digits) == 0 && elo == e;
            const char *other = nearest_is_lo ? hi : lo;
            mpfr_exp_t eother = nearest_is_lo ? ehi : elo;
            if (reads_back_as(other, eother, v)) {
                strcpy(digits, other);
                e = eother;
                found = 1;
            }
        }
        if (!found) /* unreachable: 17 digits always round-trip */
            mpfr_get_str(digits, &e, 10, 17, v, MPFR_RNDN);
        size_t len = strlen(digits);
        while (len > 1 && digits[len - 1] == '0' && digits[len - 2] != '-')
            digits[--len] = '\0';
        write_decimal(buf, digits, (long)e);
    }
    mpfr_clear(v);
}
