/* synth.c — the synthetic FER+-like dataset in memory: each row's true emotion mixture and
 * intensity, its rendered face (synth_render.c), 10 crowd votes from a pool of simulated taggers
 * with their own skill, bias and confusions, and a FER2013-style single label. Every row uses its
 * own random streams, so a row does not depend on the others and a seed fixes every byte. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clfer/synth.h"
#include "data/augment_rng.h"
#include "data/synth_internal.h"

enum { NEUTRAL, HAPPINESS, SURPRISE, SADNESS, ANGER, DISGUST, FEAR, CONTEMPT, UNKNOWN, NOT_FACE };

const char *const clfer_synth_ferplus_names[CLFER_SYNTH_VOTE_COLUMNS] = {
    "neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF"};
const char *const clfer_synth_fer2013_names[7] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};
const int clfer_synth_ferplus_to_fer2013[CLFER_SYNTH_EMOTIONS] = {6, 3, 5, 4, 0, 1, 2, -1};

/* Roughly FER+'s majority-label shares (train: neutral 36 %, happiness 27 %, surprise 12 %,
 * sadness 12 %, anger 9 %, fear 2.3 %, disgust 0.8 %, contempt 0.6 %), with the three rare classes
 * raised a little so a 500-row test split still holds a handful of each. */
const double clfer_synth_class_frequency[CLFER_SYNTH_EMOTIONS] = {0.33, 0.26, 0.12, 0.12, 0.09, 0.025, 0.035, 0.02};

/* Which emotion blends into which (the second component of a mixed face). */
static const double k_blend[CLFER_SYNTH_EMOTIONS][CLFER_SYNTH_EMOTIONS] = {
    /* neu  hap  sur  sad  ang  dis  fea  con */
    {0, .30, .15, .35, .05, 0, .05, .10},  /* neutral */
    {.45, 0, .35, 0, 0, 0, 0, .20},        /* happiness */
    {.20, .25, 0, 0, 0, 0, .55, 0},        /* surprise */
    {.45, 0, 0, 0, .15, .10, .20, .10},    /* sadness */
    {.15, 0, 0, .25, 0, .50, .05, .05},    /* anger */
    {.05, 0, 0, .20, .50, 0, .05, .20},    /* disgust */
    {.05, 0, .55, .30, .05, .05, 0, 0},    /* fear */
    {.50, .25, 0, .05, .05, .15, 0, 0},    /* contempt */
};

/* How a tagger errs on each true emotion (rows sum to 1; the diagonal is unused). */
static const double k_confuse[CLFER_SYNTH_EMOTIONS][CLFER_SYNTH_EMOTIONS] = {
    {0, .15, .10, .35, .10, .05, .05, .20},  /* neutral → sadness, contempt, … */
    {.50, 0, .25, .02, .02, .02, .04, .15},  /* happiness → neutral, surprise */
    {.20, .25, 0, .03, .02, .02, .45, .03},  /* surprise → fear */
    {.45, .02, .03, 0, .10, .10, .18, .12},  /* sadness → neutral, fear */
    {.20, .02, .03, .20, 0, .40, .07, .08},  /* anger → disgust, sadness */
    {.08, .02, .02, .20, .45, 0, .08, .15},  /* disgust → anger */
    {.08, .02, .45, .25, .08, .07, 0, .05},  /* fear → surprise, sadness */
    {.45, .20, .02, .10, .08, .15, 0, 0},    /* contempt → neutral, happiness */
};

/* Hard classes are harder to tell: their error rate is scaled up (FER+'s lowest agreement). */
static const double k_hardness[CLFER_SYNTH_EMOTIONS] = {1.0, 0.7, 1.0, 1.1, 1.2, 1.8, 1.8, 2.0};

enum { STREAM_ROW = 0x726f7721u, STREAM_TAGGER = 0x74616767u, STREAM_VOTES = 0x766f7465u,
       STREAM_LABELLER = 0x6c61626cu };

clfer_synth_options_t clfer_synth_options_default(void) {
  clfer_synth_options_t o = {0};
  o.seed = 1;
  o.n_train = 4000, o.n_valid = 500, o.n_test = 500;
  o.not_face_rate = 0.005;
  o.tagger_pool = 40;
  return o;
}

