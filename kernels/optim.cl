/* optim.cl — the optimizers' per-element parameter updates, written to match torch.optim.SGD and
 * torch.optim.Adam step for step (same operation order, so float results agree closely). One
 * work-item per element; scalars that depend on the step (bias corrections) come from the host.
 * Offsets are in elements because parameters may be views into shared buffers. */

/* SGD (torch.optim.SGD): d = g + wd·p; with momentum, b = first ? d : μ·b + (1−τ)·d and
 * d = nesterov ? d + μ·b : b; then p −= lr·d. `buf` is not touched when momentum is 0. 1−τ comes
 * from the host, formed in double like PyTorch's Python-float hyper-parameters. SGD_STEP turns
 * the gradient d into the step for a parameter value pv (TYPE float or float16), reading the
 * momentum buffer through b_load and writing b_ through b_store. */
#define SGD_STEP(TYPE, pv, d, b_load, b_store)                                  \
  {                                                                            \
    if (weight_decay != 0.0f) d += weight_decay * pv;                          \
    if (momentum != 0.0f) {                                                    \
      const TYPE b_ = first ? d : momentum * b_load + one_minus_dampening * d; \
      b_store;                                                                 \
      d = nesterov ? d + momentum * b_ : b_;                                   \
    }                                                                          \
  }

__kernel void sgd_update(__global float *p, const int p_off, __global const float *g, const int g_off,
                         __global float *buf, const int buf_off, const int n, const float lr, const float momentum,
                         const float one_minus_dampening, const float weight_decay, const int nesterov,
                         const int first) {
  const int i = get_global_id(0);
  if (i >= n) return;
  const float pv = p[p_off + i];
  float d = g[g_off + i];
  SGD_STEP(float, pv, d, buf[buf_off + i], buf[buf_off + i] = b_)
  p[p_off + i] = pv - lr * d;
}

/* The optimizers' CPU forms: sixteen elements per item as float16 (a partial block at the end
 * element by element), where one element per item left PoCL's loop at half the memory rate
 * (AlexNet's SGD step with momentum, 57 M parameters: 2.0 → 1.1 ms per call on average, 35 → 63
 * GB/s). 1-D range (⌈n/16⌉). */
__kernel void sgd_update_rows(__global float *p, const int p_off, __global const float *g, const int g_off,
                              __global float *buf, const int buf_off, const int n, const float lr,
                              const float momentum, const float one_minus_dampening, const float weight_decay,
                              const int nesterov, const int first) {
  const int i0 = 16 * get_global_id(0);
  if (i0 >= n) return;
  if (i0 + 16 <= n) {
    const float16 pv = vload16(0, p + p_off + i0);
    float16 d = vload16(0, g + g_off + i0);
    SGD_STEP(float16, pv, d, vload16(0, buf + buf_off + i0), vstore16(b_, 0, buf + buf_off + i0))
    vstore16(pv - lr * d, 0, p + p_off + i0);
    return;
  }
  for (int i = i0; i < n; i++) {
    const float pv = p[p_off + i];
    float d = g[g_off + i];
    SGD_STEP(float, pv, d, buf[buf_off + i], buf[buf_off + i] = b_)
    p[p_off + i] = pv - lr * d;
  }
}

/* Adam (torch.optim.Adam, amsgrad off): g += wd·p, or with decoupled decay (AdamW) p ·= 1 − lr·wd;
 * m = m + (1−β1)(g − m); v = β2·v + (1−β2)·g²; p −= step_size · m / (sqrt(v)/bc2_sqrt + ε) with
 * step_size = lr/(1 − β1^t) and bc2_sqrt = sqrt(1 − β2^t); the 1 − β values come from the host.
 * ADAM_STEP updates pv, mv and vv (TYPE float or float16) from the gradient gv in place. */
#define ADAM_STEP(TYPE, pv, gv, mv, vv)                                           \
  {                                                                              \
    if (weight_decay != 0.0f) {                                                  \
      if (decoupled)                                                             \
        pv *= 1.0f - lr * weight_decay;                                          \
      else                                                                       \
        gv += weight_decay * pv;                                                 \
    }                                                                            \
    mv += one_minus_beta1 * (gv - mv);                                           \
    vv = beta2 * vv + one_minus_beta2 * gv * gv;                                 \
    pv = pv - step_size * (mv / (sqrt(vv) / bc2_sqrt + eps));                    \
  }

__kernel void adam_update(__global float *p, const int p_off, __global const float *g, const int g_off,
                          __global float *m, const int m_off, __global float *v, const int v_off, const int n,
                          const float lr, const float one_minus_beta1, const float beta2,
                          const float one_minus_beta2, const float eps,
                          const float weight_decay, const int decoupled, const float step_size,
                          const float bc2_sqrt) {
  const int i = get_global_id(0);
  if (i >= n) return;
  float pv = p[p_off + i], gv = g[g_off + i], mv = m[m_off + i], vv = v[v_off + i];
  ADAM_STEP(float, pv, gv, mv, vv)
  m[m_off + i] = mv;
  v[v_off + i] = vv;
  p[p_off + i] = pv;
}

__kernel void adam_update_rows(__global float *p, const int p_off, __global const float *g, const int g_off,
                               __global float *m, const int m_off, __global float *v, const int v_off, const int n,
                               const float lr, const float one_minus_beta1, const float beta2,
                               const float one_minus_beta2, const float eps, const float weight_decay,
                               const int decoupled, const float step_size, const float bc2_sqrt) {
  const int i0 = 16 * get_global_id(0);
  if (i0 >= n) return;
  if (i0 + 16 <= n) {
    float16 pv = vload16(0, p + p_off + i0), gv = vload16(0, g + g_off + i0), mv = vload16(0, m + m_off + i0),
            vv = vload16(0, v + v_off + i0);
    ADAM_STEP(float16, pv, gv, mv, vv)
    vstore16(mv, 0, m + m_off + i0);
    vstore16(vv, 0, v + v_off + i0);
    vstore16(pv, 0, p + p_off + i0);
    return;
  }
  for (int i = i0; i < n; i++) {
    float pv = p[p_off + i], gv = g[g_off + i], mv = m[m_off + i], vv = v[v_off + i];
    ADAM_STEP(float, pv, gv, mv, vv)
    m[m_off + i] = mv;
    v[v_off + i] = vv;
    p[p_off + i] = pv;
  }
}
