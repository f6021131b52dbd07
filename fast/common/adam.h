/* The Adam family's per-element arithmetic (adam, adamw, orthoadam, asm,
 * adagrad; spec/optimizers.md section 2), shared by the CPU and CUDA
 * backends. `real`, FN() and R_SQRT come from the includer (fast/cpu/real.h).
 * Operations in the reference's order (ref/optim/adam_moments.c), one
 * rounding each; conformance/bounds_adam.c models exactly this sequence. */
#ifndef OPTREF_FAST_COMMON_ADAM_H
#define OPTREF_FAST_COMMON_ADAM_H

#include "select.h"

/* The scalars of one Adam step, in the format: beta, 1 - beta (binary64,
 * rounded once), the bias corrections 1 - beta^t and eps. */
typedef struct {
    real beta1, c1, beta2, c2, bc1, bc2, eps;
} FN(fast_adam_scalars);

/* Adam step 2: m <- beta1 m + (1 - beta1) g; v <- beta2 v + (1 - beta2) g.g. */
FAST_HD void FN(fast_adam_moments)(real *m, real *v, real g, const FN(fast_adam_scalars) *s)
{
    *m = s->beta1 * *m + s->c1 * g;
    *v = s->beta2 * *v + s->c2 * (g * g);
}

/* Adam step 3's direction (m / bc1) / (sqrt(v / bc2) + eps), 0 / 0 = 0. */
FAST_HD real FN(fast_adam_direction)(real m, real v, const FN(fast_adam_scalars) *s)
{
    real mh = m / s->bc1;
    real den = R_SQRT(v / s->bc2) + s->eps;
    return FN(fast_quot0)(mh, den);
}

/* Adagrad steps 2-3: s <- s + g.g, returns g / (sqrt(s) + eps) (0 / 0 = 0). */
FAST_HD real FN(fast_adagrad_direction)(real *s, real g, real eps)
{
    *s = *s + g * g;
    return FN(fast_quot0)(g, R_SQRT(*s) + eps);
}

#endif
