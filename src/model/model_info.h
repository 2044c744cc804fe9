/* What the cluster knows about one model: sizes, supported batch sizes, page count and
 * timings. Filled from a model's files on disk (worker) or from the wire (controller). */
#ifndef CW_MODEL_INFO_H
#define CW_MODEL_INFO_H
#include <stddef.h>
#include <stdint.h>

#define MODEL_MAX_BATCH_SIZES 8 /* 1 2 4 8 16 32 64 128 */

struct model_info {
    char source[512];      /* path prefix, e.g. /zoo/resnet50_v2/model */
    uint64_t input_size;   /* bytes per batch-1 input */
    uint64_t output_size;  /* bytes per batch-1 output */
    uint64_t weights_size; /* bytes */
    unsigned num_weights_pages;
    uint64_t weights_load_ns;
    unsigned n_batch_sizes;
    unsigned batch_sizes[MODEL_MAX_BATCH_SIZES]; /* ascending */
    uint64_t exec_ns[MODEL_MAX_BATCH_SIZES];     /* per batch size */
    void *backend_data;                          /* a real backend's loaded model (worker only; NULL when emulated) */
};

/* Reads PREFIX.info and PREFIX.measurements (libconfig). page_size gives the page count.
 * Returns 0, or -1 with a message naming the file and problem in err. */
int model_info_load(struct model_info *m, const char *prefix, uint64_t page_size, char *err, size_t errlen);

/* Smallest supported batch size >= n (padding rule); 0 if n exceeds the largest. */
unsigned model_info_padded_batch(const struct model_info *m, unsigned n);
/* Keeps only the batch sizes a LoadModelFromDisk with these limits asks for: b <= max_batch
 * and, above the smallest (batch 1), exec time <= max_exec; the smallest always stays. */
void model_info_limit_batches(struct model_info *m, unsigned max_batch, uint64_t max_exec);
/* Index of batch size b in batch_sizes, or -1. */
int model_info_batch_index(const struct model_info *m, unsigned b);

#endif
