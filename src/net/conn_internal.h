/* The connection and server structs, shared by conn.c (a connection's I/O, limits and
 * handshake) and server.c (listening, accepting, the connection limit). Not a public header. */
#ifndef CW_NET_CONN_INTERNAL_H
#define CW_NET_CONN_INTERNAL_H
#include "common/log.h"
#include "net/auth.h"
#include "net/conn.h"
#include "net/skew.h"
#include "proto/frame.h"
#include <sys/socket.h>

struct out_seg;

struct net_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;  /* the next deadline: handshake, frame, idle, or a deferred close */
    uv_idle_t flusher; /* active while frames are staged: they leave at the next loop turn */
    unsigned handles_open;
    struct net_handlers h;
    void *user;
    char peer[128];
    struct frame_reader reader;
    uint64_t msg_start_time; /* when the first bytes of the current message arrived (ns) */
    uint64_t frame_start_ms; /* the same, on the loop's clock, for the frame timeout */
    uint64_t last_recv_ms;   /* the idle timeout counts from the later of these two */
    uint64_t idle_spared_ms; /* when a busy connection was last spared */
    uint64_t opened_ms;      /* the socket came up (handshake deadline) */
    uint64_t flush_start_ms;
    int closing;
    int accepted;  /* by a server (else dialed) */
    int connected; /* the socket is up */
    int announced; /* on_connect was called: on_close will be */
    int ready;     /* announced with status 0 (and authenticated): the owner may send */
    int reading, started;
    unsigned paused;         /* NET_PAUSE_* */
    char pending_close[160]; /* set: close at the next loop turn (a limit hit inside a send) */
    int flushing;            /* close_after_flush in progress */
    char flush_reason[160];
    struct net_auth auth;
    uv_connect_t connect_req;
    uv_shutdown_t shutdown_req;
    struct net_skew skew;
    struct net_stats stats;
    unsigned writes_pending; /* frames staged or in a write request, not yet taken by the kernel */
    /* staged frames (conn.c): heads and copied bodies in `stage`, in order with outside bodies */
    uint8_t *stage;
    size_t stage_len, stage_cap;
    struct out_seg *segs;
    size_t n_segs, cap_segs;
    size_t staged_bytes;
    unsigned staged_frames;
    struct net_server *server; /* for accepted connections, until the server stops */
    struct net_conn *srv_prev, *srv_next;
};

/* Why a limit closed a connection: each kind is rate-limited in the log on its own, so that
 * a flood of one kind hides no other. */
enum conn_limit_kind { LIMIT_REFUSED, LIMIT_MALFORMED, LIMIT_AUTH, LIMIT_FRAME, LIMIT_IDLE, LIMIT_KINDS };

struct net_server {
    uv_tcp_t tcp;
    struct net_handlers h;
    struct net_conn *conns; /* accepted and not yet closed */
    unsigned n_conns;
    struct log_limit log_limits[LIMIT_KINDS]; /* closes a peer can cause at will */
};

struct net_conn *conn_new(uv_loop_t *loop, const struct net_handlers *h);
/* The socket is up (accepted or connected): start reading, announce the connection or, with
 * a secret, begin the handshake. */
void conn_start(struct net_conn *c, enum net_auth_role role);
/* Logs why a limit closes c (rate-limited for accepted connections), then closes it. */
void conn_limit_close(struct net_conn *c, enum conn_limit_kind kind, const char *reason);
int net_resolve(const char *host, int port, struct sockaddr_storage *out, char *err, size_t errlen);
/* server.c: c is gone (from net_conn_close). */
void server_forget(struct net_server *s, struct net_conn *c);

#endif
