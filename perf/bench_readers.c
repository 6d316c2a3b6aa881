/* bench_readers.c — how fast data reaches the model: fer2013.csv / fer2013new.csv reading (rows/s,
 * MB/s) on a synthetic set in the real formats, PNG and JPEG decode per image, FER+ label
 * processing per row, and the data-time share of a VGG13-FER+ training step (batcher wait per step
 * against step time, batch 32, FER+ augmentation on, the training loop's host pre-processing path).
 * Usage: bench_readers [rows] [train_steps] (defaults 4000 and 4; steps 0 skips the training part;
 * rows 35887 is FER2013's full size). See docs/data.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clfer.h"
#include "clfer/augment.h"
#include "clfer/batch.h"
#include "clfer/data.h"
#include "clfer/labels.h"
#include "clfer/synth.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double file_mb(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (double)st.st_size / 1e6 : 0;
}

static int fail(const char *what) {
  fprintf(stderr, "bench_readers: %s: %s\n", what, clfer_last_error());
  return 1;
}

/* ---- CSV readers ---- */
static int bench_csv(const char *dir, int rows) {
  char fer[1024], plus[1024];
  snprintf(fer, sizeof fer, "%s/fer2013.csv", dir);
  snprintf(plus, sizeof plus, "%s/fer2013new.csv", dir);
  clfer_synth_options_t so = clfer_synth_options_default();
  so.n_train = rows * 8 / 10;
  so.n_valid = rows / 10;
  so.n_test = rows - so.n_train - so.n_valid;
  clfer_synth_data_t d;
  double t0 = now();
  if (clfer_synth_generate(&so, &d) || clfer_synth_write_fer2013(&d, fer) || clfer_synth_write_ferplus(&d, plus))
    return fail("synth");
  printf("synth set: %d rows (%.1f s to generate and write), fer2013.csv %.1f MB, fer2013new.csv %.2f MB\n", d.n,
         now() - t0, file_mb(fer), file_mb(plus));
  clfer_synth_data_free(&d);

  printf("%-40s %10s %12s %10s\n", "reader", "seconds", "rows/s", "MB/s");
  clfer_store_t *s = NULL;
  t0 = now();
  if (clfer_read_fer2013(fer, NULL, NULL, &s)) return fail(fer);
  double t = now() - t0;
  printf("%-40s %10.3f %12.0f %10.1f\n", "fer2013.csv (7 classes, 48x48)", t, rows / t, file_mb(fer) / t);
  clfer_store_destroy(s);

  t0 = now();
  if (clfer_read_fer2013(fer, plus, NULL, &s)) return fail("fer2013 + fer2013new");
  t = now() - t0;
  printf("%-40s %10.3f %12.0f %10.1f\n", "fer2013.csv + fer2013new.csv aligned", t, rows / t,
         (file_mb(fer) + file_mb(plus)) / t);
  clfer_store_destroy(s);

  clfer_read_options_t opt = {.width = 64, .height = 64};
  t0 = now();
  if (clfer_read_fer2013(fer, plus, &opt, &s)) return fail("fer2013 resized");
  t = now() - t0;
  printf("%-40s %10.3f %12.0f %10.1f\n", "  same, resized to 64x64 on load", t, rows / t,
         (file_mb(fer) + file_mb(plus)) / t);
  clfer_store_destroy(s);

  int skipped[CLFER_SPLIT_COUNT];
  t0 = now();
  if (clfer_read_ferplus_votes(plus, skipped, &s)) return fail(plus);
  t = now() - t0;
  printf("%-40s %10.3f %12.0f %10.1f\n", "fer2013new.csv alone (votes)", t, rows / t, file_mb(plus) / t);

  /* ---- FER+ label processing ---- */
  int n = s->n;
  float out[CLFER_FERPLUS_EMOTIONS];
  printf("\nFER+ label processing, %d rows (clfer_ferplus_process per row; apply = whole store)\n", n);
  printf("%-14s %12s %12s %14s\n", "mode", "ns/row", "kept", "apply ms");
  for (int m = 0; m < 4; m++) {
    int kept = 0, reps = 20;
    t0 = now();
    for (int r = 0; r < reps; r++)
      for (int i = 0; i < n; i++)
        kept += clfer_ferplus_process(s->votes + (size_t)i * s->vote_width, (clfer_ferplus_mode_t)m, out) ==
                CLFER_FERPLUS_KEEP;
    t = now() - t0;
    clfer_store_t *copy = NULL;
    if (clfer_read_ferplus_votes(plus, NULL, &copy)) return fail(plus);
    double t1 = now();
    if (clfer_ferplus_apply(copy, (clfer_ferplus_mode_t)m, NULL)) return fail("ferplus apply");
    double ta = now() - t1;
    printf("%-14s %12.1f %12d %14.2f\n", clfer_ferplus_mode_name((clfer_ferplus_mode_t)m), 1e9 * t / ((double)n * reps),
           kept / reps, 1e3 * ta);
    clfer_store_destroy(copy);
  }
  clfer_store_destroy(s);
  return 0;
}

