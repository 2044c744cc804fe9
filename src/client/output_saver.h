/* Saves what a real worker computed: the first successful response of each model is written
 * as DIR/model_ID.out (raw output bytes) next to DIR/model_ID.in (the uncompressed input that
 * was sent), so results can be checked offline (CLOCKWORK_SAVE_OUTPUTS=DIR). */
#ifndef CW_OUTPUT_SAVER_H
#define CW_OUTPUT_SAVER_H
#include <stddef.h>
#include <stdint.h>

struct output_saver;

/* NULL if dir cannot be used (the reason is logged). */
struct output_saver *output_saver_new(const char *dir);
void output_saver_free(struct output_saver *s);
/* Writes model_id's files unless already saved. `input` is LZ4-compressed (input_size bytes
 * when decompressed) or NULL when inputs were disabled (then no .in file). */
void output_saver_offer(struct output_saver *s, uint32_t model_id, const uint8_t *input, size_t input_len,
                        uint64_t input_size, const uint8_t *output, size_t output_len);

#endif
