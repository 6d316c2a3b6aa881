/* synth_write.c — writes the synthetic dataset in the real formats: fer2013.csv, fer2013new.csv,
 * the FER+ repository's folders (label.csv + PNGs), per-annotator votes for the EM tools, the
 * IPA2LT experiment and a contact sheet. Files are written to a temporary name and renamed. */
#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clfer/synth.h"
#include "data/augment_rng.h"
#include "data/synth_internal.h"

static const char *const k_usage[3] = {"Training", "PublicTest", "PrivateTest"};
static const char *const k_folder[3] = {"FER2013Train", "FER2013Valid", "FER2013Test"};
enum { NPIX = CLFER_SYNTH_SIZE * CLFER_SYNTH_SIZE };

/* ---- small file helpers ----------------------------------------------------------------------- */

static clfer_status make_dirs(const char *path) {
  char buf[4096];
  size_t len = strlen(path);
  if (len == 0 || len >= sizeof buf) return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth: bad directory '%s'", path);
  memcpy(buf, path, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char c = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
      return clfer_set_error(CLFER_IO_ERROR, "synth: cannot create directory '%s': %s", buf, strerror(errno));
    buf[i] = c;
  }
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
    return clfer_set_error(CLFER_IO_ERROR, "synth: '%s' is not a directory", path);
  return CLFER_OK;
}

static clfer_status join(char *out, size_t size, const char *dir, const char *name) {
  int n = snprintf(out, size, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= size) return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth: path too long: %s/%s", dir, name);
  return CLFER_OK;
}

/* A file written under "<path>.tmp" and renamed on close, so a reader never sees half a file. */
typedef struct out_file {
  FILE *f;
  char path[4096], tmp[4200];
} out_file_t;

static clfer_status out_open(out_file_t *o, const char *path) {
  memset(o, 0, sizeof *o);
  if (strlen(path) >= sizeof o->path) return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth: path too long: %s", path);
  snprintf(o->path, sizeof o->path, "%s", path);
  snprintf(o->tmp, sizeof o->tmp, "%s.tmp", path);
  o->f = fopen(o->tmp, "wb");
  if (!o->f) return clfer_set_error(CLFER_IO_ERROR, "synth: cannot write '%s': %s", o->tmp, strerror(errno));
  return CLFER_OK;
}

static clfer_status out_close(out_file_t *o, clfer_status st) {
  if (!o->f) return st;
  int bad = ferror(o->f);
  if (fclose(o->f) != 0) bad = 1;
  o->f = NULL;
  if (!st && bad) st = clfer_set_error(CLFER_IO_ERROR, "synth: writing '%s' failed: %s", o->tmp, strerror(errno));
  if (!st && rename(o->tmp, o->path) != 0)
    st = clfer_set_error(CLFER_IO_ERROR, "synth: cannot rename '%s': %s", o->tmp, strerror(errno));
  if (st) remove(o->tmp);
  return st;
}

/* "v v v …" for 2304 pixels, without printf per value (the CSV is 5 MB at the default size). */
static void write_pixels(FILE *f, const uint8_t *px) {
  char buf[NPIX * 4 + 1], *p = buf;
  for (int i = 0; i < NPIX; i++) {
    unsigned v = px[i];
    if (i) *p++ = ' ';
    if (v >= 100) *p++ = (char)('0' + v / 100);
    if (v >= 10) *p++ = (char)('0' + (v / 10) % 10);
    *p++ = (char)('0' + v % 10);
  }
  fwrite(buf, 1, (size_t)(p - buf), f);
}

static void image_name(char *buf, size_t size, int row) { snprintf(buf, size, "fer%07d.png", row); }

/* ---- PNG -------------------------------------------------------------------------------------- */

clfer_status clfer_synth_write_png(const char *path, const uint8_t *pixels, int h, int w) {
  if (!path || !pixels || h < 1 || w < 1) return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth_write_png: bad arguments");
  out_file_t of;
  clfer_status st = out_open(&of, path);
  if (st) return st;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png ? png_create_info_struct(png) : NULL;
  if (!png || !info) {
    png_destroy_write_struct(&png, &info);
    return out_close(&of, clfer_set_error(CLFER_OUT_OF_MEMORY, "synth_write_png: libpng structures"));
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return out_close(&of, clfer_set_error(CLFER_IO_ERROR, "synth_write_png: libpng failed writing '%s'", path));
  }
  png_init_io(png, of.f);
  png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < h; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * w));
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  return out_close(&of, CLFER_OK);
}

