/* adamuon on the CPU, as the reference (ref/optim/adamuon.c; spec/optimizers.md
 * section 2):
 * 1. M <- beta1 M + G (sum form).   2. O <- msign(sign(M)) (fast/cpu/msign.c).
 * 3. V <- lerp(V, O.O, 1 - beta2).  4. O <- O / (sqrt(V) + eps), 0 / 0 = 0.
 * 5. s = c0 / ||O||_F with c0 = 0.2 sqrt(m n) (binary64, rounded once) and
 *    ||O||_F = sqrt(dot(O, O)) in the format; no update when O = 0.
 * 6. W <- W c (c = 1 - eta lambda, binary64, rounded once; skipped when
 *    lambda = 0), then W <- W - eta (O s).
 * ns_dtype=bf16 is rejected, as for muon (fast/cpu/muon.c). */
#include <stdlib.h>

#include "msign.h"

#include "../common/elementwise.h"
#include "../mutants.h"

#if FAST_REAL_BITS == 64
#define R_DOT cblas_ddot
#else
#define R_DOT cblas_sdot
#endif

typedef struct {
    FN(msign_ws) ns;
    real *O; /* m x n */
} adamuon_work;

static void adamuon_work_free(void *p)
{
    adamuon_work *w = p;
    FN(msign_ws_free)(&w->ns);
    free(w->O);
    free(w);
}

/* Steps 3 and 4: V updated, O divided in place. */
static void second_moment(real *O, real *V, size_t count, real w2, real eps)
{
    const int inside = MUTANT("adamuon-eps-inside-sqrt");
    for (size_t k = 0; k < count; k++) {
        V[k] = FN(fast_lerp)(V[k], O[k] * O[k], w2);
        O[k] = FN(fast_div0)(O[k], inside ? R_SQRT(V[k] + eps) : R_SQRT(V[k]) + eps);
    }
}

optref_status FN(cpu_adamuon_step)(fast_opt *o, void *Wv, const void *Gv, double eta,
                                   const fast_oracle *oracle)
{
    (void)oracle;
    if (strcmp(fast_opt_text(o, "ns_dtype"), "exact") != 0)
        return optref_fail(OPTREF_EINVAL, "adamuon: backend %s runs Newton-Schulz in its own "
                           "format; ns_dtype=bf16 (the reference's model of bf16 ports) is not "
                           "implemented here: use ns_dtype=exact",
                           fast_backend_name(o->backend));
    const msign_method method = msign_method_of(fast_opt_text(o, "ns"));
    adamuon_work *w = fast_work(o, sizeof *w, adamuon_work_free);
    const size_t count = o->m * o->n;
    if (w != NULL && w->O == NULL)
        w->O = malloc(count * sizeof(real));
    if (w == NULL || w->O == NULL)
        return optref_fail(OPTREF_ENOMEM, "adamuon: cannot allocate the workspace");
    real *W = Wv, *M = fast_opt_state(o, "M")->data, *V = fast_opt_state(o, "V")->data;
    real *O = w->O;
    const real *G = Gv;
    const double lambda = fast_opt_real(o, "weight_decay");
    const real beta1 = R_SCALAR(fast_opt_real(o, "beta1"));
    const real w2 = R_SCALAR(1.0 - fast_opt_real(o, "beta2"));
    const real eps = R_SCALAR(fast_opt_real(o, "eps"));
    const int ema = MUTANT("adamuon-momentum-ema");
    const real g1 = ema ? R_SCALAR(1.0 - fast_opt_real(o, "beta1")) : 1;
    for (size_t k = 0; k < count; k++) {
        M[k] = beta1 * M[k] + (ema ? g1 * G[k] : G[k]);
        O[k] = FN(fast_sign)(M[k]);
    }
    optref_status st = FN(cpu_msign)(&w->ns, O, O, o->m, o->n, method,
                                     fast_opt_int(o, "ns_steps"), "adamuon");
    if (st != OPTREF_OK)
        return st;
    second_moment(O, V, count, w2, eps);
    if (lambda != 0) {
        const real c = R_SCALAR(1.0 - eta * lambda);
        for (size_t k = 0; k < count; k++)
            W[k] = W[k] * c;
    }
    const real nrm = R_SQRT(R_DOT(count, O, 1, O, 1));
    if (nrm == 0) /* O = 0: no update [decision, spec] */
        return OPTREF_OK;
    const real lr = R_SCALAR(eta), s = R_SCALAR(0.2 * sqrt((double)count)) / nrm;
    for (size_t k = 0; k < count; k++)
        W[k] = W[k] - lr * (O[k] * s);
    return OPTREF_OK;
}
