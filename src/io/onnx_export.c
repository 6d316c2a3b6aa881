/* onnx_export.c — writes a clfer network as an ONNX model (opset 13) through protobuf-c: one node
 * per layer (a dense layer on an image gets a Flatten first), parameters as FP32 initializers under
 * their clfer names, a symbolic batch dimension. What onnxruntime runs is the eval-mode network. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/net_internal.h"
#include "onnx.pb-c.h"
#include "onnx_internal.h"

#define OPSET 13

/* Every message, array and string of the model lives in one arena, freed at once. */
typedef struct block {
  struct block *next;
  max_align_t data[];
} block_t;

typedef struct arena {
  block_t *blocks;
  int failed;
} arena_t;

static void *alloc(arena_t *a, size_t size) {
  block_t *b = calloc(1, sizeof *b + size + 1);
  if (!b) {
    a->failed = 1;
    return NULL;
  }
  b->next = a->blocks;
  a->blocks = b;
  return b->data;
}

static char *adup(arena_t *a, const char *s) {
  char *d = alloc(a, strlen(s) + 1);
  if (d) strcpy(d, s);
  return d;
}

static void arena_free(arena_t *a) {
  while (a->blocks) {
    block_t *next = a->blocks->next;
    free(a->blocks);
    a->blocks = next;
  }
}

typedef struct exporter {
  arena_t arena;
  clfer_net_t *net;
  Onnx__GraphProto *graph;
  size_t cap_nodes, cap_init;
} exporter_t;

static Onnx__NodeProto *add_node(exporter_t *e, const char *op, const char *name, const char *output) {
  if (e->graph->n_node == e->cap_nodes) return NULL;
  Onnx__NodeProto *n = alloc(&e->arena, sizeof *n);
  if (!n) return NULL;
  onnx__node_proto__init(n);
  n->op_type = adup(&e->arena, op);
  n->name = adup(&e->arena, name);
  n->input = alloc(&e->arena, (CLFER__MAX_INPUTS + 4) * sizeof *n->input);
  n->output = alloc(&e->arena, sizeof *n->output);
  n->attribute = alloc(&e->arena, 8 * sizeof *n->attribute);
  if (!n->input || !n->output || !n->attribute) return NULL;
  n->output[n->n_output++] = adup(&e->arena, output);
  e->graph->node[e->graph->n_node++] = n;
  return n;
}

static void add_input(exporter_t *e, Onnx__NodeProto *n, const char *name) {
  if (n && n->n_input < CLFER__MAX_INPUTS + 4) n->input[n->n_input++] = adup(&e->arena, name);
}

static Onnx__AttributeProto *new_attr(exporter_t *e, Onnx__NodeProto *n, const char *name,
                                      Onnx__AttributeProto__AttributeType type) {
  if (!n || n->n_attribute == 8) return NULL;
  Onnx__AttributeProto *a = alloc(&e->arena, sizeof *a);
  if (!a) return NULL;
  onnx__attribute_proto__init(a);
  a->name = adup(&e->arena, name);
  a->has_type = 1;
  a->type = type;
  n->attribute[n->n_attribute++] = a;
  return a;
}

static void attr_int(exporter_t *e, Onnx__NodeProto *n, const char *name, int64_t v) {
  Onnx__AttributeProto *a = new_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  if (a) a->has_i = 1, a->i = v;
}

static void attr_float(exporter_t *e, Onnx__NodeProto *n, const char *name, float v) {
  Onnx__AttributeProto *a = new_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  if (a) a->has_f = 1, a->f = v;
}

static void attr_ints(exporter_t *e, Onnx__NodeProto *n, const char *name, int count, const int *v) {
  Onnx__AttributeProto *a = new_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  if (!a || !(a->ints = alloc(&e->arena, (size_t)count * sizeof *a->ints))) return;
  for (int i = 0; i < count; i++) a->ints[i] = v[i];
  a->n_ints = (size_t)count;
}

