/* report_spacetime.h: the space-time diagram section of report.html, an
 * inline SVG drawn from the node traces (spacetime.h): one lane per node,
 * events as dots in happens-before order, messages as arrows from send to
 * recv (lost ones as a stub with a cross), leader/candidate stretches
 * shaded, and a highlighted window around the first broken invariant, the
 * history checker's failing window, or else the run's last events. */
#ifndef RIFTLAB_REPORT_SPACETIME_H
#define RIFTLAB_REPORT_SPACETIME_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "spacetime.h"

#define ST_SVG_EVENTS 300   /* events drawn at most (150 each side of the focus) */

/* What to highlight: run times [t0, t1] (t0 < 0: nothing, show the last
 * events), on the lanes in lane_mask (0: every lane); why says what it is. */
typedef struct st_focus {
    int64_t t0, t1;
    int64_t center;      /* t0 < 0: show the events around this run time (< 0: the last ones) */
    uint64_t lane_mask;
    char why[200];
} st_focus;

/* The focus of a run: the earliest invariant violation in results (an
 * object with "time_ns" and optionally "nodes" anywhere under
 * checks.invariants), else the history window [win0, win1] (win0 < 0:
 * none), else nothing highlighted but the view centred on the last
 * leader's election (if any). */
void st_focus_of(const st_trace *st, json_t *results, int64_t win0, int64_t win1, st_focus *out);

/* The <h2> section with its note and SVG, at most max_events events. */
void st_svg_write(FILE *f, const st_trace *st, const st_focus *focus, size_t max_events);

/* Loads the run's traces and writes the section (a note if it has none). */
void report_spacetime(FILE *f, const char *dir, json_t *results, int64_t win0, int64_t win1);

#endif
