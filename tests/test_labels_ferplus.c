/* test_labels_ferplus.c — the FER+ label schemes on hand-computed vote vectors (outlier removal,
 * ties, unknown/NF interplay, each threshold at its edge: exactly 0.5·S, 0.75·S, 0.3·S, count 3),
 * applying them to a store, PLD's seeded draw converging to the distribution, multi-label targets.
 * Vote order: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF. */
#include <math.h>

#include "data_test_util.h"

#define KEEP CLFER_FERPLUS_KEEP
#define UNRESOLVED CLFER_FERPLUS_DROP_UNRESOLVED
#define UNKNOWN CLFER_FERPLUS_DROP_UNKNOWN
#define NOT_FACE CLFER_FERPLUS_DROP_NOT_FACE

typedef struct vcase {
  const char *what;
  float votes[10];
  clfer_ferplus_outcome_t outcome;
  float want[8];
} vcase_t;

static void run_cases(clfer_ferplus_mode_t mode, const vcase_t *cases, int n) {
  for (int c = 0; c < n; c++) {
    float out[8];
    clfer_ferplus_outcome_t o = clfer_ferplus_process(cases[c].votes, mode, out);
    cr_assert_eq(o, cases[c].outcome, "%s [%s]: outcome %s, expected %s", clfer_ferplus_mode_name(mode), cases[c].what,
                 clfer_ferplus_outcome_name(o), clfer_ferplus_outcome_name(cases[c].outcome));
    for (int k = 0; k < 8; k++)
      cr_assert(fabsf(out[k] - cases[c].want[k]) < 1e-6f, "%s [%s]: out[%d] = %g, expected %g",
                clfer_ferplus_mode_name(mode), cases[c].what, k, out[k], cases[c].want[k]);
  }
}

