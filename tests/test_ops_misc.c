/* test_ops_misc.c — softmax (forward, stability, backward by finite differences), dropout
 * (Philox known answers, determinism, counters, kept fraction, scaling, backward), add / axpy /
 * scale, and concatenation along dimension 1 with its backward pass; guard zones throughout. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layer_harness.h"
#include "ref_ops.h"
#include "test_util.h"

/* ---- softmax ---- */

typedef struct sm_ctx {
  int rows, K;
} sm_ctx_t;

static void sm_fn(void *ctx, const double *x, double *y) {
  sm_ctx_t *s = ctx;
  refop_softmax(s->rows, s->K, x, y);
}

static void check_softmax(int rows, int K, float lo, float hi, int grad) {
  clfer_runtime_t *rt = test_runtime();
  int shape[2] = {rows, K};
  size_t n = (size_t)rows * K;
  float *x = lh_uniform(n, 81, lo, hi), *r = lh_uniform(n, 82, -1, 1), *y = malloc(n * sizeof *y),
        *dx = malloc(n * sizeof *dx);
  double *xd = lh_to_double(x, n), *rd = lh_to_double(r, n), *yd = malloc(n * sizeof *yd),
         *gd = malloc(n * sizeof *gd);
  lh_tensor_t tx, ty, tdy, tdx;
  lh_make(rt, 2, shape, x, &tx);
  lh_make(rt, 2, shape, NULL, &ty);
  lh_make(rt, 2, shape, r, &tdy);
  lh_make(rt, 2, shape, NULL, &tdx);
  cr_assert_eq(clfer_softmax_forward(rt, &tx.t, &ty.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&ty, y, "softmax y");
  sm_ctx_t ctx = {rows, K};
  sm_fn(&ctx, xd, yd);
  lh_assert_close_d(y, yd, n, 1e-7, 1e-5, "softmax forward");
  cr_assert_eq(clfer_softmax_backward(rt, &ty.t, &tdy.t, &tdx.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&tdx, dx, "softmax dx");
  if (grad) {
    lh_numeric_grad(sm_fn, &ctx, xd, n, rd, n, 1e-4, gd);
    lh_assert_grad(dx, gd, n, 1e-5, 1e-3, "softmax dx vs finite differences");
  } else { /* dx = y ⊙ (dy − Σ dy⊙y) in double */
    for (int i = 0; i < rows; i++) {
      double s = 0;
      for (int j = 0; j < K; j++) s += rd[(size_t)i * K + j] * yd[(size_t)i * K + j];
      for (int j = 0; j < K; j++) gd[(size_t)i * K + j] = yd[(size_t)i * K + j] * (rd[(size_t)i * K + j] - s);
    }
    lh_assert_grad(dx, gd, n, 1e-7, 1e-4, "softmax dx");
  }
  /* in place */
  cr_assert_eq(clfer_softmax_forward(rt, &tx.t, &tx.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&tx, y, "softmax in place");
  lh_assert_close_d(y, yd, n, 1e-7, 1e-5, "softmax forward in place");
  lh_free(&tx), lh_free(&ty), lh_free(&tdy), lh_free(&tdx);
  free(x), free(r), free(y), free(dx), free(xd), free(rd), free(yd), free(gd);
  clfer_runtime_destroy(rt);
}

Test(ops_misc, softmax_7_classes) { check_softmax(5, 7, -3, 3, 1); }
Test(ops_misc, softmax_1_class) { check_softmax(3, 1, -3, 3, 1); }
/* K = 700 > the work-group: strided loops and the tree both matter */
Test(ops_misc, softmax_wide_rows) { check_softmax(3, 700, -5, 5, 0); }
/* logits near ±500: exp would overflow without subtracting the row maximum */
Test(ops_misc, softmax_large_logits_stable) { check_softmax(4, 9, 400, 500, 0); }

Test(ops_misc, softmax_last_dimension_of_4d) {
  clfer_runtime_t *rt = test_runtime();
  int s4[4] = {2, 3, 1, 5};
  float *x = lh_uniform(30, 83, -2, 2), y[30];
  double *xd = lh_to_double(x, 30), yd[30];
  lh_tensor_t tx, ty;
  lh_make(rt, 4, s4, x, &tx);
  lh_make(rt, 4, s4, NULL, &ty);
  cr_assert_eq(clfer_softmax_forward(rt, &tx.t, &ty.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&ty, y, "softmax 4-D");
  refop_softmax(6, 5, xd, yd);
  lh_assert_close_d(y, yd, 30, 1e-7, 1e-5, "softmax over the last dimension of [2,3,1,5]");
  lh_free(&tx), lh_free(&ty);
  free(x), free(xd);
  clfer_runtime_destroy(rt);
}

/* ---- dropout ---- */

Test(ops_misc, philox_reference_known_answers) {
  /* Random123 tests/kat_vectors, philox4x32 10 */
  static const uint32_t kat[3][10] = {
      {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
      {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d, 0x41c83b0e, 0xa20bc7c6,
       0x6d5451fd},
      {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb, 0x5001e420,
       0x24126ea1},
  };
  for (int t = 0; t < 3; t++) {
    uint32_t out[4];
    refop_philox4x32_10(kat[t], kat[t] + 4, out);
    for (int j = 0; j < 4; j++) cr_assert_eq(out[j], kat[t][6 + j], "vector %d word %d: %08x", t, j, out[j]);
  }
}

static void run_dropout(clfer_runtime_t *rt, float p, uint64_t seed, uint64_t counter, const lh_tensor_t *tx,
                        lh_tensor_t *ty, lh_tensor_t *tm, float *y, float *mask) {
  cr_assert_eq(clfer_dropout_forward(rt, p, seed, counter, &tx->t, &ty->t, &tm->t), CLFER_OK, "%s",
               clfer_last_error());
  lh_read(ty, y, "dropout y");
  lh_read(tm, mask, "dropout mask");
}

Test(ops_misc, dropout_mask_is_philox_and_deterministic) {
  clfer_runtime_t *rt = test_runtime();
  int shape[2] = {7, 143}; /* 1001 elements: the last Philox block is partial */
  size_t n = 1001;
  float *x = lh_uniform(n, 91, 0.5f, 1.5f), *y = malloc(n * sizeof *y), *m = malloc(n * sizeof *m),
        *m2 = malloc(n * sizeof *m2);
  double *md = malloc(n * sizeof *md);
  lh_tensor_t tx, ty, tm;
  lh_make(rt, 2, shape, x, &tx);
  lh_make(rt, 2, shape, NULL, &ty);
  lh_make(rt, 2, shape, NULL, &tm);
  const float ps[3] = {0.25f, 0.5f, 0.9f};
  for (int k = 0; k < 3; k++) {
    uint64_t seed = 0x0123456789abcdefull + k, counter = 0xfedcba9876543210ull - k;
    run_dropout(rt, ps[k], seed, counter, &tx, &ty, &tm, y, m);
    refop_dropout_mask(ps[k], seed, counter, n, md);
    for (size_t i = 0; i < n; i++) {
      cr_assert_eq((double)m[i], md[i], "p %g: mask %zu is %g, the host Philox says %g", (double)ps[k], i,
                   (double)m[i], md[i]);
      cr_assert_eq(y[i], x[i] * m[i], "y = x * mask at %zu", i);
    }
    /* same seed and counter → same mask, bit for bit */
    run_dropout(rt, ps[k], seed, counter, &tx, &ty, &tm, y, m2);
    cr_assert(memcmp(m, m2, n * sizeof *m) == 0, "p %g: the mask changed between identical calls", (double)ps[k]);
  }
  /* the element index, not the buffer offset, keys the mask: a view elsewhere gives the same */
  run_dropout(rt, 0.5f, 7, 9, &tx, &ty, &tm, y, m);
  clfer_tensor_t big, view, vy, vm;
  int bs[1] = {(int)n + 100};
  cr_assert_eq(clfer_tensor_create(rt, 1, bs, &big), CLFER_OK);
  cr_assert_eq(clfer_tensor_view(&big, 100, 2, shape, &view), CLFER_OK);
  cr_assert_eq(clfer_tensor_upload(&view, x), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 2, shape, &vy), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 2, shape, &vm), CLFER_OK);
  cr_assert_eq(clfer_dropout_forward(rt, 0.5f, 7, 9, &view, &vy, &vm), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_tensor_download(&vm, m2), CLFER_OK);
  cr_assert(memcmp(m, m2, n * sizeof *m) == 0, "the mask depends on the buffer offset");
  clfer_tensor_release(&big), clfer_tensor_release(&vy), clfer_tensor_release(&vm);
  lh_free(&tx), lh_free(&ty), lh_free(&tm);
  free(x), free(y), free(m), free(m2), free(md);
  clfer_runtime_destroy(rt);
}

Test(ops_misc, dropout_counters_fraction_scale_backward) {
  clfer_runtime_t *rt = test_runtime();
  enum { n = 200000 };
  int shape[1] = {n};
  float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *m = malloc(n * sizeof *m),
        *m2 = malloc(n * sizeof *m2), *dx = malloc(n * sizeof *dx), *r = lh_uniform(n, 93, -1, 1);
  for (size_t i = 0; i < n; i++) x[i] = 1.0f;
  lh_tensor_t tx, ty, tm, tdy, tdx;
  lh_make(rt, 1, shape, x, &tx);
  lh_make(rt, 1, shape, NULL, &ty);
  lh_make(rt, 1, shape, NULL, &tm);
  lh_make(rt, 1, shape, r, &tdy);
  lh_make(rt, 1, shape, NULL, &tdx);
  const float ps[4] = {0.0f, 0.1f, 0.5f, 0.8f};
  for (int k = 0; k < 4; k++) {
    float p = ps[k];
    run_dropout(rt, p, 42, 1, &tx, &ty, &tm, y, m);
    size_t kept = 0;
    float scale = (float)(1.0 / (1.0 - p));
    for (size_t i = 0; i < n; i++) {
      cr_assert(m[i] == 0.0f || m[i] == scale, "p %g: mask value %g is neither 0 nor 1/(1-p)", (double)p,
                (double)m[i]);
      kept += m[i] != 0.0f;
    }
    /* binomial: |kept − n(1−p)| within 5 standard deviations */
    double mean = n * (1.0 - p), sd = sqrt(n * p * (1.0 - p));
    cr_assert(fabs(kept - mean) <= 5 * sd + 0.5, "p %g: kept %zu of %d, expected %.0f ± %.0f", (double)p, kept, n,
              mean, 5 * sd);
    /* E[y] = x: inverted dropout keeps the expectation */
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += y[i];
    cr_assert(fabs(sum / n - 1.0) <= 5 * sd / n * scale + 1e-6, "p %g: mean of y is %g", (double)p, sum / n);
    if (p == 0.0f) cr_assert_eq(kept, (size_t)n, "p = 0 keeps everything");

    /* a different counter (the next step) gives a different mask; so does another seed */
    if (p > 0) {
      run_dropout(rt, p, 42, 2, &tx, &ty, &tm, y, m2);
      size_t diff = 0;
      for (size_t i = 0; i < n; i++) diff += (m[i] != 0) != (m2[i] != 0);
      double expect = 2.0 * n * p * (1 - p); /* independent masks disagree this often */
      cr_assert(fabs(diff - expect) <= 6 * sqrt(expect) + 1, "p %g: masks of counters 1 and 2 differ in %zu places",
                (double)p, diff);
      run_dropout(rt, p, 43, 1, &tx, &ty, &tm, y, m2);
      diff = 0;
      for (size_t i = 0; i < n; i++) diff += (m[i] != 0) != (m2[i] != 0);
      cr_assert(fabs(diff - expect) <= 6 * sqrt(expect) + 1, "p %g: masks of seeds 42 and 43 differ in %zu places",
                (double)p, diff);
      run_dropout(rt, p, 42, 1, &tx, &ty, &tm, y, m); /* restore the first mask */
    }
    /* backward: dx = dy ⊙ mask */
    cr_assert_eq(clfer_dropout_backward(rt, &tdy.t, &tm.t, &tdx.t), CLFER_OK, "%s", clfer_last_error());
    lh_read(&tdx, dx, "dropout dx");
    for (size_t i = 0; i < n; i++) cr_assert_eq(dx[i], r[i] * m[i], "p %g: dx %zu", (double)p, i);
  }
  lh_free(&tx), lh_free(&ty), lh_free(&tm), lh_free(&tdy), lh_free(&tdx);
  free(x), free(y), free(m), free(m2), free(dx), free(r);
  clfer_runtime_destroy(rt);
}

Test(ops_misc, dropout_bad_input_is_reported) {
  clfer_runtime_t *rt = test_runtime();
  int s[1] = {10}, s2[1] = {11};
  clfer_tensor_t a, b;
  cr_assert_eq(clfer_tensor_create(rt, 1, s, &a), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, s2, &b), CLFER_OK);
  cr_assert_eq(clfer_dropout_forward(rt, 1.0f, 1, 1, &a, &a, &a), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "dropout_forward") && strstr(clfer_last_error(), "dropout.c:"), "message: %s",
            clfer_last_error());
  cr_assert_eq(clfer_dropout_forward(rt, -0.1f, 1, 1, &a, &a, &a), CLFER_INVALID_ARGUMENT);
  cr_assert_eq(clfer_dropout_forward(rt, NAN, 1, 1, &a, &a, &a), CLFER_INVALID_ARGUMENT);
  cr_assert_eq(clfer_dropout_forward(rt, 0.5f, 1, 1, &a, &a, &b), CLFER_SHAPE_MISMATCH);
  cr_assert_eq(clfer_dropout_backward(rt, &a, &b, &a), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "dropout_backward"), "message: %s", clfer_last_error());
  clfer_tensor_release(&a), clfer_tensor_release(&b);
  clfer_runtime_destroy(rt);
}

