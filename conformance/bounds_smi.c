/* The bound of smi's filter, steps 1-7 of spec/optimizers.md section 2 smi,
 * in the order of fast/cpu/smi.c (proofs/conformance-wrappers.md):
 *  1. alpha in binary64: p = s / T, x = pi p, c = cos x (libm, <= 1 ulp),
 *     w = (1 - c) / 2, alpha = alpha0 + (alpha_end - alpha0) w.
 *  2. F = DFT2(G) by an FFT: every entry within u D_F of the exact one,
 *     D_F = C_FFT L ||F||_2 + sqrt(N) ||e_G||_2, L = ceil(log2 N) (Higham
 *     Thm 24.2: ||dF||_2 <= L eta ||F||_2, eta = u + gamma_4 (sqrt 2 + u)).
 *  3. |F| = sqrt(re^2 + im^2) within u (D_F + 2 |F|) (triangle inequality,
 *     then three roundings: 2u to first order); H = beta H + (1 - beta)|F|
 *     by rerr operations.
 *  4. tau: the order statistics s_j of H lie between the j-th smallest
 *     of H - u e_H and of H + u e_H; then s_lo + frac (s_hi - s_lo).
 *  5. Mask: a bin with |H - tau| <= u (e_H + e_tau) may go either way (near
 *     a discontinuity): its |F| joins the jump J. Exception: pos whole and
 *     the bins equal to s_lo one conjugate orbit, isolated from every other
 *     value by the bounds: the backend's tau is then exactly that orbit's H
 *     (exact symmetry), every decision is exact and nothing is near.
 *  6. y = N Gf = c2r(F . Mask): u e_y = u (sqrt(2N) D_F + C_FFT L ||y||_2) + J.
 *  7. G~ = (1 - alpha) G + (alpha / N) y; G~ = G when alpha = 0 or when
 *     every bin is kept (and none is near). */
#include "bounds_families.h"

#include <stdlib.h>

/* Higham's eta / u for one radix-2 level with accurate twiddles (mu <= u):
 * 1 + 4 (sqrt 2 + u) < 7. */
#define C_FFT 7

static void rerr_half(rerr *x)
{
    mpfr_div_2ui(x->v, x->v, 1, MPFR_RNDN);
    mpfr_div_2ui(x->e, x->e, 1, MPFR_RNDU);
}

/* Step 1 (fast/cpu/smi.c smi_alpha); the value is the exact alpha. */
static void alpha_bound(rerr_ctx *c, const ref_opt *o, rerr *alpha)
{
    const uint64_t T = (uint64_t)ref_opt_int(o, "T"), s = o->t; /* s = t - 1 of this step */
    const int cosine = ref_opt_text(o, "schedule")[0] == 'c';
    rerr a0, a1, w, x, y;
    rerr_init(c, &a0), rerr_init(c, &a1), rerr_init(c, &w), rerr_init(c, &x), rerr_init(c, &y);
    bound_option_exact(&a0, o, "alpha0");
    bound_option_exact(&a1, o, "alpha_end");
    rerr_exact_d(&w, 1.0);
    if (s < T) {
        mpfr_set_uj(x.v, s, MPFR_RNDN);
        mpfr_set_uj(y.v, T, MPFR_RNDN);
        rerr_div(c, &w, &x, &y);                    /* p = s / T */
        if (cosine) {
            mpfr_const_pi(x.v, MPFR_RNDN);
            mpfr_abs(x.e, x.v, MPFR_RNDU);           /* pi rounded to binary64 */
            rerr_mul(c, &x, &x, &w);                 /* x = pi p */
            mpfr_set_uj(y.v, s, MPFR_RNDN);
            mpfr_sinu(w.e, y.v, 2 * T, MPFR_RNDN);   /* sin(pi s / T) */
            mpfr_abs(w.e, w.e, MPFR_RNDU);
            mpfr_mul(w.e, w.e, x.e, MPFR_RNDU);      /* |sin x| e_x */
            mpfr_cosu(w.v, y.v, 2 * T, MPFR_RNDN);   /* c = cos(pi s / T) */
            mpfr_abs(y.e, w.v, MPFR_RNDU);
            mpfr_mul_2ui(y.e, y.e, 1, MPFR_RNDU);
            mpfr_add(w.e, w.e, y.e, MPFR_RNDU);      /* + 1 ulp <= 2 u |c| */
            rerr_exact_d(&y, 1.0);
            rerr_sub(c, &w, &y, &w);                 /* 1 - c */
            rerr_half(&w);                           /* / 2, exact */
        }
    }
    rerr_sub(c, &y, &a1, &a0);
    mpfr_set(x.v, y.v, MPFR_RNDN);
    rerr_mul(c, &y, &y, &w);
    rerr_add(c, alpha, &a0, &y);                     /* alpha0 + (alpha_end - alpha0) w */
    mpfr_fma(alpha->v, x.v, w.v, a0.v, MPFR_RNDN);   /* the value as ref/optim/smi.c */
    rerr_clear(&a0), rerr_clear(&a1), rerr_clear(&w), rerr_clear(&x), rerr_clear(&y);
}

