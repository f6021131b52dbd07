/* The eigenbasis machinery of spec/optimizers.md 1.2 on the CPU
 * (fast/cpu/eigenbasis.h), mirroring ref/optim/eigenbasis.c and
 * ref/mp/mpmat_basis.c in the backend's format:
 *  - factor update: G G^T by SYRK (one triangle, mirrored: P stays exactly
 *    symmetric), then b P + (1 - b) GG per entry;
 *  - eigenvectors by syevd (ascending, reversed to descending); consecutive
 *    eigenvalues within tol = sqrt(u) ||P||_F form a cluster whose basis is
 *    Gram-Schmidt (twice, index order) of the projections of e_1, e_2, ...
 *    (skipped below 1/(2 sqrt n)); singletons are sign-canonical;
 *  - refresh: P Q by GEMM, e_j = (Q^T P Q)_jj, stable descending argsort,
 *    the moment permuted, Q <- canonical QR of P Q[:, pi]: geqrf/orgqr when
 *    every |R_jj| > tol, else the greedy rule column by column (Householder
 *    reflectors by larfg, dropped columns completed canonically); every
 *    column sign-canonical. */
#include "eigenbasis.h"

#include <stdlib.h>
#include <string.h>

#include "../mutants.h"

#if FAST_REAL_BITS == 64
#define R_SYEVD_WORK LAPACKE_dsyevd_work
#define R_GEQRF_WORK LAPACKE_dgeqrf_work
#define R_ORGQR_WORK LAPACKE_dorgqr_work
#define R_LARFG_WORK LAPACKE_dlarfg_work
#define R_SYRK cblas_dsyrk
#define R_GEMV cblas_dgemv
#define EB_PREC 53
#else
#define R_SYEVD_WORK LAPACKE_ssyevd_work
#define R_GEQRF_WORK LAPACKE_sgeqrf_work
#define R_ORGQR_WORK LAPACKE_sorgqr_work
#define R_LARFG_WORK LAPACKE_slarfg_work
#define R_SYRK cblas_ssyrk
#define R_GEMV cblas_sgemv
#define EB_PREC 24
#endif

/* ---- workspace ---- */

void FN(eb_side_free)(FN(eb_side) *s)
{
    free(s->A), free(s->B), free(s->C), free(s->w), free(s->tau), free(s->e);
    free(s->pi), free(s->pos), free(s->work), free(s->iwork);
    memset(s, 0, sizeof *s);
}

optref_status FN(eb_side_init)(FN(eb_side) *s, size_t n)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    if (n == 0)
        return OPTREF_OK;
    size_t nn = n * n;
    s->A = malloc(nn * sizeof(real)), s->B = malloc(nn * sizeof(real));
    s->C = malloc(nn * sizeof(real));
    s->w = malloc(n * sizeof(real)), s->tau = malloc(n * sizeof(real));
    s->e = malloc(n * sizeof(real));
    s->pi = malloc(n * sizeof(size_t)), s->pos = malloc(n * sizeof(size_t));
    /* LAPACK workspace: the largest of syevd's, geqrf's and orgqr's queries */
    real q[3] = {0, 0, 0};
    lapack_int iq = 0, N = (lapack_int)n;
    if (s->A && s->B && s->w && s->tau) {
        R_SYEVD_WORK(LAPACK_COL_MAJOR, 'V', 'U', N, s->A, N, s->w, &q[0], -1, &iq, -1);
        R_GEQRF_WORK(LAPACK_COL_MAJOR, N, N, s->B, N, s->tau, &q[1], -1);
        R_ORGQR_WORK(LAPACK_COL_MAJOR, N, N, N, s->B, N, s->tau, &q[2], -1);
    }
    double lw = q[0] > q[1] ? q[0] : q[1];
    lw = lw > q[2] ? lw : q[2];
    s->lwork = (lapack_int)lw + 1;
    s->liwork = iq + 1;
    s->work = malloc((size_t)s->lwork * sizeof(real));
    s->iwork = malloc((size_t)s->liwork * sizeof(lapack_int));
    if (!s->A || !s->B || !s->C || !s->w || !s->tau || !s->e || !s->pi || !s->pos || !s->work ||
        !s->iwork) {
        FN(eb_side_free)(s);
        return optref_fail(OPTREF_ENOMEM, "eigenbasis: cannot allocate the scratch of a side "
                           "of length %zu", n);
    }
    return OPTREF_OK;
}

