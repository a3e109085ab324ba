/* registry.c: run records under /run/riftlab (see registry.h). */
#define _GNU_SOURCE
#include "containers/registry.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "containers/procstat.h"

/* Reads one decimal number at *p (bounded), advancing *p. */
static int registry_number(const char **p, const char *end, unsigned long long *out)
{
    unsigned long long v = 0;
    int digits = 0;
    while (*p < end && **p == ' ')
        (*p)++;
    while (*p < end && **p >= '0' && **p <= '9') {
        if (++digits > 19)
            return -1;
        v = v * 10 + (unsigned long long)(**p - '0');
        (*p)++;
    }
    if (digits == 0)
        return -1;
    *out = v;
    return 0;
}

int registry_parse(const char *text, size_t len, registry_rec *rec)
{
    const char *p = text, *end = text + len;
    char net[NAMING_NET_MAX + 1];
    memcpy(net, rec->net, sizeof net);          /* the name comes from the file name */
    memset(rec, 0, sizeof *rec);
    memcpy(rec->net, net, sizeof net);
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        /* Writers only ever add whole lines; a last line without its
         * newline is an append in progress, read as not there yet. */
        if (eol == NULL)
            break;
        unsigned long long a = 0, b = 0;
        size_t n = (size_t)(eol - p);
        if (n >= 6 && memcmp(p, "owner ", 6) == 0) {
            p += 6;
            if (registry_number(&p, eol, &a) || registry_number(&p, eol, &b) || a > 0x7fffffff)
                return -1;
            rec->owner.pid = (pid_t)a;
            rec->owner.start = b;
        } else if (n >= 7 && memcmp(p, "subnet ", 7) == 0) {
            p += 7;
            if (registry_number(&p, eol, &a) || a > NAMING_SUBNET_MAX)
                return -1;
            rec->subnet = (int)a;
        } else if (n >= 6 && memcmp(p, "nodes ", 6) == 0) {
            p += 6;
            if (registry_number(&p, eol, &a) || a > NAMING_MAX_NODES)
                return -1;
            rec->nodes = (int)a;
        } else if (n >= 5 && memcmp(p, "proc ", 5) == 0) {
            p += 5;
            if (registry_number(&p, eol, &a) || a == 0 || a > 0x7fffffff)
                return -1;
            if (registry_number(&p, eol, &b) != 0)
                b = 0;                          /* a proc line may lack the start time */
            /* A long run restarts processes many times: keep the newest
             * REGISTRY_MAX_PROCS (the older ones are dead by then), never
             * fail, or a live run's record would look corrupt to clean. */
            if (rec->nprocs == REGISTRY_MAX_PROCS) {
                memmove(rec->procs, rec->procs + 1, sizeof rec->procs[0] * (REGISTRY_MAX_PROCS - 1));
                rec->nprocs--;
            }
            rec->procs[rec->nprocs].pid = (pid_t)a;
            rec->procs[rec->nprocs].start = b;
            rec->nprocs++;
        } else if (n != 0) {
            return -1;
        }
        p = eol + 1;
    }
    return 0;
}

int registry_format(const registry_rec *rec, char *out, size_t cap)
{
    size_t off = 0;
    int n = snprintf(out, cap, "owner %d %llu\nsubnet %d\nnodes %d\n", (int)rec->owner.pid,
                     rec->owner.start, rec->subnet, rec->nodes);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    off = (size_t)n;
    for (int i = 0; i < rec->nprocs; i++) {
        n = snprintf(out + off, cap - off, "proc %d %llu\n", (int)rec->procs[i].pid, rec->procs[i].start);
        if (n < 0 || (size_t)n >= cap - off)
            return -1;
        off += (size_t)n;
    }
    return (int)off;
}

static int registry_dir(void)
{
    if (mkdir(REGISTRY_DIR, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

int registry_lock(void)
{
    if (registry_dir() != 0)
        return -1;
    int fd = open(REGISTRY_DIR "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

void registry_unlock(int fd)
{
    if (fd >= 0)
        close(fd);                              /* closing releases the flock */
}

static void registry_path(const char *net, const char *suffix, char *out, size_t cap)
{
    snprintf(out, cap, REGISTRY_DIR "/%s.run%s", net, suffix);
}

int registry_write(const registry_rec *rec)
{
    char path[128], tmp[128];
    char text[64 + REGISTRY_MAX_PROCS * 40];
    int len = registry_format(rec, text, sizeof text);
    if (len < 0 || registry_dir() != 0)
        return -1;
    registry_path(rec->net, "", path, sizeof path);
    registry_path(rec->net, ".tmp", tmp, sizeof tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (write(fd, text, (size_t)len) != len) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    return rename(tmp, path);
}

int registry_read(const char *net, registry_rec *rec)
{
    char path[128];
    struct stat st;
    registry_path(net, "", path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    /* The whole file: proc lines accumulate over a long run, and the
     * newest ones (at the end) matter most. */
    if (fstat(fd, &st) != 0 || st.st_size > REGISTRY_MAX_BYTES) {
        close(fd);
        return -1;
    }
    char *text = malloc((size_t)st.st_size + 1);
    ssize_t n = text ? read(fd, text, (size_t)st.st_size) : -1;
    close(fd);
    int rc = -1;
    if (n >= 0) {
        snprintf(rec->net, sizeof rec->net, "%s", net);
        rc = registry_parse(text, (size_t)n, rec);
    }
    free(text);
    return rc;
}

int registry_remove(const char *net)
{
    char path[128];
    registry_path(net, "", path, sizeof path);
    if (unlink(path) != 0 && errno != ENOENT)
        return -1;
    return 0;
}

int registry_add_proc(const char *net, pid_t pid)
{
    char path[128], line[64];
    char state;
    struct stat st;
    unsigned long long start = 0;
    registry_path(net, "", path, sizeof path);
    if (procstat_read(pid, &state, &start) != 0)
        start = 0;
    int n = snprintf(line, sizeof line, "proc %d %llu\n", (int)pid, start);
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, line, (size_t)n);
    int big = fstat(fd, &st) == 0 && st.st_size > REGISTRY_COMPACT_BYTES;
    close(fd);
    if (big) {
        /* Many restarts: rewrite the record with only the newest procs. */
        registry_rec rec;
        int lock = registry_lock();
        if (lock >= 0 && registry_read(net, &rec) == 0)
            registry_write(&rec);
        registry_unlock(lock);
    }
    return w == n ? 0 : -1;
}

int registry_list(char (*names)[NAMING_NET_MAX + 1], int max)
{
    DIR *d = opendir(REGISTRY_DIR);
    struct dirent *e;
    int count = 0;
    char err[8];
    if (d == NULL)
        return errno == ENOENT ? 0 : -1;
    while ((e = readdir(d)) != NULL && count < max) {
        size_t n = strlen(e->d_name);
        if (n <= 4 || strcmp(e->d_name + n - 4, ".run") != 0 || n - 4 > NAMING_NET_MAX)
            continue;
        memcpy(names[count], e->d_name, n - 4);
        names[count][n - 4] = '\0';
        if (naming_net_valid(names[count], err, sizeof err) == 0)
            count++;
    }
    closedir(d);
    return count;
}

int registry_owner_state(const registry_rec *rec)
{
    if (rec->owner.pid == 0)
        return 2;
    return procstat_alive(rec->owner.pid, rec->owner.start);
}

void registry_self(registry_proc *owner)
{
    char state;
    owner->pid = getpid();
    if (procstat_read(owner->pid, &state, &owner->start) != 0)
        owner->start = 0;
}
