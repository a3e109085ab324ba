/* tmpdir.c: scratch directories for storage tests (tmpdir.h). */
#define _GNU_SOURCE
#include "tests/raft/tmpdir.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tmpdir_make(char *out, size_t cap, const char *prefix)
{
    const char *t = getenv("TMPDIR");
    int n = snprintf(out, cap, "%s/%sXXXXXX", t && *t ? t : "/tmp", prefix);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    return mkdtemp(out) ? 0 : -1;
}

void tmpdir_remove(const char *path)
{
    DIR *dp = opendir(path);
    if (dp) {
        struct dirent *de;
        char p[1024];
        while ((de = readdir(dp)) != NULL) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            snprintf(p, sizeof p, "%s/%s", path, de->d_name);
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                tmpdir_remove(p);
            else
                unlink(p);
        }
        closedir(dp);
    }
    rmdir(path);
}
