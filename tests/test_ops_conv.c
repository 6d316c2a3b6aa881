/* test_ops_conv.c — conv2d and dense forward against the double reference (with guard zones and
 * non-zero offsets), and backward-data / backward-weights / bias gradients against central
 * finite differences of the reference, on the im2col and the Winograd paths; chunked batches give
 * the same results; the automatic choice of Winograd; bad shapes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gradcheck.h"
#include "ref_conv.h"
#include "test_util.h"

#include <criterion/parameterized.h>

#define GUARD 37
#define SENTINEL 1234.5f

static const conv_case_t cases[] = {
    {"3x3_pad1", 2, 3, 7, 7, 4, 3, 1, 1, 1, 1},
    {"5x5_stride2_pad2", 2, 2, 9, 8, 3, 5, 2, 2, 1, 1},
    {"11x11_stride4", 1, 3, 23, 23, 2, 11, 4, 0, 1, 1},
    {"groups2", 3, 4, 6, 5, 6, 3, 1, 1, 2, 1},
    {"1x1_no_bias", 2, 5, 4, 6, 3, 1, 1, 0, 1, 0},
    {"batch1_nonsquare", 1, 2, 5, 9, 4, 3, 2, 1, 1, 1},
    /* gray first layers (on CPUs the direct path: rows of 16 outputs, whole and partial) */
    {"3x3_pad1_gray_wide", 2, 1, 9, 32, 8, 3, 1, 1, 1, 1},
    {"5x5_pad2_gray", 2, 1, 7, 37, 3, 5, 1, 2, 1, 0},
    /* wider 3×3 stride-1 layers, also through Winograd below (odd sizes leave partial tiles) */
    {"winograd_pad1_odd", 2, 16, 5, 7, 17, 3, 1, 1, 1, 1},
    {"winograd_pad0_no_bias", 1, 17, 6, 5, 16, 3, 1, 0, 1, 0},
};
enum { N_CASES = sizeof cases / sizeof cases[0] };

/* A device tensor at a non-zero offset between two sentinel zones. */
typedef struct guarded {
  clfer_tensor_t base, t;
  size_t n;
} guarded_t;

static void guarded_create(clfer_runtime_t *rt, int ndim, const int *shape, guarded_t *g) {
  g->n = clfer_shape_numel(ndim, shape);
  int total[1] = {(int)(g->n + 2 * GUARD)};
  cr_assert_eq(clfer_tensor_create(rt, 1, total, &g->base), CLFER_OK);
  cr_assert_eq(clfer_tensor_fill(&g->base, SENTINEL), CLFER_OK);
  cr_assert_eq(clfer_tensor_view(&g->base, GUARD, ndim, shape, &g->t), CLFER_OK);
}

static void guarded_upload(guarded_t *g, const double *x) {
  float *f = malloc(g->n * sizeof *f);
  for (size_t i = 0; i < g->n; i++) f[i] = (float)x[i];
  clfer_tensor_upload(&g->t, f);
  free(f);
}

/* Downloads and checks the guard zones are untouched. */
static float *guarded_download(guarded_t *g, const char *what) {
  float *all = malloc((g->n + 2 * GUARD) * sizeof *all);
  cr_assert_eq(clfer_tensor_download(&g->base, all), CLFER_OK);
  for (size_t i = 0; i < GUARD; i++) {
    cr_assert_eq(all[i], SENTINEL, "%s: write before the output at %zu", what, i);
    cr_assert_eq(all[GUARD + g->n + i], SENTINEL, "%s: write past the output at %zu", what, i);
  }
  float *out = malloc(g->n * sizeof *out);
  memcpy(out, all + GUARD, g->n * sizeof *out);
  free(all);
  return out;
}

static double *random_doubles(size_t n, uint64_t seed) {
  float *f = malloc(n * sizeof *f);
  double *d = malloc(n * sizeof *d);
  test_fill_uniform(f, n, seed, -1, 1);
  for (size_t i = 0; i < n; i++) d[i] = f[i];
  free(f);
  return d;
}

typedef struct fd_ctx {
  const conv_case_t *cc;
  double *x, *w, *b, *r;
  int which; /* 0 x, 1 w, 2 b */
  size_t ny;
} fd_ctx_t;

static double conv_loss(void *vctx, const double *v, size_t n) {
  fd_ctx_t *c = vctx;
  double *y = malloc(c->ny * sizeof *y);
  ref_conv2d_forward(c->cc, c->which == 0 ? v : c->x, c->which == 1 ? v : c->w, c->which == 2 ? v : c->b, y);
  double l = 0;
  for (size_t i = 0; i < c->ny; i++) l += c->r[i] * y[i];
  free(y);
  return l;
}

