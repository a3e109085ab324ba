/* cli_validate.c: `riftlab validate SCENARIO.yaml ...`: load and check
 * scenarios without running anything; print every problem as file:line:col. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "scenario_load.h"

/* Print a loader's errors to stderr (shared with `run`). */
void cli_print_errors(const scn_errors *e)
{
    for (int i = 0; i < e->n; i++)
        fprintf(stderr, "%s\n", e->msg[i]);
    if (e->dropped)
        fprintf(stderr, "(%d more errors not shown)\n", e->dropped);
}

int cli_validate(int argc, char **argv)
{
    int bad = 0, files = 0, quiet = 0, print = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: riftlab validate [--quiet] [--print] SCENARIO.yaml ...\n"
                   "       riftlab validate --default   (print the built-in scenario)\n"
                   "Checks each scenario (unknown keys, types, ranges, node names, options\n"
                   "that do not fit together) and prints every problem as file:line:col.\n"
                   "--print writes the scenario with every default filled in.\n"
                   "Exit 0 if all are valid, 254 otherwise. Reference: docs/scenarios.md\n");
            return RL_EXIT_OK;
        }
        if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = 1;
            continue;
        }
        if (strcmp(argv[i], "--print") == 0) {
            print = 1;
            continue;
        }
        if (strcmp(argv[i], "--default") == 0) {
            /* The built-in scenario, with every default filled in. */
            scenario s;
            scn_errors e;
            if (scenario_load_default(&s, &e) < 0) {
                cli_print_errors(&e);
                scn_errors_free(&e);
                return RL_EXIT_HARNESS;
            }
            scenario_write_yaml(&s, stdout);
            scenario_free(&s);
            files++;
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "riftlab validate: unknown option '%s'\n", argv[i]);
            return RL_EXIT_USAGE;
        }
        files++;
        scenario s;
        scn_errors e;
        if (scenario_load_file(argv[i], &s, &e) < 0) {
            cli_print_errors(&e);
            scn_errors_free(&e);
            bad++;
            continue;
        }
        if (print)
            scenario_write_yaml(&s, stdout);
        else if (!quiet)
            printf("%s: ok (%s, %s, %d nodes, %d nemesis entries)\n", argv[i], s.name,
                   scn_system_name(s.system.kind), s.system.nodes, s.nnemesis);
        scenario_free(&s);
    }
    if (!files) {
        fprintf(stderr, "usage: riftlab validate SCENARIO.yaml ...\n");
        return RL_EXIT_USAGE;
    }
    return bad ? RL_EXIT_USAGE : RL_EXIT_OK;
}
