/* read_images.c — readers of datasets stored as image files: RAF-DB basic, CK+, and image folders
 * (ROOT/<class>/ files, or a CSV `file,label` / `file,v1..vK`), plus the shared image loader
 * that fixes a store's image size from its first image or resizes to the requested one. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_internal.h"

clfer_status clfer__load_into(clfer_store_t *s, const char *path, const clfer_read_options_t *opt,
                              int default_channels, uint8_t **scratch) {
  clfer_image_t img;
  clfer_status st = clfer_image_load(path, &img);
  if (st) return st;
  int resize = opt && opt->width > 0 && opt->height > 0;
  if (s->height == 0) {
    int h = resize ? opt->height : img.height, w = resize ? opt->width : img.width;
    int ch = opt && opt->channels ? opt->channels : default_channels ? default_channels : img.channels;
    if (ch != 1 && ch != 3) {
      clfer_image_free(&img);
      return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: channels must be 1 or 3", path);
    }
    s->height = h;
    s->width = w;
    s->channels = ch;
    if (s->capacity) {
      uint8_t *p = realloc(s->images, (size_t)s->capacity * clfer_store_image_size(s));
      if (!p) {
        clfer_image_free(&img);
        return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of memory", path);
      }
      s->images = p;
    }
  } else if (!resize && (img.width != s->width || img.height != s->height)) {
    st = clfer_set_error(CLFER_SHAPE_MISMATCH,
                         "%s: image is %dx%d but the dataset's images are %dx%d (set a size to resize to)", path,
                         img.width, img.height, s->width, s->height);
    clfer_image_free(&img);
    return st;
  }
  uint8_t *p = realloc(*scratch, clfer_store_image_size(s));
  if (!p) {
    clfer_image_free(&img);
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  *scratch = p;
  st = clfer_image_convert(&img, s->width, s->height, s->channels, p);
  clfer_image_free(&img);
  return st;
}

static int has_image_ext(const char *name) {
  const char *dot = strrchr(name, '.');
  return dot && (clfer__strieq(dot, ".png") || clfer__strieq(dot, ".jpg") || clfer__strieq(dot, ".jpeg"));
}

/* ---- RAF-DB ---------------------------------------------------------------------------------- */
typedef struct dist_entry {
  char *name;
  float v[7];
  long line;
} dist_entry_t;

static int cmp_dist(const void *a, const void *b) {
  return strcmp(((const dist_entry_t *)a)->name, ((const dist_entry_t *)b)->name);
}

static void free_dist(dist_entry_t *d, int n) {
  for (int i = 0; i < n; i++) free(d[i].name);
  free(d);
}

static clfer_status read_distribution(const char *path, dist_entry_t **out, int *count) {
  *out = NULL;
  *count = 0;
  clfer__csv_t c;
  clfer_status st = clfer__csv_open(&c, path, ' ');
  if (st) return st;
  dist_entry_t *d = NULL;
  int n = 0, cap = 0, r;
  while ((r = clfer__csv_next(&c)) > 0) {
    if (c.nfields != 8) {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: expected 'name v1 .. v7', got %d fields", path, c.line,
                           c.nfields);
      break;
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 1024;
      dist_entry_t *p = realloc(d, sizeof *p * (size_t)cap);
      if (!p) {
        st = clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of memory", path);
        break;
      }
      d = p;
    }
    d[n].line = c.line;
    double sum = 0;
    for (int k = 0; k < 7 && !st; k++) {
      double v;
      if (clfer__parse_float(c.fields[k + 1], &v) || v < 0 || v > 1e6)
        st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: value %d '%s' is not a number in 0..1e6", path, c.line, k + 1,
                             c.fields[k + 1]);
      d[n].v[k] = (float)v;
      sum += v;
    }
    if (st) break;
    if (!(d[n].name = clfer__strdup(c.fields[0]))) {
      st = clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of memory", path);
      break;
    }
    n++;
  }
  if (r < 0) st = CLFER_PARSE_ERROR;
  clfer__csv_close(&c);
  if (st) {
    free_dist(d, n);
    return st;
  }
  if (n) qsort(d, (size_t)n, sizeof *d, cmp_dist);
  for (int i = 1; i < n; i++)
    if (!strcmp(d[i].name, d[i - 1].name)) {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: '%s' listed twice", path, d[i].line, d[i].name);
      free_dist(d, n);
      return st;
    }
  *out = d;
  *count = n;
  return CLFER_OK;
}

