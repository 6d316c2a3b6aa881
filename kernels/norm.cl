/* norm.cl — batch normalisation (Ioffe & Szegedy 2015, Alg. 1 and §3 backward) and local
 * response normalisation across channels (Krizhevsky et al. 2012 §3.3, with Caffe/PyTorch's
 * alpha/size). Per-channel statistics are reduced in two stages: work-groups of one channel
 * reduce a chunk of N·H·W in local memory (on CPUs one work-item per chunk, 16 lanes wide), then
 * one work-item per channel merges the chunks. */

/* ---- batch norm ------------------------------------------------------------------------- */

/* Chan et al.'s pairwise merge of (count, mean, M2) partial statistics; stable where
 * Σx² − (Σx)²/n is not. */
inline void welford_merge(float *na, float *ma, float *m2a, const float nb, const float mb, const float m2b) {
  if (nb == 0.0f) return;
  float n = *na + nb;
  float d = mb - *ma;
  float f = nb / n;
  *m2a = *m2a + m2b + d * d * (*na) * f;
  *ma = *ma + d * f;
  *na = n;
}

/* Grid (P·L, C), local (L, 1), L a power of two. Group (g, c) covers elements [g·chunk,
 * (g+1)·chunk) of channel c's M = N·HW values and writes (count, mean, M2) to
 * partial[(c·P + g)·3 ...]. */
__kernel void batchnorm_stats_partial(__global const float *x, const int x_off, const int C, const int HW,
                                      const int M, const int chunk, const int P, __global float *partial,
                                      __local float *lc, __local float *lm, __local float *l2) {
  int lid = get_local_id(0), nl = get_local_size(0);
  int g = get_group_id(0), c = get_group_id(1);
  int start = g * chunk, end = min(M, start + chunk);
  float cnt = 0.0f, mean = 0.0f, m2 = 0.0f;
  for (int m = start + lid; m < end; m += nl) {
    int n = m / HW, j = m - n * HW;
    float v = x[x_off + (n * C + c) * HW + j];
    cnt += 1.0f;
    float d = v - mean;
    mean += d / cnt;
    m2 += d * (v - mean);
  }
  lc[lid] = cnt;
  lm[lid] = mean;
  l2[lid] = m2;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int stride = nl / 2; stride > 0; stride /= 2) {
    if (lid < stride) {
      float a = lc[lid], b = lm[lid], e = l2[lid];
      welford_merge(&a, &b, &e, lc[lid + stride], lm[lid + stride], l2[lid + stride]);
      lc[lid] = a;
      lm[lid] = b;
      l2[lid] = e;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lid == 0) {
    __global float *o = partial + (c * P + g) * 3;
    o[0] = lc[0];
    o[1] = lm[0];
    o[2] = l2[0];
  }
}

/* One work-item per channel: merges the P partials, saves mean and 1/sqrt(var + eps) (biased
 * variance, Alg. 1), and moves the running statistics towards the batch's with the unbiased
 * variance M/(M−1)·var, as PyTorch's BatchNorm does. */
__kernel void batchnorm_stats_finalize(__global const float *partial, const int P, const int C, const float eps,
                                       const float momentum, __global float *save_mean, const int sm_off,
                                       __global float *save_invstd, const int si_off, const int update_running,
                                       __global float *running_mean, const int rm_off, __global float *running_var,
                                       const int rv_off) {
  int c = get_global_id(0);
  if (c >= C) return;
  float cnt = 0.0f, mean = 0.0f, m2 = 0.0f;
  for (int g = 0; g < P; g++) {
    __global const float *p = partial + (c * P + g) * 3;
    welford_merge(&cnt, &mean, &m2, p[0], p[1], p[2]);
  }
  float var = max(m2 / cnt, 0.0f);
  save_mean[sm_off + c] = mean;
  save_invstd[si_off + c] = 1.0f / sqrt(var + eps);
  if (update_running) {
    float unbiased = m2 / (cnt - 1.0f);
    running_mean[rm_off + c] = (1.0f - momentum) * running_mean[rm_off + c] + momentum * mean;
    running_var[rv_off + c] = (1.0f - momentum) * running_var[rv_off + c] + momentum * unbiased;
  }
}

/* A ReLU fused on batch norm's output (relu = 1; leaky for slope > 0): its forward, and its
 * backward from the sign of that output (the gradient of bn's output from the ReLU's). The same
 * expressions as relu_forward and relu_backward (activation.cl), so fused equals unfused to the
 * bit. */
