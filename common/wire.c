/* wire.c: encode/decode of the node-to-node datagram header (wire.h) and
 * its HMAC-SHA256 tag; key files. */
#define _GNU_SOURCE
#include "wire.h"

#include "errf.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

const char *wire_strerror(int err)
{
    switch (err) {
    case WIRE_OK: return "ok";
    case WIRE_ESHORT: return "short datagram";
    case WIRE_EOVERSIZE: return "oversized datagram";
    case WIRE_EMAGIC: return "bad magic";
    case WIRE_EVERSION: return "unknown version";
    case WIRE_ELENGTH: return "length mismatch";
    case WIRE_ENOTAG: return "missing tag";
    case WIRE_EBADTAG: return "bad tag";
    case WIRE_ECLUSTER: return "wrong cluster";
    case WIRE_ENOSPACE: return "no space";
    default: return "unknown wire error";
    }
}

enum wire_reject wire_reject_of(int wire_rc)
{
    switch (wire_rc) {
    case WIRE_OK: return WIRE_REJECT_NONE;
    case WIRE_EBADTAG: return WIRE_REJECT_BAD_TAG;
    case WIRE_ENOTAG: return WIRE_REJECT_MISSING_TAG;
    case WIRE_ECLUSTER: return WIRE_REJECT_WRONG_CLUSTER;
    default: return WIRE_REJECT_MALFORMED;
    }
}

const char *wire_reject_name(int reason)
{
    static const char *const names[WIRE_REJECT_COUNT] = {
        "none", "bad-tag", "missing-tag", "malformed", "wrong-cluster", "misdirected"};
    return reason >= 0 && reason < WIRE_REJECT_COUNT ? names[reason] : "unknown";
}

int wire_rejects_json(const wire_rejects *r, char *out, size_t cap)
{
    return snprintf(out, cap,
                    "{\"bad_tag\":%" PRIu64 ",\"missing_tag\":%" PRIu64 ",\"malformed\":%" PRIu64
                    ",\"wrong_cluster\":%" PRIu64 ",\"misdirected\":%" PRIu64 "}",
                    r->by[WIRE_REJECT_BAD_TAG], r->by[WIRE_REJECT_MISSING_TAG],
                    r->by[WIRE_REJECT_MALFORMED], r->by[WIRE_REJECT_WRONG_CLUSTER],
                    r->by[WIRE_REJECT_MISDIRECTED]);
}

/* Big-endian stores/loads. */
static uint8_t *put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; return p + 2; }
static uint8_t *put32(uint8_t *p, uint32_t v) { p = put16(p, (uint16_t)(v >> 16)); return put16(p, (uint16_t)v); }
static uint8_t *put64(uint8_t *p, uint64_t v) { p = put32(p, (uint32_t)(v >> 32)); return put32(p, (uint32_t)v); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }

/* HMAC contexts are cached per thread, keyed by the last key used: setting
 * up an HMAC (fetching the algorithm, hashing the padded key) costs about
 * three times the MAC of a small datagram itself, and a node uses one key
 * for its whole life. A thread's cache is freed when the thread exits. */
struct mac_cache {
    EVP_MAC_CTX *ctx;
    int keyed;
    uint8_t key[WIRE_KEY_LEN];
};

static pthread_once_t mac_once = PTHREAD_ONCE_INIT;
static pthread_key_t mac_tls;
static EVP_MAC *mac_alg;

static void mac_cache_free(void *p)
{
    struct mac_cache *m = p;
    EVP_MAC_CTX_free(m->ctx);
    OPENSSL_cleanse(m->key, sizeof m->key);
    free(m);
}

static void mac_setup(void)
{
    mac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (pthread_key_create(&mac_tls, mac_cache_free) != 0) {
        EVP_MAC_free(mac_alg);
        mac_alg = NULL;
    }
}

