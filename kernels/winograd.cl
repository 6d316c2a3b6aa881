/* winograd.cl — the transforms of Winograd's minimal filtering F(2×2, 3×3) (Lavin and Gray 2016)
 * for 3×3 stride-1 convolutions; the 16 products between them are one strided-batched CLBlast
 * GEMM (src/ops/conv2d_winograd.c). With
 *   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
 *   Aᵀ = [1 1 1 0; 0 1 −1 −1],
 * a 2×2 output tile is Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A for the 4×4 input tile d around it, so a
 * layer does 16 multiplications per tile and channel pair instead of 36.
 * Tiles: TH·TW per image (TH = ⌈OH/2⌉, TW = ⌈OW/2⌉), t = n·TH·TW + th·TW + tw over a chunk of
 * `count` images from image n0; the 16 transformed values of a tile go to 16 matrices
 * ("ξ-planes", ξ = 4i + j) laid out as the GEMM wants. Inputs outside the image read as zeros and
 * outputs past OH × OW are not written, so odd sizes need no padding copy.
 * Each transform has a GPU form (an item per tile and channel) and a CPU form (`_rows`: an item
 * per row of tiles, four tiles or four channels per float4, as PoCL's per-item loops want). */

/* Bᵀ d B of a 4×4 tile held in d[0..15] (row-major), in place; TYPE float or float4. */
#define WINO_INPUT_TILE(TYPE, d)                                                              \
  for (int j_ = 0; j_ < 4; j_++) {                                                            \
    const TYPE d0 = d[j_], d1 = d[4 + j_], d2 = d[8 + j_], d3 = d[12 + j_];                    \
    d[j_] = d0 - d2, d[4 + j_] = d1 + d2, d[8 + j_] = d2 - d1, d[12 + j_] = d1 - d3;           \
  }                                                                                           \
  for (int i_ = 0; i_ < 4; i_++) {                                                            \
    const TYPE d0 = d[4 * i_], d1 = d[4 * i_ + 1], d2 = d[4 * i_ + 2], d3 = d[4 * i_ + 3];    \
    d[4 * i_] = d0 - d2, d[4 * i_ + 1] = d1 + d2, d[4 * i_ + 2] = d2 - d1, d[4 * i_ + 3] = d1 - d3; \
  }

/* Aᵀ m A of a 4×4 tile m[0..15] into y[0..3] (row-major 2×2). */
#define WINO_OUTPUT_TILE(TYPE, m, y)                                                          \
  {                                                                                           \
    TYPE s_[8];                                                                               \
    for (int j_ = 0; j_ < 4; j_++)                                                            \
      s_[j_] = m[j_] + m[4 + j_] + m[8 + j_], s_[4 + j_] = m[4 + j_] - m[8 + j_] - m[12 + j_]; \
    for (int a_ = 0; a_ < 2; a_++)                                                            \
      y[2 * a_] = s_[4 * a_] + s_[4 * a_ + 1] + s_[4 * a_ + 2],                               \
             y[2 * a_ + 1] = s_[4 * a_ + 1] - s_[4 * a_ + 2] - s_[4 * a_ + 3];                \
  }

/* A e Aᵀ of a 2×2 tile e[0..3] into r[0..15]; A = [1 0; 1 1; 1 −1; 0 −1]. */
#define WINO_OUTPUT_GRAD_TILE(TYPE, e, r)                                                     \
  {                                                                                           \
    TYPE q_[8];                                                                               \
    for (int b_ = 0; b_ < 2; b_++)                                                            \
      q_[b_] = e[b_], q_[2 + b_] = e[b_] + e[2 + b_], q_[4 + b_] = e[b_] - e[2 + b_], q_[6 + b_] = -e[2 + b_]; \
    for (int i_ = 0; i_ < 4; i_++)                                                            \
      r[4 * i_] = q_[2 * i_], r[4 * i_ + 1] = q_[2 * i_] + q_[2 * i_ + 1],                    \
             r[4 * i_ + 2] = q_[2 * i_] - q_[2 * i_ + 1], r[4 * i_ + 3] = -q_[2 * i_ + 1];    \
  }

/* V[ξ][c][t] = (Bᵀ d B)ξ for the tile t of channel c of x (x[n0 + n] read as C × H × W, window
 * origin (2·th − PH, 2·tw − PW)): each ξ-plane [C, T]. 3-D range (TW, TH, count·C), n fastest
 * in dimension 2. */
