/* run.c: one scenario from start to verdict. The order matters and every
 * exit path goes through the same teardown:
 *
 *   seed, run directory, scenario.yaml, nemesis-schedule.json
 *   -> hosts, key, proxy, nodes -> ready (leader elected)
 *   -> clients + nemesis for `duration`
 *   -> end phase: heal everything, quiesce, final reads, graceful stop, teardown
 *   -> checks -> results.json, junit.xml, report.html -> exit code
 *
 * Ctrl-C (SIGINT/SIGTERM) sets a flag: the workload and the nemesis stop,
 * and the end phase still runs (a second Ctrl-C skips the final reads but
 * never the teardown). */
#define _GNU_SOURCE
#include "run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "common/clock.h"
#include "nemesis.h"
#include "report.h"
#include "results.h"
#include "workload.h"

#define NS_MS 1000000ull

volatile sig_atomic_t run_interrupted;

static void on_signal(int sig)
{
    (void)sig;
    run_interrupted++;
    if (run_interrupted == 1) {
        static const char msg[] = "\nriftlab: interrupted; stopping and cleaning up "
                                  "(Ctrl-C again skips the final reads, never the cleanup)\n";
        ssize_t w = write(2, msg, sizeof msg - 1);
        (void)w;
    }
}

static void note_start(run *r, run_node *n)
{
    if (n->nstarts < 16)
        n->starts[n->nstarts++] = r->hrec_open ? hrec_now(&r->h) : 0;
}

void run_note_start(run *r, int i) { note_start(r, &r->nodes[i]); }

static int mkdir_p(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* runs/<name>/<UTC timestamp>/ plus the runs/latest symlink. */
static int make_run_dir(run *r, char *err, size_t errlen)
{
    const char *out = r->opts.out_dir ? r->opts.out_dir : "runs";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[40];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    for (int k = 0; k < 100; k++) {
        char suffix[8] = "";
        if (k)
            snprintf(suffix, sizeof suffix, "-%d", k);
        snprintf(r->dir, sizeof r->dir, "%s/%s/%s%s", out, r->s->name, stamp, suffix);
        if (access(r->dir, F_OK) != 0)
            break;
    }
    if (mkdir_p(r->dir) < 0) {
        snprintf(err, errlen, "cannot create %.900s: %s", r->dir, strerror(errno));
        return -1;
    }
    char link[1100], target[1100];
    snprintf(link, sizeof link, "%s/latest", out);
    snprintf(target, sizeof target, "%s", r->dir + strlen(out) + 1);
    unlink(link);
    if (symlink(target, link) < 0)
        fprintf(stderr, "riftlab: cannot update %s: %s\n", link, strerror(errno));
    return 0;
}

static void write_aux_files(run *r)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/scenario.yaml", r->dir);
    FILE *f = fopen(path, "w");
    if (f) {
        scenario_write_yaml(r->s, f);
        fclose(f);
    }
    nem_step *steps = malloc(sizeof *steps * NEM_MAX_STEPS);
    if (!steps)
        abort();
    int n = nemesis_plan(r->s, r->seed, steps, NEM_MAX_STEPS);
    snprintf(path, sizeof path, "%s/nemesis-schedule.json", r->dir);
    if ((f = fopen(path, "w"))) {
        nemesis_plan_write(steps, n, f);
        fclose(f);
    }
    free(steps);
}

static void starts_add(json_t *o, int id, const run_node *n)
{
    json_t *a = json_array();
    for (int k = 0; k < n->nstarts; k++)
        json_array_append_new(a, json_integer(n->starts[k]));
    char name[16];
    snprintf(name, sizeof name, "n%d", id);
    json_object_set_new(o, name, a);
}

static void write_starts(run *r)
{
    json_t *o = json_object();
    for (int i = 0; i < r->nnodes; i++)
        starts_add(o, i + 1, &r->nodes[i]);
    for (int k = 0; k < r->nctrl; k++)
        starts_add(o, RUN_CTRL_ID(k), &r->ctrl[k]);
    char path[1200];
    snprintf(path, sizeof path, "%s/nodes/starts.json", r->dir);
    json_dump_file(o, path, 0);
    json_decref(o);
}