/* The spectrum and its bound: F (values), D_F, and the H of step 3 in Hout. */
typedef struct {
    size_t m, n, N;
    unsigned L;              /* ceil(log2 N) */
    mpmat_t Fre, Fim, A, Gf; /* F, |F|, and Gf */
    mpfr_t DF;               /* the bound of every entry of F, in units of u */
    size_t *perm;            /* argsort of H */
    char *keep;              /* the reference's mask */
} spectrum;

static optref_status spectrum_init(spectrum *S, const ref_opt *o)
{
    S->m = o->m, S->n = o->n, S->N = o->m * o->n;
    for (S->L = 0; ((size_t)1 << S->L) < S->N; S->L++)
        ;
    mpfr_init2(S->DF, o->prec);
    S->perm = malloc(S->N * sizeof *S->perm);
    S->keep = malloc(S->N);
    mpmat_ptr mats[] = {S->Fre, S->Fim, S->A, S->Gf};
    optref_status st = S->perm && S->keep ? OPTREF_OK : optref_fail(OPTREF_ENOMEM, "out of memory");
    for (size_t i = 0; i < 4; i++)
        if (mpmat_init(mats[i], S->m, S->n, o->prec) != OPTREF_OK)
            st = OPTREF_ENOMEM;
    return st;
}

static void spectrum_clear(spectrum *S)
{
    mpmat_clear(S->Fre), mpmat_clear(S->Fim), mpmat_clear(S->A), mpmat_clear(S->Gf);
    mpfr_clear(S->DF);
    free(S->perm);
    free(S->keep);
}

/* ||X||_2 of a real matrix, or of the complex one (re, im), rounded up. */
static void norm2(mpfr_ptr r, mpmat_srcptr re, mpmat_srcptr im)
{
    mpfr_t t;
    mpfr_init2(t, mpfr_get_prec(r));
    mpfr_set_zero(r, 1);
    for (size_t k = 0; k < re->rows * re->cols; k++) {
        mpfr_sqr(t, re->e + k, MPFR_RNDU);
        mpfr_add(r, r, t, MPFR_RNDU);
        if (im != NULL) {
            mpfr_sqr(t, im->e + k, MPFR_RNDU);
            mpfr_add(r, r, t, MPFR_RNDU);
        }
    }
    mpfr_sqrt(r, r, MPFR_RNDU);
    mpfr_clear(t);
}