__kernel void winograd_input_transform(__global const float *x, const int x_off, __global float *v, const int n0,
                                       const int count, const int C, const int H, const int W, const int PH,
                                       const int PW, const int TH, const int TW) {
  const int tw = get_global_id(0), th = get_global_id(1), z = get_global_id(2);
  if (tw >= TW || th >= TH || z >= count * C) return;
  const int n = z % count, c = z / count;
  const int y0 = 2 * th - PH, x0 = 2 * tw - PW;
  __global const float *plane = x + x_off + (size_t)((n0 + n) * C + c) * H * W;
  float d[16];
  for (int i = 0; i < 4; i++) {
    const int iy = y0 + i;
    for (int j = 0; j < 4; j++) {
      const int ix = x0 + j;
      /* a clamped load and a select instead of a branch */
      const float val = plane[clamp(iy, 0, H - 1) * W + clamp(ix, 0, W - 1)];
      d[4 * i + j] = iy >= 0 && iy < H && ix >= 0 && ix < W ? val : 0.0f;
    }
  }
  WINO_INPUT_TILE(float, d)
  const size_t T = (size_t)count * TH * TW, plane_size = T * C;
  const size_t at = (size_t)c * T + (size_t)n * TH * TW + (size_t)th * TW + tw;
  for (int k = 0; k < 16; k++) v[k * plane_size + at] = d[k];
}

/* The same for CPUs: one item per row of tiles (th, n, c), four neighbouring tiles per float4
 * (their 4×4 windows overlap by two columns: one 10-float stretch of each input row). 2-D range
 * (TH, count·C), n fastest in dimension 1. */
__kernel void winograd_input_transform_rows(__global const float *x, const int x_off, __global float *v,
                                            const int n0, const int count, const int C, const int H, const int W,
                                            const int PH, const int PW, const int TH, const int TW) {
  const int th = get_global_id(0), z = get_global_id(1);
  if (th >= TH || z >= count * C) return;
  const int n = z % count, c = z / count;
  __global const float *plane = x + x_off + (size_t)((n0 + n) * C + c) * H * W;
  const size_t T = (size_t)count * TH * TW, plane_size = T * C;
  __global float *out = v + (size_t)c * T + (size_t)n * TH * TW + (size_t)th * TW;
  for (int tw = 0; tw < TW; tw += 4) {
    const int x0 = 2 * tw - PW;
    float4 d[16];
    for (int i = 0; i < 4; i++) {
      const int iy = 2 * th - PH + i;
      float e[10];
      if (iy < 0 || iy >= H) {
        for (int q = 0; q < 10; q++) e[q] = 0.0f;
      } else if (x0 >= 0 && x0 + 10 <= W) {
        const float8 a = vload8(0, plane + iy * W + x0);
        const float2 b = vload2(0, plane + iy * W + x0 + 8);
        vstore8(a, 0, e);
        e[8] = b.s0, e[9] = b.s1;
      } else {
        for (int q = 0; q < 10; q++) e[q] = x0 + q >= 0 && x0 + q < W ? plane[iy * W + x0 + q] : 0.0f;
      }
      for (int j = 0; j < 4; j++) d[4 * i + j] = (float4)(e[j], e[j + 2], e[j + 4], e[j + 6]);
    }
    WINO_INPUT_TILE(float4, d)
    if (tw + 4 <= TW) {
      for (int k = 0; k < 16; k++) vstore4(d[k], 0, out + k * plane_size + tw);
    } else {
      for (int k = 0; k < 16; k++) {
        float l[4];
        vstore4(d[k], 0, l);
        for (int q = 0; tw + q < TW; q++) out[k * plane_size + tw + q] = l[q];
      }
    }
  }
}

/* The weight-gradient product's V, each ξ-plane [T, C] (channels contiguous): an item per (c, t)
 * on GPUs, 2-D range (C, T); on CPUs (`_rows`) an item per row of tiles (th, n), four channels per
 * float4, 2-D range (TH, count). */
