/* The INFER5 scheduler's indices, each driven by long random sequences of operations and
 * checked after every step against a naive reference (plain arrays and scans): the indexed heap
 * (idheap), the hierarchical bit set (idset), the GPUs a tick must visit (gpu_wake), the GPUs
 * a load pass offers (load_slots) and the load tracker's per-GPU load reports and its O(1)
 * "could this GPU take a model" test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "controller/infer5/gpu_wake.h"
#include "controller/infer5/idheap.h"
#include "controller/infer5/idset.h"
#include "controller/infer5/load_slots.h"
#include "controller/infer5/load_tracker.h"
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng_state >> 33;
}

static unsigned below(unsigned n) { return (unsigned)(rnd() % n); }

/* ---- idheap ---- */

#define H_ITEMS 300

struct h_item {
    unsigned pos;
    int in;
    struct idheap_key key;
};

static void test_idheap_random(void **state)
{
    (void)state;
    rng_state = 1;
    static struct h_item items[H_ITEMS];
    struct idheap h;
    idheap_init(&h);
    for (unsigned i = 0; i < H_ITEMS; i++)
        items[i] = (struct h_item){.pos = IDHEAP_NONE};
    for (unsigned step = 0; step < 60000; step++) {
        struct h_item *it = &items[below(H_ITEMS)];
        struct idheap_key k = {below(50), below(4)}; /* many ties on hi */
        unsigned op = below(3);
        if (!it->in && op != 2) {
            it->key = k;
            idheap_push(&h, k, it, &it->pos);
            it->in = 1;
        } else if (it->in && op == 0) {
            it->key = k;
            idheap_update(&h, it->pos, k);
        } else if (it->in) {
            assert_ptr_equal(idheap_remove(&h, it->pos), it);
            assert_int_equal(it->pos, IDHEAP_NONE);
            it->in = 0;
        }
        /* reference: the least key by a scan; every position field is current */
        const struct h_item *best = NULL;
        unsigned n = 0;
        for (unsigned i = 0; i < H_ITEMS; i++) {
            if (!items[i].in)
                continue;
            n++;
            assert_ptr_equal(h.n[items[i].pos].item, &items[i]);
            if (!best || idheap_key_less(items[i].key, best->key))
                best = &items[i];
        }
        assert_int_equal(h.len, n);
        if (best) {
            struct idheap_key top = idheap_top_key(&h);
            assert_true(!idheap_key_less(top, best->key) && !idheap_key_less(best->key, top));
        }
    }
    idheap_free(&h);
}

/* ---- idset ---- */

static void idset_check(const struct idset *s, const unsigned char *ref, unsigned n)
{
    unsigned count = 0;
    for (unsigned i = 0; i < n; i++) {
        count += ref[i];
        assert_int_equal(idset_has(s, i), ref[i]);
    }
    assert_int_equal(s->count, count);
    for (unsigned probe = 0; probe < 20; probe++) {
        unsigned from = below(n + 2);
        long want = -1;
        for (unsigned i = from; i < n; i++)
            if (ref[i]) {
                want = (long)i;
                break;
            }
        assert_int_equal(idset_next(s, from), want);
    }
}

static void test_idset_random(void **state)
{
    (void)state;
    /* sizes around the word and level boundaries */
    static const unsigned sizes[] = {1, 2, 63, 64, 65, 130, 4095, 4096, 4097, 300000};
    for (unsigned z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        unsigned n = sizes[z];
        rng_state = n;
        unsigned char *ref = calloc(n, 1);
        struct idset s;
        idset_init(&s, n);
        idset_check(&s, ref, n);
        for (unsigned step = 0; step < 20000; step++) {
            /* sparse sets reach the higher levels; dense ones fill whole words */
            unsigned i = step % 2 ? below(n) : below(n < 200 ? n : 200) * (n / 200 ? n / 200 : 1);
            if (below(2)) {
                idset_add(&s, i);
                ref[i] = 1;
            } else {
                idset_remove(&s, i);
                ref[i] = 0;
            }
            if (step % (n < 5000 ? 1 : 512) == 0)
                idset_check(&s, ref, n);
        }
        idset_check(&s, ref, n);
        idset_free(&s);
        free(ref);
    }
}

