/* optref_round_format, mpmat_round_format, optref_format_prec/_name and
 * optref_shortest_b64.
 *
 * Rounding is checked three ways: hand-worked boundary cases in each format
 * (largest finite, the halfway point to overflow, smallest subnormal, the
 * halfway point below it, ties to even, signed zeros, Inf, NaN) with their
 * ternary values; the spec 1.1 bf16 constants; and agreement with the
 * hardware: the C compiler's (double) and (float) conversions of random
 * long double and binary64 values, and the integer round-to-nearest-even
 * trick on float bit patterns for bfloat16. Host floating point appears in
 * this TEST only, as the independent oracle.
 *
 * The shortest decimal is checked against known strings (Python's repr for
 * the digits; the notation is ours: plain for exponents in [-5, 17)), and by
 * property on random binary64 values and every power of two: strtod reads it
 * back to the same bits, and no decimal with one digit fewer (the two
 * neighbours of the value at that length) reads back. */
#include <stdio.h> /* before mpfr.h, for mpfr_printf */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#include "optref/mpmat.h"

typedef struct {
    const char *in, *out;
    int ternary;
} round_case;

static void check_cases(optref_format fmt, const round_case *cases, size_t n)
{
    mpfr_t x, r, e;
    mpfr_inits2(256, x, r, e, (mpfr_ptr)0);
    for (size_t i = 0; i < n; i++) {
        ck_assert(mpfr_set_str(x, cases[i].in, 0, MPFR_RNDN) == 0);
        ck_assert(mpfr_set_str(e, cases[i].out, 0, MPFR_RNDN) == 0);
        int t = optref_round_format(r, x, fmt);
        int same = mpfr_nan_p(e) ? mpfr_nan_p(r)
                                 : mpfr_equal_p(r, e) && mpfr_signbit(r) == mpfr_signbit(e);
        char got[96];
        mpfr_snprintf(got, sizeof got, "%Ra", r);
        ck_assert_msg(same, "%s(%s): got %s, expected %s", optref_format_name(fmt),
                      cases[i].in, got, cases[i].out);
        ck_assert_msg(t == cases[i].ternary, "%s(%s): ternary %d, expected %d",
                      optref_format_name(fmt), cases[i].in, t, cases[i].ternary);
        /* in place, and into a wider variable: the same value */
        mpfr_set(e, x, MPFR_RNDN);
        optref_round_format(e, e, fmt);
        ck_assert(mpfr_nan_p(r) ? mpfr_nan_p(e) : mpfr_equal_p(r, e) && mpfr_signbit(r) == mpfr_signbit(e));
    }
    mpfr_clears(x, r, e, (mpfr_ptr)0);
}

START_TEST(test_format_info)
{
    ck_assert_int_eq(optref_format_prec(OPTREF_BINARY64), 53);
    ck_assert_int_eq(optref_format_prec(OPTREF_BINARY32), 24);
    ck_assert_int_eq(optref_format_prec(OPTREF_BFLOAT16), 8);
    ck_assert_str_eq(optref_format_name(OPTREF_BINARY64), "binary64");
    ck_assert_str_eq(optref_format_name(OPTREF_BINARY32), "binary32");
    ck_assert_str_eq(optref_format_name(OPTREF_BFLOAT16), "bfloat16");
}
END_TEST

