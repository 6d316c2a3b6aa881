/* net.c — the network graph: builder calls, shape inference, parameters by name, weight
 * initialisation, and the forward/backward drivers. Nodes are kept in insertion order, which is
 * a topological order because a node may only read nodes added before it. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

/* ---- creation ---- */

static clfer_status grow_nodes(clfer_net_t *net) {
  if (net->n_nodes < net->cap_nodes) return CLFER_OK;
  int cap = net->cap_nodes ? 2 * net->cap_nodes : 32;
  clfer__node_t *grown = realloc(net->nodes, (size_t)cap * sizeof *grown);
  if (!grown) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory adding a layer");
  net->nodes = grown;
  net->cap_nodes = cap;
  return CLFER_OK;
}

/* Whether a per-image shape holds at most 2^31 - 1 values: the layers multiply shapes as int, and
 * kernels index so. (Each partial product stays under 2^62.) */
static int values_fit_int(int ndim, const int *shape) {
  long long values = 1;
  for (int i = 0; i < ndim && values <= INT_MAX; i++) values *= shape[i];
  return values <= INT_MAX;
}

clfer_status clfer_net_create(clfer_runtime_t *rt, const char *model_name, int c, int h, int w, clfer_net_t **out) {
  *out = NULL;
  if (c <= 0 || h <= 0 || w <= 0 || !values_fit_int(3, (const int[]){c, h, w}))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "model %s: input %dx%dx%d must be positive and under 2^31 values",
                           model_name, c, h, w);
  clfer_net_t *net = calloc(1, sizeof *net);
  if (!net) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory creating a network");
  net->rt = rt;
  snprintf(net->name, sizeof net->name, "%s", model_name ? model_name : "net");
  net->output_node = -1;
  net->features_node = -1;
  net->dropout_seed = 0x5eed;
  if (grow_nodes(net)) {
    free(net);
    return CLFER_OUT_OF_MEMORY;
  }
  clfer__node_t *in = &net->nodes[net->n_nodes++];
  memset(in, 0, sizeof *in);
  snprintf(in->name, sizeof in->name, "input");
  in->vt = &clfer__input_layer;
  in->out_ndim = 3;
  in->out_shape[0] = c, in->out_shape[1] = h, in->out_shape[2] = w;
  *out = net;
  return CLFER_OK;
}

void clfer_net_destroy(clfer_net_t *net) {
  if (!net) return;
  clfer_net_release_activations(net);
  for (int i = 0; i < net->n_params; i++) {
    clfer_tensor_release(&net->params[i].value);
    clfer_tensor_release(&net->params[i].grad);
  }
  free(net->params);
  free(net->nodes);
  free(net);
}

clfer_status clfer__net_add_param(clfer_net_t *net, clfer__node_t *node, const char *suffix, int ndim,
                                  const int *shape, int is_buffer) {
  if (node->n_params >= CLFER__MAX_LAYER_PARAMS)
    return clfer_set_error(CLFER_INTERNAL, "layer %s: too many parameters", node->name);
  if (net->n_params == net->cap_params) {
    int cap = net->cap_params ? 2 * net->cap_params : 32;
    clfer_net_param_t *grown = realloc(net->params, (size_t)cap * sizeof *grown);
    if (!grown) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory for layer %s", node->name);
    net->params = grown;
    net->cap_params = cap;
  }
  clfer_net_param_t *p = &net->params[net->n_params];
  memset(p, 0, sizeof *p);
  snprintf(p->name, sizeof p->name, "%s.%s", node->name, suffix);
  p->is_buffer = is_buffer;
  p->node = (int)(node - net->nodes);
  clfer_status st = clfer_tensor_zeros(net->rt, ndim, shape, &p->value);
  if (!st && !is_buffer) st = clfer_tensor_zeros(net->rt, ndim, shape, &p->grad);
  if (st) {
    clfer_tensor_release(&p->value);
    return clfer_wrap_error(st, "layer %s: ", node->name);
  }
  node->params[node->n_params++] = net->n_params++;
  return CLFER_OK;
}

