/* test_runtime.c — device-selection parsing, the CPU cache-size fallback, program build errors with
 * kernel line numbers, the on-disk program cache (hit, corrupt file fallback, off switch), launch
 * checks, and profiling. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

Test(selector, parses_every_form) {
  clfer_device_selector_t s;
  cr_assert_eq(clfer_device_selector_parse(NULL, &s), CLFER_OK);
  cr_assert_eq(s.kind, CLFER_SELECT_AUTO);
  cr_assert_eq(clfer_device_selector_parse("auto", &s), CLFER_OK);
  cr_assert_eq(s.kind, CLFER_SELECT_AUTO);
  cr_assert_eq(clfer_device_selector_parse("GPU", &s), CLFER_OK);
  cr_assert_eq(s.kind, CLFER_SELECT_GPU);
  cr_assert_eq(clfer_device_selector_parse("cpu", &s), CLFER_OK);
  cr_assert_eq(s.kind, CLFER_SELECT_CPU);
  cr_assert_eq(clfer_device_selector_parse("nvidia", &s), CLFER_OK);
  cr_assert_eq(s.kind, CLFER_SELECT_VENDOR);
  cr_assert_eq(s.vendor, CLFER_VENDOR_NVIDIA);
  cr_assert_eq(clfer_device_selector_parse("pocl", &s), CLFER_OK);
  cr_assert_eq(s.vendor, CLFER_VENDOR_POCL);
  cr_assert_eq(clfer_device_selector_parse("1:2", &s), CLFER_OK);
  cr_assert_eq(s.kind, CLFER_SELECT_INDEX);
  cr_assert_eq(s.platform_index, 1);
  cr_assert_eq(s.device_index, 2);
  cr_assert_eq(clfer_device_selector_parse("H100", &s), CLFER_OK);
  cr_assert_eq(s.kind, CLFER_SELECT_NAME);
  cr_assert_str_eq(s.name, "H100");
  cr_assert_eq(clfer_device_selector_parse("1:x", &s), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "1:x") != NULL);
}

static clfer_device_info_t fake(int p, int d, const char *name, clfer_vendor v, int gpu) {
  clfer_device_info_t info;
  memset(&info, 0, sizeof info);
  info.platform_index = p;
  info.device_index = d;
  snprintf(info.name, sizeof info.name, "%s", name);
  snprintf(info.platform_name, sizeof info.platform_name, "%s", v == CLFER_VENDOR_POCL ? "Portable Computing Language" : "Vendor");
  info.vendor = v;
  info.is_gpu = gpu;
  info.is_cpu = !gpu;
  return info;
}

Test(selector, picks_the_right_device) {
  clfer_device_info_t devs[3] = {fake(0, 0, "pthread-skylake", CLFER_VENDOR_POCL, 0),
                                 fake(1, 0, "NVIDIA H100 80GB HBM3", CLFER_VENDOR_NVIDIA, 1),
                                 fake(1, 1, "NVIDIA A100", CLFER_VENDOR_NVIDIA, 1)};
  clfer_device_selector_t s;
  int i;
  clfer_device_selector_parse("auto", &s);
  cr_assert_eq(clfer_device_select(&s, devs, 3, &i), CLFER_OK);
  cr_assert_eq(i, 1, "auto prefers the first GPU");
  clfer_device_selector_parse("cpu", &s);
  clfer_device_select(&s, devs, 3, &i);
  cr_assert_eq(i, 0);
  clfer_device_selector_parse("pocl", &s);
  clfer_device_select(&s, devs, 3, &i);
  cr_assert_eq(i, 0);
  clfer_device_selector_parse("1:1", &s);
  clfer_device_select(&s, devs, 3, &i);
  cr_assert_eq(i, 2);
  clfer_device_selector_parse("a100", &s);
  clfer_device_select(&s, devs, 3, &i);
  cr_assert_eq(i, 2, "name substring is case-insensitive");
  clfer_device_selector_parse("amd", &s);
  cr_assert_eq(clfer_device_select(&s, devs, 3, &i), CLFER_NO_DEVICE);
  cr_assert(strstr(clfer_last_error(), "no amd device") != NULL, "%s", clfer_last_error());
  /* auto falls back to the CPU when there is no GPU */
  clfer_device_selector_parse("auto", &s);
  clfer_device_select(&s, devs, 1, &i);
  cr_assert_eq(i, 0);
  cr_assert_eq(clfer_device_select(&s, devs, 0, &i), CLFER_NO_DEVICE);
  cr_assert(strstr(clfer_last_error(), "/etc/OpenCL/vendors") != NULL);
}

