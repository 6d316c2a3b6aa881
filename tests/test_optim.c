/* test_optim.c — SGD (momentum, dampening, Nesterov, weight decay) and Adam/AdamW over several
 * steps against a double reference of PyTorch's rules; frozen parameters, learning-rate
 * multipliers, name patterns, the gradient hook, state export and restore, schedules at their
 * edges (the FER+ epochs 19/20/40), bad input, and a tiny end-to-end fit of a linear model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ref_loss.h"
#include "test_util.h"

enum { NP = 3 };
static const int param_len[NP] = {37, 5, 300};
static const char *const param_name[NP] = {"features.0.weight", "features.0.bias", "classifier.weight"};

/* Three parameters with their gradients, on the device and as double host copies. */
typedef struct fixture {
  clfer_runtime_t *rt;
  clfer_tensor_t value[NP], grad[NP];
  double *p[NP], *state[NP][2];
  clfer_optim_param_t params[NP];
} fixture_t;

static void fx_init(fixture_t *f) {
  memset(f, 0, sizeof *f);
  f->rt = test_runtime();
  for (int i = 0; i < NP; i++) {
    int shape[1] = {param_len[i]};
    float *x = malloc((size_t)param_len[i] * sizeof *x);
    test_fill_uniform(x, (size_t)param_len[i], 100 + i, -1.0f, 1.0f);
    cr_assert_eq(clfer_tensor_create(f->rt, 1, shape, &f->value[i]), CLFER_OK);
    cr_assert_eq(clfer_tensor_create(f->rt, 1, shape, &f->grad[i]), CLFER_OK);
    cr_assert_eq(clfer_tensor_upload(&f->value[i], x), CLFER_OK);
    f->p[i] = malloc((size_t)param_len[i] * sizeof(double));
    for (int j = 0; j < param_len[i]; j++) f->p[i][j] = x[j];
    f->state[i][0] = calloc((size_t)param_len[i], sizeof(double));
    f->state[i][1] = calloc((size_t)param_len[i], sizeof(double));
    f->params[i] = (clfer_optim_param_t){.name = param_name[i], .value = &f->value[i], .grad = &f->grad[i]};
    free(x);
  }
}

static void fx_free(fixture_t *f) {
  for (int i = 0; i < NP; i++) {
    clfer_tensor_release(&f->value[i]);
    clfer_tensor_release(&f->grad[i]);
    free(f->p[i]), free(f->state[i][0]), free(f->state[i][1]);
  }
  clfer_runtime_destroy(f->rt);
}

/* New random gradients for step s; returns them as doubles (caller frees). */
static double *fx_new_grad(fixture_t *f, int i, int s) {
  float *g = malloc((size_t)param_len[i] * sizeof *g);
  double *d = malloc((size_t)param_len[i] * sizeof *d);
  test_fill_uniform(g, (size_t)param_len[i], 1000 * s + i, -2.0f, 2.0f);
  cr_assert_eq(clfer_tensor_upload(&f->grad[i], g), CLFER_OK);
  for (int j = 0; j < param_len[i]; j++) d[j] = g[j];
  free(g);
  return d;
}

static void fx_assert_params(fixture_t *f, double rtol, const char *what) {
  for (int i = 0; i < NP; i++) {
    float *got = malloc((size_t)param_len[i] * sizeof *got), *want = malloc((size_t)param_len[i] * sizeof *want);
    cr_assert_eq(clfer_tensor_download(&f->value[i], got), CLFER_OK);
    for (int j = 0; j < param_len[i]; j++) want[j] = (float)f->p[i][j];
    char name[160];
    snprintf(name, sizeof name, "%s: %s", what, param_name[i]);
    TEST_ASSERT_CLOSE(got, want, (size_t)param_len[i], 1e-6, rtol, name);
    free(got), free(want);
  }
}

