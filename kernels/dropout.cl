/* dropout.cl — inverted dropout (Srivastava et al. 2014) with a counter-based generator:
 * Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) keyed by
 * the seed, with the counter (step) and the element index as the Philox counter. The mask is a
 * pure function of (seed, counter, index), so every device and every launch shape gives the
 * same mask; integer-only decisions keep it bit-exact. */

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* One Philox round (SC'11 §3.3, Random123's philox4x32round). */
inline uint4 philox_round(uint4 c, uint2 k) {
  uint hi0 = mul_hi(PHILOX_M0, c.x), lo0 = PHILOX_M0 * c.x;
  uint hi1 = mul_hi(PHILOX_M1, c.z), lo1 = PHILOX_M1 * c.z;
  return (uint4)(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
}

inline uint4 philox4x32_10(uint4 c, uint2 k) {
  for (int r = 0; r < 9; r++) {
    c = philox_round(c, k);
    k += (uint2)(PHILOX_W0, PHILOX_W1);
  }
  return philox_round(c, k);
}

/* One work-item per 4 consecutive elements (one Philox block). Block b's counter is
 * (b_lo, b_hi, counter_lo, counter_hi) with key (seed_lo, seed_hi); element 4b+j keeps when the
 * top 24 bits of word j are ≥ threshold = ceil(p·2^24), i.e. with probability 1 − p. */
__kernel void dropout_forward(__global const float *x, const int x_off, __global float *y, const int y_off,
                              __global float *mask, const int mask_off, const int n, const uint seed_lo,
                              const uint seed_hi, const uint ctr_lo, const uint ctr_hi, const uint threshold,
                              const float keep_scale) {
  uint b = get_global_id(0);
  uint first = b * 4u;
  if (first >= (uint)n) return;
  uint4 r = philox4x32_10((uint4)(b, 0u, ctr_lo, ctr_hi), (uint2)(seed_lo, seed_hi));
  uint words[4] = {r.x, r.y, r.z, r.w};
  for (uint j = 0; j < 4u && first + j < (uint)n; j++) {
    float m = (words[j] >> 8) >= threshold ? keep_scale : 0.0f;
    mask[mask_off + first + j] = m;
    y[y_off + first + j] = x[x_off + first + j] * m;
  }
}

/* dx = dy ⊙ mask (the mask already holds 1/(1−p) for kept elements). */
__kernel void dropout_backward(__global const float *dy, const int dy_off, __global const float *mask,
                               const int mask_off, __global float *dx, const int dx_off, const int n) {
  int i = get_global_id(0);
  if (i >= n) return;
  dx[dx_off + i] = dy[dy_off + i] * mask[mask_off + i];
}
