/* resp.c: the incremental RESP2 parser and the reply encoder (resp.h).
 *
 * The parser is resumable: it consumes one complete token at a time (a
 * line such as "*3" or ":42", or a bulk header together with its payload)
 * and keeps the arrays it is filling on an explicit stack, so input that
 * arrives byte by byte is never rescanned from the start and nesting never
 * recurses. Arrays grow as their elements arrive, so a header announcing a
 * million elements costs nothing until the elements come. */
#include "resp.h"

#include <stdlib.h>
#include <string.h>

/* Bytes buffered but not yet parsed may not exceed the largest single token
 * (a maximal bulk string with its header) plus one read's worth of extra. */
#define RESP_MAX_BUFFERED ((size_t)RESP_MAX_BULK + 2 * RESP_MAX_INLINE)

/* An array being filled: v->nelems counts the elements begun so far. */
struct resp_frame {
    resp_value *v;
    size_t want;   /* announced element count */
    size_t cap;    /* allocated elements */
};

struct resp_reader {
    buf in;                 /* received, not yet consumed */
    size_t scan;            /* bytes of the current line already searched for '\n' */
    int err;                /* sticky: once malformed, always malformed */
    int depth;              /* open arrays on the stack */
    struct resp_frame stack[RESP_MAX_DEPTH];
    resp_value root;        /* the value being built */
    resp_value cmd;         /* the last command returned by next_command */
    char **argv;
    size_t *argl;
    size_t argcap;
};

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort();
    return q;
}

void resp_value_free(resp_value *v)
{
    if (!v)
        return;
    free(v->str);
    for (size_t i = 0; i < v->nelems; i++)
        resp_value_free(&v->elems[i]);
    free(v->elems);
    memset(v, 0, sizeof *v);
}

resp_reader *resp_reader_new(void)
{
    resp_reader *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    buf_init(&r->in);
    return r;
}

void resp_reader_free(resp_reader *r)
{
    if (!r)
        return;
    buf_free(&r->in);
    resp_value_free(&r->root);
    resp_value_free(&r->cmd);
    free(r->argv);
    free(r->argl);
    free(r);
}

int resp_reader_feed(resp_reader *r, const void *data, size_t len)
{
    if (r->err)
        return r->err;
    if (len > RESP_MAX_BUFFERED || buf_size(&r->in) > RESP_MAX_BUFFERED - len)
        return r->err = RESP_ETOOBIG;
    buf_append(&r->in, data, len);
    return 0;
}

const char *resp_strerror(int err)
{
    switch (err) {
    case RESP_NEED_MORE: return "incomplete";
    case RESP_GOT: return "ok";
    case RESP_EPROTO: return "protocol error";
    case RESP_ETOOBIG: return "value too large";
    case RESP_EDEPTH: return "arrays nested too deeply";
    default: return "unknown RESP error";
    }
}

