/* test_blas.c — SGEMM and strided-batched SGEMM through the runtime against a plain-C reference,
 * with offsets, transposes and guard zones: clfer's own kernels on PoCL, and CLBlast where ctest
 * runs this again with CLFER_GPU_PATHS=1 (as on GPUs). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static void ref_gemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
                     int ldb, float beta, float *c, int ldc) {
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double s = 0;
      for (int p = 0; p < k; p++) s += (double)(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
      c[i * ldc + j] = (float)(alpha * s + beta * c[i * ldc + j]);
    }
}

static void check(int ta, int tb, int m, int n, int k, float alpha, float beta) {
  clfer_runtime_t *rt = test_runtime();
  const int guard = 37, off = 13;
  int lda = ta ? m : k, ldb = tb ? k : n, ldc = n;
  size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)(tb ? n : k) * ldb, nc = (size_t)m * ldc;
  float *a = malloc((na + off) * 4), *b = malloc((nb + off) * 4), *c = malloc((nc + off + guard) * 4),
        *want = malloc((nc + off + guard) * 4);
  test_fill_uniform(a, na + off, 1, -1, 1);
  test_fill_uniform(b, nb + off, 2, -1, 1);
  test_fill_uniform(c, nc + off + guard, 3, -1, 1);
  memcpy(want, c, (nc + off + guard) * 4);
  ref_gemm(ta, tb, m, n, k, alpha, a + off, lda, b + off, ldb, beta, want + off, ldc);
  clfer_tensor_t da, db, dc;
  int sa[1] = {(int)(na + off)}, sb[1] = {(int)(nb + off)}, sc[1] = {(int)(nc + off + guard)};
  cr_assert_eq(clfer_tensor_create(rt, 1, sa, &da), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, sb, &db), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, sc, &dc), CLFER_OK);
  clfer_tensor_upload(&da, a), clfer_tensor_upload(&db, b), clfer_tensor_upload(&dc, c);
  cr_assert_eq(clfer_sgemm(rt, ta, tb, m, n, k, alpha, da.buf, off, lda, db.buf, off, ldb, beta, dc.buf, off, ldc),
               CLFER_OK, "%s", clfer_last_error());
  clfer_tensor_download(&dc, c);
  TEST_ASSERT_CLOSE(c, want, nc + off + guard, 1e-5, 1e-4, "sgemm (including guard zones)");
  clfer_tensor_release(&da), clfer_tensor_release(&db), clfer_tensor_release(&dc);
  free(a), free(b), free(c), free(want);
  clfer_runtime_destroy(rt);
}

Test(sgemm, nn) { check(0, 0, 37, 29, 41, 1.0f, 0.0f); }
Test(sgemm, tn_with_beta) { check(1, 0, 16, 64, 9, 0.5f, 1.0f); }
Test(sgemm, nt) { check(0, 1, 64, 1, 128, 1.0f, 0.0f); }
Test(sgemm, tt) { check(1, 1, 3, 70, 33, -2.0f, 0.25f); }

/* Sizes past 64³ take CLBlast's indirect kernel (copies into clfer's temporary buffer, row- or
 * column-major form chosen per call), with element offsets that force those copies; a product
 * with one tiny dimension goes back to the direct kernel (src/ops/gemm_tuning.c) and the next
 * large one returns to the indirect kernel. */
Test(sgemm, indirect_and_direct_kernels_in_turn) {
  check(0, 0, 130, 70, 96, 1.0f, 0.0f);
  check(1, 0, 96, 130, 70, 0.5f, 1.0f);
  check(1, 1, 4096, 16, 9, 1.0f, 0.0f);
  check(0, 1, 70, 96, 130, 1.0f, 0.0f);
  check(1, 1, 128, 64, 64, -1.0f, 0.25f);
}

Test(sgemm, strided_batched_matches_per_batch_reference) {
  clfer_runtime_t *rt = test_runtime();
  enum { M = 12, N = 20, K = 7, B = 5 };
  float a[B * M * K], b[K * N], c[B * M * N], want[B * M * N];
  test_fill_uniform(a, sizeof a / 4, 4, -1, 1);
  test_fill_uniform(b, sizeof b / 4, 5, -1, 1);
  memset(want, 0, sizeof want);
  for (int i = 0; i < B; i++) ref_gemm(0, 0, M, N, K, 1.0f, a + i * M * K, K, b, N, 0.0f, want + i * M * N, N);
  clfer_tensor_t da, db, dc;
  int sa[1] = {B * M * K}, sb[1] = {K * N}, sc[1] = {B * M * N};
  clfer_tensor_create(rt, 1, sa, &da), clfer_tensor_create(rt, 1, sb, &db), clfer_tensor_zeros(rt, 1, sc, &dc);
  clfer_tensor_upload(&da, a), clfer_tensor_upload(&db, b);
  /* the B matrix is shared: stride 0 */
  cr_assert_eq(clfer_sgemm_strided_batched(rt, 0, 0, M, N, K, 1.0f, da.buf, 0, K, M * K, db.buf, 0, N, 0, 0.0f,
                                           dc.buf, 0, N, M * N, B),
               CLFER_OK, "%s", clfer_last_error());
  clfer_tensor_download(&dc, c);
  TEST_ASSERT_CLOSE(c, want, (size_t)B * M * N, 1e-5, 1e-4, "strided batched sgemm");
  clfer_tensor_release(&da), clfer_tensor_release(&db), clfer_tensor_release(&dc);
  clfer_runtime_destroy(rt);
}

