/* cn_data.c: chain-node's data role: the chain core (nodes/chain) on the
 * event loop, RESP clients, heartbeats to the control plane.
 *
 * Every client command becomes a chain_request whose reply is deferred
 * (resp_conn_defer) and filled when the core answers; requests unanswered
 * after --timeout get -TIMEOUT (the outcome is then unknown, as DESIGN says
 * for every error that does not prove failure). Reads need a read lease:
 * a control leader's acknowledgement of a heartbeat sent less than
 * ctrl_lease_ns ago (see nodes/ctrl/ctrl.h). */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cn.h"
#include "common/buf.h"
#include "common/errf.h"
#include "common/resp.h"
#include "chain_disk.h"
#include "kv.h"

/* --- replies ----------------------------------------------------------------- */

static void reply_bytes(cn *n, cn_pending *p, buf *b)
{
    resp_server_reply_ticket(n->srv, p->ticket, buf_ptr(b), buf_size(b));
    buf_free(b);
    p->rid = 0;
}

static void redirect(cn *n, buf *b, const char *what, uint16_t id)
{
    const char *addr = id && id <= CN_MAX_ID && n->cfg->peers[id].client[0] ? n->cfg->peers[id].client : "?";
    resp_put_error(b, "%s %u %s", what, id, addr);
}

static void on_reply(cn *n, const chain_action *a)
{
    cn_pending *p = &n->pending[a->id % CN_PENDING];
    if (p->rid != a->id)
        return;   /* timed out meanwhile, or a write sequenced by an earlier head */
    buf b;
    buf_init(&b);
    switch (a->status) {
    case CHAIN_OK:
        if (a->reply_type == KV_REPLY_OK)
            resp_put_simple(&b, "OK");
        else if (a->reply_type == KV_REPLY_INT)
            resp_put_int(&b, a->integer);
        else if (a->reply_type == KV_REPLY_BULK)
            resp_put_bulk(&b, a->body, a->len);
        else if (a->reply_type == KV_REPLY_NIL)
            resp_put_nil(&b);
        else
            resp_put_error(&b, "ERR command failed");
        break;
    case CHAIN_ERR_NOTHEAD: redirect(n, &b, "NOTHEAD", a->redirect); break;
    case CHAIN_ERR_NOTTAIL: redirect(n, &b, "NOTTAIL", a->redirect); break;
    case CHAIN_ERR_BUSY: resp_put_error(&b, "BUSY too many writes in flight"); break;
    case CHAIN_ERR_NOTREADY:
        resp_put_error(&b, "NOTREADY not a member yet, catching up, or no read lease: retry");
        break;
    case CHAIN_ERR_BADCMD: resp_put_error(&b, "ERR unsupported command (chain-node has no PX)"); break;
    }
    reply_bytes(n, p, &b);
}

/* Commits between two snapshots of the committed state in --dir: bounds
 * the log replayed at a restart. */
#define CN_DISK_SNAP_EVERY 50000

/* With --dir: write this batch's commits (and installed snapshots) to disk
 * and sync once (group commit) BEFORE any of the batch's messages or
 * replies go out. The head answers a write only after its own commit, which
 * follows the tail's ACK, which each member sends only after this sync: an
 * acknowledged write is durable on every member of the chain it committed
 * in. A disk error stops the node (fail-stop, exit 255): continuing after a
 * failed write or fsync could acknowledge what is not on disk. */
