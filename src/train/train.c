/* train.c — the training loop: for each stage of a recipe, read the data through the real
 * readers, process crowd labels (METHODS.md), build or carry over the model, train with the
 * configured losses, optimizer and schedule on batches assembled by the background batcher,
 * evaluate valid/test as the papers do (majority labels, accuracy and mean diagonal), keep the
 * best-validation weights, checkpoint atomically every epoch, and resume exactly. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clfer/augment.h"
#include "clfer/batch.h"
#include "clfer/data.h"
#include "clfer/dataset.h"
#include "clfer/infer.h"
#include "clfer/labels.h"
#include "clfer/loss.h"
#include "clfer/nn.h"
#include "clfer/onnx.h"
#include "clfer/optim.h"
#include "clfer/train.h"
#include "runtime/runtime_internal.h"
#include "train/prep_placement.h"

#include <cjson/cJSON.h>

#define MAX_K CLFER_MAX_CLASSES
#define MAX_EPOCHS 10000

typedef struct split_data {
  int *ids; /* store indices */
  int n;
} split_data_t;

typedef struct run {
  const clfer_train_options_t *opt;
  clfer_recipe_t *recipe;
  clfer_runtime_t *rt;
  clfer_net_t *net;
  char dir[1024];
  FILE *metrics;
  int k;
  char names[MAX_K][64];
  const char *name_ptrs[MAX_K];
  /* data of the current stage */
  clfer_store_t *train_store, *eval_store;
  float *train_dist; /* train_store->n × k distributions (training targets before the scheme's draw) */
  float *eval_dist;  /* eval_store->n × k */
  split_data_t train, valid, test;
  clfer_ferplus_mode_t mode;
  int multi_label;
  /* model I/O */
  int in_c, in_h, in_w;
  int features_node;
  /* losses */
  clfer_tensor_t centres;
  /* progress */
  int bar;
  long step;
  long stage_step0;  /* r->step when the current stage began (the optimizer's step count is relative) */
  double last_loss;  /* the previous epoch's train loss, for the progress bar */
  double wait_seconds, train_seconds;
  /* where the training batches are augmented and pre-processed (data.preprocess_on) */
  int prep_device;           /* the current stage's choice */
  char resumed_prep_on[8];   /* the resumed stage's choice in last.safetensors; consumed by run_stage */
  /* LTNet (IPA2LT): per-coder labels come from the train store's coder_labels */
  int ltnet;                               /* loss.type = ltnet, outside the coder phase */
  int epochs_override;                     /* > 0: epochs of this run_stage call (coders) */
  clfer_tensor_t transitions, dtransitions; /* [C,L,L] */
} run_t;

/* ---- small helpers ---- */

static int mkdir_p(const char *dir) {
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
      *p = '/';
    }
  return (mkdir(tmp, 0755) == 0 || errno == EEXIST) ? 0 : -1;
}

static void path_in(const run_t *r, const char *file, char *buf, size_t size) {
  snprintf(buf, size, "%s/%s", r->dir, file);
}

static const char *S(const run_t *r, const char *stage, const char *sec, const char *key) {
  return clfer_recipe_str(r->recipe, stage, sec, key);
}
static long I(const run_t *r, const char *stage, const char *sec, const char *key) {
  return clfer_recipe_int(r->recipe, stage, sec, key);
}
static double F(const run_t *r, const char *stage, const char *sec, const char *key) {
  return clfer_recipe_float(r->recipe, stage, sec, key);
}
static int B(const run_t *r, const char *stage, const char *sec, const char *key) {
  return clfer_recipe_bool(r->recipe, stage, sec, key);
}

/* Where a key's value was written, for messages: "recipe.ini:12", or "recipe.ini (--set)". */
static const char *where(const run_t *r, const char *stage, const char *sec, const char *key, char *buf, size_t size) {
  const char *origin = clfer_recipe_origin(r->recipe, stage, sec, key);
  if (strchr(origin, ':'))
    snprintf(buf, size, "%s", origin);
  else
    snprintf(buf, size, "%s (%s)", r->opt->recipe, origin);
  return buf;
}

static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
static int is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int recipe_starts_with_ipa2lt(const run_t *r) {
  return strcmp(S(r, clfer_recipe_stage_name(r->recipe, 0), "data", "format"), "ipa2lt") == 0;
}

static void free_split(split_data_t *s) {
  free(s->ids);
  s->ids = NULL;
  s->n = 0;
}

static void free_stage_data(run_t *r) {
  clfer_store_destroy(r->train_store);
  if (r->eval_store != r->train_store) clfer_store_destroy(r->eval_store);
  r->train_store = r->eval_store = NULL;
  if (r->eval_dist != r->train_dist) free(r->eval_dist);
  free(r->train_dist);
  r->train_dist = r->eval_dist = NULL;
  free_split(&r->train), free_split(&r->valid), free_split(&r->test);
}

/* ---- data ---- */

/* Gray data into a 3-channel model is replicated when asked for (data.gray_to_rgb, or
 * model.input_adapt = replicate, which means the same). */
static int gray_to_rgb(const run_t *r, const char *stage) {
  return B(r, stage, "data", "gray_to_rgb") || strcmp(S(r, stage, "model", "input_adapt"), "replicate") == 0;
}

/* The data of a stage through clfer_dataset_read (the reader evaluation uses too): gray for a
 * 1-channel model; a 3-channel model gets gray data as stored (the pre-processing replicates it,
 * data.gray_to_rgb) and colour as is; image files resized to the model input, or to
 * augment.resize for resize-then-crop. */
static clfer_status read_store(run_t *r, const char *stage, int ferplus_mode, clfer_store_t **out) {
  char dir[1024], csv[1024], dist[1024], at[700];
  clfer_recipe_path(r->recipe, stage, "data", "dir", dir, sizeof dir);
  clfer_recipe_path(r->recipe, stage, "data", "csv", csv, sizeof csv);
  clfer_recipe_path(r->recipe, stage, "data", "distribution_file", dist, sizeof dist);
  if (!*dir) return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: data.dir is not set", r->opt->recipe);
  if (!is_dir(dir))
    return clfer_set_error(CLFER_NOT_FOUND, "%s: data.dir: no such directory '%s' (run `clfer synth --out DIR` for test data)",
                           where(r, stage, "data", "dir", at, sizeof at), dir);
  const char *format = S(r, stage, "data", "format");
  if (*csv && !is_file(csv))
    return clfer_set_error(CLFER_NOT_FOUND, "%s: data.csv: no such file '%s'", where(r, stage, "data", "csv", at, sizeof at),
                           csv);
  if (*dist && !is_file(dist))
    return clfer_set_error(CLFER_NOT_FOUND, "%s: data.distribution_file: no such file '%s'",
                           where(r, stage, "data", "distribution_file", at, sizeof at), dist);
  if (*csv && strcmp(format, "folder") != 0)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: data.csv needs data.format = folder (not %s)",
                           where(r, stage, "data", "csv", at, sizeof at), format);
  if (*dist && strcmp(format, "rafdb") != 0)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: data.distribution_file needs data.format = rafdb (not %s)",
                           where(r, stage, "data", "distribution_file", at, sizeof at), format);
  long resize = I(r, stage, "augment", "resize");
  clfer_dataset_spec_t spec = {.format = format,
                               .dir = dir,
                               .csv = csv,
                               .distribution_file = dist,
                               .channels = r->in_c == 1 ? 1 : 0,
                               .height = resize > 0 ? (int)resize : r->in_h,
                               .width = resize > 0 ? (int)resize : r->in_w,
                               .class_names = r->name_ptrs,
                               .num_classes = r->k,
                               .ferplus_mode = ferplus_mode};
  clfer_status st = clfer_dataset_read(&spec, out);
  if (st) return st;
  if (r->in_c == 3 && (*out)->channels == 1 && !gray_to_rgb(r, stage)) {
    clfer_store_destroy(*out);
    *out = NULL;
    return clfer_set_error(CLFER_INVALID_ARGUMENT,
                           "%s: the data in '%s' is gray and %s takes 3 channels: set data.gray_to_rgb = true (gray "
                           "replicated) or model.input_adapt = sum_rgb (1-channel input)",
                           where(r, stage, "data", "gray_to_rgb", at, sizeof at), dir, clfer_net_name(r->net));
  }
  return CLFER_OK;
}

/* Per-sample distributions over the recipe's classes: votes when the store has them, one-hot
 * hard labels otherwise. */
static clfer_status distributions(run_t *r, const clfer_store_t *s, float **out) {
  float *d = calloc((size_t)s->n * r->k + 1, sizeof *d);
  if (!d) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory for targets");
  for (int i = 0; i < s->n; i++) {
    float *row = d + (size_t)i * r->k;
    double sum = 0;
    if (s->votes && s->vote_width >= r->k)
      for (int c = 0; c < r->k; c++) sum += row[c] = s->votes[(size_t)i * s->vote_width + c];
    if (sum > 0)
      for (int c = 0; c < r->k; c++) row[c] = (float)(row[c] / sum);
    else if (s->labels[i] >= 0 && s->labels[i] < r->k)
      row[s->labels[i]] = 1.0f;
  }
  *out = d;
  return CLFER_OK;
}

static int argmax(const float *v, int k) {
  int best = 0;
  for (int i = 1; i < k; i++)
    if (v[i] > v[best]) best = i;
  return best;
}

static clfer_status split_ids(const clfer_store_t *s, const float *dist, int k, int split, long limit, double min_top,
                              split_data_t *out) {
  out->ids = malloc(((size_t)s->n + 1) * sizeof *out->ids);
  if (!out->ids) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory for the split");
  out->n = 0;
  for (int i = 0; i < s->n && (limit <= 0 || out->n < limit); i++) {
    if (s->split[i] != split) continue;
    const float *row = dist + (size_t)i * k;
    float top = row[argmax(row, k)];
    if (top <= 0 || (min_top > 0 && top <= min_top)) continue; /* Ohlsen's top-class filter */
    out->ids[out->n++] = i;
  }
  return CLFER_OK;
}

static clfer_status load_data(run_t *r, const char *stage) {
  free_stage_data(r);
  const char *scheme = S(r, stage, "labels", "scheme");
  r->multi_label = strcmp(S(r, stage, "loss", "type"), "multi_label") == 0;
  r->mode = CLFER_FERPLUS_MAJORITY;
  int raw_votes = strcmp(scheme, "votes") == 0;
  if (raw_votes)
    r->mode = CLFER_FERPLUS_CROSSENTROPY; /* the targets are the distribution as is */
  else if (strcmp(scheme, "hard") != 0 && clfer_ferplus_mode_parse(scheme, &r->mode))
    return clfer_wrap_error(CLFER_PARSE_ERROR, "%s: labels.scheme: ", r->opt->recipe);
  clfer_status st = read_store(r, stage, raw_votes ? -1 : (int)r->mode, &r->train_store);
  if (st) return st;
  /* valid and test always use majority labels (the FER+ protocol) */
  if (r->mode == CLFER_FERPLUS_MAJORITY || r->train_store->vote_width == 0)
    r->eval_store = r->train_store;
  else if ((st = read_store(r, stage, CLFER_FERPLUS_MAJORITY, &r->eval_store)))
    return st;
  if ((st = distributions(r, r->train_store, &r->train_dist)) || (st = distributions(r, r->eval_store, &r->eval_dist)))
    return st;
  long train_limit = I(r, stage, "data", "train_limit"), eval_limit = I(r, stage, "data", "eval_limit");
  double min_top = F(r, stage, "data", "min_top_probability");
  if ((st = split_ids(r->train_store, r->train_dist, r->k, CLFER_SPLIT_TRAIN, train_limit, min_top, &r->train)) ||
      (st = split_ids(r->eval_store, r->eval_dist, r->k, CLFER_SPLIT_VALID, eval_limit, 0, &r->valid)) ||
      (st = split_ids(r->eval_store, r->eval_dist, r->k, CLFER_SPLIT_TEST, eval_limit, 0, &r->test)))
    return st;
  if (r->train.n == 0)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: stage %s has no training samples in %s", r->opt->recipe,
                           stage ? stage : "main", S(r, stage, "data", "dir"));
  r->ltnet = strcmp(S(r, stage, "loss", "type"), "ltnet") == 0;
  if (r->ltnet && r->train_store->num_coders == 0) {
    char at[700];
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: loss.type = ltnet needs per-coder labels (data.format = ipa2lt)",
                           where(r, stage, "loss", "type", at, sizeof at));
  }
  return CLFER_OK;
}

/* ---- pre-processing ---- */

static clfer_augment_config_t augment_for(const run_t *r, const char *stage) {
  long resize = I(r, stage, "augment", "resize");
  if (resize > 0) /* Ng et al.: resize, random crop of the input size and flip; evaluation: the centre crop */
    return clfer_augment_config_crop((int)resize, 1, B(r, stage, "augment", "flip"));
  clfer_augment_config_t a = clfer_augment_config_ferplus();
  a.max_shift = (float)F(r, stage, "augment", "shift");
  a.max_angle_deg = (float)F(r, stage, "augment", "rotation");
  a.max_skew = (float)F(r, stage, "augment", "skew");
  a.max_scale = 1.0f + (float)F(r, stage, "augment", "scale");
  a.flip = B(r, stage, "augment", "flip");
  return a;
}

