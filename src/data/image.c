/* image.c — PNG (libpng) and JPEG (libjpeg-turbo) decoding from memory with setjmp/longjmp error
 * handling so corrupt or truncated files become CLFER_CORRUPT instead of a crash, writing both
 * formats (tests, `clfer synth`), and gray/RGB conversion with bilinear resizing. */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* jpeglib.h needs FILE and size_t first. */
#include <jpeglib.h>

#include "data/data_internal.h"

#define IMAGE_MAX_SIDE 16384
#define IMAGE_MAX_PIXELS (1u << 26)
#define IMAGE_MAX_FILE (256u << 20)

void clfer_image_free(clfer_image_t *img) {
  if (!img) return;
  free(img->pixels);
  img->pixels = NULL;
  img->width = img->height = img->channels = 0;
}

static clfer_status check_dims(const char *what, unsigned long w, unsigned long h) {
  if (w == 0 || h == 0) return clfer_set_error(CLFER_CORRUPT, "%s: image has zero size (%lux%lu)", what, w, h);
  if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || (unsigned long long)w * h > IMAGE_MAX_PIXELS)
    return clfer_set_error(CLFER_UNSUPPORTED, "%s: image %lux%lu is larger than clfer accepts", what, w, h);
  return CLFER_OK;
}

/* ---- PNG ------------------------------------------------------------------------------------- */
typedef struct png_src {
  const uint8_t *data;
  size_t size, pos;
} png_src_t;

typedef struct png_err {
  char msg[200];
} png_err_t;

static void png_read_mem(png_structp png, png_bytep out, png_size_t n) {
  png_src_t *src = png_get_io_ptr(png);
  if (n > src->size - src->pos) png_error(png, "unexpected end of file (truncated)");
  memcpy(out, src->data + src->pos, n);
  src->pos += n;
}

static void png_on_error(png_structp png, png_const_charp msg) {
  png_err_t *e = png_get_error_ptr(png);
  if (e) snprintf(e->msg, sizeof e->msg, "%s", msg);
  png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg; /* benign (e.g. an unknown ancillary chunk); errors go through png_on_error */
}

static clfer_status decode_png(const uint8_t *data, size_t size, const char *what, clfer_image_t *out) {
  png_err_t err = {{0}};
  png_src_t src = {data, size, 0};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, png_on_error, png_on_warning);
  if (!png) return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: libpng: cannot create reader", what);
  png_infop info = png_create_info_struct(png);
  /* volatile: modified between setjmp and a longjmp back to it. */
  uint8_t *volatile pixels = NULL;
  png_bytep *volatile rows = NULL;
  clfer_status volatile st = CLFER_OK;
  if (!info) {
    png_destroy_read_struct(&png, NULL, NULL);
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: libpng: cannot create info", what);
  }
  if (setjmp(png_jmpbuf(png))) {
    st = clfer_set_error(CLFER_CORRUPT, "%s: corrupt PNG: %s", what, err.msg[0] ? err.msg : "libpng error");
    goto done;
  }
  png_set_user_limits(png, IMAGE_MAX_SIDE, IMAGE_MAX_SIDE);
  png_set_chunk_malloc_max(png, 8u << 20);
  /* Skip every ancillary chunk clfer does not use (text, ICC profiles, sCAL...) unread. libpng
   * reports an over-long chunk only as a benign error (a warning on read) and then buffers and
   * zeroes it: fuzzing found a 105-byte file claiming a 1.7 GB sCAL chunk that cost 1.7 GB and
   * 2.4 s before failing. Skipped chunks are read through in small pieces, never buffered. */
  static const png_byte ignored[] = "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0iCCP\0iTXt\0oFFs\0pCAL\0pHYs\0sBIT\0"
                                    "sCAL\0sPLT\0sRGB\0tEXt\0tIME\0zTXt";
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, ignored, (int)(sizeof ignored / 5));
  png_set_read_fn(png, &src, png_read_mem);
  png_read_info(png, info);
  png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  if ((st = check_dims(what, w, h))) goto done;
  int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
  if (depth == 16) png_set_strip_16(png);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  int ch = png_get_channels(png, info);
  if (ch != 1 && ch != 3) {
    st = clfer_set_error(CLFER_UNSUPPORTED, "%s: PNG with %d channels after conversion", what, ch);
    goto done;
  }
  size_t rowbytes = png_get_rowbytes(png, info);
  if (rowbytes != (size_t)w * (size_t)ch) {
    st = clfer_set_error(CLFER_CORRUPT, "%s: unexpected PNG row size %zu", what, rowbytes);
    goto done;
  }
  pixels = malloc((size_t)h * rowbytes);
  rows = malloc(sizeof(png_bytep) * h);
  if (!pixels || !rows) {
    st = clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of memory for a %ux%u image", what, (unsigned)w, (unsigned)h);
    goto done;
  }
  for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + (size_t)y * rowbytes;
  png_read_image(png, rows);
  png_read_end(png, NULL);
  out->width = (int)w;
  out->height = (int)h;
  out->channels = ch;
  out->pixels = pixels;
  pixels = NULL;
