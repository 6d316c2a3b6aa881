/* read_fer.c — readers for FER2013 `fer2013.csv`, FER+ `fer2013new.csv` (read alone or aligned
 * with fer2013.csv) and the FER+ repository's folder form (FER2013Train|Valid|Test/label.csv +
 * PNGs). Every malformed row is an error naming the file and line (METHODS.md, "Datasets"). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_internal.h"

#define FER_SIDE 48
#define FER_PIXELS (FER_SIDE * FER_SIDE)
/* A vote count above this is treated as corrupt input (FER+ has 10 taggers per image). */
#define FERPLUS_MAX_VOTE 1000.0

static int find_col(clfer__csv_t *c, const char *name) {
  for (int i = 0; i < c->nfields; i++)
    if (clfer__strieq(c->fields[i], name)) return i;
  return -1;
}

static clfer_status need_header(clfer__csv_t *c, const char *what) {
  int r = clfer__csv_next(c);
  if (r < 0) return CLFER_PARSE_ERROR;
  if (r == 0) return clfer_set_error(CLFER_PARSE_ERROR, "%s:1: empty file (expected the %s header)", c->name, what);
  return CLFER_OK;
}

/* Store size and channels for 48×48 gray FER images under the options. */
static void fer_dims(const clfer_read_options_t *opt, int *h, int *w, int *ch) {
  *h = opt && opt->height > 0 ? opt->height : FER_SIDE;
  *w = opt && opt->width > 0 ? opt->width : FER_SIDE;
  *ch = opt && opt->channels ? opt->channels : 1;
}

clfer_status clfer__parse_ferplus_votes(clfer__csv_t *c, char **fields, float *votes) {
  for (int k = 0; k < 10; k++) {
    double v;
    if (clfer__parse_float(fields[k], &v))
      return clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: vote column '%s': '%s' is not a number", c->name, c->line,
                             clfer_classes_ferplus[k], fields[k]);
    if (v < 0 || v > FERPLUS_MAX_VOTE)
      return clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: vote column '%s': %g is outside 0..%g", c->name, c->line,
                             clfer_classes_ferplus[k], v, FERPLUS_MAX_VOTE);
    votes[k] = (float)v;
  }
  return CLFER_OK;
}

/* Columns of fer2013new.csv found from its header. */
typedef struct plus_cols {
  int usage, name, votes[10], need;
} plus_cols_t;

static clfer_status plus_header(clfer__csv_t *p, plus_cols_t *pc) {
  clfer_status st = need_header(p, "FER+ (Usage,Image name,neutral,...,NF)");
  if (st) return st;
  pc->usage = find_col(p, "Usage");
  pc->name = find_col(p, "Image name");
  if (pc->usage < 0 || pc->name < 0)
    return clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: missing column '%s' in the header", p->name, p->line,
                           pc->usage < 0 ? "Usage" : "Image name");
  pc->need = pc->usage > pc->name ? pc->usage : pc->name;
  for (int k = 0; k < 10; k++) {
    pc->votes[k] = find_col(p, clfer_classes_ferplus[k]);
    if (pc->votes[k] < 0)
      return clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: missing column '%s' in the header", p->name, p->line,
                             clfer_classes_ferplus[k]);
    if (pc->votes[k] > pc->need) pc->need = pc->votes[k];
  }
  pc->need++;
  return CLFER_OK;
}

/* One FER+ row: split, name (may be empty) and votes. */
static clfer_status plus_row(clfer__csv_t *p, const plus_cols_t *pc, clfer_split_t *split, const char **name,
                             float votes[10]) {
  if (p->nfields < pc->need)
    return clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: expected %d columns, got %d", p->name, p->line, pc->need,
                           p->nfields);
  if (clfer_split_parse(p->fields[pc->usage], split))
    return clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: Usage '%s' is not Training, PublicTest or PrivateTest", p->name,
                           p->line, p->fields[pc->usage]);
  *name = p->fields[pc->name];
  while (**name == ' ') (*name)++;
  char *vf[10];
  for (int k = 0; k < 10; k++) vf[k] = p->fields[pc->votes[k]];
  return clfer__parse_ferplus_votes(p, vf, votes);
}

