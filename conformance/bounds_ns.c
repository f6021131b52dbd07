/* The first-order running error bound of Newton-Schulz, by reverse-mode
 * differentiation (proofs/conformance-muon.md, "Newton-Schulz").
 *
 * The backend's computation (fast/cpu/msign.c) is a sequence of operations,
 * each of which adds one local error delta_q with |delta_q| <= u w_q: w_q =
 * |result| for an elementwise operation (plus |c x| for a binary64 constant
 * c rounded to binary32: held = 2), k (|A||B|)_q for an entry of a product
 * with inner dimension k (gamma_k), N sum x^2 for a dot of N squares. To
 * first order the output error is sum_q (d out / d q) delta_q, so
 *   |error of out| <= u sum_q |d out / d q| w_q,
 * the running error bound of the whole computation with the exact
 * sensitivities in place of the absolute-value recursion (which grows like
 * 300^steps here). The sensitivities of one output entry are one reverse
 * sweep through the iterations; every entry gets its own sweep. The Gram
 * matrices and C are computed symmetric (syrk, mirrored), so an entry and its
 * mirror carry the same error: their sensitivities are added before taking
 * the absolute value. Values are evaluated in binary64 at the exact inputs
 * (the linearisation point; their own roundings are second order) and the
 * result gets a relative margin NS_ADJ_MARGIN. */
#include "bounds_msign.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optref/status.h"

#define NS_ADJ_MARGIN (1 + 0x1p-20)

/* C = A B (A m x k, B k x n); nt: C = A B^T (B n x k). */
static void mm(double *C, const double *A, const double *B, size_t m, size_t k, size_t n, int nt)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t l = 0; l < k; l++)
                s += A[i * k + l] * (nt ? B[j * k + l] : B[l * n + j]);
            C[i * n + j] = s;
        }
}

/* W = k |A| |B| (nt: k |A| |B|^T). */
static void abs_mm(double *W, const double *A, const double *B, size_t m, size_t kd, size_t n,
                   int nt, double k)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < n; j++) {
            double s = 0;
            for (size_t l = 0; l < kd; l++)
                s += fabs(A[i * kd + l]) * fabs(nt ? B[j * kd + l] : B[l * n + j]);
            W[i * n + j] = k * s;
        }
}

/* sum |G| W over an n x n symmetric error: |G_ij + G_ji| W_ij for i < j. */
static double sym_sum(const double *G, const double *W, size_t n)
{
    double t = 0;
    for (size_t i = 0; i < n; i++) {
        t += fabs(G[i * n + i]) * W[i * n + i];
        for (size_t j = i + 1; j < n; j++)
            t += fabs(G[i * n + j] + G[j * n + i]) * W[i * n + j];
    }
    return t;
}

static double abs_sum(const double *G, const double *W, size_t count)
{
    double t = 0;
    for (size_t k = 0; k < count; k++)
        t += fabs(G[k]) * W[k];
    return t;
}

static double dot(const double *x, const double *y, size_t count)
{
    double t = 0;
    for (size_t k = 0; k < count; k++)
        t += x[k] * y[k];
    return t;
}

/* The forward values and the weights w_q of every operation. */
typedef struct {
    size_t r, cc;
    long steps;
    ns_variant kind;
    double held, a, b, c, eps;
    const double *X;
    double ss, nrm, d, q0; /* normalisation */
    int eps_branch;        /* ns-torch: d = eps */
    double *Y;             /* steps + 1 iterates (Y[0] = X / d; at ns-deva, Y[0] is X / d / s) */
    double *A, *B, *C;     /* per iteration, r x r (at ns-deva's first: rescaled) */
    double *WA, *WB, *WC, *WP, *WY;
    /* ns-deva's first iteration before the rescale */
    double *Yp, *Ap, *Bp, *WAp, *WBp;
    double q, t1, t2, s, s2, s4, sumB2;
} tape;

static void tape_free(tape *T)
{
    double *all[] = {T->Y, T->A, T->B, T->C, T->WA, T->WB, T->WC, T->WP, T->WY, T->Yp, T->Ap, T->Bp,
                     T->WAp, T->WBp};
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++)
        free(all[k]);
}

static int tape_alloc(tape *T)
{
    size_t rc = T->r * T->cc, rr = T->r * T->r, S = (size_t)T->steps;
    T->Y = malloc((S + 1) * rc * sizeof(double));
    T->A = malloc(S * rr * sizeof(double)), T->B = malloc(S * rr * sizeof(double));
    T->C = malloc(S * rr * sizeof(double));
    T->WA = malloc(S * rr * sizeof(double)), T->WB = malloc(S * rr * sizeof(double));
    T->WC = malloc(S * rr * sizeof(double)), T->WP = malloc(S * rc * sizeof(double));
    T->WY = malloc(S * rc * sizeof(double));
    T->Yp = malloc(rc * sizeof(double)), T->Ap = malloc(rr * sizeof(double));
    T->Bp = malloc(rr * sizeof(double)), T->WAp = malloc(rr * sizeof(double));
    T->WBp = malloc(rr * sizeof(double));
    return T->Y && T->A && T->B && T->C && T->WA && T->WB && T->WC && T->WP && T->WY && T->Yp &&
           T->Ap && T->Bp && T->WAp && T->WBp;
}