static clfer_status make_batcher(run_t *r, const char *stage, const clfer_store_t *s, const float *dist,
                                 const split_data_t *split, int train, clfer_batcher_t **out) {
  clfer_batcher_options_t bo = clfer_batcher_options_default();
  bo.where = train && r->prep_device ? CLFER_BATCH_DEVICE : CLFER_BATCH_HOST;
  int workers = (int)I(r, stage, "data", "workers"); /* 0..CLFER_BATCHER_MAX_THREADS (recipe.c's ranges) */
  bo.threads = workers > 0 ? workers : clfer_batcher_default_threads(clfer_runtime_device(r->rt)->is_cpu);
  bo.batch_size = (int)I(r, stage, "train", "batch_size");
  bo.drop_last = 0;
  bo.shuffle = train;
  bo.augment = train && B(r, stage, "augment", "enabled");
  bo.seed = (uint64_t)I(r, stage, "train", "seed");
  bo.augment_config = augment_for(r, stage);
  clfer_status st = clfer_preproc_from_name(S(r, stage, "data", "preprocess"), r->in_c, r->in_h, r->in_w, &bo.preproc);
  if (st) return st;
  bo.subset = split->ids;
  bo.subset_size = split->n;
  return clfer_batcher_create(s->images, s->n, s->height, s->width, s->channels, dist, r->k, &bo, out);
}

/* ---- model ---- */

static clfer_status parse_input(const run_t *r, const char *stage, int *c, int *h, int *w) {
  const char *text = S(r, stage, "model", "input");
  *c = *h = *w = 0;
  if (!*text) return CLFER_OK;
  if (sscanf(text, "%dx%dx%d", c, h, w) != 3 || *c <= 0 || *h <= 0 || *w <= 0)
    return clfer_set_error(CLFER_PARSE_ERROR, "%s: model.input = '%s' is not CxHxW (e.g. 1x64x64)", r->opt->recipe, text);
  return CLFER_OK;
}

static clfer_init init_scheme(const run_t *r, const char *stage) {
  const char *init = S(r, stage, "model", "init");
  return strcmp(init, "pytorch") == 0          ? CLFER_INIT_PYTORCH
         : strcmp(init, "kaiming_normal") == 0 ? CLFER_INIT_KAIMING_NORMAL
                                               : CLFER_INIT_GLOROT_UNIFORM;
}

static int output_size(const clfer_net_t *net) {
  int nd = 1, shape[3] = {0, 1, 1};
  clfer_net_node_shape(net, clfer_net_output_node(net), &nd, shape);
  return nd == 1 ? shape[0] : shape[0] * shape[1] * shape[2];
}

/* model.from — a zoo checkpoint, the checkpoint of an imported model, or an ONNX file — opened
 * with its own architecture and weights, then adapted to the stage: a new head of the recipe's
 * classes (model.replace_head), 1-channel input from summed RGB filters (model.input_adapt =
 * sum_rgb), another input size (model.input). Parameters whose name and shape survive keep the
 * file's weights (clfer_net_adapt). */
static clfer_status open_from(run_t *r, const char *stage, const char *from, int c, int h, int w, int classes) {
  char at[700];
  where(r, stage, "model", "from", at, sizeof at);
  if (!is_file(from)) return clfer_set_error(CLFER_NOT_FOUND, "%s: model.from: no such file '%s'", at, from);
  clfer_net_t *src = NULL, *adapted = NULL;
  clfer_status st = clfer_net_open(r->rt, from, NULL, &src);
  size_t len = strlen(from);
  if (st == CLFER_INVALID_ARGUMENT && len > 5 && strcmp(from + len - 5, ".onnx") == 0 && h > 0) {
    /* a file that leaves its input size symbolic: the recipe's */
    clfer_onnx_import_options_t o = {.height = h, .width = w};
    st = clfer_net_open(r->rt, from, &o, &src);
  }
  if (st) return clfer_wrap_error(st, "%s: model.from: ", at);
  int in[3], k = output_size(src);
  clfer_net_input_shape(src, in);
  const char *adapt = S(r, stage, "model", "input_adapt");
  int want_c = c > 0 ? c : in[0];
  if (strcmp(adapt, "sum_rgb") == 0) {
    if (in[0] != 3 || (c > 0 && c != 1))
      st = clfer_set_error(CLFER_INVALID_ARGUMENT,
                           "%s: model.input_adapt = sum_rgb needs a 3-channel model.from (%s takes %d) and a "
                           "1-channel model.input (or none)",
                           where(r, stage, "model", "input_adapt", at, sizeof at), from, in[0]);
    want_c = 1;
  } else if (strcmp(adapt, "replicate") == 0 && c > 0 && c != in[0]) {
    st = clfer_set_error(CLFER_INVALID_ARGUMENT,
                         "%s: model.input_adapt = replicate keeps the %d channels of %s, but model.input asks for %d",
                         where(r, stage, "model", "input_adapt", at, sizeof at), in[0], from, c);
  } else if (want_c != in[0]) {
    st = clfer_set_error(CLFER_INVALID_ARGUMENT,
                         "%s: model.input has %d channel(s) but %s takes %d: set model.input_adapt = sum_rgb (sum the "
                         "first convolution's RGB filters) or replicate (keep %d channels, gray data replicated)",
                         where(r, stage, "model", "input", at, sizeof at), want_c, from, in[0], in[0]);
  }
  if (!st && !B(r, stage, "model", "replace_head") && k != classes)
    st = clfer_set_error(CLFER_INVALID_ARGUMENT,
                         "%s: %s has %d outputs but the recipe trains %d classes: set model.replace_head = true for "
                         "a new head",
                         where(r, stage, "model", "from", at, sizeof at), from, k, classes);
  int want_h = h > 0 ? h : in[1], want_w = w > 0 ? w : in[2];
  if (!st && (want_c != in[0] || want_h != in[1] || want_w != in[2] || k != classes ||
              B(r, stage, "model", "replace_head"))) {
    /* a replaced head of the same size is initialised afresh too: adapt to another size first */
    clfer_net_adapt_options_t o = {.channels = want_c, .height = want_h, .width = want_w, .classes = classes,
                                   .init = init_scheme(r, stage), .seed = (uint64_t)I(r, stage, "train", "seed")};
    int fresh = 0;
    if (k == classes && B(r, stage, "model", "replace_head")) {
      clfer_net_t *other = NULL;
      o.classes = classes + 1;
      st = clfer_net_adapt(src, &o, &other, NULL);
      o.classes = classes;
      if (!st) clfer_net_destroy(src), src = other;
    }
    if (!st) st = clfer_net_adapt(src, &o, &adapted, &fresh);
    if (st) clfer_wrap_error(st, "%s: model.from: ", where(r, stage, "model", "from", at, sizeof at));
    if (!st && !r->opt->quiet)
      fprintf(stderr, "model.from %s: %dx%dx%d, %d outputs -> %dx%dx%d, %d classes (%d parameter tensors new)\n", from,
              in[0], in[1], in[2], k, want_c, want_h, want_w, classes, fresh);
  }
  if (st) {
    clfer_net_destroy(src);
    return st;
  }
  if (adapted) {
    clfer_net_destroy(src);
    src = adapted;
  }
  r->net = src;
  return CLFER_OK;
}

/* A new output layer for the same classes on the carried-over model: adapted to one class more
 * and back, so clfer_net_adapt initialises the head and copies everything else. */
static clfer_status fresh_head(run_t *r, const char *stage) {
  clfer_net_adapt_options_t o = {.classes = output_size(r->net) + 1, .init = init_scheme(r, stage),
                                 .seed = (uint64_t)I(r, stage, "train", "seed")};
  clfer_net_t *wider = NULL, *net = NULL;
  clfer_status st = clfer_net_adapt(r->net, &o, &wider, NULL);
  o.classes--;
  if (!st) st = clfer_net_adapt(wider, &o, &net, NULL);
  clfer_net_destroy(wider);
  if (!st) st = clfer_net_set_features(net, r->features_node);
  if (st) {
    clfer_net_destroy(net);
    return clfer_wrap_error(st, "stage %s: model.replace_head: ", stage ? stage : "main");
  }
  clfer_net_destroy(r->net);
  r->net = net;
  return CLFER_OK;
}

static clfer_status build_model(run_t *r, const char *stage) {
  int c, h, w;
  clfer_status st = parse_input(r, stage, &c, &h, &w);
  if (st) return st;
  long classes = I(r, stage, "model", "classes");
  if (classes <= 0) classes = r->k;
  char from[1024], at[700];
  clfer_recipe_path(r->recipe, stage, "model", "from", from, sizeof from);
  if (*from && !(r->opt->check_only && !is_file(from))) {
    if ((st = open_from(r, stage, from, c, h, w, (int)classes))) return st;
  } else {
    /* --check without the file: the zoo model model.name stands in for it */
    if (*from && !r->opt->quiet)
      fprintf(stderr, "%s: model.from: '%s' is not there; checked with the zoo model %s instead\n",
              where(r, stage, "model", "from", at, sizeof at), from, S(r, stage, "model", "name"));
    if (*from && strcmp(S(r, stage, "model", "input_adapt"), "sum_rgb") == 0) c = 1;
    if ((st = clfer_zoo_build(r->rt, S(r, stage, "model", "name"), c, h, w, (int)classes, &r->net))) return st;
    if (!r->opt->check_only && (st = clfer_net_init(r->net, init_scheme(r, stage), (uint64_t)I(r, stage, "train", "seed"))))
      return st;
  }
  int in[3];
  clfer_net_input_shape(r->net, in);
  r->in_c = in[0], r->in_h = in[1], r->in_w = in[2];
  /* the features: the configured layer, the model's own, or the input of the last layer */
  const char *feat = S(r, stage, "model", "features");
  r->features_node = *feat ? clfer_net_find(r->net, feat) : clfer_net_features_node(r->net);
  if (*feat && r->features_node < 0)
    return clfer_set_error(CLFER_NOT_FOUND, "%s: model.features: no layer '%s' in %s", r->opt->recipe, feat,
                           clfer_net_name(r->net));
  if (r->features_node < 0) r->features_node = clfer_net_output_node(r->net) - 1;
  return clfer_net_set_features(r->net, r->features_node);
}

/* ---- optimizer and schedule ---- */

static clfer_status make_optimizer(run_t *r, const char *stage, clfer_optim_t **out) {
  char at[700];
  clfer_optim_config_t cfg = clfer_optim_defaults(strcmp(S(r, stage, "optim", "type"), "adam") == 0 ? CLFER_OPTIM_ADAM
                                                                                                   : CLFER_OPTIM_SGD);
  cfg.momentum = (float)F(r, stage, "optim", "momentum");
  cfg.dampening = (float)F(r, stage, "optim", "dampening");
  cfg.nesterov = B(r, stage, "optim", "nesterov");
  cfg.weight_decay = (float)F(r, stage, "optim", "weight_decay");
  if (cfg.kind == CLFER_OPTIM_ADAM) cfg.momentum = 0, cfg.dampening = 0;
  cfg.beta1 = (float)F(r, stage, "optim", "beta1");
  cfg.beta2 = (float)F(r, stage, "optim", "beta2");
  cfg.eps = (float)F(r, stage, "optim", "eps");
  int n = 0;
  for (int i = 0; i < clfer_net_param_count(r->net); i++) n += !clfer_net_param(r->net, i)->is_buffer;
  clfer_optim_param_t *params = calloc((size_t)n + 2, sizeof *params);
  if (!params) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory for the optimizer");
  int j = 0;
  for (int i = 0; i < clfer_net_param_count(r->net); i++) {
    clfer_net_param_t *p = clfer_net_param(r->net, i);
    if (p->is_buffer) continue;
    params[j++] = (clfer_optim_param_t){p->name, &p->value, &p->grad, 1.0f, 0};
  }
  /* LTNet's transition matrices are trained like any parameter (projected before each use) */
  if (r->ltnet && r->transitions.buf) {
    float mult = (float)F(r, stage, "loss", "ltnet_lr_mult");
    params[j++] = (clfer_optim_param_t){"ltnet.transitions", &r->transitions, &r->dtransitions, mult, mult == 0};
  }
  clfer_status st = clfer_optim_create(r->rt, &cfg, params, j, out);
  free(params);
  if (st) return st;
  char items[64][64];
  int m = clfer_recipe_list(r->recipe, stage, "optim", "freeze", items, 64);
  for (int i = 0; i < m && !st; i++) {
    int matched = 0;
    st = clfer_optim_set_frozen(*out, items[i], 1, &matched);
    if (st || !matched)
      st = clfer_set_error(CLFER_NOT_FOUND, "%s: optim.freeze: no parameter matches '%s'",
                           where(r, stage, "optim", "freeze", at, sizeof at), items[i]);
  }
  /* freeze_until: every layer up to and including NAME, in the network's order */
  const char *until = S(r, stage, "optim", "freeze_until");
  int until_node = *until ? clfer_net_find(r->net, until) : 0;
  if (!st && *until && until_node <= 0)
    st = clfer_set_error(CLFER_NOT_FOUND, "%s: optim.freeze_until: no layer '%s' in %s",
                         where(r, stage, "optim", "freeze_until", at, sizeof at), until, clfer_net_name(r->net));
  if (!st && until_node == clfer_net_output_node(r->net))
    st = clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: optim.freeze_until = %s freezes the whole model (it is the output layer)",
                         where(r, stage, "optim", "freeze_until", at, sizeof at), until);
  for (int i = 0; !st && until_node > 0 && i < clfer_net_param_count(r->net); i++) {
    clfer_net_param_t *p = clfer_net_param(r->net, i);
    if (!p->is_buffer && p->node <= until_node) st = clfer_optim_set_frozen(*out, p->name, 1, NULL);
  }
  m = clfer_recipe_list(r->recipe, stage, "optim", "lr_mult", items, 64);
  for (int i = 0; i < m && !st; i++) {
    char *colon = strrchr(items[i], ':');
    int matched = 0;
    if (!colon) {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s: optim.lr_mult item '%s' is not prefix:multiplier",
                           where(r, stage, "optim", "lr_mult", at, sizeof at), items[i]);
      break;
    }
    *colon = '\0';
    st = clfer_optim_set_lr_mult(*out, items[i], (float)atof(colon + 1), &matched);
    if (st || !matched)
      st = clfer_set_error(CLFER_NOT_FOUND, "%s: optim.lr_mult: no parameter matches '%s'",
                           where(r, stage, "optim", "lr_mult", at, sizeof at), items[i]);
  }
  if (st) {
    clfer_optim_destroy(*out);
    *out = NULL;
  }
  return st;
}

