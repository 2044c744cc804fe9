/* What the fuzz targets share: a fuzz input is a byte stream cut into reads of arbitrary
 * length (the first byte of each read picks its length) and fed to the frame reader, as a
 * connection would; every complete message goes to the target's handler. */
#ifndef CW_FUZZ_INPUT_H
#define CW_FUZZ_INPUT_H
#include "net/conn.h"
#include "proto/frame.h"
#include <stdint.h>
#include <string.h>

/* peer_offset: the frame's pre-header field, which net_msg does not carry. */
typedef void (*fuzz_message_fn)(const struct net_msg *m, int64_t peer_offset, void *ctx);

static inline void fuzz_messages(const uint8_t *data, size_t size, fuzz_message_fn fn, void *ctx)
{
    struct frame_reader r;
    frame_reader_init(&r, 1 << 20);
    size_t pos = 0;
    while (pos < size) {
        size_t chunk = 1 + data[pos] % 64;
        pos++;
        if (chunk > size - pos)
            chunk = size - pos;
        if (chunk == 0)
            break;
        size_t avail;
        uint8_t *dst = frame_reader_reserve(&r, chunk, &avail);
        if (!dst)
            break;
        memcpy(dst, data + pos, chunk);
        frame_reader_commit(&r, chunk);
        pos += chunk;
        struct frame_message fm;
        const char *reason;
        int rc;
        while ((rc = frame_reader_next(&r, &fm, &reason)) == 1) {
            struct net_msg m = {.type = fm.ph.msg_type,
                                .id = fm.ph.msg_id,
                                .header = fm.header,
                                .header_len = fm.ph.header_len,
                                .body = fm.body,
                                .body_len = fm.ph.body_len,
                                .send_time = fm.ph.send_time};
            fn(&m, fm.ph.peer_offset, ctx);
        }
        if (rc < 0)
            break;
    }
    frame_reader_free(&r);
}

#endif
