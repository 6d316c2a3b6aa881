/* cmd_features.c — `clfer features` writes a layer's deep features of a dataset in libsvm's text
 * format, and `clfer svm` trains and tests an SVM on two such files with libsvm (the evaluation
 * protocol of Li et al.'s RAF-DB: accuracy and mean diagonal of deep features + SVM). */
#include <errno.h>
#include <getopt.h>
#include <libsvm/svm.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clfer.h"
#include "clfer/infer.h"
#include "commands.h"

/* ---- clfer features ---- */

static void features_usage(FILE *out) {
  fprintf(out,
          "usage: clfer features --model CKPT --data DIR --out FILE [--layer NAME] [--format F]\n"
          "                      [--split S] [--labels majority|hard] [--batch N] [--preprocess P]\n"
          "                      [--device D]\n\n"
          "Runs the samples of one split through the model (eval mode, pre-processed as in training)\n"
          "and writes the output of layer NAME (default: the model's feature layer, e.g. the\n"
          "penultimate fully connected layer) in libsvm's format, one line per sample:\n"
          "`LABEL 1:v1 2:v2 ...` with LABEL the class index in the model's class order and zero\n"
          "values left out, so `clfer svm` and libsvm's svm-train read it. `clfer models NAME` lists\n"
          "a model's layers. Options --format, --split (default train; all for folder and ckplus),\n"
          "--labels, --preprocess as for `clfer eval`.\n");
}

typedef struct feat_ctx {
  FILE *f;
  const int *truth;
  int size;
} feat_ctx_t;

static clfer_status write_rows(void *p, const int *ids, int n, const float *logits, const float *features) {
  feat_ctx_t *c = p;
  (void)logits;
  for (int i = 0; i < n; i++) {
    const float *v = features + (size_t)i * c->size;
    fprintf(c->f, "%d", c->truth[ids[i]]);
    for (int j = 0; j < c->size; j++)
      if (v[j] != 0.0f) fprintf(c->f, " %d:%.7g", j + 1, (double)v[j]);
    if (fputc('\n', c->f) == EOF) return clfer_set_error(CLFER_IO_ERROR, "cannot write features: %s", strerror(errno));
  }
  return CLFER_OK;
}

int clfer_cmd_features(int argc, char **argv) {
  static const struct option longopts[] = {
      {"model", required_argument, 0, 'm'}, {"data", required_argument, 0, 'D'},  {"format", required_argument, 0, 'f'},
      {"split", required_argument, 0, 's'}, {"labels", required_argument, 0, 'l'}, {"out", required_argument, 0, 'o'},
      {"layer", required_argument, 0, 'L'}, {"batch", required_argument, 0, 'b'},  {"device", required_argument, 0, 'd'},
      {"help", no_argument, 0, 'h'},        {"preprocess", required_argument, 0, 'P'}, {0, 0, 0, 0}};
  const char *model_path = NULL, *out_path = NULL, *layer = NULL, *device = NULL, *preprocess = NULL;
  clfer_app_data_t d = {.format = "ferplus", .split_name = "train", .labels = "majority", .batch = 64};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "m:D:f:s:l:o:L:b:d:hP:", longopts, NULL)) != -1) {
    switch (c) {
      case 'm': model_path = optarg; break;
      case 'o': out_path = optarg; break;
      case 'L': layer = optarg; break;
      case 'd': device = optarg; break;
      case 'P': preprocess = optarg; break;
      case 'h': features_usage(stdout); return 0;
      default:
        if (!clfer_app_data_option(&d, c, optarg)) return 2;
    }
  }
  if (optind < argc || !model_path || !d.data || !out_path) {
    fprintf(stderr, "clfer features: %s (see --help)\n",
            optind < argc ? "unexpected argument" : !model_path ? "--model is required" : !d.data ? "--data is required" : "--out is required");
    return 2;
  }
  int bad = clfer_app_data_check("features", &d);
  if (bad) return bad;
  clfer_runtime_t *rt = NULL;
  clfer_model_t *model = NULL;
  clfer_store_t *store = NULL;
  int *truth = NULL, *ids = NULL, rc = 0, node = -1, n = 0;
  FILE *f = NULL;
  clfer_runtime_options_t ro = {.device = device};
  if (clfer_runtime_create(&ro, &rt)) return clfer_app_fail("cannot open a device");
  if ((rc = clfer_app_load_model(rt, model_path, preprocess, &model))) goto done;
  clfer_net_t *net = clfer_model_net(model);
  if (layer) {
    if (clfer_model_find_layer(model, layer, &node)) {
      rc = clfer_app_fail("--layer");
      goto done;
    }
  } else {
    node = clfer_net_features_node(net);
    if (node <= 0) node = clfer_net_output_node(net) - 1; /* the input of the last layer, as training does */
  }
  if ((rc = clfer_app_data_select("features", &d, model, &store, &truth, &ids, &n))) goto done;
  if (!(f = fopen(out_path, "w"))) {
    fprintf(stderr, "clfer features: cannot write %s: %s\n", out_path, strerror(errno));
    rc = 1;
    goto done;
  }
  feat_ctx_t ctx = {f, truth, clfer_model_node_size(model, node)};
  if (clfer_model_run_store(model, store, ids, n, d.batch, node, write_rows, &ctx)) {
    rc = clfer_app_fail("feature extraction failed");
    goto done;
  }
  if (fclose(f) != 0) {
    f = NULL;
    fprintf(stderr, "clfer features: cannot write %s: %s\n", out_path, strerror(errno));
    rc = 1;
    goto done;
  }
  f = NULL;
  fprintf(stderr, "features: %d samples × %d values of layer %s (%s) → %s (classes:", n, ctx.size,
          clfer_net_node_name(net, node), clfer_net_node_type(net, node), out_path);
  for (int i = 0; i < clfer_model_classes(model); i++)
    fprintf(stderr, " %d=%s", i, clfer_model_class_names(model)[i]);
  fprintf(stderr, ")\n");
