/* test_tensor.c — tensor round trips, views, reshape, pool reuse (no allocation after the first
 * iteration), memory accounting and the out-of-device-memory error. */
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

Test(tensor, round_trip_and_views) {
  clfer_runtime_t *rt = test_runtime();
  int shape[4] = {2, 3, 5, 7};
  clfer_tensor_t t;
  cr_assert_eq(clfer_tensor_create(rt, 4, shape, &t), CLFER_OK);
  cr_assert_eq(clfer_tensor_numel(&t), 210);
  float in[210], out[210];
  test_fill_uniform(in, 210, 1, -1, 1);
  cr_assert_eq(clfer_tensor_upload(&t, in), CLFER_OK);
  cr_assert_eq(clfer_tensor_download(&t, out), CLFER_OK);
  cr_assert_arr_eq(in, out, sizeof in);

  /* the second image as a view */
  clfer_tensor_t v;
  int vshape[3] = {3, 5, 7};
  cr_assert_eq(clfer_tensor_view(&t, 105, 3, vshape, &v), CLFER_OK);
  cr_assert_eq(clfer_tensor_download(&v, out), CLFER_OK);
  cr_assert_arr_eq(in + 105, out, 105 * sizeof(float));
  cr_assert_eq(clfer_tensor_fill(&v, 4.0f), CLFER_OK);
  cr_assert_eq(clfer_tensor_download(&t, out), CLFER_OK);
  cr_assert_arr_eq(in, out, 105 * sizeof(float), "fill of a view leaves the rest alone");
  for (int i = 105; i < 210; i++) cr_assert_float_eq(out[i], 4.0f, 0);

  clfer_tensor_t r;
  int rshape[2] = {2, 105};
  cr_assert_eq(clfer_tensor_reshape(&t, 2, rshape, &r), CLFER_OK);
  int bad[2] = {2, 100};
  cr_assert_eq(clfer_tensor_reshape(&t, 2, bad, &r), CLFER_SHAPE_MISMATCH);
  cr_assert_eq(clfer_tensor_view(&t, 200, 3, vshape, &v), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "[3, 5, 7]") != NULL, "%s", clfer_last_error());
  int zero[2] = {0, 3};
  cr_assert_eq(clfer_tensor_create(rt, 2, zero, &r), CLFER_INVALID_ARGUMENT);

  clfer_tensor_release(&v); /* a view release is harmless */
  clfer_tensor_release(&t);
  clfer_runtime_destroy(rt);
}

Test(tensor, copy_between_views) {
  clfer_runtime_t *rt = test_runtime();
  int shape[1] = {100};
  clfer_tensor_t a, b, va, vb;
  cr_assert_eq(clfer_tensor_create(rt, 1, shape, &a), CLFER_OK);
  cr_assert_eq(clfer_tensor_zeros(rt, 1, shape, &b), CLFER_OK);
  float in[100], out[100];
  test_fill_uniform(in, 100, 2, 0, 1);
  clfer_tensor_upload(&a, in);
  int s10[1] = {10};
  clfer_tensor_view(&a, 5, 1, s10, &va);
  clfer_tensor_view(&b, 50, 1, s10, &vb);
  cr_assert_eq(clfer_tensor_copy(&vb, &va), CLFER_OK);
  clfer_tensor_download(&b, out);
  for (int i = 0; i < 100; i++) cr_assert_float_eq(out[i], (i >= 50 && i < 60) ? in[i - 45] : 0.0f, 0);
  clfer_tensor_release(&a), clfer_tensor_release(&b);
  clfer_runtime_destroy(rt);
}

/* A "training step" that takes and gives back the same scratch shapes allocates only once. */
static void fake_step(clfer_runtime_t *rt) {
  int s1[4] = {8, 16, 12, 12}, s2[2] = {8, 256}, s3[1] = {1000};
  clfer_tensor_t a, b, c;
  cr_assert_eq(clfer_tensor_create(rt, 4, s1, &a), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 2, s2, &b), CLFER_OK);
  clfer_tensor_release(&a);
  cr_assert_eq(clfer_tensor_create(rt, 1, s3, &c), CLFER_OK);
  clfer_tensor_release(&b);
  clfer_tensor_release(&c);
}

Test(pool, second_step_allocates_nothing) {
  clfer_runtime_t *rt = test_runtime();
  fake_step(rt);
  clfer_pool_stats_t first = clfer_pool_stats(rt);
  clfer_memory_stats_t mem1 = clfer_memory_stats(rt);
  cr_assert_gt(first.misses, 0);
  for (int i = 0; i < 5; i++) fake_step(rt);
  clfer_pool_stats_t later = clfer_pool_stats(rt);
  clfer_memory_stats_t mem2 = clfer_memory_stats(rt);
  cr_assert_eq(later.misses, first.misses, "no new blocks after the first step");
  cr_assert_eq(mem2.allocations, mem1.allocations, "no clCreateBuffer after the first step");
  cr_assert_gt(later.hits, first.hits);
  cr_assert_eq(later.blocks_in_use, 0);
  cr_assert_eq(mem2.peak_bytes, mem1.peak_bytes);
  clfer_pool_trim(rt);
  cr_assert_eq(clfer_memory_stats(rt).current_bytes, 0, "trim returns every free block");
  clfer_runtime_destroy(rt);
}

Test(memory, over_the_limit_is_a_clear_error) {
  clfer_runtime_t *rt = test_runtime();
  const clfer_device_info_t *d = clfer_runtime_device(rt);
  clfer_tensor_t t;
  /* larger than one allocation may be */
  int huge[2] = {(int)(d->max_alloc_bytes / 4 / 1024) + 1, 1024};
  cr_assert_eq(clfer_tensor_create(rt, 2, huge, &t), CLFER_DEVICE_OUT_OF_MEMORY);
  cr_assert(strstr(clfer_last_error(), "MiB") != NULL, "%s", clfer_last_error());
  /* past a budget given what is already held */
  clfer_memory_set_limit(rt, 1 << 20);
  int quarter[1] = {(1 << 20) / 4 / 4 * 3};
  clfer_tensor_t a;
  cr_assert_eq(clfer_tensor_create(rt, 1, quarter, &a), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, quarter, &t), CLFER_DEVICE_OUT_OF_MEMORY);
  cr_assert(strstr(clfer_last_error(), "in use") != NULL, "%s", clfer_last_error());
  clfer_memory_stats_t m = clfer_memory_stats(rt);
  cr_assert_eq(m.current_bytes, (uint64_t)quarter[0] * 4);
  clfer_tensor_release(&a);
  /* the freed block is reused, so the same request now succeeds */
  cr_assert_eq(clfer_tensor_create(rt, 1, quarter, &t), CLFER_OK);
  clfer_tensor_release(&t);
  clfer_runtime_destroy(rt);
}
