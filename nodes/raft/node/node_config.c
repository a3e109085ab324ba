/* node_config.c: raft-node's flags (see docs/raft-node.md for each one). */
#define _GNU_SOURCE
#include "node_config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/errf.h"
#include "common/net.h"
#include "common/parse.h"
#include "node_byz.h"

void node_config_usage(FILE *out)
{
    fputs(
"usage: raft-node --id N --listen HOST:PORT --client HOST:PORT --peer ID=HOST:PORT ...\n"
"                 [options]\n"
"A Raft-replicated key-value store (riftlab). Peers talk UDP (DESIGN wire\n"
"format); clients talk RESP2 (redis-cli works).\n"
"\n"
"  --id N                   this node's id (1..32)\n"
"  --listen HOST:PORT       UDP address for peer messages\n"
"  --client HOST:PORT       TCP address for RESP clients\n"
"  --peer ID=HOST:PORT      where to send datagrams for peer ID (repeat per peer;\n"
"                           may be a faultproxy port)\n"
"  --peer-client ID=HOST:PORT  peer ID's RESP address, named in -NOTLEADER redirects\n"
"  --cluster N              cluster id in every datagram (default 1)\n"
"  --data DIR               state directory (default ./raft-data-<id>)\n"
"  --key FILE               HMAC-SHA256 link key (mode 0600); peers must share it\n"
"  --fsync always|never     fsync before acting on durable state (default always;\n"
"                           never is deliberately unsafe)\n"
"  --trace FILE             write trace events (JSON lines) to FILE\n"
"  --election-timeout D     base election timeout (default 300ms; randomized up to 2x)\n"
"  --heartbeat D            leader heartbeat interval (default 50ms)\n"
"  --snapshot-entries N     take a snapshot (and compact the log) every N applied\n"
"                           entries (default 16384; 0 never)\n"
"  --log-level L            debug|info|warn|error|off (default info)\n"
"  --bug NAME               enable a deliberate defect (repeatable): stale-read,\n"
"                           commit-old-term, no-log-check, forget-vote, ack-before-fsync\n"
"  --byzantine MODE         act as a Byzantine node (testing only; docs/raft-node.md):\n"
"                           double-vote (grant every vote request), term-inflation\n"
"                           (announce term + 1000000), lie-append (acknowledge appends\n"
"                           without storing them), equivocate (as leader, send other\n"
"                           values to even-numbered followers)\n"
"  -h, --help               this text\n", out);
}

int node_parse_addr(const char *s, struct sockaddr_in *out, char *err, size_t errlen)
{
    return net_parse_addr(s, out, err, errlen);
}

/* "ID=HOST:PORT" -> id and the address text after '='. */
static int parse_member(node_config *c, const char *flag, const char *s, uint16_t *id,
                        const char **addr, char *err, size_t errlen)
{
    const char *eq = strchr(s, '=');
    char num[16], perr[128];
    int64_t v;
    if (!eq || (size_t)(eq - s) >= sizeof num)
        return errf(err, errlen, "%s: expected ID=HOST:PORT, got '%s'", flag, s);
    memcpy(num, s, (size_t)(eq - s));
    num[eq - s] = 0;
    if (parse_int64(num, 1, NODE_MAX_ID, &v, perr, sizeof perr) < 0)
        return errf(err, errlen, "%s: bad id in '%s': %s", flag, s, perr);
    *id = (uint16_t)v;
    *addr = eq + 1;
    c->members[*id].known = 1;
    if (*id > c->max_id)
        c->max_id = *id;
    return 0;
}

static int set_path(char *dst, size_t cap, const char *flag, const char *v, char *err, size_t errlen)
{
    if (strlen(v) >= cap || !*v)
        return errf(err, errlen, "%s: path empty or too long", flag);
    strcpy(dst, v);
    return 0;
}

enum { OPT_ID = 256, OPT_LISTEN, OPT_CLIENT, OPT_PEER, OPT_PEER_CLIENT, OPT_CLUSTER, OPT_DATA,
       OPT_KEY, OPT_FSYNC, OPT_TRACE, OPT_ELECTION, OPT_HEARTBEAT, OPT_LOGLEVEL, OPT_BUG,
       OPT_SNAPSHOT, OPT_BYZANTINE };

