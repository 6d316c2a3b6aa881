/* clfer/metrics.h — evaluation as the papers report it: accuracy, the mean of the confusion
 * matrix's diagonal (per-class recall averaged, RAF-DB's metric), per-class precision and recall,
 * and the confusion matrix as CSV and SVG; training curves as SVG. */
#ifndef CLFER_METRICS_H
#define CLFER_METRICS_H

#include <stdio.h>

#include "clfer/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CLFER_MAX_CLASSES 16

typedef struct clfer_confusion {
  int classes;
  char names[CLFER_MAX_CLASSES][32];
  long counts[CLFER_MAX_CLASSES][CLFER_MAX_CLASSES]; /* [true][predicted] */
} clfer_confusion_t;

typedef struct clfer_scores {
  long samples;
  double accuracy;      /* Σ diagonal / Σ all */
  double mean_diagonal; /* mean over classes with samples of recall */
  double precision[CLFER_MAX_CLASSES], recall[CLFER_MAX_CLASSES];
} clfer_scores_t;

void clfer_confusion_init(clfer_confusion_t *c, int classes, const char *const *names);
void clfer_confusion_add(clfer_confusion_t *c, int truth, int predicted);
clfer_scores_t clfer_confusion_scores(const clfer_confusion_t *c);
/* CSV: header "true\\predicted,<names>", one row per true class. */
clfer_status clfer_confusion_write_csv(const clfer_confusion_t *c, const char *path);
/* A heat map with row-normalised percentages and counts, class names on both axes. */
clfer_status clfer_confusion_write_svg(const clfer_confusion_t *c, const char *title, const char *path);

/* Loss and accuracy curves per epoch: two panels, one line per series. */
typedef struct clfer_curve {
  const char *name;
  const double *values; /* one per epoch; NaN = missing */
} clfer_curve_t;
clfer_status clfer_curves_write_svg(const char *path, const char *title, int epochs, const clfer_curve_t *loss_curves,
                                    int n_loss, const clfer_curve_t *acc_curves, int n_acc);

#ifdef __cplusplus
}
#endif
#endif
