/* Perturbation bounds of the spectral steps (bounds_spectral.h), derived in
 * proofs/conformance-eigenbasis.md. Values are the reference kernels'
 * (mpmat_eigh, eigenbasis_qr_canonical, mpmat_sym_inv_root) on the values of
 * the rerr inputs; the bounds, being estimates of error sizes, are
 * evaluated in binary64 from the exact values (relative errors 1e-16 in a
 * bound are immaterial), except where a decision needs the exact values
 * (distances of nearly dependent columns: MPFR). */
#include "bounds_spectral.h"

#include <math.h>
#include <stdlib.h>

#include "../ref/optim/eigenbasis.h"

/* Any two unit vectors' entries differ by at most 2 (plus the backend's
 * rounding of a unit vector): the jump of a free column. */
#define WILD 2.001

/* ---- helpers on binary64 copies ---- */

static double *dup_values(mpmat_srcptr A)
{
    size_t k = A->rows * A->cols;
    double *d = malloc((k ? k : 1) * sizeof *d);
    if (d != NULL)
        for (size_t i = 0; i < k; i++)
            d[i] = mpfr_get_d(A->e + i, MPFR_RNDN);
    return d;
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

static double unit(const rerr_ctx *c)
{
    return mpfr_get_d(c->u, MPFR_RNDN);
}

/* e of column j := err (units of u) for every entry. */
static void set_column_e(mpmat_ptr E, size_t j, double err)
{
    for (size_t i = 0; i < E->rows; i++)
        mpfr_set_d(mpmat_entry(E, i, j), err, MPFR_RNDU);
}

void bound_columns_wild_one(rerr_ctx *c, rerr_mat *Q, size_t j)
{
    set_column_e(Q->e, j, WILD / unit(c));
    c->near++;
}

void bound_columns_wild(rerr_ctx *c, rerr_mat *Q, size_t j0)
{
    double w = WILD / unit(c);
    for (size_t j = j0; j < Q->v->cols; j++) {
        set_column_e(Q->e, j, w);
        c->near++;
    }
}

/* The sign rule (largest-magnitude component positive, first on ties) of a
 * column q known to within err per entry: the backend may flip it when a
 * component of magnitude within 2 err of the largest has a negative or an
 * uncertain sign. Then every entry gains the jump 2|q_i|. */
static int sign_may_flip(const double *V, size_t n, size_t j, double err)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (fabs(V[i * n + j]) > fabs(V[best * n + j]))
            best = i;
    double top = fabs(V[best * n + j]);
    for (size_t i = 0; i < n; i++) {
        double x = V[i * n + j];
        if (i != best && fabs(x) >= top - 2 * err && (x < 0 || fabs(x) <= err))
            return 1;
    }
    return 0;
}

/* Bound of column j with entry error err (absolute; sign rule applied when
 * sign): e = err / u, or the free column when err is not below 1/2. */
static void column_bound(rerr_ctx *c, rerr_mat *Q, const double *V, size_t j, double err,
                         int sign)
{
    size_t n = Q->v->rows;
    double u = unit(c);
    if (!(err < 0.5)) { /* the bound exceeds O(1): a free column */
        set_column_e(Q->e, j, WILD / u);
        c->near++;
        return;
    }
    int flip = sign && sign_may_flip(V, n, j, err);
    if (flip)
        c->near++;
    for (size_t i = 0; i < n; i++) {
        double e = err / u + (flip ? 2 * fabs(V[i * n + j]) / u : 0);
        mpfr_set_d(mpmat_entry(Q->e, i, j), e, MPFR_RNDU);
    }
}

/* Sun's bound on the Q factor of A + dA: ||dQ||_F <= sqrt(2) ||A^+|| ||dA||_F
 * / (1 - ||A^+|| ||dA||) (first order sqrt(2) x, x = ||A^+|| ||dA||; Sun 1991,
 * Stewart 1993), with ||A^+||_2 <= ||R^-1||_F = rinv; infinite (a free basis)
 * when x >= 1/2. */
static double qr_perturbation(double rinv, double dA)
{
    double x = rinv * dA;
    return x < 0.5 ? sqrt(2.0) * x / (1 - x) : INFINITY;
}

