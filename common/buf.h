/* buf.h: a growable byte buffer (output queues, encoders, string building).
 *
 * Data lives in [data + start, data + len); consuming from the front only
 * moves `start`, and the space is reclaimed when the buffer empties or on
 * the next growth, so a send queue never shifts bytes on every write.
 * Allocation failure aborts: riftlab's processes cannot do anything useful
 * without memory, and a half-built message would be worse. */
#ifndef RIFTLAB_BUF_H
#define RIFTLAB_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct buf {
    char *data;
    size_t start, len, cap;
} buf;

void buf_init(buf *b);
void buf_free(buf *b);
void buf_reset(buf *b);                         /* empty, keep capacity */
void buf_append(buf *b, const void *p, size_t n);
void buf_puts(buf *b, const char *s);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf *b, const char *fmt, va_list ap);
/* Make room for n more bytes and return where to write them; then buf_commit. */
char *buf_reserve(buf *b, size_t n);
void buf_commit(buf *b, size_t n);
void buf_consume(buf *b, size_t n);             /* drop n bytes from the front */
/* An empty, never-grown buffer has no storage: it reads as "". */
static inline const char *buf_ptr(const buf *b) { return b->data ? b->data + b->start : ""; }
static inline size_t buf_size(const buf *b) { return b->len - b->start; }
/* NUL-terminated view (adds a terminator past the end without counting it). */
const char *buf_cstr(buf *b);

#endif
