/* resp_server.h: a RESP2 TCP server on the event loop (nodes' client port,
 * the proxy's and the runner's control endpoints).
 *
 * The server accepts connections, parses commands (pipelining and inline
 * commands included) and calls one handler per command. The handler writes
 * its reply into resp_conn_out(c) with the resp_put_* encoders, or defers
 * it: a Raft leader answers a SET only once the entry commits.
 *
 *     static void handle(resp_conn *c, resp_command *cmd, void *arg) {
 *         if (is_set(cmd)) {                           // answered later
 *             resp_ticket t = resp_conn_defer(c);
 *             remember(t, ...);
 *             return;
 *         }
 *         resp_put_simple(resp_conn_out(c), "PONG");   // answered now
 *     }
 *     ... on commit:  resp_server_reply_ticket(srv, t, "+OK\r\n", 5);
 *
 * Replies leave in request order, whatever order deferred replies are
 * completed in: every command takes the next place in its connection's
 * queue of reply slots, and a reply that is ready waits behind an earlier
 * slot still pending. Replying to a connection that has closed meanwhile is
 * a harmless no-op, so callers never track connection lifetimes.
 *
 * Limits: a connection whose queued replies exceed RESP_SERVER_MAX_QUEUED
 * bytes or RESP_SERVER_MAX_SLOTS replies is not read from until it drains
 * (backpressure, not an error); input beyond the RESP reader's limits or
 * malformed input is answered with -ERR and the connection closed once the
 * replies before it are out. At most RESP_SERVER_MAX_CONNS connections.
 *
 * Security: there is no authentication. Control endpoints must listen only
 * on loopback or on addresses inside namespaces riftlab created (never on
 * a routed interface); TCP has no file mode, so that choice of address is
 * what keeps them private.
 *
 * Single-threaded: call everything from the loop's thread. */
#ifndef RIFTLAB_RESP_SERVER_H
#define RIFTLAB_RESP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "loop.h"
#include "resp.h"

#define RESP_SERVER_MAX_QUEUED (32u << 20)
#define RESP_SERVER_MAX_SLOTS  65536
#define RESP_SERVER_MAX_CONNS  4096

typedef struct resp_server resp_server;
typedef struct resp_conn resp_conn;

/* One deferred reply: which connection, which place in its queue. */
typedef struct resp_ticket {
    uint64_t conn;
    uint64_t seq;
} resp_ticket;

typedef void (*resp_handler_fn)(resp_conn *c, resp_command *cmd, void *arg);
/* Called once per connection as it closes (data is still readable). */
typedef void (*resp_close_fn)(resp_conn *c, void *arg);

/* Listen on hostport ("127.0.0.1:0" for any free port). */
resp_server *resp_server_new(loop *l, const char *hostport, resp_handler_fn fn, void *arg,
                             char *err, size_t errlen);
/* Closes every connection (calling the close callback) and the listener. */
void resp_server_free(resp_server *s);
void resp_server_on_close(resp_server *s, resp_close_fn fn);
int resp_server_port(const resp_server *s);
size_t resp_server_conns(const resp_server *s);   /* open connections */

/* ---- inside the handler ---- */

/* Where the current command's reply goes (write exactly one RESP value). */
buf *resp_conn_out(resp_conn *c);
/* Defer the current command's reply; fill it later with
 * resp_server_reply_ticket (or resp_server_reply). Nothing may be written
 * to resp_conn_out for this command. */
resp_ticket resp_conn_defer(resp_conn *c);
/* Stable id of the connection (never reused by this server). */
uint64_t resp_conn_id(const resp_conn *c);
resp_server *resp_conn_server(resp_conn *c);
/* Per-connection state (e.g. the CONSISTENCY mode); NULL at first. Free it
 * in the close callback. */
void *resp_conn_data(const resp_conn *c);
void resp_conn_set_data(resp_conn *c, void *data);
/* Peer address as "ip:port". */
const char *resp_conn_peer(const resp_conn *c);
/* Close once every reply queued so far (deferred ones included) is sent;
 * later commands on this connection are not read (e.g. QUIT). */
void resp_conn_close(resp_conn *c);

/* ---- any time later ---- */

/* Fill the deferred reply of ticket t with n bytes of RESP. Returns 0, or
 * -1 (doing nothing) if the connection closed or that reply was filled. */
int resp_server_reply_ticket(resp_server *s, resp_ticket t, const char *bytes, size_t n);
/* Fill the OLDEST still-pending deferred reply of connection conn_id
 * (for callers whose replies complete in request order). Returns 0, or -1
 * (doing nothing) if the connection closed or has nothing pending. */
int resp_server_reply(resp_server *s, uint64_t conn_id, const char *bytes, size_t n);

#endif
