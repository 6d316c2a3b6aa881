/* onnx_convert.c — ONNX ModelProto (read with protobuf-c from the onnx.proto compiled at build
 * time) to a clfer layer description and host weights. Pure C with no OpenCL so the fuzz target
 * runs it alone. Every check names the node and op; nothing here trusts a size from the file. */
#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "onnx_internal.h"

#define MAX_ELEMENTS (1u << 30) /* 4 GiB of float32 in one tensor */
#define MAX_EXTENT (1 << 20)    /* one dimension of an activation */

/* An ONNX tensor name bound to a clfer layer's output or to a constant. */
typedef struct value {
  const char *name;
  int layer;                       /* >= 0: the layer whose output this is; -1: constant */
  const Onnx__TensorProto *tensor; /* constant */
  int pad_h, pad_w;                /* a zero Pad not yet folded into the Conv or AveragePool reading it */
} value_t;

typedef struct layer {
  cJSON *json;
  char name[64];
  int ndim, shape[3]; /* output without batch: [F] or [C, H, W] */
  int fusable_bias;   /* a conv or dense without bias whose output an Add may fold a bias into */
} layer_t;

typedef struct conv {
  const char *source;
  const Onnx__GraphProto *graph;
  const clfer_onnx_import_options_t *opt;
  int opset;
  value_t *values;
  int n_values, cap_values;
  layer_t *layers;
  int n_layers, cap_layers;
  cJSON *list;
  clfer__onnx_graph_t *out;
  const Onnx__NodeProto *node; /* being converted */
  int node_index;
  int accept_pad, pad_h, pad_w; /* the node can fold a preceding zero Pad (Conv, AveragePool) */
} conv_t;

static const char *str(const char *s) { return s ? s : ""; }

static clfer_status node_error(conv_t *c, clfer_status st, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const Onnx__NodeProto *n = c->node;
  return clfer_set_error(st, "%s: node %d '%.64s' (%.32s): %s", c->source, c->node_index, str(n->name),
                         str(n->op_type), msg);
}

/* ---- values and layers ---- */

static value_t *find_value(conv_t *c, const char *name) {
  for (int i = c->n_values - 1; i >= 0; i--) /* latest binding wins */
    if (strcmp(c->values[i].name, name) == 0) return &c->values[i];
  return NULL;
}

static clfer_status bind(conv_t *c, const char *name, int layer, const Onnx__TensorProto *tensor) {
  if (c->n_values == c->cap_values) {
    int cap = c->cap_values ? 2 * c->cap_values : 64;
    value_t *grown = realloc(c->values, (size_t)cap * sizeof *grown);
    if (!grown) return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of host memory", c->source);
    c->values = grown;
    c->cap_values = cap;
  }
  c->values[c->n_values++] = (value_t){name, layer, tensor, 0, 0};
  return CLFER_OK;
}

/* Uses of a tensor name as a node input or graph output. */
static int uses(const conv_t *c, const char *name) {
  int n = 0;
  for (size_t i = 0; i < c->graph->n_node; i++)
    for (size_t j = 0; j < c->graph->node[i]->n_input; j++) n += strcmp(str(c->graph->node[i]->input[j]), name) == 0;
  for (size_t i = 0; i < c->graph->n_output; i++) n += c->graph->output[i] && strcmp(str(c->graph->output[i]->name), name) == 0;
  return n;
}

static int layer_named(const conv_t *c, const char *name) {
  for (int i = 0; i < c->n_layers; i++)
    if (strcmp(c->layers[i].name, name) == 0) return i;
  return -1;
}

/* Layer names: the weight's PyTorch prefix ("features.0.weight" -> "features.0"), else the node's
 * name, else op_index; made unique and short enough for parameter names. */
static void pick_name(conv_t *c, const char *weight_name, char *name) {
  char base[64] = "";
  const char *w = str(weight_name);
  size_t wl = strlen(w);
  if (wl > 7 && wl - 7 < 56 && strcmp(w + wl - 7, ".weight") == 0)
    snprintf(base, sizeof base, "%.*s", (int)(wl - 7), w);
  else if (str(c->node->name)[0])
    snprintf(base, sizeof base, "%.55s", c->node->name[0] == '/' ? c->node->name + 1 : c->node->name);
  else
    snprintf(base, sizeof base, "%.32s_%d", str(c->node->op_type), c->node_index);
  for (char *p = base; *p; p++) /* "/layer1/Conv" (PyTorch 2) reads as "layer1.Conv" */
    if ((unsigned char)*p < 32 || *p == '"' || *p == '\\')
      *p = '_';
    else if (*p == '/')
      *p = '.';
  if (!base[0]) snprintf(base, sizeof base, "node_%d", c->node_index);
  snprintf(name, 64, "%s", base);
  for (int k = 2; layer_named(c, name) >= 0 && k < 100000; k++) snprintf(name, 64, "%.55s_%d", base, k);
}

/* Appends a layer reading `inputs` (layer indices); the shape is filled by the caller. */
static clfer_status add_layer(conv_t *c, const char *type, const char *weight_name, int n_in, const int *inputs,
                              int *out) {
  if (c->n_layers == c->cap_layers) {
    int cap = c->cap_layers ? 2 * c->cap_layers : 64;
    layer_t *grown = realloc(c->layers, (size_t)cap * sizeof *grown);
    if (!grown) return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of host memory", c->source);
    c->layers = grown;
    c->cap_layers = cap;
  }
  layer_t *l = &c->layers[c->n_layers];
  memset(l, 0, sizeof *l);
  pick_name(c, weight_name, l->name);
  l->json = cJSON_CreateObject();
  if (!l->json) return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of host memory", c->source);
  cJSON_AddItemToArray(c->list, l->json);
  cJSON_AddStringToObject(l->json, "name", l->name);
  cJSON_AddStringToObject(l->json, "type", type);
  cJSON *ins = cJSON_AddArrayToObject(l->json, "inputs");
  for (int i = 0; i < n_in; i++) cJSON_AddItemToArray(ins, cJSON_CreateString(c->layers[inputs[i]].name));
  *out = c->n_layers++;
  return CLFER_OK;
}

static void set_shape(conv_t *c, int layer, int ndim, const int *shape) {
  layer_t *l = &c->layers[layer];
  l->ndim = ndim;
  memcpy(l->shape, shape, (size_t)ndim * sizeof *shape);
  cJSON *s = cJSON_AddArrayToObject(l->json, "shape");
  for (int i = 0; i < ndim; i++) cJSON_AddItemToArray(s, cJSON_CreateNumber(shape[i]));
}

static int features(const layer_t *l) {
  long f = 1;
  for (int i = 0; i < l->ndim; i++) f *= l->shape[i];
  return f > INT_MAX ? INT_MAX : (int)f;
}

/* ---- attributes ---- */

static const Onnx__AttributeProto *attr(const Onnx__NodeProto *n, const char *name) {
  for (size_t i = 0; i < n->n_attribute; i++)
    if (n->attribute[i] && strcmp(str(n->attribute[i]->name), name) == 0) return n->attribute[i];
  return NULL;
}

/* Every attribute of the node must be in `allowed` (NULL-terminated). */
static clfer_status check_attrs(conv_t *c, const char *const *allowed) {
  for (size_t i = 0; i < c->node->n_attribute; i++) {
    const char *name = c->node->attribute[i] ? str(c->node->attribute[i]->name) : "";
    int ok = 0;
    for (const char *const *a = allowed; *a && !ok; a++) ok = strcmp(*a, name) == 0;
    if (!ok) return node_error(c, CLFER_UNSUPPORTED, "unsupported attribute '%.64s'", name);
  }
  return CLFER_OK;
}

