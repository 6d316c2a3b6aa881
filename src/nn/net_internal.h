/* net_internal.h — the network graph's private structures shared by the graph driver (net.c)
 * and the layer implementations (layers.c). */
#ifndef CLFER_NET_INTERNAL_H
#define CLFER_NET_INTERNAL_H

#include "clfer/nn.h"

#define CLFER__MAX_INPUTS 8
#define CLFER__MAX_LAYER_PARAMS 4

typedef struct clfer__node clfer__node_t;

/* One table per layer type; optional members may be NULL. */
typedef struct clfer__layer_vtable {
  const char *type;
  /* Computes the node's output shape from its inputs' (already set) and creates parameters. */
  clfer_status (*setup)(clfer_net_t *net, clfer__node_t *node);
  /* Writes node->out (created by the driver with node->out_shape) from the inputs' outputs. */
  clfer_status (*forward)(clfer_net_t *net, clfer__node_t *node, int train);
  /* Optional (NULL = no gradient flows through): computes input gradients via
   * clfer__grad_begin/commit and parameter gradients from node->grad. */
  clfer_status (*backward)(clfer_net_t *net, clfer__node_t *node);
  /* Optional: the output is a view of the first input (flatten), not a new buffer. */
  int output_is_view;
  /* Optional: forward FLOPs for one image. */
  double (*flops)(const clfer_net_t *net, const clfer__node_t *node);
} clfer__layer_vtable_t;

struct clfer__node {
  char name[64];
  const clfer__layer_vtable_t *vt;
  int inputs[CLFER__MAX_INPUTS];
  int n_inputs;
  int out_ndim;     /* 1 or 3, without batch */
  int out_shape[3];
  /* layer configuration (only the members of the node's type are used) */
  clfer_conv2d_params_t conv;
  clfer_pool2d_params_t pool;
  clfer_lrn_params_t lrn;
  clfer_batchnorm_params_t bn;
  float slope, dropout_p;
  int units, has_bias;
  int64_t batches_tracked; /* batch norm: training forwards so far (PyTorch's num_batches_tracked) */
  int params[CLFER__MAX_LAYER_PARAMS]; /* indices into net->params */
  int n_params;
  /* per pass */
  clfer_tensor_t out, grad;
  clfer_tensor_t aux[2]; /* argmax / mask / lrn scale / bn save_mean+invstd */
  int has_grad;
  /* per forward: a conv or batch norm whose only reader is a ReLU writes the ReLU's output itself
   * (fused_relu, with that ReLU's slope), and the ReLU's output is then its tensor (out_is_input);
   * a fused batch norm also runs the ReLU's backward */
  int fused_relu, out_is_input;
  float fused_slope;
  /* per forward: a conv or max pool whose input is a ReLU read by it alone carries its input
   * gradient through that ReLU too (dx_through_relu, with the ReLU's slope), and the ReLU passes
   * its gradient on untouched (grad_premasked) */
  int dx_through_relu, grad_premasked;
  float through_slope;
  int consumers;         /* nodes reading this one */
  int pending_consumers; /* eval mode: consumers yet to run */
};

struct clfer_net {
  clfer_runtime_t *rt;
  char name[64];
  clfer__node_t *nodes;
  int n_nodes, cap_nodes;
  clfer_net_param_t *params;
  int n_params, cap_params;
  int output_node, features_node;
  int batch;           /* batch size of the last forward */
  int trained_forward; /* the last forward kept what backward needs */
  uint64_t dropout_seed;
  uint64_t step;
  char description[512];
};

/* Creates a parameter "<node>.<suffix>" of the given shape (a buffer when is_buffer). */
clfer_status clfer__net_add_param(clfer_net_t *net, clfer__node_t *node, const char *suffix, int ndim,
                                  const int *shape, int is_buffer);
static inline clfer_net_param_t *clfer__node_param(clfer_net_t *net, const clfer__node_t *node, int i) {
  return &net->params[node->params[i]];
}
static inline clfer__node_t *clfer__input(clfer_net_t *net, const clfer__node_t *node, int i) {
  return &net->nodes[node->inputs[i]];
}
/* The tensor to write ∂L/∂(input i) into: the input's own gradient when it has none yet, else a
 * scratch tensor that clfer__grad_commit adds in (DAG fan-out). */
clfer_status clfer__grad_begin(clfer_net_t *net, clfer__node_t *node, int input, clfer_tensor_t *target);
clfer_status clfer__grad_commit(clfer_net_t *net, clfer__node_t *node, int input, clfer_tensor_t *target);
/* Batch-including shape of a node's output into shape[4]; returns ndim (2 or 4). */
int clfer__full_shape(const clfer_net_t *net, const clfer__node_t *node, int *shape);

extern const clfer__layer_vtable_t clfer__input_layer, clfer__conv2d_layer, clfer__dense_layer, clfer__relu_layer,
    clfer__maxpool_layer, clfer__avgpool_layer, clfer__gap_layer, clfer__dropout_layer, clfer__batchnorm_layer,
    clfer__lrn_layer, clfer__flatten_layer, clfer__add_layer, clfer__concat_layer, clfer__softmax_layer;

#endif
