/* profile.c — per-launch event records folded into a per-kernel table (calls, time, GFLOP/s,
 * GB/s from each op's cost model, and where each kernel sits on the device's roofline) and
 * written as a Chrome trace that Perfetto opens. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_internal.h"

static const char *intern(clfer_runtime_t *rt, const char *name) {
  for (size_t i = 0; i < rt->n_names; i++)
    if (strcmp(rt->names[i], name) == 0) return rt->names[i];
  if (rt->n_names == rt->cap_names) {
    size_t cap = rt->cap_names ? 2 * rt->cap_names : 64;
    char **grown = realloc(rt->names, cap * sizeof *grown);
    if (!grown) return "?";
    rt->names = grown;
    rt->cap_names = cap;
  }
  char *copy = strdup(name);
  if (!copy) return "?";
  rt->names[rt->n_names++] = copy;
  return copy;
}

void clfer__profile_record(clfer_runtime_t *rt, cl_event event, const char *name, double flops, double bytes) {
  clfer__profile_record_span(rt, NULL, event, name, flops, bytes);
}

void clfer__profile_record_span(clfer_runtime_t *rt, cl_event begin, cl_event event, const char *name,
                                double flops, double bytes) {
  if (rt->n_events == rt->cap_events) {
    size_t cap = rt->cap_events ? 2 * rt->cap_events : 1024;
    clfer__event_record_t *grown = realloc(rt->events, cap * sizeof *grown);
    if (!grown) { /* keep running; the launch just goes unrecorded */
      clReleaseEvent(event);
      if (begin) clReleaseEvent(begin);
      return;
    }
    rt->events = grown;
    rt->cap_events = cap;
  }
  clfer__event_record_t *r = &rt->events[rt->n_events++];
  r->event = event;
  r->begin = begin;
  r->name = intern(rt, name);
  r->flops = flops;
  r->bytes = bytes;
  r->start_ns = r->end_ns = 0;
}

int clfer_profile_enabled(const clfer_runtime_t *rt) { return rt->profiling; }

clfer_status clfer_profile_enable(clfer_runtime_t *rt, int on) {
  if (on && !rt->queue_profiling)
    return clfer_set_error(CLFER_UNSUPPORTED,
                           "profiling needs a queue created with profiling (options.profiling or CLFER_PROFILE=1)");
  rt->profiling = on;
  return CLFER_OK;
}

unsigned long clfer_profile_launches(const clfer_runtime_t *rt) { return (unsigned long)rt->n_events; }

/* Reads the timestamps of events not yet collected and releases them. */
static clfer_status collect(clfer_runtime_t *rt) {
  if (rt->n_events == 0) return CLFER_OK;
  CLFER_CL_CHECK(clFinish(rt->queue));
  for (size_t i = 0; i < rt->n_events; i++) {
    clfer__event_record_t *r = &rt->events[i];
    if (!r->event) continue;
    cl_ulong s = 0, e = 0;
    clGetEventProfilingInfo(r->event, CL_PROFILING_COMMAND_START, sizeof s, &s, NULL);
    clGetEventProfilingInfo(r->event, CL_PROFILING_COMMAND_END, sizeof e, &e, NULL);
    if (r->begin) {
      cl_ulong opened = 0;
      if (clGetEventProfilingInfo(r->begin, CL_PROFILING_COMMAND_END, sizeof opened, &opened, NULL) == CL_SUCCESS &&
          opened && opened < s)
        s = opened;
      clReleaseEvent(r->begin);
      r->begin = NULL;
    }
    r->start_ns = s;
    r->end_ns = e >= s ? e : s;
    clReleaseEvent(r->event);
    r->event = NULL;
  }
  return CLFER_OK;
}

static int by_total_desc(const void *a, const void *b) {
  const clfer_profile_row_t *x = a, *y = b;
  return (x->total_ms < y->total_ms) - (x->total_ms > y->total_ms);
}

clfer_status clfer_profile_rows(clfer_runtime_t *rt, const clfer_profile_row_t **rows, int *count) {
  clfer_status st = collect(rt);
  if (st) return st;
  free(rt->rows);
  rt->rows = calloc(rt->n_names ? rt->n_names : 1, sizeof *rt->rows);
  if (!rt->rows) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory building the profile");
  rt->n_rows = 0;
  for (size_t i = 0; i < rt->n_events; i++) {
    const clfer__event_record_t *r = &rt->events[i];
    int j = 0;
    while (j < rt->n_rows && strcmp(rt->rows[j].name, r->name) != 0) j++;
    if (j == rt->n_rows) {
      snprintf(rt->rows[j].name, sizeof rt->rows[j].name, "%s", r->name);
      rt->n_rows++;
    }
    rt->rows[j].calls++;
    rt->rows[j].total_ms += (double)(r->end_ns - r->start_ns) * 1e-6;
    rt->rows[j].flops += r->flops;
    rt->rows[j].bytes += r->bytes;
  }
  qsort(rt->rows, (size_t)rt->n_rows, sizeof *rt->rows, by_total_desc);
  *rows = rt->rows;
  *count = rt->n_rows;
  return CLFER_OK;
}