static clfer_status attr_int(conv_t *c, const char *name, int64_t fallback, int64_t *v) {
  const Onnx__AttributeProto *a = attr(c->node, name);
  *v = fallback;
  if (!a) return CLFER_OK;
  if (!a->has_i || (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT))
    return node_error(c, CLFER_CORRUPT, "attribute '%s' is not an integer", name);
  *v = a->i;
  return CLFER_OK;
}

static clfer_status attr_float(conv_t *c, const char *name, float fallback, float *v) {
  const Onnx__AttributeProto *a = attr(c->node, name);
  *v = fallback;
  if (!a) return CLFER_OK;
  if (!a->has_f || (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT) || !isfinite(a->f))
    return node_error(c, CLFER_CORRUPT, "attribute '%s' is not a finite float", name);
  *v = a->f;
  return CLFER_OK;
}

/* An INTS attribute of exactly `n` values in [lo, hi]; absent leaves `v` as it is. */
static clfer_status attr_ints(conv_t *c, const char *name, size_t n, int64_t lo, int64_t hi, int *v) {
  const Onnx__AttributeProto *a = attr(c->node, name);
  if (!a) return CLFER_OK;
  if (a->n_ints != n) return node_error(c, CLFER_UNSUPPORTED, "attribute '%s' has %zu values, clfer needs %zu (2-D only)",
                                        name, a->n_ints, n);
  for (size_t i = 0; i < n; i++) {
    if (a->ints[i] < lo || a->ints[i] > hi)
      return node_error(c, CLFER_UNSUPPORTED, "attribute '%s' value %lld outside [%lld, %lld]", name,
                        (long long)a->ints[i], (long long)lo, (long long)hi);
    v[i] = (int)a->ints[i];
  }
  return CLFER_OK;
}

static clfer_status attr_string(conv_t *c, const char *name, const char *fallback, char *v, size_t size) {
  const Onnx__AttributeProto *a = attr(c->node, name);
  snprintf(v, size, "%s", fallback);
  if (!a) return CLFER_OK;
  if (!a->has_s) return node_error(c, CLFER_CORRUPT, "attribute '%s' is not a string", name);
  if (a->s.len && a->s.data)
    snprintf(v, size, "%.*s", (int)(a->s.len < size ? a->s.len : size - 1), (const char *)a->s.data);
  else
    v[0] = '\0';
  return CLFER_OK;
}

/* ---- inputs ---- */

static const char *input_name(const conv_t *c, size_t i) {
  return i < c->node->n_input ? str(c->node->input[i]) : "";
}

/* Input i must be a layer output (an activation). */
static clfer_status input_layer(conv_t *c, size_t i, int *layer) {
  const char *name = input_name(c, i);
  if (!name[0]) return node_error(c, CLFER_CORRUPT, "input %zu is missing", i);
  const value_t *v = find_value(c, name);
  if (!v) return node_error(c, CLFER_CORRUPT, "input '%.64s' is not produced by an earlier node", name);
  if (v->layer < 0)
    return node_error(c, CLFER_UNSUPPORTED, "input '%.64s' is a constant; clfer needs an activation there", name);
  if ((v->pad_h || v->pad_w) && !(c->accept_pad && i == 0))
    return node_error(c, CLFER_UNSUPPORTED, "reads the output of a Pad; clfer folds zero padding only into Conv and AveragePool");
  if (i == 0) c->pad_h = v->pad_h, c->pad_w = v->pad_w;
  *layer = v->layer;
  return CLFER_OK;
}

/* Input i must be a constant (initializer or Constant); optional inputs may be absent (NULL). */
static clfer_status input_const(conv_t *c, size_t i, int optional, const Onnx__TensorProto **t) {
  *t = NULL;
  const char *name = input_name(c, i);
  if (!name[0]) return optional ? CLFER_OK : node_error(c, CLFER_CORRUPT, "input %zu is missing", i);
  const value_t *v = find_value(c, name);
  if (!v) return node_error(c, CLFER_CORRUPT, "input '%.64s' is not an initializer or an earlier node's output", name);
  if (v->layer >= 0)
    return node_error(c, CLFER_UNSUPPORTED, "input '%.64s' is computed; clfer needs a constant (initializer) there",
                      name);
  *t = v->tensor;
  return CLFER_OK;
}

static clfer_status tensor_numel(conv_t *c, const Onnx__TensorProto *t, size_t *numel) {
  size_t n = 1;
  for (size_t i = 0; i < t->n_dims; i++) {
    if (t->dims[i] < 0 || t->dims[i] > MAX_ELEMENTS)
      return node_error(c, CLFER_CORRUPT, "tensor '%.64s' has dimension %lld", str(t->name), (long long)t->dims[i]);
    n *= (size_t)t->dims[i];
    if (n > MAX_ELEMENTS) return node_error(c, CLFER_UNSUPPORTED, "tensor '%.64s' is too large", str(t->name));
  }
  *numel = n;
  return CLFER_OK;
}

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0) {
    float f = ldexpf((float)mant, -24);
    return sign ? -f : f;
  }
  if (exp == 31)
    bits = sign | 0x7f800000u | (mant << 13);
  else
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

/* A constant as malloc'ed floats (FP32 as is, FP16 converted); `expect` elements when > 0. */
static clfer_status const_floats(conv_t *c, const Onnx__TensorProto *t, size_t expect, float **out, size_t *count) {
  *out = NULL;
  size_t n = 0;
  clfer_status st = tensor_numel(c, t, &n);
  if (st) return st;
  if (expect && n != expect)
    return node_error(c, CLFER_SHAPE_MISMATCH, "tensor '%.64s' has %zu elements, expected %zu", str(t->name), n, expect);
  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    return node_error(c, CLFER_UNSUPPORTED, "tensor '%.64s' keeps its data in an external file", str(t->name));
  int type = t->has_data_type ? t->data_type : 0;
  if (type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT && type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16)
    return node_error(c, CLFER_UNSUPPORTED, "tensor '%.64s' has data type %d; clfer reads FLOAT (1) and FLOAT16 (10)",
                      str(t->name), type);
  float *f = malloc((n ? n : 1) * sizeof *f);
  if (!f) return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of host memory for tensor %.64s", c->source, str(t->name));
  if (n == 0) {
    /* an empty tensor: nothing to copy */
  } else if (type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) {
    if (t->has_raw_data && t->raw_data.len == n * 4)
      memcpy(f, t->raw_data.data, n * 4); /* little-endian, as ONNX stores it */
    else if (!t->has_raw_data && t->n_float_data == n)
      memcpy(f, t->float_data, n * 4);
    else
      goto size_error;
  } else {
    if (t->has_raw_data && t->raw_data.len == n * 2) {
      for (size_t i = 0; i < n; i++)
        f[i] = half_to_float((uint16_t)(t->raw_data.data[2 * i] | t->raw_data.data[2 * i + 1] << 8));
    } else if (!t->has_raw_data && t->n_int32_data == n) {
      for (size_t i = 0; i < n; i++) f[i] = half_to_float((uint16_t)t->int32_data[i]);
    } else {
      goto size_error;
    }
  }
  *out = f;
  *count = n;
  return CLFER_OK;
size_error:
  free(f);
  return node_error(c, CLFER_CORRUPT, "tensor '%.64s' holds %zu bytes of data for %zu elements (truncated?)",
                    str(t->name), t->has_raw_data ? t->raw_data.len : (t->n_float_data + t->n_int32_data) * 4, n);
}

