/* bench_augment.c — images per second of the pre-processing: the plain-C reference (one thread,
 * the batcher's host path) and kernels/augment.cl on the device (kernel only, and with the upload
 * of the gathered 8-bit batch and matrices), for FER+ (48→64, jitter, equalisation) and an
 * ImageNet-style gray→3 256/224 crop; then the batcher's host path (FER+) with 1, 2, 4, 8
 * threads (data.workers), up to the machine's cores. Usage: bench_augment [batch] [repeats]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unistd.h>

#include "clfer.h"
#include "clfer/augment.h"
#include "clfer/batch.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct bench_case {
  const char *name;
  clfer_preproc_t p;
  clfer_augment_config_t cfg;
} bench_case_t;

static int run(clfer_runtime_t *rt, const bench_case_t *bc, const uint8_t *imgs, int n, int reps) {
  enum { H = 48, W = 48 };
  size_t per = (size_t)bc->p.out_c * bc->p.out_h * bc->p.out_w;
  float *mats = malloc((size_t)n * 6 * sizeof *mats), *out = malloc(per * n * sizeof *out);
  if (!mats || !out) return 1;
  for (int i = 0; i < n; i++) clfer_augment_draw(&bc->cfg, H, W, bc->p.out_h, bc->p.out_w, 1, (uint64_t)i, mats + 6 * i);

  int host_n = n < 256 ? n : 256;
  double t0 = now();
  for (int i = 0; i < host_n; i++)
    if (clfer_preprocess_host(imgs + (size_t)i * H * W, H, W, 1, mats + 6 * i, &bc->p, out + per * i)) return 1;
  double host = host_n / (now() - t0);

  double dev_kernel = 0, dev_upload = 0;
  if (rt) {
    int shape[4] = {n, bc->p.out_c, bc->p.out_h, bc->p.out_w};
    clfer_tensor_t t;
    cl_int err;
    cl_context ctx = clfer_runtime_cl_context(rt);
    cl_mem mimg = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, (size_t)n * H * W, (void *)imgs, &err);
    cl_mem mmat = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, (size_t)n * 6 * sizeof(float), mats, &err);
    if (err != CL_SUCCESS || clfer_tensor_create(rt, 4, shape, &t)) return 1;
    /* warm-up builds the program */
    if (clfer_preprocess_device(rt, mimg, 0, n, H, W, 1, NULL, mmat, n, &bc->p, &t) || clfer_runtime_finish(rt)) {
      fprintf(stderr, "device: %s\n", clfer_last_error());
      return 1;
    }
    t0 = now();
    for (int r = 0; r < reps; r++) clfer_preprocess_device(rt, mimg, 0, n, H, W, 1, NULL, mmat, n, &bc->p, &t);
    clfer_runtime_finish(rt);
    dev_kernel = (double)n * reps / (now() - t0);
    t0 = now();
    for (int r = 0; r < reps; r++) clfer_preprocess_device_upload(rt, imgs, n, H, W, 1, mats, &bc->p, &t);
    clfer_runtime_finish(rt);
    dev_upload = (double)n * reps / (now() - t0);
    clfer_tensor_release(&t);
    clReleaseMemObject(mimg), clReleaseMemObject(mmat);
  }
  printf("%-34s %12.0f %14.0f %16.0f\n", bc->name, host, dev_kernel, dev_upload);
  free(mats), free(out);
  return 0;
}

/* Images/s the batcher delivers with `threads` filling threads when the caller only takes batches. */
static double batcher_rate(const uint8_t *imgs, int n, int threads, int reps) {
  clfer_batcher_options_t o = clfer_batcher_options_default(); /* FER+ jitter, 48→64, normalisation */
  o.batch_size = 64;
  o.threads = threads;
  clfer_batcher_t *b = NULL;
  if (clfer_batcher_create(imgs, n, 48, 48, 1, NULL, 0, &o, &b)) return -1;
  double t0 = 0;
  long images = 0;
  for (int e = 0; e <= reps; e++) { /* epoch 0 warms up */
    if (e == 1) t0 = now();
    clfer_batch_t x;
    if (clfer_batcher_start_epoch(b, e)) break;
    while (!clfer_batcher_next(b, &x) && x.n > 0)
      if (e > 0) images += x.n;
  }
  double rate = images / (now() - t0);
  clfer_batcher_destroy(b);
  return rate;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 256, reps = argc > 2 ? atoi(argv[2]) : 10;
  if (n < 1 || reps < 1) {
    fprintf(stderr, "usage: bench_augment [batch] [repeats]\n");
    return 2;
  }
  uint8_t *imgs = malloc((size_t)n * 48 * 48);
  uint64_t s = 88172645463325252ull;
  for (size_t i = 0; i < (size_t)n * 48 * 48; i++) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    imgs[i] = (uint8_t)((i % 48) * 3 + (s & 63));
  }
  clfer_runtime_t *rt = NULL;
  if (clfer_runtime_create(NULL, &rt)) {
    fprintf(stderr, "no OpenCL device (%s): host numbers only\n", clfer_last_error());
    rt = NULL;
  } else {
    printf("device: %s (%s)\n", clfer_runtime_device(rt)->name, clfer_runtime_device(rt)->platform_name);
  }
  printf("batch %d, %d repeats; images/s\n", n, reps);
  printf("%-34s %12s %14s %16s\n", "case", "C (1 thread)", "device kernel", "device + upload");
  clfer_preproc_t imagenet = clfer_preproc_linear(224, 224, 3, 1.0f / 255.0f);
  imagenet.minmax_stretch = 1;
  const bench_case_t cases[] = {
      {"FER+ 48->64 jitter + normalise", clfer_preproc_ferplus(64, 64), clfer_augment_config_ferplus()},
      {"gray->3 minmax 256/224 crop", imagenet, clfer_augment_config_crop(256, 1, 1)},
  };
  int rc = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) rc |= run(rt, &cases[i], imgs, n, reps);
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  printf("\nbatcher host path, FER+ 48->64 jitter + normalise, batch 64, %d images per epoch, %ld cores\n", n, cores);
  printf("%-8s %12s %8s\n", "threads", "images/s", "speedup");
  double one = 0;
  for (int t = 1; t <= 8 && t <= cores; t *= 2) {
    double r = batcher_rate(imgs, n, t, reps);
    if (t == 1) one = r;
    printf("%-8d %12.0f %7.2fx\n", t, r, one > 0 ? r / one : 0);
  }
  if (rt) clfer_runtime_destroy(rt);
  free(imgs);
  return rc;
}