/* Steps 2-3: F, D_F, and H after the step (values as the reference's). */
static optref_status h_bound(rerr_ctx *c, const bound_input *in, spectrum *S, rerr_mat *H)
{
    const ref_opt *o = in->in;
    optref_status st = mpmat_dft2_real(S->Fre, S->Fim, in->G->v);
    if (st == OPTREF_OK)
        st = mpmat_cabs(S->A, S->Fre, S->Fim);
    if (st != OPTREF_OK)
        return st;
    mpfr_t t;
    mpfr_init2(t, o->prec);
    norm2(S->DF, S->Fre, S->Fim);
    mpfr_mul_ui(S->DF, S->DF, C_FFT * S->L, MPFR_RNDU);
    norm2(t, in->G->e, NULL);
    {
        mpfr_t sn;
        mpfr_init2(sn, 64);
        mpfr_sqrt_ui(sn, (unsigned long)S->N, MPFR_RNDU);
        mpfr_mul(t, t, sn, MPFR_RNDU);       /* sqrt(N) ||e_G||_2: the DFT of G's error */
        mpfr_clear(sn);
    }
    mpfr_add(S->DF, S->DF, t, MPFR_RNDU);
    rerr beta, betax, omb, one, a, h, bh;
    rerr *all[] = {&beta, &betax, &omb, &one, &a, &h, &bh};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rerr_init(c, all[i]);
    bound_option(c, &beta, o, "beta");
    bound_option_exact(&betax, o, "beta");
    rerr_exact_d(&one, 1.0);
    rerr_sub(c, &omb, &one, &betax);         /* 1 - beta in binary64, rounded */
    mpfr_ui_sub(t, 1, betax.v, MPFR_RNDN);   /* the reference's 1 - beta */
    for (size_t k = 0; k < S->N; k++) {
        /* |F^| within |F^ - F| <= u D_F of |F|, and sqrt(re^2 + im^2) adds 2u |F| */
        mpfr_set(a.v, S->A->e + k, MPFR_RNDN);
        mpfr_mul_2ui(a.e, a.v, 1, MPFR_RNDU);
        mpfr_add(a.e, a.e, S->DF, MPFR_RNDU);
        rerr_mat_get(&h, &in->state[0], k / S->n, k % S->n);
        rerr_mul(c, &bh, &beta, &h);
        rerr_mul(c, &a, &omb, &a);
        rerr_add(c, &bh, &bh, &a);           /* beta H + (1 - beta)|F| */
        /* the value exactly as ref/optim/smi.c computes it */
        mpfr_mul(bh.v, betax.v, h.v, MPFR_RNDN);
        mpfr_fma(bh.v, t, S->A->e + k, bh.v, MPFR_RNDN);
        rerr_mat_set(H, k / S->n, k % S->n, &bh);
    }
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rerr_clear(all[i]);
    mpfr_clear(t);
    return OPTREF_OK;
}

/* |a - b| > u (ea + eb): the comparison of a and b is decided exactly. */
static int apart(rerr_ctx *c, mpfr_srcptr a, mpfr_srcptr ea, mpfr_srcptr b, mpfr_srcptr eb)
{
    mpfr_t d, e;
    mpfr_inits2(mpfr_get_prec(a) + 8, d, e, (mpfr_ptr)0);
    mpfr_sub(d, a, b, MPFR_RNDN);
    mpfr_add(e, ea, eb, MPFR_RNDU);
    mpfr_mul(e, e, c->u, MPFR_RNDU);
    int r = mpfr_cmpabs(d, e) > 0;
    mpfr_clears(d, e, (mpfr_ptr)0);
    return r;
}

/* The bound of the order statistic s_j of H: max(s_j - lo_j, hi_j - s_j) / u
 * with lo_j, hi_j the j-th smallest of H - u e_H and of H + u e_H (the j-th
 * smallest is monotone in every entry). */
static optref_status order_stat_bound(rerr_ctx *c, const rerr_mat *H, size_t j,
                                      mpfr_srcptr sj, mpfr_ptr e)
{
    size_t N = H->v->rows * H->v->cols;
    mpfr_prec_t prec = mpfr_get_prec(sj) + 64;
    size_t *perm = malloc(N * sizeof *perm);
    __mpfr_struct *B = malloc(N * sizeof *B);
    if (perm == NULL || B == NULL) {
        free(perm), free(B);
        return optref_fail(OPTREF_ENOMEM, "conform: out of memory");
    }
    mpfr_t t;
    mpfr_init2(t, prec);
    for (size_t k = 0; k < N; k++)
        mpfr_init2(B + k, prec);
    optref_status st = OPTREF_OK;
    mpfr_set_zero(e, 1);
    for (int side = -1; st == OPTREF_OK && side <= 1; side += 2) {
        for (size_t k = 0; k < N; k++) {
            mpfr_mul(t, H->e->e + k, c->u, side > 0 ? MPFR_RNDU : MPFR_RNDD);
            if (side > 0)
                mpfr_add(B + k, H->v->e + k, t, MPFR_RNDU);
            else
                mpfr_sub(B + k, H->v->e + k, t, MPFR_RNDD);
        }
        if ((st = mpvec_argsort(perm, B, N, 0)) != OPTREF_OK)
            break;
        if (side > 0)
            mpfr_sub(t, B + perm[j], sj, MPFR_RNDU);  /* hi_j - s_j */
        else
            mpfr_sub(t, sj, B + perm[j], MPFR_RNDU);  /* s_j - lo_j */
        mpfr_div(t, t, c->u, MPFR_RNDU);
        mpfr_max(e, e, t, MPFR_RNDU);
    }
    for (size_t k = 0; k < N; k++)
        mpfr_clear(B + k);
    mpfr_clear(t);
    free(B), free(perm);
    return st;
}

