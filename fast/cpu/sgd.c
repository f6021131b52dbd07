/* sgd on the CPU (spec/optimizers.md section 2, torch.optim.SGD):
 * G <- G + lambda W; B <- G at t = 1 else mu B + (1 - dampening) G;
 * D <- G + mu B (nesterov) or B, or G when mu = 0; W <- W - eta D. */
#include "real.h"

#include "../common/elementwise.h"
#include "../mutants.h"

optref_status FN(cpu_sgd_step)(fast_opt *o, void *Wv, const void *Gv, double eta,
                               const fast_oracle *oracle)
{
    (void)oracle;
    real *W = Wv, *B = fast_opt_state(o, "B")->data;
    const real *G = Gv;
    const real lambda = R_SCALAR(fast_opt_real(o, "weight_decay"));
    const real mu = R_SCALAR(fast_opt_real(o, "momentum"));
    const real damp1 = R_SCALAR(1.0 - fast_opt_real(o, "dampening"));
    const real lr = R_SCALAR(eta);
    const int nesterov = fast_opt_bool(o, "nesterov") ^ MUTANT("sgd-nesterov-flipped");
    const int first = o->t == 1, decay = !MUTANT("sgd-coupled-decay-dropped");
    const size_t count = o->m * o->n;
    for (size_t k = 0; k < count; k++) {
        real g = decay ? G[k] + lambda * W[k] : G[k], d = g;
        if (mu != 0) {
            B[k] = first ? g : mu * B[k] + damp1 * g;
            d = nesterov ? g + mu * B[k] : B[k];
        }
        W[k] -= lr * d;
    }
    return OPTREF_OK;
}
