/* The cases of the conformance gate and its suites (spec/cli.md): quick
 * (tier 0: the DeVA problem for every optimizer), default (tier <= 1: plus
 * other options and random shapes 1 x n, n x 1, tall, wide), full (tier <= 2).
 * One section per optimizer family. */
#include <string.h>

#include "optref/conform.h"

/* The DeVA Figure 2 setting: trace-het, rows-norm oracle, batch 3. */
#define HET(tier, opt, lr, ...)                                                                    \
    {opt "/trace-het", tier, opt, {__VA_ARGS__}, "trace-het", {NULL}, 1234, "rows-norm", 3, 6, lr}
#define HOM(tier, opt, lr, ...)                                                                    \
    {opt "/trace-hom", tier, opt, {__VA_ARGS__}, "trace-hom", {NULL}, 99, "rows-sq", 3, 6, lr}
/* A d x p parameter on a dense quadratic with a moderate spectrum. */
#define SHAPE(tier, opt, lr, d, p, ...)                                                            \
    {opt "/" #d "x" #p, tier, opt, {__VA_ARGS__}, "trace-dense",                                    \
     {"d=" #d, "p=" #p, "lambda_max=100"}, 7, "rows-sq", 2, 4, lr}

/* Full-rank gradients (gauss oracle) on a dense quadratic: well separated
 * spectra of L and R, so the eigenbasis bounds are sharp (mutants). */
#define EBG(tier, opt, lr, d, p, steps, ...)                                                       \
    {opt "/gauss-" #d "x" #p, tier, opt, {__VA_ARGS__}, "trace-dense",                              \
     {"d=" #d, "p=" #p, "lambda_max=100"}, 11, "gauss", 1, steps, lr}

static const conform_case cases[] = {
    /* ---- sgd ---- */
    HET(0, "sgd", "1e-4", "lr=1e-4", NULL),
    HET(0, "sgd", "1e-4", "lr=1e-4", "momentum=0.9", "nesterov=true", "weight_decay=0.01", NULL),
    HOM(1, "sgd", "1e-4", "lr=1e-4", "momentum=0.9", "dampening=0.5", NULL),
    SHAPE(1, "sgd", "0.01", 1, 7, "lr=0.01", "momentum=0.9", NULL),
    SHAPE(1, "sgd", "0.01", 7, 1, "lr=0.01", "momentum=0.9", NULL),
    SHAPE(1, "sgd", "0.01", 12, 3, "lr=0.01", "momentum=0.5", "nesterov=true", NULL),
    SHAPE(1, "sgd", "0.01", 3, 12, "lr=0.01", NULL),
    /* ---- elementwise (proofs/conformance-elementwise.md): small gradients so
     * eps matters, lambda > 0, >= 3 steps (bias-correction off-by-one), a
     * stochastic oracle so sign-based mutants flip some signs ---- */
    HET(0, "signsgd", "0.02", NULL),
    HET(0, "signsgd", "0.02", "nesterov=true", "weight_decay=0.01", NULL),
    HOM(1, "signsgd", "0.02", "beta=0.5", NULL),
    SHAPE(1, "signsgd", "0.02", 1, 7, "beta=0.5", "nesterov=true", NULL),
    SHAPE(1, "signsgd", "0.02", 7, 1, NULL),
    SHAPE(1, "signsgd", "0.02", 12, 3, "nesterov=true", "weight_decay=0.1", NULL),
    SHAPE(1, "signsgd", "0.02", 3, 12, "beta=0.5", NULL),
    HET(0, "adam", "1e-3", NULL),
    HET(0, "adam", "1e-3", "weight_decay=0.1", NULL),
    HOM(1, "adam", "1e-3", "beta2=0.99", "eps=1e-6", NULL),
    SHAPE(1, "adam", "1e-2", 1, 7, NULL),
    SHAPE(1, "adam", "1e-2", 7, 1, "weight_decay=0.01", NULL),
    SHAPE(1, "adam", "1e-2", 12, 3, NULL),
    SHAPE(1, "adam", "1e-2", 3, 12, "beta1=0.5", NULL),
    HET(0, "adamw", "1e-3", NULL),
    HOM(1, "adamw", "1e-3", "weight_decay=0.1", NULL),
    SHAPE(1, "adamw", "1e-2", 1, 7, NULL),
    SHAPE(1, "adamw", "1e-2", 7, 1, NULL),
    SHAPE(1, "adamw", "1e-2", 12, 3, "weight_decay=0", NULL),
    SHAPE(1, "adamw", "1e-2", 3, 12, NULL),
    HET(0, "adagrad", "0.01", NULL),
    HET(0, "adagrad", "0.01", "weight_decay=0.1", "eps=1e-6", NULL),
    HOM(1, "adagrad", "0.01", NULL),
    SHAPE(1, "adagrad", "0.01", 1, 7, NULL),
    SHAPE(1, "adagrad", "0.01", 7, 1, "weight_decay=0.01", NULL),
    SHAPE(1, "adagrad", "0.01", 12, 3, NULL),
    SHAPE(1, "adagrad", "0.01", 3, 12, NULL),
    HET(0, "lion", "1e-4", NULL),
    HET(0, "lion", "1e-4", "beta2=0.5", "weight_decay=0.1", NULL),
    HOM(1, "lion", "1e-4", "beta2=0.5", NULL),
    SHAPE(1, "lion", "1e-3", 1, 7, NULL),
    SHAPE(1, "lion", "1e-3", 7, 1, "beta2=0.5", NULL),
    SHAPE(1, "lion", "1e-3", 12, 3, "beta2=0.5", NULL),
    SHAPE(1, "lion", "1e-3", 3, 12, "weight_decay=0.1", NULL),
    HET(0, "stableadamw", "2e-3", NULL),
    HET(0, "stableadamw", "2e-3", "clip_thresh=0.5", NULL),
    HOM(1, "stableadamw", "2e-3", "eps=1e-6", NULL),
    SHAPE(1, "stableadamw", "2e-3", 1, 7, NULL),
    SHAPE(1, "stableadamw", "2e-3", 7, 1, "clip_thresh=0.5", NULL),
    SHAPE(1, "stableadamw", "2e-3", 12, 3, NULL),
    SHAPE(1, "stableadamw", "2e-3", 3, 12, "weight_decay=0", NULL),
    HET(0, "orthoadam", "1e-3", NULL),
    HET(0, "orthoadam", "1e-3", "rotation_seed=5", "weight_decay=0.1", NULL),
    HOM(1, "orthoadam", "1e-3", "rotation_seed=3", NULL),
    SHAPE(1, "orthoadam", "1e-2", 1, 7, NULL),
    SHAPE(1, "orthoadam", "1e-2", 7, 1, "rotation=dense", NULL),
    SHAPE(1, "orthoadam", "1e-2", 3, 4, "rotation=dense", "rotation_seed=2", NULL),
    SHAPE(1, "orthoadam", "1e-2", 12, 3, NULL),
    SHAPE(1, "orthoadam", "1e-2", 3, 12, "weight_decay=0", NULL),
    HET(0, "deva-linf", "0.02", NULL),
    HET(0, "deva-linf", "0.02", "nesterov=true", "weight_decay=0.01", NULL),
    HOM(1, "deva-linf", "0.02", "eps=1e-8", NULL),
    SHAPE(1, "deva-linf", "0.02", 1, 7, NULL),
    SHAPE(1, "deva-linf", "0.02", 7, 1, "nesterov=true", NULL),
    SHAPE(1, "deva-linf", "0.02", 12, 3, NULL),
    SHAPE(1, "deva-linf", "0.02", 3, 12, "beta2=0.9", NULL),
    HET(0, "asm", "8e-3", NULL),
    HET(0, "asm", "8e-3", "check_interval=2", "weight_decay=0.01", NULL),
    HOM(1, "asm", "8e-3", "check_interval=3", "tau=1000", NULL),
    SHAPE(1, "asm", "8e-3", 1, 7, "check_interval=2", NULL),
    SHAPE(1, "asm", "8e-3", 7, 1, NULL),
    SHAPE(1, "asm", "8e-3", 12, 3, "check_interval=2", "tau=2", NULL),
    SHAPE(1, "asm", "8e-3", 3, 12, "check_interval=1", "tau=1000", NULL),
    HET(0, "sophia", "1e-3", "k=2", NULL),
    HOM(1, "sophia", "1e-3", "k=3", "gamma=0.1", NULL),
    SHAPE(1, "sophia", "1e-3", 1, 7, "k=1", NULL),
    SHAPE(1, "sophia", "1e-3", 7, 1, "k=2", NULL),
    SHAPE(1, "sophia", "1e-3", 12, 3, "k=1", "gamma=0.01", NULL),
    SHAPE(1, "sophia", "1e-3", 3, 12, "k=2", "weight_decay=0", NULL),
    /* full suite: larger shapes, more steps, full-rank gradients */
    EBG(2, "signsgd", "0.02", 24, 16, 12, "nesterov=true", NULL),
    EBG(2, "adam", "1e-2", 24, 16, 12, "weight_decay=0.01", NULL),
    EBG(2, "adamw", "1e-2", 24, 16, 12, NULL),
    EBG(2, "adagrad", "1e-2", 24, 16, 12, NULL),
    EBG(2, "lion", "1e-3", 24, 16, 12, "beta2=0.9", NULL),
    EBG(2, "stableadamw", "2e-3", 24, 16, 12, "clip_thresh=0.8", NULL),
    EBG(2, "orthoadam", "1e-2", 24, 16, 12, NULL),
    EBG(2, "orthoadam", "1e-2", 6, 5, 8, "rotation=dense", NULL),
    EBG(2, "deva-linf", "0.02", 24, 16, 12, "nesterov=true", NULL),
    EBG(2, "asm", "8e-3", 24, 16, 12, "check_interval=3", "weight_decay=0.01", NULL),
    EBG(2, "sophia", "1e-3", 24, 16, 12, "k=3", NULL),
    /* ---- wrappers: smi, sam (proofs/conformance-wrappers.md) ---- */
    /* q (N - 1) whole (9 x 9: q = k/16; 1 x 25: k/8; 3 x 27: k/16; q = 1 always)
     * puts tau exactly on one conjugate orbit of H, where the mask is decided
     * exactly: smi-mask-strict shows there. FFTW's complex transforms of sizes
     * with an 18, 24, 25 or 27 (not its single codelets) break the conjugate
     * symmetry of |F| by rounding: smi-no-hermitian-mirror shows there. */
    HET(0, "smi", "1e-4", "T=4", "base=sgd", "base.lr=1e-4", NULL),
    HET(0, "smi", "1e-4", "T=8", "q=0.5", "beta=0.9", "base=sgd", "base.lr=1e-4",
        "base.momentum=0.9", NULL),
    HOM(1, "smi", "1e-4", "T=3", "q=0.3", "schedule=linear", "alpha0=0.3", "base=sgd",
        "base.lr=1e-4", NULL),
    HOM(1, "smi", "1e-3", "T=4", "q=0.5", "base.lr=1e-3", "base.weight_decay=0.1", NULL),
    SHAPE(1, "smi", "0.01", 1, 25, "T=2", "q=0.875", "base=sgd", "base.lr=0.01", NULL),
    SHAPE(1, "smi", "0.01", 18, 1, "T=2", "q=1", "beta=0.5", "base=sgd", "base.lr=0.01", NULL),
    SHAPE(1, "smi", "0.01", 24, 3, "T=4", "q=1", "beta=0.5", "base=sgd", "base.lr=0.01",
          NULL),
    SHAPE(1, "smi", "0.01", 3, 27, "T=4", "q=0.25", "beta=0", "base=sgd", "base.lr=0.01",
          NULL),
    SHAPE(1, "smi", "0.01", 4, 6, "T=4", "base=sgd", "base.lr=0.01", NULL),
    HET(0, "sam", "1e-4", "base.lr=1e-4", NULL),
    HET(0, "sam", "1e-4", "rho=0.5", "adaptive=true", "base.lr=1e-4", NULL),
    HOM(1, "sam", "1e-4", "rho=0.1", "base.lr=1e-4", "base.momentum=0.9", NULL),
    HOM(1, "sam", "1e-3", "rho=0.1", "base=adamw", "base.lr=1e-3", NULL),
    SHAPE(1, "sam", "0.01", 1, 7, "base.lr=0.01", NULL),
    SHAPE(1, "sam", "0.01", 7, 1, "adaptive=true", "base.lr=0.01", NULL),
    SHAPE(1, "sam", "0.01", 12, 3, "adaptive=true", "rho=0.2", "base.lr=0.01",
          "base.momentum=0.5", NULL),
    SHAPE(1, "sam", "0.01", 3, 12, "base.lr=0.01", NULL),
    /* ---- muon family and adamuon (proofs/conformance-muon.md) ---- */
    HET(0, "muon", "0.02", NULL),
    HET(0, "muon-deva", "0.02", NULL),
    HET(0, "muon-torch", "1e-3", NULL),
    HET(0, "muon-polar", "0.02", NULL),
    HET(0, "adamuon", "0.02", NULL),
    HOM(1, "muon", "0.02", "nesterov=false", "weight_decay=0.1", "scale=rms", NULL),
    HOM(1, "muon", "0.02", "ns=ns-torch", "ns_steps=3", "momentum=0.5", NULL),
    SHAPE(1, "muon", "0.02", 1, 7, NULL),
    SHAPE(1, "muon", "0.02", 7, 1, NULL),
    SHAPE(1, "muon", "0.02", 12, 3, "weight_decay=0.1", NULL),
    SHAPE(1, "muon", "0.02", 3, 12, "ns=ns-deva", NULL),
    HOM(1, "muon-deva", "0.02", "nesterov=true", "weight_decay=0.1", NULL),
    SHAPE(1, "muon-deva", "0.02", 12, 3, NULL),
    SHAPE(1, "muon-deva", "0.02", 1, 7, NULL),
    SHAPE(1, "muon-torch", "1e-3", 3, 12, NULL),
    SHAPE(1, "muon-torch", "1e-3", 7, 1, "scale=rms", NULL),
    HOM(1, "muon-polar", "0.02", "weight_decay=0.1", NULL),
    SHAPE(1, "muon-polar", "0.02", 1, 7, NULL),
    SHAPE(1, "muon-polar", "0.02", 7, 1, NULL),
    SHAPE(1, "muon-polar", "0.02", 12, 3, NULL),
    SHAPE(1, "muon-polar", "0.02", 3, 12, NULL),
    HOM(1, "adamuon", "0.02", "weight_decay=0.1", "eps=1e-3", NULL),
    SHAPE(1, "adamuon", "0.02", 1, 7, NULL),
    SHAPE(1, "adamuon", "0.02", 7, 1, "ns=ns-keller", NULL),
    SHAPE(1, "adamuon", "0.02", 12, 3, NULL),
    SHAPE(1, "adamuon", "0.02", 3, 12, "ns=polar", NULL),
    /* ---- eigenbasis: soap, shampoo, deva-sinf family (proofs/conformance-eigenbasis.md) ---- */
    HET(0, "soap", "3e-3", NULL),
    HET(1, "soap", "3e-3", "precondition_frequency=2", "weight_decay=0.1", NULL),
    HOM(1, "soap", "3e-3", "precondition_frequency=3", "correct_bias=false",
        "normalize_grads=true", NULL),
    SHAPE(1, "soap", "3e-3", 1, 7, "precondition_frequency=2", NULL),
    SHAPE(1, "soap", "3e-3", 7, 1, "precondition_frequency=2", NULL),
    SHAPE(1, "soap", "3e-3", 12, 3, "precondition_frequency=2", "max_precond_dim=8", NULL),
    SHAPE(1, "soap", "3e-3", 3, 12, "precondition_frequency=3", NULL),
    EBG(1, "soap", "3e-3", 6, 4, 5, "precondition_frequency=2", "weight_decay=0.1", NULL),
    HET(0, "shampoo", "1e-3", "lr=1e-3", NULL),
    HOM(1, "shampoo", "1e-3", "lr=1e-3", "beta=0.9", "update_freq=2", "eps=1e-4", NULL),
    SHAPE(1, "shampoo", "0.01", 1, 7, "lr=0.01", NULL),
    SHAPE(1, "shampoo", "0.01", 7, 1, "lr=0.01", "eps=1e-6", NULL),
    SHAPE(1, "shampoo", "0.01", 12, 3, "lr=0.01", "update_freq=2", NULL),
    SHAPE(1, "shampoo", "0.01", 3, 12, "lr=0.01", "beta=0.5", NULL),
    EBG(1, "shampoo", "0.01", 6, 4, 4, "lr=0.01", "eps=1e-6", NULL),
    HET(0, "deva-sinf", "3e-3", NULL),
    HET(1, "deva-sinf", "3e-3", "precondition_frequency=2", "nesterov=false", NULL),
    HOM(1, "deva-sinf", "3e-3", "precondition_frequency=3", "ns=ns-keller", "correct_bias=false",
        NULL),
    SHAPE(1, "deva-sinf", "3e-3", 1, 7, "precondition_frequency=2", NULL),
    SHAPE(1, "deva-sinf", "3e-3", 7, 1, "precondition_frequency=2", "ns=polar", NULL),
    SHAPE(1, "deva-sinf", "3e-3", 12, 3, "precondition_frequency=2", "max_precond_dim=8", NULL),
    SHAPE(1, "deva-sinf", "3e-3", 3, 12, "precondition_frequency=3", "normalize_grads=true", NULL),
    EBG(1, "deva-sinf", "3e-3", 6, 4, 5, "precondition_frequency=2", "eps=1e-4", NULL),
    HET(0, "deva-sinf-sign", "3e-3", "precondition_frequency=2", NULL),
    SHAPE(1, "deva-sinf-sign", "3e-3", 12, 3, "precondition_frequency=2", NULL),
    EBG(1, "deva-sinf-sign", "3e-3", 6, 4, 5, "precondition_frequency=2", NULL),
    HET(0, "deva-sinf-ins", "3e-3", "precondition_frequency=2", NULL),
    SHAPE(1, "deva-sinf-ins", "3e-3", 3, 12, "precondition_frequency=2", NULL),
    EBG(1, "deva-sinf-ins", "3e-3", 6, 4, 5, "precondition_frequency=2", NULL),
    HET(0, "deva-sinf-fact", "3e-3", "precondition_frequency=2", NULL),
    SHAPE(1, "deva-sinf-fact", "3e-3", 7, 1, "precondition_frequency=2", NULL),
    EBG(1, "deva-sinf-fact", "3e-3", 6, 4, 5, "precondition_frequency=2", "eps=1e-4", NULL),
};

size_t conform_cases(const conform_case **out)
{
    *out = cases;
    return sizeof cases / sizeof cases[0];
}

int conform_suite_tier(const char *name)
{
    static const char *const names[] = {"quick", "default", "full"};
    for (int i = 0; i < 3; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}
