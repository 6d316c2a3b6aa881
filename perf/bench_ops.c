/* bench_ops.c — convolution and training-step throughput of a zoo model (default vgg13_ferplus,
 * 1×64×64, 8 classes):
 *  - per conv layer: forward, backward-data and backward-weights GFLOP/s, the traffic its kernels
 *    report (GB/s) and both against the device's measured peaks (a roofline line per layer);
 *  - training images/s per batch size: forward (train mode) + cross-entropy objective + backward
 *    + SGD-momentum step, no host sync inside a step, as src/train/train.c runs it;
 *  - inference images/s (eval forward) and single-image latency (mean, p99).
 * Times are wall clock around clFinish after warm-up steps, so program builds are excluded; with
 * --no-conv the time from start to the end of the first training step is printed as well.
 * `--json` prints one JSON object instead of tables (perf/compare_pytorch.py reads it). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clfer.h"

#define MAX_BATCHES 8
#define MAX_CONVS 64

typedef struct options {
  const char *device, *model;
  int channels, size, classes;
  int batches[MAX_BATCHES], n_batches;
  int steps, warmup;
  int conv_batch, conv_reps;
  int infer_batch, latency_runs;
  int json, conv_profile, train_profile;
} options_t;

typedef struct conv_result {
  char layer[64];
  int n, c, h, w, o, oh, ow;
  double flops;           /* per call, same for all three directions */
  double ms[3], bytes[3]; /* forward, backward data, backward weights: wall ms per call, kernel bytes per call */
} conv_result_t;

typedef struct train_result {
  int batch;
  double step_ms, images_per_s;
} train_result_t;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Start of the process's work and the end of its first training step: the start-up cost a user
 * sees (program builds from clfer's cache or the compiler, CLBlast's kernel compiles, which
 * CLBlast keeps in memory only, allocations). */
static double t_process_start, t_first_step;

#define CHECK(expr)                                                                       \
  do {                                                                                    \
    clfer_status st_ = (expr);                                                            \
    if (st_ != CLFER_OK) {                                                                \
      fprintf(stderr, "bench_ops: %s failed: %s\n", #expr, clfer_last_error());          \
      return st_;                                                                         \
    }                                                                                     \
  } while (0)

static void usage(FILE *f) {
  fprintf(f,
          "usage: bench_ops [--device D] [--model NAME] [--size S] [--channels C] [--classes K]\n"
          "                 [--batches 32,64,256] [--steps N] [--warmup N] [--conv-batch N] [--conv-reps N]\n"
          "                 [--infer-batch N] [--latency N] [--no-conv] [--no-train] [--quick] [--json] [--conv-profile]\n"
          "                 [--train-profile]\n"
          "  --batches      training batch sizes (comma-separated; empty or --no-train skips training)\n"
          "  --steps        timed training steps per batch size (default 5), after --warmup (default 1)\n"
          "  --conv-batch   batch of the per-layer conv timings (default 32; 0 or --no-conv skips them)\n"
          "  --conv-reps    timed calls per layer and direction (default 3)\n"
          "  --infer-batch  inference (eval forward) batch (default 256; 0 skips)\n"
          "  --latency      single-image forward passes for mean/p99 latency (default 100; 0 skips)\n"
          "  --quick        --batches 32 --steps 2 --conv-batch 8 --conv-reps 1 --infer-batch 32 --latency 10\n"
          "  --json         one JSON object on stdout instead of tables\n"
          "  --conv-profile the per-kernel profile of each conv layer and direction, on stderr\n"
          "  --train-profile the per-kernel profile of the timed training steps at each batch size, on stderr\n");
}

static int parse_int(const char *text, int min, int *out) {
  char *end;
  long v = strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < min || v > 1 << 20) return -1;
  *out = (int)v;
  return 0;
}

