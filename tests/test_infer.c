/* test_infer.c — the commands that use a trained model, run as a program (CLFER_CLI_PATH) on a
 * small synth set and a checkpoint that `clfer train` writes for one epoch: predict's CSV
 * (probabilities sum to 1, the argmax column agrees, one row per image), ensemble averaging,
 * eval against an independent count from predict's output and the folder's votes (and against
 * the training run's own test confusion), features in libsvm format, the SVM on separable data,
 * and bad inputs that must fail with a message naming the file or layer. */
#include <math.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>

#include "clfer/infer.h"
#include "data_test_util.h"

#define SHARED CLFER_TEST_TMP "/infer_shared"
#define DATA SHARED "/synth"
#define RUN SHARED "/run"
#define CKPT RUN "/best.safetensors"
#define TEST_DIR DATA "/FER2013Test"
#define K 8

static const char *const class_names[K] = {"neutral", "happiness", "surprise", "sadness",
                                           "anger",   "disgust",   "fear",     "contempt"};

/* Runs `clfer ARGS` with stdout and stderr to files; returns the exit code. */
static int run_cli(const char *args, const char *out_path, const char *err_path) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "'%s' %s >'%s' 2>'%s'", CLFER_CLI_PATH, args, out_path, err_path);
  int rc = system(cmd);
  cr_assert(rc != -1 && WIFEXITED(rc), "cannot run %s", cmd);
  return WEXITSTATUS(rc);
}

static double mtime(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 ? (double)sb.st_mtim.tv_sec + 1e-9 * (double)sb.st_mtim.tv_nsec : -1;
}

/* The synth data and a one-epoch checkpoint, made once per build of the CLI (each Criterion test
 * runs in its own process, so the files are the cache). */
static void ensure_model(void) {
  const char *ready = SHARED "/ready";
  if (mtime(ready) > mtime(CLFER_CLI_PATH)) return;
  char cmd[4096];
  snprintf(cmd, sizeof cmd,
           "rm -rf '%s' && mkdir -p '%s' && '%s' synth --out '%s' --train 256 --valid 32 --test 96 --ferplus-folders "
           ">/dev/null && '%s' train --recipe '%s/apps/recipes/demo.ini' --set data.dir='%s' --set train.epochs=1 "
           "--out '%s' --quiet --no-progress >'%s/train.log' 2>&1",
           SHARED, SHARED, CLFER_CLI_PATH, DATA, CLFER_CLI_PATH, CLFER_SOURCE_DIR, DATA, RUN, SHARED);
  cr_assert_eq(system(cmd), 0, "cannot make the model: %s", cmd);
  test_write_text(ready, "ok\n");
}

/* ---- predict's CSV ---- */

typedef struct rows {
  int n;
  char file[512][256];
  float p[512][K];
  char predicted[512][32];
} rows_t;

/* Parses and checks predict's CSV: header, then file,p1..pK,predicted per row. */
static void parse_csv(const char *text, rows_t *r) {
  char header[512] = "file";
  for (int c = 0; c < K; c++) strcat(header, ","), strcat(header, class_names[c]);
  strcat(header, ",predicted\n");
  cr_assert(!strncmp(text, header, strlen(header)), "header of:\n%.300s", text);
  const char *line = text + strlen(header);
  r->n = 0;
  while (*line) {
    cr_assert_lt(r->n, 512);
    const char *comma = strchr(line, ',');
    cr_assert(comma, "row %d has no comma", r->n);
    snprintf(r->file[r->n], sizeof r->file[0], "%.*s", (int)(comma - line), line);
    char *end = (char *)comma;
    for (int c = 0; c < K; c++) {
      cr_assert_eq(*end, ',', "row %d: missing column %d", r->n, c);
      r->p[r->n][c] = strtof(end + 1, &end);
    }
    cr_assert_eq(*end, ',');
    const char *nl = strchr(end, '\n');
    cr_assert(nl);
    snprintf(r->predicted[r->n], sizeof r->predicted[0], "%.*s", (int)(nl - end - 1), end + 1);
    r->n++;
    line = nl + 1;
  }
}

static int class_index(const char *name) {
  for (int c = 0; c < K; c++)
    if (strcmp(name, class_names[c]) == 0) return c;
  return -1;
}

static int count_pngs(const char *dir) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "ls '%s' | grep -c '\\.png$'", dir);
  FILE *p = popen(cmd, "r");
  int n = 0;
  cr_assert(p && fscanf(p, "%d", &n) == 1);
  pclose(p);
  return n;
}

