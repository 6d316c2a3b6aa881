/* test_onnx.c — ONNX import and export. Import: the committed fixtures (tests/fixtures/onnx, made by
 * tests/scripts/make_onnx.py) give PyTorch's logits; torchvision AlexNet and ResNet-18 with random
 * weights, exported by PyTorch at test time (skipped without python3-torch), give PyTorch's logits
 * within 1e-3 relative. Export: clfer -> ONNX passes onnx.checker and runs (onnxruntime, else a
 * torch.nn.functional interpreter) to clfer's outputs within 1e-4, and re-imports to the same
 * network. Malformed, truncated and unsupported files are errors naming what is wrong. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "clfer/onnx.h"
#include "test_util.h"

#define FIXTURES CLFER_TEST_FIXTURES "/onnx"

static float *read_floats(const char *path, size_t n) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot open %s", path);
  float *x = malloc(n * sizeof *x);
  cr_assert_eq(fread(x, sizeof *x, n, f), n, "%s: fewer than %zu floats", path, n);
  fclose(f);
  return x;
}

static void write_floats(const char *path, const float *x, size_t n) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "%s", path);
  cr_assert_eq(fwrite(x, sizeof *x, n, f), n);
  fclose(f);
}

/* Runs the net in eval mode on host input [n, C, H, W]; returns malloc'ed outputs (count in *count). */
static float *run(clfer_runtime_t *rt, clfer_net_t *net, const float *in, int n, size_t *count) {
  int s[3];
  clfer_net_input_shape(net, s);
  int shape[4] = {n, s[0], s[1], s[2]};
  clfer_tensor_t x;
  cr_assert_eq(clfer_tensor_create(rt, 4, shape, &x), CLFER_OK);
  cr_assert_eq(clfer_tensor_upload(&x, in), CLFER_OK);
  const clfer_tensor_t *y;
  cr_assert_eq(clfer_net_forward(net, &x, 0, 0, &y), CLFER_OK, "%s", clfer_last_error());
  *count = clfer_tensor_numel(y);
  float *out = malloc(*count * sizeof *out);
  cr_assert_eq(clfer_tensor_download(y, out), CLFER_OK);
  clfer_net_release_activations(net);
  clfer_tensor_release(&x);
  return out;
}

/* Largest |a - b| over the largest |b|: "relative to the logits' scale". */
static double scaled_error(const float *got, const float *want, size_t n) {
  double err = 0, scale = 1e-6;
  for (size_t i = 0; i < n; i++) {
    double d = got[i] - want[i];
    if (d != d) return 1e30;
    err = fabs(d) > err ? fabs(d) : err;
    scale = fabs(want[i]) > scale ? fabs(want[i]) : scale;
  }
  return err / scale;
}

/* Imports FILE, runs INPUT and compares with EXPECTED (n images); returns the scaled error. */
static double import_and_compare(const char *onnx, const char *input, const char *expected, int n,
                                 const clfer_onnx_import_options_t *opt) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net;
  cr_assert_eq(clfer_onnx_import(rt, onnx, opt, &net), CLFER_OK, "%s", clfer_last_error());
  int s[3];
  clfer_net_input_shape(net, s);
  float *in = read_floats(input, (size_t)n * s[0] * s[1] * s[2]);
  size_t count;
  float *got = run(rt, net, in, n, &count);
  float *want = read_floats(expected, count);
  double err = scaled_error(got, want, count);
  free(in), free(got), free(want);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
  return err;
}

static int have_python(const char *module) {
  char cmd[200];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c 'import %s' >/dev/null 2>&1", module);
  return system(cmd) == 0;
}

/* ---- import: committed fixtures ---- */

Test(onnx_import, tiny_pytorch_export_gives_pytorch_logits) {
  double err = import_and_compare(FIXTURES "/tiny.onnx", FIXTURES "/tiny.input.f32", FIXTURES "/tiny.logits.f32", 2, NULL);
  cr_log_info("tiny: max |clfer - pytorch| / max |pytorch| = %.3g", err);
  cr_assert_leq(err, 1e-4, "tiny: clfer's logits differ from PyTorch's by %g of their scale", err);
}