/* A node's output per image must fit an int (values_fit_int). */
static clfer_status check_output_size(const clfer__node_t *node) {
  if (values_fit_int(node->out_ndim, node->out_shape)) return CLFER_OK;
  char s[96];
  return clfer_set_error(CLFER_SHAPE_MISMATCH, "layer %s (%s): output %s has more than 2^31 - 1 values per image",
                         node->name, node->vt->type, clfer_shape_str(node->out_ndim, node->out_shape, s, sizeof s));
}

/* Adds a node reading `inputs`, runs its setup (shapes, parameters). */
static clfer_status add_node(clfer_net_t *net, const char *name, const clfer__layer_vtable_t *vt, int n_inputs,
                             const int *inputs, const clfer__node_t *config, int *out) {
  if (out) *out = -1;
  if (!name || !*name || strlen(name) >= sizeof net->nodes[0].name)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "model %s: a %s layer needs a name under 64 characters", net->name,
                           vt->type);
  if (clfer_net_find(net, name) >= 0)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "model %s: layer name '%s' used twice", net->name, name);
  if (n_inputs < 1 || n_inputs > CLFER__MAX_INPUTS)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "layer %s: %d inputs", name, n_inputs);
  for (int i = 0; i < n_inputs; i++)
    if (inputs[i] < 0 || inputs[i] >= net->n_nodes)
      return clfer_set_error(CLFER_INVALID_ARGUMENT, "layer %s: input node %d does not exist", name, inputs[i]);
  clfer_status st = grow_nodes(net);
  if (st) return st;
  clfer__node_t *node = &net->nodes[net->n_nodes];
  if (config)
    *node = *config;
  else
    memset(node, 0, sizeof *node);
  snprintf(node->name, sizeof node->name, "%s", name);
  node->vt = vt;
  node->n_inputs = n_inputs;
  memcpy(node->inputs, inputs, (size_t)n_inputs * sizeof *inputs);
  node->n_params = 0;
  int first_param = net->n_params;
  if ((st = vt->setup(net, node)) || (st = check_output_size(node))) {
    for (int i = first_param; i < net->n_params; i++) {
      clfer_tensor_release(&net->params[i].value);
      clfer_tensor_release(&net->params[i].grad);
    }
    net->n_params = first_param;
    return st;
  }
  for (int i = 0; i < n_inputs; i++) net->nodes[inputs[i]].consumers++;
  if (out) *out = net->n_nodes;
  net->n_nodes++;
  return CLFER_OK;
}

clfer_status clfer_net_conv2d(clfer_net_t *net, const char *name, int input, int out_channels,
                              const clfer_conv2d_params_t *p, int bias, int *out) {
  clfer__node_t cfg = {0};
  cfg.conv = *p;
  if (cfg.conv.stride_h <= 0) cfg.conv.stride_h = 1;
  if (cfg.conv.stride_w <= 0) cfg.conv.stride_w = 1;
  if (cfg.conv.groups <= 0) cfg.conv.groups = 1;
  cfg.units = out_channels;
  cfg.has_bias = bias;
  return add_node(net, name, &clfer__conv2d_layer, 1, &input, &cfg, out);
}

clfer_status clfer_net_dense(clfer_net_t *net, const char *name, int input, int out_features, int bias, int *out) {
  clfer__node_t cfg = {0};
  cfg.units = out_features;
  cfg.has_bias = bias;
  return add_node(net, name, &clfer__dense_layer, 1, &input, &cfg, out);
}

clfer_status clfer_net_relu(clfer_net_t *net, const char *name, int input, float slope, int *out) {
  if (!(slope >= 0.0f) || isinf(slope)) /* as the ReLU ops require (activation.c) */
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "layer %s: ReLU slope %g must be finite and >= 0", name,
                           (double)slope);
  clfer__node_t cfg = {0};
  cfg.slope = slope;
  return add_node(net, name, &clfer__relu_layer, 1, &input, &cfg, out);
}

