/* softmax.cl — row-wise softmax over [rows, K] and its backward pass. One work-group per row
 * reduces in local memory (max, then Σ exp(x − max), so no exp overflows); the local size is a
 * power of two chosen by the host from K. */

/* Tree reduction of `v` across the work-group; `op_max` picks max instead of sum. The result is
 * returned to every work-item. */
inline float group_reduce(float v, __local float *scratch, const int op_max) {
  int lid = get_local_id(0), nl = get_local_size(0);
  scratch[lid] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int stride = nl / 2; stride > 0; stride /= 2) {
    if (lid < stride) scratch[lid] = op_max ? fmax(scratch[lid], scratch[lid + stride]) : scratch[lid] + scratch[lid + stride];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  float r = scratch[0];
  barrier(CLK_LOCAL_MEM_FENCE); /* scratch is reused by the next reduction */
  return r;
}

__kernel void softmax_forward(__global const float *x, const int x_off, __global float *y, const int y_off,
                              const int K, __local float *scratch) {
  int row = get_group_id(0), lid = get_local_id(0), nl = get_local_size(0);
  __global const float *xr = x + x_off + row * K;
  __global float *yr = y + y_off + row * K;
  float m = -INFINITY;
  for (int j = lid; j < K; j += nl) m = fmax(m, xr[j]);
  m = group_reduce(m, scratch, 1);
  /* each work-item rescales only the elements it wrote, so no barrier is needed (and y may
   * alias x: every x was read for the maximum before the reduction's barrier) */
  float s = 0.0f;
  for (int j = lid; j < K; j += nl) {
    float e = exp(xr[j] - m);
    yr[j] = e;
    s += e;
  }
  s = group_reduce(s, scratch, 0);
  float inv = 1.0f / s;
  for (int j = lid; j < K; j += nl) yr[j] *= inv;
}

/* dx = y ⊙ (dy − Σ dy⊙y), the softmax Jacobian applied to dy. */
__kernel void softmax_backward(__global const float *y, const int y_off, __global const float *dy, const int dy_off,
                               __global float *dx, const int dx_off, const int K, __local float *scratch) {
  int row = get_group_id(0), lid = get_local_id(0), nl = get_local_size(0);
  __global const float *yr = y + y_off + row * K, *gr = dy + dy_off + row * K;
  __global float *dr = dx + dx_off + row * K;
  float s = 0.0f;
  for (int j = lid; j < K; j += nl) s += yr[j] * gr[j];
  s = group_reduce(s, scratch, 0);
  for (int j = lid; j < K; j += nl) dr[j] = yr[j] * (gr[j] - s);
}