static void check_case(const conv_case_t *cc) {
  clfer_runtime_t *rt = test_runtime();
  int oh = ref_conv_out(cc->h, cc->k, cc->stride, cc->pad), ow = ref_conv_out(cc->w, cc->k, cc->stride, cc->pad);
  int xs[4] = {cc->n, cc->c, cc->h, cc->w}, ws[4] = {cc->o, cc->c / cc->groups, cc->k, cc->k}, bs[1] = {cc->o},
      ys[4] = {cc->n, cc->o, oh, ow};
  size_t nx = clfer_shape_numel(4, xs), nw = clfer_shape_numel(4, ws), ny = clfer_shape_numel(4, ys);
  double *x = random_doubles(nx, 1), *w = random_doubles(nw, 2), *b = random_doubles(cc->o, 3), *r = random_doubles(ny, 4);
  double *want = malloc(ny * sizeof *want);
  ref_conv2d_forward(cc, x, w, cc->bias ? b : NULL, want);
  guarded_t gx, gw, gb, gy, gdy, gdx, gdw, gdb;
  guarded_create(rt, 4, xs, &gx), guarded_create(rt, 4, ws, &gw), guarded_create(rt, 1, bs, &gb);
  guarded_create(rt, 4, ys, &gy), guarded_create(rt, 4, ys, &gdy), guarded_create(rt, 4, xs, &gdx);
  guarded_create(rt, 4, ws, &gdw), guarded_create(rt, 1, bs, &gdb);
  guarded_upload(&gx, x), guarded_upload(&gw, w), guarded_upload(&gb, b), guarded_upload(&gdy, r);
  clfer_conv2d_params_t p = {cc->k, cc->k, cc->stride, cc->stride, cc->pad, cc->pad, cc->groups};
  cr_assert_eq(clfer_conv2d_forward(rt, &p, &gx.t, &gw.t, cc->bias ? &gb.t : NULL, &gy.t), CLFER_OK, "%s: %s", cc->name,
               clfer_last_error());
  float *y = guarded_download(&gy, "forward");
  float *wantf = malloc(ny * sizeof *wantf);
  for (size_t i = 0; i < ny; i++) wantf[i] = (float)want[i];
  TEST_ASSERT_CLOSE(y, wantf, ny, 1e-4, 1e-4, cc->name);

  cr_assert_eq(clfer_conv2d_backward_data(rt, &p, &gdy.t, &gw.t, &gdx.t), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_conv2d_backward_weights(rt, &p, &gx.t, &gdy.t, &gdw.t, cc->bias ? &gdb.t : NULL), CLFER_OK, "%s",
               clfer_last_error());
  float *dx = guarded_download(&gdx, "backward data"), *dw = guarded_download(&gdw, "backward weights"),
        *db = guarded_download(&gdb, "bias gradient");
  /* the fused call runs the same kernels over the same chunks: equal to the bit */
  guarded_t gdx2, gdw2, gdb2;
  guarded_create(rt, 4, xs, &gdx2), guarded_create(rt, 4, ws, &gdw2), guarded_create(rt, 1, bs, &gdb2);
  cr_assert_eq(clfer_conv2d_backward(rt, &p, &gx.t, &gdy.t, &gw.t, &gdx2.t, &gdw2.t, cc->bias ? &gdb2.t : NULL),
               CLFER_OK, "%s", clfer_last_error());
  float *dx2 = guarded_download(&gdx2, "fused backward data"), *dw2 = guarded_download(&gdw2, "fused backward weights");
  cr_assert(memcmp(dx, dx2, nx * sizeof *dx) == 0 && memcmp(dw, dw2, nw * sizeof *dw) == 0,
            "%s: clfer_conv2d_backward differs from the two separate passes", cc->name);
  if (cc->bias) {
    float *db2 = guarded_download(&gdb2, "fused bias gradient");
    cr_assert(memcmp(db, db2, (size_t)cc->o * sizeof *db) == 0, "%s: fused bias gradient differs", cc->name);
    free(db2);
  }
  free(dx2), free(dw2);
  clfer_tensor_release(&gdx2.base), clfer_tensor_release(&gdw2.base), clfer_tensor_release(&gdb2.base);

  fd_ctx_t ctx = {cc, x, w, cc->bias ? b : NULL, r, 0, ny};
  double *num = malloc((nx > nw ? nx : nw) * sizeof *num);
  size_t worst;
  ctx.which = 0;
  gradcheck_numeric(conv_loss, &ctx, x, nx, 1e-3, num);
  cr_assert_leq(gradcheck_compare(dx, num, nx, 1e-4, 1e-3, &worst), 1.0, "%s dx[%zu]: %g vs %g", cc->name, worst,
                dx[worst], num[worst]);
  ctx.which = 1;
  gradcheck_numeric(conv_loss, &ctx, w, nw, 1e-3, num);
  cr_assert_leq(gradcheck_compare(dw, num, nw, 1e-4, 1e-3, &worst), 1.0, "%s dw[%zu]: %g vs %g", cc->name, worst,
                dw[worst], num[worst]);
  if (cc->bias) {
    ctx.which = 2;
    gradcheck_numeric(conv_loss, &ctx, b, (size_t)cc->o, 1e-3, num);
    cr_assert_leq(gradcheck_compare(db, num, (size_t)cc->o, 1e-4, 1e-3, &worst), 1.0, "%s db[%zu]", cc->name, worst);
  }
  free(num), free(dx), free(dw), free(db), free(y), free(wantf), free(want), free(x), free(w), free(b), free(r);
  guarded_t *all[] = {&gx, &gw, &gb, &gy, &gdy, &gdx, &gdw, &gdb};
  for (int i = 0; i < 8; i++) clfer_tensor_release(&all[i]->base);
  clfer_runtime_destroy(rt);
}

ParameterizedTestParameters(conv2d, matches_reference_and_finite_differences) {
  return cr_make_param_array(conv_case_t, (void *)cases, N_CASES);
}
ParameterizedTest(const conv_case_t *cc, conv2d, matches_reference_and_finite_differences) { check_case(cc); }

Test(conv2d, chunked_batches_give_the_same_result) {
  /* one image's columns are 3·9·49·4 bytes; a 6 KiB cap forces chunks of one image */
  setenv("CLFER_CONV_SCRATCH_BYTES", "6000", 1);
  check_case(&cases[0]);
  check_case(&cases[3]);
  unsetenv("CLFER_CONV_SCRATCH_BYTES");
}

