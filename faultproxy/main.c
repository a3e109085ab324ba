/* main.c: the faultproxy binary: parses the flags, wires the engine
 * (rules.c), the UDP relay (relay.c), the TCP relay (tcp.c) and the control
 * listener (common resp_server + ctl.c) onto one event loop, and on SIGINT/SIGTERM
 * writes the stats file and frees everything. Usage in docs/faultproxy.md. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/log.h"
#include "common/loop.h"
#include "common/net.h"
#include "common/parse.h"
#include "common/resp_server.h"
#include "ctl.h"
#include "relay.h"
#include "rules.h"
#include "tcp.h"

#define EXIT_USAGE 254
#define EXIT_HARNESS 255

static const char usage[] =
    "usage: faultproxy --node SPEC [--node SPEC ...] [options]\n"
    "\n"
    "Relays UDP datagrams between riftlab nodes and injects faults on each\n"
    "directed link; controlled over RESP (redis-cli) on --control.\n"
    "\n"
    "  --node [NAME,]ID,HOST:PORT,PROXYPORT\n"
    "                        a node: its wire id, its real UDP address, and the\n"
    "                        proxy port its peers send to (0: any free port);\n"
    "                        NAME defaults to n<ID>\n"
    "  --bind ADDR           address of the proxy ports (default 127.0.0.1)\n"
    "  --control HOST:PORT   RESP control listener (default 127.0.0.1:0)\n"
    "  --tcp [NAME=]LISTEN_HOST:PORT,UPSTREAM_HOST:PORT\n"
    "                        a TCP listener relayed to an upstream (NAME defaults to t<k>)\n"
    "  --seed N              run seed for every random decision (default: random, logged)\n"
    "  --decision-log FILE   write every decision as one JSON line\n"
    "  --stats FILE          write the PROXY.STATS JSON here at exit\n"
    "  --ready FILE          write the bound ports here once listening\n"
    "  --max-queue N         delayed datagrams held at most (default 1000000)\n"
    "  --spin-us N           after traffic, poll the node sockets for N more\n"
    "                        microseconds before sleeping (lower latency, burns\n"
    "                        CPU while traffic flows; default 0: off, max 1000)\n"
    "  --log-level LEVEL     debug, info, warn, error or off (default info)\n"
    "  --help                this text\n"
    "\n"
    "Exit: 0 after SIGINT/SIGTERM, 254 bad usage, 255 could not start.\n";

typedef struct proxy_main {
    loop *l;
    proxy_engine *eng;
    relay *rl;
    tcp_relay *tcp;
    resp_server *srv;
    proxy_ctl ctl;
    FILE *dlog;
    int ntcp;
    int udp;                       /* 0 when only --tcp was given */
    tcp_listener_spec tcpspec[PROXY_MAX_TCP];
    char tcpnames[PROXY_MAX_TCP][PROXY_NAME_MAX];
    proxy_tcp_rule tcprules[PROXY_MAX_TCP];
} proxy_main;

static int parse_hostport(const char *s, struct sockaddr_in *out)
{
    char err[128];
    return net_parse_addr(s, out, err, sizeof err);
}

static int valid_name(const char *s)
{
    if (!*s || strlen(s) >= PROXY_NAME_MAX || strcmp(s, "*") == 0)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return 0;
    return 1;
}

/* [NAME,]ID,HOST:PORT,PROXYPORT */
static int parse_node(const char *spec, proxy_node *n, struct sockaddr_in *addr, uint16_t *pport)
{
    char tmp[256], *f[4];
    int nf = 0;
    if (strlen(spec) >= sizeof tmp)
        return -1;
    strcpy(tmp, spec);
    f[nf++] = tmp;
    for (char *p = tmp; (p = strchr(p, ',')); ) {
        if (nf == 4)
            return -1;
        *p++ = '\0';
        f[nf++] = p;
    }
    if (nf < 3)
        return -1;
    int k = nf == 4 ? 1 : 0;
    uint64_t id, port;
    char err[100];
    if (parse_uint64(f[k], 0, 65535, &id, err, sizeof err) < 0 ||
        parse_hostport(f[k + 1], addr) < 0 ||
        parse_uint64(f[k + 2], 0, 65535, &port, err, sizeof err) < 0)
        return -1;
    n->id = (uint16_t)id;
    if (nf == 4) {
        if (!valid_name(f[0]))
            return -1;
        snprintf(n->name, sizeof n->name, "%s", f[0]);
    } else {
        snprintf(n->name, sizeof n->name, "n%" PRIu64, id);
    }
    *pport = (uint16_t)port;
    return 0;
}

