/* supervisor.c: process lifecycle for nodes and the proxy (see supervisor.h). */
#define _GNU_SOURCE
#include "containers/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "containers/cleanup.h"
#include "containers/registry.h"

/* What a child reports through the exec pipe when it cannot exec. */
struct sup_failure {
    int stage;
    int error;
};

static const char *const sup_stages[] = {
    "setpgid", "prctl(PR_SET_PDEATHSIG)", "parent died", "setns(net)", "unshare(CLONE_NEWUTS)",
    "sethostname", "chdir", "dup2", "execve",
};

static uint64_t sup_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sup_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Copies a NULL-terminated vector's strings into *cursor, the vector
 * itself into *vec (both inside one allocation). */
static size_t sup_vec_size(char *const *v, size_t *count)
{
    size_t bytes = 0, n = 0;
    for (; v && v[n]; n++)
        bytes += strlen(v[n]) + 1;
    *count = n;
    return bytes;
}

static char **sup_vec_copy(char *const *v, size_t n, char ***slots, char **cursor)
{
    char **out = *slots;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]) + 1;
        memcpy(*cursor, v[i], len);
        out[i] = *cursor;
        *cursor += len;
    }
    out[n] = NULL;
    *slots += n + 1;
    return out;
}

static const char *sup_str_copy(const char *s, char **cursor)
{
    if (s == NULL)
        return NULL;
    size_t len = strlen(s) + 1;
    char *out = memcpy(*cursor, s, len);
    *cursor += len;
    return out;
}

/* The spec lives in one allocation: pointer slots first, then strings. */
static int sup_copy_spec(sup_proc *p, const sup_spec *s)
{
    static char *const empty[] = {NULL};
    size_t na, ne, bytes = 0;
    const char *strs[] = {s->path, s->hostname, s->workdir, s->stdout_path, s->stderr_path, s->run, s->name};
    bytes += sup_vec_size(s->argv, &na);
    bytes += sup_vec_size(s->envp ? s->envp : empty, &ne);
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        bytes += strs[i] ? strlen(strs[i]) + 1 : 0;
    size_t slots = (na + 1 + ne + 1) * sizeof(char *);
    p->copy = malloc(slots + bytes);
    if (p->copy == NULL)
        return -1;
    char **slot = (char **)(void *)p->copy;
    char *cursor = p->copy + slots;
    p->spec.argv = sup_vec_copy(s->argv, na, &slot, &cursor);
    p->spec.envp = sup_vec_copy(s->envp ? s->envp : empty, ne, &slot, &cursor);
    p->spec.path = sup_str_copy(s->path, &cursor);
    p->spec.hostname = sup_str_copy(s->hostname, &cursor);
    p->spec.workdir = sup_str_copy(s->workdir, &cursor);
    p->spec.stdout_path = sup_str_copy(s->stdout_path, &cursor);
    p->spec.stderr_path = sup_str_copy(s->stderr_path, &cursor);
    p->spec.run = sup_str_copy(s->run, &cursor);
    p->spec.name = sup_str_copy(s->name, &cursor);
    p->spec.netns_fd = -1;
    return 0;
}

static int sup_open_log(const char *path)
{
    if (path == NULL)
        return open("/dev/null", O_WRONLY | O_CLOEXEC);
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

/* In the child: only async-signal-safe calls (the parent may have threads). */
static void sup_child(const sup_proc *p, pid_t parent, int report, int in, int out, int err)
{
    struct sup_failure f = {0, 0};
    sigset_t all;
    if (setpgid(0, 0) != 0)
        goto fail;
    f.stage = 1;
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        goto fail;
    f.stage = 2;
    /* The parent may have died before prctl: then nobody would kill us. */
    if (getppid() != parent) {
        errno = ESRCH;
        goto fail;
    }
    f.stage = 3;
    if (p->netns_fd >= 0 && setns(p->netns_fd, CLONE_NEWNET) != 0)
        goto fail;
    if (p->spec.hostname) {
        f.stage = 4;
        if (unshare(CLONE_NEWUTS) != 0)
            goto fail;
        f.stage = 5;
        if (sethostname(p->spec.hostname, strlen(p->spec.hostname)) != 0)
            goto fail;
    }
    f.stage = 6;
    if (p->spec.workdir && chdir(p->spec.workdir) != 0)
        goto fail;
    f.stage = 7;
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        goto fail;
    /* Dispositions set to SIG_IGN and the signal mask survive execve: give
     * the program a clean slate. */
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, NULL);
    f.stage = 8;
    execve(p->spec.path, p->spec.argv, p->spec.envp);
fail:
    f.error = errno;
    if (write(report, &f, sizeof f) < 0)
        _exit(126);
    _exit(127);
}

