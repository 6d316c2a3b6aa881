/* recipe.c — INI recipes parsed with inih and validated against one schema table, so unknown
 * sections, unknown keys and bad values are errors naming the file and line (inih's handler
 * gets no line numbers in Debian's build, so a counting line reader supplies them). */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <ini.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clfer/batch.h"
#include "clfer/recipe.h"

typedef enum { T_STR, T_INT, T_FLOAT, T_BOOL, T_ENUM, T_LIST, T_PATH } value_type;

typedef struct schema_key {
  const char *section, *key;
  value_type type;
  const char *fallback; /* default value text */
  const char *choices;  /* T_ENUM: "a|b|c" */
  const char *meaning;
} schema_key_t;

/* The one list of what a recipe may say. */
static const schema_key_t schema[] = {
    {"model", "name", T_STR, "fer_small", NULL, "zoo model (clfer models lists them)"},
    {"model", "input", T_STR, "", NULL, "input CxHxW, e.g. 1x64x64 (empty: the model's default)"},
    {"model", "classes", T_INT, "0", NULL, "output classes (0: as many as data.classes)"},
    {"model", "init", T_ENUM, "glorot_uniform", "glorot_uniform|pytorch|kaiming_normal", "weight initialisation"},
    {"model", "from", T_PATH, "", NULL,
     "first stage: start from this file (ONNX, a clfer checkpoint, or one of an imported model); its architecture replaces model.name"},
    {"model", "replace_head", T_BOOL, "false", NULL,
     "with model.from: a new output layer for data.classes (model.init); in a later stage's own section: re-initialise the output layer"},
    {"model", "input_adapt", T_ENUM, "none", "none|replicate|sum_rgb",
     "with model.from: gray faces into an RGB model: replicate (keep 3 channels; = data.gray_to_rgb) or sum_rgb (1 channel: the first conv's RGB filters summed)"},
    {"model", "features", T_STR, "", NULL, "layer whose output are the deep features (default: the model's)"},
    {"data", "format", T_ENUM, "ferplus", "ferplus|fer2013|ferplus_folders|rafdb|ckplus|folder|ipa2lt",
     "dataset reader (ipa2lt: `clfer synth --ipa2lt`'s set_a/set_b/unlabelled/test CSVs, docs/synth.md)"},
    {"data", "dir", T_PATH, "", NULL, "dataset directory"},
    {"data", "classes", T_LIST, "neutral,happiness,surprise,sadness,anger,disgust,fear,contempt", NULL,
     "class list; datasets are mapped to it by name"},
    {"data", "train_limit", T_INT, "0", NULL, "use at most this many training samples (0: all)"},
    {"data", "eval_limit", T_INT, "0", NULL, "use at most this many validation and test samples (0: all)"},
    {"data", "min_top_probability", T_FLOAT, "0", NULL, "keep samples whose top class exceeds this (Ohlsen: 0.5)"},
    {"data", "csv", T_PATH, "", NULL, "folder: labels CSV (file,label or file,v1..vK; paths relative to data.dir) instead of class folders"},
    {"data", "distribution_file", T_PATH, "", NULL, "rafdb: the crowd distribution file (name v1..v7) as votes"},
    {"data", "preprocess", T_ENUM, "ferplus", "none|unit|ferplus|minmax|imagenet",
     "pixel normalisation: unit/none v/255; minmax: per-image stretch, v/255; imagenet: stretch, v/255, ImageNet mean/std"},
    {"data", "preprocess_on", T_ENUM, "auto", "auto|host|device",
     "where training batches are augmented and pre-processed: a host thread, an OpenCL kernel, or auto (measured in "
     "the first steps; with train.deterministic the device on GPUs and the host on CPUs)"},
    {"data", "workers", T_INT, "0", NULL,
     "host threads that augment and pre-process each batch (0: 1 when the OpenCL device is the CPU, else cores-1, at "
     "most 8); batches are identical for any count"},
    {"data", "gray_to_rgb", T_BOOL, "false", NULL, "replicate gray images into a 3-channel model's input (else an error)"},
    {"labels", "scheme", T_ENUM, "majority", "majority|probability|crossentropy|multi_target|votes|hard",
     "FER+ label scheme (METHODS.md); votes = the raw vote distribution (Ohlsen); hard = the dataset's single label"},
    {"augment", "enabled", T_BOOL, "true", NULL, "FER+ augmentation on training batches"},
    {"augment", "shift", T_FLOAT, "0.08", NULL, "max shift, fraction of the size per axis"},
    {"augment", "rotation", T_FLOAT, "20", NULL, "max rotation in degrees"},
    {"augment", "skew", T_FLOAT, "0.05", NULL, "max skew per axis"},
    {"augment", "scale", T_FLOAT, "0.05", NULL, "max scale change per axis"},
    {"augment", "flip", T_BOOL, "true", NULL, "random horizontal flip"},
    {"augment", "resize", T_INT, "0", NULL,
     "> 0: resize to this size, crop the model input (random when training, centre when evaluating; Ng et al.: 256 -> 227) instead of the FER+ jitter"},
    {"loss", "type", T_ENUM, "cross_entropy", "cross_entropy|multi_label|ltnet",
     "main loss on the logits (ltnet: IPA2LT's coder transitions on per-coder labels)"},
    {"loss", "center_weight", T_FLOAT, "0", NULL, "weight of center loss on the features (0: off)"},
    {"loss", "center_lr", T_FLOAT, "0.5", NULL, "learning rate of the class centres"},
    {"loss", "lp_weight", T_FLOAT, "0", NULL, "weight λ of DLP-CNN's locality-preserving loss (0: off)"},
    {"loss", "lp_k", T_INT, "20", NULL, "neighbours k of the locality-preserving loss"},
    {"loss", "ltnet_min", T_FLOAT, "1e-5", NULL, "LTNet: floor of the transition entries before rows are renormalised"},
    {"loss", "ltnet_diag", T_FLOAT, "10", NULL, "LTNet: diagonal of the initial transitions before rows are normalised"},
    {"loss", "ltnet_lr_mult", T_FLOAT, "1", NULL,
     "LTNet: learning-rate multiplier of the transitions (0 freezes them; below 1 keeps Adam from flattening them before the CNN learns)"},
    {"optim", "type", T_ENUM, "sgd", "sgd|adam", "optimizer"},
    {"optim", "lr", T_FLOAT, "0.01", NULL, "base learning rate"},
    {"optim", "momentum", T_FLOAT, "0.9", NULL, "SGD momentum"},
    {"optim", "dampening", T_FLOAT, "0", NULL, "SGD dampening (FER+'s CNTK unit-gain momentum: 0.9)"},
    {"optim", "nesterov", T_BOOL, "false", NULL, "Nesterov momentum"},
    {"optim", "weight_decay", T_FLOAT, "0", NULL, "L2 weight decay"},
    {"optim", "beta1", T_FLOAT, "0.9", NULL, "Adam β1"},
    {"optim", "beta2", T_FLOAT, "0.999", NULL, "Adam β2"},
    {"optim", "eps", T_FLOAT, "1e-8", NULL, "Adam ε"},
    {"optim", "freeze", T_LIST, "", NULL, "parameter-name prefixes not to train"},
    {"optim", "freeze_until", T_STR, "", NULL, "do not train any layer up to and including this one (network order)"},
    {"optim", "lr_mult", T_LIST, "", NULL, "prefix:multiplier pairs, e.g. fc8:10"},
    {"schedule", "type", T_ENUM, "constant", "constant|step|multistep|poly|cosine", "learning-rate schedule per epoch"},
    {"schedule", "step", T_INT, "10", NULL, "step: epochs between decays"},
    {"schedule", "gamma", T_FLOAT, "0.1", NULL, "step/multistep: decay factor"},
    {"schedule", "milestones", T_LIST, "", NULL, "multistep: epochs where the rate changes"},
    {"schedule", "values", T_LIST, "", NULL, "multistep: explicit rates (one more than milestones)"},
    {"schedule", "power", T_FLOAT, "0.9", NULL, "poly: exponent"},
    {"train", "epochs", T_INT, "10", NULL, "epochs to train"},
    {"train", "batch_size", T_INT, "32", NULL, "mini-batch size"},
    {"train", "seed", T_INT, "1", NULL, "seed of initialisation, shuffling, augmentation and label draws"},
    {"train", "early_stop", T_INT, "0", NULL, "stop after this many epochs without improvement (0: off)"},
    {"train", "early_stop_on", T_ENUM, "valid_accuracy", "valid_accuracy|valid_loss", "what early stopping watches"},
    {"train", "select", T_ENUM, "best_valid", "best_valid|last", "which epoch's weights are reported and kept"},
    {"train", "deterministic", T_BOOL, "false", NULL, "no timing-dependent choices (data.preprocess_on = auto decides by device type), so runs are bit-reproducible"},
    {"ipa2lt", "coder_epochs", T_INT, "10", NULL, "IPA2LT step 1: epochs of each machine coder (one per labelled set)"},
    {"ipa2lt", "baselines", T_BOOL, "false", NULL,
     "also train the paper's baselines: a CNN on Dawid-Skene EM's truth, a CNN on both human sets (with label_sets: on the sets mixed, on their majority vote, and on the clean truth)"},
    {"ipa2lt", "pretrain", T_BOOL, "false", NULL,
     "LTNet starts from the CNN trained on the label sources mixed for coder_epochs (the paper pre-trains on the union of the labelled sets)"},
    {"ipa2lt", "label_sets", T_LIST, "", NULL,
     "the paper's synthetic check instead of steps 1-2: CSVs in data.dir (file,label), each one label set of the same training faces in the same order (`clfer synth --ipa2lt`: noisy_20.csv,noisy_30.csv,noisy_40.csv); LTNet learns from them directly, one transition matrix per set"},
    {"eval", "metric", T_ENUM, "accuracy", "accuracy|mean_diagonal", "metric used to pick the best epoch"},
};
enum { SCHEMA_SIZE = sizeof schema / sizeof schema[0] };

