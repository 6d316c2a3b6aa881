/* batcher.c — mini-batch assembly on a background pthread with two slots (double buffering): the
 * worker fills slot (i+1) mod 2 while the caller holds slot i mod 2, with `threads − 1` helper
 * threads taking samples of the same batch. Every random choice comes from streams keyed by
 * (seed, epoch[, sample]), so batches depend neither on timing nor on the thread count. */
#include "clfer/batch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "data/augment_rng.h"

enum { SLOT_FREE = 0, SLOT_FILLING, SLOT_READY, SLOT_HELD };

typedef struct slot {
  int state;
  int batch_index, n;
  clfer_batch_where where; /* the form of this slot's batch, fixed when its fill begins */
  clfer_status status; /* a failure while filling, handed to the caller by next() */
  int *ids;
  float *data, *matrices, *targets;
  uint8_t *images;
} slot_t;

/* The batch being filled, shared by the worker and the helpers: each takes the next sample under
 * job_mu. Done when every sample handed out is finished and none is left (or one failed). */
typedef struct fill_job {
  slot_t *slot;
  int first, count; /* the batch's samples: order[first .. first+count) */
  int next, done;
  unsigned generation; /* bumped per batch; helpers wait for a change */
  clfer_status status;
  char error[512];
} fill_job_t;

struct clfer_batcher {
  const uint8_t *images;
  const float *targets;
  int n, h, w, c, k;
  clfer_batcher_options_t opt;
  int *pool;  /* the sample indices of an epoch (subset or 0..n−1) */
  int *order; /* this epoch's order of `pool` */
  int pool_size, batches;
  size_t out_floats; /* per sample, host path */

  pthread_t thread;
  int has_worker;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  clfer_batch_where where; /* for batches whose fill has not begun (clfer_batcher_set_where) */
  int quit, active, worker_busy;
  int epoch, fill_next, take_next, held;
  slot_t slots[2];
  clfer_batcher_stats_t stats;
  char error[512]; /* the worker's message for a failed fill (errors are thread-local) */

  pthread_t *helpers;
  int n_helpers, helpers_quit;
  pthread_mutex_t job_mu;
  pthread_cond_t job_cv, job_done_cv;
  fill_job_t job;
};

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

clfer_batcher_options_t clfer_batcher_options_default(void) {
  clfer_batcher_options_t o = {0};
  o.batch_size = 32;
  o.shuffle = 1;
  o.augment = 1;
  o.augment_config = clfer_augment_config_ferplus();
  o.preproc = clfer_preproc_ferplus(64, 64);
  o.where = CLFER_BATCH_HOST;
  o.threads = 1;
  return o;
}

/* Sample j of the batch starting at order[first] into slot s: its matrix, then the 8-bit copy
 * (device form) or the C pre-processing (host form). */
static clfer_status fill_sample(clfer_batcher_t *b, slot_t *s, int first, int j) {
  const clfer_batcher_options_t *o = &b->opt;
  size_t img_bytes = (size_t)b->h * b->w * b->c;
  int id = b->order[first + j];
  s->ids[j] = id;
  if (b->k > 0) memcpy(s->targets + (size_t)j * b->k, b->targets + (size_t)id * b->k, (size_t)b->k * sizeof(float));
  float *m = s->matrices + (size_t)j * 6;
  clfer_status st =
      o->augment ? clfer_augment_draw(&o->augment_config, b->h, b->w, o->preproc.out_h, o->preproc.out_w, o->seed,
                                      ((uint64_t)(uint32_t)b->epoch << 32) | (uint32_t)id, m)
                 : clfer_augment_base_matrix(&o->augment_config, b->h, b->w, o->preproc.out_h, o->preproc.out_w, m);
  if (st) return st;
  const uint8_t *src = b->images + (size_t)id * img_bytes;
  if (s->where == CLFER_BATCH_DEVICE) {
    memcpy(s->images + (size_t)j * img_bytes, src, img_bytes);
    return CLFER_OK;
  }
  return clfer_preprocess_host(src, b->h, b->w, b->c, m, &o->preproc, s->data + (size_t)j * b->out_floats);
}

