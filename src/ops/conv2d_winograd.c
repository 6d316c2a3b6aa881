/* conv2d_winograd.c — 3×3 stride-1 convolutions by Winograd's minimal filtering F(4×4, 3×3)
 * (kernels/winograd.cl; F(2×2, 3×3) on request): transforms on the device, then the products, one
 * per transformed position ξ (36), as one strided-batched CLBlast GEMM over a chunk of images, in
 * forms CLBlast's kernel reads and writes in place (as the im2col path's, conv2d.c):
 *   forward           M_ξ[T, K]   = V_ξᵀ · U_ξ,   V_ξ [C, T] from x, U_ξ [C, K] from w;
 *   backward data     the forward product of dY with rotated, channel-swapped kernels (pad 2 − p);
 *   backward weights  dU_ξ[K, C] (+)= D_ξᵀ · V_ξ,  D_ξ [T, K] from dY, V_ξ [T, C] from x; then
 *                     dW = Gᵀ dU G, and db from D's plane ξ = (1, 1) (each tile's sum of dY).
 * 36 multiplications per 4×4 output tile and channel pair instead of 144 (F(2×2): 16 for 36), and
 * the transformed input is 2.25× the input (F(2×2): 4×) where im2col's columns are 9×. A tile
 * count T off CLBlast's tiles is padded to them in the ξ-planes (planes_tiles); a grouped layer
 * runs group by group (group_geometry). With clfer's own CPU GEMM (any size, stride and form) the
 * forward and data products read V_ξ [T, C] instead (M_ξ = V_ξ · U_ξ, transforms_tiles_major),
 * and the ξ-planes lie a little further apart than packed (plane_stride). */
#include <stdlib.h>
#include <string.h>

#include "conv2d_internal.h"
#include "launch_shape.h"
#include "runtime/runtime_internal.h"

/* Below these, im2col wins or breaks even: fewer channels make thin products (a first layer's
 * C = 1), and fewer output pixels per channel over the batch (VGG13's 8×8 and 16×16 layers at
 * batch 1) leave the transforms' launches and the tiny products uncovered (single-image latency
 * on PoCL 29-32 ms this way, 39-41 ms without). With CLBlast's products the channel floor is 64
 * (on PoCL fer_small's 16 → 32 and 32 → 64 layers broke even; GPUs are unmeasured); with clfer's
 * own CPU GEMM the 16- and 32-channel layers gain too (two training steps, kernel time:
 * ohlsen_cnn at batch 32 299-309 → 211-238 ms, fer_small at 64 59-64 → 41-52 ms). */
enum { WINO_MIN_CHANNELS_CLBLAST = 64, WINO_MIN_CHANNELS_OWN_GEMM = 16, WINO_MIN_OUTPUTS = 512 };
enum { WINO_PLANE_PAD = 16 }; /* floats between ξ-planes beyond their values: plane_stride */

/* The output tile: F(4×4, 3×3) (36 multiplications for 16 outputs, against F(2×2, 3×3)'s 16 for
 * 4) unless $CLFER_CONV_ALGO is winograd2 (winograd4 and winograd force 4). */
static int winograd_tile(void) {
  const char *algo = getenv("CLFER_CONV_ALGO");
  return algo && strcmp(algo, "winograd2") == 0 ? 2 : 4;
}

typedef struct wino_tiles {
  int m;               /* output tile M×M: F(M×M, 3×3) */
  int xi;              /* transformed positions per tile, (M + 2)² */
  const char *options; /* the program's build options for M */
  int th, tw;          /* tiles over the conv output (forward, backward weights) */
  int dth, dtw;        /* tiles over the input (backward data) */
  int chunk;           /* images per chunk */
  size_t buffer;       /* floats per image of the larger transformed buffer (either direction) */
} wino_tiles_t;

typedef enum { WINO_FORWARD, WINO_WEIGHTS, WINO_DATA } wino_product_t;

/* Whether that product of a chunk runs in place when its ξ-planes hold tp tiles. */
static int product_in_place(clfer_runtime_t *rt, const conv_geom_t *g, wino_product_t which, size_t tp) {
  size_t C = (size_t)g->c, K = (size_t)g->o;
  return which == WINO_FORWARD   ? clfer__sgemm_in_place(rt, 1, 0, tp, K, C, tp, K, K)
         : which == WINO_WEIGHTS ? clfer__sgemm_in_place(rt, 1, 0, K, C, tp, K, C, C)
                                 : clfer__sgemm_in_place(rt, 1, 0, tp, C, K, tp, C, C);
}

/* The tile count of a product's ξ-planes for T tiles: T where the product runs in place with it,
 * else T rounded up to the first multiple of 32, 64, 128 or 256 with which it does, padding by
 * at most half; else T (off CLBlast's tiles: see clfer__conv2d_winograd_applies). The products
 * never read the padding's results (forward, data), or the padding's rows are zeroed (weights).
 * ResNet-18 at 112² and batch 8 has 392 tiles on its 28×28 layers: 448 in place. */
