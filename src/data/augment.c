/* augment.c — affine matrices for the FER+ jitter and ImageNet-style resize/crop, the plain-C
 * reference of the pre-processing (bilinear reflect resample, FER+ normalisation, min–max and
 * mean–std scaling), and the launches of kernels/augment.cl that must agree with it. */
#include "clfer/augment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/augment_rng.h"
#include "runtime/runtime_internal.h"

/* ---- matrices --------------------------------------------------------------------------------- */

static void affine_from_double(const double d[6], float m[6]) {
  for (int i = 0; i < 6; i++) m[i] = (float)d[i];
}

void clfer_affine_resize(int in_h, int in_w, int out_h, int out_w, float m[6]) {
  double d[6] = {0};
  d[0] = out_w > 1 ? (double)(in_w - 1) / (out_w - 1) : 0.0;
  d[2] = out_w > 1 ? 0.0 : 0.5 * (in_w - 1);
  d[4] = out_h > 1 ? (double)(in_h - 1) / (out_h - 1) : 0.0;
  d[5] = out_h > 1 ? 0.0 : 0.5 * (in_h - 1);
  affine_from_double(d, m);
}

void clfer_affine_flip_output(float m[6], int out_w) {
  /* sample at (out_w−1−x, y): the FERPlus reference flips the warped image (np.fliplr) */
  double w1 = (double)(out_w - 1);
  m[2] = (float)((double)m[2] + (double)m[0] * w1);
  m[5] = (float)((double)m[5] + (double)m[3] * w1);
  m[0] = -m[0];
  m[3] = -m[3];
}

clfer_augment_config_t clfer_augment_config_ferplus(void) {
  clfer_augment_config_t c = {0};
  c.max_shift = 0.08f;
  c.max_angle_deg = 20.0f;
  c.max_skew = 0.05f;
  c.max_scale = 1.05f;
  c.flip = 1;
  return c;
}

clfer_augment_config_t clfer_augment_config_crop(int resize, int random_crop, int flip) {
  clfer_augment_config_t c = {0};
  c.max_scale = 1.0f;
  c.resize = resize;
  c.random_crop = random_crop;
  c.flip = flip;
  return c;
}

static clfer_status check_geometry(const clfer_augment_config_t *cfg, int in_h, int in_w, int out_h, int out_w) {
  if (!cfg) return clfer_set_error(CLFER_INVALID_ARGUMENT, "augment: config is NULL");
  if (in_h < 1 || in_w < 1 || out_h < 1 || out_w < 1)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "augment: sizes must be positive (input %dx%d, output %dx%d)",
                           in_h, in_w, out_h, out_w);
  if (cfg->resize < 0 || (cfg->resize > 0 && (out_h > cfg->resize || out_w > cfg->resize)))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "augment: crop %dx%d does not fit the resize %d", out_h, out_w,
                           cfg->resize);
  if (!(cfg->max_shift >= 0 && cfg->max_angle_deg >= 0 && cfg->max_skew >= 0 && cfg->max_scale >= 1) ||
      !isfinite(cfg->max_shift) || !isfinite(cfg->max_angle_deg) || !isfinite(cfg->max_skew) ||
      !isfinite(cfg->max_scale))
    return clfer_set_error(CLFER_INVALID_ARGUMENT,
                           "augment: need max_shift, max_angle_deg, max_skew >= 0 and max_scale >= 1 "
                           "(got %g, %g, %g, %g)",
                           cfg->max_shift, cfg->max_angle_deg, cfg->max_skew, cfg->max_scale);
  return CLFER_OK;
}

/* FERPlus img_util.crop_img as a matrix. T = R(angle)·[[1, sk_y],[0, 1]]·[[1, 0],[sk_x, 1]]·
 * diag(s_y, s_x) acts on (y, x) row vectors: in = (out − ctr_out)·T + ctr_in. clfer uses the exact
 * pixel-grid centres (n−1)/2 where the reference uses the ROI centre n/2 (a 0.13–0.25 px offset),
 * so that the plain resize maps corners onto corners and a flip is an exact mirror. */
