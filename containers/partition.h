/* partition.h: kernel-level network partitions and lossy links on a
 * hosts_net, with nftables (libnftnl + libmnl, no `nft` command).
 *
 * Hosts are numbered as in hosts.h (0 hub, 1..N nodes); a link is directed,
 * from -> to, and is cut inside the namespace of `to` (see nftrules.h for
 * the exact rules). Every call changes the state and pushes it to the
 * kernel before returning: one nftables transaction (table + chain + flush
 * + rules, all or nothing) per host whose rules changed. A cut overrides a
 * loss on the same link; healing a link removes both. */
#ifndef RIFTLAB_CONTAINERS_PARTITION_H
#define RIFTLAB_CONTAINERS_PARTITION_H

#include <stddef.h>
#include <stdint.h>

#include "containers/hosts.h"

typedef struct partition partition;

/* A partition controller for `net`, which must outlive it. Nothing is sent
 * to the kernel until the first cut. NULL on allocation failure. */
partition *partition_new(const hosts_net *net);
/* Closes the netlink sockets; the rules stay (they go with the namespaces). */
void partition_free(partition *p);

/* The proxy's port P_host for traffic of `host` (0: none). Also cuts
 * traffic relayed by the proxy from that port. Takes effect at the next
 * change or partition_apply. */
void partition_set_proxy_port(partition *p, int host, uint16_t port);

/* Each returns 0, or -1 with a reason in err (bad host, netlink failure). */
int partition_cut(partition *p, int from, int to, char *err, size_t errlen);
int partition_cut_both(partition *p, int a, int b, char *err, size_t errlen);
/* Cuts every link between `host` and the other nodes, both ways (the hub,
 * where clients and the proxy live, still reaches it). */
int partition_isolate(partition *p, int host, char *err, size_t errlen);
/* group[1..nodes]: nodes in different groups are cut from each other both
 * ways; nodes in the same group are joined (cuts between them healed). */
int partition_split(partition *p, const int *group, char *err, size_t errlen);
/* Drops each packet of link from -> to with probability `probability`. */
int partition_loss(partition *p, int from, int to, double probability, char *err, size_t errlen);
int partition_heal_link(partition *p, int from, int to, char *err, size_t errlen);
/* Heals every link (cuts and losses). */
int partition_heal(partition *p, char *err, size_t errlen);
/* Pushes the current state to every host whose rules differ from the kernel's. */
int partition_apply(partition *p, char *err, size_t errlen);

/* 1 if link from -> to is cut (a loss is not a cut). */
int partition_is_cut(const partition *p, int from, int to);

#endif