inline float bn_relu(const float v, const int relu, const float slope) { return relu && !(v > 0.0f) ? slope * v : v; }
inline float16 bn_relu16(const float16 v, const int relu, const float slope) {
  return relu ? select(slope * v, v, v > 0.0f) : v;
}
inline float bn_relu_grad(const float g, __global const float *y, const int relu, const float slope) {
  return relu && !(*y > 0.0f) ? slope * g : g;
}
inline float16 bn_relu_grad16(const float16 g, __global const float *y, const int relu, const float slope) {
  return relu ? select(slope * g, g, vload16(0, y) > 0.0f) : g;
}

/* y = (x − mean)·invstd·γ + β, one work-item per element. The element-wise batch-norm kernels run
 * on a (H·W, N·C) range, so the channel costs one division per plane row instead of two per
 * element (PoCL cannot vectorise integer division). */
__kernel void batchnorm_normalize(__global const float *x, const int x_off, __global float *y, const int y_off,
                                  __global const float *mean, const int m_off, __global const float *invstd,
                                  const int i_off, __global const float *gamma, const int g_off,
                                  __global const float *beta, const int b_off, const int C, const int HW,
                                  const int n, const int relu, const float slope) {
  int j = get_global_id(0), z = get_global_id(1), i = z * HW + j;
  if (j >= HW || i >= n) return;
  int c = z % C;
  y[y_off + i] =
      bn_relu((x[x_off + i] - mean[m_off + c]) * invstd[i_off + c] * gamma[g_off + c] + beta[b_off + c], relu, slope);
}

/* y = (x − m)·a + b over one plane of HW floats, 16 at a time (the CPU forms below; x − m first,
 * as the per-element forms, so a large mean cancels exactly), then the fused ReLU if any. */
inline void bn_affine_plane(__global const float *x, __global float *y, const int HW, const float m, const float a,
                            const float b, const int relu, const float slope) {
  int j = 0;
  for (; j + 16 <= HW; j += 16) vstore16(bn_relu16((vload16(0, x + j) - m) * a + b, relu, slope), 0, y + j);
  for (; j < HW; j++) y[j] = bn_relu((x[j] - m) * a + b, relu, slope);
}

/* The CPU form of batchnorm_normalize: one item per plane (n, c), its channel's scale γ·invstd
 * folded into one factor (PoCL does not vectorise the per-element form across its work-items).
 * Same arguments; 1-D range (N·C). */
__kernel void batchnorm_normalize_rows(__global const float *x, const int x_off, __global float *y, const int y_off,
                                       __global const float *mean, const int m_off, __global const float *invstd,
                                       const int i_off, __global const float *gamma, const int g_off,
                                       __global const float *beta, const int b_off, const int C, const int HW,
                                       const int n, const int relu, const float slope) {
  const int z = get_global_id(0), c = z % C;
  if ((size_t)z * HW >= (size_t)n) return;
  bn_affine_plane(x + x_off + (size_t)z * HW, y + y_off + (size_t)z * HW, HW, mean[m_off + c],
                  invstd[i_off + c] * gamma[g_off + c], beta[b_off + c], relu, slope);
}

/* Inference: the running statistics replace the batch's. */
__kernel void batchnorm_forward_eval(__global const float *x, const int x_off, __global float *y, const int y_off,
                                     __global const float *rmean, const int rm_off, __global const float *rvar,
                                     const int rv_off, __global const float *gamma, const int g_off,
                                     __global const float *beta, const int b_off, const float eps, const int C,
                                     const int HW, const int n, const int relu, const float slope) {
  int j = get_global_id(0), z = get_global_id(1), i = z * HW + j;
  if (j >= HW || i >= n) return;
  int c = z % C;
  float s = gamma[g_off + c] / sqrt(rvar[rv_off + c] + eps);
  y[y_off + i] = bn_relu((x[x_off + i] - rmean[rm_off + c]) * s + beta[b_off + c], relu, slope);
}

