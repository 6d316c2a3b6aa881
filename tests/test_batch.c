/* test_batch.c — the background batcher: every sample exactly once per epoch, seeded and
 * reproducible, epochs differ, drop_last and subsets, and under double buffering every batch the
 * caller sees is consistent (ids, targets, matrices and pre-processed data belong together);
 * helper threads and a change of form mid-epoch leave the batches as they were. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clfer/batch.h"
#include "test_util.h"

enum { N = 103, H = 12, W = 12, K = 3 };

typedef struct dataset {
  uint8_t images[N * H * W];
  float targets[N * K];
} dataset_t;

/* Image i encodes i in every pixel (plus a ramp), target i is (i, 2i, −i): a torn batch shows. */
static dataset_t *make_dataset(void) {
  dataset_t *d = malloc(sizeof *d);
  for (int i = 0; i < N; i++) {
    for (int p = 0; p < H * W; p++) d->images[i * H * W + p] = (uint8_t)((i + p) & 255);
    d->targets[i * K + 0] = (float)i, d->targets[i * K + 1] = 2.0f * i, d->targets[i * K + 2] = -(float)i;
  }
  return d;
}

static clfer_batcher_options_t small_options(void) {
  clfer_batcher_options_t o = clfer_batcher_options_default();
  o.batch_size = 10;
  o.seed = 1234;
  o.preproc = clfer_preproc_linear(16, 16, 1, 1.0f);
  o.augment_config = clfer_augment_config_ferplus();
  return o;
}

static void sleep_ms(int ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

/* Pulls one epoch and checks each batch against the dataset; returns the ids in order. */
static int run_epoch(clfer_batcher_t *b, const dataset_t *d, const clfer_batcher_options_t *o, int epoch, int *ids,
                     int slow) {
  cr_assert_eq(clfer_batcher_start_epoch(b, epoch), CLFER_OK);
  int count = 0, index = 0;
  size_t per = (size_t)o->preproc.out_c * o->preproc.out_h * o->preproc.out_w;
  float *want = malloc(per * sizeof *want);
  for (;;) {
    clfer_batch_t batch;
    cr_assert_eq(clfer_batcher_next(b, &batch), CLFER_OK, "%s", clfer_last_error());
    if (batch.n == 0) break;
    cr_assert_eq(batch.index, index++);
    cr_assert_eq(batch.epoch, epoch);
    cr_assert(batch.n <= o->batch_size);
    cr_assert(batch.wait_seconds >= 0);
    for (int j = 0; j < batch.n; j++) {
      int id = batch.sample_ids[j];
      cr_assert(id >= 0 && id < N);
      ids[count++] = id;
      for (int k = 0; k < K; k++) cr_assert_eq(batch.targets[j * K + k], d->targets[id * K + k], "torn targets");
      cr_assert((batch.data == NULL) != (batch.images == NULL), "a batch carries exactly one form");
      if (batch.data) {
        cr_assert_eq(clfer_preprocess_host(d->images + id * H * W, H, W, 1, batch.matrices + 6 * j, &o->preproc, want),
                     CLFER_OK);
        cr_assert_arr_eq(batch.data + per * j, want, per * sizeof *want, "torn data: sample %d of batch %d", j,
                         batch.index);
      } else {
        cr_assert_arr_eq(batch.images + (size_t)j * H * W, d->images + id * H * W, H * W, "torn images");
      }
    }
    if (slow && index % 3 == 0) sleep_ms(2); /* let the worker run ahead into the other slot */
  }
  free(want);
  return count;
}

Test(batch, every_sample_once_per_epoch) {
  dataset_t *d = make_dataset();
  clfer_batcher_options_t o = small_options();
  clfer_batcher_t *b;
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &b), CLFER_OK, "%s", clfer_last_error());
  cr_assert_eq(clfer_batcher_batches_per_epoch(b), 11);
  int ids[N + 10];
  for (int epoch = 0; epoch < 3; epoch++) {
    int count = run_epoch(b, d, &o, epoch, ids, epoch == 1);
    cr_assert_eq(count, N);
    int seen[N] = {0};
    for (int i = 0; i < count; i++) seen[ids[i]]++;
    for (int i = 0; i < N; i++) cr_assert_eq(seen[i], 1, "sample %d seen %d times in epoch %d", i, seen[i], epoch);
  }
  /* after the end, next keeps answering n = 0 */
  clfer_batch_t batch;
  cr_assert_eq(clfer_batcher_next(b, &batch), CLFER_OK);
  cr_assert_eq(batch.n, 0);
  clfer_batcher_stats_t st = clfer_batcher_stats(b);
  cr_assert_eq(st.batches, 33);
  cr_assert(st.wait_seconds >= 0 && st.prepare_seconds > 0);
  clfer_batcher_destroy(b);
  free(d);
}

