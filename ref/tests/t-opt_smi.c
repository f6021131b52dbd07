/* smi (spec/optimizers.md section 2 smi, 1.3 quantile and 2-D DFT).
 *
 * The implementation runs at 256 bits through the driver. The independent
 * re-evaluation runs at HP = 1024 bits and is written from the spec's
 * definitions, differently from the implementation: the DFT and its inverse
 * by the double sum with angles 2 pi r / (n1 n2) from mpfr_const_pi and
 * mpfr_cos/mpfr_sin (the implementation: separable row/column dots with
 * mpfr_cosu twiddles), |F| by mpfr_hypot, the quantile by qsort, alpha by
 * cos(pi p) with p rounded, the blend without any shortcut, and the base
 * optimizers (adamw, adam, sgd) straight from their formulas with plain
 * roundings. Conjugate bins are mirrored here too (the spec requires exact
 * Hermitian symmetry; without it the two sides of a tie split the mask).
 *
 * Ratios: ||X_impl - X_hp||_F / (S 2^-256), S = ||X_hp||_F, plus the size of
 * the term that may cancel for the moments (M, B: + ||G~||_F). Threshold
 * THRESH = 16: each step adds a few roundings of relative size 2^-256 in
 * the DFT (32 guard bits), |F|, H, the inverse DFT (whose absolute error is
 * about 2^-256 ||G||_F) and the base step, over three steps. */
#include "hp_compare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optref/problem.h"
#include "optref/ref_optim.h"

#define THRESH 16.0L

static ref_opt *make_opt(const char *name, size_t m, size_t n, const char *const *opts,
                         size_t nopts)
{
    ref_opt *o = NULL;
    TEST_OK(ref_opt_create(&o, name, m, n, PREC, opts, nopts));
    return o;
}

/* ---- the independent evaluation at HP ---- */

typedef struct {
    const char *base;            /* "adamw", "adam" or "sgd" */
    const char *beta, *q, *alpha0, *alpha_end, *schedule, *T; /* smi options (text) */
    const char *lr_b1, *b2, *eps, *wd; /* adam: beta1, beta2, eps, weight_decay; sgd: -, -, -, wd */
    const char *mu;              /* sgd momentum */
    int nesterov;
} smi_cfg;

typedef struct {
    size_t m, n;
    mpmat_t W, H, M, V, B; /* B: sgd buffer */
    uint64_t t;
} hp_state;

static void hp_init(hp_state *s, mpmat_srcptr W0)
{
    s->m = W0->rows, s->n = W0->cols, s->t = 0;
    TEST_OK(mpmat_init(s->W, s->m, s->n, HP));
    TEST_OK(mpmat_init(s->H, s->m, s->n, HP));
    TEST_OK(mpmat_init(s->M, s->m, s->n, HP));
    TEST_OK(mpmat_init(s->V, s->m, s->n, HP));
    TEST_OK(mpmat_init(s->B, s->m, s->n, HP));
    mpmat_set(s->W, W0);
}

static void hp_clear(hp_state *s)
{
    mpmat_clear(s->W), mpmat_clear(s->H), mpmat_clear(s->M), mpmat_clear(s->V);
    mpmat_clear(s->B);
}

/* c[r] = cos(2 pi r / N), s[r] = sin(2 pi r / N), r = 0..N-1, at HP. */
static void angle_table(mpfr_t *c, mpfr_t *s, size_t N)
{
    mpfr_t th;
    mpfr_init2(th, HP + 64);
    for (size_t r = 0; r < N; r++) {
        mpfr_const_pi(th, MPFR_RNDN);
        mpfr_mul_ui(th, th, 2 * (unsigned long)r, MPFR_RNDN);
        mpfr_div_ui(th, th, (unsigned long)N, MPFR_RNDN);
        mpfr_init2(c[r], HP), mpfr_init2(s[r], HP);
        mpfr_cos(c[r], th, MPFR_RNDN);
        mpfr_sin(s[r], th, MPFR_RNDN);
    }
    mpfr_clear(th);
}

/* The angle index of exp(2 pi i (i k / n1 + j l / n2)): r / (n1 n2). */
static size_t angle_index(size_t i, size_t j, size_t k, size_t l, size_t n1, size_t n2)
{
    return ((i * k % n1) * n2 + (j * l % n2) * n1) % (n1 * n2);
}

/* F = DFT2(X) by the double sum, then conjugate pairs mirrored from the bin
 * of lower row-major index; self-conjugate bins get a zero imaginary part. */
static void hp_dft(mpmat_ptr Fre, mpmat_ptr Fim, mpmat_srcptr X)
{
    size_t n1 = X->rows, n2 = X->cols, N = n1 * n2;
    mpfr_t *c = malloc(N * sizeof *c), *s = malloc(N * sizeof *s);
    mpfr_t x;
    mpfr_init2(x, HP);
    angle_table(c, s, N);
    for (size_t k = 0; k < n1; k++)
        for (size_t l = 0; l < n2; l++) {
            mpfr_ptr re = mpmat_entry(Fre, k, l), im = mpmat_entry(Fim, k, l);
            mpfr_set_zero(re, 1), mpfr_set_zero(im, 1);
            for (size_t i = 0; i < n1; i++)
                for (size_t j = 0; j < n2; j++) {
                    size_t r = angle_index(i, j, k, l, n1, n2);
                    mpfr_mul(x, mpmat_entry(X, i, j), c[r], MPFR_RNDN);
                    mpfr_add(re, re, x, MPFR_RNDN);
                    mpfr_mul(x, mpmat_entry(X, i, j), s[r], MPFR_RNDN);
                    mpfr_sub(im, im, x, MPFR_RNDN); /* exp(-i theta) */
                }
        }
    for (size_t k = 0; k < n1; k++)
        for (size_t l = 0; l < n2; l++) {
            size_t mk = (n1 - k) % n1, ml = (n2 - l) % n2;
            if (mk * n2 + ml < k * n2 + l) {
                mpfr_set(mpmat_entry(Fre, k, l), mpmat_entry(Fre, mk, ml), MPFR_RNDN);
                mpfr_neg(mpmat_entry(Fim, k, l), mpmat_entry(Fim, mk, ml), MPFR_RNDN);
            } else if (mk == k && ml == l) {
                mpfr_set_zero(mpmat_entry(Fim, k, l), 1);
            }
        }
    for (size_t r = 0; r < N; r++)
        mpfr_clear(c[r]), mpfr_clear(s[r]);
    free(c), free(s);
    mpfr_clear(x);
}

