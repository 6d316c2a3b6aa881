/* clfer/synth.h — the built-in default data: procedurally drawn 48×48 gray faces of the 8 FER+
 * emotions with simulated crowd votes, written in the real FER2013 / FER+ formats (plus the FER+
 * folder form, an IPA2LT experiment and per-annotator votes), so that the default run goes through
 * the same readers and label code as real data. Deterministic for a seed. See docs/synth.md. */
#ifndef CLFER_SYNTH_H
#define CLFER_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "clfer/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CLFER_SYNTH_SIZE 48      /* faces are 48×48 gray, like FER2013 */
#define CLFER_SYNTH_EMOTIONS 8   /* FER+ order: neutral … contempt */
#define CLFER_SYNTH_VOTE_COLUMNS 10 /* the 8 emotions, unknown, NF */
#define CLFER_SYNTH_TAGGERS 10   /* crowd votes per image (FER+ had 10) */

/* FER+ column names: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt,
 * unknown, NF. */
extern const char *const clfer_synth_ferplus_names[CLFER_SYNTH_VOTE_COLUMNS];
/* FER2013 class names 0..6: angry, disgust, fear, happy, sad, surprise, neutral. */
extern const char *const clfer_synth_fer2013_names[7];
/* The FER2013 class of each FER+ emotion (−1 for contempt, which FER2013 lacks). */
extern const int clfer_synth_ferplus_to_fer2013[CLFER_SYNTH_EMOTIONS];
/* Designed frequency of each emotion as a face's main expression (sums to 1; FER+-like). */
extern const double clfer_synth_class_frequency[CLFER_SYNTH_EMOTIONS];

typedef struct clfer_synth_options {
  uint64_t seed;
  int n_train, n_valid, n_test; /* rows per Usage (Training / PublicTest / PrivateTest) */
  double not_face_rate;         /* share of rows that are not a face (empty FER+ image name) */
  int tagger_pool;              /* crowd size the 10 taggers of each face are drawn from */
  int ferplus_folders;          /* also write FER2013Train|Valid|Test/label.csv + PNGs */
  int ipa2lt;                   /* also write ipa2lt/ (two biased labelled sets + pool + truth) */
  int annotator_votes;          /* also write annotator_votes.csv (image,annotator,label) */
  const char *contact_sheet;    /* also write an 8×8 PNG contact sheet here (NULL = none) */
} clfer_synth_options_t;

/* seed 1, 4000/500/500 rows, 0.5 % not faces, 40 taggers, no optional outputs. */
clfer_synth_options_t clfer_synth_options_default(void);

/* A generated dataset in memory; rows in file order (Training, then PublicTest, PrivateTest). */
typedef struct clfer_synth_data {
  int n;
  uint8_t *pixels;     /* n × 48 × 48 */
  float *truth;        /* n × 8: the mixture the face was drawn from (zeros when not a face) */
  int8_t *primary;     /* n: main emotion 0..7 (FER+ order), −1 when not a face */
  float *intensity;    /* n: expression intensity (0 = neutral face) */
  uint8_t *votes;      /* n × 10 vote counts (sum 10) */
  uint16_t *annotator; /* n × 10: the tagger id behind each of the 10 votes */
  uint8_t *vote_label; /* n × 10: that tagger's label 0..9 (FER+ column) */
  uint8_t *usage;      /* n: 0 Training, 1 PublicTest, 2 PrivateTest */
  uint8_t *is_face;    /* n: 0 → empty image name in fer2013new.csv */
  uint8_t *fer2013;    /* n: FER2013 label 0..6 */
} clfer_synth_data_t;

/* Renders one face of a given emotion mixture (8 weights, FER+ order, need not be normalised)
 * and intensity (0 = neutral, 1 = full) into out[48·48]; identity, pose, lighting, noise and
 * occlusion come from the stream (seed, index). */
clfer_status clfer_synth_render(uint64_t seed, uint64_t index, const float mixture[CLFER_SYNTH_EMOTIONS],
                                float intensity, uint8_t *out);
/* Generates the whole dataset in memory (faces, truth, crowd votes, FER2013 labels). */
clfer_status clfer_synth_generate(const clfer_synth_options_t *opt, clfer_synth_data_t *out);
void clfer_synth_data_free(clfer_synth_data_t *d);

/* Writers (each file written to a temporary name and renamed). */
clfer_status clfer_synth_write_fer2013(const clfer_synth_data_t *d, const char *path);
clfer_status clfer_synth_write_ferplus(const clfer_synth_data_t *d, const char *path);
/* FER2013Train|Valid|Test/label.csv (no header, FER+ repository form) + fer%07d.png per face. */
clfer_status clfer_synth_write_ferplus_folders(const clfer_synth_data_t *d, const char *dir);
/* image,annotator,label per vote of every face (label = FER+ column name). */
clfer_status clfer_synth_write_annotator_votes(const clfer_synth_data_t *d, const char *path);
/* dir/images/ipaNNNNNNN.png, set_a.csv and set_b.csv (`file,label` by two differently biased labellers),
 * unlabelled.csv (`file`), test.csv and truth.csv (`file,label`, the hidden true labels). */
clfer_status clfer_synth_write_ipa2lt(const clfer_synth_options_t *opt, const char *dir);
/* 8 rows (one per emotion, FER+ order) × 8 faces, 384×384 PNG. */
clfer_status clfer_synth_write_contact_sheet(uint64_t seed, const char *path);
/* 8-bit gray PNG through libpng. */
clfer_status clfer_synth_write_png(const char *path, const uint8_t *pixels, int h, int w);

/* Everything `clfer synth` does: creates out_dir, writes fer2013.csv and fer2013new.csv and the
 * optional outputs the options ask for. */
clfer_status clfer_synth_run(const clfer_synth_options_t *opt, const char *out_dir);

#ifdef __cplusplus
}
#endif
#endif
