/* cgroup.c: CPU quotas through cgroup v1 or v2 (see cgroup.h). */
#define _GNU_SOURCE
#include "containers/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CGROUP_V1_CPU "/sys/fs/cgroup/cpu"
#define CGROUP_V2_ROOT "/sys/fs/cgroup"

static int cgroup_write(const char *dir, const char *file, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    errno = e;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Reads a small control file into buf (NUL-terminated); its length, or 0. */
static size_t cgroup_read(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    buf[0] = '\0';
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return n > 0 ? (size_t)n : 0;
}

/* 1 if file `path` contains word `w` (space separated). */
static int cgroup_has_word(const char *path, const char *w)
{
    char buf[512];
    if (cgroup_read(path, buf, sizeof buf) == 0)
        return 0;
    for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n"))
        if (strcmp(tok, w) == 0)
            return 1;
    return 0;
}

enum cgroup_kind cgroup_detect(void)
{
    if (access(CGROUP_V1_CPU "/cpu.cfs_quota_us", F_OK) == 0)
        return CGROUP_V1;
    if (cgroup_has_word(CGROUP_V2_ROOT "/cgroup.controllers", "cpu"))
        return CGROUP_V2;
    return CGROUP_NONE;
}

const char *cgroup_parent(enum cgroup_kind kind)
{
    return kind == CGROUP_V1 ? CGROUP_V1_CPU "/riftlab" : CGROUP_V2_ROOT "/riftlab";
}

int cgroup_create(enum cgroup_kind kind, const char *leaf, char *path, size_t cap, char *err, size_t errlen)
{
    const char *parent = cgroup_parent(kind);
    if (kind == CGROUP_NONE) {
        snprintf(err, errlen, "no cgroup cpu controller");
        return -1;
    }
    if (mkdir(parent, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "mkdir %s: %s", parent, strerror(errno));
        return -1;
    }
    /* v2 hands the cpu controller down level by level; v1 has it everywhere. */
    if (kind == CGROUP_V2 && (cgroup_write(CGROUP_V2_ROOT, "cgroup.subtree_control", "+cpu") != 0 ||
                              cgroup_write(parent, "cgroup.subtree_control", "+cpu") != 0)) {
        snprintf(err, errlen, "enable cpu controller under %s: %s", parent, strerror(errno));
        return -1;
    }
    int n = snprintf(path, cap, "%s/%s", parent, leaf);
    if (n < 0 || (size_t)n >= cap) {
        snprintf(err, errlen, "cgroup path too long");
        return -1;
    }
    /* Another run may remove the empty parent between the two mkdirs. */
    for (int tries = 0; mkdir(path, 0755) != 0 && errno != EEXIST; tries++) {
        if (errno != ENOENT || tries > 0 || mkdir(parent, 0755) != 0) {
            snprintf(err, errlen, "mkdir %s: %s", path, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int cgroup_set_quota(enum cgroup_kind kind, const char *path, double fraction, char *err, size_t errlen)
{
    char text[64];
    long quota = fraction >= 1.0 ? -1 : (long)(fraction * CGROUP_PERIOD_US);
    if (quota != -1 && quota < 1000)
        quota = 1000;                           /* the kernel's minimum is 1 ms */
    int rc;
    if (kind == CGROUP_V1) {
        snprintf(text, sizeof text, "%d", CGROUP_PERIOD_US);
        rc = cgroup_write(path, "cpu.cfs_period_us", text);
        snprintf(text, sizeof text, "%ld", quota);
        rc = rc ? rc : cgroup_write(path, "cpu.cfs_quota_us", text);
    } else {
        if (quota < 0)
            snprintf(text, sizeof text, "max %d", CGROUP_PERIOD_US);
        else
            snprintf(text, sizeof text, "%ld %d", quota, CGROUP_PERIOD_US);
        rc = cgroup_write(path, "cpu.max", text);
    }
    if (rc != 0)
        snprintf(err, errlen, "set cpu quota in %s: %s", path, strerror(errno));
    return rc;
}

int cgroup_add(const char *path, pid_t pid, char *err, size_t errlen)
{
    char text[32];
    snprintf(text, sizeof text, "%d", (int)pid);
    if (cgroup_write(path, "cgroup.procs", text) != 0) {
        snprintf(err, errlen, "move %d into %s: %s", (int)pid, path, strerror(errno));
        return -1;
    }
    return 0;
}

/* SIGKILLs what cgroup.procs lists; returns how many. */
static int cgroup_kill_members(const char *path)
{
    char file[512], buf[4096];
    int killed = 0;
    snprintf(file, sizeof file, "%s/cgroup.procs", path);
    cgroup_read(file, buf, sizeof buf);
    for (char *tok = strtok(buf, "\n"); tok; tok = strtok(NULL, "\n")) {
        pid_t pid = (pid_t)atoi(tok);
        if (pid > 0 && kill(pid, SIGKILL) == 0)
            killed++;
    }
    return killed;
}

/* Removes riftlab/ itself once its last leaf is gone (rmdir refuses while
 * another run still has leaves in it, which is what we want). */
static void cgroup_remove_parent(const char *leaf)
{
    char parent[512];
    snprintf(parent, sizeof parent, "%s", leaf);
    char *slash = strrchr(parent, '/');
    if (slash == NULL)
        return;
    *slash = '\0';
    if (strcmp(parent, cgroup_parent(CGROUP_V1)) == 0 || strcmp(parent, cgroup_parent(CGROUP_V2)) == 0)
        rmdir(parent);
}

int cgroup_remove(const char *path)
{
    cgroup_kill_members(path);
    /* A killed process leaves the cgroup only once it has fully exited. */
    for (int i = 0; i < 200; i++) {
        if (rmdir(path) == 0 || errno == ENOENT) {
            cgroup_remove_parent(path);
            return 0;
        }
        if (errno != EBUSY)
            return -1;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}
