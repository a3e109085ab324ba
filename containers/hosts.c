/* hosts.c: bring a namespace network up and down with libnl (see hosts.h). */
#define _GNU_SOURCE
#include "containers/hosts.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <linux/if_bridge.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>

#include "containers/cleanup.h"
#include "containers/netns.h"
#include "containers/registry.h"

/* Interface indexes are chosen, not looked up: in a fresh namespace lo is
 * 1, so the bridge can be 2, each hub-side veth 10+i and each node's eth0 2.
 * Asking the kernel for these numbers saves a lookup round trip per link. */
#define HOSTS_IFINDEX_LO     1
#define HOSTS_IFINDEX_BRIDGE 2
#define HOSTS_IFINDEX_ETH0   2
#define HOSTS_IFINDEX_VETH0  10

/* Longest wait for the kernel to switch the links on (hosts_wait_ready). */
#define HOSTS_READY_TIMEOUT_US (5 * 1000 * 1000)

uint32_t hosts_addr(const hosts_net *net, int host)
{
    return naming_host_addr(net->subnet, host);
}

static void hosts_reset(hosts_net *net)
{
    memset(net, 0, sizeof *net);
    for (int i = 0; i <= NAMING_MAX_NODES; i++)
        net->nsfd[i] = -1;
}

/* A route netlink socket connected inside namespace fd `nsfd`. */
static struct nl_sock *hosts_nl_in(int nsfd)
{
    int saved;
    struct nl_sock *sk = nl_socket_alloc();
    if (sk == NULL)
        return NULL;
    if (netns_enter(nsfd, &saved) != 0) {
        nl_socket_free(sk);
        return NULL;
    }
    int rc = nl_connect(sk, NETLINK_ROUTE);
    if (netns_leave(saved) != 0 || rc != 0) {
        nl_socket_free(sk);
        return NULL;
    }
    return sk;
}

static int hosts_link_up(struct nl_sock *sk, int ifindex)
{
    struct rtnl_link *orig = rtnl_link_alloc(), *change = rtnl_link_alloc();
    int rc = -NLE_NOMEM;
    if (orig && change) {
        rtnl_link_set_ifindex(orig, ifindex);
        rtnl_link_set_flags(change, IFF_UP);
        rc = rtnl_link_change(sk, orig, change, 0);
    }
    rtnl_link_put(orig);
    rtnl_link_put(change);
    return rc;
}

static int hosts_addr_add(struct nl_sock *sk, int ifindex, uint32_t addr)
{
    uint32_t be = htonl(addr);
    struct rtnl_addr *a = rtnl_addr_alloc();
    struct nl_addr *local = nl_addr_build(AF_INET, &be, sizeof be);
    int rc = -NLE_NOMEM;
    if (a && local) {
        nl_addr_set_prefixlen(local, 24);
        rtnl_addr_set_ifindex(a, ifindex);
        rtnl_addr_set_local(a, local);
        rc = rtnl_addr_add(sk, a, 0);
    }
    nl_addr_put(local);
    rtnl_addr_put(a);
    return rc;
}

static int hosts_bridge_add(struct nl_sock *sk)
{
    struct rtnl_link *br = rtnl_link_bridge_alloc();
    int rc = -NLE_NOMEM;
    if (br) {
        rtnl_link_set_name(br, "br0");
        rtnl_link_set_ifindex(br, HOSTS_IFINDEX_BRIDGE);
        rtnl_link_set_flags(br, IFF_UP);
        rc = rtnl_link_add(sk, br, NLM_F_CREATE | NLM_F_EXCL);
    }
    rtnl_link_put(br);
    return rc;
}

/* One request makes both ends: vn<i> in the hub, enslaved and up, and eth0
 * in the node's namespace (the peer carries IFLA_NET_NS_FD). eth0 is brought
 * up from inside its namespace: the kernel refuses (ENOTCONN) a peer that is
 * created up in another namespace. */
