/* fuzz_raft_msg.c: libFuzzer target for the Raft message decoder and for
 * the core's handling of whatever decodes.
 *
 * Input: a sequence of records  type u8 | from u8 | len u16 (big endian) |
 * body. Each body must decode to an error or to a message that re-encodes
 * to the same bytes; valid messages are fed to a 3-node cluster member
 * (with ticks in between), which must never crash or misbehave under ASan. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nodes/raft/raft.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    raft_config c;
    raft_config_default(&c);
    c.id = 2;
    c.n_nodes = 3;
    c.nodes[0] = 1;
    c.nodes[1] = 2;
    c.nodes[2] = 3;
    c.seed = 1;
    c.lease_ns = 0;
    raft *r = raft_new(&c, NULL, 0, NULL, 0);
    if (!r)
        abort();
    int64_t now = 0;
    static uint8_t again[70000];
    while (size >= 4) {
        uint8_t type = data[0];
        raft_id from = (raft_id)(data[1] % 4); /* 0 is invalid on purpose */
        size_t len = (size_t)data[2] << 8 | data[3];
        data += 4;
        size -= 4;
        if (len > size)
            len = size;
        raft_msg m;
        if (raft_msg_decode(type, from, 2, data, len, &m) == RAFT_OK) {
            int n = raft_msg_encode(&m, again, sizeof again);
            if (n != (int)len || memcmp(again, data, len) != 0)
                abort(); /* decode and encode must agree exactly */
            raft_recv(r, &m);
            raft_msg_free(&m);
        }
        data += len;
        size -= len;
        now += 30 * 1000000LL;
        raft_tick(r, now);
        const raft_out *o = raft_ready(r);
        for (size_t i = 0; i < o->n_msgs; i++)
            if (raft_msg_encode(&o->msgs[i], again, sizeof again) < 0)
                abort(); /* whatever the core sends must encode */
        if (o->n_append) /* pretend storage is instant */
            raft_persisted_log(r, o->append[o->n_append - 1].index, o->append[o->n_append - 1].term);
        raft_term t = o->term;
        raft_id v = o->vote;
        bool ps = o->persist_state;
        raft_done(r);
        if (ps)
            raft_persisted_state(r, t, v);
    }
    raft_free(r);
    return 0;
}