done:
  if (f) fclose(f);
  free(truth);
  free(ids);
  clfer_store_destroy(store);
  clfer_model_destroy(model);
  clfer_runtime_destroy(rt);
  return rc;
}

/* ---- clfer svm ---- */

static void svm_usage(FILE *out) {
  fprintf(out,
          "usage: clfer svm --train FEAT_TRAIN --test FEAT_TEST [--c C] [--kernel linear|rbf]\n"
          "                 [--gamma G] [--classes a,b,...] [--predictions FILE]\n\n"
          "Trains a C-SVM (libsvm, one-vs-one) on the training features and reports the test accuracy,\n"
          "mean diagonal (per-class recall averaged, RAF-DB's metric), per-class precision/recall and\n"
          "the confusion matrix. Files are in libsvm's format (`clfer features` writes it); labels\n"
          "are class indices 0..15.\n\n"
          "  --c C            penalty (default 1)\n"
          "  --kernel K       linear (default) or rbf\n"
          "  --gamma G        RBF width (default 1 / number of features)\n"
          "  --classes LIST   class names for the report (default the indices)\n"
          "  --predictions F  also write the predicted class index of each test sample, one a line\n");
}

typedef struct svm_data {
  struct svm_problem prob;
  struct svm_node *nodes;
  int max_index;
} svm_data_t;

static void svm_data_free(svm_data_t *d) {
  free(d->prob.y);
  free(d->prob.x);
  free(d->nodes);
  memset(d, 0, sizeof *d);
}

