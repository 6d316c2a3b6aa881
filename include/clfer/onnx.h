/* clfer/onnx.h — ONNX import (ImageNet weights from the ONNX model zoo, torchvision, timm) and export
 * (a clfer model that onnxruntime runs), and rebuilding any network from the layer description that
 * checkpoints store ("clfer.graph"), so imported models round-trip through safetensors. */
#ifndef CLFER_ONNX_H
#define CLFER_ONNX_H

#include "clfer/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clfer_onnx_import_options {
  /* Input size when the file leaves it symbolic, or to run a convolutional model at another size
   * (0 = the file's). */
  int channels, height, width;
  /* A final Softmax is dropped by default so the output is logits, as clfer's losses expect;
   * 1 keeps it. */
  int keep_softmax;
} clfer_onnx_import_options_t;

/* Reads an ONNX ModelProto and builds the equivalent clfer network with its weights loaded.
 * Supported: Conv (groups, symmetric pads, strides, dilations 1), Gemm, MatMul (+ Add as bias),
 * Relu, LeakyRelu, MaxPool, AveragePool, GlobalAveragePool, LRN, Dropout, BatchNormalization,
 * Add, Concat (channels), Flatten, Reshape (to [N, -1] or a no-op), Softmax, Identity, Constant;
 * FP32 and FP16 initializers. Anything else is CLFER_UNSUPPORTED naming the node and op; a
 * malformed file is CLFER_CORRUPT. `options` may be NULL. Layer names come from the weights'
 * names ("features.0.weight" -> layer "features.0") or the node names. */
clfer_status clfer_onnx_import(clfer_runtime_t *rt, const char *path, const clfer_onnx_import_options_t *options,
                               clfer_net_t **out);
/* The same from bytes in memory; `source` names them in messages. */
clfer_status clfer_onnx_import_memory(clfer_runtime_t *rt, const void *data, size_t size, const char *source,
                                      const clfer_onnx_import_options_t *options, clfer_net_t **out);

/* Writes the network (eval mode: dropout is the identity, batch norm uses running statistics) as
 * an ONNX model, opset 13, with a symbolic batch dimension "N", input "input" and output
 * "output". Parameters keep their clfer names as initializer names. */
clfer_status clfer_onnx_export(clfer_net_t *net, const char *path);

/* ---- the layer description stored in checkpoints ---- */

/* Every layer with name, type, inputs, output shape and configuration (kernel, stride, pad,
 * groups, units, bias, slope, p, eps, momentum, LRN constants), as a JSON array; the output and
 * features layers are marked. malloc'ed; NULL when out of memory. */
char *clfer_net_graph_json(const clfer_net_t *net);
/* Builds a network (parameters zero) from clfer_net_graph_json's text. Errors name the layer. */
clfer_status clfer_net_from_graph_json(clfer_runtime_t *rt, const char *model_name, const char *json,
                                       clfer_net_t **out);
/* Rebuilds a checkpoint's model — from the zoo when "clfer.model" names one, else from
 * "clfer.graph" — and loads its weights. `meta` (may be NULL) receives the metadata. */
clfer_status clfer_net_from_checkpoint(clfer_runtime_t *rt, const char *path, clfer_net_t **out, clfer_meta_t *meta);
/* A checkpoint (.safetensors) or an ONNX file (.onnx, or any file that is not safetensors). */
clfer_status clfer_net_open(clfer_runtime_t *rt, const char *path, const clfer_onnx_import_options_t *onnx_options,
                            clfer_net_t **out);

/* ---- fine-tuning an imported model ---- */

typedef struct clfer_net_adapt_options {
  /* New input (0 = keep). From 3 channels to 1, the first convolution's RGB filters are summed
   * (gray g then gives what RGB (g, g, g) gave; Ng et al.); a new size changes every shape after
   * it, and a dense layer whose in-features change is initialised afresh. */
  int channels, height, width;
  /* New output size: the output layer (dense or conv) is initialised afresh (0 = keep). */
  int classes;
  clfer_init init; /* for the parameters that are initialised afresh */
  uint64_t seed;
} clfer_net_adapt_options_t;

/* A copy of `src` rebuilt with other input or class counts: every parameter whose name and shape
 * are unchanged is copied, the rest initialised; *n_reinit (may be NULL) receives how many
 * parameter tensors were initialised. The description ("clfer.model") follows the new sizes. */
clfer_status clfer_net_adapt(clfer_net_t *src, const clfer_net_adapt_options_t *options, clfer_net_t **out,
                             int *n_reinit);

#ifdef __cplusplus
}
#endif
#endif