clfer_status clfer__read_ferplus_votes_csv(clfer__csv_t *p, int skipped_no_name[CLFER_SPLIT_COUNT],
                                           clfer_store_t **out) {
  *out = NULL;
  if (skipped_no_name) memset(skipped_no_name, 0, sizeof(int) * CLFER_SPLIT_COUNT);
  plus_cols_t pc;
  clfer_status st = plus_header(p, &pc);
  if (st) return st;
  clfer_store_desc_t d = {0};
  d.num_classes = 8;
  d.vote_width = 10;
  d.class_names = clfer_classes_ferplus;
  clfer_store_t *s = NULL;
  if ((st = clfer_store_create(&d, &s))) return st;
  int r;
  while ((r = clfer__csv_next(p)) > 0) {
    clfer_split_t split;
    const char *name = NULL;
    float votes[10];
    if ((st = plus_row(p, &pc, &split, &name, votes))) goto fail;
    if (!*name) {
      if (skipped_no_name) skipped_no_name[split]++;
      continue;
    }
    if ((st = clfer_store_append(s, NULL, votes, -1, NULL, split, CLFER_DATASET_FERPLUS, -1, name, NULL))) goto fail;
  }
  if (r < 0) {
    st = CLFER_PARSE_ERROR;
    goto fail;
  }
  *out = s;
  return CLFER_OK;
fail:
  clfer_store_destroy(s);
  return st;
}

clfer_status clfer_read_ferplus_votes(const char *path, int skipped_no_name[CLFER_SPLIT_COUNT], clfer_store_t **out) {
  *out = NULL;
  clfer__csv_t c;
  clfer_status st = clfer__csv_open(&c, path, ',');
  if (st) return st;
  st = clfer__read_ferplus_votes_csv(&c, skipped_no_name, out);
  clfer__csv_close(&c);
  return st;
}

