/* results_auth.h: the authentication section of a run's results (see
 * results_auth.c). */
#ifndef RIFTLAB_RESULTS_AUTH_H
#define RIFTLAB_RESULTS_AUTH_H

#include <jansson.h>
#include <stdio.h>

#include "scenario.h"

/* {"auth", "nodes": {n1: {byzantine, rejected{..}, rejected_total,
 * proxy_corrupted, proxy_truncated, proxy_replayed}}, "rejected",
 * "rejected_total", "proxy_forged", "status_collected"} from dir's
 * nodes/status.json and proxy-stats.json (missing files: zeros / null). */
json_t *results_auth(const char *dir, const scenario *s);
/* The report's Authentication table from that object. */
void report_auth_table(FILE *f, json_t *auth);

#endif