/* X = Re(IDFT2(F)) by the double sum. */
static void hp_idft_re(mpmat_ptr X, mpmat_srcptr Fre, mpmat_srcptr Fim)
{
    size_t n1 = X->rows, n2 = X->cols, N = n1 * n2;
    mpfr_t *c = malloc(N * sizeof *c), *s = malloc(N * sizeof *s);
    mpfr_t x;
    mpfr_init2(x, HP);
    angle_table(c, s, N);
    for (size_t i = 0; i < n1; i++)
        for (size_t j = 0; j < n2; j++) {
            mpfr_ptr out = mpmat_entry(X, i, j);
            mpfr_set_zero(out, 1);
            for (size_t k = 0; k < n1; k++)
                for (size_t l = 0; l < n2; l++) {
                    size_t r = angle_index(i, j, k, l, n1, n2);
                    mpfr_mul(x, mpmat_entry(Fre, k, l), c[r], MPFR_RNDN);
                    mpfr_add(out, out, x, MPFR_RNDN);
                    mpfr_mul(x, mpmat_entry(Fim, k, l), s[r], MPFR_RNDN);
                    mpfr_sub(out, out, x, MPFR_RNDN);
                }
            mpfr_div_ui(out, out, (unsigned long)N, MPFR_RNDN);
        }
    for (size_t r = 0; r < N; r++)
        mpfr_clear(c[r]), mpfr_clear(s[r]);
    free(c), free(s);
    mpfr_clear(x);
}

static int cmp_mpfr(const void *a, const void *b)
{
    return mpfr_cmp(*(mpfr_srcptr const *)a, *(mpfr_srcptr const *)b);
}

/* tau = the 'linear' q-quantile of A's entries (torch.quantile), at HP. */
static void hp_quantile(mpfr_ptr tau, mpmat_srcptr A, const char *qtext)
{
    size_t N = A->rows * A->cols;
    mpfr_srcptr *v = malloc(N * sizeof *v);
    for (size_t k = 0; k < N; k++)
        v[k] = A->e + k;
    qsort(v, N, sizeof *v, cmp_mpfr);
    mpfr_t pos, frac, d;
    mpfr_inits2(HP, pos, frac, d, (mpfr_ptr)0);
    b64(pos, qtext);
    mpfr_mul_ui(pos, pos, (unsigned long)(N - 1), MPFR_RNDN);
    size_t lo = (size_t)mpfr_get_ui(pos, MPFR_RNDD);
    mpfr_sub_ui(frac, pos, (unsigned long)lo, MPFR_RNDN);
    mpfr_set(tau, v[lo], MPFR_RNDN);
    if (!mpfr_zero_p(frac)) {
        mpfr_sub(d, v[lo + 1], v[lo], MPFR_RNDN);
        mpfr_mul(d, d, frac, MPFR_RNDN);
        mpfr_add(tau, tau, d, MPFR_RNDN);
    }
    mpfr_clears(pos, frac, d, (mpfr_ptr)0);
    free(v);
}

/* alpha_t at HP: p = min((t-1)/T, 1), cos(pi p) from mpfr_const_pi. */
static void hp_alpha(mpfr_ptr alpha, const smi_cfg *c, uint64_t t)
{
    mpfr_t p, a0, a1, x;
    mpfr_inits2(HP, p, a0, a1, x, (mpfr_ptr)0);
    long T = strtol(c->T, NULL, 10);
    mpfr_set_ui(p, (unsigned long)(t - 1), MPFR_RNDN);
    mpfr_div_ui(p, p, (unsigned long)T, MPFR_RNDN);
    if (mpfr_cmp_ui(p, 1) > 0)
        mpfr_set_ui(p, 1, MPFR_RNDN);
    b64(a0, c->alpha0);
    b64(a1, c->alpha_end);
    if (strcmp(c->schedule, "cosine") == 0) {
        mpfr_const_pi(x, MPFR_RNDN);
        mpfr_mul(x, x, p, MPFR_RNDN);
        mpfr_cos(x, x, MPFR_RNDN);
        mpfr_ui_sub(p, 1, x, MPFR_RNDN);
        mpfr_div_ui(p, p, 2, MPFR_RNDN);
    }
    mpfr_sub(x, a1, a0, MPFR_RNDN);
    mpfr_mul(x, x, p, MPFR_RNDN);
    mpfr_add(alpha, a0, x, MPFR_RNDN);
    mpfr_clears(p, a0, a1, x, (mpfr_ptr)0);
}

