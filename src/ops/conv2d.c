/* conv2d.c — convolution as im2col + CLBlast GEMM over chunks of the batch, one GEMM per group
 * covering every image of the chunk. The layouts are the ones CLBlast's fast GEMM kernel takes
 * without copying the large operand (clfer_sgemm asks for column-major products):
 *   forward           T[n·P, og]   = col_gᵀ · W_gᵀ, col in [C/g·KH·KW, n·P], then T → NCHW + bias;
 *   backward data     colT[n·P, ckk] = dY_gᵀ · W_g, dY in [O, n·P], then a gathering col2im;
 *   backward weights  dW_g (+)= dY_g · colT_g (accumulated over chunks).
 * On PoCL this ran the GEMMs of a VGG13-FER+ step 1.1-4× faster than the [O, n·P] layouts
 * (perf/bench_gemm_forms, docs/perf.md). The chunk is sized so the column buffer stays under a
 * cap (default 256 MiB, $CLFER_CONV_SCRATCH_BYTES to change, and never above the device's largest
 * allocation); on CPUs smaller where CLBlast would copy a large operand (cache_sized_chunk).
 * Wide 3×3 stride-1 layers take Winograd's F(4×4, 3×3) instead (conv2d_winograd.c), and on CPUs
 * stride-1 layers with few input taps a direct kernel (conv2d_direct.c). */
#include <math.h>
#include <stdlib.h>

#include "clfer/ops.h"
#include "conv2d_internal.h"
#include "launch_shape.h"
#include "layer_ops_util.h"
#include "runtime/runtime_internal.h"

int clfer_conv2d_out_size(int in, int kernel, int stride, int pad) {
  if (stride <= 0) stride = 1;
  if (in <= 0 || kernel <= 0 || pad < 0) return 0;
  long long span = (long long)in + 2LL * pad - kernel; /* no int overflow for absurd sizes */
  if (span < 0) return 0;
  long long out = span / stride + 1;
  return out > INT_MAX ? 0 : (int)out;
}

/* The layout kernels' shared arguments after (input, offset, output, n0, count), in conv.cl's
 * order: C, H, W, KH, KW, SH, SW, PH, PW, OH, OW. */
#define CONV_GEOMETRY_ARGS(g)                                                                          \
  CLFER_ARG_INT((g)->c), CLFER_ARG_INT((g)->h), CLFER_ARG_INT((g)->w), CLFER_ARG_INT((g)->kh),         \
      CLFER_ARG_INT((g)->kw), CLFER_ARG_INT((g)->sh), CLFER_ARG_INT((g)->sw), CLFER_ARG_INT((g)->ph), \
      CLFER_ARG_INT((g)->pw), CLFER_ARG_INT((g)->oh), CLFER_ARG_INT((g)->ow)

size_t clfer__conv_scratch_cap(clfer_runtime_t *rt) {
  size_t cap = 256u << 20;
  const char *env = getenv("CLFER_CONV_SCRATCH_BYTES");
  if (env && atol(env) > 0) cap = (size_t)atol(env);
  const clfer_device_info_t *d = clfer_runtime_device(rt);
  return cap > d->max_alloc_bytes / 2 ? d->max_alloc_bytes / 2 : cap;
}

