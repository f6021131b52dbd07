/* One optimizer run on one problem: the loop shared by `optref run` and
 * `optref hash` (spec/cli.md). */
#ifndef OPTREF_CLI_TRAJECTORY_H
#define OPTREF_CLI_TRAJECTORY_H

#include <stdint.h>
#include <getopt.h>
#include <stdio.h>

#include <nettle/sha2.h>

#include "optref/problem.h"
#include "optref/ref_optim.h"

typedef struct {
    const char *cmd;          /* "run" or "hash", for messages */
    const char *opt;          /* optimizer name */
    const char *problem;      /* problem name */
    uint64_t seed;
    uint64_t steps;
    mpfr_prec_t prec;
    const char *oracle;       /* default "exact" */
    uint64_t batch;           /* default 1 */
    const char *lr;           /* NULL: the optimizer's lr option */
    const char *schedule;     /* default "const" */
    uint64_t warmup;          /* cosine-warmup */
    uint64_t schedule_steps;  /* T of the schedule; 0: the last step of this run */
    const char *lr_min;       /* cosine-warmup, default "0" */
    const char **opt_sets;    /* optimizer options key=value */
    size_t nopt_sets;
    const char **prob_sets;   /* problem options key=value */
    size_t nprob_sets;
    const char *load_state;   /* resume from this file */
    const char *save_state;   /* write the final state here */
    const char *out;          /* run: the CSV file (default standard output) */
    const char *backend;      /* run: default "ref" */
    int help;                 /* --help was given */
} run_config;

/* Parses the options of run and hash (cmd); returns EXIT_PASS, or
 * EXIT_USAGE after printing the error. */
int run_config_parse(run_config *c, const char *cmd, int argc, char **argv);
void run_config_free(run_config *c);

/* Called after each step t (and once with t = start for the initial point). */
typedef int (*step_observer)(void *ctx, uint64_t t, const problem *P, const ref_opt *o,
                             mpmat_srcptr W);

/* Builds the problem and optimizer, steps, observes, and saves the state
 * when asked. The SHA-256 chain of the state serialisations is kept in
 * `chain` (h_t = SHA-256(h_{t-1} || serialisation after step t), h_0 = the
 * hash of the initial serialisation) and carried in saved states so that a
 * resumed run continues the same chain. Returns an exit status. */
int run_trajectory(const run_config *c, step_observer observe, void *ctx,
                   uint8_t chain[SHA256_DIGEST_SIZE]);

#endif
