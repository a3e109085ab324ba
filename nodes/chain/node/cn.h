/* cn.h: the chain-node binary's shared state (one process is either a
 * chain data node or a control plane node: --role data|ctrl).
 *
 *   cn_config.c  flags
 *   cn_net.c     UDP datagrams: DESIGN wire header, optional HMAC, the
 *                sender's vector clock, then the protocol body
 *   cn_data.c    the data role: the chain core on the event loop, RESP clients
 *   cn_ctrl.c    the control role: the control plane core on the event loop
 *   cn_msg.c     message type names, body checks before the cores see them
 *   cn_byz.c     --byzantine: the layer that rewrites what the data role sends
 *   main.c       start, signals, shutdown */
#ifndef RIFTLAB_CN_H
#define RIFTLAB_CN_H

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>

#include "chain.h"
#include "cn_byz.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/loop.h"
#include "common/buf.h"
#include "common/resp_server.h"
#include "common/trace.h"
#include "common/wire.h"
#include "ctrl.h"

#define CN_MAX_ID   VCLOCK_MAX    /* node ids 1..32 (vector clock entries) */
#define CN_ADDR_LEN 64
#define CN_PENDING  65536         /* client requests waiting for an answer */

enum cn_role { CN_ROLE_DATA, CN_ROLE_CTRL };

typedef struct cn_peer {
    int has_udp;
    struct sockaddr_in udp;       /* where datagrams for it go (maybe a proxy port) */
    char udp_str[CN_ADDR_LEN];
    char client[CN_ADDR_LEN];     /* its RESP address, for redirects ("" unknown) */
} cn_peer;

typedef struct cn_config {
    uint16_t id;
    enum cn_role role;
    char listen[CN_ADDR_LEN];     /* our UDP address */
    char advertise[CN_ADDR_LEN];  /* how others reach us (default: listen) */
    char client[CN_ADDR_LEN];     /* our RESP address ("" none: ctrl only) */
    cn_peer peers[CN_MAX_ID + 1];
    uint16_t ctrl[RAFT_MAX_NODES];
    int n_ctrl;
    uint16_t members[CHAIN_MAX_MEMBERS];   /* the initial chain, head first */
    int n_members;
    int join;                     /* start outside the chain and join as its tail */
    uint32_t cluster;
    char key_file[512];
    char trace_file[512];
    uint64_t tick_ns;             /* chain tick (retransmission unit) */
    uint64_t heartbeat_ns;        /* data -> ctrl heartbeat period */
    uint64_t detect_ns;           /* ctrl: remove a member silent this long */
    uint64_t election_ns;         /* ctrl: Raft election timeout */
    uint64_t timeout_ns;          /* a client request unanswered this long gets -TIMEOUT */
    uint32_t bugs;
    char dir[512];                /* --dir: durable committed prefix ("" none) */
    int fsync_always;             /* --fsync always (1) | never (0) */
    uint32_t log_retain;          /* --log-retain (0: the core's default) */
    enum log_level log_level;
    int byzantine;                /* enum cn_byz_mode (cn_byz.h); 0 honest */
} cn_config;

int cn_config_parse(cn_config *c, int argc, char **argv, char *err, size_t errlen);
void cn_config_usage(FILE *out);

/* A client request waiting for the chain core's reply. */
typedef struct cn_pending {
    uint64_t rid;                 /* 0: free */
    resp_ticket ticket;
    uint64_t deadline;
    int kind;                     /* enum chain_req_kind */
} cn_pending;

typedef struct cn {
    cn_config *cfg;
    loop *l;
    int fd;
    int has_key;
    wire_key key;
    uint64_t seq[CN_MAX_ID + 1];
    node_clock clock;             /* this node's time: monotonic + RIFT.CLOCK skew/drift */
    lamport lc;
    vclock vc;
    trace *tr;
    uint64_t timer_tick, timer_hb;
    uint64_t sent, received, dropped;
    wire_rejects rej;             /* why received datagrams were dropped (also in dropped);
                                     a bad vclock or body for its type is malformed */
    /* data role */
    chain_node *chain;
    resp_server *srv;
    cn_pending *pending;
    uint64_t next_rid;
    uint64_t lease_until;         /* monotonic ns; reads allowed before it */
    int seen_out, added;          /* joiner bookkeeping (see cn_data.c) */
    int was_member;               /* a member in some epoch (rejoin if removed) */
    uint64_t boot;                /* this process's incarnation (heartbeats) */
    struct chain_disk *disk;      /* --dir (NULL without) */
    uint64_t restored_seq;        /* committed seq recovered from --dir at start */
    uint64_t snap_installs;       /* state copies received (full snapshots) */
    int fatal;                    /* the disk failed: stopped without acknowledging (exit 255) */
    cn_byz byz;                   /* --byzantine: rewrites outgoing UPDATEs (cn_byz.h) */
    buf byz_out;                  /* a rewritten body */
    /* ctrl role */
    ctrl_node *ctrl;
} cn;

/* cn_net.c */
/* Lamport and vector clocks at zero (before the first trace event). */
void cn_clocks_init(cn *n);
int cn_net_open(cn *n, char *err, size_t errlen);
void cn_net_close(cn *n);
void cn_net_send(cn *n, uint16_t to, uint8_t type, const void *body, size_t len);
/* Reads every waiting datagram and calls fn for each valid one. */
typedef void (*cn_recv_fn)(cn *n, const wire_header *h, const uint8_t *body, size_t len);
void cn_net_drain(cn *n, cn_recv_fn fn);
/* Remember where id is (from a CONFIG or a heartbeat); ignores bad text. */
void cn_peer_learn(cn *n, uint16_t id, const char *udp, const char *client);
void cn_trace(cn *n, const char *kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The trace's start event (system, role, id, auth, byzantine if any). */
void cn_trace_start(cn *n);
/* "update", "ack", "heartbeat", "vote", ... or "unknown": any type this binary sends. */
const char *cn_msg_type_name(uint8_t type);
/* 0 if body decodes as a message of this type, else -1. */
int cn_msg_check(uint8_t type, uint16_t src, uint16_t dst, const uint8_t *body, size_t len);
/* RIFT.STATUS's "rejected" object. */
void cn_rejects_json(const cn *n, buf *b);
/* This node's clock (ns), which RIFT.CLOCK may skew and drift. */
uint64_t cn_now(const cn *n);
/* RIFT.CLOCK offset_ms drift_ppm (both roles). */
void cn_clock_command(cn *n, resp_conn *c, resp_command *cmd);

/* cn_data.c / cn_ctrl.c */
int cn_data_start(cn *n, char *err, size_t errlen);
void cn_data_stop(cn *n);
int cn_ctrl_start(cn *n, char *err, size_t errlen);
void cn_ctrl_stop(cn *n);

#endif
