/* node.c: raft-node's engine: start-up and recovery, the core's ready/done
 * cycle, ticks, peer datagrams, request bookkeeping and shutdown.
 *
 * Durability and group commit. All events of one loop iteration (every
 * datagram and client command that arrived) are fed to the core first;
 * node_drive then carries out the accumulated actions once: messages are
 * sent before the disk work (the core only releases messages that are safe
 * to send before durability), then term/vote and the new entries are written
 * and made durable with ONE fsync, and only then reported back to the core.
 * While that fsync runs, new requests queue up in the sockets and become
 * the next batch: the more load, the bigger the batches. */
#define _GNU_SOURCE
#include "node.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/prng.h"

int64_t node_now(node *n) { return node_clock_now(&n->clock, mono_now_ns()); }

/* ---- requests waiting for the core -------------------------------------- */

/* Send the reply encoded in n->scratch for ticket t (a client that went
 * away meanwhile makes this a no-op). */
static void reply_ticket(node *n, resp_ticket t)
{
    resp_server_reply_ticket(n->srv, t, buf_ptr(&n->scratch), buf_size(&n->scratch));
    buf_reset(&n->scratch);
}

static void write_finish(node *n, node_write *w, const char *err, const kv_reply *r)
{
    if (r)
        node_put_kv_reply(&n->scratch, r);
    else
        resp_put_error(&n->scratch, "%s", err);
    reply_ticket(n, w->ticket);
    free(w);
}

/* An entry was applied at e->index: answer the writes waiting for it. A
 * write whose entry was replaced by another term's entry certainly failed;
 * a write below the applied index that we never saw apply (the log jumped
 * via a snapshot) has an unknown outcome. */
static void writes_applied(node *n, const raft_entry *e, const kv_reply *r)
{
    while (n->w_head && n->w_head->index <= e->index) {
        node_write *w = n->w_head;
        n->w_head = w->next;
        if (!n->w_head)
            n->w_tail = NULL;
        if (w->index < e->index) {
            n->cnt.timeouts++;
            write_finish(n, w, "TIMEOUT outcome unknown (log replaced by a snapshot)", NULL);
        } else if (w->term == e->term && r) {
            n->cnt.writes_ok++;
            write_finish(n, w, NULL, r);
        } else {
            n->cnt.writes_lost++;
            write_finish(n, w, "ERR LOST the entry was replaced by another leader's; not applied", NULL);
        }
    }
}

void node_write_wait(node *n, resp_conn *c, raft_index index, raft_term term)
{
    /* Proposals get increasing indexes, except after our log was truncated
     * (we lost leadership and won again): waiting writes at or above the new
     * index were in the truncated part and are lost. */
    if (n->w_tail && n->w_tail->index >= index) {
        node_write **pp = &n->w_head, *keep_tail = NULL;
        while (*pp) {
            node_write *w = *pp;
            if (w->index >= index) {
                *pp = w->next;
                n->cnt.writes_lost++;
                write_finish(n, w, "ERR LOST the entry was truncated by a new leader; not applied", NULL);
            } else {
                keep_tail = w;
                pp = &w->next;
            }
        }
        n->w_tail = keep_tail;
    }
    node_write *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->index = index;
    w->term = term;
    w->ticket = resp_conn_defer(c);
    w->deadline = mono_now_ns() + NODE_REQUEST_TIMEOUT_NS;
    node_session_of(c)->last_write = index;
    if (n->w_tail)
        n->w_tail->next = w;
    else
        n->w_head = w;
    n->w_tail = w;
}

static void read_unlink(node *n, node_read **pp, node_read *prev)
{
    node_read *rd = *pp;
    *pp = rd->next;
    if (n->r_tail == rd)
        n->r_tail = prev;
}

static void read_reply(node *n, node_read *rd)
{
    n->cnt.reads_ok++;
    node_answer_read(n, &n->scratch, rd->op, rd->key, rd->klen);
    reply_ticket(n, rd->ticket);
    free(rd);
}

