/* Shared by the reference optimizer families; not part of the public API. */
#ifndef OPTREF_OPTIM_INTERNAL_H
#define OPTREF_OPTIM_INTERNAL_H

#include "optref/ref_optim.h"

/* The registry entries, one per optimizer (defined in the family files). */
extern const optimizer_info opt_sgd;

/* Runs one step of a wrapper's base optimizer inside the wrapper's step
 * (on the copy the driver is stepping): base->t += 1, then its ref_step. */
optref_status ref_opt_substep(ref_opt *base, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                              const ref_oracle *oracle);

/* Working-precision temporaries: mpfr_inits2 at o->prec. */
#define REF_TMP_INIT(o, ...) mpfr_inits2((o)->prec, __VA_ARGS__, (mpfr_ptr)0)
#define REF_TMP_CLEAR(...) mpfr_clears(__VA_ARGS__, (mpfr_ptr)0)

#endif
