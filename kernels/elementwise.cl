/* elementwise.cl — element-wise sum (gradient accumulation, residual joins) and the block copy
 * behind concatenation along dimension 1. axpy and scale live in basic.cl. */

/* y = a + b; y may alias a or b (each element is read before it is written, by one work-item). */
__kernel void add_f32(__global const float *a, const int a_off, __global const float *b, const int b_off,
                      __global float *y, const int y_off, const int n) {
  int i = get_global_id(0);
  if (i >= n) return;
  y[y_off + i] = a[a_off + i] + b[b_off + i];
}

/* The CPU form: sixteen elements per item as float16 (both read before y is written), a partial
 * block at the end element by element. 1-D range (⌈n/16⌉). */
__kernel void add_f32_rows(__global const float *a, const int a_off, __global const float *b, const int b_off,
                           __global float *y, const int y_off, const int n) {
  const int i0 = 16 * get_global_id(0);
  if (i0 >= n) return;
  if (i0 + 16 <= n) {
    vstore16(vload16(0, a + a_off + i0) + vload16(0, b + b_off + i0), 0, y + y_off + i0);
    return;
  }
  for (int i = i0; i < n; i++) y[y_off + i] = a[a_off + i] + b[b_off + i];
}

/* Copies `rows` rows of `row_len` elements between row-strided layouts: concatenation along
 * dimension 1 is, per sample, one contiguous run of C_i·H·W elements at a channel offset. */
__kernel void copy_rows_f32(__global float *dst, const int dst_off, const int dst_stride, __global const float *src,
                            const int src_off, const int src_stride, const int rows, const int row_len) {
  int i = get_global_id(0);
  if (i >= rows * row_len) return;
  int r = i / row_len, j = i - r * row_len;
  dst[dst_off + r * dst_stride + j] = src[src_off + r * src_stride + j];
}
