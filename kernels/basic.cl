/* basic.cl — element-wise helpers the runtime and tensors need: fill, strided copy, axpy,
 * scale, and an empty kernel for measuring launch overhead. Offsets are in elements because
 * tensors are views into shared buffers. */

__kernel void empty_kernel(void) {}

__kernel void fill_f32(__global float *x, const int x_off, const int n, const float value) {
  int i = get_global_id(0);
  if (i < n) x[x_off + i] = value;
}

__kernel void copy_f32(__global float *dst, const int dst_off, __global const float *src, const int src_off,
                       const int n) {
  int i = get_global_id(0);
  if (i < n) dst[dst_off + i] = src[src_off + i];
}

/* y = alpha * x + y */
__kernel void axpy_f32(__global float *y, const int y_off, __global const float *x, const int x_off,
                       const int n, const float alpha) {
  int i = get_global_id(0);
  if (i < n) y[y_off + i] += alpha * x[x_off + i];
}

/* x = alpha * x */
__kernel void scale_f32(__global float *x, const int x_off, const int n, const float alpha) {
  int i = get_global_id(0);
  if (i < n) x[x_off + i] *= alpha;
}
