/* dense.c — fully connected layers with PyTorch's layout (w [out, in], y = x·wᵀ + b) as CLBlast
 * GEMMs plus a bias kernel and a column-sum for the bias gradient. */
#include "clfer/ops.h"

static clfer_status check(const char *what, const clfer_tensor_t *x, const clfer_tensor_t *w, const clfer_tensor_t *y,
                          int *n, int *in, int *out) {
  char a[96], b[96], c[96];
  if (x->ndim != 2 || w->ndim != 2 || y->ndim != 2 || x->shape[1] != w->shape[1] || y->shape[0] != x->shape[0] ||
      y->shape[1] != w->shape[0])
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "dense %s: input %s, weight %s and output %s do not fit y = x·wᵀ", what,
                           clfer_shape_str(x->ndim, x->shape, a, sizeof a), clfer_shape_str(w->ndim, w->shape, b, sizeof b),
                           clfer_shape_str(y->ndim, y->shape, c, sizeof c));
  *n = x->shape[0], *in = x->shape[1], *out = w->shape[0];
  return CLFER_OK;
}

clfer_status clfer_dense_forward(clfer_runtime_t *rt, const clfer_tensor_t *x, const clfer_tensor_t *w,
                                 const clfer_tensor_t *b, clfer_tensor_t *y) {
  int n = 0, in = 0, out = 0; /* set by check(); initialised for -O2's -Wmaybe-uninitialized */
  clfer_status st = check("forward", x, w, y, &n, &in, &out);
  if (st) return st;
  if (b && clfer_tensor_numel(b) != (size_t)out)
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "dense: bias of %zu elements for %d outputs", clfer_tensor_numel(b), out);
  if ((st = clfer_sgemm(rt, 0, 1, n, out, in, 1.0f, x->buf, x->offset, in, w->buf, w->offset, in, 0.0f, y->buf,
                        y->offset, out)))
    return st;
  if (!b) return CLFER_OK;
  size_t gs[1] = {(size_t)n * out};
  return CLFER_RUN(rt, "conv", NULL, "bias_add_rows", 1, gs, NULL, ((clfer_cost_t){(double)n * out, 8.0 * n * out}),
                   CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset), CLFER_ARG_INT(n), CLFER_ARG_INT(out),
                   CLFER_ARG_MEM(b->buf), CLFER_ARG_INT(b->offset));
}

clfer_status clfer_dense_backward_data(clfer_runtime_t *rt, const clfer_tensor_t *dy, const clfer_tensor_t *w,
                                       clfer_tensor_t *dx) {
  int n = 0, in = 0, out = 0; /* set by check(); initialised for -O2's -Wmaybe-uninitialized */
  clfer_status st = check("backward data", dx, w, dy, &n, &in, &out);
  if (st) return st;
  return clfer_sgemm(rt, 0, 0, n, in, out, 1.0f, dy->buf, dy->offset, out, w->buf, w->offset, in, 0.0f, dx->buf,
                     dx->offset, in);
}

clfer_status clfer_dense_backward_weights(clfer_runtime_t *rt, const clfer_tensor_t *x, const clfer_tensor_t *dy,
                                          clfer_tensor_t *dw, clfer_tensor_t *db) {
  int n = 0, in = 0, out = 0; /* set by check(); initialised for -O2's -Wmaybe-uninitialized */
  clfer_status st = check("backward weights", x, dw, dy, &n, &in, &out);
  if (st) return st;
  if ((st = clfer_sgemm(rt, 1, 0, out, in, n, 1.0f, dy->buf, dy->offset, out, x->buf, x->offset, in, 0.0f, dw->buf,
                        dw->offset, in)))
    return st;
  if (!db) return CLFER_OK;
  if (clfer_tensor_numel(db) != (size_t)out)
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "dense: bias gradient of %zu elements for %d outputs",
                           clfer_tensor_numel(db), out);
  size_t gs[1] = {(size_t)out};
  return CLFER_RUN(rt, "conv", NULL, "reduce_cols", 1, gs, NULL, ((clfer_cost_t){(double)n * out, 4.0 * n * out}),
                   CLFER_ARG_MEM(dy->buf), CLFER_ARG_INT(dy->offset), CLFER_ARG_INT(n), CLFER_ARG_INT(out),
                   CLFER_ARG_MEM(db->buf), CLFER_ARG_INT(db->offset), CLFER_ARG_INT(0));
}
