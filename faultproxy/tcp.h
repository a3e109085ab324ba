/* tcp.h: faultproxy's TCP mode, for systems that speak TCP (etcd, Redis):
 * each listener accepts connections and connects each one to its upstream,
 * then copies bytes both ways while applying the listener's rule
 * (tcpfaults.h): latency and jitter, a bandwidth cap, slicing into small
 * segments with pauses, blackhole, and reset. Runs on the common event loop. */
#ifndef RIFTLAB_PROXY_TCP_H
#define RIFTLAB_PROXY_TCP_H

#include <netinet/in.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/loop.h"
#include "rules.h"
#include "tcpfaults.h"

typedef struct tcp_relay tcp_relay;

typedef struct tcp_listener_spec {
    char name[PROXY_NAME_MAX];
    struct sockaddr_in listen, upstream;
} tcp_listener_spec;

/* rules[i] belongs to listener i and is read on every chunk, so changes
 * apply at once; call tcp_relay_rule_changed after one (resets). */
tcp_relay *tcp_relay_new(loop *l, int n, const tcp_listener_spec *spec, proxy_tcp_rule *rules,
                         uint64_t seed, char *err, size_t errlen);
void tcp_relay_free(tcp_relay *t);   /* closes every connection and listener */
void tcp_relay_rule_changed(tcp_relay *t, int listener);
uint16_t tcp_relay_port(const tcp_relay *t, int listener);
/* "tcp":[{"name":..,"accepted":..,"active":..,"bytes_up":..,...}], */
void tcp_relay_stats_json(const tcp_relay *t, buf *out);

#endif
