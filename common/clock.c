/* clock.c: monotonic time, the skewable node clock, Lamport and vector
 * clocks (clock.h). */
#define _GNU_SOURCE
#include "clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

uint64_t mono_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void node_clock_init(node_clock *c, uint64_t mono_now)
{
    c->base_mono = mono_now;
    c->base_value = (int64_t)mono_now;
    c->drift_ppm = 0;
}

/* elapsed * ppm / 1e6 without overflowing for elapsed up to centuries. */
static int64_t drift_of(int64_t elapsed, int32_t ppm)
{
    return elapsed / 1000000 * ppm + elapsed % 1000000 * ppm / 1000000;
}

int64_t node_clock_now(const node_clock *c, uint64_t mono_now)
{
    int64_t elapsed = (int64_t)(mono_now - c->base_mono);
    return c->base_value + elapsed + drift_of(elapsed, c->drift_ppm);
}

void node_clock_set(node_clock *c, uint64_t mono_now, int64_t offset_ns, int32_t drift_ppm)
{
    c->base_mono = mono_now;
    c->base_value = (int64_t)mono_now + offset_ns;
    c->drift_ppm = drift_ppm;
}

void node_clock_set_drift(node_clock *c, uint64_t mono_now, int32_t drift_ppm)
{
    c->base_value = node_clock_now(c, mono_now);
    c->base_mono = mono_now;
    c->drift_ppm = drift_ppm;
}

int64_t node_clock_offset(const node_clock *c, uint64_t mono_now)
{
    return node_clock_now(c, mono_now) - (int64_t)mono_now;
}

uint64_t lamport_tick(lamport *l)
{
    return ++l->time;
}

uint64_t lamport_send(lamport *l)
{
    return ++l->time;
}

uint64_t lamport_recv(lamport *l, uint64_t remote)
{
    if (remote > l->time)
        l->time = remote;
    return ++l->time;
}

void vclock_init(vclock *v, uint16_t n)
{
    memset(v, 0, sizeof *v);
    v->n = n > VCLOCK_MAX ? VCLOCK_MAX : n;
}

void vclock_tick(vclock *v, uint16_t self)
{
    if (self >= VCLOCK_MAX)
        return;
    if (self >= v->n)
        v->n = (uint16_t)(self + 1);
    v->c[self]++;
}

void vclock_merge(vclock *v, const vclock *other)
{
    for (uint16_t i = 0; i < other->n; i++)
        if (other->c[i] > v->c[i])
            v->c[i] = other->c[i];
    if (other->n > v->n)
        v->n = other->n;
}

enum vclock_order vclock_compare(const vclock *a, const vclock *b)
{
    int less = 0, greater = 0;
    uint16_t n = a->n > b->n ? a->n : b->n;
    /* Entries past a clock's n are zero (vclock_init clears them all). */
    for (uint16_t i = 0; i < n; i++) {
        uint64_t x = i < a->n ? a->c[i] : 0, y = i < b->n ? b->c[i] : 0;
        less |= x < y;
        greater |= x > y;
    }
    if (less && greater)
        return VCLOCK_CONCURRENT;
    if (less)
        return VCLOCK_BEFORE;
    if (greater)
        return VCLOCK_AFTER;
    return VCLOCK_EQUAL;
}

int vclock_encode(const vclock *v, uint8_t *out, size_t cap)
{
    size_t need = 2 + (size_t)v->n * 8;
    if (v->n > VCLOCK_MAX || cap < need)
        return -1;
    out[0] = (uint8_t)(v->n >> 8);
    out[1] = (uint8_t)v->n;
    for (uint16_t i = 0; i < v->n; i++)
        for (int b = 0; b < 8; b++)
            out[2 + 8 * i + b] = (uint8_t)(v->c[i] >> (56 - 8 * b));
    return (int)need;
}

int vclock_decode(vclock *v, const uint8_t *in, size_t len)
{
    if (len < 2)
        return -1;
    uint16_t n = (uint16_t)(in[0] << 8 | in[1]);
    if (n > VCLOCK_MAX || len < 2 + (size_t)n * 8)
        return -1;
    vclock_init(v, n);
    for (uint16_t i = 0; i < n; i++) {
        uint64_t x = 0;
        for (int b = 0; b < 8; b++)
            x = x << 8 | in[2 + 8 * i + b];
        v->c[i] = x;
    }
    return (int)(2 + (size_t)n * 8);
}

int vclock_format_json(const vclock *v, char *out, size_t cap)
{
    if (cap < 2)
        return -1;
    out[0] = '{';
    size_t len = 1;
    for (uint16_t i = 0; i < v->n; i++) {
        int w = snprintf(out + len, cap - len, "%s\"n%u\":%llu", i ? "," : "",
                         (unsigned)i + 1, (unsigned long long)v->c[i]);
        if (w < 0 || (size_t)w >= cap - len)
            return -1;
        len += (size_t)w;
    }
    if (cap - len < 2)
        return -1;
    out[len++] = '}';
    out[len] = '\0';
    return (int)len;
}
