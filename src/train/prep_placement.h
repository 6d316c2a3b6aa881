/* prep_placement.h — where the training loop augments and pre-processes its batches
 * (data.preprocess_on): on the host worker thread, overlapped with the device's step, or on the
 * device by augment.cl, which adds its time to every step. Internal to libclfer. */
#ifndef CLFER_PREP_PLACEMENT_H
#define CLFER_PREP_PLACEMENT_H

#include "clfer/augment.h"
#include "clfer/runtime.h"

/* What the first steps of a stage showed, on the host path. */
typedef struct clfer__prep_measure {
  int steps;             /* steps measured */
  double wait_per_step;  /* mean seconds the loop blocked on the batcher */
  double step_seconds;   /* mean wall time per step (the loop runs at most two steps ahead) */
  double device_seconds; /* one batch pre-processed on the device, upload included */
} clfer__prep_measure_t;

/* 1 when moving the work to the device shortens the step: the device path costs device_seconds
 * per step; the host path costs what the loop waits (the worker's time beyond the step's). A
 * margin keeps noise from flipping the choice, and a wait under 2 % of the step is left alone. */
int clfer__prep_prefers_device(const clfer__prep_measure_t *m);

/* Times the device path on the n images `ids` of `images` (h×w×c bytes each) with `matrices`:
 * a first run builds the kernel, the second is timed, from the queue drained to drained again. */
clfer_status clfer__prep_time_device(clfer_runtime_t *rt, const uint8_t *images, const int *ids, int n, int h, int w,
                                     int c, const float *matrices, const clfer_preproc_t *p, double *seconds);

#endif
