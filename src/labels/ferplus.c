/* ferplus.c — FER+ vote processing (Barsoum et al. 2016, §3; METHODS.md "FER+ label schemes"),
 * written to match microsoft/FERPlus src/ferplus.py `_process_data` and `load_folders` step by
 * step, plus the per-epoch targets: PLD's seeded one-hot draw and the multi-label target. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clfer/labels.h"

#define UNKNOWN 8
#define NOT_FACE 9

static const char *const mode_names[] = {"majority", "probability", "crossentropy", "multi_target"};

clfer_status clfer_ferplus_mode_parse(const char *t, clfer_ferplus_mode_t *out) {
  static const struct {
    const char *name;
    clfer_ferplus_mode_t mode;
  } names[] = {{"majority", CLFER_FERPLUS_MAJORITY},         {"mv", CLFER_FERPLUS_MAJORITY},
               {"probability", CLFER_FERPLUS_PROBABILITY},   {"pld", CLFER_FERPLUS_PROBABILITY},
               {"crossentropy", CLFER_FERPLUS_CROSSENTROPY}, {"cel", CLFER_FERPLUS_CROSSENTROPY},
               {"multi_target", CLFER_FERPLUS_MULTI_TARGET}, {"ml", CLFER_FERPLUS_MULTI_TARGET},
               {"multi-target", CLFER_FERPLUS_MULTI_TARGET}};
  for (size_t i = 0; t && i < sizeof names / sizeof names[0]; i++)
    if (!strcmp(t, names[i].name)) {
      *out = names[i].mode;
      return CLFER_OK;
    }
  return clfer_set_error(CLFER_INVALID_ARGUMENT,
                         "unknown FER+ label mode '%s' (majority, probability, crossentropy, multi_target)",
                         t ? t : "(null)");
}

const char *clfer_ferplus_mode_name(clfer_ferplus_mode_t m) {
  return (unsigned)m < 4 ? mode_names[m] : "?";
}

const char *clfer_ferplus_outcome_name(clfer_ferplus_outcome_t o) {
  switch (o) {
    case CLFER_FERPLUS_KEEP: return "kept";
    case CLFER_FERPLUS_DROP_UNRESOLVED: return "unresolved";
    case CLFER_FERPLUS_DROP_UNKNOWN: return "unknown";
    case CLFER_FERPLUS_DROP_NOT_FACE: return "not_face";
    case CLFER_FERPLUS_DROP_NO_NAME: return "no_name";
    default: return "?";
  }
}

static double sum10(const double *v) {
  double s = 0;
  for (int i = 0; i < CLFER_FERPLUS_VOTES; i++) s += v[i];
  return s;
}

clfer_ferplus_outcome_t clfer_ferplus_process(const float votes[CLFER_FERPLUS_VOTES], clfer_ferplus_mode_t mode,
                                              float out[CLFER_FERPLUS_EMOTIONS]) {
  const int n = CLFER_FERPLUS_VOTES;
  double raw[CLFER_FERPLUS_VOTES], em[CLFER_FERPLUS_VOTES] = {0};
  memset(out, 0, sizeof(float) * CLFER_FERPLUS_EMOTIONS);
  /* Step 1, outlier removal: a count of one (or less) is one tagger's outlier. The reference
   * tests `< 1 + float epsilon`. */
  for (int i = 0; i < n; i++) raw[i] = (votes[i] < 1.0 + DBL_EPSILON || !isfinite(votes[i])) ? 0.0 : votes[i];
  const double S = sum10(raw); /* unknown and NF included */
  int unresolved = 0;
  switch (mode) {
    case CLFER_FERPLUS_MAJORITY: {
      /* Step 2: one-hot at the first maximum if it holds more than half of S. */
      int arg = 0;
      for (int i = 1; i < n; i++)
        if (raw[i] > raw[arg]) arg = i;
      if (raw[arg] > 0.5 * S)
        em[arg] = raw[arg];
      else
        unresolved = 1;
      break;
    }
    case CLFER_FERPLUS_PROBABILITY:
    case CLFER_FERPLUS_CROSSENTROPY: {
      /* Step 3: take whole ties at the current maximum until 75% of S is covered, three entries
       * are taken, or unknown/NF comes up (kept only when nothing else was taken before it). */
      double sum_part = 0;
      int count = 0, valid = 1;
      while (sum_part < 0.75 * S && count < 3 && valid) {
        double maxval = raw[0];
        for (int i = 1; i < n; i++)
          if (raw[i] > maxval) maxval = raw[i];
        for (int i = 0; i < n; i++) {
          if (raw[i] != maxval) continue;
          em[i] = maxval;
          raw[i] = 0;
          sum_part += em[i];
          count++;
          if (i >= UNKNOWN) {
            valid = 0;
            if (sum10(em) > maxval) { /* emotions were kept before unknown/NF: drop it */
              em[i] = 0;
              count--;
            }
            break;
          }
        }
      }
      if (sum10(em) <= 0.5 * S || count > 3) unresolved = 1;
      break;
    }
    case CLFER_FERPLUS_MULTI_TARGET: {
      /* Step 4: every entry with at least 30% of S. */
      for (int i = 0; i < n; i++)
        if (raw[i] >= 0.3 * S) em[i] = raw[i];
      if (sum10(em) <= 0.5 * S) unresolved = 1;
      break;
    }
    default: return CLFER_FERPLUS_DROP_UNRESOLVED;
  }
  if (unresolved) return CLFER_FERPLUS_DROP_UNRESOLVED; /* the reference forces "unknown" */
  /* Step 5: used only if the argmax (first on ties) is an emotion; then unknown/NF go and the
   * rest is renormalised over the 8 emotions. */
  int arg = 0;
  for (int i = 1; i < n; i++)
    if (em[i] > em[arg]) arg = i;
  if (arg == UNKNOWN) return CLFER_FERPLUS_DROP_UNKNOWN;
  if (arg == NOT_FACE) return CLFER_FERPLUS_DROP_NOT_FACE;
  double s8 = 0;
  for (int i = 0; i < CLFER_FERPLUS_EMOTIONS; i++) s8 += em[i];
  for (int i = 0; i < CLFER_FERPLUS_EMOTIONS; i++) out[i] = (float)(em[i] / s8);
  return CLFER_FERPLUS_KEEP;
}

