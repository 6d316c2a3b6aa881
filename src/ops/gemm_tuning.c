/* gemm_tuning.c — CLBlast GEMM settings for devices CLBlast's database lacks. PoCL's CPU devices
 * fall back to CLBlast's generic defaults, which run SGEMM there at a few GFLOP/s; the entry below
 * was picked by perf/bench_gemm_tune over the GEMM shapes of a VGG13-FER+ step (see
 * docs/perf.md). Applied before the first conv or dense GEMM through CLBlastOverrideParameters,
 * which makes CLBlast recompile its GEMM kernel with these values for this device.
 *
 * CLBlast runs a product either with its fast "indirect" kernel, after copying any operand not in
 * that kernel's form or not padded to its tiles, or with its "direct" kernel, which needs no
 * copies but is slower per FLOP. It chooses by size alone (m·n·k below a per-device threshold³
 * goes direct). On PoCL that rule is wrong both ways: the 8×8 block of VGG13-FER+ (m·n·k ≈ 533³)
 * went direct and ran 2.5-6× slower than indirect, while a first layer's GEMM with one tiny
 * dimension (16 outputs, k = 9) padded to 64×64×32 tiles ran 5-8× slower indirect. So an entry
 * can instead choose per call from the padding waste (see clfer__gemm_begin). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <clblast_c.h>

#include "gemm_tuning.h"

/* Xgemm's parameter names, in CLBlast's order. */
static const char *xgemm_names[] = {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB",
                                    "NDIMC", "NWG",  "SA",  "SB",  "STRM",  "STRN",  "VWM", "VWN"};
enum { XGEMM_NPARAM = sizeof xgemm_names / sizeof xgemm_names[0] };
enum { P_KREG = 1, P_KWG = 2, P_MWG = 6, P_NWG = 9 };

typedef struct gemm_tuning_entry {
  clfer_vendor vendor;
  int cpu; /* 1: CPU devices only */
  size_t xgemm[XGEMM_NPARAM];
  /* > 0: choose per call, direct when the indirect kernel's padded product is more than this many
   * times m·n·k, or when m·n·k is below 64³; 0: CLBlast's own size rule */
  double direct_waste;
} gemm_tuning_entry_t;

static const gemm_tuning_entry_t table[] = {
    /* PoCL on x86 CPUs: 64×64 tiles, B staged through local memory (SB = 1; without it 2-5× slower),
     * A read directly (SA = 0: 10-50 % faster than SA = 1 on the column-major forms clfer_sgemm
     * uses), 8×8 outputs per work-item with 8-wide vectors, 8×8 work-groups. Direct only where
     * padding would multiply the work by more than 5 (measured: indirect won at 3.6×, lost at 7×). */
    {CLFER_VENDOR_POCL, 1, {0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 0, 1, 0, 0, 8, 8}, 5.0},
};

enum { MAX_TUNED = 16 };
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
  cl_device_id device;
  const gemm_tuning_entry_t *entry; /* NULL: no entry for this device */
  int direct;                       /* the path last set: -1 unset, 0 indirect, 1 direct */
} applied[MAX_TUNED];
static int n_applied;

/* The device's slot, applying its Xgemm parameters the first time. Called with the lock held. */
static int slot_of(clfer_runtime_t *rt) {
  const clfer_device_info_t *d = clfer_runtime_device(rt);
  for (int i = 0; i < n_applied; i++)
    if (applied[i].device == d->device) return i;
  if (n_applied == MAX_TUNED) return -1;
  int s = n_applied++;
  applied[s].device = d->device, applied[s].entry = NULL, applied[s].direct = -1;
  const char *env = getenv("CLFER_GEMM_TUNING");
  if (env && strcmp(env, "0") == 0) return s;
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
    const gemm_tuning_entry_t *e = &table[i];
    if (e->vendor != d->vendor || (e->cpu && !d->is_cpu)) continue;
    /* a refused override leaves CLBlast's defaults in place, which still work */
    if (CLBlastOverrideParameters(d->device, "Xgemm", CLBlastPrecisionSingle, XGEMM_NPARAM, xgemm_names, e->xgemm) ==
        CLBlastSuccess)
      applied[s].entry = e;
    break;
  }
  return s;
}

static double ceil_to(size_t v, size_t tile) { return tile ? (double)((v + tile - 1) / tile * tile) : (double)v; }

void clfer__gemm_begin(clfer_runtime_t *rt, size_t m, size_t n, size_t k) {
  pthread_mutex_lock(&lock);
  int s = slot_of(rt);
  const gemm_tuning_entry_t *e = s >= 0 ? applied[s].entry : NULL;
  if (!e || e->direct_waste <= 0) return;
  /* CLBlast may run the product with m and n swapped (clfer_sgemm); the waste is the same either
   * way while MWG = NWG, as in the entries here */
  double work = (double)m * n * k;
  double padded = ceil_to(m, e->xgemm[P_MWG]) * ceil_to(n, e->xgemm[P_NWG]) * ceil_to(k, e->xgemm[P_KWG] * e->xgemm[P_KREG]);
  int direct = work < 64.0 * 64 * 64 || padded > e->direct_waste * work;
  if (direct == applied[s].direct) return;
  /* CLBlast sends m·n·k < size³ to the direct kernel; a routine parameter, so no recompilation */
  const char *name[1] = {"XGEMM_MIN_INDIRECT_SIZE"};
  size_t value[1] = {direct ? (size_t)1 << 20 : 0};
  if (CLBlastOverrideParameters(clfer_runtime_device(rt)->device, "GemmRoutine", CLBlastPrecisionSingle, 1,
                                name, value) == CLBlastSuccess)
    applied[s].direct = direct;
}

void clfer__gemm_end(void) { pthread_mutex_unlock(&lock); }
