/* activation.c — ReLU / leaky ReLU forward and backward (kernels/activation.cl). The slope must
 * be ≥ 0 so that the sign of the output tells the backward pass which branch the input took. */
#include "ops/launch_shape.h"
#include "ops/layer_ops_util.h"

static clfer_status check_slope(const char *op, float slope) {
  if (!(slope >= 0.0f) || isinf(slope))
    return CLFER__OP_ERROR(CLFER_INVALID_ARGUMENT, op, "slope %g must be finite and >= 0", (double)slope);
  return CLFER_OK;
}

clfer_status clfer_relu_forward(clfer_runtime_t *rt, float slope, const clfer_tensor_t *x, clfer_tensor_t *y) {
  static const char op[] = "relu_forward";
  CLFER__CHECK_RT(op, rt);
  clfer_status st = check_slope(op, slope);
  if (st) return st;
  CLFER__CHECK_TENSOR(op, "x", x);
  CLFER__CHECK_TENSOR(op, "y", y);
  CLFER__CHECK_SAME(op, "x", x, "y", y);
  size_t n = clfer_tensor_numel(x);
  size_t g[1];
  int cpu = clfer__elementwise_range(rt, n, g);
  return CLFER_RUN(rt, "activation", NULL, cpu ? "relu_forward_rows" : "relu_forward", 1, g, NULL,
                   ((clfer_cost_t){(double)n, 8.0 * n}),
                   CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset),
                   CLFER_ARG_INT(n), CLFER_ARG_FLOAT(slope));
}

clfer_status clfer_relu_backward(clfer_runtime_t *rt, float slope, const clfer_tensor_t *y, const clfer_tensor_t *dy,
                                 clfer_tensor_t *dx) {
  static const char op[] = "relu_backward";
  CLFER__CHECK_RT(op, rt);
  clfer_status st = check_slope(op, slope);
  if (st) return st;
  CLFER__CHECK_TENSOR(op, "y", y);
  CLFER__CHECK_TENSOR(op, "dy", dy);
  CLFER__CHECK_TENSOR(op, "dx", dx);
  CLFER__CHECK_SAME(op, "y", y, "dy", dy);
  CLFER__CHECK_SAME(op, "dy", dy, "dx", dx);
  size_t n = clfer_tensor_numel(y);
  size_t g[1];
  int cpu = clfer__elementwise_range(rt, n, g);
  return CLFER_RUN(rt, "activation", NULL, cpu ? "relu_backward_rows" : "relu_backward", 1, g, NULL,
                   ((clfer_cost_t){(double)n, 12.0 * n}),
                   CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset), CLFER_ARG_MEM(dy->buf), CLFER_ARG_INT(dy->offset),
                   CLFER_ARG_MEM(dx->buf), CLFER_ARG_INT(dx->offset), CLFER_ARG_INT(n), CLFER_ARG_FLOAT(slope));
}
