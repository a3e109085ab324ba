/* fuzz_reader.c: one libFuzzer target per history reader (the format is
 * chosen at compile time with -DFUZZ_FORMAT). Whatever parses is also
 * checked (linearizable + sequential + eventual, small budget), written
 * back as history.jsonl, read again and compared, and drawn as HTML. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "checker/checker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    history h;
    history_init(&h);
    char err[512];
    if (history_parse(&h, FUZZ_FORMAT, (const char *)data, size, "fuzz", err, sizeof err) == 0) {
        check_options o;
        check_options_default(&o);
        o.checks = CHECK_LINEARIZABLE | CHECK_SEQUENTIAL | CHECK_EVENTUAL;
        o.budget_steps = 20000;
        o.memo_bytes = 16 << 20;
        json_t *r = check_history(&h, "fuzz", &o, err, sizeof err);
        FILE *null = fopen("/dev/null", "w");
        if (r) {
            check_print_text(null, &h, r);
            check_html_page(null, &h, r);
            json_decref(r);
        }
        fclose(null);
        char *out = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&out, &n);
        history_write_jsonl(f, &h);
        fclose(f);
        history b;
        history_init(&b);
        char why[128];
        if (history_parse(&b, "jsonl", out, n, "again", err, sizeof err) != 0 || !history_equal(&h, &b, why, sizeof why))
            abort(); /* what we write, we must read back identically */
        history_free(&b);
        free(out);
    }
    history_free(&h);
    return 0;
}
