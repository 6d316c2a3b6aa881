/* clfer/batch.h — shuffled, seeded mini-batches assembled on a background thread with double
 * buffering: while the caller trains on batch i, the worker gathers batch i+1 (8-bit images and
 * targets), draws its augmentation matrices and, on the host path, runs the C pre-processing.
 * The time the caller waits in clfer_batcher_next() is recorded, so the data share of a step can be
 * reported. Inputs are plain arrays, so any sample store can feed it. See docs/augment.md. */
#ifndef CLFER_BATCH_H
#define CLFER_BATCH_H

#include <stdint.h>

#include "clfer/augment.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clfer_batcher clfer_batcher_t;

enum { CLFER_BATCHER_MAX_THREADS = 64 };

typedef enum clfer_batch_where {
  CLFER_BATCH_HOST = 0,   /* the worker pre-processes: batches carry float NCHW data */
  CLFER_BATCH_DEVICE = 1, /* batches carry gathered 8-bit images + matrices for
                             clfer_preprocess_device_upload() */
} clfer_batch_where;

typedef struct clfer_batcher_options {
  int batch_size;
  int drop_last; /* drop the last incomplete batch of an epoch */
  int shuffle;   /* permutation per epoch from (seed, epoch); else the index order */
  int augment;   /* draw matrices from `augment_config` per (seed, epoch, sample); else its base matrix */
  uint64_t seed;
  clfer_augment_config_t augment_config; /* also gives the base matrix (resize/crop family) */
  clfer_preproc_t preproc;               /* output size, channels, normalisation */
  clfer_batch_where where; /* of the first batches; see clfer_batcher_set_where */
  int threads;             /* threads filling a batch: the worker plus threads − 1 helpers (0, 1: the worker
                              alone); batches are the same for any count */
  const int *subset; /* optional sample indices (e.g. the train split); copied; NULL = all */
  int subset_size;
} clfer_batcher_options_t;

/* FER+ training defaults: batch 32, shuffle, augment (FER+ jitter), 64×64 FER+ normalisation,
 * host path, one thread. */
clfer_batcher_options_t clfer_batcher_options_default(void);
/* Threads that fill batches without starving the OpenCL device: 1 when the device is the CPU
 * itself (PoCL computes on every core), else the online cores minus one for the caller, at most 8. */
int clfer_batcher_default_threads(int device_is_cpu);

/* One mini-batch as the caller sees it. Pointers stay valid until the next clfer_batcher_next(),
 * clfer_batcher_start_epoch() or clfer_batcher_destroy() on the same batcher. */
typedef struct clfer_batch {
  int n;       /* samples in the batch; 0 = the epoch is over */
  int index;   /* batch number within the epoch */
  int epoch;
  const int *sample_ids;   /* n dataset indices */
  const float *data;       /* HOST: n × out_c × out_h × out_w; DEVICE: NULL */
  const uint8_t *images;   /* DEVICE: n × h × w × c gathered images; HOST: NULL */
  const float *matrices;   /* n × 6 matrices used (both paths) */
  const float *targets;    /* n × k (NULL when k = 0) */
  double wait_seconds;     /* how long next() blocked for this batch */
} clfer_batch_t;

typedef struct clfer_batcher_stats {
  unsigned long batches;  /* handed out since creation */
  double wait_seconds;    /* total time next() blocked */
  double prepare_seconds; /* total time the worker spent filling batches */
} clfer_batcher_stats_t;

/* images: n × h × w × c bytes; targets: n × k floats (may be NULL with k = 0). Both are borrowed
 * and must outlive the batcher, unchanged. Starts the worker thread. */
clfer_status clfer_batcher_create(const uint8_t *images, int n, int h, int w, int c, const float *targets, int k,
                                  const clfer_batcher_options_t *options, clfer_batcher_t **out);
/* Begins an epoch (any order of epochs; an unfinished epoch is abandoned); the worker starts
 * filling its first batch at once. */
clfer_status clfer_batcher_start_epoch(clfer_batcher_t *b, int epoch);
/* The next batch of the current epoch, waiting for the worker if needed; batch->n == 0 at the
 * end of the epoch. CLFER_INVALID_ARGUMENT before any start_epoch. */
clfer_status clfer_batcher_next(clfer_batcher_t *b, clfer_batch_t *batch);
/* Changes the form of the batches whose filling has not begun (the worker may already hold the
 * next one in the old form): each batch says its form by which of data / images it carries. The
 * training loop moves pre-processing to the device this way when the host worker is too slow. */
clfer_status clfer_batcher_set_where(clfer_batcher_t *b, clfer_batch_where where);
int clfer_batcher_batches_per_epoch(const clfer_batcher_t *b);
int clfer_batcher_num_samples(const clfer_batcher_t *b); /* per epoch, before drop_last */
clfer_batcher_stats_t clfer_batcher_stats(const clfer_batcher_t *b);
void clfer_batcher_destroy(clfer_batcher_t *b);

#ifdef __cplusplus
}
#endif
#endif
