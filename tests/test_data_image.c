/* test_data_image.c — PNG/JPEG decoding (round trips through libpng/libjpeg, truncated and
 * corrupt files rejected with a message naming the file), BT.601 gray conversion, bilinear
 * resizing against a double reference, the class-name synonyms and the CSV tokenizer. */
#include <math.h>

#include "data/data_internal.h"
#include "data_test_util.h"

static clfer_image_t pattern(int w, int h, int ch, int seed) {
  clfer_image_t img = {w, h, ch, malloc((size_t)w * h * ch)};
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < ch; c++) img.pixels[((size_t)y * w + x) * ch + c] = dt_pixel(seed, x, y, c);
  return img;
}

Test(data_image, png_round_trip_exact) {
  const char *dir = test_tmpdir("png_rt");
  for (int ch = 1; ch <= 3; ch += 2) {
    char path[1200];
    snprintf(path, sizeof path, "%s/img%d.png", dir, ch);
    clfer_image_t a = pattern(13, 7, ch, ch), b;
    cr_assert_eq(clfer_image_save(path, &a), CLFER_OK, "%s", clfer_last_error());
    cr_assert_eq(clfer_image_load(path, &b), CLFER_OK, "%s", clfer_last_error());
    cr_assert_eq(b.width, 13);
    cr_assert_eq(b.height, 7);
    cr_assert_eq(b.channels, ch);
    cr_assert_arr_eq(a.pixels, b.pixels, (size_t)13 * 7 * ch);
    free(a.pixels);
    clfer_image_free(&b);
  }
}

Test(data_image, jpeg_round_trip_close) {
  const char *dir = test_tmpdir("jpg_rt");
  for (int ch = 1; ch <= 3; ch += 2) {
    char path[1200];
    snprintf(path, sizeof path, "%s/img%d.jpg", dir, ch);
    clfer_image_t a = pattern(32, 24, ch, 2), b;
    cr_assert_eq(clfer_image_save(path, &a), CLFER_OK, "%s", clfer_last_error());
    cr_assert_eq(clfer_image_load(path, &b), CLFER_OK, "%s", clfer_last_error());
    cr_assert_eq(b.channels, ch);
    double err = 0;
    for (size_t i = 0; i < (size_t)32 * 24 * ch; i++) err += fabs((double)a.pixels[i] - b.pixels[i]);
    err /= 32.0 * 24 * ch;
    /* Quality 95; colour loses more through 4:2:0 chroma subsampling. */
    cr_assert(err < (ch == 1 ? 2.0 : 8.0), "channels %d: mean abs error %g", ch, err);
    free(a.pixels);
    clfer_image_free(&b);
  }
}

/* Every prefix of a valid file (and a file with flipped bytes) is rejected, never a crash. */
static void check_truncations(const char *path, const char *format) {
  size_t n;
  char *d = test_read_file(path, &n);
  clfer_image_t img;
  for (size_t cut = 0; cut < n; cut += (cut < 64 ? 1 : 7)) {
    clfer_status st = clfer_image_decode((const uint8_t *)d, cut, path, &img);
    cr_assert_neq(st, CLFER_OK, "%s truncated to %zu bytes decoded", format, cut);
    cr_assert(strstr(clfer_last_error(), path), "message '%s' does not name the file", clfer_last_error());
    cr_assert_null(img.pixels);
  }
  for (size_t at = 20; at < n; at += 5) { /* corrupt one byte at a time */
    char saved = d[at];
    d[at] = (char)(d[at] ^ 0x5a);
    clfer_status st = clfer_image_decode((const uint8_t *)d, n, path, &img);
    if (st == CLFER_OK)
      clfer_image_free(&img); /* some corruptions leave a decodable image; it must not crash */
    else
      cr_assert(strstr(clfer_last_error(), format) || st == CLFER_UNSUPPORTED, "%s: %s", format, clfer_last_error());
    d[at] = saved;
  }
  free(d);
}