/* Sizes on CLBlast's tiles, in the forms its batched kernel reads in place (the Winograd
 * products': A transposed): a shared B (stride 0), padded strides and offsets must still give each
 * product, though CLBlast's in-place kernel would take product i at i times the packed size. On
 * PoCL (clfer's 64×64×32 tiles) the packed case must run as one launch, so that the others are
 * known to have had that path to take. The own CPU kernels run every case as one launch. */
Test(sgemm, strided_batched_honours_offsets_and_strides_on_the_in_place_path) {
  clfer_runtime_options_t opt = {.profiling = 1};
  clfer_runtime_t *rt = test_runtime_with(&opt);
  enum { M = 128, N = 128, K = 128, B = 3, PAD = 16, OFF = 32 };
  enum { SA = M * K + PAD, SB = K * N + PAD, SC = M * N + PAD };
  static float a[OFF + B * SA], b[OFF + B * SB], c[OFF + B * SC], want[B * M * N];
  test_fill_uniform(a, sizeof a / 4, 6, -1, 1);
  test_fill_uniform(b, sizeof b / 4, 7, -1, 1);
  clfer_tensor_t da, db, dc;
  int sa[1] = {OFF + B * SA}, sb[1] = {OFF + B * SB}, sc[1] = {OFF + B * SC};
  clfer_tensor_create(rt, 1, sa, &da), clfer_tensor_create(rt, 1, sb, &db), clfer_tensor_create(rt, 1, sc, &dc);
  clfer_tensor_upload(&da, a), clfer_tensor_upload(&db, b);
  struct {
    const char *name;
    size_t off, sa, sb, sc;
  } cases[] = {{"packed", 0, M * K, K * N, M * N}, {"shared B", 0, M * K, 0, M * N},
               {"padded strides", 0, SA, SB, SC}, {"offsets", OFF, M * K, K * N, M * N}};
  for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
    for (int i = 0; i < B; i++) /* A stored K × M (transposed), B K × N, C M × N */
      ref_gemm(1, 0, M, N, K, 1.0f, a + cases[t].off + i * cases[t].sa, M, b + cases[t].off + i * cases[t].sb, N,
               0.0f, want + i * M * N, N);
    clfer_tensor_fill(&dc, 0.0f);
    clfer_profile_reset(rt);
    cr_assert_eq(clfer_sgemm_strided_batched(rt, 1, 0, M, N, K, 1.0f, da.buf, cases[t].off, M, cases[t].sa, db.buf,
                                             cases[t].off, N, cases[t].sb, 0.0f, dc.buf, cases[t].off, N, cases[t].sc,
                                             B),
                 CLFER_OK, "%s: %s", cases[t].name, clfer_last_error());
    clfer_tensor_download(&dc, c);
    for (int i = 0; i < B; i++)
      TEST_ASSERT_CLOSE(c + cases[t].off + i * cases[t].sc, want + i * M * N, (size_t)M * N, 1e-4, 1e-4,
                        cases[t].name);
    const clfer_profile_row_t *rows;
    int n, batched = 0;
    cr_assert_eq(clfer_profile_rows(rt, &rows, &n), CLFER_OK);
    for (int r = 0; r < n; r++) batched |= strcmp(rows[r].name, "sgemm_batched") == 0;
    if (strcmp(clfer_sgemm_engine(rt), "clblast") != 0) {
      cr_assert(batched, "%s: the own kernels did not run it as one launch", cases[t].name);
      continue;
    }
    if (t == 0 && clfer_runtime_device(rt)->vendor == CLFER_VENDOR_POCL)
      cr_assert(batched, "packed operands on CLBlast's tiles did not run as one launch");
    if (t > 0) cr_assert_not(batched, "%s ran CLBlast's in-place batched kernel", cases[t].name);
  }
  clfer_tensor_release(&da), clfer_tensor_release(&db), clfer_tensor_release(&dc);
  clfer_runtime_destroy(rt);
}

/* BLAS's rule: with beta = 0, C is written and never read (a NaN there must not survive), and a
 * k of 0 gives beta·C. */