static clfer_status make_schedule(run_t *r, const char *stage, int epochs, clfer_schedule_t *s) {
  const char *type = S(r, stage, "schedule", "type");
  float lr = (float)F(r, stage, "optim", "lr");
  char text[512], items[CLFER_SCHEDULE_MAX_MILESTONES + 1][64], values[CLFER_SCHEDULE_MAX_MILESTONES + 2][64];
  if (strcmp(type, "multistep") == 0) {
    int nm = clfer_recipe_list(r->recipe, stage, "schedule", "milestones", items, CLFER_SCHEDULE_MAX_MILESTONES);
    int nv = clfer_recipe_list(r->recipe, stage, "schedule", "values", values, CLFER_SCHEDULE_MAX_MILESTONES + 1);
    size_t used = 0;
    if (nv) { /* explicit rates: piecewise v0,m1,v1,m2,v2 */
      if (nv != nm + 1)
        return clfer_set_error(CLFER_PARSE_ERROR, "%s: schedule.values needs one more entry than schedule.milestones",
                               r->opt->recipe);
      used += (size_t)snprintf(text + used, sizeof text - used, "piecewise:%s", values[0]);
      for (int i = 0; i < nm; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, ",%s,%s", items[i], values[i + 1]);
    } else {
      used += (size_t)snprintf(text, sizeof text, "multistep:");
      for (int i = 0; i < nm; i++) used += (size_t)snprintf(text + used, sizeof text - used, "%s%s", i ? "," : "", items[i]);
      used += (size_t)snprintf(text + used, sizeof text - used, ":%g", F(r, stage, "schedule", "gamma"));
    }
  } else if (strcmp(type, "step") == 0) {
    snprintf(text, sizeof text, "step:%ld:%g", I(r, stage, "schedule", "step"), F(r, stage, "schedule", "gamma"));
  } else if (strcmp(type, "poly") == 0) {
    snprintf(text, sizeof text, "poly:%d:%g", epochs, F(r, stage, "schedule", "power"));
  } else if (strcmp(type, "cosine") == 0) {
    snprintf(text, sizeof text, "cosine:%d", epochs);
  } else {
    snprintf(text, sizeof text, "constant");
  }
  clfer_status st = clfer_schedule_parse(text, lr, s);
  char at[700];
  return st ? clfer_wrap_error(st, "%s: schedule.type = %s: ", where(r, stage, "schedule", "type", at, sizeof at), type)
            : CLFER_OK;
}

/* ---- evaluation ---- */

typedef struct eval_result {
  double loss;
  clfer_confusion_t confusion;
  clfer_scores_t scores;
} eval_result_t;

/* Runs every batch of `b` through the net in eval mode and hands each batch's logits ([n, k],
 * host memory) to `fn`: the one inference loop of evaluation and of the IPA2LT coders. */
typedef void (*logits_fn)(void *ctx, const clfer_batch_t *batch, const float *logits, int k);

static clfer_status run_batches(run_t *r, clfer_batcher_t *b, logits_fn fn, void *ctx) {
  float *logits = NULL;
  clfer_tensor_t x = {0};
  clfer_status st = clfer_batcher_start_epoch(b, 0);
  while (!st) {
    clfer_batch_t batch;
    if ((st = clfer_batcher_next(b, &batch)) || batch.n == 0) break;
    int shape[4] = {batch.n, r->in_c, r->in_h, r->in_w};
    if (!x.buf || x.shape[0] != batch.n) {
      clfer_tensor_release(&x);
      if ((st = clfer_tensor_create(r->rt, 4, shape, &x))) break;
    }
    const clfer_tensor_t *y;
    if ((st = clfer_tensor_upload(&x, batch.data)) || (st = clfer_net_forward(r->net, &x, 0, 0, &y))) break;
    int k = y->shape[1];
    float *grown = realloc(logits, (size_t)batch.n * k * sizeof *logits);
    if (!grown) {
      st = clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory for %d x %d logits", batch.n, k);
      break;
    }
    logits = grown;
    if ((st = clfer_tensor_download(y, logits))) break;
    fn(ctx, &batch, logits, k);
  }
  free(logits);
  clfer_tensor_release(&x);
  return st;
}

typedef struct eval_ctx {
  const run_t *r;
  eval_result_t *out;
  double loss_sum;
  long seen;
} eval_ctx_t;

static void eval_batch(void *ctx, const clfer_batch_t *batch, const float *logits, int k) {
  eval_ctx_t *e = ctx;
  int rk = e->r->k;
  for (int i = 0; i < batch->n; i++) {
    const float *z = logits + (size_t)i * k, *t = batch->targets + (size_t)i * rk;
    double m = z[0], sum = 0, l = 0;
    for (int c = 1; c < k; c++) m = fmax(m, z[c]);
    for (int c = 0; c < k; c++) sum += exp(z[c] - m);
    for (int c = 0; c < rk && c < k; c++)
      if (t[c] > 0) l -= t[c] * (z[c] - m - log(sum));
    e->loss_sum += l;
    e->seen++;
    clfer_confusion_add(&e->out->confusion, argmax(t, rk), argmax(z, k));
  }
}

static clfer_status evaluate(run_t *r, const char *stage, const split_data_t *split, eval_result_t *out) {
  clfer_confusion_init(&out->confusion, r->k, r->name_ptrs);
  out->loss = NAN;
  memset(&out->scores, 0, sizeof out->scores);
  out->scores.accuracy = out->scores.mean_diagonal = NAN;
  if (split->n == 0) return CLFER_OK;
  clfer_batcher_t *b = NULL;
  clfer_status st = make_batcher(r, stage, r->eval_store, r->eval_dist, split, 0, &b);
  if (st) return st;
  eval_ctx_t e = {r, out, 0, 0};
  if (!(st = run_batches(r, b, eval_batch, &e))) {
    out->loss = e.seen ? e.loss_sum / e.seen : NAN;
    out->scores = clfer_confusion_scores(&out->confusion);
  }
  clfer_batcher_destroy(b);
  return st;
}

/* ---- checkpoints ---- */

static clfer_status save_checkpoint(run_t *r, clfer_optim_t *optim, const char *file, const char *stage, int stage_index,
                                    int epoch, double best_metric, int best_epoch, int since_best) {
  char path[1100], buf[64];
  path_in(r, file, path, sizeof path);
  clfer_meta_t meta = {0};
  snprintf(buf, sizeof buf, "%d", stage_index);
  clfer_meta_set(&meta, "clfer.stage", buf);
  clfer_meta_set(&meta, "clfer.stage_name", stage ? stage : "");
  snprintf(buf, sizeof buf, "%d", epoch);
  clfer_meta_set(&meta, "clfer.epoch", buf);
  snprintf(buf, sizeof buf, "%ld", r->step);
  clfer_meta_set(&meta, "clfer.step", buf);
  snprintf(buf, sizeof buf, "%ld", r->stage_step0);
  clfer_meta_set(&meta, "clfer.stage_step0", buf);
  snprintf(buf, sizeof buf, "%.17g", best_metric);
  clfer_meta_set(&meta, "clfer.best_metric", buf);
  snprintf(buf, sizeof buf, "%d", best_epoch);
  clfer_meta_set(&meta, "clfer.best_epoch", buf);
  snprintf(buf, sizeof buf, "%d", since_best);
  clfer_meta_set(&meta, "clfer.since_best", buf);
  char classes[MAX_K * 65] = "";
  for (int i = 0; i < r->k; i++) {
    strncat(classes, r->names[i], sizeof classes - strlen(classes) - 1);
    if (i + 1 < r->k) strncat(classes, ",", sizeof classes - strlen(classes) - 1);
  }
  clfer_meta_set(&meta, "clfer.classes", classes);
  clfer_meta_set(&meta, "clfer.preprocess", S(r, stage, "data", "preprocess"));
  clfer_meta_set(&meta, "clfer.preprocess_on", r->prep_device ? "device" : "host");
  /* how evaluation shaped the images (eval and predict do the same): the data format (FER's
   * 48×48 faces are kept as stored, image files are resized on load) and augment.resize */
  clfer_meta_set(&meta, "clfer.data_format", S(r, stage, "data", "format"));
  long resize = I(r, stage, "augment", "resize");
  if (resize > 0) {
    snprintf(buf, sizeof buf, "%ld", resize);
    clfer_meta_set(&meta, "clfer.eval_resize", buf);
  }
  int n_state = optim ? clfer_optim_state_count(optim) : 0;
  clfer_named_tensor_t *extra = calloc((size_t)n_state + 3, sizeof *extra);
  clfer_status st = extra ? CLFER_OK : clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory saving %s", path);
  int n_extra = 0;
  for (int i = 0; i < n_state && !st; i++) {
    const char *name;
    clfer_tensor_t *t;
    if (!(st = clfer_optim_state_at(optim, i, &name, &t))) extra[n_extra++] = (clfer_named_tensor_t){name, t};
  }
  if (!st && r->centres.buf) extra[n_extra++] = (clfer_named_tensor_t){"loss.centres", &r->centres};
  if (!st && r->ltnet && r->transitions.buf)
    extra[n_extra++] = (clfer_named_tensor_t){"ltnet.transitions", &r->transitions};
  if (!st) st = clfer_net_save(r->net, path, &meta, extra, n_extra);
  free(extra);
  clfer_meta_free(&meta);
  return st;
}

/* ---- logging ---- */

static void progress(run_t *r, int epoch, int epochs, int batch, int batches, double ips, double loss) {
  if (!r->bar || r->opt->quiet) return;
  int width = 30, done = batches ? batch * width / batches : 0;
  double eta = ips > 0 ? (double)(batches - batch) * (r->train.n / (double)(batches ? batches : 1)) / ips : 0;
  char last[32] = "-";
  if (isfinite(loss)) snprintf(last, sizeof last, "%.4f", loss);
  fprintf(stderr, "\repoch %3d/%-3d [%.*s%*s] %4d/%-4d %7.1f img/s ETA %4.0fs last loss %s ", epoch + 1, epochs, done,
          "##############################", width - done, "", batch, batches, ips, eta, last);
  fflush(stderr);
}

/* A JSON number, or null for NaN/Inf (JSON has no NaN). */
static void json_num(FILE *f, const char *key, double v, int last) {
  if (isfinite(v))
    fprintf(f, "\"%s\":%.7g%s", key, v, last ? "" : ",");
  else
    fprintf(f, "\"%s\":null%s", key, last ? "" : ",");
}

static void write_metrics(run_t *r, const char *stage, int stage_index, int epoch, double lr, double train_loss,
                          const eval_result_t *v, const eval_result_t *t, double seconds, double ips) {
  if (!r->metrics) return;
  FILE *f = r->metrics;
  fprintf(f, "{\"stage\":\"%s\",\"stage_index\":%d,\"epoch\":%d,\"step\":%ld,", stage ? stage : "main", stage_index,
          epoch, r->step);
  json_num(f, "lr", lr, 0);
  json_num(f, "train_loss", train_loss, 0);
  json_num(f, "valid_loss", v->loss, 0);
  json_num(f, "valid_accuracy", v->scores.accuracy, 0);
  json_num(f, "valid_mean_diagonal", v->scores.mean_diagonal, 0);
  json_num(f, "test_loss", t->loss, 0);
  json_num(f, "test_accuracy", t->scores.accuracy, 0);
  json_num(f, "test_mean_diagonal", t->scores.mean_diagonal, 0);
  json_num(f, "seconds", seconds, 0);
  json_num(f, "images_per_second", ips, 0);
  fprintf(f, "\"preprocess_on\":\"%s\"}\n", r->prep_device ? "device" : "host");
  fflush(f);
}

/* ---- one stage ---- */

typedef struct curves {
  double train_loss[MAX_EPOCHS], valid_loss[MAX_EPOCHS], valid_acc[MAX_EPOCHS], test_acc[MAX_EPOCHS];
  int n;
} curves_t;

static int feature_dim(const run_t *r) {
  int fdims = 1, fshape[3] = {0, 1, 1};
  clfer_net_node_shape(r->net, r->features_node, &fdims, fshape);
  return fdims == 1 ? fshape[0] : fshape[0] * fshape[1] * fshape[2];
}

/* Center loss's class centres live across stages and in checkpoints; allocated before a resume
 * so that the checkpoint's centres are loaded into them. */
static clfer_status ensure_centres(run_t *r, const char *stage) {
  if (F(r, stage, "loss", "center_weight") <= 0 || r->centres.buf) return CLFER_OK;
  int cs[2] = {r->k, feature_dim(r)};
  return clfer_tensor_zeros(r->rt, 2, cs, &r->centres);
}