static int persist(cn *n, const chain_action *acts, size_t na)
{
    if (!n->disk)
        return 0;
    int wrote = 0;
    const char *what = NULL;
    for (size_t i = 0; i < na && !what; i++) {
        const chain_action *a = &acts[i];
        if (a->kind == CHAIN_ACT_SNAPSHOT) {
            n->snap_installs++;
            if (chain_disk_snapshot(n->disk, chain_clean_state(n->chain), a->seq) < 0)
                what = "snapshot";
        } else if (a->kind == CHAIN_ACT_COMMIT && a->seq > chain_disk_last(n->disk)) {
            if (chain_disk_append(n->disk, a->seq, a->epoch, a->id, a->body, a->len) < 0)
                what = "append";
            wrote = 1;
        }
    }
    if (!what && wrote && chain_disk_sync(n->disk) < 0)
        what = "fsync";
    chain_status st;
    chain_get_status(n->chain, &st);
    if (!what && wrote && st.commit_seq == chain_disk_last(n->disk) &&
        st.commit_seq / CN_DISK_SNAP_EVERY != (st.commit_seq - 1) / CN_DISK_SNAP_EVERY &&
        chain_disk_snapshot(n->disk, chain_clean_state(n->chain), st.commit_seq) < 0)
        what = "snapshot";
    if (!what)
        return 0;
    LOG_ERROR("--dir %s: %s failed (%s): stopping", n->cfg->dir, what, chain_disk_error(n->disk));
    n->fatal = 1;
    loop_stop(n->l);
    return -1;
}

/* --byzantine reorder-forward: send the rewritten UPDATE instead, and say
 * in the trace which seqs went out swapped (first time only). */
static void byz_send_update(cn *n, const chain_action *a)
{
    uint64_t first_swap;
    if (!cn_byz_update(&n->byz, a->body, a->len, mono_now_ns(), &n->byz_out, &first_swap)) {
        cn_net_send(n, a->to, a->type, a->body, a->len);
        return;
    }
    if (first_swap)
        cn_trace(n, "byz", "\"mode\":\"reorder-forward\",\"action\":\"swap\",\"peer\":\"n%u\""
                 ",\"seq\":%" PRIu64, a->to, first_swap);
    cn_net_send(n, a->to, a->type, buf_ptr(&n->byz_out), buf_size(&n->byz_out));
}

/* Carry out what the core asked for. ACKs are cumulative (received up to,
 * committed up to), so of several ACKs to one node in a batch only the
 * last is sent: a burst of datagrams costs one ACK, not one each. */
static void process(cn *n)
{
    const chain_action *acts;
    size_t na = chain_actions(n->chain, &acts);
    if (n->fatal || persist(n, acts, na) < 0) {
        /* Nothing of this batch may leave the node: a reply or an ACK would
         * claim durability we do not have. */
        chain_actions_clear(n->chain);
        return;
    }
    size_t last_ack[CN_MAX_ID + 1];
    for (size_t i = 0; i <= CN_MAX_ID; i++)
        last_ack[i] = SIZE_MAX;
    for (size_t i = 0; i < na; i++)
        if (acts[i].kind == CHAIN_ACT_SEND && acts[i].type == CHAIN_MSG_ACK && acts[i].to <= CN_MAX_ID)
            last_ack[acts[i].to] = i;
    for (size_t i = 0; i < na; i++) {
        const chain_action *a = &acts[i];
        switch (a->kind) {
        case CHAIN_ACT_SEND:
            if (a->type == CHAIN_MSG_ACK && a->to <= CN_MAX_ID && last_ack[a->to] != i)
                break;
            if (a->type == CHAIN_MSG_UPDATE && n->byz.mode)
                byz_send_update(n, a);
            else
                cn_net_send(n, a->to, a->type, a->body, a->len);
            break;
        case CHAIN_ACT_REPLY:
            on_reply(n, a);
            break;
        case CHAIN_ACT_ACCEPT:
            cn_trace(n, "receive", "\"seq\":%" PRIu64 ",\"rid\":%" PRIu64, a->seq, a->id);
            break;
        case CHAIN_ACT_COMMIT:
            cn_trace(n, "commit", "\"seq\":%" PRIu64 ",\"rid\":%" PRIu64, a->seq, a->id);
            break;
        case CHAIN_ACT_SNAPSHOT:
            cn_trace(n, "snapshot", "\"seq\":%" PRIu64, a->seq);
            break;
        case CHAIN_ACT_REJECT:
            LOG_DEBUG("dropped a message of epoch %" PRIu64 " from n%u", a->epoch, a->to);
            break;
        }
    }
    chain_actions_clear(n->chain);
}

/* --- configuration, leases, heartbeats ---------------------------------------- */

static void joiner_bookkeeping(cn *n)
{
    chain_status st;
    chain_get_status(n->chain, &st);
    if (st.position < 0)
        n->seen_out = 1;
    else if (n->seen_out)
        n->added = 1;
}

