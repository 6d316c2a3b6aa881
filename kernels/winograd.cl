/* winograd.cl — the transforms of Winograd's minimal filtering F(M×M, 3×3) (Lavin and Gray
 * 2016) for 3×3 stride-1 convolutions, M = 2 or 4 (-D WINO_M, default 2); the products between
 * them are one strided-batched CLBlast GEMM (src/ops/conv2d_winograd.c). An M×M output tile is
 *   Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A
 * for the A×A input tile d around it (A = M + 2): A² multiplications per tile and channel pair
 * instead of 9·M² (16 for 36 at M = 2, 36 for 144 at M = 4).
 * Tiles: TH·TW per image (TH = ⌈OH/M⌉, TW = ⌈OW/M⌉), t = n·TH·TW + th·TW + tw over a chunk of
 * `count` images from image n0; the A² transformed values of a tile go to A² matrices
 * ("ξ-planes", ξ = A·i + j) laid out as the GEMM wants. Inputs outside the image read as zeros and
 * outputs past OH × OW are not written, so odd sizes need no padding copy. Each plane holds TP ≥
 * count·TH·TW tiles: TP pads the tile count to CLBlast's tiles where that lets the products run
 * in place; the tiles past count·TH·TW are not written (winograd_zero_pad_rows zeroes them where
 * a product sums over them). CS and KS are the channels between images of the tensor read or
 * written (C and K, or the whole layer's for one group of a grouped layer).
 * Each transform has a GPU form (an item per tile and channel) and a CPU form (`_rows`: an item
 * per row of tiles, four tiles per float4 or sixteen channels per float16, as PoCL's per-item
 * loops want; `_blocks`: the same reading the sixteen-channel blocks of winograd_block_channels).
 * The ξ-planes lie PS floats apart: packed back to back for CLBlast's batched kernel, which reads
 * them so; 16 floats more with clfer's own CPU GEMM, since packed planes are often a
 * multiple of 64 KiB apart and the 36 lines a tile touches would share one cache set. The CPU
 * forms that write or read a tile's values across channels take 16 of them, a whole 64-byte line
 * per plane, so that no line has to survive the other 35 to be completed. */

#ifndef WINO_M
#define WINO_M 2
#endif
#define WINO_A (WINO_M + 2)
#define WINO_XI (WINO_A * WINO_A)

/* The 1-D transforms, each from s[0], s[ss], ... to d[0], d[ds], ... (TYPE float or float4):
 * IN = Bᵀ (A → A), OUT = Aᵀ (A → M), W = G (3 → A), OG = A (M → A, the output gradient's),
 * WG = Gᵀ (A → 3, the weight gradient's). */
#if WINO_M == 2
/* Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1], G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Aᵀ = [1 1 1 0; 0 1 −1 −1] */
#define WINO_IN_1D(TYPE, s, ss, d, ds)                                                      \
  {                                                                                         \
    const TYPE x0_ = s[0], x1_ = s[ss], x2_ = s[2 * (ss)], x3_ = s[3 * (ss)];               \
    d[0] = x0_ - x2_, d[ds] = x1_ + x2_, d[2 * (ds)] = x2_ - x1_, d[3 * (ds)] = x1_ - x3_;   \
  }
#define WINO_OUT_1D(TYPE, s, ss, d, ds)                                                     \
  {                                                                                         \
    const TYPE x0_ = s[0], x1_ = s[ss], x2_ = s[2 * (ss)], x3_ = s[3 * (ss)];               \
    d[0] = x0_ + x1_ + x2_, d[ds] = x1_ - x2_ - x3_;                                        \
  }
#define WINO_W_1D(TYPE, s, ss, d, ds)                                                       \
  {                                                                                         \
    const TYPE x0_ = s[0], x1_ = s[ss], x2_ = s[2 * (ss)];                                  \
    d[0] = x0_, d[ds] = 0.5f * (x0_ + x1_ + x2_), d[2 * (ds)] = 0.5f * (x0_ - x1_ + x2_),   \
    d[3 * (ds)] = x2_;                                                                      \
  }
#define WINO_OG_1D(TYPE, s, ss, d, ds)                                                      \
  {                                                                                         \
    const TYPE x0_ = s[0], x1_ = s[ss];                                                     \
    d[0] = x0_, d[ds] = x0_ + x1_, d[2 * (ds)] = x0_ - x1_, d[3 * (ds)] = -x1_;             \
  }
#define WINO_WG_1D(TYPE, s, ss, d, ds)                                                      \
  {                                                                                         \
    const TYPE x0_ = s[0], x1_ = s[ss], x2_ = s[2 * (ss)], x3_ = s[3 * (ss)];               \
    d[0] = x0_ + 0.5f * (x1_ + x2_), d[ds] = 0.5f * (x1_ - x2_), d[2 * (ds)] = 0.5f * (x1_ + x2_) + x3_; \
  }
#elif WINO_M == 4
/* points 0, ±1, ±2, ∞:
 * Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1],
 * G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1],
 * Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1] */
