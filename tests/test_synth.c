/* test_synth.c — the synthetic dataset: same seed → same bytes, another seed → other bytes; the
 * files parse in the real formats (headers, 2304 pixels per row, Usage order, aligned rows, votes
 * summing to 10, empty names for non-faces); class balance as designed (FER+-like, hard classes
 * rare); the FER+ folders, annotator votes and IPA2LT outputs; the CLI; bad input. */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "clfer/synth.h"
#include "test_util.h"

static int same_file(const char *a, const char *b) {
  size_t na, nb;
  char *x = test_read_file(a, &na), *y = test_read_file(b, &nb);
  int same = na == nb && memcmp(x, y, na) == 0;
  free(x), free(y);
  return same;
}

static clfer_synth_options_t small(uint64_t seed) {
  clfer_synth_options_t o = clfer_synth_options_default();
  o.seed = seed;
  o.n_train = 300, o.n_valid = 60, o.n_test = 60;
  o.not_face_rate = 0.02;
  return o;
}

/* Splits s at `sep` in place; returns the number of fields. */
static int split(char *s, char sep, char **fields, int max) {
  int n = 0;
  fields[n++] = s;
  for (char *p = s; *p && n < max; p++)
    if (*p == sep) *p = '\0', fields[n++] = p + 1;
  return n;
}

Test(synth, deterministic_for_a_seed) {
  char a[1024], b[1024], c[1024], pa[1100], pb[1100], pc[1100];
  snprintf(a, sizeof a, "%s/a", test_tmpdir("synth_det"));
  snprintf(b, sizeof b, "%s/b", test_tmpdir("synth_det"));
  snprintf(c, sizeof c, "%s/c", test_tmpdir("synth_det"));
  clfer_synth_options_t o = small(7);
  cr_assert_eq(clfer_synth_run(&o, a), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_synth_run(&o, b), CLFER_OK);
  o.seed = 8;
  cr_assert_eq(clfer_synth_run(&o, c), CLFER_OK);
  const char *files[2] = {"fer2013.csv", "fer2013new.csv"};
  for (int i = 0; i < 2; i++) {
    snprintf(pa, sizeof pa, "%s/%s", a, files[i]);
    snprintf(pb, sizeof pb, "%s/%s", b, files[i]);
    snprintf(pc, sizeof pc, "%s/%s", c, files[i]);
    cr_assert(same_file(pa, pb), "%s differs between two runs with one seed", files[i]);
    cr_assert(!same_file(pa, pc), "%s is the same for seeds 7 and 8", files[i]);
  }
}

Test(synth, files_parse_in_the_real_formats) {
  const char *dir = test_tmpdir("synth_parse");
  clfer_synth_options_t o = small(3);
  cr_assert_eq(clfer_synth_run(&o, dir), CLFER_OK, "%s", clfer_last_error());
  char path[1200];
  snprintf(path, sizeof path, "%s/fer2013.csv", dir);
  char *fer = test_read_file(path, NULL);
  snprintf(path, sizeof path, "%s/fer2013new.csv", dir);
  char *plus = test_read_file(path, NULL);
  char *save1 = NULL, *save2 = NULL;
  char *l1 = strtok_r(fer, "\n", &save1), *l2 = strtok_r(plus, "\n", &save2);
  cr_assert_str_eq(l1, "emotion,pixels,Usage");
  cr_assert_str_eq(l2, "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF");
  static const char *const usage[3] = {"Training", "PublicTest", "PrivateTest"};
  int rows = 0, non_faces = 0, per_usage[3] = {0};
  while ((l1 = strtok_r(NULL, "\n", &save1)) != NULL) {
    l2 = strtok_r(NULL, "\n", &save2);
    cr_assert_not_null(l2, "fer2013new.csv has fewer rows");
    char *f1[4], *f2[14];
    cr_assert_eq(split(l1, ',', f1, 4), 3, "row %d of fer2013.csv: not 3 fields", rows);
    cr_assert_eq(split(l2, ',', f2, 14), 12, "row %d of fer2013new.csv: not 12 fields", rows);
    int emotion = atoi(f1[0]);
    cr_assert(emotion >= 0 && emotion <= 6 && strlen(f1[0]) == 1, "emotion '%s'", f1[0]);
    char *px[2400];
    cr_assert_eq(split(f1[1], ' ', px, 2400), 48 * 48, "row %d: pixel count", rows);
    for (int i = 0; i < 48 * 48; i++) {
      char *end;
      long v = strtol(px[i], &end, 10);
      cr_assert(*px[i] && !*end && v >= 0 && v <= 255, "row %d pixel %d '%s'", rows, i, px[i]);
    }
    int u = rows < 300 ? 0 : rows < 360 ? 1 : 2;
    cr_assert_str_eq(f1[2], usage[u]);
    cr_assert_str_eq(f2[0], usage[u], "Usage must agree row by row");
    per_usage[u]++;
    char name[32];
    snprintf(name, sizeof name, "fer%07d.png", rows);
    int votes[10], sum = 0;
    for (int k = 0; k < 10; k++) sum += (votes[k] = atoi(f2[2 + k]));
    cr_assert_eq(sum, 10, "row %d: votes sum to %d", rows, sum);
    if (f2[1][0] == '\0') {
      non_faces++;
      cr_assert(votes[9] >= 3, "a non-face row gets NF votes (row %d has %d)", rows, votes[9]);
    } else {
      cr_assert_str_eq(f2[1], name);
    }
    rows++;
  }
  cr_assert_null(strtok_r(NULL, "\n", &save2), "fer2013new.csv has more rows");
  cr_assert_eq(rows, 420);
  cr_assert(per_usage[0] == 300 && per_usage[1] == 60 && per_usage[2] == 60);
  cr_assert(non_faces >= 1 && non_faces <= 25, "%d non-face rows at a 2%% rate", non_faces);
  free(fer), free(plus);
}

