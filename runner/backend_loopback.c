/* backend_loopback.c: the unprivileged backend. Every host is 127.0.0.1
 * (nodes differ by port), processes are plain children, and there is no
 * kernel-level cut: the proxy does every partition (network.partitions:
 * proxy). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"


static int lo_up(backend *b, int nodes, char *err, size_t errlen)
{
    (void)err, (void)errlen;
    b->nodes = nodes;
    return 0;
}

static void lo_down(backend *b) { (void)b; }

static const char *lo_addr(backend *b, int host)
{
    (void)b, (void)host;
    return "127.0.0.1";
}

static int lo_socket(backend *b, int host, int domain, int type, int protocol)
{
    (void)b, (void)host;
    return socket(domain, type | SOCK_CLOEXEC, protocol);
}

static pid_t lo_spawn(backend *b, int host, char *const argv[], const char *log_path,
                      char *err, size_t errlen)
{
    (void)b, (void)host;
    return backend_fork_exec(argv, log_path, -1, err, errlen);
}

static int lo_cut(backend *b, int from, int to, int port, char *err, size_t errlen)
{
    (void)b, (void)from, (void)to, (void)port;
    snprintf(err, errlen, "loopback backend has no kernel-level cuts (use the proxy)");
    return -1;
}

static int lo_heal(backend *b, char *err, size_t errlen)
{
    (void)b, (void)err, (void)errlen;
    return 0;
}

const backend_ops backend_loopback_ops = {
    .name = "loopback",
    .up = lo_up,
    .down = lo_down,
    .addr = lo_addr,
    .socket = lo_socket,
    .spawn = lo_spawn,
    .cut = lo_cut,
    .heal = lo_heal,
    .slow = NULL,
};