/* Runs `steps` SGD steps on the device and the reference; lr_mult/frozen as set in f->params. */
static void run_sgd(const clfer_optim_config_t *cfg, int steps, const char *what) {
  fixture_t f;
  fx_init(&f);
  f.params[1].lr_mult = 3.0f;
  f.params[2].frozen = 1;
  clfer_optim_t *opt;
  cr_assert_eq(clfer_optim_create(f.rt, cfg, f.params, NP, &opt), CLFER_OK, "%s", clfer_last_error());
  const double lr = 0.05;
  for (int s = 1; s <= steps; s++) {
    for (int i = 0; i < NP; i++) {
      double *g = fx_new_grad(&f, i, s);
      if (!f.params[i].frozen)
        ref_sgd_step(f.p[i], g, f.state[i][0], (size_t)param_len[i], lr * (i == 1 ? 3.0 : 1.0), cfg->momentum,
                     cfg->dampening, cfg->weight_decay, cfg->nesterov, s == 1);
      free(g);
    }
    cr_assert_eq(clfer_optim_step(opt, (float)lr), CLFER_OK, "%s", clfer_last_error());
  }
  fx_assert_params(&f, 1e-5, what);
  int64_t n;
  cr_assert_eq(clfer_optim_get_steps(opt, "features.0.bias", &n), CLFER_OK);
  cr_assert_eq(n, steps);
  cr_assert_eq(clfer_optim_get_steps(opt, "classifier.weight", &n), CLFER_OK);
  cr_assert_eq(n, 0, "a frozen parameter's step count advanced");
  clfer_optim_destroy(opt);
  fx_free(&f);
}

Test(optim, sgd_plain) {
  clfer_optim_config_t c = clfer_optim_defaults(CLFER_OPTIM_SGD);
  run_sgd(&c, 3, "SGD");
}

Test(optim, sgd_ferplus_unit_gain_momentum) {
  clfer_optim_config_t c = {.kind = CLFER_OPTIM_SGD, .momentum = 0.9, .dampening = 0.9};
  run_sgd(&c, 5, "SGD momentum 0.9 dampening 0.9");
}

Test(optim, sgd_momentum_weight_decay) {
  clfer_optim_config_t c = {.kind = CLFER_OPTIM_SGD, .momentum = 0.9, .weight_decay = 5e-4};
  run_sgd(&c, 4, "SGD momentum + weight decay");
}

Test(optim, sgd_nesterov) {
  clfer_optim_config_t c = {.kind = CLFER_OPTIM_SGD, .momentum = 0.8, .nesterov = 1, .weight_decay = 1e-2};
  run_sgd(&c, 4, "SGD Nesterov");
}

static void run_adam(int decoupled) {
  fixture_t f;
  fx_init(&f);
  clfer_optim_config_t c = clfer_optim_defaults(CLFER_OPTIM_ADAM);
  c.weight_decay = 0.01;
  c.decoupled_weight_decay = decoupled;
  f.params[0].lr_mult = 0.5f;
  clfer_optim_t *opt;
  cr_assert_eq(clfer_optim_create(f.rt, &c, f.params, NP, &opt), CLFER_OK, "%s", clfer_last_error());
  const double lr = 1e-3;
  for (int s = 1; s <= 6; s++) {
    for (int i = 0; i < NP; i++) {
      double *g = fx_new_grad(&f, i, s);
      ref_adam_step(f.p[i], g, f.state[i][0], f.state[i][1], (size_t)param_len[i], lr * (i == 0 ? 0.5 : 1.0), 0.9,
                    0.999, 1e-8, 0.01, decoupled, s);
      free(g);
    }
    cr_assert_eq(clfer_optim_step(opt, (float)lr), CLFER_OK, "%s", clfer_last_error());
  }
  fx_assert_params(&f, 1e-5, decoupled ? "AdamW" : "Adam");
  /* the exported moments match the reference's */
  clfer_tensor_t *m;
  cr_assert_eq(clfer_optim_state_find(opt, "classifier.weight.exp_avg_sq", &m), CLFER_OK, "%s", clfer_last_error());
  float got[300], want[300];
  cr_assert_eq(clfer_tensor_download(m, got), CLFER_OK);
  for (int j = 0; j < 300; j++) want[j] = (float)f.state[2][1][j];
  TEST_ASSERT_CLOSE(got, want, 300, 1e-9, 1e-5, "exp_avg_sq");
  clfer_optim_destroy(opt);
  fx_free(&f);
}

