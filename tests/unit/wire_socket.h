/* Blocking-socket helpers for tests that play a peer by hand: dial 127.0.0.1, send framed
 * protobuf messages (or raw bytes), read whole frames back. Header-only (static inline) so each
 * test binary can include it; not a test itself. Include <cmocka.h> first. */
#ifndef CW_TEST_WIRE_SOCKET_H
#define CW_TEST_WIRE_SOCKET_H
#include "common/clock.h"
#include "proto/frame.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <protobuf-c/protobuf-c.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A port that was free a moment ago (the kernel's choice). */
static inline int wire_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

/* Connects to 127.0.0.1:port (20 s receive timeout, no Nagle); -1 if nobody listens. */
static inline int wire_try_dial(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = {.tv_sec = 20};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static inline int wire_dial(int port)
{
    int fd = wire_try_dial(port);
    assert_true(fd >= 0);
    return fd;
}

static inline void wire_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = send(fd, b, n, MSG_NOSIGNAL);
        assert_true(k > 0);
        b += k;
        n -= (size_t)k;
    }
}

static inline int wire_read_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n > 0) {
        ssize_t k = recv(fd, b, n, 0);
        if (k <= 0)
            return -1;
        b += k;
        n -= (size_t)k;
    }
    return 0;
}

static inline void wire_send_raw(int fd, uint64_t type, const uint8_t *hdr, size_t hlen, const void *body, size_t blen)
{
    struct frame_preheader ph = {hlen, blen, type, 0, clock_now_ns(), INT64_MAX};
    uint8_t pre[FRAME_PREHEADER_LEN];
    frame_preheader_encode(&ph, pre);
    wire_write_all(fd, pre, sizeof pre);
    if (hlen)
        wire_write_all(fd, hdr, hlen);
    if (blen)
        wire_write_all(fd, body, blen);
}

static inline void wire_send_msg(int fd, uint64_t type, const ProtobufCMessage *m, const void *body, size_t blen)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    protobuf_c_message_pack(m, buf);
    wire_send_raw(fd, type, buf, n, body, blen);
    free(buf);
}

/* A received frame; free with wire_reply_free. */
struct wire_reply {
    uint64_t type, msg_id;
    uint8_t *header, *body;
    size_t header_len, body_len;
};

static inline int wire_recv(int fd, struct wire_reply *r)
{
    uint8_t pre[FRAME_PREHEADER_LEN];
    memset(r, 0, sizeof *r);
    if (wire_read_all(fd, pre, sizeof pre) != 0)
        return -1;
    struct frame_preheader ph;
    frame_preheader_decode(pre, &ph);
    r->type = ph.msg_type;
    r->msg_id = ph.msg_id;
    r->header_len = ph.header_len;
    r->body_len = ph.body_len;
    r->header = malloc(ph.header_len + 1);
    r->body = malloc(ph.body_len + 1);
    if (wire_read_all(fd, r->header, ph.header_len) != 0 || wire_read_all(fd, r->body, ph.body_len) != 0)
        return -1;
    return 0;
}

static inline void wire_reply_free(struct wire_reply *r)
{
    free(r->header);
    free(r->body);
}

/* 1 when the peer closed the connection (the next read sees EOF). */
static inline int wire_closed_by_peer(int fd)
{
    char c;
    return recv(fd, &c, 1, 0) == 0;
}

#endif
