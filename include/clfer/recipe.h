/* clfer/recipe.h — training recipes: INI files (parsed with inih) validated against one schema of
 * sections and keys, with `--set section.key=value` overrides and stages ([stage.NAME] sections
 * whose keys override "section.key" for that stage). Every error names the file and line. */
#ifndef CLFER_RECIPE_H
#define CLFER_RECIPE_H

#include <stdio.h>

#include "clfer/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clfer_recipe clfer_recipe_t;

/* Parses and validates PATH (unknown sections or keys, bad values: CLFER_PARSE_ERROR with
 * "PATH:LINE: ..."). Relative paths inside the recipe are resolved against its directory. */
clfer_status clfer_recipe_load(const char *path, clfer_recipe_t **out);
/* The same from text (`name` stands in for the file name in messages). */
clfer_status clfer_recipe_parse_string(const char *name, const char *text, const char *base_dir, clfer_recipe_t **out);
void clfer_recipe_destroy(clfer_recipe_t *r);
/* Applies "section.key=value" (or "stage.NAME.section.key=value"), validated like the file. */
clfer_status clfer_recipe_set(clfer_recipe_t *r, const char *assignment);

/* Values, for the whole recipe (stage NULL) or as a stage sees them (its override, else the
 * top-level value, else the schema default). Getters never fail: values were validated. */
const char *clfer_recipe_str(const clfer_recipe_t *r, const char *stage, const char *section, const char *key);
long clfer_recipe_int(const clfer_recipe_t *r, const char *stage, const char *section, const char *key);
double clfer_recipe_float(const clfer_recipe_t *r, const char *stage, const char *section, const char *key);
int clfer_recipe_bool(const clfer_recipe_t *r, const char *stage, const char *section, const char *key);
/* A path value resolved against the recipe's directory (absolute stays); "" when unset. */
const char *clfer_recipe_path(const clfer_recipe_t *r, const char *stage, const char *section, const char *key,
                              char *buf, size_t size);
/* True when the stage's own section (or --set stage.NAME....) sets the key, not the top level. */
int clfer_recipe_stage_sets(const clfer_recipe_t *r, const char *stage, const char *section, const char *key);
/* Where a value came from ("recipe.ini:12", "--set", "default"). */
const char *clfer_recipe_origin(const clfer_recipe_t *r, const char *stage, const char *section, const char *key);
/* Splits a comma list value into at most `max` trimmed items in buf; returns the count. */
int clfer_recipe_list(const clfer_recipe_t *r, const char *stage, const char *section, const char *key,
                      char items[][64], int max);

/* Stages in file order; a recipe without [stage.*] sections has one implicit stage (NULL name). */
int clfer_recipe_stage_count(const clfer_recipe_t *r);
const char *clfer_recipe_stage_name(const clfer_recipe_t *r, int index);

/* Writes the recipe as resolved: every schema key with its effective value and origin. */
clfer_status clfer_recipe_write(const clfer_recipe_t *r, FILE *out);
/* Prints the schema (sections, keys, types, defaults, meanings). */
void clfer_recipe_print_schema(FILE *out);

#ifdef __cplusplus
}
#endif
#endif
