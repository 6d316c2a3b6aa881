/* test_nn.c — the network graph: every zoo model runs forward and backward at a small input,
 * graph gradients (fan-out, residual add, concat, flatten) match finite differences, a tiny
 * network overfits one batch, the builder refuses sizes past int, and checkpoints round-trip
 * bit-identically and reject bad files (every field of a stored graph and of the tensor entries
 * damaged in turn). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

static float *download(const clfer_tensor_t *t) {
  float *h = malloc(clfer_tensor_numel(t) * sizeof *h);
  cr_assert_eq(clfer_tensor_download(t, h), CLFER_OK, "%s", clfer_last_error());
  return h;
}

/* Every trainable parameter's gradient, concatenated in parameter order (free() it); *n its
 * length. */
static float *download_param_grads(clfer_net_t *net, size_t *n) {
  *n = 0;
  for (int i = 0; i < clfer_net_param_count(net); i++)
    if (!clfer_net_param(net, i)->is_buffer) *n += clfer_tensor_numel(&clfer_net_param(net, i)->grad);
  float *g = malloc(*n * sizeof *g), *at = g;
  for (int i = 0; i < clfer_net_param_count(net); i++) {
    clfer_net_param_t *prm = clfer_net_param(net, i);
    if (prm->is_buffer) continue;
    cr_assert_eq(clfer_tensor_download(&prm->grad, at), CLFER_OK, "%s", clfer_last_error());
    at += clfer_tensor_numel(&prm->grad);
  }
  return g;
}

static void check_zoo_model(const char *name, int c, int h, int w, int classes) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net;
  cr_assert_eq(clfer_zoo_build(rt, name, c, h, w, classes, &net), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_net_init(net, CLFER_INIT_PYTORCH, 1), CLFER_OK);
  cr_assert_gt(clfer_net_flops(net), 0);
  int shape[4] = {2, c, h, w};
  clfer_tensor_t x, dy;
  cr_assert_eq(clfer_tensor_create(rt, 4, shape, &x), CLFER_OK);
  float *in = malloc(clfer_tensor_numel(&x) * sizeof *in);
  test_fill_uniform(in, clfer_tensor_numel(&x), 7, -1, 1);
  clfer_tensor_upload(&x, in);
  const clfer_tensor_t *y;
  cr_assert_eq(clfer_net_forward(net, &x, 1, 1, &y), CLFER_OK, "%s forward: %s", name, clfer_last_error());
  cr_assert_eq(y->ndim, 2);
  cr_assert_eq(y->shape[0], 2);
  cr_assert_eq(y->shape[1], classes);
  float *out = download(y);
  for (int i = 0; i < 2 * classes; i++) cr_assert(isfinite(out[i]), "%s: logit %d is %g", name, i, out[i]);
  cr_assert_eq(clfer_tensor_create(rt, 2, y->shape, &dy), CLFER_OK);
  clfer_tensor_fill(&dy, 0.1f);
  cr_assert_eq(clfer_net_backward(net, &dy, NULL), CLFER_OK, "%s backward: %s", name, clfer_last_error());
  int nonzero_params = 0;
  for (int i = 0; i < clfer_net_param_count(net); i++) {
    clfer_net_param_t *p = clfer_net_param(net, i);
    if (p->is_buffer) continue;
    float *g = download(&p->grad);
    size_t n = clfer_tensor_numel(&p->grad);
    int nz = 0;
    for (size_t j = 0; j < n; j++) {
      cr_assert(isfinite(g[j]), "%s: %s grad[%zu] = %g", name, p->name, j, g[j]);
      nz |= g[j] != 0;
    }
    nonzero_params += nz;
    free(g);
  }
  cr_assert_gt(nonzero_params, 0, "%s: every gradient is zero", name);
  /* eval mode gives finite output too (dropout off, running statistics) */
  cr_assert_eq(clfer_net_forward(net, &x, 0, 2, &y), CLFER_OK, "%s eval: %s", name, clfer_last_error());
  free(out);
  out = download(y);
  for (int i = 0; i < 2 * classes; i++) cr_assert(isfinite(out[i]));
  free(out), free(in);
  clfer_tensor_release(&x), clfer_tensor_release(&dy);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}

Test(zoo, vgg13_ferplus) { check_zoo_model("vgg13_ferplus", 1, 32, 32, 8); }
Test(zoo, rafdb_basedcnn) { check_zoo_model("rafdb_basedcnn", 3, 24, 24, 7); }
Test(zoo, ohlsen_cnn) { check_zoo_model("ohlsen_cnn", 1, 32, 32, 7); }
Test(zoo, alexnet_caffe) { check_zoo_model("alexnet", 3, 67, 67, 5); }
Test(zoo, alexnet_torchvision) { check_zoo_model("alexnet_tv", 3, 63, 63, 5); }
Test(zoo, vgg_cnn_m_2048) { check_zoo_model("vgg_cnn_m_2048", 3, 63, 63, 5); }
Test(zoo, resnet18) { check_zoo_model("resnet18", 3, 32, 32, 4); }
Test(zoo, fer_small) { check_zoo_model("fer_small", 1, 48, 48, 8); }

Test(zoo, unknown_model_lists_the_known_ones) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net;
  cr_assert_eq(clfer_zoo_build(rt, "vgg99", 1, 8, 8, 2, &net), CLFER_NOT_FOUND);
  cr_assert(strstr(clfer_last_error(), "vgg13_ferplus") != NULL);
  /* a kernel larger than the input is a clear error naming the layer */
  cr_assert_eq(clfer_zoo_build(rt, "alexnet", 3, 8, 8, 2, &net), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "conv1") != NULL, "%s", clfer_last_error());
  clfer_runtime_destroy(rt);
}

Test(zoo, vgg13_names_follow_pytorch) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net;
  cr_assert_eq(clfer_zoo_build(rt, "vgg13_ferplus", 0, 0, 0, 0, &net), CLFER_OK);
  cr_assert_not_null(clfer_net_param_by_name(net, "features.0.weight"));
  cr_assert_not_null(clfer_net_param_by_name(net, "features.2.bias"));
  cr_assert_not_null(clfer_net_param_by_name(net, "classifier.0.weight"));
  cr_assert_not_null(clfer_net_param_by_name(net, "classifier.6.weight"));
  clfer_net_param_t *fc = clfer_net_param_by_name(net, "classifier.0.weight");
  cr_assert_eq(fc->value.shape[0], 1024);
  cr_assert_eq(fc->value.shape[1], 256 * 4 * 4);
  /* 2·(Σ conv MACs + FC MACs) for one 64×64 image, computed independently */
  double conv = 64.0 * 64 * 64 * (1 + 64) * 9 + 32.0 * 32 * 128 * (64 + 128) * 9 + 16.0 * 16 * 256 * (128 + 256 + 256) * 9 +
                8.0 * 8 * 256 * (256 * 3) * 9;
  double fcs = 4096.0 * 1024 + 1024.0 * 1024 + 1024.0 * 8;
  double relu = 64.0 * 64 * 64 * 2 + 32.0 * 32 * 128 * 2 + 16.0 * 16 * 256 * 3 + 8.0 * 8 * 256 * 3 + 2048;
  double flops = clfer_net_flops(net);
  cr_assert(fabs(flops - 2 * (conv + fcs)) < 0.02 * flops + relu * 10, "flops %g vs %g", flops, 2 * (conv + fcs));
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}

/* ---- a conv whose only reader is a ReLU writes the ReLU's output itself ---- */

/* c1 → r1 → pool → c2 → r2 → c3 → r3 → dense: every conv fused with its ReLU unless it is the
 * features node. Fused or not, the values are the two ops' to the bit; eval mode (which frees
 * activations as it goes) gives train mode's output; a fused pair's activations stay readable. */
