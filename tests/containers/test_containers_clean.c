/* test_containers_clean.c (root): nothing of riftlab's survives its end.
 *
 * - A process holding a 5-host net (with nft rules, a supervised process,
 *   a cgroup and a process that escaped supervision) is SIGKILLed;
 *   `riftlab clean` then removes all of it: `ip netns list`, `ip link`,
 *   `nft list tables` (also inside every remaining namespace) hold nothing
 *   of its prefix, and its processes, cgroup and record are gone.
 * - clean never touches a live run's net, nor a `net up` net without --all;
 *   `net down` removes the latter.
 * - SIGTERM or SIGINT through cleanup_install removes the net with no clean.
 * - The CLI's usage errors and its not-root message. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containers/cleanup.h"
#include "containers/hosts.h"
#include "containers/partition.h"
#include "containers/procstat.h"
#include "containers/registry.h"
#include "containers/supervisor.h"
#include "containers/sweep.h"
#include "ctest_util.h"

static char rlnet[512], echo_path[512];
static char out[1 << 16];
static pid_t child_pid;

static int teardown(void **state)
{
    sweep_report rep = {0};
    char err[256], name[16];
    (void)state;
    if (child_pid > 0) {
        kill(child_pid, SIGKILL);
        waitpid(child_pid, NULL, 0);
        child_pid = 0;
    }
    cleanup_all();
    /* Whatever a failed test left, by name. */
    for (const char *tag = "kltimc"; *tag; tag++) {
        ctu_net_name(name, sizeof name, *tag);
        sweep_net(name, NULL, &rep, NULL, err, sizeof err);
    }
    return 0;
}

static int run(char *const *argv)
{
    return ctu_run(argv, out, sizeof out);
}

/* Asserts that nothing named `name` is left: no namespace, no root link, no
 * nft table in the root namespace or in any remaining namespace. */
static void assert_nothing_left(const char *name)
{
    char *netns[] = {"/usr/sbin/ip", "netns", "list", NULL};
    char *links[] = {"/usr/sbin/ip", "-o", "link", NULL};
    char *tables[] = {"/usr/sbin/nft", "list", "tables", NULL};
    static char list[1 << 16];
    assert_int_equal(run(netns), 0);
    if (strstr(out, name))
        fail_msg("ip netns list still shows %s:\n%s", name, out);
    snprintf(list, sizeof list, "%s", out);
    assert_int_equal(run(links), 0);
    assert_null(strstr(out, name));
    assert_int_equal(run(tables), 0);
    assert_null(strstr(out, name));
    /* Every namespace that remains (other tests' too): no table of ours. */
    for (char *line = strtok(list, "\n"); line; line = strtok(NULL, "\n")) {
        char ns[128];
        if (sscanf(line, "%127s", ns) != 1)
            continue;
        char *inside[] = {"/usr/sbin/ip", "netns", "exec", ns, "/usr/sbin/nft", "list", "tables", NULL};
        run(inside);                             /* may vanish meanwhile: only the content matters */
        if (strstr(out, name))
            fail_msg("namespace %s still has a table of %s", ns, name);
    }
}

/* Waits up to 2 s for a process to be gone (reaped or zombie). */
static int gone(pid_t pid, unsigned long long start)
{
    for (int i = 0; i < 200; i++) {
        if (!procstat_alive(pid, start))
            return 1;
        usleep(10000);
    }
    return 0;
}

/* The victim: builds a full 5-host net and every kind of resource, reports
 * its pids, then waits to be killed. Never returns. */