Test(infer, predict_csv_probabilities_and_argmax) {
  ensure_model();
  const char *dir = test_tmpdir("infer_predict");
  char out[1200], err[1200], args[4096];
  snprintf(out, sizeof out, "%s/out.csv", dir);
  snprintf(err, sizeof err, "%s/err.txt", dir);
  snprintf(args, sizeof args, "predict --model '%s' '%s'", CKPT, TEST_DIR);
  cr_assert_eq(run_cli(args, out, err), 0, "%s", test_read_file(err, NULL));
  char *text = test_read_file(out, NULL);
  static rows_t r;
  parse_csv(text, &r);
  free(text);
  cr_assert_eq(r.n, count_pngs(TEST_DIR), "one row per image");
  int distinct = 0;
  for (int i = 0; i < r.n; i++) {
    double sum = 0;
    int best = 0;
    for (int c = 0; c < K; c++) {
      cr_assert(r.p[i][c] >= 0 && r.p[i][c] <= 1, "%s: p[%d] = %g", r.file[i], c, r.p[i][c]);
      sum += r.p[i][c];
      if (r.p[i][c] > r.p[i][best]) best = c;
    }
    cr_assert(fabs(sum - 1) < 2e-5, "%s: probabilities sum to %.7f", r.file[i], sum);
    cr_assert_str_eq(r.predicted[i], class_names[best], "%s", r.file[i]);
    cr_assert(strstr(r.file[i], "FER2013Test/fer") && strstr(r.file[i], ".png"), "%s", r.file[i]);
    if (i > 0) {
      cr_assert(strcmp(r.file[i - 1], r.file[i]) < 0, "files are sorted");
      distinct += fabsf(r.p[i][0] - r.p[0][0]) > 1e-4f;
    }
  }
  cr_assert_gt(distinct, 0, "the model gives every image the same probabilities");

  /* JSON: the same probabilities, as numbers keyed by class */
  snprintf(args, sizeof args, "predict --format json --model '%s' '%s'", CKPT, TEST_DIR);
  cr_assert_eq(run_cli(args, out, err), 0, "%s", test_read_file(err, NULL));
  text = test_read_file(out, NULL);
  cJSON *root = cJSON_Parse(text);
  cr_assert(root, "not JSON: %.200s", text);
  free(text);
  const cJSON *models = cJSON_GetObjectItem(root, "models"), *classes = cJSON_GetObjectItem(root, "classes");
  const cJSON *preds = cJSON_GetObjectItem(root, "predictions");
  cr_assert_eq(cJSON_GetArraySize(models), 1);
  cr_assert_str_eq(cJSON_GetArrayItem(models, 0)->valuestring, CKPT);
  cr_assert_eq(cJSON_GetArraySize(classes), K);
  cr_assert_eq(cJSON_GetArraySize(preds), r.n);
  for (int i = 0; i < r.n; i++) {
    const cJSON *item = cJSON_GetArrayItem(preds, i), *probs = cJSON_GetObjectItem(item, "probabilities");
    cr_assert_str_eq(cJSON_GetObjectItem(item, "file")->valuestring, r.file[i]);
    cr_assert_str_eq(cJSON_GetObjectItem(item, "predicted")->valuestring, r.predicted[i]);
    for (int c = 0; c < K; c++) {
      const cJSON *v = cJSON_GetObjectItem(probs, class_names[c]);
      cr_assert(cJSON_IsNumber(v) && fabs(v->valuedouble - r.p[i][c]) < 1e-6, "%s %s", r.file[i], class_names[c]);
    }
  }
  cJSON_Delete(root);

  /* a folder searched recursively: a larger RGB JPEG, a smaller gray PNG; other files ignored */
  char mixed[1200], path[1300];
  snprintf(mixed, sizeof mixed, "%s/mixed/sub", dir);
  dt_mkdirs(mixed);
  snprintf(mixed, sizeof mixed, "%s/mixed", dir);
  snprintf(path, sizeof path, "%s/a.jpg", mixed);
  dt_make_image(path, 96, 80, 3, 5);
  snprintf(path, sizeof path, "%s/sub/b.png", mixed);
  dt_make_image(path, 24, 24, 1, 6);
  snprintf(path, sizeof path, "%s/readme.txt", mixed);
  test_write_text(path, "not an image\n");
  snprintf(args, sizeof args, "predict --model '%s' '%s'", CKPT, mixed);
  cr_assert_eq(run_cli(args, out, err), 0, "%s", test_read_file(err, NULL));
  text = test_read_file(out, NULL);
  static rows_t mr;
  parse_csv(text, &mr);
  free(text);
  cr_assert_eq(mr.n, 2);
  cr_assert(strstr(mr.file[0], "mixed/a.jpg") && strstr(mr.file[1], "mixed/sub/b.png"), "%s %s", mr.file[0], mr.file[1]);
  for (int i = 0; i < 2; i++) {
    double sum = 0;
    for (int c = 0; c < K; c++) sum += mr.p[i][c];
    cr_assert(fabs(sum - 1) < 2e-5, "%s: probabilities sum to %.7f", mr.file[i], sum);
  }

  /* the latency benchmark */
  snprintf(args, sizeof args, "predict --bench --runs 5 --model '%s' '%s'", CKPT, r.file[0]);
  cr_assert_eq(run_cli(args, out, err), 0, "%s", test_read_file(err, NULL));
  text = test_read_file(out, NULL);
  double mean = -1, p99 = -1;
  const char *m = strstr(text, "mean ");
  cr_assert(m && sscanf(m, "mean %lf ms, p99 %lf ms", &mean, &p99) == 2, "%s", text);
  cr_assert(mean > 0 && p99 >= mean * 0.5, "%s", text);
  free(text);
}