static size_t planes_tiles(clfer_runtime_t *rt, const conv_geom_t *g, wino_product_t which, size_t T) {
  if (product_in_place(rt, g, which, T)) return T;
  for (size_t q = 32; q <= 256; q *= 2) {
    size_t tp = (T + q - 1) / q * q;
    if (2 * tp > 3 * T) break;
    if (product_in_place(rt, g, which, tp)) return tp;
  }
  return T;
}

/* Floats between neighbouring ξ-planes of tp × width (or width × tp) values. With clfer's own CPU
 * GEMM, which takes any strides, 16 more: packed, the planes often lie a multiple of 64 KiB apart,
 * the 36 lines of one tile fall into one set of the L1 and L2 caches, and the input transform's
 * four 16-byte stores per line each found it evicted (VGG13-FER+'s 64-channel 64×64 layer: 456-477
 * → 286-295 µs an image; a training step at batch 32 −13 %). CLBlast's batched kernel wants them
 * packed. */
static size_t plane_stride(clfer_runtime_t *rt, size_t tp, int width) {
  return tp * (size_t)width + (clfer__own_gemm(rt) ? WINO_PLANE_PAD : 0);
}

/* Whether the forward and data-gradient products read the transformed input tiles-major, V_ξ
 * [tp, channels], as the weight gradient's does: with clfer's own CPU GEMM, whose `nn` form takes
 * it in place, and whose CPU transform (sixteen channels per item) ran 35 % faster than the
 * channels-major one (four tiles per item). CLBlast's kernel takes the channels-major form. */
static int transforms_tiles_major(clfer_runtime_t *rt) { return clfer__own_gemm(rt); }

/* Whether every product of a chunk of `count` images runs in place (forward, weight gradient,
 * data gradient, as asked), with its ξ-planes padded as planes_tiles says (pad) or not. */
static int products_in_place(clfer_runtime_t *rt, const conv_geom_t *g, const wino_tiles_t *t, int count, int pad,
                             int forward, int want_dx, int want_dw) {
  size_t t_out = (size_t)count * t->th * t->tw, t_in = (size_t)count * t->dth * t->dtw;
#define WINO_TILES(which, T) (pad ? planes_tiles(rt, g, which, T) : (T))
  return (!forward || product_in_place(rt, g, WINO_FORWARD, WINO_TILES(WINO_FORWARD, t_out))) &&
         (!want_dw || product_in_place(rt, g, WINO_WEIGHTS, WINO_TILES(WINO_WEIGHTS, t_out))) &&
         (!want_dx || product_in_place(rt, g, WINO_DATA, WINO_TILES(WINO_DATA, t_in)));
#undef WINO_TILES
}

/* Floats of the larger transformed buffer of a chunk of `count` images, over the passes asked. */
static size_t chunk_buffer(clfer_runtime_t *rt, const conv_geom_t *g, const wino_tiles_t *t, int count, int forward,
                           int want_dx, int want_dw) {
  size_t t_out = (size_t)count * t->th * t->tw, t_in = (size_t)count * t->dth * t->dtw, most = 0, tp;
  if (forward && (tp = planes_tiles(rt, g, WINO_FORWARD, t_out)) > most) most = tp;
  if (want_dw && (tp = planes_tiles(rt, g, WINO_WEIGHTS, t_out)) > most) most = tp;
  if (want_dx && (tp = planes_tiles(rt, g, WINO_DATA, t_in)) > most) most = tp;
  return (size_t)t->xi * plane_stride(rt, most, g->c > g->o ? g->c : g->o);
}

/* Images per chunk: as many as the scratch cap holds on GPUs. On CPUs the fewest from which each
 * transformed buffer is an eighth of the device's cache (CL_DEVICE_GLOBAL_MEM_CACHE_SIZE: PoCL
 * reports the last level, 32 MiB here) and the products run in place without padding: the
 * transforms and products then pass V and M through the cache rather than memory (PoCL,
 * VGG13-FER+'s 64-channel 64×64 layer at batch 32, forward and backward: 154 → 116 ms, the
 * products alone 75 → 54 ms). Taking a smaller padded chunk instead (16 × 16 layers: 6 images
 * padded to 128 tiles rather than 8 on them) made VGG13-FER+'s step 15 % slower. */
