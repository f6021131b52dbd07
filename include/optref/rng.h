/* The project's generator (spec/problems.md section 1).
 *
 * Philox4x32-10 (Salmon et al. 2011) keyed by the 64-bit seed (low word
 * first); the counter is (block index low, block index high, stream id,
 * substream). A stream hands out the four words of block 0, then of block 1,
 * and so on; every quantity starts at block 0 of its own stream and
 * substream. Pure integer arithmetic: the same words on every machine. */
#ifndef OPTREF_RNG_H
#define OPTREF_RNG_H

#include <stddef.h>
#include <stdint.h>

#include <mpfr.h>

#include "optref/mpmat.h"
#include "optref/status.h"

/* The stream ids of spec/problems.md 1. */
enum {
    RNG_STREAM_HESSIAN = 1,   /* substream = Hessian block index */
    RNG_STREAM_B = 2,
    RNG_STREAM_X0 = 3,
    RNG_STREAM_ROWS = 4,      /* substream = step t */
    RNG_STREAM_NOISE = 5,     /* substream = step t */
    RNG_STREAM_SOPHIA = 6,    /* substream = step t */
    RNG_STREAM_ORTHOADAM = 7, /* substream = axis */
    RNG_STREAM_FREE = 8
};

/* One Philox4x32-10 block: out = Philox(counter, key). */
void philox4x32_10(uint32_t out[4], const uint32_t counter[4], const uint32_t key[2]);

typedef struct {
    uint32_t key[2];
    uint32_t stream, substream;
    uint64_t block;     /* index of the next block to generate */
    uint32_t buf[4];
    unsigned pos;       /* next unused word of buf; 4 = buf exhausted */
} rng_stream;

/* Positions s at block 0 of (seed, stream, substream). */
void rng_stream_init(rng_stream *s, uint64_t seed, uint32_t stream, uint32_t substream);
/* The next 32-bit word. */
uint32_t rng_next_u32(rng_stream *s);
/* The exact dyadic u = (2^21 w_hi + (w_lo >> 11)) 2^-53 in [0, 1), returned
 * as its 53-bit integer numerator k (u = k 2^-53); w_lo is drawn first. */
uint64_t rng_next_u53(rng_stream *s);
/* A uniform integer in [0, d), 1 <= d <= 2^32 - 1, by Lemire's unbiased
 * multiply-and-reject on 32-bit words. */
uint32_t rng_next_bounded(rng_stream *s, uint32_t d);
/* +1 or -1 from the lowest bit of the next word (1 gives +1). */
int rng_next_rademacher(rng_stream *s);

/* Box-Muller on a pair of exact dyadics (spec 1): u1 = 1 - u (in (0, 1]),
 * u2 = u', z0 = sqrt(-2 ln u1) cos(2 pi u2), z1 = sqrt(-2 ln u1) sin(2 pi u2),
 * each correctly rounded to binary64 (Ziv's strategy in MPFR: evaluated at
 * increasing precision until the rounding is certain) and stored exactly in
 * z0, z1 (precision >= 53). Consecutive normals take z0 then z1 of a pair. */
void rng_normal_pair_b64(mpfr_ptr z0, mpfr_ptr z1, uint64_t k1, uint64_t k2);

/* Fills A (row-major) with i.i.d. N(0,1) values from s, each the correctly
 * rounded binary64 of the Box-Muller deviate; an odd count discards the last z1. */
void rng_fill_normal(mpmat_ptr A, rng_stream *s);
/* Fills A with +-1 Rademacher signs, row-major. */
void rng_fill_rademacher(mpmat_ptr A, rng_stream *s);

/* A Haar-distributed orthogonal n x n matrix (spec 1.3): QR of an i.i.d.
 * N(0,1) matrix drawn from s, each column of Q times sign(R_jj) (Mezzadri 2007). */
optref_status rng_haar(mpmat_ptr Q, rng_stream *s);

#endif
