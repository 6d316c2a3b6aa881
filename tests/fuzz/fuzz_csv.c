/* fuzz_csv.c — libFuzzer target for the CSV tokenizer and the CSV readers (FER2013, FER+ votes
 * alone and aligned with FER2013, the FER+ folder label.csv without images, whitespace lists).
 * The input is split at the first 0x00 byte into two files so row alignment is exercised too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_internal.h"

static FILE *mem(const uint8_t *d, size_t n) {
  /* fmemopen refuses a zero size; an empty file is a valid input. */
  static const char empty[1] = {0};
  return n ? fmemopen((void *)d, n, "rb") : fmemopen((void *)empty, 1, "r");
}

static void tokenize(const uint8_t *d, size_t n, char sep) {
  FILE *f = mem(d, n);
  if (!f) return;
  clfer__csv_t c;
  clfer__csv_init_stream(&c, f, "fuzz", sep);
  while (clfer__csv_next(&c) > 0)
    for (int i = 0; i < c.nfields; i++) {
      long v;
      double x;
      (void)clfer__parse_int(c.fields[i], -1000, 1000, &v);
      (void)clfer__parse_float(c.fields[i], &x);
    }
  clfer__csv_close(&c);
  fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *zero = memchr(data, 0, size);
  size_t n1 = zero ? (size_t)(zero - data) : size;
  const uint8_t *d2 = zero ? zero + 1 : data + size;
  size_t n2 = zero ? size - n1 - 1 : 0;

  tokenize(data, size, ',');
  tokenize(data, size, ' ');

  clfer_read_options_t opt = {0};
  opt.max_samples = 64;
  clfer_store_t *s = NULL;
  FILE *f = mem(data, n1);
  if (f) {
    clfer__csv_t c;
    clfer__csv_init_stream(&c, f, "fer2013.csv", ',');
    if (clfer__read_fer2013_csv(&c, NULL, &opt, &s) == CLFER_OK) clfer_store_destroy(s);
    clfer__csv_close(&c);
    fclose(f);
  }
  if ((f = mem(data, size))) {
    clfer__csv_t c;
    int skipped[CLFER_SPLIT_COUNT];
    clfer__csv_init_stream(&c, f, "fer2013new.csv", ',');
    if (clfer__read_ferplus_votes_csv(&c, skipped, &s) == CLFER_OK) clfer_store_destroy(s);
    clfer__csv_close(&c);
    fclose(f);
  }
  FILE *f1 = mem(data, n1), *f2 = mem(d2, n2);
  if (f1 && f2) {
    clfer__csv_t c1, c2;
    clfer__csv_init_stream(&c1, f1, "fer2013.csv", ',');
    clfer__csv_init_stream(&c2, f2, "fer2013new.csv", ',');
    opt.width = opt.height = 7; /* exercise the resize path too */
    opt.channels = 3;
    if (clfer__read_fer2013_csv(&c1, &c2, &opt, &s) == CLFER_OK) clfer_store_destroy(s);
    clfer__csv_close(&c1);
    clfer__csv_close(&c2);
  }
  if (f1) fclose(f1);
  if (f2) fclose(f2);
  if ((f = mem(data, size))) {
    clfer_store_desc_t d = {0};
    d.num_classes = 8;
    d.vote_width = 10;
    d.class_names = clfer_classes_ferplus;
    if (clfer_store_create(&d, &s) == CLFER_OK) {
      clfer__csv_t c;
      clfer__csv_init_stream(&c, f, "label.csv", ',');
      (void)clfer__read_ferplus_label_csv(&c, NULL, 0, NULL, s);
      clfer__csv_close(&c);
      clfer_store_destroy(s);
    }
    fclose(f);
  }
  return 0;
}
