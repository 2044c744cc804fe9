/* libFuzzer target: arbitrary bytes, split into arbitrary reads, go through the frame reader;
 * every complete message updates a clock-skew estimate and is decoded as each client request
 * and as a worker result (timestamps mapped with that estimate), the same way the controller
 * and the worker do. Nothing may crash, leak, overflow or read out of bounds. */
#include "controller/worker_link.h"
#include "fuzz_input.h"
#include "net/skew.h"
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

/* The clock-skew estimate of one connection, fed by every frame as net/conn.c does. */
static void update_skew(struct net_skew *skew, const struct net_msg *m, int64_t peer_offset)
{
    net_skew_update(skew, m->send_time ^ (uint64_t)peer_offset, m->send_time, peer_offset);
    volatile int64_t offset = net_skew_offset(skew);
    volatile uint64_t rtt = net_skew_rtt(skew);
    (void)offset, (void)rtt;
}

static void decode_all(const struct net_msg *m, int64_t peer_offset, void *ctx)
{
    update_skew(ctx, m, peer_offset);
    for (size_t i = 0; i < sizeof descriptors / sizeof descriptors[0]; i++) {
        ProtobufCMessage *p = protobuf_c_message_unpack(descriptors[i], NULL, m->header_len, m->header);
        if (p)
            protobuf_c_message_free_unpacked(p, NULL);
    }
    struct worker_result r;
    worker_result_decode(m, net_skew_offset(ctx), &r);
    worker_result_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct net_skew skew; /* 32 KiB: not on the stack */
    net_skew_init(&skew);
    fuzz_messages(data, size, decode_all, &skew);
    return 0;
}
