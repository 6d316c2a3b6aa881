/* activation.cl — ReLU and leaky ReLU, forward and backward. One work-item per element; the
 * backward pass reads the forward output y (not x) so that in-place ReLU needs no copy of x. */

/* y = x > 0 ? x : slope·x  (slope 0 = ReLU, Nair & Hinton 2010; slope > 0 = leaky ReLU) */
__kernel void relu_forward(__global const float *x, const int x_off, __global float *y, const int y_off,
                           const int n, const float slope) {
  int i = get_global_id(0);
  if (i >= n) return;
  float v = x[x_off + i];
  y[y_off + i] = v > 0.0f ? v : slope * v;
}

/* dx = dy where y > 0, slope·dy elsewhere. With slope ≥ 0, y > 0 exactly when x > 0. */
__kernel void relu_backward(__global const float *y, const int y_off, __global const float *dy, const int dy_off,
                            __global float *dx, const int dx_off, const int n, const float slope) {
  int i = get_global_id(0);
  if (i >= n) return;
  float g = dy[dy_off + i];
  dx[dx_off + i] = y[y_off + i] > 0.0f ? g : slope * g;
}

/* The CPU forms: sixteen elements per item as float16 (a partial block at the end element by
 * element), the same selects. 1-D range (⌈n/16⌉). */
__kernel void relu_forward_rows(__global const float *x, const int x_off, __global float *y, const int y_off,
                                const int n, const float slope) {
  const int i0 = 16 * get_global_id(0);
  if (i0 >= n) return;
  if (i0 + 16 <= n) {
    const float16 v = vload16(0, x + x_off + i0);
    vstore16(select(slope * v, v, isgreater(v, 0.0f)), 0, y + y_off + i0);
    return;
  }
  for (int i = i0; i < n; i++) {
    const float v = x[x_off + i];
    y[y_off + i] = v > 0.0f ? v : slope * v;
  }
}

__kernel void relu_backward_rows(__global const float *y, const int y_off, __global const float *dy,
                                 const int dy_off, __global float *dx, const int dx_off, const int n,
                                 const float slope) {
  const int i0 = 16 * get_global_id(0);
  if (i0 >= n) return;
  if (i0 + 16 <= n) {
    const float16 g = vload16(0, dy + dy_off + i0);
    vstore16(select(slope * g, g, isgreater(vload16(0, y + y_off + i0), 0.0f)), 0, dx + dx_off + i0);
    return;
  }
  for (int i = i0; i < n; i++) {
    const float g = dy[dy_off + i];
    dx[dx_off + i] = y[y_off + i] > 0.0f ? g : slope * g;
  }
}
