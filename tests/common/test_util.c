/* test_util.c — see test_util.h. */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef CLFER_TEST_TMP
#define CLFER_TEST_TMP "/tmp/clfer-test"
#endif

clfer_runtime_t *test_runtime_with(const clfer_runtime_options_t *options) {
  clfer_runtime_t *rt = NULL;
  clfer_status st = clfer_runtime_create(options, &rt);
  if (st == CLFER_NO_PLATFORM || st == CLFER_NO_DEVICE) cr_skip_test("no OpenCL device: %s", clfer_last_error());
  cr_assert_eq(st, CLFER_OK, "runtime: %s", clfer_last_error());
  return rt;
}

clfer_runtime_t *test_runtime(void) { return test_runtime_with(NULL); }

void test_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi) {
  uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = 0; i < n; i++) {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    x[i] = lo + (hi - lo) * (float)((z >> 40) * (1.0 / 16777216.0));
  }
}

double test_compare(const float *got, const float *want, size_t n, double atol, double rtol, size_t *worst) {
  double max_ratio = 0;
  *worst = 0;
  for (size_t i = 0; i < n; i++) {
    double g = got[i], w = want[i], r;
    if (isnan(g) || isnan(w))
      r = (isnan(g) && isnan(w)) ? 0 : INFINITY;
    else if (isinf(g) || isinf(w))
      r = (g == w) ? 0 : INFINITY;
    else
      r = fabs(g - w) / (atol + rtol * fabs(w));
    if (r > max_ratio || (i == 0 && r == 0)) {
      if (r > max_ratio) max_ratio = r;
      *worst = i;
    }
  }
  return max_ratio;
}

void test_setenv(clfer_runtime_t *rt, const char *name, const char *value) {
  cr_assert_eq(clfer_runtime_finish(rt), CLFER_OK, "%s", clfer_last_error());
  if (value)
    setenv(name, value, 1);
  else
    unsetenv(name);
}

const char *test_tmpdir(const char *name) {
  static char path[1024];
  /* a second run of the same binary (the *_gpu_paths tests, at the same time under ctest -j)
   * gets its own scratch through the environment */
  const char *root = getenv("CLFER_TEST_TMP");
  snprintf(path, sizeof path, "%s/%s", root && *root ? root : CLFER_TEST_TMP, name);
  char cmd[2200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", path, path);
  cr_assert_eq(system(cmd), 0, "cannot make %s", path);
  return path;
}

void test_write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "cannot write %s", path);
  size_t n = strlen(text);
  cr_assert_eq(fwrite(text, 1, n, f), n, "cannot write %s", path);
  cr_assert_eq(fclose(f), 0, "cannot write %s", path);
}

const char *test_write_in(const char *dir, const char *name, const char *text) {
  static char path[1100];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  test_write_text(path, text);
  return path;
}

char *test_read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot read %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  cr_assert_not_null(buf);
  cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n, "cannot read %s whole", path);
  buf[n] = '\0';
  fclose(f);
  if (size) *size = (size_t)n;
  return buf;
}
