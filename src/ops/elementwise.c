/* elementwise.c — add, axpy, scale (kernels/elementwise.cl and basic.cl) and concatenation
 * along dimension 1 with its backward pass (slicing the gradient back into the inputs). */
#include "ops/launch_shape.h"
#include "ops/layer_ops_util.h"

clfer_status clfer_add(clfer_runtime_t *rt, const clfer_tensor_t *a, const clfer_tensor_t *b, clfer_tensor_t *y) {
  static const char op[] = "add";
  CLFER__CHECK_RT(op, rt);
  CLFER__CHECK_TENSOR(op, "a", a);
  CLFER__CHECK_TENSOR(op, "b", b);
  CLFER__CHECK_TENSOR(op, "y", y);
  CLFER__CHECK_SAME(op, "a", a, "b", b);
  CLFER__CHECK_SAME(op, "a", a, "y", y);
  size_t n = clfer_tensor_numel(a);
  size_t g[1];
  int cpu = clfer__elementwise_range(rt, n, g);
  return CLFER_RUN(rt, "elementwise", NULL, cpu ? "add_f32_rows" : "add_f32", 1, g, NULL,
                   ((clfer_cost_t){(double)n, 12.0 * n}),
                   CLFER_ARG_MEM(a->buf), CLFER_ARG_INT(a->offset), CLFER_ARG_MEM(b->buf), CLFER_ARG_INT(b->offset),
                   CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset), CLFER_ARG_INT(n));
}

clfer_status clfer_axpy(clfer_runtime_t *rt, float alpha, const clfer_tensor_t *x, clfer_tensor_t *y) {
  static const char op[] = "axpy";
  CLFER__CHECK_RT(op, rt);
  CLFER__CHECK_TENSOR(op, "x", x);
  CLFER__CHECK_TENSOR(op, "y", y);
  CLFER__CHECK_SAME(op, "x", x, "y", y);
  size_t n = clfer_tensor_numel(x);
  size_t g[1] = {n};
  return CLFER_RUN(rt, "basic", NULL, "axpy_f32", 1, g, NULL,
                   ((clfer_cost_t){2.0 * n, 12.0 * n}),
                   CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset), CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset),
                   CLFER_ARG_INT(n), CLFER_ARG_FLOAT(alpha));
}

clfer_status clfer_scale(clfer_runtime_t *rt, float alpha, clfer_tensor_t *x) {
  static const char op[] = "scale";
  CLFER__CHECK_RT(op, rt);
  CLFER__CHECK_TENSOR(op, "x", x);
  size_t n = clfer_tensor_numel(x);
  size_t g[1] = {n};
  return CLFER_RUN(rt, "basic", NULL, "scale_f32", 1, g, NULL,
                   ((clfer_cost_t){(double)n, 8.0 * n}),
                   CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset), CLFER_ARG_INT(n), CLFER_ARG_FLOAT(alpha));
}

/* Checks that parts[i] agree with `whole` in every dimension but 1 and that their dimension-1
 * sizes add up to whole's. */
