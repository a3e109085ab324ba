/* nftrules.h: what the kernel must drop, as nftables rules (pure: no I/O).
 *
 * A partition state says, for each directed link from -> to between hosts
 * (0 = hub, 1..N nodes), whether it is cut or lossy. DESIGN.md's "Where a
 * partition is cut": node-to-node traffic goes from -> hub proxy -> to and
 * reaches `to` from the proxy's port P_from, so the link from -> to is cut
 * in the namespace of `to`, on input, by dropping
 *   - everything from from's own address (traffic that avoids the proxy), and
 *   - UDP and TCP from the hub's address with source port P_from (when the
 *     proxy port of `from` is known).
 * A lossy link drops the same packets with probability p, decided per packet
 * by `numgen random mod 1000000 < p * 1000000`.
 *
 * Each host's rules sit in one table per net, `table ip <net>`, chain
 * `input` (filter hook, priority 0, policy accept), rebuilt as a whole on
 * every change, so the table always equals the state. */
#ifndef RIFTLAB_CONTAINERS_NFTRULES_H
#define RIFTLAB_CONTAINERS_NFTRULES_H

#include <stdint.h>

#include "containers/naming.h"

#define NFTRULES_HOSTS   (NAMING_MAX_NODES + 1)
#define NFTRULES_PPM     1000000u          /* drop_ppm of a cut: always */
#define NFTRULES_CHAIN   "input"
/* Most rules one host can need: 3 per other host. */
#define NFTRULES_MAX_PER_HOST (3 * NFTRULES_HOSTS)

typedef struct nftrules_state {
    int hosts;                                       /* hub + nodes */
    uint32_t addr[NFTRULES_HOSTS];                   /* host-order addresses */
    uint16_t proxy_port[NFTRULES_HOSTS];             /* P_i, 0 = unknown */
    uint32_t drop_ppm[NFTRULES_HOSTS][NFTRULES_HOSTS]; /* [from][to]: 0 open, PPM cut */
} nftrules_state;

/* One drop rule: packets from saddr (and, if l4proto != 0, of that protocol
 * with that source port), dropped with probability drop_ppm / 1e6. */
typedef struct nftrules_spec {
    uint32_t saddr;
    uint8_t l4proto;                                 /* 0, IPPROTO_UDP or IPPROTO_TCP */
    uint16_t sport;
    uint32_t drop_ppm;
} nftrules_spec;

/* The rules host `to` needs, in a stable order (by source host). Returns
 * how many were written (at most max). */
int nftrules_for_host(const nftrules_state *s, int to, nftrules_spec *out, int max);

/* The libnftnl rule for spec in table `table` (family ip, chain input), or
 * NULL on allocation failure. Free with nftnl_rule_free. */
struct nftnl_rule *nftrules_build(const char *table, const nftrules_spec *spec);

/* The table and its input chain (created if absent, left alone if present). */
struct nftnl_table *nftrules_table(const char *table);
struct nftnl_chain *nftrules_chain(const char *table);

#endif
