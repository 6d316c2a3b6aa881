/* store.c — the in-memory sample store (see clfer/data.h for its invariants), the class-name
 * synonyms table, and mapping a dataset's class order onto a recipe's class list by name. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "data/data_internal.h"

const char *const clfer_classes_fer2013[7] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};
const char *const clfer_classes_ferplus[10] = {"neutral", "happiness", "surprise", "sadness", "anger",
                                               "disgust", "fear",      "contempt", "unknown", "NF"};
const char *const clfer_classes_rafdb[7] = {"surprise", "fear", "disgust", "happiness", "sadness", "anger", "neutral"};
const char *const clfer_classes_ckplus[8] = {"neutral", "anger", "contempt", "disgust",
                                             "fear",    "happy", "sadness",  "surprise"};
const char *const clfer_classes_affectnet[8] = {"neutral", "happiness", "sadness", "surprise",
                                                "fear",    "disgust",   "anger",   "contempt"};

/* Every spelling the datasets (and common papers) use, mapped to FER+'s names. Lower case. */
static const struct {
  const char *alias, *canonical;
} synonyms[] = {
    {"neutral", "neutral"},     {"neutrality", "neutral"},   {"calm", "neutral"},
    {"happiness", "happiness"}, {"happy", "happiness"},      {"joy", "happiness"},
    {"surprise", "surprise"},   {"surprised", "surprise"},   {"sadness", "sadness"},
    {"sad", "sadness"},         {"anger", "anger"},          {"angry", "anger"},
    {"disgust", "disgust"},     {"disgusted", "disgust"},    {"fear", "fear"},
    {"fearful", "fear"},        {"afraid", "fear"},          {"scared", "fear"},
    {"contempt", "contempt"},   {"contemptuous", "contempt"}, {"unknown", "unknown"},
    {"uncertain", "unknown"},   {"nf", "NF"},                {"notface", "NF"},
    {"not_face", "NF"},         {"non-face", "NF"},          {"noface", "NF"},
    {"no-face", "NF"},          {"none", "none"},
};

const char *clfer_class_canonical(const char *name) {
  if (!name) return NULL;
  char low[64];
  size_t i = 0;
  while (isspace((unsigned char)*name)) name++;
  for (; name[i] && i + 1 < sizeof low; i++) low[i] = (char)tolower((unsigned char)name[i]);
  if (name[i]) return NULL;
  while (i > 0 && isspace((unsigned char)low[i - 1])) i--;
  low[i] = '\0';
  for (size_t k = 0; k < sizeof synonyms / sizeof synonyms[0]; k++)
    if (!strcmp(low, synonyms[k].alias)) return synonyms[k].canonical;
  return NULL;
}

int clfer_class_same(const char *a, const char *b) {
  if (!a || !b) return 0;
  const char *ca = clfer_class_canonical(a), *cb = clfer_class_canonical(b);
  if (ca && cb) return !strcmp(ca, cb);
  if (ca || cb) return 0;
  return clfer__strieq(a, b);
}

const char *clfer_split_name(int split) {
  switch (split) {
    case CLFER_SPLIT_TRAIN: return "train";
    case CLFER_SPLIT_VALID: return "valid";
    case CLFER_SPLIT_TEST: return "test";
  }
  return "?";
}

clfer_status clfer_split_parse(const char *t, clfer_split_t *out) {
  if (!t) return clfer_set_error(CLFER_INVALID_ARGUMENT, "split: NULL");
  if (clfer__strieq(t, "train") || clfer__strieq(t, "training")) *out = CLFER_SPLIT_TRAIN;
  else if (clfer__strieq(t, "valid") || clfer__strieq(t, "validation") || clfer__strieq(t, "val") ||
           clfer__strieq(t, "publictest"))
    *out = CLFER_SPLIT_VALID;
  else if (clfer__strieq(t, "test") || clfer__strieq(t, "privatetest"))
    *out = CLFER_SPLIT_TEST;
  else
    return clfer_set_error(CLFER_PARSE_ERROR, "unknown split '%s' (train/valid/test or Training/PublicTest/PrivateTest)",
                           t);
  return CLFER_OK;
}

