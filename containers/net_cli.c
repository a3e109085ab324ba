/* net_cli.c: `riftlab net up|ls|down` and `riftlab clean` (see net_cli.h). */
#define _GNU_SOURCE
#include "containers/net_cli.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/parse.h"
#include "containers/cleanup.h"
#include "containers/hosts.h"
#include "containers/netns.h"
#include "containers/registry.h"
#include "containers/sweep.h"

#define CLI_USAGE 254
#define CLI_FAILED 255

static const char net_help[] =
    "usage: riftlab net up N [--name rlX]   make N node hosts (namespaces) plus a hub\n"
    "       riftlab net ls                  list nets\n"
    "       riftlab net down rlX [--force]  remove a net and every process in it\n"
    "\n"
    "Each host is a network namespace (rlX-hub, rlX-n1 .. rlX-nN) on a bridge in\n"
    "the hub, with addresses in 10.77.S.0/24 (hub .1, node i .(10+i)). Use them with\n"
    "`ip netns exec rlX-n1 <command>`. Needs root; without it use\n"
    "`riftlab run --backend loopback`.\n";

static const char clean_help[] =
    "usage: riftlab clean [--all]\n"
    "\n"
    "Removes what riftlab runs that died (e.g. were SIGKILLed) left behind: their\n"
    "namespaces (with their veths, bridge and nft tables), processes, cgroups and run\n"
    "records. Nets of running riftlab processes are never touched; nets made by\n"
    "`riftlab net up` are kept unless --all is given. Needs root.\n";

static int cli_is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0;
}

static int cli_need_root(const char *cmd)
{
    if (geteuid() == 0)
        return 0;
    fprintf(stderr,
            "riftlab %s: needs root (network namespaces, nftables, cgroups); run it as root, "
            "or use `riftlab run --backend loopback`, which needs no privileges\n",
            cmd);
    return -1;
}

/* The first name rl1, rl2, ... that has neither a record nor namespaces. */
static int cli_free_name(char *out, size_t cap)
{
    for (int i = 1; i < 10000; i++) {
        registry_rec rec;
        char hub[NAMING_NS_MAX], path[128];
        snprintf(out, cap, "rl%d", i);
        naming_ns_name(out, 0, hub, sizeof hub);
        snprintf(path, sizeof path, NETNS_RUN_DIR "/%s", hub);
        if (registry_read(out, &rec) != 0 && access(path, F_OK) != 0)
            return 0;
    }
    return -1;
}

static void cli_print_net(const hosts_net *net)
{
    char addr[20], host[16];
    naming_addr_text(hosts_addr(net, 0), addr, sizeof addr);
    printf("net %s: %d node%s, 10.77.%d.0/24\n", net->name, net->nodes, net->nodes == 1 ? "" : "s",
           net->subnet);
    for (int h = 0; h <= net->nodes; h++) {
        naming_addr_text(hosts_addr(net, h), addr, sizeof addr);
        naming_hostname(h, host, sizeof host);
        printf("  %-14s %-4s %-12s %s\n", net->nsname[h], host, addr, h == 0 ? "bridge br0, veths vn1..vnN" : "eth0");
    }
    printf("try:    ip netns exec %s ip -br addr\n", net->nsname[net->nodes >= 1 ? 1 : 0]);
    printf("remove: riftlab net down %s\n", net->name);
}

static int net_up(int argc, char **argv)
{
    const char *name = NULL, *count = NULL;
    char err[256], auto_name[NAMING_NET_MAX + 1];
    int64_t nodes;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(net_help, stdout);
            return 0;
        } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else if (strncmp(argv[i], "--name=", 7) == 0) {
            name = argv[i] + 7;
        } else if (argv[i][0] != '-' && count == NULL) {
            count = argv[i];
        } else {
            fprintf(stderr, "riftlab net up: unexpected argument '%s'\n%s", argv[i], net_help);
            return CLI_USAGE;
        }
    }
    if (count == NULL) {
        fprintf(stderr, "riftlab net up: how many nodes? (e.g. `riftlab net up 5`)\n");
        return CLI_USAGE;
    }
    if (parse_int64(count, 1, NAMING_MAX_NODES, &nodes, err, sizeof err) != 0) {
        fprintf(stderr, "riftlab net up: node count: %s\n", err);
        return CLI_USAGE;
    }
    if (name && naming_net_valid(name, err, sizeof err) != 0) {
        fprintf(stderr, "riftlab net up: %s\n", err);
        return CLI_USAGE;
    }
    if (cli_need_root("net up") != 0)
        return CLI_USAGE;
    /* A new net first sweeps dead runs' leftovers (quietly). */
    sweep_report rep;
    sweep_stale(0, NULL, &rep, err, sizeof err);
    if (name == NULL) {
        int lock = registry_lock();
        int rc = cli_free_name(auto_name, sizeof auto_name);
        registry_unlock(lock);
        if (rc != 0) {
            fprintf(stderr, "riftlab net up: no free net name; remove some with `riftlab net down`\n");
            return CLI_FAILED;
        }
        name = auto_name;
    }
    cleanup_install();                          /* Ctrl-C mid-way removes the partial net */
    hosts_net net;
    if (hosts_up(&net, name, (int)nodes, 1, err, sizeof err) != 0) {
        fprintf(stderr, "riftlab net up: %s\n", err);
        return strstr(err, "exists") ? CLI_USAGE : CLI_FAILED;
    }
    cli_print_net(&net);
    hosts_close(&net);
    return 0;
}

