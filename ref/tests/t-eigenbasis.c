/* The eigenbasis machinery of spec/optimizers.md 1.2 (ref/optim/eigenbasis.c),
 * through soap and the deva-sinf family and directly:
 *  - the skipped first call: W, M, V (nu_r, nu_c), Gamma and k unchanged,
 *    basis_ready = 1, L = (1 - shampoo_beta) G G^T (and R) against a 1536-bit
 *    evaluation, Q_L, Q_R canonical eigenbases (orthonormal, residual
 *    ||L Q - Q diag(Q^T L Q)||, descending, each singleton column's
 *    largest-magnitude entry positive), a side of length 1 with Q = [1], a
 *    side longer than max_precond_dim with 0 x 0 factor and basis;
 *  - a rank-deficient first call (the 9 x 9 trace-het problem, a rows-sq
 *    gradient of batch 3: rank <= 3): the null-space columns of Q_L and Q_R
 *    equal mpmat_basis_canonical_cluster of an independently computed,
 *    randomly rotated basis of the null space;
 *  - eigenbasis_qr_canonical against the model's Gram-Schmidt (full rank,
 *    dependent columns in the middle, the zero matrix);
 *  - project / project_back against plain loops;
 *  - the refresh's permutation of V (soap, deva-sinf) and of nu_r, nu_c
 *    (deva-sinf-fact) when the order of the eigenvalues changes, bit for bit.
 * Ratios are ||difference||_F / (scale 2^-256) with the scale named at each
 * check; thresholds 64 (a few dozen roundings). */
#include "../optim/eigenbasis.h"
#include "eigenbasis_model.h"

#define THRESHOLD 64

/* Q (n x n) is a canonical eigenbasis of P: orthonormal, small residual,
 * descending Rayleigh quotients, singleton columns sign-canonical. */
static void check_canonical_eigenbasis(mpmat_srcptr Q, mpmat_srcptr P, test_worst *w)
{
    size_t n = P->rows;
    ck_assert_uint_eq(Q->rows, n);
    if (n == 1) {
        ck_assert(mpfr_cmp_ui(Q->e, 1) == 0); /* Q = [1] */
        return;
    }
    mpmat_t PQ, D, I, E;
    TEST_OK(mpmat_init(PQ, n, n, HI_PREC));
    TEST_OK(mpmat_init(D, n, n, HI_PREC));
    TEST_OK(mpmat_init(I, n, n, HI_PREC));
    TEST_OK(mpmat_init(E, n, n, HI_PREC));
    model_mul_op(PQ, P, 0, Q, 0);
    model_mul_op(D, Q, 1, PQ, 0); /* Q^T P Q */
    model_mul_op(I, Q, 1, Q, 0);
    mpmat_t Id;
    TEST_OK(mpmat_init(Id, n, n, HI_PREC));
    mpmat_one(Id);
    mpfr_t one, nrm, tol, d;
    mpfr_inits2(HI_PREC, one, nrm, tol, d, (mpfr_ptr)0);
    mpfr_set_ui(one, 1, MPFR_RNDN);
    test_worst_add(w, model_ratio(I, Id, one)); /* Q^T Q = I */
    for (size_t i = 0; i < n; i++) /* E = P Q - Q diag(d) */
        for (size_t j = 0; j < n; j++) {
            mpfr_mul(d, mpmat_entry(Q, i, j), mpmat_entry(D, j, j), MPFR_RNDN);
            mpfr_sub(mpmat_entry(E, i, j), mpmat_entry(PQ, i, j), d, MPFR_RNDN);
        }
    mpmat_norm_fro(nrm, P);
    mpmat_zero(I);
    test_worst_add(w, model_ratio(E, I, nrm));
    ebm_tol(tol, P);
    for (size_t j = 0; j + 1 < n; j++) {
        mpfr_sub(d, mpmat_entry(D, j, j), mpmat_entry(D, j + 1, j + 1), MPFR_RNDN);
        mpfr_add(d, d, tol, MPFR_RNDN);
        ck_assert_msg(mpfr_sgn(d) >= 0, "eigenvalues not descending at %zu", j);
    }
    for (size_t j = 0; j < n; j++) { /* singletons: largest entry positive */
        int single = 1;
        for (size_t k = j; k <= j + 1; k++) {
            if (k == 0 || k >= n)
                continue;
            mpfr_sub(d, mpmat_entry(D, k - 1, k - 1), mpmat_entry(D, k, k), MPFR_RNDN);
            if (mpfr_cmp(d, tol) <= 0)
                single = 0;
        }
        if (!single)
            continue;
        size_t b = 0;
        for (size_t i = 1; i < n; i++)
            if (mpfr_cmpabs(mpmat_entry(Q, i, j), mpmat_entry(Q, b, j)) > 0)
                b = i;
        ck_assert_msg(mpfr_sgn(mpmat_entry(Q, b, j)) > 0, "column %zu is not sign-canonical", j);
    }
    mpfr_clears(one, nrm, tol, d, (mpfr_ptr)0);
    mpmat_clear(PQ), mpmat_clear(D), mpmat_clear(I), mpmat_clear(E), mpmat_clear(Id);
}

