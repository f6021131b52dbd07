/* The 2-D DFT of spec 1.3 (used by SMI), its inverse, and the entrywise
 * modulus. proofs/dft-error.md states and derives the error bounds.
 *
 * Notation: X is n1 x n2, N = n1 n2, w_n(r) = exp(-2 pi i r / n) with
 * c_n(r) = cos(2 pi r/n), s_n(r) = sin(2 pi r/n) (so w_n(r) = c_n(r) - i s_n(r)).
 *
 * Twiddles: for each length n one table c_n(r), s_n(r) and -s_n(r),
 * r = 0..n-1, each entry correctly rounded at the working precision
 * wp = p + GUARD_BITS (p: the largest output precision, GUARD_BITS = 32)
 * by mpfr_cosu / mpfr_sinu (MPFR >= 4.2). Being correctly rounded they are
 * exact wherever the value is representable: 0, +-1 at r = 0, n/4, n/2,
 * 3n/4, and +-1/2 at n/6, n/3, ... The product index i k is reduced mod n
 * before the table lookup, so the same table entry serves every equal
 * angle.
 *
 * mpmat_dft2_real, in this order:
 *  1. Rows (the transform along j, for every row i), only for the column
 *     frequencies l = 0..floor(n2/2):
 *        Yre[i,l] = dot(X[i,:], c_n2(j l mod n2))     over j, one rounding to wp
 *        Yim[i,l] = dot(X[i,:], -s_n2(j l mod n2))    over j, one rounding to wp
 *     (the other half, Y[i, n2 - l] = conj Y[i,l], is never needed).
 *  2. Columns (along i), for each representative bin (k,l) of a conjugate
 *     pair {(k,l), (-k mod n1, -l mod n2)}: the one with l < (-l mod n2),
 *     or, when l = -l (l = 0 or n2/2), the one with k <= (-k mod n1):
 *        Fre[k,l] = dot([Yre[:,l], Yim[:,l]], [c_n1(i k), s_n1(i k)])   2 n1 terms
 *        Fim[k,l] = dot([Yim[:,l], Yre[:,l]], [c_n1(i k), -s_n1(i k)])  2 n1 terms
 *     each ONE correctly rounded dot, rounded directly to the output's
 *     precision (Fre's, Fim's).
 *  3. Mirror: Fre[-k,-l] = Fre[k,l], Fim[-k,-l] = -Fim[k,l] (exact copies and
 *     negations), so F is exactly Hermitian and |F| exactly symmetric.
 *     At a self-conjugate bin (k = -k and l = -l: k in {0, n1/2}, l in
 *     {0, n2/2}) the exact value is real. The computed imaginary part is
 *     then already zero (every s table entry it meets is an exact 0, as
 *     sin(pi m) is exactly representable), but its sign would depend on
 *     the signs of zero products, so it is SET to +0 [decision].
 *  Zeros elsewhere keep whatever sign the dot and the negation give.
 *
 * mpmat_idft2 (general complex F, Xim may be NULL), in this order:
 *  1. Rows (along l, every k, every j): Z[k,j] = sum_l F[k,l] conj(w_n2(j l)):
 *        Zre = dot([Fre[k,:], Fim[k,:]], [c_n2(j l), -s_n2(j l)])   one rounding to wp
 *        Zim = dot([Fim[k,:], Fre[k,:]], [c_n2(j l),  s_n2(j l)])   one rounding to wp
 *  2. Columns (along k): Sre = dot([Zre[:,j], Zim[:,j]], [c_n1(i k), -s_n1(i k)]),
 *     Sim = dot([Zim[:,j], Zre[:,j]], [c_n1(i k), s_n1(i k)]), each one
 *     rounding to wp; then X = S / N, one correctly rounded division by the
 *     integer N (mpfr_div_ui) to the output's precision. Two roundings.
 *
 * Both transforms read their whole input into Y (Z) before writing the
 * output, so an output may alias an input. Non-finite input entries give
 * OPTREF_ENONFINITE; empty shapes are valid and do nothing.
 *
 * mpmat_cabs: M = sqrt(re^2 + im^2) entrywise: the sum of squares as one
 * correctly rounded mpfr_dot to M's precision, then a correctly rounded
 * sqrt (two roundings, as mpmat_norm_fro). M may alias Fre or Fim. */
#include "optref/mpmat.h"

#include <stdlib.h>

/* Extra bits of the intermediate (row-stage) values and the twiddles. */
#define GUARD_BITS 32

/* c[r] = cos(2 pi r/n), s[r] = sin(2 pi r/n), ns[r] = -s[r], at wp. */
typedef struct {
    size_t n;
    __mpfr_struct *c, *s, *ns;
} twiddles;