Test(optim, adam) { run_adam(0); }
Test(optim, adamw) { run_adam(1); }

Test(optim, name_patterns) {
  cr_assert(clfer_name_matches("features.0", "features.0.weight"));
  cr_assert(clfer_name_matches("features.0", "features.0.bias"));
  cr_assert(clfer_name_matches("features.0", "features.0"));
  cr_assert(!clfer_name_matches("features.0", "features.01.weight"));
  cr_assert(clfer_name_matches("features.", "features.12.bias"));
  cr_assert(clfer_name_matches("*.bias", "classifier.6.bias"));
  cr_assert(!clfer_name_matches("*.bias", "classifier.6.weight"));
  cr_assert(clfer_name_matches("features.[0-3].*", "features.2.weight"));
  cr_assert(!clfer_name_matches("", "features.2.weight"));
}

Test(optim, freeze_by_prefix_and_lr_mult_by_glob) {
  fixture_t f;
  fx_init(&f);
  clfer_optim_config_t c = {.kind = CLFER_OPTIM_SGD, .momentum = 0.9};
  clfer_optim_t *opt;
  cr_assert_eq(clfer_optim_create(f.rt, &c, f.params, NP, &opt), CLFER_OK);
  int matched;
  cr_assert_eq(clfer_optim_set_frozen(opt, "features.0", 1, &matched), CLFER_OK);
  cr_assert_eq(matched, 2);
  cr_assert_eq(clfer_optim_set_lr_mult(opt, "classifier.*", 10.0f, &matched), CLFER_OK);
  cr_assert_eq(matched, 1);
  cr_assert_eq(clfer_optim_set_frozen(opt, "nothing.here", 1, &matched), CLFER_NOT_FOUND);
  cr_assert(strstr(clfer_last_error(), "nothing.here"), "%s", clfer_last_error());
  float before0[37], before1[5], after0[37], after1[5];
  clfer_tensor_download(&f.value[0], before0), clfer_tensor_download(&f.value[1], before1);
  for (int s = 1; s <= 2; s++) {
    for (int i = 0; i < NP; i++) {
      double *g = fx_new_grad(&f, i, s);
      if (i == 2) ref_sgd_step(f.p[2], g, f.state[2][0], 300, 0.1 * 10, 0.9, 0, 0, 0, s == 1);
      free(g);
    }
    cr_assert_eq(clfer_optim_step(opt, 0.1f), CLFER_OK, "%s", clfer_last_error());
  }
  clfer_tensor_download(&f.value[0], after0), clfer_tensor_download(&f.value[1], after1);
  cr_assert_eq(memcmp(before0, after0, sizeof before0), 0, "a frozen weight changed");
  cr_assert_eq(memcmp(before1, after1, sizeof before1), 0, "a frozen bias changed");
  float got[300], want[300];
  clfer_tensor_download(&f.value[2], got);
  for (int j = 0; j < 300; j++) want[j] = (float)f.p[2][j];
  TEST_ASSERT_CLOSE(got, want, 300, 1e-6, 1e-5, "lr_mult 10 parameter");
  /* unfreezing: the first update starts the momentum buffer */
  cr_assert_eq(clfer_optim_set_frozen(opt, "features.0.bias", 0, NULL), CLFER_OK);
  cr_assert(!clfer_optim_param_at(opt, 1)->frozen && clfer_optim_param_at(opt, 0)->frozen);
  clfer_optim_destroy(opt);
  fx_free(&f);
}

/* The hook replaces every gradient by a constant, which the update must then use. */
typedef struct hook_log {
  int calls, n_params, frozen_seen, fail;
} hook_log_t;

