/* The registry of trace-quadratic problems (spec/problems.md 2), their
 * creation and the functions every problem shares: H X, f(X), subopt(X).
 *
 * Creation: problem_create validates the precision (53 to 65536 bits), the
 * name and the option set, then the problem's builder draws its data from the
 * project generator (stream 1 rotations, 2 B, 3 X0; spec 1) and computes H, A,
 * Y, Xstar, fstar from the spectral form (quadratics/spectral.c). */
#include "spectral.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optref/rng.h"

#define PROBLEM_PREC_MIN 53
#define PROBLEM_PREC_MAX 65536
/* Guard bits of the intermediate H X in f and subopt. */
#define EVAL_GUARD 64
/* Beyond this many bits more than its operands, X - Xstar is rounded (the
 * exponent spread of the two is then above 8192 bits). */
#define RESIDUAL_EXTRA_MAX 8192

typedef struct {
    problem_info info; /* first member: an info pointer is an entry pointer */
    optref_status (*build)(problem *P, const param_set *opts);
} problem_entry;

static const problem_entry problems[] = {
    {{"trace-het", "DeVA heterogeneous trace quadratic: d = p = 9, blocks {1,2,3}, "
                   "{99,100,101}, {4998,4999,5000}, B = 0", NULL, 0}, trace_het_build},
    {{"trace-hom", "DeVA homogeneous trace quadratic: d = p = 9, blocks {1,99,4998}, "
                   "{2,100,4999}, {3,101,5000}, B = 0", NULL, 0}, trace_hom_build},
    {{"trace-dense", "dense Haar rotation of a loguniform or power spectrum, B ~ N(0,1)",
      trace_dense_params, TRACE_DENSE_NPARAMS}, trace_dense_build},
    {{"nqm", "noisy quadratic model: H = diag(1/i), p = 1, B = 0, X0 = 1", nqm_params, NQM_NPARAMS},
     nqm_build},
};

#define NPROBLEMS (sizeof problems / sizeof problems[0])

size_t problem_count(void)
{
    return NPROBLEMS;
}

const problem_info *problem_info_at(size_t i)
{
    return i < NPROBLEMS ? &problems[i].info : NULL;
}

const problem_info *problem_info_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < NPROBLEMS; i++)
        if (strcmp(problems[i].info.name, name) == 0)
            return &problems[i].info;
    return NULL;
}

optref_status problem_alloc(problem *P, size_t d, size_t p, int diagonal)
{
    P->d = d, P->p = p, P->diagonal = diagonal;
    size_t hc = diagonal ? 1 : d;
    mpmat_ptr mats[] = {P->H, P->A, P->B, P->Y, P->X0, P->Xstar, P->eigenvalues};
    size_t cols[] = {hc, hc, p, p, p, p, 1};
    for (size_t k = 0; k < sizeof mats / sizeof mats[0]; k++) {
        optref_status st = mpmat_init(mats[k], d, cols[k], P->prec);
        if (st != OPTREF_OK)
            return st; /* the caller clears: unset matrices have no entries */
    }
    return OPTREF_OK;
}

void problem_fill_normal(mpmat_ptr M, uint64_t seed, uint32_t stream)
{
    rng_stream s;
    rng_stream_init(&s, seed, stream, 0);
    rng_fill_normal(M, &s);
}

static void release(problem *P)
{
    mpmat_clear(P->H), mpmat_clear(P->A), mpmat_clear(P->B), mpmat_clear(P->Y);
    mpmat_clear(P->X0), mpmat_clear(P->Xstar), mpmat_clear(P->eigenvalues);
    mpfr_clear(P->fstar);
    memset(P, 0, sizeof *P);
}