/* [NAME=]LISTEN_HOST:PORT,UPSTREAM_HOST:PORT */
static int parse_tcp(const char *spec, int k, tcp_listener_spec *t)
{
    char tmp[256];
    if (strlen(spec) >= sizeof tmp)
        return -1;
    strcpy(tmp, spec);
    char *p = tmp, *eq = strchr(tmp, '=');
    if (eq) {
        *eq = '\0';
        if (!valid_name(tmp))
            return -1;
        snprintf(t->name, sizeof t->name, "%s", tmp);
        p = eq + 1;
    } else {
        snprintf(t->name, sizeof t->name, "t%d", k);
    }
    char *comma = strchr(p, ',');
    if (!comma)
        return -1;
    *comma = '\0';
    return parse_hostport(p, &t->listen) < 0 || parse_hostport(comma + 1, &t->upstream) < 0 ? -1 : 0;
}

static void on_udp(loop *l, int fd, unsigned ev, void *arg)
{
    (void)l;
    (void)ev;
    proxy_main *m = arg;
    /* Few nodes: finding the index by fd is cheaper than a per-fd context. */
    for (int i = 0; i < m->eng->nnodes; i++)
        if (relay_node_fd(m->rl, i) == fd) {
            relay_on_readable(m->rl, i);
            return;
        }
}

static void on_control(resp_conn *c, resp_command *cmd, void *arg)
{
    proxy_main *m = arg;
    m->ctl.cluster = relay_cluster(m->rl);
    if (proxy_ctl_exec(&m->ctl, cmd->argc, cmd->argv, resp_conn_out(c))) {
        relay_log_control(m->rl, cmd->argc, cmd->argv);
        LOG_INFO("control: %s%s", cmd->argv[0], cmd->argc > 1 ? " ..." : "");
    }
}

static void stats_extra(void *arg, buf *out)
{
    proxy_main *m = arg;
    relay_stats_json(m->rl, out);
    if (m->tcp)
        tcp_relay_stats_json(m->tcp, out);
}

static void info_extra(void *arg, buf *out)
{
    proxy_main *m = arg;
    buf_printf(out, "queued:%zu\r\n", relay_queued(m->rl));
}

static int forge(void *arg, int from, int to, const uint8_t *d, size_t len, char *err, size_t errlen)
{
    return relay_forge(((proxy_main *)arg)->rl, from, to, d, len, err, errlen);
}

static void tcp_changed(void *arg, int li)
{
    proxy_main *m = arg;
    if (m->tcp)
        tcp_relay_rule_changed(m->tcp, li);
}

static int write_file_atomic(const char *path, const char *data, size_t len)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int ok = fwrite(data, 1, len, f) == len;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int write_ready(proxy_main *m, const char *path, const char *bind_addr,
                       const struct sockaddr_in *ctl_addr)
{
    buf b;
    buf_init(&b);
    char a[INET_ADDRSTRLEN];
    for (int i = 0; m->udp && i < m->eng->nnodes; i++)
        buf_printf(&b, "udp %s %s:%u\n", m->eng->nodes[i].name, bind_addr, relay_port(m->rl, i));
    inet_ntop(AF_INET, &ctl_addr->sin_addr, a, sizeof a);
    buf_printf(&b, "control %s:%d\n", a, resp_server_port(m->srv));
    for (int i = 0; i < m->ntcp; i++) {
        inet_ntop(AF_INET, &m->tcpspec[i].listen.sin_addr, a, sizeof a);
        buf_printf(&b, "tcp %s %s:%u\n", m->tcpnames[i], a, tcp_relay_port(m->tcp, i));
    }
    int rc = write_file_atomic(path, buf_ptr(&b), buf_size(&b));
    buf_free(&b);
    return rc;
}