Test(graph, conv_relu_fusion_keeps_values_and_buffers) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net;
  cr_assert_eq(clfer_net_create(rt, "fused", 2, 12, 12, &net), CLFER_OK);
  clfer_conv2d_params_t c3 = {3, 3, 1, 1, 1, 1, 1};
  clfer_pool2d_params_t p2 = {2, 2, 2, 2, 0, 0, 0, 1};
  int c1, r1, pool, c2, r2, c3n, r3, out;
  cr_assert_eq(clfer_net_conv2d(net, "c1", 0, 4, &c3, 1, &c1), CLFER_OK);
  cr_assert_eq(clfer_net_relu(net, "r1", c1, 0.0f, &r1), CLFER_OK);
  cr_assert_eq(clfer_net_maxpool(net, "pool", r1, &p2, &pool), CLFER_OK);
  cr_assert_eq(clfer_net_conv2d(net, "c2", pool, 5, &c3, 1, &c2), CLFER_OK);
  cr_assert_eq(clfer_net_relu(net, "r2", c2, 0.1f, &r2), CLFER_OK);
  cr_assert_eq(clfer_net_conv2d(net, "c3", r2, 3, &c3, 1, &c3n), CLFER_OK);
  cr_assert_eq(clfer_net_relu(net, "r3", c3n, 0.0f, &r3), CLFER_OK);
  cr_assert_eq(clfer_net_dense(net, "fc", r3, 4, 1, &out), CLFER_OK);
  cr_assert_eq(clfer_net_init(net, CLFER_INIT_PYTORCH, 5), CLFER_OK);
  int shape[4] = {3, 2, 12, 12};
  clfer_tensor_t x, y_conv, y_relu;
  cr_assert_eq(clfer_tensor_create(rt, 4, shape, &x), CLFER_OK);
  float in[3 * 2 * 144];
  test_fill_uniform(in, 3 * 2 * 144, 17, -1, 1);
  clfer_tensor_upload(&x, in);
  /* c2 as the features node: its raw (pre-ReLU) values are read, so it is not fused */
  cr_assert_eq(clfer_net_set_features(net, c2), CLFER_OK);
  const clfer_tensor_t *y;
  cr_assert_eq(clfer_net_forward(net, &x, 1, 0, &y), CLFER_OK, "%s", clfer_last_error());
  float *train_out = download(y), *a_r1 = download(clfer_net_activation(net, r1));
  float *a_c2 = download(clfer_net_activation(net, c2)), *a_r2 = download(clfer_net_activation(net, r2));
  /* r1 against the ops run one by one */
  int s1[4] = {3, 4, 12, 12};
  cr_assert_eq(clfer_tensor_create(rt, 4, s1, &y_conv), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 4, s1, &y_relu), CLFER_OK);
  cr_assert_eq(clfer_conv2d_forward(rt, &c3, &x, &clfer_net_param_by_name(net, "c1.weight")->value,
                                    &clfer_net_param_by_name(net, "c1.bias")->value, &y_conv),
               CLFER_OK);
  cr_assert_eq(clfer_relu_forward(rt, 0.0f, &y_conv, &y_relu), CLFER_OK);
  float *want_r1 = download(&y_relu);
  cr_assert(memcmp(a_r1, want_r1, 3 * 4 * 144 * sizeof(float)) == 0, "fused c1 + r1 differs from the two ops");
  /* c2 kept its raw values (some negative), r2 = leaky ReLU of them */
  int negative = 0;
  for (int i = 0; i < 3 * 5 * 36; i++) {
    negative |= a_c2[i] < 0;
    float want = a_c2[i] > 0.0f ? a_c2[i] : 0.1f * a_c2[i];
    cr_assert(memcmp(&a_r2[i], &want, sizeof want) == 0, "r2[%d] = %g, expected %g", i, a_r2[i], want);
  }
  cr_assert(negative, "the features node c2 holds ReLU'd values");
  /* eval mode frees as it goes; the output and the features node's values are the same */
  cr_assert_eq(clfer_net_forward(net, &x, 0, 0, &y), CLFER_OK, "%s", clfer_last_error());
  float *eval_out = download(y), *eval_c2 = download(clfer_net_activation(net, c2));
  cr_assert(memcmp(train_out, eval_out, 3 * 4 * sizeof(float)) == 0, "eval output differs from train output");
  cr_assert(memcmp(a_c2, eval_c2, 3 * 5 * 36 * sizeof(float)) == 0, "eval features differ");
  /* r1 as the features node instead: c1 fused, and r1's values (c1's tensor) survive eval mode */
  cr_assert_eq(clfer_net_set_features(net, r1), CLFER_OK);
  cr_assert_eq(clfer_net_forward(net, &x, 0, 0, &y), CLFER_OK, "%s", clfer_last_error());
  const clfer_tensor_t *kept = clfer_net_activation(net, r1);
  cr_assert_not_null(kept, "eval mode freed the features node r1");
  cr_assert_not_null(clfer_net_activation(net, c1), "eval mode freed c1's tensor, which r1 still is");
  float *eval_r1 = download(kept), *eval_out2 = download(y);
  cr_assert(memcmp(eval_r1, want_r1, 3 * 4 * 144 * sizeof(float)) == 0, "r1 after eval differs");
  cr_assert(memcmp(train_out, eval_out2, 3 * 4 * sizeof(float)) == 0, "eval output differs (features r1)");
  free(train_out), free(a_r1), free(a_c2), free(a_r2), free(want_r1), free(eval_out), free(eval_c2);
  free(eval_r1), free(eval_out2);
  clfer_tensor_release(&x), clfer_tensor_release(&y_conv), clfer_tensor_release(&y_relu);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}

/* c1 → b1 → r1 (leaky) → c2 → b2 → r2 → fc: each batch norm fused with its ReLU (forward and
 * backward) unless it is the features node. The output, every parameter gradient and the
 * evaluation output are the same to the bit whichever of b1 and b2 is fused. */
