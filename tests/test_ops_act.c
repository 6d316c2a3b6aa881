/* test_ops_act.c — ReLU and leaky ReLU against the double reference (guard zones around every
 * tensor), backward passes against central finite differences, in-place use and bad input. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layer_harness.h"
#include "ref_ops.h"
#include "test_util.h"

typedef struct relu_ctx {
  double slope;
  size_t n;
} relu_ctx_t;

static void relu_fn(void *ctx, const double *x, double *y) {
  relu_ctx_t *c = ctx;
  refop_relu(c->slope, x, y, c->n);
}

static void check_relu(float slope) {
  clfer_runtime_t *rt = test_runtime();
  int shape[4] = {2, 3, 5, 7};
  size_t n = clfer_shape_numel(4, shape);
  float *x = lh_uniform(n, 11, -2.0f, 2.0f), *y = malloc(n * sizeof *y), *dx = malloc(n * sizeof *dx);
  float *r = lh_uniform(n, 12, -1.0f, 1.0f);
  for (size_t i = 0; i < n; i++) /* keep away from the kink at 0, where FD is meaningless */
    if (fabsf(x[i]) < 0.05f) x[i] = x[i] < 0 ? -0.1f : 0.1f;
  double *xd = lh_to_double(x, n), *yd = malloc(n * sizeof *yd), *rd = lh_to_double(r, n),
         *gd = malloc(n * sizeof *gd);
  lh_tensor_t tx, ty, tdy, tdx;
  lh_make(rt, 4, shape, x, &tx);
  lh_make(rt, 4, shape, NULL, &ty);
  lh_make(rt, 4, shape, r, &tdy);
  lh_make(rt, 4, shape, NULL, &tdx);

  cr_assert_eq(clfer_relu_forward(rt, slope, &tx.t, &ty.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&ty, y, "relu y");
  relu_ctx_t ctx = {slope, n};
  relu_fn(&ctx, xd, yd);
  lh_assert_close_d(y, yd, n, 0, 1e-6, "relu forward");

  cr_assert_eq(clfer_relu_backward(rt, slope, &ty.t, &tdy.t, &tdx.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&tdx, dx, "relu dx");
  lh_numeric_grad(relu_fn, &ctx, xd, n, rd, n, 1e-3, gd);
  lh_assert_grad(dx, gd, n, 1e-5, 1e-4, "relu dx vs finite differences");

  /* in place: y aliases x, and the backward pass writes dx over dy */
  cr_assert_eq(clfer_relu_forward(rt, slope, &tx.t, &tx.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&tx, y, "relu in place");
  lh_assert_close_d(y, yd, n, 0, 1e-6, "relu forward in place");
  cr_assert_eq(clfer_relu_backward(rt, slope, &tx.t, &tdy.t, &tdy.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&tdy, dx, "relu dx in place");
  lh_assert_grad(dx, gd, n, 1e-5, 1e-4, "relu dx in place");

  lh_free(&tx), lh_free(&ty), lh_free(&tdy), lh_free(&tdx);
  free(x), free(y), free(dx), free(r), free(xd), free(yd), free(rd), free(gd);
  clfer_runtime_destroy(rt);
}

Test(ops_act, relu_forward_backward) { check_relu(0.0f); }
Test(ops_act, leaky_relu_forward_backward) { check_relu(0.1f); }
Test(ops_act, leaky_relu_slope_0_01) { check_relu(0.01f); }

Test(ops_act, bad_input_is_reported) {
  clfer_runtime_t *rt = test_runtime();
  int s1[2] = {4, 5}, s2[2] = {5, 4};
  clfer_tensor_t a, b;
  cr_assert_eq(clfer_tensor_create(rt, 2, s1, &a), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 2, s2, &b), CLFER_OK);
  cr_assert_eq(clfer_relu_forward(rt, 0.0f, &a, &b), CLFER_SHAPE_MISMATCH);
  const char *msg = clfer_last_error();
  cr_assert(strstr(msg, "relu_forward") && strstr(msg, "activation.c:") && strstr(msg, "[4, 5]") &&
                strstr(msg, "[5, 4]"),
            "message: %s", msg);
  cr_assert_eq(clfer_relu_backward(rt, 0.0f, &a, &a, &b), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "relu_backward"), "message: %s", clfer_last_error());
  cr_assert_eq(clfer_relu_forward(rt, -0.5f, &a, &a), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "slope"), "message: %s", clfer_last_error());
  cr_assert_eq(clfer_relu_forward(rt, NAN, &a, &a), CLFER_INVALID_ARGUMENT);
  cr_assert_eq(clfer_relu_forward(rt, 0.0f, NULL, &a), CLFER_INVALID_ARGUMENT);
  cr_assert_eq(clfer_relu_forward(NULL, 0.0f, &a, &a), CLFER_INVALID_ARGUMENT);
  clfer_tensor_release(&a);
  clfer_tensor_release(&b);
  clfer_runtime_destroy(rt);
}
