/* relay.h: faultproxy's UDP relay matrix: one socket per node, bytes moved
 * with recvmmsg/sendmmsg, delayed datagrams in the pool's heap behind one
 * timer of the common event loop. Every fault decision is delegated to the engine (rules.h).
 *
 * Node i reaches node j by sending to proxy port P_j; the relay forwards the
 * datagram to j's real address from port P_i, so j's replies come back
 * through the proxy too. The sender is recognised by its source address
 * (the node table); datagrams from unknown addresses are dropped and counted.
 * IPv4 only (loopback and the 10.77.0.0/16 namespaces). */
#ifndef RIFTLAB_PROXY_RELAY_H
#define RIFTLAB_PROXY_RELAY_H

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/loop.h"
#include "rules.h"

typedef struct relay relay;

/* One socket per engine node, bound to bind_addr:proxy_port[i] (0: any free
 * port). node_addr[i] is node i's real address. dlog: decision log or NULL. */
relay *relay_new(loop *l, proxy_engine *e, const struct sockaddr_in *node_addr,
                 const uint16_t *proxy_port, const char *bind_addr, size_t max_queued,
                 FILE *dlog, char *err, size_t errlen);
void relay_free(relay *r);   /* closes the sockets; queued datagrams are discarded */

int relay_node_fd(const relay *r, int i);
uint16_t relay_port(const relay *r, int i);   /* the port actually bound */

/* After relaying traffic, keep polling the node sockets for spin_ns more
 * (renewed by every datagram, at most 1 ms per wake-up) before the loop
 * sleeps again: lower latency for a core's worth of CPU while traffic
 * flows. 0 (the default): sleep at once. */
void relay_set_spin(relay *r, uint64_t spin_ns);

/* Event handler: the socket of node i is readable. */
void relay_on_readable(relay *r, int i);

/* Send a datagram now from P_from to node `to` (PROXY.FORGE). */
int relay_forge(relay *r, int from, int to, const uint8_t *d, size_t len, char *err, size_t errlen);
/* Write a control event to the decision log ({"t":..,"control":"..."}). */
void relay_log_control(relay *r, int argc, char **argv);

/* Last cluster id seen in a valid header (0 before any). */
uint32_t relay_cluster(const relay *r);
/* Extra PROXY.STATS members: "queued","unknown_source","malformed","forged". */
void relay_stats_json(const relay *r, buf *out);
size_t relay_queued(const relay *r);

#endif