static wino_tiles_t tiles_of(clfer_runtime_t *rt, const conv_geom_t *g) {
  int m = winograd_tile();
  wino_tiles_t t = {m, (m + 2) * (m + 2), m == 4 ? "-DWINO_M=4" : "-DWINO_M=2", (g->oh + m - 1) / m,
                    (g->ow + m - 1) / m, (g->h + m - 1) / m, (g->w + m - 1) / m, 1, 0};
  size_t most = (size_t)(t.th * t.tw > t.dth * t.dtw ? t.th * t.tw : t.dth * t.dtw);
  t.buffer = (size_t)t.xi * (g->c > g->o ? g->c : g->o) * most;
  size_t per_buffer = t.buffer * sizeof(float); /* bytes per image */
  size_t chunk = clfer__conv_scratch_cap(rt) / (2 * per_buffer); /* both scratch buffers */
  t.chunk = chunk < 1 ? 1 : chunk > (size_t)g->n ? g->n : (int)chunk;
  if (clfer__cpu_paths(rt)) { /* a CPU device always has a cache size (device.c) */
    size_t fit = (size_t)(clfer_runtime_device(rt)->global_mem_cache_bytes / 8) / per_buffer;
    for (int count = fit < 1 ? 1 : (int)fit; count < t.chunk; count++)
      if (products_in_place(rt, g, &t, count, 0, 1, 1, 1)) {
        t.chunk = count;
        break;
      }
  }
  return t;
}

/* One group of a grouped layer as a layer of its own (cg → og channels) whose images lie the whole
 * layer's channels apart: the path runs the groups one after the other on views of the tensors
 * (AlexNet's conv4 and conv5, groups = 2). */
static conv_geom_t group_geometry(const conv_geom_t *g) {
  conv_geom_t s = *g;
  s.c = s.cg, s.o = s.og, s.g = 1;
  return s;
}

/* t moved on by `floats` (a view; the caller keeps ownership of t's buffer). */
static clfer_tensor_t moved(const clfer_tensor_t *t, size_t floats) {
  clfer_tensor_t v = *t;
  v.offset += floats;
  v.owned = 0;
  return v;
}

int clfer__conv2d_winograd_applies(clfer_runtime_t *rt, const conv_geom_t *layer, int forward, int want_dx,
                                   int want_dw) {
  const char *algo = getenv("CLFER_CONV_ALGO");
  if (algo && strcmp(algo, "im2col") == 0) return 0;
  if (layer->kh != 3 || layer->kw != 3 || layer->sh != 1 || layer->sw != 1 || layer->ph > 2 || layer->pw > 2) return 0;
  if (algo && strncmp(algo, "winograd", 8) == 0) return 1;
  conv_geom_t group = group_geometry(layer), *g = &group;
  int min_channels = clfer__own_gemm(rt) ? WINO_MIN_CHANNELS_OWN_GEMM : WINO_MIN_CHANNELS_CLBLAST;
  if (g->c < min_channels || g->o < min_channels || (long)g->n * g->p < WINO_MIN_OUTPUTS) return 0;
  /* Products off CLBlast's tiles would run one by one (see clfer_sgemm_strided_batched): 36
   * calls with their copies per chunk, slower than im2col (ohlsen_cnn at batch 8 on PoCL: a
   * training step 165 → 567 ms). So only layers whose products, over a full chunk, run in place
   * (a last, smaller chunk may copy). */
  wino_tiles_t t = tiles_of(rt, g);
  return products_in_place(rt, g, &t, t.chunk, 1, forward, forward ? 0 : want_dx, forward ? 0 : want_dw);
}

/* Work-groups of the CPU forms: up to 64 items (whole rows of tiles or channel blocks each, tens
 * of microseconds of work), fewer where that would leave under eight groups per compute unit (a
 * small chunk's range; eight balanced the two cores here better than four, by up to 8 %). PoCL
 * runs a group's items with their private arrays side by side on a worker thread's stack, and
 * left to itself picks up to 4096 items: at the 4-7 KiB a tile's float16 values take, past the
 * 8 MiB stack. NULL on GPUs (the driver chooses). */
static const size_t *rows_local(clfer_runtime_t *rt, int cpu, unsigned dims, const size_t *global, size_t local[3]) {
  if (!cpu) return NULL;
  size_t items = 1;
  for (unsigned i = 0; i < dims; i++) items *= global[i];
  size_t most = clfer__cpu_group_items(rt, items, 64);
  local[0] = global[0] < most ? global[0] : most;
  local[1] = dims > 1 ? (most / local[0] < global[1] ? most / local[0] : global[1]) : 1;
  local[2] = 1;
  if (local[1] == 0) local[1] = 1;
  return local;
}

/* Whether the CPU transforms that take sixteen channels per float16 (the tiles-major input
 * transform, the output-gradient transform) read their h × w planes as sixteen-channel blocks
 * (winograd_block_channels) rather than from NCHW: where the sixteen lines of one position, h·w
 * floats apart, crowd more than four to a set of a 64-set L1 cache (x86's, 4 KiB apart). 64×64
 * and 32×32 planes put all sixteen in one set, and there blocks took VGG13-FER+'s input transforms
 * 453 → 202 µs a call (32×32, 128 channels, copy included); 16×16 and 48×48 planes (four to a
 * set) and 8×8 (one) ran 10-30 % slower with the copy. */
static int reads_blocks(clfer_runtime_t *rt, int h, int w) {
  if (!clfer__cpu_paths(rt)) return 0;
  int in_set[64] = {0}, most = 0;
  size_t bytes = (size_t)h * (size_t)w * sizeof(float);
  for (size_t k = 0; k < 16; k++) {
    int set = (int)(k * bytes / 64 % 64);
    if (++in_set[set] > most) most = in_set[set];
  }
  return most > 4;
}

