/* test_loss.c — every loss of clfer/loss.h against the double references in tests/common/ref_loss.c:
 * values, gradients against central finite differences through the reference, accumulation and
 * weights, guard zones around every output (inputs and outputs are views at an offset into a larger
 * buffer), the combined objective, and bad input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "ref_loss.h"
#include "test_util.h"

#define GUARD 37
#define SENTINEL 4242.5f

/* A tensor view at offset GUARD into a buffer GUARD elements longer on both sides. */
typedef struct guarded {
  clfer_tensor_t base, view;
  size_t n;
} guarded_t;

static void g_make(clfer_runtime_t *rt, int ndim, const int *shape, const float *data, guarded_t *g) {
  g->n = clfer_shape_numel(ndim, shape);
  int total[1] = {(int)(g->n + 2 * GUARD)};
  cr_assert_eq(clfer_tensor_create(rt, 1, total, &g->base), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_tensor_fill(&g->base, SENTINEL), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_tensor_view(&g->base, GUARD, ndim, shape, &g->view), CLFER_OK, "%s", clfer_last_error());
  if (data) cr_assert_eq(clfer_tensor_upload(&g->view, data), CLFER_OK, "%s", clfer_last_error());
}

/* Downloads the view into out (may be NULL) and asserts the guard zones are untouched. */
static void g_read(guarded_t *g, float *out, const char *what) {
  size_t total = g->n + 2 * GUARD;
  float *all = malloc(total * sizeof *all);
  cr_assert_eq(clfer_tensor_download(&g->base, all), CLFER_OK, "%s", clfer_last_error());
  for (size_t i = 0; i < GUARD; i++) {
    cr_assert_eq(all[i], SENTINEL, "%s: guard before the tensor overwritten at %zu", what, i);
    cr_assert_eq(all[GUARD + g->n + i], SENTINEL, "%s: guard after the tensor overwritten at %zu", what, i);
  }
  if (out) memcpy(out, all + GUARD, g->n * sizeof *out);
  free(all);
}

static void g_free(guarded_t *g) { clfer_tensor_release(&g->base); }

static double *to_double(const float *x, size_t n) {
  double *d = malloc(n * sizeof *d);
  for (size_t i = 0; i < n; i++) d[i] = x[i];
  return d;
}

static float *to_float(const double *x, size_t n) {
  float *f = malloc(n * sizeof *f);
  for (size_t i = 0; i < n; i++) f[i] = (float)x[i];
  return f;
}

static float *labels_f(const int *y, int n) {
  float *f = malloc((size_t)n * sizeof *f);
  for (int i = 0; i < n; i++) f[i] = (float)y[i];
  return f;
}

static void assert_grad(const float *got, const double *numeric, size_t n, double atol, double rtol, const char *what) {
  size_t worst;
  double r = gradcheck_compare(got, numeric, n, atol, rtol, &worst);
  cr_assert(r <= 1.0, "%s: element %zu is %g, finite differences give %g (ratio %g)", what, worst, (double)got[worst],
            numeric[worst], r);
}

static void assert_value(float got, double want, double rtol, const char *what) {
  cr_assert(fabs(got - want) <= 1e-5 + rtol * fabs(want), "%s: value %.8g, reference %.8g", what, (double)got, want);
}

/* ---- cross-entropy and multi-label ---- */

typedef struct softmax_ctx {
  const double *t;
  int N, K, multilabel;
} softmax_ctx_t;

static double softmax_fn(void *ctx, const double *z, size_t n) {
  softmax_ctx_t *c = ctx;
  (void)n;
  return c->multilabel ? ref_multilabel(z, c->t, c->N, c->K, NULL) : ref_xent(z, c->t, c->N, c->K, NULL);
}