/* ---- gpu_wake ---- */

#define W_GPUS 150
#define NEVER UINT64_MAX

/* Reference: a tick visits, in index order, every GPU marked or due, and a GPU marked during
 * the tick only if the tick has not reached it yet. */
struct wake_ref {
    unsigned char marked[W_GPUS];
    uint64_t wake[W_GPUS];
};

static uint64_t ref_next(const struct wake_ref *r)
{
    uint64_t m = NEVER;
    for (unsigned g = 0; g < W_GPUS; g++)
        if (r->wake[g] < m)
            m = r->wake[g];
    return m;
}

static void ref_ran(struct wake_ref *r, struct gpu_wake *w, unsigned g)
{
    uint64_t t = below(4) ? NEVER : below(1000);
    r->marked[g] = 0;
    r->wake[g] = t;
    gpu_wake_ran(w, g, t);
}

static void ref_mark(struct wake_ref *r, struct gpu_wake *w, unsigned g)
{
    r->marked[g] = 1;
    gpu_wake_mark(w, g);
}

static void ref_tick(struct wake_ref *r, struct gpu_wake *w, uint64_t now)
{
    for (unsigned g = 0; g < W_GPUS; g++)
        if (r->wake[g] <= now)
            r->marked[g] = 1;
    gpu_wake_begin(w, now);
    for (unsigned next = 0;;) {
        unsigned want = next;
        while (want < W_GPUS && !r->marked[want])
            want++;
        int g = gpu_wake_step(w);
        if (want == W_GPUS) {
            assert_int_equal(g, -1);
            return;
        }
        assert_int_equal(g, (int)want);
        /* the GPU runs: it marks others (before and after it, itself too), then settles */
        for (unsigned k = below(4); k > 0; k--)
            ref_mark(r, w, below(W_GPUS));
        ref_ran(r, w, want);
        if (below(8) == 0)
            ref_mark(r, w, want); /* wants the next tick as well */
        next = want + 1;
    }
}

static void test_gpu_wake_random(void **state)
{
    (void)state;
    rng_state = 7;
    struct wake_ref r;
    memset(r.marked, 0, sizeof r.marked);
    for (unsigned g = 0; g < W_GPUS; g++)
        r.wake[g] = NEVER;
    struct gpu_wake w;
    gpu_wake_init(&w, W_GPUS);
    uint64_t now = 0;
    for (unsigned step = 0; step < 20000; step++) {
        unsigned op = below(10);
        if (op < 4)
            ref_mark(&r, &w, below(W_GPUS));
        else if (op < 8)
            ref_ran(&r, &w, below(W_GPUS)); /* a GPU runs outside a tick (request, result) */
        else
            ref_tick(&r, &w, now += below(40));
        assert_int_equal(gpu_wake_next(&w), ref_next(&r));
        if (now > 900)
            now = 0; /* wake times come back into range */
    }
    gpu_wake_free(&w);
}

/* ---- load_slots ---- */

#define L_GPUS 60

struct slots_ref {
    int open[L_GPUS];
    int offerable[L_GPUS]; /* to be offered by the next pass without having opened anew */
    int offered[L_GPUS];   /* during a pass: in its order */
    int passing;
    uint64_t ready_at[L_GPUS], load[L_GPUS];
    uint64_t now, last_now; /* time only moves forward */
};

static void ref_open(struct slots_ref *r, struct load_slots *ls, unsigned g)
{
    r->open[g] = below(4) != 0;
    r->ready_at[g] = r->now - (r->now < 100 ? r->now : 100) + below(200);
    load_slots_set_open(ls, g, r->open[g], r->ready_at[g]);
    /* a GPU in a pass's order is re-filed when it ends; one opening during a pass is new to the next */
    if (!r->passing || r->offered[g])
        r->offerable[g] = r->open[g] && r->ready_at[g] <= r->last_now;
    else
        r->offerable[g] = 0;
}