static void read_answer(node *n, const raft_read_result *res)
{
    node_read **pp = &n->r_head, *prev = NULL;
    while (*pp && (*pp)->id != res->id) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    node_read *rd = *pp;
    if (!rd)
        return; /* timed out already */
    if (res->status == RAFT_OK && n->applied < rd->after) {
        rd->confirmed = 1; /* answered by reads_release once its own write applied */
        return;
    }
    read_unlink(n, pp, prev);
    if (res->status == RAFT_OK) {
        read_reply(n, rd);
        return;
    }
    node_reply_notleader(n, &n->scratch);
    reply_ticket(n, rd->ticket);
    free(rd);
}

/* Confirmed reads that waited for their connection's earlier write. */
static void reads_release(node *n)
{
    raft_index applied = n->applied;
    for (node_read **pp = &n->r_head, *prev = NULL; *pp;) {
        node_read *rd = *pp;
        if (rd->confirmed && rd->after <= applied) {
            read_unlink(n, pp, prev);
            read_reply(n, rd);
        } else {
            prev = rd;
            pp = &rd->next;
        }
    }
}

int node_read_wait(node *n, resp_conn *c, enum raft_read_mode mode, uint8_t op,
                   const char *key, size_t klen)
{
    uint64_t id = ++n->next_read_id;
    int rc = raft_read(n->r, mode, id);
    if (rc != RAFT_OK)
        return rc;
    node_read *rd = malloc(sizeof *rd + klen);
    if (!rd)
        abort();
    memset(rd, 0, sizeof *rd);
    rd->id = id;
    rd->op = op;
    rd->ticket = resp_conn_defer(c);
    rd->deadline = mono_now_ns() + NODE_REQUEST_TIMEOUT_NS;
    rd->klen = klen;
    rd->after = node_session_of(c)->last_write;
    memcpy(rd->key, key, klen);
    if (n->r_tail)
        n->r_tail->next = rd;
    else
        n->r_head = rd;
    n->r_tail = rd;
    return RAFT_OK;
}

/* Requests that waited too long: answer -TIMEOUT (the outcome is unknown:
 * the write may still commit later). */
static void requests_expire(node *n, uint64_t now)
{
    for (node_write **pp = &n->w_head, *prev = NULL; *pp;) {
        node_write *w = *pp;
        if (w->deadline > now) {
            prev = w;
            pp = &w->next;
            continue;
        }
        *pp = w->next;
        if (n->w_tail == w)
            n->w_tail = prev;
        n->cnt.timeouts++;
        write_finish(n, w, "TIMEOUT no commit in time; the write may still happen", NULL);
    }
    for (node_read **pp = &n->r_head, *prev = NULL; *pp;) {
        node_read *rd = *pp;
        if (rd->deadline > now) {
            prev = rd;
            pp = &rd->next;
            continue;
        }
        *pp = rd->next;
        if (n->r_tail == rd)
            n->r_tail = prev;
        n->cnt.timeouts++;
        resp_put_error(&n->scratch, "TIMEOUT read not confirmed in time");
        reply_ticket(n, rd->ticket);
        free(rd);
    }
}

/* ---- the ready/done cycle --------------------------------------------------- */

/* Encode and send one message; trace it as it left (the clocks it carries). */
static void send_one(node *n, const raft_msg *m)
{
    static uint8_t body[WIRE_MAX_BODY];
    int len = raft_msg_encode(m, body, sizeof body);
    if (len < 0) {
        LOG_WARN("cannot encode %s for n%u", raft_msg_type_name(m->type), m->to);
        return;
    }
    vclock_tick(&n->vc, (uint16_t)(n->cfg->id - 1));
    uint64_t seq;
    if (node_net_send(&n->net, m->to, m->type, lamport_send(&n->lc), &n->vc, body, (size_t)len,
                      &seq) == 0)
        node_trace_send(&n->trace, m->to, m->type, seq, m->term);
}

