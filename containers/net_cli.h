/* net_cli.h: the `riftlab net` and `riftlab clean` commands (linked into
 * the riftlab binary by the runner; argv[0] is the subcommand name).
 *
 *   riftlab net up N [--name rlX]   make a net of N node hosts that stays
 *                                   until `net down` (prints hosts, addresses)
 *   riftlab net ls                  list nets with owner and state
 *   riftlab net down rlX [--force]  remove a net (--force: even if a running
 *                                   riftlab owns it)
 *   riftlab clean [--all]           remove what dead runs left (--all: also
 *                                   nets made by `net up`)
 *
 * Exit codes as DESIGN.md: 0 done, 254 bad usage or input (also: not root),
 * 255 the system refused (a namespace could not be made or removed). */
#ifndef RIFTLAB_CONTAINERS_NET_CLI_H
#define RIFTLAB_CONTAINERS_NET_CLI_H

int net_main(int argc, char **argv);
int clean_main(int argc, char **argv);

#endif