static clfer_pool2d_params_t pool_defaults(const clfer_pool2d_params_t *p) {
  clfer_pool2d_params_t q = *p;
  if (q.stride_h <= 0) q.stride_h = q.kernel_h;
  if (q.stride_w <= 0) q.stride_w = q.kernel_w;
  return q;
}

clfer_status clfer_net_maxpool(clfer_net_t *net, const char *name, int input, const clfer_pool2d_params_t *p, int *out) {
  clfer__node_t cfg = {0};
  cfg.pool = pool_defaults(p);
  return add_node(net, name, &clfer__maxpool_layer, 1, &input, &cfg, out);
}

clfer_status clfer_net_avgpool(clfer_net_t *net, const char *name, int input, const clfer_pool2d_params_t *p, int *out) {
  clfer__node_t cfg = {0};
  cfg.pool = pool_defaults(p);
  return add_node(net, name, &clfer__avgpool_layer, 1, &input, &cfg, out);
}

clfer_status clfer_net_global_avgpool(clfer_net_t *net, const char *name, int input, int *out) {
  return add_node(net, name, &clfer__gap_layer, 1, &input, NULL, out);
}

clfer_status clfer_net_dropout(clfer_net_t *net, const char *name, int input, float p, int *out) {
  if (!(p >= 0.0f && p < 1.0f))
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "layer %s: dropout probability %g outside [0, 1)", name, p);
  clfer__node_t cfg = {0};
  cfg.dropout_p = p;
  return add_node(net, name, &clfer__dropout_layer, 1, &input, &cfg, out);
}

clfer_status clfer_net_batchnorm(clfer_net_t *net, const char *name, int input, const clfer_batchnorm_params_t *p,
                                 int *out) {
  clfer__node_t cfg = {0};
  cfg.bn = p ? *p : (clfer_batchnorm_params_t){1e-5f, 0.1f};
  return add_node(net, name, &clfer__batchnorm_layer, 1, &input, &cfg, out);
}

clfer_status clfer_net_lrn(clfer_net_t *net, const char *name, int input, const clfer_lrn_params_t *p, int *out) {
  clfer__node_t cfg = {0};
  cfg.lrn = *p;
  return add_node(net, name, &clfer__lrn_layer, 1, &input, &cfg, out);
}

clfer_status clfer_net_flatten(clfer_net_t *net, const char *name, int input, int *out) {
  return add_node(net, name, &clfer__flatten_layer, 1, &input, NULL, out);
}

clfer_status clfer_net_add(clfer_net_t *net, const char *name, int a, int b, int *out) {
  int in[2] = {a, b};
  return add_node(net, name, &clfer__add_layer, 2, in, NULL, out);
}

clfer_status clfer_net_concat(clfer_net_t *net, const char *name, int n_inputs, const int *inputs, int *out) {
  return add_node(net, name, &clfer__concat_layer, n_inputs, inputs, NULL, out);
}

clfer_status clfer_net_softmax(clfer_net_t *net, const char *name, int input, int *out) {
  return add_node(net, name, &clfer__softmax_layer, 1, &input, NULL, out);
}

static clfer_status check_node(const clfer_net_t *net, int node) {
  if (node < 0 || node >= net->n_nodes)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "model %s has no node %d", net->name, node);
  return CLFER_OK;
}

clfer_status clfer_net_set_output(clfer_net_t *net, int node) {
  clfer_status st = check_node(net, node);
  if (!st) net->output_node = node;
  return st;
}

clfer_status clfer_net_set_features(clfer_net_t *net, int node) {
  clfer_status st = check_node(net, node);
  if (!st) net->features_node = node;
  return st;
}

/* ---- inspection ---- */

