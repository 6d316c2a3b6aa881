/* test_augment.c — pre-processing and augmentation: the plain-C reference on hand-made images
 * (identity resample, flip, histogram equalisation / plane / RMS by hand), the matrix draws, and
 * kernels/augment.cl against the C reference (48→64, rotation, FER+ normalisation, gray→3 with
 * min–max and mean/std, RGB), with guard zones and bad input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clfer/augment.h"
#include "test_util.h"

static void make_image(uint8_t *img, int h, int w, int c, uint64_t seed) {
  /* smooth structure (so resampling matters) plus texture (so every level appears) */
  float *noise = malloc((size_t)h * w * c * sizeof *noise);
  test_fill_uniform(noise, (size_t)h * w * c, seed, 0.0f, 40.0f);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int k = 0; k < c; k++) {
        float v = 110.0f + 60.0f * sinf(0.21f * x + 0.5f * k) * cosf(0.17f * y) + noise[(y * w + x) * c + k];
        img[(y * w + x) * c + k] = (uint8_t)fminf(fmaxf(v, 0.0f), 255.0f);
      }
  free(noise);
}

/* ---- C reference ------------------------------------------------------------------------------ */

Test(augment_ref, identity_matrix_is_exact) {
  enum { H = 7, W = 9 };
  uint8_t img[H * W];
  make_image(img, H, W, 1, 1);
  float m[6] = {1, 0, 0, 0, 1, 0}, out[H * W];
  clfer_resample_affine_u8(img, H, W, 1, 0, m, H, W, out);
  for (int i = 0; i < H * W; i++) cr_assert_eq(out[i], (float)img[i], "pixel %d: %g vs %d", i, out[i], img[i]);
  float r[6];
  clfer_affine_resize(H, W, H, W, r);
  cr_assert(r[0] == 1 && r[1] == 0 && r[2] == 0 && r[3] == 0 && r[4] == 1 && r[5] == 0, "resize to the same size is identity");
}

Test(augment_ref, resize_keeps_corners_and_constant) {
  enum { H = 48, W = 48, O = 64 };
  uint8_t img[H * W];
  make_image(img, H, W, 1, 2);
  float m[6], out[O * O];
  clfer_affine_resize(H, W, O, O, m);
  clfer_resample_affine_u8(img, H, W, 1, 0, m, O, O, out);
  cr_assert_float_eq(out[0], img[0], 1e-4);
  cr_assert_float_eq(out[O - 1], img[W - 1], 1e-3);
  cr_assert_float_eq(out[(O - 1) * O], img[(H - 1) * W], 1e-3);
  cr_assert_float_eq(out[O * O - 1], img[H * W - 1], 1e-3);
  memset(img, 77, sizeof img);
  clfer_resample_affine_u8(img, H, W, 1, 0, m, O, O, out);
  for (int i = 0; i < O * O; i++) cr_assert_float_eq(out[i], 77.0f, 1e-4);
}

Test(augment_ref, reflect_border_is_half_sample_symmetric) {
  uint8_t img[4] = {10, 20, 30, 40}; /* 1×4 */
  /* x = −1 → pixel 0, x = −2 → pixel 1, x = 4 → pixel 3, x = 5 → pixel 2 (scipy 'reflect') */
  cr_assert_float_eq(clfer_sample_bilinear_u8(img, 1, 4, 1, 0, -1.0f, 0.0f), 10.0f, 1e-6);
  cr_assert_float_eq(clfer_sample_bilinear_u8(img, 1, 4, 1, 0, -2.0f, 0.0f), 20.0f, 1e-6);
  cr_assert_float_eq(clfer_sample_bilinear_u8(img, 1, 4, 1, 0, 4.0f, 0.0f), 40.0f, 1e-6);
  cr_assert_float_eq(clfer_sample_bilinear_u8(img, 1, 4, 1, 0, 5.0f, 0.0f), 30.0f, 1e-6);
  cr_assert_float_eq(clfer_sample_bilinear_u8(img, 1, 4, 1, 0, 1.25f, 0.0f), 22.5f, 1e-5);
  cr_assert_float_eq(clfer_sample_bilinear_u8(img, 1, 4, 1, 0, -0.5f, 0.0f), 10.0f, 1e-6);
  /* far outside and non-finite positions stay in bounds */
  float v = clfer_sample_bilinear_u8(img, 1, 4, 1, 0, NAN, 1e30f);
  cr_assert(v >= 10.0f && v <= 40.0f);
}

