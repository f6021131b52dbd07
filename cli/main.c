/* optref: the command-line interface (spec/cli.md). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

static const subcommand subcommands[] = {
    {"list", cmd_list, "list optimizers, problems, oracles or backends"},
    {"problem", cmd_problem, "print a problem instance (H, B, X0, X*, f*, spectrum)"},
    {"run", cmd_run, "run an optimizer on a problem: CSV of step,subopt"},
    {"hash", cmd_hash, "SHA-256 of the exact reference trajectory"},
    {"conform", cmd_conform, "the conformance gate: fast backends against the reference"},
};
#define NSUB (sizeof subcommands / sizeof subcommands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: optref [--version] [--help] <command> [<args>]\n\n"
               "optref: deterministic reference and verification suite for optimizers.\n\n"
               "commands:\n");
    for (size_t i = 0; i < NSUB; i++)
        fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    fprintf(f, "\nRun 'optref <command> --help' for the options of a command.\n"
               "Exit status: 0 success, 1 a conformance violation or failed check, 2 bad usage or input.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("optref %s (MPFR %s, GMP %s)\n", OPTREF_VERSION, mpfr_get_version(), gmp_version);
        return EXIT_PASS;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return EXIT_PASS;
    }
    for (size_t i = 0; i < NSUB; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0)
            return subcommands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "optref: error: unknown command '%s' (run 'optref --help')\n", argv[1]);
    return EXIT_USAGE;
}
