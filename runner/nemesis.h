/* nemesis.h: the fault schedule of a run.
 *
 * nemesis_plan expands a scenario's nemesis list into timed steps: fixed
 * entries as written (plus an undo step when they have `for`), and random
 * entries drawn from the run seed (every `every` from `from` to `until`: one
 * fault from `pick`, with its parameters, undone after 60% of the period).
 * The plan is a pure function of (scenario, seed): the same seed gives the
 * same schedule, which the run saves as nemesis-schedule.json. Targets such
 * as `leader` or `random` are resolved when a step runs (also seeded). */
#ifndef RIFTLAB_NEMESIS_H
#define RIFTLAB_NEMESIS_H

#include <stdio.h>

#include "run.h"
#include "scenario.h"

#define NEM_MAX_STEPS 2048

typedef struct nem_step {
    uint64_t t_ns;
    scn_action_spec a;           /* what to do (for an undo: what is undone) */
    int undo_of;                 /* -1, or the step whose effect this undoes */
    int entry;                   /* index in scenario.nemesis */
} nem_step;

/* Returns the number of steps (sorted by time, stable), at most max. */
int nemesis_plan(const scenario *s, uint64_t seed, nem_step *out, int max);
/* The plan as JSON text (one array), for the run directory and tests. */
void nemesis_plan_write(const nem_step *steps, int n, FILE *f);
/* One step as a short human text ("partition majority-ring", "undo #3 kill"). */
void nemesis_step_text(const nem_step *st, char *out, size_t cap);

typedef struct nemesis nemesis;
struct workload;

/* Run the plan in a thread against the cluster. */
nemesis *nemesis_start(run *r, struct workload *w);
/* Ask the thread to stop (remaining steps are skipped); nemesis_stopped
 * says when it has; nemesis_stop joins it. The caller keeps serving
 * backend restarts meanwhile (backend_service), which a step may wait for. */
void nemesis_stop_async(nemesis *n);
int nemesis_stopped(nemesis *n);
void nemesis_stop(nemesis *n);
/* End phase: heal partitions, clear link faults (back to network.links),
 * resume paused, restart killed (not crash-stopped) nodes, reset clocks and
 * slowness; closes every open band. Safe to call without a nemesis (n NULL). */
void nemesis_heal_all(run *r, nemesis *n);
/* Apply network.links to every link (start of the run). */
int nemesis_set_links(run *r, const scn_links *l);

#endif