/* Steps 2-7 at HP: H updated, Gt = G~ (Gf also returned). */
static void hp_filter(hp_state *s, mpmat_ptr Gt, mpmat_ptr Gf, mpmat_srcptr G, const smi_cfg *c)
{
    size_t mn = s->m * s->n;
    mpmat_t Fre, Fim;
    TEST_OK(mpmat_init(Fre, s->m, s->n, HP));
    TEST_OK(mpmat_init(Fim, s->m, s->n, HP));
    mpfr_t beta, a, tau, alpha, x;
    mpfr_inits2(HP, beta, a, tau, alpha, x, (mpfr_ptr)0);
    hp_dft(Fre, Fim, G);
    b64(beta, c->beta);
    for (size_t k = 0; k < mn; k++) {
        mpfr_hypot(a, Fre->e + k, Fim->e + k, MPFR_RNDN);
        mpfr_ui_sub(x, 1, beta, MPFR_RNDN);
        mpfr_mul(a, a, x, MPFR_RNDN);
        mpfr_mul(x, s->H->e + k, beta, MPFR_RNDN);
        mpfr_add(s->H->e + k, x, a, MPFR_RNDN);
    }
    hp_quantile(tau, s->H, c->q);
    for (size_t k = 0; k < mn; k++)
        if (mpfr_less_p(s->H->e + k, tau))
            mpfr_set_zero(Fre->e + k, 1), mpfr_set_zero(Fim->e + k, 1);
    hp_idft_re(Gf, Fre, Fim);
    hp_alpha(alpha, c, s->t);
    for (size_t k = 0; k < mn; k++) {
        mpfr_ui_sub(x, 1, alpha, MPFR_RNDN);
        mpfr_mul(x, x, G->e + k, MPFR_RNDN);
        mpfr_mul(a, alpha, Gf->e + k, MPFR_RNDN);
        mpfr_add(Gt->e + k, x, a, MPFR_RNDN);
    }
    mpfr_clears(beta, a, tau, alpha, x, (mpfr_ptr)0);
    mpmat_clear(Fre), mpmat_clear(Fim);
}

/* The base step at HP (torch's formulas). */
static void hp_base(hp_state *s, mpmat_srcptr G, mpfr_srcptr eta, const smi_cfg *c)
{
    size_t mn = s->m * s->n;
    mpfr_t b1, b2, eps, wd, mu, g, x, c1, c2;
    mpfr_inits2(HP, b1, b2, eps, wd, mu, g, x, c1, c2, (mpfr_ptr)0);
    b64(wd, c->wd);
    if (strcmp(c->base, "sgd") == 0) {
        b64(mu, c->mu);
        for (size_t k = 0; k < mn; k++) {
            mpfr_mul(g, wd, s->W->e + k, MPFR_RNDN); /* coupled */
            mpfr_add(g, g, G->e + k, MPFR_RNDN);
            if (s->t == 1)
                mpfr_set(s->B->e + k, g, MPFR_RNDN);
            else
                mpfr_mul(x, mu, s->B->e + k, MPFR_RNDN), mpfr_add(s->B->e + k, x, g, MPFR_RNDN);
            if (c->nesterov)
                mpfr_mul(x, mu, s->B->e + k, MPFR_RNDN), mpfr_add(x, x, g, MPFR_RNDN);
            else
                mpfr_set(x, s->B->e + k, MPFR_RNDN);
            mpfr_mul(x, x, eta, MPFR_RNDN);
            mpfr_sub(s->W->e + k, s->W->e + k, x, MPFR_RNDN);
        }
    } else {
        int decoupled = strcmp(c->base, "adamw") == 0;
        b64(b1, c->lr_b1);
        b64(b2, c->b2);
        b64(eps, c->eps);
        mpfr_pow_ui(c1, b1, (unsigned long)s->t, MPFR_RNDN);
        mpfr_ui_sub(c1, 1, c1, MPFR_RNDN);
        mpfr_pow_ui(c2, b2, (unsigned long)s->t, MPFR_RNDN);
        mpfr_ui_sub(c2, 1, c2, MPFR_RNDN);
        for (size_t k = 0; k < mn; k++) {
            mpfr_ptr w = s->W->e + k, m = s->M->e + k, v = s->V->e + k;
            if (decoupled) { /* W (1 - eta lambda) */
                mpfr_mul(x, eta, wd, MPFR_RNDN);
                mpfr_ui_sub(x, 1, x, MPFR_RNDN);
                mpfr_mul(w, w, x, MPFR_RNDN);
                mpfr_set(g, G->e + k, MPFR_RNDN);
            } else {
                mpfr_mul(g, wd, w, MPFR_RNDN);
                mpfr_add(g, g, G->e + k, MPFR_RNDN);
            }
            test_adam_moments(m, v, g, b1, b2, x);
            mpfr_div(x, v, c2, MPFR_RNDN);
            mpfr_sqrt(x, x, MPFR_RNDN);
            mpfr_add(x, x, eps, MPFR_RNDN);
            mpfr_div(g, m, c1, MPFR_RNDN);
            mpfr_div(g, g, x, MPFR_RNDN);
            mpfr_mul(g, g, eta, MPFR_RNDN);
            mpfr_sub(w, w, g, MPFR_RNDN);
        }
    }
    mpfr_clears(b1, b2, eps, wd, mu, g, x, c1, c2, (mpfr_ptr)0);
}

/* ---- helpers ---- */