/* Steps 4-5: tau with its bound, the reference's mask in S->keep (and the
 * number of bins it drops), and the jump J: the sum of |F| over the bins
 * near tau, which the backend may decide either way. */
static optref_status mask_bound(rerr_ctx *c, const ref_opt *o, const rerr_mat *H, spectrum *S,
                                mpfr_ptr J, size_t *dropped)
{
    const size_t N = S->N, m = S->m, n = S->n;
    mpfr_srcptr q = ref_opt_real(o, "q");
    rerr tau, s0, s1, f;
    rerr_init(c, &tau), rerr_init(c, &s0), rerr_init(c, &s1), rerr_init(c, &f);
    mpfr_t pos;
    mpfr_init2(pos, mpfr_get_prec(q) + 64);
    mpfr_mul_ui(pos, q, (unsigned long)(N - 1), MPFR_RNDN); /* exact, as the reference */
    size_t lo = (size_t)mpfr_get_ui(pos, MPFR_RNDD);
    mpfr_sub_ui(pos, pos, (unsigned long)lo, MPFR_RNDN);    /* frac, exact */
    optref_status st = mpmat_quantile(tau.v, H->v, q);
    if (st == OPTREF_OK)
        st = mpvec_argsort(S->perm, H->v->e, N, 0);
    if (st == OPTREF_OK) {
        mpfr_set(s0.v, H->v->e + S->perm[lo], MPFR_RNDN);
        st = order_stat_bound(c, H, lo, s0.v, s0.e);
    }
    int structural = 0;
    if (st == OPTREF_OK && mpfr_zero_p(pos)) {
        mpfr_set(tau.e, s0.e, MPFR_RNDU);
        /* the bins equal to s_lo: one conjugate orbit, isolated? */
        size_t a = lo, b = lo;
        while (a > 0 && mpfr_equal_p(H->v->e + S->perm[a - 1], s0.v))
            a--;
        while (b + 1 < N && mpfr_equal_p(H->v->e + S->perm[b + 1], s0.v))
            b++;
        size_t i = S->perm[a], mi = ((m - i / n) % m) * n + (n - i % n) % n;
        structural = b - a < 2 && (a == b ? mi == i : mi == S->perm[b]);
        for (size_t k = 0; structural && k < N; k++)
            if (k != i && k != mi)
                structural = apart(c, H->v->e + k, H->e->e + k, s0.v, H->e->e + i);
    } else if (st == OPTREF_OK) {
        mpfr_set(s1.v, H->v->e + S->perm[lo + 1], MPFR_RNDN);
        st = order_stat_bound(c, H, lo + 1, s1.v, s1.e);
        rerr_rounded(c, &f, pos);                 /* frac, rounded once */
        rerr_sub(c, &s1, &s1, &s0);
        rerr_mul(c, &s1, &f, &s1);
        rerr_add(c, &f, &s0, &s1);                /* s_lo + frac (s_hi - s_lo) */
        mpfr_set(tau.e, f.e, MPFR_RNDU);          /* (the value is the reference's) */
    }
    mpfr_set_zero(J, 1);
    *dropped = 0;
    for (size_t k = 0; st == OPTREF_OK && k < N; k++) {
        S->keep[k] = mpfr_cmp(H->v->e + k, tau.v) >= 0; /* 5: Mask = [H >= tau] */
        *dropped += !S->keep[k];
        if (!structural && !apart(c, H->v->e + k, H->e->e + k, tau.v, tau.e)) {
            c->near++;
            mpfr_add(J, J, S->A->e + k, MPFR_RNDU);
        }
    }
    rerr_clear(&tau), rerr_clear(&s0), rerr_clear(&s1), rerr_clear(&f);
    mpfr_clear(pos);
    return st;
}