/* ---- device peaks for the roofline -------------------------------------------------------------
 * Measured rather than taken from spec sheets: device info has no FP32 lanes per compute unit,
 * and PoCL's "compute units" are host threads of unknown SIMD width. An FMA-chain kernel gives
 * the attainable FLOP rate (8 independent float16 chains per work-item, so latency hides and
 * PoCL, which does not vectorise this loop across work-items, fills its SIMD lanes; float4
 * measured 2-4x lower there), a float4 copy the attainable bandwidth. Both are timed on the host
 * around clFinish after a warm-up, sized to ~0.1 s, best of 3, and kept per device. */

static const char peak_source[] =
    "__kernel void peak_fma(__global float *out, int iters, float a, float b) {\n"
    "  size_t gid = get_global_id(0);\n"
    "  float16 x0 = (float16)((float)(gid & 1023) * 1e-4f), x1 = x0 + 0.1f, x2 = x0 + 0.2f, x3 = x0 + 0.3f;\n"
    "  float16 x4 = x0 + 0.4f, x5 = x0 + 0.5f, x6 = x0 + 0.6f, x7 = x0 + 0.7f;\n"
    "  for (int i = 0; i < iters; i++) {\n"
    "    x0 = mad(x0, a, b); x1 = mad(x1, a, b); x2 = mad(x2, a, b); x3 = mad(x3, a, b);\n"
    "    x4 = mad(x4, a, b); x5 = mad(x5, a, b); x6 = mad(x6, a, b); x7 = mad(x7, a, b);\n"
    "  }\n"
    "  float16 s = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;\n"
    "  float8 h = s.lo + s.hi;\n"
    "  float4 q = h.lo + h.hi;\n"
    "  out[gid] = q.x + q.y + q.z + q.w;\n"
    "}\n"
    "__kernel void peak_copy(__global const float4 *src, __global float4 *dst) {\n"
    "  size_t i = get_global_id(0);\n"
    "  dst[i] = src[i];\n"
    "}\n";

enum { PEAK_FLOPS_PER_ITER = 8 * 16 * 2, MAX_PEAK_DEVICES = 16 };

static pthread_mutex_t peaks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  cl_device_id device;
  clfer_device_peaks_t peaks;
} peaks_cache[MAX_PEAK_DEVICES];
static int peaks_cached;

static clfer_status timed_launch(clfer_runtime_t *rt, const clfer_launch_desc_t *d, int reps, double *best) {
  *best = 1e30;
  for (int r = 0; r < reps; r++) {
    double t0 = clfer__now_seconds();
    clfer_status st = clfer_launch(rt, d);
    if (st) return st;
    CLFER_CL_CHECK(clFinish(rt->queue));
    double t = clfer__now_seconds() - t0;
    if (t < *best) *best = t;
  }
  return CLFER_OK;
}