START_TEST(test_binary64_boundaries)
{
    static const round_case cases[] = {
        {"0x1.fffffffffffffp+1023", "0x1.fffffffffffffp+1023", 0},  /* largest finite */
        {"0x1.fffffffffffff8p+1023", "inf", 1},                     /* halfway: even is up */
        {"0x1.fffffffffffff7ffp+1023", "0x1.fffffffffffffp+1023", -1},
        {"-0x1.fffffffffffff8p+1023", "-inf", -1},
        {"0x1p+1024", "inf", 1},
        {"-0x1p+5000", "-inf", -1},
        {"0x1p-1074", "0x1p-1074", 0},                              /* smallest subnormal */
        {"0x1p-1075", "0", -1},                                     /* halfway below: to 0 */
        {"-0x1p-1075", "-0", 1},
        {"0x1.000001p-1075", "0x1p-1074", 1},
        {"0x1.fffffp-1076", "0", -1},
        {"0x3p-1075", "0x1p-1073", 1},                              /* 1.5 ulp: even is 2 */
        {"0x5p-1075", "0x1p-1073", -1},                             /* 2.5 ulp: even is 2 */
        {"0x1.ffffffffffffep-1023", "0x1.ffffffffffffep-1023", 0},  /* largest subnormal */
        {"0x1.fffffffffffffp-1023", "0x1p-1022", 1},                /* halfway to 2^-1022 */
        {"0x1p-1022", "0x1p-1022", 0},
        {"0x1.00000000000008p+0", "0x1p+0", -1},                    /* 1 + 2^-53 */
        {"0x1.0000000000000cp+0", "0x1.0000000000001p+0", 1},       /* 1 + 3 2^-54 */
        {"0x1.00000000000018p+0", "0x1.0000000000002p+0", 1},       /* tie, odd: up */
        {"0x1.00000000000028p+0", "0x1.0000000000002p+0", -1},      /* tie, even: down */
        {"0x1p-2000", "0", -1},
        {"-0x1p-2000", "-0", 1},
        {"0", "0", 0},
        {"-0", "-0", 0},
        {"inf", "inf", 0},
        {"-inf", "-inf", 0},
        {"nan", "nan", 0},
    };
    check_cases(OPTREF_BINARY64, cases, sizeof cases / sizeof cases[0]);
}
END_TEST

START_TEST(test_binary32_boundaries)
{
    static const round_case cases[] = {
        {"0x1.fffffep+127", "0x1.fffffep+127", 0},
        {"0x1.ffffffp+127", "inf", 1},
        {"0x1.fffffefffp+127", "0x1.fffffep+127", -1},
        {"-0x1.ffffffp+127", "-inf", -1},
        {"0x1p-149", "0x1p-149", 0},
        {"0x1p-150", "0", -1},
        {"-0x1p-150", "-0", 1},
        {"0x1.0001p-150", "0x1p-149", 1},
        {"0x3p-150", "0x1p-148", 1},
        {"0x1.fffffcp-127", "0x1.fffffcp-127", 0}, /* largest subnormal */
        {"0x1.fffffep-127", "0x1p-126", 1},
        {"0x1.000001p+0", "0x1p+0", -1},            /* 1 + 2^-24 */
        {"0x1.0000018p+0", "0x1.000002p+0", 1},     /* 1 + 3 2^-25 */
        {"0x1.0000050p+0", "0x1.000004p+0", -1},    /* tie, even: down */
        {"-0", "-0", 0},
        {"nan", "nan", 0},
    };
    check_cases(OPTREF_BINARY32, cases, sizeof cases / sizeof cases[0]);
}
END_TEST

START_TEST(test_bfloat16_boundaries)
{
    static const round_case cases[] = {
        {"0x1.fep+127", "0x1.fep+127", 0},
        {"0x1.ffp+127", "inf", 1},
        {"0x1.feffp+127", "0x1.fep+127", -1},
        {"0x1p-133", "0x1p-133", 0},
        {"0x1p-134", "0", -1},
        {"-0x1p-134", "-0", 1},
        {"0x1.00001p-134", "0x1p-133", 1},
        {"0x3p-134", "0x1p-132", 1},
        {"0x1.fcp-127", "0x1.fcp-127", 0}, /* largest subnormal */
        {"0x1p-126", "0x1p-126", 0},
        {"0x1.01p+0", "0x1p+0", -1},        /* 1 + 2^-8 */
        {"0x1.018p+0", "0x1.02p+0", 1},     /* 1 + 3 2^-9 */
        {"0x1.05p+0", "0x1.04p+0", -1},     /* tie, even: down */
        {"-inf", "-inf", 0},
        {"nan", "nan", 0},
    };
    check_cases(OPTREF_BFLOAT16, cases, sizeof cases / sizeof cases[0]);
}
END_TEST

