/* conv2d_internal.h — the convolution geometry shared by the im2col path (conv2d.c) and the
 * Winograd path (conv2d_winograd.c) (internal). */
#ifndef CLFER_OPS_CONV2D_INTERNAL_H
#define CLFER_OPS_CONV2D_INTERNAL_H
#include "clfer/ops.h"

typedef struct conv_geom {
  int n, c, h, w, o, kh, kw, sh, sw, ph, pw, g, oh, ow;
  int cg, og; /* channels per group */
  int cs, os; /* channels between images of x and of y: c and o, or the whole layer's when this is
               * one group of a grouped layer (the Winograd path runs groups as layers) */
  int ckk;    /* rows of the column matrix per group: cg·KH·KW */
  int p;      /* OH·OW */
  int chunk;  /* images per GEMM */
  int relu;   /* forward: a fused ReLU (clfer_conv2d_relu_forward) with this slope */
  float relu_slope;
  int mask_dx; /* backward: dx times the derivative at x of the ReLU that made x, whose slope this
                * is (clfer_conv2d_backward_through_relu) */
  float mask_slope;
} conv_geom_t;

/* A 1-D scratch tensor from the runtime's pool (both paths' column and transform buffers). */
static inline clfer_status clfer__conv_scratch(clfer_runtime_t *rt, size_t elements, clfer_tensor_t *t) {
  int shape[1] = {(int)elements};
  return clfer_tensor_create(rt, 1, shape, t);
}

/* The scratch cap of one conv call: 256 MiB, $CLFER_CONV_SCRATCH_BYTES, never above half the
 * device's largest allocation. */
size_t clfer__conv_scratch_cap(clfer_runtime_t *rt);

/* Whether this call takes the Winograd path: a 3×3, stride-1 layer with padding of at most 2,
 * enough channels (per group) and outputs, and products CLBlast runs in place (for the forward
 * pass when `forward`, else for the backward passes asked for), unless $CLFER_CONV_ALGO says
 * `im2col` (`winograd`, `winograd4` or `winograd2` force it, with 4×4 or 2×2 output tiles, for
 * every layer it can serve). */
int clfer__conv2d_winograd_applies(clfer_runtime_t *rt, const conv_geom_t *g, int forward, int want_dx, int want_dw);
clfer_status clfer__conv2d_winograd_forward(clfer_runtime_t *rt, const conv_geom_t *g, const clfer_tensor_t *x,
                                            const clfer_tensor_t *w, const clfer_tensor_t *b, clfer_tensor_t *y);
/* dw (and db) from x and dy when dw is given, dx from dy and w when dx is given. */
clfer_status clfer__conv2d_winograd_backward(clfer_runtime_t *rt, const conv_geom_t *g, const clfer_tensor_t *x,
                                             const clfer_tensor_t *dy, const clfer_tensor_t *w, clfer_tensor_t *dx,
                                             clfer_tensor_t *dw, clfer_tensor_t *db);

/* Whether the forward pass (weight_gradient 0), or the weight and bias gradients (1), take the
 * direct path on CPUs: a stride-1 ungrouped layer with at most 288 input taps (C·KH·KW) forward,
 * 32 for the gradients; $CLFER_CONV_ALGO other than `direct` turns it off. (The input gradient
 * always takes im2col.) */
int clfer__conv2d_direct_applies(clfer_runtime_t *rt, const conv_geom_t *g, int weight_gradient);
clfer_status clfer__conv2d_direct_forward(clfer_runtime_t *rt, const conv_geom_t *g, const clfer_tensor_t *x,
                                          const clfer_tensor_t *w, const clfer_tensor_t *b, clfer_tensor_t *y);
clfer_status clfer__conv2d_direct_backward_weights(clfer_runtime_t *rt, const conv_geom_t *g, const clfer_tensor_t *x,
                                                   const clfer_tensor_t *dy, clfer_tensor_t *dw, clfer_tensor_t *db);
#endif
