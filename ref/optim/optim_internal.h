/* Shared by the reference optimizer families; not part of the public API. */
#ifndef OPTREF_OPTIM_INTERNAL_H
#define OPTREF_OPTIM_INTERNAL_H

#include "optref/ref_optim.h"

/* The registry entries, one per optimizer (defined in the family files). */
extern const optimizer_info opt_sgd;
extern const optimizer_info opt_signsgd, opt_adam, opt_adamw, opt_adagrad, opt_lion;
extern const optimizer_info opt_stableadamw, opt_orthoadam, opt_deva_linf, opt_asm, opt_sophia;
extern const optimizer_info opt_soap, opt_shampoo, opt_deva_sinf, opt_deva_sinf_sign;
extern const optimizer_info opt_deva_sinf_ins, opt_deva_sinf_fact;
extern const optimizer_info opt_smi;
extern const optimizer_info opt_sam;
extern const optimizer_info opt_muon, opt_muon_deva, opt_muon_torch, opt_muon_polar, opt_adamuon;

/* ref_opt_create with flags: REF_CREATE_NO_BASE (a wrapper's base is not
 * created: the state reader attaches the saved one). */
optref_status ref_opt_create_ex(ref_opt **out, const char *name, size_t m, size_t n,
                                mpfr_prec_t prec, const char *const *options, size_t noptions,
                                unsigned flags);

/* Runs one step of a wrapper's base optimizer inside the wrapper's step
 * (on the copy the driver is stepping): base->t += 1, then its ref_step. */
optref_status ref_opt_substep(ref_opt *base, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                              const ref_oracle *oracle);

/* Working-precision temporaries: mpfr_inits2 at o->prec. */
#define REF_TMP_INIT(o, ...) mpfr_inits2((o)->prec, __VA_ARGS__, (mpfr_ptr)0)
#define REF_TMP_CLEAR(...) mpfr_clears(__VA_ARGS__, (mpfr_ptr)0)

#endif