/* This thread's HMAC context, ready for `key`, or NULL. */
static EVP_MAC_CTX *mac_for(const wire_key *key)
{
    pthread_once(&mac_once, mac_setup);
    if (!mac_alg)
        return NULL;
    struct mac_cache *m = pthread_getspecific(mac_tls);
    if (!m) {
        m = calloc(1, sizeof *m);
        if (!m || !(m->ctx = EVP_MAC_CTX_new(mac_alg)) || pthread_setspecific(mac_tls, m) != 0) {
            if (m)
                EVP_MAC_CTX_free(m->ctx);
            free(m);
            return NULL;
        }
    }
    if (m->keyed && CRYPTO_memcmp(m->key, key->bytes, WIRE_KEY_LEN) == 0)
        return EVP_MAC_init(m->ctx, NULL, 0, NULL) == 1 ? m->ctx : NULL; /* same key */
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end()};
    m->keyed = EVP_MAC_init(m->ctx, key->bytes, WIRE_KEY_LEN, params) == 1;
    memcpy(m->key, key->bytes, WIRE_KEY_LEN);
    return m->keyed ? m->ctx : NULL;
}

/* tag = first WIRE_TAG_LEN bytes of HMAC-SHA256(key, data). */
static void wire_tag(const wire_key *key, const uint8_t *data, size_t n, uint8_t tag[WIRE_TAG_LEN])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    size_t mdlen = 0;
    unsigned umdlen = 0;
    EVP_MAC_CTX *ctx = mac_for(key);
    if (ctx && EVP_MAC_update(ctx, data, n) == 1 && EVP_MAC_final(ctx, md, &mdlen, sizeof md) == 1 &&
        mdlen >= WIRE_TAG_LEN) {
        memcpy(tag, md, WIRE_TAG_LEN);
    } else if (HMAC(EVP_sha256(), key->bytes, WIRE_KEY_LEN, data, n, md, &umdlen) && umdlen >= WIRE_TAG_LEN) {
        memcpy(tag, md, WIRE_TAG_LEN); /* the slow, stateless way */
    } else {
        /* Cannot happen with a working libcrypto; a zero tag will simply not verify. */
        memset(tag, 0, WIRE_TAG_LEN);
    }
}

int wire_encode(uint8_t *out, size_t cap, const wire_header *h,
                const void *body, size_t body_len, const wire_key *key)
{
    if (body_len > WIRE_MAX_BODY)
        return WIRE_EOVERSIZE;
    size_t total = WIRE_HEADER_LEN + body_len + (key ? WIRE_TAG_LEN : 0);
    if (total > cap)
        return WIRE_ENOSPACE;
    uint16_t flags = key ? (uint16_t)(h->flags | WIRE_FLAG_AUTH) : (uint16_t)(h->flags & ~WIRE_FLAG_AUTH);
    uint8_t *p = out;
    p = put16(p, WIRE_MAGIC);
    *p++ = WIRE_VERSION;
    *p++ = h->type;
    p = put16(p, flags);
    p = put16(p, h->src);
    p = put16(p, h->dst);
    p = put32(p, h->cluster);
    p = put64(p, h->seq);
    p = put64(p, h->lamport);
    p = put32(p, (uint32_t)body_len);
    if (body_len)
        memmove(p, body, body_len); /* memmove: callers may build the body in place */
    if (key)
        wire_tag(key, out, WIRE_HEADER_LEN + body_len, out + WIRE_HEADER_LEN + body_len);
    return (int)total;
}

int wire_peek(const uint8_t *buf, size_t len, wire_header *h)
{
    if (len < WIRE_HEADER_LEN)
        return WIRE_ESHORT;
    if (len > WIRE_MAX_DATAGRAM)
        return WIRE_EOVERSIZE;
    h->magic = get16(buf);
    h->version = buf[2];
    h->type = buf[3];
    h->flags = get16(buf + 4);
    h->src = get16(buf + 6);
    h->dst = get16(buf + 8);
    h->cluster = get32(buf + 10);
    h->seq = get64(buf + 14);
    h->lamport = get64(buf + 22);
    h->body_len = get32(buf + 30);
    if (h->magic != WIRE_MAGIC)
        return WIRE_EMAGIC;
    if (h->version != WIRE_VERSION)
        return WIRE_EVERSION;
    if (h->body_len > WIRE_MAX_BODY)
        return WIRE_EOVERSIZE;
    size_t want = WIRE_HEADER_LEN + (size_t)h->body_len + ((h->flags & WIRE_FLAG_AUTH) ? WIRE_TAG_LEN : 0);
    if (want != len)
        return WIRE_ELENGTH;
    return WIRE_OK;
}