Test(augment_ref, flip_mirrors_the_output) {
  enum { H = 48, W = 48, O = 64 };
  uint8_t img[H * W];
  make_image(img, H, W, 1, 3);
  float m[6], f[6], a[O * O], b[O * O];
  clfer_affine_resize(H, W, O, O, m);
  memcpy(f, m, sizeof m);
  clfer_affine_flip_output(f, O);
  clfer_resample_affine_u8(img, H, W, 1, 0, m, O, O, a);
  clfer_resample_affine_u8(img, H, W, 1, 0, f, O, O, b);
  for (int y = 0; y < O; y++)
    for (int x = 0; x < O; x++) cr_assert_float_eq(b[y * O + x], a[y * O + (O - 1 - x)], 1e-3, "(%d,%d)", x, y);
}

Test(augment_ref, ferplus_normalize_by_hand) {
  /* 1×4 image 0,0,10,20: cdf·2/4−1 = 0,0,.5,1; plane a = .375, b = 1.75/5 = .35;
   * residual .15,−.2,−.05,.1; RMS sqrt(.075/4) */
  uint8_t img[4] = {0, 0, 10, 20};
  float out[4];
  clfer_ferplus_normalize(img, 1, 4, out);
  double rms = sqrt(0.075 / 4), want[4] = {0.15 / rms, -0.2 / rms, -0.05 / rms, 0.1 / rms};
  for (int i = 0; i < 4; i++) cr_assert_float_eq(out[i], want[i], 1e-5, "pixel %d: %g vs %g", i, out[i], want[i]);
  /* a constant image has nothing left after the plane: zeros, not NaN */
  uint8_t flat[12];
  memset(flat, 99, sizeof flat);
  float z[12];
  clfer_ferplus_normalize(flat, 3, 4, z);
  for (int i = 0; i < 12; i++) cr_assert_eq(z[i], 0.0f);
}

Test(augment_ref, ferplus_normalize_removes_plane_and_scales_rms) {
  enum { H = 64, W = 64 };
  uint8_t img[H * W];
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) img[y * W + x] = (uint8_t)((2 * x + y + (x * y) % 7) & 255); /* strong ramp */
  float out[H * W];
  clfer_ferplus_normalize(img, H, W, out);
  double s0 = 0, sx = 0, sy = 0, ss = 0, xc = (W - 1) / 2.0, yc = (H - 1) / 2.0;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      double v = out[y * W + x];
      s0 += v, sx += (x - xc) * v, sy += (y - yc) * v, ss += v * v;
    }
  cr_assert(fabs(s0 / (H * W)) < 1e-5, "mean %g", s0 / (H * W));
  cr_assert(fabs(sx) < 1e-2 && fabs(sy) < 1e-2, "plane left: %g %g", sx, sy);
  cr_assert(fabs(sqrt(ss / (H * W)) - 1.0) < 1e-5, "RMS %g", sqrt(ss / (H * W)));
}

Test(augment_ref, draws_are_seeded_and_bounded) {
  clfer_augment_config_t cfg = clfer_augment_config_ferplus();
  float a[6], b[6], c[6];
  cr_assert_eq(clfer_augment_draw(&cfg, 48, 48, 64, 64, 7, 123, a), CLFER_OK);
  cr_assert_eq(clfer_augment_draw(&cfg, 48, 48, 64, 64, 7, 123, b), CLFER_OK);
  cr_assert_eq(clfer_augment_draw(&cfg, 48, 48, 64, 64, 7, 124, c), CLFER_OK);
  cr_assert_arr_eq(a, b, sizeof a, "same (seed, stream) → same matrix");
  cr_assert(memcmp(a, c, sizeof a) != 0, "another stream → another matrix");
  /* over many draws: |det| within the scale/skew range of 0.75² × [1/1.05², 1.05²], flips half */
  int flips = 0;
  double s = 47.0 / 63.0;
  for (int i = 0; i < 2000; i++) {
    clfer_augment_draw(&cfg, 48, 48, 64, 64, 9, (uint64_t)i, a);
    double det = (double)a[0] * a[4] - (double)a[1] * a[3];
    flips += det < 0;
    double ad = fabs(det) / (s * s);
    cr_assert(ad > 1 / (1.05 * 1.05) * (1 - 0.0026) - 1e-6 && ad < 1.05 * 1.05 * (1 + 0.0026) + 1e-6, "det %g", ad);
    /* the centre of the output lands within the shift range of the centre of the input */
    double cx = a[0] * 31.5 + a[1] * 31.5 + a[2], cy = a[3] * 31.5 + a[4] * 31.5 + a[5];
    /* |shift| ≤ 0.08·64·√2 and T stretches by at most s·1.05·(1 + 0.05)² */
    cr_assert(hypot(cx - 23.5, cy - 23.5) < 0.08 * 64 * sqrt(2.0) * s * 1.05 * 1.1025 + 1e-3, "centre (%g, %g)", cx, cy);
  }
  cr_assert(flips > 900 && flips < 1100, "%d flips of 2000", flips);
  /* everything off: the draw is the base matrix */
  clfer_augment_config_t off = {0};
  off.max_scale = 1.0f;
  clfer_augment_draw(&off, 48, 48, 64, 64, 1, 5, a);
  clfer_affine_resize(48, 48, 64, 64, b);
  for (int i = 0; i < 6; i++) cr_assert_float_eq(a[i], b[i], 1e-6);
}