static void twiddles_clear(twiddles *t)
{
    if (t->c != NULL) {
        for (size_t r = 0; r < t->n; r++)
            mpfr_clears(t->c + r, t->s + r, t->ns + r, (mpfr_ptr)0);
        free(t->c);
    }
    t->c = t->s = t->ns = NULL;
}

static optref_status twiddles_init(twiddles *t, size_t n, mpfr_prec_t wp)
{
    t->n = n;
    t->c = t->s = t->ns = NULL;
    if (n == 0)
        return OPTREF_OK;
    t->c = malloc(3 * n * sizeof *t->c);
    if (t->c == NULL)
        return optref_fail(OPTREF_ENOMEM, "mpmat_dft: cannot allocate twiddles of length %zu",
                           n);
    t->s = t->c + n;
    t->ns = t->c + 2 * n;
    mpfr_t r_;
    mpfr_init2(r_, 64);
    for (size_t r = 0; r < n; r++) {
        mpfr_inits2(wp, t->c + r, t->s + r, t->ns + r, (mpfr_ptr)0);
        mpfr_set_ui(r_, (unsigned long)r, MPFR_RNDN); /* exact */
        mpfr_cosu(t->c + r, r_, (unsigned long)n, MPFR_RNDN);
        mpfr_sinu(t->s + r, r_, (unsigned long)n, MPFR_RNDN);
        mpfr_neg(t->ns + r, t->s + r, MPFR_RNDN);
    }
    mpfr_clear(r_);
    return OPTREF_OK;
}

/* (a b) mod n without overflow for a, b < n <= MPMAT_MAX_ENTRIES < 2^32. */
static size_t mulmod(size_t a, size_t b, size_t n)
{
    return (size_t)(((unsigned long long)a * b) % n);
}

static optref_status check_finite(mpmat_srcptr A, const char *fn, const char *name)
{
    size_t k = mpmat_first_nonfinite(A);
    if (k < A->rows * A->cols)
        return optref_fail(OPTREF_ENONFINITE, "%s: %s[%zu,%zu] is not finite", fn, name,
                           k / A->cols, k % A->cols);
    return OPTREF_OK;
}

/* Scratch: a complex n1 x m matrix at wp (the row-stage output) and pointer
 * arrays for 2 max(n1, n2) terms. */
typedef struct {
    mpmat_t re, im;
    mpfr_ptr *pa, *pb;
} scratch;

static void scratch_clear(scratch *w)
{
    mpmat_clear(w->re);
    mpmat_clear(w->im);
    free(w->pa);
    free(w->pb);
}

static optref_status scratch_init(scratch *w, size_t rows, size_t cols, size_t terms,
                                  mpfr_prec_t wp)
{
    w->pa = w->pb = NULL;
    optref_status st = mpmat_init(w->re, rows, cols, wp);
    if (st == OPTREF_OK)
        st = mpmat_init(w->im, rows, cols, wp);
    else
        mpmat_init(w->im, 0, 0, wp);
    if (st != OPTREF_OK) {
        scratch_clear(w);
        return st;
    }
    w->pa = malloc(2 * terms * sizeof *w->pa);
    w->pb = malloc(2 * terms * sizeof *w->pb);
    if (w->pa == NULL || w->pb == NULL) {
        scratch_clear(w);
        return optref_fail(OPTREF_ENOMEM, "mpmat_dft: cannot allocate pointer tables");
    }
    return OPTREF_OK;
}

/* The twiddles of both dimensions and the scratch of one transform. */
typedef struct {
    twiddles t1, t2;
    scratch w;
} workspace;

static optref_status workspace_init(workspace *ws, size_t n1, size_t n2, size_t cols,
                                    mpfr_prec_t wp)
{
    optref_status st = twiddles_init(&ws->t1, n1, wp);
    if (st != OPTREF_OK)
        return st;
    if ((st = twiddles_init(&ws->t2, n2, wp)) != OPTREF_OK) {
        twiddles_clear(&ws->t1);
        return st;
    }
    if ((st = scratch_init(&ws->w, n1, cols, n1 > n2 ? n1 : n2, wp)) != OPTREF_OK) {
        twiddles_clear(&ws->t1);
        twiddles_clear(&ws->t2);
    }
    return st;
}

static void workspace_clear(workspace *ws)
{
    scratch_clear(&ws->w);
    twiddles_clear(&ws->t1);
    twiddles_clear(&ws->t2);
}

