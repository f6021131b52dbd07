/* Elementwise arithmetic shared by the fast backends (spec/optimizers.md
 * section 2), written once for every format: `real` and FN() come from the
 * includer (fast/cpu/real.h); each translation unit uses one format. Plain
 * operations in the spec's order; the compiler may contract a * b + c into
 * an fma, which the conformance bounds allow. */
#ifndef OPTREF_FAST_COMMON_ELEMENTWISE_H
#define OPTREF_FAST_COMMON_ELEMENTWISE_H

#include "hd.h"

/* lerp(a, b, w) = a + w (b - a) (spec 0). */
FAST_HD real FN(fast_lerp)(real a, real b, real w)
{
    return a + w * (b - a);
}

/* sign(x) of spec 0: 1, -1 or 0 (either zero). */
FAST_HD real FN(fast_sign)(real x)
{
    return x > 0 ? (real)1 : x < 0 ? (real)-1 : (real)0;
}

/* a / b with 0 / 0 = 0 (the reference's decision for eps = 0). */
FAST_HD real FN(fast_div0)(real a, real b)
{
    return b == 0 ? (real)0 : a / b;
}

#endif
