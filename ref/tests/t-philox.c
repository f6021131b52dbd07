/* philox4x32_10: the three Random123 known-answer vectors of
 * spec/problems.md 1, bit for bit; and a sanity check that every input word
 * reaches every output word (flipping one input bit changes about half of
 * the 128 output bits). */
#include "testlib.h"

#include "optref/rng.h"

START_TEST(test_known_answers)
{
    static const uint32_t ctr[3][4] = {
        {0, 0, 0, 0},
        {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
        {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}};
    static const uint32_t key[3][2] = {
        {0, 0}, {0xffffffffu, 0xffffffffu}, {0xa4093822u, 0x299f31d0u}};
    static const uint32_t expect[3][4] = {
        {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u},
        {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu},
        {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}};
    for (int v = 0; v < 3; v++) {
        uint32_t out[4];
        philox4x32_10(out, ctr[v], key[v]);
        for (int i = 0; i < 4; i++)
            ck_assert_msg(out[i] == expect[v][i], "vector %d word %d: %08x, expected %08x", v, i,
                          (unsigned)out[i], (unsigned)expect[v][i]);
    }
}
END_TEST

static int popcount32(uint32_t x)
{
    int c = 0;
    for (; x; x &= x - 1)
        c++;
    return c;
}

/* Each of the 192 input bits, flipped at 64 random points: the number of
 * output bits that change is Binomial(128, 1/2) for a good mixer (mean 64,
 * sd 5.66). Over the 64 points the mean change has sd 0.71; we require it in
 * [64 - 5, 64 + 5] (7 sd), and no single flip may leave the output unchanged. */
START_TEST(test_diffusion)
{
    test_rng rng = {11};
    for (int bit = 0; bit < 192; bit++) {
        long total = 0;
        for (int rep = 0; rep < 64; rep++) {
            uint32_t c[4], k[2], a[4], b[4];
            for (int i = 0; i < 4; i++)
                c[i] = (uint32_t)test_rng_next(&rng);
            for (int i = 0; i < 2; i++)
                k[i] = (uint32_t)test_rng_next(&rng);
            philox4x32_10(a, c, k);
            if (bit < 128)
                c[bit / 32] ^= (uint32_t)1 << (bit % 32);
            else
                k[(bit - 128) / 32] ^= (uint32_t)1 << (bit % 32);
            philox4x32_10(b, c, k);
            int changed = 0;
            for (int i = 0; i < 4; i++)
                changed += popcount32(a[i] ^ b[i]);
            ck_assert_msg(changed > 0, "input bit %d does not reach the output", bit);
            total += changed;
        }
        ck_assert_msg(total >= 59 * 64 && total <= 69 * 64,
                      "input bit %d: mean change %ld/64 bits out of 128", bit, total);
    }
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("philox");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_known_answers);
    tcase_add_test(tc, test_diffusion);
    suite_add_tcase(s, tc);
    return s;
}
