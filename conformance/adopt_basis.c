/* The validation of a backend's basis before the reference adopts it
 * (adopt_basis.h), derived in proofs/conformance-adopted-basis.md. Products
 * are formed in MPFR at the reference's 256 bits from the backend's exact
 * values; norms and decisions are then evaluated in binary64 (a relative
 * error of 1e-16 in a ratio is immaterial). Every ratio is in units of
 * n u ||P^||_F (orthogonality: n u), LAPACK's normalisation (xSYT21, xQRT01),
 * and passes at most ADOPT_THRESHOLD. */
#include "adopt_basis.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ADOPT_PREC 256

/* ---- the engine's side ---- */

static size_t state_index(const ref_opt *o, const char *name)
{
    for (size_t i = 0; i < o->info->nstate; i++)
        if (strcmp(o->info->state[i].name, name) == 0)
            return i;
    return o->info->nstate;
}

optref_status adopt_init(adopt_ctx *a, const ref_opt *o)
{
    memset(a, 0, sizeof *a);
    static const char *const names[6] = {"L", "R", "Q_L", "Q_R", "basis_ready", "k"};
    size_t idx[6];
    for (size_t i = 0; i < 6; i++)
        if ((idx[i] = state_index(o, names[i])) == o->info->nstate)
            return OPTREF_OK; /* not an eigenbasis optimizer: nothing to adopt */
    a->iP[0] = idx[0], a->iP[1] = idx[1], a->iQ[0] = idx[2], a->iQ[1] = idx[3];
    a->iready = idx[4], a->ik = idx[5];
    optref_status st = OPTREF_OK;
    for (int s = 0; s < 2 && st == OPTREF_OK; s++)
        st = mpmat_init(a->Qin[s], o->state[a->iQ[s]]->rows, o->state[a->iQ[s]]->cols,
                        ADOPT_PREC);
    a->on = st == OPTREF_OK;
    return st;
}

void adopt_clear(adopt_ctx *a)
{
    mpmat_clear(a->Qin[0]), mpmat_clear(a->Qin[1]); /* safe when never initialised */
}

void adopt_note_inputs(adopt_ctx *a, const ref_opt *backend_in)
{
    if (a->on)
        for (int s = 0; s < 2; s++)
            mpmat_set(a->Qin[s], backend_in->state[a->iQ[s]]);
}

int adopt_basis_step(const adopt_ctx *a, const ref_opt *in)
{
    if (!a->on)
        return 0;
    if (mpfr_zero_p(in->state[a->iready]->e))
        return 1;
    unsigned long f = (unsigned long)ref_opt_int(in, "precondition_frequency");
    unsigned long k = mpfr_get_ui(in->state[a->ik]->e, MPFR_RNDN) + 1;
    return f > 0 && k % f == 0;
}

int adopt_loose(const adopt_ctx *a, const rerr_ctx *c, const rerr_mat *out, int s)
{
    if (!a->on)
        return 0;
    mpmat_srcptr E = out[1 + a->iQ[s]].e;
    mpfr_t t;
    mpfr_init2(t, 64);
    int loose = 0;
    for (size_t k = 0; !loose && k < E->rows * E->cols; k++) {
        mpfr_mul(t, E->e + k, c->u, MPFR_RNDN);
        loose = mpfr_cmp_d(t, 0.5) >= 0;
    }
    mpfr_clear(t);
    return loose;
}

optref_status adopt_validate(adopt_verdict *v, const adopt_ctx *a, const ref_opt *in,
                             const ref_opt *fast, int s, mpfr_srcptr u)
{
    memset(v, 0, sizeof *v);
    v->test = "none";
    mpmat_srcptr P = fast->state[a->iP[s]], Q = fast->state[a->iQ[s]];
    if (!a->on || Q->rows == 0)
        return OPTREF_OK;
    double ud = mpfr_get_d(u, MPFR_RNDN);
    if (mpfr_zero_p(in->state[a->iready]->e))
        return adopt_check_eigh(v, P, Q, ud);
    return adopt_check_refresh(v, P, a->Qin[s], Q, ud);
}

/* ---- helpers ---- */

static const char *const test_names[ADOPT_TESTS] = {"orthogonality", "residual", "cluster",
                                                     "QR relation", "dropped column"};

const char *adopt_test_name(int i)
{
    return i >= 0 && i < ADOPT_TESTS ? test_names[i] : "?";
}

static void note(adopt_verdict *v, double ratio, int test, size_t col)
{
    if (!(ratio <= v->by_test[test]))
        v->by_test[test] = ratio;
    if (!(ratio <= v->ratio)) { /* NaN too */
        v->ratio = ratio;
        v->test = test_names[test];
        v->col = col;
    }
}