/* An FP32 initializer from host data (copied). */
static clfer_status add_initializer(exporter_t *e, const char *name, int ndim, const int *shape, const float *data) {
  if (e->graph->n_initializer == e->cap_init) return clfer_set_error(CLFER_INTERNAL, "ONNX export: too many initializers");
  Onnx__TensorProto *t = alloc(&e->arena, sizeof *t);
  size_t numel = clfer_shape_numel(ndim, shape);
  if (!t || !(t->dims = alloc(&e->arena, (size_t)(ndim ? ndim : 1) * sizeof *t->dims)))
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "ONNX export: out of host memory");
  int64_t *dims = t->dims;
  onnx__tensor_proto__init(t);
  t->dims = dims;
  for (int i = 0; i < ndim; i++) t->dims[i] = shape[i];
  t->n_dims = (size_t)ndim;
  t->has_data_type = 1;
  t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  t->name = adup(&e->arena, name);
  t->has_raw_data = 1;
  t->raw_data.len = numel * 4;
  if (!(t->raw_data.data = alloc(&e->arena, numel * 4)))
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "ONNX export: out of host memory for %s", name);
  memcpy(t->raw_data.data, data, numel * 4); /* little-endian hosts, as ONNX stores raw data */
  e->graph->initializer[e->graph->n_initializer++] = t;
  return CLFER_OK;
}

static clfer_status add_param(exporter_t *e, const clfer_net_param_t *p) {
  size_t numel = clfer_tensor_numel(&p->value);
  float *host = malloc((numel ? numel : 1) * sizeof *host);
  if (!host) return clfer_set_error(CLFER_OUT_OF_MEMORY, "ONNX export: out of host memory for %s", p->name);
  clfer_status st = clfer_tensor_download(&p->value, host);
  if (!st) st = add_initializer(e, p->name, p->value.ndim, p->value.shape, host);
  free(host);
  return st;
}

static Onnx__ValueInfoProto *value_info(exporter_t *e, const char *name, int ndim, const int *shape) {
  Onnx__ValueInfoProto *v = alloc(&e->arena, sizeof *v);
  Onnx__TypeProto *t = alloc(&e->arena, sizeof *t);
  Onnx__TypeProto__Tensor *tt = alloc(&e->arena, sizeof *tt);
  Onnx__TensorShapeProto *s = alloc(&e->arena, sizeof *s);
  Onnx__TensorShapeProto__Dimension **dims = alloc(&e->arena, 4 * sizeof *dims);
  if (!v || !t || !tt || !s || !dims) return NULL;
  onnx__value_info_proto__init(v);
  onnx__type_proto__init(t);
  onnx__type_proto__tensor__init(tt);
  onnx__tensor_shape_proto__init(s);
  for (int i = 0; i <= ndim; i++) {
    Onnx__TensorShapeProto__Dimension *d = alloc(&e->arena, sizeof *d);
    if (!d) return NULL;
    onnx__tensor_shape_proto__dimension__init(d);
    if (i == 0) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = adup(&e->arena, "N");
    } else {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = shape[i - 1];
    }
    dims[i] = d;
  }
  s->dim = dims;
  s->n_dim = (size_t)ndim + 1;
  tt->has_elem_type = 1;
  tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
  tt->shape = s;
  t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  t->tensor_type = tt;
  v->name = adup(&e->arena, name);
  v->type = t;
  return v;
}

/* The ONNX tensor that holds node i's output. */
static void tensor_name(const clfer_net_t *net, int i, char *out, size_t size) {
  if (i == 0)
    snprintf(out, size, "input");
  else if (i == clfer_net_output_node(net))
    snprintf(out, size, "output");
  else if (strcmp(net->nodes[i].name, "output") == 0 || strcmp(net->nodes[i].name, "input") == 0)
    snprintf(out, size, "%s:0", net->nodes[i].name);
  else
    snprintf(out, size, "%s", net->nodes[i].name);
}

