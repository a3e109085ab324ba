/* procstat.c: state and start time of a process from /proc (see procstat.h). */
#define _GNU_SOURCE
#include "containers/procstat.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int procstat_parse(const char *text, size_t len, char *state, unsigned long long *start)
{
    /* The command name (field 2) may hold spaces and parentheses, so fields
     * are counted from the last ')'. State is field 3, starttime field 22. */
    const char *end = text + len, *p = NULL;
    for (const char *q = text; q < end; q++)
        if (*q == ')')
            p = q;
    if (p == NULL || p + 2 >= end || p[1] != ' ')
        return -1;
    *state = p[2];
    p += 2;
    for (int field = 3; field < 22; field++) {
        while (p < end && *p != ' ')
            p++;
        if (p >= end)
            return -1;
        p++;
    }
    unsigned long long v = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 20) {
        v = v * 10 + (unsigned long long)(*p - '0');
        p++;
        digits++;
    }
    if (digits == 0)
        return -1;
    *start = v;
    return 0;
}

int procstat_read(pid_t pid, char *state, unsigned long long *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    return procstat_parse(buf, (size_t)n, state, start);
}

int procstat_alive(pid_t pid, unsigned long long start)
{
    char state;
    unsigned long long s;
    if (pid <= 0 || procstat_read(pid, &state, &s) != 0)
        return 0;
    if (state == 'Z' || state == 'X')
        return 0;
    return start == 0 || s == start;
}
