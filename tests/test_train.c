/* test_train.c — the training loop end to end on a small `clfer synth` set: a short run learns
 * (loss and accuracy thresholds), writes one valid metrics.jsonl line per epoch and its plots;
 * a run stopped and resumed (twice, across a stage boundary) ends with bit-identical weights,
 * optimizer state and class centres to an uninterrupted one, and a damaged resume counter in the
 * checkpoint is an error; a non-finite loss stops the run
 * with the step range, the layer and a hint; progress is a bar on a terminal, log lines
 * otherwise; the IPA2LT recipe runs end to end (coders, union, LTNet, baselines, report); a
 * staged transfer loads a checkpoint into a model with another head; batches pre-processed on the
 * device train like host ones and a resume keeps the choice. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "clfer/train.h"
#include "test_util.h"
#include "train/prep_placement.h"

#define DATA_DIR CLFER_TEST_TMP "/train_synth"

/* The synth set is written once and shared by the tests (each runs in its own process). */
static void ensure_synth(void) {
  struct stat st;
  if (stat(DATA_DIR "/fer2013new.csv", &st) == 0) return;
  int rc = system("mkdir -p '" CLFER_TEST_TMP "' && '" CLFER_CLI_PATH "' synth --out '" DATA_DIR
                  ".tmp' --train 256 --valid 64 --test 64 >/dev/null && rm -rf '" DATA_DIR "' && mv '" DATA_DIR
                  ".tmp' '" DATA_DIR "'");
  cr_assert_eq(rc, 0, "clfer synth failed");
}

/* fer_small on 32×32, Adam, no augmentation: a few seconds per epoch on two cores. */
static const char *recipe_text = "[model]\n"
                                 "name = fer_small\n"
                                 "input = 1x32x32\n"
                                 "init = pytorch\n"
                                 "[data]\n"
                                 "format = ferplus\n"
                                 "dir = " DATA_DIR "\n"
                                 "[augment]\n"
                                 "enabled = false\n"
                                 "[optim]\n"
                                 "type = adam\n"
                                 "lr = 0.003\n"
                                 "[train]\n"
                                 "epochs = 10\n"
                                 "batch_size = 16\n"
                                 "seed = 3\n"
                                 "deterministic = true\n";

static clfer_status train(const char *recipe, const char *out, const char *const *sets, int n_sets, long max_steps,
                          int resume, clfer_train_result_t *res) {
  clfer_train_options_t o = {.recipe = recipe, .sets = sets, .n_sets = n_sets, .out_dir = out, .resume = resume,
                             .max_steps = max_steps, .progress = 0, .quiet = 1};
  return clfer_train(&o, res);
}

static int file_exists(const char *dir, const char *name) {
  char path[1400];
  struct stat st;
  snprintf(path, sizeof path, "%.1200s/%.100s", dir, name);
  return stat(path, &st) == 0 && st.st_size > 0;
}

Test(train, short_run_learns_and_writes_its_outputs, .timeout = 240) {
  clfer_runtime_destroy(test_runtime()); /* skips without an OpenCL device */
  ensure_synth();
  const char *dir = test_tmpdir("train_short");
  char recipe[1200], out[1200];
  snprintf(recipe, sizeof recipe, "%s", test_write_in(dir, "short.ini", recipe_text));
  snprintf(out, sizeof out, "%s/run", dir);
  /* 64 training faces: the loss must fall well below its start (the model memorises them), and
   * the held-out accuracy must beat chance (1/8) clearly */
  const char *sets[] = {"data.train_limit=64"};
  clfer_train_result_t res;
  cr_assert_eq(train(recipe, out, sets, 1, 0, 0, &res), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(res.epochs_run, 10);
  cr_assert_eq(res.steps, 40);
  cr_assert_gt(res.best_valid_accuracy, 0.25, "best valid accuracy %.3f", res.best_valid_accuracy);
  cr_assert_gt(res.test_accuracy, 0.125, "test accuracy %.3f", res.test_accuracy);

  /* metrics.jsonl: one JSON object per epoch with the documented keys */
  char path[1300];
  snprintf(path, sizeof path, "%s/metrics.jsonl", out);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f);
  static const char *keys[] = {"step",        "lr",       "train_loss",          "valid_loss",
                               "valid_accuracy", "valid_mean_diagonal", "test_loss", "test_accuracy",
                               "test_mean_diagonal", "seconds", "images_per_second"};
  char line[4096];
  int lines = 0;
  double first_loss = 0, last_loss = 0;
  while (fgets(line, sizeof line, f)) {
    cJSON *o = cJSON_Parse(line);
    cr_assert_not_null(o, "line %d is not JSON: %s", lines + 1, line);
    cr_assert_str_eq(cJSON_GetObjectItem(o, "stage")->valuestring, "main");
    cr_assert_eq(cJSON_GetObjectItem(o, "epoch")->valueint, lines);
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
      cJSON *v = cJSON_GetObjectItem(o, keys[k]);
      cr_assert(cJSON_IsNumber(v), "line %d: %s missing or not a number", lines + 1, keys[k]);
    }
    double loss = cJSON_GetObjectItem(o, "train_loss")->valuedouble;
    if (lines == 0) first_loss = loss;
    last_loss = loss;
    cr_assert_eq(cJSON_GetObjectItem(o, "step")->valueint, 4 * (lines + 1));
    cJSON_Delete(o);
    lines++;
  }
  fclose(f);
  cr_assert_eq(lines, 10, "one line per epoch");
  cr_assert_lt(last_loss, 1.5, "train loss %.3f after 10 epochs", last_loss);
  cr_assert_lt(last_loss, 0.6 * first_loss, "train loss %.3f → %.3f", first_loss, last_loss);

  const char *files[] = {"confusion_valid.svg", "confusion_valid.csv", "confusion_test.svg", "confusion_test.csv",
                         "curves.svg",          "recipe.resolved.ini", "best.safetensors",  "last.safetensors"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) cr_assert(file_exists(out, files[i]), "no %s", files[i]);
  snprintf(path, sizeof path, "%s/confusion_test.csv", out);
  char *csv = test_read_file(path, NULL);
  cr_assert(strstr(csv, "happiness") && strstr(csv, "contempt"), "class names in the CSV:\n%s", csv);
  free(csv);
  snprintf(path, sizeof path, "%s/recipe.resolved.ini", out);
  char *resolved = test_read_file(path, NULL);
  cr_assert(strstr(resolved, "train_limit = 64 ; --set"), "%s", resolved);
  free(resolved);
}