/* Spec 1.1: the Newton-Schulz coefficients, first the binary64 nearest to
 * the decimal (spec 0), then bf16: 3.4375, -4.78125, 2.03125. */
START_TEST(test_bf16_spec_constants)
{
    static const char *const dec[] = {"3.4445", "-4.775", "2.0315"};
    static const char *const bf[] = {"3.4375", "-4.78125", "2.03125"};
    mpfr_t x, r, e;
    mpfr_inits2(256, x, r, e, (mpfr_ptr)0);
    for (int i = 0; i < 3; i++) {
        mpfr_set_str(x, dec[i], 10, MPFR_RNDN);
        optref_round_format(x, x, OPTREF_BINARY64);
        optref_round_format(r, x, OPTREF_BFLOAT16);
        mpfr_set_str(e, bf[i], 10, MPFR_RNDN);
        ck_assert_msg(mpfr_equal_p(r, e), "bf16(%s) != %s", dec[i], bf[i]);
    }
    mpfr_clears(x, r, e, (mpfr_ptr)0);
}
END_TEST

START_TEST(test_exponent_range_restored)
{
    mpfr_exp_t emin = mpfr_get_emin(), emax = mpfr_get_emax();
    mpfr_set_emin(-100000);
    mpfr_set_emax(100000);
    mpfr_t x, r;
    mpfr_inits2(64, x, r, (mpfr_ptr)0);
    mpfr_set_ui_2exp(x, 3, -1200, MPFR_RNDN);
    for (int f = 0; f < 3; f++) {
        optref_round_format(r, x, (optref_format)f);
        ck_assert(mpfr_get_emin() == -100000 && mpfr_get_emax() == 100000);
    }
    char buf[32];
    optref_shortest_b64(buf, x);
    ck_assert(mpfr_get_emin() == -100000 && mpfr_get_emax() == 100000);
    mpfr_set_emin(emin);
    mpfr_set_emax(emax);
    mpfr_clears(x, r, (mpfr_ptr)0);
}
END_TEST

START_TEST(test_mpmat_round_format)
{
    mpmat_t A;
    TEST_OK(mpmat_init(A, 2, 3, 113));
    const char *in[6] = {"0x1.00000000000008p+0", "0x1.0000000000000cp+0", "-0x1p-1075",
                         "0x1.fffffffffffff8p+1023", "0x1p-1074", "-0"};
    const char *out[6] = {"0x1p+0", "0x1.0000000000001p+0", "-0", "inf", "0x1p-1074", "-0"};
    for (int k = 0; k < 6; k++)
        mpfr_set_str(A->e + k, in[k], 0, MPFR_RNDN);
    mpmat_round_format(A, OPTREF_BINARY64);
    mpfr_t e;
    mpfr_init2(e, 64);
    for (int k = 0; k < 6; k++) {
        mpfr_set_str(e, out[k], 0, MPFR_RNDN);
        ck_assert(mpfr_equal_p(A->e + k, e) && mpfr_signbit(A->e + k) == mpfr_signbit(e));
    }
    mpfr_clear(e);
    mpmat_clear(A);
}
END_TEST

/* r (rounded by the library) against the hardware's value h, both exact. */
static void expect_same(mpfr_srcptr r, int ternary, mpfr_srcptr h, mpfr_srcptr x, const char *what)
{
    int same = mpfr_equal_p(r, h) && mpfr_signbit(r) == mpfr_signbit(h);
    if (!same)
        mpfr_printf("%s(%Ra): library %Ra, hardware %Ra\n", what, x, r, h);
    ck_assert(same);
    int c = mpfr_cmp(r, x);
    ck_assert_int_eq(ternary, (c > 0) - (c < 0));
}

