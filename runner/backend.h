/* backend.h: the one small interface through which the runner brings a
 * cluster's hosts up and acts on them (DESIGN.md "Data flow of one run").
 *
 * Hosts are numbered as in containers/naming.h: 0 is the hub (faultproxy and
 * the client threads), 1..N are the nodes. A backend gives each host an
 * address, starts processes on hosts, signals them, cuts and heals directed
 * links at the kernel level when it can, and reads files back. Two
 * implementations exist: loopback (every host is 127.0.0.1, no privileges;
 * links are cut by the proxy) and netns (one network namespace per host,
 * nftables cuts). A backend for real machines over SSH would be one more
 * file implementing these operations. */
#ifndef RIFTLAB_BACKEND_H
#define RIFTLAB_BACKEND_H

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/buf.h"

#define BACKEND_MAX_HOSTS 16
#define BACKEND_MAX_PROCS 32

typedef struct backend backend;

/* A process the backend started: enough to signal it, reap it, restart it. */
typedef struct backend_proc {
    int used;
    int host;
    pid_t pid;                   /* 0 when not running */
    int exited;                  /* reaped; status in `status` */
    int status;
    int stopped;                 /* SIGSTOPped by us */
    char **argv;                 /* kept for restart (owned) */
    char *log_path;              /* stdout+stderr go here (appended) */
    char *restart_arg;           /* appended to argv on restart (chain: --join), or NULL */
    char name[32];
} backend_proc;

typedef struct backend_ops {
    const char *name;
    /* Hosts 0..nodes up. 0 or -1 with a reason in err. */
    int (*up)(backend *b, int nodes, char *err, size_t errlen);
    /* Everything down: kill leftover processes, remove hosts/rules. Idempotent. */
    void (*down)(backend *b);
    /* Address text of a host (what others use to reach it). */
    const char *(*addr)(backend *b, int host);
    /* Create a socket inside host's network (client threads live in the hub). */
    int (*socket)(backend *b, int host, int domain, int type, int protocol);
    /* Run argv on host in a new process; returns its pid or -1. */
    pid_t (*spawn)(backend *b, int host, char *const argv[], const char *log_path,
                   char *err, size_t errlen);
    /* Kernel-level cut of the directed link from -> to (both node hosts),
     * given the proxy port that from's datagrams arrive from at `to`.
     * Returns -1 with err if this backend cannot (then the proxy cuts). */
    int (*cut)(backend *b, int from, int to, int proxy_port_of_from, char *err, size_t errlen);
    /* Remove every kernel-level cut. */
    int (*heal)(backend *b, char *err, size_t errlen);
    /* Throttle a process to a share of one CPU (1.0 = unthrottled). */
    int (*slow)(backend *b, pid_t pid, double cpu, char *err, size_t errlen);
} backend_ops;

struct backend {
    const backend_ops *ops;
    int nodes;
    char prefix[16];             /* run prefix for every resource ("rl4711") */
    pthread_mutex_t mu;          /* the process table (nemesis threads share it) */
    /* Restarts asked for by other threads, run by the owner thread: a
     * child's PR_SET_PDEATHSIG fires when the *thread* that forked it
     * exits, so every process must be forked by the thread that lives as
     * long as the run (the one that called backend_init). */
    pthread_t owner;
    pthread_cond_t cv;
    int req_handle;              /* -1: none pending */
    int req_done, req_rc;
    char req_err[256];
    backend_proc procs[BACKEND_MAX_PROCS];
    void *impl;                  /* backend-private state */
};

extern const backend_ops backend_loopback_ops;
extern const backend_ops backend_netns_ops;   /* cut() fails on builds without containers */

/* 1 if the netns backend can work here (root and containers linked). */
int backend_netns_available(void);

void backend_init(backend *b, const backend_ops *ops, const char *prefix);

/* Processes (backend_proc.c, the same for every backend). Each returns 0 or -1. */
int backend_start(backend *b, int host, const char *name, char *const argv[],
                  const char *log_path, char *err, size_t errlen);   /* returns a handle >= 0 */
int backend_find(backend *b, const char *name);                      /* handle or -1 */
/* An argument restarts add (a chain member restarts empty and must --join). */
void backend_set_restart_arg(backend *b, int handle, const char *arg);
int backend_signal(backend *b, int handle, int sig);                 /* SIGSTOP/SIGCONT tracked */
int backend_restart(backend *b, int handle, char *err, size_t errlen);
/* Owner thread: run pending restart requests, waiting up to timeout_ns for one. */
void backend_service(backend *b, uint64_t timeout_ns);
/* Reap without blocking; 1 if the process is (now) gone. */
int backend_reap(backend *b, int handle);
/* SIGTERM, wait up to grace_ns, then SIGKILL. Always leaves it reaped. */
void backend_stop(backend *b, int handle, uint64_t grace_ns);
/* Stop every process (SIGCONT first, so paused ones can exit), free argv copies. */
void backend_stop_all(backend *b, uint64_t grace_ns);
int backend_running(backend *b, int handle);

/* Read a whole file written by a process on host (same filesystem for both
 * backends today; a remote backend would copy it). 0 or -1. */
int backend_read_file(backend *b, int host, const char *path, buf *out);

/* fork + (setns into netns_fd when >= 0) + exec, the child tied to riftlab's
 * life; for the backends' spawn. Returns the pid or -1 with err. */
pid_t backend_fork_exec(char *const argv[], const char *log_path, int netns_fd, char *err,
                        size_t errlen);
/* Child side of a spawn, after the backend placed it (namespace, ...): own
 * process group, stdout/stderr to log_path, exec. Never returns. */
void backend_child_exec(char *const argv[], const char *log_path) __attribute__((noreturn));

#endif