static clfer_status export_node(exporter_t *e, int i) {
  clfer_net_t *net = e->net;
  const clfer__node_t *n = &net->nodes[i];
  const clfer__layer_vtable_t *vt = n->vt;
  char out[80], in[112], flat[80];
  tensor_name(net, i, out, sizeof out);
  tensor_name(net, n->inputs[0], in, sizeof in);
  Onnx__NodeProto *o = NULL;
  clfer_status st = CLFER_OK;
  if (vt == &clfer__conv2d_layer) {
    o = add_node(e, "Conv", n->name, out);
    add_input(e, o, in);
    for (int j = 0; j < n->n_params; j++) add_input(e, o, clfer__node_param(net, n, j)->name);
    int k[2] = {n->conv.kernel_h, n->conv.kernel_w}, s[2] = {n->conv.stride_h, n->conv.stride_w},
        p[4] = {n->conv.pad_h, n->conv.pad_w, n->conv.pad_h, n->conv.pad_w}, d[2] = {1, 1};
    attr_ints(e, o, "kernel_shape", 2, k);
    attr_ints(e, o, "strides", 2, s);
    attr_ints(e, o, "pads", 4, p);
    attr_ints(e, o, "dilations", 2, d);
    attr_int(e, o, "group", n->conv.groups);
  } else if (vt == &clfer__dense_layer) {
    if (net->nodes[n->inputs[0]].out_ndim != 1) { /* clfer's dense flattens implicitly; Gemm does not */
      snprintf(flat, sizeof flat, "%.63s.flatten", n->name);
      Onnx__NodeProto *f = add_node(e, "Flatten", flat, flat);
      add_input(e, f, in);
      attr_int(e, f, "axis", 1);
      snprintf(in, sizeof in, "%s", flat);
    }
    o = add_node(e, "Gemm", n->name, out);
    add_input(e, o, in);
    for (int j = 0; j < n->n_params; j++) add_input(e, o, clfer__node_param(net, n, j)->name);
    attr_int(e, o, "transB", 1);
  } else if (vt == &clfer__relu_layer) {
    o = add_node(e, n->slope != 0.0f ? "LeakyRelu" : "Relu", n->name, out);
    add_input(e, o, in);
    if (n->slope != 0.0f) attr_float(e, o, "alpha", n->slope);
  } else if (vt == &clfer__maxpool_layer || vt == &clfer__avgpool_layer) {
    o = add_node(e, vt == &clfer__maxpool_layer ? "MaxPool" : "AveragePool", n->name, out);
    add_input(e, o, in);
    int k[2] = {n->pool.kernel_h, n->pool.kernel_w}, s[2] = {n->pool.stride_h, n->pool.stride_w},
        p[4] = {n->pool.pad_h, n->pool.pad_w, n->pool.pad_h, n->pool.pad_w};
    attr_ints(e, o, "kernel_shape", 2, k);
    attr_ints(e, o, "strides", 2, s);
    attr_ints(e, o, "pads", 4, p);
    attr_int(e, o, "ceil_mode", n->pool.ceil_mode);
    if (vt == &clfer__avgpool_layer) attr_int(e, o, "count_include_pad", n->pool.count_include_pad);
  } else if (vt == &clfer__gap_layer) {
    o = add_node(e, "GlobalAveragePool", n->name, out);
    add_input(e, o, in);
  } else if (vt == &clfer__dropout_layer) {
    /* the ratio travels as an input so a re-import keeps it; inference ignores it */
    char ratio[96];
    snprintf(ratio, sizeof ratio, "%s.ratio", n->name);
    if ((st = add_initializer(e, ratio, 0, NULL, &n->dropout_p))) return st;
    o = add_node(e, "Dropout", n->name, out);
    add_input(e, o, in);
    add_input(e, o, ratio);
  } else if (vt == &clfer__batchnorm_layer) {
    o = add_node(e, "BatchNormalization", n->name, out);
    add_input(e, o, in);
    for (int j = 0; j < n->n_params; j++) add_input(e, o, clfer__node_param(net, n, j)->name);
    attr_float(e, o, "epsilon", n->bn.eps);
    attr_float(e, o, "momentum", 1.0f - n->bn.momentum);
  } else if (vt == &clfer__lrn_layer) {
    o = add_node(e, "LRN", n->name, out);
    add_input(e, o, in);
    attr_int(e, o, "size", n->lrn.size);
    attr_float(e, o, "alpha", n->lrn.alpha);
    attr_float(e, o, "beta", n->lrn.beta);
    attr_float(e, o, "bias", n->lrn.k);
  } else if (vt == &clfer__flatten_layer) {
    o = add_node(e, "Flatten", n->name, out);
    add_input(e, o, in);
    attr_int(e, o, "axis", 1);
  } else if (vt == &clfer__add_layer || vt == &clfer__concat_layer) {
    o = add_node(e, vt == &clfer__add_layer ? "Add" : "Concat", n->name, out);
    for (int j = 0; j < n->n_inputs; j++) {
      tensor_name(net, n->inputs[j], in, sizeof in);
      add_input(e, o, in);
    }
    if (vt == &clfer__concat_layer) attr_int(e, o, "axis", 1);
  } else if (vt == &clfer__softmax_layer) {
    o = add_node(e, "Softmax", n->name, out);
    add_input(e, o, in);
    attr_int(e, o, "axis", 1);
  } else {
    return clfer_set_error(CLFER_UNSUPPORTED, "ONNX export: layer %s has type %s, which has no ONNX mapping", n->name,
                           vt->type);
  }
  if (!o || e->arena.failed) return clfer_set_error(CLFER_OUT_OF_MEMORY, "ONNX export: out of host memory at layer %s", n->name);
  /* BN on [N, F] works in ONNX too; parameters go in as initializers */
  for (int j = 0; j < n->n_params && !st; j++) st = add_param(e, clfer__node_param(net, n, j));
  return st;
}