static clfer_status geometry(clfer_runtime_t *rt, const clfer_conv2d_params_t *p, const clfer_tensor_t *x,
                             const clfer_tensor_t *w, const clfer_tensor_t *y, conv_geom_t *g) {
  char a[96], b[96], c[96];
  if (x->ndim != 4 || w->ndim != 4 || y->ndim != 4)
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "conv2d: input %s, weight %s and output %s must all be 4-D",
                           clfer_shape_str(x->ndim, x->shape, a, sizeof a), clfer_shape_str(w->ndim, w->shape, b, sizeof b),
                           clfer_shape_str(y->ndim, y->shape, c, sizeof c));
  g->n = x->shape[0], g->c = x->shape[1], g->h = x->shape[2], g->w = x->shape[3];
  g->o = w->shape[0], g->kh = p->kernel_h, g->kw = p->kernel_w;
  g->sh = p->stride_h > 0 ? p->stride_h : 1, g->sw = p->stride_w > 0 ? p->stride_w : 1;
  g->ph = p->pad_h, g->pw = p->pad_w, g->g = p->groups > 0 ? p->groups : 1;
  g->relu = 0, g->relu_slope = 0.0f;
  if (g->c % g->g || g->o % g->g || w->shape[1] != g->c / g->g || w->shape[2] != g->kh || w->shape[3] != g->kw)
    return clfer_set_error(CLFER_SHAPE_MISMATCH,
                           "conv2d: weight %s does not match input %s with a %dx%d kernel and %d group(s)",
                           clfer_shape_str(4, w->shape, a, sizeof a), clfer_shape_str(4, x->shape, b, sizeof b), g->kh,
                           g->kw, g->g);
  g->oh = clfer_conv2d_out_size(g->h, g->kh, g->sh, g->ph);
  g->ow = clfer_conv2d_out_size(g->w, g->kw, g->sw, g->pw);
  if (g->oh <= 0 || g->ow <= 0 || y->shape[0] != g->n || y->shape[1] != g->o || y->shape[2] != g->oh ||
      y->shape[3] != g->ow)
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "conv2d: output %s should be [%d, %d, %d, %d] for input %s",
                           clfer_shape_str(4, y->shape, a, sizeof a), g->n, g->o, g->oh, g->ow,
                           clfer_shape_str(4, x->shape, b, sizeof b));
  g->cg = g->c / g->g, g->og = g->o / g->g, g->cs = g->c, g->os = g->o;
  g->ckk = g->cg * g->kh * g->kw;
  g->p = g->oh * g->ow;
  size_t per_image = (size_t)g->c * g->kh * g->kw * g->p * sizeof(float);
  g->chunk = (int)(clfer__conv_scratch_cap(rt) / (per_image ? per_image : 1));
  if (g->chunk < 1) g->chunk = 1;
  if (g->chunk > g->n) g->chunk = g->n;
  return CLFER_OK;
}

/* On CPUs, where CLBlast would copy a large operand of one of the pass's GEMMs (a size off its
 * tiles) into a temporary larger than a sixteenth of the device's cache over a full chunk,
 * chunks whose column buffer is that size: the copies and the GEMM then read what im2col (or the
 * GEMM, for col2im) just wrote from the cache rather than memory (PoCL, fer_small's 16 → 32
 * layer at batch 64: its weight gradient's GEMM 18 → 10 ms; an eighth ran the same, a
 * thirty-second slower). Other layers keep the full chunk: splitting ResNet-18's on-tile layers
 * made their GEMMs slower (77 against 90 GFLOP/s). */
static void cache_sized_chunk(clfer_runtime_t *rt, conv_geom_t *g, int forward, int want_dx, int want_dw) {
  uint64_t cache = clfer_runtime_device(rt)->global_mem_cache_bytes;
  if (!clfer__cpu_paths(rt) || cache / 16 == 0) return;
  size_t cols = (size_t)g->chunk * g->p, budget = (size_t)(cache / 16);
  if ((!forward || clfer__sgemm_temp_bytes(rt, 1, 1, cols, g->og, g->ckk, cols, g->ckk, g->og) <= budget) &&
      (!want_dx || clfer__sgemm_temp_bytes(rt, 1, 0, cols, g->ckk, g->og, cols, g->ckk, g->ckk) <= budget) &&
      (!want_dw || clfer__sgemm_temp_bytes(rt, 0, 0, g->og, g->ckk, cols, cols, g->ckk, g->ckk) <= budget))
    return;
  size_t per_image = (size_t)g->c * g->kh * g->kw * g->p * sizeof(float);
  size_t fit = budget / per_image;
  if (fit < (size_t)g->chunk) g->chunk = fit < 1 ? 1 : (int)fit;
}