static int hosts_veth_add(struct nl_sock *hub, int node, int node_nsfd)
{
    char name[IFNAMSIZ];
    struct rtnl_link *veth = rtnl_link_veth_alloc();
    int rc = -NLE_NOMEM;
    if (veth) {
        struct rtnl_link *peer = rtnl_link_veth_get_peer(veth);
        snprintf(name, sizeof name, "vn%d", node);
        rtnl_link_set_name(veth, name);
        rtnl_link_set_ifindex(veth, HOSTS_IFINDEX_VETH0 + node);
        rtnl_link_set_master(veth, HOSTS_IFINDEX_BRIDGE);
        rtnl_link_set_flags(veth, IFF_UP);
        rtnl_link_set_name(peer, "eth0");
        rtnl_link_set_ifindex(peer, HOSTS_IFINDEX_ETH0);
        rtnl_link_set_ns_fd(peer, node_nsfd);
        rc = rtnl_link_add(hub, veth, NLM_F_CREATE | NLM_F_EXCL);
        rtnl_link_put(peer);
    }
    rtnl_link_veth_release(veth);
    return rc;
}

/* Writes the run record (owner = this process), choosing a free subnet. */
static int hosts_record(hosts_net *net, char *err, size_t errlen)
{
    char names[NAMING_SUBNET_MAX + 1][NAMING_NET_MAX + 1];
    unsigned char used[256] = {0};
    registry_rec rec;
    int lock = registry_lock(), rc = -1;
    if (lock < 0) {
        snprintf(err, errlen, "lock %s: %s", REGISTRY_DIR, strerror(errno));
        return -1;
    }
    int n = registry_list(names, NAMING_SUBNET_MAX + 1);
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], net->name) == 0) {
            snprintf(err, errlen, "net %s exists already (see `riftlab net ls`)", net->name);
            goto out;
        }
        if (registry_read(names[i], &rec) == 0)
            used[rec.subnet & 255] = 1;
    }
    net->subnet = naming_subnet_pick(used);
    if (net->subnet < 0) {
        snprintf(err, errlen, "no free subnet in 10.77.0.0/16 (too many nets; try `riftlab clean`)");
        goto out;
    }
    memset(&rec, 0, sizeof rec);
    snprintf(rec.net, sizeof rec.net, "%s", net->name);
    registry_self(&rec.owner);
    rec.subnet = net->subnet;
    rec.nodes = net->nodes;
    if (registry_write(&rec) != 0) {
        snprintf(err, errlen, "write run record: %s", strerror(errno));
        goto out;
    }
    rc = 0;
out:
    registry_unlock(lock);
    return rc;
}

static int hosts_nl_fail(const char *what, int host, int rc, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s on host %d: %s", what, host, nl_geterror(rc));
    return -1;
}

/* 1 if link `ifindex` (seen through sk) is operationally up. */
static int hosts_oper_up(struct nl_sock *sk, int ifindex)
{
    struct rtnl_link *l;
    if (rtnl_link_get_kernel(sk, ifindex, NULL, &l) < 0)
        return 0;
    int up = rtnl_link_get_operstate(l) == IF_OPER_UP;
    rtnl_link_put(l);
    return up;
}

/* 1 once every hub-side veth is a forwarding port of br0. */
static int hosts_ports_forwarding(struct nl_sock *hub, int nodes)
{
    struct nl_cache *cache;
    int ok = 1;
    if (rtnl_link_alloc_cache(hub, AF_BRIDGE, &cache) < 0)
        return 0;
    for (int i = 1; i <= nodes && ok; i++) {
        struct rtnl_link *l = rtnl_link_get(cache, HOSTS_IFINDEX_VETH0 + i);
        ok = l != NULL && rtnl_link_bridge_get_port_state(l) == BR_STATE_FORWARDING;
        rtnl_link_put(l);
    }
    nl_cache_free(cache);
    return ok;
}

/* Waits until packets really flow. A link's carrier, its queueing
 * discipline and the bridge port state are switched on by the kernel's
 * linkwatch worker after the requests above return; until then the
 * kernel drops what is sent (on a loaded machine this can last long
 * enough to lose a first ARP request and stall a host for a second). So
 * bring-up ends only when every link is operationally up and every bridge
 * port forwards. */
