/* test_ops_norm.c — batch norm (training with batch statistics, 4-D and 2-D, saved mean and
 * invstd, running statistics after two steps, evaluation, backward for dx, dγ, dβ) and LRN
 * (sizes 5, 4 and 3, k 1 and 2) against the double reference with guard zones, gradients
 * against central finite differences; batch norm with a fused ReLU against the two ops. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "layer_harness.h"
#include "ref_ops.h"
#include "test_util.h"

/* ---- batch norm ---- */

typedef struct bn_ctx {
  int N, C, HW;
  double eps;
} bn_ctx_t;

/* f([x, γ, β]) = batch-norm output; one vector so one finite-difference sweep checks dx, dγ
 * and dβ together. */
static void bn_fn(void *ctx, const double *v, double *y) {
  bn_ctx_t *b = ctx;
  size_t nx = (size_t)b->N * b->C * b->HW;
  refop_batchnorm_train(b->N, b->C, b->HW, b->eps, v, v + nx, v + nx + b->C, y, NULL, NULL);
}

static void check_bn_train(int ndim, const int *shape, int grad, float offset, float spread) {
  clfer_runtime_t *rt = test_runtime();
  int N = shape[0], C = shape[1], HW = ndim == 4 ? shape[2] * shape[3] : 1;
  size_t n = clfer_shape_numel(ndim, shape);
  clfer_batchnorm_params_t p = {1e-5f, 0.1f};
  float *x = lh_uniform(n, 41, offset - spread, offset + spread), *gamma = lh_uniform(C, 42, 0.5f, 1.5f),
        *beta = lh_uniform(C, 43, -0.5f, 0.5f), *r = lh_uniform(n, 44, -1.0f, 1.0f);
  float *y = malloc(n * sizeof *y), *dx = malloc(n * sizeof *dx), *mean = malloc(C * sizeof *mean),
        *invstd = malloc(C * sizeof *invstd), *dgb = malloc(2 * C * sizeof *dgb);
  size_t nv = n + 2 * (size_t)C;
  double *v = malloc(nv * sizeof *v), *yd = malloc(n * sizeof *yd), *md = malloc(C * sizeof *md),
         *vd = malloc(C * sizeof *vd), *rd = lh_to_double(r, n), *gd = malloc(nv * sizeof *gd);
  for (size_t i = 0; i < n; i++) v[i] = x[i];
  for (int c = 0; c < C; c++) v[n + c] = gamma[c], v[n + C + c] = beta[c];
  int cs[1] = {C};
  lh_tensor_t tx, ty, tg, tb, tm, ti, tdy, tdx, tdg, tdb;
  lh_make(rt, ndim, shape, x, &tx);
  lh_make(rt, ndim, shape, NULL, &ty);
  lh_make(rt, 1, cs, gamma, &tg);
  lh_make(rt, 1, cs, beta, &tb);
  lh_make(rt, 1, cs, NULL, &tm);
  lh_make(rt, 1, cs, NULL, &ti);
  lh_make(rt, ndim, shape, r, &tdy);
  lh_make(rt, ndim, shape, NULL, &tdx);
  lh_make(rt, 1, cs, NULL, &tdg);
  lh_make(rt, 1, cs, NULL, &tdb);

  cr_assert_eq(clfer_batchnorm_forward_train(rt, &p, &tx.t, &tg.t, &tb.t, &ty.t, &tm.t, &ti.t, NULL, NULL), CLFER_OK,
               "%s", clfer_last_error());
  lh_read(&ty, y, "bn y");
  lh_read(&tm, mean, "bn save_mean");
  lh_read(&ti, invstd, "bn save_invstd");
  bn_ctx_t ctx = {N, C, HW, 1e-5};
  refop_batchnorm_train(N, C, HW, 1e-5, v, v + n, v + n + C, yd, md, vd);
  lh_assert_close_d(mean, md, C, 1e-6 * (1 + fabs(offset)), 1e-5, "bn save_mean");
  for (int c = 0; c < C; c++) vd[c] = 1.0 / sqrt(vd[c] + 1e-5);
  /* the variance of data offset by 1000·σ loses ~log2(1000) bits in float however it is summed */
  lh_assert_close_d(invstd, vd, C, 0, offset != 0 ? 2e-3 : 1e-4, "bn save_invstd");
  lh_assert_close_d(y, yd, n, offset != 0 ? 2e-3 : 1e-4, 1e-4, "bn forward (train)");

  cr_assert_eq(clfer_batchnorm_backward(rt, &tx.t, &tdy.t, &tg.t, &tm.t, &ti.t, &tdx.t, &tdg.t, &tdb.t), CLFER_OK,
               "%s", clfer_last_error());
  lh_read(&tdx, dx, "bn dx");
  lh_read(&tdg, dgb, "bn dgamma");
  lh_read(&tdb, dgb + C, "bn dbeta");
  if (grad) {
    lh_numeric_grad(bn_fn, &ctx, v, nv, rd, n, 1e-4, gd);
    lh_assert_grad(dx, gd, n, 2e-4, 2e-3, "bn dx vs finite differences");
    lh_assert_grad(dgb, gd + n, 2 * (size_t)C, 2e-4, 2e-3, "bn dgamma, dbeta vs finite differences");
  }
  /* without dγ/dβ outputs dx is unchanged */
  cr_assert_eq(clfer_batchnorm_backward(rt, &tx.t, &tdy.t, &tg.t, &tm.t, &ti.t, &ty.t, NULL, NULL), CLFER_OK, "%s",
               clfer_last_error());
  lh_read(&ty, y, "bn dx (no dgamma)");
  for (size_t i = 0; i < n; i++) cr_assert_eq(y[i], dx[i], "dx %zu differs without dgamma/dbeta", i);

  lh_free(&tx), lh_free(&ty), lh_free(&tg), lh_free(&tb), lh_free(&tm), lh_free(&ti);
  lh_free(&tdy), lh_free(&tdx), lh_free(&tdg), lh_free(&tdb);
  free(x), free(gamma), free(beta), free(r), free(y), free(dx), free(mean), free(invstd), free(dgb);
  free(v), free(yd), free(md), free(vd), free(rd), free(gd);
  clfer_runtime_destroy(rt);
}

