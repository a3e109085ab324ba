/* node_config.h: raft-node's configuration, read from command-line flags.
 *
 * Node ids are 1..NODE_MAX_ID; id N is entry N-1 of the vector clocks in
 * trace events ("nN"). Every address is IPv4 HOST:PORT (riftlab only ever
 * talks to loopback or to its own namespaces). */
#ifndef RIFTLAB_NODE_CONFIG_H
#define RIFTLAB_NODE_CONFIG_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/log.h"

#define NODE_MAX_ID   VCLOCK_MAX
#define NODE_MAX_BUGS 8
#define NODE_ADDR_LEN 64

/* What we know about one member (including ourselves, for addresses). */
typedef struct node_member {
    int known;                       /* listed by --peer or --peer-client (or is self) */
    int has_udp;
    struct sockaddr_in udp;          /* where to send datagrams for it (maybe a proxy port) */
    char client[NODE_ADDR_LEN];      /* its RESP address, for -NOTLEADER redirects ("" unknown) */
} node_member;

typedef struct node_config {
    uint16_t id;
    struct sockaddr_in listen;       /* our UDP address */
    struct sockaddr_in client;       /* our RESP (TCP) address */
    char client_str[NODE_ADDR_LEN];
    node_member members[NODE_MAX_ID + 1];  /* indexed by id; [0] unused */
    uint16_t max_id;                 /* highest id mentioned */
    uint32_t cluster;
    char data_dir[512];
    char key_file[512];              /* "" = unauthenticated links */
    int fsync;                       /* 1 always, 0 never (unsafe) */
    char trace_file[512];            /* "" = no trace */
    uint64_t election_timeout_ns;
    uint64_t heartbeat_ns;
    uint64_t snapshot_entries;       /* snapshot when this many entries follow the last one */
    enum log_level log_level;
    const char *bugs[NODE_MAX_BUGS];
    int nbugs;
    int byzantine;                   /* enum node_byz_mode (node_byz.h); 0 honest */
} node_config;

/* Parse argv. Returns 0 (run), 1 (--help was printed), or -1 with a message
 * in err (bad usage: the caller exits 254). */
int node_config_parse(node_config *c, int argc, char **argv, char *err, size_t errlen);
void node_config_usage(FILE *out);

/* Parse "HOST:PORT" (common/net.h rules). Returns 0 or -1. */
int node_parse_addr(const char *s, struct sockaddr_in *out, char *err, size_t errlen);

#endif
