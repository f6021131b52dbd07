/* The stream layer of spec/problems.md 1:
 *  - block-order consumption: the words of rng_next_u32 are the four words of
 *    Philox(counter = (block lo, block hi, stream, substream), key = seed lo,
 *    seed hi) for block 0, 1, 2, ..., including the carry into block hi;
 *  - streams are separate: interleaved draws do not disturb each other, and
 *    different seeds / streams / substreams give unrelated words;
 *  - rng_next_u53 is 2^21 w_hi + (w_lo >> 11), w_lo first, across block
 *    boundaries too, exact in [0, 2^53), with uniform top and bottom bits;
 *  - rng_next_bounded is Lemire's method word for word (against an
 *    independently written, fully divisional form), exact small cases, and
 *    unbiased by chi-square;
 *  - Rademacher signs are the low bit of a word, and balanced.
 * Statistical thresholds (derived in proofs/rng-normal-rounding.md, section 4):
 * a sum of N independent terms within 5 standard errors (two-sided normal
 * tail 5.7e-7); chi-square with k degrees of freedom below x where the
 * Chernoff bound P(X >= x) <= (x/k e^(1 - x/k))^(k/2) is at most 3e-6. Seeds
 * are fixed, so each test is deterministic; the thresholds say how unlikely
 * a failure of a correct generator would have been. */
#include "testlib.h"

#include <stdio.h>

#include "optref/rng.h"

static void block_words(uint32_t out[4], uint64_t seed, uint32_t stream, uint32_t sub,
                        uint64_t block)
{
    const uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), stream, sub};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    philox4x32_10(out, ctr, key);
}

static int popcount32(uint32_t x)
{
    int c = 0;
    for (; x; x &= x - 1)
        c++;
    return c;
}

START_TEST(test_block_order)
{
    static const uint64_t seeds[] = {0, 1, 1234, 0x123456789abcdef0ull, UINT64_MAX};
    static const uint32_t ids[][2] = {{1, 0}, {2, 0}, {4, 7}, {7, 2}, {8, 0xffffffffu}};
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 5; b++) {
            rng_stream s;
            rng_stream_init(&s, seeds[a], ids[b][0], ids[b][1]);
            for (uint64_t blk = 0; blk < 9; blk++) {
                uint32_t w[4];
                block_words(w, seeds[a], ids[b][0], ids[b][1], blk);
                for (int i = 0; i < 4; i++)
                    ck_assert_msg(rng_next_u32(&s) == w[i], "seed %zu ids %zu block %d word %d",
                                  a, b, (int)blk, i);
            }
        }
    /* The carry into the high counter word: position the stream at block
     * 2^32 - 1 (the struct is public) and read across into block 2^32. */
    rng_stream s;
    rng_stream_init(&s, 99, 3, 5);
    s.block = 0xffffffffull;
    for (uint64_t blk = 0xffffffffull; blk <= 0x100000000ull; blk++) {
        uint32_t w[4];
        block_words(w, 99, 3, 5, blk);
        for (int i = 0; i < 4; i++)
            ck_assert(rng_next_u32(&s) == w[i]);
    }
    /* Re-initialising restarts at block 0. */
    rng_stream_init(&s, 99, 3, 5);
    uint32_t w[4];
    block_words(w, 99, 3, 5, 0);
    ck_assert(rng_next_u32(&s) == w[0]);
}
END_TEST

START_TEST(test_stream_separation)
{
    /* Interleaving draws from two streams does not change either sequence. */
    rng_stream a, b, a2, b2;
    rng_stream_init(&a, 1234, RNG_STREAM_B, 0);
    rng_stream_init(&b, 1234, RNG_STREAM_X0, 0);
    rng_stream_init(&a2, 1234, RNG_STREAM_B, 0);
    rng_stream_init(&b2, 1234, RNG_STREAM_X0, 0);
    uint32_t wa[37], wb[23];
    for (int i = 0; i < 37; i++)
        wa[i] = rng_next_u32(&a2);
    for (int i = 0; i < 23; i++)
        wb[i] = rng_next_u32(&b2);
    int ia = 0, ib = 0;
    for (int i = 0; i < 60; i++) {
        if ((i % 3 == 0 && ib < 23) || ia == 37)
            ck_assert(rng_next_u32(&b) == wb[ib++]);
        else
            ck_assert(rng_next_u32(&a) == wa[ia++]);
    }

    /* Neighbouring keys and counters give unrelated words: over N = 4096
     * words the XOR of the two sequences has Binomial(32 N, 1/2) set bits
     * (mean 65536, sd 181); require within 5 sd (905). */
    static const uint32_t cfg[][4] = {
        /* seed, stream, substream of the second stream; the first is (1234, 4, 0) */
        {1235, 4, 0}, {1234, 5, 0}, {1234, 4, 1}, {1234, 3, 0}};
    for (int c = 0; c < 4; c++) {
        rng_stream s, t;
        rng_stream_init(&s, 1234, 4, 0);
        rng_stream_init(&t, cfg[c][0], cfg[c][1], cfg[c][2]);
        long bits = 0;
        int equal_words = 0;
        for (int i = 0; i < 4096; i++) {
            uint32_t x = rng_next_u32(&s), y = rng_next_u32(&t);
            bits += popcount32(x ^ y);
            equal_words += x == y;
        }
        ck_assert_msg(bits >= 65536 - 905 && bits <= 65536 + 905, "config %d: %ld differing bits",
                      c, bits);
        ck_assert_int_le(equal_words, 1);
    }
}
END_TEST