/* smi options from a cfg. */
static ref_opt *make_smi(size_t m, size_t n, const smi_cfg *c)
{
    static char buf[12][64];
    int k = 0;
    snprintf(buf[k++], 64, "base=%s", c->base);
    snprintf(buf[k++], 64, "beta=%s", c->beta);
    snprintf(buf[k++], 64, "q=%s", c->q);
    snprintf(buf[k++], 64, "alpha0=%s", c->alpha0);
    snprintf(buf[k++], 64, "alpha_end=%s", c->alpha_end);
    snprintf(buf[k++], 64, "schedule=%s", c->schedule);
    snprintf(buf[k++], 64, "T=%s", c->T);
    snprintf(buf[k++], 64, "base.weight_decay=%s", c->wd);
    if (strcmp(c->base, "sgd") == 0) {
        snprintf(buf[k++], 64, "base.lr=0.1");
        snprintf(buf[k++], 64, "base.momentum=%s", c->mu);
        snprintf(buf[k++], 64, "base.nesterov=%s", c->nesterov ? "true" : "false");
    } else {
        snprintf(buf[k++], 64, "base.beta1=%s", c->lr_b1);
        snprintf(buf[k++], 64, "base.beta2=%s", c->b2);
        snprintf(buf[k++], 64, "base.eps=%s", c->eps);
    }
    const char *opts[12];
    for (int i = 0; i < k; i++)
        opts[i] = buf[i];
    return make_opt("smi", m, n, opts, (size_t)k);
}

/* Gradient source: the trace-het problems (P != NULL: G = H W at each
 * side's precision) or a fixed random stream. */
typedef struct {
    const problem *Pi, *Ph;
    test_rng rng;
} grad_src;

static void next_grads(grad_src *g, mpmat_ptr Gi, mpmat_ptr Gh, mpmat_srcptr Wi, mpmat_srcptr Wh)
{
    if (g->Pi != NULL) {
        TEST_OK(oracle_gradient(Gi, g->Pi, ORACLE_EXACT, 0, 1, Wi));
        TEST_OK(oracle_gradient(Gh, g->Ph, ORACLE_EXACT, 0, 1, Wh));
    } else {
        test_fill_uniform(Gi, &g->rng);
        mpmat_set(Gh, Gi);
    }
}

static void run_case(test_worst *w, mpmat_srcptr W0, grad_src *src, const smi_cfg *c,
                     const char *eta_text, int steps)
{
    size_t m = W0->rows, n = W0->cols;
    ref_opt *o = make_smi(m, n, c);
    hp_state s;
    hp_init(&s, W0);
    mpmat_t W, Gi, Gh, Gt, Gf;
    TEST_OK(mpmat_init(W, m, n, PREC));
    TEST_OK(mpmat_init(Gi, m, n, PREC));
    TEST_OK(mpmat_init(Gh, m, n, HP));
    TEST_OK(mpmat_init(Gt, m, n, HP));
    TEST_OK(mpmat_init(Gf, m, n, HP));
    mpmat_set(W, W0);
    mpfr_t eta, etah;
    mpfr_init2(eta, PREC), mpfr_init2(etah, HP);
    b64(eta, eta_text), b64(etah, eta_text);
    int sgd = strcmp(c->base, "sgd") == 0;
    for (int t = 1; t <= steps; t++) {
        next_grads(src, Gi, Gh, W, s.W);
        TEST_OK(ref_opt_step(o, W, Gi, eta, NULL));
        s.t++;
        hp_filter(&s, Gt, Gf, Gh, c);
        hp_base(&s, Gt, etah, c);
        test_worst_add(w, diff_ratio(W, s.W, NULL));
        test_worst_add(w, diff_ratio(ref_opt_state(o, "H"), s.H, NULL));
        if (sgd) {
            test_worst_add(w, diff_ratio(ref_opt_state(o->base, "B"), s.B, Gt));
        } else {
            test_worst_add(w, diff_ratio(ref_opt_state(o->base, "M"), s.M, Gt));
            test_worst_add(w, diff_ratio(ref_opt_state(o->base, "V"), s.V, NULL));
        }
    }
    mpfr_clears(eta, etah, (mpfr_ptr)0);
    mpmat_clear(W), mpmat_clear(Gi), mpmat_clear(Gh), mpmat_clear(Gt), mpmat_clear(Gf);
    hp_clear(&s);
    ref_opt_free(o);
}

static const smi_cfg cfgs[] = {
    /* spec defaults around adamw's defaults */
    {"adamw", "0.99", "0.25", "0.1", "0.5", "cosine", "4", "0.9", "0.999", "1e-8", "0.01", "0", 0},
    /* linear schedule, step 3 beyond T = 2, other q and beta, heavy decoupled decay */
    {"adamw", "0.9", "0.5", "0.2", "0.8", "linear", "2", "0.8", "0.99", "1e-6", "0.5", "0", 0},
    /* coupled decay in the base (adam) */
    {"adam", "0.99", "0.25", "0.1", "0.5", "cosine", "3", "0.9", "0.999", "1e-8", "0.1", "0", 0},
    /* sgd with momentum 0.9 and coupled decay, nesterov off and on */
    {"sgd", "0.99", "0.25", "0.3", "0.7", "cosine", "2", "-", "-", "-", "0.01", "0.9", 0},
    {"sgd", "0.95", "0.4", "0.3", "0.7", "linear", "4", "-", "-", "-", "0.01", "0.9", 1},
};
#define NCFG (sizeof cfgs / sizeof cfgs[0])

START_TEST(test_first_steps_small)
{
    static test_worst w = {"smi small shapes vs 1024-bit", 0, THRESH};
    const size_t shapes[][2] = {{1, 1}, {2, 3}, {3, 2}, {1, 7}, {1, 8}, {6, 1}, {4, 4}};
    for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++)
        for (size_t c = 0; c < NCFG; c++) {
            mpmat_t W0;
            TEST_OK(mpmat_init(W0, shapes[sh][0], shapes[sh][1], 53));
            grad_src src = {NULL, NULL, {100 + sh * 10 + c}};
            test_fill_uniform(W0, &src.rng);
            run_case(&w, W0, &src, &cfgs[c], "0.01", 3);
            mpmat_clear(W0);
        }
    test_worst_report(&w);
}
END_TEST