static clfer_status hook(void *user, const clfer_optim_param_t *params, int n) {
  hook_log_t *log = user;
  log->calls++;
  log->n_params = n;
  if (log->fail) return clfer_set_error(CLFER_INTERNAL, "all-reduce failed");
  for (int i = 0; i < n; i++) {
    log->frozen_seen += params[i].frozen;
    clfer_status st = clfer_tensor_fill(params[i].grad, 2.0f);
    if (st) return st;
  }
  return CLFER_OK;
}

Test(optim, gradient_hook_runs_before_update) {
  fixture_t f;
  fx_init(&f);
  f.params[2].frozen = 1;
  clfer_optim_config_t c = clfer_optim_defaults(CLFER_OPTIM_SGD);
  clfer_optim_t *opt;
  cr_assert_eq(clfer_optim_create(f.rt, &c, f.params, NP, &opt), CLFER_OK);
  hook_log_t log = {0};
  clfer_optim_set_grad_hook(opt, hook, &log);
  for (int i = 0; i < NP; i++) free(fx_new_grad(&f, i, 1));
  cr_assert_eq(clfer_optim_step(opt, 0.25f), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(log.calls, 1);
  cr_assert_eq(log.n_params, NP);
  cr_assert_eq(log.frozen_seen, 1, "the hook must see frozen parameters flagged");
  for (int j = 0; j < 37; j++) f.p[0][j] -= 0.25 * 2.0;
  for (int j = 0; j < 5; j++) f.p[1][j] -= 0.25 * 2.0;
  fx_assert_params(&f, 1e-6, "update after the hook");
  /* a failing hook aborts the step before any update */
  log.fail = 1;
  cr_assert_eq(clfer_optim_step(opt, 0.25f), CLFER_INTERNAL);
  cr_assert(strstr(clfer_last_error(), "gradient hook") && strstr(clfer_last_error(), "all-reduce failed"), "%s",
            clfer_last_error());
  fx_assert_params(&f, 1e-6, "after a failed hook");
  clfer_optim_destroy(opt);
  fx_free(&f);
}

Test(optim, state_export_and_restore) {
  fixture_t f;
  fx_init(&f);
  clfer_optim_config_t c = clfer_optim_defaults(CLFER_OPTIM_ADAM);
  clfer_optim_t *a, *b;
  cr_assert_eq(clfer_optim_create(f.rt, &c, f.params, NP, &a), CLFER_OK);
  cr_assert_eq(clfer_optim_state_count(a), 2 * NP);
  const char *name;
  clfer_tensor_t *t;
  cr_assert_eq(clfer_optim_state_at(a, 0, &name, &t), CLFER_OK);
  cr_assert_str_eq(name, "features.0.weight.exp_avg");
  cr_assert_eq(clfer_optim_state_at(a, 5, &name, &t), CLFER_OK);
  cr_assert_str_eq(name, "classifier.weight.exp_avg_sq");
  cr_assert_eq(clfer_optim_state_at(a, 6, &name, &t), CLFER_INVALID_ARGUMENT);
  cr_assert_eq(clfer_optim_state_find(a, "classifier.weight.momentum_buffer", &t), CLFER_NOT_FOUND);
  for (int s = 1; s <= 3; s++) {
    for (int i = 0; i < NP; i++) free(fx_new_grad(&f, i, s));
    cr_assert_eq(clfer_optim_step(a, 0.01f), CLFER_OK);
  }
  /* a second optimizer on copies of the parameters, loaded from the first one's state */
  clfer_tensor_t vcopy[NP];
  clfer_optim_param_t pcopy[NP];
  for (int i = 0; i < NP; i++) {
    int shape[1] = {param_len[i]};
    cr_assert_eq(clfer_tensor_create(f.rt, 1, shape, &vcopy[i]), CLFER_OK);
    cr_assert_eq(clfer_tensor_copy(&vcopy[i], &f.value[i]), CLFER_OK);
    pcopy[i] = f.params[i];
    pcopy[i].value = &vcopy[i];
  }
  cr_assert_eq(clfer_optim_create(f.rt, &c, pcopy, NP, &b), CLFER_OK);
  for (int i = 0; i < clfer_optim_state_count(a); i++) {
    clfer_tensor_t *src, *dst;
    cr_assert_eq(clfer_optim_state_at(a, i, &name, &src), CLFER_OK);
    cr_assert_eq(clfer_optim_state_find(b, name, &dst), CLFER_OK, "%s", clfer_last_error());
    cr_assert_eq(clfer_tensor_copy(dst, src), CLFER_OK);
  }
  for (int i = 0; i < NP; i++) {
    int64_t n;
    cr_assert_eq(clfer_optim_get_steps(a, param_name[i], &n), CLFER_OK);
    cr_assert_eq(n, 3);
    cr_assert_eq(clfer_optim_set_steps(b, param_name[i], n), CLFER_OK);
  }
  for (int i = 0; i < NP; i++) free(fx_new_grad(&f, i, 4));
  cr_assert_eq(clfer_optim_step(a, 0.01f), CLFER_OK);
  cr_assert_eq(clfer_optim_step(b, 0.01f), CLFER_OK);
  for (int i = 0; i < NP; i++) {
    float x[300], y[300];
    clfer_tensor_download(&f.value[i], x), clfer_tensor_download(&vcopy[i], y);
    cr_assert_eq(memcmp(x, y, (size_t)param_len[i] * sizeof *x), 0, "restored optimizer diverged on %s", param_name[i]);
    clfer_tensor_release(&vcopy[i]);
  }
  cr_assert_eq(clfer_optim_set_steps(b, "missing", 1), CLFER_NOT_FOUND);
  clfer_optim_destroy(a);
  clfer_optim_destroy(b);
  fx_free(&f);
}

Test(optim, bad_configuration) {
  fixture_t f;
  fx_init(&f);
  clfer_optim_t *opt = (clfer_optim_t *)1;
  clfer_optim_config_t c = {.kind = CLFER_OPTIM_SGD, .momentum = 0.9, .dampening = 0.1, .nesterov = 1};
  cr_assert_eq(clfer_optim_create(f.rt, &c, f.params, NP, &opt), CLFER_INVALID_ARGUMENT);
  cr_assert_null(opt);
  cr_assert(strstr(clfer_last_error(), "Nesterov"), "%s", clfer_last_error());
  c = (clfer_optim_config_t){.kind = CLFER_OPTIM_SGD, .momentum = 1.5};
  cr_assert_eq(clfer_optim_create(f.rt, &c, f.params, NP, &opt), CLFER_INVALID_ARGUMENT);
  c = clfer_optim_defaults(CLFER_OPTIM_SGD);
  clfer_optim_param_t dup[2] = {f.params[0], f.params[0]};
  cr_assert_eq(clfer_optim_create(f.rt, &c, dup, 2, &opt), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "twice"), "%s", clfer_last_error());
  clfer_optim_param_t mismatch = f.params[0];
  mismatch.grad = &f.grad[1];
  cr_assert_eq(clfer_optim_create(f.rt, &c, &mismatch, 1, &opt), CLFER_SHAPE_MISMATCH);
  cr_assert(strstr(clfer_last_error(), "features.0.weight"), "%s", clfer_last_error());
  clfer_optim_param_t nograd = f.params[0];
  nograd.grad = NULL;
  cr_assert_eq(clfer_optim_create(f.rt, &c, &nograd, 1, &opt), CLFER_INVALID_ARGUMENT);
  nograd.frozen = 1;
  cr_assert_eq(clfer_optim_create(f.rt, &c, &nograd, 1, &opt), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_optim_set_frozen(opt, "features", 0, NULL), CLFER_INVALID_ARGUMENT);
  cr_assert_eq(clfer_optim_step(opt, NAN), CLFER_INVALID_ARGUMENT);
  clfer_optim_destroy(opt);
  fx_free(&f);
}

