/* harness.h: helpers for the faultproxy end-to-end tests: start the real
 * binary (optionally under valgrind) with loopback "nodes" that are plain
 * UDP sockets of the test, talk to its control port, stop it. */
#ifndef RIFTLAB_TEST_PROXY_HARNESS_H
#define RIFTLAB_TEST_PROXY_HARNESS_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/resp.h"

#define H_MAX_NODES 8

typedef struct harness {
    pid_t pid;
    int nnodes;
    int node_fd[H_MAX_NODES];        /* the test's socket acting as node i+1 */
    uint16_t proxy_port[H_MAX_NODES];/* where to send to reach node i+1 */
    uint16_t control_port;
    uint16_t tcp_port;               /* the first TCP listener, if any */
    int ctl_fd;
    resp_reader *rd;
    char dir[256];                   /* temp dir with ready/stats/log files */
} harness;

/* Start faultproxy with n nodes (ids 1..n, names n1..n), the given seed and
 * extra args (NULL-terminated). valgrind != 0 runs it under valgrind. */
void h_start(harness *h, int n, uint64_t seed, int valgrind, const char *const *extra);
/* cmocka teardown: kill a proxy left running by a failed test. */
int h_teardown(void **state);
/* SIGTERM, wait; returns the exit status (or 128+signal). Closes sockets. */
int h_stop(harness *h);
/* Send a command (words separated by spaces) and return the reply; free with resp_value_free. */
void h_cmd(harness *h, const char *line, resp_value *reply);
/* Send a command and assert the reply is +OK. */
void h_ok(harness *h, const char *line);
/* A JSON counter of PROXY.STATS for link from->to (names), e.g. "dropped". */
uint64_t h_stat(harness *h, const char *from, const char *to, const char *field);
/* Send from node `from` (1-based) to node `to` via the proxy. */
void h_send(harness *h, int from, int to, const void *d, size_t len);
/* Receive at node `to` with a timeout; returns the length or -1 on timeout. */
ssize_t h_recv(harness *h, int to, void *d, size_t cap, int timeout_ms);
/* Drain node `to` until nothing came for quiet_ms; returns datagrams read. */
int h_drain(harness *h, int to, int quiet_ms);
uint64_t h_now_ns(void);
/* Path of a file in the harness's temp dir. */
const char *h_path(harness *h, const char *name, char *out, size_t cap);

#endif
