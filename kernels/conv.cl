/* conv.cl — layout kernels around CLBlast GEMM for convolution: im2col / col2im over a chunk of
 * images in a [C·KH·KW, n·OH·OW] column layout (one GEMM per group covers the whole chunk), the
 * NCHW <-> [C, n·P] transposes, bias addition and bias-gradient reductions. Sizes are run-time
 * arguments so one build serves every layer. */

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

/* dx[n0 + n][c][y][x] = Σ over the windows covering (y, x) of col; a gather, so no atomics.
 * 3-D range (W, H, count·C), no division along dimensions 0 and 1. */
__kernel void conv2d_col2im(__global const float *col, __global float *dx, const int dx_off, const int n0,
                            const int count, const int C, const int H, const int W, const int KH, const int KW,
                            const int SH, const int SW, const int PH, const int PW, const int OH, const int OW) {
  const int xx = get_global_id(0), yy = get_global_id(1), z = get_global_id(2);
  if (xx >= W || yy >= H) return;
  const int c = z % C, n = z / C, i = yy * W + xx;
  const int P = OH * OW, cols = count * P;
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
      sum += col[(size_t)((c * KH + kh) * KW + kw) * cols + n * P + oy * OW + ox];
    }
  }
  dx[dx_off + ((n0 + n) * C + c) * H * W + i] = sum;
}

/* y[n0 + n][o][p] = t[o][n·P + p] + b[o] (b optional: has_bias 0). 2-D range (P, count·O). */
__kernel void conv2d_cnp_to_nchw_bias(__global const float *t, __global float *y, const int y_off, const int n0,
                                      const int count, const int O, const int P, __global const float *b,
                                      const int b_off, const int has_bias) {
  const int p = get_global_id(0), z = get_global_id(1);
  if (p >= P) return;
  const int o = z % O, n = z / O;
  float v = t[o * count * P + n * P + p];
  if (has_bias) v += b[b_off + o];
  y[y_off + ((n0 + n) * O + o) * P + p] = v;
}

/* t[o][n·P + p] = dy[n0 + n][o][p]. 2-D range (P, O·count). */
__kernel void conv2d_nchw_to_cnp(__global const float *dy, const int dy_off, __global float *t, const int n0,
                                 const int count, const int O, const int P) {
  const int p = get_global_id(0), z = get_global_id(1);
  if (p >= P) return;
  const int n = z % count, o = z / count;
  t[z * P + p] = dy[dy_off + ((n0 + n) * O + o) * P + p];
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

/* out[c] = Σ_r m[r·cols + c] (column sums of a row-major [rows, cols] matrix). */
__kernel void reduce_cols(__global const float *m, const int m_off, const int rows, const int cols,
                          __global float *out, const int out_off) {
  const int c = get_global_id(0);
  if (c >= cols) return;
  float s = 0.0f;
  for (int r = 0; r < rows; r++) s += m[m_off + r * cols + c];
  out[out_off + c] = s;
}

/* y[n][o] += b[o] */
__kernel void bias_add_rows(__global float *y, const int y_off, const int rows, const int cols,
                            __global const float *b, const int b_off) {
  const int idx = get_global_id(0);
  if (idx >= rows * cols) return;
  y[y_off + idx] += b[b_off + idx % cols];
}
