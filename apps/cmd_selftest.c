/* cmd_selftest.c — `clfer selftest`: runs a few kernels, CLBlast SGEMM and (on CPU devices)
 * clfer's own SGEMM on the chosen device against plain-C references and prints each check;
 * non-zero exit on any failure. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clfer.h"
#include "commands.h"

static int report(const char *name, double max_err, double tol, int *failures) {
  int ok = max_err <= tol && !isnan(max_err);
  printf("  %-44s %s  (max error %.3g, tolerance %.3g)\n", name, ok ? "PASS" : "FAIL", max_err, tol);
  if (!ok) (*failures)++;
  return ok;
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - (double)b[i]);
    if (isnan(d)) return NAN;
    if (d > m) m = d;
  }
  return m;
}

static void ref_gemm(int ta, int tb, int m, int n, int k, const float *a, const float *b, float *c) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double s = 0;
      for (int p = 0; p < k; p++) s += (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = (float)s;
    }
}

static int check_elementwise(clfer_runtime_t *rt, int *failures) {
  enum { N = 10007 };
  float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y), *out = malloc(N * sizeof *out),
        *ref = malloc(N * sizeof *ref);
  clfer_tensor_t tx = {0}, ty = {0};
  int shape[1] = {N}, rc = 0;
  if (!x || !y || !out || !ref) goto done;
  for (int i = 0; i < N; i++) {
    x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
    y[i] = (float)((i * 11) % 53) / 26.0f - 1.0f;
  }
  if (clfer_tensor_create(rt, 1, shape, &tx) || clfer_tensor_create(rt, 1, shape, &ty)) goto fail;
  if (clfer_tensor_fill(&tx, 2.5f) || clfer_tensor_download(&tx, out)) goto fail;
  for (int i = 0; i < N; i++) ref[i] = 2.5f;
  report("fill_f32 (10007 elements)", max_abs_diff(out, ref, N), 0, failures);

  if (clfer_tensor_upload(&tx, x) || clfer_tensor_upload(&ty, y)) goto fail;
  size_t g[1] = {N};
  if (CLFER_RUN(rt, "basic", NULL, "axpy_f32", 1, g, NULL, ((clfer_cost_t){2.0 * N, 12.0 * N}),
                CLFER_ARG_MEM(ty.buf), CLFER_ARG_INT(0), CLFER_ARG_MEM(tx.buf), CLFER_ARG_INT(0), CLFER_ARG_INT(N),
                CLFER_ARG_FLOAT(-0.75f)) ||
      clfer_tensor_download(&ty, out))
    goto fail;
  for (int i = 0; i < N; i++) ref[i] = y[i] + -0.75f * x[i];
  report("axpy_f32 (y += -0.75 x)", max_abs_diff(out, ref, N), 1e-6, failures);

  clfer_tensor_t view;
  int vshape[1] = {1000};
  if (clfer_tensor_view(&tx, 17, 1, vshape, &view) || clfer_tensor_copy(&view, &ty) == CLFER_OK) {
    /* copying 10007 elements into a 1000-element view must be refused */
    report("copy into a too-small view is refused", 1, 0, failures);
  } else {
    report("copy into a too-small view is refused", 0, 0, failures);
  }
  goto done;
fail:
  rc = clfer_app_fail("element-wise check");
  (*failures)++;
done:
  clfer_tensor_release(&tx);
  clfer_tensor_release(&ty);
  free(x), free(y), free(out), free(ref);
  return rc;
}