static void on_config(cn *n, const uint8_t *body, size_t len)
{
    ctrl_state s;
    if (ctrl_state_decode(&s, body, len) < 0)
        return;
    if (s.epoch <= chain_get_config(n->chain)->epoch)
        return;
    for (int i = 0; i < s.n; i++)
        cn_peer_learn(n, s.m[i].id, s.m[i].addr, s.m[i].client);
    chain_config cfg;
    ctrl_state_chain(&s, &cfg);
    chain_set_config(n->chain, &cfg);
    chain_status st;
    chain_get_status(n->chain, &st);
    LOG_INFO("epoch %" PRIu64 ": %s, position %d of %u", cfg.epoch, chain_role_name(st.role),
             st.position, cfg.n);
    if (st.position < 0 && n->was_member) {
        /* Removed while running (we were too slow to answer heartbeats):
         * start over as a joiner rather than stay out for good. */
        LOG_WARN("removed from the chain in epoch %" PRIu64 ": joining again", cfg.epoch);
        /* With --dir the committed prefix is on disk and stays: only the
         * suffix is copied back. Without it, the original full copy. */
        if (n->disk)
            chain_rejoin_keep(n->chain);
        else
            chain_rejoin(n->chain);
        n->cfg->join = 1;
        n->added = 0;
        n->was_member = 0;
    }
    if (st.position >= 0)
        n->was_member = 1;
    buf m;
    buf_init(&m);
    for (int i = 0; i < cfg.n; i++)
        buf_printf(&m, "%s%u", i ? "," : "", cfg.members[i]);
    cn_trace(n, "config", "\"epoch\":%" PRIu64 ",\"members\":[%s],\"role\":\"%s\"", cfg.epoch,
             buf_cstr(&m), chain_role_name(st.role));
    buf_free(&m);
    joiner_bookkeeping(n);
}

static void on_datagram(cn *n, const wire_header *h, const uint8_t *body, size_t len)
{
    if (h->type == CTRL_MSG_CONFIG) {
        on_config(n, body, len);
    } else if (h->type == CTRL_MSG_HB_ACK) {
        uint64_t epoch, sent;
        uint64_t lease = (uint64_t)ctrl_lease_ns((int64_t)n->cfg->detect_ns, (int64_t)n->cfg->election_ns);
        if (ctrl_hb_ack_decode(body, len, &epoch, &sent) == 0 && sent + lease > n->lease_until &&
            sent <= cn_now(n))
            n->lease_until = sent + lease;
    } else {
        chain_recv(n->chain, h->src, h->type, body, len);
    }
}

static void on_udp(loop *l, int fd, unsigned events, void *arg)
{
    (void)l, (void)fd, (void)events;
    cn *n = arg;
    cn_net_drain(n, on_datagram);
    process(n);
}

static void on_tick(loop *l, uint64_t id, void *arg)
{
    (void)id;
    cn *n = arg;
    uint64_t now = loop_now(l);
    chain_set_lease(n->chain, cn_now(n) < n->lease_until);
    chain_tick(n->chain);
    process(n);
    for (size_t i = 0; i < CN_PENDING; i++) {
        cn_pending *p = &n->pending[i];
        if (p->rid && now > p->deadline) {
            buf b;
            buf_init(&b);
            resp_put_error(&b, "TIMEOUT no answer in time (the outcome is unknown)");
            reply_bytes(n, p, &b);
        }
    }
}

static void on_heartbeat(loop *l, uint64_t id, void *arg)
{
    (void)id;
    cn *n = arg;
    chain_status st;
    chain_get_status(n->chain, &st);
    (void)l;
    ctrl_heartbeat h = { .epoch = st.epoch, .sent = cn_now(n), .boot = n->boot, .last_seq = st.last_seq,
                         .commit_seq = st.commit_seq };
    if (n->cfg->join && !n->added && st.synced)
        h.flags = CTRL_HB_JOIN;
    snprintf(h.addr, sizeof h.addr, "%s", n->cfg->advertise);
    snprintf(h.client, sizeof h.client, "%s", n->cfg->client);
    buf b;
    buf_init(&b);
    ctrl_heartbeat_encode(&h, &b);
    for (int i = 0; i < n->cfg->n_ctrl; i++)
        cn_net_send(n, n->cfg->ctrl[i], CTRL_MSG_HEARTBEAT, buf_ptr(&b), buf_size(&b));
    buf_free(&b);
}

