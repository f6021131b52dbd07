/* The validation of a backend's basis before the reference adopts it
 * (conformance/adopt_basis.h; proofs/conformance-adopted-basis.md):
 *  - valid bases pass (ratio well below ADOPT_THRESHOLD), in binary64 and
 *    binary32: the eigenbasis of a rank-deficient factor (its null space
 *    resolved by the 256-bit reference, or clustered by the backend's
 *    canonical rule), and a refresh's QR under the backend's tolerance;
 *  - invalid ones fail: a column perturbed by 1e-6 (binary32: 1e-3) relative, the identity,
 *    an eigenbasis in ascending order, a refresh's QR with two kept columns
 *    swapped. */
#include "testlib.h"

#include <math.h>
#include <stdio.h>

#include "../../ref/optim/eigenbasis.h"
#include "../adopt_basis.h"

#define PREC 256
#define N 9

static double unit_of(optref_format fmt)
{
    return fmt == OPTREF_BINARY64 ? 0x1p-53 : 0x1p-24;
}

/* P = G G^T (+ P0) with G N x 3 random, rounded to fmt (rank 3 at 256 bits
 * before rounding: a null space of dimension 6). */
static void make_factor(mpmat_ptr P, mpmat_srcptr P0, test_rng *g, optref_format fmt)
{
    mpmat_t G;
    mpmat_init(G, N, 3, PREC);
    test_fill_uniform(G, g);
    mpmat_mul_nt(P, G, G);
    if (P0 != NULL)
        mpmat_add(P, P, P0);
    mpmat_round_format(P, fmt);
    mpmat_clear(G);
}

/* The backend's canonical eigenbasis of P: the 256-bit eigenvectors with the
 * clusters of the backend's tolerance given their canonical basis, rounded. */
static void backend_eigh(mpmat_ptr Q, mpmat_srcptr P, optref_format fmt)
{
    mpmat_t w;
    mpmat_init(w, N, 1, PREC);
    TEST_OK(mpmat_eigh(w, Q, P));
    mpfr_t nrm, g;
    mpfr_inits2(PREC, nrm, g, (mpfr_ptr)0);
    mpmat_norm_fro(nrm, P);
    mpfr_mul_d(nrm, nrm, sqrt(unit_of(fmt)), MPFR_RNDN);
    size_t c0 = 0;
    for (size_t k = 1; k <= N; k++) {
        if (k < N) {
            mpfr_sub(g, w->e + k - 1, w->e + k, MPFR_RNDN);
            if (mpfr_cmp(g, nrm) <= 0)
                continue;
        }
        if (k - c0 >= 2)
            TEST_OK(mpmat_basis_canonical_cluster(Q, c0, k));
        c0 = k;
    }
    mpmat_round_format(Q, fmt);
    mpfr_clears(nrm, g, (mpfr_ptr)0);
    mpmat_clear(w);
}

/* The refresh's A = P Qold[:, pi] (pi: descending diag(Qold^T P Qold)). */
static void refresh_input(mpmat_ptr A, mpmat_srcptr P, mpmat_srcptr Qold)
{
    mpmat_t PQ, H;
    mpmat_init(PQ, N, N, PREC), mpmat_init(H, N, N, PREC);
    mpmat_mul(PQ, P, Qold);
    mpmat_mul_tn(H, Qold, PQ);
    mpfr_t d[N];
    size_t pi[N];
    for (size_t j = 0; j < N; j++)
        mpfr_init2(d[j], PREC), mpfr_set(d[j], mpmat_entry(H, j, j), MPFR_RNDN);
    TEST_OK(mpvec_argsort(pi, &d[0][0], N, 1));
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < N; j++)
            mpfr_set(mpmat_entry(A, i, j), mpmat_entry(PQ, i, pi[j]), MPFR_RNDN);
    for (size_t j = 0; j < N; j++)
        mpfr_clear(d[j]);
    mpmat_clear(PQ), mpmat_clear(H);
}

static void swap_columns(mpmat_ptr Q, size_t a, size_t b)
{
    for (size_t i = 0; i < Q->rows; i++)
        mpfr_swap(mpmat_entry(Q, i, a), mpmat_entry(Q, i, b));
}