static clfer_status nan_diagnosis(run_t *r, const clfer_tensor_t *x, const char *stage, int epoch, long first_step) {
  /* rerun the last batch and name the first layer whose output is not finite */
  const clfer_tensor_t *y;
  const char *layer = "the loss";
  if (clfer_net_forward(r->net, x, 1, (uint64_t)r->step, &y) == CLFER_OK) {
    for (int i = 1; i < clfer_net_node_count(r->net); i++) {
      const clfer_tensor_t *a = clfer_net_activation(r->net, i);
      if (!a) continue;
      size_t n = clfer_tensor_numel(a);
      float *h = malloc(n * sizeof *h);
      int bad = 0;
      if (h && clfer_tensor_download(a, h) == CLFER_OK)
        for (size_t j = 0; j < n && !bad; j++) bad = !isfinite(h[j]);
      free(h);
      if (bad) {
        layer = clfer_net_node_name(r->net, i);
        break;
      }
    }
  }
  char at[700];
  return clfer_set_error(CLFER_NUMERICAL,
                         "stage %s, epoch %d, steps %ld-%ld: the training loss is not finite (first non-finite layer "
                         "output: %s); hint: lower optim.lr (now %g, set at %s), or check data.preprocess",
                         stage ? stage : "main", epoch, first_step, r->step, layer, F(r, stage, "optim", "lr"),
                         where(r, stage, "optim", "lr", at, sizeof at));
}

/* data.preprocess_on = auto: the stage starts on the host path; the loop's wait for batches and
 * its step time are measured over PREP_MEASURE_STEPS steps after PREP_WARMUP_STEPS, one batch is
 * timed on the device, and the batches move to the device when that shortens the step. */
enum { PREP_WARMUP_STEPS = 2, PREP_MEASURE_STEPS = 4 };

static clfer_status measure_prep(run_t *r, clfer_batcher_t *batcher, const clfer_batch_t *batch, int batches,
                                 const clfer_preproc_t *preproc, clfer__prep_measure_t *m, double *t0, double *wait0,
                                 int *measuring) {
  if (batch->index < PREP_WARMUP_STEPS) return CLFER_OK;
  double now = clfer__now_seconds(), wait = clfer_batcher_stats(batcher).wait_seconds;
  if (batch->index == PREP_WARMUP_STEPS) {
    *t0 = now, *wait0 = wait;
    return CLFER_OK;
  }
  int steps = batch->index - PREP_WARMUP_STEPS;
  if (steps < PREP_MEASURE_STEPS && batch->index + 1 < batches) return CLFER_OK;
  *measuring = 0;
  m->steps = steps;
  m->wait_per_step = (wait - *wait0) / steps;
  m->step_seconds = (now - *t0) / steps;
  const clfer_store_t *s = r->train_store;
  clfer_status st = clfer__prep_time_device(r->rt, s->images, batch->sample_ids, batch->n, s->height, s->width,
                                            s->channels, batch->matrices, preproc, &m->device_seconds);
  if (st) return clfer_wrap_error(st, "data.preprocess_on = auto: timing the device path: ");
  r->prep_device = clfer__prep_prefers_device(m);
  if (r->prep_device && (st = clfer_batcher_set_where(batcher, CLFER_BATCH_DEVICE))) return st;
  if (!r->opt->quiet)
    fprintf(stderr,
            "data: augmentation and pre-processing on the %s (measured: the loop waited %.2f ms per %.2f ms step for "
            "the host worker; the device takes %.2f ms per batch)\n",
            r->prep_device ? "device" : "host worker", 1e3 * m->wait_per_step, 1e3 * m->step_seconds,
            1e3 * m->device_seconds);
  return CLFER_OK;
}

static clfer_status run_stage(run_t *r, const char *stage, int stage_index, int start_epoch, clfer_optim_t *optim,
                              double best_metric, int best_epoch, int since_best, curves_t *curves,
                              clfer_train_result_t *res) {
  int epochs = r->epochs_override > 0 ? r->epochs_override : (int)I(r, stage, "train", "epochs");
  if (epochs > MAX_EPOCHS) epochs = MAX_EPOCHS;
  int patience = (int)I(r, stage, "train", "early_stop");
  long max_steps = r->epochs_override > 0 ? 0 : r->opt->max_steps; /* --steps counts the main model's steps */
  int on_loss = strcmp(S(r, stage, "train", "early_stop_on"), "valid_loss") == 0;
  int use_diag = strcmp(S(r, stage, "eval", "metric"), "mean_diagonal") == 0;
  int select_last = strcmp(S(r, stage, "train", "select"), "last") == 0;
  res->selected_last = select_last;
  uint64_t seed = (uint64_t)I(r, stage, "train", "seed");
  clfer_schedule_t schedule;
  clfer_status st = make_schedule(r, stage, epochs, &schedule);
  if (st) return st;
  clfer_net_set_dropout_seed(r->net, seed * 0x9e3779b97f4a7c15ull + 1);

  /* loss terms */
  double lp_weight = F(r, stage, "loss", "lp_weight"), center_weight = F(r, stage, "loss", "center_weight");
  clfer_loss_term_t terms[3];
  int n_terms = 0;
  memset(terms, 0, sizeof terms);
  int coders = r->ltnet ? r->train_store->num_coders : 0;
  if (r->ltnet) {
    clfer_loss_term_t t = {.kind = CLFER_LOSS_LTNET, .weight = 1};
    t.ltnet.coders = coders;
    t.ltnet.min_value = (float)F(r, stage, "loss", "ltnet_min");
    t.transitions = &r->transitions;
    t.dtransitions = &r->dtransitions;
    terms[n_terms++] = t;
  } else {
    terms[n_terms++] =
        (clfer_loss_term_t){.kind = r->multi_label ? CLFER_LOSS_MULTILABEL : CLFER_LOSS_XENT, .weight = 1};
  }
  int need_features = lp_weight > 0 || center_weight > 0;
  int feat_dim = feature_dim(r);
  if (lp_weight > 0) {
    clfer_loss_term_t t = {.kind = CLFER_LOSS_LOCALITY, .weight = (float)lp_weight};
    t.lp.k = (int)I(r, stage, "loss", "lp_k");
    terms[n_terms++] = t;
  }
  if (center_weight > 0) {
    if ((st = ensure_centres(r, stage))) return st;
    clfer_loss_term_t t = {.kind = CLFER_LOSS_CENTER, .weight = (float)center_weight};
    t.center_alpha = (float)F(r, stage, "loss", "center_lr");
    t.centres = &r->centres;
    terms[n_terms++] = t;
  }

  /* where the batches are pre-processed: fixed by the recipe, kept from before a resume, by
   * device type (train.deterministic), or measured over the first steps (auto) */
  clfer_preproc_t preproc;
  if ((st = clfer_preproc_from_name(S(r, stage, "data", "preprocess"), r->in_c, r->in_h, r->in_w, &preproc))) return st;
  const char *prep_on = S(r, stage, "data", "preprocess_on");
  int prep_measure = 0;
  const char *prep_why;
  if (strcmp(prep_on, "auto") != 0) {
    r->prep_device = strcmp(prep_on, "device") == 0, prep_why = "data.preprocess_on";
  } else if (start_epoch > 0 && r->resumed_prep_on[0]) {
    r->prep_device = strcmp(r->resumed_prep_on, "device") == 0, prep_why = "as measured before the resume";
  } else if (B(r, stage, "train", "deterministic")) {
    r->prep_device = !clfer_runtime_device(r->rt)->is_cpu, prep_why = "train.deterministic: by device type";
  } else {
    r->prep_device = 0, prep_measure = 1, prep_why = NULL;
  }
  r->resumed_prep_on[0] = '\0';
  if (prep_why && !r->opt->quiet)
    fprintf(stderr, "data: augmentation and pre-processing on the %s (%s)\n", r->prep_device ? "device" : "host worker",
            prep_why);
  clfer__prep_measure_t measured = {0};
  double measure_t0 = 0, measure_wait0 = 0;

  clfer_batcher_t *batcher = NULL;
  if ((st = make_batcher(r, stage, r->train_store, r->train_dist, &r->train, 1, &batcher))) return st;
  int bs = (int)I(r, stage, "train", "batch_size");
  int xshape[4] = {bs, r->in_c, r->in_h, r->in_w}, tshape[2] = {bs, r->k}, lshape[1] = {bs}, one[1] = {1};
  clfer_tensor_t x = {0}, targets = {0}, labels = {0}, dlogits = {0}, dfeat = {0}, loss_sum = {0}, loss_batch = {0};
  clfer_tensor_t coder_labels = {0};
  if (coders > 0) {
    int cshape[2] = {bs, coders};
    if ((st = clfer_tensor_create(r->rt, 2, cshape, &coder_labels))) {
      clfer_batcher_destroy(batcher);
      return st;
    }
  }
  /* Two staging slots for the uploads, so they can be asynchronous: a slot is refilled two steps
   * later, after waiting on the marker enqueued behind its uploads (long passed by then), and the
   * host never waits for the device inside a step. */
  struct {
    float *x, *targets, *labels, *coders;
    uint8_t *images; /* device pre-processing: the gathered 8-bit images and their matrices */
    float *matrices;
    clfer_tensor_t dimages, dmatrices;
    cl_event uploaded;
  } slot[2] = {{0}};
  int cur = 0;
  size_t image_floats = (size_t)r->in_c * r->in_h * r->in_w;
  const clfer_store_t *ts = r->train_store;
  size_t image_bytes = (size_t)ts->height * ts->width * ts->channels;
  int image_words = (int)(((size_t)bs * image_bytes + 3) / 4); /* the 8-bit batch travels as a float tensor */
  for (int i = 0; i < 2; i++) {
    slot[i].x = malloc((size_t)bs * image_floats * sizeof(float));
    slot[i].targets = malloc((size_t)bs * r->k * sizeof(float));
    slot[i].labels = malloc((size_t)bs * sizeof(float));
    slot[i].coders = coders > 0 ? malloc((size_t)bs * coders * sizeof(float)) : NULL;
    if (!slot[i].x || !slot[i].targets || !slot[i].labels || (coders > 0 && !slot[i].coders)) {
      st = clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory for batches");
      goto done;
    }
  }
  if ((st = clfer_tensor_create(r->rt, 4, xshape, &x)) || (st = clfer_tensor_create(r->rt, 2, tshape, &targets)) ||
      (st = clfer_tensor_create(r->rt, 1, lshape, &labels)) || (st = clfer_tensor_create(r->rt, 1, one, &loss_sum)) ||
      (st = clfer_tensor_create(r->rt, 1, one, &loss_batch)))
    goto done;
  char path[1100];
  for (int epoch = start_epoch; epoch < epochs; epoch++) {
    double lr = clfer_schedule_lr(&schedule, epoch);
    double t0 = clfer__now_seconds(), wait0 = clfer_batcher_stats(batcher).wait_seconds;
    long first_step = r->step + 1;
    int complete = 1; /* an epoch cut short by --steps is not checkpointed as finished */
    if ((st = clfer_tensor_fill(&loss_sum, 0.0f)) || (st = clfer_batcher_start_epoch(batcher, epoch))) goto done;
    int batches = clfer_batcher_batches_per_epoch(batcher);
    long images = 0;
    clfer_batch_t batch;
    while (!(st = clfer_batcher_next(batcher, &batch)) && batch.n > 0) {
      int n = batch.n;
      if (prep_measure && (st = measure_prep(r, batcher, &batch, batches, &preproc, &measured, &measure_t0,
                                             &measure_wait0, &prep_measure)))
        goto done;
      clfer_tensor_t xb = x, tb = targets, lb = labels;
      xb.shape[0] = tb.shape[0] = lb.shape[0] = n; /* a smaller last batch is a view of the same buffers */
      cur ^= 1;
      if ((st = clfer_event_wait(&slot[cur].uploaded))) goto done;
      /* the batcher reuses its buffers on its next call: the slot keeps a copy for the async upload */
      if (batch.images) {
        if (!slot[cur].images) {
          int ws[1] = {image_words}, ms[1] = {bs * 6};
          slot[cur].images = malloc((size_t)image_words * 4);
          slot[cur].matrices = malloc((size_t)bs * 6 * sizeof(float));
          if (!slot[cur].images || !slot[cur].matrices) {
            st = clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory for batches");
            goto done;
          }
          if ((st = clfer_tensor_create(r->rt, 1, ws, &slot[cur].dimages)) ||
              (st = clfer_tensor_create(r->rt, 1, ms, &slot[cur].dmatrices)))
            goto done;
          if (slot[cur].dmatrices.offset != 0) { /* augment.cl reads the matrices from the buffer's start */
            st = clfer_set_error(CLFER_INTERNAL, "device pre-processing: matrices at offset %zu", slot[cur].dmatrices.offset);
            goto done;
          }
        }
        memcpy(slot[cur].images, batch.images, (size_t)n * image_bytes);
        memcpy(slot[cur].matrices, batch.matrices, (size_t)n * 6 * sizeof(float));
        if ((st = clfer_tensor_upload_async(&slot[cur].dimages, (const float *)(const void *)slot[cur].images)) ||
            (st = clfer_tensor_upload_async(&slot[cur].dmatrices, slot[cur].matrices)))
          goto done;
      } else {
        memcpy(slot[cur].x, batch.data, (size_t)n * image_floats * sizeof(float));
      }
      /* scheme targets: PLD draws a fresh one-hot per (epoch, sample); ML uses (1−ε)·1[p>0] + ε */
      clfer_labels_targets(r->mode, batch.targets, batch.sample_ids, n, r->k, seed, (uint64_t)epoch,
                           slot[cur].targets);
      for (int i = 0; i < n; i++) slot[cur].labels[i] = (float)argmax(batch.targets + (size_t)i * r->k, r->k);
      if ((!batch.images && (st = clfer_tensor_upload_async(&xb, slot[cur].x))) ||
          (st = clfer_tensor_upload_async(&tb, slot[cur].targets)) ||
          (st = clfer_tensor_upload_async(&lb, slot[cur].labels)))
        goto done;
      clfer_tensor_t cb = coder_labels;
      if (coders > 0) {
        cb.shape[0] = n;
        for (int i = 0; i < n; i++)
          for (int c = 0; c < coders; c++)
            slot[cur].coders[i * coders + c] =
                (float)r->train_store->coder_labels[(size_t)batch.sample_ids[i] * coders + c];
        if ((st = clfer_tensor_upload_async(&cb, slot[cur].coders))) goto done;
      }
      /* behind every upload of this slot: waited on when the slot comes round again */
      if ((st = clfer_queue_marker(r->rt, &slot[cur].uploaded))) goto done;
      if (batch.images &&
          (st = clfer_preprocess_device(r->rt, slot[cur].dimages.buf, slot[cur].dimages.offset * sizeof(float), n,
                                        ts->height, ts->width, ts->channels, NULL, slot[cur].dmatrices.buf, n,
                                        &preproc, &xb)))
        goto done;
      const clfer_tensor_t *logits;
      if ((st = clfer_net_forward(r->net, &xb, 1, (uint64_t)r->step, &logits))) goto done;
      if (!dlogits.buf || dlogits.shape[0] != n) {
        clfer_tensor_release(&dlogits);
        if ((st = clfer_tensor_create(r->rt, 2, logits->shape, &dlogits))) goto done;
      }
      const clfer_tensor_t *feat = need_features ? clfer_net_activation(r->net, r->features_node) : NULL;
      clfer_tensor_t feat2 = {0};
      if (feat) {
        int fs[2] = {n, feat_dim};
        if ((st = clfer_tensor_reshape(feat, 2, fs, &feat2))) goto done;
        if (!dfeat.buf || dfeat.shape[0] != n) {
          clfer_tensor_release(&dfeat);
          if ((st = clfer_tensor_create(r->rt, 2, fs, &dfeat))) goto done;
        }
      }
      clfer_loss_inputs_t in = {.logits = logits, .features = feat ? &feat2 : NULL, .targets = &tb, .labels = &lb,
                                .coder_labels = coders > 0 ? &cb : NULL};
      /* the epoch's loss is summed on the device: one read per epoch, no sync per step */
      if ((st = clfer_objective(r->rt, terms, n_terms, &in, &dlogits, feat ? &dfeat : NULL, &loss_batch, 1)) ||
          (st = clfer_axpy(r->rt, 1.0f, &loss_batch, &loss_sum)))
        goto done;
      if ((st = clfer_net_backward(r->net, &dlogits, feat ? &dfeat : NULL))) goto done;
      if ((st = clfer_optim_step(optim, (float)lr))) goto done;
      r->step++;
      images += n;
      double el = clfer__now_seconds() - t0;
      if (batch.index % 4 == 0 || batch.index + 1 == batches)
        progress(r, epoch, epochs, batch.index + 1, batches, images / el, r->last_loss);
      if (max_steps > 0 && r->step >= max_steps) {
        complete = batch.index + 1 == batches;
        break;
      }
    }
    if (st) goto done;
    if (prep_measure) { /* an epoch too short to measure: the host worker keeps the work */
      prep_measure = 0;
      if (!r->opt->quiet)
        fprintf(stderr, "data: augmentation and pre-processing on the host worker (too few batches to measure)\n");
    }
    float loss_total = 0;
    if ((st = clfer_tensor_download(&loss_sum, &loss_total))) goto done;
    double train_seconds = clfer__now_seconds() - t0;
    double ips = images / (train_seconds > 0 ? train_seconds : 1);
    double wait = clfer_batcher_stats(batcher).wait_seconds - wait0;
    r->wait_seconds += wait;
    r->train_seconds += train_seconds;
    int nb = batches > 0 ? batches : 1;
    double train_loss = loss_total / nb;
    if (!isfinite(train_loss)) {
      st = nan_diagnosis(r, &x, stage, epoch, first_step);
      goto done;
    }
    r->last_loss = train_loss;
    if (r->bar && !r->opt->quiet) fprintf(stderr, "\n");
    eval_result_t v, t;
    if ((st = evaluate(r, stage, &r->valid, &v)) || (st = evaluate(r, stage, &r->test, &t))) goto done;
    double seconds = clfer__now_seconds() - t0;
    write_metrics(r, stage, stage_index, epoch, lr, train_loss, &v, &t, seconds, ips);
    if (curves->n < MAX_EPOCHS) {
      curves->train_loss[curves->n] = train_loss;
      curves->valid_loss[curves->n] = v.loss;
      curves->valid_acc[curves->n] = v.scores.accuracy;
      curves->test_acc[curves->n] = t.scores.accuracy;
      curves->n++;
    }
    /* best-validation selection (the papers report test accuracy at the best validation epoch) */
    double metric = on_loss ? -v.loss : (use_diag ? v.scores.mean_diagonal : v.scores.accuracy);
    if (r->valid.n == 0) metric = -train_loss;
    int improved = !(metric <= best_metric) && isfinite(metric);
    if (improved) { /* early stopping watches the metric whatever train.select keeps */
      best_metric = metric;
      best_epoch = epoch;
      since_best = 0;
    } else {
      since_best++;
    }
    if (improved || select_last) { /* the selected epoch: reported, best.safetensors, confusion plots */
      res->best_valid_accuracy = v.scores.accuracy;
      res->best_valid_mean_diagonal = v.scores.mean_diagonal;
      res->test_accuracy = t.scores.accuracy;
      res->test_mean_diagonal = t.scores.mean_diagonal;
      res->best_epoch = epoch;
      if ((st = save_checkpoint(r, NULL, "best.safetensors", stage, stage_index, epoch, best_metric, best_epoch, 0)))
        goto done;
      for (int s = 0; s < 2; s++) {
        const eval_result_t *e = s ? &t : &v;
        const char *split = s ? "test" : "valid";
        char file[64], title[128];
        snprintf(file, sizeof file, "confusion_%s.csv", split);
        path_in(r, file, path, sizeof path);
        if ((st = clfer_confusion_write_csv(&e->confusion, path))) goto done;
        snprintf(file, sizeof file, "confusion_%s.svg", split);
        snprintf(title, sizeof title, "%s, %s split, epoch %d (%s)", clfer_net_name(r->net), split, epoch,
                 select_last ? "last" : "best validation");
        path_in(r, file, path, sizeof path);
        if ((st = clfer_confusion_write_svg(&e->confusion, title, path))) goto done;
      }
    }
    if (!r->opt->quiet)
      fprintf(stderr,
              "%s%s%sepoch %d: lr %.4g, train loss %.4f, valid loss %.4f acc %.2f%% mean diag %.2f%%, test acc %.2f%%, "
              "%.0f img/s, data wait %.1f%%%s\n",
              stage ? "[" : "", stage ? stage : "", stage ? "] " : "", epoch, lr, train_loss, v.loss, 100 * v.scores.accuracy, 100 * v.scores.mean_diagonal,
              100 * t.scores.accuracy, ips, 100 * wait / (train_seconds > 0 ? train_seconds : 1), improved ? " *" : "");
    res->epochs_run++;
    res->images_per_second = ips;
    if (complete && (st = save_checkpoint(r, optim, "last.safetensors", stage, stage_index, epoch, best_metric,
                                          best_epoch, since_best)))
      goto done;
    if (max_steps > 0 && r->step >= max_steps) break;
    if (patience > 0 && since_best >= patience) {
      if (!r->opt->quiet) fprintf(stderr, "early stop: no improvement for %d epochs\n", patience);
      break;
    }
  }
done:
  if (r->bar && !r->opt->quiet && st) fprintf(stderr, "\n");
  for (int i = 0; i < 2; i++) {
    clfer_event_wait(&slot[i].uploaded); /* the queue may still read the slot */
    free(slot[i].x), free(slot[i].targets), free(slot[i].labels), free(slot[i].coders);
    free(slot[i].images), free(slot[i].matrices);
    clfer_tensor_release(&slot[i].dimages), clfer_tensor_release(&slot[i].dmatrices);
  }
  clfer_tensor_release(&coder_labels);
  clfer_tensor_release(&x), clfer_tensor_release(&targets), clfer_tensor_release(&labels);
  clfer_tensor_release(&dlogits), clfer_tensor_release(&dfeat), clfer_tensor_release(&loss_sum);
  clfer_tensor_release(&loss_batch);
  clfer_batcher_destroy(batcher);
  return st;
}

