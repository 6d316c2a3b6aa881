/* layer_harness.c — see layer_harness.h. */
#include "layer_harness.h"

#include <math.h>
#include <stdlib.h>

#include "gradcheck.h"
#include "test_util.h"

void lh_make(clfer_runtime_t *rt, int ndim, const int *shape, const float *data, lh_tensor_t *g) {
  g->n = clfer_shape_numel(ndim, shape);
  int total[1] = {(int)(g->n + 2 * LH_GUARD)};
  cr_assert_eq(clfer_tensor_create(rt, 1, total, &g->base), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_tensor_fill(&g->base, LH_SENTINEL), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_tensor_view(&g->base, LH_GUARD, ndim, shape, &g->t), CLFER_OK, "%s", clfer_last_error());
  if (data) cr_assert_eq(clfer_tensor_upload(&g->t, data), CLFER_OK, "%s", clfer_last_error());
}

void lh_read(const lh_tensor_t *g, float *out, const char *what) {
  size_t total = g->n + 2 * LH_GUARD;
  float *all = malloc(total * sizeof *all);
  cr_assert(all);
  cr_assert_eq(clfer_tensor_download(&g->base, all), CLFER_OK, "%s", clfer_last_error());
  for (size_t i = 0; i < LH_GUARD; i++) {
    cr_assert(all[i] == LH_SENTINEL, "%s: guard element %zu before the tensor was overwritten (%g)", what,
              LH_GUARD - i, (double)all[i]);
    cr_assert(all[LH_GUARD + g->n + i] == LH_SENTINEL, "%s: guard element %zu after the tensor was overwritten (%g)",
              what, i, (double)all[LH_GUARD + g->n + i]);
  }
  if (out)
    for (size_t i = 0; i < g->n; i++) out[i] = all[LH_GUARD + i];
  free(all);
}

void lh_free(lh_tensor_t *g) {
  clfer_tensor_release(&g->base);
  g->t = (clfer_tensor_t){0};
}

double *lh_to_double(const float *x, size_t n) {
  double *d = malloc((n ? n : 1) * sizeof *d);
  cr_assert(d);
  for (size_t i = 0; i < n; i++) d[i] = x[i];
  return d;
}

float *lh_to_float(const double *x, size_t n) {
  float *f = malloc((n ? n : 1) * sizeof *f);
  cr_assert(f);
  for (size_t i = 0; i < n; i++) f[i] = (float)x[i];
  return f;
}

float *lh_uniform(size_t n, unsigned long long seed, float lo, float hi) {
  float *f = malloc((n ? n : 1) * sizeof *f);
  cr_assert(f);
  test_fill_uniform(f, n, seed, lo, hi);
  return f;
}

typedef struct loss_ctx {
  lh_forward_fn f;
  void *ctx;
  const double *r;
  size_t ny;
  double *y;
} loss_ctx_t;

static double weighted_loss(void *p, const double *x, size_t n) {
  (void)n;
  loss_ctx_t *c = p;
  c->f(c->ctx, x, c->y);
  double s = 0;
  for (size_t i = 0; i < c->ny; i++) s += c->r[i] * c->y[i];
  return s;
}

void lh_numeric_grad(lh_forward_fn f, void *ctx, double *x, size_t nx, const double *r, size_t ny, double h,
                     double *grad) {
  loss_ctx_t c = {f, ctx, r, ny, malloc(ny * sizeof(double))};
  cr_assert(c.y);
  gradcheck_numeric(weighted_loss, &c, x, nx, h, grad);
  free(c.y);
}

void lh_assert_grad(const float *analytic, const double *numeric, size_t n, double atol, double rtol,
                    const char *what) {
  size_t worst = 0;
  double r = gradcheck_compare(analytic, numeric, n, atol, rtol, &worst);
  cr_assert(r <= 1.0, "%s: element %zu is %.7g, finite differences give %.7g (ratio %.3g)", what, worst,
            (double)analytic[worst], numeric[worst], r);
}

void lh_assert_close_d(const float *got, const double *want, size_t n, double atol, double rtol, const char *what) {
  for (size_t i = 0; i < n; i++) {
    double g = got[i], w = want[i];
    int ok = (isnan(g) && isnan(w)) || (isinf(w) && g == w) || fabs(g - w) <= atol + rtol * fabs(w);
    cr_assert(ok, "%s: element %zu is %.7g, expected %.7g", what, i, g, w);
  }
}
