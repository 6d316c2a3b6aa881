/* bench_layer_ops.c — times the layer ops (activations, pooling, dropout, batch norm, LRN,
 * softmax, element-wise) on a VGG-sized activation through the runtime's profiler, which turns
 * each op's FLOP/byte cost into GFLOP/s and GB/s. Usage: bench_layer_ops [N C H W [reps]]. */
#include <stdio.h>
#include <stdlib.h>

#include "clfer.h"

#define CHECK(expr)                                                                  \
  do {                                                                               \
    if ((expr) != CLFER_OK) {                                                        \
      fprintf(stderr, "bench_layer_ops: %s failed: %s\n", #expr, clfer_last_error()); \
      return 1;                                                                      \
    }                                                                                \
  } while (0)

int main(int argc, char **argv) {
  int N = 32, C = 64, H = 24, W = 24, reps = 10;
  if (argc >= 5) N = atoi(argv[1]), C = atoi(argv[2]), H = atoi(argv[3]), W = atoi(argv[4]);
  if (argc >= 6) reps = atoi(argv[5]);
  if (N < 1 || C < 1 || H < 3 || W < 3 || reps < 1) {
    fprintf(stderr, "usage: bench_layer_ops [N C H W [reps]]\n");
    return 2;
  }
  clfer_runtime_t *rt = NULL;
  clfer_runtime_options_t opt = {.profiling = 1};
  CHECK(clfer_runtime_create(&opt, &rt));
  clfer_pool2d_params_t pp = {3, 3, 2, 2, 0, 0, 1, 1};
  int OH = clfer_pool2d_out_size(H, 3, 2, 0, 1), OW = clfer_pool2d_out_size(W, 3, 2, 0, 1);
  int xs[4] = {N, C, H, W}, ps[4] = {N, C, OH, OW}, cs[1] = {C}, gs[4] = {N, C, 1, 1}, ss[2] = {N * C, H * W};
  clfer_tensor_t x, y, dx, m, py, am, pdx, g, b, sm, si, rm, rv, dg, db, gy, sc;
  CHECK(clfer_tensor_create(rt, 4, xs, &x));
  CHECK(clfer_tensor_fill(&x, 0.5f));
  CHECK(clfer_tensor_create(rt, 4, xs, &y));
  CHECK(clfer_tensor_create(rt, 4, xs, &dx));
  CHECK(clfer_tensor_create(rt, 4, xs, &m));
  CHECK(clfer_tensor_create(rt, 4, xs, &sc));
  CHECK(clfer_tensor_create(rt, 4, ps, &py));
  CHECK(clfer_tensor_create(rt, 4, ps, &am));
  CHECK(clfer_tensor_create(rt, 4, xs, &pdx));
  CHECK(clfer_tensor_create(rt, 4, gs, &gy));
  CHECK(clfer_tensor_zeros(rt, 1, cs, &g));
  CHECK(clfer_tensor_zeros(rt, 1, cs, &b));
  CHECK(clfer_tensor_zeros(rt, 1, cs, &rm));
  CHECK(clfer_tensor_zeros(rt, 1, cs, &rv));
  CHECK(clfer_tensor_create(rt, 1, cs, &sm));
  CHECK(clfer_tensor_create(rt, 1, cs, &si));
  CHECK(clfer_tensor_create(rt, 1, cs, &dg));
  CHECK(clfer_tensor_create(rt, 1, cs, &db));
  clfer_tensor_t x2, y2, d2;
  CHECK(clfer_tensor_reshape(&x, 2, ss, &x2));
  CHECK(clfer_tensor_reshape(&y, 2, ss, &y2));
  CHECK(clfer_tensor_reshape(&dx, 2, ss, &d2));
  clfer_batchnorm_params_t bp = {1e-5f, 0.1f};
  clfer_lrn_params_t lp = {5, 1e-4f, 0.75f, 1.0f};
  for (int pass = 0; pass < 2; pass++) { /* pass 0 builds the programs; pass 1 is measured */
    clfer_profile_reset(rt);
    for (int r = 0; r < (pass ? reps : 1); r++) {
      CHECK(clfer_relu_forward(rt, 0.0f, &x, &y));
      CHECK(clfer_relu_backward(rt, 0.0f, &y, &x, &dx));
      CHECK(clfer_maxpool2d_forward(rt, &pp, &x, &py, &am));
      CHECK(clfer_maxpool2d_backward(rt, &pp, &py, &am, &pdx));
      CHECK(clfer_avgpool2d_forward(rt, &pp, &x, &py));
      CHECK(clfer_avgpool2d_backward(rt, &pp, &py, &pdx));
      CHECK(clfer_global_avgpool_forward(rt, &x, &gy));
      CHECK(clfer_global_avgpool_backward(rt, &gy, &dx));
      CHECK(clfer_dropout_forward(rt, 0.5f, 1, (uint64_t)r, &x, &y, &m));
      CHECK(clfer_dropout_backward(rt, &y, &m, &dx));
      CHECK(clfer_batchnorm_forward_train(rt, &bp, &x, &g, &b, &y, &sm, &si, &rm, &rv));
      CHECK(clfer_batchnorm_backward(rt, &x, &y, &g, &sm, &si, &dx, &dg, &db));
      CHECK(clfer_batchnorm_forward_eval(rt, &bp, &x, &g, &b, &rm, &rv, &y));
      CHECK(clfer_lrn_forward(rt, &lp, &x, &y, &sc));
      CHECK(clfer_lrn_backward(rt, &lp, &x, &y, &sc, &x, &dx));
      CHECK(clfer_softmax_forward(rt, &x2, &y2));
      CHECK(clfer_softmax_backward(rt, &y2, &x2, &d2));
      CHECK(clfer_add(rt, &x, &y, &dx));
    }
    CHECK(clfer_runtime_finish(rt));
  }
  const clfer_device_info_t *d = clfer_runtime_device(rt);
  printf("layer ops on %s, x = [%d, %d, %d, %d], %d repetitions\n", d->name, N, C, H, W, reps);
  CHECK(clfer_profile_report(rt, stdout));
  clfer_tensor_t *all[] = {&x, &y, &dx, &m, &sc, &py, &am, &pdx, &gy, &g, &b, &rm, &rv, &sm, &si, &dg, &db};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) clfer_tensor_release(all[i]);
  clfer_runtime_destroy(rt);
  return 0;
}
