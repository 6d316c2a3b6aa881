/* test_torch_parity.c — a clfer checkpoint of vgg13_ferplus loads into the equivalent PyTorch model
 * (tests/scripts/torch_models.py) with load_state_dict(strict=True) and gives clfer's logits
 * within 1e-4; training steps of a small network under each optimizer and loss match PyTorch's.
 * Skipped when Debian's python3-torch is not installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static void write_floats(const char *path, const float *x, size_t n) {
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "%s", path);
  cr_assert_eq(fwrite(x, sizeof *x, n, f), n);
  fclose(f);
}

Test(torch_parity, vgg13_ferplus_logits_match_pytorch, .timeout = 600) {
  if (system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) cr_skip_test("python3-torch is not installed");
  clfer_runtime_t *rt = test_runtime();
  enum { N = 2, C = 1, H = 64, W = 64, K = 8 };
  clfer_net_t *net;
  cr_assert_eq(clfer_zoo_build(rt, "vgg13_ferplus", C, H, W, K, &net), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_net_init(net, CLFER_INIT_GLOROT_UNIFORM, 42), CLFER_OK);
  /* non-zero biases so they are checked too */
  for (int i = 0; i < clfer_net_param_count(net); i++) {
    clfer_net_param_t *p = clfer_net_param(net, i);
    if (p->value.ndim == 1) clfer_tensor_fill(&p->value, 0.01f * (float)(i % 7));
  }
  clfer_tensor_t x;
  int shape[4] = {N, C, H, W};
  clfer_tensor_create(rt, 4, shape, &x);
  static float in[N * C * H * W], logits[N * K];
  test_fill_uniform(in, N * C * H * W, 3, -1, 1);
  clfer_tensor_upload(&x, in);
  const clfer_tensor_t *y;
  cr_assert_eq(clfer_net_forward(net, &x, 0, 0, &y), CLFER_OK, "%s", clfer_last_error());
  clfer_tensor_download(y, logits);
  const char *dir = test_tmpdir("torch-parity");
  char ckpt[1100], inp[1100], out[1100], cmd[4000];
  snprintf(ckpt, sizeof ckpt, "%s/vgg13.safetensors", dir);
  snprintf(inp, sizeof inp, "%s/input.f32", dir);
  snprintf(out, sizeof out, "%s/logits.f32", dir);
  cr_assert_eq(clfer_net_save(net, ckpt, NULL, NULL, 0), CLFER_OK, "%s", clfer_last_error());
  write_floats(inp, in, N * C * H * W);
  write_floats(out, logits, N * K);
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/scripts/torch_parity.py vgg13_ferplus %s %s %s %d %d %d %d %d",
           CLFER_SOURCE_DIR, ckpt, inp, out, N, C, H, W, K);
  int rc = system(cmd);
  cr_assert_eq(WEXITSTATUS(rc), 0, "PyTorch's logits differ from clfer's (see the output above)");
  clfer_tensor_release(&x);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}

/* ---- training steps against PyTorch ------------------------------------------------------------
 * A small network with every trainable layer kind (conv with stride, padding and groups, batch
 * norm in train mode, leaky ReLU, LRN, overlapping max pool in ceil mode, average pool without
 * the padding, a residual add, concat, dense) trains three steps under each optimizer and loss the
 * recipes use. tests/scripts/torch_train_parity.py rebuilds the net from the checkpoint's
 * clfer.graph in PyTorch (float64), takes the same steps with torch.optim, and compares every
 * loss, parameter, batch-norm buffer, LTNet transition and class centre. */

enum { BATCH = 8, CHANNELS = 3, SIZE = 16, CLASSES = 5, FEATURES = 12, STEPS = 3, CODERS = 2 };

#define ADD_LAYER(call) cr_assert_eq((call), CLFER_OK, "%s", clfer_last_error())