/* ---- taggers ---------------------------------------------------------------------------------- */

/* A tagger with error rate `skill` on an average class, a personal taste for some labels (bias)
 * and the shared confusion structure. */
static void build_tagger(clfer__rng_t *r, double skill, clfer__synth_tagger_t *t) {
  double bias[CLFER_SYNTH_EMOTIONS], bsum = 0;
  for (int k = 0; k < CLFER_SYNTH_EMOTIONS; k++) bsum += (bias[k] = pow(clfer__rng_uniform(r), 3.0));
  t->unknown_rate = clfer__rng_range(r, 0.0, 0.04);
  for (int k = 0; k < CLFER_SYNTH_EMOTIONS; k++) {
    double eps = fmin(0.9, skill * k_hardness[k]), off = 0;
    double row[CLFER_SYNTH_EMOTIONS];
    for (int l = 0; l < CLFER_SYNTH_EMOTIONS; l++) {
      row[l] = l == k ? 0.0 : 0.7 * k_confuse[k][l] + 0.3 * bias[l] / bsum;
      off += row[l];
    }
    for (int l = 0; l < CLFER_SYNTH_EMOTIONS; l++) t->confusion[k][l] = l == k ? 1.0 - eps : eps * row[l] / off;
  }
}

void clfer__synth_make_taggers(uint64_t seed, int count, clfer__synth_tagger_t *t) {
  for (int j = 0; j < count; j++) {
    clfer__rng_t r = clfer__rng_stream(seed, (uint64_t)j, STREAM_TAGGER);
    double kind = clfer__rng_uniform(&r);
    double skill = kind < 0.8 ? clfer__rng_range(&r, 0.04, 0.18)   /* careful */
                   : kind < 0.95 ? clfer__rng_range(&r, 0.2, 0.35) /* sloppy */
                                 : 0.7;                            /* spammer */
    build_tagger(&r, skill, &t[j]);
  }
}

void clfer__synth_make_labeller(uint64_t seed, uint64_t which, double skill, clfer__synth_tagger_t *t) {
  clfer__rng_t r = clfer__rng_stream(seed, which, STREAM_LABELLER);
  build_tagger(&r, skill, t);
}

/* One tagger's vote on a face with true mixture `truth` (ambiguity raises unknown votes; low
 * intensity raises every error). */
static int tagger_vote(clfer__rng_t *r, const clfer__synth_tagger_t *t, const double *truth, double ambiguity,
                       double intensity) {
  double u = clfer__rng_uniform(r);
  if (u < 0.002) return NOT_FACE;
  if (u < 0.002 + t->unknown_rate + 0.06 * ambiguity) return UNKNOWN;
  int k = clfer__rng_categorical(r, truth, CLFER_SYNTH_EMOTIONS);
  double blur = 1.0 + 0.8 * fmax(0.0, 1.0 - intensity); /* faint expressions are misread more */
  double row[CLFER_SYNTH_EMOTIONS];
  for (int l = 0; l < CLFER_SYNTH_EMOTIONS; l++)
    row[l] = l == k ? 1.0 - fmin(0.95, (1.0 - t->confusion[k][k]) * blur)
                    : t->confusion[k][l] * fmin(0.95, (1.0 - t->confusion[k][k]) * blur) / (1.0 - t->confusion[k][k]);
  return clfer__rng_categorical(r, row, CLFER_SYNTH_EMOTIONS);
}

/* ---- rows ------------------------------------------------------------------------------------- */

void clfer__synth_draw_truth(clfer__rng_t *r, int primary, float mixture[CLFER_SYNTH_EMOTIONS], float *intensity,
                             double truth[CLFER_SYNTH_EMOTIONS]) {
  memset(mixture, 0, CLFER_SYNTH_EMOTIONS * sizeof *mixture);
  int hard = primary == DISGUST || primary == FEAR || primary == CONTEMPT;
  *intensity = (float)(hard ? clfer__rng_range(r, 0.35, 0.95) : clfer__rng_range(r, 0.5, 1.15));
  mixture[primary] = 1.0f;
  if (clfer__rng_uniform(r) < 0.3) { /* a blend of two emotions */
    int second = clfer__rng_categorical(r, k_blend[primary], CLFER_SYNTH_EMOTIONS);
    float w2 = (float)clfer__rng_range(r, 0.15, 0.45);
    mixture[primary] = 1.0f - w2;
    mixture[second] += w2;
  }
  /* What people perceive: a faint expression reads partly as neutral. */
  double sum = 0;
  for (int k = 0; k < CLFER_SYNTH_EMOTIONS; k++) sum += (truth[k] = mixture[k]);
  truth[NEUTRAL] += 0.6 * fmax(0.0, 1.0 - *intensity);
  sum += 0.6 * fmax(0.0, 1.0 - *intensity);
  for (int k = 0; k < CLFER_SYNTH_EMOTIONS; k++) truth[k] /= sum;
}

