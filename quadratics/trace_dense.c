/* trace-dense (spec/problems.md 2): H = Q diag(lambda) Q^T with one dense
 * Haar Q (rng_haar, stream 1, substream 0), B i.i.d. N(0,1) from stream 2
 * (or 0 with b=0), X0 i.i.d. N(0,1) from stream 3.
 *
 * Spectra, descending, i = 1..d (decision recorded in the problems docs):
 *   loguniform: lambda_i = lambda_max (lambda_min / lambda_max)^((i-1)/(d-1))
 *   power:k:    lambda_i = lambda_min + (lambda_max - lambda_min) ((d-i)/(d-1))^k
 * d = 1 gives lambda_max; i = 1 and i = d give lambda_max and lambda_min
 * exactly. The stored eigenvalues are each lambda_i correctly rounded at the
 * working precision, and the construction (spectral.c) uses lambda_i
 * correctly rounded at prec + 64 bits (Ziv: evaluate at w bits with a proven
 * error bound, accept when mpfr_can_round decides the rounding, else double
 * w). A value the loop cannot decide by 16 (p + 64) bits for target p (an
 * exact or tie case, such as 4 (1/4)^(1/2) = 2) is the last approximation
 * rounded to nearest. */
#include "spectral.h"

#include "optref/rng.h"

const param_spec trace_dense_params[] = {
    {"d", PARAM_INT, "16", "1", "512", 0, NULL, "dimension: X is d x p (building is O(d^3) in MPFR: d = 512 takes about a minute)"},
    {"p", PARAM_INT, "8", "1", "512", 0, NULL, "columns of X"},
    {"lambda_min", PARAM_REAL, "1", "0", NULL, PARAM_MIN_OPEN, NULL, "smallest eigenvalue"},
    {"lambda_max", PARAM_REAL, "1000", "0", NULL, PARAM_MIN_OPEN, NULL,
     "largest eigenvalue (at least lambda_min)"},
    {"spectrum", PARAM_CHOICE, "loguniform", NULL, NULL, 0, "loguniform|power:",
     "loguniform (geometric) or power:k (lambda_min + (lambda_max - lambda_min) s^k)"},
    {"b", PARAM_CHOICE, "normal", NULL, NULL, 0, "normal|0",
     "B i.i.d. N(0,1) from stream 2, or B = 0"},
};
_Static_assert(sizeof trace_dense_params / sizeof trace_dense_params[0] == TRACE_DENSE_NPARAMS,
               "TRACE_DENSE_NPARAMS must count trace_dense_params");

/* The number of bits of n (0 for 0). */
static int bit_length(unsigned long n)
{
    int b = 0;
    while (n != 0)
        b++, n >>= 1;
    return b;
}

/* y ~ lambda_i at w bits for 1 < i < d; returns e with |y - lambda_i| <=
 * 2^(EXP(y) + e - w) (relative error <= 2^(e - w)). */
static int spectrum_approx(mpfr_ptr y, mpfr_srcptr k, mpfr_srcptr lmin, mpfr_srcptr lmax,
                           unsigned long i, unsigned long d)
{
    mpfr_prec_t w = mpfr_get_prec(y);
    mpfr_t a, s;
    mpfr_inits2(w, a, s, (mpfr_ptr)0);
    int e;
    if (k == NULL) {
        /* r = lmin/lmax, q = (i-1)/(d-1), y = lmax r^q: each step rel. 2^-w;
         * r^q carries q (|ln r| + 1.1) 2^-w more: total <= (|ln r| + 4) 2^-w,
         * and |ln r| < |EXP(r)| + 1. */
        mpfr_div(a, lmin, lmax, MPFR_RNDN);
        mpfr_exp_t er = mpfr_get_exp(a);
        e = bit_length((unsigned long)(er < 0 ? -er : er) + 5) + 1;
        mpfr_set_ui(s, i - 1, MPFR_RNDN);
        mpfr_div_ui(s, s, d - 1, MPFR_RNDN);
        mpfr_pow(y, a, s, MPFR_RNDN);
        mpfr_mul(y, y, lmax, MPFR_RNDN);
    } else {
        /* s = (d-i)/(d-1) (rel. 2^-w), s^k (rel. <= 1.01 k 2^-w + 2^-w),
         * times lmax - lmin, plus lmin (positive terms): total <= (k + 5) 2^-w
         * <= 2^(max(EXP(k), 0) + 3) 2^-w. */
        mpfr_exp_t ek = mpfr_get_exp(k);
        e = (int)(ek > 0 ? ek : 0) + 4;
        mpfr_set_ui(s, d - i, MPFR_RNDN);
        mpfr_div_ui(s, s, d - 1, MPFR_RNDN);
        mpfr_pow(s, s, k, MPFR_RNDN);
        mpfr_sub(a, lmax, lmin, MPFR_RNDN);
        mpfr_mul(s, s, a, MPFR_RNDN);
        mpfr_add(y, lmin, s, MPFR_RNDN);
    }
    mpfr_clears(a, s, (mpfr_ptr)0);
    return e;
}