static int parse_options(int argc, char **argv, options_t *o) {
  *o = (options_t){.model = "vgg13_ferplus", .batches = {32, 64, 256}, .n_batches = 3, .steps = 5, .warmup = 1,
                   .conv_batch = 32, .conv_reps = 3, .infer_batch = 256, .latency_runs = 100};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    int bad = 0;
    if (strcmp(a, "--help") == 0) {
      usage(stdout);
      exit(0);
    } else if (strcmp(a, "--json") == 0) o->json = 1;
    else if (strcmp(a, "--no-conv") == 0) o->conv_batch = 0;
    else if (strcmp(a, "--conv-profile") == 0) o->conv_profile = 1;
    else if (strcmp(a, "--train-profile") == 0) o->train_profile = 1;
    else if (strcmp(a, "--no-train") == 0) o->n_batches = 0;
    else if (strcmp(a, "--quick") == 0) {
      o->batches[0] = 32, o->n_batches = 1, o->steps = 2, o->conv_batch = 8, o->conv_reps = 1;
      o->infer_batch = 32, o->latency_runs = 10;
    } else if (!v) bad = 1;
    else if (strcmp(a, "--device") == 0) o->device = v, i++;
    else if (strcmp(a, "--model") == 0) o->model = v, i++;
    else if (strcmp(a, "--size") == 0) bad = parse_int(v, 1, &o->size), i++;
    else if (strcmp(a, "--channels") == 0) bad = parse_int(v, 1, &o->channels), i++;
    else if (strcmp(a, "--classes") == 0) bad = parse_int(v, 2, &o->classes), i++;
    else if (strcmp(a, "--steps") == 0) bad = parse_int(v, 1, &o->steps), i++;
    else if (strcmp(a, "--warmup") == 0) bad = parse_int(v, 0, &o->warmup), i++;
    else if (strcmp(a, "--conv-batch") == 0) bad = parse_int(v, 0, &o->conv_batch), i++;
    else if (strcmp(a, "--conv-reps") == 0) bad = parse_int(v, 1, &o->conv_reps), i++;
    else if (strcmp(a, "--infer-batch") == 0) bad = parse_int(v, 0, &o->infer_batch), i++;
    else if (strcmp(a, "--latency") == 0) bad = parse_int(v, 0, &o->latency_runs), i++;
    else if (strcmp(a, "--batches") == 0) {
      i++;
      o->n_batches = 0;
      char buf[256];
      snprintf(buf, sizeof buf, "%s", v);
      for (char *tok = strtok(buf, ","); tok && !bad; tok = strtok(NULL, ",")) {
        if (o->n_batches == MAX_BATCHES) bad = 1;
        else bad = parse_int(tok, 1, &o->batches[o->n_batches++]);
      }
    } else bad = 1;
    if (bad) {
      fprintf(stderr, "bench_ops: bad or unknown option '%s%s%s'\n", a, v ? " " : "", v ? v : "");
      usage(stderr);
      return -1;
    }
  }
  return 0;
}

/* Uniform values in [-scale, scale] from a fixed seed, so runs are comparable. */
static void fill_uniform(float *x, size_t n, float scale, uint32_t seed) {
  uint32_t s = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    x[i] = scale * ((float)(s >> 8) / 8388608.0f - 1.0f);
  }
}

static clfer_status random_tensor(clfer_runtime_t *rt, int ndim, const int *shape, float scale, uint32_t seed,
                                  clfer_tensor_t *t) {
  CHECK(clfer_tensor_create(rt, ndim, shape, t));
  size_t n = clfer_tensor_numel(t);
  float *h = malloc(n * sizeof *h);
  if (!h) return clfer_set_error(CLFER_OUT_OF_MEMORY, "bench_ops: out of host memory");
  fill_uniform(h, n, scale, seed);
  clfer_status st = clfer_tensor_upload(t, h);
  free(h);
  return st;
}

