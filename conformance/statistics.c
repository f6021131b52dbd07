/* Level 3 of the conformance gate: seed statistics (spec/conformance.md 2).
 *
 * For seeds s, s + 1, ..., the reference and the backend each run the case
 * closed loop on the problem of that seed: the oracle is evaluated exactly
 * by the reference at the runner's own iterate and, for the backend, rounded
 * to its format ("the same problems and oracles, fed with the reference
 * generator's data"). The final suboptimalities are compared as
 * distributions: the backend's quartiles of log(subopt) must lie within the
 * distribution-free 99% confidence intervals of the reference's quartiles
 * (order statistics; proofs/conformance-statistics.md). The ratio reported is
 * the largest |q_backend - q_ref| / (half-width of the reference's interval);
 * the threshold is 1. Values that are not finite or not positive are
 * excluded and counted, as the DeVA notebook does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optref/conform.h"
#include "optref/problem.h"

#define STAT_PREC 256
/* z of a two-sided 99% normal interval: the binomial ranks of the order
 * statistics bracketing a quantile (proofs/conformance-statistics.md). */
#define STAT_Z 2.5758293035489004

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The oracle of a closed-loop run: exact, at the runner's own iterate. */
typedef struct {
    const problem *P;
    oracle_kind kind;
    size_t batch;
    uint64_t t;
    fast_backend b;
    mpmat_ptr X, Y; /* scratch for the backend's conversions */
} loop_oracle;

static optref_status ref_gradient_at(void *ctx, mpmat_ptr G, mpmat_srcptr X)
{
    const loop_oracle *o = ctx;
    return oracle_gradient(G, o->P, o->kind, o->batch, o->t, X);
}

static optref_status ref_hvp(void *ctx, mpmat_ptr HU, mpmat_srcptr X, mpmat_srcptr U)
{
    const loop_oracle *o = ctx;
    (void)X;
    return problem_apply_H(HU, o->P, U);
}

static optref_status fast_gradient_at(void *ctx, void *G, const void *X)
{
    const loop_oracle *o = ctx;
    fast_to_mpmat(o->X, o->b, X);
    optref_status st = oracle_gradient(o->Y, o->P, o->kind, o->batch, o->t, o->X);
    if (st == OPTREF_OK)
        fast_from_mpmat(G, o->b, o->Y);
    return st;
}

static optref_status fast_hvp(void *ctx, void *HU, const void *X, const void *U)
{
    const loop_oracle *o = ctx;
    (void)X;
    fast_to_mpmat(o->X, o->b, U);
    optref_status st = problem_apply_H(o->Y, o->P, o->X);
    if (st == OPTREF_OK)
        fast_from_mpmat(HU, o->b, o->Y);
    return st;
}

/* log(subopt) of the final iterate of one closed-loop run (NAN if excluded). */
static optref_status run_one(const conform_case *c, const problem *P, fast_backend b,
                             int reference, unsigned steps, double *out)
{
    size_t m = P->d, n = P->p, nopt = 0;
    while (nopt < 8 && c->options[nopt] != NULL)
        nopt++;
    const oracle_info *oi = oracle_info_find(c->oracle);
    ref_opt *r = NULL;
    fast_opt *f = NULL;
    mpmat_t W, G, X, Y;
    mpfr_t eta, s;
    void *Wb = NULL, *Gb = NULL;
    size_t bytes = m * n * fast_backend_size(b);
    mpfr_inits2(STAT_PREC, eta, s, (mpfr_ptr)0);
    mpmat_ptr mats[] = {W, G, X, Y};
    optref_status st = OPTREF_OK;
    for (size_t i = 0; i < 4; i++)
        mats[i]->e = NULL, mats[i]->rows = mats[i]->cols = 0;
    for (size_t i = 0; st == OPTREF_OK && i < 4; i++)
        st = mpmat_init(mats[i], m, n, STAT_PREC);
    if (st == OPTREF_OK)
        st = param_parse_real(eta, c->lr);
    if (st == OPTREF_OK && reference)
        st = ref_opt_create(&r, c->opt, m, n, STAT_PREC, c->options, nopt);
    else if (st == OPTREF_OK) {
        st = fast_opt_create(&f, b, c->opt, m, n, c->options, nopt);
        if (st == OPTREF_OK && ((Wb = malloc(bytes)) == NULL || (Gb = malloc(bytes)) == NULL))
            st = optref_fail(OPTREF_ENOMEM, "conform: out of memory");
    }
    mpmat_set(W, P->X0);
    if (!reference && st == OPTREF_OK) {
        fast_from_mpmat(Wb, b, W);
        fast_to_mpmat(W, b, Wb); /* the backend starts from X0 rounded */
    }
    loop_oracle lo = {P, oi->kind, c->batch, 0, b, X, Y};
    ref_oracle rorc = {&lo, P->seed, ref_gradient_at, ref_hvp};
    fast_oracle forc = {&lo, P->seed, fast_gradient_at, fast_hvp};
    for (unsigned t = 1; st == OPTREF_OK && t <= steps; t++) {
        lo.t = t;
        st = oracle_gradient(G, P, oi->kind, c->batch, t, W);
        if (st != OPTREF_OK)
            break;
        if (reference) {
            st = ref_opt_step(r, W, G, eta, &rorc);
        } else {
            fast_from_mpmat(Gb, b, G);
            st = fast_opt_step(f, Wb, Gb, mpfr_get_d(eta, MPFR_RNDN), &forc);
            if (st == OPTREF_OK)
                fast_to_mpmat(W, b, Wb);
        }
    }
    if (st == OPTREF_OK)
        st = problem_subopt(s, P, W);
    if (st == OPTREF_OK) {
        if (mpfr_number_p(s) && mpfr_sgn(s) > 0) {
            mpfr_log(s, s, MPFR_RNDN);
            *out = mpfr_get_d(s, MPFR_RNDN);
        } else {
            *out = NAN;
        }
    }
    ref_opt_free(r);
    fast_opt_free(f);
    free(Wb), free(Gb);
    for (size_t i = 0; i < 4; i++)
        mpmat_clear(mats[i]);
    mpfr_clears(eta, s, (mpfr_ptr)0);
    return st;
}