static void ferplus_matrix(int in_h, int in_w, int out_h, int out_w, double shift_x, double shift_y,
                           double scale_x, double scale_y, double angle_deg, double skew_x, double skew_y,
                           float m[6]) {
  double s_y = out_h > 1 ? scale_y * (in_h - 1) / (out_h - 1) : 0.0;
  double s_x = out_w > 1 ? scale_x * (in_w - 1) / (out_w - 1) : 0.0;
  double a = angle_deg * 3.14159265358979323846 / 180.0, ca = cos(a), sa = sin(a);
  /* R·K1 */
  double t00 = ca, t01 = ca * skew_y - sa, t10 = sa, t11 = sa * skew_y + ca;
  /* ·K2 = [[1, 0], [sk_x, 1]] */
  t00 += t01 * skew_x;
  t10 += t11 * skew_x;
  /* ·diag(s_y, s_x) */
  t00 *= s_y, t10 *= s_y, t01 *= s_x, t11 *= s_x;
  double cin_y = 0.5 * (in_h - 1), cin_x = 0.5 * (in_w - 1);
  double cy = 0.5 * (out_h - 1) + shift_y, cx = 0.5 * (out_w - 1) + shift_x;
  /* in_x = (oy−cy)·T01 + (ox−cx)·T11 + cin_x ; in_y = (oy−cy)·T00 + (ox−cx)·T10 + cin_y */
  double d[6] = {t11, t01, cin_x - cx * t11 - cy * t01, t10, t00, cin_y - cx * t10 - cy * t00};
  affine_from_double(d, m);
}

static void crop_matrix(int in_h, int in_w, int resize, double off_x, double off_y, float m[6]) {
  double s_y = resize > 1 ? (double)(in_h - 1) / (resize - 1) : 0.0;
  double s_x = resize > 1 ? (double)(in_w - 1) / (resize - 1) : 0.0;
  double d[6] = {s_x, 0.0, off_x * s_x, 0.0, s_y, off_y * s_y};
  affine_from_double(d, m);
}

clfer_status clfer_augment_base_matrix(const clfer_augment_config_t *cfg, int in_h, int in_w, int out_h,
                                       int out_w, float m[6]) {
  clfer_status st = check_geometry(cfg, in_h, in_w, out_h, out_w);
  if (st) return st;
  if (cfg->resize > 0)
    crop_matrix(in_h, in_w, cfg->resize, (double)((cfg->resize - out_w) / 2), (double)((cfg->resize - out_h) / 2), m);
  else
    clfer_affine_resize(in_h, in_w, out_h, out_w, m);
  return CLFER_OK;
}

clfer_status clfer_augment_draw(const clfer_augment_config_t *cfg, int in_h, int in_w, int out_h, int out_w,
                                uint64_t seed, uint64_t stream, float m[6]) {
  clfer_status st = check_geometry(cfg, in_h, in_w, out_h, out_w);
  if (st) return st;
  clfer__rng_t r = clfer__rng_stream(seed, stream, 0x61756721u /* "aug!" */);
  if (cfg->resize > 0) {
    double ox = (cfg->resize - out_w) / 2, oy = (cfg->resize - out_h) / 2;
    if (cfg->random_crop) {
      ox = clfer__rng_below(&r, (uint32_t)(cfg->resize - out_w + 1));
      oy = clfer__rng_below(&r, (uint32_t)(cfg->resize - out_h + 1));
    }
    crop_matrix(in_h, in_w, cfg->resize, ox, oy, m);
  } else {
    /* the draws in the order of FERPlus img_util.distort_img */
    double shift_y = out_h * cfg->max_shift * clfer__rng_range(&r, -1, 1);
    double shift_x = out_w * cfg->max_shift * clfer__rng_range(&r, -1, 1);
    double angle = cfg->max_angle_deg * clfer__rng_range(&r, -1, 1);
    double sk_y = cfg->max_skew * clfer__rng_range(&r, -1, 1);
    double sk_x = cfg->max_skew * clfer__rng_range(&r, -1, 1);
    double scale_y = clfer__rng_range(&r, 1.0, cfg->max_scale);
    if (clfer__rng_uniform(&r) < 0.5) scale_y = 1.0 / scale_y;
    double scale_x = clfer__rng_range(&r, 1.0, cfg->max_scale);
    if (clfer__rng_uniform(&r) < 0.5) scale_x = 1.0 / scale_x;
    ferplus_matrix(in_h, in_w, out_h, out_w, shift_x, shift_y, scale_x, scale_y, angle, sk_x, sk_y, m);
  }
  if (cfg->flip && clfer__rng_uniform(&r) < 0.5) clfer_affine_flip_output(m, out_w);
  return CLFER_OK;
}