/* Floats of `count` images' sixteen-channel blocks of `channels` planes of h × w. */
static size_t blocks_floats(int count, int channels, int h, int w) {
  return (size_t)count * (size_t)((channels + 15) / 16) * 16 * (size_t)h * (size_t)w;
}

/* blocks = images n0 .. n0+count of src ([N, channels, h, w], `stride` channels apart) as
 * [count][⌈channels/16⌉][h][w][16] (winograd_block_channels). */
static clfer_status block_channels(clfer_runtime_t *rt, const wino_tiles_t *wt, const clfer_tensor_t *src, int n0,
                                   int count, int channels, int stride, int h, int w, clfer_tensor_t *blocks) {
  size_t gs[3] = {((size_t)w + 15) / 16, (size_t)h, (size_t)count * ((channels + 15) / 16)}, ls[3];
  return CLFER_RUN(rt, "winograd", wt->options, "winograd_block_channels", 3, gs, rows_local(rt, 1, 3, gs, ls),
                   ((clfer_cost_t){0, 4.0 * ((double)count * channels * h * w + blocks_floats(count, channels, h, w))}),
                   CLFER_ARG_MEM(src->buf), CLFER_ARG_INT(src->offset), CLFER_ARG_MEM(blocks->buf), CLFER_ARG_INT(n0),
                   CLFER_ARG_INT(count), CLFER_ARG_INT(channels), CLFER_ARG_INT(h), CLFER_ARG_INT(w),
                   CLFER_ARG_INT(stride));
}

/* V = Bᵀ d B of every tile of `channels` planes of src (images n0 .. n0+count of [N, channels, h,
 * w], `stride` channels apart; th × tw tiles each), each ξ-plane [channels, tp] or, `tiles_major`,
 * [tp, channels] (tp ≥ T: planes_tiles), ps floats apart. With `blocks` (tiles-major on CPUs
 * only), from there: block_channels has filled it with those images. */
static clfer_status input_transform(clfer_runtime_t *rt, const wino_tiles_t *wt, int tiles_major,
                                    const clfer_tensor_t *src, const clfer_tensor_t *blocks, int n0, int count,
                                    int channels, int stride, int h, int w, int ph, int pw, int th, int tw, size_t tp,
                                    size_t ps, clfer_tensor_t *v) {
  size_t T = (size_t)count * th * tw;
  clfer_cost_t cost = {4.0 * wt->xi * (wt->m + 2) * channels * T, 4.0 * channels * T * (wt->xi + wt->m * wt->m)};
  int cpu = clfer__cpu_paths(rt);
  size_t ls[3], gs[3];
  const char *kernel;
  unsigned dims;
  if (blocks) {
    gs[0] = (size_t)th, gs[1] = (size_t)count;
    return CLFER_RUN(rt, "winograd", wt->options, "winograd_input_transform_t_blocks", 2, gs,
                     rows_local(rt, 1, 2, gs, ls), cost, CLFER_ARG_MEM(blocks->buf), CLFER_ARG_MEM(v->buf),
                     CLFER_ARG_INT(count), CLFER_ARG_INT(channels), CLFER_ARG_INT(h), CLFER_ARG_INT(w),
                     CLFER_ARG_INT(ph), CLFER_ARG_INT(pw), CLFER_ARG_INT(th), CLFER_ARG_INT(tw), CLFER_ARG_INT(ps));
  }
  if (tiles_major) {
    kernel = cpu ? "winograd_input_transform_t_rows" : "winograd_input_transform_t", dims = 2;
    gs[0] = cpu ? (size_t)th : (size_t)channels, gs[1] = cpu ? (size_t)count : T;
  } else {
    kernel = cpu ? "winograd_input_transform_rows" : "winograd_input_transform", dims = cpu ? 2 : 3;
    gs[0] = cpu ? (size_t)th : (size_t)tw, gs[1] = cpu ? (size_t)count * channels : (size_t)th;
    gs[2] = (size_t)count * channels;
  }
  return CLFER_RUN(rt, "winograd", wt->options, kernel, dims, gs, rows_local(rt, cpu, dims, gs, ls), cost,
                   CLFER_ARG_MEM(src->buf), CLFER_ARG_INT(src->offset), CLFER_ARG_MEM(v->buf), CLFER_ARG_INT(n0),
                   CLFER_ARG_INT(count), CLFER_ARG_INT(channels), CLFER_ARG_INT(h), CLFER_ARG_INT(w), CLFER_ARG_INT(ph),
                   CLFER_ARG_INT(pw), CLFER_ARG_INT(th), CLFER_ARG_INT(tw), CLFER_ARG_INT(tp), CLFER_ARG_INT(stride),
                   CLFER_ARG_INT(ps));
}

