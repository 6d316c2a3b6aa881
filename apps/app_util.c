/* app_util.c — small helpers shared by the commands. */
#include <errno.h>
#include <math.h>
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