/* Runs the loss on random logits and the given targets and checks value, gradient and guards. */
static void check_softmax_loss(int N, int K, const float *t, int multilabel, uint64_t seed) {
  clfer_runtime_t *rt = test_runtime();
  size_t nk = (size_t)N * K;
  float *z = malloc(nk * sizeof *z), *grad = malloc(nk * sizeof *grad);
  test_fill_uniform(z, nk, seed, -3.0f, 3.0f);
  int shape[2] = {N, K};
  guarded_t gz, gt, gg, gv;
  g_make(rt, 2, shape, z, &gz);
  g_make(rt, 2, shape, t, &gt);
  g_make(rt, 2, shape, NULL, &gg);
  int one[1] = {1};
  g_make(rt, 1, one, NULL, &gv);

  float value = -1;
  clfer_status st = multilabel ? clfer_loss_multilabel(rt, &gz.view, &gt.view, &gg.view, &value)
                               : clfer_loss_xent(rt, &gz.view, &gt.view, &gg.view, &value);
  cr_assert_eq(st, CLFER_OK, "%s", clfer_last_error());
  g_read(&gg, grad, "gradient");
  double *zd = to_double(z, nk), *td = to_double(t, nk), *num = malloc(nk * sizeof *num);
  double want = multilabel ? ref_multilabel(zd, td, N, K, NULL) : ref_xent(zd, td, N, K, NULL);
  assert_value(value, want, 1e-5, multilabel ? "multi-label" : "xent");
  softmax_ctx_t ctx = {td, N, K, multilabel};
  gradcheck_numeric(softmax_fn, &ctx, zd, nk, 1e-5, num);
  assert_grad(grad, num, nk, 2e-6, 1e-3, multilabel ? "multi-label gradient" : "xent gradient");

  /* the device-value form, weighted and accumulated onto earlier contents */
  float pre = 1.25f, acc_grad[1];
  cr_assert_eq(clfer_tensor_fill(&gv.view, pre), CLFER_OK);
  cr_assert_eq(clfer_tensor_fill(&gg.view, 0.5f), CLFER_OK);
  clfer_loss_out_t out = {
      .grad = &gg.view, .value = &gv.view, .weight = 0.3f, .accumulate_grad = 1, .accumulate_value = 1};
  st = multilabel ? clfer_loss_multilabel_ex(rt, &gz.view, &gt.view, &out)
                  : clfer_loss_xent_ex(rt, &gz.view, &gt.view, &out);
  cr_assert_eq(st, CLFER_OK, "%s", clfer_last_error());
  float *grad2 = malloc(nk * sizeof *grad2), *expect = malloc(nk * sizeof *expect);
  g_read(&gg, grad2, "accumulated gradient");
  g_read(&gv, acc_grad, "value");
  for (size_t i = 0; i < nk; i++) expect[i] = 0.5f + 0.3f * grad[i];
  TEST_ASSERT_CLOSE(grad2, expect, nk, 1e-6, 1e-5, "weighted, accumulated gradient");
  assert_value(acc_grad[0], pre + 0.3 * want, 1e-5, "weighted, accumulated value");

  free(z), free(grad), free(grad2), free(expect), free(zd), free(td), free(num);
  g_free(&gz), g_free(&gt), g_free(&gg), g_free(&gv);
  clfer_runtime_destroy(rt);
}

Test(loss, xent_one_hot) {
  enum { N = 6, K = 7 };
  float t[N * K] = {0};
  for (int n = 0; n < N; n++) t[n * K + (n * 3) % K] = 1.0f;
  check_softmax_loss(N, K, t, 0, 11);
}

Test(loss, xent_soft_targets_many_classes) {
  /* K > the work-group width, and targets that do not sum to 1 (grad = Σt·q − t) */
  enum { N = 5, K = 150 };
  float *t = malloc(N * K * sizeof *t);
  test_fill_uniform(t, N * K, 5, 0.0f, 0.02f);
  check_softmax_loss(N, K, t, 0, 12);
  free(t);
}

Test(loss, xent_distribution_targets) {
  enum { N = 4, K = 8 };
  float t[N * K] = {0};
  for (int n = 0; n < N; n++) { /* a PLD/CEL-like distribution over two or three classes */
    t[n * K + n] = 0.6f;
    t[n * K + n + 1] = 0.3f;
    t[n * K + (n + 4) % K] = 0.1f;
  }
  check_softmax_loss(N, K, t, 0, 13);
}

Test(loss, multilabel) {
  enum { N = 7, K = 8 };
  const float eps = 0.001f;
  float t[N * K];
  for (int n = 0; n < N; n++)
    for (int k = 0; k < K; k++) t[n * K + k] = ((n + k) % 3 == 0) ? (1 - eps) + eps : eps;
  for (int k = 0; k < K; k++) t[6 * K + k] = 0.0f; /* a row with no target adds nothing */
  check_softmax_loss(N, K, t, 1, 14);
}

Test(loss, multilabel_many_classes) {
  enum { N = 3, K = 130 };
  float *t = malloc(N * K * sizeof *t);
  for (int i = 0; i < N * K; i++) t[i] = (i % 7 == 0) ? 1.0f : 0.001f;
  check_softmax_loss(N, K, t, 1, 15);
  free(t);
}

/* ---- locality-preserving loss ---- */

typedef struct lp_ctx {
  const int *labels;
  const double *means;
  int N, D, k, mean;
} lp_ctx_t;

static double lp_fn(void *ctx, const double *x, size_t n) {
  lp_ctx_t *c = ctx;
  (void)n;
  return ref_locality(x, c->labels, c->N, c->D, c->k, c->mean, c->means, NULL, NULL, NULL);
}

