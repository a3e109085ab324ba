/* buf.c: the growable byte buffer of buf.h. */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(buf *b)
{
    b->data = NULL;
    b->start = b->len = b->cap = 0;
}

void buf_free(buf *b)
{
    free(b->data);
    buf_init(b);
}

void buf_reset(buf *b)
{
    b->start = b->len = 0;
}

/* Ensure room for n more bytes plus a spare byte for buf_cstr's terminator.
 * Consumed front space is reclaimed first; growth doubles. */
static void buf_grow(buf *b, size_t n)
{
    if (b->start > 0 && b->len + n + 1 > b->cap) {
        memmove(b->data, b->data + b->start, b->len - b->start);
        b->len -= b->start;
        b->start = 0;
    }
    if (b->len + n + 1 <= b->cap)
        return;
    if (n > (size_t)-1 / 2 - b->len)
        abort();
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d)
        abort();
    b->data = d;
    b->cap = cap;
}

char *buf_reserve(buf *b, size_t n)
{
    buf_grow(b, n);
    return b->data + b->len;
}

void buf_commit(buf *b, size_t n)
{
    b->len += n;
}

void buf_append(buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    memcpy(buf_reserve(b, n), p, n);
    b->len += n;
}

void buf_puts(buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_vprintf(buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char *dst = buf_reserve(b, 64);
    size_t room = b->cap - b->len;
    int n = vsnprintf(dst, room, fmt, ap);
    if (n < 0)
        abort();
    if ((size_t)n >= room) {
        dst = buf_reserve(b, (size_t)n);
        vsnprintf(dst, (size_t)n + 1, fmt, ap2);
    }
    va_end(ap2);
    b->len += (size_t)n;
}

void buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void buf_consume(buf *b, size_t n)
{
    if (n >= b->len - b->start) {
        b->start = b->len = 0;
        return;
    }
    b->start += n;
}

const char *buf_cstr(buf *b)
{
    buf_grow(b, 0);
    b->data[b->len] = '\0';
    return b->data + b->start;
}
