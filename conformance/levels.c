/* Levels 1 and 2 of the conformance gate (include/optref/conform.h).
 *
 * For step k of a case: the teacher (the reference at TEACHER_PREC bits)
 * holds W_{k-1} and its state; the gradient G_k comes from the problem's
 * oracle at W_{k-1}. Those are rounded to the backend's format (and the
 * learning rate to binary64): these rounded values are the step's exact
 * inputs. The reference steps from them (the answer), the running error
 * bound of that step gives the scale, and the backend steps from the same
 * inputs. Then the teacher takes its own exact step and the next k begins.
 * Oracle answers beyond G (SAM's G2, Sophia's H u) are inputs too: computed
 * by the reference, rounded, and handed to both.
 *
 * Level 2, the open-loop trajectory: the gradient stream is the teacher's,
 * rounded, fixed in advance; the reference and the backend start from the
 * rounded initial state and each continues from its own previous step. The
 * bound of step k takes the bounds of step k - 1's outputs as the bounds of
 * its inputs, so the scale grows exactly as the running error analysis says
 * it may (and a sign decided near zero carries its jump onward).
 *
 * Eigenbasis optimizers (spec/conformance.md 3): where the bound of a step
 * leaves a column of the new Q_L or Q_R loose, the backend's basis is
 * validated (conformance/adopt_basis.h) and the reference's step and bound
 * are re-run with it (ref_opt basis_override): the reference continues from
 * the backend's basis, at level 2 for the rest of the trajectory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adopt_basis.h"
#include "bounds.h"
#include "optref/conform.h"
#include "optref/problem.h"

#define TEACHER_PREC 256

/* ---- oracle answers as inputs ---- */

typedef struct {
    const problem *P;
    oracle_kind kind;
    size_t batch;
    uint64_t t;
    int record;       /* round the answers to fmt and keep them (else: the teacher's, exact) */
    optref_format fmt;
    mpmat_t G2, HU;   /* the rounded answers, filled by the reference's calls */
    int have_G2, have_HU;
    mpmat_t X2, X2b;  /* where the reference and the backend asked for G2 (SAM's W + E) */
    int have_X2b;
} answers;

static optref_status ref_gradient_at(void *ctx, mpmat_ptr G, mpmat_srcptr X)
{
    answers *a = ctx;
    optref_status st = oracle_gradient(G, a->P, a->kind, a->batch, a->t, X);
    if (st == OPTREF_OK && a->record) {
        mpmat_round_format(G, a->fmt);
        mpmat_set(a->G2, G);
        mpmat_set(a->X2, X);
        a->have_G2 = 1;
    }
    return st;
}

static optref_status ref_hvp(void *ctx, mpmat_ptr HU, mpmat_srcptr X, mpmat_srcptr U)
{
    answers *a = ctx;
    (void)X;
    optref_status st = problem_apply_H(HU, a->P, U);
    if (st == OPTREF_OK && a->record) {
        mpmat_round_format(HU, a->fmt);
        mpmat_set(a->HU, HU);
        a->have_HU = 1;
    }
    return st;
}

/* The backend receives the same answers the reference computed. */
typedef struct {
    answers *a;
    fast_backend b;
} fast_answers;

static optref_status fast_gradient_at(void *ctx, void *G, const void *X)
{
    fast_answers *f = ctx;
    if (!f->a->have_G2)
        return optref_fail(OPTREF_EINVAL, "conform: the backend asked for a gradient the "
                           "reference did not");
    fast_to_mpmat(f->a->X2b, f->b, X); /* compared with the reference's point */
    f->a->have_X2b = 1;
    fast_from_mpmat(G, f->b, f->a->G2);
    return OPTREF_OK;
}

static optref_status fast_hvp(void *ctx, void *HU, const void *X, const void *U)
{
    fast_answers *f = ctx;
    (void)X, (void)U;
    if (!f->a->have_HU)
        return optref_fail(OPTREF_EINVAL, "conform: the backend asked for a Hessian-vector "
                           "product the reference did not");
    fast_from_mpmat(HU, f->b, f->a->HU);
    return OPTREF_OK;
}

/* ---- the tensors compared: W, the state, the base's state ---- */