optref_status problem_create(problem *P, const char *name, uint64_t seed, mpfr_prec_t prec,
                             const param_set *opts)
{
    memset(P, 0, sizeof *P); /* info == NULL: nothing to clear */
    if (prec < PROBLEM_PREC_MIN || prec > PROBLEM_PREC_MAX)
        return optref_fail(OPTREF_EINVAL, "problem_create: precision %ld bits is outside "
                           "[%d, %d]", (long)prec, PROBLEM_PREC_MIN, PROBLEM_PREC_MAX);
    const problem_info *info = problem_info_find(name);
    if (info == NULL) {
        char names[256] = "";
        size_t used = 0;
        for (size_t i = 0; i < NPROBLEMS; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                     problems[i].info.name);
        return optref_fail(OPTREF_ENOTFOUND, "problem_create: unknown problem '%s': valid "
                           "problems are %s", name ? name : "(null)", names);
    }
    if (opts != NULL && (opts->spec != info->params || opts->n != info->nparams))
        return optref_fail(OPTREF_EINVAL, "problem_create: the options given for '%s' were "
                           "not built with its table (problem_info_find(\"%s\")->params)",
                           info->name, info->name);
    param_set defaults;
    const param_set *use = opts;
    optref_status st = OPTREF_OK;
    if (opts == NULL) {
        if ((st = param_set_init(&defaults, info->params, info->nparams)) != OPTREF_OK)
            return st;
        use = &defaults;
    }
    st = param_set_check_required(use);
    if (st == OPTREF_OK) {
        P->seed = seed;
        P->prec = prec;
        mpfr_init2(P->fstar, prec);
        mpfr_set_zero(P->fstar, 1);
        st = ((const problem_entry *)info)->build(P, use);
        if (st != OPTREF_OK)
            release(P);
        else
            P->info = info;
    }
    if (opts == NULL)
        param_set_clear(&defaults);
    return st;
}

void problem_clear(problem *P)
{
    if (P->info != NULL)
        release(P);
}

/* ---- H X, f and subopt ---- */

optref_status problem_apply_H(mpmat_ptr HX, const problem *P, mpmat_srcptr X)
{
    if (X->rows != P->d || HX->rows != P->d || HX->cols != X->cols)
        return optref_fail(OPTREF_ESHAPE, "problem_apply_H: H is %zux%zu, X is %zux%zu, HX is "
                           "%zux%zu", P->d, P->d, X->rows, X->cols, HX->rows, HX->cols);
    if (!P->diagonal)
        return mpmat_mul(HX, P->H, X); /* one correctly rounded dot per entry */
    for (size_t i = 0; i < P->d; i++)
        for (size_t j = 0; j < X->cols; j++)
            mpfr_mul(mpmat_entry(HX, i, j), mpmat_entry(P->H, i, 0), mpmat_entry(X, i, j),
                     MPFR_RNDN);
    return OPTREF_OK;
}

static optref_status check_point(const problem *P, mpmat_srcptr X, const char *fn)
{
    if (X->rows != P->d || X->cols != P->p)
        return optref_fail(OPTREF_ESHAPE, "%s: X is %zux%zu, expected %zux%zu", fn, X->rows,
                           X->cols, P->d, P->p);
    if (!mpmat_is_finite(X))
        return optref_fail(OPTREF_ENONFINITE, "%s: X has a non-finite entry at index %zu", fn,
                           mpmat_first_nonfinite(X));
    return OPTREF_OK;
}

static mpfr_prec_t max_prec(mpfr_prec_t a, mpfr_prec_t b)
{
    return a > b ? a : b;
}

/* f(X) = 1/2 tr(X^T H X) + tr(B^T X): HX at prec + 64 bits (one correctly
 * rounded dot per entry), then one correctly rounded dot of the 2dp exact
 * products X_ij (HX_ij / 2) and B_ij X_ij. */
