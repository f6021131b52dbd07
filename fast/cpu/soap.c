/* soap on the CPU (spec/optimizers.md section 2 soap; nikhilvyas/SOAP soap.py),
 * the order of ref/optim/soap.c with the machinery of eigenbasis.c.
 * First call: the 1.2 first-call rule (no update). Later calls:
 * 1. G' = project(G). 2. k <- k + 1. 3. M, V moments. 4. N = M / (sqrt(V) + eps).
 * 5.-8. the update tail on U = project_back(N). 9. the refresh (V permuted). */
#include "eigenbasis.h"

#include "../common/eigenbasis_elem.h"
#include "../mutants.h"

optref_status FN(cpu_soap_step)(fast_opt *o, void *Wv, const void *Gv, double eta,
                                const fast_oracle *oracle)
{
    (void)oracle;
    real *W = Wv;
    const real *G = Gv;
    FN(eb_work) *w = FN(eb_work_get)(o);
    if (w == NULL)
        return optref_fail(OPTREF_ENOMEM, "soap: cannot allocate the workspace");
    FN(eb_state) E;
    FN(eb_state_get)(&E, o);
    if (E.ready[0] == 0) {
        optref_status st = FN(eb_first_call)(o, &E, w, G);
        if (st != OPTREF_OK || !MUTANT("soap-first-call-not-skipped"))
            return st;
    }
    real *M = fast_opt_state(o, "M")->data, *V = fast_opt_state(o, "V")->data;
    const real b1 = R_SCALAR(fast_opt_real(o, "beta1")), b2 = R_SCALAR(fast_opt_real(o, "beta2"));
    const real w1 = R_SCALAR(1.0 - fast_opt_real(o, "beta1"));
    const real w2 = R_SCALAR(1.0 - fast_opt_real(o, "beta2"));
    const real eps = R_SCALAR(fast_opt_real(o, "eps"));
    const size_t count = o->m * o->n;
    real *X = w->X;
    FN(eb_project)(&E, w, X, G);               /* 1 */
    unsigned long k = FN(eb_count)(&E);        /* 2 */
    for (size_t i = 0; i < count; i++)         /* 3, 4: X <- N */
        X[i] = FN(fast_soap_moments)(&M[i], &V[i], X[i], b1, w1, b2, w2, eps);
    FN(eb_project_back)(&E, w, w->Y, X);       /* 6 */
    FN(eb_apply_update)(o, W, w->Y, eta, k);   /* 5, 6 (normalize), 7, 8 */
    return FN(eb_after_update)(o, &E, w, G, M, V, o->n, V, o->m); /* 9 */
}
