#include "frame.h"

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

void frame_preheader_encode(const struct frame_preheader *ph, uint8_t out[FRAME_PREHEADER_LEN])
{
    put_u64(out, ph->header_len);
    put_u64(out + 8, ph->body_len);
    put_u64(out + 16, ph->msg_type);
    put_u64(out + 24, ph->msg_id);
    put_u64(out + 32, ph->send_time);
    put_u64(out + 40, (uint64_t)ph->peer_offset);
}

void frame_preheader_decode(const uint8_t in[FRAME_PREHEADER_LEN], struct frame_preheader *ph)
{
    ph->header_len = get_u64(in);
    ph->body_len = get_u64(in + 8);
    ph->msg_type = get_u64(in + 16);
    ph->msg_id = get_u64(in + 24);
    ph->send_time = get_u64(in + 32);
    ph->peer_offset = (int64_t)get_u64(in + 40);
}

int frame_preheader_check(const struct frame_preheader *ph, uint64_t max_body, const char **reason)
{
    if (ph->header_len > FRAME_MAX_HEADER_LEN) {
        *reason = "header length exceeds 10 MiB";
        return -1;
    }
    if (ph->body_len > max_body) {
        *reason = "body length exceeds limit";
        return -1;
    }
    return 0;
}
