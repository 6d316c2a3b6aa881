/* program.c — builds OpenCL programs from the kernels embedded at build time (or from
 * $CLFER_KERNEL_DIR while developing), with one function assembling build options, an in-memory
 * cache per runtime, and an on-disk binary cache keyed by source, options, device, driver and a
 * format version (ggml's cl-program-cache is the model). Any unusable cache file means a silent
 * recompile. Whether the disk cache pays on a device is measured once and remembered. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime_internal.h"

#define CACHE_MAGIC "CLFERBIN"
#define CACHE_FORMAT_VERSION 1u

struct clfer__embedded_kernel {
  const char *name;
  const char *source;
  size_t length;
};
extern const struct clfer__embedded_kernel clfer__embedded_kernels[];

/* ---- kernel sources ---- */

typedef struct loaded_source {
  char *name, *text;
  size_t length;
  struct loaded_source *next;
} loaded_source_t;
static loaded_source_t *dir_sources; /* kept for the process: callers hold pointers into them */

static const char *load_from_dir(const char *dir, const char *name, size_t *length) {
  for (loaded_source_t *s = dir_sources; s; s = s->next)
    if (strcmp(s->name, name) == 0) {
      if (length) *length = s->length;
      return s->text;
    }
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.cl", dir, name);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  loaded_source_t *s = calloc(1, sizeof *s);
  char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
  if (!s || !text || fread(text, 1, (size_t)size, f) != (size_t)size) {
    free(s);
    free(text);
    fclose(f);
    return NULL;
  }
  fclose(f);
  text[size] = '\0';
  s->name = strdup(name);
  s->text = text;
  s->length = (size_t)size;
  s->next = dir_sources;
  dir_sources = s;
  if (length) *length = s->length;
  return text;
}

const char *clfer_kernel_source(const char *name, size_t *length) {
  const char *dir = getenv("CLFER_KERNEL_DIR");
  if (dir && *dir) return load_from_dir(dir, name, length);
  for (const struct clfer__embedded_kernel *k = clfer__embedded_kernels; k->name; k++)
    if (strcmp(k->name, name) == 0) {
      if (length) *length = k->length;
      return k->source;
    }
  return NULL;
}

const char *const *clfer_kernel_sources(void) {
  static const char *names[256];
  if (!names[0]) {
    size_t n = 0;
    for (const struct clfer__embedded_kernel *k = clfer__embedded_kernels; k->name && n < 255; k++)
      names[n++] = k->name;
    names[n] = NULL;
  }
  return names;
}

clfer_status clfer_program_options(const clfer_runtime_t *rt, const char *extra, char *buf, size_t size) {
  int n = snprintf(buf, size, "%s%s%s", rt->base_options, extra && *extra ? " " : "", extra ? extra : "");
  if (n < 0 || (size_t)n >= size)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "build options too long (%d characters)", n);
  return CLFER_OK;
}

/* ---- hashing (FNV-1a, two seeds → 128-bit key; a collision would only cost a rebuild since
 * the file also stores the full key) ---- */

typedef struct { uint64_t h[2]; } key128_t;

static void fnv_update(key128_t *k, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) {
    k->h[0] = (k->h[0] ^ p[i]) * 0x100000001b3ull;
    k->h[1] = (k->h[1] ^ p[i]) * 0x100000001b3ull;
    k->h[1] ^= k->h[1] >> 29;
  }
}
static void fnv_string(key128_t *k, const char *s) { fnv_update(k, s, strlen(s) + 1); }

static key128_t cache_key(const clfer_runtime_t *rt, const char *source, size_t len, const char *options) {
  key128_t k = {{0xcbf29ce484222325ull, 0x84222325cbf29ce4ull}};
  uint32_t version = CACHE_FORMAT_VERSION;
  fnv_update(&k, &version, sizeof version);
  fnv_update(&k, source, len);
  fnv_string(&k, options);
  fnv_string(&k, rt->info.name);
  fnv_string(&k, rt->info.driver_version);
  fnv_string(&k, rt->info.platform_version);
  fnv_string(&k, rt->info.platform_name);
  return k;
}

