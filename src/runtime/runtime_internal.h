/* runtime_internal.h — the runtime's private state and helpers, shared by the files of
 * src/runtime/, the tensor pool and other internals (clock, whole-file output). Not installed. */
#ifndef CLFER_RUNTIME_INTERNAL_H
#define CLFER_RUNTIME_INTERNAL_H

#include <stdio.h>

#include "clfer/runtime.h"
#include "clfer/tensor.h"

/* Wraps an OpenCL call: on failure records the call, its error name and where, and returns a
 * status from the enclosing function (which must return clfer_status). */
#define CLFER_CL_CHECK(expr)                                                                  \
  do {                                                                                        \
    cl_int clfer__err = (expr);                                                               \
    if (clfer__err != CL_SUCCESS) return clfer__cl_status(clfer__err, #expr, __FILE__, __LINE__); \
  } while (0)

/* Records an OpenCL failure and maps it to a status (allocation failures are out-of-memory). */
clfer_status clfer__cl_status(cl_int err, const char *what, const char *file, int line);

typedef struct clfer__program_entry {
  char *name;    /* kernel file name or user-supplied name */
  char *options; /* the full build option string */
  cl_program program;
  struct clfer__program_entry *next;
} clfer__program_entry_t;

typedef struct clfer__kernel_entry {
  cl_program program;
  char *kernel_name;
  cl_kernel kernel;
  struct clfer__kernel_entry *next;
} clfer__kernel_entry_t;

typedef struct clfer__event_record {
  cl_event event;
  cl_event begin; /* NULL, or a marker whose end opens the interval (a call of several kernels) */
  const char *name; /* interned in the profile's name table */
  double flops, bytes;
  cl_ulong start_ns, end_ns; /* valid once collected */
} clfer__event_record_t;

typedef struct clfer__pool_block {
  cl_mem mem;
  size_t bytes;
  struct clfer__pool_block *next;
} clfer__pool_block_t;

struct clfer_runtime {
  clfer_device_info_t info;
  cl_context context;
  cl_command_queue queue;
  int queue_profiling; /* the queue was created with CL_QUEUE_PROFILING_ENABLE */
  int profiling;       /* events are being recorded */

  char base_options[512];
  int disk_cache;
  int cache_verdict_read; /* the device's verdict file has been looked for (program_stats.disk_verdict) */
  char cache_dir[1024];
  clfer__program_entry_t *programs;
  clfer__kernel_entry_t *kernels;
  clfer_program_stats_t program_stats;

  /* profiling: pending and collected launches */
  clfer__event_record_t *events;
  size_t n_events, cap_events;
  char **names; /* interned launch names */
  size_t n_names, cap_names;
  clfer_profile_row_t *rows;
  int n_rows;

  /* memory accounting */
  uint64_t mem_current, mem_peak, mem_allocations, mem_limit;

  /* CLBlast's temporary matrices (launch.c): kept and grown instead of created on every call */
  cl_mem gemm_temp;
  size_t gemm_temp_bytes;

  /* tensor pool: free blocks, smallest first */
  clfer__pool_block_t *pool_free;
  clfer_pool_stats_t pool_stats;
};

/* Records the event of a launch (or CLBlast call) when profiling; takes ownership of `event`. */
void clfer__profile_record(clfer_runtime_t *rt, cl_event event, const char *name, double flops,
                           double bytes);
/* The same for a span from the end of marker `begin` (may be NULL) to the end of `event`; takes
 * ownership of both. */
void clfer__profile_record_span(clfer_runtime_t *rt, cl_event begin, cl_event event, const char *name,
                                double flops, double bytes);
void clfer__profile_free(clfer_runtime_t *rt);
/* Whether clfer_sgemm runs clfer's own CPU kernels (kernels/gemm.cl) rather than CLBlast: a CPU
 * device, unless $CLFER_GEMM=clblast or $CLFER_GPU_PATHS=1 (launch.c). */
int clfer__own_gemm(const clfer_runtime_t *rt);
/* Whether the device's GEMM computes this row-major product (operands at offset 0) in place,
 * without copying any operand into a temporary: CLBlast with the device's GEMM settings, or the
 * own CPU kernels, which copy only a transposed B (launch.c). */
int clfer__sgemm_in_place(clfer_runtime_t *rt, int trans_a, int trans_b, size_t m, size_t n, size_t k, size_t lda,
                          size_t ldb, size_t ldc);
/* The temporary the device's GEMM needs for that product in the form clfer_sgemm runs it, in
 * bytes (0: in place; SIZE_MAX when CLBlast refuses the sizes). */
size_t clfer__sgemm_temp_bytes(clfer_runtime_t *rt, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                               size_t lda, size_t ldb, size_t ldc);
/* dst[z] = src[z]ᵀ for `copies` row-major n × k matrices (leading dimension ld, `stride` floats
 * apart from src_off), each laid out [k][n] in dst: what the own CPU GEMM does to a transposed B
 * before every product, for a caller that reuses one B across several products to do once
 * (kernels/gemm.cl's sgemm_cpu_transpose, recorded as such; launch.c). */
clfer_status clfer__sgemm_transpose_b(clfer_runtime_t *rt, cl_mem src, size_t src_off, size_t ld, size_t stride,
                                      size_t n, size_t k, size_t copies, cl_mem dst);
void clfer__programs_free(clfer_runtime_t *rt);
void clfer__pool_free_all(clfer_runtime_t *rt);
double clfer__now_seconds(void);

/* Writing an output file whole or not at all: the text goes to PATH.tmp, which replaces PATH only
 * when every write succeeded, so a reader never sees half a file (replace_file.c).
 * clfer__replace_open: NULL with the error set when PATH.tmp cannot be opened (its name in tmp).
 * clfer__replace_close: closes and renames; on any failure removes tmp and returns
 * CLFER_IO_ERROR naming path. */
FILE *clfer__replace_open(const char *path, char *tmp, size_t size);
clfer_status clfer__replace_close(FILE *f, const char *tmp, const char *path);

#endif
