/* conv.cl — layout kernels around CLBlast GEMM for convolution, over a chunk of images so that
 * one GEMM per group covers the whole chunk: im2col in a [C·KH·KW, n·OH·OW] column layout for the
 * forward pass, im2col / col2im in the pixel-major [n·OH·OW, C·KH·KW] layout for the backward
 * passes, the pixel-major → NCHW and NCHW → [O, n·P] transposes, bias addition and bias-gradient
 * reductions. Sizes are run-time arguments so one build serves every layer. */

/* Work-group size of the row reductions (a power of two). */
#ifndef REDUCE_WG
#define REDUCE_WG 64
#endif

/* col[(c·KH + kh)·KW + kw][n·P + oy·OW + ox] = x[n0 + n][c][oy·S − pad + kh][ox·S − pad + kw] (0 outside).
 * 3-D range (OW, OH, count·C·KH·KW) with n fastest in dimension 2: no division along dimensions 0
 * and 1 (PoCL vectorises dimension 0 and hoists the rest; a (P, ...) range cost two scalar
 * divisions per element there), and consecutive items read and write consecutively. */
__kernel void conv2d_im2col(__global const float *x, const int x_off, __global float *col, const int n0,
                            const int count, const int C, const int H, const int W, const int KH, const int KW,
                            const int SH, const int SW, const int PH, const int PW, const int OH, const int OW) {
  const int ox = get_global_id(0), oy = get_global_id(1), z = get_global_id(2);
  if (ox >= OW || oy >= OH) return;
  const int n = z % count, row = z / count;
  const int kw = row % KW, kh = (row / KW) % KH, c = row / (KW * KH);
  const int iy = oy * SH - PH + kh, ix = ox * SW - PW + kw;
  /* a clamped load and a select instead of a branch, so CPU compilers can vectorise along ox */
  const int inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
  const float v = x[x_off + (((n0 + n) * C + c) * H + clamp(iy, 0, H - 1)) * W + clamp(ix, 0, W - 1)];
  col[((size_t)row * count + n) * OH * OW + oy * OW + ox] = inside ? v : 0.0f;
}

/* The same columns, one work-item per output row (oy, n, c, kh, kw) looping over ox: for CPU
 * devices, where the index decoding above costs more than the copy when paid per element (PoCL
 * does not hoist it out of its work-item loops); a row is a shifted, zero-padded copy of an input
 * row. 2-D range (OH, count·C·KH·KW), n fastest in dimension 1. */
__kernel void conv2d_im2col_rows(__global const float *x, const int x_off, __global float *col, const int n0,
                                 const int count, const int C, const int H, const int W, const int KH,
                                 const int KW, const int SH, const int SW, const int PH, const int PW, const int OH,
                                 const int OW) {
  const int oy = get_global_id(0), z = get_global_id(1);
  if (oy >= OH || z >= count * C * KH * KW) return;
  const int n = z % count, row = z / count;
  const int kw = row % KW, kh = (row / KW) % KH, c = row / (KW * KH);
  const int iy = oy * SH - PH + kh;
  __global float *dst = col + ((size_t)row * count + n) * OH * OW + oy * OW;
  if (iy < 0 || iy >= H) {
    for (int ox = 0; ox < OW; ox++) dst[ox] = 0.0f;
    return;
  }
  __global const float *src = x + x_off + (((n0 + n) * C + c) * H + iy) * W;
  for (int ox = 0; ox < OW; ox++) {
    const int ix = ox * SW - PW + kw;
    dst[ox] = ix >= 0 && ix < W ? src[ix] : 0.0f;
  }
}

/* Pixel-major columns for the backward passes, one block per group g of cg = C/G channels:
 * colT[g][n·P + oy·OW + ox][(cl·KH + kh)·KW + kw] = x[n0 + n][g·cg + cl][oy·S − pad + kh][ox·S − pad + kw]
 * (0 outside). CLBlast's GEMM kernel reads this form for dW = dY·colT and writes it for
 * dcolT = dYᵀ·W without copying it (see clfer_sgemm and src/ops/conv2d.c).
 * 1-D range over the elements in colT's order, so consecutive items write consecutively whatever
 * ckk is (a first layer's ckk of 9 along a dimension of its own made tiny work-groups). */
