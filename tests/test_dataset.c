/* test_dataset.c — clfer_dataset_read, the one reader behind training and evaluation: RAF-DB with
 * its crowd distribution file, the image-folder CSV form, conversion to the model's channels and
 * size, mapping onto a recipe's classes; and the recipe keys that reach them (data.csv,
 * data.distribution_file) in a short training run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clfer/data.h"
#include "clfer/dataset.h"
#include "clfer/train.h"
#include "data_test_util.h"

static const char *const ferplus7[7] = {"neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear"};

/* RAF-DB basic layout: 4 RGB faces (2 train, 2 test) with labels and the crowd distribution. */
static const char *make_raf(const char *name) {
  const char *root = dt_make_raf(name, 40, 1);
  char p[1200];
  snprintf(p, sizeof p, "%s/distribution.txt", root);
  test_write_text(p, "test_0002.jpg 0.0 0.0 0.1 0.8 0.1 0.0 0.0\ntrain_00001.jpg 0.0 0.0 0.0 0.05 0.9 0.05 0.0\n"
                     "train_00002.jpg 0.7 0.2 0.0 0.0 0.0 0.0 0.1\ntest_0001.jpg 0.0 0.0 0.0 0.0 0.0 0.0 1.0\n");
  return root;
}

Test(dataset, rafdb_distribution_gray_resized_and_mapped) {
  const char *root = make_raf("dataset_raf");
  char dist[1200];
  snprintf(dist, sizeof dist, "%s/distribution.txt", root);
  clfer_dataset_spec_t spec = {.format = "rafdb", .dir = root, .distribution_file = dist, .channels = 1,
                               .height = 32, .width = 32, .class_names = ferplus7, .num_classes = 7,
                               .ferplus_mode = -1};
  clfer_store_t *s = NULL;
  cr_assert_eq(clfer_dataset_read(&spec, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->n, 4);
  cr_assert_eq(s->channels, 1);
  cr_assert_eq(s->height, 32);
  cr_assert_not_null(s->votes, "the distribution file gives votes");
  /* RAF labels 5, 1, 7, 4 (sadness, surprise, neutral, happiness) in FER+ order 3, 2, 0, 1 */
  const int want[4] = {3, 2, 0, 1};
  for (int i = 0; i < 4; i++) cr_assert_eq(s->labels[i], want[i], "sample %d: %d", i, s->labels[i]);
  /* test_0002: RAF order surprise..neutral 0,0,.1,.8,.1,0,0 → happiness 0.8 */
  cr_assert_float_eq(s->votes[3 * s->vote_width + 1], 0.8f, 1e-6);
  clfer_store_destroy(s);
  spec.distribution_file = NULL;
  cr_assert_eq(clfer_dataset_read(&spec, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_null(s->votes);
  clfer_store_destroy(s);
  spec.format = "raf";
  cr_assert_neq(clfer_dataset_read(&spec, &s), CLFER_OK);
  cr_assert(strstr(clfer_last_error(), "unknown data format 'raf'"), "%s", clfer_last_error());
}

/* Image folder with a labels CSV: names and 0-based indices into the class list. */
static const char *make_folder(const char *name) {
  const char *root = test_tmpdir(name);
  char p[1200], csv[4096] = "";
  for (int i = 0; i < 14; i++) {
    snprintf(p, sizeof p, "%s/face%02d.png", root, i);
    dt_make_image(p, 48, 48, 1, i);
    char line[128];
    if (i % 2)
      snprintf(line, sizeof line, "face%02d.png,%s\n", i, ferplus7[i % 7]);
    else
      snprintf(line, sizeof line, "face%02d.png,%d\n", i, i % 7);
    strcat(csv, line);
  }
  snprintf(p, sizeof p, "%s/labels.csv", root);
  test_write_text(p, csv);
  return root;
}

Test(dataset, folder_csv_labels) {
  const char *root = make_folder("dataset_folder");
  char csv[1200];
  snprintf(csv, sizeof csv, "%s/labels.csv", root);
  clfer_dataset_spec_t spec = {.format = "folder", .dir = root, .csv = csv, .class_names = ferplus7,
                               .num_classes = 7, .ferplus_mode = -1};
  clfer_store_t *s = NULL;
  cr_assert_eq(clfer_dataset_read(&spec, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->n, 14);
  for (int i = 0; i < 14; i++) cr_assert_eq(s->labels[i], i % 7, "face%02d: %d", i, s->labels[i]);
  clfer_store_destroy(s);
}

/* The recipe keys reach the reader: a short run on the CSV form; keys of the wrong format fail. */
Test(dataset, recipe_keys_csv_and_distribution_file, .timeout = 120) {
  clfer_runtime_destroy(test_runtime());
  const char *root = make_folder("dataset_recipe");
  char recipe[1200], text[2048], out[1200];
  snprintf(text, sizeof text,
           "[model]\nname = fer_small\ninput = 1x32x32\ninit = pytorch\n"
           "[data]\nformat = folder\ndir = %s\ncsv = %s/labels.csv\nclasses = %s,%s,%s,%s,%s,%s,%s\n"
           "[labels]\nscheme = hard\n[augment]\nenabled = false\n[optim]\ntype = adam\nlr = 0.001\n"
           "[train]\nepochs = 1\nbatch_size = 8\n",
           root, root, ferplus7[0], ferplus7[1], ferplus7[2], ferplus7[3], ferplus7[4], ferplus7[5], ferplus7[6]);
  snprintf(recipe, sizeof recipe, "%s/recipe.ini", root);
  test_write_text(recipe, text);
  snprintf(out, sizeof out, "%s/run", root);
  clfer_train_options_t o = {.recipe = recipe, .out_dir = out, .quiet = 1, .progress = 0};
  clfer_train_result_t res;
  cr_assert_eq(clfer_train(&o, &res), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(res.steps, 2, "14 faces in batches of 8");
  char set[1300];
  snprintf(set, sizeof set, "data.distribution_file=%s/labels.csv", root);
  const char *sets[2] = {set};
  o.sets = sets, o.n_sets = 1;
  cr_assert_neq(clfer_train(&o, &res), CLFER_OK);
  cr_assert(strstr(clfer_last_error(), "data.distribution_file needs data.format = rafdb"), "%s", clfer_last_error());
  sets[0] = "data.csv=no-such.csv";
  cr_assert_neq(clfer_train(&o, &res), CLFER_OK);
  cr_assert(strstr(clfer_last_error(), "data.csv: no such file"), "%s", clfer_last_error());
}