/* The CPU form: one item per plane. Same arguments; 1-D range (N·C). */
__kernel void batchnorm_forward_eval_rows(__global const float *x, const int x_off, __global float *y,
                                          const int y_off, __global const float *rmean, const int rm_off,
                                          __global const float *rvar, const int rv_off, __global const float *gamma,
                                          const int g_off, __global const float *beta, const int b_off,
                                          const float eps, const int C, const int HW, const int n,
                                          const int relu, const float slope) {
  const int z = get_global_id(0), c = z % C;
  if ((size_t)z * HW >= (size_t)n) return;
  bn_affine_plane(x + x_off + (size_t)z * HW, y + y_off + (size_t)z * HW, HW, rmean[rm_off + c],
                  gamma[g_off + c] / sqrt(rvar[rv_off + c] + eps), beta[b_off + c], relu, slope);
}

/* The same partials on CPUs, where local-memory reductions with barriers cost PoCL a loop split
 * per barrier: one item per (chunk g, channel c), Welford over 16 consecutive pixels of an image
 * in float16 lanes (the lanes share a count), the rest of a row one by one, then the lanes merged
 * into that. 2-D range (P, C), local size 1. */
__kernel void batchnorm_stats_partial_rows(__global const float *x, const int x_off, const int C, const int HW,
                                           const int M, const int chunk, const int P, __global float *partial) {
  const int g = get_global_id(0), c = get_global_id(1);
  if (g >= P || c >= C) return;
  const int end = min(M, (g + 1) * chunk);
  float16 vmean = 0.0f, vm2 = 0.0f;
  float vcnt = 0.0f, cnt = 0.0f, mean = 0.0f, m2 = 0.0f;
  for (int m = g * chunk; m < end;) {
    const int n = m / HW, row_end = min(end, (n + 1) * HW);
    __global const float *plane = x + x_off + ((size_t)n * C + c) * HW - (size_t)n * HW;
    for (; m + 16 <= row_end; m += 16) {
      const float16 v = vload16(0, plane + m);
      vcnt += 1.0f;
      const float16 d = v - vmean;
      vmean += d / vcnt;
      vm2 += d * (v - vmean);
    }
    for (; m < row_end; m++) {
      const float v = plane[m];
      cnt += 1.0f;
      const float d = v - mean;
      mean += d / cnt;
      m2 += d * (v - mean);
    }
  }
  float lm[16], l2[16];
  vstore16(vmean, 0, lm);
  vstore16(vm2, 0, l2);
  for (int q = 0; q < 16; q++) welford_merge(&cnt, &mean, &m2, vcnt, lm[q], l2[q]);
  __global float *o = partial + (c * P + g) * 3;
  o[0] = cnt;
  o[1] = mean;
  o[2] = m2;
}

/* Same grid as batchnorm_stats_partial: partial (Σ dy, Σ dy·x̂) per chunk of a channel. With a
 * fused ReLU (relu = 1), dy is the ReLU's output gradient, masked by the sign of that output y
 * (y = dy where there is none: never read). */
__kernel void batchnorm_backward_partial(__global const float *x, const int x_off, __global const float *dy,
                                         const int dy_off, __global const float *mean, const int m_off,
                                         __global const float *invstd, const int i_off, const int C, const int HW,
                                         const int M, const int chunk, const int P, __global float *partial,
                                         __global const float *y, const int y_off, const int relu,
                                         const float slope, __local float *l1, __local float *l2) {
  int lid = get_local_id(0), nl = get_local_size(0);
  int g = get_group_id(0), c = get_group_id(1);
  int start = g * chunk, end = min(M, start + chunk);
  float mu = mean[m_off + c], is = invstd[i_off + c];
  float s1 = 0.0f, s2 = 0.0f;
  for (int m = start + lid; m < end; m += nl) {
    int n = m / HW, j = m - n * HW;
    int k = (n * C + c) * HW + j;
    float g_ = bn_relu_grad(dy[dy_off + k], y + y_off + k, relu, slope);
    s1 += g_;
    s2 += g_ * (x[x_off + k] - mu) * is;
  }
  l1[lid] = s1;
  l2[lid] = s2;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int stride = nl / 2; stride > 0; stride /= 2) {
    if (lid < stride) {
      l1[lid] += l1[lid + stride];
      l2[lid] += l2[lid + stride];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lid == 0) {
    partial[(c * P + g) * 2] = l1[0];
    partial[(c * P + g) * 2 + 1] = l2[0];
  }
}