Test(labels_ferplus, majority) {
  const vcase_t cases[] = {
      /* counts of 1 are outliers: S = 9, max 4 ≤ 4.5 */
      {"first FER+ row", {4, 0, 0, 1, 3, 2, 0, 0, 0, 0}, UNRESOLVED, {0}},
      {"6 of 10", {6, 0, 0, 0, 4, 0, 0, 0, 0, 0}, KEEP, {1, 0, 0, 0, 0, 0, 0, 0}},
      {"exactly 0.5*S is not a majority", {5, 5, 0, 0, 0, 0, 0, 0, 0, 0}, UNRESOLVED, {0}},
      {"outliers removed first", {5, 1, 1, 1, 1, 1, 0, 0, 0, 0}, KEEP, {1, 0, 0, 0, 0, 0, 0, 0}},
      {"unknown majority", {0, 0, 0, 0, 0, 0, 0, 0, 6, 4}, UNKNOWN, {0}},
      {"NF majority", {0, 2, 0, 0, 0, 0, 0, 0, 0, 8}, NOT_FACE, {0}},
      {"all ones: S = 0", {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, UNRESOLVED, {0}},
      {"sum 9 row", {0, 9, 0, 0, 0, 0, 0, 0, 0, 0}, KEEP, {0, 1, 0, 0, 0, 0, 0, 0}},
      {"contempt", {0, 0, 0, 0, 2, 0, 0, 8, 0, 0}, KEEP, {0, 0, 0, 0, 0, 0, 0, 1}},
      {"fear (the reference drops it by an off-by-two)", {0, 0, 0, 0, 0, 0, 7, 3, 0, 0}, KEEP, {0, 0, 0, 0, 0, 0, 1, 0}},
  };
  run_cases(CLFER_FERPLUS_MAJORITY, cases, sizeof cases / sizeof cases[0]);
}

static void prob_like(clfer_ferplus_mode_t mode) {
  const vcase_t cases[] = {
      /* S = 9: take 4 (4 < 6.75), take 3 (7 ≥ 6.75): stop. */
      {"first FER+ row", {4, 0, 0, 1, 3, 2, 0, 0, 0, 0}, KEEP, {4 / 7.f, 0, 0, 0, 3 / 7.f, 0, 0, 0}},
      /* S = 8, 0.75·S = 6: after taking 6 the loop stops exactly at the edge. */
      {"kept-sum exactly 0.75*S stops", {6, 2, 0, 0, 0, 0, 0, 0, 0, 0}, KEEP, {1, 0, 0, 0, 0, 0, 0, 0}},
      {"just below 0.75*S continues", {6, 3, 0, 0, 0, 0, 0, 0, 0, 0}, KEEP, {6 / 9.f, 3 / 9.f, 0, 0, 0, 0, 0, 0}},
      /* S = 8: 4, then the tie 2,2 is taken whole: count 3 is allowed. */
      {"count exactly 3", {4, 2, 2, 0, 0, 0, 0, 0, 0, 0}, KEEP, {.5f, .25f, .25f, 0, 0, 0, 0, 0}},
      /* 3,3 then the tie 2,2: count 4 > 3. */
      {"count 4 via a tie", {3, 3, 2, 2, 0, 0, 0, 0, 0, 0}, UNRESOLVED, {0}},
      /* S = 12: 4 (< 9), then max 3: happiness kept, NF tied after it is dropped and stops. */
      {"NF tied after an emotion is dropped", {4, 3, 2, 0, 0, 0, 0, 0, 0, 3}, KEEP, {4 / 7.f, 3 / 7.f, 0, 0, 0, 0, 0, 0}},
      /* S = 12: 5, 3 (8 < 9), then the tie surprise/unknown at 2: surprise kept, unknown dropped. */
      {"unknown tied at the third step", {5, 3, 2, 0, 0, 0, 0, 0, 2, 0}, KEEP, {.5f, .3f, .2f, 0, 0, 0, 0, 0}},
      /* Unknown is the first maximum: kept alone, then the argmax rule drops the sample. */
      {"unknown first", {2, 0, 0, 0, 0, 0, 0, 0, 6, 2}, UNKNOWN, {0}},
      {"NF first", {0, 0, 3, 0, 0, 0, 0, 0, 0, 7}, NOT_FACE, {0}},
      /* 5 kept, unknown (tied, later) dropped: kept-sum 5 ≤ 0.5·10. */
      {"kept-sum exactly 0.5*S", {5, 0, 0, 0, 0, 0, 0, 0, 5, 0}, UNRESOLVED, {0}},
      /* Unknown and NF tied first: unknown is taken and the loop stops before NF; 4 ≤ 5. */
      {"unknown and NF tied", {0, 2, 0, 0, 0, 0, 0, 0, 4, 4}, UNRESOLVED, {0}},
      {"ties of two emotions", {4, 4, 0, 0, 0, 0, 0, 0, 2, 0}, KEEP, {.5f, .5f, 0, 0, 0, 0, 0, 0}},
      {"all ones", {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, UNRESOLVED, {0}},
      /* S = 10: 6 (< 7.5), then neutral 2 and unknown 2 tie: neutral kept, unknown dropped. */
      {"fixture row 3", {2, 0, 0, 6, 0, 0, 0, 0, 2, 0}, KEEP, {.25f, 0, 0, .75f, 0, 0, 0, 0}},
  };
  run_cases(mode, cases, sizeof cases / sizeof cases[0]);
}

Test(labels_ferplus, probability) { prob_like(CLFER_FERPLUS_PROBABILITY); }
Test(labels_ferplus, crossentropy) { prob_like(CLFER_FERPLUS_CROSSENTROPY); }

Test(labels_ferplus, multi_target) {
  const vcase_t cases[] = {
      /* S = 10: entries ≥ 3 (the edge is included). */
      {"exactly 0.3*S kept", {3, 3, 2, 2, 0, 0, 0, 0, 0, 0}, KEEP, {.5f, .5f, 0, 0, 0, 0, 0, 0}},
      /* S = 9, 0.3·S = 2.7. */
      {"first FER+ row", {4, 0, 0, 1, 3, 2, 0, 0, 0, 0}, KEEP, {4 / 7.f, 0, 0, 0, 3 / 7.f, 0, 0, 0}},
      /* S = 12, 0.3·S = 3.6: only 6 kept, 6 ≤ 0.5·12. */
      {"kept-sum exactly 0.5*S", {6, 2, 2, 2, 0, 0, 0, 0, 0, 0}, UNRESOLVED, {0}},
      /* unknown above the threshold is kept, then dropped by the argmax rule's renormalising. */
      {"unknown kept beside an emotion", {5, 0, 0, 0, 0, 0, 0, 0, 3, 2}, KEEP, {1, 0, 0, 0, 0, 0, 0, 0}},
      {"emotion and unknown tied: first wins", {4, 0, 0, 0, 0, 0, 0, 0, 4, 2}, KEEP, {1, 0, 0, 0, 0, 0, 0, 0}},
      {"NF largest", {3, 0, 0, 0, 0, 0, 0, 0, 0, 7}, NOT_FACE, {0}},
      {"0.5*S case of PLD passes here", {5, 0, 0, 0, 0, 0, 0, 0, 5, 0}, KEEP, {1, 0, 0, 0, 0, 0, 0, 0}},
  };
  run_cases(CLFER_FERPLUS_MULTI_TARGET, cases, sizeof cases / sizeof cases[0]);
}

Test(labels_ferplus, mode_names) {
  clfer_ferplus_mode_t m;
  cr_assert_eq(clfer_ferplus_mode_parse("crossentropy", &m), CLFER_OK);
  cr_assert_eq(m, CLFER_FERPLUS_CROSSENTROPY);
  cr_assert_eq(clfer_ferplus_mode_parse("pld", &m), CLFER_OK);
  cr_assert_eq(m, CLFER_FERPLUS_PROBABILITY);
  DT_EXPECT_ERROR(clfer_ferplus_mode_parse("softmax", &m), CLFER_INVALID_ARGUMENT, "softmax");
}

Test(labels_ferplus, apply_to_store) {
  clfer_store_t *s = NULL;
  cr_assert_eq(clfer_read_fer2013(FIXTURE("fer2013.csv"), FIXTURE("fer2013new.csv"), NULL, &s), CLFER_OK, "%s",
               clfer_last_error());
  clfer_ferplus_summary_t sum;
  cr_assert_eq(clfer_ferplus_apply(s, CLFER_FERPLUS_MAJORITY, &sum), CLFER_OK, "%s", clfer_last_error());
  /* fer0000000 (4,0,0,1,3,2) has no majority; the others do. */
  cr_assert_eq(s->n, 3);
  cr_assert_eq(sum.count[CLFER_SPLIT_TRAIN][KEEP], 1);
  cr_assert_eq(sum.count[CLFER_SPLIT_TRAIN][UNRESOLVED], 1);
  cr_assert_eq(sum.count[CLFER_SPLIT_VALID][KEEP], 1);
  cr_assert_eq(sum.count[CLFER_SPLIT_TEST][KEEP], 1);
  cr_assert_eq(s->vote_width, 8);
  cr_assert_eq(s->num_classes, 8);
  cr_assert_str_eq(s->names[0], "fer0000002.png");
  cr_assert_eq(s->labels[0], 1);
  cr_assert_eq(s->labels[1], 3);
  cr_assert_eq(s->labels[2], 2);
  cr_assert_float_eq(s->votes[1 * 8 + 3], 1.0f, 0);
  /* images moved with their samples: fer0000003 is row 3 of fer2013.csv */
  cr_assert_eq(clfer_store_image(s, 1)[10], (3 * 31 + 10) % 256);
  clfer_store_destroy(s);

  cr_assert_eq(clfer_read_fer2013(FIXTURE("fer2013.csv"), FIXTURE("fer2013new.csv"), NULL, &s), CLFER_OK);
  cr_assert_eq(clfer_ferplus_apply(s, CLFER_FERPLUS_CROSSENTROPY, NULL), CLFER_OK);
  cr_assert_eq(s->n, 4);
  cr_assert_float_eq(s->votes[0 * 8 + 0], 4 / 7.f, 1e-6);
  cr_assert_float_eq(s->votes[0 * 8 + 4], 3 / 7.f, 1e-6);
  cr_assert_float_eq(s->votes[2 * 8 + 3], 0.75f, 1e-6);
  cr_assert_eq(s->labels[2], 3);
  clfer_store_destroy(s);
}

Test(labels_ferplus, pld_draw_converges) {
  const float p[5] = {0.5f, 0.3f, 0.0f, 0.2f, 0.0f};
  const int epochs = 20000;
  int count[5] = {0};
  for (int e = 0; e < epochs; e++) count[clfer_pld_draw(p, 5, 42, (uint64_t)e, 7)]++;
  for (int k = 0; k < 5; k++) {
    double f = (double)count[k] / epochs;
    /* 4.5 standard deviations of a binomial frequency at n = 20000 is < 0.016 */
    cr_assert(fabs(f - p[k]) < 0.016, "class %d: frequency %g vs %g", k, f, p[k]);
  }
  cr_assert_eq(count[2], 0, "zero-probability classes are never drawn");
  cr_assert_eq(count[4], 0);
  /* Over samples at one epoch, too (draws are independent across sample ids). */
  int c0 = 0;
  for (int i = 0; i < epochs; i++) c0 += clfer_pld_draw(p, 5, 42, 3, (uint64_t)i) == 0;
  cr_assert(fabs((double)c0 / epochs - 0.5) < 0.016, "over samples: %g", (double)c0 / epochs);
  /* Seeded and reproducible; the epoch changes the draw. */
  int same = 1, differs = 0;
  for (int i = 0; i < 100; i++) {
    same &= clfer_pld_draw(p, 5, 9, 4, (uint64_t)i) == clfer_pld_draw(p, 5, 9, 4, (uint64_t)i);
    differs += clfer_pld_draw(p, 5, 9, 4, (uint64_t)i) != clfer_pld_draw(p, 5, 9, 5, (uint64_t)i);
  }
  cr_assert(same);
  cr_assert_gt(differs, 20);
  const float zero[3] = {0, 0, 0};
  cr_assert_eq(clfer_pld_draw(zero, 3, 1, 1, 1), 0);
}

Test(labels_ferplus, targets_per_mode) {
  const float d[2 * 4] = {0.6f, 0.4f, 0, 0, 0, 0, 1, 0};
  const int ids[2] = {11, 12};
  float t[8];
  clfer_labels_targets(CLFER_FERPLUS_CROSSENTROPY, d, ids, 2, 4, 1, 0, t);
  cr_assert_arr_eq(t, d, sizeof t);
  clfer_labels_targets(CLFER_FERPLUS_MULTI_TARGET, d, ids, 2, 4, 1, 0, t);
  const float ml[8] = {1, 1, 0.001f, 0.001f, 0.001f, 0.001f, 1, 0.001f};
  for (int i = 0; i < 8; i++) cr_assert_float_eq(t[i], ml[i], 1e-7, "ml %d", i);
  clfer_labels_targets(CLFER_FERPLUS_PROBABILITY, d, ids, 2, 4, 1, 3, t);
  int c = clfer_pld_draw(d, 4, 1, 3, 11);
  for (int k = 0; k < 4; k++) cr_assert_float_eq(t[k], k == c ? 1.f : 0.f, 0);
  cr_assert_float_eq(t[4 + 2], 1.f, 0, "a one-hot distribution always draws its class");
}
