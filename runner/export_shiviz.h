/* export_shiviz.h: `riftlab export --shiviz RUNDIR [-o FILE]`, a run's node
 * traces as a log for ShiViz (the space-time diagram viewer of the
 * DistributedClocks project), see docs/runner.md "Space-time diagrams".
 *
 * File format (what ShiViz expects when a log file is opened): line 1 is
 * the log-parsing regular expression, line 2 the multiple-executions
 * delimiter, then the log. Every event is one line matching SHIVIZ_REGEX:
 *     n2 {"n1":4,"n2":7} recv from=n1 type=append seq=3 term=2 @1.204311s
 * host, then its vector clock as JSON (own entry counts 1, 2, 3, ...), then
 * the event. The log starts with one delimiter line naming the run, so the
 * logs of several runs can be concatenated and compared in ShiViz. */
#ifndef RIFTLAB_EXPORT_SHIVIZ_H
#define RIFTLAB_EXPORT_SHIVIZ_H

#include <stdint.h>
#include <stdio.h>

#include "spacetime.h"

/* Written as they are: ShiViz adds ^ and $ itself (multi-line mode). Only
 * constructs JavaScript and POSIX extended regexps read alike are used.
 * The host class must not match a newline: ShiViz scans the text after
 * the delimiter line from its leading newline, and [^ ]+ would take
 * "\nn1" as the host. Lane names are made of exactly these characters. */
#define SHIVIZ_REGEX "(?<host>[A-Za-z0-9_.#-]+) (?<clock>[{][^}]*[}]) (?<event>.*)"
#define SHIVIZ_DELIM "=== (?<trace>.*) ==="

/* Writes the events whose run time is in [from, to] (clocks recomputed
 * over exactly those). label names the execution. Returns the number of
 * events written, or -1 on a write error. */
long shiviz_write(FILE *f, const st_trace *st, const char *label, int64_t from, int64_t to);

/* The `export` subcommand (argv[0] = "export"). */
int export_main(int argc, char **argv);

#endif