/* ---- kill-and-resume equality ---- */

/* Compares two safetensors files tensor by tensor (names, shapes, bytes); the header's JSON
 * may order keys differently, so tensors are looked up by name. */
static void assert_same_tensors(const char *a_path, const char *b_path) {
  size_t na, nb;
  char *a = test_read_file(a_path, &na), *b = test_read_file(b_path, &nb);
  uint64_t ha, hb;
  memcpy(&ha, a, 8), memcpy(&hb, b, 8);
  cr_assert(ha + 8 <= na && hb + 8 <= nb);
  char *ja = strndup(a + 8, ha), *jb = strndup(b + 8, hb);
  cJSON *ma = cJSON_Parse(ja), *mb = cJSON_Parse(jb);
  cr_assert(ma && mb, "unreadable safetensors headers");
  int tensors = 0;
  cJSON *t;
  cJSON_ArrayForEach(t, ma) {
    if (strcmp(t->string, "__metadata__") == 0) continue;
    cJSON *u = cJSON_GetObjectItemCaseSensitive(mb, t->string);
    cr_assert_not_null(u, "%s: no tensor %s", b_path, t->string);
    char *sa = cJSON_PrintUnformatted(cJSON_GetObjectItem(t, "shape")), *sb = cJSON_PrintUnformatted(cJSON_GetObjectItem(u, "shape"));
    cr_assert_str_eq(sa, sb, "%s: shape", t->string);
    free(sa), free(sb);
    cJSON *oa = cJSON_GetObjectItem(t, "data_offsets"), *ob = cJSON_GetObjectItem(u, "data_offsets");
    size_t a0 = (size_t)cJSON_GetArrayItem(oa, 0)->valuedouble, a1 = (size_t)cJSON_GetArrayItem(oa, 1)->valuedouble;
    size_t b0 = (size_t)cJSON_GetArrayItem(ob, 0)->valuedouble, b1 = (size_t)cJSON_GetArrayItem(ob, 1)->valuedouble;
    cr_assert_eq(a1 - a0, b1 - b0);
    const float *fa = (const float *)(a + 8 + ha + a0), *fb = (const float *)(b + 8 + hb + b0);
    for (size_t i = 0; i < (a1 - a0) / 4; i++)
      if (memcmp(&fa[i], &fb[i], 4) != 0)
        cr_assert_fail("%s[%zu]: %.9g uninterrupted vs %.9g resumed", t->string, i, (double)fa[i], (double)fb[i]);
    tensors++;
  }
  cr_assert_eq(cJSON_GetArraySize(ma), cJSON_GetArraySize(mb), "same number of tensors");
  cr_assert_gt(tensors, 10);
  cJSON *meta_a = cJSON_GetObjectItem(ma, "__metadata__"), *meta_b = cJSON_GetObjectItem(mb, "__metadata__");
  const char *same[] = {"clfer.stage", "clfer.epoch", "clfer.step", "clfer.best_epoch", "clfer.best_metric"};
  for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
    cr_assert_str_eq(cJSON_GetObjectItem(meta_a, same[i])->valuestring, cJSON_GetObjectItem(meta_b, same[i])->valuestring,
                     "%s", same[i]);
  cJSON_Delete(ma), cJSON_Delete(mb);
  free(ja), free(jb), free(a), free(b);
}

