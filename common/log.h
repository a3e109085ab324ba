/* log.h: leveled logging to stderr (or a file), one line per message:
 *     2026-11-26T16:59:01.123Z INFO  raft-node n1: became leader term=3
 * The component name is set once at start-up (log_init). */
#ifndef RIFTLAB_LOG_H
#define RIFTLAB_LOG_H

#include <stdio.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR, LOG_LEVEL_OFF };

void log_init(const char *component, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_file(FILE *f);                       /* default stderr */
/* Parses "debug|info|warn|error|off"; returns -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define LOG_DEBUG(...) do { if (log_get_level() <= LOG_LEVEL_DEBUG) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__); } while (0)
#define LOG_INFO(...)  log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define LOG_WARN(...)  log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define LOG_ERROR(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

#endif