/* Reads a libsvm text file; errors name the file and line. */
static int read_libsvm(const char *path, svm_data_t *d) {
  memset(d, 0, sizeof *d);
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "clfer svm: cannot open %s: %s\n", path, strerror(errno));
    return -1;
  }
  char *line = NULL;
  size_t cap = 0, n_nodes = 0, node_cap = 0;
  int rows = 0, row_cap = 0, lineno = 0, rc = 0;
  size_t *starts = NULL;
  while (getline(&line, &cap, f) != -1) {
    lineno++;
    char *p = line, *end;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '\n' || *p == '\r' || *p == '\0') continue;
    double label = strtod(p, &end);
    if (end == p || !isfinite(label) || label != floor(label) || label < 0 || label >= CLFER_MAX_CLASSES) {
      fprintf(stderr, "clfer svm: %s:%d: the label is not a class index 0..%d\n", path, lineno, CLFER_MAX_CLASSES - 1);
      rc = -1;
      break;
    }
    if (rows == row_cap) {
      row_cap = row_cap ? 2 * row_cap : 1024;
      double *y = realloc(d->prob.y, (size_t)row_cap * sizeof *y);
      size_t *s = y ? realloc(starts, (size_t)row_cap * sizeof *s) : NULL;
      if (y) d->prob.y = y;
      if (!y || !s) {
        fprintf(stderr, "clfer svm: out of memory reading %s\n", path);
        rc = -1;
        break;
      }
      starts = s;
    }
    d->prob.y[rows] = label;
    starts[rows++] = n_nodes;
    int last = 0;
    for (p = end;;) {
      while (*p == ' ' || *p == '\t') p++;
      if (*p == '\n' || *p == '\r' || *p == '\0') break;
      long idx = strtol(p, &end, 10);
      if (end == p || *end != ':' || idx <= last || idx > 100000000) {
        fprintf(stderr, "clfer svm: %s:%d: expected INDEX:VALUE with increasing indices from 1\n", path, lineno);
        rc = -1;
        break;
      }
      p = end + 1;
      double v = strtod(p, &end);
      if (end == p || !isfinite(v)) {
        fprintf(stderr, "clfer svm: %s:%d: feature %ld has no finite value\n", path, lineno, idx);
        rc = -1;
        break;
      }
      p = end;
      if (n_nodes + 2 > node_cap) {
        node_cap = node_cap ? 2 * node_cap : 65536;
        struct svm_node *g = realloc(d->nodes, node_cap * sizeof *g);
        if (!g) {
          fprintf(stderr, "clfer svm: out of memory reading %s\n", path);
          rc = -1;
          break;
        }
        d->nodes = g;
      }
      d->nodes[n_nodes++] = (struct svm_node){(int)idx, v};
      last = (int)idx;
      if (last > d->max_index) d->max_index = last;
    }
    if (rc) break;
    if (n_nodes + 1 > node_cap) {
      node_cap = node_cap ? 2 * node_cap : 65536;
      struct svm_node *g = realloc(d->nodes, node_cap * sizeof *g);
      if (!g) {
        rc = -1;
        break;
      }
      d->nodes = g;
    }
    d->nodes[n_nodes++] = (struct svm_node){-1, 0};
  }
  free(line);
  fclose(f);
  if (!rc && rows == 0) {
    fprintf(stderr, "clfer svm: %s has no samples\n", path);
    rc = -1;
  }
  if (!rc && !(d->prob.x = malloc((size_t)rows * sizeof *d->prob.x))) rc = -1;
  if (!rc) {
    d->prob.l = rows;
    for (int i = 0; i < rows; i++) d->prob.x[i] = d->nodes + starts[i];
  }
  free(starts);
  if (rc) svm_data_free(d);
  return rc;
}

static void svm_quiet(const char *s) { (void)s; }