clfer_status clfer_ferplus_apply(clfer_store_t *s, clfer_ferplus_mode_t mode, clfer_ferplus_summary_t *summary) {
  if ((unsigned)mode > CLFER_FERPLUS_MULTI_TARGET)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "FER+ labels: invalid mode %d", (int)mode);
  if (!s->votes || s->vote_width != CLFER_FERPLUS_VOTES)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "FER+ labels: the store has %d vote columns, FER+ needs 10",
                           s->vote_width);
  int col[CLFER_FERPLUS_VOTES];
  for (int k = 0; k < CLFER_FERPLUS_VOTES; k++) {
    col[k] = clfer_store_class_index(s, clfer_classes_ferplus[k]);
    if (col[k] < 0)
      return clfer_set_error(CLFER_NOT_FOUND, "FER+ labels: the store has no vote column '%s'", clfer_classes_ferplus[k]);
  }
  clfer_ferplus_summary_t local;
  if (!summary) summary = &local;
  memset(summary, 0, sizeof *summary);
  size_t rows = (size_t)(s->capacity > 0 ? s->capacity : 1);
  float *dist = malloc(sizeof(float) * CLFER_FERPLUS_EMOTIONS * rows);
  uint8_t *keep = malloc(rows);
  char **names = calloc(CLFER_FERPLUS_EMOTIONS, sizeof(char *));
  if (!dist || !keep || !names) goto oom;
  for (int k = 0; k < CLFER_FERPLUS_EMOTIONS; k++) {
    size_t L = strlen(clfer_classes_ferplus[k]) + 1;
    if (!(names[k] = malloc(L))) goto oom;
    memcpy(names[k], clfer_classes_ferplus[k], L);
  }
  int j = 0;
  for (int i = 0; i < s->n; i++) {
    float v[CLFER_FERPLUS_VOTES];
    for (int k = 0; k < CLFER_FERPLUS_VOTES; k++) v[k] = s->votes[(size_t)i * s->vote_width + col[k]];
    clfer_ferplus_outcome_t o = clfer_ferplus_process(v, mode, dist + (size_t)j * CLFER_FERPLUS_EMOTIONS);
    summary->count[s->split[i] < CLFER_SPLIT_COUNT ? s->split[i] : 0][o]++;
    keep[i] = o == CLFER_FERPLUS_KEEP;
    if (keep[i]) {
      const float *d = dist + (size_t)j * CLFER_FERPLUS_EMOTIONS;
      int arg = 0;
      for (int k = 1; k < CLFER_FERPLUS_EMOTIONS; k++)
        if (d[k] > d[arg]) arg = k;
      s->labels[i] = arg;
      j++;
    }
  }
  /* Coder labels are renumbered into FER+ order (columns matched by name). */
  for (int i = 0; i < s->n; i++)
    for (int c = 0; c < s->num_coders; c++) {
      int *cl = &s->coder_labels[(size_t)i * s->num_coders + c];
      if (*cl < 0) continue;
      int m = -1;
      for (int k = 0; k < CLFER_FERPLUS_EMOTIONS; k++)
        if (col[k] == *cl) m = k;
      *cl = m;
    }
  for (int k = 0; k < s->vote_width; k++) free(s->class_names[k]);
  free(s->class_names);
  s->class_names = names;
  free(s->votes);
  s->votes = NULL;
  s->num_classes = CLFER_FERPLUS_EMOTIONS;
  s->vote_width = 0; /* the filter must not move votes: dist is compacted already */
  clfer_store_filter(s, keep);
  s->votes = dist; /* rows 0..j−1 are the kept samples in order */
  s->vote_width = CLFER_FERPLUS_EMOTIONS;
  free(keep);
  return CLFER_OK;
