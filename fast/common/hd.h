/* Host-and-device inline functions: the arithmetic shared by the CPU
 * backends and the CUDA backend, so the CPU tests exercise the code the
 * GPU runs. A file including this defines `real` and FN() first (see
 * fast/cpu/real.h; the CUDA build maps them the same way). */
#ifndef OPTREF_FAST_COMMON_HD_H
#define OPTREF_FAST_COMMON_HD_H

#if defined(__CUDACC__)
#define FAST_HD __host__ __device__ static inline
#else
#define FAST_HD static inline
#endif

#endif
