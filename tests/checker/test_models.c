/* test_models.c: the step function of each model, op by op. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "checker/model.h"
#include "hbuild.h"

static hist_op op(int f, int type, uint32_t arg, uint32_t arg2, uint32_t ret, int64_t process)
{
    hist_op o = {0};
    o.f = (uint8_t)f;
    o.type = (uint8_t)type;
    o.arg = arg;
    o.arg2 = arg2;
    o.ret = ret;
    o.process = process;
    return o;
}

static void test_register(void **state)
{
    (void)state;
    history h;
    history_init(&h);
    /* The model learns from the history which values can be seen (model.h,
     * model_seen): 1 is read and expected by a cas, 2 is read, 3 never. */
    hb_read(&h, 0, NULL, "1");
    hb_read(&h, 0, NULL, "2");
    hb_ev(&h, 1, HIST_INVOKE, "cas", NULL, "[1,2]");
    hb_ev(&h, 1, HIST_INFO, "cas", NULL, "[1,2]");
    hb_ev(&h, 2, HIST_INVOKE, "write", NULL, "3");
    hb_ev(&h, 2, HIST_INFO, "write", NULL, "3");
    uint32_t one = history_intern_int(&h, 1), two = history_intern_int(&h, 2);
    uint32_t three = history_intern_int(&h, 3);
    const model *m = model_find("register");
    assert_non_null(m);
    void *ctx = m->ctx_new(&h);
    uint64_t s = m->init(ctx), nx;
    assert_int_equal(s, HIST_NULL);
    hist_op r1 = op(HIST_F_READ, HIST_OK, 0, 0, one, 0);
    assert_false(m->step(ctx, s, &r1, &nx));
    hist_op w1 = op(HIST_F_WRITE, HIST_OK, one, 0, 0, 0);
    assert_true(m->step(ctx, s, &w1, &nx));
    assert_true(m->step(ctx, nx, &r1, &nx));
    assert_int_equal(nx, one);
    assert_false(m->accepts(HIST_F_CAS));
    assert_true(model_find("cas-register")->accepts(HIST_F_CAS));
    /* cas: ok needs the expected value; info applies it if present */
    const model *c = model_find("cas-register");
    hist_op cas = op(HIST_F_CAS, HIST_OK, one, two, 0, 0);
    assert_true(c->step(ctx, one, &cas, &nx));
    assert_int_equal(nx, two);
    assert_false(c->step(ctx, two, &cas, &nx));
    cas.type = HIST_INFO;
    assert_true(c->step(ctx, two, &cas, &nx));
    assert_int_equal(nx, two);
    /* Writing 3, which nothing reads, leads to the dead state from any
     * state; no read or cas fits it; a write of 1 is not a killer. */
    hist_op w3 = op(HIST_F_WRITE, HIST_INFO, three, 0, 0, 0);
    uint64_t dead, dead2;
    assert_true(m->step(ctx, one, &w3, &dead));
    assert_true(m->step(ctx, two, &w3, &dead2));
    assert_int_equal(dead, dead2);
    assert_true(dead != three && dead != one && dead != two && dead != HIST_NULL);
    assert_true(m->kills(ctx, &w3));
    assert_false(m->kills(ctx, &w1));
    assert_false(m->step(ctx, dead, &r1, &nx));
    cas.type = HIST_OK;
    assert_false(c->step(ctx, dead, &cas, &nx));
    assert_true(m->step(ctx, dead, &w1, &nx));
    assert_int_equal(nx, one);
    m->ctx_free(ctx);
    assert_null(model_find("nope"));
    history_free(&h);
}

/* kv: an integer no read returns and no cas expects is dead too, unless an
 * append could make it a prefix of a string a read returns. */
static void test_kv_integers(void **state)
{
    (void)state;
    history h;
    history_init(&h);
    hb_read(&h, 0, NULL, "1");
    hb_read(&h, 0, NULL, "\"4x\"");
    uint32_t one = history_intern_int(&h, 1), three = history_intern_int(&h, 3);
    uint32_t four = history_intern_int(&h, 4);
    const model *m = model_find("kv");
    void *ctx = m->ctx_new(&h);
    uint64_t dead, nx;
    hist_op w3 = op(HIST_F_WRITE, HIST_INFO, three, 0, 0, 0), w1 = op(HIST_F_WRITE, HIST_OK, one, 0, 0, 0);
    hist_op w4 = op(HIST_F_WRITE, HIST_INFO, four, 0, 0, 0);
    assert_true(m->step(ctx, HIST_NULL, &w3, &dead));
    assert_true(dead != three);
    assert_true(m->kills(ctx, &w3));
    assert_true(m->step(ctx, HIST_NULL, &w1, &nx));
    assert_int_equal(nx, one);
    assert_false(m->kills(ctx, &w1));
    /* "4" + "x" is read: 4 stays itself */
    assert_true(m->step(ctx, HIST_NULL, &w4, &nx));
    assert_int_equal(nx, four);
    assert_false(m->kills(ctx, &w4));
    m->ctx_free(ctx);
    history_free(&h);
}

