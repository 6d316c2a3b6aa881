/* loss.cl — the training losses' forward and backward in fused kernels: softmax cross-entropy and
 * the FER+ multi-label loss (one work-group per row), DLP-CNN's k-nearest-neighbour weights,
 * squared distances to a reference row (LP and center loss), the center update, and LTNet's
 * coder transition layers. Each loss writes one value per sample; loss_sum_rows reduces them in a
 * fixed order so the value is deterministic. Offsets are in elements (tensors are views). */

#ifndef ROW_WG
#define ROW_WG 64 /* work-items per row in the row-wise kernels (a power of two) */
#endif
#ifndef SUM_WG
#define SUM_WG 256 /* work-items of the single work-group that sums per-sample losses (power of two) */
#endif
#ifndef LT_CLASSES
#define LT_CLASSES 7 /* LTNet: number of classes L (arrays in private memory are sized by it) */
#endif
#ifndef LT_CODERS
#define LT_CODERS 1 /* LTNet: number of coders C */
#endif
#ifndef LT_WEIGHTS
#define LT_WEIGHTS 1.0f /* LTNet: the C coder weights w_c, comma-separated */
#endif
#ifndef LT_CAFFE
#define LT_CAFFE 0 /* LTNet: 1 = apply a second softmax to p^ as the reference Caffe code does */
#endif

/* Tree reductions over the work-group; the leading barrier lets a caller reuse `red` right after
 * reading the previous result. Every work-item must call them. */
float wg_sum(__local float *red, float v, const int wg) {
  const int l = get_local_id(0);
  barrier(CLK_LOCAL_MEM_FENCE);
  red[l] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int s = wg / 2; s > 0; s >>= 1) {
    if (l < s) red[l] += red[l + s];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  return red[0];
}

float wg_max(__local float *red, float v, const int wg) {
  const int l = get_local_id(0);
  barrier(CLK_LOCAL_MEM_FENCE);
  red[l] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int s = wg / 2; s > 0; s >>= 1) {
    if (l < s) red[l] = fmax(red[l], red[l + s]);
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  return red[0];
}

/* Arg-max with the lower index winning ties (so the choice does not depend on the work-group
 * size); returns the index, -1 when every value is -INFINITY. */