/* A second, different model with the metadata clfer's loader needs (random weights). */
static void write_random_model(const char *path) {
  clfer_runtime_t *rt = test_runtime();
  clfer_net_t *net;
  cr_assert_eq(clfer_zoo_build(rt, "fer_small", 1, 48, 48, K, &net), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_net_init(net, CLFER_INIT_PYTORCH, 77), CLFER_OK);
  clfer_meta_t meta = {0};
  clfer_meta_set(&meta, "clfer.classes", "neutral,happiness,surprise,sadness,anger,disgust,fear,contempt");
  clfer_meta_set(&meta, "clfer.preprocess", "ferplus");
  cr_assert_eq(clfer_net_save(net, path, &meta, NULL, 0), CLFER_OK, "%s", clfer_last_error());
  clfer_meta_free(&meta);
  clfer_net_destroy(net);
  clfer_runtime_destroy(rt);
}

Test(infer, ensemble_averages_probabilities) {
  ensure_model();
  const char *dir = test_tmpdir("infer_ensemble");
  char out[1200], err[1200], args[4096], copy[1200], other[1200];
  snprintf(out, sizeof out, "%s/out.csv", dir);
  snprintf(err, sizeof err, "%s/err.txt", dir);
  snprintf(copy, sizeof copy, "%s/copy.safetensors", dir);
  snprintf(other, sizeof other, "%s/other.safetensors", dir);
  dt_copy(CKPT, copy);
  write_random_model(other);
  static rows_t a, aa, b, ab;
  const char *sets[4][2] = {{CKPT, NULL}, {CKPT, copy}, {other, NULL}, {CKPT, other}};
  rows_t *res[4] = {&a, &aa, &b, &ab};
  for (int s = 0; s < 4; s++) {
    if (sets[s][1])
      snprintf(args, sizeof args, "predict --model '%s' --model '%s' '%s'", sets[s][0], sets[s][1], TEST_DIR);
    else
      snprintf(args, sizeof args, "predict --model '%s' '%s'", sets[s][0], TEST_DIR);
    cr_assert_eq(run_cli(args, out, err), 0, "%s", test_read_file(err, NULL));
    char *text = test_read_file(out, NULL);
    parse_csv(text, res[s]);
    free(text);
  }
  int differs = 0;
  for (int i = 0; i < a.n; i++)
    for (int c = 0; c < K; c++) {
      cr_assert(fabsf(aa.p[i][c] - a.p[i][c]) <= 1e-6f, "two identical models: %s class %d", a.file[i], c);
      float avg = 0.5f * (a.p[i][c] + b.p[i][c]);
      cr_assert(fabsf(ab.p[i][c] - avg) <= 2e-6f, "%s class %d: ensemble %g, average %g", a.file[i], c, ab.p[i][c], avg);
      differs += fabsf(a.p[i][c] - b.p[i][c]) > 1e-3f;
    }
  cr_assert_gt(differs, 0, "the two models should differ");
}

/* ---- eval ---- */

/* "accuracy X%  mean diagonal Y%  (N samples)" from eval's report. */
static void parse_eval(const char *text, double *acc, double *diag, int *n) {
  const char *a = strstr(text, "accuracy ");
  cr_assert(a && sscanf(a, "accuracy %lf%%  mean diagonal %lf%%  (%d samples)", acc, diag, n) == 3, "%s", text);
}

/* eval's numbers against an independent count (predict's argmax per PNG of the test folder
 * against the majority of its votes), its CSV and SVG, and the training run's own test confusion. */
