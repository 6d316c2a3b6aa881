/* test_ops_pool.c — max / average / global-average pooling against the double reference with
 * guard zones, backward passes against finite differences (overlapping 3/2 windows in ceil mode,
 * padding, count_include_pad on and off), output sizes against an enumeration of windows, and
 * bad parameters. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layer_harness.h"
#include "ref_ops.h"
#include "test_util.h"

/* ---- output sizes ---- */

Test(ops_pool, out_size_matches_window_enumeration) {
  for (int in = 1; in <= 24; in++)
    for (int k = 1; k <= 5; k++)
      for (int s = 1; s <= 4; s++)
        for (int p = 0; p < k; p++)
          for (int ceil_mode = 0; ceil_mode <= 1; ceil_mode++) {
            if (in + 2 * p < k) {
              cr_assert_eq(clfer_pool2d_out_size(in, k, s, p, ceil_mode), 0);
              continue;
            }
            int got = clfer_pool2d_out_size(in, k, s, p, ceil_mode);
            int want = refop_pool_out(in, k, s, p, ceil_mode);
            cr_assert_eq(got, want, "in %d k %d s %d p %d ceil %d: %d, expected %d", in, k, s, p, ceil_mode, got,
                         want);
            /* the last window starts inside the input or the left padding */
            cr_assert_lt((got - 1) * s - p, in, "in %d k %d s %d p %d ceil %d", in, k, s, p, ceil_mode);
          }
  /* Known sizes: AlexNet 55→27 and 13→6 (3/2), GoogLeNet's Caffe 112→56 (ceil) vs 55 (floor),
   * VGG 64→32, a ceil-mode window that would start in the right padding is dropped (5, k2 s2 p1 → 3). */
  cr_assert_eq(clfer_pool2d_out_size(55, 3, 2, 0, 1), 27);
  cr_assert_eq(clfer_pool2d_out_size(13, 3, 2, 0, 1), 6);
  cr_assert_eq(clfer_pool2d_out_size(112, 3, 2, 0, 1), 56);
  cr_assert_eq(clfer_pool2d_out_size(112, 3, 2, 0, 0), 55);
  cr_assert_eq(clfer_pool2d_out_size(64, 2, 2, 0, 0), 32);
  cr_assert_eq(clfer_pool2d_out_size(5, 2, 2, 1, 1), 3);
  cr_assert_eq(clfer_pool2d_out_size(5, 1, 3, 0, 1), 2);
  cr_assert_eq(clfer_pool2d_out_size(6, 3, 3, 0, 0), 2);
  cr_assert_eq(clfer_pool2d_out_size(6, 4, 0, 0, 0), 1, "stride 0 is the kernel size");
  cr_assert_eq(clfer_pool2d_out_size(6, 3, 2, 3, 1), 0, "pad >= kernel is refused");
  cr_assert_eq(clfer_pool2d_out_size(0, 3, 2, 0, 1), 0);
}

/* ---- 2-D pooling ---- */

typedef struct pool_case {
  const char *name;
  int N, C, H, W;
  clfer_pool2d_params_t p;
} pool_case_t;

static const pool_case_t cases[] = {
    {"3/2 ceil (AlexNet/Caffe), rows round up", 2, 3, 8, 6, {3, 3, 2, 2, 0, 0, 1, 1}},
    {"3/2 floor", 1, 2, 8, 7, {3, 3, 2, 2, 0, 0, 0, 1}},
    {"3/2 pad 1 ceil", 2, 2, 7, 8, {3, 3, 2, 2, 1, 1, 1, 1}},
    {"2/2 (VGG)", 2, 2, 6, 6, {2, 2, 0, 0, 0, 0, 0, 1}},
    {"2/2, rows of 4 windows and a last one", 2, 3, 10, 11, {2, 2, 2, 2, 0, 0, 0, 1}},
    {"2/2 ceil, odd size: the last window partly outside", 1, 2, 9, 9, {2, 2, 2, 2, 0, 0, 1, 1}},
    {"3/1 pad 1", 1, 2, 5, 5, {3, 3, 1, 1, 1, 1, 0, 1}},
    {"2/2 pad 1 ceil, window in right padding dropped", 1, 2, 5, 5, {2, 2, 2, 2, 1, 1, 1, 1}},
    {"3x2 kernel, 2x1 stride, pad 1x0, ceil", 1, 2, 7, 6, {3, 2, 2, 1, 1, 0, 1, 1}},
    /* wide enough for the CPU form's four windows at a time, with border windows both sides */
    {"3/2 pad 1 (ResNet), wide rows", 1, 2, 7, 29, {3, 3, 2, 2, 1, 1, 0, 1}},
    {"3/2 ceil, wide rows", 1, 2, 5, 24, {3, 3, 2, 2, 0, 0, 1, 1}},
    {"3x2 kernel, 1x3 stride, wide rows", 1, 1, 5, 31, {3, 2, 1, 3, 0, 1, 0, 1}},
};