static int all_equal_ui(mpmat_srcptr X, unsigned long v)
{
    for (size_t i = 0; i < X->rows * X->cols; i++)
        if (mpfr_cmp_ui(X->e + i, v) != 0)
            return 0;
    return 1;
}

static void check_first_call(const char *name, size_t m, size_t n, const char *max_dim,
                             test_worst *wl, test_worst *wq)
{
    char opt[64];
    snprintf(opt, sizeof opt, "max_precond_dim=%s", max_dim);
    const char *opts[] = {"shampoo_beta=0.7", opt};
    ref_opt *o;
    TEST_OK(ref_opt_create(&o, name, m, n, LO_PREC, opts, 2));
    test_rng rng = {77 + m * 10 + n};
    mpmat_t W, W0, G;
    TEST_OK(mpmat_init(W, m, n, LO_PREC));
    TEST_OK(mpmat_init(W0, m, n, LO_PREC));
    TEST_OK(mpmat_init(G, m, n, LO_PREC));
    test_fill_uniform(W, &rng);
    test_fill_uniform(G, &rng);
    mpmat_set(W0, W);
    mpfr_t eta;
    mpfr_init2(eta, 53);
    mpfr_set_d(eta, 0.5, MPFR_RNDN);
    TEST_OK(ref_opt_step(o, W, G, eta, NULL));
    ck_assert(mpmat_equal(W, W0)); /* no update */
    ck_assert(all_equal_ui(ref_opt_state(o, "M"), 0));
    if (ref_opt_state(o, "V") != NULL)
        ck_assert(all_equal_ui(ref_opt_state(o, "V"), 0));
    else
        ck_assert(all_equal_ui(ref_opt_state(o, "nu_r"), 0) &&
                  all_equal_ui(ref_opt_state(o, "nu_c"), 0));
    if (ref_opt_state(o, "Gamma") != NULL)
        ck_assert(all_equal_ui(ref_opt_state(o, "Gamma"), 1));
    ck_assert(all_equal_ui(ref_opt_state(o, "k"), 0));
    ck_assert(all_equal_ui(ref_opt_state(o, "basis_ready"), 1));
    /* L, R against (1 - 0.7) G G^T at 1536 bits; Q canonical eigenbases */
    ebm_opts p = ebm_defaults();
    p.shampoo_beta = "0.7", p.max_dim = (unsigned long)atol(max_dim);
    ebm s;
    ebm_init(&s, EBM_SOAP, m, n, &p);
    ebm_step(&s, NULL, G, eta, 1);
    for (int side = 0; side < 2; side++) {
        mpmat_srcptr P = ref_opt_state(o, side ? "R" : "L");
        mpmat_srcptr Q = ref_opt_state(o, side ? "Q_R" : "Q_L");
        mpmat_srcptr Pm = side ? s.R : s.L;
        size_t len = side ? n : m;
        int rotated = len <= p.max_dim;
        ck_assert_uint_eq(P->rows, rotated ? len : 0);
        ck_assert_uint_eq(Q->rows, rotated ? len : 0);
        ck_assert_uint_eq(Q->cols, Q->rows);
        if (!rotated)
            continue;
        mpfr_t nrm;
        mpfr_init2(nrm, HI_PREC);
        mpmat_norm_fro(nrm, Pm);
        test_worst_add(wl, model_ratio(P, Pm, nrm));
        mpfr_clear(nrm);
        check_canonical_eigenbasis(Q, P, wq);
    }
    ebm_clear(&s);
    mpfr_clear(eta);
    mpmat_clear(W), mpmat_clear(W0), mpmat_clear(G);
    ref_opt_free(o);
}