START_TEST(test_first_steps_trace_het)
{
    static test_worst w = {"smi 9x9 trace-het vs 1024-bit", 0, THRESH};
    problem Pi, Ph;
    TEST_OK(problem_create(&Pi, "trace-het", 1234, PREC, NULL));
    TEST_OK(problem_create(&Ph, "trace-het", 1234, HP, NULL));
    for (size_t c = 0; c < NCFG; c++) {
        grad_src src = {&Pi, &Ph, {0}};
        run_case(&w, Pi.X0, &src, &cfgs[c], strcmp(cfgs[c].base, "sgd") ? "0.01" : "1.2e-4",
                 3);
    }
    problem_clear(&Pi);
    problem_clear(&Ph);
    test_worst_report(&w);
}
END_TEST

/* Spec 3: q = 0 (the mask keeps every bin) or alpha = 0 gives the base
 * optimizer exactly: the implementation then hands the base G itself (the
 * exact value of (1 - alpha) G + alpha Re(IDFT2(DFT2 G))), so the whole
 * trajectory, W and the base's state, is equal bit for bit. */
START_TEST(test_reduction_to_base)
{
    const size_t shapes[][2] = {{2, 3}, {3, 2}, {1, 5}, {9, 9}, {1, 1}};
    const char *smi_opts[][3] = {{"q=0", "T=3", NULL}, {"alpha0=0", "alpha_end=0", "T=3"}};
    const char *bases[][3] = {{"adamw", NULL, NULL}, {"sgd", "lr=0.1", "momentum=0.9"},
                              {"adam", "weight_decay=0.1", NULL}};
    for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++)
        for (size_t v = 0; v < 2; v++)
            for (size_t b = 0; b < 3; b++) {
                size_t m = shapes[sh][0], n = shapes[sh][1];
                char bname[32], bo1[64], bo2[64];
                snprintf(bname, sizeof bname, "base=%s", bases[b][0]);
                const char *so[6] = {smi_opts[v][0], smi_opts[v][1], bname};
                size_t nso = 3, nbo = 0;
                if (smi_opts[v][2] != NULL)
                    so[nso++] = smi_opts[v][2];
                const char *bo[2];
                if (bases[b][1] != NULL) {
                    snprintf(bo1, sizeof bo1, "base.%s", bases[b][1]);
                    so[nso++] = bo1;
                    bo[nbo++] = bases[b][1];
                }
                if (bases[b][2] != NULL) {
                    snprintf(bo2, sizeof bo2, "base.%s", bases[b][2]);
                    so[nso++] = bo2;
                    bo[nbo++] = bases[b][2];
                }
                ref_opt *o = make_opt("smi", m, n, so, nso);
                ref_opt *p = make_opt(bases[b][0], m, n, bo, nbo);
                test_rng r = {7 + sh};
                mpmat_t W, Wb, G;
                TEST_OK(mpmat_init(W, m, n, PREC));
                TEST_OK(mpmat_init(Wb, m, n, PREC));
                TEST_OK(mpmat_init(G, m, n, PREC));
                test_fill_uniform(W, &r);
                mpmat_set(Wb, W);
                mpfr_t eta;
                mpfr_init2(eta, PREC);
                b64(eta, "0.01");
                for (int t = 1; t <= 5; t++) {
                    test_fill_uniform(G, &r);
                    if (t == 2)
                        mpfr_set_zero(G->e, -1); /* a signed zero survives too */
                    TEST_OK(ref_opt_step(o, W, G, eta, NULL));
                    TEST_OK(ref_opt_step(p, Wb, G, eta, NULL));
                    ck_assert_msg(mpmat_equal(W, Wb), "smi(%s, base=%s) %zux%zu differs from "
                                  "the base at step %d", smi_opts[v][0], bases[b][0], m, n, t);
                    for (size_t i = 0; i < p->info->nstate; i++)
                        ck_assert(mpmat_equal(o->base->state[i], p->state[i]));
                }
                mpfr_clear(eta);
                mpmat_clear(W), mpmat_clear(Wb), mpmat_clear(G);
                ref_opt_free(o), ref_opt_free(p);
            }
}
END_TEST

/* Filter contracts, on many shapes, q values and steps, with alpha = 1 and
 * an sgd base at eta = 1 from W = 0 (so W1 = -G~ = -Gf exactly):
 *  - ||Gf||_F <= ||G||_F (Parseval: the mask only removes energy), up to
 *    the rounding of Gf: (||Gf|| - ||G||) / (||G|| 2^-256) < THRESH;
 *  - the implementation's mask is [H >= tau]: Gf matches Re(IDFT2(F . Mask))
 *    evaluated here at HP with tau the HP quantile of the implementation's H;
 *  - the mask keeps at least N - ceil(q (N - 1)) >= floor((1 - q) N) bins;
 *  - H is exactly Hermitian-symmetric: H[k,l] == H[-k,-l] bit for bit. */
