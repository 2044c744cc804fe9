/* Clock-skew estimate for one connection, as in the original: sliding-window minima over the
 * last 1024 messages of our one-way offset (receive-start - peer send time) and of the peer's
 * reported offset. offset = (local - remote) / 2 maps peer time to ours; rtt = local + remote. */
#ifndef CW_SKEW_H
#define CW_SKEW_H
#include "common/window.h"
#include <stdint.h>

struct net_skew {
    struct min_window local;
    struct min_window remote;
};

void net_skew_init(struct net_skew *s);
void net_skew_update(struct net_skew *s, uint64_t recv_time, uint64_t peer_send_time, int64_t peer_offset);
/* What we put in field 6 of outgoing pre-headers. INT64_MAX until we have received anything. */
int64_t net_skew_local_min(const struct net_skew *s);
/* Our clock minus the peer's clock (add to a peer timestamp to get ours); 0 until known. */
int64_t net_skew_offset(const struct net_skew *s);
uint64_t net_skew_rtt(const struct net_skew *s);

#endif