Test(synth, class_balance_votes_and_labels) {
  clfer_synth_options_t o = clfer_synth_options_default();
  o.n_train = 3000, o.n_valid = 0, o.n_test = 0;
  clfer_synth_data_t d;
  cr_assert_eq(clfer_synth_generate(&o, &d), CLFER_OK, "%s", clfer_last_error());
  int primary[8] = {0}, majority[8] = {0}, faces = 0, fer_contempt_ok = 0;
  for (int i = 0; i < d.n; i++) {
    const uint8_t *v = d.votes + i * 10;
    int sum = 0;
    for (int k = 0; k < 10; k++) sum += v[k];
    cr_assert_eq(sum, 10);
    /* the 10 votes come from 10 different taggers and add up to the counts */
    int counts[10] = {0};
    for (int j = 0; j < 10; j++) {
      counts[d.vote_label[i * 10 + j]]++;
      for (int l = 0; l < j; l++) cr_assert_neq(d.annotator[i * 10 + j], d.annotator[i * 10 + l]);
    }
    for (int k = 0; k < 10; k++) cr_assert_eq(counts[k], v[k]);
    cr_assert(d.fer2013[i] <= 6);
    if (!d.is_face[i]) continue;
    faces++;
    primary[d.primary[i]]++;
    float tsum = 0;
    for (int k = 0; k < 8; k++) tsum += d.truth[i * 8 + k];
    cr_assert_float_eq(tsum, 1.0f, 1e-4);
    /* FER+ majority label (outlier removal, > half of the rest) */
    int kept[10], S = 0, best = 0;
    for (int k = 0; k < 10; k++) S += (kept[k] = v[k] > 1 ? v[k] : 0);
    for (int k = 1; k < 10; k++)
      if (kept[k] > kept[best]) best = k;
    if (kept[best] > 0.5 * S && best < 8) majority[best]++;
    if (d.primary[i] == 7) fer_contempt_ok += d.fer2013[i] <= 6;
  }
  for (int k = 0; k < 8; k++) {
    double p = clfer_synth_class_frequency[k], f = (double)primary[k] / faces;
    double sd = sqrt(p * (1 - p) / faces);
    cr_assert(fabs(f - p) < 4 * sd + 1e-3, "class %s: %.4f drawn, %.4f designed", clfer_synth_ferplus_names[k], f, p);
  }
  /* FER+-like majority labels: neutral and happiness most common, the hard classes rarest */
  for (int k = 2; k < 8; k++) cr_assert(majority[0] > majority[k] && majority[1] > majority[k]);
  for (int hard = 5; hard < 8; hard++)
    for (int easy = 0; easy < 5; easy++)
      cr_assert(majority[hard] < majority[easy], "%s (%d) should be rarer than %s (%d)",
                clfer_synth_ferplus_names[hard], majority[hard], clfer_synth_ferplus_names[easy], majority[easy]);
  /* the crowd agrees with the drawn emotion most of the time, but not always (label noise) */
  int agree = 0, total = 0;
  for (int i = 0; i < d.n; i++)
    if (d.is_face[i]) {
      const uint8_t *v = d.votes + i * 10;
      int best = 0;
      for (int k = 1; k < 8; k++)
        if (v[k] > v[best]) best = k;
      agree += best == d.primary[i], total++;
    }
  double rate = (double)agree / total;
  cr_assert(rate > 0.7 && rate < 0.97, "plurality vote matches the drawn emotion %.3f of the time", rate);
  clfer_synth_data_free(&d);
}