/* ---- IPA2LT (Zeng, Shan, Chen 2018): machine coders, then LTNet on inconsistent labels ---- */

/* Argmax predictions of the current net for every sample of a store. */
static void predict_batch(void *ctx, const clfer_batch_t *batch, const float *logits, int k) {
  int *out = ctx;
  for (int i = 0; i < batch->n; i++) out[batch->sample_ids[i]] = argmax(logits + (size_t)i * k, k);
}

static clfer_status predict_all(run_t *r, const char *stage, const clfer_store_t *s, const float *dist, int *out) {
  split_data_t all = {malloc(((size_t)s->n + 1) * sizeof(int)), s->n};
  if (!all.ids) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory predicting");
  for (int i = 0; i < s->n; i++) all.ids[i] = i;
  clfer_batcher_t *b = NULL;
  clfer_status st = make_batcher(r, stage, s, dist, &all, 0, &b);
  if (!st) st = run_batches(r, b, predict_batch, out);
  free(all.ids);
  clfer_batcher_destroy(b);
  return st;
}

/* One of the dataset's CSVs through the image-folder reader (paths relative to the ipa2lt
 * folder). unlabelled.csv has no label column, which the reader requires: a copy with a
 * placeholder label is read instead (the label is never used). */
static clfer_status read_ipa2lt_csv(run_t *r, const char *dir, const char *name, int split, clfer_store_t **out) {
  char csv[1200], copy[1200];
  snprintf(csv, sizeof csv, "%s/%s", dir, name);
  const char *path = csv;
  if (strcmp(name, "unlabelled.csv") == 0) {
    path_in(r, "unlabelled.labelled.csv", copy, sizeof copy);
    FILE *in = fopen(csv, "r"), *o = in ? fopen(copy, "w") : NULL;
    if (!in || !o) {
      if (in) fclose(in);
      return clfer_set_error(CLFER_IO_ERROR, "cannot read %s or write %s", csv, copy);
    }
    char line[2048];
    while (fgets(line, sizeof line, in)) {
      line[strcspn(line, "\r\n")] = '\0';
      if (*line) fprintf(o, "%s,%s\n", line, r->names[0]);
    }
    fclose(in);
    fclose(o);
    path = copy;
  }
  clfer_read_options_t ro = {.width = r->in_w, .height = r->in_h, .channels = r->in_c};
  clfer_status st = clfer_read_image_folder(dir, path, r->name_ptrs, r->k, &ro, out);
  if (st) return st;
  for (int i = 0; i < (*out)->n; i++) (*out)->split[i] = (uint8_t)split;
  return CLFER_OK;
}

typedef struct named_label {
  const char *name;
  int label;
} named_label_t;

static int cmp_name(const void *a, const void *b) {
  return strcmp(((const named_label_t *)a)->name, ((const named_label_t *)b)->name);
}

static double agreement(const int *pred, const int *truth, int n) {
  int hit = 0, known = 0;
  for (int i = 0; i < n; i++)
    if (truth[i] >= 0) known++, hit += pred[i] == truth[i];
  return known ? (double)hit / known : NAN;
}

/* A side model's record that it finished (RUNDIR/SUBDIR/done.json, written after its last
 * checkpoint): its test accuracy, so a resumed run reports what the first one did. */
static clfer_status write_done(const char *path, double test_accuracy) {
  char tmp[1200];
  FILE *f = clfer__replace_open(path, tmp, sizeof tmp);
  if (!f) return CLFER_IO_ERROR;
  fprintf(f, "{\"test_accuracy\":%.17g}\n", isfinite(test_accuracy) ? test_accuracy : -1.0);
  return clfer__replace_close(f, tmp, path);
}

static clfer_status read_done(const char *path, double *test_accuracy) {
  FILE *f = fopen(path, "r");
  if (!f) return CLFER_NOT_FOUND;
  double v = NAN;
  int n = fscanf(f, " {\"test_accuracy\":%lf}", &v);
  fclose(f);
  if (n != 1) return clfer_set_error(CLFER_PARSE_ERROR, "%s: not a clfer done record", path);
  *test_accuracy = v >= 0 ? v : NAN;
  return CLFER_OK;
}

/* Trains a side model (an IPA2LT machine coder or a baseline CNN) with the recipe's model and
 * optimizer for ipa2lt.coder_epochs on `train` (its TRAIN split, targets `train_dist`), tested on
 * `test`'s TEST split, in RUNDIR/SUBDIR; returns the model in *out (r->net is left as it was).
 * With --resume, one that finished before (done.json) is loaded from its last.safetensors. */
