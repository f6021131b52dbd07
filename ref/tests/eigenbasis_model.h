/* The tests' own model of the eigenbasis optimizers (spec/optimizers.md 1.2,
 * soap, deva-sinf and its variants), written apart from ref/optim/eigenbasis.c,
 * soap.c and deva_sinf.c, and shared by t-eigenbasis.c, t-opt_soap.c and
 * t-opt_deva_sinf.c. Plain MPFR at HI_PREC (opt_harness.h): triple-loop
 * products with mpfr_mul / mpfr_add (model_mul_op of msign_model.h: no fma,
 * no correctly rounded dots), lerp written as (1 - w) a + w b, the QR of the
 * refresh by modified Gram-Schmidt (twice) instead of Householder, a stable
 * insertion sort, and msign from msign_model.h. The only input taken from
 * the implementation is the basis of the first call (mpmat_eigh, tested in
 * t-mpmat_eigh.c and checked here to be a canonical eigenbasis of the
 * model's L and R): it is copied into the model by ebm_take_first_basis.
 * Static inline so that a test that uses part of it does not warn. */
#ifndef OPTREF_TEST_EIGENBASIS_MODEL_H
#define OPTREF_TEST_EIGENBASIS_MODEL_H

#include <stdlib.h>
#include <string.h>

#include "msign_model.h"
#include "opt_harness.h"

typedef enum { EBM_SOAP, EBM_DEVA, EBM_DEVA_SIGN, EBM_DEVA_INS, EBM_DEVA_FACT } ebm_variant;

typedef struct {
    ebm_variant var;
    size_t m, n;
    int rot_left, rot_right; /* the side is at most max_precond_dim */
    mpmat_t M, V, nu_r, nu_c, Gamma, L, R, QL, QR;
    unsigned long k;
    int ready;
    long double kappa; /* the largest column-scaled condition number of this call's QRs */
    mpfr_t beta1, beta2, sb, eps, wd;
    unsigned long f;
    int correct_bias, normalize, nesterov, bf16;
    const char *ns;
    long ns_steps;
} ebm;

/* Options of a model (NULL: the spec default). */
typedef struct {
    const char *beta1, *beta2, *shampoo_beta, *eps, *wd;
    unsigned long f, max_dim;
    int correct_bias, normalize, nesterov, bf16;
} ebm_opts;

static inline ebm_opts ebm_defaults(void)
{
    ebm_opts d = {"0.95", "0.95", NULL, "1e-8", "0.01", 10, 10000, 1, 0, 1, 0};
    return d;
}

/* The option strings for ref_opt_create (buf: 10 x 64 chars); returns their count. */
static inline size_t ebm_option_strings(const ebm_opts *p, char buf[][64], const char **opts)
{
    size_t k = 0;
    snprintf(buf[k++], 64, "beta1=%s", p->beta1);
    snprintf(buf[k++], 64, "beta2=%s", p->beta2);
    if (p->shampoo_beta != NULL)
        snprintf(buf[k++], 64, "shampoo_beta=%s", p->shampoo_beta);
    snprintf(buf[k++], 64, "eps=%s", p->eps);
    snprintf(buf[k++], 64, "weight_decay=%s", p->wd);
    snprintf(buf[k++], 64, "precondition_frequency=%lu", p->f);
    snprintf(buf[k++], 64, "max_precond_dim=%lu", p->max_dim);
    snprintf(buf[k++], 64, "correct_bias=%s", p->correct_bias ? "true" : "false");
    snprintf(buf[k++], 64, "normalize_grads=%s", p->normalize ? "true" : "false");
    for (size_t i = 0; i < k; i++)
        opts[i] = buf[i];
    return k;
}

/* The deva-only options (nesterov, ns_dtype), appended. */
static inline size_t ebm_deva_strings(const ebm_opts *p, char buf[][64], const char **opts,
                                      size_t k)
{
    snprintf(buf[k], 64, "nesterov=%s", p->nesterov ? "true" : "false");
    opts[k] = buf[k], k++;
    snprintf(buf[k], 64, "ns_dtype=%s", p->bf16 ? "bf16" : "exact");
    opts[k] = buf[k], k++;
    return k;
}

static inline void ebm_init(ebm *s, ebm_variant var, size_t m, size_t n, const ebm_opts *p)
{
    memset(s, 0, sizeof *s);
    s->var = var, s->m = m, s->n = n;
    s->rot_left = m <= p->max_dim, s->rot_right = n <= p->max_dim;
    size_t ml = s->rot_left ? m : 0, nr = s->rot_right ? n : 0;
    TEST_OK(mpmat_init(s->M, m, n, HI_PREC));
    TEST_OK(mpmat_init(s->V, m, n, HI_PREC));
    TEST_OK(mpmat_init(s->nu_r, m, 1, HI_PREC));
    TEST_OK(mpmat_init(s->nu_c, 1, n, HI_PREC));
    TEST_OK(mpmat_init(s->Gamma, m, n, HI_PREC));
    for (size_t i = 0; i < m * n; i++)
        mpfr_set_ui(s->Gamma->e + i, 1, MPFR_RNDN);
    TEST_OK(mpmat_init(s->L, ml, ml, HI_PREC));
    TEST_OK(mpmat_init(s->R, nr, nr, HI_PREC));
    TEST_OK(mpmat_init(s->QL, ml, ml, HI_PREC));
    TEST_OK(mpmat_init(s->QR, nr, nr, HI_PREC));
    mpfr_inits2(HI_PREC, s->beta1, s->beta2, s->sb, s->eps, s->wd, (mpfr_ptr)0);
    set_b64(s->beta1, p->beta1), set_b64(s->beta2, p->beta2);
    set_b64(s->sb, p->shampoo_beta != NULL ? p->shampoo_beta : p->beta2);
    set_b64(s->eps, p->eps), set_b64(s->wd, p->wd);
    s->f = p->f, s->correct_bias = p->correct_bias, s->normalize = p->normalize;
    s->nesterov = p->nesterov, s->bf16 = p->bf16;
    s->ns = "ns-deva", s->ns_steps = 5;
}

