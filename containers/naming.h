/* naming.h: the names and addresses of a riftlab network (pure functions, no I/O).
 *
 * A net is named by a prefix that starts with "rl" (e.g. "rl4711"); every
 * resource it makes carries that prefix, which is how `riftlab clean`
 * recognises riftlab's leftovers and never touches anything else:
 *
 *   namespaces   <net>-hub, <net>-n1 .. <net>-nN     (under /run/netns)
 *   nft table    ip <net>                            (inside each node namespace)
 *   cgroups      riftlab/<net>-<process>             (cpu controller)
 *   run record   /run/riftlab/<net>.run
 *
 * Host 0 is the hub, hosts 1..N are the nodes. Each net gets its own /24,
 * 10.77.S.0/24 with S in 1..254: the hub is .1 and node i is .(10+i), so
 * n1 is 10.77.S.11 (easy to read in a packet dump). */
#ifndef RIFTLAB_CONTAINERS_NAMING_H
#define RIFTLAB_CONTAINERS_NAMING_H

#include <stddef.h>
#include <stdint.h>

#define NAMING_NET_MAX    12   /* characters in a net name, "rl" included */
#define NAMING_NS_MAX     24   /* buffer for a namespace name */
#define NAMING_MAX_NODES  64
#define NAMING_SUBNET_MIN 1
#define NAMING_SUBNET_MAX 254

/* 0 if `name` is a valid net name (^rl[a-z0-9]{1,10}$), else -1 with a reason. */
int naming_net_valid(const char *name, char *err, size_t errlen);

/* The namespace name of host `host` (0 = hub) of net `net`; -1 if it does not fit. */
int naming_ns_name(const char *net, int host, char *out, size_t cap);

/* The hostname a process on that host sees: "hub" or "n<i>". */
int naming_hostname(int host, char *out, size_t cap);

/* Parses a namespace name made by naming_ns_name: fills the net (cap >=
 * NAMING_NET_MAX + 1) and the host. -1 if the name is not riftlab's. */
int naming_ns_parse(const char *ns, char *net, size_t cap, int *host);

/* The lowest subnet in [NAMING_SUBNET_MIN, NAMING_SUBNET_MAX] not marked in
 * used[256] (used[s] != 0 means taken); -1 if all are taken. */
int naming_subnet_pick(const unsigned char used[256]);

/* IPv4 address of host `host` in subnet `subnet`, in host byte order. */
uint32_t naming_host_addr(int subnet, int host);

/* Dotted text of a host-order address. */
void naming_addr_text(uint32_t addr, char *out, size_t cap);

#endif