/* Sums the bytes the profiler recorded since the last reset (kernels' own traffic models). */
static double profiled_bytes(clfer_runtime_t *rt) {
  const clfer_profile_row_t *rows;
  int n;
  double bytes = 0;
  if (clfer_profile_rows(rt, &rows, &n) != CLFER_OK) return 0;
  for (int i = 0; i < n; i++) bytes += rows[i].bytes;
  return bytes;
}

/* Times forward, backward-data and backward-weights of one conv layer (3×3, stride 1, "same"
 * padding as every VGG13-FER+ conv; other kernel shapes are derived from the sizes). */
static clfer_status bench_conv(clfer_runtime_t *rt, const options_t *o, conv_result_t *r) {
  int pad = 1, k = 3;
  if (r->oh != r->h) return clfer_set_error(CLFER_UNSUPPORTED, "bench_ops: layer %s is not a 3x3 same conv", r->layer);
  clfer_conv2d_params_t p = {k, k, 1, 1, pad, pad, 1};
  int xs[4] = {r->n, r->c, r->h, r->w}, ws[4] = {r->o, r->c, k, k}, bs[1] = {r->o}, ys[4] = {r->n, r->o, r->oh, r->ow};
  clfer_tensor_t x = {0}, w = {0}, b = {0}, y = {0}, dy = {0}, dx = {0}, dw = {0}, db = {0};
  CHECK(random_tensor(rt, 4, xs, 1.0f, 1, &x));
  CHECK(random_tensor(rt, 4, ws, 0.1f, 2, &w));
  CHECK(random_tensor(rt, 1, bs, 0.1f, 3, &b));
  CHECK(random_tensor(rt, 4, ys, 1.0f, 4, &dy));
  CHECK(clfer_tensor_create(rt, 4, ys, &y));
  CHECK(clfer_tensor_create(rt, 4, xs, &dx));
  CHECK(clfer_tensor_create(rt, 4, ws, &dw));
  CHECK(clfer_tensor_create(rt, 1, bs, &db));
  r->flops = 2.0 * r->n * r->o * (double)r->c * k * k * r->oh * r->ow;
  for (int dir = 0; dir < 3; dir++) {
    for (int pass = 0; pass < 2; pass++) { /* pass 0 warms up (program builds, pool) */
      int reps = pass ? o->conv_reps : 1;
      CHECK(clfer_runtime_finish(rt));
      clfer_profile_reset(rt);
      double t0 = now();
      for (int i = 0; i < reps; i++) {
        if (dir == 0) CHECK(clfer_conv2d_forward(rt, &p, &x, &w, &b, &y));
        else if (dir == 1) CHECK(clfer_conv2d_backward_data(rt, &p, &dy, &w, &dx));
        else CHECK(clfer_conv2d_backward_weights(rt, &p, &x, &dy, &dw, &db));
      }
      CHECK(clfer_runtime_finish(rt));
      r->ms[dir] = (now() - t0) * 1e3 / reps;
      r->bytes[dir] = profiled_bytes(rt) / reps;
      if (pass && o->conv_profile) {
        static const char *const dirs[] = {"forward", "backward_data", "backward_weights"};
        fprintf(stderr, "--- %s %s, %d calls\n", r->layer, dirs[dir], reps);
        clfer_profile_report(rt, stderr);
      }
    }
  }
  clfer_profile_reset(rt);
  clfer_tensor_t *all[] = {&x, &w, &b, &y, &dy, &dx, &dw, &db};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) clfer_tensor_release(all[i]);
  return CLFER_OK;
}

typedef struct model {
  clfer_net_t *net;
  clfer_optim_t *optim;
  int c, h, w, k;
} model_t;

