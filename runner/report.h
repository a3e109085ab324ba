/* report.h: report.html, one self-contained page per run (no external
 * files, scripts or fonts): the verdicts on top, what failed and when (the
 * checker's failing window and the faults active then), a timeline of
 * operations per process with nemesis bands, latency over time (one point
 * per operation, coloured ok/fail/info) and throughput, node roles over time
 * from the traces, and the proxy's statistics. Built from the run directory
 * alone, so `riftlab report RUNDIR` can rebuild it. */
#ifndef RIFTLAB_REPORT_H
#define RIFTLAB_REPORT_H

#include "results.h"
#include "scenario.h"

int report_write(const char *dir, const scenario *s, const outcome *o);

#endif