__kernel void conv2d_im2col_t(__global const float *x, const int x_off, __global float *colT, const int n0,
                              const int count, const int C, const int H, const int W, const int KH, const int KW,
                              const int SH, const int SW, const int PH, const int PW, const int OH, const int OW,
                              const int G) {
  const int KK = KH * KW, cg = C / G, ckk = cg * KK, P = OH * OW, cols = count * P;
  const size_t i = get_global_id(0);
  if (i >= (size_t)ckk * cols * G) return;
  const int q = (int)(i / ckk), r = (int)(i - (size_t)q * ckk);
  const int g = q / cols, pix = q - g * cols, n = pix / P, p = pix - n * P, oy = p / OW, ox = p - oy * OW;
  const int cl = r / KK, k = r - cl * KK, kh = k / KW, kw = k - kh * KW;
  const int iy = oy * SH - PH + kh, ix = ox * SW - PW + kw;
  const int inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
  const float v =
      x[x_off + (((n0 + n) * C + g * cg + cl) * H + clamp(iy, 0, H - 1)) * W + clamp(ix, 0, W - 1)];
  colT[i] = inside ? v : 0.0f;
}

/* The same for CPU devices: one work-item per (output row oy, image n, group g) writes that row's
 * OW·ckk values in order, reading cg·KH input rows that stay in cache; the window's taps inside the
 * image are found once per pixel, so the copy loop has no test per element (about 10 % faster on
 * PoCL than testing each tap). 2-D range (OH, count·G). */
__kernel void conv2d_im2col_t_rows(__global const float *x, const int x_off, __global float *colT, const int n0,
                                   const int count, const int C, const int H, const int W, const int KH,
                                   const int KW, const int SH, const int SW, const int PH, const int PW,
                                   const int OH, const int OW, const int G) {
  const int oy = get_global_id(0), z = get_global_id(1);
  if (oy >= OH || z >= count * G) return;
  const int n = z % count, g = z / count, cg = C / G, ckk = cg * KH * KW;
  __global float *dst = colT + ((size_t)(g * count + n) * OH * OW + oy * OW) * ckk;
  __global const float *src = x + x_off + ((n0 + n) * C + g * cg) * H * W;
  /* the taps inside the image: rows kh0..kh1 of the window, columns kw0..kw1 (per ox) */
  const int y0 = oy * SH - PH, kh0 = y0 < 0 ? -y0 : 0, kh1 = y0 + KH > H ? H - y0 : KH;
  for (int ox = 0; ox < OW; ox++) {
    const int x0 = ox * SW - PW, kw0 = x0 < 0 ? -x0 : 0, kw1 = x0 + KW > W ? W - x0 : KW;
    for (int cl = 0; cl < cg; cl++)
      for (int kh = 0; kh < KH; kh++, dst += KW) {
        if (kh < kh0 || kh >= kh1 || kw0 >= kw1) {
          for (int kw = 0; kw < KW; kw++) dst[kw] = 0.0f;
          continue;
        }
        __global const float *row = src + (cl * H + y0 + kh) * W;
        for (int kw = 0; kw < kw0; kw++) dst[kw] = 0.0f;
        for (int kw = kw0; kw < kw1; kw++) dst[kw] = row[x0 + kw];
        for (int kw = kw1; kw < KW; kw++) dst[kw] = 0.0f;
      }
  }
}

/* Σ over the windows covering input pixel (xx, yy) of one channel's colT entries (base: that
 * channel's first column in the image's block). */
inline float col2im_t_sum(__global const float *base, const int xx, const int yy, const int ckk, const int KH,
                          const int KW, const int SH, const int SW, const int PH, const int PW, const int OH,
                          const int OW) {
  float sum = 0.0f;
  for (int kh = 0; kh < KH; kh++) {
    const int ty = yy + PH - kh;
    if (ty < 0) break;
    const int oy = SH == 1 ? ty : ty / SH;
    if (oy >= OH || oy * SH != ty) continue;
    for (int kw = 0; kw < KW; kw++) {
      const int tx = xx + PW - kw;
      if (tx < 0) break;
      const int ox = SW == 1 ? tx : tx / SW;
      if (ox >= OW || ox * SW != tx) continue;
      sum += base[(size_t)(oy * OW + ox) * ckk + kh * KW + kw];
    }
  }
  return sum;
}

/* dx[n0 + n][c][y][x] = Σ over the windows covering (y, x) of colT (the layout above); a gather,
 * so no atomics. With `has_mask` (x, laid out as dx: a conv whose input is a ReLU's output), each
 * sum where the mask is not > 0 times mask_slope, as relu_backward computes it. 3-D range
 * (W, H, count·C), no division along dimensions 0 and 1. */