static clfer_status train_aux(run_t *r, const char *stage, clfer_store_t *train, float *train_dist, clfer_store_t *test,
                              float *test_dist, const char *subdir, const char *what, double *test_accuracy,
                              clfer_net_t **out) {
  clfer_net_t *main_net = r->net;
  char main_dir[1024], path[1100];
  FILE *main_metrics = r->metrics;
  memcpy(main_dir, r->dir, sizeof main_dir);
  clfer_store_t *saved_train = r->train_store, *saved_eval = r->eval_store;
  float *saved_train_dist = r->train_dist, *saved_eval_dist = r->eval_dist;
  split_data_t saved_split[3] = {r->train, r->valid, r->test};
  int saved_ltnet = r->ltnet;
  long step0 = r->step;
  r->step = 0; /* its own count (dropout masks follow the step), whatever the main run's, resumed or not */
  r->net = NULL;
  r->ltnet = 0;
  r->epochs_override = (int)I(r, stage, "ipa2lt", "coder_epochs");
  r->train_store = train, r->eval_store = test, r->train_dist = train_dist, r->eval_dist = test_dist;
  r->metrics = NULL;
  memset(&r->train, 0, sizeof r->train), memset(&r->valid, 0, sizeof r->valid), memset(&r->test, 0, sizeof r->test);
  snprintf(r->dir, sizeof r->dir, "%.1000s/%s", main_dir, subdir);
  clfer_optim_t *optim = NULL;
  curves_t *curves = calloc(1, sizeof *curves);
  clfer_train_result_t res;
  memset(&res, 0, sizeof res);
  res.test_accuracy = NAN;
  clfer_status st = CLFER_OK;
  if (!curves || mkdir_p(r->dir) != 0) st = clfer_set_error(CLFER_IO_ERROR, "cannot create %s", r->dir);
  if (!st) st = split_ids(train, train_dist, r->k, CLFER_SPLIT_TRAIN, 0, 0, &r->train);
  if (!st) st = split_ids(test, test_dist, r->k, CLFER_SPLIT_TEST, 0, 0, &r->test);
  /* --resume: a side model that finished before is loaded, not trained again */
  char done[1100], last[1100];
  path_in(r, "done.json", done, sizeof done);
  path_in(r, "last.safetensors", last, sizeof last);
  int reuse = !st && r->opt->resume && read_done(done, &res.test_accuracy) == CLFER_OK;
  if (reuse) {
    if (!r->opt->quiet) fprintf(stderr, "IPA2LT %s: finished before the resume, loaded from %s\n", what, last);
    if (!(st = build_model(r, stage))) st = clfer_net_load_weights(r->net, last);
    if (st) clfer_wrap_error(st, "--resume: %s (delete %s to train it again): ", what, done);
  } else {
    path_in(r, "metrics.jsonl", path, sizeof path);
    if (!st && !(r->metrics = fopen(path, "w"))) st = clfer_set_error(CLFER_IO_ERROR, "cannot write %s", path);
    if (!st && !r->opt->quiet) fprintf(stderr, "IPA2LT %s (%d faces), %d epochs\n", what, r->train.n, r->epochs_override);
    if (!st && !(st = build_model(r, stage)) && !(st = make_optimizer(r, stage, &optim)))
      st = run_stage(r, stage, 0, 0, optim, -INFINITY, -1, 0, curves, &res);
    if (!st) st = write_done(done, res.test_accuracy);
  }
  *test_accuracy = res.test_accuracy;
  *out = st ? NULL : r->net;
  if (st) clfer_net_destroy(r->net);
  clfer_optim_destroy(optim);
  free(curves);
  if (r->metrics) fclose(r->metrics);
  free_split(&r->train), free_split(&r->test);
  r->train = saved_split[0], r->valid = saved_split[1], r->test = saved_split[2];
  r->train_store = saved_train, r->eval_store = saved_eval;
  r->train_dist = saved_train_dist, r->eval_dist = saved_eval_dist;
  r->net = main_net;
  r->metrics = main_metrics;
  memcpy(r->dir, main_dir, sizeof main_dir);
  r->step = step0;
  r->ltnet = saved_ltnet;
  r->epochs_override = 0;
  return st;
}

static clfer_status ipa2lt_baselines(run_t *r, const char *stage, int label_sets, FILE *report);

/* The paper's synthetic check (ipa2lt.label_sets): the faces of the first set, with one coder
 * column per set (named by its file, without ".csv"), then the test faces. Every set must list the
 * same faces in the same order. */
static clfer_status label_sets_union(run_t *r, const char *dir, char sets[][64], int n_sets,
                                     const clfer_store_t *test, clfer_store_t **out) {
  clfer_store_t *set[CLFER_LTNET_MAX_CODERS] = {0}, *u = NULL;
  char names[CLFER_LTNET_MAX_CODERS][64];
  const char *name_ptrs[CLFER_LTNET_MAX_CODERS];
  clfer_status st = CLFER_OK;
  for (int c = 0; c < n_sets && !st; c++) {
    snprintf(names[c], sizeof names[c], "%.*s", (int)strcspn(sets[c], "."), sets[c]);
    name_ptrs[c] = names[c];
    if ((st = read_ipa2lt_csv(r, dir, sets[c], CLFER_SPLIT_TRAIN, &set[c]))) break;
    if (set[c]->n != set[0]->n) {
      st = clfer_set_error(CLFER_INVALID_ARGUMENT, "%s/%s: %d faces, but %s has %d (label sets list the same faces)", dir,
                           sets[c], set[c]->n, sets[0], set[0]->n);
      break;
    }
    for (int j = 0; j < set[c]->n && !st; j++)
      if (strcmp(set[c]->names[j], set[0]->names[j]) != 0)
        st = clfer_set_error(CLFER_INVALID_ARGUMENT,
                             "%s/%s:%d: face '%s' where %s has '%s' (label sets list the same faces in the same order)",
                             dir, sets[c], j + 1, set[c]->names[j], sets[0], set[0]->names[j]);
  }
  if (!st) {
    clfer_store_desc_t desc = {set[0]->height, set[0]->width, set[0]->channels, r->k, 0, r->name_ptrs, n_sets, name_ptrs};
    st = clfer_store_create(&desc, &u);
  }
  int coder[CLFER_LTNET_MAX_CODERS];
  for (int j = 0; u && j < set[0]->n && !st; j++) {
    for (int c = 0; c < n_sets; c++) coder[c] = set[c]->labels[j];
    st = clfer_store_append(u, clfer_store_image(set[0], j), NULL, coder[0], coder, CLFER_SPLIT_TRAIN,
                            CLFER_DATASET_FOLDER, -1, set[0]->names[j], NULL);
  }
  for (int j = 0; u && j < test->n && !st; j++)
    st = clfer_store_append(u, clfer_store_image(test, j), NULL, test->labels[j], NULL, CLFER_SPLIT_TEST,
                            CLFER_DATASET_FOLDER, -1, test->names[j], NULL);
  for (int c = 0; c < n_sets; c++) clfer_store_destroy(set[c]);
  if (st) {
    clfer_store_destroy(u);
    return st;
  }
  *out = u;
  return CLFER_OK;
}

/* IPA2LT steps 1 and 2: a machine coder per labelled set (trained in RUNDIR/coder_a|b), each
 * labelling the other set and the pool; the union of all faces gets the coders' labels as
 * columns human_a, human_b, machine_a, machine_b (−1 where a coder gave none); test.csv is the
 * test split. Leaves r's stage data pointing at the union, ready for LTNet (step 3). */
static clfer_status ipa2lt_prepare(run_t *r, const char *stage, FILE *report) {
  char dir[1024], at[700];
  clfer_recipe_path(r->recipe, stage, "data", "dir", dir, sizeof dir);
  if (!is_dir(dir))
    return clfer_set_error(CLFER_NOT_FOUND, "%s: data.dir: no such directory '%s' (run `clfer synth --ipa2lt`)",
                           where(r, stage, "data", "dir", at, sizeof at), dir);
  free_stage_data(r);
  r->mode = CLFER_FERPLUS_MAJORITY;
  r->multi_label = 0;
  enum { SET_A, SET_B, SET_POOL, SET_TEST, SET_TRUTH, N_SETS };
  static const char *files[N_SETS] = {"set_a.csv", "set_b.csv", "unlabelled.csv", "test.csv", "truth.csv"};
  char label_sets[CLFER_LTNET_MAX_CODERS + 1][64];
  int n_label_sets = clfer_recipe_list(r->recipe, stage, "ipa2lt", "label_sets", label_sets, CLFER_LTNET_MAX_CODERS + 1);
  if (n_label_sets > CLFER_LTNET_MAX_CODERS)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: ipa2lt.label_sets: at most %d sets",
                           where(r, stage, "ipa2lt", "label_sets", at, sizeof at), CLFER_LTNET_MAX_CODERS);
  clfer_store_t *set[N_SETS] = {0};
  float *dist[N_SETS] = {0};
  int *pred[2][N_SETS] = {{0}};
  clfer_store_t *u = NULL;
  clfer_status st = CLFER_OK;
  for (int i = 0; i < N_SETS && !st; i++)
    if ((!n_label_sets || i >= SET_TEST) && /* the label-set check needs only the test faces and the truth */
        !(st = read_ipa2lt_csv(r, dir, files[i], i == SET_TEST ? CLFER_SPLIT_TEST : CLFER_SPLIT_TRAIN, &set[i])))
      st = distributions(r, set[i], &dist[i]);
  if (!st && n_label_sets) st = label_sets_union(r, dir, label_sets, n_label_sets, set[SET_TEST], &u);
  /* step 1: one machine coder per labelled set, same model and optimizer as LTNet; step 2: it
   * labels every set (its own too, for the report) */
  for (int c = 0; c < 2 && !st && !n_label_sets; c++) {
    char sub[16], what[64];
    snprintf(sub, sizeof sub, "coder_%c", "ab"[c]);
    snprintf(what, sizeof what, "step 1: machine coder %c on %s", "AB"[c], files[c]);
    clfer_net_t *coder = NULL, *main_net = r->net;
    double acc = NAN;
    st = train_aux(r, stage, set[c], dist[c], set[SET_TEST], dist[SET_TEST], sub, what, &acc, &coder);
    r->net = coder;
    for (int i = 0; i < N_SETS && !st; i++) {
      pred[c][i] = malloc(((size_t)set[i]->n + 1) * sizeof(int));
      st = pred[c][i] ? predict_all(r, stage, set[i], dist[i], pred[c][i])
                      : clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory");
    }
    r->net = main_net;
    clfer_net_destroy(coder);
    if (!st && report)
      fprintf(report, "\"machine_%c\":{\"test_accuracy\":%.6g,\"agreement_with_set_%c\":%.6g},", "ab"[c], acc,
              "ab"[1 - c], agreement(pred[c][1 - c], set[1 - c]->labels, set[1 - c]->n));
  }

  /* the union: every face with its coders' labels; test faces as the test split */
  if (!st && !n_label_sets) {
    static const char *coder_names[4] = {"human_a", "human_b", "machine_a", "machine_b"};
    clfer_store_desc_t desc = {set[SET_A]->height, set[SET_A]->width, set[SET_A]->channels, r->k, 0, r->name_ptrs, 4, coder_names};
    st = clfer_store_create(&desc, &u);
    for (int i = 0; i < SET_TRUTH && !st; i++)
      for (int j = 0; j < set[i]->n && !st; j++) {
        int coder[4] = {i == SET_A ? set[SET_A]->labels[j] : -1, i == SET_B ? set[SET_B]->labels[j] : -1,
                        i == SET_B || i == SET_POOL ? pred[0][i][j] : -1, i == SET_A || i == SET_POOL ? pred[1][i][j] : -1};
        int label = i == SET_TEST ? set[SET_TEST]->labels[j] : i == SET_A ? coder[0] : i == SET_B ? coder[1] : coder[2];
        st = clfer_store_append(u, clfer_store_image(set[i], j), NULL, label, i == SET_TEST ? NULL : coder,
                                i == SET_TEST ? CLFER_SPLIT_TEST : CLFER_SPLIT_TRAIN, CLFER_DATASET_FOLDER, -1,
                                set[i]->names[j], NULL);
      }
  }
  if (!st) {
    r->train_store = r->eval_store = u;
    u = NULL;
    if (!(st = distributions(r, r->train_store, &r->train_dist))) {
      r->eval_dist = r->train_dist;
      if (!(st = split_ids(r->train_store, r->train_dist, r->k, CLFER_SPLIT_TRAIN, 0, 0, &r->train)))
        st = split_ids(r->train_store, r->train_dist, r->k, CLFER_SPLIT_TEST, 0, 0, &r->test);
    }
  }
  /* LTNet's transitions: the reference code's start (identity-heavy rows) */
  r->ltnet = strcmp(S(r, stage, "loss", "type"), "ltnet") == 0; /* cross_entropy: a CNN on the union's first label */
  if (!st && r->ltnet && !r->transitions.buf) {
    int coders = r->train_store->num_coders, ts[3] = {coders, r->k, r->k};
    clfer_ltnet_params_t lp = {.coders = coders, .min_value = (float)F(r, stage, "loss", "ltnet_min")};
    if (!(st = clfer_tensor_create(r->rt, 3, ts, &r->transitions)) && !(st = clfer_tensor_zeros(r->rt, 3, ts, &r->dtransitions)))
      st = clfer_ltnet_init(r->rt, &lp, (float)F(r, stage, "loss", "ltnet_diag"), (uint64_t)I(r, stage, "train", "seed"),
                            &r->transitions);
  }
  /* the truth of the training faces, by image name, for the latent-truth agreement */
  if (!st) {
    int n = r->train_store->n;
    int *truth = malloc(((size_t)n + 1) * sizeof *truth);
    named_label_t *sorted = malloc(((size_t)set[SET_TRUTH]->n + 1) * sizeof *sorted);
    if (!truth || !sorted) st = clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory");
    for (int i = 0; !st && i < set[SET_TRUTH]->n; i++) sorted[i] = (named_label_t){set[SET_TRUTH]->names[i], set[SET_TRUTH]->labels[i]};
    if (!st) qsort(sorted, (size_t)set[SET_TRUTH]->n, sizeof *sorted, cmp_name);
    for (int i = 0; !st && i < n; i++) {
      named_label_t key = {r->train_store->names[i], -1};
      const named_label_t *hit = bsearch(&key, sorted, (size_t)set[SET_TRUTH]->n, sizeof *sorted, cmp_name);
      truth[i] = hit && r->train_store->split[i] == CLFER_SPLIT_TRAIN ? hit->label : -1;
    }
    /* each coder's agreement with the truth where it labelled */
    int coders = r->train_store->num_coders;
    for (int c = 0; !st && report && c < coders; c++) {
      int hit = 0, known = 0;
      for (int i = 0; i < n; i++) {
        int y = r->train_store->coder_labels[(size_t)i * coders + c];
        if (y >= 0 && truth[i] >= 0) known++, hit += y == truth[i];
      }
      fprintf(report, "\"%s_agreement_with_truth\":%.6g,", r->train_store->coder_names[c], known ? (double)hit / known : NAN);
    }
    free(sorted);
    /* kept in the store's group column (unused by training) for the final agreement */
    for (int i = 0; !st && i < n; i++) r->train_store->group[i] = truth[i];
    free(truth);
  }
  if (!st && (clfer_recipe_bool(r->recipe, stage, "ipa2lt", "baselines") ||
              clfer_recipe_bool(r->recipe, stage, "ipa2lt", "pretrain")))
    st = ipa2lt_baselines(r, stage, n_label_sets > 0, report);
  for (int c = 0; c < 2; c++)
    for (int i = 0; i < N_SETS; i++) free(pred[c][i]);
  for (int i = 0; i < N_SETS; i++) clfer_store_destroy(set[i]), free(dist[i]);
  clfer_store_destroy(u);
  return st;
}