static void victim(const char *name, int report)
{
    hosts_net net;
    static sup_proc p;
    char err[256];
    pid_t pids[2] = {0, 0};
    if (hosts_up(&net, name, 5, 0, err, sizeof err) != 0)
        _exit(2);
    partition *part = partition_new(&net);
    if (part == NULL || partition_cut(part, 1, 2, err, sizeof err) != 0 ||
        partition_loss(part, 3, 4, 0.5, err, sizeof err) != 0)
        _exit(3);
    char *argv[] = {echo_path, "ignore-term", "30000", NULL};
    sup_spec spec = {.path = echo_path, .argv = argv, .netns_fd = net.nsfd[1], .hostname = "n1",
                     .run = net.name, .name = "n1"};
    if (sup_start(&p, &spec, err, sizeof err) != 0)
        _exit(4);
    if (cgroup_detect() != CGROUP_NONE && sup_slow(&p, 0.5, SUP_SLOW_CGROUP, err, sizeof err) != 0)
        _exit(5);
    pids[0] = p.pid;
    /* A process that escaped supervision: own session, no death signal,
     * living in n3. Only clean's namespace scan can find it. */
    pid_t esc = fork();
    if (esc == 0) {
        setsid();
        if (setns(net.nsfd[3], CLONE_NEWNET) != 0)
            _exit(1);
        execve(echo_path, argv, (char *[]){NULL});
        _exit(1);
    }
    pids[1] = esc;
    if (write(report, pids, sizeof pids) != (ssize_t)sizeof pids)
        _exit(6);
    for (;;)
        pause();
}

static void test_sigkill_then_clean(void **state)
{
    char name[16], ns[32], cg[256], record[128];
    int fds[2];
    pid_t pids[2];
    unsigned long long start[2];
    char st;
    (void)state;
    ctu_net_name(name, sizeof name, 'k');
    assert_int_equal(pipe(fds), 0);
    child_pid = fork();
    if (child_pid == 0) {
        close(fds[0]);
        victim(name, fds[1]);
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], pids, sizeof pids), (ssize_t)sizeof pids);
    close(fds[0]);
    assert_int_equal(procstat_read(pids[0], &st, &start[0]), 0);
    assert_int_equal(procstat_read(pids[1], &st, &start[1]), 0);

    kill(child_pid, SIGKILL);
    assert_int_equal(waitpid(child_pid, NULL, 0), child_pid);
    child_pid = 0;

    /* The leftovers are really there before clean (else the test proves nothing). */
    char *netns[] = {"/usr/sbin/ip", "netns", "list", NULL};
    assert_int_equal(run(netns), 0);
    snprintf(ns, sizeof ns, "%s-n5", name);
    assert_non_null(strstr(out, ns));
    char *inside[] = {"/usr/sbin/ip", "netns", "exec", ns, "/usr/sbin/nft", "list", "tables", NULL};
    snprintf(ns, sizeof ns, "%s-n2", name);
    assert_int_equal(run(inside), 0);
    assert_non_null(strstr(out, name));
    assert_true(procstat_alive(pids[1], start[1]));       /* the escaped process lives on */

    char *clean[] = {rlnet, "clean", NULL};
    assert_int_equal(run(clean), 0);
    char swept[64];
    snprintf(swept, sizeof swept, "swept net %s", name);
    if (strstr(out, swept) == NULL)
        fail_msg("clean did not sweep %s:\n%s", name, out);

    assert_nothing_left(name);
    assert_true(gone(pids[0], start[0]));
    assert_true(gone(pids[1], start[1]));
    snprintf(cg, sizeof cg, "%s/%s-n1", cgroup_parent(cgroup_detect()), name);
    assert_int_equal(access(cg, F_OK), -1);
    snprintf(record, sizeof record, REGISTRY_DIR "/%s.run", name);
    assert_int_equal(access(record, F_OK), -1);
    /* A second clean finds nothing more of it. */
    assert_int_equal(run(clean), 0);
    assert_null(strstr(out, name));
}

