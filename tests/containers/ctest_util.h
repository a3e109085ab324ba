/* ctest_util.h: helpers shared by the containers root tests: unique net
 * names per test process, the path of the rl-echo/rl-net helpers, running
 * a command (fork + execve, never a shell) and capturing its output, and
 * UDP probes between hosts. */
#ifndef RIFTLAB_TESTS_CONTAINERS_UTIL_H
#define RIFTLAB_TESTS_CONTAINERS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "containers/hosts.h"

/* Exits 77 (skipped) unless root. */
void ctu_require_root(void);

/* "rlt<pid><tag>", unique per test process and tag. */
void ctu_net_name(char *out, size_t cap, char tag);

/* Path of a helper program next to this test executable (rl-echo, rl-net). */
void ctu_helper(const char *name, char *out, size_t cap);

/* Runs argv (argv[0] a full path) with stdout+stderr captured into out
 * (NUL-terminated, truncated to cap). Returns the exit status, or -1. */
int ctu_run(char *const *argv, char *out, size_t cap);
/* The same as user uid (and group uid), e.g. 65534 for "not root". */
int ctu_run_as(char *const *argv, int uid, char *out, size_t cap);

/* A UDP socket inside host `host`, bound to its address and `port` (0: any),
 * with a receive timeout of timeout_ms. */
int ctu_udp(const hosts_net *net, int host, uint16_t port, int timeout_ms);

/* Sends `count` datagrams from socket `tx` to host `to`:port and counts
 * how many of them socket `rx` receives, draining after each batch of 100
 * (so nothing is lost to a full buffer) until all are in or nothing came
 * for quiet_ms. Use a long quiet_ms where everything should arrive (it
 * only waits if something is missing) and a short one where nothing should. */
#define CTU_OPEN_MS 1000
#define CTU_CLOSED_MS 100
int ctu_udp_probe(const hosts_net *net, int tx, int to, uint16_t port, int rx, int count, int quiet_ms);

#endif