const char *clfer_net_name(const clfer_net_t *net) { return net->name; }
int clfer_net_node_count(const clfer_net_t *net) { return net->n_nodes; }
int clfer_net_find(const clfer_net_t *net, const char *name) {
  for (int i = 0; i < net->n_nodes; i++)
    if (strcmp(net->nodes[i].name, name) == 0) return i;
  return -1;
}
const char *clfer_net_node_name(const clfer_net_t *net, int node) {
  return node >= 0 && node < net->n_nodes ? net->nodes[node].name : NULL;
}
const char *clfer_net_node_type(const clfer_net_t *net, int node) {
  return node >= 0 && node < net->n_nodes ? net->nodes[node].vt->type : NULL;
}
void clfer_net_node_shape(const clfer_net_t *net, int node, int *ndim, int shape[3]) {
  const clfer__node_t *n = &net->nodes[node];
  *ndim = n->out_ndim;
  memcpy(shape, n->out_shape, sizeof n->out_shape);
}
int clfer_net_output_node(const clfer_net_t *net) { return net->output_node >= 0 ? net->output_node : net->n_nodes - 1; }
int clfer_net_features_node(const clfer_net_t *net) { return net->features_node; }
void clfer_net_input_shape(const clfer_net_t *net, int shape[3]) { memcpy(shape, net->nodes[0].out_shape, 3 * sizeof(int)); }

double clfer_net_flops(const clfer_net_t *net) {
  double total = 0;
  for (int i = 1; i < net->n_nodes; i++)
    if (net->nodes[i].vt->flops) total += net->nodes[i].vt->flops(net, &net->nodes[i]);
  return total;
}

int clfer_net_param_count(const clfer_net_t *net) { return net->n_params; }
clfer_net_param_t *clfer_net_param(clfer_net_t *net, int index) {
  return index >= 0 && index < net->n_params ? &net->params[index] : NULL;
}
clfer_net_param_t *clfer_net_param_by_name(clfer_net_t *net, const char *name) {
  for (int i = 0; i < net->n_params; i++)
    if (strcmp(net->params[i].name, name) == 0) return &net->params[i];
  return NULL;
}
size_t clfer_net_param_scalars(const clfer_net_t *net) {
  size_t n = 0;
  for (int i = 0; i < net->n_params; i++)
    if (!net->params[i].is_buffer) n += clfer_tensor_numel(&net->params[i].value);
  return n;
}

clfer_status clfer_net_set_description(clfer_net_t *net, const char *json) {
  if (strlen(json) >= sizeof net->description)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "model %s: description over %zu characters", net->name,
                           sizeof net->description - 1);
  strcpy(net->description, json);
  return CLFER_OK;
}

const char *clfer_net_description(const clfer_net_t *net) { return net->description; }

void clfer_net_print(const clfer_net_t *net, FILE *out) {
  fprintf(out, "%s\n", net->name);
  for (int i = 0; i < net->n_nodes; i++) {
    const clfer__node_t *n = &net->nodes[i];
    char shape[64];
    clfer_shape_str(n->out_ndim, n->out_shape, shape, sizeof shape);
    size_t params = 0;
    for (int j = 0; j < n->n_params; j++)
      if (!net->params[n->params[j]].is_buffer) params += clfer_tensor_numel(&net->params[n->params[j]].value);
    fprintf(out, "  %-24s %-12s %-18s %10zu\n", n->name, n->vt->type, shape, params);
  }
}

