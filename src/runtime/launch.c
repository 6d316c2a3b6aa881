/* launch.c — the one function that enqueues every kernel (checks the local size against the
 * device, sets arguments by counting indices itself, records an event when profiling) and the
 * GEMM calls routed through the same recording path: CLBlast, or on CPU devices clfer's own
 * kernels (kernels/gemm.cl). */
#include <clblast_c.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../ops/gemm_tuning.h"
#include "../ops/launch_shape.h"
#include "runtime_internal.h"

static clfer_status set_args(cl_kernel kernel, const char *name, const clfer_arg_t *args, unsigned nargs) {
  for (unsigned i = 0; i < nargs; i++) {
    const clfer_arg_t *a = &args[i];
    cl_int err;
    switch (a->kind) {
      case CLFER_ARGK_MEM: err = clSetKernelArg(kernel, i, sizeof(cl_mem), &a->v.mem); break;
      case CLFER_ARGK_INT: err = clSetKernelArg(kernel, i, sizeof(cl_int), &a->v.i); break;
      case CLFER_ARGK_UINT: err = clSetKernelArg(kernel, i, sizeof(cl_uint), &a->v.u); break;
      case CLFER_ARGK_FLOAT: err = clSetKernelArg(kernel, i, sizeof(cl_float), &a->v.f); break;
      case CLFER_ARGK_ULONG: err = clSetKernelArg(kernel, i, sizeof(cl_ulong), &a->v.ul); break;
      case CLFER_ARGK_LOCAL: err = clSetKernelArg(kernel, i, a->v.local_bytes, NULL); break;
      default: err = CL_INVALID_ARG_VALUE; break;
    }
    if (err != CL_SUCCESS)
      return clfer_set_error(CLFER_OPENCL_ERROR, "kernel %s: setting argument %u failed with %s", name, i,
                             clfer_cl_error_name(err));
  }
  cl_uint expected = 0;
  if (clGetKernelInfo(kernel, CL_KERNEL_NUM_ARGS, sizeof expected, &expected, NULL) == CL_SUCCESS &&
      expected != nargs)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "kernel %s takes %u arguments, %u given", name, expected, nargs);
  return CLFER_OK;
}

static const char *kernel_function_name(cl_kernel kernel, char *buf, size_t size) {
  buf[0] = '\0';
  clGetKernelInfo(kernel, CL_KERNEL_FUNCTION_NAME, size, buf, NULL);
  buf[size - 1] = '\0';
  return buf;
}

clfer_status clfer_launch(clfer_runtime_t *rt, const clfer_launch_desc_t *d) {
  char fname[64];
  const char *name = d->name ? d->name : kernel_function_name(d->kernel, fname, sizeof fname);
  if (d->dims < 1 || d->dims > 3)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "kernel %s: %u dimensions (1 to 3 allowed)", name, d->dims);
  size_t global[3] = {1, 1, 1}, local[3] = {1, 1, 1};
  int has_local = 0;
  size_t local_total = 1;
  for (unsigned i = 0; i < d->dims; i++) {
    if (d->global[i] == 0) return CLFER_OK; /* nothing to do */
    has_local |= d->local[i] != 0;
  }
  for (unsigned i = 0; i < d->dims; i++) {
    local[i] = has_local ? (d->local[i] ? d->local[i] : 1) : 0;
    global[i] = d->global[i];
    if (has_local) {
      if (local[i] > rt->info.max_work_item_sizes[i])
        return clfer_set_error(CLFER_INVALID_ARGUMENT,
                               "kernel %s: local size %zu in dimension %u exceeds %s's limit %zu", name,
                               local[i], i, rt->info.name, rt->info.max_work_item_sizes[i]);
      local_total *= local[i];
      global[i] = (global[i] + local[i] - 1) / local[i] * local[i];
    }
  }
  if (has_local) {
    size_t kernel_wg = rt->info.max_work_group_size;
    clGetKernelWorkGroupInfo(d->kernel, rt->info.device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kernel_wg, &kernel_wg,
                             NULL);
    if (local_total > kernel_wg)
      return clfer_set_error(CLFER_INVALID_ARGUMENT,
                             "kernel %s: work-group of %zu items exceeds the %zu this kernel allows on %s", name,
                             local_total, kernel_wg, rt->info.name);
  }
  clfer_status st = set_args(d->kernel, name, d->args, d->nargs);
  if (st) return st;
  cl_event event = NULL;
  cl_int err = clEnqueueNDRangeKernel(rt->queue, d->kernel, d->dims, NULL, global, has_local ? local : NULL, 0,
                                      NULL, rt->profiling ? &event : NULL);
  if (err != CL_SUCCESS) {
    clfer__cl_status(err, "clEnqueueNDRangeKernel", __FILE__, __LINE__);
    return clfer_wrap_error(err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES
                                ? CLFER_DEVICE_OUT_OF_MEMORY
                                : CLFER_OPENCL_ERROR,
                            "kernel %s: ", name);
  }
  if (event) clfer__profile_record(rt, event, name, d->cost.flops, d->cost.bytes);
  return CLFER_OK;
}

