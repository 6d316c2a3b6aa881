/* clfer/nn.h — networks as a DAG of named layers built through a small builder API (the model zoo
 * uses the same calls), with forward, backward, eval mode, parameters by PyTorch-style name
 * ("features.0.weight"), weight initialisation, and safetensors checkpoints. */
#ifndef CLFER_NN_H
#define CLFER_NN_H

#include "clfer/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clfer_net clfer_net_t;

/* Node 0 is the input [N, C, H, W]. Builder calls return the new node's id in *out; layer names
 * must be unique and become parameter-name prefixes. */
clfer_status clfer_net_create(clfer_runtime_t *rt, const char *model_name, int in_channels, int in_height,
                              int in_width, clfer_net_t **out);
void clfer_net_destroy(clfer_net_t *net);

clfer_status clfer_net_conv2d(clfer_net_t *net, const char *name, int input, int out_channels,
                              const clfer_conv2d_params_t *p, int bias, int *out);
/* Flattens a [N,C,H,W] input implicitly, as torchvision's classifiers do. */
clfer_status clfer_net_dense(clfer_net_t *net, const char *name, int input, int out_features, int bias, int *out);
/* ReLU, or leaky ReLU with slope > 0 (finite and >= 0: the backward pass reads the branch from the sign). */
clfer_status clfer_net_relu(clfer_net_t *net, const char *name, int input, float slope, int *out);
clfer_status clfer_net_maxpool(clfer_net_t *net, const char *name, int input, const clfer_pool2d_params_t *p, int *out);
clfer_status clfer_net_avgpool(clfer_net_t *net, const char *name, int input, const clfer_pool2d_params_t *p, int *out);
clfer_status clfer_net_global_avgpool(clfer_net_t *net, const char *name, int input, int *out);
clfer_status clfer_net_dropout(clfer_net_t *net, const char *name, int input, float p, int *out);
clfer_status clfer_net_batchnorm(clfer_net_t *net, const char *name, int input, const clfer_batchnorm_params_t *p,
                                 int *out);
clfer_status clfer_net_lrn(clfer_net_t *net, const char *name, int input, const clfer_lrn_params_t *p, int *out);
clfer_status clfer_net_flatten(clfer_net_t *net, const char *name, int input, int *out);
clfer_status clfer_net_add(clfer_net_t *net, const char *name, int a, int b, int *out);
clfer_status clfer_net_concat(clfer_net_t *net, const char *name, int n_inputs, const int *inputs, int *out);
clfer_status clfer_net_softmax(clfer_net_t *net, const char *name, int input, int *out);

/* The node whose output is the network's output (logits); default: the last node added. */
clfer_status clfer_net_set_output(clfer_net_t *net, int node);
/* Marks the node whose output are "the features" (DLP-CNN's penultimate layer, `clfer features`). */
clfer_status clfer_net_set_features(clfer_net_t *net, int node);

/* ---- inspection ---- */
const char *clfer_net_name(const clfer_net_t *net);
int clfer_net_node_count(const clfer_net_t *net);
int clfer_net_find(const clfer_net_t *net, const char *name); /* -1 when absent */
const char *clfer_net_node_name(const clfer_net_t *net, int node);
const char *clfer_net_node_type(const clfer_net_t *net, int node);
/* Output shape of a node for one image (without batch): ndim 1 ([F]) or 3 ([C,H,W]). */
void clfer_net_node_shape(const clfer_net_t *net, int node, int *ndim, int shape[3]);
int clfer_net_output_node(const clfer_net_t *net);
int clfer_net_features_node(const clfer_net_t *net);
void clfer_net_input_shape(const clfer_net_t *net, int shape[3]);
/* Multiply-adds ×2 of one forward pass for one image. */
double clfer_net_flops(const clfer_net_t *net);
/* A free-form description stored in checkpoints as "clfer.model" (the zoo sets
 * {"zoo":NAME,"channels":C,"height":H,"width":W,"classes":K} so a checkpoint can rebuild its model). */
clfer_status clfer_net_set_description(clfer_net_t *net, const char *json);
const char *clfer_net_description(const clfer_net_t *net);
/* Prints one line per layer: name, type, output shape, parameters. */
void clfer_net_print(const clfer_net_t *net, FILE *out);

/* ---- parameters ---- */

typedef struct clfer_net_param {
  char name[96];         /* "features.0.weight" */
  clfer_tensor_t value;  /* persistent; shape as PyTorch stores it */
  clfer_tensor_t grad;   /* same shape; empty for buffers */
  int is_buffer;         /* running statistics: saved, not trained */
  int node;              /* owning layer */
} clfer_net_param_t;

