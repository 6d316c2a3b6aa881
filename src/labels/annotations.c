/* annotations.c — per-annotator labels (one row per image, annotator and label) for the EM
 * estimators: reading the CSV `image,annotator,label`, with names interned through a small
 * open-addressing hash table so a million labels read in linear time. */
#include <stdlib.h>
#include <string.h>

#include "clfer/labels.h"
#include "data/data_internal.h"

typedef struct intern {
  char **names;
  int n, cap;
  int *slots; /* index+1, 0 = empty */
  size_t nslots;
} intern_t;

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static int intern_grow(intern_t *t) {
  size_t ns = t->nslots ? t->nslots * 2 : 1024;
  int *slots = calloc(ns, sizeof(int));
  if (!slots) return -1;
  for (int i = 0; i < t->n; i++) {
    size_t h = hash_str(t->names[i]) & (ns - 1);
    while (slots[h]) h = (h + 1) & (ns - 1);
    slots[h] = i + 1;
  }
  free(t->slots);
  t->slots = slots;
  t->nslots = ns;
  return 0;
}

/* Id of a name, adding it when new; −1 on out of memory. */
static int intern(intern_t *t, const char *name) {
  if ((size_t)(t->n + 1) * 2 > t->nslots && intern_grow(t)) return -1;
  size_t h = hash_str(name) & (t->nslots - 1);
  while (t->slots[h]) {
    int i = t->slots[h] - 1;
    if (!strcmp(t->names[i], name)) return i;
    h = (h + 1) & (t->nslots - 1);
  }
  if (t->n == t->cap) {
    int cap = t->cap ? t->cap * 2 : 256;
    char **p = realloc(t->names, sizeof(char *) * (size_t)cap);
    if (!p) return -1;
    t->names = p;
    t->cap = cap;
  }
  if (!(t->names[t->n] = clfer__strdup(name))) return -1;
  t->slots[h] = ++t->n;
  return t->n - 1;
}

static void intern_free(intern_t *t) {
  clfer__free_list(t->names, t->n);
  free(t->slots);
}

void clfer_annotations_destroy(clfer_annotations_t *a) {
  if (!a) return;
  free(a->item);
  free(a->annotator);
  free(a->label);
  clfer__free_list(a->item_names, a->num_items);
  clfer__free_list(a->annotator_names, a->num_annotators);
  clfer__free_list(a->class_names, a->num_classes);
  free(a);
}

static char **names_or_default(const char *const *names, int n, const char *prefix) {
  char **v = calloc((size_t)(n > 0 ? n : 1), sizeof(char *));
  if (!v) return NULL;
  for (int i = 0; i < n; i++) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%s%d", prefix, i);
    if (!(v[i] = clfer__strdup(names && names[i] ? names[i] : tmp))) {
      clfer__free_list(v, i);
      return NULL;
    }
  }
  return v;
}

clfer_status clfer_annotations_create(int num_items, int num_annotators, int num_classes, int num_labels,
                                      const int *item, const int *annotator, const int *label,
                                      const char *const *class_names, clfer_annotations_t **out) {
  *out = NULL;
  if (num_items < 1 || num_annotators < 1 || num_classes < 2 || num_labels < 1)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "annotations: need items, annotators, >= 2 classes and labels");
  for (int l = 0; l < num_labels; l++)
    if (item[l] < 0 || item[l] >= num_items || annotator[l] < 0 || annotator[l] >= num_annotators || label[l] < 0 ||
        label[l] >= num_classes)
      return clfer_set_error(CLFER_INVALID_ARGUMENT, "annotations: label %d (item %d, annotator %d, class %d) out of range",
                             l, item[l], annotator[l], label[l]);
  clfer_annotations_t *a = calloc(1, sizeof *a);
  if (!a) return clfer_set_error(CLFER_OUT_OF_MEMORY, "annotations: out of memory");
  a->num_items = num_items;
  a->num_annotators = num_annotators;
  a->num_classes = num_classes;
  a->num_labels = num_labels;
  size_t bytes = sizeof(int) * (size_t)num_labels;
  a->item = malloc(bytes);
  a->annotator = malloc(bytes);
  a->label = malloc(bytes);
  a->item_names = names_or_default(NULL, num_items, "item");
  a->annotator_names = names_or_default(NULL, num_annotators, "a");
  a->class_names = names_or_default(class_names, num_classes, "c");
  if (!a->item || !a->annotator || !a->label || !a->item_names || !a->annotator_names || !a->class_names) {
    clfer_annotations_destroy(a);
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "annotations: out of memory");
  }
  memcpy(a->item, item, bytes);
  memcpy(a->annotator, annotator, bytes);
  memcpy(a->label, label, bytes);
  *out = a;
  return CLFER_OK;
}