static clfer_status build_model(clfer_runtime_t *rt, const options_t *o, model_t *m) {
  CHECK(clfer_zoo_build(rt, o->model, o->channels, o->size, o->size, o->classes, &m->net));
  CHECK(clfer_net_init(m->net, CLFER_INIT_PYTORCH, 1));
  int shape[3], nd;
  clfer_net_input_shape(m->net, shape);
  m->c = shape[0], m->h = shape[1], m->w = shape[2];
  clfer_net_node_shape(m->net, clfer_net_output_node(m->net), &nd, shape);
  m->k = shape[0];
  int n = clfer_net_param_count(m->net), j = 0;
  clfer_optim_param_t *params = calloc((size_t)n + 1, sizeof *params);
  if (!params) return clfer_set_error(CLFER_OUT_OF_MEMORY, "bench_ops: out of host memory");
  for (int i = 0; i < n; i++) {
    clfer_net_param_t *p = clfer_net_param(m->net, i);
    if (!p->is_buffer) params[j++] = (clfer_optim_param_t){p->name, &p->value, &p->grad, 1.0f, 0};
  }
  clfer_optim_config_t cfg = clfer_optim_defaults(CLFER_OPTIM_SGD);
  cfg.momentum = 0.9;
  clfer_status st = clfer_optim_create(rt, &cfg, params, j, &m->optim);
  free(params);
  return st;
}

/* Training images/s at one batch size: the same sequence as one step of clfer train. */
static clfer_status bench_train(clfer_runtime_t *rt, const options_t *o, model_t *m, int batch, train_result_t *r) {
  int xs[4] = {batch, m->c, m->h, m->w}, ts[2] = {batch, m->k}, ls[1] = {batch}, one[1] = {1};
  clfer_tensor_t x = {0}, targets = {0}, labels = {0}, dlogits = {0}, loss = {0};
  CHECK(random_tensor(rt, 4, xs, 1.0f, 5, &x));
  CHECK(clfer_tensor_create(rt, 2, ts, &targets));
  CHECK(clfer_tensor_create(rt, 1, ls, &labels));
  CHECK(clfer_tensor_create(rt, 2, ts, &dlogits));
  CHECK(clfer_tensor_create(rt, 1, one, &loss));
  float *ht = calloc((size_t)batch * m->k, sizeof *ht), *hl = malloc((size_t)batch * sizeof *hl);
  if (!ht || !hl) return clfer_set_error(CLFER_OUT_OF_MEMORY, "bench_ops: out of host memory");
  for (int i = 0; i < batch; i++) ht[(size_t)i * m->k + i % m->k] = 1.0f, hl[i] = (float)(i % m->k);
  CHECK(clfer_tensor_upload(&targets, ht));
  CHECK(clfer_tensor_upload(&labels, hl));
  free(ht), free(hl);
  clfer_loss_term_t term = {.kind = CLFER_LOSS_XENT, .weight = 1};
  double t0 = 0;
  for (int s = 0; s < o->warmup + o->steps; s++) {
    if (s == o->warmup) {
      CHECK(clfer_runtime_finish(rt));
      if (o->train_profile) {
        clfer_profile_reset(rt);
        CHECK(clfer_profile_enable(rt, 1));
      }
      t0 = now();
    }
    const clfer_tensor_t *logits;
    CHECK(clfer_net_forward(m->net, &x, 1, (uint64_t)s, &logits));
    clfer_loss_inputs_t in = {.logits = logits, .targets = &targets, .labels = &labels};
    CHECK(clfer_objective(rt, &term, 1, &in, &dlogits, NULL, &loss, 1));
    CHECK(clfer_net_backward(m->net, &dlogits, NULL));
    CHECK(clfer_optim_step(m->optim, 0.001f));
    if (t_first_step == 0) {
      CHECK(clfer_runtime_finish(rt));
      t_first_step = now();
    }
  }
  CHECK(clfer_runtime_finish(rt));
  double sec = (now() - t0) / o->steps;
  if (o->train_profile) {
    CHECK(clfer_profile_enable(rt, 0));
    fprintf(stderr, "profile of %d training steps at batch %d (step time includes profiling):\n", o->steps, batch);
    clfer_profile_report(rt, stderr);
    clfer_profile_reset(rt);
  }
  r->batch = batch, r->step_ms = sec * 1e3, r->images_per_s = batch / sec;
  float value;
  CHECK(clfer_tensor_download(&loss, &value));
  if (!isfinite(value)) return clfer_set_error(CLFER_NUMERICAL, "bench_ops: loss is not finite at batch %d", batch);
  clfer_net_release_activations(m->net);
  clfer_tensor_t *all[] = {&x, &targets, &labels, &dlogits, &loss};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) clfer_tensor_release(all[i]);
  return CLFER_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Eval-mode forward passes: images/s at `batch` (when > 0) and single-image latency. */
