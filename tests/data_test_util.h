/* data_test_util.h — small helpers for the reader and label tests: copying fixtures, making
 * deterministic PNG/JPEG files, and asserting that an error message names what it must (text
 * files: test_util.h). Header-only so each test binary stays self-contained. */
#ifndef CLFER_DATA_TEST_UTIL_H
#define CLFER_DATA_TEST_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfer/data.h"
#include "clfer/labels.h"
#include "test_util.h"

#define FIXTURE(name) CLFER_TEST_FIXTURES "/data/" name

static inline void dt_mkdirs(const char *path) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
  cr_assert_eq(system(cmd), 0, "mkdir -p %s", path);
}

static inline void dt_write_bytes(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  cr_assert(f, "cannot write %s", path);
  fwrite(data, 1, n, f);
  fclose(f);
}

static inline void dt_copy(const char *src, const char *dst) {
  size_t n;
  char *d = test_read_file(src, &n);
  dt_write_bytes(dst, d, n);
  free(d);
}

/* Pixel (x, y, c) of test image `seed`: a smooth pattern so JPEG keeps it close. */
static inline uint8_t dt_pixel(int seed, int x, int y, int c) { return (uint8_t)((seed * 40 + x * 3 + y * 2 + c * 50) & 0xff); }

static inline void dt_make_image(const char *path, int w, int h, int ch, int seed) {
  clfer_image_t img = {w, h, ch, malloc((size_t)w * h * ch)};
  cr_assert(img.pixels);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < ch; c++) img.pixels[((size_t)y * w + x) * ch + c] = dt_pixel(seed, x, y, c);
  clfer_status st = clfer_image_save(path, &img);
  cr_assert_eq(st, CLFER_OK, "save %s: %s", path, clfer_last_error());
  free(img.pixels);
}

/* A RAF-DB tree in a fresh test directory: the fixture list_patition_label.txt (RAF's own
 * misspelling) and, when with_images, its 4 aligned RGB JPEGs of side×side pixels. */
static inline const char *dt_make_raf(const char *name, int side, int with_images) {
  const char *root = test_tmpdir(name);
  char p[1200];
  snprintf(p, sizeof p, "%s/EmoLabel", root);
  dt_mkdirs(p);
  snprintf(p, sizeof p, "%s/Image/aligned", root);
  dt_mkdirs(p);
  snprintf(p, sizeof p, "%s/EmoLabel/list_patition_label.txt", root);
  dt_copy(FIXTURE("list_patition_label.txt"), p);
  const char *stems[4] = {"train_00001", "train_00002", "test_0001", "test_0002"};
  for (int i = 0; with_images && i < 4; i++) {
    snprintf(p, sizeof p, "%s/Image/aligned/%s_aligned.jpg", root, stems[i]);
    dt_make_image(p, side, side, 3, i);
  }
  return root;
}

/* Asserts that status is `want` and the message holds every one of the NULL-terminated needles. */
static inline void dt_expect_error_v(clfer_status got, clfer_status want, const char *const *needles) {
  const char *msg = clfer_last_error();
  cr_assert_eq(got, want, "status %s, expected %s; message: %s", clfer_status_name(got), clfer_status_name(want), msg);
  for (; *needles; needles++) cr_assert(strstr(msg, *needles), "message '%s' lacks '%s'", msg, *needles);
}
#define DT_EXPECT_ERROR(got, want, ...) dt_expect_error_v((got), (want), (const char *const[]){__VA_ARGS__, NULL})

#endif