static inline void ebm_clear(ebm *s)
{
    mpmat_clear(s->M), mpmat_clear(s->V), mpmat_clear(s->nu_r), mpmat_clear(s->nu_c);
    mpmat_clear(s->Gamma), mpmat_clear(s->L), mpmat_clear(s->R), mpmat_clear(s->QL);
    mpmat_clear(s->QR);
    mpfr_clears(s->beta1, s->beta2, s->sb, s->eps, s->wd, (mpfr_ptr)0);
}

/* X <- QL^T X QR (back = 0) or QL X QR^T (back = 1); an unrotated side is I. */
static inline void ebm_rotate(const ebm *s, mpmat_ptr X, int back)
{
    mpmat_t T;
    TEST_OK(mpmat_init(T, s->m, s->n, HI_PREC));
    if (s->rot_left) {
        model_mul_op(T, s->QL, !back, X, 0);
        mpmat_set(X, T);
    }
    if (s->rot_right) {
        model_mul_op(T, X, 0, s->QR, back);
        mpmat_set(X, T);
    }
    mpmat_clear(T);
}

/* P <- sb P + (1 - sb) G G^T (right: G^T G). */
static inline void ebm_factor(const ebm *s, mpmat_ptr P, mpmat_srcptr G, int right)
{
    if (P->rows == 0)
        return;
    mpmat_t GG;
    TEST_OK(mpmat_init(GG, P->rows, P->cols, HI_PREC));
    model_mul_op(GG, G, right, G, !right);
    mpfr_t w, t;
    mpfr_inits2(HI_PREC, w, t, (mpfr_ptr)0);
    mpfr_ui_sub(w, 1, s->sb, MPFR_RNDN);
    for (size_t i = 0; i < P->rows * P->cols; i++) {
        mpfr_mul(P->e + i, P->e + i, s->sb, MPFR_RNDN);
        mpfr_mul(t, w, GG->e + i, MPFR_RNDN);
        mpfr_add(P->e + i, P->e + i, t, MPFR_RNDN);
    }
    mpfr_clears(w, t, (mpfr_ptr)0);
    mpmat_clear(GG);
}

/* tol = 2^(-p/2) ||P||_F at the implementation's precision p = LO_PREC. */
static inline void ebm_tol(mpfr_ptr tol, mpmat_srcptr P)
{
    mpmat_norm_fro(tol, P);
    mpfr_mul_2si(tol, tol, -LO_PREC / 2, MPFR_RNDN);
}

/* Makes column j's largest-magnitude entry positive (first on ties). */
static inline void ebm_sign_column(mpmat_ptr Q, size_t j)
{
    size_t b = 0;
    for (size_t i = 1; i < Q->rows; i++)
        if (mpfr_cmpabs(mpmat_entry(Q, i, j), mpmat_entry(Q, b, j)) > 0)
            b = i;
    if (mpfr_sgn(mpmat_entry(Q, b, j)) < 0)
        for (size_t i = 0; i < Q->rows; i++)
            mpfr_neg(mpmat_entry(Q, i, j), mpmat_entry(Q, i, j), MPFR_RNDN);
}

/* v (row r of K, n entries) <- v - sum_q (q . v) q over rows q < nk, twice;
 * returns ||v||^2. */
static inline void ebm_orth(mpmat_ptr K, size_t r, size_t nk, mpfr_ptr nrm2)
{
    size_t n = K->cols;
    mpfr_t d, t;
    mpfr_inits2(HI_PREC, d, t, (mpfr_ptr)0);
    for (int pass = 0; pass < 2; pass++)
        for (size_t q = 0; q < nk; q++) {
            mpfr_set_zero(d, 1);
            for (size_t i = 0; i < n; i++) {
                mpfr_mul(t, mpmat_entry(K, q, i), mpmat_entry(K, r, i), MPFR_RNDN);
                mpfr_add(d, d, t, MPFR_RNDN);
            }
            for (size_t i = 0; i < n; i++) {
                mpfr_mul(t, d, mpmat_entry(K, q, i), MPFR_RNDN);
                mpfr_sub(mpmat_entry(K, r, i), mpmat_entry(K, r, i), t, MPFR_RNDN);
            }
        }
    mpfr_set_zero(nrm2, 1);
    for (size_t i = 0; i < n; i++) {
        mpfr_mul(t, mpmat_entry(K, r, i), mpmat_entry(K, r, i), MPFR_RNDN);
        mpfr_add(nrm2, nrm2, t, MPFR_RNDN);
    }
    mpfr_clears(d, t, (mpfr_ptr)0);
}

/* The conditioning of the QR of the kept columns a_pos[c] (c < nk) with Q's
 * rows in K: R_rc = q_r . a_c (upper triangular); returns
 * ||R||_F ||R^-1||_F / nk >= 1, the normwise condition number of the kept
 * columns: it bounds how much a perturbation of A of relative size u moves Q
 * (Householder's columnwise backward error, and the rounding of the factor P
 * itself, which is normwise and so relatively large in P's small columns). */