/* The normalisation Y0 = X / d (fast/cpu/msign.c normalise). */
static void forward_normalise(tape *T, double *Y0)
{
    size_t rc = T->r * T->cc;
    T->ss = dot(T->X, T->X, rc);
    if (T->kind == NS_DEVA) {
        T->q0 = T->ss + T->eps;
        T->d = sqrt(T->q0);
    } else {
        T->nrm = sqrt(T->ss);
        T->eps_branch = T->kind == NS_TORCH && !(T->nrm > T->eps);
        T->d = T->kind == NS_KELLER ? T->nrm + T->eps : T->eps_branch ? T->eps : T->nrm;
    }
    for (size_t k = 0; k < rc; k++)
        Y0[k] = T->X[k] / T->d;
}

/* ns-deva's first-iteration rescale: from Yp, Ap, Bp to Y, A, B. */
static void forward_rescale(tape *T, double *Y, double *A, double *B)
{
    size_t r = T->r, rc = r * T->cc, rr = r * r;
    memcpy(T->Yp, Y, rc * sizeof(double));
    memcpy(T->Ap, A, rr * sizeof(double));
    memcpy(T->Bp, B, rr * sizeof(double));
    T->sumB2 = dot(B, B, rr);
    T->q = T->sumB2 + T->eps;
    T->t1 = sqrt(T->q), T->t2 = sqrt(T->t1), T->s = sqrt(T->t2);
    T->s2 = T->s * T->s, T->s4 = T->s2 * T->s2;
    for (size_t k = 0; k < rc; k++)
        Y[k] /= T->s;
    for (size_t k = 0; k < rr; k++)
        A[k] /= T->s2, B[k] /= T->s4;
    abs_mm(T->WAp, T->Yp, T->Yp, r, T->cc, r, 1, (double)T->cc);
    abs_mm(T->WBp, T->Ap, T->Ap, r, r, r, 0, (double)r);
}

static void forward(tape *T)
{
    size_t r = T->r, cc = T->cc, rc = r * cc, rr = r * r;
    forward_normalise(T, T->Y);
    for (long it = 0; it < T->steps; it++) {
        double *Y = T->Y + it * rc, *Yn = Y + rc;
        double *A = T->A + it * rr, *B = T->B + it * rr, *C = T->C + it * rr;
        mm(A, Y, Y, r, cc, r, 1);
        mm(B, A, A, r, r, r, 0);
        int rescaled = T->kind == NS_DEVA && it == 0;
        if (rescaled)
            forward_rescale(T, Y, A, B);
        for (size_t k = 0; k < rr; k++)
            C[k] = T->b * A[k] + T->c * B[k];
        mm(Yn, C, Y, r, r, cc, 0);
        for (size_t k = 0; k < rc; k++)
            Yn[k] += T->a * Y[k];
        /* weights: a rescaled A, B are quotients (one rounding each) */
        double *WA = T->WA + it * rr, *WB = T->WB + it * rr, *WC = T->WC + it * rr;
        double *WP = T->WP + it * rc, *WY = T->WY + it * rc;
        if (rescaled) {
            for (size_t k = 0; k < rr; k++)
                WA[k] = fabs(A[k]), WB[k] = fabs(B[k]);
        } else {
            abs_mm(WA, Y, Y, r, cc, r, 1, (double)cc);
            abs_mm(WB, A, A, r, r, r, 0, (double)r);
        }
        for (size_t k = 0; k < rr; k++)
            WC[k] = T->held * (fabs(T->b * A[k]) + fabs(T->c * B[k])) + fabs(C[k]);
        abs_mm(WP, C, Y, r, r, cc, 0, (double)r);
        for (size_t k = 0; k < rc; k++)
            WY[k] = T->held * fabs(T->a * Y[k]) + fabs(Yn[k]);
    }
}

/* Scratch of one reverse sweep. */
typedef struct {
    double *Yb, *Yn, *Cb, *Ab, *Bb, *T1, *T2;
} sweep;