START_TEST(test_first_call)
{
    test_worst wl = {"first call: L, R vs (1 - b) G G^T", 0, 4};
    test_worst wq = {"first call: Q_L, Q_R canonical eigenbases", 0, THRESHOLD};
    static const size_t shapes[][2] = {{1, 1}, {1, 5}, {5, 1}, {2, 3}, {3, 2}, {4, 4}, {6, 3}};
    const char *names[] = {"soap", "deva-sinf", "deva-sinf-fact"};
    for (size_t k = 0; k < 3; k++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            check_first_call(names[k], shapes[s][0], shapes[s][1], "10000", &wl, &wq);
            check_first_call(names[k], shapes[s][0], shapes[s][1], "4", &wl, &wq);
        }
    test_worst_report(&wl);
    test_worst_report(&wq);
}
END_TEST

/* An orthonormal basis (columns of B, n x d) of the complement of the
 * column span of G, rotated by a random orthogonal d x d matrix: Gram-Schmidt
 * (the model's) of G's columns then of random vectors. */
static void null_basis(mpmat_ptr B, mpmat_srcptr G, size_t rank, test_rng *rng)
{
    size_t n = G->rows, d = B->cols;
    mpmat_t K, Z;
    TEST_OK(mpmat_init(K, n + d, n, HI_PREC));
    TEST_OK(mpmat_init(Z, 1, n, 53));
    mpfr_t nrm2;
    mpfr_init2(nrm2, HI_PREC);
    size_t nk = 0;
    for (size_t j = 0; j < G->cols && nk < rank; j++) {
        for (size_t i = 0; i < n; i++)
            mpfr_set(mpmat_entry(K, nk, i), mpmat_entry(G, i, j), MPFR_RNDN);
        ebm_orth(K, nk, nk, nrm2);
        if (mpfr_cmp_d(nrm2, 1e-20) > 0) {
            mpfr_sqrt(nrm2, nrm2, MPFR_RNDN);
            for (size_t i = 0; i < n; i++)
                mpfr_div(mpmat_entry(K, nk, i), mpmat_entry(K, nk, i), nrm2, MPFR_RNDN);
            nk++;
        }
    }
    ck_assert_uint_eq(nk, rank);
    while (nk < rank + d) {
        test_fill_uniform(Z, rng);
        for (size_t i = 0; i < n; i++)
            mpfr_set(mpmat_entry(K, nk, i), Z->e + i, MPFR_RNDN);
        ebm_orth(K, nk, nk, nrm2);
        mpfr_sqrt(nrm2, nrm2, MPFR_RNDN);
        for (size_t i = 0; i < n; i++)
            mpfr_div(mpmat_entry(K, nk, i), mpmat_entry(K, nk, i), nrm2, MPFR_RNDN);
        nk++;
    }
    for (size_t c = 0; c < d; c++)
        for (size_t i = 0; i < n; i++)
            mpfr_set(mpmat_entry(B, i, c), mpmat_entry(K, rank + c, i), MPFR_RNDN);
    mpfr_clear(nrm2);
    mpmat_clear(K), mpmat_clear(Z);
}