static int check_sgemm(clfer_runtime_t *rt, int ta, int tb, int m, int n, int k, int *failures) {
  size_t na = (size_t)m * k, nb = (size_t)k * n, nc = (size_t)m * n;
  float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c),
        *ref = malloc(nc * sizeof *ref);
  clfer_tensor_t ta_ = {0}, tb_ = {0}, tc = {0};
  int rc = 0;
  if (!a || !b || !c || !ref) goto done;
  for (size_t i = 0; i < na; i++) a[i] = (float)((i * 7919) % 97) / 48.0f - 1.0f;
  for (size_t i = 0; i < nb; i++) b[i] = (float)((i * 104729) % 89) / 44.0f - 1.0f;
  int sa[1] = {(int)na}, sb[1] = {(int)nb}, sc[1] = {(int)nc};
  if (clfer_tensor_create(rt, 1, sa, &ta_) || clfer_tensor_create(rt, 1, sb, &tb_) ||
      clfer_tensor_zeros(rt, 1, sc, &tc) || clfer_tensor_upload(&ta_, a) || clfer_tensor_upload(&tb_, b))
    goto fail;
  if (clfer_sgemm(rt, ta, tb, (size_t)m, (size_t)n, (size_t)k, 1.0f, ta_.buf, 0, ta ? (size_t)m : (size_t)k,
                  tb_.buf, 0, tb ? (size_t)k : (size_t)n, 0.0f, tc.buf, 0, (size_t)n) ||
      clfer_tensor_download(&tc, c))
    goto fail;
  ref_gemm(ta, tb, m, n, k, a, b, ref);
  char name[96];
  snprintf(name, sizeof name, "SGEMM (%s) %s%s %dx%dx%d", clfer_sgemm_engine(rt), ta ? "T" : "N", tb ? "T" : "N", m,
           n, k);
  report(name, max_abs_diff(c, ref, nc), 1e-4 * k, failures);
  goto done;
fail:
  rc = clfer_app_fail("SGEMM check");
  (*failures)++;
done:
  clfer_tensor_release(&ta_);
  clfer_tensor_release(&tb_);
  clfer_tensor_release(&tc);
  free(a), free(b), free(c), free(ref);
  return rc;
}

int clfer_cmd_selftest(int argc, char **argv) {
  static const struct option longopts[] = {
      {"device", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
  const char *device = NULL;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "d:h", longopts, NULL)) != -1) {
    switch (c) {
      case 'd': device = optarg; break;
      case 'h':
        printf("usage: clfer selftest [--device D]\n\nRuns element-wise kernels, CLBlast SGEMM and (on CPU devices) clfer's\n"
               "own SGEMM on the device and compares them with plain-C references. Exit status 1 on any\n"
               "failure.\n");
        return 0;
      default: return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "clfer selftest: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  clfer_runtime_t *rt = NULL;
  clfer_runtime_options_t opt = {.device = device};
  if (clfer_runtime_create(&opt, &rt)) return clfer_app_fail("cannot open a device");
  const clfer_device_info_t *d = clfer_runtime_device(rt);
  printf("selftest on %s (%s, %s)\n", d->name, d->platform_name, d->driver_version);
  int failures = 0;
  check_elementwise(rt, &failures);
  /* the device's GEMM, then CLBlast where that is clfer's own (CPU devices) */
  for (int engine = 0; engine < 2; engine++) {
    if (engine == 1) {
      if (strcmp(clfer_sgemm_engine(rt), "clblast") == 0) break;
      clfer_runtime_finish(rt); /* PoCL's threads call getenv while kernels run; setenv races with them */
      setenv("CLFER_GEMM", "clblast", 1);
    }
    check_sgemm(rt, 0, 0, 64, 48, 32, &failures);
    check_sgemm(rt, 1, 0, 33, 65, 17, &failures);
    check_sgemm(rt, 0, 1, 128, 96, 200, &failures);
  }
  clfer_program_stats_t ps = clfer_program_stats(rt);
  printf("programs: %u compiled, %u from the disk cache (%s)\n", ps.compiles, ps.disk_hits,
         *clfer_program_cache_dir(rt) ? clfer_program_cache_dir(rt) : "cache off");
  clfer_runtime_destroy(rt);
  printf("%s: %d check(s) failed\n", failures ? "FAILED" : "OK", failures);
  return failures ? 1 : 0;
}
