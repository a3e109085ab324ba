/* node_net.h: raft-node's UDP link to its peers.
 *
 * One UDP socket. Each datagram is the DESIGN wire format (common/wire.h):
 * header || body || tag?, with the HMAC tag when a key is configured. The
 * body carries the sender's vector clock (vclock_encode) followed by the
 * Raft message (raft_msg_encode), so trace events can be ordered causally
 * across nodes. Datagrams that fail any check are dropped and counted by
 * reason; nothing a peer sends can crash the node. */
#ifndef RIFTLAB_NODE_NET_H
#define RIFTLAB_NODE_NET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/wire.h"
#include "node_config.h"

typedef struct node_net_stats {
    uint64_t sent, send_errors, received;
    wire_rejects rej;             /* dropped, by reason (a bad vclock or Raft body is malformed) */
} node_net_stats;

typedef struct node_net {
    int fd;
    uint16_t self;
    uint32_t cluster;
    int has_key;
    wire_key key;
    const node_config *cfg;
    uint64_t seq[NODE_MAX_ID + 1];   /* next sequence number per destination */
    node_net_stats stats;
} node_net;

/* Bind the UDP socket (non-blocking). Loads the key file when the config
 * names one. Returns 0, or -1 with a reason in err. */
int node_net_open(node_net *n, const node_config *cfg, char *err, size_t errlen);
void node_net_close(node_net *n);

/* Send one message body of Raft type `type` to peer dst, stamped with the
 * Lamport time and our vector clock. Best effort (UDP); failures counted.
 * Returns 0 when the datagram left with header seq *seq, else -1. */
int node_net_send(node_net *n, uint16_t dst, uint8_t type, uint64_t lamport,
                  const vclock *vc, const void *body, size_t len, uint64_t *seq);

/* A received, verified datagram. */
typedef struct node_datagram {
    wire_header h;           /* on a reject: as far as it could be read (src 0: unknown) */
    int reject;              /* enum wire_reject: why it was dropped (0: valid) */
    vclock vc;
    const uint8_t *body;     /* the Raft message, inside the caller's buffer */
    size_t len;
} node_datagram;

/* Receive one datagram into buf. Returns 1 with *d filled for a valid one,
 * 0 for a datagram that was dropped (counted), -1 when nothing is waiting. */
int node_net_recv(node_net *n, uint8_t *buf, size_t cap, node_datagram *d);
/* The body of a valid datagram did not decode: count it as malformed. */
void node_net_malformed(node_net *n, node_datagram *d);

/* Verify a datagram already in memory (used by node_net_recv and tests).
 * A dropped datagram is counted and d->reject says why. */
int node_net_check(node_net *n, const uint8_t *buf, size_t len, node_datagram *d);

#endif
