/* bench_gemm_tune.c — tries CLBlast Xgemm parameter sets on one device (through
 * CLBlastOverrideParameters) for the GEMM shapes a VGG13-FER+ training step runs, checks each
 * result against a host reference, and prints GFLOP/s per candidate and the best set, ready for a
 * per-device tuning table. CLBlast's built-in database has no entry for PoCL's CPU devices, and
 * its generic defaults run SGEMM there at a few GFLOP/s.
 * usage: bench_gemm_tune [--device D] [--reps N] [--min-indirect S] [--only SUBSTRING]
 * (--only: the candidates whose label contains SUBSTRING, after CLBlast's default, which must come
 * first because an override cannot be undone within a process) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clblast_c.h>

#include "clfer.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Xgemm's parameters, in CLBlast's names. GEMMK 0 (the classic kernel), KREG 1. */
static const char *names[] = {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
                              "NDIMC", "NWG",  "SA",  "SB",  "STRM",  "STRN",  "VWM", "VWN"};
enum { NPARAM = sizeof names / sizeof names[0] };

typedef struct candidate {
  const char *label;
  size_t kwg, kwi, mdimc, ndimc, mwg, nwg, vwm, vwn, sa, sb;
} candidate_t;

/* Each work-item computes (MWG/MDIMC)×(NWG/NDIMC) outputs. CPU-friendly sets use no local memory
 * (SA=SB=0: PoCL emulates it) and large per-item tiles with 8- or 16-wide vectors. */