/* The range of the CPU forms that take sixteen channels per item along a row of tiles. */
static void channel_row_range(int channels, int th, int count, size_t gs[3]) {
  gs[0] = ((size_t)channels + 15) / 16, gs[1] = (size_t)th, gs[2] = (size_t)count;
}

/* U = G g Gᵀ of every kernel, [C, K] per ξ, or rotated and [K, C] per ξ (flip). */
static clfer_status weight_transform(clfer_runtime_t *rt, const wino_tiles_t *wt, const conv_geom_t *g,
                                     const clfer_tensor_t *w, int flip, clfer_tensor_t *u) {
  size_t kc = (size_t)g->o * g->c, fast = (size_t)(flip ? g->c : g->o), slow = (size_t)(flip ? g->o : g->c);
  int cpu = clfer__cpu_paths(rt);
  size_t ls[3];
  size_t gs[2] = {cpu ? slow : fast, slow};
  return CLFER_RUN(rt, "winograd", wt->options, cpu ? "winograd_weight_transform_rows" : "winograd_weight_transform",
                   cpu ? 1 : 2, gs, rows_local(rt, cpu, 1, gs, ls),
                   ((clfer_cost_t){4.0 * wt->xi * kc, 4.0 * kc * (9 + wt->xi)}), CLFER_ARG_MEM(w->buf),
                   CLFER_ARG_INT(w->offset), CLFER_ARG_MEM(u->buf), CLFER_ARG_INT(g->o), CLFER_ARG_INT(g->c),
                   CLFER_ARG_INT(flip));
}

/* out = Aᵀ m A (+ bias, then the fused ReLU if `relu`) for `channels` output planes of oh × ow
 * (th × tw tiles) from m's ξ-planes [tp, channels]; with a mask (laid out as out), each value
 * where the mask is not > 0 times mask_slope. */
static clfer_status output_transform(clfer_runtime_t *rt, const wino_tiles_t *wt, const clfer_tensor_t *m, int n0,
                                     int count, int channels, int stride, int oh, int ow, int th, int tw, size_t tp,
                                     size_t ps, const clfer_tensor_t *b, int relu, float relu_slope,
                                     const clfer_tensor_t *mask, float mask_slope, clfer_tensor_t *out) {
  size_t T = (size_t)count * th * tw, gs[3] = {(size_t)channels, T, 1};
  clfer_cost_t cost = {2.0 * wt->xi * wt->m * channels * T, 4.0 * channels * T * (wt->xi + wt->m * wt->m)};
  int cpu = clfer__cpu_paths(rt);
  size_t ls[3];
  if (cpu) channel_row_range(channels, th, count, gs);
  return CLFER_RUN(rt, "winograd", wt->options, cpu ? "winograd_output_transform_rows" : "winograd_output_transform",
                   cpu ? 3 : 2, gs, rows_local(rt, cpu, 3, gs, ls), cost, CLFER_ARG_MEM(m->buf),
                   CLFER_ARG_MEM(out->buf), CLFER_ARG_INT(out->offset), CLFER_ARG_INT(n0), CLFER_ARG_INT(count),
                   CLFER_ARG_INT(channels), CLFER_ARG_INT(oh), CLFER_ARG_INT(ow), CLFER_ARG_INT(th), CLFER_ARG_INT(tw),
                   CLFER_ARG_MEM(b ? b->buf : m->buf), CLFER_ARG_INT(b ? b->offset : 0), CLFER_ARG_INT(b != NULL),
                   CLFER_ARG_INT(relu), CLFER_ARG_FLOAT(relu_slope), CLFER_ARG_INT(tp), CLFER_ARG_INT(stride),
                   CLFER_ARG_INT(ps), CLFER_ARG_MEM(mask ? mask->buf : m->buf), CLFER_ARG_INT(mask ? mask->offset : 0),
                   CLFER_ARG_INT(mask != NULL), CLFER_ARG_FLOAT(mask_slope));
}

/* D = A e Aᵀ of every M×M tile of dY, each ξ-plane [tp, K]; with `blocks` (CPUs only), from
 * there: block_channels has filled it with those images of dY. */
