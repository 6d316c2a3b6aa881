/* test_metrics.c — scores on a constructed confusion matrix, and the CSV/SVG outputs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clfer/metrics.h"
#include "test_util.h"

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "%s", path);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

Test(metrics, scores_of_a_constructed_confusion) {
  const char *names[3] = {"happiness", "sadness", "fear"};
  clfer_confusion_t c;
  clfer_confusion_init(&c, 3, names);
  /* true happiness: 8 right, 2 as sadness; sadness: 3 right, 1 fear; fear: 1 right, 1 happiness */
  for (int i = 0; i < 8; i++) clfer_confusion_add(&c, 0, 0);
  for (int i = 0; i < 2; i++) clfer_confusion_add(&c, 0, 1);
  for (int i = 0; i < 3; i++) clfer_confusion_add(&c, 1, 1);
  clfer_confusion_add(&c, 1, 2);
  clfer_confusion_add(&c, 2, 2);
  clfer_confusion_add(&c, 2, 0);
  clfer_confusion_add(&c, 5, 0); /* out of range: ignored */
  clfer_scores_t s = clfer_confusion_scores(&c);
  cr_assert_eq(s.samples, 16);
  cr_assert_float_eq(s.accuracy, 12.0 / 16, 1e-12);
  cr_assert_float_eq(s.mean_diagonal, (0.8 + 0.75 + 0.5) / 3, 1e-12);
  cr_assert_float_eq(s.recall[1], 0.75, 1e-12);
  cr_assert_float_eq(s.precision[0], 8.0 / 9, 1e-12);
  cr_assert_float_eq(s.precision[1], 3.0 / 5, 1e-12);
  cr_assert_float_eq(s.precision[2], 0.5, 1e-12);

  const char *dir = test_tmpdir("metrics");
  char csv[1100], svg[1100];
  snprintf(csv, sizeof csv, "%s/confusion_test.csv", dir);
  snprintf(svg, sizeof svg, "%s/confusion_test.svg", dir);
  cr_assert_eq(clfer_confusion_write_csv(&c, csv), CLFER_OK);
  cr_assert_str_eq(slurp(csv), "true\\predicted,happiness,sadness,fear\nhappiness,8,2,0\nsadness,0,3,1\nfear,1,0,1\n");
  cr_assert_eq(clfer_confusion_write_svg(&c, "test <split>", svg), CLFER_OK);
  char *text = slurp(svg);
  cr_assert(strstr(text, "<svg") && strstr(text, "happiness") && strstr(text, "mean diagonal 68.33%"), "%s", text);
  cr_assert(strstr(text, "test &lt;split&gt;") != NULL, "titles are escaped");
  cr_assert_eq(clfer_confusion_write_csv(&c, "/nonexistent/x.csv"), CLFER_IO_ERROR);
}

Test(metrics, empty_classes_do_not_count_in_the_mean_diagonal) {
  clfer_confusion_t c;
  clfer_confusion_init(&c, 4, NULL);
  clfer_confusion_add(&c, 0, 0);
  clfer_confusion_add(&c, 1, 0);
  clfer_scores_t s = clfer_confusion_scores(&c);
  cr_assert_float_eq(s.mean_diagonal, 0.5, 1e-12);
  cr_assert(isnan(s.recall[3]));
  cr_assert_str_eq(c.names[2], "class 2");
}

Test(metrics, curves_svg) {
  double train[3] = {2.0, 1.0, 0.5}, valid[3] = {2.1, NAN, 0.9}, acc[3] = {0.3, 0.5, 0.7};
  clfer_curve_t loss[2] = {{"train", train}, {"valid", valid}}, accs[1] = {{"valid", acc}};
  char path[1100];
  snprintf(path, sizeof path, "%s/curves.svg", test_tmpdir("curves"));
  cr_assert_eq(clfer_curves_write_svg(path, "run", 3, loss, 2, accs, 1), CLFER_OK);
  char *text = slurp(path);
  cr_assert(strstr(text, "polyline") && strstr(text, "valid") && strstr(text, "accuracy"));
}