static clfer_status im2col(clfer_runtime_t *rt, const conv_geom_t *g, const clfer_tensor_t *x, int n0, int count,
                           clfer_tensor_t *col) {
  size_t total = (size_t)g->c * g->kh * g->kw * count * g->p;
  if (clfer__cpu_paths(rt)) { /* a loop per output row: see conv.cl */
    size_t gr[2] = {(size_t)g->oh, (size_t)count * g->c * g->kh * g->kw};
    return CLFER_RUN(rt, "conv", NULL, "conv2d_im2col_rows", 2, gr, NULL, ((clfer_cost_t){0, 8.0 * total}),
                     CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(col->buf), CLFER_ARG_INT(n0),
                     CLFER_ARG_INT(count), CONV_GEOMETRY_ARGS(g));
  }
  size_t gs[3] = {(size_t)g->ow, (size_t)g->oh, (size_t)count * g->c * g->kh * g->kw}, ls[3];
  return CLFER_RUN(rt, "conv", NULL, "conv2d_im2col", 3, gs, clfer__cpu_local(rt, 3, gs, 1, ls), ((clfer_cost_t){0, 8.0 * total}),
                   CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset), CLFER_ARG_MEM(col->buf), CLFER_ARG_INT(n0),
                   CLFER_ARG_INT(count), CONV_GEOMETRY_ARGS(g));
}

/* colT[g][n·P + p][ckk] for the chunk (conv.cl) */
static clfer_status im2col_pixel_major(clfer_runtime_t *rt, const conv_geom_t *g, const clfer_tensor_t *x, int n0,
                                       int count, clfer_tensor_t *col) {
  size_t total = (size_t)g->c * g->kh * g->kw * count * g->p;
  int cpu = clfer__cpu_paths(rt);
  size_t gs[2] = {cpu ? (size_t)g->oh : total, (size_t)count * g->g}, ls[2] = {1, 1};
  return CLFER_RUN(rt, "conv", NULL, cpu ? "conv2d_im2col_t_rows" : "conv2d_im2col_t", cpu ? 2 : 1, gs, cpu ? ls : NULL,
                   ((clfer_cost_t){0, 8.0 * total}), CLFER_ARG_MEM(x->buf), CLFER_ARG_INT(x->offset),
                   CLFER_ARG_MEM(col->buf), CLFER_ARG_INT(n0), CLFER_ARG_INT(count), CONV_GEOMETRY_ARGS(g),
                   CLFER_ARG_INT(g->g));
}

/* dx of the chunk from colT (conv.cl): a gather per dx element on GPUs, a scatter over colT in
 * memory order on CPUs, by blocks of channels so that there are at least four items per compute
 * unit. */
static clfer_status col2im_pixel_major(clfer_runtime_t *rt, const conv_geom_t *g, const clfer_tensor_t *col, int n0,
                                       int count, const clfer_tensor_t *mask, clfer_tensor_t *dx) {
  size_t total = (size_t)count * g->c * g->h * g->w;
  clfer_cost_t cost = {(double)total * g->kh * g->kw / ((double)g->sh * g->sw), 4.0 * total * (1 + g->kh * g->kw)};
  /* with a mask (x, as dx is laid out): dx times mask_slope where it is not > 0 */
#define MASK_ARGS                                                                                              \
  CLFER_ARG_MEM(mask ? mask->buf : dx->buf), CLFER_ARG_INT(mask ? mask->offset : 0), CLFER_ARG_INT(mask != NULL), \
      CLFER_ARG_FLOAT(g->mask_slope)
  if (clfer__cpu_paths(rt)) {
    size_t units = clfer_runtime_device(rt)->compute_units, items = (size_t)count * g->g;
    size_t blocks = (4 * (units ? units : 1) + items - 1) / items;
    if (blocks > (size_t)g->cg) blocks = (size_t)g->cg;
    int cblock = (int)(((size_t)g->cg + blocks - 1) / blocks);
    size_t gs[2] = {((size_t)g->cg + cblock - 1) / cblock, items}, ls[2] = {1, 1};
    return CLFER_RUN(rt, "conv", NULL, "conv2d_col2im_scatter_rows", 2, gs, ls, cost, CLFER_ARG_MEM(col->buf),
                     CLFER_ARG_MEM(dx->buf), CLFER_ARG_INT(dx->offset), CLFER_ARG_INT(n0), CLFER_ARG_INT(count),
                     CONV_GEOMETRY_ARGS(g), CLFER_ARG_INT(g->g), CLFER_ARG_INT(cblock), MASK_ARGS);
  }
  size_t gs[3] = {(size_t)g->w, (size_t)g->h, (size_t)count * g->c};
  return CLFER_RUN(rt, "conv", NULL, "conv2d_col2im_t", 3, gs, NULL, cost, CLFER_ARG_MEM(col->buf),
                   CLFER_ARG_MEM(dx->buf), CLFER_ARG_INT(dx->offset), CLFER_ARG_INT(n0), CLFER_ARG_INT(count),
                   CONV_GEOMETRY_ARGS(g), CLFER_ARG_INT(g->g), MASK_ARGS);
#undef MASK_ARGS
}

