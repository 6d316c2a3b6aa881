/* test_labels_em.c — RAF-DB's EM annotator reliability and Dawid–Skene recover known annotator
 * behaviour from simulated (seeded) votes; the single-label subset rule; reading the
 * `image,annotator,label` CSV with names, synonyms and indices, and its errors. */
#include <math.h>

#include "data_test_util.h"

/* splitmix64 stream */
static uint64_t rng_state;
static double urand(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}
static int pick(const double *p, int k) {
  double u = urand(), acc = 0;
  for (int i = 0; i < k; i++)
    if (u < (acc += p[i])) return i;
  return k - 1;
}

Test(labels_em, raf_em_recovers_reliability) {
  rng_state = 12345;
  enum { N = 800, R = 12, K = 7, PER_ITEM = 8 };
  /* Probability that each annotator gives the true label (errors uniform over the others). */
  const double acc[R] = {0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.143};
  int *item = malloc(sizeof(int) * N * PER_ITEM), *ann = malloc(sizeof(int) * N * PER_ITEM),
      *lab = malloc(sizeof(int) * N * PER_ITEM), truth[N];
  int L = 0;
  for (int j = 0; j < N; j++) {
    truth[j] = (int)(urand() * K);
    int used[R] = {0};
    for (int m = 0; m < PER_ITEM; m++) {
      int i;
      do i = (int)(urand() * R);
      while (used[i]);
      used[i] = 1;
      int l = truth[j];
      if (urand() >= acc[i]) {
        l = (int)(urand() * (K - 1));
        if (l >= truth[j]) l++;
      }
      item[L] = j, ann[L] = i, lab[L] = l, L++;
    }
  }
  clfer_annotations_t *a = NULL;
  cr_assert_eq(clfer_annotations_create(N, R, K, L, item, ann, lab, clfer_classes_rafdb, &a), CLFER_OK, "%s",
               clfer_last_error());
  clfer_em_result_t *r = NULL;
  cr_assert_eq(clfer_em_reliability(a, NULL, &r), CLFER_OK, "%s", clfer_last_error());
  cr_assert_lt(r->iterations, 100, "converged");
  /* Truth: EM beats the plain majority vote and gets nearly everything. */
  int em_ok = 0, mv_ok = 0;
  for (int j = 0; j < N; j++) {
    em_ok += r->label[j] == truth[j];
    int votes[K] = {0};
    for (int l = 0; l < L; l++)
      if (item[l] == j) votes[lab[l]]++;
    int best = 0;
    for (int k = 1; k < K; k++)
      if (votes[k] > votes[best]) best = k;
    mv_ok += best == truth[j];
  }
  cr_assert_geq(em_ok, mv_ok, "EM %d vs majority %d", em_ok, mv_ok);
  cr_assert_gt(em_ok, N * 0.95, "EM truth %d of %d", em_ok, N);
  /* Reliability: the model's accuracy σ(α_i β_j), averaged over the annotator's images, matches
   * the simulated one, and α orders the annotators as the simulation does. */
  for (int i = 0; i < R; i++) {
    double s = 0;
    int n = 0;
    for (int l = 0; l < L; l++)
      if (ann[l] == i) s += 1.0 / (1.0 + exp(-r->alpha[i] * r->beta[item[l]])), n++;
    cr_assert(fabs(s / n - acc[i]) < 0.07, "annotator %d: model accuracy %g vs %g (alpha %g)", i, s / n, acc[i],
              r->alpha[i]);
    if (i > 0) cr_assert_lt(r->alpha[i], r->alpha[i - 1], "alpha order at %d: %g !< %g", i, r->alpha[i], r->alpha[i - 1]);
  }
  /* A uniform guesser (1/7 correct) is less reliable than chance under σ: α < 0. */
  cr_assert_lt(r->alpha[R - 1], 0);
  /* Single-label subset rule, recomputed from α. */
  for (int j = 0; j < N; j++) {
    double g[K] = {0}, mean = 0;
    for (int l = 0; l < L; l++)
      if (item[l] == j) g[lab[l]] += r->alpha[ann[l]];
    for (int k = 0; k < K; k++) mean += g[k] / K;
    int valid = 0, which = -1;
    for (int k = 0; k < K; k++)
      if (g[k] > mean) valid++, which = k;
    cr_assert_eq(r->single[j], valid == 1 ? which : -1, "item %d", j);
    for (int k = 0; k < K; k++) cr_assert(fabs(r->truth[j * K + k] - g[k]) < 1e-9);
  }
  clfer_em_result_destroy(r);
  clfer_annotations_destroy(a);
  free(item);
  free(ann);
  free(lab);
}

Test(labels_em, single_label_subset_by_hand) {
  /* Five annotators agree on images 1..20, so every α > 0. Image 0: three say happiness, two
   * sadness → g = (3α, 2α) with mean 5α/7: both labels are above it → not single-label.
   * Image 21: nine labels, 8 anger and 1 sadness (from the two extra annotators' mix) → g_sad ≈ α
   * is below the mean 9α/7 → single anger. */
  enum { R = 5 };
  int item[200], ann[200], lab[200], L = 0;
  for (int i = 0; i < R; i++) item[L] = 0, ann[L] = i, lab[L] = i < 3 ? 3 : 4, L++;
  for (int j = 1; j <= 20; j++)
    for (int i = 0; i < R; i++) item[L] = j, ann[L] = i, lab[L] = j % 7, L++;
  for (int i = 0; i < R; i++) item[L] = 21, ann[L] = i, lab[L] = 5, L++;
  for (int i = 0; i < R - 1; i++) item[L] = 21, ann[L] = i, lab[L] = i == 0 ? 4 : 5, L++;
  clfer_annotations_t *a = NULL;
  cr_assert_eq(clfer_annotations_create(22, R, 7, L, item, ann, lab, clfer_classes_rafdb, &a), CLFER_OK);
  clfer_em_result_t *r = NULL;
  cr_assert_eq(clfer_em_reliability(a, NULL, &r), CLFER_OK, "%s", clfer_last_error());
  for (int i = 0; i < R; i++) cr_assert_gt(r->alpha[i], 0, "alpha %d = %g", i, r->alpha[i]);
  cr_assert_eq(r->single[0], -1);
  cr_assert_eq(r->label[0], 3, "posterior argmax: happiness");
  for (int j = 1; j <= 20; j++) cr_assert_eq(r->single[j], j % 7);
  cr_assert_eq(r->single[21], 5);
  clfer_em_result_destroy(r);
  clfer_annotations_destroy(a);
}

