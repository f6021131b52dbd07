/* The fast optimizer driver: creation through the registry, option values,
 * state exchange with the reference, and the validated step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fast_internal.h"

/* Initial state of a fast optimizer whose entry has a ref_init (OrthoAdam's
 * rotations) is the reference's, made at this precision and rounded. */
#define INIT_PREC 256

const char *fast_backend_name(fast_backend b)
{
    return b == BACKEND_CPU64 ? "cpu64" : "cpu32";
}

int fast_backend_find(fast_backend *b, const char *name)
{
    for (int i = 0; i < FAST_BACKEND_COUNT; i++)
        if (strcmp(name, fast_backend_name((fast_backend)i)) == 0) {
            *b = (fast_backend)i;
            return 0;
        }
    return -1;
}

optref_format fast_backend_format(fast_backend b)
{
    return b == BACKEND_CPU64 ? OPTREF_BINARY64 : OPTREF_BINARY32;
}

size_t fast_backend_size(fast_backend b)
{
    return b == BACKEND_CPU64 ? sizeof(double) : sizeof(float);
}

void fast_from_mpmat(void *dst, fast_backend b, mpmat_srcptr A)
{
    mpfr_t r;
    mpfr_init2(r, 53);
    for (size_t k = 0; k < A->rows * A->cols; k++) {
        optref_round_format(r, A->e + k, fast_backend_format(b));
        if (b == BACKEND_CPU64)
            ((double *)dst)[k] = mpfr_get_d(r, MPFR_RNDN); /* exact */
        else
            ((float *)dst)[k] = mpfr_get_flt(r, MPFR_RNDN); /* exact */
    }
    mpfr_clear(r);
}

void fast_to_mpmat(mpmat_ptr A, fast_backend b, const void *src)
{
    for (size_t k = 0; k < A->rows * A->cols; k++) {
        if (b == BACKEND_CPU64)
            mpfr_set_d(A->e + k, ((const double *)src)[k], MPFR_RNDN);
        else
            mpfr_set_flt(A->e + k, ((const float *)src)[k], MPFR_RNDN);
    }
}

double fast_opt_real(const fast_opt *o, const char *name)
{
    mpfr_srcptr v = ref_opt_real(o->options, name);
    return v != NULL ? mpfr_get_d(v, MPFR_RNDN) : NAN;
}

long fast_opt_int(const fast_opt *o, const char *name)
{
    return ref_opt_int(o->options, name);
}

int fast_opt_bool(const fast_opt *o, const char *name)
{
    return ref_opt_bool(o->options, name);
}

const char *fast_opt_text(const fast_opt *o, const char *name)
{
    return ref_opt_text(o->options, name);
}

fast_tensor *fast_opt_state(const fast_opt *o, const char *name)
{
    size_t i = optimizer_state_index(o->info, name);
    return i < o->info->nstate ? &o->state[i] : NULL;
}

int fast_opt_supported(fast_backend b, const char *name)
{
    const fast_impl *impl = fast_impl_find(name);
    return impl != NULL && impl->step[b] != NULL;
}

void *fast_work(fast_opt *o, size_t size, void (*free_fn)(void *work))
{
    if (o->work == NULL) {
        o->work = calloc(1, size);
        o->work_free = free_fn;
    }
    return o->work;
}

static void free_tensors(fast_tensor *s, size_t n)
{
    if (s != NULL)
        for (size_t i = 0; i < n; i++)
            free(s[i].data);
    free(s);
}

void fast_opt_free(fast_opt *o)
{
    if (o == NULL)
        return;
    if (o->work != NULL && o->work_free != NULL)
        o->work_free(o->work);
    else
        free(o->work);
    free_tensors(o->state, o->info->nstate);
    fast_opt_free(o->base);
    ref_opt_free(o->options);
    free(o);
}

/* Allocates the state tensors at the reference's shapes with the table's
 * initial values (zeros, ones, identity). */
static optref_status alloc_state(fast_opt *o)
{
    size_t ns = o->info->nstate, es = fast_backend_size(o->backend);
    o->state = calloc(ns ? ns : 1, sizeof *o->state);
    if (o->state == NULL)
        return optref_fail(OPTREF_ENOMEM, "%s: out of memory", o->info->name);
    for (size_t i = 0; i < ns; i++) {
        fast_tensor *s = &o->state[i];
        ref_opt_state_dims(o->options, i, &s->rows, &s->cols);
        size_t count = s->rows * s->cols;
        s->data = calloc(count ? count : 1, es);
        if (s->data == NULL)
            return optref_fail(OPTREF_ENOMEM, "%s: cannot allocate state %s (%zu x %zu)",
                               o->info->name, o->info->state[i].name, s->rows, s->cols);
        state_init init = o->info->state[i].init;
        for (size_t r = 0; r < s->rows; r++)
            for (size_t c = 0; c < s->cols; c++) {
                int one = init == INIT_ONE || (init == INIT_IDENTITY && r == c);
                if (o->backend == BACKEND_CPU64)
                    ((double *)s->data)[r * s->cols + c] = one;
                else
                    ((float *)s->data)[r * s->cols + c] = (float)one;
            }
    }
    return OPTREF_OK;
}