int wire_decode(const uint8_t *buf, size_t len, wire_header *h,
                const uint8_t **body, const wire_key *key, uint32_t expect_cluster)
{
    int rc = wire_peek(buf, len, h);
    if (rc != WIRE_OK)
        return rc;
    size_t signed_len = WIRE_HEADER_LEN + h->body_len;
    if (key) {
        if (!(h->flags & WIRE_FLAG_AUTH))
            return WIRE_ENOTAG;
        uint8_t tag[WIRE_TAG_LEN];
        wire_tag(key, buf, signed_len, tag);
        if (CRYPTO_memcmp(tag, buf + signed_len, WIRE_TAG_LEN) != 0)
            return WIRE_EBADTAG;
    }
    /* Checked after the tag: an unauthenticated cluster id proves nothing. */
    if (expect_cluster != 0 && h->cluster != expect_cluster)
        return WIRE_ECLUSTER;
    if (body)
        *body = buf + WIRE_HEADER_LEN;
    return WIRE_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Key file contents: exactly 32 raw bytes, or 64 hex digits and an
 * optional line ending. */
static int key_parse(const uint8_t *d, size_t n, wire_key *key)
{
    if (n == WIRE_KEY_LEN) {
        memcpy(key->bytes, d, WIRE_KEY_LEN);
        return 0;
    }
    while (n > 2 * WIRE_KEY_LEN && (d[n - 1] == '\n' || d[n - 1] == '\r'))
        n--;
    if (n != 2 * WIRE_KEY_LEN)
        return -1;
    for (size_t i = 0; i < WIRE_KEY_LEN; i++) {
        int hi = hexval((char)d[2 * i]), lo = hexval((char)d[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        key->bytes[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

int wire_key_load(const char *path, wire_key *key, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errf(err, errlen, "cannot open key file %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return errf(err, errlen, "key file %s is not a regular file", path);
    }
    if (st.st_mode & 077) {
        close(fd);
        return errf(err, errlen, "key file %s has mode %04o: it must not be accessible by group or others (chmod 600)",
                        path, (unsigned)(st.st_mode & 07777));
    }
    uint8_t data[2 * WIRE_KEY_LEN + 8];
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, data + n, sizeof data - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            close(fd);
            return errf(err, errlen, "cannot read key file %s: %s", path, strerror(errno));
        }
        if (r == 0 || (n += (size_t)r) == sizeof data)
            break;
    }
    close(fd);
    int rc = key_parse(data, n, key);
    OPENSSL_cleanse(data, sizeof data);
    if (rc < 0)
        return errf(err, errlen, "key file %s must hold 32 raw bytes or 64 hex digits", path);
    return 0;
}

int wire_key_generate(const char *path, wire_key *key, char *err, size_t errlen)
{
    if (RAND_bytes(key->bytes, WIRE_KEY_LEN) != 1)
        return errf(err, errlen, "no randomness for a key");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return errf(err, errlen, "cannot create key file %s: %s", path, strerror(errno));
    char hex[2 * WIRE_KEY_LEN + 1];
    for (size_t i = 0; i < WIRE_KEY_LEN; i++) {
        static const char digits[] = "0123456789abcdef";
        hex[2 * i] = digits[key->bytes[i] >> 4];
        hex[2 * i + 1] = digits[key->bytes[i] & 15];
    }
    hex[2 * WIRE_KEY_LEN] = '\n';
    ssize_t w = write(fd, hex, sizeof hex);
    OPENSSL_cleanse(hex, sizeof hex);
    if (close(fd) < 0 || w != (ssize_t)sizeof hex) {
        unlink(path);
        return errf(err, errlen, "cannot write key file %s", path);
    }
    return 0;
}
