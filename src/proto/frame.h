/* Message framing: a 48-byte pre-header of six little-endian uint64 (header_len, body_len,
 * msg_type, msg_id, send timestamp, sender's one-way offset estimate), then a protobuf
 * header, then a raw body. Pure functions: no I/O, so they can be unit-tested and fuzzed. */
#ifndef CW_FRAME_H
#define CW_FRAME_H
#include <stddef.h>
#include <stdint.h>

#define FRAME_PREHEADER_LEN 48
#define FRAME_MAX_HEADER_LEN (10u * 1024 * 1024)
#define FRAME_MAX_BODY_LEN (1024ull * 1024 * 1024)

struct frame_preheader {
    uint64_t header_len;
    uint64_t body_len;
    uint64_t msg_type;
    uint64_t msg_id;
    uint64_t send_time;  /* sender's clock, ns */
    int64_t peer_offset; /* sender's min(receive - send) estimate, INT64_MAX if none */
};

void frame_preheader_encode(const struct frame_preheader *ph, uint8_t out[FRAME_PREHEADER_LEN]);
void frame_preheader_decode(const uint8_t in[FRAME_PREHEADER_LEN], struct frame_preheader *ph);
/* 0 if the lengths are acceptable, else -1 with a human-readable reason. */
int frame_preheader_check(const struct frame_preheader *ph, uint64_t max_body, const char **reason);

/* Reassembles frames from a byte stream (no I/O: the caller reads into reserved space).
 * Messages returned by frame_reader_next point into the buffer and stay valid until the
 * next frame_reader_reserve or frame_reader_compact. */
struct frame_reader {
    uint8_t *buf;
    size_t len; /* bytes held */
    size_t off; /* bytes already returned as messages */
    size_t cap;
    uint64_t max_body;
    uint64_t max_header; /* FRAME_MAX_HEADER_LEN unless lowered after init */
    /* Optional (set after init): a lower body limit for one message type, applied as soon as
     * a pre-header is in, so that a body larger than its type can need is refused before it
     * is buffered. */
    uint64_t (*body_limit)(uint64_t msg_type, void *ctx);
    void *limit_ctx;
};

struct frame_message {
    struct frame_preheader ph;
    const uint8_t *header;
    const uint8_t *body;
};

void frame_reader_init(struct frame_reader *r, uint64_t max_body);
void frame_reader_free(struct frame_reader *r);
/* Space for at least min_free more bytes (compacts first); NULL if out of memory. */
uint8_t *frame_reader_reserve(struct frame_reader *r, size_t min_free, size_t *avail);
void frame_reader_commit(struct frame_reader *r, size_t n);
/* 1: *m is the next complete message; 0: more bytes needed; -1: malformed or over a limit
 * (reason set; m->ph holds the offending pre-header). */
int frame_reader_next(struct frame_reader *r, struct frame_message *m, const char **reason);
/* Drops returned messages; frees the buffer when empty and larger than keep_cap. */
void frame_reader_compact(struct frame_reader *r, size_t keep_cap);
size_t frame_reader_pending(const struct frame_reader *r); /* bytes of an incomplete message */

#endif
