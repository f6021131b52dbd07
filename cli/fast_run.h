/* `optref run --backend cpu64|cpu32`: the fast backend's side of a
 * trajectory (spec/cli.md). The problem and its oracles stay the
 * reference's: each gradient is computed exactly at the backend's iterate
 * (converted exactly) and rounded once to the backend's format; the
 * reference optimizer mirrors the backend's state exactly after each step,
 * so observers, hashes and saved states read it as for `--backend ref`. */
#ifndef OPTREF_CLI_FAST_RUN_H
#define OPTREF_CLI_FAST_RUN_H

#include "optref/fast.h"
#include "optref/problem.h"

typedef struct {
    fast_backend b;
    fast_opt *f;
    void *Wb, *Gb;      /* the backend's parameter and gradient */
    const problem *P;   /* the oracle's problem, kind, batch and step */
    oracle_kind kind;
    size_t batch;
    uint64_t t;
    mpmat_t X, Y;       /* scratch for the oracle's exact conversions */
} fast_run;

/* Starts from o (its options, t and state, rounded to the format) and W,
 * which is rounded to the format in place; o's state becomes the rounded
 * one. On failure everything is released. */
optref_status fast_run_start(fast_run *r, fast_backend b, ref_opt *o, mpmat_ptr W,
                             const problem *P, oracle_kind kind, size_t batch);
/* One step t with gradient G (rounded here) and learning rate eta (rounded
 * to binary64): afterwards W and o's state are the backend's, exactly. */
optref_status fast_run_step(fast_run *r, ref_opt *o, mpmat_ptr W, mpmat_srcptr G,
                            mpfr_srcptr eta, uint64_t t);
void fast_run_clear(fast_run *r);

#endif