Test(onnx_import, handwritten_ops_and_fp16_weights) {
  double err = import_and_compare(FIXTURES "/ops.onnx", FIXTURES "/ops.input.f32", FIXTURES "/ops.logits.f32", 2, NULL);
  cr_log_info("ops: max |clfer - torch.nn.functional| / max = %.3g (logits)", err);
  cr_assert_leq(err, 1e-4, "ops (softmax dropped): error %g", err);
  clfer_onnx_import_options_t keep = {.keep_softmax = 1};
  err = import_and_compare(FIXTURES "/ops.onnx", FIXTURES "/ops.input.f32", FIXTURES "/ops.prob.f32", 2, &keep);
  cr_assert_leq(err, 1e-4, "ops (softmax kept): error %g", err);
}

Test(onnx_import, layer_names_follow_the_weights) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net;
  cr_assert_eq(clfer_onnx_import(rt, FIXTURES "/tiny.onnx", NULL, &net), CLFER_OK, "%s", clfer_last_error());
  static const char *const names[] = {"conv1.weight", "conv1.bias", "bn1.weight", "bn1.running_var", "conv2.weight",
                                      "fc.weight", "fc.bias"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    cr_assert_not_null(clfer_net_param_by_name(net, names[i]), "no parameter %s", names[i]);
  cr_assert_null(clfer_net_param_by_name(net, "conv2.bias"));
  cr_assert_eq(clfer_net_param_by_name(net, "fc.weight")->value.shape[1], 144);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}

/* An imported model saved as a checkpoint rebuilds from "clfer.graph" with the same outputs. */
Test(onnx_import, checkpoint_rebuilds_from_graph) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net, *again;
  cr_assert_eq(clfer_onnx_import(rt, FIXTURES "/tiny.onnx", NULL, &net), CLFER_OK, "%s", clfer_last_error());
  char path[1100];
  snprintf(path, sizeof path, "%s/tiny.safetensors", test_tmpdir("onnx-ckpt"));
  cr_assert_eq(clfer_net_save(net, path, NULL, NULL, 0), CLFER_OK, "%s", clfer_last_error());
  clfer_meta_t meta = {0};
  cr_assert_eq(clfer_net_from_checkpoint(rt, path, &again, &meta), CLFER_OK, "%s", clfer_last_error());
  cr_assert_not_null(strstr(clfer_meta_get(&meta, "clfer.model"), "\"graph\":\"onnx\""));
  cr_assert_eq(clfer_net_node_count(again), clfer_net_node_count(net));
  float *in = read_floats(FIXTURES "/tiny.input.f32", 2 * 3 * 12 * 12);
  size_t n1, n2;
  float *a = run(rt, net, in, 2, &n1), *b = run(rt, again, in, 2, &n2);
  cr_assert_eq(n1, n2);
  for (size_t i = 0; i < n1; i++) cr_assert_eq(a[i], b[i], "output %zu: %g vs %g after the checkpoint", i, a[i], b[i]);
  /* the same description, text for text */
  char *g1 = clfer_net_graph_json(net), *g2 = clfer_net_graph_json(again);
  cr_assert_str_eq(g1, g2);
  free(g1), free(g2), free(a), free(b), free(in);
  clfer_meta_free(&meta);
  clfer_net_destroy(again);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}

/* A zoo checkpoint rebuilds by name, the graph description alone rebuilds it too. */
Test(onnx_import, zoo_checkpoint_and_graph_json_rebuild) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net, *from_ckpt, *from_json;
  cr_assert_eq(clfer_zoo_build(rt, "resnet18", 3, 32, 32, 7, &net), CLFER_OK);
  cr_assert_eq(clfer_net_init(net, CLFER_INIT_KAIMING_NORMAL, 5), CLFER_OK);
  char path[1100];
  snprintf(path, sizeof path, "%s/r18.safetensors", test_tmpdir("onnx-zoo"));
  /* a training checkpoint also carries optimizer state, which the rebuild skips */
  clfer_tensor_t extra;
  int shape[1] = {3};
  clfer_tensor_zeros(rt, 1, shape, &extra);
  clfer_named_tensor_t ex = {"optim.fc.weight.momentum", &extra};
  cr_assert_eq(clfer_net_save(net, path, NULL, &ex, 1), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_net_from_checkpoint(rt, path, &from_ckpt, NULL), CLFER_OK, "%s", clfer_last_error());
  cr_assert_str_eq(clfer_net_name(from_ckpt), "resnet18");
  char *json = clfer_net_graph_json(net);
  cr_assert_eq(clfer_net_from_graph_json(rt, "copy", json, &from_json), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_net_param_count(from_json), clfer_net_param_count(net));
  cr_assert_eq(clfer_net_output_node(from_json), clfer_net_output_node(net));
  cr_assert_eq(clfer_net_features_node(from_json), clfer_net_features_node(net));
  for (int i = 0; i < clfer_net_param_count(net); i++)
    cr_assert_str_eq(clfer_net_param(from_json, i)->name, clfer_net_param(net, i)->name);
  free(json);
  clfer_tensor_release(&extra);
  clfer_net_destroy(from_json);
  clfer_net_destroy(from_ckpt);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}

