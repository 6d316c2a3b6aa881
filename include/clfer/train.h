/* clfer/train.h — the training loop a user runs: a recipe's stages (data, label scheme, model,
 * losses, optimizer, schedule, augmentation), per-epoch evaluation as the papers report it,
 * best-validation selection, early stopping, atomic checkpoints every epoch, exact resume, and
 * the run directory's outputs (metrics.jsonl, confusion plots, curves, the resolved recipe). */
#ifndef CLFER_TRAIN_H
#define CLFER_TRAIN_H

#include "clfer/metrics.h"
#include "clfer/recipe.h"
#include "clfer/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clfer_train_options {
  const char *recipe;          /* path of the INI recipe */
  const char *const *sets;     /* "section.key=value" overrides */
  int n_sets;
  const char *device;          /* NULL: $CLFER_DEVICE or auto */
  const char *out_dir;         /* run directory (created); NULL: runs/<recipe name> */
  int resume;                  /* continue from out_dir/last.safetensors */
  int profile;                 /* record every kernel; write profile.txt and trace.json */
  long max_steps;              /* stop after this many training steps (profiling); 0 = no limit */
  int progress;                /* -1: a progress bar on a terminal, else log lines; 0: log lines; 1: bar */
  int quiet;                   /* no per-epoch lines */
  int check_only;              /* validate the recipe and build each stage's model; no data, no training */
} clfer_train_options_t;

typedef struct clfer_train_result {
  int epochs_run;
  int best_epoch;               /* 0-based, of the last stage: the selected epoch */
  int selected_last;            /* train.select = last: best_epoch is the last epoch, not the best validation one */
  double best_valid_accuracy, best_valid_mean_diagonal;
  double test_accuracy, test_mean_diagonal; /* at the selected epoch */
  double latent_truth_agreement; /* IPA2LT: LTNet's latent truth vs truth.csv on the training faces; NaN otherwise */
  double images_per_second;     /* training throughput of the last epoch */
  double data_wait_share;       /* time waiting for batches / training time */
  int preprocess_on_device;     /* the last stage's training batches ended up pre-processed on the device */
  long steps;
  char run_dir[1024];
  char confusion_svg[1100];
  char best_checkpoint[1100];
} clfer_train_result_t;

clfer_status clfer_train(const clfer_train_options_t *options, clfer_train_result_t *result);

#ifdef __cplusplus
}
#endif
#endif
