/* rclient.h: a small blocking RESP client with deadlines, for the workload
 * threads, the readiness probe and the proxy control connection.
 *
 * What matters for a Jepsen-style history is what a failure proves, so
 * rclient_call says how far a request got: never sent (the operation did not
 * happen), or sent without a complete reply (it may have happened). */
#ifndef RIFTLAB_RCLIENT_H
#define RIFTLAB_RCLIENT_H

#include <stdint.h>

#include "backend.h"
#include "common/resp.h"

enum rclient_result {
    RCLIENT_OK = 0,
    RCLIENT_NOTSENT = -1,   /* connect or send failed before any byte left: did not happen */
    RCLIENT_TIMEOUT = -2,   /* sent, no reply before the deadline: unknown */
    RCLIENT_BROKEN = -3,    /* sent, connection closed or garbled: unknown */
};

typedef struct rclient {
    int fd;                 /* -1: not connected */
    resp_reader *rd;
    backend *b;
    int host;               /* the host whose network the socket lives in */
    char addr[64];
    int port;
} rclient;

/* No connection yet: the first call connects. */
void rclient_init(rclient *c, backend *b, int host, const char *addr, int port);
void rclient_close(rclient *c);   /* close the socket; the client can be reused */
void rclient_retarget(rclient *c, const char *addr, int port);
/* One command; on RCLIENT_OK *out holds the reply (free with resp_value_free).
 * After any failure the connection is closed (the next call reconnects). */
int rclient_call(rclient *c, uint64_t timeout_ns, resp_value *out, int argc, const char **argv);
/* The same, with printf-free varargs of C strings ending in NULL. */
int rclient_callv(rclient *c, uint64_t timeout_ns, resp_value *out, ...);

#endif
