/* procstat.h: the two facts riftlab reads from /proc/<pid>/stat: a
 * process's state letter (R, S, D, T stopped, Z zombie, ...) and its start
 * time (clock ticks since boot), which together with the pid identifies a
 * process across pid reuse. */
#ifndef RIFTLAB_CONTAINERS_PROCSTAT_H
#define RIFTLAB_CONTAINERS_PROCSTAT_H

#include <stddef.h>
#include <sys/types.h>

/* Parses the text of a /proc/<pid>/stat file. 0 or -1 if malformed. */
int procstat_parse(const char *text, size_t len, char *state, unsigned long long *start);

/* Reads /proc/<pid>/stat. 0, or -1 if there is no such process. */
int procstat_read(pid_t pid, char *state, unsigned long long *start);

/* 1 if process pid exists, is not a zombie and (if start != 0) started at
 * `start`; 0 otherwise. */
int procstat_alive(pid_t pid, unsigned long long start);

#endif
