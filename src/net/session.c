/* Refcounted sessions on accepted connections, in a doubly linked list of open ones. */
#include "session.h"
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

void net_session_ref(struct net_session *s) { s->refs++; }

void net_session_unref(struct net_session *s)
{
    if (--s->refs == 0)
        free(s);
}

void net_session_close_all(struct net_session_list *l, const char *reason)
{
    while (l->head) /* net_conn_close calls on_close at once, which takes the session off the list */
        net_conn_close(l->head->conn, reason);
}