static clfer_status concat_check(const char *op, int n_inputs, const clfer_tensor_t *const *parts,
                                 const char *part_name, const clfer_tensor_t *whole, const char *whole_name) {
  if (n_inputs < 1 || !parts)
    return CLFER__OP_ERROR(CLFER_INVALID_ARGUMENT, op, "%d inputs (at least 1 needed)", n_inputs);
  CLFER__CHECK_TENSOR(op, whole_name, whole);
  char ws[96], ps[96];
  if (whole->ndim < 2)
    return CLFER__OP_ERROR(CLFER_SHAPE_MISMATCH, op, "%s %s has no dimension 1", whole_name,
                           clfer_shape_str(whole->ndim, whole->shape, ws, sizeof ws));
  long total = 0;
  for (int i = 0; i < n_inputs; i++) {
    const clfer_tensor_t *t = parts[i];
    char label[48];
    snprintf(label, sizeof label, "%s[%d]", part_name, i);
    CLFER__CHECK_TENSOR(op, label, t);
    int ok = t->ndim == whole->ndim;
    for (int d = 0; ok && d < t->ndim; d++)
      if (d != 1 && t->shape[d] != whole->shape[d]) ok = 0;
    if (!ok)
      return CLFER__OP_ERROR(CLFER_SHAPE_MISMATCH, op, "%s %s must match %s %s in every dimension but 1", label,
                             clfer_shape_str(t->ndim, t->shape, ps, sizeof ps), whole_name,
                             clfer_shape_str(whole->ndim, whole->shape, ws, sizeof ws));
    total += t->shape[1];
  }
  if (total != whole->shape[1])
    return CLFER__OP_ERROR(CLFER_SHAPE_MISMATCH, op, "the %s add up to %ld along dimension 1 but %s %s has %d",
                           part_name, total, whole_name, clfer_shape_str(whole->ndim, whole->shape, ws, sizeof ws),
                           whole->shape[1]);
  return CLFER_OK;
}

/* Copies between part `t` (dimension-1 size c_i) and `whole` at channel offset c_off; to_whole
 * picks the direction. */
static clfer_status concat_copy(clfer_runtime_t *rt, const clfer_tensor_t *t, const clfer_tensor_t *whole, int c_off,
                                int to_whole) {
  int inner = 1;
  for (int d = 2; d < whole->ndim; d++) inner *= whole->shape[d];
  int rows = whole->shape[0], part_len = t->shape[1] * inner, whole_len = whole->shape[1] * inner;
  size_t n = (size_t)rows * part_len;
  size_t g[1] = {n};
  clfer_cost_t cost = {0, 8.0 * n};
  int woff = (int)whole->offset + c_off * inner;
  if (to_whole)
    return CLFER_RUN(rt, "elementwise", NULL, "copy_rows_f32", 1, g, NULL, cost, CLFER_ARG_MEM(whole->buf),
                     CLFER_ARG_INT(woff), CLFER_ARG_INT(whole_len), CLFER_ARG_MEM(t->buf), CLFER_ARG_INT(t->offset),
                     CLFER_ARG_INT(part_len), CLFER_ARG_INT(rows), CLFER_ARG_INT(part_len));
  return CLFER_RUN(rt, "elementwise", NULL, "copy_rows_f32", 1, g, NULL, cost, CLFER_ARG_MEM(t->buf),
                   CLFER_ARG_INT(t->offset), CLFER_ARG_INT(part_len), CLFER_ARG_MEM(whole->buf), CLFER_ARG_INT(woff),
                   CLFER_ARG_INT(whole_len), CLFER_ARG_INT(rows), CLFER_ARG_INT(part_len));
}

clfer_status clfer_concat_forward(clfer_runtime_t *rt, int n_inputs, const clfer_tensor_t *const *xs,
                                  clfer_tensor_t *y) {
  static const char op[] = "concat_forward";
  CLFER__CHECK_RT(op, rt);
  clfer_status st = concat_check(op, n_inputs, xs, "xs", y, "y");
  if (st) return st;
  int c_off = 0;
  for (int i = 0; i < n_inputs; i++) {
    if ((st = concat_copy(rt, xs[i], y, c_off, 1))) return st;
    c_off += xs[i]->shape[1];
  }
  return CLFER_OK;
}

clfer_status clfer_concat_backward(clfer_runtime_t *rt, const clfer_tensor_t *dy, int n_inputs,
                                   clfer_tensor_t *const *dxs) {
  static const char op[] = "concat_backward";
  CLFER__CHECK_RT(op, rt);
  clfer_status st = concat_check(op, n_inputs, (const clfer_tensor_t *const *)dxs, "dxs", dy, "dy");
  if (st) return st;
  int c_off = 0;
  for (int i = 0; i < n_inputs; i++) {
    if ((st = concat_copy(rt, dxs[i], dy, c_off, 0))) return st;
    c_off += dxs[i]->shape[1];
  }
  return CLFER_OK;
}
