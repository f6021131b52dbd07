/* Scalars derived from hyperparameters, computed once per step in binary64
 * (include/optref/fast.h: derived scalars are binary64, rounded once to the
 * format by the caller, R_SCALAR in fast/cpu/real.h). Format-independent:
 * no FN(). The conformance bounds model exactly these operations
 * (conformance/bounds_elementwise.h). */
#ifndef OPTREF_FAST_COMMON_SCALARS_H
#define OPTREF_FAST_COMMON_SCALARS_H

#include <math.h>
#include <stdint.h>

#include "hd.h"

/* beta^t by pow (t a whole number held exactly; pow(beta, 0) = 1 and
 * pow(beta, 1) = beta exactly). */
FAST_HD double fast_pow_t(double beta, uint64_t t)
{
    return pow(beta, (double)t);
}

/* 1 - beta^t: the Adam bias correction (spec adam step 3). */
FAST_HD double fast_bias_correction(double beta, uint64_t t)
{
    return 1.0 - fast_pow_t(beta, t);
}

/* 1 - eta lambda: the factor of decoupled weight decay (spec 0), a product
 * then a difference. */
FAST_HD double fast_decay_factor(double eta, double lambda)
{
    return 1.0 - eta * lambda;
}

#endif
