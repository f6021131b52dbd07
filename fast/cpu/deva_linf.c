/* deva-linf (DeVA optimizers/deva.py DeVAEuclideanNorm) on the CPU,
 * spec/optimizers.md section 2 (reference: ref/optim/deva_linf.c):
 * 1. W <- W (1 - eta lambda) (decoupled).
 * 2. M <- lerp(M, G, 1 - beta1).
 * 3. V <- lerp(V, M.M, 1 - beta2), M.M rounded once and used in 3 and 4.
 * 4. Gamma <- sqrt(M.M / (V + eps)) (0 / 0 = 0).
 * 5. D <- lerp(G, M, beta1) if nesterov else M.
 * 6. W <- W - eta Gamma . sign(D) (Gamma . sign(D) exact: a selection). */
#include "real.h"

#include "../common/scalars.h"
#include "../common/sign.h"
#include "../mutants.h"

optref_status FN(cpu_deva_linf_step)(fast_opt *o, void *Wv, const void *Gv, double eta,
                                     const fast_oracle *oracle)
{
    (void)oracle;
    real *restrict W = Wv, *restrict M = fast_opt_state(o, "M")->data;
    real *restrict V = fast_opt_state(o, "V")->data;
    real *restrict Gam = fast_opt_state(o, "Gamma")->data;
    const real *G = Gv;
    const double beta1 = fast_opt_real(o, "beta1"), beta2 = fast_opt_real(o, "beta2");
    const real b1 = R_SCALAR(beta1), c1 = R_SCALAR(1.0 - beta1), c2 = R_SCALAR(1.0 - beta2);
    const real eps = R_SCALAR(fast_opt_real(o, "eps")), lr = R_SCALAR(eta);
    const real cf = R_SCALAR(fast_decay_factor(eta, fast_opt_real(o, "weight_decay")));
    const int nesterov = fast_opt_bool(o, "nesterov");
    const int v_of_g = MUTANT("deva-linf-v-of-gradient");
    const int old_v = MUTANT("deva-linf-gamma-before-v");
    const size_t count = o->m * o->n;
    for (size_t k = 0; k < count; k++) {
        real w = W[k] * cf;                                       /* 1. */
        real m = M[k] = FN(fast_lerp)(M[k], G[k], c1);            /* 2. */
        real mm = m * m;
        real v = V[k];
        V[k] = FN(fast_lerp)(v, v_of_g ? G[k] * G[k] : mm, c2);   /* 3. */
        Gam[k] = FN(fast_deva_gamma)(mm, old_v ? v : V[k], eps);  /* 4. */
        real d = nesterov ? FN(fast_lerp)(G[k], m, b1) : m;       /* 5. */
        W[k] = w - lr * FN(fast_signed)(Gam[k], d);               /* 6. */
    }
    return OPTREF_OK;
}