static void check_eval(const char *ckpt, const char *run_dir, const char *dir) {
  char out[1200], err[1200], args[4096], csv[1300];
  snprintf(out, sizeof out, "%s/out.txt", dir);
  snprintf(err, sizeof err, "%s/err.txt", dir);

  /* independent: predict's argmax per PNG against the majority of the folder's votes */
  snprintf(args, sizeof args, "predict --model '%s' '%s'", ckpt, TEST_DIR);
  cr_assert_eq(run_cli(args, out, err), 0, "%s", test_read_file(err, NULL));
  char *text = test_read_file(out, NULL);
  static rows_t r;
  parse_csv(text, &r);
  free(text);
  char *labels = test_read_file(TEST_DIR "/label.csv", NULL);
  int samples = 0, correct = 0;
  long confusion[K][K] = {{0}};
  for (char *line = strtok(labels, "\n"); line; line = strtok(NULL, "\n")) {
    char name[256];
    float votes[CLFER_FERPLUS_VOTES], dist[CLFER_FERPLUS_EMOTIONS];
    const char *after_box = strstr(line, ")\",");
    cr_assert(after_box && sscanf(line, "%255[^,]", name) == 1, "%s", line);
    const char *p = after_box + 2;
    for (int v = 0; v < CLFER_FERPLUS_VOTES; v++) {
      cr_assert_eq(*p, ',', "%s", line);
      votes[v] = strtof(p + 1, (char **)&p);
    }
    if (clfer_ferplus_process(votes, CLFER_FERPLUS_MAJORITY, dist) != CLFER_FERPLUS_KEEP) continue;
    int truth = 0;
    for (int c = 1; c < K; c++)
      if (dist[c] > dist[truth]) truth = c;
    int row = -1;
    for (int i = 0; i < r.n; i++)
      if (strstr(r.file[i], name)) row = i;
    cr_assert_geq(row, 0, "%s has no prediction", name);
    int pred = class_index(r.predicted[row]);
    samples++;
    correct += pred == truth;
    confusion[truth][pred]++;
  }
  free(labels);
  cr_assert_gt(samples, 10);

  snprintf(args, sizeof args, "eval --model '%s' --data '%s' --format ferplus_folders --split test --out '%s'", ckpt,
           DATA, dir);
  cr_assert_eq(run_cli(args, out, err), 0, "%s", test_read_file(err, NULL));
  text = test_read_file(out, NULL);
  double acc, diag;
  int n;
  parse_eval(text, &acc, &diag, &n);
  cr_assert(strstr(text, "confusion matrix") && strstr(text, "precision") && strstr(text, "contempt"), "%s", text);
  free(text);
  cr_assert_eq(n, samples);
  cr_assert(fabs(acc - 100.0 * correct / samples) < 0.006, "eval %.2f%%, independent %.2f%%", acc,
            100.0 * correct / samples);
  double recall_sum = 0;
  int with = 0;
  for (int t = 0; t < K; t++) {
    long row = 0;
    for (int p = 0; p < K; p++) row += confusion[t][p];
    if (row) recall_sum += (double)confusion[t][t] / row, with++;
  }
  cr_assert(fabs(diag - 100.0 * recall_sum / with) < 0.006, "mean diagonal %.2f%% vs %.2f%%", diag,
            100.0 * recall_sum / with);
  snprintf(csv, sizeof csv, "%s/confusion_test.csv", dir);
  char *got = test_read_file(csv, NULL);
  char want[4096] = "true\\predicted", cell[64];
  for (int c = 0; c < K; c++) strcat(want, ","), strcat(want, class_names[c]);
  strcat(want, "\n");
  for (int t = 0; t < K; t++) {
    strcat(want, class_names[t]);
    for (int p = 0; p < K; p++) snprintf(cell, sizeof cell, ",%ld", confusion[t][p]), strcat(want, cell);
    strcat(want, "\n");
  }
  cr_assert_str_eq(got, want);
  free(got);
  snprintf(csv, sizeof csv, "%s/confusion_test.svg", dir);
  got = test_read_file(csv, NULL);
  cr_assert(strstr(got, "<svg") && strstr(got, "happiness"));
  free(got);

  /* the CSV form of the same data, and the training run's own test confusion (same epoch) */
  snprintf(args, sizeof args, "eval --model '%s' --data '%s' --out '%s/csvform'", ckpt, DATA, dir);
  cr_assert_eq(run_cli(args, out, err), 0, "%s", test_read_file(err, NULL));
  snprintf(csv, sizeof csv, "%s/csvform/confusion_test.csv", dir);
  got = test_read_file(csv, NULL);
  snprintf(csv, sizeof csv, "%s/confusion_test.csv", run_dir);
  char *from_train = test_read_file(csv, NULL);
  cr_assert_str_eq(got, from_train);
  cr_assert_str_eq(got, want);
  free(got);
  free(from_train);
}

Test(infer, eval_matches_an_independent_count) {
  ensure_model();
  check_eval(CKPT, RUN, test_tmpdir("infer_eval"));
}

/* A model trained resize-then-crop (augment.resize, Ng et al.) on a smaller input: eval and
 * predict shape the faces as its training evaluated (FER faces as stored, the centre crop of the
 * 48 → 28 resample), so the same checks hold exactly. */