clfer_status clfer_read_rafdb(const char *root, const char *distribution_file, const clfer_read_options_t *opt,
                              clfer_store_t **out) {
  *out = NULL;
  /* The real file name carries the misspelling "patition"; the correct one is accepted too. */
  char *list = clfer__path_join(root, "EmoLabel/list_patition_label.txt");
  if (list && !clfer__file_exists(list)) {
    char *alt = clfer__path_join(root, "EmoLabel/list_partition_label.txt");
    if (alt && clfer__file_exists(alt)) {
      free(list);
      list = alt;
    } else {
      free(alt);
    }
  }
  char *imgdir = clfer__path_join(root, "Image/aligned");
  dist_entry_t *dist = NULL;
  int ndist = 0;
  clfer_store_t *s = NULL;
  uint8_t *scratch = NULL;
  clfer__csv_t c = {0};
  int opened = 0;
  clfer_status st = CLFER_OK;
  if (!list || !imgdir) {
    st = clfer_set_error(CLFER_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  if (distribution_file && (st = read_distribution(distribution_file, &dist, &ndist))) goto done;
  clfer_store_desc_t d = {0};
  d.num_classes = 7;
  d.vote_width = distribution_file ? 7 : 0;
  d.class_names = clfer_classes_rafdb;
  if ((st = clfer_store_create(&d, &s))) goto done;
  if ((st = clfer__csv_open(&c, list, ' '))) goto done;
  opened = 1;
  int r, max = opt && opt->max_samples > 0 ? opt->max_samples : 0;
  while ((r = clfer__csv_next(&c)) > 0) {
    if (max && s->n >= max) break;
    if (c.nfields != 2) {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: expected 'name label', got %d fields", list, c.line, c.nfields);
      goto done;
    }
    const char *name = c.fields[0];
    long label;
    if (clfer__parse_int(c.fields[1], 1, 7, &label)) {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: label '%s' is not an integer 1..7", list, c.line, c.fields[1]);
      goto done;
    }
    int split;
    if (!strncmp(name, "train_", 6))
      split = CLFER_SPLIT_TRAIN;
    else if (!strncmp(name, "test_", 5))
      split = CLFER_SPLIT_TEST;
    else {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: image '%s' has neither the train_ nor the test_ prefix", list,
                           c.line, name);
      goto done;
    }
    if (strchr(name, '/')) {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: bad image name '%s'", list, c.line, name);
      goto done;
    }
    const float *votes = NULL;
    if (dist) {
      dist_entry_t key = {(char *)name, {0}, 0};
      dist_entry_t *e = bsearch(&key, dist, (size_t)ndist, sizeof *dist, cmp_dist);
      if (!e) {
        st = clfer_set_error(CLFER_NOT_FOUND, "%s:%ld: image '%s' has no line in %s", list, c.line, name,
                             distribution_file);
        goto done;
      }
      votes = e->v;
    }
    /* train_00001.jpg → Image/aligned/train_00001_aligned.jpg */
    char file[512];
    const char *dot = strrchr(name, '.');
    int stem = dot ? (int)(dot - name) : (int)strlen(name);
    if (snprintf(file, sizeof file, "%s/%.*s_aligned.jpg", imgdir, stem, name) >= (int)sizeof file) {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: image name too long", list, c.line);
      goto done;
    }
    if ((st = clfer__load_into(s, file, opt, 3, &scratch))) {
      clfer_wrap_error(st, "%s:%ld: ", list, c.line);
      goto done;
    }
    if ((st = clfer_store_append(s, scratch, votes, (int)label - 1, NULL, split, CLFER_DATASET_RAFDB, -1, name, NULL)))
      goto done;
  }
  if (r < 0) st = CLFER_PARSE_ERROR;
done:
  if (opened) clfer__csv_close(&c);
  free(list);
  free(imgdir);
  free_dist(dist, ndist);
  free(scratch);
  if (st) {
    clfer_store_destroy(s);
    return st;
  }
  *out = s;
  return CLFER_OK;
}

/* ---- CK+ ------------------------------------------------------------------------------------- */
/* "   3.0000000e+00" → 3; must be an integer 0..7. */
static clfer_status ck_label(const char *path, int *label) {
  uint8_t *data;
  size_t size;
  clfer_status st = clfer__read_file(path, 4096, &data, &size);
  if (st) return st;
  char buf[256];
  size_t n = size < sizeof buf - 1 ? size : sizeof buf - 1;
  memcpy(buf, data, n);
  buf[n] = '\0';
  free(data);
  if (size >= sizeof buf || strlen(buf) != size)
    return clfer_set_error(CLFER_PARSE_ERROR, "%s:1: not a CK+ emotion file (one number expected)", path);
  /* trimmed for the message; the parse allows surrounding spaces anyway */
  char *t = buf;
  while (isspace((unsigned char)*t)) t++;
  for (size_t e = strlen(t); e > 0 && isspace((unsigned char)t[e - 1]); e--) t[e - 1] = '\0';
  double v;
  if (clfer__parse_float(t, &v) || v < 0 || v > 7 || v != floor(v))
    return clfer_set_error(CLFER_PARSE_ERROR, "%s:1: emotion '%s' is not a label 0..7", path, t);
  *label = (int)v;
  return CLFER_OK;
}

clfer_status clfer_read_ckplus(const char *root, const clfer_read_options_t *opt, clfer_store_t **out) {
  *out = NULL;
  char *emo = clfer__path_join(root, "Emotion");
  char *imgs = clfer__path_join(root, "cohn-kanade-images");
  char **subjects = NULL;
  int nsub = 0;
  clfer_store_t *s = NULL;
  uint8_t *scratch = NULL;
  clfer_status st = CLFER_OK;
  if (!emo || !imgs) {
    st = clfer_set_error(CLFER_OUT_OF_MEMORY, "out of memory");
    goto done;
  }
  clfer_store_desc_t d = {0};
  d.num_classes = 8;
  d.class_names = clfer_classes_ckplus;
  if ((st = clfer_store_create(&d, &s))) goto done;
  if ((st = clfer__list_dir(emo, &subjects, &nsub))) goto done;
  int split = opt ? opt->default_split : 0;
  int max = opt && opt->max_samples > 0 ? opt->max_samples : 0;
  for (int i = 0; i < nsub && !st && !(max && s->n >= max); i++) {
    if (subjects[i][0] == '.') continue;
    char *sdir = clfer__path_join(emo, subjects[i]);
    char **seqs = NULL;
    int nseq = 0;
    if (!sdir || !clfer__is_dir(sdir)) {
      free(sdir);
      continue;
    }
    int group = -1;
    if (subjects[i][0] == 'S' || subjects[i][0] == 's') group = atoi(subjects[i] + 1);
    st = clfer__list_dir(sdir, &seqs, &nseq);
    for (int j = 0; j < nseq && !st && !(max && s->n >= max); j++) {
      if (seqs[j][0] == '.') continue;
      char rel[1024], path[2048];
      snprintf(rel, sizeof rel, "%s/%s", subjects[i], seqs[j]);
      snprintf(path, sizeof path, "%s/%s", emo, rel);
      char **files = NULL;
      int nf = 0;
      if (!clfer__is_dir(path)) continue;
      if ((st = clfer__list_dir(path, &files, &nf))) break;
      const char *label_file = NULL;
      for (int k = 0; k < nf; k++) {
        size_t L = strlen(files[k]);
        if (L > 12 && !strcmp(files[k] + L - 12, "_emotion.txt")) {
          if (label_file) {
            st = clfer_set_error(CLFER_PARSE_ERROR, "%s: two emotion files (%s, %s)", path, label_file, files[k]);
            break;
          }
          label_file = files[k];
        }
      }
      if (!st && label_file) { /* only labelled sequences are used (327 of 593 in CK+) */
        char lpath[3072], frame[512];
        snprintf(lpath, sizeof lpath, "%s/%s", path, label_file);
        int label = 0;
        st = ck_label(lpath, &label);
        snprintf(frame, sizeof frame, "%.*s.png", (int)(strlen(label_file) - 12), label_file);
        char idir[2048];
        snprintf(idir, sizeof idir, "%s/%s", imgs, rel);
        char **frames = NULL;
        int nfr = 0;
        if (!st) st = clfer__list_dir(idir, &frames, &nfr);
        const char *first = NULL;
        for (int k = 0; k < nfr && !first; k++)
          if (frames[k][0] != '.' && has_image_ext(frames[k])) first = frames[k];
        if (!st && !first) st = clfer_set_error(CLFER_NOT_FOUND, "%s: no image frames for %s", idir, lpath);
        /* The labelled (peak) frame carries the label; the sequence's first frame is neutral. */
        for (int pass = 0; pass < 2 && !st; pass++) {
          const char *fname = pass == 0 ? frame : first;
          char ipath[3072], name[1600];
          snprintf(ipath, sizeof ipath, "%s/%s", idir, fname);
          snprintf(name, sizeof name, "%s/%s", rel, fname);
          if ((st = clfer__load_into(s, ipath, opt, 1, &scratch))) {
            clfer_wrap_error(st, "%s: ", lpath);
            break;
          }
          st = clfer_store_append(s, scratch, NULL, pass == 0 ? label : 0, NULL, split, CLFER_DATASET_CKPLUS, group,
                                  name, NULL);
          if (pass == 0 && !strcmp(fname, first)) break; /* one-frame sequence */
        }
        clfer__free_list(frames, nfr);
      }
      clfer__free_list(files, nf);
    }
    clfer__free_list(seqs, nseq);
    free(sdir);
  }
  if (!st && s->n == 0) st = clfer_set_error(CLFER_NOT_FOUND, "%s: no labelled CK+ sequences found", emo);
done:
  clfer__free_list(subjects, nsub);
  free(emo);
  free(imgs);
  free(scratch);
  if (st) {
    clfer_store_destroy(s);
    return st;
  }
  *out = s;
  return CLFER_OK;
}

/* ---- image folders --------------------------------------------------------------------------- */
static int class_lookup(char **names, int n, const char *name) {
  for (int k = 0; k < n; k++)
    if (clfer_class_same(names[k], name)) return k;
  return -1;
}

/* ROOT/<class>/files. */
static clfer_status read_class_dirs(const char *root, const char *const *class_names, int num_classes,
                                    const clfer_read_options_t *opt, clfer_store_t **out) {
  char **entries = NULL, **classes = NULL;
  int nent = 0, ncls = 0;
  clfer_store_t *s = NULL;
  uint8_t *scratch = NULL;
  clfer_status st = clfer__list_dir(root, &entries, &nent);
  if (st) return st;
  if (class_names) {
    if (!(classes = calloc((size_t)num_classes, sizeof(char *)))) goto oom;
    for (int k = 0; k < num_classes; k++)
      if (!(classes[k] = clfer__strdup(class_names[k]))) goto oom;
    ncls = num_classes;
    for (int i = 0; i < nent; i++) {
      char *p = clfer__path_join(root, entries[i]);
      if (!p) goto oom;
      int dir = entries[i][0] != '.' && clfer__is_dir(p);
      free(p);
      if (dir && class_lookup(classes, ncls, entries[i]) < 0) {
        st = clfer_set_error(CLFER_NOT_FOUND, "%s/%s: unknown class name '%s'", root, entries[i], entries[i]);
        goto done;
      }
    }
  } else {
    if (!(classes = calloc((size_t)(nent > 0 ? nent : 1), sizeof(char *)))) goto oom;
    for (int i = 0; i < nent; i++) {
      char *p = clfer__path_join(root, entries[i]);
      if (!p) goto oom;
      if (entries[i][0] != '.' && clfer__is_dir(p)) {
        if (!(classes[ncls] = clfer__strdup(entries[i]))) {
          free(p);
          goto oom;
        }
        ncls++;
      }
      free(p);
    }
    if (!ncls) {
      st = clfer_set_error(CLFER_NOT_FOUND, "%s: no class sub-folders", root);
      goto done;
    }
  }
  clfer_store_desc_t d = {0};
  d.num_classes = ncls;
  d.class_names = (const char *const *)classes;
  if ((st = clfer_store_create(&d, &s))) goto done;
  int split = opt ? opt->default_split : 0;
  int max = opt && opt->max_samples > 0 ? opt->max_samples : 0;
  for (int i = 0; i < nent && !st; i++) {
    int k = class_lookup(classes, ncls, entries[i]);
    char *dir = clfer__path_join(root, entries[i]);
    if (!dir) goto oom;
    if (k < 0 || entries[i][0] == '.' || !clfer__is_dir(dir)) {
      free(dir);
      continue;
    }
    char **files = NULL;
    int nf = 0;
    st = clfer__list_dir(dir, &files, &nf);
    for (int j = 0; j < nf && !st && !(max && s->n >= max); j++) {
      if (files[j][0] == '.' || !has_image_ext(files[j])) continue;
      char *path = clfer__path_join(dir, files[j]);
      char name[1024];
      snprintf(name, sizeof name, "%s/%s", entries[i], files[j]);
      if (!path) st = clfer_set_error(CLFER_OUT_OF_MEMORY, "out of memory");
      if (!st) st = clfer__load_into(s, path, opt, 0, &scratch);
      if (!st) st = clfer_store_append(s, scratch, NULL, k, NULL, split, CLFER_DATASET_FOLDER, -1, name, NULL);
      free(path);
    }
    clfer__free_list(files, nf);
    free(dir);
  }
  if (!st && s->n == 0) st = clfer_set_error(CLFER_NOT_FOUND, "%s: no .png/.jpg images in the class folders", root);
  goto done;
oom:
  st = clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of memory", root);
done:
  clfer__free_list(entries, nent);
  clfer__free_list(classes, class_names ? num_classes : ncls);
  free(scratch);
  if (st) {
    clfer_store_destroy(s);
    return st;
  }
  *out = s;
  return CLFER_OK;
}

/* A CSV beside the images: `file,label` or `file,v1..vK`, optional header row starting "file". */
static clfer_status read_folder_csv(const char *root, const char *csv, const char *const *class_names, int num_classes,
                                    const clfer_read_options_t *opt, clfer_store_t **out) {
  clfer__csv_t c;
  clfer_status st = clfer__csv_open(&c, csv, ',');
  if (st) return st;
  clfer_store_t *s = NULL;
  char **header = NULL;
  int nheader = 0;
  uint8_t *scratch = NULL;
  float *votes = NULL;
  int r = clfer__csv_next(&c);
  if (r <= 0) {
    st = r < 0 ? CLFER_PARSE_ERROR : clfer_set_error(CLFER_PARSE_ERROR, "%s:1: empty file", csv);
    goto done;
  }
  int has_header = clfer__strieq(c.fields[0], "file") || clfer__strieq(c.fields[0], "image") ||
                   clfer__strieq(c.fields[0], "filename");
  int width = c.nfields;
  if (width < 2) {
    st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: expected file,label or file,v1..vK", csv, c.line);
    goto done;
  }
  int vote_form = width > 2 || (has_header && width == 2 && class_names && num_classes == 1);
  const char *const *names = class_names;
  int k = num_classes;
  if (has_header && vote_form) {
    nheader = width - 1;
    if (!(header = calloc((size_t)nheader, sizeof(char *)))) goto oom;
    for (int i = 0; i < nheader; i++)
      if (!(header[i] = clfer__strdup(c.fields[i + 1]))) goto oom;
    if (class_names) { /* must agree with the given list */
      if (num_classes != nheader) {
        st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: header has %d classes, expected %d", csv, c.line, nheader,
                             num_classes);
        goto done;
      }
      for (int i = 0; i < nheader; i++)
        if (!clfer_class_same(header[i], class_names[i])) {
          st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: header column %d is '%s', expected '%s'", csv, c.line, i + 2,
                               header[i], class_names[i]);
          goto done;
        }
    }
    if (!class_names) { /* with a class list, the store takes the caller's spelling */
      names = (const char *const *)header;
      k = nheader;
    }
  }
  if (!names) {
    st = clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: class names are needed (give a class list or a header row)",
                         csv);
    goto done;
  }
  if (vote_form && width - 1 != k) {
    st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: %d vote columns but %d classes", csv, c.line, width - 1, k);
    goto done;
  }
  clfer_store_desc_t d = {0};
  d.num_classes = k;
  d.vote_width = vote_form ? k : 0;
  d.class_names = names;
  if ((st = clfer_store_create(&d, &s))) goto done;
  if (vote_form && !(votes = malloc(sizeof(float) * (size_t)k))) goto oom;
  int split = opt ? opt->default_split : 0;
  int max = opt && opt->max_samples > 0 ? opt->max_samples : 0;
  if (has_header) r = clfer__csv_next(&c);
  for (; r > 0; r = clfer__csv_next(&c)) {
    if (max && s->n >= max) break;
    if (c.nfields != width) {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: expected %d fields, got %d", csv, c.line, width, c.nfields);
      goto done;
    }
    int label = -1;
    if (vote_form) {
      for (int j = 0; j < k; j++) {
        double v;
        if (clfer__parse_float(c.fields[j + 1], &v) || v < 0 || v > 1e6) {
          st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: vote %d '%s' is not a number in 0..1e6", csv, c.line, j + 1,
                               c.fields[j + 1]);
          goto done;
        }
        votes[j] = (float)v;
      }
    } else {
      long idx;
      if (!clfer__parse_int(c.fields[1], 0, k - 1, &idx))
        label = (int)idx;
      else if ((label = clfer_store_class_index(s, c.fields[1])) < 0) {
        st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: unknown class name '%s'", csv, c.line, c.fields[1]);
        goto done;
      }
    }
    const char *file = c.fields[0];
    if (!*file || strstr(file, "..")) {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: bad file name '%s'", csv, c.line, file);
      goto done;
    }
    char *path = clfer__path_join(root, file);
    if (!path) goto oom;
    st = clfer__load_into(s, path, opt, 0, &scratch);
    free(path);
    if (st) {
      clfer_wrap_error(st, "%s:%ld: ", csv, c.line);
      goto done;
    }
    if ((st = clfer_store_append(s, scratch, votes, label, NULL, split, CLFER_DATASET_FOLDER, -1, file, NULL)))
      goto done;
  }
  if (r < 0) st = CLFER_PARSE_ERROR;
  goto done;
oom:
  st = clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of memory", csv);
done:
  clfer__csv_close(&c);
  clfer__free_list(header, nheader);
  free(scratch);
  free(votes);
  if (st) {
    clfer_store_destroy(s);
    return st;
  }
  *out = s;
  return CLFER_OK;
}

clfer_status clfer_read_image_folder(const char *root, const char *csv, const char *const *class_names,
                                     int num_classes, const clfer_read_options_t *opt, clfer_store_t **out) {
  *out = NULL;
  if (class_names && num_classes < 1)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "read image folder: empty class list");
  if (csv) return read_folder_csv(root, csv, class_names, num_classes, opt, out);
  return read_class_dirs(root, class_names, num_classes, opt, out);
}
