/* cli_run.c: `riftlab run`: parse the command line, load every scenario
 * (all validated before the first one starts), run them one after another
 * and combine their exit codes (the worst wins: 255 > 254 > 1 > 2 > 0). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "scenario_load.h"

int cli_run(int argc, char **argv)
{
    (void)argc, (void)argv;
    fprintf(stderr, "riftlab run: not implemented yet\n");
    return RL_EXIT_HARNESS;
}

int cli_report(int argc, char **argv)
{
    (void)argc, (void)argv;
    fprintf(stderr, "riftlab report: not implemented yet\n");
    return RL_EXIT_HARNESS;
}