static inline long double ebm_qr_kappa(mpmat_srcptr K, size_t nk, mpmat_srcptr A,
                                       const size_t *pos)
{
    if (nk == 0)
        return 1;
    size_t n = A->rows;
    mpmat_t T, U;
    TEST_OK(mpmat_init(T, nk, nk, 128));
    TEST_OK(mpmat_init(U, nk, nk, 128));
    mpfr_t d, t, nrm;
    mpfr_inits2(HI_PREC, d, t, nrm, (mpfr_ptr)0);
    for (size_t c = 0; c < nk; c++) {
        mpfr_set_ui(nrm, 1, MPFR_RNDN);
        for (size_t r = 0; r <= c; r++) {
            mpfr_set_zero(d, 1);
            for (size_t i = 0; i < n; i++)
                mpfr_mul(t, mpmat_entry(K, r, i), mpmat_entry(A, i, pos[c]), MPFR_RNDN),
                    mpfr_add(d, d, t, MPFR_RNDN);
            mpfr_div(mpmat_entry(T, r, c), d, nrm, MPFR_RNDN);
        }
    }
    for (size_t c = 0; c < nk; c++) /* U = T^-1, column c: T u = e_c, back substitution */
        for (size_t r = c + 1; r-- > 0;) {
            mpfr_set_ui(d, r == c, MPFR_RNDN);
            for (size_t l = r + 1; l <= c; l++)
                mpfr_mul(t, mpmat_entry(T, r, l), mpmat_entry(U, l, c), MPFR_RNDN),
                    mpfr_sub(d, d, t, MPFR_RNDN);
            mpfr_div(mpmat_entry(U, r, c), d, mpmat_entry(T, r, r), MPFR_RNDN);
        }
    mpmat_norm_fro(d, T);
    mpmat_norm_fro(t, U);
    mpfr_mul(d, d, t, MPFR_RNDN);
    mpfr_div_ui(d, d, nk, MPFR_RNDN);
    long double k = mpfr_get_ld(d, MPFR_RNDN);
    mpfr_clears(d, t, nrm, (mpfr_ptr)0);
    mpmat_clear(T), mpmat_clear(U);
    return k < 1 ? 1 : k;
}

/* The canonical Q factor of spec 1.2 by Gram-Schmidt: column j of A is kept
 * when its distance from the span of the kept earlier columns exceeds tol;
 * the others get, in order, the Gram-Schmidt of e_1, e_2, ... against every
 * column so far (skipped below 1/(2 sqrt(n))); then every column is made
 * sign-canonical. Q and A are n x n (Q may be at another precision). */
static inline void ebm_qr_canonical(mpmat_ptr Q, mpmat_srcptr A, mpfr_srcptr tol,
                                    long double *kappa)
{
    size_t n = A->rows, nk = 0;
    mpmat_t K; /* kept vectors as rows, then the completion */
    TEST_OK(mpmat_init(K, n + 1, n, HI_PREC));
    size_t *pos = malloc(n * sizeof *pos);
    char *kept = calloc(n, 1);
    mpfr_t nrm2, t2;
    mpfr_inits2(HI_PREC, nrm2, t2, (mpfr_ptr)0);
    mpfr_sqr(t2, tol, MPFR_RNDN);
    for (size_t j = 0; j < n; j++) {
        for (size_t i = 0; i < n; i++)
            mpfr_set(mpmat_entry(K, nk, i), mpmat_entry(A, i, j), MPFR_RNDN);
        ebm_orth(K, nk, nk, nrm2);
        if (mpfr_cmp(nrm2, t2) > 0) {
            mpfr_sqrt(nrm2, nrm2, MPFR_RNDN);
            for (size_t i = 0; i < n; i++)
                mpfr_div(mpmat_entry(K, nk, i), mpmat_entry(K, nk, i), nrm2, MPFR_RNDN);
            pos[nk++] = j, kept[j] = 1;
        }
    }
    size_t nkept = nk;
    if (kappa != NULL)
        *kappa = ebm_qr_kappa(K, nkept, A, pos);
    for (size_t e = 0; e < n && nk < n; e++) { /* completion */
        for (size_t i = 0; i < n; i++)
            mpfr_set_ui(mpmat_entry(K, nk, i), i == e, MPFR_RNDN);
        ebm_orth(K, nk, nk, nrm2);
        mpfr_mul_ui(t2, nrm2, 4 * n, MPFR_RNDN);
        if (mpfr_cmp_ui(t2, 1) >= 0) {
            mpfr_sqrt(nrm2, nrm2, MPFR_RNDN);
            for (size_t i = 0; i < n; i++)
                mpfr_div(mpmat_entry(K, nk, i), mpmat_entry(K, nk, i), nrm2, MPFR_RNDN);
            nk++;
        }
    }
    ck_assert_uint_eq(nk, n);
    for (size_t j = 0, c = nkept; j < n; j++)
        if (!kept[j])
            pos[c++] = j;
    for (size_t r = 0; r < n; r++) {
        for (size_t i = 0; i < n; i++)
            mpfr_set(mpmat_entry(Q, i, pos[r]), mpmat_entry(K, r, i), MPFR_RNDN);
        ebm_sign_column(Q, pos[r]);
    }
    mpfr_clears(nrm2, t2, (mpfr_ptr)0);
    free(pos), free(kept);
    mpmat_clear(K);
}

/* pi = the stable descending order of e[0..n) (insertion sort). */
static inline void ebm_argsort_desc(size_t *pi, mpmat_srcptr e)
{
    size_t n = e->rows;
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && mpfr_cmp(e->e + pi[j - 1], e->e + i) < 0) {
            pi[j] = pi[j - 1];
            j--;
        }
        pi[j] = i;
    }
}

/* Refresh of one side: P, Q, and the moment X permuted along rows (right = 0)
 * or columns (right = 1). pi_out (may be NULL) receives the permutation. */