static clfer_status measure_peaks(clfer_runtime_t *rt, clfer_device_peaks_t *out) {
  cl_program program;
  clfer_status st = clfer_program_from_source(rt, "clfer_peaks", peak_source, NULL, &program);
  if (st) return st;
  cl_int err;
  cl_kernel fma = clCreateKernel(program, "peak_fma", &err);
  if (err != CL_SUCCESS) return clfer__cl_status(err, "clCreateKernel(peak_fma)", __FILE__, __LINE__);
  cl_kernel copy = clCreateKernel(program, "peak_copy", &err);
  if (err != CL_SUCCESS) {
    clReleaseKernel(fma);
    return clfer__cl_status(err, "clCreateKernel(peak_copy)", __FILE__, __LINE__);
  }
  size_t items = (size_t)rt->info.compute_units * 2048;
  if (items < 65536) items = 65536;
  uint64_t copy_bytes = 64u << 20;
  if (copy_bytes > rt->info.max_alloc_bytes / 2) copy_bytes = rt->info.max_alloc_bytes / 2 / 16 * 16;
  cl_mem sink = NULL, src = NULL, dst = NULL;
  if ((st = clfer_device_alloc(rt, items * sizeof(float), &sink)) || (st = clfer_device_alloc(rt, copy_bytes, &src)) ||
      (st = clfer_device_alloc(rt, copy_bytes, &dst)))
    goto done;
  int iters = 16;
  clfer_arg_t fargs[4] = {CLFER_ARG_MEM(sink), CLFER_ARG_INT(iters), CLFER_ARG_FLOAT(0.999999f), CLFER_ARG_FLOAT(1e-6f)};
  clfer_launch_desc_t fd = {.kernel = fma, .name = "peak_fma", .dims = 1, .global = {items}, .args = fargs, .nargs = 4};
  double t;
  if ((st = timed_launch(rt, &fd, 1, &t))) goto done; /* warm-up: lazy code generation */
  /* grow the loop until one launch takes ≥ 20 ms, then size it to ~0.1 s */
  for (iters = 256; iters < (1 << 24); iters *= 4) {
    fargs[1] = CLFER_ARG_INT(iters);
    if ((st = timed_launch(rt, &fd, 1, &t))) goto done;
    if (t >= 0.02) break;
  }
  double scaled = iters * (0.1 / (t > 0 ? t : 1e-3));
  iters = scaled > (1 << 26) ? (1 << 26) : scaled < 16 ? 16 : (int)scaled;
  fargs[1] = CLFER_ARG_INT(iters);
  if ((st = timed_launch(rt, &fd, 3, &t))) goto done;
  out->gflops = (double)items * iters * PEAK_FLOPS_PER_ITER / t * 1e-9;

  clfer_arg_t cargs[2] = {CLFER_ARG_MEM(src), CLFER_ARG_MEM(dst)};
  clfer_launch_desc_t cd = {.kernel = copy, .name = "peak_copy", .dims = 1, .global = {copy_bytes / 16}, .args = cargs,
                            .nargs = 2};
  if ((st = timed_launch(rt, &cd, 1, &t)) || (st = timed_launch(rt, &cd, 3, &t))) goto done;
  out->gbs = 2.0 * (double)copy_bytes / t * 1e-9;
  snprintf(out->method, sizeof out->method, "measured: FMA-chain kernel, %llu MiB copy kernel",
           (unsigned long long)(copy_bytes >> 20));
done:
  if (sink) clfer_device_free(rt, sink, items * sizeof(float));
  if (src) clfer_device_free(rt, src, copy_bytes);
  if (dst) clfer_device_free(rt, dst, copy_bytes);
  clReleaseKernel(fma);
  clReleaseKernel(copy);
  return st;
}

clfer_status clfer_device_peaks(clfer_runtime_t *rt, clfer_device_peaks_t *out) {
  memset(out, 0, sizeof *out);
  const char *ef = getenv("CLFER_PEAK_GFLOPS"), *eb = getenv("CLFER_PEAK_GBS");
  if (ef && eb && atof(ef) > 0 && atof(eb) > 0) {
    out->gflops = atof(ef), out->gbs = atof(eb);
    snprintf(out->method, sizeof out->method, "from CLFER_PEAK_GFLOPS and CLFER_PEAK_GBS");
    return CLFER_OK;
  }
  pthread_mutex_lock(&peaks_lock);
  for (int i = 0; i < peaks_cached; i++)
    if (peaks_cache[i].device == rt->info.device) {
      *out = peaks_cache[i].peaks;
      pthread_mutex_unlock(&peaks_lock);
      return CLFER_OK;
    }
  pthread_mutex_unlock(&peaks_lock);
  int was_profiling = rt->profiling;
  rt->profiling = 0; /* the probes are not part of the caller's profile */
  clfer_status st = measure_peaks(rt, out);
  rt->profiling = was_profiling;
  if (st) return st;
  pthread_mutex_lock(&peaks_lock);
  if (peaks_cached < MAX_PEAK_DEVICES) {
    peaks_cache[peaks_cached].device = rt->info.device;
    peaks_cache[peaks_cached++].peaks = *out;
  }
  pthread_mutex_unlock(&peaks_lock);
  return CLFER_OK;
}

