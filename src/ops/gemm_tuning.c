/* gemm_tuning.c — CLBlast Xgemm parameters for devices CLBlast's database lacks. PoCL's CPU
 * devices fall back to CLBlast's generic defaults, which run SGEMM there at a few GFLOP/s; the
 * entry below was picked by perf/bench_gemm_tune over the GEMM shapes of a VGG13-FER+ step (see
 * docs/perf.md). Applied before the first conv or dense GEMM through CLBlastOverrideParameters,
 * which makes CLBlast recompile its GEMM kernel with these values for this device. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <clblast_c.h>

#include "gemm_tuning.h"

/* Xgemm's parameter names, in CLBlast's order. */
static const char *xgemm_names[] = {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
                                    "NDIMC", "NWG",  "SA",  "SB",  "STRM",  "STRN",  "VWM", "VWN"};
enum { XGEMM_NPARAM = sizeof xgemm_names / sizeof xgemm_names[0] };

typedef struct gemm_tuning_entry {
  clfer_vendor vendor;
  int cpu; /* 1: CPU devices only */
  size_t xgemm[XGEMM_NPARAM];
} gemm_tuning_entry_t;

static const gemm_tuning_entry_t table[] = {
    /* PoCL on x86 CPUs: 64×64 tiles, B staged through local memory (SB = 1; without it 2-5× slower),
     * A read directly (SA = 0: 10-50 % faster than SA = 1 on the column-major forms clfer_sgemm
     * uses), 8×8 outputs per work-item with 8-wide vectors, 8×8 work-groups. */
    {CLFER_VENDOR_POCL, 1, {0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 0, 1, 0, 0, 8, 8}},
};

enum { MAX_TUNED = 16 };
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static cl_device_id applied[MAX_TUNED];
static int n_applied;

void clfer__gemm_tuning_apply(clfer_runtime_t *rt) {
  const clfer_device_info_t *d = clfer_runtime_device(rt);
  const char *env = getenv("CLFER_GEMM_TUNING");
  if (env && strcmp(env, "0") == 0) return;
  pthread_mutex_lock(&lock);
  int done = 0;
  for (int i = 0; i < n_applied && !done; i++) done = applied[i] == d->device;
  if (!done && n_applied < MAX_TUNED) {
    applied[n_applied++] = d->device;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
      const gemm_tuning_entry_t *e = &table[i];
      if (e->vendor != d->vendor || (e->cpu && !d->is_cpu)) continue;
      /* a refused override leaves CLBlast's defaults in place, which still work */
      CLBlastOverrideParameters(d->device, "Xgemm", CLBlastPrecisionSingle, XGEMM_NPARAM, xgemm_names, e->xgemm);
      break;
    }
  }
  pthread_mutex_unlock(&lock);
}