typedef struct {
    char name[24];
    mpmat_ptr ref;  /* the reference's value after the step */
    mpmat_ptr fast; /* the backend's value, exactly */
} tensor_pair;

static size_t count_tensors(const ref_opt *o)
{
    return o->info->nstate + (o->base != NULL ? count_tensors(o->base) : 0);
}

static void list_state(tensor_pair *t, size_t *n, const ref_opt *r, const ref_opt *f,
                       const char *prefix)
{
    for (size_t i = 0; i < r->info->nstate; i++, (*n)++) {
        snprintf(t[*n].name, sizeof t[*n].name, "%s%s", prefix, r->info->state[i].name);
        t[*n].ref = r->state[i];
        t[*n].fast = f->state[i];
    }
    if (r->base != NULL)
        list_state(t, n, r->base, f->base, "base.");
}

/* dst's state and t := src's, rounded to *fmt when fmt is given (the base's too). */
static void copy_state(ref_opt *dst, const ref_opt *src, const optref_format *fmt)
{
    dst->t = src->t;
    for (size_t i = 0; i < src->info->nstate; i++) {
        mpmat_set(dst->state[i], src->state[i]);
        if (fmt != NULL)
            mpmat_round_format(dst->state[i], *fmt);
    }
    if (src->base != NULL)
        copy_state(dst->base, src->base, fmt);
}

const char *conform_level_name(conform_level level)
{
    return level == CONFORM_STEP ? "step" : level == CONFORM_TRAJECTORY ? "trajectory" : "statistics";
}

static double to_double(mpfr_srcptr x)
{
    return mpfr_get_d(x, MPFR_RNDN);
}

/* Compares one tensor; updates res with the worst ratio. Returns 0, or -1
 * when the bound model disagrees with the reference (a bug in a bound). */
static int compare(conform_result *res, const rerr_ctx *c, const char *opt, unsigned step,
                   const char *name, mpmat_srcptr ref, mpmat_srcptr fast, const rerr_mat *bound)
{
    mpfr_t err, scale, ratio, t;
    mpfr_inits2(64, err, scale, ratio, t, (mpfr_ptr)0);
    int ok = 0;
    for (size_t k = 0; k < ref->rows * ref->cols; k++) {
        /* the bound's own value must be the reference's: the model is the formula */
        mpfr_sub(t, bound->v->e + k, ref->e + k, MPFR_RNDA);
        mpfr_abs(t, t, MPFR_RNDU);
        mpfr_mul_2si(scale, bound->e->e + k, -(long)(c->prec / 2), MPFR_RNDU);
        mpfr_mul(scale, scale, c->u, MPFR_RNDU);
        mpfr_abs(err, ref->e + k, MPFR_RNDU);
        mpfr_mul_2si(err, err, -(long)(c->prec / 2), MPFR_RNDU);
        mpfr_add(scale, scale, err, MPFR_RNDU);
        if (mpfr_cmp(t, scale) > 0 && ok == 0) {
            fprintf(stderr, "conform: the bound of %s disagrees with the reference at step %u, "
                    "%s[%zu][%zu]\n", opt, step, name, k / ref->cols, k % ref->cols);
            ok = -1;
        }
        if (mpfr_equal_p(fast->e + k, ref->e + k)) /* equal infinities too (asm's kappa) */
            mpfr_set_zero(err, 1);
        else
            mpfr_sub(err, fast->e + k, ref->e + k, MPFR_RNDA);
        mpfr_abs(err, err, MPFR_RNDU);
        mpfr_mul(scale, bound->e->e + k, c->u, MPFR_RNDN);
        res->compared++;
        if (mpfr_nan_p(scale) || mpfr_inf_p(scale)) {
            /* no finite bound (an earlier discontinuity spread): not judged, counted */
            res->unbounded++;
            continue;
        }
        if (mpfr_zero_p(scale))
            mpfr_set_inf(ratio, mpfr_zero_p(err) ? -1 : 1);
        else
            mpfr_div(ratio, err, scale, MPFR_RNDU);
        double r = mpfr_inf_p(ratio) && mpfr_sgn(ratio) < 0 ? 0.0 : to_double(ratio);
        if (r > res->ratio || (res->tensor[0] == '\0')) {
            res->ratio = r;
            res->step = step;
            snprintf(res->tensor, sizeof res->tensor, "%s", name);
            res->row = k / ref->cols;
            res->col = k % ref->cols;
            res->ref = to_double(ref->e + k);
            res->observed = to_double(fast->e + k);
            res->error = to_double(err);
            res->scale = to_double(scale);
        }
    }
    mpfr_clears(err, scale, ratio, t, (mpfr_ptr)0);
    return ok;
}

