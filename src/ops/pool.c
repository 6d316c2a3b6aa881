/* pool.c — max / average / global-average pooling (kernels/pool.cl). Output sizes follow Caffe
 * and PyTorch: ceil mode rounds up but drops a last window that would start in the right/bottom
 * padding, and padding must be smaller than the window, so every window overlaps the input. */
#include <math.h>

#include "ops/layer_ops_util.h"
#include "launch_shape.h"

int clfer_pool2d_out_size(int in, int kernel, int stride, int pad, int ceil_mode) {
  if (stride == 0) stride = kernel;
  if (in <= 0 || kernel <= 0 || stride <= 0 || pad < 0 || pad >= kernel) return 0;
  long span = (long)in + 2L * pad - kernel;
  if (span < 0) return 0;
  long out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  /* PyTorch's pooling_output_shape (Caffe does the same when padded): the last window must
   * start inside the input or the left/top padding. */
  if (ceil_mode && (out - 1) * stride >= (long)in + pad) out--;
  return out > INT_MAX ? 0 : (int)out;
}

typedef struct pool_geom {
  int N, C, H, W, OH, OW, KH, KW, SH, SW, PH, PW, cip;
} pool_geom_t;

/* Validates the parameters against the input shape [N,C,H,W] and fills in the geometry. */
static clfer_status pool_geometry(const char *op, const clfer_pool2d_params_t *p, const clfer_tensor_t *in,
                                  const char *in_name, pool_geom_t *g) {
  if (!p) return CLFER__OP_ERROR(CLFER_INVALID_ARGUMENT, op, "parameters are NULL");
  if (in->ndim != 4) {
    char s[96];
    return CLFER__OP_ERROR(CLFER_SHAPE_MISMATCH, op, "%s %s must be 4-D [N, C, H, W]", in_name,
                           clfer_shape_str(in->ndim, in->shape, s, sizeof s));
  }
  g->KH = p->kernel_h, g->KW = p->kernel_w;
  g->SH = p->stride_h ? p->stride_h : p->kernel_h;
  g->SW = p->stride_w ? p->stride_w : p->kernel_w;
  g->PH = p->pad_h, g->PW = p->pad_w;
  g->cip = p->count_include_pad != 0;
  if (g->KH <= 0 || g->KW <= 0 || g->SH <= 0 || g->SW <= 0 || g->PH < 0 || g->PW < 0)
    return CLFER__OP_ERROR(CLFER_INVALID_ARGUMENT, op, "kernel %dx%d stride %dx%d pad %dx%d: sizes must be positive",
                           g->KH, g->KW, g->SH, g->SW, g->PH, g->PW);
  if (g->PH >= g->KH || g->PW >= g->KW)
    return CLFER__OP_ERROR(CLFER_INVALID_ARGUMENT, op,
                           "pad %dx%d must be smaller than the kernel %dx%d (else a window can lie in padding only)",
                           g->PH, g->PW, g->KH, g->KW);
  g->N = in->shape[0], g->C = in->shape[1], g->H = in->shape[2], g->W = in->shape[3];
  g->OH = clfer_pool2d_out_size(g->H, g->KH, g->SH, g->PH, p->ceil_mode);
  g->OW = clfer_pool2d_out_size(g->W, g->KW, g->SW, g->PW, p->ceil_mode);
  if (g->OH <= 0 || g->OW <= 0)
    return CLFER__OP_ERROR(CLFER_SHAPE_MISMATCH, op, "a %dx%d window (pad %dx%d) does not fit the %dx%d input",
                           g->KH, g->KW, g->PH, g->PW, g->H, g->W);
  return CLFER_OK;
}

/* `t` must have shape [N, C, h, w]. */
static clfer_status check_nchw(const char *op, const char *name, const clfer_tensor_t *t, int n, int c, int h,
                               int w, const char *ref_name, const clfer_tensor_t *ref) {
  if (t->ndim == 4 && t->shape[0] == n && t->shape[1] == c && t->shape[2] == h && t->shape[3] == w)
    return CLFER_OK;
  char s[96], r[96];
  return CLFER__OP_ERROR(CLFER_SHAPE_MISMATCH, op, "%s is %s but %s %s needs [%d, %d, %d, %d]", name,
                         clfer_shape_str(t->ndim, t->shape, s, sizeof s), ref_name,
                         clfer_shape_str(ref->ndim, ref->shape, r, sizeof r), n, c, h, w);
}

