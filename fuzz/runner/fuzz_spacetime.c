/* fuzz_spacetime.c: libFuzzer target for the trace reader behind the
 * space-time diagrams: the input is split at form feeds into up to four
 * node traces (n1..n4), then ordered, exported for ShiViz and drawn; no
 * trace content may crash riftlab export or riftlab report. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "runner/export_shiviz.h"
#include "runner/report_spacetime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_trace st;
    st_init(&st);
    const char *p = (const char *)data, *end = p + size;
    int64_t starts[2] = {0, 5000};
    for (int lane = 0; lane < 4 && p <= end; lane++) {
        const char *ff = memchr(p, '\f', (size_t)(end - p));
        const char *le = ff ? ff : end;
        char name[8];
        snprintf(name, sizeof name, "n%d", lane + 1);
        st_add_trace(&st, name, p, (size_t)(le - p), starts, lane < 2 ? lane : 2);
        if (!ff)
            break;
        p = ff + 1;
    }
    st_build(&st);
    FILE *f = fopen("/dev/null", "w");
    if (f) {
        shiviz_write(f, &st, "fuzz", 0, INT64_MAX);
        st_focus fo = {.t0 = 100, .t1 = 3000, .lane_mask = 2, .center = -1};
        st_svg_write(f, &st, &fo, 40);
        st_focus_of(&st, NULL, -1, -1, &fo);   /* around the last election */
        st_svg_write(f, &st, &fo, 40);
        fo.center = -1;                        /* the last events */
        st_svg_write(f, &st, &fo, 40);
        fclose(f);
    }
    st_free(&st);
    return 0;
}
