/* progress.c: what a person watching a run sees. On a terminal one status
 * line rewritten in place (elapsed/total, ops/s, ok/fail/info, the current
 * fault, the leader); otherwise plain timestamped lines. Event lines
 * (nemesis actions, phases) are printed above the status line. --quiet
 * prints only the final verdicts; --verbose adds every event. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

static pthread_mutex_t progress_mu = PTHREAD_MUTEX_INITIALIZER;
static int status_shown;

static int is_tty(void) { return isatty(2); }

void progress_log(run *r, const char *fmt, ...)
{
    if (r->opts.verbosity == RUN_QUIET)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    double t = r->hrec_open ? (double)hrec_now(&r->h) / 1e9 : 0;
    pthread_mutex_lock(&progress_mu);
    if (status_shown && is_tty())
        fputs("\r\033[K", stderr);
    fprintf(stderr, "[%7.3fs] %s\n", t, msg);
    status_shown = 0;
    pthread_mutex_unlock(&progress_mu);
}

void progress_status(run *r, int final)
{
    static uint64_t last_ops, last_t;
    if (r->opts.verbosity == RUN_QUIET || !r->hrec_open)
        return;
    pthread_mutex_lock(&r->h.mu);
    uint64_t ok = r->h.n_ok, fail = r->h.n_fail, info = r->h.n_info;
    pthread_mutex_unlock(&r->h.mu);
    uint64_t now = (uint64_t)hrec_now(&r->h), ops = ok + fail + info;
    double rate = now > last_t ? (double)(ops - last_ops) * 1e9 / (double)(now - last_t) : 0;
    last_ops = ops, last_t = now;
    char nem[96];
    pthread_mutex_lock(&r->nem_mu);
    snprintf(nem, sizeof nem, "%s", r->nemesis_now[0] ? r->nemesis_now : "-");
    pthread_mutex_unlock(&r->nem_mu);
    int l = atomic_load(&r->leader);
    char leader[16] = "?";
    if (l >= 0)
        snprintf(leader, sizeof leader, "n%d", l + 1);
    char line[320];
    snprintf(line, sizeof line, "%5.1f/%.0fs  %6.0f ops/s  ok %llu  fail %llu  info %llu  "
                                "nemesis: %s  %s: %s",
             (double)now / 1e9, (double)r->s->workload.duration_ns / 1e9, rate,
             (unsigned long long)ok, (unsigned long long)fail, (unsigned long long)info, nem,
             r->s->system.kind == SCN_RAFT ? "leader" : "head", leader);
    pthread_mutex_lock(&progress_mu);
    if (is_tty()) {
        fprintf(stderr, "\r\033[K%.*s%s", 200, line, final ? "\n" : "");
        status_shown = !final;
    } else if (final || r->opts.verbosity == RUN_VERBOSE || (now / 1000000000ull) % 5 == 0) {
        fprintf(stderr, "[%7.3fs] %s\n", (double)now / 1e9, line);
    }
    fflush(stderr);
    pthread_mutex_unlock(&progress_mu);
}
