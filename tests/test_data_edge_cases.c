/* test_data_edge_cases.c — the reader paths the main reader tests leave out: RAF-DB's
 * distribution file (bad value, missing image, duplicate, short line), FER+ folders with a
 * wrong-size or missing PNG, CK+ sequences without frames or with two emotion files, the
 * image-folder CSV form's header and file checks, and the fuzzing regressions (docs/robustness.md). */
#include <png.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "data_test_util.h"

Test(data_edge, rafdb_distribution_file_errors) {
  const char *root = dt_make_raf("raf_dist", 24, 1);
  char dist[1200];
  snprintf(dist, sizeof dist, "%s/dist.txt", root);
  clfer_store_t *s = NULL;
  test_write_text(dist, "train_00001.jpg 0 0 0 0.05 0.9 0.05 0\ntrain_00002.jpg 0.7 0.2 x 0 0 0 0.1\n");
  DT_EXPECT_ERROR(clfer_read_rafdb(root, dist, NULL, &s), CLFER_PARSE_ERROR, "dist.txt:2", "value 3 'x'");
  test_write_text(dist, "train_00001.jpg 0 0 0 0.05 0.9 -0.05 0\n");
  DT_EXPECT_ERROR(clfer_read_rafdb(root, dist, NULL, &s), CLFER_PARSE_ERROR, "dist.txt:1", "value 6");
  test_write_text(dist, "train_00001.jpg 0 0 0 0.05 0.9 0.05\n");
  DT_EXPECT_ERROR(clfer_read_rafdb(root, dist, NULL, &s), CLFER_PARSE_ERROR, "dist.txt:1", "got 7 fields");
  test_write_text(dist, "train_00001.jpg 0 0 0 0 1 0 0\ntrain_00001.jpg 0 0 0 0 1 0 0\n");
  DT_EXPECT_ERROR(clfer_read_rafdb(root, dist, NULL, &s), CLFER_PARSE_ERROR, "dist.txt:2", "listed twice");
  /* An image of the list without a distribution line. */
  test_write_text(dist, "train_00001.jpg 0 0 0 0 1 0 0\n");
  DT_EXPECT_ERROR(clfer_read_rafdb(root, dist, NULL, &s), CLFER_NOT_FOUND, "list_patition_label.txt:2",
                  "'train_00002.jpg'", "dist.txt");
  DT_EXPECT_ERROR(clfer_read_rafdb(root, "/nonexistent/dist.txt", NULL, &s), CLFER_IO_ERROR, "/nonexistent/dist.txt");
  cr_assert_null(s);
}

