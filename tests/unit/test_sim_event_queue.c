/* The simulator's event queue against a naive reference (an unsorted list scanned for the
 * earliest (time, push order)): random pushes and pops with many equal times, the queue
 * growing and shrinking, slots reused, and sequence numbers renumbered when they run out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/event_queue.h"
#include <stdlib.h>
#include <string.h>

struct ref_event {
    uint64_t t, order;
    unsigned kind, idx;
};

struct ref_queue {
    struct ref_event *v;
    size_t len;
    uint64_t pushes;
};

static uint64_t next_rand(uint64_t *rng)
{
    *rng = *rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return *rng >> 33;
}

static struct ref_event ref_pop(struct ref_queue *r)
{
    size_t m = 0;
    for (size_t i = 1; i < r->len; i++)
        if (r->v[i].t < r->v[m].t || (r->v[i].t == r->v[m].t && r->v[i].order < r->v[m].order))
            m = i;
    struct ref_event e = r->v[m];
    r->v[m] = r->v[--r->len];
    return e;
}

static void pop_and_compare(struct event_queue *q, struct ref_queue *r)
{
    struct sim_event e;
    struct ref_event x = ref_pop(r);
    assert_int_equal(event_queue_pop(q, &e), 0);
    assert_int_equal(e.t, x.t);
    assert_int_equal(e.kind, x.kind);
    assert_int_equal(e.idx, x.idx);
    assert_ptr_equal(e.p, (void *)(uintptr_t)(x.order + 1));
}

/* Pushes times from a narrow moving range (ties are common) and pops in bursts. */
static void run_random(uint64_t seed, uint64_t seq_limit, unsigned steps)
{
    struct event_queue q;
    struct ref_queue r = {.v = malloc(steps * sizeof *r.v)};
    assert_non_null(r.v);
    event_queue_init(&q);
    if (seq_limit)
        q.seq_limit = seq_limit;
    uint64_t rng = seed, now = 1000;
    for (unsigned step = 0; step < steps; step++) {
        unsigned pushes = (unsigned)(next_rand(&rng) % 4), pops = (unsigned)(next_rand(&rng) % 3);
        if (step > steps / 2) /* drain phase: shrink */
            pushes = pushes > 1 ? 1 : pushes;
        for (unsigned k = 0; k < pushes && r.len < steps; k++) {
            uint64_t t = now + next_rand(&rng) % 20;
            struct ref_event x = {t, r.pushes++, (unsigned)(next_rand(&rng) % 9), (unsigned)step};
            r.v[r.len++] = x;
            assert_int_equal(event_queue_push(&q, t, x.kind, x.idx, (void *)(uintptr_t)(x.order + 1)), 0);
        }
        for (unsigned k = 0; k < pops && r.len; k++)
            pop_and_compare(&q, &r);
        assert_int_equal(event_queue_len(&q), r.len);
        now += next_rand(&rng) % 3;
    }
    while (r.len)
        pop_and_compare(&q, &r);
    struct sim_event e;
    assert_int_equal(event_queue_pop(&q, &e), -1);
    event_queue_free(&q);
    free(r.v);
}

static void test_matches_reference(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 5; seed++)
        run_random(seed, 0, 20000);
}

/* With a tiny sequence space the queue renumbers every few dozen pushes; the order holds. */
static void test_renumbering_keeps_order(void **state)
{
    (void)state;
    run_random(7, 40, 5000);
    run_random(8, 1, 2000); /* renumbers before every push */
}

/* Many events pending at once (the heap grows past its first sizes), then all popped. */
static void test_growth(void **state)
{
    (void)state;
    struct event_queue q;
    event_queue_init(&q);
    for (unsigned i = 0; i < 100000; i++)
        assert_int_equal(event_queue_push(&q, 1000000 - i / 3, i % 7, i, NULL), 0);
    uint64_t last_t = 0;
    unsigned last_idx = 0;
    for (unsigned i = 0; i < 100000; i++) {
        struct sim_event e;
        assert_int_equal(event_queue_pop(&q, &e), 0);
        assert_true(e.t >= last_t);
        if (i && e.t == last_t)
            assert_true(e.idx > last_idx); /* equal times: in push order */
        last_t = e.t;
        last_idx = e.idx;
    }
    event_queue_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_reference),
        cmocka_unit_test(test_renumbering_keeps_order),
        cmocka_unit_test(test_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
