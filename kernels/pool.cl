/* pool.cl — 2-D max and average pooling (Caffe/PyTorch semantics: padding, ceil-mode output
 * sizes, count_include_pad) and global average pooling, forward and backward. Backward passes
 * gather: each input element sums the outputs whose window holds it, so overlapping windows
 * (AlexNet's 3/2) need no atomics and the result does not depend on scheduling; max pooling with
 * non-overlapping windows scatters instead (each input is in at most one window). */

/* Window rows/cols of output (oh, ow) clipped to the input; divisor as Caffe's PoolingLayer and
 * PyTorch's avg_pool2d compute it: the window clipped to the padded border, or to the input when
 * padding is not counted. */
inline int avg_divisor(int oh, int ow, const int H, const int W, const int KH, const int KW, const int SH,
                       const int SW, const int PH, const int PW, const int count_include_pad) {
  int hs = oh * SH - PH, ws = ow * SW - PW;
  int he = min(hs + KH, H + PH), we = min(ws + KW, W + PW);
  int full = (he - hs) * (we - ws);
  if (count_include_pad) return full;
  hs = max(hs, 0);
  ws = max(ws, 0);
  he = min(he, H);
  we = min(we, W);
  return (he - hs) * (we - ws);
}

/* The maximum of the window from (hs, ws) (window coordinates, padding included) of an H × W
 * plane, and the flat index h·W + w within the plane of its first maximum; a NaN wins (the first
 * one), as in PyTorch. */
inline float maxpool_window(__global const float *plane, const int H, const int W, int hs, int ws, const int KH,
                            const int KW, int *best) {
  const int he = min(hs + KH, H), we = min(ws + KW, W);
  hs = max(hs, 0);
  ws = max(ws, 0);
  float m = -INFINITY;
  *best = hs * W + ws;
  for (int h = hs; h < he && !isnan(m); h++) /* a NaN wins; stop scanning */
    for (int w = ws; w < we; w++) {
      const float v = plane[h * W + w];
      if (v > m || isnan(v)) {
        m = v;
        *best = h * W + w;
        if (isnan(v)) break;
      }
    }
  return m;
}

/* One work-item per output element over a (OW, OH, N·C) range (no division per element);
 * argmax holds the flat index h·W + w within the plane (as float) of the first maximum. */
__kernel void maxpool2d_forward(__global const float *x, const int x_off, __global float *y, const int y_off,
                                __global float *argmax, const int am_off, const int has_argmax, const int NC,
                                const int H, const int W, const int OH, const int OW, const int KH, const int KW,
                                const int SH, const int SW, const int PH, const int PW) {
  int ow = get_global_id(0), oh = get_global_id(1), nc = get_global_id(2);
  if (ow >= OW || oh >= OH) return;
  int i = (nc * OH + oh) * OW + ow, best;
  const float m = maxpool_window(x + x_off + nc * H * W, H, W, oh * SH - PH, ow * SW - PW, KH, KW, &best);
  y[y_off + i] = m;
  if (has_argmax) argmax[am_off + i] = (float)best;
}

/* The same for the 2×2 stride-2 windows without padding that lie inside the input (VGG-style
 * pooling), on CPUs: one item per output row (oh, plane nc), four windows per float4 from two
 * 8-float loads of the two input rows, branch-free (PoCL's per-item loop cannot vectorise the
 * scan above across items). The same first-maximum and NaN rules, window element by element:
 * an element replaces the maximum if it is greater or NaN, unless the maximum is already NaN.
 * 2-D range (OH, N·C). */
#define MAXPOOL2_TAKE(m, idx, v, k)                                  \
  {                                                                  \
    const int4 take_ = !isnan(m) && (isgreater(v, m) || isnan(v)); \
    m = select(m, v, take_);                                         \
    idx = select(idx, (int4)(k), take_);                             \
  }
