/* Status codes shared by workers, controller and clients. The numbers are the original
 * Clockwork's, because they travel on the wire and land in telemetry. */
#ifndef CW_STATUS_H
#define CW_STATUS_H

/* Worker action results: the original's workerapi codes, number for number (worker_api.h at
 * HEAD 5917620; its ErrorResult frames in tests/wire-golden/ carry 40, 51, 63 and 72). */
enum action_status {
    ACTION_SUCCESS = 0,
    ACTION_CANCELLED = 1,
    ACTION_RUNTIME_ERROR = 2,
    ACTION_SHUTTING_DOWN = 3,
    ACTION_UNKNOWN_MODEL = 10,
    ACTION_COULD_NOT_START_IN_TIME = 11, /* LoadModelFromDisk after its latest */
    ACTION_INVALID_ACTION = 12,
    ACTION_INVALID_GPU = 13,
    ACTION_WEIGHTS_NOT_PRESENT = 20,
    ACTION_LOAD_WEIGHTS_ALREADY_LOADED = 21, /* actionErrorWeightsAlreadyLoaded */
    ACTION_WEIGHTS_IN_USE = 22,
    ACTION_WEIGHTS_CHANGED = 23,
    ACTION_INVALID_INPUT = 30,
    ACTION_INVALID_BATCH_SIZE = 31,
    ACTION_INVALID_MODEL_ID = 40,
    ACTION_INVALID_MODEL_PATH = 41,
    ACTION_NETWORK_SEND_TOO_LATE = 45,
    ACTION_LOAD_WEIGHTS_TOO_EARLY = 50,
    ACTION_LOAD_WEIGHTS_TOO_LATE = 51,
    ACTION_LOAD_WEIGHTS_UNKNOWN_MODEL = 52,
    ACTION_LOAD_WEIGHTS_INSUFFICIENT_CACHE = 53,
    ACTION_LOAD_WEIGHTS_CONCURRENT_EVICT = 54, /* loadWeightsConcurrentModification */
    ACTION_EVICT_TOO_EARLY = 60,
    ACTION_EVICT_TOO_LATE = 61,
    ACTION_EVICT_UNKNOWN_MODEL = 62,
    ACTION_EVICT_WEIGHTS_NOT_PRESENT = 63, /* evictWeightsNotInCache */
    ACTION_COPY_INPUT_TOO_EARLY = 70,
    ACTION_COPY_INPUT_TOO_LATE = 71,
    ACTION_COPY_INPUT_UNKNOWN_MODEL = 72,
    ACTION_COPY_INPUT_INVALID_BATCH_SIZE = 73,
    ACTION_COPY_INPUT_HOST_ALLOC = 74,
    ACTION_COPY_INPUT_INVALID_INPUT = 75,
    ACTION_COPY_INPUT_NO_IO_MEMORY = 76, /* copyInputIOPoolExhausted */
    ACTION_COPY_INPUT_BAD_SIZES = 77,
    ACTION_COPY_INPUT_BAD_DECOMPRESS = 78,
    ACTION_EXEC_TOO_EARLY = 80,
    ACTION_EXEC_TOO_LATE = 81,
    ACTION_EXEC_WEIGHTS_NOT_PRESENT = 82, /* execWeightsMissing */
    ACTION_EXEC_NO_WORKSPACE = 83,        /* execWorkspacePoolExhausted */
    ACTION_EXEC_WEIGHTS_CHANGED = 84,     /* execConcurrentWeightsModification */
    ACTION_COPY_OUTPUT_TOO_EARLY = 90,
    ACTION_COPY_OUTPUT_TOO_LATE = 91,
    ACTION_COPY_OUTPUT_FAILED = 92, /* copyOutputHostAlloc */
};

/* Client responses (ResponseHeaderProto.status) */
enum client_status {
    CLIENT_SUCCESS = 0,
    CLIENT_ERROR = 1,
    CLIENT_TIMEOUT = 4,
    CLIENT_INITIALIZING = 5,
    CLIENT_INVALID_REQUEST = 6,
    CLIENT_CONTROLLER_SKIPPED = 7,
    CLIENT_COULD_NOT_START_IN_TIME = 8,
};

const char *action_status_name(int status);

#endif
