/* Controller telemetry rows and the TSV writers for clockwork_request_log.tsv and
 * clockwork_action_log.tsv (columns exactly as the original's). Times are ns; `t` is
 * absolute, the other action times are relative to `t`. Rows are buffered; the host flushes
 * them once a second, commits request rows before their responses leave, and may rotate the
 * files by size (.1 the newest rotated, each with its header row). */
#ifndef CW_TELEMETRY_H
#define CW_TELEMETRY_H
#include <stdint.h>
#include <stddef.h>

struct request_row {
    uint64_t t; /* arrival, absolute ns */
    uint64_t request_id;
    int result;
    int user_id;
    unsigned model_id;
    double slo_factor;
    uint64_t latency;  /* departure - arrival */
    uint64_t deadline; /* relative to t */
    int deadline_met;
    uint64_t arrival_count;
    uint64_t departure_count;
    int is_coldstart;
};

struct action_row {
    uint64_t t; /* when the action was scheduled/sent, absolute ns */
    uint64_t action_id;
    int action_type; /* wire action type (2 load, 3 infer, 4 evict); written as the original's
                        telemetry numbering (1 load, 2 infer, 3 evict) */
    int status;
    unsigned worker_id;
    unsigned gpu_id;
    unsigned model_id;
    unsigned batch_size;
    /* the following are relative to t (signed: worker times may precede t after skew correction) */
    int64_t expected_exec_duration;
    int64_t worker_exec_duration;
    int64_t expected_exec_complete;
    int64_t worker_exec_complete;
    unsigned expected_gpu_clock;
    unsigned worker_gpu_clock_before;
    unsigned worker_gpu_clock;
    int64_t worker_copy_output_complete;
    int64_t worker_action_received;
    int64_t worker_result_sent;
    int64_t controller_result_enqueue;
    int64_t controller_action_duration;
    double goodput;
    unsigned requests_queued;
    unsigned copies_loaded;
};

extern const char REQUEST_LOG_HEADER[];
extern const char ACTION_LOG_HEADER[];

struct telemetry_writer;
/* Opens DIR/clockwork_{request,action}_log.tsv and writes the header rows. NULL with err
 * if the directory is not writable. */
struct telemetry_writer *telemetry_open(const char *dir, char *err, size_t errlen);
/* A file that grows beyond max_bytes becomes NAME.1 (NAME.1 becomes NAME.2 ... up to
 * NAME.keep, the oldest dropped) and a new NAME starts with its header. max_bytes 0: never. */
void telemetry_set_rotation(struct telemetry_writer *w, uint64_t max_bytes, unsigned keep);
void telemetry_write_request(struct telemetry_writer *w, const struct request_row *r);
void telemetry_write_action(struct telemetry_writer *w, const struct action_row *a);
/* Hands the buffered request rows to the kernel (cheap when there are none): called before a
 * response leaves, no answered request is missing from the file even if the process is killed. */
void telemetry_commit_requests(struct telemetry_writer *w);
void telemetry_flush(struct telemetry_writer *w);
void telemetry_close(struct telemetry_writer *w);
/* Row formatting (exported for tests): writes one line with its '\n' and a terminating NUL into
 * out, which holds at least TELEMETRY_ROW_MAX bytes; returns the line's length. The columns
 * print as the C formats %llu / %lld for integers and %g for doubles would. */
#define TELEMETRY_ROW_MAX 512
size_t telemetry_format_request(char *out, const struct request_row *r);
size_t telemetry_format_action(char *out, const struct action_row *a);

#endif