__kernel void maxpool2d_forward_2x2_rows(__global const float *x, const int x_off, __global float *y,
                                         const int y_off, __global float *argmax, const int am_off,
                                         const int has_argmax, const int NC, const int H, const int W,
                                         const int OH, const int OW) {
  const int oh = get_global_id(0), nc = get_global_id(1);
  if (oh >= OH || nc >= NC) return;
  __global const float *r0 = x + x_off + ((size_t)nc * H + 2 * oh) * W, *r1 = r0 + W;
  const size_t o = ((size_t)nc * OH + oh) * OW;
  int ow = 0;
  for (; ow + 4 <= OW; ow += 4) {
    const float8 t = vload8(0, r0 + 2 * ow), b = vload8(0, r1 + 2 * ow);
    float4 m = t.even;
    int4 idx = 0;
    MAXPOOL2_TAKE(m, idx, t.odd, 1)
    MAXPOOL2_TAKE(m, idx, b.even, 2)
    MAXPOOL2_TAKE(m, idx, b.odd, 3)
    vstore4(m, 0, y + y_off + o + ow);
    if (has_argmax) {
      const int4 col = 2 * (ow + (int4)(0, 1, 2, 3)) + (idx & 1);
      vstore4(convert_float4((2 * oh + (idx >> 1)) * W + col), 0, argmax + am_off + o + ow);
    }
  }
  for (; ow < OW; ow++) { /* the last windows of the row, one at a time */
    const float v[4] = {r0[2 * ow], r0[2 * ow + 1], r1[2 * ow], r1[2 * ow + 1]};
    float m = v[0];
    int best = 0;
    for (int k = 1; k < 4; k++)
      if (!isnan(m) && (v[k] > m || isnan(v[k]))) m = v[k], best = k;
    y[y_off + o + ow] = m;
    if (has_argmax) argmax[am_off + o + ow] = (float)((2 * oh + (best >> 1)) * W + 2 * ow + (best & 1));
  }
}

/* Any other windows on CPUs: one item per output row (oh, plane nc), four windows per float4
 * where all four lie inside the input's columns (each window element a four-lane load SW apart),
 * the windows at the borders one at a time as above; the same rules as MAXPOOL2_TAKE, element by
 * element in the scalar scan's order (PoCL, ResNet-18's 3/2 pad-1 pool of [8, 64, 56, 56]:
 * 4.4 → 1.8-2.0 ms a call; AlexNet's three 3/2 pools at batch 8 together 3.5 ms). 2-D range (OH, N·C). */
__kernel void maxpool2d_forward_rows(__global const float *x, const int x_off, __global float *y, const int y_off,
                                     __global float *argmax, const int am_off, const int has_argmax, const int NC,
                                     const int H, const int W, const int OH, const int OW, const int KH,
                                     const int KW, const int SH, const int SW, const int PH, const int PW) {
  const int oh = get_global_id(0), nc = get_global_id(1);
  if (oh >= OH || nc >= NC) return;
  __global const float *plane = x + x_off + (size_t)nc * H * W;
  const size_t o = ((size_t)nc * OH + oh) * OW;
  const int h0 = oh * SH - PH, hs = max(h0, 0), he = min(h0 + KH, H);
  const int4 lane = (int4)(0, 1, 2, 3) * SW;
  for (int ow = 0; ow < OW;) {
    const int ws = ow * SW - PW;
    if (ow + 4 <= OW && ws >= 0 && ws + 3 * SW + KW <= W) {
      float4 m = -INFINITY;
      int4 idx = hs * W + ws + lane;
      for (int h = hs; h < he; h++) {
        __global const float *r = plane + h * W + ws;
        if (SW == 2 && (KW == 2 || KW == 3)) { /* AlexNet's and ResNet's 3/2: one 8-float load a row */
          const float8 t = vload8(0, r);
          MAXPOOL2_TAKE(m, idx, t.even, h * W + ws + lane)
          MAXPOOL2_TAKE(m, idx, t.odd, h * W + ws + 1 + lane)
          if (KW == 3) MAXPOOL2_TAKE(m, idx, ((float4)(t.s246, r[8])), h * W + ws + 2 + lane)
          continue;
        }
        for (int kw = 0; kw < KW; kw++) {
          const float4 v = (float4)(r[kw], r[kw + SW], r[kw + 2 * SW], r[kw + 3 * SW]);
          MAXPOOL2_TAKE(m, idx, v, h * W + ws + kw + lane)
        }
      }
      vstore4(m, 0, y + y_off + o + ow);
      if (has_argmax) vstore4(convert_float4(idx), 0, argmax + am_off + o + ow);
      ow += 4;
    } else {
      int best;
      y[y_off + o + ow] = maxpool_window(plane, H, W, h0, ws, KH, KW, &best);
      if (has_argmax) argmax[am_off + o + ow] = (float)best;
      ow++;
    }
  }
}

