/* app_util.c — small helpers shared by the commands. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "clfer/metrics.h"
#include "commands.h"

int clfer_app_mkdir_p(const char *dir) {
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      int failed = mkdir(tmp, 0755) != 0 && errno != EEXIST;
      *p = '/';
      if (failed) break;
    }
  struct stat sb;
  if ((mkdir(tmp, 0755) == 0 || errno == EEXIST) && stat(tmp, &sb) == 0 && S_ISDIR(sb.st_mode)) return 0;
  if (errno == 0 || errno == EEXIST) errno = ENOTDIR;
  clfer_set_error(CLFER_IO_ERROR, "cannot create %s: %s", dir, strerror(errno));
  return -1;
}

void clfer_app_csv_field(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

int clfer_app_data_option(clfer_app_data_t *d, int c, const char *arg) {
  switch (c) {
    case 'D': d->data = arg; return 1;
    case 'f': d->format = arg; return 1;
    case 's': d->split_name = arg, d->split_given = 1; return 1;
    case 'l': d->labels = arg; return 1;
    case 'b': d->batch = atoi(arg); return 1;
    default: return 0;
  }
}

int clfer_app_load_model(clfer_runtime_t *rt, const char *path, const char *preprocess, clfer_model_t **out) {
  *out = NULL;
  clfer_model_t *m = NULL;
  if (clfer_model_load(rt, path, &m)) return clfer_app_fail("cannot load the model");
  if (preprocess && clfer_model_set_preprocess(m, preprocess)) {
    int rc = clfer_app_fail("--preprocess");
    clfer_model_destroy(m);
    return rc;
  }
  *out = m;
  return 0;
}

int clfer_app_data_check(const char *cmd, clfer_app_data_t *d) {
  d->majority = strcmp(d->labels, "majority") == 0;
  if (!d->majority && strcmp(d->labels, "hard") != 0) {
    fprintf(stderr, "clfer %s: --labels must be majority or hard, not '%s'\n", cmd, d->labels);
    return 2;
  }
  d->split = -1;
  /* folders and CK+ have no splits of their own (the readers put everything in train) */
  if (!d->split_given && (strcmp(d->format, "folder") == 0 || strcmp(d->format, "ckplus") == 0)) d->split_name = "all";
  if (strcmp(d->split_name, "all") != 0) {
    clfer_split_t sp;
    if (clfer_split_parse(d->split_name, &sp)) {
      fprintf(stderr, "clfer %s: --split must be train, valid, test or all, not '%s'\n", cmd, d->split_name);
      return 2;
    }
    d->split = (int)sp;
  }
  if (d->batch < 1 || d->batch > 4096) {
    fprintf(stderr, "clfer %s: --batch must be 1..4096\n", cmd);
    return 2;
  }
  return 0;
}

int clfer_app_data_select(const char *cmd, const clfer_app_data_t *d, clfer_model_t *model, clfer_store_t **store,
                          int **truth, int **ids, int *n) {
  *n = 0;
  if (clfer_model_read_dataset(model, d->format, d->data, d->majority, store)) return clfer_app_fail("cannot read the data");
  *truth = malloc(((size_t)(*store)->n + 1) * sizeof **truth);
  *ids = malloc(((size_t)(*store)->n + 1) * sizeof **ids);
  if (!*truth || !*ids) return clfer_app_fail("out of memory");
  clfer_model_truth(*store, clfer_model_classes(model), d->majority, *truth);
  for (int i = 0; i < (*store)->n; i++)
    if ((d->split < 0 || (*store)->split[i] == d->split) && (*truth)[i] >= 0) (*ids)[(*n)++] = i;
  if (*n == 0) {
    fprintf(stderr, "clfer %s: %s (%s) has no labelled samples in split %s\n", cmd, d->data, d->format, d->split_name);
    return 1;
  }
  return 0;
}

void clfer_app_print_scores(const clfer_confusion_t *c, const clfer_scores_t *s) {
  int k = c->classes, w = 9;
  for (int i = 0; i < k; i++)
    if ((int)strlen(c->names[i]) + 1 > w) w = (int)strlen(c->names[i]) + 1;
  printf("accuracy %.2f%%  mean diagonal %.2f%%  (%ld samples)\n\n", 100 * s->accuracy, 100 * s->mean_diagonal,
         s->samples);
  printf("%-*s %9s %9s %8s\n", w, "class", "precision", "recall", "samples");
  for (int t = 0; t < k; t++) {
    long row = 0;
    for (int p = 0; p < k; p++) row += c->counts[t][p];
    char prec[16] = "-", rec[16] = "-";
    if (!isnan(s->precision[t])) snprintf(prec, sizeof prec, "%.2f%%", 100 * s->precision[t]);
    if (!isnan(s->recall[t])) snprintf(rec, sizeof rec, "%.2f%%", 100 * s->recall[t]);
    printf("%-*s %9s %9s %8ld\n", w, c->names[t], prec, rec, row);
  }
  printf("\nconfusion matrix (rows: true class, columns: predicted)\n%-*s", w, "");
  for (int p = 0; p < k; p++) printf(" %*.*s", w, w, c->names[p]);
  printf("\n");
  for (int t = 0; t < k; t++) {
    printf("%-*s", w, c->names[t]);
    for (int p = 0; p < k; p++) printf(" %*ld", w, c->counts[t][p]);
    printf("\n");
  }
}