/* Takes samples of the current job until none is left (the worker and every helper run this). */
static void take_samples(clfer_batcher_t *b) {
  pthread_mutex_lock(&b->job_mu);
  for (;;) {
    fill_job_t *job = &b->job;
    if (job->next >= job->count || job->status) break;
    int j = job->next++, first = job->first;
    slot_t *s = job->slot;
    pthread_mutex_unlock(&b->job_mu);
    clfer_status st = fill_sample(b, s, first, j);
    pthread_mutex_lock(&b->job_mu);
    if (st && !job->status) {
      job->status = st;
      snprintf(job->error, sizeof job->error, "%s", clfer_last_error());
    }
    if (++job->done == job->next && (job->next >= job->count || job->status)) pthread_cond_broadcast(&b->job_done_cv);
  }
  pthread_mutex_unlock(&b->job_mu);
}

static void *helper_main(void *arg) {
  clfer_batcher_t *b = arg;
  unsigned seen = 0;
  pthread_mutex_lock(&b->job_mu);
  for (;;) {
    while (!b->helpers_quit && b->job.generation == seen) pthread_cond_wait(&b->job_cv, &b->job_mu);
    if (b->helpers_quit) break;
    seen = b->job.generation;
    pthread_mutex_unlock(&b->job_mu);
    take_samples(b);
    pthread_mutex_lock(&b->job_mu);
  }
  pthread_mutex_unlock(&b->job_mu);
  return NULL;
}

/* Fills slot s with batch `bi` of the current epoch; runs without the batcher's lock (start_epoch
 * waits for worker_busy to clear before it touches `order` or the slots). */
static clfer_status fill_slot(clfer_batcher_t *b, slot_t *s, int bi) {
  const clfer_batcher_options_t *o = &b->opt;
  int first = bi * o->batch_size, count = b->pool_size - first;
  if (count > o->batch_size) count = o->batch_size;
  size_t img_bytes = (size_t)b->h * b->w * b->c;
  s->n = count;
  s->batch_index = bi;
  /* a slot gets the buffers of the other form the first time it is filled in that form */
  if (s->where == CLFER_BATCH_DEVICE && !s->images && !(s->images = malloc((size_t)o->batch_size * img_bytes)))
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "batcher: %d images of %zu bytes", o->batch_size, img_bytes);
  if (s->where == CLFER_BATCH_HOST && !s->data &&
      !(s->data = malloc((size_t)o->batch_size * b->out_floats * sizeof *s->data)))
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "batcher: %d pre-processed samples of %zu floats", o->batch_size,
                           b->out_floats);
  if (b->n_helpers == 0) {
    for (int j = 0; j < count; j++) {
      clfer_status st = fill_sample(b, s, first, j);
      if (st) return st;
    }
    return CLFER_OK;
  }
  pthread_mutex_lock(&b->job_mu);
  b->job.slot = s, b->job.first = first, b->job.count = count;
  b->job.next = b->job.done = 0;
  b->job.status = CLFER_OK;
  b->job.generation++;
  pthread_cond_broadcast(&b->job_cv);
  pthread_mutex_unlock(&b->job_mu);
  take_samples(b);
  pthread_mutex_lock(&b->job_mu);
  while (!(b->job.done == b->job.next && (b->job.next >= b->job.count || b->job.status)))
    pthread_cond_wait(&b->job_done_cv, &b->job_mu);
  clfer_status st = b->job.status;
  if (st) clfer_set_error(st, "%s", b->job.error);
  pthread_mutex_unlock(&b->job_mu);
  return st;
}

