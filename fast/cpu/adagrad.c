/* adagrad (torch.optim.Adagrad, lr_decay 0, initial accumulator 0) on the
 * CPU, spec/optimizers.md section 2 (reference: ref/optim/adagrad.c):
 * 1. G <- G + lambda W (coupled).
 * 2. S <- S + G.G.
 * 3. W <- W - eta G / (sqrt(S) + eps) (0 / 0 = 0). */
#include "real.h"

#include "../common/adam.h"
#include "../mutants.h"

optref_status FN(cpu_adagrad_step)(fast_opt *o, void *Wv, const void *Gv, double eta,
                                   const fast_oracle *oracle)
{
    (void)oracle;
    real *restrict W = Wv, *restrict S = fast_opt_state(o, "S")->data;
    const real *G = Gv;
    const real lam = MUTANT("adagrad-coupled-decay-dropped")
                         ? (real)0 : R_SCALAR(fast_opt_real(o, "weight_decay"));
    const real eps = R_SCALAR(fast_opt_real(o, "eps")), lr = R_SCALAR(eta);
    const int eps_inside = MUTANT("adagrad-eps-inside-sqrt");
    const size_t count = o->m * o->n;
    for (size_t k = 0; k < count; k++) {
        real g = G[k] + lam * W[k]; /* 1. */
        real d = eps_inside ? (S[k] = S[k] + g * g, g / R_SQRT(S[k] + eps))
                            : FN(fast_adagrad_direction)(&S[k], g, eps); /* 2.-3. */
        W[k] = W[k] - lr * d;
    }
    return OPTREF_OK;
}
