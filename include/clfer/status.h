/* clfer/status.h — the one status enum every public call returns, and the thread-local message
 * that says what failed and where. The list is an X-macro so names and texts cannot drift. */
#ifndef CLFER_STATUS_H
#define CLFER_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, text) */
#define CLFER_STATUS_MAP(X)                                                         \
  X(OK,                 0, "success")                                             \
  X(INVALID_ARGUMENT,   1, "invalid argument")                                    \
  X(OUT_OF_MEMORY,      2, "out of host memory")                                  \
  X(DEVICE_OUT_OF_MEMORY, 3, "out of device memory")                              \
  X(NO_PLATFORM,        4, "no OpenCL platform found")                            \
  X(NO_DEVICE,          5, "no matching OpenCL device")                           \
  X(OPENCL_ERROR,       6, "OpenCL call failed")                                  \
  X(BUILD_FAILED,       7, "OpenCL program build failed")                         \
  X(CLBLAST_ERROR,      8, "CLBlast call failed")                                 \
  X(IO_ERROR,           9, "file I/O failed")                                     \
  X(PARSE_ERROR,       10, "malformed input")                                     \
  X(SHAPE_MISMATCH,    11, "tensor shapes do not match")                          \
  X(UNSUPPORTED,       12, "not supported")                                       \
  X(NOT_FOUND,         13, "not found")                                           \
  X(CORRUPT,           14, "corrupt or truncated data")                           \
  X(NUMERICAL,         15, "non-finite value (NaN or Inf)")                       \
  X(INTERRUPTED,       16, "interrupted")                                         \
  X(INTERNAL,          17, "internal error")

typedef enum clfer_status {
#define CLFER__STATUS_ENUM(name, value, text) CLFER_##name = value,
  CLFER_STATUS_MAP(CLFER__STATUS_ENUM)
#undef CLFER__STATUS_ENUM
} clfer_status;

/* Short human text for a status ("out of device memory"). Never NULL. */
const char *clfer_strerror(clfer_status status);
/* The enum name without prefix ("DEVICE_OUT_OF_MEMORY"). Never NULL. */
const char *clfer_status_name(clfer_status status);
/* The message of the last failure on this thread: names the file and line, layer or OpenCL
 * call. Empty string when nothing has failed yet. */
const char *clfer_last_error(void);
/* Clears this thread's message. */
void clfer_clear_error(void);
/* Records a message for this thread (printf-style) and returns `status`, so callers can write
 * `return clfer_set_error(CLFER_PARSE_ERROR, "%s:%d: ...", file, line);`. Public so that
 * applications built on clfer report through the same channel. */
clfer_status clfer_set_error(clfer_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prepends context ("layer conv3: ") to the current message, keeping the status. */
clfer_status clfer_wrap_error(clfer_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Name of an OpenCL error code ("CL_OUT_OF_RESOURCES"); "CL_UNKNOWN_ERROR(-n)" otherwise. */
const char *clfer_cl_error_name(int cl_error);

#ifdef __cplusplus
}
#endif
#endif
