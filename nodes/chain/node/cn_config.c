/* cn_config.c: chain-node's flags (docs/chain.md describes each one). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cn.h"
#include "common/errf.h"
#include "common/net.h"
#include "common/parse.h"

void cn_config_usage(FILE *out)
{
    fputs(
"usage: chain-node --role data|ctrl --id N --listen HOST:PORT --ctrl ID,ID,ID\n"
"                  --data ID,ID,ID --peer ID=HOST:PORT ... [options]\n"
"Chain replication with CRAQ reads and a Raft control plane (riftlab).\n"
"One binary, two roles: `data` nodes form the chain and serve RESP clients;\n"
"`ctrl` nodes (three of them) run Raft and own the chain's configuration.\n"
"\n"
"  --role data|ctrl         which part this process plays (default data)\n"
"  --id N                   this node's id (1..32; data and ctrl ids differ)\n"
"  --listen HOST:PORT       UDP address for node-to-node messages\n"
"  --advertise HOST:PORT    address other nodes should send to (default --listen)\n"
"  --client HOST:PORT       TCP address for RESP clients (data: required)\n"
"  --peer ID=HOST:PORT      where to send datagrams for node ID (repeat; every\n"
"                           ctrl node, every data node; may be a faultproxy port)\n"
"  --peer-client ID=HOST:PORT  node ID's RESP address, named in redirects\n"
"  --ctrl ID,ID,...         the control plane's node ids\n"
"  --data ID,ID,...         the initial chain, head first (the same on every node)\n"
"  --join                   data: start outside the chain, copy the tail's state,\n"
"                           then ask the control plane to add this node as tail\n"
"  --dir DIR                data: state directory; the committed prefix is kept\n"
"                           there and a restart rejoins from it (see docs/chain.md)\n"
"  --fsync always|never     data with --dir: fsync before acknowledging (default always)\n"
"  --log-retain N           data: committed entries kept for resends (default 1024)\n"
"  --cluster N              cluster id in every datagram (default 1)\n"
"  --key FILE               HMAC-SHA256 link key (mode 0600); all nodes share it\n"
"  --trace FILE             write trace events (JSON lines) to FILE\n"
"  --tick D                 data: retransmission tick (default 10ms)\n"
"  --heartbeat D            data: heartbeat period to the control plane (default 100ms)\n"
"  --detect D               ctrl: remove a member silent this long (default 1s)\n"
"  --election-timeout D     ctrl: Raft election timeout (default 150ms); members hold\n"
"                           read leases of detect - 4 x election timeout\n"
"  --timeout D              data: answer -TIMEOUT to requests pending this long (default 2s)\n"
"  --bug NAME               deliberate defect (repeatable): tail-early-ack,\n"
"                           skip-resend, craq-dirty-read\n"
"  --log-level L            debug|info|warn|error|off (default info)\n"
"  --byzantine MODE         data: act as a Byzantine node (testing only; see\n"
"                           docs/chain.md): reorder-forward (forward updates\n"
"                           downstream with consecutive pairs swapped)\n"
"  -h, --help               this text\n", out);
}

static int parse_id(const char *s, const char *flag, uint16_t *id, char *err, size_t errlen)
{
    char perr[128];
    int64_t v;
    if (parse_int64(s, 1, CN_MAX_ID, &v, perr, sizeof perr) < 0)
        return errf(err, errlen, "%s: bad id '%s': %s", flag, s, perr);
    *id = (uint16_t)v;
    return 0;
}

/* "1,2,3" into ids (at most max, no repeats). */
static int parse_ids(const char *s, const char *flag, uint16_t *ids, int *n, int max, char *err,
                     size_t errlen)
{
    char tmp[256];
    if (strlen(s) >= sizeof tmp)
        return errf(err, errlen, "%s: list too long", flag);
    strcpy(tmp, s);
    *n = 0;
    for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        uint16_t id = 0;
        if (*n >= max)
            return errf(err, errlen, "%s: at most %d ids", flag, max);
        if (parse_id(t, flag, &id, err, errlen) < 0)
            return -1;
        for (int i = 0; i < *n; i++)
            if (ids[i] == id)
                return errf(err, errlen, "%s: id %u twice", flag, id);
        ids[(*n)++] = id;
    }
    return *n ? 0 : errf(err, errlen, "%s: empty list", flag);
}

static int set_addr(char *dst, const char *flag, const char *v, char *err, size_t errlen)
{
    struct sockaddr_in a;
    char nerr[160];
    if (strlen(v) >= CN_ADDR_LEN)
        return errf(err, errlen, "%s: address too long", flag);
    if (net_parse_addr(v, &a, nerr, sizeof nerr) < 0)
        return errf(err, errlen, "%s: %s", flag, nerr);
    strcpy(dst, v);
    return 0;
}

