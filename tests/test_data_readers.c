/* test_data_readers.c — every dataset reader against fixture files with known content, including
 * the real quirks (empty FER+ names, a row whose votes sum to 9, RAF's misspelled list file, CK+
 * float labels, the quoted face box, CRLF, no final newline), and class mapping by name. */
#include "data_test_util.h"

static clfer_store_t *read_fer(const char *plus, const clfer_read_options_t *opt) {
  clfer_store_t *s = NULL;
  clfer_status st = clfer_read_fer2013(FIXTURE("fer2013.csv"), plus, opt, &s);
  cr_assert_eq(st, CLFER_OK, "read: %s", clfer_last_error());
  return s;
}

Test(data_readers, fer2013_alone) {
  clfer_store_t *s = read_fer(NULL, NULL);
  cr_assert_eq(s->n, 5);
  cr_assert_eq(s->height, 48);
  cr_assert_eq(s->width, 48);
  cr_assert_eq(s->channels, 1);
  cr_assert_eq(s->num_classes, 7);
  cr_assert_null(s->votes);
  cr_assert_str_eq(s->class_names[0], "angry");
  cr_assert_str_eq(s->class_names[6], "neutral");
  const int labels[5] = {0, 3, 6, 4, 5};
  const int splits[5] = {CLFER_SPLIT_TRAIN, CLFER_SPLIT_TRAIN, CLFER_SPLIT_VALID, CLFER_SPLIT_TEST, CLFER_SPLIT_TRAIN};
  for (int r = 0; r < 5; r++) {
    cr_assert_eq(s->labels[r], labels[r], "row %d", r);
    cr_assert_eq(s->split[r], splits[r], "row %d", r);
    cr_assert_eq(s->source[r], CLFER_DATASET_FER2013);
    const uint8_t *img = clfer_store_image(s, r);
    for (int i = 0; i < 2304; i++) cr_assert_eq(img[i], (r * 31 + i) % 256, "row %d pixel %d", r, i);
  }
  cr_assert_eq(clfer_store_count(s, CLFER_SPLIT_TRAIN), 3);
  clfer_store_destroy(s);
}

Test(data_readers, fer2013_with_ferplus_votes) {
  clfer_store_t *s = read_fer(FIXTURE("fer2013new.csv"), NULL);
  /* Row 1 has an empty image name: not a face, skipped; images stay aligned with their rows. */
  cr_assert_eq(s->n, 4);
  cr_assert_eq(s->num_classes, 8);
  cr_assert_eq(s->vote_width, 10);
  cr_assert_str_eq(s->class_names[8], "unknown");
  cr_assert_str_eq(s->class_names[9], "NF");
  const char *names[4] = {"fer0000000.png", "fer0000002.png", "fer0000003.png", "fer0000004.png"};
  const int rows[4] = {0, 2, 3, 4};
  const float votes[4][10] = {{4, 0, 0, 1, 3, 2, 0, 0, 0, 0},
                              {0, 9, 0, 0, 0, 0, 0, 0, 0, 0},
                              {2, 0, 0, 6, 0, 0, 0, 0, 2, 0},
                              {0, 0, 10, 0, 0, 0, 0, 0, 0, 0}};
  for (int i = 0; i < 4; i++) {
    cr_assert_str_eq(s->names[i], names[i]);
    cr_assert_eq(s->labels[i], -1);
    for (int k = 0; k < 10; k++) cr_assert_float_eq(s->votes[i * 10 + k], votes[i][k], 0, "sample %d vote %d", i, k);
    cr_assert_eq(clfer_store_image(s, i)[100], (rows[i] * 31 + 100) % 256, "sample %d", i);
  }
  float sum = 0;
  for (int k = 0; k < 10; k++) sum += s->votes[10 + k];
  cr_assert_float_eq(sum, 9, 0, "the row whose votes sum to 9");
  cr_assert_eq(s->split[1], CLFER_SPLIT_VALID);
  clfer_store_destroy(s);
}

