/* test_data_bad_input.c — every class of bad input to the CSV readers is an error whose message
 * names the file and the line: wrong pixel count, non-numeric fields, missing columns, negative
 * or absurd votes, misaligned FER2013/FER+ rows, unterminated quotes, missing files. */
#include "data_test_util.h"

#define FER_HEADER "emotion,pixels,Usage\n"

/* A FER2013 row whose pixel field has `n` values, with `tweak` replacing the first value. */
static char *fer_row(const char *emotion, int n, const char *tweak, const char *usage) {
  char *s = malloc(20000);
  size_t k = (size_t)sprintf(s, "%s,", emotion);
  for (int i = 0; i < n; i++) k += (size_t)sprintf(s + k, "%s%s", i ? " " : "", i == 0 && tweak ? tweak : "7");
  sprintf(s + k, ",%s\n", usage);
  return s;
}

static clfer_status read_text(const char *name, const char *text, clfer_store_t **s) {
  const char *dir = test_tmpdir(name);
  char path[1200];
  snprintf(path, sizeof path, "%s/fer2013.csv", dir);
  test_write_text(path, text);
  return clfer_read_fer2013(path, NULL, NULL, s);
}

static char *two_rows(const char *bad_row) {
  char *good = fer_row("1", 2304, NULL, "Training");
  char *t = malloc(40000);
  sprintf(t, "%s%s%s", FER_HEADER, good, bad_row);
  free(good);
  return t;
}

Test(data_bad_input, wrong_pixel_count) {
  clfer_store_t *s = NULL;
  char *row = fer_row("1", 2303, NULL, "Training");
  char *t = two_rows(row);
  DT_EXPECT_ERROR(read_text("px_count", t, &s), CLFER_PARSE_ERROR, "fer2013.csv:3:", "expected 2304 values, got 2303");
  free(row);
  free(t);
  row = fer_row("1", 2305, NULL, "Training");
  t = two_rows(row);
  DT_EXPECT_ERROR(read_text("px_count2", t, &s), CLFER_PARSE_ERROR, "fer2013.csv:3:", "got 2305");
  free(row);
  free(t);
}

Test(data_bad_input, non_numeric_fields) {
  clfer_store_t *s = NULL;
  char *row = fer_row("1", 2304, "12a", "Training");
  char *t = two_rows(row);
  DT_EXPECT_ERROR(read_text("px_nan", t, &s), CLFER_PARSE_ERROR, "fer2013.csv:3:", "value 1 is not a number");
  free(row);
  free(t);
  row = fer_row("1", 2304, "256", "Training");
  t = two_rows(row);
  DT_EXPECT_ERROR(read_text("px_range", t, &s), CLFER_PARSE_ERROR, "fer2013.csv:3:", "out of range 0..255");
  free(row);
  free(t);
  row = fer_row("x", 2304, NULL, "Training");
  t = two_rows(row);
  DT_EXPECT_ERROR(read_text("emotion_nan", t, &s), CLFER_PARSE_ERROR, "fer2013.csv:3:", "emotion 'x'");
  free(row);
  free(t);
  row = fer_row("7", 2304, NULL, "Training");
  t = two_rows(row);
  DT_EXPECT_ERROR(read_text("emotion_range", t, &s), CLFER_PARSE_ERROR, "fer2013.csv:3:", "0..6");
  free(row);
  free(t);
  row = fer_row("1", 2304, NULL, "Holdout");
  t = two_rows(row);
  DT_EXPECT_ERROR(read_text("usage", t, &s), CLFER_PARSE_ERROR, "fer2013.csv:3:", "Usage 'Holdout'");
  free(row);
  free(t);
}

Test(data_bad_input, missing_columns) {
  clfer_store_t *s = NULL;
  DT_EXPECT_ERROR(read_text("no_usage", "emotion,pixels\n1,2 3\n", &s), CLFER_PARSE_ERROR, "fer2013.csv:1:",
                  "missing column 'Usage'");
  char *row = fer_row("1", 2304, NULL, "Training");
  char *t = malloc(40000);
  sprintf(t, "%s%s%s", FER_HEADER, row, "1,2 3 4\n");
  DT_EXPECT_ERROR(read_text("short_row", t, &s), CLFER_PARSE_ERROR, "fer2013.csv:3:", "expected 3 columns, got 2");
  free(row);
  free(t);
  DT_EXPECT_ERROR(read_text("empty", "", &s), CLFER_PARSE_ERROR, "fer2013.csv:1:", "empty file");
}

static clfer_status read_votes(const char *name, const char *text, clfer_store_t **s) {
  const char *dir = test_tmpdir(name);
  char path[1200];
  snprintf(path, sizeof path, "%s/fer2013new.csv", dir);
  test_write_text(path, text);
  return clfer_read_ferplus_votes(path, NULL, s);
}

#define PLUS_HEADER "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"