/* ---- image decode ---- */
static int bench_decode(const char *dir, const char *name, int w, int h, int c) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  clfer_image_t img = {w, h, c, malloc((size_t)w * h * c)};
  if (!img.pixels) return 1;
  /* a smooth gradient plus ±12 of noise, so the files compress about as real faces do */
  uint64_t r = 88172645463325252ull;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int k = 0; k < c; k++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        int v = 40 + (x * 150) / w + (y * 50) / h + k * 10 + (int)(r % 25) - 12;
        img.pixels[((size_t)y * w + x) * c + k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
      }
  clfer_status st = clfer_image_save(path, &img);
  clfer_image_free(&img);
  if (st) return fail(path);
  FILE *f = fopen(path, "rb");
  if (!f) return 1;
  static uint8_t buf[1 << 20];
  size_t size = fread(buf, 1, sizeof buf, f);
  fclose(f);
  int reps = 0;
  double t0 = now(), t;
  do {
    for (int i = 0; i < 100; i++, reps++) {
      if (clfer_image_decode(buf, size, path, &img)) return fail(path);
      clfer_image_free(&img);
    }
  } while ((t = now() - t0) < 0.5);
  printf("%-28s %8zu %12.1f %12.0f\n", name, size, 1e6 * t / reps, reps / t);
  return 0;
}

/* ---- data-time share of a training step ---- */
static int bench_train(int steps) {
  clfer_runtime_t *rt = NULL;
  if (clfer_runtime_create(NULL, &rt)) {
    fprintf(stderr, "no OpenCL device (%s): training part skipped\n", clfer_last_error());
    return 0;
  }
  const clfer_device_info_t *dev = clfer_runtime_device(rt);
  enum { BS = 32, K = 8 };
  /* a synth FER+ train set: 48x48 faces with their vote distributions, as the training loop has */
  clfer_synth_options_t so = clfer_synth_options_default();
  so.n_train = 512, so.n_valid = so.n_test = 0;
  clfer_synth_data_t d;
  if (clfer_synth_generate(&so, &d)) return fail("synth");
  float *dist = calloc((size_t)d.n * K, sizeof *dist);
  for (int i = 0; i < d.n; i++)
    for (int k = 0; k < K; k++) dist[(size_t)i * K + k] = d.votes[(size_t)i * 10 + k] / 10.0f;

  clfer_batcher_options_t bo = clfer_batcher_options_default(); /* batch 32, shuffle, FER+ jitter, 64x64 */
  bo.batch_size = BS;
  bo.augment = 1;
  bo.augment_config = clfer_augment_config_ferplus();
  bo.preproc = clfer_preproc_ferplus(64, 64);
  bo.where = CLFER_BATCH_HOST;
  clfer_batcher_t *b = NULL;
  clfer_net_t *net = NULL;
  clfer_optim_t *optim = NULL;
  clfer_optim_param_t *params = NULL;
  clfer_tensor_t x = {0}, tgt = {0}, lab = {0}, dlogits = {0}, loss = {0};
  int rc = 1;
  if (clfer_batcher_create(d.pixels, d.n, 48, 48, 1, dist, K, &bo, &b)) {
    fail("batcher");
    goto done;
  }
  if (clfer_zoo_build(rt, "vgg13_ferplus", 1, 64, 64, K, &net) || clfer_net_init(net, CLFER_INIT_GLOROT_UNIFORM, 1)) {
    fail("vgg13_ferplus");
    goto done;
  }
  clfer_net_set_dropout_seed(net, 1);
  int np = clfer_net_param_count(net), j = 0;
  params = calloc((size_t)np, sizeof *params);
  for (int i = 0; i < np; i++) {
    clfer_net_param_t *p = clfer_net_param(net, i);
    if (!p->is_buffer) params[j++] = (clfer_optim_param_t){p->name, &p->value, &p->grad, 1.0f, 0};
  }
  clfer_optim_config_t oc = clfer_optim_defaults(CLFER_OPTIM_SGD);
  oc.momentum = 0.9, oc.dampening = 0.9; /* FER+ (CNTK unit-gain momentum) */
  int xs[4] = {BS, 1, 64, 64}, ts[2] = {BS, K}, ls[1] = {BS}, one[1] = {1};
  if (clfer_optim_create(rt, &oc, params, j, &optim) || clfer_tensor_create(rt, 4, xs, &x) ||
      clfer_tensor_create(rt, 2, ts, &tgt) || clfer_tensor_create(rt, 1, ls, &lab) ||
      clfer_tensor_create(rt, 2, ts, &dlogits) || clfer_tensor_create(rt, 1, one, &loss)) {
    fail("setup");
    goto done;
  }
  clfer_loss_term_t term = {.kind = CLFER_LOSS_XENT, .weight = 1};
  float host_t[BS * K], host_l[BS];
  printf("\ndata-time share, vgg13_ferplus 1x64x64, batch %d, FER+ augmentation, host pre-processing\n", BS);
  printf("device: %s (%s)\n", dev->name, dev->platform_name);
  printf("%6s %12s %12s %10s\n", "step", "step s", "wait ms", "wait %");
  if (clfer_batcher_start_epoch(b, 0)) {
    fail("epoch");
    goto done;
  }
  double sum_step = 0, sum_wait = 0;
  clfer_batcher_stats_t s0 = clfer_batcher_stats(b);
  for (int step = 0; step <= steps; step++) {
    double t0 = now();
    clfer_batch_t batch;
    if (clfer_batcher_next(b, &batch) || batch.n != BS) {
      fail("batch");
      goto done;
    }
    clfer_labels_targets(CLFER_FERPLUS_CROSSENTROPY, batch.targets, batch.sample_ids, BS, K, 1, 0, host_t);
    for (int i = 0; i < BS; i++) {
      int best = 0;
      for (int k = 1; k < K; k++)
        if (batch.targets[i * K + k] > batch.targets[i * K + best]) best = k;
      host_l[i] = (float)best;
    }
    const clfer_tensor_t *logits;
    clfer_loss_inputs_t in = {.targets = &tgt, .labels = &lab};
    if (clfer_tensor_upload(&x, batch.data) || clfer_tensor_upload(&tgt, host_t) || clfer_tensor_upload(&lab, host_l) ||
        clfer_net_forward(net, &x, 1, (uint64_t)step, &logits) || (in.logits = logits, 0) ||
        clfer_objective(rt, &term, 1, &in, &dlogits, NULL, &loss, 1) || clfer_net_backward(net, &dlogits, NULL) ||
        clfer_optim_step(optim, 0.05f) || clfer_runtime_finish(rt)) {
      fail("train step");
      goto done;
    }
    double t = now() - t0;
    /* step 0 includes kernel compilation and the worker's cold start: shown, not averaged */
    printf("%6d %12.3f %12.3f %10.4f%s\n", step, t, 1e3 * batch.wait_seconds, 100 * batch.wait_seconds / t,
           step ? "" : "  (warm-up, not averaged)");
    if (step) sum_step += t, sum_wait += batch.wait_seconds;
  }
  clfer_batcher_stats_t s1 = clfer_batcher_stats(b);
  if (steps > 0)
    printf("mean over %d steps: step %.3f s, wait %.3f ms = %.4f %% of the step; worker prepares a batch in %.1f ms\n",
           steps, sum_step / steps, 1e3 * sum_wait / steps, 100 * sum_wait / sum_step,
           1e3 *
           (s1.prepare_seconds - s0.prepare_seconds) / (double)(s1.batches - s0.batches));
  rc = 0;
done:
  clfer_tensor_release(&x), clfer_tensor_release(&tgt), clfer_tensor_release(&lab);
  clfer_tensor_release(&dlogits), clfer_tensor_release(&loss);
  clfer_optim_destroy(optim);
  free(params);
  clfer_net_destroy(net);
  clfer_batcher_destroy(b);
  free(dist);
  clfer_synth_data_free(&d);
  clfer_runtime_destroy(rt);
  return rc;
}