/* ---- pre-processing options --------------------------------------------------------------------- */

clfer_preproc_t clfer_preproc_ferplus(int out_h, int out_w) {
  clfer_preproc_t p = {0};
  p.out_h = out_h;
  p.out_w = out_w;
  p.out_c = 1;
  p.norm = CLFER_NORM_FERPLUS;
  p.scale = 1.0f;
  p.std[0] = p.std[1] = p.std[2] = 1.0f;
  return p;
}

clfer_preproc_t clfer_preproc_linear(int out_h, int out_w, int out_c, float scale) {
  clfer_preproc_t p = {0};
  p.out_h = out_h;
  p.out_w = out_w;
  p.out_c = out_c;
  p.norm = CLFER_NORM_LINEAR;
  p.scale = scale;
  p.std[0] = p.std[1] = p.std[2] = 1.0f;
  return p;
}

clfer_status clfer_preproc_check(const clfer_preproc_t *p, int in_c) {
  if (!p) return clfer_set_error(CLFER_INVALID_ARGUMENT, "preprocess: options are NULL");
  if (p->out_h < 1 || p->out_w < 1 || p->out_h > 8192 || p->out_w > 8192)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "preprocess: output size %dx%d out of range", p->out_h, p->out_w);
  if (in_c != 1 && in_c != 3)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "preprocess: input has %d channels (1 or 3 supported)", in_c);
  if (p->out_c != 1 && p->out_c != 3)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "preprocess: out_c %d (1 or 3 supported)", p->out_c);
  if (in_c != 1 && in_c != p->out_c)
    return clfer_set_error(CLFER_INVALID_ARGUMENT,
                           "preprocess: %d input channels cannot become %d (only gray -> 3 is converted)", in_c,
                           p->out_c);
  if (p->norm != CLFER_NORM_LINEAR && p->norm != CLFER_NORM_FERPLUS)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "preprocess: unknown normalisation mode %d", (int)p->norm);
  if (p->norm == CLFER_NORM_FERPLUS && p->minmax_stretch)
    return clfer_set_error(CLFER_INVALID_ARGUMENT,
                           "preprocess: min-max stretch with FER+ normalisation is redundant (histogram "
                           "equalisation ignores contrast); turn one off");
  if (!isfinite(p->scale))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "preprocess: scale %g is not finite", p->scale);
  for (int k = 0; k < 3; k++)
    if (!isfinite(p->mean[k]) || !isfinite(p->std[k]) || p->std[k] < 0)
      return clfer_set_error(CLFER_INVALID_ARGUMENT, "preprocess: mean[%d] %g / std[%d] %g invalid", k, p->mean[k],
                             k, p->std[k]);
  return CLFER_OK;
}

static float inv_std_of(const clfer_preproc_t *p, int ch) { return p->std[ch] > 0 ? 1.0f / p->std[ch] : 1.0f; }

/* ---- plain-C reference ------------------------------------------------------------------------ */

static int reflect_index(int i, int n) {
  int period = 2 * n;
  i %= period;
  if (i < 0) i += period;
  return i >= n ? period - 1 - i : i;
}

