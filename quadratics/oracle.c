/* Gradient oracles (spec/problems.md 3). G = oracle(X) on step t (1-based).
 * q = prec(G) + 64 is the precision of the intermediates; "dot" below is one
 * correctly rounded mpfr_dot (exact products, one rounding). Order:
 *
 * exact:     G_ij = dot(H_i:, X_:j) + B_ij, one rounding to prec(G).
 * rows-sq:   1. S_1..S_batch = rng_next_bounded(d) from stream 4, substream t,
 *               in order (repeats allowed; shared by every optimizer).
 *            2. R_bj = A_{S_b,:} X_:j - Y_{S_b,j}, one rounding at q (batch x p).
 *            3. D_kj = sum_b A_{S_b,k} R_bj, one rounding at q (D = A_S^T R).
 *            4. G_kj = (d D_kj) / batch: d D_kj exact, one rounding to prec(G).
 * rows-norm: 1.-3. as rows-sq; 4. n = sqrt(sum R_bj^2) (sum rounded at q,
 *               then sqrt at q); R = 0 (n = 0) gives G = 0;
 *            5. m = batch n rounded at q; G_kj = ((d D_kj) / m) / 2, one
 *               rounding to prec(G), the halving exact.
 * gauss:     1. Z (d x p) = rng_fill_normal from stream 5, substream t
 *               (binary64 values, exact).
 *            2. N = A Z, one rounding per entry at q;
 *            3. s = sqrt(batch) at q; W_ij = N_ij / s at q (C^(1/2) Z with
 *               C = H / batch, so C^(1/2) = A / sqrt(batch), for every problem);
 *            4. G_ij = dot(H_i:, X_:j) + B_ij + W_ij, one rounding to prec(G).
 * hvp:       not a gradient: OPTREF_EINVAL (use problem_apply_H).
 * Diagonal storage (nqm): row S_b of A is A_{S_b} e_{S_b}^T, so the dots have
 * the nonzero terms only (the same correctly rounded values). A zero result
 * is +0. G may alias X. */
#include "optref/problem.h"

#include <stdlib.h>
#include <string.h>

#include "optref/rng.h"

#define ORACLE_GUARD 64
#define ORACLE_BATCH_MAX ((size_t)1 << 31)

/* In oracle_kind order (oracles[kind] is kind's entry). */
static const oracle_info oracles[] = {
    {"exact", ORACLE_EXACT, "the full gradient H X + B"},
    {"rows-sq", ORACLE_ROWS_SQ, "unbiased least squares: (d / batch) A_S^T (A_S X - Y_S), "
                                "rows S from stream 4"},
    {"rows-norm", ORACLE_ROWS_NORM, "DeVA's trace_quadratic.py: (1/2)(d / batch) A_S^T R / "
                                    "||R||_F, R = A_S X - Y_S (biased)"},
    {"gauss", ORACLE_GAUSS, "H X + B + (H / batch)^(1/2) Z, Z ~ N(0,1) from stream 5"},
    {"hvp", ORACLE_HVP, "Hessian-vector products H U (problem_apply_H)"},
};

#define NORACLES (sizeof oracles / sizeof oracles[0])

size_t oracle_count(void)
{
    return NORACLES;
}

const oracle_info *oracle_info_at(size_t i)
{
    return i < NORACLES ? &oracles[i] : NULL;
}

const oracle_info *oracle_info_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < NORACLES; i++)
        if (strcmp(oracles[i].name, name) == 0)
            return &oracles[i];
    return NULL;
}

/* Pointer tables for mpfr_dot, freed together. */
typedef struct {
    mpfr_ptr *a, *b;
} dot_tables;

static optref_status tables_init(dot_tables *t, size_t n)
{
    t->a = malloc((n ? n : 1) * sizeof *t->a);
    t->b = malloc((n ? n : 1) * sizeof *t->b);
    if (t->a == NULL || t->b == NULL) {
        free(t->a), free(t->b);
        return optref_fail(OPTREF_ENOMEM, "oracle_gradient: cannot allocate %zu pointers", n);
    }
    return OPTREF_OK;
}

static void tables_clear(dot_tables *t)
{
    free(t->a), free(t->b);
}

/* T_ij = dot(H_i:, X_:j) + B_ij [+ W_ij], one rounding (exact and gauss). */
static optref_status affine(mpmat_ptr T, const problem *P, mpmat_srcptr X, mpmat_srcptr W)
{
    size_t hk = P->diagonal ? 1 : P->d, n = hk + 1 + (W != NULL);
    dot_tables t;
    optref_status st = tables_init(&t, n);
    if (st != OPTREF_OK)
        return st;
    mpfr_t one;
    mpfr_init2(one, 2);
    mpfr_set_ui(one, 1, MPFR_RNDN);
    for (size_t i = 0; i < P->d; i++)
        for (size_t j = 0; j < P->p; j++) {
            for (size_t k = 0; k < hk; k++) {
                t.a[k] = mpmat_entry(P->H, i, k);
                t.b[k] = mpmat_entry(X, P->diagonal ? i : k, j);
            }
            t.a[hk] = mpmat_entry(P->B, i, j), t.b[hk] = one;
            if (W != NULL)
                t.a[hk + 1] = mpmat_entry(W, i, j), t.b[hk + 1] = one;
            mpfr_dot(mpmat_entry(T, i, j), t.a, t.b, n, MPFR_RNDN);
        }
    mpfr_clear(one);
    tables_clear(&t);
    return OPTREF_OK;
}