START_TEST(test_filter_contracts)
{
    static test_worst wn = {"smi ||Gf|| - ||G|| (<= rounding)", 0, THRESH};
    static test_worst wg = {"smi Gf vs HP filter of impl's mask", 0, THRESH};
    const size_t shapes[][2] = {{2, 3}, {3, 2}, {1, 8}, {7, 1}, {4, 6}, {5, 3}, {2, 2}, {9, 9}};
    const char *qs[] = {"0.1", "0.25", "0.5", "0.75", "0.9", "1"};
    test_rng r = {31};
    for (size_t sh = 0; sh < sizeof shapes / sizeof shapes[0]; sh++)
        for (size_t iq = 0; iq < sizeof qs / sizeof qs[0]; iq++) {
            size_t m = shapes[sh][0], n = shapes[sh][1], N = m * n;
            char qo[32];
            snprintf(qo, sizeof qo, "q=%s", qs[iq]);
            const char *so[] = {qo, "alpha0=1", "alpha_end=1", "T=1", "base=sgd", "base.lr=1",
                                "beta=0.5"};
            ref_opt *o = make_opt("smi", m, n, so, 7);
            mpmat_t W, G, Fre, Fim, Gf, D;
            TEST_OK(mpmat_init(W, m, n, PREC));
            TEST_OK(mpmat_init(G, m, n, PREC));
            TEST_OK(mpmat_init(Fre, m, n, HP));
            TEST_OK(mpmat_init(Fim, m, n, HP));
            TEST_OK(mpmat_init(Gf, m, n, HP));
            TEST_OK(mpmat_init(D, m, n, PREC));
            mpfr_t eta, ng, nf, tau;
            mpfr_inits2(PREC, eta, ng, nf, (mpfr_ptr)0);
            mpfr_init2(tau, HP);
            mpfr_set_ui(eta, 1, MPFR_RNDN);
            for (int t = 1; t <= 3; t++) {
                mpmat_zero(W);
                test_fill_uniform(G, &r);
                TEST_OK(ref_opt_step(o, W, G, eta, NULL));
                TEST_OK(mpmat_neg(D, W)); /* Gf */
                /* Parseval */
                mpmat_norm_fro(ng, G);
                mpmat_norm_fro(nf, D);
                mpfr_sub(nf, nf, ng, MPFR_RNDN);
                mpfr_div(nf, nf, ng, MPFR_RNDN);
                mpfr_mul_2si(nf, nf, PREC, MPFR_RNDN);
                test_worst_add(&wn, mpfr_sgn(nf) > 0 ? mpfr_get_ld(nf, MPFR_RNDN) : 0.0L);
                /* the mask from the implementation's H */
                mpmat_srcptr H = ref_opt_state(o, "H");
                for (size_t k = 0; k < m; k++)
                    for (size_t l = 0; l < n; l++)
                        ck_assert_msg(mpfr_equal_p(mpmat_entry(H, k, l),
                                                   mpmat_entry(H, (m - k) % m, (n - l) % n)),
                                      "H is not Hermitian-symmetric at (%zu,%zu) in %zux%zu", k,
                                      l, m, n);
                hp_quantile(tau, H, qs[iq]);
                size_t kept = 0;
                hp_dft(Fre, Fim, G);
                for (size_t k = 0; k < N; k++) {
                    if (mpfr_less_p(H->e + k, tau))
                        mpfr_set_zero(Fre->e + k, 1), mpfr_set_zero(Fim->e + k, 1);
                    else
                        kept++;
                }
                hp_idft_re(Gf, Fre, Fim);
                test_worst_add(&wg, diff_ratio(D, Gf, G));
                /* N - ceil(q (N - 1)) */
                mpfr_t x;
                mpfr_init2(x, HP);
                b64(x, qs[iq]);
                mpfr_mul_ui(x, x, (unsigned long)(N - 1), MPFR_RNDN);
                size_t lost = (size_t)mpfr_get_ui(x, MPFR_RNDU);
                mpfr_clear(x);
                ck_assert_msg(kept >= N - lost, "kept %zu of %zu bins at q=%s", kept, N, qs[iq]);
            }
            mpfr_clears(eta, ng, nf, tau, (mpfr_ptr)0);
            mpmat_clear(W), mpmat_clear(G), mpmat_clear(Fre), mpmat_clear(Fim);
            mpmat_clear(Gf), mpmat_clear(D);
            ref_opt_free(o);
        }
    test_worst_report(&wn);
    test_worst_report(&wg);
}
END_TEST

/* alpha_t through an observable: the 1 x 4 gradient G = [3, 1, 3, 1] has
 * F = [8, 0, 4, 0] exactly; at q = 0.75 tau = 5 (1 - beta^t)... > 4 (...),
 * so only the DC bin is kept and Gf = [2, 2, 2, 2] exactly, G~_1 = 1 + alpha.
 * With sgd (no momentum), eta = 1: W_t - W_{t-1} = -G~, so alpha_t is read
 * back from the step and compared with the HP schedule, for t = 1 .. T + 3
 * (t = 1: alpha0; t = T/2 + 1: the midpoint; t = T + 1 on: alpha_end). */
