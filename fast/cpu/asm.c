/* asm (Adaptive Spectral Momentum, seed paper Eq. 1) on the CPU,
 * spec/optimizers.md section 2 (reference: ref/optim/asm.c):
 * 1. W <- W (1 - eta lambda) (decoupled).
 * 2. Adam moments and bias correction as adam (no coupled decay).
 * 3. If (t - 1) mod K = 0: sigma = singular values of the decayed W
 *    (LAPACK gesvd, no vectors); kappa = sigma_1 / sigma_min(m,n);
 *    s = min(1, tau / kappa). Otherwise s and kappa keep their values.
 * 4. W <- W - eta s N, eta s one rounding (eta itself when s = 1).
 * Zero rule [decision, proofs/conformance-elementwise.md "asm"]: sigma_min
 * counts as zero, giving kappa = +Inf and s = 0, when sigma_1 = 0 or
 * sigma_min <= max(m, n) eps sigma_1 (eps = 2u, the format's machine
 * epsilon): the numerical-rank convention of LAPACK's users and
 * numpy.linalg.matrix_rank, below which a computed sigma_min is rounding
 * noise. The reference's 2^(-256/2) is the same idea at its precision; a
 * backend cannot resolve sigma_min below its own noise, and above it the
 * formula is followed (a 2^(-p/2) rule would zero s for every kappa >
 * 4096 in binary32). 1-D parameters: s = kappa = 1. */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "real.h"

#include "../common/adam.h"
#include "../common/scalars.h"
#include "../mutants.h"

#if FAST_REAL_BITS == 64
#define R_GESVD_WORK LAPACKE_dgesvd_work
#define R_EPS DBL_EPSILON
#else
#define R_GESVD_WORK LAPACKE_sgesvd_work
#define R_EPS FLT_EPSILON
#endif

/* Scratch: the direction N, a copy of W for gesvd, its singular values,
 * and LAPACK's workspace (queried once). */
typedef struct {
    real *N, *A, *S, *lw;
    lapack_int lwork;
    int ready;
} work;

static void work_free(void *p)
{
    work *w = p;
    free(w->N), free(w->A), free(w->S), free(w->lw);
    free(w);
}

static work *get_work(fast_opt *o)
{
    size_t count = o->m * o->n, k = o->m < o->n ? o->m : o->n;
    work *w = fast_work(o, sizeof(work), work_free);
    if (w == NULL || w->ready)
        return w;
    free(w->N), free(w->A), free(w->S), free(w->lw); /* a failed earlier attempt */
    memset(w, 0, sizeof *w);
    w->N = malloc(count * sizeof(real));
    w->A = malloc(count * sizeof(real));
    w->S = malloc(k * sizeof(real));
    if (w->N == NULL || w->A == NULL || w->S == NULL)
        return NULL;
    if (k > 1) { /* workspace query: W row-major is W^T column-major (n x m) */
        real q, dummy = 0;
        lapack_int n = (lapack_int)o->n, m = (lapack_int)o->m;
        if (R_GESVD_WORK(LAPACK_COL_MAJOR, 'N', 'N', n, m, w->A, n, w->S, &dummy, 1, &dummy, 1,
                         &q, -1) != 0)
            return NULL;
        w->lwork = (lapack_int)q;
        if ((w->lw = malloc((size_t)(w->lwork > 1 ? w->lwork : 1) * sizeof(real))) == NULL)
            return NULL;
    }
    w->ready = 1;
    return w;
}

/* Step 3: s and kappa from the singular values of W (m x n, k = min(m, n) > 1). */
static optref_status spectral_scale(const fast_opt *o, work *w, const real *W, real *s,
                                    real *kappa)
{
    size_t count = o->m * o->n, k = o->m < o->n ? o->m : o->n;
    lapack_int n = (lapack_int)o->n, m = (lapack_int)o->m;
    real dummy = 0;
    memcpy(w->A, W, count * sizeof(real));
    lapack_int info = R_GESVD_WORK(LAPACK_COL_MAJOR, 'N', 'N', n, m, w->A, n, w->S, &dummy, 1,
                                   &dummy, 1, w->lw, w->lwork);
    if (info != 0)
        return optref_fail(info > 0 ? OPTREF_ENOCONV : OPTREF_EINVAL,
                           "asm: the singular values of W failed (gesvd info %d)", (int)info);
    const real s1 = w->S[0], smin = w->S[k - 1];
    const real tol = (real)(o->m > o->n ? o->m : o->n) * R_EPS * s1; /* max(m, n) eps sigma_1 */
    if (s1 == 0 || smin <= tol) {
        *kappa = (real)INFINITY;
        *s = 0;
        return OPTREF_OK;
    }
    *kappa = s1 / smin;
    *s = R_SCALAR(fast_opt_real(o, "tau")) / *kappa;
    if (*s > 1 && !MUTANT("asm-s-unclamped"))
        *s = 1;
    return OPTREF_OK;
}

optref_status FN(cpu_asm_step)(fast_opt *o, void *Wv, const void *Gv, double eta,
                               const fast_oracle *oracle)
{
    (void)oracle;
    work *w = get_work(o);
    if (w == NULL)
        return optref_fail(OPTREF_ENOMEM, "asm: cannot allocate the workspace");
    real *restrict W = Wv, *restrict M = fast_opt_state(o, "M")->data;
    real *restrict V = fast_opt_state(o, "V")->data, *restrict N = w->N;
    real *s = fast_opt_state(o, "s")->data, *kappa = fast_opt_state(o, "kappa")->data;
    const real *G = Gv;
    const double beta1 = fast_opt_real(o, "beta1"), beta2 = fast_opt_real(o, "beta2");
    const FN(fast_adam_scalars) sc = {
        R_SCALAR(beta1), R_SCALAR(1.0 - beta1), R_SCALAR(beta2), R_SCALAR(1.0 - beta2),
        R_SCALAR(fast_bias_correction(beta1, o->t)), R_SCALAR(fast_bias_correction(beta2, o->t)),
        R_SCALAR(fast_opt_real(o, "eps"))};
    const real cf = R_SCALAR(fast_decay_factor(eta, fast_opt_real(o, "weight_decay")));
    const real lr = R_SCALAR(eta);
    const size_t count = o->m * o->n;
    for (size_t k = 0; k < count; k++) {
        W[k] = W[k] * cf; /* 1. */
        FN(fast_adam_moments)(&M[k], &V[k], G[k], &sc); /* 2. */
        N[k] = FN(fast_adam_direction)(M[k], V[k], &sc);
    }
    const uint64_t K = (uint64_t)fast_opt_int(o, "check_interval");
    const uint64_t t = MUTANT("asm-check-off-by-one") ? o->t : o->t - 1;
    if (t % K == 0) { /* 3. */
        if (o->m == 1 || o->n == 1) {
            *s = 1, *kappa = 1;
        } else {
            optref_status st = spectral_scale(o, w, W, s, kappa);
            if (st != OPTREF_OK)
                return st;
        }
    }
    const real es = *s == 1 ? lr : lr * *s; /* 4. */
    for (size_t k = 0; k < count; k++)
        W[k] = W[k] - es * N[k];
    return OPTREF_OK;
}
