/* conv2d_direct.c — stride-1 ungrouped convolutions with few input taps computed directly on
 * CPUs (kernels/conv_direct.cl): the forward pass up to C·KH·KW = 288, the weight and bias
 * gradients up to 32 (first layers on gray or RGB images). Their GEMMs are thin and run
 * memory-bound at a few GFLOP/s on PoCL: VGG13-FER+'s first layer at batch 32 took 24 ms forward
 * and 27 ms for the weight gradient, against 4 and 6 ms here, and fer_small's 16 → 32 layer at
 * batch 64 18 ms forward, against 4.5 here. With more taps the weight-gradient kernel, one item
 * per output channel, lost to the GEMM (fer_small's 16 → 32 layer: 38 against 23 ms), so it stays
 * at 32. The input gradient stays on im2col (conv2d.c). */
#include <stdlib.h>
#include <string.h>

#include "conv2d_internal.h"
#include "launch_shape.h"
#include "runtime/runtime_internal.h"

enum { DIRECT_MAX_TAPS = 288, DIRECT_MAX_TAPS_DW = 32 }; /* the kernels' register arrays */

int clfer__conv2d_direct_applies(clfer_runtime_t *rt, const conv_geom_t *g, int weight_gradient) {
  const char *algo = getenv("CLFER_CONV_ALGO");
  if (algo && strcmp(algo, "direct") != 0) return 0;
  return clfer__cpu_paths(rt) && g->g == 1 && g->sh == 1 && g->sw == 1 &&
         g->c * g->kh * g->kw <= (weight_gradient ? DIRECT_MAX_TAPS_DW : DIRECT_MAX_TAPS);
}

clfer_status clfer__conv2d_direct_forward(clfer_runtime_t *rt, const conv_geom_t *g, const clfer_tensor_t *x,
                                          const clfer_tensor_t *w, const clfer_tensor_t *b, clfer_tensor_t *y) {
  size_t gs[2] = {(size_t)g->oh, (size_t)g->n}, ls[2] = {1, 1};
  /* groups of up to 64 rows of one image (a worker's stack holds their 2 KiB of taps each), at
   * least four per compute unit */
  size_t units = clfer_runtime_device(rt)->compute_units, groups = gs[1] / (4 * (units ? units : 1));
  ls[0] = groups >= 1 ? gs[0] : (gs[0] + 3) / 4;
  if (ls[0] > 64) ls[0] = 64;
  double outputs = (double)g->n * g->o * g->p;
  clfer_cost_t cost = {2.0 * outputs * g->c * g->kh * g->kw, 4.0 * (outputs + (double)g->n * g->c * g->h * g->w)};
  return CLFER_RUN(rt, "conv_direct", NULL, "conv2d_direct_small_rows", 2, gs, ls, cost, CLFER_ARG_MEM(x->buf),
                   CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(w->buf), CLFER_ARG_INT(w->offset),
                   CLFER_ARG_MEM(b ? b->buf : w->buf), CLFER_ARG_INT(b ? b->offset : 0), CLFER_ARG_INT(b != NULL),
                   CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset), CLFER_ARG_INT(g->n), CLFER_ARG_INT(g->c),
                   CLFER_ARG_INT(g->h), CLFER_ARG_INT(g->w), CLFER_ARG_INT(g->o), CLFER_ARG_INT(g->oh),
                   CLFER_ARG_INT(g->ow), CLFER_ARG_INT(g->kh), CLFER_ARG_INT(g->kw), CLFER_ARG_INT(g->ph),
                   CLFER_ARG_INT(g->pw), CLFER_ARG_INT(g->relu), CLFER_ARG_FLOAT(g->relu_slope));
}

clfer_status clfer__conv2d_direct_backward_weights(clfer_runtime_t *rt, const conv_geom_t *g, const clfer_tensor_t *x,
                                                   const clfer_tensor_t *dy, clfer_tensor_t *dw, clfer_tensor_t *db) {
  size_t gs[1] = {(size_t)g->o}, ls[1] = {1}; /* an item per output channel, each its own group */
  double outputs = (double)g->n * g->o * g->p;
  clfer_cost_t cost = {2.0 * outputs * (g->c * g->kh * g->kw + 1),
                       4.0 * (outputs + (double)g->o * g->n * g->c * g->h * g->w)};
  return CLFER_RUN(rt, "conv_direct", NULL, "conv2d_direct_small_dw", 1, gs, ls, cost, CLFER_ARG_MEM(x->buf),
                   CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(dy->buf), CLFER_ARG_INT(dy->offset), CLFER_ARG_MEM(dw->buf),
                   CLFER_ARG_INT(dw->offset), CLFER_ARG_MEM(db ? db->buf : dw->buf), CLFER_ARG_INT(db ? db->offset : 0),
                   CLFER_ARG_INT(db != NULL), CLFER_ARG_INT(0), CLFER_ARG_INT(g->n), CLFER_ARG_INT(g->c),
                   CLFER_ARG_INT(g->h), CLFER_ARG_INT(g->w), CLFER_ARG_INT(g->o), CLFER_ARG_INT(g->oh),
                   CLFER_ARG_INT(g->ow), CLFER_ARG_INT(g->kh), CLFER_ARG_INT(g->kw), CLFER_ARG_INT(g->ph),
                   CLFER_ARG_INT(g->pw));
}