/* out = lambda_i correctly rounded at out's precision (k == NULL: loguniform). */
static void spectrum_value(mpfr_ptr out, mpfr_srcptr k, mpfr_srcptr lmin, mpfr_srcptr lmax,
                           unsigned long i, unsigned long d)
{
    if (d == 1 || i == 1 || mpfr_equal_p(lmin, lmax)) {
        mpfr_set(out, lmax, MPFR_RNDN);
        return;
    }
    if (i == d) {
        mpfr_set(out, lmin, MPFR_RNDN);
        return;
    }
    mpfr_prec_t p = mpfr_get_prec(out), w = p + 64, wmax = 16 * (p + 64);
    mpfr_t y;
    mpfr_init2(y, w);
    for (;;) {
        mpfr_set_prec(y, w);
        int e = spectrum_approx(y, k, lmin, lmax, i, d);
        if (w - e > p + 1 && mpfr_can_round(y, w - e, MPFR_RNDN, MPFR_RNDZ, p + 1))
            break;
        if (2 * w > wmax)
            break; /* exact or tie: the last approximation, rounded to nearest */
        w *= 2;
    }
    mpfr_set(out, y, MPFR_RNDN);
    mpfr_clear(y);
}

optref_status trace_dense_build(problem *P, const param_set *opts)
{
    long d, p;
    int b_zero;
    mpfr_t lmin, lmax, k;
    mpfr_inits2(53, lmin, lmax, k, (mpfr_ptr)0);
    optref_status st = param_get_int(&d, opts, "d");
    if (st == OPTREF_OK)
        st = param_get_int(&p, opts, "p");
    if (st == OPTREF_OK)
        st = param_get_real(lmin, opts, "lambda_min");
    if (st == OPTREF_OK)
        st = param_get_real(lmax, opts, "lambda_max");
    const char *spectrum = param_get_text(opts, "spectrum");
    int power = spectrum != NULL && spectrum[0] == 'p'; /* "power:k", validated by params */
    if (st == OPTREF_OK && power)
        st = param_parse_real(k, spectrum + 6);
    b_zero = param_get_text(opts, "b") != NULL && param_get_text(opts, "b")[0] == '0';
    if (st == OPTREF_OK && mpfr_less_p(lmax, lmin))
        st = optref_fail(OPTREF_EINVAL, "trace-dense: lambda_max=%s is below lambda_min=%s: "
                         "expected lambda_min <= lambda_max", param_get_text(opts, "lambda_max"),
                         param_get_text(opts, "lambda_min"));
    if (st == OPTREF_OK)
        st = problem_alloc(P, (size_t)d, (size_t)p, 0);
    spectral S;
    if (st == OPTREF_OK && (st = spectral_init(&S, (size_t)d, P->prec)) == OPTREF_OK) {
        rng_stream s;
        rng_stream_init(&s, P->seed, RNG_STREAM_HESSIAN, 0);
        st = rng_haar(S.Q, &s);
        for (long i = 1; i <= d && st == OPTREF_OK; i++)
            spectrum_value(mpmat_entry(S.lambda, (size_t)i - 1, 0), power ? k : NULL, lmin, lmax,
                           (unsigned long)i, (unsigned long)d);
        if (st == OPTREF_OK) {
            if (!b_zero)
                problem_fill_normal(P->B, P->seed, RNG_STREAM_B);
            problem_fill_normal(P->X0, P->seed, RNG_STREAM_X0);
            st = spectral_finish(P, &S);
        }
        /* the stored spectrum: correctly rounded at prec (already descending) */
        for (long i = 1; i <= d && st == OPTREF_OK; i++)
            spectrum_value(mpmat_entry(P->eigenvalues, (size_t)i - 1, 0), power ? k : NULL, lmin,
                           lmax, (unsigned long)i, (unsigned long)d);
        spectral_clear(&S);
    }
    mpfr_clears(lmin, lmax, k, (mpfr_ptr)0);
    return st;
}