/* The numbers' ranges, checked even where a recipe does not use the key (a typo'd -1 is an error
 * at once); an int key not listed must still fit an int. The consumers check what depends on
 * other keys (Adam's β < 1, SGD's momentum < 1, Nesterov). */
#define RANGE(lo, hi) (lo), (hi)
#define ANY_LONG -9.2e18, 9.2e18 /* strtol's own limit applies */
#define FRACTION RANGE(0, 1)
#define NON_NEGATIVE RANGE(0, DBL_MAX)
#define COUNT RANGE(0, INT_MAX)
#define POSITIVE_COUNT RANGE(1, INT_MAX)
static const struct key_range {
  const char *section, *key;
  double min, max;
} ranges[] = {
    {"model", "classes", COUNT},
    {"data", "train_limit", COUNT},
    {"data", "eval_limit", COUNT},
    {"data", "min_top_probability", FRACTION},
    {"data", "workers", RANGE(0, CLFER_BATCHER_MAX_THREADS)},
    {"augment", "shift", FRACTION},
    {"augment", "rotation", RANGE(0, 180)},
    {"augment", "skew", FRACTION},
    {"augment", "scale", FRACTION},
    {"augment", "resize", RANGE(0, 8192)},
    {"loss", "center_weight", NON_NEGATIVE},
    {"loss", "center_lr", NON_NEGATIVE},
    {"loss", "lp_weight", NON_NEGATIVE},
    {"loss", "lp_k", POSITIVE_COUNT},
    {"loss", "ltnet_min", FRACTION},
    {"loss", "ltnet_diag", NON_NEGATIVE},
    {"loss", "ltnet_lr_mult", NON_NEGATIVE},
    {"optim", "lr", NON_NEGATIVE},
    {"optim", "momentum", FRACTION},
    {"optim", "dampening", FRACTION},
    {"optim", "weight_decay", NON_NEGATIVE},
    {"optim", "beta1", FRACTION},
    {"optim", "beta2", FRACTION},
    {"optim", "eps", NON_NEGATIVE},
    {"schedule", "step", POSITIVE_COUNT},
    {"schedule", "gamma", NON_NEGATIVE},
    {"schedule", "power", NON_NEGATIVE},
    {"train", "epochs", COUNT},
    {"train", "batch_size", POSITIVE_COUNT},
    {"train", "seed", ANY_LONG},
    {"train", "early_stop", COUNT},
    {"ipa2lt", "coder_epochs", COUNT},
};
#undef RANGE
#undef ANY_LONG
#undef FRACTION
#undef NON_NEGATIVE
#undef COUNT
#undef POSITIVE_COUNT