/* Fine-tuning: gray input with summed RGB filters gives what (g, g, g) gave; a new head. */
Test(onnx_import, adapt_to_gray_input_and_new_head) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net, *gray;
  cr_assert_eq(clfer_onnx_import(rt, FIXTURES "/tiny.onnx", NULL, &net), CLFER_OK, "%s", clfer_last_error());
  clfer_net_adapt_options_t o = {.channels = 1, .classes = 3, .init = CLFER_INIT_PYTORCH, .seed = 1};
  int fresh = -1;
  cr_assert_eq(clfer_net_adapt(net, &o, &gray, &fresh), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(fresh, 2, "fc.weight and fc.bias are new, %d were", fresh);
  cr_assert_eq(clfer_net_param_by_name(gray, "conv1.weight")->value.shape[1], 1);
  cr_assert_eq(clfer_net_param_by_name(gray, "fc.weight")->value.shape[0], 3);
  cr_assert_not_null(strstr(clfer_net_description(gray), "\"classes\":3"), "%s", clfer_net_description(gray));
  /* the features before the head agree */
  int cat = clfer_net_find(net, "Concat");
  cr_assert_geq(cat, 0);
  clfer_net_set_features(net, cat);
  clfer_net_set_features(gray, clfer_net_find(gray, "Concat"));
  enum { N = 2, P = 12 * 12 };
  float g[N * P], rgb[N * 3 * P];
  test_fill_uniform(g, N * P, 4, -1, 1);
  for (int n = 0; n < N; n++)
    for (int c = 0; c < 3; c++) memcpy(rgb + (n * 3 + c) * P, g + n * P, P * sizeof(float));
  int shape4[4] = {N, 3, 12, 12}, shape1[4] = {N, 1, 12, 12};
  clfer_tensor_t x3, x1;
  clfer_tensor_create(rt, 4, shape4, &x3), clfer_tensor_upload(&x3, rgb);
  clfer_tensor_create(rt, 4, shape1, &x1), clfer_tensor_upload(&x1, g);
  const clfer_tensor_t *y;
  cr_assert_eq(clfer_net_forward(net, &x3, 0, 0, &y), CLFER_OK);
  cr_assert_eq(clfer_net_forward(gray, &x1, 0, 0, &y), CLFER_OK, "%s", clfer_last_error());
  const clfer_tensor_t *fa = clfer_net_activation(net, cat), *fb = clfer_net_activation(gray, clfer_net_find(gray, "Concat"));
  cr_assert(fa && fb);
  size_t m = clfer_tensor_numel(fa);
  float *a = malloc(m * sizeof *a), *b = malloc(m * sizeof *b);
  clfer_tensor_download(fa, a), clfer_tensor_download(fb, b);
  TEST_ASSERT_CLOSE(b, a, m, 1e-5, 1e-4, "gray features vs RGB (g, g, g)");
  free(a), free(b);
  clfer_tensor_release(&x3), clfer_tensor_release(&x1);
  clfer_net_destroy(gray);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}

/* ---- import: errors ---- */

static void expect_error(const char *file, clfer_status want, const char *const *needles) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net = NULL;
  clfer_status st = clfer_onnx_import(rt, file, NULL, &net);
  cr_assert_neq(st, CLFER_OK, "%s imported", file);
  cr_assert_null(net);
  if (want) cr_assert_eq(st, want, "%s: %s (%s)", file, clfer_status_name(st), clfer_last_error());
  for (const char *const *n = needles; *n; n++)
    cr_assert_not_null(strstr(clfer_last_error(), *n), "'%s' not in: %s", *n, clfer_last_error());
  clfer_runtime_destroy(rt);
}

