/* synth_internal.h — what the files of the synthetic dataset (synth.c, synth_render.c,
 * synth_write.c) share: the tagger model, the truth draw and the not-a-face renderer. Not installed. */
#ifndef CLFER_DATA_SYNTH_INTERNAL_H
#define CLFER_DATA_SYNTH_INTERNAL_H

#include <stdint.h>

#include "clfer/synth.h"
#include "data/augment_rng.h"

/* One simulated crowd tagger: confusion[true][label] over the 8 emotions (rows sum to 1) and a
 * rate of "unknown" votes. */
typedef struct clfer__synth_tagger {
  double confusion[CLFER_SYNTH_EMOTIONS][CLFER_SYNTH_EMOTIONS];
  double unknown_rate;
} clfer__synth_tagger_t;

/* Taggers 0..count−1 of the pool for a seed (each from its own stream). */
void clfer__synth_make_taggers(uint64_t seed, int count, clfer__synth_tagger_t *taggers);
/* A single labeller outside the crowd with error rate `skill` (FER2013's label, IPA2LT's coders;
 * `which` picks an independent one). */
void clfer__synth_make_labeller(uint64_t seed, uint64_t which, double skill, clfer__synth_tagger_t *t);
/* A face's mixture (for the renderer), intensity and perceived truth (normalised, 8 classes)
 * given its main emotion. */
void clfer__synth_draw_truth(clfer__rng_t *r, int primary, float mixture[CLFER_SYNTH_EMOTIONS], float *intensity,
                             double truth[CLFER_SYNTH_EMOTIONS]);
/* A 48×48 image that is not a face (smooth texture and noise). */
void clfer__synth_render_nonface(uint64_t seed, uint64_t index, uint8_t *out);

#endif
