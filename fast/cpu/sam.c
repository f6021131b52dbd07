/* sam on the CPU (spec/optimizers.md section 2 sam; davda54/sam):
 * 1. N = ||G||_F (adaptive: ||W . G||_F). 2. E = rho G / (N + 1e-12)
 * (adaptive: rho W . W . G / (N + 1e-12)). 3. G2 = the oracle's gradient at
 * W + E. 4. base.step(W, G2), from the original W.
 * Order of operations as ref/optim/sam.c (docs/optimizers/wrappers.md):
 * E = ((rho W) W) G / d, left to right; N is a plain sum of squares and a
 * square root. The workspace holds W + E and G2 (fast_work, made once). */
#include "real.h"

#include "../mutants.h"

optref_status FN(cpu_sam_step)(fast_opt *o, void *Wv, const void *Gv, double eta,
                               const fast_oracle *oracle)
{
    const size_t count = o->m * o->n;
    real *X = fast_work(o, 2 * (count ? count : 1) * sizeof(real), NULL);
    if (X == NULL)
        return optref_fail(OPTREF_ENOMEM, "sam: cannot allocate the workspace");
    if (oracle == NULL || oracle->gradient_at == NULL)
        return optref_fail(OPTREF_EINVAL, "sam: the oracle has no gradient_at: SAM needs the "
                           "gradient at W + E on the call's minibatch");
    real *G2 = X + count, *W = Wv;
    const real *G = Gv;
    const real rho = R_SCALAR(fast_opt_real(o, "rho"));
    const real tiny = R_SCALAR(1e-12);
    const int adaptive = fast_opt_bool(o, "adaptive");
    const int square = !MUTANT("sam-adaptive-missing-square");
    const real sign = MUTANT("sam-perturbation-sign") ? (real)-1 : (real)1;
    real s = 0;                                       /* 1: N^2 */
    if (adaptive)
        for (size_t k = 0; k < count; k++) {
            real p = W[k] * G[k];
            s += p * p;
        }
    else
        for (size_t k = 0; k < count; k++)
            s += G[k] * G[k];
    const real d = R_SQRT(s) + tiny;                  /* N + 1e-12 */
    if (adaptive)                                     /* 2, and W + E */
        for (size_t k = 0; k < count; k++) {
            real e = square ? rho * W[k] * W[k] * G[k] : rho * W[k] * G[k];
            X[k] = W[k] + sign * (e / d);
        }
    else
        for (size_t k = 0; k < count; k++)
            X[k] = W[k] + sign * (rho * G[k] / d);
    optref_status st = oracle->gradient_at(oracle->ctx, G2, X); /* 3 */
    if (st != OPTREF_OK)
        return optref_fail(st, "sam: the gradient at W + E failed: %s", optref_last_error());
    for (size_t k = 0; k < count; k++)
        if (!isfinite(G2[k]))
            return optref_fail(OPTREF_ENONFINITE, "sam: the gradient at W + E, G2[%zu][%zu], is "
                               "not finite", k / o->n, k % o->n);
    return fast_substep(o->base, W, G2, eta, oracle); /* 4 */
}
