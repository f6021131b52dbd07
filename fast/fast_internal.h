/* Shared by the fast backends; not part of the public API. */
#ifndef OPTREF_FAST_INTERNAL_H
#define OPTREF_FAST_INTERNAL_H

#include "optref/fast.h"

/* A step in the backend's format: W, G are real arrays of m x n. */
typedef optref_status (*fast_step_fn)(fast_opt *o, void *W, const void *G, double eta,
                                      const fast_oracle *oracle);

/* The backend slots of one registry entry (fast/registry.c). */
typedef struct {
    const char *name;
    fast_step_fn step[FAST_BACKEND_COUNT];
} fast_impl;

const fast_impl *fast_impl_find(const char *name);

/* Runs one step of a wrapper's base inside the wrapper's step: t += 1, step. */
optref_status fast_substep(fast_opt *base, void *W, const void *G, double eta,
                           const fast_oracle *oracle);

/* The optimizer's workspace: made by `make` (size bytes, zeroed) on the
 * first call and kept for every later step; NULL on allocation failure. */
void *fast_work(fast_opt *o, size_t size, void (*free_fn)(void *work));

#endif