static inline void ebm_refresh_side(mpmat_srcptr P, mpmat_ptr Q, mpmat_ptr X, int right,
                                    size_t *pi_out, long double *kappa)
{
    size_t n = P->rows;
    if (n == 0)
        return;
    mpmat_t PQ, e, A, Y;
    TEST_OK(mpmat_init(PQ, n, n, HI_PREC));
    TEST_OK(mpmat_init(e, n, 1, HI_PREC));
    TEST_OK(mpmat_init(A, n, n, HI_PREC));
    TEST_OK(mpmat_init(Y, X->rows, X->cols, HI_PREC));
    mpmat_t QtPQ;
    TEST_OK(mpmat_init(QtPQ, n, n, HI_PREC));
    model_mul_op(PQ, P, 0, Q, 0);
    model_mul_op(QtPQ, Q, 1, PQ, 0);
    for (size_t j = 0; j < n; j++)
        mpfr_set(e->e + j, mpmat_entry(QtPQ, j, j), MPFR_RNDN);
    size_t *pi = malloc(n * sizeof *pi);
    ebm_argsort_desc(pi, e);
    for (size_t i = 0; i < X->rows; i++)
        for (size_t j = 0; j < X->cols; j++)
            mpfr_set(mpmat_entry(Y, i, j),
                     right ? mpmat_entry(X, i, pi[j]) : mpmat_entry(X, pi[i], j), MPFR_RNDN);
    mpmat_set(X, Y);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            mpfr_set(mpmat_entry(A, i, j), mpmat_entry(PQ, i, pi[j]), MPFR_RNDN);
    mpfr_t tol;
    mpfr_init2(tol, HI_PREC);
    ebm_tol(tol, P);
    long double k = 1;
    ebm_qr_canonical(Q, A, tol, &k);
    if (kappa != NULL && k > *kappa)
        *kappa = k;
    if (pi_out != NULL)
        memcpy(pi_out, pi, n * sizeof *pi);
    mpfr_clear(tol);
    free(pi);
    mpmat_clear(PQ), mpmat_clear(e), mpmat_clear(A), mpmat_clear(Y), mpmat_clear(QtPQ);
}

/* r = sqrt of the sums of squares of each row (cols = 0) or column of X; no
 * sqrt when root = 0. */
static inline void ebm_axis(mpmat_ptr r, mpmat_srcptr X, int cols, int root)
{
    mpfr_t t;
    mpfr_init2(t, HI_PREC);
    size_t count = cols ? X->cols : X->rows, len = cols ? X->rows : X->cols;
    for (size_t a = 0; a < count; a++) {
        mpfr_set_zero(r->e + a, 1);
        for (size_t b = 0; b < len; b++) {
            mpfr_srcptr x = cols ? mpmat_entry(X, b, a) : mpmat_entry(X, a, b);
            mpfr_mul(t, x, x, MPFR_RNDN);
            mpfr_add(r->e + a, r->e + a, t, MPFR_RNDN);
        }
        if (root)
            mpfr_sqrt(r->e + a, r->e + a, MPFR_RNDN);
    }
    mpfr_clear(t);
}

/* x <- a x + (1 - a) y, written out. */
static inline void ebm_ema(mpfr_ptr x, mpfr_srcptr a, mpfr_srcptr y)
{
    mpfr_t w, t;
    mpfr_inits2(HI_PREC, w, t, (mpfr_ptr)0);
    mpfr_ui_sub(w, 1, a, MPFR_RNDN);
    mpfr_mul(t, w, y, MPFR_RNDN);
    mpfr_mul(x, a, x, MPFR_RNDN);
    mpfr_add(x, x, t, MPFR_RNDN);
    mpfr_clears(w, t, (mpfr_ptr)0);
}

/* soap steps 3-4: X (G') <- N = M / (sqrt(V) + eps). */
static inline void ebm_inner_soap(ebm *s, mpmat_ptr X)
{
    mpfr_t g2, d;
    mpfr_inits2(HI_PREC, g2, d, (mpfr_ptr)0);
    for (size_t i = 0; i < s->m * s->n; i++) {
        ebm_ema(s->M->e + i, s->beta1, X->e + i);
        mpfr_mul(g2, X->e + i, X->e + i, MPFR_RNDN);
        ebm_ema(s->V->e + i, s->beta2, g2);
        mpfr_sqrt(d, s->V->e + i, MPFR_RNDN);
        mpfr_add(d, d, s->eps, MPFR_RNDN);
        if (mpfr_zero_p(d)) /* eps = 0 and V = 0: M = 0, and 0/0 = 0 */
            mpfr_set_zero(X->e + i, 1);
        else
            mpfr_div(X->e + i, s->M->e + i, d, MPFR_RNDN);
    }
    mpfr_clears(g2, d, (mpfr_ptr)0);
}

