/* naming.c: names and addresses of a riftlab network (see naming.h). */
#define _GNU_SOURCE
#include "containers/naming.h"

#include <stdio.h>
#include <string.h>

int naming_net_valid(const char *name, char *err, size_t errlen)
{
    size_t n = strlen(name);
    if (n < 3 || n > NAMING_NET_MAX || strncmp(name, "rl", 2) != 0) {
        snprintf(err, errlen, "bad net name '%s': use 'rl' followed by 1 to %d of [a-z0-9] (e.g. rl1)",
                 name, NAMING_NET_MAX - 2);
        return -1;
    }
    for (size_t i = 2; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            snprintf(err, errlen, "bad net name '%s': only [a-z0-9] may follow 'rl'", name);
            return -1;
        }
    }
    return 0;
}

int naming_ns_name(const char *net, int host, char *out, size_t cap)
{
    int n;
    if (host < 0 || host > NAMING_MAX_NODES)
        return -1;
    if (host == 0)
        n = snprintf(out, cap, "%s-hub", net);
    else
        n = snprintf(out, cap, "%s-n%d", net, host);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

int naming_hostname(int host, char *out, size_t cap)
{
    int n;
    if (host < 0 || host > NAMING_MAX_NODES)
        return -1;
    n = host == 0 ? snprintf(out, cap, "hub") : snprintf(out, cap, "n%d", host);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

int naming_ns_parse(const char *ns, char *net, size_t cap, int *host)
{
    const char *dash = strrchr(ns, '-');
    char err[8];
    size_t netlen;
    if (dash == NULL)
        return -1;
    netlen = (size_t)(dash - ns);
    if (netlen == 0 || netlen > NAMING_NET_MAX || netlen + 1 > cap)
        return -1;
    memcpy(net, ns, netlen);
    net[netlen] = '\0';
    if (naming_net_valid(net, err, sizeof err) != 0)
        return -1;
    if (strcmp(dash + 1, "hub") == 0) {
        *host = 0;
        return 0;
    }
    /* "n" then 1..NAMING_MAX_NODES without leading zeros, so the parse is the
     * exact inverse of naming_ns_name. */
    if (dash[1] != 'n' || dash[2] < '1' || dash[2] > '9')
        return -1;
    int h = 0;
    for (const char *p = dash + 2; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        h = h * 10 + (*p - '0');
        if (h > NAMING_MAX_NODES)
            return -1;
    }
    *host = h;
    return 0;
}

int naming_subnet_pick(const unsigned char used[256])
{
    for (int s = NAMING_SUBNET_MIN; s <= NAMING_SUBNET_MAX; s++)
        if (!used[s])
            return s;
    return -1;
}

uint32_t naming_host_addr(int subnet, int host)
{
    uint32_t last = host == 0 ? 1u : 10u + (uint32_t)host;
    return (10u << 24) | (77u << 16) | ((uint32_t)subnet << 8) | last;
}

void naming_addr_text(uint32_t a, char *out, size_t cap)
{
    snprintf(out, cap, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}