/* Winograd forced, with 4×4 and with 2×2 output tiles, on every 3×3 stride-1 shape it serves (the
 * cases above are too small for the automatic choice): few channels, pad 0, 1 and 2, odd sizes
 * (partial tiles), two groups (run as layers of their own on views), chunks of one image. */
Test(conv2d, winograd_path_matches_reference_and_finite_differences) {
  static const conv_case_t pad2 = {"3x3_pad2", 2, 3, 5, 6, 2, 3, 1, 2, 1, 1};
  static const char *const algos[] = {"winograd4", "winograd2"};
  for (int i = 0; i < 2; i++) {
    setenv("CLFER_CONV_ALGO", algos[i], 1);
    check_case(&cases[0]);
    check_case(&pad2);
    check_case(&cases[6]);
    check_case(&cases[7]);
    check_case(&cases[3]);
    setenv("CLFER_CONV_SCRATCH_BYTES", "6000", 1);
    check_case(&cases[6]);
    check_case(&cases[3]);
    unsetenv("CLFER_CONV_SCRATCH_BYTES");
  }
  unsetenv("CLFER_CONV_ALGO");
}

/* A layer the automatic choice should give Winograd: 128 channels each way, 32×32, batch 4, so
 * every product's dimension (tiles 4·8·8, channels) is a multiple of 128 and runs in place with
 * CLBlast's usual tile sizes on any device. On CPUs the cache-sized chunk is 3 images (1.2 MB of
 * transformed input each, an eighth of PoCL's 32 MiB), so the batch also runs as two chunks. */
enum { WL_N = 4, WL_C = 128, WL_HW = 32 };

/* A 3×3 stride-1 pad-1 layer of C channels each way (in `groups` groups) on N images of HW × HW,
 * or HW × w where w is given. */
typedef struct square_layer {
  int n, c, hw, groups, w;
} square_layer_t;

static int layer_width(const square_layer_t *L) { return L->w ? L->w : L->hw; }

/* Runs one forward + fused backward of such a layer with profiling; returns whether a Winograd
 * kernel ran, and the outputs and the number of batched GEMM launches. */
static int conv_layer_run(const square_layer_t *L, const char *algo, float *y, float *dx, float *dw, float *db,
                          int *batched, int *cache_chunk) {
  if (algo) setenv("CLFER_CONV_ALGO", algo, 1);
  clfer_runtime_options_t opt = {.profiling = 1};
  clfer_runtime_t *rt = test_runtime_with(&opt);
  /* the chunk of the CPU forms (not forced to the GPU ones): cache / 8 over 36·C·8·8 floats */
  const clfer_device_info_t *dev = clfer_runtime_device(rt);
  const char *gpu_paths = getenv("CLFER_GPU_PATHS");
  int cpu_forms = dev->is_cpu && !(gpu_paths && *gpu_paths == '1');
  size_t tiles = (size_t)((L->hw + 3) / 4) * ((layer_width(L) + 3) / 4);
  *cache_chunk = cpu_forms ? (int)(dev->global_mem_cache_bytes / 8 / (36 * L->c * tiles * sizeof(float))) : L->n;
  int xs[4] = {L->n, L->c, L->hw, layer_width(L)}, ws[4] = {L->c, L->c / L->groups, 3, 3}, bs[1] = {L->c};
  size_t nx = (size_t)L->n * L->c * L->hw * layer_width(L), nw = (size_t)L->c * (L->c / L->groups) * 9;
  clfer_tensor_t x = {0}, w = {0}, b = {0}, t_y = {0}, dy = {0}, t_dx = {0}, t_dw = {0}, t_db = {0};
  float *hx = malloc(nx * sizeof *hx), *hdy = malloc(nx * sizeof *hdy), *hw = malloc(nw * sizeof *hw);
  test_fill_uniform(hx, nx, 11, -1, 1), test_fill_uniform(hdy, nx, 13, -0.1f, 0.1f);
  test_fill_uniform(hw, nw, 12, -0.05f, 0.05f);
  cr_assert_eq(clfer_tensor_create(rt, 4, xs, &x), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 4, ws, &w), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, bs, &b), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 4, xs, &t_y), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 4, xs, &dy), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 4, xs, &t_dx), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 4, ws, &t_dw), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 1, bs, &t_db), CLFER_OK);
  clfer_tensor_upload(&x, hx), clfer_tensor_upload(&w, hw), clfer_tensor_upload(&dy, hdy);
  clfer_tensor_fill(&b, 0.25f);
  clfer_conv2d_params_t p = {3, 3, 1, 1, 1, 1, L->groups};
  cr_assert_eq(clfer_conv2d_forward(rt, &p, &x, &w, &b, &t_y), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_conv2d_backward(rt, &p, &x, &dy, &w, &t_dx, &t_dw, &t_db), CLFER_OK, "%s", clfer_last_error());
  clfer_tensor_download(&t_y, y), clfer_tensor_download(&t_dx, dx), clfer_tensor_download(&t_dw, dw);
  clfer_tensor_download(&t_db, db);
  const clfer_profile_row_t *rows;
  int n, winograd = 0;
  cr_assert_eq(clfer_profile_rows(rt, &rows, &n), CLFER_OK);
  *batched = 0;
  for (int i = 0; i < n; i++) {
    winograd |= strncmp(rows[i].name, "winograd_", 9) == 0;
    if (strcmp(rows[i].name, "sgemm_batched") == 0) *batched = (int)rows[i].calls;
  }
  clfer_tensor_t *all[] = {&x, &w, &b, &t_y, &dy, &t_dx, &t_dw, &t_db};
  for (int i = 0; i < 8; i++) clfer_tensor_release(all[i]);
  free(hx), free(hdy), free(hw);
  clfer_runtime_destroy(rt);
  unsetenv("CLFER_CONV_ALGO");
  return winograd;
}

