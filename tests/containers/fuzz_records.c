/* fuzz_records.c: libFuzzer target for the two text parsers of containers/:
 * run records (registry_parse) and /proc/<pid>/stat lines (procstat_parse).
 * Neither may crash or read out of bounds on any input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "containers/procstat.h"
#include "containers/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static registry_rec rec;
    char state;
    unsigned long long start;
    char text[64 + REGISTRY_MAX_PROCS * 40];
    registry_rec again;
    memcpy(rec.net, "rl1", 4);
    if (registry_parse((const char *)data, size, &rec) == 0) {
        /* What parses must format and parse back to the same record. */
        int n = registry_format(&rec, text, sizeof text);
        memcpy(again.net, rec.net, sizeof again.net);
        if (n < 0 || registry_parse(text, (size_t)n, &again) != 0 || memcmp(&again, &rec, sizeof rec) != 0)
            __builtin_trap();
    }
    procstat_parse((const char *)data, size, &state, &start);
    return 0;
}