Test(synth, render_is_seeded_and_expressions_differ) {
  float neutral[8] = {1, 0, 0, 0, 0, 0, 0, 0}, happy[8] = {0, 1, 0, 0, 0, 0, 0, 0};
  uint8_t a[48 * 48], b[48 * 48], c[48 * 48];
  cr_assert_eq(clfer_synth_render(5, 17, happy, 1.0f, a), CLFER_OK);
  cr_assert_eq(clfer_synth_render(5, 17, happy, 1.0f, b), CLFER_OK);
  cr_assert_arr_eq(a, b, sizeof a);
  cr_assert_eq(clfer_synth_render(5, 17, neutral, 1.0f, c), CLFER_OK);
  /* same person, pose and light; only the expression differs, mostly around the mouth */
  int diff_mouth = 0, diff_top = 0;
  for (int y = 0; y < 48; y++)
    for (int x = 0; x < 48; x++) {
      int dd = abs(a[y * 48 + x] - c[y * 48 + x]);
      if (y >= 30) diff_mouth += dd;
      if (y < 8) diff_top += dd;
    }
  cr_assert(diff_mouth > 5 * diff_top + 200, "mouth region changed by %d, top by %d", diff_mouth, diff_top);
  float bad[8] = {0, -1, 0, 0, 0, 0, 0, 0};
  cr_assert_eq(clfer_synth_render(5, 17, bad, 1.0f, a), CLFER_INVALID_ARGUMENT);
  cr_assert_eq(clfer_synth_render(5, 17, happy, NAN, a), CLFER_INVALID_ARGUMENT);
}

static void check_png(const char *path) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "missing %s", path);
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  cr_assert(!setjmp(png_jmpbuf(png)), "libpng cannot read %s", path);
  png_init_io(png, f);
  png_read_info(png, info);
  cr_assert_eq(png_get_image_width(png, info), 48);
  cr_assert_eq(png_get_image_height(png, info), 48);
  cr_assert_eq(png_get_color_type(png, info), PNG_COLOR_TYPE_GRAY);
  cr_assert_eq(png_get_bit_depth(png, info), 8);
  png_destroy_read_struct(&png, &info, NULL);
  fclose(f);
}

static int count_lines(const char *path) {
  char *s = test_read_file(path, NULL);
  int n = 0;
  for (char *p = s; *p; p++) n += *p == '\n';
  free(s);
  return n;
}

