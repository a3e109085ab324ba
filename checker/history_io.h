/* history_io.h: pieces shared by the history readers (not a public API).
 *
 * Every reader works on a whole file in memory, line by line, and reports
 * errors as "NAME:LINE: reason". The JSON-shaped formats (history.jsonl and
 * the EDN ones, whose maps are converted to JSON) share one converter from a
 * JSON object to an event, so the field rules live in one place. */
#ifndef RIFTLAB_CHECKER_HISTORY_IO_H
#define RIFTLAB_CHECKER_HISTORY_IO_H

#include <string.h>

#include <jansson.h>

#include "checker/history.h"

/* Interns any JSON value by its canonical compact text. */
uint32_t history_intern_json(history *h, json_t *v);

/* Converts one event object (DESIGN's fields) into *e; line is for messages.
 * Returns 0, or -1 with the reason (no "file:line:" prefix) in err. */
int history_event_from_json(history *h, json_t *obj, uint32_t line, hist_event *e, char *err, size_t errlen);

/* Parses one EDN value from text[0..len) into a JSON value: keywords and
 * strings become strings, nil null, vectors and lists arrays, maps objects.
 * Returns NULL with the reason in err. */
json_t *edn_parse(const char *text, size_t len, char *err, size_t errlen);

/* One EDN map per line, the first being line number `first`. */
int history_parse_edn_lines_from(history *h, const char *data, size_t len, const char *name, uint32_t first,
                                 char *err, size_t errlen);
int history_parse_edn_lines(history *h, const char *data, size_t len, const char *name, char *err, size_t errlen);

/* Line iteration: the next line of [*pos, len) without its '\n' (and '\r');
 * returns 0 at the end. */
static inline int history_next_line(const char *data, size_t len, size_t *pos, const char **line, size_t *n)
{
    if (*pos >= len)
        return 0;
    const char *s = data + *pos;
    const char *nl = memchr(s, '\n', len - *pos);
    size_t l = nl ? (size_t)(nl - s) : len - *pos;
    *pos += l + (nl ? 1 : 0);
    if (l && s[l - 1] == '\r')
        l--;
    *line = s;
    *n = l;
    return 1;
}

static inline int history_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

#endif