int wg_argmax(__local float *red, __local int *redi, float v, int i, const int wg) {
  const int l = get_local_id(0);
  barrier(CLK_LOCAL_MEM_FENCE);
  red[l] = v;
  redi[l] = i;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (int s = wg / 2; s > 0; s >>= 1) {
    if (l < s) {
      float a = red[l], b = red[l + s];
      int ia = redi[l], ib = redi[l + s];
      if (ib >= 0 && (ia < 0 || b > a || (b == a && ib < ia))) {
        red[l] = b;
        redi[l] = ib;
      }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  return redi[0];
}

/* One work-group per row n of z[N,K]. multilabel = 0: cross-entropy against t,
 *   loss_n = Σt·lse − Σt·z,  ∂/∂z = Σt·q − t;
 * multilabel = 1: FER+ loss −log max_k(t_k q_k) (Barsoum et al. eq. 4),
 *   loss_n = −log t_k* − z_k* + lse,  ∂/∂z = q − e_k*; a row whose t is all zero adds nothing.
 * The gradient is scaled by grad_scale (weight/N) and added or written. */
__kernel __attribute__((reqd_work_group_size(ROW_WG, 1, 1))) void softmax_xent_rows(
    __global const float *z, const int z_off, __global const float *t, const int t_off, const int K,
    const int multilabel, __global float *grad, const int grad_off, const int has_grad, const float grad_scale,
    const int accumulate, __global float *row_loss, const int loss_off) {
  __local float red[ROW_WG];
  __local int redi[ROW_WG];
  const int n = get_group_id(0), l = get_local_id(0);
  __global const float *zr = z + z_off + (size_t)n * K;
  __global const float *tr = t + t_off + (size_t)n * K;

  float m = -INFINITY;
  for (int k = l; k < K; k += ROW_WG) m = fmax(m, zr[k]);
  m = wg_max(red, m, ROW_WG);
  float s = 0.0f;
  for (int k = l; k < K; k += ROW_WG) s += exp(zr[k] - m);
  s = wg_sum(red, s, ROW_WG);
  const float lse = m + log(s);

  float loss, tsum = 0.0f;
  int kstar = -1;
  if (!multilabel) {
    float tz = 0.0f;
    for (int k = l; k < K; k += ROW_WG) {
      tsum += tr[k];
      tz += tr[k] * zr[k];
    }
    tsum = wg_sum(red, tsum, ROW_WG);
    tz = wg_sum(red, tz, ROW_WG);
    loss = tsum * lse - tz;
  } else {
    /* t_k·q_k ∝ t_k·exp(z_k − m); zero targets can never win */
    float best = -INFINITY;
    int bi = -1;
    for (int k = l; k < K; k += ROW_WG) {
      float tk = tr[k];
      float v = tk > 0.0f ? log(tk) + zr[k] : -INFINITY;
      if (tk > 0.0f && (bi < 0 || v > best)) {
        best = v;
        bi = k;
      }
    }
    kstar = wg_argmax(red, redi, best, bi, ROW_WG);
    loss = kstar >= 0 ? lse - zr[kstar] - log(tr[kstar]) : 0.0f;
    tsum = kstar >= 0 ? 1.0f : 0.0f;
  }
  if (l == 0) row_loss[loss_off + n] = loss;
  if (has_grad) {
    __global float *gr = grad + grad_off + (size_t)n * K;
    for (int k = l; k < K; k += ROW_WG) {
      float target = multilabel ? (k == kstar ? 1.0f : 0.0f) : tr[k];
      float g = (tsum * exp(zr[k] - lse) - target) * grad_scale;
      gr[k] = accumulate ? gr[k] + g : g;
    }
  }
}

/* value[0] = (accumulate ? value[0] : 0) + scale · Σ_n row_loss[n], one work-group, fixed order. */
__kernel __attribute__((reqd_work_group_size(SUM_WG, 1, 1))) void loss_sum_rows(
    __global const float *row_loss, const int loss_off, const int N, const float scale, __global float *value,
    const int value_off, const int accumulate) {
  __local float red[SUM_WG];
  const int l = get_local_id(0);
  float s = 0.0f;
  for (int n = l; n < N; n += SUM_WG) s += row_loss[loss_off + n];
  s = wg_sum(red, s, SUM_WG);
  if (l == 0) value[value_off] = (accumulate ? value[value_off] : 0.0f) + scale * s;
}

/* DLP-CNN neighbour weights (Li et al. eq. 3): W[i,j] = 1/|N_k(i)| when x_j is one of the k
 * nearest samples of x_i's class (j ≠ i), else 0. gram = X·Xᵀ, so ‖x_i − x_j‖² ranks as
 * gram[j,j] − 2·gram[i,j]. Ties go to the lower index. rowsel[i] = i when x_i has neighbours,
 * else −1 (no term). One work-item per (j, i). */
__kernel void lp_knn_weights(__global const float *gram, __global const float *labels, const int lab_off,
                             const int N, const int k, __global float *W, __global float *rowsel) {
  const int j = get_global_id(0), i = get_global_id(1);
  if (i >= N || j >= N) return;
  const float li = labels[lab_off + i];
  const int yi = li >= 0.0f ? (int)li : -1;
  int same = 0; /* other samples of i's class */
  for (int m = 0; m < N; m++) {
    float lm = labels[lab_off + m];
    same += (m != i && yi >= 0 && lm >= 0.0f && (int)lm == yi);
  }
  const int nk = min(k, same);
  float w = 0.0f;
  const float lj = labels[lab_off + j];
  if (yi >= 0 && j != i && lj >= 0.0f && (int)lj == yi) {
    const float dj = gram[(size_t)j * N + j] - 2.0f * gram[(size_t)i * N + j];
    int rank = 0;
    for (int m = 0; m < N; m++) {
      float lm = labels[lab_off + m];
      if (m == i || m == j || lm < 0.0f || (int)lm != yi) continue;
      float dm = gram[(size_t)m * N + m] - 2.0f * gram[(size_t)i * N + m];
      rank += (dm < dj || (dm == dj && m < j));
    }
    if (rank < k) w = 1.0f / (float)nk;
  }
  W[(size_t)i * N + j] = w;
  if (j == 0) rowsel[i] = nk > 0 ? (float)i : -1.0f;
}

/* One work-group per row i of x[N,D]: r = idx[i]; when 0 ≤ r < R, loss_i = ½‖x_i − ref_r‖² and
 * the gradient is (x_i − ref_r)·grad_scale; otherwise both are zero. LP passes the neighbour
 * means (ref = W·X, idx = rowsel), center loss the centres (idx = labels). */
__kernel __attribute__((reqd_work_group_size(ROW_WG, 1, 1))) void sqdist_rows(
    __global const float *x, const int x_off, __global const float *ref, const int ref_off,
    __global const float *idx, const int idx_off, const int R, const int D, __global float *grad,
    const int grad_off, const int has_grad, const float grad_scale, const int accumulate, __global float *row_loss,
    const int loss_off) {
  __local float red[ROW_WG];
  const int i = get_group_id(0), l = get_local_id(0);
  const float rf = idx[idx_off + i];
  const int r = rf >= 0.0f && rf < (float)R ? (int)rf : -1;
  __global const float *xr = x + x_off + (size_t)i * D;
  __global const float *cr = ref + ref_off + (size_t)(r < 0 ? 0 : r) * D;
  __global float *gr = grad + grad_off + (size_t)i * D;
  float s = 0.0f;
  for (int d = l; d < D; d += ROW_WG) {
    float diff = r >= 0 ? xr[d] - cr[d] : 0.0f;
    s += diff * diff;
    if (has_grad) gr[d] = accumulate ? gr[d] + diff * grad_scale : diff * grad_scale;
  }
  s = wg_sum(red, s, ROW_WG);
  if (l == 0) row_loss[loss_off + i] = 0.5f * s;
}

/* Wen et al. eq. 4: c_j ← c_j − α·Σ_{y_i=j}(c_j − x_i)/(1 + n_j). One work-item per (d, j). */
__kernel void center_update(__global const float *x, const int x_off, __global const float *labels,
                            const int lab_off, const int N, const int D, const int K, __global float *centres,
                            const int c_off, const float alpha) {
  const int d = get_global_id(0), j = get_global_id(1);
  if (d >= D || j >= K) return;
  const float c = centres[c_off + (size_t)j * D + d];
  float acc = 0.0f;
  int count = 0;
  for (int n = 0; n < N; n++) {
    float ln = labels[lab_off + n];
    if (ln >= 0.0f && (int)ln == j) {
      acc += c - x[x_off + (size_t)n * D + d];
      count++;
    }
  }
  centres[c_off + (size_t)j * D + d] = c - alpha * acc / (float)(1 + count);
}

/* ---- LTNet (Zeng et al. §3.3): sizes are compile-time so per-sample arrays stay private ---- */

/* The projection before each forward: entries clamped to ≥ min_value, each row divided by its
 * sum. One work-item per row (c, i) of T[C,L,L]. */
__kernel void ltnet_project(__global float *T, const int T_off, const float min_value) {
  const int row = get_global_id(0);
  if (row >= LT_CODERS * LT_CLASSES) return;
  __global float *tr = T + T_off + (size_t)row * LT_CLASSES;
  float s = 0.0f;
  for (int j = 0; j < LT_CLASSES; j++) {
    float v = fmax(tr[j], min_value);
    tr[j] = v;
    s += v;
  }
  for (int j = 0; j < LT_CLASSES; j++) tr[j] = tr[j] / s;
}

/* One work-item per sample n: p = softmax(z_n), p^c = pᵀT^c, loss_n = Σ_c w_c·(−log p^c_{y^c}) over
 * coders with a label (or the CE of softmax(p^c) with LT_CAFFE). Writes ∂/∂z (scaled by
 * grad_scale), p into pout[N,L] and scale·w_c·∂loss/∂p^c into gout[N,C,L] for the ∂/∂T kernel. */
__kernel void ltnet_rows(__global const float *z, const int z_off, __global const float *y, const int y_off,
                         __global const float *T, const int T_off, const int N, __global float *grad,
                         const int grad_off, const int has_grad, const float grad_scale, const int accumulate,
                         __global float *pout, __global float *gout, __global float *row_loss) {
  const int n = get_global_id(0);
  if (n >= N) return;
  const float w[LT_CODERS] = {LT_WEIGHTS};
  float p[LT_CLASSES], dp[LT_CLASSES], ph[LT_CLASSES];
  __global const float *zr = z + z_off + (size_t)n * LT_CLASSES;
  float m = -INFINITY, s = 0.0f;
  for (int i = 0; i < LT_CLASSES; i++) m = fmax(m, zr[i]);
  for (int i = 0; i < LT_CLASSES; i++) {
    p[i] = exp(zr[i] - m);
    s += p[i];
  }
  for (int i = 0; i < LT_CLASSES; i++) {
    p[i] /= s;
    dp[i] = 0.0f;
    pout[(size_t)n * LT_CLASSES + i] = p[i];
  }
  float loss = 0.0f;
  for (int c = 0; c < LT_CODERS; c++) {
    __global float *gc = gout + ((size_t)n * LT_CODERS + c) * LT_CLASSES;
    const float yf = y[y_off + (size_t)n * LT_CODERS + c];
    const int yc = yf >= 0.0f && yf < (float)LT_CLASSES ? (int)yf : -1;
    if (yc < 0) {
      for (int j = 0; j < LT_CLASSES; j++) gc[j] = 0.0f;
      continue;
    }
    __global const float *Tc = T + T_off + (size_t)c * LT_CLASSES * LT_CLASSES;
    for (int j = 0; j < LT_CLASSES; j++) {
      float a = 0.0f;
      for (int i = 0; i < LT_CLASSES; i++) a += p[i] * Tc[i * LT_CLASSES + j];
      ph[j] = a;
    }
    /* ph becomes ∂loss_n/∂p^c (times w_c) */
#if LT_CAFFE
    float mh = -INFINITY, sh = 0.0f;
    for (int j = 0; j < LT_CLASSES; j++) mh = fmax(mh, ph[j]);
    for (int j = 0; j < LT_CLASSES; j++) sh += exp(ph[j] - mh);
    loss += w[c] * (mh + log(sh) - ph[yc]);
    for (int j = 0; j < LT_CLASSES; j++) ph[j] = w[c] * (exp(ph[j] - mh) / sh - (j == yc ? 1.0f : 0.0f));
#else
    const float py = ph[yc];
    loss -= w[c] * log(py);
    for (int j = 0; j < LT_CLASSES; j++) ph[j] = j == yc ? -w[c] / py : 0.0f;
#endif
    for (int i = 0; i < LT_CLASSES; i++) {
      float a = 0.0f;
      for (int j = 0; j < LT_CLASSES; j++) a += Tc[i * LT_CLASSES + j] * ph[j];
      dp[i] += a;
    }
    for (int j = 0; j < LT_CLASSES; j++) gc[j] = ph[j] * grad_scale;
  }
  row_loss[n] = loss;
  if (has_grad) {
    float pd = 0.0f;
    for (int i = 0; i < LT_CLASSES; i++) pd += p[i] * dp[i];
    __global float *gr = grad + grad_off + (size_t)n * LT_CLASSES;
    for (int i = 0; i < LT_CLASSES; i++) {
      float g = p[i] * (dp[i] - pd) * grad_scale;
      gr[i] = accumulate ? gr[i] + g : g;
    }
  }
}

/* ∂L/∂T^c[i,j] = Σ_n p[n,i]·g[n,c,j] (g already carries w_c and the scale). One work-item per
 * (i·L + j, c). */
__kernel void ltnet_grad_transitions(__global const float *pin, __global const float *gin, const int N,
                                     __global float *dT, const int dT_off) {
  const int ij = get_global_id(0), c = get_global_id(1);
  if (ij >= LT_CLASSES * LT_CLASSES || c >= LT_CODERS) return;
  const int i = ij / LT_CLASSES, j = ij % LT_CLASSES;
  float a = 0.0f;
  for (int n = 0; n < N; n++)
    a += pin[(size_t)n * LT_CLASSES + i] * gin[((size_t)n * LT_CODERS + c) * LT_CLASSES + j];
  dT[dT_off + (size_t)c * LT_CLASSES * LT_CLASSES + ij] = a;
}