typedef struct pool_ctx {
  const pool_case_t *c;
  int avg;
} pool_ctx_t;

static void pool_fn(void *ctx, const double *x, double *y) {
  pool_ctx_t *pc = ctx;
  const pool_case_t *c = pc->c;
  if (pc->avg)
    refop_avgpool2d(&c->p, c->N, c->C, c->H, c->W, x, y);
  else
    refop_maxpool2d(&c->p, c->N, c->C, c->H, c->W, x, y, NULL);
}

/* Distinct values, at least 0.05 apart, so each window's argmax is unique and stays so under
 * the finite-difference step. */
static float *distinct_values(size_t n, unsigned seed) {
  float *x = malloc(n * sizeof *x);
  size_t *perm = malloc(n * sizeof *perm);
  cr_assert(x && perm);
  for (size_t i = 0; i < n; i++) perm[i] = i;
  unsigned long long s = seed * 2654435761ull + 1;
  for (size_t i = n; i > 1; i--) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    size_t j = (size_t)((s >> 33) % i);
    size_t t = perm[i - 1];
    perm[i - 1] = perm[j];
    perm[j] = t;
  }
  for (size_t i = 0; i < n; i++) x[i] = 0.05f * (float)perm[i] - 0.025f * (float)n;
  free(perm);
  return x;
}