__kernel void winograd_input_transform_t(__global const float *x, const int x_off, __global float *v, const int n0,
                                         const int count, const int C, const int H, const int W, const int PH,
                                         const int PW, const int TH, const int TW) {
  const int c = get_global_id(0), t = get_global_id(1);
  const int tiles = TH * TW;
  if (c >= C || t >= count * tiles) return;
  const int n = t / tiles, th = (t % tiles) / TW, tw = t % TW;
  const int y0 = 2 * th - PH, x0 = 2 * tw - PW;
  __global const float *plane = x + x_off + (size_t)((n0 + n) * C + c) * H * W;
  float d[16];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++) {
      const int iy = y0 + i, ix = x0 + j;
      const float val = plane[clamp(iy, 0, H - 1) * W + clamp(ix, 0, W - 1)];
      d[4 * i + j] = iy >= 0 && iy < H && ix >= 0 && ix < W ? val : 0.0f;
    }
  WINO_INPUT_TILE(float, d)
  const size_t plane_size = (size_t)count * tiles * C, at = (size_t)t * C + c;
  for (int k = 0; k < 16; k++) v[k * plane_size + at] = d[k];
}

__kernel void winograd_input_transform_t_rows(__global const float *x, const int x_off, __global float *v,
                                              const int n0, const int count, const int C, const int H, const int W,
                                              const int PH, const int PW, const int TH, const int TW) {
  const int th = get_global_id(0), n = get_global_id(1);
  if (th >= TH || n >= count) return;
  const size_t plane_size = (size_t)count * TH * TW * C;
  const size_t hw = (size_t)H * W;
  __global const float *image = x + x_off + (size_t)(n0 + n) * C * hw;
  for (int tw = 0; tw < TW; tw++) {
    const int y0 = 2 * th - PH, x0 = 2 * tw - PW;
    const size_t at = ((size_t)n * TH * TW + (size_t)th * TW + tw) * C;
    for (int c0 = 0; c0 < C; c0 += 4) {
      const int lanes = min(4, C - c0);
      float4 d[16];
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
          const int iy = y0 + i, ix = x0 + j;
          __global const float *p = image + c0 * hw + iy * W + ix;
          if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
            d[4 * i + j] = 0.0f;
          } else if (lanes == 4) {
            d[4 * i + j] = (float4)(p[0], p[hw], p[2 * hw], p[3 * hw]);
          } else {
            float l[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            for (int q = 0; q < lanes; q++) l[q] = p[q * hw];
            d[4 * i + j] = vload4(0, l);
          }
        }
      WINO_INPUT_TILE(float4, d)
      if (lanes == 4) {
        for (int k = 0; k < 16; k++) vstore4(d[k], 0, v + k * plane_size + at + c0);
      } else {
        for (int k = 0; k < 16; k++) {
          float l[4];
          vstore4(d[k], 0, l);
          for (int q = 0; q < lanes; q++) v[k * plane_size + at + c0 + q] = l[q];
        }
      }
    }
  }
}

/* U[ξ][k][c] = (G g Gᵀ)ξ for g = w[k][c] (flip = 0: the forward product), or, for the
 * backward-data product (a forward convolution of dY with the kernels rotated by 180° and in and
 * out channels swapped), U[ξ][c][k] = (G rot180(g) Gᵀ)ξ (flip = 1). One item per (k, c). */
__kernel void winograd_weight_transform(__global const float *w, const int w_off, __global float *u, const int K,
                                        const int C, const int flip) {
  const int i = get_global_id(0);
  if (i >= K * C) return;
  const int k = i / C, c = i % C;
  float g[9], t[12], r[16];
  for (int e = 0; e < 9; e++) g[e] = w[w_off + (size_t)i * 9 + (flip ? 8 - e : e)];
  for (int j = 0; j < 3; j++) { /* G g: 4×3 */
    const float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
    t[j] = g0, t[3 + j] = 0.5f * (g0 + g1 + g2), t[6 + j] = 0.5f * (g0 - g1 + g2), t[9 + j] = g2;
  }
  for (int a = 0; a < 4; a++) { /* (G g) Gᵀ: 4×4 */
    const float g0 = t[3 * a], g1 = t[3 * a + 1], g2 = t[3 * a + 2];
    r[4 * a] = g0, r[4 * a + 1] = 0.5f * (g0 + g1 + g2), r[4 * a + 2] = 0.5f * (g0 - g1 + g2), r[4 * a + 3] = g2;
  }
  const size_t at = flip ? (size_t)c * K + k : (size_t)i, plane_size = (size_t)K * C;
  for (int e = 0; e < 16; e++) u[e * plane_size + at] = r[e];
}

