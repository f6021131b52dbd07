/* The reference optimizer driver: creation from the registry, option
 * values, state shapes, and the validated, all-or-nothing step. */
#include "optim_internal.h"

#include <stdlib.h>
#include <string.h>

/* Options are binary64 numbers (spec 0) or small integers: 64 bits hold both. */
#define OPTION_PREC 64

static size_t option_index(const ref_opt *o, const char *name)
{
    for (size_t i = 0; i < o->info->nhyper; i++)
        if (strcmp(o->info->hyper[i].name, name) == 0)
            return i;
    return o->info->nhyper;
}

mpfr_srcptr ref_opt_real(const ref_opt *o, const char *name)
{
    size_t i = option_index(o, name);
    return i < o->info->nhyper ? o->value[i] : NULL;
}

long ref_opt_int(const ref_opt *o, const char *name)
{
    mpfr_srcptr v = ref_opt_real(o, name);
    return v != NULL && mpfr_number_p(v) ? mpfr_get_si(v, MPFR_RNDN) : 0;
}

int ref_opt_bool(const ref_opt *o, const char *name)
{
    return ref_opt_int(o, name) != 0;
}

const char *ref_opt_text(const ref_opt *o, const char *name)
{
    return param_get_text(&o->hyper, name);
}

mpmat_ptr ref_opt_state(const ref_opt *o, const char *name)
{
    size_t i = optimizer_state_index(o->info, name);
    return i < o->info->nstate ? o->state[i] : NULL;
}

/* A side is rotated by the eigenbasis machinery unless it is longer than
 * max_precond_dim (spec 1.2); optimizers without that option rotate both. */
static int side_stored(const ref_opt *o, size_t len)
{
    size_t i = option_index(o, "max_precond_dim");
    return i == o->info->nhyper || (long)len <= ref_opt_int(o, "max_precond_dim");
}

static void state_dims(const ref_opt *o, state_shape shape, size_t *r, size_t *c)
{
    size_t m = o->m, n = o->n;
    switch (shape) {
    case STATE_PARAM: *r = m, *c = n; return;
    case STATE_LEFT: *r = *c = side_stored(o, m) ? m : 0; return;
    case STATE_RIGHT: *r = *c = side_stored(o, n) ? n : 0; return;
    case STATE_LEFT_FULL: *r = *c = m; return;
    case STATE_RIGHT_FULL: *r = *c = n; return;
    case STATE_ROWS: *r = m, *c = 1; return;
    case STATE_COLS: *r = 1, *c = n; return;
    case STATE_SCALAR: *r = *c = 1; return;
    case STATE_FLAT_SQ: {
        const char *rot = ref_opt_text(o, "rotation");
        *r = *c = rot != NULL && strcmp(rot, "dense") == 0 ? m * n : 0;
        return;
    }
    }
    *r = *c = 0;
}

void ref_opt_state_dims(const ref_opt *o, size_t i, size_t *rows, size_t *cols)
{
    state_dims(o, o->info->state[i].shape, rows, cols);
}

/* Allocates the state tensors; with_values: at their shapes and initial
 * values, else 0 x 0. */
static optref_status init_state(ref_opt *o, int with_values)
{
    size_t ns = o->info->nstate;
    o->state = calloc(ns ? ns : 1, sizeof *o->state);
    if (o->state == NULL)
        return optref_fail(OPTREF_ENOMEM, "%s: cannot allocate the state", o->info->name);
    for (size_t i = 0; i < ns; i++) {
        const state_spec *s = &o->info->state[i];
        size_t r = 0, c = 0;
        if (with_values)
            state_dims(o, s->shape, &r, &c);
        optref_status st = mpmat_init(o->state[i], r, c, o->prec);
        if (st != OPTREF_OK) {
            for (size_t k = i + 1; k < ns; k++)
                o->state[k]->e = NULL, o->state[k]->rows = o->state[k]->cols = 0;
            return st;
        }
        if (s->init == INIT_IDENTITY)
            mpmat_one(o->state[i]);
        else if (s->init == INIT_ONE)
            for (size_t k = 0; k < r * c; k++)
                mpfr_set_ui(o->state[i]->e + k, 1, MPFR_RNDN);
    }
    return OPTREF_OK;
}