/* deva-sinf steps 3-9: X (G') <- U' = 0.2 sqrt(max(m, n)) O . Gamma. */
static inline void ebm_inner_deva(ebm *s, mpmat_ptr X)
{
    size_t m = s->m, n = s->n;
    mpmat_t r, c, N, O;
    TEST_OK(mpmat_init(r, m, 1, HI_PREC));
    TEST_OK(mpmat_init(c, 1, n, HI_PREC));
    TEST_OK(mpmat_init(N, m, n, HI_PREC));
    TEST_OK(mpmat_init(O, m, n, HI_PREC));
    for (size_t i = 0; i < m * n; i++)
        ebm_ema(s->M->e + i, s->beta1, X->e + i); /* 3 */
    mpmat_srcptr src = s->var == EBM_DEVA_INS ? X : s->M;
    ebm_axis(r, src, 0, 1), ebm_axis(c, src, 1, 1); /* 4 */
    mpfr_t t, u, scale;
    mpfr_inits2(HI_PREC, t, u, scale, (mpfr_ptr)0);
    if (s->var == EBM_DEVA_FACT) {
        mpmat_t sr, sc;
        TEST_OK(mpmat_init(sr, m, 1, HI_PREC));
        TEST_OK(mpmat_init(sc, 1, n, HI_PREC));
        ebm_axis(sr, X, 0, 0), ebm_axis(sc, X, 1, 0);
        for (size_t i = 0; i < m; i++)
            ebm_ema(s->nu_r->e + i, s->beta2, sr->e + i);
        for (size_t j = 0; j < n; j++)
            ebm_ema(s->nu_c->e + j, s->beta2, sc->e + j);
        mpmat_clear(sr), mpmat_clear(sc);
    } else {
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) { /* 5 */
                mpfr_mul(t, r->e + i, c->e + j, MPFR_RNDN);
                ebm_ema(mpmat_entry(s->V, i, j), s->beta2, t);
            }
    }
    for (size_t i = 0; i < m * n; i++) { /* 6: (1 - beta1) G' + beta1 M */
        if (s->nesterov) {
            mpfr_ui_sub(u, 1, s->beta1, MPFR_RNDN);
            mpfr_mul(N->e + i, u, X->e + i, MPFR_RNDN);
            mpfr_mul(t, s->beta1, s->M->e + i, MPFR_RNDN);
            mpfr_add(N->e + i, N->e + i, t, MPFR_RNDN);
        } else {
            mpfr_set(N->e + i, s->M->e + i, MPFR_RNDN);
        }
        if (s->var == EBM_DEVA_SIGN || s->var == EBM_DEVA_FACT)
            mpfr_set_si(N->e + i, mpfr_sgn(N->e + i), MPFR_RNDN);
    }
    if (s->bf16) /* 7 */
        model_msign_bf16(O, N, s->ns, s->ns_steps, NULL);
    else
        model_msign(O, N, s->ns, s->ns_steps, NULL);
    mpfr_sqrt_ui(scale, m > n ? m : n, MPFR_RNDN);
    set_b64(t, "0.2");
    mpfr_mul(scale, scale, t, MPFR_RNDN);
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) { /* 8, 9 */
            mpfr_ptr g = mpmat_entry(s->Gamma, i, j);
            if (s->var == EBM_DEVA_FACT) { /* sqrt(r / sqrt(nu_r + eps)) sqrt(c / ...) */
                mpfr_add(t, s->nu_r->e + i, s->eps, MPFR_RNDN);
                mpfr_sqrt(t, t, MPFR_RNDN);
                if (!mpfr_zero_p(t)) /* else r = 0 too: 0/0 = 0 */
                    mpfr_div(t, r->e + i, t, MPFR_RNDN);
                mpfr_add(u, s->nu_c->e + j, s->eps, MPFR_RNDN);
                mpfr_sqrt(u, u, MPFR_RNDN);
                if (!mpfr_zero_p(u))
                    mpfr_div(u, c->e + j, u, MPFR_RNDN);
                mpfr_mul(g, t, u, MPFR_RNDN);
                mpfr_sqrt(g, g, MPFR_RNDN);
            } else { /* sqrt(r_i c_j / (V_ij + eps)) */
                mpfr_add(u, mpmat_entry(s->V, i, j), s->eps, MPFR_RNDN);
                mpfr_mul(t, r->e + i, c->e + j, MPFR_RNDN);
                if (mpfr_zero_p(u)) /* then r_i c_j = 0: 0/0 = 0 */
                    mpfr_set_zero(g, 1);
                else
                    mpfr_div(g, t, u, MPFR_RNDN);
                mpfr_sqrt(g, g, MPFR_RNDN);
            }
            mpfr_mul(t, mpmat_entry(O, i, j), g, MPFR_RNDN);
            mpfr_mul(mpmat_entry(X, i, j), t, scale, MPFR_RNDN);
        }
    mpfr_clears(t, u, scale, (mpfr_ptr)0);
    mpmat_clear(r), mpmat_clear(c), mpmat_clear(N), mpmat_clear(O);
}

/* One call of the model (opt_model.step): the first call updates L and R
 * only (its basis is taken from the implementation afterwards). */