static double normalised_entropy(const double *p, int n) {
  double h = 0;
  for (int i = 0; i < n; i++)
    if (p[i] > 0) h -= p[i] * log(p[i]);
  return h / log((double)n);
}

static int fer2013_from_votes(const uint8_t *votes) {
  /* majority among the 7 FER2013 classes; ties → FER+ order; none → neutral */
  int best = NEUTRAL;
  for (int k = 0; k < CLFER_SYNTH_EMOTIONS; k++)
    if (k != CONTEMPT && votes[k] > votes[best]) best = k;
  return clfer_synth_ferplus_to_fer2013[best];
}

static void generate_row(const clfer_synth_options_t *o, const clfer__synth_tagger_t *taggers,
                         const clfer__synth_tagger_t *original, int row, clfer_synth_data_t *d) {
  clfer__rng_t r = clfer__rng_stream(o->seed, (uint64_t)row, STREAM_ROW);
  clfer__rng_t rv = clfer__rng_stream(o->seed, (uint64_t)row, STREAM_VOTES);
  uint8_t *votes = d->votes + (size_t)row * CLFER_SYNTH_VOTE_COLUMNS;
  uint8_t *labels = d->vote_label + (size_t)row * CLFER_SYNTH_TAGGERS;
  uint16_t *who = d->annotator + (size_t)row * CLFER_SYNTH_TAGGERS;
  uint8_t *px = d->pixels + (size_t)row * CLFER_SYNTH_SIZE * CLFER_SYNTH_SIZE;
  float *truth_out = d->truth + (size_t)row * CLFER_SYNTH_EMOTIONS;
  memset(votes, 0, CLFER_SYNTH_VOTE_COLUMNS);

  /* 10 distinct taggers from the pool (partial Fisher–Yates) */
  int pool[1024];
  int np = o->tagger_pool;
  for (int j = 0; j < np; j++) pool[j] = j;
  for (int j = 0; j < CLFER_SYNTH_TAGGERS; j++) {
    int pick = j + (int)clfer__rng_below(&rv, (uint32_t)(np - j));
    int t = pool[j];
    pool[j] = pool[pick], pool[pick] = t;
    who[j] = (uint16_t)pool[j];
  }

  if (clfer__rng_uniform(&r) < o->not_face_rate) {
    d->is_face[row] = 0;
    d->primary[row] = -1;
    d->intensity[row] = 0;
    memset(truth_out, 0, CLFER_SYNTH_EMOTIONS * sizeof *truth_out);
    clfer__synth_render_nonface(o->seed, (uint64_t)row, px);
    for (int j = 0; j < CLFER_SYNTH_TAGGERS; j++) {
      double u = clfer__rng_uniform(&rv);
      int l = u < 0.8 ? NOT_FACE : u < 0.9 ? UNKNOWN : (int)clfer__rng_below(&rv, CLFER_SYNTH_EMOTIONS);
      labels[j] = (uint8_t)l;
      votes[l]++;
    }
    d->fer2013[row] = (uint8_t)clfer__rng_below(&r, 7);
    return;
  }
  d->is_face[row] = 1;
  int primary = clfer__rng_categorical(&r, clfer_synth_class_frequency, CLFER_SYNTH_EMOTIONS);
  float mixture[CLFER_SYNTH_EMOTIONS], intensity;
  double truth[CLFER_SYNTH_EMOTIONS];
  clfer__synth_draw_truth(&r, primary, mixture, &intensity, truth);
  d->primary[row] = (int8_t)primary;
  d->intensity[row] = intensity;
  for (int k = 0; k < CLFER_SYNTH_EMOTIONS; k++) truth_out[k] = (float)truth[k];
  clfer_synth_render(o->seed, (uint64_t)row, mixture, intensity, px);

  double ambiguity = normalised_entropy(truth, CLFER_SYNTH_EMOTIONS);
  for (int j = 0; j < CLFER_SYNTH_TAGGERS; j++) {
    int l = tagger_vote(&rv, &taggers[who[j]], truth, ambiguity, intensity);
    labels[j] = (uint8_t)l;
    votes[l]++;
  }
  /* FER2013's own label: one more, sloppier labeller (FER2013 labels are noisier than FER+'s
   * majority); contempt, which FER2013 lacks, becomes the crowd's majority among the other 7. */
  int l = tagger_vote(&r, original, truth, 0.0, intensity);
  if (l >= CLFER_SYNTH_EMOTIONS || l == CONTEMPT)
    d->fer2013[row] = (uint8_t)fer2013_from_votes(votes);
  else
    d->fer2013[row] = (uint8_t)clfer_synth_ferplus_to_fer2013[l];
}

