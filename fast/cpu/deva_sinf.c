/* deva-sinf and its variants on the CPU (spec/optimizers.md section 2
 * deva-sinf; DeVA optimizers/deva.py), the order of ref/optim/deva_sinf.c with
 * the machinery of eigenbasis.c and msign.c. One step, four variants:
 * First call: the 1.2 first-call rule (no update). Later calls:
 * 1. G' = project(G). 2. k <- k + 1. 3. M <- lerp(M, G', 1 - beta1).
 * 4. r_i, c_j: row and column norms of M (ins: of G').
 * 5. V <- beta2 V + (1 - beta2) r c^T (fact: nu_r, nu_c <- lerp(., sums of G'^2, 1 - beta2)).
 * 6. N <- lerp(G', M, beta1) or M (sign, fact: sign(N)). 7. O <- msign(N).
 * 8. Gamma_ij = sqrt(r_i) sqrt(c_j) / sqrt(V_ij + eps)
 *    (fact: sqrt(r_i / sqrt(nu_r,i + eps)) sqrt(c_j / sqrt(nu_c,j + eps))).
 * 9. U' = (0.2 sqrt(max(m, n)) O) . Gamma. 10.-13. the update tail on
 * U = project_back(U'). 14. the refresh (V, or nu_r and nu_c, permuted).
 * ns_dtype = bf16 is refused [decision, as fast/cpu/muon.c]: the bf16 model
 * is the reference's model of bf16 ports, not this backend's arithmetic. */
#include <stdlib.h>
#include <string.h>

#include "eigenbasis.h"
#include "msign.h"

#include "../common/eigenbasis_elem.h"
#include "../common/elementwise.h"
#include "../mutants.h"

typedef enum { DEVA_PLAIN, DEVA_SIGN, DEVA_INS, DEVA_FACT } FN(deva_variant);

/* The workspace: the machinery's, msign's, and r, c (and fact's sums). */
typedef struct {
    FN(eb_work) eb;
    FN(msign_ws) ns;
    real *r, *c, *sr, *sc; /* m, n, m, n */
} FN(deva_work);

static void FN(deva_work_free)(void *p)
{
    FN(deva_work) *w = p;
    FN(eb_work_release)(&w->eb);
    FN(msign_ws_free)(&w->ns);
    free(w->r), free(w->c), free(w->sr), free(w->sc);
    free(w);
}

static FN(deva_variant) FN(variant_of)(const char *name)
{
    if (strcmp(name, "deva-sinf-sign") == 0)
        return DEVA_SIGN;
    if (strcmp(name, "deva-sinf-ins") == 0)
        return DEVA_INS;
    if (strcmp(name, "deva-sinf-fact") == 0)
        return DEVA_FACT;
    return DEVA_PLAIN;
}

/* x[a] = sum of squares of row a (cols = 0) or column a (cols = 1) of the
 * m x n A, summed in index order; with root, then its sqrt. */
static void FN(axis_sumsq)(real *x, const real *A, size_t m, size_t n, int cols, int root)
{
    if (cols) {
        for (size_t j = 0; j < n; j++)
            x[j] = 0;
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++)
                x[j] += A[i * n + j] * A[i * n + j];
    } else {
        for (size_t i = 0; i < m; i++) {
            real s = 0;
            for (size_t j = 0; j < n; j++)
                s += A[i * n + j] * A[i * n + j];
            x[i] = s;
        }
    }
    if (root)
        for (size_t a = 0; a < (cols ? n : m); a++)
            x[a] = R_SQRT(x[a]);
}

/* Gamma's factor per row or column: sqrt(r), or sqrt(r / sqrt(nu + eps)) (fact). */
static void FN(gamma_factor)(real *r, const real *nu, size_t len, real eps)
{
    const int outside = MUTANT("deva-sinf-fact-eps-outside-sqrt");
    for (size_t i = 0; i < len; i++) {
        real x = r[i];
        if (nu != NULL)
            x = FN(fast_div0)(x, outside ? R_SQRT(nu[i]) + eps : R_SQRT(nu[i] + eps));
        r[i] = R_SQRT(x);
    }
}