static inline void ebm_step(void *model, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                            unsigned long t)
{
    ebm *s = model;
    (void)t;
    s->kappa = 1;
    if (!s->ready) {
        ebm_factor(s, s->L, G, 0), ebm_factor(s, s->R, G, 1);
        s->ready = 1;
        return;
    }
    size_t m = s->m, n = s->n;
    mpmat_t X;
    TEST_OK(mpmat_init(X, m, n, HI_PREC));
    mpmat_set(X, G);
    ebm_rotate(s, X, 0); /* G' */
    s->k++;
    if (s->var == EBM_SOAP)
        ebm_inner_soap(s, X);
    else
        ebm_inner_deva(s, X);
    ebm_rotate(s, X, 1); /* U */
    mpfr_t a, b;
    mpfr_inits2(HI_PREC, a, b, (mpfr_ptr)0);
    if (s->normalize) { /* U / (1e-30 + sqrt(mean(U.U))) */
        mpfr_set_zero(a, 1);
        for (size_t i = 0; i < m * n; i++)
            mpfr_mul(b, X->e + i, X->e + i, MPFR_RNDN), mpfr_add(a, a, b, MPFR_RNDN);
        mpfr_div_ui(a, a, m * n, MPFR_RNDN);
        mpfr_sqrt(a, a, MPFR_RNDN);
        set_b64(b, "1e-30");
        mpfr_add(a, a, b, MPFR_RNDN);
        for (size_t i = 0; i < m * n; i++)
            mpfr_div(X->e + i, X->e + i, a, MPFR_RNDN);
    }
    mpfr_set(a, eta, MPFR_RNDN); /* eta' */
    if (s->correct_bias) {
        mpfr_pow_ui(b, s->beta2, s->k, MPFR_RNDN);
        mpfr_ui_sub(b, 1, b, MPFR_RNDN);
        mpfr_sqrt(b, b, MPFR_RNDN);
        mpfr_mul(a, a, b, MPFR_RNDN);
        mpfr_pow_ui(b, s->beta1, s->k, MPFR_RNDN);
        mpfr_ui_sub(b, 1, b, MPFR_RNDN);
        mpfr_div(a, a, b, MPFR_RNDN);
    }
    for (size_t i = 0; i < m * n; i++) {
        mpfr_mul(b, a, X->e + i, MPFR_RNDN);
        mpfr_sub(W->e + i, W->e + i, b, MPFR_RNDN);
    }
    mpfr_mul(a, eta, s->wd, MPFR_RNDN); /* decay after the step, uncorrected eta */
    for (size_t i = 0; i < m * n; i++) {
        mpfr_mul(b, a, W->e + i, MPFR_RNDN);
        mpfr_sub(W->e + i, W->e + i, b, MPFR_RNDN);
    }
    mpfr_clears(a, b, (mpfr_ptr)0);
    /* the 1.2 refresh */
    ebm_rotate(s, s->M, 1);
    ebm_factor(s, s->L, G, 0), ebm_factor(s, s->R, G, 1);
    if (s->k % s->f == 0) {
        mpmat_ptr rows = s->var == EBM_DEVA_FACT ? s->nu_r : s->V;
        mpmat_ptr cols = s->var == EBM_DEVA_FACT ? s->nu_c : s->V;
        ebm_refresh_side(s->L, s->QL, rows, 0, NULL, &s->kappa);
        ebm_refresh_side(s->R, s->QR, cols, 1, NULL, &s->kappa);
    }
    ebm_rotate(s, s->M, 0);
    mpmat_clear(X);
}

/* The implementation's state (and W) into the model: teacher forcing. */
static inline void ebm_sync(ebm *s, const ref_opt *o)
{
    mpmat_set(s->M, ref_opt_state(o, "M"));
    if (s->var == EBM_DEVA_FACT) {
        mpmat_set(s->nu_r, ref_opt_state(o, "nu_r"));
        mpmat_set(s->nu_c, ref_opt_state(o, "nu_c"));
    } else {
        mpmat_set(s->V, ref_opt_state(o, "V"));
    }
    if (s->var != EBM_SOAP)
        mpmat_set(s->Gamma, ref_opt_state(o, "Gamma"));
    mpmat_set(s->L, ref_opt_state(o, "L"));
    mpmat_set(s->R, ref_opt_state(o, "R"));
    mpmat_set(s->QL, ref_opt_state(o, "Q_L"));
    mpmat_set(s->QR, ref_opt_state(o, "Q_R"));
    s->k = mpfr_get_ui(ref_opt_state(o, "k")->e, MPFR_RNDN);
}

/* The implementation's first-call basis into the model. */
static inline void ebm_take_first_basis(ebm *s, const ref_opt *o)
{
    mpmat_set(s->QL, ref_opt_state(o, "Q_L"));
    mpmat_set(s->QR, ref_opt_state(o, "Q_R"));
}

/* A model with the worst ratio of its state comparisons (opt_model.model:
 * the ebm is the first member, so ebm_step takes this too). */
typedef struct {
    ebm s;
    test_worst *state_w;
} ebm_run;

/* check_state of a tensor that carries the refresh's QR conditioning (the
 * refreshed bases, and M projected on them): scale kappa ||X||. */
static inline void ebm_check_conditioned(ebm_run *run, const ref_opt *o, const char *name,
                                         mpmat_srcptr X)
{
    mpfr_t x;
    mpfr_init2(x, 64);
    mpmat_norm_fro(x, X);
    mpfr_mul_d(x, x, (double)(run->s.kappa - 1), MPFR_RNDN);
    check_state(run->state_w, o, name, X, x);
    mpfr_clear(x);
}

/* opt_model.check: after the first call the implementation's basis is taken
 * (and must be a canonical eigenbasis, t-eigenbasis.c checks that); after
 * every call the states are compared with the model's. */
static inline void ebm_check(void *model, const ref_opt *o, unsigned long t, test_worst *w)
{
    ebm_run *run = model;
    ebm *s = &run->s;
    (void)w;
    if (t == 1)
        ebm_take_first_basis(s, o);
    ck_assert(mpfr_cmp_ui(ref_opt_state(o, "basis_ready")->e, 1) == 0);
    ck_assert(mpfr_cmp_ui(ref_opt_state(o, "k")->e, s->k) == 0);
    ebm_check_conditioned(run, o, "M", s->M);
    if (s->var == EBM_DEVA_FACT) {
        check_state(run->state_w, o, "nu_r", s->nu_r, NULL);
        check_state(run->state_w, o, "nu_c", s->nu_c, NULL);
    } else {
        check_state(run->state_w, o, "V", s->V, NULL);
    }
    if (s->var != EBM_SOAP)
        check_state(run->state_w, o, "Gamma", s->Gamma, NULL);
    check_state(run->state_w, o, "L", s->L, NULL);
    check_state(run->state_w, o, "R", s->R, NULL);
    ebm_check_conditioned(run, o, "Q_L", s->QL);
    ebm_check_conditioned(run, o, "Q_R", s->QR);
}

/* opt_model.check for the rank-3 stream (shape 6): the factors, the bases
 * and the counters only (M and Gamma hold noise-level rows there). */