clfer_status clfer_maxpool2d_forward(clfer_runtime_t *rt, const clfer_pool2d_params_t *p, const clfer_tensor_t *x,
                                     clfer_tensor_t *y, clfer_tensor_t *argmax) {
  static const char op[] = "maxpool2d_forward";
  CLFER__CHECK_RT(op, rt);
  CLFER__CHECK_TENSOR(op, "x", x);
  CLFER__CHECK_TENSOR(op, "y", y);
  pool_geom_t g;
  clfer_status st = pool_geometry(op, p, x, "x", &g);
  if (st) return st;
  if ((st = check_nchw(op, "y", y, g.N, g.C, g.OH, g.OW, "x", x))) return st;
  if (argmax) {
    CLFER__CHECK_TENSOR(op, "argmax", argmax);
    CLFER__CHECK_SAME(op, "argmax", argmax, "y", y);
    if ((size_t)g.H * g.W > (1u << 24))
      return CLFER__OP_ERROR(CLFER_UNSUPPORTED, op, "a %dx%d plane has indices past 2^24 (not exact as float)", g.H,
                             g.W);
  }
  size_t ny = clfer_tensor_numel(y), nx = clfer_tensor_numel(x);
  size_t gl[3] = {(size_t)g.OW, (size_t)g.OH, (size_t)g.N * g.C}, lo3[3];
  clfer_cost_t cost = {(double)ny * g.KH * g.KW, 4.0 * (nx + ny * (argmax ? 2 : 1))};
  if (clfer__cpu_paths(rt)) {
    /* rows of windows, four per float4; VGG-style windows, all inside the input, have a form of
     * their own (PoCL, VGG13-FER+'s first pool at batch 32, [32, 64, 64, 64]: 6.3 → 1.4 ms with
     * argmax, 5.9 → 0.9 ms without, against an item per window) */
    int vgg = g.KH == 2 && g.KW == 2 && g.SH == 2 && g.SW == 2 && g.PH == 0 && g.PW == 0 && 2 * g.OH <= g.H &&
              2 * g.OW <= g.W;
    size_t gr[2] = {(size_t)g.OH, (size_t)g.N * g.C}, lo2[2] = {gr[0], 256 / gr[0]}; /* ~256 windows' rows */
    if (lo2[0] > 256) lo2[0] = 256;
    if (lo2[1] < 1) lo2[1] = 1;
    if (lo2[1] > gr[1]) lo2[1] = gr[1];
    if (vgg)
      return CLFER_RUN(rt, "pool", NULL, "maxpool2d_forward_2x2_rows", 2, gr, lo2, cost, CLFER_ARG_MEM(x->buf),
                       CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset),
                       CLFER_ARG_MEM(argmax ? argmax->buf : y->buf), CLFER_ARG_INT(argmax ? argmax->offset : 0),
                       CLFER_ARG_INT(argmax != NULL), CLFER_ARG_INT(g.N * g.C), CLFER_ARG_INT(g.H), CLFER_ARG_INT(g.W),
                       CLFER_ARG_INT(g.OH), CLFER_ARG_INT(g.OW));
    return CLFER_RUN(rt, "pool", NULL, "maxpool2d_forward_rows", 2, gr, lo2, cost, CLFER_ARG_MEM(x->buf),
                     CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset),
                     CLFER_ARG_MEM(argmax ? argmax->buf : y->buf), CLFER_ARG_INT(argmax ? argmax->offset : 0),
                     CLFER_ARG_INT(argmax != NULL), CLFER_ARG_INT(g.N * g.C), CLFER_ARG_INT(g.H), CLFER_ARG_INT(g.W),
                     CLFER_ARG_INT(g.OH), CLFER_ARG_INT(g.OW), CLFER_ARG_INT(g.KH), CLFER_ARG_INT(g.KW),
                     CLFER_ARG_INT(g.SH), CLFER_ARG_INT(g.SW), CLFER_ARG_INT(g.PH), CLFER_ARG_INT(g.PW));
  }
  return CLFER_RUN(rt, "pool", NULL, "maxpool2d_forward", 3, gl, clfer__cpu_local(rt, 3, gl, 1, lo3), cost, CLFER_ARG_MEM(x->buf),
                   CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset),
                   CLFER_ARG_MEM(argmax ? argmax->buf : y->buf), CLFER_ARG_INT(argmax ? argmax->offset : 0),
                   CLFER_ARG_INT(argmax != NULL), CLFER_ARG_INT(g.N * g.C), CLFER_ARG_INT(g.H), CLFER_ARG_INT(g.W),
                   CLFER_ARG_INT(g.OH), CLFER_ARG_INT(g.OW), CLFER_ARG_INT(g.KH), CLFER_ARG_INT(g.KW),
                   CLFER_ARG_INT(g.SH), CLFER_ARG_INT(g.SW), CLFER_ARG_INT(g.PH), CLFER_ARG_INT(g.PW));
}

