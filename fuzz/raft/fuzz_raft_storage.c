/* fuzz_raft_storage.c: libFuzzer target for log recovery. The input is
 * written as the only log segment of a data directory, which is then
 * opened: any content must give a clean error or a recovered log (a torn
 * tail cut off), never a crash or an out-of-bounds read. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nodes/raft/storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void cleanup(void)
{
    rmdir(dir); /* the segment is unlinked after every input */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/fuzz-raft-storage-%d", (int)getpid());
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
