/* dense.cl — fully connected layers (w [out, in], y = x·wᵀ + b) at small batches on CPUs
 * (dense.c). There the products are as wide as the layer but only a few rows deep, so they are
 * bound by reading (or writing) the weights once: CLBlast pads the rows to its 64-row tiles or
 * runs its direct kernel, at a few GFLOP/s. These kernels stream each weight row once per block of
 * DENSE_ROWS batch rows, 16 floats at a time, with the rows' partial sums in float16 registers.
 * Each kernel calls its body with the constant DENSE_ROWS for a full block and with the count for
 * the last block. That alone did not keep the sums in registers: PoCL's compiler merged the two
 * calls into one with a variable count and spilled them (perf showed the accumulators on the
 * stack). So the bodies loop over the constant DENSE_ROWS and skip the rows past the count
 * (perf/bench_dense): forward, AlexNet's fc6 at batch 8 9.3-10.4 → 6.4-8.3 ms, baseDCNN's
 * 36864 → 2000 at batch 8 20-25 → 14-18 ms, VGG13-FER+'s 4096 → 1024 at batch 32 4-6 → 1.5-3.7
 * ms; input gradient (with CLFER_GEMM=clblast), fc6 at batch 8 12-13 → 7.6 ms. */

#define DENSE_ROWS 8

inline float dense_hsum16(const float16 v) {
  const float8 a = v.lo + v.hi;
  const float4 b = a.lo + a.hi;
  const float2 c = b.lo + b.hi;
  return c.x + c.y;
}

inline void dense_forward_block(__global const float *restrict xr, __global const float *restrict wr,
                                __global float *restrict yr, const float b0, const float b1, const int two,
                                const int rows, const int in, const int out) {
  float16 acc0[DENSE_ROWS], acc1[DENSE_ROWS];
  float t0[DENSE_ROWS], t1[DENSE_ROWS];
  for (int i = 0; i < DENSE_ROWS; i++) acc0[i] = 0.0f, acc1[i] = 0.0f, t0[i] = 0.0f, t1[i] = 0.0f;
  __global const float *wr1 = two ? wr + in : wr;
  int j = 0;
  for (; j + 16 <= in; j += 16) {
    const float16 w0 = vload16(0, wr + j), w1 = vload16(0, wr1 + j);
    /* a constant trip count, rows past `rows` skipped: the sums stay in registers (see below) */
    _Pragma("unroll") for (int i = 0; i < DENSE_ROWS; i++) {
      if (i < rows) {
        const float16 xv = vload16(0, xr + (size_t)i * in + j);
        acc0[i] = fma(w0, xv, acc0[i]);
        acc1[i] = fma(w1, xv, acc1[i]);
      }
    }
  }
  for (; j < in; j++)
    for (int i = 0; i < rows; i++) t0[i] = fma(wr[j], xr[(size_t)i * in + j], t0[i]), t1[i] = fma(wr1[j], xr[(size_t)i * in + j], t1[i]);
  for (int i = 0; i < rows; i++) {
    yr[(size_t)i * out] = dense_hsum16(acc0[i]) + t0[i] + b0;
    if (two) yr[(size_t)i * out + 1] = dense_hsum16(acc1[i]) + t1[i] + b1;
  }
}

/* y[r][o] = Σ_j x[r][j]·w[o][j] (+ b[o]) for the rows r of block get_global_id(1) and outputs
 * o = 2·get_global_id(0), +1. */
__kernel void dense_forward_rows(__global const float *restrict x, const int x_off, __global const float *restrict w,
                                 const int w_off, __global const float *restrict b, const int b_off,
                                 const int has_bias, __global float *restrict y, const int y_off, const int n,
                                 const int in, const int out) {
  const int o = get_global_id(0) * 2, r0 = get_global_id(1) * DENSE_ROWS;
  if (o >= out || r0 >= n) return;
  const int two = o + 1 < out;
  __global const float *wr = w + w_off + (size_t)o * in, *xr = x + x_off + (size_t)r0 * in;
  __global float *yr = y + y_off + (size_t)r0 * out + o;
  const float b0 = has_bias ? b[b_off + o] : 0.0f, b1 = has_bias && two ? b[b_off + o + 1] : 0.0f;
  if (n - r0 >= DENSE_ROWS)
    dense_forward_block(xr, wr, yr, b0, b1, two, DENSE_ROWS, in, out);
  else
    dense_forward_block(xr, wr, yr, b0, b1, two, n - r0, in, out);
}