/* An INT64 constant (Reshape's shape). */
static clfer_status const_ints(conv_t *c, const Onnx__TensorProto *t, int64_t *v, size_t max, size_t *count) {
  size_t n = 0;
  clfer_status st = tensor_numel(c, t, &n);
  if (st) return st;
  if ((t->has_data_type ? t->data_type : 0) != ONNX__TENSOR_PROTO__DATA_TYPE__INT64)
    return node_error(c, CLFER_UNSUPPORTED, "tensor '%.64s' should be INT64", str(t->name));
  if (n > max) return node_error(c, CLFER_UNSUPPORTED, "tensor '%.64s' has %zu values", str(t->name), n);
  if (n == 0)
    ; /* nothing to copy (and the data pointers may be NULL) */
  else if (t->has_raw_data && t->raw_data.len == n * 8)
    memcpy(v, t->raw_data.data, n * 8);
  else if (!t->has_raw_data && t->n_int64_data == n)
    memcpy(v, t->int64_data, n * 8);
  else
    return node_error(c, CLFER_CORRUPT, "tensor '%.64s' holds the wrong amount of data", str(t->name));
  *count = n;
  return CLFER_OK;
}

/* Records a weight under the layer's parameter name; takes `data`. */
static clfer_status add_weight(conv_t *c, int layer, const char *suffix, int ndim, const int *shape, float *data) {
  clfer__onnx_graph_t *g = c->out;
  if (g->n_weights == g->cap_weights) {
    int cap = g->cap_weights ? 2 * g->cap_weights : 64;
    clfer__onnx_weight_t *grown = realloc(g->weights, (size_t)cap * sizeof *grown);
    if (!grown) {
      free(data);
      return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of host memory", c->source);
    }
    g->weights = grown;
    g->cap_weights = cap;
  }
  clfer__onnx_weight_t *w = &g->weights[g->n_weights++];
  memset(w, 0, sizeof *w);
  snprintf(w->name, sizeof w->name, "%s.%s", c->layers[layer].name, suffix);
  w->ndim = ndim;
  memcpy(w->shape, shape, (size_t)ndim * sizeof *shape);
  w->data = data;
  return CLFER_OK;
}

/* Outputs after the first (pool indices, dropout mask, batch-norm training statistics) must be
 * unused; the first is bound to `layer`. */
static clfer_status bind_outputs(conv_t *c, int layer) {
  if (c->node->n_output < 1 || !str(c->node->output[0])[0]) return node_error(c, CLFER_CORRUPT, "has no output");
  for (size_t i = 1; i < c->node->n_output; i++) {
    const char *o = str(c->node->output[i]);
    if (o[0] && uses(c, o)) return node_error(c, CLFER_UNSUPPORTED, "output %zu ('%.64s') is used; clfer only computes the first",
                                              i, o);
  }
  return bind(c, c->node->output[0], layer, NULL);
}

/* pads [top, left, bottom, right] must be symmetric for clfer's kernels. */
static clfer_status pads_2d(conv_t *c, int *pad_h, int *pad_w) {
  int pads[4] = {0, 0, 0, 0};
  clfer_status st = attr_ints(c, "pads", 4, 0, 1 << 16, pads);
  if (st) return st;
  if (pads[0] != pads[2] || pads[1] != pads[3])
    return node_error(c, CLFER_UNSUPPORTED, "asymmetric pads [%d, %d, %d, %d]", pads[0], pads[1], pads[2], pads[3]);
  *pad_h = pads[0], *pad_w = pads[1];
  return CLFER_OK;
}

/* auto_pad NOTSET/VALID, or SAME_* when it works out symmetric. */
static clfer_status auto_pad(conv_t *c, const int *in, const int *k, const int *s, int *ph, int *pw) {
  char mode[32];
  clfer_status st = attr_string(c, "auto_pad", "NOTSET", mode, sizeof mode);
  if (st) return st;
  if (strcmp(mode, "NOTSET") == 0) return CLFER_OK;
  if (strcmp(mode, "VALID") == 0) {
    *ph = *pw = 0;
    return CLFER_OK;
  }
  if (strcmp(mode, "SAME_UPPER") == 0 || strcmp(mode, "SAME_LOWER") == 0) {
    int *p[2] = {ph, pw};
    for (int d = 0; d < 2; d++) {
      long out = (in[d] + s[d] - 1) / s[d], total = (out - 1) * s[d] + k[d] - in[d];
      if (total < 0) total = 0;
      if (total % 2) return node_error(c, CLFER_UNSUPPORTED, "auto_pad %s needs asymmetric padding here", mode);
      *p[d] = (int)(total / 2);
    }
    return CLFER_OK;
  }
  return node_error(c, CLFER_UNSUPPORTED, "auto_pad '%s'", mode);
}

static clfer_status check_dilations(conv_t *c) {
  int d[2] = {1, 1};
  clfer_status st = attr_ints(c, "dilations", 2, 1, 1 << 16, d);
  if (st) return st;
  if (d[0] != 1 || d[1] != 1) return node_error(c, CLFER_UNSUPPORTED, "dilations [%d, %d]; clfer supports 1", d[0], d[1]);
  return CLFER_OK;
}

static clfer_status need_image(conv_t *c, int layer) {
  if (c->layers[layer].ndim != 3) return node_error(c, CLFER_UNSUPPORTED, "needs a [N, C, H, W] input, got [N, F]");
  return CLFER_OK;
}

static int window_out(int in, int k, int s, int p, int ceil_mode) {
  if (in <= 0 || k <= 0 || s <= 0 || p < 0) return 0;
  long span = (long)in + 2L * p - k;
  if (span < 0) return 0;
  long out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= (long)in + p) out--; /* as clfer_pool2d_out_size */
  return out > MAX_EXTENT ? 0 : (int)out;
}

/* ---- ops ---- */