/* The automatic choice runs such a layer on Winograd, CLFER_CONV_ALGO=im2col does not, and the two
 * agree in every direction. Gives the Winograd run's batched GEMM launches and CPU chunk. */
static void winograd_agrees_with_im2col(const square_layer_t *L, int *batched, int *chunk) {
  size_t nx = (size_t)L->n * L->c * L->hw * layer_width(L), nw = (size_t)L->c * (L->c / L->groups) * 9,
         nb = (size_t)L->c;
  float *y[2], *dx[2], *dw[2], *db[2];
  for (int i = 0; i < 2; i++) {
    y[i] = malloc(nx * sizeof(float)), dx[i] = malloc(nx * sizeof(float));
    dw[i] = malloc(nw * sizeof(float)), db[i] = malloc(nb * sizeof(float));
  }
  int ignored;
  cr_assert(conv_layer_run(L, NULL, y[0], dx[0], dw[0], db[0], batched, chunk),
            "the automatic choice did not run Winograd");
  cr_assert_not(conv_layer_run(L, "im2col", y[1], dx[1], dw[1], db[1], &ignored, &ignored),
                "CLFER_CONV_ALGO=im2col ran Winograd");
  TEST_ASSERT_CLOSE(y[0], y[1], nx, 1e-4, 1e-4, "forward");
  TEST_ASSERT_CLOSE(dx[0], dx[1], nx, 1e-4, 1e-4, "backward data");
  TEST_ASSERT_CLOSE(dw[0], dw[1], nw, 1e-4, 1e-4, "backward weights");
  TEST_ASSERT_CLOSE(db[0], db[1], nb, 1e-4, 1e-4, "bias gradient");
  for (int i = 0; i < 2; i++) free(y[i]), free(dx[i]), free(dw[i]), free(db[i]);
}

/* The automatic choice takes Winograd for that layer, and its results agree with im2col's. */
Test(conv2d, winograd_is_chosen_for_wide_3x3_layers_and_agrees_with_im2col) {
  int batched, chunk;
  const square_layer_t L = {WL_N, WL_C, WL_HW, 1, 0};
  winograd_agrees_with_im2col(&L, &batched, &chunk);
  if (chunk < WL_N) /* a CPU's cache-sized chunks: more than one per direction */
    cr_assert_gt(batched, 3, "%d batched GEMM launches for chunks of %d of %d images", batched, chunk, WL_N);
}

/* The same layer with CLBlast's products (CLFER_GEMM=clblast): on CPUs the channels-major
 * transforms, four tiles per item, that CLBlast's kernel reads in place (clfer's own GEMM takes the
 * tiles-major ones). */
Test(conv2d, winograd_with_clblast_products_agrees_with_im2col) {
  int batched, chunk;
  const square_layer_t L = {WL_N, WL_C, WL_HW, 1, 0};
  setenv("CLFER_GEMM", "clblast", 1);
  winograd_agrees_with_im2col(&L, &batched, &chunk);
  unsetenv("CLFER_GEMM");
}

/* ResNet-18's 28×28 layers at 112² (here two images of 64 channels): 2 · 7 · 7 = 98 tiles, off
 * CLBlast's 64-wide tiles. With CLBlast (the _gpu_paths run) the products run in place on
 * ξ-planes padded to 128 tiles (the weight gradient's padding rows zeroed); clfer's own CPU GEMM
 * takes the 98 rows as they are, on planes 16 floats apart. Either way the automatic choice takes
 * Winograd, and agrees with im2col. */
Test(conv2d, winograd_pads_off_tile_tile_counts_and_agrees_with_im2col) {
  int batched, chunk;
  const square_layer_t L = {2, 64, 28, 1, 0};
  winograd_agrees_with_im2col(&L, &batched, &chunk);
}

/* winograd_agrees_with_im2col for a layer under 64 channels, which takes Winograd only with clfer's
 * own CPU GEMM: skipped with CLBlast's products (the _gpu_paths run). */
static void own_gemm_winograd_agrees_with_im2col(const square_layer_t *L) {
  clfer_runtime_t *rt = test_runtime();
  int clblast = strcmp(clfer_sgemm_engine(rt), "clblast") == 0;
  clfer_runtime_destroy(rt);
  if (clblast) cr_skip_test("CLBlast's products take Winograd from 64 channels");
  int batched, chunk;
  winograd_agrees_with_im2col(L, &batched, &chunk);
}

/* 20 channels (blocks of 16 and 4) on 37 × 37 images: on CPUs the output transform stages four
 * tiles at a time (planes 16 or more wide), here with a last run of 5 columns and a last group of
 * 2 tiles; with clfer's own CPU GEMM 20 channels take Winograd (from 16), and agree with im2col.
 * (With CLBlast's products, the _gpu_paths run, the floor is 64 channels.) */
Test(conv2d, winograd_on_odd_widths_and_channel_blocks_agrees_with_im2col) {
  const square_layer_t L = {2, 20, 37, 1, 0};
  own_gemm_winograd_agrees_with_im2col(&L);
}

/* Planes whose sixteen channel lines crowd into few L1 sets take the CPU transforms' sixteen-
 * channel blocks (winograd_block_channels): 64 × 24 planes (6 KiB, two sets of eight) with 20
 * channels and 24 columns leave a partial block each way (4 channels, 8 columns); 32 × 32 planes
 * above take them with whole blocks. Agrees with im2col either way. */