void FN(eb_work_release)(FN(eb_work) *w)
{
    FN(eb_side_free)(&w->left);
    FN(eb_side_free)(&w->right);
    free(w->X), free(w->Y), free(w->T);
    w->X = w->Y = w->T = NULL;
    w->ready = 0;
}

static void FN(work_free)(void *p)
{
    FN(eb_work_release)(p);
    free(p);
}

optref_status FN(eb_work_init)(FN(eb_work) *w, const fast_opt *o)
{
    if (w->ready)
        return OPTREF_OK;
    size_t mn = o->m * o->n > 0 ? o->m * o->n : 1;
    w->m = o->m, w->n = o->n;
    w->X = malloc(mn * sizeof(real)), w->Y = malloc(mn * sizeof(real));
    w->T = malloc(mn * sizeof(real));
    optref_status st = w->X && w->Y && w->T
                           ? OPTREF_OK
                           : optref_fail(OPTREF_ENOMEM, "%s: cannot allocate the workspace",
                                         o->info->name);
    if (st == OPTREF_OK)
        st = FN(eb_side_init)(&w->left, fast_opt_state(o, "L")->rows);
    if (st == OPTREF_OK)
        st = FN(eb_side_init)(&w->right, fast_opt_state(o, "R")->rows);
    if (st != OPTREF_OK)
        FN(eb_work_release)(w); /* a later call starts afresh */
    w->ready = st == OPTREF_OK;
    return st;
}

void FN(eb_state_get)(FN(eb_state) *E, const fast_opt *o)
{
    fast_tensor *L = fast_opt_state(o, "L"), *R = fast_opt_state(o, "R");
    E->L = L->data, E->R = R->data;
    E->QL = fast_opt_state(o, "Q_L")->data;
    E->QR = fast_opt_state(o, "Q_R")->data;
    E->ready = fast_opt_state(o, "basis_ready")->data;
    E->k = fast_opt_state(o, "k")->data;
    E->nl = L->rows, E->nr = R->rows;
}

FN(eb_work) *FN(eb_work_get)(fast_opt *o)
{
    FN(eb_work) *w = fast_work(o, sizeof *w, FN(work_free));
    if (w == NULL || FN(eb_work_init)(w, o) != OPTREF_OK)
        return NULL;
    return w;
}

/* ---- small vector helpers ---- */

static real FN(dot)(const real *x, const real *y, size_t n)
{
    real s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i] * y[i];
    return s;
}

static real FN(norm_fro)(const real *P, size_t count)
{
    return R_SQRT(FN(dot)(P, P, count));
}

/* sqrt(u) ||P||_F (spec 1.2's tol at the backend's precision). */
static real FN(cluster_tol)(const real *P, size_t n)
{
    return R_SCALAR(sqrt(ldexp(1.0, -EB_PREC))) * FN(norm_fro)(P, n * n);
}

/* Largest-magnitude component positive (first such index on ties). */
static void FN(sign_canonical)(real *v, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (R_FABS(v[i]) > R_FABS(v[best]))
            best = i;
    if (n > 0 && v[best] < 0)
        for (size_t i = 0; i < n; i++)
            v[i] = -v[i];
}

/* x <- x - K^T (K x) against the `have` orthonormal vectors of K (rows,
 * contiguous, length n), twice (classical Gram-Schmidt with
 * reorthogonalisation, two GEMVs a pass; c is `have` scratch). The reference
 * orthogonalises one vector at a time (MGS, twice): the same numbers to
 * O(n u), which the bound allows (proofs/conformance-eigenbasis.md 2). */
static void FN(orthogonalise)(real *x, const real *K, size_t have, size_t n, real *c)
{
    if (have == 0)
        return;
    for (int pass = 0; pass < 2; pass++) {
        R_GEMV(CblasRowMajor, CblasNoTrans, (int)have, (int)n, 1, K, (int)n, x, 1, 0, c, 1);
        R_GEMV(CblasRowMajor, CblasTrans, (int)have, (int)n, -1, K, (int)n, c, 1, 1, x, 1);
    }
}