static clfer_status bench_infer(clfer_runtime_t *rt, const options_t *o, model_t *m, double *infer_ips,
                                double *lat_mean, double *lat_p99) {
  if (o->infer_batch > 0) {
    int xs[4] = {o->infer_batch, m->c, m->h, m->w};
    clfer_tensor_t x;
    CHECK(random_tensor(rt, 4, xs, 1.0f, 6, &x));
    const clfer_tensor_t *y;
    double t0 = 0;
    for (int s = 0; s < o->warmup + o->steps; s++) {
      if (s == o->warmup) {
        CHECK(clfer_runtime_finish(rt));
        t0 = now();
      }
      CHECK(clfer_net_forward(m->net, &x, 0, 0, &y));
    }
    CHECK(clfer_runtime_finish(rt));
    *infer_ips = o->infer_batch * o->steps / (now() - t0);
    clfer_net_release_activations(m->net);
    clfer_tensor_release(&x);
  }
  if (o->latency_runs > 0) {
    int xs[4] = {1, m->c, m->h, m->w};
    clfer_tensor_t x;
    CHECK(random_tensor(rt, 4, xs, 1.0f, 7, &x));
    double *t = malloc((size_t)o->latency_runs * sizeof *t);
    if (!t) return clfer_set_error(CLFER_OUT_OF_MEMORY, "bench_ops: out of host memory");
    const clfer_tensor_t *y;
    for (int s = 0; s < 3; s++) CHECK(clfer_net_forward(m->net, &x, 0, 0, &y)); /* warm-up */
    CHECK(clfer_runtime_finish(rt));
    double sum = 0;
    for (int s = 0; s < o->latency_runs; s++) {
      double t0 = now();
      CHECK(clfer_net_forward(m->net, &x, 0, 0, &y));
      CHECK(clfer_runtime_finish(rt));
      t[s] = (now() - t0) * 1e3;
      sum += t[s];
    }
    qsort(t, (size_t)o->latency_runs, sizeof *t, cmp_double);
    *lat_mean = sum / o->latency_runs;
    int i99 = (int)ceil(0.99 * o->latency_runs) - 1;
    *lat_p99 = t[i99 < 0 ? 0 : i99];
    free(t);
    clfer_net_release_activations(m->net);
    clfer_tensor_release(&x);
  }
  return CLFER_OK;
}

static void loadavg(char *buf, size_t size) {
  FILE *f = fopen("/proc/loadavg", "r");
  buf[0] = '\0';
  if (f) {
    if (!fgets(buf, (int)size, f)) buf[0] = '\0';
    fclose(f);
  }
  buf[strcspn(buf, "\n")] = '\0';
}

static const char *dir_names[3] = {"forward", "backward_data", "backward_weights"};

