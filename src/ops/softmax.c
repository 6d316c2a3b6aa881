/* softmax.c — numerically stable softmax over the last dimension (kernels/softmax.cl): [N, K]
 * or any shape whose last dimension is K, every leading index being one row. */
#include "ops/layer_ops_util.h"

/* Largest local size per row; rows of a classifier are short (7–1000 classes). */
#define SOFTMAX_LOCAL_WANT 256

static clfer_status softmax_launch(clfer_runtime_t *rt, const char *kernel, const clfer_tensor_t *a,
                                   const clfer_tensor_t *b, clfer_tensor_t *out, clfer_cost_t cost) {
  int K = a->shape[a->ndim - 1];
  size_t rows = clfer_tensor_numel(a) / (size_t)K;
  size_t want = 1;
  while (want < (size_t)K && want < SOFTMAX_LOCAL_WANT) want *= 2;
  size_t local = 1;
  clfer_status st = clfer__op_pick_local(rt, "softmax", NULL, kernel, want, &local);
  if (st) return st;
  size_t g[1] = {rows * local}, l[1] = {local};
  if (b)
    return CLFER_RUN(rt, "softmax", NULL, kernel, 1, g, l, cost, CLFER_ARG_MEM(a->buf), CLFER_ARG_INT(a->offset),
                     CLFER_ARG_MEM(b->buf), CLFER_ARG_INT(b->offset), CLFER_ARG_MEM(out->buf),
                     CLFER_ARG_INT(out->offset), CLFER_ARG_INT(K), CLFER_ARG_LOCAL(local * sizeof(float)));
  return CLFER_RUN(rt, "softmax", NULL, kernel, 1, g, l, cost, CLFER_ARG_MEM(a->buf), CLFER_ARG_INT(a->offset),
                   CLFER_ARG_MEM(out->buf), CLFER_ARG_INT(out->offset), CLFER_ARG_INT(K),
                   CLFER_ARG_LOCAL(local * sizeof(float)));
}

clfer_status clfer_softmax_forward(clfer_runtime_t *rt, const clfer_tensor_t *x, clfer_tensor_t *y) {
  static const char op[] = "softmax_forward";
  CLFER__CHECK_RT(op, rt);
  CLFER__CHECK_TENSOR(op, "x", x);
  CLFER__CHECK_TENSOR(op, "y", y);
  CLFER__CHECK_SAME(op, "x", x, "y", y);
  if (x->ndim < 1) return CLFER__OP_ERROR(CLFER_SHAPE_MISMATCH, op, "x has no dimensions");
  size_t n = clfer_tensor_numel(x);
  /* max, subtract, exp (~10 flops), sum, scale; x read twice (three passes, cached), y written */
  return softmax_launch(rt, "softmax_forward", x, NULL, y, (clfer_cost_t){14.0 * n, 8.0 * n});
}

clfer_status clfer_softmax_backward(clfer_runtime_t *rt, const clfer_tensor_t *y, const clfer_tensor_t *dy,
                                    clfer_tensor_t *dx) {
  static const char op[] = "softmax_backward";
  CLFER__CHECK_RT(op, rt);
  CLFER__CHECK_TENSOR(op, "y", y);
  CLFER__CHECK_TENSOR(op, "dy", dy);
  CLFER__CHECK_TENSOR(op, "dx", dx);
  CLFER__CHECK_SAME(op, "y", y, "dy", dy);
  CLFER__CHECK_SAME(op, "y", y, "dx", dx);
  if (y->ndim < 1) return CLFER__OP_ERROR(CLFER_SHAPE_MISMATCH, op, "y has no dimensions");
  size_t n = clfer_tensor_numel(y);
  return softmax_launch(rt, "softmax_backward", y, dy, dx, (clfer_cost_t){4.0 * n, 12.0 * n});
}