Test(augment_ref, rotation_only_is_a_rotation) {
  clfer_augment_config_t cfg = {0};
  cfg.max_scale = 1.0f;
  cfg.max_angle_deg = 20.0f;
  float m[6];
  double s = 47.0 / 63.0;
  for (int i = 0; i < 200; i++) {
    clfer_augment_draw(&cfg, 48, 48, 64, 64, 3, (uint64_t)i, m);
    double cosa = m[0] / s, sina = m[3] / s;
    cr_assert_float_eq(cosa * cosa + sina * sina, 1.0, 1e-5);
    cr_assert(cosa >= cos(20.0 * M_PI / 180.0) - 1e-6, "angle beyond 20 degrees: cos %g", cosa);
    cr_assert_float_eq(m[4], m[0], 1e-6);
    cr_assert_float_eq(m[1], -m[3], 1e-6);
  }
}

Test(augment_ref, crop_family_centre_and_random) {
  clfer_augment_config_t cfg = clfer_augment_config_crop(256, 0, 0);
  float m[6];
  cr_assert_eq(clfer_augment_base_matrix(&cfg, 48, 48, 224, 224, m), CLFER_OK);
  double s = 47.0 / 255.0;
  cr_assert_float_eq(m[0], s, 1e-6);
  cr_assert_float_eq(m[2], 16 * s, 1e-5); /* (256 − 224) / 2 */
  cfg.random_crop = 1;
  for (int i = 0; i < 100; i++) {
    clfer_augment_draw(&cfg, 48, 48, 227, 227, 1, (uint64_t)i, m);
    double ox = m[2] / s;
    cr_assert(ox > -1e-3 && ox < 29 + 1e-3 && fabs(ox - round(ox)) < 1e-3, "crop offset %g", ox);
  }
  cfg.resize = 200;
  cr_assert_eq(clfer_augment_base_matrix(&cfg, 48, 48, 224, 224, m), CLFER_INVALID_ARGUMENT);
}

Test(augment_ref, bad_options_are_refused) {
  clfer_preproc_t p = clfer_preproc_ferplus(64, 64);
  p.minmax_stretch = 1;
  cr_assert_eq(clfer_preproc_check(&p, 1), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "min-max") != NULL, "%s", clfer_last_error());
  p = clfer_preproc_linear(64, 64, 2, 1.0f);
  cr_assert_eq(clfer_preproc_check(&p, 1), CLFER_INVALID_ARGUMENT);
  p = clfer_preproc_linear(64, 64, 1, 1.0f);
  cr_assert_eq(clfer_preproc_check(&p, 3), CLFER_INVALID_ARGUMENT, "3 channels cannot become 1");
  uint8_t img[16] = {0};
  float out[64 * 64], m[6] = {1, 0, NAN, 0, 1, 0};
  cr_assert_eq(clfer_preprocess_host(img, 4, 4, 1, m, &p, out), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "matrix") != NULL, "%s", clfer_last_error());
}

/* ---- OpenCL against the C reference -------------------------------------------------------------- */

typedef struct case_desc {
  const char *name;
  int n, h, w, c;
  clfer_preproc_t p;
  clfer_augment_config_t cfg;
  int augment;
  double atol, rtol;
} case_desc_t;

