/* hosts.h: a riftlab network of "hosts", each a Linux network namespace.
 *
 *            hub namespace <net>-hub (proxy, clients)
 *            br0 10.77.S.1/24
 *           /      |       \
 *        vn1      vn2  ...  vnN        veth ends in the hub, enslaved to br0
 *         |        |         |
 *        eth0     eth0      eth0       the other ends, one per node namespace
 *     <net>-n1  <net>-n2 .. <net>-nN   10.77.S.11, .12, ... /24
 *
 * Every link lives inside riftlab's namespaces (nothing in the root
 * namespace, no route from it), so deleting the namespaces deletes the
 * veths and the bridge with them. Loopback is up everywhere. The
 * namespaces are named the `ip netns` way (see netns.h), so
 * `ip netns exec rl1-n2 ping 10.77.1.11` works by hand.
 *
 * UTS (hostname) namespaces are not kept here: the supervisor gives each
 * process it starts a fresh UTS namespace with the host's name ("n1",
 * "hub"; see naming_hostname), which costs nothing at bring-up. */
#ifndef RIFTLAB_CONTAINERS_HOSTS_H
#define RIFTLAB_CONTAINERS_HOSTS_H

#include <stddef.h>
#include <stdint.h>

#include "containers/naming.h"

typedef struct hosts_net {
    char name[NAMING_NET_MAX + 1];
    int nodes;                                       /* hosts 1..nodes; 0 is the hub */
    int subnet;                                      /* 10.77.subnet.0/24 */
    int nsfd[NAMING_MAX_NODES + 1];                  /* open namespace fds, -1 if none */
    char nsname[NAMING_MAX_NODES + 1][NAMING_NS_MAX];
} hosts_net;

/* Brings up net `name` with `nodes` node hosts and returns once packets
 * flow (links up, bridge ports forwarding). manual != 0 marks it as made
 * by hand (`riftlab net up`): it then outlives this process and only
 * `net down` removes it. On failure everything made so far is removed.
 * 0 or -1 with a reason in err. */
int hosts_up(hosts_net *net, const char *name, int nodes, int manual, char *err, size_t errlen);

/* Opens an existing net by name (from its run record). 0 or -1. */
int hosts_attach(hosts_net *net, const char *name, char *err, size_t errlen);

/* Kills every process living in the net's namespaces, removes the
 * namespaces and the run record. Safe on a half-made or attached net. */
int hosts_down(hosts_net *net, char *err, size_t errlen);

/* Releases the fds without removing anything (after attach). */
void hosts_close(hosts_net *net);

/* Address of a host, host byte order. */
uint32_t hosts_addr(const hosts_net *net, int host);

/* A socket created inside host's namespace (it stays there for life), for
 * clients and the proxy living in the hub. -1 with errno on failure. */
int hosts_socket(const hosts_net *net, int host, int domain, int type, int protocol);

/* Kills (SIGKILL) every process whose network namespace has inode ns_ino;
 * returns how many were signalled. Used by down and by the sweeper. */
int hosts_kill_ns_procs(unsigned long ns_ino);

#endif