static optref_status load_values(ref_opt *o)
{
    size_t nh = o->info->nhyper;
    o->value = malloc((nh ? nh : 1) * sizeof *o->value);
    if (o->value == NULL)
        return optref_fail(OPTREF_ENOMEM, "%s: cannot allocate option values", o->info->name);
    for (size_t i = 0; i < nh; i++)
        mpfr_init2(o->value[i], OPTION_PREC), mpfr_set_nan(o->value[i]);
    for (size_t i = 0; i < nh; i++) {
        const param_spec *p = &o->info->hyper[i];
        optref_status st = OPTREF_OK;
        long l;
        int b;
        if (param_get_text(&o->hyper, p->name) == NULL)
            return optref_fail(OPTREF_EINVAL, "%s: option '%s' is required (%s)", o->info->name,
                               p->name, p->doc);
        switch (p->kind) {
        case PARAM_REAL: st = param_get_real(o->value[i], &o->hyper, p->name); break;
        case PARAM_INT:
            if ((st = param_get_int(&l, &o->hyper, p->name)) == OPTREF_OK)
                mpfr_set_si(o->value[i], l, MPFR_RNDN);
            break;
        case PARAM_BOOL:
            if ((st = param_get_bool(&b, &o->hyper, p->name)) == OPTREF_OK)
                mpfr_set_si(o->value[i], b, MPFR_RNDN);
            break;
        case PARAM_CHOICE: break;
        }
        if (st != OPTREF_OK)
            return optref_fail(st, "%s: option '%s': %s", o->info->name, p->name,
                               optref_last_error());
    }
    return OPTREF_OK;
}

/* Splits a wrapper's options into its own, "base=NAME" and "base.KEY=V". */
static optref_status create_base(ref_opt *o, const char *const *options, size_t noptions,
                                 unsigned flags)
{
    const char *base_name = o->info->default_base;
    const char **base_opts = calloc(noptions ? noptions : 1, sizeof *base_opts);
    size_t nbase = 0;
    if (base_opts == NULL)
        return optref_fail(OPTREF_ENOMEM, "%s: out of memory", o->info->name);
    for (size_t i = 0; i < noptions; i++) {
        if (strncmp(options[i], "base=", 5) == 0)
            base_name = options[i] + 5;
        else if (strncmp(options[i], "base.", 5) == 0)
            base_opts[nbase++] = options[i] + 5;
    }
    const optimizer_info *bi = optimizer_info_find(base_name);
    optref_status st;
    if (bi == NULL)
        st = optref_fail(OPTREF_ENOTFOUND, "%s: unknown base optimizer '%s'", o->info->name,
                         base_name);
    else if (bi->default_base != NULL || bi->needs != 0)
        st = optref_fail(OPTREF_EINVAL, "%s: base optimizer '%s' must be a plain gradient "
                         "optimizer", o->info->name, base_name);
    else if ((st = ref_opt_create_ex(&o->base, base_name, o->m, o->n, o->prec, base_opts, nbase,
                                     flags)) != OPTREF_OK)
        st = optref_fail(st, "%s: base %s", o->info->name, optref_last_error());
    free(base_opts);
    return st;
}

optref_status ref_opt_create(ref_opt **out, const char *name, size_t m, size_t n,
                             mpfr_prec_t prec, const char *const *options, size_t noptions)
{
    return ref_opt_create_ex(out, name, m, n, prec, options, noptions, 0);
}

optref_status ref_opt_create_options(ref_opt **out, const char *name, size_t m, size_t n,
                                     const char *const *options, size_t noptions)
{
    return ref_opt_create_ex(out, name, m, n, 53, options, noptions, REF_CREATE_NO_STATE);
}

optref_status ref_opt_create_ex(ref_opt **out, const char *name, size_t m, size_t n,
                                mpfr_prec_t prec, const char *const *options, size_t noptions,
                                unsigned flags)
{
    *out = NULL;
    const optimizer_info *info = optimizer_info_find(name);
    if (info == NULL)
        return optref_fail(OPTREF_ENOTFOUND, "unknown optimizer '%s' (see 'optref list "
                           "optimizers')", name);
    if (prec < 53 || prec > 65536)
        return optref_fail(OPTREF_EINVAL, "%s: precision %ld bits is outside [53, 65536]", name,
                           (long)prec);
    if (m == 0 || n == 0)
        return optref_fail(OPTREF_ESHAPE, "%s: the parameter is %zu x %zu; it must not be empty",
                           name, m, n);
    ref_opt *o = calloc(1, sizeof *o);
    if (o == NULL)
        return optref_fail(OPTREF_ENOMEM, "%s: out of memory", name);
    o->info = info;
    o->prec = prec;
    o->m = m;
    o->n = n;
    optref_status st = param_set_init(&o->hyper, info->hyper, info->nhyper);
    for (size_t i = 0; st == OPTREF_OK && i < noptions; i++) {
        int base_option = info->default_base != NULL && strncmp(options[i], "base", 4) == 0 &&
                          (options[i][4] == '=' || options[i][4] == '.');
        if (!base_option && (st = param_set_parse(&o->hyper, options[i])) != OPTREF_OK)
            st = optref_fail(st, "%s: %s", name, optref_last_error());
    }
    if (st == OPTREF_OK)
        st = load_values(o);
    if (st == OPTREF_OK && info->check != NULL)
        st = info->check(o);
    if (st == OPTREF_OK && info->default_base != NULL && !(flags & REF_CREATE_NO_BASE))
        st = create_base(o, options, noptions, flags);
    if (st == OPTREF_OK)
        st = init_state(o, !(flags & REF_CREATE_NO_STATE));
    if (st == OPTREF_OK && info->ref_init != NULL && !(flags & REF_CREATE_NO_STATE))
        st = info->ref_init(o);
    if (st != OPTREF_OK) {
        ref_opt_free(o);
        return st;
    }
    *out = o;
    return OPTREF_OK;
}