static void send_msgs(node *n, const raft_msg *msgs, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        raft_msg out;
        if (!node_byz_send(&n->byz, &msgs[i], &out)) /* honest: out is msgs[i] */
            continue;
        if (out.type == RAFT_MSG_APPEND && out.u.append.entries != msgs[i].u.append.entries)
            node_trace_byz(&n->trace, node_byz_name(n->byz.mode), "equivocate", out.to, out.term,
                           out.u.append.prev_index + 1);
        send_one(n, &out);
    }
}

static void trace_events(node *n, const raft_out *o)
{
    for (size_t i = 0; i < o->n_events; i++) {
        const raft_event *ev = &o->events[i];
        switch (ev->type) {
        case RAFT_EV_ROLE:
            LOG_INFO("%s term=%" PRIu64 " leader=%u", raft_role_name((enum raft_role)ev->role),
                     ev->term, ev->peer);
            node_trace_role(&n->trace, raft_role_name((enum raft_role)ev->role), ev->term, ev->peer);
            break;
        case RAFT_EV_VOTE_GRANTED:
            /* A double-voter's core answers are dropped (node_byz_send):
             * the votes it gave are the layer's, traced in on_udp. */
            if (n->byz.mode != NODE_BYZ_DOUBLE_VOTE)
                node_trace_vote(&n->trace, ev->peer, ev->term);
            break;
        case RAFT_EV_COMMIT: {
            /* Without the entry there is no hash to compare: say nothing
             * rather than a hash that would look like a different entry. */
            const raft_entry *e = raft_entry_at(n->r, ev->index);
            if (e)
                node_trace_commit(&n->trace, ev->index, ev->term, node_entry_hash(e));
            break;
        }
        case RAFT_EV_SNAPSHOT:
            node_trace_snapshot(&n->trace, ev->index, ev->term);
            break;
        }
    }
}

static void storage_failed(node *n, const char *what)
{
    /* A node that cannot make its state durable must not go on acting as if
     * it had: stop (the supervisor or operator restarts it; recovery copes). */
    n->cnt.storage_errors++;
    n->fatal = 1;
    LOG_ERROR("storage: %s failed: %s; stopping", what, raft_storage_error(n->st));
    loop_stop(n->l);
}

static void apply_entries(node *n, const raft_entry *es, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const raft_entry *e = &es[i];
        node_trace_apply(&n->trace, e);
        n->applied = e->index;
        n->cnt.applied_entries++;
        if (e->type == RAFT_ENTRY_NORMAL) {
            kv_reply r;
            kv_apply(n->kv, e->data, e->len, &r);
            writes_applied(n, e, &r);
        } else {
            writes_applied(n, e, NULL);
        }
    }
}

/* The core's snapshot_ok: restore into a scratch state machine. A snapshot
 * that does not restore is dropped before install (raft.h), so a garbled
 * transfer on unauthenticated links cannot stop the node. */
static bool snapshot_restores(void *arg, const uint8_t *data, size_t len)
{
    (void)arg;
    kv *k = kv_new();
    bool ok = k && kv_restore(k, data, len) == 0;
    kv_free(k);
    return ok;
}

static void take_snapshot(node *n)
{
    raft_index idx = raft_applied_index(n->r);
    raft_term term = raft_term_at(n->r, idx);
    uint8_t *data;
    size_t len;
    if (idx == 0 || term == 0 || kv_snapshot(n->kv, &data, &len) < 0)
        return;
    raft_index keep = idx > n->trailing ? idx - n->trailing + 1 : 1;
    if (raft_storage_save_snapshot(n->st, idx, term, data, len, keep) < 0)
        storage_failed(n, "save snapshot");
    else if (raft_snapshot_taken(n->r, idx, data, len) == RAFT_OK)
        n->cnt.snapshots_taken++;
    free(data);
}

