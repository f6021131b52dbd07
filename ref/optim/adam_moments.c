/* The Adam moments and direction, decoupled decay and W - eta D, shared by
 * the elementwise family (adam_moments.h; spec/optimizers.md adam step 2-3
 * and section 0). */
#include "adam_moments.h"

void ref_decay_decoupled(const ref_opt *o, mpmat_ptr W, mpfr_srcptr eta, mpfr_srcptr lambda)
{
    if (mpfr_zero_p(lambda))
        return; /* c = 1: W c = W exactly */
    mpfr_t c, one;
    REF_TMP_INIT(o, c, one);
    mpfr_set_ui(one, 1, MPFR_RNDN);
    mpfr_fms(c, eta, lambda, one, MPFR_RNDN); /* eta lambda - 1, one rounding */
    mpfr_neg(c, c, MPFR_RNDN);
    for (size_t k = 0; k < W->rows * W->cols; k++)
        mpfr_mul(W->e + k, W->e + k, c, MPFR_RNDN);
    REF_TMP_CLEAR(c, one);
}

void ref_apply_step(mpmat_ptr W, mpfr_srcptr eta, mpmat_srcptr D)
{
    mpfr_t neg_eta;
    mpfr_init2(neg_eta, mpfr_get_prec(eta));
    mpfr_neg(neg_eta, eta, MPFR_RNDN); /* exact */
    for (size_t k = 0; k < W->rows * W->cols; k++)
        mpfr_fma(W->e + k, neg_eta, D->e + k, W->e + k, MPFR_RNDN);
    mpfr_clear(neg_eta);
}

void ref_div_or_zero(mpfr_ptr q, mpfr_srcptr a, mpfr_srcptr b)
{
    if (mpfr_zero_p(a) && mpfr_zero_p(b))
        mpfr_set_zero(q, 1);
    else
        mpfr_div(q, a, b, MPFR_RNDN);
}

void adam_moments_update(const ref_opt *o, mpmat_ptr M, mpmat_ptr V, mpmat_srcptr G)
{
    mpfr_srcptr beta1 = ref_opt_real(o, "beta1"), beta2 = ref_opt_real(o, "beta2");
    mpfr_t c1, c2, gg;
    REF_TMP_INIT(o, c1, c2, gg);
    mpfr_ui_sub(c1, 1, beta1, MPFR_RNDN);
    mpfr_ui_sub(c2, 1, beta2, MPFR_RNDN);
    for (size_t k = 0; k < M->rows * M->cols; k++) {
        mpfr_srcptr g = G->e + k;
        mpfr_ptr m = M->e + k, v = V->e + k;
        mpfr_mul(m, beta1, m, MPFR_RNDN);
        mpfr_fma(m, c1, g, m, MPFR_RNDN);
        mpfr_sqr(gg, g, MPFR_RNDN);
        mpfr_mul(v, beta2, v, MPFR_RNDN);
        mpfr_fma(v, c2, gg, v, MPFR_RNDN);
    }
    REF_TMP_CLEAR(c1, c2, gg);
}

void adam_direction(const ref_opt *o, mpmat_ptr N, mpmat_srcptr M, mpmat_srcptr V)
{
    mpfr_srcptr beta1 = ref_opt_real(o, "beta1"), beta2 = ref_opt_real(o, "beta2");
    mpfr_srcptr eps = ref_opt_real(o, "eps");
    mpfr_t bc1, bc2, mh, den;
    REF_TMP_INIT(o, bc1, bc2, mh, den);
    mpfr_pow_ui(bc1, beta1, o->t, MPFR_RNDN);
    mpfr_ui_sub(bc1, 1, bc1, MPFR_RNDN);
    mpfr_pow_ui(bc2, beta2, o->t, MPFR_RNDN);
    mpfr_ui_sub(bc2, 1, bc2, MPFR_RNDN);
    for (size_t k = 0; k < M->rows * M->cols; k++) {
        mpfr_div(mh, M->e + k, bc1, MPFR_RNDN);  /* M_hat */
        mpfr_div(den, V->e + k, bc2, MPFR_RNDN); /* V_hat */
        mpfr_sqrt(den, den, MPFR_RNDN);
        mpfr_add(den, den, eps, MPFR_RNDN);
        ref_div_or_zero(N->e + k, mh, den);
    }
    REF_TMP_CLEAR(bc1, bc2, mh, den);
}