optref_status mpmat_dft2_real(mpmat_ptr Fre, mpmat_ptr Fim, mpmat_srcptr X)
{
    static const char fn[] = "mpmat_dft2_real";
    size_t n1 = X->rows, n2 = X->cols;
    if (Fre->rows != n1 || Fre->cols != n2 || Fim->rows != n1 || Fim->cols != n2)
        return optref_fail(OPTREF_ESHAPE, "%s: X is %zux%zu but Fre is %zux%zu and Fim %zux%zu",
                           fn, n1, n2, Fre->rows, Fre->cols, Fim->rows, Fim->cols);
    if (Fre == Fim)
        return optref_fail(OPTREF_EINVAL, "%s: Fre and Fim must be distinct matrices", fn);
    optref_status st = check_finite(X, fn, "X");
    if (st != OPTREF_OK || n1 == 0 || n2 == 0)
        return st;

    mpfr_prec_t wp = (Fre->prec > Fim->prec ? Fre->prec : Fim->prec) + GUARD_BITS;
    size_t h2 = n2 / 2 + 1; /* column frequencies l = 0..floor(n2/2) */
    workspace ws;
    if ((st = workspace_init(&ws, n1, n2, h2, wp)) != OPTREF_OK)
        return st;
    twiddles t1 = ws.t1, t2 = ws.t2; /* views: the arrays stay owned by ws */
    scratch w = ws.w;

    /* 1. Rows: Y[i,l] = sum_j X[i,j] (c - i s)(j l). */
    for (size_t i = 0; i < n1; i++) {
        for (size_t j = 0; j < n2; j++)
            w.pa[j] = mpmat_entry(X, i, j);
        for (size_t l = 0; l < h2; l++) {
            for (size_t j = 0; j < n2; j++)
                w.pb[j] = t2.c + mulmod(j, l, n2);
            mpfr_dot(mpmat_entry(w.re, i, l), w.pa, w.pb, n2, MPFR_RNDN);
            for (size_t j = 0; j < n2; j++)
                w.pb[j] = t2.ns + mulmod(j, l, n2);
            mpfr_dot(mpmat_entry(w.im, i, l), w.pa, w.pb, n2, MPFR_RNDN);
        }
    }

    /* 2. Columns, representative bins only; 3. mirror. */
    for (size_t l = 0; l < h2; l++) {
        size_t ml = (n2 - l) % n2;
        if (ml < l)
            continue; /* never: l <= n2/2 */
        for (size_t k = 0; k < n1; k++) {
            size_t mk = (n1 - k) % n1;
            if (ml == l && mk < k)
                continue; /* the mirror of (mk, l), written below */
            /* Fre = sum_i Yre c + Yim s */
            for (size_t i = 0; i < n1; i++) {
                size_t r = mulmod(i, k, n1);
                w.pa[i] = mpmat_entry(w.re, i, l);
                w.pa[n1 + i] = mpmat_entry(w.im, i, l);
                w.pb[i] = t1.c + r;
                w.pb[n1 + i] = t1.s + r;
            }
            mpfr_ptr fre = mpmat_entry(Fre, k, l), fim = mpmat_entry(Fim, k, l);
            mpfr_dot(fre, w.pa, w.pb, 2 * n1, MPFR_RNDN);
            if (ml == l && mk == k) {
                mpfr_set_zero(fim, 1); /* self-conjugate: real [decision: +0] */
            } else {
                /* Fim = sum_i Yim c - Yre s */
                for (size_t i = 0; i < n1; i++) {
                    size_t r = mulmod(i, k, n1);
                    w.pa[i] = mpmat_entry(w.im, i, l);
                    w.pa[n1 + i] = mpmat_entry(w.re, i, l);
                    w.pb[n1 + i] = t1.ns + r;
                }
                mpfr_dot(fim, w.pa, w.pb, 2 * n1, MPFR_RNDN);
                mpfr_set(mpmat_entry(Fre, mk, ml), fre, MPFR_RNDN);
                mpfr_neg(mpmat_entry(Fim, mk, ml), fim, MPFR_RNDN);
            }
        }
    }
    workspace_clear(&ws);
    return OPTREF_OK;
}