static void test_clean_spares_live_and_manual_nets(void **state)
{
    hosts_net live;
    char a[16], b[16], err[256], hub[64];
    (void)state;
    ctu_net_name(a, sizeof a, 'l');
    ctu_net_name(b, sizeof b, 'm');
    assert_int_equal(hosts_up(&live, a, 2, 0, err, sizeof err), 0);
    char *up[] = {rlnet, "net", "up", "2", "--name", b, NULL};
    assert_int_equal(run(up), 0);
    snprintf(hub, sizeof hub, "ip netns exec %s-n1", b);
    assert_non_null(strstr(out, hub));           /* it tells how to use it */

    /* Another process can attach to a `net up` net and use its hosts. */
    hosts_net attached;
    assert_int_equal(hosts_attach(&attached, b, err, sizeof err), 0);
    assert_int_equal(attached.nodes, 2);
    int fd = hosts_socket(&attached, 2, AF_INET, SOCK_DGRAM, 0);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(hosts_socket(&attached, 3, AF_INET, SOCK_DGRAM, 0), -1);
    hosts_close(&attached);
    assert_int_equal(hosts_attach(&attached, "rlnosuchnet", err, sizeof err), -1);
    assert_non_null(strstr(err, "no net named"));

    char *clean[] = {rlnet, "clean", NULL};
    char *ls[] = {rlnet, "net", "ls", NULL};
    char *netns[] = {"/usr/sbin/ip", "netns", "list", NULL};
    assert_int_equal(run(clean), 0);
    assert_int_equal(run(netns), 0);
    snprintf(hub, sizeof hub, "%s-hub", a);
    assert_non_null(strstr(out, hub));
    snprintf(hub, sizeof hub, "%s-hub", b);
    assert_non_null(strstr(out, hub));
    assert_int_equal(run(ls), 0);
    assert_non_null(strstr(out, a));
    assert_non_null(strstr(out, b));
    assert_non_null(strstr(out, "running"));

    /* Another riftlab's live net is refused without --force. */
    char *down_live[] = {rlnet, "net", "down", a, NULL};
    assert_int_equal(run(down_live), 254);
    assert_non_null(strstr(out, "--force"));

    /* (`clean --all` would also remove nets others made by hand on this
     * machine, so the test removes its manual net by name.) */
    char *down_manual[] = {rlnet, "net", "down", b, NULL};
    assert_int_equal(run(down_manual), 0);
    assert_nothing_left(b);
    assert_int_equal(run(netns), 0);
    snprintf(hub, sizeof hub, "%s-hub", a);
    assert_non_null(strstr(out, hub));

    assert_int_equal(hosts_down(&live, err, sizeof err), 0);
    assert_nothing_left(a);
}

/* A run that installed cleanup_install gets `sig`: it dies of that signal
 * and leaves nothing, without any clean. */
static void signal_cleans_up(int sig, char tag)
{
    char name[16];
    int fds[2];
    pid_t pid;
    unsigned long long start;
    char st;
    ctu_net_name(name, sizeof name, tag);
    assert_int_equal(pipe(fds), 0);
    child_pid = fork();
    if (child_pid == 0) {
        hosts_net net;
        static sup_proc p;
        char err[256];
        close(fds[0]);
        cleanup_install();
        if (hosts_up(&net, name, 2, 0, err, sizeof err) != 0)
            _exit(2);
        char *argv[] = {echo_path, "ignore-term", "30000", NULL};
        sup_spec spec = {.path = echo_path, .argv = argv, .netns_fd = net.nsfd[2], .run = net.name, .name = "n2"};
        if (sup_start(&p, &spec, err, sizeof err) != 0)
            _exit(3);
        if (write(fds[1], &p.pid, sizeof p.pid) != (ssize_t)sizeof p.pid)
            _exit(4);
        for (;;)
            pause();
    }
    close(fds[1]);
    assert_int_equal(read(fds[0], &pid, sizeof pid), (ssize_t)sizeof pid);
    close(fds[0]);
    assert_int_equal(procstat_read(pid, &st, &start), 0);
    int status;
    kill(child_pid, sig);
    assert_int_equal(waitpid(child_pid, &status, 0), child_pid);
    child_pid = 0;
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == sig);   /* it died of the signal */
    assert_nothing_left(name);
    assert_true(gone(pid, start));
    char record[128];
    snprintf(record, sizeof record, REGISTRY_DIR "/%s.run", name);
    assert_int_equal(access(record, F_OK), -1);
}

