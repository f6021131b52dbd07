/* adam and adamw on the CPU (spec/optimizers.md section 2; the reference is
 * ref/optim/adam.c with adam_moments.c). One step function; the entry
 * decides where the weight decay sits:
 *   adam:  1. G <- G + lambda W (coupled).
 *   adamw: 1. W <- W (1 - eta lambda) (decoupled), no coupled term.
 *   2. M <- beta1 M + (1 - beta1) G; V <- beta2 V + (1 - beta2) G.G.
 *   3. W <- W - eta (M / (1 - beta1^t)) / (sqrt(V / (1 - beta2^t)) + eps).
 * One pass over the elements; the absent decay is a multiply by exactly 1
 * or an add of exactly 0 (no branch in the loop). */
#include <string.h>

#include "real.h"

#include "../common/adam.h"
#include "../common/scalars.h"
#include "../mutants.h"

/* The bias correction 1 - beta^t, or a mutant's. */
static double bias_correction(double beta, uint64_t t)
{
    if (MUTANT("adam-no-bias-correction"))
        return 1.0;
    if (MUTANT("adam-bias-correction-off-by-one")) {
        /* a 0-based step count, with the guard such code needs at t = 1 */
        double bc = fast_bias_correction(beta, t - 1);
        return bc == 0 ? 1.0 : bc;
    }
    return fast_bias_correction(beta, t);
}

optref_status FN(cpu_adam_step)(fast_opt *o, void *Wv, const void *Gv, double eta,
                                const fast_oracle *oracle)
{
    (void)oracle;
    real *restrict W = Wv, *restrict M = fast_opt_state(o, "M")->data;
    real *restrict V = fast_opt_state(o, "V")->data;
    const real *G = Gv;
    const double beta1 = fast_opt_real(o, "beta1"), beta2 = fast_opt_real(o, "beta2");
    const double lambda = fast_opt_real(o, "weight_decay");
    int decoupled = strcmp(o->info->name, "adamw") == 0;
    if (decoupled && MUTANT("adamw-coupled-decay"))
        decoupled = 0;
    const FN(fast_adam_scalars) s = {
        R_SCALAR(beta1), R_SCALAR(1.0 - beta1), R_SCALAR(beta2), R_SCALAR(1.0 - beta2),
        R_SCALAR(bias_correction(beta1, o->t)), R_SCALAR(bias_correction(beta2, o->t)),
        R_SCALAR(fast_opt_real(o, "eps"))};
    const real cf = decoupled ? R_SCALAR(fast_decay_factor(eta, lambda)) : (real)1;
    const real lam = decoupled ? (real)0 : R_SCALAR(lambda);
    const real lr = R_SCALAR(eta);
    const int eps_inside = MUTANT("adam-eps-inside-sqrt");
    const size_t count = o->m * o->n;
    for (size_t k = 0; k < count; k++) {
        real g = G[k] + lam * W[k]; /* 1. coupled (lam = 0 for adamw: exact) */
        real w = W[k] * cf;         /*    decoupled (cf = 1 for adam: exact) */
        FN(fast_adam_moments)(&M[k], &V[k], g, &s);
        real d = eps_inside ? M[k] / s.bc1 / R_SQRT(V[k] / s.bc2 + s.eps)
                            : FN(fast_adam_direction)(M[k], V[k], &s);
        W[k] = w - lr * d;
    }
    return OPTREF_OK;
}