Test(ops_norm, batchnorm_train_4d) {
  int s[4] = {3, 4, 3, 5};
  check_bn_train(4, s, 1, 0.0f, 1.0f);
}

Test(ops_norm, batchnorm_train_2d) {
  int s[2] = {6, 5};
  check_bn_train(2, s, 1, 0.0f, 1.0f);
}

/* rows of 35 pixels, split across chunks: the CPU forms' 16-pixel blocks, remainders and chunk
 * edges inside an image, checked against finite differences */
Test(ops_norm, batchnorm_train_wide_rows) {
  int s[4] = {2, 2, 5, 7};
  check_bn_train(4, s, 1, 0.0f, 1.0f);
}

/* 4·40·40 = 6400 values per channel: several work-groups per channel, merged in the second stage. */
Test(ops_norm, batchnorm_train_many_chunks) {
  int s[4] = {4, 3, 40, 40};
  check_bn_train(4, s, 0, 0.0f, 1.0f);
}

/* Mean 1000 with spread 1: the naive Σx² − (Σx)²/n would cancel catastrophically in float. */
Test(ops_norm, batchnorm_train_large_mean) {
  int s[4] = {4, 2, 30, 30};
  check_bn_train(4, s, 0, 1000.0f, 1.0f);
}

Test(ops_norm, batchnorm_running_stats_two_steps) {
  clfer_runtime_t *rt = test_runtime();
  int shape[4] = {2, 3, 4, 4}, N = 2, C = 3, HW = 16;
  size_t n = clfer_shape_numel(4, shape);
  double M = (double)N * HW, mom = 0.1;
  clfer_batchnorm_params_t p = {1e-5f, (float)mom};
  float ones[3] = {1, 1, 1}, zeros[3] = {0, 0, 0}, rm[3], rv[3];
  double rmd[3] = {0, 0, 0}, rvd[3] = {1, 1, 1}, bm[3], bv[3];
  int cs[1] = {C};
  lh_tensor_t tx, ty, tg, tb, tm, ti, trm, trv;
  lh_make(rt, 4, shape, NULL, &tx);
  lh_make(rt, 4, shape, NULL, &ty);
  lh_make(rt, 1, cs, ones, &tg);
  lh_make(rt, 1, cs, zeros, &tb);
  lh_make(rt, 1, cs, NULL, &tm);
  lh_make(rt, 1, cs, NULL, &ti);
  lh_make(rt, 1, cs, zeros, &trm);
  lh_make(rt, 1, cs, ones, &trv);
  double *yd = malloc(n * sizeof *yd), g[3] = {1, 1, 1}, b[3] = {0, 0, 0};
  for (int step = 0; step < 2; step++) {
    float *x = lh_uniform(n, 50 + step, -1.0f + step, 2.0f + 3 * step);
    double *xd = lh_to_double(x, n);
    cr_assert_eq(clfer_tensor_upload(&tx.t, x), CLFER_OK);
    cr_assert_eq(clfer_batchnorm_forward_train(rt, &p, &tx.t, &tg.t, &tb.t, &ty.t, &tm.t, &ti.t, &trm.t, &trv.t),
                 CLFER_OK, "%s", clfer_last_error());
    refop_batchnorm_train(N, C, HW, 1e-5, xd, g, b, yd, bm, bv);
    for (int c = 0; c < C; c++) {
      rmd[c] = (1 - mom) * rmd[c] + mom * bm[c];
      rvd[c] = (1 - mom) * rvd[c] + mom * bv[c] * M / (M - 1); /* unbiased, as PyTorch */
    }
    free(x), free(xd);
  }
  lh_read(&trm, rm, "running mean");
  lh_read(&trv, rv, "running var");
  lh_assert_close_d(rm, rmd, C, 1e-6, 1e-5, "running mean after 2 steps");
  lh_assert_close_d(rv, rvd, C, 1e-6, 1e-5, "running var after 2 steps");
  lh_free(&tx), lh_free(&ty), lh_free(&tg), lh_free(&tb), lh_free(&tm), lh_free(&ti), lh_free(&trm), lh_free(&trv);
  free(yd);
  clfer_runtime_destroy(rt);
}