static void ref_load(struct slots_ref *r, struct load_slots *ls, unsigned g)
{
    r->load[g] = below(20);
    load_slots_set_load(ls, g, r->load[g]);
}

static void check_next_ready(const struct slots_ref *r, const struct load_slots *ls)
{
    uint64_t m = LOAD_SLOTS_NEVER;
    for (unsigned g = 0; g < L_GPUS; g++)
        if (r->open[g] && r->ready_at[g] < m)
            m = r->ready_at[g];
    uint64_t got = load_slots_next_ready(ls);
    assert_true(got == m || (got == 0 && m <= r->last_now));
    /* what a pass would offer anew: open GPUs the last pass could not offer yet */
    uint64_t fresh = LOAD_SLOTS_NEVER;
    for (unsigned g = 0; g < L_GPUS; g++)
        if (r->open[g] && !r->offerable[g] && r->ready_at[g] < fresh)
            fresh = r->ready_at[g];
    assert_int_equal(load_slots_next_new(ls), fresh);
}

/* Reference pass: the offerable GPUs as they were at its start, by (load, index). */
static void ref_pass(struct slots_ref *r, struct load_slots *ls)
{
    uint64_t now = r->now;
    unsigned order[L_GPUS], n = 0;
    for (unsigned g = 0; g < L_GPUS; g++) {
        r->offered[g] = r->offerable[g] = r->open[g] && r->ready_at[g] <= now;
        if (!r->offered[g])
            continue;
        unsigned j = n++;
        while (j > 0 &&
               (r->load[order[j - 1]] > r->load[g] || (r->load[order[j - 1]] == r->load[g] && order[j - 1] > g))) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = g;
    }
    assert_int_equal(load_slots_begin_pass(ls, now), n);
    r->last_now = now;
    r->passing = 1;
    unsigned stop = below(3) ? n : below(n + 1); /* a pass may end early */
    for (unsigned i = 0; i < stop; i++) {
        assert_int_equal(load_slots_next(ls), (int)order[i]);
        if (below(2))
            ref_open(r, ls, order[i]); /* the GPU offered took a load (or not) */
        for (unsigned k = below(3); k > 0; k--)
            below(2) ? ref_load(r, ls, below(L_GPUS)) : ref_open(r, ls, below(L_GPUS));
    }
    if (stop == n)
        assert_int_equal(load_slots_next(ls), -1);
    load_slots_end_pass(ls);
    r->passing = 0;
}

static void test_load_slots_random(void **state)
{
    (void)state;
    rng_state = 11;
    struct slots_ref r;
    memset(&r, 0, sizeof r);
    struct load_slots ls;
    load_slots_init(&ls, L_GPUS);
    for (unsigned step = 0; step < 30000; step++) {
        unsigned op = below(10);
        r.now += below(10);
        if (op < 4)
            ref_load(&r, &ls, below(L_GPUS));
        else if (op < 7)
            ref_open(&r, &ls, below(L_GPUS));
        else
            ref_pass(&r, &ls);
        check_next_ready(&r, &ls);
    }
    load_slots_free(&ls);
}

/* ---- the load tracker's reports ---- */

#define T_MODELS 40
#define T_GPUS 12

static uint64_t watched[T_GPUS];

static void watch(void *data, unsigned gpu, uint64_t load)
{
    (void)data;
    watched[gpu] = load;
}

static int fits_any(void *ctx, unsigned model)
{
    (void)ctx, (void)model;
    return 1;
}