static const candidate_t candidates[] = {
    {"clblast-default", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
    {"t4x4-v4", 16, 2, 8, 8, 32, 32, 4, 4, 0, 0},
    {"t8x8-v4", 32, 2, 8, 8, 64, 64, 4, 4, 0, 0},
    {"t8x8-v8", 32, 2, 8, 8, 64, 64, 8, 8, 0, 0},
    {"t8x4-v8", 32, 2, 8, 8, 64, 32, 8, 4, 0, 0},
    {"t16x4-v16", 32, 2, 8, 8, 128, 32, 16, 4, 0, 0},
    {"t8x8-v8-k16", 16, 1, 8, 8, 64, 64, 8, 8, 0, 0},
    {"t8x8-v8-wg16", 32, 2, 16, 16, 128, 128, 8, 8, 0, 0},
    {"t16x8-v16", 32, 2, 8, 8, 128, 64, 16, 8, 0, 0},
    {"t8x8-v8-sasb", 32, 2, 8, 8, 64, 64, 8, 8, 1, 1},
    {"t4x4-v4-sasb", 16, 2, 8, 8, 32, 32, 4, 4, 1, 1},
    {"t8x8-v4-sasb", 32, 2, 8, 8, 64, 64, 4, 4, 1, 1},
    {"t8x8-v8-k16-sasb", 16, 2, 8, 8, 64, 64, 8, 8, 1, 1},
    {"t16x8-v16-sasb", 32, 2, 8, 8, 128, 64, 16, 8, 1, 1},
    {"t16x16-v16-sasb", 32, 2, 8, 8, 128, 128, 16, 16, 1, 1},
    {"t8x8-v8-wg16-sasb", 32, 2, 16, 16, 128, 128, 8, 8, 1, 1},
    {"t8x8-v8-sa", 32, 2, 8, 8, 64, 64, 8, 8, 1, 0},
    {"t8x8-v8-sb", 32, 2, 8, 8, 64, 64, 8, 8, 0, 1},
    {"t8x8-v8-k16-sb", 16, 2, 8, 8, 64, 64, 8, 8, 0, 1},
    {"t8x8-v8-k64-sb", 64, 2, 8, 8, 64, 64, 8, 8, 0, 1},
    {"t8x8-v8-kwi8-sb", 32, 8, 8, 8, 64, 64, 8, 8, 0, 1},
    {"t16x8-v16-sb", 32, 2, 8, 8, 128, 64, 16, 8, 0, 1},
    {"t16x8-v8-sb", 32, 2, 8, 8, 128, 64, 8, 8, 0, 1},
    {"t8x16-v8-sb", 32, 2, 8, 8, 64, 128, 8, 8, 0, 1},
    {"t8x8-v8-wg16-sb", 32, 2, 16, 16, 128, 128, 8, 8, 0, 1},
    {"t4x8-v4-sb", 32, 2, 8, 8, 32, 64, 4, 8, 0, 1},
};
enum { NCAND = sizeof candidates / sizeof candidates[0] };

typedef struct shape {
  const char *label;
  int ta, tb;
  size_t m, n, k;
} shape_t;

/* Row-major GEMMs of a VGG13-FER+ step at batch 32 (conv chunks as src/ops/conv2d.c forms them,
 * 27 images per chunk in block 1 under the default 256 MiB scratch cap) plus a square one. */
static const shape_t shapes[] = {
    {"conv fwd 64x64 64->64", 1, 1, 27 * 4096, 64, 576},
    {"conv fwd 16x16 256->256", 1, 1, 32 * 256, 256, 2304},
    {"conv bwd-data 32x32 128->128", 1, 0, 32 * 1024, 1152, 128},
    {"conv bwd-w 16x16 256->256", 0, 0, 256, 2304, 32 * 256},
    {"square 1024", 0, 0, 1024, 1024, 1024},
};
enum { NSHAPE = sizeof shapes / sizeof shapes[0] };

static int apply(cl_device_id dev, const candidate_t *c) {
  if (!c->kwg) return 0;
  size_t v[NPARAM] = {0, 1, c->kwg, c->kwi, c->mdimc, c->mdimc, c->mwg, c->ndimc,
                      c->ndimc, c->nwg, c->sa, c->sb, 0, 0, c->vwm, c->vwn};
  return CLBlastOverrideParameters(dev, "Xgemm", CLBlastPrecisionSingle, NPARAM, names, v);
}

/* max |C − ref| over a few sampled entries of C = op(A)·op(B). */
static double check(const shape_t *s, const float *a, const float *b, const float *c) {
  double err = 0;
  for (int t = 0; t < 64; t++) {
    size_t i = (size_t)t * 7919 % s->m, j = (size_t)t * 104729 % s->n;
    double ref = 0;
    for (size_t p = 0; p < s->k; p++) {
      double av = s->ta ? a[p * s->m + i] : a[i * s->k + p];
      double bv = s->tb ? b[j * s->k + p] : b[p * s->n + j];
      ref += av * bv;
    }
    double e = fabs(ref - c[i * s->n + j]) / (1 + fabs(ref));
    if (e > err) err = e;
  }
  return err;
}

int main(int argc, char **argv) {
  const char *device = NULL;
  int reps = 3;
  long min_indirect = -1;
  const char *only = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--device") == 0 && i + 1 < argc) device = argv[++i];
    else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
    else if (strcmp(argv[i], "--min-indirect") == 0 && i + 1 < argc) min_indirect = atol(argv[++i]);
    else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
    else {
      fprintf(stderr, "usage: bench_gemm_tune [--device D] [--reps N] [--min-indirect S] [--only SUBSTRING]\n");
      return 2;
    }
  }
  if (reps < 1) reps = 1;
  /* clfer's own table stays out of it: the first row is CLBlast's database, the others are the
   * candidates as given (clfer_sgemm still picks the row- or column-major form per call) */
  setenv("CLFER_GEMM_TUNING", "0", 1);
  clfer_runtime_options_t opt = {.device = device};
  clfer_runtime_t *rt;
  if (clfer_runtime_create(&opt, &rt)) {
    fprintf(stderr, "bench_gemm_tune: %s\n", clfer_last_error());
    return 1;
  }
  const clfer_device_info_t *d = clfer_runtime_device(rt);
  cl_device_id dev = d->device;
  if (min_indirect >= 0) { /* below this size³ CLBlast runs its direct kernel instead */
    const char *n[1] = {"XGEMM_MIN_INDIRECT_SIZE"};
    size_t v[1] = {(size_t)min_indirect};
    CLBlastOverrideParameters(dev, "GemmRoutine", CLBlastPrecisionSingle, 1, n, v);
  }
  printf("device: %s | %s | driver %s\n", d->name, d->platform_name, d->driver_version);
  printf("%-16s", "candidate");
  for (int s = 0; s < NSHAPE; s++) printf(" %14.14s", shapes[s].label);
  printf("   (GFLOP/s; x = failed or wrong)\n");
  double best_total = 0;
  int best = -1;
  for (int ci = 0; ci < NCAND; ci++) {
    const candidate_t *c = &candidates[ci];
    if (ci > 0 && only && !strstr(c->label, only)) continue;
    if (apply(dev, c)) {
      printf("%-16s rejected by CLBlastOverrideParameters\n", c->label);
      continue;
    }
    printf("%-16s", c->label);
    fflush(stdout);
    double log_sum = 0;
    int ok = 1;
    for (int si = 0; si < NSHAPE && ok; si++) {
      const shape_t *s = &shapes[si];
      int as[1] = {(int)(s->m * s->k)}, bs[1] = {(int)(s->k * s->n)}, cs[1] = {(int)(s->m * s->n)};
      clfer_tensor_t A, B, C;
      float *ha = malloc(s->m * s->k * 4), *hb = malloc(s->k * s->n * 4), *hc = malloc(s->m * s->n * 4);
      if (!ha || !hb || !hc || clfer_tensor_create(rt, 1, as, &A) || clfer_tensor_create(rt, 1, bs, &B) ||
          clfer_tensor_create(rt, 1, cs, &C)) {
        fprintf(stderr, "bench_gemm_tune: out of memory\n");
        return 1;
      }
      for (size_t i = 0; i < s->m * s->k; i++) ha[i] = (float)((i * 37 % 101) - 50) / 50.0f;
      for (size_t i = 0; i < s->k * s->n; i++) hb[i] = (float)((i * 53 % 103) - 51) / 51.0f;
      clfer_tensor_upload(&A, ha), clfer_tensor_upload(&B, hb);
      size_t lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
      double t = 1e30;
      for (int r = 0; r <= reps && ok; r++) { /* r = 0 compiles and checks */
        double t0 = now();
        if (clfer_sgemm(rt, s->ta, s->tb, s->m, s->n, s->k, 1.0f, A.buf, 0, lda, B.buf, 0, ldb, 0.0f, C.buf, 0,
                        s->n) ||
            clfer_runtime_finish(rt))
          ok = 0;
        double dt = now() - t0;
        if (r == 0 && ok) {
          clfer_tensor_download(&C, hc);
          if (check(s, ha, hb, hc) > 1e-3) ok = 0;
        } else if (dt < t)
          t = dt;
      }
      if (ok) {
        double gf = 2.0 * s->m * s->n * (double)s->k / t * 1e-9;
        log_sum += log(gf);
        printf(" %14.1f", gf);
      } else
        printf(" %14s", "x");
      fflush(stdout);
      clfer_tensor_release(&A), clfer_tensor_release(&B), clfer_tensor_release(&C);
      free(ha), free(hb), free(hc);
    }
    printf("\n");
    double geo = ok ? exp(log_sum / NSHAPE) : 0;
    if (ok && geo > best_total) best_total = geo, best = ci;
  }
  if (best >= 0) {
    const candidate_t *c = &candidates[best];
    printf("best (geometric mean %.1f GFLOP/s): %s =", best_total, c->label);
    if (c->kwg)
      printf(" KWG=%zu KWI=%zu MDIMA=MDIMC=%zu NDIMB=NDIMC=%zu MWG=%zu NWG=%zu VWM=%zu VWN=%zu SA=%zu SB=%zu"
             " GEMMK=0 KREG=1 STRM=0 STRN=0",
             c->kwg, c->kwi, c->mdimc, c->ndimc, c->mwg, c->nwg, c->vwm, c->vwn, c->sa, c->sb);
    printf("\n");
  }
  clfer_runtime_destroy(rt);
  return 0;
}
