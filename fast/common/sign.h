/* Per-element arithmetic of the sign-based optimizers (signsgd, lion,
 * deva-linf, sophia; spec/optimizers.md section 2), shared by the CPU and
 * CUDA backends. `real`, FN() and R_SQRT come from the includer. */
#ifndef OPTREF_FAST_COMMON_SIGN_H
#define OPTREF_FAST_COMMON_SIGN_H

#include "elementwise.h"
#include "select.h"

/* deva-linf step 4: Gamma = sqrt(mm / (v + eps)), 0 / 0 = 0. */
FAST_HD real FN(fast_deva_gamma)(real mm, real v, real eps)
{
    return R_SQRT(FN(fast_quot0)(mm, v + eps));
}

/* sophia step 3: min(|m| / (gamma max(h, 0) + tiny), 1); for h <= 0 the
 * denominator is tiny itself (gamma 0 + tiny, exact). */
FAST_HD real FN(fast_sophia_ratio)(real m, real h, real gamma, real tiny)
{
    real den = gamma * (h > 0 ? h : (real)0) + tiny; /* gamma 0 + tiny = tiny, exact */
    real r = (m < 0 ? -m : m) / den;
    return r < 1 ? r : (real)1;
}

#endif