static clfer_status output_grad_transform(clfer_runtime_t *rt, const wino_tiles_t *wt, const conv_geom_t *g,
                                          const clfer_tensor_t *dy, const clfer_tensor_t *blocks, int n0, int count,
                                          size_t tp, size_t ps, clfer_tensor_t *d) {
  size_t T = (size_t)count * wt->th * wt->tw, gs[3] = {(size_t)g->o, T, 1}, ls[3];
  clfer_cost_t cost = {2.0 * wt->xi * wt->m * g->o * T, 4.0 * g->o * T * (wt->m * wt->m + wt->xi)};
  int cpu = clfer__cpu_paths(rt);
  if (cpu) channel_row_range(g->o, wt->th, count, gs);
  if (blocks)
    return CLFER_RUN(rt, "winograd", wt->options, "winograd_output_grad_transform_blocks", 3, gs,
                     rows_local(rt, 1, 3, gs, ls), cost, CLFER_ARG_MEM(blocks->buf), CLFER_ARG_MEM(d->buf),
                     CLFER_ARG_INT(count), CLFER_ARG_INT(g->o), CLFER_ARG_INT(g->oh), CLFER_ARG_INT(g->ow),
                     CLFER_ARG_INT(wt->th), CLFER_ARG_INT(wt->tw), CLFER_ARG_INT(ps));
  return CLFER_RUN(rt, "winograd", wt->options,
                   cpu ? "winograd_output_grad_transform_rows" : "winograd_output_grad_transform", cpu ? 3 : 2, gs,
                   rows_local(rt, cpu, 3, gs, ls), cost,
                   CLFER_ARG_MEM(dy->buf), CLFER_ARG_INT(dy->offset), CLFER_ARG_MEM(d->buf), CLFER_ARG_INT(n0),
                   CLFER_ARG_INT(count), CLFER_ARG_INT(g->o), CLFER_ARG_INT(g->oh), CLFER_ARG_INT(g->ow),
                   CLFER_ARG_INT(wt->th), CLFER_ARG_INT(wt->tw), CLFER_ARG_INT(tp), CLFER_ARG_INT(g->os),
                   CLFER_ARG_INT(ps));
}

/* Zeroes rows T .. tp − 1 of each ξ-plane [tp, width] (nothing when tp = T). */
static clfer_status zero_pad_rows(clfer_runtime_t *rt, const wino_tiles_t *wt, size_t T, size_t tp, int width,
                                  size_t ps, clfer_tensor_t *buf) {
  if (tp == T) return CLFER_OK;
  size_t gs[2] = {(tp - T) * (size_t)width, (size_t)wt->xi};
  return CLFER_RUN(rt, "winograd", wt->options, "winograd_zero_pad_rows", 2, gs, NULL,
                   ((clfer_cost_t){0, 4.0 * gs[0] * gs[1]}), CLFER_ARG_MEM(buf->buf), CLFER_ARG_INT(T),
                   CLFER_ARG_INT(tp), CLFER_ARG_INT(width), CLFER_ARG_INT(ps));
}

/* The products of one chunk in one strided-batched GEMM: C_ξ = op(A_ξ)·op(B_ξ) (+ beta·C_ξ),
 * ξ-planes sa, sb and sc floats apart. One launch, and as many work-groups as separate calls (a
 * weight gradient's 64×64 product alone is one work-group of CLBlast's kernel). */
static clfer_status products(clfer_runtime_t *rt, const wino_tiles_t *wt, int ta, int tb, size_t m, size_t n,
                             size_t k, cl_mem a, size_t lda, size_t sa, cl_mem b, size_t ldb, size_t sb, float beta,
                             cl_mem c, size_t ldc, size_t sc) {
  return clfer_sgemm_strided_batched(rt, ta, tb, m, n, k, 1.0f, a, 0, lda, sa, b, 0, ldb, sb, beta, c, 0, ldc, sc,
                                     (size_t)wt->xi);
}

static clfer_status forward_group(clfer_runtime_t *rt, const conv_geom_t *g, const clfer_tensor_t *x,
                                  const clfer_tensor_t *w, const clfer_tensor_t *b, clfer_tensor_t *y) {
  wino_tiles_t t = tiles_of(rt, g);
  int tiles_major = transforms_tiles_major(rt);
  size_t max_tp = planes_tiles(rt, g, WINO_FORWARD, (size_t)t.chunk * t.th * t.tw), kc = (size_t)g->o * g->c;
  int x_blocks = tiles_major && reads_blocks(rt, g->h, g->w);
  clfer_tensor_t u = {0}, v = {0}, m = {0}, xb = {0};
  clfer_status st;
  if ((st = clfer__conv_scratch(rt, (size_t)t.xi * kc, &u)) ||
      (st = clfer__conv_scratch(rt, (size_t)t.xi * plane_stride(rt, max_tp, g->c), &v)) ||
      (st = clfer__conv_scratch(rt, (size_t)t.xi * plane_stride(rt, max_tp, g->o), &m)) ||
      (x_blocks && (st = clfer__conv_scratch(rt, blocks_floats(t.chunk, g->c, g->h, g->w), &xb))) ||
      (st = weight_transform(rt, &t, g, w, 0, &u)))
    goto done;
  for (int n0 = 0; n0 < g->n && !st; n0 += t.chunk) {
    int count = g->n - n0 < t.chunk ? g->n - n0 : t.chunk;
    size_t T = (size_t)count * t.th * t.tw, tp = planes_tiles(rt, g, WINO_FORWARD, T);
    size_t vs = plane_stride(rt, tp, g->c), ms = plane_stride(rt, tp, g->o);
    /* M_ξ[tp, K] = V_ξᵀ · U_ξ with V_ξ [C, tp] and U_ξ [C, K] (V_ξ [tp, C] and V_ξ · U_ξ where the
     * GEMM is clfer's own: tiles_major); the output transform reads T rows */
    if ((x_blocks && (st = block_channels(rt, &t, x, n0, count, g->c, g->cs, g->h, g->w, &xb))) ||
        (st = input_transform(rt, &t, tiles_major, x, x_blocks ? &xb : NULL, n0, count, g->c, g->cs, g->h, g->w,
                              g->ph, g->pw, t.th, t.tw, tp, vs, &v)) ||
        (st = products(rt, &t, !tiles_major, 0, tp, g->o, g->c, v.buf, tiles_major ? (size_t)g->c : tp, vs, u.buf,
                       g->o, kc, 0.0f, m.buf, g->o, ms)))
      break;
    st = output_transform(rt, &t, &m, n0, count, g->o, g->os, g->oh, g->ow, t.th, t.tw, tp, ms, b, g->relu,
                          g->relu_slope, NULL, 0.0f, y);
  }
done:
  clfer_tensor_release(&u);
  clfer_tensor_release(&v);
  clfer_tensor_release(&m);
  clfer_tensor_release(&xb);
  return st;
}