Test(graph, batchnorm_relu_fusion_keeps_values_and_gradients) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net;
  cr_assert_eq(clfer_net_create(rt, "bn_fused", 2, 9, 9, &net), CLFER_OK);
  clfer_conv2d_params_t c3 = {3, 3, 1, 1, 1, 1, 1};
  clfer_batchnorm_params_t bp = {1e-5f, 0.1f};
  int c1, b1, r1, c2, b2, r2, out;
  cr_assert_eq(clfer_net_conv2d(net, "c1", 0, 4, &c3, 1, &c1), CLFER_OK);
  cr_assert_eq(clfer_net_batchnorm(net, "b1", c1, &bp, &b1), CLFER_OK);
  cr_assert_eq(clfer_net_relu(net, "r1", b1, 0.1f, &r1), CLFER_OK);
  cr_assert_eq(clfer_net_conv2d(net, "c2", r1, 3, &c3, 1, &c2), CLFER_OK);
  cr_assert_eq(clfer_net_batchnorm(net, "b2", c2, &bp, &b2), CLFER_OK);
  cr_assert_eq(clfer_net_relu(net, "r2", b2, 0.0f, &r2), CLFER_OK);
  cr_assert_eq(clfer_net_dense(net, "fc", r2, 5, 1, &out), CLFER_OK);
  cr_assert_eq(clfer_net_init(net, CLFER_INIT_PYTORCH, 3), CLFER_OK);
  int shape[4] = {4, 2, 9, 9}, ds[2] = {4, 5};
  clfer_tensor_t x, dy;
  cr_assert_eq(clfer_tensor_create(rt, 4, shape, &x), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 2, ds, &dy), CLFER_OK);
  float in[4 * 2 * 81], g[4 * 5];
  test_fill_uniform(in, 4 * 2 * 81, 23, -1, 1);
  test_fill_uniform(g, 4 * 5, 24, -1, 1);
  clfer_tensor_upload(&x, in);
  clfer_tensor_upload(&dy, g);
  const int features[3] = {c1, b1, b2}; /* c1 (no ReLU reads it): both fused */
  float *eval[3], *train[3], *grads[3];
  size_t n_grads = 0;
  const clfer_tensor_t *y;
  for (int v = 0; v < 3; v++) { /* evaluation first: training forwards move the running statistics */
    cr_assert_eq(clfer_net_set_features(net, features[v]), CLFER_OK);
    cr_assert_eq(clfer_net_forward(net, &x, 0, 0, &y), CLFER_OK, "%s", clfer_last_error());
    eval[v] = download(y);
  }
  for (int v = 0; v < 3; v++) {
    cr_assert_eq(clfer_net_set_features(net, features[v]), CLFER_OK);
    cr_assert_eq(clfer_net_forward(net, &x, 1, 0, &y), CLFER_OK, "%s", clfer_last_error());
    train[v] = download(y);
    cr_assert_eq(clfer_net_backward(net, &dy, NULL), CLFER_OK, "%s", clfer_last_error());
    grads[v] = download_param_grads(net, &n_grads);
  }
  for (int v = 1; v < 3; v++) {
    cr_assert(memcmp(eval[0], eval[v], 4 * 5 * sizeof(float)) == 0, "evaluation output differs (features %d)", v);
    cr_assert(memcmp(train[0], train[v], 4 * 5 * sizeof(float)) == 0, "training output differs (features %d)", v);
    cr_assert(memcmp(grads[0], grads[v], n_grads * sizeof(float)) == 0, "parameter gradients differ (features %d)", v);
  }
  int nonzero = 0;
  for (size_t i = 0; i < n_grads; i++) nonzero += grads[0][i] != 0.0f;
  cr_assert_gt(nonzero, (int)(n_grads / 2), "most gradients are zero");
  for (int v = 0; v < 3; v++) free(eval[v]), free(train[v]), free(grads[v]);
  clfer_tensor_release(&x), clfer_tensor_release(&dy);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}

/* Runs one training step of net on x with output gradient dy for each features node in turn;
 * returns the parameter gradients of each (concatenated) and whether relu_backward ran. */
static void step_per_features(clfer_runtime_t *rt, clfer_net_t *net, const clfer_tensor_t *x, const clfer_tensor_t *dy,
                              const int *features, int variants, float **grads, int *relu_backward, size_t *n_grads) {
  for (int v = 0; v < variants; v++) {
    const clfer_tensor_t *y;
    cr_assert_eq(clfer_net_set_features(net, features[v]), CLFER_OK);
    clfer_profile_reset(rt);
    cr_assert_eq(clfer_net_forward(net, x, 1, 0, &y), CLFER_OK, "%s", clfer_last_error());
    cr_assert_eq(clfer_net_backward(net, dy, NULL), CLFER_OK, "%s", clfer_last_error());
    const clfer_profile_row_t *rows;
    int n_rows;
    cr_assert_eq(clfer_profile_rows(rt, &rows, &n_rows), CLFER_OK);
    relu_backward[v] = 0;
    for (int r = 0; r < n_rows; r++) /* relu_backward or its CPU form, relu_backward_rows */
      relu_backward[v] |= strncmp(rows[r].name, "relu_backward", 13) == 0;
    grads[v] = download_param_grads(net, n_grads);
  }
}

/* A conv or max pool whose input is a ReLU's output read by it alone carries its input gradient
 * through the ReLU (clfer_conv2d_backward_through_relu, clfer_maxpool2d_backward_through_relu),
 * and the ReLU passes its gradient on: no relu_backward runs. Chain c1 → r1 (leaky) → c2 → r2 →
 * c3 → fc; a residual form whose c1 also feeds a 1×1 conv added to c2 (r1 then adds its gradient
 * into c1's); and the chain with a 2×2 max pool between r1 and c2. A ReLU that is the features
 * node keeps its own backward; every parameter gradient is the same (to the bit but for the
 * pool's zeros, which may change sign). */
Test(graph, conv_and_pool_backward_through_relu_keep_gradients) {
  clfer_runtime_options_t opt = {.profiling = 1};
  clfer_runtime_t *rt = test_runtime_with(&opt);
  clfer_conv2d_params_t c3 = {3, 3, 1, 1, 1, 1, 1}, c1x1 = {1, 1, 1, 1, 0, 0, 1};
  clfer_pool2d_params_t p2 = {2, 2, 2, 2, 0, 0, 0, 1};
  const char *names[3] = {"chain", "residual", "pooled"};
  for (int form = 0; form < 3; form++) {
    clfer_net_t *net;
    cr_assert_eq(clfer_net_create(rt, names[form], 2, 8, 8, &net), CLFER_OK);
    int c1, r1, pool, c2, r2, cc, side, sum, out;
    cr_assert_eq(clfer_net_conv2d(net, "c1", 0, 4, &c3, 1, &c1), CLFER_OK);
    cr_assert_eq(clfer_net_relu(net, "r1", c1, 0.1f, &r1), CLFER_OK);
    if (form == 2) cr_assert_eq(clfer_net_maxpool(net, "pool", r1, &p2, &pool), CLFER_OK);
    cr_assert_eq(clfer_net_conv2d(net, "c2", form == 2 ? pool : r1, 4, &c3, 1, &c2), CLFER_OK);
    if (form == 1) {
      cr_assert_eq(clfer_net_conv2d(net, "side", c1, 4, &c1x1, 0, &side), CLFER_OK);
      cr_assert_eq(clfer_net_add(net, "sum", c2, side, &sum), CLFER_OK);
      cr_assert_eq(clfer_net_relu(net, "r2", sum, 0.0f, &r2), CLFER_OK);
    } else {
      cr_assert_eq(clfer_net_relu(net, "r2", c2, 0.0f, &r2), CLFER_OK);
    }
    cr_assert_eq(clfer_net_conv2d(net, "c3", r2, 3, &c3, 1, &cc), CLFER_OK);
    cr_assert_eq(clfer_net_dense(net, "fc", cc, 5, 1, &out), CLFER_OK);
    cr_assert_eq(clfer_net_init(net, CLFER_INIT_PYTORCH, 5), CLFER_OK);
    int shape[4] = {3, 2, 8, 8}, ds[2] = {3, 5};
    clfer_tensor_t x, dy;
    cr_assert_eq(clfer_tensor_create(rt, 4, shape, &x), CLFER_OK);
    cr_assert_eq(clfer_tensor_create(rt, 2, ds, &dy), CLFER_OK);
    float in[3 * 2 * 64], g[3 * 5];
    test_fill_uniform(in, 3 * 2 * 64, 31, -1, 1);
    test_fill_uniform(g, 3 * 5, 32, -1, 1);
    clfer_tensor_upload(&x, in), clfer_tensor_upload(&dy, g);
    /* cc as features: both ReLUs fused into the convs reading them; r1, r2: each keeps its own */
    const int features[3] = {cc, r1, r2};
    float *grads[3];
    int relu_backward[3];
    size_t n_grads;
    step_per_features(rt, net, &x, &dy, features, 3, grads, relu_backward, &n_grads);
    cr_assert_not(relu_backward[0], "%s: a relu_backward ran though both ReLUs feed one reader each", names[form]);
    cr_assert(relu_backward[1] && relu_backward[2], "%s: a features ReLU did not run its own backward", names[form]);
    for (int v = 1; v < 3; v++)
      for (size_t i = 0; i < n_grads; i++)
        cr_assert(form == 2 ? grads[0][i] == grads[v][i] : memcmp(&grads[0][i], &grads[v][i], sizeof(float)) == 0,
                  "%s: parameter gradient %zu differs (%d): %g against %g", names[form], i, v, (double)grads[0][i],
                  (double)grads[v][i]);
    int nonzero = 0;
    for (size_t i = 0; i < n_grads; i++) nonzero += grads[0][i] != 0.0f;
    cr_assert_gt(nonzero, (int)(n_grads / 2), "most gradients are zero");
    for (int v = 0; v < 3; v++) free(grads[v]);
    clfer_tensor_release(&x), clfer_tensor_release(&dy);
    clfer_net_destroy(net);
  }
  clfer_runtime_destroy(rt);
}