static inline void ebm_check_basis(void *model, const ref_opt *o, unsigned long t,
                                   test_worst *w)
{
    ebm_run *run = model;
    ebm *s = &run->s;
    (void)w;
    if (t == 1)
        ebm_take_first_basis(s, o);
    ck_assert(mpfr_cmp_ui(ref_opt_state(o, "k")->e, s->k) == 0);
    check_state(run->state_w, o, "L", s->L, NULL);
    check_state(run->state_w, o, "R", s->R, NULL);
    ebm_check_conditioned(run, o, "Q_L", s->QL);
    ebm_check_conditioned(run, o, "Q_R", s->QR);
}

/* ---- gradient streams and drivers of these tests ----
 * Shapes: 0: 1x1, 1: 2x3, 2: 3x2 (random dyadics), 3: the 9 x 9 trace-het
 * problem with the gauss oracle (H X + C^(1/2) Z, batch 3) at the
 * implementation's iterate, 4: 1x4, 5: 4x1, and 6: trace-het with the
 * rows-sq oracle, batch 3 (rank-3 gradients at 256 bits: the setting of spec
 * 1.2's degenerate clusters). The exact trace-het gradient is not used: the
 * first call does not move W, so G_2 = G_1 and G_2' is diagonal up to
 * rounding noise; rows-sq gradients leave whole rows of G' at noise level
 * too (the directions of L's null space that no batch has touched). soap
 * divides such noise by eps and deva takes square roots of it: those steps
 * are conditioned like ||G|| / eps, and shape 6 is compared with that scale
 * (docs/optimizers/eigenbasis.md). */
typedef struct {
    grad_stream gs;
    int oracle; /* 0: the grad_stream, 1: gauss, 2: rows-sq */
    unsigned long t;
} eb_stream;

static inline void ebs_init(eb_stream *s, int shape, uint64_t seed)
{
    static const size_t dims[7][2] = {{1, 1}, {2, 3}, {3, 2}, {9, 9}, {1, 4}, {4, 1}, {9, 9}};
    s->t = 0;
    s->oracle = shape == 3 ? 1 : shape == 6 ? 2 : 0;
    if (s->oracle)
        gs_init_trace_het(&s->gs, seed);
    else
        gs_init_random(&s->gs, dims[shape][0], dims[shape][1], seed);
}

static inline void ebs_clear(eb_stream *s)
{
    gs_clear(&s->gs);
}

static inline void ebs_next(eb_stream *s, mpmat_ptr G, mpmat_srcptr W)
{
    s->t++;
    if (s->oracle)
        TEST_OK(oracle_gradient(G, &s->gs.P, s->oracle == 1 ? ORACLE_GAUSS : ORACLE_ROWS_SQ, 3,
                                s->t, W));
    else
        gs_next(&s->gs, G, W);
}

/* run_against_model of opt_harness.h on an eb_stream: the ratio of W after
 * every call, scale = ||W_model|| + the distance moved so far. forced: before
 * every call after the first the model takes the implementation's W and
 * state (teacher forcing), so each call is compared alone and the refresh's
 * conditioning does not carry over to later calls. */
static inline void ebm_run_against(const char *name, const char *const *opts, size_t nopts,
                                   eb_stream *st, const char *eta_text, int calls,
                                   const opt_model *model, int forced, test_worst *w)
{
    ebm *sm = model->model; /* an ebm or an ebm_run (first member) */
    size_t m = st->gs.m, n = st->gs.n;
    ref_opt *o;
    TEST_OK(ref_opt_create(&o, name, m, n, LO_PREC, opts, nopts));
    mpmat_t W, G, Wm, Wprev, R;
    TEST_OK(mpmat_init(W, m, n, LO_PREC));
    TEST_OK(mpmat_init(G, m, n, LO_PREC));
    TEST_OK(mpmat_init(Wm, m, n, HI_PREC));
    TEST_OK(mpmat_init(Wprev, m, n, HI_PREC));
    TEST_OK(mpmat_init(R, m, n, HI_PREC));
    mpfr_t eta, moved, scale, d;
    mpfr_inits2(HI_PREC, eta, moved, scale, d, (mpfr_ptr)0);
    set_b64(eta, eta_text);
    mpfr_set_zero(moved, 1);
    gs_initial(&st->gs, W);
    mpmat_set(Wm, W);
    for (int t = 1; t <= calls; t++) {
        ebs_next(st, G, W);
        if (forced && t > 1) { /* teacher forcing: the model starts from o's state */
            ebm_sync(sm, o);
            mpmat_set(Wm, W);
            mpfr_set_zero(moved, 1);
        }
        TEST_OK(ref_opt_step(o, W, G, eta, NULL));
        mpmat_set(Wprev, Wm);
        model->step(model->model, Wm, G, eta, (unsigned long)t);
        TEST_OK(mpmat_sub(R, Wm, Wprev));
        mpmat_norm_fro(d, R);
        mpfr_add(moved, moved, d, MPFR_RNDN);
        if (st->oracle == 2 && t > 1) { /* the noise rows: + eta ||G||_F / eps per call */
            mpmat_norm_fro(d, G);
            mpfr_mul(d, d, eta, MPFR_RNDN);
            mpfr_div(d, d, sm->eps, MPFR_RNDN);
            mpfr_add(moved, moved, d, MPFR_RNDN);
        }
        mpmat_norm_fro(scale, Wm);
        mpfr_add(scale, scale, moved, MPFR_RNDN);
        TEST_OK(mpmat_sub(R, W, Wm));
        long double r = test_ratio(R, scale, LO_PREC);
        ck_assert_msg(r < w->threshold, "%s %zux%zu call %d: ratio %.3Lg >= %.3Lg", name, m, n,
                      t, r, w->threshold);
        test_worst_add(w, r);
        if (t == 1)
            ck_assert_msg(mpmat_equal(W, Wm), "%s: the first call moved W", name);
        if (model->check != NULL)
            model->check(model->model, o, (unsigned long)t, w);
    }
    mpfr_clears(eta, moved, scale, d, (mpfr_ptr)0);
    mpmat_clear(W), mpmat_clear(G), mpmat_clear(Wm), mpmat_clear(Wprev), mpmat_clear(R);
    ref_opt_free(o);
}