#define WINO_IN_1D(TYPE, s, ss, d, ds)                                                      \
  {                                                                                         \
    const TYPE x0_ = s[0], x1_ = s[ss], x2_ = s[2 * (ss)], x3_ = s[3 * (ss)], x4_ = s[4 * (ss)], \
               x5_ = s[5 * (ss)];                                                           \
    d[0] = 4.0f * x0_ - 5.0f * x2_ + x4_;                                                   \
    d[ds] = x3_ + x4_ - 4.0f * (x1_ + x2_);                                                 \
    d[2 * (ds)] = x4_ - x3_ + 4.0f * (x1_ - x2_);                                           \
    d[3 * (ds)] = x4_ - x2_ + 2.0f * (x3_ - x1_);                                           \
    d[4 * (ds)] = x4_ - x2_ - 2.0f * (x3_ - x1_);                                           \
    d[5 * (ds)] = 4.0f * x1_ - 5.0f * x3_ + x5_;                                            \
  }
#define WINO_OUT_1D(TYPE, s, ss, d, ds)                                                     \
  {                                                                                         \
    const TYPE x0_ = s[0], x1_ = s[ss], x2_ = s[2 * (ss)], x3_ = s[3 * (ss)], x4_ = s[4 * (ss)], \
               x5_ = s[5 * (ss)];                                                           \
    const TYPE p12_ = x1_ + x2_, m12_ = x1_ - x2_, p34_ = x3_ + x4_, m34_ = x3_ - x4_;       \
    d[0] = x0_ + p12_ + p34_, d[ds] = m12_ + 2.0f * m34_, d[2 * (ds)] = p12_ + 4.0f * p34_, \
    d[3 * (ds)] = m12_ + 8.0f * m34_ + x5_;                                                 \
  }
#define WINO_W_1D(TYPE, s, ss, d, ds)                                                       \
  {                                                                                         \
    const TYPE x0_ = s[0], x1_ = s[ss], x2_ = s[2 * (ss)];                                  \
    d[0] = 0.25f * x0_;                                                                     \
    d[ds] = (x0_ + x1_ + x2_) * (-1.0f / 6.0f), d[2 * (ds)] = (x0_ - x1_ + x2_) * (-1.0f / 6.0f); \
    d[3 * (ds)] = x0_ * (1.0f / 24.0f) + x1_ * (1.0f / 12.0f) + x2_ * (1.0f / 6.0f);        \
    d[4 * (ds)] = x0_ * (1.0f / 24.0f) - x1_ * (1.0f / 12.0f) + x2_ * (1.0f / 6.0f);        \
    d[5 * (ds)] = x2_;                                                                      \
  }
#define WINO_OG_1D(TYPE, s, ss, d, ds)                                                      \
  {                                                                                         \
    const TYPE x0_ = s[0], x1_ = s[ss], x2_ = s[2 * (ss)], x3_ = s[3 * (ss)];               \
    d[0] = x0_, d[ds] = x0_ + x1_ + x2_ + x3_, d[2 * (ds)] = x0_ - x1_ + x2_ - x3_;         \
    d[3 * (ds)] = x0_ + 2.0f * x1_ + 4.0f * x2_ + 8.0f * x3_;                               \
    d[4 * (ds)] = x0_ - 2.0f * x1_ + 4.0f * x2_ - 8.0f * x3_, d[5 * (ds)] = x3_;            \
  }
#define WINO_WG_1D(TYPE, s, ss, d, ds)                                                      \
  {                                                                                         \
    const TYPE x0_ = s[0], x1_ = s[ss], x2_ = s[2 * (ss)], x3_ = s[3 * (ss)], x4_ = s[4 * (ss)], \
               x5_ = s[5 * (ss)];                                                           \
    d[0] = 0.25f * x0_ - (x1_ + x2_) * (1.0f / 6.0f) + (x3_ + x4_) * (1.0f / 24.0f);        \
    d[ds] = (x2_ - x1_) * (1.0f / 6.0f) + (x3_ - x4_) * (1.0f / 12.0f);                     \
    d[2 * (ds)] = (x3_ + x4_ - x1_ - x2_) * (1.0f / 6.0f) + x5_;                            \
  }
#else
#error "WINO_M must be 2 or 4"
#endif

/* Y = T X Tᵀ for a 1-D transform T from N_IN to N_OUT: x is N_IN × N_IN, y N_OUT × N_OUT, both
 * row-major (columns first, then rows). */
#define WINO_2D(TYPE, ONE_D, N_IN, N_OUT, x, y)                                              \
  {                                                                                         \
    TYPE t_[(N_OUT) * (N_IN)];                                                              \
    for (int j_ = 0; j_ < (N_IN); j_++) {                                                   \
      const TYPE *s_ = (x) + j_;                                                            \
      TYPE *d_ = t_ + j_;                                                                   \
      ONE_D(TYPE, s_, (N_IN), d_, (N_IN))                                                   \
    }                                                                                       \
    for (int i_ = 0; i_ < (N_OUT); i_++) {                                                  \
      const TYPE *s_ = t_ + i_ * (N_IN);                                                    \
      TYPE *d_ = (y) + i_ * (N_OUT);                                                        \
      ONE_D(TYPE, s_, 1, d_, 1)                                                             \
    }                                                                                       \
  }

/* The CPU forms' four-lane access: `lanes` (1–4) floats from p, p + stride, … (zeros after), and
 * the first `lanes` of v stored to p, p + stride, …. */