/* The max-pool backward kernels take, with `has_mask`, the pool's output y (laid out as dy) of a
 * pool whose input is a ReLU's output: a window's gradient goes on through that ReLU too, times
 * mask_slope where the window's maximum, the ReLU's output at its argmax, is not > 0. */
#define POOL_MASKED(v, o) (has_mask && !(y[y_off + (o)] > 0.0f) ? mask_slope * (v) : (v))

/* One work-item per input element over a (W, H, N·C) range: sums dy of every window containing it
 * whose argmax it is. */
__kernel void maxpool2d_backward(__global const float *dy, const int dy_off, __global const float *argmax,
                                 const int am_off, __global float *dx, const int dx_off, const int NC, const int H,
                                 const int W, const int OH, const int OW, const int KH, const int KW, const int SH,
                                 const int SW, const int PH, const int PW, __global const float *y, const int y_off,
                                 const int has_mask, const float mask_slope) {
  int w = get_global_id(0), h = get_global_id(1), nc = get_global_id(2);
  if (w >= W || h >= H) return;
  int i = (nc * H + h) * W + w;
  int hp = h + PH, wp = w + PW;
  int ph0 = hp < KH ? 0 : (hp - KH) / SH + 1, ph1 = min(hp / SH + 1, OH);
  int pw0 = wp < KW ? 0 : (wp - KW) / SW + 1, pw1 = min(wp / SW + 1, OW);
  int base = nc * OH * OW, self = h * W + w;
  float g = 0.0f;
  for (int ph = ph0; ph < ph1; ph++)
    for (int pw = pw0; pw < pw1; pw++) {
      int o = base + ph * OW + pw;
      if ((int)argmax[am_off + o] == self) g += POOL_MASKED(dy[dy_off + o], o);
    }
  dx[dx_off + i] = g;
}

/* Non-overlapping windows (stride ≥ kernel): every input element is in at most one window, so
 * the gradient is a scatter of dy to the argmax of each window into a zeroed dx — no search over
 * windows and no conflicts (still deterministic). (OW, OH, N·C) range. */
__kernel void maxpool2d_backward_scatter(__global const float *dy, const int dy_off, __global const float *argmax,
                                         const int am_off, __global float *dx, const int dx_off, const int H,
                                         const int W, const int OH, const int OW, __global const float *y,
                                         const int y_off, const int has_mask, const float mask_slope) {
  int ow = get_global_id(0), oh = get_global_id(1), nc = get_global_id(2);
  if (ow >= OW || oh >= OH) return;
  int o = (nc * OH + oh) * OW + ow;
  dx[dx_off + nc * H * W + (int)argmax[am_off + o]] = POOL_MASKED(dy[dy_off + o], o);
}

/* The CPU form of both: one item per plane, which zeroes its dx plane and adds each window's
 * gradient at its argmax in output order. The windows covering an input element are met in the
 * gather's (ph, pw) order, so the sums are the gather's to the bit, without its division per
 * element, and with no zeroing pass of its own. 1-D range (N·C). */
