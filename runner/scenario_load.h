/* scenario_load.h: YAML text -> validated scenario struct.
 *
 * Everything is checked before a run starts: YAML syntax, unknown keys,
 * wrong types, out-of-range values, unknown node names and options that do
 * not fit together (read: craq on raft, head/tail targets on raft, ...).
 * Every problem becomes one message "file:line:col: what is wrong"; the
 * loader keeps going after an error so a user sees all of them at once. */
#ifndef RIFTLAB_SCENARIO_LOAD_H
#define RIFTLAB_SCENARIO_LOAD_H

#include <stddef.h>
#include "scenario.h"

#define SCN_MAX_ERRORS 32

typedef struct scn_errors {
    int n;                           /* messages kept (at most SCN_MAX_ERRORS) */
    int dropped;                     /* further errors not kept */
    char *msg[SCN_MAX_ERRORS];
} scn_errors;

void scn_errors_free(scn_errors *e);

/* Load and validate. Returns 0 (s filled; free with scenario_free) or -1
 * (errors in e; s is left freed). `file` names the source in messages. */
int scenario_load_text(const char *file, const char *text, size_t len, scenario *s,
                       scn_errors *e);
/* The same from a file; an unreadable file is one error. */
int scenario_load_file(const char *path, scenario *s, scn_errors *e);
/* The built-in default scenario (file name "<built-in>"). */
int scenario_load_default(scenario *s, scn_errors *e);

#endif
