/* augment.cl — pre-processing of an 8-bit image batch into float NCHW network input: per-sample
 * affine resampling (bilinear, half-sample symmetric "reflect" borders) through a matrix drawn on
 * the host, then FER+ normalisation (histogram equalisation, plane removal, RMS) or a linear
 * min–max / mean–std scaling. The plain-C twin is src/data/augment.c; both evaluate the resample
 * in the same float operation order so that, given the same matrices, they agree bit for bit up to
 * the 8-bit rounding FER+ applies before equalising (docs/augment.md). */

/* Multiply-add contraction would change the resampled value in its last bit and with it, at
 * rounding ties, the 8-bit level FER+ equalises: keep every product and sum rounded separately. */
#pragma OPENCL FP_CONTRACT OFF

#ifndef AUGMENT_LOCAL_SIZE
#define AUGMENT_LOCAL_SIZE 256 /* work-items per (sample, channel) plane; a power of two */
#endif

#define NORM_LINEAR 0
#define NORM_FERPLUS 1

/* Half-sample symmetric extension (d c b a | a b c d | d c b a), scipy.ndimage's "reflect". */
inline int reflect_index(int i, int n) {
  int period = 2 * n;
  i %= period;
  if (i < 0) i += period;
  return i >= n ? period - 1 - i : i;
}

/* Same operation order as clfer_sample_bilinear_u8 in src/data/augment.c. */
inline float sample_bilinear(__global const uchar *img, int h, int w, int c, int ch, float xs, float ys) {
  xs = fmin(fmax(xs, -1.0e6f), 1.0e6f);
  ys = fmin(fmax(ys, -1.0e6f), 1.0e6f);
  float fx = floor(xs);
  float fy = floor(ys);
  float ax = xs - fx;
  float ay = ys - fy;
  int x0 = (int)fx, y0 = (int)fy;
  int xa = reflect_index(x0, w), xb = reflect_index(x0 + 1, w);
  int ya = reflect_index(y0, h), yb = reflect_index(y0 + 1, h);
  float p00 = (float)img[(ya * w + xa) * c + ch];
  float p01 = (float)img[(ya * w + xb) * c + ch];
  float p10 = (float)img[(yb * w + xa) * c + ch];
  float p11 = (float)img[(yb * w + xb) * c + ch];
  float bx = 1.0f - ax;
  float by = 1.0f - ay;
  float t0 = p00 * bx;
  float t1 = p01 * ax;
  float top = t0 + t1;
  float b0 = p10 * bx;
  float b1 = p11 * ax;
  float bot = b0 + b1;
  float r0 = top * by;
  float r1 = bot * ay;
  return r0 + r1;
}

inline float affine_coord(float m0, float m1, float m2, float x, float y) {
  float a = m0 * x;
  float b = m1 * y;
  float s = a + b;
  return s + m2;
}

