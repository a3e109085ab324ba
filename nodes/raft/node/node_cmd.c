/* node_cmd.c: what raft-node answers to each client command (RESP2).
 *
 * Writes (SET, DEL, CAS) go to the leader's log and are answered when they
 * apply. Reads (GET, VERSION) follow the connection's CONSISTENCY mode:
 * linearizable and lease go through the core (leader only), sequential and
 * eventual answer at once from this node's applied state. A follower
 * answers writes and leader-only reads with -NOTLEADER <id> <addr>. */
#define _GNU_SOURCE
#include "node.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/parse.h"


static const char *const mode_names[] = {"linearizable", "lease", "sequential", "eventual"};

void node_put_kv_reply(buf *b, const kv_reply *r)
{
    switch (r->type) {
    case KV_REPLY_OK: resp_put_simple(b, "OK"); break;
    case KV_REPLY_NIL: resp_put_nil(b); break;
    case KV_REPLY_INT: resp_put_int(b, r->integer); break;
    case KV_REPLY_BULK: resp_put_bulk(b, r->data, r->len); break;
    case KV_REPLY_ERR: resp_put_error(b, "%.*s", (int)r->len, (const char *)r->data); break;
    }
}

void node_reply_notleader(node *n, buf *b)
{
    raft_id leader = raft_leader(n->r);
    n->cnt.redirects++;
    const char *addr = leader && leader <= NODE_MAX_ID && n->cfg->members[leader].client[0]
                           ? n->cfg->members[leader].client : "-";
    /* Leader unknown (an election is running): "-NOTLEADER 0 -". */
    resp_put_error(b, "NOTLEADER %u %s", leader, addr);
}

void node_answer_read(node *n, buf *b, uint8_t op, const char *key, size_t klen)
{
    if (op == NODE_READ_VERSION) {
        resp_put_int(b, (int64_t)kv_version(n->kv, key, klen));
        return;
    }
    kv_reply r;
    kv_get(n->kv, key, klen, &r);
    node_put_kv_reply(b, &r);
}

static int is(const resp_command *cmd, int i, const char *word)
{
    return strcasecmp(cmd->argv[i], word) == 0;
}

static void wrong_args(buf *b, const char *name)
{
    resp_put_error(b, "ERR wrong number of arguments for '%s' command", name);
}

node_session *node_session_of(resp_conn *c)
{
    node_session *s = resp_conn_data(c);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            abort();
        resp_conn_set_data(c, s);
    }
    return s;
}

void node_session_close(resp_conn *c, void *arg)
{
    (void)arg;
    free(resp_conn_data(c));
    resp_conn_set_data(c, NULL);
}

static void do_read(node *n, resp_conn *c, const resp_command *cmd, uint8_t op)
{
    int mode = node_session_of(c)->mode;
    if (mode == NODE_SEQUENTIAL || mode == NODE_EVENTUAL) {
        node_answer_read(n, resp_conn_out(c), op, cmd->argv[1], cmd->argl[1]);
        return;
    }
    if (raft_role(n->r) != RAFT_LEADER) {
        node_reply_notleader(n, resp_conn_out(c));
        return;
    }
    int rc = node_read_wait(n, c, mode == NODE_LEASE ? RAFT_READ_LEASE : RAFT_READ_LINEARIZABLE,
                            op, cmd->argv[1], cmd->argl[1]);
    if (rc == RAFT_EBUSY)
        resp_put_error(resp_conn_out(c), "ERR BUSY too many reads waiting; retry");
    else if (rc != RAFT_OK)
        resp_put_error(resp_conn_out(c), "ERR read: %s", raft_strerror(rc));
}

static void propose(node *n, resp_conn *c, const uint8_t *cmd, int len)
{
    raft_index idx;
    raft_term term;
    if (len < 0) {
        resp_put_error(resp_conn_out(c), "ERR key or value too large");
        return;
    }
    int rc = raft_propose(n->r, RAFT_ENTRY_NORMAL, cmd, (size_t)len, &idx, &term);
    if (rc == RAFT_ENOTLEADER) {
        node_reply_notleader(n, resp_conn_out(c));
        return;
    }
    if (rc != RAFT_OK) {
        resp_put_error(resp_conn_out(c), "ERR %s", raft_strerror(rc));
        return;
    }
    n->cnt.proposals++;
    node_write_wait(n, c, idx, term);
}

