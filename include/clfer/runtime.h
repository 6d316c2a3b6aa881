/* clfer/runtime.h — OpenCL device discovery and selection, the runtime (context + queue), programs
 * built from the embedded kernels/<name>.cl with an in-memory and on-disk binary cache, the one launch
 * function every kernel goes through, CLBlast GEMM through the same path, event profiling and
 * device-memory accounting. */
#ifndef CLFER_RUNTIME_H
#define CLFER_RUNTIME_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "clfer/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- devices ------------------------------------------------------------------------------ */

typedef enum clfer_vendor {
  CLFER_VENDOR_OTHER = 0,
  CLFER_VENDOR_NVIDIA,
  CLFER_VENDOR_AMD,
  CLFER_VENDOR_INTEL,
  CLFER_VENDOR_POCL,
} clfer_vendor;

typedef struct clfer_device_info {
  int platform_index, device_index;
  cl_platform_id platform;
  cl_device_id device;
  char platform_name[128];
  char platform_version[128];
  char name[128];
  char vendor_name[128];
  char driver_version[64];
  char opencl_c_version[64];
  clfer_vendor vendor;
  int is_gpu, is_cpu;
  unsigned compute_units;
  uint64_t global_mem_bytes;
  uint64_t local_mem_bytes;
  uint64_t max_alloc_bytes;
  uint64_t global_mem_cache_bytes; /* the device's last-level cache for global memory (0: unknown; CPU
                                      devices: CLFER_CPU_CACHE_BYTES, else 32 MiB where none is reported) */
  size_t max_work_group_size;
  size_t max_work_item_sizes[3];
  int has_fp16, has_fp64;
  unsigned mem_base_align_bytes; /* sub-buffer offset alignment */
} clfer_device_info_t;

/* How a device is chosen; see clfer_device_selector_parse. */
typedef enum clfer_selector_kind {
  CLFER_SELECT_AUTO = 0, /* first GPU, else first CPU, else first device */
  CLFER_SELECT_GPU,
  CLFER_SELECT_CPU,
  CLFER_SELECT_VENDOR, /* nvidia | amd | intel | pocl */
  CLFER_SELECT_INDEX,  /* "P:D" */
  CLFER_SELECT_NAME,   /* case-insensitive substring of the device name */
} clfer_selector_kind;

typedef struct clfer_device_selector {
  clfer_selector_kind kind;
  clfer_vendor vendor;
  int platform_index, device_index;
  char name[128];
} clfer_device_selector_t;

/* Parses "auto", "gpu", "cpu", "nvidia", "amd", "intel", "pocl", "P:D" or a name substring.
 * NULL or "" means auto. */
clfer_status clfer_device_selector_parse(const char *text, clfer_device_selector_t *out);
/* Picks the index into `devices` the selector names; CLFER_NO_DEVICE when none matches. */
clfer_status clfer_device_select(const clfer_device_selector_t *sel, const clfer_device_info_t *devices,
                                 int count, int *chosen);
/* Enumerates every device of every platform. *devices is malloc'ed; free() it. No platform is
 * CLFER_NO_PLATFORM with a message saying what to install or check. */
clfer_status clfer_devices_list(clfer_device_info_t **devices, int *count);
const char *clfer_vendor_name(clfer_vendor vendor);

/* ---- runtime ------------------------------------------------------------------------------ */

typedef struct clfer_runtime clfer_runtime_t;

typedef struct clfer_runtime_options {
  const char *device; /* selector text; NULL = $CLFER_DEVICE, else auto */
  int profiling;      /* record an event per launch (also $CLFER_PROFILE=1) */
  int no_disk_cache;  /* also $CLFER_NO_CACHE=1 */
  const char *cache_dir; /* NULL = $XDG_CACHE_HOME/clfer or ~/.cache/clfer */
} clfer_runtime_options_t;

clfer_status clfer_runtime_create(const clfer_runtime_options_t *options, clfer_runtime_t **out);
void clfer_runtime_destroy(clfer_runtime_t *rt);
const clfer_device_info_t *clfer_runtime_device(const clfer_runtime_t *rt);
cl_context clfer_runtime_cl_context(const clfer_runtime_t *rt);
cl_command_queue clfer_runtime_queue(const clfer_runtime_t *rt);
/* Waits for all queued work. */
clfer_status clfer_runtime_finish(clfer_runtime_t *rt);
/* Enqueues a marker: *event completes once everything enqueued before it has (release it with
 * clfer_event_wait). Lets the host reuse memory handed to an async upload without a clFinish. */
clfer_status clfer_queue_marker(clfer_runtime_t *rt, cl_event *event);
/* Waits for *event and releases it; a NULL *event returns at once. *event is NULL afterwards. */
clfer_status clfer_event_wait(cl_event *event);

/* ---- programs ----------------------------------------------------------------------------- */