static uint64_t payload_hash(const unsigned char *p, size_t n) {
  key128_t k = {{0xcbf29ce484222325ull, 0}};
  fnv_update(&k, p, n);
  return k.h[0];
}

/* The binary cache must beat the driver's own source build (with whatever cache the driver
 * keeps, e.g. NVIDIA's ~/.nv/ComputeCache, PoCL's kcache) by this factor to be used. */
#define CACHE_PAYS_FACTOR 2.0

static void verdict_path(const clfer_runtime_t *rt, char *buf, size_t size) {
  key128_t k = {{0xcbf29ce484222325ull, 0x84222325cbf29ce4ull}};
  uint32_t version = CACHE_FORMAT_VERSION;
  fnv_update(&k, &version, sizeof version);
  fnv_string(&k, rt->info.name);
  fnv_string(&k, rt->info.driver_version);
  fnv_string(&k, rt->info.platform_version);
  fnv_string(&k, rt->info.platform_name);
  snprintf(buf, size, "%s/verdict-%016llx%016llx.txt", rt->cache_dir, (unsigned long long)k.h[0],
           (unsigned long long)k.h[1]);
}

/* Opens a temporary file next to `path` (its name in tmp); finish_temp renames it over `path`
 * when everything was written, else removes it, so a reader never sees half a file. */
static FILE *open_temp(const char *path, char *tmp, size_t size, const char *mode) {
  snprintf(tmp, size, "%s.tmpXXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) return NULL;
  FILE *f = fdopen(fd, mode);
  if (!f) {
    close(fd);
    unlink(tmp);
  }
  return f;
}

static void finish_temp(FILE *f, const char *tmp, const char *path, int ok) {
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, path) != 0) unlink(tmp);
}

/* "pays B S" or "skip B S" (B, S: seconds from the binary and from source); anything else is
 * no verdict, so it is measured again. */
static void verdict_read(clfer_runtime_t *rt) {
  rt->cache_verdict_read = 1;
  char path[1200], word[8] = "";
  double b = 0, s = 0;
  verdict_path(rt, path, sizeof path);
  FILE *f = fopen(path, "r");
  if (!f) return;
  if (fscanf(f, "%7s %lf %lf", word, &b, &s) == 3 && (strcmp(word, "pays") == 0 || strcmp(word, "skip") == 0)) {
    rt->program_stats.disk_verdict = word[0] == 'p' ? 1 : -1;
    rt->program_stats.verdict_binary_seconds = b;
    rt->program_stats.verdict_source_seconds = s;
  }
  fclose(f);
}

/* Times a source build of the program that just loaded from its binary in `binary_seconds`,
 * decides, and records the verdict (temp file + rename; best effort). */
static void verdict_measure(clfer_runtime_t *rt, const char *source, size_t len, const char *options,
                            double binary_seconds) {
  cl_int err;
  double t0 = clfer__now_seconds();
  cl_program p = clCreateProgramWithSource(rt->context, 1, &source, &len, &err);
  if (err != CL_SUCCESS) return;
  err = clBuildProgram(p, 1, &rt->info.device, options, NULL, NULL);
  double source_seconds = clfer__now_seconds() - t0;
  clReleaseProgram(p);
  if (err != CL_SUCCESS) return;
  int pays = source_seconds >= CACHE_PAYS_FACTOR * binary_seconds;
  rt->program_stats.disk_verdict = pays ? 1 : -1;
  rt->program_stats.verdict_binary_seconds = binary_seconds;
  rt->program_stats.verdict_source_seconds = source_seconds;
  char path[1200], tmp[1300];
  verdict_path(rt, path, sizeof path);
  FILE *f = open_temp(path, tmp, sizeof tmp, "w");
  if (!f) return;
  int ok = fprintf(f, "%s %.6f %.6f\n# clfer's binary cache on %s (%s): %.2f ms from the binary, %.2f ms from source; "
                      "it is used when it is %.0fx faster. Delete this file to measure again.\n",
                   pays ? "pays" : "skip", binary_seconds, source_seconds, rt->info.name, rt->info.driver_version,
                   1e3 * binary_seconds, 1e3 * source_seconds, CACHE_PAYS_FACTOR) > 0;
  finish_temp(f, tmp, path, ok);
}

