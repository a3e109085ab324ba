/* partition.c: push partition state into each host's nftables table (see
 * partition.h, nftrules.h). */
#define _GNU_SOURCE
#include "containers/partition.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

#include "containers/netns.h"
#include "containers/nftrules.h"

struct partition {
    const hosts_net *net;
    nftrules_state want;                              /* drop_ppm computed from cut/loss */
    unsigned char cut[NFTRULES_HOSTS][NFTRULES_HOSTS];
    uint32_t loss[NFTRULES_HOSTS][NFTRULES_HOSTS];
    /* What each host's kernel table holds (its column of drop_ppm and the
     * proxy ports it was built with); used to send only what changed. */
    nftrules_state applied;
    unsigned char has_table[NFTRULES_HOSTS];
    struct mnl_socket *nl[NFTRULES_HOSTS];            /* opened inside the host's namespace */
    uint32_t seq;
};

partition *partition_new(const hosts_net *net)
{
    partition *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->net = net;
    p->want.hosts = net->nodes + 1;
    for (int h = 0; h < p->want.hosts; h++)
        p->want.addr[h] = hosts_addr(net, h);
    p->applied = p->want;
    p->seq = (uint32_t)time(NULL);
    return p;
}

void partition_free(partition *p)
{
    if (p == NULL)
        return;
    for (int h = 0; h < NFTRULES_HOSTS; h++)
        if (p->nl[h])
            mnl_socket_close(p->nl[h]);
    free(p);
}

void partition_set_proxy_port(partition *p, int host, uint16_t port)
{
    if (host > 0 && host < p->want.hosts)
        p->want.proxy_port[host] = port;
}

int partition_is_cut(const partition *p, int from, int to)
{
    if (from < 0 || to < 0 || from >= p->want.hosts || to >= p->want.hosts)
        return 0;
    return p->cut[from][to];
}

static struct mnl_socket *partition_socket(partition *p, int host, char *err, size_t errlen)
{
    int saved;
    if (p->nl[host])
        return p->nl[host];
    if (netns_enter(p->net->nsfd[host], &saved) != 0) {
        snprintf(err, errlen, "enter namespace %s: %s", p->net->nsname[host], strerror(errno));
        return NULL;
    }
    struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
    int e = errno;
    if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) != 0) {
        e = errno;
        mnl_socket_close(nl);
        nl = NULL;
    }
    if (netns_leave(saved) != 0) {
        if (nl)
            mnl_socket_close(nl);
        snprintf(err, errlen, "leave namespace %s: %s", p->net->nsname[host], strerror(errno));
        return NULL;
    }
    if (nl == NULL) {
        snprintf(err, errlen, "netfilter socket in %s: %s", p->net->nsname[host], strerror(e));
        return NULL;
    }
    /* Short acks: an error reply need not echo a whole rule back. */
    int one = 1;
    mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof one);
    p->nl[host] = nl;
    return nl;
}

/* Reads every reply already queued (the kernel handles a batch inside
 * sendmsg, so all acks are there when it returns); the first error wins. */
static int partition_replies(struct mnl_socket *nl, int *error)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    int replies = 0;
    for (;;) {
        ssize_t n = recv(mnl_socket_get_fd(nl), buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0)
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? replies : -1;
        int len = (int)n;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
            if (h->nlmsg_type != NLMSG_ERROR)
                continue;
            const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
            if (e->error != 0 && *error == 0)
                *error = -e->error;
            replies++;
        }
    }
}

/* Appends one message to the batch; 0 or -1 if the buffer is full. */
static int partition_next(struct mnl_nlmsg_batch *b)
{
    return mnl_nlmsg_batch_next(b) ? 0 : -1;
}

/* One transaction for host `to`: table, chain, flush, rules. */
static int partition_push(partition *p, int to, char *err, size_t errlen)
{
    nftrules_spec specs[NFTRULES_MAX_PER_HOST];
    int n = nftrules_for_host(&p->want, to, specs, NFTRULES_MAX_PER_HOST);
    const char *table = p->net->name;
    struct mnl_socket *nl = partition_socket(p, to, err, errlen);
    if (nl == NULL)
        return -1;
    /* Room for the fixed messages plus the rules; mnl batches want twice
     * the limit as buffer (the last message may overrun the limit). */
    size_t limit = 8192 + (size_t)n * 512;
    char *buf = malloc(2 * limit);
    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, limit);
    struct nftnl_table *t = nftrules_table(table);
    struct nftnl_chain *c = nftrules_chain(table);
    struct nftnl_rule *flush = nftnl_rule_alloc();
    struct nlmsghdr *h;
    int rc = -1, msgs = 0, fail = 0;

    if (b == NULL || t == NULL || c == NULL || flush == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    nftnl_batch_begin(mnl_nlmsg_batch_current(b), p->seq++);
    fail |= partition_next(b);
    h = nftnl_table_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_NEWTABLE, NFPROTO_IPV4,
                                    NLM_F_CREATE | NLM_F_ACK, p->seq++);
    nftnl_table_nlmsg_build_payload(h, t);
    fail |= partition_next(b);
    h = nftnl_chain_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_NEWCHAIN, NFPROTO_IPV4,
                                    NLM_F_CREATE | NLM_F_ACK, p->seq++);
    nftnl_chain_nlmsg_build_payload(h, c);
    fail |= partition_next(b);
    /* DELRULE naming only table and chain flushes the chain. */
    nftnl_rule_set_u32(flush, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
    nftnl_rule_set_str(flush, NFTNL_RULE_TABLE, table);
    nftnl_rule_set_str(flush, NFTNL_RULE_CHAIN, NFTRULES_CHAIN);
    h = nftnl_rule_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_DELRULE, NFPROTO_IPV4,
                                   NLM_F_ACK, p->seq++);
    nftnl_rule_nlmsg_build_payload(h, flush);
    fail |= partition_next(b);
    msgs = 3;
    for (int i = 0; i < n && !fail; i++) {
        struct nftnl_rule *r = nftrules_build(table, &specs[i]);
        if (r == NULL) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        h = nftnl_rule_nlmsg_build_hdr(mnl_nlmsg_batch_current(b), NFT_MSG_NEWRULE, NFPROTO_IPV4,
                                       NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, p->seq++);
        nftnl_rule_nlmsg_build_payload(h, r);
        nftnl_rule_free(r);
        fail |= partition_next(b);
        msgs++;
    }
    nftnl_batch_end(mnl_nlmsg_batch_current(b), p->seq++);
    fail |= partition_next(b);
    if (fail) {
        snprintf(err, errlen, "nftables batch for %s too large", p->net->nsname[to]);
        goto out;
    }
    if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0) {
        snprintf(err, errlen, "send nftables batch to %s: %s", p->net->nsname[to], strerror(errno));
        goto out;
    }
    int error = 0, got = partition_replies(nl, &error);
    if (got < 0 || error != 0) {
        snprintf(err, errlen, "nftables in %s: %s", p->net->nsname[to],
                 strerror(error ? error : errno));
        goto out;
    }
    if (got < msgs) {
        snprintf(err, errlen, "nftables in %s: %d of %d acks", p->net->nsname[to], got, msgs);
        goto out;
    }
    p->has_table[to] = 1;
    for (int from = 0; from < p->want.hosts; from++)
        p->applied.drop_ppm[from][to] = p->want.drop_ppm[from][to];
    rc = 0;