/* y[n0 + n][k][2·th + a][2·tw + b] = (Aᵀ m A)ab (+ bias[k]) from m[ξ][t][k] (the forward
 * product's pixel-major output), for the outputs inside OH × OW. 2-D range (K, T). */
__kernel void winograd_output_transform(__global const float *m, __global float *y, const int y_off, const int n0,
                                        const int count, const int K, const int OH, const int OW, const int TH,
                                        const int TW, __global const float *bias, const int b_off, const int has_bias) {
  const int k = get_global_id(0), t = get_global_id(1);
  const int tiles = TH * TW;
  if (k >= K || t >= count * tiles) return;
  const size_t plane_size = (size_t)count * tiles * K;
  float s[16], r[4];
  for (int e = 0; e < 16; e++) s[e] = m[e * plane_size + (size_t)t * K + k];
  WINO_OUTPUT_TILE(float, s, r)
  const float b = has_bias ? bias[b_off + k] : 0.0f;
  const int n = t / tiles, th = (t % tiles) / TW, tw = t % TW;
  const int oy = 2 * th, ox = 2 * tw;
  __global float *out = y + y_off + (size_t)((n0 + n) * K + k) * OH * OW;
  for (int a = 0; a < 2 && oy + a < OH; a++) {
    out[(oy + a) * OW + ox] = r[2 * a] + b;
    if (ox + 1 < OW) out[(oy + a) * OW + ox + 1] = r[2 * a + 1] + b;
  }
}

/* The same for CPUs: one item per (four channels, th, n) along a row of tiles, the channels in
 * float4 lanes (m's rows hold neighbouring channels). 3-D range (⌈K/4⌉, TH, count). */