done:
  png_destroy_read_struct(&png, &info, NULL);
  free(pixels);
  free(rows);
  return st;
}

/* ---- JPEG ------------------------------------------------------------------------------------ */
typedef struct jpeg_err {
  struct jpeg_error_mgr mgr;
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX];
} jpeg_err_t;

static void jpeg_on_error(j_common_ptr cinfo) {
  jpeg_err_t *e = (jpeg_err_t *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, e->msg);
  longjmp(e->jump, 1);
}

/* Warnings (a premature end of data, corrupt entropy data) would leave gray filler in the image:
 * clfer treats them as errors, so a truncated JPEG is rejected like a truncated PNG. */
static void jpeg_on_message(j_common_ptr cinfo, int level) {
  if (level < 0) jpeg_on_error(cinfo);
}

static clfer_status decode_jpeg(const uint8_t *data, size_t size, const char *what, clfer_image_t *out) {
  struct jpeg_decompress_struct cinfo;
  jpeg_err_t err;
  memset(&cinfo, 0, sizeof cinfo);
  memset(&err, 0, sizeof err);
  uint8_t *volatile pixels = NULL;
  clfer_status volatile st = CLFER_OK;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_on_error;
  err.mgr.emit_message = jpeg_on_message;
  if (setjmp(err.jump)) {
    st = clfer_set_error(CLFER_CORRUPT, "%s: corrupt JPEG: %s", what, err.msg[0] ? err.msg : "libjpeg error");
    goto done;
  }
  jpeg_create_decompress(&cinfo);
  /* Limit libjpeg's own working memory (progressive files buffer whole coefficient planes). */
  cinfo.mem->max_memory_to_use = 512L << 20;
  jpeg_mem_src(&cinfo, data, (unsigned long)size);
  jpeg_read_header(&cinfo, TRUE);
  if ((st = check_dims(what, cinfo.image_width, cinfo.image_height))) goto done;
  switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_YCbCr:
    case JCS_RGB: cinfo.out_color_space = JCS_RGB; break;
    default:
      st = clfer_set_error(CLFER_UNSUPPORTED, "%s: JPEG colour space %d (CMYK/YCCK) is not supported", what,
                           (int)cinfo.jpeg_color_space);
      goto done;
  }
  jpeg_start_decompress(&cinfo);
  int ch = cinfo.output_components;
  if (ch != 1 && ch != 3) {
    st = clfer_set_error(CLFER_UNSUPPORTED, "%s: JPEG with %d components", what, ch);
    goto done;
  }
  size_t stride = (size_t)cinfo.output_width * (size_t)ch;
  pixels = malloc(stride * cinfo.output_height);
  if (!pixels) {
    st = clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of memory", what);
    goto done;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = pixels + (size_t)cinfo.output_scanline * stride;
    if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
      st = clfer_set_error(CLFER_CORRUPT, "%s: corrupt JPEG: no scanline %u", what, cinfo.output_scanline);
      goto done;
    }
  }
  jpeg_finish_decompress(&cinfo);
  out->width = (int)cinfo.output_width;
  out->height = (int)cinfo.output_height;
  out->channels = ch;
  out->pixels = pixels;
  pixels = NULL;