oom:
  free(dist);
  free(keep);
  if (names)
    for (int k = 0; k < CLFER_FERPLUS_EMOTIONS; k++) free(names[k]);
  free(names);
  return clfer_set_error(CLFER_OUT_OF_MEMORY, "FER+ labels: out of memory");
}

/* ---- targets --------------------------------------------------------------------------------- */
static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

int clfer_pld_draw(const float *p, int k, uint64_t seed, uint64_t epoch, uint64_t sample_id) {
  double total = 0;
  int arg = 0;
  for (int i = 0; i < k; i++) {
    if (p[i] > 0 && isfinite(p[i])) total += p[i];
    if (p[i] > p[arg]) arg = i;
  }
  if (!(total > 0)) return arg;
  uint64_t h = mix64(seed ^ 0x9e3779b97f4a7c15ull);
  h = mix64(h ^ (epoch * 0xd1b54a32d192ed03ull + 0x632be59bd9b4e019ull));
  h = mix64(h ^ (sample_id * 0x8cb92ba72f3d8dd7ull + 0x2545f4914f6cdd1dull));
  double u = (double)(h >> 11) * (1.0 / 9007199254740992.0) * total; /* [0, total) */
  double acc = 0;
  int last = arg;
  for (int i = 0; i < k; i++) {
    if (!(p[i] > 0 && isfinite(p[i]))) continue;
    acc += p[i];
    last = i;
    if (u < acc) return i;
  }
  return last; /* rounding at the top end */
}

void clfer_multilabel_target(const float *p, int k, float eps, float *t) {
  for (int i = 0; i < k; i++) t[i] = (1.0f - eps) * (p[i] > 0 ? 1.0f : 0.0f) + eps;
}

void clfer_labels_targets(clfer_ferplus_mode_t mode, const float *dist, const int *ids, int n, int k, uint64_t seed,
                          uint64_t epoch, float *out) {
  for (int i = 0; i < n; i++) {
    const float *p = dist + (size_t)i * k;
    float *t = out + (size_t)i * k;
    switch (mode) {
      case CLFER_FERPLUS_PROBABILITY: {
        int c = clfer_pld_draw(p, k, seed, epoch, ids ? (uint64_t)ids[i] : (uint64_t)i);
        for (int j = 0; j < k; j++) t[j] = j == c ? 1.0f : 0.0f;
        break;
      }
      case CLFER_FERPLUS_MULTI_TARGET: clfer_multilabel_target(p, k, CLFER_MULTILABEL_EPSILON, t); break;
      default: memcpy(t, p, sizeof(float) * (size_t)k); break;
    }
  }
}
