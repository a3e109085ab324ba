/* history.h: the in-memory history every reader fills and every check reads.
 *
 * A history is a list of events (DESIGN.md "History format") plus one table
 * of interned values. Every JSON value that occurs in an event (keys, values,
 * node names, errors, the f name) is stored once, as its canonical compact
 * JSON text, and events refer to it by a 32-bit id. Two equal values always
 * have the same id, so the models compare values with `==` and the search
 * never touches strings. Id 0 means "field absent"; HIST_NULL is JSON null.
 *
 * Operations (hist_op) are derived from events by history_ops(): each
 * invocation paired with the completion of the same process. Checks work on
 * operations; readers and writers work on events. */
#ifndef RIFTLAB_CHECKER_HISTORY_H
#define RIFTLAB_CHECKER_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HIST_ABSENT 0u
#define HIST_NULL 1u
#define HIST_NO_TIME INT64_MIN
#define HIST_NO_COMPLETION UINT32_MAX

typedef enum { HIST_INVOKE, HIST_OK, HIST_FAIL, HIST_INFO } hist_type;

/* Operation kinds the models know; anything else (nemesis events) is OTHER. */
typedef enum {
    HIST_F_OTHER, HIST_F_READ, HIST_F_WRITE, HIST_F_CAS, HIST_F_DELETE,
    HIST_F_APPEND, HIST_F_ACQUIRE, HIST_F_RELEASE
} hist_f;

typedef enum { HIST_V_NULL, HIST_V_BOOL, HIST_V_INT, HIST_V_REAL, HIST_V_STRING,
               HIST_V_ARRAY, HIST_V_OBJECT } hist_vkind;

/* One interned value. `text` is canonical compact JSON (as jansson's
 * json_dumps(JSON_COMPACT|JSON_ENCODE_ANY) writes it); `str` is the decoded
 * content of a string; a 2-element array keeps its elements in `a`, `b`
 * (a cas's [expected, new]). */
typedef struct hist_value {
    const char *text;
    uint32_t len;
    uint8_t kind;
    uint32_t a, b;          /* 2-element array: element ids; else HIST_ABSENT */
    int64_t ival;           /* HIST_V_INT */
    const char *str;        /* HIST_V_STRING: decoded bytes (may contain NUL) */
    uint32_t slen;
    uint64_t hash;          /* of text */
} hist_value;

/* One line of history.jsonl. Value-typed fields are ids into the value table. */
typedef struct hist_event {
    int64_t index;          /* "index"; readers of formats without one number events from 0 */
    int64_t time;           /* ns since run start, or HIST_NO_TIME */
    int64_t process;        /* client process; meaningless when pname is set */
    uint32_t pname;         /* a process given as a string ("nemesis"): its id; else 0 */
    uint8_t type;           /* hist_type */
    uint8_t f;              /* hist_f, derived from fname */
    bool final;             /* "final": true marks a read of the final-read phase */
    uint32_t fname;         /* the f field as written ("read", "get", "partition") */
    uint32_t key, value, node, consistency, error; /* HIST_ABSENT when missing */
    uint32_t line;          /* 1-based line in the source file (0: built in memory) */
} hist_event;

typedef struct history {
    hist_event *ev;
    size_t nev, cap;
    hist_value *vals;       /* vals[0] unused (absent), vals[1] = null */
    uint32_t nvals, vcap;
    uint32_t *vtab;         /* open-addressing index over vals, by text */
    uint32_t vtab_mask;
    char **arenas;          /* blocks holding the value texts */
    size_t narenas, arena_used, arena_cap;
    uint32_t initial;       /* every key's initial value (HIST_NULL; "" for Porcupine kv) */
    const char *format;     /* name of the format it was read from (static string) */
} history;

/* A paired operation (invocation + completion). */
typedef struct hist_op {
    uint32_t inv, cmp;      /* event indices; cmp = HIST_NO_COMPLETION if none */
    int64_t process;
    uint8_t type;           /* HIST_OK / HIST_FAIL / HIST_INFO (no completion = INFO) */
    uint8_t f;
    uint32_t key;           /* value id of the key, HIST_ABSENT if none */
    uint32_t arg, arg2;     /* write/append: arg; cas: arg=expected, arg2=new */
    uint32_t ret;           /* read: the value returned (ok reads only) */
} hist_op;

void history_init(history *h);
void history_free(history *h);
/* Appends an event (copied) and returns its slot. */
hist_event *history_add(history *h, const hist_event *e);

/* Interning. text must be canonical compact JSON. */
uint32_t history_intern_text(history *h, const char *text, size_t len);
uint32_t history_intern_int(history *h, int64_t v);
uint32_t history_intern_string(history *h, const char *s, size_t len);
uint32_t history_intern_pair(history *h, uint32_t a, uint32_t b);
static inline const hist_value *history_value(const history *h, uint32_t id) { return &h->vals[id]; }

hist_f history_f_of(const char *name, size_t len);
const char *history_type_name(int type);

/* Pairs invocations and completions into ops (client processes only, in
 * invocation order). Returns 0, or -1 with "line N: reason" in err. */
int history_ops(const history *h, hist_op **ops, size_t *nops, char *err, size_t errlen);

/* Order of the event positions: time when the format gives none is the
 * event's position; ops are compared by event index (line order). */
static inline uint32_t hist_op_end(const hist_op *o) { return o->cmp; }

/* A printable one-line description of an op: "p3 cas [1,2] ok" */
void history_op_describe(const history *h, const hist_op *o, FILE *out);

/* Events' equality (for round trips): same fields and same value texts. */
bool history_equal(const history *a, const history *b, char *why, size_t whylen);

#endif