typedef struct value {
  char *section, *key, *text, *stage; /* stage NULL for top level */
  char origin[160];
} value_t;

struct clfer_recipe {
  char name[512];
  char base_dir[512];
  value_t *values;
  int n_values, cap_values;
  char **stages;
  int n_stages;
};

static const schema_key_t *find_key(const char *section, const char *key) {
  for (int i = 0; i < SCHEMA_SIZE; i++)
    if (strcmp(schema[i].section, section) == 0 && strcmp(schema[i].key, key) == 0) return &schema[i];
  return NULL;
}

static int known_section(const char *section) {
  for (int i = 0; i < SCHEMA_SIZE; i++)
    if (strcmp(schema[i].section, section) == 0) return 1;
  return 0;
}

static const struct key_range *find_range(const schema_key_t *k) {
  for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
    if (strcmp(ranges[i].section, k->section) == 0 && strcmp(ranges[i].key, k->key) == 0) return &ranges[i];
  return NULL;
}

/* An int key without a range of its own must still fit an int. */
static const struct key_range int_range = {"", "", INT_MIN, INT_MAX};

static clfer_status check_range(const schema_key_t *k, double v, const char *text, const char *where) {
  const struct key_range *r = find_range(k);
  if (!r && k->type == T_INT) r = &int_range;
  if (!r || (v >= r->min && v <= r->max)) return CLFER_OK;
  if (r->max == INT_MAX && (v > INT_MAX || (r == &int_range && v < INT_MIN)))
    return clfer_set_error(CLFER_PARSE_ERROR, "%s: %s.%s = '%s' does not fit an int", where, k->section, k->key, text);
  if (r->max == DBL_MAX || r->max == INT_MAX)
    return clfer_set_error(CLFER_PARSE_ERROR, "%s: %s.%s = '%s' must be >= %g", where, k->section, k->key, text, r->min);
  return clfer_set_error(CLFER_PARSE_ERROR, "%s: %s.%s = '%s' is outside %g..%g", where, k->section, k->key, text, r->min,
                         r->max);
}

