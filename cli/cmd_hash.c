/* optref hash: the SHA-256 of the exact reference trajectory (spec/cli.md). */
#include <stdio.h>

#include "cli.h"
#include "trajectory.h"

static void help(void)
{
    printf("usage: optref hash --opt NAME --problem NAME --seed S --steps T [options]\n\n"
           "Prints the SHA-256 (hex) of the exact serialisation of the reference trajectory:\n"
           "h_0 = SHA-256(initial parameter and state), h_t = SHA-256(h_(t-1) || parameter and\n"
           "state after step t) (docs/state-format.md). Equal on every machine, compiler and\n"
           "optimisation level. A run resumed with --load-state continues the same chain.\n"
           "Options as 'optref run' (--prec, --oracle, --batch, --lr, --schedule, --set, ...),\n"
           "without --out.\n");
}

static int no_observer(void *ctx, uint64_t t, const problem *P, const ref_opt *o, mpmat_srcptr W)
{
    (void)ctx, (void)t, (void)P, (void)o, (void)W;
    return 0;
}

int cmd_hash(int argc, char **argv)
{
    run_config c;
    int rc = run_config_parse(&c, "hash", argc, argv);
    if (rc == EXIT_PASS && c.help)
        help();
    else if (rc == EXIT_PASS && c.out != NULL)
        rc = cli_usage_error("hash", "--out is not an option of hash (the hash goes to standard output)");
    else if (rc == EXIT_PASS) {
        uint8_t chain[SHA256_DIGEST_SIZE];
        rc = run_trajectory(&c, no_observer, NULL, chain);
        if (rc == EXIT_PASS) {
            for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
                printf("%02x", chain[i]);
            printf("\n");
        }
    }
    run_config_free(&c);
    return rc;
}