static const struct option node_options[] = {
    {"id", required_argument, NULL, OPT_ID},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"client", required_argument, NULL, OPT_CLIENT},
    {"peer", required_argument, NULL, OPT_PEER},
    {"peer-client", required_argument, NULL, OPT_PEER_CLIENT},
    {"cluster", required_argument, NULL, OPT_CLUSTER},
    {"data", required_argument, NULL, OPT_DATA},
    {"key", required_argument, NULL, OPT_KEY},
    {"fsync", required_argument, NULL, OPT_FSYNC},
    {"trace", required_argument, NULL, OPT_TRACE},
    {"election-timeout", required_argument, NULL, OPT_ELECTION},
    {"heartbeat", required_argument, NULL, OPT_HEARTBEAT},
    {"log-level", required_argument, NULL, OPT_LOGLEVEL},
    {"bug", required_argument, NULL, OPT_BUG},
    {"snapshot-entries", required_argument, NULL, OPT_SNAPSHOT},
    {"byzantine", required_argument, NULL, OPT_BYZANTINE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int node_config_option(node_config *c, int opt, const char *v, int *have, char *err, size_t errlen)
{
    char perr[160];
    int64_t n;
    uint16_t id;
    const char *addr;
    switch (opt) {
    case OPT_ID:
        if (parse_int64(v, 1, NODE_MAX_ID, &n, perr, sizeof perr) < 0)
            return errf(err, errlen, "--id: %s", perr);
        c->id = (uint16_t)n;
        have[0] = 1;
        return 0;
    case OPT_LISTEN:
        have[1] = 1;
        return node_parse_addr(v, &c->listen, err, errlen);
    case OPT_CLIENT:
        have[2] = 1;
        if (strlen(v) >= NODE_ADDR_LEN)
            return errf(err, errlen, "--client: address too long");
        strcpy(c->client_str, v);
        return node_parse_addr(v, &c->client, err, errlen);
    case OPT_PEER:
        if (parse_member(c, "--peer", v, &id, &addr, err, errlen) < 0)
            return -1;
        c->members[id].has_udp = 1;
        return node_parse_addr(addr, &c->members[id].udp, err, errlen);
    case OPT_PEER_CLIENT: {
        struct sockaddr_in tmp;
        if (parse_member(c, "--peer-client", v, &id, &addr, err, errlen) < 0 ||
            node_parse_addr(addr, &tmp, err, errlen) < 0)
            return -1;
        if (strlen(addr) >= NODE_ADDR_LEN)
            return errf(err, errlen, "--peer-client: address too long");
        strcpy(c->members[id].client, addr);
        return 0;
    }
    case OPT_CLUSTER:
        if (parse_int64(v, 0, UINT32_MAX, &n, perr, sizeof perr) < 0)
            return errf(err, errlen, "--cluster: %s", perr);
        c->cluster = (uint32_t)n;
        return 0;
    case OPT_DATA:
        return set_path(c->data_dir, sizeof c->data_dir, "--data", v, err, errlen);
    case OPT_KEY:
        return set_path(c->key_file, sizeof c->key_file, "--key", v, err, errlen);
    case OPT_TRACE:
        return set_path(c->trace_file, sizeof c->trace_file, "--trace", v, err, errlen);
    case OPT_FSYNC:
        if (strcmp(v, "always") == 0)
            c->fsync = 1;
        else if (strcmp(v, "never") == 0)
            c->fsync = 0;
        else
            return errf(err, errlen, "--fsync: expected always or never, got '%s'", v);
        return 0;
    case OPT_ELECTION:
    case OPT_HEARTBEAT: {
        uint64_t d;
        if (parse_duration_ns(v, &d, perr, sizeof perr) < 0 || d < 1000000 || d > 60000000000ull)
            return errf(err, errlen, "%s: %s", opt == OPT_ELECTION ? "--election-timeout" : "--heartbeat",
                        perr[0] ? perr : "must be between 1ms and 60s");
        *(opt == OPT_ELECTION ? &c->election_timeout_ns : &c->heartbeat_ns) = d;
        if (opt == OPT_HEARTBEAT)
            have[3] = 1;
        return 0;
    }
    case OPT_SNAPSHOT:
        if (parse_int64(v, 0, 1 << 30, &n, perr, sizeof perr) < 0)
            return errf(err, errlen, "--snapshot-entries: %s", perr);
        c->snapshot_entries = (uint64_t)n;
        return 0;
    case OPT_LOGLEVEL:
        if (log_level_parse(v, &c->log_level) < 0)
            return errf(err, errlen, "--log-level: expected debug|info|warn|error|off, got '%s'", v);
        return 0;
    case OPT_BUG:
        if (c->nbugs >= NODE_MAX_BUGS)
            return errf(err, errlen, "--bug: at most %d", NODE_MAX_BUGS);
        c->bugs[c->nbugs++] = v;
        return 0;
    case OPT_BYZANTINE:
        c->byzantine = node_byz_parse(v);
        if (c->byzantine < 0)
            return errf(err, errlen, "--byzantine: unknown mode '%s' (%s)", v, NODE_BYZ_MODES);
        return 0;
    }
    return errf(err, errlen, "unknown option");
}

int node_config_parse(node_config *c, int argc, char **argv, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->cluster = 1;
    c->fsync = 1;
    c->election_timeout_ns = 300000000ull;
    c->heartbeat_ns = 50000000ull;
    c->log_level = LOG_LEVEL_INFO;
    c->snapshot_entries = 16384; /* see docs: fewer snapshot stalls, p99 */
    int have[4] = {0, 0, 0, 0};
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", node_options, NULL)) != -1) {
        if (opt == 'h') {
            node_config_usage(stdout);
            return 1;
        }
        if (opt == '?')
            return errf(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
        if (opt == ':')
            return errf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
        if (node_config_option(c, opt, optarg, have, err, errlen) < 0)
            return -1;
    }
    if (optind < argc)
        return errf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!have[0] || !have[1] || !have[2])
        return errf(err, errlen, "--id, --listen and --client are required (see --help)");
    /* Without --heartbeat, a short election timeout gets a heartbeat of a
     * sixth of it (the default 50ms would not fit). */
    if (!have[3] && c->heartbeat_ns * 6 > c->election_timeout_ns)
        c->heartbeat_ns = c->election_timeout_ns / 6;
    if (c->heartbeat_ns * 2 > c->election_timeout_ns)
        return errf(err, errlen, "--heartbeat must be at most half of --election-timeout");
    node_member *self = &c->members[c->id];
    if (self->has_udp)
        return errf(err, errlen, "--peer names this node's own id %u", c->id);
    self->known = 1;
    self->has_udp = 1;
    self->udp = c->listen;
    strcpy(self->client, c->client_str);
    if (c->id > c->max_id)
        c->max_id = c->id;
    for (uint16_t i = 1; i <= c->max_id; i++)
        if (c->members[i].known && !c->members[i].has_udp)
            return errf(err, errlen, "--peer-client %u without --peer %u", i, i);
    if (!c->data_dir[0])
        snprintf(c->data_dir, sizeof c->data_dir, "raft-data-%u", c->id);
    return 0;
}
