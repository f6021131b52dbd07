/* Helpers shared by the ref/mp kernels; not part of the public API. */
#ifndef OPTREF_MP_INTERNAL_H
#define OPTREF_MP_INTERNAL_H

#include "optref/mpmat.h"

/* An array of pointers to A's entries in row-major order (malloc'd; NULL when
 * A is empty or on allocation failure). */
mpfr_ptr *mp_entry_pointers(mpmat_srcptr A);

#endif