static void print_tables(const clfer_device_info_t *d, const options_t *o, const model_t *m,
                         const clfer_device_peaks_t *peaks, const char *load, const conv_result_t *convs, int n_convs,
                         const train_result_t *train, int n_train, double infer_ips, double lat_mean, double lat_p99) {
  printf("device: %s | %s | driver %s\n", d->name, d->platform_name, d->driver_version);
  printf("model: %s, input %dx%dx%d, %d classes; load average at start: %s\n", o->model, m->c, m->h, m->w, m->k, load);
  if (peaks->gflops > 0)
    printf("device peaks: %.1f GFLOP/s, %.1f GB/s (%s)\n", peaks->gflops, peaks->gbs, peaks->method);
  if (n_convs) {
    printf("\nconv layers at batch %d (%d timed calls each; GB/s = traffic the kernels report; %% of peaks)\n",
           o->conv_batch, o->conv_reps);
    printf("%-14s %-18s %-17s %9s %9s %7s %8s %7s\n", "layer", "in -> out", "direction", "ms", "GFLOP/s", "%FLOP",
           "GB/s", "%BW");
    for (int i = 0; i < n_convs; i++) {
      const conv_result_t *r = &convs[i];
      char shape[64];
      snprintf(shape, sizeof shape, "%dx%dx%d->%d", r->c, r->h, r->w, r->o);
      for (int dir = 0; dir < 3; dir++) {
        double gf = r->flops / (r->ms[dir] * 1e-3) * 1e-9, gb = r->bytes[dir] / (r->ms[dir] * 1e-3) * 1e-9;
        printf("%-14s %-18s %-17s %9.2f %9.1f %7.1f %8.1f %7.1f\n", dir ? "" : r->layer, dir ? "" : shape,
               dir_names[dir], r->ms[dir], gf, peaks->gflops > 0 ? 100 * gf / peaks->gflops : 0, gb,
               peaks->gbs > 0 ? 100 * gb / peaks->gbs : 0);
      }
    }
  }
  if (n_train && t_first_step > 0 && o->conv_batch == 0)
    printf("\nstart-up to the end of the first training step: %.2f s\n", t_first_step - t_process_start);
  if (n_train) {
    printf("\ntraining step (forward + xent + backward + SGD momentum), %d timed steps after %d warm-up\n", o->steps,
           o->warmup);
    printf("%8s %12s %12s\n", "batch", "step ms", "images/s");
    for (int i = 0; i < n_train; i++)
      printf("%8d %12.1f %12.1f\n", train[i].batch, train[i].step_ms, train[i].images_per_s);
  }
  if (infer_ips > 0) printf("\ninference (eval forward) batch %d: %.1f images/s\n", o->infer_batch, infer_ips);
  if (lat_mean > 0)
    printf("single-image latency (%d runs): mean %.3f ms, p99 %.3f ms\n", o->latency_runs, lat_mean, lat_p99);
}

static void print_json(const clfer_device_info_t *d, const options_t *o, const model_t *m,
                       const clfer_device_peaks_t *peaks, const char *load, const conv_result_t *convs, int n_convs,
                       const train_result_t *train, int n_train, double infer_ips, double lat_mean, double lat_p99) {
  printf("{\"device\":\"%s\",\"platform\":\"%s\",\"driver\":\"%s\",\"loadavg\":\"%s\",\n", d->name, d->platform_name,
         d->driver_version, load);
  printf(" \"model\":\"%s\",\"input\":[%d,%d,%d],\"classes\":%d,\n", o->model, m->c, m->h, m->w, m->k);
  printf(" \"peaks\":{\"gflops\":%.3f,\"gbs\":%.3f},\n", peaks->gflops, peaks->gbs);
  printf(" \"conv_batch\":%d,\"conv\":[", o->conv_batch);
  for (int i = 0; i < n_convs; i++) {
    const conv_result_t *r = &convs[i];
    printf("%s\n  {\"layer\":\"%s\",\"in\":[%d,%d,%d],\"out\":%d,\"gflop\":%.6f", i ? "," : "", r->layer, r->c, r->h, r->w,
           r->o, r->flops * 1e-9);
    for (int dir = 0; dir < 3; dir++)
      printf(",\"%s\":{\"ms\":%.4f,\"gflops\":%.3f,\"gbs\":%.3f}", dir_names[dir], r->ms[dir],
             r->flops / (r->ms[dir] * 1e-3) * 1e-9, r->bytes[dir] / (r->ms[dir] * 1e-3) * 1e-9);
    printf("}");
  }
  printf("],\n \"train\":[");
  for (int i = 0; i < n_train; i++)
    printf("%s{\"batch\":%d,\"step_ms\":%.3f,\"images_per_s\":%.3f}", i ? "," : "", train[i].batch, train[i].step_ms,
           train[i].images_per_s);
  printf("],\n \"first_step_s\":");
  if (n_train && t_first_step > 0 && o->conv_batch == 0) printf("%.4f", t_first_step - t_process_start);
  else printf("null");
  printf(",\n \"infer\":");
  if (infer_ips > 0) printf("{\"batch\":%d,\"images_per_s\":%.3f}", o->infer_batch, infer_ips);
  else printf("null");
  printf(",\n \"latency\":");
  if (lat_mean > 0) printf("{\"runs\":%d,\"mean_ms\":%.4f,\"p99_ms\":%.4f}", o->latency_runs, lat_mean, lat_p99);
  else printf("null");
  printf("}\n");
}