/* Builds the fast optimizer around an options-only reference instance. */
static optref_status from_options(fast_opt **out, fast_backend b, ref_opt *options)
{
    fast_opt *o = calloc(1, sizeof *o);
    if (o == NULL) {
        ref_opt_free(options);
        return optref_fail(OPTREF_ENOMEM, "out of memory");
    }
    o->info = options->info;
    o->backend = b;
    o->m = options->m;
    o->n = options->n;
    o->options = options;
    optref_status st = OPTREF_OK;
    if (!fast_opt_supported(b, o->info->name))
        st = optref_fail(OPTREF_ENOTFOUND, "%s is not implemented by backend %s", o->info->name,
                         fast_backend_name(b));
    if (st == OPTREF_OK)
        st = alloc_state(o);
    if (st == OPTREF_OK && options->base != NULL) {
        ref_opt *base = options->base;
        options->base = NULL; /* the fast base owns it now */
        st = from_options(&o->base, b, base);
    }
    if (st != OPTREF_OK) {
        fast_opt_free(o);
        return st;
    }
    *out = o;
    return OPTREF_OK;
}

optref_status fast_opt_create(fast_opt **out, fast_backend b, const char *name, size_t m, size_t n,
                              const char *const *options, size_t noptions)
{
    *out = NULL;
    ref_opt *opts;
    optref_status st = ref_opt_create_options(&opts, name, m, n, options, noptions);
    if (st != OPTREF_OK)
        return st;
    fast_opt *o;
    if ((st = from_options(&o, b, opts)) != OPTREF_OK)
        return st;
    if (o->info->ref_init != NULL) {
        ref_opt *full;
        st = ref_opt_create(&full, name, m, n, INIT_PREC, options, noptions);
        if (st == OPTREF_OK) {
            st = fast_opt_load_ref(o, full);
            ref_opt_free(full);
        }
    }
    if (st != OPTREF_OK) {
        fast_opt_free(o);
        return st;
    }
    *out = o;
    return OPTREF_OK;
}

static optref_status same_layout(const fast_opt *o, const ref_opt *r, const char *fn)
{
    if (o->info != r->info || o->m != r->m || o->n != r->n || (o->base == NULL) != (r->base == NULL))
        return optref_fail(OPTREF_EINVAL, "%s: %s %zux%zu and %s %zux%zu differ", fn,
                           o->info->name, o->m, o->n, r->info->name, r->m, r->n);
    for (size_t i = 0; i < o->info->nstate; i++)
        if (o->state[i].rows != r->state[i]->rows || o->state[i].cols != r->state[i]->cols)
            return optref_fail(OPTREF_ESHAPE, "%s: state %s is %zux%zu here and %zux%zu in the "
                               "reference", fn, o->info->state[i].name, o->state[i].rows,
                               o->state[i].cols, r->state[i]->rows, r->state[i]->cols);
    return OPTREF_OK;
}

optref_status fast_opt_load_ref(fast_opt *o, const ref_opt *r)
{
    optref_status st = same_layout(o, r, "fast_opt_load_ref");
    if (st != OPTREF_OK)
        return st;
    o->t = r->t;
    for (size_t i = 0; i < o->info->nstate; i++)
        fast_from_mpmat(o->state[i].data, o->backend, r->state[i]);
    return o->base != NULL ? fast_opt_load_ref(o->base, r->base) : OPTREF_OK;
}

optref_status fast_opt_store_ref(ref_opt *r, const fast_opt *o)
{
    optref_status st = same_layout(o, r, "fast_opt_store_ref");
    if (st != OPTREF_OK)
        return st;
    r->t = o->t;
    for (size_t i = 0; i < o->info->nstate; i++)
        fast_to_mpmat(r->state[i], o->backend, o->state[i].data);
    return o->base != NULL ? fast_opt_store_ref(r->base, o->base) : OPTREF_OK;
}