Test(onnx_errors, unsupported_op_attribute_and_type_name_the_node) {
  static const char *const op[] = {"bad_op.onnx", "Sin", "node 1", "unsupported operator", NULL},
                           *const at[] = {"bad_attr.onnx", "'c1' (Conv)", "dilations", NULL},
                           *const ty[] = {"bad_dtype.onnx", "'c1' (Conv)", "data type 11", NULL};
  expect_error(FIXTURES "/bad_op.onnx", CLFER_UNSUPPORTED, op);
  expect_error(FIXTURES "/bad_attr.onnx", CLFER_UNSUPPORTED, at);
  expect_error(FIXTURES "/bad_dtype.onnx", CLFER_UNSUPPORTED, ty);
}

Test(onnx_errors, truncated_and_garbage_files) {
  FILE *f = fopen(FIXTURES "/tiny.onnx", "rb");
  cr_assert_not_null(f);
  static unsigned char data[1 << 16];
  size_t size = fread(data, 1, sizeof data, f);
  fclose(f);
  cr_assert_gt(size, 1000);
  clfer_runtime_t *rt = test_runtime();
  /* every cut either fails cleanly or (when it only drops trailing fields) still names no garbage */
  int failures = 0;
  for (size_t cut = 0; cut < size; cut += 97) {
    clfer_net_t *net = NULL;
    clfer_status st = clfer_onnx_import_memory(rt, data, cut, "cut.onnx", NULL, &net);
    if (st) {
      failures++;
      cr_assert_not_null(strstr(clfer_last_error(), "cut.onnx"), "%s", clfer_last_error());
      cr_assert_null(net);
    }
    clfer_net_destroy(net);
  }
  cr_assert_geq(failures, (int)(size / 97) - 1, "only %d of the truncated files failed", failures);
  /* flipped bytes: no crash, and an error whenever it fails */
  for (size_t i = 0; i < size; i += 13) {
    unsigned char saved = data[i];
    data[i] ^= 0x5a;
    clfer_net_t *net = NULL;
    if (clfer_onnx_import_memory(rt, data, size, "flip.onnx", NULL, &net)) cr_assert_neq(clfer_last_error()[0], '\0');
    clfer_net_destroy(net);
    data[i] = saved;
  }
  static const char *const missing[] = {"no-such.onnx", NULL};
  expect_error(CLFER_TEST_TMP "/no-such.onnx", CLFER_IO_ERROR, missing);
  clfer_runtime_destroy(rt);
}

/* ---- export ---- */

/* A graph with every layer type clfer has. */
static clfer_net_t *every_layer_net(clfer_runtime_t *rt) {
  clfer_net_t *net;
  cr_assert_eq(clfer_net_create(rt, "every_layer", 4, 14, 14, &net), CLFER_OK);
  clfer_conv2d_params_t c3 = {3, 3, 1, 1, 1, 1, 2}, c1 = {1, 1, 2, 2, 0, 0, 1};
  clfer_pool2d_params_t mp = {3, 3, 2, 2, 0, 0, 1, 1}, ap = {3, 3, 2, 2, 1, 1, 0, 0}; /* ceil; count_include_pad 0 */
  clfer_lrn_params_t lrn = {5, 1e-3f, 0.75f, 2.0f};
  int x, a, b, cat[2], g;
  cr_assert_eq(clfer_net_conv2d(net, "conv1", 0, 8, &c3, 1, &x), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_net_batchnorm(net, "bn1", x, NULL, &x), CLFER_OK);
  cr_assert_eq(clfer_net_relu(net, "act1", x, 0.1f, &x), CLFER_OK);
  cr_assert_eq(clfer_net_lrn(net, "norm1", x, &lrn, &x), CLFER_OK);
  cr_assert_eq(clfer_net_maxpool(net, "pool1", x, &mp, &a), CLFER_OK);
  cr_assert_eq(clfer_net_avgpool(net, "pool2", x, &ap, &b), CLFER_OK);
  cr_assert_eq(clfer_net_conv2d(net, "down", x, 8, &c1, 0, &cat[1]), CLFER_OK);
  cr_assert_eq(clfer_net_add(net, "sum", a, b, &cat[0]), CLFER_OK);
  cr_assert_eq(clfer_net_concat(net, "cat", 2, cat, &x), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_net_relu(net, "act2", x, 0.0f, &x), CLFER_OK);
  cr_assert_eq(clfer_net_global_avgpool(net, "gap", x, &g), CLFER_OK);
  cr_assert_eq(clfer_net_dense(net, "fc1", x, 12, 1, &x), CLFER_OK); /* from [C, H, W] */
  cr_assert_eq(clfer_net_flatten(net, "flat", g, &g), CLFER_OK);
  cr_assert_eq(clfer_net_dense(net, "fcg", g, 12, 0, &g), CLFER_OK);
  cr_assert_eq(clfer_net_add(net, "sum2", x, g, &x), CLFER_OK);
  cr_assert_eq(clfer_net_batchnorm(net, "bn2", x, NULL, &x), CLFER_OK);
  cr_assert_eq(clfer_net_dropout(net, "drop", x, 0.4f, &x), CLFER_OK);
  cr_assert_eq(clfer_net_dense(net, "fc2", x, 5, 1, &x), CLFER_OK);
  cr_assert_eq(clfer_net_softmax(net, "prob", x, &x), CLFER_OK);
  cr_assert_eq(clfer_net_init(net, CLFER_INIT_PYTORCH, 9), CLFER_OK);
  /* non-trivial batch-norm statistics */
  const char *stats[4] = {"bn1.running_mean", "bn1.running_var", "bn2.running_mean", "bn2.running_var"};
  for (int i = 0; i < 4; i++) {
    clfer_net_param_t *p = clfer_net_param_by_name(net, stats[i]);
    size_t n = clfer_tensor_numel(&p->value);
    float *v = malloc(n * sizeof *v);
    test_fill_uniform(v, n, 100 + i, i % 2 ? 0.5f : -0.2f, i % 2 ? 1.5f : 0.2f);
    clfer_tensor_upload(&p->value, v);
    free(v);
  }
  return net;
}

