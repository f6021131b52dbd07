/* Pieces shared by the elementwise reference optimizers (spec/optimizers.md
 * section 2): the Adam moments and bias-corrected direction (adam, adamw,
 * orthoadam, asm), decoupled weight decay and the update W <- W - eta D.
 * Rounding: docs/reference-arithmetic.md; the choices it leaves open are
 * in docs/optimizers/elementwise.md. Internal to ref/optim. */
#ifndef OPTREF_ADAM_MOMENTS_H
#define OPTREF_ADAM_MOMENTS_H

#include "optim_internal.h"

/* Spec 0, decoupled decay: W <- W (1 - eta lambda). The factor
 * c = 1 - eta lambda is one fused rounding (mpfr_fms), then each entry is
 * one rounding of W c. lambda = 0 gives c = 1 and leaves W exactly. */
void ref_decay_decoupled(const ref_opt *o, mpmat_ptr W, mpfr_srcptr eta, mpfr_srcptr lambda);

/* W <- W - eta D, one fused rounding per entry (fma(-eta, D, W)). */
void ref_apply_step(mpmat_ptr W, mpfr_srcptr eta, mpmat_srcptr D);

/* q = a / b, one rounding; 0 / 0 is +0. A zero denominator only occurs with
 * eps = 0 where every gradient so far vanished at that entry, so the
 * numerator is 0 too; the sources produce NaN there [decision]. */
void ref_div_or_zero(mpfr_ptr q, mpfr_srcptr a, mpfr_srcptr b);

/* Adam step 2 with o's beta1 and beta2, elementwise:
 *   M <- beta1 M + (1 - beta1) G     fma(1 - beta1, G, beta1 M)
 *   V <- beta2 V + (1 - beta2) G.G   fma(1 - beta2, G.G, beta2 V), G.G rounded. */
void adam_moments_update(const ref_opt *o, mpmat_ptr M, mpmat_ptr V, mpmat_srcptr G);

/* Adam step 3's direction at t = o->t with o's beta1, beta2 and eps:
 *   N = (M / (1 - beta1^t)) / (sqrt(V / (1 - beta2^t)) + eps),
 * 1 - beta^t by mpfr_pow_ui then a subtraction; then per entry one rounding
 * each for the two divisions by the corrections, the sqrt, the + eps and
 * the final division (ref_div_or_zero). N may not alias M or V. */
void adam_direction(const ref_opt *o, mpmat_ptr N, mpmat_srcptr M, mpmat_srcptr V);

#endif
