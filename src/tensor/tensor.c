/* tensor.c — float32 device tensors as views into pooled buffers. The pool keeps released blocks
 * (sorted by size) and hands out the smallest one that fits within 2×, so the second training
 * step reuses the first step's blocks and allocates nothing. */
#include <stdlib.h>
#include <string.h>

#include "clfer/tensor.h"
#include "runtime/runtime_internal.h"

size_t clfer_shape_numel(int ndim, const int *shape) {
  size_t n = 1;
  for (int i = 0; i < ndim; i++) n *= (size_t)(shape[i] > 0 ? shape[i] : 0);
  return n;
}

size_t clfer_tensor_numel(const clfer_tensor_t *t) {
  if (!t->buf) return 0;
  return clfer_shape_numel(t->ndim, t->shape);
}

const char *clfer_shape_str(int ndim, const int *shape, char *buf, size_t size) {
  size_t used = (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < ndim && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, "%s%d", i ? ", " : "", shape[i]);
  if (used < size) snprintf(buf + used, size - used, "]");
  return buf;
}

int clfer_tensor_same_shape(const clfer_tensor_t *a, const clfer_tensor_t *b) {
  if (a->ndim != b->ndim) return 0;
  for (int i = 0; i < a->ndim; i++)
    if (a->shape[i] != b->shape[i]) return 0;
  return 1;
}

static clfer_status check_shape(int ndim, const int *shape) {
  if (ndim < 0 || ndim > CLFER_MAX_DIMS)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "tensor of %d dimensions (at most %d)", ndim, CLFER_MAX_DIMS);
  for (int i = 0; i < ndim; i++)
    if (shape[i] <= 0) {
      char s[96];
      return clfer_set_error(CLFER_INVALID_ARGUMENT, "tensor shape %s has a non-positive dimension",
                             clfer_shape_str(ndim, shape, s, sizeof s));
    }
  return CLFER_OK;
}

/* ---- pool ---- */

static clfer_status pool_take(clfer_runtime_t *rt, size_t bytes, cl_mem *mem, size_t *block_bytes) {
  clfer__pool_block_t **link = &rt->pool_free;
  for (; *link; link = &(*link)->next) {
    clfer__pool_block_t *b = *link;
    if (b->bytes >= bytes && b->bytes <= 2 * bytes + 4096) {
      *link = b->next;
      *mem = b->mem;
      *block_bytes = b->bytes;
      rt->pool_stats.hits++;
      rt->pool_stats.blocks_free--;
      rt->pool_stats.bytes_free -= b->bytes;
      rt->pool_stats.blocks_in_use++;
      rt->pool_stats.bytes_in_use += b->bytes;
      free(b);
      return CLFER_OK;
    }
  }
  clfer_status st = clfer_device_alloc(rt, bytes, mem);
  if (st == CLFER_DEVICE_OUT_OF_MEMORY && rt->pool_free) {
    clfer_pool_trim(rt); /* idle blocks may be what stands in the way */
    st = clfer_device_alloc(rt, bytes, mem);
  }
  if (st) return st;
  *block_bytes = bytes;
  rt->pool_stats.misses++;
  rt->pool_stats.blocks_in_use++;
  rt->pool_stats.bytes_in_use += bytes;
  return CLFER_OK;
}

static void pool_give(clfer_runtime_t *rt, cl_mem mem, size_t bytes) {
  clfer__pool_block_t *b = malloc(sizeof *b);
  rt->pool_stats.blocks_in_use--;
  rt->pool_stats.bytes_in_use -= bytes;
  if (!b) {
    clfer_device_free(rt, mem, bytes);
    return;
  }
  b->mem = mem;
  b->bytes = bytes;
  clfer__pool_block_t **link = &rt->pool_free;
  while (*link && (*link)->bytes < bytes) link = &(*link)->next;
  b->next = *link;
  *link = b;
  rt->pool_stats.blocks_free++;
  rt->pool_stats.bytes_free += bytes;
}

clfer_pool_stats_t clfer_pool_stats(const clfer_runtime_t *rt) { return rt->pool_stats; }

void clfer_pool_trim(clfer_runtime_t *rt) {
  for (clfer__pool_block_t *b = rt->pool_free, *next; b; b = next) {
    next = b->next;
    clfer_device_free(rt, b->mem, b->bytes);
    free(b);
  }
  rt->pool_free = NULL;
  rt->pool_stats.blocks_free = 0;
  rt->pool_stats.bytes_free = 0;
}

void clfer__pool_free_all(clfer_runtime_t *rt) { clfer_pool_trim(rt); }

/* ---- tensors ---- */

clfer_status clfer_tensor_create(clfer_runtime_t *rt, int ndim, const int *shape, clfer_tensor_t *out) {
  memset(out, 0, sizeof *out);
  clfer_status st = check_shape(ndim, shape);
  if (st) return st;
  size_t numel = clfer_shape_numel(ndim, shape);
  size_t block = 0;
  cl_mem mem = NULL;
  if ((st = pool_take(rt, numel * sizeof(float), &mem, &block))) return st;
  out->rt = rt;
  out->buf = mem;
  out->offset = 0;
  out->capacity = block / sizeof(float);
  out->ndim = ndim;
  memcpy(out->shape, shape, (size_t)ndim * sizeof *shape);
  out->owned = 1;
  return CLFER_OK;
}

