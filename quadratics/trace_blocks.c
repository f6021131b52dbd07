/* trace-het and trace-hom (spec/problems.md 2, the DeVA paper's Figure 2
 * problems): d = p = 9, H = blockdiag(Q_k D_k Q_k^T), k = 0, 1, 2, each Q_k
 * Haar on O(3) drawn by rng_haar from stream 1, substream k; B = 0 (so
 * Xstar = 0, Y = 0, fstar = 0); X0 i.i.d. N(0,1) from stream 3. D_k's
 * entries sit on block k's diagonal in the order listed. No options. */
#include "spectral.h"

#include "optref/rng.h"

#define NBLOCKS 3
#define BLOCK 3

static const unsigned long het_spectrum[NBLOCKS][BLOCK] = {
    {1, 2, 3}, {99, 100, 101}, {4998, 4999, 5000}};
static const unsigned long hom_spectrum[NBLOCKS][BLOCK] = {
    {1, 99, 4998}, {2, 100, 4999}, {3, 101, 5000}};

static optref_status build_blocks(problem *P, const unsigned long D[NBLOCKS][BLOCK])
{
    const size_t d = NBLOCKS * BLOCK;
    optref_status st = problem_alloc(P, d, d, 0);
    if (st != OPTREF_OK)
        return st;
    spectral S;
    if ((st = spectral_init(&S, d, P->prec)) != OPTREF_OK)
        return st;
    mpmat_t Qk;
    if ((st = mpmat_init(Qk, BLOCK, BLOCK, S.Q->prec)) != OPTREF_OK) {
        spectral_clear(&S);
        return st;
    }
    for (size_t k = 0; k < NBLOCKS && st == OPTREF_OK; k++) {
        rng_stream s;
        rng_stream_init(&s, P->seed, RNG_STREAM_HESSIAN, (uint32_t)k);
        st = rng_haar(Qk, &s);
        for (size_t i = 0; i < BLOCK && st == OPTREF_OK; i++) {
            for (size_t j = 0; j < BLOCK; j++)
                mpfr_set(mpmat_entry(S.Q, k * BLOCK + i, k * BLOCK + j), mpmat_entry(Qk, i, j),
                         MPFR_RNDN);
            mpfr_set_ui(mpmat_entry(S.lambda, k * BLOCK + i, 0), D[k][i], MPFR_RNDN);
        }
    }
    mpmat_clear(Qk);
    if (st == OPTREF_OK) {
        problem_fill_normal(P->X0, P->seed, RNG_STREAM_X0); /* B stays 0 */
        st = spectral_finish(P, &S);
    }
    spectral_clear(&S);
    return st;
}

optref_status trace_het_build(problem *P, const param_set *opts)
{
    (void)opts; /* no options */
    return build_blocks(P, het_spectrum);
}

optref_status trace_hom_build(problem *P, const param_set *opts)
{
    (void)opts;
    return build_blocks(P, hom_spectrum);
}