/* A CPU device always has a cache size for the CPU forms' chunks: the driver's, else 32 MiB, and
 * CLFER_CPU_CACHE_BYTES overrides either. */
Test(device, cpu_devices_have_a_cache_size_and_obey_the_override) {
  clfer_runtime_t *rt = test_runtime();
  const clfer_device_info_t *dev = clfer_runtime_device(rt);
  if (dev->is_cpu) cr_assert_gt(dev->global_mem_cache_bytes, 0, "%s reports no cache", dev->name);
  clfer_runtime_destroy(rt);
  setenv("CLFER_CPU_CACHE_BYTES", "3000000", 1);
  rt = test_runtime();
  dev = clfer_runtime_device(rt);
  if (dev->is_cpu) cr_assert_eq(dev->global_mem_cache_bytes, 3000000);
  clfer_runtime_destroy(rt);
  unsetenv("CLFER_CPU_CACHE_BYTES");
}

Test(status, names_and_texts) {
  cr_assert_str_eq(clfer_status_name(CLFER_DEVICE_OUT_OF_MEMORY), "DEVICE_OUT_OF_MEMORY");
  cr_assert_str_eq(clfer_strerror(CLFER_OK), "success");
  cr_assert_str_eq(clfer_cl_error_name(-5), "CL_OUT_OF_RESOURCES");
  cr_assert_str_eq(clfer_cl_error_name(-9999), "CL_UNKNOWN_ERROR(-9999)");
  clfer_set_error(CLFER_PARSE_ERROR, "data.csv:%d: bad", 3);
  clfer_wrap_error(CLFER_PARSE_ERROR, "loading: ");
  cr_assert_str_eq(clfer_last_error(), "loading: data.csv:3: bad");
}

Test(program, syntax_error_reports_the_kernel_line) {
  clfer_runtime_t *rt = test_runtime();
  const char *src =
      "__kernel void fine(__global float *x) { x[0] = 1.0f; }\n"
      "\n"
      "__kernel void broken(__global float *x) { x[0] = 1.0f +; }\n";
  cl_program p;
  cr_assert_eq(clfer_program_from_source(rt, "broken_test", src, NULL, &p), CLFER_BUILD_FAILED);
  const char *msg = clfer_last_error();
  cr_assert(strstr(msg, "broken_test.cl:3:") != NULL, "message should name broken_test.cl:3, got:\n%s", msg);
  clfer_runtime_destroy(rt);
}

Test(program, unknown_program_and_kernel_are_errors) {
  clfer_runtime_t *rt = test_runtime();
  cl_kernel k;
  cr_assert_eq(clfer_kernel_get(rt, "no_such_file", NULL, "x", &k), CLFER_NOT_FOUND);
  cr_assert(strstr(clfer_last_error(), "no_such_file.cl") != NULL);
  cr_assert_eq(clfer_kernel_get(rt, "basic", NULL, "no_such_kernel", &k), CLFER_NOT_FOUND);
  cr_assert(strstr(clfer_last_error(), "no_such_kernel") != NULL);
  clfer_runtime_destroy(rt);
}

static int count_cache_files(const char *dir, char *first, size_t size) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strstr(e->d_name, ".bin") && !strstr(e->d_name, ".tmp")) {
      if (n++ == 0 && first) snprintf(first, size, "%s/%s", dir, e->d_name);
    }
  closedir(d);
  return n;
}

/* The path of the device's verdict file in dir (the only verdict-*.txt there); "" if none. */
static void find_verdict(const char *dir, char *path, size_t size) {
  path[0] = '\0';
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strncmp(e->d_name, "verdict-", 8) == 0 && !strstr(e->d_name, ".tmp")) snprintf(path, size, "%s/%s", dir, e->d_name);
  closedir(d);
}