/* Index of the first non-finite element of an m x n array, or m n. */
static size_t first_nonfinite(const void *X, fast_backend b, size_t count)
{
    for (size_t k = 0; k < count; k++)
        if (b == BACKEND_CPU64 ? !isfinite(((const double *)X)[k]) : !isfinite(((const float *)X)[k]))
            return k;
    return count;
}

/* A snapshot of the state (the base's too), restored when a step fails. */
typedef struct snapshot {
    fast_tensor *state;
    uint64_t t;
    struct snapshot *base;
} snapshot;

static void snapshot_free(snapshot *s, size_t nstate)
{
    if (s == NULL)
        return;
    free_tensors(s->state, nstate);
    free(s);
}

static snapshot *snapshot_take(const fast_opt *o)
{
    size_t ns = o->info->nstate, es = fast_backend_size(o->backend);
    snapshot *s = calloc(1, sizeof *s);
    if (s == NULL || (s->state = calloc(ns ? ns : 1, sizeof *s->state)) == NULL) {
        free(s);
        return NULL;
    }
    s->t = o->t;
    for (size_t i = 0; i < ns; i++) {
        size_t bytes = o->state[i].rows * o->state[i].cols * es;
        s->state[i] = o->state[i];
        if ((s->state[i].data = malloc(bytes ? bytes : 1)) == NULL) {
            snapshot_free(s, ns);
            return NULL;
        }
        memcpy(s->state[i].data, o->state[i].data, bytes);
    }
    if (o->base != NULL && (s->base = snapshot_take(o->base)) == NULL) {
        snapshot_free(s, ns);
        return NULL;
    }
    return s;
}

static void snapshot_restore(fast_opt *o, snapshot *s)
{
    size_t es = fast_backend_size(o->backend);
    o->t = s->t;
    for (size_t i = 0; i < o->info->nstate; i++)
        memcpy(o->state[i].data, s->state[i].data, o->state[i].rows * o->state[i].cols * es);
    if (o->base != NULL)
        snapshot_restore(o->base, s->base);
}

static void snapshot_release(snapshot *s, const fast_opt *o)
{
    if (s == NULL)
        return;
    if (o->base != NULL)
        snapshot_release(s->base, o->base);
    snapshot_free(s, o->info->nstate);
}

optref_status fast_opt_step(fast_opt *o, void *W, const void *G, double eta,
                            const fast_oracle *oracle)
{
    size_t count = o->m * o->n, k;
    const char *name = o->info->name;
    if ((k = first_nonfinite(W, o->backend, count)) < count)
        return optref_fail(OPTREF_ENONFINITE, "%s: W[%zu][%zu] is not finite", name, k / o->n,
                           k % o->n);
    if ((k = first_nonfinite(G, o->backend, count)) < count)
        return optref_fail(OPTREF_ENONFINITE, "%s: G[%zu][%zu] is not finite", name, k / o->n,
                           k % o->n);
    if (!isfinite(eta) || eta < 0)
        return optref_fail(isfinite(eta) ? OPTREF_EINVAL : OPTREF_ENONFINITE,
                           "%s: the learning rate must be finite and >= 0", name);
    if (o->info->needs != 0 && oracle == NULL)
        return optref_fail(OPTREF_EINVAL, "%s needs an oracle", name);
    /* W is restored from a copy and the state from a snapshot if the step
     * fails after it began changing them. */
    size_t bytes = count * fast_backend_size(o->backend);
    void *W0 = malloc(bytes ? bytes : 1);
    snapshot *s = snapshot_take(o);
    if (W0 == NULL || s == NULL) {
        free(W0);
        snapshot_release(s, o);
        return optref_fail(OPTREF_ENOMEM, "%s: cannot allocate the step's snapshot", name);
    }
    memcpy(W0, W, bytes);
    o->t += 1;
    optref_status st = fast_impl_find(name)->step[o->backend](o, W, G, eta, oracle);
    if (st == OPTREF_OK && (k = first_nonfinite(W, o->backend, count)) < count)
        st = optref_fail(OPTREF_ENONFINITE, "%s: step %llu produced a non-finite W[%zu][%zu]",
                         name, (unsigned long long)o->t, k / o->n, k % o->n);
    if (st != OPTREF_OK) {
        memcpy(W, W0, bytes);
        snapshot_restore(o, s);
    }
    free(W0);
    snapshot_release(s, o);
    return st;
}

optref_status fast_substep(fast_opt *base, void *W, const void *G, double eta,
                           const fast_oracle *oracle)
{
    base->t += 1;
    return fast_impl_find(base->info->name)->step[base->backend](base, W, G, eta, oracle);
}