Test(conv2d, winograd_on_channel_blocks_with_partial_blocks_agrees_with_im2col) {
  const square_layer_t L = {2, 20, 64, 1, 24};
  own_gemm_winograd_agrees_with_im2col(&L);
}

/* A grouped layer as AlexNet's conv4 (groups = 2): 128 channels each way, 64 per group, on 4
 * images of 16 × 16. The automatic choice runs each group through Winograd on views of the
 * tensors, and agrees with im2col. */
Test(conv2d, winograd_runs_groups_and_agrees_with_im2col) {
  int batched, chunk;
  const square_layer_t L = {4, 128, 16, 2, 0};
  winograd_agrees_with_im2col(&L, &batched, &chunk);
}

/* A case's tensor shapes: x, w, y (the bias is [O]). */
typedef struct case_shapes {
  int x[4], w[4], y[4];
  size_t nx, nw, ny;
} case_shapes_t;

static case_shapes_t shapes_of(const conv_case_t *cc) {
  int oh = ref_conv_out(cc->h, cc->k, cc->stride, cc->pad), ow = ref_conv_out(cc->w, cc->k, cc->stride, cc->pad);
  case_shapes_t s = {{cc->n, cc->c, cc->h, cc->w}, {cc->o, cc->c / cc->groups, cc->k, cc->k}, {cc->n, cc->o, oh, ow},
                     0, 0, 0};
  s.nx = clfer_shape_numel(4, s.x), s.nw = clfer_shape_numel(4, s.w), s.ny = clfer_shape_numel(4, s.y);
  return s;
}

/* Runs check(rt, case, path) on every case for each path the ReLU fusions serve: the automatic
 * choice (direct and im2col on CPUs), im2col, and both Winograd tiles forced (the GPU forms in the
 * _gpu_paths run). */
typedef void (*relu_fusion_check_fn)(clfer_runtime_t *rt, const conv_case_t *cc, const char *path);
static void each_path_and_case(relu_fusion_check_fn check) {
  const char *algos[] = {NULL, "im2col", "winograd", "winograd2"};
  for (size_t a = 0; a < sizeof algos / sizeof algos[0]; a++) {
    if (algos[a]) setenv("CLFER_CONV_ALGO", algos[a], 1);
    clfer_runtime_t *rt = test_runtime();
    for (int ci = 0; ci < N_CASES; ci++) check(rt, &cases[ci], algos[a] ? algos[a] : "(auto)");
    clfer_runtime_destroy(rt);
    unsetenv("CLFER_CONV_ALGO");
  }
}

static const float relu_slopes[2] = {0.0f, 0.25f}; /* ReLU's and a leaky ReLU's */

static void check_fused_relu_forward(clfer_runtime_t *rt, const conv_case_t *cc, const char *path) {
  case_shapes_t sh = shapes_of(cc);
  int bs[1] = {cc->o};
  float *hx = malloc(sh.nx * sizeof *hx), *hw = malloc(sh.nw * sizeof *hw), *hb = malloc((size_t)cc->o * sizeof *hb);
  float *two = malloc(sh.ny * sizeof *two), *fused = malloc(sh.ny * sizeof *fused);
  test_fill_uniform(hx, sh.nx, 31, -1, 1), test_fill_uniform(hw, sh.nw, 32, -1, 1);
  test_fill_uniform(hb, (size_t)cc->o, 33, -1, 1);
  clfer_tensor_t x, w, b, y, r;
  clfer_tensor_create(rt, 4, sh.x, &x), clfer_tensor_create(rt, 4, sh.w, &w), clfer_tensor_create(rt, 1, bs, &b);
  clfer_tensor_create(rt, 4, sh.y, &y), clfer_tensor_create(rt, 4, sh.y, &r);
  clfer_tensor_upload(&x, hx), clfer_tensor_upload(&w, hw), clfer_tensor_upload(&b, hb);
  clfer_conv2d_params_t p = {cc->k, cc->k, cc->stride, cc->stride, cc->pad, cc->pad, cc->groups};
  const clfer_tensor_t *bias = cc->bias ? &b : NULL;
  for (int si = 0; si < 2; si++) {
    cr_assert_eq(clfer_conv2d_forward(rt, &p, &x, &w, bias, &y), CLFER_OK, "%s", clfer_last_error());
    cr_assert_eq(clfer_relu_forward(rt, relu_slopes[si], &y, &r), CLFER_OK, "%s", clfer_last_error());
    clfer_tensor_download(&r, two);
    cr_assert_eq(clfer_conv2d_relu_forward(rt, &p, relu_slopes[si], &x, &w, bias, &y), CLFER_OK, "%s",
                 clfer_last_error());
    clfer_tensor_download(&y, fused);
    cr_assert(memcmp(two, fused, sh.ny * sizeof *two) == 0, "%s, CLFER_CONV_ALGO=%s, slope %g: fused differs",
              cc->name, path, (double)relu_slopes[si]);
  }
  cr_assert_eq(clfer_conv2d_relu_forward(rt, &p, NAN, &x, &w, bias, &y), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "slope") != NULL, "%s", clfer_last_error());
  clfer_tensor_t *all[] = {&x, &w, &b, &y, &r};
  for (int i = 0; i < 5; i++) clfer_tensor_release(all[i]);
  free(hx), free(hw), free(hb), free(two), free(fused);
}

