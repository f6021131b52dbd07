/* Per-element arithmetic of the eigenbasis optimizers (spec/optimizers.md
 * section 2: soap steps 3-4, deva-sinf steps 5 and 8), shared by the CPU
 * backends and a future CUDA backend. `real` and FN() come from the includer
 * (fast/cpu/real.h). Plain operations in the reference's order; the compiler
 * may contract a * b + c into an fma, which the conformance bounds allow. */
#ifndef OPTREF_FAST_COMMON_EIGENBASIS_ELEM_H
#define OPTREF_FAST_COMMON_EIGENBASIS_ELEM_H

#include "hd.h"

/* soap 3-4 on one element: M <- b1 M + w1 g; V <- b2 V + w2 g^2;
 * returns N = M / (sqrt(V) + eps), 0 / 0 = 0. */
FAST_HD real FN(fast_soap_moments)(real *m, real *v, real g, real b1, real w1, real b2, real w2,
                                   real eps)
{
    *m = b1 * *m + w1 * g;
    *v = b2 * *v + w2 * (g * g);
    real d = R_SQRT(*v) + eps;
    return d == 0 ? (real)0 : *m / d;
}

/* deva-sinf 5: V <- b2 V + w2 (r c). */
FAST_HD real FN(fast_deva_v)(real v, real r, real c, real b2, real w2)
{
    return b2 * v + w2 * (r * c);
}

/* deva-sinf 8: Gamma = (sr sc) / sqrt(V + eps), 0 / 0 = 0 (sr = sqrt(r_i), sc = sqrt(c_j)). */
FAST_HD real FN(fast_deva_gamma)(real sr, real sc, real v, real eps)
{
    real d = R_SQRT(v + eps), g = sr * sc;
    return d == 0 ? (real)0 : g / d;
}

#endif