__kernel void maxpool2d_backward_planes(__global const float *dy, const int dy_off, __global const float *argmax,
                                        const int am_off, __global float *dx, const int dx_off, const int NC,
                                        const int HW, const int OHW, __global const float *y, const int y_off,
                                        const int has_mask, const float mask_slope) {
  const int nc = get_global_id(0);
  if (nc >= NC) return;
  __global float *d = dx + dx_off + (size_t)nc * HW;
  __global const float *g = dy + dy_off + (size_t)nc * OHW, *a = argmax + am_off + (size_t)nc * OHW;
  int i = 0;
  for (; i + 16 <= HW; i += 16) vstore16((float16)0.0f, 0, d + i);
  for (; i < HW; i++) d[i] = 0.0f;
  for (int o = 0; o < OHW; o++) d[(int)a[o]] += POOL_MASKED(g[o], (size_t)nc * OHW + o);
}

__kernel void avgpool2d_forward(__global const float *x, const int x_off, __global float *y, const int y_off,
                                const int NC, const int H, const int W, const int OH, const int OW, const int KH,
                                const int KW, const int SH, const int SW, const int PH, const int PW,
                                const int count_include_pad) {
  int i = get_global_id(0);
  if (i >= NC * OH * OW) return;
  int ow = i % OW, oh = (i / OW) % OH, nc = i / (OW * OH);
  int hs = max(oh * SH - PH, 0), ws = max(ow * SW - PW, 0);
  int he = min(oh * SH - PH + KH, H), we = min(ow * SW - PW + KW, W);
  __global const float *plane = x + x_off + nc * H * W;
  float s = 0.0f;
  for (int h = hs; h < he; h++)
    for (int w = ws; w < we; w++) s += plane[h * W + w];
  y[y_off + i] = s / (float)avg_divisor(oh, ow, H, W, KH, KW, SH, SW, PH, PW, count_include_pad);
}

/* One work-item per input element over a (W, H, N·C) range: Σ dy / divisor over the windows that
 * contain it. */
__kernel void avgpool2d_backward(__global const float *dy, const int dy_off, __global float *dx, const int dx_off,
                                 const int NC, const int H, const int W, const int OH, const int OW, const int KH,
                                 const int KW, const int SH, const int SW, const int PH, const int PW,
                                 const int count_include_pad) {
  int w = get_global_id(0), h = get_global_id(1), nc = get_global_id(2);
  if (w >= W || h >= H) return;
  int i = (nc * H + h) * W + w;
  int hp = h + PH, wp = w + PW;
  int ph0 = hp < KH ? 0 : (hp - KH) / SH + 1, ph1 = min(hp / SH + 1, OH);
  int pw0 = wp < KW ? 0 : (wp - KW) / SW + 1, pw1 = min(wp / SW + 1, OW);
  int base = nc * OH * OW;
  float g = 0.0f;
  for (int ph = ph0; ph < ph1; ph++)
    for (int pw = pw0; pw < pw1; pw++)
      g += dy[dy_off + base + ph * OW + pw] /
           (float)avg_divisor(ph, pw, H, W, KH, KW, SH, SW, PH, PW, count_include_pad);
  dx[dx_off + i] = g;
}

/* One work-group per (n, c) plane: strided partial sums, then a halving tree in local memory.
 * The local size must be a power of two. */
__kernel void global_avgpool_forward(__global const float *x, const int x_off, __global float *y, const int y_off,
                                     const int HW, __local float *partial) {
  int nc = get_group_id(0), lid = get_local_id(0), nl = get_local_size(0);
  __global const float *plane = x + x_off + nc * HW;
  float s = 0.0f;
  for (int j = lid; j < HW; j += nl) s += plane[j];
  partial[lid] = s;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int stride = nl / 2; stride > 0; stride /= 2) {
    if (lid < stride) partial[lid] += partial[lid + stride];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  if (lid == 0) y[y_off + nc] = partial[0] / (float)HW;
}

__kernel void global_avgpool_backward(__global const float *dy, const int dy_off, __global float *dx,
                                      const int dx_off, const int NC, const int HW) {
  int i = get_global_id(0);
  if (i >= NC * HW) return;
  dx[dx_off + i] = dy[dy_off + i / HW] / (float)HW;
}
