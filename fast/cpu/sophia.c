/* sophia (SophiaH, Liu et al. 2023, Liuhong99/Sophia sophia.py) on the CPU,
 * spec/optimizers.md section 2 (reference: ref/optim/sophia.c):
 * 1. W <- W (1 - eta lambda) (decoupled).
 * 2. M <- beta1 M + (1 - beta1) G.
 * 3. ratio = min(|M| / (gamma max(h, 0) + 1e-12), 1).
 * 4. W <- W - (eta / (1 - beta1^t)) sign(M) . ratio (the product exact).
 * 5. After the step, if t mod k = 0: u with i.i.d. Rademacher entries (the
 *    project generator: stream 6, the oracle's seed, substream t,
 *    row-major; exact in the format); h <- beta2 h + (1 - beta2) u . (H u)
 *    with H u from the oracle's hvp at the new W (u . (H u) exact). */
#include <stdlib.h>

#include "real.h"

#include "../common/scalars.h"
#include "../common/sign.h"
#include "../mutants.h"
#include "optref/rng.h"

/* Scratch: the probe u and H u. */
typedef struct {
    real *U, *HU;
} work;

static void work_free(void *p)
{
    work *w = p;
    free(w->U), free(w->HU);
    free(w);
}

/* The mutant sophia-no-relu: min(|m| / (gamma h + tiny), 1) without max(h, 0). */
static real ratio_no_relu(real m, real h, real gamma, real tiny)
{
    real r = (m < 0 ? -m : m) / (gamma * h + tiny);
    return r < 1 ? r : (real)1;
}

/* Step 5. */
static optref_status update_hessian(fast_opt *o, work *w, const real *W,
                                    const fast_oracle *oracle)
{
    real *h = fast_opt_state(o, "h")->data;
    const size_t count = o->m * o->n;
    uint32_t sub = (uint32_t)o->t + (MUTANT("sophia-probe-substream-off-by-one") ? 1 : 0);
    rng_stream rs;
    rng_stream_init(&rs, oracle->seed, RNG_STREAM_SOPHIA, sub);
    for (size_t k = 0; k < count; k++)
        w->U[k] = (real)rng_next_rademacher(&rs);
    optref_status st = oracle->hvp(oracle->ctx, w->HU, W, w->U);
    if (st != OPTREF_OK)
        return st;
    for (size_t k = 0; k < count; k++)
        if (!isfinite(w->HU[k]))
            return optref_fail(OPTREF_ENONFINITE, "sophia: the Hessian-vector product is not "
                               "finite at [%zu][%zu]", k / o->n, k % o->n);
    const double beta2 = fast_opt_real(o, "beta2");
    const real b2 = R_SCALAR(beta2), c2 = R_SCALAR(1.0 - beta2);
    for (size_t k = 0; k < count; k++)
        h[k] = b2 * h[k] + c2 * (w->U[k] * w->HU[k]);
    return OPTREF_OK;
}

optref_status FN(cpu_sophia_step)(fast_opt *o, void *Wv, const void *Gv, double eta,
                                  const fast_oracle *oracle)
{
    if (oracle == NULL || oracle->hvp == NULL)
        return optref_fail(OPTREF_EINVAL, "sophia needs an oracle with Hessian-vector products");
    const size_t count = o->m * o->n, bytes = (count ? count : 1) * sizeof(real);
    work *w = fast_work(o, sizeof(work), work_free);
    if (w != NULL && w->U == NULL)
        w->U = malloc(bytes), w->HU = malloc(bytes);
    if (w == NULL || w->U == NULL || w->HU == NULL)
        return optref_fail(OPTREF_ENOMEM, "sophia: cannot allocate the workspace");
    real *restrict W = Wv, *restrict M = fast_opt_state(o, "M")->data;
    const real *h = fast_opt_state(o, "h")->data; /* step 5 rewrites it: not restrict */
    const real *G = Gv;
    const double beta1 = fast_opt_real(o, "beta1");
    const real b1 = R_SCALAR(beta1), c1 = R_SCALAR(1.0 - beta1);
    const real gamma = R_SCALAR(fast_opt_real(o, "gamma")), tiny = R_SCALAR(1e-12);
    const double bc = MUTANT("sophia-bias-correction-dropped") ? 1.0
                                                               : fast_bias_correction(beta1, o->t);
    const real lr = R_SCALAR(eta / bc);
    const real cf = R_SCALAR(fast_decay_factor(eta, fast_opt_real(o, "weight_decay")));
    const uint64_t k_interval = (uint64_t)fast_opt_int(o, "k");
    const int due = o->t % k_interval == 0;
    const int no_relu = MUTANT("sophia-no-relu");
    if (due && MUTANT("sophia-hessian-before-step")) {
        optref_status st = update_hessian(o, w, W, oracle);
        if (st != OPTREF_OK)
            return st;
    }
    for (size_t k = 0; k < count; k++) {
        real wk = W[k] * cf;                              /* 1. */
        real m = M[k] = b1 * M[k] + c1 * G[k];            /* 2. */
        real r = no_relu ? ratio_no_relu(m, h[k], gamma, tiny)
                         : FN(fast_sophia_ratio)(m, h[k], gamma, tiny); /* 3. */
        W[k] = wk - lr * FN(fast_signed)(r, m);           /* 4. */
    }
    if (due && !MUTANT("sophia-hessian-before-step"))
        return update_hessian(o, w, W, oracle);           /* 5. */
    return OPTREF_OK;
}
