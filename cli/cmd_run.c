/* optref run: one trajectory as CSV (spec/cli.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "trajectory.h"

static void help(void)
{
    printf("usage: optref run --opt NAME --problem NAME --seed S --steps T [options]\n\n"
           "Runs an optimizer on a problem and writes CSV: step,subopt (step 0 is the initial\n"
           "point); for optimizers with a Gamma state on a square problem (deva-linf, deva-sinf)\n"
           "also h_gamma = sum_ij H_ij Gamma_ij and h_sum = sum_ij H_ij (the DeVA plot).\n\n"
           "  --backend NAME        ref (default): the exact MPFR reference; cpu64, cpu32: the\n"
           "                        fast CPU backends (binary64, binary32), fed the reference's\n"
           "                        gradients at their own iterate, rounded to their format\n"
           "  --prec BITS           working precision, 53..65536 (default 256)\n"
           "  --oracle NAME         exact (default), rows-sq, rows-norm, gauss\n"
           "  --batch B             minibatch size of rows-sq, rows-norm, gauss (default 1)\n"
           "  --lr X                base learning rate (default: the optimizer's lr option)\n"
           "  --schedule NAME       const (default), deva-fig2, cosine-warmup\n"
           "  --schedule-steps T    the schedule's total T (default: the last step of this run)\n"
           "  --warmup W, --lr-min X  cosine-warmup's warmup steps and floor\n"
           "  --set key=value       an optimizer option (see 'optref list optimizers')\n"
           "  --problem-set k=v     a problem option (see 'optref list problems')\n"
           "  --save-state FILE     write the exact final parameter and state\n"
           "  --load-state FILE     resume from a saved state (continues its step count)\n"
           "  --out FILE            write the CSV here (atomically) instead of standard output\n");
}

typedef struct {
    FILE *f;
    int header_done;
    mpfr_t s, hg, hs;
} csv_ctx;

static void put_number(FILE *f, mpfr_srcptr x)
{
    mpfr_t r;
    char buf[32];
    mpfr_init2(r, 53);
    optref_round_format(r, x, OPTREF_BINARY64);
    optref_shortest_b64(buf, r);
    fputs(buf, f);
    mpfr_clear(r);
}

static int write_row(void *ctx, uint64_t t, const problem *P, const ref_opt *o, mpmat_srcptr W)
{
    csv_ctx *c = ctx;
    if (problem_subopt(c->s, P, W) != OPTREF_OK)
        return -1;
    mpmat_ptr gamma = ref_opt_state(o, "Gamma");
    int with_gamma = gamma != NULL && !P->diagonal && P->d == P->p;
    if (!c->header_done)
        fprintf(c->f, with_gamma ? "step,subopt,h_gamma,h_sum\n" : "step,subopt\n");
    c->header_done = 1;
    fprintf(c->f, "%llu,", (unsigned long long)t);
    put_number(c->f, c->s);
    if (with_gamma) {
        mpmat_dot(c->hg, P->H, gamma); /* sum_ij H_ij Gamma_ij, correctly rounded */
        mpmat_sum(c->hs, P->H);
        fputc(',', c->f), put_number(c->f, c->hg);
        fputc(',', c->f), put_number(c->f, c->hs);
    }
    fputc('\n', c->f);
    return ferror(c->f) ? -1 : 0;
}

int cmd_run(int argc, char **argv)
{
    run_config c;
    int rc = run_config_parse(&c, "run", argc, argv);
    if (rc != EXIT_PASS || c.help) {
        if (c.help)
            help();
        run_config_free(&c);
        return rc;
    }
    csv_ctx ctx = {.f = stdout, .header_done = 0};
    char *tmp = NULL;
    if (c.out != NULL) {
        size_t len = strlen(c.out) + 8;
        tmp = malloc(len);
        if (tmp != NULL)
            snprintf(tmp, len, "%s.tmp", c.out);
        if (tmp == NULL || (ctx.f = fopen(tmp, "w")) == NULL) {
            rc = cli_usage_error("run", "cannot write '%s'", tmp ? tmp : c.out);
            free(tmp);
            run_config_free(&c);
            return rc;
        }
    }
    mpfr_inits2(c.prec, ctx.s, ctx.hg, ctx.hs, (mpfr_ptr)0);
    uint8_t chain[SHA256_DIGEST_SIZE];
    rc = run_trajectory(&c, write_row, &ctx, chain);
    mpfr_clears(ctx.s, ctx.hg, ctx.hs, (mpfr_ptr)0);
    if (c.out != NULL) {
        if (fclose(ctx.f) != 0 && rc == EXIT_PASS)
            rc = cli_usage_error("run", "cannot write '%s'", tmp);
        if (rc == EXIT_PASS && rename(tmp, c.out) != 0)
            rc = cli_usage_error("run", "cannot rename '%s' to '%s'", tmp, c.out);
        if (rc != EXIT_PASS)
            remove(tmp);
    } else if (fflush(stdout) != 0 && rc == EXIT_PASS) {
        rc = cli_usage_error("run", "cannot write to standard output");
    }
    free(tmp);
    run_config_free(&c);
    return rc;
}