static void cache_path(const clfer_runtime_t *rt, key128_t key, char *buf, size_t size) {
  snprintf(buf, size, "%s/%016llx%016llx.bin", rt->cache_dir, (unsigned long long)key.h[0],
           (unsigned long long)key.h[1]);
}

static int mkdir_p(const char *dir) {
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
      *p = '/';
    }
  return (mkdir(tmp, 0755) == 0 || errno == EEXIST) ? 0 : -1;
}

/* Reads a cached binary; NULL on absence or any mismatch (counted as a reject when a file was
 * there but unusable). */
static unsigned char *cache_read(clfer_runtime_t *rt, key128_t key, size_t *size) {
  char path[1200];
  cache_path(rt, key, path, sizeof path);
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char header[8 + 4 + 4 + 16 + 8 + 8];
  unsigned char *payload = NULL;
  if (fread(header, 1, sizeof header, f) != sizeof header) goto reject;
  uint32_t version;
  uint64_t stored_key[2], length, hash;
  memcpy(&version, header + 8, 4);
  memcpy(stored_key, header + 16, 16);
  memcpy(&length, header + 32, 8);
  memcpy(&hash, header + 40, 8);
  if (memcmp(header, CACHE_MAGIC, 8) != 0 || version != CACHE_FORMAT_VERSION ||
      stored_key[0] != key.h[0] || stored_key[1] != key.h[1] || length == 0 || length > (1ull << 31))
    goto reject;
  payload = malloc(length);
  if (!payload || fread(payload, 1, length, f) != length || fgetc(f) != EOF ||
      payload_hash(payload, length) != hash)
    goto reject;
  fclose(f);
  *size = length;
  return payload;
reject:
  free(payload);
  fclose(f);
  rt->program_stats.disk_rejects++;
  return NULL;
}

/* Best effort: a cache that cannot be written only costs a compile next time. Written to a temp
 * file and renamed so a reader never sees half a file. */
static void cache_write(const clfer_runtime_t *rt, key128_t key, const unsigned char *bin, size_t size) {
  if (mkdir_p(rt->cache_dir) != 0) return;
  char path[1200], tmp[1300];
  cache_path(rt, key, path, sizeof path);
  FILE *f = open_temp(path, tmp, sizeof tmp, "wb");
  if (!f) return;
  uint32_t version = CACHE_FORMAT_VERSION, reserved = 0;
  uint64_t length = size, hash = payload_hash(bin, size);
  int ok = fwrite(CACHE_MAGIC, 1, 8, f) == 8 && fwrite(&version, 4, 1, f) == 1 &&
           fwrite(&reserved, 4, 1, f) == 1 && fwrite(key.h, 8, 2, f) == 2 &&
           fwrite(&length, 8, 1, f) == 1 && fwrite(&hash, 8, 1, f) == 1 &&
           fwrite(bin, 1, size, f) == size;
  finish_temp(f, tmp, path, ok);
}

/* Rewrites the first "PATH:LINE:COL:" of each build-log line to "NAME.cl:LINE:COL:" so errors
 * point at the kernel file whatever the driver calls its temporary source (PoCL writes
 * "error: /…/tempfile_x.cl:3:5:", NVIDIA "<kernel>:3:5:", AMD ".../CompileSource:3:5:"). */