/* "ID=HOST:PORT" */
static int parse_peer(cn_config *c, const char *flag, const char *v, int client, char *err,
                      size_t errlen)
{
    const char *eq = strchr(v, '=');
    char num[16];
    uint16_t id = 0;
    if (!eq || (size_t)(eq - v) >= sizeof num)
        return errf(err, errlen, "%s: expected ID=HOST:PORT, got '%s'", flag, v);
    memcpy(num, v, (size_t)(eq - v));
    num[eq - v] = 0;
    if (parse_id(num, flag, &id, err, errlen) < 0)
        return -1;
    cn_peer *p = &c->peers[id];
    if (client)
        return set_addr(p->client, flag, eq + 1, err, errlen);
    if (set_addr(p->udp_str, flag, eq + 1, err, errlen) < 0)
        return -1;
    p->has_udp = 1;
    return net_parse_addr(p->udp_str, &p->udp, err, errlen);
}

static int set_duration(uint64_t *dst, const char *flag, const char *v, char *err, size_t errlen)
{
    char perr[160];
    if (parse_duration_ns(v, dst, perr, sizeof perr) < 0 || *dst < 1000000 || *dst > 600000000000ull)
        return errf(err, errlen, "%s: %s", flag, perr[0] ? perr : "must be between 1ms and 600s");
    return 0;
}

static int set_path(char *dst, size_t cap, const char *flag, const char *v, char *err, size_t errlen)
{
    if (!*v || strlen(v) >= cap)
        return errf(err, errlen, "%s: path empty or too long", flag);
    strcpy(dst, v);
    return 0;
}

enum { O_ROLE = 256, O_ID, O_LISTEN, O_ADVERTISE, O_CLIENT, O_PEER, O_PEER_CLIENT, O_CTRL, O_DATA,
       O_JOIN, O_CLUSTER, O_KEY, O_TRACE, O_TICK, O_HB, O_DETECT, O_ELECTION, O_TIMEOUT, O_BUG,
       O_LOGLEVEL, O_DIR, O_FSYNC, O_RETAIN, O_BYZANTINE };

