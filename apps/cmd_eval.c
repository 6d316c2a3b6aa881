/* cmd_eval.c — `clfer eval`: a checkpoint on a dataset split as the papers report it (accuracy,
 * mean diagonal, per-class precision and recall, the confusion matrix), FER+ data on majority
 * labels; --out writes the confusion matrix as CSV and SVG. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clfer.h"
#include "clfer/infer.h"
#include "commands.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: clfer eval --model CKPT --data DIR [--format F] [--split S] [--labels majority|hard]\n"
          "                  [--out DIR] [--batch N] [--preprocess P] [--device D]\n\n"
          "Evaluates a checkpoint of `clfer train` on one split of a dataset: accuracy, mean diagonal\n"
          "(per-class recall averaged), per-class precision and recall, and the confusion matrix.\n"
          "Images are pre-processed as the training loop evaluates them (from the checkpoint's\n"
          "metadata); FER+ votes become majority labels (samples without a majority are left out).\n\n"
          "  --model CKPT     checkpoint (best.safetensors or last.safetensors of a run)\n"
          "  --data DIR       dataset directory\n"
          "  --format F       ferplus (default), fer2013, ferplus_folders, rafdb, ckplus, folder\n"
          "  --split S        test (default; all for folder and ckplus), valid, train or all\n"
          "  --labels L       majority (default: FER+ majority vote / argmax of votes) or hard\n"
          "                   (the dataset's own hard labels)\n"
          "  --out DIR        also write DIR/confusion_<split>.csv and .svg\n"
          "  --batch N        images per forward pass (default 64)\n"
          "  --preprocess P   override the checkpoint's pre-processing: ferplus, minmax, imagenet, unit\n"
          "  --device D       OpenCL device selector (default $CLFER_DEVICE or auto)\n");
}

typedef struct eval_ctx {
  const int *truth;
  int k;
  clfer_confusion_t confusion;
} eval_ctx_t;

static clfer_status add_batch(void *p, const int *ids, int n, const float *logits, const float *features) {
  eval_ctx_t *e = p;
  (void)features;
  for (int i = 0; i < n; i++) clfer_confusion_add(&e->confusion, e->truth[ids[i]], clfer_argmax(logits + (size_t)i * e->k, e->k));
  return CLFER_OK;
}

int clfer_cmd_eval(int argc, char **argv) {
  static const struct option longopts[] = {
      {"model", required_argument, 0, 'm'}, {"data", required_argument, 0, 'D'},  {"format", required_argument, 0, 'f'},
      {"split", required_argument, 0, 's'}, {"labels", required_argument, 0, 'l'}, {"out", required_argument, 0, 'o'},
      {"batch", required_argument, 0, 'b'}, {"device", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'},
      {"preprocess", required_argument, 0, 'P'}, {0, 0, 0, 0}};
  const char *model_path = NULL, *out_dir = NULL, *device = NULL, *preprocess = NULL;
  clfer_app_data_t d = {.format = "ferplus", .split_name = "test", .labels = "majority", .batch = 64};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "m:D:f:s:l:o:b:d:hP:", longopts, NULL)) != -1) {
    switch (c) {
      case 'm': model_path = optarg; break;
      case 'o': out_dir = optarg; break;
      case 'd': device = optarg; break;
      case 'P': preprocess = optarg; break;
      case 'h': usage(stdout); return 0;
      default:
        if (!clfer_app_data_option(&d, c, optarg)) return 2;
    }
  }
  if (optind < argc || !model_path || !d.data) {
    fprintf(stderr, "clfer eval: %s (see --help)\n",
            optind < argc ? "unexpected argument" : !model_path ? "--model is required" : "--data is required");
    return 2;
  }
  int bad = clfer_app_data_check("eval", &d);
  if (bad) return bad;

  clfer_runtime_t *rt = NULL;
  clfer_model_t *model = NULL;
  clfer_store_t *store = NULL;
  int *truth = NULL, *ids = NULL, rc = 0;
  clfer_runtime_options_t ro = {.device = device};
  if (clfer_runtime_create(&ro, &rt)) return clfer_app_fail("cannot open a device");
  if ((rc = clfer_app_load_model(rt, model_path, preprocess, &model))) goto done;
  int k = clfer_model_classes(model), n = 0;
  if ((rc = clfer_app_data_select("eval", &d, model, &store, &truth, &ids, &n))) goto done;
  int in[3];
  clfer_model_input_shape(model, in);
  printf("model: %s (%s, input %dx%dx%d, preprocess %s) on %s\n", model_path, clfer_net_name(clfer_model_net(model)),
         in[0], in[1], in[2], clfer_model_preprocess_name(model), clfer_runtime_device(rt)->name);
  printf("data: %s (%s), split %s, %s labels\n", d.data, d.format, d.split_name, d.labels);
  eval_ctx_t e = {.truth = truth, .k = k};
  clfer_confusion_init(&e.confusion, k, clfer_model_class_names(model));
  if (clfer_model_run_store(model, store, ids, n, d.batch, -1, add_batch, &e)) {
    rc = clfer_app_fail("evaluation failed");
    goto done;
  }
  clfer_scores_t s = clfer_confusion_scores(&e.confusion);
  clfer_app_print_scores(&e.confusion, &s);
  if (out_dir) {
    char path[1200], title[512];
    if (clfer_app_mkdir_p(out_dir)) {
      rc = clfer_app_fail("cannot create the output directory");
      goto done;
    }
    snprintf(path, sizeof path, "%s/confusion_%s.csv", out_dir, d.split_name);
    if (clfer_confusion_write_csv(&e.confusion, path)) {
      rc = clfer_app_fail("cannot write the confusion matrix");
      goto done;
    }
    printf("\nconfusion matrix: %s\n", path);
    snprintf(path, sizeof path, "%s/confusion_%s.svg", out_dir, d.split_name);
    snprintf(title, sizeof title, "%s on %s, %s split", clfer_net_name(clfer_model_net(model)), d.data, d.split_name);
    if (clfer_confusion_write_svg(&e.confusion, title, path)) {
      rc = clfer_app_fail("cannot write the confusion plot");
      goto done;
    }
    printf("confusion plot: %s\n", path);
  }
done:
  free(truth);
  free(ids);
  clfer_store_destroy(store);
  clfer_model_destroy(model);
  clfer_runtime_destroy(rt);
  return rc;
}
