/* test_recipe.c — recipe parsing: values and defaults, stages, --set overrides, and every error
 * naming the file and line; every shipped recipe validates (clfer_train's check mode builds each
 * stage's model without data), and missing files and bad values are caught with their line. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfer/recipe.h"
#include "clfer/train.h"
#include "test_util.h"

static const char *good =
    "; a comment\n"
    "[model]\n"
    "name = vgg13_ferplus\n"
    "\n"
    "[optim]\n"
    "lr = 0.05\n"
    "momentum = 0.9\n"
    "dampening = 0.9\n"
    "freeze = features.0, features.2\n"
    "[train]\n"
    "epochs = 3\n"
    "[stage.source]\n"
    "data.dir = fer2013\n"
    "[stage.target]\n"
    "optim.lr = 0.001\n"
    "train.epochs = 5\n";

Test(recipe, values_defaults_and_stages) {
  clfer_recipe_t *r;
  cr_assert_eq(clfer_recipe_parse_string("good.ini", good, "/recipes", &r), CLFER_OK, "%s", clfer_last_error());
  cr_assert_str_eq(clfer_recipe_str(r, NULL, "model", "name"), "vgg13_ferplus");
  cr_assert_float_eq(clfer_recipe_float(r, NULL, "optim", "lr"), 0.05, 1e-12);
  cr_assert_eq(clfer_recipe_int(r, NULL, "train", "batch_size"), 32, "schema default");
  cr_assert_str_eq(clfer_recipe_origin(r, NULL, "train", "batch_size"), "default");
  cr_assert_str_eq(clfer_recipe_origin(r, NULL, "optim", "lr"), "good.ini:6");
  cr_assert_eq(clfer_recipe_stage_count(r), 2);
  cr_assert_str_eq(clfer_recipe_stage_name(r, 0), "source");
  cr_assert_str_eq(clfer_recipe_stage_name(r, 1), "target");
  cr_assert_float_eq(clfer_recipe_float(r, "target", "optim", "lr"), 0.001, 1e-12);
  cr_assert_float_eq(clfer_recipe_float(r, "source", "optim", "lr"), 0.05, 1e-12, "stages inherit top-level values");
  cr_assert_eq(clfer_recipe_int(r, "target", "train", "epochs"), 5);
  char buf[256];
  cr_assert_str_eq(clfer_recipe_path(r, "source", "data", "dir", buf, sizeof buf), "/recipes/fer2013");
  char items[8][64];
  cr_assert_eq(clfer_recipe_list(r, NULL, "optim", "freeze", items, 8), 2);
  cr_assert_str_eq(items[1], "features.2");
  cr_assert_eq(clfer_recipe_bool(r, NULL, "augment", "flip"), 1);

  cr_assert_eq(clfer_recipe_set(r, "train.epochs=7"), CLFER_OK);
  cr_assert_eq(clfer_recipe_int(r, NULL, "train", "epochs"), 7);
  cr_assert_str_eq(clfer_recipe_origin(r, NULL, "train", "epochs"), "--set");
  cr_assert_eq(clfer_recipe_set(r, "stage.target.optim.lr=0.002"), CLFER_OK, "%s", clfer_last_error());
  cr_assert_float_eq(clfer_recipe_float(r, "target", "optim", "lr"), 0.002, 1e-12);
  cr_assert_eq(clfer_recipe_set(r, "train.epochs=many"), CLFER_PARSE_ERROR);
  cr_assert(strstr(clfer_last_error(), "--set") && strstr(clfer_last_error(), "not an integer"), "%s", clfer_last_error());
  cr_assert_eq(clfer_recipe_set(r, "epochs"), CLFER_PARSE_ERROR);
  clfer_recipe_destroy(r);
}

static void expect_error(const char *text, const char *needle) {
  clfer_recipe_t *r = NULL;
  cr_assert_eq(clfer_recipe_parse_string("bad.ini", text, ".", &r), CLFER_PARSE_ERROR, "accepted:\n%s", text);
  cr_assert_null(r);
  cr_assert(strstr(clfer_last_error(), needle) != NULL, "message '%s' lacks '%s'", clfer_last_error(), needle);
}

Test(recipe, errors_name_the_line) {
  expect_error("[model]\nname = x\n[optim]\nlearning_rate = 0.1\n", "bad.ini:4: unknown key 'learning_rate' in [optim]");
  expect_error("[model]\n[trian]\nepochs = 3\n", "bad.ini:3: unknown section [trian]");
  expect_error("[train]\n\nepochs = three\n", "bad.ini:3: train.epochs = 'three' is not an integer");
  expect_error("[optim]\nlr = 0.1x\n", "bad.ini:2: optim.lr = '0.1x' is not a number");
  expect_error("[optim]\ntype = rmsprop\n", "bad.ini:2: optim.type = 'rmsprop' is not one of sgd|adam");
  expect_error("[augment]\nflip = maybe\n", "bad.ini:2");
  expect_error("epochs = 3\n", "bad.ini:1: 'epochs' is outside any [section]");
  expect_error("[train]\nthis line has no equals sign\n", "bad.ini:2");
  expect_error("[stage.x]\nlr = 0.1\n", "bad.ini:2: keys in [stage.x] are section.key");
  expect_error("[stage.x]\noptim.learning = 0.1\n", "bad.ini:2: unknown key 'learning' in [optim]");
}

/* Every ranged number, just outside its range, in a recipe that does not otherwise use the key:
 * an error at parse time naming the line (a misspelt key in recipe.c's range table would let its
 * value through and fail here). */