Test(data_image, truncated_and_corrupt) {
  const char *dir = test_tmpdir("trunc");
  char png[1200], jpg[1200];
  snprintf(png, sizeof png, "%s/a.png", dir);
  snprintf(jpg, sizeof jpg, "%s/a.jpg", dir);
  clfer_image_t a = pattern(20, 10, 3, 5);
  cr_assert_eq(clfer_image_save(png, &a), CLFER_OK);
  cr_assert_eq(clfer_image_save(jpg, &a), CLFER_OK);
  free(a.pixels);
  check_truncations(png, "PNG");
  check_truncations(jpg, "JPEG");
  clfer_image_t img;
  DT_EXPECT_ERROR(clfer_image_decode((const uint8_t *)"GIF89a..........", 16, "x.gif", &img), CLFER_CORRUPT, "x.gif",
                  "neither PNG nor JPEG");
  DT_EXPECT_ERROR(clfer_image_load("/nonexistent/x.png", &img), CLFER_NOT_FOUND, "/nonexistent/x.png");
}

Test(data_image, gray_luma_601) {
  uint8_t rgb[4 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 200, 90};
  clfer_image_t img = {4, 1, 3, rgb};
  uint8_t g[4];
  cr_assert_eq(clfer_image_convert(&img, 4, 1, 1, g), CLFER_OK);
  cr_assert_eq(g[0], 76);  /* 0.299·255 = 76.2 */
  cr_assert_eq(g[1], 150); /* 0.587·255 = 149.7 */
  cr_assert_eq(g[2], 29);  /* 0.114·255 = 29.1 */
  cr_assert_eq(g[3], (int)lround(0.299 * 10 + 0.587 * 200 + 0.114 * 90));
  uint8_t back[12];
  clfer_image_t gi = {4, 1, 1, g};
  cr_assert_eq(clfer_image_convert(&gi, 4, 1, 3, back), CLFER_OK);
  cr_assert_eq(back[9], g[3]);
  cr_assert_eq(back[11], g[3]);
}

Test(data_image, bilinear_resize_matches_reference) {
  clfer_image_t img = pattern(9, 7, 1, 3);
  for (int i = 0; i < 63; i++) img.pixels[i] = (uint8_t)((i * 97) % 256); /* not linear */
  const int W = 20, H = 5;
  uint8_t out[20 * 5];
  cr_assert_eq(clfer_image_convert(&img, W, H, 1, out), CLFER_OK);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      double xs = fmin(fmax((x + 0.5) * 9.0 / W - 0.5, 0), 8), ys = fmin(fmax((y + 0.5) * 7.0 / H - 0.5, 0), 6);
      int x0 = (int)xs, y0 = (int)ys, x1 = x0 < 8 ? x0 + 1 : 8, y1 = y0 < 6 ? y0 + 1 : 6;
      double wx = xs - x0, wy = ys - y0;
#define P(xx, yy) (double)img.pixels[(yy) * 9 + (xx)]
      double want = (1 - wy) * ((1 - wx) * P(x0, y0) + wx * P(x1, y0)) + wy * ((1 - wx) * P(x0, y1) + wx * P(x1, y1));
#undef P
      cr_assert(fabs(out[y * W + x] - want) <= 0.5 + 1e-9, "(%d,%d): %d vs %g", x, y, out[y * W + x], want);
    }
  free(img.pixels);
}