const char *clfer_dataset_name(int d) {
  switch (d) {
    case CLFER_DATASET_FER2013: return "fer2013";
    case CLFER_DATASET_FERPLUS: return "ferplus";
    case CLFER_DATASET_RAFDB: return "rafdb";
    case CLFER_DATASET_CKPLUS: return "ckplus";
    case CLFER_DATASET_FOLDER: return "folder";
    case CLFER_DATASET_AFFECTNET: return "affectnet";
  }
  return "unknown";
}

/* ---- create / destroy / grow ----------------------------------------------------------------- */
static char **dup_names(const char *const *names, int n, const char *fallback_prefix) {
  char **v = calloc((size_t)(n > 0 ? n : 1), sizeof *v);
  if (!v) return NULL;
  for (int i = 0; i < n; i++) {
    char tmp[32];
    const char *src = names && names[i] ? names[i] : (snprintf(tmp, sizeof tmp, "%s%d", fallback_prefix, i), tmp);
    if (!(v[i] = clfer__strdup(src))) {
      clfer__free_list(v, i);
      return NULL;
    }
  }
  return v;
}

clfer_status clfer_store_create(const clfer_store_desc_t *d, clfer_store_t **out) {
  *out = NULL;
  if (!d || d->num_classes < 1 || d->num_classes > 100000 || d->vote_width < 0 ||
      (d->vote_width && d->vote_width < d->num_classes) || d->num_coders < 0 || d->height < 0 || d->width < 0 ||
      d->channels < 0 || (d->channels && d->channels != 1 && d->channels != 3) ||
      (d->height > 0) != (d->width > 0) || !d->class_names)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "clfer_store_create: invalid description");
  if ((size_t)d->height * (size_t)d->width > (1u << 26))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "clfer_store_create: image %dx%d too large", d->width, d->height);
  clfer_store_t *s = calloc(1, sizeof *s);
  if (!s) return clfer_set_error(CLFER_OUT_OF_MEMORY, "clfer_store_create: out of memory");
  s->height = d->height;
  s->width = d->width;
  s->channels = d->height ? (d->channels ? d->channels : 1) : 0;
  s->num_classes = d->num_classes;
  s->vote_width = d->vote_width;
  int names = d->vote_width ? d->vote_width : d->num_classes;
  s->num_coders = d->num_coders;
  if (!(s->class_names = dup_names(d->class_names, names, "class")) ||
      (d->num_coders && !(s->coder_names = dup_names(d->coder_names, d->num_coders, "coder")))) {
    clfer_store_destroy(s);
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "clfer_store_create: out of memory");
  }
  *out = s;
  return CLFER_OK;
}

void clfer_store_destroy(clfer_store_t *s) {
  if (!s) return;
  free(s->images);
  clfer__free_list(s->class_names, s->vote_width ? s->vote_width : s->num_classes);
  free(s->votes);
  free(s->labels);
  clfer__free_list(s->coder_names, s->num_coders);
  free(s->coder_labels);
  free(s->split);
  free(s->source);
  free(s->group);
  clfer__free_list(s->names, s->n);
  free(s);
}

#define GROW(ptr, count, elem)                                  \
  do {                                                          \
    void *p_ = realloc((ptr), (size_t)(count) * (elem));        \
    if (!p_) goto oom;                                          \
    (ptr) = p_;                                                 \
  } while (0)

clfer_status clfer_store_reserve(clfer_store_t *s, int capacity) {
  if (capacity <= s->capacity) return CLFER_OK;
  size_t img = clfer_store_image_size(s);
  if (img) GROW(s->images, capacity, img);
  if (s->vote_width) GROW(s->votes, capacity, sizeof(float) * (size_t)s->vote_width);
  GROW(s->labels, capacity, sizeof(int));
  if (s->num_coders) GROW(s->coder_labels, capacity, sizeof(int) * (size_t)s->num_coders);
  GROW(s->split, capacity, 1);
  GROW(s->source, capacity, 1);
  GROW(s->group, capacity, sizeof(int));
  GROW(s->names, capacity, sizeof(char *));
  s->capacity = capacity;
  return CLFER_OK;
oom:
  return clfer_set_error(CLFER_OUT_OF_MEMORY, "sample store: out of memory growing to %d samples", capacity);
}