static clfer_status check_value(const schema_key_t *k, const char *text, const char *where) {
  char *end;
  switch (k->type) {
    case T_INT: {
      errno = 0;
      long v = strtol(text, &end, 10);
      if (!*text || *end || errno)
        return clfer_set_error(CLFER_PARSE_ERROR, "%s: %s.%s = '%s' is not an integer", where, k->section, k->key, text);
      return check_range(k, (double)v, text, where);
    }
    case T_FLOAT: {
      errno = 0;
      double v = strtod(text, &end);
      if (!*text || *end || errno || !isfinite(v))
        return clfer_set_error(CLFER_PARSE_ERROR, "%s: %s.%s = '%s' is not a number", where, k->section, k->key, text);
      return check_range(k, v, text, where);
    }
    case T_BOOL:
      if (strcasecmp(text, "true") && strcasecmp(text, "false") && strcmp(text, "1") && strcmp(text, "0") &&
          strcasecmp(text, "yes") && strcasecmp(text, "no"))
        return clfer_set_error(CLFER_PARSE_ERROR, "%s: %s.%s = '%s' is not true or false", where, k->section, k->key, text);
      break;
    case T_ENUM: {
      size_t n = strlen(text);
      for (const char *c = k->choices; c && *c;) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == n && strncmp(c, text, n) == 0) return CLFER_OK;
        c = bar ? bar + 1 : NULL;
      }
      return clfer_set_error(CLFER_PARSE_ERROR, "%s: %s.%s = '%s' is not one of %s", where, k->section, k->key, text,
                             k->choices);
    }
    default: break;
  }
  return CLFER_OK;
}