static void format_build_log(const char *name, const char *log, char *out, size_t size) {
  size_t used = 0;
  out[0] = '\0';
  const char *line = log;
  while (*line && used + 1 < size) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    const char *path = NULL, *colon = NULL;
    for (const char *p = line; p < line + len && !colon; p++) {
      if (*p != ':' || p + 1 >= line + len || p[1] < '0' || p[1] > '9') continue;
      const char *q = p + 1;
      while (q < line + len && *q >= '0' && *q <= '9') q++;
      if (q >= line + len || *q != ':') continue;
      const char *s = p;
      while (s > line && s[-1] != ' ' && s[-1] != '\t') s--;
      if (s == p) continue;
      path = s;
      colon = p;
    }
    if (colon)
      used += (size_t)snprintf(out + used, size - used, "%.*s%s.cl%.*s\n", (int)(path - line), line, name,
                               (int)(line + len - colon), colon);
    else
      used += (size_t)snprintf(out + used, size - used, "%.*s\n", (int)len, line);
    if (used >= size) used = size - 1;
    line = end ? end + 1 : line + len;
  }
}

static clfer_status build_log_error(clfer_runtime_t *rt, cl_program program, const char *name, cl_int err) {
  size_t log_size = 0;
  clGetProgramBuildInfo(program, rt->info.device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_size);
  char *log = calloc(1, log_size + 1);
  char formatted[6000];
  formatted[0] = '\0';
  if (log) {
    clGetProgramBuildInfo(program, rt->info.device, CL_PROGRAM_BUILD_LOG, log_size, log, NULL);
    format_build_log(name, log, formatted, sizeof formatted);
  }
  free(log);
  return clfer_set_error(CLFER_BUILD_FAILED, "building kernels %s.cl for %s failed (%s):\n%s", name,
                         rt->info.name, clfer_cl_error_name(err), formatted);
}

static clfer_status build_program(clfer_runtime_t *rt, const char *name, const char *source, size_t len,
                                  const char *options, cl_program *out) {
  cl_int err = CL_SUCCESS;
  key128_t key = cache_key(rt, source, len, options);
  cl_program program = NULL;
  if (rt->disk_cache && !rt->cache_verdict_read) verdict_read(rt);
  int use_disk = rt->disk_cache && rt->program_stats.disk_verdict >= 0;
  double t0 = clfer__now_seconds();
  if (use_disk) {
    size_t bin_size = 0;
    unsigned char *bin = cache_read(rt, key, &bin_size);
    if (bin) {
      const unsigned char *bins[1] = {bin};
      cl_int bin_status = CL_SUCCESS;
      program = clCreateProgramWithBinary(rt->context, 1, &rt->info.device, &bin_size, bins, &bin_status, &err);
      free(bin);
      if (err == CL_SUCCESS && bin_status == CL_SUCCESS &&
          clBuildProgram(program, 1, &rt->info.device, options, NULL, NULL) == CL_SUCCESS) {
        double seconds = clfer__now_seconds() - t0;
        rt->program_stats.disk_hits++;
        rt->program_stats.build_seconds += seconds;
        if (rt->program_stats.disk_verdict == 0) verdict_measure(rt, source, len, options, seconds);
        *out = program;
        return CLFER_OK;
      }
      if (program) clReleaseProgram(program);
      program = NULL;
      rt->program_stats.disk_rejects++;
    }
  }
  program = clCreateProgramWithSource(rt->context, 1, &source, &len, &err);
  if (err != CL_SUCCESS) return clfer__cl_status(err, "clCreateProgramWithSource", __FILE__, __LINE__);
  err = clBuildProgram(program, 1, &rt->info.device, options, NULL, NULL);
  rt->program_stats.build_seconds += clfer__now_seconds() - t0;
  if (err != CL_SUCCESS) {
    clfer_status st = build_log_error(rt, program, name, err);
    clReleaseProgram(program);
    return st;
  }
  rt->program_stats.compiles++;
  if (use_disk) {
    size_t bin_size = 0;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof bin_size, &bin_size, NULL) == CL_SUCCESS &&
        bin_size > 0) {
      unsigned char *bin = malloc(bin_size);
      unsigned char *bins[1] = {bin};
      if (bin && clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof bins, bins, NULL) == CL_SUCCESS)
        cache_write(rt, key, bin, bin_size);
      free(bin);
    }
  }
  *out = program;
  return CLFER_OK;
}