Test(infer, eval_and_predict_follow_resize_then_crop, .timeout = 120) {
  ensure_model();
  const char *dir = test_tmpdir("infer_resize");
  char args[4096], run[1200], out[1200], err[1200], ckpt[1300];
  snprintf(run, sizeof run, "%s/run", dir);
  snprintf(out, sizeof out, "%s/train.txt", dir);
  snprintf(err, sizeof err, "%s/train.err", dir);
  snprintf(args, sizeof args,
           "train --recipe '%s/apps/recipes/demo.ini' --set data.dir='%s' --set train.epochs=1 --set model.input=1x24x24 "
           "--set augment.resize=28 --out '%s' --quiet --no-progress",
           CLFER_SOURCE_DIR, DATA, run);
  cr_assert_eq(run_cli(args, out, err), 0, "%s", test_read_file(err, NULL));
  snprintf(ckpt, sizeof ckpt, "%s/best.safetensors", run);
  clfer_runtime_t *rt = test_runtime();
  clfer_model_t *m = NULL;
  cr_assert_eq(clfer_model_load(rt, ckpt, &m), CLFER_OK, "%s", clfer_last_error());
  /* a 48×48 face: the centre 24×24 of its 28×28 resample, not the whole face squeezed to 24 */
  clfer_image_t img = {.width = 48, .height = 48, .channels = 1};
  uint8_t px[48 * 48];
  for (int i = 0; i < 48 * 48; i++) px[i] = (uint8_t)((i % 48) * 5);
  img.pixels = px;
  float got[24 * 24], want[24 * 24], m6[6];
  cr_assert_eq(clfer_model_prepare(m, &img, got), CLFER_OK, "%s", clfer_last_error());
  clfer_augment_config_t crop = clfer_augment_config_crop(28, 0, 0);
  cr_assert_eq(clfer_augment_base_matrix(&crop, 48, 48, 24, 24, m6), CLFER_OK);
  cr_assert_eq(clfer_preprocess_host(px, 48, 48, 1, m6, clfer_model_preproc(m), want), CLFER_OK);
  cr_assert_arr_eq(got, want, sizeof got);
  clfer_model_destroy(m);
  clfer_runtime_destroy(rt);
  check_eval(ckpt, run, dir);
}

/* ---- features and svm ---- */

Test(infer, features_libsvm_format) {
  ensure_model();
  const char *dir = test_tmpdir("infer_features");
  char out[1200], err[1200], args[4096], feat[1200], train_feat[1200];
  snprintf(out, sizeof out, "%s/out.txt", dir);
  snprintf(err, sizeof err, "%s/err.txt", dir);
  snprintf(feat, sizeof feat, "%s/test.svm", dir);
  snprintf(train_feat, sizeof train_feat, "%s/train.svm", dir);
  snprintf(args, sizeof args, "features --model '%s' --data '%s' --split test --layer classifier.1 --out '%s'", CKPT,
           DATA, feat);
  cr_assert_eq(run_cli(args, out, err), 0, "%s", test_read_file(err, NULL));
  char *e = test_read_file(err, NULL);
  cr_assert(strstr(e, "× 128 values of layer classifier.1 (relu)"), "%s", e);
  free(e);
  snprintf(args, sizeof args, "eval --model '%s' --data '%s'", CKPT, DATA);
  cr_assert_eq(run_cli(args, out, err), 0);
  char *text = test_read_file(out, NULL);
  double acc, diag;
  int n;
  parse_eval(text, &acc, &diag, &n);
  free(text);
  char *lines = test_read_file(feat, NULL);
  int rows = 0;
  for (char *line = strtok(lines, "\n"); line; line = strtok(NULL, "\n"), rows++) {
    char *p = line;
    long label = strtol(p, &p, 10);
    cr_assert(label >= 0 && label < K, "%s", line);
    int last = 0;
    while (*p == ' ') {
      long idx = strtol(p + 1, &p, 10);
      cr_assert_eq(*p, ':', "%s", line);
      float v = strtof(p + 1, &p);
      cr_assert(idx > last && idx <= 128 && v > 0, "after ReLU every written value is positive: %s", line);
      last = (int)idx;
    }
    cr_assert_eq(*p, '\0', "%s", line);
  }
  free(lines);
  cr_assert_eq(rows, n, "one line per evaluated sample");

  /* round trip through the SVM (default layer: the model's feature node) */
  snprintf(args, sizeof args, "features --model '%s' --data '%s' --split train --out '%s'", CKPT, DATA, train_feat);
  cr_assert_eq(run_cli(args, out, err), 0, "%s", test_read_file(err, NULL));
  snprintf(args, sizeof args, "features --model '%s' --data '%s' --split test --out '%s'", CKPT, DATA, feat);
  cr_assert_eq(run_cli(args, out, err), 0, "%s", test_read_file(err, NULL));
  snprintf(args, sizeof args, "svm --train '%s' --test '%s'", train_feat, feat);
  cr_assert_eq(run_cli(args, out, err), 0, "%s", test_read_file(err, NULL));
  text = test_read_file(out, NULL);
  double sacc, sdiag;
  int sn;
  parse_eval(text, &sacc, &sdiag, &sn);
  cr_assert_eq(sn, n);
  cr_assert(sacc > 100.0 / K, "SVM on trained features at chance: %s", text);
  free(text);
}

