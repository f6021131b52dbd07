/* stableadamw (Wortsman et al. 2023, gist "StableAdamWUnfused") on the CPU,
 * spec/optimizers.md section 2 (reference: ref/optim/stableadamw.c):
 * 1. b1 = beta1 (1 - beta1^(t-1)) / (1 - beta1^t); b2 likewise (0 at t = 1).
 * 2. M <- b1 M + (1 - b1) G; U <- b2 U + (1 - b2) G.G.
 * 3. r = sqrt(mean(G.G / max(U, eps^2))) over the whole tensor (new U).
 * 4. W <- W (1 - eta lambda) - (eta / max(1, r / d)) M / (sqrt(U) + eps).
 * Two passes: moments, the terms of r and the direction D (workspace), then
 * the update once the clipped rate is known. The terms of r are summed in
 * binary64 in index order; r and the clipped rate are binary64, rounded once. */
#include "real.h"

#include "../common/select.h"
#include "../common/scalars.h"
#include "../mutants.h"

/* b = beta (1 - beta^(t-1)) / (1 - beta^t), binary64 (step 1). */
static double corrected_beta(double beta, uint64_t t)
{
    if (MUTANT("stableadamw-plain-beta"))
        return beta;
    return beta * (1.0 - fast_pow_t(beta, t - 1)) / fast_bias_correction(beta, t);
}

optref_status FN(cpu_stableadamw_step)(fast_opt *o, void *Wv, const void *Gv, double eta,
                                       const fast_oracle *oracle)
{
    (void)oracle;
    const size_t count = o->m * o->n;
    real *restrict D = fast_work(o, (count ? count : 1) * sizeof(real), NULL);
    if (D == NULL)
        return optref_fail(OPTREF_ENOMEM, "stableadamw: cannot allocate the workspace");
    real *restrict W = Wv, *restrict M = fast_opt_state(o, "M")->data;
    real *restrict U = fast_opt_state(o, "U")->data;
    const real *G = Gv;
    const double beta1 = corrected_beta(fast_opt_real(o, "beta1"), o->t);
    const double beta2 = corrected_beta(fast_opt_real(o, "beta2"), o->t);
    const double eps64 = fast_opt_real(o, "eps");
    const real b1 = R_SCALAR(beta1), c1 = R_SCALAR(1.0 - beta1);
    const real b2 = R_SCALAR(beta2), c2 = R_SCALAR(1.0 - beta2);
    const real eps = R_SCALAR(eps64), eps2 = R_SCALAR(eps64 * eps64);
    const int r_old_u = MUTANT("stableadamw-r-before-update");
    double sum = 0;
    for (size_t k = 0; k < count; k++) {
        real g = G[k], gg = g * g, u = U[k];
        M[k] = b1 * M[k] + c1 * g;                         /* 2. */
        U[k] = b2 * u + c2 * gg;
        if (!r_old_u)
            u = U[k];
        sum += FN(fast_quot0)(gg, u >= eps2 ? u : eps2);    /* 3. terms */
        D[k] = FN(fast_quot0)(M[k], R_SQRT(U[k]) + eps);    /* 4. direction */
    }
    /* 3.-4. the clipped rate eta / max(1, r / d) */
    double r = sqrt(sum / (double)count) / fast_opt_real(o, "clip_thresh");
    const real lr_c = R_SCALAR(eta / (r > 1 ? r : 1.0));
    const double decay_eta = MUTANT("stableadamw-decay-clipped") ? eta / (r > 1 ? r : 1.0) : eta;
    const real cf = R_SCALAR(fast_decay_factor(decay_eta, fast_opt_real(o, "weight_decay")));
    for (size_t k = 0; k < count; k++)
        W[k] = W[k] * cf - lr_c * D[k];                    /* 4. */
    return OPTREF_OK;
}