/* The finite values of x[0..n) sorted, in place; returns their number. */
static size_t finite_sorted(double *x, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            x[k++] = x[i];
    qsort(x, k, sizeof *x, cmp_double);
    return k;
}

/* The sample p-quantile (linear interpolation) and the 99% order-statistic
 * interval [lo, hi] around it. */
static void quantile_ci(const double *x, size_t n, double p, double *q, double *lo, double *hi)
{
    double pos = p * (double)(n - 1);
    size_t i = (size_t)pos;
    *q = i + 1 < n ? x[i] + (pos - (double)i) * (x[i + 1] - x[i]) : x[n - 1];
    double half = STAT_Z * sqrt((double)n * p * (1 - p));
    double j = floor((double)n * p - half), k = ceil((double)n * p + half);
    *lo = x[j < 0 ? 0 : (size_t)j];
    *hi = x[k > (double)(n - 1) ? n - 1 : (size_t)k];
}

optref_status conform_statistics(const conform_case *c, fast_backend b, unsigned seeds,
                                 unsigned steps, conform_result *res)
{
    memset(res, 0, sizeof *res);
    res->level = CONFORM_STATISTICS;
    res->threshold = 1.0;
    snprintf(res->tensor, sizeof res->tensor, "log subopt");
    const oracle_info *oi = oracle_info_find(c->oracle);
    if (oi == NULL || oi->kind == ORACLE_HVP)
        return optref_fail(OPTREF_ENOTFOUND, "conform: unknown oracle '%s'", c->oracle);
    if (seeds < 8)
        return optref_fail(OPTREF_EINVAL, "conform: statistics need at least 8 seeds");
    const problem_info *pi = problem_info_find(c->problem);
    if (pi == NULL)
        return optref_fail(OPTREF_ENOTFOUND, "conform: unknown problem '%s'", c->problem);
    double *xr = malloc(seeds * sizeof *xr), *xb = malloc(seeds * sizeof *xb);
    optref_status st = xr && xb ? OPTREF_OK : optref_fail(OPTREF_ENOMEM, "out of memory");
    for (unsigned k = 0; st == OPTREF_OK && k < seeds; k++) {
        param_set ps;
        problem P;
        st = param_set_init(&ps, pi->params, pi->nparams);
        for (size_t i = 0; st == OPTREF_OK && i < 4 && c->problem_options[i] != NULL; i++)
            st = param_set_parse(&ps, c->problem_options[i]);
        if (st == OPTREF_OK)
            st = problem_create(&P, c->problem, c->seed + k, STAT_PREC, &ps);
        param_set_clear(&ps);
        if (st != OPTREF_OK)
            break;
        st = run_one(c, &P, b, 1, steps, &xr[k]);
        if (st == OPTREF_OK)
            st = run_one(c, &P, b, 0, steps, &xb[k]);
        problem_clear(&P);
    }
    if (st == OPTREF_OK) {
        size_t nr = finite_sorted(xr, seeds), nb = finite_sorted(xb, seeds);
        res->near = (seeds - nr) + (seeds - nb); /* excluded runs */
        res->compared = nb;
        if (nr < 8 || nb < 8) {
            res->passed = nr == nb; /* both (nearly) all excluded: nothing to compare */
        } else {
            static const double quartiles[3] = {0.25, 0.5, 0.75};
            res->ratio = 0;
            for (int i = 0; i < 3; i++) {
                double qr, lo, hi, qb, blo, bhi;
                quantile_ci(xr, nr, quartiles[i], &qr, &lo, &hi);
                quantile_ci(xb, nb, quartiles[i], &qb, &blo, &bhi);
                double halfwidth = qb >= qr ? hi - qr : qr - lo;
                double ratio = halfwidth > 0 ? fabs(qb - qr) / halfwidth : (qb == qr ? 0 : INFINITY);
                if (ratio >= res->ratio) {
                    res->ratio = ratio;
                    res->col = (size_t)i; /* which quartile */
                    res->ref = qr;
                    res->observed = qb;
                    res->error = fabs(qb - qr);
                    res->scale = halfwidth;
                }
            }
            res->step = steps;
            res->passed = res->ratio <= res->threshold;
        }
    }
    free(xr), free(xb);
    return st;
}
