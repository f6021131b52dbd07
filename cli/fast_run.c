/* The fast backend's side of `optref run` (cli/fast_run.h). */
#include "fast_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The oracle at the backend's point: exact, then rounded to the format. */
static optref_status gradient_at(void *ctx, void *G, const void *X)
{
    fast_run *r = ctx;
    fast_to_mpmat(r->X, r->b, X);
    optref_status st = oracle_gradient(r->Y, r->P, r->kind, r->batch, r->t, r->X);
    if (st == OPTREF_OK)
        fast_from_mpmat(G, r->b, r->Y);
    return st;
}

static optref_status hvp(void *ctx, void *HU, const void *X, const void *U)
{
    fast_run *r = ctx;
    (void)X; /* the quadratics' Hessian does not depend on the point */
    fast_to_mpmat(r->X, r->b, U);
    optref_status st = problem_apply_H(r->Y, r->P, r->X);
    if (st == OPTREF_OK)
        fast_from_mpmat(HU, r->b, r->Y);
    return st;
}

/* key=value texts of o's effective options, a wrapper's base's as base.key. */
static size_t option_texts(char **out, const ref_opt *o, const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < o->info->nhyper; i++) {
        const char *name = o->info->hyper[i].name, *text = ref_opt_text(o, name);
        if (text == NULL)
            continue;
        size_t len = strlen(prefix) + strlen(name) + strlen(text) + 2;
        if ((out[n] = malloc(len)) != NULL)
            snprintf(out[n++], len, "%s%s=%s", prefix, name, text);
    }
    if (o->base != NULL) {
        size_t len = strlen(o->base->info->name) + 6;
        if ((out[n] = malloc(len)) != NULL)
            snprintf(out[n++], len, "base=%s", o->base->info->name);
        n += option_texts(out + n, o->base, "base.");
    }
    return n;
}

void fast_run_clear(fast_run *r)
{
    fast_opt_free(r->f);
    free(r->Wb), free(r->Gb);
    mpmat_clear(r->X), mpmat_clear(r->Y);
    r->f = NULL, r->Wb = r->Gb = NULL;
}

optref_status fast_run_start(fast_run *r, fast_backend b, ref_opt *o, mpmat_ptr W,
                             const problem *P, oracle_kind kind, size_t batch)
{
    *r = (fast_run){.b = b, .P = P, .kind = kind, .batch = batch};
    size_t nopt = o->info->nhyper + (o->base != NULL ? 1 + o->base->info->nhyper : 0);
    char **opts = calloc(nopt ? nopt : 1, sizeof *opts);
    if (opts == NULL)
        return optref_fail(OPTREF_ENOMEM, "out of memory");
    size_t n = option_texts(opts, o, "");
    optref_status st = fast_opt_create(&r->f, b, o->info->name, o->m, o->n,
                                       (const char *const *)opts, n);
    for (size_t i = 0; i < n; i++)
        free(opts[i]);
    free(opts);
    size_t bytes = o->m * o->n * fast_backend_size(b);
    if (st == OPTREF_OK && ((r->Wb = malloc(bytes ? bytes : 1)) == NULL ||
                            (r->Gb = malloc(bytes ? bytes : 1)) == NULL))
        st = optref_fail(OPTREF_ENOMEM, "out of memory");
    if (st == OPTREF_OK && (st = mpmat_init(r->X, o->m, o->n, o->prec)) == OPTREF_OK)
        st = mpmat_init(r->Y, o->m, o->n, o->prec);
    if (st == OPTREF_OK && (st = fast_opt_load_ref(r->f, o)) == OPTREF_OK) {
        fast_from_mpmat(r->Wb, b, W); /* the backend starts from W rounded */
        fast_to_mpmat(W, b, r->Wb);
        st = fast_opt_store_ref(o, r->f);
    }
    if (st != OPTREF_OK)
        fast_run_clear(r);
    return st;
}

optref_status fast_run_step(fast_run *r, ref_opt *o, mpmat_ptr W, mpmat_srcptr G,
                            mpfr_srcptr eta, uint64_t t)
{
    r->t = t;
    fast_from_mpmat(r->Gb, r->b, G);
    fast_oracle oracle = {r, r->P->seed, gradient_at, hvp};
    optref_status st = fast_opt_step(r->f, r->Wb, r->Gb, mpfr_get_d(eta, MPFR_RNDN), &oracle);
    if (st == OPTREF_OK) {
        fast_to_mpmat(W, r->b, r->Wb);
        st = fast_opt_store_ref(o, r->f);
    }
    return st;
}