static void check_locality(int mean_over_batch) {
  clfer_runtime_t *rt = test_runtime();
  /* k = 3: class 0 has 10 samples (k of 9 others), class 1 has 3 (fewer than k+1: both others),
   * class 2 has 1 (no term), class 3 has 4 (exactly k others), one sample without a label. */
  enum { N = 19, D = 5, K = 3 };
  int y[N] = {0, 1, 0, 0, 2, 0, 3, 0, 1, 0, 3, 0, 3, 0, 1, 0, -1, 3, 0};
  size_t nd = (size_t)N * D;
  float *x = malloc(nd * sizeof *x), *grad = malloc(nd * sizeof *grad);
  test_fill_uniform(x, nd, 21, -2.0f, 2.0f);
  float *yf = labels_f(y, N);
  int sx[2] = {N, D}, sy[1] = {N};
  guarded_t gx, gy, gg;
  g_make(rt, 2, sx, x, &gx);
  g_make(rt, 1, sy, yf, &gy);
  g_make(rt, 2, sx, NULL, &gg);
  clfer_lp_params_t p = {.k = K, .sum_over_batch = !mean_over_batch};
  float value = -1;
  cr_assert_eq(clfer_loss_locality(rt, &p, &gx.view, &gy.view, &gg.view, &value), CLFER_OK, "%s", clfer_last_error());
  g_read(&gg, grad, "LP gradient");

  double *xd = to_double(x, nd), *means = malloc(nd * sizeof *means), *num = malloc(nd * sizeof *num);
  int has[N];
  double want = ref_locality(xd, y, N, D, K, mean_over_batch, NULL, means, has, NULL);
  assert_value(value, want, 1e-4, "LP value");
  cr_assert(!has[4] && !has[16] && has[1] && has[6], "reference neighbourhoods are not what the test meant");
  /* eq. 4: the derivative with the neighbour means held constant */
  lp_ctx_t ctx = {y, means, N, D, K, mean_over_batch};
  gradcheck_numeric(lp_fn, &ctx, xd, nd, 1e-5, num);
  assert_grad(grad, num, nd, 1e-5, 1e-3, "LP gradient");
  for (int e = 0; e < D; e++) {
    cr_assert_eq(grad[4 * D + e], 0.0f, "a sample alone in its class must get no gradient");
    cr_assert_eq(grad[16 * D + e], 0.0f, "an unlabelled sample must get no gradient");
  }
  free(x), free(grad), free(yf), free(xd), free(means), free(num);
  g_free(&gx), g_free(&gy), g_free(&gg);
  clfer_runtime_destroy(rt);
}

Test(loss, locality_sum) { check_locality(0); }
Test(loss, locality_mean) { check_locality(1); }

Test(loss, locality_default_k_uses_whole_class) {
  /* with the default k = 20 and small classes every other sample is a neighbour: LP equals the
   * squared distance to the mean of the other samples of the class */
  clfer_runtime_t *rt = test_runtime();
  enum { N = 12, D = 70 }; /* D beyond the work-group width */
  int y[N] = {0, 1, 0, 1, 0, 1, 2, 2, 0, 1, 2, 0};
  float x[N * D], *yf = labels_f(y, N);
  test_fill_uniform(x, N * D, 22, -1.0f, 1.0f);
  clfer_tensor_t tx, ty;
  int sx[2] = {N, D}, sy[1] = {N};
  cr_assert_eq(clfer_tensor_create(rt, 2, sx, &tx), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, sy, &ty), CLFER_OK);
  clfer_tensor_upload(&tx, x);
  clfer_tensor_upload(&ty, yf);
  float value;
  cr_assert_eq(clfer_loss_locality(rt, NULL, &tx, &ty, NULL, &value), CLFER_OK, "%s", clfer_last_error());
  double *xd = to_double(x, N * D);
  assert_value(value, ref_locality(xd, y, N, D, CLFER_LP_DEFAULT_K, 1, NULL, NULL, NULL, NULL), 1e-4, "LP, k = 20");
  free(xd), free(yf);
  clfer_tensor_release(&tx), clfer_tensor_release(&ty);
  clfer_runtime_destroy(rt);
}