/* ---- initialisation ---- */

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static double uniform01(uint64_t *s) { return (double)(splitmix(s) >> 11) * (1.0 / 9007199254740992.0); }
static double normal(uint64_t *s) {
  double u1 = uniform01(s), u2 = uniform01(s);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

clfer_status clfer_net_init(clfer_net_t *net, clfer_init scheme, uint64_t seed) {
  for (int i = 1; i < net->n_nodes; i++) {
    clfer__node_t *n = &net->nodes[i];
    for (int j = 0; j < n->n_params; j++) {
      clfer_net_param_t *p = clfer__node_param(net, n, j);
      size_t count = clfer_tensor_numel(&p->value);
      float *host = malloc(count * sizeof *host);
      if (!host) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory initialising %s", p->name);
      const char *suffix = strrchr(p->name, '.') + 1;
      /* fans of the layer's weight: [out, in, kh, kw] or [out, in] */
      clfer_net_param_t *w = clfer__node_param(net, n, 0);
      double fan_in = 1, fan_out = 1;
      if (w->value.ndim >= 2) {
        double receptive = w->value.ndim == 4 ? (double)w->value.shape[2] * w->value.shape[3] : 1.0;
        fan_in = w->value.shape[1] * receptive;
        fan_out = w->value.shape[0] * receptive;
      }
      /* seed each tensor from (seed, name) so adding a layer does not change the others */
      uint64_t s = seed;
      for (const char *c = p->name; *c; c++) s = (s ^ (unsigned char)*c) * 0x100000001b3ull;
      int is_bn = n->vt == &clfer__batchnorm_layer;
      for (size_t k = 0; k < count; k++) {
        double v = 0;
        if (is_bn)
          v = (strcmp(suffix, "weight") == 0 || strcmp(suffix, "running_var") == 0) ? 1.0 : 0.0;
        else if (strcmp(suffix, "weight") == 0) {
          if (scheme == CLFER_INIT_GLOROT_UNIFORM) {
            double a = sqrt(6.0 / (fan_in + fan_out));
            v = (2 * uniform01(&s) - 1) * a;
          } else if (scheme == CLFER_INIT_KAIMING_NORMAL) {
            v = normal(&s) * sqrt(2.0 / (w->value.ndim == 4 ? fan_out : fan_in));
          } else { /* kaiming_uniform(a=sqrt(5)) bound = 1/sqrt(fan_in) */
            v = (2 * uniform01(&s) - 1) / sqrt(fan_in);
          }
        } else if (strcmp(suffix, "bias") == 0 && scheme == CLFER_INIT_PYTORCH) {
          v = (2 * uniform01(&s) - 1) / sqrt(fan_in);
        }
        host[k] = (float)v;
      }
      clfer_status st = clfer_tensor_upload(&p->value, host);
      free(host);
      if (st) return clfer_wrap_error(st, "initialising %s: ", p->name);
    }
  }
  return CLFER_OK;
}

/* ---- running ---- */

int clfer__full_shape(const clfer_net_t *net, const clfer__node_t *node, int *shape) {
  shape[0] = net->batch;
  for (int i = 0; i < node->out_ndim; i++) shape[i + 1] = node->out_shape[i];
  return node->out_ndim + 1;
}

static void release_node(clfer__node_t *n) {
  clfer_tensor_release(&n->out);
  clfer_tensor_release(&n->grad);
  clfer_tensor_release(&n->aux[0]);
  clfer_tensor_release(&n->aux[1]);
  n->has_grad = 0;
}

void clfer_net_release_activations(clfer_net_t *net) {
  for (int i = 0; i < net->n_nodes; i++) release_node(&net->nodes[i]);
  net->trained_forward = 0;
}

void clfer_net_set_dropout_seed(clfer_net_t *net, uint64_t seed) { net->dropout_seed = seed; }

const clfer_tensor_t *clfer_net_activation(const clfer_net_t *net, int node) {
  if (node < 0 || node >= net->n_nodes || !net->nodes[node].out.buf) return NULL;
  return &net->nodes[node].out;
}

/* Marks each conv or batch norm whose only reader is a ReLU to write that ReLU's output itself
 * (one pass over memory instead of three): not the output or features node, whose own values
 * callers read. The ReLU's backward reads only its output, and the conv's only its input, so
 * training is the same to the bit. A fused batch norm also applies the ReLU's backward (its
 * backward reads its input, not its output), and the ReLU passes its gradient on untouched. */
static void plan_relu_fusion(clfer_net_t *net, int out_node) {
  for (int i = 0; i < net->n_nodes; i++) net->nodes[i].fused_relu = net->nodes[i].out_is_input = 0;
  for (int i = 1; i < net->n_nodes; i++) {
    clfer__node_t *n = &net->nodes[i];
    if ((n->vt != &clfer__conv2d_layer && n->vt != &clfer__batchnorm_layer) || n->consumers != 1 || i == out_node ||
        i == net->features_node)
      continue;
    for (int j = i + 1; j < net->n_nodes; j++) {
      clfer__node_t *c = &net->nodes[j];
      if (c->n_inputs < 1 || c->inputs[0] != i) continue;
      if (c->vt == &clfer__relu_layer && c->n_inputs == 1)
        n->fused_relu = 1, n->fused_slope = c->slope, c->out_is_input = 1;
      break;
    }
  }
}

/* Marks each conv or max pool whose input is a ReLU's output, read by it alone, to carry its input
 * gradient through the ReLU as well (clfer_conv2d_backward_through_relu,
 * clfer_maxpool2d_backward_through_relu: the mask applied as dx is written, one pass over memory
 * instead of three), and the ReLU to pass its gradient on untouched. Not a ReLU that is the output
 * or features node (callers seed gradients there), nor one fused into a batch norm (its backward
 * masks already). Training gives the same numbers (but for overlapping max-pool windows under a
 * leaky ReLU, which may round differently: ops.h). */
static void plan_relu_backward_fusion(clfer_net_t *net, int out_node) {
  for (int i = 0; i < net->n_nodes; i++) net->nodes[i].dx_through_relu = net->nodes[i].grad_premasked = 0;
  for (int i = 1; i < net->n_nodes; i++) {
    clfer__node_t *n = &net->nodes[i];
    if ((n->vt != &clfer__conv2d_layer && n->vt != &clfer__maxpool_layer) || n->n_inputs < 1) continue;
    int r = n->inputs[0];
    clfer__node_t *relu = &net->nodes[r];
    if (r == 0 || relu->vt != &clfer__relu_layer || relu->n_inputs != 1 || relu->consumers != 1 || r == out_node ||
        r == net->features_node)
      continue;
    if (relu->out_is_input && net->nodes[relu->inputs[0]].vt == &clfer__batchnorm_layer) continue;
    n->dx_through_relu = 1, n->through_slope = relu->slope, relu->grad_premasked = 1;
  }
}

clfer_status clfer_net_forward(clfer_net_t *net, const clfer_tensor_t *input, int train, uint64_t step,
                               const clfer_tensor_t **output) {
  clfer__node_t *in = &net->nodes[0];
  if (input->ndim != 4 || input->shape[1] != in->out_shape[0] || input->shape[2] != in->out_shape[1] ||
      input->shape[3] != in->out_shape[2]) {
    char got[64];
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "model %s expects input [N, %d, %d, %d], got %s", net->name,
                           in->out_shape[0], in->out_shape[1], in->out_shape[2],
                           clfer_shape_str(input->ndim, input->shape, got, sizeof got));
  }
  clfer_net_release_activations(net);
  net->batch = input->shape[0];
  net->step = step;
  int out_node = clfer_net_output_node(net);
  in->out = *input;
  in->out.owned = 0;
  for (int i = 0; i < net->n_nodes; i++) net->nodes[i].pending_consumers = net->nodes[i].consumers;
  plan_relu_fusion(net, out_node);
  plan_relu_backward_fusion(net, out_node);
  for (int i = 1; i < net->n_nodes; i++) {
    clfer__node_t *n = &net->nodes[i];
    clfer_status st;
    if (n->out_is_input) { /* a fused ReLU: its conv already wrote this output */
      n->out = clfer__input(net, n, 0)->out;
      n->out.owned = 0;
    } else if (!n->vt->output_is_view) {
      int shape[4];
      int nd = clfer__full_shape(net, n, shape);
      if ((st = clfer_tensor_create(net->rt, nd, shape, &n->out))) return clfer_wrap_error(st, "layer %s: ", n->name);
    }
    if (!n->out_is_input && (st = n->vt->forward(net, n, train)))
      return clfer_wrap_error(st, "layer %s (%s): ", n->name, n->vt->type);
    if (!train) { /* inference keeps only what later layers still read */
      for (int j = 0; j < n->n_inputs; j++) {
        clfer__node_t *src = clfer__input(net, n, j);
        int idx = n->inputs[j];
        if (--src->pending_consumers == 0 && idx != 0 && idx != out_node && idx != net->features_node &&
            !n->vt->output_is_view && !n->out_is_input) {
          release_node(src);
          if (src->out_is_input) release_node(clfer__input(net, src, 0)); /* the fused conv's tensor */
        }
      }
    }
  }
  net->trained_forward = train;
  *output = &net->nodes[out_node].out;
  return CLFER_OK;
}