clfer_status clfer_run_kernel(clfer_runtime_t *rt, const char *program, const char *extra_options,
                              const char *kernel_name, unsigned dims, const size_t *global, const size_t *local,
                              const clfer_arg_t *args, unsigned nargs, clfer_cost_t cost) {
  clfer_launch_desc_t d = {0};
  clfer_status st = clfer_kernel_get(rt, program, extra_options, kernel_name, &d.kernel);
  if (st) return st;
  d.name = kernel_name;
  d.dims = dims;
  for (unsigned i = 0; i < dims && i < 3; i++) {
    d.global[i] = global[i];
    d.local[i] = local ? local[i] : 0;
  }
  d.args = args;
  d.nargs = nargs;
  d.cost = cost;
  return clfer_launch(rt, &d);
}

/* ---- CLBlast ---- */

const char *clfer_clblast_status_name(int code) {
  if (code > -1000) return clfer_cl_error_name(code);
  switch (code) {
    case CLBlastNotImplemented: return "CLBlastNotImplemented";
    case CLBlastInvalidMatrixA: return "CLBlastInvalidMatrixA";
    case CLBlastInvalidMatrixB: return "CLBlastInvalidMatrixB";
    case CLBlastInvalidMatrixC: return "CLBlastInvalidMatrixC";
    case CLBlastInvalidDimension: return "CLBlastInvalidDimension";
    case CLBlastInvalidLeadDimA: return "CLBlastInvalidLeadDimA";
    case CLBlastInvalidLeadDimB: return "CLBlastInvalidLeadDimB";
    case CLBlastInvalidLeadDimC: return "CLBlastInvalidLeadDimC";
    case CLBlastInsufficientMemoryA: return "CLBlastInsufficientMemoryA";
    case CLBlastInsufficientMemoryB: return "CLBlastInsufficientMemoryB";
    case CLBlastInsufficientMemoryC: return "CLBlastInsufficientMemoryC";
    case CLBlastInsufficientMemoryTemp: return "CLBlastInsufficientMemoryTemp";
    case CLBlastInvalidBatchCount: return "CLBlastInvalidBatchCount";
    case CLBlastInvalidOverrideKernel: return "CLBlastInvalidOverrideKernel";
    case CLBlastMissingOverrideParameter: return "CLBlastMissingOverrideParameter";
    case CLBlastInvalidLocalMemUsage: return "CLBlastInvalidLocalMemUsage";
    case CLBlastDatabaseError: return "CLBlastDatabaseError";
    case CLBlastUnknownError: return "CLBlastUnknownError";
    case CLBlastUnexpectedError: return "CLBlastUnexpectedError";
    default: return "CLBlastError";
  }
}

static clfer_status clblast_status(clfer_runtime_t *rt, CLBlastStatusCode code, const char *what, size_t m,
                                   size_t n, size_t k) {
  if (code == CLBlastSuccess) return CLFER_OK;
  clfer_status st = (code == CLBlastInsufficientMemoryA || code == CLBlastInsufficientMemoryB ||
                     code == CLBlastInsufficientMemoryC)
                        ? CLFER_SHAPE_MISMATCH
                    : (code == CL_MEM_OBJECT_ALLOCATION_FAILURE || code == CL_OUT_OF_RESOURCES)
                        ? CLFER_DEVICE_OUT_OF_MEMORY
                        : CLFER_CLBLAST_ERROR;
  return clfer_set_error(st, "%s (m=%zu n=%zu k=%zu) on %s failed with %s (%d)", what, m, n, k, rt->info.name,
                         clfer_clblast_status_name(code), (int)code);
}

