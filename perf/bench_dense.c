/* bench_dense.c — dense layers at small batches (docs/perf.md, "Small-batch dense layers"): each
 * pass (forward with bias, input gradient, weight and bias gradient) of a few classifier shapes,
 * through clfer_dense_* as the device runs them, and on a CPU device also on the GEMM path alone
 * (CLFER_DENSE=gemm: clfer's own CPU GEMM) and with CLBlast alone (CLFER_GPU_PATHS=1, which turns
 * the CPU kernels and GEMM off), with the ratios. Device time from the runtime's profiler, best of
 * --reps.
 * usage: bench_dense [--device D] [--reps N] [N:IN:OUT ...] (default: the shapes in docs/perf.md) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfer.h"

static clfer_runtime_t *rt;
static int reps = 3;

/* best device ms of one pass over reps (after one untimed call); -1 on failure */
static double pass_ms(int pass, clfer_tensor_t *x, clfer_tensor_t *w, clfer_tensor_t *b, clfer_tensor_t *y,
                      clfer_tensor_t *dx, clfer_tensor_t *dw, clfer_tensor_t *db) {
  double best = 1e30;
  for (int r = 0; r <= reps; r++) {
    clfer_profile_reset(rt);
    clfer_status st = pass == 0   ? clfer_dense_forward(rt, x, w, b, y)
                      : pass == 1 ? clfer_dense_backward_data(rt, y, w, dx)
                                  : clfer_dense_backward_weights(rt, x, y, dw, db);
    if (st || clfer_runtime_finish(rt)) return -1;
    const clfer_profile_row_t *rows;
    int count;
    clfer_profile_rows(rt, &rows, &count);
    double ms = 0;
    for (int i = 0; i < count; i++) ms += rows[i].total_ms;
    if (r && ms < best) best = ms;
  }
  return best;
}

static int bench_shape(int n, int in, int out, int cpu) {
  int xs[2] = {n, in}, ws[2] = {out, in}, ys[2] = {n, out}, bs[1] = {out};
  clfer_tensor_t x = {0}, w = {0}, b = {0}, y = {0}, dx = {0}, dw = {0}, db = {0};
  int ok = !clfer_tensor_create(rt, 2, xs, &x) && !clfer_tensor_create(rt, 2, ws, &w) &&
           !clfer_tensor_create(rt, 1, bs, &b) && !clfer_tensor_create(rt, 2, ys, &y) &&
           !clfer_tensor_create(rt, 2, xs, &dx) && !clfer_tensor_create(rt, 2, ws, &dw) &&
           !clfer_tensor_create(rt, 1, bs, &db) && !clfer_tensor_fill(&x, 0.5f) && !clfer_tensor_fill(&w, 0.01f) &&
           !clfer_tensor_fill(&b, 0.1f);
  static const char *names[3] = {"forward", "input gradient", "weight gradient"};
  for (int pass = 0; ok && pass < 3; pass++) {
    double ms = pass_ms(pass, &x, &w, &b, &y, &dx, &dw, &db);
    if (ms < 0) ok = 0;
    char shape[48];
    snprintf(shape, sizeof shape, "%d x %d -> %d", n, in, out);
    if (!ok) break;
    if (!cpu) {
      printf("%-22s %-16s %10.3f\n", shape, names[pass], ms);
      continue;
    }
    setenv("CLFER_DENSE", "gemm", 1);
    double gemm = pass_ms(pass, &x, &w, &b, &y, &dx, &dw, &db);
    unsetenv("CLFER_DENSE");
    setenv("CLFER_GPU_PATHS", "1", 1);
    double clblast = pass_ms(pass, &x, &w, &b, &y, &dx, &dw, &db);
    unsetenv("CLFER_GPU_PATHS");
    if (clblast < 0 || gemm < 0) ok = 0;
    else
      printf("%-22s %-16s %10.3f %10.3f %10.3f %7.2f %7.2f\n", shape, names[pass], ms, gemm, clblast, gemm / ms,
             clblast / ms);
  }
  clfer_tensor_t *all[] = {&x, &w, &b, &y, &dx, &dw, &db};
  for (int i = 0; i < 7; i++) clfer_tensor_release(all[i]);
  if (!ok) fprintf(stderr, "bench_dense: %d x %d -> %d: %s\n", n, in, out, clfer_last_error());
  return ok;
}

int main(int argc, char **argv) {
  const char *device = NULL;
  int shapes[32][3], n_shapes = 0;
  for (int i = 1; i < argc; i++) {
    int a, b, c;
    if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
      device = argv[++i];
    else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc)
      reps = atoi(argv[++i]);
    else if (n_shapes < 32 && sscanf(argv[i], "%d:%d:%d", &a, &b, &c) == 3 && a > 0 && b > 0 && c > 0)
      shapes[n_shapes][0] = a, shapes[n_shapes][1] = b, shapes[n_shapes][2] = c, n_shapes++;
    else {
      fprintf(stderr, "usage: bench_dense [--device D] [--reps N] [N:IN:OUT ...]\n");
      return 2;
    }
  }
  if (reps < 1) reps = 1;
  if (n_shapes == 0) {
    /* AlexNet's fc6 at batches 1, 8, 16; VGG13-FER+'s first FC at 8 and 32; the demo's at 64 */
    static const int defaults[][3] = {{1, 9216, 4096}, {8, 9216, 4096}, {16, 9216, 4096}, {8, 4096, 1024},
                                      {32, 4096, 1024}, {64, 2304, 128},  {128, 4096, 8}};
    n_shapes = (int)(sizeof defaults / sizeof defaults[0]);
    memcpy(shapes, defaults, sizeof defaults);
  }
  clfer_runtime_options_t opt = {.device = device, .profiling = 1};
  if (clfer_runtime_create(&opt, &rt)) {
    fprintf(stderr, "bench_dense: %s\n", clfer_last_error());
    return 1;
  }
  int cpu = clfer_runtime_device(rt)->is_cpu;
  printf("device: %s; device ms, best of %d%s\n", clfer_runtime_device(rt)->name, reps,
         cpu ? "; ratios = GEMM path / clfer, CLBlast / clfer" : "");
  printf("%-22s %-16s %10s%s\n", "batch x in -> out", "pass", "clfer",
         cpu ? "  GEMM path    CLBlast    gemm clblast" : "");
  int ok = 1;
  for (int i = 0; i < n_shapes && ok; i++) ok = bench_shape(shapes[i][0], shapes[i][1], shapes[i][2], cpu);
  clfer_runtime_destroy(rt);
  return ok ? 0 : 1;
}