/* The same on CPUs, like batchnorm_stats_partial_rows: 2-D range (P, C), local size 1. */
__kernel void batchnorm_backward_partial_rows(__global const float *x, const int x_off, __global const float *dy,
                                              const int dy_off, __global const float *mean, const int m_off,
                                              __global const float *invstd, const int i_off, const int C,
                                              const int HW, const int M, const int chunk, const int P,
                                              __global float *partial, __global const float *y, const int y_off,
                                              const int relu, const float slope) {
  const int g = get_global_id(0), c = get_global_id(1);
  if (g >= P || c >= C) return;
  const int end = min(M, (g + 1) * chunk);
  const float mu = mean[m_off + c], is = invstd[i_off + c];
  float16 v1 = 0.0f, v2 = 0.0f;
  float s1 = 0.0f, s2 = 0.0f;
  for (int m = g * chunk; m < end;) {
    const int n = m / HW, row_end = min(end, (n + 1) * HW);
    const size_t shift = ((size_t)n * C + c) * HW - (size_t)n * HW;
    for (; m + 16 <= row_end; m += 16) {
      const float16 e = bn_relu_grad16(vload16(0, dy + dy_off + shift + m), y + y_off + shift + m, relu, slope);
      v1 += e;
      v2 += e * (vload16(0, x + x_off + shift + m) - mu) * is;
    }
    for (; m < row_end; m++) {
      const float e = bn_relu_grad(dy[dy_off + shift + m], y + y_off + shift + m, relu, slope);
      s1 += e;
      s2 += e * (x[x_off + shift + m] - mu) * is;
    }
  }
  float l1[16], l2[16];
  vstore16(v1, 0, l1);
  vstore16(v2, 0, l2);
  for (int q = 0; q < 16; q++) s1 += l1[q], s2 += l2[q];
  partial[(c * P + g) * 2] = s1;
  partial[(c * P + g) * 2 + 1] = s2;
}

/* dβ = Σ dy, dγ = Σ dy·x̂ per channel. */
__kernel void batchnorm_backward_finalize(__global const float *partial, const int P, const int C,
                                          __global float *dgamma, const int dg_off, __global float *dbeta,
                                          const int db_off) {
  int c = get_global_id(0);
  if (c >= C) return;
  float s1 = 0.0f, s2 = 0.0f;
  for (int g = 0; g < P; g++) {
    s1 += partial[(c * P + g) * 2];
    s2 += partial[(c * P + g) * 2 + 1];
  }
  dbeta[db_off + c] = s1;
  dgamma[dg_off + c] = s2;
}

/* dx = γ·invstd·(dy − dβ/M − x̂·dγ/M) (Ioffe & Szegedy §3, the batch statistics' gradient
 * folded in). */
__kernel void batchnorm_backward_data(__global const float *x, const int x_off, __global const float *dy,
                                      const int dy_off, __global const float *mean, const int m_off,
                                      __global const float *invstd, const int i_off, __global const float *gamma,
                                      const int g_off, __global const float *dgamma, const int dg_off,
                                      __global const float *dbeta, const int db_off, __global float *dx,
                                      const int dx_off, const int C, const int HW, const int n, const float inv_m,
                                      __global const float *y, const int y_off, const int relu, const float slope) {
  int j = get_global_id(0), z = get_global_id(1), i = z * HW + j;
  if (j >= HW || i >= n) return;
  int c = z % C;
  float is = invstd[i_off + c];
  float xhat = (x[x_off + i] - mean[m_off + c]) * is;
  float g_ = bn_relu_grad(dy[dy_off + i], y + y_off + i, relu, slope);
  dx[dx_off + i] = gamma[g_off + c] * is * (g_ - dbeta[db_off + c] * inv_m - xhat * dgamma[dg_off + c] * inv_m);
}

/* The CPU form: one item per plane, 16 pixels at a time. Same arguments; 1-D range (N·C). */
__kernel void batchnorm_backward_data_rows(__global const float *x, const int x_off, __global const float *dy,
                                           const int dy_off, __global const float *mean, const int m_off,
                                           __global const float *invstd, const int i_off,
                                           __global const float *gamma, const int g_off,
                                           __global const float *dgamma, const int dg_off,
                                           __global const float *dbeta, const int db_off, __global float *dx,
                                           const int dx_off, const int C, const int HW, const int n,
                                           const float inv_m, __global const float *y, const int y_off,
                                           const int relu, const float slope) {
  const int z = get_global_id(0), c = z % C;
  if ((size_t)z * HW >= (size_t)n) return;
  const float is = invstd[i_off + c], mu = mean[m_off + c], gi = gamma[g_off + c] * is;
  const float mb = dbeta[db_off + c] * inv_m, mg = dgamma[dg_off + c] * inv_m;
  __global const float *xp = x + x_off + (size_t)z * HW, *gp = dy + dy_off + (size_t)z * HW;
  __global const float *yp = y + y_off + (size_t)z * HW;
  __global float *o = dx + dx_off + (size_t)z * HW;
  int j = 0;
  for (; j + 16 <= HW; j += 16) {
    const float16 xhat = (vload16(0, xp + j) - mu) * is;
    vstore16(gi * (bn_relu_grad16(vload16(0, gp + j), yp + j, relu, slope) - mb - xhat * mg), 0, o + j);
  }
  for (; j < HW; j++) o[j] = gi * (bn_relu_grad(gp[j], yp + j, relu, slope) - mb - (xp[j] - mu) * is * mg);
}