clfer_status clfer_profile_report(clfer_runtime_t *rt, FILE *out) {
  const clfer_profile_row_t *rows;
  int n;
  clfer_status st = clfer_profile_rows(rt, &rows, &n);
  if (st) return st;
  /* The roofline columns need the device's peaks; CLFER_PEAKS=0 skips measuring them. */
  clfer_device_peaks_t peaks = {0};
  const char *want = getenv("CLFER_PEAKS");
  if (!(want && strcmp(want, "0") == 0) && clfer_device_peaks(rt, &peaks) != CLFER_OK) memset(&peaks, 0, sizeof peaks);
  double total = 0;
  for (int i = 0; i < n; i++) total += rows[i].total_ms;
  fprintf(out, "%-32s %8s %11s %10s %7s %10s %9s %7s %7s %8s\n", "kernel", "calls", "total ms", "mean us", "share",
          "GFLOP/s", "GB/s", "%FLOP", "%BW", "bound");
  for (int i = 0; i < n; i++) {
    const clfer_profile_row_t *r = &rows[i];
    double sec = r->total_ms * 1e-3;
    char gflops[16] = "-", gbs[16] = "-", pf[16] = "-", pb[16] = "-";
    const char *bound = "-";
    if (r->flops > 0 && sec > 0) {
      snprintf(gflops, sizeof gflops, "%.1f", r->flops / sec * 1e-9);
      if (peaks.gflops > 0) snprintf(pf, sizeof pf, "%.1f", 100.0 * r->flops / sec * 1e-9 / peaks.gflops);
    }
    if (r->bytes > 0 && sec > 0) {
      snprintf(gbs, sizeof gbs, "%.1f", r->bytes / sec * 1e-9);
      if (peaks.gbs > 0) snprintf(pb, sizeof pb, "%.1f", 100.0 * r->bytes / sec * 1e-9 / peaks.gbs);
    }
    /* roofline: below the ridge (peak FLOP/s ÷ peak B/s) a kernel can at best be memory-bound */
    if (peaks.gflops > 0 && r->bytes > 0)
      bound = r->flops / r->bytes >= peaks.gflops / peaks.gbs ? "compute" : "memory";
    else if (peaks.gflops > 0 && r->flops > 0)
      bound = "compute";
    fprintf(out, "%-32s %8lu %11.3f %10.1f %6.1f%% %10s %9s %7s %7s %8s\n", r->name, r->calls, r->total_ms,
            r->total_ms * 1e3 / (double)r->calls, total > 0 ? 100.0 * r->total_ms / total : 0.0, gflops, gbs, pf, pb,
            bound);
  }
  fprintf(out, "%-32s %8zu %11.3f\n", "total", rt->n_events, total);
  if (peaks.gflops > 0)
    fprintf(out, "device peaks: %.1f GFLOP/s, %.1f GB/s (%s); ridge %.1f FLOP/byte\n", peaks.gflops, peaks.gbs,
            peaks.method, peaks.gflops / peaks.gbs);
  return CLFER_OK;
}

clfer_status clfer_profile_write_trace(clfer_runtime_t *rt, const char *path) {
  clfer_status st = collect(rt);
  if (st) return st;
  char tmp[1100];
  FILE *f = clfer__replace_open(path, tmp, sizeof tmp);
  if (!f) return CLFER_IO_ERROR;
  cl_ulong t0 = 0;
  for (size_t i = 0; i < rt->n_events; i++)
    if (rt->events[i].start_ns && (!t0 || rt->events[i].start_ns < t0)) t0 = rt->events[i].start_ns;
  fprintf(f, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
  fprintf(f, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":\"%s\"}}", rt->info.name);
  for (size_t i = 0; i < rt->n_events; i++) {
    const clfer__event_record_t *r = &rt->events[i];
    fprintf(f, ",\n{\"name\":\"%s\",\"cat\":\"kernel\",\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":%.3f,\"dur\":%.3f,"
               "\"args\":{\"flops\":%.0f,\"bytes\":%.0f}}",
            r->name, (double)(r->start_ns - t0) * 1e-3, (double)(r->end_ns - r->start_ns) * 1e-3, r->flops, r->bytes);
  }
  fprintf(f, "\n]}\n");
  return clfer__replace_close(f, tmp, path);
}

void clfer_profile_reset(clfer_runtime_t *rt) {
  for (size_t i = 0; i < rt->n_events; i++) {
    if (rt->events[i].event) clReleaseEvent(rt->events[i].event);
    if (rt->events[i].begin) clReleaseEvent(rt->events[i].begin);
  }
  rt->n_events = 0;
}

void clfer__profile_free(clfer_runtime_t *rt) {
  clfer_profile_reset(rt);
  free(rt->events);
  rt->events = NULL;
  rt->cap_events = 0;
  for (size_t i = 0; i < rt->n_names; i++) free(rt->names[i]);
  free(rt->names);
  rt->names = NULL;
  rt->n_names = rt->cap_names = 0;
  free(rt->rows);
  rt->rows = NULL;
}