/* --- clients ------------------------------------------------------------------- */

static void submit(cn *n, resp_conn *c, enum chain_req_kind kind, const uint8_t *data, size_t len)
{
    enum chain_read_mode *mode = resp_conn_data(c);
    uint64_t rid = ((uint64_t)n->cfg->id << 48) | (++n->next_rid & 0xffffffffffffull);
    cn_pending *p = &n->pending[rid % CN_PENDING];
    if (p->rid) {   /* the table is full of old requests: the oldest gives way */
        buf b;
        buf_init(&b);
        resp_put_error(&b, "TIMEOUT too many requests pending");
        reply_bytes(n, p, &b);
    }
    p->rid = rid;
    p->kind = kind;
    p->ticket = resp_conn_defer(c);
    p->deadline = loop_now(n->l) + n->cfg->timeout_ns;
    chain_request r = { .id = rid, .kind = kind, .mode = mode ? *mode : CHAIN_READ_TAIL,
                        .data = data, .len = len };
    chain_set_lease(n->chain, cn_now(n) < n->lease_until);
    chain_client(n->chain, &r);
    process(n);
}

static void status_json(cn *n, buf *b)
{
    chain_status st;
    chain_get_status(n->chain, &st);
    const chain_config *cfg = chain_get_config(n->chain);
    buf_printf(b, "{\"id\":%u,\"system\":\"chain\",\"role\":\"%s\",\"position\":%d,\"epoch\":%" PRIu64
               ",\"members\":[", st.id, chain_role_name(st.role), st.position, st.epoch);
    for (int i = 0; i < cfg->n; i++)
        buf_printf(b, "%s%u", i ? "," : "", cfg->members[i]);
    buf_printf(b, "],\"head\":%u,\"tail\":%u,\"pred\":%u,\"succ\":%u,\"last_seq\":%" PRIu64
               ",\"commit_seq\":%" PRIu64 ",\"synced\":%s,\"caught_up\":%s,\"lease\":%s"
               ",\"epoch_rejected\":%" PRIu64 ",\"resent\":%" PRIu64 ",\"sent\":%" PRIu64
               ",\"received\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"restored_seq\":%" PRIu64
               ",\"snap_installs\":%" PRIu64 ",\"disk_seq\":%" PRIu64 ",\"rejected\":",
               st.head, st.tail, st.pred, st.succ, st.last_seq, st.commit_seq,
               st.synced ? "true" : "false", st.caught_up ? "true" : "false",
               cn_now(n) < n->lease_until ? "true" : "false", st.rejected, st.resent,
               n->sent, n->received, n->dropped, n->restored_seq, n->snap_installs,
               n->disk ? chain_disk_last(n->disk) : 0);
    cn_rejects_json(n, b);
    if (n->byz.mode)
        buf_printf(b, ",\"byzantine\":\"%s\",\"byzantine_swapped\":%" PRIu64 ",\"byzantine_held\":%" PRIu64,
                   cn_byz_name(n->byz.mode), n->byz.swapped, n->byz.held);
    buf_puts(b, "}");
}

static int is(const resp_command *cmd, const char *name, int argc)
{
    return strcasecmp(cmd->argv[0], name) == 0 && (argc < 0 || cmd->argc == argc);
}