/* CLBlast's fast (indirect) GEMM kernel takes its operands in one fixed form (with GEMMK = 0, the
 * usual parameters: C column-major) and copies, transposes and pads into a temporary whatever is
 * not in that form. Row-major C = op(A)·op(B) is also column-major Cᵀ = op(B)ᵀ·op(A)ᵀ over the
 * same memory, and the two forms copy different operands: for clfer's convolutions the row-major
 * form transposed the whole output twice per call, which on PoCL cost more than a third of a
 * VGG13-FER+ training step. So each call asks CLBlast how much temporary space each form needs
 * (well under a microsecond) and runs the one that copies less. The copies go to one buffer the
 * runtime keeps and grows, instead of a buffer CLBlast creates and frees on every call. */
static cl_mem gemm_temp_buffer(clfer_runtime_t *rt, size_t bytes, clfer_status *st) {
  *st = CLFER_OK;
  if (bytes == 0) return NULL;
  if (bytes > rt->gemm_temp_bytes) {
    /* commands already queued keep the old buffer alive until they finish (in-order queue) */
    clfer_device_free(rt, rt->gemm_temp, rt->gemm_temp_bytes);
    rt->gemm_temp = NULL, rt->gemm_temp_bytes = 0;
    size_t grown = (bytes + (1u << 20) - 1) & ~(size_t)((1u << 20) - 1);
    if (grown > rt->info.max_alloc_bytes) grown = bytes;
    if ((*st = clfer_device_alloc(rt, grown, &rt->gemm_temp))) return NULL;
    rt->gemm_temp_bytes = grown;
  }
  return rt->gemm_temp;
}

/* With profiling on, a marker before the call opens the interval so that CLBlast's copy kernels
 * count as part of the GEMM (its returned event is only the last of its kernels). */
static cl_event profile_begin(clfer_runtime_t *rt) {
  cl_event begin = NULL;
  if (rt->profiling && clEnqueueMarkerWithWaitList(rt->queue, 0, NULL, &begin) != CL_SUCCESS) begin = NULL;
  return begin;
}

static void profile_end(clfer_runtime_t *rt, cl_event begin, cl_event event, const char *name, double flops,
                        double bytes) {
  if (event)
    clfer__profile_record_span(rt, begin, event, name, flops, bytes);
  else if (begin)
    clReleaseEvent(begin);
}

/* The temporary CLBlast needs for the column-major form Cᵀ[n×m] = op(B)ᵀ[n×k] · op(A)ᵀ[k×m] of a
 * row-major product (see above); call between clfer__gemm_begin and _end, whose parameters
 * decide it. */
static CLBlastStatusCode col_major_temp_bytes(clfer_runtime_t *rt, int trans_a, int trans_b, size_t m, size_t n,
                                              size_t k, size_t a_off, size_t lda, size_t b_off, size_t ldb,
                                              size_t c_off, size_t ldc, size_t *bytes) {
  *bytes = 0;
  return CLBlastSGemmTempBufferSize(CLBlastLayoutColMajor, trans_b ? CLBlastTransposeYes : CLBlastTransposeNo,
                                    trans_a ? CLBlastTransposeYes : CLBlastTransposeNo, n, m, k, b_off, ldb, a_off,
                                    lda, c_off, ldc, &rt->queue, bytes);
}

/* The form sgemm_call runs a product in: column-major, or row-major as asked when that copies
 * less (see above); *bytes is the temporary it needs. Between clfer__gemm_begin and _end. */
