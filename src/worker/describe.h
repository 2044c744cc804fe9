/* Human-readable one-line descriptions of actions and results, in the original Clockwork
 * worker's format ("Received A0:GetWorkerState", "Sending R0:LoadModelFromDisk input=..."). */
#ifndef CW_DESCRIBE_H
#define CW_DESCRIBE_H
#include "model/model_info.h"
#include "task.h"
#include <stddef.h>
#include <stdint.h>

/* "12.3": t ns as milliseconds with one (truncated) decimal. */
void describe_millis(char *buf, size_t len, uint64_t t);
/* "[e, l]": earliest/latest (worker clock) relative to now, in ms, clamped at 0. */
void describe_window(char *buf, size_t len, uint64_t now, uint64_t earliest, uint64_t latest);
/* "input=.. output=.. weights=112.0 MB (7 pages) xfer=8.4 b1=2.9 ..." */
void describe_model(char *buf, size_t len, const struct model_info *m, uint64_t page_size);
/* "R5:Infer exec=2.9 input=0.0 output=0.0", "R5:Error 11: ...", ... for a finished task. */
void describe_task_result(char *buf, size_t len, const struct worker_task *t);

#endif
