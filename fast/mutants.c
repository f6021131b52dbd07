/* The catalogue of mutants (fast/mutants.h). */
#include "mutants.h"

#include <string.h>

static const fast_mutant_info catalogue[] = {
    {"sgd-nesterov-flipped", "sgd", "Nesterov momentum applied when off and omitted when on"},
    {"sgd-coupled-decay-dropped", "sgd", "the coupled weight decay lambda W left out of G"},
    {"signsgd-nesterov-flipped", "signsgd", "Nesterov lerp(G, M, beta) used when off and M when on"},
    {"adam-eps-inside-sqrt", "adam", "sqrt(V_hat + eps) instead of sqrt(V_hat) + eps"},
    {"adam-no-bias-correction", "adam", "M and V used without dividing by 1 - beta^t"},
    {"adam-bias-correction-off-by-one", "adam", "1 - beta^(t-1) instead of 1 - beta^t (a 0-based "
     "step count; no correction where that is 0)"},
    {"adamw-coupled-decay", "adamw", "adamw adds lambda W to G instead of W <- W (1 - eta lambda)"},
    {"adagrad-eps-inside-sqrt", "adagrad", "G / sqrt(S + eps) instead of G / (sqrt(S) + eps)"},
    {"adagrad-coupled-decay-dropped", "adagrad", "the coupled weight decay lambda W left out of G"},
    {"lion-update-before-interpolation", "lion", "M updated with beta2 before C = lerp(G, M, "
     "1 - beta1) is formed"},
    {"lion-betas-swapped", "lion", "beta2 used for the interpolation C and beta1 for the momentum"},
    {"stableadamw-decay-clipped", "stableadamw", "weight decay with the clipped eta / max(1, r/d) "
     "(optimi's choice) instead of the gist's unclipped eta"},
    {"stableadamw-r-before-update", "stableadamw", "r from U before this step's update"},
    {"stableadamw-plain-beta", "stableadamw", "b = beta instead of the corrected beta (1 - "
     "beta^(t-1)) / (1 - beta^t)"},
    {"orthoadam-transposed-rotation", "orthoadam", "G' = P_L G P_R^T instead of P_L^T G P_R"},
    {"orthoadam-no-back-rotation", "orthoadam", "the direction applied in the rotated basis (no "
     "P_L N P_R^T)"},
    {"deva-linf-v-of-gradient", "deva-linf", "V <- lerp(V, G.G, 1 - beta2) instead of the second "
     "moment of M"},
    {"deva-linf-gamma-before-v", "deva-linf", "Gamma from V before this step's update"},
    {"asm-check-off-by-one", "asm", "s recomputed when t mod K = 0 instead of (t - 1) mod K = 0"},
    {"asm-s-unclamped", "asm", "s = tau / kappa without min(1, .)"},
    {"sophia-bias-correction-dropped", "sophia", "step size eta instead of eta / (1 - beta1^t)"},
    {"sophia-hessian-before-step", "sophia", "h updated before the parameter step of t = k, 2k, ..."},
    {"sophia-probe-substream-off-by-one", "sophia", "probe u drawn from substream t + 1"},
    {"sophia-no-relu", "sophia", "gamma h + 1e-12 without max(h, 0): a negative h reverses the "
     "step"},
    {"smi-mask-strict", "smi", "Mask = [H > tau] instead of [H >= tau]"},
    {"smi-no-hermitian-mirror", "smi", "|F| of a full complex FFT, not mirrored (H loses its "
     "exact symmetry), Gf = Re(IFFT2(F . Mask))"},
    {"sam-perturbation-sign", "sam", "the gradient taken at W - E instead of W + E"},
    {"sam-adaptive-missing-square", "sam", "adaptive E = rho W . G / (N + 1e-12) instead of "
     "rho W . W . G / (N + 1e-12)"},
    {"muon-nesterov-flipped", "muon", "Nesterov momentum applied when off and omitted when on"},
    {"muon-ns-coefficient", "muon", "Newton-Schulz coefficient b = -4.7500 instead of -4.7750"},
    {"muon-frobenius-eps", "muon", "ns-keller's normalisation ||X||_F + 1e-3 instead of + 1e-7"},
    {"muon-keller-eps-max", "muon", "ns-keller's normalisation max(||X||_F, 1e-7) (torch's) "
     "instead of ||X||_F + 1e-7"},
    {"muon-scale-transposed", "muon", "update scale sqrt(max(1, n/m)) instead of "
     "sqrt(max(1, m/n))"},
    {"adamuon-eps-inside-sqrt", "adamuon", "O / sqrt(V + eps) instead of O / (sqrt(V) + eps)"},
    {"adamuon-momentum-ema", "adamuon", "M <- beta1 M + (1 - beta1) G instead of the sum form"},
    {"soap-decay-before-step", "soap", "W <- W - eta lambda W applied before W - eta' U instead "
     "of after it"},
    {"soap-project-back-transposed", "soap", "project_back(X) = Q_L^T X Q_R instead of "
     "Q_L X Q_R^T"},
    {"soap-first-call-not-skipped", "soap", "the first call also updates W (and the moments) "
     "after building the basis"},
    {"soap-v-rotated-on-refresh", "soap", "V rotated to the new basis like M on a refresh "
     "instead of permuted"},
    {"eigenbasis-not-orthonormal", "soap", "the first call's Q_L loses orthogonality: column 0 "
     "gets 1e-6 times column 1 added (a relative perturbation of 1e-6)"},
    {"shampoo-inverse-square-root", "shampoo", "PL, PR = (L + eps)^(-1/2) instead of ^(-1/4)"},
    {"deva-sinf-gamma-denominator-no-sqrt", "deva-sinf", "Gamma = sqrt(r_i) sqrt(c_j) / (V_ij + "
     "eps) instead of / sqrt(V_ij + eps)"},
    {"deva-sinf-sign-sign-dropped", "deva-sinf-sign", "O = msign(N) instead of msign(sign(N))"},
    {"deva-sinf-ins-norms-of-m", "deva-sinf-ins", "r, c from the momentum M instead of the "
     "instantaneous G'"},
    {"deva-sinf-fact-eps-outside-sqrt", "deva-sinf-fact", "sqrt(nu) + eps instead of "
     "sqrt(nu + eps) in Gamma's marginals"},
};

static const char *selected;

size_t fast_mutant_count(void)
{
    return sizeof catalogue / sizeof catalogue[0];
}

const fast_mutant_info *fast_mutant_at(size_t i)
{
    return i < fast_mutant_count() ? &catalogue[i] : NULL;
}

void fast_mutant_select(const char *id)
{
    selected = id;
}

int fast_mutant_active(const char *id)
{
    return selected != NULL && strcmp(selected, id) == 0;
}