static void write_cmd(cn *n, resp_conn *c, resp_command *cmd)
{
    size_t cap = 64;
    for (int i = 1; i < cmd->argc; i++)
        cap += cmd->argl[i] + 16;
    uint8_t *out = malloc(cap);
    int len = -1;
    const char *k = cmd->argv[1];
    size_t kl = cmd->argl[1];
    if (is(cmd, "DEL", 2)) {
        len = kv_encode_del(out, cap, k, kl);
    } else if (is(cmd, "CAS", 4)) {
        len = kv_encode_cas(out, cap, k, kl, cmd->argv[2], cmd->argl[2], cmd->argv[3], cmd->argl[3]);
    } else if (is(cmd, "SET", -1) && (cmd->argc == 3 || cmd->argc == 4)) {
        uint8_t flags = 0;
        if (cmd->argc == 4 && !strcasecmp(cmd->argv[3], "NX"))
            flags = KV_SET_NX;
        else if (cmd->argc == 4 && !strcasecmp(cmd->argv[3], "XX"))
            flags = KV_SET_XX;
        else if (cmd->argc == 4)
            flags = 0xff;
        if (flags != 0xff)
            len = kv_encode_set(out, cap, k, kl, cmd->argv[2], cmd->argl[2], flags, 0);
    }
    if (len < 0)
        resp_put_error(resp_conn_out(c), "ERR syntax: SET k v [NX|XX], DEL k, CAS k expected new");
    else
        submit(n, c, CHAIN_REQ_WRITE, out, (size_t)len);
    free(out);
}

static void on_command(resp_conn *c, resp_command *cmd, void *arg)
{
    cn *n = arg;
    buf *out = resp_conn_out(c);
    if (cmd->argc < 1)
        {
            resp_put_error(out, "ERR empty command");
            return;
        }
    if (is(cmd, "PING", 1)) {
        resp_put_simple(out, "PONG");
    } else if (is(cmd, "QUIT", 1)) {
        resp_put_simple(out, "OK");
        resp_conn_close(c);
    } else if (is(cmd, "GET", 2) || is(cmd, "VERSION", 2)) {
        submit(n, c, is(cmd, "GET", 2) ? CHAIN_REQ_GET : CHAIN_REQ_VERSION,
               (const uint8_t *)cmd->argv[1], cmd->argl[1]);
    } else if (is(cmd, "SET", -1) || is(cmd, "DEL", -1) || is(cmd, "CAS", -1)) {
        if (cmd->argc < 2)
            {
            resp_put_error(out, "ERR wrong number of arguments");
            return;
        }
        write_cmd(n, c, cmd);
    } else if (is(cmd, "CONSISTENCY", 2)) {
        enum chain_read_mode m;
        const char *v = cmd->argv[1];
        /* DESIGN's names map to the weakest chain mode that still gives
         * them: sequential is served by CRAQ (linearizable, at any member). */
        if (!strcasecmp(v, "linearizable"))
            v = "tail";
        else if (!strcasecmp(v, "sequential"))
            v = "craq";
        else if (!strcasecmp(v, "eventual"))
            v = "any";
        if (chain_read_mode_parse(v, &m) < 0)
            {
            resp_put_error(out, "ERR CONSISTENCY tail|craq|any");
            return;
        }
        enum chain_read_mode *mode = resp_conn_data(c);
        if (!mode) {
            mode = malloc(sizeof *mode);
            resp_conn_set_data(c, mode);
        }
        *mode = m;
        resp_put_simple(out, "OK");
    } else if (is(cmd, "RIFT.STATUS", 1) || is(cmd, "INFO", -1)) {
        buf b;
        buf_init(&b);
        status_json(n, &b);
        resp_put_bulk(out, buf_ptr(&b), buf_size(&b));
        buf_free(&b);
    } else if (is(cmd, "RIFT.CLOCK", -1)) {
        cn_clock_command(n, c, cmd);
    } else if (is(cmd, "RIFT.TRACE", 2)) {
        int on = !strcasecmp(cmd->argv[1], "on");
        if (!on && strcasecmp(cmd->argv[1], "off"))
            {
            resp_put_error(out, "ERR RIFT.TRACE on|off");
            return;
        }
        if (!n->tr)
            {
            resp_put_error(out, "ERR no --trace file");
            return;
        }
        trace_set_enabled(n->tr, on);
        resp_put_simple(out, "OK");
    } else {
        resp_put_error(out, "ERR unknown command '%.64s'", cmd->argv[0]);
    }
}

static void on_close(resp_conn *c, void *arg)
{
    (void)arg;
    free(resp_conn_data(c));
}

/* --- start / stop ---------------------------------------------------------------- */

