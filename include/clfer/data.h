/* clfer/data.h — the in-memory sample store (8-bit images, crowd votes, hard labels, per-coder
 * labels, split) and the readers that fill it from FER2013, FER+, RAF-DB, CK+ and image folders.
 * Formats and class orders are those of /work/shared/METHODS.md; see docs/data.md. */
#ifndef CLFER_DATA_H
#define CLFER_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "clfer/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- splits and dataset ids ------------------------------------------------------------------ */
typedef enum clfer_split {
  CLFER_SPLIT_TRAIN = 0, /* FER2013 "Training", RAF "train_", FER+ FER2013Train */
  CLFER_SPLIT_VALID = 1, /* FER2013 "PublicTest", FER+ FER2013Valid */
  CLFER_SPLIT_TEST = 2,  /* FER2013 "PrivateTest", RAF "test_", FER+ FER2013Test */
  CLFER_SPLIT_COUNT = 3
} clfer_split_t;

typedef enum clfer_dataset {
  CLFER_DATASET_UNKNOWN = 0,
  CLFER_DATASET_FER2013 = 1,
  CLFER_DATASET_FERPLUS = 2,
  CLFER_DATASET_RAFDB = 3,
  CLFER_DATASET_CKPLUS = 4,
  CLFER_DATASET_FOLDER = 5,
  CLFER_DATASET_AFFECTNET = 6
} clfer_dataset_t;

/* "train" / "valid" / "test"; "?" otherwise. */
const char *clfer_split_name(int split);
/* Accepts train/valid/test and the FER2013 Usage names Training/PublicTest/PrivateTest. */
clfer_status clfer_split_parse(const char *text, clfer_split_t *out);
const char *clfer_dataset_name(int dataset);

/* ---- the sample store ------------------------------------------------------------------------
 * A transparent struct: the training loop reads the arrays directly. Invariants (kept by every
 * function here, and expected by them):
 *   - n samples, 0 <= n <= capacity; arrays are allocated for `capacity` rows.
 *   - images: n × height × width × channels uint8, row-major HWC per sample (channels 1 = gray,
 *     3 = RGB). NULL with height = width = channels = 0 in a "labels-only" store (e.g. the FER+
 *     vote file read without fer2013.csv). Sample i starts at images + i * clfer_store_image_size().
 *   - class_names[vote_width]: the first num_classes are the classes, in the store's order; the
 *     entries after them name extra vote columns that are not classes (FER+ "unknown", "NF").
 *   - votes: n × vote_width float (crowd counts or a distribution), or NULL when the dataset has
 *     only hard labels (FER2013 alone, CK+, folders with `file,label`).
 *   - labels: n ints, the hard label in 0..num_classes-1, or -1 (none / not decided yet).
 *   - coder_labels: n × num_coders ints (−1 = this coder gave no label), or NULL when
 *     num_coders = 0; coder_names[num_coders]. Used by LTNet.
 *   - split[n] (clfer_split_t), source[n] (clfer_dataset_t), group[n] (subject id for
 *     subject-independent folds, −1 unknown), names[n] (image name or path, never NULL).
 * A batch is built as: images of the chosen rows (uint8) plus a float target per row, from
 * votes (processed by clfer/labels.h) or from labels (one-hot). */
typedef struct clfer_store {
  int n, capacity;
  int height, width, channels;
  uint8_t *images;
  int num_classes, vote_width;
  char **class_names;
  float *votes;
  int *labels;
  int num_coders;
  char **coder_names;
  int *coder_labels;
  uint8_t *split;
  uint8_t *source;
  int *group;
  char **names;
} clfer_store_t;

/* Options of clfer_store_create. */
typedef struct clfer_store_desc {
  int height, width, channels;     /* all 0 for a labels-only store */
  int num_classes;                 /* >= 1 */
  int vote_width;                  /* 0 = no votes; else >= num_classes */
  const char *const *class_names;  /* vote_width names (num_classes when vote_width is 0) */
  int num_coders;                  /* 0 = no per-coder labels */
  const char *const *coder_names;  /* num_coders names, or NULL for "coder0", "coder1", ... */
} clfer_store_desc_t;

