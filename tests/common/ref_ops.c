/* ref_ops.c — see ref_ops.h. Deliberately naive loops in double. */
#include "ref_ops.h"

#include <math.h>
#include <stdlib.h>

void refop_relu(double slope, const double *x, double *y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : slope * x[i];
}

int refop_pool_out(int in, int kernel, int stride, int pad, int ceil_mode) {
  if (stride == 0) stride = kernel;
  int count = 0;
  for (int i = 0;; i++) {
    long start = (long)i * stride - pad;
    long end = start + kernel; /* exclusive, in unpadded coordinates */
    if (end <= (long)in + pad) { /* the whole window lies in the padded input */
      count++;
      continue;
    }
    /* Ceil mode adds one partial window, if it starts inside the input (or the left padding)
     * and the previous window left elements uncovered. */
    if (ceil_mode && i > 0 && start < in && start - stride + kernel < (long)in + pad) count++;
    break;
  }
  return count;
}

static void pool_window(const clfer_pool2d_params_t *p, int oh, int ow, int *h0, int *h1, int *w0, int *w1) {
  int sh = p->stride_h ? p->stride_h : p->kernel_h, sw = p->stride_w ? p->stride_w : p->kernel_w;
  *h0 = oh * sh - p->pad_h;
  *w0 = ow * sw - p->pad_w;
  *h1 = *h0 + p->kernel_h;
  *w1 = *w0 + p->kernel_w;
}

void refop_maxpool2d(const clfer_pool2d_params_t *p, int N, int C, int H, int W, const double *x, double *y,
                     int *argmax) {
  int sh = p->stride_h ? p->stride_h : p->kernel_h, sw = p->stride_w ? p->stride_w : p->kernel_w;
  int OH = refop_pool_out(H, p->kernel_h, sh, p->pad_h, p->ceil_mode);
  int OW = refop_pool_out(W, p->kernel_w, sw, p->pad_w, p->ceil_mode);
  for (int nc = 0; nc < N * C; nc++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        int h0, h1, w0, w1, best = -1;
        double m = -INFINITY;
        pool_window(p, oh, ow, &h0, &h1, &w0, &w1);
        for (int h = h0; h < h1; h++)
          for (int w = w0; w < w1; w++) {
            if (h < 0 || h >= H || w < 0 || w >= W) continue; /* padding never wins */
            double v = x[(size_t)nc * H * W + h * W + w];
            if (best < 0 || v > m) m = v, best = h * W + w;
          }
        size_t o = (size_t)nc * OH * OW + oh * OW + ow;
        y[o] = m;
        if (argmax) argmax[o] = best;
      }
}

void refop_avgpool2d(const clfer_pool2d_params_t *p, int N, int C, int H, int W, const double *x, double *y) {
  int sh = p->stride_h ? p->stride_h : p->kernel_h, sw = p->stride_w ? p->stride_w : p->kernel_w;
  int OH = refop_pool_out(H, p->kernel_h, sh, p->pad_h, p->ceil_mode);
  int OW = refop_pool_out(W, p->kernel_w, sw, p->pad_w, p->ceil_mode);
  for (int nc = 0; nc < N * C; nc++)
    for (int oh = 0; oh < OH; oh++)
      for (int ow = 0; ow < OW; ow++) {
        int h0, h1, w0, w1, padded = 0, valid = 0;
        double s = 0;
        pool_window(p, oh, ow, &h0, &h1, &w0, &w1);
        for (int h = h0; h < h1; h++)
          for (int w = w0; w < w1; w++) {
            /* positions in the padded frame count for count_include_pad; beyond it they do not */
            if (h >= H + p->pad_h || w >= W + p->pad_w) continue;
            padded++;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            valid++;
            s += x[(size_t)nc * H * W + h * W + w];
          }
        y[(size_t)nc * OH * OW + oh * OW + ow] = s / (p->count_include_pad ? padded : valid);
      }
}