inline void dense_backward_data_block(__global const float *restrict g, __global const float *restrict wc,
                                      __global float *restrict d, const int rows, const int in, const int out) {
  float16 acc0[DENSE_ROWS], acc1[DENSE_ROWS];
  for (int i = 0; i < DENSE_ROWS; i++) acc0[i] = 0.0f, acc1[i] = 0.0f;
  for (int o = 0; o < out; o++) {
    const float16 w0 = vload16(0, wc + (size_t)o * in), w1 = vload16(1, wc + (size_t)o * in);
    _Pragma("unroll") for (int i = 0; i < DENSE_ROWS; i++) {
      if (i < rows) {
        const float16 gv = (float16)g[(size_t)i * out + o];
        acc0[i] = fma(gv, w0, acc0[i]);
        acc1[i] = fma(gv, w1, acc1[i]);
      }
    }
  }
  for (int i = 0; i < rows; i++) vstore16(acc0[i], 0, d + (size_t)i * in), vstore16(acc1[i], 1, d + (size_t)i * in);
}

/* dx[r][j] = Σ_o dy[r][o]·w[o][j] for the rows r of block get_global_id(1) and the 32 columns
 * from j = 32·get_global_id(0) (fewer at the end of a row). */
__kernel void dense_backward_data_rows(__global const float *restrict dy, const int dy_off,
                                       __global const float *restrict w, const int w_off, __global float *restrict dx,
                                       const int dx_off, const int n, const int in, const int out) {
  const int j = get_global_id(0) * 32, r0 = get_global_id(1) * DENSE_ROWS;
  if (j >= in || r0 >= n) return;
  const int rows = min(DENSE_ROWS, n - r0);
  __global const float *g = dy + dy_off + (size_t)r0 * out;
  __global float *d = dx + dx_off + (size_t)r0 * in + j;
  if (j + 32 <= in) {
    if (rows == DENSE_ROWS)
      dense_backward_data_block(g, w + w_off + j, d, DENSE_ROWS, in, out);
    else
      dense_backward_data_block(g, w + w_off + j, d, rows, in, out);
    return;
  }
  for (int c = 0; c < in - j; c++)
    for (int i = 0; i < rows; i++) {
      float s = 0.0f;
      for (int o = 0; o < out; o++) s = fma(g[(size_t)i * out + o], w[w_off + (size_t)o * in + j + c], s);
      d[(size_t)i * in + c] = s;
    }
}

/* dw[o0 + k][j] (+)= Σ_i dy[i][o0 + k]·x[i][j] for the rows i of one block (first: r0 = 0), k < 4;
 * dy's values sit in registers. */
inline void dense_backward_weights_block(__global const float *restrict xr, __global const float *restrict g,
                                         __global float *restrict d, const int first, const int rows, const int outs,
                                         const int in, const int out) {
  float gv[DENSE_ROWS][4];
  for (int i = 0; i < DENSE_ROWS; i++)
    for (int k = 0; k < 4; k++) gv[i][k] = i < rows && k < outs ? g[(size_t)i * out + k] : 0.0f;
  int j = 0;
  for (; j + 16 <= in; j += 16) {
    float16 acc[4];
    for (int k = 0; k < 4; k++) acc[k] = first || k >= outs ? (float16)0.0f : vload16(0, d + (size_t)k * in + j);
    _Pragma("unroll") for (int i = 0; i < DENSE_ROWS; i++) {
      if (i < rows) {
        const float16 xv = vload16(0, xr + (size_t)i * in + j);
        for (int k = 0; k < 4; k++) acc[k] = fma((float16)gv[i][k], xv, acc[k]);
      }
    }
    for (int k = 0; k < outs; k++) vstore16(acc[k], 0, d + (size_t)k * in + j);
  }
  for (; j < in; j++)
    for (int k = 0; k < outs; k++) {
      float s = first ? 0.0f : d[(size_t)k * in + j];
      for (int i = 0; i < rows; i++) s = fma(gv[i][k], xr[(size_t)i * in + j], s);
      d[(size_t)k * in + j] = s;
    }
}

/* dw[o][j] = Σ_r dy[r][o]·x[r][j] over all n rows, for the outputs o = 4·get_global_id(0) .. +3,
 * which share the loads of x; blocks of rows after the first add to what the first wrote. */
__kernel void dense_backward_weights_rows(__global const float *restrict x, const int x_off,
                                          __global const float *restrict dy, const int dy_off,
                                          __global float *restrict dw, const int dw_off, const int n, const int in,
                                          const int out) {
  const int o0 = get_global_id(0) * 4;
  if (o0 >= out) return;
  const int outs = min(4, out - o0);
  __global float *d = dw + dw_off + (size_t)o0 * in;
  for (int r0 = 0; r0 < n; r0 += DENSE_ROWS) {
    __global const float *xr = x + x_off + (size_t)r0 * in, *g = dy + dy_off + (size_t)r0 * out + o0;
    if (n - r0 >= DENSE_ROWS)
      dense_backward_weights_block(xr, g, d, r0 == 0, DENSE_ROWS, outs, in, out);
    else
      dense_backward_weights_block(xr, g, d, r0 == 0, n - r0, outs, in, out);
  }
}