Test(loss, locality_scale_by_hand) {
  /* Pins the scale against numbers worked out by hand, not against the reference. k = 1, N = 7:
   * class 0 = {(0,0), (2,0)}: each the other's neighbour, ½·2² = 2 each;
   * class 1 = {(5,5)} alone and row 3 unlabelled: nothing;
   * class 2 = {(0,10), (1,10), (4,10)}: nearest (1,10), (0,10), (1,10): ½·1, ½·1, ½·3².
   * Σ = 2 + 2 + 0.5 + 0.5 + 4.5 = 9.5. The default divides by the batch (7, the unlabelled row
   * included) like the softmax loss beside it; sum_over_batch keeps eq. 3's plain sum. */
  clfer_runtime_t *rt = test_runtime();
  enum { N = 7, D = 2 };
  const float x[N * D] = {0, 0, 2, 0, 5, 5, 7, 7, 0, 10, 1, 10, 4, 10};
  const float y[N] = {0, 0, 1, -1, 2, 2, 2};
  const float dx_sum[N * D] = {-2, 0, 2, 0, 0, 0, 0, 0, -1, 0, 1, 0, 3, 0}; /* x_i − its neighbour */
  int sx[2] = {N, D}, sy[1] = {N};
  clfer_tensor_t tx, ty, tg;
  cr_assert_eq(clfer_tensor_create(rt, 2, sx, &tx) | clfer_tensor_create(rt, 1, sy, &ty) |
                   clfer_tensor_create(rt, 2, sx, &tg),
               CLFER_OK);
  clfer_tensor_upload(&tx, x), clfer_tensor_upload(&ty, y);
  for (int sum = 0; sum <= 1; sum++) {
    clfer_lp_params_t p = {.k = 1, .sum_over_batch = sum};
    float value = -1, g[N * D], want[N * D];
    cr_assert_eq(clfer_loss_locality(rt, &p, &tx, &ty, &tg, &value), CLFER_OK, "%s", clfer_last_error());
    clfer_tensor_download(&tg, g);
    double div = sum ? 1.0 : N;
    assert_value(value, 9.5 / div, 1e-6, sum ? "LP value, sum over the batch" : "LP value, batch mean (default)");
    for (int i = 0; i < N * D; i++) want[i] = (float)(dx_sum[i] / div);
    TEST_ASSERT_CLOSE(g, want, N * D, 1e-6, 1e-5, sum ? "LP gradient, sum" : "LP gradient, batch mean");
  }
  /* In the objective, λ·LP sits beside the mean softmax loss: each sample's feature gradient is
   * λ/N·(x_i − mean N_k(i)), the same per-sample scale as center loss's default. */
  clfer_loss_term_t term = {.kind = CLFER_LOSS_LOCALITY, .weight = CLFER_LP_DEFAULT_LAMBDA, .lp = {.k = 1}};
  clfer_loss_inputs_t in = {.features = &tx, .labels = &ty};
  float g[N * D], want[N * D];
  cr_assert_eq(clfer_objective(rt, &term, 1, &in, NULL, &tg, NULL, 0), CLFER_OK, "%s", clfer_last_error());
  clfer_tensor_download(&tg, g);
  for (int i = 0; i < N * D; i++) want[i] = CLFER_LP_DEFAULT_LAMBDA * dx_sum[i] / N;
  TEST_ASSERT_CLOSE(g, want, N * D, 1e-9, 1e-5, "objective: λ·LP gradient is λ/N per sample");
  clfer_tensor_release(&tx), clfer_tensor_release(&ty), clfer_tensor_release(&tg);
  clfer_runtime_destroy(rt);
}

/* ---- center loss ---- */

typedef struct center_ctx {
  const int *labels;
  const double *centres;
  int N, D, K, mean;
} center_ctx_t;

static double center_fn(void *ctx, const double *x, size_t n) {
  center_ctx_t *c = ctx;
  (void)n;
  return ref_center(x, c->labels, c->centres, c->N, c->D, c->K, c->mean, NULL);
}

Test(loss, center_loss_and_update) {
  clfer_runtime_t *rt = test_runtime();
  enum { N = 10, D = 6, K = 4 };
  int y[N] = {0, 2, 2, 1, 0, 2, 7, 1, 2, -1}; /* 7 and −1 are outside [0, K): skipped; class 3 absent */
  float x[N * D], c[K * D], grad[N * D], cnew[K * D];
  test_fill_uniform(x, N * D, 31, -1.0f, 1.0f);
  test_fill_uniform(c, K * D, 32, -0.5f, 0.5f);
  float *yf = labels_f(y, N);
  int sx[2] = {N, D}, sy[1] = {N}, sc[2] = {K, D};
  guarded_t gx, gy, gc, gg;
  g_make(rt, 2, sx, x, &gx);
  g_make(rt, 1, sy, yf, &gy);
  g_make(rt, 2, sc, c, &gc);
  g_make(rt, 2, sx, NULL, &gg);
  double *xd = to_double(x, N * D), *cd = to_double(c, K * D), num[N * D];
  for (int mean = 0; mean <= 1; mean++) {
    float value;
    cr_assert_eq(clfer_loss_center(rt, mean, &gx.view, &gy.view, &gc.view, &gg.view, &value), CLFER_OK, "%s",
                 clfer_last_error());
    g_read(&gg, grad, "center gradient");
    assert_value(value, ref_center(xd, y, cd, N, D, K, mean, NULL), 1e-5, "center value");
    center_ctx_t ctx = {y, cd, N, D, K, mean};
    gradcheck_numeric(center_fn, &ctx, xd, N * D, 1e-5, num);
    assert_grad(grad, num, N * D, 1e-5, 1e-3, "center gradient");
  }
  /* Wen et al. eq. 4 */
  cr_assert_eq(clfer_center_update(rt, 0.5f, &gx.view, &gy.view, &gc.view), CLFER_OK, "%s", clfer_last_error());
  g_read(&gc, cnew, "centres");
  ref_center_update(xd, y, cd, N, D, K, 0.5);
  float *cref = to_float(cd, K * D);
  TEST_ASSERT_CLOSE(cnew, cref, K * D, 1e-6, 1e-5, "updated centres");
  for (int e = 0; e < D; e++) cr_assert_eq(cnew[3 * D + e], c[3 * D + e], "an absent class's centre moved");
  free(yf), free(xd), free(cd), free(cref);
  g_free(&gx), g_free(&gy), g_free(&gc), g_free(&gg);
  clfer_runtime_destroy(rt);
}

