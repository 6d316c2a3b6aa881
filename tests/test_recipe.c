/* test_recipe.c — recipe parsing: values and defaults, stages, --set overrides, and every error
 * naming the file and line. */
#include <string.h>

#include "clfer/recipe.h"
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
