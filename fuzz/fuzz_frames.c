/* libFuzzer target: arbitrary bytes, split into arbitrary reads, go through the frame reader;
 * every complete message is decoded as each client request and as a worker result, the
 * same way the controller and the worker do. Nothing may crash, leak or read out of bounds. */
#include "controller/worker_link.h"
#include "proto/clockwork.pb-c.h"
#include "proto/frame.h"
#include <stdint.h>
#include <string.h>

static const ProtobufCMessageDescriptor *const descriptors[] = {
    &clockwork__model_inference_req_proto__descriptor,
    &clockwork__load_model_from_disk_req_proto__descriptor,
    &clockwork__lsreq_proto__descriptor,
    &clockwork__evict_req_proto__descriptor,
    &clockwork__model_upload_req_proto__descriptor,
    &clockwork__infer_action_proto__descriptor,
    &clockwork__load_weights_action_proto__descriptor,
    &clockwork__load_model_from_disk_action_proto__descriptor,
    &clockwork__get_worker_state_action_proto__descriptor,
};

static void decode_all(const struct frame_message *fm)
{
    for (size_t i = 0; i < sizeof descriptors / sizeof descriptors[0]; i++) {
        ProtobufCMessage *m = protobuf_c_message_unpack(descriptors[i], NULL, fm->ph.header_len, fm->header);
        if (m)
            protobuf_c_message_free_unpacked(m, NULL);
    }
    struct net_msg nm = {.type = fm->ph.msg_type, .header = fm->header, .header_len = fm->ph.header_len,
                         .body = fm->body, .body_len = fm->ph.body_len};
    struct worker_result r;
    worker_result_decode(&nm, (int64_t)fm->ph.peer_offset, &r);
    worker_result_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct frame_reader r;
    frame_reader_init(&r, 1 << 20);
    size_t pos = 0;
    while (pos < size) {
        size_t chunk = 1 + data[pos] % 64; /* the first byte of each read picks its length */
        pos++;
        if (chunk > size - pos)
            chunk = size - pos;
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
        while ((rc = frame_reader_next(&r, &fm, &reason)) == 1)
            decode_all(&fm);
        if (rc < 0)
            break;
    }
    frame_reader_free(&r);
    return 0;
}
