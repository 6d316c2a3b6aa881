/* profile.c — per-launch event records folded into a per-kernel table (calls, time, GFLOP/s,
 * GB/s from each op's cost model) and written as a Chrome trace that Perfetto opens. */
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
  if (rt->n_events == rt->cap_events) {
    size_t cap = rt->cap_events ? 2 * rt->cap_events : 1024;
    clfer__event_record_t *grown = realloc(rt->events, cap * sizeof *grown);
    if (!grown) { /* keep running; the launch just goes unrecorded */
      clReleaseEvent(event);
      return;
    }
    rt->events = grown;
    rt->cap_events = cap;
  }
  clfer__event_record_t *r = &rt->events[rt->n_events++];
  r->event = event;
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

clfer_status clfer_profile_report(clfer_runtime_t *rt, FILE *out) {
  const clfer_profile_row_t *rows;
  int n;
  clfer_status st = clfer_profile_rows(rt, &rows, &n);
  if (st) return st;
  double total = 0;
  for (int i = 0; i < n; i++) total += rows[i].total_ms;
  fprintf(out, "%-32s %8s %11s %10s %7s %10s %9s\n", "kernel", "calls", "total ms", "mean us", "share",
          "GFLOP/s", "GB/s");
  for (int i = 0; i < n; i++) {
    const clfer_profile_row_t *r = &rows[i];
    double sec = r->total_ms * 1e-3;
    char gflops[16] = "-", gbs[16] = "-";
    if (r->flops > 0 && sec > 0) snprintf(gflops, sizeof gflops, "%.1f", r->flops / sec * 1e-9);
    if (r->bytes > 0 && sec > 0) snprintf(gbs, sizeof gbs, "%.1f", r->bytes / sec * 1e-9);
    fprintf(out, "%-32s %8lu %11.3f %10.1f %6.1f%% %10s %9s\n", r->name, r->calls, r->total_ms,
            r->total_ms * 1e3 / (double)r->calls, total > 0 ? 100.0 * r->total_ms / total : 0.0, gflops, gbs);
  }
  fprintf(out, "%-32s %8zu %11.3f\n", "total", rt->n_events, total);
  return CLFER_OK;
}

clfer_status clfer_profile_write_trace(clfer_runtime_t *rt, const char *path) {
  clfer_status st = collect(rt);
  if (st) return st;
  char tmp[1100];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) return clfer_set_error(CLFER_IO_ERROR, "cannot write trace %s", path);
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
  if (fclose(f) != 0 || rename(tmp, path) != 0) {
    remove(tmp);
    return clfer_set_error(CLFER_IO_ERROR, "cannot write trace %s", path);
  }
  return CLFER_OK;
}

void clfer_profile_reset(clfer_runtime_t *rt) {
  for (size_t i = 0; i < rt->n_events; i++)
    if (rt->events[i].event) clReleaseEvent(rt->events[i].event);
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