static void *worker_main(void *arg) {
  clfer_batcher_t *b = arg;
  pthread_mutex_lock(&b->mu);
  for (;;) {
    if (b->quit) break;
    slot_t *s = &b->slots[b->fill_next % 2];
    if (!b->active || b->fill_next >= b->batches || s->state != SLOT_FREE) {
      pthread_cond_wait(&b->cv, &b->mu);
      continue;
    }
    int bi = b->fill_next++;
    s->state = SLOT_FILLING;
    s->where = b->where;
    b->worker_busy = 1;
    pthread_mutex_unlock(&b->mu);

    double t0 = now_seconds();
    clfer_status st = fill_slot(b, s, bi);

    pthread_mutex_lock(&b->mu);
    if (st) snprintf(b->error, sizeof b->error, "%s", clfer_last_error());
    s->status = st;
    s->state = SLOT_READY;
    b->worker_busy = 0;
    b->stats.prepare_seconds += now_seconds() - t0;
    pthread_cond_broadcast(&b->cv);
  }
  pthread_mutex_unlock(&b->mu);
  return NULL;
}

static void free_slots(clfer_batcher_t *b) {
  for (int i = 0; i < 2; i++) {
    slot_t *s = &b->slots[i];
    free(s->ids), free(s->data), free(s->matrices), free(s->targets), free(s->images);
  }
}

clfer_status clfer_batcher_create(const uint8_t *images, int n, int h, int w, int c, const float *targets, int k,
                                  const clfer_batcher_options_t *options, clfer_batcher_t **out) {
  if (!out) return clfer_set_error(CLFER_INVALID_ARGUMENT, "batcher: out is NULL");
  *out = NULL;
  if (!images || !options || n < 1 || h < 1 || w < 1 || c < 1 || k < 0 || (k > 0 && !targets))
    return clfer_set_error(CLFER_INVALID_ARGUMENT,
                           "batcher: need images, options, n >= 1 (got %d), h/w/c >= 1 (got %dx%dx%d), targets "
                           "when k > 0 (k %d)",
                           n, h, w, c, k);
  const clfer_batcher_options_t *o = options;
  if (o->batch_size < 1) return clfer_set_error(CLFER_INVALID_ARGUMENT, "batcher: batch_size %d", o->batch_size);
  if (o->where != CLFER_BATCH_HOST && o->where != CLFER_BATCH_DEVICE)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "batcher: unknown `where` %d", (int)o->where);
  if (o->threads < 0 || o->threads > CLFER_BATCHER_MAX_THREADS)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "batcher: %d threads (0..%d)", o->threads, CLFER_BATCHER_MAX_THREADS);
  clfer_status st = clfer_preproc_check(&o->preproc, c);
  if (st) return clfer_wrap_error(st, "batcher: ");
  float probe[6];
  st = clfer_augment_base_matrix(&o->augment_config, h, w, o->preproc.out_h, o->preproc.out_w, probe);
  if (st) return clfer_wrap_error(st, "batcher: ");
  if (o->subset && o->subset_size < 1)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "batcher: empty subset (%d indices)", o->subset_size);
  if (o->subset)
    for (int i = 0; i < o->subset_size; i++)
      if (o->subset[i] < 0 || o->subset[i] >= n)
        return clfer_set_error(CLFER_INVALID_ARGUMENT, "batcher: subset[%d] = %d outside 0..%d", i, o->subset[i],
                               n - 1);

  clfer_batcher_t *b = calloc(1, sizeof *b);
  if (!b) return clfer_set_error(CLFER_OUT_OF_MEMORY, "batcher");
  b->images = images, b->targets = targets, b->n = n, b->h = h, b->w = w, b->c = c, b->k = k;
  b->opt = *o;
  b->opt.subset = NULL;
  b->pool_size = o->subset ? o->subset_size : n;
  b->batches = o->drop_last ? b->pool_size / o->batch_size : (b->pool_size + o->batch_size - 1) / o->batch_size;
  b->out_floats = (size_t)o->preproc.out_c * o->preproc.out_h * o->preproc.out_w;
  b->held = -1;
  b->where = o->where;
  b->pool = malloc((size_t)b->pool_size * sizeof *b->pool);
  b->order = malloc((size_t)b->pool_size * sizeof *b->order);
  int ok = b->pool && b->order;
  size_t bs = (size_t)o->batch_size;
  for (int i = 0; i < 2 && ok; i++) {
    slot_t *s = &b->slots[i];
    s->ids = malloc(bs * sizeof *s->ids);
    s->matrices = malloc(bs * 6 * sizeof *s->matrices);
    s->targets = k > 0 ? malloc(bs * (size_t)k * sizeof *s->targets) : NULL;
    if (o->where == CLFER_BATCH_HOST)
      s->data = malloc(bs * b->out_floats * sizeof *s->data);
    else
      s->images = malloc(bs * (size_t)h * w * c);
    ok = s->ids && s->matrices && (k == 0 || s->targets) && (s->data || s->images);
  }
  if (!ok) {
    size_t per_sample = b->out_floats;
    free_slots(b), free(b->pool), free(b->order), free(b);
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "batcher: buffers for batches of %d x %zu floats", o->batch_size,
                           per_sample);
  }
  for (int i = 0; i < b->pool_size; i++) b->pool[i] = o->subset ? o->subset[i] : i;
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->cv, NULL);
  pthread_mutex_init(&b->job_mu, NULL);
  pthread_cond_init(&b->job_cv, NULL);
  pthread_cond_init(&b->job_done_cv, NULL);
  int want_helpers = o->threads > 1 ? o->threads - 1 : 0;
  if (want_helpers && !(b->helpers = calloc((size_t)want_helpers, sizeof *b->helpers))) {
    clfer_batcher_destroy(b);
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "batcher: %d helper threads", want_helpers);
  }
  for (; b->n_helpers < want_helpers; b->n_helpers++)
    if (pthread_create(&b->helpers[b->n_helpers], NULL, helper_main, b) != 0) {
      clfer_batcher_destroy(b);
      return clfer_set_error(CLFER_INTERNAL, "batcher: cannot start helper thread %d of %d", b->n_helpers + 1,
                             want_helpers);
    }
  if (pthread_create(&b->thread, NULL, worker_main, b) != 0) {
    clfer_batcher_destroy(b);
    return clfer_set_error(CLFER_INTERNAL, "batcher: cannot start the worker thread");
  }
  b->has_worker = 1;
  *out = b;
  return CLFER_OK;
}