__kernel void conv2d_col2im_t(__global const float *colT, __global float *dx, const int dx_off, const int n0,
                              const int count, const int C, const int H, const int W, const int KH, const int KW,
                              const int SH, const int SW, const int PH, const int PW, const int OH, const int OW,
                              const int G, __global const float *mask, const int mask_off, const int has_mask,
                              const float mask_slope) {
  const int xx = get_global_id(0), yy = get_global_id(1), z = get_global_id(2);
  if (xx >= W || yy >= H) return;
  const int c = z % C, n = z / C, cg = C / G, g = c / cg, cl = c - g * cg, ckk = cg * KH * KW;
  __global const float *base = colT + ((size_t)(g * count + n) * OH * OW) * ckk + cl * KH * KW;
  const size_t at = ((size_t)(n0 + n) * C + c) * H * W + yy * W + xx;
  const float v = col2im_t_sum(base, xx, yy, ckk, KH, KW, SH, SW, PH, PW, OH, OW);
  dx[dx_off + at] = has_mask && !(mask[mask_off + at] > 0.0f) ? mask_slope * v : v;
}

/* The same for CPU devices, as a scatter: one work-item per (block of `cblock` channels, group and
 * image) zeroes its dx planes, then walks colT in memory order (each output pixel's ckk values are
 * contiguous) and adds every value into the input pixel it came from. colT is read once and
 * sequentially; the planes it adds into (cblock·H·W floats) stay in cache. The gather above reads
 * colT at a stride of ckk floats per output pixel instead, one cache line per value: on PoCL the
 * scatter ran 2.5–16× faster (AlexNet's, VGG-CNN-M's, ResNet-18's, ohlsen_cnn's and baseDCNN's
 * layers). Each dx element gets its sum in a fixed order (output pixels in row order), so results
 * repeat exactly. The mask, as above, is applied to the block once its sums are complete. 2-D range
 * (⌈C/G / cblock⌉, G·count). */
__kernel void conv2d_col2im_scatter_rows(__global const float *colT, __global float *dx, const int dx_off,
                                         const int n0, const int count, const int C, const int H, const int W,
                                         const int KH, const int KW, const int SH, const int SW, const int PH,
                                         const int PW, const int OH, const int OW, const int G, const int cblock,
                                         __global const float *mask, const int mask_off, const int has_mask,
                                         const float mask_slope) {
  const int b = get_global_id(0), z = get_global_id(1);
  const int cg = C / G, KK = KH * KW, ckk = cg * KK, hw = H * W;
  if (z >= G * count || b * cblock >= cg) return;
  const int g = z / count, n = z - g * count, c0 = b * cblock, c1 = min(cg, c0 + cblock);
  __global float *planes = dx + dx_off + ((size_t)(n0 + n) * C + g * cg) * hw;
  for (size_t i = (size_t)c0 * hw; i < (size_t)c1 * hw; i++) planes[i] = 0.0f;
  __global const float *base = colT + (size_t)z * OH * OW * ckk;
  for (int oy = 0; oy < OH; oy++)
    for (int ox = 0; ox < OW; ox++) {
      __global const float *px = base + (size_t)(oy * OW + ox) * ckk;
      const int y0 = oy * SH - PH, x0 = ox * SW - PW;
      for (int cl = c0; cl < c1; cl++) {
        __global float *plane = planes + (size_t)cl * hw;
        __global const float *v = px + cl * KK;
        for (int kh = 0; kh < KH; kh++) {
          const int iy = y0 + kh;
          if (iy < 0 || iy >= H) continue;
          for (int kw = 0; kw < KW; kw++) {
            const int ix = x0 + kw;
            if (ix >= 0 && ix < W) plane[iy * W + ix] += v[kh * KW + kw];
          }
        }
      }
    }
  if (has_mask) { /* the block's planes are still in cache */
    __global const float *mk = mask + mask_off + ((size_t)(n0 + n) * C + g * cg) * hw;
    for (size_t i = (size_t)c0 * hw; i < (size_t)c1 * hw; i++)
      if (!(mk[i] > 0.0f)) planes[i] *= mask_slope;
  }
}

/* The forward GEMM writes pixel-major outputs, t[g][n·P + p][ol] for o = g·og + ol; this turns
 * them into y[n0 + n][o][p] + b[o] (b optional: has_bias 0), then with `relu` a fused ReLU
 * (v > 0 ? v : slope·v, as relu_forward), through 16×16 tiles in local memory, so that reads and
 * writes both run along rows. 3-D range (⌈P/16⌉·16, ⌈O/16⌉·16, count), local
 * 16×16×1. */
