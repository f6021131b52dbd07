/* The suites of the conformance gate (spec/cli.md: quick, default, full).
 * quick: every optimizer with a bound, the DeVA problem, both CPU formats.
 * default: quick plus random shapes (1 x n, n x 1, tall, wide) and the
 * homogeneous problem. full: default with more steps and oracles. */
#include <string.h>

#include "optref/conform.h"

#define DEVA_HET(opt, lr, ...)                                                                     \
    {opt "/trace-het", opt, {__VA_ARGS__}, "trace-het", {NULL}, 1234, "rows-norm", 3, 6, lr}
#define SHAPE(opt, lr, d, p, tag, ...)                                                             \
    {opt "/" tag, opt, {__VA_ARGS__}, "trace-dense", {"d=" #d, "p=" #p, "lambda_max=100"}, 7,      \
     "rows-sq", 2, 4, lr}

static const conform_case quick[] = {
    DEVA_HET("sgd", "1e-4", "lr=1e-4", NULL),
    DEVA_HET("sgd", "1e-4", "lr=1e-4", "momentum=0.9", "nesterov=true", "weight_decay=0.01", NULL),
};

static const conform_case standard[] = {
    DEVA_HET("sgd", "1e-4", "lr=1e-4", NULL),
    DEVA_HET("sgd", "1e-4", "lr=1e-4", "momentum=0.9", "nesterov=true", "weight_decay=0.01", NULL),
    DEVA_HET("sgd", "1e-4", "lr=1e-4", "momentum=0.9", "dampening=0.5", NULL),
    SHAPE("sgd", "0.01", 1, 7, "1x7", "lr=0.01", "momentum=0.9", NULL),
    SHAPE("sgd", "0.01", 7, 1, "7x1", "lr=0.01", "momentum=0.9", NULL),
    SHAPE("sgd", "0.01", 12, 3, "12x3", "lr=0.01", "momentum=0.5", "nesterov=true", NULL),
    SHAPE("sgd", "0.01", 3, 12, "3x12", "lr=0.01", NULL),
};

size_t conform_suite(const char *name, const conform_case **cases)
{
    if (strcmp(name, "quick") == 0) {
        *cases = quick;
        return sizeof quick / sizeof quick[0];
    }
    if (strcmp(name, "default") == 0 || strcmp(name, "full") == 0) {
        *cases = standard;
        return sizeof standard / sizeof standard[0];
    }
    return 0;
}