clfer_status clfer__grad_begin(clfer_net_t *net, clfer__node_t *node, int input, clfer_tensor_t *target) {
  clfer__node_t *src = clfer__input(net, node, input);
  int shape[4];
  int nd = clfer__full_shape(net, src, shape);
  if (!src->has_grad) {
    clfer_status st = clfer_tensor_create(net->rt, nd, shape, &src->grad);
    if (st) return st;
    *target = src->grad;
    target->owned = 0;
    return CLFER_OK;
  }
  return clfer_tensor_create(net->rt, nd, shape, target);
}

clfer_status clfer__grad_commit(clfer_net_t *net, clfer__node_t *node, int input, clfer_tensor_t *target) {
  clfer__node_t *src = clfer__input(net, node, input);
  clfer_status st = CLFER_OK;
  if (!src->has_grad) {
    src->has_grad = 1;
  } else {
    st = clfer_add(net->rt, &src->grad, target, &src->grad);
    clfer_tensor_release(target);
  }
  return st;
}

static clfer_status seed_grad(clfer_net_t *net, int node, const clfer_tensor_t *g, const char *what) {
  clfer__node_t *n = &net->nodes[node];
  if (clfer_tensor_numel(g) != clfer_tensor_numel(&n->out)) {
    char a[64], b[64];
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "model %s: gradient of the %s is %s, the %s is %s", net->name, what,
                           clfer_shape_str(g->ndim, g->shape, a, sizeof a), what,
                           clfer_shape_str(n->out.ndim, n->out.shape, b, sizeof b));
  }
  clfer_status st;
  if (!n->has_grad) {
    if ((st = clfer_tensor_create(net->rt, n->out.ndim, n->out.shape, &n->grad))) return st;
    n->has_grad = 1;
    clfer_tensor_t src;
    if ((st = clfer_tensor_reshape(g, n->out.ndim, n->out.shape, &src))) return st;
    return clfer_tensor_copy(&n->grad, &src);
  }
  clfer_tensor_t src;
  if ((st = clfer_tensor_reshape(g, n->out.ndim, n->out.shape, &src))) return st;
  return clfer_axpy(net->rt, 1.0f, &src, &n->grad);
}

