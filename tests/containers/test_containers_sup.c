/* test_containers_sup.c (root): the supervisor changes process state as
 * asked: pause (T in /proc/<pid>/stat) and resume, SIGKILL, SIGTERM with a
 * grace period, restart with the same argv and directory, controlled
 * environment and logs, start errors, and slow nodes through a cgroup quota
 * and through the SIGSTOP/SIGCONT duty cycle. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "containers/cleanup.h"
#include "containers/hosts.h"
#include "containers/procstat.h"
#include "containers/supervisor.h"
#include "ctest_util.h"

static hosts_net net;
static char echo_path[512];
static char tmpdir[64];

static int setup(void **state)
{
    char name[16], err[256];
    (void)state;
    ctu_net_name(name, sizeof name, 's');
    ctu_helper("rl-echo", echo_path, sizeof echo_path);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rl-sup-test-%d", (int)getpid());
    if (mkdir(tmpdir, 0700) != 0)
        return -1;
    if (hosts_up(&net, name, 2, 0, err, sizeof err) != 0) {
        fprintf(stderr, "hosts_up: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    cleanup_all();
    /* The temporary directory holds only the logs written below. */
    const char *files[] = {"out.log", "err.log", "env.log", "host.log", "pwd.log"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(cmd, sizeof cmd, "%s/%s", tmpdir, files[i]);
        unlink(cmd);
    }
    rmdir(tmpdir);
    return 0;
}

static char proc_state(pid_t pid)
{
    char st = '?';
    unsigned long long start;
    if (procstat_read(pid, &st, &start) != 0)
        return '-';
    return st;
}

/* Waits up to 2 s for the process to reach a state in `states`. */
static int wait_state(pid_t pid, const char *states)
{
    for (int i = 0; i < 400; i++) {
        if (strchr(states, proc_state(pid)))
            return 1;
        usleep(5000);
    }
    return 0;
}

static void start(sup_proc *p, char **argv, int host, const char *out)
{
    char err[256], hostname[16], path[128];
    naming_hostname(host, hostname, sizeof hostname);
    snprintf(path, sizeof path, "%s/%s", tmpdir, out ? out : "out.log");
    sup_spec spec = {.path = argv[0], .argv = argv, .netns_fd = host >= 0 ? net.nsfd[host] : -1,
                     .hostname = host >= 0 ? hostname : NULL, .workdir = tmpdir, .stdout_path = path,
                     .run = net.name, .name = hostname};
    if (sup_start(p, &spec, err, sizeof err) != 0)
        fail_msg("sup_start %s: %s", argv[0], err);
}

/* Sends "x" from the hub to host:port and waits up to ms for an answer. */
static int udp_answer(int host, uint16_t port, int ms, char *buf, size_t cap)
{
    int fd = ctu_udp(&net, 0, 0, ms);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(hosts_addr(&net, host))};
    assert_true(fd >= 0);
    sendto(fd, "x", 1, 0, (struct sockaddr *)&a, sizeof a);
    ssize_t n = recv(fd, buf, cap - 1, 0);
    close(fd);
    if (n < 0)
        return 0;
    buf[n] = '\0';
    return 1;
}

static int udp_answer_retry(int host, uint16_t port, char *buf, size_t cap)
{
    for (int i = 0; i < 50; i++)
        if (udp_answer(host, port, 40, buf, cap))
            return 1;
    return 0;
}

static void test_pause_resume_kill_restart(void **state)
{
    static sup_proc p;
    char buf[64], cmdline[256], path[64], err[256];
    (void)state;
    char *argv[] = {echo_path, "udp", "9500", "20000", NULL};
    start(&p, argv, 1, NULL);
    assert_true(udp_answer_retry(1, 9500, buf, sizeof buf));
    assert_string_equal(buf, "n1 x");
    assert_true(wait_state(p.pid, "SR"));

    assert_int_equal(sup_pause(&p), 0);
    assert_true(wait_state(p.pid, "T"));
    assert_false(udp_answer(1, 9500, 150, buf, sizeof buf));   /* a paused node is silent */
    assert_int_equal(sup_resume(&p), 0);
    assert_true(wait_state(p.pid, "SR"));
    assert_true(udp_answer_retry(1, 9500, buf, sizeof buf));

    pid_t old = p.pid;
    assert_int_equal(sup_kill(&p), 0);
    assert_false(sup_running(&p));
    assert_true(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGKILL);
    assert_int_equal(proc_state(old), '-');
    assert_false(udp_answer(1, 9500, 100, buf, sizeof buf));

    assert_int_equal(sup_restart(&p, err, sizeof err), 0);
    assert_true(p.pid > 0 && p.pid != old);
    assert_true(sup_running(&p));
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)p.pid);
    int fd = open(path, O_RDONLY);
    ssize_t n = read(fd, cmdline, sizeof cmdline);
    close(fd);
    char want[256];
    int wn = snprintf(want, sizeof want, "%s%cudp%c9500%c20000%c", echo_path, 0, 0, 0, 0);
    assert_int_equal(n, wn);
    assert_memory_equal(cmdline, want, (size_t)wn);
    assert_true(udp_answer_retry(1, 9500, buf, sizeof buf));
    assert_string_equal(buf, "n1 x");

    /* Restart of a paused process works too (SIGKILL reaches stopped processes). */
    assert_int_equal(sup_pause(&p), 0);
    assert_int_equal(sup_restart(&p, err, sizeof err), 0);
    assert_true(wait_state(p.pid, "SR"));
    sup_free(&p);
    assert_false(sup_running(&p));
}