/* Three classes around far-apart centres in 5 dimensions, with deterministic jitter. */
static void write_separable(const char *path, int per_class, uint64_t seed) {
  FILE *f = fopen(path, "w");
  cr_assert(f);
  float noise[5];
  for (int i = 0; i < per_class; i++)
    for (int c = 0; c < 3; c++) {
      test_fill_uniform(noise, 5, seed + (uint64_t)(i * 3 + c), -0.5f, 0.5f);
      fprintf(f, "%d", c);
      for (int d = 0; d < 5; d++) fprintf(f, " %d:%g", d + 1, (d == c ? 4.0 : 0.0) + noise[d]);
      fprintf(f, "\n");
    }
  fclose(f);
}

Test(infer, svm_separable_and_format) {
  const char *dir = test_tmpdir("infer_svm");
  char out[1200], err[1200], args[4096], tr[1200], te[1200], pred[1200], bad[1200];
  snprintf(out, sizeof out, "%s/out.txt", dir);
  snprintf(err, sizeof err, "%s/err.txt", dir);
  snprintf(tr, sizeof tr, "%s/train.svm", dir);
  snprintf(te, sizeof te, "%s/test.svm", dir);
  snprintf(pred, sizeof pred, "%s/pred.txt", dir);
  write_separable(tr, 20, 1);
  write_separable(te, 10, 1000);
  for (int kernel = 0; kernel < 2; kernel++) {
    snprintf(args, sizeof args, "svm --train '%s' --test '%s' --kernel %s --classes a,b,c --predictions '%s'", tr, te,
             kernel ? "rbf" : "linear", pred);
    cr_assert_eq(run_cli(args, out, err), 0, "%s", test_read_file(err, NULL));
    char *text = test_read_file(out, NULL);
    double acc, diag;
    int n;
    parse_eval(text, &acc, &diag, &n);
    cr_assert_eq(n, 30);
    cr_assert_float_eq(acc, 100.0, 1e-9, "%s", text);
    cr_assert_float_eq(diag, 100.0, 1e-9, "%s", text);
    cr_assert(strstr(text, "train ") && strstr(text, "60 samples, 5 features"), "%s", text);
    cr_assert(strstr(text, "\nb ") && strstr(text, "100.00%"), "class names in the table: %s", text);
    free(text);
    char *p = test_read_file(pred, NULL);
    char want[128] = "";
    for (int i = 0; i < 10; i++) strcat(want, "0\n1\n2\n");
    cr_assert_str_eq(p, want);
    free(p);
  }
  /* malformed input names the file and line */
  snprintf(bad, sizeof bad, "%s/bad.svm", dir);
  test_write_text(bad, "0 1:1 2:2\n1 2:1 1:3\n");
  snprintf(args, sizeof args, "svm --train '%s' --test '%s'", bad, te);
  cr_assert_eq(run_cli(args, out, err), 1);
  char *e = test_read_file(err, NULL);
  cr_assert(strstr(e, "bad.svm:2:"), "%s", e);
  free(e);
  snprintf(args, sizeof args, "svm --train '%s' --test '%s' --kernel poly", tr, te);
  cr_assert_eq(run_cli(args, out, err), 2);
}

/* ---- bad inputs ---- */

static void expect_failure(const char *args, const char *dir, const char *needle) {
  char out[1200], err[1200];
  snprintf(out, sizeof out, "%s/out.txt", dir);
  snprintf(err, sizeof err, "%s/err.txt", dir);
  int rc = run_cli(args, out, err);
  char *e = test_read_file(err, NULL);
  cr_assert_neq(rc, 0, "`clfer %s` succeeded", args);
  cr_assert(strstr(e, needle), "`clfer %s`: the message should name %s:\n%s", args, needle, e);
  cr_assert(!strstr(e, "Segmentation") && rc < 128, "%s", e);
  free(e);
}