clfer_status clfer_net_backward(clfer_net_t *net, const clfer_tensor_t *grad_output, const clfer_tensor_t *grad_features) {
  if (!net->trained_forward)
    return clfer_set_error(CLFER_INVALID_ARGUMENT, "model %s: backward needs a forward pass with train=1 first",
                           net->name);
  clfer_status st;
  for (int i = 0; i < net->n_nodes; i++) {
    clfer_tensor_release(&net->nodes[i].grad);
    net->nodes[i].has_grad = 0;
  }
  if ((st = seed_grad(net, clfer_net_output_node(net), grad_output, "output"))) return st;
  if (grad_features && net->features_node >= 0 &&
      (st = seed_grad(net, net->features_node, grad_features, "features")))
    return st;
  for (int i = net->n_nodes - 1; i >= 1; i--) {
    clfer__node_t *n = &net->nodes[i];
    if (!n->has_grad || !n->vt->backward) continue;
    if ((st = n->vt->backward(net, n))) return clfer_wrap_error(st, "layer %s (%s) backward: ", n->name, n->vt->type);
  }
  /* parameters of layers that received no gradient (off every path to the seeded nodes) keep a
   * zero gradient; the others' backward passes have just overwritten theirs. Asked before the
   * pass, has_grad would be set on the seeded nodes only, and every gradient would be zeroed first
   * (AlexNet: 8 ms a step for fc6's and fc7's 218 MB). */
  for (int i = 0; i < net->n_params; i++)
    if (!net->params[i].is_buffer && !net->nodes[net->params[i].node].has_grad &&
        (st = clfer_tensor_fill(&net->params[i].grad, 0.0f)))
      return st;
  return CLFER_OK;
}
