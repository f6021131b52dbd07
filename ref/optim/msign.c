/* msign (spec/optimizers.md 1.1): Newton-Schulz variants and the polar factor.
 *
 * Exact model, at O's precision p (docs/reference-arithmetic.md):
 *   Y = X or X^T (m > n), rounded to p; r x c with r <= c.
 *   Normalise: ns-keller  d = ||Y||_F + eps          (sumsq, sqrt, add: 3 roundings)
 *              ns-torch   d = max(||Y||_F, eps)      (2 roundings, exact max)
 *              ns-deva    d = sqrt(sumsq(Y) + eps)   (3 roundings)
 *              Y <- Y / d                            (one division per entry)
 *   Iteration i = 0 .. steps-1:
 *     A = Y Y^T, B = A A                 (each entry one correctly rounded dot)
 *     ns-deva, i = 0: q = sumsq(B) + eps, s = q^(1/8) (mpfr_rootn_ui: one
 *       rounding), s2 = s^2, s4 = s^4 (mpfr_sqr, mpfr_pow_ui: one rounding each
 *       from s); Y <- Y / s, A <- A / s2, B <- B / s4 (one division per entry)
 *     C = b A + c B  as fma(c, B, bA) after rounding bA
 *     P = C Y                            (correctly rounded dots)
 *     Y <- a Y + P   as fma(a, Y, P)
 *   (The exact model need not follow a source's association: ns-keller's
 *   b A + c A A uses the rounded A A like ns-deva.)
 *   polar: mpmat_polar of Y (ref/mp/mpmat_svd.c documents its order).
 *
 * bf16 model (spec 1.1 [decision]): every tensor operation of the source
 * gives bf16(exact value) -- one round-to-nearest-even to bfloat16 with its
 * exponent range and subnormals (optref_round_format). Implementation: the
 * operation is evaluated into a BF16_WIDE-bit temporary, then rounded once
 * to bfloat16. That is the single rounding of the exact value because
 *  - sums, products, squares, fourth powers and dot products of bfloat16
 *    numbers are exact in BF16_WIDE bits: bfloat16 numbers are multiples of
 *    2^-133 below 2^128, so a dot of k <= 2^28 products (MPMAT_MAX_ENTRIES)
 *    is an integer multiple of 2^-266 below 2^284: at most 550 bits;
 *  - a quotient, square root or eighth root rounded to BF16_WIDE bits cannot
 *    cross or reach a bfloat16 rounding boundary (a 9-bit dyadic d) unless
 *    the exact value is d: its relative distance from d is at least 2^-19
 *    (quotient of 8-bit numbers), 2^-563 (square root of a sum exact in
 *    550 bits) or 2^-80 (eighth root of an 8-bit number), all above the
 *    2^-640 relative error of the wide rounding.
 * Python scalars (a, b, c, eps, 0.125) are rounded to bfloat16 first. The
 * sources' associations:
 *   ns-keller: Y = bf(X); d = bf(bf(||Y||_F) + eps); Y = bf(Y / d);
 *              A = bf(Y Y^T); B = bf(bf(b A) + bf(bf(c A) A)); Y = bf(bf(a Y) + bf(B Y))
 *   ns-torch:  as ns-keller with d = max(bf(||Y||_F), eps)
 *   ns-deva:   Y = bf(X); d = bf(sqrt(bf(bf(sum bf(Y.^2)) + eps))); Y = bf(Y / d);
 *              A = bf(Y Y^T); B = bf(A A);
 *              i = 0: s = bf(bf(bf(sum bf(B.^2)) + eps)^(1/8)); Y = bf(Y / s);
 *                     A = bf(A / bf(s^2)); B = bf(B / bf(s^4));
 *              Y = bf(bf(a Y) + bf(bf(bf(b A) + bf(c B)) Y))
 * (||Y||_F is one reduction, rounded once; sum(Y.^2) is the source's
 * elementwise power, rounded, then its sum, rounded.) */
#include "msign.h"

#include <string.h>

#include "optref/params.h"

#define BF16_WIDE 640

typedef enum { NS_KELLER, NS_TORCH, NS_DEVA, NS_POLAR, NS_UNKNOWN } ns_method;

static const char *const METHOD_NAMES[] = {"ns-keller", "ns-torch", "ns-deva", "polar"};

static ns_method method_of(const char *ns)
{
    for (int k = 0; ns != NULL && k < NS_UNKNOWN; k++)
        if (strcmp(ns, METHOD_NAMES[k]) == 0)
            return (ns_method)k;
    return NS_UNKNOWN;
}

int ref_msign_method_known(const char *ns)
{
    return method_of(ns) != NS_UNKNOWN;
}

