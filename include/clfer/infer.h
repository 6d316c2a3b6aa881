/* clfer/infer.h — using a trained model: rebuild it from a checkpoint's metadata ("clfer.model",
 * "clfer.classes", "clfer.preprocess"), turn 8-bit images into its input the way it was trained,
 * run it in eval mode over batches (logits, any layer's features) and take the softmax. The
 * commands eval, predict and features are built on this; see docs/use.md. */
#ifndef CLFER_INFER_H
#define CLFER_INFER_H

#include <stdint.h>

#include "clfer/augment.h"
#include "clfer/data.h"
#include "clfer/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clfer_model clfer_model_t;

/* Rebuilds a checkpoint's model with clfer_net_from_checkpoint (the zoo model "clfer.model"
 * names, else the layers of "clfer.graph", e.g. an imported ONNX model) and loads its weights
 * (optimizer state and loss centres in the file are skipped). Classes = the output size.
 * Errors name the file (missing, corrupt, no model description). A checkpoint without
 * "clfer.classes" gets classes "0".."K-1"; without "clfer.preprocess", "ferplus" for 1-channel
 * models and "unit" (v/255) otherwise. */
clfer_status clfer_model_load(clfer_runtime_t *rt, const char *path, clfer_model_t **out);
void clfer_model_destroy(clfer_model_t *m);

clfer_net_t *clfer_model_net(const clfer_model_t *m);
const char *clfer_model_path(const clfer_model_t *m);
int clfer_model_classes(const clfer_model_t *m);
/* class_names[classes] as the training recipe named them. */
const char *const *clfer_model_class_names(const clfer_model_t *m);
/* [C, H, W] of one input image. */
void clfer_model_input_shape(const clfer_model_t *m, int shape[3]);
/* The recipe's data.preprocess value and the pre-processing it stands for. */
const char *clfer_model_preprocess_name(const clfer_model_t *m);
const clfer_preproc_t *clfer_model_preproc(const clfer_model_t *m);

/* Overrides the checkpoint's pre-processing (e.g. "imagenet" for an imported ImageNet model). */
clfer_status clfer_model_set_preprocess(clfer_model_t *m, const char *name);

/* The pre-processing a recipe's data.preprocess names, as training applies it: "ferplus"
 * (FER+ normalisation), "minmax" (per-image stretch, then v/255), "imagenet" (stretch, v/255,
 * ImageNet mean/std) or "unit"/"none"/"" (v/255). Unknown names are an error. */
clfer_status clfer_preproc_from_name(const char *name, int out_c, int out_h, int out_w, clfer_preproc_t *out);

/* One 8-bit HWC image (1 or 3 channels, any size) → the model's input, c×h×w floats in `out`,
 * shaped as the training run evaluated (the checkpoint records its data format and
 * augment.resize). Converted to the model's channels (BT.601 luma or gray replicated). A model
 * trained on FER data keeps the image as it is, as the FER readers keep their 48×48 faces; one
 * trained on image files resizes it bilinearly on load to the input size, or to augment.resize
 * = R, as the folder/RAF-DB/CK+ readers did. Then the evaluation matrix: corners-on-corners to
 * the input (FER's 48 → 64), or with R the centre crop (resize-then-crop, Ng et al.). A
 * checkpoint without the record resizes on load only images larger than the input. */
clfer_status clfer_model_prepare(const clfer_model_t *m, const clfer_image_t *img, float *out);

/* The node of layer NAME; CLFER_NOT_FOUND naming the layer and listing the model's layers. */
clfer_status clfer_model_find_layer(const clfer_model_t *m, const char *name, int *node);
/* Number of floats per image that a node outputs. */
int clfer_model_node_size(const clfer_model_t *m, int node);

/* Runs n prepared inputs (n·C·H·W floats) in eval mode. `logits` (n×classes, may be NULL)
 * receives the output; when feature_node >= 0, `features` (n × node size) receives that node's
 * output. Batches of any size; device buffers are reused between calls of the same size. */
clfer_status clfer_model_run(clfer_model_t *m, const float *inputs, int n, float *logits, int feature_node,
                             float *features);

/* ---- datasets ---- */

/* Reads a dataset as a recipe's data.format names it — "ferplus" (DIR/fer2013.csv +
 * fer2013new.csv), "fer2013", "ferplus_folders", "rafdb", "ckplus", "folder" (DIR/<class>/) —
 * converted to the model's channels (and, for the image-file formats, resized to its input as
 * training does). FER+ votes are processed with FER+'s majority rule when `majority` is set (the
 * evaluation protocol: samples without a majority are dropped). The classes are then mapped
 * onto the model's (samples of other classes are dropped). */
clfer_status clfer_model_read_dataset(const clfer_model_t *m, const char *format, const char *dir, int majority,
                                      clfer_store_t **out);
/* The evaluation label of every sample of a mapped store: the argmax of its votes (majority
 * protocol) when `majority` and the store has votes, else its hard label; −1 when it has none. */
void clfer_model_truth(const clfer_store_t *s, int classes, int majority, int *truth);

/* Called for each batch of clfer_model_run_store: the batch's store indices, logits
 * (n×classes) and the feature node's output (n × node size; NULL without a feature node). */
typedef clfer_status (*clfer_batch_fn)(void *ctx, const int *ids, int n, const float *logits, const float *features);
/* Runs the samples ids[0..n) of a store through the model in batches, pre-processed on the
 * host exactly as the training loop evaluates (no augmentation), in order. */
clfer_status clfer_model_run_store(clfer_model_t *m, const clfer_store_t *s, const int *ids, int n, int batch_size,
                                   int feature_node, clfer_batch_fn fn, void *ctx);

/* Row-wise softmax of n×k logits into probs (may alias), computed in double. */
void clfer_softmax_rows(const float *logits, int n, int k, float *probs);
/* Index of the largest value (the first on ties). */
int clfer_argmax(const float *v, int k);

#ifdef __cplusplus
}
#endif
#endif