clfer_status clfer__read_fer2013_csv(clfer__csv_t *f, clfer__csv_t *p, const clfer_read_options_t *opt,
                                     clfer_store_t **out) {
  *out = NULL;
  clfer_status st = need_header(f, "FER2013 (emotion,pixels,Usage)");
  if (st) return st;
  int ce = find_col(f, "emotion"), cp = find_col(f, "pixels"), cu = find_col(f, "Usage");
  if (ce < 0 || cp < 0 || cu < 0)
    return clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: missing column '%s' in the header (emotion,pixels,Usage)",
                           f->name, f->line, ce < 0 ? "emotion" : cp < 0 ? "pixels" : "Usage");
  int need = (ce > cp ? ce : cp);
  need = (need > cu ? need : cu) + 1;
  plus_cols_t pc;
  if (p && (st = plus_header(p, &pc))) return st;

  int h, w, ch;
  fer_dims(opt, &h, &w, &ch);
  clfer_store_desc_t d = {0};
  d.height = h;
  d.width = w;
  d.channels = ch;
  if (p) {
    d.num_classes = 8;
    d.vote_width = 10;
    d.class_names = clfer_classes_ferplus;
  } else {
    d.num_classes = 7;
    d.class_names = clfer_classes_fer2013;
  }
  clfer_store_t *s = NULL;
  if ((st = clfer_store_create(&d, &s))) return st;
  uint8_t raw[FER_PIXELS];
  uint8_t *conv = NULL;
  int convert = h != FER_SIDE || w != FER_SIDE || ch != 1;
  if (convert && !(conv = malloc((size_t)h * w * ch))) {
    st = clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of memory", f->name);
    goto fail;
  }
  int max = opt && opt->max_samples > 0 ? opt->max_samples : 0;
  long row = 0;
  for (;;) {
    int r = clfer__csv_next(f);
    if (r < 0) {
      st = CLFER_PARSE_ERROR;
      goto fail;
    }
    if (p) {
      int rp = clfer__csv_next(p);
      if (rp < 0) {
        st = CLFER_PARSE_ERROR;
        goto fail;
      }
      if (r != rp) {
        st = clfer_set_error(CLFER_PARSE_ERROR, "%s and %s have different row counts: %s ends at data row %ld",
                             f->name, p->name, r ? p->name : f->name, row + 1);
        goto fail;
      }
    }
    if (r == 0) break;
    row++;
    if (f->nfields < need) {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: expected %d columns, got %d", f->name, f->line, need,
                           f->nfields);
      goto fail;
    }
    long emotion;
    if (clfer__parse_int(f->fields[ce], 0, 6, &emotion)) {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: emotion '%s' is not an integer 0..6", f->name, f->line,
                           f->fields[ce]);
      goto fail;
    }
    clfer_split_t split;
    if (clfer_split_parse(f->fields[cu], &split)) {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: Usage '%s' is not Training, PublicTest or PrivateTest",
                           f->name, f->line, f->fields[cu]);
      goto fail;
    }
    char why[128];
    if (clfer__parse_pixels(f->fields[cp], raw, FER_PIXELS, why, sizeof why)) {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: %s", f->name, f->line, why);
      goto fail;
    }
    const uint8_t *img = raw;
    if (convert) {
      clfer_image_t im = {FER_SIDE, FER_SIDE, 1, raw};
      if ((st = clfer_image_convert(&im, w, h, ch, conv))) goto fail;
      img = conv;
    }
    char name[64];
    snprintf(name, sizeof name, "fer%07ld", row - 1);
    if (p) {
      clfer_split_t psplit;
      const char *pname = NULL;
      float votes[10];
      if ((st = plus_row(p, &pc, &psplit, &pname, votes))) goto fail;
      if (psplit != split) {
        st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: Usage '%s' disagrees with %s:%ld ('%s'): rows not aligned",
                             p->name, p->line, p->fields[pc.usage], f->name, f->line, f->fields[cu]);
        goto fail;
      }
      if (!*pname) continue; /* FER+ found no face here */
      st = clfer_store_append(s, img, votes, -1, NULL, split, CLFER_DATASET_FERPLUS, -1, pname, NULL);
    } else {
      st = clfer_store_append(s, img, NULL, (int)emotion, NULL, split, CLFER_DATASET_FER2013, -1, name, NULL);
    }
    if (st) goto fail;
    if (max && s->n >= max) break;
  }
  free(conv);
  *out = s;
  return CLFER_OK;
fail:
  free(conv);
  clfer_store_destroy(s);
  return st;
}

clfer_status clfer_read_fer2013(const char *fer2013_csv, const char *ferplus_csv, const clfer_read_options_t *opt,
                                clfer_store_t **out) {
  *out = NULL;
  if (opt && opt->channels && opt->channels != 1 && opt->channels != 3)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "read fer2013: channels must be 1 or 3");
  clfer__csv_t f, p;
  clfer_status st = clfer__csv_open(&f, fer2013_csv, ',');
  if (st) return st;
  if (ferplus_csv && (st = clfer__csv_open(&p, ferplus_csv, ','))) {
    clfer__csv_close(&f);
    return st;
  }
  st = clfer__read_fer2013_csv(&f, ferplus_csv ? &p : NULL, opt, out);
  clfer__csv_close(&f);
  if (ferplus_csv) clfer__csv_close(&p);
  return st;
}

/* ---- FER+ folders ---------------------------------------------------------------------------- */
/* The face box "(l, t, r, b)": four integers. The reference code ignores it (the PNGs are the
 * 48×48 crops already); clfer checks its form only. */