void clfer_synth_data_free(clfer_synth_data_t *d) {
  if (!d) return;
  free(d->pixels), free(d->truth), free(d->primary), free(d->intensity), free(d->votes), free(d->annotator);
  free(d->vote_label), free(d->usage), free(d->is_face), free(d->fer2013);
  memset(d, 0, sizeof *d);
}

clfer_status clfer_synth_generate(const clfer_synth_options_t *o, clfer_synth_data_t *d) {
  if (!o || !d) return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth_generate: NULL argument");
  memset(d, 0, sizeof *d);
  if (o->n_train < 0 || o->n_valid < 0 || o->n_test < 0 || (long)o->n_train + o->n_valid + o->n_test < 1 ||
      (long)o->n_train + o->n_valid + o->n_test > 10000000)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth: row counts %d/%d/%d (need 1..10^7 rows in all)",
                           o->n_train, o->n_valid, o->n_test);
  if (!(o->not_face_rate >= 0 && o->not_face_rate <= 0.5))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth: not_face_rate %g outside 0..0.5", o->not_face_rate);
  if (o->tagger_pool < CLFER_SYNTH_TAGGERS || o->tagger_pool > 1024)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "synth: tagger_pool %d outside %d..1024", o->tagger_pool,
                           CLFER_SYNTH_TAGGERS);
  int n = o->n_train + o->n_valid + o->n_test;
  size_t np = (size_t)CLFER_SYNTH_SIZE * CLFER_SYNTH_SIZE;
  d->n = n;
  d->pixels = malloc((size_t)n * np);
  d->truth = malloc((size_t)n * CLFER_SYNTH_EMOTIONS * sizeof *d->truth);
  d->primary = malloc((size_t)n);
  d->intensity = malloc((size_t)n * sizeof *d->intensity);
  d->votes = malloc((size_t)n * CLFER_SYNTH_VOTE_COLUMNS);
  d->annotator = malloc((size_t)n * CLFER_SYNTH_TAGGERS * sizeof *d->annotator);
  d->vote_label = malloc((size_t)n * CLFER_SYNTH_TAGGERS);
  d->usage = malloc((size_t)n);
  d->is_face = malloc((size_t)n);
  d->fer2013 = malloc((size_t)n);
  clfer__synth_tagger_t *taggers = malloc((size_t)o->tagger_pool * sizeof *taggers);
  if (!d->pixels || !d->truth || !d->primary || !d->intensity || !d->votes || !d->annotator || !d->vote_label ||
      !d->usage || !d->is_face || !d->fer2013 || !taggers) {
    free(taggers);
    clfer_synth_data_free(d);
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "synth: %d rows", n);
  }
  clfer__synth_make_taggers(o->seed, o->tagger_pool, taggers);
  clfer__synth_tagger_t original; /* FER2013's labeller: outside the crowd, sloppier */
  clfer__synth_make_labeller(o->seed, 0, 0.2, &original);
  for (int i = 0; i < n; i++) {
    d->usage[i] = (uint8_t)(i < o->n_train ? 0 : i < o->n_train + o->n_valid ? 1 : 2);
    generate_row(o, taggers, &original, i, d);
  }
  free(taggers);
  return CLFER_OK;
}