typedef struct {
    problem P;
    ref_opt *teacher, *rin, *rout, *fout;
    fast_opt *fast;
    mpmat_t W, G, Win, Gin, Wref, Wfast, W0; /* W0: the step's input W (a re-run) */
    void *Wbuf, *Gbuf;
    answers ans;
    rerr_mat *bounds;  /* out: W, then the state tensors */
    rerr_mat *inputs;  /* in: W, G, G2, HU, then the state tensors (all exact here) */
    tensor_pair *pairs;    /* W and the state after the step: reference and backend */
    tensor_pair *in_state; /* the state before the step (the rounded teacher's) */
    rerr_mat query;        /* the bound of the point where G2 is asked (SAM) */
    size_t ntensors;
    adopt_ctx adopt;       /* the eigenbasis machinery's bases (adopt_basis.h) */
} run_state;

/* spec/conformance.md 3: where the bound left a column of the new Q_L or Q_R
 * loose, validate the backend's basis of that side; if it is a valid
 * decomposition, re-run the reference's step and the bound from the same
 * inputs with it (the near count of the first bound is dropped), else record
 * the violation and compare as usual. */
static optref_status adopt_bases(run_state *s, rerr_ctx *ctx, const bound_entry *be,
                                 const bound_input *bi, mpfr_srcptr eta, const ref_oracle *rorc,
                                 conform_result *res, unsigned step, unsigned long near0)
{
    if (!adopt_basis_step(&s->adopt, s->rin))
        return OPTREF_OK;
    const mpmat_struct *given[2] = {NULL, NULL};
    optref_status st = OPTREF_OK;
    for (int side = 0; side < 2 && st == OPTREF_OK; side++) {
        if (!adopt_loose(&s->adopt, ctx, s->bounds, side))
            continue;
        adopt_verdict v;
        if ((st = adopt_validate(&v, &s->adopt, s->rin, s->fout, side, ctx->u)) != OPTREF_OK)
            break;
        if (v.ratio > res->adopt_ratio || !(v.ratio == v.ratio))
            res->adopt_ratio = v.ratio;
        if (v.ratio <= ADOPT_THRESHOLD) {
            given[side] = s->fout->state[s->adopt.iQ[side]];
            continue;
        }
        double r = v.ratio / ADOPT_THRESHOLD * res->threshold;
        if (r > res->ratio || !(r == r)) { /* a violation (NaN too) */
            res->ratio = isnan(r) ? INFINITY : r;
            res->step = step;
            snprintf(res->tensor, sizeof res->tensor, "%s (basis)", side ? "Q_R" : "Q_L");
            res->row = 0, res->col = v.col;
            res->ref = 0, res->observed = res->error = v.ratio, res->scale = ADOPT_THRESHOLD;
        }
    }
    if (st != OPTREF_OK || (given[0] == NULL && given[1] == NULL))
        return st;
    /* the reference's step again from the same inputs, with the backend's bases */
    copy_state(s->rout, s->rin, NULL);
    mpmat_set(s->Wref, s->W0);
    s->rout->basis_override[0] = s->rin->basis_override[0] = given[0];
    s->rout->basis_override[1] = s->rin->basis_override[1] = given[1];
    st = ref_opt_step(s->rout, s->Wref, s->Gin, eta, rorc);
    ctx->near = near0;
    if (st == OPTREF_OK)
        st = be->fn(ctx, bi, s->bounds);
    s->rout->basis_override[0] = s->rin->basis_override[0] = NULL;
    s->rout->basis_override[1] = s->rin->basis_override[1] = NULL;
    res->adopted += (given[0] != NULL) + (given[1] != NULL);
    return st;
}

