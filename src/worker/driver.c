#include "driver.h"
#include <stddef.h>

enum driver_verdict worker_driver_admit(struct worker_driver *d, struct net_session *s, uint64_t now)
{
    enum driver_verdict v;
    if (d->session == s)
        v = DRIVER_SAME;
    else if (!d->session)
        v = DRIVER_FIRST;
    else if (now >= d->last_heard && now - d->last_heard >= d->timeout)
        v = DRIVER_TAKEOVER;
    else
        return DRIVER_REFUSED;
    d->session = s;
    d->last_heard = now;
    return v;
}

void worker_driver_closed(struct worker_driver *d, const struct net_session *s)
{
    if (d->session == s)
        d->session = NULL;
}
