/* report_data.h: a run's history read back for drawing (internal to the
 * report): client operations with their times, nemesis bands, and the
 * history line -> time map used to place the checker's failing window. */
#ifndef RIFTLAB_REPORT_DATA_H
#define RIFTLAB_REPORT_DATA_H

#include <stddef.h>
#include <stdint.h>

typedef struct rop {
    int64_t process;
    char f[12];
    int64_t t0, t1;            /* t1 = -1: never completed */
    int type;                  /* 1 ok, 2 fail, 3 info (as hrec) */
    int final;
    uint32_t main_line;        /* its invocation's line in the non-final client history */
} rop;

typedef struct rband {
    char kind[16];
    char text[128];
    int64_t t0, t1;            /* t1 = -1: until the end */
} rband;

typedef struct rdata {
    rop *ops;
    size_t nops;
    rband *bands;
    size_t nbands;
    int64_t *line_time;        /* main history line (1-based) -> time */
    size_t nlines;
    int64_t t_end;             /* last event time */
    int64_t max_process;
} rdata;

int report_data_load(const char *history_path, rdata *d);
void report_data_free(rdata *d);

#endif
