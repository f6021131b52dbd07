/* Learning-rate schedules (spec/problems.md 4). t is the 1-based step and
 * i = t - 1 the 0-based index the DeVA script and nanoGPT use.
 *   const:         eta = lr
 *   deva-fig2:     h = floor(T/2); eta = lr if i < h, else
 *                  lr max(0, 1 - (i - h) / max(1, T - h))
 *   cosine-warmup: eta = lr i / w for i < w, else
 *                  lr_min + (lr - lr_min)(1 + cos(pi r)) / 2,
 *                  r = min(1, (i - w) / max(1, T - w))   [decision]
 * Evaluation: const is lr rounded to eta; deva-fig2 and the warmup are
 * lr (n / m) with n, m integers, lr n exact, one rounding; the cosine part
 * is evaluated at prec(eta) + 64 bits (cos(pi n/m) = mpfr_cosu(n, 2m), exact
 * angle; then the sum) and rounded once to eta. MPFR only, no libm. */
#include "optref/problem.h"

#include <limits.h>
#include <string.h>

#define SCHEDULE_GUARD 64

static const struct {
    const char *name;
    schedule_kind kind;
} schedules[] = {
    {"const", SCHEDULE_CONST}, {"deva-fig2", SCHEDULE_DEVA_FIG2},
    {"cosine-warmup", SCHEDULE_COSINE_WARMUP}};

optref_status schedule_init(schedule *S, const char *kind, mpfr_srcptr lr, uint64_t T,
                            uint64_t warmup, mpfr_srcptr lr_min, mpfr_prec_t prec)
{
    /* lr and lr_min are always initialised, so schedule_clear is valid after
     * any return. */
    int prec_ok = prec >= MPFR_PREC_MIN && prec <= MPFR_PREC_MAX;
    mpfr_inits2(prec_ok ? prec : 53, S->lr, S->lr_min, (mpfr_ptr)0);
    mpfr_set_zero(S->lr, 1), mpfr_set_zero(S->lr_min, 1);
    S->kind = SCHEDULE_CONST, S->T = T, S->warmup = warmup;
    if (!prec_ok)
        return optref_fail(OPTREF_EINVAL, "schedule_init: precision %ld is outside [%ld, %ld]",
                           (long)prec, (long)MPFR_PREC_MIN, (long)MPFR_PREC_MAX);
    size_t i = 0, n = sizeof schedules / sizeof schedules[0];
    while (i < n && (kind == NULL || strcmp(kind, schedules[i].name) != 0))
        i++;
    if (i == n)
        return optref_fail(OPTREF_ENOTFOUND, "schedule_init: unknown schedule '%s': valid "
                           "schedules are const, deva-fig2, cosine-warmup",
                           kind ? kind : "(null)");
    S->kind = schedules[i].kind;
    if (lr == NULL || !mpfr_number_p(lr))
        return optref_fail(OPTREF_ENONFINITE, "schedule_init: lr must be a finite number");
    if (lr_min != NULL && !mpfr_number_p(lr_min))
        return optref_fail(OPTREF_ENONFINITE, "schedule_init: lr_min must be a finite number");
    if (S->kind != SCHEDULE_CONST && T == 0)
        return optref_fail(OPTREF_EINVAL, "schedule_init: %s needs the total number of steps "
                           "T >= 1, got T=0", schedules[i].name);
    if (S->kind == SCHEDULE_COSINE_WARMUP && warmup > T)
        return optref_fail(OPTREF_EINVAL, "schedule_init: cosine-warmup warmup=%llu exceeds "
                           "T=%llu", (unsigned long long)warmup, (unsigned long long)T);
    mpfr_set(S->lr, lr, MPFR_RNDN);
    if (lr_min != NULL)
        mpfr_set(S->lr_min, lr_min, MPFR_RNDN);
    return OPTREF_OK;
}

void schedule_clear(schedule *S)
{
    mpfr_clears(S->lr, S->lr_min, (mpfr_ptr)0);
}