/* A branch that no gradient reaches (here a features node given no gradient) gets zero
 * parameter gradients, whatever its gradient buffers held; the others get theirs, the same on a
 * second pass (overwritten, not accumulated). */
Test(graph, parameters_off_the_gradient_path_get_zero_gradients) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net;
  cr_assert_eq(clfer_net_create(rt, "branches", 1, 6, 6, &net), CLFER_OK);
  clfer_conv2d_params_t c3 = {3, 3, 1, 1, 1, 1, 1};
  int live, fc, dead;
  cr_assert_eq(clfer_net_conv2d(net, "live", 0, 2, &c3, 1, &live), CLFER_OK);
  cr_assert_eq(clfer_net_dense(net, "fc", live, 3, 1, &fc), CLFER_OK);
  cr_assert_eq(clfer_net_conv2d(net, "dead", 0, 2, &c3, 1, &dead), CLFER_OK);
  cr_assert_eq(clfer_net_set_output(net, fc), CLFER_OK);
  cr_assert_eq(clfer_net_set_features(net, dead), CLFER_OK);
  cr_assert_eq(clfer_net_init(net, CLFER_INIT_PYTORCH, 2), CLFER_OK);
  int xs[4] = {2, 1, 6, 6}, ds[2] = {2, 3};
  clfer_tensor_t x, dy;
  cr_assert_eq(clfer_tensor_create(rt, 4, xs, &x), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 2, ds, &dy), CLFER_OK);
  float in[72];
  test_fill_uniform(in, 72, 31, -1, 1);
  clfer_tensor_upload(&x, in);
  clfer_tensor_fill(&dy, 0.5f);
  clfer_net_param_t *dw = clfer_net_param_by_name(net, "dead.weight"), *lw = clfer_net_param_by_name(net, "live.weight");
  cr_assert(dw && lw);
  float first[18], again[18], dead_grad[18];
  const clfer_tensor_t *y;
  for (int pass = 0; pass < 2; pass++) {
    cr_assert_eq(clfer_tensor_fill(&dw->grad, 7.0f), CLFER_OK); /* stale values the pass must clear */
    cr_assert_eq(clfer_net_forward(net, &x, 1, 0, &y), CLFER_OK, "%s", clfer_last_error());
    cr_assert_eq(clfer_net_backward(net, &dy, NULL), CLFER_OK, "%s", clfer_last_error());
    cr_assert_eq(clfer_tensor_download(&dw->grad, dead_grad), CLFER_OK);
    for (int i = 0; i < 18; i++) cr_assert_eq(dead_grad[i], 0.0f, "pass %d: dead.weight grad[%d] = %g", pass, i, dead_grad[i]);
    cr_assert_eq(clfer_tensor_download(&lw->grad, pass ? again : first), CLFER_OK);
  }
  int nonzero = 0;
  for (int i = 0; i < 18; i++) nonzero += first[i] != 0.0f;
  cr_assert_gt(nonzero, 9, "live.weight got no gradient");
  cr_assert(memcmp(first, again, sizeof first) == 0, "a second pass changed live.weight's gradient");
  clfer_tensor_release(&x), clfer_tensor_release(&dy);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}

/* ---- graph gradients against finite differences on the device ---- */

typedef struct small_graph {
  clfer_net_t *net;
  clfer_tensor_t x;
  float r[2 * 3];
} small_graph_t;

/* conv → relu ─┬→ conv → add → concat(with the relu) → avgpool → dense(3)
 *              └─────────────┘ (fan-out: the relu feeds three nodes) */
static void build_small(clfer_runtime_t *rt, small_graph_t *g) {
  cr_assert_eq(clfer_net_create(rt, "small", 2, 6, 6, &g->net), CLFER_OK);
  clfer_conv2d_params_t c3 = {3, 3, 1, 1, 1, 1, 1};
  clfer_pool2d_params_t p2 = {2, 2, 2, 2, 0, 0, 0, 1};
  int a, b, s, cat, pool, out;
  cr_assert_eq(clfer_net_conv2d(g->net, "c1", 0, 4, &c3, 1, &a), CLFER_OK);
  /* slope 1 keeps the graph smooth, so central differences are exact up to rounding (ReLU's own
   * gradient is checked op by op in test_ops_act.c) */
  cr_assert_eq(clfer_net_relu(g->net, "r1", a, 1.0f, &a), CLFER_OK);
  cr_assert_eq(clfer_net_conv2d(g->net, "c2", a, 4, &c3, 1, &b), CLFER_OK);
  cr_assert_eq(clfer_net_add(g->net, "add", a, b, &s), CLFER_OK);
  int both[2] = {s, a};
  cr_assert_eq(clfer_net_concat(g->net, "cat", 2, both, &cat), CLFER_OK);
  /* average pooling: max pooling's argmax switches under finite-difference steps */
  cr_assert_eq(clfer_net_avgpool(g->net, "pool", cat, &p2, &pool), CLFER_OK);
  cr_assert_eq(clfer_net_dense(g->net, "fc", pool, 3, 1, &out), CLFER_OK);
  cr_assert_eq(clfer_net_init(g->net, CLFER_INIT_PYTORCH, 3), CLFER_OK);
  int shape[4] = {2, 2, 6, 6};
  cr_assert_eq(clfer_tensor_create(rt, 4, shape, &g->x), CLFER_OK);
  float in[2 * 2 * 36];
  test_fill_uniform(in, 144, 11, -1, 1);
  clfer_tensor_upload(&g->x, in);
  test_fill_uniform(g->r, 6, 12, -1, 1);
}

static double small_loss(small_graph_t *g) {
  const clfer_tensor_t *y;
  cr_assert_eq(clfer_net_forward(g->net, &g->x, 1, 0, &y), CLFER_OK, "%s", clfer_last_error());
  float out[6];
  clfer_tensor_download(y, out);
  double l = 0;
  for (int i = 0; i < 6; i++) l += (double)g->r[i] * out[i];
  return l;
}

Test(graph, parameter_gradients_match_finite_differences) {
  clfer_runtime_t *rt = test_runtime();
  small_graph_t g;
  build_small(rt, &g);
  small_loss(&g);
  clfer_tensor_t dy;
  int s[2] = {2, 3};
  clfer_tensor_create(rt, 2, s, &dy);
  clfer_tensor_upload(&dy, g.r);
  cr_assert_eq(clfer_net_backward(g.net, &dy, NULL), CLFER_OK, "%s", clfer_last_error());
  const char *names[] = {"c1.weight", "c1.bias", "c2.weight", "c2.bias", "fc.weight", "fc.bias"};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    clfer_net_param_t *p = clfer_net_param_by_name(g.net, names[k]);
    cr_assert_not_null(p, "%s", names[k]);
    size_t n = clfer_tensor_numel(&p->value);
    float *v = download(&p->value), *grad = download(&p->grad);
    for (size_t j = 0; j < n; j += (n > 12 ? n / 12 : 1)) {
      const float h = 4e-3f;
      float keep = v[j];
      v[j] = keep + h;
      clfer_tensor_upload(&p->value, v);
      double up = small_loss(&g);
      v[j] = keep - h;
      clfer_tensor_upload(&p->value, v);
      double down = small_loss(&g);
      v[j] = keep;
      clfer_tensor_upload(&p->value, v);
      double fd = (up - down) / (2 * h);
      cr_assert(fabs(fd - grad[j]) <= 2e-3 + 2e-2 * fabs(fd), "%s[%zu]: backward %g, finite difference %g", names[k], j,
                grad[j], fd);
    }
    free(v), free(grad);
  }
  clfer_tensor_release(&dy), clfer_tensor_release(&g.x);
  clfer_net_destroy(g.net);
  clfer_runtime_destroy(rt);
}

