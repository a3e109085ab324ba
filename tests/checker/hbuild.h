/* hbuild.h: building small histories in memory for the checker tests. */
#ifndef RIFTLAB_TEST_HBUILD_H
#define RIFTLAB_TEST_HBUILD_H

#include <string.h>

#include "checker/checker.h"

/* Appends one event; value is JSON text ("3", "[1,2]", "null") or NULL. */
static inline void hb_ev(history *h, long process, int type, const char *f, const char *key, const char *value)
{
    hist_event e;
    memset(&e, 0, sizeof e);
    e.index = (int64_t)h->nev;
    e.time = HIST_NO_TIME;
    e.process = process;
    e.type = (uint8_t)type;
    e.fname = history_intern_string(h, f, strlen(f));
    e.f = (uint8_t)history_f_of(f, strlen(f));
    e.key = key ? history_intern_string(h, key, strlen(key)) : 0;
    e.value = value ? history_intern_text(h, value, strlen(value)) : 0;
    e.line = (uint32_t)h->nev + 1;
    history_add(h, &e);
}

/* An ok read of key (NULL: none) by process that returned value. */
static inline void hb_read(history *h, long process, const char *key, const char *value)
{
    hb_ev(h, process, HIST_INVOKE, "read", key, NULL);
    hb_ev(h, process, HIST_OK, "read", key, value);
}

/* Runs the given checks with a model; returns the exit code (0/1/2, or -1). */
static inline int hb_check(const history *h, const char *model, unsigned checks, uint64_t budget, json_t **out)
{
    check_options o;
    check_options_default(&o);
    o.model = model;
    o.checks = checks;
    o.budget_steps = budget;
    char err[256];
    json_t *r = check_history(h, "test", &o, err, sizeof err);
    if (!r)
        return -1;
    int code = check_exit_code(r);
    if (out)
        *out = r;
    else
        json_decref(r);
    return code;
}

#endif