/* eta = lr n / m, one rounding (n <= m, both below 2^64). */
static void lr_ratio(mpfr_ptr eta, mpfr_srcptr lr, uint64_t n, uint64_t m)
{
    mpfr_t a, u, v;
    mpfr_init2(a, mpfr_get_prec(lr) + 64);
    mpfr_inits2(64, u, v, (mpfr_ptr)0);
    mpfr_set_uj(u, n, MPFR_RNDN), mpfr_set_uj(v, m, MPFR_RNDN); /* exact */
    mpfr_mul(a, lr, u, MPFR_RNDN);                               /* exact */
    mpfr_div(eta, a, v, MPFR_RNDN);
    mpfr_clears(a, u, v, (mpfr_ptr)0);
}

/* c = cos(pi n / m) at c's precision, 0 <= n <= m: mpfr_cosu(n, 2m) when 2m
 * fits an unsigned long (the angle exact), else mpfr_cospi(n / m) with n / m
 * rounded at prec(c) + 64 bits. */
static void cos_pi_ratio(mpfr_ptr c, uint64_t n, uint64_t m)
{
    mpfr_t x, v;
    mpfr_init2(x, mpfr_get_prec(c) + 64);
    mpfr_init2(v, 64);
    mpfr_set_uj(x, n, MPFR_RNDN);
    if (m <= ULONG_MAX / 2)
        mpfr_cosu(c, x, (unsigned long)(2 * m), MPFR_RNDN);
    else {
        mpfr_set_uj(v, m, MPFR_RNDN);
        mpfr_div(x, x, v, MPFR_RNDN);
        mpfr_cospi(c, x, MPFR_RNDN);
    }
    mpfr_clears(x, v, (mpfr_ptr)0);
}

optref_status schedule_lr(mpfr_ptr eta, const schedule *S, uint64_t t)
{
    if (t == 0)
        return optref_fail(OPTREF_EINVAL, "schedule_lr: t=0: t is the 1-based step (t >= 1)");
    uint64_t i = t - 1;
    if (S->kind == SCHEDULE_CONST) {
        mpfr_set(eta, S->lr, MPFR_RNDN);
        return OPTREF_OK;
    }
    if (S->kind == SCHEDULE_DEVA_FIG2) {
        uint64_t h = S->T / 2, m = S->T - h; /* T - h >= 1 for T >= 1 */
        if (i < h || i - h == 0)
            mpfr_set(eta, S->lr, MPFR_RNDN);
        else if (i - h >= m)
            mpfr_set_zero(eta, 1);
        else
            lr_ratio(eta, S->lr, m - (i - h), m); /* lr (1 - (i - h)/m) */
        return OPTREF_OK;
    }
    uint64_t w = S->warmup;
    if (i < w) {
        lr_ratio(eta, S->lr, i, w);
        if (mpfr_zero_p(eta))
            mpfr_set_zero(eta, 1);
        return OPTREF_OK;
    }
    uint64_t m = S->T - w > 1 ? S->T - w : 1, n = i - w < m ? i - w : m; /* r = n / m */
    mpfr_prec_t q = mpfr_get_prec(eta) + SCHEDULE_GUARD;
    mpfr_t c, diff;
    mpfr_inits2(q, c, diff, (mpfr_ptr)0);
    cos_pi_ratio(c, n, m);
    mpfr_add_ui(c, c, 1, MPFR_RNDN);
    mpfr_div_2ui(c, c, 1, MPFR_RNDN);                /* (1 + cos(pi r)) / 2 */
    mpfr_sub(diff, S->lr, S->lr_min, MPFR_RNDN);
    mpfr_fma(c, diff, c, S->lr_min, MPFR_RNDN);      /* lr_min + (lr - lr_min) c */
    mpfr_set(eta, c, MPFR_RNDN);
    mpfr_clears(c, diff, (mpfr_ptr)0);
    return OPTREF_OK;
}