START_TEST(test_valid_and_invalid_bases)
{
    static const optref_format fmts[2] = {OPTREF_BINARY64, OPTREF_BINARY32};
    double worst = 0, least_bad = INFINITY;
    for (int f = 0; f < 2; f++) {
        optref_format fmt = fmts[f];
        double u = unit_of(fmt);
        for (uint64_t seed = 1; seed <= 6; seed++) {
            test_rng g = {seed};
            mpmat_t P, P2, Q, Qb, A, Qn;
            mpmat_init(P, N, N, PREC), mpmat_init(P2, N, N, PREC), mpmat_init(Q, N, N, PREC);
            mpmat_init(Qb, N, N, PREC), mpmat_init(A, N, N, PREC), mpmat_init(Qn, N, N, PREC);
            make_factor(P, NULL, &g, fmt);
            adopt_verdict v;
            /* the first call: the 256-bit eigenvectors of the rounded P, and
             * the backend's canonical basis */
            mpmat_t w;
            mpmat_init(w, N, 1, PREC);
            TEST_OK(mpmat_eigh(w, Q, P));
            mpmat_clear(w);
            mpmat_round_format(Q, fmt);
            TEST_OK(adopt_check_eigh(&v, P, Q, u));
            ck_assert_msg(v.ratio <= ADOPT_THRESHOLD, "eigenvectors: %s %.3g", v.test, v.ratio);
            worst = fmax(worst, v.ratio);
            backend_eigh(Q, P, fmt);
            TEST_OK(adopt_check_eigh(&v, P, Q, u));
            ck_assert_msg(v.ratio <= ADOPT_THRESHOLD, "canonical: %s %.3g", v.test, v.ratio);
            worst = fmax(worst, v.ratio);
            /* invalid: a column perturbed by 1e-6 relative, I, ascending order */
            mpmat_set(Qb, Q);
            double rel = fmt == OPTREF_BINARY64 ? 1e-6 : 1e-3; /* about 1e10 u, 1e4 u */
            for (size_t i = 0; i < N; i++)
                mpfr_mul_d(mpmat_entry(Qb, i, 0), mpmat_entry(Qb, i, 0), 1 + rel, MPFR_RNDN);
            TEST_OK(adopt_check_eigh(&v, P, Qb, u));
            ck_assert_msg(v.ratio > ADOPT_THRESHOLD, "perturbed column passed: %.3g", v.ratio);
            least_bad = fmin(least_bad, v.ratio);
            mpmat_one(Qb);
            TEST_OK(adopt_check_eigh(&v, P, Qb, u));
            ck_assert_msg(v.ratio > ADOPT_THRESHOLD, "identity passed: %.3g", v.ratio);
            least_bad = fmin(least_bad, v.ratio);
            mpmat_set(Qb, Q);
            swap_columns(Qb, 0, 2);
            TEST_OK(adopt_check_eigh(&v, P, Qb, u));
            ck_assert_msg(v.ratio > ADOPT_THRESHOLD, "ascending order passed: %.3g", v.ratio);
            least_bad = fmin(least_bad, v.ratio);
            /* a refresh: P2 = P + a new rank-3 term, Q the backend's QR rule */
            make_factor(P2, P, &g, fmt);
            refresh_input(A, P2, Q);
            mpfr_t tol;
            mpfr_init2(tol, PREC);
            mpmat_norm_fro(tol, P2);
            mpfr_mul_d(tol, tol, sqrt(u), MPFR_RNDN);
            TEST_OK(eigenbasis_qr_canonical(Qn, A, tol));
            mpmat_round_format(Qn, fmt);
            TEST_OK(adopt_check_refresh(&v, P2, Q, Qn, u));
            ck_assert_msg(v.ratio <= ADOPT_THRESHOLD, "refresh: %s %.3g", v.test, v.ratio);
            worst = fmax(worst, v.ratio);
            swap_columns(Qn, 0, 1); /* kept columns out of order */
            TEST_OK(adopt_check_refresh(&v, P2, Q, Qn, u));
            ck_assert_msg(v.ratio > ADOPT_THRESHOLD, "swapped refresh passed: %.3g", v.ratio);
            least_bad = fmin(least_bad, v.ratio);
            mpfr_clear(tol);
            mpmat_clear(P), mpmat_clear(P2), mpmat_clear(Q), mpmat_clear(Qb);
            mpmat_clear(A), mpmat_clear(Qn);
        }
    }
    printf("  valid bases: worst ratio %.3g; invalid: least ratio %.3g (threshold %g)\n", worst,
           least_bad, ADOPT_THRESHOLD);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("adopt_basis");
    TCase *tc = tcase_create("validation");
    tcase_add_test(tc, test_valid_and_invalid_bases);
    suite_add_tcase(s, tc);
    return s;
}