static void check_pool(const pool_case_t *c, int avg, int count_include_pad) {
  clfer_runtime_t *rt = test_runtime();
  pool_case_t cc = *c;
  cc.p.count_include_pad = count_include_pad;
  int sh = cc.p.stride_h ? cc.p.stride_h : cc.p.kernel_h, sw = cc.p.stride_w ? cc.p.stride_w : cc.p.kernel_w;
  int OH = refop_pool_out(c->H, c->p.kernel_h, sh, c->p.pad_h, c->p.ceil_mode);
  int OW = refop_pool_out(c->W, c->p.kernel_w, sw, c->p.pad_w, c->p.ceil_mode);
  int xs[4] = {c->N, c->C, c->H, c->W}, ys[4] = {c->N, c->C, OH, OW};
  size_t nx = clfer_shape_numel(4, xs), ny = clfer_shape_numel(4, ys);
  float *x = avg ? lh_uniform(nx, 21, -1.0f, 1.0f) : distinct_values(nx, 5);
  float *r = lh_uniform(ny, 22, -1.0f, 1.0f), *y = malloc(ny * sizeof *y), *am = malloc(ny * sizeof *am),
        *dx = malloc(nx * sizeof *dx);
  double *xd = lh_to_double(x, nx), *rd = lh_to_double(r, ny), *yd = malloc(ny * sizeof *yd),
         *gd = malloc(nx * sizeof *gd);
  int *amd = malloc(ny * sizeof *amd);
  lh_tensor_t tx, ty, tam, tdy, tdx;
  lh_make(rt, 4, xs, x, &tx);
  lh_make(rt, 4, ys, NULL, &ty);
  lh_make(rt, 4, ys, NULL, &tam);
  lh_make(rt, 4, ys, r, &tdy);
  lh_make(rt, 4, xs, NULL, &tdx);
  char what[160];
  snprintf(what, sizeof what, "%s pool %s%s", avg ? "avg" : "max", c->name,
           avg ? (count_include_pad ? " (count pad)" : " (exclude pad)") : "");

  if (avg) {
    cr_assert_eq(clfer_avgpool2d_forward(rt, &cc.p, &tx.t, &ty.t), CLFER_OK, "%s: %s", what, clfer_last_error());
    refop_avgpool2d(&cc.p, c->N, c->C, c->H, c->W, xd, yd);
  } else {
    cr_assert_eq(clfer_maxpool2d_forward(rt, &cc.p, &tx.t, &ty.t, &tam.t), CLFER_OK, "%s: %s", what,
                 clfer_last_error());
    refop_maxpool2d(&cc.p, c->N, c->C, c->H, c->W, xd, yd, amd);
    lh_read(&tam, am, what);
    for (size_t i = 0; i < ny; i++) cr_assert_eq((int)am[i], amd[i], "%s: argmax %zu is %g, expected %d", what, i, (double)am[i], amd[i]);
  }
  lh_read(&ty, y, what);
  lh_assert_close_d(y, yd, ny, 1e-6, 1e-5, what);

  if (avg)
    cr_assert_eq(clfer_avgpool2d_backward(rt, &cc.p, &tdy.t, &tdx.t), CLFER_OK, "%s: %s", what, clfer_last_error());
  else
    cr_assert_eq(clfer_maxpool2d_backward(rt, &cc.p, &tdy.t, &tam.t, &tdx.t), CLFER_OK, "%s: %s", what,
                 clfer_last_error());
  lh_read(&tdx, dx, what);
  if (!avg) { /* the GPUs' gather against the CPUs' per-plane scatter: the same sums to the bit */
    const char *was = getenv("CLFER_GPU_PATHS");
    char saved[16] = "";
    if (was) snprintf(saved, sizeof saved, "%s", was);
    test_setenv(rt, "CLFER_GPU_PATHS", "1");
    float *dx_gpu = malloc(nx * sizeof *dx_gpu);
    cr_assert_eq(clfer_maxpool2d_backward(rt, &cc.p, &tdy.t, &tam.t, &tdx.t), CLFER_OK, "%s", clfer_last_error());
    lh_read(&tdx, dx_gpu, what);
    test_setenv(rt, "CLFER_GPU_PATHS", was ? saved : NULL);
    cr_assert(memcmp(dx, dx_gpu, nx * sizeof *dx) == 0, "%s: the GPU form's gradient differs", what);
    free(dx_gpu);
  }
  pool_ctx_t ctx = {&cc, avg};
  lh_numeric_grad(pool_fn, &ctx, xd, nx, rd, ny, 1e-3, gd);
  lh_assert_grad(dx, gd, nx, 1e-5, 1e-4, what);

  /* eval-mode max pool: no argmax requested */
  if (!avg) {
    cr_assert_eq(clfer_maxpool2d_forward(rt, &cc.p, &tx.t, &ty.t, NULL), CLFER_OK, "%s", clfer_last_error());
    lh_read(&ty, y, what);
    lh_assert_close_d(y, yd, ny, 1e-6, 1e-5, what);
  }
  lh_free(&tx), lh_free(&ty), lh_free(&tam), lh_free(&tdy), lh_free(&tdx);
  free(x), free(r), free(y), free(am), free(dx), free(xd), free(rd), free(yd), free(gd), free(amd);
  clfer_runtime_destroy(rt);
}

Test(ops_pool, maxpool_forward_backward) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_pool(&cases[i], 0, 1);
}

Test(ops_pool, avgpool_count_include_pad) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_pool(&cases[i], 1, 1);
}

Test(ops_pool, avgpool_exclude_pad) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_pool(&cases[i], 1, 0);
}