/* A binary64 copy of A (row-major). */
static double *to_doubles(mpmat_srcptr A)
{
    size_t k = A->rows * A->cols;
    double *d = malloc((k ? k : 1) * sizeof *d);
    if (d != NULL)
        for (size_t i = 0; i < k; i++)
            d[i] = mpfr_get_d(A->e + i, MPFR_RNDN);
    return d;
}

/* ||Q^T Q - I||_F / (n u); the first test of a validation (v starts here). */
static optref_status orthogonality(adopt_verdict *v, mpmat_srcptr Q, double u)
{
    memset(v, 0, sizeof *v);
    v->test = "none";
    size_t n = Q->rows;
    mpmat_t G;
    optref_status st = mpmat_init(G, n, n, ADOPT_PREC);
    if (st == OPTREF_OK)
        st = mpmat_mul_tn(G, Q, Q);
    if (st == OPTREF_OK) {
        double s = 0, worst = 0;
        size_t col = 0;
        for (size_t j = 0; j < n; j++) {
            double cs = 0;
            for (size_t i = 0; i < n; i++) {
                mpfr_ptr g = mpmat_entry(G, i, j);
                if (i == j)
                    mpfr_sub_ui(g, g, 1, MPFR_RNDN);
                double x = mpfr_get_d(g, MPFR_RNDN);
                cs += x * x;
            }
            s += cs;
            if (cs > worst)
                worst = cs, col = j;
        }
        note(v, sqrt(s) / ((double)n * u), ADOPT_ORTHOGONALITY, col);
    }
    mpmat_clear(G);
    return st;
}

static double fro_d(mpmat_srcptr A)
{
    double s = 0;
    for (size_t i = 0; i < A->rows * A->cols; i++) {
        double x = mpfr_get_d(A->e + i, MPFR_RNDN);
        s += x * x;
    }
    return sqrt(s);
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* ---- first call: an eigenbasis up to clusters ---- */

/* The eigenvalues of the diagonal block [b0, b1) of the symmetric H into w
 * (binary64). */
static optref_status block_eigenvalues(double *w, mpmat_srcptr H, size_t b0, size_t b1)
{
    size_t d = b1 - b0;
    mpmat_t B, e;
    e->e = NULL;
    /* 96 bits: the eigenvalues are needed to well below u ||P||_F */
    optref_status st = mpmat_init(B, d, d, 96);
    if (st == OPTREF_OK)
        st = mpmat_init(e, d, 1, 96);
    for (size_t i = 0; st == OPTREF_OK && i < d; i++)
        for (size_t j = 0; j < d; j++)
            mpfr_set(mpmat_entry(B, i, j), mpmat_entry(H, b0 + i, b0 + j), MPFR_RNDN);
    if (st == OPTREF_OK)
        st = mpmat_eigh(e, NULL, B);
    for (size_t i = 0; st == OPTREF_OK && i < d; i++)
        w[i] = mpfr_get_d(e->e + i, MPFR_RNDN);
    mpmat_clear(B), mpmat_clear(e);
    return st;
}

/* ||P Q_b - Q_b H_bb||_F of the columns [b0, b1) (PQ = P Q, H = Q^T P Q). */
static optref_status block_residual(double *r, mpmat_srcptr PQ, mpmat_srcptr Q, mpmat_srcptr H,
                                    size_t b0, size_t b1)
{
    size_t n = Q->rows;
    mpfr_t t, qh;
    mpfr_inits2(ADOPT_PREC, t, qh, (mpfr_ptr)0);
    double s = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = b0; k < b1; k++) {
            mpfr_set(t, mpmat_entry(PQ, i, k), MPFR_RNDN);
            for (size_t l = b0; l < b1; l++) {
                mpfr_mul(qh, mpmat_entry(Q, i, l), mpmat_entry(H, l, k), MPFR_RNDN);
                mpfr_sub(t, t, qh, MPFR_RNDN);
            }
            double x = mpfr_get_d(t, MPFR_RNDN);
            s += x * x;
        }
    mpfr_clears(t, qh, (mpfr_ptr)0);
    *r = sqrt(s);
    return OPTREF_OK;
}

/* One cluster candidate [b0, b1) with the eigenvalues w[0..d) of its fine
 * blocks: its residual, and the chain test (sorted descending, neighbours
 * differ by at most the backend's tolerance; the excess in units of scale). */
