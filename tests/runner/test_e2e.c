/* test_e2e.c: riftlab run for real (needs raft-node / chain-node and
 * faultproxy in $RIFTLAB_BIN; skipped, exit 77, when they are missing, or
 * for netns when not root).
 *
 *   test_runner_e2e run BACKEND SCENARIO.yaml [ASSERT ...]
 *                                               the scenario must give its
 *                                               expected verdicts (exit 0), and
 *                                               each ASSERT hold on results.json:
 *                                               PATH=TEXT or PATH>N, PATH dotted
 *                                               keys and array indexes
 *                                               (checks.invariants.guilty.0=n3)
 *   test_runner_e2e repro BACKEND               two runs with one seed repeat
 *                                               the nemesis schedule and the
 *                                               proxy's decisions; another seed not
 *   test_runner_e2e interrupt BACKEND           Ctrl-C mid-run: exit 255, nothing left
 *   test_runner_e2e sweep netns                 a SIGKILLed run's namespaces (with
 *                                               their nft tables) and processes
 *                                               are swept by the next run
 *
 * Each run writes into a fresh directory under /tmp, removed on success. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

static const char *bin;

static int exists(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static void rm_rf(const char *path)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/rm", "rm", "-rf", "--", path, (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
}

/* Start riftlab run; returns its pid. */
static pid_t start_run(const char *scenario, const char *backend, const char *out, const char *seed)
{
    char exe[1024];
    snprintf(exe, sizeof exe, "%s/riftlab", bin);
    pid_t pid = fork();
    if (pid == 0) {
        const char *argv[16];
        int n = 0;
        argv[n++] = exe;
        argv[n++] = "run";
        if (scenario)
            argv[n++] = scenario;
        argv[n++] = "--backend";
        argv[n++] = backend;
        argv[n++] = "--out";
        argv[n++] = out;
        argv[n++] = "--quiet";
        if (seed) {
            argv[n++] = "--seed";
            argv[n++] = seed;
        }
        argv[n] = NULL;
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static int wait_code(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int need(const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", bin, name);
    if (access(p, X_OK) != 0) {
        fprintf(stderr, "skip: %s not built\n", p);
        return 0;
    }
    return 1;
}

static int check_backend(const char *backend)
{
    if (!strcmp(backend, "netns") && geteuid() != 0) {
        fprintf(stderr, "skip: netns needs root\n");
        return 0;
    }
    return need("riftlab") && need("faultproxy");
}

static void make_out(char *out, size_t cap, const char *tag)
{
    snprintf(out, cap, "/tmp/rl-e2e-%s-%d-%ld", tag, (int)getpid(), (long)time(NULL));
    mkdir(out, 0755);
}

/* The value at a dotted path (object keys, array indexes), or NULL. */
static json_t *json_path(json_t *v, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
        v = json_is_array(v) ? json_array_get(v, strtoul(k, NULL, 10)) : json_object_get(v, k);
    return v;
}

/* One PATH=TEXT / PATH>N assertion on results.json; 0 when it holds. */
static int check_assert(json_t *res, const char *a)
{
    char path[256];
    size_t n = strcspn(a, "=>");
    if (!a[n] || n >= sizeof path) {
        fprintf(stderr, "FAIL: bad assertion '%s' (PATH=TEXT or PATH>N)\n", a);
        return 1;
    }
    memcpy(path, a, n);
    path[n] = 0;
    json_t *v = json_path(res, path);
    char got[128] = "(missing)";
    if (json_is_string(v))
        snprintf(got, sizeof got, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(got, sizeof got, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(got, sizeof got, "%s", json_is_true(v) ? "true" : "false");
    int ok = a[n] == '=' ? v && !strcmp(got, a + n + 1)
                         : json_is_integer(v) && json_integer_value(v) > atoll(a + n + 1);
    if (!ok)
        fprintf(stderr, "FAIL: results.json %s: got %s\n", a, got);
    return !ok;
}

static int cmd_run(const char *backend, const char *scenario, int nasserts, char **asserts)
{
    if (!check_backend(backend))
        return 77;
    if (!need("chain-node") || !need("raft-node"))
        return 77;
    char out[512];
    make_out(out, sizeof out, "run");
    int code = wait_code(start_run(scenario, backend, out, NULL));
    char latest[600];
    snprintf(latest, sizeof latest, "%s/latest", out);
    const char *files[] = {"scenario.yaml", "history.jsonl", "results.json", "junit.xml",
                           "report.html", "nemesis-schedule.json", "proxy-stats.json"};
    int missing = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (code != 255 && !exists(latest, files[i])) {
            fprintf(stderr, "FAIL: %s/%s missing\n", latest, files[i]);
            missing = 1;
        }
    if (code != 255 && nasserts) {
        char p[700];
        snprintf(p, sizeof p, "%s/results.json", latest);
        json_t *res = json_load_file(p, 0, NULL);
        for (int i = 0; i < nasserts; i++)
            missing |= check_assert(res, asserts[i]);
        json_decref(res);
    }
    if (code != 0 || missing) {
        fprintf(stderr, "FAIL: riftlab run %s --backend %s exited %d; run kept in %s\n", scenario,
                backend, code, out);
        return 1;
    }
    rm_rf(out);
    return 0;
}

/* Decisions per (from, to, n) of the first 200 datagrams of each link. */
static json_t *decisions(const char *dir)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/proxy-decisions.jsonl", dir);
    FILE *f = fopen(p, "r");
    json_t *m = json_object();
    if (!f)
        return m;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        json_t *e = json_loads(line, 0, NULL);
        json_t *n = json_object_get(e, "n");
        if (e && n && json_integer_value(n) <= 200) {
            char k[64];
            snprintf(k, sizeof k, "%s>%s#%lld", json_string_value(json_object_get(e, "from")),
                     json_string_value(json_object_get(e, "to")), (long long)json_integer_value(n));
            json_object_del(e, "t");
            json_object_del(e, "type");
            json_object_del(e, "len");
            json_object_set(m, k, e);
        }
        json_decref(e);
    }
    free(line);
    fclose(f);
    return m;
}

static char *slurp(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    if (!f)
        return strdup("");
    static char b[1 << 16];
    size_t n = fread(b, 1, sizeof b - 1, f);
    b[n] = 0;
    fclose(f);
    return strdup(b);
}

static int cmd_repro(const char *backend)
{
    if (!check_backend(backend) || !need("raft-node"))
        return 77;
    char scen[512];
    snprintf(scen, sizeof scen, "/tmp/rl-e2e-repro-%d.yaml", (int)getpid());
    FILE *f = fopen(scen, "w");
    fputs("name: repro\nsystem: {kind: raft, nodes: 3}\n"
          "network: {links: {delay: 1ms, jitter: 1ms, drop: 0.1, duplicate: 0.1, reorder: 0.1}}\n"
          "workload: {clients: 3, keys: 2, rate: 100/s, duration: 4s, timeout: 500ms}\n"
          "nemesis:\n  - every: 700ms\n    from: 500ms\n    until: 3500ms\n    pick: [kill, pause, slow]\n"
          "checks: {linearizable: pass}\n", f);
    fclose(f);
    char out[3][512];
    const char *seeds[3] = {"4242", "4242", "77"};
    json_t *dec[3];
    char *sched[3];
    int bad = 0;
    for (int i = 0; i < 3; i++) {
        make_out(out[i], sizeof out[i], i == 0 ? "repro0" : i == 1 ? "repro1" : "repro2");
        int code = wait_code(start_run(scen, backend, out[i], seeds[i]));
        char latest[600];
        snprintf(latest, sizeof latest, "%s/latest", out[i]);
        if (code != 0) {
            fprintf(stderr, "FAIL: run %d exited %d (%s)\n", i, code, out[i]);
            bad = 1;
        }
        dec[i] = decisions(latest);
        sched[i] = slurp(latest, "nemesis-schedule.json");
    }
    if (strcmp(sched[0], sched[1]) != 0 || !strcmp(sched[0], sched[2]) || !*sched[0]) {
        fprintf(stderr, "FAIL: schedules: same seed equal=%d, other seed equal=%d\n",
                !strcmp(sched[0], sched[1]), !strcmp(sched[0], sched[2]));
        bad = 1;
    }
    /* Every decision both same-seed runs made for the same datagram of the
     * same link must agree; the other seed must disagree somewhere. */
    int common = 0, differ = 0, other_common = 0, other_differ = 0;
    const char *k;
    json_t *v;
    json_object_foreach(dec[0], k, v) {
        json_t *w = json_object_get(dec[1], k), *x = json_object_get(dec[2], k);
        if (w) {
            common++;
            differ += !json_equal(v, w);
        }
        if (x) {
            other_common++;
            other_differ += !json_equal(v, x);
        }
    }
    fprintf(stderr, "decisions compared: %d (differing %d); other seed: %d (differing %d)\n",
            common, differ, other_common, other_differ);
    if (common < 50 || differ || !other_differ)
        bad = 1;
    for (int i = 0; i < 3; i++) {
        json_decref(dec[i]);
        free(sched[i]);
        if (!bad)
            rm_rf(out[i]);
    }
    unlink(scen);
    return bad;
}

/* 1 if any process still has a cmdline mentioning dir. */
static int leftover_procs(const char *dir)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char p[300], b[4096];
        snprintf(p, sizeof p, "/proc/%s/cmdline", e->d_name);
        int fd = open(p, O_RDONLY);
        if (fd < 0)
            continue;
        ssize_t n = read(fd, b, sizeof b - 1);
        close(fd);
        for (ssize_t i = 0; i < n; i++)
            if (!b[i])
                b[i] = ' ';
        if (n > 0) {
            b[n] = 0;
            if (strstr(b, dir))
                found = 1;
        }
    }
    if (d)
        closedir(d);
    return found;
}

static int cmd_interrupt(const char *backend)
{
    if (!check_backend(backend) || !need("raft-node"))
        return 77;
    char out[512];
    make_out(out, sizeof out, "int");
    pid_t pid = start_run(NULL, backend, out, "5");
    sleep(5);
    kill(pid, SIGINT);
    int code = wait_code(pid);
    int bad = 0;
    if (code != 255) {
        fprintf(stderr, "FAIL: interrupted run exited %d, want 255\n", code);
        bad = 1;
    }
    if (leftover_procs(out)) {
        fprintf(stderr, "FAIL: processes of the run are still alive\n");
        bad = 1;
    }
    char ns[64];
    snprintf(ns, sizeof ns, "/run/netns/rl%d-hub", (int)pid);
    if (access(ns, F_OK) == 0) {
        fprintf(stderr, "FAIL: namespace %s left behind\n", ns);
        bad = 1;
    }
    if (!bad)
        rm_rf(out);
    return bad;
}

/* How many entries of /run/netns start with "rl<pid>-" (a run's net). */
static int netns_of(pid_t pid)
{
    char pre[32];
    snprintf(pre, sizeof pre, "rl%d-", (int)pid);
    DIR *d = opendir("/run/netns");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        n += strncmp(e->d_name, pre, strlen(pre)) == 0;
    if (d)
        closedir(d);
    return n;
}

/* wait for pid at most secs; then SIGKILL it. Its exit code, or -1 if killed. */
static int wait_bounded(pid_t pid, int secs)
{
    int st;
    for (int i = 0; i < secs * 10; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        usleep(100000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* riftlab clean: the safety net when the test fails halfway. */
static void clean_up(void)
{
    char exe[1024];
    snprintf(exe, sizeof exe, "%s/riftlab", bin);
    pid_t pid = fork();
    if (pid == 0) {
        execl(exe, exe, "clean", (char *)NULL);
        _exit(127);
    }
    wait_bounded(pid, 60);
}

static int cmd_sweep(const char *backend)
{
    if (strcmp(backend, "netns") != 0)
        return 2;
    if (!check_backend(backend) || !need("raft-node"))
        return 77;
    char outa[512], outb[512], sa[600], sb[600];
    make_out(outa, sizeof outa, "sweep-a");
    make_out(outb, sizeof outb, "sweep-b");
    snprintf(sa, sizeof sa, "%s/a.yaml", outa);
    snprintf(sb, sizeof sb, "%s/b.yaml", outb);
    write_file(sa, "name: sweep-a\nsystem: {kind: raft, nodes: 3}\n"
                   "workload: {duration: 30s, rate: 50/s, clients: 2}\n");
    write_file(sb, "name: sweep-b\nsystem: {kind: raft, nodes: 3}\n"
                   "workload: {duration: 2s, rate: 50/s, clients: 2}\n"
                   "checks: {linearizable: pass}\n");
    int bad = 0;
    pid_t a = start_run(sa, backend, outa, "1");
    /* Until run A is up (its net exists and its history has begun), at most 30s. */
    char hist[700];
    snprintf(hist, sizeof hist, "%s/latest/history.jsonl", outa);
    for (int i = 0; i < 300 && !(netns_of(a) > 0 && access(hist, F_OK) == 0); i++)
        usleep(100000);
    sleep(1);
    kill(a, SIGKILL);
    waitpid(a, NULL, 0);
    /* Its children die with it (PR_SET_PDEATHSIG), within 10s. */
    for (int i = 0; i < 100 && leftover_procs(outa); i++)
        usleep(100000);
    if (leftover_procs(outa)) {
        fprintf(stderr, "FAIL: run A's processes outlived it (no PDEATHSIG?)\n");
        bad = 1;
    }
    int before = netns_of(a);
    if (before == 0) {
        fprintf(stderr, "FAIL: run A (pid %d) left no namespaces: nothing to sweep\n", (int)a);
        bad = 1;
    }
    pid_t b = start_run(sb, backend, outb, "2");
    int code = wait_bounded(b, 120);
    if (code != 0) {
        fprintf(stderr, "FAIL: run B exited %d, want 0\n", code);
        bad = 1;
    }
    if (netns_of(a) != 0) {
        fprintf(stderr, "FAIL: run B did not sweep run A's %d namespaces\n", netns_of(a));
        bad = 1;
    }
    if (netns_of(b) != 0 || leftover_procs(outb) || leftover_procs(outa)) {
        fprintf(stderr, "FAIL: namespaces or processes left after run B\n");
        bad = 1;
    }
    if (bad) {
        clean_up();
        fprintf(stderr, "runs kept in %s and %s\n", outa, outb);
        return 1;
    }
    rm_rf(outa);
    rm_rf(outb);
    return 0;
}

int main(int argc, char **argv)
{
    bin = getenv("RIFTLAB_BIN");
    if (!bin || argc < 3) {
        fprintf(stderr, "usage: test_runner_e2e run|repro|interrupt|sweep BACKEND [SCENARIO [ASSERT...]]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(argv[1], "run") && argc >= 4)
        return cmd_run(argv[2], argv[3], argc - 4, argv + 4);
    if (!strcmp(argv[1], "repro"))
        return cmd_repro(argv[2]);
    if (!strcmp(argv[1], "interrupt"))
        return cmd_interrupt(argv[2]);
    if (!strcmp(argv[1], "sweep"))
        return cmd_sweep(argv[2]);
    return 2;
}
