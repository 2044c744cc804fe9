/* Clockwork client library: one TCP connection to the controller on a libuv loop, with
 * asynchronous inference (callback per request) and blocking *_sync helpers that run the
 * loop until their answer arrives, for setup (connect with retry, load models, LS). */
#ifndef CW_CLIENT_H
#define CW_CLIENT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

/* Local results, besides the controller's status codes (common/status.h, all >= 0). */
#define CW_DISCONNECTED (-1) /* connection lost before the answer */
#define CW_STOPPED (-2)      /* cw_client_interrupt was called */
#define CW_SEND_FAILED (-3)  /* not connected, or out of memory */

struct cw_client;

struct cw_client_opts {
    int print_summary;       /* print "throughput=… min= max= mean=" once per second */
    int disable_inputs;      /* send empty bodies (CLOCKWORK_DISABLE_INPUTS=1) */
    const char *log_path;    /* per-request TSV (CLOCKWORK_CLIENT_LOG), or NULL */
    const char *output_dir;  /* first output (and input) per model (CLOCKWORK_SAVE_OUTPUTS), or NULL */
    uint64_t retry_ms;       /* connect / LS retry interval; 0 means 1000 */
    const char *secret_file; /* a shared secret to prove to the controller (CLOCKWORK_SECRET_FILE), or NULL */
    void (*on_disconnect)(void *arg, const char *reason); /* connection lost after being up */
    void *arg;
};

/* Fills opts from the environment: CLOCKWORK_DISABLE_INPUTS, CLOCKWORK_CLIENT_LOG,
 * CLOCKWORK_SAVE_OUTPUTS, CLOCKWORK_SECRET_FILE. */
void cw_client_opts_from_env(struct cw_client_opts *o);

/* A model copy the controller loaded. input points at the client-owned LZ4-compressed input
 * shared by all copies of that input size (NULL/0 when inputs are disabled). */
struct cw_model {
    uint32_t id;
    uint64_t input_size, output_size;
    const uint8_t *input;
    size_t input_len;
};

struct cw_infer_result {
    int status;          /* 0 success, controller status, or a CW_* local code */
    const char *message; /* never NULL */
    const uint8_t *output;
    size_t output_len;
    uint32_t model_id;
    uint64_t latency_ns; /* client-observed */
};
typedef void (*cw_infer_cb)(const struct cw_infer_result *r, void *arg, uint64_t tag);

struct cw_totals {
    uint64_t sent, succeeded, failed, unanswered;
    uint64_t by_status[16]; /* failures by controller status (last slot: >= 15) */
};

struct cw_client *cw_client_new(uv_loop_t *loop, const char *host, int port, const struct cw_client_opts *o);
/* Closes the connection (pending requests get CW_DISCONNECTED) and frees everything. */
void cw_client_free(struct cw_client *c);

/* Connects, retrying every retry_ms while refused. 0, CW_STOPPED, or CW_SEND_FAILED
 * (address cannot be resolved). */
int cw_client_connect_sync(struct cw_client *c);
int cw_client_is_connected(const struct cw_client *c);
/* Makes every running or later *_sync call return CW_STOPPED. Safe from loop callbacks. */
void cw_client_interrupt(struct cw_client *c);

/* Loads `copies` copies of the model at path (prefix DIR/NAME/model). On success (0) *models
 * is a malloc'd array of *n models (consecutive ids). Otherwise the status, with err set. */
int cw_client_load_remote_model_sync(struct cw_client *c, const char *path, unsigned copies, struct cw_model **models,
                                     unsigned *n, char *err, size_t errlen);
/* One LS round trip: returns its status (5 while the controller initializes). */
int cw_client_ls_sync(struct cw_client *c, unsigned *n_models, char *msg, size_t msglen);
/* LS until it stops answering "initializing", printing "Clockwork initializing, retrying …". */
int cw_client_ls_retry_sync(struct cw_client *c, char *err, size_t errlen);

/* Sends one inference; cb is called exactly once unless this returns non-zero. */
int cw_client_infer(struct cw_client *c, const struct cw_model *m, int user_id, float slo_factor, cw_infer_cb cb,
                    void *arg, uint64_t tag);
size_t cw_client_outstanding(const struct cw_client *c);

void cw_client_start_summary(struct cw_client *c);
void cw_client_totals(const struct cw_client *c, struct cw_totals *out);
/* One line: requests sent, succeeded, failed by status, unanswered. */
void cw_client_print_totals(const struct cw_client *c, FILE *f);

#endif