/* Statistics of program builds, for tests and benchmarks. */
typedef struct clfer_program_stats {
  unsigned memory_hits;  /* served from this runtime's in-memory cache */
  unsigned disk_hits;    /* built from a cached binary */
  unsigned compiles;     /* built from source */
  unsigned disk_rejects; /* cache files found but unusable (corrupt, mismatched) */
  double build_seconds;  /* wall time spent in clBuildProgram, all builds */
  /* Whether the disk cache pays on this device and driver, measured once (the first cache hit
   * is also built from source, with the driver's own caches as they are) and kept in the cache
   * directory: 0 not known yet, 1 it pays (used), −1 it does not (neither read nor written). */
  int disk_verdict;
  double verdict_binary_seconds, verdict_source_seconds; /* the measurement behind it, when known */
} clfer_program_stats_t;

/* Returns the built program for kernels/<name>.cl with extra `-D` options appended to the
 * runtime's base options (NULL for none). Owned by the runtime. */
clfer_status clfer_program_get(clfer_runtime_t *rt, const char *name, const char *extra_options,
                               cl_program *out);
/* The same for source text the caller supplies (tests, user kernels); `name` appears in error
 * messages as "<name>.cl:LINE". */
clfer_status clfer_program_from_source(clfer_runtime_t *rt, const char *name, const char *source,
                                       const char *extra_options, cl_program *out);
/* Returns a kernel object, created once per (program, options, kernel name) and owned by the
 * runtime. */
clfer_status clfer_kernel_get(clfer_runtime_t *rt, const char *program, const char *extra_options,
                              const char *kernel_name, cl_kernel *out);
/* The full option string used for builds on this device (base options + extra). */
clfer_status clfer_program_options(const clfer_runtime_t *rt, const char *extra_options, char *buf,
                                   size_t size);
/* The embedded (or $CLFER_KERNEL_DIR) source of kernels/<name>.cl; NULL when there is none. */
const char *clfer_kernel_source(const char *name, size_t *length);
/* Names of every embedded kernel file (without .cl), NULL-terminated. */
const char *const *clfer_kernel_sources(void);
clfer_program_stats_t clfer_program_stats(const clfer_runtime_t *rt);
/* The disk cache directory in use, or "" when the disk cache is off. */
const char *clfer_program_cache_dir(const clfer_runtime_t *rt);

/* ---- launches ----------------------------------------------------------------------------- */

typedef enum clfer_arg_kind { CLFER_ARGK_MEM, CLFER_ARGK_INT, CLFER_ARGK_UINT, CLFER_ARGK_FLOAT,
                              CLFER_ARGK_ULONG, CLFER_ARGK_LOCAL } clfer_arg_kind;

/* One kernel argument; build them with the CLFER_ARG_* macros. */
typedef struct clfer_arg {
  clfer_arg_kind kind;
  union {
    cl_mem mem;
    cl_int i;
    cl_uint u;
    cl_float f;
    cl_ulong ul;
    size_t local_bytes;
  } v;
} clfer_arg_t;

#define CLFER_ARG_MEM(m) ((clfer_arg_t){.kind = CLFER_ARGK_MEM, .v.mem = (m)})
#define CLFER_ARG_INT(x) ((clfer_arg_t){.kind = CLFER_ARGK_INT, .v.i = (cl_int)(x)})
#define CLFER_ARG_UINT(x) ((clfer_arg_t){.kind = CLFER_ARGK_UINT, .v.u = (cl_uint)(x)})
#define CLFER_ARG_FLOAT(x) ((clfer_arg_t){.kind = CLFER_ARGK_FLOAT, .v.f = (cl_float)(x)})
#define CLFER_ARG_ULONG(x) ((clfer_arg_t){.kind = CLFER_ARGK_ULONG, .v.ul = (cl_ulong)(x)})
#define CLFER_ARG_LOCAL(bytes) ((clfer_arg_t){.kind = CLFER_ARGK_LOCAL, .v.local_bytes = (bytes)})

/* Cost model of one launch, for the profiler's GFLOP/s and GB/s columns (0 = unknown). */
typedef struct clfer_cost {
  double flops;
  double bytes;
} clfer_cost_t;

/* Everything one launch needs. `local` may be NULL (the driver chooses); when given, `global`
 * is rounded up to a multiple of it, and it is checked against the device's limits first.
 * `name` labels the launch in the profile (defaults to the kernel's function name). */
typedef struct clfer_launch_desc {
  cl_kernel kernel;
  const char *name;
  unsigned dims;
  size_t global[3];
  size_t local[3]; /* all zero = let the driver choose */
  const clfer_arg_t *args;
  unsigned nargs;
  clfer_cost_t cost;
} clfer_launch_desc_t;

clfer_status clfer_launch(clfer_runtime_t *rt, const clfer_launch_desc_t *desc);

/* Convenience: fetch the kernel (cached) and launch it in one call. */
clfer_status clfer_run_kernel(clfer_runtime_t *rt, const char *program, const char *extra_options,
                              const char *kernel_name, unsigned dims, const size_t *global,
                              const size_t *local, const clfer_arg_t *args, unsigned nargs,
                              clfer_cost_t cost);
/* CLFER_RUN(rt, "basic", NULL, "fill_f32", 1, g, NULL, cost, CLFER_ARG_MEM(m), ...) counts the
 * arguments itself. */
