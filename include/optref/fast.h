/* The fast backends: every optimizer of the registry in binary64 (cpu64)
 * and binary32 (cpu32) on the CPU, with BLAS, LAPACKE and FFTW3.
 *
 * A fast optimizer has exactly the reference's options and state layout
 * (ARCHITECTURE.md rule 4): it is created through the same registry entry,
 * its state tensors have the same names, shapes and initial values, and it
 * can take its state from a reference optimizer (each entry correctly
 * rounded to the backend's format) or hand its state to one (exactly). This
 * is what the conformance gate's teacher-forced step relies on.
 *
 * Scalars derived from hyperparameters (1 - beta, beta^t, bias corrections,
 * the learning rate) are computed in binary64 and rounded once to the
 * backend's format; tensors are stored and computed in the format. */
#ifndef OPTREF_FAST_H
#define OPTREF_FAST_H

#include <stddef.h>
#include <stdint.h>

#include "optref/mpmat.h"
#include "optref/optimizer.h"
#include "optref/ref_optim.h"

typedef enum { BACKEND_CPU64, BACKEND_CPU32 } fast_backend;
#define FAST_BACKEND_COUNT 2

const char *fast_backend_name(fast_backend b); /* "cpu64", "cpu32" */
/* Looks a backend up by name; returns 0 and sets *b, or -1. */
int fast_backend_find(fast_backend *b, const char *name);
optref_format fast_backend_format(fast_backend b);
size_t fast_backend_size(fast_backend b); /* bytes per element */

/* A matrix in the backend's format: rows x cols, row-major, double or float. */
typedef struct {
    size_t rows, cols;
    void *data;
} fast_tensor;

/* What an optimizer may ask of the problem (as ref_oracle), in the format. */
typedef struct fast_oracle {
    void *ctx;
    uint64_t seed;
    optref_status (*gradient_at)(void *ctx, void *G, const void *X);
    optref_status (*hvp)(void *ctx, void *HU, const void *X, const void *U);
} fast_oracle;

typedef struct fast_opt {
    const optimizer_info *info;
    fast_backend backend;
    size_t m, n;
    uint64_t t;
    ref_opt *options;     /* the options, parsed and validated by the reference (53 bits) */
    fast_tensor *state;   /* info->nstate tensors, shaped as the reference's */
    struct fast_opt *base;
    void *work;           /* the optimizer's workspace (plans, scratch), made once */
    void (*work_free)(void *work);
} fast_opt;

/* Creates a fast optimizer; its initial state is the reference's initial
 * state (made at 256 bits, e.g. OrthoAdam's rotations) rounded to the format. */
optref_status fast_opt_create(fast_opt **out, fast_backend b, const char *name, size_t m, size_t n,
                              const char *const *options, size_t noptions);
void fast_opt_free(fast_opt *o);

/* One step: W and G are m x n arrays in the backend's format. Validates
 * (finite W, G, eta >= 0) before anything changes; a failing step leaves W
 * and the state untouched. */
optref_status fast_opt_step(fast_opt *o, void *W, const void *G, double eta,
                            const fast_oracle *oracle);

/* The option values in binary64 (exact: options are binary64 numbers). */
double fast_opt_real(const fast_opt *o, const char *name);
long fast_opt_int(const fast_opt *o, const char *name);
int fast_opt_bool(const fast_opt *o, const char *name);
const char *fast_opt_text(const fast_opt *o, const char *name);
fast_tensor *fast_opt_state(const fast_opt *o, const char *name);

/* State exchange with the reference (same optimizer, shape and options):
 * from: t and every state tensor (the base's too) rounded to the format;
 * to: t and every tensor set exactly in r (at r's precision). */
optref_status fast_opt_load_ref(fast_opt *o, const ref_opt *r);
optref_status fast_opt_store_ref(ref_opt *r, const fast_opt *o);

/* Matrix conversions: dst (rows*cols elements of the format) = A rounded
 * (optref_round_format); A = src exactly. */
void fast_from_mpmat(void *dst, fast_backend b, mpmat_srcptr A);
void fast_to_mpmat(mpmat_ptr A, fast_backend b, const void *src);

/* Whether the backend implements an optimizer. */
int fast_opt_supported(fast_backend b, const char *name);

#endif
