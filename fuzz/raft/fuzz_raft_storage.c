/* fuzz_raft_storage.c: libFuzzer target for log recovery. The input is
 * written as the only log segment of a data directory, which is then
 * opened: any content must give a clean error or a recovered log (a torn
 * tail cut off), never a crash or an out-of-bounds read. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nodes/raft/storage.h"
#include "tests/raft/tmpdir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DIR_PREFIX "fuzz-raft-storage-"

static char dir[64];

static void cleanup(void)
{
    tmpdir_remove(dir);
}

/* A crash (the fuzzer's whole point) or a kill ends the process without
 * atexit handlers, and libFuzzer owns the crash and signal handlers, so
 * the directory of a dead run cannot remove itself: every new run removes
 * the directories whose owning process no longer exists. */
static void sweep_stale(void)
{
    DIR *d = opendir("/tmp");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, DIR_PREFIX, strlen(DIR_PREFIX)) != 0)
            continue;
        char *end;
        long pid = strtol(e->d_name + strlen(DIR_PREFIX), &end, 10);
        if (*end || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
            char path[300];
            snprintf(path, sizeof path, "/tmp/%s", e->d_name);
            tmpdir_remove(path);
        }
    }
    closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        sweep_stale();
        snprintf(dir, sizeof dir, "/tmp/" DIR_PREFIX "%d", (int)getpid());
        if (mkdir(dir, 0700) < 0 && access(dir, F_OK) < 0)
            abort();
        atexit(cleanup);
    }
    char path[128];
    snprintf(path, sizeof path, "%s/log-00000000000000000001", dir);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    raft_storage_info info;
    char err[256];
    raft_storage *s = raft_storage_open(dir, RAFT_FSYNC_NEVER, 0, &info, err, sizeof err);
    if (s) {
        for (size_t i = 0; i < info.boot.n_entries; i++)
            if (info.boot.entries[i].index != i + 1)
                abort(); /* recovered entries are consecutive from 1 */
        raft_storage_close(s);
    }
    unlink(path);
    return 0;
}
