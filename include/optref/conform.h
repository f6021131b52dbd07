/* The conformance gate (spec/conformance.md): how far a backend lands from
 * the reference, relative to what its arithmetic could possibly achieve.
 *
 * Level 1, the teacher-forced step: the reference runs a case at its
 * working precision (the teacher); before each of its steps, the state,
 * parameter, gradient (and oracle answers) are rounded to the backend's
 * format; the backend takes one step from them, the reference recomputes the
 * same step exactly from the same rounded inputs, and a running error bound
 * of that step (conformance/rerr.h) gives each output element its scale.
 * ratio = |backend - reference| / (u scale); a case passes when every ratio
 * is at most the optimizer's threshold (derived in proofs/). */
#ifndef OPTREF_CONFORM_H
#define OPTREF_CONFORM_H

#include <stddef.h>
#include <stdint.h>

#include "optref/fast.h"

/* One case: an optimizer with options on a problem, for some steps. */
typedef struct {
    const char *name;         /* case label, e.g. "adam/trace-het" */
    unsigned tier;            /* 0: in every suite; 1: default and full; 2: full only */
    const char *opt;
    const char *options[8];   /* key=value, NULL-terminated */
    const char *problem;
    const char *problem_options[4];
    uint64_t seed;
    const char *oracle;       /* exact, rows-sq, rows-norm, gauss */
    unsigned batch;
    unsigned steps;
    const char *lr;           /* the learning rate of every step (const schedule) */
} conform_case;

/* The levels of spec/conformance.md 2 implemented here. */
typedef enum { CONFORM_STEP = 1, CONFORM_TRAJECTORY = 2, CONFORM_STATISTICS = 3 } conform_level;
#define CONFORM_LEVEL_COUNT 3

/* The worst comparison of a (case, backend, level), and where it happened. */
typedef struct {
    conform_level level;
    double ratio;             /* worst |backend - ref| / (u scale) */
    double threshold;
    unsigned long near;       /* elements near a discontinuity (either outcome accepted) */
    unsigned long compared;   /* elements compared */
    unsigned long unbounded;  /* of those, elements whose bound is not finite: not judged */
    /* the worst element */
    unsigned step;
    char tensor[24];
    size_t row, col;
    double ref, observed, error, scale;
    int passed;
    /* Bases adopted (spec/conformance.md 3, levels 1 and 2): where the step
     * bound of an eigenbasis optimizer (soap, the deva-sinf family) leaves a
     * column of Q_L or Q_R loose, the backend's basis is checked to be a valid
     * decomposition of its own factor (orthogonality, invariant-subspace or QR
     * residual, clusters; proofs/conformance-adopted-basis.md) and the
     * reference continues from it. adopted counts the bases (one per side and
     * step) so taken; adopt_ratio is the worst validation ratio, which passes
     * at most adopt_threshold (30). A basis that fails is a violation: its
     * tensor is "Q_L (basis)" or "Q_R (basis)", observed and error hold the
     * validation ratio, scale its threshold, and ratio is that ratio scaled
     * to the case's threshold (validation ratio / adopt_threshold x
     * threshold), so the verdict rule ratio <= threshold holds for it too. */
    unsigned long adopted;
    double adopt_ratio, adopt_threshold;
} conform_result;

/* Runs a case on a backend at a level. Returns OPTREF_OK when the case
 * could be judged (res->passed says the verdict), an error otherwise (bad
 * case, unsupported optimizer, no bound for it). */
optref_status conform_run(const conform_case *c, fast_backend b, conform_level level,
                          conform_result *res);
const char *conform_level_name(conform_level level); /* "step", "trajectory", "statistics" */

/* Level 3 (conformance/statistics.c): `seeds` closed-loop runs of `steps`
 * steps each, from seeds c->seed, c->seed + 1, ...; res->ratio is the
 * largest quartile distance over its confidence half-width (threshold 1),
 * res->near counts the runs excluded (subopt not finite or not positive). */
optref_status conform_statistics(const conform_case *c, fast_backend b, unsigned seeds,
                                 unsigned steps, conform_result *res);

/* A bound exists for this optimizer (conformance/bounds.c). */
int conform_has_bound(const char *opt);

/* Every case (conformance/suite.c); returns their number. */
size_t conform_cases(const conform_case **cases);
/* The tier of a suite: "quick" 0, "default" 1, "full" 2; -1 if unknown. A
 * suite runs the cases whose tier is at most its own. */
int conform_suite_tier(const char *name);

#endif