Test(data_edge, rafdb_correct_spelling_and_slash_in_name) {
  const char *root = dt_make_raf("raf_spelling", 24, 1);
  char a[1200], b[1200];
  snprintf(a, sizeof a, "%s/EmoLabel/list_patition_label.txt", root);
  snprintf(b, sizeof b, "%s/EmoLabel/list_partition_label.txt", root);
  cr_assert_eq(rename(a, b), 0);
  clfer_store_t *s = NULL;
  cr_assert_eq(clfer_read_rafdb(root, NULL, NULL, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->n, 4);
  clfer_store_destroy(s);
  test_write_text(b, "train_/../../x.jpg 1\n");
  DT_EXPECT_ERROR(clfer_read_rafdb(root, NULL, NULL, &s), CLFER_PARSE_ERROR, "list_partition_label.txt:1",
                  "bad image name");
}

Test(data_edge, ferplus_folder_wrong_size_and_missing_png) {
  const char *root = test_tmpdir("plus_size");
  char dir[1200], p[1300];
  snprintf(dir, sizeof dir, "%s/FER2013Train", root);
  dt_mkdirs(dir);
  snprintf(p, sizeof p, "%s/label.csv", dir);
  test_write_text(p, "fer0000000.png,\"(0, 0, 48, 48)\",4,0,0,1,3,2,0,0,0,0\n"
              "fer0000001.png,\"(0, 0, 48, 48)\",0,10,0,0,0,0,0,0,0,0\n");
  snprintf(p, sizeof p, "%s/fer0000000.png", dir);
  dt_make_image(p, 48, 48, 1, 1);
  snprintf(p, sizeof p, "%s/fer0000001.png", dir);
  dt_make_image(p, 50, 48, 1, 2);
  clfer_store_t *s = NULL;
  DT_EXPECT_ERROR(clfer_read_ferplus_folders(root, NULL, &s), CLFER_SHAPE_MISMATCH, "label.csv:2:",
                  "fer0000001.png", "50x48", "48x48");
  clfer_read_options_t opt = {0};
  opt.width = opt.height = 64;
  cr_assert_eq(clfer_read_ferplus_folders(root, &opt, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->n, 2);
  cr_assert_eq(s->width, 64);
  cr_assert_float_eq(s->votes[10 + 1], 10, 0);
  clfer_store_destroy(s);
  cr_assert_eq(unlink(p), 0);
  DT_EXPECT_ERROR(clfer_read_ferplus_folders(root, NULL, &s), CLFER_NOT_FOUND, "label.csv:2:", "fer0000001.png");
  /* A path in the file column is refused before anything is opened. */
  snprintf(p, sizeof p, "%s/label.csv", dir);
  test_write_text(p, "../fer0000000.png,\"(0, 0, 48, 48)\",4,0,0,1,3,2,0,0,0,0\n");
  DT_EXPECT_ERROR(clfer_read_ferplus_folders(root, NULL, &s), CLFER_PARSE_ERROR, "label.csv:1:", "bad image file name");
  test_write_text(p, "fer0000000.png,4,0,0,1,3,2,0,0,0\n");
  DT_EXPECT_ERROR(clfer_read_ferplus_folders(root, NULL, &s), CLFER_PARSE_ERROR, "label.csv:1:", "got 10");
}

Test(data_edge, ckplus_sequence_without_frames_or_two_labels) {
  const char *root = test_tmpdir("ck_edge");
  char p[1200];
  snprintf(p, sizeof p, "%s/Emotion/S011/004", root);
  dt_mkdirs(p);
  snprintf(p, sizeof p, "%s/Emotion/S011/004/S011_004_00000009_emotion.txt", root);
  dt_copy(FIXTURE("ckplus_emotion_7.txt"), p);
  snprintf(p, sizeof p, "%s/cohn-kanade-images/S011/004", root);
  dt_mkdirs(p);
  clfer_store_t *s = NULL;
  DT_EXPECT_ERROR(clfer_read_ckplus(root, NULL, &s), CLFER_NOT_FOUND, "no image frames", "S011_004_00000009_emotion.txt");
  /* The peak frame named by the emotion file is missing (only the first frame exists). */
  snprintf(p, sizeof p, "%s/cohn-kanade-images/S011/004/S011_004_00000001.png", root);
  dt_make_image(p, 20, 10, 1, 1);
  DT_EXPECT_ERROR(clfer_read_ckplus(root, NULL, &s), CLFER_NOT_FOUND, "S011_004_00000009.png");
  snprintf(p, sizeof p, "%s/cohn-kanade-images/S011/004/S011_004_00000009.png", root);
  dt_make_image(p, 20, 10, 1, 2);
  cr_assert_eq(clfer_read_ckplus(root, NULL, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->n, 2);
  cr_assert_eq(s->labels[0], 7);
  cr_assert_eq(s->labels[1], 0);
  cr_assert_eq(s->group[0], 11);
  clfer_store_destroy(s);
  snprintf(p, sizeof p, "%s/Emotion/S011/004/S011_004_00000008_emotion.txt", root);
  dt_copy(FIXTURE("ckplus_emotion_3.txt"), p);
  DT_EXPECT_ERROR(clfer_read_ckplus(root, NULL, &s), CLFER_PARSE_ERROR, "two emotion files");
  /* An empty Emotion tree. */
  const char *empty = test_tmpdir("ck_empty");
  snprintf(p, sizeof p, "%s/Emotion", empty);
  dt_mkdirs(p);
  DT_EXPECT_ERROR(clfer_read_ckplus(empty, NULL, &s), CLFER_NOT_FOUND, "no labelled CK+ sequences");
}

Test(data_edge, image_folder_csv_header_and_file_checks) {
  const char *root = test_tmpdir("folder_csv_edge");
  char p[1200], csv[1200];
  snprintf(p, sizeof p, "%s/a.png", root);
  dt_make_image(p, 8, 8, 1, 1);
  snprintf(p, sizeof p, "%s/b.jpg", root);
  dt_make_image(p, 8, 8, 1, 2);
  snprintf(csv, sizeof csv, "%s/votes.csv", root);
  clfer_store_t *s = NULL;
  /* A header that disagrees with the given class list (synonyms are accepted). */
  const char *cls[3] = {"happiness", "sadness", "neutral"};
  test_write_text(csv, "file,happy,sad,neutral\na.png,7,2,1\n");
  cr_assert_eq(clfer_read_image_folder(root, csv, cls, 3, NULL, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_str_eq(s->class_names[0], "happiness");
  clfer_store_destroy(s);
  test_write_text(csv, "file,happy,anger,neutral\na.png,7,2,1\n");
  DT_EXPECT_ERROR(clfer_read_image_folder(root, csv, cls, 3, NULL, &s), CLFER_PARSE_ERROR, "votes.csv:1",
                  "column 3 is 'anger', expected 'sadness'");
  test_write_text(csv, "file,happy,sad\na.png,7,2\n");
  DT_EXPECT_ERROR(clfer_read_image_folder(root, csv, cls, 3, NULL, &s), CLFER_PARSE_ERROR, "votes.csv:1",
                  "header has 2 classes, expected 3");
  /* Vote rows: negative, absurd, short. */
  test_write_text(csv, "a.png,7,-2,1\n");
  DT_EXPECT_ERROR(clfer_read_image_folder(root, csv, cls, 3, NULL, &s), CLFER_PARSE_ERROR, "votes.csv:1",
                  "vote 2 '-2'");
  test_write_text(csv, "a.png,7,2,1\nb.jpg,1e9,0,0\n");
  DT_EXPECT_ERROR(clfer_read_image_folder(root, csv, cls, 3, NULL, &s), CLFER_PARSE_ERROR, "votes.csv:2",
                  "vote 1 '1e9'");
  test_write_text(csv, "a.png,7,2,1\nb.jpg,1,0\n");
  DT_EXPECT_ERROR(clfer_read_image_folder(root, csv, cls, 3, NULL, &s), CLFER_PARSE_ERROR, "votes.csv:2",
                  "expected 4 fields, got 3");
  /* Label form: an index out of range is not a class name either; paths leaving ROOT are refused. */
  test_write_text(csv, "a.png,3\n");
  DT_EXPECT_ERROR(clfer_read_image_folder(root, csv, cls, 3, NULL, &s), CLFER_PARSE_ERROR, "votes.csv:1",
                  "unknown class name '3'");
  test_write_text(csv, "../a.png,happy\n");
  DT_EXPECT_ERROR(clfer_read_image_folder(root, csv, cls, 3, NULL, &s), CLFER_PARSE_ERROR, "votes.csv:1",
                  "bad file name '../a.png'");
  test_write_text(csv, "missing.png,happy\n");
  DT_EXPECT_ERROR(clfer_read_image_folder(root, csv, cls, 3, NULL, &s), CLFER_NOT_FOUND, "votes.csv:1",
                  "missing.png");
  test_write_text(csv, "a.png,happy\n");
  DT_EXPECT_ERROR(clfer_read_image_folder(root, csv, NULL, 0, NULL, &s), CLFER_INVALID_ARGUMENT,
                  "class names are needed");
  test_write_text(csv, "");
  DT_EXPECT_ERROR(clfer_read_image_folder(root, csv, cls, 3, NULL, &s), CLFER_PARSE_ERROR, "votes.csv:1", "empty");
  cr_assert_null(s);
}

Test(data_edge, ferplus_votes_quirks) {
  /* The real quirks: an empty image name (skipped and counted), a 9-vote row, a BOM, CRLF, a
   * quoted name, fractional vote counts (accepted: a distribution file is a valid input). */
  const char *dir = test_tmpdir("plus_quirks");
  char p[1200];
  snprintf(p, sizeof p, "%s/fer2013new.csv", dir);
  test_write_text(p, "\xEF\xBB\xBFUsage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\r\n"
              "Training,,0,0,0,0,0,0,0,0,0,10\r\n"
              "PublicTest,\"fer0000001.png\",0,9,0,0,0,0,0,0,0,0\r\n"
              "PrivateTest, fer0000002.png,0.5,0.5,0,0,0,0,0,0,0,0");
  clfer_store_t *s = NULL;
  int skipped[CLFER_SPLIT_COUNT];
  cr_assert_eq(clfer_read_ferplus_votes(p, skipped, &s), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(s->n, 2);
  cr_assert_eq(skipped[CLFER_SPLIT_TRAIN], 1);
  cr_assert_eq(skipped[CLFER_SPLIT_VALID], 0);
  cr_assert_str_eq(s->names[0], "fer0000001.png");
  cr_assert_str_eq(s->names[1], "fer0000002.png");
  cr_assert_eq(s->split[1], CLFER_SPLIT_TEST);
  cr_assert_float_eq(s->votes[1], 9, 0);
  cr_assert_float_eq(s->votes[10], 0.5f, 0);
  clfer_store_destroy(s);
}

/* ---- fuzzing regressions (docs/robustness.md) ------------------------------------------------ */
static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static long peak_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

Test(data_edge, fuzz_png_huge_ancillary_chunk) {
  /* 105 bytes: a valid 7×4 palette PNG, then an sCAL chunk claiming 0x69000004 bytes. libpng
   * buffered (and zeroed) 1.7 GB for it before hitting the end of the data. */
  size_t n;
  char *d = test_read_file(FIXTURE("fuzz_png_huge_scal.png"), &n);
  cr_assert_eq(n, 105);
  clfer_image_t img;
  long rss0 = peak_rss_kb();
  double t0 = now_s();
  DT_EXPECT_ERROR(clfer_image_decode((const uint8_t *)d, n, "fuzz_png_huge_scal.png", &img), CLFER_CORRUPT,
                  "fuzz_png_huge_scal.png", "corrupt PNG");
  double t = now_s() - t0;
  long grew = peak_rss_kb() - rss0;
  cr_assert_lt(t, 0.5, "decode took %g s", t);
  cr_assert_lt(grew, 64 * 1024, "peak RSS grew by %ld KB", grew);
  free(d);
}

Test(data_edge, png_with_ancillary_chunks_still_decodes) {
  /* Skipping the ancillary chunks must not change the pixels: text, pHYs, gAMA, sCAL, tRNS. */
  const char *dir = test_tmpdir("png_anc");
  char path[1200];
  snprintf(path, sizeof path, "%s/anc.png", dir);
  FILE *f = fopen(path, "wb");
  cr_assert(f);
  png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(p);
  cr_assert(p && info && !setjmp(png_jmpbuf(p)));
  png_init_io(p, f);
  enum { W = 6, H = 5 };
  png_set_IHDR(p, info, W, H, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_text text = {0};
  text.compression = PNG_TEXT_COMPRESSION_zTXt;
  text.key = "Comment";
  text.text = "a compressed comment that clfer skips";
  png_set_text(p, info, &text, 1);
  png_set_pHYs(p, info, 2835, 2835, PNG_RESOLUTION_METER);
  png_set_gAMA(p, info, 0.45455);
  png_set_sCAL(p, info, PNG_SCALE_METER, 0.001, 0.001);
  png_color_16 trans = {0, 0, 0, 0, 7};
  png_set_tRNS(p, info, NULL, 0, &trans);
  png_write_info(p, info);
  uint8_t px[H][W];
  for (int y = 0; y < H; y++) {
    for (int x = 0; x < W; x++) px[y][x] = (uint8_t)(x * 40 + y * 7);
    png_write_row(p, px[y]);
  }
  png_write_end(p, info);
  png_destroy_write_struct(&p, &info);
  fclose(f);
  clfer_image_t img;
  cr_assert_eq(clfer_image_load(path, &img), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(img.width, W);
  cr_assert_eq(img.height, H);
  cr_assert_eq(img.channels, 1);
  cr_assert_eq(memcmp(img.pixels, px, sizeof px), 0, "pixels differ");
  clfer_image_free(&img);
}
