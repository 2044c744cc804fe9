#include "status.h"

const char *action_status_name(int status)
{
    switch (status) {
    case ACTION_SUCCESS: return "success";
    case ACTION_CANCELLED: return "cancelled";
    case ACTION_RUNTIME_ERROR: return "runtime error";
    case ACTION_SHUTTING_DOWN: return "shutting down";
    case ACTION_UNKNOWN_MODEL: return "unknown model";
    case ACTION_COULD_NOT_START_IN_TIME: return "could not start in time";
    case ACTION_WEIGHTS_NOT_PRESENT: return "weights not present";
    case ACTION_INVALID_INPUT: return "invalid input";
    case ACTION_INVALID_BATCH_SIZE: return "invalid batch size";
    case ACTION_INVALID_MODEL_ID: return "invalid model id";
    case ACTION_INVALID_MODEL_PATH: return "invalid model path";
    case ACTION_NETWORK_SEND_TOO_LATE: return "network send too late";
    case ACTION_LOAD_WEIGHTS_TOO_LATE: return "load weights too late";
    case ACTION_LOAD_WEIGHTS_INSUFFICIENT_CACHE: return "insufficient weights cache";
    case ACTION_EXEC_TOO_LATE: return "exec too late";
    case ACTION_EXEC_WEIGHTS_NOT_PRESENT: return "weights missing";
    case ACTION_EVICT_TOO_LATE: return "evict too late";
    default: return "error";
    }
}