Test(recipe, numbers_outside_their_range_name_the_line) {
  static const char *const below[][3] = {
      {"model", "classes", "-1"},         {"data", "train_limit", "-1"},     {"data", "eval_limit", "-1"},
      {"data", "min_top_probability", "1.5"}, {"data", "workers", "65"},   {"augment", "shift", "-0.1"},
      {"augment", "rotation", "181"},     {"augment", "skew", "2"},          {"augment", "scale", "-1"},
      {"augment", "resize", "9000"},      {"loss", "center_weight", "-1"},   {"loss", "center_lr", "-1"},
      {"loss", "lp_weight", "-1"},        {"loss", "lp_k", "0"},             {"loss", "ltnet_min", "1.5"},
      {"loss", "ltnet_diag", "-1"},       {"optim", "lr", "-0.1"},           {"optim", "momentum", "1.5"},
      {"optim", "dampening", "-1"},       {"optim", "weight_decay", "-1"},   {"optim", "beta1", "2"},
      {"optim", "beta2", "-1"},           {"optim", "eps", "-1"},            {"schedule", "step", "0"},
      {"schedule", "gamma", "-1"},        {"schedule", "power", "-1"},       {"train", "epochs", "-1"},
      {"train", "batch_size", "0"},       {"train", "early_stop", "-1"},     {"ipa2lt", "coder_epochs", "-1"},
      {"train", "seed", "99999999999999999999"}};
  for (size_t i = 0; i < sizeof below / sizeof below[0]; i++) {
    char text[200], needle[100];
    snprintf(text, sizeof text, "[%s]\n\n%s = %s\n", below[i][0], below[i][1], below[i][2]);
    snprintf(needle, sizeof needle, "bad.ini:3: %s.%s = '%s'", below[i][0], below[i][1], below[i][2]);
    expect_error(text, needle);
  }
  expect_error("[model]\nclasses = 9223372036854775807\n", "model.classes = '9223372036854775807' does not fit an int");
  expect_error("[optim]\nmomentum = 1.5\n", "optim.momentum = '1.5' is outside 0..1");
  expect_error("[train]\nbatch_size = 0\n", "train.batch_size = '0' must be >= 1");
  expect_error("[stage.x]\nloss.lp_k = 0\n", "bad.ini:2: loss.lp_k = '0' must be >= 1");
}

Test(recipe, missing_file) {
  clfer_recipe_t *r;
  cr_assert_eq(clfer_recipe_load("/nonexistent/recipe.ini", &r), CLFER_IO_ERROR);
  cr_assert(strstr(clfer_last_error(), "/nonexistent/recipe.ini") != NULL);
}

Test(recipe, resolved_recipe_lists_every_key) {
  clfer_recipe_t *r;
  cr_assert_eq(clfer_recipe_parse_string("good.ini", good, ".", &r), CLFER_OK);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  cr_assert_eq(clfer_recipe_write(r, f), CLFER_OK);
  fclose(f);
  cr_assert(strstr(text, "lr = 0.05 ; good.ini:6") != NULL, "%s", text);
  cr_assert(strstr(text, "batch_size = 32 ; default") != NULL);
  cr_assert(strstr(text, "[stage.target]") && strstr(text, "optim.lr = 0.001"));
  /* the resolved text parses back (comments after ';' are stripped by inih) */
  clfer_recipe_t *again;
  cr_assert_eq(clfer_recipe_parse_string("resolved.ini", text, ".", &again), CLFER_OK, "%s", clfer_last_error());
  cr_assert_float_eq(clfer_recipe_float(again, "target", "optim", "lr"), 0.001, 1e-12);
  clfer_recipe_destroy(again);
  free(text);
  clfer_recipe_destroy(r);
}