Test(train, resumed_run_equals_uninterrupted, .timeout = 300) {
  clfer_runtime_destroy(test_runtime());
  ensure_synth();
  const char *dir = test_tmpdir("train_resume");
  /* two stages; augmentation, dropout, center loss (centres in the checkpoint), Adam (moments and
   * step counts), a cosine schedule and per-epoch shuffles all have to continue exactly */
  char text[4096];
  snprintf(text, sizeof text,
           "%s[augment]\nenabled = true\n[loss]\ncenter_weight = 0.01\n[schedule]\ntype = cosine\n"
           "[stage.first]\ntrain.epochs = 2\n[stage.second]\noptim.lr = 0.001\ntrain.epochs = 2\n",
           recipe_text);
  char recipe[1200], full[1200], parts[1200];
  snprintf(recipe, sizeof recipe, "%s", test_write_in(dir, "resume.ini", text));
  snprintf(full, sizeof full, "%s/full", dir);
  snprintf(parts, sizeof parts, "%s/parts", dir);
  const char *sets[] = {"data.train_limit=96", "data.eval_limit=32", "train.batch_size=32"}; /* 3 steps per epoch */
  clfer_train_result_t res;
  cr_assert_eq(train(recipe, full, sets, 3, 0, 0, &res), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(res.steps, 12);
  /* stopped after epoch 0 of the first stage; resumed and stopped after epoch 0 of the second
   * (the optimizer's step count restarts with each stage); resumed to the end */
  cr_assert_eq(train(recipe, parts, sets, 3, 3, 0, &res), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(res.steps, 3);
  cr_assert_eq(train(recipe, parts, sets, 3, 9, 1, &res), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(res.steps, 9);
  cr_assert_eq(train(recipe, parts, sets, 3, 0, 1, &res), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(res.steps, 12);
  char a[1300], b[1300];
  snprintf(a, sizeof a, "%s/last.safetensors", full);
  snprintf(b, sizeof b, "%s/last.safetensors", parts);
  assert_same_tensors(a, b);
  snprintf(a, sizeof a, "%s/best.safetensors", full);
  snprintf(b, sizeof b, "%s/best.safetensors", parts);
  assert_same_tensors(a, b);
  /* the resumed run's log has each epoch once, as the uninterrupted one */
  snprintf(b, sizeof b, "%s/metrics.jsonl", parts);
  char *log = test_read_file(b, NULL);
  int lines = 0;
  for (char *p = log; (p = strchr(p, '\n')); p++) lines++;
  cr_assert_eq(lines, 4, "%s", log);
  free(log);
}

Test(train, resume_without_checkpoint_fails_cleanly) {
  clfer_runtime_destroy(test_runtime());
  ensure_synth();
  const char *dir = test_tmpdir("train_resume_none");
  char recipe[1200], out[1200];
  snprintf(recipe, sizeof recipe, "%s", test_write_in(dir, "r.ini", recipe_text));
  snprintf(out, sizeof out, "%s/empty", dir);
  clfer_train_result_t res;
  cr_assert_neq(train(recipe, out, NULL, 0, 0, 1, &res), CLFER_OK);
  cr_assert(strstr(clfer_last_error(), "--resume") && strstr(clfer_last_error(), "last.safetensors"), "%s",
            clfer_last_error());
}

/* A checkpoint whose resume counters are damaged is an error naming the key, not a stage or epoch
 * to start from (one byte of the header changed in place, so the header length stays valid). */
Test(train, resume_from_a_damaged_counter_fails_cleanly, .timeout = 120) {
  clfer_runtime_destroy(test_runtime());
  ensure_synth();
  const char *dir = test_tmpdir("train_resume_damaged");
  char recipe[1200], out[1200], last[1300];
  snprintf(recipe, sizeof recipe, "%s", test_write_in(dir, "r.ini", recipe_text));
  snprintf(out, sizeof out, "%s/run", dir);
  snprintf(last, sizeof last, "%s/last.safetensors", out);
  const char *sets[] = {"data.train_limit=32", "data.eval_limit=16", "train.epochs=1"};
  clfer_train_result_t res;
  cr_assert_eq(train(recipe, out, sets, 3, 0, 0, &res), CLFER_OK, "%s", clfer_last_error());
  static const char *const keys[] = {"\"clfer.stage\":\"0\"", "\"clfer.epoch\":\"0\""};
  for (int k = 0; k < 2; k++) {
    size_t size;
    char *bytes = test_read_file(last, &size), *at = NULL;
    for (size_t i = 0; !at && i + strlen(keys[k]) <= size; i++)
      if (memcmp(bytes + i, keys[k], strlen(keys[k])) == 0) at = bytes + i;
    cr_assert_not_null(at, "no %s in %s", keys[k], last);
    char *digit = at + strlen(keys[k]) - 2;
    *digit = k == 0 ? '-' : 'x';
    FILE *f = fopen(last, "wb");
    cr_assert(f && fwrite(bytes, 1, size, f) == size);
    fclose(f);
    cr_assert_eq(train(recipe, out, sets, 3, 0, 1, &res), CLFER_CORRUPT, "%s", keys[k]);
    cr_assert(strstr(clfer_last_error(), k == 0 ? "clfer.stage" : "clfer.epoch") && strstr(clfer_last_error(), last),
              "%s", clfer_last_error());
    *digit = '0'; /* back as it was, for the next key */
    f = fopen(last, "wb");
    cr_assert(f && fwrite(bytes, 1, size, f) == size);
    fclose(f);
    free(bytes);
  }
}

/* ---- where batches are pre-processed (data.preprocess_on) ---- */

/* Reads metrics.jsonl: each epoch's train loss and (unless `on` is NULL) preprocess_on; returns
 * the line count. */
static int read_metrics(const char *run, double *loss, char (*on)[8], int max) {
  char path[1400], line[4096]; /* run is at most 1299 characters plus the file name */
  snprintf(path, sizeof path, "%s/metrics.jsonl", run);
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "no %s", path);
  int n = 0;
  while (n < max && fgets(line, sizeof line, f)) {
    cJSON *o = cJSON_Parse(line);
    cr_assert_not_null(o, "%s: not JSON: %s", path, line);
    loss[n] = cJSON_GetObjectItem(o, "train_loss")->valuedouble;
    if (on) {
      cJSON *p = cJSON_GetObjectItem(o, "preprocess_on");
      cr_assert(cJSON_IsString(p), "%s: no preprocess_on: %s", path, line);
      snprintf(on[n], sizeof on[n], "%s", p->valuestring);
    }
    cJSON_Delete(o);
    n++;
  }
  fclose(f);
  return n;
}

Test(train, device_preprocessing_agrees_with_host_and_resumes_on_the_device, .timeout = 240) {
  clfer_runtime_destroy(test_runtime());
  ensure_synth();
  const char *dir = test_tmpdir("train_prep_on");
  char text[4096];
  snprintf(text, sizeof text, "%s[augment]\nenabled = true\n", recipe_text);
  char recipe[1200], run[4][1200];
  snprintf(recipe, sizeof recipe, "%s", test_write_in(dir, "prep.ini", text));
  const char *names[4] = {"host", "device", "full", "parts"};
  for (int i = 0; i < 4; i++) snprintf(run[i], sizeof run[i], "%s/%s", dir, names[i]);
  double loss[2][4];
  char on[2][4][8];
  clfer_train_result_t res;

  /* with lr 0 the weights stay put, so the epoch's loss compares the inputs the two paths make:
   * the same augmented, FER+-normalised faces (to ~1e-6) give the same loss */
  const char *frozen[] = {"data.train_limit=96", "data.eval_limit=32", "train.batch_size=32", "optim.lr=0",
                          "train.epochs=1", "data.preprocess_on=host"};
  cr_assert_eq(train(recipe, run[0], frozen, 6, 0, 0, &res), CLFER_OK, "%s", clfer_last_error());
  frozen[5] = "data.preprocess_on=device";
  cr_assert_eq(train(recipe, run[1], frozen, 6, 0, 0, &res), CLFER_OK, "%s", clfer_last_error());
  for (int i = 0; i < 2; i++) cr_assert_eq(read_metrics(run[i], loss[i], on[i], 4), 1);
  cr_assert_str_eq(on[0][0], "host");
  cr_assert_str_eq(on[1][0], "device");
  cr_assert_float_eq(loss[1][0], loss[0][0], 1e-5 * loss[0][0], "train loss %.7g on the device, %.7g on the host",
                     loss[1][0], loss[0][0]);

  /* a run on the device path stopped after epoch 0 and resumed with `auto` keeps the device
   * (the checkpoint records the choice) and ends bit-identical to the uninterrupted run */
  const char *sets[] = {"data.train_limit=96", "data.eval_limit=32", "train.batch_size=32", "train.epochs=2",
                        "data.preprocess_on=device"};
  cr_assert_eq(train(recipe, run[2], sets, 5, 0, 0, &res), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(train(recipe, run[3], sets, 5, 3, 0, &res), CLFER_OK, "%s", clfer_last_error());
  sets[4] = "data.preprocess_on=auto";
  cr_assert_eq(train(recipe, run[3], sets, 5, 0, 1, &res), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(read_metrics(run[3], loss[0], on[0], 4), 2);
  cr_assert_str_eq(on[0][1], "device", "the resumed epoch ran on the %s", on[0][1]);
  char a[1300], b[1300];
  snprintf(a, sizeof a, "%s/last.safetensors", run[2]);
  snprintf(b, sizeof b, "%s/last.safetensors", run[3]);
  assert_same_tensors(a, b);

  /* auto with train.deterministic (the recipe's) decides by device type: PoCL is a CPU */
  sets[3] = "train.epochs=1";
  cr_assert_eq(train(recipe, run[0], sets, 5, 0, 0, &res), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(read_metrics(run[0], loss[0], on[0], 4), 1);
  cr_assert_str_eq(on[0][0], clfer_runtime_device(test_runtime())->is_cpu ? "host" : "device");

  /* helper threads change nothing but the speed: the same run with 3 workers ends bit-identical */
  const char *threaded[] = {"data.train_limit=96", "data.eval_limit=32", "train.batch_size=32", "train.epochs=2",
                            "data.preprocess_on=device", "data.workers=3"};
  cr_assert_eq(train(recipe, run[3], threaded, 6, 0, 0, &res), CLFER_OK, "%s", clfer_last_error());
  assert_same_tensors(a, b);
  threaded[5] = "data.workers=65";
  cr_assert_neq(train(recipe, run[3], threaded, 6, 0, 0, &res), CLFER_OK);
  cr_assert(strstr(clfer_last_error(), "data.workers = '65' is outside 0..64"), "%s", clfer_last_error());
}

/* The measured choice: the device path adds its time to every step, the host path costs the
 * loop's wait; noise and tiny waits do not move the work. */
Test(train, preprocessing_moves_to_the_device_only_when_that_shortens_the_step) {
  clfer__prep_measure_t m = {.steps = 4, .wait_per_step = 0.004, .step_seconds = 0.010, .device_seconds = 0.0002};
  cr_assert(clfer__prep_prefers_device(&m), "a GPU waiting 4 of 10 ms for a 0.2 ms job");
  m.wait_per_step = 0;
  cr_assert_not(clfer__prep_prefers_device(&m), "no wait, nothing to gain");
  m = (clfer__prep_measure_t){.steps = 4, .wait_per_step = 0.0021, .step_seconds = 0.17, .device_seconds = 0.0024};
  cr_assert_not(clfer__prep_prefers_device(&m), "PoCL: the device path costs more than the wait");
  m = (clfer__prep_measure_t){.steps = 4, .wait_per_step = 0.0011, .step_seconds = 0.1, .device_seconds = 0.0001};
  cr_assert_not(clfer__prep_prefers_device(&m), "a wait of 1.1 %% of the step is noise");
  m = (clfer__prep_measure_t){.steps = 4, .wait_per_step = 0.0011, .step_seconds = 0.01, .device_seconds = 0.001};
  cr_assert_not(clfer__prep_prefers_device(&m), "within the 25 %% margin");
  m.steps = 0;
  m.wait_per_step = 1;
  cr_assert_not(clfer__prep_prefers_device(&m), "nothing measured");
}

/* ---- the CLI: non-finite loss, progress ---- */

static int run_cli(const char *args, const char *log) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "'%s' train %s > '%s' 2>&1", CLFER_CLI_PATH, args, log);
  int rc = system(cmd);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

Test(train, non_finite_loss_stops_with_step_layer_and_hint, .timeout = 120) {
  clfer_runtime_destroy(test_runtime());
  ensure_synth();
  const char *dir = test_tmpdir("train_nan");
  char recipe[1200], args[3000], log[1300];
  snprintf(recipe, sizeof recipe, "%s", test_write_in(dir, "nan.ini", recipe_text));
  snprintf(log, sizeof log, "%s/log.txt", dir);
  snprintf(args, sizeof args,
           "--recipe '%s' --out '%s/run' --set optim.lr=1e30 --set data.train_limit=64 --set data.eval_limit=16 "
           "--no-progress",
           recipe, dir);
  int rc = run_cli(args, log);
  char *text = test_read_file(log, NULL);
  cr_assert_neq(rc, 0, "a run with lr 1e30 succeeded:\n%s", text);
  cr_assert_lt(rc, 128, "crashed (%d):\n%s", rc, text);
  cr_assert(strstr(text, "not finite") && strstr(text, "steps 1-4"), "no step range:\n%s", text);
  cr_assert(strstr(text, "first non-finite layer output: features."), "no layer named:\n%s", text);
  cr_assert(strstr(text, "hint: lower optim.lr (now 1e+30, set at"), "no hint:\n%s", text);
  free(text);
}

Test(train, progress_bar_on_a_terminal_log_lines_otherwise, .timeout = 120) {
  clfer_runtime_destroy(test_runtime());
  ensure_synth();
  const char *dir = test_tmpdir("train_progress");
  char recipe[1200], args[3000], log[1300];
  snprintf(recipe, sizeof recipe, "%s", test_write_in(dir, "p.ini", recipe_text));
  snprintf(log, sizeof log, "%s/plain.txt", dir);
  snprintf(args, sizeof args,
           "--recipe '%s' --out '%s/plain' --set train.epochs=1 --set data.train_limit=32 --set data.eval_limit=16", recipe,
           dir);
  cr_assert_eq(run_cli(args, log), 0);
  char *text = test_read_file(log, NULL);
  cr_assert(strstr(text, "epoch 0: lr ") != NULL, "no epoch line:\n%s", text);
  cr_assert_null(strchr(text, '\r'), "a bar in a log file:\n%s", text);
  free(text);
  /* script(1) gives the program a terminal */
  if (system("command -v script >/dev/null 2>&1") != 0) cr_skip_test("script(1) is not installed");
  char cmd[8192];
  snprintf(log, sizeof log, "%s/tty.txt", dir);
  snprintf(cmd, sizeof cmd,
           "script -qec \"'%s' train --recipe '%s' --out '%s/tty' --set train.epochs=1 --set data.train_limit=32 "
           "--set data.eval_limit=16\" /dev/null > '%s' 2>&1",
           CLFER_CLI_PATH, recipe, dir, log);
  cr_assert_eq(system(cmd), 0);
  text = test_read_file(log, NULL);
  cr_assert(strstr(text, "\repoch   1/1   [") != NULL && strstr(text, "img/s ETA"), "no progress bar:\n%s", text);
  free(text);
}

/* ---- IPA2LT ---- */

/* `clfer synth --ipa2lt` with n_train training faces into DIR/data; `data` receives the recipe
 * setting "data.dir=DIR/data/ipa2lt". */
static void synth_ipa2lt(const char *dir, int n_train, char *data, size_t size) {
  char cmd[2400];
  snprintf(cmd, sizeof cmd, "'%s' synth --out '%s/data' --train %d --valid 16 --test 32 --ipa2lt >/dev/null",
           CLFER_CLI_PATH, dir, n_train);
  cr_assert_eq(system(cmd), 0, "clfer synth --ipa2lt failed");
  snprintf(data, size, "data.dir=%s/data/ipa2lt", dir);
}

Test(train, ipa2lt_runs_end_to_end, .timeout = 300) {
  clfer_runtime_destroy(test_runtime());
  const char *dir = test_tmpdir("train_ipa2lt");
  char recipe[1300], out[1300], data[1400];
  synth_ipa2lt(dir, 128, data, sizeof data);
  snprintf(recipe, sizeof recipe, "%s/apps/recipes/ipa2lt_ltnet.ini", CLFER_SOURCE_DIR);
  snprintf(out, sizeof out, "%s/run", dir);
  const char *sets[] = {data,
                        "model.name=fer_small",
                        "model.input=1x24x24",
                        "model.init=pytorch",
                        "optim.type=adam",
                        "optim.lr=0.003",
                        "optim.weight_decay=0",
                        "augment.enabled=false",
                        "schedule.type=constant",
                        "ipa2lt.coder_epochs=2",
                        "train.epochs=2"};
  clfer_train_result_t res;
  cr_assert_eq(train(recipe, out, sets, sizeof sets / sizeof sets[0], 0, 0, &res), CLFER_OK, "%s", clfer_last_error());
  cr_assert(res.test_accuracy >= 0 && res.test_accuracy <= 1, "test accuracy %g", res.test_accuracy);
  cr_assert(res.latent_truth_agreement >= 0 && res.latent_truth_agreement <= 1, "agreement %g",
            res.latent_truth_agreement);
  cr_assert(file_exists(out, "coder_a/best.safetensors") && file_exists(out, "coder_b/metrics.jsonl"));
  /* the checkpoint carries the 4 coders' transition matrices, rows on the simplex */
  char path[1400];
  snprintf(path, sizeof path, "%s/last.safetensors", out);
  size_t size;
  char *file = test_read_file(path, &size);
  uint64_t header;
  memcpy(&header, file, 8);
  char *json = strndup(file + 8, header);
  cJSON *h = cJSON_Parse(json), *t = cJSON_GetObjectItem(h, "ltnet.transitions");
  cr_assert_not_null(t, "no ltnet.transitions in %s", path);
  char *shape = cJSON_PrintUnformatted(cJSON_GetObjectItem(t, "shape"));
  cr_assert_str_eq(shape, "[4,8,8]");
  free(shape);
  /* the report: the synthetic human coders are right 75 % and 70 % of the time (docs/synth.md) */
  snprintf(path, sizeof path, "%s/ipa2lt.json", out);
  char *report = test_read_file(path, NULL);
  cJSON *o = cJSON_Parse(report);
  cr_assert_not_null(o, "ipa2lt.json is not JSON: %s", report);
  double a = cJSON_GetObjectItem(o, "human_a_agreement_with_truth")->valuedouble;
  double b = cJSON_GetObjectItem(o, "human_b_agreement_with_truth")->valuedouble;
  cr_assert(a > 0.45 && a < 0.95 && b > 0.45 && b < 0.95, "human coders' agreement %g / %g", a, b);
  /* the baselines ran (at this size their numbers mean little): Dawid-Skene, two CNNs */
  double ds = cJSON_GetObjectItem(o, "dawid_skene_agreement_with_truth")->valuedouble;
  cr_assert(ds >= 0 && ds <= 1, "Dawid-Skene agreement %g", ds);
  cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "em_cnn"), "test_accuracy")), "%s", report);
  cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "humans_mixed_cnn"), "test_accuracy")), "%s", report);
  cJSON *lt = cJSON_GetObjectItem(o, "ltnet");
  cr_assert_float_eq(cJSON_GetObjectItem(lt, "test_accuracy")->valuedouble, res.test_accuracy, 1e-5);
  cJSON_Delete(o), cJSON_Delete(h);
  free(report), free(json), free(file);
}

