/* prep_placement.c — the measured choice between host and device pre-processing (see the header). */
#include "train/prep_placement.h"

#include <stdlib.h>
#include <string.h>

#include "clfer/tensor.h"
#include "runtime/runtime_internal.h"

int clfer__prep_prefers_device(const clfer__prep_measure_t *m) {
  if (!m || m->steps < 1 || !(m->device_seconds >= 0) || !(m->wait_per_step >= 0)) return 0;
  if (m->wait_per_step < 0.02 * m->step_seconds) return 0;
  return m->wait_per_step > 1.25 * m->device_seconds;
}

clfer_status clfer__prep_time_device(clfer_runtime_t *rt, const uint8_t *images, const int *ids, int n, int h, int w,
                                     int c, const float *matrices, const clfer_preproc_t *p, double *seconds) {
  *seconds = -1;
  size_t img_bytes = (size_t)h * w * c;
  uint8_t *gathered = malloc((size_t)n * img_bytes);
  if (!gathered) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory timing device pre-processing");
  for (int i = 0; i < n; i++) memcpy(gathered + (size_t)i * img_bytes, images + (size_t)ids[i] * img_bytes, img_bytes);
  int shape[4] = {n, p->out_c, p->out_h, p->out_w};
  clfer_tensor_t out = {0};
  clfer_status st = clfer_tensor_create(rt, 4, shape, &out);
  for (int run = 0; run < 2 && !st; run++) {
    if ((st = clfer_runtime_finish(rt))) break;
    double t0 = clfer__now_seconds();
    if (!(st = clfer_preprocess_device_upload(rt, gathered, n, h, w, c, matrices, p, &out)) &&
        !(st = clfer_runtime_finish(rt)))
      *seconds = clfer__now_seconds() - t0;
  }
  clfer_tensor_release(&out);
  free(gathered);
  return st;
}