/* Lease workload: the counter starts at 0, so fenced writes (CAS) can work. */
static int lease_setup(run *r)
{
    uint64_t end = mono_now_ns() + r->s->system.ready_timeout_ns;
    int node = atomic_load(&r->leader) >= 0 ? atomic_load(&r->leader) : 0;
    while (mono_now_ns() < end && !run_interrupted) {
        resp_value v;
        const char *argv[] = {"SET", "counter", "0"};
        int rc = cluster_node_call(r, node, 1000 * NS_MS, &v, 3, argv);
        if (rc == RCLIENT_OK) {
            int ok = v.type == RESP_SIMPLE;
            resp_value_free(&v);
            if (ok) {
                size_t op = hrec_invoke(&r->h, 99999, "write", "counter", json_integer(0), NULL, 0);
                hrec_complete(&r->h, op, HREC_OK, json_integer(0), NULL, NULL, 0);
                return 0;
            }
        }
        node = (node + 1) % r->nnodes;
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static int choose_backend(run *r, char *err, size_t errlen)
{
    int want = r->opts.backend != SCN_BACKEND_AUTO ? r->opts.backend : (int)r->s->network.backend;
    if (want == SCN_BACKEND_AUTO)
        want = backend_netns_available() ? SCN_BACKEND_NETNS : SCN_BACKEND_LOOPBACK;
    if (want == SCN_BACKEND_NETNS && !backend_netns_available()) {
        snprintf(err, errlen, "the netns backend needs root (and containers/ in the build); "
                              "use --backend loopback");
        return -1;
    }
    backend_init(&r->be, want == SCN_BACKEND_NETNS ? &backend_netns_ops : &backend_loopback_ops,
                 r->prefix);
    r->cut_by_proxy = want == SCN_BACKEND_LOOPBACK || r->s->network.partitions == SCN_PART_PROXY;
    return 0;
}

int run_scenario(scenario *s, const run_opts *opts)
{
    run *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->s = s;
    r->opts = *opts;
    r->proxy_proc = -1;
    atomic_store(&r->leader, -1);
    pthread_mutex_init(&r->ctl_mu, NULL);
    pthread_mutex_init(&r->nem_mu, NULL);
    rclient_init(&r->ctl, NULL, 0, "127.0.0.1", 0);
    for (int i = 0; i < SCN_MAX_NODES; i++)
        r->nodes[i].proc = -1;
    if (opts->has_seed)
        r->seed = opts->seed;
    else if (s->has_seed)
        r->seed = s->seed;
    else if (getrandom(&r->seed, sizeof r->seed, 0) != sizeof r->seed)
        r->seed = mono_now_ns();
    r->seed &= (1ull << 53) - 1;   /* exact in JSON numbers everywhere */
    s->seed = r->seed, s->has_seed = 1;
    snprintf(r->prefix, sizeof r->prefix, "rl%d", (int)(getpid() % 100000000));

    char err[2048];
    int code = RL_EXIT_HARNESS;
    workload *w = NULL;
    nemesis *nem = NULL;
    if (choose_backend(r, err, sizeof err) < 0 || make_run_dir(r, err, sizeof err) < 0) {
        fprintf(stderr, "riftlab: %s\n", err);
        free(r);
        return RL_EXIT_HARNESS;
    }
    write_aux_files(r);
    if (opts->verbosity != RUN_QUIET)
        fprintf(stderr, "riftlab: scenario %s, seed %llu, backend %s, run directory %s\n", s->name,
                (unsigned long long)r->seed, r->be.ops->name, r->dir);
    char path[1200];
    snprintf(path, sizeof path, "%s/history.jsonl", r->dir);
    r->t0 = mono_now_ns();
    if (hrec_open(&r->h, path, r->t0) < 0) {
        fprintf(stderr, "riftlab: cannot write %s\n", path);
        goto teardown;
    }
    r->hrec_open = 1;
    progress_log(r, "bringing up %d %s nodes", s->system.nodes, scn_system_name(s->system.kind));
    if (cluster_up(r, err, sizeof err) < 0) {
        fprintf(stderr, "riftlab: bring-up failed: %s\n", err);
        goto teardown;
    }
    for (int i = 0; i < r->nnodes; i++)
        run_note_start(r, i);
    for (int k = 0; k < r->nctrl; k++)
        note_start(r, &r->ctrl[k]);
    if (cluster_wait_ready(r, err, sizeof err) < 0) {
        fprintf(stderr, "riftlab: %s\n", err);
        goto teardown;
    }
    int l = atomic_load(&r->leader);
    if (l >= 0)
        progress_log(r, "cluster ready, leader n%d", l + 1);
    else
        progress_log(r, "cluster ready");
    if (s->workload.kind == SCN_WL_LEASE && lease_setup(r) < 0) {
        fprintf(stderr, "riftlab: could not initialise the lease counter\n");
        goto teardown;
    }
    /* The workload runs for `duration` from now; nemesis times count from
     * the run's start (history time 0), which is close enough to now. */
    w = workload_start(r, (uint64_t)hrec_now(&r->h) + s->workload.duration_ns);
    nem = nemesis_start(r, w);
    uint64_t end = (uint64_t)hrec_now(&r->h) + s->workload.duration_ns;
    uint64_t next_tick = mono_now_ns() + 1000 * NS_MS;
    while (!run_interrupted && (uint64_t)hrec_now(&r->h) < end) {
        /* The main thread forks every process (see backend.h): serve the
         * nemesis's restarts while waiting. */
        backend_service(&r->be, 50 * NS_MS);
        if (mono_now_ns() >= next_tick) {
            next_tick += 1000 * NS_MS;
            cluster_probe_leader(r, 200 * NS_MS);
            progress_status(r, 0);
        }
    }
    atomic_store(&r->stop, 1);
    workload_join(w);
    nemesis_stop_async(nem);
    while (!nemesis_stopped(nem))   /* it may be waiting for a restart */
        backend_service(&r->be, 20 * NS_MS);
    nemesis_stop(nem);
    progress_status(r, 1);
    progress_log(r, "end phase: heal, quiesce %.1fs, final reads",
                 (double)s->workload.quiesce_ns / 1e9);
    nemesis_heal_all(r, nem);
    nem = NULL;
    if (run_interrupted < 2) {
        struct timespec ts = {(time_t)(s->workload.quiesce_ns / 1000000000ull),
                              (long)(s->workload.quiesce_ns % 1000000000ull)};
        nanosleep(&ts, NULL);
        cluster_final_reads(r);
        cluster_collect_status(r);
    }
    code = RL_EXIT_OK;

teardown:
    if (nem) {   /* only on an error path between start and the end phase */
        nemesis_stop_async(nem);
        while (!nemesis_stopped(nem))
            backend_service(&r->be, 20 * NS_MS);
        nemesis_stop(nem);
        nemesis_heal_all(r, nem);
    }
    atomic_store(&r->stop, 1);
    progress_log(r, "stopping nodes and tearing down");
    cluster_down(r);
    write_starts(r);
    if (r->hrec_open)
        hrec_close(&r->h);
    if (code == RL_EXIT_OK) {
        outcome o;
        if (results_compute(r->dir, s, r->seed, &o, err, sizeof err) < 0) {
            fprintf(stderr, "riftlab: checking failed: %s\n", err);
            code = RL_EXIT_HARNESS;
        } else {
            results_write(r->dir, s, &o);
            report_write(r->dir, s, &o);
            results_print(stdout, s, &o);
            code = o.exit_code;
            outcome_free(&o);
            printf("\n  report: %s/report.html\n", r->dir);
        }
    }
    if (run_interrupted) {
        fprintf(stderr, "riftlab: run interrupted; partial results in %s\n", r->dir);
        code = RL_EXIT_HARNESS;
    }
    rclient_close(&r->ctl);
    pthread_mutex_destroy(&r->ctl_mu);
    pthread_mutex_destroy(&r->nem_mu);
    free(r);
    return code;
}

/* Install the Ctrl-C handlers once per process. */
void run_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}
