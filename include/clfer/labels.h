/* clfer/labels.h — crowd votes to training targets: the four FER+ label schemes exactly as
 * METHODS.md (after microsoft/FERPlus src/ferplus.py) states them, PLD's seeded per-epoch draw,
 * multi-label targets, RAF-DB's EM annotator reliability and Dawid–Skene EM. See docs/labels.md. */
#ifndef CLFER_LABELS_H
#define CLFER_LABELS_H

#include <stdint.h>

#include "clfer/data.h"
#include "clfer/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- FER+ schemes ---------------------------------------------------------------------------- */
/* FER+'s vote vector: 8 emotions in FER+ order, then unknown and NF (not a face). */
#define CLFER_FERPLUS_EMOTIONS 8
#define CLFER_FERPLUS_VOTES 10
/* ε of the multi-label target t = (1 − ε)·1[p > 0] + ε. */
#define CLFER_MULTILABEL_EPSILON 0.001f

typedef enum clfer_ferplus_mode {
  CLFER_FERPLUS_MAJORITY = 0,     /* MV */
  CLFER_FERPLUS_PROBABILITY = 1,  /* PLD: a fresh one-hot drawn from the distribution each epoch */
  CLFER_FERPLUS_CROSSENTROPY = 2, /* CEL */
  CLFER_FERPLUS_MULTI_TARGET = 3  /* ML */
} clfer_ferplus_mode_t;

/* "majority", "probability", "crossentropy", "multi_target" (also accepts mv, pld, cel, ml). */
clfer_status clfer_ferplus_mode_parse(const char *text, clfer_ferplus_mode_t *out);
const char *clfer_ferplus_mode_name(clfer_ferplus_mode_t mode);

/* What happened to one sample. Anything but KEEP means the sample is not used. */
typedef enum clfer_ferplus_outcome {
  CLFER_FERPLUS_KEEP = 0,
  CLFER_FERPLUS_DROP_UNRESOLVED = 1, /* the scheme's own rule failed (no majority, too few or too
                                        many votes integrated): forced to "unknown" */
  CLFER_FERPLUS_DROP_UNKNOWN = 2,    /* the processed distribution's argmax is "unknown" */
  CLFER_FERPLUS_DROP_NOT_FACE = 3,   /* its argmax is "NF" */
  CLFER_FERPLUS_DROP_NO_NAME = 4,    /* fer2013new.csv row without an image name (readers) */
  CLFER_FERPLUS_OUTCOMES = 5
} clfer_ferplus_outcome_t;
const char *clfer_ferplus_outcome_name(clfer_ferplus_outcome_t outcome);

/* Processes one 10-vote vector (FER+ order) under `mode` (METHODS.md "FER+ label schemes",
 * steps 1–5). On KEEP, out[8] is the 8-emotion distribution (unknown/NF dropped, renormalised);
 * otherwise out is all zeros. Votes must be finite and >= 0 (the readers check). For
 * CLFER_FERPLUS_PROBABILITY the result is the distribution PLD draws from each epoch. */
clfer_ferplus_outcome_t clfer_ferplus_process(const float votes[CLFER_FERPLUS_VOTES], clfer_ferplus_mode_t mode,
                                              float out[CLFER_FERPLUS_EMOTIONS]);

/* Counts per split and outcome, filled by clfer_ferplus_apply. */
typedef struct clfer_ferplus_summary {
  int count[CLFER_SPLIT_COUNT][CLFER_FERPLUS_OUTCOMES];
} clfer_ferplus_summary_t;

/* Applies clfer_ferplus_process to every sample of a store that holds FER+ votes (10 vote
 * columns named as FER+'s, in any order: they are matched by name): removes the dropped samples,
 * replaces votes by the 8-emotion distribution (vote_width becomes 8; the class order becomes
 * FER+'s) and sets each label to the distribution's argmax (first on ties). `summary` may be NULL. */
clfer_status clfer_ferplus_apply(clfer_store_t *s, clfer_ferplus_mode_t mode, clfer_ferplus_summary_t *summary);

/* ---- per-epoch targets ----------------------------------------------------------------------- */
/* PLD's draw: the class index sampled from distribution p[k] for sample `sample_id` in `epoch`
 * under `seed`. Counter-based (a hash of seed, epoch and sample id), so the draw of a sample
 * does not depend on batch order or thread count. Non-positive or non-finite mass counts as 0;
 * an all-zero p returns argmax 0. */