/* y[n0 + n][o][p] = T[g][n·P + p][o − g·og] + b[o] for the chunk, then the fused ReLU if any
 * (conv.cl). GPUs transpose through 16×16 local tiles; CPUs, and devices whose work-groups cannot
 * hold 256 items, copy by rows. */
enum { PM_TILE = 16 };
static clfer_status pixel_major_to_nchw(clfer_runtime_t *rt, const conv_geom_t *g, const clfer_tensor_t *t, int n0,
                                        int count, const clfer_tensor_t *b, clfer_tensor_t *y) {
  size_t total = (size_t)g->o * count * g->p;
  size_t p_tiles = ((size_t)g->p + PM_TILE - 1) / PM_TILE;
  clfer_cost_t cost = {b ? (double)total : 0.0, 8.0 * total};
#define PM_ARGS                                                                                                 \
  CLFER_ARG_MEM(t->buf), CLFER_ARG_MEM(y->buf), CLFER_ARG_INT(y->offset), CLFER_ARG_INT(n0), CLFER_ARG_INT(count), \
      CLFER_ARG_INT(g->o), CLFER_ARG_INT(g->p), CLFER_ARG_INT(g->g), CLFER_ARG_MEM(b ? b->buf : t->buf),          \
      CLFER_ARG_INT(b ? b->offset : 0), CLFER_ARG_INT(b != NULL), CLFER_ARG_INT(g->relu),                     \
      CLFER_ARG_FLOAT(g->relu_slope)
  if (clfer__cpu_paths(rt) || clfer_runtime_device(rt)->max_work_group_size < PM_TILE * PM_TILE) {
    /* groups of up to four 16-pixel tiles of one image: PoCL's own choice ran 1.8× slower (ResNet-18
     * at 112² and batch 8, all layers: 6.7 → 3.7 ms a step; AlexNet 8.5 → 4.5 ms) */
    size_t gs[2] = {p_tiles, (size_t)count}, ls[2] = {p_tiles < 4 ? p_tiles : 4, 1};
    return CLFER_RUN(rt, "conv", NULL, "conv2d_pm_to_nchw_bias_rows", 2, gs, ls, cost, PM_ARGS);
  }
  size_t gs[3] = {p_tiles * PM_TILE, ((size_t)g->o + PM_TILE - 1) / PM_TILE * PM_TILE, (size_t)count};
  size_t ls[3] = {PM_TILE, PM_TILE, 1};
  return CLFER_RUN(rt, "conv", NULL, "conv2d_pm_to_nchw_bias", 3, gs, ls, cost, PM_ARGS);
#undef PM_ARGS
}

