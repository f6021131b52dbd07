/* smi on the CPU (spec/optimizers.md section 2 smi, 1.3), with FFTW3:
 * 1. alpha_t (binary64, rounded once). 2. F = DFT2(G): r2c gives the half
 * spectrum l = 0..n/2; columns 0 and n/2 are made exactly Hermitian along k
 * by mirroring, and the self-conjugate bins exactly real, as the reference.
 * 3. H <- beta H + (1 - beta)|F| at one bin of each conjugate pair, copied to
 * the other, so H stays exactly symmetric. 4. tau = quantile(H, q) (torch's
 * 'linear' rule: sort a copy; pos = q (N - 1) split exactly). 5. Mask =
 * [H >= tau]. 6. Gf = Re(IDFT2(F . Mask)) by c2r: the masked half spectrum is
 * exactly Hermitian because the mask is symmetric, which is what c2r assumes
 * (it ignores the imaginary parts that the symmetry makes zero). 7. G~ =
 * (1 - alpha) G + (alpha / N) c2r(...). 8. The base's step with G~.
 * As the reference: when alpha = 0 or every bin is kept, G~ = G exactly.
 * Plans: FFTW_ESTIMATE (deterministic, no measurement, no wisdom), made once
 * in the workspace for the optimizer's shape and reused every step. */
#include <fftw3.h>
#include <stdlib.h>
#include <string.h>

#include "real.h"

#include "../mutants.h"

#if FAST_REAL_BITS == 64
#define FFT(name) fftw_##name
#else
#define FFT(name) fftwf_##name
#endif

typedef struct {
    size_t m, n, h;         /* shape; h = n / 2 + 1 columns of the half spectrum */
    real *x;                /* m n: the r2c input (G), then G~ */
    FFT(complex) *F;        /* m h: the half spectrum */
    FFT(complex) *Z;        /* m h: the masked half spectrum (c2r destroys it) */
    real *y;                /* m n: the c2r output, N Gf */
    real *sorted;           /* m n: H, sorted for the quantile */
    FFT(plan) fwd, inv;
    /* the mutant smi-no-hermitian-mirror only: full complex transforms */
    FFT(complex) *C, *D;
    FFT(plan) cfwd, cinv;
} smi_work;

/* Releases the plans and arrays; the struct is left zeroed. */
static void smi_work_release(smi_work *w)
{
    FFT(plan) plans[] = {w->fwd, w->inv, w->cfwd, w->cinv};
    for (size_t i = 0; i < sizeof plans / sizeof plans[0]; i++)
        if (plans[i] != NULL)
            FFT(destroy_plan)(plans[i]);
    void *arrays[] = {w->x, w->F, w->Z, w->y, w->sorted, w->C, w->D};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        FFT(free)(arrays[i]);
    memset(w, 0, sizeof *w);
}

static void smi_work_free(void *p)
{
    smi_work_release(p);
    free(p);
}

/* The workspace, made on the first step: arrays and the two plans. */
static smi_work *smi_workspace(fast_opt *o)
{
    smi_work *w = fast_work(o, sizeof(smi_work), smi_work_free);
    if (w == NULL || w->fwd != NULL)
        return w;
    size_t m = o->m, n = o->n, h = n / 2 + 1, N = m * n;
    w->m = m, w->n = n, w->h = h;
    w->x = FFT(malloc)(N * sizeof(real));
    w->y = FFT(malloc)(N * sizeof(real));
    w->sorted = FFT(malloc)(N * sizeof(real));
    w->F = FFT(malloc)(m * h * sizeof(FFT(complex)));
    w->Z = FFT(malloc)(m * h * sizeof(FFT(complex)));
    if (w->x != NULL && w->y != NULL && w->sorted != NULL && w->F != NULL && w->Z != NULL) {
        w->fwd = FFT(plan_dft_r2c_2d)((int)m, (int)n, w->x, w->F, FFTW_ESTIMATE);
        w->inv = FFT(plan_dft_c2r_2d)((int)m, (int)n, w->Z, w->y, FFTW_ESTIMATE);
    }
    if (w->fwd == NULL || w->inv == NULL) {
        smi_work_release(w); /* the next step tries again */
        return NULL;
    }
    return w;
}