static optref_status candidate(adopt_verdict *v, mpmat_srcptr PQ, mpmat_srcptr Q,
                               mpmat_srcptr H, size_t b0, size_t b1, double *w, double tol,
                               double scale)
{
    double r;
    optref_status st = block_residual(&r, PQ, Q, H, b0, b1);
    note(v, r / scale, ADOPT_RESIDUAL, b0);
    size_t d = b1 - b0;
    qsort(w, d, sizeof *w, cmp_desc);
    for (size_t i = 1; i < d; i++)
        note(v, fmax(0, w[i - 1] - w[i] - tol) / scale, ADOPT_CLUSTER, b0);
    return st;
}

optref_status adopt_check_eigh(adopt_verdict *v, mpmat_srcptr P, mpmat_srcptr Q, double u)
{
    size_t n = P->rows;
    optref_status st = orthogonality(v, Q, u);
    mpmat_t PQ, H;
    PQ->e = H->e = NULL;
    double *Hd = NULL, *w = malloc(n * sizeof *w), *sw = malloc(n * sizeof *sw);
    if (st == OPTREF_OK)
        st = mpmat_init(PQ, n, n, ADOPT_PREC);
    if (st == OPTREF_OK)
        st = mpmat_init(H, n, n, ADOPT_PREC);
    if (st == OPTREF_OK)
        st = mpmat_mul(PQ, P, Q);
    if (st == OPTREF_OK)
        st = mpmat_mul_tn(H, Q, PQ);
    for (size_t i = 0; st == OPTREF_OK && i < n; i++) /* exactly symmetric for mpmat_eigh */
        for (size_t j = i + 1; j < n; j++)
            mpfr_set(mpmat_entry(H, j, i), mpmat_entry(H, i, j), MPFR_RNDN);
    if (st == OPTREF_OK && ((Hd = to_doubles(H)) == NULL || w == NULL || sw == NULL))
        st = optref_fail(OPTREF_ENOMEM, "adopt: out of memory");
    if (st != OPTREF_OK)
        goto done;
    double pn = fro_d(P), scale = (double)n * u * pn, tol = sqrt(u) * pn;
    if (scale == 0)
        scale = DBL_MIN;
    /* fine blocks: the finest split into consecutive blocks whose coupling
     * ||H[<j, >=j]||_F at each boundary j is at most T scale / 2; cluster
     * candidates: consecutive fine blocks, a new one starting where a fine
     * block lies below the current candidate by more than the tolerance
     * less the slack T scale (within a backend cluster the canonical basis
     * follows index order, not the eigenvalues') */
    size_t b0 = 0, s0 = 0, ns = 0;
    double smin = INFINITY;
    for (size_t j = 1; j <= n && st == OPTREF_OK; j++) {
        if (j < n) {
            double cpl = 0;
            for (size_t i = 0; i < j; i++)
                for (size_t k = j; k < n; k++)
                    cpl += Hd[i * n + k] * Hd[i * n + k];
            if (sqrt(cpl) > ADOPT_THRESHOLD * scale / 2)
                continue;
        }
        size_t d = j - b0;
        if ((st = block_eigenvalues(w, H, b0, j)) != OPTREF_OK)
            break;
        double bmax = -INFINITY, bmin = INFINITY;
        for (size_t k = 0; k < d; k++)
            bmax = fmax(bmax, w[k]), bmin = fmin(bmin, w[k]);
        if (ns > 0 && smin - bmax > tol - ADOPT_THRESHOLD * scale) {
            st = candidate(v, PQ, Q, H, s0, b0, sw, tol, scale);
            ns = 0, smin = INFINITY, s0 = b0;
        }
        memcpy(sw + ns, w, d * sizeof *w);
        ns += d;
        smin = fmin(smin, bmin);
        b0 = j;
    }
    if (st == OPTREF_OK && ns > 0)
        st = candidate(v, PQ, Q, H, s0, n, sw, tol, scale);
done:
    mpmat_clear(PQ), mpmat_clear(H);
    free(Hd), free(w), free(sw);
    return st;
}

/* ---- refresh: the canonical-rule QR of P^ Qold[:, pi] ---- */

