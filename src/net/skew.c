#include "skew.h"

void net_skew_init(struct net_skew *s)
{
    min_window_init(&s->local, 1024);
    min_window_init(&s->remote, 1024);
}

void net_skew_update(struct net_skew *s, uint64_t recv_time, uint64_t peer_send_time, int64_t peer_offset)
{
    min_window_add(&s->local, (int64_t)(recv_time - peer_send_time));
    if (peer_offset != INT64_MAX)
        min_window_add(&s->remote, peer_offset);
}

int64_t net_skew_local_min(const struct net_skew *s) { return min_window_get(&s->local); }

/* The minima come from peer timestamps and may be anything: saturate instead of overflowing. */
static int64_t add_saturating(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

static int known(const struct net_skew *s)
{
    return min_window_get(&s->local) != INT64_MAX && min_window_get(&s->remote) != INT64_MAX;
}

int64_t net_skew_offset(const struct net_skew *s)
{
    if (!known(s))
        return 0;
    int64_t remote = min_window_get(&s->remote);
    return add_saturating(min_window_get(&s->local), remote == INT64_MIN ? INT64_MAX : -remote) / 2;
}

uint64_t net_skew_rtt(const struct net_skew *s)
{
    if (!known(s))
        return 0;
    int64_t rtt = add_saturating(min_window_get(&s->local), min_window_get(&s->remote));
    return rtt > 0 ? (uint64_t)rtt : 0;
}