static void teardown(proxy_main *m)
{
    resp_server_free(m->srv);
    tcp_relay_free(m->tcp);
    relay_free(m->rl);
    proxy_engine_free(m->eng);
    if (m->dlog)
        fclose(m->dlog);
    loop_free(m->l);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"node", required_argument, NULL, 'n'},      {"bind", required_argument, NULL, 'b'},
        {"control", required_argument, NULL, 'c'},   {"tcp", required_argument, NULL, 't'},
        {"seed", required_argument, NULL, 's'},      {"decision-log", required_argument, NULL, 'd'},
        {"stats", required_argument, NULL, 'S'},     {"ready", required_argument, NULL, 'r'},
        {"max-queue", required_argument, NULL, 'q'}, {"log-level", required_argument, NULL, 'L'},
        {"spin-us", required_argument, NULL, 'P'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    static proxy_main m;
    proxy_node nodes[PROXY_MAX_NODES];
    struct sockaddr_in addrs[PROXY_MAX_NODES], ctl_addr;
    const char *ctl_hostport = "127.0.0.1:0";
    uint16_t pports[PROXY_MAX_NODES];
    int nnodes = 0, have_seed = 0;
    const char *bind_addr = "127.0.0.1", *dlog_path = NULL, *stats_path = NULL, *ready_path = NULL;
    uint64_t seed = 0, max_queue = 1000000, spin_us = 0;
    enum log_level level = LOG_LEVEL_INFO;
    char err[256];
    parse_hostport("127.0.0.1:0", &ctl_addr);
    log_init("faultproxy", level);

    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'n':
            if (nnodes == PROXY_MAX_NODES || parse_node(optarg, &nodes[nnodes], &addrs[nnodes], &pports[nnodes]) < 0) {
                fprintf(stderr, "faultproxy: bad --node '%s' (want [NAME,]ID,HOST:PORT,PROXYPORT; at most %d nodes)\n",
                        optarg, PROXY_MAX_NODES);
                return EXIT_USAGE;
            }
            nnodes++;
            break;
        case 'b': {
            struct in_addr ia;
            if (inet_pton(AF_INET, optarg, &ia) != 1) {
                fprintf(stderr, "faultproxy: bad --bind '%s' (an IPv4 address)\n", optarg);
                return EXIT_USAGE;
            }
            bind_addr = optarg;
            break;
        }
        case 'c':
            if (net_parse_addr(optarg, &ctl_addr, err, sizeof err) < 0) {
                fprintf(stderr, "faultproxy: bad --control: %s\n", err);
                return EXIT_USAGE;
            }
            ctl_hostport = optarg;
            break;
        case 't':
            if (m.ntcp == PROXY_MAX_TCP || parse_tcp(optarg, m.ntcp, &m.tcpspec[m.ntcp]) < 0) {
                fprintf(stderr, "faultproxy: bad --tcp '%s' (want [NAME=]HOST:PORT,HOST:PORT; at most %d)\n",
                        optarg, PROXY_MAX_TCP);
                return EXIT_USAGE;
            }
            memcpy(m.tcpnames[m.ntcp], m.tcpspec[m.ntcp].name, PROXY_NAME_MAX);
            m.ntcp++;
            break;
        case 's':
            if (parse_uint64(optarg, 0, INT64_MAX, &seed, err, sizeof err) < 0) {
                fprintf(stderr, "faultproxy: bad --seed: %s\n", err);
                return EXIT_USAGE;
            }
            have_seed = 1;
            break;
        case 'd': dlog_path = optarg; break;
        case 'S': stats_path = optarg; break;
        case 'r': ready_path = optarg; break;
        case 'q':
            if (parse_uint64(optarg, 1, 100000000, &max_queue, err, sizeof err) < 0) {
                fprintf(stderr, "faultproxy: bad --max-queue: %s\n", err);
                return EXIT_USAGE;
            }
            break;
        case 'P':
            if (parse_uint64(optarg, 0, 1000, &spin_us, err, sizeof err) < 0) {
                fprintf(stderr, "faultproxy: bad --spin-us: %s\n", err);
                return EXIT_USAGE;
            }
            break;
        case 'L':
            if (log_level_parse(optarg, &level) < 0) {
                fprintf(stderr, "faultproxy: bad --log-level '%s' (debug, info, warn, error, off)\n", optarg);
                return EXIT_USAGE;
            }
            log_set_level(level);
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "faultproxy: unexpected argument '%s'\n%s", argv[optind], usage);
        return EXIT_USAGE;
    }
    if (nnodes == 0 && m.ntcp == 0) {
        fprintf(stderr, "faultproxy: give at least one --node or --tcp\n%s", usage);
        return EXIT_USAGE;
    }
    if (!have_seed) {
        if (getrandom(&seed, sizeof seed, 0) != sizeof seed)
            seed = (uint64_t)getpid();
        seed &= INT64_MAX;
    }
    m.udp = nnodes > 0;
    if (nnodes == 0) {   /* TCP only: the engine still needs one placeholder node */
        nodes[0] = (proxy_node){"none", 0};
        parse_hostport("127.0.0.1:0", &addrs[0]);
        pports[0] = 0;
        nnodes = 1;
    }
    m.eng = proxy_engine_new(nnodes, nodes, seed, err, sizeof err);
    if (!m.eng) {
        fprintf(stderr, "faultproxy: %s\n", err);
        return EXIT_USAGE;
    }
    if (dlog_path && !(m.dlog = fopen(dlog_path, "w"))) {
        fprintf(stderr, "faultproxy: cannot write %s: %s\n", dlog_path, strerror(errno));
        proxy_engine_free(m.eng);
        return EXIT_HARNESS;
    }
    m.l = loop_new();
    m.rl = relay_new(m.l, m.eng, addrs, pports, bind_addr, max_queue, m.dlog, err, sizeof err);
    if (m.rl)
        relay_set_spin(m.rl, spin_us * 1000);
    if (m.rl && m.ntcp)
        m.tcp = tcp_relay_new(m.l, m.ntcp, m.tcpspec, m.tcprules, seed, err, sizeof err);
    m.ctl = (proxy_ctl){.eng = m.eng, .ntcp = m.ntcp, .tcp_names = m.tcpnames,
                        .tcp_rules = m.tcprules, .arg = &m, .tcp_changed = tcp_changed,
                        .stats_extra = stats_extra, .forge = forge, .info_extra = info_extra};
    if (m.rl && (!m.ntcp || m.tcp))
        m.srv = resp_server_new(m.l, ctl_hostport, on_control, &m, err, sizeof err);
    if (!m.rl || (m.ntcp && !m.tcp) || !m.srv) {
        fprintf(stderr, "faultproxy: %s\n", err);
        teardown(&m);
        return EXIT_HARNESS;
    }
    for (int i = 0; i < m.eng->nnodes; i++)
        loop_add_fd(m.l, relay_node_fd(m.rl, i), LOOP_READ, on_udp, &m);

    loop_stop_on_signals(m.l);
    signal(SIGPIPE, SIG_IGN);

    if (ready_path && write_ready(&m, ready_path, bind_addr, &ctl_addr) < 0) {
        fprintf(stderr, "faultproxy: cannot write %s: %s\n", ready_path, strerror(errno));
        teardown(&m);
        return EXIT_HARNESS;
    }
    LOG_INFO("relaying %d nodes and %d TCP listeners, seed %" PRIu64 ", control port %u",
             m.eng->nnodes, m.ntcp, seed, resp_server_port(m.srv));
    int rc = loop_run(m.l);
    LOG_INFO("stopping");

    int exit_code = rc < 0 ? EXIT_HARNESS : 0;
    if (stats_path) {
        buf b;
        buf_init(&b);
        proxy_stats_json(&m.ctl, &b);
        buf_puts(&b, "\n");
        if (write_file_atomic(stats_path, buf_ptr(&b), buf_size(&b)) < 0) {
            LOG_ERROR("cannot write %s: %s", stats_path, strerror(errno));
            exit_code = EXIT_HARNESS;
        }
        buf_free(&b);
    }
    teardown(&m);
    return exit_code;
}
