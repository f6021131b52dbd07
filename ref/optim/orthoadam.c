/* orthoadam (Kaul et al. 2025, Kronecker form), spec/optimizers.md section 2:
 * 1. W <- W (1 - eta lambda) (decoupled).
 * 2. G' = P_L^T G P_R.
 * 3. Adam moments and bias correction on G' exactly as adam.
 * 4. W <- W - eta P_L (M_hat / (sqrt(V_hat) + eps)) P_R^T.
 * P_L (m x m), P_R (n x n) are Haar matrices drawn once (ref_init) from
 * stream 7 with seed = rotation_seed, substream 0 (P_L) and 1 (P_R); a side
 * of length 1 keeps the identity. rotation = dense [decision]: one Haar P of
 * size mn x mn (substream 2) acts on the row-major flattening of G
 * (g' = P^T vec(G), update vec = P n); P_L, P_R stay identities.
 * Products: every entry one correctly rounded dot (mpmat_mul); the two-sided
 * products round the left product first: (P_L^T G) P_R and (P_L N) P_R^T. */
#include <string.h>

#include "adam_moments.h"
#include "optref/rng.h"

static const param_spec orthoadam_hyper[] = {
    {"lr", PARAM_REAL, "1e-3", "0", NULL, 0, NULL, "learning rate (the caller passes eta_t)"},
    {"beta1", PARAM_REAL, "0.9", "0", "1", PARAM_MAX_OPEN, NULL, "first-moment decay"},
    {"beta2", PARAM_REAL, "0.999", "0", "1", PARAM_MAX_OPEN, NULL, "second-moment decay"},
    {"eps", PARAM_REAL, "1e-8", "0", NULL, 0, NULL, "added to sqrt(V_hat) in the denominator"},
    {"weight_decay", PARAM_REAL, "0.01", "0", NULL, 0, NULL,
     "decoupled weight decay lambda: W <- W (1 - eta lambda)"},
    {"rotation_seed", PARAM_INT, "0", "0", NULL, 0, NULL,
     "generator seed of the Haar rotations (stream 7)"},
    {"rotation", PARAM_CHOICE, "kron", NULL, NULL, 0, "kron|dense",
     "kron: P_L^T G P_R; dense: one Haar P of size mn on the flattened G"},
};

static const state_spec orthoadam_state[] = {
    {"M", STATE_PARAM, INIT_ZERO, "first moment, in the rotated basis"},
    {"V", STATE_PARAM, INIT_ZERO, "second moment, in the rotated basis"},
    {"P_L", STATE_LEFT_FULL, INIT_IDENTITY, "left Haar rotation (identity when m = 1 or dense)"},
    {"P_R", STATE_RIGHT_FULL, INIT_IDENTITY,
     "right Haar rotation (identity when n = 1 or dense)"},
    {"P", STATE_FLAT_SQ, INIT_IDENTITY, "rotation=dense: the mn x mn Haar rotation (else 0 x 0)"},
};

static int is_dense(const ref_opt *o)
{
    return strcmp(ref_opt_text(o, "rotation"), "dense") == 0;
}

/* Q <- Haar from (seed, stream 7, substream); a 1 x 1 Q stays [1]. */
static optref_status draw_rotation(mpmat_ptr Q, uint64_t seed, uint32_t substream)
{
    if (Q->rows <= 1)
        return OPTREF_OK;
    rng_stream s;
    rng_stream_init(&s, seed, RNG_STREAM_ORTHOADAM, substream);
    return rng_haar(Q, &s);
}

static optref_status orthoadam_init(ref_opt *o)
{
    uint64_t seed = (uint64_t)ref_opt_int(o, "rotation_seed");
    if (is_dense(o))
        return draw_rotation(ref_opt_state(o, "P"), seed, 2);
    optref_status st = draw_rotation(ref_opt_state(o, "P_L"), seed, 0);
    if (st == OPTREF_OK)
        st = draw_rotation(ref_opt_state(o, "P_R"), seed, 1);
    return st;
}

/* The mn x 1 view of an m x n matrix (row-major flattening). */
static mpmat_struct flat_view(mpmat_srcptr A)
{
    mpmat_struct v = {A->rows * A->cols, 1, A->prec, A->e};
    return v;
}

/* Y = P_L^T X P_R (forward) or P_L X P_R^T (back); dense: vec(Y) = P^T vec(X)
 * or P vec(X). T is m x n scratch. */
static optref_status rotate(const ref_opt *o, mpmat_ptr Y, mpmat_srcptr X, mpmat_ptr T,
                            int forward)
{
    if (is_dense(o)) {
        mpmat_struct y = flat_view(Y), x = flat_view(X);
        mpmat_srcptr P = ref_opt_state(o, "P");
        return forward ? mpmat_mul_tn(&y, P, &x) : mpmat_mul(&y, P, &x);
    }
    mpmat_srcptr PL = ref_opt_state(o, "P_L"), PR = ref_opt_state(o, "P_R");
    optref_status st = forward ? mpmat_mul_tn(T, PL, X) : mpmat_mul(T, PL, X);
    if (st == OPTREF_OK)
        st = forward ? mpmat_mul(Y, T, PR) : mpmat_mul_nt(Y, T, PR);
    return st;
}

static optref_status orthoadam_step(ref_opt *o, mpmat_ptr W, mpmat_srcptr G, mpfr_srcptr eta,
                                    const ref_oracle *oracle)
{
    (void)oracle;
    mpmat_ptr M = ref_opt_state(o, "M"), V = ref_opt_state(o, "V");
    mpmat_t Gr, N, T;
    optref_status st = mpmat_init(Gr, o->m, o->n, o->prec);
    if (st != OPTREF_OK)
        return st;
    if ((st = mpmat_init(N, o->m, o->n, o->prec)) != OPTREF_OK) {
        mpmat_clear(Gr);
        return st;
    }
    if ((st = mpmat_init(T, o->m, o->n, o->prec)) != OPTREF_OK) {
        mpmat_clear(Gr), mpmat_clear(N);
        return st;
    }
    ref_decay_decoupled(o, W, eta, ref_opt_real(o, "weight_decay")); /* 1. */
    st = rotate(o, Gr, G, T, 1);                                      /* 2. */
    if (st == OPTREF_OK) {
        adam_moments_update(o, M, V, Gr); /* 3. */
        adam_direction(o, N, M, V);
        st = rotate(o, Gr, N, T, 0); /* 4. */
    }
    if (st == OPTREF_OK)
        ref_apply_step(W, eta, Gr);
    mpmat_clear(Gr), mpmat_clear(N), mpmat_clear(T);
    return st;
}

const optimizer_info opt_orthoadam = {
    .name = "orthoadam",
    .source = "Kaul et al. 2025 (OrthoAdam), Kronecker form",
    .hyper = orthoadam_hyper,
    .nhyper = sizeof orthoadam_hyper / sizeof orthoadam_hyper[0],
    .state = orthoadam_state,
    .nstate = sizeof orthoadam_state / sizeof orthoadam_state[0],
    .ref_init = orthoadam_init,
    .ref_step = orthoadam_step,
};
