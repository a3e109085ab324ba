/* cn_ctrl.c: chain-node's control role: the control plane core
 * (nodes/ctrl, Raft + configuration + failure detector) on the event loop.
 * An optional RESP port answers PING, RIFT.STATUS (leader, epoch,
 * members as JSON) and RIFT.CLOCK. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "cn.h"
#include "common/buf.h"
#include "common/errf.h"
#include "common/resp.h"

static void flush_outbox(cn *n)
{
    const ctrl_send *out;
    size_t k = ctrl_outbox(n->ctrl, &out);
    for (size_t i = 0; i < k; i++)
        cn_net_send(n, out[i].to, out[i].type, out[i].body, out[i].len);
    ctrl_outbox_clear(n->ctrl);
}

static void on_datagram(cn *n, const wire_header *h, const uint8_t *body, size_t len)
{
    if (h->type == CTRL_MSG_HEARTBEAT) {
        /* Learn where a joiner lives before the core answers it. */
        ctrl_heartbeat hb;
        if (ctrl_heartbeat_decode(&hb, body, len) == 0)
            cn_peer_learn(n, h->src, hb.addr, hb.client);
    }
    uint64_t before = ctrl_get_state(n->ctrl)->epoch;
    ctrl_recv(n->ctrl, h->src, h->type, body, len, (int64_t)cn_now(n));
    if (ctrl_get_state(n->ctrl)->epoch != before)
        cn_trace(n, "ctrl_config", "\"epoch\":%" PRIu64, ctrl_get_state(n->ctrl)->epoch);
}

static void on_udp(loop *l, int fd, unsigned events, void *arg)
{
    (void)l, (void)fd, (void)events;
    cn *n = arg;
    cn_net_drain(n, on_datagram);
    flush_outbox(n);
}

static void on_tick(loop *l, uint64_t id, void *arg)
{
    (void)id;
    cn *n = arg;
    uint64_t before = ctrl_get_state(n->ctrl)->epoch;
    (void)l;
    ctrl_tick(n->ctrl, (int64_t)cn_now(n));
    const ctrl_state *s = ctrl_get_state(n->ctrl);
    if (s->epoch != before) {
        LOG_INFO("configuration epoch %" PRIu64 " (%u members)", s->epoch, s->n);
        cn_trace(n, "ctrl_config", "\"epoch\":%" PRIu64, s->epoch);
    }
    flush_outbox(n);
}

static void on_command(resp_conn *c, resp_command *cmd, void *arg)
{
    cn *n = arg;
    buf *out = resp_conn_out(c);
    if (cmd->argc == 1 && !strcasecmp(cmd->argv[0], "PING")) {
        resp_put_simple(out, "PONG");
    } else if (cmd->argc == 1 && !strcasecmp(cmd->argv[0], "RIFT.STATUS")) {
        const ctrl_state *s = ctrl_get_state(n->ctrl);
        buf b;
        buf_init(&b);
        buf_printf(&b, "{\"id\":%u,\"system\":\"chain-ctrl\",\"role\":\"%s\",\"leader\":%u,"
                   "\"epoch\":%" PRIu64 ",\"members\":[", n->cfg->id,
                   ctrl_is_leader(n->ctrl) ? "leader" : "follower", ctrl_leader(n->ctrl), s->epoch);
        for (int i = 0; i < s->n; i++) {
            buf_printf(&b, "%s{\"id\":%u,\"addr\":", i ? "," : "", s->m[i].id);
            trace_json_str(&b, s->m[i].addr, strlen(s->m[i].addr));
            buf_puts(&b, ",\"client\":");
            trace_json_str(&b, s->m[i].client, strlen(s->m[i].client));
            buf_puts(&b, "}");
        }
        buf_printf(&b, "],\"removals\":%" PRIu64 ",\"sent\":%" PRIu64 ",\"received\":%" PRIu64
                   ",\"dropped\":%" PRIu64 ",\"rejected\":", ctrl_removals(n->ctrl), n->sent,
                   n->received, n->dropped);
        cn_rejects_json(n, &b);
        buf_puts(&b, "}");
        resp_put_bulk(out, buf_ptr(&b), buf_size(&b));
        buf_free(&b);
    } else if (cmd->argc >= 1 && !strcasecmp(cmd->argv[0], "RIFT.CLOCK")) {
        cn_clock_command(n, c, cmd);
    } else {
        resp_put_error(out, "ERR a control node answers PING, RIFT.STATUS and RIFT.CLOCK");
    }
}

int cn_ctrl_start(cn *n, char *err, size_t errlen)
{
    const cn_config *cfg = n->cfg;
    ctrl_options o;
    memset(&o, 0, sizeof o);
    o.id = cfg->id;
    o.n_ctrl = (uint16_t)cfg->n_ctrl;
    memcpy(o.ctrl, cfg->ctrl, sizeof o.ctrl);
    o.seed = mono_now_ns() ^ ((uint64_t)cfg->id << 32);
    o.raft_election_ns = (int64_t)cfg->election_ns;
    o.raft_heartbeat_ns = (int64_t)cfg->election_ns / 5;
    o.detect_ns = (int64_t)cfg->detect_ns;
    o.initial.epoch = 1;
    o.initial.n = (uint16_t)cfg->n_members;
    for (int i = 0; i < cfg->n_members; i++) {
        const cn_peer *p = &cfg->peers[cfg->members[i]];
        o.initial.m[i].id = cfg->members[i];
        snprintf(o.initial.m[i].addr, CTRL_ADDR_MAX, "%s", p->udp_str);
        snprintf(o.initial.m[i].client, CTRL_ADDR_MAX, "%s", p->client);
    }
    char cerr[256];
    n->ctrl = ctrl_new(&o, (int64_t)cn_now(n), cerr, sizeof cerr);
    if (!n->ctrl)
        return errf(err, errlen, "control plane: %s", cerr);
    if (cn_net_open(n, err, errlen) < 0)
        return -1;
    if (cfg->client[0]) {
        n->srv = resp_server_new(n->l, cfg->client, on_command, n, cerr, sizeof cerr);
        if (!n->srv)
            return errf(err, errlen, "--client %s: %s", cfg->client, cerr);
    }
    if (loop_add_fd(n->l, n->fd, LOOP_READ, on_udp, n) < 0)
        return errf(err, errlen, "event loop: cannot watch the UDP socket");
    uint64_t tick = cfg->election_ns / 20 ? cfg->election_ns / 20 : 1000000;
    n->timer_tick = loop_add_timer(n->l, tick, tick, on_tick, n);
    return 0;
}

void cn_ctrl_stop(cn *n)
{
    if (n->srv)
        resp_server_free(n->srv);
    n->srv = NULL;
    if (n->timer_tick)
        loop_cancel_timer(n->l, n->timer_tick);
    if (n->fd >= 0)
        loop_del_fd(n->l, n->fd);
    cn_net_close(n);
    ctrl_free(n->ctrl);
    n->ctrl = NULL;
}