Test(data_bad_input, votes_negative_absurd_non_numeric_missing) {
  clfer_store_t *s = NULL;
  DT_EXPECT_ERROR(read_votes("neg", PLUS_HEADER "Training,a.png,4,0,0,1,3,2,0,0,0,0\nTraining,b.png,4,0,-1,1,3,2,0,0,0,0\n", &s),
                  CLFER_PARSE_ERROR, "fer2013new.csv:3:", "'surprise'", "outside");
  DT_EXPECT_ERROR(read_votes("absurd", PLUS_HEADER "Training,b.png,4,0,0,1,3,2,0,0,0,5000\n", &s), CLFER_PARSE_ERROR,
                  "fer2013new.csv:2:", "'NF'", "5000");
  DT_EXPECT_ERROR(read_votes("nan", PLUS_HEADER "Training,b.png,4,0,0,1,nan,2,0,0,0,0\n", &s), CLFER_PARSE_ERROR,
                  "fer2013new.csv:2:", "'anger'", "not a number");
  DT_EXPECT_ERROR(read_votes("short", PLUS_HEADER "Training,b.png,4,0,0,1,3,2,0,0,0\n", &s), CLFER_PARSE_ERROR,
                  "fer2013new.csv:2:", "expected 12 columns, got 11");
  DT_EXPECT_ERROR(read_votes("nocol", "Usage,Image name,neutral,happiness\nTraining,a.png,1,2\n", &s),
                  CLFER_PARSE_ERROR, "fer2013new.csv:1:", "missing column 'surprise'");
}

Test(data_bad_input, unterminated_quote_and_crlf_line_numbers) {
  clfer_store_t *s = NULL;
  DT_EXPECT_ERROR(read_votes("quote", PLUS_HEADER "Training,a.png,4,0,0,1,3,2,0,0,0,0\r\n\r\nTraining,\"b.png,4,0\r\n",
                             &s),
                  CLFER_PARSE_ERROR, "fer2013new.csv:4:", "unterminated");
  DT_EXPECT_ERROR(read_votes("after_quote", PLUS_HEADER "Training,\"a.png\"x,4,0,0,1,3,2,0,0,0,0\n", &s),
                  CLFER_PARSE_ERROR, "fer2013new.csv:2:", "after the closing quote");
}

Test(data_bad_input, fer_and_ferplus_misaligned) {
  const char *dir = test_tmpdir("misaligned");
  char fer[1200], plus[1200];
  snprintf(fer, sizeof fer, "%s/fer2013.csv", dir);
  snprintf(plus, sizeof plus, "%s/fer2013new.csv", dir);
  char *r1 = fer_row("1", 2304, NULL, "Training"), *r2 = fer_row("2", 2304, NULL, "PublicTest");
  char *t = malloc(60000);
  sprintf(t, "%s%s%s", FER_HEADER, r1, r2);
  test_write_text(fer, t);
  clfer_store_t *s = NULL;
  test_write_text(plus, PLUS_HEADER "Training,a.png,4,0,0,1,3,2,0,0,0,0\nPrivateTest,b.png,4,0,0,1,3,2,0,0,0,0\n");
  DT_EXPECT_ERROR(clfer_read_fer2013(fer, plus, NULL, &s), CLFER_PARSE_ERROR, "fer2013new.csv:3:", "fer2013.csv:3",
                  "not aligned");
  test_write_text(plus, PLUS_HEADER "Training,a.png,4,0,0,1,3,2,0,0,0,0\n");
  DT_EXPECT_ERROR(clfer_read_fer2013(fer, plus, NULL, &s), CLFER_PARSE_ERROR, "different row counts");
  free(r1);
  free(r2);
  free(t);
}

Test(data_bad_input, missing_files) {
  clfer_store_t *s = NULL;
  DT_EXPECT_ERROR(clfer_read_fer2013("/nonexistent/fer2013.csv", NULL, NULL, &s), CLFER_IO_ERROR,
                  "/nonexistent/fer2013.csv");
  DT_EXPECT_ERROR(clfer_read_rafdb("/nonexistent/raf", NULL, NULL, &s), CLFER_IO_ERROR, "list_patition_label.txt");
  DT_EXPECT_ERROR(clfer_read_ckplus("/nonexistent/ck", NULL, &s), CLFER_NOT_FOUND, "/nonexistent/ck/Emotion");
}

Test(data_bad_input, ferplus_label_csv_bad_box) {
  const char *root = test_tmpdir("badbox");
  char dir[1200], path[1300];
  snprintf(dir, sizeof dir, "%s/FER2013Valid", root);
  dt_mkdirs(dir);
  snprintf(path, sizeof path, "%s/label.csv", dir);
  test_write_text(path, "fer0000000.png,\"(0, 0, 48)\",4,0,0,1,3,2,0,0,0,0\n");
  clfer_store_t *s = NULL;
  DT_EXPECT_ERROR(clfer_read_ferplus_folders(root, NULL, &s), CLFER_PARSE_ERROR, "FER2013Valid/label.csv:1:",
                  "face box");
  test_write_text(path, "fer0000000.png,\"(0, 0, 48, 48)\",4,0,0,1,3,2,0,0,0,0\n");
  DT_EXPECT_ERROR(clfer_read_ferplus_folders(root, NULL, &s), CLFER_NOT_FOUND, "label.csv:1:", "fer0000000.png");
}