/* A unique source so the test never sees a binary cached by another test. */
static const char *unique_source(char *buf, size_t size, const char *tag) {
  snprintf(buf, size, "/* %s */ __kernel void twice(__global float *x, int n) { int i = get_global_id(0); if (i < n) x[i] *= 2.0f; }\n", tag);
  return buf;
}

Test(program, second_build_comes_from_disk_and_corrupt_files_fall_back) {
  const char *dir = test_tmpdir("program-cache");
  clfer_runtime_options_t opt = {.cache_dir = dir};
  char src[256];
  unique_source(src, sizeof src, "cache-test");
  cl_program p;

  clfer_runtime_t *rt = test_runtime_with(&opt);
  cr_assert_eq(clfer_program_from_source(rt, "twice", src, "-DTAG=1", &p), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_program_stats(rt).compiles, 1);
  cr_assert_eq(clfer_program_from_source(rt, "twice", src, "-DTAG=1", &p), CLFER_OK);
  cr_assert_eq(clfer_program_stats(rt).memory_hits, 1, "the second request in one runtime is a memory hit");
  clfer_runtime_destroy(rt);
  char file[1200];
  cr_assert_eq(count_cache_files(dir, file, sizeof file), 1, "one binary written to %s", dir);

  rt = test_runtime_with(&opt);
  cr_assert_eq(clfer_program_from_source(rt, "twice", src, "-DTAG=1", &p), CLFER_OK);
  cr_assert_eq(clfer_program_stats(rt).disk_hits, 1, "a new runtime loads the cached binary");
  cr_assert_eq(clfer_program_stats(rt).compiles, 0, "the verdict's source build is not counted as a compile");
  /* the first hit measured whether the cache pays here; pinned to "pays" so that the rest of this
   * test checks the cache's mechanics on any device */
  char verdict[1200];
  find_verdict(dir, verdict, sizeof verdict);
  cr_assert(verdict[0], "no verdict file in %s", dir);
  test_write_text(verdict, "pays 0 0\n");
  /* the cached program must actually work */
  cl_kernel k;
  cr_assert_eq(clfer_kernel_get(rt, "twice", NULL, "twice", &k), CLFER_NOT_FOUND, "named programs are separate from files");
  clfer_runtime_destroy(rt);

  /* Different options are a different key. */
  rt = test_runtime_with(&opt);
  cr_assert_eq(clfer_program_from_source(rt, "twice", src, "-DTAG=2", &p), CLFER_OK);
  cr_assert_eq(clfer_program_stats(rt).compiles, 1);
  clfer_runtime_destroy(rt);

  /* Corrupt the first file in the middle of its payload: silently recompiled, then rewritten. */
  FILE *f = fopen(file, "r+b");
  cr_assert_not_null(f);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, size / 2, SEEK_SET);
  unsigned char byte = 0;
  fread(&byte, 1, 1, f);
  fseek(f, size / 2, SEEK_SET);
  byte ^= 0xff;
  fwrite(&byte, 1, 1, f);
  fclose(f);
  rt = test_runtime_with(&opt);
  cr_assert_eq(clfer_program_from_source(rt, "twice", src, "-DTAG=1", &p), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_program_stats(rt).compiles, 1, "corrupt cache file falls back to compiling");
  cr_assert_eq(clfer_program_stats(rt).disk_rejects, 1);
  clfer_runtime_destroy(rt);

  /* Truncate it to a few bytes: same. */
  f = fopen(file, "wb");
  fwrite("CLFER", 1, 5, f);
  fclose(f);
  rt = test_runtime_with(&opt);
  cr_assert_eq(clfer_program_from_source(rt, "twice", src, "-DTAG=1", &p), CLFER_OK);
  cr_assert_eq(clfer_program_stats(rt).compiles, 1, "truncated cache file falls back to compiling");
  clfer_runtime_destroy(rt);

  /* The file was rewritten whole: the next runtime hits the cache again. */
  rt = test_runtime_with(&opt);
  cr_assert_eq(clfer_program_from_source(rt, "twice", src, "-DTAG=1", &p), CLFER_OK);
  cr_assert_eq(clfer_program_stats(rt).disk_hits, 1);
  clfer_runtime_destroy(rt);
}

