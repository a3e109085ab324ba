/* fuzz_parse.c: the small text and binary parsers of common/ on arbitrary
 * input: durations, sizes, rates, probabilities, integers (parse.h),
 * host:port (net.h) and encoded vector clocks (clock.h). Beyond "no crash":
 * a parsed duration formats and parses back to itself, a probability lies
 * in [0, 1], an integer respects its bounds, a decoded vector clock
 * re-encodes to the bytes it came from. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/net.h"
#include "common/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[256], err[160], text[64];
    size_t n = size < sizeof s - 1 ? size : sizeof s - 1;
    memcpy(s, data, n);
    s[n] = '\0';

    uint64_t u, back;
    if (parse_duration_ns(s, &u, err, sizeof err) == 0) {
        format_duration(u, text, sizeof text);
        if (parse_duration_ns(text, &back, err, sizeof err) != 0 || back != u)
            abort();
    }
    (void)parse_size(s, &u, err, sizeof err);
    double d;
    if (parse_probability(s, &d, err, sizeof err) == 0 && !(d >= 0.0 && d <= 1.0))
        abort();
    if (parse_rate(s, &d, err, sizeof err) == 0 && !(d >= 0.0))
        abort();
    int64_t i;
    if (parse_int64(s, -1000, 1000, &i, err, sizeof err) == 0 && (i < -1000 || i > 1000))
        abort();
    if (parse_uint64(s, 5, 10, &u, err, sizeof err) == 0 && (u < 5 || u > 10))
        abort();
    struct sockaddr_in a;
    (void)net_parse_addr(s, &a, err, sizeof err);

    vclock v;
    uint8_t enc[2 + VCLOCK_MAX * 8];
    int used = vclock_decode(&v, data, size);
    if (used >= 0) {
        if (vclock_encode(&v, enc, sizeof enc) != used || memcmp(enc, data, (size_t)used) != 0)
            abort();
        char js[VCLOCK_MAX * 32];
        if (vclock_format_json(&v, js, sizeof js) < 2)
            abort();
    }
    return 0;
}