static void test_terminate_grace(void **state)
{
    static sup_proc polite, stubborn;
    (void)state;
    char *a1[] = {echo_path, "udp", "9501", "20000", NULL};
    char *a2[] = {echo_path, "ignore-term", "20000", NULL};
    start(&polite, a1, 2, NULL);
    start(&stubborn, a2, 2, NULL);
    usleep(100000);                              /* let ignore-term install SIG_IGN */
    assert_int_equal(sup_terminate(&polite, 2000), 0);
    assert_true(WIFSIGNALED(polite.status) && WTERMSIG(polite.status) == SIGTERM);
    assert_int_equal(sup_terminate(&stubborn, 200), 1);
    assert_true(WIFSIGNALED(stubborn.status) && WTERMSIG(stubborn.status) == SIGKILL);
    /* A paused process still gets its grace period (SIGCONT follows SIGTERM). */
    sup_free(&polite);
    start(&polite, a1, 2, NULL);
    assert_int_equal(sup_pause(&polite), 0);
    assert_int_equal(sup_terminate(&polite, 2000), 0);
    sup_free(&polite);
    sup_free(&stubborn);
}

static void read_path(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
}

static void read_file(const char *name, char *buf, size_t cap)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    read_path(path, buf, cap);
}

static void test_environment_logs_and_hostname(void **state)
{
    static sup_proc p;
    char buf[512];
    (void)state;
    /* Only the given environment reaches the program; no namespace (loopback). */
    char *argv[] = {"/usr/bin/env", NULL};
    char *envp[] = {"RIFT_X=1", "RIFT_Y=two", NULL};
    char err[256];
    char path[128];
    snprintf(path, sizeof path, "%s/env.log", tmpdir);
    sup_spec spec = {.path = argv[0], .argv = argv, .envp = envp, .netns_fd = -1, .stdout_path = path};
    assert_int_equal(sup_start(&p, &spec, err, sizeof err), 0);
    assert_int_equal(sup_wait(&p, 5000), 0);
    assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0);
    read_file("env.log", buf, sizeof buf);
    assert_string_equal(buf, "RIFT_X=1\nRIFT_Y=two\n");
    sup_free(&p);

    /* The host's name, from its own UTS namespace. */
    char *host[] = {"/bin/hostname", NULL};
    start(&p, host, 2, "host.log");
    assert_int_equal(sup_wait(&p, 5000), 0);
    read_file("host.log", buf, sizeof buf);
    assert_string_equal(buf, "n2\n");
    sup_free(&p);

    /* Restart keeps the working directory and appends to the same log. */
    char *pwd[] = {"/bin/pwd", NULL};
    start(&p, pwd, 1, "pwd.log");
    assert_int_equal(sup_wait(&p, 5000), 0);
    assert_int_equal(sup_restart(&p, err, sizeof err), 0);
    assert_int_equal(sup_wait(&p, 5000), 0);
    read_file("pwd.log", buf, sizeof buf);
    char want[200];
    snprintf(want, sizeof want, "%s\n%s\n", tmpdir, tmpdir);
    assert_string_equal(buf, want);
    /* Waiting on a finished process returns at once; a timeout says 1. */
    assert_int_equal(sup_wait(&p, 0), 0);
    sup_free(&p);
    char *slow[] = {echo_path, "ignore-term", "20000", NULL};
    start(&p, slow, 1, NULL);
    assert_int_equal(sup_wait(&p, 50), 1);
    sup_free(&p);
}

static void test_start_errors(void **state)
{
    sup_proc p;
    char err[256];
    (void)state;
    char *argv[] = {"/nonexistent/riftlab-binary", NULL};
    sup_spec spec = {.path = argv[0], .argv = argv, .netns_fd = -1};
    assert_int_equal(sup_start(&p, &spec, err, sizeof err), -1);
    assert_non_null(strstr(err, "execve"));
    assert_non_null(strstr(err, "No such file"));
    char *ok[] = {"/bin/true", NULL};
    sup_spec bad_dir = {.path = ok[0], .argv = ok, .netns_fd = -1, .workdir = "/nonexistent/dir"};
    assert_int_equal(sup_start(&p, &bad_dir, err, sizeof err), -1);
    assert_non_null(strstr(err, "chdir"));
    sup_spec none = {.path = NULL, .argv = ok, .netns_fd = -1};
    assert_int_equal(sup_start(&p, &none, err, sizeof err), -1);
}