/* Whether the binary cache pays is measured at the first hit (binary load against a source build
 * with the driver's caches as they are) and kept in the cache directory; where it does not pay,
 * the cache is neither read nor written; an unreadable verdict is measured again. */
Test(program, disk_cache_verdict_is_measured_once_and_obeyed) {
  const char *dir = test_tmpdir("program-cache-verdict");
  clfer_runtime_options_t opt = {.cache_dir = dir};
  char src[256], src2[256], verdict[1200], text[512];
  unique_source(src, sizeof src, "verdict-a");
  unique_source(src2, sizeof src2, "verdict-b");
  cl_program p;
  clfer_runtime_t *rt = test_runtime_with(&opt);
  cr_assert_eq(clfer_program_from_source(rt, "twice", src, NULL, &p), CLFER_OK);
  cr_assert_eq(clfer_program_stats(rt).disk_verdict, 0, "no hit yet, nothing measured");
  clfer_runtime_destroy(rt);
  find_verdict(dir, verdict, sizeof verdict);
  cr_assert_str_eq(verdict, "", "a verdict before any hit");

  rt = test_runtime_with(&opt);
  cr_assert_eq(clfer_program_from_source(rt, "twice", src, NULL, &p), CLFER_OK);
  clfer_program_stats_t st = clfer_program_stats(rt);
  cr_assert_eq(st.disk_hits, 1);
  cr_assert(st.disk_verdict == 1 || st.disk_verdict == -1, "verdict %d after the first hit", st.disk_verdict);
  cr_assert(st.verdict_binary_seconds > 0 && st.verdict_source_seconds > 0);
  cr_assert_eq(st.disk_verdict == 1, st.verdict_source_seconds >= 2 * st.verdict_binary_seconds);
  clfer_runtime_destroy(rt);
  find_verdict(dir, verdict, sizeof verdict);
  cr_assert(verdict[0], "no verdict file");
  FILE *f = fopen(verdict, "r");
  cr_assert_not_null(f);
  cr_assert_not_null(fgets(text, sizeof text, f));
  fclose(f);
  cr_assert(strncmp(text, st.disk_verdict == 1 ? "pays " : "skip ", 5) == 0, "verdict file says %s", text);
  if (clfer_runtime_device(test_runtime())->is_cpu)
    cr_assert_eq(st.disk_verdict, 1, "PoCL's binary loads 10-20x faster than its warm source build (%.2f vs %.2f ms)",
                 1e3 * st.verdict_binary_seconds, 1e3 * st.verdict_source_seconds);

  /* "skip": the cached binary is not read, and a new program is not written */
  test_write_text(verdict, "skip 0.010 0.011\n");
  rt = test_runtime_with(&opt);
  cr_assert_eq(clfer_program_from_source(rt, "twice", src, NULL, &p), CLFER_OK);
  cr_assert_eq(clfer_program_from_source(rt, "twice_b", src2, NULL, &p), CLFER_OK);
  st = clfer_program_stats(rt);
  cr_assert_eq(st.disk_verdict, -1);
  cr_assert_eq(st.disk_hits, 0, "a cache that does not pay is not read");
  cr_assert_eq(st.compiles, 2);
  clfer_runtime_destroy(rt);
  cr_assert_eq(count_cache_files(dir, NULL, 0), 1, "nor written");

  /* an unreadable verdict is measured again at the next hit */
  test_write_text(verdict, "maybe\n");
  rt = test_runtime_with(&opt);
  cr_assert_eq(clfer_program_from_source(rt, "twice", src, NULL, &p), CLFER_OK);
  st = clfer_program_stats(rt);
  cr_assert_eq(st.disk_hits, 1);
  cr_assert_neq(st.disk_verdict, 0);
  clfer_runtime_destroy(rt);
}

Test(program, cache_can_be_turned_off) {
  const char *dir = test_tmpdir("program-cache-off");
  clfer_runtime_options_t opt = {.cache_dir = dir, .no_disk_cache = 1};
  char src[256];
  unique_source(src, sizeof src, "cache-off");
  cl_program p;
  clfer_runtime_t *rt = test_runtime_with(&opt);
  cr_assert_str_eq(clfer_program_cache_dir(rt), "");
  cr_assert_eq(clfer_program_from_source(rt, "twice", src, NULL, &p), CLFER_OK);
  clfer_runtime_destroy(rt);
  cr_assert_eq(count_cache_files(dir, NULL, 0), 0);
}

