/* gemm.cl — clfer's own SGEMM for CPU devices: row-major C = alpha·op(A)·op(B) + beta·C, strided
 * over a batch (dimension 2). CLBlast's kernel ran at 100-130 GFLOP/s on PoCL's AVX-512 code and
 * copied every operand off its 64×64 tiles; these run the same products at 200-400 in place,
 * at any size (docs/perf.md, "clfer's own GEMM on CPUs").
 *
 * Each item computes an 8 × 32 block of C over the whole of k, as a BLAS micro-kernel does: per
 * step of k, two float16 loads from the operand whose rows run along the block's 32 lanes ("the
 * vector operand": B, row-major [k][n]) and eight broadcasts from the other (A's eight rows, each
 * a scalar folded into its multiply-add), sixteen float16 accumulators. op(B) must be B itself;
 * the runtime lays a transposed B out as [k][n] first (sgemm_cpu_transpose). A may be either:
 * `_tn` reads A stored [k][m] (trans_a), `_nn` A stored [m][k]. Each form is its own kernel so that
 * the broadcasts' stride along the block (1 or lda) is a constant. */

#define GEMM_ROWS 8   /* rows of C per item: broadcasts per step of k */
#define GEMM_LANES 32 /* columns of C per item: two float16 */

/* `lanes` (may be ≤ 0 or past 16) floats from p, zeros after. */
inline float16 gemm_load_lanes(__global const float *p, const int lanes) {
  if (lanes >= 16) return vload16(0, p);
  float l[16];
  for (int q = 0; q < 16; q++) l[q] = q < lanes ? p[q] : 0.0f;
  return vload16(0, l);
}

/* p[0 .. lanes) = v (+ beta·p: BLAS's rule, C is not read when beta is 0) */
inline void gemm_store_lanes(float16 v, __global float *p, const int lanes, const float beta) {
  if (lanes >= 16) {
    if (beta != 0.0f) v += beta * vload16(0, p);
    vstore16(v, 0, p);
    return;
  }
  float l[16];
  vstore16(v, 0, l);
  for (int q = 0; q < lanes; q++) p[q] = beta != 0.0f ? l[q] + beta * p[q] : l[q];
}

/* A's element (row i, step l) at A[i·ROW_STRIDE + l·STEP] for the item's rows. 3-D range
 * (⌈n/32⌉, ⌈m/8⌉, batch). */