static clfer_status program_lookup(clfer_runtime_t *rt, const char *name, const char *source, size_t len,
                                   const char *extra_options, cl_program *out) {
  char options[2048];
  clfer_status st = clfer_program_options(rt, extra_options, options, sizeof options);
  if (st) return st;
  for (clfer__program_entry_t *e = rt->programs; e; e = e->next)
    if (strcmp(e->name, name) == 0 && strcmp(e->options, options) == 0) {
      rt->program_stats.memory_hits++;
      *out = e->program;
      return CLFER_OK;
    }
  cl_program program = NULL;
  if ((st = build_program(rt, name, source, len, options, &program))) return st;
  clfer__program_entry_t *e = calloc(1, sizeof *e);
  if (!e || !(e->name = strdup(name)) || !(e->options = strdup(options))) {
    if (e) free(e->name);
    free(e);
    clReleaseProgram(program);
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory caching program %s", name);
  }
  e->program = program;
  e->next = rt->programs;
  rt->programs = e;
  *out = program;
  return CLFER_OK;
}

clfer_status clfer_program_get(clfer_runtime_t *rt, const char *name, const char *extra_options, cl_program *out) {
  size_t len = 0;
  const char *source = clfer_kernel_source(name, &len);
  if (!source) {
    const char *dir = getenv("CLFER_KERNEL_DIR");
    return clfer_set_error(CLFER_NOT_FOUND, "no kernel file %s.cl %s%s", name,
                           dir && *dir ? "in CLFER_KERNEL_DIR=" : "embedded in libclfer",
                           dir && *dir ? dir : "");
  }
  return program_lookup(rt, name, source, len, extra_options, out);
}

clfer_status clfer_program_from_source(clfer_runtime_t *rt, const char *name, const char *source,
                                       const char *extra_options, cl_program *out) {
  return program_lookup(rt, name, source, strlen(source), extra_options, out);
}

clfer_status clfer_kernel_get(clfer_runtime_t *rt, const char *program_name, const char *extra_options,
                              const char *kernel_name, cl_kernel *out) {
  cl_program program;
  clfer_status st = clfer_program_get(rt, program_name, extra_options, &program);
  if (st) return st;
  for (clfer__kernel_entry_t *e = rt->kernels; e; e = e->next)
    if (e->program == program && strcmp(e->kernel_name, kernel_name) == 0) {
      *out = e->kernel;
      return CLFER_OK;
    }
  cl_int err = CL_SUCCESS;
  cl_kernel kernel = clCreateKernel(program, kernel_name, &err);
  if (err != CL_SUCCESS)
    return clfer_set_error(err == CL_INVALID_KERNEL_NAME ? CLFER_NOT_FOUND : CLFER_OPENCL_ERROR,
                           "clCreateKernel(%s) in %s.cl failed with %s", kernel_name, program_name,
                           clfer_cl_error_name(err));
  clfer__kernel_entry_t *e = calloc(1, sizeof *e);
  if (!e || !(e->kernel_name = strdup(kernel_name))) {
    free(e);
    clReleaseKernel(kernel);
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory caching kernel %s", kernel_name);
  }
  e->program = program;
  e->kernel = kernel;
  e->next = rt->kernels;
  rt->kernels = e;
  *out = kernel;
  return CLFER_OK;
}

clfer_program_stats_t clfer_program_stats(const clfer_runtime_t *rt) { return rt->program_stats; }

const char *clfer_program_cache_dir(const clfer_runtime_t *rt) { return rt->disk_cache ? rt->cache_dir : ""; }

void clfer__programs_free(clfer_runtime_t *rt) {
  for (clfer__kernel_entry_t *e = rt->kernels, *next; e; e = next) {
    next = e->next;
    clReleaseKernel(e->kernel);
    free(e->kernel_name);
    free(e);
  }
  rt->kernels = NULL;
  for (clfer__program_entry_t *e = rt->programs, *next; e; e = next) {
    next = e->next;
    clReleaseProgram(e->program);
    free(e->name);
    free(e->options);
    free(e);
  }
  rt->programs = NULL;
}