/* Strict decimal integer: optional '-', 1..19 digits, no spaces. */
static int parse_i64(const char *s, size_t n, int64_t *out)
{
    int neg = n > 0 && s[0] == '-';
    size_t i = (size_t)neg;
    if (i == n || n - i > 19)
        return -1;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg)
        return -1;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static char *dup_bytes(const char *p, size_t n)
{
    char *s = xrealloc(NULL, n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Splits an inline command line into an array of bulk strings. Words are
 * separated by spaces or tabs; "double" and 'single' quotes group words
 * (backslash escapes the next byte inside double quotes). */
static int parse_inline(const char *p, size_t n, resp_value *out)
{
    buf word;
    size_t cap = 0;
    buf_init(&word);
    memset(out, 0, sizeof *out);
    out->type = RESP_ARRAY;
    size_t i = 0;
    for (;;) {
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (i == n)
            break;
        buf_reset(&word);
        while (i < n && p[i] != ' ' && p[i] != '\t') {
            char q = p[i];
            if (q != '"' && q != '\'') {
                buf_append(&word, &p[i++], 1);
                continue;
            }
            for (i++; i < n && p[i] != q; i++) {
                if (q == '"' && p[i] == '\\' && i + 1 < n)
                    i++;
                buf_append(&word, &p[i], 1);
            }
            if (i == n) {
                buf_free(&word);
                return RESP_EPROTO; /* unbalanced quote */
            }
            i++;
        }
        if (out->nelems == cap) {
            cap = cap ? 2 * cap : 4;
            out->elems = xrealloc(out->elems, cap * sizeof *out->elems);
        }
        resp_value *e = &out->elems[out->nelems++];
        memset(e, 0, sizeof *e);
        e->type = RESP_BULK;
        e->len = buf_size(&word);
        e->str = dup_bytes(buf_ptr(&word), e->len);
    }
    buf_free(&word);
    return RESP_GOT;
}

/* The slot the next parsed value goes into: the root, or a fresh element
 * of the innermost open array. */
static resp_value *next_slot(resp_reader *r)
{
    if (r->depth == 0)
        return &r->root;
    struct resp_frame *f = &r->stack[r->depth - 1];
    if (f->v->nelems == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 4;
        if (f->cap > f->want)
            f->cap = f->want;
        f->v->elems = xrealloc(f->v->elems, f->cap * sizeof *f->v->elems);
    }
    resp_value *e = &f->v->elems[f->v->nelems++];
    memset(e, 0, sizeof *e);
    return e;
}

/* Is a typed line acceptable at this point? Returns 0 (with the line's
 * number in *num for ':', '$' and '*') or the resp_error to fail with. */
static int check_line(char type, const char *body, size_t blen, int64_t *num,
                      int depth, int command_mode)
{
    *num = 0;
    if (type != '+' && type != '-' && type != ':' && type != '$' && type != '*')
        return RESP_EPROTO;                 /* garbage type byte */
    if (command_mode && depth > 0 && type != '$')
        return RESP_EPROTO;                 /* command arguments are bulk strings */
    if (type == '+' || type == '-')
        return 0;
    if (parse_i64(body, blen, num) < 0)
        return RESP_EPROTO;
    if (type == ':')
        return 0;
    /* Lengths: -1 is null, other negatives are malformed; a command has
     * no null arguments. */
    if (*num < -1 || (command_mode && type == '$' && *num == -1))
        return RESP_EPROTO;
    if (*num > (type == '$' ? (int64_t)RESP_MAX_BULK : (int64_t)RESP_MAX_ELEMENTS))
        return RESP_ETOOBIG;
    if (type == '*' && *num > 0 && depth == RESP_MAX_DEPTH)
        return RESP_EDEPTH;
    return 0;
}

/* Parses tokens until a whole top-level value is built (RESP_GOT, moved to
 * *out), the input runs out (RESP_NEED_MORE) or it is malformed. In command
 * mode a top-level line not starting with '*' is an inline command, array
 * elements must be bulk strings, and empty commands are skipped. */
static int parse(resp_reader *r, resp_value *out, int command_mode)
{
    if (r->err)
        return r->err;
    for (;;) {
        const char *p = buf_ptr(&r->in);
        size_t n = buf_size(&r->in);
        if (n == 0)
            return RESP_NEED_MORE;
        const char *nl = memchr(p + r->scan, '\n', n - r->scan);
        if (!nl) {
            if (n > RESP_MAX_INLINE)
                return r->err = RESP_ETOOBIG;
            r->scan = n;
            return RESP_NEED_MORE;
        }
        size_t linelen = (size_t)(nl - p);  /* bytes before '\n' */
        if (linelen > RESP_MAX_INLINE)
            return r->err = RESP_ETOOBIG;
        size_t consumed = linelen + 1;
        if (command_mode && r->depth == 0 && p[0] != '*') {
            /* Inline commands tolerate a bare '\n' (telnet, nc). */
            size_t len = linelen > 0 && p[linelen - 1] == '\r' ? linelen - 1 : linelen;
            int rc = parse_inline(p, len, &r->root);
            if (rc != RESP_GOT) {
                resp_value_free(&r->root);
                return r->err = rc;
            }
            buf_consume(&r->in, consumed);
            r->scan = 0;
            if (r->root.nelems == 0) {
                resp_value_free(&r->root);
                continue;
            }
            *out = r->root;
            memset(&r->root, 0, sizeof r->root);
            return RESP_GOT;
        }
        if (linelen < 2 || p[linelen - 1] != '\r') /* no CRLF, or no type byte */
            return r->err = RESP_EPROTO;
        char type = p[0];
        const char *body = p + 1;
        size_t blen = linelen - 2;         /* without type byte and '\r' */
        int64_t num;
        int bad = check_line(type, body, blen, &num, r->depth, command_mode);
        if (bad)
            return r->err = bad;
        if (type == '$' && num >= 0) {
            /* The payload and its CRLF must be buffered before we consume. */
            if (n - consumed < (size_t)num + 2) {
                r->scan = linelen; /* the header line is already found */
                return RESP_NEED_MORE;
            }
            if (p[consumed + (size_t)num] != '\r' || p[consumed + (size_t)num + 1] != '\n')
                return r->err = RESP_EPROTO;
        }
        if (command_mode && type == '*' && num <= 0) {   /* empty command: skip */
            buf_consume(&r->in, consumed);
            r->scan = 0;
            continue;
        }

        resp_value *v = next_slot(r);
        switch (type) {
        case '+':
        case '-':
            v->type = type == '+' ? RESP_SIMPLE : RESP_ERROR;
            v->str = dup_bytes(body, blen);
            v->len = blen;
            break;
        case ':':
            v->type = RESP_INTEGER;
            v->integer = num;
            break;
        case '$':
            if (num < 0) {
                v->type = RESP_NIL;
                break;
            }
            v->type = RESP_BULK;
            v->str = dup_bytes(p + consumed, (size_t)num);
            v->len = (size_t)num;
            consumed += (size_t)num + 2;
            break;
        default: /* '*' */
            if (num < 0) {
                v->type = RESP_NIL;
                break;
            }
            v->type = RESP_ARRAY;
            if (num > 0)
                r->stack[r->depth++] = (struct resp_frame){v, (size_t)num, 0};
            break;
        }
        buf_consume(&r->in, consumed);
        r->scan = 0;
        while (r->depth > 0 && r->stack[r->depth - 1].v->nelems == r->stack[r->depth - 1].want)
            r->depth--;
        if (r->depth == 0) {
            *out = r->root;
            memset(&r->root, 0, sizeof r->root);
            return RESP_GOT;
        }
    }
}

int resp_reader_next(resp_reader *r, resp_value *out)
{
    return parse(r, out, 0);
}

int resp_reader_next_command(resp_reader *r, resp_command *cmd)
{
    resp_value_free(&r->cmd);
    int rc = parse(r, &r->cmd, 1);
    if (rc != RESP_GOT)
        return rc;
    size_t n = r->cmd.nelems;
    if (n > r->argcap) {
        r->argcap = n;
        r->argv = xrealloc(r->argv, n * sizeof *r->argv);
        r->argl = xrealloc(r->argl, n * sizeof *r->argl);
    }
    for (size_t i = 0; i < n; i++) {
        r->argv[i] = r->cmd.elems[i].str;
        r->argl[i] = r->cmd.elems[i].len;
    }
    cmd->argc = (int)n;
    cmd->argv = r->argv;
    cmd->argl = r->argl;
    return RESP_GOT;
}

int resp_command_is(const resp_command *cmd, const char *name)
{
    if (cmd->argc < 1)
        return 0;
    size_t i = 0;
    for (; i < cmd->argl[0] && name[i]; i++) {
        char a = cmd->argv[0][i], b = name[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (b >= 'A' && b <= 'Z')
            b = (char)(b - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return i == cmd->argl[0] && name[i] == '\0';
}

/* Simple strings and errors are one line: CR and LF in the text would end
 * it early and inject a second reply, so they become spaces. */
static void put_line(buf *b, char type, const char *s, size_t n)
{
    char *d = buf_reserve(b, n + 3);
    d[0] = type;
    for (size_t i = 0; i < n; i++)
        d[1 + i] = (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
    d[n + 1] = '\r';
    d[n + 2] = '\n';
    buf_commit(b, n + 3);
}

void resp_put_simple(buf *b, const char *s)
{
    put_line(b, '+', s, strlen(s));
}

void resp_put_error(buf *b, const char *fmt, ...)
{
    buf tmp;
    buf_init(&tmp);
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&tmp, fmt, ap);
    va_end(ap);
    put_line(b, '-', buf_ptr(&tmp), buf_size(&tmp));
    buf_free(&tmp);
}

void resp_put_int(buf *b, int64_t v)
{
    buf_printf(b, ":%lld\r\n", (long long)v);
}

void resp_put_bulk(buf *b, const void *data, size_t len)
{
    buf_printf(b, "$%zu\r\n", len);
    buf_append(b, data, len);
    buf_append(b, "\r\n", 2);
}

void resp_put_cstr(buf *b, const char *s)
{
    resp_put_bulk(b, s, strlen(s));
}

void resp_put_nil(buf *b)
{
    buf_append(b, "$-1\r\n", 5);
}

void resp_put_array(buf *b, size_t n)
{
    buf_printf(b, "*%zu\r\n", n);
}

void resp_put_command(buf *b, int argc, const char *const *argv, const size_t *argl)
{
    resp_put_array(b, (size_t)argc);
    for (int i = 0; i < argc; i++)
        resp_put_bulk(b, argv[i], argl ? argl[i] : strlen(argv[i]));
}