/* The canonical Gram-Schmidt basis (spec 1.2) held in columns cols[0..d) of
 * V (n x n, binary64 copy of the exact values): the candidates are the
 * projections x_i of e_1, e_2, ... onto their span, each perturbed by at most
 * eta (2-norm) in the backend. Candidate i's residual after the s kept
 * vectors is sqrt(sum_{t >= s} V[i, cols[t]]^2) (x_i = sum_t V[i, cols[t]] q_t);
 * the kept ones form R (d x d upper triangular, R[t][s] = V[i_s, cols[t]]),
 * and column s of the basis moves by at most sqrt(2) ||R_{<=s}^{-1}||_F
 * sqrt(s + 1) eta (Sun's QR perturbation bound on the leading columns).
 * err[s] receives that bound; returns -1 when a skip decision is within
 * its perturbation of the threshold 1/(2 sqrt n) (the backend may keep
 * another candidate: the basis is free), else 0. */
static int gs_bound(const double *V, size_t n, const size_t *cols, size_t d, double eta,
                    double u, double *err)
{
    if (d == 0)
        return 0;
    double *R = calloc(d * d, sizeof *R), *Ri = calloc(d * d, sizeof *Ri);
    if (R == NULL || Ri == NULL) {
        free(R), free(Ri);
        return -1;
    }
    double h = 1 / (2 * sqrt((double)n)), fro2 = 0, dq = 0;
    size_t s = 0;
    int wild = 0;
    for (size_t i = 0; i < n && s < d && !wild; i++) {
        double r2 = 0;
        for (size_t t = s; t < d; t++)
            r2 += V[i * n + cols[t]] * V[i * n + cols[t]];
        double r = sqrt(r2), dr = eta + 2 * dq + 2 * n * u;
        if (fabs(r - h) <= dr) {
            wild = 1;
            break;
        }
        if (r < h)
            continue;
        for (size_t t = 0; t <= s; t++)
            R[t * d + s] = V[i * n + cols[t]];
        Ri[s * d + s] = 1 / R[s * d + s];
        for (size_t t = s; t-- > 0;) {
            double acc = 0;
            for (size_t k = t; k < s; k++)
                acc += Ri[t * d + k] * R[k * d + s];
            Ri[t * d + s] = -acc / R[s * d + s];
        }
        for (size_t t = 0; t <= s; t++)
            fro2 += Ri[t * d + s] * Ri[t * d + s];
        dq = qr_perturbation(sqrt(fro2), sqrt((double)(s + 1)) * eta);
        err[s] = dq + n * u;
        s++;
    }
    free(R), free(Ri);
    return wild || s < d ? -1 : 0;
}

/* ---- eigenvectors ---- */

/* The backend's cluster decision at boundary k, gap g: 1 joins, 0 splits,
 * -1 undecided (within the gap's error dg of the tolerance [tlo, thi]). */
static int backend_joins(double g, double dg, double tlo, double thi)
{
    if (g + dg <= tlo)
        return 1;
    if (g - dg > thi)
        return 0;
    return -1;
}

