/* workload.h: Jepsen-style client threads (in the hub's network). Each
 * client has one operation outstanding at a time; a timeout or an error that
 * does not prove failure completes the op as `info`, and the client goes on
 * as a fresh process id (process + clients). A NOTLEADER / NOTHEAD / NOTTAIL
 * reply proves the op was not executed, so the client follows the redirect
 * and retries the same op (within its timeout) before completing it. */
#ifndef RIFTLAB_WORKLOAD_H
#define RIFTLAB_WORKLOAD_H

#include "common/prng.h"
#include "run.h"

typedef struct workload workload;

/* Start the clients; they run until `until_ns` (history time) or r->stop. */
workload *workload_start(run *r, uint64_t until_ns);
void workload_join(workload *w);
/* Lease workload: stall one client between its read and its write for
 * `ns` (a client GC pause). Returns the index of the client holding the lock,
 * or -1 when none does (then the next client to take it is paused). */
int workload_pause_client(workload *w, uint64_t ns);

/* Pure pieces, unit-tested. Pick an op by the mix from u in [0,1). */
enum wl_op { WL_READ, WL_WRITE, WL_CAS, WL_DELETE };
enum wl_op workload_pick_op(const scenario *s, double u);
/* Parse "-NOTLEADER 3 10.77.1.13:6379" style redirects: node id or 0 unknown,
 * -1 if the error is not a redirect. */
long workload_redirect(const char *err);
/* Pacing of one client, one op per `interval` ns (0: unpaced), its next op
 * due at *next (<= now). Returns 1: start it now (*next moves one interval
 * on). Returns 0 after a stall, when the op is more than a whole interval
 * late: *next becomes a random point of the interval from now, and the op
 * waits for it (see workload.c for why). */
int workload_pace(uint64_t *next, uint64_t now, uint64_t interval, prng *p);

#endif