/* ---- a tiny network overfits one batch (softmax cross-entropy computed on the host) ---- */

Test(graph, tiny_network_overfits_one_batch) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net;
  cr_assert_eq(clfer_net_create(rt, "tiny", 1, 8, 8, &net), CLFER_OK);
  clfer_conv2d_params_t c3 = {3, 3, 1, 1, 1, 1, 1};
  clfer_pool2d_params_t p2 = {2, 2, 2, 2, 0, 0, 0, 1};
  int x;
  cr_assert_eq(clfer_net_conv2d(net, "conv", 0, 8, &c3, 1, &x), CLFER_OK);
  cr_assert_eq(clfer_net_relu(net, "relu", x, 0, &x), CLFER_OK);
  cr_assert_eq(clfer_net_maxpool(net, "pool", x, &p2, &x), CLFER_OK);
  cr_assert_eq(clfer_net_dense(net, "fc", x, 4, 1, &x), CLFER_OK);
  cr_assert_eq(clfer_net_init(net, CLFER_INIT_GLOROT_UNIFORM, 5), CLFER_OK);
  enum { N = 8, K = 4 };
  int shape[4] = {N, 1, 8, 8}, gshape[2] = {N, K};
  clfer_tensor_t in, dy;
  clfer_tensor_create(rt, 4, shape, &in);
  clfer_tensor_create(rt, 2, gshape, &dy);
  float data[N * 64], logits[N * K], grad[N * K];
  test_fill_uniform(data, N * 64, 21, 0, 1);
  clfer_tensor_upload(&in, data);
  int labels[N] = {0, 1, 2, 3, 0, 1, 2, 3};
  double first = 0, loss = 0;
  for (int step = 0; step < 150; step++) {
    const clfer_tensor_t *y;
    cr_assert_eq(clfer_net_forward(net, &in, 1, step, &y), CLFER_OK, "%s", clfer_last_error());
    clfer_tensor_download(y, logits);
    loss = 0;
    for (int i = 0; i < N; i++) {
      double m = logits[i * K], z = 0;
      for (int k = 1; k < K; k++) m = fmax(m, logits[i * K + k]);
      for (int k = 0; k < K; k++) z += exp(logits[i * K + k] - m);
      for (int k = 0; k < K; k++) {
        double q = exp(logits[i * K + k] - m) / z;
        grad[i * K + k] = (float)((q - (k == labels[i])) / N);
        if (k == labels[i]) loss -= log(q) / N;
      }
    }
    if (step == 0) first = loss;
    clfer_tensor_upload(&dy, grad);
    cr_assert_eq(clfer_net_backward(net, &dy, NULL), CLFER_OK, "%s", clfer_last_error());
    for (int p = 0; p < clfer_net_param_count(net); p++) {
      clfer_net_param_t *prm = clfer_net_param(net, p);
      cr_assert_eq(clfer_axpy(rt, -0.5f, &prm->grad, &prm->value), CLFER_OK);
    }
  }
  cr_assert_lt(loss, 0.05, "loss fell from %g to %g only", first, loss);
  cr_assert_gt(first, 1.0);
  clfer_pool_stats_t before = clfer_pool_stats(rt);
  const clfer_tensor_t *y;
  clfer_net_forward(net, &in, 1, 999, &y);
  clfer_net_backward(net, &dy, NULL);
  cr_assert_eq(clfer_pool_stats(rt).misses, before.misses, "a training step after the first allocates nothing");
  clfer_tensor_release(&in), clfer_tensor_release(&dy);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}

/* ---- checkpoints ---- */

Test(checkpoint, round_trip_is_bit_identical) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *a, *b;
  cr_assert_eq(clfer_zoo_build(rt, "fer_small", 1, 24, 24, 8, &a), CLFER_OK);
  cr_assert_eq(clfer_zoo_build(rt, "fer_small", 1, 24, 24, 8, &b), CLFER_OK);
  clfer_net_init(a, CLFER_INIT_PYTORCH, 1);
  clfer_net_init(b, CLFER_INIT_PYTORCH, 2);
  /* running statistics too */
  clfer_tensor_fill(&clfer_net_param_by_name(a, "features.1.running_var")->value, 3.5f);
  char path[1100];
  snprintf(path, sizeof path, "%s/small.safetensors", test_tmpdir("ckpt"));
  clfer_meta_t meta = {0};
  clfer_meta_set(&meta, "epoch", "7");
  int es[1] = {5};
  clfer_tensor_t extra_a, extra_b;
  clfer_tensor_create(rt, 1, es, &extra_a);
  clfer_tensor_zeros(rt, 1, es, &extra_b);
  float ev[5] = {1, 2, 3, 4, 5}, got[5];
  clfer_tensor_upload(&extra_a, ev);
  clfer_named_tensor_t ex_a = {"optim.step", &extra_a}, ex_b = {"optim.step", &extra_b};
  cr_assert_eq(clfer_net_save(a, path, &meta, &ex_a, 1), CLFER_OK, "%s", clfer_last_error());
  clfer_meta_free(&meta);
  cr_assert_eq(clfer_net_load(b, path, &meta, &ex_b, 1, 0), CLFER_OK, "%s", clfer_last_error());
  cr_assert_str_eq(clfer_meta_get(&meta, "epoch"), "7");
  cr_assert(strstr(clfer_meta_get(&meta, "clfer.model"), "\"zoo\":\"fer_small\"") != NULL);
  clfer_meta_free(&meta);
  for (int i = 0; i < clfer_net_param_count(a); i++) {
    clfer_net_param_t *pa = clfer_net_param(a, i), *pb = clfer_net_param(b, i);
    cr_assert_str_eq(pa->name, pb->name);
    float *va = download(&pa->value), *vb = download(&pb->value);
    cr_assert_arr_eq(va, vb, clfer_tensor_numel(&pa->value) * sizeof(float), "%s differs after loading", pa->name);
    free(va), free(vb);
  }
  clfer_tensor_download(&extra_b, got);
  cr_assert_arr_eq(got, ev, sizeof ev);
  clfer_tensor_release(&extra_a), clfer_tensor_release(&extra_b);
  clfer_net_destroy(a), clfer_net_destroy(b);
  clfer_runtime_destroy(rt);
}

