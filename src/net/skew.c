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

static int known(const struct net_skew *s)
{
    return min_window_get(&s->local) != INT64_MAX && min_window_get(&s->remote) != INT64_MAX;
}

int64_t net_skew_offset(const struct net_skew *s)
{
    if (!known(s))
        return 0;
    return (min_window_get(&s->local) - min_window_get(&s->remote)) / 2;
}

uint64_t net_skew_rtt(const struct net_skew *s)
{
    if (!known(s))
        return 0;
    int64_t rtt = min_window_get(&s->local) + min_window_get(&s->remote);
    return rtt > 0 ? (uint64_t)rtt : 0;
}
