/* clfer/tensor.h — float32 device tensors (NCHW, up to 5 dimensions), views with element offsets,
 * host copies, and the buffer pool that lets a training step allocate nothing after its first
 * iteration. A tensor is a small value type: views share the buffer of their base. */
#ifndef CLFER_TENSOR_H
#define CLFER_TENSOR_H

#include "clfer/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CLFER_MAX_DIMS 5

typedef struct clfer_tensor {
  clfer_runtime_t *rt;
  cl_mem buf;      /* NULL for an empty tensor */
  size_t offset;   /* in elements, into buf */
  size_t capacity; /* elements the underlying block holds (for owned tensors) */
  int ndim;
  int shape[CLFER_MAX_DIMS];
  int owned; /* 1 when this tensor returns buf to the pool on release; views are 0 */
} clfer_tensor_t;

/* Number of elements (1 for ndim 0 with a buffer, 0 for an empty tensor). */
size_t clfer_tensor_numel(const clfer_tensor_t *t);
size_t clfer_shape_numel(int ndim, const int *shape);
/* "[32, 64, 48, 48]" into buf. */
const char *clfer_shape_str(int ndim, const int *shape, char *buf, size_t size);
int clfer_tensor_same_shape(const clfer_tensor_t *a, const clfer_tensor_t *b);

/* Takes a block from the runtime's pool (or allocates one) for a tensor of this shape. Contents
 * are undefined. */
clfer_status clfer_tensor_create(clfer_runtime_t *rt, int ndim, const int *shape, clfer_tensor_t *out);
/* Same, filled with zeros. */
clfer_status clfer_tensor_zeros(clfer_runtime_t *rt, int ndim, const int *shape, clfer_tensor_t *out);
/* Returns an owned tensor's block to the pool and clears *t; a view is only cleared. */
void clfer_tensor_release(clfer_tensor_t *t);

/* A view of `base` starting `offset` elements in, with a new shape that must fit. */
clfer_status clfer_tensor_view(const clfer_tensor_t *base, size_t offset, int ndim, const int *shape,
                               clfer_tensor_t *out);
/* Same elements, new shape (numel must match). */
clfer_status clfer_tensor_reshape(const clfer_tensor_t *t, int ndim, const int *shape, clfer_tensor_t *out);

/* Blocking copies between host memory and the tensor (count = numel). */
clfer_status clfer_tensor_upload(clfer_tensor_t *t, const float *host);
clfer_status clfer_tensor_download(const clfer_tensor_t *t, float *host);
/* Non-blocking upload: host memory must stay valid until the queue has passed it. */
clfer_status clfer_tensor_upload_async(clfer_tensor_t *t, const float *host);
clfer_status clfer_tensor_fill(clfer_tensor_t *t, float value);
clfer_status clfer_tensor_copy(clfer_tensor_t *dst, const clfer_tensor_t *src);

/* Buffer pool statistics: a training step after the first should add no misses. */
typedef struct clfer_pool_stats {
  uint64_t hits, misses;      /* blocks reused vs newly allocated */
  uint64_t blocks_free, blocks_in_use;
  uint64_t bytes_free, bytes_in_use;
} clfer_pool_stats_t;
clfer_pool_stats_t clfer_pool_stats(const clfer_runtime_t *rt);
/* Frees every block not in use. */
void clfer_pool_trim(clfer_runtime_t *rt);

#ifdef __cplusplus
}
#endif
#endif
