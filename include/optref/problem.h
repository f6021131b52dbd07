/* The trace-quadratic problems, their exact optima, oracles and schedules
 * (spec/problems.md sections 2 to 4).
 *
 * f(X) = 1/2 tr(X^T H X) + tr(B^T X), X d x p, H symmetric positive definite.
 * Every quantity is computed in MPFR at the problem's working precision from
 * the generator's binary64 data, so the reference and every backend start
 * from identical inputs. */
#ifndef OPTREF_PROBLEM_H
#define OPTREF_PROBLEM_H

#include <stddef.h>
#include <stdint.h>

#include <mpfr.h>

#include "optref/mpmat.h"
#include "optref/params.h"
#include "optref/status.h"

typedef struct {
    const char *name;
    const char *summary;
    const param_spec *params;
    size_t nparams;
} problem_info;

/* The registry of problems, in a fixed order. */
size_t problem_count(void);
const problem_info *problem_info_at(size_t i);
const problem_info *problem_info_find(const char *name);

typedef struct {
    const problem_info *info;
    uint64_t seed;
    mpfr_prec_t prec;
    size_t d, p;
    int diagonal;     /* H is diagonal (nqm): H and A are stored as d x 1 */
    mpmat_t H;        /* d x d, or d x 1 when diagonal */
    mpmat_t A;        /* H^(1/2), same storage as H */
    mpmat_t B;        /* d x p */
    mpmat_t Y;        /* -A^(-1) B, d x p (rows-sq and rows-norm targets) */
    mpmat_t X0;       /* d x p */
    mpmat_t Xstar;    /* -H^(-1) B */
    mpfr_t fstar;     /* -1/2 tr(B^T H^(-1) B) */
    mpmat_t eigenvalues; /* d x 1, descending: the specified spectrum */
} problem;

/* Builds the instance `name` for seed at precision prec (>= 53) with the
 * options in opts (NULL: all defaults; the set must use the problem's table). */
optref_status problem_create(problem *P, const char *name, uint64_t seed,
                             mpfr_prec_t prec, const param_set *opts);
void problem_clear(problem *P);

/* HX = H X (X is d x k). */
optref_status problem_apply_H(mpmat_ptr HX, const problem *P, mpmat_srcptr X);
/* f(X) at the working precision. */
optref_status problem_f(mpfr_ptr f, const problem *P, mpmat_srcptr X);
/* subopt(X) = f(X) - f* evaluated as 1/2 tr((X - X*)^T H (X - X*)), which is
 * the same number without the cancellation of f(X) - f*. */
optref_status problem_subopt(mpfr_ptr s, const problem *P, mpmat_srcptr X);

/* ---- oracles ---- */

typedef enum {
    ORACLE_EXACT,     /* H X + B */
    ORACLE_ROWS_SQ,   /* (d / batch) A_S^T (A_S X - Y_S), S from stream 4, substream t */
    ORACLE_ROWS_NORM, /* (1/2)(d / batch) A_S^T R / ||R||_F, R = A_S X - Y_S (0 when R = 0) */
    ORACLE_GAUSS,     /* H X + B + C^(1/2) Z, C = H / batch, Z from stream 5, substream t */
    ORACLE_HVP        /* H U for a direction U */
} oracle_kind;

typedef struct {
    const char *name;
    oracle_kind kind;
    const char *summary;
} oracle_info;

size_t oracle_count(void);
const oracle_info *oracle_info_at(size_t i);
const oracle_info *oracle_info_find(const char *name);

/* G = the oracle's gradient at X on step t (t >= 1) with the given batch
 * (ignored by exact; rows-*: 1 <= batch <= 2^31; gauss: batch >= 1).
 * ORACLE_HVP is not a gradient: use problem_apply_H. */
optref_status oracle_gradient(mpmat_ptr G, const problem *P, oracle_kind kind,
                              size_t batch, uint64_t t, mpmat_srcptr X);

/* ---- schedules (spec/problems.md 4) ---- */

typedef enum { SCHEDULE_CONST, SCHEDULE_DEVA_FIG2, SCHEDULE_COSINE_WARMUP } schedule_kind;

typedef struct {
    schedule_kind kind;
    uint64_t T;         /* total steps (deva-fig2, cosine-warmup) */
    uint64_t warmup;    /* cosine-warmup: linear warmup steps w */
    mpfr_t lr, lr_min;  /* lr_min: cosine-warmup floor */
} schedule;

/* kind: "const", "deva-fig2" or "cosine-warmup"; lr and lr_min are copied. */
optref_status schedule_init(schedule *S, const char *kind, mpfr_srcptr lr, uint64_t T,
                            uint64_t warmup, mpfr_srcptr lr_min, mpfr_prec_t prec);
void schedule_clear(schedule *S);
/* eta = the learning rate of step t (t >= 1, the 1-based call counter). */
optref_status schedule_lr(mpfr_ptr eta, const schedule *S, uint64_t t);

#endif
