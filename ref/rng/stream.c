/* Streams of Philox words and the integer draws built on them
 * (spec/problems.md 1): uniform dyadics, Lemire's bounded integers,
 * Rademacher signs. Integer arithmetic only. */
#include "optref/rng.h"

void rng_stream_init(rng_stream *s, uint64_t seed, uint32_t stream, uint32_t substream)
{
    s->key[0] = (uint32_t)seed; /* low word first */
    s->key[1] = (uint32_t)(seed >> 32);
    s->stream = stream;
    s->substream = substream;
    s->block = 0;
    for (int i = 0; i < 4; i++)
        s->buf[i] = 0;
    s->pos = 4;
}

uint32_t rng_next_u32(rng_stream *s)
{
    if (s->pos >= 4) {
        /* counter = (block lo, block hi, stream id, substream) */
        const uint32_t ctr[4] = {(uint32_t)s->block, (uint32_t)(s->block >> 32), s->stream,
                                 s->substream};
        philox4x32_10(s->buf, ctr, s->key);
        s->block++;
        s->pos = 0;
    }
    return s->buf[s->pos++];
}

uint64_t rng_next_u53(rng_stream *s)
{
    uint32_t lo = rng_next_u32(s); /* w_lo is drawn first */
    uint32_t hi = rng_next_u32(s);
    return ((uint64_t)hi << 21) | (lo >> 11); /* 2^21 w_hi + (w_lo >> 11) < 2^53 */
}

uint32_t rng_next_bounded(rng_stream *s, uint32_t d)
{
    /* Lemire, "Fast random integer generation in an interval" (TOMACS 2019),
     * the nearly divisionless form: w d = 2^32 j + l; accept unless
     * l < 2^32 mod d, so that each j in [0, d) has exactly floor(2^32 / d)
     * accepted preimages. (-d) % d = (2^32 - d) mod d = 2^32 mod d. d = 0 is
     * outside the contract: l < 0 never holds, and the result is 0. */
    uint64_t m = (uint64_t)rng_next_u32(s) * d;
    uint32_t l = (uint32_t)m;
    if (l < d) {
        uint32_t t = (uint32_t)(0u - d) % d;
        while (l < t) {
            m = (uint64_t)rng_next_u32(s) * d;
            l = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

int rng_next_rademacher(rng_stream *s)
{
    return (rng_next_u32(s) & 1u) ? 1 : -1;
}

void rng_fill_rademacher(mpmat_ptr A, rng_stream *s)
{
    for (size_t k = 0; k < A->rows * A->cols; k++)
        mpfr_set_si(A->e + k, rng_next_rademacher(s), MPFR_RNDN);
}