static int parse_box(const char *s) {
  const char *q = s;
  while (*q == ' ') q++;
  if (*q++ != '(') return -1;
  for (int i = 0; i < 4; i++) {
    char *end;
    (void)strtol(q, &end, 10);
    if (end == q) return -1;
    q = end;
    while (*q == ' ') q++;
    if (*q != (i < 3 ? ',' : ')')) return -1;
    q++;
  }
  while (*q == ' ') q++;
  return *q ? -1 : 0;
}

clfer_status clfer__read_ferplus_label_csv(clfer__csv_t *c, const char *dir, int split, const clfer_read_options_t *opt,
                                           clfer_store_t *s) {
  uint8_t *scratch = NULL;
  clfer_status st = CLFER_OK;
  int r;
  int max = opt && opt->max_samples > 0 ? opt->max_samples : 0;
  while ((r = clfer__csv_next(c)) > 0) {
    if (max && s->n >= max) break;
    int vstart;
    if (c->nfields == 12) {
      if (parse_box(c->fields[1])) {
        st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: face box '%s' is not \"(left, top, right, bottom)\"", c->name,
                             c->line, c->fields[1]);
        break;
      }
      vstart = 2;
    } else if (c->nfields == 11) {
      vstart = 1;
    } else {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: expected 12 fields (file, box, 10 votes), got %d", c->name,
                           c->line, c->nfields);
      break;
    }
    const char *file = c->fields[0];
    if (!*file || strchr(file, '/') || !strcmp(file, "..")) {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: bad image file name '%s'", c->name, c->line, file);
      break;
    }
    float votes[10];
    if ((st = clfer__parse_ferplus_votes(c, c->fields + vstart, votes))) break;
    if (dir) {
      char *path = clfer__path_join(dir, file);
      if (!path) {
        st = clfer_set_error(CLFER_OUT_OF_MEMORY, "out of memory");
        break;
      }
      st = clfer__load_into(s, path, opt, 1, &scratch);
      free(path);
      if (st) {
        clfer_wrap_error(st, "%s:%ld: ", c->name, c->line);
        break;
      }
    }
    if ((st = clfer_store_append(s, scratch, votes, -1, NULL, split, CLFER_DATASET_FERPLUS, -1, file, NULL))) break;
  }
  if (r < 0) st = CLFER_PARSE_ERROR;
  free(scratch);
  return st;
}

clfer_status clfer_read_ferplus_folders(const char *root, const clfer_read_options_t *opt, clfer_store_t **out) {
  *out = NULL;
  static const char *const folders[3] = {"FER2013Train", "FER2013Valid", "FER2013Test"};
  clfer_store_desc_t d = {0};
  d.num_classes = 8;
  d.vote_width = 10;
  d.class_names = clfer_classes_ferplus;
  clfer_store_t *s = NULL;
  clfer_status st = clfer_store_create(&d, &s);
  if (st) return st;
  int found = 0;
  for (int k = 0; k < 3 && !st; k++) {
    char *dir = clfer__path_join(root, folders[k]);
    char *label = dir ? clfer__path_join(dir, "label.csv") : NULL;
    if (!label) {
      free(dir);
      st = clfer_set_error(CLFER_OUT_OF_MEMORY, "out of memory");
      break;
    }
    if (clfer__file_exists(label)) {
      found++;
      clfer__csv_t c;
      if (!(st = clfer__csv_open(&c, label, ','))) {
        st = clfer__read_ferplus_label_csv(&c, dir, k, opt, s);
        clfer__csv_close(&c);
      }
    }
    free(label);
    free(dir);
  }
  if (!st && !found)
    st = clfer_set_error(CLFER_NOT_FOUND, "%s: none of FER2013Train/label.csv, FER2013Valid/label.csv, "
                                          "FER2013Test/label.csv exists", root);
  if (st) {
    clfer_store_destroy(s);
    return st;
  }
  *out = s;
  return CLFER_OK;
}