done:
  jpeg_destroy_decompress(&cinfo);
  free(pixels);
  return st;
}

clfer_status clfer_image_decode(const uint8_t *data, size_t size, const char *what, clfer_image_t *out) {
  memset(out, 0, sizeof *out);
  if (!what) what = "<image>";
  if (!data || size < 8) return clfer_set_error(CLFER_CORRUPT, "%s: not an image (%zu bytes)", what, size);
  if (!png_sig_cmp((png_const_bytep)data, 0, 8)) return decode_png(data, size, what, out);
  if (data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return decode_jpeg(data, size, what, out);
  return clfer_set_error(CLFER_CORRUPT, "%s: neither PNG nor JPEG (unknown signature)", what);
}

clfer_status clfer_image_load(const char *path, clfer_image_t *out) {
  memset(out, 0, sizeof *out);
  uint8_t *data;
  size_t size;
  clfer_status st = clfer__read_file(path, IMAGE_MAX_FILE, &data, &size);
  if (st) return st;
  st = clfer_image_decode(data, size, path, out);
  free(data);
  return st;
}

/* ---- writing --------------------------------------------------------------------------------- */
static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && clfer__strieq(s + n - m, suffix);
}

static clfer_status save_png(FILE *f, const char *path, const clfer_image_t *img) {
  png_err_t err = {{0}};
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &err, png_on_error, png_on_warning);
  if (!png) return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: libpng: cannot create writer", path);
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return clfer_set_error(CLFER_IO_ERROR, "%s: writing PNG: %s", path, err.msg);
  }
  png_init_io(png, f);
  png_set_IHDR(png, info, (png_uint_32)img->width, (png_uint_32)img->height, 8,
               img->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < img->height; y++)
    png_write_row(png, img->pixels + (size_t)y * (size_t)img->width * (size_t)img->channels);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return CLFER_OK;
}

static clfer_status save_jpeg(FILE *f, const char *path, const clfer_image_t *img) {
  struct jpeg_compress_struct cinfo;
  jpeg_err_t err;
  memset(&cinfo, 0, sizeof cinfo);
  memset(&err, 0, sizeof err);
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_on_error;
  if (setjmp(err.jump)) {
    jpeg_destroy_compress(&cinfo);
    return clfer_set_error(CLFER_IO_ERROR, "%s: writing JPEG: %s", path, err.msg);
  }
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, f);
  cinfo.image_width = (JDIMENSION)img->width;
  cinfo.image_height = (JDIMENSION)img->height;
  cinfo.input_components = img->channels;
  cinfo.in_color_space = img->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 95, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = img->pixels + (size_t)cinfo.next_scanline * (size_t)img->width * (size_t)img->channels;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return CLFER_OK;
}

clfer_status clfer_image_save(const char *path, const clfer_image_t *img) {
  if (!img || !img->pixels || img->width <= 0 || img->height <= 0 || (img->channels != 1 && img->channels != 3))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: invalid image to save", path);
  int png = ends_with(path, ".png");
  int jpg = ends_with(path, ".jpg") || ends_with(path, ".jpeg");
  if (!png && !jpg) return clfer_set_error(CLFER_UNSUPPORTED, "%s: unknown image extension (.png, .jpg)", path);
  FILE *f = fopen(path, "wb");
  if (!f) return clfer_set_error(CLFER_IO_ERROR, "%s: cannot create: %s", path, strerror(errno));
  clfer_status st = png ? save_png(f, path, img) : save_jpeg(f, path, img);
  if (fclose(f) && !st) st = clfer_set_error(CLFER_IO_ERROR, "%s: write failed", path);
  return st;
}

