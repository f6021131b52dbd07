/* signsgd (Signum; DeVA optimizers/signgd.py) on the CPU, spec/optimizers.md
 * section 2 (reference: ref/optim/signsgd.c):
 * 1. W <- W (1 - eta lambda) (decoupled).
 * 2. M <- lerp(M, G, 1 - beta).
 * 3. D <- lerp(G, M, beta) if nesterov else M.
 * 4. W <- W - eta sign(D) (eta sign(D) exact: a selection). */
#include "real.h"

#include "../common/scalars.h"
#include "../common/sign.h"
#include "../mutants.h"

optref_status FN(cpu_signsgd_step)(fast_opt *o, void *Wv, const void *Gv, double eta,
                                   const fast_oracle *oracle)
{
    (void)oracle;
    real *restrict W = Wv, *restrict M = fast_opt_state(o, "M")->data;
    const real *G = Gv;
    const double beta = fast_opt_real(o, "beta");
    const real b = R_SCALAR(beta), c = R_SCALAR(1.0 - beta), lr = R_SCALAR(eta);
    const real cf = R_SCALAR(fast_decay_factor(eta, fast_opt_real(o, "weight_decay")));
    const int nesterov = fast_opt_bool(o, "nesterov") ^ MUTANT("signsgd-nesterov-flipped");
    const size_t count = o->m * o->n;
    for (size_t k = 0; k < count; k++) {
        real w = W[k] * cf;                             /* 1. */
        M[k] = FN(fast_lerp)(M[k], G[k], c);            /* 2. */
        real d = nesterov ? FN(fast_lerp)(G[k], M[k], b) : M[k]; /* 3. */
        W[k] = w - FN(fast_signed)(lr, d);              /* 4. */
    }
    return OPTREF_OK;
}