/* ---- schedules ---- */

Test(schedule, ferplus_edges) {
  clfer_schedule_t s;
  cr_assert_eq(clfer_schedule_parse("piecewise:0.05,20,0.025,40,0.005", 1.0f, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_float_eq(clfer_schedule_lr(&s, 0), 0.05f, 1e-9);
  cr_assert_float_eq(clfer_schedule_lr(&s, 19), 0.05f, 1e-9);
  cr_assert_float_eq(clfer_schedule_lr(&s, 19.999), 0.05f, 1e-9);
  cr_assert_float_eq(clfer_schedule_lr(&s, 20), 0.025f, 1e-9);
  cr_assert_float_eq(clfer_schedule_lr(&s, 39), 0.025f, 1e-9);
  cr_assert_float_eq(clfer_schedule_lr(&s, 40), 0.005f, 1e-9);
  cr_assert_float_eq(clfer_schedule_lr(&s, 99), 0.005f, 1e-9);
  cr_assert_float_eq(s.base_lr, 0.05f, 1e-9);
}

Test(schedule, step_and_multistep) {
  /* Ng et al.: lr 0.001, ×0.1 every 10 epochs */
  clfer_schedule_t s = {.kind = CLFER_SCHED_STEP, .base_lr = 0.001f, .step_size = 10, .gamma = 0.1f};
  cr_assert_eq(clfer_schedule_validate(&s), CLFER_OK);
  cr_assert_float_eq(clfer_schedule_lr(&s, 9), 0.001f, 1e-10);
  cr_assert_float_eq(clfer_schedule_lr(&s, 10), 0.0001f, 1e-10);
  cr_assert_float_eq(clfer_schedule_lr(&s, 25), 0.00001f, 1e-11);
  cr_assert_eq(clfer_schedule_parse("multistep:5,8:0.5", 0.2f, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_float_eq(clfer_schedule_lr(&s, 4.9), 0.2f, 1e-9);
  cr_assert_float_eq(clfer_schedule_lr(&s, 5), 0.1f, 1e-9);
  cr_assert_float_eq(clfer_schedule_lr(&s, 8), 0.05f, 1e-9);
  cr_assert_eq(clfer_schedule_parse("constant", 0.3f, &s), CLFER_OK);
  cr_assert_float_eq(clfer_schedule_lr(&s, 1e6), 0.3f, 1e-9);
}

Test(schedule, poly_and_cosine) {
  clfer_schedule_t s;
  cr_assert_eq(clfer_schedule_parse("poly:100:2", 0.01f, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_float_eq(clfer_schedule_lr(&s, 0), 0.01f, 1e-9);
  cr_assert_float_eq(clfer_schedule_lr(&s, 50), 0.0025f, 1e-9);
  cr_assert_float_eq(clfer_schedule_lr(&s, 100), 0.0f, 1e-12);
  cr_assert_float_eq(clfer_schedule_lr(&s, 150), 0.0f, 1e-12);
  cr_assert_eq(clfer_schedule_parse("cosine:10:0.001", 0.1f, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_float_eq(clfer_schedule_lr(&s, 0), 0.1f, 1e-7);
  cr_assert_float_eq(clfer_schedule_lr(&s, 5), 0.0505f, 1e-7);
  cr_assert_float_eq(clfer_schedule_lr(&s, 10), 0.001f, 1e-9);
  cr_assert_float_eq(clfer_schedule_lr(&s, 2.5), 0.001 + 0.099 * 0.5 * (1 + cos(M_PI / 4)), 1e-7);
}

Test(schedule, bad_text) {
  clfer_schedule_t s;
  const char *bad[] = {
      "",         "steps:10:0.1",    "step:10",    "step:1.5:0.1", "multistep:20,10:0.1", "piecewise:0.1,5",
      "poly:0:1", "cosine:10:0.5:1", "cosine:abc", "step:10:0.1:", "step:10:-1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    clfer_status st = clfer_schedule_parse(bad[i], 0.1f, &s);
    cr_assert(st == CLFER_PARSE_ERROR || st == CLFER_INVALID_ARGUMENT, "'%s' was accepted", bad[i]);
    cr_assert(strstr(clfer_last_error(), "schedule"), "message for '%s': %s", bad[i], clfer_last_error());
  }
}

/* ---- end to end: softmax regression on a separable toy set ---- */

Test(optim, linear_model_reaches_near_zero_loss) {
  clfer_runtime_t *rt = test_runtime();
  enum { N = 60, D = 3, K = 3 }; /* two features + a constant 1 for the bias */
  float x[N * D], t[N * K] = {0}, w0[K * D] = {0};
  float noise[N * 2];
  test_fill_uniform(noise, N * 2, 81, -0.4f, 0.4f);
  const float centre[K][2] = {{2, 0}, {-1, 1.7f}, {-1, -1.7f}};
  for (int n = 0; n < N; n++) {
    int k = n % K;
    x[n * D + 0] = centre[k][0] + noise[2 * n];
    x[n * D + 1] = centre[k][1] + noise[2 * n + 1];
    x[n * D + 2] = 1.0f;
    t[n * K + k] = 1.0f;
  }
  int sx[2] = {N, D}, st_[2] = {N, K}, sw[2] = {K, D};
  clfer_tensor_t tx, tt, w, dw, z, dz;
  cr_assert_eq(clfer_tensor_create(rt, 2, sx, &tx) | clfer_tensor_create(rt, 2, st_, &tt) |
                   clfer_tensor_create(rt, 2, sw, &w) | clfer_tensor_create(rt, 2, sw, &dw) |
                   clfer_tensor_create(rt, 2, st_, &z) | clfer_tensor_create(rt, 2, st_, &dz),
               CLFER_OK);
  clfer_tensor_upload(&tx, x), clfer_tensor_upload(&tt, t), clfer_tensor_upload(&w, w0);
  clfer_optim_param_t p = {.name = "fc.weight", .value = &w, .grad = &dw};
  clfer_optim_config_t c = {.kind = CLFER_OPTIM_SGD, .momentum = 0.9, .dampening = 0.9};
  clfer_optim_t *opt;
  cr_assert_eq(clfer_optim_create(rt, &c, &p, 1, &opt), CLFER_OK);
  clfer_schedule_t sched;
  cr_assert_eq(clfer_schedule_parse("piecewise:2,150,1", 0, &sched), CLFER_OK);
  float first = 0, loss = 0;
  for (int it = 0; it < 200; it++) {
    /* z = x·wᵀ; dw = dzᵀ·x */
    cr_assert_eq(
        clfer_sgemm(rt, 0, 1, N, K, D, 1.0f, tx.buf, tx.offset, D, w.buf, w.offset, D, 0.0f, z.buf, z.offset, K),
        CLFER_OK, "%s", clfer_last_error());
    cr_assert_eq(clfer_loss_xent(rt, &z, &tt, &dz, it == 0 || it == 199 ? &loss : NULL), CLFER_OK, "%s",
                 clfer_last_error());
    if (it == 0) first = loss;
    cr_assert_eq(
        clfer_sgemm(rt, 1, 0, K, D, N, 1.0f, dz.buf, dz.offset, K, tx.buf, tx.offset, D, 0.0f, dw.buf, dw.offset, D),
        CLFER_OK);
    cr_assert_eq(clfer_optim_step(opt, clfer_schedule_lr(&sched, it)), CLFER_OK, "%s", clfer_last_error());
  }
  cr_assert_float_eq(first, logf(3.0f), 1e-5, "initial loss %g is not log 3", (double)first);
  cr_assert(loss < 0.05f, "loss fell only from %g to %g", (double)first, (double)loss);
  float zz[N * K];
  clfer_tensor_download(&z, zz);
  for (int n = 0; n < N; n++) {
    int best = 0;
    for (int k = 1; k < K; k++)
      if (zz[n * K + k] > zz[n * K + best]) best = k;
    cr_assert_eq(best, n % K, "sample %d misclassified", n);
  }
  clfer_optim_destroy(opt);
  clfer_tensor_release(&tx), clfer_tensor_release(&tt), clfer_tensor_release(&w);
  clfer_tensor_release(&dw), clfer_tensor_release(&z), clfer_tensor_release(&dz);
  clfer_runtime_destroy(rt);
}
