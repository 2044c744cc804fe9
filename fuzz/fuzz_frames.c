/* libFuzzer target: arbitrary bytes, split into arbitrary reads, go through the frame reader;
 * every complete message is decoded as each client request and as a worker result, the
 * same way the controller and the worker do. Nothing may crash, leak or read out of bounds. */
#include "controller/worker_link.h"
#include "fuzz_input.h"
#include "proto/clockwork.pb-c.h"

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

static void decode_all(const struct net_msg *m, void *ctx)
{
    (void)ctx;
    for (size_t i = 0; i < sizeof descriptors / sizeof descriptors[0]; i++) {
        ProtobufCMessage *p = protobuf_c_message_unpack(descriptors[i], NULL, m->header_len, m->header);
        if (p)
            protobuf_c_message_free_unpacked(p, NULL);
    }
    struct worker_result r;
    worker_result_decode(m, (int64_t)m->send_time, &r); /* any offset will do */
    worker_result_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_messages(data, size, decode_all, NULL);
    return 0;
}