static int hosts_wait_ready(hosts_net *net, struct nl_sock *hub, struct nl_sock **node_sk, char *err,
                            size_t errlen)
{
    int nap_us = 200;
    for (int waited_us = 0; waited_us < HOSTS_READY_TIMEOUT_US; waited_us += nap_us) {
        int ready = hosts_oper_up(hub, HOSTS_IFINDEX_BRIDGE);
        for (int i = 1; i <= net->nodes && ready; i++)
            ready = hosts_oper_up(hub, HOSTS_IFINDEX_VETH0 + i) && hosts_oper_up(node_sk[i], HOSTS_IFINDEX_ETH0);
        if (ready && hosts_ports_forwarding(hub, net->nodes))
            return 0;
        usleep((useconds_t)nap_us);
        if (nap_us < 5000)
            nap_us *= 2;
    }
    snprintf(err, errlen, "links of %s did not come up within %d ms", net->name, HOSTS_READY_TIMEOUT_US / 1000);
    return -1;
}

/* Links, addresses and loopback of an already made set of namespaces. */
static int hosts_wire(hosts_net *net, char *err, size_t errlen)
{
    struct nl_sock *hub = hosts_nl_in(net->nsfd[0]), *node_sk[NAMING_MAX_NODES + 1] = {0};
    int rc, ok = -1;
    if (hub == NULL) {
        snprintf(err, errlen, "netlink socket in %s: %s", net->nsname[0], strerror(errno));
        return -1;
    }
    if ((rc = hosts_link_up(hub, HOSTS_IFINDEX_LO)) < 0) {
        hosts_nl_fail("loopback up", 0, rc, err, errlen);
        goto out;
    }
    if ((rc = hosts_bridge_add(hub)) < 0) {
        hosts_nl_fail("bridge br0", 0, rc, err, errlen);
        goto out;
    }
    if ((rc = hosts_addr_add(hub, HOSTS_IFINDEX_BRIDGE, hosts_addr(net, 0))) < 0) {
        hosts_nl_fail("address on br0", 0, rc, err, errlen);
        goto out;
    }
    for (int i = 1; i <= net->nodes; i++) {
        if ((rc = hosts_veth_add(hub, i, net->nsfd[i])) < 0) {
            hosts_nl_fail("veth", i, rc, err, errlen);
            goto out;
        }
        struct nl_sock *sk = node_sk[i] = hosts_nl_in(net->nsfd[i]);
        if (sk == NULL) {
            snprintf(err, errlen, "netlink socket in %s: %s", net->nsname[i], strerror(errno));
            goto out;
        }
        if ((rc = hosts_link_up(sk, HOSTS_IFINDEX_LO)) < 0) {
            hosts_nl_fail("loopback up", i, rc, err, errlen);
            goto out;
        }
        if ((rc = hosts_link_up(sk, HOSTS_IFINDEX_ETH0)) < 0) {
            hosts_nl_fail("eth0 up", i, rc, err, errlen);
            goto out;
        }
        if ((rc = hosts_addr_add(sk, HOSTS_IFINDEX_ETH0, hosts_addr(net, i))) < 0) {
            hosts_nl_fail("address on eth0", i, rc, err, errlen);
            goto out;
        }
    }
    ok = hosts_wait_ready(net, hub, node_sk, err, errlen);
out:
    for (int i = 1; i <= net->nodes; i++)
        if (node_sk[i])
            nl_socket_free(node_sk[i]);
    nl_socket_free(hub);
    return ok;
}

static void hosts_names(hosts_net *net, const char *name, int nodes)
{
    snprintf(net->name, sizeof net->name, "%s", name);
    net->nodes = nodes;
    for (int i = 0; i <= nodes; i++)
        naming_ns_name(net->name, i, net->nsname[i], sizeof net->nsname[i]);
}