static void export_round_trip(clfer_net_t *net, const char *name, int n) {
  clfer_runtime_t *rt = test_runtime();
  int s[3];
  clfer_net_input_shape(net, s);
  size_t numel = (size_t)n * s[0] * s[1] * s[2], count, count2;
  float *in = malloc(numel * sizeof *in);
  test_fill_uniform(in, numel, 77, -1, 1);
  float *want = run(rt, net, in, n, &count);
  const char *dir = test_tmpdir(name);
  char onnx[1100], inp[1100], out[1100], cmd[4000];
  snprintf(onnx, sizeof onnx, "%s/%s.onnx", dir, name);
  snprintf(inp, sizeof inp, "%s/input.f32", dir);
  snprintf(out, sizeof out, "%s/clfer.f32", dir);
  cr_assert_eq(clfer_onnx_export(net, onnx), CLFER_OK, "%s", clfer_last_error());
  /* back into clfer: the same network */
  clfer_onnx_import_options_t keep = {.keep_softmax = 1};
  clfer_net_t *again;
  cr_assert_eq(clfer_onnx_import(rt, onnx, &keep, &again), CLFER_OK, "%s", clfer_last_error());
  float *got = run(rt, again, in, n, &count2);
  cr_assert_eq(count, count2);
  TEST_ASSERT_CLOSE(got, want, count, 1e-6, 1e-5, "re-imported export");
  for (int i = 0; i < clfer_net_param_count(net); i++)
    cr_assert_not_null(clfer_net_param_by_name(again, clfer_net_param(net, i)->name), "%s lost",
                       clfer_net_param(net, i)->name);
  /* the file as ONNX tools see it */
  if (!have_python("onnx")) {
    cr_log_warn("python3-onnx is not installed: the ONNX checker and evaluation were skipped");
  } else {
    write_floats(inp, in, numel);
    write_floats(out, want, count);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/scripts/onnx_check.py %s %s %s %d %d %d %d 1e-4",
             CLFER_SOURCE_DIR, onnx, inp, out, n, s[0], s[1], s[2]);
    int rc = WEXITSTATUS(system(cmd));
    if (rc == 77)
      cr_log_warn("no ONNX evaluator (onnxruntime or torch): only onnx.checker ran");
    else
      cr_assert_eq(rc, 0, "the exported %s differs from clfer (see the output above)", name);
  }
  free(in), free(want), free(got);
  clfer_net_destroy(again);
  clfer_runtime_destroy(rt);
}

Test(onnx_export, every_layer_type_round_trips) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net = every_layer_net(rt);
  export_round_trip(net, "every_layer", 3);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}

Test(onnx_export, zoo_fer_small_round_trips) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net;
  cr_assert_eq(clfer_zoo_build(rt, "fer_small", 1, 48, 48, 8, &net), CLFER_OK);
  cr_assert_eq(clfer_net_init(net, CLFER_INIT_PYTORCH, 3), CLFER_OK);
  export_round_trip(net, "fer_small", 2);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}