inline float4 wino_load4(__global const float *p, const size_t stride, const int lanes) {
  if (lanes == 4) return (float4)(p[0], p[stride], p[2 * stride], p[3 * stride]);
  float l[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  for (int q = 0; q < lanes; q++) l[q] = p[q * stride];
  return vload4(0, l);
}

inline void wino_store4(const float4 v, __global float *p, const size_t stride, const int lanes) {
  if (lanes == 4 && stride == 1) {
    vstore4(v, 0, p);
    return;
  }
  float l[4];
  vstore4(v, 0, l);
  for (int q = 0; q < lanes; q++) p[q * stride] = l[q];
}

/* The same with sixteen lanes (channels, on the CPU forms that take them). */
inline float16 wino_load16(__global const float *p, const size_t stride, const int lanes) {
  if (lanes == 16 && stride == 1) return vload16(0, p);
  if (lanes == 16) {
    __global const float *q = p + 8 * stride;
    return (float16)(p[0], p[stride], p[2 * stride], p[3 * stride], p[4 * stride], p[5 * stride], p[6 * stride],
                     p[7 * stride], q[0], q[stride], q[2 * stride], q[3 * stride], q[4 * stride], q[5 * stride],
                     q[6 * stride], q[7 * stride]);
  }
  float l[16];
  for (int q = 0; q < 16; q++) l[q] = q < lanes ? p[q * stride] : 0.0f;
  return vload16(0, l);
}

inline void wino_store16(const float16 v, __global float *p, const size_t stride, const int lanes) {
  if (lanes == 16 && stride == 1) {
    vstore16(v, 0, p);
    return;
  }
  if (lanes == 16) {
    __global float *q = p + 8 * stride;
    p[0] = v.s0, p[stride] = v.s1, p[2 * stride] = v.s2, p[3 * stride] = v.s3, p[4 * stride] = v.s4;
    p[5 * stride] = v.s5, p[6 * stride] = v.s6, p[7 * stride] = v.s7;
    q[0] = v.s8, q[stride] = v.s9, q[2 * stride] = v.sa, q[3 * stride] = v.sb, q[4 * stride] = v.sc;
    q[5 * stride] = v.sd, q[6 * stride] = v.se, q[7 * stride] = v.sf;
    return;
  }
  float l[16];
  vstore16(v, 0, l);
  for (int q = 0; q < lanes; q++) p[q * stride] = l[q];
}

/* r = Bᵀ d B of the A×A tile d of one H × W plane at window origin (y0, x0), zeros outside: the GPU
 * forms' per-item tile (a clamped load and a select instead of a branch). */
inline void wino_input_tile(__global const float *plane, const int H, const int W, const int y0, const int x0,
                            float r[WINO_XI]) {
  float d[WINO_XI];
  for (int i = 0; i < WINO_A; i++)
    for (int j = 0; j < WINO_A; j++) {
      const int iy = y0 + i, ix = x0 + j;
      const float val = plane[clamp(iy, 0, H - 1) * W + clamp(ix, 0, W - 1)];
      d[WINO_A * i + j] = iy >= 0 && iy < H && ix >= 0 && ix < W ? val : 0.0f;
    }
  WINO_2D(float, WINO_IN_1D, WINO_A, WINO_A, d, r)
}

/* V[ξ][c][t] = (Bᵀ d B)ξ for the tile t of channel c of x (x[n0 + n] read as C × H × W, window
 * origin (M·th − PH, M·tw − PW)): each ξ-plane [C, T]. 3-D range (TW, TH, count·C), n fastest
 * in dimension 2. */
__kernel void winograd_input_transform(__global const float *x, const int x_off, __global float *v, const int n0,
                                       const int count, const int C, const int H, const int W, const int PH,
                                       const int PW, const int TH, const int TW, const int TP, const int CS, const int PS) {
  const int tw = get_global_id(0), th = get_global_id(1), z = get_global_id(2);
  if (tw >= TW || th >= TH || z >= count * C) return;
  const int n = z % count, c = z / count;
  float r[WINO_XI];
  wino_input_tile(x + x_off + (size_t)((n0 + n) * CS + c) * H * W, H, W, WINO_M * th - PH, WINO_M * tw - PW, r);
  const size_t plane_size = (size_t)PS, at = (size_t)c * TP + (size_t)n * TH * TW + (size_t)th * TW + tw;
  for (int k = 0; k < WINO_XI; k++) v[k * plane_size + at] = r[k];
}

/* The same for CPUs: one item per row of tiles (th, n, c), four neighbouring tiles per float4
 * (their windows overlap: one stretch of 3·M + A floats of each input row). 2-D range
 * (TH, count·C), n fastest in dimension 1. */
__kernel void winograd_input_transform_rows(__global const float *x, const int x_off, __global float *v,
                                            const int n0, const int count, const int C, const int H, const int W,
                                            const int PH, const int PW, const int TH, const int TW, const int TP,
                                            const int CS, const int PS) {
  const int th = get_global_id(0), z = get_global_id(1);
  if (th >= TH || z >= count * C) return;
  const int n = z % count, c = z / count;
  enum { STRETCH = 3 * WINO_M + WINO_A };
  __global const float *plane = x + x_off + (size_t)((n0 + n) * CS + c) * H * W;
  const size_t plane_size = (size_t)PS;
  __global float *out = v + (size_t)c * TP + (size_t)n * TH * TW + (size_t)th * TW;
  for (int tw = 0; tw < TW; tw += 4) {
    const int x0 = WINO_M * tw - PW;
    float4 d[WINO_XI], r[WINO_XI];
    for (int i = 0; i < WINO_A; i++) {
      const int iy = WINO_M * th - PH + i;
      float e[STRETCH];
      if (iy < 0 || iy >= H) {
        for (int q = 0; q < STRETCH; q++) e[q] = 0.0f;
      } else if (x0 >= 0 && x0 + STRETCH <= W) {
        for (int q = 0; q < STRETCH; q++) e[q] = plane[iy * W + x0 + q];
      } else {
        for (int q = 0; q < STRETCH; q++) e[q] = x0 + q >= 0 && x0 + q < W ? plane[iy * W + x0 + q] : 0.0f;
      }
      for (int j = 0; j < WINO_A; j++)
        d[WINO_A * i + j] = (float4)(e[j], e[j + WINO_M], e[j + 2 * WINO_M], e[j + 3 * WINO_M]);
    }
    WINO_2D(float4, WINO_IN_1D, WINO_A, WINO_A, d, r)
    for (int k = 0; k < WINO_XI; k++) wino_store4(r[k], out + k * plane_size + tw, 1, min(4, TW - tw));
  }
}

/* Images n0 .. n0+count of x (C × H × W each, CS channels apart) in blocks of sixteen channels,
 * [n][⌈C/16⌉][H][W][16] (zeros past C), for the CPU transforms that take sixteen channels per
 * float16: read from NCHW, a tile's sixteen channels are sixteen lines H·W floats apart, which a
 * 64×64 or 32×32 plane puts in one set of an 8-way L1 cache, so each of a tile's A² positions
 * missed again; from blocks each is one line (VGG13-FER+'s 64-channel 64×64 layer, an image's
 * input transform 165 → 55 µs, plus 55-85 µs for this copy). Planes whose sixteen lines spread
 * over the sets (16×16, 48×48) read NCHW as well without the copy, so conv2d_winograd.c lays
 * blocks out only for the others. An item moves a 16 × 16 block (channels × columns): through a
 * private array, 20 % faster than four rounds of float16 shuffles.
 * 3-D range (⌈W/16⌉, H, count·⌈C/16⌉). */
__kernel void winograd_block_channels(__global const float *x, const int x_off, __global float *blocks,
                                      const int n0, const int count, const int C, const int H, const int W,
                                      const int CS) {
  const int x0 = 16 * get_global_id(0), y = get_global_id(1), z = get_global_id(2);
  const int CB = (C + 15) / 16;
  if (x0 >= W || y >= H || z >= count * CB) return;
  const int n = z / CB, cb = z % CB, lanes = min(16, C - 16 * cb), cols = min(16, W - x0);
  const size_t hw = (size_t)H * W;
  __global const float *src = x + x_off + ((size_t)(n0 + n) * CS + 16 * cb) * hw + (size_t)y * W + x0;
  float t[16][16]; /* [channel][column] */
  for (int c = 0; c < 16; c++) vstore16(c < lanes ? wino_load16(src + c * hw, 1, cols) : 0.0f, 0, t[c]);
  __global float *dst = blocks + ((((size_t)n * CB + cb) * H + y) * W + x0) * 16;
  for (int q = 0; q < cols; q++)
    vstore16((float16)(t[0][q], t[1][q], t[2][q], t[3][q], t[4][q], t[5][q], t[6][q], t[7][q], t[8][q], t[9][q],
                       t[10][q], t[11][q], t[12][q], t[13][q], t[14][q], t[15][q]),
             q, dst);
}

/* The weight-gradient product's V, each ξ-plane [T, C] (channels contiguous): an item per (c, t)
 * on GPUs, 2-D range (C, T); on CPUs (`_rows` from x, `_blocks` from winograd_block_channels'
 * blocks of the chunk) an item per row of tiles (th, n), sixteen channels per float16, 2-D range
 * (TH, count). */
__kernel void winograd_input_transform_t(__global const float *x, const int x_off, __global float *v, const int n0,
                                         const int count, const int C, const int H, const int W, const int PH,
                                         const int PW, const int TH, const int TW, const int TP, const int CS, const int PS) {
  const int c = get_global_id(0), t = get_global_id(1);
  const int tiles = TH * TW;
  if (c >= C || t >= count * tiles) return;
  const int n = t / tiles, th = (t % tiles) / TW, tw = t % TW;
  float r[WINO_XI];
  wino_input_tile(x + x_off + (size_t)((n0 + n) * CS + c) * H * W, H, W, WINO_M * th - PH, WINO_M * tw - PW, r);
  const size_t plane_size = (size_t)PS, at = (size_t)t * C + c;
  for (int k = 0; k < WINO_XI; k++) v[k * plane_size + at] = r[k];
}

__kernel void winograd_input_transform_t_rows(__global const float *x, const int x_off, __global float *v,
                                              const int n0, const int count, const int C, const int H, const int W,
                                              const int PH, const int PW, const int TH, const int TW, const int TP,
                                              const int CS, const int PS) {
  const int th = get_global_id(0), n = get_global_id(1);
  if (th >= TH || n >= count) return;
  const size_t plane_size = (size_t)PS;
  const size_t hw = (size_t)H * W;
  __global const float *image = x + x_off + (size_t)(n0 + n) * CS * hw;
  for (int tw = 0; tw < TW; tw++) {
    const int y0 = WINO_M * th - PH, x0 = WINO_M * tw - PW;
    const size_t at = ((size_t)n * TH * TW + (size_t)th * TW + tw) * C;
    for (int c0 = 0; c0 < C; c0 += 16) {
      const int lanes = min(16, C - c0);
      float16 d[WINO_XI], r[WINO_XI];
      for (int i = 0; i < WINO_A; i++)
        for (int j = 0; j < WINO_A; j++) {
          const int iy = y0 + i, ix = x0 + j;
          const int inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
          d[WINO_A * i + j] = inside ? wino_load16(image + c0 * hw + iy * W + ix, hw, lanes) : 0.0f;
        }
      WINO_2D(float16, WINO_IN_1D, WINO_A, WINO_A, d, r)
      for (int k = 0; k < WINO_XI; k++) wino_store16(r[k], v + k * plane_size + at + c0, 1, lanes);
    }
  }
}

__kernel void winograd_input_transform_t_blocks(__global const float *blocks, __global float *v, const int count,
                                                const int C, const int H, const int W, const int PH, const int PW,
                                                const int TH, const int TW, const int PS) {
  const int th = get_global_id(0), n = get_global_id(1);
  if (th >= TH || n >= count) return;
  const size_t plane_size = (size_t)PS;
  const int CB = (C + 15) / 16;
  for (int tw = 0; tw < TW; tw++) {
    const int y0 = WINO_M * th - PH, x0 = WINO_M * tw - PW;
    const size_t at = ((size_t)n * TH * TW + (size_t)th * TW + tw) * C;
    for (int cb = 0; cb < CB; cb++) {
      __global const float *block = blocks + ((size_t)n * CB + cb) * H * W * 16;
      float16 d[WINO_XI], r[WINO_XI];
      for (int i = 0; i < WINO_A; i++)
        for (int j = 0; j < WINO_A; j++) {
          const int iy = y0 + i, ix = x0 + j;
          d[WINO_A * i + j] = iy >= 0 && iy < H && ix >= 0 && ix < W ? vload16(iy * W + ix, block) : 0.0f;
        }
      WINO_2D(float16, WINO_IN_1D, WINO_A, WINO_A, d, r)
      for (int k = 0; k < WINO_XI; k++) wino_store16(r[k], v + k * plane_size + at + 16 * cb, 1, min(16, C - 16 * cb));
    }
  }
}

/* U = (G g Gᵀ)ξ for every kernel g = w[k][c], in the layout the GEMM reads in place: for the
 * forward product (flip = 0) U[ξ][c][k]; for the backward-data product (a forward convolution of
 * dY with the kernels rotated by 180° and in and out channels swapped, flip = 1) the rotated
 * kernels' U[ξ][k][c]. Either way U[ξ][s][f] with f the faster index (k, or c when flipped), so
 * consecutive items of dimension 0 store consecutively. 2-D range (F, S). */
__kernel void winograd_weight_transform(__global const float *w, const int w_off, __global float *u, const int K,
                                        const int C, const int flip) {
  const int f = get_global_id(0), sl = get_global_id(1);
  const int F = flip ? C : K, S = flip ? K : C;
  if (f >= F || sl >= S) return;
  const int k = flip ? sl : f, c = flip ? f : sl;
  float g[9], r[WINO_XI];
  for (int e = 0; e < 9; e++) g[e] = w[w_off + ((size_t)k * C + c) * 9 + (flip ? 8 - e : e)];
  WINO_2D(float, WINO_W_1D, 3, WINO_A, g, r)
  const size_t at = (size_t)sl * F + f, plane_size = (size_t)K * C;
  for (int e = 0; e < WINO_XI; e++) u[e * plane_size + at] = r[e];
}

/* The same for CPUs: one item per s, sixteen f per float16 (whole lines of each ξ-plane). 1-D
 * range (S). */
__kernel void winograd_weight_transform_rows(__global const float *w, const int w_off, __global float *u,
                                             const int K, const int C, const int flip) {
  const int sl = get_global_id(0);
  const int F = flip ? C : K, S = flip ? K : C;
  if (sl >= S) return;
  /* w's stride between neighbouring f */
  const size_t f_stride = flip ? 9 : (size_t)C * 9, plane_size = (size_t)K * C;
  for (int f0 = 0; f0 < F; f0 += 16) {
    const int lanes = min(16, F - f0);
    __global const float *g0 = w + w_off + ((size_t)(flip ? sl : f0) * C + (flip ? f0 : sl)) * 9;
    float16 g[9], r[WINO_XI];
    for (int e = 0; e < 9; e++) g[e] = wino_load16(g0 + (flip ? 8 - e : e), f_stride, lanes);
    WINO_2D(float16, WINO_W_1D, 3, WINO_A, g, r)
    const size_t at = (size_t)sl * F + f0;
    for (int e = 0; e < WINO_XI; e++) wino_store16(r[e], u + e * plane_size + at, 1, lanes);
  }
}

/* y[n0 + n][k][M·th + a][M·tw + b] = (Aᵀ m A)ab (+ bias[k]) from m[ξ][t][k] (the forward
 * product's pixel-major output), for the outputs inside OH × OW; with `relu`, a fused ReLU after
 * it (v > 0 ? v : slope·v, as relu_forward computes it); with `has_mask` (the data gradient of a
 * conv whose input is a ReLU's output, laid out as y), each value where the mask is not > 0
 * times mask_slope, as relu_backward computes it. 2-D range (K, T). */
__kernel void winograd_output_transform(__global const float *m, __global float *y, const int y_off, const int n0,
                                        const int count, const int K, const int OH, const int OW, const int TH,
                                        const int TW, __global const float *bias, const int b_off, const int has_bias,
                                        const int relu, const float slope, const int TP, const int KS, const int PS,
                                        __global const float *mask, const int mask_off, const int has_mask,
                                        const float mask_slope) {
  const int k = get_global_id(0), t = get_global_id(1);
  const int tiles = TH * TW;
  if (k >= K || t >= count * tiles) return;
  const size_t plane_size = (size_t)PS;
  float s[WINO_XI], r[WINO_M * WINO_M];
  for (int e = 0; e < WINO_XI; e++) s[e] = m[e * plane_size + (size_t)t * K + k];
  WINO_2D(float, WINO_OUT_1D, WINO_A, WINO_M, s, r)
  const float b = has_bias ? bias[b_off + k] : 0.0f;
  const int n = t / tiles, th = (t % tiles) / TW, tw = t % TW;
  const int oy = WINO_M * th, ox = WINO_M * tw;
  const size_t plane = (size_t)((n0 + n) * KS + k) * OH * OW;
  __global float *out = y + y_off + plane;
  __global const float *mk = mask + mask_off + plane;
  for (int a = 0; a < WINO_M && oy + a < OH; a++)
    for (int q = 0; q < WINO_M && ox + q < OW; q++) {
      const float v = r[WINO_M * a + q] + b;
      const float o = relu && !(v > 0.0f) ? slope * v : v;
      out[(oy + a) * OW + ox + q] = has_mask && !(mk[(oy + a) * OW + ox + q] > 0.0f) ? mask_slope * o : o;
    }
}

/* The same for CPUs: one item per (sixteen channels, th, n) along a row of tiles, the channels in
 * float16 lanes (m's rows hold neighbouring channels). Planes at least 4·M wide take four tiles at
 * a time and store runs of 4·M columns: written tile by tile, each line took four 4-float stores
 * while the 16 planes' lines, hw apart, fought over one L1 set (VGG13-FER+'s 64×64 layer: 360-445
 * → 149-151 µs an image; 32×32: 528-699 → 233-274). The four tiles' values are staged as they
 * come, one float16 per position, and each run is gathered from the stage: scattering them per
 * channel instead (sixteen scalar stores per float16), the transform took 211-237 µs a call in
 * VGG13-FER+'s training step at batch 32, against 154-163 this way; with that, 16-wide planes
 * gain too (VGG13-FER+'s 16×16 layers, a chunk 265-454 → 155-288 µs). Narrower planes (8×8) go
 * tile by tile. 3-D range (⌈K/16⌉, TH, count). */
__kernel void winograd_output_transform_rows(__global const float *m, __global float *y, const int y_off,
                                             const int n0, const int count, const int K, const int OH, const int OW,
                                             const int TH, const int TW, __global const float *bias, const int b_off,
                                             const int has_bias, const int relu, const float slope, const int TP,
                                             const int KS, const int PS, __global const float *mask,
                                             const int mask_off, const int has_mask, const float mask_slope) {
  const int k0 = 16 * get_global_id(0), th = get_global_id(1), n = get_global_id(2);
  if (k0 >= K || th >= TH || n >= count) return;
  const int lanes = min(16, K - k0), oy = WINO_M * th;
  const size_t plane_size = (size_t)PS, hw = (size_t)OH * OW;
  const float16 b = has_bias ? wino_load16(bias + b_off + k0, 1, lanes) : 0.0f;
  __global float *out = y + y_off + ((size_t)(n0 + n) * KS + k0) * hw;
  __global const float *mk = mask + mask_off + ((size_t)(n0 + n) * KS + k0) * hw;
  enum { RUN = 4 * WINO_M }; /* output columns of four tiles */
  if (OW < RUN) {
    for (int tw = 0; tw < TW; tw++) {
      const size_t at = ((size_t)n * TH * TW + (size_t)th * TW + tw) * K + k0;
      float16 s[WINO_XI], r[WINO_M * WINO_M];
      for (int e = 0; e < WINO_XI; e++) s[e] = wino_load16(m + e * plane_size + at, 1, lanes);
      WINO_2D(float16, WINO_OUT_1D, WINO_A, WINO_M, s, r)
      const int ox = WINO_M * tw;
      for (int a = 0; a < WINO_M && oy + a < OH; a++)
        for (int p = 0; p < WINO_M && ox + p < OW; p++) {
          const float16 v = r[WINO_M * a + p] + b;
          float16 o = relu ? select(slope * v, v, isgreater(v, (float16)(0.0f))) : v;
          if (has_mask) {
            const float16 mv = wino_load16(mk + (oy + a) * OW + ox + p, hw, lanes);
            o = select(mask_slope * o, o, isgreater(mv, (float16)(0.0f)));
          }
          wino_store16(o, out + (oy + a) * OW + ox + p, hw, lanes);
        }
    }
    return;
  }
  for (int tw0 = 0; tw0 < TW; tw0 += 4) {
    float stage[4][WINO_M * WINO_M][16]; /* [tile][position][channel] */
    const int tiles = min(4, TW - tw0);
    for (int q = 0; q < tiles; q++) {
      const size_t at = ((size_t)n * TH * TW + (size_t)th * TW + tw0 + q) * K + k0;
      float16 s[WINO_XI], r[WINO_M * WINO_M];
      for (int e = 0; e < WINO_XI; e++) s[e] = wino_load16(m + e * plane_size + at, 1, lanes);
      WINO_2D(float16, WINO_OUT_1D, WINO_A, WINO_M, s, r)
      for (int e = 0; e < WINO_M * WINO_M; e++) {
        const float16 v = r[e] + b;
        vstore16(relu ? select(slope * v, v, isgreater(v, (float16)(0.0f))) : v, 0, stage[q][e]);
      }
    }
    const int ox = WINO_M * tw0, cols = min(RUN, OW - ox);
    for (int c = 0; c < lanes; c++)
      for (int a = 0; a < WINO_M && oy + a < OH; a++) {
        __global float *row = out + c * hw + (oy + a) * OW + ox;
        __global const float *mrow = mk + c * hw + (oy + a) * OW + ox;
        if (cols == RUN) {
#if WINO_M == 4
          const int e = 4 * a;
          float16 o = (float16)(stage[0][e][c], stage[0][e + 1][c], stage[0][e + 2][c], stage[0][e + 3][c],
                                stage[1][e][c], stage[1][e + 1][c], stage[1][e + 2][c], stage[1][e + 3][c],
                                stage[2][e][c], stage[2][e + 1][c], stage[2][e + 2][c], stage[2][e + 3][c],
                                stage[3][e][c], stage[3][e + 1][c], stage[3][e + 2][c], stage[3][e + 3][c]);
          if (has_mask) o = select(mask_slope * o, o, isgreater(vload16(0, mrow), (float16)(0.0f)));
          vstore16(o, 0, row);
#else
          float8 o = (float8)(stage[0][2 * a][c], stage[0][2 * a + 1][c], stage[1][2 * a][c], stage[1][2 * a + 1][c],
                              stage[2][2 * a][c], stage[2][2 * a + 1][c], stage[3][2 * a][c], stage[3][2 * a + 1][c]);
          if (has_mask) o = select(mask_slope * o, o, isgreater(vload8(0, mrow), (float8)(0.0f)));
          vstore8(o, 0, row);
#endif
        } else {
          for (int x = 0; x < cols; x++) {
            const float o = stage[x / WINO_M][WINO_M * a + x % WINO_M][c];
            row[x] = has_mask && !(mrow[x] > 0.0f) ? mask_slope * o : o;
          }
        }
      }
  }
}

/* D[ξ][t][k] = (A e Aᵀ)ξ for the M×M tile e of dY (zeros past OH × OW), the weight gradient's
 * right operand (∂L/∂U = Σ_t (A e_t Aᵀ) ⊙ V_t): each ξ-plane [T, K]. Row 1 of A is all ones, so
 * D's plane ξ = (1, 1) (index A + 1) is Σ e and also gives the bias gradient. 2-D range (K, T). */
__kernel void winograd_output_grad_transform(__global const float *dy, const int dy_off, __global float *dmat,
                                             const int n0, const int count, const int K, const int OH, const int OW,
                                             const int TH, const int TW, const int TP, const int KS, const int PS) {
  const int k = get_global_id(0), t = get_global_id(1);
  const int tiles = TH * TW;
  if (k >= K || t >= count * tiles) return;
  const int n = t / tiles, th = (t % tiles) / TW, tw = t % TW;
  __global const float *plane = dy + dy_off + (size_t)((n0 + n) * KS + k) * OH * OW;
  float e[WINO_M * WINO_M], r[WINO_XI];
  for (int a = 0; a < WINO_M; a++)
    for (int b = 0; b < WINO_M; b++) {
      const int iy = WINO_M * th + a, ix = WINO_M * tw + b;
      const float val = plane[min(iy, OH - 1) * OW + min(ix, OW - 1)];
      e[WINO_M * a + b] = iy < OH && ix < OW ? val : 0.0f;
    }
  WINO_2D(float, WINO_OG_1D, WINO_M, WINO_A, e, r)
  const size_t plane_size = (size_t)PS, at = (size_t)t * K + k;
  for (int i = 0; i < WINO_XI; i++) dmat[i * plane_size + at] = r[i];
}

/* The same for CPUs: one item per (sixteen channels, th, n) along a row of tiles, the channels in
 * float16 lanes (D's rows hold neighbouring channels). 3-D range (⌈K/16⌉, TH, count). */
__kernel void winograd_output_grad_transform_rows(__global const float *dy, const int dy_off, __global float *dmat,
                                                  const int n0, const int count, const int K, const int OH,
                                                  const int OW, const int TH, const int TW, const int TP,
                                                  const int KS, const int PS) {
  const int k0 = 16 * get_global_id(0), th = get_global_id(1), n = get_global_id(2);
  if (k0 >= K || th >= TH || n >= count) return;
  const int lanes = min(16, K - k0);
  const size_t plane_size = (size_t)PS;
  const size_t hw = (size_t)OH * OW;
  __global const float *planes = dy + dy_off + ((size_t)(n0 + n) * KS + k0) * hw;
  for (int tw = 0; tw < TW; tw++) {
    float16 e[WINO_M * WINO_M], r[WINO_XI];
    for (int a = 0; a < WINO_M; a++)
      for (int b = 0; b < WINO_M; b++) {
        const int iy = WINO_M * th + a, ix = WINO_M * tw + b;
        e[WINO_M * a + b] = iy < OH && ix < OW ? wino_load16(planes + iy * OW + ix, hw, lanes) : 0.0f;
      }
    WINO_2D(float16, WINO_OG_1D, WINO_M, WINO_A, e, r)
    const size_t at = ((size_t)n * TH * TW + (size_t)th * TW + tw) * K + k0;
    for (int i = 0; i < WINO_XI; i++) wino_store16(r[i], dmat + i * plane_size + at, 1, lanes);
  }
}

/* The same for CPUs from dY in sixteen-channel blocks (winograd_block_channels): one item per
 * (block, th, n) along a row of tiles, the channels in float16 lanes (D's rows hold neighbouring
 * channels). 3-D range (⌈K/16⌉, TH, count). */
__kernel void winograd_output_grad_transform_blocks(__global const float *blocks, __global float *dmat,
                                                    const int count, const int K, const int OH, const int OW,
                                                    const int TH, const int TW, const int PS) {
  const int cb = get_global_id(0), th = get_global_id(1), n = get_global_id(2);
  const int CB = (K + 15) / 16;
  if (cb >= CB || th >= TH || n >= count) return;
  const int lanes = min(16, K - 16 * cb);
  const size_t plane_size = (size_t)PS;
  __global const float *block = blocks + ((size_t)n * CB + cb) * OH * OW * 16;
  for (int tw = 0; tw < TW; tw++) {
    float16 e[WINO_M * WINO_M], r[WINO_XI];
    for (int a = 0; a < WINO_M; a++)
      for (int b = 0; b < WINO_M; b++) {
        const int iy = WINO_M * th + a, ix = WINO_M * tw + b;
        e[WINO_M * a + b] = iy < OH && ix < OW ? vload16(iy * OW + ix, block) : 0.0f;
      }
    WINO_2D(float16, WINO_OG_1D, WINO_M, WINO_A, e, r)
    const size_t at = ((size_t)n * TH * TW + (size_t)th * TW + tw) * K + 16 * cb;
    for (int i = 0; i < WINO_XI; i++) wino_store16(r[i], dmat + i * plane_size + at, 1, lanes);
  }
}

/* Zeroes rows T .. TP − 1 of every ξ-plane [TP, width] of a buffer: the weight-gradient product
 * sums over the tiles, so the rows that pad T to CLBlast's tiles must add nothing. 2-D range
 * ((TP − T)·width, ξ). */
__kernel void winograd_zero_pad_rows(__global float *buf, const int T, const int TP, const int width, const int PS) {
  const int i = get_global_id(0), e = get_global_id(1);
  if (i >= (TP - T) * width) return;
  buf[(size_t)e * PS + (size_t)T * width + i] = 0.0f;
}

/* dw[k][c] = Gᵀ dU G (A×A → 3×3) from dU[ξ][k][c] = ∂L/∂U. One item per (k, c). */
__kernel void winograd_weight_grad_transform(__global const float *du, __global float *dw, const int dw_off,
                                             const int K, const int C) {
  const int i = get_global_id(0);
  if (i >= K * C) return;
  const size_t plane_size = (size_t)K * C;
  float d[WINO_XI], r[9];
  for (int e = 0; e < WINO_XI; e++) d[e] = du[e * plane_size + i];
  WINO_2D(float, WINO_WG_1D, WINO_A, 3, d, r)
  for (int e = 0; e < 9; e++) dw[dw_off + (size_t)i * 9 + e] = r[e];
}

/* The same for CPUs: sixteen (k, c) pairs per item in float16 lanes, whole lines of each ξ-plane.
 * 1-D range (⌈K·C / 16⌉). */
__kernel void winograd_weight_grad_transform_rows(__global const float *du, __global float *dw, const int dw_off,
                                                  const int K, const int C) {
  const int i0 = 16 * get_global_id(0), kc = K * C;
  if (i0 >= kc) return;
  const int lanes = min(16, kc - i0);
  const size_t plane_size = (size_t)kc;
  float16 d[WINO_XI], r[9];
  for (int e = 0; e < WINO_XI; e++) d[e] = wino_load16(du + e * plane_size + i0, 1, lanes);
  WINO_2D(float16, WINO_WG_1D, WINO_A, 3, d, r)
  for (int e = 0; e < 9; e++) wino_store16(r[e], dw + dw_off + (size_t)i0 * 9 + e, 9, lanes);
}