static clfer_status put(clfer_recipe_t *r, const char *stage, const char *section, const char *key, const char *text,
                        const char *origin) {
  for (int i = 0; i < r->n_values; i++) {
    value_t *v = &r->values[i];
    if (strcmp(v->section, section) == 0 && strcmp(v->key, key) == 0 &&
        ((!stage && !v->stage) || (stage && v->stage && strcmp(stage, v->stage) == 0))) {
      char *t = strdup(text);
      if (!t) return CLFER_OUT_OF_MEMORY;
      free(v->text);
      v->text = t;
      snprintf(v->origin, sizeof v->origin, "%s", origin);
      return CLFER_OK;
    }
  }
  if (r->n_values == r->cap_values) {
    int cap = r->cap_values ? 2 * r->cap_values : 32;
    value_t *grown = realloc(r->values, (size_t)cap * sizeof *grown);
    if (!grown) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory reading %s", r->name);
    r->values = grown;
    r->cap_values = cap;
  }
  value_t *v = &r->values[r->n_values];
  memset(v, 0, sizeof *v);
  v->section = strdup(section);
  v->key = strdup(key);
  v->text = strdup(text);
  v->stage = stage ? strdup(stage) : NULL;
  snprintf(v->origin, sizeof v->origin, "%s", origin);
  if (!v->section || !v->key || !v->text || (stage && !v->stage))
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory reading %s", r->name);
  r->n_values++;
  return CLFER_OK;
}

static clfer_status add_stage(clfer_recipe_t *r, const char *name) {
  for (int i = 0; i < r->n_stages; i++)
    if (strcmp(r->stages[i], name) == 0) return CLFER_OK;
  char **grown = realloc(r->stages, (size_t)(r->n_stages + 1) * sizeof *grown);
  if (!grown || !(grown[r->n_stages] = strdup(name))) {
    if (grown) r->stages = grown;
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory reading %s", r->name);
  }
  r->stages = grown;
  r->n_stages++;
  return CLFER_OK;
}

/* Validates and stores `section.key = text` (section may be "stage.NAME" with key "sec.key"). */
static clfer_status assign(clfer_recipe_t *r, const char *section, const char *key, const char *text, const char *where) {
  const char *stage = NULL;
  char stage_name[128], sec[64], k[64];
  if (strncmp(section, "stage.", 6) == 0) {
    snprintf(stage_name, sizeof stage_name, "%s", section + 6);
    if (!stage_name[0]) return clfer_set_error(CLFER_PARSE_ERROR, "%s: a stage section needs a name: [stage.NAME]", where);
    const char *dot = strchr(key, '.');
    if (!dot || dot == key || (size_t)(dot - key) >= sizeof sec)
      return clfer_set_error(CLFER_PARSE_ERROR, "%s: keys in [%s] are section.key, e.g. optim.lr; got '%s'", where,
                             section, key);
    snprintf(sec, sizeof sec, "%.*s", (int)(dot - key), key);
    snprintf(k, sizeof k, "%s", dot + 1);
    stage = stage_name;
    clfer_status st = add_stage(r, stage_name);
    if (st) return st;
  } else {
    snprintf(sec, sizeof sec, "%s", section);
    snprintf(k, sizeof k, "%s", key);
  }
  if (!known_section(sec)) return clfer_set_error(CLFER_PARSE_ERROR, "%s: unknown section [%s]", where, sec);
  const schema_key_t *sk = find_key(sec, k);
  if (!sk) return clfer_set_error(CLFER_PARSE_ERROR, "%s: unknown key '%s' in [%s]", where, k, sec);
  clfer_status st = check_value(sk, text, where);
  return st ? st : put(r, stage, sec, k, text, where);
}