/* ---- transfer: a checkpoint's layers into a model with another head ---- */

/* Bytes of one tensor of a safetensors file (malloc'ed), and its shape as JSON text. */
static char *tensor_bytes(const char *path, const char *name, size_t *size, char **shape) {
  char *file = test_read_file(path, NULL);
  uint64_t header;
  memcpy(&header, file, 8);
  char *json = strndup(file + 8, header);
  cJSON *h = cJSON_Parse(json), *t = cJSON_GetObjectItem(h, name);
  cr_assert_not_null(t, "%s: no tensor %s", path, name);
  cJSON *o = cJSON_GetObjectItem(t, "data_offsets");
  size_t a = (size_t)cJSON_GetArrayItem(o, 0)->valuedouble, b = (size_t)cJSON_GetArrayItem(o, 1)->valuedouble;
  char *out = malloc(b - a);
  memcpy(out, file + 8 + header + a, b - a);
  *size = b - a;
  *shape = cJSON_PrintUnformatted(cJSON_GetObjectItem(t, "shape"));
  cJSON_Delete(h);
  free(json), free(file);
  return out;
}

/* The paper's synthetic check: three label sets of the same faces at 20/30/40 % noise, LTNet with
 * one transition matrix per set and the four baselines; train.select = last reports the last epoch. */
