/* ErrorResultProto.action_type names the failed action with the original worker's internal
 * 0-based codes (loadModelFromDisk 0 ... getWorkerState 5), not with the wire ActionType
 * (1 ... 6) that frames carry as msg_type: the original's frames show it, and its controller
 * reads it that way. These two conversions are the only place that knows. */
#ifndef CW_ERROR_ACTION_H
#define CW_ERROR_ACTION_H

/* Wire action type (1..6) -> ErrorResultProto.action_type. */
static inline int error_action_code(int wire_action_type) { return wire_action_type - 1; }

/* ErrorResultProto.action_type -> wire action type (1..6). */
static inline int error_action_wire_type(int code) { return code + 1; }

#endif
