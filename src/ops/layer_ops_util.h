/* layer_ops_util.h — argument checks and launch helpers shared by the layer ops (activations,
 * pooling, dropout, batch norm, LRN, softmax, element-wise). Everything is static inline so this
 * header links into any file without clashing with other ops' helpers. Not installed. */
#ifndef CLFER_LAYER_OPS_UTIL_H
#define CLFER_LAYER_OPS_UTIL_H

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <string.h>

#include "clfer/ops.h"
#include "runtime/runtime_internal.h"

/* Records "file.c:LINE: op: message" and returns `status`, so every failure names where and
 * which op. */
#define CLFER__OP_ERROR(status, op, ...) clfer__op_error((status), __FILE__, __LINE__, (op), __VA_ARGS__)

static inline const char *clfer__op_basename(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static inline clfer_status clfer__op_error(clfer_status status, const char *file, int line, const char *op,
                                           const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return clfer_set_error(status, "%s:%d: %s: %s", clfer__op_basename(file), line, op, msg);
}

/* The runtime handle must be given. */
#define CLFER__CHECK_RT(op, rt)                                                           \
  do {                                                                                    \
    if (!(rt)) return CLFER__OP_ERROR(CLFER_INVALID_ARGUMENT, (op), "runtime is NULL");   \
  } while (0)

/* A tensor argument must exist, hold a buffer and fit the kernels' int indexing. */
static inline clfer_status clfer__op_check_tensor(const char *file, int line, const char *op, const char *what,
                                                  const clfer_tensor_t *t) {
  if (!t || !t->buf) return clfer__op_error(CLFER_INVALID_ARGUMENT, file, line, op, "tensor %s is missing", what);
  size_t n = clfer_tensor_numel(t);
  if (t->offset + n > (size_t)INT_MAX)
    return clfer__op_error(CLFER_UNSUPPORTED, file, line, op,
                           "tensor %s ends at element %zu, past the kernels' 32-bit indexing", what, t->offset + n);
  return CLFER_OK;
}
#define CLFER__CHECK_TENSOR(op, what, t)                                                  \
  do {                                                                                    \
    clfer_status clfer__st = clfer__op_check_tensor(__FILE__, __LINE__, (op), (what), (t)); \
    if (clfer__st) return clfer__st;                                                      \
  } while (0)

/* LRN's and batch norm's parameters (the ops check them at each call, the network builder once). */
static inline clfer_status clfer__lrn_check_params(const char *op, const clfer_lrn_params_t *p) {
  if (!p) return CLFER__OP_ERROR(CLFER_INVALID_ARGUMENT, op, "parameters are NULL");
  if (p->size < 1 || !isfinite(p->alpha) || !isfinite(p->beta) || !(p->k > 0.0f) || !isfinite(p->k))
    return CLFER__OP_ERROR(CLFER_INVALID_ARGUMENT, op,
                           "size %d alpha %g beta %g k %g: size must be >= 1, k > 0 (the scale must stay "
                           "positive) and all finite",
                           p->size, (double)p->alpha, (double)p->beta, (double)p->k);
  if (p->alpha < 0.0f) return CLFER__OP_ERROR(CLFER_INVALID_ARGUMENT, op, "alpha %g must be >= 0", (double)p->alpha);
  return CLFER_OK;
}
static inline clfer_status clfer__bn_check_params(const char *op, const clfer_batchnorm_params_t *p) {
  if (!p) return CLFER__OP_ERROR(CLFER_INVALID_ARGUMENT, op, "parameters are NULL");
  if (!(p->eps > 0.0f) || isinf(p->eps))
    return CLFER__OP_ERROR(CLFER_INVALID_ARGUMENT, op, "eps %g must be positive", (double)p->eps);
  if (!(p->momentum >= 0.0f && p->momentum <= 1.0f))
    return CLFER__OP_ERROR(CLFER_INVALID_ARGUMENT, op, "momentum %g must lie in [0, 1]", (double)p->momentum);
  return CLFER_OK;
}

/* Two tensors must have identical shapes. */
static inline clfer_status clfer__op_check_same(const char *file, int line, const char *op, const char *an,
                                                const clfer_tensor_t *a, const char *bn, const clfer_tensor_t *b) {
  if (clfer_tensor_same_shape(a, b)) return CLFER_OK;
  char sa[96], sb[96];
  return clfer__op_error(CLFER_SHAPE_MISMATCH, file, line, op, "%s %s and %s %s must have the same shape", an,
                         clfer_shape_str(a->ndim, a->shape, sa, sizeof sa), bn,
                         clfer_shape_str(b->ndim, b->shape, sb, sizeof sb));
}
#define CLFER__CHECK_SAME(op, an, a, bn, b)                                                     \
  do {                                                                                          \
    clfer_status clfer__st = clfer__op_check_same(__FILE__, __LINE__, (op), (an), (a), (bn), (b)); \
    if (clfer__st) return clfer__st;                                                            \
  } while (0)

/* A per-channel parameter must be a vector of C elements ([C], or any shape with C elements). */
static inline clfer_status clfer__op_check_vec(const char *file, int line, const char *op, const char *what,
                                               const clfer_tensor_t *t, int c, const clfer_tensor_t *x) {
  clfer_status st = clfer__op_check_tensor(file, line, op, what, t);
  if (st) return st;
  if (clfer_tensor_numel(t) == (size_t)c) return CLFER_OK;
  char sa[96], sb[96];
  return clfer__op_error(CLFER_SHAPE_MISMATCH, file, line, op, "%s %s must hold %d values for input %s", what,
                         clfer_shape_str(t->ndim, t->shape, sa, sizeof sa), c,
                         clfer_shape_str(x->ndim, x->shape, sb, sizeof sb));
}
#define CLFER__CHECK_VEC(op, what, t, c, x)                                                     \
  do {                                                                                          \
    clfer_status clfer__st = clfer__op_check_vec(__FILE__, __LINE__, (op), (what), (t), (c), (x)); \
    if (clfer__st) return clfer__st;                                                            \
  } while (0)

/* Largest power of two ≤ `want` that the kernel and the device accept as a 1-D work-group, for
 * kernels that reduce in local memory with a halving tree. */
static inline clfer_status clfer__op_pick_local(clfer_runtime_t *rt, const char *program, const char *options,
                                                const char *kernel_name, size_t want, size_t *out) {
  cl_kernel kernel;
  clfer_status st = clfer_kernel_get(rt, program, options, kernel_name, &kernel);
  if (st) return st;
  const clfer_device_info_t *d = clfer_runtime_device(rt);
  size_t limit = d->max_work_group_size;
  if (d->max_work_item_sizes[0] && d->max_work_item_sizes[0] < limit) limit = d->max_work_item_sizes[0];
  size_t kernel_wg = limit;
  CLFER_CL_CHECK(clGetKernelWorkGroupInfo(kernel, d->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kernel_wg, &kernel_wg,
                                          NULL));
  if (kernel_wg < limit) limit = kernel_wg;
  if (want < limit) limit = want;
  size_t p = 1;
  while (p * 2 <= limit) p *= 2;
  *out = p;
  return CLFER_OK;
}

#endif