/* clfer_conv2d_relu_forward gives conv then ReLU to the bit, on every path (direct and im2col on
 * CPUs, Winograd with both tiles when forced; the GPU forms in the _gpu_paths run), with ReLU's
 * and leaky ReLU's slopes; a bad slope is an error. */
Test(conv2d, fused_relu_equals_conv_then_relu) { each_path_and_case(check_fused_relu_forward); }

static void check_backward_through_relu(clfer_runtime_t *rt, const conv_case_t *cc, const char *path) {
  case_shapes_t sh = shapes_of(cc);
  int bs[1] = {cc->o};
  float *hx = malloc(sh.nx * sizeof *hx), *hw = malloc(sh.nw * sizeof *hw), *hdy = malloc(sh.ny * sizeof *hdy);
  float *two[3], *fused[3];
  size_t sizes[3] = {sh.nx, sh.nw, (size_t)cc->o};
  for (int i = 0; i < 3; i++) two[i] = malloc(sizes[i] * sizeof(float)), fused[i] = malloc(sizes[i] * sizeof(float));
  test_fill_uniform(hx, sh.nx, 41, -1, 1), test_fill_uniform(hw, sh.nw, 42, -1, 1);
  test_fill_uniform(hdy, sh.ny, 43, -1, 1);
  clfer_tensor_t x, w, dy, dx, dw, db, r;
  clfer_tensor_create(rt, 4, sh.x, &x), clfer_tensor_create(rt, 4, sh.w, &w), clfer_tensor_create(rt, 4, sh.y, &dy);
  clfer_tensor_create(rt, 4, sh.x, &dx), clfer_tensor_create(rt, 4, sh.w, &dw), clfer_tensor_create(rt, 1, bs, &db);
  clfer_tensor_create(rt, 4, sh.x, &r);
  clfer_tensor_upload(&x, hx), clfer_tensor_upload(&w, hw), clfer_tensor_upload(&dy, hdy);
  clfer_conv2d_params_t p = {cc->k, cc->k, cc->stride, cc->stride, cc->pad, cc->pad, cc->groups};
  for (int si = 0; si < 2; si++) {
    cr_assert_eq(clfer_conv2d_backward(rt, &p, &x, &dy, &w, &dx, &dw, &db), CLFER_OK, "%s", clfer_last_error());
    cr_assert_eq(clfer_relu_backward(rt, relu_slopes[si], &x, &dx, &r), CLFER_OK, "%s", clfer_last_error());
    clfer_tensor_download(&r, two[0]), clfer_tensor_download(&dw, two[1]), clfer_tensor_download(&db, two[2]);
    cr_assert_eq(clfer_conv2d_backward_through_relu(rt, &p, relu_slopes[si], &x, &dy, &w, &dx, &dw, &db), CLFER_OK,
                 "%s", clfer_last_error());
    clfer_tensor_download(&dx, fused[0]), clfer_tensor_download(&dw, fused[1]), clfer_tensor_download(&db, fused[2]);
    for (int i = 0; i < 3; i++)
      cr_assert(memcmp(two[i], fused[i], sizes[i] * sizeof(float)) == 0, "%s, CLFER_CONV_ALGO=%s, slope %g: %s differs",
                cc->name, path, (double)relu_slopes[si], i == 0 ? "dx" : i == 1 ? "dw" : "db");
  }
  cr_assert_eq(clfer_conv2d_backward_through_relu(rt, &p, -1.0f, &x, &dy, &w, &dx, &dw, &db), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "slope") != NULL, "%s", clfer_last_error());
  cr_assert_eq(clfer_conv2d_backward_through_relu(rt, &p, 0.0f, NULL, &dy, &w, &dx, NULL, NULL),
               CLFER_INVALID_ARGUMENT);
  clfer_tensor_t *all[] = {&x, &w, &dy, &dx, &dw, &db, &r};
  for (int i = 0; i < 7; i++) clfer_tensor_release(all[i]);
  for (int i = 0; i < 3; i++) free(two[i]), free(fused[i]);
  free(hx), free(hw), free(hdy);
}

/* clfer_conv2d_backward_through_relu gives conv backward then ReLU backward (at x, as the ReLU's
 * output) to the bit, dw and db unchanged, on every path (direct, im2col and both Winograd tiles
 * forced; the GPU forms in the _gpu_paths run), with ReLU's and leaky ReLU's slopes; x has
 * negative values, so the mask matters. A bad slope, or no x, is an error. */
Test(conv2d, backward_through_relu_equals_backward_then_relu_backward) {
  each_path_and_case(check_backward_through_relu);
}

