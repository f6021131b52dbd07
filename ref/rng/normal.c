/* Exact Box-Muller (spec/problems.md 1) rounded correctly to binary64.
 *
 * For k1, k2 in [0, 2^53): u1 = 1 - k1 2^-53 in (0, 1] and u2 = k2 2^-53,
 *   z0 = sqrt(-2 ln u1) cos(2 pi u2),   z1 = sqrt(-2 ln u1) sin(2 pi u2).
 * Each is evaluated in MPFR only (no libm, no binary64 arithmetic) and
 * rounded to nearest-even at 53 bits by Ziv's strategy: evaluate at working
 * precision w, bound the error, and accept when mpfr_can_round says the
 * 53-bit rounding is determined; otherwise double w. The angle is exact:
 * mpfr_cosu / mpfr_sinu take the turn fraction x / u directly, so pi is never
 * rounded. proofs/rng-normal-rounding.md has the error bound, why the loop
 * terminates (a nonzero z is transcendental, never a rounding boundary), and
 * the exact zeros, which are produced directly as +0. */
#include "optref/rng.h"

#define ZIV_START_PREC 128
#define TWO53 ((uint64_t)1 << 53)

/* Rounds the Ziv-accepted approximation t to binary64 and stores it in z
 * (exactly when z has at least 53 bits). */
static void store_b64(mpfr_ptr z, mpfr_srcptr t)
{
    mpfr_t r;
    mpfr_init2(r, 53);
    mpfr_set(r, t, MPFR_RNDN);
    mpfr_set(z, r, MPFR_RNDN);
    mpfr_clear(r);
}

/* z0 (if non-NULL) and z1 (if non-NULL) of the pair (k1, k2). */
static void box_muller_b64(mpfr_ptr z0, mpfr_ptr z1, uint64_t k1, uint64_t k2)
{
    k1 &= TWO53 - 1, k2 &= TWO53 - 1;
    /* Exact zeros (proofs note, section 2): the radius vanishes iff u1 = 1;
     * cos(2 pi u2) = 0 iff u2 in {1/4, 3/4}; sin(2 pi u2) = 0 iff u2 in {0, 1/2}.
     * The value is the real number 0, stored as +0. */
    int need0 = z0 != NULL, need1 = z1 != NULL;
    if (need0 && (k1 == 0 || k2 == TWO53 / 4 || k2 == 3 * (TWO53 / 4))) {
        mpfr_set_zero(z0, 1);
        need0 = 0;
    }
    if (need1 && (k1 == 0 || k2 == 0 || k2 == TWO53 / 2)) {
        mpfr_set_zero(z1, 1);
        need1 = 0;
    }
    if (!need0 && !need1)
        return;

    mpfr_t r, x, t;
    mpfr_prec_t w = ZIV_START_PREC;
    mpfr_inits2(w, r, x, t, (mpfr_ptr)0);
    for (;;) {
        mpfr_set_prec(r, w), mpfr_set_prec(x, w), mpfr_set_prec(t, w);
        /* r = sqrt(-2 ln u1): u1 = (2^53 - k1) 2^-53 is exact (w >= 54). */
        mpfr_set_uj(r, TWO53 - k1, MPFR_RNDN);
        mpfr_mul_2si(r, r, -53, MPFR_RNDN);
        mpfr_log(r, r, MPFR_RNDN);          /* rel. error <= 2^-w, r < 0 */
        mpfr_mul_si(r, r, -2, MPFR_RNDN);   /* exact */
        mpfr_sqrt(r, r, MPFR_RNDN);         /* rel. error <= 2^-w */
        /* The angle 2 pi k2 / 2^53 = 2 pi x / u with x = k2 2^-22 (exact) and
         * u = 2^31, which fits an unsigned long on every platform. */
        mpfr_set_uj(x, k2, MPFR_RNDN);
        mpfr_mul_2si(x, x, -22, MPFR_RNDN);
        for (int which = 0; which < 2; which++) {
            if (!(which == 0 ? need0 : need1))
                continue;
            if (which == 0)
                mpfr_cosu(t, x, 1ul << 31, MPFR_RNDN); /* rel. error <= 2^-w */
            else
                mpfr_sinu(t, x, 1ul << 31, MPFR_RNDN);
            mpfr_mul(t, t, r, MPFR_RNDN);               /* rel. error <= 2^-w */
            /* t = z (1+e1)^(1/2) (1+e2) (1+e3) (1+e4), |ei| <= 2^-w, so
             * |t - z| < 3.52 2^-w |t| < 2^(EXP(t) - (w - 2)); we claim one bit
             * less, w - 3 (proofs/rng-normal-rounding.md, section 3). Asking for
             * 54 bits toward zero makes the 53-bit nearest rounding certain
             * (the trick of the MPFR manual under mpfr_can_round). */
            if (mpfr_can_round(t, w - 3, MPFR_RNDN, MPFR_RNDZ, 54)) {
                store_b64(which == 0 ? z0 : z1, t);
                if (which == 0)
                    need0 = 0;
                else
                    need1 = 0;
            }
        }
        if (!need0 && !need1)
            break;
        w *= 2;
    }
    mpfr_clears(r, x, t, (mpfr_ptr)0);
}

void rng_normal_pair_b64(mpfr_ptr z0, mpfr_ptr z1, uint64_t k1, uint64_t k2)
{
    box_muller_b64(z0, z1, k1, k2);
}

void rng_fill_normal(mpmat_ptr A, rng_stream *s)
{
    size_t count = A->rows * A->cols;
    for (size_t k = 0; k < count; k += 2) {
        uint64_t k1 = rng_next_u53(s);
        uint64_t k2 = rng_next_u53(s);
        /* row-major; an odd count discards the last z1 (its words are drawn) */
        box_muller_b64(A->e + k, k + 1 < count ? A->e + k + 1 : NULL, k1, k2);
    }
}