static clfer_status conv2d_forward(clfer_runtime_t *rt, const clfer_conv2d_params_t *p, int relu, float slope,
                                   const clfer_tensor_t *x, const clfer_tensor_t *w, const clfer_tensor_t *b,
                                   clfer_tensor_t *y) {
  conv_geom_t g;
  clfer_status st = geometry(rt, p, x, w, y, &g);
  if (st) return st;
  g.relu = relu, g.relu_slope = slope;
  if (b && clfer_tensor_numel(b) != (size_t)g.o)
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "conv2d: bias of %zu elements for %d output channels",
                           clfer_tensor_numel(b), g.o);
  if (relu && (!(slope >= 0.0f) || isinf(slope)))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "conv2d: fused ReLU slope %g must be finite and >= 0",
                           (double)slope);
  if (clfer__conv2d_winograd_applies(rt, &g, 1, 0, 0)) return clfer__conv2d_winograd_forward(rt, &g, x, w, b, y);
  if (clfer__conv2d_direct_applies(rt, &g, 0)) return clfer__conv2d_direct_forward(rt, &g, x, w, b, y);
  cache_sized_chunk(rt, &g, 1, 0, 0);
  /* clfer's own CPU GEMM lays a transposed B out [k][n] before each product: over several chunks,
   * W_gᵀ is laid out once here instead (ResNet-18 at batch 8: 19 → 7 transposes a step) */
  int w_once = clfer__own_gemm(rt) && g.chunk < g.n;
  size_t wo = g.ckk * (size_t)g.og; /* floats of one group's weights */
  clfer_tensor_t col = {0}, tmp = {0}, wt = {0};
  if ((st = clfer__conv_scratch(rt, (size_t)g.c * g.kh * g.kw * g.chunk * g.p, &col)) ||
      (st = clfer__conv_scratch(rt, (size_t)g.o * g.chunk * g.p, &tmp)) ||
      (w_once && ((st = clfer__conv_scratch(rt, g.g * wo, &wt)) ||
                  (st = clfer__sgemm_transpose_b(rt, w->buf, w->offset, g.ckk, wo, g.og, g.ckk, g.g, wt.buf)))))
    goto done;
  for (int n0 = 0; n0 < g.n && !st; n0 += g.chunk) {
    int count = g.n - n0 < g.chunk ? g.n - n0 : g.chunk;
    size_t cols = (size_t)count * g.p;
    if ((st = im2col(rt, &g, x, n0, count, &col))) break;
    /* T_g[n·P, og] = col_gᵀ · W_gᵀ (W_gᵀ [ckk, og] in wt when laid out once) */
    for (int gi = 0; gi < g.g && !st; gi++)
      st = w_once ? clfer_sgemm(rt, 1, 0, cols, g.og, g.ckk, 1.0f, col.buf, (size_t)gi * g.ckk * cols, cols, wt.buf,
                                gi * wo, g.og, 0.0f, tmp.buf, (size_t)gi * cols * g.og, g.og)
                  : clfer_sgemm(rt, 1, 1, cols, g.og, g.ckk, 1.0f, col.buf, (size_t)gi * g.ckk * cols, cols, w->buf,
                                w->offset + gi * wo, g.ckk, 0.0f, tmp.buf, (size_t)gi * cols * g.og, g.og);
    if (st) break;
    st = pixel_major_to_nchw(rt, &g, &tmp, n0, count, b, y);
  }
done:
  clfer_tensor_release(&col);
  clfer_tensor_release(&tmp);
  clfer_tensor_release(&wt);
  return st;
}

clfer_status clfer_conv2d_forward(clfer_runtime_t *rt, const clfer_conv2d_params_t *p, const clfer_tensor_t *x,
                                  const clfer_tensor_t *w, const clfer_tensor_t *b, clfer_tensor_t *y) {
  return conv2d_forward(rt, p, 0, 0.0f, x, w, b, y);
}

clfer_status clfer_conv2d_relu_forward(clfer_runtime_t *rt, const clfer_conv2d_params_t *p, float slope,
                                       const clfer_tensor_t *x, const clfer_tensor_t *w, const clfer_tensor_t *b,
                                       clfer_tensor_t *y) {
  return conv2d_forward(rt, p, 1, slope, x, w, b, y);
}

