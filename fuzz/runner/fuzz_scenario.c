/* fuzz_scenario.c: libFuzzer target for the scenario loader (YAML parsing
 * and every validation path); nothing a file says may crash riftlab. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runner/scenario_load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scenario s;
    scn_errors e;
    if (scenario_load_text("fuzz.yaml", (const char *)data, size, &s, &e) == 0) {
        FILE *f = fopen("/dev/null", "w");
        if (f) {
            scenario_write_yaml(&s, f);
            fclose(f);
        }
        scenario_free(&s);
    } else
        scn_errors_free(&e);
    return 0;
}