/* Normalises x when 4 n ||x||^2 >= 1 (norm at least 1/(2 sqrt n)); returns whether kept. */
static int FN(normalise_if_large)(real *x, size_t n)
{
    real s = FN(dot)(x, x, n);
    if ((real)(4 * n) * s < 1)
        return 0;
    s = R_SQRT(s);
    for (size_t i = 0; i < n; i++)
        x[i] /= s;
    return 1;
}

/* Gram-Schmidt of the candidates i = 0, 1, ... against K's first `have`
 * vectors until `want` are kept (ref/mp/mpmat_basis.c canonical_rows):
 * candidate i is column i of Pc (the projector, column-major) or e_i; c is
 * n scratch. */
static optref_status FN(canonical_vectors)(real *K, size_t have, size_t want, const real *Pc,
                                           size_t n, real *c)
{
    for (size_t i = 0; i < n && have < want; i++) {
        real *x = K + have * n;
        if (Pc != NULL)
            memcpy(x, Pc + i * n, n * sizeof(real));
        else
            for (size_t k = 0; k < n; k++)
                x[k] = k == i;
        FN(orthogonalise)(x, K, have, n, c);
        have += FN(normalise_if_large)(x, n);
    }
    if (have < want)
        return optref_fail(OPTREF_ENOCONV, "eigenbasis: found %zu of %zu basis vectors", have,
                           want);
    return OPTREF_OK;
}

/* The canonical basis of the cluster of vectors [c0, c1) of V (column-major
 * n x n, vectors contiguous), in place; Pc and K are n x n scratch. */
static optref_status FN(canonical_cluster)(real *V, size_t c0, size_t c1, size_t n, real *Pc,
                                           real *K, real *c)
{
    size_t d = c1 - c0;
    /* Pc = V_c V_c^T */
    R_GEMM(CblasColMajor, CblasNoTrans, CblasTrans, (int)n, (int)n, (int)d, 1, V + c0 * n,
           (int)n, V + c0 * n, (int)n, 0, Pc, (int)n);
    optref_status st = FN(canonical_vectors)(K, 0, d, Pc, n, c);
    if (st == OPTREF_OK)
        memcpy(V + c0 * n, K, d * n * sizeof(real));
    return st;
}

/* Row-major Q (columns = vectors) from column-major V. */
static void FN(to_row_major)(real *Q, const real *V, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            Q[i * n + j] = V[j * n + i];
}

/* ---- factor update, eigenvectors ---- */

void FN(eb_update_factor)(real *P, const real *G, size_t m, size_t n, int right, real b, real w,
                          real *S)
{
    size_t k = right ? n : m; /* P is k x k */
    if (right)
        R_SYRK(CblasRowMajor, CblasUpper, CblasTrans, (int)n, (int)m, 1, G, (int)n, 0, S, (int)n);
    else
        R_SYRK(CblasRowMajor, CblasUpper, CblasNoTrans, (int)m, (int)n, 1, G, (int)n, 0, S,
               (int)m);
    for (size_t i = 0; i < k; i++)
        for (size_t j = i; j < k; j++) {
            real p = b * P[i * k + j] + w * S[i * k + j];
            P[i * k + j] = P[j * k + i] = p;
        }
}

/* syevd of P into s->A (column-major vectors) and s->w (ascending). */
static optref_status FN(syevd)(const real *P, FN(eb_side) *s)
{
    size_t n = s->n;
    memcpy(s->A, P, n * n * sizeof(real)); /* symmetric: either layout */
    lapack_int info = R_SYEVD_WORK(LAPACK_COL_MAJOR, 'V', 'U', (lapack_int)n, s->A, (lapack_int)n,
                                   s->w, s->work, s->lwork, s->iwork, s->liwork);
    if (info != 0)
        return optref_fail(OPTREF_ENOCONV, "eigenbasis: syevd failed (info %d) on a %zux%zu "
                           "factor", (int)info, n, n);
    return OPTREF_OK;
}