void node_drive(node *n)
{
    /* Bounded so one busy burst cannot starve the sockets; main.c polls
     * without sleeping while raft_has_ready() still reports work. */
    for (int round = 0; round < 16 && raft_has_ready(n->r); round++) {
        const raft_out *o = raft_ready(n->r);
        int report_state = 0, report_log = 0, want_snapshot = o->want_snapshot;
        raft_term st_term = o->term, log_term = 0;
        raft_id st_vote = o->vote;
        raft_index log_index = 0;

        trace_events(n, o);
        if (o->snapshot_install) {
            if (kv_restore(n->kv, o->snap_data, o->snap_len) < 0) {
                /* The core already counts the snapshot as applied: going on
                 * would serve a state machine that lags what the log says.
                 * Stop before anything of this cycle (acks, reads) goes out;
                 * on restart the node recovers from its own disk. */
                LOG_ERROR("fatal: the leader's snapshot at index %" PRIu64 " (%zu bytes) does not "
                          "restore into the state machine; stopping", o->snap_index, o->snap_len);
                n->fatal = 1;
                loop_stop(n->l);
                return;
            } else if (raft_storage_save_snapshot(n->st, o->snap_index, o->snap_term, o->snap_data,
                                                  o->snap_len, o->snap_index + 1) < 0) {
                storage_failed(n, "install snapshot");
            } else {
                n->cnt.snapshots_installed++;
                n->applied = o->snap_index;
                report_log = 1;
                log_index = o->snap_index;
                log_term = o->snap_term;
            }
        }
        send_msgs(n, o->msgs, o->n_msgs);
        if (o->persist_state) {
            if (raft_storage_save_state(n->st, o->term, o->vote) < 0)
                storage_failed(n, "save term/vote");
            else
                report_state = 1;
        }
        if (o->truncate_from && raft_storage_truncate(n->st, o->truncate_from) < 0)
            storage_failed(n, "truncate");
        if (o->n_append) {
            const raft_entry *last = &o->append[o->n_append - 1];
            node_trace_append(&n->trace, o->append[0].index, last->index, last->term);
            if (raft_storage_append(n->st, o->append, o->n_append) < 0 || raft_storage_sync(n->st) < 0) {
                storage_failed(n, "append");
            } else {
                report_log = 1;
                log_index = last->index;
                log_term = last->term;
            }
        } else if (o->truncate_from && raft_storage_sync(n->st) < 0) {
            storage_failed(n, "sync");
        }
        apply_entries(n, o->apply, o->n_apply);
        for (size_t i = 0; i < o->n_reads; i++)
            read_answer(n, &o->reads[i]);
        if (n->r_head)
            reads_release(n);
        raft_done(n->r);
        if (report_state)
            raft_persisted_state(n->r, st_term, st_vote);
        if (report_log)
            raft_persisted_log(n->r, log_index, log_term);
        if (want_snapshot)
            take_snapshot(n);
        if (n->fatal)
            return;
    }
}

/* ---- events from the loop --------------------------------------------------- */

static void propose_expiry(const uint8_t *key, size_t klen, uint64_t version, void *arg)
{
    node *n = arg;
    uint8_t cmd[KV_MAX_KEY + 32];
    int len = kv_encode_expire(cmd, sizeof cmd, key, klen, version);
    raft_index idx;
    raft_term term;
    if (len > 0 && raft_propose(n->r, RAFT_ENTRY_NORMAL, cmd, (size_t)len, &idx, &term) == RAFT_OK)
        n->cnt.expiries_proposed++;
}

static void on_tick(loop *l, uint64_t id, void *arg)
{
    (void)l;
    (void)id;
    node *n = arg;
    int64_t now = node_now(n);
    raft_tick(n->r, now);
    /* TTL expiry is the leader's decision, by its clock, replicated as
     * EXPIRE commands; a re-report waits a second in case one was lost. */
    if (raft_role(n->r) == RAFT_LEADER)
        kv_collect_expired(n->kv, now / 1000000, 1000, 256, propose_expiry, n);
    requests_expire(n, mono_now_ns());
}

/* Send the answer the Byzantine layer made up for m, and say in the trace
 * what the node did: a granted vote is a vote, whatever the core thinks. */