START_TEST(test_alpha_schedule)
{
    static test_worst w = {"smi alpha_t read back vs HP", 0, THRESH};
    const char *sched[] = {"cosine", "linear"};
    for (int sc = 0; sc < 2; sc++) {
        smi_cfg c = {"sgd", "0.99", "0.75", "0.1", "0.5", sched[sc], "8", "-", "-", "-", "0",
                     "0", 0};
        char so[32];
        snprintf(so, sizeof so, "schedule=%s", sched[sc]);
        const char *opts[] = {"q=0.75", "T=8", so, "base=sgd", "base.lr=1"};
        ref_opt *o = make_opt("smi", 1, 4, opts, 5);
        mpmat_t W, Wp, G;
        TEST_OK(mpmat_init(W, 1, 4, PREC));
        TEST_OK(mpmat_init(Wp, 1, 4, PREC));
        TEST_OK(mpmat_init(G, 1, 4, PREC));
        for (size_t j = 0; j < 4; j++)
            mpfr_set_ui(G->e + j, j % 2 ? 1 : 3, MPFR_RNDN);
        mpfr_t eta, a, e;
        mpfr_inits2(PREC, eta, a, (mpfr_ptr)0);
        mpfr_init2(e, HP);
        mpfr_set_ui(eta, 1, MPFR_RNDN);
        for (uint64_t t = 1; t <= 11; t++) {
            mpmat_set(Wp, W);
            TEST_OK(ref_opt_step(o, W, G, eta, NULL));
            mpfr_sub(a, Wp->e + 1, W->e + 1, MPFR_RNDN); /* G~_1 = 1 + alpha */
            mpfr_sub_ui(a, a, 1, MPFR_RNDN);
            hp_alpha(e, &c, t);
            mpfr_sub(e, e, a, MPFR_RNDN);
            mpfr_abs(e, e, MPFR_RNDN);
            mpfr_mul_2si(e, e, PREC, MPFR_RNDN);
            mpfr_div_ui(e, e, 1 + (unsigned long)t, MPFR_RNDN); /* |W| <= 2 t */
            test_worst_add(&w, mpfr_get_ld(e, MPFR_RNDN));
            /* landmarks: t = 1 alpha0, t = T/2 + 1 the midpoint 0.3 (p = 1/2 in both
             * schedules), t > T alpha_end; each within 2^-(PREC-4) */
            if (t == 1 || t == 5 || t >= 9) {
                b64(e, t == 1 ? "0.1" : t == 5 ? "0.3" : "0.5");
                if (t == 5) { /* (alpha0 + alpha_end)/2, not the binary64 0.3 */
                    mpfr_t f;
                    mpfr_init2(f, HP);
                    b64(e, "0.1"), b64(f, "0.5");
                    mpfr_add(e, e, f, MPFR_RNDN);
                    mpfr_div_2ui(e, e, 1, MPFR_RNDN);
                    mpfr_clear(f);
                }
                mpfr_sub(e, e, a, MPFR_RNDN);
                mpfr_mul_2si(e, e, PREC - 4, MPFR_RNDN);
                ck_assert_msg(mpfr_cmpabs_ui(e, 1) <= 0, "alpha_%lu off its landmark (%s)",
                              (unsigned long)t, sched[sc]);
            }
        }
        mpfr_clears(eta, a, e, (mpfr_ptr)0);
        mpmat_clear(W), mpmat_clear(Wp), mpmat_clear(G);
        ref_opt_free(o);
    }
    test_worst_report(&w);
}
END_TEST

/* Hand-worked 2 x 2, every value exact: G = [[4, 2], [1, 1]] has the real
 * DFT F = [[8, 2], [4, 2]]; H = (1 - beta)|F| = c [[8, 2], [4, 2]];
 * q = 0.5: sorted c[2, 2, 4, 8], pos = 1.5, tau = 3c: the bins (0,0), (1,0)
 * are kept; Gf = IDFT2([[8, 0], [4, 0]]) = [[3, 3], [1, 1]].
 * Step 1 (alpha = alpha0 = 0.5): G~ = [[3.5, 2.5], [1, 1]];
 * sgd, eta = 1/4, W0 = 0: W1 = [[-0.875, -0.625], [-0.25, -0.25]].
 * Step 2 (T = 1: alpha = alpha_end = 1), same G: the mask is the same and
 * G~ = Gf: W2 = W1 - Gf/4 = [[-1.625, -1.375], [-0.5, -0.5]]. */
START_TEST(test_hand_2x2)
{
    for (int sc = 0; sc < 2; sc++) {
        const char *opts[] = {"q=0.5", "alpha0=0.5", "alpha_end=1", "T=1", "base=sgd",
                              "base.lr=0.25", sc ? "schedule=linear" : "schedule=cosine"};
        ref_opt *o = make_opt("smi", 2, 2, opts, 7);
        mpmat_t W, G;
        TEST_OK(mpmat_init(W, 2, 2, PREC));
        TEST_OK(mpmat_init(G, 2, 2, PREC));
        const int g[4] = {4, 2, 1, 1};
        const char *w1[4] = {"-0.875", "-0.625", "-0.25", "-0.25"};
        const char *w2[4] = {"-1.625", "-1.375", "-0.5", "-0.5"};
        for (size_t k = 0; k < 4; k++)
            mpfr_set_si(G->e + k, g[k], MPFR_RNDN);
        mpfr_t eta, x, c;
        mpfr_inits2(PREC, eta, x, c, (mpfr_ptr)0);
        mpfr_set_str(eta, "0.25", 10, MPFR_RNDN);
        TEST_OK(ref_opt_step(o, W, G, eta, NULL));
        for (size_t k = 0; k < 4; k++) {
            mpfr_set_str(x, w1[k], 10, MPFR_RNDN);
            ck_assert_msg(mpfr_equal_p(W->e + k, x), "W1[%zu]", k);
        }
        /* H = (1 - 0.99) |F| exactly (|F| is a small integer times a power of two) */
        b64(c, "0.99");
        mpfr_ui_sub(c, 1, c, MPFR_RNDN);
        const int f[4] = {8, 2, 4, 2};
        for (size_t k = 0; k < 4; k++) {
            mpfr_mul_ui(x, c, (unsigned long)f[k], MPFR_RNDN);
            ck_assert(mpfr_equal_p(ref_opt_state(o, "H")->e + k, x));
        }
        TEST_OK(ref_opt_step(o, W, G, eta, NULL));
        for (size_t k = 0; k < 4; k++) {
            mpfr_set_str(x, w2[k], 10, MPFR_RNDN);
            ck_assert_msg(mpfr_equal_p(W->e + k, x), "W2[%zu]", k);
        }
        mpfr_clears(eta, x, c, (mpfr_ptr)0);
        mpmat_clear(W), mpmat_clear(G);
        ref_opt_free(o);
    }
}
END_TEST

