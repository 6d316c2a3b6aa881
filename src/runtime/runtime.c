/* runtime.c — creates the context and in-order queue on the selected device, owns device-memory
 * accounting, and maps OpenCL failures to statuses. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime_internal.h"

double clfer__now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

clfer_status clfer__cl_status(cl_int err, const char *what, const char *file, int line) {
  clfer_status status = CLFER_OPENCL_ERROR;
  const char *hint = "";
  if (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES) {
    status = CLFER_DEVICE_OUT_OF_MEMORY;
    hint = " (the device ran out of memory or resources: try a smaller batch)";
  } else if (err == CL_OUT_OF_HOST_MEMORY) {
    status = CLFER_OUT_OF_MEMORY;
  }
  return clfer_set_error(status, "%s failed with %s at %s:%d%s", what, clfer_cl_error_name(err), file,
                         line, hint);
}

static int env_flag(const char *name) {
  const char *v = getenv(name);
  return v && *v && strcmp(v, "0") != 0;
}

static void choose_cache_dir(clfer_runtime_t *rt, const clfer_runtime_options_t *opt) {
  rt->disk_cache = !(opt && opt->no_disk_cache) && !env_flag("CLFER_NO_CACHE");
  rt->cache_dir[0] = '\0';
  if (!rt->disk_cache) return;
  const char *xdg = getenv("XDG_CACHE_HOME");
  const char *home = getenv("HOME");
  if (opt && opt->cache_dir)
    snprintf(rt->cache_dir, sizeof rt->cache_dir, "%s", opt->cache_dir);
  else if (xdg && *xdg)
    snprintf(rt->cache_dir, sizeof rt->cache_dir, "%s/clfer", xdg);
  else if (home && *home)
    snprintf(rt->cache_dir, sizeof rt->cache_dir, "%s/.cache/clfer", home);
  else
    rt->disk_cache = 0;
}

clfer_status clfer_runtime_create(const clfer_runtime_options_t *options, clfer_runtime_t **out) {
  *out = NULL;
  clfer_device_info_t *devices = NULL;
  int count = 0, chosen = -1;
  clfer_device_selector_t sel;
  const char *text = options && options->device ? options->device : getenv("CLFER_DEVICE");
  clfer_status st = clfer_device_selector_parse(text, &sel);
  if (st) return st;
  if ((st = clfer_devices_list(&devices, &count))) return st;
  if ((st = clfer_device_select(&sel, devices, count, &chosen))) {
    free(devices);
    return st;
  }
  clfer_runtime_t *rt = calloc(1, sizeof *rt);
  if (!rt) {
    free(devices);
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory creating the runtime");
  }
  rt->info = devices[chosen];
  free(devices);

  cl_int err = CL_SUCCESS;
  cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)rt->info.platform, 0};
  rt->context = clCreateContext(props, 1, &rt->info.device, NULL, NULL, &err);
  if (err != CL_SUCCESS) {
    st = clfer__cl_status(err, "clCreateContext", __FILE__, __LINE__);
    goto fail;
  }
  rt->queue_profiling = (options && options->profiling) || env_flag("CLFER_PROFILE");
  /* clCreateCommandQueue is deprecated in 2.0 but is the only call OpenCL 1.2 drivers have. */
  rt->queue = clCreateCommandQueue(rt->context, rt->info.device,
                                   rt->queue_profiling ? CL_QUEUE_PROFILING_ENABLE : 0, &err);
  if (err != CL_SUCCESS) {
    st = clfer__cl_status(err, "clCreateCommandQueue", __FILE__, __LINE__);
    goto fail;
  }
  rt->profiling = rt->queue_profiling;
  choose_cache_dir(rt, options);
  /* Base build options: OpenCL C 1.2 everywhere; device quirks are appended here. */
  snprintf(rt->base_options, sizeof rt->base_options, "-cl-std=CL1.2%s",
           rt->info.vendor == CLFER_VENDOR_NVIDIA ? " -DCLFER_NVIDIA=1" : "");
  *out = rt;
  return CLFER_OK;