static clfer_status sgemm_form(clfer_runtime_t *rt, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                               size_t a_off, size_t lda, size_t b_off, size_t ldb, size_t c_off, size_t ldc,
                               int *row_major, size_t *bytes) {
  size_t col_bytes = 0, row_bytes = 0;
  CLBlastStatusCode code =
      col_major_temp_bytes(rt, trans_a, trans_b, m, n, k, a_off, lda, b_off, ldb, c_off, ldc, &col_bytes);
  clfer_status st = clblast_status(rt, code, "CLBlastSGemmTempBufferSize", m, n, k);
  if (st) return st;
  *row_major = col_bytes > 0 &&
               CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
                                          trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, a_off, lda,
                                          b_off, ldb, c_off, ldc, &rt->queue, &row_bytes) == CLBlastSuccess &&
               row_bytes < col_bytes;
  *bytes = *row_major ? row_bytes : col_bytes;
  return CLFER_OK;
}

static clfer_status sgemm_call(clfer_runtime_t *rt, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                               float alpha, cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off, size_t ldb,
                               float beta, cl_mem c, size_t c_off, size_t ldc) {
  const CLBlastTranspose ta = trans_a ? CLBlastTransposeYes : CLBlastTransposeNo;
  const CLBlastTranspose tb = trans_b ? CLBlastTransposeYes : CLBlastTransposeNo;
  int row_major;
  size_t bytes;
  clfer_status st = sgemm_form(rt, trans_a, trans_b, m, n, k, a_off, lda, b_off, ldb, c_off, ldc, &row_major, &bytes);
  if (st) return st;
  cl_mem temp = gemm_temp_buffer(rt, bytes, &st);
  if (st) return st;
  cl_event begin = profile_begin(rt), event = NULL;
  cl_event *ev = rt->profiling ? &event : NULL;
  CLBlastStatusCode code =
      row_major ? CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, ta, tb, m, n, k, alpha, a, a_off, lda, b, b_off,
                                             ldb, beta, c, c_off, ldc, &rt->queue, ev, temp)
                : CLBlastSgemmWithTempBuffer(CLBlastLayoutColMajor, tb, ta, n, m, k, alpha, b, b_off, ldb, a, a_off,
                                             lda, beta, c, c_off, ldc, &rt->queue, ev, temp);
  if ((st = clblast_status(rt, code, "CLBlastSgemm", m, n, k))) {
    if (begin) clReleaseEvent(begin);
    return st;
  }
  profile_end(rt, begin, event, "sgemm", 2.0 * (double)m * (double)n * (double)k,
              4.0 * ((double)m * k + (double)k * n + 2.0 * (double)m * n));
  return CLFER_OK;
}

/* ---- clfer's own GEMM on CPU devices (kernels/gemm.cl) ---- */

/* CPU devices run clfer's own GEMM kernels (2-4× CLBlast's on PoCL, and in place at any size);
 * $CLFER_GEMM=clblast, or the GPU paths ($CLFER_GPU_PATHS=1, as on GPUs), take CLBlast. */
int clfer__own_gemm(const clfer_runtime_t *rt) {
  const char *engine = getenv("CLFER_GEMM"), *gpu_paths = getenv("CLFER_GPU_PATHS");
  return rt->info.is_cpu && !(gpu_paths && *gpu_paths == '1') && !(engine && strcmp(engine, "clblast") == 0);
}

const char *clfer_sgemm_engine(const clfer_runtime_t *rt) { return clfer__own_gemm(rt) ? "clfer-cpu" : "clblast"; }

/* Whether a `rows` × `cols` operand with leading dimension ld at off, `batch` of them `stride`
 * apart, lies inside the buffer: the bound CLBlast checks, checked here for the own kernels. */
static clfer_status operand_fits(const clfer_runtime_t *rt, cl_mem mem, const char *which, size_t off, size_t rows,
                                 size_t cols, size_t ld, size_t stride, size_t batch) {
  if (rows == 0 || cols == 0) return CLFER_OK;
  if (ld < cols)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "sgemm on %s: leading dimension of %s is %zu, under its %zu columns",
                           rt->info.name, which, ld, cols);
  size_t bytes = 0, need = off + (batch - 1) * stride + (rows - 1) * ld + cols;
  if (clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof bytes, &bytes, NULL) != CL_SUCCESS)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "sgemm on %s: %s is not a valid buffer", rt->info.name, which);
  if (need > bytes / sizeof(float))
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "sgemm on %s: %s holds %zu floats, the product reads %zu",
                           rt->info.name, which, bytes / sizeof(float), need);
  return CLFER_OK;
}

