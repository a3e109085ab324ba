/* net.h: small socket helpers shared by nodes, the proxy, the runner and
 * tests. IPv4 only: riftlab's traffic stays on 127.0.0.0/8 and on the
 * 10.77.0.0/16 addresses of namespaces it created (DESIGN.md, network
 * safety). No name resolution beyond "localhost", so a typo cannot send
 * traffic anywhere unexpected.
 *
 * Addresses are written "host:port": "127.0.0.1:7000", "localhost:7000",
 * "10.77.0.2:7000"; an empty host or "*" means every local address
 * (":7000", "*:7000"). Port 0 asks the kernel for a free port (see
 * net_local_port). Every socket made here is close-on-exec; the
 * functions return the fd, or -1 with a message in err. */
#ifndef RIFTLAB_NET_H
#define RIFTLAB_NET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* Socket buffers asked for on UDP sockets (the kernel caps them at
 * net.core.rmem_max / wmem_max): bursts of datagrams are not dropped by a
 * briefly busy node or proxy. */
#define NET_UDP_BUFFER (4 << 20)

int net_parse_addr(const char *hostport, struct sockaddr_in *out, char *err, size_t errlen);
/* "a.b.c.d:port" into out (cap >= 22 is always enough). */
void net_format_addr(const struct sockaddr_in *a, char *out, size_t cap);

int net_set_nonblock(int fd);
int net_set_cloexec(int fd);
int net_set_nodelay(int fd);   /* TCP_NODELAY: small RESP replies go out at once */

/* A nonblocking UDP socket bound to hostport, with large buffers. */
int net_udp_bind(const char *hostport, char *err, size_t errlen);
int net_udp_bind_addr(const struct sockaddr_in *a, char *err, size_t errlen);
/* A nonblocking listening TCP socket (SO_REUSEADDR). */
int net_tcp_listen(const char *hostport, int backlog, char *err, size_t errlen);
/* A nonblocking TCP socket connecting to hostport: the connection may
 * still be in progress (wait for writability, then net_connect_result). */
int net_tcp_connect(const char *hostport, char *err, size_t errlen);
int net_tcp_connect_addr(const struct sockaddr_in *a, char *err, size_t errlen);
/* 0 once a nonblocking connect succeeded, else the errno it failed with. */
int net_connect_result(int fd);
/* The local port a socket is bound to (after binding to port 0), or -1. */
int net_local_port(int fd);

#endif