clfer_status clfer_store_create(const clfer_store_desc_t *desc, clfer_store_t **out);
void clfer_store_destroy(clfer_store_t *s);
/* Grows the arrays to hold at least `capacity` samples. */
clfer_status clfer_store_reserve(clfer_store_t *s, int capacity);
/* Appends one sample; `pixels` (height·width·channels bytes; ignored in a labels-only store),
 * `votes` (vote_width floats, or NULL → zeros) and `coder_labels` (num_coders ints, or NULL →
 * all −1) are copied. Returns the new index in *index when index is not NULL. */
clfer_status clfer_store_append(clfer_store_t *s, const uint8_t *pixels, const float *votes, int label,
                                const int *coder_labels, int split, int source, int group, const char *name,
                                int *index);
/* Appends every sample of src to dst: same image size, and the same class names and vote
 * width (map src's classes first with clfer_store_map_classes). Coders are matched by name;
 * coders new to dst are added as columns (−1 for dst's earlier samples). */
clfer_status clfer_store_concat(clfer_store_t *dst, const clfer_store_t *src);
/* Keeps the samples with keep[i] != 0, in order (compaction in place). */
clfer_status clfer_store_filter(clfer_store_t *s, const uint8_t *keep);
/* Number of samples of a split (or of all with split = -1). */
int clfer_store_count(const clfer_store_t *s, int split);
/* Bytes per image (height · width · channels). */
static inline size_t clfer_store_image_size(const clfer_store_t *s) {
  return (size_t)s->height * (size_t)s->width * (size_t)s->channels;
}
static inline uint8_t *clfer_store_image(const clfer_store_t *s, int i) {
  return s->images ? s->images + (size_t)i * clfer_store_image_size(s) : NULL;
}
/* Index of a class (or extra vote column) by name, matched through the synonyms table; -1. */
int clfer_store_class_index(const clfer_store_t *s, const char *name);
/* Marks samples whose group falls in fold `fold` of `k` (group % k, after sorting the distinct
 * groups) as test and the others as train: subject-independent k-fold splits for CK+. */
clfer_status clfer_store_assign_folds(clfer_store_t *s, int k, int fold);

/* ---- class names ---------------------------------------------------------------------------
 * clfer's canonical emotion names are FER+'s: neutral, happiness, surprise, sadness, anger,
 * disgust, fear, contempt (plus the vote columns "unknown" and "NF"). The synonyms table maps
 * every dataset's spelling (FER2013 angry/happy/sad, CK+ happy/sadness, AffectNet, ...) onto
 * them, case-insensitively. Returns the canonical name, or NULL when the name is not known
 * (an unknown name still matches itself exactly, case-insensitively). */
const char *clfer_class_canonical(const char *name);
/* True when two class names denote the same class (through the synonyms table). */
int clfer_class_same(const char *a, const char *b);

/* The class lists of the datasets, in their file order. */
extern const char *const clfer_classes_fer2013[7];   /* angry..neutral (labels 0..6) */
extern const char *const clfer_classes_ferplus[10];  /* 8 emotions + unknown + NF */
extern const char *const clfer_classes_rafdb[7];     /* labels 1..7 of RAF-DB basic */
extern const char *const clfer_classes_ckplus[8];    /* labels 0..7 of CK+ */
extern const char *const clfer_classes_affectnet[8]; /* labels 0..7 of AffectNet */

/* Reorders the store's classes to `names` (num names; a recipe's class list), matching by name
 * through the synonyms table: votes columns are moved (classes missing from the store get 0),
 * labels and coder labels are renumbered. A store class absent from `names` is an error unless
 * drop_unmapped is set; then its vote mass is discarded and samples whose hard label is that
 * class are removed. The extra (non-class) vote columns are kept after the new classes. */
clfer_status clfer_store_map_classes(clfer_store_t *s, const char *const *names, int num, int drop_unmapped);

/* ---- images ---------------------------------------------------------------------------------- */
/* A decoded 8-bit image, HWC. */
typedef struct clfer_image {
  int width, height, channels; /* channels 1 (gray) or 3 (RGB) */
  uint8_t *pixels;             /* malloc'd; free with clfer_image_free */
} clfer_image_t;

/* Decodes a PNG (libpng) or JPEG (libjpeg) from memory, detected by its signature. Alpha is
 * dropped, 16-bit reduced to 8, palettes expanded; gray stays 1 channel, colour becomes RGB.
 * `what` names the input in error messages. Corrupt or truncated data → CLFER_CORRUPT, never a
 * crash. Images above 16384 pixels per side or 2^26 pixels are refused (CLFER_UNSUPPORTED). */