static clfer_net_t *build_parity_net(clfer_runtime_t *rt) {
  clfer_net_t *net;
  ADD_LAYER(clfer_net_create(rt, "torch_train_parity", CHANNELS, SIZE, SIZE, &net));
  int x = 0, c1, b1, r1, c2, r2, n2, p2, c3a, c3b, b3, a3, r3, cat, p4, f1, r4, f2;
  clfer_conv2d_params_t k3 = {3, 3, 1, 1, 1, 1, 1}, k3s2g2 = {3, 3, 2, 2, 1, 1, 2}, k1 = {1, 1, 1, 1, 0, 0, 1};
  clfer_batchnorm_params_t bn = {1e-5f, 0.1f};
  clfer_lrn_params_t lrn = {5, 0.05f, 0.75f, 2.0f};
  clfer_pool2d_params_t max3s2ceil = {3, 3, 2, 2, 0, 0, 1, 1}, avg3s2pad = {3, 3, 2, 2, 1, 1, 0, 0};
  ADD_LAYER(clfer_net_conv2d(net, "conv1", x, 8, &k3, 0, &c1)); /* no bias before a batch norm: its gradient is 0 */
  ADD_LAYER(clfer_net_batchnorm(net, "bn1", c1, &bn, &b1));
  ADD_LAYER(clfer_net_relu(net, "relu1", b1, 0, &r1));
  ADD_LAYER(clfer_net_conv2d(net, "conv2", r1, 8, &k3s2g2, 1, &c2)); /* 8x8 */
  ADD_LAYER(clfer_net_relu(net, "relu2", c2, 0.1f, &r2));
  ADD_LAYER(clfer_net_lrn(net, "lrn2", r2, &lrn, &n2));
  ADD_LAYER(clfer_net_maxpool(net, "pool2", n2, &max3s2ceil, &p2)); /* 4x4 (3x3 when floored) */
  ADD_LAYER(clfer_net_conv2d(net, "conv3a", p2, 8, &k1, 0, &c3a));
  ADD_LAYER(clfer_net_conv2d(net, "conv3b", p2, 8, &k3, 0, &c3b));
  ADD_LAYER(clfer_net_batchnorm(net, "bn3", c3b, &bn, &b3));
  ADD_LAYER(clfer_net_add(net, "add3", c3a, b3, &a3));
  ADD_LAYER(clfer_net_relu(net, "relu3", a3, 0, &r3));
  int both[2] = {r3, p2};
  ADD_LAYER(clfer_net_concat(net, "cat", 2, both, &cat));
  ADD_LAYER(clfer_net_avgpool(net, "pool4", cat, &avg3s2pad, &p4)); /* 16x2x2 */
  ADD_LAYER(clfer_net_dense(net, "fc1", p4, FEATURES, 1, &f1));
  ADD_LAYER(clfer_net_relu(net, "relu4", f1, 0, &r4));
  ADD_LAYER(clfer_net_dense(net, "fc2", r4, CLASSES, 1, &f2));
  cr_assert_eq(clfer_net_set_features(net, f1), CLFER_OK);
  cr_assert_eq(clfer_net_set_output(net, f2), CLFER_OK);
  int ndim, shape[3];
  clfer_net_node_shape(net, p2, &ndim, shape);
  cr_assert_eq(shape[1], 4, "the max pool should round up here");
  return net;
}

typedef struct parity_scenario {
  const char *name;
  clfer_optim_config_t optim;
  float lr;
  clfer_loss_term_t terms[2];
  int n_terms;
} parity_scenario_t;

/* The scenario as JSON for the PyTorch side: optimizer, learning rate, loss terms. */
static void describe_scenario(FILE *f, const parity_scenario_t *sc, int first) {
  const clfer_optim_config_t *o = &sc->optim;
  fprintf(f,
          "%s{\"name\": \"%s\", \"lr\": %.9g, \"optim\": {\"kind\": \"%s\", \"momentum\": %.17g, "
          "\"dampening\": %.17g, \"nesterov\": %d, \"weight_decay\": %.17g, \"beta1\": %.17g, \"beta2\": %.17g, "
          "\"eps\": %.17g, \"decoupled\": %d}, \"terms\": [",
          first ? "" : ", ", sc->name, (double)sc->lr, o->kind == CLFER_OPTIM_SGD ? "sgd" : "adam", o->momentum,
          o->dampening, o->nesterov, o->weight_decay, o->beta1, o->beta2, o->eps, o->decoupled_weight_decay);
  for (int i = 0; i < sc->n_terms; i++) {
    const clfer_loss_term_t *t = &sc->terms[i];
    fprintf(f,
            "%s{\"kind\": \"%s\", \"weight\": %.9g, \"k\": %d, \"center_alpha\": %.9g, \"ltnet_min\": %.9g, "
            "\"coder_weight\": [%.9g, %.9g]}",
            i ? ", " : "", clfer_loss_kind_name(t->kind), (double)(t->weight ? t->weight : 1.0f), t->lp.k,
            (double)t->center_alpha, (double)t->ltnet.min_value, (double)t->ltnet.coder_weight[0],
            (double)t->ltnet.coder_weight[1]);
  }
  fprintf(f, "]}");
}