Test(infer, bad_inputs_fail_with_a_message) {
  ensure_model();
  const char *dir = test_tmpdir("infer_bad");
  char args[4096], path[1200], corrupt[1200], text_file[1200], png[1200];
  snprintf(path, sizeof path, "%s/missing.safetensors", dir);
  snprintf(args, sizeof args, "predict --model '%s' '%s'", path, TEST_DIR);
  expect_failure(args, dir, "missing.safetensors");
  snprintf(args, sizeof args, "eval --model '%s' --data '%s'", path, DATA);
  expect_failure(args, dir, "missing.safetensors");

  snprintf(corrupt, sizeof corrupt, "%s/corrupt.safetensors", dir);
  size_t size;
  char *bytes = test_read_file(CKPT, &size);
  dt_write_bytes(corrupt, bytes, size / 2);
  snprintf(args, sizeof args, "predict --model '%s' '%s'", corrupt, TEST_DIR);
  expect_failure(args, dir, "corrupt.safetensors");
  dt_write_bytes(corrupt, bytes, 40);
  expect_failure(args, dir, "corrupt.safetensors");
  free(bytes);

  snprintf(text_file, sizeof text_file, "%s/notes.png", dir);
  test_write_text(text_file, "this is not an image\n");
  snprintf(args, sizeof args, "predict --model '%s' '%s'", CKPT, text_file);
  expect_failure(args, dir, "notes.png");
  snprintf(png, sizeof png, "%s/nothing_here.png", dir);
  snprintf(args, sizeof args, "predict --model '%s' '%s'", CKPT, png);
  expect_failure(args, dir, "nothing_here.png");

  snprintf(args, sizeof args, "features --model '%s' --data '%s' --layer no_such_layer --out '%s/f.svm'", CKPT, DATA,
           dir);
  expect_failure(args, dir, "no_such_layer");
  snprintf(args, sizeof args, "eval --model '%s' --data '%s/nowhere'", CKPT, dir);
  expect_failure(args, dir, "nowhere");
  snprintf(args, sizeof args, "eval --model '%s' --data '%s' --split sideways", CKPT, DATA);
  expect_failure(args, dir, "sideways");
  snprintf(args, sizeof args, "predict --preprocess sepia --model '%s' '%s'", CKPT, TEST_DIR);
  expect_failure(args, dir, "sepia");
  snprintf(args, sizeof args, "svm --train '%s/none.svm' --test '%s/none.svm'", dir, dir);
  expect_failure(args, dir, "none.svm");

  /* usage: unknown options are errors (2), --help succeeds */
  char out[1200], err[1200];
  snprintf(out, sizeof out, "%s/out.txt", dir);
  snprintf(err, sizeof err, "%s/err.txt", dir);
  const char *commands[4] = {"eval", "predict", "features", "svm"};
  for (int i = 0; i < 4; i++) {
    snprintf(args, sizeof args, "%s --bogus", commands[i]);
    cr_assert_eq(run_cli(args, out, err), 2, "%s", args);
    snprintf(args, sizeof args, "%s --help", commands[i]);
    cr_assert_eq(run_cli(args, out, err), 0, "%s", args);
    char *help = test_read_file(out, NULL);
    cr_assert(strstr(help, "usage: clfer"), "%s", help);
    free(help);
  }
}

/* ---- library pieces ---- */

Test(infer, softmax_and_preprocessing_names) {
  const float z[2][4] = {{1, 2, 3, 4}, {1000, 1000, -1000, 0}};
  float p[2][4];
  clfer_softmax_rows(&z[0][0], 2, 4, &p[0][0]);
  double e = exp(1) + exp(2) + exp(3) + exp(4);
  for (int c = 0; c < 4; c++) cr_assert_float_eq(p[0][c], exp(c + 1) / e, 1e-6);
  cr_assert_float_eq(p[1][0], 0.5, 1e-6);
  cr_assert_float_eq(p[1][1], 0.5, 1e-6);
  cr_assert_float_eq(p[1][2], 0.0, 1e-9);
  cr_assert_eq(clfer_argmax(&z[0][0], 4), 3);
  cr_assert_eq(clfer_argmax(&z[1][0], 4), 0, "first on ties");
  clfer_preproc_t pp;
  cr_assert_eq(clfer_preproc_from_name("ferplus", 1, 64, 64, &pp), CLFER_OK);
  cr_assert_eq(pp.norm, CLFER_NORM_FERPLUS);
  cr_assert_eq(pp.out_h, 64);
  cr_assert_eq(clfer_preproc_from_name("imagenet", 3, 224, 224, &pp), CLFER_OK);
  cr_assert(pp.minmax_stretch && fabsf(pp.std[2] - 0.225f) < 1e-7f);
  cr_assert_eq(clfer_preproc_from_name("sepia", 1, 48, 48, &pp), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "sepia"), "%s", clfer_last_error());
}

