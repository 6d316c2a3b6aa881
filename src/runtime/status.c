/* status.c — texts for clfer_status, the thread-local error message, and the single table that
 * maps OpenCL error codes to their names. */
#include "clfer/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Big enough for a kernel build log excerpt. */
#define CLFER_ERROR_BUFFER 8192
static _Thread_local char last_error[CLFER_ERROR_BUFFER];

const char *clfer_strerror(clfer_status status) {
  switch (status) {
#define CLFER__STATUS_TEXT(name, value, text) \
  case CLFER_##name:                          \
    return text;
    CLFER_STATUS_MAP(CLFER__STATUS_TEXT)
#undef CLFER__STATUS_TEXT
  }
  return "unknown status";
}

const char *clfer_status_name(clfer_status status) {
  switch (status) {
#define CLFER__STATUS_NAME(name, value, text) \
  case CLFER_##name:                          \
    return #name;
    CLFER_STATUS_MAP(CLFER__STATUS_NAME)
#undef CLFER__STATUS_NAME
  }
  return "UNKNOWN";
}

const char *clfer_last_error(void) { return last_error; }

void clfer_clear_error(void) { last_error[0] = '\0'; }

clfer_status clfer_set_error(clfer_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}

clfer_status clfer_wrap_error(clfer_status status, const char *fmt, ...) {
  char prefix[512];
  char old[CLFER_ERROR_BUFFER];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, last_error, sizeof old);
  size_t n = strlen(prefix);
  if (n >= sizeof last_error) n = sizeof last_error - 1;
  memcpy(last_error, prefix, n);
  size_t rest = strlen(old);
  if (rest > sizeof last_error - 1 - n) rest = sizeof last_error - 1 - n;
  memcpy(last_error + n, old, rest);
  last_error[n + rest] = '\0';
  return status;
}

#define CLFER__CL_ERRORS(X)                                                                      \
  X(0, CL_SUCCESS) X(-1, CL_DEVICE_NOT_FOUND) X(-2, CL_DEVICE_NOT_AVAILABLE)                     \
  X(-3, CL_COMPILER_NOT_AVAILABLE) X(-4, CL_MEM_OBJECT_ALLOCATION_FAILURE)                       \
  X(-5, CL_OUT_OF_RESOURCES) X(-6, CL_OUT_OF_HOST_MEMORY)                                        \
  X(-7, CL_PROFILING_INFO_NOT_AVAILABLE) X(-8, CL_MEM_COPY_OVERLAP) X(-9, CL_IMAGE_FORMAT_MISMATCH) \
  X(-10, CL_IMAGE_FORMAT_NOT_SUPPORTED) X(-11, CL_BUILD_PROGRAM_FAILURE) X(-12, CL_MAP_FAILURE)  \
  X(-13, CL_MISALIGNED_SUB_BUFFER_OFFSET) X(-14, CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)   \
  X(-15, CL_COMPILE_PROGRAM_FAILURE) X(-16, CL_LINKER_NOT_AVAILABLE) X(-17, CL_LINK_PROGRAM_FAILURE) \
  X(-18, CL_DEVICE_PARTITION_FAILED) X(-19, CL_KERNEL_ARG_INFO_NOT_AVAILABLE)                    \
  X(-30, CL_INVALID_VALUE) X(-31, CL_INVALID_DEVICE_TYPE) X(-32, CL_INVALID_PLATFORM)            \
  X(-33, CL_INVALID_DEVICE) X(-34, CL_INVALID_CONTEXT) X(-35, CL_INVALID_QUEUE_PROPERTIES)       \
  X(-36, CL_INVALID_COMMAND_QUEUE) X(-37, CL_INVALID_HOST_PTR) X(-38, CL_INVALID_MEM_OBJECT)     \
  X(-39, CL_INVALID_IMAGE_FORMAT_DESCRIPTOR) X(-40, CL_INVALID_IMAGE_SIZE) X(-41, CL_INVALID_SAMPLER) \
  X(-42, CL_INVALID_BINARY) X(-43, CL_INVALID_BUILD_OPTIONS) X(-44, CL_INVALID_PROGRAM)          \
  X(-45, CL_INVALID_PROGRAM_EXECUTABLE) X(-46, CL_INVALID_KERNEL_NAME)                           \
  X(-47, CL_INVALID_KERNEL_DEFINITION) X(-48, CL_INVALID_KERNEL) X(-49, CL_INVALID_ARG_INDEX)    \
  X(-50, CL_INVALID_ARG_VALUE) X(-51, CL_INVALID_ARG_SIZE) X(-52, CL_INVALID_KERNEL_ARGS)        \
  X(-53, CL_INVALID_WORK_DIMENSION) X(-54, CL_INVALID_WORK_GROUP_SIZE)                           \
  X(-55, CL_INVALID_WORK_ITEM_SIZE) X(-56, CL_INVALID_GLOBAL_OFFSET)                             \
  X(-57, CL_INVALID_EVENT_WAIT_LIST) X(-58, CL_INVALID_EVENT) X(-59, CL_INVALID_OPERATION)       \
  X(-60, CL_INVALID_GL_OBJECT) X(-61, CL_INVALID_BUFFER_SIZE) X(-62, CL_INVALID_MIP_LEVEL)       \
  X(-63, CL_INVALID_GLOBAL_WORK_SIZE) X(-64, CL_INVALID_PROPERTY)                                \
  X(-65, CL_INVALID_IMAGE_DESCRIPTOR) X(-66, CL_INVALID_COMPILER_OPTIONS)                        \
  X(-67, CL_INVALID_LINKER_OPTIONS) X(-68, CL_INVALID_DEVICE_PARTITION_COUNT)                    \
  X(-1001, CL_PLATFORM_NOT_FOUND_KHR)

const char *clfer_cl_error_name(int cl_error) {
  static _Thread_local char unknown[40];
  switch (cl_error) {
#define CLFER__CL_NAME(code, name) \
  case code:                       \
    return #name;
    CLFER__CL_ERRORS(CLFER__CL_NAME)
#undef CLFER__CL_NAME
  }
  snprintf(unknown, sizeof unknown, "CL_UNKNOWN_ERROR(%d)", cl_error);
  return unknown;
}