clfer_status clfer_store_append(clfer_store_t *s, const uint8_t *pixels, const float *votes, int label,
                                const int *coder_labels, int split, int source, int group, const char *name,
                                int *index) {
  if (label < -1 || label >= s->num_classes)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "sample store: label %d outside -1..%d", label, s->num_classes - 1);
  if (split < 0 || split >= CLFER_SPLIT_COUNT)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "sample store: split %d invalid", split);
  if (s->n == s->capacity) {
    clfer_status st = clfer_store_reserve(s, s->capacity ? s->capacity * 2 : 256);
    if (st) return st;
  }
  int i = s->n;
  char *nm = clfer__strdup(name ? name : "");
  if (!nm) return clfer_set_error(CLFER_OUT_OF_MEMORY, "sample store: out of memory");
  size_t img = clfer_store_image_size(s);
  if (img) {
    if (pixels)
      memcpy(s->images + (size_t)i * img, pixels, img);
    else
      memset(s->images + (size_t)i * img, 0, img);
  }
  if (s->vote_width) {
    float *v = s->votes + (size_t)i * (size_t)s->vote_width;
    if (votes)
      memcpy(v, votes, sizeof(float) * (size_t)s->vote_width);
    else
      memset(v, 0, sizeof(float) * (size_t)s->vote_width);
  }
  for (int c = 0; c < s->num_coders; c++) {
    int l = coder_labels ? coder_labels[c] : -1;
    if (l < -1 || l >= s->num_classes) l = -1;
    s->coder_labels[(size_t)i * (size_t)s->num_coders + (size_t)c] = l;
  }
  s->labels[i] = label;
  s->split[i] = (uint8_t)split;
  s->source[i] = (uint8_t)source;
  s->group[i] = group;
  s->names[i] = nm;
  s->n++;
  if (index) *index = i;
  return CLFER_OK;
}

int clfer_store_count(const clfer_store_t *s, int split) {
  if (split < 0) return s->n;
  int k = 0;
  for (int i = 0; i < s->n; i++) k += s->split[i] == split;
  return k;
}

int clfer_store_class_index(const clfer_store_t *s, const char *name) {
  int names = s->vote_width ? s->vote_width : s->num_classes;
  for (int k = 0; k < names; k++)
    if (clfer_class_same(s->class_names[k], name)) return k;
  return -1;
}

clfer_status clfer_store_filter(clfer_store_t *s, const uint8_t *keep) {
  size_t img = clfer_store_image_size(s);
  int j = 0;
  for (int i = 0; i < s->n; i++) {
    if (!keep[i]) {
      free(s->names[i]);
      continue;
    }
    if (i != j) {
      if (img) memmove(s->images + (size_t)j * img, s->images + (size_t)i * img, img);
      if (s->vote_width)
        memmove(s->votes + (size_t)j * (size_t)s->vote_width, s->votes + (size_t)i * (size_t)s->vote_width,
                sizeof(float) * (size_t)s->vote_width);
      if (s->num_coders)
        memmove(s->coder_labels + (size_t)j * (size_t)s->num_coders,
                s->coder_labels + (size_t)i * (size_t)s->num_coders, sizeof(int) * (size_t)s->num_coders);
      s->labels[j] = s->labels[i];
      s->split[j] = s->split[i];
      s->source[j] = s->source[i];
      s->group[j] = s->group[i];
      s->names[j] = s->names[i];
    }
    j++;
  }
  s->n = j;
  return CLFER_OK;
}

