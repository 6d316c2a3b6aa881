/* dropout.c — inverted dropout with a Philox-4x32-10 mask computed on the device from
 * (seed, counter, element index) (kernels/dropout.cl); the mask is kept for the backward pass.
 * Evaluation simply does not call dropout. */
#include "ops/launch_shape.h"
#include "ops/layer_ops_util.h"

clfer_status clfer_dropout_forward(clfer_runtime_t *rt, float p, uint64_t seed, uint64_t counter,
                                   const clfer_tensor_t *x, clfer_tensor_t *y, clfer_tensor_t *mask) {
  static const char op[] = "dropout_forward";
  CLFER__CHECK_RT(op, rt);
  if (!(p >= 0.0f && p < 1.0f))
    return CLFER__OP_ERROR(CLFER_INVALID_ARGUMENT, op, "drop probability %g must lie in [0, 1)", (double)p);
  CLFER__CHECK_TENSOR(op, "x", x);
  CLFER__CHECK_TENSOR(op, "y", y);
  CLFER__CHECK_TENSOR(op, "mask", mask);
  CLFER__CHECK_SAME(op, "x", x, "y", y);
  CLFER__CHECK_SAME(op, "x", x, "mask", mask);
  size_t n = clfer_tensor_numel(x);
  /* keep ⇔ u24 ≥ ceil(p·2^24), u24 uniform on [0, 2^24): P(keep) = 1 − p to within 2^-24. */
  double t = ceil((double)p * 16777216.0);
  cl_uint threshold = (cl_uint)(t > 16777216.0 ? 16777216.0 : t);
  float keep_scale = (float)(1.0 / (1.0 - (double)p));
  size_t g[1] = {(n + 15) / 16}; /* four Philox blocks of four elements per work-item */
  /* Philox-4x32-10: 10 rounds of 2 multiplies + ~6 integer ops per 4 elements, plus the product. */
  clfer_cost_t cost = {(double)n * (20.0 + 1.0), 12.0 * n};
  return CLFER_RUN(rt, "dropout", NULL, "dropout_forward", 1, g, NULL, cost, CLFER_ARG_MEM(x->buf),
                   CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset), CLFER_ARG_MEM(mask->buf),
                   CLFER_ARG_INT(mask->offset), CLFER_ARG_INT(n), CLFER_ARG_UINT((cl_uint)seed),
                   CLFER_ARG_UINT((cl_uint)(seed >> 32)), CLFER_ARG_UINT((cl_uint)counter),
                   CLFER_ARG_UINT((cl_uint)(counter >> 32)), CLFER_ARG_UINT(threshold), CLFER_ARG_FLOAT(keep_scale));
}

clfer_status clfer_dropout_backward(clfer_runtime_t *rt, const clfer_tensor_t *dy, const clfer_tensor_t *mask,
                                    clfer_tensor_t *dx) {
  static const char op[] = "dropout_backward";
  CLFER__CHECK_RT(op, rt);
  CLFER__CHECK_TENSOR(op, "dy", dy);
  CLFER__CHECK_TENSOR(op, "mask (from the forward pass)", mask);
  CLFER__CHECK_TENSOR(op, "dx", dx);
  CLFER__CHECK_SAME(op, "dy", dy, "mask", mask);
  CLFER__CHECK_SAME(op, "dy", dy, "dx", dx);
  size_t n = clfer_tensor_numel(dy);
  size_t g[1];
  int cpu = clfer__elementwise_range(rt, n, g);
  return CLFER_RUN(rt, "dropout", NULL, cpu ? "dropout_backward_rows" : "dropout_backward", 1, g, NULL,
                   ((clfer_cost_t){(double)n, 12.0 * n}),
                   CLFER_ARG_MEM(dy->buf), CLFER_ARG_INT(dy->offset), CLFER_ARG_MEM(mask->buf),
                   CLFER_ARG_INT(mask->offset), CLFER_ARG_MEM(dx->buf), CLFER_ARG_INT(dx->offset), CLFER_ARG_INT(n));
}
