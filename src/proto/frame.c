#include "frame.h"
#include <stdlib.h>
#include <string.h>

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

void frame_reader_init(struct frame_reader *r, uint64_t max_body)
{
    memset(r, 0, sizeof *r);
    r->max_body = max_body;
    r->max_header = FRAME_MAX_HEADER_LEN;
}

void frame_reader_free(struct frame_reader *r)
{
    free(r->buf);
    memset(r, 0, sizeof *r);
}

void frame_reader_compact(struct frame_reader *r, size_t keep_cap)
{
    if (r->off > 0) {
        memmove(r->buf, r->buf + r->off, r->len - r->off);
        r->len -= r->off;
        r->off = 0;
    }
    if (r->len == 0 && r->cap > keep_cap) {
        free(r->buf);
        r->buf = NULL;
        r->cap = 0;
    }
}

uint8_t *frame_reader_reserve(struct frame_reader *r, size_t min_free, size_t *avail)
{
    frame_reader_compact(r, SIZE_MAX);
    if (r->cap - r->len < min_free) {
        size_t cap = r->cap ? r->cap : min_free;
        while (cap - r->len < min_free)
            cap *= 2;
        uint8_t *nb = realloc(r->buf, cap);
        if (!nb)
            return NULL;
        r->buf = nb;
        r->cap = cap;
    }
    *avail = r->cap - r->len;
    return r->buf + r->len;
}

void frame_reader_commit(struct frame_reader *r, size_t n) { r->len += n; }

int frame_reader_next(struct frame_reader *r, struct frame_message *m, const char **reason)
{
    if (r->len - r->off < FRAME_PREHEADER_LEN)
        return 0;
    frame_preheader_decode(r->buf + r->off, &m->ph);
    if (frame_preheader_check(&m->ph, r->max_body, reason) != 0)
        return -1;
    if (m->ph.header_len > r->max_header) {
        *reason = "header length exceeds the limit of this link";
        return -1;
    }
    if (r->body_limit && m->ph.body_len > r->body_limit(m->ph.msg_type, r->limit_ctx)) {
        *reason = "body length exceeds what its message type can need";
        return -1;
    }
    size_t total = FRAME_PREHEADER_LEN + m->ph.header_len + m->ph.body_len;
    if (r->len - r->off < total)
        return 0;
    m->header = r->buf + r->off + FRAME_PREHEADER_LEN;
    m->body = m->header + m->ph.header_len;
    r->off += total;
    return 1;
}

size_t frame_reader_pending(const struct frame_reader *r) { return r->len - r->off; }