fail:
  clfer_runtime_destroy(rt);
  return st;
}

void clfer_runtime_destroy(clfer_runtime_t *rt) {
  if (!rt) return;
  if (rt->queue) clFinish(rt->queue);
  clfer__profile_free(rt);
  clfer__pool_free_all(rt);
  clfer_device_free(rt, rt->gemm_temp, rt->gemm_temp_bytes);
  clfer__programs_free(rt);
  if (rt->queue) clReleaseCommandQueue(rt->queue);
  if (rt->context) clReleaseContext(rt->context);
  free(rt);
}

const clfer_device_info_t *clfer_runtime_device(const clfer_runtime_t *rt) { return &rt->info; }
cl_context clfer_runtime_cl_context(const clfer_runtime_t *rt) { return rt->context; }
cl_command_queue clfer_runtime_queue(const clfer_runtime_t *rt) { return rt->queue; }

clfer_status clfer_runtime_finish(clfer_runtime_t *rt) {
  CLFER_CL_CHECK(clFinish(rt->queue));
  return CLFER_OK;
}

clfer_status clfer_queue_marker(clfer_runtime_t *rt, cl_event *event) {
  *event = NULL;
  CLFER_CL_CHECK(clEnqueueMarkerWithWaitList(rt->queue, 0, NULL, event));
  return CLFER_OK;
}

clfer_status clfer_event_wait(cl_event *event) {
  if (!*event) return CLFER_OK;
  cl_int err = clWaitForEvents(1, event);
  clReleaseEvent(*event);
  *event = NULL;
  CLFER_CL_CHECK(err);
  return CLFER_OK;
}

/* ---- device memory ---- */

static uint64_t memory_budget(const clfer_runtime_t *rt) {
  return rt->mem_limit ? rt->mem_limit : rt->info.global_mem_bytes;
}

clfer_status clfer_device_alloc(clfer_runtime_t *rt, size_t bytes, cl_mem *out) {
  *out = NULL;
  if (bytes == 0) bytes = 4; /* a zero-sized buffer is invalid; keep one float */
  if ((uint64_t)bytes > rt->info.max_alloc_bytes)
    return clfer_set_error(CLFER_DEVICE_OUT_OF_MEMORY,
                           "allocation of %.1f MiB exceeds %s's largest buffer (%.1f MiB): use a smaller "
                           "batch or input",
                           bytes / 1048576.0, rt->info.name, rt->info.max_alloc_bytes / 1048576.0);
  if (rt->mem_current + bytes > memory_budget(rt))
    return clfer_set_error(CLFER_DEVICE_OUT_OF_MEMORY,
                           "allocation of %.1f MiB would exceed %s's memory (%.1f MiB in use of %.1f MiB): "
                           "use a smaller batch or input",
                           bytes / 1048576.0, rt->info.name, rt->mem_current / 1048576.0,
                           memory_budget(rt) / 1048576.0);
  cl_int err = CL_SUCCESS;
  cl_mem mem = clCreateBuffer(rt->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
  if (err != CL_SUCCESS) return clfer__cl_status(err, "clCreateBuffer", __FILE__, __LINE__);
  rt->mem_current += bytes;
  rt->mem_allocations++;
  if (rt->mem_current > rt->mem_peak) rt->mem_peak = rt->mem_current;
  *out = mem;
  return CLFER_OK;
}

void clfer_device_free(clfer_runtime_t *rt, cl_mem mem, size_t bytes) {
  if (!mem) return;
  if (bytes == 0) bytes = 4;
  clReleaseMemObject(mem);
  rt->mem_current = rt->mem_current >= bytes ? rt->mem_current - bytes : 0;
}

clfer_memory_stats_t clfer_memory_stats(const clfer_runtime_t *rt) {
  clfer_memory_stats_t s = {rt->mem_current, rt->mem_peak, rt->mem_allocations};
  return s;
}

void clfer_memory_set_limit(clfer_runtime_t *rt, uint64_t bytes) { rt->mem_limit = bytes; }
