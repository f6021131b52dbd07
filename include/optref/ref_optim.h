/* The reference optimizers: one step of any registered optimizer, exactly
 * in the order of operations of spec/optimizers.md, in MPFR at the
 * instance's working precision.
 *
 * ref_opt_step validates its inputs (shapes, finiteness of W, G and eta)
 * before anything changes, runs the optimizer on copies of W and the state,
 * and commits them only when the step succeeded: a failing step leaves W
 * and the state untouched. */
#ifndef OPTREF_REF_OPTIM_H
#define OPTREF_REF_OPTIM_H

#include <stdint.h>
#include <stdio.h>

#include "optref/mpmat.h"
#include "optref/optimizer.h"
#include "optref/params.h"

/* What an optimizer may ask of the problem beyond the call's gradient. */
typedef struct ref_oracle {
    void *ctx;
    uint64_t seed; /* the run's seed: Sophia's probes use stream 6, substream t */
    /* G = the gradient at X on the call's minibatch (SAM). */
    optref_status (*gradient_at)(void *ctx, mpmat_ptr G, mpmat_srcptr X);
    /* HU = H(X) U, the Hessian at X times U (Sophia, at the updated W). */
    optref_status (*hvp)(void *ctx, mpmat_ptr HU, mpmat_srcptr X, mpmat_srcptr U);
} ref_oracle;

typedef struct ref_opt {
    const optimizer_info *info;
    mpfr_prec_t prec;
    size_t m, n;
    uint64_t t;        /* calls so far; the step being run sees t >= 1 */
    param_set hyper;   /* the options, validated against info->hyper */
    mpfr_t *value;     /* effective numeric value of each option (choices: NaN) */
    mpmat_t *state;    /* info->nstate tensors, shaped by their rules */
    struct ref_opt *base; /* the wrapped optimizer (smi, sam), else NULL */
    /* The conformance hook of spec/conformance.md 3 ("continues the reference
     * from the port's basis"): for the eigenbasis optimizers (soap, the
     * deva-sinf family), a non-NULL basis_override[0] (Q_L) or [1] (Q_R),
     * square of the side's length, is taken as that side's basis instead of
     * computing it: at the first call in place of the canonical eigenvectors,
     * at a refresh in place of the canonical QR of P Q[:, pi] (the
     * permutation of the second moment, M <- project(M) and the rest of the
     * step run as usual with the given basis). It is rounded to the working
     * precision (exact for a binary64 or binary32 basis). NULL (what
     * ref_opt_create sets, and every path outside the conformance gate):
     * computed as spec/optimizers.md 1.2 says. The caller owns the matrices
     * and clears the pointers; ref_opt_save does not write them. */
    const mpmat_struct *basis_override[2];
} ref_opt;

/* Creates an optimizer for an m x n parameter at precision prec (>= 53)
 * with options "key=value" (a wrapper's base options are "base.key=value",
 * its base optimizer "base=NAME"). */
optref_status ref_opt_create(ref_opt **out, const char *name, size_t m, size_t n,
                             mpfr_prec_t prec, const char *const *options, size_t noptions);
void ref_opt_free(ref_opt *o);

/* Flags of ref_opt_create_ex (optim_internal.h) and ref_opt_create_options. */
enum { REF_CREATE_NO_BASE = 1, REF_CREATE_NO_STATE = 2 };

/* The options alone: validated and parsed as ref_opt_create does (a
 * wrapper's base too), with every state tensor 0 x 0 and no ref_init. The
 * fast backends hold their options this way. */
optref_status ref_opt_create_options(ref_opt **out, const char *name, size_t m, size_t n,
                                     const char *const *options, size_t noptions);

/* The shape the state tensor of index i has for this optimizer and shape. */
void ref_opt_state_dims(const ref_opt *o, size_t i, size_t *rows, size_t *cols);

/* One call of the optimizer's step with learning rate eta (spec 0: eta_t).
 * oracle may be NULL for optimizers that need nothing beyond G. */
optref_status ref_opt_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                           const ref_oracle *oracle);

/* The effective value of a numeric option, and the text of any option. */
mpfr_srcptr ref_opt_real(const ref_opt *o, const char *name);
long ref_opt_int(const ref_opt *o, const char *name);
int ref_opt_bool(const ref_opt *o, const char *name);
const char *ref_opt_text(const ref_opt *o, const char *name);
/* A state tensor by name (NULL if the optimizer has none of that name). */
mpmat_ptr ref_opt_state(const ref_opt *o, const char *name);

/* The exact serialisation of W and the whole state (docs/state-format.md):
 * text, one hex-float per entry, identical on every machine. */
optref_status ref_opt_save(const ref_opt *o, mpmat_srcptr W, FILE *f);
/* Reads what ref_opt_save wrote: creates the optimizer and sets W (which is
 * initialised by the call at the saved shape and precision). */
optref_status ref_opt_load(ref_opt **out, mpmat_ptr W, FILE *f, const char *where);

#endif