Test(program, options_start_with_the_base_options) {
  clfer_runtime_t *rt = test_runtime();
  char buf[256];
  cr_assert_eq(clfer_program_options(rt, "-DTILE=8", buf, sizeof buf), CLFER_OK);
  cr_assert(strncmp(buf, "-cl-std=CL1.2", 13) == 0, "%s", buf);
  cr_assert(strstr(buf, "-DTILE=8") != NULL);
  cr_assert_not_null(clfer_kernel_source("basic", NULL), "basic.cl is embedded");
  clfer_runtime_destroy(rt);
}

Test(launch, checks_arguments_and_local_size) {
  clfer_runtime_t *rt = test_runtime();
  clfer_tensor_t t;
  int shape[1] = {64};
  cr_assert_eq(clfer_tensor_create(rt, 1, shape, &t), CLFER_OK);
  size_t g[1] = {64};
  /* fill_f32 takes 4 arguments; 3 is refused with a message naming the kernel */
  clfer_status st = CLFER_RUN(rt, "basic", NULL, "fill_f32", 1, g, NULL, ((clfer_cost_t){0}), CLFER_ARG_MEM(t.buf),
                              CLFER_ARG_INT(0), CLFER_ARG_INT(64));
  cr_assert_neq(st, CLFER_OK);
  cr_assert(strstr(clfer_last_error(), "fill_f32") != NULL, "%s", clfer_last_error());
  size_t local[1] = {clfer_runtime_device(rt)->max_work_group_size * 2};
  st = CLFER_RUN(rt, "basic", NULL, "fill_f32", 1, g, local, ((clfer_cost_t){0}), CLFER_ARG_MEM(t.buf),
                 CLFER_ARG_INT(0), CLFER_ARG_INT(64), CLFER_ARG_FLOAT(1));
  cr_assert_eq(st, CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "local size") != NULL || strstr(clfer_last_error(), "work-group") != NULL,
            "%s", clfer_last_error());
  /* a local size that does not divide the global size is rounded up, not refused */
  size_t g2[1] = {50}, l2[1] = {16};
  cr_assert_eq(CLFER_RUN(rt, "basic", NULL, "fill_f32", 1, g2, l2, ((clfer_cost_t){0}), CLFER_ARG_MEM(t.buf),
                         CLFER_ARG_INT(0), CLFER_ARG_INT(50), CLFER_ARG_FLOAT(3)),
               CLFER_OK, "%s", clfer_last_error());
  float host[64];
  clfer_tensor_download(&t, host);
  cr_assert_float_eq(host[49], 3.0f, 0);
  clfer_tensor_release(&t);
  clfer_runtime_destroy(rt);
}

