/* main.c: the `riftlab` command: dispatches to its subcommands
 * (DESIGN.md "Command line"). run/validate/report live in runner/; check,
 * net and clean come from the checker and containers libraries. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "export_shiviz.h"

#ifdef RIFTLAB_HAVE_CHECK_CLI
#include "checker/check_cli.h"
#endif
#ifdef RIFTLAB_HAVE_NET_CLI
#include "containers/net_cli.h"
#endif

#ifndef RIFTLAB_VERSION
#define RIFTLAB_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "usage: riftlab COMMAND [ARGS]\n"
            "\n"
            "  run [SCENARIO.yaml ...] [--seed N] [--backend netns|loopback] [--out DIR]\n"
            "                         bring a cluster up, drive it under faults, check it\n"
            "                         (no file: the built-in default scenario)\n"
            "  validate SCENARIO.yaml ...   check scenarios without running them\n"
            "  check HISTORY [...]    check a history file (riftlab check --help)\n"
            "  report RUNDIR          rebuild report.html, results.json, junit.xml of a run\n"
            "  export --shiviz RUNDIR [-o FILE]   the run's traces as a ShiViz log\n"
            "  net up|down|ls         network namespaces by hand (riftlab net --help)\n"
            "  clean                  remove everything a crashed run left behind\n"
            "  --help, --version\n"
            "\n"
            "Exit codes: 0 all checks as expected, 1 a check was not, 2 unknown,\n"
            "254 bad usage or scenario, 255 the harness failed.\n"
            "Scenario reference: docs/scenarios.md\n");
}

__attribute__((unused)) static int unavailable(const char *what)
{
    fprintf(stderr, "riftlab: '%s' is not available in this build\n", what);
    return 255;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 254;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("riftlab %s\n", RIFTLAB_VERSION);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return cli_run(argc - 1, argv + 1);
    if (strcmp(cmd, "validate") == 0)
        return cli_validate(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return cli_report(argc - 1, argv + 1);
    if (strcmp(cmd, "export") == 0)
        return export_main(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0) {
#ifdef RIFTLAB_HAVE_CHECK_CLI
        return check_main(argc - 1, argv + 1);
#else
        return unavailable(cmd);
#endif
    }
    if (strcmp(cmd, "net") == 0 || strcmp(cmd, "clean") == 0) {
#ifdef RIFTLAB_HAVE_NET_CLI
        return strcmp(cmd, "net") == 0 ? net_main(argc - 1, argv + 1)
                                       : clean_main(argc - 1, argv + 1);
#else
        return unavailable(cmd);
#endif
    }
    fprintf(stderr, "riftlab: unknown command '%s'\n", cmd);
    usage(stderr);
    return 254;
}