#define CLFER_RUN(rt, program, options, kernel, dims, global, local, cost, ...)                   \
  clfer_run_kernel((rt), (program), (options), (kernel), (dims), (global), (local),              \
                   (const clfer_arg_t[]){__VA_ARGS__},                                           \
                   (unsigned)(sizeof((const clfer_arg_t[]){__VA_ARGS__}) / sizeof(clfer_arg_t)), \
                   (cost))

/* ---- GEMM: CLBlast, or clfer's own kernels on CPU devices ---------------------------------- */

/* Row-major C[m×n] = alpha·op(A)·op(B) + beta·C, buffers with element offsets and leading
 * dimensions, recorded by the profiler as "sgemm". GPUs run CLBlast; CPU devices run clfer's own
 * kernels (kernels/gemm.cl), unless $CLFER_GEMM=clblast or $CLFER_GPU_PATHS=1. */
clfer_status clfer_sgemm(clfer_runtime_t *rt, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                         float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off,
                         size_t ldb, float beta, cl_mem c, size_t c_off, size_t ldc);
/* Strided-batched row-major GEMM (one launch for `batch` products), "sgemm_batched". With CLBlast
 * only when the operands are packed back to back from offset 0 (strides lda·rows of A, ldb·rows
 * of B, ldc·m) and its kernel reads them in place; otherwise (a shared operand with stride 0,
 * padded strides, offsets, or copies needed) the products run one by one as clfer_sgemm. The
 * own CPU kernels take any strides in one launch. */
clfer_status clfer_sgemm_strided_batched(clfer_runtime_t *rt, int trans_a, int trans_b, size_t m,
                                         size_t n, size_t k, float alpha, cl_mem a, size_t a_off,
                                         size_t lda, size_t a_stride, cl_mem b, size_t b_off,
                                         size_t ldb, size_t b_stride, float beta, cl_mem c,
                                         size_t c_off, size_t ldc, size_t c_stride, size_t batch);
/* Which GEMM the runtime's device runs: "clblast" or "clfer-cpu". */
const char *clfer_sgemm_engine(const clfer_runtime_t *rt);
/* Name of a CLBlast status code. */
const char *clfer_clblast_status_name(int code);

/* ---- device memory ------------------------------------------------------------------------ */

/* Allocates a device buffer, refusing (CLFER_DEVICE_OUT_OF_MEMORY with a message) a size past
 * the device's max allocation or past its global memory given what clfer already holds. */
clfer_status clfer_device_alloc(clfer_runtime_t *rt, size_t bytes, cl_mem *out);
void clfer_device_free(clfer_runtime_t *rt, cl_mem mem, size_t bytes);
typedef struct clfer_memory_stats {
  uint64_t current_bytes, peak_bytes;
  uint64_t allocations; /* clCreateBuffer calls so far */
} clfer_memory_stats_t;
clfer_memory_stats_t clfer_memory_stats(const clfer_runtime_t *rt);
/* Overrides the budget (bytes) used for the out-of-memory check; 0 restores the device's. */
void clfer_memory_set_limit(clfer_runtime_t *rt, uint64_t bytes);

/* ---- profiling ---------------------------------------------------------------------------- */

typedef struct clfer_profile_row {
  char name[64];
  unsigned long calls;
  double total_ms;
  double flops, bytes; /* summed over calls */
} clfer_profile_row_t;

int clfer_profile_enabled(const clfer_runtime_t *rt);
/* Turns event recording on or off (the queue must have been created with profiling, i.e.
 * options.profiling, for timings to exist; otherwise enabling is CLFER_UNSUPPORTED). */
clfer_status clfer_profile_enable(clfer_runtime_t *rt, int on);
/* Number of launches recorded so far (events pending or collected). */
unsigned long clfer_profile_launches(const clfer_runtime_t *rt);
/* Waits for recorded events and folds them into the per-kernel table. *rows is owned by the
 * runtime and valid until the next profile call. Sorted by total time, largest first. */
clfer_status clfer_profile_rows(clfer_runtime_t *rt, const clfer_profile_row_t **rows, int *count);
/* Attainable peaks of the device, for roofline figures: measured once per device and process
 * (an FMA-chain kernel and a copy kernel, about 0.5 s), or read from $CLFER_PEAK_GFLOPS and
 * $CLFER_PEAK_GBS when both are set (e.g. spec-sheet figures). */
typedef struct clfer_device_peaks {
  double gflops, gbs;
  char method[96];
} clfer_device_peaks_t;
clfer_status clfer_device_peaks(clfer_runtime_t *rt, clfer_device_peaks_t *out);
/* Prints the table: kernel, calls, total ms, mean µs, share, GFLOP/s, GB/s, then % of the device's
 * peak FLOP/s and bandwidth and which roof bounds the kernel (peaks skipped with CLFER_PEAKS=0). */
clfer_status clfer_profile_report(clfer_runtime_t *rt, FILE *out);
/* Writes every recorded launch as a Chrome trace ("traceEvents") that Perfetto opens. */
clfer_status clfer_profile_write_trace(clfer_runtime_t *rt, const char *path);
void clfer_profile_reset(clfer_runtime_t *rt);

#ifdef __cplusplus
}
#endif
#endif