static clfer_status op_conv(conv_t *c) {
  static const char *const allowed[] = {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides", NULL};
  int x, st_i;
  const Onnx__TensorProto *w, *b;
  clfer_status st;
  c->accept_pad = 1;
  if ((st = check_attrs(c, allowed)) || (st = input_layer(c, 0, &x)) || (st = need_image(c, x)) ||
      (st = input_const(c, 1, 0, &w)) || (st = input_const(c, 2, 1, &b)) || (st = check_dilations(c)))
    return st;
  if (w->n_dims != 4) return node_error(c, CLFER_UNSUPPORTED, "weight '%.64s' is %zu-D; clfer supports 2-D convolution",
                                        str(w->name), w->n_dims);
  for (int i = 0; i < 4; i++)
    if (w->dims[i] <= 0 || w->dims[i] > MAX_EXTENT)
      return node_error(c, CLFER_CORRUPT, "weight '%.64s' has dimension %lld", str(w->name), (long long)w->dims[i]);
  int o = (int)w->dims[0], cg = (int)w->dims[1], k[2] = {(int)w->dims[2], (int)w->dims[3]}, s[2] = {1, 1}, ks[2];
  int64_t group;
  if ((st = attr_int(c, "group", 1, &group))) return st;
  const layer_t *in = &c->layers[x];
  if (group < 1 || group > in->shape[0] || (long)cg * group != in->shape[0] || o % group)
    return node_error(c, CLFER_SHAPE_MISMATCH, "weight [%d, %d, %d, %d] with group %lld does not fit %d input channels", o,
                      cg, k[0], k[1], (long long)group, in->shape[0]);
  memcpy(ks, k, sizeof ks);
  if ((st = attr_ints(c, "kernel_shape", 2, 1, MAX_EXTENT, ks)) || (st = attr_ints(c, "strides", 2, 1, 1 << 16, s)))
    return st;
  if (ks[0] != k[0] || ks[1] != k[1])
    return node_error(c, CLFER_SHAPE_MISMATCH, "kernel_shape [%d, %d] differs from the weight's [%d, %d]", ks[0], ks[1],
                      k[0], k[1]);
  int ph, pw;
  if ((st = pads_2d(c, &ph, &pw)) || (st = auto_pad(c, in->shape + 1, k, s, &ph, &pw))) return st;
  ph += c->pad_h, pw += c->pad_w;
  int shape[3] = {o, window_out(in->shape[1], k[0], s[0], ph, 0), window_out(in->shape[2], k[1], s[1], pw, 0)};
  if (shape[1] <= 0 || shape[2] <= 0)
    return node_error(c, CLFER_SHAPE_MISMATCH, "a %dx%d kernel does not fit the %dx%d input", k[0], k[1], in->shape[1],
                      in->shape[2]);
  float *wd = NULL, *bd = NULL;
  size_t n;
  if ((st = const_floats(c, w, 0, &wd, &n))) return st;
  if (b && (st = const_floats(c, b, (size_t)o, &bd, &n))) {
    free(wd);
    return st;
  }
  if ((st = add_layer(c, "conv2d", w->name, 1, &x, &st_i))) {
    free(wd), free(bd);
    return st;
  }
  cJSON *j = c->layers[st_i].json;
  cJSON_AddNumberToObject(j, "out_channels", o);
  cJSON_AddItemToObject(j, "kernel", cJSON_CreateIntArray(k, 2));
  cJSON_AddItemToObject(j, "stride", cJSON_CreateIntArray(s, 2));
  int pad[2] = {ph, pw};
  cJSON_AddItemToObject(j, "pad", cJSON_CreateIntArray(pad, 2));
  cJSON_AddNumberToObject(j, "groups", (double)group);
  cJSON_AddBoolToObject(j, "bias", b != NULL);
  c->layers[st_i].fusable_bias = b == NULL;
  set_shape(c, st_i, 3, shape);
  int wshape[4] = {o, cg, k[0], k[1]};
  if ((st = add_weight(c, st_i, "weight", 4, wshape, wd))) {
    free(bd);
    return st;
  }
  if (bd && (st = add_weight(c, st_i, "bias", 1, &o, bd))) return st;
  return bind_outputs(c, st_i);
}

/* Gemm (alpha·A·op(B) + beta·C) and MatMul (A·B) with a constant B: a dense layer, weight [out, in]. */
static clfer_status op_dense(conv_t *c, int is_gemm) {
  static const char *const gemm_attrs[] = {"alpha", "beta", "transA", "transB", "broadcast", NULL}, *const none[] = {NULL};
  int x, id;
  const Onnx__TensorProto *b, *bias = NULL;
  clfer_status st;
  int64_t trans_a = 0, trans_b = 0;
  float alpha = 1, beta = 1;
  if ((st = check_attrs(c, is_gemm ? gemm_attrs : none)) || (st = input_layer(c, 0, &x)) ||
      (st = input_const(c, 1, 0, &b)))
    return st;
  if (is_gemm && ((st = input_const(c, 2, 1, &bias)) || (st = attr_int(c, "transA", 0, &trans_a)) ||
                  (st = attr_int(c, "transB", 0, &trans_b)) || (st = attr_float(c, "alpha", 1, &alpha)) ||
                  (st = attr_float(c, "beta", 1, &beta))))
    return st;
  if (trans_a) return node_error(c, CLFER_UNSUPPORTED, "transA = %lld", (long long)trans_a);
  if (c->layers[x].ndim != 1)
    return node_error(c, CLFER_UNSUPPORTED, "input is [N, C, H, W]; clfer needs a Flatten before %s",
                      is_gemm ? "Gemm" : "MatMul");
  if (b->n_dims != 2 || b->dims[0] <= 0 || b->dims[1] <= 0 || b->dims[0] > MAX_ELEMENTS || b->dims[1] > MAX_ELEMENTS)
    return node_error(c, CLFER_UNSUPPORTED, "weight '%.64s' is not a 2-D matrix", str(b->name));
  int fin = features(&c->layers[x]);
  int rows = (int)b->dims[0], cols = (int)b->dims[1], out = trans_b ? rows : cols, k = trans_b ? cols : rows;
  if (k != fin)
    return node_error(c, CLFER_SHAPE_MISMATCH, "weight '%.64s' [%d, %d]%s expects %d input features, the input has %d",
                      str(b->name), rows, cols, trans_b ? " (transposed)" : "", k, fin);
  float *bd, *wd = NULL, *cd = NULL;
  size_t n;
  if ((st = const_floats(c, b, 0, &bd, &n))) return st;
  if (!(wd = malloc(n * sizeof *wd))) {
    free(bd);
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of host memory", c->source);
  }
  for (int r = 0; r < out; r++) /* clfer's layout [out, in] */
    for (int i = 0; i < k; i++) wd[(size_t)r * k + i] = alpha * (trans_b ? bd[(size_t)r * k + i] : bd[(size_t)i * out + r]);
  free(bd);
  if (bias) {
    size_t m;
    if ((st = tensor_numel(c, bias, &m))) goto fail;
    if (m != 1 && m != (size_t)out) {
      st = node_error(c, CLFER_UNSUPPORTED, "bias '%.64s' has %zu elements; clfer needs %d or 1", str(bias->name), m, out);
      goto fail;
    }
    float *raw;
    if ((st = const_floats(c, bias, m, &raw, &m))) goto fail;
    if (!(cd = malloc((size_t)out * sizeof *cd))) {
      free(raw);
      st = clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of host memory", c->source);
      goto fail;
    }
    for (int r = 0; r < out; r++) cd[r] = beta * raw[m == 1 ? 0 : r];
    free(raw);
  }
  const char *wname = b->name;
  if ((st = add_layer(c, "dense", wname, 1, &x, &id))) goto fail;
  cJSON_AddNumberToObject(c->layers[id].json, "out_features", out);
  cJSON_AddBoolToObject(c->layers[id].json, "bias", cd != NULL);
  c->layers[id].fusable_bias = cd == NULL;
  set_shape(c, id, 1, &out);
  int wshape[2] = {out, k};
  st = add_weight(c, id, "weight", 2, wshape, wd);
  wd = NULL;
  if (!st && cd) {
    st = add_weight(c, id, "bias", 1, &out, cd);
    cd = NULL;
  }
  if (!st) st = bind_outputs(c, id);
fail:
  free(wd);
  free(cd);
  return st;
}

/* Add of two activations, or of an activation and a constant that is the bias of the preceding
 * MatMul/Gemm/Conv (ONNX exporters split Linear into MatMul + Add). */
static clfer_status op_add(conv_t *c) {
  static const char *const none[] = {NULL};
  clfer_status st = check_attrs(c, none);
  if (st) return st;
  if (c->node->n_input != 2) return node_error(c, CLFER_CORRUPT, "has %zu inputs, needs 2", c->node->n_input);
  const value_t *a = find_value(c, input_name(c, 0)), *b = find_value(c, input_name(c, 1));
  if (!a || !b) return node_error(c, CLFER_CORRUPT, "an input is not produced by an earlier node");
  if (a->pad_h || a->pad_w || b->pad_h || b->pad_w)
    return node_error(c, CLFER_UNSUPPORTED, "reads the output of a Pad; clfer folds zero padding only into Conv and AveragePool");
  if (a->layer >= 0 && b->layer >= 0) {
    const layer_t *la = &c->layers[a->layer], *lb = &c->layers[b->layer];
    if (la->ndim != lb->ndim || memcmp(la->shape, lb->shape, (size_t)la->ndim * sizeof(int)) != 0)
      return node_error(c, CLFER_UNSUPPORTED, "inputs of different shapes (broadcasting is not supported)");
    int ins[2] = {a->layer, b->layer}, id = -1;
    if ((st = add_layer(c, "add", NULL, 2, ins, &id))) return st;
    set_shape(c, id, la->ndim, la->shape);
    return bind_outputs(c, id);
  }
  if (a->layer < 0 && b->layer < 0) return node_error(c, CLFER_UNSUPPORTED, "adds two constants");
  const value_t *act = a->layer >= 0 ? a : b, *k = a->layer >= 0 ? b : a;
  layer_t *l = &c->layers[act->layer];
  int units = l->shape[0];
  if (!l->fusable_bias || uses(c, act->name) != 1)
    return node_error(c, CLFER_UNSUPPORTED,
                      "adds a constant to '%.64s'; clfer supports that only as the bias of a MatMul, Gemm or Conv "
                      "read by nothing else",
                      act->name);
  size_t n;
  if ((st = tensor_numel(c, k->tensor, &n))) return st;
  if (n != (size_t)units && n != 1)
    return node_error(c, CLFER_UNSUPPORTED, "constant '%.64s' has %zu elements, not one per channel (%d)",
                      str(k->tensor->name), n, units);
  float *raw, *bias = malloc((size_t)units * sizeof *bias);
  if (!bias) return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of host memory", c->source);
  if ((st = const_floats(c, k->tensor, n, &raw, &n))) {
    free(bias);
    return st;
  }
  for (int i = 0; i < units; i++) bias[i] = raw[n == 1 ? 0 : i];
  free(raw);
  cJSON_ReplaceItemInObjectCaseSensitive(l->json, "bias", cJSON_CreateTrue());
  l->fusable_bias = 0;
  if ((st = add_weight(c, act->layer, "bias", 1, &units, bias))) return st;
  return bind_outputs(c, act->layer);
}

static clfer_status op_pool(conv_t *c, int is_max) {
  static const char *const max_attrs[] = {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order",
                                          "strides", NULL},
                           *const avg_attrs[] = {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads",
                                                 "strides", NULL};
  int x, id, k[2] = {0, 0}, s[2] = {1, 1}, ph, pw;
  int64_t ceil_mode, cip, order;
  clfer_status st;
  c->accept_pad = !is_max;
  if ((st = check_attrs(c, is_max ? max_attrs : avg_attrs)) || (st = input_layer(c, 0, &x)) || (st = need_image(c, x)) ||
      (st = check_dilations(c)) || (st = attr_ints(c, "strides", 2, 1, 1 << 16, s)) ||
      (st = attr_int(c, "ceil_mode", 0, &ceil_mode)) || (st = attr_int(c, "count_include_pad", 0, &cip)) ||
      (st = attr_int(c, "storage_order", 0, &order)) || (st = pads_2d(c, &ph, &pw)))
    return st;
  if (!attr(c->node, "kernel_shape")) return node_error(c, CLFER_CORRUPT, "has no kernel_shape");
  if ((st = attr_ints(c, "kernel_shape", 2, 1, MAX_EXTENT, k))) return st;
  if (order) return node_error(c, CLFER_UNSUPPORTED, "storage_order = 1");
  const layer_t *in = &c->layers[x];
  if ((st = auto_pad(c, in->shape + 1, k, s, &ph, &pw))) return st;
  if (c->pad_h || c->pad_w) { /* Pad + AveragePool is how PyTorch exports count_include_pad */
    if ((ph || pw) && !cip) return node_error(c, CLFER_UNSUPPORTED, "a Pad before an AveragePool that excludes padding");
    ph += c->pad_h, pw += c->pad_w, cip = 1;
  }
  if (ph >= k[0] || pw >= k[1]) return node_error(c, CLFER_UNSUPPORTED, "padding as large as the window");
  int shape[3] = {in->shape[0], window_out(in->shape[1], k[0], s[0], ph, ceil_mode != 0),
                  window_out(in->shape[2], k[1], s[1], pw, ceil_mode != 0)};
  if (shape[1] <= 0 || shape[2] <= 0)
    return node_error(c, CLFER_SHAPE_MISMATCH, "a %dx%d window does not fit the %dx%d input", k[0], k[1], in->shape[1],
                      in->shape[2]);
  if ((st = add_layer(c, is_max ? "maxpool" : "avgpool", NULL, 1, &x, &id))) return st;
  cJSON *j = c->layers[id].json;
  int pad[2] = {ph, pw};
  cJSON_AddItemToObject(j, "kernel", cJSON_CreateIntArray(k, 2));
  cJSON_AddItemToObject(j, "stride", cJSON_CreateIntArray(s, 2));
  cJSON_AddItemToObject(j, "pad", cJSON_CreateIntArray(pad, 2));
  cJSON_AddBoolToObject(j, "ceil_mode", ceil_mode != 0);
  cJSON_AddBoolToObject(j, "count_include_pad", cip != 0);
  set_shape(c, id, 3, shape);
  return bind_outputs(c, id);
}

/* One-input layers whose output has the input's shape (or a fixed one). */
static clfer_status simple_layer(conv_t *c, const char *type, int x, int *id) {
  clfer_status st = add_layer(c, type, NULL, 1, &x, id);
  if (!st) set_shape(c, *id, c->layers[x].ndim, c->layers[x].shape);
  return st;
}

static clfer_status op_relu(conv_t *c, int leaky) {
  static const char *const none[] = {NULL}, *const leaky_attrs[] = {"alpha", NULL};
  int x, id;
  float alpha = 0;
  clfer_status st;
  if ((st = check_attrs(c, leaky ? leaky_attrs : none)) || (st = input_layer(c, 0, &x)) ||
      (leaky && (st = attr_float(c, "alpha", 0.01f, &alpha))) || (st = simple_layer(c, "relu", x, &id)))
    return st;
  cJSON_AddNumberToObject(c->layers[id].json, "slope", alpha);
  return bind_outputs(c, id);
}

static clfer_status op_gap(conv_t *c) {
  static const char *const none[] = {NULL};
  int x, id;
  clfer_status st;
  if ((st = check_attrs(c, none)) || (st = input_layer(c, 0, &x)) || (st = need_image(c, x)) ||
      (st = add_layer(c, "global_avgpool", NULL, 1, &x, &id)))
    return st;
  int shape[3] = {c->layers[x].shape[0], 1, 1};
  set_shape(c, id, 3, shape);
  return bind_outputs(c, id);
}

static clfer_status op_lrn(conv_t *c) {
  static const char *const allowed[] = {"alpha", "beta", "bias", "size", NULL};
  int x, id;
  int64_t size;
  float alpha, beta, bias;
  clfer_status st;
  if ((st = check_attrs(c, allowed)) || (st = input_layer(c, 0, &x)) || (st = need_image(c, x)) ||
      (st = attr_int(c, "size", 0, &size)) || (st = attr_float(c, "alpha", 1e-4f, &alpha)) ||
      (st = attr_float(c, "beta", 0.75f, &beta)) || (st = attr_float(c, "bias", 1.0f, &bias)))
    return st;
  if (size < 1 || size > 1024) return node_error(c, CLFER_UNSUPPORTED, "size = %lld", (long long)size);
  if ((st = simple_layer(c, "lrn", x, &id))) return st;
  cJSON *j = c->layers[id].json;
  cJSON_AddNumberToObject(j, "size", (double)size);
  cJSON_AddNumberToObject(j, "alpha", alpha);
  cJSON_AddNumberToObject(j, "beta", beta);
  cJSON_AddNumberToObject(j, "k", bias);
  return bind_outputs(c, id);
}

static clfer_status op_dropout(conv_t *c) {
  static const char *const allowed[] = {"ratio", "is_test", "seed", NULL};
  int x, id;
  float p;
  clfer_status st;
  const Onnx__TensorProto *ratio = NULL;
  if ((st = check_attrs(c, allowed)) || (st = input_layer(c, 0, &x)) || (st = attr_float(c, "ratio", 0.5f, &p)) ||
      (st = input_const(c, 1, 1, &ratio)))
    return st;
  if (ratio) {
    float *v;
    size_t n;
    if ((st = const_floats(c, ratio, 1, &v, &n))) return st;
    p = v[0];
    free(v);
  }
  if (!(p >= 0 && p < 1)) return node_error(c, CLFER_UNSUPPORTED, "ratio %g outside [0, 1)", p);
  if ((st = simple_layer(c, "dropout", x, &id))) return st;
  cJSON_AddNumberToObject(c->layers[id].json, "p", p);
  return bind_outputs(c, id);
}

static clfer_status op_batchnorm(conv_t *c) {
  static const char *const allowed[] = {"epsilon", "momentum", "spatial", "is_test", "consumed_inputs", "training_mode",
                                        NULL};
  static const char *const suffix[4] = {"weight", "bias", "running_mean", "running_var"};
  int x, id;
  float eps, momentum;
  int64_t spatial, training;
  const Onnx__TensorProto *t[4];
  clfer_status st;
  if ((st = check_attrs(c, allowed)) || (st = input_layer(c, 0, &x)) || (st = attr_float(c, "epsilon", 1e-5f, &eps)) ||
      (st = attr_float(c, "momentum", 0.9f, &momentum)) || (st = attr_int(c, "spatial", 1, &spatial)) ||
      (st = attr_int(c, "training_mode", 0, &training)))
    return st;
  if (!spatial) return node_error(c, CLFER_UNSUPPORTED, "spatial = 0");
  if (training) return node_error(c, CLFER_UNSUPPORTED, "training_mode = 1");
  if (!(eps > 0) || !(momentum >= 0 && momentum <= 1))
    return node_error(c, CLFER_UNSUPPORTED, "epsilon %g or momentum %g out of range", eps, momentum);
  for (int i = 0; i < 4; i++)
    if ((st = input_const(c, (size_t)i + 1, 0, &t[i]))) return st;
  int ch = c->layers[x].shape[0];
  float *data[4] = {NULL};
  size_t n;
  for (int i = 0; i < 4 && !st; i++) st = const_floats(c, t[i], (size_t)ch, &data[i], &n);
  /* the layer takes the scale's PyTorch name ("bn1.weight") */
  if (!st) st = add_layer(c, "batchnorm", t[0]->name, 1, &x, &id);
  if (st) {
    for (int i = 0; i < 4; i++) free(data[i]);
    return st;
  }
  set_shape(c, id, c->layers[x].ndim, c->layers[x].shape);
  cJSON_AddNumberToObject(c->layers[id].json, "eps", eps);
  cJSON_AddNumberToObject(c->layers[id].json, "momentum", 1.0 - momentum); /* ONNX weighs the old running value */
  for (int i = 0; i < 4; i++) {
    if (!st)
      st = add_weight(c, id, suffix[i], 1, &ch, data[i]);
    else
      free(data[i]);
  }
  return st ? st : bind_outputs(c, id);
}

/* ONNX axis (rank with batch) normalised; clfer concatenates and softmaxes along axis 1 only. */
static clfer_status axis_is_one(conv_t *c, int64_t axis, int ndim) {
  int rank = ndim + 1;
  if (axis < 0) axis += rank;
  if (axis != 1) return node_error(c, CLFER_UNSUPPORTED, "axis %lld; clfer supports the channel axis 1", (long long)axis);
  return CLFER_OK;
}

static clfer_status op_concat(conv_t *c) {
  static const char *const allowed[] = {"axis", NULL};
  int ins[8], id = -1;
  int64_t axis;
  clfer_status st;
  if ((st = check_attrs(c, allowed))) return st;
  if (!attr(c->node, "axis")) return node_error(c, CLFER_CORRUPT, "has no axis");
  if ((st = attr_int(c, "axis", 1, &axis))) return st;
  if (c->node->n_input < 1 || c->node->n_input > 8)
    return node_error(c, CLFER_UNSUPPORTED, "%zu inputs (clfer takes 1 to 8)", c->node->n_input);
  int n = (int)c->node->n_input, total = 0;
  for (int i = 0; i < n; i++)
    if ((st = input_layer(c, (size_t)i, &ins[i]))) return st;
  const layer_t *first = &c->layers[ins[0]];
  if ((st = axis_is_one(c, axis, first->ndim))) return st;
  for (int i = 0; i < n; i++) {
    const layer_t *l = &c->layers[ins[i]];
    if (l->ndim != first->ndim || (l->ndim == 3 && (l->shape[1] != first->shape[1] || l->shape[2] != first->shape[2])))
      return node_error(c, CLFER_SHAPE_MISMATCH, "inputs differ in rank or spatial size");
    total += l->shape[0];
  }
  if ((st = add_layer(c, "concat", NULL, n, ins, &id))) return st;
  int shape[3] = {total, first->shape[1], first->shape[2]};
  set_shape(c, id, first->ndim, shape);
  return bind_outputs(c, id);
}

/* Flatten to [N, F]: a flatten layer from [C, H, W], nothing from [F]. */
static clfer_status flatten_to(conv_t *c, int x) {
  if (c->layers[x].ndim == 1) return bind_outputs(c, x);
  int id, f = features(&c->layers[x]);
  clfer_status st = add_layer(c, "flatten", NULL, 1, &x, &id);
  if (st) return st;
  set_shape(c, id, 1, &f);
  return bind_outputs(c, id);
}

static clfer_status op_flatten(conv_t *c) {
  static const char *const allowed[] = {"axis", NULL};
  int x;
  int64_t axis;
  clfer_status st;
  if ((st = check_attrs(c, allowed)) || (st = input_layer(c, 0, &x)) || (st = attr_int(c, "axis", 1, &axis)) ||
      (st = axis_is_one(c, axis, c->layers[x].ndim)))
    return st;
  return flatten_to(c, x);
}

static clfer_status op_reshape(conv_t *c) {
  static const char *const allowed[] = {"allowzero", "shape", NULL};
  int x;
  int64_t t[8];
  size_t n = 0;
  clfer_status st;
  const Onnx__TensorProto *shape = NULL;
  if ((st = check_attrs(c, allowed)) || (st = input_layer(c, 0, &x))) return st;
  const Onnx__AttributeProto *a = attr(c->node, "shape"); /* opset < 5 */
  if (a) {
    if (a->n_ints > 8) return node_error(c, CLFER_UNSUPPORTED, "a %zu-D shape", a->n_ints);
    n = a->n_ints;
    if (n) memcpy(t, a->ints, n * sizeof *t);
  } else {
    if ((st = input_const(c, 1, 0, &shape)) || (st = const_ints(c, shape, t, 8, &n))) return st;
  }
  const layer_t *in = &c->layers[x];
  int f = features(in);
  /* [N, -1] or [N, F] (N as 0, -1 or a number): flatten */
  if (n == 2 && ((t[1] == -1 && t[0] != -1) || t[1] == f)) return flatten_to(c, x);
  /* the same shape again: nothing to do */
  if (n == (size_t)in->ndim + 1) {
    int same = 1;
    for (int i = 0; i < in->ndim; i++) same = same && (t[i + 1] == in->shape[i] || t[i + 1] == 0);
    if (same) return bind_outputs(c, x);
  }
  char text[160] = "";
  for (size_t i = 0; i < n; i++)
    snprintf(text + strlen(text), sizeof text - strlen(text), "%s%lld", i ? ", " : "", (long long)t[i]);
  return node_error(c, CLFER_UNSUPPORTED, "reshape to [%s]; clfer supports [N, -1] (flatten) and no-op reshapes", text);
}

/* Zero padding of H and W only, kept on the value until a Conv or AveragePool folds it in. */
static clfer_status op_pad(conv_t *c) {
  static const char *const allowed[] = {"mode", "pads", "value", NULL};
  int x;
  int64_t p[8] = {0};
  size_t n = 0;
  char mode[32];
  float value = 0;
  clfer_status st;
  if ((st = check_attrs(c, allowed)) || (st = input_layer(c, 0, &x)) || (st = attr_string(c, "mode", "constant", mode, sizeof mode)) ||
      (st = attr_float(c, "value", 0, &value)))
    return st;
  const Onnx__AttributeProto *a = attr(c->node, "pads"); /* opset < 11 */
  if (a) {
    if (a->n_ints > 8) return node_error(c, CLFER_UNSUPPORTED, "%zu pads", a->n_ints);
    n = a->n_ints;
    if (n) memcpy(p, a->ints, n * sizeof *p);
  } else {
    const Onnx__TensorProto *t;
    if ((st = input_const(c, 1, 0, &t)) || (st = const_ints(c, t, p, 8, &n))) return st;
    const Onnx__TensorProto *v = NULL;
    if ((st = input_const(c, 2, 1, &v))) return st;
    if (v) {
      float *f;
      size_t m;
      if ((st = const_floats(c, v, 1, &f, &m))) return st;
      value = f[0];
      free(f);
    }
  }
  if (n == 0) return bind_outputs(c, x);
  if (n != 8 || c->layers[x].ndim != 3) return node_error(c, CLFER_UNSUPPORTED, "pads of a non-image tensor");
  /* [N, C, H, W] begins then ends */
  if (strcmp(mode, "constant") != 0 || value != 0 || p[0] || p[1] || p[4] || p[5] || p[2] != p[6] || p[3] != p[7] ||
      p[2] < 0 || p[3] < 0 || p[2] > 1024 || p[3] > 1024)
    return node_error(c, CLFER_UNSUPPORTED, "clfer folds only symmetric zero padding of H and W");
  clfer_status bst = bind_outputs(c, x);
  if (bst) return bst;
  c->values[c->n_values - 1].pad_h = (int)p[2];
  c->values[c->n_values - 1].pad_w = (int)p[3];
  return CLFER_OK;
}

static clfer_status op_softmax(conv_t *c) {
  static const char *const allowed[] = {"axis", NULL};
  int x, id;
  int64_t axis;
  clfer_status st;
  if ((st = check_attrs(c, allowed)) || (st = input_layer(c, 0, &x)) ||
      (st = attr_int(c, "axis", c->opset >= 13 ? -1 : 1, &axis)))
    return st;
  if (c->layers[x].ndim != 1) return node_error(c, CLFER_UNSUPPORTED, "softmax over a [N, C, H, W] input");
  if ((st = axis_is_one(c, axis, 1)) || (st = simple_layer(c, "softmax", x, &id))) return st;
  return bind_outputs(c, id);
}

static clfer_status op_identity(conv_t *c) {
  static const char *const none[] = {NULL};
  clfer_status st = check_attrs(c, none);
  if (st) return st;
  const value_t *v = find_value(c, input_name(c, 0));
  if (!v) return node_error(c, CLFER_CORRUPT, "input '%.64s' is not produced by an earlier node", input_name(c, 0));
  if (c->node->n_output < 1 || !str(c->node->output[0])[0]) return node_error(c, CLFER_CORRUPT, "has no output");
  value_t copy = *v;
  clfer_status bst = bind(c, c->node->output[0], copy.layer, copy.tensor);
  if (!bst) c->values[c->n_values - 1].pad_h = copy.pad_h, c->values[c->n_values - 1].pad_w = copy.pad_w;
  return bst;
}

static clfer_status op_constant(conv_t *c) {
  static const char *const allowed[] = {"value", NULL};
  clfer_status st = check_attrs(c, allowed);
  if (st) return st;
  const Onnx__AttributeProto *a = attr(c->node, "value");
  if (!a || !a->t) return node_error(c, CLFER_UNSUPPORTED, "only a tensor 'value' is supported");
  if (c->node->n_output < 1 || !str(c->node->output[0])[0]) return node_error(c, CLFER_CORRUPT, "has no output");
  return bind(c, c->node->output[0], -1, a->t);
}

static clfer_status convert_node(conv_t *c) {
  const char *op = str(c->node->op_type), *domain = str(c->node->domain);
  if (domain[0] && strcmp(domain, "ai.onnx") != 0)
    return node_error(c, CLFER_UNSUPPORTED, "operator domain '%.64s'; clfer reads the default ONNX domain", domain);
  if (!strcmp(op, "Conv")) return op_conv(c);
  if (!strcmp(op, "Gemm")) return op_dense(c, 1);
  if (!strcmp(op, "MatMul")) return op_dense(c, 0);
  if (!strcmp(op, "Add")) return op_add(c);
  if (!strcmp(op, "Relu")) return op_relu(c, 0);
  if (!strcmp(op, "LeakyRelu")) return op_relu(c, 1);
  if (!strcmp(op, "MaxPool")) return op_pool(c, 1);
  if (!strcmp(op, "AveragePool")) return op_pool(c, 0);
  if (!strcmp(op, "GlobalAveragePool")) return op_gap(c);
  if (!strcmp(op, "LRN")) return op_lrn(c);
  if (!strcmp(op, "Dropout")) return op_dropout(c);
  if (!strcmp(op, "BatchNormalization")) return op_batchnorm(c);
  if (!strcmp(op, "Concat")) return op_concat(c);
  if (!strcmp(op, "Flatten")) return op_flatten(c);
  if (!strcmp(op, "Reshape")) return op_reshape(c);
  if (!strcmp(op, "Softmax")) return op_softmax(c);
  if (!strcmp(op, "Pad")) return op_pad(c);
  if (!strcmp(op, "Identity")) return op_identity(c);
  if (!strcmp(op, "Constant")) return op_constant(c);
  return node_error(c, CLFER_UNSUPPORTED, "unsupported operator");
}

/* ---- the graph ---- */

static int is_initializer(const Onnx__GraphProto *g, const char *name) {
  for (size_t i = 0; i < g->n_initializer; i++)
    if (g->initializer[i] && strcmp(str(g->initializer[i]->name), name) == 0) return 1;
  return 0;
}

/* The one image input [N, C, H, W] (old files list initializers among the inputs too). */
static clfer_status read_input(conv_t *c, const Onnx__ValueInfoProto **out, int dims[3]) {
  const Onnx__GraphProto *g = c->graph;
  const Onnx__ValueInfoProto *in = NULL;
  for (size_t i = 0; i < g->n_input; i++) {
    if (!g->input[i] || is_initializer(g, str(g->input[i]->name))) continue;
    if (in) return clfer_set_error(CLFER_UNSUPPORTED, "%s: the graph has several inputs ('%.64s', '%.64s'); clfer takes one image",
                                   c->source, str(in->name), str(g->input[i]->name));
    in = g->input[i];
  }
  if (!in || !str(in->name)[0]) return clfer_set_error(CLFER_CORRUPT, "%s: the graph has no input", c->source);
  const Onnx__TypeProto *t = in->type;
  if (!t || t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !t->tensor_type)
    return clfer_set_error(CLFER_UNSUPPORTED, "%s: input '%.64s' is not a tensor", c->source, str(in->name));
  const Onnx__TypeProto__Tensor *tt = t->tensor_type;
  if (tt->has_elem_type && tt->elem_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
    return clfer_set_error(CLFER_UNSUPPORTED, "%s: input '%.64s' has element type %d; clfer takes FLOAT", c->source,
                           str(in->name), tt->elem_type);
  const int given[3] = {c->opt ? c->opt->channels : 0, c->opt ? c->opt->height : 0, c->opt ? c->opt->width : 0};
  if (tt->shape && tt->shape->n_dim != 4)
    return clfer_set_error(CLFER_UNSUPPORTED, "%s: input '%.64s' is %zu-D; clfer takes [N, C, H, W]", c->source,
                           str(in->name), tt->shape->n_dim);
  static const char *const names[3] = {"channels", "height", "width"};
  for (int i = 0; i < 3; i++) {
    const Onnx__TensorShapeProto__Dimension *d = tt->shape ? tt->shape->dim[i + 1] : NULL;
    long v = d && d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ? (long)d->dim_value : 0;
    dims[i] = given[i] > 0 ? given[i] : (int)(v > 0 && v <= MAX_EXTENT ? v : 0);
    if (dims[i] <= 0 || dims[i] > MAX_EXTENT)
      return clfer_set_error(CLFER_INVALID_ARGUMENT, "%s: input '%.64s' has no fixed %s; give it (--input CxHxW)",
                             c->source, str(in->name), names[i]);
  }
  *out = in;
  return CLFER_OK;
}

static void stem(const char *path, char *out, size_t size) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strcspn(base, ".");
  snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), base);
  if (!out[0]) snprintf(out, size, "onnx");
}