enum { IN_W, IN_G, IN_G2, IN_HU, IN_STATE };

static void run_state_clear(run_state *s)
{
    ref_opt_free(s->teacher), ref_opt_free(s->rin), ref_opt_free(s->rout), ref_opt_free(s->fout);
    fast_opt_free(s->fast);
    mpmat_clear(s->W), mpmat_clear(s->G), mpmat_clear(s->Win), mpmat_clear(s->Gin);
    mpmat_clear(s->Wref), mpmat_clear(s->Wfast), mpmat_clear(s->W0);
    adopt_clear(&s->adopt);
    mpmat_clear(s->ans.G2), mpmat_clear(s->ans.HU);
    mpmat_clear(s->ans.X2), mpmat_clear(s->ans.X2b), rerr_mat_clear(&s->query);
    free(s->Wbuf), free(s->Gbuf);
    if (s->bounds != NULL)
        for (size_t i = 0; i <= s->ntensors; i++)
            rerr_mat_clear(&s->bounds[i]);
    if (s->inputs != NULL)
        for (size_t i = 0; i < IN_STATE + s->ntensors; i++)
            rerr_mat_clear(&s->inputs[i]);
    free(s->bounds);
    free(s->inputs);
    free(s->in_state);
    free(s->pairs);
    problem_clear(&s->P);
}

/* The bound's inputs of a teacher-forced step: the rounded values, exact. */
static void set_inputs(run_state *s)
{
    rerr_mat_exact(&s->inputs[IN_W], s->Win);
    for (size_t i = 0; i < s->ntensors; i++)
        rerr_mat_exact(&s->inputs[IN_STATE + i], s->in_state[i].ref);
}

/* The bound's inputs of an open-loop step: the previous step's outputs. */
static void carry_bounds(run_state *s)
{
    for (size_t i = 0; i <= s->ntensors; i++) {
        rerr_mat *in = &s->inputs[i == 0 ? IN_W : IN_STATE + i - 1];
        mpmat_set(in->v, s->bounds[i].v);
        mpmat_set(in->e, s->bounds[i].e);
    }
}

static optref_status make_problem(const conform_case *c, problem *P)
{
    const problem_info *pi = problem_info_find(c->problem);
    if (pi == NULL)
        return optref_fail(OPTREF_ENOTFOUND, "conform: unknown problem '%s'", c->problem);
    param_set ps;
    optref_status st = param_set_init(&ps, pi->params, pi->nparams);
    for (size_t i = 0; st == OPTREF_OK && i < 4 && c->problem_options[i] != NULL; i++)
        st = param_set_parse(&ps, c->problem_options[i]);
    if (st == OPTREF_OK)
        st = problem_create(P, c->problem, c->seed, TEACHER_PREC, &ps);
    param_set_clear(&ps);
    return st;
}

static size_t count_options(const conform_case *c)
{
    size_t n = 0;
    while (n < 8 && c->options[n] != NULL)
        n++;
    return n;
}