Test(checkpoint, bad_files_are_rejected_with_a_message) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *a, *other;
  cr_assert_eq(clfer_zoo_build(rt, "fer_small", 1, 24, 24, 8, &a), CLFER_OK);
  cr_assert_eq(clfer_zoo_build(rt, "fer_small", 1, 24, 24, 5, &other), CLFER_OK);
  const char *dir = test_tmpdir("ckpt-bad");
  char path[1100], cut[1100], cmd[2400];
  snprintf(path, sizeof path, "%s/a.safetensors", dir);
  snprintf(cut, sizeof cut, "%s/cut.safetensors", dir);
  cr_assert_eq(clfer_net_save(a, path, NULL, NULL, 0), CLFER_OK);

  /* another class count: the first mismatching tensor is named */
  cr_assert_eq(clfer_net_load(other, path, NULL, NULL, 0, 0), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "classifier.3.weight") != NULL, "%s", clfer_last_error());

  /* truncated */
  snprintf(cmd, sizeof cmd, "head -c 3000 '%s' > '%s'", path, cut);
  cr_assert_eq(system(cmd), 0);
  cr_assert_eq(clfer_net_load(a, cut, NULL, NULL, 0, 0), CLFER_CORRUPT);
  cr_assert(strstr(clfer_last_error(), "cut.safetensors") != NULL, "%s", clfer_last_error());
  snprintf(cmd, sizeof cmd, "head -c 5 '%s' > '%s'", path, cut);
  cr_assert_eq(system(cmd), 0);
  cr_assert_eq(clfer_net_load(a, cut, NULL, NULL, 0, 0), CLFER_CORRUPT);

  /* garbage header */
  FILE *f = fopen(cut, "wb");
  fwrite("\x10\0\0\0\0\0\0\0{not json at all", 1, 24, f);
  fclose(f);
  cr_assert_eq(clfer_net_load(a, cut, NULL, NULL, 0, 0), CLFER_CORRUPT);

  /* missing file; unwritable directory leaves nothing behind */
  cr_assert_eq(clfer_net_load(a, "/nonexistent/x.safetensors", NULL, NULL, 0, 0), CLFER_IO_ERROR);
  cr_assert(strstr(clfer_last_error(), "/nonexistent/x.safetensors") != NULL);
  cr_assert_eq(clfer_net_save(a, "/nonexistent/dir/x.safetensors", NULL, NULL, 0), CLFER_IO_ERROR);
  clfer_net_destroy(a), clfer_net_destroy(other);
  clfer_runtime_destroy(rt);
}

/* ---- corrupt checkpoints: each field of the header and of the stored graph set to what a
 * damaged or hostile file may hold ---- */

/* A model without a zoo name, so loading rebuilds it from "clfer.graph": every layer kind that
 * stores settings (conv, leaky ReLU, LRN, both pools, batch norm, dense, dropout). */
static clfer_net_t *graph_model(clfer_runtime_t *rt) {
  clfer_net_t *net;
  cr_assert_eq(clfer_net_create(rt, "graphed", 3, 12, 12, &net), CLFER_OK);
  clfer_conv2d_params_t cp = {.kernel_h = 3, .kernel_w = 3, .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1};
  clfer_pool2d_params_t mp = {.kernel_h = 2, .kernel_w = 2, .stride_h = 2, .stride_w = 2};
  clfer_pool2d_params_t ap = {.kernel_h = 3, .kernel_w = 3, .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1};
  clfer_lrn_params_t lp = {3, 1e-2f, 0.75f, 2.0f};
  clfer_batchnorm_params_t bp = {1e-5f, 0.1f};
  int id = 0;
  cr_assert_eq(clfer_net_conv2d(net, "conv", id, 4, &cp, 1, &id), CLFER_OK);
  cr_assert_eq(clfer_net_relu(net, "act", id, 0.1f, &id), CLFER_OK);
  cr_assert_eq(clfer_net_lrn(net, "lrn", id, &lp, &id), CLFER_OK);
  cr_assert_eq(clfer_net_maxpool(net, "pool", id, &mp, &id), CLFER_OK);
  cr_assert_eq(clfer_net_avgpool(net, "avg", id, &ap, &id), CLFER_OK);
  cr_assert_eq(clfer_net_batchnorm(net, "bn", id, &bp, &id), CLFER_OK);
  cr_assert_eq(clfer_net_flatten(net, "flat", id, &id), CLFER_OK);
  cr_assert_eq(clfer_net_dense(net, "fc", id, 6, 1, &id), CLFER_OK);
  cr_assert_eq(clfer_net_dropout(net, "drop", id, 0.2f, &id), CLFER_OK);
  cr_assert_eq(clfer_net_init(net, CLFER_INIT_PYTORCH, 3), CLFER_OK);
  return net;
}

typedef struct saved_checkpoint {
  cJSON *header;
  unsigned char *data; /* the tensors, after the header */
  size_t data_size;
} saved_checkpoint_t;

static void checkpoint_split(const char *path, saved_checkpoint_t *c) {
  size_t size;
  char *bytes = test_read_file(path, &size);
  uint64_t hlen = 0;
  for (int i = 0; i < 8; i++) hlen |= (uint64_t)(unsigned char)bytes[i] << (8 * i);
  cr_assert_leq(8 + hlen, size);
  char *text = strndup(bytes + 8, hlen);
  c->header = cJSON_Parse(text);
  cr_assert(cJSON_IsObject(c->header), "%s: header is not JSON", path);
  c->data_size = size - 8 - hlen;
  c->data = malloc(c->data_size + 1);
  memcpy(c->data, bytes + 8 + hlen, c->data_size);
  free(text), free(bytes);
}

static void checkpoint_write(const char *path, const cJSON *header, const saved_checkpoint_t *c) {
  char *text = cJSON_PrintUnformatted(header);
  uint64_t hlen = strlen(text);
  unsigned char len8[8];
  for (int i = 0; i < 8; i++) len8[i] = (unsigned char)(hlen >> (8 * i));
  FILE *f = fopen(path, "wb");
  cr_assert(f != NULL);
  cr_assert(fwrite(len8, 1, 8, f) == 8 && fwrite(text, 1, hlen, f) == hlen &&
            fwrite(c->data, 1, c->data_size, f) == c->data_size);
  fclose(f);
  free(text);
}

/* Rebuilds the model from PATH: OK, or an error that names the file (never a crash). */
static clfer_status rebuild(clfer_runtime_t *rt, const char *path, const char *what) {
  clfer_net_t *net = NULL;
  clfer_status st = clfer_net_from_checkpoint(rt, path, &net, NULL);
  if (st) {
    cr_assert(strstr(clfer_last_error(), path) != NULL, "%s: the error does not name the file: %s", what,
              clfer_last_error());
    cr_assert_null(net);
  }
  clfer_net_destroy(net);
  return st;
}

/* The header with the stored graph's layer `layer`, key `key`, set to the JSON `value` (NULL:
 * the key removed). */
static cJSON *with_graph_field(const cJSON *header, const char *layer, const char *key, const char *value) {
  cJSON *h = cJSON_Duplicate(header, 1), *md = cJSON_GetObjectItemCaseSensitive(h, "__metadata__");
  cJSON *graph = cJSON_Parse(cJSON_GetObjectItemCaseSensitive(md, "clfer.graph")->valuestring), *l;
  cJSON_ArrayForEach(l, graph) if (strcmp(cJSON_GetObjectItemCaseSensitive(l, "name")->valuestring, layer) == 0) {
    cJSON_DeleteItemFromObjectCaseSensitive(l, key);
    if (value) cJSON_AddItemToObject(l, key, cJSON_Parse(value));
  }
  char *text = cJSON_PrintUnformatted(graph);
  cJSON_ReplaceItemInObjectCaseSensitive(md, "clfer.graph", cJSON_CreateString(text));
  free(text);
  cJSON_Delete(graph);
  return h;
}

static clfer_status rebuild_with_graph_field(clfer_runtime_t *rt, const saved_checkpoint_t *c, const char *path,
                                             const char *layer, const char *key, const char *value) {
  cJSON *h = with_graph_field(c->header, layer, key, value);
  checkpoint_write(path, h, c);
  cJSON_Delete(h);
  char what[200];
  snprintf(what, sizeof what, "%s.%s = %s", layer, key, value ? value : "(removed)");
  return rebuild(rt, path, what);
}

static clfer_status rebuild_with_tensor_field(clfer_runtime_t *rt, const saved_checkpoint_t *c, const char *path,
                                              const char *tensor, const char *key, const char *value) {
  cJSON *h = cJSON_Duplicate(c->header, 1), *e = cJSON_GetObjectItemCaseSensitive(h, tensor);
  cJSON_ReplaceItemInObjectCaseSensitive(e, key, cJSON_Parse(value));
  checkpoint_write(path, h, c);
  cJSON_Delete(h);
  return rebuild(rt, path, tensor);
}

