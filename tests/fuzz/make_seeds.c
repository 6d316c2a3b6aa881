/* make_seeds.c — writes the starting corpora of the fuzz targets (small valid PNGs and JPEGs in
 * several colour types, bit depths, interlacing and progressive coding; small CSVs with the real
 * quirks). Built and run by scripts/fuzz; not part of the library. */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* jpeglib.h needs FILE and size_t first. */
#include <jpeglib.h>

#include "clfer/data.h"

static void put(const char *dir, const char *name, const char *text) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f) return;
  fwrite(text, 1, strlen(text), f);
  fclose(f);
}

static void png_variant(const char *path, int w, int h, int color, int depth, int interlace, int trns) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(p);
  if (setjmp(png_jmpbuf(p))) {
    png_destroy_write_struct(&p, &info);
    fclose(f);
    return;
  }
  png_init_io(p, f);
  png_set_IHDR(p, info, w, h, depth, color, interlace, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (color == PNG_COLOR_TYPE_PALETTE) {
    png_color pal[4] = {{0, 0, 0}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
    png_set_PLTE(p, info, pal, 4);
    if (trns) {
      png_byte t[4] = {0, 128, 255, 255};
      png_set_tRNS(p, info, t, 4, NULL);
    }
  }
  png_write_info(p, info);
  int ch = color == PNG_COLOR_TYPE_RGB ? 3 : color == PNG_COLOR_TYPE_RGBA ? 4 : color == PNG_COLOR_TYPE_GRAY_ALPHA ? 2 : 1;
  size_t rowbytes = ((size_t)w * ch * depth + 7) / 8;
  png_bytep row = malloc(rowbytes);
  int passes = png_set_interlace_handling(p);
  for (int pass = 0; pass < passes; pass++)
    for (int y = 0; y < h; y++) {
      for (size_t i = 0; i < rowbytes; i++) row[i] = (png_byte)(i * 37 + y * 11);
      if (color == PNG_COLOR_TYPE_PALETTE)
        for (size_t i = 0; i < rowbytes; i++) row[i] &= depth == 8 ? 3 : 0x55;
      png_write_row(p, row);
    }
  png_write_end(p, NULL);
  png_destroy_write_struct(&p, &info);
  free(row);
  fclose(f);
}

static void jpeg_variant(const char *path, int w, int h, int ch, int progressive) {
  FILE *f = fopen(path, "wb");
  if (!f) return;
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  jpeg_stdio_dest(&c, f);
  c.image_width = w;
  c.image_height = h;
  c.input_components = ch;
  c.in_color_space = ch == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 80, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  unsigned char *row = malloc((size_t)w * ch);
  while (c.next_scanline < c.image_height) {
    for (int i = 0; i < w * ch; i++) row[i] = (unsigned char)(i * 13 + c.next_scanline * 7);
    JSAMPROW r = row;
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  free(row);
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_seeds CORPUS_ROOT\n");
    return 2;
  }
  char d[1024];
  snprintf(d, sizeof d, "%s/png", argv[1]);
  char p[1200];
#define PNG(name, ...) (snprintf(p, sizeof p, "%s/" name, d), png_variant(p, __VA_ARGS__))
  PNG("gray8.png", 8, 8, PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, 0);
  PNG("gray1.png", 9, 5, PNG_COLOR_TYPE_GRAY, 1, PNG_INTERLACE_NONE, 0);
  PNG("rgb8.png", 5, 3, PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, 0);
  PNG("rgba16i.png", 6, 7, PNG_COLOR_TYPE_RGBA, 16, PNG_INTERLACE_ADAM7, 0);
  PNG("pal_trns.png", 7, 4, PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_NONE, 1);
  PNG("pal2.png", 8, 2, PNG_COLOR_TYPE_PALETTE, 2, PNG_INTERLACE_NONE, 0);
  PNG("graya.png", 4, 4, PNG_COLOR_TYPE_GRAY_ALPHA, 8, PNG_INTERLACE_NONE, 0);
  snprintf(d, sizeof d, "%s/jpeg", argv[1]);
  snprintf(p, sizeof p, "%s/gray.jpg", d), jpeg_variant(p, 8, 8, 1, 0);
  snprintf(p, sizeof p, "%s/rgb.jpg", d), jpeg_variant(p, 17, 9, 3, 0);
  snprintf(p, sizeof p, "%s/prog.jpg", d), jpeg_variant(p, 16, 16, 3, 1);
  snprintf(d, sizeof d, "%s/csv", argv[1]);
  /* FER2013 with 2304 pixels, then its FER+ twin after a NUL (the target splits there). */
  size_t cap = 40000;
  char *t = malloc(cap);
  size_t n = (size_t)snprintf(t, cap, "emotion,pixels,Usage\n0,");
  for (int i = 0; i < 2304; i++) n += (size_t)snprintf(t + n, cap - n, i ? " %d" : "%d", (i * 7) % 256);
  n += (size_t)snprintf(t + n, cap - n, ",Training\r\n3,");
  for (int i = 0; i < 2304; i++) n += (size_t)snprintf(t + n, cap - n, i ? " %d" : "%d", (i * 3) % 256);
  n += (size_t)snprintf(t + n, cap - n, ",PublicTest");
  snprintf(p, sizeof p, "%s/fer2013.csv", d);
  FILE *f = fopen(p, "wb");
  if (f) {
    fwrite(t, 1, n, f);
    fputc(0, f);
    fputs("Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\n"
          "Training,fer0000000.png,4,0,0,1,3,2,0,0,0,0\nPublicTest,,0,0,0,0,0,0,0,0,0,10\n", f);
    fclose(f);
  }
  free(t);
  put(d, "ferplus.csv",
      "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF\r\n"
      "Training,fer0000000.png,4,0,0,1,3,2,0,0,0,0\r\nTraining,,0,0,0,0,0,0,0,0,0,10\r\n"
      "PrivateTest,fer0000002.png,0,9,0,0,0,0,0,0,0,0");
  put(d, "label.csv", "fer0000000.png,\"(0, 0, 48, 48)\",4,0,0,1,3,2,0,0,0,0\n"
                      "\"fer0000001.png\",\"(0, 0, 48, 48)\",0,10,0,0,0,0,0,0,0,0\n");
  put(d, "list.txt", "train_00001.jpg 5\ntest_0001.jpg\t1\r\n");
  put(d, "quotes.csv", "a,\"b,\"\"c\"\"\nd\",e\n\n\"\",,\n");
  return 0;
}