clfer_status clfer_image_decode(const uint8_t *data, size_t size, const char *what, clfer_image_t *out);
clfer_status clfer_image_load(const char *path, clfer_image_t *out);
/* Writes a PNG (".png") or JPEG (".jpg"/".jpeg", quality 95) chosen by the extension. */
clfer_status clfer_image_save(const char *path, const clfer_image_t *img);
void clfer_image_free(clfer_image_t *img);
/* Converts to `channels` (1: ITU-R BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B, rounded; 3: gray
 * replicated) and, when width/height differ, resizes bilinearly (pixel centres aligned, edges
 * clamped). `dst` must hold height·width·channels bytes. */
clfer_status clfer_image_convert(const clfer_image_t *src, int width, int height, int channels, uint8_t *dst);

/* ---- readers --------------------------------------------------------------------------------- */
/* Options shared by the readers. Zeroed options mean: keep the file's size and channels (and
 * fail when images differ in size), all splits. */
typedef struct clfer_read_options {
  int width, height;  /* > 0: resize every image to this size on load */
  int channels;       /* 1 or 3: convert; 0: the dataset's own (gray for FER/CK+, RGB for RAF) */
  int default_split;  /* split for datasets without one (CK+, folders); 0 = train */
  int max_samples;    /* > 0: stop after this many (tests, quick runs) */
} clfer_read_options_t;

/* FER2013 `fer2013.csv` (header emotion,pixels,Usage). Alone (ferplus_csv NULL): 7 FER2013
 * classes, hard labels, no votes. With FER+'s `fer2013new.csv` (rows aligned line by line; its
 * rows with an empty image name are skipped): FER+ classes (10 vote columns, 8 classes), raw
 * vote counts, labels −1 (clfer_ferplus_apply fills them), names from FER+. Usage must agree. */
clfer_status clfer_read_fer2013(const char *fer2013_csv, const char *ferplus_csv, const clfer_read_options_t *opt,
                                clfer_store_t **out);
/* FER+ `fer2013new.csv` alone: a labels-only store with the rows that have an image name (raw
 * votes, 10 columns). skipped_no_name (may be NULL) counts the rows without a name per split. */
clfer_status clfer_read_ferplus_votes(const char *ferplus_csv, int skipped_no_name[CLFER_SPLIT_COUNT],
                                      clfer_store_t **out);
/* The FER+ repository's folder form: ROOT/FER2013{Train,Valid,Test}/label.csv (no header:
 * file,"(l, t, r, b)",10 votes) plus the PNGs beside it. Folders that are absent are skipped;
 * none present is an error. */
clfer_status clfer_read_ferplus_folders(const char *root, const clfer_read_options_t *opt, clfer_store_t **out);
/* RAF-DB basic: ROOT/EmoLabel/list_patition_label.txt (or the correct spelling), images
 * ROOT/Image/aligned/<stem>_aligned.jpg; split from the train_/test_ prefix. distribution_file
 * (optional, `name v1..v7`) fills votes with the 7-d crowd distribution. */
clfer_status clfer_read_rafdb(const char *root, const char *distribution_file, const clfer_read_options_t *opt,
                              clfer_store_t **out);
/* CK+: ROOT/Emotion/SUBJ/SEQ/SUBJ_SEQ_FRAME_emotion.txt and ROOT/cohn-kanade-images/SUBJ/SEQ/; for each labelled
 * sequence the labelled (peak) frame with its label and the first frame as neutral. group =
 * subject number (S005 → 5). Images are usually 640×490, so give a size to resize to unless
 * every image has the same size. */
clfer_status clfer_read_ckplus(const char *root, const clfer_read_options_t *opt, clfer_store_t **out);
/* Image folders: with csv NULL, ROOT/<class>/<file>.png|jpg|jpeg (classes = the sub-folders, sorted,
 * or `class_names` when given: then only those folders are read). With a CSV (paths relative to
 * ROOT): `file,label` (label = class name or 0-based index into class_names) or
 * `file,v1,...,vK` (votes); an optional header row starting with `file` names the classes. */
clfer_status clfer_read_image_folder(const char *root, const char *csv, const char *const *class_names,
                                     int num_classes, const clfer_read_options_t *opt, clfer_store_t **out);

#ifdef __cplusplus
}
#endif
#endif
