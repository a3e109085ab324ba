/* loop.h: a single-threaded epoll event loop with monotonic timers.
 *
 * Components register file descriptors (called back when readable/writable)
 * and timers (one-shot or periodic, in nanoseconds of CLOCK_MONOTONIC).
 * Timers live in a binary heap, so 100k pending timers cost O(log n) each.
 * loop_stop() may be called from any callback (or a signal handler through
 * loop_stop_async) and makes loop_run() return after the current iteration. */
#ifndef RIFTLAB_LOOP_H
#define RIFTLAB_LOOP_H

#include <stdint.h>

typedef struct loop loop;

#define LOOP_READ  0x1u
#define LOOP_WRITE 0x2u
#define LOOP_ERROR 0x4u /* EPOLLERR/EPOLLHUP; LOOP_READ comes with it if registered for reading */

typedef void (*loop_fd_fn)(loop *l, int fd, unsigned events, void *arg);
typedef void (*loop_timer_fn)(loop *l, uint64_t timer_id, void *arg);

loop *loop_new(void);
void loop_free(loop *l);   /* does not close registered fds */

int loop_add_fd(loop *l, int fd, unsigned events, loop_fd_fn fn, void *arg);
int loop_mod_fd(loop *l, int fd, unsigned events);
int loop_del_fd(loop *l, int fd);

/* Returns a timer id (never 0). period_ns == 0: one-shot. The delay counts
 * from loop_now() when called from a callback (timers armed in one callback
 * keep their exact relative order), from the current time otherwise.
 * Timers due at the same instant fire in the order they were armed. A
 * periodic timer keeps its cadence; ticks missed in a long stall are
 * skipped, not fired in a burst. */
uint64_t loop_add_timer(loop *l, uint64_t delay_ns, uint64_t period_ns,
                        loop_timer_fn fn, void *arg);
/* Cancelling an unknown or already fired one-shot timer is a no-op (returns -1). */
int loop_cancel_timer(loop *l, uint64_t timer_id);

/* Monotonic time in ns, refreshed once per loop iteration (cheap). */
uint64_t loop_now(loop *l);

/* Run until loop_stop() or loop_stop_async(). Returns 0, or -1 if epoll
 * failed. The stop request is consumed, so loop_run can be called again. */
int loop_run(loop *l);
/* One iteration: wait at most timeout_ms (-1: until the next timer), then
 * run the ready fd callbacks and the due timers. */
int loop_run_once(loop *l, int timeout_ms);
void loop_stop(loop *l);
/* Async-signal-safe stop (writes to an eventfd the loop watches). */
void loop_stop_async(loop *l);
/* Make SIGINT and SIGTERM stop this loop (through loop_stop_async), so a
 * binary's normal clean-up path runs on Ctrl-C and on kill. One loop per
 * process; loop_free of that loop restores the default handlers. */
int loop_stop_on_signals(loop *l);

#endif