/* ---- LTNet ---- */

typedef struct lt_ctx {
  const double *z, *T, *w;
  const int *y;
  int N, C, L, caffe, wrt_T;
} lt_ctx_t;

static double lt_fn(void *ctx, const double *v, size_t n) {
  lt_ctx_t *c = ctx;
  (void)n;
  return c->wrt_T ? ref_ltnet(c->z, c->y, v, c->w, c->N, c->C, c->L, c->caffe, NULL, NULL)
                  : ref_ltnet(v, c->y, c->T, c->w, c->N, c->C, c->L, c->caffe, NULL, NULL);
}

static void check_ltnet(int caffe) {
  clfer_runtime_t *rt = test_runtime();
  enum { N = 9, C = 3, L = 5 };
  int y[N * C];
  for (int i = 0; i < N * C; i++) y[i] = (i * 7 + i / 3) % L;
  y[1] = -1, y[5] = -1, y[12] = -1; /* a coder without a label for some samples */
  y[18] = y[19] = y[20] = -1; /* sample 6 has no label at all */
  float z[N * L], T[C * L * L], grad[N * L], dT[C * L * L];
  test_fill_uniform(z, N * L, 41, -2.0f, 2.0f);
  test_fill_uniform(T, C * L * L, 42, 0.01f, 1.0f);
  for (int c = 0; c < C; c++)
    for (int i = 0; i < L; i++) T[(c * L + i) * L + i] += 2.0f;
  double *Td = to_double(T, C * L * L);
  ref_ltnet_project(Td, C, L, 1e-5);
  float *Tf = to_float(Td, C * L * L), *yf = labels_f(y, N * C);
  for (int i = 0; i < C * L * L; i++) Td[i] = Tf[i]; /* the reference uses exactly the device's T */

  clfer_ltnet_params_t p = {.coders = C, .coder_weight = {1.0f, 0.5f, 2.0f}, .caffe_softmax = caffe};
  double w[C] = {1.0, 0.5, 2.0};
  int sz[2] = {N, L}, sy[2] = {N, C}, sT[3] = {C, L, L};
  guarded_t gz, gy, gT, gdT, gg;
  g_make(rt, 2, sz, z, &gz);
  g_make(rt, 2, sy, yf, &gy);
  g_make(rt, 3, sT, Tf, &gT);
  g_make(rt, 3, sT, NULL, &gdT);
  g_make(rt, 2, sz, NULL, &gg);
  float value;
  cr_assert_eq(clfer_loss_ltnet(rt, &p, &gz.view, &gy.view, &gT.view, &gdT.view, &gg.view, &value), CLFER_OK, "%s",
               clfer_last_error());
  g_read(&gg, grad, "LTNet dz");
  g_read(&gdT, dT, "LTNet dT");
  g_read(&gT, NULL, "LTNet transitions");

  double *zd = to_double(z, N * L), numz[N * L], numT[C * L * L];
  assert_value(value, ref_ltnet(zd, y, Td, w, N, C, L, caffe, NULL, NULL), 1e-5, "LTNet value");
  lt_ctx_t ctx = {zd, Td, w, y, N, C, L, caffe, 0};
  gradcheck_numeric(lt_fn, &ctx, zd, N * L, 1e-5, numz);
  assert_grad(grad, numz, N * L, 2e-6, 1e-3, "LTNet gradient w.r.t. z");
  ctx.wrt_T = 1;
  gradcheck_numeric(lt_fn, &ctx, Td, C * L * L, 1e-6, numT);
  assert_grad(dT, numT, C * L * L, 2e-6, 1e-3, "LTNet gradient w.r.t. T");
  for (int i = 0; i < L; i++) cr_assert_eq(grad[6 * L + i], 0.0f, "a sample without labels must get no gradient");
  free(Td), free(Tf), free(yf), free(zd);
  g_free(&gz), g_free(&gy), g_free(&gT), g_free(&gdT), g_free(&gg);
  clfer_runtime_destroy(rt);
}

Test(loss, ltnet_paper) { check_ltnet(0); }
Test(loss, ltnet_caffe_softmax) { check_ltnet(1); }

