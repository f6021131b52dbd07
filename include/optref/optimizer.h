/* The optimizer registry: every optimizer defined once, as data
 * (ARCHITECTURE.md "One idea"; semantics in spec/optimizers.md).
 *
 * An entry names the optimizer, its hyperparameters (a param_spec table:
 * name, type, default, valid range), its state tensors (name, shape rule,
 * initial value, meaning), what it needs beyond the gradient, and its step
 * function per backend. The reference fills the `ref` slot; later backends
 * add theirs. `optref list optimizers --json` prints this table. */
#ifndef OPTREF_OPTIMIZER_H
#define OPTREF_OPTIMIZER_H

#include <stddef.h>

#include "optref/mpmat.h"
#include "optref/params.h"

/* How a state tensor's shape follows from the parameter's m x n. */
typedef enum {
    STATE_PARAM,     /* m x n */
    STATE_LEFT,      /* m x m, or 0 x 0 when the left side is not rotated (SOAP's L, Q_L) */
    STATE_RIGHT,     /* n x n, or 0 x 0 when the right side is not rotated */
    STATE_LEFT_FULL, /* m x m always (OrthoAdam's P_L, Shampoo's L) */
    STATE_RIGHT_FULL,/* n x n always */
    STATE_ROWS,      /* m x 1 */
    STATE_COLS,      /* 1 x n */
    STATE_SCALAR,    /* 1 x 1 (counters and scalars) */
    STATE_FLAT_SQ    /* mn x mn (OrthoAdam's dense rotation), 0 x 0 unless rotation=dense */
} state_shape;

typedef enum { INIT_ZERO, INIT_ONE, INIT_IDENTITY } state_init;

typedef struct {
    const char *name;
    state_shape shape;
    state_init init;
    const char *meaning;
} state_spec;

/* What an optimizer needs beyond the gradient of the current call. */
enum {
    NEEDS_GRADIENT_AT = 1, /* SAM: the gradient oracle at another point, same minibatch */
    NEEDS_HVP = 2          /* Sophia: Hessian-vector products */
};

struct ref_opt;
struct ref_oracle;

typedef struct optimizer_info {
    const char *name;
    const char *source;  /* the paper or code it follows */
    const param_spec *hyper;
    size_t nhyper;
    const state_spec *state;
    size_t nstate;
    unsigned needs;
    const char *default_base; /* wrappers (smi, sam): the default base optimizer, whose
                                 options are given as base.KEY=VALUE; NULL otherwise */
    /* Checks the combination of options beyond each one's range (sgd's
     * nesterov with dampening), for every backend; may be NULL. */
    optref_status (*check)(const struct ref_opt *o);
    /* Reference backend: initialises the state beyond the table's INIT rule
     * (OrthoAdam's rotations) -- may be NULL -- and performs one step. */
    optref_status (*ref_init)(struct ref_opt *o);
    optref_status (*ref_step)(struct ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                              const struct ref_oracle *oracle);
} optimizer_info;

size_t optimizer_count(void);
const optimizer_info *optimizer_info_at(size_t i);
const optimizer_info *optimizer_info_find(const char *name);

/* Index of a state tensor by name in info->state, or info->nstate if absent. */
size_t optimizer_state_index(const optimizer_info *info, const char *name);

#endif