static void test_sigterm_cleans_up_without_clean(void **state)
{
    (void)state;
    signal_cleans_up(SIGTERM, 't');
}

static void test_sigint_cleans_up_without_clean(void **state)
{
    (void)state;
    signal_cleans_up(SIGINT, 'i');
}

static void test_record_stays_readable_over_many_restarts(void **state)
{
    registry_rec rec;
    char name[NAMING_NET_MAX + 1], path[128];
    struct stat st;
    (void)state;
    ctu_net_name(name, sizeof name, 'c');
    memset(&rec, 0, sizeof rec);
    snprintf(rec.net, sizeof rec.net, "%s", name);
    registry_self(&rec.owner);
    int lock = registry_lock();
    assert_true(lock >= 0);
    assert_int_equal(registry_write(&rec), 0);
    registry_unlock(lock);
    /* 3000 restarts' worth of proc lines. */
    for (int i = 0; i < 3000; i++)
        assert_int_equal(registry_add_proc(name, getpid()), 0);
    snprintf(path, sizeof path, REGISTRY_DIR "/%s.run", name);
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_size <= REGISTRY_COMPACT_BYTES + 64);
    assert_int_equal(registry_read(name, &rec), 0);
    assert_int_equal(registry_owner_state(&rec), 1);      /* still a live run */
    assert_int_equal(rec.nprocs, REGISTRY_MAX_PROCS);
    lock = registry_lock();
    registry_remove(name);
    registry_unlock(lock);
}

static void test_cli_errors(void **state)
{
    (void)state;
    char *none[] = {rlnet, "net", NULL};
    char *up0[] = {rlnet, "net", "up", NULL};
    char *upz[] = {rlnet, "net", "up", "0", NULL};
    char *upbig[] = {rlnet, "net", "up", "65", NULL};
    char *upname[] = {rlnet, "net", "up", "2", "--name", "Bad-Name", NULL};
    char *bogus[] = {rlnet, "net", "bogus", NULL};
    char *downx[] = {rlnet, "net", "down", NULL};
    char *cleanx[] = {rlnet, "clean", "--bogus", NULL};
    char *help[] = {rlnet, "net", "up", "--help", NULL};
    char *chelp[] = {rlnet, "clean", "--help", NULL};
    assert_int_equal(run(none), 254);
    assert_int_equal(run(up0), 254);
    assert_non_null(strstr(out, "how many"));
    assert_int_equal(run(upz), 254);
    assert_int_equal(run(upbig), 254);
    assert_int_equal(run(upname), 254);
    assert_non_null(strstr(out, "bad net name"));
    assert_int_equal(run(bogus), 254);
    assert_int_equal(run(downx), 254);
    assert_int_equal(run(cleanx), 254);
    assert_int_equal(run(help), 0);
    assert_non_null(strstr(out, "usage"));
    assert_int_equal(run(chelp), 0);
    assert_non_null(strstr(out, "usage"));
    /* Not root: says so and points at the loopback backend. */
    char *ls[] = {rlnet, "net", "ls", NULL};
    assert_int_equal(ctu_run_as(ls, 65534, out, sizeof out), 254);
    assert_non_null(strstr(out, "needs root"));
    assert_non_null(strstr(out, "--backend loopback"));
    char *clean[] = {rlnet, "clean", NULL};
    assert_int_equal(ctu_run_as(clean, 65534, out, sizeof out), 254);
}

int main(void)
{
    ctu_require_root();
    cleanup_install();
    ctu_helper("rl-net", rlnet, sizeof rlnet);
    ctu_helper("rl-echo", echo_path, sizeof echo_path);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_sigkill_then_clean, teardown),
        cmocka_unit_test_teardown(test_clean_spares_live_and_manual_nets, teardown),
        cmocka_unit_test_teardown(test_sigterm_cleans_up_without_clean, teardown),
        cmocka_unit_test_teardown(test_sigint_cleans_up_without_clean, teardown),
        cmocka_unit_test_teardown(test_record_stays_readable_over_many_restarts, teardown),
        cmocka_unit_test_teardown(test_cli_errors, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