Test(train, ipa2lt_label_sets_run_end_to_end, .timeout = 300) {
  clfer_runtime_destroy(test_runtime());
  const char *dir = test_tmpdir("train_ipa2lt_sets");
  char cmd[2400], recipe[1300], out[1300], data[1400], path[1400];
  synth_ipa2lt(dir, 200, data, sizeof data);
  snprintf(recipe, sizeof recipe, "%s/apps/recipes/ipa2lt_label_sets.ini", CLFER_SOURCE_DIR);
  snprintf(out, sizeof out, "%s/run", dir);
  const char *sets[] = {data, "model.name=fer_small", "model.input=1x24x24", "model.init=pytorch", "optim.type=adam",
                        "optim.lr=0.003", "optim.weight_decay=0", "augment.enabled=false", "schedule.type=constant",
                        "ipa2lt.coder_epochs=1", "train.epochs=3"};
  clfer_train_result_t res;
  cr_assert_eq(train(recipe, out, sets, sizeof sets / sizeof sets[0], 0, 0, &res), CLFER_OK, "%s", clfer_last_error());
  cr_assert(res.selected_last && res.best_epoch == 2, "train.select = last reports epoch %d", res.best_epoch);
  cr_assert(file_exists(out, "clean_cnn/metrics.jsonl") && file_exists(out, "majority_cnn/metrics.jsonl"));
  cr_assert(!file_exists(out, "coder_a/metrics.jsonl"), "no machine coders with label sets");
  /* one transition matrix per label set */
  size_t n;
  char *shape, *bytes = tensor_bytes(strcat(strcpy(path, out), "/last.safetensors"), "ltnet.transitions", &n, &shape);
  cr_assert_str_eq(shape, "[3,8,8]");
  free(bytes), free(shape);
  /* the report: each set's agreement with the truth is about 1 − its noise (300 faces) */
  snprintf(path, sizeof path, "%s/ipa2lt.json", out);
  char *report = test_read_file(path, NULL);
  cJSON *o = cJSON_Parse(report);
  cr_assert_not_null(o, "ipa2lt.json is not JSON: %s", report);
  static const char *const keys[3] = {"noisy_20_agreement_with_truth", "noisy_30_agreement_with_truth",
                                      "noisy_40_agreement_with_truth"};
  for (int i = 0; i < 3; i++) {
    double a = cJSON_GetObjectItem(o, keys[i])->valuedouble;
    cr_assert(fabs(a - (0.8 - 0.1 * i)) < 0.08, "%s = %g", keys[i], a);
  }
  double majority = cJSON_GetObjectItem(o, "majority_vote_agreement_with_truth")->valuedouble;
  cr_assert(majority > 0.8, "the majority of three sets agrees with the truth only %g", majority);
  static const char *const cnns[4] = {"em_cnn", "mixture_cnn", "majority_cnn", "clean_cnn"};
  for (int i = 0; i < 4; i++)
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(o, cnns[i]), "test_accuracy")), "%s: %s", cnns[i],
              report);
  cr_assert_float_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "ltnet"), "test_accuracy")->valuedouble,
                     res.test_accuracy, 1e-5);
  cJSON_Delete(o);
  free(report);

  /* ipa2lt.pretrain: LTNet's network starts from the CNN on the mixed sets. Adam's first step moves
   * each weight by the learning rate (0.003); from the shared initialisation instead, the mixed CNN's
   * epoch would put them 0.02 apart */
  const char *pre[] = {data, "model.name=fer_small", "model.input=1x24x24", "model.init=pytorch", "optim.type=adam",
                       "optim.lr=0.003", "optim.weight_decay=0", "augment.enabled=false", "ipa2lt.coder_epochs=1",
                       "ipa2lt.baselines=false", "ipa2lt.pretrain=true"};
  snprintf(out, sizeof out, "%s/pretrain", dir);
  cr_assert_eq(train(recipe, out, pre, sizeof pre / sizeof pre[0], 1, 0, &res), CLFER_OK, "%s", clfer_last_error());
  cr_assert(file_exists(out, "mixture_cnn/last.safetensors") && !file_exists(out, "em_cnn/metrics.jsonl"));
  char mixed[1400], ltnet[1400];
  snprintf(mixed, sizeof mixed, "%s/mixture_cnn/last.safetensors", out);
  snprintf(ltnet, sizeof ltnet, "%s/best.safetensors", out);
  size_t nm, nl;
  char *sm, *sl;
  float *wm = (float *)tensor_bytes(mixed, "features.0.weight", &nm, &sm),
        *wl = (float *)tensor_bytes(ltnet, "features.0.weight", &nl, &sl);
  cr_assert(nm == nl && strcmp(sm, sl) == 0);
  double far = 0;
  for (size_t i = 0; i < nm / sizeof(float); i++) far = fmax(far, fabs(wm[i] - wl[i]));
  cr_assert(far > 0 && far < 0.005, "LTNet's first conv is %g away from the mixed-sets CNN's", far);
  free(wm), free(wl), free(sm), free(sl);

  /* label sets that do not list the same faces: an error naming the file and line */
  snprintf(path, sizeof path, "%s/data/ipa2lt/noisy_30.csv", dir);
  char *text = test_read_file(path, NULL), *second = strchr(text, '\n') + 1;
  snprintf(cmd, sizeof cmd, "%s/data/ipa2lt/swapped.csv", dir);
  FILE *f = fopen(cmd, "w");
  fputs(second, f), fwrite(text, 1, (size_t)(second - text), f); /* the first face moved to the end */
  fclose(f);
  free(text);
  const char *bad[] = {data, "model.name=fer_small", "model.input=1x24x24", "train.epochs=1",
                       "ipa2lt.baselines=false", "ipa2lt.label_sets=noisy_20.csv,swapped.csv"};
  snprintf(out, sizeof out, "%s/bad", dir);
  cr_assert_neq(train(recipe, out, bad, sizeof bad / sizeof bad[0], 0, 0, &res), CLFER_OK);
  cr_assert(strstr(clfer_last_error(), "swapped.csv:1: face 'images/ipa0000001.png' where noisy_20.csv has "
                                       "'images/ipa0000000.png'") != NULL,
            "%s", clfer_last_error());
}