Test(labels_em, dawid_skene_recovers_confusions) {
  rng_state = 777;
  enum { N = 3000, R = 5, K = 4 };
  const double prior[K] = {0.4, 0.3, 0.2, 0.1};
  double conf[R][K][K];
  for (int i = 0; i < R; i++)
    for (int t = 0; t < K; t++) {
      double s = 0;
      for (int l = 0; l < K; l++) s += (conf[i][t][l] = (l == t ? 3.0 + i * 0.5 : 0.2 + urand()));
      for (int l = 0; l < K; l++) conf[i][t][l] /= s;
    }
  /* annotator 4 systematically says class 2 for class 3 */
  conf[4][3][2] += 0.4, conf[4][3][3] -= 0.4;
  int *item = malloc(sizeof(int) * N * R), *ann = malloc(sizeof(int) * N * R), *lab = malloc(sizeof(int) * N * R);
  int *truth = malloc(sizeof(int) * N);
  int L = 0;
  for (int j = 0; j < N; j++) {
    truth[j] = pick(prior, K);
    for (int i = 0; i < R; i++) item[L] = j, ann[L] = i, lab[L] = pick(conf[i][truth[j]], K), L++;
  }
  clfer_annotations_t *a = NULL;
  cr_assert_eq(clfer_annotations_create(N, R, K, L, item, ann, lab, NULL, &a), CLFER_OK, "%s", clfer_last_error());
  clfer_ds_result_t *r = NULL;
  cr_assert_eq(clfer_dawid_skene(a, NULL, &r), CLFER_OK, "%s", clfer_last_error());
  for (int k = 0; k < K; k++) cr_assert(fabs(r->prior[k] - prior[k]) < 0.03, "prior %d: %g vs %g", k, r->prior[k], prior[k]);
  /* Per-entry tolerance: rows of class 3 rest on ~300 items (SE ≈ 0.03). */
  for (int i = 0; i < R; i++)
    for (int t = 0; t < K; t++)
      for (int l = 0; l < K; l++) {
        double got = r->confusion[(i * K + t) * K + l], want = conf[i][t][l];
        cr_assert(fabs(got - want) < (t == 3 ? 0.09 : 0.05), "annotator %d confusion[%d][%d]: %g vs %g", i, t, l, got,
                  want);
      }
  int ok = 0;
  for (int j = 0; j < N; j++) ok += r->label[j] == truth[j];
  cr_assert_gt(ok, N * 0.9, "truth %d of %d", ok, N);
  for (int j = 0; j < N; j++) {
    double s = 0;
    for (int k = 0; k < K; k++) s += r->posterior[j * K + k];
    cr_assert(fabs(s - 1) < 1e-9);
  }
  clfer_ds_result_destroy(r);
  clfer_annotations_destroy(a);
  free(item), free(ann), free(lab), free(truth);
}

Test(labels_em, read_annotations_csv) {
  clfer_annotations_t *a = NULL;
  cr_assert_eq(clfer_annotations_read_csv(FIXTURE("annotations.csv"), clfer_classes_rafdb, 7, &a), CLFER_OK, "%s",
               clfer_last_error());
  cr_assert_eq(a->num_items, 3);
  cr_assert_eq(a->num_annotators, 3);
  cr_assert_eq(a->num_labels, 9);
  cr_assert_str_eq(a->item_names[1], "img2");
  cr_assert_str_eq(a->annotator_names[2], "ann3");
  /* happiness, happy (synonym), 3 (0-based index = happiness) */
  cr_assert_eq(a->label[0], 3);
  cr_assert_eq(a->label[1], 3);
  cr_assert_eq(a->label[2], 3);
  cr_assert_eq(a->label[4], 4);
  cr_assert_eq(a->label[5], 5);
  cr_assert_eq(a->label[7], 0);
  clfer_annotations_destroy(a);
  const char *dir = test_tmpdir("ann_bad");
  char p[1200];
  snprintf(p, sizeof p, "%s/votes.csv", dir);
  test_write_text(p, "img1,ann1,happy\nimg1,ann2,bored\n");
  DT_EXPECT_ERROR(clfer_annotations_read_csv(p, clfer_classes_rafdb, 7, &a), CLFER_PARSE_ERROR, "votes.csv:2:",
                  "'bored'");
  test_write_text(p, "img1,ann1,7\n");
  DT_EXPECT_ERROR(clfer_annotations_read_csv(p, clfer_classes_rafdb, 7, &a), CLFER_PARSE_ERROR, "votes.csv:1:",
                  "index 0..6");
  test_write_text(p, "img1,ann1\n");
  DT_EXPECT_ERROR(clfer_annotations_read_csv(p, clfer_classes_rafdb, 7, &a), CLFER_PARSE_ERROR, "votes.csv:1:",
                  "got 2 fields");
}
