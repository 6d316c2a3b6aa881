/* onnx_internal.h — the ONNX reader split in two: a pure conversion from the file's bytes to a
 * clfer layer description plus host weights (no OpenCL, so the fuzz target runs it alone), and
 * the builder in onnx_import.c that turns that into a network. */
#ifndef CLFER_ONNX_INTERNAL_H
#define CLFER_ONNX_INTERNAL_H

#include <stddef.h>

#include "clfer/onnx.h"

typedef struct clfer__onnx_weight {
  char name[96]; /* clfer parameter name, "features.0.weight" */
  int ndim;
  int shape[4];
  float *data; /* malloc'ed, numel floats */
} clfer__onnx_weight_t;

typedef struct clfer__onnx_graph {
  char *layers_json; /* clfer_net_graph_json's format; malloc'ed */
  char model_name[64];
  int channels, height, width, classes;
  clfer__onnx_weight_t *weights;
  int n_weights, cap_weights;
} clfer__onnx_graph_t;

/* Parses and checks an ONNX ModelProto and converts it; errors name `source`, the node and op. */
clfer_status clfer__onnx_convert(const void *data, size_t size, const char *source,
                                 const clfer_onnx_import_options_t *options, clfer__onnx_graph_t *out);
void clfer__onnx_graph_free(clfer__onnx_graph_t *g);

#endif
