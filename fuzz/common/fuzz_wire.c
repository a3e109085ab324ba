/* fuzz_wire.c: wire_decode/wire_peek on arbitrary datagrams, with and
 * without a key. Properties beyond "no crash, no out-of-bounds read":
 * peek and keyless decode agree; a datagram that verifies re-encodes to the
 * same bytes; and the codec round-trips the input used as a body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire.h"

static uint8_t out[WIRE_MAX_DATAGRAM];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    wire_key key;
    memset(key.bytes, 1, sizeof key.bytes);
    wire_header h, h2;
    const uint8_t *body = NULL;

    int peek = wire_peek(data, size, &h2);
    int plain = wire_decode(data, size, &h, &body, NULL, 0);
    if (peek != plain)
        abort();
    if (plain == WIRE_OK && (body != data + WIRE_HEADER_LEN || h.body_len > size))
        abort();
    (void)wire_decode(data, size, &h, &body, NULL, 0x01020304);

    if (wire_decode(data, size, &h, &body, &key, 0) == WIRE_OK) {
        /* Only a correctly tagged datagram verifies; re-encoding it must
         * reproduce it exactly. */
        int n = wire_encode(out, sizeof out, &h, body, h.body_len, &key);
        if (n != (int)size || memcmp(out, data, size) != 0)
            abort();
    }

    /* The input as a body: encode, then decode back to the same body. */
    wire_header e = {.type = size ? data[0] : 0, .src = 1, .dst = 2, .cluster = 9, .seq = size};
    int n = wire_encode(out, sizeof out, &e, data, size, size % 2 ? &key : NULL);
    if (size > WIRE_MAX_BODY) {
        if (n != WIRE_EOVERSIZE)
            abort();
        return 0;
    }
    if (n < 0 || wire_decode(out, (size_t)n, &h, &body, size % 2 ? &key : NULL, 9) != WIRE_OK ||
        h.body_len != size || (size && memcmp(body, data, size) != 0))
        abort();
    return 0;
}