static void check_bn_eval(int ndim, const int *shape) {
  clfer_runtime_t *rt = test_runtime();
  int N = shape[0], C = shape[1], HW = ndim == 4 ? shape[2] * shape[3] : 1;
  size_t n = clfer_shape_numel(ndim, shape);
  clfer_batchnorm_params_t p = {1e-3f, 0.1f};
  float *x = lh_uniform(n, 61, -2, 2), *g = lh_uniform(C, 62, 0.5f, 1.5f), *b = lh_uniform(C, 63, -1, 1),
        *rm = lh_uniform(C, 64, -0.5f, 0.5f), *rv = lh_uniform(C, 65, 0.2f, 3.0f), *y = malloc(n * sizeof *y);
  double *xd = lh_to_double(x, n), *gd = lh_to_double(g, C), *bd = lh_to_double(b, C), *rmd = lh_to_double(rm, C),
         *rvd = lh_to_double(rv, C), *yd = malloc(n * sizeof *yd);
  int cs[1] = {C};
  lh_tensor_t tx, ty, tg, tb, trm, trv;
  lh_make(rt, ndim, shape, x, &tx);
  lh_make(rt, ndim, shape, NULL, &ty);
  lh_make(rt, 1, cs, g, &tg);
  lh_make(rt, 1, cs, b, &tb);
  lh_make(rt, 1, cs, rm, &trm);
  lh_make(rt, 1, cs, rv, &trv);
  cr_assert_eq(clfer_batchnorm_forward_eval(rt, &p, &tx.t, &tg.t, &tb.t, &trm.t, &trv.t, &ty.t), CLFER_OK, "%s",
               clfer_last_error());
  lh_read(&ty, y, "bn eval y");
  refop_batchnorm_eval(N, C, HW, 1e-3, xd, gd, bd, rmd, rvd, yd);
  lh_assert_close_d(y, yd, n, 1e-5, 1e-5, "bn forward (eval)");
  lh_free(&tx), lh_free(&ty), lh_free(&tg), lh_free(&tb), lh_free(&trm), lh_free(&trv);
  free(x), free(g), free(b), free(rm), free(rv), free(y), free(xd), free(gd), free(bd), free(rmd), free(rvd), free(yd);
  clfer_runtime_destroy(rt);
}

