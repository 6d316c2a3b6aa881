/* launch_shape.h — work-group shapes for the layout and pooling kernels (internal). */
#ifndef CLFER_OPS_LAUNCH_SHAPE_H
#define CLFER_OPS_LAUNCH_SHAPE_H
#include <stdlib.h>

#include "clfer/runtime.h"

/* CPU devices get their own kernel variants and work-group shapes; CLFER_GPU_PATHS=1 gives them
 * the GPU ones instead, so tests on PoCL check those too. */
static inline int clfer__cpu_paths(clfer_runtime_t *rt) {
  const char *force_gpu = getenv("CLFER_GPU_PATHS");
  return clfer_runtime_device(rt)->is_cpu && !(force_gpu && *force_gpu == '1');
}

/* The element-wise kernels' CPU forms (`_rows`) take sixteen elements per item as float16: with one
 * element per item PoCL's loop ran at a fraction of the memory rate (ReLU forward on [8, 96, 109,
 * 109] 4.6 ms, 16 GB/s). Sets the 1-D range for n elements; returns whether the CPU form runs. */
static inline int clfer__elementwise_range(clfer_runtime_t *rt, size_t n, size_t global[1]) {
  const int cpu = clfer__cpu_paths(rt);
  global[0] = cpu ? (n + 15) / 16 : n;
  return cpu;
}

/* PoCL runs a work-group as one call of a compiled loop over its items, with about a microsecond
 * of scheduling per group; the groups it picks by itself on (W, H, planes) ranges are one row
 * (tens of items), so scheduling cost more than the work. On CPU devices this asks for groups of
 * whole rows of dimension 0 times enough of dimension 1 for ~1024 items (dimension 1 only when
 * `dim1_checked`: the kernel must bound-check it, since the launch rounds the range up), and 1
 * along the last dimension; on other devices it returns NULL (the driver chooses). */
static inline const size_t *clfer__cpu_local(clfer_runtime_t *rt, unsigned dims, const size_t *global,
                                             int dim1_checked, size_t *local) {
  const clfer_device_info_t *d = clfer_runtime_device(rt);
  if (!clfer__cpu_paths(rt)) return NULL;
  size_t max = d->max_work_group_size ? d->max_work_group_size : 1;
  size_t max0 = d->max_work_item_sizes[0] && d->max_work_item_sizes[0] < max ? d->max_work_item_sizes[0] : max;
  local[0] = global[0] < max0 ? global[0] : max0;
  if (local[0] == 0) local[0] = 1;
  for (unsigned i = 1; i < dims; i++) local[i] = 1;
  if (dims == 3 && dim1_checked) {
    size_t want = 1024 / local[0];
    if (want > global[1]) want = global[1];
    if (want > max / local[0]) want = max / local[0];
    if (d->max_work_item_sizes[1] && want > d->max_work_item_sizes[1]) want = d->max_work_item_sizes[1];
    local[1] = want ? want : 1;
  }
  return local;
}

/* The size of a CPU form's work-groups for `items` items: at most `most`, fewer where that would
 * leave under eight groups per compute unit (PoCL runs a group on one worker; small ranges would
 * otherwise leave cores idle), and at least 1. */
static inline size_t clfer__cpu_group_items(clfer_runtime_t *rt, size_t items, size_t most) {
  size_t units = clfer_runtime_device(rt)->compute_units, size = items / (8 * (units ? units : 1));
  return size > most ? most : size < 1 ? 1 : size;
}

#endif
