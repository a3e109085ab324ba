/* cli.h: the runner's own subcommands. Each takes argv with argv[0] being
 * the subcommand name and returns the process exit code (DESIGN.md). */
#ifndef RIFTLAB_CLI_H
#define RIFTLAB_CLI_H

#define RL_EXIT_OK      0
#define RL_EXIT_INVALID 1
#define RL_EXIT_UNKNOWN 2
#define RL_EXIT_USAGE   254
#define RL_EXIT_HARNESS 255

int cli_run(int argc, char **argv);
int cli_validate(int argc, char **argv);
int cli_report(int argc, char **argv);

struct scn_errors;
/* Print a scenario loader's errors to stderr, one per line. */
void cli_print_errors(const struct scn_errors *e);

#endif