/* What one call needs: the method, its constants and the hooks. */
typedef struct {
    ns_method method;
    long steps;
    const msign_hooks *hooks;
    mpfr_t a, b, c, eps; /* exact binary64 values (bf16 values in the bf16 model) */
} job;

static void trace(const job *J, const char *what, mpmat_srcptr M)
{
    if (J->hooks != NULL && J->hooks->trace != NULL)
        J->hooks->trace(J->hooks->trace_ctx, what, M);
}

static void trace_scalar(const job *J, const char *what, mpfr_srcptr v)
{
    if (J->hooks == NULL || J->hooks->trace == NULL)
        return;
    mpmat_t S;
    if (mpmat_init(S, 1, 1, mpfr_get_prec(v)) == OPTREF_OK) {
        mpfr_set(S->e, v, MPFR_RNDN);
        J->hooks->trace(J->hooks->trace_ctx, what, S);
        mpmat_clear(S);
    }
}

static int is_zero(mpmat_srcptr A)
{
    for (size_t k = 0; k < A->rows * A->cols; k++)
        if (!mpfr_zero_p(A->e + k))
            return 0;
    return 1;
}

/* ---- the exact model ---- */

static void normalise_exact(mpmat_ptr Y, const job *J)
{
    mpfr_t d;
    mpfr_init2(d, Y->prec);
    if (J->method == NS_DEVA) {
        mpmat_sumsq(d, Y);
        mpfr_add(d, d, J->eps, MPFR_RNDN);
        mpfr_sqrt(d, d, MPFR_RNDN);
    } else {
        mpmat_norm_fro(d, Y);
        if (J->method == NS_KELLER)
            mpfr_add(d, d, J->eps, MPFR_RNDN);
        else
            mpfr_max(d, d, J->eps, MPFR_RNDN); /* exact: d and eps fit in p bits */
    }
    for (size_t k = 0; k < Y->rows * Y->cols; k++)
        mpfr_div(Y->e + k, Y->e + k, d, MPFR_RNDN);
    mpfr_clear(d);
}

static void divide_all(mpmat_ptr M, mpfr_srcptr s)
{
    for (size_t k = 0; k < M->rows * M->cols; k++)
        mpfr_div(M->e + k, M->e + k, s, MPFR_RNDN);
}

/* ns-deva's first-iteration rescale: s = (||B||_F^2 + eps)^(1/8). */
static void rescale_exact(mpmat_ptr Y, mpmat_ptr A, mpmat_ptr B, const job *J)
{
    mpfr_t s, s2, s4;
    mpfr_inits2(Y->prec, s, s2, s4, (mpfr_ptr)0);
    mpmat_sumsq(s, B);
    mpfr_add(s, s, J->eps, MPFR_RNDN);
    mpfr_rootn_ui(s, s, 8, MPFR_RNDN);
    mpfr_sqr(s2, s, MPFR_RNDN);
    mpfr_pow_ui(s4, s, 4, MPFR_RNDN);
    trace_scalar(J, "s", s), trace_scalar(J, "s2", s2), trace_scalar(J, "s4", s4);
    divide_all(Y, s), divide_all(A, s2), divide_all(B, s4);
    trace(J, "Y/s", Y), trace(J, "A/s2", A), trace(J, "B/s4", B);
    mpfr_clears(s, s2, s4, (mpfr_ptr)0);
}

static optref_status iterate_exact(mpmat_ptr Y, const job *J)
{
    size_t r = Y->rows, c = Y->cols;
    mpfr_prec_t p = Y->prec;
    mpmat_t A, B, P;
    optref_status st = mpmat_init(A, r, r, p);
    if (st == OPTREF_OK && (st = mpmat_init(B, r, r, p)) != OPTREF_OK)
        mpmat_clear(A);
    if (st == OPTREF_OK && (st = mpmat_init(P, r, c, p)) != OPTREF_OK)
        mpmat_clear(A), mpmat_clear(B);
    if (st != OPTREF_OK)
        return st;
    mpfr_t t;
    mpfr_init2(t, p);
    normalise_exact(Y, J);
    trace(J, "Y0", Y);
    for (long i = 0; i < J->steps; i++) {
        mpmat_mul_nt(A, Y, Y);
        mpmat_mul(B, A, A);
        trace(J, "A", A), trace(J, "B", B);
        if (J->method == NS_DEVA && i == 0)
            rescale_exact(Y, A, B, J);
        for (size_t k = 0; k < r * r; k++) { /* A <- b A + c B */
            mpfr_mul(t, J->b, A->e + k, MPFR_RNDN);
            mpfr_fma(A->e + k, J->c, B->e + k, t, MPFR_RNDN);
        }
        mpmat_mul(P, A, Y);
        for (size_t k = 0; k < r * c; k++) /* Y <- a Y + (b A + c B) Y */
            mpfr_fma(Y->e + k, J->a, Y->e + k, P->e + k, MPFR_RNDN);
        trace(J, "Y", Y);
    }
    mpfr_clear(t);
    mpmat_clear(A), mpmat_clear(B), mpmat_clear(P);
    return OPTREF_OK;
}