static int net_ls(int argc, char **argv)
{
    char names[NAMING_SUBNET_MAX + 1][NAMING_NET_MAX + 1];
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(net_help, stdout);
            return 0;
        }
        fprintf(stderr, "riftlab net ls: unexpected argument '%s'\n", argv[i]);
        return CLI_USAGE;
    }
    if (cli_need_root("net ls") != 0)
        return CLI_USAGE;
    int lock = registry_lock();
    int n = registry_list(names, NAMING_SUBNET_MAX + 1);
    printf("%-12s %5s  %-14s %s\n", "NET", "NODES", "SUBNET", "OWNER");
    for (int i = 0; i < n; i++) {
        registry_rec rec;
        char subnet[24], owner[64];
        if (registry_read(names[i], &rec) != 0) {
            printf("%-12s %5s  %-14s %s\n", names[i], "?", "?", "unreadable record (riftlab clean removes it)");
            continue;
        }
        snprintf(subnet, sizeof subnet, "10.77.%d.0/24", rec.subnet);
        int state = registry_owner_state(&rec);
        if (state == 2)
            snprintf(owner, sizeof owner, "net up (kept until net down)");
        else
            snprintf(owner, sizeof owner, "pid %d (%s)", (int)rec.owner.pid, state ? "running" : "dead: riftlab clean");
        printf("%-12s %5d  %-14s %s\n", names[i], rec.nodes, subnet, owner);
    }
    registry_unlock(lock);
    return 0;
}

static int net_down(int argc, char **argv)
{
    const char *name = NULL;
    int force = 0, found = 0;
    char err[256];
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(net_help, stdout);
            return 0;
        } else if (strcmp(argv[i], "--force") == 0) {
            force = 1;
        } else if (argv[i][0] != '-' && name == NULL) {
            name = argv[i];
        } else {
            fprintf(stderr, "riftlab net down: unexpected argument '%s'\n", argv[i]);
            return CLI_USAGE;
        }
    }
    if (name == NULL) {
        fprintf(stderr, "riftlab net down: which net? (see `riftlab net ls`)\n");
        return CLI_USAGE;
    }
    if (naming_net_valid(name, err, sizeof err) != 0) {
        fprintf(stderr, "riftlab net down: %s\n", err);
        return CLI_USAGE;
    }
    if (cli_need_root("net down") != 0)
        return CLI_USAGE;
    registry_rec rec;
    int lock = registry_lock();
    int live = registry_read(name, &rec) == 0 && registry_owner_state(&rec) == 1;
    registry_unlock(lock);
    if (live && !force) {
        fprintf(stderr, "riftlab net down: %s belongs to running riftlab pid %d; stop that run, or use --force\n",
                name, (int)rec.owner.pid);
        return CLI_USAGE;
    }
    sweep_report rep = {0};
    if (sweep_net(name, NULL, &rep, &found, err, sizeof err) != 0) {
        fprintf(stderr, "riftlab net down: %s\n", err);
        return CLI_FAILED;
    }
    if (!found) {
        fprintf(stderr, "riftlab net down: no net named %s (see `riftlab net ls`)\n", name);
        return CLI_USAGE;
    }
    printf("removed net %s (%d namespaces, %d processes killed)\n", name, rep.namespaces, rep.processes);
    return 0;
}

int net_main(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        fputs(net_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : 0;
    }
    if (strcmp(argv[1], "up") == 0)
        return net_up(argc - 1, argv + 1);
    if (strcmp(argv[1], "ls") == 0)
        return net_ls(argc - 1, argv + 1);
    if (strcmp(argv[1], "down") == 0)
        return net_down(argc - 1, argv + 1);
    fprintf(stderr, "riftlab net: unknown command '%s' (use up, ls or down)\n", argv[1]);
    return CLI_USAGE;
}

int clean_main(int argc, char **argv)
{
    int all = 0;
    char err[256];
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            fputs(clean_help, stdout);
            return 0;
        } else if (strcmp(argv[i], "--all") == 0) {
            all = 1;
        } else {
            fprintf(stderr, "riftlab clean: unexpected argument '%s'\n%s", argv[i], clean_help);
            return CLI_USAGE;
        }
    }
    if (cli_need_root("clean") != 0)
        return CLI_USAGE;
    sweep_report rep;
    int rc = sweep_stale(all, stdout, &rep, err, sizeof err);
    printf("clean: %d net%s removed (%d namespaces, %d processes, %d cgroups), %d kept\n", rep.nets,
           rep.nets == 1 ? "" : "s", rep.namespaces, rep.processes, rep.cgroups, rep.skipped);
    if (rc != 0) {
        fprintf(stderr, "riftlab clean: %s\n", err);
        return CLI_FAILED;
    }
    return 0;
}
