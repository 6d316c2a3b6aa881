/* lrn.c — local response normalisation across channels (kernels/norm.cl), with the semantics
 * of Caffe's LRN layer and PyTorch's LocalResponseNorm: alpha is divided by the window size and
 * even sizes pad size/2 channels before and (size−1)/2 after, as PyTorch does. */
#include "ops/launch_shape.h"
#include "ops/layer_ops_util.h"

static clfer_status lrn_check(const char *op, const clfer_lrn_params_t *p, const clfer_tensor_t *x) {
  clfer_status st = clfer__lrn_check_params(op, p);
  if (st) return st;
  if (x->ndim != 4 && x->ndim != 2) {
    char s[96];
    return CLFER__OP_ERROR(CLFER_SHAPE_MISMATCH, op, "x %s must be [N, C, H, W] (or [N, C])",
                           clfer_shape_str(x->ndim, x->shape, s, sizeof s));
  }
  return CLFER_OK;
}

/* The CPU forms' work-groups: four 16-pixel blocks of one image. Left to choose, PoCL took groups
 * that ran 2–3× slower (AlexNet's [8, 96, 55, 55]: forward 8.7 → 3.1–4.8 ms, backward 13.6 →
 * 5.6–7.3 ms; [8, 256, 27, 27] 4.7 → 1.8 and 8.9 → 3.1 ms; one to sixteen blocks ran alike). */
static const size_t *rows_local(const size_t *global, size_t *local) {
  local[0] = global[0] < 4 ? global[0] : 4;
  local[1] = 1;
  return local;
}

clfer_status clfer_lrn_forward(clfer_runtime_t *rt, const clfer_lrn_params_t *p, const clfer_tensor_t *x,
                               clfer_tensor_t *y, clfer_tensor_t *scale) {
  static const char op[] = "lrn_forward";
  CLFER__CHECK_RT(op, rt);
  CLFER__CHECK_TENSOR(op, "x", x);
  CLFER__CHECK_TENSOR(op, "y", y);
  clfer_status st = lrn_check(op, p, x);
  if (st) return st;
  CLFER__CHECK_SAME(op, "x", x, "y", y);
  if (scale) {
    CLFER__CHECK_TENSOR(op, "scale", scale);
    CLFER__CHECK_SAME(op, "x", x, "scale", scale);
  }
  int C = x->shape[1], HW = x->ndim == 4 ? x->shape[2] * x->shape[3] : 1;
  size_t n = clfer_tensor_numel(x);
  int win = p->size < C ? p->size : C, rows = clfer__cpu_paths(rt);
  size_t g[2] = {rows ? ((size_t)HW + 15) / 16 : n, (size_t)x->shape[0]}, l[2];
  clfer_cost_t cost = {(double)n * (2.0 * win + 20.0), 4.0 * n * (scale ? 3 : 2)};
  return CLFER_RUN(rt, "norm", NULL, rows ? "lrn_forward_rows" : "lrn_forward", rows ? 2 : 1, g,
                   rows ? rows_local(g, l) : NULL, cost,
                   CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset),
                   CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset), CLFER_ARG_MEM(scale ? scale->buf : y->buf),
                   CLFER_ARG_INT(scale ? scale->offset : 0), CLFER_ARG_INT(scale != NULL), CLFER_ARG_INT(C),
                   CLFER_ARG_INT(HW), CLFER_ARG_INT(n), CLFER_ARG_INT(p->size),
                   CLFER_ARG_FLOAT(p->alpha / (float)p->size), CLFER_ARG_FLOAT(p->beta), CLFER_ARG_FLOAT(p->k));
}

clfer_status clfer_lrn_backward(clfer_runtime_t *rt, const clfer_lrn_params_t *p, const clfer_tensor_t *x,
                                const clfer_tensor_t *y, const clfer_tensor_t *scale, const clfer_tensor_t *dy,
                                clfer_tensor_t *dx) {
  static const char op[] = "lrn_backward";
  CLFER__CHECK_RT(op, rt);
  CLFER__CHECK_TENSOR(op, "x", x);
  CLFER__CHECK_TENSOR(op, "y", y);
  CLFER__CHECK_TENSOR(op, "scale (from the forward pass)", scale);
  CLFER__CHECK_TENSOR(op, "dy", dy);
  CLFER__CHECK_TENSOR(op, "dx", dx);
  clfer_status st = lrn_check(op, p, x);
  if (st) return st;
  CLFER__CHECK_SAME(op, "x", x, "y", y);
  CLFER__CHECK_SAME(op, "x", x, "scale", scale);
  CLFER__CHECK_SAME(op, "x", x, "dy", dy);
  CLFER__CHECK_SAME(op, "x", x, "dx", dx);
  int C = x->shape[1], HW = x->ndim == 4 ? x->shape[2] * x->shape[3] : 1;
  size_t n = clfer_tensor_numel(x);
  int win = p->size < C ? p->size : C, rows = clfer__cpu_paths(rt);
  size_t g[2] = {rows ? ((size_t)HW + 15) / 16 : n, (size_t)x->shape[0]}, l[2];
  clfer_cost_t cost = {(double)n * (3.0 * win + 25.0), 4.0 * n * 5};
  return CLFER_RUN(rt, "norm", NULL, rows ? "lrn_backward_rows" : "lrn_backward", rows ? 2 : 1, g,
                   rows ? rows_local(g, l) : NULL, cost,
                   CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset),
                   CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset), CLFER_ARG_MEM(scale->buf),
                   CLFER_ARG_INT(scale->offset), CLFER_ARG_MEM(dy->buf), CLFER_ARG_INT(dy->offset),
                   CLFER_ARG_MEM(dx->buf), CLFER_ARG_INT(dx->offset), CLFER_ARG_INT(C), CLFER_ARG_INT(HW),
                   CLFER_ARG_INT(n), CLFER_ARG_INT(p->size), CLFER_ARG_FLOAT(p->alpha / (float)p->size),
                   CLFER_ARG_FLOAT(p->beta));
}
