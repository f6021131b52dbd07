/* orthoadam (Kaul et al. 2025, Kronecker form) on the CPU,
 * spec/optimizers.md section 2 (reference: ref/optim/orthoadam.c):
 * 1. W <- W (1 - eta lambda) (decoupled).
 * 2. G' = P_L^T G P_R (kron: two GEMMs, the left product first; dense: one
 *    GEMM of P^T and the row-major flattening of G).
 * 3. Adam moments and bias correction on G' exactly as adam.
 * 4. W <- W - eta P_L (M_hat / (sqrt(V_hat) + eps)) P_R^T (two GEMMs,
 *    (P_L N) P_R^T; dense: P n).
 * A rotation of size 1 is the identity: its product is skipped (exact). */
#include <stdlib.h>
#include <string.h>

#include "real.h"

#include "../common/adam.h"
#include "../common/scalars.h"
#include "../mutants.h"

/* Scratch: T (m x n), the rotated gradient R and the direction N. */
typedef struct {
    real *T, *R, *N;
} work;

static void work_free(void *p)
{
    work *w = p;
    free(w->T), free(w->R), free(w->N);
    free(w);
}

/* Y = op(P_L) X op(P_R) (kron; ta/tb: transpose P_L/P_R), or vec(Y) = op(P) vec(X) (dense). */
static void rotate(const fast_opt *o, int dense, real *Y, const real *X, real *T, int ta, int tb)
{
    const int m = (int)o->m, n = (int)o->n, mn = m * n;
    const enum CBLAS_TRANSPOSE A = ta ? CblasTrans : CblasNoTrans, B = tb ? CblasTrans : CblasNoTrans;
    if (dense) {
        const real *P = fast_opt_state(o, "P")->data;
        if (mn == 1)
            Y[0] = X[0];
        else
            R_GEMM(CblasRowMajor, A, CblasNoTrans, mn, 1, mn, 1, P, mn, X, 1, 0, Y, 1);
        return;
    }
    const real *PL = fast_opt_state(o, "P_L")->data, *PR = fast_opt_state(o, "P_R")->data;
    const real *L = X;
    if (m > 1) {
        R_GEMM(CblasRowMajor, A, CblasNoTrans, m, n, m, 1, PL, m, X, n, 0, T, n);
        L = T;
    }
    if (n > 1)
        R_GEMM(CblasRowMajor, CblasNoTrans, B, m, n, n, 1, L, n, PR, n, 0, Y, n);
    else
        memcpy(Y, L, (size_t)mn * sizeof(real));
}

/* Step 3 on the rotated gradient R: the moments and the direction N. */
static void adam_pass(size_t count, real *restrict M, real *restrict V, const real *restrict R,
                      real *restrict N, const FN(fast_adam_scalars) *s)
{
    for (size_t k = 0; k < count; k++) {
        FN(fast_adam_moments)(&M[k], &V[k], R[k], s);
        N[k] = FN(fast_adam_direction)(M[k], V[k], s);
    }
}

/* Steps 1 and 4: W <- W (1 - eta lambda) - eta U. */
static void update_pass(size_t count, real *restrict W, const real *restrict U, real cf, real lr)
{
    for (size_t k = 0; k < count; k++)
        W[k] = W[k] * cf - lr * U[k];
}

optref_status FN(cpu_orthoadam_step)(fast_opt *o, void *Wv, const void *Gv, double eta,
                                     const fast_oracle *oracle)
{
    (void)oracle;
    const size_t count = o->m * o->n, bytes = (count ? count : 1) * sizeof(real);
    work *w = fast_work(o, sizeof(work), work_free);
    if (w != NULL && w->T == NULL) {
        w->T = malloc(bytes), w->R = malloc(bytes), w->N = malloc(bytes);
    }
    if (w == NULL || w->T == NULL || w->R == NULL || w->N == NULL)
        return optref_fail(OPTREF_ENOMEM, "orthoadam: cannot allocate the workspace");
    real *W = Wv, *M = fast_opt_state(o, "M")->data, *V = fast_opt_state(o, "V")->data;
    const double beta1 = fast_opt_real(o, "beta1"), beta2 = fast_opt_real(o, "beta2");
    const FN(fast_adam_scalars) s = {
        R_SCALAR(beta1), R_SCALAR(1.0 - beta1), R_SCALAR(beta2), R_SCALAR(1.0 - beta2),
        R_SCALAR(fast_bias_correction(beta1, o->t)), R_SCALAR(fast_bias_correction(beta2, o->t)),
        R_SCALAR(fast_opt_real(o, "eps"))};
    const real cf = R_SCALAR(fast_decay_factor(eta, fast_opt_real(o, "weight_decay")));
    const real lr = R_SCALAR(eta);
    const int dense = strcmp(fast_opt_text(o, "rotation"), "dense") == 0;
    const int flip = MUTANT("orthoadam-transposed-rotation");
    rotate(o, dense, w->R, Gv, w->T, !flip, flip); /* 2. P_L^T G P_R */
    adam_pass(count, M, V, w->R, w->N, &s);          /* 3. */
    const real *U = w->N;
    if (!MUTANT("orthoadam-no-back-rotation")) {
        rotate(o, dense, w->R, w->N, w->T, 0, 1); /* 4. P_L N P_R^T */
        U = w->R;
    }
    update_pass(count, W, U, cf, lr);              /* 1. and 4. */
    return OPTREF_OK;
}