static void test_kv_append(void **state)
{
    (void)state;
    history h;
    history_init(&h);
    h.initial = history_intern_string(&h, "", 0);
    uint32_t a = history_intern_string(&h, "ab", 2), b = history_intern_string(&h, "c", 1);
    uint32_t abc = history_intern_string(&h, "abc", 3), abd = history_intern_string(&h, "abd", 3);
    uint32_t cab = history_intern_string(&h, "cab", 3), empty = h.initial;
    /* The model learns from the history which strings reads can see
     * (model_kv.c, dead strings): the reads below are in it. */
    const char *seen[] = {"\"abc\"", "\"abd\"", "\"cab\"", "\"ab\""};
    for (int i = 0; i < 4; i++)
        hb_read(&h, 0, NULL, seen[i]);
    const model *m = model_find("kv");
    void *ctx = m->ctx_new(&h);
    uint64_t s = m->init(ctx), s1, s2, nx;
    hist_op rd = op(HIST_F_READ, HIST_OK, 0, 0, empty, 0);
    assert_true(m->step(ctx, s, &rd, &nx));
    hist_op ap = op(HIST_F_APPEND, HIST_OK, a, 0, 0, 0), bp = op(HIST_F_APPEND, HIST_OK, b, 0, 0, 0);
    assert_true(m->step(ctx, s, &ap, &s1));
    assert_true(m->step(ctx, s1, &bp, &s2));
    rd.ret = abc;
    assert_true(m->step(ctx, s2, &rd, &nx));
    rd.ret = abd; /* same length, different bytes */
    assert_false(m->step(ctx, s2, &rd, &nx));
    rd.ret = cab;
    assert_false(m->step(ctx, s2, &rd, &nx));
    /* the same append twice from the same state: the same handle */
    uint64_t again;
    assert_true(m->step(ctx, s1, &bp, &again));
    assert_int_equal(again, s2);
    /* put then read; delete reads null */
    hist_op put = op(HIST_F_WRITE, HIST_OK, abc, 0, 0, 0);
    assert_true(m->step(ctx, s2, &put, &nx));
    rd.ret = abc;
    assert_true(m->step(ctx, nx, &rd, &nx));
    hist_op del = op(HIST_F_DELETE, HIST_OK, 0, 0, 0, 0);
    assert_true(m->step(ctx, nx, &del, &nx));
    rd.ret = HIST_NULL;
    assert_true(m->step(ctx, nx, &rd, &nx));
    /* cas on strings compares contents */
    hist_op cas = op(HIST_F_CAS, HIST_OK, abc, a, 0, 0);
    assert_true(m->step(ctx, s2, &cas, &nx));
    rd.ret = a;
    assert_true(m->step(ctx, nx, &rd, &nx));
    /* a string no read sees ("abcc") is dead: appends keep it dead, no read
     * sees it, a put brings back a live one */
    assert_true(m->step(ctx, s2, &bp, &s1));
    assert_true(m->step(ctx, s1, &bp, &nx));
    assert_int_equal(nx, s1);
    hist_op cas2 = op(HIST_F_CAS, HIST_OK, abc, a, 0, 0);
    assert_false(m->step(ctx, s1, &cas2, &nx));
    rd.ret = empty;
    assert_false(m->step(ctx, s1, &rd, &nx));
    assert_true(m->step(ctx, s1, &put, &nx));
    rd.ret = abc;
    assert_true(m->step(ctx, nx, &rd, &nx));
    m->ctx_free(ctx);
    history_free(&h);
}

static void test_mutex(void **state)
{
    (void)state;
    history h;
    history_init(&h);
    const model *m = model_find("mutex");
    void *ctx = m->ctx_new(&h);
    uint64_t s = m->init(ctx), nx, held;
    hist_op acq1 = op(HIST_F_ACQUIRE, HIST_OK, 0, 0, 0, 1), acq2 = op(HIST_F_ACQUIRE, HIST_OK, 0, 0, 0, 2);
    hist_op rel1 = op(HIST_F_RELEASE, HIST_OK, 0, 0, 0, 1), rel2 = op(HIST_F_RELEASE, HIST_OK, 0, 0, 0, 2);
    assert_false(m->step(ctx, s, &rel1, &nx));
    assert_true(m->step(ctx, s, &acq1, &held));
    assert_false(m->step(ctx, held, &acq2, &nx));
    assert_false(m->step(ctx, held, &rel2, &nx));
    assert_true(m->step(ctx, held, &rel1, &nx));
    assert_int_equal(nx, s);
    assert_false(m->accepts(HIST_F_READ));
    m->ctx_free(ctx);
    history_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register),
        cmocka_unit_test(test_kv_integers),
        cmocka_unit_test(test_kv_append),
        cmocka_unit_test(test_mutex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