Test(infer, model_api_metadata) {
  ensure_model();
  clfer_runtime_t *rt = test_runtime();
  clfer_model_t *m;
  cr_assert_eq(clfer_model_load(rt, CKPT, &m), CLFER_OK, "%s", clfer_last_error());
  int in[3];
  clfer_model_input_shape(m, in);
  cr_assert(in[0] == 1 && in[1] == 48 && in[2] == 48);
  cr_assert_eq(clfer_model_classes(m), K);
  for (int c = 0; c < K; c++) cr_assert_str_eq(clfer_model_class_names(m)[c], class_names[c]);
  cr_assert_str_eq(clfer_model_preprocess_name(m), "ferplus");
  cr_assert_eq(clfer_model_preproc(m)->norm, CLFER_NORM_FERPLUS);
  int node;
  cr_assert_eq(clfer_model_find_layer(m, "classifier.1", &node), CLFER_OK);
  cr_assert_eq(clfer_model_node_size(m, node), 128);
  cr_assert_eq(clfer_model_find_layer(m, "classifier.99", &node), CLFER_NOT_FOUND);
  cr_assert(strstr(clfer_last_error(), "classifier.99") && strstr(clfer_last_error(), "features.0"), "%s",
            clfer_last_error());

  /* a 48x48 gray image goes through unchanged geometry: prepare == preprocess with the identity */
  clfer_image_t img = {48, 48, 1, malloc(48 * 48)};
  for (int i = 0; i < 48 * 48; i++) img.pixels[i] = (uint8_t)((i * 37) % 251);
  float *a = malloc(2 * 48 * 48 * sizeof *a), *b = a + 48 * 48;
  const float id[6] = {1, 0, 0, 0, 1, 0};
  cr_assert_eq(clfer_model_prepare(m, &img, a), CLFER_OK);
  cr_assert_eq(clfer_preprocess_host(img.pixels, 48, 48, 1, id, clfer_model_preproc(m), b), CLFER_OK);
  TEST_ASSERT_CLOSE(a, b, 48 * 48, 1e-6, 1e-6, "prepared input");
  float logits[2 * K], feats[2 * 128];
  memcpy(b, a, 48 * 48 * sizeof *a);
  cr_assert_eq(clfer_model_find_layer(m, "classifier.1", &node), CLFER_OK);
  cr_assert_eq(clfer_model_run(m, a, 2, logits, node, feats), CLFER_OK, "%s", clfer_last_error());
  for (int c = 0; c < K; c++) cr_assert_float_eq(logits[c], logits[K + c], 1e-5, "same image, same logits");
  for (int j = 0; j < 128; j++) cr_assert(feats[j] >= 0, "ReLU output");
  free(a);
  clfer_image_free(&img);
  clfer_model_destroy(m);

  /* a model outside the zoo comes back from the checkpoint's layer graph; no classes or
   * pre-processing in the metadata: indices and the 1-channel default */
  const char *dir = test_tmpdir("infer_api");
  char path[1200];
  snprintf(path, sizeof path, "%s/plain.safetensors", dir);
  clfer_net_t *net;
  int x;
  cr_assert_eq(clfer_net_create(rt, "plain", 1, 4, 4, &net), CLFER_OK);
  cr_assert_eq(clfer_net_dense(net, "fc", 0, 3, 1, &x), CLFER_OK);
  cr_assert_eq(clfer_net_init(net, CLFER_INIT_PYTORCH, 1), CLFER_OK);
  cr_assert_eq(clfer_net_save(net, path, NULL, NULL, 0), CLFER_OK, "%s", clfer_last_error());
  clfer_net_destroy(net);
  cr_assert_eq(clfer_model_load(rt, path, &m), CLFER_OK, "%s", clfer_last_error());
  clfer_model_input_shape(m, in);
  cr_assert(in[0] == 1 && in[1] == 4 && in[2] == 4);
  cr_assert_eq(clfer_model_classes(m), 3);
  cr_assert_str_eq(clfer_model_class_names(m)[2], "2");
  cr_assert_str_eq(clfer_model_preprocess_name(m), "ferplus");
  clfer_model_destroy(m);
  cr_assert_eq(clfer_model_load(rt, path, &m), CLFER_OK);
  cr_assert_eq(clfer_model_set_preprocess(m, "imagenet"), CLFER_OK);
  cr_assert_str_eq(clfer_model_preprocess_name(m), "imagenet");
  cr_assert(clfer_model_preproc(m)->minmax_stretch && clfer_model_preproc(m)->out_h == 4);
  cr_assert_eq(clfer_model_set_preprocess(m, "sepia"), CLFER_INVALID_ARGUMENT);
  cr_assert_str_eq(clfer_model_preprocess_name(m), "imagenet", "a failed override changes nothing");
  clfer_model_destroy(m);
  /* a truncated file names itself */
  size_t size;
  char *bytes = test_read_file(path, &size);
  dt_write_bytes(path, bytes, size - 7);
  free(bytes);
  cr_assert_neq(clfer_model_load(rt, path, &m), CLFER_OK);
  cr_assert(strstr(clfer_last_error(), "plain.safetensors"), "%s", clfer_last_error());
  clfer_runtime_destroy(rt);
}