#define TILE 16
__kernel void conv2d_pm_to_nchw_bias(__global const float *t, __global float *y, const int y_off, const int n0,
                                     const int count, const int O, const int P, const int G,
                                     __global const float *b, const int b_off, const int has_bias, const int relu,
                                     const float slope) {
  __local float tile[TILE][TILE + 1];
  const int lx = get_local_id(0), ly = get_local_id(1), n = get_global_id(2);
  const int p0 = get_group_id(0) * TILE, o0 = get_group_id(1) * TILE, og = O / G, cols = count * P;
  /* read: rows p0 + ly, consecutive items along o */
  {
    const int p = p0 + ly, o = o0 + lx;
    if (p < P && o < O) {
      const int g = o / og;
      tile[ly][lx] = t[((size_t)g * cols + n * P + p) * og + o - g * og];
    }
  }
  barrier(CLK_LOCAL_MEM_FENCE);
  /* write: rows o0 + ly, consecutive items along p */
  const int o = o0 + ly, p = p0 + lx;
  if (o < O && p < P) {
    const float v = tile[lx][ly] + (has_bias ? b[b_off + o] : 0.0f);
    y[y_off + ((n0 + n) * O + o) * P + p] = relu && !(v > 0.0f) ? slope * v : v;
  }
}

/* The same for CPU devices: one work-item per (16-pixel block, image n) copies that block of every
 * channel, reading 16 pixel rows of t along o and writing 16 consecutive floats per channel.
 * 2-D range (⌈P/16⌉, count). */
__kernel void conv2d_pm_to_nchw_bias_rows(__global const float *t, __global float *y, const int y_off,
                                          const int n0, const int count, const int O, const int P, const int G,
                                          __global const float *b, const int b_off, const int has_bias,
                                          const int relu, const float slope) {
  const int pb = get_global_id(0), n = get_global_id(1);
  if (pb * TILE >= P || n >= count) return;
  const int og = O / G, cols = count * P, p0 = pb * TILE, np = P - p0 < TILE ? P - p0 : TILE;
  for (int o = 0; o < O; o++) {
    const int g = o / og;
    __global const float *src = t + ((size_t)g * cols + n * P + p0) * og + o - g * og;
    __global float *dst = y + y_off + ((n0 + n) * O + o) * P + p0;
    const float bias = has_bias ? b[b_off + o] : 0.0f;
    for (int i = 0; i < np; i++) {
      const float v = src[(size_t)i * og] + bias;
      dst[i] = relu && !(v > 0.0f) ? slope * v : v;
    }
  }
}

/* t[o][n·P + p] = dy[n0 + n][o][p]. 2-D range (P, O·count). */
__kernel void conv2d_nchw_to_cnp(__global const float *dy, const int dy_off, __global float *t, const int n0,
                                 const int count, const int O, const int P) {
  const int p = get_global_id(0), z = get_global_id(1);
  if (p >= P) return;
  const int n = z % count, o = z / count;
  t[z * P + p] = dy[dy_off + ((n0 + n) * O + o) * P + p];
}

/* The CPU form: one item per plane (z = o·count + n), 16 floats at a time. 1-D range (O·count). */
__kernel void conv2d_nchw_to_cnp_rows(__global const float *dy, const int dy_off, __global float *t, const int n0,
                                      const int count, const int O, const int P) {
  const int z = get_global_id(0);
  if (z >= O * count) return;
  const int n = z % count, o = z / count;
  __global const float *src = dy + dy_off + (size_t)((n0 + n) * O + o) * P;
  __global float *dst = t + (size_t)z * P;
  int p = 0;
  for (; p + 16 <= P; p += 16) vstore16(vload16(0, src + p), 0, dst + p);
  for (; p < P; p++) dst[p] = src[p];
}

/* out[r] (+)= Σ_j m[r·cols + j]: one work-group per row. */
__kernel void reduce_rows(__global const float *m, const int m_off, const int cols, __global float *out,
                          const int out_off, const int accumulate) {
  __local float part[REDUCE_WG];
  const int r = get_group_id(0), l = get_local_id(0);
  float s = 0.0f;
  for (int j = l; j < cols; j += REDUCE_WG) s += m[m_off + r * cols + j];
  part[l] = s;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int w = REDUCE_WG / 2; w > 0; w >>= 1) {
    if (l < w) part[l] += part[l + w];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (l == 0) out[out_off + r] = (accumulate ? out[out_off + r] : 0.0f) + part[0];
}

/* out[c] (+)= Σ_r m[r·cols + c] (column sums of a row-major [rows, cols] matrix). */
__kernel void reduce_cols(__global const float *m, const int m_off, const int rows, const int cols,
                          __global float *out, const int out_off, const int accumulate) {
  const int c = get_global_id(0);
  if (c >= cols) return;
  float s = 0.0f;
  for (int r = 0; r < rows; r++) s += m[m_off + (size_t)r * cols + c];
  out[out_off + c] = (accumulate ? out[out_off + c] : 0.0f) + s;
}

/* y[n][o] += b[o] */
__kernel void bias_add_rows(__global float *y, const int y_off, const int rows, const int cols,
                            __global const float *b, const int b_off) {
  const int idx = get_global_id(0);
  if (idx >= rows * cols) return;
  y[y_off + idx] += b[b_off + idx % cols];
}