optref_status bound_eigh_canonical(rerr_ctx *c, rerr_mat *Q, const rerr_mat *P)
{
    size_t n = P->v->rows;
    if (n == 0)
        return OPTREF_OK;
    mpmat_t w;
    optref_status st = mpmat_init(w, n, 1, c->prec);
    if (st == OPTREF_OK)
        st = mpmat_eigh(w, Q->v, P->v);
    double *V = st == OPTREF_OK ? dup_values(Q->v) : NULL, *g = malloc(n * sizeof *g);
    double *err = malloc(n * sizeof *err);
    size_t *cols = malloc(n * sizeof *cols);
    int *bj = malloc(n * sizeof *bj), *rj = malloc(n * sizeof *rj);
    if (st == OPTREF_OK && (!V || !g || !err || !cols || !bj || !rj))
        st = optref_fail(OPTREF_ENOMEM, "bound_eigh_canonical: out of memory");
    if (st != OPTREF_OK)
        goto done;
    double u = unit(c), pn = fro_d(P->v), ep = fro_d(P->e);
    double delta = ep + n * pn; /* ||dP||_2 / u: the input's bound and syevd's backward error */
    double rel = (n * n + 4.0) * u + (pn > 0 ? u * ep / pn : 0);
    double tb = sqrt(u) * pn, tlo = tb * (1 - rel), thi = tb * (1 + rel);
    double tref = ldexp(pn, -(int)(c->prec / 2));
    mpfr_t d;
    mpfr_init2(d, c->prec);
    for (size_t k = 1; k < n; k++) { /* boundaries between k - 1 and k */
        mpfr_sub(d, w->e + k - 1, w->e + k, MPFR_RNDN);
        g[k] = mpfr_get_d(d, MPFR_RNDN);
        bj[k] = backend_joins(g[k], 2 * u * delta + u * g[k], tlo, thi);
        rj[k] = g[k] <= tref;
    }
    mpfr_clear(d);
    size_t c0 = 0;
    for (size_t k = 1; k <= n; k++) {
        if (k < n && bj[k] != 0)
            continue; /* joined, or undecided: one group */
        /* group [c0, k): free when a boundary inside is undecided or the
         * reference splits where the backend joins */
        int wild = 0;
        for (size_t j = c0 + 1; j < k; j++)
            wild |= bj[j] < 0 || !rj[j];
        double gap = INFINITY;
        if (c0 > 0)
            gap = g[c0];
        if (k < n && g[k] < gap)
            gap = g[k];
        double geff = gap - 2 * u * delta;
        double eps_angle = isinf(gap) ? 0 : u * delta / geff;
        if (!(geff > 0) || !(eps_angle < 0.5))
            wild = 1;
        if (wild) {
            for (size_t j = c0; j < k; j++) {
                set_column_e(Q->e, j, WILD / u);
                c->near++;
            }
        } else if (k - c0 == 1) {
            column_bound(c, Q, V, c0, sqrt(2.0) * eps_angle + n * u, 1);
        } else {
            for (size_t j = c0; j < k; j++)
                cols[j - c0] = j;
            int gw = gs_bound(V, n, cols, k - c0, eps_angle + 2 * n * u, u, err);
            if (gw != 0) {
                for (size_t j = c0; j < k; j++) {
                    set_column_e(Q->e, j, WILD / u);
                    c->near++;
                }
            } else {
                for (size_t j = c0; j < k; j++)
                    column_bound(c, Q, V, j, err[j - c0], 0);
            }
        }
        c0 = k;
    }
done:
    mpmat_clear(w);
    free(V), free(g), free(err), free(cols), free(bj), free(rj);
    return st;
}

/* ---- the canonical QR of the refresh ---- */

/* dot(x, y) of columns i of X and j of Y (n entries), correctly rounded. */
static void col_dot(mpfr_ptr r, mpmat_srcptr X, size_t i, mpmat_srcptr Y, size_t j, mpfr_ptr *pa,
                    mpfr_ptr *pb)
{
    for (size_t k = 0; k < X->rows; k++)
        pa[k] = mpmat_entry(X, k, i), pb[k] = mpmat_entry(Y, k, j);
    mpfr_dot(r, pa, pb, X->rows, MPFR_RNDN);
}

