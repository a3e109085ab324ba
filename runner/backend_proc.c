/* backend_proc.c: the process table every backend shares: start a process
 * through the backend's spawn, remember its argv so it can be restarted
 * after a kill (crash-recovery), pause/resume it, reap it, and stop
 * everything on the way out. */
#define _GNU_SOURCE
#include "backend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

static int backend_signal_locked(backend *b, backend_proc *p, int sig);

void backend_init(backend *b, const backend_ops *ops, const char *prefix)
{
    memset(b, 0, sizeof *b);
    b->ops = ops;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, NULL);
    b->owner = pthread_self();
    b->req_handle = -1;
    snprintf(b->prefix, sizeof b->prefix, "%s", prefix);
}

static char **argv_copy(char *const argv[])
{
    int n = 0;
    while (argv[n])
        n++;
    char **c = calloc((size_t)n + 1, sizeof *c);
    if (!c)
        abort();
    for (int i = 0; i < n; i++)
        if (!(c[i] = strdup(argv[i])))
            abort();
    return c;
}

static void argv_free(char **argv)
{
    for (int i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

int backend_start(backend *b, int host, const char *name, char *const argv[],
                  const char *log_path, char *err, size_t errlen)
{
    int h = -1;
    for (int i = 0; i < BACKEND_MAX_PROCS; i++)
        if (!b->procs[i].used) {
            h = i;
            break;
        }
    if (h < 0) {
        snprintf(err, errlen, "too many processes");
        return -1;
    }
    pid_t pid = b->ops->spawn(b, host, argv, log_path, err, errlen);
    if (pid < 0)
        return -1;
    backend_proc *p = &b->procs[h];
    memset(p, 0, sizeof *p);
    p->used = 1;
    p->host = host;
    p->pid = pid;
    p->argv = argv_copy(argv);
    p->log_path = log_path ? strdup(log_path) : NULL;
    snprintf(p->name, sizeof p->name, "%s", name);
    return h;
}

void backend_set_restart_arg(backend *b, int h, const char *arg)
{
    free(b->procs[h].restart_arg);
    b->procs[h].restart_arg = arg ? strdup(arg) : NULL;
}

int backend_find(backend *b, const char *name)
{
    for (int i = 0; i < BACKEND_MAX_PROCS; i++)
        if (b->procs[i].used && strcmp(b->procs[i].name, name) == 0)
            return i;
    return -1;
}

int backend_reap(backend *b, int h)
{
    backend_proc *p = &b->procs[h];
    pthread_mutex_lock(&b->mu);
    int gone = 1;
    if (p->used && p->pid) {
        int st = 0;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid || (r < 0 && errno == ECHILD))
            p->exited = 1, p->status = st, p->pid = 0, p->stopped = 0;
        else
            gone = 0;
    }
    pthread_mutex_unlock(&b->mu);
    return gone;
}

int backend_running(backend *b, int h)
{
    return h >= 0 && b->procs[h].used && !backend_reap(b, h);
}

int backend_signal(backend *b, int h, int sig)
{
    backend_proc *p = &b->procs[h];
    pthread_mutex_lock(&b->mu);
    int rc = backend_signal_locked(b, p, sig);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

static int backend_signal_locked(backend *b, backend_proc *p, int sig)
{
    (void)b;
    if (!p->used || !p->pid)
        return -1;
    if (kill(p->pid, sig) < 0)
        return -1;
    if (sig == SIGSTOP)
        p->stopped = 1;
    else if (sig == SIGCONT)
        p->stopped = 0;
    else if (sig == SIGKILL) {
        /* A SIGKILLed process is gone for good; reap it now so a restart
         * never races with its old ports. */
        int st;
        if (waitpid(p->pid, &st, 0) == p->pid)
            p->exited = 1, p->status = st, p->pid = 0, p->stopped = 0;
    }
    return 0;
}

static int restart_here(backend *b, int h, char *err, size_t errlen);

int backend_restart(backend *b, int h, char *err, size_t errlen)
{
    if (pthread_equal(pthread_self(), b->owner))
        return restart_here(b, h, err, errlen);
    /* Hand it to the owner thread and wait (one request at a time). */
    pthread_mutex_lock(&b->mu);
    while (b->req_handle >= 0)
        pthread_cond_wait(&b->cv, &b->mu);
    b->req_handle = h;
    b->req_done = 0;
    pthread_cond_broadcast(&b->cv);
    while (!b->req_done)
        pthread_cond_wait(&b->cv, &b->mu);
    int rc = b->req_rc;
    snprintf(err, errlen, "%s", b->req_err);
    b->req_handle = -1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

void backend_service(backend *b, uint64_t timeout_ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + timeout_ns;
    ts.tv_sec += (time_t)(ns / 1000000000ull);
    ts.tv_nsec = (long)(ns % 1000000000ull);
    pthread_mutex_lock(&b->mu);
    while (!(b->req_handle >= 0 && !b->req_done)) {
        if (pthread_cond_timedwait(&b->cv, &b->mu, &ts) != 0)
            break;
    }
    if (b->req_handle >= 0 && !b->req_done) {
        int h = b->req_handle;
        pthread_mutex_unlock(&b->mu);
        char err[256] = "";
        int rc = restart_here(b, h, err, sizeof err);
        pthread_mutex_lock(&b->mu);
        b->req_rc = rc;
        snprintf(b->req_err, sizeof b->req_err, "%s", err);
        b->req_done = 1;
        pthread_cond_broadcast(&b->cv);
    }
    pthread_mutex_unlock(&b->mu);
}

static int restart_here(backend *b, int h, char *err, size_t errlen)
{
    backend_proc *p = &b->procs[h];
    if (!p->used) {
        snprintf(err, errlen, "no such process");
        return -1;
    }
    backend_stop(b, h, 0);
    if (p->restart_arg) {
        /* Add it once: later restarts reuse the extended argv. */
        int n = 0, has = 0;
        while (p->argv[n])
            has |= !strcmp(p->argv[n++], p->restart_arg);
        if (!has) {
            p->argv = realloc(p->argv, sizeof *p->argv * ((size_t)n + 2));
            if (!p->argv)
                abort();
            p->argv[n] = strdup(p->restart_arg);
            p->argv[n + 1] = NULL;
        }
    }
    pthread_mutex_lock(&b->mu);
    pid_t pid = b->ops->spawn(b, p->host, p->argv, p->log_path, err, errlen);
    if (pid >= 0)
        p->pid = pid, p->exited = 0, p->stopped = 0;
    pthread_mutex_unlock(&b->mu);
    return pid < 0 ? -1 : 0;
}

void backend_stop(backend *b, int h, uint64_t grace_ns)
{
    backend_proc *p = &b->procs[h];
    if (!p->used || !p->pid)
        return;
    if (p->stopped)
        kill(p->pid, SIGCONT);
    p->stopped = 0;
    if (grace_ns) {
        kill(p->pid, SIGTERM);
        uint64_t end = mono_now_ns() + grace_ns;
        while (mono_now_ns() < end) {
            if (backend_reap(b, h))
                return;
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
    }
    backend_signal(b, h, SIGKILL);
}

void backend_stop_all(backend *b, uint64_t grace_ns)
{
    /* SIGTERM everyone first so they shut down in parallel. */
    for (int i = 0; i < BACKEND_MAX_PROCS; i++) {
        backend_proc *p = &b->procs[i];
        if (p->used && p->pid) {
            if (p->stopped)
                kill(p->pid, SIGCONT);
            p->stopped = 0;
            if (grace_ns)
                kill(p->pid, SIGTERM);
        }
    }
    uint64_t end = mono_now_ns() + grace_ns;
    for (int i = 0; i < BACKEND_MAX_PROCS; i++) {
        backend_proc *p = &b->procs[i];
        if (!p->used)
            continue;
        while (p->pid && mono_now_ns() < end && !backend_reap(b, i)) {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
        if (p->pid)
            backend_signal(b, i, SIGKILL);
        argv_free(p->argv);
        free(p->log_path);
        free(p->restart_arg);
        memset(p, 0, sizeof *p);
    }
}

int backend_read_file(backend *b, int host, const char *path, buf *out)
{
    (void)b, (void)host;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    for (;;) {
        char *w = buf_reserve(out, 65536);
        ssize_t r = read(fd, w, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            close(fd);
            return r < 0 ? -1 : 0;
        }
        buf_commit(out, (size_t)r);
    }
}

pid_t backend_fork_exec(char *const argv[], const char *log_path, int netns_fd, char *err,
                        size_t errlen)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* Never outlive riftlab, even if it is SIGKILLed. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0) {
            fprintf(stderr, "riftlab: setns: %s\n", strerror(errno));
            _exit(126);
        }
        backend_child_exec(argv, log_path);
    }
    return pid;
}

/* Common child-side setup for spawn implementations: own process group (a
 * Ctrl-C reaches only riftlab, which then tears down in order), die with
 * the parent, output to the log file. Never returns on success. */
void backend_child_exec(char *const argv[], const char *log_path)
{
    /* Until exec the child runs riftlab's signal handlers; a SIGTERM meant
     * for it must not look like a Ctrl-C of riftlab. */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);
    if (log_path) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
    }
    int nul = open("/dev/null", O_RDONLY);
    if (nul >= 0)
        dup2(nul, 0);
    execv(argv[0], argv);
    fprintf(stderr, "riftlab: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}
