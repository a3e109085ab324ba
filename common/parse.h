/* parse.h: parsers for the quantities users type in scenarios and flags.
 *
 *   durations  "250us" "1.5s" "2m" "10ms" "0"   (units: ns us ms s m; a bare 0 is allowed)
 *   sizes      "512" "4k" "1.5MiB" "64KB"      (k/K/KB/KiB = 1024, M/MB/MiB, G/GB/GiB)
 *   rates      "500/s" "20/ms" "1.5k/s"        (events per second)
 *   probability "0.3" "30%"                     (in [0, 1])
 *   integers   with range checks
 *
 * Each returns 0 on success or -1 with a one-line reason in err
 * ("unknown unit 'sec' in '5sec' (use ns, us, ms, s or m)"). */
#ifndef RIFTLAB_PARSE_H
#define RIFTLAB_PARSE_H

#include <stddef.h>
#include <stdint.h>

int parse_duration_ns(const char *s, uint64_t *out, char *err, size_t errlen);
int parse_size(const char *s, uint64_t *out, char *err, size_t errlen);
int parse_rate(const char *s, double *per_second, char *err, size_t errlen);
int parse_probability(const char *s, double *out, char *err, size_t errlen);
int parse_int64(const char *s, int64_t min, int64_t max, int64_t *out, char *err, size_t errlen);
int parse_uint64(const char *s, uint64_t min, uint64_t max, uint64_t *out, char *err, size_t errlen);
/* Formats ns as the shortest exact text ("1.5s", "250us"). */
void format_duration(uint64_t ns, char *out, size_t cap);

#endif
