/* optim.cl — the optimizers' per-element parameter updates, written to match torch.optim.SGD and
 * torch.optim.Adam step for step (same operation order, so float results agree closely). One
 * work-item per element; scalars that depend on the step (bias corrections) come from the host.
 * Offsets are in elements because parameters may be views into shared buffers. */

/* SGD (torch.optim.SGD): d = g + wd·p; with momentum, b = first ? d : μ·b + (1−τ)·d and
 * d = nesterov ? d + μ·b : b; then p −= lr·d. `buf` is not touched when momentum is 0. 1−τ comes
 * from the host, formed in double like PyTorch's Python-float hyper-parameters. */
__kernel void sgd_update(__global float *p, const int p_off, __global const float *g, const int g_off,
                         __global float *buf, const int buf_off, const int n, const float lr, const float momentum,
                         const float one_minus_dampening, const float weight_decay, const int nesterov,
                         const int first) {
  const int i = get_global_id(0);
  if (i >= n) return;
  const float pv = p[p_off + i];
  float d = g[g_off + i];
  if (weight_decay != 0.0f) d += weight_decay * pv;
  if (momentum != 0.0f) {
    float b = first ? d : momentum * buf[buf_off + i] + one_minus_dampening * d;
    buf[buf_off + i] = b;
    d = nesterov ? d + momentum * b : b;
  }
  p[p_off + i] = pv - lr * d;
}

/* Adam (torch.optim.Adam, amsgrad off): g += wd·p, or with decoupled decay (AdamW) p ·= 1 − lr·wd;
 * m = m + (1−β1)(g − m); v = β2·v + (1−β2)·g²; p −= step_size · m / (sqrt(v)/bc2_sqrt + ε) with
 * step_size = lr/(1 − β1^t) and bc2_sqrt = sqrt(1 − β2^t); the 1 − β values come from the host. */
__kernel void adam_update(__global float *p, const int p_off, __global const float *g, const int g_off,
                          __global float *m, const int m_off, __global float *v, const int v_off, const int n,
                          const float lr, const float one_minus_beta1, const float beta2,
                          const float one_minus_beta2, const float eps,
                          const float weight_decay, const int decoupled, const float step_size,
                          const float bc2_sqrt) {
  const int i = get_global_id(0);
  if (i >= n) return;
  float pv = p[p_off + i];
  float gv = g[g_off + i];
  if (weight_decay != 0.0f) {
    if (decoupled)
      pv *= 1.0f - lr * weight_decay;
    else
      gv += weight_decay * pv;
  }
  float mv = m[m_off + i];
  mv += one_minus_beta1 * (gv - mv);
  float vv = beta2 * v[v_off + i] + one_minus_beta2 * gv * gv;
  m[m_off + i] = mv;
  v[v_off + i] = vv;
  p[p_off + i] = pv - step_size * (mv / (sqrt(vv) / bc2_sqrt + eps));
}