#define SGEMM_CPU_KERNEL(NAME, ROW_STRIDE, STEP)                                                       \
  __kernel void NAME(const int m, const int n, const int k, const float alpha, __global const float *a, \
                     const ulong a_off, const int lda, const ulong a_stride, __global const float *b,   \
                     const ulong b_off, const int ldb, const ulong b_stride, const float beta,          \
                     __global float *c, const ulong c_off, const int ldc, const ulong c_stride) {       \
    const int j0 = GEMM_LANES * get_global_id(0), i0 = GEMM_ROWS * get_global_id(1);                   \
    const size_t z = get_global_id(2);                                                                 \
    if (j0 >= n || i0 >= m) return;                                                                   \
    const int rows = min(GEMM_ROWS, m - i0), lanes = min(GEMM_LANES, n - j0);                          \
    __global const float *ap = a + a_off + z * a_stride + (size_t)i0 * (ROW_STRIDE);                   \
    __global const float *bp = b + b_off + z * b_stride + j0;                                          \
    float16 acc0[GEMM_ROWS], acc1[GEMM_ROWS];                                                          \
    _Pragma("unroll") for (int r = 0; r < GEMM_ROWS; r++) acc0[r] = 0.0f, acc1[r] = 0.0f;              \
    if (rows == GEMM_ROWS && lanes == GEMM_LANES) {                                                    \
      for (int l = 0; l < k; l++) {                                                                    \
        const float16 v0 = vload16(0, bp), v1 = vload16(1, bp);                                        \
        _Pragma("unroll") for (int r = 0; r < GEMM_ROWS; r++) {                                        \
          const float s = ap[(size_t)r * (ROW_STRIDE)];                                                \
          acc0[r] = fma((float16)s, v0, acc0[r]);                                                      \
          acc1[r] = fma((float16)s, v1, acc1[r]);                                                      \
        }                                                                                              \
        ap += (STEP), bp += ldb;                                                                       \
      }                                                                                                \
    } else {                                                                                           \
      /* an edge block: rows past m read row m − 1 again (their sums are dropped), lanes past n       \
       * read nothing */                                                                               \
      for (int l = 0; l < k; l++) {                                                                    \
        const float16 v0 = gemm_load_lanes(bp, lanes), v1 = gemm_load_lanes(bp + 16, lanes - 16);      \
        _Pragma("unroll") for (int r = 0; r < GEMM_ROWS; r++) {                                        \
          const float s = ap[(size_t)min(r, rows - 1) * (ROW_STRIDE)];                                 \
          acc0[r] = fma((float16)s, v0, acc0[r]);                                                      \
          acc1[r] = fma((float16)s, v1, acc1[r]);                                                      \
        }                                                                                              \
        ap += (STEP), bp += ldb;                                                                       \
      }                                                                                                \
    }                                                                                                  \
    __global float *cp = c + c_off + z * c_stride + (size_t)i0 * ldc + j0;                             \
    for (int r = 0; r < rows; r++) {                                                                   \
      gemm_store_lanes(alpha * acc0[r], cp + (size_t)r * ldc, lanes, beta);                            \
      if (lanes > 16) gemm_store_lanes(alpha * acc1[r], cp + (size_t)r * ldc + 16, lanes - 16, beta);  \
    }                                                                                                  \
  }

SGEMM_CPU_KERNEL(sgemm_cpu_tn, 1, lda)
SGEMM_CPU_KERNEL(sgemm_cpu_nn, lda, 1)

/* dst[z][l][j] = src[z][j·ld + l]: B stored [n][k] (trans_b) laid out [k][n] for the kernels above,
 * a 16 × 16 block per item through private memory where the block is full: its sixteen rows
 * stored there as float16, each row of the result gathered from them (scattering each loaded row
 * element by element instead, ResNet-18's transposes took 850-880 µs a call, against 350-380).
 * 3-D range (⌈k/16⌉, ⌈n/16⌉, batch). */
__kernel void sgemm_cpu_transpose(__global const float *src, const ulong src_off, const int ld, const ulong src_stride,
                                  __global float *dst, const int n, const int k) {
  const int l0 = 16 * get_global_id(0), j0 = 16 * get_global_id(1);
  const size_t z = get_global_id(2);
  if (l0 >= k || j0 >= n) return;
  const int ls = min(16, k - l0), js = min(16, n - j0);
  __global const float *s = src + src_off + z * src_stride + (size_t)j0 * ld + l0;
  __global float *d = dst + z * (size_t)n * k + (size_t)l0 * n + j0;
  float t[16][16];
  if (ls == 16 && js == 16) {
    for (int j = 0; j < 16; j++) vstore16(vload16(0, s + (size_t)j * ld), 0, t[j]);
    for (int l = 0; l < 16; l++)
      vstore16((float16)(t[0][l], t[1][l], t[2][l], t[3][l], t[4][l], t[5][l], t[6][l], t[7][l], t[8][l], t[9][l],
                         t[10][l], t[11][l], t[12][l], t[13][l], t[14][l], t[15][l]),
               0, d + (size_t)l * n);
    return;
  }
  for (int j = 0; j < js; j++)
    for (int l = 0; l < ls; l++) t[j][l] = s[(size_t)j * ld + l];
  for (int l = 0; l < ls; l++)
    for (int j = 0; j < js; j++) d[(size_t)l * n + j] = t[j][l];
}