/* k per launch of the own kernels: the steps whose rows of B make up 1 MiB, at least 256 */
enum { GEMM_MIN_SLICE = 256, GEMM_SLICE_FLOATS = 1 << 18 };

clfer_status clfer__sgemm_transpose_b(clfer_runtime_t *rt, cl_mem src, size_t src_off, size_t ld, size_t stride,
                                      size_t n, size_t k, size_t copies, cl_mem dst) {
  if (n > INT_MAX || k > INT_MAX || ld > INT_MAX)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "sgemm on %s: a %zu × %zu transpose is past its limits",
                           rt->info.name, n, k);
  /* groups of up to 16 blocks: one block per group left PoCL's scheduling the larger cost
   * (ResNet-18's weights, 45 MB, at 5 GB/s) */
  size_t gs[3] = {(k + 15) / 16, (n + 15) / 16, copies}, ls[3] = {gs[0] < 16 ? gs[0] : 16, 1, 1};
  return CLFER_RUN(rt, "gemm", NULL, "sgemm_cpu_transpose", 3, gs, ls,
                   ((clfer_cost_t){0, 8.0 * (double)copies * n * k}),
                   CLFER_ARG_MEM(src), CLFER_ARG_ULONG(src_off), CLFER_ARG_INT(ld), CLFER_ARG_ULONG(stride),
                   CLFER_ARG_MEM(dst), CLFER_ARG_INT(n), CLFER_ARG_INT(k));
}

/* The own kernels' C = alpha·op(A)·op(B) + beta·C over `batch` products, recorded as `label`. A
 * transposed B is first laid out [k][n] in the runtime's temporary (once when it is shared). */
static clfer_status own_sgemm(clfer_runtime_t *rt, const char *label, int trans_a, int trans_b, size_t m, size_t n,
                              size_t k, float alpha, cl_mem a, size_t a_off, size_t lda, size_t a_stride, cl_mem b,
                              size_t b_off, size_t ldb, size_t b_stride, float beta, cl_mem c, size_t c_off,
                              size_t ldc, size_t c_stride, size_t batch) {
  if (m > INT_MAX || n > INT_MAX || k > INT_MAX || lda > INT_MAX || ldb > INT_MAX || ldc > INT_MAX ||
      batch > INT_MAX || (trans_b && n * k > SIZE_MAX / sizeof(float) / batch))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "sgemm on %s: m=%zu n=%zu k=%zu (batch %zu) is past its limits",
                           rt->info.name, m, n, k, batch);
  clfer_status st;
  if ((st = operand_fits(rt, a, "A", a_off, trans_a ? k : m, trans_a ? m : k, lda, a_stride, batch)) ||
      (st = operand_fits(rt, b, "B", b_off, trans_b ? n : k, trans_b ? k : n, ldb, b_stride, batch)) ||
      (st = operand_fits(rt, c, "C", c_off, m, n, ldc, c_stride, batch)))
    return st;
  if (trans_b && k > 0) {
    size_t copies = b_stride == 0 ? 1 : batch;
    cl_mem t = gemm_temp_buffer(rt, copies * n * k * sizeof(float), &st);
    if (st || (st = clfer__sgemm_transpose_b(rt, b, b_off, ldb, b_stride, n, k, copies, t))) return st;
    b = t, b_off = 0, ldb = n, b_stride = b_stride == 0 ? 0 : n * k;
  }
  clfer_launch_desc_t d = {.name = label, .dims = 3};
  if ((st = clfer_kernel_get(rt, "gemm", NULL, trans_a ? "sgemm_cpu_tn" : "sgemm_cpu_nn", &d.kernel))) return st;
  d.global[0] = (n + 31) / 32, d.global[1] = (m + 7) / 8, d.global[2] = batch;
  /* a few blocks per work-group (PoCL schedules each group on one worker), along n first so a
   * group shares its rows of A; at least eight groups per compute unit */
  size_t most = clfer__cpu_group_items(rt, d.global[0] * d.global[1] * batch, 16);
  d.local[0] = d.global[0] < most ? d.global[0] : most;
  d.local[1] = most / d.local[0] < d.global[1] ? most / d.local[0] : d.global[1];
  d.local[2] = 1;
  /* k in slices, one launch each adding to C, where B's rows over all of k span more than 1 MiB:
   * every block then reads a slice of B that its neighbours read too while it is still in the
   * cache, over few pages (weight gradients, k = the pixels: AlexNet's 128 × 1200 × 5832 took
   * 16 ms in one launch, 5.6-6.8 in slices of 256) */
  size_t slice = GEMM_SLICE_FLOATS / ldb / GEMM_MIN_SLICE * GEMM_MIN_SLICE;
  if (slice < GEMM_MIN_SLICE) slice = GEMM_MIN_SLICE;
  for (size_t k0 = 0; k0 < k || k0 == 0; k0 += slice) {
    size_t kc = k - k0 < slice ? k - k0 : slice;
    const clfer_arg_t args[] = {CLFER_ARG_INT(m),
                                CLFER_ARG_INT(n),
                                CLFER_ARG_INT(kc),
                                CLFER_ARG_FLOAT(alpha),
                                CLFER_ARG_MEM(a),
                                CLFER_ARG_ULONG(a_off + k0 * (trans_a ? lda : 1)),
                                CLFER_ARG_INT(lda),
                                CLFER_ARG_ULONG(a_stride),
                                CLFER_ARG_MEM(b),
                                CLFER_ARG_ULONG(b_off + k0 * ldb),
                                CLFER_ARG_INT(ldb),
                                CLFER_ARG_ULONG(b_stride),
                                CLFER_ARG_FLOAT(k0 ? 1.0f : beta),
                                CLFER_ARG_MEM(c),
                                CLFER_ARG_ULONG(c_off),
                                CLFER_ARG_INT(ldc),
                                CLFER_ARG_ULONG(c_stride)};
    d.args = args, d.nargs = sizeof args / sizeof args[0];
    d.cost = (clfer_cost_t){2.0 * (double)m * n * kc * (double)batch,
                            4.0 * (double)batch * ((double)m * kc + (double)kc * n + 2.0 * (double)m * n)};
    if ((st = clfer_launch(rt, &d))) return st;
    if (k == 0) break;
  }
  return CLFER_OK;
}

