#define _POSIX_C_SOURCE 200809L
/* bench_gemm_forms.c — the measurements behind clfer_sgemm's form choice and the conv layouts
 * (docs/perf.md, "GEMM forms and path choice"), on one device:
 *  1. the GEMMs of VGG13-FER+ conv layers at batch 32, in the row-major [O, n·P] layouts clfer used
 *     before (plain CLBlastSgemm, row-major) against the layouts and clfer_sgemm it uses now;
 *  2. single products through CLBlast's indirect and its direct kernel (forced through the
 *     XGEMM_MIN_INDIRECT_SIZE override, column-major as clfer_sgemm runs them), next to what
 *     clfer_sgemm's per-call choice gives.
 * On CPU devices each also runs on clfer's own GEMM kernels (the "own" column; the others take
 * CLBlast through CLFER_GEMM=clblast).
 * usage: bench_gemm_forms [--device D] [--reps N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clblast_c.h>

#include "clfer.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static clfer_runtime_t *rt;
static cl_mem A, B, C; /* large enough for every product below */
static int reps = 3;

/* plain CLBlast (layout as given), or clfer_sgemm (row-major arguments) */
typedef struct call {
  int plain, col_major, ta, tb;
  size_t m, n, k, lda, ldb, ldc;
} call_t;

static int run(const call_t *c) {
  if (!c->plain)
    return clfer_sgemm(rt, c->ta, c->tb, c->m, c->n, c->k, 1.0f, A, 0, c->lda, B, 0, c->ldb, 0.0f, C, 0, c->ldc);
  cl_command_queue q = clfer_runtime_queue(rt);
  return CLBlastSgemm(c->col_major ? CLBlastLayoutColMajor : CLBlastLayoutRowMajor,
                      c->ta ? CLBlastTransposeYes : CLBlastTransposeNo, c->tb ? CLBlastTransposeYes : CLBlastTransposeNo,
                      c->m, c->n, c->k, 1.0f, A, 0, c->lda, B, 0, c->ldb, 0.0f, C, 0, c->ldc, &q, NULL) != CLBlastSuccess;
}

/* best of reps after one untimed call, in ms; -1 on failure */
static double best_ms(const call_t *c) {
  if (run(c) || clfer_runtime_finish(rt)) return -1;
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    if (run(c) || clfer_runtime_finish(rt)) return -1;
    double t = now() - t0;
    if (t < best) best = t;
  }
  return best * 1e3;
}

static void set_direct(int direct) {
  const char *name[1] = {"XGEMM_MIN_INDIRECT_SIZE"};
  size_t value[1] = {direct ? (size_t)1 << 20 : 0};
  CLBlastOverrideParameters(clfer_runtime_device(rt)->device, "GemmRoutine", CLBlastPrecisionSingle, 1, name, value);
}