void refop_global_avgpool(int N, int C, int HW, const double *x, double *y) {
  for (int nc = 0; nc < N * C; nc++) {
    double s = 0;
    for (int j = 0; j < HW; j++) s += x[(size_t)nc * HW + j];
    y[nc] = s / HW;
  }
}

void refop_batchnorm_train(int N, int C, int HW, double eps, const double *x, const double *gamma,
                           const double *beta, double *y, double *mean, double *var) {
  double M = (double)N * HW;
  for (int c = 0; c < C; c++) {
    double s = 0, v = 0;
    for (int n = 0; n < N; n++)
      for (int j = 0; j < HW; j++) s += x[((size_t)n * C + c) * HW + j];
    double mu = s / M;
    for (int n = 0; n < N; n++)
      for (int j = 0; j < HW; j++) {
        double d = x[((size_t)n * C + c) * HW + j] - mu;
        v += d * d;
      }
    v /= M;
    if (mean) mean[c] = mu;
    if (var) var[c] = v;
    for (int n = 0; n < N; n++)
      for (int j = 0; j < HW; j++) {
        size_t i = ((size_t)n * C + c) * HW + j;
        y[i] = (x[i] - mu) / sqrt(v + eps) * gamma[c] + beta[c];
      }
  }
}

void refop_batchnorm_eval(int N, int C, int HW, double eps, const double *x, const double *gamma,
                          const double *beta, const double *rmean, const double *rvar, double *y) {
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      for (int j = 0; j < HW; j++) {
        size_t i = ((size_t)n * C + c) * HW + j;
        y[i] = (x[i] - rmean[c]) / sqrt(rvar[c] + eps) * gamma[c] + beta[c];
      }
}

void refop_lrn(int N, int C, int HW, int size, double alpha, double beta, double k, const double *x, double *y,
               double *scale) {
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      for (int j = 0; j < HW; j++) {
        double s = 0;
        /* PyTorch pads size/2 channels in front and (size-1)/2 behind, then averages `size` */
        for (int q = c - size / 2; q <= c + (size - 1) / 2; q++) {
          if (q < 0 || q >= C) continue;
          double v = x[((size_t)n * C + q) * HW + j];
          s += v * v;
        }
        size_t i = ((size_t)n * C + c) * HW + j;
        double sc = k + alpha / size * s;
        y[i] = x[i] / pow(sc, beta);
        if (scale) scale[i] = sc;
      }
}

void refop_softmax(int rows, int K, const double *x, double *y) {
  for (int r = 0; r < rows; r++) {
    const double *xr = x + (size_t)r * K;
    double m = xr[0], s = 0;
    for (int j = 1; j < K; j++)
      if (xr[j] > m) m = xr[j];
    for (int j = 0; j < K; j++) s += exp(xr[j] - m);
    for (int j = 0; j < K; j++) y[(size_t)r * K + j] = exp(xr[j] - m) / s;
  }
}

void refop_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3], k0 = key[0], k1 = key[1];
  for (int r = 0; r < 10; r++) {
    if (r > 0) k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
    uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
    uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n1 = (uint32_t)p1, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1,
             n3 = (uint32_t)p0;
    c0 = n0, c1 = n1, c2 = n2, c3 = n3;
  }
  out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

void refop_dropout_mask(double p, uint64_t seed, uint64_t counter, size_t n, double *mask) {
  uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  uint32_t threshold = (uint32_t)ceil(p * 16777216.0);
  double keep = (double)(float)(1.0 / (1.0 - p));
  for (size_t b = 0; b * 4 < n; b++) {
    uint32_t ctr[4] = {(uint32_t)b, 0, (uint32_t)counter, (uint32_t)(counter >> 32)}, r[4];
    refop_philox4x32_10(ctr, key, r);
    for (size_t j = 0; j < 4 && b * 4 + j < n; j++) mask[b * 4 + j] = (r[j] >> 8) >= threshold ? keep : 0.0;
  }
}