clfer_status clfer_sgemm(clfer_runtime_t *rt, int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha,
                         cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off, size_t ldb, float beta,
                         cl_mem c, size_t c_off, size_t ldc) {
  if (m == 0 || n == 0) return CLFER_OK;
  if (clfer__own_gemm(rt) || k == 0) /* CLBlast refuses k = 0, where C = beta·C */
    return own_sgemm(rt, "sgemm", trans_a, trans_b, m, n, k, alpha, a, a_off, lda, 0, b, b_off, ldb, 0, beta, c, c_off,
                     ldc, 0, 1);
  clfer__gemm_begin(rt, m, n, k); /* the device's GEMM settings, before CLBlast compiles its kernel */
  clfer_status st = sgemm_call(rt, trans_a, trans_b, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c, c_off, ldc);
  clfer__gemm_end();
  return st;
}

/* Whether that column-major form runs without a temporary (its operands already in CLBlast's
 * kernel's form and on its tiles). */
static int sgemm_col_major_in_place(clfer_runtime_t *rt, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                                    size_t a_off, size_t lda, size_t b_off, size_t ldb, size_t c_off, size_t ldc) {
  size_t bytes;
  return col_major_temp_bytes(rt, trans_a, trans_b, m, n, k, a_off, lda, b_off, ldb, c_off, ldc, &bytes) ==
             CLBlastSuccess &&
         bytes == 0;
}

int clfer__sgemm_in_place(clfer_runtime_t *rt, int trans_a, int trans_b, size_t m, size_t n, size_t k, size_t lda,
                          size_t ldb, size_t ldc) {
  if (clfer__own_gemm(rt)) return !trans_b; /* only a transposed B is copied */
  clfer__gemm_begin(rt, m, n, k);
  int in_place = sgemm_col_major_in_place(rt, trans_a, trans_b, m, n, k, 0, lda, 0, ldb, 0, ldc);
  clfer__gemm_end();
  return in_place;
}

