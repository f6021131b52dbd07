/* Branch-free selections for the elementwise loops, so that they vectorise
 * (a nested ?: on floating-point comparisons is control flow to the
 * vectoriser; these forms are not). Each equals the spec's operation
 * exactly. `real` and FN() come from the includer. */
#ifndef OPTREF_FAST_COMMON_SELECT_H
#define OPTREF_FAST_COMMON_SELECT_H

#include "hd.h"

/* sign(d) of spec 0 as a value: 1, -1 or 0 (either zero). */
FAST_HD real FN(fast_sgn)(real d)
{
    return (real)(d > 0) - (real)(d < 0);
}

/* sign(d) x, exact: a product with 1, -1 or 0. */
FAST_HD real FN(fast_signed)(real x, real d)
{
    return x * FN(fast_sgn)(d);
}

/* a / b with 0 / 0 = 0 (the reference's decision for eps = 0), otherwise
 * a / b exactly: b + 0 = b. */
FAST_HD real FN(fast_quot0)(real a, real b)
{
    return a / (b + ((a == 0 && b == 0) ? (real)1 : (real)0));
}

#endif
