/* fuzz_proxy_ctl.c: libFuzzer target for faultproxy's control commands.
 * The input is split into arguments at spaces and newlines and executed
 * against a 4-node engine with one TCP listener; every command must answer
 * (a reply or an error) without crashing, and the engine must keep working
 * (one datagram is decided after each command). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static int forge(void *arg, int from, int to, const uint8_t *d, size_t len, char *err, size_t errlen)
{
    (void)arg; (void)from; (void)to; (void)d; (void)err; (void)errlen;
    return len > 0 ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const proxy_node nodes[4] = {{"n1", 1}, {"n2", 2}, {"n3", 3}, {"db", 40}};
    static const char names[1][PROXY_NAME_MAX] = {"t0"};
    char err[100];
    if (size > 4096)
        return 0;
    proxy_engine *e = proxy_engine_new(4, nodes, 1, err, sizeof err);
    proxy_tcp_rule tcp[1];
    memset(tcp, 0, sizeof tcp);
    proxy_ctl c = {.eng = e, .ntcp = 1, .tcp_names = names, .tcp_rules = tcp, .forge = forge};
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *argv[64];
    int argc = 0;
    buf out;
    buf_init(&out);
    /* One command per line. */
    for (char *line = text; line; ) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        argc = 0;
        for (char *p = line; *p && argc < 64; ) {
            while (*p == ' ')
                *p++ = '\0';
            if (!*p)
                break;
            argv[argc++] = p;
            while (*p && *p != ' ')
                p++;
        }
        buf_reset(&out);
        proxy_ctl_exec(&c, argc, argv, &out);
        if (buf_size(&out) == 0 || (buf_ptr(&out)[0] != '+' && buf_ptr(&out)[0] != '-' &&
                                    buf_ptr(&out)[0] != ':' && buf_ptr(&out)[0] != '$'))
            abort();
        uint8_t d[64] = {0x52, 0x4c, 1, 3};
        proxy_verdict v;
        proxy_decide(e, 0, 1, 3, d, sizeof d, 1000, &v);
        if (v.new_len > sizeof d || v.ncopies > PROXY_MAX_COPIES)
            abort();
        line = nl ? nl + 1 : NULL;
    }
    buf_free(&out);
    free(text);
    proxy_engine_free(e);
    return 0;
}