Test(batch, deterministic_for_a_seed_and_epochs_differ) {
  dataset_t *d = make_dataset();
  clfer_batcher_options_t o = small_options();
  clfer_batcher_t *a, *b, *c;
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &a), CLFER_OK);
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &b), CLFER_OK);
  o.seed = 99;
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &c), CLFER_OK);
  int ia[N], ib[N], ic[N], ia1[N];
  run_epoch(a, d, &o, 5, ia, 0);
  run_epoch(b, d, &o, 5, ib, 1);
  run_epoch(c, d, &o, 5, ic, 0);
  run_epoch(a, d, &o, 6, ia1, 0);
  cr_assert_arr_eq(ia, ib, sizeof ia, "same seed and epoch, same order whatever the timing");
  cr_assert(memcmp(ia, ic, sizeof ia) != 0, "another seed, another order");
  cr_assert(memcmp(ia, ia1, sizeof ia) != 0, "another epoch, another order");
  /* the augmentation of a sample depends on (seed, epoch, sample), not on the batch it lands in */
  cr_assert_eq(clfer_batcher_start_epoch(a, 5), CLFER_OK);
  cr_assert_eq(clfer_batcher_start_epoch(b, 5), CLFER_OK);
  clfer_batch_t x, y;
  cr_assert_eq(clfer_batcher_next(a, &x), CLFER_OK);
  cr_assert_eq(clfer_batcher_next(b, &y), CLFER_OK);
  cr_assert_arr_eq(x.matrices, y.matrices, (size_t)x.n * 6 * sizeof(float));
  float m[6];
  cr_assert_eq(clfer_augment_draw(&o.augment_config, H, W, 16, 16, 1234, ((uint64_t)5 << 32) | (uint64_t)x.sample_ids[0], m),
               CLFER_OK);
  cr_assert_arr_eq(x.matrices, m, sizeof m);
  clfer_batcher_destroy(a), clfer_batcher_destroy(b), clfer_batcher_destroy(c);
  free(d);
}

