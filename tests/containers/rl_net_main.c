/* rl_net_main.c: a test-only stand-in for the `riftlab` binary's `net` and
 * `clean` commands (`rl-net net up 5`, `rl-net clean`), so they can be run
 * and tested before the runner links net_main/clean_main into riftlab. */
#include <stdio.h>
#include <string.h>

#include "containers/net_cli.h"

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "net") == 0)
        return net_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "clean") == 0)
        return clean_main(argc - 1, argv + 1);
    fprintf(stderr, "usage: rl-net net up|ls|down ... | rl-net clean [--all]\n");
    return argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) ? 0 : 254;
}
