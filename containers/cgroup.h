/* cgroup.h: CPU quotas for slow nodes, on cgroup v1 (the cpu controller's
 * cpu.cfs_quota_us) or v2 (cpu.max).
 *
 * riftlab's cgroups all live under one parent, riftlab/, in the cpu
 * hierarchy: /sys/fs/cgroup/cpu/riftlab/<leaf> (v1) or
 * /sys/fs/cgroup/riftlab/<leaf> (v2), with leaf "<run>-<process>", so the
 * sweeper can find a dead run's cgroups by its prefix. */
#ifndef RIFTLAB_CONTAINERS_CGROUP_H
#define RIFTLAB_CONTAINERS_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

enum cgroup_kind { CGROUP_NONE, CGROUP_V1, CGROUP_V2 };

#define CGROUP_PERIOD_US 100000

/* Which hierarchy gives a cpu controller here (v1 preferred when both). */
enum cgroup_kind cgroup_detect(void);

/* The directory holding riftlab's cgroups for `kind` (no trailing slash). */
const char *cgroup_parent(enum cgroup_kind kind);

/* Creates (or reuses) leaf `leaf`; writes its path. 0 or -1 with a reason. */
int cgroup_create(enum cgroup_kind kind, const char *leaf, char *path, size_t cap, char *err, size_t errlen);

/* Limits the cgroup to `fraction` of one CPU (>= 1: no limit). */
int cgroup_set_quota(enum cgroup_kind kind, const char *path, double fraction, char *err, size_t errlen);

/* Moves process pid (all its threads) into the cgroup. */
int cgroup_add(const char *path, pid_t pid, char *err, size_t errlen);

/* SIGKILLs every process still in the cgroup, then removes it (retrying
 * briefly while the killed processes exit). 0, or -1 if it stays. */
int cgroup_remove(const char *path);

#endif