clfer_status clfer_batcher_start_epoch(clfer_batcher_t *b, int epoch) {
  if (!b) return clfer_set_error(CLFER_INVALID_ARGUMENT, "batcher: NULL");
  if (epoch < 0) return clfer_set_error(CLFER_INVALID_ARGUMENT, "batcher: epoch %d", epoch);
  pthread_mutex_lock(&b->mu);
  b->active = 0;
  while (b->worker_busy) pthread_cond_wait(&b->cv, &b->mu);
  b->epoch = epoch;
  memcpy(b->order, b->pool, (size_t)b->pool_size * sizeof *b->order);
  if (b->opt.shuffle) { /* Fisher–Yates from the (seed, epoch) stream */
    clfer__rng_t r = clfer__rng_stream(b->opt.seed, (uint64_t)epoch, 0x7065726du /* "perm" */);
    for (int i = b->pool_size - 1; i > 0; i--) {
      int j = (int)clfer__rng_below(&r, (uint32_t)i + 1);
      int t = b->order[i];
      b->order[i] = b->order[j], b->order[j] = t;
    }
  }
  b->slots[0].state = b->slots[1].state = SLOT_FREE;
  b->fill_next = b->take_next = 0;
  b->held = -1;
  b->active = 1;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  return CLFER_OK;
}