Test(ops_norm, batchnorm_eval_4d) {
  int s[4] = {2, 3, 4, 5};
  check_bn_eval(4, s);
}

Test(ops_norm, batchnorm_eval_2d) {
  int s[2] = {4, 7};
  check_bn_eval(2, s);
}

Test(ops_norm, batchnorm_bad_input_is_reported) {
  clfer_runtime_t *rt = test_runtime();
  int xs[4] = {2, 3, 4, 4}, one[4] = {1, 3, 1, 1}, cs[1] = {3}, c4[1] = {4}, x3[3] = {2, 3, 4};
  clfer_tensor_t x, y, g, b, m, s, bad, x1, t3;
  cr_assert_eq(clfer_tensor_create(rt, 4, xs, &x), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 4, xs, &y), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, cs, &g), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, cs, &b), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, cs, &m), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, cs, &s), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, c4, &bad), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 4, one, &x1), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 3, x3, &t3), CLFER_OK);
  clfer_batchnorm_params_t p = {1e-5f, 0.1f};
  cr_assert_eq(clfer_batchnorm_forward_train(rt, &p, &x, &bad, &b, &y, &m, &s, NULL, NULL), CLFER_SHAPE_MISMATCH);
  const char *msg = clfer_last_error();
  cr_assert(strstr(msg, "batchnorm_forward_train") && strstr(msg, "batchnorm.c:") && strstr(msg, "gamma") &&
                strstr(msg, "[2, 3, 4, 4]"),
            "message: %s", msg);
  cr_assert_eq(clfer_batchnorm_forward_train(rt, &p, &x1, &g, &b, &x1, &m, &s, NULL, NULL), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "at least 2"), "message: %s", clfer_last_error());
  cr_assert_eq(clfer_batchnorm_forward_train(rt, &p, &t3, &g, &b, &t3, &m, &s, NULL, NULL), CLFER_SHAPE_MISMATCH);
  cr_assert_eq(clfer_batchnorm_forward_train(rt, &p, &x, &g, &b, &y, &m, &s, &m, NULL), CLFER_INVALID_ARGUMENT);
  clfer_batchnorm_params_t bad_eps = {0.0f, 0.1f}, bad_mom = {1e-5f, 1.5f};
  cr_assert_eq(clfer_batchnorm_forward_eval(rt, &bad_eps, &x, &g, &b, &m, &s, &y), CLFER_INVALID_ARGUMENT);
  cr_assert_eq(clfer_batchnorm_forward_train(rt, &bad_mom, &x, &g, &b, &y, &m, &s, NULL, NULL),
               CLFER_INVALID_ARGUMENT);
  cr_assert_eq(clfer_batchnorm_backward(rt, &x, &x1, &g, &m, &s, &y, NULL, NULL), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "batchnorm_backward"), "message: %s", clfer_last_error());
  clfer_tensor_release(&x), clfer_tensor_release(&y), clfer_tensor_release(&g), clfer_tensor_release(&b);
  clfer_tensor_release(&m), clfer_tensor_release(&s), clfer_tensor_release(&bad), clfer_tensor_release(&x1);
  clfer_tensor_release(&t3);
  clfer_runtime_destroy(rt);
}

/* The fused batch norm + ReLU against batch norm then ReLU, to the bit: training forward (running
 * statistics too), evaluation, and the backward pass from the ReLU's output gradient, at slopes 0
 * and 0.1, on rows of 35 pixels (the CPU forms' 16-pixel blocks and remainders). */
