/* ctl.h: faultproxy's control commands (PROXY.RULE, PROXY.PARTITION, ...),
 * parsed from a RESP command's argv and applied to the engine. No sockets:
 * the relay and the TCP side are reached through the callbacks below, so
 * the parser is unit-tested and fuzzed on its own. The syntax is documented
 * in docs/faultproxy.md. */
#ifndef RIFTLAB_PROXY_CTL_H
#define RIFTLAB_PROXY_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "rules.h"
#include "tcpfaults.h"

#define PROXY_MAX_TCP 16

typedef struct proxy_ctl {
    proxy_engine *eng;
    /* TCP listeners: names and their fault rules (owned by the caller). */
    int ntcp;
    const char (*tcp_names)[PROXY_NAME_MAX];
    proxy_tcp_rule *tcp_rules;
    void *arg;
    /* Called after a listener's rule changed (may be NULL). */
    void (*tcp_changed)(void *arg, int listener);
    /* Appends extra top-level JSON members to PROXY.STATS, each followed by
     * a comma ("queued":3,). May be NULL. */
    void (*stats_extra)(void *arg, buf *out);
    /* Sends a forged datagram from node `from` to node `to`. Returns 0 or -1
     * (with a reason in err). NULL: PROXY.FORGE is refused. */
    int (*forge)(void *arg, int from, int to, const uint8_t *dgram, size_t len,
                 char *err, size_t errlen);
    /* Appends extra INFO lines ("queued:3\r\n"). May be NULL. */
    void (*info_extra)(void *arg, buf *out);
    uint32_t cluster;   /* cluster id for forged datagrams (last one seen) */
} proxy_ctl;

/* Execute one command and append its RESP reply to out. Never fails: bad
 * commands get a RESP error naming what is wrong. Returns 1 when the command
 * changed the engine state (for logging), else 0. */
int proxy_ctl_exec(proxy_ctl *c, int argc, char **argv, buf *out);

/* The PROXY.STATS JSON object (also written to the stats file at exit). */
void proxy_stats_json(proxy_ctl *c, buf *out);

#endif