static void run_case(clfer_runtime_t *rt, const case_desc_t *d) {
  size_t img_bytes = (size_t)d->h * d->w * d->c, per = (size_t)d->p.out_c * d->p.out_h * d->p.out_w;
  size_t total = per * d->n, guard = 97;
  uint8_t *imgs = malloc(img_bytes * d->n);
  float *mats = malloc((size_t)d->n * 6 * sizeof *mats), *want = malloc(total * sizeof *want),
        *got = malloc((total + 2 * guard) * sizeof *got);
  for (int i = 0; i < d->n; i++) {
    make_image(imgs + i * img_bytes, d->h, d->w, d->c, 100 + (uint64_t)i);
    if (d->augment)
      cr_assert_eq(clfer_augment_draw(&d->cfg, d->h, d->w, d->p.out_h, d->p.out_w, 42, (uint64_t)i, mats + 6 * i),
                   CLFER_OK);
    else
      cr_assert_eq(clfer_augment_base_matrix(&d->cfg, d->h, d->w, d->p.out_h, d->p.out_w, mats + 6 * i), CLFER_OK);
    cr_assert_eq(clfer_preprocess_host(imgs + i * img_bytes, d->h, d->w, d->c, mats + 6 * i, &d->p, want + per * i),
                 CLFER_OK, "%s", clfer_last_error());
  }
  /* output as a view inside a larger buffer with sentinels on both sides */
  int base_shape[1] = {(int)(total + 2 * guard)}, shape[4] = {d->n, d->p.out_c, d->p.out_h, d->p.out_w};
  clfer_tensor_t base, out;
  cr_assert_eq(clfer_tensor_create(rt, 1, base_shape, &base), CLFER_OK);
  cr_assert_eq(clfer_tensor_fill(&base, -12345.0f), CLFER_OK);
  cr_assert_eq(clfer_tensor_view(&base, guard, 4, shape, &out), CLFER_OK);
  clfer_status st = clfer_preprocess_device_upload(rt, imgs, d->n, d->h, d->w, d->c, mats, &d->p, &out);
  cr_assert_eq(st, CLFER_OK, "%s: %s", d->name, clfer_last_error());
  cr_assert_eq(clfer_tensor_download(&base, got), CLFER_OK);
  for (size_t i = 0; i < guard; i++) {
    cr_assert_eq(got[i], -12345.0f, "%s: guard before the output written at %zu", d->name, i);
    cr_assert_eq(got[guard + total + i], -12345.0f, "%s: guard after the output written at %zu", d->name, i);
  }
  TEST_ASSERT_CLOSE(got + guard, want, total, d->atol, d->rtol, d->name);
  clfer_tensor_release(&base);
  free(imgs), free(mats), free(want), free(got);
}

Test(augment_cl, identity_resample_is_exact) {
  clfer_runtime_t *rt = test_runtime();
  case_desc_t d = {"identity 48x48", 3, 48, 48, 1, clfer_preproc_linear(48, 48, 1, 1.0f), clfer_augment_config_crop(0, 0, 0), 0, 0, 0};
  run_case(rt, &d);
  clfer_runtime_destroy(rt);
}

Test(augment_cl, resize_48_to_64_linear) {
  clfer_runtime_t *rt = test_runtime();
  clfer_preproc_t p = clfer_preproc_linear(64, 64, 1, 1.0f / 127.5f);
  p.mean[0] = 1.0f; /* [−1, 1] */
  case_desc_t d = {"48->64 [-1,1]", 4, 48, 48, 1, p, clfer_augment_config_crop(0, 0, 0), 0, 1e-5, 1e-5};
  d.cfg.max_scale = 1.0f;
  run_case(rt, &d);
  clfer_runtime_destroy(rt);
}

Test(augment_cl, flip_and_rotation_linear) {
  clfer_runtime_t *rt = test_runtime();
  clfer_preproc_t p = clfer_preproc_linear(64, 64, 1, 1.0f / 127.5f);
  p.mean[0] = 1.0f;
  clfer_augment_config_t cfg = {0};
  cfg.max_scale = 1.0f, cfg.max_angle_deg = 20.0f, cfg.flip = 1;
  case_desc_t d = {"rotation+flip [-1,1]", 8, 48, 48, 1, p, cfg, 1, 1e-5, 1e-5};
  run_case(rt, &d);
  clfer_runtime_destroy(rt);
}