Test(ops_norm, batchnorm_relu_fused_equals_batchnorm_then_relu) {
  clfer_runtime_t *rt = test_runtime();
  int shape[4] = {3, 4, 5, 7}, cs[1] = {4}, C = 4;
  size_t n = clfer_shape_numel(4, shape);
  clfer_batchnorm_params_t p = {1e-5f, 0.1f};
  float *x = lh_uniform(n, 71, -1.0f, 1.0f), *g = lh_uniform(C, 72, 0.5f, 1.5f), *b = lh_uniform(C, 73, -0.3f, 0.3f),
        *r = lh_uniform(n, 74, -1.0f, 1.0f), zeros[4] = {0}, ones[4] = {1, 1, 1, 1};
  float *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
  float wc[4], gc[4];
  lh_tensor_t tx, tg, tb, tr, ty, tz, tm, ti, trm, trv, tm2, ti2, trm2, trv2, tdx, tdg, tdb;
  lh_make(rt, 4, shape, x, &tx), lh_make(rt, 1, cs, g, &tg), lh_make(rt, 1, cs, b, &tb);
  lh_make(rt, 4, shape, r, &tr), lh_make(rt, 4, shape, NULL, &ty), lh_make(rt, 4, shape, NULL, &tz);
  lh_make(rt, 1, cs, NULL, &tm), lh_make(rt, 1, cs, NULL, &ti), lh_make(rt, 1, cs, zeros, &trm);
  lh_make(rt, 1, cs, ones, &trv), lh_make(rt, 1, cs, NULL, &tm2), lh_make(rt, 1, cs, NULL, &ti2);
  lh_make(rt, 1, cs, zeros, &trm2), lh_make(rt, 1, cs, ones, &trv2), lh_make(rt, 4, shape, NULL, &tdx);
  lh_make(rt, 1, cs, NULL, &tdg), lh_make(rt, 1, cs, NULL, &tdb);
  const float slopes[2] = {0.0f, 0.1f};
  for (int si = 0; si < 2; si++) {
    float slope = slopes[si];
    /* training forward: bn into z, ReLU into y; fused into z */
    cr_assert_eq(clfer_batchnorm_forward_train(rt, &p, &tx.t, &tg.t, &tb.t, &tz.t, &tm.t, &ti.t, &trm.t, &trv.t),
                 CLFER_OK, "%s", clfer_last_error());
    cr_assert_eq(clfer_relu_forward(rt, slope, &tz.t, &ty.t), CLFER_OK);
    lh_read(&ty, want, "bn then relu");
    cr_assert_eq(clfer_batchnorm_relu_forward_train(rt, &p, slope, &tx.t, &tg.t, &tb.t, &tz.t, &tm2.t, &ti2.t,
                                                    &trm2.t, &trv2.t),
                 CLFER_OK, "%s", clfer_last_error());
    lh_read(&tz, got, "fused bn + relu");
    cr_assert(memcmp(want, got, n * sizeof *got) == 0, "slope %g: fused training forward differs", slope);
    lh_read(&trv, wc, "running var"), lh_read(&trv2, gc, "fused running var");
    cr_assert(memcmp(wc, gc, sizeof wc) == 0, "slope %g: fused running variance differs", slope);
    int negative = 0, zero = 0;
    for (size_t i = 0; i < n; i++) negative |= got[i] < 0, zero |= got[i] == 0;
    cr_assert(slope > 0 ? negative && !zero : zero && !negative, "slope %g: the ReLU was not applied", slope);
    /* backward: relu_backward into z, batch norm backward from it; fused from the ReLU's output y */
    cr_assert_eq(clfer_relu_backward(rt, slope, &ty.t, &tr.t, &tz.t), CLFER_OK);
    cr_assert_eq(clfer_batchnorm_backward(rt, &tx.t, &tz.t, &tg.t, &tm.t, &ti.t, &tdx.t, &tdg.t, &tdb.t), CLFER_OK);
    float *wdx = malloc(n * sizeof *wdx), wdg[4], wdb[4], gdg[4], gdb[4];
    lh_read(&tdx, wdx, "dx"), lh_read(&tdg, wdg, "dgamma"), lh_read(&tdb, wdb, "dbeta");
    cr_assert_eq(clfer_batchnorm_relu_backward(rt, slope, &tx.t, &ty.t, &tr.t, &tg.t, &tm.t, &ti.t, &tdx.t, &tdg.t,
                                               &tdb.t),
                 CLFER_OK, "%s", clfer_last_error());
    lh_read(&tdx, got, "fused dx"), lh_read(&tdg, gdg, "fused dgamma"), lh_read(&tdb, gdb, "fused dbeta");
    cr_assert(memcmp(wdx, got, n * sizeof *got) == 0, "slope %g: fused dx differs", slope);
    cr_assert(memcmp(wdg, gdg, sizeof wdg) == 0 && memcmp(wdb, gdb, sizeof wdb) == 0,
              "slope %g: fused dgamma/dbeta differ", slope);
    free(wdx);
    /* evaluation with the running statistics */
    cr_assert_eq(clfer_batchnorm_forward_eval(rt, &p, &tx.t, &tg.t, &tb.t, &trm.t, &trv.t, &tz.t), CLFER_OK);
    cr_assert_eq(clfer_relu_forward(rt, slope, &tz.t, &ty.t), CLFER_OK);
    lh_read(&ty, want, "eval bn then relu");
    cr_assert_eq(clfer_batchnorm_relu_forward_eval(rt, &p, slope, &tx.t, &tg.t, &tb.t, &trm.t, &trv.t, &tz.t),
                 CLFER_OK, "%s", clfer_last_error());
    lh_read(&tz, got, "fused eval");
    cr_assert(memcmp(want, got, n * sizeof *got) == 0, "slope %g: fused evaluation differs", slope);
  }
  /* a slope the backward pass could not invert */
  cr_assert_eq(clfer_batchnorm_relu_forward_eval(rt, &p, -0.5f, &tx.t, &tg.t, &tb.t, &trm.t, &trv.t, &tz.t),
               CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "batchnorm_relu_forward_eval") && strstr(clfer_last_error(), "slope"),
            "message: %s", clfer_last_error());
  cr_assert_eq(clfer_batchnorm_relu_backward(rt, 0.0f, &tx.t, &tdg.t, &tr.t, &tg.t, &tm.t, &ti.t, &tdx.t, NULL, NULL),
               CLFER_SHAPE_MISMATCH, "a y of another shape");
  lh_free(&tx), lh_free(&tg), lh_free(&tb), lh_free(&tr), lh_free(&ty), lh_free(&tz), lh_free(&tm), lh_free(&ti);
  lh_free(&trm), lh_free(&trv), lh_free(&tm2), lh_free(&ti2), lh_free(&trm2), lh_free(&trv2), lh_free(&tdx);
  lh_free(&tdg), lh_free(&tdb);
  free(x), free(g), free(b), free(r), free(want), free(got);
  clfer_runtime_destroy(rt);
}

