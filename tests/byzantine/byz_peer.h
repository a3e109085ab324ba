/* byz_peer.h: test helper that plays fake peers of a real node on loopback:
 * UDP sockets on the ports the node sends to, datagrams built and read
 * with the real wire format (common/wire.h: header, vclock, body, tag), and
 * a chain-node process started and stopped by the test. */
#ifndef RIFTLAB_BYZ_PEER_H
#define RIFTLAB_BYZ_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/wire.h"
#include "nodes/raft/raft.h"

/* A UDP socket bound to 127.0.0.1:port (port 0: any). -1 on failure. */
int byz_udp_bind(int port);
/* Send raw bytes to 127.0.0.1:port. */
int byz_udp_send(int fd, int port, const void *data, size_t len);

/* A datagram of the DESIGN wire format: header (src, dst, type, cluster,
 * seq), an all-zero vector clock of n entries, body; tagged with key if
 * non-NULL. Returns its length (<= cap) or -1. */
int byz_datagram(uint8_t *out, size_t cap, uint8_t type, uint16_t src, uint16_t dst,
                 uint32_t cluster, uint64_t seq, const void *body, size_t len, const wire_key *key);
/* Send a Raft message m (from/to as the header's src/dst). */
int byz_send_raft(int fd, int port, const raft_msg *m, const wire_key *key);
/* Wait up to timeout_ms for a valid datagram (no key): 1 with its header,
 * its body after the vector clock (inside buf) and the sender's UDP port;
 * 0 when none came in time. */
int byz_recv_raw(int fd, int timeout_ms, uint8_t *buf, size_t cap, wire_header *h,
                 const uint8_t **body, size_t *len, int *from_port);
/* Wait up to timeout_ms for a datagram on fd and decode it as Raft (no
 * key: the node under test runs without one). 1: *m filled (release with
 * raft_msg_free; payloads point into buf), 0: nothing valid in time. */
int byz_recv_raft(int fd, int timeout_ms, uint8_t *buf, size_t cap, raft_msg *m);

/* fork+execv argv (argv[0] a path) with stdout/stderr to log_path. */
pid_t byz_spawn(const char *const *argv, const char *log_path);
/* Wait until a RESP server on port answers PING (bounded); 0 or -1 (also
 * when pid exited). */
int byz_wait_ping(int port, pid_t pid, int timeout_ms);
/* 1 if pid is still running. */
int byz_alive(pid_t pid);
/* SIGTERM, wait (bounded), SIGKILL if needed; returns the exit status or -1. */
int byz_stop(pid_t pid);

/* Count trace lines of a JSONL file containing every one of the given
 * substrings (NULL-terminated list). -1 if the file cannot be read. */
int byz_trace_count(const char *path, ...);

#endif