Test(synth, optional_outputs) {
  const char *dir = test_tmpdir("synth_optional");
  clfer_synth_options_t o = small(11);
  o.n_train = 120, o.n_valid = 20, o.n_test = 20;
  o.ferplus_folders = o.ipa2lt = o.annotator_votes = 1;
  cr_assert_eq(clfer_synth_run(&o, dir), CLFER_OK, "%s", clfer_last_error());
  clfer_synth_data_t d;
  cr_assert_eq(clfer_synth_generate(&o, &d), CLFER_OK);
  int faces[3] = {0}, all_faces = 0;
  for (int i = 0; i < d.n; i++) faces[d.usage[i]] += d.is_face[i], all_faces += d.is_face[i];
  char path[1200];
  static const char *const folders[3] = {"FER2013Train", "FER2013Valid", "FER2013Test"};
  for (int u = 0; u < 3; u++) {
    snprintf(path, sizeof path, "%s/%s/label.csv", dir, folders[u]);
    cr_assert_eq(count_lines(path), faces[u], "%s: one line per face", folders[u]);
  }
  snprintf(path, sizeof path, "%s/FER2013Train/label.csv", dir);
  char *lab = test_read_file(path, NULL);
  int first = 0;
  while (!d.is_face[first]) first++;
  char want[128];
  const uint8_t *v = d.votes + first * 10;
  snprintf(want, sizeof want, "fer%07d.png,\"(0, 0, 48, 48)\",%d,%d,%d,%d,%d,%d,%d,%d,%d,%d\n", first, v[0], v[1], v[2],
           v[3], v[4], v[5], v[6], v[7], v[8], v[9]);
  cr_assert(strncmp(lab, want, strlen(want)) == 0, "first label line '%.60s', expected '%s'", lab, want);
  free(lab);
  snprintf(path, sizeof path, "%s/FER2013Train/fer%07d.png", dir, first);
  check_png(path);
  snprintf(path, sizeof path, "%s/annotator_votes.csv", dir);
  cr_assert_eq(count_lines(path), 1 + 10 * all_faces);
  /* IPA2LT: sizes and the coders' accuracy against the hidden truth */
  snprintf(path, sizeof path, "%s/ipa2lt/truth.csv", dir);
  cr_assert_eq(count_lines(path), 60 + 60 + 60 + 20);
  char *truth = test_read_file(path, NULL);
  for (int s = 0; s < 2; s++) {
    snprintf(path, sizeof path, "%s/ipa2lt/set_%c.csv", dir, 'a' + s);
    char *set = test_read_file(path, NULL), *save = NULL, *save_t = NULL;
    char *tcopy = strdup(truth);
    char *tl = strtok_r(tcopy, "\n", &save_t);
    for (int skip = 0; skip < 60 * s; skip++) tl = strtok_r(NULL, "\n", &save_t);
    int same = 0, n = 0;
    for (char *l = strtok_r(set, "\n", &save); l; l = strtok_r(NULL, "\n", &save), n++) {
      same += strcmp(l, tl) == 0;
      tl = strtok_r(NULL, "\n", &save_t);
    }
    cr_assert_eq(n, 60);
    cr_assert(same >= 30 && same < 60, "coder %c agrees with the truth on %d of 60", 'a' + s, same);
    free(set), free(tcopy);
  }
  free(truth);
  snprintf(path, sizeof path, "%s/ipa2lt/images/ipa0000000.png", dir);
  check_png(path);
  snprintf(path, sizeof path, "%s/ipa2lt/unlabelled.csv", dir);
  cr_assert_eq(count_lines(path), 60);
  clfer_synth_data_free(&d);
}

Test(synth, contact_sheet) {
  char path[1200];
  snprintf(path, sizeof path, "%s/sheet.png", test_tmpdir("synth_sheet"));
  cr_assert_eq(clfer_synth_write_contact_sheet(1, path), CLFER_OK, "%s", clfer_last_error());
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f);
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  cr_assert(!setjmp(png_jmpbuf(png)));
  png_init_io(png, f);
  png_read_info(png, info);
  cr_assert_eq(png_get_image_width(png, info), 384);
  cr_assert_eq(png_get_image_height(png, info), 384);
  png_destroy_read_struct(&png, &info, NULL);
  fclose(f);
}

Test(synth, bad_options) {
  clfer_synth_options_t o = clfer_synth_options_default();
  clfer_synth_data_t d;
  o.n_train = -1;
  cr_assert_eq(clfer_synth_generate(&o, &d), CLFER_INVALID_ARGUMENT);
  o = clfer_synth_options_default();
  o.tagger_pool = 5;
  cr_assert_eq(clfer_synth_generate(&o, &d), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "tagger_pool") != NULL, "%s", clfer_last_error());
  o = small(1);
  cr_assert_eq(clfer_synth_run(&o, "/proc/clfer-cannot-be-here"), CLFER_IO_ERROR);
}

Test(synth, cli) {
  const char *dir = test_tmpdir("synth_cli");
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "'%s' synth --out '%s/data' --seed 5 --train 40 --valid 5 --test 5 > /dev/null", CLFER_CLI_PATH,
           dir);
  cr_assert_eq(system(cmd), 0, "%s", cmd);
  char path[1200];
  snprintf(path, sizeof path, "%s/data/fer2013new.csv", dir);
  cr_assert_eq(count_lines(path), 51);
  snprintf(cmd, sizeof cmd, "'%s' synth --out '%s/x' --bogus 2> /dev/null", CLFER_CLI_PATH, dir);
  cr_assert_eq(WEXITSTATUS(system(cmd)), 2, "unknown option");
  snprintf(cmd, sizeof cmd, "'%s' synth --train 5 2> /dev/null", CLFER_CLI_PATH);
  cr_assert_eq(WEXITSTATUS(system(cmd)), 2, "missing --out");
  snprintf(cmd, sizeof cmd, "'%s' synth --out '%s/y' --train -5 2> /dev/null", CLFER_CLI_PATH, dir);
  cr_assert_eq(WEXITSTATUS(system(cmd)), 2, "negative count");
}