/* Must stay operation-for-operation equal to sample_bilinear in kernels/augment.cl. */
float clfer_sample_bilinear_u8(const uint8_t *img, int h, int w, int c, int ch, float xs, float ys) {
  xs = fminf(fmaxf(xs, -1.0e6f), 1.0e6f);
  ys = fminf(fmaxf(ys, -1.0e6f), 1.0e6f);
  float fx = floorf(xs);
  float fy = floorf(ys);
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

static float affine_coord(float m0, float m1, float m2, float x, float y) {
  float a = m0 * x;
  float b = m1 * y;
  float s = a + b;
  return s + m2;
}

void clfer_resample_affine_u8(const uint8_t *img, int h, int w, int c, int ch, const float m[6], int out_h,
                              int out_w, float *out) {
  for (int y = 0; y < out_h; y++)
    for (int x = 0; x < out_w; x++) {
      float fx = (float)x, fy = (float)y;
      out[(size_t)y * out_w + x] = clfer_sample_bilinear_u8(img, h, w, c, ch, affine_coord(m[0], m[1], m[2], fx, fy),
                                                            affine_coord(m[3], m[4], m[5], fx, fy));
    }
}

void clfer_ferplus_normalize(const uint8_t *plane, int h, int w, float *out) {
  /* FERPlus img_util.preproc_img, in double */
  size_t n = (size_t)h * w, hist[256] = {0};
  for (size_t i = 0; i < n; i++) hist[plane[i]]++;
  double eq[256], cdf = 0;
  for (int k = 0; k < 256; k++) {
    cdf += (double)hist[k];
    eq[k] = cdf * (2.0 / (double)n) - 1.0;
  }
  double xc = 0.5 * (w - 1), yc = 0.5 * (h - 1), s0 = 0, sx = 0, sy = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      double e = eq[plane[(size_t)y * w + x]];
      s0 += e, sx += (x - xc) * e, sy += (y - yc) * e;
    }
  double dxx = (double)h * w * ((double)w * w - 1) / 12.0, dyy = (double)w * h * ((double)h * h - 1) / 12.0;
  double a = s0 / (double)n, b = dxx > 0 ? sx / dxx : 0, c = dyy > 0 ? sy / dyy : 0, ss = 0;
  for (int pass = 0; pass < 2; pass++) {
    double inv = 1.0;
    if (pass == 1) {
      double rms = sqrt(ss / (double)n);
      if (rms > 1e-6) inv = 1.0 / rms;
    }
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++) {
        double v = eq[plane[(size_t)y * w + x]] - a - b * (x - xc) - c * (y - yc);
        if (pass == 0) ss += v * v;
        else out[(size_t)y * w + x] = (float)(v * inv);
      }
  }
}

void clfer_minmax_u8(const uint8_t *img, size_t n, int *lo, int *hi) {
  int a = 255, b = 0;
  for (size_t i = 0; i < n; i++) {
    if (img[i] < a) a = img[i];
    if (img[i] > b) b = img[i];
  }
  *lo = a, *hi = b;
}

clfer_status clfer_preprocess_host(const uint8_t *img, int h, int w, int c, const float m[6],
                                   const clfer_preproc_t *p, float *out) {
  clfer_status st = clfer_preproc_check(p, c);
  if (st) return st;
  if (!img || !m || !out || h < 1 || w < 1)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "preprocess: NULL buffer or empty %dx%d image", h, w);
  for (int i = 0; i < 6; i++)
    if (!isfinite(m[i])) return clfer_set_error(CLFER_INVALID_ARGUMENT, "preprocess: matrix entry %d is %g", i, m[i]);
  size_t npix = (size_t)p->out_h * p->out_w;
  float stretch_lo = 0.0f, gain = 1.0f;
  if (p->minmax_stretch) {
    int lo, hi;
    clfer_minmax_u8(img, (size_t)h * w * c, &lo, &hi);
    if (hi > lo) stretch_lo = (float)lo, gain = 255.0f / (float)(hi - lo);
  }
  uint8_t *levels = NULL;
  if (p->norm == CLFER_NORM_FERPLUS && !(levels = malloc(npix)))
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "preprocess: %zu bytes", npix);
  for (int och = 0; och < p->out_c; och++) {
    int ich = c == 1 ? 0 : och;
    float *dst = out + (size_t)och * npix;
    clfer_resample_affine_u8(img, h, w, c, ich, m, p->out_h, p->out_w, dst);
    if (p->norm == CLFER_NORM_FERPLUS) {
      for (size_t i = 0; i < npix; i++) {
        int q = (int)floorf(dst[i] + 0.5f);
        levels[i] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
      }
      clfer_ferplus_normalize(levels, p->out_h, p->out_w, dst);
    } else {
      float mean = p->mean[och], inv_std = inv_std_of(p, och);
      for (size_t i = 0; i < npix; i++) {
        float v = dst[i];
        if (p->minmax_stretch) v = (v - stretch_lo) * gain;
        float t = v * p->scale;
        dst[i] = (t - mean) * inv_std;
      }
    }
  }
  free(levels);
  return CLFER_OK;
}