void clfer__onnx_graph_free(clfer__onnx_graph_t *g) {
  if (!g) return;
  for (int i = 0; i < g->n_weights; i++) free(g->weights[i].data);
  free(g->weights);
  free(g->layers_json);
  memset(g, 0, sizeof *g);
}

clfer_status clfer__onnx_convert(const void *data, size_t size, const char *source,
                                 const clfer_onnx_import_options_t *options, clfer__onnx_graph_t *out) {
  memset(out, 0, sizeof *out);
  conv_t c = {0};
  c.source = source ? source : "onnx";
  c.opt = options;
  c.out = out;
  c.opset = 1;
  clfer_status st = CLFER_OK;
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
  if (!m) return clfer_set_error(CLFER_CORRUPT, "%s: not an ONNX model (protobuf parse failed: truncated or not ONNX)", c.source);
  if (!m->graph || m->graph->n_node == 0) {
    st = clfer_set_error(CLFER_CORRUPT, "%s: the ONNX model has no graph nodes", c.source);
    goto done;
  }
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = m->opset_import[i];
    if (o && (!str(o->domain)[0] || strcmp(o->domain, "ai.onnx") == 0) && o->has_version) c.opset = (int)o->version;
  }
  c.graph = m->graph;
  if (!(c.list = cJSON_CreateArray())) {
    st = clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of host memory", c.source);
    goto done;
  }
  const Onnx__ValueInfoProto *input = NULL;
  int dims[3];
  if ((st = read_input(&c, &input, dims))) goto done;
  /* layer 0: the input */
  int id;
  c.node = &(Onnx__NodeProto)ONNX__NODE_PROTO__INIT;
  c.node_index = -1;
  if ((st = add_layer(&c, "input", NULL, 0, NULL, &id))) goto done;
  snprintf(c.layers[0].name, sizeof c.layers[0].name, "input");
  cJSON_ReplaceItemInObjectCaseSensitive(c.layers[0].json, "name", cJSON_CreateString("input"));
  set_shape(&c, 0, 3, dims);
  if ((st = bind(&c, input->name, 0, NULL))) goto done;
  for (size_t i = 0; i < c.graph->n_initializer; i++)
    if (c.graph->initializer[i] && (st = bind(&c, str(c.graph->initializer[i]->name), -1, c.graph->initializer[i])))
      goto done;
  for (size_t i = 0; i < c.graph->n_node && !st; i++) {
    c.node = c.graph->node[i];
    c.node_index = (int)i;
    c.accept_pad = c.pad_h = c.pad_w = 0;
    if (c.node) st = convert_node(&c);
  }
  if (st) goto done;
  if (c.graph->n_output != 1 || !c.graph->output[0])
    st = clfer_set_error(CLFER_UNSUPPORTED, "%s: the graph has %zu outputs; clfer networks have one", c.source,
                         c.graph->n_output);
  const value_t *o = st ? NULL : find_value(&c, str(c.graph->output[0]->name));
  if (!st && (!o || o->layer <= 0 || o->pad_h || o->pad_w))
    st = clfer_set_error(CLFER_UNSUPPORTED, "%s: the output '%.64s' is not computed from the input by any node", c.source,
                         str(c.graph->output[0]->name));
  if (st) goto done;
  int output = o->layer;
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(c.layers[output].json, "type");
  if (!(options && options->keep_softmax) && strcmp(type->valuestring, "softmax") == 0) {
    /* logits for clfer's losses: drop a trailing softmax */
    int src = layer_named(&c, cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c.layers[output].json, "inputs"), 0)->valuestring);
    if (output == c.n_layers - 1) cJSON_DeleteItemFromArray(c.list, output), c.n_layers--;
    output = src;
  }
  cJSON_AddTrueToObject(c.layers[output].json, "output");
  out->classes = features(&c.layers[output]);
  out->channels = dims[0], out->height = dims[1], out->width = dims[2];
  stem(c.source, out->model_name, sizeof out->model_name);
  if (!(out->layers_json = cJSON_PrintUnformatted(c.list)))
    st = clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of host memory", c.source);
done:
  cJSON_Delete(c.list);
  free(c.values);
  free(c.layers);
  onnx__model_proto__free_unpacked(m, NULL);
  if (st) clfer__onnx_graph_free(out);
  return st;
}