/* 2×2 stride-2 max pooling of one [1, 1, 2, 2·windows] input: y and the argmax of each window. */
static void maxpool_2x2_row(const float *x, int windows, float *y, float *am) {
  clfer_runtime_t *rt = test_runtime();
  clfer_pool2d_params_t p = {2, 2, 2, 2, 0, 0, 0, 1};
  int xs[4] = {1, 1, 2, 2 * windows}, ys[4] = {1, 1, 1, windows};
  lh_tensor_t tx, ty, tam;
  lh_make(rt, 4, xs, x, &tx);
  lh_make(rt, 4, ys, NULL, &ty);
  lh_make(rt, 4, ys, NULL, &tam);
  cr_assert_eq(clfer_maxpool2d_forward(rt, &p, &tx.t, &ty.t, &tam.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&ty, y, "max pool");
  lh_read(&tam, am, "max pool argmax");
  lh_free(&tx), lh_free(&ty), lh_free(&tam);
  clfer_runtime_destroy(rt);
}

Test(ops_pool, maxpool_ties_and_nan) {
  /* equal values: the first in the window wins (PyTorch, Caffe); a NaN propagates */
  float x[8] = {1, 3, 5, NAN, 3, 2, 5, 0}, y[2], am[2];
  maxpool_2x2_row(x, 2, y, am);
  cr_assert_eq(y[0], 3.0f);
  cr_assert_eq(am[0], 1.0f, "first of the tied maxima (index 1, not 4)");
  cr_assert(isnan(y[1]), "NaN propagates, got %g", (double)y[1]);
  cr_assert_eq(am[1], 3.0f);
}

/* The same rules where the CPU form takes four windows at once: a row of eight 2×2 windows (top
 * row, bottom row), each with its expected value and flat argmax. */
Test(ops_pool, maxpool_ties_and_nan_in_rows_of_windows) {
  const float inf = INFINITY;
  /* windows: tie top/bottom; tie in the top row; NaN second; NaN first then a larger value; NaN
   * last; all -inf; bottom-right largest; two NaNs (the first wins) */
  float x[32] = {2, 1, 1, 5, 7, NAN, NAN, 1, 0, 1, -inf, -inf, 1, 2, NAN, 3,
                 2, 0, 5, 0, 9, 0, 9, 0, 0, NAN, -inf, -inf, 3, 4, NAN, 0};
  const float want[8] = {2, 5, NAN, NAN, NAN, -inf, 4, NAN};
  const int want_am[8] = {0, 3, 5, 6, 25, 10, 29, 14};
  float y[8], am[8];
  maxpool_2x2_row(x, 8, y, am);
  for (int i = 0; i < 8; i++) {
    if (isnan(want[i]))
      cr_assert(isnan(y[i]), "window %d: NaN propagates, got %g", i, (double)y[i]);
    else
      cr_assert_eq(y[i], want[i], "window %d: %g, expected %g", i, (double)y[i], (double)want[i]);
    cr_assert_eq((int)am[i], want_am[i], "window %d: argmax %g, expected %d", i, (double)am[i], want_am[i]);
  }
}

/* maxpool2d_forward under CLFER_GPU_PATHS = gpu (0 or 1) of one [1, 1, h, w] input. */
static void maxpool_on_path(const clfer_pool2d_params_t *p, const float *x, int h, int w, int gpu, float *y, float *am,
                            int *oh, int *ow) {
  clfer_runtime_t *rt = test_runtime();
  *oh = clfer_pool2d_out_size(h, p->kernel_h, p->stride_h, p->pad_h, p->ceil_mode);
  *ow = clfer_pool2d_out_size(w, p->kernel_w, p->stride_w, p->pad_w, p->ceil_mode);
  int xs[4] = {1, 1, h, w}, ys[4] = {1, 1, *oh, *ow};
  lh_tensor_t tx, ty, tam;
  lh_make(rt, 4, xs, x, &tx);
  lh_make(rt, 4, ys, NULL, &ty);
  lh_make(rt, 4, ys, NULL, &tam);
  const char *was = getenv("CLFER_GPU_PATHS");
  char saved[16] = "";
  if (was) snprintf(saved, sizeof saved, "%s", was);
  test_setenv(rt, "CLFER_GPU_PATHS", gpu ? "1" : "0");
  cr_assert_eq(clfer_maxpool2d_forward(rt, p, &tx.t, &ty.t, &tam.t), CLFER_OK, "%s", clfer_last_error());
  test_setenv(rt, "CLFER_GPU_PATHS", was ? saved : NULL);
  lh_read(&ty, y, "max pool");
  lh_read(&tam, am, "max pool argmax");
  lh_free(&tx), lh_free(&ty), lh_free(&tam);
  clfer_runtime_destroy(rt);
}

/* The CPU rows form of general windows (four at a time inside the rows, one at a time at the
 * borders) keeps the per-window form's rules to the bit: ties, NaNs anywhere, all -inf. */
Test(ops_pool, maxpool_rows_of_3x3_windows_keep_ties_and_nan) {
  enum { H = 5, W = 23 };
  const float inf = INFINITY;
  float x[H * W];
  for (int i = 0; i < H * W; i++) x[i] = (float)((i * 7) % 5); /* many ties */
  const int nans[] = {3, 30, 31, 52, 77, 100, 114};
  for (size_t i = 0; i < sizeof nans / sizeof nans[0]; i++) x[nans[i]] = NAN;
  for (int i = 8; i < 11; i++) x[i] = x[W + i] = x[2 * W + i] = -inf; /* a window of -inf only */
  const clfer_pool2d_params_t ps[] = {{3, 3, 2, 2, 0, 0, 0, 1}, {3, 3, 2, 2, 1, 1, 1, 1}, {2, 3, 1, 2, 0, 1, 0, 1}};
  for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
    float y[2][H * W], am[2][H * W];
    int oh, ow;
    maxpool_on_path(&ps[k], x, H, W, 0, y[0], am[0], &oh, &ow);
    maxpool_on_path(&ps[k], x, H, W, 1, y[1], am[1], &oh, &ow);
    for (int i = 0; i < oh * ow; i++) {
      cr_assert(memcmp(&y[0][i], &y[1][i], sizeof(float)) == 0 || (isnan(y[0][i]) && isnan(y[1][i])),
                "params %zu, window %d: %g against %g", k, i, (double)y[0][i], (double)y[1][i]);
      cr_assert_eq(am[0][i], am[1][i], "params %zu, window %d: argmax %g against %g", k, i, (double)am[0][i],
                   (double)am[1][i]);
    }
  }
}