START_TEST(test_u53)
{
    rng_stream s, raw;
    rng_stream_init(&s, 7, RNG_STREAM_FREE, 3);
    rng_stream_init(&raw, 7, RNG_STREAM_FREE, 3);
    /* Shift by one word so that some pairs straddle a block boundary. */
    ck_assert(rng_next_u32(&s) == rng_next_u32(&raw));
    const long N = 160000;
    long top[16] = {0}, bottom[16] = {0};
    mpfr_t sum, t;
    mpfr_init2(sum, 128), mpfr_init2(t, 64);
    mpfr_set_zero(sum, 1);
    uint64_t kmax = 0, kmin = UINT64_MAX;
    for (long i = 0; i < N; i++) {
        uint32_t lo = rng_next_u32(&raw), hi = rng_next_u32(&raw);
        uint64_t k = rng_next_u53(&s);
        ck_assert(k == (((uint64_t)hi << 21) | (lo >> 11)));
        ck_assert(k < ((uint64_t)1 << 53));
        kmax = k > kmax ? k : kmax;
        kmin = k < kmin ? k : kmin;
        top[k >> 49]++;
        bottom[k & 15]++;
        /* u = k 2^-53 is exact at 53 bits */
        ck_assert_int_eq(mpfr_set_uj(t, k, MPFR_RNDN), 0);
        mpfr_add(sum, sum, t, MPFR_RNDN); /* exact: < 2^71 at 128 bits */
    }
    /* mean of u: 1/2 with standard error 1/sqrt(12 N); 5 standard errors */
    mpfr_div_si(sum, sum, N, MPFR_RNDN);
    mpfr_mul_2si(sum, sum, -53, MPFR_RNDN);
    mpfr_set_ui(t, 1, MPFR_RNDN);
    mpfr_mul_2si(t, t, -1, MPFR_RNDN);
    mpfr_sub(sum, sum, t, MPFR_RNDN);
    mpfr_abs(sum, sum, MPFR_RNDN);
    mpfr_set_si(t, 12 * N, MPFR_RNDN);
    mpfr_rec_sqrt(t, t, MPFR_RNDN);
    mpfr_mul_ui(t, t, 5, MPFR_RNDN);
    mpfr_printf("  u53: |mean - 1/2| = %.3Re (5 se = %.3Re), k in [%lu, %lu]\n", sum, t,
                (unsigned long)kmin, (unsigned long)kmax);
    ck_assert(mpfr_less_p(sum, t));
    /* The extreme draws reach within 2^53 / N * 20 of both ends (each end is
     * missed with probability (1 - 20/N)^N < e^-20). */
    ck_assert(kmin < ((uint64_t)1 << 53) / (uint64_t)N * 20);
    ck_assert(kmax > ((uint64_t)1 << 53) - ((uint64_t)1 << 53) / (uint64_t)N * 20);
    /* chi-square of the top 4 bits (w_hi) and the bottom 4 bits (bits 11..14
     * of w_lo), 15 dof each: threshold 70 (Chernoff bound 1.2e-7). */
    long e = N / 16, c_top = 0, c_bot = 0;
    for (int b = 0; b < 16; b++) {
        c_top += (top[b] - e) * (top[b] - e);
        c_bot += (bottom[b] - e) * (bottom[b] - e);
    }
    printf("  u53: chi2(top 4 bits) = %ld.%03ld, chi2(bottom 4 bits) = %ld.%03ld (threshold 70)\n",
           c_top / e, c_top % e * 1000 / e, c_bot / e, c_bot % e * 1000 / e);
    ck_assert(c_top < 70 * e && c_bot < 70 * e);
    mpfr_clears(sum, t, (mpfr_ptr)0);
}
END_TEST

/* Lemire's method written independently: the threshold 2^32 mod d computed
 * in 64 bits, every word tested against it (Lemire 2019, algorithm 4). It
 * reads the same words as the nearly divisionless form, because t < d. */
static uint32_t bounded_reference(rng_stream *raw, uint32_t d, int *draws)
{
    uint32_t t = (uint32_t)(((uint64_t)1 << 32) % d);
    for (*draws = 1;; ++*draws) {
        uint64_t m = (uint64_t)rng_next_u32(raw) * d;
        if ((uint32_t)m >= t)
            return (uint32_t)(m >> 32);
    }
}

