/* Shared memory layouts of real backends: weights packed into whole cache pages (aligned,
 * never straddling a page) and the activation arena (first fit over live ranges). */
#include "model/act_arena.h"
#include "model/weights_pages.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

static void test_pack_aligns_and_breaks_pages(void **state)
{
    (void)state;
    /* page 100, align 16: 40 -> [0,40), 0 skipped, 50 -> [48,98), 30 -> next page [0,30), 100 -> page 2 */
    uint64_t size[5] = {40, 0, 50, 30, 100};
    struct weights_slot slot[5];
    memset(slot, 0xff, sizeof slot);
    struct weights_pages wp;
    uint32_t big = 99;
    assert_int_equal(weights_pages_pack(size, 5, 100, 16, slot, &wp, &big), 0);
    assert_int_equal(slot[0].page, 0);
    assert_int_equal(slot[0].offset, 0);
    assert_int_equal(slot[1].page, 0xffffffffu); /* untouched */
    assert_int_equal(slot[2].page, 0);
    assert_int_equal(slot[2].offset, 48);
    assert_int_equal(slot[3].page, 1);
    assert_int_equal(slot[3].offset, 0);
    assert_int_equal(slot[4].page, 2);
    assert_int_equal(slot[4].offset, 0);
    assert_int_equal(wp.n_pages, 3);
    assert_int_equal(wp.last_page_used, 100);
}

static void test_pack_refuses_item_larger_than_page(void **state)
{
    (void)state;
    uint64_t size[3] = {10, 101, 10};
    struct weights_slot slot[3];
    struct weights_pages wp;
    uint32_t big = 99;
    assert_int_equal(weights_pages_pack(size, 3, 100, 4, slot, &wp, &big), -1);
    assert_int_equal(big, 1);
}

static void test_pack_empty_model_has_one_page(void **state)
{
    (void)state;
    uint64_t size[1] = {0};
    struct weights_slot slot[1];
    struct weights_pages wp;
    uint32_t big;
    assert_int_equal(weights_pages_pack(size, 1, 100, 4, slot, &wp, &big), 0);
    assert_int_equal(wp.n_pages, 1);
    assert_int_equal(wp.last_page_used, 0);
}

/* x -> a -> b -> c (chain, each read once), plus a weight w read by op 0. */
static void chain_plan(struct plan *p, struct plan_tensor *t, struct plan_op *op, int32_t *in, int32_t *out)
{
    memset(t, 0, 5 * sizeof *t);
    memset(op, 0, 3 * sizeof *op);
    for (int i = 0; i < 5; i++)
        t[i] = (struct plan_tensor){"t", i == 4 ? PLAN_WEIGHT : PLAN_ACT, 1, {1}, 0};
    for (int i = 0; i < 3; i++) {
        op[i].type = OP_ACT;
        op[i].n_in = 1;
        op[i].in[0] = i;
        op[i].out = i + 1;
    }
    op[0].n_in = 2;
    op[0].in[1] = 4;
    *in = 0;
    *out = 3;
    *p = (struct plan){5, 3, 1, 1, t, op, in, out, 4, NULL};
}

static void test_arena_reuses_dead_tensors(void **state)
{
    (void)state;
    struct plan p;
    struct plan_tensor t[5];
    struct plan_op op[3];
    int32_t in, out;
    chain_plan(&p, t, op, &in, &out);
    uint64_t size[5] = {100, 100, 100, 100, 999}, off[5] = {0}, total = 0;
    assert_int_equal(act_arena_plan(&p, size, 64, off, &total), 0);
    /* x at 0; a at 128 (x still read by op 0); x dies -> b at 0; a dies -> c at 128 */
    assert_int_equal(off[0], 0);
    assert_int_equal(off[1], 128);
    assert_int_equal(off[2], 0);
    assert_int_equal(off[3], 128);
    assert_int_equal(total, 256);
}

static void test_arena_keeps_graph_output_alive(void **state)
{
    (void)state;
    struct plan p;
    struct plan_tensor t[5];
    struct plan_op op[3];
    int32_t in, out;
    chain_plan(&p, t, op, &in, &out);
    out = 1; /* a is the graph output (also read by op 1): it must never be overwritten */
    uint64_t size[5] = {64, 64, 64, 64, 0}, off[5] = {0}, total = 0;
    assert_int_equal(act_arena_plan(&p, size, 64, off, &total), 0);
    assert_true(off[2] != off[1] && off[3] != off[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack_aligns_and_breaks_pages),
        cmocka_unit_test(test_pack_refuses_item_larger_than_page),
        cmocka_unit_test(test_pack_empty_model_has_one_page),
        cmocka_unit_test(test_arena_reuses_dead_tensors),
        cmocka_unit_test(test_arena_keeps_graph_output_alive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