/* clfer_maxpool2d_backward_through_relu against clfer_relu_backward (at x, as the ReLU's output) of
 * clfer_maxpool2d_backward, on every case, slopes 0 and 0.25, the CPU per-plane form and the GPU
 * gather and scatter forms: equal as numbers where windows do not overlap (a masked zero may come
 * out +0 where the two passes give −0); where they do, within rounding (a leaky slope multiplies
 * each window's share instead of their sum). Half of x is negative, so the mask matters. A bad
 * slope is an error. */
Test(ops_pool, maxpool_backward_through_relu_equals_backward_then_relu_backward) {
  clfer_runtime_t *rt = test_runtime();
  const float slopes[] = {0.0f, 0.25f};
  for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
    const pool_case_t *c = &cases[ci];
    int sh = c->p.stride_h ? c->p.stride_h : c->p.kernel_h, sw = c->p.stride_w ? c->p.stride_w : c->p.kernel_w;
    int overlap = sh < c->p.kernel_h || sw < c->p.kernel_w;
    int OH = refop_pool_out(c->H, c->p.kernel_h, sh, c->p.pad_h, c->p.ceil_mode);
    int OW = refop_pool_out(c->W, c->p.kernel_w, sw, c->p.pad_w, c->p.ceil_mode);
    int xs[4] = {c->N, c->C, c->H, c->W}, ys[4] = {c->N, c->C, OH, OW};
    size_t nx = clfer_shape_numel(4, xs), ny = clfer_shape_numel(4, ys);
    float *x = distinct_values(nx, 7), *r = lh_uniform(ny, 23, -1.0f, 1.0f);
    float *want = malloc(nx * sizeof *want), *got = malloc(nx * sizeof *got);
    lh_tensor_t tx, ty, tam, tdy, tdx, tr;
    lh_make(rt, 4, xs, x, &tx), lh_make(rt, 4, ys, NULL, &ty), lh_make(rt, 4, ys, NULL, &tam);
    lh_make(rt, 4, ys, r, &tdy), lh_make(rt, 4, xs, NULL, &tdx), lh_make(rt, 4, xs, NULL, &tr);
    cr_assert_eq(clfer_maxpool2d_forward(rt, &c->p, &tx.t, &ty.t, &tam.t), CLFER_OK, "%s", clfer_last_error());
    for (int form = 0; form < 2; form++) {
      if (form) test_setenv(rt, "CLFER_GPU_PATHS", "1");
      for (int si = 0; si < 2; si++) {
        char what[160];
        snprintf(what, sizeof what, "%s, %s forms, slope %g", c->name, form ? "GPU" : "device", (double)slopes[si]);
        cr_assert_eq(clfer_maxpool2d_backward(rt, &c->p, &tdy.t, &tam.t, &tdx.t), CLFER_OK, "%s", clfer_last_error());
        cr_assert_eq(clfer_relu_backward(rt, slopes[si], &tx.t, &tdx.t, &tr.t), CLFER_OK, "%s", clfer_last_error());
        lh_read(&tr, want, what);
        cr_assert_eq(clfer_maxpool2d_backward_through_relu(rt, &c->p, slopes[si], &ty.t, &tdy.t, &tam.t, &tdx.t),
                     CLFER_OK, "%s: %s", what, clfer_last_error());
        lh_read(&tdx, got, what);
        for (size_t i = 0; i < nx; i++)
          cr_assert(overlap ? fabsf(got[i] - want[i]) <= 1e-6f * (1.0f + fabsf(want[i])) : got[i] == want[i],
                    "%s: element %zu is %g, pool then ReLU backward gives %g", what, i, (double)got[i],
                    (double)want[i]);
      }
      if (form) test_setenv(rt, "CLFER_GPU_PATHS", NULL);
    }
    cr_assert_eq(clfer_maxpool2d_backward_through_relu(rt, &c->p, NAN, &ty.t, &tdy.t, &tam.t, &tdx.t),
                 CLFER_INVALID_ARGUMENT);
    cr_assert(strstr(clfer_last_error(), "slope") != NULL, "%s", clfer_last_error());
    lh_free(&tx), lh_free(&ty), lh_free(&tam), lh_free(&tdy), lh_free(&tdx), lh_free(&tr);
    free(x), free(r), free(want), free(got);
  }
  clfer_runtime_destroy(rt);
}