START_TEST(test_rank_deficient_first_call)
{
    test_worst w = {"rank-3 first call: null columns vs canonical cluster (x ||F|| / gap)", 0,
                    THRESHOLD};
    test_worst wq = {"rank-3 first call: canonical eigenbases", 0, THRESHOLD};
    for (uint64_t seed = 1; seed <= 3; seed++) {
        problem P;
        TEST_OK(problem_create(&P, "trace-het", seed, LO_PREC, NULL));
        size_t d = P.d;
        mpmat_t G, W, GT;
        TEST_OK(mpmat_init(G, d, d, LO_PREC));
        TEST_OK(mpmat_init(GT, d, d, LO_PREC));
        TEST_OK(mpmat_init(W, d, d, LO_PREC));
        mpmat_set(W, P.X0);
        TEST_OK(oracle_gradient(G, &P, ORACLE_ROWS_SQ, 3, 1, W));
        ref_opt *o;
        TEST_OK(ref_opt_create(&o, "soap", d, d, LO_PREC, NULL, 0));
        mpfr_t eta;
        mpfr_init2(eta, 53);
        mpfr_set_d(eta, 0.01, MPFR_RNDN);
        TEST_OK(ref_opt_step(o, W, G, eta, NULL));
        TEST_OK(mpmat_transpose(GT, G));
        test_rng rng = {500 + seed};
        for (int side = 0; side < 2; side++) {
            /* null(L) = complement of span(G); null(R) = complement of span(G^T) */
            mpmat_srcptr Q = ref_opt_state(o, side ? "Q_R" : "Q_L");
            mpmat_srcptr F = ref_opt_state(o, side ? "R" : "L");
            check_canonical_eigenbasis(Q, F, &wq);
            size_t rank = 3; /* the batch's rows are distinct for these seeds */
            mpmat_t B, Qn;
            TEST_OK(mpmat_init(B, d, d - rank, HI_PREC));
            TEST_OK(mpmat_init(Qn, d, d - rank, LO_PREC));
            null_basis(B, side ? GT : G, rank, &rng);
            TEST_OK(mpmat_basis_canonical_cluster(B, 0, d - rank));
            for (size_t i = 0; i < d; i++)
                for (size_t j = 0; j < d - rank; j++)
                    mpfr_set(mpmat_entry(Qn, i, j), mpmat_entry(Q, i, rank + j), MPFR_RNDN);
            mpfr_t one;
            mpfr_init2(one, HI_PREC);
            /* the null space of the rounded factor F is within 2^-256 ||F|| / gap of
             * the exact one (gap: the smallest nonzero eigenvalue) */
            mpfr_t gap;
            mpfr_init2(gap, HI_PREC);
            mpmat_t FQ;
            TEST_OK(mpmat_init(FQ, d, 1, HI_PREC));
            mpmat_t q;
            TEST_OK(mpmat_init(q, d, 1, LO_PREC));
            for (size_t i = 0; i < d; i++)
                mpfr_set(q->e + i, mpmat_entry(Q, i, rank - 1), MPFR_RNDN);
            model_mul_op(FQ, F, 0, q, 0);
            mpmat_norm_fro(gap, FQ); /* ||F q_r|| = lambda_r */
            mpmat_norm_fro(one, F);
            mpfr_div(one, one, gap, MPFR_RNDN);
            test_worst_add(&w, model_ratio(Qn, B, one));
            mpfr_clear(gap);
            mpmat_clear(FQ), mpmat_clear(q);
            mpfr_clear(one);
            mpmat_clear(B), mpmat_clear(Qn);
        }
        mpfr_clear(eta);
        ref_opt_free(o);
        mpmat_clear(G), mpmat_clear(GT), mpmat_clear(W);
        problem_clear(&P);
    }
    test_worst_report(&w);
    test_worst_report(&wq);
}
END_TEST

static void check_qr(mpmat_srcptr A, test_worst *w)
{
    size_t n = A->rows;
    mpmat_t Q, Qm;
    TEST_OK(mpmat_init(Q, n, n, LO_PREC));
    TEST_OK(mpmat_init(Qm, n, n, HI_PREC));
    mpfr_t tol, one;
    mpfr_init2(tol, LO_PREC);
    mpfr_init2(one, 53);
    mpfr_set_ui(one, 1, MPFR_RNDN);
    eigenbasis_tol(tol, A);
    TEST_OK(eigenbasis_qr_canonical(Q, A, tol));
    long double kappa = 1;
    ebm_qr_canonical(Qm, A, tol, &kappa);
    mpfr_set_ld(one, kappa, MPFR_RNDN); /* scale: the column-scaled condition number */
    test_worst_add(w, model_ratio(Q, Qm, one));
    mpfr_clears(tol, one, (mpfr_ptr)0);
    mpmat_clear(Q), mpmat_clear(Qm);
}