Test(loss, ltnet_projection_and_init) {
  clfer_runtime_t *rt = test_runtime();
  enum { C = 2, L = 7 };
  float T[C * L * L], out[C * L * L];
  test_fill_uniform(T, C * L * L, 51, -0.5f, 2.0f); /* negatives and unnormalised rows */
  clfer_ltnet_params_t p = {.coders = C, .min_value = 1e-3f};
  int sT[3] = {C, L, L};
  guarded_t gT;
  g_make(rt, 3, sT, T, &gT);
  cr_assert_eq(clfer_ltnet_project(rt, &p, &gT.view), CLFER_OK, "%s", clfer_last_error());
  g_read(&gT, out, "projected transitions");
  double *Td = to_double(T, C * L * L);
  ref_ltnet_project(Td, C, L, 1e-3);
  float *ref = to_float(Td, C * L * L);
  TEST_ASSERT_CLOSE(out, ref, C * L * L, 1e-7, 1e-5, "clamp + renormalise");
  for (int r = 0; r < C * L; r++) {
    double s = 0;
    for (int j = 0; j < L; j++) {
      s += out[r * L + j];
      cr_assert(out[r * L + j] > 0, "row %d has a non-positive entry after projection", r);
    }
    cr_assert(fabs(s - 1) < 1e-5, "row %d sums to %.8f after projection", r, s);
  }
  /* start values: rows on the simplex, close to the identity */
  cr_assert_eq(clfer_ltnet_init(rt, &p, 0.0f, 7, &gT.view), CLFER_OK, "%s", clfer_last_error());
  g_read(&gT, out, "initial transitions");
  for (int r = 0; r < C * L; r++) {
    double s = 0;
    for (int j = 0; j < L; j++) {
      s += out[r * L + j];
      cr_assert(out[r * L + j] > 0 && (j == r % L || out[r * L + j] < out[r * L + r % L]),
                "row %d is not diagonal-dominant and positive", r);
    }
    cr_assert(fabs(s - 1) < 1e-5, "initial row %d sums to %.8f", r, s);
    cr_assert(out[r * L + r % L] > 0.8f, "initial diagonal %g is not large", (double)out[r * L + r % L]);
  }
  free(Td), free(ref);
  g_free(&gT);
  clfer_runtime_destroy(rt);
}

/* ---- combined objective ---- */

Test(loss, objective_softmax_plus_locality_plus_center) {
  clfer_runtime_t *rt = test_runtime();
  enum { N = 8, K = 3, D = 4 };
  int y[N] = {0, 1, 2, 0, 1, 0, 2, 0};
  float z[N * K], t[N * K] = {0}, x[N * D], c[K * D];
  test_fill_uniform(z, N * K, 61, -1.0f, 1.0f);
  test_fill_uniform(x, N * D, 62, -1.0f, 1.0f);
  test_fill_uniform(c, K * D, 63, -0.3f, 0.3f);
  for (int n = 0; n < N; n++) t[n * K + y[n]] = 1.0f;
  float *yf = labels_f(y, N);
  int sz[2] = {N, K}, sx[2] = {N, D}, sy[1] = {N}, sc[2] = {K, D}, one[1] = {1};
  clfer_tensor_t tz, tt, tx, ty, tc, dz, dx, val;
  cr_assert_eq(clfer_tensor_create(rt, 2, sz, &tz) | clfer_tensor_create(rt, 2, sz, &tt) |
                   clfer_tensor_create(rt, 2, sx, &tx) | clfer_tensor_create(rt, 1, sy, &ty) |
                   clfer_tensor_create(rt, 2, sc, &tc) | clfer_tensor_create(rt, 2, sz, &dz) |
                   clfer_tensor_create(rt, 2, sx, &dx) | clfer_tensor_create(rt, 1, one, &val),
               CLFER_OK);
  clfer_tensor_upload(&tz, z), clfer_tensor_upload(&tt, t), clfer_tensor_upload(&tx, x);
  clfer_tensor_upload(&ty, yf), clfer_tensor_upload(&tc, c);
  clfer_tensor_fill(&dz, 99.0f), clfer_tensor_fill(&dx, 99.0f), clfer_tensor_fill(&val, 99.0f);

  clfer_loss_term_t terms[3] = {
      {.kind = CLFER_LOSS_XENT, .weight = 1.0f},
      {.kind = CLFER_LOSS_LOCALITY, .weight = 0.25f, .lp = {.k = 2}},
      {.kind = CLFER_LOSS_CENTER, .weight = 0.1f, .centres = &tc, .center_alpha = 0.5f},
  };
  clfer_loss_inputs_t in = {.logits = &tz, .features = &tx, .targets = &tt, .labels = &ty};
  cr_assert_eq(clfer_objective(rt, terms, 3, &in, &dz, &dx, &val, 1), CLFER_OK, "%s", clfer_last_error());
  float v, gz[N * K], gx[N * D], cnew[K * D];
  clfer_tensor_download(&val, &v), clfer_tensor_download(&dz, gz), clfer_tensor_download(&dx, gx);
  clfer_tensor_download(&tc, cnew);

  double *zd = to_double(z, N * K), *td = to_double(t, N * K), *xd = to_double(x, N * D), *cd = to_double(c, K * D);
  double rz[N * K], rlp[N * D], rc[N * D];
  double want = ref_xent(zd, td, N, K, rz) + 0.25 * ref_locality(xd, y, N, D, 2, 1, NULL, NULL, NULL, rlp) +
                0.1 * ref_center(xd, y, cd, N, D, K, 1, rc);
  assert_value(v, want, 1e-5, "objective value");
  float ez[N * K], ex[N * D];
  for (int i = 0; i < N * K; i++) ez[i] = (float)rz[i];
  for (int i = 0; i < N * D; i++) ex[i] = (float)(0.25 * rlp[i] + 0.1 * rc[i]);
  TEST_ASSERT_CLOSE(gz, ez, N * K, 1e-6, 1e-4, "objective dlogits");
  TEST_ASSERT_CLOSE(gx, ex, N * D, 1e-6, 1e-4, "objective dfeatures (λ·LP + center)");
  ref_center_update(xd, y, cd, N, D, K, 0.5);
  float *cref = to_float(cd, K * D);
  TEST_ASSERT_CLOSE(cnew, cref, K * D, 1e-6, 1e-5, "centres updated by the objective");

  /* no term on features: a given dfeatures is zeroed */
  cr_assert_eq(clfer_objective(rt, terms, 1, &in, &dz, &dx, &val, 0), CLFER_OK, "%s", clfer_last_error());
  clfer_tensor_download(&dx, gx);
  for (int i = 0; i < N * D; i++) cr_assert_eq(gx[i], 0.0f, "untouched dfeatures must be zero");

  free(yf), free(zd), free(td), free(xd), free(cd), free(cref);
  clfer_tensor_release(&tz), clfer_tensor_release(&tt), clfer_tensor_release(&tx), clfer_tensor_release(&ty);
  clfer_tensor_release(&tc), clfer_tensor_release(&dz), clfer_tensor_release(&dx), clfer_tensor_release(&val);
  clfer_runtime_destroy(rt);
}