Test(ops_norm, batchnorm_repeated_calls_allocate_nothing) {
  clfer_runtime_t *rt = test_runtime();
  int xs[4] = {2, 3, 4, 4}, cs[1] = {3};
  clfer_tensor_t x, y, g, b, m, s, dx, dg, db;
  cr_assert_eq(clfer_tensor_zeros(rt, 4, xs, &x), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 4, xs, &y), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 4, xs, &dx), CLFER_OK);
  cr_assert_eq(clfer_tensor_zeros(rt, 1, cs, &g), CLFER_OK);
  cr_assert_eq(clfer_tensor_zeros(rt, 1, cs, &b), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, cs, &m), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, cs, &s), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, cs, &dg), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, cs, &db), CLFER_OK);
  clfer_batchnorm_params_t p = {1e-5f, 0.1f};
  uint64_t misses = 0;
  for (int it = 0; it < 3; it++) {
    cr_assert_eq(clfer_batchnorm_forward_train(rt, &p, &x, &g, &b, &y, &m, &s, NULL, NULL), CLFER_OK);
    cr_assert_eq(clfer_batchnorm_backward(rt, &x, &y, &g, &m, &s, &dx, &dg, &db), CLFER_OK);
    if (it == 0) misses = clfer_pool_stats(rt).misses;
  }
  cr_assert_eq(clfer_pool_stats(rt).misses, misses, "scratch must come back to the pool");
  clfer_tensor_release(&x), clfer_tensor_release(&y), clfer_tensor_release(&dx), clfer_tensor_release(&g);
  clfer_tensor_release(&b), clfer_tensor_release(&m), clfer_tensor_release(&s), clfer_tensor_release(&dg);
  clfer_tensor_release(&db);
  clfer_runtime_destroy(rt);
}