int clfer_pld_draw(const float *p, int k, uint64_t seed, uint64_t epoch, uint64_t sample_id);
/* Multi-label target of one distribution: t = (1 − ε)·1[p > 0] + ε. */
void clfer_multilabel_target(const float *p, int k, float epsilon, float *t);
/* Targets of n samples for a mode (dist and out: n × k, row-major; ids[i] is the sample's store
 * index, or NULL for 0..n−1): majority and crossentropy copy the distribution, probability
 * draws a one-hot per sample and epoch, multi_target applies CLFER_MULTILABEL_EPSILON. */
void clfer_labels_targets(clfer_ferplus_mode_t mode, const float *dist, const int *ids, int n, int k, uint64_t seed,
                          uint64_t epoch, float *out);

/* ---- per-annotator labels: EM ----------------------------------------------------------------
 * One label per (item, annotator) pair, as read from a CSV `image,annotator,label`: the label is
 * a class name (matched through the synonyms table) or a 0-based index into the class list. An
 * optional first row `image,annotator,label` is a header. */
typedef struct clfer_annotations {
  int num_items, num_annotators, num_classes, num_labels;
  int *item, *annotator, *label; /* num_labels each; label in 0..num_classes−1 */
  char **item_names;             /* num_items, in first-appearance order */
  char **annotator_names;        /* num_annotators, in first-appearance order */
  char **class_names;            /* num_classes */
} clfer_annotations_t;

clfer_status clfer_annotations_read_csv(const char *path, const char *const *class_names, int num_classes,
                                        clfer_annotations_t **out);
/* Builds annotations from arrays (copied); names may be NULL (then "item<i>", "a<i>", "c<k>"). */
clfer_status clfer_annotations_create(int num_items, int num_annotators, int num_classes, int num_labels,
                                      const int *item, const int *annotator, const int *label,
                                      const char *const *class_names, clfer_annotations_t **out);
void clfer_annotations_destroy(clfer_annotations_t *a);

typedef struct clfer_em_options {
  int max_iterations;  /* EM iterations; 0 → 100 */
  double tolerance;    /* stop when no posterior moves more than this; 0 → 1e-6 */
  double prior;        /* precision of the Gaussian priors α ~ N(1, 1/prior), β ~ N(1, 1/prior)
                          (RAF EM only; 0 → 0.01; < 0 → none) */
  double smoothing;    /* Dawid–Skene pseudo-count added to every confusion cell; 0 → 0.01 */
} clfer_em_options_t;

/* RAF-DB's EM (Li et al., Algorithm 1, after Whitehill et al.'s GLAD): p(t_ij = y_j) =
 * σ(α_i β_j), wrong labels uniform over the other K−1 classes. */
typedef struct clfer_em_result {
  int num_items, num_annotators, num_classes, iterations;
  double log_likelihood;
  double *alpha;     /* num_annotators: reliability α_i */
  double *beta;      /* num_items: β_j (1/β_j is the image's difficulty) */
  double *posterior; /* num_items × num_classes: p(y_j | labels) */
  double *truth;     /* num_items × num_classes: g_k = Σ_i α_i·1[t_ij = k] (paper §3.1) */
  int *label;        /* num_items: argmax of the posterior */
  int *single;       /* num_items: the single valid label (g_k > mean g), or −1 */
} clfer_em_result_t;

clfer_status clfer_em_reliability(const clfer_annotations_t *a, const clfer_em_options_t *opt,
                                  clfer_em_result_t **out);
void clfer_em_result_destroy(clfer_em_result_t *r);

/* Dawid–Skene EM (the IPA2LT baseline): class priors π_k and per-annotator confusion matrices
 * θ_i[k][l] = p(annotator i says l | truth k), initialised from the vote fractions. */
typedef struct clfer_ds_result {
  int num_items, num_annotators, num_classes, iterations;
  double log_likelihood;
  double *prior;     /* num_classes */
  double *confusion; /* num_annotators × num_classes × num_classes, rows sum to 1 */
  double *posterior; /* num_items × num_classes */
  int *label;        /* num_items: argmax of the posterior */
} clfer_ds_result_t;

clfer_status clfer_dawid_skene(const clfer_annotations_t *a, const clfer_em_options_t *opt, clfer_ds_result_t **out);
void clfer_ds_result_destroy(clfer_ds_result_t *r);

#ifdef __cplusplus
}
#endif
#endif
