/* msign on the CPU (spec/optimizers.md 1.1), in the backend's format: the
 * Newton-Schulz variants with BLAS products and the polar factor with
 * LAPACKE gesvd. Shared by the Muon family and AdaMuon (fast/cpu/muon.c,
 * adamuon.c); the order of operations, which conformance/bounds_muon.c
 * models, is in msign.c. */
#ifndef OPTREF_FAST_CPU_MSIGN_H
#define OPTREF_FAST_CPU_MSIGN_H

#include <string.h>

#include "real.h"

typedef enum { MSIGN_KELLER, MSIGN_TORCH, MSIGN_DEVA, MSIGN_POLAR, MSIGN_UNKNOWN } msign_method;

/* The method named by the `ns` option (ref/optim/msign.h's names). */
static inline msign_method msign_method_of(const char *ns)
{
    static const char *const names[] = {"ns-keller", "ns-torch", "ns-deva", "polar"};
    for (int k = 0; ns != NULL && k < MSIGN_UNKNOWN; k++)
        if (strcmp(ns, names[k]) == 0)
            return (msign_method)k;
    return MSIGN_UNKNOWN;
}

/* Scratch of one parameter shape, allocated on first use and kept (it lives
 * in the optimizer's fast_work workspace). */
typedef struct {
    size_t m, n;            /* the shape it was made for (0: not made) */
    real *Y, *P;            /* m x n: the iterate and C Y (polar: A, then U) */
    real *A, *B;            /* r x r, r = min(m, n) (polar: singular values, V^T) */
    real *superb;           /* gesvd's r - 1 entries */
} FN(msign_ws);

void FN(msign_ws_free)(FN(msign_ws) *w);

/* O = msign(X) for the m x n row-major X (O may alias X) with `steps`
 * Newton-Schulz iterations (unused by polar). Errors: allocation
 * (OPTREF_ENOMEM), gesvd not converging (OPTREF_ENOCONV); `who` names the
 * optimizer in messages. */
optref_status FN(cpu_msign)(FN(msign_ws) *w, real *O, const real *X, size_t m, size_t n,
                            msign_method method, long steps, const char *who);

#endif