Test(sgemm, beta_zero_overwrites_nan_and_empty_k_scales_c) {
  clfer_runtime_t *rt = test_runtime();
  enum { M = 9, N = 40, K = 5 };
  float a[M * K], b[K * N], c[M * N], want[M * N];
  test_fill_uniform(a, M * K, 8, -1, 1);
  test_fill_uniform(b, K * N, 9, -1, 1);
  memset(want, 0, sizeof want);
  ref_gemm(0, 0, M, N, K, 2.0f, a, K, b, N, 0.0f, want, N);
  clfer_tensor_t da, db, dc;
  int sa[1] = {M * K}, sb[1] = {K * N}, sc[1] = {M * N};
  clfer_tensor_create(rt, 1, sa, &da), clfer_tensor_create(rt, 1, sb, &db), clfer_tensor_create(rt, 1, sc, &dc);
  clfer_tensor_upload(&da, a), clfer_tensor_upload(&db, b);
  clfer_tensor_fill(&dc, NAN);
  cr_assert_eq(clfer_sgemm(rt, 0, 0, M, N, K, 2.0f, da.buf, 0, K, db.buf, 0, N, 0.0f, dc.buf, 0, N), CLFER_OK, "%s",
               clfer_last_error());
  clfer_tensor_download(&dc, c);
  TEST_ASSERT_CLOSE(c, want, (size_t)M * N, 1e-5, 1e-4, "beta = 0 over NaN");
  cr_assert_eq(clfer_sgemm(rt, 0, 0, M, N, 0, 2.0f, da.buf, 0, 1, db.buf, 0, N, 0.5f, dc.buf, 0, N), CLFER_OK, "%s",
               clfer_last_error());
  clfer_tensor_download(&dc, c);
  for (int i = 0; i < M * N; i++) want[i] *= 0.5f;
  TEST_ASSERT_CLOSE(c, want, (size_t)M * N, 1e-6, 1e-6, "k = 0");
  clfer_tensor_release(&da), clfer_tensor_release(&db), clfer_tensor_release(&dc);
  clfer_runtime_destroy(rt);
}

/* Every transpose form batched, sizes off the own kernels' 8 × 32 blocks, a shared B (stride 0;
 * the own kernels lay a transposed B out once) and per-product B in turn, with beta. */
Test(sgemm, strided_batched_every_form_with_shared_and_separate_b) {
  clfer_runtime_t *rt = test_runtime();
  enum { M = 19, N = 45, K = 23, B = 3 };
  float a[B * M * K], b[B * K * N], c0[B * M * N], c[B * M * N], want[B * M * N];
  test_fill_uniform(a, sizeof a / 4, 10, -1, 1);
  test_fill_uniform(b, sizeof b / 4, 11, -1, 1);
  test_fill_uniform(c0, sizeof c0 / 4, 12, -1, 1);
  clfer_tensor_t da, db, dc;
  int sa[1] = {B * M * K}, sb[1] = {B * K * N}, sc[1] = {B * M * N};
  clfer_tensor_create(rt, 1, sa, &da), clfer_tensor_create(rt, 1, sb, &db), clfer_tensor_create(rt, 1, sc, &dc);
  clfer_tensor_upload(&da, a), clfer_tensor_upload(&db, b);
  for (int form = 0; form < 8; form++) {
    int ta = form & 1, tb = (form >> 1) & 1, shared = form >> 2;
    int lda = ta ? M : K, ldb = tb ? K : N;
    size_t b_stride = shared ? 0 : (size_t)K * N;
    memcpy(want, c0, sizeof want);
    for (int i = 0; i < B; i++)
      ref_gemm(ta, tb, M, N, K, 1.5f, a + i * M * K, lda, b + i * b_stride, ldb, -0.5f, want + i * M * N, N);
    clfer_tensor_upload(&dc, c0);
    cr_assert_eq(clfer_sgemm_strided_batched(rt, ta, tb, M, N, K, 1.5f, da.buf, 0, lda, (size_t)M * K, db.buf, 0, ldb,
                                             b_stride, -0.5f, dc.buf, 0, N, (size_t)M * N, B),
                 CLFER_OK, "form %d: %s", form, clfer_last_error());
    clfer_tensor_download(&dc, c);
    char what[64];
    snprintf(what, sizeof what, "ta %d tb %d shared B %d", ta, tb, shared);
    TEST_ASSERT_CLOSE(c, want, (size_t)B * M * N, 1e-5, 1e-4, what);
  }
  clfer_tensor_release(&da), clfer_tensor_release(&db), clfer_tensor_release(&dc);
  clfer_runtime_destroy(rt);
}

Test(sgemm, too_small_buffer_is_an_error_not_a_crash) {
  clfer_runtime_t *rt = test_runtime();
  clfer_tensor_t t;
  int s[1] = {16};
  clfer_tensor_create(rt, 1, s, &t);
  clfer_status st = clfer_sgemm(rt, 0, 0, 64, 64, 64, 1.0f, t.buf, 0, 64, t.buf, 0, 64, 0.0f, t.buf, 0, 64);
  cr_assert_neq(st, CLFER_OK);
  const char *msg = clfer_last_error();
  cr_assert(strstr(msg, "sgemm") || strstr(msg, "CLBlastSgemm"), "%s", msg);
  if (strcmp(clfer_sgemm_engine(rt), "clblast") != 0)
    cr_assert(strstr(msg, "A holds 16 floats, the product reads 4096"), "%s", msg);
  clfer_tensor_release(&t);
  clfer_runtime_destroy(rt);
}