optref_status FN(eb_sym_eigh)(real *Q, real *w, const real *P, FN(eb_side) *s)
{
    optref_status st = FN(syevd)(P, s);
    if (st != OPTREF_OK)
        return st;
    FN(to_row_major)(Q, s->A, s->n);
    memcpy(w, s->w, s->n * sizeof(real));
    return OPTREF_OK;
}

optref_status FN(eb_eigh)(real *Q, real *w, const real *P, FN(eb_side) *s)
{
    size_t n = s->n;
    optref_status st = FN(syevd)(P, s);
    if (st != OPTREF_OK)
        return st;
    /* descending: vector k of B is LAPACK's n-1-k, value e[k] */
    for (size_t k = 0; k < n; k++) {
        memcpy(s->B + k * n, s->A + (n - 1 - k) * n, n * sizeof(real));
        s->e[k] = s->w[n - 1 - k];
    }
    const real tol = FN(cluster_tol)(P, n);
    size_t c0 = 0;
    for (size_t k = 1; k <= n && st == OPTREF_OK; k++) {
        if (k < n && s->e[k - 1] - s->e[k] <= tol)
            continue; /* k joins the cluster of k - 1 */
        if (k - c0 >= 2)
            st = FN(canonical_cluster)(s->B, c0, k, n, s->C, s->A, s->tau);
        else
            FN(sign_canonical)(s->B + c0 * n, n);
        c0 = k;
    }
    if (st != OPTREF_OK)
        return st;
    FN(to_row_major)(Q, s->B, n);
    if (w != NULL)
        memcpy(w, s->e, n * sizeof(real));
    return OPTREF_OK;
}

optref_status FN(eb_first_call)(const fast_opt *o, const FN(eb_state) *E, FN(eb_work) *w,
                                const real *G)
{
    const real b = R_SCALAR(fast_opt_real(o, "shampoo_beta"));
    const real wb = R_SCALAR(1.0 - fast_opt_real(o, "shampoo_beta"));
    optref_status st = OPTREF_OK;
    if (E->nl) {
        FN(eb_update_factor)(E->L, G, o->m, o->n, 0, b, wb, w->left.C);
        st = FN(eb_eigh)(E->QL, NULL, E->L, &w->left);
        if (MUTANT("eigenbasis-not-orthonormal") && E->nl >= 2)
            for (size_t i = 0; i < E->nl; i++) /* column 0 += 1e-6 column 1 */
                E->QL[i * E->nl] += (real)1e-6 * E->QL[i * E->nl + 1];
    }
    if (st == OPTREF_OK && E->nr) {
        FN(eb_update_factor)(E->R, G, o->m, o->n, 1, b, wb, w->right.C);
        st = FN(eb_eigh)(E->QR, NULL, E->R, &w->right);
    }
    if (st == OPTREF_OK)
        E->ready[0] = 1;
    return st;
}

/* ---- projections ---- */

void FN(eb_project)(const FN(eb_state) *E, FN(eb_work) *w, real *Y, const real *X)
{
    int m = (int)w->m, n = (int)w->n;
    size_t bytes = w->m * w->n * sizeof(real);
    if (E->nl)
        R_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, m, 1, E->QL, m, X, n, 0, w->T, n);
    else
        memcpy(w->T, X, bytes);
    if (E->nr)
        R_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, n, 1, w->T, n, E->QR, n, 0, Y, n);
    else
        memcpy(Y, w->T, bytes);
}

void FN(eb_project_back)(const FN(eb_state) *E, FN(eb_work) *w, real *Y, const real *X)
{
    if (MUTANT("soap-project-back-transposed")) {
        FN(eb_project)(E, w, Y, X);
        return;
    }
    int m = (int)w->m, n = (int)w->n;
    size_t bytes = w->m * w->n * sizeof(real);
    if (E->nl)
        R_GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, m, 1, E->QL, m, X, n, 0, w->T, n);
    else
        memcpy(w->T, X, bytes);
    if (E->nr)
        R_GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, n, 1, w->T, n, E->QR, n, 0, Y, n);
    else
        memcpy(Y, w->T, bytes);
}

unsigned long FN(eb_count)(const FN(eb_state) *E)
{
    unsigned long k = (unsigned long)E->k[0] + 1;
    E->k[0] = (real)k;
    return k;
}

