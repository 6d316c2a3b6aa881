/* cmd_predict.c — `clfer predict`: class probabilities (softmax of the logits) of PNG/JPEG
 * images for one model or the average over several (Ohlsen's ensemble), as CSV or JSON;
 * --bench measures single-image latency instead. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "clfer.h"
#include "clfer/infer.h"
#include "commands.h"

#define MAX_MODELS 32

static void usage(FILE *out) {
  fprintf(out,
          "usage: clfer predict --model CKPT [--model CKPT2 ...] [--format csv|json] [--batch N]\n"
          "                     [--bench [--runs N]] [--preprocess P] [--device D] INPUT...\n\n"
          "Prints the class probabilities (softmax of the logits) of each image. INPUT is a PNG or\n"
          "JPEG file or a folder, searched recursively for *.png, *.jpg, *.jpeg (sorted by path).\n"
          "Images are converted to each model's input as it was trained (channels, size, the\n"
          "checkpoint's pre-processing). With several --model, the probabilities are averaged\n"
          "(an ensemble; the models must have the same classes).\n\n"
          "  --format csv     (default) header `file,<classes...>,predicted`, one row per image\n"
          "  --format json    {\"models\":[...],\"classes\":[...],\"predictions\":[{\"file\":...,\n"
          "                   \"probabilities\":{class:p,...},\"predicted\":class},...]}\n"
          "  --batch N        images per forward pass (default 32)\n"
          "  --bench          instead of predictions, time one image end to end (pre-processing,\n"
          "                   forward of every model, softmax) --runs times (default 100) after\n"
          "                   10 warm-up runs, and print the mean and 99th percentile\n"
          "  --preprocess P   override the checkpoints' pre-processing (ferplus, minmax, imagenet, unit),\n"
          "                   e.g. imagenet for a model imported from ONNX\n"
          "  --device D       OpenCL device selector (default $CLFER_DEVICE or auto)\n");
}

/* ---- inputs ---- */

typedef struct file_list {
  char **paths;
  int n, cap;
} file_list_t;

static int add_path(file_list_t *l, const char *path) {
  if (l->n == l->cap) {
    int cap = l->cap ? 2 * l->cap : 64;
    char **p = realloc(l->paths, (size_t)cap * sizeof *p);
    if (!p) return -1;
    l->paths = p, l->cap = cap;
  }
  return (l->paths[l->n++] = strdup(path)) ? 0 : -1;
}

static int is_image_name(const char *name) {
  const char *dot = strrchr(name, '.');
  return dot && (strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Adds the images under DIR, recursively, in sorted order. */
static int add_folder(file_list_t *l, const char *dir, int depth) {
  if (depth > 32) return 0;
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "clfer predict: cannot read folder %s\n", dir);
    return -1;
  }
  file_list_t here = {0};
  struct dirent *e;
  int rc = 0;
  while (!rc && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    rc = add_path(&here, path);
  }
  closedir(d);
  if (here.n) qsort(here.paths, (size_t)here.n, sizeof *here.paths, cmp_str);
  for (int i = 0; i < here.n; i++) {
    struct stat sb;
    if (!rc && stat(here.paths[i], &sb) == 0) {
      if (S_ISDIR(sb.st_mode))
        rc = add_folder(l, here.paths[i], depth + 1);
      else if (S_ISREG(sb.st_mode) && is_image_name(here.paths[i]))
        rc = add_path(l, here.paths[i]);
    }
    free(here.paths[i]);
  }
  free(here.paths);
  return rc;
}

static int collect_inputs(int argc, char **argv, file_list_t *l) {
  for (int i = 0; i < argc; i++) {
    struct stat sb;
    if (stat(argv[i], &sb) != 0) {
      fprintf(stderr, "clfer predict: no such file or folder: %s\n", argv[i]);
      return -1;
    }
    if (S_ISDIR(sb.st_mode) ? add_folder(l, argv[i], 0) : add_path(l, argv[i])) return -1;
  }
  if (l->n == 0) {
    fprintf(stderr, "clfer predict: no PNG or JPEG images in the inputs\n");
    return -1;
  }
  return 0;
}

/* ---- running ---- */

typedef struct predictor {
  clfer_model_t *models[MAX_MODELS];
  int n_models, k;
  float *input, *logits, *probs;
  size_t input_cap;
} predictor_t;

