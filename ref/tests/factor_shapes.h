/* The shapes of the dense factorisation tests (t-mpmat_qr.c, t-mpmat_svd.c,
 * t-mpmat_polar.c): eight small m x n at every precision, and three of size
 * 16 at the two lowest precisions only. */
#ifndef OPTREF_TEST_FACTOR_SHAPES_H
#define OPTREF_TEST_FACTOR_SHAPES_H

#include <stddef.h>

static const size_t shapes[][2] = {{1, 1}, {1, 4}, {4, 1}, {2, 3}, {3, 2},
                                   {5, 5}, {7, 4}, {4, 7}};
static const size_t big_shapes[][2] = {{16, 16}, {16, 9}, {9, 16}};

#define FACTOR_NSHAPES (sizeof shapes / sizeof shapes[0])

/* How many shapes are tested at test_precisions[ip]. */
static inline size_t factor_shape_count(int ip)
{
    return FACTOR_NSHAPES + (ip < 2 ? sizeof big_shapes / sizeof big_shapes[0] : 0);
}

/* Shape s of that list: the small ones, then the big ones. */
static inline void factor_shape(size_t s, size_t *m, size_t *n)
{
    *m = s < FACTOR_NSHAPES ? shapes[s][0] : big_shapes[s - FACTOR_NSHAPES][0];
    *n = s < FACTOR_NSHAPES ? shapes[s][1] : big_shapes[s - FACTOR_NSHAPES][1];
}

#endif