static clfer_status backward_group(clfer_runtime_t *rt, const conv_geom_t *g, const clfer_tensor_t *x,
                                   const clfer_tensor_t *dy, const clfer_tensor_t *w, clfer_tensor_t *dx,
                                   clfer_tensor_t *dw, clfer_tensor_t *db) {
  wino_tiles_t t = tiles_of(rt, g);
  int tiles_major = transforms_tiles_major(rt);
  size_t big = chunk_buffer(rt, g, &t, t.chunk, 0, dx != NULL, dw != NULL), uc = (size_t)g->o * g->c,
         kc = (size_t)t.xi * uc;
  /* x's blocks for the weight pass, dY's for both passes: laid out once per chunk */
  int x_blocks = dw && reads_blocks(rt, g->h, g->w),
      dy_blocks = (dw || (dx && tiles_major)) && reads_blocks(rt, g->oh, g->ow);
  clfer_tensor_t a = {0}, b = {0}, du = {0}, u = {0}, xb = {0}, dyb = {0};
  clfer_status st;
  if ((st = clfer__conv_scratch(rt, big, &a)) || (st = clfer__conv_scratch(rt, big, &b)) ||
      (dw && (st = clfer__conv_scratch(rt, kc, &du))) ||
      (x_blocks && (st = clfer__conv_scratch(rt, blocks_floats(t.chunk, g->c, g->h, g->w), &xb))) ||
      (dy_blocks && (st = clfer__conv_scratch(rt, blocks_floats(t.chunk, g->o, g->oh, g->ow), &dyb))) ||
      (dx && ((st = clfer__conv_scratch(rt, kc, &u)) || (st = weight_transform(rt, &t, g, w, 1, &u)))))
    goto done;
  for (int n0 = 0; n0 < g->n && !st; n0 += t.chunk) {
    int count = g->n - n0 < t.chunk ? g->n - n0 : t.chunk;
    if ((x_blocks && (st = block_channels(rt, &t, x, n0, count, g->c, g->cs, g->h, g->w, &xb))) ||
        (dy_blocks && (st = block_channels(rt, &t, dy, n0, count, g->o, g->os, g->oh, g->ow, &dyb))))
      break;
    if (dw) {
      /* dU_ξ[K, C] (+)= D_ξᵀ · V_ξ with D_ξ [tp, K] and V_ξ [tp, C], their padding rows zero */
      size_t T = (size_t)count * t.th * t.tw, tp = planes_tiles(rt, g, WINO_WEIGHTS, T);
      size_t ds = plane_stride(rt, tp, g->o), vs = plane_stride(rt, tp, g->c);
      if ((st = output_grad_transform(rt, &t, g, dy, dy_blocks ? &dyb : NULL, n0, count, tp, ds, &a)) ||
          (st = zero_pad_rows(rt, &t, T, tp, g->o, ds, &a)) ||
          (st = input_transform(rt, &t, 1, x, x_blocks ? &xb : NULL, n0, count, g->c, g->cs, g->h, g->w, g->ph,
                                g->pw, t.th, t.tw, tp, vs, &b)) ||
          (st = zero_pad_rows(rt, &t, T, tp, g->c, vs, &b)) ||
          (st = products(rt, &t, 1, 0, g->o, g->c, tp, a.buf, g->o, ds, b.buf, g->c, vs, n0 ? 1.0f : 0.0f, du.buf, g->c,
                         uc)))
        break;
      if (db) { /* D's plane ξ = (1, 1) holds each tile's sum of dY (row 1 of A is all ones) */
        size_t gr[1] = {(size_t)g->o};
        st = CLFER_RUN(rt, "conv", NULL, "reduce_cols", 1, gr, NULL, ((clfer_cost_t){(double)g->o * T, 4.0 * g->o * T}),
                       CLFER_ARG_MEM(a.buf), CLFER_ARG_INT((size_t)(t.m + 3) * ds), CLFER_ARG_INT(T),
                       CLFER_ARG_INT(g->o), CLFER_ARG_MEM(db->buf), CLFER_ARG_INT(db->offset), CLFER_ARG_INT(n0 != 0));
        if (st) break;
      }
    }
    if (dx) {
      /* the forward product of dY (K channels, OH × OW, pad 2 − p) with U' [K, C]: M_ξ[tp, C] */
      size_t T = (size_t)count * t.dth * t.dtw, tp = planes_tiles(rt, g, WINO_DATA, T);
      size_t es = plane_stride(rt, tp, g->o), ms = plane_stride(rt, tp, g->c);
      if ((st = input_transform(rt, &t, tiles_major, dy, dy_blocks && tiles_major ? &dyb : NULL, n0, count, g->o,
                                g->os, g->oh, g->ow, 2 - g->ph, 2 - g->pw, t.dth, t.dtw, tp, es, &a)) ||
          (st = products(rt, &t, !tiles_major, 0, tp, g->c, g->o, a.buf, tiles_major ? (size_t)g->o : tp, es, u.buf,
                         g->c, uc, 0.0f, b.buf, g->c, ms)) ||
          (st = output_transform(rt, &t, &b, n0, count, g->c, g->cs, g->h, g->w, t.dth, t.dtw, tp, ms, NULL, 0, 0.0f,
                                 g->mask_dx ? x : NULL, g->mask_slope, dx)))
        break;
    }
  }
  if (!st && dw) {
    int cpu = clfer__cpu_paths(rt);
    size_t gs[1] = {cpu ? ((size_t)g->o * g->c + 15) / 16 : (size_t)g->o * g->c}, ls[3];
    st = CLFER_RUN(rt, "winograd", t.options,
                   cpu ? "winograd_weight_grad_transform_rows" : "winograd_weight_grad_transform", 1, gs,
                   rows_local(rt, cpu, 1, gs, ls),
                   ((clfer_cost_t){4.0 * t.xi * g->o * g->c, 4.0 * g->o * g->c * (t.xi + 9)}), CLFER_ARG_MEM(du.buf),
                   CLFER_ARG_MEM(dw->buf), CLFER_ARG_INT(dw->offset), CLFER_ARG_INT(g->o), CLFER_ARG_INT(g->c));
  }
done:
  clfer_tensor_release(&a);
  clfer_tensor_release(&b);
  clfer_tensor_release(&du);
  clfer_tensor_release(&u);
  clfer_tensor_release(&xb);
  clfer_tensor_release(&dyb);
  return st;
}