Test(checkpoint, every_corrupt_graph_field_is_an_error_or_harmless) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net = graph_model(rt);
  const char *dir = test_tmpdir("ckpt-graph");
  char path[1100], bad[1100];
  snprintf(path, sizeof path, "%s/graph.safetensors", dir);
  snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
  cr_assert_eq(clfer_net_save(net, path, NULL, NULL, 0), CLFER_OK, "%s", clfer_last_error());
  clfer_net_destroy(net);
  cr_assert_eq(rebuild(rt, path, "as saved"), CLFER_OK, "%s", clfer_last_error());
  saved_checkpoint_t c;
  checkpoint_split(path, &c);

  /* every setting of every layer, each value in turn */
  static const char *const layers[] = {"input", "conv", "act", "lrn", "pool", "avg", "bn", "flat", "fc", "drop"};
  static const char *const keys[] = {"shape", "out_channels", "kernel", "stride", "pad", "groups", "bias",
                                     "slope", "size", "alpha", "beta", "k", "ceil_mode", "count_include_pad",
                                     "eps", "momentum", "out_features", "p", "inputs", "type"};
  static const char *const values[] = {
      "0", "-1", "-2147483648", "2147483647", "2147483648", "1e300", "1.5", "\"3\"", "null", "[]", "{}",
      "[1, 1.5]", "[1, -2147483648]", "[2147483647, 2147483647]", "[2147483647, 2147483647, 2147483647]",
      "[\"input\", \"input\"]", "\"conv2d\"", "\"add\"", "\"no such layer\"", NULL};
  int errors = 0, tried = 0;
  for (size_t l = 0; l < sizeof layers / sizeof *layers; l++)
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++)
      for (size_t v = 0; v < sizeof values / sizeof *values; v++, tried++)
        errors += rebuild_with_graph_field(rt, &c, bad, layers[l], keys[k], values[v]) != CLFER_OK;
  cr_assert_gt(errors, tried / 10, "only %d of %d damaged graphs were refused", errors, tried);

  /* what used to be taken as something else, or to overflow int arithmetic */
  cr_assert_eq(rebuild_with_graph_field(rt, &c, bad, "conv", "kernel", "[3, 2.5]"), CLFER_PARSE_ERROR);
  cr_assert(strstr(clfer_last_error(), "\"kernel\" is not a pair of integers") != NULL, "%s", clfer_last_error());
  cr_assert_eq(rebuild_with_graph_field(rt, &c, bad, "conv", "stride", "[0, 1]"), CLFER_PARSE_ERROR); /* no defaults */
  cr_assert_eq(rebuild_with_graph_field(rt, &c, bad, "avg", "stride", "[-1, -1]"), CLFER_PARSE_ERROR);
  cr_assert_eq(rebuild_with_graph_field(rt, &c, bad, "conv", "groups", "0"), CLFER_PARSE_ERROR);
  cr_assert_eq(rebuild_with_graph_field(rt, &c, bad, "pool", "ceil_mode", "3"), CLFER_PARSE_ERROR);
  cr_assert_eq(rebuild_with_graph_field(rt, &c, bad, "pool", "ceil_mode", "\"yes\""), CLFER_PARSE_ERROR);
  cr_assert_neq(rebuild_with_graph_field(rt, &c, bad, "conv", "kernel", "[1, -2147483648]"), CLFER_OK);
  cr_assert(strstr(clfer_last_error(), "kernel") != NULL, "%s", clfer_last_error());
  cr_assert_neq(rebuild_with_graph_field(rt, &c, bad, "conv", "pad", "[2147483647, 1]"), CLFER_OK);
  cr_assert_neq(rebuild_with_graph_field(rt, &c, bad, "input", "shape", "[2147483647, 2147483647, 2147483647]"),
                CLFER_OK);
  cr_assert(strstr(clfer_last_error(), "under 2^31 values") != NULL, "%s", clfer_last_error());
  cr_assert_neq(rebuild_with_graph_field(rt, &c, bad, "conv", "out_channels", "2147483647"), CLFER_OK);
  cr_assert_neq(rebuild_with_graph_field(rt, &c, bad, "bn", "eps", "-1"), CLFER_OK);
  cr_assert(strstr(clfer_last_error(), "layer bn") != NULL, "%s", clfer_last_error());
  cr_assert_neq(rebuild_with_graph_field(rt, &c, bad, "lrn", "size", "0"), CLFER_OK);
  cr_assert(strstr(clfer_last_error(), "layer lrn") != NULL, "%s", clfer_last_error());
  cr_assert_neq(rebuild_with_graph_field(rt, &c, bad, "act", "slope", "1e300"), CLFER_OK);
  cr_assert_neq(rebuild_with_graph_field(rt, &c, bad, "act", "slope", "-1"), CLFER_OK); /* else fails at forward */
  cr_assert(strstr(clfer_last_error(), "slope -1 must be finite and >= 0") != NULL, "%s", clfer_last_error());
  /* the output and features marks: true/false or 0/1, nothing else */
  cr_assert_eq(rebuild_with_graph_field(rt, &c, bad, "fc", "output", "\"yes\""), CLFER_PARSE_ERROR);
  cr_assert(strstr(clfer_last_error(), "layer fc: \"output\" is not true or false") != NULL, "%s", clfer_last_error());
  cr_assert_eq(rebuild_with_graph_field(rt, &c, bad, "fc", "features", "2"), CLFER_PARSE_ERROR);
  cr_assert_eq(rebuild_with_graph_field(rt, &c, bad, "fc", "output", "1"), CLFER_OK, "%s", clfer_last_error());
  /* a layer rebuilt without the bias the file holds */
  cr_assert_eq(rebuild_with_graph_field(rt, &c, bad, "fc", "bias", "false"), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "fc.bias") != NULL, "%s", clfer_last_error());

  /* the tensors' own entries */
  static const char *const shapes[] = {"[4.5, 3, 3, 3]", "[-4, 3, 3, 3]", "[1e300, 3, 3, 3]", "[\"4\", 3, 3, 3]",
                                       "[4, 3, 3, 3, 1, 1, 1]", "[]", "7"};
  static const char *const offsets[] = {"[0.5, 432.5]", "[-4, 428]", "[0, 1e300]", "[1e20, 1e20]", "[432, 0]",
                                        "[\"0\", \"432\"]", "[0]", "null"};
  for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++)
    cr_assert_neq(rebuild_with_tensor_field(rt, &c, bad, "conv.weight", "shape", shapes[i]), CLFER_OK, "shape %s",
                  shapes[i]);
  for (size_t i = 0; i < sizeof offsets / sizeof *offsets; i++)
    cr_assert_eq(rebuild_with_tensor_field(rt, &c, bad, "conv.weight", "data_offsets", offsets[i]), CLFER_CORRUPT,
                 "data_offsets %s: %s", offsets[i], clfer_last_error());
  cr_assert_eq(rebuild_with_tensor_field(rt, &c, bad, "conv.weight", "dtype", "\"F16\""), CLFER_UNSUPPORTED);
  cJSON_Delete(c.header);
  free(c.data);
  clfer_runtime_destroy(rt);
}

/* The builder API itself: sizes that would overflow the int arithmetic of shapes and kernels are
 * refused when the layer is added, naming it. */