/* Tree sum of `count` interleaved partial sums (red[k·LS + lid]) over the work-group. */
inline void reduce_sums(__local float *red, int count, int lid) {
  for (int stride = AUGMENT_LOCAL_SIZE / 2; stride > 0; stride >>= 1) {
    if (lid < stride)
      for (int k = 0; k < count; k++) red[k * AUGMENT_LOCAL_SIZE + lid] += red[k * AUGMENT_LOCAL_SIZE + lid + stride];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
}

/* One work-group per output plane (sample s, channel ch): global (LS, n·out_c), local (LS, 1).
 * images: 8-bit h×w×c samples from byte images_off; sample s reads image indices[s] (use_indices)
 * or s; matrices: n×6 floats mapping output (x, y) to input (xs, ys). out: n×out_c×out_h×out_w
 * floats from element out_off. gain: 255/(hi−lo) of the min–max stretch, computed on the device. */
__kernel __attribute__((reqd_work_group_size(AUGMENT_LOCAL_SIZE, 1, 1)))
void augment_preprocess(__global const uchar *images, const ulong images_off, const int num_images, const int h,
                        const int w, const int c, __global const int *indices, const int use_indices,
                        __global const float *matrices, const int n, const int out_c, const int out_h,
                        const int out_w, const int norm_mode, const int minmax_stretch, const float scale,
                        const float mean0, const float mean1, const float mean2, const float inv_std0,
                        const float inv_std1, const float inv_std2, __global float *out, const int out_off) {
  __local int hist[256];
  __local float eq[256];
  __local float red[3 * AUGMENT_LOCAL_SIZE];
  __local int lo_hi[2 * AUGMENT_LOCAL_SIZE];
  const int lid = get_local_id(0);
  const int plane = get_group_id(1);
  if (plane >= n * out_c) return; /* uniform over the work-group */
  const int s = plane / out_c, och = plane % out_c;
  const int ich = c == 1 ? 0 : och;
  const int npix = out_h * out_w;
  __global float *dst = out + out_off + (size_t)plane * npix;

  const int img_index = use_indices ? indices[s] : s;
  if (img_index < 0 || img_index >= num_images) { /* uniform: a bad index poisons its plane */
    for (int i = lid; i < npix; i += AUGMENT_LOCAL_SIZE) dst[i] = NAN;
    return;
  }
  const size_t img_bytes = (size_t)h * w * c;
  __global const uchar *img = images + images_off + (size_t)img_index * img_bytes;
  __global const float *m = matrices + (size_t)s * 6;
  const float m0 = m[0], m1 = m[1], m2 = m[2], m3 = m[3], m4 = m[4], m5 = m[5];

  /* min–max stretch (Ng et al.): the whole input image's range, all channels */
  float stretch_lo = 0.0f, gain = 1.0f;
  if (minmax_stretch) {
    int lo = 255, hi = 0;
    for (size_t i = lid; i < img_bytes; i += AUGMENT_LOCAL_SIZE) {
      int v = img[i];
      lo = min(lo, v);
      hi = max(hi, v);
    }
    lo_hi[lid] = lo;
    lo_hi[AUGMENT_LOCAL_SIZE + lid] = hi;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int stride = AUGMENT_LOCAL_SIZE / 2; stride > 0; stride >>= 1) {
      if (lid < stride) {
        lo_hi[lid] = min(lo_hi[lid], lo_hi[lid + stride]);
        lo_hi[AUGMENT_LOCAL_SIZE + lid] = max(lo_hi[AUGMENT_LOCAL_SIZE + lid], lo_hi[AUGMENT_LOCAL_SIZE + lid + stride]);
      }
      barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lo_hi[AUGMENT_LOCAL_SIZE] > lo_hi[0]) {
      stretch_lo = (float)lo_hi[0];
      gain = 255.0f / (float)(lo_hi[AUGMENT_LOCAL_SIZE] - lo_hi[0]);
    }
  }

  if (norm_mode != NORM_FERPLUS) {
    const float mean = och == 0 ? mean0 : och == 1 ? mean1 : mean2;
    const float inv_std = och == 0 ? inv_std0 : och == 1 ? inv_std1 : inv_std2;
    for (int i = lid; i < npix; i += AUGMENT_LOCAL_SIZE) {
      float x = (float)(i % out_w), y = (float)(i / out_w);
      float v = sample_bilinear(img, h, w, c, ich, affine_coord(m0, m1, m2, x, y), affine_coord(m3, m4, m5, x, y));
      if (minmax_stretch) v = (v - stretch_lo) * gain;
      float t = v * scale;
      dst[i] = (t - mean) * inv_std;
    }
    return;
  }

  /* FER+ (FERPlus img_util.preproc_img): 8-bit levels, histogram, equalisation to [−1, 1] */
  for (int i = lid; i < 256; i += AUGMENT_LOCAL_SIZE) hist[i] = 0;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int i = lid; i < npix; i += AUGMENT_LOCAL_SIZE) {
    float x = (float)(i % out_w), y = (float)(i / out_w);
    float v = sample_bilinear(img, h, w, c, ich, affine_coord(m0, m1, m2, x, y), affine_coord(m3, m4, m5, x, y));
    int q = (int)floor(v + 0.5f);
    q = clamp(q, 0, 255);
    dst[i] = (float)q; /* each item re-reads only its own pixels below */
    atomic_inc(&hist[q]);
  }
  barrier(CLK_LOCAL_MEM_FENCE);
  if (lid == 0) {
    int cdf = 0;
    const float two_over_n = 2.0f / (float)npix;
    for (int k = 0; k < 256; k++) {
      cdf += hist[k];
      eq[k] = (float)cdf * two_over_n - 1.0f;
    }
  }
  barrier(CLK_LOCAL_MEM_FENCE);

  /* least-squares plane a + b(x−x̄) + c(y−ȳ): on a full grid the centred columns are orthogonal,
   * so the normal equations are diagonal (the same solution as FERPlus's pinv(A)). */
  const float xc = 0.5f * (float)(out_w - 1), yc = 0.5f * (float)(out_h - 1);
  float s0 = 0.0f, sx = 0.0f, sy = 0.0f;
  for (int i = lid; i < npix; i += AUGMENT_LOCAL_SIZE) {
    float e = eq[(int)dst[i]];
    dst[i] = e;
    float dx = (float)(i % out_w) - xc, dy = (float)(i / out_w) - yc;
    s0 += e;
    sx += dx * e;
    sy += dy * e;
  }
  red[lid] = s0;
  red[AUGMENT_LOCAL_SIZE + lid] = sx;
  red[2 * AUGMENT_LOCAL_SIZE + lid] = sy;
  barrier(CLK_LOCAL_MEM_FENCE);
  reduce_sums(red, 3, lid);
  const float fw = (float)out_w, fh = (float)out_h;
  const float dxx = fh * fw * (fw * fw - 1.0f) / 12.0f, dyy = fw * fh * (fh * fh - 1.0f) / 12.0f;
  const float pa = red[0] / (float)npix;
  const float pb = dxx > 0.0f ? red[AUGMENT_LOCAL_SIZE] / dxx : 0.0f;
  const float pc = dyy > 0.0f ? red[2 * AUGMENT_LOCAL_SIZE] / dyy : 0.0f;
  barrier(CLK_LOCAL_MEM_FENCE);

  float ss = 0.0f;
  for (int i = lid; i < npix; i += AUGMENT_LOCAL_SIZE) {
    float dx = (float)(i % out_w) - xc, dy = (float)(i / out_w) - yc;
    float d = dst[i] - pa - pb * dx - pc * dy;
    dst[i] = d;
    ss += d * d;
  }
  red[lid] = ss;
  barrier(CLK_LOCAL_MEM_FENCE);
  reduce_sums(red, 1, lid);
  const float rms = sqrt(red[0] / (float)npix);
  if (rms > 1e-6f) {
    const float inv = 1.0f / rms;
    for (int i = lid; i < npix; i += AUGMENT_LOCAL_SIZE) dst[i] *= inv;
  }
}