typedef struct parse_ctx {
  clfer_recipe_t *r;
  FILE *file;
  const char *text; /* for string parsing */
  int line;
  clfer_status st;
} parse_ctx_t;

static char *counting_reader(char *str, int num, void *stream) {
  parse_ctx_t *c = stream;
  char *res = NULL;
  if (c->file)
    res = fgets(str, num, c->file);
  else if (*c->text) {
    int i = 0;
    while (i < num - 1 && c->text[i] && c->text[i] != '\n') i++;
    if (c->text[i] == '\n' && i < num - 1) i++;
    memcpy(str, c->text, (size_t)i);
    str[i] = '\0';
    c->text += i;
    res = str;
  }
  if (res) c->line++;
  return res;
}

static int handler(void *user, const char *section, const char *name, const char *value) {
  parse_ctx_t *c = user;
  if (c->st) return 0;
  char where[600];
  snprintf(where, sizeof where, "%s:%d", c->r->name, c->line);
  if (!name) { /* a new section (inih calls with name NULL when INI_CALL_HANDLER_ON_NEW_SECTION) */
    return 1;
  }
  if (!*section) {
    c->st = clfer_set_error(CLFER_PARSE_ERROR, "%s: '%s' is outside any [section]", where, name);
    return 0;
  }
  c->st = assign(c->r, section, name, value, where);
  return c->st == CLFER_OK;
}

static clfer_status parse(clfer_recipe_t *r, parse_ctx_t *c) {
  int rc = ini_parse_stream(counting_reader, c, handler, c);
  if (c->st) return c->st;
  if (rc < 0) return clfer_set_error(CLFER_IO_ERROR, "cannot read recipe %s", r->name);
  if (rc > 0) return clfer_set_error(CLFER_PARSE_ERROR, "%s:%d: not a key = value line or [section]", r->name, rc);
  return CLFER_OK;
}

static clfer_recipe_t *new_recipe(const char *name, const char *base_dir) {
  clfer_recipe_t *r = calloc(1, sizeof *r);
  if (!r) return NULL;
  snprintf(r->name, sizeof r->name, "%s", name);
  snprintf(r->base_dir, sizeof r->base_dir, "%s", base_dir ? base_dir : ".");
  return r;
}

clfer_status clfer_recipe_load(const char *path, clfer_recipe_t **out) {
  *out = NULL;
  FILE *f = fopen(path, "r");
  if (!f) return clfer_set_error(CLFER_IO_ERROR, "cannot open recipe %s: %s", path, strerror(errno));
  char dir[512];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = '\0';
  else snprintf(dir, sizeof dir, ".");
  clfer_recipe_t *r = new_recipe(path, dir);
  if (!r) {
    fclose(f);
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory reading %s", path);
  }
  parse_ctx_t c = {r, f, NULL, 0, CLFER_OK};
  clfer_status st = parse(r, &c);
  fclose(f);
  if (st) {
    clfer_recipe_destroy(r);
    return st;
  }
  *out = r;
  return CLFER_OK;
}