out:
    nftnl_rule_free(flush);
    nftnl_chain_free(c);
    nftnl_table_free(t);
    if (b)
        mnl_nlmsg_batch_stop(b);
    free(buf);
    return rc;
}

/* 1 if host `to` needs a new transaction. */
static int partition_dirty(const partition *p, int to)
{
    int any = 0;
    for (int from = 0; from < p->want.hosts; from++) {
        uint32_t ppm = p->want.drop_ppm[from][to];
        any |= ppm != 0;
        if (ppm != p->applied.drop_ppm[from][to])
            return 1;
        if (ppm != 0 && p->want.proxy_port[from] != p->applied.proxy_port[from])
            return 1;
    }
    /* A host's first transaction is only needed once it has a rule. */
    return any && !p->has_table[to];
}

int partition_apply(partition *p, char *err, size_t errlen)
{
    for (int from = 0; from < p->want.hosts; from++)
        for (int to = 0; to < p->want.hosts; to++)
            p->want.drop_ppm[from][to] = p->cut[from][to] ? NFTRULES_PPM : p->loss[from][to];
    for (int to = 0; to < p->want.hosts; to++)
        if (partition_dirty(p, to) && partition_push(p, to, err, errlen) != 0)
            return -1;
    memcpy(p->applied.proxy_port, p->want.proxy_port, sizeof p->applied.proxy_port);
    return 0;
}

static int partition_check(const partition *p, int from, int to, char *err, size_t errlen)
{
    if (from < 0 || to < 0 || from >= p->want.hosts || to >= p->want.hosts || from == to) {
        snprintf(err, errlen, "bad link %d -> %d (hosts are 0..%d, 0 = hub)", from, to, p->want.hosts - 1);
        return -1;
    }
    return 0;
}

int partition_cut(partition *p, int from, int to, char *err, size_t errlen)
{
    if (partition_check(p, from, to, err, errlen) != 0)
        return -1;
    p->cut[from][to] = 1;
    return partition_apply(p, err, errlen);
}

int partition_cut_both(partition *p, int a, int b, char *err, size_t errlen)
{
    if (partition_check(p, a, b, err, errlen) != 0)
        return -1;
    p->cut[a][b] = p->cut[b][a] = 1;
    return partition_apply(p, err, errlen);
}

int partition_isolate(partition *p, int host, char *err, size_t errlen)
{
    if (host < 1 || host >= p->want.hosts)
        return partition_check(p, -1, -1, err, errlen);
    for (int k = 1; k < p->want.hosts; k++)
        if (k != host)
            p->cut[host][k] = p->cut[k][host] = 1;
    return partition_apply(p, err, errlen);
}

int partition_split(partition *p, const int *group, char *err, size_t errlen)
{
    for (int a = 1; a < p->want.hosts; a++)
        for (int b = 1; b < p->want.hosts; b++)
            if (a != b)
                p->cut[a][b] = group[a] != group[b];
    return partition_apply(p, err, errlen);
}

int partition_loss(partition *p, int from, int to, double probability, char *err, size_t errlen)
{
    if (partition_check(p, from, to, err, errlen) != 0)
        return -1;
    if (!(probability >= 0.0 && probability <= 1.0)) {
        snprintf(err, errlen, "bad loss probability %g (use 0 to 1)", probability);
        return -1;
    }
    p->loss[from][to] = (uint32_t)(probability * NFTRULES_PPM + 0.5);
    return partition_apply(p, err, errlen);
}

int partition_heal_link(partition *p, int from, int to, char *err, size_t errlen)
{
    if (partition_check(p, from, to, err, errlen) != 0)
        return -1;
    p->cut[from][to] = 0;
    p->loss[from][to] = 0;
    return partition_apply(p, err, errlen);
}

int partition_heal(partition *p, char *err, size_t errlen)
{
    memset(p->cut, 0, sizeof p->cut);
    memset(p->loss, 0, sizeof p->loss);
    return partition_apply(p, err, errlen);
}