static void upload_new(clfer_runtime_t *rt, clfer_tensor_t *t, int ndim, const int *shape, const float *host) {
  cr_assert_eq(clfer_tensor_create(rt, ndim, shape, t), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_tensor_upload(t, host), CLFER_OK, "%s", clfer_last_error());
}

Test(torch_parity, training_steps_match_pytorch, .timeout = 600) {
  if (system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) cr_skip_test("python3-torch is not installed");
  clfer_runtime_t *rt = test_runtime();
  const char *dir = test_tmpdir("torch-train-parity");
  char path[1200];

  /* the starting point: Glorot weights, non-zero biases, batch-norm affine and statistics away from 1 and 0 */
  clfer_net_t *net = build_parity_net(rt);
  cr_assert_eq(clfer_net_init(net, CLFER_INIT_GLOROT_UNIFORM, 7), CLFER_OK);
  for (int i = 0; i < clfer_net_param_count(net); i++) {
    clfer_net_param_t *p = clfer_net_param(net, i);
    size_t n = clfer_tensor_numel(&p->value);
    if (p->value.ndim != 1) continue;
    float *v = malloc(n * sizeof *v);
    int var = strstr(p->name, "running_var") != NULL, weight = strstr(p->name, ".weight") != NULL;
    test_fill_uniform(v, n, 100 + (uint64_t)i, var || weight ? 0.5f : -0.3f, var || weight ? 1.5f : 0.3f);
    clfer_tensor_upload(&p->value, v);
    free(v);
  }
  char start[1200];
  snprintf(start, sizeof start, "%s/start.safetensors", dir);
  cr_assert_eq(clfer_net_save(net, start, NULL, NULL, 0), CLFER_OK, "%s", clfer_last_error());

  /* one batch: inputs, soft targets, their argmax labels, multi-label targets, coder labels */
  static float in[BATCH * CHANNELS * SIZE * SIZE], targets[BATCH * CLASSES], labels[BATCH], ml[BATCH * CLASSES],
      coder[BATCH * CODERS];
  test_fill_uniform(in, sizeof in / sizeof *in, 11, -1, 1);
  for (int n = 0; n < BATCH; n++) {
    labels[n] = (float)(n % 3); /* classes 0, 1, 2 with 3, 3, 2 samples: LP's "fewer than k others" */
    float sum = 0;
    for (int k = 0; k < CLASSES; k++) {
      float v = k == (int)labels[n] ? 4.0f : (float)((n + 2 * k) % 3);
      targets[n * CLASSES + k] = v, sum += v;
    }
    for (int k = 0; k < CLASSES; k++) {
      targets[n * CLASSES + k] /= sum;
      ml[n * CLASSES + k] = targets[n * CLASSES + k] > 0 ? 1.0f : 0.001f; /* (1 - eps)·1[p > 0] + eps */
    }
    coder[n * CODERS + 0] = labels[n];
    coder[n * CODERS + 1] = n % 4 == 3 ? -1.0f : (float)((n + 1) % CLASSES);
  }
  const struct {
    const char *name;
    const float *data;
    size_t n;
  } arrays[] = {{"input", in, sizeof in / sizeof *in},     {"targets", targets, BATCH * CLASSES},
                {"labels", labels, BATCH},                 {"multilabel", ml, BATCH * CLASSES},
                {"coder_labels", coder, BATCH * CODERS}};
  for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++) {
    snprintf(path, sizeof path, "%s/%s.f32", dir, arrays[i].name);
    write_floats(path, arrays[i].data, arrays[i].n);
  }
  clfer_tensor_t x, t_targets, t_labels, t_ml, t_coder, centres, transitions, dtransitions, value;
  upload_new(rt, &x, 4, (int[]){BATCH, CHANNELS, SIZE, SIZE}, in);
  upload_new(rt, &t_targets, 2, (int[]){BATCH, CLASSES}, targets);
  upload_new(rt, &t_labels, 1, (int[]){BATCH}, labels);
  upload_new(rt, &t_ml, 2, (int[]){BATCH, CLASSES}, ml);
  upload_new(rt, &t_coder, 2, (int[]){BATCH, CODERS}, coder);
  cr_assert_eq(clfer_tensor_zeros(rt, 1, (int[]){1}, &value), CLFER_OK);

  clfer_optim_config_t sgd = clfer_optim_defaults(CLFER_OPTIM_SGD), adam = clfer_optim_defaults(CLFER_OPTIM_ADAM);
  clfer_optim_config_t unit_gain = sgd, nesterov = sgd, adam_wd = adam, adamw = adam, momentum = sgd;
  unit_gain.momentum = 0.9, unit_gain.dampening = 0.9, unit_gain.weight_decay = 5e-4;
  nesterov.momentum = 0.9, nesterov.nesterov = 1, nesterov.weight_decay = 1e-3;
  adam_wd.weight_decay = 1e-4;
  adamw.decoupled_weight_decay = 1, adamw.weight_decay = 0.01;
  momentum.momentum = 0.9;
  clfer_loss_term_t xent = {.kind = CLFER_LOSS_XENT}, multilabel = {.kind = CLFER_LOSS_MULTILABEL},
                    lp = {.kind = CLFER_LOSS_LOCALITY, .weight = 0.1f, .lp = {.k = 2}},
                    center = {.kind = CLFER_LOSS_CENTER, .weight = 0.05f, .center_alpha = 0.5f, .centres = &centres},
                    ltnet = {.kind = CLFER_LOSS_LTNET, .ltnet = {.coders = CODERS, .coder_weight = {1.0f, 0.5f},
                                                                 .min_value = 1e-5f},
                             .transitions = &transitions, .dtransitions = &dtransitions};
  const parity_scenario_t scenarios[] = {
      {"sgd_unit_gain_xent", unit_gain, 0.05f, {xent}, 1},
      {"sgd_nesterov_xent", nesterov, 0.02f, {xent}, 1},
      {"adam_xent_locality", adam_wd, 3e-3f, {xent, lp}, 2},
      {"adamw_multilabel", adamw, 3e-3f, {multilabel}, 1},
      {"sgd_xent_center", momentum, 0.05f, {xent, center}, 2},
      {"sgd_ltnet", momentum, 0.05f, {ltnet}, 1},
  };
  /* centres and transitions restart from these values in every scenario */
  static float c0[CLASSES * FEATURES], t0[CODERS * CLASSES * CLASSES];
  test_fill_uniform(c0, CLASSES * FEATURES, 31, -0.5f, 0.5f);
  upload_new(rt, &transitions, 3, (int[]){CODERS, CLASSES, CLASSES}, t0);
  cr_assert_eq(clfer_ltnet_init(rt, &ltnet.ltnet, 0, 5, &transitions), CLFER_OK, "%s", clfer_last_error());
  clfer_tensor_download(&transitions, t0);
  snprintf(path, sizeof path, "%s/start_transitions.f32", dir);
  write_floats(path, t0, sizeof t0 / sizeof *t0);
  snprintf(path, sizeof path, "%s/start_centres.f32", dir);
  write_floats(path, c0, sizeof c0 / sizeof *c0);
  upload_new(rt, &centres, 2, (int[]){CLASSES, FEATURES}, c0);
  cr_assert_eq(clfer_tensor_zeros(rt, 3, (int[]){CODERS, CLASSES, CLASSES}, &dtransitions), CLFER_OK);
  clfer_tensor_t dlogits, dfeatures;
  cr_assert_eq(clfer_tensor_create(rt, 2, (int[]){BATCH, CLASSES}, &dlogits), CLFER_OK);
  cr_assert_eq(clfer_tensor_create(rt, 2, (int[]){BATCH, FEATURES}, &dfeatures), CLFER_OK);
  int n_scenarios = (int)(sizeof scenarios / sizeof *scenarios);
  snprintf(path, sizeof path, "%s/scenarios.json", dir);
  FILE *manifest = fopen(path, "w");
  cr_assert_not_null(manifest, "%s", path);
  fprintf(manifest, "{\"n\": %d, \"classes\": %d, \"coders\": %d, \"scenarios\": [", BATCH, CLASSES, CODERS);
  for (int s = 0; s < n_scenarios; s++) describe_scenario(manifest, &scenarios[s], s == 0);
  fprintf(manifest, "]}\n");
  fclose(manifest);
  for (int s = 0; s < n_scenarios; s++) {
    const parity_scenario_t *sc = &scenarios[s];
    cr_assert_eq(clfer_net_load(net, start, NULL, NULL, 0, 0), CLFER_OK, "%s", clfer_last_error());
    clfer_tensor_upload(&centres, c0);
    clfer_tensor_upload(&transitions, t0);

    clfer_optim_param_t params[64];
    int n_params = 0;
    for (int i = 0; i < clfer_net_param_count(net); i++) {
      clfer_net_param_t *p = clfer_net_param(net, i);
      if (!p->is_buffer) params[n_params++] = (clfer_optim_param_t){p->name, &p->value, &p->grad, 1.0f, 0};
    }
    if (sc->terms[0].kind == CLFER_LOSS_LTNET)
      params[n_params++] = (clfer_optim_param_t){"ltnet.transitions", &transitions, &dtransitions, 1.0f, 0};
    clfer_optim_t *opt;
    cr_assert_eq(clfer_optim_create(rt, &sc->optim, params, n_params, &opt), CLFER_OK, "%s", clfer_last_error());
    float losses[STEPS];
    for (int step = 0; step < STEPS; step++) {
      const clfer_tensor_t *logits;
      cr_assert_eq(clfer_net_forward(net, &x, 1, (uint64_t)step, &logits), CLFER_OK, "%s", clfer_last_error());
      const clfer_tensor_t *features = clfer_net_activation(net, clfer_net_features_node(net));
      clfer_loss_inputs_t li = {logits, features, sc->terms[0].kind == CLFER_LOSS_MULTILABEL ? &t_ml : &t_targets,
                                &t_labels, &t_coder};
      cr_assert_eq(clfer_objective(rt, sc->terms, sc->n_terms, &li, &dlogits, &dfeatures, &value, 1), CLFER_OK,
                   "%s: %s", sc->name, clfer_last_error());
      cr_assert_eq(clfer_net_backward(net, &dlogits, &dfeatures), CLFER_OK, "%s", clfer_last_error());
      cr_assert_eq(clfer_optim_step(opt, sc->lr), CLFER_OK, "%s", clfer_last_error());
      clfer_tensor_download(&value, &losses[step]);
    }
    snprintf(path, sizeof path, "%s/%s.losses.f32", dir, sc->name);
    write_floats(path, losses, STEPS);
    clfer_named_tensor_t extra[] = {{"ltnet.transitions", &transitions}, {"center.centres", &centres}};
    snprintf(path, sizeof path, "%s/%s.safetensors", dir, sc->name);
    cr_assert_eq(clfer_net_save(net, path, NULL, extra, 2), CLFER_OK, "%s", clfer_last_error());
    clfer_optim_destroy(opt);
  }
  char cmd[4000];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/scripts/torch_train_parity.py %s %d", CLFER_SOURCE_DIR, dir,
           STEPS);
  int rc = system(cmd);
  cr_assert_eq(WEXITSTATUS(rc), 0, "PyTorch's training steps differ from clfer's (see the output above)");
  clfer_tensor_t *all[] = {&x,       &t_targets,   &t_labels,     &t_ml,    &t_coder,  &value,
                           &centres, &transitions, &dtransitions, &dlogits, &dfeatures};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++) clfer_tensor_release(all[i]);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}