/* With y (the pool's output), dx goes on through the ReLU that made x (see pool.cl). */
static clfer_status maxpool2d_backward(clfer_runtime_t *rt, const char *op, const clfer_pool2d_params_t *p,
                                       const clfer_tensor_t *y, float slope, const clfer_tensor_t *dy,
                                       const clfer_tensor_t *argmax, clfer_tensor_t *dx) {
  CLFER__CHECK_RT(op, rt);
  CLFER__CHECK_TENSOR(op, "dy", dy);
  CLFER__CHECK_TENSOR(op, "argmax (from the forward pass)", argmax);
  CLFER__CHECK_TENSOR(op, "dx", dx);
  pool_geom_t g;
  clfer_status st = pool_geometry(op, p, dx, "dx", &g);
  if (st) return st;
  if ((st = check_nchw(op, "dy", dy, g.N, g.C, g.OH, g.OW, "dx", dx))) return st;
  CLFER__CHECK_SAME(op, "argmax", argmax, "dy", dy);
  if (y) {
    CLFER__CHECK_TENSOR(op, "y (the forward output)", y);
    CLFER__CHECK_SAME(op, "y", y, "dy", dy);
    if (!(slope >= 0.0f) || isinf(slope))
      return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: ReLU slope %g must be finite and >= 0", op, (double)slope);
  }
#define MASK_ARGS                                                                                              \
  CLFER_ARG_MEM(y ? y->buf : dy->buf), CLFER_ARG_INT(y ? y->offset : 0), CLFER_ARG_INT(y != NULL),             \
      CLFER_ARG_FLOAT(slope)
  size_t ny = clfer_tensor_numel(dy), nx = clfer_tensor_numel(dx);
  if (clfer__cpu_paths(rt)) { /* a plane per item (pool.cl): no integer division per element for PoCL */
    size_t gs[1] = {(size_t)g.N * g.C}, ls[1] = {clfer__cpu_group_items(rt, gs[0], 16)};
    return CLFER_RUN(rt, "pool", NULL, "maxpool2d_backward_planes", 1, gs, ls,
                     ((clfer_cost_t){(double)ny, 4.0 * (nx + 3.0 * ny)}), CLFER_ARG_MEM(dy->buf),
                     CLFER_ARG_INT(dy->offset), CLFER_ARG_MEM(argmax->buf), CLFER_ARG_INT(argmax->offset),
                     CLFER_ARG_MEM(dx->buf), CLFER_ARG_INT(dx->offset), CLFER_ARG_INT(g.N * g.C),
                     CLFER_ARG_INT(g.H * g.W), CLFER_ARG_INT(g.OH * g.OW), MASK_ARGS);
  }
  if (g.SH >= g.KH && g.SW >= g.KW) { /* windows do not overlap: scatter (see pool.cl) */
    if ((st = clfer_tensor_fill(dx, 0.0f))) return st;
    size_t gs[3] = {(size_t)g.OW, (size_t)g.OH, (size_t)g.N * g.C}, ls[3];
    return CLFER_RUN(rt, "pool", NULL, "maxpool2d_backward_scatter", 3, gs, clfer__cpu_local(rt, 3, gs, 1, ls),
                     ((clfer_cost_t){0, 4.0 * (2.0 * ny + ny)}), CLFER_ARG_MEM(dy->buf), CLFER_ARG_INT(dy->offset),
                     CLFER_ARG_MEM(argmax->buf), CLFER_ARG_INT(argmax->offset), CLFER_ARG_MEM(dx->buf),
                     CLFER_ARG_INT(dx->offset), CLFER_ARG_INT(g.H), CLFER_ARG_INT(g.W), CLFER_ARG_INT(g.OH),
                     CLFER_ARG_INT(g.OW), MASK_ARGS);
  }
  size_t gl[3] = {(size_t)g.W, (size_t)g.H, (size_t)g.N * g.C}, lo3[3];
  double overlap = (double)((g.KH + g.SH - 1) / g.SH) * ((g.KW + g.SW - 1) / g.SW);
  clfer_cost_t cost = {(double)nx * overlap, 4.0 * (nx + 2.0 * ny)};
  return CLFER_RUN(rt, "pool", NULL, "maxpool2d_backward", 3, gl, clfer__cpu_local(rt, 3, gl, 1, lo3), cost, CLFER_ARG_MEM(dy->buf),
                   CLFER_ARG_INT(dy->offset), CLFER_ARG_MEM(argmax->buf), CLFER_ARG_INT(argmax->offset),
                   CLFER_ARG_MEM(dx->buf), CLFER_ARG_INT(dx->offset), CLFER_ARG_INT(g.N * g.C), CLFER_ARG_INT(g.H),
                   CLFER_ARG_INT(g.W), CLFER_ARG_INT(g.OH), CLFER_ARG_INT(g.OW), CLFER_ARG_INT(g.KH),
                   CLFER_ARG_INT(g.KW), CLFER_ARG_INT(g.SH), CLFER_ARG_INT(g.SW), CLFER_ARG_INT(g.PH),
                   CLFER_ARG_INT(g.PW), MASK_ARGS);
#undef MASK_ARGS
}

