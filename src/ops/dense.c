/* dense.c — fully connected layers with PyTorch's layout (w [out, in], y = x·wᵀ + b) as CLBlast
 * GEMMs plus a bias kernel and a column-sum for the bias gradient; on CPUs at small batches
 * kernels that stream the weights once instead (kernels/dense.cl). */
#include <stdlib.h>
#include <string.h>

#include "clfer/ops.h"
#include "launch_shape.h"
#include "runtime/runtime_internal.h"

enum { DENSE_ROWS = 8 /* batch rows per item: dense.cl's DENSE_ROWS */ };
typedef enum { DENSE_FORWARD, DENSE_DATA, DENSE_WEIGHTS } dense_pass_t;

/* Whether a pass runs on dense.cl's CPU kernels rather than the GEMM path. Measured on PoCL (2
 * cores, 32 MiB cache; perf/bench_dense, docs/perf.md). Against clfer's own CPU GEMM (the
 * default there) they win only forward, up to batch 32 or below 64 outputs at any batch: that
 * GEMM first lays wᵀ out, a pass over all the weights (AlexNet's fc6 at batch 8: 9.8 against 49
 * ms), and runs both gradients as fast or faster. Against CLBlast (CLFER_GEMM=clblast) they won
 * at every batch measured (to 128) where the layer has under 64 outputs (CLBlast pads those to
 * its tiles), and otherwise up to batch 64 forward, 16 for the input gradient (32 while the
 * weights fit in half the cache, as the row blocks re-read them) and 8 for the weight gradient
 * (16 while they do not). */
static int skinny(clfer_runtime_t *rt, dense_pass_t pass, int n, int in, int out) {
  const char *force = getenv("CLFER_DENSE"); /* "gemm": the GEMM path everywhere (perf/bench_dense) */
  if (!clfer__cpu_paths(rt) || (force && strcmp(force, "gemm") == 0)) return 0;
  if (clfer__own_gemm(rt)) return pass == DENSE_FORWARD && (n <= 32 || out < 64);
  if (out < 64) return 1;
  uint64_t cache = clfer_runtime_device(rt)->global_mem_cache_bytes;
  int cached = (uint64_t)in * out * sizeof(float) <= cache / 2;
  switch (pass) {
  case DENSE_FORWARD: return n <= 64;
  case DENSE_DATA: return n <= 16 || (n <= 32 && cached);
  default: return n <= 8 || (n <= 16 && !cached);
  }
}

/* Work-groups of up to 16 items along dimension 0, fewer where that would leave under eight groups
 * per compute unit: each item streams whole weight rows (or a column stripe), so PoCL's
 * microsecond per group matters only when there are thousands of them. */
static const size_t *skinny_local(clfer_runtime_t *rt, const size_t *global, size_t *local) {
  local[0] = clfer__cpu_group_items(rt, global[0] * global[1], 16);
  if (local[0] > global[0]) local[0] = global[0];
  local[1] = 1;
  return local;
}

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
  if (skinny(rt, DENSE_FORWARD, n, in, out)) {
    size_t gs[2] = {(size_t)(out + 1) / 2, (size_t)(n + DENSE_ROWS - 1) / DENSE_ROWS}, ls[2];
    return CLFER_RUN(rt, "dense", NULL, "dense_forward_rows", 2, gs, skinny_local(rt, gs, ls),
                     ((clfer_cost_t){2.0 * n * in * out, 4.0 * ((double)in * out + (double)n * (in + out))}),
                     CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(w->buf), CLFER_ARG_INT(w->offset),
                     CLFER_ARG_MEM(b ? b->buf : w->buf), CLFER_ARG_INT(b ? b->offset : 0), CLFER_ARG_INT(b != NULL),
                     CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset), CLFER_ARG_INT(n), CLFER_ARG_INT(in),
                     CLFER_ARG_INT(out));
  }
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
  if (skinny(rt, DENSE_DATA, n, in, out)) {
    size_t gs[2] = {(size_t)(in + 31) / 32, (size_t)(n + DENSE_ROWS - 1) / DENSE_ROWS}, ls[2];
    return CLFER_RUN(rt, "dense", NULL, "dense_backward_data_rows", 2, gs, skinny_local(rt, gs, ls),
                     ((clfer_cost_t){2.0 * n * in * out, 4.0 * ((double)in * out + (double)n * (in + out))}),
                     CLFER_ARG_MEM(dy->buf), CLFER_ARG_INT(dy->offset), CLFER_ARG_MEM(w->buf), CLFER_ARG_INT(w->offset),
                     CLFER_ARG_MEM(dx->buf), CLFER_ARG_INT(dx->offset), CLFER_ARG_INT(n), CLFER_ARG_INT(in),
                     CLFER_ARG_INT(out));
  }
  return clfer_sgemm(rt, 0, 0, n, in, out, 1.0f, dy->buf, dy->offset, out, w->buf, w->offset, in, 0.0f, dx->buf,
                     dx->offset, in);
}

clfer_status clfer_dense_backward_weights(clfer_runtime_t *rt, const clfer_tensor_t *x, const clfer_tensor_t *dy,
                                          clfer_tensor_t *dw, clfer_tensor_t *db) {
  int n = 0, in = 0, out = 0; /* set by check(); initialised for -O2's -Wmaybe-uninitialized */
  clfer_status st = check("backward weights", x, dw, dy, &n, &in, &out);
  if (st) return st;
  if (skinny(rt, DENSE_WEIGHTS, n, in, out)) {
    size_t gs[2] = {(size_t)(out + 3) / 4, 1}, ls[2];
    st = CLFER_RUN(rt, "dense", NULL, "dense_backward_weights_rows", 2, gs, skinny_local(rt, gs, ls),
                   ((clfer_cost_t){2.0 * n * in * out, 4.0 * ((double)in * out + (double)n * (in + out))}),
                   CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(dy->buf), CLFER_ARG_INT(dy->offset),
                   CLFER_ARG_MEM(dw->buf), CLFER_ARG_INT(dw->offset), CLFER_ARG_INT(n), CLFER_ARG_INT(in),
                   CLFER_ARG_INT(out));
  } else {
    st = clfer_sgemm(rt, 1, 0, out, in, n, 1.0f, dy->buf, dy->offset, out, x->buf, x->offset, in, 0.0f, dw->buf,
                     dw->offset, in);
  }
  if (st) return st;
  if (!db) return CLFER_OK;
  if (clfer_tensor_numel(db) != (size_t)out)
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "dense: bias gradient of %zu elements for %d outputs",
                           clfer_tensor_numel(db), out);
  size_t gs[1] = {(size_t)out};
  return CLFER_RUN(rt, "conv", NULL, "reduce_cols", 1, gs, NULL, ((clfer_cost_t){(double)n * out, 4.0 * n * out}),
                   CLFER_ARG_MEM(dy->buf), CLFER_ARG_INT(dy->offset), CLFER_ARG_INT(n), CLFER_ARG_INT(out),
                   CLFER_ARG_MEM(db->buf), CLFER_ARG_INT(db->offset), CLFER_ARG_INT(0));
}