/* Mb += Sb M + M Sb (the adjoint of S = M M into M, M symmetric). */
static void add_square_adjoint(double *Mb, const double *Sb, const double *M, size_t r, double *T)
{
    mm(T, Sb, M, r, r, r, 0);
    for (size_t k = 0; k < r * r; k++)
        Mb[k] += T[k];
    mm(T, M, Sb, r, r, r, 0);
    for (size_t k = 0; k < r * r; k++)
        Mb[k] += T[k];
}

/* Yb = Ynew + (Ab + Ab^T) Y (the adjoint of A = Y Y^T into Y). */
static void add_gram_adjoint(double *Yb, const double *Ynew, double *Ab, const double *Y, size_t r,
                             size_t cc, double *T)
{
    for (size_t i = 0; i < r; i++)
        for (size_t j = i; j < r; j++) {
            double s = Ab[i * r + j] + Ab[j * r + i];
            Ab[i * r + j] = Ab[j * r + i] = s;
        }
    mm(T, Ab, Y, r, r, cc, 0);
    for (size_t k = 0; k < r * cc; k++)
        Yb[k] = Ynew[k] + T[k];
}

/* ns-deva's first iteration below C: from the adjoints of the quotients
 * Y / s, A / s2, B / s4 (S->Yn, S->Ab, S->Bb) to the adjoint of the
 * iteration's input (S->Yb); returns the sources' sum. */
static double reverse_rescale(const tape *T, sweep *S)
{
    size_t r = T->r, rc = r * T->cc, rr = r * r;
    double tot = sym_sum(S->Ab, T->WA, r) + sym_sum(S->Bb, T->WB, r); /* A / s2, B / s4 */
    double sb = 0, s2b = 0, s4b = 0;
    for (size_t k = 0; k < rc; k++) {
        tot += fabs(S->Yn[k]) * fabs(T->Y[k]); /* Y / s */
        sb -= S->Yn[k] * T->Yp[k] / (T->s * T->s);
        S->Yn[k] /= T->s;
    }
    for (size_t k = 0; k < rr; k++) {
        s2b -= S->Ab[k] * T->Ap[k] / (T->s2 * T->s2);
        s4b -= S->Bb[k] * T->Bp[k] / (T->s4 * T->s4);
        S->Ab[k] /= T->s2, S->Bb[k] /= T->s4;
    }
    tot += fabs(s4b) * T->s4; /* s4 = s2 s2 */
    s2b += 2 * T->s2 * s4b;
    tot += fabs(s2b) * T->s2; /* s2 = s s */
    sb += 2 * T->s * s2b;
    tot += fabs(sb) * T->s;   /* s = sqrt(t2), t2 = sqrt(t1), t1 = sqrt(q) */
    double t2b = sb / (2 * T->s);
    tot += fabs(t2b) * T->t2;
    double t1b = t2b / (2 * T->t2);
    tot += fabs(t1b) * T->t1;
    double qb = t1b / (2 * T->t1); /* q = dot(B, B) + eps */
    tot += fabs(qb) * (T->q + (T->held - 1) * T->eps + (double)rr * T->sumB2);
    for (size_t k = 0; k < rr; k++)
        S->Bb[k] += 2 * qb * T->Bp[k];
    tot += sym_sum(S->Bb, T->WBp, r); /* B = A A (syrk) */
    add_square_adjoint(S->Ab, S->Bb, T->Ap, r, S->T1);
    tot += sym_sum(S->Ab, T->WAp, r); /* A = Y Y^T (syrk) */
    add_gram_adjoint(S->Yb, S->Yn, S->Ab, T->Yp, r, T->cc, S->T1);
    return tot;
}

/* Iteration `it`, from the adjoint of its output (S->Yb) to that of its
 * input (S->Yb again); returns the sources' sum. */
static double reverse_iteration(const tape *T, sweep *S, long it)
{
    size_t r = T->r, cc = T->cc, rc = r * cc, rr = r * r;
    const double *Y = T->Y + it * rc, *A = T->A + it * rr, *C = T->C + it * rr;
    /* Yn = a Y + P: the product a Y and the sum */
    double tot = abs_sum(S->Yb, T->WY + it * rc, rc);
    for (size_t k = 0; k < rc; k++)
        S->Yn[k] = T->a * S->Yb[k];
    /* P = C Y (gemm): Pb = Yb */
    tot += abs_sum(S->Yb, T->WP + it * rc, rc);
    mm(S->Cb, S->Yb, Y, r, cc, r, 1); /* Cb = Pb Y^T */
    mm(S->T2, C, S->Yb, r, r, cc, 0); /* C^T Pb = C Pb */
    for (size_t k = 0; k < rc; k++)
        S->Yn[k] += S->T2[k];
    /* C = b A + c B (elementwise) */
    tot += sym_sum(S->Cb, T->WC + it * rr, r);
    for (size_t k = 0; k < rr; k++)
        S->Ab[k] = T->b * S->Cb[k], S->Bb[k] = T->c * S->Cb[k];
    if (T->kind == NS_DEVA && it == 0)
        return tot + reverse_rescale(T, S);
    tot += sym_sum(S->Bb, T->WB + it * rr, r); /* B = A A (syrk) */
    add_square_adjoint(S->Ab, S->Bb, A, r, S->T1);
    tot += sym_sum(S->Ab, T->WA + it * rr, r); /* A = Y Y^T (syrk) */
    add_gram_adjoint(S->Yb, S->Yn, S->Ab, Y, r, cc, S->T1);
    return tot;
}