size_t clfer__sgemm_temp_bytes(clfer_runtime_t *rt, int trans_a, int trans_b, size_t m, size_t n, size_t k,
                               size_t lda, size_t ldb, size_t ldc) {
  if (clfer__own_gemm(rt)) return trans_b ? n * k * sizeof(float) : 0;
  int row_major;
  size_t bytes;
  clfer__gemm_begin(rt, m, n, k);
  clfer_status st = sgemm_form(rt, trans_a, trans_b, m, n, k, 0, lda, 0, ldb, 0, ldc, &row_major, &bytes);
  clfer__gemm_end();
  return st ? SIZE_MAX : bytes;
}

clfer_status clfer_sgemm_strided_batched(clfer_runtime_t *rt, int trans_a, int trans_b, size_t m, size_t n,
                                         size_t k, float alpha, cl_mem a, size_t a_off, size_t lda, size_t a_stride,
                                         cl_mem b, size_t b_off, size_t ldb, size_t b_stride, float beta, cl_mem c,
                                         size_t c_off, size_t ldc, size_t c_stride, size_t batch) {
  if (m == 0 || n == 0 || batch == 0) return CLFER_OK;
  if (clfer__own_gemm(rt) || k == 0)
    return own_sgemm(rt, "sgemm_batched", trans_a, trans_b, m, n, k, alpha, a, a_off, lda, a_stride, b, b_off, ldb,
                     b_stride, beta, c, c_off, ldc, c_stride, batch);
  clfer__gemm_begin(rt, m, n, k);
  /* Where the products are not in the form CLBlast's kernel takes (sizes off its tiles), its
   * batched routine copies every operand into temporaries it allocates on each call: on PoCL the
   * page faults of those fresh buffers alone cost more than the copies. Then the products run one
   * by one instead, each in the form that copies less, into the runtime's temporary. So do
   * operands that are not packed back to back from offset 0: without temporaries, CLBlast's
   * strided-batched kernel finds product i at i times the packed size and ignores the offsets and
   * strides it was given (CLBlast 1.5.3, and its master: a shared B, stride 0, or padded planes
   * would silently give wrong products). */
  const size_t a_packed = lda * (trans_a ? k : m), b_packed = ldb * (trans_b ? n : k), c_packed = ldc * m;
  int packed = a_off == 0 && b_off == 0 && c_off == 0 &&
               (batch == 1 || (a_stride == a_packed && b_stride == b_packed && c_stride == c_packed));
  if (!packed || !sgemm_col_major_in_place(rt, trans_a, trans_b, m, n, k, a_off, lda, b_off, ldb, c_off, ldc)) {
    clfer_status st = CLFER_OK;
    for (size_t i = 0; i < batch && !st; i++)
      st = sgemm_call(rt, trans_a, trans_b, m, n, k, alpha, a, a_off + i * a_stride, lda, b, b_off + i * b_stride, ldb,
                      beta, c, c_off + i * c_stride, ldc);
    clfer__gemm_end();
    return st;
  }
  cl_event begin = profile_begin(rt), event = NULL;
  /* column-major, operands swapped: no copies of C with CLBlast's usual parameters (see clfer_sgemm) */
  CLBlastStatusCode code = CLBlastSgemmStridedBatched(
      CLBlastLayoutColMajor, trans_b ? CLBlastTransposeYes : CLBlastTransposeNo,
      trans_a ? CLBlastTransposeYes : CLBlastTransposeNo, n, m, k, alpha, b, b_off, ldb, b_stride, a, a_off, lda,
      a_stride, beta, c, c_off, ldc, c_stride, batch, &rt->queue, rt->profiling ? &event : NULL);
  clfer__gemm_end();
  clfer_status st = clblast_status(rt, code, "CLBlastSgemmStridedBatched", m, n, k);
  if (st) {
    if (begin) clReleaseEvent(begin);
    return st;
  }
  profile_end(rt, begin, event, "sgemm_batched", 2.0 * (double)m * n * k * (double)batch,
              4.0 * (double)batch * ((double)m * k + (double)k * n + 2.0 * (double)m * n));
  return CLFER_OK;
}
