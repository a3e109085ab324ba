/* check_cli.h: `riftlab check`, callable from the riftlab command's main.
 * argv[0] is "check"; returns the exit code (0 valid, 1 invalid, 2 unknown,
 * 254 bad usage or input). */
#ifndef RIFTLAB_CHECKER_CHECK_CLI_H
#define RIFTLAB_CHECKER_CHECK_CLI_H

int check_main(int argc, char **argv);

#endif