/* ---- recipe files and clfer_train's check mode ---- */

static clfer_status check_recipe(const char *path, const char *const *sets, int n_sets, int check_only) {
  clfer_train_options_t o = {.recipe = path, .sets = sets, .n_sets = n_sets, .check_only = check_only, .quiet = 1,
                             .progress = 0};
  char out[1400];
  snprintf(out, sizeof out, "%.1200s.run", path);
  o.out_dir = out;
  clfer_train_result_t res;
  return clfer_train(&o, &res);
}

static void skip_without_device(void) { clfer_runtime_destroy(test_runtime()); }

Test(recipe_files, every_shipped_recipe_validates) {
  skip_without_device();
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/apps/recipes", CLFER_SOURCE_DIR);
  DIR *d = opendir(dir);
  cr_assert_not_null(d, "cannot list %s", dir);
  const char *required[] = {"demo.ini",          "demo_gpu.ini",          "ferplus_vgg13_mv.ini",
                            "ferplus_vgg13_ml.ini", "ferplus_vgg13_pld.ini",
                            "ferplus_vgg13_cel.ini", "fer2013_ohlsen.ini", "rafdb_basedcnn.ini",   "rafdb_centerloss.ini",
                            "rafdb_dlpcnn.ini",  "staged_alexnet.ini",   "ipa2lt_ltnet.ini",
                            "ipa2lt_label_sets.ini"};
  int found[sizeof required / sizeof required[0]] = {0}, checked = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 5 || strcmp(e->d_name + len - 4, ".ini") != 0) continue;
    char path[1300];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    clfer_train_options_t o = {.recipe = path, .check_only = 1, .quiet = 1};
    clfer_train_result_t res;
    cr_expect_eq(clfer_train(&o, &res), CLFER_OK, "%s: %s", e->d_name, clfer_last_error());
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) found[i] |= strcmp(required[i], e->d_name) == 0;
    checked++;
  }
  closedir(d);
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
    cr_expect(found[i], "apps/recipes/%s is missing", required[i]);
  cr_assert_geq(checked, 13);
}

Test(recipe_files, paper_constants) {
  char path[1300];
  clfer_recipe_t *r;
  snprintf(path, sizeof path, "%s/apps/recipes/ferplus_vgg13_pld.ini", CLFER_SOURCE_DIR);
  cr_assert_eq(clfer_recipe_load(path, &r), CLFER_OK, "%s", clfer_last_error());
  cr_assert_str_eq(clfer_recipe_str(r, NULL, "labels", "scheme"), "probability");
  cr_assert_str_eq(clfer_recipe_str(r, NULL, "model", "input"), "1x64x64");
  cr_assert_float_eq(clfer_recipe_float(r, NULL, "optim", "dampening"), 0.9, 1e-12);
  cr_assert_str_eq(clfer_recipe_str(r, NULL, "schedule", "values"), "0.05,0.025,0.005");
  cr_assert_eq(clfer_recipe_int(r, NULL, "train", "batch_size"), 32);
  clfer_recipe_destroy(r);
  snprintf(path, sizeof path, "%s/apps/recipes/fer2013_ohlsen.ini", CLFER_SOURCE_DIR);
  cr_assert_eq(clfer_recipe_load(path, &r), CLFER_OK, "%s", clfer_last_error());
  cr_assert_str_eq(clfer_recipe_str(r, NULL, "optim", "type"), "adam");
  cr_assert_float_eq(clfer_recipe_float(r, NULL, "data", "min_top_probability"), 0.5, 1e-12);
  cr_assert_str_eq(clfer_recipe_str(r, NULL, "train", "early_stop_on"), "valid_loss");
  clfer_recipe_destroy(r);
  snprintf(path, sizeof path, "%s/apps/recipes/staged_alexnet.ini", CLFER_SOURCE_DIR);
  cr_assert_eq(clfer_recipe_load(path, &r), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_recipe_stage_count(r), 3);
  cr_assert_str_eq(clfer_recipe_stage_name(r, 2), "sfew");
  cr_assert_float_eq(clfer_recipe_float(r, "sfew", "optim", "weight_decay"), 5e-4, 1e-12);
  /* Ng et al.: ImageNet AlexNet from ONNX, gray replicated, min-max stretch, 256 → 227 crops,
   * SGD momentum 0.9, lr 0.001 ×0.1 every 10 epochs */
  const char *from = clfer_recipe_str(r, "imagenet", "model", "from");
  cr_assert(strlen(from) > 5 && strcmp(from + strlen(from) - 5, ".onnx") == 0, "model.from = %s", from);
  cr_assert(clfer_recipe_bool(r, "imagenet", "model", "replace_head"));
  cr_assert_str_eq(clfer_recipe_str(r, "imagenet", "model", "input_adapt"), "replicate");
  cr_assert_str_eq(clfer_recipe_str(r, "sfew", "model", "input"), "3x227x227");
  cr_assert_eq(clfer_recipe_int(r, "sfew", "augment", "resize"), 256);
  cr_assert_str_eq(clfer_recipe_str(r, "sfew", "data", "preprocess"), "imagenet");
  cr_assert(clfer_recipe_bool(r, "fer2013", "data", "gray_to_rgb"));
  cr_assert_float_eq(clfer_recipe_float(r, "sfew", "optim", "lr"), 0.001, 1e-12);
  cr_assert_float_eq(clfer_recipe_float(r, "sfew", "optim", "momentum"), 0.9, 1e-12);
  cr_assert_str_eq(clfer_recipe_str(r, "sfew", "schedule", "type"), "step");
  cr_assert_eq(clfer_recipe_int(r, "sfew", "schedule", "step"), 10);
  cr_assert_float_eq(clfer_recipe_float(r, "sfew", "schedule", "gamma"), 0.1, 1e-12);
  cr_assert(clfer_recipe_stage_sets(r, "imagenet", "model", "from"));
  cr_assert(!clfer_recipe_stage_sets(r, "sfew", "model", "from"));
  clfer_recipe_destroy(r);
}

