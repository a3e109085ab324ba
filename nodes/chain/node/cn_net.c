/* cn_net.c: chain-node's UDP link, clock and trace helpers (see cn.h).
 * A datagram is the DESIGN wire header || vclock || protocol body || tag?,
 * the same layout raft-node uses, so traces order causally across nodes. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cn.h"
#include "common/buf.h"
#include "common/errf.h"
#include "common/net.h"
#include "common/parse.h"
#include "common/resp.h"

int cn_net_open(cn *n, char *err, size_t errlen)
{
    char nerr[256];
    n->fd = -1;
    if (n->cfg->key_file[0]) {
        if (wire_key_load(n->cfg->key_file, &n->key, nerr, sizeof nerr) < 0)
            return errf(err, errlen, "--key %s: %s", n->cfg->key_file, nerr);
        n->has_key = 1;
    }
    n->fd = net_udp_bind(n->cfg->listen, nerr, sizeof nerr);
    if (n->fd < 0)
        return errf(err, errlen, "--listen %s: %s", n->cfg->listen, nerr);
    vclock_init(&n->vc, CN_MAX_ID);
    return 0;
}

void cn_net_close(cn *n)
{
    if (n->fd >= 0)
        close(n->fd);
    n->fd = -1;
}

void cn_net_send(cn *n, uint16_t to, uint8_t type, const void *body, size_t len)
{
    static uint8_t payload[WIRE_MAX_DATAGRAM], dgram[WIRE_MAX_DATAGRAM];
    if (to == 0 || to > CN_MAX_ID || to == n->cfg->id || !n->cfg->peers[to].has_udp) {
        n->dropped++;
        return;
    }
    int vl = vclock_encode(&n->vc, payload, sizeof payload);
    if (vl < 0 || len > WIRE_MAX_BODY - (size_t)vl) {
        n->dropped++;
        return;
    }
    memcpy(payload + vl, body, len);
    wire_header h = { .magic = WIRE_MAGIC, .version = WIRE_VERSION, .type = type,
                      .src = n->cfg->id, .dst = to, .cluster = n->cfg->cluster,
                      .seq = n->seq[to]++, .lamport = lamport_send(&n->lc) };
    int dl = wire_encode(dgram, sizeof dgram, &h, payload, (size_t)vl + len,
                         n->has_key ? &n->key : NULL);
    const struct sockaddr_in *a = &n->cfg->peers[to].udp;
    if (dl < 0 || sendto(n->fd, dgram, (size_t)dl, 0, (const struct sockaddr *)a, sizeof *a) < 0)
        n->dropped++;
    else
        n->sent++;
}

void cn_net_drain(cn *n, cn_recv_fn fn)
{
    static uint8_t dgram[WIRE_MAX_DATAGRAM + 1];
    for (int i = 0; i < 4096; i++) {   /* bounded: let timers run under a flood */
        struct sockaddr_in from;
        socklen_t flen = sizeof from;
        ssize_t got = recvfrom(n->fd, dgram, sizeof dgram, 0, (struct sockaddr *)&from, &flen);
        if (got < 0)
            return;
        wire_header h;
        const uint8_t *body;
        vclock vc;
        int rc = wire_decode(dgram, (size_t)got, &h, &body, n->has_key ? &n->key : NULL,
                             n->cfg->cluster);
        int vl = rc == WIRE_OK ? vclock_decode(&vc, body, h.body_len) : -1;
        if (vl < 0 || h.dst != n->cfg->id || h.src == 0 || h.src > CN_MAX_ID) {
            n->dropped++;
            continue;
        }
        n->received++;
        /* A node we have no address for (a joiner) is answered where its
         * datagram came from: its own port, or its faultproxy port. */
        if (!n->cfg->peers[h.src].has_udp && h.src != n->cfg->id && flen == sizeof from) {
            char a[CN_ADDR_LEN];
            net_format_addr(&from, a, sizeof a);
            cn_peer_learn(n, h.src, a, NULL);
        }
        lamport_recv(&n->lc, h.lamport);
        vclock_merge(&n->vc, &vc);
        vclock_tick(&n->vc, (uint16_t)(n->cfg->id - 1));
        fn(n, &h, body + vl, h.body_len - (size_t)vl);
    }
}

void cn_peer_learn(cn *n, uint16_t id, const char *udp, const char *client)
{
    if (id == 0 || id > CN_MAX_ID || id == n->cfg->id)
        return;
    cn_peer *p = &n->cfg->peers[id];
    struct sockaddr_in a;
    char nerr[128];
    /* Addresses given by flags win: they may point at a faultproxy. */
    if (!p->has_udp && udp && udp[0] && strlen(udp) < CN_ADDR_LEN &&
        net_parse_addr(udp, &a, nerr, sizeof nerr) == 0) {
        p->udp = a;
        strcpy(p->udp_str, udp);
        p->has_udp = 1;
    }
    if (!p->client[0] && client && client[0] && strlen(client) < CN_ADDR_LEN)
        strcpy(p->client, client);
}

void cn_trace(cn *n, const char *kind, const char *fmt, ...)
{
    if (!n->tr || !trace_enabled(n->tr))
        return;
    lamport_tick(&n->lc);
    vclock_tick(&n->vc, (uint16_t)(n->cfg->id - 1));
    char fields[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fields, sizeof fields, fmt, ap);
    va_end(ap);
    /* "event" repeats the kind: the runner's invariant checker reads it
     * (raft-node writes it the same way). */
    trace_event(n->tr, kind, "\"event\":\"%s\",%s", kind, fields);
}

uint64_t cn_now(const cn *n)
{
    int64_t t = node_clock_now(&n->clock, loop_now(n->l));
    return t > 0 ? (uint64_t)t : 0;
}

void cn_clock_command(cn *n, resp_conn *c, resp_command *cmd)
{
    char err[128];
    int64_t off, ppm;
    if (cmd->argc != 3 || parse_int64(cmd->argv[1], -86400000, 86400000, &off, err, sizeof err) < 0 ||
        parse_int64(cmd->argv[2], -500000, 500000, &ppm, err, sizeof err) < 0) {
        resp_put_error(resp_conn_out(c), "ERR RIFT.CLOCK offset_ms drift_ppm");
        return;
    }
    node_clock_set(&n->clock, loop_now(n->l), off * 1000000, (int32_t)ppm);
    LOG_INFO("clock: offset %lld ms, drift %lld ppm", (long long)off, (long long)ppm);
    resp_put_simple(resp_conn_out(c), "OK");
}
