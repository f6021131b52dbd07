/* muon, muon-deva, muon-torch and muon-polar on the CPU: one step, as the
 * reference (ref/optim/muon.c; spec/optimizers.md section 2):
 * 1. M <- lerp(M, G, 1 - mu).  2. D <- lerp(G, M, mu) if nesterov else M.
 * 3. O <- msign(D) (fast/cpu/msign.c).
 * 4. s = sqrt(max(1, m/n)) (keller), sqrt(max(m, n)) (deva), 0.2 sqrt(max(m, n)) (rms),
 *    in binary64, rounded once.
 * 5. W <- W c with c = 1 - eta lambda (binary64, rounded once; skipped when
 *    lambda = 0), then W <- W - eta (s O) (muon, muon-deva, muon-polar), or
 *    W <- W - (eta s) O (muon-torch: torch scales the learning rate).
 * ns_dtype=bf16 is rejected [decision]: it is the reference's model of bf16
 * ports; this backend runs Newton-Schulz in its own format. */
#include <stdlib.h>

#include "msign.h"

#include "../common/elementwise.h"
#include "../mutants.h"

typedef struct {
    FN(msign_ws) ns;
    real *D; /* m x n: the direction, then O */
} muon_work;

static void muon_work_free(void *p)
{
    muon_work *w = p;
    FN(msign_ws_free)(&w->ns);
    free(w->D);
    free(w);
}

/* Step 4 in binary64. */
static double muon_scale(const fast_opt *o)
{
    const char *scale = fast_opt_text(o, "scale");
    double big = (double)(o->m > o->n ? o->m : o->n);
    if (strcmp(scale, "keller") == 0) {
        if (MUTANT("muon-scale-transposed")) /* sqrt(max(1, n/m)) */
            return o->n <= o->m ? 1.0 : sqrt((double)o->n / (double)o->m);
        return o->m <= o->n ? 1.0 : sqrt((double)o->m / (double)o->n);
    }
    return strcmp(scale, "rms") == 0 ? 0.2 * sqrt(big) : sqrt(big);
}

optref_status FN(cpu_muon_step)(fast_opt *o, void *Wv, const void *Gv, double eta,
                                const fast_oracle *oracle)
{
    (void)oracle;
    const char *name = o->info->name;
    if (strcmp(fast_opt_text(o, "ns_dtype"), "exact") != 0)
        return optref_fail(OPTREF_EINVAL, "%s: backend %s runs Newton-Schulz in its own format; "
                           "ns_dtype=bf16 (the reference's model of bf16 ports) is not "
                           "implemented here: use ns_dtype=exact", name,
                           fast_backend_name(o->backend));
    const msign_method method = msign_method_of(fast_opt_text(o, "ns"));
    muon_work *w = fast_work(o, sizeof *w, muon_work_free);
    const size_t count = o->m * o->n;
    if (w != NULL && w->D == NULL)
        w->D = malloc(count * sizeof(real));
    if (w == NULL || w->D == NULL)
        return optref_fail(OPTREF_ENOMEM, "%s: cannot allocate the workspace", name);
    real *W = Wv, *M = fast_opt_state(o, "M")->data, *D = w->D;
    const real *G = Gv;
    const double mu_d = fast_opt_real(o, "momentum"), lambda = fast_opt_real(o, "weight_decay");
    const real mu = R_SCALAR(mu_d), w1 = R_SCALAR(1.0 - mu_d);
    const int nesterov = fast_opt_bool(o, "nesterov") ^ MUTANT("muon-nesterov-flipped");
    for (size_t k = 0; k < count; k++) {
        M[k] = FN(fast_lerp)(M[k], G[k], w1);
        D[k] = nesterov ? FN(fast_lerp)(G[k], M[k], mu) : M[k];
    }
    optref_status st = FN(cpu_msign)(&w->ns, D, D, o->m, o->n, method,
                                     fast_opt_int(o, "ns_steps"), name);
    if (st != OPTREF_OK)
        return st;
    const double s = muon_scale(o);
    const int on_lr = strcmp(name, "muon-torch") == 0;
    const real lr = R_SCALAR(on_lr ? eta * s : eta), sc = R_SCALAR(on_lr ? 1.0 : s);
    if (lambda != 0) {
        const real c = R_SCALAR(1.0 - eta * lambda);
        for (size_t k = 0; k < count; k++)
            W[k] = W[k] * c;
    }
    if (on_lr)
        for (size_t k = 0; k < count; k++)
            W[k] = W[k] - lr * D[k];
    else
        for (size_t k = 0; k < count; k++)
            W[k] = W[k] - lr * (sc * D[k]);
    return OPTREF_OK;
}