/* The paper's comparisons on the same data: Dawid–Skene EM over the coders (its truth's agreement
 * with truth.csv, then a CNN trained on it: EM+CNN) and a CNN on the two human sets mixed (their
 * own labels, no machine coders). With label sets (the synthetic check) the mixture is every
 * set's label at once (the mean of their one-hots, what training on the sets' union gives), and
 * two more: a CNN on the sets' majority vote (ties: the earliest set's label) and one on the
 * clean truth. Each CNN trains like a machine coder. With ipa2lt.pretrain the mixed one trains
 * even without baselines, and LTNet's network starts from its weights. */
static clfer_status ipa2lt_baselines(run_t *r, const char *stage, int label_sets, FILE *report) {
  clfer_store_t *u = r->train_store;
  int n = u->n, ntrain = 0, coders = u->num_coders, k = r->k;
  while (ntrain < n && u->split[ntrain] == CLFER_SPLIT_TRAIN) ntrain++; /* the union puts the test faces last */
  enum { EM, MIXED, MAJORITY, CLEAN, N_BASELINES };
  int *item = malloc(((size_t)ntrain * coders + 1) * sizeof *item), *ann = malloc(((size_t)ntrain * coders + 1) * sizeof *ann);
  int *lab = malloc(((size_t)ntrain * coders + 1) * sizeof *lab);
  int *majority = malloc(((size_t)ntrain + 1) * sizeof *majority);
  float *targets[N_BASELINES] = {0};
  clfer_annotations_t *a = NULL;
  clfer_ds_result_t *ds = NULL;
  clfer_status st = item && ann && lab && majority ? CLFER_OK : clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory");
  for (int b = 0; b < N_BASELINES && !st; b++) /* the test faces keep their rows */
    if ((targets[b] = malloc(((size_t)n * k + 1) * sizeof *targets[b])))
      memcpy(targets[b], r->train_dist, (size_t)n * k * sizeof *targets[b]);
    else
      st = clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory");
  int nl = 0;
  for (int i = 0; !st && i < ntrain; i++)
    for (int c = 0; c < coders; c++) {
      int y = u->coder_labels[(size_t)i * coders + c];
      if (y >= 0) item[nl] = i, ann[nl] = c, lab[nl++] = y;
    }
  clfer_em_options_t eo = {0};
  if (!st && !(st = clfer_annotations_create(ntrain, coders, k, nl, item, ann, lab, r->name_ptrs, &a)))
    st = clfer_dawid_skene(a, &eo, &ds);
  for (int i = 0; !st && i < ntrain; i++) {
    float *row[N_BASELINES];
    for (int b = 0; b < N_BASELINES; b++)
      row[b] = targets[b] + (size_t)i * k, memset(row[b], 0, (size_t)k * sizeof *row[b]);
    row[EM][ds->label[i]] = 1.0f;
    const int *y = u->coder_labels + (size_t)i * coders;
    int counts[MAX_K] = {0}, votes = 0;
    majority[i] = -1;
    for (int c = 0; c < (label_sets ? coders : 2); c++) /* without label sets: the two human coders */
      if (y[c] >= 0) {
        votes++, counts[y[c]]++;
        if (majority[i] < 0 || counts[y[c]] > counts[majority[i]]) majority[i] = y[c];
      }
    for (int j = 0; j < k && votes; j++) /* pool faces keep an all-zero row: left out */
      row[MIXED][j] = (float)counts[j] / (float)votes;
    if (majority[i] >= 0) row[MAJORITY][majority[i]] = 1.0f;
    if (u->group[i] >= 0) row[CLEAN][u->group[i]] = 1.0f;
  }
  if (!st && report) {
    fprintf(report, "\"dawid_skene_agreement_with_truth\":%.6g,", agreement(ds->label, u->group, ntrain));
    if (label_sets) fprintf(report, "\"majority_vote_agreement_with_truth\":%.6g,", agreement(majority, u->group, ntrain));
  }
  static const char *const names[2][N_BASELINES] = {{"em_cnn", "humans_mixed_cnn"},
                                                    {"em_cnn", "mixture_cnn", "majority_cnn", "clean_cnn"}};
  static const char *const whats[N_BASELINES] = {
      "baseline: CNN on the Dawid-Skene truth", "baseline: CNN on the label sources mixed",
      "baseline: CNN on the sets' majority vote", "baseline: CNN on the clean truth"};
  int baselines = clfer_recipe_bool(r->recipe, stage, "ipa2lt", "baselines");
  int pretrain = clfer_recipe_bool(r->recipe, stage, "ipa2lt", "pretrain");
  for (int b = 0; b < N_BASELINES && !st; b++) {
    if (!names[label_sets][b] || !(baselines || (pretrain && b == MIXED))) continue;
    clfer_net_t *net = NULL;
    double acc = NAN;
    st = train_aux(r, stage, u, targets[b], u, targets[b], names[label_sets][b], whats[b], &acc, &net);
    /* ipa2lt.pretrain: LTNet's network starts from this one (same model, same parameter names) */
    for (int i = 0; !st && pretrain && b == MIXED && i < clfer_net_param_count(r->net); i++) {
      clfer_net_param_t *to = clfer_net_param(r->net, i), *from = clfer_net_param_by_name(net, to->name);
      st = from ? clfer_tensor_copy(&to->value, &from->value)
                : clfer_set_error(CLFER_SHAPE_MISMATCH, "ipa2lt.pretrain: %s is not in the mixed-sources CNN", to->name);
    }
    clfer_net_destroy(net);
    if (!st && report) fprintf(report, "\"%s\":{\"test_accuracy\":%.6g},", names[label_sets][b], acc);
  }
  clfer_ds_result_destroy(ds);
  clfer_annotations_destroy(a);
  for (int b = 0; b < N_BASELINES; b++) free(targets[b]);
  free(item), free(ann), free(lab), free(majority);
  return st;
}

/* IPA2LT step 3's result: the latent truth (argmax p) of the training faces against truth.csv. */
static clfer_status ipa2lt_latent_agreement(run_t *r, const char *stage, double *out) {
  const clfer_store_t *s = r->train_store;
  int *pred = malloc(((size_t)s->n + 1) * sizeof *pred);
  if (!pred) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory");
  clfer_status st = predict_all(r, stage, s, r->train_dist, pred);
  if (!st) *out = agreement(pred, s->group, s->n);
  free(pred);
  return st;
}

/* ---- the whole run ---- */

static clfer_status setup_classes(run_t *r) {
  char items[MAX_K][64];
  int k = clfer_recipe_list(r->recipe, NULL, "data", "classes", items, MAX_K);
  if (k < 2) return clfer_set_error(CLFER_PARSE_ERROR, "%s: data.classes needs at least two classes", r->opt->recipe);
  r->k = k;
  for (int i = 0; i < k; i++) {
    memcpy(r->names[i], items[i], sizeof r->names[i]);
    r->name_ptrs[i] = r->names[i];
  }
  return CLFER_OK;
}

static clfer_status open_run_dir(run_t *r) {
  const char *out = r->opt->out_dir;
  if (out && *out)
    snprintf(r->dir, sizeof r->dir, "%s", out);
  else {
    const char *base = strrchr(r->opt->recipe, '/');
    base = base ? base + 1 : r->opt->recipe;
    snprintf(r->dir, sizeof r->dir, "runs/%.*s", (int)(strcspn(base, ".")), base);
  }
  if (mkdir_p(r->dir) != 0) return clfer_set_error(CLFER_IO_ERROR, "cannot create run directory %s: %s", r->dir, strerror(errno));
  char path[1100];
  path_in(r, "recipe.resolved.ini", path, sizeof path);
  FILE *f = fopen(path, "w");
  if (!f) return clfer_set_error(CLFER_IO_ERROR, "cannot write %s: %s", path, strerror(errno));
  clfer_status st = clfer_recipe_write(r->recipe, f);
  fclose(f);
  if (st) return st;
  return CLFER_OK;
}

static clfer_status open_metrics(run_t *r) {
  char path[1100];
  path_in(r, "metrics.jsonl", path, sizeof path);
  r->metrics = fopen(path, r->opt->resume ? "a" : "w");
  if (!r->metrics) return clfer_set_error(CLFER_IO_ERROR, "cannot write %s: %s", path, strerror(errno));
  return CLFER_OK;
}

static double json_get(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* On resume, metrics.jsonl keeps only the epochs the checkpoint finished (a run killed after its
 * metrics line but before its checkpoint would otherwise log that epoch twice), and the curves
 * are rebuilt from them. */
static clfer_status reload_metrics(run_t *r, int stage_index, int epoch, curves_t *c) {
  char path[1100], tmp[1110];
  path_in(r, "metrics.jsonl", path, sizeof path);
  FILE *in = fopen(path, "r");
  if (!in) return CLFER_OK;
  FILE *out = clfer__replace_open(path, tmp, sizeof tmp);
  if (!out) {
    fclose(in);
    return CLFER_IO_ERROR;
  }
  char line[4096];
  while (fgets(line, sizeof line, in)) {
    cJSON *o = cJSON_Parse(line);
    if (!o) continue;
    int s = (int)json_get(o, "stage_index"), e = (int)json_get(o, "epoch");
    if ((s < stage_index || (s == stage_index && e <= epoch)) && c->n < MAX_EPOCHS) {
      fputs(line, out);
      c->train_loss[c->n] = json_get(o, "train_loss");
      c->valid_loss[c->n] = json_get(o, "valid_loss");
      c->valid_acc[c->n] = json_get(o, "valid_accuracy");
      c->test_acc[c->n] = json_get(o, "test_accuracy");
      c->n++;
    }
    cJSON_Delete(o);
  }
  fclose(in);
  return clfer__replace_close(out, tmp, path);
}

static clfer_status write_curves(run_t *r, const curves_t *c) {
  char path[1100];
  path_in(r, "curves.svg", path, sizeof path);
  clfer_curve_t loss[2] = {{"train", c->train_loss}, {"valid", c->valid_loss}};
  clfer_curve_t acc[2] = {{"valid", c->valid_acc}, {"test", c->test_acc}};
  return clfer_curves_write_svg(path, clfer_net_name(r->net), c->n, loss, 2, acc, 2);
}

/* A counter the checkpoint's metadata holds for --resume, when present: a whole number in [lo, hi]
 * (a damaged file's '-3' or '12abc' is an error, not a stage or epoch to start from). */
static clfer_status resume_counter(const clfer_meta_t *meta, const char *path, const char *key, long lo, long hi,
                                   long *out) {
  const char *v = clfer_meta_get(meta, key);
  if (!v) return CLFER_OK;
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (end == v || *end || errno || x < lo || x > hi)
    return clfer_set_error(CLFER_CORRUPT, "--resume: %s: \"%s\" is '%s', not a whole number in %ld..%ld", path, key, v,
                           lo, hi);
  *out = x;
  return CLFER_OK;
}

/* The next stage starts from this stage's selected weights: with train.select = best_valid
 * those of the best validation epoch (best.safetensors, when this stage wrote it), else the
 * last epoch's, which the model holds. */
static clfer_status carry_selected(run_t *r, const char *stage, int stage_index) {
  if (strcmp(S(r, stage, "train", "select"), "best_valid") != 0) return CLFER_OK;
  char path[1100];
  path_in(r, "best.safetensors", path, sizeof path);
  clfer_meta_t meta = {0};
  clfer_status st = clfer_checkpoint_meta(path, &meta);
  const char *v = st ? NULL : clfer_meta_get(&meta, "clfer.stage");
  int mine = v && atoi(v) == stage_index;
  clfer_meta_free(&meta);
  if (!mine) return CLFER_OK;
  clfer_named_tensor_t extra[2];
  int n = 0;
  if (r->centres.buf) extra[n++] = (clfer_named_tensor_t){"loss.centres", &r->centres};
  if (r->ltnet && r->transitions.buf) extra[n++] = (clfer_named_tensor_t){"ltnet.transitions", &r->transitions};
  st = clfer_net_load(r->net, path, NULL, extra, n, 1);
  return st ? clfer_wrap_error(st, "stage %s: carrying the best-validation weights: ", stage ? stage : "main") : CLFER_OK;
}

/* Only the first stage builds the model; a later stage that sets model keys of its own (not the
 * top level's) other than replace_head would be silently ignored, so it is an error. */
static clfer_status check_later_model_keys(run_t *r, int s) {
  static const char *const keys[] = {"from", "input", "input_adapt", "classes", "init"};
  const char *stage = clfer_recipe_stage_name(r->recipe, s);
  char at[700];
  for (int i = 0; s > 0 && i < (int)(sizeof keys / sizeof keys[0]); i++)
    if (clfer_recipe_stage_sets(r->recipe, stage, "model", keys[i]))
      return clfer_set_error(CLFER_INVALID_ARGUMENT,
                             "%s: model.%s in stage %s: the model is built by the first stage and carried over "
                             "(later stages keep its weights; only model.replace_head applies there)",
                             where(r, stage, "model", keys[i], at, sizeof at), keys[i], stage);
  return CLFER_OK;
}

/* --check: every stage's keys as the loop reads them, the model built (not initialised: no
 * data, no weights read), its optimizer settings, schedule and loss layers resolved. */
static clfer_status check_stages(run_t *r) {
  clfer_status st = CLFER_OK;
  int stages = clfer_recipe_stage_count(r->recipe);
  for (int s = 0; s < stages && !st; s++) {
    const char *stage = clfer_recipe_stage_name(r->recipe, s);
    char at[700];
    const char *scheme = S(r, stage, "labels", "scheme");
    clfer_ferplus_mode_t mode;
    if (strcmp(scheme, "hard") && strcmp(scheme, "votes") && clfer_ferplus_mode_parse(scheme, &mode))
      return clfer_wrap_error(CLFER_PARSE_ERROR, "%s: labels.scheme: ", where(r, stage, "labels", "scheme", at, sizeof at));
    if (!*S(r, stage, "data", "dir") && I(r, stage, "train", "epochs") > 0)
      return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: stage %s trains but data.dir is not set", r->opt->recipe,
                             stage ? stage : "main");
    if (I(r, stage, "train", "batch_size") < 1 || I(r, stage, "train", "epochs") < 0)
      return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: train.batch_size must be ≥ 1 and train.epochs ≥ 0",
                             where(r, stage, "train", "batch_size", at, sizeof at));
    if (strcmp(S(r, stage, "loss", "type"), "ltnet") == 0 && strcmp(S(r, stage, "data", "format"), "ipa2lt") != 0)
      return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: loss.type = ltnet needs per-coder labels (data.format = ipa2lt)",
                             where(r, stage, "loss", "type", at, sizeof at));
    if (F(r, stage, "optim", "lr") <= 0)
      return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: optim.lr must be positive",
                             where(r, stage, "optim", "lr", at, sizeof at));
    const char *first = clfer_recipe_stage_name(r->recipe, 0);
    if (s > 0 && strcmp(S(r, stage, "model", "name"), S(r, first, "model", "name")) != 0)
      return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: a later stage cannot change model.name (%s → %s)",
                             where(r, stage, "model", "name", at, sizeof at), S(r, first, "model", "name"),
                             S(r, stage, "model", "name"));
    if ((st = check_later_model_keys(r, s))) return st;
    if (!r->net && (st = build_model(r, stage))) return st;
    if ((st = ensure_centres(r, stage))) return st;
    clfer_optim_t *optim = NULL;
    clfer_schedule_t schedule;
    if ((st = make_optimizer(r, stage, &optim))) return st;
    clfer_optim_destroy(optim);
    /* an import-only stage (train.epochs = 0) has no schedule */
    if (I(r, stage, "train", "epochs") > 0 && (st = make_schedule(r, stage, (int)I(r, stage, "train", "epochs"), &schedule)))
      return st;
    if (!r->opt->quiet)
      fprintf(stderr, "%s%s%s: %s %dx%dx%d, %d classes, %s %g, %ld epochs of batch %ld, labels %s\n",
              stage ? "stage " : "", stage ? stage : "", stage ? "" : "recipe", clfer_net_name(r->net), r->in_c, r->in_h,
              r->in_w, r->k, S(r, stage, "optim", "type"), F(r, stage, "optim", "lr"), I(r, stage, "train", "epochs"),
              I(r, stage, "train", "batch_size"), scheme);
  }
  return st;
}