/* SET k v [NX|XX] [PX ms] */
static void do_set(node *n, resp_conn *c, const resp_command *cmd, uint8_t *enc, size_t cap)
{
    uint8_t flags = 0;
    int64_t deadline = 0;
    for (int i = 3; i < cmd->argc; i++) {
        if (is(cmd, i, "NX") && !(flags & KV_SET_XX)) {
            flags |= KV_SET_NX;
        } else if (is(cmd, i, "XX") && !(flags & KV_SET_NX)) {
            flags |= KV_SET_XX;
        } else if (is(cmd, i, "PX") && i + 1 < cmd->argc && !(flags & KV_SET_PX)) {
            int64_t ms;
            char err[128];
            if (parse_int64(cmd->argv[++i], 1, INT64_MAX / 2000000, &ms, err, sizeof err) < 0) {
                resp_put_error(resp_conn_out(c), "ERR invalid expire time in 'set' command");
                return;
            }
            flags |= KV_SET_PX;
            /* The deadline is absolute by the leader's clock (kv.h). */
            deadline = node_now(n) / 1000000 + ms;
        } else {
            resp_put_error(resp_conn_out(c), "ERR syntax error");
            return;
        }
    }
    if (raft_role(n->r) != RAFT_LEADER) {
        node_reply_notleader(n, resp_conn_out(c));
        return;
    }
    propose(n, c, enc, kv_encode_set(enc, cap, cmd->argv[1], cmd->argl[1], cmd->argv[2],
                                     cmd->argl[2], flags, deadline));
}

static void put_status_json(node *n, buf *b)
{
    const node_net_stats *s = &n->net.stats;
    const uint64_t *rej = s->rej.by;
    const node_counters *k = &n->cnt;
    buf_printf(b,
        "{\"id\":%u,\"role\":\"%s\",\"term\":%" PRIu64 ",\"commit\":%" PRIu64
        ",\"applied\":%" PRIu64 ",\"last_index\":%" PRIu64 ",\"snapshot_index\":%" PRIu64
        ",\"leader\":%u,\"vote\":%u,\"keys\":%" PRIu64 ",\"kv_rev\":%" PRIu64
        ",\"fsync\":\"%s\",\"fsyncs\":%" PRIu64 ",\"clock_offset_ns\":%" PRId64 ",\"clock_drift_ppm\":%d"
        ",\"trace\":%s,\"bugs\":[",
        n->cfg->id, raft_role_name(raft_role(n->r)), raft_current_term(n->r),
        raft_commit_index(n->r), raft_applied_index(n->r), raft_last_index(n->r),
        raft_snapshot_index(n->r), raft_leader(n->r), raft_voted_for(n->r), kv_count(n->kv),
        kv_rev(n->kv), n->cfg->fsync ? "always" : "never", raft_storage_fsyncs(n->st),
        node_clock_offset(&n->clock, mono_now_ns()), n->clock.drift_ppm,
        n->trace.t && trace_enabled(n->trace.t) ? "true" : "false");
    for (int i = 0; i < n->cfg->nbugs; i++)
        buf_printf(b, "%s\"%s\"", i ? "," : "", raft_bug_name(raft_bug_parse(n->cfg->bugs[i])));
    buf_puts(b, "]");
    if (n->byz.mode)
        buf_printf(b, ",\"byzantine\":\"%s\",\"byzantine_actions\":%" PRIu64,
                   node_byz_name(n->byz.mode), n->byz.actions);
    buf_printf(b,
        ",\"counters\":{\"datagrams_sent\":%" PRIu64 ",\"datagrams_received\":%" PRIu64
        ",\"send_errors\":%" PRIu64 ",\"auth_failures\":%" PRIu64 ",\"malformed\":%" PRIu64
        ",\"other_cluster\":%" PRIu64 ",\"misdirected\":%" PRIu64 ",\"clients\":%zu"
        ",\"commands\":%" PRIu64 ",\"proposals\":%" PRIu64
        ",\"writes_ok\":%" PRIu64 ",\"writes_lost\":%" PRIu64 ",\"reads_ok\":%" PRIu64
        ",\"redirects\":%" PRIu64 ",\"timeouts\":%" PRIu64 ",\"applied_entries\":%" PRIu64
        ",\"expiries_proposed\":%" PRIu64 ",\"snapshots_taken\":%" PRIu64
        ",\"snapshots_installed\":%" PRIu64 ",\"storage_errors\":%" PRIu64 ",\"trace_events\":%" PRIu64 "}",
        s->sent, s->received, s->send_errors, rej[WIRE_REJECT_BAD_TAG] + rej[WIRE_REJECT_MISSING_TAG],
        rej[WIRE_REJECT_MALFORMED], rej[WIRE_REJECT_WRONG_CLUSTER], rej[WIRE_REJECT_MISDIRECTED],
        resp_server_conns(n->srv), n->commands, k->proposals,
        k->writes_ok, k->writes_lost, k->reads_ok, k->redirects, k->timeouts, k->applied_entries,
        k->expiries_proposed, k->snapshots_taken, k->snapshots_installed, k->storage_errors,
        n->trace.events);
    char rj[256];
    wire_rejects_json(&s->rej, rj, sizeof rj);
    buf_printf(b, ",\"rejected\":%s}", rj);
}

static void do_info(node *n, buf *out)
{
    buf b;
    buf_init(&b);
    buf_printf(&b, "# Server\r\nriftlab_node:raft-node\r\nnode_id:%u\r\n# Raft\r\nrole:%s\r\nterm:%" PRIu64
               "\r\nleader:%u\r\ncommit_index:%" PRIu64 "\r\napplied_index:%" PRIu64
               "\r\n# Keyspace\r\nkeys:%" PRIu64 "\r\n",
               n->cfg->id, raft_role_name(raft_role(n->r)), raft_current_term(n->r), raft_leader(n->r),
               raft_commit_index(n->r), raft_applied_index(n->r), kv_count(n->kv));
    resp_put_bulk(out, buf_ptr(&b), buf_size(&b));
    buf_free(&b);
}