optref_status bound_qr_canonical(rerr_ctx *c, rerr_mat *Q, const rerr_mat *A, mpfr_srcptr pnorm,
                                 mpfr_srcptr pnorm_e, unsigned char *status)
{
    size_t n = A->v->rows;
    if (n == 0)
        return OPTREF_OK;
    mpfr_t tol, t;
    mpfr_inits2(c->prec, tol, t, (mpfr_ptr)0);
    /* the reference's tolerance (eigenbasis_tol): sqrt(2^-p) ||P||_F */
    mpfr_set_ui_2exp(tol, 1, -(long)c->prec, MPFR_RNDN);
    mpfr_sqrt(tol, tol, MPFR_RNDN);
    mpfr_mul(tol, tol, pnorm, MPFR_RNDN);
    optref_status st = eigenbasis_qr_canonical(Q->v, A->v, tol);
    double *V = st == OPTREF_OK ? dup_values(Q->v) : NULL;
    double *R = calloc(n * n, sizeof *R), *Ri = calloc(n * n, sizeof *Ri);
    double *err = malloc(n * sizeof *err);
    size_t *kept = malloc(n * sizeof *kept), *dropped = malloc(n * sizeof *dropped);
    mpfr_ptr *pa = malloc(n * sizeof *pa), *pb = malloc(n * sizeof *pb);
    mpmat_t r;
    r->e = NULL;
    if (st == OPTREF_OK)
        st = mpmat_init(r, n, 1, c->prec);
    if (st == OPTREF_OK && (!V || !R || !Ri || !err || !kept || !dropped || !pa || !pb))
        st = optref_fail(OPTREF_ENOMEM, "bound_qr_canonical: out of memory");
    if (st != OPTREF_OK)
        goto done;
    double u = unit(c), pn = mpfr_get_d(pnorm, MPFR_RNDN), pe = mpfr_get_d(pnorm_e, MPFR_RNDU);
    double rel = (n * n + 4.0) * u + (pn > 0 ? u * pe / pn : 0);
    double tb = sqrt(u) * pn, tlo = tb * (1 - rel), thi = tb * (1 + rel);
    size_t nk = 0, nd = 0, first_wild = n;
    double fro2 = 0, eta2 = 0, dq = 0;
    for (size_t j = 0; j < n; j++) {
        /* column j, its norm, its perturbation eta_j (input bound, Householder) */
        double aj = 0, ea = 0;
        for (size_t i = 0; i < n; i++) {
            double x = mpfr_get_d(mpmat_entry(A->v, i, j), MPFR_RNDN);
            double e = mpfr_get_d(mpmat_entry(A->e, i, j), MPFR_RNDU);
            aj += x * x, ea += e * e;
        }
        aj = sqrt(aj), ea = sqrt(ea);
        double etaj = u * (ea + n * aj);
        /* its distance from the span of the kept columns (exact values) */
        for (size_t i = 0; i < n; i++)
            mpfr_set(r->e + i, mpmat_entry(A->v, i, j), MPFR_RNDN);
        for (size_t s = 0; s < nk; s++) {
            col_dot(t, Q->v, kept[s], A->v, j, pa, pb);
            mpfr_neg(t, t, MPFR_RNDN);
            for (size_t i = 0; i < n; i++)
                mpfr_fma(r->e + i, t, mpmat_entry(Q->v, i, kept[s]), r->e + i, MPFR_RNDN);
        }
        double dist = fro_d(r);
        int ref_keep = mpfr_cmp_d(tol, dist) < 0 && dist > 0;
        double dd = etaj + 2 * aj * dq + n * u * aj;
        int bk = backend_joins(dist, dd, tlo, thi); /* 1: dropped, 0: kept, -1 undecided */
        if (bk < 0 || (bk == 0) != ref_keep) {
            first_wild = j;
            break;
        }
        if (!ref_keep) {
            dropped[nd++] = j;
            continue;
        }
        size_t s = nk;
        kept[nk++] = j;
        for (size_t q = 0; q <= s; q++) {
            col_dot(t, Q->v, kept[q], A->v, j, pa, pb);
            R[q * n + s] = mpfr_get_d(t, MPFR_RNDN);
        }
        Ri[s * n + s] = 1 / R[s * n + s];
        for (size_t q = s; q-- > 0;) {
            double acc = 0;
            for (size_t k = q; k < s; k++)
                acc += Ri[q * n + k] * R[k * n + s];
            Ri[q * n + s] = -acc / R[s * n + s];
        }
        for (size_t q = 0; q <= s; q++)
            fro2 += Ri[q * n + s] * Ri[q * n + s];
        eta2 += etaj * etaj;
        dq = qr_perturbation(sqrt(fro2), sqrt(eta2));
        column_bound(c, Q, V, j, dq + n * u, 1);
    }
    if (status != NULL) {
        for (size_t j = 0; j < n; j++)
            status[j] = j >= first_wild ? QR_FREE : QR_KEPT;
        for (size_t s = 0; s < nd; s++)
            status[dropped[s]] = first_wild < n ? QR_FREE : QR_DROPPED;
    }
    if (first_wild < n) {
        /* the backend's kept set differs from here on: these columns and
         * every completion (it depends on the whole kept span) are free */
        bound_columns_wild(c, Q, first_wild);
        for (size_t s = 0; s < nd; s++) {
            set_column_e(Q->e, dropped[s], WILD / u);
            c->near++;
        }
    } else if (nd > 0) {
        if (gs_bound(V, n, dropped, nd, 2 * dq + 2 * n * u, u, err) != 0) {
            for (size_t s = 0; s < nd; s++) {
                set_column_e(Q->e, dropped[s], WILD / u);
                c->near++;
            }
        } else {
            for (size_t s = 0; s < nd; s++)
                column_bound(c, Q, V, dropped[s], err[s], 1);
        }
    }
done:
    mpfr_clears(tol, t, (mpfr_ptr)0);
    mpmat_clear(r);
    free(V), free(R), free(Ri), free(err), free(kept), free(dropped), free(pa), free(pb);
    return st;
}

/* ---- Shampoo's inverse fourth root ---- */