Test(augment_cl, ferplus_augmentation_and_normalisation) {
  clfer_runtime_t *rt = test_runtime();
  case_desc_t d = {"FER+ jitter + normalisation", 16, 48, 48, 1, clfer_preproc_ferplus(64, 64),
                   clfer_augment_config_ferplus(), 1, 1e-4, 1e-4};
  run_case(rt, &d);
  d.name = "FER+ evaluation (no jitter)";
  d.augment = 0;
  run_case(rt, &d);
  clfer_runtime_destroy(rt);
}

Test(augment_cl, gray_to_rgb_minmax_meanstd_crop) {
  clfer_runtime_t *rt = test_runtime();
  clfer_preproc_t p = clfer_preproc_linear(72, 72, 3, 1.0f / 255.0f);
  p.minmax_stretch = 1;
  const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
  memcpy(p.mean, mean, sizeof mean), memcpy(p.std, std, sizeof std);
  case_desc_t d = {"gray->3, min-max, mean/std, random crop 80->72", 3, 48, 48, 1, p,
                   clfer_augment_config_crop(80, 1, 1), 1, 1e-4, 1e-4};
  run_case(rt, &d);
  clfer_runtime_destroy(rt);
}

Test(augment_cl, rgb_input) {
  clfer_runtime_t *rt = test_runtime();
  clfer_preproc_t p = clfer_preproc_ferplus(40, 40);
  p.out_c = 3;
  case_desc_t d = {"RGB, FER+ per channel", 2, 30, 34, 3, p, clfer_augment_config_ferplus(), 1, 1e-4, 1e-4};
  run_case(rt, &d);
  clfer_runtime_destroy(rt);
}

Test(augment_cl, indices_and_bad_index) {
  clfer_runtime_t *rt = test_runtime();
  enum { N = 3, H = 20, W = 20 };
  uint8_t imgs[N * H * W];
  for (int i = 0; i < N; i++) make_image(imgs + i * H * W, H, W, 1, 7 + (uint64_t)i);
  clfer_preproc_t p = clfer_preproc_linear(H, W, 1, 1.0f);
  float mats[3 * 6];
  for (int i = 0; i < 3; i++) clfer_affine_resize(H, W, H, W, mats + 6 * i);
  int idx[3] = {2, 0, 7}; /* the last one is out of range */
  cl_context ctx = clfer_runtime_cl_context(rt);
  cl_int err;
  cl_mem mimg = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof imgs, imgs, &err);
  cl_mem midx = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof idx, idx, &err);
  cl_mem mmat = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof mats, mats, &err);
  cr_assert_eq(err, CL_SUCCESS);
  int shape[4] = {3, 1, H, W};
  clfer_tensor_t out;
  cr_assert_eq(clfer_tensor_create(rt, 4, shape, &out), CLFER_OK);
  cr_assert_eq(clfer_preprocess_device(rt, mimg, 0, N, H, W, 1, midx, mmat, 3, &p, &out), CLFER_OK, "%s",
               clfer_last_error());
  float got[3 * H * W];
  cr_assert_eq(clfer_tensor_download(&out, got), CLFER_OK);
  for (int i = 0; i < H * W; i++) {
    cr_assert_eq(got[i], (float)imgs[2 * H * W + i]);
    cr_assert_eq(got[H * W + i], (float)imgs[i]);
    cr_assert(isnan(got[2 * H * W + i]), "an out-of-range index poisons its plane");
  }
  /* wrong output shape */
  int bad_shape[4] = {3, 1, H, W + 1};
  clfer_tensor_t bad;
  cr_assert_eq(clfer_tensor_create(rt, 4, bad_shape, &bad), CLFER_OK);
  cr_assert_eq(clfer_preprocess_device(rt, mimg, 0, N, H, W, 1, midx, mmat, 3, &p, &bad), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "preprocess_device") != NULL, "%s", clfer_last_error());
  clfer_tensor_release(&bad);
  /* more images than the buffer holds */
  cr_assert_eq(clfer_preprocess_device(rt, mimg, 0, N + 1, H, W, 1, midx, mmat, 3, &p, &out), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "too small") != NULL, "%s", clfer_last_error());
  clfer_tensor_release(&out);
  clReleaseMemObject(mimg), clReleaseMemObject(midx), clReleaseMemObject(mmat);
  clfer_runtime_destroy(rt);
}