optref_status FN(cpu_deva_sinf_step)(fast_opt *o, void *Wv, const void *Gv, double eta,
                                     const fast_oracle *oracle)
{
    (void)oracle;
    const char *name = o->info->name;
    if (strcmp(fast_opt_text(o, "ns_dtype"), "exact") != 0)
        return optref_fail(OPTREF_EINVAL, "%s: backend %s runs Newton-Schulz in its own format; "
                           "ns_dtype=bf16 (the reference's model of bf16 ports) is not "
                           "implemented here: use ns_dtype=exact", name,
                           fast_backend_name(o->backend));
    const size_t m = o->m, n = o->n, count = m * n;
    FN(deva_work) *dw = fast_work(o, sizeof *dw, FN(deva_work_free));
    if (dw != NULL && dw->r == NULL) {
        dw->r = malloc(m * sizeof(real)), dw->sr = malloc(m * sizeof(real));
        dw->c = malloc(n * sizeof(real)), dw->sc = malloc(n * sizeof(real));
    }
    if (dw == NULL || !dw->r || !dw->sr || !dw->c || !dw->sc)
        return optref_fail(OPTREF_ENOMEM, "%s: cannot allocate the workspace", name);
    optref_status st = FN(eb_work_init)(&dw->eb, o);
    if (st != OPTREF_OK)
        return st;
    FN(eb_work) *w = &dw->eb;
    real *W = Wv;
    const real *G = Gv;
    FN(eb_state) E;
    FN(eb_state_get)(&E, o);
    if (E.ready[0] == 0)
        return FN(eb_first_call)(o, &E, w, G);
    const FN(deva_variant) var = FN(variant_of)(name);
    const int fact = var == DEVA_FACT;
    real *M = fast_opt_state(o, "M")->data, *Gamma = fast_opt_state(o, "Gamma")->data;
    real *V = fact ? NULL : fast_opt_state(o, "V")->data;
    real *nr = fact ? fast_opt_state(o, "nu_r")->data : NULL;
    real *nc = fact ? fast_opt_state(o, "nu_c")->data : NULL;
    const double beta1 = fast_opt_real(o, "beta1"), beta2 = fast_opt_real(o, "beta2");
    const real b1 = R_SCALAR(beta1), w1 = R_SCALAR(1.0 - beta1);
    const real b2 = R_SCALAR(beta2), w2 = R_SCALAR(1.0 - beta2);
    const real eps = R_SCALAR(fast_opt_real(o, "eps"));
    const real s = R_SCALAR(0.2 * sqrt((double)(m > n ? m : n)));
    real *X = w->X, *r = dw->r, *c = dw->c;
    FN(eb_project)(&E, w, X, G);                          /* 1: G' */
    unsigned long k = FN(eb_count)(&E);                   /* 2 */
    for (size_t i = 0; i < count; i++)                    /* 3 */
        M[i] = FN(fast_lerp)(M[i], X[i], w1);
    const int ins = var == DEVA_INS && !MUTANT("deva-sinf-ins-norms-of-m");
    const real *src = ins ? X : M;                        /* 4 */
    FN(axis_sumsq)(r, src, m, n, 0, 1);
    FN(axis_sumsq)(c, src, m, n, 1, 1);
    if (fact) {                                           /* 5 (fact) */
        FN(axis_sumsq)(dw->sr, X, m, n, 0, 0);
        FN(axis_sumsq)(dw->sc, X, m, n, 1, 0);
        for (size_t i = 0; i < m; i++)
            nr[i] = FN(fast_lerp)(nr[i], dw->sr[i], w2);
        for (size_t j = 0; j < n; j++)
            nc[j] = FN(fast_lerp)(nc[j], dw->sc[j], w2);
    } else {                                              /* 5 */
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++)
                V[i * n + j] = FN(fast_deva_v)(V[i * n + j], r[i], c[j], b2, w2);
    }
    const int nesterov = fast_opt_bool(o, "nesterov");    /* 6: N into X */
    const int sgn = (var == DEVA_SIGN && !MUTANT("deva-sinf-sign-sign-dropped")) || fact;
    for (size_t i = 0; i < count; i++) {
        real x = nesterov ? FN(fast_lerp)(X[i], M[i], b1) : M[i];
        X[i] = sgn ? FN(fast_sign)(x) : x;
    }
    st = FN(cpu_msign)(&dw->ns, X, X, m, n,               /* 7 */
                                     msign_method_of(fast_opt_text(o, "ns")),
                                     fast_opt_int(o, "ns_steps"), name);
    if (st != OPTREF_OK)
        return st;
    FN(gamma_factor)(r, nr, m, eps);                      /* 8 */
    FN(gamma_factor)(c, nc, n, eps);
    const int no_sqrt = MUTANT("deva-sinf-gamma-denominator-no-sqrt");
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            size_t q = i * n + j;
            real g;
            if (fact)
                g = r[i] * c[j];
            else if (no_sqrt)
                g = FN(fast_div0)(r[i] * c[j], V[q] + eps);
            else
                g = FN(fast_deva_gamma)(r[i], c[j], V[q], eps);
            Gamma[q] = g;
            X[q] = (s * X[q]) * g;                        /* 9: U' */
        }
    FN(eb_project_back)(&E, w, w->Y, X);                  /* 11 */
    FN(eb_apply_update)(o, W, w->Y, eta, k);              /* 10, 12, 13 */
    if (fact)                                             /* 14 */
        return FN(eb_after_update)(o, &E, w, G, M, nr, 1, nc, 1);
    return FN(eb_after_update)(o, &E, w, G, M, V, n, V, m);
}