/* ---- the canonical QR ---- */

/* Applies the nk Householder reflectors stored in V (column-major, geqrf's
 * layout) and tau to the vector x: x <- H_{nk-1} ... H_0 x. */
static void FN(apply_reflectors)(real *x, const real *V, const real *tau, size_t nk, size_t n)
{
    for (size_t r = 0; r < nk; r++) {
        const real *v = V + r * n; /* v_r = (0, ..., 1 at r, v[r+1..]) */
        real s = x[r];
        for (size_t i = r + 1; i < n; i++)
            s += v[i] * x[i];
        s *= tau[r];
        x[r] -= s;
        for (size_t i = r + 1; i < n; i++)
            x[i] -= s * v[i];
    }
}

optref_status FN(eb_qr_canonical)(real *Q, const real *A, real tol, FN(eb_side) *s)
{
    size_t n = s->n, nk = 0;
    lapack_int N = (lapack_int)n;
    real *B = s->B;
    /* fast path: every |R_jj| > tol */
    memcpy(B, A, n * n * sizeof(real));
    lapack_int info = R_GEQRF_WORK(LAPACK_COL_MAJOR, N, N, B, N, s->tau, s->work, s->lwork);
    int full = info == 0;
    for (size_t j = 0; full && j < n; j++)
        full = R_FABS(B[j * n + j]) > tol;
    if (full) {
        nk = n;
        for (size_t j = 0; j < n; j++)
            s->pos[j] = j;
    } else {
        /* the greedy rule: column j is kept iff its distance from the span of
         * the kept earlier columns exceeds tol (ref eigenbasis_qr_canonical) */
        for (size_t j = 0; j < n; j++) {
            real *x = B + nk * n;
            memcpy(x, A + j * n, n * sizeof(real));
            FN(apply_reflectors)(x, B, s->tau, nk, n);
            if (R_SQRT(FN(dot)(x + nk, x + nk, n - nk)) <= tol)
                continue;
            R_LARFG_WORK((lapack_int)(n - nk), x + nk, x + nk + 1, 1, s->tau + nk);
            s->pos[nk++] = j;
        }
    }
    if (nk > 0) {
        info = R_ORGQR_WORK(LAPACK_COL_MAJOR, N, (lapack_int)nk, (lapack_int)nk, B, N, s->tau,
                            s->work, s->lwork);
        if (info != 0)
            return optref_fail(OPTREF_ENOCONV, "eigenbasis: orgqr failed (info %d)", (int)info);
    }
    optref_status st = FN(canonical_vectors)(B, nk, n, NULL, n, s->w); /* completion */
    if (st != OPTREF_OK)
        return st;
    /* kept positions take B's first nk vectors in order, the others the completion */
    size_t a = 0, c = nk;
    for (size_t j = 0; j < n; j++) {
        size_t from = a < nk && s->pos[a] == j ? a++ : c++;
        memcpy(Q + j * n, B + from * n, n * sizeof(real));
        FN(sign_canonical)(Q + j * n, n);
    }
    return OPTREF_OK;
}

/* ---- the refresh ---- */

/* Stable argsort, descending: pi[0..n) with e[pi[0]] >= e[pi[1]] >= ...,
 * equal values in index order (insertion sort). */
static void FN(argsort_desc)(size_t *pi, const real *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && e[i] > e[pi[j - 1]]) {
            pi[j] = pi[j - 1];
            j--;
        }
        pi[j] = i;
    }
}

/* X (rows x cols, row-major) permuted along rows (X_new[i,:] = X[pi[i],:]) or
 * columns (X_new[:, j] = X[:, pi[j]]); T is scratch of rows x cols. */
static void FN(permute)(real *X, size_t rows, size_t cols, const size_t *pi, int along_cols,
                        real *T)
{
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            T[i * cols + j] = along_cols ? X[i * cols + pi[j]] : X[pi[i] * cols + j];
    memcpy(X, T, rows * cols * sizeof(real));
}

/* Refresh (c) of one side: P, Q (row-major n x n), the moment X permuted
 * along its rows (left) or columns (right). */
