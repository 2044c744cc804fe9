/* TCP connections carrying framed Clockwork messages over a libuv loop. A connection
 * reassembles frames, updates its clock-skew estimate and hands each message to the
 * owner's callback; a malformed frame closes that connection only, with a logged reason.
 * What one peer may cost is bounded (net_limits): the size of each message type, the time a
 * frame may take, idle time, unsent bytes and, for a server, the number of connections. With
 * a shared secret (auth.h) a connection is announced only once the peer proved it holds it. */
#ifndef CW_CONN_H
#define CW_CONN_H
#include "net/auth.h"
#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct net_conn;
struct net_server;

struct net_msg {
    uint64_t type;
    uint64_t id;
    const uint8_t *header;
    size_t header_len;
    const uint8_t *body; /* valid only during the callback */
    size_t body_len;
    uint64_t recv_time; /* local clock, when the message started arriving */
    uint64_t send_time; /* peer clock */
};

/* Per-peer bounds; 0 = none. Each one that closes a connection logs why. */
struct net_limits {
    unsigned max_conns;        /* server: connections open at once; more are refused */
    uint64_t frame_timeout_ms; /* a frame begun must be complete within this (also the handshake) */
    uint64_t idle_timeout_ms;  /* closed after this long with nothing received, unless busy */
    size_t max_unsent;         /* bytes queued and not yet written: above half of it the connection stops
                                * reading (until a quarter is left), above it the connection is closed */
};

struct net_handlers {
    /* Return 0 to go on, non-zero to close the connection (log the reason first). */
    int (*on_message)(struct net_conn *c, const struct net_msg *m, void *data);
    /* Called once when a connection is up (status 0) or failed to connect (status < 0, then
     * on_close follows). For accepted connections status is always 0; an accepted connection
     * that is refused (too many, failed authentication) is never announced. */
    void (*on_connect)(struct net_conn *c, int status, void *data);
    /* Called exactly once for a connection whose on_connect was called; `c` is freed after it
     * returns. */
    void (*on_close)(struct net_conn *c, const char *reason, void *data);
    /* Optional: queued writes finished (used to bound sends in flight); called from the loop,
     * never from inside a send. */
    void (*on_write_done)(struct net_conn *c, void *data);
    /* Optional: called just before frames of this connection are handed to the kernel, e.g. to
     * commit a log that their recipient may rely on. */
    void (*before_flush)(struct net_conn *c, void *data);
    /* Optional: the largest body of a message type (below max_body), checked when its
     * pre-header arrives, before the body is buffered. */
    uint64_t (*max_body_of)(uint64_t msg_type, void *data);
    /* Optional: 1 while the connection has work outstanding for its peer (spared by the idle
     * timeout). */
    int (*busy)(struct net_conn *c, void *data);
    void *data;
    uint64_t max_body;   /* 0: FRAME_MAX_BODY_LEN */
    uint64_t max_header; /* 0: FRAME_MAX_HEADER_LEN */
    struct net_limits limits;
    const struct net_secret *secret; /* NULL: no authentication (the original's wire) */
};

struct net_stats {
    uint64_t bytes_sent, msgs_sent, bytes_received, msgs_received;
};

/* Listens on host:port. Returns NULL with a message in err on failure. */
struct net_server *net_server_start(uv_loop_t *loop, const char *host, int port, const struct net_handlers *h,
                                    char *err, size_t errlen);
void net_server_stop(struct net_server *s);
/* The port it listens on (the kernel's choice when started with port 0), or -1. */
int net_server_port(const struct net_server *s);

/* Starts an asynchronous connect. Returns NULL (with err) only if the address cannot be resolved. */
struct net_conn *net_connect(uv_loop_t *loop, const char *host, int port, const struct net_handlers *h, char *err,
                             size_t errlen);

/* Frames and queues a message; the header is packed, the body copied. 0 or -1 if closed.
 * Queued frames leave together at the next turn of the loop, in one write where the kernel
 * takes them (so many small messages cost one system call). */
int net_conn_send(struct net_conn *c, uint64_t type, uint64_t id, const ProtobufCMessage *header, const void *body,
                  size_t body_len);
/* Same, but takes ownership of a malloc'd body (freed after the write). */
int net_conn_send_owned(struct net_conn *c, uint64_t type, uint64_t id, const ProtobufCMessage *header, void *body,
                        size_t body_len);
/* Same, but the body is neither copied nor freed: it must stay valid and unchanged until the
 * write completed or the connection is fully closed (after on_close, one more loop iteration).
 * For one immutable buffer shared by many messages, e.g. a compressed input. */
int net_conn_send_shared(struct net_conn *c, uint64_t type, uint64_t id, const ProtobufCMessage *header,
                         const void *body, size_t body_len);
void net_conn_close(struct net_conn *c, const char *reason);
/* Stops reading, lets what is queued reach the peer, then closes (within the frame timeout,
 * or 10 s). For a refusal that the peer should read before the connection goes. */
void net_conn_close_after_flush(struct net_conn *c, const char *reason);

/* Backpressure: a connection reads only while no reason to pause it is set. */
enum { NET_PAUSE_UNSENT = 1, NET_PAUSE_OWNER = 2 };
void net_conn_pause(struct net_conn *c, unsigned why);
void net_conn_resume(struct net_conn *c, unsigned why);
unsigned net_conn_paused(const struct net_conn *c);

/* 1 if the peer has closed (or reset) the connection although it was not read yet: a
 * non-blocking peek, for a decision that must not wait for the loop to notice. */
int net_conn_peer_gone(const struct net_conn *c);

void net_conn_set_data(struct net_conn *c, void *data);
void *net_conn_data(const struct net_conn *c);
const char *net_conn_peer(const struct net_conn *c);
int64_t net_conn_clock_offset(const struct net_conn *c); /* our clock - peer clock */
uint64_t net_conn_rtt(const struct net_conn *c);
size_t net_conn_write_queue_bytes(const struct net_conn *c); /* staged and queued bytes, not yet taken by the kernel */
unsigned net_conn_writes_pending(const struct net_conn *c);  /* messages queued, not yet taken by the kernel */
/* Of those, the messages of writes the kernel did not take whole (its buffer was full): 0 while
 * the peer reads, whatever this loop turn staged. */
unsigned net_conn_writes_refused(const struct net_conn *c);
const struct net_stats *net_conn_stats(const struct net_conn *c);

/* Splits "host:port" (port defaulting to default_port). Returns 0 or -1 if malformed. */
int net_parse_address(const char *addr, char *host, size_t hostlen, int *port, int default_port);

#endif
