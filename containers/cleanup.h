/* cleanup.h: everything a run made goes away on every exit path.
 *
 * hosts_up and sup_start register what they make here (and hosts_down /
 * sup_free unregister it), so the runner only has to make sure one of these
 * runs on its way out:
 *
 *   - normal end or error:  cleanup_all()   (also registered with atexit by
 *                                           cleanup_install)
 *   - SIGINT, SIGTERM, SIGHUP: cleanup_on_signal(sig) from the runner's own
 *     handler, or cleanup_install() to have riftlab's handlers do it and then
 *     die of the signal as usual.
 *
 * cleanup_on_signal uses only async-signal-safe calls (kill, waitpid,
 * umount2, unlink, rmdir): it SIGKILLs every tracked process group, reaps
 * them, removes their cgroups, the tracked namespaces and run records. What
 * it cannot reach (e.g. a process someone started by hand with `ip netns
 * exec`) dies with its namespace's mount being gone or is swept by
 * `riftlab clean` (sweep.h), which also covers SIGKILL of riftlab itself. */
#ifndef RIFTLAB_CONTAINERS_CLEANUP_H
#define RIFTLAB_CONTAINERS_CLEANUP_H

struct hosts_net;
struct sup_proc;

/* Tracking (called by hosts.c and supervisor.c). Tracking fails silently
 * past CLEANUP_MAX_* entries; the sweeper still finds those. */
#define CLEANUP_MAX_NETS  16
#define CLEANUP_MAX_PROCS 512
void cleanup_track_net(struct hosts_net *net);
void cleanup_untrack_net(struct hosts_net *net);
void cleanup_track_proc(struct sup_proc *p);
void cleanup_untrack_proc(struct sup_proc *p);

/* Normal path: sup_free every tracked process, hosts_down every tracked net. */
void cleanup_all(void);

/* Async-signal-safe teardown for a signal handler (see above). */
void cleanup_on_signal(int sig);

/* Installs handlers for SIGINT, SIGTERM and SIGHUP that run
 * cleanup_on_signal and then re-raise the signal with its default action,
 * and registers cleanup_all with atexit. 0 or -1. */
int cleanup_install(void);

#endif