/* ---- the bf16 model: bf16 values held in 8-bit matrices ---- */

static void bf(mpfr_ptr rop, mpfr_srcptr wide)
{
    optref_round_format(rop, wide, OPTREF_BFLOAT16);
}

/* Scratch of the bf16 model: a wide scalar and a wide matrix per shape. */
typedef struct {
    mpfr_t w;
    mpmat_t Wrr, Wrc; /* r x r and r x c at BF16_WIDE bits */
} bf_scratch;

/* C = bf(A B) (nt: A B^T); each entry an exact dot, rounded once. */
static void bf_mul(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B, int nt, bf_scratch *S)
{
    mpmat_ptr W = C->cols == S->Wrr->cols ? S->Wrr : S->Wrc;
    if (nt)
        mpmat_mul_nt(W, A, B);
    else
        mpmat_mul(W, A, B);
    for (size_t k = 0; k < C->rows * C->cols; k++)
        bf(C->e + k, W->e + k);
}

/* C = bf(s A), s a bf16 scalar (exact product, one rounding). */
static void bf_scale(mpmat_ptr C, mpfr_srcptr s, mpmat_srcptr A, bf_scratch *S)
{
    for (size_t k = 0; k < C->rows * C->cols; k++)
        mpfr_mul(S->w, s, A->e + k, MPFR_RNDN), bf(C->e + k, S->w);
}

static void bf_add(mpmat_ptr C, mpmat_srcptr A, mpmat_srcptr B, bf_scratch *S)
{
    for (size_t k = 0; k < C->rows * C->cols; k++)
        mpfr_add(S->w, A->e + k, B->e + k, MPFR_RNDN), bf(C->e + k, S->w);
}

static void bf_div(mpmat_ptr C, mpmat_srcptr A, mpfr_srcptr s, bf_scratch *S)
{
    for (size_t k = 0; k < C->rows * C->cols; k++)
        mpfr_div(S->w, A->e + k, s, MPFR_RNDN), bf(C->e + k, S->w);
}

/* r = bf(bf(sum bf(A.^2)) + eps): the source's (A**2).sum() + eps. T is
 * scratch of A's shape. */
static void bf_sum_squares_eps(mpfr_ptr r, mpmat_srcptr A, mpmat_ptr T, const job *J,
                               bf_scratch *S)
{
    for (size_t k = 0; k < A->rows * A->cols; k++)
        mpfr_sqr(S->w, A->e + k, MPFR_RNDN), bf(T->e + k, S->w);
    trace(J, "square", T);
    mpmat_sum(S->w, T);
    bf(r, S->w);
    trace_scalar(J, "sum", r);
    mpfr_add(S->w, r, J->eps, MPFR_RNDN);
    bf(r, S->w);
    trace_scalar(J, "sum+eps", r);
}

static void bf_normalise(mpmat_ptr Y, const job *J, bf_scratch *S)
{
    mpfr_t d;
    mpfr_init2(d, 8);
    if (J->method == NS_DEVA) {
        mpmat_t T;
        if (mpmat_init(T, Y->rows, Y->cols, 8) == OPTREF_OK) {
            bf_sum_squares_eps(d, Y, T, J, S);
            mpmat_clear(T);
        }
        mpfr_sqrt(S->w, d, MPFR_RNDN); /* (...)**0.5 */
    } else {
        mpmat_sumsq(S->w, Y); /* exact */
        mpfr_sqrt(S->w, S->w, MPFR_RNDN); /* the norm: one reduction */
        bf(d, S->w);
        trace_scalar(J, "norm", d);
        if (J->method == NS_KELLER)
            mpfr_add(S->w, d, J->eps, MPFR_RNDN);
        else
            mpfr_max(S->w, d, J->eps, MPFR_RNDN); /* clamp(min=eps) */
    }
    bf(d, S->w);
    trace_scalar(J, "d", d);
    bf_div(Y, Y, d, S);
    mpfr_clear(d);
}