/* Two runs on G_t and c G_t (c a small integer: exact), G_t at run 1's
 * iterate; after every call the ratio ||W1 - W2|| / (||W1|| 2^-256) (or, when
 * exact, bit equality) is checked. */
static inline void ebm_run_scaled(const char *name, const char *const *opts, size_t nopts,
                                  eb_stream *st, int calls, long c, int exact, test_worst *w)
{
    size_t m = st->gs.m, n = st->gs.n;
    ref_opt *o1, *o2;
    TEST_OK(ref_opt_create(&o1, name, m, n, LO_PREC, opts, nopts));
    TEST_OK(ref_opt_create(&o2, name, m, n, LO_PREC, opts, nopts));
    mpmat_t W1, W2, G, cG, R;
    TEST_OK(mpmat_init(W1, m, n, LO_PREC));
    TEST_OK(mpmat_init(W2, m, n, LO_PREC));
    TEST_OK(mpmat_init(G, m, n, LO_PREC));
    TEST_OK(mpmat_init(cG, m, n, LO_PREC + 8));
    TEST_OK(mpmat_init(R, m, n, LO_PREC));
    mpfr_t eta, s;
    mpfr_inits2(LO_PREC, eta, s, (mpfr_ptr)0);
    set_b64(eta, "0.05");
    gs_initial(&st->gs, W1);
    mpmat_set(W2, W1);
    for (int t = 1; t <= calls; t++) {
        ebs_next(st, G, W1);
        for (size_t k = 0; k < m * n; k++)
            ck_assert(mpfr_mul_si(cG->e + k, G->e + k, c, MPFR_RNDN) == 0); /* exact */
        TEST_OK(ref_opt_step(o1, W1, G, eta, NULL));
        TEST_OK(ref_opt_step(o2, W2, cG, eta, NULL));
        if (exact) {
            ck_assert_msg(mpmat_equal(W1, W2), "%s %zux%zu: scaling by %ld changed W at call %d",
                          name, m, n, c, t);
            continue;
        }
        TEST_OK(mpmat_sub(R, W1, W2));
        mpmat_norm_fro(s, W1);
        test_worst_add(w, test_ratio(R, s, LO_PREC));
    }
    mpfr_clears(eta, s, (mpfr_ptr)0);
    mpmat_clear(W1), mpmat_clear(W2), mpmat_clear(G), mpmat_clear(cG), mpmat_clear(R);
    ref_opt_free(o1), ref_opt_free(o2);
}

/* Negates column j of Q (flip) and the matching row (left) or column of M. */
static inline void ebm_flip_column(ref_opt *o, int right, size_t j, int with_m)
{
    mpmat_ptr Q = ref_opt_state(o, right ? "Q_R" : "Q_L"), M = ref_opt_state(o, "M");
    for (size_t i = 0; i < Q->rows; i++)
        mpfr_neg(mpmat_entry(Q, i, j), mpmat_entry(Q, i, j), MPFR_RNDN);
    if (with_m)
        for (size_t i = 0; i < (right ? M->rows : M->cols); i++) {
            mpfr_ptr x = right ? mpmat_entry(M, i, j) : mpmat_entry(M, j, i);
            mpfr_neg(x, x, MPFR_RNDN);
        }
}

/* Spec 3: o2's Q_L, Q_R columns are flipped right after the first call (M = 0)
 * and again after call 4 (with M flipped alike, the same state in exact
 * arithmetic); W must not change: the ratio ||W1 - W2|| / (||W1|| 2^-256)
 * after every call of seven. */
static inline void ebm_check_sign_invariance(const char *name, const char *const *opts,
                                             size_t nopts, eb_stream *st, test_worst *w)
{
    size_t m = st->gs.m, n = st->gs.n;
    ref_opt *o1, *o2;
    TEST_OK(ref_opt_create(&o1, name, m, n, LO_PREC, opts, nopts));
    TEST_OK(ref_opt_create(&o2, name, m, n, LO_PREC, opts, nopts));
    mpmat_t W1, W2, G, R;
    TEST_OK(mpmat_init(W1, m, n, LO_PREC));
    TEST_OK(mpmat_init(W2, m, n, LO_PREC));
    TEST_OK(mpmat_init(G, m, n, LO_PREC));
    TEST_OK(mpmat_init(R, m, n, LO_PREC));
    mpfr_t eta, scale;
    mpfr_inits2(LO_PREC, eta, scale, (mpfr_ptr)0);
    set_b64(eta, "0.05");
    gs_initial(&st->gs, W1);
    mpmat_set(W2, W1);
    for (int t = 1; t <= 7; t++) {
        ebs_next(st, G, W1);
        TEST_OK(ref_opt_step(o1, W1, G, eta, NULL));
        TEST_OK(ref_opt_step(o2, W2, G, eta, NULL));
        TEST_OK(mpmat_sub(R, W1, W2));
        mpmat_norm_fro(scale, W1);
        test_worst_add(w, test_ratio(R, scale, LO_PREC));
        if (t == 1 || t == 4) {
            ebm_flip_column(o2, 0, 0, t == 4);
            if (m > 2)
                ebm_flip_column(o2, 0, 2, t == 4);
            ebm_flip_column(o2, 1, n - 1, t == 4);
        }
    }
    mpfr_clears(eta, scale, (mpfr_ptr)0);
    mpmat_clear(W1), mpmat_clear(W2), mpmat_clear(G), mpmat_clear(R);
    ref_opt_free(o1), ref_opt_free(o2);
}

#endif