/* Offsets of group gi's planes and parameters in the layer's tensors. */
typedef struct group_offsets {
  size_t x, y, w, b;
} group_offsets_t;

static group_offsets_t group_offsets(const conv_geom_t *g, int gi) {
  group_offsets_t o = {(size_t)gi * g->cg * g->h * g->w, (size_t)gi * g->og * g->oh * g->ow,
                       (size_t)gi * g->og * g->cg * 9, (size_t)gi * g->og};
  return o;
}

clfer_status clfer__conv2d_winograd_forward(clfer_runtime_t *rt, const conv_geom_t *layer, const clfer_tensor_t *x,
                                            const clfer_tensor_t *w, const clfer_tensor_t *b, clfer_tensor_t *y) {
  conv_geom_t g = group_geometry(layer);
  clfer_status st = CLFER_OK;
  for (int gi = 0; gi < layer->g && !st; gi++) {
    group_offsets_t o = group_offsets(layer, gi);
    clfer_tensor_t xg = moved(x, o.x), wg = moved(w, o.w), bg = b ? moved(b, o.b) : (clfer_tensor_t){0},
                   yg = moved(y, o.y);
    st = forward_group(rt, &g, &xg, &wg, b ? &bg : NULL, &yg);
  }
  return st;
}

clfer_status clfer__conv2d_winograd_backward(clfer_runtime_t *rt, const conv_geom_t *layer, const clfer_tensor_t *x,
                                             const clfer_tensor_t *dy, const clfer_tensor_t *w, clfer_tensor_t *dx,
                                             clfer_tensor_t *dw, clfer_tensor_t *db) {
  conv_geom_t g = group_geometry(layer);
  clfer_status st = CLFER_OK;
  for (int gi = 0; gi < layer->g && !st; gi++) {
    group_offsets_t o = group_offsets(layer, gi);
    clfer_tensor_t xg = x ? moved(x, o.x) : (clfer_tensor_t){0}, dyg = moved(dy, o.y),
                   wg = w ? moved(w, o.w) : (clfer_tensor_t){0}, dxg = dx ? moved(dx, o.x) : (clfer_tensor_t){0},
                   dwg = dw ? moved(dw, o.w) : (clfer_tensor_t){0}, dbg = db ? moved(db, o.b) : (clfer_tensor_t){0};
    st = backward_group(rt, &g, x ? &xg : NULL, &dyg, w ? &wg : NULL, dx ? &dxg : NULL, dw ? &dwg : NULL,
                        db ? &dbg : NULL);
  }
  return st;
}