clfer_status clfer_tensor_zeros(clfer_runtime_t *rt, int ndim, const int *shape, clfer_tensor_t *out) {
  clfer_status st = clfer_tensor_create(rt, ndim, shape, out);
  if (st) return st;
  if ((st = clfer_tensor_fill(out, 0.0f))) clfer_tensor_release(out);
  return st;
}

void clfer_tensor_release(clfer_tensor_t *t) {
  if (!t) return;
  if (t->owned && t->buf) pool_give(t->rt, t->buf, t->capacity * sizeof(float));
  memset(t, 0, sizeof *t);
}

clfer_status clfer_tensor_view(const clfer_tensor_t *base, size_t offset, int ndim, const int *shape,
                               clfer_tensor_t *out) {
  clfer_status st = check_shape(ndim, shape);
  if (st) return st;
  size_t base_numel = clfer_tensor_numel(base);
  size_t numel = clfer_shape_numel(ndim, shape);
  if (offset + numel > base_numel) {
    char a[96], b[96];
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "view %s at offset %zu does not fit in tensor %s",
                           clfer_shape_str(ndim, shape, a, sizeof a), offset,
                           clfer_shape_str(base->ndim, base->shape, b, sizeof b));
  }
  clfer_tensor_t v = *base;
  v.offset = base->offset + offset;
  v.ndim = ndim;
  memset(v.shape, 0, sizeof v.shape);
  memcpy(v.shape, shape, (size_t)ndim * sizeof *shape);
  v.owned = 0;
  *out = v;
  return CLFER_OK;
}

clfer_status clfer_tensor_reshape(const clfer_tensor_t *t, int ndim, const int *shape, clfer_tensor_t *out) {
  if (clfer_shape_numel(ndim, shape) != clfer_tensor_numel(t)) {
    char a[96], b[96];
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "cannot reshape %s to %s",
                           clfer_shape_str(t->ndim, t->shape, a, sizeof a), clfer_shape_str(ndim, shape, b, sizeof b));
  }
  return clfer_tensor_view(t, 0, ndim, shape, out);
}

clfer_status clfer_tensor_upload(clfer_tensor_t *t, const float *host) {
  size_t n = clfer_tensor_numel(t);
  if (!n) return CLFER_OK;
  CLFER_CL_CHECK(clEnqueueWriteBuffer(t->rt->queue, t->buf, CL_TRUE, t->offset * sizeof(float), n * sizeof(float),
                                      host, 0, NULL, NULL));
  return CLFER_OK;
}

clfer_status clfer_tensor_upload_async(clfer_tensor_t *t, const float *host) {
  size_t n = clfer_tensor_numel(t);
  if (!n) return CLFER_OK;
  CLFER_CL_CHECK(clEnqueueWriteBuffer(t->rt->queue, t->buf, CL_FALSE, t->offset * sizeof(float), n * sizeof(float),
                                      host, 0, NULL, NULL));
  return CLFER_OK;
}

clfer_status clfer_tensor_download(const clfer_tensor_t *t, float *host) {
  size_t n = clfer_tensor_numel(t);
  if (!n) return CLFER_OK;
  CLFER_CL_CHECK(clEnqueueReadBuffer(t->rt->queue, t->buf, CL_TRUE, t->offset * sizeof(float), n * sizeof(float),
                                     host, 0, NULL, NULL));
  return CLFER_OK;
}

clfer_status clfer_tensor_fill(clfer_tensor_t *t, float value) {
  size_t n = clfer_tensor_numel(t);
  size_t g[1] = {n};
  return CLFER_RUN(t->rt, "basic", NULL, "fill_f32", 1, g, NULL, ((clfer_cost_t){0, 4.0 * n}),
                   CLFER_ARG_MEM(t->buf), CLFER_ARG_INT(t->offset), CLFER_ARG_INT(n), CLFER_ARG_FLOAT(value));
}

clfer_status clfer_tensor_copy(clfer_tensor_t *dst, const clfer_tensor_t *src) {
  size_t n = clfer_tensor_numel(src);
  if (n != clfer_tensor_numel(dst)) {
    char a[96], b[96];
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "copy from %s into %s",
                           clfer_shape_str(src->ndim, src->shape, a, sizeof a),
                           clfer_shape_str(dst->ndim, dst->shape, b, sizeof b));
  }
  size_t g[1] = {n};
  return CLFER_RUN(dst->rt, "basic", NULL, "copy_f32", 1, g, NULL, ((clfer_cost_t){0, 8.0 * n}),
                   CLFER_ARG_MEM(dst->buf), CLFER_ARG_INT(dst->offset), CLFER_ARG_MEM(src->buf),
                   CLFER_ARG_INT(src->offset), CLFER_ARG_INT(n));
}