Test(loss, objective_two_terms_on_logits) {
  /* xent + 0.5·LTNet both write dlogits: the second term must add to the first */
  clfer_runtime_t *rt = test_runtime();
  enum { N = 6, L = 4, C = 2 };
  float z[N * L], t[N * L] = {0}, T[C * L * L], y[N * C];
  int yi[N * C];
  test_fill_uniform(z, N * L, 91, -1.5f, 1.5f);
  for (int n = 0; n < N; n++) t[n * L + n % L] = 1.0f;
  for (int i = 0; i < N * C; i++) y[i] = (float)(yi[i] = i % 5 == 4 ? -1 : (i * 3) % L);
  for (int c = 0; c < C; c++)
    for (int i = 0; i < L; i++)
      for (int j = 0; j < L; j++) T[(c * L + i) * L + j] = i == j ? 0.7f : 0.1f;
  int sz[2] = {N, L}, sy[2] = {N, C}, sT[3] = {C, L, L}, one[1] = {1};
  clfer_tensor_t tz, tt, ty, tT, dT, dz, val;
  cr_assert_eq(clfer_tensor_create(rt, 2, sz, &tz) | clfer_tensor_create(rt, 2, sz, &tt) |
                   clfer_tensor_create(rt, 2, sy, &ty) | clfer_tensor_create(rt, 3, sT, &tT) |
                   clfer_tensor_create(rt, 3, sT, &dT) | clfer_tensor_create(rt, 2, sz, &dz) |
                   clfer_tensor_create(rt, 1, one, &val),
               CLFER_OK);
  clfer_tensor_upload(&tz, z), clfer_tensor_upload(&tt, t), clfer_tensor_upload(&ty, y), clfer_tensor_upload(&tT, T);
  clfer_loss_term_t terms[2] = {
      {.kind = CLFER_LOSS_XENT},
      {.kind = CLFER_LOSS_LTNET, .weight = 0.5f, .ltnet = {.coders = C}, .transitions = &tT, .dtransitions = &dT},
  };
  clfer_loss_inputs_t in = {.logits = &tz, .targets = &tt, .coder_labels = &ty};
  cr_assert_eq(clfer_objective(rt, terms, 2, &in, &dz, NULL, &val, 1), CLFER_OK, "%s", clfer_last_error());
  float v, gz[N * L], gT[C * L * L];
  clfer_tensor_download(&val, &v), clfer_tensor_download(&dz, gz), clfer_tensor_download(&dT, gT);
  double *zd = to_double(z, N * L), *td = to_double(t, N * L), *Td = to_double(T, C * L * L);
  double w[C] = {1, 1}, rx[N * L], rl[N * L], rT[C * L * L];
  double want = ref_xent(zd, td, N, L, rx) + 0.5 * ref_ltnet(zd, yi, Td, w, N, C, L, 0, rl, rT);
  assert_value(v, want, 1e-5, "xent + 0.5·LTNet");
  float ez[N * L], eT[C * L * L];
  for (int i = 0; i < N * L; i++) ez[i] = (float)(rx[i] + 0.5 * rl[i]);
  for (int i = 0; i < C * L * L; i++) eT[i] = (float)(0.5 * rT[i]);
  TEST_ASSERT_CLOSE(gz, ez, N * L, 1e-6, 1e-4, "summed dlogits");
  TEST_ASSERT_CLOSE(gT, eT, C * L * L, 1e-6, 1e-4, "weighted dT");
  free(zd), free(td), free(Td);
  clfer_tensor_release(&tz), clfer_tensor_release(&tt), clfer_tensor_release(&ty), clfer_tensor_release(&tT);
  clfer_tensor_release(&dT), clfer_tensor_release(&dz), clfer_tensor_release(&val);
  clfer_runtime_destroy(rt);
}