/* dy chunk as [O, count·P] */
static clfer_status dy_to_cnp(clfer_runtime_t *rt, const conv_geom_t *g, const clfer_tensor_t *dy, int n0, int count,
                              clfer_tensor_t *t) {
  size_t total = (size_t)g->o * count * g->p;
  if (clfer__cpu_paths(rt)) { /* a plane per item, in groups of four: 5-10× the per-element form on PoCL */
    size_t gr[1] = {(size_t)g->o * count}, lr[1] = {gr[0] < 4 ? gr[0] : 4};
    return CLFER_RUN(rt, "conv", NULL, "conv2d_nchw_to_cnp_rows", 1, gr, lr, ((clfer_cost_t){0, 8.0 * total}),
                     CLFER_ARG_MEM(dy->buf), CLFER_ARG_INT(dy->offset), CLFER_ARG_MEM(t->buf), CLFER_ARG_INT(n0),
                     CLFER_ARG_INT(count), CLFER_ARG_INT(g->o), CLFER_ARG_INT(g->p));
  }
  size_t gs[2] = {(size_t)g->p, (size_t)g->o * count}, ls[2];
  return CLFER_RUN(rt, "conv", NULL, "conv2d_nchw_to_cnp", 2, gs, clfer__cpu_local(rt, 2, gs, 0, ls), ((clfer_cost_t){0, 8.0 * total}),
                   CLFER_ARG_MEM(dy->buf), CLFER_ARG_INT(dy->offset), CLFER_ARG_MEM(t->buf), CLFER_ARG_INT(n0),
                   CLFER_ARG_INT(count), CLFER_ARG_INT(g->o), CLFER_ARG_INT(g->p));
}

/* Both backward passes over the same chunks, so dY is laid out [O, n·P] once per chunk:
 * dW (+)= dY_g · colT_g when dw is given (x then too), and dx by col2im of dY_gᵀ · W_g when dx is
 * given (w then too). The column buffer serves both in turn (the queue is in order). */
static clfer_status conv2d_backward(clfer_runtime_t *rt, const clfer_conv2d_params_t *p, int mask_dx, float slope,
                                    const clfer_tensor_t *x, const clfer_tensor_t *dy, const clfer_tensor_t *w,
                                    clfer_tensor_t *dx, clfer_tensor_t *dw, clfer_tensor_t *db) {
  if ((!dw && !dx) || (dw && !x) || (dx && !w) || (db && !dw))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "conv2d backward: give dw (with x, and optionally db) and/or "
                                                   "dx (with w)");
  if (mask_dx && (!dx || !x || !(slope >= 0.0f) || isinf(slope)))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "conv2d backward through a ReLU: needs x and dx, and a slope "
                                                   "(%g) finite and >= 0", (double)slope);
  conv_geom_t g;
  clfer_status st = geometry(rt, p, dw ? x : dx, dw ? dw : w, dy, &g);
  if (st) return st;
  g.mask_dx = mask_dx, g.mask_slope = slope;
  if (dx && x) CLFER__CHECK_SAME("conv2d backward", "input", x, "input gradient", dx);
  if (dw && dx) CLFER__CHECK_SAME("conv2d backward", "weight", w, "weight gradient", dw);
  if (db && clfer_tensor_numel(db) != (size_t)g.o)
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "conv2d: bias gradient of %zu elements for %d output channels",
                           clfer_tensor_numel(db), g.o);
  if (clfer__conv2d_winograd_applies(rt, &g, 0, dx != NULL, dw != NULL))
    return clfer__conv2d_winograd_backward(rt, &g, x, dy, w, dx, dw, db);
  if (dw && clfer__conv2d_direct_applies(rt, &g, 1)) { /* the weight gradient directly, dx (if asked) below */
    if ((st = clfer__conv2d_direct_backward_weights(rt, &g, x, dy, dw, db)) || !dx) return st;
    dw = NULL, db = NULL;
  }
  cache_sized_chunk(rt, &g, 0, dx != NULL, dw != NULL);
  clfer_tensor_t col = {0}, t = {0};
  if ((st = clfer__conv_scratch(rt, (size_t)g.c * g.kh * g.kw * g.chunk * g.p, &col)) ||
      (st = clfer__conv_scratch(rt, (size_t)g.o * g.chunk * g.p, &t)))
    goto done;
  for (int n0 = 0; n0 < g.n && !st; n0 += g.chunk) {
    int count = g.n - n0 < g.chunk ? g.n - n0 : g.chunk;
    size_t cols = (size_t)count * g.p;
    if ((st = dy_to_cnp(rt, &g, dy, n0, count, &t))) break;
    if (dw) {
      float beta = n0 == 0 ? 0.0f : 1.0f;
      if ((st = im2col_pixel_major(rt, &g, x, n0, count, &col))) break;
      /* dW_g[og, ckk] (+)= dy_g[og, cols] · colT_g[cols, ckk] */
      for (int gi = 0; gi < g.g && !st; gi++)
        st = clfer_sgemm(rt, 0, 0, g.og, g.ckk, cols, 1.0f, t.buf, (size_t)gi * g.og * cols, cols, col.buf,
                         (size_t)gi * cols * g.ckk, g.ckk, beta, dw->buf, dw->offset + (size_t)gi * g.og * g.ckk, g.ckk);
      if (!st && db) {
        size_t gs[1] = {(size_t)g.o * 64}, ls[1] = {64};
        st = CLFER_RUN(rt, "conv", NULL, "reduce_rows", 1, gs, ls, ((clfer_cost_t){(double)g.o * cols, 4.0 * g.o * cols}),
                       CLFER_ARG_MEM(t.buf), CLFER_ARG_INT(0), CLFER_ARG_INT(cols), CLFER_ARG_MEM(db->buf),
                       CLFER_ARG_INT(db->offset), CLFER_ARG_INT(n0 != 0));
      }
      if (st) break;
    }
    if (dx) {
      /* colT_g[cols, ckk] = dy_gᵀ[cols, og] · W_g[og, ckk] */
      for (int gi = 0; gi < g.g && !st; gi++)
        st = clfer_sgemm(rt, 1, 0, cols, g.ckk, g.og, 1.0f, t.buf, (size_t)gi * g.og * cols, cols, w->buf,
                         w->offset + (size_t)gi * g.og * g.ckk, g.ckk, 0.0f, col.buf, (size_t)gi * cols * g.ckk, g.ckk);
      if (!st) st = col2im_pixel_major(rt, &g, &col, n0, count, g.mask_dx ? x : NULL, dx);
    }
  }