Test(data_image, class_synonyms) {
  cr_assert_str_eq(clfer_class_canonical("Angry"), "anger");
  cr_assert_str_eq(clfer_class_canonical("happy"), "happiness");
  cr_assert_str_eq(clfer_class_canonical(" sad "), "sadness");
  cr_assert_str_eq(clfer_class_canonical("surprised"), "surprise");
  cr_assert_str_eq(clfer_class_canonical("fearful"), "fear");
  cr_assert_str_eq(clfer_class_canonical("nf"), "NF");
  cr_assert_null(clfer_class_canonical("bored"));
  cr_assert(clfer_class_same("happy", "Happiness"));
  cr_assert(!clfer_class_same("happy", "sad"));
  cr_assert(clfer_class_same("Bored", "bored"));
  /* Every dataset list maps onto FER+'s names. */
  for (int k = 0; k < 7; k++) cr_assert_not_null(clfer_class_canonical(clfer_classes_fer2013[k]));
  for (int k = 0; k < 8; k++) cr_assert_not_null(clfer_class_canonical(clfer_classes_ckplus[k]));
  for (int k = 0; k < 8; k++) cr_assert_not_null(clfer_class_canonical(clfer_classes_affectnet[k]));
}

static void tokenize(const char *text, char sep, const char *expect) {
  FILE *f = fmemopen((void *)text, strlen(text), "rb");
  cr_assert(f);
  clfer__csv_t c;
  clfer__csv_init_stream(&c, f, "t.csv", sep);
  char got[4096] = "";
  int r;
  while ((r = clfer__csv_next(&c)) > 0) {
    char line[1024];
    snprintf(line, sizeof line, "%ld:", c.line);
    strcat(got, line);
    for (int i = 0; i < c.nfields; i++) {
      strcat(got, "[");
      strcat(got, c.fields[i]);
      strcat(got, "]");
    }
    strcat(got, "\n");
  }
  cr_assert_eq(r, 0, "%s", clfer_last_error());
  clfer__csv_close(&c);
  fclose(f);
  cr_assert_str_eq(got, expect);
}

Test(data_image, csv_tokenizer) {
  tokenize("a,b\r\n\r\n\"x,\"\"y\"\"\nz\",,\r\nlast,row", ',', "1:[a][b]\n3:[x,\"y\"\nz][][]\n5:[last][row]\n");
  tokenize("\xEF\xBB\xBFh1,h2\n", ',', "1:[h1][h2]\n");
  tokenize("f.png,\"(0, 0, 48, 48)\",4\n", ',', "1:[f.png][(0, 0, 48, 48)][4]\n");
  tokenize("train_1.jpg  5\r\n\n\ttest_2.jpg\t7 \n", ' ', "1:[train_1.jpg][5]\n3:[test_2.jpg][7]\n");
  tokenize("a,b,\n", ',', "1:[a][b][]\n");
}

Test(data_image, store_description_checked) {
  clfer_store_t *s = NULL;
  clfer_store_desc_t d = {0};
  d.num_classes = 3;
  d.vote_width = 2; /* fewer vote columns than classes */
  const char *names[3] = {"a", "b", "c"};
  d.class_names = names;
  cr_assert_eq(clfer_store_create(&d, &s), CLFER_INVALID_ARGUMENT);
  d.vote_width = 0;
  d.height = 4;
  d.width = 4;
  d.channels = 2;
  cr_assert_eq(clfer_store_create(&d, &s), CLFER_INVALID_ARGUMENT);
  d.channels = 1;
  cr_assert_eq(clfer_store_create(&d, &s), CLFER_OK);
  cr_assert_eq(clfer_store_append(s, NULL, NULL, 3, NULL, 0, 0, -1, "x", NULL), CLFER_INVALID_ARGUMENT);
  for (int i = 0; i < 1000; i++) cr_assert_eq(clfer_store_append(s, NULL, NULL, i % 3, NULL, i % 3, 0, -1, "x", NULL), CLFER_OK);
  cr_assert_eq(clfer_store_count(s, 1), 333);
  uint8_t *keep = calloc(1000, 1);
  for (int i = 0; i < 1000; i += 10) keep[i] = 1;
  cr_assert_eq(clfer_store_filter(s, keep), CLFER_OK);
  cr_assert_eq(s->n, 100);
  cr_assert_eq(s->labels[1], 10 % 3);
  free(keep);
  clfer_store_destroy(s);
}