static int run(const options_t *o) {
  clfer_runtime_options_t ro = {.device = o->device, .profiling = 1};
  clfer_runtime_t *rt;
  CHECK(clfer_runtime_create(&ro, &rt));
  CHECK(clfer_profile_enable(rt, 0)); /* only the conv timings record their traffic */
  const clfer_device_info_t *d = clfer_runtime_device(rt);
  char load[128];
  loadavg(load, sizeof load);

  model_t m = {0};
  CHECK(build_model(rt, o, &m));
  static conv_result_t convs[MAX_CONVS];
  int n_convs = 0;
  if (o->conv_batch > 0) {
    CHECK(clfer_profile_enable(rt, 1));
    for (int node = 1; node < clfer_net_node_count(m.net) && n_convs < MAX_CONVS; node++) {
      if (strcmp(clfer_net_node_type(m.net, node), "conv2d") != 0) continue;
      conv_result_t *r = &convs[n_convs];
      int nd, in[3], out[3];
      clfer_net_node_shape(m.net, node - 1, &nd, in); /* the zoo's feature stacks are sequential */
      clfer_net_node_shape(m.net, node, &nd, out);
      snprintf(r->layer, sizeof r->layer, "%s", clfer_net_node_name(m.net, node));
      r->n = o->conv_batch, r->c = in[0], r->h = in[1], r->w = in[2], r->o = out[0], r->oh = out[1], r->ow = out[2];
      if (!o->json) fprintf(stderr, "conv %s ...\n", r->layer);
      CHECK(bench_conv(rt, o, r));
      n_convs++;
    }
    CHECK(clfer_profile_enable(rt, 0));
  }
  train_result_t train[MAX_BATCHES];
  for (int i = 0; i < o->n_batches; i++) {
    if (!o->json) fprintf(stderr, "training at batch %d ...\n", o->batches[i]);
    CHECK(bench_train(rt, o, &m, o->batches[i], &train[i]));
  }
  double infer_ips = 0, lat_mean = 0, lat_p99 = 0;
  CHECK(bench_infer(rt, o, &m, &infer_ips, &lat_mean, &lat_p99));
  /* measured last, so that the start-up figure does not include it */
  clfer_device_peaks_t peaks = {0};
  if (clfer_device_peaks(rt, &peaks) != CLFER_OK) fprintf(stderr, "bench_ops: no peaks: %s\n", clfer_last_error());
  (o->json ? print_json : print_tables)(d, o, &m, &peaks, load, convs, n_convs, train, o->n_batches, infer_ips,
                                         lat_mean, lat_p99);
  clfer_optim_destroy(m.optim);
  clfer_net_destroy(m.net);
  clfer_runtime_destroy(rt);
  return 0;
}

int main(int argc, char **argv) {
  t_process_start = now();
  options_t o;
  if (parse_options(argc, argv, &o)) return 2;
  return run(&o) == 0 ? 0 : 1;
}