/* ---- OpenCL path ------------------------------------------------------------------------------ */

static int local_size_for(const clfer_runtime_t *rt) {
  size_t max = clfer_runtime_device(rt)->max_work_group_size, ls = 256;
  while (ls > 1 && ls > max) ls >>= 1;
  return (int)ls;
}

clfer_status clfer_preprocess_device(clfer_runtime_t *rt, cl_mem images, size_t images_offset, int num_images,
                                     int h, int w, int c, cl_mem indices, cl_mem matrices, int n,
                                     const clfer_preproc_t *p, clfer_tensor_t *out) {
  clfer_status st = clfer_preproc_check(p, c);
  if (st) return st;
  if (!rt || !images || !matrices || !out || n < 0 || h < 1 || w < 1 || num_images < 1)
    return clfer_set_error(CLFER_INVALID_ARGUMENT,
                           "preprocess_device: NULL runtime/buffer or bad sizes (n %d, %d images of %dx%dx%d)", n,
                           num_images, h, w, c);
  int want[4] = {n, p->out_c, p->out_h, p->out_w};
  if (out->ndim != 4 || memcmp(out->shape, want, sizeof want) != 0 || !out->buf) {
    char got_s[64], want_s[64];
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "preprocess_device: output is %s, expected %s",
                           clfer_shape_str(out->ndim, out->shape, got_s, sizeof got_s),
                           clfer_shape_str(4, want, want_s, sizeof want_s));
  }
  if (n == 0) return CLFER_OK;
  /* the kernel trusts these sizes: check them against the buffers */
  size_t img_size = 0, mat_size = 0, idx_size = 0, need_img = images_offset + (size_t)num_images * h * w * c;
  if (clGetMemObjectInfo(images, CL_MEM_SIZE, sizeof img_size, &img_size, NULL) != CL_SUCCESS ||
      clGetMemObjectInfo(matrices, CL_MEM_SIZE, sizeof mat_size, &mat_size, NULL) != CL_SUCCESS ||
      (indices && clGetMemObjectInfo(indices, CL_MEM_SIZE, sizeof idx_size, &idx_size, NULL) != CL_SUCCESS))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "preprocess_device: an argument is not a valid cl_mem");
  if (img_size < need_img || mat_size < (size_t)n * 6 * sizeof(float) ||
      (indices && idx_size < (size_t)n * sizeof(cl_int)))
    return clfer_set_error(CLFER_INVALID_ARGUMENT,
                           "preprocess_device: buffers too small (images %zu < %zu bytes, matrices %zu < %zu, "
                           "or indices %zu < %zu)",
                           img_size, need_img, mat_size, (size_t)n * 6 * sizeof(float), idx_size,
                           indices ? (size_t)n * sizeof(cl_int) : 0);
  int ls = local_size_for(rt);
  char options[64];
  snprintf(options, sizeof options, "-DAUGMENT_LOCAL_SIZE=%d", ls);
  size_t global[2] = {(size_t)ls, (size_t)n * p->out_c}, local[2] = {(size_t)ls, 1};
  double planes = (double)n * p->out_c, npix = (double)p->out_h * p->out_w;
  clfer_cost_t cost = {planes * npix * (p->norm == CLFER_NORM_FERPLUS ? 40.0 : 25.0),
                       planes * npix * (4.0 + 4.0 * (p->norm == CLFER_NORM_FERPLUS ? 5.0 : 1.0))};
  st = CLFER_RUN(rt, "augment", options, "augment_preprocess", 2, global, local, cost, CLFER_ARG_MEM(images),
                 CLFER_ARG_ULONG(images_offset), CLFER_ARG_INT(num_images), CLFER_ARG_INT(h), CLFER_ARG_INT(w),
                 CLFER_ARG_INT(c), CLFER_ARG_MEM(indices ? indices : matrices), CLFER_ARG_INT(indices != NULL),
                 CLFER_ARG_MEM(matrices), CLFER_ARG_INT(n), CLFER_ARG_INT(p->out_c), CLFER_ARG_INT(p->out_h),
                 CLFER_ARG_INT(p->out_w), CLFER_ARG_INT((int)p->norm), CLFER_ARG_INT(p->minmax_stretch != 0),
                 CLFER_ARG_FLOAT(p->scale), CLFER_ARG_FLOAT(p->mean[0]), CLFER_ARG_FLOAT(p->mean[1]),
                 CLFER_ARG_FLOAT(p->mean[2]), CLFER_ARG_FLOAT(inv_std_of(p, 0)), CLFER_ARG_FLOAT(inv_std_of(p, 1)),
                 CLFER_ARG_FLOAT(inv_std_of(p, 2)), CLFER_ARG_MEM(out->buf), CLFER_ARG_INT((int)out->offset));
  if (st) return clfer_wrap_error(st, "preprocess_device (%d samples): ", n);
  return CLFER_OK;
}