void ref_opt_free(ref_opt *o)
{
    if (o == NULL)
        return;
    if (o->state != NULL)
        for (size_t i = 0; i < o->info->nstate; i++)
            mpmat_clear(o->state[i]);
    free(o->state);
    if (o->value != NULL)
        for (size_t i = 0; i < o->info->nhyper; i++)
            mpfr_clear(o->value[i]);
    free(o->value);
    param_set_clear(&o->hyper);
    ref_opt_free(o->base);
    free(o);
}

/* A deep copy of o's state (and its base's), to step on. */
static optref_status copy_state(ref_opt **out, const ref_opt *o)
{
    ref_opt *c = calloc(1, sizeof *c);
    if (c == NULL)
        return optref_fail(OPTREF_ENOMEM, "%s: out of memory", o->info->name);
    *c = *o;
    c->base = NULL;
    c->state = calloc(o->info->nstate ? o->info->nstate : 1, sizeof *c->state);
    optref_status st = c->state ? OPTREF_OK : OPTREF_ENOMEM;
    for (size_t i = 0; st == OPTREF_OK && i < o->info->nstate; i++)
        if ((st = mpmat_init(c->state[i], o->state[i]->rows, o->state[i]->cols, o->prec)) ==
            OPTREF_OK)
            mpmat_set(c->state[i], o->state[i]);
    if (st == OPTREF_OK && o->base != NULL)
        st = copy_state(&c->base, o->base);
    *out = c;
    return st;
}

/* Frees a copy made by copy_state (it shares option tables with the original). */
static void free_copy(ref_opt *c)
{
    if (c == NULL)
        return;
    if (c->state != NULL)
        for (size_t i = 0; i < c->info->nstate; i++)
            mpmat_clear(c->state[i]);
    free(c->state);
    free_copy(c->base);
    free(c);
}

/* Moves the stepped copy's state and counter into o. The contents are
 * swapped tensor by tensor, so pointers to o's state tensors stay valid. */
static void commit(ref_opt *o, ref_opt *c)
{
    for (size_t i = 0; i < o->info->nstate; i++) {
        mpmat_struct s = *o->state[i];
        *o->state[i] = *c->state[i];
        *c->state[i] = s;
    }
    o->t = c->t;
    if (o->base != NULL)
        commit(o->base, c->base);
}

static optref_status check_input(const ref_opt *o, mpmat_srcptr X, const char *what)
{
    if (X->rows != o->m || X->cols != o->n)
        return optref_fail(OPTREF_ESHAPE, "%s: %s is %zu x %zu, expected %zu x %zu",
                           o->info->name, what, X->rows, X->cols, o->m, o->n);
    size_t k = mpmat_first_nonfinite(X);
    if (k < X->rows * X->cols)
        return optref_fail(OPTREF_ENONFINITE, "%s: %s[%zu][%zu] is not finite", o->info->name,
                           what, k / X->cols, k % X->cols);
    return OPTREF_OK;
}

optref_status ref_opt_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                           const ref_oracle *oracle)
{
    optref_status st = check_input(o, W, "W");
    if (st == OPTREF_OK)
        st = check_input(o, G, "G");
    if (st != OPTREF_OK)
        return st;
    if (!mpfr_number_p(eta) || mpfr_sgn(eta) < 0)
        return optref_fail(mpfr_number_p(eta) ? OPTREF_EINVAL : OPTREF_ENONFINITE,
                           "%s: the learning rate must be finite and >= 0", o->info->name);
    if (o->info->needs != 0 && oracle == NULL)
        return optref_fail(OPTREF_EINVAL, "%s needs an oracle (%s)", o->info->name,
                           (o->info->needs & NEEDS_HVP) ? "Hessian-vector products"
                                                        : "the gradient at another point");
    mpmat_t W1;
    ref_opt *c = NULL;
    if ((st = mpmat_init(W1, o->m, o->n, W->prec)) != OPTREF_OK)
        return st;
    mpmat_set(W1, W);
    st = copy_state(&c, o);
    if (st == OPTREF_OK) {
        c->t = o->t + 1;
        st = o->info->ref_step(c, W1, G, eta, oracle);
    }
    if (st == OPTREF_OK && !mpmat_is_finite(W1))
        st = optref_fail(OPTREF_ENONFINITE, "%s: step %llu produced a non-finite parameter",
                         o->info->name, (unsigned long long)c->t);
    if (st == OPTREF_OK) {
        commit(o, c);
        mpmat_set(W, W1);
    }
    free_copy(c);
    mpmat_clear(W1);
    return st;
}