/* ---- add, axpy, scale ---- */

Test(ops_misc, add_axpy_scale) {
  clfer_runtime_t *rt = test_runtime();
  int shape[3] = {3, 5, 7};
  size_t n = 105;
  float *a = lh_uniform(n, 101, -1, 1), *b = lh_uniform(n, 102, -1, 1), *y = malloc(n * sizeof *y);
  double *want = malloc(n * sizeof *want);
  lh_tensor_t ta, tb, ty;
  lh_make(rt, 3, shape, a, &ta);
  lh_make(rt, 3, shape, b, &tb);
  lh_make(rt, 3, shape, NULL, &ty);
  cr_assert_eq(clfer_add(rt, &ta.t, &tb.t, &ty.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&ty, y, "add");
  for (size_t i = 0; i < n; i++) want[i] = (double)a[i] + b[i];
  lh_assert_close_d(y, want, n, 0, 1e-7, "add");
  /* y aliases a: the graph accumulates gradients this way */
  cr_assert_eq(clfer_add(rt, &ta.t, &tb.t, &ta.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&ta, y, "add in place");
  lh_assert_close_d(y, want, n, 0, 1e-7, "add in place (y = a)");
  cr_assert_eq(clfer_add(rt, &tb.t, &tb.t, &tb.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&tb, y, "add b+b");
  for (size_t i = 0; i < n; i++) want[i] = 2.0 * b[i];
  lh_assert_close_d(y, want, n, 0, 1e-7, "add in place (y = a = b)");
  /* tb now holds 2b, ta holds a+b; axpy: tb += -0.5·ta */
  cr_assert_eq(clfer_axpy(rt, -0.5f, &ta.t, &tb.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&tb, y, "axpy");
  for (size_t i = 0; i < n; i++) want[i] = 2.0 * b[i] - 0.5 * ((double)a[i] + b[i]);
  lh_assert_close_d(y, want, n, 1e-7, 1e-6, "axpy");
  cr_assert_eq(clfer_scale(rt, 3.0f, &tb.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&tb, y, "scale");
  for (size_t i = 0; i < n; i++) want[i] *= 3.0;
  lh_assert_close_d(y, want, n, 1e-6, 1e-6, "scale");
  int other[3] = {3, 7, 5};
  clfer_tensor_t t;
  cr_assert_eq(clfer_tensor_create(rt, 3, other, &t), CLFER_OK);
  cr_assert_eq(clfer_add(rt, &ta.t, &t, &ty.t), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "add") && strstr(clfer_last_error(), "[3, 7, 5]") &&
                strstr(clfer_last_error(), "elementwise.c:"),
            "message: %s", clfer_last_error());
  cr_assert_eq(clfer_axpy(rt, 1.0f, &t, &ty.t), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "axpy"), "message: %s", clfer_last_error());
  clfer_tensor_release(&t);
  lh_free(&ta), lh_free(&tb), lh_free(&ty);
  free(a), free(b), free(y), free(want);
  clfer_runtime_destroy(rt);
}

/* ---- concat ---- */

typedef struct cat_ctx {
  int ndim, n_in, shapes[3][4];
  int total; /* channels of the output */
} cat_ctx_t;

/* x = the inputs one after another; y = their concatenation along dimension 1. */
static void cat_fn(void *ctx, const double *x, double *y) {
  cat_ctx_t *c = ctx;
  int N = c->shapes[0][0], inner = 1;
  for (int d = 2; d < c->ndim; d++) inner *= c->shapes[0][d];
  size_t in_off = 0;
  int c_off = 0;
  for (int k = 0; k < c->n_in; k++) {
    int ck = c->shapes[k][1];
    for (int n = 0; n < N; n++)
      for (int j = 0; j < ck * inner; j++)
        y[((size_t)n * c->total + c_off) * inner + j] = x[in_off + (size_t)n * ck * inner + j];
    in_off += (size_t)N * ck * inner;
    c_off += ck;
  }
}

static void check_concat(int ndim, const int *base, const int *channels) {
  clfer_runtime_t *rt = test_runtime();
  cat_ctx_t c = {ndim, 3, {{0}}, 0};
  size_t nx = 0;
  for (int k = 0; k < 3; k++) {
    for (int d = 0; d < ndim; d++) c.shapes[k][d] = base[d];
    c.shapes[k][1] = channels[k];
    c.total += channels[k];
    nx += clfer_shape_numel(ndim, c.shapes[k]);
  }
  int ys[4];
  for (int d = 0; d < ndim; d++) ys[d] = base[d];
  ys[1] = c.total;
  size_t ny = clfer_shape_numel(ndim, ys);
  float *x = lh_uniform(nx, 111, -1, 1), *r = lh_uniform(ny, 112, -1, 1), *y = malloc(ny * sizeof *y),
        *dx = malloc(nx * sizeof *dx);
  double *xd = lh_to_double(x, nx), *rd = lh_to_double(r, ny), *yd = malloc(ny * sizeof *yd),
         *gd = malloc(nx * sizeof *gd);
  lh_tensor_t tin[3], tdx[3], ty, tdy;
  const clfer_tensor_t *xs[3];
  clfer_tensor_t *dxs[3];
  size_t off = 0;
  for (int k = 0; k < 3; k++) {
    lh_make(rt, ndim, c.shapes[k], x + off, &tin[k]);
    lh_make(rt, ndim, c.shapes[k], NULL, &tdx[k]);
    xs[k] = &tin[k].t;
    dxs[k] = &tdx[k].t;
    off += tin[k].n;
  }
  lh_make(rt, ndim, ys, NULL, &ty);
  lh_make(rt, ndim, ys, r, &tdy);
  cr_assert_eq(clfer_concat_forward(rt, 3, xs, &ty.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&ty, y, "concat y");
  cat_fn(&c, xd, yd);
  lh_assert_close_d(y, yd, ny, 0, 0, "concat forward");
  cr_assert_eq(clfer_concat_backward(rt, &tdy.t, 3, dxs), CLFER_OK, "%s", clfer_last_error());
  off = 0;
  for (int k = 0; k < 3; k++) {
    lh_read(&tdx[k], dx + off, "concat dx");
    off += tdx[k].n;
  }
  lh_numeric_grad(cat_fn, &c, xd, nx, rd, ny, 1e-3, gd);
  lh_assert_grad(dx, gd, nx, 1e-6, 1e-5, "concat dx vs finite differences");
  /* a part that does not fit */
  cr_assert_eq(clfer_concat_forward(rt, 2, xs, &ty.t), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "concat_forward") && strstr(clfer_last_error(), "dimension 1"), "message: %s",
            clfer_last_error());
  for (int k = 0; k < 3; k++) lh_free(&tin[k]), lh_free(&tdx[k]);
  lh_free(&ty), lh_free(&tdy);
  free(x), free(r), free(y), free(dx), free(xd), free(rd), free(yd), free(gd);
  clfer_runtime_destroy(rt);
}

Test(ops_misc, concat_4d) {
  int base[4] = {2, 0, 3, 4}, ch[3] = {3, 1, 2};
  check_concat(4, base, ch);
}

Test(ops_misc, concat_2d) {
  int base[2] = {3, 0}, ch[3] = {4, 2, 5};
  check_concat(2, base, ch);
}

Test(ops_misc, concat_bad_input_is_reported) {
  clfer_runtime_t *rt = test_runtime();
  int a[4] = {2, 3, 4, 4}, b[4] = {2, 2, 4, 5}, y[4] = {2, 5, 4, 4};
  clfer_tensor_t ta, tb, ty;
  cr_assert_eq(clfer_tensor_create(rt, 4, a, &ta), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 4, b, &tb), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 4, y, &ty), CLFER_OK);
  const clfer_tensor_t *xs[2] = {&ta, &tb};
  cr_assert_eq(clfer_concat_forward(rt, 2, xs, &ty), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "xs[1] [2, 2, 4, 5]"), "message: %s", clfer_last_error());
  cr_assert_eq(clfer_concat_forward(rt, 0, xs, &ty), CLFER_INVALID_ARGUMENT);
  clfer_tensor_t *dxs[2] = {&ta, NULL};
  cr_assert_eq(clfer_concat_backward(rt, &ty, 2, dxs), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "concat_backward"), "message: %s", clfer_last_error());
  clfer_tensor_release(&ta), clfer_tensor_release(&tb), clfer_tensor_release(&ty);
  clfer_runtime_destroy(rt);
}