/* ---- local response normalisation across channels ---------------------------------------- */

/* s^−β for s ≥ k > 0. exp2/log2 instead of pow: several times faster on CPU devices, and since
 * |β·log2 s| stays small the relative error stays within a few ulp. */
inline float pow_neg(const float s, const float beta) { return exp2(-beta * log2(s)); }

/* The same on sixteen lanes; β = 0.75 (AlexNet's, VGG-CNN-M's, Caffe's default) as r·√r with
 * r = 1/√s, which skips the log2 call and the exp2 polynomial. */
inline float16 pow_neg16(const float16 s, const float beta) {
  if (beta == 0.75f) {
    const float16 r = rsqrt(s);
    return r * sqrt(r);
  }
  return exp2(-beta * log2(s));
}

/* Channel c's window is [c − size/2, c + (size−1)/2] clipped to [0, C): centred for odd sizes,
 * and for even sizes the zero padding PyTorch's LocalResponseNorm uses (size/2 before,
 * (size−1)/2 after). scale = k + alpha/size · Σ x², y = x · scale^−β. */
__kernel void lrn_forward(__global const float *x, const int x_off, __global float *y, const int y_off,
                          __global float *scale, const int s_off, const int has_scale, const int C, const int HW,
                          const int n, const int size, const float alpha_over_size, const float beta,
                          const float k) {
  int i = get_global_id(0);
  if (i >= n) return;
  int c = (i / HW) % C;
  int base = x_off + i - c * HW;
  int lo = max(0, c - size / 2), hi = min(C - 1, c + (size - 1) / 2);
  float s = 0.0f;
  for (int j = lo; j <= hi; j++) {
    float v = x[base + j * HW];
    s += v * v;
  }
  s = k + alpha_over_size * s;
  y[y_off + i] = x[x_off + i] * pow_neg(s, beta);
  if (has_scale) scale[s_off + i] = s;
}

/* Sixteen consecutive pixels of one plane (zeros past `lanes`), and their store. */
/* The CPU forms keep each channel's term of the window sums in a ring of this many channels (the
 * window's size at most; larger windows load their terms per channel). */
#define LRN_RING 8

inline float16 lrn_load16(__global const float *p, const int lanes) {
  if (lanes == 16) return vload16(0, p);
  float l[16];
  for (int q = 0; q < 16; q++) l[q] = q < lanes ? p[q] : 0.0f;
  return vload16(0, l);
}

inline void lrn_store16(const float16 v, __global float *p, const int lanes) {
  if (lanes == 16) {
    vstore16(v, 0, p);
    return;
  }
  float l[16];
  vstore16(v, 0, l);
  for (int q = 0; q < lanes; q++) p[q] = l[q];
}

/* The same for CPUs: one item per (block of 16 pixels, image), walking the channels with the 16
 * pixels in float16 lanes (the per-element form's index arithmetic and window loop do not
 * vectorise across PoCL's work-items). Same arguments; 2-D range (⌈HW/16⌉, n / (C·HW)). */