/* --dir: recover the committed prefix. A node that had committed anything
 * restarts as a joiner already synced at that sequence number: the control
 * plane removes its old incarnation and adds it back as tail, and its new
 * predecessor resends only the entries after it. */
static int open_disk(cn *n, char *err, size_t errlen)
{
    char derr[256];
    chain_disk_info info;
    kv *state = kv_new();
    if (!state)
        return errf(err, errlen, "out of memory");
    n->disk = chain_disk_open(n->cfg->dir, n->cfg->fsync_always, state, &info, derr, sizeof derr);
    if (!n->disk) {
        kv_free(state);
        return errf(err, errlen, "--dir: %s", derr);
    }
    if (info.truncated_torn)
        LOG_WARN("--dir %s: cut %" PRIu64 " bytes of a torn last record", n->cfg->dir,
                 info.truncated_torn);
    if (!info.seq) {
        kv_free(state);
        return 0;
    }
    LOG_INFO("--dir %s: restored committed seq %" PRIu64 " (snapshot %" PRIu64 " + %" PRIu64
             " entries); rejoining", n->cfg->dir, info.seq, info.snap_seq, info.replayed);
    chain_restore(n->chain, state, info.seq);
    n->restored_seq = info.seq;
    n->cfg->join = 1;
    return 0;
}

int cn_data_start(cn *n, char *err, size_t errlen)
{
    const cn_config *cfg = n->cfg;
    chain_options o = { .id = cfg->id, .bugs = cfg->bugs, .rto_ticks = 3, .joining = cfg->join,
                        .commit_data = cfg->dir[0] != 0, .log_retain = cfg->log_retain };
    n->chain = chain_new(&o);
    cn_byz_init(&n->byz, cfg->byzantine);
    buf_init(&n->byz_out);
    n->pending = calloc(CN_PENDING, sizeof *n->pending);
    if (!n->chain || !n->pending)
        return errf(err, errlen, "out of memory");
    if (cfg->dir[0] && open_disk(n, err, errlen) < 0)
        return -1;
    if (cn_net_open(n, err, errlen) < 0)
        return -1;
    chain_config initial = { .epoch = 1, .n = (uint16_t)cfg->n_members };
    memcpy(initial.members, cfg->members, sizeof initial.members);
    /* A node restored from --dir learns the current configuration from the
     * control plane instead: epoch 1 is long gone. */
    if (!n->restored_seq)
        chain_set_config(n->chain, &initial);
    n->was_member = !cfg->join && chain_config_index(&initial, cfg->id) >= 0;
    /* An incarnation id: the control plane tells a restart from a slow node. */
    n->boot = mono_now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
    if (!n->boot)
        n->boot = 1;
    joiner_bookkeeping(n);
    char serr[256];
    n->srv = resp_server_new(n->l, cfg->client, on_command, n, serr, sizeof serr);
    if (!n->srv)
        return errf(err, errlen, "--client %s: %s", cfg->client, serr);
    resp_server_on_close(n->srv, on_close);
    if (loop_add_fd(n->l, n->fd, LOOP_READ, on_udp, n) < 0)
        return errf(err, errlen, "event loop: cannot watch the UDP socket");
    n->timer_tick = loop_add_timer(n->l, cfg->tick_ns, cfg->tick_ns, on_tick, n);
    n->timer_hb = loop_add_timer(n->l, 1000000, cfg->heartbeat_ns, on_heartbeat, n);
    process(n);
    return 0;
}

void cn_data_stop(cn *n)
{
    if (n->srv)
        resp_server_free(n->srv);
    n->srv = NULL;
    if (n->timer_tick)
        loop_cancel_timer(n->l, n->timer_tick);
    if (n->timer_hb)
        loop_cancel_timer(n->l, n->timer_hb);
    if (n->fd >= 0)
        loop_del_fd(n->l, n->fd);
    cn_net_close(n);
    chain_free(n->chain);
    n->chain = NULL;
    cn_byz_free(&n->byz);
    buf_free(&n->byz_out);
    chain_disk_close(n->disk);
    n->disk = NULL;
    free(n->pending);
    n->pending = NULL;
}
