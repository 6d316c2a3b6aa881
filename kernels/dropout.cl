/* dropout.cl — inverted dropout (Srivastava et al. 2014) with a counter-based generator:
 * Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) keyed by
 * the seed, with the counter (step) and the element index as the Philox counter. The mask is a
 * pure function of (seed, counter, index), so every device and every launch shape gives the
 * same mask; integer-only decisions keep it bit-exact. */

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* Four Philox blocks (16 consecutive elements) per work-item, the blocks in the lanes of four
 * uint4 (one per Philox word), so the rounds are vector operations on every device (on PoCL this
 * ran the kernel 4× faster than a block per item). Block b's counter is
 * (b, 0, counter_lo, counter_hi) with key (seed_lo, seed_hi); element 4b+j keeps when the top 24
 * bits of word j are ≥ threshold = ceil(p·2^24), i.e. with probability 1 − p. */
__kernel void dropout_forward(__global const float *x, const int x_off, __global float *y, const int y_off,
                              __global float *mask, const int mask_off, const int n, const uint seed_lo,
                              const uint seed_hi, const uint ctr_lo, const uint ctr_hi, const uint threshold,
                              const float keep_scale) {
  const uint b0 = get_global_id(0) * 4u, first = b0 * 4u;
  if (first >= (uint)n) return;
  uint4 cx = (uint4)(b0, b0 + 1u, b0 + 2u, b0 + 3u), cy = (uint4)(0u), cz = (uint4)(ctr_lo), cw = (uint4)(ctr_hi);
  uint kx = seed_lo, ky = seed_hi;
  for (int r = 0; r < 10; r++) { /* one Philox round (SC'11 §3.3, Random123's philox4x32round) per lane */
    const uint4 hi0 = mul_hi((uint4)(PHILOX_M0), cx), lo0 = (uint4)(PHILOX_M0) * cx;
    const uint4 hi1 = mul_hi((uint4)(PHILOX_M1), cz), lo1 = (uint4)(PHILOX_M1) * cz;
    cx = hi1 ^ cy ^ kx, cy = lo1, cz = hi0 ^ cw ^ ky, cw = lo0;
    kx += PHILOX_W0, ky += PHILOX_W1;
  }
  const uint4 words[4] = {(uint4)(cx.s0, cy.s0, cz.s0, cw.s0), (uint4)(cx.s1, cy.s1, cz.s1, cw.s1),
                          (uint4)(cx.s2, cy.s2, cz.s2, cw.s2), (uint4)(cx.s3, cy.s3, cz.s3, cw.s3)};
  for (uint j = 0; j < 4u; j++) {
    const uint e0 = first + 4u * j;
    const float4 m = select((float4)(0.0f), (float4)(keep_scale), (words[j] >> 8) >= (uint4)(threshold));
    if (e0 + 4u <= (uint)n) {
      vstore4(m, 0, mask + mask_off + e0);
      vstore4(vload4(0, x + x_off + e0) * m, 0, y + y_off + e0);
    } else {
      const float ml[4] = {m.s0, m.s1, m.s2, m.s3};
      for (uint q = 0; e0 + q < (uint)n; q++) {
        mask[mask_off + e0 + q] = ml[q];
        y[y_off + e0 + q] = x[x_off + e0 + q] * ml[q];
      }
    }
  }
}

/* dx = dy ⊙ mask (the mask already holds 1/(1−p) for kept elements). */
__kernel void dropout_backward(__global const float *dy, const int dy_off, __global const float *mask,
                               const int mask_off, __global float *dx, const int dx_off, const int n) {
  int i = get_global_id(0);
  if (i >= n) return;
  dx[dx_off + i] = dy[dy_off + i] * mask[mask_off + i];
}

/* The CPU form: sixteen elements per item as float16, a partial block at the end element by
 * element. 1-D range (⌈n/16⌉). */
__kernel void dropout_backward_rows(__global const float *dy, const int dy_off, __global const float *mask,
                                    const int mask_off, __global float *dx, const int dx_off, const int n) {
  const int i0 = 16 * get_global_id(0);
  if (i0 >= n) return;
  if (i0 + 16 <= n) {
    vstore16(vload16(0, dy + dy_off + i0) * vload16(0, mask + mask_off + i0), 0, dx + dx_off + i0);
    return;
  }
  for (int i = i0; i < n; i++) dx[dx_off + i] = dy[dy_off + i] * mask[mask_off + i];
}