int clfer_net_param_count(const clfer_net_t *net);
clfer_net_param_t *clfer_net_param(clfer_net_t *net, int index);
clfer_net_param_t *clfer_net_param_by_name(clfer_net_t *net, const char *name);
/* Number of trainable scalars. */
size_t clfer_net_param_scalars(const clfer_net_t *net);

typedef enum clfer_init {
  CLFER_INIT_GLOROT_UNIFORM = 0, /* FER+ VGG13 (CNTK default) */
  CLFER_INIT_PYTORCH,            /* PyTorch's default: kaiming_uniform(a=√5), bias U(±1/√fan_in) */
  CLFER_INIT_KAIMING_NORMAL,     /* He et al., fan_out, ReLU (torchvision ResNet) */
} clfer_init;
/* Fills every trainable parameter from a seeded host generator; biases 0 except for PYTORCH;
 * batch-norm weight 1, bias 0, running mean 0, var 1. */
clfer_status clfer_net_init(clfer_net_t *net, clfer_init scheme, uint64_t seed);

/* ---- running ---- */

/* Forward pass. `train` enables dropout and batch statistics; `step` seeds dropout's counter
 * (use the global step so every step draws a fresh mask). The returned output tensor is owned
 * by the net and valid until the next forward. */
clfer_status clfer_net_forward(clfer_net_t *net, const clfer_tensor_t *input, int train, uint64_t step,
                               const clfer_tensor_t **output);
/* Output of any node from the last forward (for features); NULL when released. */
const clfer_tensor_t *clfer_net_activation(const clfer_net_t *net, int node);
/* Backward from ∂L/∂output (and optionally ∂L/∂features, NULL if none); fills every parameter's
 * grad (overwritten, not accumulated). Needs a forward with train=1 first. */
clfer_status clfer_net_backward(clfer_net_t *net, const clfer_tensor_t *grad_output,
                                const clfer_tensor_t *grad_features);
/* Gives the activations and gradients of the last pass back to the pool. */
void clfer_net_release_activations(clfer_net_t *net);
void clfer_net_set_dropout_seed(clfer_net_t *net, uint64_t seed);

/* ---- checkpoints (safetensors, PyTorch names and layouts) ---- */

/* Key/value metadata stored in the safetensors "__metadata__" (values are strings). */
typedef struct clfer_meta {
  int count;
  char keys[32][64];
  char *values[32]; /* malloc'ed */
} clfer_meta_t;
void clfer_meta_set(clfer_meta_t *m, const char *key, const char *value);
const char *clfer_meta_get(const clfer_meta_t *m, const char *key);
void clfer_meta_free(clfer_meta_t *m);

/* Extra named tensors to store beside the parameters (optimizer state, class centres...). */
typedef struct clfer_named_tensor {
  const char *name;
  clfer_tensor_t *tensor;
} clfer_named_tensor_t;

/* Writes every parameter and buffer (plus `extra`) to PATH through a temporary file and rename;
 * the model description goes into the metadata as "clfer.model". */
clfer_status clfer_net_save(clfer_net_t *net, const char *path, const clfer_meta_t *meta,
                            const clfer_named_tensor_t *extra, int n_extra);
/* Loads PATH into the net's parameters, checking every name and shape (the first mismatch is
 * reported by name); `extra` tensors are filled when present (missing ones are an error unless
 * `extra_optional`). `meta` (may be NULL) receives the metadata. */
clfer_status clfer_net_load(clfer_net_t *net, const char *path, clfer_meta_t *meta, clfer_named_tensor_t *extra,
                            int n_extra, int extra_optional);
/* Loads only the net's parameters from a training checkpoint, reading its other tensors
 * (optimizer state, class centres, LTNet transitions) into scratch and dropping them. */
clfer_status clfer_net_load_weights(clfer_net_t *net, const char *path);
/* Reads only the metadata of a checkpoint (e.g. to rebuild its model before loading). */
clfer_status clfer_checkpoint_meta(const char *path, clfer_meta_t *meta);

/* ---- model zoo ---- */

typedef struct clfer_zoo_entry {
  const char *name;
  const char *description;
  int default_channels, default_height, default_width, default_classes;
} clfer_zoo_entry_t;

/* NULL-terminated list of models. */
const clfer_zoo_entry_t *clfer_zoo_list(void);
/* Builds a zoo model for the given input and class count (0 = the model's default). */
clfer_status clfer_zoo_build(clfer_runtime_t *rt, const char *name, int channels, int height, int width,
                             int classes, clfer_net_t **out);

#ifdef __cplusplus
}
#endif
#endif