static const struct option cn_options[] = {
    {"role", required_argument, NULL, O_ROLE},
    {"id", required_argument, NULL, O_ID},
    {"listen", required_argument, NULL, O_LISTEN},
    {"advertise", required_argument, NULL, O_ADVERTISE},
    {"client", required_argument, NULL, O_CLIENT},
    {"peer", required_argument, NULL, O_PEER},
    {"peer-client", required_argument, NULL, O_PEER_CLIENT},
    {"ctrl", required_argument, NULL, O_CTRL},
    {"data", required_argument, NULL, O_DATA},
    {"join", no_argument, NULL, O_JOIN},
    {"cluster", required_argument, NULL, O_CLUSTER},
    {"key", required_argument, NULL, O_KEY},
    {"trace", required_argument, NULL, O_TRACE},
    {"tick", required_argument, NULL, O_TICK},
    {"heartbeat", required_argument, NULL, O_HB},
    {"detect", required_argument, NULL, O_DETECT},
    {"election-timeout", required_argument, NULL, O_ELECTION},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"bug", required_argument, NULL, O_BUG},
    {"log-level", required_argument, NULL, O_LOGLEVEL},
    {"dir", required_argument, NULL, O_DIR},
    {"fsync", required_argument, NULL, O_FSYNC},
    {"log-retain", required_argument, NULL, O_RETAIN},
    {"byzantine", required_argument, NULL, O_BYZANTINE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int option(cn_config *c, int opt, const char *v, char *err, size_t errlen)
{
    char perr[160];
    int64_t n;
    switch (opt) {
    case O_ROLE:
        if (!strcmp(v, "data"))
            c->role = CN_ROLE_DATA;
        else if (!strcmp(v, "ctrl"))
            c->role = CN_ROLE_CTRL;
        else
            return errf(err, errlen, "--role: expected data or ctrl, got '%s'", v);
        return 0;
    case O_ID: return parse_id(v, "--id", &c->id, err, errlen);
    case O_LISTEN: return set_addr(c->listen, "--listen", v, err, errlen);
    case O_ADVERTISE: return set_addr(c->advertise, "--advertise", v, err, errlen);
    case O_CLIENT: return set_addr(c->client, "--client", v, err, errlen);
    case O_PEER: return parse_peer(c, "--peer", v, 0, err, errlen);
    case O_PEER_CLIENT: return parse_peer(c, "--peer-client", v, 1, err, errlen);
    case O_CTRL: return parse_ids(v, "--ctrl", c->ctrl, &c->n_ctrl, RAFT_MAX_NODES, err, errlen);
    case O_DATA:
        return parse_ids(v, "--data", c->members, &c->n_members, CHAIN_MAX_MEMBERS, err, errlen);
    case O_JOIN: c->join = 1; return 0;
    case O_CLUSTER:
        if (parse_int64(v, 0, UINT32_MAX, &n, perr, sizeof perr) < 0)
            return errf(err, errlen, "--cluster: %s", perr);
        c->cluster = (uint32_t)n;
        return 0;
    case O_KEY: return set_path(c->key_file, sizeof c->key_file, "--key", v, err, errlen);
    case O_TRACE: return set_path(c->trace_file, sizeof c->trace_file, "--trace", v, err, errlen);
    case O_TICK: return set_duration(&c->tick_ns, "--tick", v, err, errlen);
    case O_HB: return set_duration(&c->heartbeat_ns, "--heartbeat", v, err, errlen);
    case O_DETECT: return set_duration(&c->detect_ns, "--detect", v, err, errlen);
    case O_ELECTION: return set_duration(&c->election_ns, "--election-timeout", v, err, errlen);
    case O_TIMEOUT: return set_duration(&c->timeout_ns, "--timeout", v, err, errlen);
    case O_BUG:
        if (!chain_bug_parse(v))
            return errf(err, errlen, "--bug: unknown '%s' (tail-early-ack, skip-resend, craq-dirty-read)", v);
        c->bugs |= chain_bug_parse(v);
        return 0;
    case O_DIR: return set_path(c->dir, sizeof c->dir, "--dir", v, err, errlen);
    case O_FSYNC:
        if (!strcmp(v, "always") || !strcmp(v, "never")) {
            c->fsync_always = !strcmp(v, "always");
            return 0;
        }
        return errf(err, errlen, "--fsync: expected always or never, got '%s'", v);
    case O_RETAIN:
        if (parse_int64(v, 1, 1 << 24, &n, perr, sizeof perr) < 0)
            return errf(err, errlen, "--log-retain: %s", perr);
        c->log_retain = (uint32_t)n;
        return 0;
    case O_BYZANTINE:
        c->byzantine = cn_byz_parse(v);
        if (c->byzantine < 0)
            return errf(err, errlen, "--byzantine: unknown mode '%s' (%s)", v, CN_BYZ_MODES);
        return 0;
    case O_LOGLEVEL:
        if (log_level_parse(v, &c->log_level) < 0)
            return errf(err, errlen, "--log-level: expected debug|info|warn|error|off, got '%s'", v);
        return 0;
    }
    return errf(err, errlen, "unknown option");
}

int cn_config_parse(cn_config *c, int argc, char **argv, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->cluster = 1;
    c->tick_ns = 10000000ull;
    c->heartbeat_ns = 100000000ull;
    c->detect_ns = 1000000000ull;
    c->election_ns = 150000000ull;
    c->timeout_ns = 2000000000ull;
    c->log_level = LOG_LEVEL_INFO;
    c->fsync_always = 1;
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", cn_options, NULL)) != -1) {
        if (opt == 'h') {
            cn_config_usage(stdout);
            return 1;
        }
        if (opt == '?')
            return errf(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
        if (opt == ':')
            return errf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
        if (option(c, opt, optarg, err, errlen) < 0)
            return -1;
    }
    if (optind < argc)
        return errf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
    if (!c->id || !c->listen[0] || !c->n_ctrl || !c->n_members)
        return errf(err, errlen, "--id, --listen, --ctrl and --data are required (see --help)");
    if (c->role == CN_ROLE_DATA && !c->client[0])
        return errf(err, errlen, "--client is required for --role data");
    /* Every node may get the same --peer list: our own entry is ignored. */
    c->peers[c->id].has_udp = 0;
    if (c->detect_ns <= 4 * c->election_ns)
        return errf(err, errlen, "--detect must exceed 4 x --election-timeout (read leases)");
    if (!c->advertise[0])
        strcpy(c->advertise, c->listen);
    for (int i = 0; i < c->n_ctrl; i++) {
        if (c->ctrl[i] != c->id && !c->peers[c->ctrl[i]].has_udp)
            return errf(err, errlen, "no --peer for control node %u", c->ctrl[i]);
        for (int k = 0; k < c->n_members; k++)
            if (c->members[k] == c->ctrl[i])
                return errf(err, errlen, "id %u is both a control and a data node", c->ctrl[i]);
    }
    int self_ctrl = 0;
    for (int i = 0; i < c->n_ctrl; i++)
        self_ctrl |= c->ctrl[i] == c->id;
    if ((c->role == CN_ROLE_CTRL) != self_ctrl)
        return errf(err, errlen, "--id %u %s in --ctrl", c->id,
                    self_ctrl ? "is listed but --role is data" : "must be listed for --role ctrl");
    if (c->byzantine && c->role != CN_ROLE_DATA)
        return errf(err, errlen, "--byzantine %s needs --role data", cn_byz_name(c->byzantine));
    if (c->client[0])
        strcpy(c->peers[c->id].client, c->client);
    return 0;
}
