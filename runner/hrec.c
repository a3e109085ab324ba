/* hrec.c: the history recorder (see hrec.h). One mutex serialises index,
 * time and the write, which is what makes the file's order the real order;
 * client ops are short, so contention is small next to network round trips. */
#define _GNU_SOURCE
#include "hrec.h"

#include <stdlib.h>
#include <string.h>

#include "common/clock.h"

int hrec_open(hrec *h, const char *path, uint64_t t0_mono)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    h->t0_mono = t0_mono;
    h->f = fopen(path, "w");
    return h->f ? 0 : -1;
}

void hrec_close(hrec *h)
{
    if (h->f)
        fclose(h->f);
    h->f = NULL;
    free(h->ops);
    free(h->bands);
    pthread_mutex_destroy(&h->mu);
    h->ops = NULL, h->bands = NULL;
}

int64_t hrec_now(const hrec *h) { return (int64_t)(mono_now_ns() - h->t0_mono); }

static const char *const type_names[] = {"invoke", "ok", "fail", "info"};

/* Caller holds mu. Fills index and time, writes the line, frees o. */
static int64_t emit(hrec *h, json_t *o)
{
    int64_t t = hrec_now(h);
    json_t *line = json_object();
    json_object_set_new(line, "index", json_integer(h->next_index++));
    json_object_set_new(line, "time", json_integer(t));
    json_object_update(line, o);
    json_decref(o);
    if (h->f) {
        char *s = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s) {
            fputs(s, h->f);
            fputc('\n', h->f);
            free(s);
        }
    }
    json_decref(line);
    return t;
}

size_t hrec_invoke(hrec *h, int process, const char *f, const char *key, json_t *value,
                   const char *consistency, int final)
{
    json_t *o = json_object();
    json_object_set_new(o, "process", json_integer(process));
    json_object_set_new(o, "type", json_string("invoke"));
    json_object_set_new(o, "f", json_string(f));
    if (key)
        json_object_set_new(o, "key", json_string(key));
    json_object_set_new(o, "value", value ? value : json_null());
    if (consistency)
        json_object_set_new(o, "consistency", json_string(consistency));
    if (final)
        json_object_set_new(o, "final", json_true());
    pthread_mutex_lock(&h->mu);
    if (h->nops == h->capops) {
        h->capops = h->capops ? h->capops * 2 : 4096;
        h->ops = realloc(h->ops, h->capops * sizeof *h->ops);
        if (!h->ops)
            abort();
    }
    size_t id = h->nops++;
    hrec_op *op = &h->ops[id];
    memset(op, 0, sizeof *op);
    op->process = process;
    snprintf(op->f, sizeof op->f, "%s", f);
    snprintf(op->key, sizeof op->key, "%s", key ? key : "");
    op->t1 = -1;
    op->ival = INT64_MIN;
    op->final = final;
    op->t0 = emit(h, o);
    pthread_mutex_unlock(&h->mu);
    return id;
}

void hrec_complete(hrec *h, size_t id, int type, json_t *value, const char *node,
                   const char *error, int64_t written)
{
    pthread_mutex_lock(&h->mu);
    hrec_op *op = &h->ops[id];
    json_t *o = json_object();
    json_object_set_new(o, "process", json_integer(op->process));
    json_object_set_new(o, "type", json_string(type_names[type]));
    json_object_set_new(o, "f", json_string(op->f));
    if (op->key[0])
        json_object_set_new(o, "key", json_string(op->key));
    json_object_set_new(o, "value", value ? value : json_null());
    if (node)
        json_object_set_new(o, "node", json_string(node));
    if (error)
        json_object_set_new(o, "error", json_string(error));
    if (op->final)
        json_object_set_new(o, "final", json_true());
    op->t1 = emit(h, o);
    op->type = (uint8_t)type;
    op->ival = written;
    if (type == HREC_OK)
        h->n_ok++;
    else if (type == HREC_FAIL)
        h->n_fail++;
    else
        h->n_info++;
    pthread_mutex_unlock(&h->mu);
}

static void nemesis_event(hrec *h, const char *f, json_t *value, int64_t *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "process", json_string("nemesis"));
    json_object_set_new(o, "type", json_string("info"));
    json_object_set_new(o, "f", json_string(f));
    json_object_set_new(o, "value", value ? value : json_null());
    int64_t tt = emit(h, o);
    if (t)
        *t = tt;
}

size_t hrec_fault_start(hrec *h, const char *kind, const char *text, const char *f, json_t *value)
{
    pthread_mutex_lock(&h->mu);
    if (h->nbands == h->capbands) {
        h->capbands = h->capbands ? h->capbands * 2 : 64;
        h->bands = realloc(h->bands, h->capbands * sizeof *h->bands);
        if (!h->bands)
            abort();
    }
    size_t id = h->nbands++;
    hrec_band *b = &h->bands[id];
    memset(b, 0, sizeof *b);
    snprintf(b->kind, sizeof b->kind, "%s", kind);
    snprintf(b->text, sizeof b->text, "%s", text);
    b->t1 = -1;
    nemesis_event(h, f, value, &b->t0);
    pthread_mutex_unlock(&h->mu);
    return id;
}

void hrec_fault_end(hrec *h, size_t band, const char *f, json_t *value)
{
    pthread_mutex_lock(&h->mu);
    nemesis_event(h, f, value, &h->bands[band].t1);
    pthread_mutex_unlock(&h->mu);
}

void hrec_nemesis(hrec *h, const char *f, json_t *value)
{
    pthread_mutex_lock(&h->mu);
    nemesis_event(h, f, value, NULL);
    pthread_mutex_unlock(&h->mu);
}