/* Step 1 in binary64: alpha = alpha0 + (alpha_end - alpha0) w, w = p
 * (linear) or (1 - cos(pi p)) / 2 (cosine), p = (t - 1) / T; w = 1 once
 * t - 1 >= T. */
static double smi_alpha(const fast_opt *o)
{
    static const double pi = 3.141592653589793238462643383279502884;
    const double a0 = fast_opt_real(o, "alpha0"), a1 = fast_opt_real(o, "alpha_end");
    const uint64_t T = (uint64_t)fast_opt_int(o, "T"), s = o->t - 1;
    const int cosine = fast_opt_text(o, "schedule")[0] == 'c';
    double w = 1;
    if (s < T) {
        double p = (double)s / (double)T;
        w = cosine ? (1 - cos(pi * p)) / 2 : p;
    }
    return a0 + (a1 - a0) * w;
}

/* Step 4: pos = q (N - 1) = lo + frac with lo exact and frac rounded once
 * (the exact product by fma's two-product: q (N - 1) = hi + lo_part). */
static void quantile_pos(double q, size_t N, size_t *lo, double *frac)
{
    double nm1 = (double)(N - 1), hi = q * nm1, err = fma(q, nm1, -hi);
    double f = floor(hi);
    if (f == hi && err < 0)
        f -= 1;
    *lo = (size_t)f;
    *frac = (hi - f) + err; /* hi - f is exact */
    if (*lo >= N - 1) {
        *lo = N - 1;
        *frac = 0;
    }
}

static int cmp_real(const void *a, const void *b)
{
    real x = *(const real *)a, y = *(const real *)b;
    return (x > y) - (x < y);
}

/* Steps 4-5: tau from a sorted copy of H. */
static real smi_tau(smi_work *w, const real *H, double q)
{
    size_t N = w->m * w->n, lo;
    double frac;
    memcpy(w->sorted, H, N * sizeof(real));
    qsort(w->sorted, N, sizeof(real), cmp_real);
    quantile_pos(q, N, &lo, &frac);
    if (frac == 0)
        return w->sorted[lo];
    const real s0 = w->sorted[lo], s1 = w->sorted[lo + 1];
    return s0 + R_SCALAR(frac) * (s1 - s0);
}

/* Step 2's mirror: along k in columns 0 and n/2 (n even), F[-k] = conj F[k]
 * for the representative k < -k mod m, and exactly real self-conjugate bins. */
static void mirror_edges(smi_work *w)
{
    size_t m = w->m, n = w->n, h = w->h;
    for (size_t l = 0; l < h; l++) {
        if (l != 0 && 2 * l != n)
            continue;
        for (size_t k = 0; 2 * k <= m; k++) {
            size_t mk = (m - k) % m;
            if (mk == k) {
                w->F[k * h + l][1] = 0;
            } else {
                w->F[mk * h + l][0] = w->F[k * h + l][0];
                w->F[mk * h + l][1] = -w->F[k * h + l][1];
            }
        }
    }
}

/* Step 3 on the representative bins (l < -l mod n, or l = -l and k <= -k
 * mod m: every bin of the half spectrum that mirror_edges did not write),
 * then H copied to the conjugate bin. */
static void update_h(smi_work *w, real *H, real beta, real omb)
{
    size_t m = w->m, n = w->n, h = w->h;
    for (size_t k = 0; k < m; k++) {
        size_t mk = (m - k) % m;
        for (size_t l = 0; l < h; l++) {
            size_t ml = (n - l) % n;
            if (ml == l && mk < k)
                continue;
            const real re = w->F[k * h + l][0], im = w->F[k * h + l][1];
            const real a = R_SQRT(re * re + im * im);
            real *hk = &H[k * n + l];
            *hk = beta * *hk + omb * a;
            H[mk * n + ml] = *hk;
        }
    }
}