/* Options, errors and the state layout. */
START_TEST(test_options_and_errors)
{
    const optimizer_info *info = optimizer_info_find("smi");
    ck_assert_ptr_nonnull(info);
    ck_assert_str_eq(info->default_base, "adamw");
    ck_assert_int_eq(info->nstate, 1);
    ck_assert_str_eq(info->state[0].name, "H");
    const char *t5[] = {"T=5"};
    ref_opt *o = make_opt("smi", 2, 3, t5, 1);
    ck_assert_str_eq(o->base->info->name, "adamw");
    ck_assert_str_eq(ref_opt_text(o, "schedule"), "cosine");
    const char *names[] = {"beta", "q", "alpha0", "alpha_end"};
    const char *defs[] = {"0.99", "0.25", "0.1", "0.5"};
    mpfr_t x;
    mpfr_init2(x, 53);
    for (int i = 0; i < 4; i++) {
        mpfr_set_str(x, defs[i], 10, MPFR_RNDN);
        ck_assert_msg(mpfr_equal_p(ref_opt_real(o, names[i]), x), "default of %s", names[i]);
    }
    mpfr_clear(x);
    ck_assert_int_eq(ref_opt_state(o, "H")->rows, 2);
    ck_assert_int_eq(ref_opt_state(o, "H")->cols, 3);
    /* a non-finite G is rejected and leaves everything untouched */
    mpmat_t W, Wb, G;
    TEST_OK(mpmat_init(W, 2, 3, PREC));
    TEST_OK(mpmat_init(Wb, 2, 3, PREC));
    TEST_OK(mpmat_init(G, 2, 3, PREC));
    test_rng r = {3};
    test_fill_uniform(W, &r);
    mpmat_set(Wb, W);
    test_fill_uniform(G, &r);
    mpfr_set_inf(G->e + 4, 1);
    mpfr_t eta;
    mpfr_init2(eta, PREC);
    b64(eta, "0.01");
    ck_assert_int_eq(ref_opt_step(o, W, G, eta, NULL), OPTREF_ENONFINITE);
    ck_assert(mpmat_equal(W, Wb));
    ck_assert_int_eq(o->t, 0);
    for (size_t k = 0; k < 6; k++)
        ck_assert(mpfr_zero_p(ref_opt_state(o, "H")->e + k));
    mpfr_clear(eta);
    mpmat_clear(W), mpmat_clear(Wb), mpmat_clear(G);
    ref_opt_free(o);

    const char *bad[][2] = {
        {"q=0.25", "beta=0.5"},   /* T missing */
        {"T=0", "q=0.25"},        {"T=2", "beta=1"},         {"T=2", "beta=-0.1"},
        {"T=2", "q=1.5"},         {"T=2", "q=-0.5"},         {"T=2", "alpha0=1.5"},
        {"T=2", "alpha_end=-1"},  {"T=2", "schedule=step"},  {"T=2", "base=sam"},
        {"T=2", "base=smi"},      {"T=2", "base=nosuch"},    {"T=2", "base.beta1=1"},
        {"T=2", "lr=0.1"},        {"T=2.5", "q=0.1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ref_opt *b = NULL;
        ck_assert_msg(ref_opt_create(&b, "smi", 2, 3, PREC, bad[i], 2) != OPTREF_OK,
                      "accepted %s %s", bad[i][0], bad[i][1]);
        ck_assert_ptr_null(b);
    }
}
END_TEST

/* Save after two steps, load, and continue both: bit-identical (the state
 * H and the base's state travel through the serialisation). */
START_TEST(test_save_load)
{
    const char *opts[][4] = {{"T=4", NULL, NULL, NULL},
                             {"T=4", "base=sgd", "base.lr=0.1", "base.momentum=0.9"}};
    for (int v = 0; v < 2; v++) {
        ref_opt *o = make_opt("smi", 3, 4, opts[v], v ? 4 : 1), *l = NULL;
        mpmat_t W, Wl, G;
        TEST_OK(mpmat_init(W, 3, 4, PREC));
        TEST_OK(mpmat_init(G, 3, 4, PREC));
        test_rng r = {55};
        test_fill_uniform(W, &r);
        mpfr_t eta;
        mpfr_init2(eta, PREC);
        b64(eta, "0.01");
        for (int t = 0; t < 2; t++) {
            test_fill_uniform(G, &r);
            TEST_OK(ref_opt_step(o, W, G, eta, NULL));
        }
        FILE *f = tmpfile();
        ck_assert_ptr_nonnull(f);
        TEST_OK(ref_opt_save(o, W, f));
        rewind(f);
        TEST_OK(ref_opt_load(&l, Wl, f, "tmp"));
        fclose(f);
        ck_assert_str_eq(l->base->info->name, v ? "sgd" : "adamw");
        for (int t = 0; t < 2; t++) {
            test_fill_uniform(G, &r);
            TEST_OK(ref_opt_step(o, W, G, eta, NULL));
            TEST_OK(ref_opt_step(l, Wl, G, eta, NULL));
            ck_assert(mpmat_equal(W, Wl));
            ck_assert(mpmat_equal(ref_opt_state(o, "H"), ref_opt_state(l, "H")));
        }
        mpfr_clear(eta);
        mpmat_clear(W), mpmat_clear(Wl), mpmat_clear(G);
        ref_opt_free(o), ref_opt_free(l);
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("opt_smi");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_options_and_errors);
    tcase_add_test(tc, test_hand_2x2);
    tcase_add_test(tc, test_alpha_schedule);
    tcase_add_test(tc, test_reduction_to_base);
    tcase_add_test(tc, test_filter_contracts);
    tcase_add_test(tc, test_first_steps_small);
    tcase_add_test(tc, test_first_steps_trace_het);
    tcase_add_test(tc, test_save_load);
    suite_add_tcase(s, tc);
    return s;
}