/* ---- the two CSVs ----------------------------------------------------------------------------- */

clfer_status clfer_synth_write_fer2013(const clfer_synth_data_t *d, const char *path) {
  if (!d || !path) return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth_write_fer2013: NULL argument");
  out_file_t of;
  clfer_status st = out_open(&of, path);
  if (st) return st;
  fputs("emotion,pixels,Usage\n", of.f);
  for (int i = 0; i < d->n; i++) {
    fprintf(of.f, "%d,", d->fer2013[i]);
    write_pixels(of.f, d->pixels + (size_t)i * NPIX);
    fprintf(of.f, ",%s\n", k_usage[d->usage[i]]);
  }
  return out_close(&of, CLFER_OK);
}

static void write_votes(FILE *f, const uint8_t *v) {
  for (int k = 0; k < CLFER_SYNTH_VOTE_COLUMNS; k++) fprintf(f, ",%d", v[k]);
}

clfer_status clfer_synth_write_ferplus(const clfer_synth_data_t *d, const char *path) {
  if (!d || !path) return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth_write_ferplus: NULL argument");
  out_file_t of;
  clfer_status st = out_open(&of, path);
  if (st) return st;
  fputs("Usage,Image name", of.f);
  for (int k = 0; k < CLFER_SYNTH_VOTE_COLUMNS; k++) fprintf(of.f, ",%s", clfer_synth_ferplus_names[k]);
  fputc('\n', of.f);
  char name[32];
  for (int i = 0; i < d->n; i++) {
    image_name(name, sizeof name, i);
    fprintf(of.f, "%s,%s", k_usage[d->usage[i]], d->is_face[i] ? name : "");
    write_votes(of.f, d->votes + (size_t)i * CLFER_SYNTH_VOTE_COLUMNS);
    fputc('\n', of.f);
  }
  return out_close(&of, CLFER_OK);
}

clfer_status clfer_synth_write_ferplus_folders(const clfer_synth_data_t *d, const char *dir) {
  if (!d || !dir) return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth_write_ferplus_folders: NULL argument");
  char sub[4096], path[4096], name[32];
  clfer_status st = CLFER_OK;
  for (int u = 0; u < 3 && !st; u++) {
    if ((st = join(sub, sizeof sub, dir, k_folder[u])) || (st = make_dirs(sub)) ||
        (st = join(path, sizeof path, sub, "label.csv")))
      break;
    out_file_t of;
    if ((st = out_open(&of, path))) break;
    for (int i = 0; i < d->n && !st; i++) {
      if (d->usage[i] != u || !d->is_face[i]) continue; /* FER+ folders hold faces only */
      image_name(name, sizeof name, i);
      fprintf(of.f, "%s,\"(0, 0, %d, %d)\"", name, CLFER_SYNTH_SIZE, CLFER_SYNTH_SIZE);
      write_votes(of.f, d->votes + (size_t)i * CLFER_SYNTH_VOTE_COLUMNS);
      fputc('\n', of.f);
      if (!(st = join(path, sizeof path, sub, name)))
        st = clfer_synth_write_png(path, d->pixels + (size_t)i * NPIX, CLFER_SYNTH_SIZE, CLFER_SYNTH_SIZE);
    }
    st = out_close(&of, st);
  }
  return st;
}

clfer_status clfer_synth_write_annotator_votes(const clfer_synth_data_t *d, const char *path) {
  if (!d || !path) return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth_write_annotator_votes: NULL argument");
  out_file_t of;
  clfer_status st = out_open(&of, path);
  if (st) return st;
  fputs("image,annotator,label\n", of.f);
  char name[32];
  for (int i = 0; i < d->n; i++) {
    if (!d->is_face[i]) continue;
    image_name(name, sizeof name, i);
    for (int j = 0; j < CLFER_SYNTH_TAGGERS; j++)
      fprintf(of.f, "%s,%d,%s\n", name, d->annotator[(size_t)i * CLFER_SYNTH_TAGGERS + j],
              clfer_synth_ferplus_names[d->vote_label[(size_t)i * CLFER_SYNTH_TAGGERS + j]]);
  }
  return out_close(&of, CLFER_OK);
}

/* ---- IPA2LT ----------------------------------------------------------------------------------- */