/* Steps 6-7: G~ and its bound. */
static optref_status gt_bound(rerr_ctx *c, const bound_input *in, spectrum *S, const rerr *alpha,
                              mpfr_srcptr J, size_t dropped, rerr_mat *Gt)
{
    if (mpfr_zero_p(alpha->v) || (dropped == 0 && mpfr_zero_p(J))) {
        mpmat_set(Gt->v, in->G->v); /* G~ = G exactly */
        mpmat_set(Gt->e, in->G->e);
        return OPTREF_OK;
    }
    for (size_t k = 0; k < S->N; k++)
        if (!S->keep[k]) {
            mpfr_set_zero(S->Fre->e + k, 1);
            mpfr_set_zero(S->Fim->e + k, 1);
        }
    optref_status st = mpmat_idft2(S->Gf, NULL, S->Fre, S->Fim); /* 6 */
    if (st != OPTREF_OK)
        return st;
    mpfr_prec_t prec = mpfr_get_prec(alpha->v);
    mpfr_t ey, t;
    mpfr_inits2(prec, ey, t, (mpfr_ptr)0);
    norm2(ey, S->Gf, NULL);
    mpfr_mul_ui(ey, ey, (unsigned long)(C_FFT * S->L * S->N), MPFR_RNDU); /* C L ||y||_2 */
    mpfr_sqrt_ui(t, 2 * (unsigned long)S->N, MPFR_RNDU);
    mpfr_mul(t, t, S->DF, MPFR_RNDU);
    mpfr_add(ey, ey, t, MPFR_RNDU);                  /* + sqrt(2N) D_F */
    mpfr_div(t, J, c->u, MPFR_RNDU);
    mpfr_add(ey, ey, t, MPFR_RNDU);                  /* + J / u */
    rerr one, oma, nn, an, g, y, t1;
    rerr *all[] = {&one, &oma, &nn, &an, &g, &y, &t1};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rerr_init(c, all[i]);
    rerr_exact_d(&one, 1.0);
    rerr_sub(c, &oma, &one, alpha);                  /* 1 - alpha in binary64, rounded */
    rerr_exact_d(&nn, (double)S->N);
    rerr_div(c, &an, alpha, &nn);                    /* alpha / N in binary64, rounded */
    for (size_t k = 0; k < S->N; k++) {
        size_t i = k / S->n, j = k % S->n;
        rerr_mat_get(&g, in->G, i, j);
        mpfr_mul_ui(y.v, S->Gf->e + k, (unsigned long)S->N, MPFR_RNDN);
        mpfr_set(y.e, ey, MPFR_RNDU);
        rerr_mul(c, &t1, &oma, &g);
        rerr_mul(c, &y, &an, &y);
        rerr_add(c, &y, &t1, &y);                    /* 7: (1 - alpha) G + (alpha / N) y */
        if (dropped == 0) {
            mpfr_set(y.v, g.v, MPFR_RNDN);           /* the reference hands G itself */
        } else {                                     /* as ref/optim/smi.c */
            mpfr_ui_sub(t, 1, alpha->v, MPFR_RNDN);
            mpfr_mul(t, t, g.v, MPFR_RNDN);
            mpfr_fma(y.v, alpha->v, S->Gf->e + k, t, MPFR_RNDN);
        }
        rerr_mat_set(Gt, i, j, &y);
    }
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        rerr_clear(all[i]);
    mpfr_clears(ey, t, (mpfr_ptr)0);
    return OPTREF_OK;
}

optref_status smi_filter_bound(rerr_ctx *c, const bound_input *in, rerr_mat *H, rerr_mat *Gt)
{
    spectrum S;
    optref_status st = spectrum_init(&S, in->in);
    rerr alpha;
    rerr_init(c, &alpha);
    alpha_bound(c, in->in, &alpha); /* 1 */
    mpfr_t J;
    mpfr_init2(J, in->in->prec);
    size_t dropped = 0;
    if (st == OPTREF_OK)
        st = h_bound(c, in, &S, H); /* 2-3 */
    if (st == OPTREF_OK)
        st = mask_bound(c, in->in, H, &S, J, &dropped); /* 4-5 */
    if (st == OPTREF_OK)
        st = gt_bound(c, in, &S, &alpha, J, dropped, Gt); /* 6-7 */
    mpfr_clear(J);
    rerr_clear(&alpha);
    spectrum_clear(&S);
    return st;
}
