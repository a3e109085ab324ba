/* resp_client.h: a blocking RESP2 client with timeouts, for the runner's
 * workload threads, tests and benchmarks (one client per thread).
 *
 * Every call that waits takes a timeout and tells three outcomes apart:
 *   RESP_CLIENT_OK       a reply arrived (it may be a RESP error such as
 *                        -NOTLEADER: look at the value's type);
 *   RESP_CLIENT_TIMEOUT  nothing within the timeout: the operation may
 *                        still happen (a workload records it as `info`);
 *   RESP_CLIENT_ERROR    the connection failed or closed, or the reply was
 *                        malformed.
 * After a TIMEOUT or an ERROR the connection's state is unknown (a late
 * reply could be taken for the next one): close it and connect again.
 *
 * Pipelining: resp_client_append N commands, resp_client_flush, then
 * resp_client_read N replies. */
#ifndef RIFTLAB_RESP_CLIENT_H
#define RIFTLAB_RESP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "resp.h"

enum resp_client_result {
    RESP_CLIENT_OK = 0,
    RESP_CLIENT_TIMEOUT = -1,
    RESP_CLIENT_ERROR = -2,
};

typedef struct resp_client resp_client;

/* Connect to "host:port" within timeout_ns. NULL with a message in err
 * (which says "timed out" when it did). */
resp_client *resp_client_connect(const char *hostport, uint64_t timeout_ns, char *err, size_t errlen);
void resp_client_close(resp_client *c);

/* Queue a command without sending it (argl may be NULL for C strings). */
void resp_client_append(resp_client *c, int argc, const char *const *argv, const size_t *argl);
/* Send everything queued. */
int resp_client_flush(resp_client *c, uint64_t timeout_ns);
/* Read the next reply into out (free it with resp_value_free). */
int resp_client_read(resp_client *c, resp_value *out, uint64_t timeout_ns);
/* Send one command and read its reply, within one timeout overall. */
int resp_client_call(resp_client *c, resp_value *out, uint64_t timeout_ns,
                     int argc, const char *const *argv, const size_t *argl);
/* resp_client_call with C-string arguments (at most 64), ended by NULL:
 *     resp_client_callv(c, &v, timeout, "SET", "k", "1", NULL); */
int resp_client_callv(resp_client *c, resp_value *out, uint64_t timeout_ns, ...)
    __attribute__((sentinel));
/* Why the last call returned RESP_CLIENT_ERROR. */
const char *resp_client_error(const resp_client *c);
int resp_client_fd(const resp_client *c);

#endif