clfer_status clfer_onnx_export(clfer_net_t *net, const char *path) {
  exporter_t e = {{NULL, 0}, net, NULL, 0, 0};
  clfer_status st = CLFER_OK;
  uint8_t *buf = NULL;
  char tmp[1100] = "";
  FILE *f = NULL;
  Onnx__ModelProto *m = alloc(&e.arena, sizeof *m);
  Onnx__GraphProto *g = alloc(&e.arena, sizeof *g);
  Onnx__OperatorSetIdProto *opset = alloc(&e.arena, sizeof *opset);
  Onnx__OperatorSetIdProto **opsets = alloc(&e.arena, sizeof *opsets);
  e.cap_nodes = 2 * (size_t)net->n_nodes;
  e.cap_init = (size_t)net->n_params + (size_t)net->n_nodes;
  Onnx__NodeProto **nodes = alloc(&e.arena, e.cap_nodes * sizeof *nodes);
  Onnx__TensorProto **inits = alloc(&e.arena, e.cap_init * sizeof *inits);
  Onnx__ValueInfoProto **ins = alloc(&e.arena, sizeof *ins), **outs = alloc(&e.arena, sizeof *outs);
  if (e.arena.failed) {
    st = clfer_set_error(CLFER_OUT_OF_MEMORY, "ONNX export: out of host memory");
    goto done;
  }
  onnx__model_proto__init(m);
  onnx__graph_proto__init(g);
  onnx__operator_set_id_proto__init(opset);
  opset->domain = adup(&e.arena, "");
  opset->has_version = 1;
  opset->version = OPSET;
  opsets[0] = opset;
  m->has_ir_version = 1;
  m->ir_version = 7; /* the IR of opset 13 */
  m->opset_import = opsets;
  m->n_opset_import = 1;
  m->producer_name = adup(&e.arena, "clfer");
  m->producer_version = adup(&e.arena, "0.1.0");
  m->doc_string = adup(&e.arena, net->description);
  g->name = adup(&e.arena, net->name);
  g->node = nodes;
  g->initializer = inits;
  m->graph = g;
  e.graph = g;
  for (int i = 1; i < net->n_nodes && !st; i++) st = export_node(&e, i);
  if (st) goto done;
  const clfer__node_t *o = &net->nodes[clfer_net_output_node(net)];
  ins[0] = value_info(&e, "input", 3, net->nodes[0].out_shape);
  outs[0] = value_info(&e, "output", o->out_ndim, o->out_shape);
  g->input = ins, g->n_input = 1;
  g->output = outs, g->n_output = 1;
  if (e.arena.failed || !ins[0] || !outs[0]) {
    st = clfer_set_error(CLFER_OUT_OF_MEMORY, "ONNX export: out of host memory");
    goto done;
  }
  size_t size = onnx__model_proto__get_packed_size(m);
  if (!(buf = malloc(size ? size : 1))) {
    st = clfer_set_error(CLFER_OUT_OF_MEMORY, "ONNX export: out of host memory for %zu bytes", size);
    goto done;
  }
  onnx__model_proto__pack(m, buf);
  snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0 || !(f = fdopen(fd, "wb"))) {
    if (fd >= 0) close(fd);
    st = clfer_set_error(CLFER_IO_ERROR, "cannot write %s: %s", path, strerror(errno));
    tmp[0] = '\0';
    goto done;
  }
  int ok = fwrite(buf, 1, size, f) == size && fflush(f) == 0;
  ok = (fclose(f) == 0) && ok;
  f = NULL;
  if (!ok || rename(tmp, path) != 0) {
    st = clfer_set_error(CLFER_IO_ERROR, "cannot write %s: %s", path, strerror(errno));
    goto done;
  }
  tmp[0] = '\0';
done:
  if (tmp[0]) unlink(tmp);
  free(buf);
  arena_free(&e.arena);
  return st;
}