clfer_status clfer_preprocess_device_upload(clfer_runtime_t *rt, const uint8_t *images, int n, int h, int w, int c,
                                            const float *matrices, const clfer_preproc_t *p, clfer_tensor_t *out) {
  if (!rt || !images || !matrices || n < 1 || h < 1 || w < 1 || c < 1)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "preprocess_device_upload: NULL input or bad sizes (n %d, %dx%dx%d)",
                           n, h, w, c);
  for (size_t i = 0; i < (size_t)n * 6; i++)
    if (!isfinite(matrices[i]))
      return clfer_set_error(CLFER_INVALID_ARGUMENT, "preprocess_device_upload: matrix %zu entry %zu is %g", i / 6,
                             i % 6, matrices[i]);
  size_t bytes = (size_t)n * h * w * c;
  int img_shape[1] = {(int)((bytes + 3) / 4)}, mat_shape[1] = {n * 6};
  clfer_tensor_t timg = {0}, tmat = {0};
  clfer_status st = clfer_tensor_create(rt, 1, img_shape, &timg);
  if (!st) st = clfer_tensor_create(rt, 1, mat_shape, &tmat);
  if (!st) st = clfer_tensor_upload(&tmat, matrices);
  if (!st) {
    cl_int err = clEnqueueWriteBuffer(clfer_runtime_queue(rt), timg.buf, CL_TRUE, timg.offset * sizeof(float), bytes,
                                      images, 0, NULL, NULL);
    if (err != CL_SUCCESS) st = clfer__cl_status(err, "clEnqueueWriteBuffer(images)", __FILE__, __LINE__);
  }
  /* the matrices tensor has offset 0 in its own pool block, as clfer_tensor_create gives */
  if (!st && tmat.offset != 0)
    st = clfer_set_error(CLFER_INTERNAL, "preprocess_device_upload: pool tensor with offset %zu", tmat.offset);
  if (!st)
    st = clfer_preprocess_device(rt, timg.buf, timg.offset * sizeof(float), n, h, w, c, NULL, tmat.buf, n, p, out);
  clfer_tensor_release(&timg);
  clfer_tensor_release(&tmat);
  return st;
}
