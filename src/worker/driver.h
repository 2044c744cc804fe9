/* Who may drive this worker: one controller connection at a time. The first connection to
 * send an action becomes the driver; while it is open and has been heard from within the
 * timeout, every other connection's actions are refused. Another controller takes over when
 * the driver's connection closed or stayed silent past the timeout (a controller restarted
 * elsewhere, a rejoin after a partition; our controller sends GetWorkerState when idle, so a
 * live one never looks silent). Pure: the caller passes `now`. */
#ifndef CW_WORKER_DRIVER_H
#define CW_WORKER_DRIVER_H
#include <stdint.h>

struct net_session;

struct worker_driver {
    struct net_session *session; /* NULL: nobody drives the worker */
    uint64_t last_heard;         /* ns, when its last message arrived */
    uint64_t timeout;            /* ns of silence after which another may take over */
};

enum driver_verdict {
    DRIVER_SAME,     /* the driver itself */
    DRIVER_FIRST,    /* nobody drove the worker: s does now */
    DRIVER_TAKEOVER, /* s replaces a driver silent past the timeout (the caller closes the old one) */
    DRIVER_REFUSED,  /* another connection drives the worker */
};

/* An action arrived from s at now: s drives the worker afterwards unless refused. */
enum driver_verdict worker_driver_admit(struct worker_driver *d, struct net_session *s, uint64_t now);
/* s's connection closed: if it drove the worker, nobody does now. */
void worker_driver_closed(struct worker_driver *d, const struct net_session *s);

#endif
