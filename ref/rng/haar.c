/* Haar-distributed orthogonal matrices (spec/problems.md 1; Mezzadri,
 * "How to generate random matrices from the classical compact groups",
 * Notices AMS 54, 2007): G n x n i.i.d. N(0,1) from rng_fill_normal (binary64
 * values held at Q's precision), G = Q R by mpmat_qr, then column j of Q times
 * sign(R_jj). The sign step makes Q a function of G alone (the QR with
 * R_jj > 0 is unique for invertible G), which is what makes its law Haar;
 * with mpmat_qr's canonical form (R_jj >= 0) it changes nothing, but it
 * keeps the definition independent of the QR's sign convention. */
#include "optref/rng.h"

optref_status rng_haar(mpmat_ptr Q, rng_stream *s)
{
    if (Q->rows != Q->cols)
        return optref_fail(OPTREF_ESHAPE, "rng_haar: Q must be square, got %zu x %zu", Q->rows,
                           Q->cols);
    size_t n = Q->rows;
    mpmat_t G, R;
    optref_status st = mpmat_init(G, n, n, Q->prec);
    if (st != OPTREF_OK)
        return st;
    st = mpmat_init(R, n, n, Q->prec);
    if (st != OPTREF_OK) {
        mpmat_clear(G);
        return st;
    }
    rng_fill_normal(G, s);
    st = mpmat_qr(Q, R, G);
    if (st == OPTREF_OK) {
        for (size_t j = 0; j < n; j++) {
            if (mpfr_sgn(mpmat_entry(R, j, j)) >= 0) /* sign(0) = +1 (probability 0) */
                continue;
            for (size_t i = 0; i < n; i++)
                mpfr_neg(mpmat_entry(Q, i, j), mpmat_entry(Q, i, j), MPFR_RNDN);
        }
    }
    mpmat_clear(G);
    mpmat_clear(R);
    return st;
}