/* ---- bad input ---- */

Test(loss, bad_input_is_reported) {
  clfer_runtime_t *rt = test_runtime();
  int s1[2] = {4, 5}, s2[2] = {4, 6}, s3[1] = {3}, sT[3] = {2, 5, 4};
  clfer_tensor_t a, b, lab, T;
  cr_assert_eq(clfer_tensor_zeros(rt, 2, s1, &a) | clfer_tensor_zeros(rt, 2, s2, &b) |
                   clfer_tensor_zeros(rt, 1, s3, &lab) | clfer_tensor_zeros(rt, 3, sT, &T),
               CLFER_OK);
  float v;
  cr_assert_eq(clfer_loss_xent(rt, &a, &b, NULL, &v), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "xent loss") && strstr(clfer_last_error(), "[4, 6]"), "message: %s",
            clfer_last_error());
  cr_assert_eq(clfer_loss_multilabel(rt, &a, &a, &b, &v), CLFER_SHAPE_MISMATCH);
  cr_assert_eq(clfer_loss_xent(rt, &a, NULL, NULL, &v), CLFER_INVALID_ARGUMENT);
  cr_assert_eq(clfer_loss_locality(rt, NULL, &a, &lab, NULL, &v), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "locality"), "message: %s", clfer_last_error());
  clfer_lp_params_t bad_k = {.k = -2};
  int s4[1] = {4};
  clfer_tensor_t lab4;
  cr_assert_eq(clfer_tensor_zeros(rt, 1, s4, &lab4), CLFER_OK);
  cr_assert_eq(clfer_loss_locality(rt, &bad_k, &a, &lab4, NULL, &v), CLFER_INVALID_ARGUMENT);
  cr_assert_eq(clfer_loss_center(rt, 0, &a, &lab4, &b, NULL, &v), CLFER_SHAPE_MISMATCH);
  cr_assert_eq(clfer_center_update(rt, 2.0f, &a, &lab4, &a), CLFER_INVALID_ARGUMENT);
  clfer_ltnet_params_t p = {.coders = 2};
  cr_assert_eq(clfer_ltnet_project(rt, &p, &T), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "ltnet") && strstr(clfer_last_error(), "[2, 5, 4]"), "message: %s",
            clfer_last_error());
  p.coders = 0;
  cr_assert_eq(clfer_ltnet_project(rt, &p, &T), CLFER_INVALID_ARGUMENT);
  clfer_loss_term_t term = {.kind = CLFER_LOSS_LOCALITY};
  clfer_loss_inputs_t in = {.logits = &a};
  cr_assert_eq(clfer_objective(rt, &term, 1, &in, NULL, NULL, NULL, 0), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "needs features"), "message: %s", clfer_last_error());
  clfer_loss_kind kind;
  cr_assert_eq(clfer_loss_kind_parse("LTNet", &kind), CLFER_OK);
  cr_assert_eq(kind, CLFER_LOSS_LTNET);
  cr_assert_eq(clfer_loss_kind_parse("hinge", &kind), CLFER_INVALID_ARGUMENT);
  clfer_tensor_release(&a), clfer_tensor_release(&b), clfer_tensor_release(&lab), clfer_tensor_release(&T);
  clfer_tensor_release(&lab4);
  clfer_runtime_destroy(rt);
}

Test(loss, repeated_calls_allocate_nothing) {
  clfer_runtime_t *rt = test_runtime();
  enum { N = 16, D = 8 };
  int sx[2] = {N, D}, sy[1] = {N};
  float x[N * D], y[N];
  test_fill_uniform(x, N * D, 71, -1, 1);
  for (int i = 0; i < N; i++) y[i] = (float)(i % 3);
  clfer_tensor_t tx, ty, g;
  cr_assert_eq(
      clfer_tensor_create(rt, 2, sx, &tx) | clfer_tensor_create(rt, 1, sy, &ty) | clfer_tensor_create(rt, 2, sx, &g),
      CLFER_OK);
  clfer_tensor_upload(&tx, x), clfer_tensor_upload(&ty, y);
  float v;
  cr_assert_eq(clfer_loss_locality(rt, NULL, &tx, &ty, &g, &v), CLFER_OK, "%s", clfer_last_error());
  uint64_t misses = clfer_pool_stats(rt).misses;
  for (int i = 0; i < 3; i++) cr_assert_eq(clfer_loss_locality(rt, NULL, &tx, &ty, &g, &v), CLFER_OK);
  cr_assert_eq(clfer_pool_stats(rt).misses, misses, "scratch tensors are not returned to the pool");
  cr_assert_eq(clfer_pool_stats(rt).blocks_in_use, 3, "scratch tensors still in use");
  clfer_tensor_release(&tx), clfer_tensor_release(&ty), clfer_tensor_release(&g);
  clfer_runtime_destroy(rt);
}
