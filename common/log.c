/* log.c: leveled logging (log.h). One fprintf per message so lines from
 * several threads do not interleave (stdio locks the stream per call). */
#define _GNU_SOURCE
#include "log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

static char log_component[64] = "riftlab";
static enum log_level log_level_cur = LOG_LEVEL_INFO;
static FILE *log_out; /* NULL means stderr (stderr is not a constant initialiser) */

static const char *const log_names[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};

void log_init(const char *component, enum log_level level)
{
    snprintf(log_component, sizeof log_component, "%s", component ? component : "riftlab");
    log_level_cur = level;
}

void log_set_level(enum log_level level) { log_level_cur = level; }
enum log_level log_get_level(void) { return log_level_cur; }
void log_set_file(FILE *f) { log_out = f; }

int log_level_parse(const char *s, enum log_level *out)
{
    static const char *const lower[] = {"debug", "info", "warn", "error", "off"};
    for (int i = 0; i < 5; i++) {
        if (strcmp(s, lower[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < log_level_cur || level >= LOG_LEVEL_OFF)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    FILE *f = log_out ? log_out : stderr;
    fprintf(f, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: %s\n",
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
            tm.tm_sec, ts.tv_nsec / 1000000, log_names[level], log_component, msg);
    fflush(f);
}