static int sup_spawn(sup_proc *p, char *err, size_t errlen)
{
    int pipefd[2], in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int out = sup_open_log(p->spec.stdout_path), errfd = sup_open_log(p->spec.stderr_path);
    pid_t parent = getpid(), pid = -1;
    struct sup_failure f;
    int rc = -1;

    if (in < 0 || out < 0 || errfd < 0) {
        snprintf(err, errlen, "open logs (%s, %s): %s", p->spec.stdout_path ? p->spec.stdout_path : "-",
                 p->spec.stderr_path ? p->spec.stderr_path : "-", strerror(errno));
        goto out;
    }
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto out;
    }
    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(pipefd[0]);
        close(pipefd[1]);
        goto out;
    }
    if (pid == 0) {
        close(pipefd[0]);
        sup_child(p, parent, pipefd[1], in, out, errfd);
    }
    /* Also from the parent, so the group exists before anyone signals it. */
    setpgid(pid, pid);
    close(pipefd[1]);
    ssize_t n;
    do
        n = read(pipefd[0], &f, sizeof f);
    while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (n == (ssize_t)sizeof f) {
        waitpid(pid, NULL, 0);
        int stage = f.stage >= 0 && f.stage < (int)(sizeof sup_stages / sizeof sup_stages[0]) ? f.stage : 0;
        snprintf(err, errlen, "start %s: %s: %s", p->spec.path, sup_stages[stage], strerror(f.error));
        goto out;
    }
    pthread_mutex_lock(&p->mu);
    p->pid = pid;
    p->exited = 0;
    p->status = 0;
    p->paused = 0;
    pthread_mutex_unlock(&p->mu);
    if (p->spec.run)
        registry_add_proc(p->spec.run, pid);   /* lets `riftlab clean` find it */
    rc = 0;
out:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (errfd >= 0)
        close(errfd);
    return rc;
}

/* Frees what sup_start allocated and zeroes p. */
static void sup_release(sup_proc *p)
{
    if (p->netns_fd >= 0)
        close(p->netns_fd);
    free(p->copy);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    memset(p, 0, sizeof *p);
}

int sup_start(sup_proc *p, const sup_spec *spec, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->netns_fd = -1;
    p->cpu = 1.0;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (spec->path == NULL || spec->argv == NULL || spec->argv[0] == NULL) {
        snprintf(err, errlen, "no program to start");
        goto fail;
    }
    if (sup_copy_spec(p, spec) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (spec->netns_fd >= 0 && (p->netns_fd = fcntl(spec->netns_fd, F_DUPFD_CLOEXEC, 3)) < 0) {
        snprintf(err, errlen, "dup namespace fd: %s", strerror(errno));
        goto fail;
    }
    if (sup_spawn(p, err, errlen) != 0)
        goto fail;
    cleanup_track_proc(p);
    return 0;
fail:
    sup_release(p);
    return -1;
}

static void sup_reaped(sup_proc *p, int status)
{
    pthread_mutex_lock(&p->mu);
    p->exited = 1;
    p->status = status;
    pthread_mutex_unlock(&p->mu);
}

int sup_running(sup_proc *p)
{
    int status;
    if (p->pid <= 0 || p->exited)
        return 0;
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r == p->pid) {
        sup_reaped(p, status);
        return 0;
    }
    return r == 0;
}

int sup_wait(sup_proc *p, int timeout_ms)
{
    uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : sup_now_ms() + (uint64_t)timeout_ms;
    int status, nap = 1;
    if (p->pid <= 0)
        return -1;
    if (p->exited)
        return 0;
    for (;;) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid) {
            sup_reaped(p, status);
            return 0;
        }
        if (r < 0 && errno != EINTR)
            return -1;
        uint64_t now = sup_now_ms();
        if (now >= deadline)
            return 1;
        /* Poll with a growing nap (1..16 ms): cheap, and needs no SIGCHLD
         * handler that could clash with the runner's. */
        int left = deadline - now < (uint64_t)nap ? (int)(deadline - now) : nap;
        sup_sleep_ms(left);
        if (nap < 16)
            nap *= 2;
    }
}

int sup_signal(sup_proc *p, int sig)
{
    if (p->pid <= 0 || p->exited) {
        errno = ESRCH;
        return -1;
    }
    return kill(-p->pid, sig);
}

static void *sup_duty_main(void *arg);

static void sup_duty_stop(sup_proc *p)
{
    pthread_mutex_lock(&p->mu);
    if (!p->duty_running) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    p->duty_stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->duty, NULL);
    p->duty_running = 0;
}

static int sup_duty_start(sup_proc *p)
{
    p->duty_stop = 0;
    if (pthread_create(&p->duty, NULL, sup_duty_main, p) != 0)
        return -1;
    p->duty_running = 1;
    return 0;
}

int sup_kill(sup_proc *p)
{
    sup_duty_stop(p);
    if (p->pid <= 0 || p->exited)
        return 0;
    kill(-p->pid, SIGKILL);
    return sup_wait(p, -1) == 0 ? 0 : -1;
}

int sup_terminate(sup_proc *p, int grace_ms)
{
    sup_duty_stop(p);
    if (p->pid <= 0 || p->exited)
        return 0;
    kill(-p->pid, SIGTERM);
    /* A stopped process would hold SIGTERM pending forever. */
    kill(-p->pid, SIGCONT);
    p->paused = 0;
    int r = sup_wait(p, grace_ms);
    if (r == 0)
        return 0;
    if (r < 0)
        return -1;
    return sup_kill(p) == 0 ? 1 : -1;
}

