/* The optref command as users and scripts see it (spec/cli.md): exit
 * statuses, one-line errors naming what was wrong, no partial output files,
 * and resumed runs that continue the same hash chain. The binary is
 * $OPTREF (set by ci/run-tests.sh). */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    int status;
    char out[1 << 16];
    char err[4096];
} result;

static const char *optref(void)
{
    const char *p = getenv("OPTREF");
    return p != NULL ? p : "build/optref";
}

static void slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, size - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

/* Runs "optref ARGS" and captures its exit status, stdout and stderr. */
static void run(result *r, const char *args)
{
    char dir[] = "/tmp/optref-cli-XXXXXX", cmd[4096], out[64], err[64];
    ck_assert(mkdtemp(dir) != NULL);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(err, sizeof err, "%s/err", dir);
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s", optref(), args, out, err);
    int st = system(cmd);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
    unlink(out), unlink(err), rmdir(dir);
}

/* Exit 2, nothing on stdout, exactly one line on stderr containing `want`. */
static void expect_usage_error(const char *args, const char *want)
{
    result r;
    run(&r, args);
    ck_assert_msg(r.status == 2, "'%s': exit %d, expected 2", args, r.status);
    ck_assert_msg(r.out[0] == '\0', "'%s': wrote to stdout: %.80s", args, r.out);
    char *nl = strchr(r.err, '\n');
    ck_assert_msg(nl != NULL && nl[1] == '\0', "'%s': stderr is not one line: %s", args, r.err);
    ck_assert_msg(strstr(r.err, want) != NULL, "'%s': error '%s' does not mention '%s'", args,
                  r.err, want);
}

START_TEST(test_bad_input_is_exit_2_with_one_line)
{
    expect_usage_error("frobnicate", "frobnicate");
    expect_usage_error("problem nosuch --seed 1", "nosuch");
    expect_usage_error("problem trace-het", "--seed");
    expect_usage_error("problem trace-het --seed -3", "--seed");
    expect_usage_error("problem trace-het --seed 12x", "--seed");
    expect_usage_error("problem trace-het --seed 99999999999999999999999", "--seed");
    expect_usage_error("problem trace-het --seed 1 --prec 52", "--prec");
    expect_usage_error("problem trace-het --seed 1 --prec abc", "--prec");
    expect_usage_error("problem trace-dense --seed 1 --set d=0", "d=0");
    expect_usage_error("problem trace-dense --seed 1 --set dd=3", "valid options are");
    expect_usage_error("problem trace-dense --seed 1 --set spectrum=cubic", "loguniform");
    expect_usage_error("problem trace-dense --seed 1 --set lambda_min=nan", "lambda_min");
    expect_usage_error("problem trace-dense --seed 1 --set d", "key=value");
    expect_usage_error("list everything", "everything");
    expect_usage_error("run --opt sgd --problem trace-het --seed 1 --steps 3", "--lr");
    expect_usage_error("run --opt nosuch --problem trace-het --seed 1 --steps 3", "nosuch");
    expect_usage_error("run --opt sgd --problem trace-het --seed 1 --steps 3 --lr 0.1 "
                       "--set momentum=1.5", "momentum");
    expect_usage_error("run --opt sgd --problem trace-het --seed 1 --steps 3 --lr -1", "-1");
    expect_usage_error("run --opt sgd --problem trace-het --seed 1 --steps 3 --lr 0.1 "
                       "--oracle psychic", "psychic");
    expect_usage_error("run --opt sgd --problem trace-het --seed 1 --steps 3 --lr 0.1 "
                       "--backend cuda64", "cuda64");
    expect_usage_error("run --opt sgd --problem trace-het --seed 1 --steps 3 --lr 0.1 "
                       "--schedule wavy", "wavy");
    expect_usage_error("run --opt sgd --problem trace-het --seed 1 --steps 3 --lr 0.1 "
                       "--load-state /nonexistent/state", "/nonexistent/state");
}
END_TEST

START_TEST(test_help_and_version)
{
    const char *cmds[] = {"--help", "list --help", "problem --help", "run --help", "hash --help"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        result r;
        run(&r, cmds[i]);
        ck_assert_msg(r.status == 0 && strstr(r.out, "usage: optref") != NULL, "%s", cmds[i]);
    }
    result r;
    run(&r, "--version");
    ck_assert(r.status == 0 && strncmp(r.out, "optref ", 7) == 0);
}
END_TEST

START_TEST(test_failed_run_leaves_no_output_file)
{
    char path[] = "/tmp/optref-cli-out-XXXXXX", args[512];
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    close(fd);
    unlink(path);
    /* A bad --lr fails before any step: no file at all. */
    snprintf(args, sizeof args,
             "run --opt sgd --problem trace-het --seed 1 --steps 3 --lr nope --out %s", path);
    result r;
    run(&r, args);
    ck_assert_int_eq(r.status, 2);
    ck_assert_msg(access(path, F_OK) != 0, "a failed run left %s", path);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_msg(access(tmp, F_OK) != 0, "a failed run left %s", tmp);
    /* A good one writes the CSV: header and steps 0..3. */
    snprintf(args, sizeof args,
             "run --opt sgd --problem trace-het --seed 1 --steps 3 --lr 1e-4 --out %s", path);
    run(&r, args);
    ck_assert_int_eq(r.status, 0);
    char csv[4096];
    slurp(path, csv, sizeof csv);
    ck_assert_msg(strncmp(csv, "step,subopt\n0,", 14) == 0, "%s", csv);
    ck_assert(strstr(csv, "\n3,") != NULL);
    unlink(path);
}
END_TEST

