/* fuzz_resp.c: the RESP reader on arbitrary bytes, both as values
 * (resp_reader_next) and as commands (resp_reader_next_command). The
 * first byte seeds the chunk sizes the rest is fed in; the same input fed
 * all at once must give exactly the same values and the same final status
 * (a differential check of the resumable parser). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/prng.h"
#include "common/resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A digest of one value, compared between the two feeding strategies. */
static uint64_t digest(const resp_value *v, uint64_t h)
{
    h = h * 1099511628211ULL ^ (uint64_t)v->type;
    h = h * 1099511628211ULL ^ (uint64_t)v->integer;
    h = h * 1099511628211ULL ^ v->len;
    for (size_t i = 0; v->str && i < v->len; i++)
        h = h * 1099511628211ULL ^ (uint8_t)v->str[i];
    for (size_t i = 0; i < v->nelems; i++)
        h = digest(&v->elems[i], h);
    return h;
}

static uint64_t command_digest(const resp_command *c, uint64_t h)
{
    for (int i = 0; i < c->argc; i++) {
        h = h * 1099511628211ULL ^ c->argl[i];
        for (size_t j = 0; j < c->argl[i]; j++)
            h = h * 1099511628211ULL ^ (uint8_t)c->argv[i][j];
        if (c->argv[i][c->argl[i]] != '\0')
            abort();
    }
    return h;
}

/* Pulls everything available; returns the last status, accumulating a digest. */
static int drain(resp_reader *r, int commands, uint64_t *h, int *count)
{
    for (;;) {
        int rc;
        if (commands) {
            resp_command c;
            rc = resp_reader_next_command(r, &c);
            if (rc == RESP_GOT)
                *h = command_digest(&c, *h);
        } else {
            resp_value v;
            rc = resp_reader_next(r, &v);
            if (rc == RESP_GOT) {
                *h = digest(&v, *h);
                resp_value_free(&v);
            }
        }
        if (rc != RESP_GOT)
            return rc;
        ++*count;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    prng p;
    prng_seed(&p, data[0]);
    data++;
    size--;
    for (int commands = 0; commands < 2; commands++) {
        resp_reader *whole = resp_reader_new(), *chunked = resp_reader_new();
        uint64_t hw = 0, hc = 0;
        int nw = 0, nc = 0, rw, rc = RESP_NEED_MORE;
        resp_reader_feed(whole, data, size);
        rw = drain(whole, commands, &hw, &nw);
        for (size_t off = 0; off < size && rc >= 0;) {
            size_t chunk = 1 + prng_below(&p, 16);
            if (chunk > size - off)
                chunk = size - off;
            resp_reader_feed(chunked, data + off, chunk);
            off += chunk;
            rc = drain(chunked, commands, &hc, &nc);
        }
        if (size == 0)
            rc = drain(chunked, commands, &hc, &nc);
        if (rw != rc || nw != nc || hw != hc)
            abort();
        resp_reader_free(whole);
        resp_reader_free(chunked);
    }
    return 0;
}