/* Pairs (row, position in the batch), sorted by row then position. */
typedef struct {
    uint32_t row;
    size_t b;
} batch_row;

static int batch_row_cmp(const void *x, const void *y)
{
    const batch_row *u = x, *v = y;
    if (u->row != v->row)
        return u->row < v->row ? -1 : 1;
    return u->b < v->b ? -1 : u->b > v->b;
}

/* D = A_S^T R at D's precision (step 3). */
static void rows_transpose_product(mpmat_ptr D, const problem *P, const uint32_t *S,
                                   size_t batch, mpmat_srcptr R, dot_tables *t, batch_row *order)
{
    if (!P->diagonal) {
        for (size_t k = 0; k < P->d; k++)
            for (size_t j = 0; j < P->p; j++) {
                for (size_t b = 0; b < batch; b++)
                    t->a[b] = mpmat_entry(P->A, S[b], k), t->b[b] = mpmat_entry(R, b, j);
                mpfr_dot(mpmat_entry(D, k, j), t->a, t->b, batch, MPFR_RNDN);
            }
        return;
    }
    /* Diagonal: D_kj = A_k sum_{b: S_b = k} R_bj, rows not drawn stay 0. */
    for (size_t b = 0; b < batch; b++)
        order[b].row = S[b], order[b].b = b;
    qsort(order, batch, sizeof *order, batch_row_cmp);
    for (size_t g = 0; g < batch;) {
        size_t end = g;
        while (end < batch && order[end].row == order[g].row)
            end++;
        uint32_t k = order[g].row;
        for (size_t j = 0; j < P->p; j++) {
            for (size_t m = g; m < end; m++)
                t->a[m - g] = mpmat_entry(P->A, k, 0), t->b[m - g] = mpmat_entry(R, order[m].b, j);
            mpfr_dot(mpmat_entry(D, k, j), t->a, t->b, end - g, MPFR_RNDN);
        }
        g = end;
    }
}

/* rows-sq (norm = 0) and rows-norm (norm = 1) into T. */
static optref_status rows_oracle(mpmat_ptr T, const problem *P, int norm, size_t batch,
                                 uint32_t step, mpmat_srcptr X, mpfr_prec_t q)
{
    size_t d = P->d, p = P->p, n = (d + 1 > batch ? d + 1 : batch);
    uint32_t *S = malloc(batch * sizeof *S);
    batch_row *order = malloc(batch * sizeof *order);
    dot_tables t;
    mpmat_t R, D;
    optref_status st = OPTREF_OK;
    if (S == NULL || order == NULL) {
        free(S), free(order);
        return optref_fail(OPTREF_ENOMEM, "oracle_gradient: cannot allocate a batch of %zu", batch);
    }
    if ((st = tables_init(&t, n)) != OPTREF_OK) {
        free(S), free(order);
        return st;
    }
    R->e = D->e = NULL;
    if ((st = mpmat_init(R, batch, p, q)) == OPTREF_OK)
        st = mpmat_init(D, d, p, q);
    if (st == OPTREF_OK) {
        /* 1. rows S_b */
        rng_stream s;
        rng_stream_init(&s, P->seed, RNG_STREAM_ROWS, step);
        for (size_t b = 0; b < batch; b++)
            S[b] = rng_next_bounded(&s, (uint32_t)d);
        /* 2. R = A_S X - Y_S */
        mpfr_t minus_one, num, den;
        mpfr_init2(minus_one, 2);
        mpfr_set_si(minus_one, -1, MPFR_RNDN);
        for (size_t b = 0; b < batch; b++)
            for (size_t j = 0; j < p; j++) {
                size_t m = 0;
                for (size_t k = 0; k < (P->diagonal ? 1 : d); k++, m++) {
                    t.a[m] = mpmat_entry(P->A, S[b], k);
                    t.b[m] = mpmat_entry(X, P->diagonal ? S[b] : k, j);
                }
                t.a[m] = mpmat_entry(P->Y, S[b], j), t.b[m] = minus_one;
                mpfr_dot(mpmat_entry(R, b, j), t.a, t.b, m + 1, MPFR_RNDN);
            }
        /* 3. D = A_S^T R */
        rows_transpose_product(D, P, S, batch, R, &t, order);
        /* 4. (5.) the scale */
        mpfr_inits2(q + 32, num, den, (mpfr_ptr)0);
        mpfr_set_ui(den, (unsigned long)batch, MPFR_RNDN);
        if (norm) {
            mpfr_set_prec(den, q);
            mpmat_sumsq(den, R);
            mpfr_sqrt(den, den, MPFR_RNDN);
            mpfr_mul_ui(den, den, (unsigned long)batch, MPFR_RNDN);
        }
        for (size_t k = 0; k < d; k++)
            for (size_t j = 0; j < p; j++) {
                mpfr_ptr g = mpmat_entry(T, k, j);
                if (mpfr_zero_p(den) || mpfr_zero_p(mpmat_entry(D, k, j))) {
                    mpfr_set_zero(g, 1); /* R = 0 (rows-norm), or a zero entry */
                    continue;
                }
                mpfr_mul_ui(num, mpmat_entry(D, k, j), (unsigned long)d, MPFR_RNDN); /* exact */
                mpfr_div(g, num, den, MPFR_RNDN);
                if (norm)
                    mpfr_div_2ui(g, g, 1, MPFR_RNDN);
            }
        mpfr_clears(minus_one, num, den, (mpfr_ptr)0);
    }
    mpmat_clear(R), mpmat_clear(D);
    tables_clear(&t);
    free(S), free(order);
    return st;
}