/* ---- conversion ------------------------------------------------------------------------------ */
static inline uint8_t luma601(const uint8_t *p) {
  /* ITU-R BT.601: Y = 0.299 R + 0.587 G + 0.114 B, in fixed point (weights sum to 1000). */
  return (uint8_t)((299u * p[0] + 587u * p[1] + 114u * p[2] + 500u) / 1000u);
}

clfer_status clfer_image_convert(const clfer_image_t *src, int width, int height, int channels, uint8_t *dst) {
  if (!src || !src->pixels || src->width <= 0 || src->height <= 0 || (src->channels != 1 && src->channels != 3) ||
      width <= 0 || height <= 0 || (channels != 1 && channels != 3) || !dst)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "image convert: invalid arguments");
  const int sc = src->channels, sw = src->width, sh = src->height;
  if (width == sw && height == sh) {
    size_t n = (size_t)sw * (size_t)sh;
    const uint8_t *s = src->pixels;
    if (sc == channels)
      memcpy(dst, s, n * (size_t)sc);
    else if (sc == 3)
      for (size_t i = 0; i < n; i++) dst[i] = luma601(s + 3 * i);
    else
      for (size_t i = 0; i < n; i++) dst[3 * i] = dst[3 * i + 1] = dst[3 * i + 2] = s[i];
    return CLFER_OK;
  }
  /* Bilinear with pixel centres aligned (x_src = (x + 0.5)·sw/w − 0.5), edges clamped. Colour
   * is converted after sampling each source pixel so gray results match luma-then-resize. */
  const double fx = (double)sw / width, fy = (double)sh / height;
  for (int y = 0; y < height; y++) {
    double ys = (y + 0.5) * fy - 0.5;
    if (ys < 0) ys = 0;
    int y0 = (int)ys;
    if (y0 > sh - 1) y0 = sh - 1;
    int y1 = y0 + 1 < sh ? y0 + 1 : sh - 1;
    double wy = ys - y0;
    for (int x = 0; x < width; x++) {
      double xs = (x + 0.5) * fx - 0.5;
      if (xs < 0) xs = 0;
      int x0 = (int)xs;
      if (x0 > sw - 1) x0 = sw - 1;
      int x1 = x0 + 1 < sw ? x0 + 1 : sw - 1;
      double wx = xs - x0;
      double acc[3] = {0, 0, 0};
      const int xx[2] = {x0, x1}, yy[2] = {y0, y1};
      const double wxx[2] = {1 - wx, wx}, wyy[2] = {1 - wy, wy};
      for (int j = 0; j < 2; j++)
        for (int i = 0; i < 2; i++) {
          const uint8_t *p = src->pixels + ((size_t)yy[j] * (size_t)sw + (size_t)xx[i]) * (size_t)sc;
          double w = wxx[i] * wyy[j];
          if (sc == 3 && channels == 1)
            acc[0] += w * luma601(p);
          else if (sc == 1)
            acc[0] += w * p[0];
          else
            for (int c = 0; c < 3; c++) acc[c] += w * p[c];
        }
      uint8_t *o = dst + ((size_t)y * (size_t)width + (size_t)x) * (size_t)channels;
      if (channels == 1)
        o[0] = (uint8_t)lround(acc[0] > 255 ? 255 : acc[0]);
      else if (sc == 1)
        o[0] = o[1] = o[2] = (uint8_t)lround(acc[0] > 255 ? 255 : acc[0]);
      else
        for (int c = 0; c < 3; c++) o[c] = (uint8_t)lround(acc[c] > 255 ? 255 : acc[c]);
    }
  }
  return CLFER_OK;
}
