/* conv_direct.cl — direct stride-1 convolution of layers with few input taps for CPUs
 * (src/ops/conv2d_direct.c): the forward pass up to C·KH·KW = 288 (a 3×3 layer on up to 32
 * channels), the weight gradient up to 32 (a first layer on gray or RGB images). Such layers'
 * GEMMs are thin (an inner dimension of 9 to 27, or 16 to 64 outputs against CLBlast's 64-wide
 * tiles) and move their whole output through memory for a few FLOPs per element, after an
 * im2col copy; here each item keeps its taps in float16 lanes (sixteen neighbouring outputs of a
 * row) and writes each output once. */

enum { DIRECT_MAX_TAPS = 288, DIRECT_MAX_TAPS_DW = 32 };

/* v[t] = the input under tap t (c, ky, kx) for the sixteen outputs (oy, ox0 … ox0 + 15) of one
 * image (zeros outside the image). */
inline void direct_taps(__global const float *img, const int C, const int H, const int W, const int KH,
                        const int KW, const int PH, const int PW, const int oy, const int ox0, float16 *v) {
  int t = 0;
  for (int c = 0; c < C; c++)
    for (int ky = 0; ky < KH; ky++) {
      const int iy = oy + ky - PH;
      __global const float *row = img + ((size_t)c * H + iy) * W;
      for (int kx = 0; kx < KW; kx++, t++) {
        const int ix0 = ox0 + kx - PW;
        if (iy < 0 || iy >= H) {
          v[t] = 0.0f;
        } else if (ix0 >= 0 && ix0 + 16 <= W) {
          v[t] = vload16(0, row + ix0);
        } else {
          float l[16];
          for (int q = 0; q < 16; q++) l[q] = ix0 + q >= 0 && ix0 + q < W ? row[ix0 + q] : 0.0f;
          v[t] = vload16(0, l);
        }
      }
    }
}

/* The sum of a float16's lanes, pairwise (a fixed order). */
inline float direct_sum16(const float16 a) {
  const float8 h8 = a.lo + a.hi;
  const float4 h4 = h8.lo + h8.hi;
  const float2 h2 = h4.lo + h4.hi;
  return h2.x + h2.y;
}

/* y[n][k][oy][ox] = b[k] + Σ_t w[k][t] · v[t] (then v > 0 ? v : slope·v with `relu`, a fused
 * ReLU): one item per output row (oy, n), every output channel, sixteen outputs per float16.
 * 2-D range (OH, N). */
__kernel void conv2d_direct_small_rows(__global const float *x, const int x_off, __global const float *w,
                                       const int w_off, __global const float *b, const int b_off,
                                       const int has_bias, __global float *y, const int y_off, const int N,
                                       const int C, const int H, const int W, const int K, const int OH,
                                       const int OW, const int KH, const int KW, const int PH, const int PW,
                                       const int relu, const float slope) {
  const int oy = get_global_id(0), n = get_global_id(1);
  if (oy >= OH || n >= N) return;
  const int taps = C * KH * KW;
  __global const float *img = x + x_off + (size_t)n * C * H * W;
  for (int ox0 = 0; ox0 < OW; ox0 += 16) {
    float16 v[DIRECT_MAX_TAPS];
    direct_taps(img, C, H, W, KH, KW, PH, PW, oy, ox0, v);
    const int lanes = min(16, OW - ox0);
    for (int k = 0; k < K; k++) {
      __global const float *wk = w + w_off + (size_t)k * taps;
      float16 acc = has_bias ? (float16)(b[b_off + k]) : (float16)(0.0f);
      for (int t = 0; t < taps; t++) acc = mad((float16)(wk[t]), v[t], acc);
      if (relu) acc = select(slope * acc, acc, isgreater(acc, (float16)(0.0f)));
      __global float *out = y + y_off + (((size_t)n * K + k) * OH + oy) * OW + ox0;
      if (lanes == 16) {
        vstore16(acc, 0, out);
      } else {
        float l[16];
        vstore16(acc, 0, l);
        for (int q = 0; q < lanes; q++) out[q] = l[q];
      }
    }
  }
}

/* dw[k][t] (+)= Σ_{n, oy, ox} dy[n][k][oy][ox] · v[t], and db[k] (+)= Σ dy[n][k]: one item per
 * output channel k over the whole batch, sixteen outputs per float16 lane, summed across lanes at
 * the end (a fixed order: the same result on every run). 1-D range (K). */
__kernel void conv2d_direct_small_dw(__global const float *x, const int x_off, __global const float *dy,
                                     const int dy_off, __global float *dw, const int dw_off, __global float *db,
                                     const int db_off, const int has_db, const int accumulate, const int N,
                                     const int C, const int H, const int W, const int K, const int OH, const int OW,
                                     const int KH, const int KW, const int PH, const int PW) {
  const int k = get_global_id(0);
  if (k >= K) return;
  const int taps = C * KH * KW;
  float16 acc[DIRECT_MAX_TAPS_DW], acc_b = 0.0f;
  for (int t = 0; t < taps; t++) acc[t] = 0.0f;
  for (int n = 0; n < N; n++) {
    __global const float *img = x + x_off + (size_t)n * C * H * W;
    __global const float *g = dy + dy_off + ((size_t)n * K + k) * OH * OW;
    for (int oy = 0; oy < OH; oy++)
      for (int ox0 = 0; ox0 < OW; ox0 += 16) {
        const int lanes = min(16, OW - ox0);
        float16 e;
        if (lanes == 16) {
          e = vload16(0, g + oy * OW + ox0);
        } else {
          float l[16];
          for (int q = 0; q < 16; q++) l[q] = q < lanes ? g[oy * OW + ox0 + q] : 0.0f;
          e = vload16(0, l);
        }
        float16 v[DIRECT_MAX_TAPS_DW];
        direct_taps(img, C, H, W, KH, KW, PH, PW, oy, ox0, v);
        for (int t = 0; t < taps; t++) acc[t] = mad(e, v[t], acc[t]);
        acc_b += e;
      }
  }
  for (int t = 0; t < taps; t++) {
    __global float *o = dw + dw_off + (size_t)k * taps + t;
    *o = (accumulate ? *o : 0.0f) + direct_sum16(acc[t]);
  }
  if (has_db) db[db_off + k] = (accumulate ? db[db_off + k] : 0.0f) + direct_sum16(acc_b);
}