clfer_status clfer_store_concat(clfer_store_t *dst, const clfer_store_t *src) {
  if (dst->height != src->height || dst->width != src->width || dst->channels != src->channels)
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "store concat: images %dx%dx%d vs %dx%dx%d", dst->height, dst->width,
                           dst->channels, src->height, src->width, src->channels);
  int names = dst->vote_width ? dst->vote_width : dst->num_classes;
  if (dst->num_classes != src->num_classes || dst->vote_width != src->vote_width)
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "store concat: %d classes / %d vote columns vs %d / %d (map classes first)",
                           dst->num_classes, dst->vote_width, src->num_classes, src->vote_width);
  for (int k = 0; k < names; k++)
    if (!clfer_class_same(dst->class_names[k], src->class_names[k]))
      return clfer_set_error(CLFER_SHAPE_MISMATCH, "store concat: class %d is '%s' vs '%s' (map classes first)", k,
                             dst->class_names[k], src->class_names[k]);
  /* Coders of src matched by name; new ones become new columns of dst. */
  int *cmap = NULL;
  if (src->num_coders) {
    if (!(cmap = malloc(sizeof(int) * (size_t)src->num_coders))) goto oom;
    for (int c = 0; c < src->num_coders; c++) {
      cmap[c] = -1;
      for (int d = 0; d < dst->num_coders; d++)
        if (!strcmp(dst->coder_names[d], src->coder_names[c])) cmap[c] = d;
      if (cmap[c] < 0) {
        int nc = dst->num_coders + 1;
        char **names2 = realloc(dst->coder_names, sizeof(char *) * (size_t)nc);
        if (!names2) goto oom;
        dst->coder_names = names2;
        if (!(names2[nc - 1] = clfer__strdup(src->coder_names[c]))) goto oom;
        int cap = dst->capacity > 0 ? dst->capacity : 1;
        int *cl = malloc(sizeof(int) * (size_t)cap * (size_t)nc);
        if (!cl) {
          free(names2[nc - 1]);
          goto oom;
        }
        for (int i = 0; i < dst->n; i++) {
          for (int d = 0; d < nc - 1; d++) cl[(size_t)i * nc + d] = dst->coder_labels[(size_t)i * (nc - 1) + d];
          cl[(size_t)i * nc + nc - 1] = -1;
        }
        free(dst->coder_labels);
        dst->coder_labels = cl;
        dst->num_coders = nc;
        cmap[c] = nc - 1;
      }
    }
  }
  clfer_status st = clfer_store_reserve(dst, dst->n + src->n);
  if (st) {
    free(cmap);
    return st;
  }
  int *cl = dst->num_coders ? malloc(sizeof(int) * (size_t)dst->num_coders) : NULL;
  if (dst->num_coders && !cl) goto oom;
  for (int i = 0; i < src->n; i++) {
    if (cl) {
      for (int d = 0; d < dst->num_coders; d++) cl[d] = -1;
      for (int c = 0; c < src->num_coders; c++) cl[cmap[c]] = src->coder_labels[(size_t)i * src->num_coders + c];
    }
    st = clfer_store_append(dst, clfer_store_image(src, i),
                            src->votes ? src->votes + (size_t)i * (size_t)src->vote_width : NULL, src->labels[i], cl,
                            src->split[i], src->source[i], src->group[i], src->names[i], NULL);
    if (st) break;
  }
  free(cl);
  free(cmap);
  return st;
oom:
  free(cmap);
  return clfer_set_error(CLFER_OUT_OF_MEMORY, "store concat: out of memory");
}