optref_status problem_f(mpfr_ptr f, const problem *P, mpmat_srcptr X)
{
    optref_status st = check_point(P, X, "problem_f");
    if (st != OPTREF_OK)
        return st;
    size_t n = P->d * P->p;
    mpmat_t HX;
    if ((st = mpmat_init(HX, P->d, P->p, max_prec(mpfr_get_prec(f), P->prec) + EVAL_GUARD)) !=
        OPTREF_OK)
        return st;
    mpfr_ptr *a = malloc((2 * n + 1) * sizeof *a), *b = malloc((2 * n + 1) * sizeof *b);
    if (a == NULL || b == NULL)
        st = optref_fail(OPTREF_ENOMEM, "problem_f: cannot allocate %zu pointers", 2 * n);
    if (st == OPTREF_OK)
        st = problem_apply_H(HX, P, X);
    if (st == OPTREF_OK) {
        for (size_t k = 0; k < n; k++) {
            mpfr_div_2ui(HX->e + k, HX->e + k, 1, MPFR_RNDN); /* exact */
            a[k] = X->e + k, b[k] = HX->e + k;
            a[n + k] = P->B->e + k, b[n + k] = X->e + k;
        }
        mpfr_dot(f, a, b, 2 * n, MPFR_RNDN);
    }
    free(a), free(b);
    mpmat_clear(HX);
    return st;
}

/* r = x - y exactly (precision chosen from the operands' exponents and
 * precisions), or rounded at RESIDUAL_EXTRA_MAX extra bits when they are
 * further apart than that. Zero is +0. */
static void exact_sub(mpfr_ptr r, mpfr_srcptr x, mpfr_srcptr y)
{
    mpfr_prec_t px = mpfr_get_prec(x), py = mpfr_get_prec(y), pm = max_prec(px, py);
    mpfr_prec_t need = pm;
    if (mpfr_zero_p(x) && mpfr_zero_p(y)) {
        mpfr_set_prec(r, MPFR_PREC_MIN);
        mpfr_set_zero(r, 1);
        return;
    }
    if (!mpfr_zero_p(x) && !mpfr_zero_p(y)) {
        mpfr_exp_t ex = mpfr_get_exp(x), ey = mpfr_get_exp(y);
        mpfr_exp_t spread = ex > ey ? ex - ey : ey - ex;
        need = spread > RESIDUAL_EXTRA_MAX ? pm + RESIDUAL_EXTRA_MAX : pm + (mpfr_prec_t)spread + 1;
    }
    mpfr_set_prec(r, need);
    mpfr_sub(r, x, y, MPFR_RNDN);
    if (mpfr_zero_p(r))
        mpfr_set_zero(r, 1);
}

/* subopt(X) = 1/2 tr(R^T H R), R = X - Xstar exactly, HR at prec + 64 bits
 * (one correctly rounded dot per entry), then one correctly rounded dot of R
 * with HR, halved exactly. X = Xstar gives +0. */
optref_status problem_subopt(mpfr_ptr s, const problem *P, mpmat_srcptr X)
{
    optref_status st = check_point(P, X, "problem_subopt");
    if (st != OPTREF_OK)
        return st;
    mpfr_prec_t q = max_prec(mpfr_get_prec(s), P->prec) + EVAL_GUARD;
    mpmat_t R, HR;
    if ((st = mpmat_init(R, P->d, P->p, q)) != OPTREF_OK)
        return st;
    if ((st = mpmat_init(HR, P->d, P->p, q)) != OPTREF_OK) {
        mpmat_clear(R);
        return st;
    }
    /* R's entries carry their own (exact) precisions; mpmat_clear frees them. */
    for (size_t k = 0; k < P->d * P->p; k++)
        exact_sub(R->e + k, X->e + k, P->Xstar->e + k);
    st = problem_apply_H(HR, P, R);
    if (st == OPTREF_OK)
        st = mpmat_dot(s, R, HR);
    if (st == OPTREF_OK)
        mpfr_div_2ui(s, s, 1, MPFR_RNDN);
    mpmat_clear(R), mpmat_clear(HR);
    return st;
}