/* IPA2LT resumes: side models (coders, baselines) that finished are loaded, not trained again; one
 * that did not finish trains again; LTNet continues from its checkpoint, or starts afresh when
 * the run stopped before its first epoch ended. Either way the result is bit-identical. */
Test(train, ipa2lt_resumes_to_the_same_result, .timeout = 300) {
  clfer_runtime_destroy(test_runtime());
  const char *dir = test_tmpdir("train_ipa2lt_resume");
  char cmd[2400], recipe[1300], full[1300], parts[1300], early[1300], data[1400];
  synth_ipa2lt(dir, 96, data, sizeof data);
  snprintf(recipe, sizeof recipe, "%s/apps/recipes/ipa2lt_ltnet.ini", CLFER_SOURCE_DIR);
  snprintf(full, sizeof full, "%s/full", dir);
  snprintf(parts, sizeof parts, "%s/parts", dir);
  snprintf(early, sizeof early, "%s/early", dir);
  const char *sets[] = {data, "model.name=fer_small", "model.input=1x24x24", "model.init=pytorch", "optim.type=adam",
                        "optim.lr=0.003", "augment.enabled=true", "ipa2lt.coder_epochs=2", "train.epochs=2",
                        "train.deterministic=true"}; /* no timing-dependent choice of pre-processing path */
  int n = sizeof sets / sizeof sets[0];
  clfer_train_result_t res;
  cr_assert_eq(train(recipe, full, sets, n, 0, 0, &res), CLFER_OK, "%s", clfer_last_error());
  long steps = res.steps; /* LTNet's alone: --steps does not count the side models' */
  cr_assert(steps >= 2 && steps % 2 == 0, "%ld LTNet steps", steps);

  /* stopped after LTNet's first epoch, coder B's record lost: B trains again, A and the
   * baselines are loaded, LTNet continues */
  cr_assert_eq(train(recipe, parts, sets, n, steps / 2, 0, &res), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(res.steps, steps / 2);
  cr_assert(file_exists(parts, "coder_a/done.json") && file_exists(parts, "em_cnn/done.json"));
  snprintf(cmd, sizeof cmd, "rm '%s/coder_b/done.json'", parts);
  cr_assert_eq(system(cmd), 0);
  cr_assert_eq(train(recipe, parts, sets, n, 0, 1, &res), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(res.steps, steps);

  /* stopped inside LTNet's first epoch (no checkpoint of it yet): LTNet starts afresh */
  cr_assert_eq(train(recipe, early, sets, n, 1, 0, &res), CLFER_OK, "%s", clfer_last_error());
  cr_assert_not(file_exists(early, "last.safetensors"));
  cr_assert_eq(train(recipe, early, sets, n, 0, 1, &res), CLFER_OK, "%s", clfer_last_error());
  double loss[4];
  cr_assert_eq(read_metrics(early, loss, NULL, 4), 2, "the cut epoch's line is gone from metrics.jsonl");

  char a[1400], b[1400];
  for (int run = 0; run < 2; run++) {
    const char *other = run ? early : parts;
    snprintf(a, sizeof a, "%s/last.safetensors", full);
    snprintf(b, sizeof b, "%s/last.safetensors", other);
    assert_same_tensors(a, b);
    snprintf(a, sizeof a, "%s/ipa2lt.json", full);
    snprintf(b, sizeof b, "%s/ipa2lt.json", other);
    char *ra = test_read_file(a, NULL), *rb = test_read_file(b, NULL);
    cr_assert_str_eq(rb, ra, "%s differs from the uninterrupted run's", b);
    free(ra), free(rb);
  }
}

Test(train, staged_transfer_replaces_the_head, .timeout = 180) {
  clfer_runtime_destroy(test_runtime());
  ensure_synth();
  const char *dir = test_tmpdir("train_transfer");
  char recipe[1200], source[1200], target[1200], text[4096];
  snprintf(recipe, sizeof recipe, "%s", test_write_in(dir, "source.ini", recipe_text));
  snprintf(source, sizeof source, "%s/source", dir);
  const char *sets[] = {"train.epochs=1", "data.train_limit=32", "data.eval_limit=16"};
  clfer_train_result_t res;
  cr_assert_eq(train(recipe, source, sets, 3, 0, 0, &res), CLFER_OK, "%s", clfer_last_error());
  /* 7 classes (no contempt): an import-only stage loads all but the 8-way head, then a stage
   * trains with the convolutions frozen */
  snprintf(text, sizeof text,
           "%s[data]\nclasses = neutral,happiness,surprise,sadness,anger,disgust,fear\n"
           "[stage.import]\nmodel.from = source/best.safetensors\nmodel.replace_head = true\ntrain.epochs = 0\n"
           "[stage.tune]\noptim.freeze = features\ntrain.epochs = 1\n",
           recipe_text);
  snprintf(recipe, sizeof recipe, "%s", test_write_in(dir, "target.ini", text));
  snprintf(target, sizeof target, "%s/target", dir);
  cr_assert_eq(train(recipe, target, sets + 1, 2, 0, 0, &res), CLFER_OK, "%s\n%s", clfer_last_error(), text);
  char a[1300], b[1300], *sa, *sb;
  size_t na, nb;
  snprintf(a, sizeof a, "%s/best.safetensors", source);
  snprintf(b, sizeof b, "%s/last.safetensors", target);
  char *wa = tensor_bytes(a, "features.0.weight", &na, &sa), *wb = tensor_bytes(b, "features.0.weight", &nb, &sb);
  cr_assert_str_eq(sa, sb);
  cr_assert(na == nb && memcmp(wa, wb, na) == 0, "the frozen, imported conv weights changed");
  free(wa), free(wb), free(sa), free(sb);
  wb = tensor_bytes(b, "classifier.3.weight", &nb, &sb);
  cr_assert_str_eq(sb, "[7,128]", "a 7-way head");
  free(wb), free(sb);
}

/* ---- transfer from ONNX: tests/fixtures/onnx/tiny.onnx (3×12×12 → 5 classes: conv1, bn1, conv2,
 * fc) fine-tuned on the gray synth faces with a new 8-way head ---- */

#define TINY_ONNX CLFER_TEST_FIXTURES "/onnx/tiny.onnx"

static const char *onnx_recipe = "[model]\n"
                                 "from = " TINY_ONNX "\n"
                                 "input = 1x12x12\n"
                                 "input_adapt = sum_rgb\n"
                                 "replace_head = true\n"
                                 "init = pytorch\n"
                                 "[data]\n"
                                 "format = ferplus\n"
                                 "dir = " DATA_DIR "\n"
                                 "preprocess = minmax\n"
                                 "[augment]\n"
                                 "enabled = false\n"
                                 "[optim]\n"
                                 "type = adam\n"
                                 "lr = 0.01\n"
                                 "[train]\n"
                                 "epochs = 3\n"
                                 "batch_size = 32\n"
                                 "seed = 5\n"
                                 "select = last\n";

/* Asserts that tensor NAME is bit-identical (same = 1) or different (same = 0) in two files. */
static void assert_tensor(const char *a_path, const char *b_path, const char *name, int same) {
  size_t na, nb;
  char *sa, *sb, *a = tensor_bytes(a_path, name, &na, &sa), *b = tensor_bytes(b_path, name, &nb, &sb);
  cr_assert_str_eq(sa, sb, "%s: shape %s in %s, %s in %s", name, sa, a_path, sb, b_path);
  int equal = na == nb && memcmp(a, b, na) == 0;
  cr_assert_eq(equal, same, "%s is %s in %s and %s", name, equal ? "the same" : "different", a_path, b_path);
  free(a), free(b), free(sa), free(sb);
}

Test(train, stage_from_onnx_new_head_gray_input_frozen_layers, .timeout = 180) {
  clfer_runtime_destroy(test_runtime());
  ensure_synth();
  const char *dir = test_tmpdir("train_onnx");
  char recipe[1200], run[1200], ref[1200], last[1300], cmd[4000];
  /* the reference: the same adaptation by `clfer import` (copied layers do not depend on the seed) */
  snprintf(ref, sizeof ref, "%s/ref.safetensors", dir);
  snprintf(cmd, sizeof cmd, "'%s' import '%s' --gray --classes 8 --out '%s' >/dev/null", CLFER_CLI_PATH, TINY_ONNX, ref);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
  snprintf(recipe, sizeof recipe, "%s", test_write_in(dir, "onnx.ini", onnx_recipe));
  snprintf(run, sizeof run, "%s/run", dir);
  const char *sets[] = {"optim.freeze_until=conv2"};
  clfer_train_result_t res;
  cr_assert_eq(train(recipe, run, sets, 1, 0, 0, &res), CLFER_OK, "%s", clfer_last_error());
  snprintf(last, sizeof last, "%s/last.safetensors", run);
  /* every layer up to conv2 frozen: bit-identical to the imported (RGB-summed) weights */
  const char *frozen[] = {"conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "conv2.weight"};
  for (int i = 0; i < 5; i++) assert_tensor(ref, last, frozen[i], 1);
  size_t n;
  char *shape, *w = tensor_bytes(last, "conv1.weight", &n, &shape);
  cr_assert_str_eq(shape, "[8,1,3,3]", "gray input: the RGB filters summed");
  free(w), free(shape);
  w = tensor_bytes(last, "fc.weight", &n, &shape);
  cr_assert_str_eq(shape, "[8,144]", "an 8-way head for the 8 synth classes");
  free(w), free(shape);
  assert_tensor(ref, last, "fc.weight", 0);
  /* it trains: the loss falls over the three epochs */
  double loss[8];
  cr_assert_eq(read_metrics(run, loss, NULL, 8), 3);
  cr_assert(loss[2] < loss[0], "train loss %g -> %g did not fall", loss[0], loss[2]);
}

Test(train, later_stage_carries_the_previous_stage_weights, .timeout = 180) {
  clfer_runtime_destroy(test_runtime());
  ensure_synth();
  const char *dir = test_tmpdir("train_onnx_stages");
  char recipe[1200], one[1200], two[1200], a[1300], b[1300], ref[1200], cmd[4000], text[4096];
  snprintf(ref, sizeof ref, "%s/ref.safetensors", dir);
  snprintf(cmd, sizeof cmd, "'%s' import '%s' --gray --classes 8 --out '%s' >/dev/null", CLFER_CLI_PATH, TINY_ONNX, ref);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
  /* one stage training everything, and the same stage followed by one that trains the head only */
  snprintf(text, sizeof text, "%s[stage.all]\ntrain.epochs = 1\n", onnx_recipe);
  snprintf(recipe, sizeof recipe, "%s", test_write_in(dir, "one.ini", text));
  snprintf(one, sizeof one, "%s/one", dir);
  clfer_train_result_t res;
  cr_assert_eq(train(recipe, one, NULL, 0, 0, 0, &res), CLFER_OK, "%s", clfer_last_error());
  snprintf(text, sizeof text, "%s[stage.all]\ntrain.epochs = 1\n[stage.head]\ntrain.epochs = 1\noptim.freeze_until = conv2\n",
           onnx_recipe);
  snprintf(recipe, sizeof recipe, "%s", test_write_in(dir, "two.ini", text));
  snprintf(two, sizeof two, "%s/two", dir);
  cr_assert_eq(train(recipe, two, NULL, 0, 0, 0, &res), CLFER_OK, "%s", clfer_last_error());
  snprintf(a, sizeof a, "%s/last.safetensors", one);
  snprintf(b, sizeof b, "%s/last.safetensors", two);
  /* stage "all" moved the imported convolutions; stage "head" started from them, not from the file */
  assert_tensor(ref, a, "conv2.weight", 0);
  assert_tensor(a, b, "conv1.weight", 1);
  assert_tensor(a, b, "conv2.weight", 1);
  assert_tensor(a, b, "fc.weight", 0);
}

/* Bad transfer settings stop before training with a message naming the key and the fix. */
Test(train, transfer_settings_that_do_not_fit_name_the_key, .timeout = 120) {
  clfer_runtime_destroy(test_runtime());
  ensure_synth();
  const char *dir = test_tmpdir("train_onnx_errors");
  char recipe[1200], run[1200];
  snprintf(recipe, sizeof recipe, "%s", test_write_in(dir, "onnx.ini", onnx_recipe));
  snprintf(run, sizeof run, "%s/run", dir);
  struct {
    const char *set[3];
    const char *needle;
  } cases[] = {
      {{"model.input_adapt=none"}, "set model.input_adapt = sum_rgb"},
      {{"model.replace_head=false"}, "has 5 outputs but the recipe trains 8 classes"},
      {{"optim.freeze_until=conv9"}, "optim.freeze_until: no layer 'conv9'"},
      {{"optim.freeze_until=fc"}, "freezes the whole model"},
      {{"model.input=3x12x12", "model.input_adapt=none"}, "data.gray_to_rgb = true"},
      {{"stage.first.train.epochs=1", "stage.later.model.from=" TINY_ONNX}, "the model is built by the first stage"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *sets[4] = {"train.epochs=1"};
    int n = 1;
    for (int j = 0; j < 3 && cases[i].set[j]; j++) sets[n++] = cases[i].set[j];
    clfer_train_result_t res;
    clfer_status st = train(recipe, run, sets, n, 0, 0, &res);
    cr_expect_neq(st, CLFER_OK, "%s was accepted", cases[i].set[0]);
    cr_expect(strstr(clfer_last_error(), cases[i].needle) != NULL, "%s: '%s' lacks '%s'", cases[i].set[0],
              clfer_last_error(), cases[i].needle);
  }
}