/* A random 64-bit-significand value m 2^e, e in [elo, ehi], with the low bits
 * forced to a tie pattern one time in four. */
static void random_value(mpfr_ptr x, test_rng *rng, long elo, long ehi, int tie_bits)
{
    uint64_t m = test_rng_next(rng) | ((uint64_t)1 << 63);
    if (test_rng_below(rng, 4) == 0) {
        uint64_t mask = ((uint64_t)1 << tie_bits) - 1;
        m = (m & ~mask) | ((uint64_t)1 << (tie_bits - 1));
    }
    long e = elo + (long)test_rng_below(rng, (uint64_t)(ehi - elo + 1));
    mpfr_set_uj_2exp(x, m, e - 63, MPFR_RNDN);
    if (test_rng_next(rng) & 1)
        mpfr_neg(x, x, MPFR_RNDN);
}

START_TEST(test_against_hardware_double)
{
    test_rng rng = {11};
    mpfr_t x, r, h;
    mpfr_inits2(64, x, r, h, (mpfr_ptr)0);
    for (int k = 0; k < 100000; k++) {
        /* half over the whole range, half near the subnormal and overflow ends */
        int near = k & 1;
        long elo = near ? (k & 2 ? -1080 : 1018) : -1100, ehi = near ? (k & 2 ? -1018 : 1026) : 1030;
        random_value(x, &rng, elo, ehi, 11);
        volatile long double ld = mpfr_get_ld(x, MPFR_RNDN); /* exact: 64-bit significand */
        volatile double d = (double)ld;
        mpfr_set_d(h, d, MPFR_RNDN);
        int t = optref_round_format(r, x, OPTREF_BINARY64);
        expect_same(r, t, h, x, "binary64");
    }
    mpfr_clears(x, r, h, (mpfr_ptr)0);
}
END_TEST

START_TEST(test_against_hardware_float)
{
    test_rng rng = {12};
    mpfr_t x, r, h;
    mpfr_inits2(64, x, r, h, (mpfr_ptr)0);
    for (int k = 0; k < 100000; k++) {
        int near = k & 1;
        long elo = near ? (k & 2 ? -155 : 122) : -160, ehi = near ? (k & 2 ? -122 : 130) : 132;
        random_value(x, &rng, elo, ehi, 40);
        volatile long double ld = mpfr_get_ld(x, MPFR_RNDN);
        volatile float f = (float)ld;
        mpfr_set_flt(h, f, MPFR_RNDN);
        int t = optref_round_format(r, x, OPTREF_BINARY32);
        expect_same(r, t, h, x, "binary32(long double)");
    }
    /* (float) of binary64 values: random bit patterns (no NaN) */
    for (int k = 0; k < 100000; k++) {
        uint64_t bits = test_rng_next(&rng);
        if (k & 1) /* exponent field in the float range and around it */
            bits = (bits & 0x800fffffffffffffull) |
                   ((uint64_t)(1023 - 160 + test_rng_below(&rng, 300)) << 52);
        if (((bits >> 52) & 0x7ff) == 0x7ff)
            continue;
        volatile double d;
        memcpy((void *)&d, &bits, sizeof bits);
        volatile float f = (float)d;
        mpfr_set_d(x, d, MPFR_RNDN);
        mpfr_set_flt(h, f, MPFR_RNDN);
        int t = optref_round_format(r, x, OPTREF_BINARY32);
        expect_same(r, t, h, x, "binary32(double)");
    }
    mpfr_clears(x, r, h, (mpfr_ptr)0);
}
END_TEST

/* bf16 of a float by the usual integer trick (exact for float inputs). */
static uint32_t bf16_bits_rne(uint32_t u)
{
    return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
}