START_TEST(test_bounded_exact)
{
    static const uint32_t ds[] = {1, 2, 3, 7, 10, 1000, 65536, 1u << 31, (1u << 31) + 1,
                                  3u << 30, 0xfffffffeu, 0xffffffffu};
    long redraws = 0;
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        rng_stream s, raw, w;
        rng_stream_init(&s, 42, RNG_STREAM_ROWS, (uint32_t)i);
        rng_stream_init(&raw, 42, RNG_STREAM_ROWS, (uint32_t)i);
        rng_stream_init(&w, 42, RNG_STREAM_ROWS, (uint32_t)i);
        for (int r = 0; r < 2000; r++) {
            int draws;
            uint32_t x = rng_next_bounded(&s, ds[i]);
            ck_assert_uint_lt(x, ds[i]);
            ck_assert_uint_eq(x, bounded_reference(&raw, ds[i], &draws));
            redraws += draws - 1;
            /* d a power of two: the top bits of the word, never a redraw */
            if ((ds[i] & (ds[i] - 1)) == 0) {
                uint32_t word = rng_next_u32(&w);
                int sh = 0;
                while (((uint64_t)1 << sh) < ds[i])
                    sh++;
                ck_assert_int_eq(draws, 1);
                ck_assert_uint_eq(x, sh == 0 ? 0 : word >> (32 - sh));
            }
        }
        /* both consumed the same number of words */
        ck_assert(rng_next_u32(&s) == rng_next_u32(&raw));
    }
    /* d = 2^31 + 1 rejects with probability (2^31 - 1) / 2^32 ~ 1/2, so the
     * redraw path was exercised ~1000 times. */
    printf("  bounded: %ld redraws over the exact cases\n", redraws);
    ck_assert_int_gt(redraws, 500);
}
END_TEST

START_TEST(test_bounded_unbiased)
{
    /* d = 10: N = 100000 draws, 9 dof, threshold 50 (Chernoff bound 2.8e-6). */
    rng_stream s;
    rng_stream_init(&s, 2024, RNG_STREAM_ROWS, 1);
    long cnt[10] = {0}, n = 100000, e = n / 10, c = 0;
    for (long i = 0; i < n; i++)
        cnt[rng_next_bounded(&s, 10)]++;
    for (int b = 0; b < 10; b++)
        c += (cnt[b] - e) * (cnt[b] - e);
    printf("  bounded d=10: chi2 = %ld.%03ld (9 dof, threshold 50)\n", c / e, c % e * 1000 / e);
    ck_assert(c < 50 * e);

    /* d = 3 2^30, classes j mod 3: without the rejection, floor(w d / 2^32)
     * = floor(3 w / 4) puts mass (1/2, 1/4, 1/4) on the classes; with it they
     * are uniform. N = 60000, 2 dof, P(X >= x) = e^(-x/2): threshold 28 (8e-7). */
    rng_stream_init(&s, 2024, RNG_STREAM_ROWS, 2);
    long cls[3] = {0};
    n = 60000, e = n / 3, c = 0;
    for (long i = 0; i < n; i++)
        cls[rng_next_bounded(&s, 3u << 30) % 3]++;
    for (int b = 0; b < 3; b++)
        c += (cls[b] - e) * (cls[b] - e);
    printf("  bounded d=3*2^30: chi2(j mod 3) = %ld.%03ld (2 dof, threshold 28)\n", c / e,
           c % e * 1000 / e);
    ck_assert(c < 28 * e);
}
END_TEST

START_TEST(test_rademacher)
{
    rng_stream s, raw;
    rng_stream_init(&s, 5, RNG_STREAM_SOPHIA, 9);
    rng_stream_init(&raw, 5, RNG_STREAM_SOPHIA, 9);
    long sum = 0, n = 100000;
    for (long i = 0; i < n; i++) {
        int r = rng_next_rademacher(&s);
        ck_assert_int_eq(r, (rng_next_u32(&raw) & 1) ? 1 : -1);
        sum += r;
    }
    /* sd of the sum is sqrt(N) = 316; 5 sd */
    printf("  rademacher: sum of %ld signs = %ld (threshold 1581)\n", n, sum);
    ck_assert(sum > -1581 && sum < 1581);

    /* rng_fill_rademacher: row-major, one word per entry */
    mpmat_t A;
    TEST_OK(mpmat_init(A, 3, 5, 53));
    rng_stream_init(&s, 5, RNG_STREAM_SOPHIA, 10);
    rng_stream_init(&raw, 5, RNG_STREAM_SOPHIA, 10);
    rng_fill_rademacher(A, &s);
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 5; j++)
            ck_assert_int_eq(mpfr_cmp_si(mpmat_entry(A, i, j), rng_next_rademacher(&raw)), 0);
    ck_assert(rng_next_u32(&s) == rng_next_u32(&raw));
    mpmat_clear(A);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("rng_stream");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_block_order);
    tcase_add_test(tc, test_stream_separation);
    tcase_add_test(tc, test_u53);
    tcase_add_test(tc, test_bounded_exact);
    tcase_add_test(tc, test_bounded_unbiased);
    tcase_add_test(tc, test_rademacher);
    suite_add_tcase(s, tc);
    return s;
}