/* CPU seconds (user + system) used by pid so far. */
static double cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    /* Fields after ')': state(3) ... utime(14) stime(15). */
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* CPU used by pid during `ms` of wall time. */
static double cpu_over(pid_t pid, int ms)
{
    double before = cpu_seconds(pid);
    usleep((useconds_t)ms * 1000);
    return cpu_seconds(pid) - before;
}

static void test_slow_with_cgroup(void **state)
{
    static sup_proc p;
    char err[256], buf[64], file[512];
    (void)state;
    if (cgroup_detect() == CGROUP_NONE)
        skip();
    char *argv[] = {echo_path, "spin", "20000", NULL};
    start(&p, argv, 1, NULL);
    assert_int_equal(sup_slow(&p, 0.2, SUP_SLOW_CGROUP, err, sizeof err), 0);
    assert_int_not_equal(p.cg_kind, CGROUP_NONE);
    assert_false(p.duty_running);
    /* The quota is in the kernel and the process is in the cgroup. */
    snprintf(file, sizeof file, "%s/%s", p.cgroup, p.cg_kind == CGROUP_V1 ? "cpu.cfs_quota_us" : "cpu.max");
    read_path(file, buf, sizeof buf);
    assert_int_equal(atoi(buf), 20000);
    char procs[4096], want[32];
    snprintf(file, sizeof file, "%s/cgroup.procs", p.cgroup);
    read_path(file, procs, sizeof procs);
    snprintf(want, sizeof want, "%d\n", (int)p.pid);
    assert_non_null(strstr(procs, want));
    /* Behaviour: a 20% quota never lets it use half a CPU (an upper bound
     * only, which holds however loaded the machine is). */
    assert_true(cpu_over(p.pid, 1000) < 0.5);
    /* A restart lands in the same cgroup. */
    assert_int_equal(sup_restart(&p, err, sizeof err), 0);
    read_path(file, procs, sizeof procs);
    snprintf(want, sizeof want, "%d\n", (int)p.pid);
    assert_non_null(strstr(procs, want));
    /* Full speed again, then freeing removes the cgroup. */
    assert_int_equal(sup_slow(&p, 1.0, SUP_SLOW_AUTO, err, sizeof err), 0);
    char dir[256];
    snprintf(dir, sizeof dir, "%s", p.cgroup);
    sup_free(&p);
    assert_int_equal(access(dir, F_OK), -1);
}

static void test_slow_with_duty_cycle(void **state)
{
    static sup_proc p;
    char err[256];
    (void)state;
    char *argv[] = {echo_path, "spin", "20000", NULL};
    start(&p, argv, 2, NULL);
    assert_int_equal(sup_slow(&p, 0.3, SUP_SLOW_DUTY, err, sizeof err), 0);
    assert_true(p.duty_running);
    assert_int_equal(p.cg_kind, CGROUP_NONE);
    assert_true(wait_state(p.pid, "T"));         /* it is stopped part of the time */
    assert_true(cpu_over(p.pid, 1000) < 0.6);
    /* An explicit pause wins over the cycle: it stays stopped. */
    assert_int_equal(sup_pause(&p), 0);
    assert_true(wait_state(p.pid, "T"));        /* SIGSTOP takes effect asynchronously */
    int stopped = 0;
    for (int i = 0; i < 40; i++, usleep(5000))
        stopped += proc_state(p.pid) == 'T';
    assert_int_equal(stopped, 40);
    assert_int_equal(sup_resume(&p), 0);
    /* Full speed: the cycle ends and the process runs freely. */
    assert_int_equal(sup_slow(&p, 1.0, SUP_SLOW_AUTO, err, sizeof err), 0);
    assert_false(p.duty_running);
    usleep(20000);
    for (int i = 0; i < 40; i++, usleep(5000))
        assert_int_not_equal(proc_state(p.pid), 'T');
    assert_int_equal(sup_slow(&p, 0.0, SUP_SLOW_AUTO, err, sizeof err), -1);
    sup_free(&p);
}

int main(void)
{
    ctu_require_root();
    cleanup_install();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pause_resume_kill_restart),
        cmocka_unit_test(test_terminate_grace),
        cmocka_unit_test(test_environment_logs_and_hostname),
        cmocka_unit_test(test_start_errors),
        cmocka_unit_test(test_slow_with_cgroup),
        cmocka_unit_test(test_slow_with_duty_cycle),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