clfer_status clfer_train(const clfer_train_options_t *options, clfer_train_result_t *res) {
  memset(res, 0, sizeof *res);
  run_t r;
  memset(&r, 0, sizeof r);
  r.opt = options;
  r.last_loss = NAN;
  res->latent_truth_agreement = NAN;
  FILE *ipa2lt_report = NULL;
  clfer_optim_t *optim = NULL;
  curves_t *curves = calloc(1, sizeof *curves);
  clfer_meta_t meta = {0};
  clfer_status st = curves ? clfer_recipe_load(options->recipe, &r.recipe) : CLFER_OUT_OF_MEMORY;
  if (st) goto done;
  for (int i = 0; i < options->n_sets && !st; i++) st = clfer_recipe_set(r.recipe, options->sets[i]);
  if (st || (st = setup_classes(&r))) goto done;
  clfer_runtime_options_t ro = {.device = options->device, .profiling = options->profile};
  if (options->check_only) {
    if (!(st = clfer_runtime_create(&ro, &r.rt))) st = check_stages(&r);
    goto done;
  }
  if ((st = open_run_dir(&r))) goto done;
  if ((st = clfer_runtime_create(&ro, &r.rt))) goto done;
  r.bar = options->progress > 0 || (options->progress < 0 && isatty(2));
  snprintf(res->run_dir, sizeof res->run_dir, "%s", r.dir);

  /* resume: which stage and epoch the last checkpoint finished */
  int resume_stage = 0, resume_epoch = -1, best_epoch = -1, since_best = 0;
  double best_metric = -INFINITY;
  char last[1100];
  path_in(&r, "last.safetensors", last, sizeof last);
  /* an IPA2LT run stopped before LTNet's first epoch has no last.safetensors: it resumes from the
   * side models that finished (each has its own checkpoint) */
  int have_checkpoint = options->resume && !(access(last, F_OK) != 0 && recipe_starts_with_ipa2lt(&r));
  if (have_checkpoint) {
    if ((st = clfer_checkpoint_meta(last, &meta))) {
      clfer_wrap_error(st, "--resume: ");
      goto done;
    }
    const char *v;
    long stage_at = 0, epoch_at = -1, best_at = -1, since = 0;
    if ((st = resume_counter(&meta, last, "clfer.stage", 0, INT_MAX, &stage_at)) ||
        (st = resume_counter(&meta, last, "clfer.epoch", -1, INT_MAX, &epoch_at)) ||
        (st = resume_counter(&meta, last, "clfer.step", 0, LONG_MAX, &r.step)) ||
        (st = resume_counter(&meta, last, "clfer.stage_step0", 0, r.step, &r.stage_step0)) ||
        (st = resume_counter(&meta, last, "clfer.best_epoch", -1, INT_MAX, &best_at)) ||
        (st = resume_counter(&meta, last, "clfer.since_best", 0, INT_MAX, &since)))
      goto done;
    resume_stage = (int)stage_at, resume_epoch = (int)epoch_at, best_epoch = (int)best_at, since_best = (int)since;
    if ((v = clfer_meta_get(&meta, "clfer.best_metric"))) best_metric = strtod(v, NULL);
    if ((v = clfer_meta_get(&meta, "clfer.preprocess_on"))) snprintf(r.resumed_prep_on, sizeof r.resumed_prep_on, "%s", v);
    if (resume_stage >= clfer_recipe_stage_count(r.recipe)) {
      st = clfer_set_error(CLFER_INVALID_ARGUMENT, "--resume: %s is from stage %d, but %s has %d stage(s)", last,
                           resume_stage, options->recipe, clfer_recipe_stage_count(r.recipe));
      goto done;
    }
  }
  /* metrics.jsonl keeps the finished epochs (none without a checkpoint) */
  if (options->resume && (st = reload_metrics(&r, resume_stage, resume_epoch, curves))) goto done;
  if ((st = open_metrics(&r))) goto done;

  int stages = clfer_recipe_stage_count(r.recipe);
  for (int s = resume_stage; s < stages; s++) {
    const char *stage = clfer_recipe_stage_name(r.recipe, s);
    int resuming = have_checkpoint && s == resume_stage;
    if ((st = check_later_model_keys(&r, s)) || (!r.net && (st = build_model(&r, stage)))) goto done;
    /* a later stage's own replace_head (not one inherited from the top level) starts a new head:
     * the output layer initialised afresh (model.init, train.seed); the rest carries over */
    if (r.net && s > 0 && !resuming && B(&r, stage, "model", "replace_head") &&
        clfer_recipe_stage_sets(r.recipe, stage, "model", "replace_head") &&
        (st = fresh_head(&r, stage)))
      goto done;
    if (I(&r, stage, "train", "epochs") <= 0) { /* an import-only stage (e.g. ImageNet weights) */
      if (!options->quiet) fprintf(stderr, "stage %s: %s loaded, no training\n", stage ? stage : "main", clfer_net_name(r.net));
      continue;
    }
    int ipa2lt = strcmp(S(&r, stage, "data", "format"), "ipa2lt") == 0;
    if (ipa2lt) {
      char path[1100];
      path_in(&r, "ipa2lt.json", path, sizeof path);
      if (!(ipa2lt_report = fopen(path, "w"))) {
        st = clfer_set_error(CLFER_IO_ERROR, "cannot write %s: %s", path, strerror(errno));
        goto done;
      }
      fputc('{', ipa2lt_report);
    }
    if ((st = ipa2lt ? ipa2lt_prepare(&r, stage, ipa2lt_report) : load_data(&r, stage))) goto done;
    clfer_optim_destroy(optim);
    optim = NULL;
    if ((st = make_optimizer(&r, stage, &optim)) || (st = ensure_centres(&r, stage))) goto done;
    int start_epoch = 0;
    if (resuming) {
      clfer_named_tensor_t *extra = calloc((size_t)clfer_optim_state_count(optim) + 3, sizeof *extra);
      int n_extra = 0;
      for (int i = 0; extra && i < clfer_optim_state_count(optim); i++) {
        const char *name;
        clfer_tensor_t *t;
        if (clfer_optim_state_at(optim, i, &name, &t) == CLFER_OK) extra[n_extra++] = (clfer_named_tensor_t){name, t};
      }
      if (extra && r.centres.buf) extra[n_extra++] = (clfer_named_tensor_t){"loss.centres", &r.centres};
      if (extra && r.ltnet && r.transitions.buf)
        extra[n_extra++] = (clfer_named_tensor_t){"ltnet.transitions", &r.transitions};
      st = extra ? clfer_net_load(r.net, last, NULL, extra, n_extra, 1)
                 : clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory resuming");
      free(extra);
      if (st) goto done;
      /* the optimizer's step counts (Adam's bias correction) count this stage's steps */
      for (int i = 0; i < clfer_optim_param_count(optim); i++)
        clfer_optim_set_steps(optim, clfer_optim_param_at(optim, i)->name, r.step - r.stage_step0);
      start_epoch = resume_epoch + 1;
    } else {
      best_metric = -INFINITY, best_epoch = -1, since_best = 0;
      r.stage_step0 = r.step;
    }
    if (!options->quiet)
      fprintf(stderr, "%s%s%s: %s on %s, %d train / %d valid / %d test samples, %d classes%s\n", stage ? "stage " : "",
              stage ? stage : "", stage ? "" : "training", clfer_net_name(r.net), clfer_runtime_device(r.rt)->name,
              r.train.n, r.valid.n, r.test.n, r.k, resuming ? ", resumed" : "");
    if ((st = run_stage(&r, stage, s, start_epoch, optim, best_metric, best_epoch, since_best, curves, res))) goto done;
    if (!ipa2lt && s + 1 < stages && (st = carry_selected(&r, stage, s))) goto done;
    if (ipa2lt) {
      if ((st = ipa2lt_latent_agreement(&r, stage, &res->latent_truth_agreement))) goto done;
      fprintf(ipa2lt_report, "\"ltnet\":{\"test_accuracy\":%.6g,\"latent_truth_agreement\":%.6g}}\n",
              res->test_accuracy, res->latent_truth_agreement);
      fclose(ipa2lt_report);
      ipa2lt_report = NULL;
      if (!options->quiet)
        fprintf(stderr, "IPA2LT: LTNet test accuracy %.2f%%, latent truth agrees with truth.csv on %.2f%%\n",
                100 * res->test_accuracy, 100 * res->latent_truth_agreement);
    }
    if (r.opt->max_steps > 0 && r.step >= r.opt->max_steps) break;
  }
  path_in(&r, "best.safetensors", res->best_checkpoint, sizeof res->best_checkpoint);
  path_in(&r, "confusion_test.svg", res->confusion_svg, sizeof res->confusion_svg);
  res->steps = r.step;
  res->data_wait_share = r.train_seconds > 0 ? r.wait_seconds / r.train_seconds : 0;
  res->preprocess_on_device = r.prep_device;
  if ((st = write_curves(&r, curves))) goto done;
  if (options->profile) {
    char path[1100];
    path_in(&r, "profile.txt", path, sizeof path);
    FILE *f = fopen(path, "w");
    if (f) {
      clfer_profile_report(r.rt, f);
      fclose(f);
    }
    path_in(&r, "trace.json", path, sizeof path);
    if ((st = clfer_profile_write_trace(r.rt, path))) goto done;
  }
done:
  if (ipa2lt_report) fclose(ipa2lt_report);
  clfer_meta_free(&meta);
  clfer_optim_destroy(optim);
  clfer_tensor_release(&r.transitions), clfer_tensor_release(&r.dtransitions);
  free_stage_data(&r);
  clfer_tensor_release(&r.centres);
  clfer_net_destroy(r.net);
  if (r.metrics) fclose(r.metrics);
  clfer_runtime_destroy(r.rt);
  clfer_recipe_destroy(r.recipe);
  free(curves);
  return st;
}