/* The normalisation Y0 = X / d, from the adjoint of Y0 (S->Yb) to that of X
 * (S->Yb again); returns the sources' sum. */
static double reverse_normalise(const tape *T, sweep *S, double u, int *tie)
{
    size_t rc = T->r * T->cc;
    const double *Y0 = T->kind == NS_DEVA ? T->Yp : T->Y;
    double db = 0, tot = 0;
    for (size_t k = 0; k < rc; k++) {
        tot += fabs(S->Yb[k]) * fabs(Y0[k]); /* the quotients */
        db -= S->Yb[k] * T->X[k] / (T->d * T->d);
        S->Yb[k] /= T->d;
    }
    double ssb;
    if (T->kind == NS_DEVA) { /* d = sqrt(ss + eps) */
        tot += fabs(db) * T->d;
        ssb = db / (2 * T->d);
        tot += fabs(ssb) * (T->q0 + (T->held - 1) * T->eps);
    } else {
        double nb = db;
        if (T->kind == NS_KELLER) /* d = nrm + eps */
            tot += fabs(db) * (T->d + (T->held - 1) * T->eps);
        else if (T->eps_branch) /* d = eps */
            tot += fabs(db) * (T->held - 1) * T->eps, nb = 0;
        /* a tie of max(nrm, eps) within the norm's error: either may be taken */
        double enrm = T->nrm * ((double)rc / 2 + 1) + (T->held - 1) * T->eps;
        if (T->kind == NS_TORCH && fabs(T->nrm - T->eps) <= u * enrm) {
            *tie = 1;
            tot += fabs(db) * (fabs(T->nrm - T->eps) / u + enrm);
        }
        tot += fabs(nb) * T->nrm; /* nrm = sqrt(ss) */
        ssb = T->nrm > 0 ? nb / (2 * T->nrm) : 0;
    }
    tot += fabs(ssb) * (double)rc * T->ss; /* ss = dot(X, X) */
    for (size_t k = 0; k < rc; k++)
        S->Yb[k] += 2 * ssb * T->X[k];
    return tot;
}

/* The reverse sweep of one output entry; returns sum |d out / d q| w_q. */
static double reverse(const tape *T, sweep *S, size_t entry, const double *eX, double u, int *tie)
{
    size_t rc = T->r * T->cc;
    memset(S->Yb, 0, rc * sizeof(double));
    S->Yb[entry] = 1;
    double tot = 0;
    for (long it = T->steps - 1; it >= 0; it--)
        tot += reverse_iteration(T, S, it);
    tot += reverse_normalise(T, S, u, tie);
    if (eX != NULL)
        tot += abs_sum(S->Yb, eX, rc); /* the input's own errors */
    return tot;
}

optref_status ns_adjoint_bound(double *e, const double *X, const double *eX, size_t r, size_t cc,
                               ns_variant kind, long steps, double held, double u,
                               unsigned long *near)
{
    tape T;
    memset(&T, 0, sizeof T);
    T.r = r, T.cc = cc, T.steps = steps, T.kind = kind, T.held = held, T.X = X;
    T.a = 3.4445, T.b = -4.7750, T.c = 2.0315, T.eps = kind == NS_DEVA ? 1e-20 : 1e-7;
    size_t rc = r * cc, rr = r * r;
    sweep S;
    double *mem = malloc((3 * rc + 4 * rr + (rc > rr ? rc : rr)) * sizeof(double));
    if (!tape_alloc(&T) || mem == NULL) {
        tape_free(&T);
        free(mem);
        return optref_fail(OPTREF_ENOMEM, "ns_adjoint_bound: out of memory");
    }
    S.Yb = mem, S.Yn = mem + rc, S.T2 = mem + 2 * rc, S.Cb = mem + 3 * rc;
    S.Ab = S.Cb + rr, S.Bb = S.Ab + rr, S.T1 = S.Bb + rr;
    forward(&T);
    int tie = 0;
    for (size_t k = 0; k < rc; k++)
        e[k] = reverse(&T, &S, k, eX, u, &tie) * NS_ADJ_MARGIN;
    *near += tie;
    tape_free(&T);
    free(mem);
    return OPTREF_OK;
}