Test(batch, switching_to_the_device_form_mid_epoch_keeps_the_sequence) {
  dataset_t *d = make_dataset();
  clfer_batcher_options_t o = small_options();
  clfer_batcher_t *a, *b;
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &a), CLFER_OK);
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &b), CLFER_OK);
  int ia[N];
  run_epoch(a, d, &o, 3, ia, 0);
  cr_assert_eq(clfer_batcher_start_epoch(b, 3), CLFER_OK);
  int count = 0, forms[2] = {0}, switched_at = -1, back_at = -1;
  for (int i = 0;; i++) {
    clfer_batch_t x;
    cr_assert_eq(clfer_batcher_next(b, &x), CLFER_OK, "%s", clfer_last_error());
    if (x.n == 0) break;
    if (x.images && switched_at < 0) switched_at = i;
    if (x.data && switched_at >= 0 && back_at < 0) back_at = i;
    forms[x.images != NULL]++;
    for (int j = 0; j < x.n; j++) {
      cr_assert_eq(x.sample_ids[j], ia[count], "batch %d sample %d: the switch changed the order", i, j);
      const uint8_t *img = d->images + x.sample_ids[j] * H * W;
      if (x.images) cr_assert_arr_eq(x.images + (size_t)j * H * W, img, H * W, "torn images in batch %d", i);
      count++;
    }
    if (i == 2) cr_assert_eq(clfer_batcher_set_where(b, CLFER_BATCH_DEVICE), CLFER_OK);
    if (i == 7) cr_assert_eq(clfer_batcher_set_where(b, CLFER_BATCH_HOST), CLFER_OK);
  }
  cr_assert_eq(count, N);
  /* the worker may hold one batch of the old form, so each change shows after one or two batches */
  cr_assert(switched_at == 3 || switched_at == 4, "device form from batch %d", switched_at);
  cr_assert(back_at == 8 || back_at == 9, "host form again from batch %d", back_at);
  cr_assert(forms[0] > 0 && forms[1] > 0);
  cr_assert_eq(clfer_batcher_set_where(b, (clfer_batch_where)7), CLFER_INVALID_ARGUMENT);
  clfer_batcher_destroy(a), clfer_batcher_destroy(b);
  free(d);
}

/* Helper threads take samples of the same batch; every sample's matrix and pixels depend only on
 * (seed, epoch, sample), so batches are byte-identical whatever the thread count and form. */
Test(batch, helper_threads_give_identical_batches) {
  dataset_t *d = make_dataset();
  for (int form = 0; form < 2; form++) {
    clfer_batcher_options_t o = small_options();
    o.where = form ? CLFER_BATCH_DEVICE : CLFER_BATCH_HOST;
    clfer_batcher_t *one, *many;
    cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &one), CLFER_OK);
    o.threads = 4;
    cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &many), CLFER_OK, "%s",
                 clfer_last_error());
    size_t per = form ? (size_t)H * W : (size_t)16 * 16 * sizeof(float);
    for (int epoch = 0; epoch < 3; epoch++) {
      cr_assert_eq(clfer_batcher_start_epoch(one, epoch), CLFER_OK);
      cr_assert_eq(clfer_batcher_start_epoch(many, epoch), CLFER_OK);
      int batches = 0;
      for (;;) {
        clfer_batch_t x, y;
        cr_assert_eq(clfer_batcher_next(one, &x), CLFER_OK);
        cr_assert_eq(clfer_batcher_next(many, &y), CLFER_OK, "%s", clfer_last_error());
        cr_assert_eq(x.n, y.n);
        if (x.n == 0) break;
        cr_assert_arr_eq(x.sample_ids, y.sample_ids, (size_t)x.n * sizeof(int));
        cr_assert_arr_eq(x.matrices, y.matrices, (size_t)x.n * 6 * sizeof(float));
        cr_assert_arr_eq(x.targets, y.targets, (size_t)x.n * K * sizeof(float));
        const void *px = form ? (const void *)x.images : (const void *)x.data;
        const void *py = form ? (const void *)y.images : (const void *)y.data;
        cr_assert_arr_eq(px, py, (size_t)x.n * per, "form %d epoch %d batch %d differs", form, epoch, x.index);
        if (batches++ == 4) sleep_ms(2);
      }
      cr_assert_eq(batches, 11);
    }
    clfer_batcher_destroy(one), clfer_batcher_destroy(many);
  }
  clfer_batcher_options_t o = small_options();
  o.threads = -1;
  clfer_batcher_t *b = NULL;
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &b), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "threads"), "%s", clfer_last_error());
  o.threads = 3;
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &b), CLFER_OK);
  clfer_batcher_destroy(b); /* never started: the helpers still stop */
  cr_assert_geq(clfer_batcher_default_threads(0), 1);
  cr_assert_leq(clfer_batcher_default_threads(0), 8);
  cr_assert_eq(clfer_batcher_default_threads(1), 1);
  free(d);
}