/* The mutant smi-no-hermitian-mirror: |F| of a full complex FFT, H and the
 * mask on every bin without mirroring, Gf = Re(IFFT2(F . Mask)) (the naive
 * port of fft2 / ifft2(...).real). Returns the number of masked bins and
 * leaves N Gf in w->y. */
static size_t smi_unmirrored(smi_work *w, const real *G, real *H, real beta, real omb, double q)
{
    size_t m = w->m, n = w->n, N = m * n, dropped = 0;
    if (w->cfwd == NULL) {
        w->C = FFT(malloc)(N * sizeof(FFT(complex)));
        w->D = FFT(malloc)(N * sizeof(FFT(complex)));
        w->cfwd = FFT(plan_dft_2d)((int)m, (int)n, w->C, w->D, FFTW_FORWARD, FFTW_ESTIMATE);
        w->cinv = FFT(plan_dft_2d)((int)m, (int)n, w->D, w->C, FFTW_BACKWARD, FFTW_ESTIMATE);
    }
    for (size_t k = 0; k < N; k++)
        w->C[k][0] = G[k], w->C[k][1] = 0;
    FFT(execute)(w->cfwd);
    for (size_t k = 0; k < N; k++)
        H[k] = beta * H[k] + omb * R_SQRT(w->D[k][0] * w->D[k][0] + w->D[k][1] * w->D[k][1]);
    real tau = smi_tau(w, H, q);
    for (size_t k = 0; k < N; k++)
        if (!(H[k] >= tau))
            w->D[k][0] = w->D[k][1] = 0, dropped++;
    FFT(execute)(w->cinv);
    for (size_t k = 0; k < N; k++)
        w->y[k] = w->C[k][0];
    return dropped;
}

optref_status FN(cpu_smi_step)(fast_opt *o, void *W, const void *Gv, double eta,
                               const fast_oracle *oracle)
{
    smi_work *w = smi_workspace(o);
    if (w == NULL)
        return optref_fail(OPTREF_ENOMEM, "smi: cannot make the FFT workspace (%zu x %zu)", o->m,
                           o->n);
    const size_t m = o->m, n = o->n, h = w->h, N = m * n;
    const real *G = Gv;
    real *H = fast_opt_state(o, "H")->data;
    const double a64 = smi_alpha(o), q = fast_opt_real(o, "q"), b64 = fast_opt_real(o, "beta");
    const real oma = R_SCALAR(1 - a64), an = R_SCALAR(a64 / (double)N);
    const real beta = R_SCALAR(b64), omb = R_SCALAR(1 - b64);
    const int strict = MUTANT("smi-mask-strict");
    size_t dropped = 0;
    if (MUTANT("smi-no-hermitian-mirror")) {
        dropped = smi_unmirrored(w, G, H, beta, omb, q);
    } else {
        memcpy(w->x, G, N * sizeof(real));
        FFT(execute)(w->fwd);                          /* 2 */
        mirror_edges(w);
        update_h(w, H, beta, omb);                     /* 3 */
        const real tau = smi_tau(w, H, q);             /* 4 */
        for (size_t k = 0; k < m; k++)                 /* 5: Z = F . Mask */
            for (size_t l = 0; l < h; l++) {
                const real hk = H[k * n + l];
                const int keep = strict ? hk > tau : hk >= tau;
                w->Z[k * h + l][0] = keep ? w->F[k * h + l][0] : 0;
                w->Z[k * h + l][1] = keep ? w->F[k * h + l][1] : 0;
                dropped += !keep;
            }
        if (a64 != 0 && dropped > 0)
            FFT(execute)(w->inv);                      /* 6: y = N Gf */
    }
    if (a64 == 0 || dropped == 0)                      /* G~ = G exactly */
        return fast_substep(o->base, W, G, eta, oracle);
    for (size_t k = 0; k < N; k++)                     /* 7 */
        w->x[k] = oma * G[k] + an * w->y[k];
    return fast_substep(o->base, W, w->x, eta, oracle); /* 8 */
}