done:
  clfer_tensor_release(&col);
  clfer_tensor_release(&t);
  return st;
}

clfer_status clfer_conv2d_backward_data(clfer_runtime_t *rt, const clfer_conv2d_params_t *p, const clfer_tensor_t *dy,
                                        const clfer_tensor_t *w, clfer_tensor_t *dx) {
  return conv2d_backward(rt, p, 0, 0.0f, NULL, dy, w, dx, NULL, NULL);
}

clfer_status clfer_conv2d_backward_weights(clfer_runtime_t *rt, const clfer_conv2d_params_t *p, const clfer_tensor_t *x,
                                           const clfer_tensor_t *dy, clfer_tensor_t *dw, clfer_tensor_t *db) {
  return conv2d_backward(rt, p, 0, 0.0f, x, dy, NULL, NULL, dw, db);
}

clfer_status clfer_conv2d_backward(clfer_runtime_t *rt, const clfer_conv2d_params_t *p, const clfer_tensor_t *x,
                                   const clfer_tensor_t *dy, const clfer_tensor_t *w, clfer_tensor_t *dx,
                                   clfer_tensor_t *dw, clfer_tensor_t *db) {
  return conv2d_backward(rt, p, 0, 0.0f, x, dy, w, dx, dw, db);
}

clfer_status clfer_conv2d_backward_through_relu(clfer_runtime_t *rt, const clfer_conv2d_params_t *p, float slope,
                                                const clfer_tensor_t *x, const clfer_tensor_t *dy,
                                                const clfer_tensor_t *w, clfer_tensor_t *dx, clfer_tensor_t *dw,
                                                clfer_tensor_t *db) {
  return conv2d_backward(rt, p, 1, slope, x, dy, w, dx, dw, db);
}
