/* lion (google/automl lion/lion_pytorch.py) on the CPU, spec/optimizers.md
 * section 2 (reference: ref/optim/lion.c):
 * 1. W <- W (1 - eta lambda) (decoupled).
 * 2. C <- beta1 M + (1 - beta1) G.
 * 3. W <- W - eta sign(C) (eta sign(C) exact: a selection).
 * 4. M <- beta2 M + (1 - beta2) G. */
#include "real.h"

#include "../common/scalars.h"
#include "../common/sign.h"
#include "../mutants.h"

optref_status FN(cpu_lion_step)(fast_opt *o, void *Wv, const void *Gv, double eta,
                                const fast_oracle *oracle)
{
    (void)oracle;
    real *restrict W = Wv, *restrict M = fast_opt_state(o, "M")->data;
    const real *G = Gv;
    double beta1 = fast_opt_real(o, "beta1"), beta2 = fast_opt_real(o, "beta2");
    if (MUTANT("lion-betas-swapped")) {
        double t = beta1;
        beta1 = beta2, beta2 = t;
    }
    const real b1 = R_SCALAR(beta1), c1 = R_SCALAR(1.0 - beta1);
    const real b2 = R_SCALAR(beta2), c2 = R_SCALAR(1.0 - beta2), lr = R_SCALAR(eta);
    const real cf = R_SCALAR(fast_decay_factor(eta, fast_opt_real(o, "weight_decay")));
    const int update_first = MUTANT("lion-update-before-interpolation");
    const size_t count = o->m * o->n;
    for (size_t k = 0; k < count; k++) {
        real w = W[k] * cf; /* 1. */
        real m = update_first ? b2 * M[k] + c2 * G[k] : M[k];
        real c = b1 * m + c1 * G[k];              /* 2. */
        W[k] = w - FN(fast_signed)(lr, c);        /* 3. */
        M[k] = update_first ? m : b2 * M[k] + c2 * G[k]; /* 4. */
    }
    return OPTREF_OK;
}