clfer_status clfer_store_map_classes(clfer_store_t *s, const char *const *names, int num, int drop_unmapped) {
  if (!names || num < 1) return clfer_set_error(CLFER_INVALID_ARGUMENT, "map classes: empty class list");
  for (int a = 0; a < num; a++)
    for (int b = a + 1; b < num; b++)
      if (clfer_class_same(names[a], names[b]))
        return clfer_set_error(CLFER_INVALID_ARGUMENT, "map classes: '%s' and '%s' are the same class", names[a],
                               names[b]);
  int old_k = s->num_classes;
  int extras = s->vote_width ? s->vote_width - s->num_classes : 0;
  int new_width = s->vote_width ? num + extras : 0;
  int *to = malloc(sizeof(int) * (size_t)(old_k + extras + 1));
  char **new_names = calloc((size_t)(num + extras), sizeof(char *));
  float *new_votes = NULL;
  uint8_t *keep = NULL;
  if (!to || !new_names) goto oom;
  for (int k = 0; k < old_k; k++) {
    to[k] = -1;
    for (int j = 0; j < num; j++)
      if (clfer_class_same(s->class_names[k], names[j])) to[k] = j;
    if (to[k] < 0 && !drop_unmapped) {
      free(to);
      free(new_names);
      return clfer_set_error(CLFER_NOT_FOUND, "map classes: the store's class '%s' is not in the target class list",
                             s->class_names[k]);
    }
  }
  /* An extra vote column whose name is a target class would be ambiguous. */
  for (int e = 0; e < extras; e++)
    for (int j = 0; j < num; j++)
      if (clfer_class_same(s->class_names[old_k + e], names[j])) {
        free(to);
        free(new_names);
        return clfer_set_error(CLFER_INVALID_ARGUMENT, "map classes: '%s' is a vote column, not a class", names[j]);
      }
  for (int j = 0; j < num; j++)
    if (!(new_names[j] = clfer__strdup(names[j]))) goto oom;
  for (int e = 0; e < extras; e++)
    if (!(new_names[num + e] = clfer__strdup(s->class_names[old_k + e]))) goto oom;
  if (s->vote_width && s->capacity) {
    if (!(new_votes = calloc((size_t)s->capacity * (size_t)new_width, sizeof(float)))) goto oom;
    for (int i = 0; i < s->n; i++) {
      const float *v = s->votes + (size_t)i * (size_t)s->vote_width;
      float *w = new_votes + (size_t)i * (size_t)new_width;
      for (int k = 0; k < old_k; k++)
        if (to[k] >= 0) w[to[k]] = v[k];
      for (int e = 0; e < extras; e++) w[num + e] = v[old_k + e];
    }
  }
  if (!(keep = malloc((size_t)(s->n > 0 ? s->n : 1)))) goto oom;
  int dropped = 0;
  for (int i = 0; i < s->n; i++) {
    int l = s->labels[i];
    keep[i] = 1;
    if (l >= 0) {
      s->labels[i] = to[l];
      if (to[l] < 0) keep[i] = 0, dropped++;
    }
    for (int c = 0; c < s->num_coders; c++) {
      int *cl = &s->coder_labels[(size_t)i * s->num_coders + c];
      if (*cl >= 0) *cl = to[*cl];
    }
  }
  clfer__free_list(s->class_names, s->vote_width ? s->vote_width : s->num_classes);
  s->class_names = new_names;
  if (s->vote_width) {
    free(s->votes);
    s->votes = new_votes;
  }
  s->num_classes = num;
  s->vote_width = new_width;
  if (dropped) clfer_store_filter(s, keep);
  free(keep);
  free(to);
  return CLFER_OK;
oom:
  free(to);
  if (new_names) clfer__free_list(new_names, num + extras);
  free(new_votes);
  free(keep);
  return clfer_set_error(CLFER_OUT_OF_MEMORY, "map classes: out of memory");
}

static int cmp_int(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

clfer_status clfer_store_assign_folds(clfer_store_t *s, int k, int fold) {
  if (k < 2 || fold < 0 || fold >= k)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "folds: fold %d of %d is invalid", fold, k);
  int *g = malloc(sizeof(int) * (size_t)(s->n > 0 ? s->n : 1));
  if (!g) return clfer_set_error(CLFER_OUT_OF_MEMORY, "folds: out of memory");
  int m = 0;
  for (int i = 0; i < s->n; i++) g[m++] = s->group[i];
  qsort(g, (size_t)m, sizeof(int), cmp_int);
  int u = 0;
  for (int i = 0; i < m; i++)
    if (i == 0 || g[i] != g[i - 1]) g[u++] = g[i];
  for (int i = 0; i < s->n; i++) {
    int *p = bsearch(&s->group[i], g, (size_t)u, sizeof(int), cmp_int);
    int rank = p ? (int)(p - g) : 0;
    s->split[i] = (uint8_t)(rank % k == fold ? CLFER_SPLIT_TEST : CLFER_SPLIT_TRAIN);
  }
  free(g);
  return CLFER_OK;
}