Test(data_readers, fer2013_resize_and_channels) {
  clfer_read_options_t opt = {0};
  opt.width = 64;
  opt.height = 64;
  opt.channels = 3;
  opt.max_samples = 2;
  clfer_store_t *s = read_fer(NULL, &opt);
  cr_assert_eq(s->n, 2);
  cr_assert_eq(s->height, 64);
  cr_assert_eq(s->channels, 3);
  const uint8_t *img = clfer_store_image(s, 1);
  for (int i = 0; i < 64 * 64; i++) {
    cr_assert_eq(img[3 * i], img[3 * i + 1]);
    cr_assert_eq(img[3 * i], img[3 * i + 2]);
  }
  /* Corner pixel: 48→64 with aligned centres clamps to source pixel (0, 0) = 31. */
  cr_assert_eq(img[0], 31);
  clfer_store_destroy(s);
}

Test(data_readers, ferplus_votes_alone) {
  int skipped[CLFER_SPLIT_COUNT];
  clfer_store_t *s = NULL;
  cr_assert_eq(clfer_read_ferplus_votes(FIXTURE("fer2013new.csv"), skipped, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->n, 4);
  cr_assert_null(s->images);
  cr_assert_eq(skipped[CLFER_SPLIT_TRAIN], 1);
  cr_assert_eq(skipped[CLFER_SPLIT_VALID], 0);
  cr_assert_eq(s->split[2], CLFER_SPLIT_TEST);
  clfer_store_destroy(s);
}

Test(data_readers, map_fer2013_to_ferplus_by_name) {
  clfer_store_t *s = read_fer(NULL, NULL);
  /* angry→anger, happy→happiness, neutral, sad→sadness, surprise (FER+ order). */
  cr_assert_eq(clfer_store_map_classes(s, clfer_classes_ferplus, 8, 0), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->num_classes, 8);
  const int want[5] = {4, 1, 0, 3, 2};
  for (int i = 0; i < 5; i++) cr_assert_eq(s->labels[i], want[i], "sample %d: %d", i, s->labels[i]);
  cr_assert_str_eq(s->class_names[7], "contempt");
  /* And back to RAF's 7: contempt has no place, but no FER2013 sample is contempt. */
  cr_assert_eq(clfer_store_map_classes(s, clfer_classes_rafdb, 7, 0), CLFER_NOT_FOUND);
  cr_assert(strstr(clfer_last_error(), "contempt"));
  cr_assert_eq(clfer_store_map_classes(s, clfer_classes_rafdb, 7, 1), CLFER_OK, "%s", clfer_last_error());
  const int raf[5] = {5, 3, 6, 4, 0};
  for (int i = 0; i < 5; i++) cr_assert_eq(s->labels[i], raf[i], "sample %d", i);
  clfer_store_destroy(s);
}

Test(data_readers, map_votes_and_drop_unmapped) {
  clfer_store_t *s = read_fer(FIXTURE("fer2013new.csv"), NULL);
  s->labels[0] = 7; /* pretend sample 0 is contempt */
  cr_assert_eq(clfer_store_map_classes(s, clfer_classes_rafdb, 7, 1), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->n, 3, "the contempt sample is dropped");
  cr_assert_eq(s->vote_width, 9, "7 classes + unknown + NF");
  cr_assert_str_eq(s->class_names[7], "unknown");
  /* sample fer0000003: neutral 2, sadness 6, unknown 2 → RAF order sadness(4), neutral(6). */
  cr_assert_str_eq(s->names[1], "fer0000003.png");
  const float *v = s->votes + 9;
  cr_assert_float_eq(v[4], 6, 0);
  cr_assert_float_eq(v[6], 2, 0);
  cr_assert_float_eq(v[7], 2, 0);
  clfer_store_destroy(s);
}

/* ---- FER+ folders ---------------------------------------------------------------------------- */
Test(data_readers, ferplus_folders) {
  const char *root = test_tmpdir("ferplus_folders");
  char dir[1024], path[1200];
  snprintf(dir, sizeof dir, "%s/FER2013Train", root);
  dt_mkdirs(dir);
  snprintf(path, sizeof path, "%s/label.csv", dir);
  dt_copy(FIXTURE("ferplus_label.csv"), path);
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/fer000000%d.png", dir, i);
    dt_make_image(path, 48, 48, 1, i);
  }
  clfer_store_t *s = NULL;
  cr_assert_eq(clfer_read_ferplus_folders(root, NULL, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->n, 3);
  cr_assert_eq(s->height, 48);
  cr_assert_eq(s->channels, 1);
  cr_assert_str_eq(s->names[2], "fer0000002.png");
  cr_assert_float_eq(s->votes[0 * 10 + 4], 3, 0);
  cr_assert_float_eq(s->votes[2 * 10 + 9], 7, 0);
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(s->split[i], CLFER_SPLIT_TRAIN);
    cr_assert_eq(clfer_store_image(s, i)[5 * 48 + 7], dt_pixel(i, 7, 5, 0), "PNG pixels are exact");
  }
  clfer_store_destroy(s);
}