Test(conv2d, bad_shapes_are_named) {
  clfer_runtime_t *rt = test_runtime();
  int xs[4] = {2, 3, 8, 8}, ws[4] = {4, 2, 3, 3}, ys[4] = {2, 4, 8, 8};
  clfer_tensor_t x, w, y;
  clfer_tensor_create(rt, 4, xs, &x), clfer_tensor_create(rt, 4, ws, &w), clfer_tensor_create(rt, 4, ys, &y);
  clfer_conv2d_params_t p = {3, 3, 1, 1, 1, 1, 1};
  cr_assert_eq(clfer_conv2d_forward(rt, &p, &x, &w, NULL, &y), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "[4, 2, 3, 3]") && strstr(clfer_last_error(), "[2, 3, 8, 8]"), "%s",
            clfer_last_error());
  cr_assert_eq(clfer_conv2d_out_size(8, 11, 4, 0), 0);
  /* the fused backward call with nothing to compute, or a weight gradient without the input */
  cr_assert_eq(clfer_conv2d_backward(rt, &p, NULL, &y, &w, NULL, NULL, NULL), CLFER_INVALID_ARGUMENT);
  cr_assert_eq(clfer_conv2d_backward(rt, &p, NULL, &y, &w, NULL, &w, NULL), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "conv2d backward"), "%s", clfer_last_error());
  /* the fused call's input gradient must match the input */
  int ws2[4] = {4, 3, 3, 3}, dxs[4] = {2, 3, 8, 9};
  clfer_tensor_t w2, dx;
  clfer_tensor_create(rt, 4, ws2, &w2), clfer_tensor_create(rt, 4, dxs, &dx);
  cr_assert_eq(clfer_conv2d_backward(rt, &p, &x, &y, &w2, &dx, &w2, NULL), CLFER_SHAPE_MISMATCH, "%s",
               clfer_last_error());
  cr_assert(strstr(clfer_last_error(), "[2, 3, 8, 9]"), "%s", clfer_last_error());
  clfer_tensor_release(&w2), clfer_tensor_release(&dx);
  clfer_tensor_release(&x), clfer_tensor_release(&w), clfer_tensor_release(&y);
  clfer_runtime_destroy(rt);
}

/* A dense layer's tensors, guarded, with x, w, b and the output gradient r uploaded. */
typedef struct dense_io {
  guarded_t x, w, b, y, dy, dx, dw, db;
} dense_io_t;

static void dense_io_create(clfer_runtime_t *rt, int N, int IN, int OUT, const double *x, const double *w,
                            const double *b, const double *r, dense_io_t *t) {
  int xs[2] = {N, IN}, ws[2] = {OUT, IN}, bs[1] = {OUT}, ys[2] = {N, OUT};
  guarded_create(rt, 2, xs, &t->x), guarded_create(rt, 2, ws, &t->w), guarded_create(rt, 1, bs, &t->b);
  guarded_create(rt, 2, ys, &t->y), guarded_create(rt, 2, ys, &t->dy), guarded_create(rt, 2, xs, &t->dx);
  guarded_create(rt, 2, ws, &t->dw), guarded_create(rt, 1, bs, &t->db);
  guarded_upload(&t->x, x), guarded_upload(&t->w, w), guarded_upload(&t->b, b), guarded_upload(&t->dy, r);
}

static void dense_io_release(dense_io_t *t) {
  guarded_t *all[] = {&t->x, &t->w, &t->b, &t->y, &t->dy, &t->dx, &t->dw, &t->db};
  for (int i = 0; i < 8; i++) clfer_tensor_release(&all[i]->base);
}

/* Forward (with and without bias), input, weight and bias gradients of a dense layer against
 * double references: y = x·wᵀ + b, dx = r·w, dw = rᵀ·x, db = Σ r for the output gradient r. */
static void check_dense_once(int N, int IN, int OUT) {
  clfer_runtime_t *rt = test_runtime();
  double *x = random_doubles((size_t)N * IN, 15), *w = random_doubles((size_t)OUT * IN, 16), *b = random_doubles(OUT, 17),
         *r = random_doubles((size_t)N * OUT, 18);
  float *want_y = malloc((size_t)N * OUT * sizeof(float)), *want_dx = malloc((size_t)N * IN * sizeof(float)),
        *want_dw = malloc((size_t)OUT * IN * sizeof(float)), *want_db = malloc((size_t)OUT * sizeof(float));
  for (int i = 0; i < N; i++)
    for (int o = 0; o < OUT; o++) {
      double s = b[o];
      for (int j = 0; j < IN; j++) s += x[(size_t)i * IN + j] * w[(size_t)o * IN + j];
      want_y[(size_t)i * OUT + o] = (float)s;
    }
  for (int i = 0; i < N; i++)
    for (int j = 0; j < IN; j++) {
      double s = 0;
      for (int o = 0; o < OUT; o++) s += r[(size_t)i * OUT + o] * w[(size_t)o * IN + j];
      want_dx[(size_t)i * IN + j] = (float)s;
    }
  for (int o = 0; o < OUT; o++) {
    double sb = 0;
    for (int i = 0; i < N; i++) sb += r[(size_t)i * OUT + o];
    want_db[o] = (float)sb;
    for (int j = 0; j < IN; j++) {
      double s = 0;
      for (int i = 0; i < N; i++) s += r[(size_t)i * OUT + o] * x[(size_t)i * IN + j];
      want_dw[(size_t)o * IN + j] = (float)s;
    }
  }
  dense_io_t t;
  dense_io_create(rt, N, IN, OUT, x, w, b, r, &t);
  cr_assert_eq(clfer_dense_forward(rt, &t.x.t, &t.w.t, &t.b.t, &t.y.t), CLFER_OK, "%s", clfer_last_error());
  float *y = guarded_download(&t.y, "dense forward");
  TEST_ASSERT_CLOSE(y, want_y, (size_t)N * OUT, 1e-4, 1e-4, "dense forward");
  for (int i = 0; i < N; i++)
    for (int o = 0; o < OUT; o++) want_y[(size_t)i * OUT + o] -= (float)b[o];
  cr_assert_eq(clfer_dense_forward(rt, &t.x.t, &t.w.t, NULL, &t.y.t), CLFER_OK, "%s", clfer_last_error());
  free(y);
  y = guarded_download(&t.y, "dense forward without bias");
  TEST_ASSERT_CLOSE(y, want_y, (size_t)N * OUT, 1e-4, 1e-4, "dense forward without bias");
  cr_assert_eq(clfer_dense_backward_data(rt, &t.dy.t, &t.w.t, &t.dx.t), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_dense_backward_weights(rt, &t.x.t, &t.dy.t, &t.dw.t, &t.db.t), CLFER_OK, "%s",
               clfer_last_error());
  float *dx = guarded_download(&t.dx, "dense dx"), *dw = guarded_download(&t.dw, "dense dw"),
        *db = guarded_download(&t.db, "dense db");
  TEST_ASSERT_CLOSE(dx, want_dx, (size_t)N * IN, 1e-4, 1e-4, "dense dx");
  TEST_ASSERT_CLOSE(dw, want_dw, (size_t)OUT * IN, 1e-4, 1e-4, "dense dw");
  TEST_ASSERT_CLOSE(db, want_db, (size_t)OUT, 1e-4, 1e-4, "dense db");
  free(y), free(dx), free(dw), free(db), free(x), free(w), free(b), free(r);
  free(want_y), free(want_dx), free(want_dw), free(want_db);
  dense_io_release(&t);
  clfer_runtime_destroy(rt);
}

