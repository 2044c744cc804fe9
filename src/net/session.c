/* Refcounted sessions on accepted connections, in a doubly linked list of open ones. */
#include "session.h"
#include "common/log.h"
#include <stdlib.h>

struct net_session *net_session_open(struct net_session_list *l, struct net_conn *c)
{
    struct net_session *s = calloc(1, sizeof *s);
    if (!s) {
        net_conn_close(c, "out of memory");
        return NULL;
    }
    s->conn = c;
    s->refs = 1;
    s->max_work = l->max_work;
    s->next = l->head;
    if (l->head)
        l->head->prev = s;
    l->head = s;
    net_conn_set_data(c, s);
    return s;
}

void net_session_closed(struct net_session_list *l, struct net_session *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        l->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    net_conn_set_data(s->conn, NULL);
    s->conn = NULL;
    net_session_unref(s);
}

unsigned net_session_work(const struct net_session *s) { return s->refs - (s->conn ? 1 : 0); }

void net_session_ref(struct net_session *s)
{
    s->refs++;
    if (!s->max_work || !s->conn || net_session_work(s) < s->max_work)
        return;
    if (!s->backpressure_logged)
        log_info("%s has %u requests outstanding (the limit): not reading from it until half are answered",
                 net_conn_peer(s->conn), net_session_work(s));
    s->backpressure_logged = 1;
    net_conn_pause(s->conn, NET_PAUSE_OWNER);
}

void net_session_unref(struct net_session *s)
{
    if (--s->refs == 0) {
        free(s);
        return;
    }
    if (s->conn && (net_conn_paused(s->conn) & NET_PAUSE_OWNER) && net_session_work(s) <= s->max_work / 2)
        net_conn_resume(s->conn, NET_PAUSE_OWNER);
}

void net_session_close_all(struct net_session_list *l, const char *reason)
{
    while (l->head) /* net_conn_close calls on_close at once, which takes the session off the list */
        net_conn_close(l->head->conn, reason);
}
