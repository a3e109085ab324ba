/* cn_net.c: chain-node's UDP link, clock and trace helpers (see cn.h).
 * A datagram is the DESIGN wire header || vclock || protocol body || tag?,
 * the same layout raft-node uses, so traces order causally across nodes. */
#define _GNU_SOURCE
#include <inttypes.h>
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

static void trace_stamp(cn *n, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

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
    return 0;
}

void cn_clocks_init(cn *n)
{
    /* The vector clock covers the ids we know of (traces stay small); a
     * joiner with a higher id grows it through the merge on receive. */
    uint16_t max = n->cfg->id;
    for (uint16_t i = 1; i <= CN_MAX_ID; i++)
        if (n->cfg->peers[i].has_udp && i > max)
            max = i;
    vclock_init(&n->vc, max);
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
    /* A send is an event of its own: the clocks it carries are ticked. */
    vclock_tick(&n->vc, (uint16_t)(n->cfg->id - 1));
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
    if (dl < 0 || sendto(n->fd, dgram, (size_t)dl, 0, (const struct sockaddr *)a, sizeof *a) < 0) {
        n->dropped++;
        return;
    }
    n->sent++;
    trace_stamp(n, "send", "\"to\":\"n%u\",\"type\":\"%s\",\"seq\":%" PRIu64, to,
                cn_msg_type_name(type), h.seq);
}

/* Count a dropped datagram by reason (enum wire_reject) and trace it. src 0:
 * unknown sender. */
static void reject(cn *n, uint16_t src, int reason)
{
    n->dropped++;
    n->rej.by[reason]++;
    if (src)
        cn_trace(n, "reject", "\"from\":\"n%u\",\"reason\":\"%s\"", src, wire_reject_name(reason));
    else
        cn_trace(n, "reject", "\"from\":\"unknown\",\"reason\":\"%s\"", wire_reject_name(reason));
}

void cn_rejects_json(const cn *n, buf *b)
{
    char j[256];
    wire_rejects_json(&n->rej, j, sizeof j);
    buf_puts(b, j);
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
        memset(&h, 0, sizeof h);
        int rc = wire_decode(dgram, (size_t)got, &h, &body, n->has_key ? &n->key : NULL,
                             n->cfg->cluster);
        if (rc != WIRE_OK) {
            /* The claimed sender, when at least the header reads. */
            if (wire_peek(dgram, (size_t)got, &h) != WIRE_OK)
                h.src = 0;
            reject(n, h.src, wire_reject_of(rc));
            continue;
        }
        if (h.dst != n->cfg->id || h.src == 0 || h.src > CN_MAX_ID || h.src == n->cfg->id) {
            reject(n, h.src, WIRE_REJECT_MISDIRECTED);
            continue;
        }
        int vl = vclock_decode(&vc, body, h.body_len);
        if (vl < 0 || cn_msg_check(h.type, h.src, h.dst, body + vl, h.body_len - (size_t)vl) < 0) {
            reject(n, h.src, WIRE_REJECT_MALFORMED);
            continue;
        }
        n->received++;
        /* A node we have no address for (a joiner) is answered where its
         * datagram came from: its own port, or its faultproxy port. */
        if (!n->cfg->peers[h.src].has_udp && flen == sizeof from) {
            char a[CN_ADDR_LEN];
            net_format_addr(&from, a, sizeof a);
            cn_peer_learn(n, h.src, a, NULL);
        }
        lamport_recv(&n->lc, h.lamport);
        vclock_merge(&n->vc, &vc);
        vclock_tick(&n->vc, (uint16_t)(n->cfg->id - 1));
        trace_stamp(n, "recv", "\"from\":\"n%u\",\"type\":\"%s\",\"seq\":%" PRIu64, h.src,
                    cn_msg_type_name(h.type), h.seq);
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

/* Write one event: with tick, a local event of its own (both clocks
 * ticked first); without, stamped with the clocks as they are (a send or
 * receive, which moved them already). */
static void trace_vemit(cn *n, int tick, const char *kind, const char *fmt, va_list ap)
{
    if (!n->tr || !trace_enabled(n->tr))
        return;
    if (tick) {
        lamport_tick(&n->lc);
        vclock_tick(&n->vc, (uint16_t)(n->cfg->id - 1));
    }
    char fields[1024];
    vsnprintf(fields, sizeof fields, fmt, ap);
    /* "event" repeats the kind: the runner's invariant checker reads it
     * (raft-node writes it the same way). */
    trace_event(n->tr, kind, "\"event\":\"%s\",%s", kind, fields);
}

void cn_trace(cn *n, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    trace_vemit(n, 1, kind, fmt, ap);
    va_end(ap);
}

static void trace_stamp(cn *n, const char *kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    trace_vemit(n, 0, kind, fmt, ap);
    va_end(ap);
}

void cn_trace_start(cn *n)
{
    const char *role = n->cfg->role == CN_ROLE_CTRL ? "ctrl" : "data";
    const char *auth = n->cfg->key_file[0] ? "hmac" : "none";
    if (n->cfg->byzantine)
        cn_trace(n, "start", "\"system\":\"chain\",\"role\":\"%s\",\"id\":%u,\"auth\":\"%s\""
                 ",\"byzantine\":\"%s\"", role, n->cfg->id, auth, cn_byz_name(n->cfg->byzantine));
    else
        cn_trace(n, "start", "\"system\":\"chain\",\"role\":\"%s\",\"id\":%u,\"auth\":\"%s\"",
                 role, n->cfg->id, auth);
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