START_TEST(test_resumed_hash_equals_full_hash)
{
    char path[] = "/tmp/optref-cli-state-XXXXXX", args[512];
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    close(fd);
    const char *common = "--opt sgd --problem trace-het --seed 5 --lr 1e-4 --set momentum=0.9 "
                         "--oracle rows-sq --batch 3 --schedule deva-fig2 --schedule-steps 10";
    result full, half, rest;
    snprintf(args, sizeof args, "hash %s --steps 10", common);
    run(&full, args);
    snprintf(args, sizeof args, "hash %s --steps 5 --save-state %s", common, path);
    run(&half, args);
    snprintf(args, sizeof args, "hash %s --steps 5 --load-state %s", common, path);
    run(&rest, args);
    ck_assert_int_eq(full.status, 0);
    ck_assert_int_eq(rest.status, 0);
    ck_assert_int_eq(strlen(full.out), 65);
    ck_assert_msg(strcmp(full.out, rest.out) == 0, "full %s resumed %s", full.out, rest.out);
    ck_assert_msg(strcmp(full.out, half.out) != 0, "the half run should differ");
    unlink(path);
}
END_TEST

/* --backend cpu64|cpu32: the same CSV (header, steps 0..T, numbers), the
 * reference's problem and oracles; a wrapper's extra oracle call works;
 * unknown backends and a hash of a fast backend are usage errors. */
START_TEST(test_run_fast_backends)
{
    const char *runs[] = {
        "run --opt sgd --problem trace-het --seed 3 --steps 4 --lr 1e-4 --set momentum=0.9",
        "run --opt sam --problem trace-het --seed 3 --steps 4 --lr 1e-4 --oracle rows-sq --batch 3",
        "run --opt smi --problem trace-dense --problem-set d=4 --problem-set p=6 --seed 3 "
        "--steps 4 --lr 1e-3 --set T=4 --set base=sgd"};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        result ref, r;
        char args[512];
        snprintf(args, sizeof args, "%s --backend ref", runs[i]);
        run(&ref, args);
        ck_assert_msg(ref.status == 0, "%s: %s", args, ref.err);
        for (int b = 0; b < 2; b++) {
            snprintf(args, sizeof args, "%s --backend %s", runs[i], b ? "cpu32" : "cpu64");
            run(&r, args);
            ck_assert_msg(r.status == 0, "%s: exit %d: %s", args, r.status, r.err);
            ck_assert_msg(strncmp(r.out, "step,subopt\n0,", 14) == 0, "%s: %s", args, r.out);
            int rows = 0;
            for (const char *p = r.out; (p = strchr(p, '\n')) != NULL; p++)
                rows++;
            ck_assert_msg(rows == 6 && strstr(r.out, "\n4,") != NULL, "%s: %s", args, r.out);
            /* the trajectory is the backend's: close to the reference's, and
             * in binary32 not equal to it */
            double s_ref = atof(strrchr(ref.out, ',') + 1), s = atof(strrchr(r.out, ',') + 1);
            ck_assert_msg(s > 0 && s_ref > 0 && s / s_ref > 0.99 && s / s_ref < 1.01,
                          "%s: final subopt %g, reference %g", args, s, s_ref);
            if (b == 1)
                ck_assert_msg(strcmp(r.out, ref.out) != 0, "%s: identical to ref", args);
        }
    }
    expect_usage_error("run --opt sgd --problem trace-het --seed 1 --steps 3 --lr 0.1 "
                       "--backend cpu16", "cpu16");
    expect_usage_error("run --opt sgd --problem trace-het --seed 1 --steps 3 --lr 0.1 "
                       "--backend cpu16", "cpu64, cpu32");
    expect_usage_error("hash --opt sgd --problem trace-het --seed 1 --steps 3 --lr 0.1 "
                       "--backend cpu64", "cpu64");
}
END_TEST

START_TEST(test_problem_json_fields)
{
    result r;
    run(&r, "problem trace-het --seed 1234 --json");
    ck_assert_int_eq(r.status, 0);
    const char *keys[] = {"\"name\":\"trace-het\"", "\"seed\":1234", "\"d\":9", "\"p\":9",
                          "\"H\":[[", "\"B\":[[", "\"X0\":[[", "\"Xstar\":[[", "\"fstar\":0",
                          "\"eigenvalues\":[5000,4999,4998,101,100,99,3,2,1]"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        ck_assert_msg(strstr(r.out, keys[i]) != NULL, "missing %s", keys[i]);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("command");
    tcase_add_test(tc, test_bad_input_is_exit_2_with_one_line);
    tcase_add_test(tc, test_help_and_version);
    tcase_add_test(tc, test_failed_run_leaves_no_output_file);
    tcase_add_test(tc, test_resumed_hash_equals_full_hash);
    tcase_add_test(tc, test_problem_json_fields);
    tcase_add_test(tc, test_run_fast_backends);
    suite_add_tcase(s, tc);
    return s;
}