clfer_status clfer_maxpool2d_backward(clfer_runtime_t *rt, const clfer_pool2d_params_t *p, const clfer_tensor_t *dy,
                                      const clfer_tensor_t *argmax, clfer_tensor_t *dx) {
  return maxpool2d_backward(rt, "maxpool2d_backward", p, NULL, 0.0f, dy, argmax, dx);
}

clfer_status clfer_maxpool2d_backward_through_relu(clfer_runtime_t *rt, const clfer_pool2d_params_t *p, float slope,
                                                   const clfer_tensor_t *y, const clfer_tensor_t *dy,
                                                   const clfer_tensor_t *argmax, clfer_tensor_t *dx) {
  return maxpool2d_backward(rt, "maxpool2d_backward_through_relu", p, y, slope, dy, argmax, dx);
}

clfer_status clfer_avgpool2d_forward(clfer_runtime_t *rt, const clfer_pool2d_params_t *p, const clfer_tensor_t *x,
                                     clfer_tensor_t *y) {
  static const char op[] = "avgpool2d_forward";
  CLFER__CHECK_RT(op, rt);
  CLFER__CHECK_TENSOR(op, "x", x);
  CLFER__CHECK_TENSOR(op, "y", y);
  pool_geom_t g;
  clfer_status st = pool_geometry(op, p, x, "x", &g);
  if (st) return st;
  if ((st = check_nchw(op, "y", y, g.N, g.C, g.OH, g.OW, "x", x))) return st;
  size_t ny = clfer_tensor_numel(y), nx = clfer_tensor_numel(x);
  size_t gl[1] = {ny};
  clfer_cost_t cost = {(double)ny * (g.KH * g.KW + 1), 4.0 * (nx + ny)};
  return CLFER_RUN(rt, "pool", NULL, "avgpool2d_forward", 1, gl, NULL, cost, CLFER_ARG_MEM(x->buf),
                   CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset),
                   CLFER_ARG_INT(g.N * g.C), CLFER_ARG_INT(g.H), CLFER_ARG_INT(g.W), CLFER_ARG_INT(g.OH),
                   CLFER_ARG_INT(g.OW), CLFER_ARG_INT(g.KH), CLFER_ARG_INT(g.KW), CLFER_ARG_INT(g.SH),
                   CLFER_ARG_INT(g.SW), CLFER_ARG_INT(g.PH), CLFER_ARG_INT(g.PW), CLFER_ARG_INT(g.cip));
}

clfer_status clfer_avgpool2d_backward(clfer_runtime_t *rt, const clfer_pool2d_params_t *p, const clfer_tensor_t *dy,
                                      clfer_tensor_t *dx) {
  static const char op[] = "avgpool2d_backward";
  CLFER__CHECK_RT(op, rt);
  CLFER__CHECK_TENSOR(op, "dy", dy);
  CLFER__CHECK_TENSOR(op, "dx", dx);
  pool_geom_t g;
  clfer_status st = pool_geometry(op, p, dx, "dx", &g);
  if (st) return st;
  if ((st = check_nchw(op, "dy", dy, g.N, g.C, g.OH, g.OW, "dx", dx))) return st;
  size_t ny = clfer_tensor_numel(dy), nx = clfer_tensor_numel(dx);
  size_t gl[3] = {(size_t)g.W, (size_t)g.H, (size_t)g.N * g.C}, lo3[3];
  double overlap = (double)((g.KH + g.SH - 1) / g.SH) * ((g.KW + g.SW - 1) / g.SW);
  clfer_cost_t cost = {2.0 * nx * overlap, 4.0 * (nx + ny)};
  return CLFER_RUN(rt, "pool", NULL, "avgpool2d_backward", 3, gl, clfer__cpu_local(rt, 3, gl, 1, lo3), cost, CLFER_ARG_MEM(dy->buf),
                   CLFER_ARG_INT(dy->offset), CLFER_ARG_MEM(dx->buf), CLFER_ARG_INT(dx->offset),
                   CLFER_ARG_INT(g.N * g.C), CLFER_ARG_INT(g.H), CLFER_ARG_INT(g.W), CLFER_ARG_INT(g.OH),
                   CLFER_ARG_INT(g.OW), CLFER_ARG_INT(g.KH), CLFER_ARG_INT(g.KW), CLFER_ARG_INT(g.SH),
                   CLFER_ARG_INT(g.SW), CLFER_ARG_INT(g.PH), CLFER_ARG_INT(g.PW), CLFER_ARG_INT(g.cip));
}

