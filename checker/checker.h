/* checker.h: the public API of riftlab's history checker (library rl_checker).
 *
 * Used by `riftlab check` (check_cli.h) and by the runner after a run:
 *
 *   history h;                              // 1. get a history
 *   history_init(&h);
 *   history_read_file(&h, "history.jsonl", "auto", err, sizeof err);
 *                                           //    or fill it with history_add()
 *                                           //    and write it with history_write_jsonl()
 *   check_options o;                        // 2. check it
 *   check_options_default(&o);
 *   o.checks = CHECK_LINEARIZABLE | CHECK_SEQUENTIAL | CHECK_EVENTUAL;
 *   json_t *r = check_history(&h, "history.jsonl", &o, err, sizeof err);
 *                                           //    r: DESIGN's results.json object
 *   check_print_text(stdout, &h, r);        // 3. evidence as text / HTML
 *   check_html_page(f, &h, r);              //    or check_html_svg() to embed
 *   json_decref(r); history_free(&h);
 *
 * Errors are "file:line: reason" strings; functions return 0 / -1 or NULL.
 * The history types are in history.h, models in model.h. */
#ifndef RIFTLAB_CHECKER_CHECKER_H
#define RIFTLAB_CHECKER_CHECKER_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "checker/history.h"

/* ---- reading and writing histories ---- */

/* Formats: "jsonl", "jepsen-edn", "porcupine-kv", "porcupine-etcd"; "auto"
 * (or NULL) detects from the first non-blank line. */
const char *history_detect_format(const char *data, size_t len);
int history_parse(history *h, const char *format, const char *data, size_t len, const char *name,
                  char *err, size_t errlen);
int history_read_file(history *h, const char *path, const char *format, char *err, size_t errlen);
/* history.jsonl specifically (what the runner writes). */
int history_read_jsonl(history *h, const char *path, char *err, size_t errlen);
int history_parse_jsonl(history *h, const char *data, size_t len, const char *name, char *err, size_t errlen);
int history_parse_edn(history *h, const char *data, size_t len, const char *name, char *err, size_t errlen);
int history_parse_porcupine_kv(history *h, const char *data, size_t len, const char *name, char *err,
                               size_t errlen);
int history_parse_porcupine_etcd(history *h, const char *data, size_t len, const char *name, char *err,
                                 size_t errlen);
/* Writes every event (one JSON object per line). A runner recording live
 * calls history_write_event_jsonl() per event and fflush()es as it likes. */
int history_write_jsonl(FILE *out, const history *h);
int history_write_event_jsonl(FILE *out, const history *h, const hist_event *e);
/* The model a format implies: jsonl/edn -> kv, porcupine-etcd -> cas-register. */
const char *history_natural_model(const history *h);

/* ---- checks ---- */

enum { CHECK_LINEARIZABLE = 1, CHECK_SEQUENTIAL = 2, CHECK_EVENTUAL = 4 };

typedef struct check_options {
    const char *model;        /* "register" | "kv" | "cas-register" | "mutex"; NULL: natural */
    unsigned checks;          /* CHECK_* bits; default CHECK_LINEARIZABLE */
    uint64_t budget_steps;    /* per search; 0: none */
    double budget_seconds;    /* per search; 0: none */
    size_t memo_bytes;        /* per search memo limit (default 512 MiB) */
} check_options;

void check_options_default(check_options *o);
/* Parses "linearizable,sequential,eventual" into CHECK_* bits; -1 if bad. */
int check_parse_consistency(const char *s, unsigned *out);
/* Parses "N" (steps) or a duration ("10s", "500ms"); -1 if bad. */
int check_parse_budget(const char *s, uint64_t *steps, double *seconds);

/* Runs the checks; returns the result object (DESIGN "results.json", one
 * history) or NULL with the reason in err when the history cannot be
 * checked with this model (bad input, exit 254). Extra members besides
 * DESIGN's: "format", "model", "ops", "time_ms". Ops in evidence carry
 * "op" (index in history_ops() order), "process", "f", "value", "type",
 * "line" (invocation), "end_line" (completion, or null). */
json_t *check_history(const history *h, const char *file, const check_options *o, char *err, size_t errlen);
/* 0 valid, 1 invalid, 2 unknown (DESIGN exit codes). */
int check_exit_code(const json_t *result);

/* Plain-text evidence of a result (what `riftlab check` prints on false). */
void check_print_text(FILE *out, const history *h, const json_t *result);

/* HTML evidence: a whole self-contained page, or the <svg> timeline alone
 * (lanes per process, bars from invoke to completion, the failing window
 * highlighted, the linearization order numbered) for the runner's report. */
int check_html_page(FILE *out, const history *h, const json_t *result);
void check_html_svg(FILE *out, const history *h, const json_t *result);

#endif