optref_status adopt_check_refresh(adopt_verdict *v, mpmat_srcptr P, mpmat_srcptr Qold,
                                  mpmat_srcptr Q, double u)
{
    size_t n = P->rows;
    optref_status st = orthogonality(v, Q, u);
    mpmat_t A, R, e;
    A->e = R->e = e->e = NULL;
    size_t *pi = malloc(n * sizeof *pi), *grp = malloc(n * sizeof *grp);
    char *kept = calloc(n, 1), *used = calloc(n, 1);
    mpfr_ptr *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
    double *Rd = NULL, *Pd = to_doubles(P), *Qd = to_doubles(Qold), *ee = malloc(n * sizeof *ee);
    if (st == OPTREF_OK && (!pi || !grp || !kept || !used || !pa || !pb || !Pd || !Qd || !ee))
        st = optref_fail(OPTREF_ENOMEM, "adopt: out of memory");
    if (st == OPTREF_OK)
        st = mpmat_init(A, n, n, ADOPT_PREC);
    if (st == OPTREF_OK)
        st = mpmat_init(R, n, n, ADOPT_PREC);
    if (st == OPTREF_OK)
        st = mpmat_init(e, n, 1, ADOPT_PREC);
    if (st == OPTREF_OK)
        st = mpmat_mul(A, P, Qold); /* the columns a_c = P^ qold_c */
    if (st == OPTREF_OK)
        st = mpmat_mul_tn(R, Q, A); /* R[i][c] = q^_i . a_c */
    if (st == OPTREF_OK && (Rd = to_doubles(R)) == NULL)
        st = optref_fail(OPTREF_ENOMEM, "adopt: out of memory");
    if (st != OPTREF_OK)
        goto done;
    /* e_c = qold_c . a_c, and the backend's error on it: P Q by GEMM and one
     * dot, 2 (n + 1) u sum_i |qold_ic| (|P^| |qold_c|)_i, plus binary64's rounding */
    for (size_t c = 0; c < n; c++) {
        for (size_t i = 0; i < n; i++)
            pa[i] = mpmat_entry(Qold, i, c), pb[i] = mpmat_entry(A, i, c);
        mpfr_dot(e->e + c, pa, pb, n, MPFR_RNDN);
        double s = 0;
        for (size_t i = 0; i < n; i++) {
            double t = 0;
            for (size_t k = 0; k < n; k++)
                t += fabs(Pd[i * n + k]) * fabs(Qd[k * n + c]);
            s += fabs(Qd[i * n + c]) * t;
        }
        double ev = mpfr_get_d(e->e + c, MPFR_RNDN);
        ee[c] = 2.0 * (n + 1) * u * s + 0x1p-52 * fabs(ev);
    }
    if ((st = mpvec_argsort(pi, e->e, n, 1)) != OPTREF_OK)
        goto done;
    /* positions whose intervals e +- ee overlap (closure, sorted order) may
     * hold any member of their group in the backend's order */
    double low = 0;
    for (size_t p = 0; p < n; p++) {
        double x = mpfr_get_d(e->e + pi[p], MPFR_RNDN), dx = ee[pi[p]];
        if (p > 0 && x + dx >= low)
            grp[p] = grp[p - 1];
        else
            grp[p] = p, low = x - dx;
        low = fmin(low, x - dx);
    }
    double pn = fro_d(P), scale = (double)n * u * pn, tol = sqrt(u) * pn;
    if (scale == 0)
        scale = DBL_MIN;
    for (size_t p = 0; p < n; p++) {
        /* the members of p's group not placed yet: kept at p (a_c in the span
         * of the kept q^ before p and q^_p, distance from the former above the
         * tolerance) or dropped at p (distance at most the tolerance) */
        size_t best = n;
        double best_r = INFINITY;
        int best_rank = 3, best_kept = 0;
        for (size_t q = grp[p]; q < n && grp[q] == grp[p]; q++) {
            size_t c = pi[q];
            if (used[c])
                continue;
            double d2 = 0, off2 = 0;
            for (size_t i = 0; i < n; i++) {
                if (kept[i])
                    continue;
                double x = Rd[i * n + c];
                d2 += x * x;
                if (i != p)
                    off2 += x * x;
            }
            double kr = fmax(sqrt(off2), tol - sqrt(d2)) / scale;
            double dr = (sqrt(d2) - tol) / scale;
            /* rank 0: fits kept, 1: fits dropped (the first such member in
             * the order), 2: fits neither (the nearest, a violation) */
            int rank = kr <= ADOPT_THRESHOLD ? 0 : dr <= ADOPT_THRESHOLD ? 1 : 2;
            double r = rank == 0 ? sqrt(off2) / scale : rank == 1 ? fmax(0, dr) : fmin(kr, dr);
            if (rank < best_rank || (rank == 2 && r < best_r)) {
                best = c, best_r = r, best_rank = rank;
                best_kept = rank == 0 || (rank == 2 && kr < dr);
            }
        }
        used[best] = 1;
        kept[p] = (char)best_kept;
        note(v, best_r, best_kept ? ADOPT_QR : ADOPT_DROPPED, p);
    }
done:
    mpmat_clear(A), mpmat_clear(R), mpmat_clear(e);
    free(pi), free(grp), free(kept), free(used), free(pa), free(pb);
    free(Rd), free(Pd), free(Qd), free(ee);
    return st;
}
