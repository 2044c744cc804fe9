/* A peer's session on an accepted connection: it outlives the connection while work that
 * refers to it is still out (a worker's tasks, the controller's requests), so that a late
 * answer finds conn == NULL and is dropped instead of touching a freed connection. Open
 * sessions are listed for shutdown. The work one peer may have outstanding is bounded: at
 * max_work its connection stops reading (backpressure) until half of it is answered. Loop
 * thread only. */
#ifndef CW_NET_SESSION_H
#define CW_NET_SESSION_H
#include "net/conn.h"

struct net_session {
    struct net_conn *conn; /* NULL once closed */
    unsigned refs;         /* 1 while open + one per piece of work that refers to it */
    unsigned max_work;     /* from the list at open; 0: unbounded */
    int backpressure_logged;
    struct net_session *prev, *next;
};

struct net_session_list {
    struct net_session *head; /* the most recently opened first */
    unsigned max_work;        /* work outstanding per session before its connection pauses; 0: none */
};

/* From on_connect: a session for c holding the connection's reference, first in the list
 * and set as c's data. NULL when out of memory (c is then closed). */
struct net_session *net_session_open(struct net_session_list *l, struct net_conn *c);
/* From on_close: leaves the list, conn = NULL, c's data cleared, the connection's reference
 * dropped (the session is freed unless work still holds it). */
void net_session_closed(struct net_session_list *l, struct net_session *s);
/* A piece of work for the session's peer begins (pauses its connection at max_work). */
void net_session_ref(struct net_session *s);
/* One ends (resumes reading at half of max_work); frees the session with its last reference. */
void net_session_unref(struct net_session *s);
/* Work outstanding for the peer. */
unsigned net_session_work(const struct net_session *s);
/* Closes every open session's connection (shutdown). */
void net_session_close_all(struct net_session_list *l, const char *reason);

#endif