clfer_status clfer_recipe_parse_string(const char *name, const char *text, const char *base_dir, clfer_recipe_t **out) {
  *out = NULL;
  clfer_recipe_t *r = new_recipe(name, base_dir);
  if (!r) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory reading %s", name);
  parse_ctx_t c = {r, NULL, text, 0, CLFER_OK};
  clfer_status st = parse(r, &c);
  if (st) {
    clfer_recipe_destroy(r);
    return st;
  }
  *out = r;
  return CLFER_OK;
}

void clfer_recipe_destroy(clfer_recipe_t *r) {
  if (!r) return;
  for (int i = 0; i < r->n_values; i++) {
    free(r->values[i].section), free(r->values[i].key), free(r->values[i].text), free(r->values[i].stage);
  }
  for (int i = 0; i < r->n_stages; i++) free(r->stages[i]);
  free(r->stages);
  free(r->values);
  free(r);
}

clfer_status clfer_recipe_set(clfer_recipe_t *r, const char *assignment) {
  const char *eq = strchr(assignment, '=');
  const char *last_dot = NULL;
  for (const char *p = assignment; eq && p < eq; p++)
    if (*p == '.') last_dot = p;
  if (!eq || !last_dot)
    return clfer_set_error(CLFER_PARSE_ERROR, "--set %s: expected section.key=value", assignment);
  char section[160], key[64];
  snprintf(section, sizeof section, "%.*s", (int)(last_dot - assignment), assignment);
  snprintf(key, sizeof key, "%.*s", (int)(eq - last_dot - 1), last_dot + 1);
  /* stage.NAME.section.key: the stage section is "stage.NAME", the key "section.key" */
  if (strncmp(section, "stage.", 6) == 0) {
    char *dot = strrchr(section, '.');
    if (dot && dot > section + 6) {
      char k2[128];
      snprintf(k2, sizeof k2, "%s.%s", dot + 1, key);
      *dot = '\0';
      return assign(r, section, k2, eq + 1, "--set");
    }
  }
  return assign(r, section, key, eq + 1, "--set");
}

static const value_t *lookup(const clfer_recipe_t *r, const char *stage, const char *section, const char *key) {
  const value_t *top = NULL;
  for (int i = 0; i < r->n_values; i++) {
    const value_t *v = &r->values[i];
    if (strcmp(v->section, section) || strcmp(v->key, key)) continue;
    if (stage && v->stage && strcmp(stage, v->stage) == 0) return v;
    if (!v->stage) top = v;
  }
  return top;
}

const char *clfer_recipe_str(const clfer_recipe_t *r, const char *stage, const char *section, const char *key) {
  const value_t *v = lookup(r, stage, section, key);
  if (v) return v->text;
  const schema_key_t *k = find_key(section, key);
  return k ? k->fallback : "";
}

long clfer_recipe_int(const clfer_recipe_t *r, const char *stage, const char *section, const char *key) {
  return strtol(clfer_recipe_str(r, stage, section, key), NULL, 10);
}

double clfer_recipe_float(const clfer_recipe_t *r, const char *stage, const char *section, const char *key) {
  return strtod(clfer_recipe_str(r, stage, section, key), NULL);
}

int clfer_recipe_bool(const clfer_recipe_t *r, const char *stage, const char *section, const char *key) {
  const char *t = clfer_recipe_str(r, stage, section, key);
  return strcasecmp(t, "true") == 0 || strcmp(t, "1") == 0 || strcasecmp(t, "yes") == 0;
}

const char *clfer_recipe_path(const clfer_recipe_t *r, const char *stage, const char *section, const char *key, char *buf,
                              size_t size) {
  const char *t = clfer_recipe_str(r, stage, section, key);
  const value_t *v = lookup(r, stage, section, key);
  /* --set paths are relative to the current directory, file paths to the recipe's */
  if (!*t || t[0] == '/' || (v && strcmp(v->origin, "--set") == 0))
    snprintf(buf, size, "%s", t);
  else
    snprintf(buf, size, "%s/%s", r->base_dir, t);
  return buf;
}