Test(profile, records_every_launch_and_writes_a_trace) {
  clfer_runtime_options_t opt = {.profiling = 1};
  clfer_runtime_t *rt = test_runtime_with(&opt);
  clfer_tensor_t a, b, c;
  int sa[1] = {32 * 16}, sb[1] = {16 * 8}, sc[1] = {32 * 8};
  cr_assert_eq(clfer_tensor_create(rt, 1, sa, &a), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, sb, &b), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, sc, &c), CLFER_OK);
  for (int i = 0; i < 5; i++) cr_assert_eq(clfer_tensor_fill(&a, 1.0f), CLFER_OK);
  cr_assert_eq(clfer_tensor_fill(&b, 2.0f), CLFER_OK);
  cr_assert_eq(clfer_sgemm(rt, 0, 0, 32, 8, 16, 1.0f, a.buf, 0, 16, b.buf, 0, 8, 0.0f, c.buf, 0, 8), CLFER_OK);
  cr_assert_eq(clfer_profile_launches(rt), 7, "6 fills + 1 sgemm recorded");
  const clfer_profile_row_t *rows;
  int n;
  cr_assert_eq(clfer_profile_rows(rt, &rows, &n), CLFER_OK);
  cr_assert_eq(n, 2);
  unsigned long fills = 0, gemms = 0;
  for (int i = 0; i < n; i++) {
    if (strcmp(rows[i].name, "fill_f32") == 0) fills = rows[i].calls;
    if (strcmp(rows[i].name, "sgemm") == 0) {
      gemms = rows[i].calls;
      cr_assert_float_eq(rows[i].flops, 2.0 * 32 * 8 * 16, 1e-6);
    }
    cr_assert(rows[i].total_ms >= 0);
  }
  cr_assert_eq(fills, 6);
  cr_assert_eq(gemms, 1);

  char path[1100];
  snprintf(path, sizeof path, "%s/trace.json", test_tmpdir("trace"));
  cr_assert_eq(clfer_profile_write_trace(rt, path), CLFER_OK);
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f);
  char buf[65536];
  size_t len = fread(buf, 1, sizeof buf - 1, f);
  buf[len] = '\0';
  fclose(f);
  cJSON *json = cJSON_Parse(buf);
  cr_assert_not_null(json, "trace is valid JSON");
  cJSON *events = cJSON_GetObjectItem(json, "traceEvents");
  cr_assert(cJSON_IsArray(events));
  int complete = 0;
  cJSON *e;
  cJSON_ArrayForEach(e, events) {
    cJSON *ph = cJSON_GetObjectItem(e, "ph");
    if (ph && strcmp(ph->valuestring, "X") == 0) {
      complete++;
      cr_assert(cJSON_GetObjectItem(e, "ts") && cJSON_GetObjectItem(e, "dur"));
    }
  }
  cr_assert_eq(complete, 7);
  cJSON_Delete(json);

  char *report = NULL;
  size_t report_len = 0;
  FILE *mem = open_memstream(&report, &report_len);
  cr_assert_eq(clfer_profile_report(rt, mem), CLFER_OK);
  fclose(mem);
  cr_assert(strstr(report, "fill_f32") && strstr(report, "sgemm") && strstr(report, "GFLOP/s"), "%s", report);
  free(report);
  clfer_tensor_release(&a), clfer_tensor_release(&b), clfer_tensor_release(&c);
  clfer_runtime_destroy(rt);
}

Test(profile, off_by_default_and_refused_without_a_profiling_queue) {
  clfer_runtime_t *rt = test_runtime();
  if (getenv("CLFER_PROFILE")) cr_skip_test("CLFER_PROFILE is set");
  cr_assert_eq(clfer_profile_enabled(rt), 0);
  cr_assert_eq(clfer_profile_enable(rt, 1), CLFER_UNSUPPORTED);
  clfer_runtime_destroy(rt);
}

/* An async upload from a host buffer, a marker behind it, a wait: the host may then reuse the
 * buffer while the device copy keeps the uploaded values (how the training loop stages batches). */
Test(queue, marker_lets_the_host_reuse_an_async_upload) {
  clfer_runtime_t *rt = test_runtime();
  enum { N = 4096 };
  int shape[1] = {N};
  clfer_tensor_t t;
  cr_assert_eq(clfer_tensor_create(rt, 1, shape, &t), CLFER_OK, "%s", clfer_last_error());
  float *host = malloc(N * sizeof *host), *back = malloc(N * sizeof *back);
  for (int i = 0; i < N; i++) host[i] = (float)i;
  cl_event uploaded = NULL;
  cr_assert_eq(clfer_tensor_upload_async(&t, host), CLFER_OK);
  cr_assert_eq(clfer_queue_marker(rt, &uploaded), CLFER_OK, "%s", clfer_last_error());
  cr_assert_not_null(uploaded);
  cr_assert_eq(clfer_event_wait(&uploaded), CLFER_OK, "%s", clfer_last_error());
  cr_assert_null(uploaded, "the event is released and cleared");
  cr_assert_eq(clfer_event_wait(&uploaded), CLFER_OK, "waiting on no event returns at once");
  for (int i = 0; i < N; i++) host[i] = -1.0f; /* reuse the staging memory */
  cr_assert_eq(clfer_tensor_download(&t, back), CLFER_OK);
  for (int i = 0; i < N; i++) cr_assert_eq(back[i], (float)i, "element %d is %g", i, back[i]);
  free(host), free(back);
  clfer_tensor_release(&t);
  clfer_runtime_destroy(rt);
}
