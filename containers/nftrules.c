/* nftrules.c: partition state -> nftables rules (see nftrules.h). */
#define _GNU_SOURCE
#include "containers/nftrules.h"

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <string.h>

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

int nftrules_for_host(const nftrules_state *s, int to, nftrules_spec *out, int max)
{
    int n = 0;
    if (to < 0 || to >= s->hosts)
        return 0;
    for (int from = 0; from < s->hosts; from++) {
        uint32_t ppm = s->drop_ppm[from][to];
        if (from == to || ppm == 0)
            continue;
        if (n < max)
            out[n++] = (nftrules_spec){.saddr = s->addr[from], .drop_ppm = ppm};
        /* The hub's own traffic has no proxy port to tell it apart. */
        if (from != 0 && s->proxy_port[from] != 0) {
            static const uint8_t protos[] = {IPPROTO_UDP, IPPROTO_TCP};
            for (int k = 0; k < 2 && n < max; k++)
                out[n++] = (nftrules_spec){.saddr = s->addr[0], .l4proto = protos[k],
                                           .sport = s->proxy_port[from], .drop_ppm = ppm};
        }
    }
    return n;
}

/* Appends a new expression `name` for the caller to configure; NULL if
 * out of memory. */
static struct nftnl_expr *nftrules_add(struct nftnl_rule *r, const char *name)
{
    struct nftnl_expr *e = nftnl_expr_alloc(name);
    if (e != NULL)
        nftnl_rule_add_expr(r, e);
    return e;
}

/* Appends "register 1 <op> data". */
static int nftrules_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
    struct nftnl_expr *e = nftrules_add(r, "cmp");
    if (e == NULL)
        return -1;
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
    return 0;
}

/* Loads `len` bytes at `offset` of header `base` into register 1 and
 * compares them for equality with `data`. */
static int nftrules_match(struct nftnl_rule *r, uint32_t base, uint32_t offset, const void *data,
                          uint32_t len)
{
    struct nftnl_expr *load = nftrules_add(r, "payload");
    if (load == NULL)
        return -1;
    nftnl_expr_set_u32(load, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
    nftnl_expr_set_u32(load, NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(load, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(load, NFTNL_EXPR_PAYLOAD_LEN, len);
    return nftrules_cmp(r, NFT_CMP_EQ, data, len);
}

struct nftnl_rule *nftrules_build(const char *table, const nftrules_spec *spec)
{
    struct nftnl_rule *r = nftnl_rule_alloc();
    struct nftnl_expr *e;
    uint32_t saddr = htonl(spec->saddr);
    if (r == NULL)
        return NULL;
    nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
    nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
    nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, NFTRULES_CHAIN);
    /* ip saddr: offset 12 of the IPv4 header. */
    if (nftrules_match(r, NFT_PAYLOAD_NETWORK_HEADER, 12, &saddr, 4) != 0)
        goto fail;
    if (spec->l4proto != 0) {
        uint8_t proto = spec->l4proto;
        uint16_t sport = htons(spec->sport);
        e = nftrules_add(r, "meta");
        if (e == NULL)
            goto fail;
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
        if (nftrules_cmp(r, NFT_CMP_EQ, &proto, 1) != 0)
            goto fail;
        /* The source port is the first 2 bytes of both UDP and TCP headers. */
        if (nftrules_match(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, &sport, 2) != 0)
            goto fail;
    }
    if (spec->drop_ppm < NFTRULES_PPM) {
        /* numgen leaves a host-order u32 in the register, and cmp compares
         * bytes (memcmp), so "<" needs big-endian on both sides: convert the
         * register with byteorder hton, as nft itself does. */
        uint32_t bound = htonl(spec->drop_ppm);
        e = nftrules_add(r, "numgen");
        if (e == NULL)
            goto fail;
        nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, NFTRULES_PPM);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NG_OFFSET, 0);
        e = nftrules_add(r, "byteorder");
        if (e == NULL)
            goto fail;
        nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 4);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 4);
        if (nftrules_cmp(r, NFT_CMP_LT, &bound, sizeof bound) != 0)
            goto fail;
    }
    /* A counter, so `nft list table ip <net>` shows what each rule dropped. */
    if (nftrules_add(r, "counter") == NULL)
        goto fail;
    e = nftrules_add(r, "immediate");
    if (e == NULL)
        goto fail;
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_DROP);
    return r;
fail:
    nftnl_rule_free(r);
    return NULL;
}

struct nftnl_table *nftrules_table(const char *table)
{
    struct nftnl_table *t = nftnl_table_alloc();
    if (t == NULL)
        return NULL;
    nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
    nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
    return t;
}

struct nftnl_chain *nftrules_chain(const char *table)
{
    struct nftnl_chain *c = nftnl_chain_alloc();
    if (c == NULL)
        return NULL;
    nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_IPV4);
    nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
    nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, NFTRULES_CHAIN);
    nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
    nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
    nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
    nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
    return c;
}
