/* shampoo on the CPU (spec/optimizers.md section 2 shampoo), the order of
 * ref/optim/shampoo.c:
 * 1. L <- L + G G^T (beta = 0) or beta L + (1 - beta) G G^T; likewise R.
 * 2. If (t - 1) mod f = 0: PL = Q diag((max(lambda, 0) + eps)^(-1/4)) Q^T
 *    (syevd; the product (Q diag) Q^T by GEMM); likewise PR.
 * 3. W <- W - eta (PL G) PR. */
#include <stdlib.h>
#include <string.h>

#include "eigenbasis.h"

#include "../mutants.h"

#if FAST_REAL_BITS == 64
#define R_SYRK cblas_dsyrk
#define R_POW pow
#else
#define R_SYRK cblas_ssyrk
#define R_POW powf
#endif

typedef struct {
    int ready;
    FN(eb_side) left, right;
    real *S, *D, *T; /* max(m, n)^2, m x n, m x n */
} FN(shampoo_work);

static void FN(shampoo_work_free)(void *p)
{
    FN(shampoo_work) *w = p;
    FN(eb_side_free)(&w->left), FN(eb_side_free)(&w->right);
    free(w->S), free(w->D), free(w->T);
    free(w);
}

static FN(shampoo_work) *FN(shampoo_work_get)(fast_opt *o)
{
    FN(shampoo_work) *w = fast_work(o, sizeof *w, FN(shampoo_work_free));
    if (w == NULL || w->ready)
        return w;
    size_t k = o->m > o->n ? o->m : o->n, mn = o->m * o->n;
    w->S = malloc(k * k * sizeof(real));
    w->D = malloc(mn * sizeof(real)), w->T = malloc(mn * sizeof(real));
    if (w->S == NULL || w->D == NULL || w->T == NULL ||
        FN(eb_side_init)(&w->left, o->m) != OPTREF_OK ||
        FN(eb_side_init)(&w->right, o->n) != OPTREF_OK)
        return NULL;
    w->ready = 1;
    return w;
}

/* Step 1 on one side (k x k): P <- P + GG or beta P + (1 - beta) GG. */
static void FN(accumulate)(real *P, const real *G, size_t m, size_t n, int right, double beta,
                           real *S)
{
    size_t k = right ? n : m;
    if (right)
        R_SYRK(CblasRowMajor, CblasUpper, CblasTrans, (int)n, (int)m, 1, G, (int)n, 0, S, (int)n);
    else
        R_SYRK(CblasRowMajor, CblasUpper, CblasNoTrans, (int)m, (int)n, 1, G, (int)n, 0, S,
               (int)m);
    const real b = R_SCALAR(beta), w = R_SCALAR(1.0 - beta);
    for (size_t i = 0; i < k; i++)
        for (size_t j = i; j < k; j++) {
            real p = beta == 0 ? P[i * k + j] + S[i * k + j] : b * P[i * k + j] + w * S[i * k + j];
            P[i * k + j] = P[j * k + i] = p;
        }
}

/* Step 2 on one side: Pinv = Q diag((max(w, 0) + eps)^(-1/4)) Q^T. */
static optref_status FN(inv_root)(real *Pinv, const real *P, real eps, FN(eb_side) *s)
{
    size_t n = s->n;
    real *Q = s->B, *QD = s->C, *w = s->e;
    optref_status st = FN(eb_sym_eigh)(Q, w, P, s);
    if (st != OPTREF_OK)
        return st;
    const real expo = R_SCALAR(MUTANT("shampoo-inverse-square-root") ? -0.5 : -0.25);
    for (size_t j = 0; j < n; j++) {
        real x = (w[j] > 0 ? w[j] : 0) + eps;
        if (!(x > 0))
            return optref_fail(OPTREF_EINVAL, "shampoo: eigenvalue %zu is %g and eps = %g: "
                               "the inverse fourth root does not exist", j, (double)w[j],
                               (double)eps);
        w[j] = R_POW(x, expo);
    }
    for (size_t i = 0; i < n; i++) /* Q diag(f), row-major */
        for (size_t j = 0; j < n; j++)
            QD[i * n + j] = Q[i * n + j] * w[j];
    R_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)n, 1, QD, (int)n, Q,
           (int)n, 0, Pinv, (int)n);
    return OPTREF_OK;
}

optref_status FN(cpu_shampoo_step)(fast_opt *o, void *Wv, const void *Gv, double eta,
                                   const fast_oracle *oracle)
{
    (void)oracle;
    real *W = Wv;
    const real *G = Gv;
    FN(shampoo_work) *w = FN(shampoo_work_get)(o);
    if (w == NULL)
        return optref_fail(OPTREF_ENOMEM, "shampoo: cannot allocate the workspace");
    real *L = fast_opt_state(o, "L")->data, *R = fast_opt_state(o, "R")->data;
    real *PL = fast_opt_state(o, "PL")->data, *PR = fast_opt_state(o, "PR")->data;
    const double beta = fast_opt_real(o, "beta");
    const real eps = R_SCALAR(fast_opt_real(o, "eps")), lr = R_SCALAR(eta);
    const uint64_t f = (uint64_t)fast_opt_int(o, "update_freq");
    const size_t m = o->m, n = o->n, count = m * n;
    FN(accumulate)(L, G, m, n, 0, beta, w->S); /* 1 */
    FN(accumulate)(R, G, m, n, 1, beta, w->S);
    optref_status st = OPTREF_OK;
    if ((o->t - 1) % f == 0) { /* 2 */
        st = FN(inv_root)(PL, L, eps, &w->left);
        if (st == OPTREF_OK)
            st = FN(inv_root)(PR, R, eps, &w->right);
    }
    if (st != OPTREF_OK)
        return st;
    /* 3: D = (PL G) PR */
    R_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)m, 1, PL, (int)m, G,
           (int)n, 0, w->T, (int)n);
    R_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)n, (int)n, 1, w->T, (int)n, PR,
           (int)n, 0, w->D, (int)n);
    for (size_t i = 0; i < count; i++)
        W[i] -= lr * w->D[i];
    return OPTREF_OK;
}