/* --check opens model.from when it is there (an ONNX fixture here) and checks the adaptation and
 * freezing against it; a missing file is replaced by the zoo model (staged_alexnet.ini). */
Test(recipe_files, check_mode_opens_model_from) {
  clfer_runtime_destroy(test_runtime());
  const char *dir = test_tmpdir("recipe_from");
  char path[1200];
  snprintf(path, sizeof path, "%s",
           test_write_in(dir, "from.ini",
                        "[model]\nfrom = " CLFER_TEST_FIXTURES "/onnx/tiny.onnx\ninput = 1x12x12\n"
                        "replace_head = true\ninput_adapt = sum_rgb\n[data]\ndir = .\n[optim]\nfreeze_until = conv2\n"));
  clfer_train_options_t o = {.recipe = path, .check_only = 1, .quiet = 1};
  clfer_train_result_t res;
  cr_assert_eq(clfer_train(&o, &res), CLFER_OK, "%s", clfer_last_error());
  struct {
    const char *set, *needle;
  } cases[] = {{"model.input_adapt=none", "set model.input_adapt = sum_rgb"},
               {"optim.freeze_until=conv7", "optim.freeze_until: no layer 'conv7'"},
               {"model.replace_head=false", "has 5 outputs but the recipe trains 8 classes"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *sets[1] = {cases[i].set};
    o.sets = sets, o.n_sets = 1;
    cr_expect_neq(clfer_train(&o, &res), CLFER_OK, "--set %s was accepted", cases[i].set);
    cr_expect(strstr(clfer_last_error(), cases[i].needle) != NULL, "--set %s: '%s' lacks '%s'", cases[i].set,
              clfer_last_error(), cases[i].needle);
  }
  /* the stand-in zoo model (fer_small) has no conv2 */
  const char *missing[2] = {"model.from=no-such-model.onnx", "optim.freeze_until="};
  o.sets = missing, o.n_sets = 2;
  cr_assert_eq(clfer_train(&o, &res), CLFER_OK, "%s", clfer_last_error());
}

static const char *base_recipe = "[model]\n"
                                 "name = fer_small\n"
                                 "input = 1x32x32\n"
                                 "[data]\n"
                                 "dir = no-such-data\n"
                                 "[train]\n"
                                 "epochs = 2\n";

Test(recipe_files, errors_from_a_file_name_it_and_the_line) {
  const char *dir = test_tmpdir("recipe_files");
  const char *path = test_write_in(dir, "typo.ini", "[model]\nname = fer_small\n\n[optim]\nlr = 0.01\nmomentun = 0.9\n");
  clfer_recipe_t *r;
  cr_assert_eq(clfer_recipe_load(path, &r), CLFER_PARSE_ERROR);
  char want[1200];
  snprintf(want, sizeof want, "%s:6: unknown key 'momentun' in [optim]", path);
  cr_assert(strstr(clfer_last_error(), want), "'%s' lacks '%s'", clfer_last_error(), want);
  path = test_write_in(dir, "bad_value.ini", "[train]\nepochs = 3\nbatch_size = 3.5\n");
  cr_assert_eq(check_recipe(path, NULL, 0, 1), CLFER_PARSE_ERROR);
  snprintf(want, sizeof want, "%s:3: train.batch_size = '3.5' is not an integer", path);
  cr_assert(strstr(clfer_last_error(), want), "'%s' lacks '%s'", clfer_last_error(), want);
}

Test(recipe_files, check_mode_catches_bad_values) {
  skip_without_device();
  const char *dir = test_tmpdir("recipe_check");
  const char *path = test_write_in(dir, "base.ini", base_recipe);
  char copy[1200];
  snprintf(copy, sizeof copy, "%s", path);
  cr_assert_eq(check_recipe(copy, NULL, 0, 1), CLFER_OK, "%s", clfer_last_error());
  struct {
    const char *set, *needle;
  } cases[] = {
      {"model.name=vgg99", "vgg99"},
      {"model.input=64x64", "model.input = '64x64' is not CxHxW"},
      {"model.features=fc9", "model.features: no layer 'fc9'"},
      {"optim.freeze=nothing.here", "optim.freeze: no parameter matches 'nothing.here'"},
      {"optim.lr_mult=classifier", "is not prefix:multiplier"},
      {"schedule.milestones=3,6", NULL}, /* multistep needs values or a gamma: fine */
      {"schedule.values=0.1,0.01", "schedule.values needs one more entry than schedule.milestones"},
      {"optim.lr=0", "optim.lr must be positive"},
      {"labels.scheme=weighted", "labels.scheme = 'weighted' is not one of"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *sets[2] = {cases[i].set, "schedule.type=multistep"};
    clfer_status st = check_recipe(copy, sets, strncmp(cases[i].set, "schedule", 8) == 0 ? 2 : 1, 1);
    if (!cases[i].needle) {
      cr_expect_eq(st, CLFER_OK, "--set %s: %s", cases[i].set, clfer_last_error());
      continue;
    }
    cr_expect_neq(st, CLFER_OK, "--set %s was accepted", cases[i].set);
    cr_expect(strstr(clfer_last_error(), cases[i].needle) != NULL, "--set %s: '%s' lacks '%s'", cases[i].set,
              clfer_last_error(), cases[i].needle);
  }
}

Test(recipe_files, missing_data_and_weights_name_the_line) {
  skip_without_device();
  const char *dir = test_tmpdir("recipe_missing");
  char path[1200], want[1300];
  snprintf(path, sizeof path, "%s", test_write_in(dir, "missing.ini", base_recipe));
  cr_assert_eq(check_recipe(path, NULL, 0, 0), CLFER_NOT_FOUND);
  snprintf(want, sizeof want, "%s:5: data.dir: no such directory '%s/no-such-data'", path, dir);
  cr_assert(strstr(clfer_last_error(), want), "'%s' lacks '%s'", clfer_last_error(), want);
  const char *from = "[model]\nname = fer_small\ninput = 1x32x32\nfrom = missing.safetensors\n[data]\ndir = .\n";
  snprintf(path, sizeof path, "%s", test_write_in(dir, "from.ini", from));
  cr_assert_eq(check_recipe(path, NULL, 0, 0), CLFER_NOT_FOUND);
  snprintf(want, sizeof want, "%s:4: model.from: no such file '%s/missing.safetensors'", path, dir);
  cr_assert(strstr(clfer_last_error(), want), "'%s' lacks '%s'", clfer_last_error(), want);
  const char *sets[] = {"data.dir=/nonexistent/data"};
  cr_assert_eq(check_recipe(path, sets, 0, 0), CLFER_NOT_FOUND);
  snprintf(path, sizeof path, "%s", test_write_in(dir, "set.ini", base_recipe));
  cr_assert_eq(check_recipe(path, sets, 1, 0), CLFER_NOT_FOUND);
  snprintf(want, sizeof want, "%s (--set): data.dir: no such directory '/nonexistent/data'", path);
  cr_assert(strstr(clfer_last_error(), want), "'%s' lacks '%s'", clfer_last_error(), want);
}