optref_status mpmat_idft2(mpmat_ptr Xre, mpmat_ptr Xim, mpmat_srcptr Fre, mpmat_srcptr Fim)
{
    static const char fn[] = "mpmat_idft2";
    size_t n1 = Fre->rows, n2 = Fre->cols;
    if (Fim->rows != n1 || Fim->cols != n2 || Xre->rows != n1 || Xre->cols != n2 ||
        (Xim != NULL && (Xim->rows != n1 || Xim->cols != n2)))
        return optref_fail(OPTREF_ESHAPE,
                           "%s: Fre is %zux%zu; Fim, Xre and Xim must have that shape", fn, n1,
                           n2);
    if (Xre == Xim)
        return optref_fail(OPTREF_EINVAL, "%s: Xre and Xim must be distinct matrices", fn);
    optref_status st = check_finite(Fre, fn, "Fre");
    if (st == OPTREF_OK)
        st = check_finite(Fim, fn, "Fim");
    if (st != OPTREF_OK || n1 == 0 || n2 == 0)
        return st;

    mpfr_prec_t p = Xre->prec;
    if (Xim != NULL && Xim->prec > p)
        p = Xim->prec;
    mpfr_prec_t wp = p + GUARD_BITS;
    workspace ws;
    if ((st = workspace_init(&ws, n1, n2, n2, wp)) != OPTREF_OK)
        return st;
    twiddles t1 = ws.t1, t2 = ws.t2; /* views: the arrays stay owned by ws */
    scratch w = ws.w;
    mpfr_t sre, sim;
    mpfr_inits2(wp, sre, sim, (mpfr_ptr)0);
    unsigned long N = (unsigned long)(n1 * n2);

    /* 1. Rows: Z[k,j] = sum_l F[k,l] (c + i s)(j l). */
    for (size_t k = 0; k < n1; k++) {
        for (size_t j = 0; j < n2; j++) {
            for (size_t l = 0; l < n2; l++) {
                size_t r = mulmod(j, l, n2);
                w.pa[l] = mpmat_entry(Fre, k, l);
                w.pa[n2 + l] = mpmat_entry(Fim, k, l);
                w.pb[l] = t2.c + r;
                w.pb[n2 + l] = t2.ns + r;
            }
            mpfr_dot(mpmat_entry(w.re, k, j), w.pa, w.pb, 2 * n2, MPFR_RNDN);
            for (size_t l = 0; l < n2; l++) {
                size_t r = mulmod(j, l, n2);
                w.pa[l] = mpmat_entry(Fim, k, l);
                w.pa[n2 + l] = mpmat_entry(Fre, k, l);
                w.pb[n2 + l] = t2.s + r;
            }
            mpfr_dot(mpmat_entry(w.im, k, j), w.pa, w.pb, 2 * n2, MPFR_RNDN);
        }
    }

    /* 2. Columns, then the division by N. */
    for (size_t i = 0; i < n1; i++) {
        for (size_t j = 0; j < n2; j++) {
            for (size_t k = 0; k < n1; k++) {
                size_t r = mulmod(i, k, n1);
                w.pa[k] = mpmat_entry(w.re, k, j);
                w.pa[n1 + k] = mpmat_entry(w.im, k, j);
                w.pb[k] = t1.c + r;
                w.pb[n1 + k] = t1.ns + r;
            }
            mpfr_dot(sre, w.pa, w.pb, 2 * n1, MPFR_RNDN);
            mpfr_div_ui(mpmat_entry(Xre, i, j), sre, N, MPFR_RNDN);
            if (Xim == NULL)
                continue;
            for (size_t k = 0; k < n1; k++) {
                size_t r = mulmod(i, k, n1);
                w.pa[k] = mpmat_entry(w.im, k, j);
                w.pa[n1 + k] = mpmat_entry(w.re, k, j);
                w.pb[n1 + k] = t1.s + r;
            }
            mpfr_dot(sim, w.pa, w.pb, 2 * n1, MPFR_RNDN);
            mpfr_div_ui(mpmat_entry(Xim, i, j), sim, N, MPFR_RNDN);
        }
    }
    mpfr_clears(sre, sim, (mpfr_ptr)0);
    workspace_clear(&ws);
    return OPTREF_OK;
}

optref_status mpmat_cabs(mpmat_ptr M, mpmat_srcptr Fre, mpmat_srcptr Fim)
{
    if (Fre->rows != Fim->rows || Fre->cols != Fim->cols || M->rows != Fre->rows ||
        M->cols != Fre->cols)
        return optref_fail(OPTREF_ESHAPE,
                           "mpmat_cabs: Fre is %zux%zu, Fim %zux%zu and M %zux%zu; expected "
                           "one shape",
                           Fre->rows, Fre->cols, Fim->rows, Fim->cols, M->rows, M->cols);
    mpfr_t sq;
    mpfr_init2(sq, M->prec);
    for (size_t k = 0; k < M->rows * M->cols; k++) {
        mpfr_ptr v[2] = {Fre->e + k, Fim->e + k};
        mpfr_dot(sq, v, v, 2, MPFR_RNDN); /* re^2 + im^2, one rounding */
        mpfr_sqrt(M->e + k, sq, MPFR_RNDN);
    }
    mpfr_clear(sq);
    return OPTREF_OK;
}