static optref_status FN(refresh_side)(FN(eb_side) *s, const real *P, real *Q, real *X,
                                      size_t xrows, size_t xcols, int right, real *T)
{
    size_t n = s->n;
    if (n == 0)
        return OPTREF_OK;
    /* C = (P Q)^T row-major = P Q column-major (P symmetric) */
    R_GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)n, 1, Q, (int)n, P,
           (int)n, 0, s->C, (int)n);
    for (size_t j = 0; j < n; j++) { /* e_j = (Q^T P Q)_jj */
        real acc = 0;
        for (size_t i = 0; i < n; i++)
            acc += Q[i * n + j] * s->C[j * n + i];
        s->e[j] = acc;
    }
    FN(argsort_desc)(s->pi, s->e, n);

    if (MUTANT("soap-v-rotated-on-refresh") == 0)
        FN(permute)(X, xrows, xcols, s->pi, right, T);
    for (size_t j = 0; j < n; j++) /* A = P Q[:, pi] (column-major) */
        memcpy(s->A + j * n, s->C + s->pi[j] * n, n * sizeof(real));
    optref_status st = FN(eb_qr_canonical)(s->C, s->A, FN(cluster_tol)(P, n), s);
    if (st == OPTREF_OK)
        FN(to_row_major)(Q, s->C, n);
    return st;
}

optref_status FN(eb_after_update)(const fast_opt *o, const FN(eb_state) *E, FN(eb_work) *w,
                                  const real *G, real *M, real *rowm, size_t rcols, real *colm,
                                  size_t crows)
{
    const real b = R_SCALAR(fast_opt_real(o, "shampoo_beta"));
    const real wb = R_SCALAR(1.0 - fast_opt_real(o, "shampoo_beta"));
    const unsigned long f = (unsigned long)fast_opt_int(o, "precondition_frequency");
    const unsigned long k = (unsigned long)E->k[0];
    const int refresh = k % f == 0, rotate_v = refresh && MUTANT("soap-v-rotated-on-refresh");
    FN(eb_project_back)(E, w, M, M); /* (a) */
    if (rotate_v) /* the mutant: V rotated like M instead of permuted */
        FN(eb_project_back)(E, w, rowm, rowm);
    if (E->nl) /* (b) */
        FN(eb_update_factor)(E->L, G, o->m, o->n, 0, b, wb, w->left.C);
    if (E->nr)
        FN(eb_update_factor)(E->R, G, o->m, o->n, 1, b, wb, w->right.C);
    optref_status st = OPTREF_OK;
    if (refresh) { /* (c) */
        st = FN(refresh_side)(&w->left, E->L, E->QL, rowm, o->m, rcols, 0, w->T);
        if (st == OPTREF_OK)
            st = FN(refresh_side)(&w->right, E->R, E->QR, colm, crows, o->n, 1, w->T);
    }
    FN(eb_project)(E, w, M, M); /* (d) */
    if (rotate_v)
        FN(eb_project)(E, w, rowm, rowm);
    return st;
}

/* ---- the update tail ---- */

void FN(eb_apply_update)(const fast_opt *o, real *W, real *U, double eta, unsigned long k)
{
    const size_t count = o->m * o->n;
    if (fast_opt_bool(o, "normalize_grads")) {
        real s = R_SQRT(FN(dot)(U, U, count) / (real)count) + R_SCALAR(1e-30);
        for (size_t i = 0; i < count; i++)
            U[i] /= s;
    }
    double etap = eta;
    if (fast_opt_bool(o, "correct_bias"))
        etap = eta * sqrt(1.0 - pow(fast_opt_real(o, "beta2"), (double)k)) /
               (1.0 - pow(fast_opt_real(o, "beta1"), (double)k));
    const real lr = R_SCALAR(etap), c = R_SCALAR(eta * fast_opt_real(o, "weight_decay"));
    const int decay_first = MUTANT("soap-decay-before-step");
    if (decay_first && c != 0)
        for (size_t i = 0; i < count; i++)
            W[i] -= c * W[i];
    for (size_t i = 0; i < count; i++)
        W[i] -= lr * U[i];
    if (!decay_first && c != 0)
        for (size_t i = 0; i < count; i++)
            W[i] -= c * W[i];
}
