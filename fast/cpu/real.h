/* The arithmetic of one CPU backend. Every file of fast/cpu/ is compiled
 * twice, with FAST_REAL_BITS = 64 (cpu64: binary64) and 32 (cpu32:
 * binary32); this header maps the names the code uses to the format's types,
 * libm functions and BLAS/LAPACKE/FFTW routines, and FN(x) gives each
 * instance its own symbol (x_64, x_32). */
#ifndef OPTREF_FAST_CPU_REAL_H
#define OPTREF_FAST_CPU_REAL_H

#include <cblas.h>
#include <lapacke.h>
#include <math.h>

#include "steps.h"

#define FN_PASTE(name, bits) name##_##bits
#define FN_EXPAND(name, bits) FN_PASTE(name, bits)
#define FN(name) FN_EXPAND(name, FAST_REAL_BITS)

#if FAST_REAL_BITS == 64
typedef double real;
#define R_SQRT sqrt
#define R_FABS fabs
#define R_GEMM cblas_dgemm
#define R_SYEVD LAPACKE_dsyevd
#define R_GEQRF LAPACKE_dgeqrf
#define R_ORGQR LAPACKE_dorgqr
#define R_GESVD LAPACKE_dgesvd
#define R_BACKEND BACKEND_CPU64
#elif FAST_REAL_BITS == 32
typedef float real;
#define R_SQRT sqrtf
#define R_FABS fabsf
#define R_GEMM cblas_sgemm
#define R_SYEVD LAPACKE_ssyevd
#define R_GEQRF LAPACKE_sgeqrf
#define R_ORGQR LAPACKE_sorgqr
#define R_GESVD LAPACKE_sgesvd
#define R_BACKEND BACKEND_CPU32
#else
#error "compile fast/cpu with -DFAST_REAL_BITS=64 or 32"
#endif

/* A hyperparameter or derived scalar, computed in binary64, in the format. */
#define R_SCALAR(x) ((real)(x))

#endif