/* ns-deva's first-iteration rescale in the bf16 model. */
static void bf_rescale(mpmat_ptr Y, mpmat_ptr A, mpmat_ptr B, mpmat_ptr T, const job *J,
                       bf_scratch *S)
{
    mpfr_t s, s2, s4;
    mpfr_inits2(8, s, s2, s4, (mpfr_ptr)0);
    bf_sum_squares_eps(s, B, T, J, S);
    mpfr_rootn_ui(S->w, s, 8, MPFR_RNDN); /* (...)**0.125 */
    bf(s, S->w);
    mpfr_sqr(S->w, s, MPFR_RNDN); /* n**2, exact */
    bf(s2, S->w);
    mpfr_pow_ui(S->w, s, 4, MPFR_RNDN); /* n**4, exact */
    bf(s4, S->w);
    trace_scalar(J, "s", s), trace_scalar(J, "s2", s2), trace_scalar(J, "s4", s4);
    bf_div(Y, Y, s, S), bf_div(A, A, s2, S), bf_div(B, B, s4, S);
    trace(J, "Y/s", Y), trace(J, "A/s2", A), trace(J, "B/s4", B);
    mpfr_clears(s, s2, s4, (mpfr_ptr)0);
}

/* One quintic iteration: A = Y Y^T, ... as in the header comment. A, B, C
 * are r x r; P, Q are r x c scratch. */
static void bf_iteration(mpmat_ptr Y, long i, mpmat_ptr A, mpmat_ptr B, mpmat_ptr C,
                         mpmat_ptr P, mpmat_ptr Q, const job *J, bf_scratch *S)
{
    bf_mul(A, Y, Y, 1, S);
    trace(J, "A", A);
    if (J->method == NS_DEVA) {
        bf_mul(B, A, A, 0, S); /* y4 = y2 @ y2 */
        trace(J, "B", B);
        if (i == 0)
            bf_rescale(Y, A, B, C, J, S);
        bf_scale(C, J->b, A, S);
        bf_scale(B, J->c, B, S);
        trace(J, "bA", C), trace(J, "cB", B);
        bf_add(B, C, B, S); /* b y2 + c y4 */
    } else {
        bf_scale(C, J->b, A, S);
        bf_scale(B, J->c, A, S);
        trace(J, "bA", C), trace(J, "cA", B);
        bf_mul(A, B, A, 0, S); /* (c A) @ A */
        trace(J, "cAA", A);
        bf_add(B, C, A, S); /* b A + (c A) A */
    }
    trace(J, "B", B);
    bf_mul(P, B, Y, 0, S);
    bf_scale(Q, J->a, Y, S);
    trace(J, "BY", P), trace(J, "aY", Q);
    bf_add(Y, Q, P, S);
    trace(J, "Y", Y);
}

static optref_status iterate_bf16(mpmat_ptr Y, const job *J)
{
    size_t r = Y->rows, c = Y->cols;
    mpmat_t A, B, C, P, Q;
    bf_scratch S;
    mpmat_ptr all[] = {A, B, C, P, Q, S.Wrr, S.Wrc};
    const size_t cols[] = {r, r, r, c, c, r, c};
    const mpfr_prec_t precs[] = {8, 8, 8, 8, 8, BF16_WIDE, BF16_WIDE};
    size_t made = 0;
    optref_status st = OPTREF_OK;
    for (; made < 7 && st == OPTREF_OK; made++)
        st = mpmat_init(all[made], r, cols[made], precs[made]);
    if (st == OPTREF_OK) {
        mpfr_init2(S.w, BF16_WIDE);
        bf_normalise(Y, J, &S);
        trace(J, "Y0", Y);
        for (long i = 0; i < J->steps; i++)
            bf_iteration(Y, i, A, B, C, P, Q, J, &S);
        mpfr_clear(S.w);
    }
    for (size_t k = 0; k < made; k++)
        mpmat_clear(all[k]);
    return st;
}

/* ---- entry points ---- */

/* Y = X, or X^T when m > n, at Y's precision (Y initialised by the caller). */
static void oriented_copy(mpmat_ptr Y, mpmat_srcptr X)
{
    if (X->rows > X->cols)
        mpmat_transpose(Y, X);
    else
        mpmat_set(Y, X);
}