static void do_clock(node *n, resp_conn *c, const resp_command *cmd)
{
    int64_t off, ppm;
    char err[128];
    if (cmd->argc != 3) {
        wrong_args(resp_conn_out(c), "rift.clock");
        return;
    }
    if (parse_int64(cmd->argv[1], -86400000, 86400000, &off, err, sizeof err) < 0 ||
        parse_int64(cmd->argv[2], -500000, 500000, &ppm, err, sizeof err) < 0) {
        resp_put_error(resp_conn_out(c), "ERR RIFT.CLOCK offset_ms drift_ppm: %s", err);
        return;
    }
    node_clock_set(&n->clock, mono_now_ns(), off * 1000000, (int32_t)ppm);
    resp_put_simple(resp_conn_out(c), "OK");
}

void node_command(resp_conn *c, resp_command *cmd, void *arg)
{
    node *n = arg;
    n->commands++;
    static uint8_t enc[KV_MAX_KEY + KV_MAX_VALUE * 2 + 64];
    const char *name = cmd->argc ? cmd->argv[0] : "";
    int argc = cmd->argc;
    if (argc == 0) {
        resp_put_error(resp_conn_out(c), "ERR empty command");
    } else if (is(cmd, 0, "GET") || is(cmd, 0, "VERSION")) {
        if (argc != 2)
            wrong_args(resp_conn_out(c), name);
        else
            do_read(n, c, cmd, is(cmd, 0, "GET") ? NODE_READ_GET : NODE_READ_VERSION);
    } else if (is(cmd, 0, "SET")) {
        if (argc < 3)
            wrong_args(resp_conn_out(c), name);
        else
            do_set(n, c, cmd, enc, sizeof enc);
    } else if (is(cmd, 0, "DEL") || is(cmd, 0, "CAS")) {
        int del = is(cmd, 0, "DEL");
        if (argc != (del ? 2 : 4))
            wrong_args(resp_conn_out(c), name);
        else if (raft_role(n->r) != RAFT_LEADER)
            node_reply_notleader(n, resp_conn_out(c));
        else if (del)
            propose(n, c, enc, kv_encode_del(enc, sizeof enc, cmd->argv[1], cmd->argl[1]));
        else
            propose(n, c, enc, kv_encode_cas(enc, sizeof enc, cmd->argv[1], cmd->argl[1],
                                             cmd->argv[2], cmd->argl[2], cmd->argv[3], cmd->argl[3]));
    } else if (is(cmd, 0, "CONSISTENCY")) {
        int m = -1;
        for (int i = 0; argc == 2 && i < 4; i++)
            if (is(cmd, 1, mode_names[i]))
                m = i;
        if (argc == 1) {
            resp_put_cstr(resp_conn_out(c), mode_names[node_session_of(c)->mode]);
        } else if (m < 0) {
            resp_put_error(resp_conn_out(c), "ERR CONSISTENCY linearizable|lease|sequential|eventual");
        } else {
            node_session_of(c)->mode = m;
            resp_put_simple(resp_conn_out(c), "OK");
        }
    } else if (is(cmd, 0, "PING")) {
        if (argc > 1)
            resp_put_bulk(resp_conn_out(c), cmd->argv[1], cmd->argl[1]);
        else
            resp_put_simple(resp_conn_out(c), "PONG");
    } else if (is(cmd, 0, "INFO")) {
        do_info(n, resp_conn_out(c));
    } else if (is(cmd, 0, "RIFT.STATUS")) {
        buf b;
        buf_init(&b);
        put_status_json(n, &b);
        resp_put_bulk(resp_conn_out(c), buf_ptr(&b), buf_size(&b));
        buf_free(&b);
    } else if (is(cmd, 0, "RIFT.CLOCK")) {
        do_clock(n, c, cmd);
    } else if (is(cmd, 0, "RIFT.TRACE")) {
        if (argc != 2 || (!is(cmd, 1, "on") && !is(cmd, 1, "off"))) {
            resp_put_error(resp_conn_out(c), "ERR RIFT.TRACE on|off");
        } else if (!n->trace.t) {
            resp_put_error(resp_conn_out(c), "ERR no trace file (start with --trace FILE)");
        } else {
            trace_set_enabled(n->trace.t, is(cmd, 1, "on"));
            resp_put_simple(resp_conn_out(c), "OK");
        }
    } else if (is(cmd, 0, "COMMAND")) {
        resp_put_array(resp_conn_out(c), 0); /* redis-cli asks on connect */
    } else if (is(cmd, 0, "QUIT")) {
        resp_put_simple(resp_conn_out(c), "OK");
        resp_conn_close(c);
    } else {
        resp_put_error(resp_conn_out(c), "ERR unknown command '%.64s'", name);
    }
}