Test(data_readers, ferplus_folders_none) {
  const char *root = test_tmpdir("ferplus_none");
  clfer_store_t *s = NULL;
  DT_EXPECT_ERROR(clfer_read_ferplus_folders(root, NULL, &s), CLFER_NOT_FOUND, root, "FER2013Train/label.csv");
}

/* ---- RAF-DB ---------------------------------------------------------------------------------- */
Test(data_readers, rafdb_misspelled_list_and_distribution) {
  const char *root = dt_make_raf("rafdb", 100, 1);
  clfer_store_t *s = NULL;
  clfer_status st = clfer_read_rafdb(root, FIXTURE("rafdb_distribution.txt"), NULL, &s);
  cr_assert_eq(st, CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->n, 4);
  cr_assert_eq(s->height, 100);
  cr_assert_eq(s->channels, 3);
  cr_assert_eq(s->num_classes, 7);
  cr_assert_str_eq(s->class_names[0], "surprise");
  /* labels 5, 1, 7, 4 (1-based RAF) → sadness, surprise, neutral, happiness. */
  const int want[4] = {4, 0, 6, 3};
  const int split[4] = {CLFER_SPLIT_TRAIN, CLFER_SPLIT_TRAIN, CLFER_SPLIT_TEST, CLFER_SPLIT_TEST};
  for (int i = 0; i < 4; i++) {
    cr_assert_eq(s->labels[i], want[i], "sample %d", i);
    cr_assert_eq(s->split[i], split[i]);
  }
  cr_assert_str_eq(s->names[3], "test_0002.jpg");
  cr_assert_float_eq(s->votes[3 * 7 + 3], 0.8f, 1e-6);
  cr_assert_float_eq(s->votes[0 * 7 + 4], 0.9f, 1e-6);
  /* JPEG is lossy: pixels within a few levels of the pattern. */
  const uint8_t *img = clfer_store_image(s, 2);
  int px = img[(50 * 100 + 50) * 3 + 1], want_px = dt_pixel(2, 50, 50, 1);
  cr_assert(abs(px - want_px) <= 8, "pixel %d vs %d", px, want_px);
  clfer_store_destroy(s);

  clfer_read_options_t opt = {0};
  opt.channels = 1;
  opt.width = opt.height = 50;
  cr_assert_eq(clfer_read_rafdb(root, NULL, &opt, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->channels, 1);
  cr_assert_eq(s->width, 50);
  cr_assert_null(s->votes);
  clfer_store_destroy(s);
}

Test(data_readers, rafdb_missing_image) {
  const char *root = dt_make_raf("rafdb_missing", 100, 0);
  clfer_store_t *s = NULL;
  DT_EXPECT_ERROR(clfer_read_rafdb(root, NULL, NULL, &s), CLFER_NOT_FOUND, "list_patition_label.txt:1",
                  "train_00001_aligned.jpg");
}

Test(data_readers, rafdb_corrupt_jpeg) {
  const char *root = dt_make_raf("rafdb_corrupt", 100, 1);
  char p[1200];
  snprintf(p, sizeof p, "%s/Image/aligned/train_00002_aligned.jpg", root);
  size_t n;
  char *d = test_read_file(p, &n);
  dt_write_bytes(p, d, n / 2); /* truncated */
  free(d);
  clfer_store_t *s = NULL;
  DT_EXPECT_ERROR(clfer_read_rafdb(root, NULL, NULL, &s), CLFER_CORRUPT, "list_patition_label.txt:2",
                  "train_00002_aligned.jpg", "JPEG");
}

Test(data_readers, rafdb_bad_label_and_prefix) {
  const char *root = dt_make_raf("rafdb_bad", 100, 1);
  char p[1200];
  snprintf(p, sizeof p, "%s/EmoLabel/list_patition_label.txt", root);
  test_write_text(p, "train_00001.jpg 5\ntrain_00002.jpg 8\n");
  clfer_store_t *s = NULL;
  DT_EXPECT_ERROR(clfer_read_rafdb(root, NULL, NULL, &s), CLFER_PARSE_ERROR, "list_patition_label.txt:2", "'8'");
  test_write_text(p, "val_00001.jpg 5\n");
  DT_EXPECT_ERROR(clfer_read_rafdb(root, NULL, NULL, &s), CLFER_PARSE_ERROR, "list_patition_label.txt:1", "prefix");
}

/* ---- CK+ ------------------------------------------------------------------------------------- */
static const char *make_ck(const char *name, const char *label_fixture) {
  const char *root = test_tmpdir(name);
  char p[1200];
  const char *seqs[2][2] = {{"S005", "001"}, {"S010", "002"}};
  const char *fixtures[2] = {label_fixture, FIXTURE("ckplus_emotion_7.txt")};
  for (int q = 0; q < 2; q++) {
    snprintf(p, sizeof p, "%s/Emotion/%s/%s", root, seqs[q][0], seqs[q][1]);
    dt_mkdirs(p);
    snprintf(p, sizeof p, "%s/Emotion/%s/%s/%s_%s_00000011_emotion.txt", root, seqs[q][0], seqs[q][1], seqs[q][0],
             seqs[q][1]);
    dt_copy(fixtures[q], p);
    snprintf(p, sizeof p, "%s/cohn-kanade-images/%s/%s", root, seqs[q][0], seqs[q][1]);
    dt_mkdirs(p);
    const int frames[3] = {1, 2, 11};
    for (int f = 0; f < 3; f++) {
      snprintf(p, sizeof p, "%s/cohn-kanade-images/%s/%s/%s_%s_%08d.png", root, seqs[q][0], seqs[q][1], seqs[q][0],
               seqs[q][1], frames[f]);
      dt_make_image(p, 40, 30, 1, q * 10 + f);
    }
  }
  /* An unlabelled sequence is ignored. */
  snprintf(p, sizeof p, "%s/Emotion/S010/003", root);
  dt_mkdirs(p);
  return root;
}

Test(data_readers, ckplus_peak_and_neutral) {
  const char *root = make_ck("ckplus", FIXTURE("ckplus_emotion_3.txt"));
  clfer_store_t *s = NULL;
  cr_assert_eq(clfer_read_ckplus(root, NULL, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->n, 4);
  cr_assert_eq(s->num_classes, 8);
  cr_assert_eq(s->width, 40);
  cr_assert_eq(s->height, 30);
  /* S005: peak frame 11 labelled 3 (disgust), frame 1 neutral; S010: 7 (surprise). */
  cr_assert_str_eq(s->names[0], "S005/001/S005_001_00000011.png");
  cr_assert_eq(s->labels[0], 3);
  cr_assert_str_eq(s->names[1], "S005/001/S005_001_00000001.png");
  cr_assert_eq(s->labels[1], 0);
  cr_assert_eq(s->labels[2], 7);
  cr_assert_str_eq(s->class_names[7], "surprise");
  cr_assert_eq(s->group[0], 5);
  cr_assert_eq(s->group[3], 10);
  cr_assert_eq(clfer_store_image(s, 0)[3 * 40 + 4], dt_pixel(2, 4, 3, 0));
  cr_assert_eq(clfer_store_image(s, 1)[3 * 40 + 4], dt_pixel(0, 4, 3, 0));
  /* Subject-independent folds: the two subjects land in different folds. */
  cr_assert_eq(clfer_store_assign_folds(s, 2, 0), CLFER_OK);
  cr_assert_eq(s->split[0], CLFER_SPLIT_TEST);
  cr_assert_eq(s->split[1], CLFER_SPLIT_TEST);
  cr_assert_eq(s->split[2], CLFER_SPLIT_TRAIN);
  clfer_store_destroy(s);
}

Test(data_readers, ckplus_bad_label) {
  const char *root = make_ck("ckplus_bad", FIXTURE("ckplus_emotion_bad.txt"));
  clfer_store_t *s = NULL;
  DT_EXPECT_ERROR(clfer_read_ckplus(root, NULL, &s), CLFER_PARSE_ERROR, "S005_001_00000011_emotion.txt:1",
                  "2.5000000e+00");
}

/* ---- image folders --------------------------------------------------------------------------- */
static const char *make_folder(const char *name) {
  const char *root = test_tmpdir(name);
  char p[1200];
  snprintf(p, sizeof p, "%s/happy", root);
  dt_mkdirs(p);
  snprintf(p, sizeof p, "%s/sad", root);
  dt_mkdirs(p);
  snprintf(p, sizeof p, "%s/happy/a.png", root);
  dt_make_image(p, 16, 16, 3, 1);
  snprintf(p, sizeof p, "%s/sad/b.png", root);
  dt_make_image(p, 16, 16, 3, 2);
  snprintf(p, sizeof p, "%s/sad/c.jpg", root);
  dt_make_image(p, 16, 16, 3, 3);
  snprintf(p, sizeof p, "%s/sad/notes.txt", root);
  test_write_text(p, "not an image\n");
  return root;
}

Test(data_readers, image_folder_classes) {
  const char *root = make_folder("folder");
  clfer_store_t *s = NULL;
  cr_assert_eq(clfer_read_image_folder(root, NULL, NULL, 0, NULL, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->n, 3);
  cr_assert_eq(s->num_classes, 2);
  cr_assert_str_eq(s->class_names[0], "happy");
  cr_assert_eq(s->labels[0], 0);
  cr_assert_eq(s->labels[2], 1);
  cr_assert_eq(s->channels, 3);
  cr_assert_str_eq(s->names[1], "sad/b.png");
  clfer_store_destroy(s);
  /* With a class list: folders matched by synonym (happy → happiness). */
  const char *cls[3] = {"sadness", "happiness", "neutral"};
  clfer_read_options_t opt = {0};
  opt.channels = 1;
  opt.default_split = CLFER_SPLIT_VALID;
  cr_assert_eq(clfer_read_image_folder(root, NULL, cls, 3, &opt, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->labels[0], 1);
  cr_assert_eq(s->labels[1], 0);
  cr_assert_eq(s->channels, 1);
  cr_assert_eq(s->split[0], CLFER_SPLIT_VALID);
  clfer_store_destroy(s);
  /* A folder whose name is not in the list is an error. */
  const char *two[2] = {"sadness", "anger"};
  DT_EXPECT_ERROR(clfer_read_image_folder(root, NULL, two, 2, NULL, &s), CLFER_NOT_FOUND, "unknown class name",
                  "happy");
}

Test(data_readers, image_folder_csv_forms) {
  const char *root = make_folder("folder_csv");
  char csv[1200];
  snprintf(csv, sizeof csv, "%s/labels.csv", root);
  const char *cls[2] = {"happiness", "sadness"};
  test_write_text(csv, "happy/a.png,happy\r\nsad/b.png,1\r\n\"sad/c.jpg\",sadness");
  clfer_store_t *s = NULL;
  cr_assert_eq(clfer_read_image_folder(root, csv, cls, 2, NULL, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->n, 3);
  cr_assert_eq(s->labels[0], 0);
  cr_assert_eq(s->labels[1], 1);
  cr_assert_eq(s->labels[2], 1);
  clfer_store_destroy(s);
  test_write_text(csv, "file,happiness,sadness,neutral\nhappy/a.png,7,2,1\nsad/b.png,0,10,0\n");
  cr_assert_eq(clfer_read_image_folder(root, csv, NULL, 0, NULL, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->vote_width, 3);
  cr_assert_str_eq(s->class_names[2], "neutral");
  cr_assert_float_eq(s->votes[0], 7, 0);
  cr_assert_float_eq(s->votes[4], 10, 0);
  cr_assert_eq(s->labels[0], -1);
  clfer_store_destroy(s);
  test_write_text(csv, "happy/a.png,happy\nsad/b.png,joyful?\n");
  DT_EXPECT_ERROR(clfer_read_image_folder(root, csv, cls, 2, NULL, &s), CLFER_PARSE_ERROR, "labels.csv:2",
                  "unknown class name 'joyful?'");
}

Test(data_readers, image_folder_wrong_size_and_corrupt_png) {
  const char *root = make_folder("folder_bad");
  char p[1200];
  snprintf(p, sizeof p, "%s/sad/d.png", root);
  dt_make_image(p, 20, 16, 3, 4);
  clfer_store_t *s = NULL;
  DT_EXPECT_ERROR(clfer_read_image_folder(root, NULL, NULL, 0, NULL, &s), CLFER_SHAPE_MISMATCH, "sad/d.png",
                  "20x16", "16x16");
  /* With a size to resize to, it loads. */
  clfer_read_options_t opt = {0};
  opt.width = opt.height = 12;
  cr_assert_eq(clfer_read_image_folder(root, NULL, NULL, 0, &opt, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->n, 4);
  clfer_store_destroy(s);
  size_t n;
  char *d = test_read_file(p, &n);
  dt_write_bytes(p, d, n - 20); /* cut into the IDAT/IEND chunks */
  free(d);
  DT_EXPECT_ERROR(clfer_read_image_folder(root, NULL, NULL, 0, &opt, &s), CLFER_CORRUPT, "sad/d.png", "PNG");
}

Test(data_readers, store_concat_and_coders) {
  clfer_store_t *a = read_fer(NULL, NULL), *b = read_fer(NULL, NULL);
  cr_assert_eq(clfer_store_concat(a, b), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(a->n, 10);
  cr_assert_eq(clfer_store_image(a, 7)[9], (2 * 31 + 9) % 256);
  clfer_store_destroy(b);
  /* A store with per-coder labels: concat matches coders by name. */
  const char *coders[2] = {"rafnet", "fernet"};
  clfer_store_desc_t d = {0};
  d.height = d.width = 48;
  d.channels = 1;
  d.num_classes = 7;
  d.class_names = clfer_classes_fer2013;
  d.num_coders = 2;
  d.coder_names = coders;
  cr_assert_eq(clfer_store_create(&d, &b), CLFER_OK);
  const int cl[2] = {3, -1};
  cr_assert_eq(clfer_store_append(b, clfer_store_image(a, 0), NULL, 2, cl, 0, 0, -1, "x", NULL), CLFER_OK);
  cr_assert_eq(clfer_store_concat(a, b), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(a->num_coders, 2);
  cr_assert_eq(a->coder_labels[0], -1);
  cr_assert_eq(a->coder_labels[10 * 2 + 0], 3);
  cr_assert_eq(a->coder_labels[10 * 2 + 1], -1);
  clfer_store_destroy(a);
  clfer_store_destroy(b);
}