int clfer_recipe_stage_sets(const clfer_recipe_t *r, const char *stage, const char *section, const char *key) {
  const value_t *v = stage ? lookup(r, stage, section, key) : NULL;
  return v && v->stage != NULL;
}

const char *clfer_recipe_origin(const clfer_recipe_t *r, const char *stage, const char *section, const char *key) {
  const value_t *v = lookup(r, stage, section, key);
  return v ? v->origin : "default";
}

int clfer_recipe_list(const clfer_recipe_t *r, const char *stage, const char *section, const char *key, char items[][64],
                      int max) {
  const char *t = clfer_recipe_str(r, stage, section, key);
  int n = 0;
  while (*t && n < max) {
    while (*t == ' ' || *t == '\t' || *t == ',') t++;
    if (!*t) break;
    const char *end = strchr(t, ',');
    size_t len = end ? (size_t)(end - t) : strlen(t);
    while (len && isspace((unsigned char)t[len - 1])) len--;
    snprintf(items[n++], 64, "%.*s", (int)len, t);
    t += end ? (size_t)(end - t) : strlen(t);
  }
  return n;
}

int clfer_recipe_stage_count(const clfer_recipe_t *r) { return r->n_stages ? r->n_stages : 1; }
const char *clfer_recipe_stage_name(const clfer_recipe_t *r, int index) {
  return r->n_stages && index >= 0 && index < r->n_stages ? r->stages[index] : NULL;
}

clfer_status clfer_recipe_write(const clfer_recipe_t *r, FILE *out) {
  fprintf(out, "; %s as resolved (every key, with where its value came from)\n", r->name);
  const char *section = "";
  for (int i = 0; i < SCHEMA_SIZE; i++) {
    const schema_key_t *k = &schema[i];
    if (strcmp(section, k->section) != 0) fprintf(out, "\n[%s]\n", section = k->section);
    fprintf(out, "%s = %s ; %s\n", k->key, clfer_recipe_str(r, NULL, k->section, k->key),
            clfer_recipe_origin(r, NULL, k->section, k->key));
  }
  for (int s = 0; s < r->n_stages; s++) {
    fprintf(out, "\n[stage.%s]\n", r->stages[s]);
    for (int i = 0; i < r->n_values; i++)
      if (r->values[i].stage && strcmp(r->values[i].stage, r->stages[s]) == 0)
        fprintf(out, "%s.%s = %s ; %s\n", r->values[i].section, r->values[i].key, r->values[i].text, r->values[i].origin);
  }
  return ferror(out) ? clfer_set_error(CLFER_IO_ERROR, "cannot write the resolved recipe") : CLFER_OK;
}

void clfer_recipe_print_schema(FILE *out) {
  const char *section = "";
  for (int i = 0; i < SCHEMA_SIZE; i++) {
    const schema_key_t *k = &schema[i];
    if (strcmp(section, k->section) != 0) fprintf(out, "[%s]\n", section = k->section);
    const struct key_range *r = find_range(k);
    char range[64] = "";
    if (r && (r->max == INT_MAX || r->max == DBL_MAX))
      snprintf(range, sizeof range, " (>= %g)", r->min);
    else if (r && r->min > -1e18)
      snprintf(range, sizeof range, " (%g..%g)", r->min, r->max);
    fprintf(out, "  %-20s %-8s default %-12s %s%s%s%s\n", k->key,
            (const char *[]){"string", "int", "float", "bool", "choice", "list", "path"}[k->type],
            *k->fallback ? k->fallback : "\"\"", k->meaning, range, k->choices ? ": " : "", k->choices ? k->choices : "");
  }
  fprintf(out, "[stage.NAME]\n  section.key = value   overrides a key for that stage; stages run in file order\n");
}
