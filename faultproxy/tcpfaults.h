/* tcpfaults.h: the faults faultproxy applies to the byte streams of its TCP
 * mode (one set per listener and direction), shared by the control parser
 * (ctl.c), which sets them, and the TCP relay (tcp.c), which applies them.
 * The Toxiproxy-style menu: latency with jitter, a bandwidth cap, slicing
 * into small segments with a pause between them, reset, and blackhole. */
#ifndef RIFTLAB_PROXY_TCPFAULTS_H
#define RIFTLAB_PROXY_TCPFAULTS_H

#include <stdint.h>

#define PROXY_TCP_UP   0   /* client -> upstream */
#define PROXY_TCP_DOWN 1   /* upstream -> client */

typedef struct proxy_tcp_faults {
    uint64_t latency_ns;     /* every chunk read is held this long ... */
    uint64_t jitter_ns;      /* ... plus uniform [0, jitter) */
    double bandwidth;        /* bytes per second, 0 = unlimited */
    uint32_t slice;          /* cut chunks into segments of at most this many bytes (0: off) */
    uint64_t slice_delay_ns; /* pause between two segments */
    int blackhole;           /* read and discard: the connection stays up, nothing passes */
} proxy_tcp_faults;

/* Faults of one TCP listener: per direction, plus resets (whole connection). */
typedef struct proxy_tcp_rule {
    proxy_tcp_faults dir[2];
    int reset;               /* reset every connection (RST) ... */
    uint64_t reset_after_ns; /* ... this long after it was accepted (0: at once) */
} proxy_tcp_rule;

#endif
