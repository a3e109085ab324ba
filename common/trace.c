/* trace.c: the buffered JSON-lines trace writer (trace.h). */
#define _GNU_SOURCE
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errf.h"

struct trace {
    int fd;
    int enabled;
    char node[32];
    uint64_t epoch;
    const lamport *lam;
    const vclock *vc;
    buf pending;
    loop *l;
    uint64_t timer;
};

trace *trace_open(const char *path, const char *node, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        errf(err, errlen, "cannot open trace file %s: %s", path, strerror(errno));
        return NULL;
    }
    trace *t = calloc(1, sizeof *t);
    if (!t)
        abort();
    t->fd = fd;
    t->enabled = 1;
    snprintf(t->node, sizeof t->node, "%s", node);
    t->epoch = mono_now_ns();
    buf_init(&t->pending);
    return t;
}

void trace_close(trace *t)
{
    if (!t)
        return;
    trace_flush(t);
    if (t->timer)
        loop_cancel_timer(t->l, t->timer);
    close(t->fd);
    buf_free(&t->pending);
    free(t);
}

void trace_set_epoch(trace *t, uint64_t mono_ns) { t->epoch = mono_ns; }
void trace_set_enabled(trace *t, int on) { t->enabled = on != 0; }
int trace_enabled(const trace *t) { return t->enabled; }

void trace_set_clocks(trace *t, const lamport *l, const vclock *v)
{
    t->lam = l;
    t->vc = v;
}

static void flush_tick(loop *l, uint64_t id, void *arg)
{
    (void)l;
    (void)id;
    trace_flush(arg);
}

void trace_attach(trace *t, loop *l)
{
    if (t->timer)
        loop_cancel_timer(t->l, t->timer);
    t->l = l;
    t->timer = loop_add_timer(l, TRACE_FLUSH_NS, TRACE_FLUSH_NS, flush_tick, t);
}

void trace_json_str(buf *b, const char *s, size_t n)
{
    buf_append(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            char esc[2] = {'\\', (char)ch};
            buf_append(b, esc, 2);
        } else if (ch < 0x20 || ch == 0x7f) {
            buf_printf(b, "\\u%04x", ch);
        } else {
            buf_append(b, &s[i], 1);
        }
    }
    buf_append(b, "\"", 1);
}

void trace_event(trace *t, const char *kind, const char *fmt, ...)
{
    if (!t || !t->enabled)
        return;
    buf *b = &t->pending;
    uint64_t now = mono_now_ns();
    buf_printf(b, "{\"time\":%lld,\"node\":", (long long)(int64_t)(now - t->epoch));
    trace_json_str(b, t->node, strlen(t->node));
    buf_puts(b, ",\"kind\":");
    trace_json_str(b, kind, strlen(kind));
    if (t->lam)
        buf_printf(b, ",\"lamport\":%llu", (unsigned long long)t->lam->time);
    if (t->vc) {
        char vcs[VCLOCK_MAX * 32];
        if (vclock_format_json(t->vc, vcs, sizeof vcs) > 0)
            buf_printf(b, ",\"vc\":%s", vcs);
    }
    if (fmt && *fmt) {
        buf_puts(b, ",");
        va_list ap;
        va_start(ap, fmt);
        buf_vprintf(b, fmt, ap);
        va_end(ap);
    }
    buf_puts(b, "}\n");
    if (buf_size(b) >= TRACE_FLUSH_BYTES)
        trace_flush(t);
}

int trace_flush(trace *t)
{
    int rc = 0;
    while (buf_size(&t->pending) > 0) {
        ssize_t n = write(t->fd, buf_ptr(&t->pending), buf_size(&t->pending));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = -1;
            break;
        }
        buf_consume(&t->pending, (size_t)n);
    }
    buf_reset(&t->pending);
    return rc;
}
