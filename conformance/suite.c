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

static const conform_case cases[] = {
    /* ---- sgd ---- */
    HET(0, "sgd", "1e-4", "lr=1e-4", NULL),
    HET(0, "sgd", "1e-4", "lr=1e-4", "momentum=0.9", "nesterov=true", "weight_decay=0.01", NULL),
    HOM(1, "sgd", "1e-4", "lr=1e-4", "momentum=0.9", "dampening=0.5", NULL),
    SHAPE(1, "sgd", "0.01", 1, 7, "lr=0.01", "momentum=0.9", NULL),
    SHAPE(1, "sgd", "0.01", 7, 1, "lr=0.01", "momentum=0.9", NULL),
    SHAPE(1, "sgd", "0.01", 12, 3, "lr=0.01", "momentum=0.5", "nesterov=true", NULL),
    SHAPE(1, "sgd", "0.01", 3, 12, "lr=0.01", NULL),
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
