/* errf.h: the one-line error message convention of riftlab's parsers and
 * loaders: functions return -1 and describe why in a caller-supplied buffer
 * (char *err, size_t errlen), which may be NULL. */
#ifndef RIFTLAB_ERRF_H
#define RIFTLAB_ERRF_H

#include <stddef.h>

/* Formats into err (when err != NULL and errlen > 0); always returns -1, so
 * `return errf(err, errlen, "bad %s", x);` reads naturally. */
int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