static void byz_reply(node *n, const raft_msg *m)
{
    const raft_msg *r = &n->byz.reply;
    const char *mode = node_byz_name(n->byz.mode);
    if (r->type == RAFT_MSG_VOTE_RESP)
        node_trace_vote(&n->trace, r->to, r->term);
    else if (r->type == RAFT_MSG_APPEND_RESP && m->u.append.n_entries > 0)
        node_trace_byz(&n->trace, mode, "ack-unstored", r->to, r->term, r->u.append_resp.match_index);
    send_one(n, r);
}

static void on_udp(loop *l, int fd, unsigned events, void *arg)
{
    (void)l;
    (void)fd;
    (void)events;
    node *n = arg;
    static uint8_t dgram[WIRE_MAX_DATAGRAM + 1];
    /* Bounded per wake-up; the rest waits for the next iteration. */
    for (int i = 0; i < 512; i++) {
        node_datagram d;
        int rc = node_net_recv(&n->net, dgram, sizeof dgram, &d);
        if (rc < 0)
            break;
        raft_msg m;
        if (rc == 1 && raft_msg_decode(d.h.type, d.h.src, d.h.dst, d.body, d.len, &m) != RAFT_OK) {
            raft_msg_free(&m);
            node_net_malformed(&n->net, &d);
            rc = 0;
        }
        if (rc == 0) {
            node_trace_reject(&n->trace, d.h.src, wire_reject_name(d.reject));
            continue;
        }
        lamport_recv(&n->lc, d.h.lamport);
        vclock_merge(&n->vc, &d.vc);
        vclock_tick(&n->vc, (uint16_t)(n->cfg->id - 1));
        node_trace_recv(&n->trace, m.from, m.type, d.h.seq, m.term);
        /* The ack the leader is about to count (the core ignores stale
         * terms and non-leaders the same way). */
        if (m.type == RAFT_MSG_APPEND_RESP && m.u.append_resp.success &&
            raft_role(n->r) == RAFT_LEADER && m.term == raft_current_term(n->r))
            node_trace_ack(&n->trace, m.from, m.term, m.u.append_resp.match_index);
        raft_msg core;
        unsigned act = node_byz_recv(&n->byz, &m, &core);
        if (act & NODE_BYZ_REPLY)
            byz_reply(n, &m);
        if (act & NODE_BYZ_PASS)
            raft_recv(n->r, &core);
        raft_msg_free(&m);
    }
}

/* ---- start / stop ------------------------------------------------------------ */

static int make_dir(const char *path)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