START_TEST(test_qr_canonical)
{
    test_worst w = {"eigenbasis_qr_canonical vs Gram-Schmidt (x kappa)", 0, THRESHOLD};
    test_rng rng = {31};
    for (size_t n = 1; n <= 7; n++) { /* full rank */
        mpmat_t A;
        TEST_OK(mpmat_init(A, n, n, LO_PREC));
        test_fill_uniform(A, &rng);
        check_qr(A, &w);
        mpmat_clear(A);
    }
    /* dependent columns in the middle: a2 = a0 + a1, a4 = a0 - a3 (exact), and
     * a trailing zero column */
    mpmat_t A;
    TEST_OK(mpmat_init(A, 7, 7, LO_PREC));
    test_fill_uniform(A, &rng);
    for (size_t i = 0; i < 7; i++) {
        mpfr_add(mpmat_entry(A, i, 2), mpmat_entry(A, i, 0), mpmat_entry(A, i, 1), MPFR_RNDN);
        mpfr_sub(mpmat_entry(A, i, 4), mpmat_entry(A, i, 0), mpmat_entry(A, i, 3), MPFR_RNDN);
        mpfr_set_zero(mpmat_entry(A, i, 6), 1);
    }
    check_qr(A, &w);
    mpmat_t Q, I;
    TEST_OK(mpmat_init(Q, 7, 7, LO_PREC));
    TEST_OK(mpmat_init(I, 7, 7, LO_PREC));
    mpfr_t tol;
    mpfr_init2(tol, LO_PREC);
    /* the zero matrix: the identity */
    mpmat_zero(A);
    eigenbasis_tol(tol, A);
    TEST_OK(eigenbasis_qr_canonical(Q, A, tol));
    mpmat_one(I);
    ck_assert(mpmat_equal(Q, I));
    mpfr_clear(tol);
    mpmat_clear(A), mpmat_clear(Q), mpmat_clear(I);
    test_worst_report(&w);
}
END_TEST

START_TEST(test_project)
{
    test_worst w = {"project / project_back vs plain loops", 0, 4};
    test_rng rng = {41};
    static const size_t shapes[][2] = {{1, 1}, {2, 3}, {3, 2}, {1, 4}, {5, 1}};
    for (size_t s = 0; s < 5; s++)
        for (int rot = 0; rot < 4; rot++) {
            size_t m = shapes[s][0], n = shapes[s][1];
            size_t ml = rot & 1 ? m : 0, nr = rot & 2 ? n : 0;
            mpmat_t L, R, QL, QR, X, Y, Yb, Qt, k, ready;
            TEST_OK(mpmat_init(L, ml, ml, LO_PREC));
            TEST_OK(mpmat_init(R, nr, nr, LO_PREC));
            TEST_OK(mpmat_init(QL, ml, ml, LO_PREC));
            TEST_OK(mpmat_init(QR, nr, nr, LO_PREC));
            TEST_OK(mpmat_init(X, m, n, LO_PREC));
            TEST_OK(mpmat_init(Y, m, n, LO_PREC));
            TEST_OK(mpmat_init(Yb, m, n, LO_PREC));
            TEST_OK(mpmat_init(k, 1, 1, LO_PREC));
            TEST_OK(mpmat_init(ready, 1, 1, LO_PREC));
            test_fill_uniform(QL, &rng), test_fill_uniform(QR, &rng); /* any matrices */
            test_fill_uniform(X, &rng);
            eigenbasis E = {L, R, QL, QR, ready, k};
            TEST_OK(eigenbasis_project(Y, &E, X));
            TEST_OK(eigenbasis_project_back(Yb, &E, X));
            ebm_opts p = ebm_defaults();
            ebm sm;
            ebm_init(&sm, EBM_SOAP, m, n, &p);
            sm.rot_left = ml > 0, sm.rot_right = nr > 0;
            TEST_OK(mpmat_resize(sm.QL, ml, ml));
            TEST_OK(mpmat_resize(sm.QR, nr, nr));
            mpmat_set(sm.QL, QL), mpmat_set(sm.QR, QR);
            TEST_OK(mpmat_init(Qt, m, n, HI_PREC));
            mpfr_t nrm;
            mpfr_init2(nrm, HI_PREC);
            for (int back = 0; back < 2; back++) {
                mpmat_set(Qt, X);
                ebm_rotate(&sm, Qt, back);
                /* scale: |QL| |X| |QR| bounds the entries' terms */
                mpmat_norm_fro(nrm, Qt);
                mpfr_add_ui(nrm, nrm, 1, MPFR_RNDN);
                mpfr_mul_ui(nrm, nrm, 4 * (m + n), MPFR_RNDN);
                test_worst_add(&w, model_ratio(back ? Yb : Y, Qt, nrm));
                if (ml == 0 && nr == 0)
                    ck_assert(mpmat_equal(back ? Yb : Y, X));
            }
            mpfr_clear(nrm);
            ebm_clear(&sm);
            mpmat_clear(L), mpmat_clear(R), mpmat_clear(QL), mpmat_clear(QR), mpmat_clear(X);
            mpmat_clear(Y), mpmat_clear(Yb), mpmat_clear(Qt), mpmat_clear(k), mpmat_clear(ready);
        }
    test_worst_report(&w);
}
END_TEST