__kernel void lrn_forward_rows(__global const float *x, const int x_off, __global float *y, const int y_off,
                               __global float *scale, const int s_off, const int has_scale, const int C,
                               const int HW, const int n, const int size, const float alpha_over_size,
                               const float beta, const float k) {
  const int p0 = 16 * get_global_id(0), img = get_global_id(1);
  if (p0 >= HW || img >= n / (C * HW)) return;
  const int lanes = min(16, HW - p0);
  const size_t base = (size_t)img * C * HW + p0;
  float16 ring[LRN_RING]; /* x_j² of the window's channels, j mod LRN_RING, each loaded once */
  int next = 0;
  for (int c = 0; c < C; c++) {
    const int lo = max(0, c - size / 2), hi = min(C - 1, c + (size - 1) / 2);
    float16 s = 0.0f;
    if (size <= LRN_RING) {
      for (; next <= hi; next++) {
        const float16 v = lrn_load16(x + x_off + base + (size_t)next * HW, lanes);
        ring[next % LRN_RING] = v * v;
      }
      for (int j = lo; j <= hi; j++) s += ring[j % LRN_RING];
    } else {
      for (int j = lo; j <= hi; j++) {
        const float16 v = lrn_load16(x + x_off + base + (size_t)j * HW, lanes);
        s += v * v;
      }
    }
    s = k + alpha_over_size * s;
    const size_t o = base + (size_t)c * HW;
    const float16 xc = lrn_load16(x + x_off + o, lanes);
    lrn_store16(xc * pow_neg16(s, beta), y + y_off + o, lanes);
    if (has_scale) lrn_store16(s, scale + s_off + o, lanes);
  }
}

/* ∂L/∂x_i = dy_i·s_i^−β − 2β·alpha/size · x_i · Σ_{c : i ∈ window(c)} dy_c·y_c / s_c,
 * the channels c whose window holds i being [i − (size−1)/2, i + size/2]. */
__kernel void lrn_backward(__global const float *x, const int x_off, __global const float *y, const int y_off,
                           __global const float *scale, const int s_off, __global const float *dy, const int dy_off,
                           __global float *dx, const int dx_off, const int C, const int HW, const int n,
                           const int size, const float alpha_over_size, const float beta) {
  int i = get_global_id(0);
  if (i >= n) return;
  int c = (i / HW) % C;
  int base = i - c * HW;
  int lo = max(0, c - (size - 1) / 2), hi = min(C - 1, c + size / 2);
  float acc = 0.0f;
  for (int j = lo; j <= hi; j++) {
    int o = base + j * HW;
    acc += dy[dy_off + o] * y[y_off + o] / scale[s_off + o];
  }
  dx[dx_off + i] =
      dy[dy_off + i] * pow_neg(scale[s_off + i], beta) - 2.0f * beta * alpha_over_size * x[x_off + i] * acc;
}

/* The same for CPUs: one item per (block of 16 pixels, image) over the channels, float16 lanes.
 * 2-D range (⌈HW/16⌉, n / (C·HW)). */
__kernel void lrn_backward_rows(__global const float *x, const int x_off, __global const float *y, const int y_off,
                                __global const float *scale, const int s_off, __global const float *dy,
                                const int dy_off, __global float *dx, const int dx_off, const int C, const int HW,
                                const int n, const int size, const float alpha_over_size, const float beta) {
  const int p0 = 16 * get_global_id(0), img = get_global_id(1);
  if (p0 >= HW || img >= n / (C * HW)) return;
  const int lanes = min(16, HW - p0);
  const size_t base = (size_t)img * C * HW + p0;
  float16 ring[LRN_RING]; /* dy_j·y_j / s_j of the window's channels, j mod LRN_RING, each once */
  int next = 0;
  for (int c = 0; c < C; c++) {
    const int lo = max(0, c - (size - 1) / 2), hi = min(C - 1, c + size / 2);
    float16 acc = 0.0f;
    if (size <= LRN_RING) {
      for (; next <= hi; next++) {
        const size_t o = base + (size_t)next * HW;
        ring[next % LRN_RING] = lrn_load16(dy + dy_off + o, lanes) * lrn_load16(y + y_off + o, lanes) /
                                lrn_load16(scale + s_off + o, lanes);
      }
      for (int j = lo; j <= hi; j++) acc += ring[j % LRN_RING];
    } else {
      for (int j = lo; j <= hi; j++) {
        const size_t o = base + (size_t)j * HW;
        acc += lrn_load16(dy + dy_off + o, lanes) * lrn_load16(y + y_off + o, lanes) /
               lrn_load16(scale + s_off + o, lanes);
      }
    }
    const size_t o = base + (size_t)c * HW;
    const float16 s = lrn_load16(scale + s_off + o, lanes);
    lrn_store16(lrn_load16(dy + dy_off + o, lanes) * pow_neg16(s, beta) -
                    2.0f * beta * alpha_over_size * lrn_load16(x + x_off + o, lanes) * acc,
                dx + dx_off + o, lanes);
  }
}