/* y must be [N, C, 1, 1] (or [N, C], which feeds a dense layer directly). */
static clfer_status check_gap_pair(const char *op, const char *yn, const clfer_tensor_t *y, const char *xn,
                                   const clfer_tensor_t *x) {
  char s[96], r[96];
  if (x->ndim != 4)
    return CLFER__OP_ERROR(CLFER_SHAPE_MISMATCH, op, "%s %s must be 4-D [N, C, H, W]", xn,
                           clfer_shape_str(x->ndim, x->shape, s, sizeof s));
  int ok = (y->ndim == 4 && y->shape[2] == 1 && y->shape[3] == 1) || y->ndim == 2;
  if (!ok || y->shape[0] != x->shape[0] || y->shape[1] != x->shape[1])
    return CLFER__OP_ERROR(CLFER_SHAPE_MISMATCH, op, "%s %s must be [%d, %d, 1, 1] (or [%d, %d]) for %s %s", yn,
                           clfer_shape_str(y->ndim, y->shape, s, sizeof s), x->shape[0], x->shape[1], x->shape[0],
                           x->shape[1], xn, clfer_shape_str(x->ndim, x->shape, r, sizeof r));
  return CLFER_OK;
}

/* Work-items reducing one plane; planes are small (6×6 to 14×14) in the networks clfer trains. */
#define GAP_LOCAL_WANT 64

clfer_status clfer_global_avgpool_forward(clfer_runtime_t *rt, const clfer_tensor_t *x, clfer_tensor_t *y) {
  static const char op[] = "global_avgpool_forward";
  CLFER__CHECK_RT(op, rt);
  CLFER__CHECK_TENSOR(op, "x", x);
  CLFER__CHECK_TENSOR(op, "y", y);
  clfer_status st = check_gap_pair(op, "y", y, "x", x);
  if (st) return st;
  int nc = x->shape[0] * x->shape[1], hw = x->shape[2] * x->shape[3];
  size_t local = 1;
  size_t want = GAP_LOCAL_WANT;
  while (want / 2 >= (size_t)hw && want > 1) want /= 2; /* no idle work-items for tiny planes */
  if ((st = clfer__op_pick_local(rt, "pool", NULL, "global_avgpool_forward", want, &local))) return st;
  size_t gl[1] = {(size_t)nc * local}, lo[1] = {local};
  size_t nx = clfer_tensor_numel(x);
  return CLFER_RUN(rt, "pool", NULL, "global_avgpool_forward", 1, gl, lo, ((clfer_cost_t){(double)nx, 4.0 * (nx + nc)}),
                   CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset),
                   CLFER_ARG_INT(hw), CLFER_ARG_LOCAL(local * sizeof(float)));
}

clfer_status clfer_global_avgpool_backward(clfer_runtime_t *rt, const clfer_tensor_t *dy, clfer_tensor_t *dx) {
  static const char op[] = "global_avgpool_backward";
  CLFER__CHECK_RT(op, rt);
  CLFER__CHECK_TENSOR(op, "dy", dy);
  CLFER__CHECK_TENSOR(op, "dx", dx);
  clfer_status st = check_gap_pair(op, "dy", dy, "dx", dx);
  if (st) return st;
  int nc = dx->shape[0] * dx->shape[1], hw = dx->shape[2] * dx->shape[3];
  size_t nx = clfer_tensor_numel(dx);
  size_t gl[1] = {nx};
  return CLFER_RUN(rt, "pool", NULL, "global_avgpool_backward", 1, gl, NULL,
                   ((clfer_cost_t){(double)nx, 4.0 * (nx + nc)}), CLFER_ARG_MEM(dy->buf), CLFER_ARG_INT(dy->offset),
                   CLFER_ARG_MEM(dx->buf), CLFER_ARG_INT(dx->offset), CLFER_ARG_INT(nc), CLFER_ARG_INT(hw));
}