/* Two human coders with different habits (Zeng et al.'s premise): coder A is conservative and
 * calls weak or negative faces neutral or sad; coder B reads strong emotion everywhere (neutral →
 * anger/sadness, fear → surprise, sadness → anger). Each is right with probability 1 − noise. */
static const double k_coder_bias[2][CLFER_SYNTH_EMOTIONS][CLFER_SYNTH_EMOTIONS] = {
    {/* A */
     {0, .5, 0, .5, 0, 0, 0, 0}, {.8, 0, .1, 0, 0, 0, 0, .1}, {.6, .2, 0, 0, 0, 0, .2, 0},
     {.9, 0, 0, 0, 0, 0, .1, 0},  {.5, 0, 0, .5, 0, 0, 0, 0}, {.3, 0, 0, .5, .2, 0, 0, 0},
     {.3, 0, .2, .5, 0, 0, 0, 0}, {.8, .1, 0, .1, 0, 0, 0, 0}},
    {/* B */
     {0, .2, .1, .2, .4, 0, 0, .1}, {0, 0, .8, 0, 0, 0, 0, .2}, {0, .2, 0, 0, 0, 0, .8, 0},
     {0, 0, 0, 0, .6, .1, .3, 0},   {0, 0, 0, 0, 0, .9, 0, .1}, {0, 0, 0, 0, 1, 0, 0, 0},
     {0, 0, .9, 0, .1, 0, 0, 0},    {0, .3, 0, 0, .3, .4, 0, 0}},
};
static const double k_coder_noise[2] = {0.25, 0.3};

static int argmax8(const double *p) {
  int b = 0;
  for (int k = 1; k < CLFER_SYNTH_EMOTIONS; k++)
    if (p[k] > p[b]) b = k;
  return b;
}

static int coder_label(clfer__rng_t *r, int coder, int truth) {
  if (clfer__rng_uniform(r) >= k_coder_noise[coder]) return truth;
  return clfer__rng_categorical(r, k_coder_bias[coder][truth], CLFER_SYNTH_EMOTIONS);
}

/* The paper's synthetic check (Zeng et al. §5.1: CIFAR-10 with three label sets at 20, 30 and 40 %
 * noise): every training face relabelled per set, the truth replaced with probability `rate` by
 * one of the other classes, uniformly. Its own stream, so the other files do not change. */
static const int k_noisy_percent[3] = {20, 30, 40};

static int noisy_label(uint64_t seed, uint64_t index, int set, int truth) {
  clfer__rng_t r = clfer__rng_stream(seed, index, 0x6e6f6900u + (uint32_t)set /* "noi" */);
  if (clfer__rng_uniform(&r) >= k_noisy_percent[set] / 100.0) return truth;
  int other = (int)(clfer__rng_uniform(&r) * (CLFER_SYNTH_EMOTIONS - 1));
  if (other > CLFER_SYNTH_EMOTIONS - 2) other = CLFER_SYNTH_EMOTIONS - 2;
  return other < truth ? other : other + 1;
}

