/* history_file.c: reading a history file in any supported format, and
 * telling the formats apart (`--format auto`). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checker/checker.h"
#include "checker/history_io.h"

const char *history_detect_format(const char *data, size_t len)
{
    size_t pos = 0, n;
    const char *line;
    while (history_next_line(data, len, &pos, &line, &n)) {
        while (n && (*line == ' ' || *line == '\t'))
            line++, n--;
        if (n == 0)
            continue;
        if (n >= 4 && memcmp(line, "INFO", 4) == 0)
            return "porcupine-etcd";
        if (line[0] == '{') {
            size_t i = 1;
            while (i < n && (line[i] == ' ' || line[i] == '\t'))
                i++;
            if (i < n && line[i] == ':') {
                /* Porcupine's kv logs always start {:process N, ... :key "..." */
                bool kv = n > 10 && memcmp(line + i, ":process ", 9) == 0 && memmem(line, n, ":key \"", 6);
                return kv ? "porcupine-kv" : "jepsen-edn";
            }
            return "jsonl";
        }
        return "jsonl"; /* let the jsonl reader name the bad line */
    }
    return "jsonl";
}

const char *history_natural_model(const history *h)
{
    return strcmp(h->format, "porcupine-etcd") == 0 ? "cas-register" : "kv";
}

int history_parse(history *h, const char *format, const char *data, size_t len, const char *name,
                  char *err, size_t errlen)
{
    if (!format || strcmp(format, "auto") == 0)
        format = history_detect_format(data, len);
    if (strcmp(format, "jsonl") == 0)
        return history_parse_jsonl(h, data, len, name, err, errlen);
    if (strcmp(format, "jepsen-edn") == 0)
        return history_parse_edn(h, data, len, name, err, errlen);
    if (strcmp(format, "porcupine-kv") == 0)
        return history_parse_porcupine_kv(h, data, len, name, err, errlen);
    if (strcmp(format, "porcupine-etcd") == 0)
        return history_parse_porcupine_etcd(h, data, len, name, err, errlen);
    snprintf(err, errlen, "unknown format '%s' (use auto, jsonl, jepsen-edn, porcupine-kv or porcupine-etcd)",
             format);
    return -1;
}

int history_read_file(history *h, const char *path, const char *format, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, len = 0, r;
    char *data = malloc(cap);
    while (data && (r = fread(data + len, 1, cap - len, f)) > 0) {
        len += r;
        if (len == cap)
            data = realloc(data, cap *= 2);
    }
    int bad = ferror(f);
    fclose(f);
    if (!data || bad) {
        free(data);
        snprintf(err, errlen, "%s: cannot read", path);
        return -1;
    }
    int rc = history_parse(h, format, data, len, path, err, errlen);
    free(data);
    return rc;
}

int history_read_jsonl(history *h, const char *path, char *err, size_t errlen)
{
    return history_read_file(h, path, "jsonl", err, errlen);
}