int main(int argc, char **argv) {
  const char *device = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = argv[++i];
    else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: bench_gemm_forms [--device D] [--reps N]\n");
      return 2;
    }
  }
  if (reps < 1) reps = 1;
  clfer_runtime_options_t opt = {.device = device};
  if (clfer_runtime_create(&opt, &rt)) {
    fprintf(stderr, "bench_gemm_forms: %s\n", clfer_last_error());
    return 1;
  }
  const size_t bytes = (size_t)330 << 20;
  if (clfer_device_alloc(rt, bytes, &A) || clfer_device_alloc(rt, bytes, &B) || clfer_device_alloc(rt, bytes, &C)) {
    fprintf(stderr, "bench_gemm_forms: %s\n", clfer_last_error());
    return 1;
  }
  float zero = 0.0f;
  cl_command_queue q = clfer_runtime_queue(rt);
  clEnqueueFillBuffer(q, A, &zero, sizeof zero, 0, bytes, 0, NULL, NULL);
  clEnqueueFillBuffer(q, B, &zero, sizeof zero, 0, bytes, 0, NULL, NULL);
  clfer_runtime_finish(rt);
  /* one clfer_sgemm on CLBlast first, so that clfer's tuning table (a process-wide CLBlast
   * override) holds for the plain CLBlast calls too: the comparison is of layouts and forms, not
   * parameters */
  int own = strcmp(clfer_sgemm_engine(rt), "clblast") != 0;
  setenv("CLFER_GEMM", "clblast", 1);
  clfer_sgemm(rt, 0, 0, 64, 64, 64, 1.0f, A, 0, 64, B, 0, 64, 0.0f, C, 0, 64);
  const clfer_device_info_t *d = clfer_runtime_device(rt);
  printf("device: %s | %s | driver %s; best of %d, ms\n\n", d->name, d->platform_name, d->driver_version, reps);

  /* 1. conv GEMMs: O outputs, ckk = C·9 rows of columns, cols = n·P (features.2 in chunks of 27) */
  struct { const char *layer; size_t o, ckk, cols; } layers[] = {
      {"features.2", 64, 576, 27 * 4096}, {"features.8", 128, 1152, 32 * 1024},
      {"features.14", 256, 2304, 32 * 256}, {"features.22", 256, 2304, 32 * 64}};
  printf("VGG13-FER+ conv GEMMs, batch 32: before (row-major [O, n·P] layouts, plain CLBlastSgemm) / now "
         "(clfer_sgemm on CLBlast%s)\n", own ? "; own: on clfer's CPU kernels" : "");
  printf("%-12s %-17s %10s %10s %7s%s\n", "layer", "direction", "before", "now", "ratio", own ? "        own   ratio" : "");
  for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
    size_t o = layers[i].o, kk = layers[i].ckk, n = layers[i].cols;
    const char *dir[3] = {"forward", "backward data", "backward weights"};
    call_t before[3] = {
        {1, 0, 0, 0, o, n, kk, kk, n, n},  /* T[O, cols] = W · col */
        {1, 0, 1, 0, kk, n, o, kk, n, n},  /* col[ckk, cols] = Wᵀ · dY */
        {1, 0, 0, 1, o, kk, n, n, n, kk},  /* dW[O, ckk] = dY · colᵀ */
    };
    call_t after[3] = {
        {0, 0, 1, 1, n, o, kk, n, kk, o},  /* T[cols, O] = colᵀ · Wᵀ */
        {0, 0, 1, 0, n, kk, o, n, kk, kk}, /* colT[cols, ckk] = dYᵀ · W */
        {0, 0, 0, 0, o, kk, n, n, kk, kk}, /* dW[O, ckk] = dY · colT */
    };
    for (int j = 0; j < 3; j++) {
      double t0 = best_ms(&before[j]), t1 = best_ms(&after[j]);
      printf("%-12s %-17s %10.2f %10.2f %6.2fx", j ? "" : layers[i].layer, dir[j], t0, t1, t1 > 0 ? t0 / t1 : 0);
      if (own) {
        unsetenv("CLFER_GEMM");
        double t2 = best_ms(&after[j]);
        setenv("CLFER_GEMM", "clblast", 1);
        printf(" %10.2f %6.2fx", t2, t2 > 0 ? t0 / t2 : 0);
      }
      printf("\n");
    }
  }

  /* 2. single products: clfer_sgemm's choice first (its per-call setting must not be disturbed),
   * then the two kernels forced */
  struct { const char *what; int ta, tb; size_t m, n, k; } prods[] = {
      {"demo conv1 forward", 1, 1, 147456, 16, 9},   {"demo conv1 weights", 0, 0, 16, 9, 147456},
      {"VGG13 conv1 weights", 0, 0, 64, 9, 131072},  {"VGG13 conv1 forward", 1, 1, 131072, 64, 9},
      {"VGG13 8x8 block, batch 1", 1, 1, 64, 256, 2304}, {"VGG13 16x16 block, batch 1", 1, 1, 256, 256, 2304},
      {"dense 1024 -> 1024, batch 32", 0, 1, 32, 1024, 1024}};
  enum { NP = sizeof prods / sizeof prods[0] };
  double chosen[NP], own_ms[NP];
  for (int i = 0; i < NP; i++) {
    call_t c = {0, 0, prods[i].ta, prods[i].tb, prods[i].m, prods[i].n, prods[i].k,
                prods[i].ta ? prods[i].m : prods[i].k, prods[i].tb ? prods[i].k : prods[i].n, prods[i].n};
    chosen[i] = best_ms(&c);
    if (own) {
      unsetenv("CLFER_GEMM");
      own_ms[i] = best_ms(&c);
      setenv("CLFER_GEMM", "clblast", 1);
    }
  }
  printf("\nsingle products (row-major m x n x k): CLBlast's indirect and direct kernels forced, and clfer_sgemm on "
         "CLBlast%s\n", own ? " and on clfer's own CPU kernels" : "");
  printf("%-28s %22s %10s %10s %10s%s\n", "product", "m x n x k", "indirect", "direct", "clfer", own ? "        own" : "");
  for (int i = 0; i < NP; i++) {
    /* the column-major form clfer_sgemm runs when it needs no copy of C */
    call_t c = {1, 1, prods[i].tb, prods[i].ta, prods[i].n, prods[i].m, prods[i].k,
                prods[i].tb ? prods[i].k : prods[i].n, prods[i].ta ? prods[i].m : prods[i].k, prods[i].n};
    set_direct(0);
    double ind = best_ms(&c);
    set_direct(1);
    double dir = best_ms(&c);
    char dims[48];
    snprintf(dims, sizeof dims, "%zu x %zu x %zu", prods[i].m, prods[i].n, prods[i].k);
    printf("%-28s %22s %10.2f %10.2f %10.2f", prods[i].what, dims, ind, dir, chosen[i]);
    if (own) printf(" %10.2f", own_ms[i]);
    printf("\n");
  }
  clfer_device_free(rt, A, bytes), clfer_device_free(rt, B, bytes), clfer_device_free(rt, C, bytes);
  clfer_runtime_destroy(rt);
  return 0;
}
