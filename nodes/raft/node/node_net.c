/* node_net.c: raft-node's UDP peer link (see node_net.h). */
#define _GNU_SOURCE
#include "node_net.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/errf.h"
#include "common/net.h"

int node_net_open(node_net *n, const node_config *cfg, char *err, size_t errlen)
{
    memset(n, 0, sizeof *n);
    n->fd = -1;
    n->self = cfg->id;
    n->cluster = cfg->cluster;
    n->cfg = cfg;
    if (cfg->key_file[0]) {
        char kerr[256];
        if (wire_key_load(cfg->key_file, &n->key, kerr, sizeof kerr) < 0)
            return errf(err, errlen, "--key %s: %s", cfg->key_file, kerr);
        n->has_key = 1;
    }
    char nerr[256];
    n->fd = net_udp_bind_addr(&cfg->listen, nerr, sizeof nerr);
    if (n->fd < 0)
        return errf(err, errlen, "--listen: %s", nerr);
    return 0;
}

void node_net_close(node_net *n)
{
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
}

int node_net_send(node_net *n, uint16_t dst, uint8_t type, uint64_t lamport,
                  const vclock *vc, const void *body, size_t len, uint64_t *seq)
{
    static uint8_t payload[WIRE_MAX_DATAGRAM], dgram[WIRE_MAX_DATAGRAM];
    if (dst == 0 || dst > NODE_MAX_ID || !n->cfg->members[dst].has_udp || dst == n->self) {
        n->stats.send_errors++;
        return -1;
    }
    int vl = vclock_encode(vc, payload, sizeof payload);
    if (vl < 0 || len > WIRE_MAX_BODY - (size_t)vl) {
        n->stats.send_errors++;
        return -1;
    }
    memcpy(payload + vl, body, len);
    wire_header h = {.magic = WIRE_MAGIC, .version = WIRE_VERSION, .type = type,
                     .src = n->self, .dst = dst, .cluster = n->cluster,
                     .seq = n->seq[dst]++, .lamport = lamport};
    int dl = wire_encode(dgram, sizeof dgram, &h, payload, (size_t)vl + len,
                         n->has_key ? &n->key : NULL);
    if (dl < 0) {
        n->stats.send_errors++;
        return -1;
    }
    const struct sockaddr_in *to = &n->cfg->members[dst].udp;
    if (sendto(n->fd, dgram, (size_t)dl, 0, (const struct sockaddr *)to, sizeof *to) < 0) {
        n->stats.send_errors++;
        return -1;
    }
    n->stats.sent++;
    *seq = h.seq;
    return 0;
}

/* Count a dropped datagram and say why in d (enum wire_reject). */
static int reject(node_net *n, node_datagram *d, int reason)
{
    n->stats.rej.by[reason]++;
    d->reject = reason;
    return 0;
}

void node_net_malformed(node_net *n, node_datagram *d)
{
    n->stats.received--; /* counted as received by node_net_check */
    reject(n, d, WIRE_REJECT_MALFORMED);
}

int node_net_check(node_net *n, const uint8_t *buf, size_t len, node_datagram *d)
{
    const uint8_t *body;
    memset(&d->h, 0, sizeof d->h);
    d->reject = WIRE_REJECT_NONE;
    int rc = wire_decode(buf, len, &d->h, &body, n->has_key ? &n->key : NULL, n->cluster);
    if (rc != WIRE_OK && wire_peek(buf, len, &d->h) != WIRE_OK)
        memset(&d->h, 0, sizeof d->h); /* not even a header: the sender is unknown */
    if (rc != WIRE_OK)
        return reject(n, d, wire_reject_of(rc));
    if (d->h.dst != n->self || d->h.src == 0 || d->h.src > NODE_MAX_ID ||
        !n->cfg->members[d->h.src].has_udp || d->h.src == n->self)
        return reject(n, d, WIRE_REJECT_MISDIRECTED);
    int vl = vclock_decode(&d->vc, body, d->h.body_len);
    if (vl < 0)
        return reject(n, d, WIRE_REJECT_MALFORMED);
    d->body = body + vl;
    d->len = d->h.body_len - (size_t)vl;
    n->stats.received++;
    return 1;
}

int node_net_recv(node_net *n, uint8_t *buf, size_t cap, node_datagram *d)
{
    ssize_t got = recv(n->fd, buf, cap, 0);
    if (got < 0)
        return -1; /* EAGAIN, or a transient error: either way, nothing now */
    return node_net_check(n, buf, (size_t)got, d);
}