__kernel void winograd_output_transform_rows(__global const float *m, __global float *y, const int y_off,
                                             const int n0, const int count, const int K, const int OH, const int OW,
                                             const int TH, const int TW, __global const float *bias, const int b_off,
                                             const int has_bias) {
  const int k0 = 4 * get_global_id(0), th = get_global_id(1), n = get_global_id(2);
  if (k0 >= K || th >= TH || n >= count) return;
  const int lanes = min(4, K - k0), oy = 2 * th;
  const size_t plane_size = (size_t)count * TH * TW * K;
  float bl[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  if (has_bias)
    for (int q = 0; q < lanes; q++) bl[q] = bias[b_off + k0 + q];
  const float4 b = vload4(0, bl);
  __global float *out = y + y_off + (size_t)((n0 + n) * K + k0) * OH * OW;
  for (int tw = 0; tw < TW; tw++) {
    const size_t at = ((size_t)n * TH * TW + (size_t)th * TW + tw) * K + k0;
    float4 s[16], r[4];
    if (lanes == 4) {
      for (int e = 0; e < 16; e++) s[e] = vload4(0, m + e * plane_size + at);
    } else {
      for (int e = 0; e < 16; e++) {
        float l[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        for (int q = 0; q < lanes; q++) l[q] = m[e * plane_size + at + q];
        s[e] = vload4(0, l);
      }
    }
    WINO_OUTPUT_TILE(float4, s, r)
    const int ox = 2 * tw;
    for (int a = 0; a < 2 && oy + a < OH; a++) {
      float l0[4], l1[4];
      vstore4(r[2 * a] + b, 0, l0);
      vstore4(r[2 * a + 1] + b, 0, l1);
      for (int q = 0; q < lanes; q++) {
        __global float *row = out + (size_t)q * OH * OW + (oy + a) * OW + ox;
        row[0] = l0[q];
        if (ox + 1 < OW) row[1] = l1[q];
      }
    }
  }
}

/* D[ξ][t][k] = (A e Aᵀ)ξ for the 2×2 tile e of dY (zeros past OH × OW), the weight gradient's
 * right operand (∂L/∂U = Σ_t (A e_t Aᵀ) ⊙ V_t): each ξ-plane [T, K]. D's plane 5 is Σ e, so it
 * also gives the bias gradient. 2-D range (K, T). */
__kernel void winograd_output_grad_transform(__global const float *dy, const int dy_off, __global float *dmat,
                                             const int n0, const int count, const int K, const int OH, const int OW,
                                             const int TH, const int TW) {
  const int k = get_global_id(0), t = get_global_id(1);
  const int tiles = TH * TW;
  if (k >= K || t >= count * tiles) return;
  const int n = t / tiles, th = (t % tiles) / TW, tw = t % TW;
  __global const float *plane = dy + dy_off + (size_t)((n0 + n) * K + k) * OH * OW;
  float e[4], r[16];
  for (int a = 0; a < 2; a++)
    for (int b = 0; b < 2; b++) {
      const int iy = 2 * th + a, ix = 2 * tw + b;
      const float val = plane[min(iy, OH - 1) * OW + min(ix, OW - 1)];
      e[2 * a + b] = iy < OH && ix < OW ? val : 0.0f;
    }
  WINO_OUTPUT_GRAD_TILE(float, e, r)
  const size_t plane_size = (size_t)count * tiles * K, at = (size_t)t * K + k;
  for (int i = 0; i < 16; i++) dmat[i * plane_size + at] = r[i];
}

/* The same for CPUs: one item per (four channels, th, n) along a row of tiles, the channels in
 * float4 lanes (D's rows hold neighbouring channels). 3-D range (⌈K/4⌉, TH, count). */
__kernel void winograd_output_grad_transform_rows(__global const float *dy, const int dy_off, __global float *dmat,
                                                  const int n0, const int count, const int K, const int OH,
                                                  const int OW, const int TH, const int TW) {
  const int k0 = 4 * get_global_id(0), th = get_global_id(1), n = get_global_id(2);
  if (k0 >= K || th >= TH || n >= count) return;
  const int lanes = min(4, K - k0);
  const size_t plane_size = (size_t)count * TH * TW * K;
  const size_t hw = (size_t)OH * OW;
  __global const float *planes = dy + dy_off + ((size_t)(n0 + n) * K + k0) * hw;
  for (int tw = 0; tw < TW; tw++) {
    float4 e[4], r[16];
    for (int a = 0; a < 2; a++)
      for (int b = 0; b < 2; b++) {
        const int iy = 2 * th + a, ix = 2 * tw + b;
        __global const float *p = planes + iy * OW + ix;
        if (iy >= OH || ix >= OW) {
          e[2 * a + b] = 0.0f;
        } else if (lanes == 4) {
          e[2 * a + b] = (float4)(p[0], p[hw], p[2 * hw], p[3 * hw]);
        } else {
          float l[4] = {0.0f, 0.0f, 0.0f, 0.0f};
          for (int q = 0; q < lanes; q++) l[q] = p[q * hw];
          e[2 * a + b] = vload4(0, l);
        }
      }
    WINO_OUTPUT_GRAD_TILE(float4, e, r)
    const size_t at = ((size_t)n * TH * TW + (size_t)th * TW + tw) * K + k0;
    if (lanes == 4) {
      for (int i = 0; i < 16; i++) vstore4(r[i], 0, dmat + i * plane_size + at);
    } else {
      for (int i = 0; i < 16; i++) {
        float l[4];
        vstore4(r[i], 0, l);
        for (int q = 0; q < lanes; q++) dmat[i * plane_size + at + q] = l[q];
      }
    }
  }
}

/* dw[k][c] = Gᵀ dU G (4×4 → 3×3) from dU[ξ][k][c] = ∂L/∂U. One item per (k, c). */
__kernel void winograd_weight_grad_transform(__global const float *du, __global float *dw, const int dw_off,
                                             const int K, const int C) {
  const int i = get_global_id(0);
  if (i >= K * C) return;
  const size_t plane_size = (size_t)K * C;
  float d[16], t[12];
  for (int e = 0; e < 16; e++) d[e] = du[e * plane_size + i];
  /* Gᵀ = [1 ½ ½ 0; 0 ½ −½ 0; 0 ½ ½ 1] */
  for (int j = 0; j < 4; j++) { /* Gᵀ dU: 3×4 */
    const float d0 = d[j], d1 = d[4 + j], d2 = d[8 + j], d3 = d[12 + j];
    t[j] = d0 + 0.5f * (d1 + d2), t[4 + j] = 0.5f * (d1 - d2), t[8 + j] = 0.5f * (d1 + d2) + d3;
  }
  for (int a = 0; a < 3; a++) { /* (Gᵀ dU) G: 3×3 */
    const float d0 = t[4 * a], d1 = t[4 * a + 1], d2 = t[4 * a + 2], d3 = t[4 * a + 3];
    __global float *out = dw + dw_off + (size_t)i * 9 + 3 * a;
    out[0] = d0 + 0.5f * (d1 + d2), out[1] = 0.5f * (d1 - d2), out[2] = 0.5f * (d1 + d2) + d3;
  }
}