int sup_pause(sup_proc *p)
{
    pthread_mutex_lock(&p->mu);
    p->paused = 1;
    int rc = sup_signal(p, SIGSTOP);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int sup_resume(sup_proc *p)
{
    pthread_mutex_lock(&p->mu);
    p->paused = 0;
    int rc = sup_signal(p, SIGCONT);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

/* Waits on the cv until `ms` from now or a stop request (mu held). */
static void sup_duty_nap(sup_proc *p, long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_nsec += (ms % 1000) * 1000000L;
    ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    while (!p->duty_stop && pthread_cond_timedwait(&p->cv, &p->mu, &ts) == 0)
        ;
}

/* The duty cycle: run cpu * 100 ms, stop the rest of each 100 ms period.
 * An explicit pause wins: while paused the cycle never sends SIGCONT. */
static void *sup_duty_main(void *arg)
{
    sup_proc *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->duty_stop && !p->exited) {
        long run = (long)(p->cpu * 100.0);
        if (!p->paused)
            kill(-p->pid, SIGCONT);
        sup_duty_nap(p, run < 1 ? 1 : run);
        if (p->duty_stop || p->exited)
            break;
        if (!p->paused)
            kill(-p->pid, SIGSTOP);
        sup_duty_nap(p, 100 - run);
    }
    if (!p->paused && !p->exited)
        kill(-p->pid, SIGCONT);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Puts the process under a cgroup quota of p->cpu: 0, or -1 with a reason. */
static int sup_cgroup_slow(sup_proc *p, char *err, size_t errlen)
{
    char leaf[128];
    if (p->cg_kind == CGROUP_NONE) {
        enum cgroup_kind kind = cgroup_detect();
        if (kind == CGROUP_NONE) {
            snprintf(err, errlen, "no cgroup cpu controller (v1 cpu or v2 cpu.max)");
            return -1;
        }
        snprintf(leaf, sizeof leaf, "%s-%s", p->spec.run ? p->spec.run : "rl",
                 p->spec.name ? p->spec.name : "proc");
        if (cgroup_create(kind, leaf, p->cgroup, sizeof p->cgroup, err, errlen) != 0)
            return -1;
        p->cg_kind = kind;
    }
    if (cgroup_set_quota(p->cg_kind, p->cgroup, p->cpu, err, errlen) != 0 ||
        cgroup_add(p->cgroup, p->pid, err, errlen) != 0)
        return -1;
    return 0;
}

static int sup_apply_slow(sup_proc *p, enum sup_slow_mode mode, char *err, size_t errlen)
{
    if (p->cpu >= 1.0) {
        sup_duty_stop(p);
        if (p->cg_kind != CGROUP_NONE)
            return cgroup_set_quota(p->cg_kind, p->cgroup, 1.0, err, errlen);
        return 0;
    }
    if (mode != SUP_SLOW_DUTY) {
        if (sup_cgroup_slow(p, err, errlen) == 0)
            return 0;
        if (mode == SUP_SLOW_CGROUP)
            return -1;
        /* AUTO: no usable cgroup here, so fall back to the duty cycle
         * (lift a quota that may have been set half-way). */
        if (p->cg_kind != CGROUP_NONE)
            cgroup_set_quota(p->cg_kind, p->cgroup, 1.0, err, errlen);
    }
    if (p->duty_running)
        return 0;                                /* the running cycle reads p->cpu */
    if (sup_duty_start(p) != 0) {
        snprintf(err, errlen, "start duty-cycle thread");
        return -1;
    }
    return 0;
}

int sup_slow(sup_proc *p, double cpu, enum sup_slow_mode mode, char *err, size_t errlen)
{
    if (!(cpu > 0.0)) {
        snprintf(err, errlen, "bad cpu fraction %g (use a value > 0; 1 = full speed)", cpu);
        return -1;
    }
    if (p->pid <= 0 || p->exited) {
        snprintf(err, errlen, "process is not running");
        return -1;
    }
    pthread_mutex_lock(&p->mu);
    p->cpu = cpu > 1.0 ? 1.0 : cpu;
    pthread_mutex_unlock(&p->mu);
    return sup_apply_slow(p, mode, err, errlen);
}

int sup_restart(sup_proc *p, char *err, size_t errlen)
{
    if (p->copy == NULL) {
        snprintf(err, errlen, "process was never started");
        return -1;
    }
    int duty = p->duty_running;
    if (sup_kill(p) != 0) {
        snprintf(err, errlen, "kill before restart: %s", strerror(errno));
        return -1;
    }
    if (sup_spawn(p, err, errlen) != 0)
        return -1;
    if (p->cpu < 1.0)
        return sup_apply_slow(p, duty ? SUP_SLOW_DUTY : SUP_SLOW_AUTO, err, errlen);
    return 0;
}

void sup_free(sup_proc *p)
{
    if (p->copy == NULL)
        return;
    sup_kill(p);
    cleanup_untrack_proc(p);
    if (p->cgroup[0])
        cgroup_remove(p->cgroup);
    sup_release(p);
}