/* G_1 = [[2,0,0],[0,1,0]] then G_2 = [[0.5,0,0],[0,3,0]] with shampoo_beta
 * 0.5 and f = 1: after call 2, L = diag(1.125, 4.75) and R = diag(1.125,
 * 4.75, 0) have swapped their order, so pi_L = (1, 0), pi_R = (1, 0, 2): the
 * second moment is permuted and the bases become permutation matrices (the
 * refresh's QR of a zero column is the completion e_3). G' has exact zeros
 * off the diagonal. */
static void set_diag23(mpmat_ptr G, const char *a, const char *b)
{
    mpmat_zero(G);
    set_b64(mpmat_entry(G, 0, 0), a);
    set_b64(mpmat_entry(G, 1, 1), b);
}

static void check_permutation(const char *name, const char *eps, test_worst *w)
{
    char eo[64];
    snprintf(eo, sizeof eo, "eps=%s", eps);
    const char *opts[] = {"shampoo_beta=0.5", "precondition_frequency=1", "weight_decay=0", eo};
    ref_opt *o;
    TEST_OK(ref_opt_create(&o, name, 2, 3, LO_PREC, opts, 4));
    int fact = ref_opt_state(o, "nu_r") != NULL;
    mpmat_t W, G, PL, PR;
    TEST_OK(mpmat_init(W, 2, 3, LO_PREC));
    TEST_OK(mpmat_init(G, 2, 3, LO_PREC));
    TEST_OK(mpmat_init(PL, 2, 2, LO_PREC));
    TEST_OK(mpmat_init(PR, 3, 3, LO_PREC));
    mpfr_t eta, w2, x;
    mpfr_inits2(LO_PREC, eta, w2, x, (mpfr_ptr)0);
    set_b64(eta, "0.01");
    ebm_opts p = ebm_defaults();
    p.shampoo_beta = "0.5", p.f = 1, p.wd = "0", p.eps = eps;
    ebm_run run = {.state_w = w};
    ebm_init(&run.s, strcmp(name, "soap") == 0 ? EBM_SOAP : fact ? EBM_DEVA_FACT : EBM_DEVA, 2,
             3, &p);
    mpmat_t Wm;
    TEST_OK(mpmat_init(Wm, 2, 3, HI_PREC));
    set_diag23(G, "2", "1");
    TEST_OK(ref_opt_step(o, W, G, eta, NULL));
    ebm_step(&run.s, Wm, G, eta, 1);
    ebm_check(&run, o, 1, w);
    mpmat_one(PL), mpmat_one(PR);
    ck_assert(mpmat_equal(ref_opt_state(o, "Q_L"), PL));
    ck_assert(mpmat_equal(ref_opt_state(o, "Q_R"), PR));
    set_diag23(G, "0.5", "3");
    TEST_OK(ref_opt_step(o, W, G, eta, NULL));
    ebm_step(&run.s, Wm, G, eta, 2);
    ebm_check(&run, o, 2, w);
    mpmat_zero(PL), mpmat_zero(PR);
    mpfr_set_ui(mpmat_entry(PL, 0, 1), 1, MPFR_RNDN);
    mpfr_set_ui(mpmat_entry(PL, 1, 0), 1, MPFR_RNDN);
    mpfr_set_ui(mpmat_entry(PR, 0, 1), 1, MPFR_RNDN);
    mpfr_set_ui(mpmat_entry(PR, 1, 0), 1, MPFR_RNDN);
    mpfr_set_ui(mpmat_entry(PR, 2, 2), 1, MPFR_RNDN);
    mpfr_set_ui(x, 1, MPFR_RNDN); /* permutation matrices up to the QR's roundings */
    test_worst_add(w, model_ratio(ref_opt_state(o, "Q_L"), PL, x));
    test_worst_add(w, model_ratio(ref_opt_state(o, "Q_R"), PR, x));
    /* the second moment before the refresh, as the implementation rounds it:
     * soap V_ij = fl((1 - beta2) G'_ij^2), fact nu = fl((1 - beta2) sums) */
    set_b64(x, "0.95");
    mpfr_ui_sub(w2, 1, x, MPFR_RNDN);
    static const double g[2] = {0.5, 3};
    if (strcmp(name, "soap") == 0) { /* V = [[9 w, 0, 0], [0, 0.25 w, 0]] after both swaps */
        mpmat_srcptr V = ref_opt_state(o, "V");
        for (size_t i = 0; i < 2; i++)
            for (size_t j = 0; j < 3; j++) {
                if (i == j)
                    mpfr_mul_d(x, w2, g[1 - i] * g[1 - i], MPFR_RNDN);
                else
                    mpfr_set_zero(x, 1);
                ck_assert_msg(mpfr_equal_p(mpmat_entry(V, i, j), x), "V[%zu][%zu]", i, j);
            }
    } else if (fact) { /* nu_r = (9 w, 0.25 w), nu_c = (9 w, 0.25 w, 0) */
        mpmat_srcptr nr = ref_opt_state(o, "nu_r"), nc = ref_opt_state(o, "nu_c");
        for (size_t i = 0; i < 3; i++) {
            if (i < 2)
                mpfr_mul_d(x, w2, g[1 - i] * g[1 - i], MPFR_RNDN);
            else
                mpfr_set_zero(x, 1);
            if (i < 2)
                ck_assert(mpfr_equal_p(nr->e + i, x));
            ck_assert(mpfr_equal_p(nc->e + i, x));
        }
    }
    mpfr_clears(eta, w2, x, (mpfr_ptr)0);
    ebm_clear(&run.s);
    mpmat_clear(W), mpmat_clear(G), mpmat_clear(PL), mpmat_clear(PR), mpmat_clear(Wm);
    ref_opt_free(o);
}

START_TEST(test_refresh_permutes_second_moment)
{
    test_worst w = {"permuting refresh: states vs model", 0, THRESHOLD};
    /* with eps = 0 the zero entries of G' give 0/0 in N (soap) and Gamma
     * (deva): 0 [decision], as the model */
    for (int e = 0; e < 2; e++) {
        check_permutation("soap", e ? "0" : "1e-8", &w);
        check_permutation("deva-sinf", e ? "0" : "1e-8", &w);
        check_permutation("deva-sinf-fact", e ? "0" : "1e-8", &w);
    }
    test_worst_report(&w);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("eigenbasis");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_first_call);
    tcase_add_test(tc, test_rank_deficient_first_call);
    tcase_add_test(tc, test_qr_canonical);
    tcase_add_test(tc, test_project);
    tcase_add_test(tc, test_refresh_permutes_second_moment);
    suite_add_tcase(s, tc);
    return s;
}