/* ---- global average pooling ---- */

typedef struct gap_ctx {
  int N, C, HW;
} gap_ctx_t;

static void gap_fn(void *ctx, const double *x, double *y) {
  gap_ctx_t *g = ctx;
  refop_global_avgpool(g->N, g->C, g->HW, x, y);
}

static void check_gap(int N, int C, int H, int W, int y_2d, int grad) {
  clfer_runtime_t *rt = test_runtime();
  int xs[4] = {N, C, H, W}, ys[4] = {N, C, 1, 1};
  size_t nx = clfer_shape_numel(4, xs), ny = (size_t)N * C;
  float *x = lh_uniform(nx, 31, -1.0f, 1.0f), *r = lh_uniform(ny, 32, -1.0f, 1.0f), *y = malloc(ny * sizeof *y),
        *dx = malloc(nx * sizeof *dx);
  double *xd = lh_to_double(x, nx), *rd = lh_to_double(r, ny), *yd = malloc(ny * sizeof *yd),
         *gd = malloc(nx * sizeof *gd);
  lh_tensor_t tx, ty, tdy, tdx;
  lh_make(rt, 4, xs, x, &tx);
  lh_make(rt, y_2d ? 2 : 4, ys, NULL, &ty);
  lh_make(rt, y_2d ? 2 : 4, ys, r, &tdy);
  lh_make(rt, 4, xs, NULL, &tdx);
  cr_assert_eq(clfer_global_avgpool_forward(rt, &tx.t, &ty.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&ty, y, "global avgpool y");
  gap_ctx_t g = {N, C, H * W};
  gap_fn(&g, xd, yd);
  lh_assert_close_d(y, yd, ny, 1e-6, 1e-5, "global avgpool forward");
  cr_assert_eq(clfer_global_avgpool_backward(rt, &tdy.t, &tdx.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&tdx, dx, "global avgpool dx");
  if (grad) {
    lh_numeric_grad(gap_fn, &g, xd, nx, rd, ny, 1e-3, gd);
    lh_assert_grad(dx, gd, nx, 1e-6, 1e-4, "global avgpool dx vs finite differences");
  } else { /* analytic: dx = dy / HW */
    for (size_t i = 0; i < nx; i++) gd[i] = rd[i / (size_t)(H * W)] / (H * W);
    lh_assert_grad(dx, gd, nx, 1e-7, 1e-5, "global avgpool dx");
  }
  lh_free(&tx), lh_free(&ty), lh_free(&tdy), lh_free(&tdx);
  free(x), free(r), free(y), free(dx), free(xd), free(rd), free(yd), free(gd);
  clfer_runtime_destroy(rt);
}

Test(ops_pool, global_avgpool_small) { check_gap(2, 3, 4, 5, 0, 1); }
Test(ops_pool, global_avgpool_2d_output) { check_gap(2, 2, 3, 3, 1, 1); }
/* 37×41 planes: more elements than the work-group, so the strided partial sums and the tree both
 * matter. */
Test(ops_pool, global_avgpool_large_plane) { check_gap(2, 3, 37, 41, 0, 0); }

/* ---- bad input ---- */

Test(ops_pool, bad_input_is_reported) {
  clfer_runtime_t *rt = test_runtime();
  int xs[4] = {1, 2, 8, 8}, ys[4] = {1, 2, 3, 3}, bad[4] = {1, 2, 4, 4}, x3[3] = {2, 8, 8};
  clfer_tensor_t x, y, yb, am, x3t;
  cr_assert_eq(clfer_tensor_create(rt, 4, xs, &x), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 4, ys, &y), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 4, ys, &am), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 4, bad, &yb), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 3, x3, &x3t), CLFER_OK);
  clfer_pool2d_params_t p = {3, 3, 2, 2, 0, 0, 0, 1}; /* 8 → 3 */
  cr_assert_eq(clfer_maxpool2d_forward(rt, &p, &x, &y, &am), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_maxpool2d_forward(rt, &p, &x, &yb, NULL), CLFER_SHAPE_MISMATCH);
  const char *msg = clfer_last_error();
  cr_assert(strstr(msg, "maxpool2d_forward") && strstr(msg, "pool.c:") && strstr(msg, "[1, 2, 4, 4]") &&
                strstr(msg, "[1, 2, 8, 8]"),
            "message: %s", msg);
  cr_assert_eq(clfer_avgpool2d_forward(rt, &p, &x3t, &y), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "avgpool2d_forward"), "message: %s", clfer_last_error());
  cr_assert_eq(clfer_maxpool2d_backward(rt, &p, &y, NULL, &x), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "argmax"), "message: %s", clfer_last_error());
  cr_assert_eq(clfer_maxpool2d_backward(rt, &p, &y, &yb, &x), CLFER_SHAPE_MISMATCH);
  clfer_pool2d_params_t bad_pad = {2, 2, 2, 2, 2, 2, 0, 1};
  cr_assert_eq(clfer_avgpool2d_forward(rt, &bad_pad, &x, &y), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "pad"), "message: %s", clfer_last_error());
  clfer_pool2d_params_t zero_k = {0, 3, 1, 1, 0, 0, 0, 1};
  cr_assert_eq(clfer_maxpool2d_forward(rt, &zero_k, &x, &y, NULL), CLFER_INVALID_ARGUMENT);
  clfer_pool2d_params_t too_big = {9, 9, 1, 1, 0, 0, 0, 1};
  cr_assert_eq(clfer_maxpool2d_forward(rt, &too_big, &x, &y, NULL), CLFER_SHAPE_MISMATCH);
  cr_assert_eq(clfer_maxpool2d_forward(rt, NULL, &x, &y, NULL), CLFER_INVALID_ARGUMENT);
  cr_assert_eq(clfer_global_avgpool_forward(rt, &x, &y), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "global_avgpool_forward"), "message: %s", clfer_last_error());
  clfer_tensor_release(&x), clfer_tensor_release(&y), clfer_tensor_release(&yb), clfer_tensor_release(&am);
  clfer_tensor_release(&x3t);
  clfer_runtime_destroy(rt);
}