clfer_status clfer_synth_write_ipa2lt(const clfer_synth_options_t *o, const char *dir) {
  if (!o || !dir) return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth_write_ipa2lt: NULL argument");
  int half = o->n_train / 2 > 0 ? o->n_train / 2 : 1;
  int sizes[4] = {half, half, half, o->n_test > 0 ? o->n_test : 1}; /* set A, set B, pool, test */
  enum { N_FILES = 7 };
  static const char *const files[N_FILES] = {"set_a.csv", "set_b.csv", "unlabelled.csv", "test.csv",
                                             "noisy_20.csv", "noisy_30.csv", "noisy_40.csv"};
  char images[4096], path[4096], rel[64];
  clfer_status st;
  if ((st = make_dirs(dir)) || (st = join(images, sizeof images, dir, "images")) || (st = make_dirs(images))) return st;
  out_file_t set[N_FILES], truth_file;
  int opened = 0;
  for (; opened < N_FILES; opened++)
    if ((st = join(path, sizeof path, dir, files[opened])) || (st = out_open(&set[opened], path))) break;
  if (!st && !(st = join(path, sizeof path, dir, "truth.csv"))) st = out_open(&truth_file, path);
  if (st) {
    for (int i = 0; i < opened; i++) out_close(&set[i], st);
    return st;
  }
  uint8_t px[NPIX];
  int row = 0;
  for (int s = 0; s < 4 && !st; s++)
    for (int i = 0; i < sizes[s] && !st; i++, row++) {
      /* faces of their own (index offset past any dataset row), same class frequencies */
      uint64_t index = ((uint64_t)1 << 40) + (uint64_t)row;
      clfer__rng_t r = clfer__rng_stream(o->seed, index, 0x69706132u /* "ipa2" */);
      int primary = clfer__rng_categorical(&r, clfer_synth_class_frequency, CLFER_SYNTH_EMOTIONS);
      float mixture[CLFER_SYNTH_EMOTIONS], intensity;
      double truth[CLFER_SYNTH_EMOTIONS];
      clfer__synth_draw_truth(&r, primary, mixture, &intensity, truth);
      if ((st = clfer_synth_render(o->seed, index, mixture, intensity, px))) break;
      snprintf(rel, sizeof rel, "images/ipa%07d.png", row);
      if ((st = join(path, sizeof path, dir, rel)) ||
          (st = clfer_synth_write_png(path, px, CLFER_SYNTH_SIZE, CLFER_SYNTH_SIZE)))
        break;
      int t = argmax8(truth);
      fprintf(truth_file.f, "%s,%s\n", rel, clfer_synth_ferplus_names[t]);
      if (s < 2)
        fprintf(set[s].f, "%s,%s\n", rel, clfer_synth_ferplus_names[coder_label(&r, s, t)]);
      else if (s == 2)
        fprintf(set[s].f, "%s\n", rel);
      else
        fprintf(set[s].f, "%s,%s\n", rel, clfer_synth_ferplus_names[t]);
      for (int k = 0; k < 3 && s < 3; k++) /* every training face, in every noisy set */
        fprintf(set[4 + k].f, "%s,%s\n", rel, clfer_synth_ferplus_names[noisy_label(o->seed, index, k, t)]);
    }
  for (int i = 0; i < N_FILES; i++) st = out_close(&set[i], st);
  return out_close(&truth_file, st);
}

/* ---- contact sheet ---------------------------------------------------------------------------- */

clfer_status clfer_synth_write_contact_sheet(uint64_t seed, const char *path) {
  enum { COLS = 8, S = CLFER_SYNTH_SIZE };
  uint8_t *sheet = malloc((size_t)CLFER_SYNTH_EMOTIONS * COLS * NPIX), face[NPIX];
  if (!sheet) return clfer_set_error(CLFER_OUT_OF_MEMORY, "synth contact sheet");
  clfer_status st = CLFER_OK;
  for (int k = 0; k < CLFER_SYNTH_EMOTIONS && !st; k++)
    for (int j = 0; j < COLS && !st; j++) {
      float mixture[CLFER_SYNTH_EMOTIONS] = {0};
      mixture[k] = 1.0f;
      float intensity = 0.9f;
      st = clfer_synth_render(seed, ((uint64_t)2 << 40) + (uint64_t)j, mixture, intensity, face); /* column = person */
      for (int y = 0; y < S && !st; y++)
        memcpy(sheet + ((size_t)(k * S + y) * COLS + j) * S, face + y * S, S);
    }
  if (!st) st = clfer_synth_write_png(path, sheet, CLFER_SYNTH_EMOTIONS * S, COLS * S);
  free(sheet);
  return st;
}

/* ---- everything ------------------------------------------------------------------------------- */

clfer_status clfer_synth_run(const clfer_synth_options_t *o, const char *out_dir) {
  if (!o || !out_dir) return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth: NULL options or directory");
  clfer_status st = make_dirs(out_dir);
  if (st) return st;
  clfer_synth_data_t d;
  if ((st = clfer_synth_generate(o, &d))) return st;
  char path[4096];
  if (!(st = join(path, sizeof path, out_dir, "fer2013.csv"))) st = clfer_synth_write_fer2013(&d, path);
  if (!st && !(st = join(path, sizeof path, out_dir, "fer2013new.csv"))) st = clfer_synth_write_ferplus(&d, path);
  if (!st && o->ferplus_folders) st = clfer_synth_write_ferplus_folders(&d, out_dir);
  if (!st && o->annotator_votes && !(st = join(path, sizeof path, out_dir, "annotator_votes.csv")))
    st = clfer_synth_write_annotator_votes(&d, path);
  if (!st && o->ipa2lt && !(st = join(path, sizeof path, out_dir, "ipa2lt"))) st = clfer_synth_write_ipa2lt(o, path);
  if (!st && o->contact_sheet) st = clfer_synth_write_contact_sheet(o->seed, o->contact_sheet);
  clfer_synth_data_free(&d);
  return st;
}