static void check_bf16_of_float_bits(uint32_t u, mpfr_ptr x, mpfr_ptr r, mpfr_ptr h)
{
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu) != 0)
        return; /* NaN */
    float f, g;
    memcpy(&f, &u, sizeof f);
    uint32_t b = bf16_bits_rne(u) << 16;
    memcpy(&g, &b, sizeof g);
    mpfr_set_flt(x, f, MPFR_RNDN);
    mpfr_set_flt(h, g, MPFR_RNDN);
    int t = optref_round_format(r, x, OPTREF_BFLOAT16);
    expect_same(r, t, h, x, "bfloat16");
}

START_TEST(test_bf16_against_integer_rounding)
{
    test_rng rng = {13};
    mpfr_t x, r, h;
    mpfr_inits2(64, x, r, h, (mpfr_ptr)0);
    /* every bf16 midpoint and its two float neighbours */
    for (uint32_t b = 0; b < 0x10000u; b++)
        for (uint32_t d = 0x7fffu; d <= 0x8001u; d++)
            check_bf16_of_float_bits((b << 16) | d, x, r, h);
    for (int k = 0; k < 100000; k++)
        check_bf16_of_float_bits((uint32_t)test_rng_next(&rng), x, r, h);
    mpfr_clears(x, r, h, (mpfr_ptr)0);
}
END_TEST

/* ---- shortest decimal ---- */

static void expect_shortest(const char *in, int base, const char *want)
{
    mpfr_t x;
    mpfr_init2(x, 512);
    ck_assert(mpfr_set_str(x, in, base, MPFR_RNDN) == 0);
    char buf[32];
    optref_shortest_b64(buf, x);
    ck_assert_msg(strcmp(buf, want) == 0, "shortest(%s) = \"%s\", expected \"%s\"", in, buf, want);
    mpfr_clear(x);
}

START_TEST(test_shortest_known)
{
    expect_shortest("0.1", 10, "0.1");
    expect_shortest("0.3", 10, "0.3");
    expect_shortest("100", 10, "100");
    expect_shortest("123456789012", 10, "123456789012");
    expect_shortest("1e-7", 10, "1e-07");
    expect_shortest("-2.5e-7", 10, "-2.5e-07");
    expect_shortest("1e-5", 10, "0.00001");
    expect_shortest("0.000123", 10, "0.000123");
    expect_shortest("1e16", 10, "10000000000000000");
    expect_shortest("1e17", 10, "1e+17");
    expect_shortest("1e23", 10, "1e+23");
    expect_shortest("1e300", 10, "1e+300");
    expect_shortest("1.5", 10, "1.5");
    expect_shortest("-1234.5", 10, "-1234.5");
    expect_shortest("9007199254740993", 10, "9007199254740992"); /* 2^53 + 1 -> 2^53 */
    expect_shortest("0x1p-1074", 16, "5e-324");
    expect_shortest("0x1p-1073", 16, "1e-323");
    expect_shortest("0x1p-1075", 16, "0");              /* rounds to +0 */
    expect_shortest("-0x1p-1075", 16, "-0");
    expect_shortest("0x1.fffffffffffffp+1023", 16, "1.7976931348623157e+308");
    expect_shortest("0x1.fffffffffffff8p+1023", 16, "inf"); /* overflows */
    expect_shortest("0x1p-1022", 16, "2.2250738585072014e-308");
    expect_shortest("0x1p+1023", 16, "8.98846567431158e+307");
    expect_shortest("0", 10, "0");
    expect_shortest("-0", 10, "-0");
    expect_shortest("inf", 10, "inf");
    expect_shortest("-inf", 10, "-inf");
    expect_shortest("nan", 10, "nan");
    /* 1/3 and 2/3 at 512 bits, first rounded to binary64 */
    mpfr_t x;
    mpfr_init2(x, 512);
    char buf[32];
    mpfr_set_ui(x, 1, MPFR_RNDN);
    mpfr_div_ui(x, x, 3, MPFR_RNDN);
    optref_shortest_b64(buf, x);
    ck_assert_str_eq(buf, "0.3333333333333333");
    mpfr_mul_ui(x, x, 2, MPFR_RNDN);
    optref_shortest_b64(buf, x);
    ck_assert_str_eq(buf, "0.6666666666666666");
    mpfr_clear(x);
}
END_TEST

