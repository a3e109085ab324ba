/* hrec.h: the run's history recorder. Client threads and the nemesis append
 * events concurrently; each event gets the next index and a time (ns since
 * the run began, monotonic) under one lock, so history.jsonl is in the
 * order events happened (DESIGN.md "History format"). A compact copy of
 * every operation and nemesis band is kept in memory for progress, the
 * report and the lost-update check. */
#ifndef RIFTLAB_HREC_H
#define RIFTLAB_HREC_H

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

enum hrec_type { HREC_INVOKE, HREC_OK, HREC_FAIL, HREC_INFO };

/* One finished (or unfinished) client operation, for plots. */
typedef struct hrec_op {
    int process;
    char f[12];
    char key[24];
    int64_t t0, t1;           /* invoke and completion time; t1 = -1 while pending */
    uint8_t type;             /* completion: HREC_OK / FAIL / INFO */
    int64_t ival;             /* written value (lost-update check), INT64_MIN if none */
    int final;                /* a final read */
} hrec_op;

/* A nemesis fault as a band on the timeline: [t0, t1), t1 = -1 while active. */
typedef struct hrec_band {
    char kind[16];            /* partition, kill, pause, ... */
    char text[96];            /* what exactly ("n1 | n2 n3 n4 n5") */
    int64_t t0, t1;
} hrec_band;

typedef struct hrec {
    pthread_mutex_t mu;
    FILE *f;
    uint64_t t0_mono;
    int64_t next_index;
    hrec_op *ops;
    size_t nops, capops;
    hrec_band *bands;
    size_t nbands, capbands;
    uint64_t n_ok, n_fail, n_info;
} hrec;

int hrec_open(hrec *h, const char *path, uint64_t t0_mono);
void hrec_close(hrec *h);
int64_t hrec_now(const hrec *h);     /* ns since the run began */

/* Client operation: returns an op handle for hrec_complete. value is stolen
 * (may be NULL = JSON null). consistency may be NULL. */
size_t hrec_invoke(hrec *h, int process, const char *f, const char *key, json_t *value,
                   const char *consistency, int final);
/* Completion of op: type OK/FAIL/INFO; value stolen (NULL = null); node/error may be NULL. */
void hrec_complete(hrec *h, size_t op, int type, json_t *value, const char *node,
                   const char *error, int64_t written);

/* Nemesis: a band starts (returns its handle) or ends; each writes an info
 * event from process "nemesis" with f and value (stolen). */
size_t hrec_fault_start(hrec *h, const char *kind, const char *text, const char *f, json_t *value);
void hrec_fault_end(hrec *h, size_t band, const char *f, json_t *value);
/* A nemesis event that is not a band (heal, restart, resume). */
void hrec_nemesis(hrec *h, const char *f, json_t *value);

#endif
