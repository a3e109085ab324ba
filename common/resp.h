/* resp.h: the Redis protocol, version 2 (RESP2), both directions.
 *
 * resp_reader is an incremental parser: feed it whatever bytes arrived
 * (partial reads, several pipelined commands at once) and pull complete
 * values out. It accepts the full RESP2 value grammar (simple strings,
 * errors, integers, bulk strings, arrays, nested arrays, nulls) for clients
 * reading replies, and inline commands ("PING\r\n") for servers. Sizes and
 * nesting are bounded; malformed input is an error code, never a crash, and
 * after an error the reader stays in the error state (close the connection).
 *
 * The encoder appends replies/commands to a growable buffer (buf.h). */
#ifndef RIFTLAB_RESP_H
#define RIFTLAB_RESP_H

#include <stddef.h>
#include <stdint.h>
#include "buf.h"

#define RESP_MAX_BULK     (8u << 20)  /* 8 MiB per bulk string */
#define RESP_MAX_ELEMENTS (1u << 20)  /* elements per array */
#define RESP_MAX_DEPTH    8           /* nesting of arrays */
#define RESP_MAX_INLINE   (64u << 10) /* length of an inline command line, and of
                                         any other line (simple strings, errors) */

enum resp_type {
    RESP_SIMPLE, RESP_ERROR, RESP_INTEGER, RESP_BULK, RESP_ARRAY,
    RESP_NIL /* null bulk string or null array */
};

typedef struct resp_value {
    enum resp_type type;
    int64_t integer;              /* RESP_INTEGER */
    char *str;                    /* SIMPLE / ERROR / BULK: NUL-terminated copy */
    size_t len;                   /* its length (may contain NULs for BULK) */
    struct resp_value *elems;     /* RESP_ARRAY */
    size_t nelems;
} resp_value;

void resp_value_free(resp_value *v);   /* frees contents, not v itself */

enum resp_error {
    RESP_NEED_MORE = 0,
    RESP_GOT = 1,
    RESP_EPROTO = -1,    /* bad type byte, bad number, missing CRLF */
    RESP_ETOOBIG = -2,   /* a length above the limits */
    RESP_EDEPTH = -3,    /* arrays nested too deeply */
};

typedef struct resp_reader resp_reader;

resp_reader *resp_reader_new(void);
void resp_reader_free(resp_reader *r);
/* Append received bytes. Returns 0, or RESP_ETOOBIG if the buffered input
 * exceeds what any valid value could need. */
int resp_reader_feed(resp_reader *r, const void *data, size_t len);
/* Next complete value: RESP_GOT (out filled, caller frees with
 * resp_value_free), RESP_NEED_MORE, or a negative resp_error. */
int resp_reader_next(resp_reader *r, resp_value *out);

/* A command as a server sees it: argv of byte strings (from an array of bulk
 * strings or an inline line). Pointers stay valid until the next call. */
typedef struct resp_command {
    int argc;
    char **argv;       /* NUL-terminated */
    size_t *argl;      /* lengths */
} resp_command;
/* RESP_GOT / RESP_NEED_MORE / negative error (an array element that is not
 * a bulk string is RESP_EPROTO). Empty inline lines are skipped. */
int resp_reader_next_command(resp_reader *r, resp_command *cmd);

/* 1 if the command's name (argv[0]) is `name`, ignoring ASCII case. */
int resp_command_is(const resp_command *cmd, const char *name);

const char *resp_strerror(int err);

/* Encoders: append to b. */
void resp_put_simple(buf *b, const char *s);            /* +OK */
void resp_put_error(buf *b, const char *fmt, ...)       /* -ERR ... (fmt gives the whole text after '-') */
    __attribute__((format(printf, 2, 3)));
void resp_put_int(buf *b, int64_t v);                   /* :42 */
void resp_put_bulk(buf *b, const void *data, size_t len);
void resp_put_cstr(buf *b, const char *s);              /* bulk of a C string */
void resp_put_nil(buf *b);                              /* $-1 */
void resp_put_array(buf *b, size_t n);                  /* *n header */
/* A command as an array of bulk strings (clients). */
/* argl may be NULL when every argument is a C string. */
void resp_put_command(buf *b, int argc, const char *const *argv, const size_t *argl);

#endif