static void job_init(job *J, ns_method method, long steps, int bf16, const msign_hooks *hooks)
{
    J->method = method;
    J->steps = steps;
    J->hooks = hooks;
    mpfr_inits2(64, J->a, J->b, J->c, (mpfr_ptr)0);
    param_parse_real(J->a, "3.4445");
    param_parse_real(J->b, "-4.7750");
    param_parse_real(J->c, "2.0315");
    if (hooks != NULL && hooks->eps != NULL) {
        mpfr_init2(J->eps, mpfr_get_prec(hooks->eps));
        mpfr_set(J->eps, hooks->eps, MPFR_RNDN);
    } else {
        mpfr_init2(J->eps, 64);
        param_parse_real(J->eps, method == NS_DEVA ? "1e-20" : "1e-7");
    }
    if (bf16) { /* Python scalars meet a bf16 tensor: rounded to bf16 first */
        optref_round_format(J->a, J->a, OPTREF_BFLOAT16);
        optref_round_format(J->b, J->b, OPTREF_BFLOAT16);
        optref_round_format(J->c, J->c, OPTREF_BFLOAT16);
        optref_round_format(J->eps, J->eps, OPTREF_BFLOAT16);
    }
}

static void job_clear(job *J)
{
    mpfr_clears(J->a, J->b, J->c, J->eps, (mpfr_ptr)0);
}

static optref_status check_args(mpmat_srcptr O, mpmat_srcptr X, ns_method method,
                                const char *ns, long steps, int bf16, const msign_hooks *hooks)
{
    if (method == NS_UNKNOWN)
        return optref_fail(OPTREF_EINVAL, "msign: unknown method '%s': expected one of %s",
                           ns ? ns : "(null)", MSIGN_CHOICES);
    if (method != NS_POLAR && steps < 1)
        return optref_fail(OPTREF_EINVAL, "msign: %s needs steps >= 1, got %ld", ns, steps);
    if (method == NS_POLAR && bf16)
        return optref_fail(OPTREF_EINVAL, "msign: polar has no bf16 model (use ns_dtype=exact)");
    if (hooks != NULL && hooks->eps != NULL && (!mpfr_number_p(hooks->eps) ||
                                                mpfr_sgn(hooks->eps) < 0))
        return optref_fail(OPTREF_EINVAL, "msign: eps must be finite and >= 0");
    if (O->rows != X->rows || O->cols != X->cols)
        return optref_fail(OPTREF_ESHAPE, "msign: output is %zu x %zu, input %zu x %zu", O->rows,
                           O->cols, X->rows, X->cols);
    size_t k = mpmat_first_nonfinite(X);
    if (k < X->rows * X->cols)
        return optref_fail(OPTREF_ENONFINITE, "msign: X[%zu][%zu] is not finite", k / X->cols,
                           k % X->cols);
    return OPTREF_OK;
}

optref_status ref_msign_hooked(mpmat_ptr O, mpmat_srcptr X, const char *ns, long steps, int bf16,
                               const msign_hooks *hooks)
{
    ns_method method = method_of(ns);
    optref_status st = check_args(O, X, method, ns, steps, bf16, hooks);
    if (st != OPTREF_OK)
        return st;
    size_t r = X->rows < X->cols ? X->rows : X->cols, c = X->rows < X->cols ? X->cols : X->rows;
    mpmat_t Y;
    if ((st = mpmat_init(Y, r, c, bf16 ? 8 : O->prec)) != OPTREF_OK)
        return st;
    if (bf16) { /* X.bfloat16(), then the transposition (they commute) */
        mpmat_t T;
        if ((st = mpmat_init(T, r, c, X->prec)) == OPTREF_OK) {
            oriented_copy(T, X);
            for (size_t k = 0; k < r * c; k++)
                optref_round_format(Y->e + k, T->e + k, OPTREF_BFLOAT16);
            mpmat_clear(T);
        }
        if (st == OPTREF_OK && !mpmat_is_finite(Y))
            st = optref_fail(OPTREF_ENONFINITE, "msign: X overflows bfloat16");
    } else {
        oriented_copy(Y, X);
    }
    job J;
    job_init(&J, method, steps, bf16, hooks);
    if (st == OPTREF_OK) {
        trace(&J, "X", Y);
        if (is_zero(Y))
            mpmat_zero(Y);
        else if (method == NS_POLAR)
            st = mpmat_polar(Y, Y);
        else if (bf16)
            st = iterate_bf16(Y, &J);
        else
            st = iterate_exact(Y, &J);
    }
    if (st == OPTREF_OK && !mpmat_is_finite(Y))
        st = optref_fail(OPTREF_ENONFINITE, "msign: %s overflowed in the bf16 model", ns);
    if (st == OPTREF_OK) {
        if (X->rows > X->cols)
            mpmat_transpose(O, Y);
        else
            mpmat_set(O, Y);
    }
    job_clear(&J);
    mpmat_clear(Y);
    return st;
}

optref_status ref_msign(mpmat_ptr O, mpmat_srcptr X, const char *ns, long steps, int bf16)
{
    return ref_msign_hooked(O, X, ns, steps, bf16, NULL);
}
