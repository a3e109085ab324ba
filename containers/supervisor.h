/* supervisor.h: start, signal, restart, slow down and wait for the
 * processes of a run (nodes, the proxy), on a host or with no namespace.
 *
 * A process is started with fork + execve of an argument vector (no
 * shell), in its own process group (signals go to the whole group), with
 * PR_SET_PDEATHSIG(SIGKILL) so it dies with the thread that started it
 * (start processes from a thread that lives as long as the run, normally
 * main), a controlled environment, stdout/stderr appended to log files, and
 * optionally inside a host's network namespace and a fresh UTS namespace
 * with the host's name. Its spec is kept, so restart gives the same argv,
 * environment, working (data) directory and logs.
 *
 * The supervisor reaps its children with waitpid: the caller must not
 * ignore SIGCHLD or reap them elsewhere. Not thread-safe per process: one
 * thread drives one sup_proc. Every started process is tracked by cleanup.h
 * until sup_free. */
#ifndef RIFTLAB_CONTAINERS_SUPERVISOR_H
#define RIFTLAB_CONTAINERS_SUPERVISOR_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

#include "containers/cgroup.h"

typedef struct sup_spec {
    const char *path;            /* executable; no PATH search */
    char *const *argv;           /* NULL-terminated, argv[0] included */
    char *const *envp;           /* NULL-terminated; NULL = empty environment */
    int netns_fd;                /* host namespace fd; -1 = the caller's (loopback backend) */
    const char *hostname;        /* non-NULL: new UTS namespace with this name */
    const char *workdir;         /* NULL = the caller's */
    const char *stdout_path;     /* appended; NULL = /dev/null */
    const char *stderr_path;
    const char *run;             /* run prefix ("rl4711"): names the cgroup, run record */
    const char *name;            /* process name within the run ("n1", "proxy") */
} sup_spec;

enum sup_slow_mode { SUP_SLOW_AUTO, SUP_SLOW_CGROUP, SUP_SLOW_DUTY };

typedef struct sup_proc {
    /* Deep copy of the spec (argv/envp/strings in one allocation). */
    sup_spec spec;
    char *copy;
    int netns_fd;                /* dup of spec.netns_fd, or -1 */
    pid_t pid;                   /* current process (also its group), 0 if none */
    int status;                  /* last waitpid status, valid once exited */
    int exited;                  /* 1 once pid was reaped */
    int paused;
    /* Slowness, kept across restarts. cpu >= 1: full speed. */
    double cpu;
    enum cgroup_kind cg_kind;
    char cgroup[256];            /* "" if none made */
    /* SIGSTOP/SIGCONT duty cycle when there is no cgroup cpu controller. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t duty;
    int duty_running;
    int duty_stop;
} sup_proc;

/* Starts a process (p is initialised here). 0 or -1 with a reason in err;
 * an exec failure inside the child is reported here, not as an exit. */
int sup_start(sup_proc *p, const sup_spec *spec, char *err, size_t errlen);

/* Sends sig to the process group (also while paused). 0 or -1. */
int sup_signal(sup_proc *p, int sig);

/* SIGKILL (a crash) and reap. */
int sup_kill(sup_proc *p);

/* SIGTERM, up to grace_ms for it to exit, then SIGKILL. Returns 0 if it
 * exited on SIGTERM, 1 if it needed SIGKILL, -1 on error. */
int sup_terminate(sup_proc *p, int grace_ms);

/* SIGSTOP / SIGCONT the process group. */
int sup_pause(sup_proc *p);
int sup_resume(sup_proc *p);

/* Kills it if still running, then starts it again from the same spec
 * (and the same slowness). */
int sup_restart(sup_proc *p, char *err, size_t errlen);

/* Waits up to timeout_ms (-1 forever) for the process to exit. 0 exited
 * (p->status holds the waitpid status), 1 timed out, -1 error/no process. */
int sup_wait(sup_proc *p, int timeout_ms);

/* 1 if started and not yet reaped (checks without blocking). */
int sup_running(sup_proc *p);

/* Limits the process to `cpu` of one CPU (0 < cpu; >= 1 restores full
 * speed): a cgroup quota where possible (AUTO), else a SIGSTOP/SIGCONT duty
 * cycle over a 100 ms period. Which one is used: p->cg_kind != CGROUP_NONE. */
int sup_slow(sup_proc *p, double cpu, enum sup_slow_mode mode, char *err, size_t errlen);

/* Kills the process if running, removes its cgroup, frees the copy. */
void sup_free(sup_proc *p);

#endif