int node_start(node *n, const node_config *cfg, loop *l)
{
    char err[512];
    memset(n, 0, sizeof *n);
    n->cfg = cfg;
    n->l = l;
    n->net.fd = -1;
    buf_init(&n->scratch);
    n->start_ns = mono_now_ns();
    node_clock_init(&n->clock, n->start_ns);
    vclock_init(&n->vc, cfg->max_id);
    n->kv = kv_new();
    node_byz_init(&n->byz, cfg->byzantine, cfg->id);

    if (make_dir(cfg->data_dir) < 0) {
        LOG_ERROR("--data %s: %s", cfg->data_dir, strerror(errno));
        return -1;
    }
    raft_storage_info info;
    n->st = raft_storage_open(cfg->data_dir, cfg->fsync ? RAFT_FSYNC_ALWAYS : RAFT_FSYNC_NEVER, 0,
                              &info, err, sizeof err);
    if (!n->st) {
        LOG_ERROR("storage %s: %s", cfg->data_dir, err);
        return -1;
    }
    if (info.boot.snap_index && kv_restore(n->kv, info.boot.snap_data, info.boot.snap_len) < 0) {
        LOG_ERROR("storage %s: the snapshot does not restore", cfg->data_dir);
        return -1;
    }

    raft_config rc;
    raft_config_default(&rc);
    rc.id = cfg->id;
    for (uint16_t i = 1; i <= cfg->max_id; i++)
        if (cfg->members[i].known && rc.n_nodes < RAFT_MAX_NODES)
            rc.nodes[rc.n_nodes++] = i;
    rc.seed = prng_derive(mono_now_ns() ^ ((uint64_t)getpid() << 20), cfg->id);
    rc.heartbeat_ns = (int64_t)cfg->heartbeat_ns;
    rc.election_timeout_ns = (int64_t)cfg->election_timeout_ns;
    rc.lease_ns = rc.election_timeout_ns * 9 / 10;
    for (int i = 0; i < cfg->nbugs; i++)
        rc.bugs |= raft_bug_parse(cfg->bugs[i]);
    rc.snapshot_threshold = cfg->snapshot_entries;
    rc.snapshot_ok = snapshot_restores;
    if (rc.snapshot_trailing > cfg->snapshot_entries / 2)
        rc.snapshot_trailing = cfg->snapshot_entries / 2;
    n->trailing = rc.snapshot_trailing;
    n->r = raft_new(&rc, &info.boot, node_now(n), err, sizeof err);
    if (!n->r) {
        LOG_ERROR("raft: %s", err);
        return -1;
    }
    n->applied = info.boot.snap_index;
    LOG_INFO("recovered term=%" PRIu64 " vote=%u snapshot=%" PRIu64 " last=%" PRIu64,
             raft_current_term(n->r), raft_voted_for(n->r), raft_snapshot_index(n->r),
             raft_last_index(n->r));

    if (node_net_open(&n->net, cfg, err, sizeof err) < 0) {
        LOG_ERROR("%s", err);
        return -1;
    }
    n->srv = resp_server_new(l, cfg->client_str, node_command, n, err, sizeof err);
    if (!n->srv) {
        LOG_ERROR("--client %s: %s", cfg->client_str, err);
        return -1;
    }
    resp_server_on_close(n->srv, node_session_close);
    if (loop_add_fd(l, n->net.fd, LOOP_READ, on_udp, n) < 0) {
        LOG_ERROR("loop: cannot watch the UDP socket");
        return -1;
    }
    n->trace.self = cfg->id;
    n->trace.lc = &n->lc;
    n->trace.vc = &n->vc;
    if (cfg->trace_file[0]) {
        char name[16];
        snprintf(name, sizeof name, "n%u", cfg->id);
        n->trace.t = trace_open(cfg->trace_file, name, err, sizeof err);
        if (!n->trace.t) {
            LOG_ERROR("--trace %s: %s", cfg->trace_file, err);
            return -1;
        }
        trace_set_epoch(n->trace.t, n->start_ns);
        trace_set_clocks(n->trace.t, &n->lc, &n->vc);
        trace_attach(n->trace.t, l);
        node_trace_start(&n->trace, node_byz_name(cfg->byzantine), n->net.has_key);
    }
    uint64_t period = cfg->heartbeat_ns / 5;
    if (period < 1000000)
        period = 1000000;
    n->tick_timer = loop_add_timer(l, period, period, on_tick, n);
    return 0;
}

void node_stop(node *n)
{
    /* Waiting requests are dropped unanswered: their connections close below. */
    while (n->w_head) {
        node_write *w = n->w_head;
        n->w_head = w->next;
        free(w);
    }
    while (n->r_head) {
        node_read *rd = n->r_head;
        n->r_head = rd->next;
        free(rd);
    }
    n->w_tail = NULL;
    n->r_tail = NULL;
    if (n->tick_timer)
        loop_cancel_timer(n->l, n->tick_timer);
    if (n->srv)
        resp_server_free(n->srv);
    buf_free(&n->scratch);
    if (n->net.fd >= 0) {
        loop_del_fd(n->l, n->net.fd);
        node_net_close(&n->net);
    }
    if (n->st) {
        raft_storage_sync(n->st);
        raft_storage_close(n->st);
    }
    if (n->r)
        raft_free(n->r);
    kv_free(n->kv);
    node_byz_free(&n->byz);
    if (n->trace.t)
        trace_close(n->trace.t);
    memset(n, 0, sizeof *n);
}