Test(batch, no_shuffle_no_augment_is_the_plain_order) {
  dataset_t *d = make_dataset();
  clfer_batcher_options_t o = small_options();
  o.shuffle = 0, o.augment = 0;
  clfer_batcher_t *b;
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &b), CLFER_OK);
  int ids[N];
  cr_assert_eq(run_epoch(b, d, &o, 0, ids, 0), N);
  for (int i = 0; i < N; i++) cr_assert_eq(ids[i], i);
  clfer_batcher_destroy(b);
  free(d);
}

Test(batch, drop_last_subset_and_device_path) {
  dataset_t *d = make_dataset();
  clfer_batcher_options_t o = small_options();
  o.drop_last = 1;
  o.where = CLFER_BATCH_DEVICE;
  int subset[45];
  for (int i = 0; i < 45; i++) subset[i] = 2 * i + 1; /* odd samples only */
  o.subset = subset, o.subset_size = 45;
  clfer_batcher_t *b;
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &b), CLFER_OK);
  cr_assert_eq(clfer_batcher_batches_per_epoch(b), 4);
  cr_assert_eq(clfer_batcher_num_samples(b), 45);
  int ids[N], seen[N] = {0};
  int count = run_epoch(b, d, &o, 0, ids, 1);
  cr_assert_eq(count, 40);
  for (int i = 0; i < count; i++) {
    cr_assert(ids[i] % 2 == 1, "sample %d is outside the subset", ids[i]);
    cr_assert_eq(++seen[ids[i]], 1);
  }
  clfer_batcher_destroy(b);
  free(d);
}

Test(batch, restart_mid_epoch) {
  dataset_t *d = make_dataset();
  clfer_batcher_options_t o = small_options();
  clfer_batcher_t *b;
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &b), CLFER_OK);
  cr_assert_eq(clfer_batcher_start_epoch(b, 0), CLFER_OK);
  clfer_batch_t batch;
  cr_assert_eq(clfer_batcher_next(b, &batch), CLFER_OK);
  cr_assert_eq(clfer_batcher_next(b, &batch), CLFER_OK);
  int ids[N];
  cr_assert_eq(run_epoch(b, d, &o, 1, ids, 0), N); /* abandons epoch 0 */
  clfer_batcher_destroy(b);
  /* destroy while the worker is filling */
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &b), CLFER_OK);
  cr_assert_eq(clfer_batcher_start_epoch(b, 0), CLFER_OK);
  clfer_batcher_destroy(b);
  free(d);
}

Test(batch, bad_input) {
  dataset_t *d = make_dataset();
  clfer_batcher_options_t o = small_options();
  clfer_batcher_t *b = NULL;
  clfer_batch_t batch;
  o.batch_size = 0;
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &b), CLFER_INVALID_ARGUMENT);
  cr_assert_null(b);
  o = small_options();
  int subset[2] = {0, N};
  o.subset = subset, o.subset_size = 2;
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &b), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "subset[1]") != NULL, "%s", clfer_last_error());
  o = small_options();
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, NULL, K, &o, &b), CLFER_INVALID_ARGUMENT);
  o.preproc.out_c = 5;
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, d->targets, K, &o, &b), CLFER_INVALID_ARGUMENT);
  cr_assert(strstr(clfer_last_error(), "batcher") != NULL, "%s", clfer_last_error());
  o = small_options();
  cr_assert_eq(clfer_batcher_create(d->images, N, H, W, 1, NULL, 0, &o, &b), CLFER_OK);
  cr_assert_eq(clfer_batcher_next(b, &batch), CLFER_INVALID_ARGUMENT, "next before start_epoch");
  cr_assert_eq(clfer_batcher_start_epoch(b, 0), CLFER_OK);
  cr_assert_eq(clfer_batcher_next(b, &batch), CLFER_OK);
  cr_assert_null(batch.targets);
  clfer_batcher_destroy(b);
  free(d);
}
