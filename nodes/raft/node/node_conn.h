/* node_conn.h: raft-node's RESP client connections on the event loop, with
 * pipelining and deferred replies.
 *
 * A client may pipeline many commands; replies must leave in command order
 * even though a SET is answered only after it commits while a GET in
 * sequential mode is answered at once. Each connection therefore keeps a
 * FIFO of reply slots behind the first deferred one: an immediate reply is
 * written straight to the output buffer when nothing is waiting, otherwise
 * it becomes a ready slot; a deferred reply is a slot filled later. The
 * ready prefix of the FIFO moves to the output buffer whenever a slot is
 * filled. A connection that closes while replies are pending is freed only
 * when the last of them is filled (the filler never sees a dangling slot).
 *
 * (A private helper: common/ had no RESP server when raft-node was built.) */
#ifndef RIFTLAB_NODE_CONN_H
#define RIFTLAB_NODE_CONN_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/loop.h"
#include "common/resp.h"

typedef struct node_slot {
    struct node_slot *next;
    int ready;
    buf reply;
} node_slot;

typedef struct node_conn node_conn;
typedef struct node_srv node_srv;

/* Called for each complete command. Write the reply with node_conn_reply or
 * defer it with node_conn_defer; exactly one of the two per command. */
typedef void (*node_command_fn)(node_conn *c, const resp_command *cmd, void *arg);

struct node_conn {
    node_srv *srv;
    int fd;
    resp_reader *rd;
    buf out;
    node_slot *head, *tail;     /* replies queued behind a deferred one */
    uint64_t pending;           /* deferred replies not yet filled */
    int closed;                 /* socket gone; freed when pending reaches 0 */
    int close_after_write;      /* QUIT */
    int writing;                /* LOOP_WRITE registered */
    int mode;                   /* the application's per-connection state (consistency) */
    uint64_t last_write;        /* the application's: log index of this client's last write */
    node_conn *prev, *next;     /* all live connections */
};

struct node_srv {
    loop *l;
    int fd;
    node_command_fn fn;
    void *arg;
    node_conn *conns;
    uint64_t accepted, open, commands, protocol_errors;
};

/* Listen on addr (TCP). Returns 0 or -1 with errno set. */
int node_srv_open(node_srv *s, loop *l, const struct sockaddr_in *addr,
                  node_command_fn fn, void *arg);
/* Close every connection (pending slots are dropped) and the listener. */
void node_srv_close(node_srv *s);

/* Where to write an immediate reply to the current command. */
buf *node_conn_reply(node_conn *c);
/* Reserve a reply slot to fill later with node_conn_fill. */
node_slot *node_conn_defer(node_conn *c);
/* The slot's reply is written (into slot->reply): send what is now in order.
 * Safe after the client disconnected (the reply is dropped). */
void node_conn_fill(node_conn *c, node_slot *slot);

#endif