clfer_status clfer_annotations_read_csv(const char *path, const char *const *class_names, int num_classes,
                                        clfer_annotations_t **out) {
  *out = NULL;
  if (!class_names || num_classes < 2)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: a class list of at least 2 classes is needed", path);
  clfer__csv_t c;
  clfer_status st = clfer__csv_open(&c, path, ',');
  if (st) return st;
  intern_t items = {0}, anns = {0};
  int *vi = NULL, *va = NULL, *vl = NULL;
  int n = 0, cap = 0, r, first = 1;
  while ((r = clfer__csv_next(&c)) > 0) {
    if (first && c.nfields >= 2 && clfer__strieq(c.fields[0], "image") && clfer__strieq(c.fields[1], "annotator")) {
      first = 0;
      continue; /* header */
    }
    first = 0;
    if (c.nfields != 3) {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: expected image,annotator,label, got %d fields", path, c.line,
                           c.nfields);
      break;
    }
    if (!c.fields[0][0] || !c.fields[1][0]) {
      st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: empty image or annotator name", path, c.line);
      break;
    }
    long idx;
    int label = -1;
    if (!clfer__parse_int(c.fields[2], 0, num_classes - 1, &idx)) {
      label = (int)idx;
    } else {
      for (int k = 0; k < num_classes && label < 0; k++)
        if (clfer_class_same(c.fields[2], class_names[k])) label = k;
      if (label < 0) {
        st = clfer_set_error(CLFER_PARSE_ERROR, "%s:%ld: label '%s' is neither a class name nor an index 0..%d", path,
                             c.line, c.fields[2], num_classes - 1);
        break;
      }
    }
    if (n == cap) {
      cap = cap ? cap * 2 : 4096;
      int *p1 = realloc(vi, sizeof(int) * (size_t)cap);
      if (p1) vi = p1;
      int *p2 = realloc(va, sizeof(int) * (size_t)cap);
      if (p2) va = p2;
      int *p3 = realloc(vl, sizeof(int) * (size_t)cap);
      if (p3) vl = p3;
      if (!p1 || !p2 || !p3) {
        st = clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of memory", path);
        break;
      }
    }
    int ii = intern(&items, c.fields[0]), aa = intern(&anns, c.fields[1]);
    if (ii < 0 || aa < 0) {
      st = clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of memory", path);
      break;
    }
    vi[n] = ii;
    va[n] = aa;
    vl[n] = label;
    n++;
  }
  if (r < 0) st = CLFER_PARSE_ERROR;
  clfer__csv_close(&c);
  if (!st && n == 0) st = clfer_set_error(CLFER_PARSE_ERROR, "%s: no labels", path);
  if (!st) st = clfer_annotations_create(items.n, anns.n, num_classes, n, vi, va, vl, class_names, out);
  if (!st) { /* keep the real names */
    clfer__free_list((*out)->item_names, items.n);
    clfer__free_list((*out)->annotator_names, anns.n);
    (*out)->item_names = items.names;
    (*out)->annotator_names = anns.names;
    items.names = anns.names = NULL;
    items.n = anns.n = 0;
  }
  intern_free(&items);
  intern_free(&anns);
  free(vi);
  free(va);
  free(vl);
  return st;
}