static void test_load_tracker_reports_every_load(void **state)
{
    (void)state;
    rng_state = 5;
    memset(watched, 0, sizeof watched);
    struct load_tracker *lt = load_tracker_create(T_MODELS, T_GPUS, 1000);
    load_tracker_watch(lt, watch, NULL);
    uint64_t demand[T_MODELS] = {0};
    for (unsigned step = 0; step < 50000; step++) {
        unsigned m = below(T_MODELS), g = below(T_GPUS), op = below(4);
        if (op == 0) {
            uint64_t d = below(300) + 1;
            demand[m] += d;
            load_tracker_add_demand(lt, m, d);
        } else if (op == 1 && demand[m]) {
            uint64_t d = below((unsigned)demand[m]) + 1;
            demand[m] -= d;
            load_tracker_remove_demand(lt, m, d);
        } else if (op == 2) {
            load_tracker_add_copy(lt, m, g);
        } else {
            load_tracker_remove_copy(lt, m, g);
        }
        uint64_t total = 0, held = 0;
        for (unsigned k = 0; k < T_GPUS; k++) {
            assert_int_equal(watched[k], load_tracker_gpu_load(lt, k));
            total += watched[k];
        }
        for (unsigned k = 0; k < T_MODELS; k++)
            held += load_tracker_copies(lt, k) ? demand[k] : 0;
        assert_int_equal(total, held); /* each held model's demand is spread over its holders */
        /* may_load is a necessary condition: where it says no, the search finds nothing */
        for (unsigned k = 0; k < T_GPUS; k++)
            if (!load_tracker_may_load(lt, k))
                assert_int_equal(load_tracker_next_load(lt, k, fits_any, NULL), -1);
    }
    load_tracker_destroy(lt);
}

/* The per-GPU count of held candidates against a recount, and the searches it shortens against
 * what any search may return: a candidate the GPU does not hold, without a copy unless the GPU
 * has spare capacity; none at all when the GPU holds every candidate. */
static void check_held_candidates(struct load_tracker *lt)
{
    for (unsigned g = 0; g < T_GPUS; g++) {
        unsigned held = 0, n = 0;
        for (unsigned m = 0; m < T_MODELS; m++) {
            n += (unsigned)load_tracker_is_candidate(lt, m);
            held += load_tracker_is_candidate(lt, m) && load_tracker_holds(lt, m, g);
        }
        assert_int_equal(load_tracker_held_candidates(lt, g), held);
        int id = load_tracker_next_load(lt, g, fits_any, NULL);
        if (held == n)
            assert_int_equal(id, -1);
        if (id < 0)
            continue;
        assert_true(load_tracker_is_candidate(lt, (unsigned)id));
        assert_false(load_tracker_holds(lt, (unsigned)id, g));
        assert_true(load_tracker_copies(lt, (unsigned)id) == 0 || load_tracker_gpu_spare(lt, g));
    }
}

static void test_load_tracker_counts_held_candidates(void **state)
{
    (void)state;
    rng_state = 11;
    struct load_tracker *lt = load_tracker_create(T_MODELS, T_GPUS, 1000);
    uint64_t demand[T_MODELS] = {0};
    for (unsigned step = 0; step < 20000; step++) {
        unsigned m = below(T_MODELS), g = below(T_GPUS), op = below(5);
        if (op <= 1) {
            uint64_t d = below(600) + 1;
            demand[m] += d;
            load_tracker_add_demand(lt, m, d);
        } else if (op == 2 && demand[m]) {
            uint64_t d = below((unsigned)demand[m]) + 1;
            demand[m] -= d;
            load_tracker_remove_demand(lt, m, d);
        } else if (op == 3) {
            load_tracker_add_copy(lt, m, g);
        } else {
            load_tracker_remove_copy(lt, m, g);
        }
        check_held_candidates(lt);
    }
    load_tracker_destroy(lt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idheap_random),
        cmocka_unit_test(test_idset_random),
        cmocka_unit_test(test_gpu_wake_random),
        cmocka_unit_test(test_load_slots_random),
        cmocka_unit_test(test_load_tracker_reports_every_load),
        cmocka_unit_test(test_load_tracker_counts_held_candidates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
