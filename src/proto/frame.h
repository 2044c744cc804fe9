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

#endif