/* The Lipschitz constant of x -> (max(x, 0) + eps)^(-1/4) on [a, b]. */
static double root_lipschitz(double a, double b, double eps)
{
    if (b <= 0)
        return 0;
    double x = (a > 0 ? a : 0) + eps;
    return x > 0 ? 0.25 * pow(x, -1.25) : HUGE_VAL;
}

optref_status bound_sym_inv_root(rerr_ctx *c, rerr_mat *F, const rerr_mat *P, const rerr *eps)
{
    size_t n = P->v->rows;
    if (n == 0)
        return OPTREF_OK;
    optref_status st = mpmat_sym_inv_root(F->v, P->v, 4, eps->v);
    mpmat_t w, Q;
    w->e = Q->e = NULL;
    if (st == OPTREF_OK)
        st = mpmat_init(w, n, 1, c->prec);
    if (st == OPTREF_OK)
        st = mpmat_init(Q, n, n, c->prec);
    if (st == OPTREF_OK)
        st = mpmat_eigh(w, Q, P->v);
    double *V = NULL, *EP = NULL, *lam = NULL, *f = NULL, *T = NULL, *B = NULL, *vf = NULL;
    if (st == OPTREF_OK) {
        V = dup_values(Q), EP = dup_values(P->e), lam = dup_values(w);
        f = malloc(n * sizeof *f), vf = malloc(n * sizeof *vf);
        T = malloc(n * n * sizeof *T), B = malloc(n * n * sizeof *B);
        if (!V || !EP || !lam || !f || !vf || !T || !B)
            st = optref_fail(OPTREF_ENOMEM, "bound_sym_inv_root: out of memory");
    }
    if (st != OPTREF_OK)
        goto done;
    double u = unit(c), pn = fro_d(P->v), ev = mpfr_get_d(eps->v, MPFR_RNDN);
    double ee = mpfr_get_d(eps->e, MPFR_RNDU), delta = fro_d(P->e) + n * pn;
    for (size_t i = 0; i < n; i++)
        f[i] = pow((lam[i] > 0 ? lam[i] : 0) + ev, -0.25);
    /* M1 = |V|^T e_P |V| + n ||P||_F (+ eps's bound on the diagonal), in units of u */
    for (size_t i = 0; i < n; i++) /* T = e_P |V| */
        for (size_t j = 0; j < n; j++) {
            double acc = 0;
            for (size_t k = 0; k < n; k++)
                acc += EP[i * n + k] * fabs(V[k * n + j]);
            T[i * n + j] = acc;
        }
    for (size_t i = 0; i < n; i++) /* B = D o M1 */
        for (size_t j = 0; j < n; j++) {
            double acc = n * pn + (i == j ? ee : 0);
            for (size_t k = 0; k < n; k++)
                acc += fabs(V[k * n + i]) * T[k * n + j];
            double lo = fmin(lam[i], lam[j]) - u * (delta + ee);
            double hi = fmax(lam[i], lam[j]) + u * (delta + ee);
            B[i * n + j] = root_lipschitz(lo, hi, ev) * acc;
        }
    for (size_t i = 0; i < n; i++) { /* vf = |V| f */
        double acc = 0;
        for (size_t k = 0; k < n; k++)
            acc += fabs(V[i * n + k]) * f[k];
        vf[i] = acc;
    }
    for (size_t i = 0; i < n; i++) /* T = |V| B */
        for (size_t j = 0; j < n; j++) {
            double acc = 0;
            for (size_t k = 0; k < n; k++)
                acc += fabs(V[i * n + k]) * B[k * n + j];
            T[i * n + j] = acc;
        }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            double d1 = 0, d2 = 0;
            for (size_t k = 0; k < n; k++) {
                d1 += T[i * n + k] * fabs(V[j * n + k]);              /* |V| B |V|^T */
                d2 += fabs(V[i * n + k]) * f[k] * fabs(V[j * n + k]); /* |V| diag(f) |V|^T */
            }
            /* the assembly's rounding: (Q f) rounded, the product gamma_n, f's
             * evaluation (sum, pow) and Q's departure from orthogonality */
            double e = d1 + (n + 4.0) * d2 + n * (vf[i] + vf[j]);
            if (!isfinite(e)) {
                e = ldexp(1.0, 1000);
                c->near++;
            }
            mpfr_set_d(mpmat_entry(F->e, i, j), e, MPFR_RNDU);
        }
done:
    mpmat_clear(w), mpmat_clear(Q);
    free(V), free(EP), free(lam), free(f), free(T), free(B), free(vf);
    return st;
}