/* ---- LRN ---- */

typedef struct lrn_ctx {
  int N, C, HW;
  clfer_lrn_params_t p;
} lrn_ctx_t;

static void lrn_fn(void *ctx, const double *x, double *y) {
  lrn_ctx_t *l = ctx;
  refop_lrn(l->N, l->C, l->HW, l->p.size, l->p.alpha, l->p.beta, l->p.k, x, y, NULL);
}

static void check_lrn(clfer_lrn_params_t p, int ndim, const int *shape) {
  clfer_runtime_t *rt = test_runtime();
  int N = shape[0], C = shape[1], HW = ndim == 4 ? shape[2] * shape[3] : 1;
  size_t n = clfer_shape_numel(ndim, shape);
  float *x = lh_uniform(n, 71, -3.0f, 3.0f), *r = lh_uniform(n, 72, -1, 1), *y = malloc(n * sizeof *y),
        *sc = malloc(n * sizeof *sc), *dx = malloc(n * sizeof *dx);
  double *xd = lh_to_double(x, n), *rd = lh_to_double(r, n), *yd = malloc(n * sizeof *yd),
         *scd = malloc(n * sizeof *scd), *gd = malloc(n * sizeof *gd);
  lh_tensor_t tx, ty, ts, tdy, tdx;
  lh_make(rt, ndim, shape, x, &tx);
  lh_make(rt, ndim, shape, NULL, &ty);
  lh_make(rt, ndim, shape, NULL, &ts);
  lh_make(rt, ndim, shape, r, &tdy);
  lh_make(rt, ndim, shape, NULL, &tdx);
  char what[128];
  snprintf(what, sizeof what, "lrn size %d alpha %g beta %g k %g", p.size, (double)p.alpha, (double)p.beta,
           (double)p.k);
  cr_assert_eq(clfer_lrn_forward(rt, &p, &tx.t, &ty.t, &ts.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&ty, y, what);
  lh_read(&ts, sc, what);
  lrn_ctx_t ctx = {N, C, HW, p};
  refop_lrn(N, C, HW, p.size, p.alpha, p.beta, p.k, xd, yd, scd);
  lh_assert_close_d(y, yd, n, 1e-6, 1e-5, what);
  lh_assert_close_d(sc, scd, n, 1e-6, 1e-5, what);
  cr_assert_eq(clfer_lrn_backward(rt, &p, &tx.t, &ty.t, &ts.t, &tdy.t, &tdx.t), CLFER_OK, "%s", clfer_last_error());
  lh_read(&tdx, dx, what);
  lh_numeric_grad(lrn_fn, &ctx, xd, n, rd, n, 1e-4, gd);
  lh_assert_grad(dx, gd, n, 1e-4, 1e-3, what);
  /* eval: no scale kept */
  cr_assert_eq(clfer_lrn_forward(rt, &p, &tx.t, &ty.t, NULL), CLFER_OK, "%s", clfer_last_error());
  lh_read(&ty, y, what);
  lh_assert_close_d(y, yd, n, 1e-6, 1e-5, what);
  lh_free(&tx), lh_free(&ty), lh_free(&ts), lh_free(&tdy), lh_free(&tdx);
  free(x), free(r), free(y), free(sc), free(dx), free(xd), free(rd), free(yd), free(scd), free(gd);
  clfer_runtime_destroy(rt);
}

static const int lrn_shape[4] = {2, 7, 3, 2}; /* 7 channels: windows clip at both ends */

/* AlexNet/Caffe constants; alpha 1e-4 hardly couples channels, so the next tests raise it to
 * make the cross-channel part of the gradient visible. */
Test(ops_norm, lrn_size5_k1_caffe) { check_lrn((clfer_lrn_params_t){5, 1e-4f, 0.75f, 1.0f}, 4, lrn_shape); }
Test(ops_norm, lrn_size5_k1_strong) { check_lrn((clfer_lrn_params_t){5, 0.5f, 0.75f, 1.0f}, 4, lrn_shape); }
Test(ops_norm, lrn_size5_k2_vgg_cnn_m) { check_lrn((clfer_lrn_params_t){5, 0.5f, 0.75f, 2.0f}, 4, lrn_shape); }
Test(ops_norm, lrn_size4_even_pytorch_window) { check_lrn((clfer_lrn_params_t){4, 0.4f, 0.6f, 1.5f}, 4, lrn_shape); }
/* planes of 35 pixels: the CPU form's whole 16-pixel blocks and a partial one */
Test(ops_norm, lrn_size5_wide_planes) {
  int s[4] = {2, 7, 5, 7};
  check_lrn((clfer_lrn_params_t){5, 0.5f, 0.75f, 2.0f}, 4, s);
}
Test(ops_norm, lrn_size3_2d) {
  int s[2] = {3, 6};
  check_lrn((clfer_lrn_params_t){3, 0.3f, 0.75f, 1.0f}, 2, s);
}

Test(ops_norm, lrn_even_window_is_pytorchs) {
  /* size 2 at channel c sums channels c−1 and c (PyTorch pads size/2 = 1 before, 0 after) */
  clfer_runtime_t *rt = test_runtime();
  int s[4] = {1, 3, 1, 1};
  float x[3] = {1, 2, 3}, y[3];
  clfer_lrn_params_t p = {2, 1.0f, 1.0f, 1.0f};
  lh_tensor_t tx, ty;
  lh_make(rt, 4, s, x, &tx);
  lh_make(rt, 4, s, NULL, &ty);
  cr_assert_eq(clfer_lrn_forward(rt, &p, &tx.t, &ty.t, NULL), CLFER_OK, "%s", clfer_last_error());
  lh_read(&ty, y, "lrn size 2");
  double want[3] = {1 / (1 + 0.5 * 1), 2 / (1 + 0.5 * (1 + 4)), 3 / (1 + 0.5 * (4 + 9))};
  lh_assert_close_d(y, want, 3, 1e-6, 1e-6, "lrn size 2");
  lh_free(&tx), lh_free(&ty);
  clfer_runtime_destroy(rt);
}

Test(ops_norm, lrn_bad_input_is_reported) {
  clfer_runtime_t *rt = test_runtime();
  int xs[4] = {1, 4, 2, 2}, ys[4] = {1, 4, 2, 3};
  clfer_tensor_t x, y;
  cr_assert_eq(clfer_tensor_create(rt, 4, xs, &x), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 4, ys, &y), CLFER_OK);
  clfer_lrn_params_t p = {5, 1e-4f, 0.75f, 1.0f}, bad = {0, 1e-4f, 0.75f, 1.0f}, badk = {5, 1e-4f, 0.75f, 0.0f};
  cr_assert_eq(clfer_lrn_forward(rt, &p, &x, &y, NULL), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "lrn_forward") && strstr(clfer_last_error(), "lrn.c:"), "message: %s",
            clfer_last_error());
  cr_assert_eq(clfer_lrn_forward(rt, &bad, &x, &x, NULL), CLFER_INVALID_ARGUMENT);
  cr_assert_eq(clfer_lrn_forward(rt, &badk, &x, &x, NULL), CLFER_INVALID_ARGUMENT);
  cr_assert_eq(clfer_lrn_backward(rt, &p, &x, &x, NULL, &x, &x), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "scale"), "message: %s", clfer_last_error());
  clfer_tensor_release(&x), clfer_tensor_release(&y);
  clfer_runtime_destroy(rt);
}