int hosts_up(hosts_net *net, const char *name, int nodes, int manual, char *err, size_t errlen)
{
    char why[256];
    hosts_reset(net);
    if (naming_net_valid(name, err, errlen) != 0)
        return -1;
    if (nodes < 1 || nodes > NAMING_MAX_NODES) {
        snprintf(err, errlen, "bad node count %d (use 1 to %d)", nodes, NAMING_MAX_NODES);
        return -1;
    }
    hosts_names(net, name, nodes);
    if (hosts_record(net, err, errlen) != 0) {
        hosts_reset(net);
        return -1;
    }
    cleanup_track_net(net);
    for (int i = 0; i <= nodes; i++) {
        if (netns_create(net->nsname[i], &net->nsfd[i], why, sizeof why) != 0) {
            snprintf(err, errlen, "namespace %s: %s", net->nsname[i], why);
            goto fail;
        }
    }
    if (hosts_wire(net, err, errlen) != 0)
        goto fail;
    if (manual) {
        /* Hand the net over: owner 0 means "kept until `net down`". It is
         * rewritten only now so that a crash mid-way leaves a record with a
         * dead owner, which `riftlab clean` sweeps. */
        registry_rec rec;
        int lock = registry_lock();
        if (lock < 0 || registry_read(net->name, &rec) != 0) {
            registry_unlock(lock);
            snprintf(err, errlen, "reread run record of %s", net->name);
            goto fail;
        }
        rec.owner.pid = 0;
        rec.owner.start = 0;
        int rc = registry_write(&rec);
        registry_unlock(lock);
        if (rc != 0) {
            snprintf(err, errlen, "rewrite run record of %s", net->name);
            goto fail;
        }
        cleanup_untrack_net(net);               /* it is no longer this process's */
    }
    return 0;
fail:
    hosts_down(net, why, sizeof why);
    return -1;
}

int hosts_attach(hosts_net *net, const char *name, char *err, size_t errlen)
{
    registry_rec rec;
    hosts_reset(net);
    if (naming_net_valid(name, err, errlen) != 0)
        return -1;
    int lock = registry_lock();
    int rc = lock < 0 ? -1 : registry_read(name, &rec);
    registry_unlock(lock);
    if (rc != 0) {
        snprintf(err, errlen, "no net named %s (see `riftlab net ls`)", name);
        return -1;
    }
    hosts_names(net, name, rec.nodes);
    net->subnet = rec.subnet;
    for (int i = 0; i <= net->nodes; i++) {
        net->nsfd[i] = netns_open(net->nsname[i]);
        if (net->nsfd[i] < 0) {
            snprintf(err, errlen, "namespace %s is missing (%s); `riftlab net down %s` removes the rest",
                     net->nsname[i], strerror(errno), name);
            hosts_close(net);
            return -1;
        }
    }
    return 0;
}

void hosts_close(hosts_net *net)
{
    for (int i = 0; i <= NAMING_MAX_NODES; i++) {
        if (net->nsfd[i] >= 0)
            close(net->nsfd[i]);
        net->nsfd[i] = -1;
    }
}

int hosts_kill_ns_procs(unsigned long ns_ino)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int killed = 0;
    pid_t self = getpid();
    if (d == NULL || ns_ino == 0) {
        if (d)
            closedir(d);
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        char path[300];
        struct stat st;
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid == self)
            continue;
        snprintf(path, sizeof path, "/proc/%s/ns/net", e->d_name);
        if (stat(path, &st) == 0 && st.st_ino == ns_ino && kill(pid, SIGKILL) == 0)
            killed++;
    }
    closedir(d);
    return killed;
}

int hosts_down(hosts_net *net, char *err, size_t errlen)
{
    int rc = 0;
    if (net->name[0] == '\0')
        return 0;
    cleanup_untrack_net(net);
    for (int i = 0; i <= net->nodes; i++)
        hosts_kill_ns_procs((unsigned long)netns_inode(net->nsname[i]));
    hosts_close(net);
    for (int i = 0; i <= net->nodes; i++) {
        if (netns_remove(net->nsname[i]) != 0) {
            snprintf(err, errlen, "remove namespace %s: %s", net->nsname[i], strerror(errno));
            rc = -1;
        }
    }
    int lock = registry_lock();
    if (rc == 0)
        registry_remove(net->name);
    registry_unlock(lock);
    hosts_reset(net);
    return rc;
}

int hosts_socket(const hosts_net *net, int host, int domain, int type, int protocol)
{
    int saved, fd, e;
    if (host < 0 || host > net->nodes || net->nsfd[host] < 0) {
        errno = EINVAL;
        return -1;
    }
    if (netns_enter(net->nsfd[host], &saved) != 0)
        return -1;
    fd = socket(domain, type | SOCK_CLOEXEC, protocol);
    e = errno;
    if (netns_leave(saved) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    errno = e;
    return fd;
}
