/* bench_runtime.c — prints the runtime's basic figures on one device: cold and warm program
 * builds (every embedded kernel file, empty vs filled clfer disk cache), empty-kernel launch
 * overhead, host<->device bandwidth, and CLBlast SGEMM GFLOP/s for square sizes 512..4096, with
 * CLBlast's own parameters and with clfer's per-device tuning table.
 * usage: bench_runtime [--device D] [--max-gemm N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <clblast_c.h>

#include "clfer.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int die(const char *what) {
  fprintf(stderr, "bench_runtime: %s: %s\n", what, clfer_last_error());
  return 1;
}

/* C = A·B, n×n row-major: plain CLBlast, or through clfer_sgemm */
static int gemm(clfer_runtime_t *rt, int through_clfer, int n, const clfer_tensor_t *a, const clfer_tensor_t *b,
                const clfer_tensor_t *c) {
  if (through_clfer) return clfer_sgemm(rt, 0, 0, n, n, n, 1.0f, a->buf, 0, n, b->buf, 0, n, 0.0f, c->buf, 0, n);
  cl_command_queue queue = clfer_runtime_queue(rt);
  return CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo, n, n, n, 1.0f, a->buf, 0, n,
                      b->buf, 0, n, 0.0f, c->buf, 0, n, &queue, NULL) != CLBlastSuccess;
}

/* Builds every embedded program and launches one kernel so lazily-compiling drivers (PoCL) pay
 * their code generation too; returns seconds from runtime creation to the first finished launch. */
static double time_startup(const char *device, const char *cache_dir, int no_cache, clfer_program_stats_t *stats) {
  double t0 = now();
  clfer_runtime_options_t opt = {.device = device, .cache_dir = cache_dir, .no_disk_cache = no_cache};
  clfer_runtime_t *rt;
  if (clfer_runtime_create(&opt, &rt)) return -1;
  for (const char *const *name = clfer_kernel_sources(); *name; name++) {
    cl_program p;
    if (clfer_program_get(rt, *name, NULL, &p)) {
      clfer_runtime_destroy(rt);
      return -1;
    }
  }
  size_t g[1] = {1};
  if (CLFER_RUN(rt, "basic", NULL, "empty_kernel", 1, g, NULL, ((clfer_cost_t){0})) || clfer_runtime_finish(rt)) {
    clfer_runtime_destroy(rt);
    return -1;
  }
  double t = now() - t0;
  *stats = clfer_program_stats(rt);
  clfer_runtime_destroy(rt);
  return t;
}