Test(graph, builder_refuses_sizes_past_int) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net;
  cr_assert_eq(clfer_net_create(rt, "huge", 2147483647, 2147483647, 2147483647, &net), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "under 2^31 values") != NULL, "%s", clfer_last_error());
  cr_assert_eq(clfer_net_create(rt, "wide", 1, 46340, 46340, &net), CLFER_OK, "%s", clfer_last_error());
  clfer_conv2d_params_t zero = {.kernel_h = 0, .kernel_w = 3}, one = {.kernel_h = 1, .kernel_w = 1};
  clfer_conv2d_params_t far = {.kernel_h = 3, .kernel_w = 3, .pad_h = 2147483647, .pad_w = 1};
  int id;
  cr_assert_eq(clfer_net_conv2d(net, "c", 0, 4, &zero, 1, &id), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "layer c (conv2d)") && strstr(clfer_last_error(), "0x3 kernel"), "%s",
            clfer_last_error());
  cr_assert_neq(clfer_net_conv2d(net, "c", 0, 4, &far, 1, &id), CLFER_OK); /* 46340 + 2·(2^31-1) */
  cr_assert_eq(clfer_net_conv2d(net, "c", 0, 2, &one, 0, &id), CLFER_SHAPE_MISMATCH); /* 2·46340² values */
  cr_assert(strstr(clfer_last_error(), "output [2, 46340, 46340] has more than 2^31 - 1 values") != NULL, "%s",
            clfer_last_error());
  cr_assert_eq(clfer_net_node_count(net), 1, "a refused layer was kept");
  cr_assert_eq(clfer_net_param_count(net), 0, "a refused layer's parameters were kept");
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}

/* Every entry is checked before any is read, so a file that fails leaves the model untouched. */
Test(checkpoint, a_bad_last_entry_leaves_the_model_as_it_was) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *a = graph_model(rt), *b = graph_model(rt);
  cr_assert_eq(clfer_net_init(b, CLFER_INIT_PYTORCH, 9), CLFER_OK);
  const char *dir = test_tmpdir("ckpt-partial");
  char path[1100], bad[1100];
  snprintf(path, sizeof path, "%s/a.safetensors", dir);
  snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
  cr_assert_eq(clfer_net_save(a, path, NULL, NULL, 0), CLFER_OK, "%s", clfer_last_error());
  saved_checkpoint_t c;
  checkpoint_split(path, &c);
  cJSON *h = cJSON_Duplicate(c.header, 1);
  cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(h, "fc.bias"), "shape", cJSON_Parse("[7]"));
  checkpoint_write(bad, h, &c);
  float *before = download(&clfer_net_param_by_name(b, "conv.weight")->value);
  cr_assert_eq(clfer_net_load(b, bad, NULL, NULL, 0, 0), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "fc.bias") != NULL, "%s", clfer_last_error());
  float *after = download(&clfer_net_param_by_name(b, "conv.weight")->value);
  cr_assert_arr_eq(after, before, clfer_tensor_numel(&clfer_net_param_by_name(b, "conv.weight")->value) * sizeof(float),
                   "conv.weight was overwritten by a file that failed to load");
  free(before), free(after);
  cJSON_Delete(h);
  cJSON_Delete(c.header);
  free(c.data);
  clfer_net_destroy(a), clfer_net_destroy(b);
  clfer_runtime_destroy(rt);
}

/* Batch norm's num_batches_tracked counts training forwards, as PyTorch's does, and survives a
 * save and load; a damaged count is an error naming the file and the tensor. */
static int64_t saved_count(const saved_checkpoint_t *c, const char *name) {
  const cJSON *offs = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c->header, name), "data_offsets");
  size_t at = (size_t)cJSON_GetArrayItem(offs, 0)->valuedouble;
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)c->data[at + (size_t)i] << (8 * i);
  return (int64_t)v;
}

static void expect_bad_count(clfer_net_t *net, const saved_checkpoint_t *c, const char *bad, const char *key,
                             const char *value, int negative) {
  cJSON *h = cJSON_Duplicate(c->header, 1), *e = cJSON_GetObjectItemCaseSensitive(h, "bn.num_batches_tracked");
  saved_checkpoint_t d = *c;
  d.data = malloc(c->data_size + 1);
  memcpy(d.data, c->data, c->data_size);
  if (negative) /* -1 */
    memset(d.data + (size_t)cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(e, "data_offsets"), 0)->valuedouble, 0xff, 8);
  if (key) cJSON_ReplaceItemInObjectCaseSensitive(e, key, cJSON_Parse(value));
  checkpoint_write(bad, h, &d);
  cr_assert_eq(clfer_net_load(net, bad, NULL, NULL, 0, 0), CLFER_CORRUPT, "%s = %s loaded", key ? key : "count",
               value ? value : "-1");
  cr_assert(strstr(clfer_last_error(), bad) && strstr(clfer_last_error(), "bn.num_batches_tracked"), "%s",
            clfer_last_error());
  cJSON_Delete(h);
  free(d.data);
}

Test(checkpoint, batch_norm_counts_its_training_passes) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *a = graph_model(rt), *b = graph_model(rt);
  const char *dir = test_tmpdir("ckpt-bn-count");
  char path[1100], again[1100], bad[1100];
  snprintf(path, sizeof path, "%s/a.safetensors", dir);
  snprintf(again, sizeof again, "%s/b.safetensors", dir);
  snprintf(bad, sizeof bad, "%s/bad.safetensors", dir);
  clfer_tensor_t x;
  float in[2 * 3 * 12 * 12];
  test_fill_uniform(in, sizeof in / sizeof *in, 5, -1, 1);
  cr_assert_eq(clfer_tensor_create(rt, 4, (int[]){2, 3, 12, 12}, &x), CLFER_OK);
  clfer_tensor_upload(&x, in);
  const clfer_tensor_t *y;
  for (int step = 0; step < 2; step++) cr_assert_eq(clfer_net_forward(a, &x, 1, (uint64_t)step, &y), CLFER_OK);
  cr_assert_eq(clfer_net_forward(a, &x, 0, 0, &y), CLFER_OK); /* evaluation does not count */
  cr_assert_eq(clfer_net_save(a, path, NULL, NULL, 0), CLFER_OK, "%s", clfer_last_error());
  saved_checkpoint_t c;
  checkpoint_split(path, &c);
  cr_assert_eq(saved_count(&c, "bn.num_batches_tracked"), 2);
  cr_assert_eq(clfer_net_load(b, path, NULL, NULL, 0, 0), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_net_forward(b, &x, 1, 0, &y), CLFER_OK);
  cr_assert_eq(clfer_net_save(b, again, NULL, NULL, 0), CLFER_OK, "%s", clfer_last_error());
  saved_checkpoint_t c2;
  checkpoint_split(again, &c2);
  cr_assert_eq(saved_count(&c2, "bn.num_batches_tracked"), 3, "the loaded count goes on");

  expect_bad_count(b, &c, bad, "dtype", "\"F32\"", 0);
  expect_bad_count(b, &c, bad, "shape", "[2]", 0);
  expect_bad_count(b, &c, bad, "data_offsets", "[0, 4]", 0);
  expect_bad_count(b, &c, bad, "data_offsets", "[0.5, 8.5]", 0);
  expect_bad_count(b, &c, bad, NULL, NULL, 1);
  /* a file without the counts (older, or written elsewhere) loads with 0 */
  cJSON *h = cJSON_Duplicate(c.header, 1);
  cJSON_DeleteItemFromObjectCaseSensitive(h, "bn.num_batches_tracked");
  checkpoint_write(bad, h, &c);
  cr_assert_eq(clfer_net_load(b, bad, NULL, NULL, 0, 0), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_net_save(b, again, NULL, NULL, 0), CLFER_OK);
  cJSON_Delete(c2.header), free(c2.data);
  checkpoint_split(again, &c2);
  cr_assert_eq(saved_count(&c2, "bn.num_batches_tracked"), 0);
  cJSON_Delete(h), cJSON_Delete(c.header), cJSON_Delete(c2.header);
  free(c.data), free(c2.data);
  clfer_tensor_release(&x);
  clfer_net_destroy(a), clfer_net_destroy(b);
  clfer_runtime_destroy(rt);
}