clfer_status clfer_batcher_next(clfer_batcher_t *b, clfer_batch_t *batch) {
  if (!b || !batch) return clfer_set_error(CLFER_INVALID_ARGUMENT, "batcher_next: NULL argument");
  memset(batch, 0, sizeof *batch);
  pthread_mutex_lock(&b->mu);
  if (!b->active) {
    pthread_mutex_unlock(&b->mu);
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "batcher_next: call clfer_batcher_start_epoch first");
  }
  batch->epoch = b->epoch;
  if (b->held >= 0) { /* the caller is done with the batch it held: the worker may refill it */
    b->slots[b->held].state = SLOT_FREE;
    b->held = -1;
    pthread_cond_broadcast(&b->cv);
  }
  if (b->take_next >= b->batches) {
    batch->index = b->take_next;
    pthread_mutex_unlock(&b->mu);
    return CLFER_OK;
  }
  int si = b->take_next % 2;
  slot_t *s = &b->slots[si];
  double t0 = now_seconds();
  while (s->state != SLOT_READY) pthread_cond_wait(&b->cv, &b->mu);
  double waited = now_seconds() - t0;
  b->stats.wait_seconds += waited;
  b->take_next++;
  s->state = SLOT_HELD;
  b->held = si;
  clfer_status st = s->status;
  if (st) {
    clfer_set_error(st, "batcher: batch %d of epoch %d: %s", s->batch_index, b->epoch, b->error);
    pthread_mutex_unlock(&b->mu);
    return st;
  }
  b->stats.batches++;
  pthread_mutex_unlock(&b->mu);

  batch->n = s->n;
  batch->index = s->batch_index;
  batch->sample_ids = s->ids;
  batch->data = s->where == CLFER_BATCH_HOST ? s->data : NULL;
  batch->images = s->where == CLFER_BATCH_DEVICE ? s->images : NULL;
  batch->matrices = s->matrices;
  batch->targets = s->targets;
  batch->wait_seconds = waited;
  return CLFER_OK;
}

clfer_status clfer_batcher_set_where(clfer_batcher_t *b, clfer_batch_where where) {
  if (!b) return clfer_set_error(CLFER_INVALID_ARGUMENT, "batcher_set_where: NULL");
  if (where != CLFER_BATCH_HOST && where != CLFER_BATCH_DEVICE)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "batcher_set_where: unknown `where` %d", (int)where);
  pthread_mutex_lock(&b->mu);
  b->where = where;
  pthread_mutex_unlock(&b->mu);
  return CLFER_OK;
}

int clfer_batcher_default_threads(int device_is_cpu) {
  if (device_is_cpu) return 1; /* the OpenCL device computes on these cores already */
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int t = cores > 1 ? (int)cores - 1 : 1; /* one core for the training loop */
  return t < 8 ? t : 8;
}

int clfer_batcher_batches_per_epoch(const clfer_batcher_t *b) { return b ? b->batches : 0; }
int clfer_batcher_num_samples(const clfer_batcher_t *b) { return b ? b->pool_size : 0; }

clfer_batcher_stats_t clfer_batcher_stats(const clfer_batcher_t *b) {
  clfer_batcher_stats_t s = {0};
  if (!b) return s;
  pthread_mutex_lock((pthread_mutex_t *)&b->mu);
  s = b->stats;
  pthread_mutex_unlock((pthread_mutex_t *)&b->mu);
  return s;
}

void clfer_batcher_destroy(clfer_batcher_t *b) {
  if (!b) return;
  if (b->has_worker) {
    pthread_mutex_lock(&b->mu);
    b->quit = 1;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->thread, NULL);
  }
  pthread_mutex_lock(&b->job_mu);
  b->helpers_quit = 1;
  pthread_cond_broadcast(&b->job_cv);
  pthread_mutex_unlock(&b->job_mu);
  for (int i = 0; i < b->n_helpers; i++) pthread_join(b->helpers[i], NULL);
  free(b->helpers);
  pthread_mutex_destroy(&b->job_mu);
  pthread_cond_destroy(&b->job_cv);
  pthread_cond_destroy(&b->job_done_cv);
  pthread_mutex_destroy(&b->mu);
  pthread_cond_destroy(&b->cv);
  free_slots(b);
  free(b->pool);
  free(b->order);
  free(b);
}