int main(int argc, char **argv) {
  const char *device = NULL;
  int max_gemm = 4096;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = argv[++i];
    else if (strcmp(argv[i], "--max-gemm") == 0 && i + 1 < argc) max_gemm = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: bench_runtime [--device D] [--max-gemm N]\n");
      return 2;
    }
  }
  /* A private, empty cache directory makes the cold figure honest. */
  char cache_dir[] = "/tmp/clfer-bench-cacheXXXXXX";
  if (!mkdtemp(cache_dir)) return die("mkdtemp");

  clfer_program_stats_t cold_stats, first_stats, warm_stats, nocache_stats;
  double cold = time_startup(device, cache_dir, 0, &cold_stats);
  if (cold < 0) return die("cold start");
  /* the first warm start also builds one program from source, to measure whether the cache pays */
  double first = time_startup(device, cache_dir, 0, &first_stats);
  if (first < 0) return die("first warm start");
  double warm = time_startup(device, cache_dir, 0, &warm_stats);
  if (warm < 0) return die("warm start");
  double nocache = time_startup(device, cache_dir, 1, &nocache_stats);
  if (nocache < 0) return die("start without cache");

  clfer_runtime_options_t opt = {.device = device};
  clfer_runtime_t *rt;
  if (clfer_runtime_create(&opt, &rt)) return die("runtime");
  const clfer_device_info_t *d = clfer_runtime_device(rt);
  printf("device: %s | %s | driver %s\n", d->name, d->platform_name, d->driver_version);
  int nfiles = 0;
  for (const char *const *n = clfer_kernel_sources(); *n; n++) nfiles++;
  printf("program builds (%d kernel files + first launch):\n", nfiles);
  printf("  cold (empty clfer cache)      %8.3f s  (%u compiled, %.3f s in clBuildProgram)\n", cold, cold_stats.compiles,
         cold_stats.build_seconds);
  printf("  first warm (measures verdict) %8.3f s  (%u from cache)\n", first, first_stats.disk_hits);
  printf("  warm (clfer disk cache)       %8.3f s  (%u from cache, %u compiled, %.3f s in clBuildProgram)  speed-up "
         "%.1fx\n",
         warm, warm_stats.disk_hits, warm_stats.compiles, warm_stats.build_seconds, cold / warm);
  printf("  clfer cache off (CLFER_NO_CACHE=1, driver caches only) %8.3f s\n", nocache);
  printf("  verdict: the disk cache %s here (one program: %.2f ms from the binary, %.2f ms from source)\n",
         warm_stats.disk_verdict > 0 ? "pays and is used" : warm_stats.disk_verdict < 0 ? "does not pay and is skipped" : "was not measured",
         1e3 * warm_stats.verdict_binary_seconds, 1e3 * warm_stats.verdict_source_seconds);

  /* launch overhead: many empty kernels, one finish */
  size_t g[1] = {1};
  CLFER_RUN(rt, "basic", NULL, "empty_kernel", 1, g, NULL, ((clfer_cost_t){0}));
  clfer_runtime_finish(rt);
  const int launches = 2000;
  double t0 = now();
  for (int i = 0; i < launches; i++)
    if (CLFER_RUN(rt, "basic", NULL, "empty_kernel", 1, g, NULL, ((clfer_cost_t){0}))) return die("launch");
  clfer_runtime_finish(rt);
  printf("empty-kernel launch (enqueue + run, %d launches): %.2f us each\n", launches, (now() - t0) / launches * 1e6);

  /* bandwidth */
  const size_t mib = 64;
  int shape[1] = {(int)(mib * 1048576 / 4)};
  clfer_tensor_t t;
  float *host = malloc(mib * 1048576);
  if (!host || clfer_tensor_create(rt, 1, shape, &t)) return die("bandwidth buffers");
  memset(host, 1, mib * 1048576);
  clfer_tensor_upload(&t, host);
  t0 = now();
  for (int i = 0; i < 5; i++) clfer_tensor_upload(&t, host);
  double up = 5.0 * mib / 1024.0 / (now() - t0);
  t0 = now();
  for (int i = 0; i < 5; i++) clfer_tensor_download(&t, host);
  double down = 5.0 * mib / 1024.0 / (now() - t0);
  printf("host->device %.2f GB/s, device->host %.2f GB/s (%zu MiB blocking copies, pageable memory)\n",
         up * 1.073741824, down * 1.073741824, mib);
  clfer_tensor_release(&t);
  free(host);

  /* CLBlast as it comes first (plain CLBlastSgemm), then clfer_sgemm on CLBlast: the tuning
   * table's parameters and path choice and the column-major form (an override cannot be undone
   * within a process, so this order); then, on CPU devices, clfer_sgemm on clfer's own kernels */
  const char *engine = clfer_sgemm_engine(rt);
  int own = strcmp(engine, "clblast") != 0;
  for (int tuned = 0; tuned < 2 + own; tuned++) {
    if (tuned == 1) setenv("CLFER_GEMM", "clblast", 1);
    if (tuned == 2) unsetenv("CLFER_GEMM");
    printf(tuned == 2   ? "clfer_sgemm on clfer's own CPU kernels (kernels/gemm.cl; what conv and dense layers get "
                          "here):\n"
           : tuned == 1 ? "clfer_sgemm on CLBlast (tuning table of src/ops/gemm_tuning.c, form chosen per call%s):\n"
                        : "CLBlast SGEMM (row-major NN, square), CLBlast's own parameters:\n",
           own ? "" : "; what conv and dense layers get");
    for (int n = 512; n <= max_gemm; n *= 2) {
      clfer_tensor_t a, b, c;
      int s[1] = {n * n};
      if (clfer_tensor_create(rt, 1, s, &a) || clfer_tensor_create(rt, 1, s, &b) || clfer_tensor_create(rt, 1, s, &c))
        return die("gemm buffers");
      clfer_tensor_fill(&a, 0.5f), clfer_tensor_fill(&b, 0.25f);
      if (gemm(rt, tuned > 0, n, &a, &b, &c)) return die("sgemm");
      clfer_runtime_finish(rt);
      int reps = n <= 1024 ? 10 : (n <= 2048 ? 4 : 2);
      if (d->is_cpu) reps = n >= 2048 ? 1 : 3;
      t0 = now();
      for (int r = 0; r < reps; r++) gemm(rt, tuned > 0, n, &a, &b, &c);
      clfer_runtime_finish(rt);
      double sec = (now() - t0) / reps;
      printf("  %5d  %9.1f GFLOP/s  (%.3f ms)\n", n, 2.0 * n * n * (double)n / sec * 1e-9, sec * 1e3);
      fflush(stdout);
      clfer_tensor_release(&a), clfer_tensor_release(&b), clfer_tensor_release(&c);
    }
  }
  clfer_runtime_destroy(rt);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", cache_dir);
  if (system(cmd) != 0) fprintf(stderr, "bench_runtime: could not remove %s\n", cache_dir);
  return 0;
}