/* ---- the commands ---- */

Test(onnx_cli, import_then_export) {
  const char *dir = test_tmpdir("onnx-cli");
  char cmd[4000], ckpt[1100], onnx[1100];
  snprintf(ckpt, sizeof ckpt, "%s/tiny.safetensors", dir);
  snprintf(onnx, sizeof onnx, "%s/tiny.onnx", dir);
  snprintf(cmd, sizeof cmd, "%s import %s/tiny.onnx --out %s >/dev/null", CLFER_CLI_PATH, FIXTURES, ckpt);
  cr_assert_eq(WEXITSTATUS(system(cmd)), 0, "%s", cmd);
  snprintf(cmd, sizeof cmd, "%s export %s --out %s >/dev/null", CLFER_CLI_PATH, ckpt, onnx);
  cr_assert_eq(WEXITSTATUS(system(cmd)), 0, "%s", cmd);
  struct stat sb;
  cr_assert_eq(stat(onnx, &sb), 0);
  cr_assert_gt(sb.st_size, 5000);
  /* an unsupported file: exit 1 and a message naming the op */
  snprintf(cmd, sizeof cmd, "%s import %s/bad_op.onnx --out %s/x.safetensors 2>%s/err.txt", CLFER_CLI_PATH, FIXTURES,
           dir, dir);
  cr_assert_eq(WEXITSTATUS(system(cmd)), 1);
  char err[1100], text[1000] = "";
  snprintf(err, sizeof err, "%s/err.txt", dir);
  FILE *f = fopen(err, "r");
  cr_assert_not_null(f);
  size_t got = fread(text, 1, sizeof text - 1, f);
  text[got] = '\0';
  fclose(f);
  cr_assert_not_null(strstr(text, "(Sin)"), "%s", text);
  /* fine-tuning form: gray input, 7 classes; the checkpoint rebuilds that network */
  snprintf(cmd, sizeof cmd, "%s import %s/tiny.onnx --out %s --gray --classes 7 >/dev/null", CLFER_CLI_PATH, FIXTURES,
           ckpt);
  cr_assert_eq(WEXITSTATUS(system(cmd)), 0, "%s", cmd);
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net;
  cr_assert_eq(clfer_net_from_checkpoint(rt, ckpt, &net, NULL), CLFER_OK, "%s", clfer_last_error());
  int in[3], nd, out[3];
  clfer_net_input_shape(net, in);
  clfer_net_node_shape(net, clfer_net_output_node(net), &nd, out);
  cr_assert(in[0] == 1 && nd == 1 && out[0] == 7, "input %d channels, %d outputs", in[0], out[0]);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}

/* ---- PyTorch parity on full-size models, generated at test time ---- */

static void torch_parity(const char *model, int size) {
  if (!have_python("torch")) cr_skip_test("python3-torch is not installed");
  const char *dir = test_tmpdir(model);
  char cmd[4000], onnx[1100], input[1100], logits[1100];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/scripts/make_onnx.py %s %s --batch 1 --size %d >/dev/null 2>&1",
           CLFER_SOURCE_DIR, model, dir, size);
  int rc = WEXITSTATUS(system(cmd));
  if (rc == 77) cr_skip_test("make_onnx.py: torch unavailable");
  cr_assert_eq(rc, 0, "%s failed", cmd);
  snprintf(onnx, sizeof onnx, "%s/%s.onnx", dir, model);
  snprintf(input, sizeof input, "%s/%s.input.f32", dir, model);
  snprintf(logits, sizeof logits, "%s/%s.logits.f32", dir, model);
  double err = import_and_compare(onnx, input, logits, 1, NULL);
  cr_log_info("%s: max |clfer - pytorch| / max |pytorch| = %.3g", model, err);
  cr_assert_leq(err, 1e-3, "%s: clfer's logits differ from PyTorch's by %g of their scale", model, err);
  remove(onnx); /* 45-240 MB */
}

/* AlexNet's adaptive pool exports only at 224 (6x6 features); ResNet runs at any size. */
Test(onnx_torch, alexnet_logits_match_pytorch, .timeout = 600) { torch_parity("alexnet", 224); }
Test(onnx_torch, resnet18_folded_bn_logits_match_pytorch, .timeout = 600) { torch_parity("resnet18", 112); }
Test(onnx_torch, resnet18_logits_match_pytorch, .timeout = 600) { torch_parity("resnet18_bn", 64); }