int main(int argc, char **argv) {
  int rows = argc > 1 ? atoi(argv[1]) : 4000, steps = argc > 2 ? atoi(argv[2]) : 4;
  if (rows < 10 || steps < 0) {
    fprintf(stderr, "usage: bench_readers [rows >= 10] [train_steps >= 0]\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0); /* progress shows when piped to a file */
  char dir[] = "/tmp/clfer_bench_readers_XXXXXX";
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  int rc = bench_csv(dir, rows);
  if (!rc) {
    printf("\nimage decode (clfer_image_decode from memory)\n%-28s %8s %12s %12s\n", "image", "bytes", "us/image",
           "images/s");
    rc |= bench_decode(dir, "fer_48x48_gray.png", 48, 48, 1);
    rc |= bench_decode(dir, "fer_48x48_gray.jpg", 48, 48, 1);
    rc |= bench_decode(dir, "raf_100x100_rgb.jpg", 100, 100, 3);
    rc |= bench_decode(dir, "ck_640x490_gray.png", 640, 490, 1);
  }
  const char *names[] = {"fer2013.csv", "fer2013new.csv", "fer_48x48_gray.png", "fer_48x48_gray.jpg",
                         "raf_100x100_rgb.jpg", "ck_640x490_gray.png"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    char p[1100];
    snprintf(p, sizeof p, "%s/%s", dir, names[i]);
    unlink(p);
  }
  rmdir(dir);
  if (!rc && steps > 0) rc = bench_train(steps);
  return rc;
}
