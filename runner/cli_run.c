/* cli_run.c: `riftlab run` and `riftlab report`. run loads every scenario
 * first (all validated before the first one starts), runs them one after
 * another and returns the worst exit code (255 > 254 > 1 > 2 > 0). report
 * recomputes a finished run's verdicts and rewrites its outputs. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common/parse.h"
#include "report.h"
#include "results.h"
#include "run.h"
#include "scenario_load.h"

void run_install_signals(void);

static const char run_usage[] =
    "usage: riftlab run [SCENARIO.yaml ...] [--seed N] [--backend netns|loopback]\n"
    "                   [--out DIR] [--quiet | --verbose]\n"
    "\n"
    "Brings a cluster up, drives it with concurrent clients while the nemesis\n"
    "injects faults, checks the history and writes a run directory:\n"
    "  DIR/<scenario>/<UTC time>/ (default DIR: runs; runs/latest links the last)\n"
    "With no file it runs the built-in default scenario (riftlab validate --print\n"
    "shows any scenario with its defaults). Scenario reference: docs/scenarios.md\n"
    "\n"
    "  --seed N         seed for the nemesis schedule, clients and proxy decisions\n"
    "                   (default: the scenario's seed, else random; always printed)\n"
    "  --backend B      netns (default as root) or loopback (no privileges)\n"
    "  --out DIR        where run directories go (default runs)\n"
    "  --quiet          only the verdict table; --verbose: every event\n"
    "\n"
    "Exit: 0 every check as expected, 1 a check was not, 2 unknown, 254 bad usage\n"
    "or scenario, 255 the harness failed (or the run was interrupted).\n";

/* Where the sibling binaries are: $RIFTLAB_BIN, else riftlab's own directory. */
static const char *bin_dir(char *buf, size_t cap)
{
    const char *env = getenv("RIFTLAB_BIN");
    if (env && *env)
        return env;
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n <= 0)
        return ".";
    buf[n] = 0;
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = 0;
    return buf;
}

static int worse(int a, int b)
{
    static const int rank[] = {0, 3, 1};   /* 0 < 2 < 1 */
    int ra = a == 255 ? 5 : a == 254 ? 4 : a <= 2 ? rank[a] : 5;
    int rb = b == 255 ? 5 : b == 254 ? 4 : b <= 2 ? rank[b] : 5;
    return ra >= rb ? a : b;
}

int cli_run(int argc, char **argv)
{
    run_opts o = {.backend = SCN_BACKEND_AUTO, .verbosity = RUN_NORMAL};
    const char *files[64];
    int nfiles = 0;
    char err[256];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(run_usage, stdout);
            return RL_EXIT_OK;
        } else if (!strcmp(a, "--seed") && i + 1 < argc) {
            if (parse_uint64(argv[++i], 0, (1ull << 53) - 1, &o.seed, err, sizeof err) < 0) {
                fprintf(stderr, "riftlab run: --seed: %s\n", err);
                return RL_EXIT_USAGE;
            }
            o.has_seed = 1;
        } else if (!strcmp(a, "--backend") && i + 1 < argc) {
            int b = scn_lookup(scn_backend_names, 3, argv[++i]);
            if (b <= 0) {
                fprintf(stderr, "riftlab run: --backend: use netns or loopback\n");
                return RL_EXIT_USAGE;
            }
            o.backend = b;
        } else if (!strcmp(a, "--out") && i + 1 < argc) {
            o.out_dir = argv[++i];
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o.verbosity = RUN_QUIET;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o.verbosity = RUN_VERBOSE;
        } else if (a[0] == '-') {
            fprintf(stderr, "riftlab run: unknown or incomplete option '%s'\n%s", a, run_usage);
            return RL_EXIT_USAGE;
        } else if (nfiles < 64) {
            files[nfiles++] = a;
        } else {
            fprintf(stderr, "riftlab run: at most 64 scenarios per call\n");
            return RL_EXIT_USAGE;
        }
    }
    int n = nfiles ? nfiles : 1;
    scenario *sc = calloc((size_t)n, sizeof *sc);
    if (!sc)
        abort();
    int bad = 0;
    for (int i = 0; i < n; i++) {
        scn_errors e;
        int rc = nfiles ? scenario_load_file(files[i], &sc[i], &e) : scenario_load_default(&sc[i], &e);
        if (rc < 0) {
            cli_print_errors(&e);
            scn_errors_free(&e);
            bad = 1;
        }
    }
    if (bad) {
        for (int i = 0; i < n; i++)
            scenario_free(&sc[i]);
        free(sc);
        return RL_EXIT_USAGE;
    }
    char exe[PATH_MAX];
    o.bin_dir = bin_dir(exe, sizeof exe);
    run_install_signals();
    int code = RL_EXIT_OK;
    for (int i = 0; i < n; i++) {
        if (!run_interrupted)
            code = worse(code, run_scenario(&sc[i], &o));
        scenario_free(&sc[i]);
    }
    free(sc);
    return code;
}

int cli_report(int argc, char **argv)
{
    if (argc != 2 || argv[1][0] == '-') {
        int help = argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        fprintf(help ? stdout : stderr,
                "usage: riftlab report RUNDIR\nRecomputes the verdicts of a finished run and "
                "rewrites its results.json, junit.xml and report.html.\n");
        return help ? RL_EXIT_OK : RL_EXIT_USAGE;
    }
    const char *dir = argv[1];
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/scenario.yaml", dir);
    scenario s;
    scn_errors e;
    if (scenario_load_file(path, &s, &e) < 0) {
        cli_print_errors(&e);
        scn_errors_free(&e);
        return RL_EXIT_USAGE;
    }
    outcome o;
    char err[512];
    if (results_compute(dir, &s, s.seed, &o, err, sizeof err) < 0) {
        fprintf(stderr, "riftlab report: %s\n", err);
        scenario_free(&s);
        return RL_EXIT_USAGE;
    }
    int rc = results_write(dir, &s, &o) == 0 && report_write(dir, &s, &o) == 0 ? 0 : -1;
    results_print(stdout, &s, &o);
    printf("\n  report: %s/report.html\n", dir);
    int code = rc < 0 ? RL_EXIT_HARNESS : o.exit_code;
    outcome_free(&o);
    scenario_free(&s);
    return code;
}