/* The significant digits of s (sign, point, exponent, leading and trailing
 * zeros dropped). */
static size_t significant_digits(const char *s)
{
    char d[40];
    size_t n = 0;
    for (const char *c = s; *c && *c != 'e'; c++)
        if (*c >= '0' && *c <= '9')
            d[n++] = *c;
    d[n] = '\0';
    size_t a = 0;
    while (a < n && d[a] == '0')
        a++;
    while (n > a && d[n - 1] == '0')
        n--;
    return n - a;
}

/* The shortest string of the binary64 value d: reads back to d, and neither
 * neighbouring decimal with one digit fewer does. */
static void check_shortest_property(double d, mpfr_ptr x)
{
    char buf[32];
    mpfr_set_d(x, d, MPFR_RNDN);
    optref_shortest_b64(buf, x);
    double back = strtod(buf, NULL);
    ck_assert_msg(memcmp(&back, &d, sizeof d) == 0, "shortest(%a) = %s reads back as %a", d,
                  buf, back);
    size_t n = significant_digits(buf);
    ck_assert(n >= 1 && n <= 17 && strlen(buf) < 32);
    if (n > 1) {
        const mpfr_rnd_t modes[2] = {MPFR_RNDD, MPFR_RNDU};
        for (int m = 0; m < 2; m++) {
            char dig[40], text[64];
            mpfr_exp_t e;
            mpfr_get_str(dig, &e, 10, n - 1, x, modes[m]);
            const char *p = dig;
            snprintf(text, sizeof text, "%s0.%se%ld", *p == '-' ? "-" : "", p + (*p == '-'),
                     (long)e);
            double t = strtod(text, NULL);
            ck_assert_msg(memcmp(&t, &d, sizeof d) != 0,
                          "shortest(%a) = %s but %s (fewer digits) also reads back", d, buf, text);
        }
    }
}

START_TEST(test_shortest_roundtrip)
{
    test_rng rng = {14};
    mpfr_t x;
    mpfr_init2(x, 53);
    for (int k = 0; k < 20000; k++) {
        uint64_t bits = test_rng_next(&rng);
        if (k % 4 == 1) /* subnormals */
            bits &= 0x800fffffffffffffull;
        if (((bits >> 52) & 0x7ff) == 0x7ff || (bits << 1) == 0)
            continue;
        double d;
        memcpy(&d, &bits, sizeof d);
        check_shortest_property(d, x);
    }
    /* every power of two, where the rounding interval is asymmetric */
    for (long e = -1074; e <= 1023; e++) {
        mpfr_set_ui_2exp(x, 1, e, MPFR_RNDN);
        check_shortest_property(mpfr_get_d(x, MPFR_RNDN), x);
    }
    mpfr_clear(x);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("format");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_format_info);
    tcase_add_test(tc, test_binary64_boundaries);
    tcase_add_test(tc, test_binary32_boundaries);
    tcase_add_test(tc, test_bfloat16_boundaries);
    tcase_add_test(tc, test_bf16_spec_constants);
    tcase_add_test(tc, test_exponent_range_restored);
    tcase_add_test(tc, test_mpmat_round_format);
    tcase_add_test(tc, test_against_hardware_double);
    tcase_add_test(tc, test_against_hardware_float);
    tcase_add_test(tc, test_bf16_against_integer_rounding);
    tcase_add_test(tc, test_shortest_known);
    tcase_add_test(tc, test_shortest_roundtrip);
    suite_add_tcase(s, tc);
    return s;
}
