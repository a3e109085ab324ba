/* ctlsrv.h: the RESP control listener of faultproxy: accepts TCP clients
 * (redis-cli, the runner), reads pipelined commands and answers each with
 * the handler's reply, on the common event loop. Small and private to the
 * proxy; commands themselves are in ctl.c. */
#ifndef RIFTLAB_PROXY_CTLSRV_H
#define RIFTLAB_PROXY_CTLSRV_H

#include <netinet/in.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/loop.h"

typedef void (*ctlsrv_fn)(void *arg, int argc, char **argv, buf *reply);
typedef struct ctlsrv ctlsrv;

ctlsrv *ctlsrv_new(loop *l, const struct sockaddr_in *addr, ctlsrv_fn fn, void *arg,
                   char *err, size_t errlen);
void ctlsrv_free(ctlsrv *s);   /* closes every client and the listener */
uint16_t ctlsrv_port(const ctlsrv *s);

#endif