/* gauss into T (steps 1-4). */
static optref_status gauss_oracle(mpmat_ptr T, const problem *P, size_t batch, uint32_t step,
                                  mpmat_srcptr X, mpfr_prec_t q)
{
    mpmat_t Z, W;
    optref_status st = mpmat_init(Z, P->d, P->p, 53);
    if (st != OPTREF_OK)
        return st;
    if ((st = mpmat_init(W, P->d, P->p, q)) != OPTREF_OK) {
        mpmat_clear(Z);
        return st;
    }
    rng_stream s;
    rng_stream_init(&s, P->seed, RNG_STREAM_NOISE, step);
    rng_fill_normal(Z, &s);
    if (P->diagonal) {
        for (size_t i = 0; i < P->d; i++)
            for (size_t j = 0; j < P->p; j++)
                mpfr_mul(mpmat_entry(W, i, j), mpmat_entry(P->A, i, 0), mpmat_entry(Z, i, j),
                         MPFR_RNDN);
    } else
        st = mpmat_mul(W, P->A, Z);
    if (st == OPTREF_OK) {
        mpfr_t r;
        mpfr_init2(r, q);
        mpfr_sqrt_ui(r, (unsigned long)batch, MPFR_RNDN);
        for (size_t k = 0; k < P->d * P->p; k++)
            mpfr_div(W->e + k, W->e + k, r, MPFR_RNDN);
        mpfr_clear(r);
        st = affine(T, P, X, W);
    }
    mpmat_clear(Z), mpmat_clear(W);
    return st;
}

optref_status oracle_gradient(mpmat_ptr G, const problem *P, oracle_kind kind, size_t batch,
                              uint64_t t, mpmat_srcptr X)
{
    if (kind == ORACLE_HVP)
        return optref_fail(OPTREF_EINVAL, "oracle_gradient: hvp is not a gradient oracle: use "
                           "problem_apply_H for Hessian-vector products");
    if ((unsigned)kind > ORACLE_GAUSS)
        return optref_fail(OPTREF_EINVAL, "oracle_gradient: unknown oracle kind %d", (int)kind);
    if (X->rows != P->d || X->cols != P->p || G->rows != P->d || G->cols != P->p)
        return optref_fail(OPTREF_ESHAPE, "oracle_gradient: X is %zux%zu and G %zux%zu, "
                           "expected %zux%zu", X->rows, X->cols, G->rows, G->cols, P->d, P->p);
    if (!mpmat_is_finite(X))
        return optref_fail(OPTREF_ENONFINITE, "oracle_gradient: X has a non-finite entry at "
                           "index %zu", mpmat_first_nonfinite(X));
    if (t == 0 || t > UINT32_MAX)
        return optref_fail(OPTREF_EINVAL, "oracle_gradient: step t=%llu is outside [1, 2^32 - 1] "
                           "(t is the 1-based step, the substream of streams 4 and 5)",
                           (unsigned long long)t);
    if (kind != ORACLE_EXACT && (batch < 1 || batch > ORACLE_BATCH_MAX))
        return optref_fail(OPTREF_EINVAL, "oracle_gradient: batch=%zu for %s is outside "
                           "[1, 2^31]", batch, oracles[kind].name);
    mpfr_prec_t q = G->prec + ORACLE_GUARD;
    mpmat_t T;
    optref_status st = mpmat_init(T, P->d, P->p, G->prec);
    if (st != OPTREF_OK)
        return st;
    switch (kind) {
    case ORACLE_EXACT:
        st = affine(T, P, X, NULL);
        break;
    case ORACLE_ROWS_SQ:
    case ORACLE_ROWS_NORM:
        st = rows_oracle(T, P, kind == ORACLE_ROWS_NORM, batch, (uint32_t)t, X, q);
        break;
    default:
        st = gauss_oracle(T, P, batch, (uint32_t)t, X, q);
        break;
    }
    if (st == OPTREF_OK) {
        for (size_t k = 0; k < P->d * P->p; k++)
            if (mpfr_zero_p(T->e + k))
                mpfr_set_zero(T->e + k, 1); /* the canonical zero */
        mpmat_set(G, T);
    }
    mpmat_clear(T);
    return st;
}