/* Averaged probabilities of n decoded images into out (n×k). */
static clfer_status predict_images(predictor_t *p, const clfer_image_t *images, const char *const *names, int n,
                                   float *out) {
  memset(out, 0, (size_t)n * p->k * sizeof *out);
  for (int m = 0; m < p->n_models; m++) {
    int in[3];
    clfer_model_input_shape(p->models[m], in);
    size_t per = (size_t)in[0] * in[1] * in[2];
    if (per * n > p->input_cap) {
      float *grown = realloc(p->input, per * n * sizeof *grown);
      if (!grown) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory for inputs");
      p->input = grown, p->input_cap = per * n;
    }
    clfer_status st;
    for (int i = 0; i < n; i++)
      if ((st = clfer_model_prepare(p->models[m], &images[i], p->input + per * i)))
        return clfer_wrap_error(st, "%s: ", names[i]);
    if ((st = clfer_model_run(p->models[m], p->input, n, p->logits, -1, NULL))) return st;
    clfer_softmax_rows(p->logits, n, p->k, p->probs);
    for (size_t j = 0; j < (size_t)n * p->k; j++) out[j] += p->probs[j] / (float)p->n_models;
  }
  return CLFER_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int bench(predictor_t *p, const char *path, int runs, const char *device) {
  clfer_image_t img;
  if (clfer_image_load(path, &img)) return clfer_app_fail("cannot read the image");
  float out[CLFER_MAX_CLASSES];
  double *t = malloc((size_t)runs * sizeof *t), sum = 0;
  int rc = 0;
  if (!t) {
    clfer_image_free(&img);
    return clfer_app_fail("out of memory");
  }
  for (int i = -10; i < runs && !rc; i++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (predict_images(p, &img, &path, 1, out)) rc = clfer_app_fail("prediction failed");
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (i >= 0) sum += t[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) * 1e-6;
  }
  if (!rc) {
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    int i99 = (int)(0.99 * runs + 0.5) - 1;
    if (i99 < 0) i99 = 0;
    if (i99 >= runs) i99 = runs - 1;
    int in[3];
    clfer_model_input_shape(p->models[0], in);
    printf("latency of one %dx%d image through %d model%s (%s, input %dx%dx%d) on %s: mean %.3f ms, p99 %.3f ms, "
           "min %.3f ms over %d runs after 10 warm-up\n",
           img.width, img.height, p->n_models, p->n_models > 1 ? "s" : "", clfer_net_name(clfer_model_net(p->models[0])),
           in[0], in[1], in[2], device, sum / runs, t[i99], t[0], runs);
  }
  free(t);
  clfer_image_free(&img);
  return rc;
}

static int check_same_classes(predictor_t *p, const char *const *paths) {
  const char *const *a = clfer_model_class_names(p->models[0]);
  for (int m = 1; m < p->n_models; m++) {
    const char *const *b = clfer_model_class_names(p->models[m]);
    int same = clfer_model_classes(p->models[m]) == p->k;
    for (int c = 0; same && c < p->k; c++) same = clfer_class_same(a[c], b[c]);
    if (!same) {
      fprintf(stderr, "clfer predict: %s and %s have different classes; an ensemble needs the same ones\n", paths[0],
              paths[m]);
      return -1;
    }
  }
  return 0;
}

int clfer_cmd_predict(int argc, char **argv) {
  static const struct option longopts[] = {
      {"model", required_argument, 0, 'm'}, {"format", required_argument, 0, 'f'}, {"batch", required_argument, 0, 'b'},
      {"bench", no_argument, 0, 'B'},       {"runs", required_argument, 0, 'r'},   {"device", required_argument, 0, 'd'},
      {"help", no_argument, 0, 'h'},        {"preprocess", required_argument, 0, 'P'}, {0, 0, 0, 0}};
  const char *model_paths[MAX_MODELS], *format = "csv", *device = NULL, *preprocess = NULL;
  int n_models = 0, batch = 32, do_bench = 0, runs = 100, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "m:f:b:Br:d:hP:", longopts, NULL)) != -1) {
    switch (c) {
      case 'm':
        if (n_models == MAX_MODELS) {
          fprintf(stderr, "clfer predict: at most %d models\n", MAX_MODELS);
          return 2;
        }
        model_paths[n_models++] = optarg;
        break;
      case 'f': format = optarg; break;
      case 'b': batch = atoi(optarg); break;
      case 'B': do_bench = 1; break;
      case 'r': runs = atoi(optarg); break;
      case 'd': device = optarg; break;
      case 'P': preprocess = optarg; break;
      case 'h': usage(stdout); return 0;
      default: return 2;
    }
  }
  int json = strcmp(format, "json") == 0;
  if (!json && strcmp(format, "csv") != 0) {
    fprintf(stderr, "clfer predict: --format must be csv or json, not '%s'\n", format);
    return 2;
  }
  if (!n_models || optind >= argc) {
    fprintf(stderr, "clfer predict: %s (see --help)\n", !n_models ? "--model is required" : "no input images given");
    return 2;
  }
  if (batch < 1 || batch > 4096 || runs < 1 || runs > 1000000) {
    fprintf(stderr, "clfer predict: --batch must be 1..4096 and --runs 1..1000000\n");
    return 2;
  }
  file_list_t files = {0};
  predictor_t p = {0};
  clfer_runtime_t *rt = NULL;
  clfer_image_t *images = NULL;
  float *out = NULL;
  cJSON *root = NULL, *list = NULL;
  int rc = 0;
  if (collect_inputs(argc - optind, argv + optind, &files)) {
    rc = 1;
    goto done;
  }
  clfer_runtime_options_t ro = {.device = device};
  if (clfer_runtime_create(&ro, &rt)) {
    rc = clfer_app_fail("cannot open a device");
    goto done;
  }
  for (int m = 0; m < n_models; m++, p.n_models++)
    if ((rc = clfer_app_load_model(rt, model_paths[m], preprocess, &p.models[m]))) goto done;
  p.k = clfer_model_classes(p.models[0]);
  if (check_same_classes(&p, model_paths)) {
    rc = 1;
    goto done;
  }
  p.logits = malloc((size_t)batch * p.k * sizeof *p.logits);
  p.probs = malloc((size_t)batch * p.k * sizeof *p.probs);
  out = malloc((size_t)batch * p.k * sizeof *out);
  images = calloc((size_t)batch, sizeof *images);
  if (!p.logits || !p.probs || !out || !images) {
    rc = clfer_app_fail("out of memory");
    goto done;
  }
  if (do_bench) {
    rc = bench(&p, files.paths[0], runs, clfer_runtime_device(rt)->name);
    goto done;
  }
  const char *const *names = clfer_model_class_names(p.models[0]);
  if (json) {
    root = cJSON_CreateObject();
    cJSON *models = cJSON_AddArrayToObject(root, "models"), *classes = cJSON_AddArrayToObject(root, "classes");
    for (int m = 0; m < n_models; m++) cJSON_AddItemToArray(models, cJSON_CreateString(model_paths[m]));
    for (int k = 0; k < p.k; k++) cJSON_AddItemToArray(classes, cJSON_CreateString(names[k]));
    list = cJSON_AddArrayToObject(root, "predictions");
  } else {
    printf("file");
    for (int k = 0; k < p.k; k++) putchar(','), clfer_app_csv_field(stdout, names[k]);
    printf(",predicted\n");
  }
  for (int start = 0; start < files.n && !rc; start += batch) {
    int n = files.n - start < batch ? files.n - start : batch;
    for (int i = 0; i < n && !rc; i++)
      if (clfer_image_load(files.paths[start + i], &images[i])) rc = clfer_app_fail("cannot read the image");
    if (!rc && predict_images(&p, images, (const char *const *)files.paths + start, n, out))
      rc = clfer_app_fail("prediction failed");
    for (int i = 0; i < n && !rc; i++) {
      const float *row = out + (size_t)i * p.k;
      int best = clfer_argmax(row, p.k);
      if (json) {
        cJSON *item = cJSON_CreateObject(), *probs = cJSON_CreateObject();
        cJSON_AddStringToObject(item, "file", files.paths[start + i]);
        for (int k = 0; k < p.k; k++) cJSON_AddItemToObject(probs, names[k], cJSON_CreateNumber((double)row[k]));
        cJSON_AddItemToObject(item, "probabilities", probs);
        cJSON_AddStringToObject(item, "predicted", names[best]);
        cJSON_AddItemToArray(list, item);
      } else {
        clfer_app_csv_field(stdout, files.paths[start + i]);
        for (int k = 0; k < p.k; k++) printf(",%.6f", row[k]);
        putchar(',');
        clfer_app_csv_field(stdout, names[best]);
        putchar('\n');
      }
    }
    for (int i = 0; i < n; i++) clfer_image_free(&images[i]);
  }
  if (json && !rc) {
    char *text = cJSON_Print(root);
    if (text) puts(text);
    free(text);
  }
done:
  cJSON_Delete(root);
  free(images);
  free(out);
  free(p.logits);
  free(p.probs);
  free(p.input);
  for (int m = 0; m < p.n_models; m++) clfer_model_destroy(p.models[m]);
  clfer_runtime_destroy(rt);
  for (int i = 0; i < files.n; i++) free(files.paths[i]);
  free(files.paths);
  return rc;
}
