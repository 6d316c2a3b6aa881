/* fuzz_recipe.c — libFuzzer target for training recipes (src/train/recipe.c over inih): the input
 * up to its first 0x00 byte is a recipe; each further 0x00-separated piece is a --set assignment.
 * A recipe that parses is then read the ways training reads it: every stage's values through the
 * getters, lists, paths, origins, and the resolved recipe written out. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfer/recipe.h"

static const char *const keys[][2] = {
    {"model", "name"},   {"model", "input"},  {"model", "classes"}, {"data", "dir"},       {"data", "classes"},
    {"optim", "lr"},     {"optim", "lr_mult"}, {"optim", "freeze"}, {"schedule", "milestones"},
    {"schedule", "values"}, {"train", "epochs"}, {"train", "seed"}, {"augment", "flip"}};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  clfer_recipe_t *r = NULL;
  if (clfer_recipe_parse_string("fuzz.ini", text, "/tmp", &r) == CLFER_OK) {
    for (size_t at = strlen(text) + 1; at < size; at += strlen(text + at) + 1) (void)clfer_recipe_set(r, text + at);
    for (int s = 0; s < clfer_recipe_stage_count(r); s++) {
      const char *stage = clfer_recipe_stage_name(r, s);
      for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        char buf[1024], items[32][64];
        (void)clfer_recipe_str(r, stage, keys[k][0], keys[k][1]);
        (void)clfer_recipe_origin(r, stage, keys[k][0], keys[k][1]);
        (void)clfer_recipe_stage_sets(r, stage, keys[k][0], keys[k][1]);
        (void)clfer_recipe_list(r, stage, keys[k][0], keys[k][1], items, 32);
        (void)clfer_recipe_path(r, stage, keys[k][0], keys[k][1], buf, sizeof buf);
      }
      (void)clfer_recipe_int(r, stage, "train", "epochs");
      (void)clfer_recipe_float(r, stage, "optim", "lr");
      (void)clfer_recipe_bool(r, stage, "augment", "flip");
    }
    FILE *out = fopen("/dev/null", "w");
    if (out) {
      (void)clfer_recipe_write(r, out);
      fclose(out);
    }
    clfer_recipe_destroy(r);
  }
  free(text);
  return 0;
}