optref_status conform_run(const conform_case *c, fast_backend b, conform_level level,
                          conform_result *res)
{
    memset(res, 0, sizeof *res);
    res->level = level;
    const bound_entry *be = bound_find(c->opt);
    if (be == NULL)
        return optref_fail(OPTREF_ENOTFOUND, "conform: no error bound for %s", c->opt);
    const oracle_info *oi = oracle_info_find(c->oracle);
    if (oi == NULL || oi->kind == ORACLE_HVP)
        return optref_fail(OPTREF_ENOTFOUND, "conform: unknown oracle '%s'", c->oracle);
    res->threshold = be->threshold;
    optref_format fmt = fast_backend_format(b);
    size_t nopt = count_options(c);
    run_state s;
    memset(&s, 0, sizeof s);
    optref_status st = make_problem(c, &s.P);
    if (st != OPTREF_OK)
        return st;
    size_t m = s.P.d, n = s.P.p;
    const char *const *opts = c->options;
    if ((st = ref_opt_create(&s.teacher, c->opt, m, n, TEACHER_PREC, opts, nopt)) == OPTREF_OK &&
        (st = ref_opt_create(&s.rin, c->opt, m, n, TEACHER_PREC, opts, nopt)) == OPTREF_OK &&
        (st = ref_opt_create(&s.rout, c->opt, m, n, TEACHER_PREC, opts, nopt)) == OPTREF_OK &&
        (st = ref_opt_create(&s.fout, c->opt, m, n, TEACHER_PREC, opts, nopt)) == OPTREF_OK)
        st = fast_opt_create(&s.fast, b, c->opt, m, n, opts, nopt);
    mpmat_ptr mats[] = {s.W, s.G, s.Win, s.Gin, s.Wref, s.Wfast, s.W0, s.ans.G2, s.ans.HU,
                        s.ans.X2, s.ans.X2b};
    for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++)
        if (st == OPTREF_OK)
            st = mpmat_init(mats[i], m, n, TEACHER_PREC);
    size_t bytes = m * n * fast_backend_size(b);
    if (st == OPTREF_OK && ((s.Wbuf = malloc(bytes)) == NULL || (s.Gbuf = malloc(bytes)) == NULL))
        st = optref_fail(OPTREF_ENOMEM, "conform: out of memory");
    if (st == OPTREF_OK)
        st = adopt_init(&s.adopt, s.teacher);
    rerr_ctx ctx;
    rerr_ctx_init(&ctx, TEACHER_PREC, fmt);
    res->adopt_threshold = ADOPT_THRESHOLD;
    if (st == OPTREF_OK) {
        s.ntensors = count_tensors(s.teacher);
        s.bounds = calloc(s.ntensors + 1, sizeof *s.bounds);
        s.inputs = calloc(IN_STATE + s.ntensors, sizeof *s.inputs);
        s.pairs = calloc(s.ntensors + 1, sizeof *s.pairs);
        s.in_state = calloc(s.ntensors + 1, sizeof *s.in_state);
        if (s.bounds == NULL || s.inputs == NULL || s.pairs == NULL || s.in_state == NULL)
            st = optref_fail(OPTREF_ENOMEM, "conform: out of memory");
    }
    if (st == OPTREF_OK) {
        size_t k = 0;
        list_state(s.pairs + 1, &k, s.rout, s.fout, "");
        k = 0;
        list_state(s.in_state, &k, s.rin, s.rin, "");
        snprintf(s.pairs[0].name, sizeof s.pairs[0].name, "W");
        s.pairs[0].ref = s.Wref;
        s.pairs[0].fast = s.Wfast;
        for (size_t i = 0; st == OPTREF_OK && i <= s.ntensors; i++)
            st = rerr_mat_init(&ctx, &s.bounds[i], s.pairs[i].ref->rows, s.pairs[i].ref->cols);
        for (size_t i = 0; st == OPTREF_OK && i < IN_STATE; i++)
            st = rerr_mat_init(&ctx, &s.inputs[i], m, n);
        if (st == OPTREF_OK)
            st = rerr_mat_init(&ctx, &s.query, m, n);
        for (size_t i = 1; st == OPTREF_OK && i <= s.ntensors; i++)
            st = rerr_mat_init(&ctx, &s.inputs[IN_STATE + i - 1], s.pairs[i].ref->rows,
                               s.pairs[i].ref->cols);
    }
    mpfr_t eta;
    mpfr_init2(eta, TEACHER_PREC);
    if (st == OPTREF_OK && (st = param_parse_real(eta, c->lr)) == OPTREF_OK)
        mpmat_set(s.W, s.P.X0);
    s.ans.P = &s.P;
    s.ans.kind = oi->kind;
    s.ans.batch = c->batch;
    s.ans.fmt = fmt;
    s.ans.record = 1;
    int model_ok = 1;
    int open_loop = level == CONFORM_TRAJECTORY;
    for (unsigned k = 1; st == OPTREF_OK && k <= c->steps; k++) {
        if ((st = oracle_gradient(s.G, &s.P, oi->kind, c->batch, k, s.W)) != OPTREF_OK)
            break;
        mpmat_set(s.Gin, s.G), mpmat_round_format(s.Gin, fmt);
        rerr_mat_exact(&s.inputs[IN_G], s.Gin);
        if (!open_loop || k == 1) {
            /* the step's inputs: the teacher's values rounded, held exactly */
            mpmat_set(s.Win, s.W), mpmat_round_format(s.Win, fmt);
            copy_state(s.rin, s.teacher, &fmt);
            copy_state(s.rout, s.teacher, &fmt);
            mpmat_set(s.Wref, s.Win);
            fast_from_mpmat(s.Wbuf, b, s.Win);
            if ((st = fast_opt_load_ref(s.fast, s.rin)) != OPTREF_OK)
                break;
            set_inputs(&s);
        } else {
            /* open loop: both continue from their own previous step; the
             * bound's inputs are the previous outputs with their bounds */
            copy_state(s.rin, s.rout, NULL);
            carry_bounds(&s);
        }
        fast_from_mpmat(s.Gbuf, b, s.Gin);
        s.ans.t = k;
        s.ans.have_G2 = s.ans.have_HU = s.ans.have_X2b = 0;
        ref_oracle rorc = {&s.ans, c->seed, ref_gradient_at, ref_hvp};
        /* the reference's answer from the inputs */
        mpmat_set(s.W0, s.Wref);
        if ((st = ref_opt_step(s.rout, s.Wref, s.Gin, eta, &rorc)) != OPTREF_OK)
            break;
        /* the backend from the same inputs */
        fast_answers fa = {&s.ans, b};
        fast_oracle forc = {&fa, c->seed, fast_gradient_at, fast_hvp};
        if ((st = fast_opt_step(s.fast, s.Wbuf, s.Gbuf, to_double(eta), &forc)) != OPTREF_OK)
            break;
        fast_to_mpmat(s.Wfast, b, s.Wbuf);
        /* the backend's input bases: the rounded teacher's, or its own (open loop) */
        adopt_note_inputs(&s.adopt, open_loop && k > 1 ? s.fout : s.rin);
        if ((st = fast_opt_store_ref(s.fout, s.fast)) != OPTREF_OK)
            break;
        /* the scale of every output element */
        if (s.ans.have_G2)
            rerr_mat_exact(&s.inputs[IN_G2], s.ans.G2);
        if (s.ans.have_HU)
            rerr_mat_exact(&s.inputs[IN_HU], s.ans.HU);
        bound_input bi = {s.rin, &s.inputs[IN_W], &s.inputs[IN_G], &s.inputs[IN_STATE], eta,
                          s.ans.have_G2 ? &s.inputs[IN_G2] : NULL,
                          s.ans.have_HU ? &s.inputs[IN_HU] : NULL, NULL, c->seed};
        bi.query = s.ans.have_G2 ? &s.query : NULL;
        unsigned long near0 = ctx.near;
        if ((st = be->fn(&ctx, &bi, s.bounds)) != OPTREF_OK)
            break;
        if ((st = adopt_bases(&s, &ctx, be, &bi, eta, &rorc, res, k, near0)) != OPTREF_OK)
            break;
        for (size_t i = 0; i <= s.ntensors; i++)
            if (compare(res, &ctx, c->opt, k, s.pairs[i].name, s.pairs[i].ref, s.pairs[i].fast,
                        &s.bounds[i]) != 0)
                model_ok = 0;
        /* the point where G2 was asked is the backend's too (SAM's W + E) */
        if (s.ans.have_G2 && !s.ans.have_X2b) {
            st = optref_fail(OPTREF_EINVAL, "conform: %s did not ask for the gradient at W + E "
                             "that the reference asked for", c->opt);
            break;
        }
        if (s.ans.have_G2 &&
            compare(res, &ctx, c->opt, k, "W+E", s.ans.X2, s.ans.X2b, &s.query) != 0)
            model_ok = 0;
        /* the teacher's own exact step, with exact oracle answers */
        s.ans.record = 0;
        st = ref_opt_step(s.teacher, s.W, s.G, eta, &rorc);
        s.ans.record = 1;
    }
    res->near = ctx.near;
    res->passed = st == OPTREF_OK && model_ok && res->ratio <= res->threshold;
    if (st == OPTREF_OK && !model_ok)
        st = optref_fail(OPTREF_EINVAL, "conform: the error bound of %s does not model its step",
                         c->opt);
    mpfr_clear(eta);
    rerr_ctx_clear(&ctx);
    run_state_clear(&s);
    return st;
}