/* With the device's GEMM, then (CPU devices) with CLBlast's: the rules that pick dense.cl's kernels
 * differ (src/ops/dense.c), so each set of passes runs in turn. */
static void check_dense(int N, int IN, int OUT) {
  check_dense_once(N, IN, OUT);
  setenv("CLFER_GEMM", "clblast", 1);
  check_dense_once(N, IN, OUT);
  unsetenv("CLFER_GEMM");
}

/* On CPUs these run dense.cl's kernels (with CLBlast, every pass; with clfer's GEMM, forward): 11
 * rows (a full block of 8 and 3), 69 inputs (16- and 32-wide blocks and a remainder), 7 outputs
 * (the pairs and fours they take, and a partial one) */
Test(dense, narrow_layer_partial_blocks) { check_dense(11, 69, 7); }
/* 20 rows (blocks of 8, 8, 4) and 70 outputs: with CLBlast, forward and input gradient on the CPU
 * kernels and the weight gradient on CLBlast */
Test(dense, twenty_rows) { check_dense(20, 100, 70); }
/* one row, as single-image inference */
Test(dense, single_row) { check_dense(1, 40, 66); }

typedef struct dense_ctx {
  int n, in, out, which;
  double *x, *w, *b, *r;
} dense_ctx_t;

static double dense_loss(void *vctx, const double *v, size_t count) {
  dense_ctx_t *c = vctx;
  double y[64], l = 0;
  ref_dense_forward(c->n, c->in, c->out, c->which == 0 ? v : c->x, c->which == 1 ? v : c->w, c->which == 2 ? v : c->b, y);
  for (int i = 0; i < c->n * c->out; i++) l += c->r[i] * y[i];
  return l;
}

Test(dense, forward_and_gradients) {
  clfer_runtime_t *rt = test_runtime();
  enum { N = 3, IN = 7, OUT = 5 };
  double *x = random_doubles(N * IN, 5), *w = random_doubles(OUT * IN, 6), *b = random_doubles(OUT, 7),
         *r = random_doubles(N * OUT, 8), want[N * OUT];
  ref_dense_forward(N, IN, OUT, x, w, b, want);
  dense_io_t t;
  dense_io_create(rt, N, IN, OUT, x, w, b, r, &t);
  cr_assert_eq(clfer_dense_forward(rt, &t.x.t, &t.w.t, &t.b.t, &t.y.t), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_dense_backward_data(rt, &t.dy.t, &t.w.t, &t.dx.t), CLFER_OK);
  cr_assert_eq(clfer_dense_backward_weights(rt, &t.x.t, &t.dy.t, &t.dw.t, &t.db.t), CLFER_OK);
  float *y = guarded_download(&t.y, "dense"), wantf[N * OUT];
  for (int i = 0; i < N * OUT; i++) wantf[i] = (float)want[i];
  TEST_ASSERT_CLOSE(y, wantf, N * OUT, 1e-5, 1e-5, "dense forward");
  float *dx = guarded_download(&t.dx, "dx"), *dw = guarded_download(&t.dw, "dw"), *db = guarded_download(&t.db, "db");
  dense_ctx_t ctx = {N, IN, OUT, 0, x, w, b, r};
  double num[OUT * IN];
  size_t worst;
  gradcheck_numeric(dense_loss, &ctx, x, N * IN, 1e-4, num);
  cr_assert_leq(gradcheck_compare(dx, num, N * IN, 1e-5, 1e-4, &worst), 1.0, "dense dx[%zu]", worst);
  ctx.which = 1;
  gradcheck_numeric(dense_loss, &ctx, w, OUT * IN, 1e-4, num);
  cr_assert_leq(gradcheck_compare(dw, num, OUT * IN, 1e-5, 1e-4, &worst), 1.0, "dense dw[%zu]", worst);
  ctx.which = 2;
  gradcheck_numeric(dense_loss, &ctx, b, OUT, 1e-4, num);
  cr_assert_leq(gradcheck_compare(db, num, OUT, 1e-5, 1e-4, &worst), 1.0, "dense db[%zu]", worst);
  int bad[2] = {OUT, IN + 1};
  clfer_tensor_t wb;
  clfer_tensor_create(rt, 2, bad, &wb);
  cr_assert_eq(clfer_dense_forward(rt, &t.x.t, &wb, NULL, &t.y.t), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "[5, 8]") != NULL, "%s", clfer_last_error());
  clfer_tensor_release(&wb);
  free(y), free(dx), free(dw), free(db), free(x), free(w), free(b), free(r);
  dense_io_release(&t);
  clfer_runtime_destroy(rt);
}