int clfer_cmd_svm(int argc, char **argv) {
  static const struct option longopts[] = {
      {"train", required_argument, 0, 't'}, {"test", required_argument, 0, 'T'},    {"c", required_argument, 0, 'c'},
      {"kernel", required_argument, 0, 'k'}, {"gamma", required_argument, 0, 'g'}, {"classes", required_argument, 0, 'n'},
      {"predictions", required_argument, 0, 'p'}, {"help", no_argument, 0, 'h'},   {0, 0, 0, 0}};
  const char *train_path = NULL, *test_path = NULL, *kernel = "linear", *classes = NULL, *pred_path = NULL;
  double C = 1.0, gamma = 0.0;
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "t:T:c:k:g:n:p:h", longopts, NULL)) != -1) {
    switch (c) {
      case 't': train_path = optarg; break;
      case 'T': test_path = optarg; break;
      case 'c': C = atof(optarg); break;
      case 'k': kernel = optarg; break;
      case 'g': gamma = atof(optarg); break;
      case 'n': classes = optarg; break;
      case 'p': pred_path = optarg; break;
      case 'h': svm_usage(stdout); return 0;
      default: return 2;
    }
  }
  if (optind < argc || !train_path || !test_path) {
    fprintf(stderr, "clfer svm: %s (see --help)\n",
            optind < argc ? "unexpected argument" : !train_path ? "--train is required" : "--test is required");
    return 2;
  }
  int rbf = strcmp(kernel, "rbf") == 0;
  if (!rbf && strcmp(kernel, "linear") != 0) {
    fprintf(stderr, "clfer svm: --kernel must be linear or rbf, not '%s'\n", kernel);
    return 2;
  }
  if (!(C > 0) || gamma < 0) {
    fprintf(stderr, "clfer svm: --c must be > 0 and --gamma >= 0\n");
    return 2;
  }
  svm_data_t train, test;
  if (read_libsvm(train_path, &train)) return 1;
  if (read_libsvm(test_path, &test)) {
    svm_data_free(&train);
    return 1;
  }
  int k = 0, rc = 0;
  for (int i = 0; i < train.prob.l; i++) k = (int)train.prob.y[i] + 1 > k ? (int)train.prob.y[i] + 1 : k;
  for (int i = 0; i < test.prob.l; i++) k = (int)test.prob.y[i] + 1 > k ? (int)test.prob.y[i] + 1 : k;
  char names[CLFER_MAX_CLASSES][32];
  const char *name_ptrs[CLFER_MAX_CLASSES];
  int n_names = 0;
  for (const char *p = classes; p && n_names < CLFER_MAX_CLASSES;) {
    size_t len = strcspn(p, ",");
    snprintf(names[n_names++], sizeof names[0], "%.*s", (int)len, p);
    if (!p[len]) break;
    p += len + 1;
  }
  if (classes && n_names < k) {
    fprintf(stderr, "clfer svm: --classes names %d classes but the files use labels up to %d\n", n_names, k - 1);
    svm_data_free(&train), svm_data_free(&test);
    return 2;
  }
  if (classes) k = n_names;
  for (int i = 0; i < k; i++) {
    if (!classes) snprintf(names[i], sizeof names[i], "%d", i);
    name_ptrs[i] = names[i];
  }
  struct svm_parameter param;
  memset(&param, 0, sizeof param);
  param.svm_type = C_SVC;
  param.kernel_type = rbf ? RBF : LINEAR;
  param.gamma = gamma > 0 ? gamma : 1.0 / (train.max_index > 0 ? train.max_index : 1);
  param.C = C;
  param.cache_size = 200;
  param.eps = 1e-3;
  param.shrinking = 1;
  svm_set_print_string_function(svm_quiet);
  const char *err = svm_check_parameter(&train.prob, &param);
  if (err) {
    fprintf(stderr, "clfer svm: libsvm refuses the parameters: %s\n", err);
    svm_data_free(&train), svm_data_free(&test);
    return 2;
  }
  struct svm_model *model = svm_train(&train.prob, &param);
  FILE *pf = NULL;
  if (pred_path && !(pf = fopen(pred_path, "w"))) {
    fprintf(stderr, "clfer svm: cannot write %s: %s\n", pred_path, strerror(errno));
    rc = 1;
  }
  clfer_confusion_t conf;
  clfer_confusion_init(&conf, k, name_ptrs);
  for (int i = 0; i < test.prob.l && !rc; i++) {
    int pred = (int)svm_predict(model, test.prob.x[i]);
    clfer_confusion_add(&conf, (int)test.prob.y[i], pred);
    if (pf) fprintf(pf, "%d\n", pred);
  }
  if (pf && fclose(pf) != 0) {
    fprintf(stderr, "clfer svm: cannot write %s\n", pred_path);
    rc = 1;
  }
  if (!rc) {
    printf("svm: C-SVC, %s kernel, C %g", rbf ? "rbf" : "linear", C);
    if (rbf) printf(", gamma %g", param.gamma);
    printf("; train %s: %d samples, %d features, %d support vectors; test %s: %d samples\n", train_path, train.prob.l,
           train.max_index, svm_get_nr_sv(model), test_path, test.prob.l);
    clfer_scores_t s = clfer_confusion_scores(&conf);
    clfer_app_print_scores(&conf, &s);
  }
  svm_free_and_destroy_model(&model);
  svm_data_free(&train), svm_data_free(&test);
  return rc;
}
