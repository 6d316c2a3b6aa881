/* graph_json.c — a network's full layer description as JSON (what checkpoints store in
 * "clfer.graph") and the way back: rebuilding a network from it through the public builder API.
 * This is how imported ONNX models, which have no zoo name, are rebuilt from their checkpoints. */
#include <cjson/cJSON.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfer/onnx.h"
#include "net_internal.h"

static void add_pair(cJSON *o, const char *key, int a, int b) {
  cJSON *arr = cJSON_AddArrayToObject(o, key);
  cJSON_AddItemToArray(arr, cJSON_CreateNumber(a));
  cJSON_AddItemToArray(arr, cJSON_CreateNumber(b));
}

/* Adds node `node`'s configuration (kernel, stride, units, ...) and the output/features marks to
 * `l`, an object that already holds name, type, inputs and shape. */
static void layer_config(cJSON *l, const clfer_net_t *net, int node) {
  const clfer__node_t *n = &net->nodes[node];
  const clfer__layer_vtable_t *vt = n->vt;
  if (vt == &clfer__conv2d_layer) {
    cJSON_AddNumberToObject(l, "out_channels", n->units);
    add_pair(l, "kernel", n->conv.kernel_h, n->conv.kernel_w);
    add_pair(l, "stride", n->conv.stride_h, n->conv.stride_w);
    add_pair(l, "pad", n->conv.pad_h, n->conv.pad_w);
    cJSON_AddNumberToObject(l, "groups", n->conv.groups);
    cJSON_AddBoolToObject(l, "bias", n->has_bias);
  } else if (vt == &clfer__dense_layer) {
    cJSON_AddNumberToObject(l, "out_features", n->units);
    cJSON_AddBoolToObject(l, "bias", n->has_bias);
  } else if (vt == &clfer__relu_layer) {
    cJSON_AddNumberToObject(l, "slope", n->slope);
  } else if (vt == &clfer__maxpool_layer || vt == &clfer__avgpool_layer) {
    add_pair(l, "kernel", n->pool.kernel_h, n->pool.kernel_w);
    add_pair(l, "stride", n->pool.stride_h, n->pool.stride_w);
    add_pair(l, "pad", n->pool.pad_h, n->pool.pad_w);
    cJSON_AddBoolToObject(l, "ceil_mode", n->pool.ceil_mode);
    cJSON_AddBoolToObject(l, "count_include_pad", n->pool.count_include_pad);
  } else if (vt == &clfer__dropout_layer) {
    cJSON_AddNumberToObject(l, "p", n->dropout_p);
  } else if (vt == &clfer__batchnorm_layer) {
    cJSON_AddNumberToObject(l, "eps", n->bn.eps);
    cJSON_AddNumberToObject(l, "momentum", n->bn.momentum);
  } else if (vt == &clfer__lrn_layer) {
    cJSON_AddNumberToObject(l, "size", n->lrn.size);
    cJSON_AddNumberToObject(l, "alpha", n->lrn.alpha);
    cJSON_AddNumberToObject(l, "beta", n->lrn.beta);
    cJSON_AddNumberToObject(l, "k", n->lrn.k);
  }
  if (node == clfer_net_output_node(net)) cJSON_AddTrueToObject(l, "output");
  if (node == net->features_node) cJSON_AddTrueToObject(l, "features");
}

char *clfer_net_graph_json(const clfer_net_t *net) {
  cJSON *layers = cJSON_CreateArray();
  if (!layers) return NULL;
  for (int i = 0; i < net->n_nodes; i++) {
    const clfer__node_t *n = &net->nodes[i];
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "name", n->name);
    cJSON_AddStringToObject(l, "type", n->vt->type);
    cJSON *ins = cJSON_AddArrayToObject(l, "inputs");
    for (int j = 0; j < n->n_inputs; j++) cJSON_AddItemToArray(ins, cJSON_CreateString(net->nodes[n->inputs[j]].name));
    cJSON *shape = cJSON_AddArrayToObject(l, "shape");
    for (int j = 0; j < n->out_ndim; j++) cJSON_AddItemToArray(shape, cJSON_CreateNumber(n->out_shape[j]));
    layer_config(l, net, i);
    cJSON_AddItemToArray(layers, l);
  }
  char *s = cJSON_PrintUnformatted(layers);
  cJSON_Delete(layers);
  return s;
}

/* ---- rebuilding ---- */

typedef struct reader {
  const cJSON *layer;
  const char *name;
  clfer_status st;
} reader_t;

/* A whole number in int range (what a corrupt file may hold instead: 1.5, 1e300). */
static int int_value(double v, int *out) {
  if (!(v >= INT_MIN && v <= INT_MAX) || v != (double)(int)v) return 0;
  *out = (int)v;
  return 1;
}

static int as_int(const cJSON *v, int *out) { return cJSON_IsNumber(v) && int_value(v->valuedouble, out); }

static double num(reader_t *r, const char *key, double fallback, int required) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->layer, key);
  if (cJSON_IsNumber(v) && fabs(v->valuedouble) <= FLT_MAX) return v->valuedouble; /* it ends as a float or int */
  if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
  if ((required || v) && !r->st) /* absent is the default; present must be a number */
    r->st = clfer_set_error(CLFER_PARSE_ERROR, "graph: layer %s: \"%s\" is missing or not a number in float range",
                            r->name, key);
  return fallback;
}

static int whole(reader_t *r, const char *key, int fallback, int required) {
  int v;
  if (!int_value(num(r, key, fallback, required), &v)) {
    if (!r->st) r->st = clfer_set_error(CLFER_PARSE_ERROR, "graph: layer %s: \"%s\" is not an integer", r->name, key);
    return fallback;
  }
  return v;
}

/* true/false, or 0/1 */
static int flag(reader_t *r, const char *key, int fallback) {
  int v = whole(r, key, fallback, 0);
  if (v != 0 && v != 1 && !r->st)
    r->st = clfer_set_error(CLFER_PARSE_ERROR, "graph: layer %s: \"%s\" is %d, not true or false", r->name, key, v);
  return v != 0;
}

/* Two integers >= min (a saved graph holds the builder's resolved sizes: strides and kernels >= 1). */
static void pair(reader_t *r, const char *key, int min, int *a, int *b) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->layer, key);
  int x, y;
  if (cJSON_GetArraySize(v) != 2 || !as_int(cJSON_GetArrayItem(v, 0), &x) || !as_int(cJSON_GetArrayItem(v, 1), &y) ||
      x < min || y < min) {
    if (!r->st)
      r->st = clfer_set_error(CLFER_PARSE_ERROR, "graph: layer %s: \"%s\" is not a pair of integers >= %d", r->name,
                              key, min);
    return;
  }
  *a = x, *b = y;
}

static clfer_status build_layer(clfer_net_t *net, const cJSON *l, int *out) {
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(l, "name"), *type = cJSON_GetObjectItemCaseSensitive(l, "type"),
              *ins = cJSON_GetObjectItemCaseSensitive(l, "inputs");
  if (!cJSON_IsString(name) || !cJSON_IsString(type) || !cJSON_IsArray(ins))
    return clfer_set_error(CLFER_PARSE_ERROR, "graph: a layer lacks a name, type or inputs");
  reader_t r = {l, name->valuestring, CLFER_OK};
  int inputs[CLFER__MAX_INPUTS], n_in = 0;
  const cJSON *in;
  cJSON_ArrayForEach(in, ins) {
    if (n_in == CLFER__MAX_INPUTS || !cJSON_IsString(in))
      return clfer_set_error(CLFER_PARSE_ERROR, "graph: layer %s: bad inputs", r.name);
    if ((inputs[n_in++] = clfer_net_find(net, in->valuestring)) < 0)
      return clfer_set_error(CLFER_PARSE_ERROR, "graph: layer %s reads '%s', which is not an earlier layer", r.name,
                             in->valuestring);
  }
  if (n_in == 0) return clfer_set_error(CLFER_PARSE_ERROR, "graph: layer %s has no inputs", r.name);
  const char *t = type->valuestring;
  clfer_status st;
  if (strcmp(t, "conv2d") == 0) {
    clfer_conv2d_params_t p = {0};
    pair(&r, "kernel", 1, &p.kernel_h, &p.kernel_w);
    pair(&r, "stride", 1, &p.stride_h, &p.stride_w);
    pair(&r, "pad", 0, &p.pad_h, &p.pad_w);
    p.groups = whole(&r, "groups", 1, 0);
    if (p.groups < 1 && !r.st) r.st = clfer_set_error(CLFER_PARSE_ERROR, "graph: layer %s: \"groups\" is below 1", r.name);
    int units = whole(&r, "out_channels", 0, 1), bias = flag(&r, "bias", 1);
    st = r.st ? r.st : clfer_net_conv2d(net, r.name, inputs[0], units, &p, bias, out);
  } else if (strcmp(t, "dense") == 0) {
    int units = whole(&r, "out_features", 0, 1), bias = flag(&r, "bias", 1);
    st = r.st ? r.st : clfer_net_dense(net, r.name, inputs[0], units, bias, out);
  } else if (strcmp(t, "relu") == 0) {
    float slope = (float)num(&r, "slope", 0, 0);
    st = r.st ? r.st : clfer_net_relu(net, r.name, inputs[0], slope, out);
  } else if (strcmp(t, "maxpool") == 0 || strcmp(t, "avgpool") == 0) {
    clfer_pool2d_params_t p = {0};
    pair(&r, "kernel", 1, &p.kernel_h, &p.kernel_w);
    pair(&r, "stride", 1, &p.stride_h, &p.stride_w);
    pair(&r, "pad", 0, &p.pad_h, &p.pad_w);
    p.ceil_mode = flag(&r, "ceil_mode", 0);
    p.count_include_pad = flag(&r, "count_include_pad", 1);
    st = r.st ? r.st
              : (t[0] == 'm' ? clfer_net_maxpool(net, r.name, inputs[0], &p, out)
                             : clfer_net_avgpool(net, r.name, inputs[0], &p, out));
  } else if (strcmp(t, "global_avgpool") == 0) {
    st = clfer_net_global_avgpool(net, r.name, inputs[0], out);
  } else if (strcmp(t, "dropout") == 0) {
    float p = (float)num(&r, "p", 0, 1);
    st = r.st ? r.st : clfer_net_dropout(net, r.name, inputs[0], p, out);
  } else if (strcmp(t, "batchnorm") == 0) {
    clfer_batchnorm_params_t p = {(float)num(&r, "eps", 1e-5, 0), (float)num(&r, "momentum", 0.1, 0)};
    st = r.st ? r.st : clfer_net_batchnorm(net, r.name, inputs[0], &p, out);
  } else if (strcmp(t, "lrn") == 0) {
    clfer_lrn_params_t p = {whole(&r, "size", 5, 1), (float)num(&r, "alpha", 1e-4, 1), (float)num(&r, "beta", 0.75, 1),
                            (float)num(&r, "k", 1, 1)};
    st = r.st ? r.st : clfer_net_lrn(net, r.name, inputs[0], &p, out);
  } else if (strcmp(t, "flatten") == 0) {
    st = clfer_net_flatten(net, r.name, inputs[0], out);
  } else if (strcmp(t, "add") == 0) {
    st = n_in == 2 ? clfer_net_add(net, r.name, inputs[0], inputs[1], out)
                   : clfer_set_error(CLFER_PARSE_ERROR, "graph: add layer %s needs 2 inputs", r.name);
  } else if (strcmp(t, "concat") == 0) {
    st = clfer_net_concat(net, r.name, n_in, inputs, out);
  } else if (strcmp(t, "softmax") == 0) {
    st = clfer_net_softmax(net, r.name, inputs[0], out);
  } else {
    return clfer_set_error(CLFER_UNSUPPORTED, "graph: layer %s has unknown type '%s'", r.name, t);
  }
  if (st) return st;
  /* the stored shape, when present, must be what the builder inferred */
  const cJSON *shape = cJSON_GetObjectItemCaseSensitive(l, "shape");
  if (cJSON_IsArray(shape)) {
    int nd, s[3], v;
    clfer_net_node_shape(net, *out, &nd, s);
    int same = cJSON_GetArraySize(shape) == nd;
    for (int i = 0; same && i < nd; i++) same = as_int(cJSON_GetArrayItem(shape, i), &v) && v == s[i];
    if (!same)
      return clfer_set_error(CLFER_SHAPE_MISMATCH, "graph: layer %s: the stored output shape differs from the rebuilt one",
                             r.name);
  }
  return CLFER_OK;
}

/* A layer's "output" or "features" mark: absent, true/false or 0/1 (anything else is damage, not "no"). */
static clfer_status layer_mark(const cJSON *l, const char *key, int *set) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(l, key), *name = cJSON_GetObjectItemCaseSensitive(l, "name");
  int n = 0;
  if (!v || cJSON_IsBool(v)) {
    *set = cJSON_IsTrue(v);
    return CLFER_OK;
  }
  if (as_int(v, &n) && (n == 0 || n == 1)) {
    *set = n;
    return CLFER_OK;
  }
  return clfer_set_error(CLFER_PARSE_ERROR, "graph: layer %s: \"%s\" is not true or false", name->valuestring, key);
}

clfer_status clfer_net_from_graph_json(clfer_runtime_t *rt, const char *model_name, const char *json, clfer_net_t **out) {
  *out = NULL;
  cJSON *layers = cJSON_Parse(json);
  clfer_net_t *net = NULL;
  clfer_status st = CLFER_OK;
  int count = cJSON_GetArraySize(layers);
  const cJSON *first = cJSON_GetArrayItem(layers, 0);
  const cJSON *type = cJSON_GetObjectItemCaseSensitive(first, "type"),
              *shape = cJSON_GetObjectItemCaseSensitive(first, "shape");
  int chw[3];
  if (!cJSON_IsArray(layers) || count < 2 || !cJSON_IsString(type) || strcmp(type->valuestring, "input") != 0 ||
      cJSON_GetArraySize(shape) != 3 || !as_int(cJSON_GetArrayItem(shape, 0), &chw[0]) ||
      !as_int(cJSON_GetArrayItem(shape, 1), &chw[1]) || !as_int(cJSON_GetArrayItem(shape, 2), &chw[2])) {
    st = clfer_set_error(CLFER_PARSE_ERROR, "graph: not a layer list starting with the [C, H, W] input");
    goto done;
  }
  if ((st = clfer_net_create(rt, model_name, chw[0], chw[1], chw[2], &net))) goto done;
  int output = -1, features = -1;
  for (int i = 1; i < count && !st; i++) {
    const cJSON *l = cJSON_GetArrayItem(layers, i);
    int id = -1;
    if ((st = build_layer(net, l, &id))) break;
    int is_output = 0, is_features = 0;
    if ((st = layer_mark(l, "output", &is_output)) || (st = layer_mark(l, "features", &is_features))) break;
    if (is_output) output = id;
    if (is_features) features = id;
  }
  if (!st && output >= 0) st = clfer_net_set_output(net, output);
  if (!st && features >= 0) st = clfer_net_set_features(net, features);
done:
  cJSON_Delete(layers);
  if (st) {
    clfer_net_destroy(net);
    return st;
  }
  *out = net;
  return CLFER_OK;
}

/* ---- checkpoints ---- */

/* Training checkpoints also hold optimizer state and loss tensors; clfer_net_load rejects names
 * it is not told about, so every tensor that is not a parameter is read into a scratch "extra". */
clfer_status clfer_net_load_weights(clfer_net_t *net, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return clfer_set_error(CLFER_IO_ERROR, "cannot open checkpoint %s", path);
  unsigned char len8[8];
  uint64_t hlen = 0;
  char *text = NULL;
  int ok = fread(len8, 1, 8, f) == 8;
  for (int i = 0; ok && i < 8; i++) hlen |= (uint64_t)len8[i] << (8 * i);
  ok = ok && hlen > 0 && hlen < (64u << 20) && (text = malloc(hlen + 1)) && fread(text, 1, hlen, f) == hlen;
  fclose(f);
  if (!ok) {
    free(text);
    return clfer_net_load(net, path, NULL, NULL, 0, 0); /* reports what is wrong with the file */
  }
  text[hlen] = '\0';
  cJSON *header = cJSON_Parse(text);
  free(text);
  int cap = cJSON_GetArraySize(header), n = 0;
  clfer_named_tensor_t *extra = calloc((size_t)cap + 1, sizeof *extra);
  clfer_tensor_t *tensors = calloc((size_t)cap + 1, sizeof *tensors);
  clfer_status st = extra && tensors ? CLFER_OK : clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory loading %s", path);
  const cJSON *item;
  cJSON_ArrayForEach(item, header) {
    if (st) break;
    const char *name = item->string, *dot = strrchr(name, '.');
    if (strcmp(name, "__metadata__") == 0 || clfer_net_param_by_name(net, name) ||
        (dot && strcmp(dot, ".num_batches_tracked") == 0))
      continue;
    char layer[sizeof net->nodes[0].name];
    snprintf(layer, sizeof layer, "%.*s", dot ? (int)(dot - name) : 0, name);
    if (dot && clfer_net_find(net, layer) >= 0) { /* e.g. a bias the rebuilt layer does not have */
      st = clfer_set_error(CLFER_SHAPE_MISMATCH,
                           "%s: tensor %s in the checkpoint is not a parameter of layer %s of model %s", path, name,
                           layer, net->name);
      break;
    }
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    int dims[CLFER_MAX_DIMS], nd = cJSON_GetArraySize(shape), whole_dims = cJSON_IsArray(shape) && nd <= CLFER_MAX_DIMS;
    for (int i = 0; whole_dims && i < nd; i++)
      whole_dims = as_int(cJSON_GetArrayItem(shape, i), &dims[i]) && dims[i] > 0;
    if (!whole_dims) {
      st = clfer_set_error(CLFER_CORRUPT, "%s: tensor %s has a malformed shape", path, name);
      break;
    }
    if (nd == 0) dims[0] = 1, nd = 1;
    if ((st = clfer_tensor_create(net->rt, nd, dims, &tensors[n]))) {
      clfer_wrap_error(st, "%s: tensor %s: ", path, name);
      break;
    }
    extra[n] = (clfer_named_tensor_t){name, &tensors[n]};
    n++;
  }
  if (!st) st = clfer_net_load(net, path, NULL, extra, n, 1);
  for (int i = 0; i < n; i++) clfer_tensor_release(&tensors[i]);
  free(tensors);
  free(extra);
  cJSON_Delete(header);
  return st;
}

clfer_status clfer_net_from_checkpoint(clfer_runtime_t *rt, const char *path, clfer_net_t **out, clfer_meta_t *meta) {
  *out = NULL;
  clfer_meta_t m = {0};
  clfer_status st = clfer_checkpoint_meta(path, &m);
  if (st) return st;
  const char *model = clfer_meta_get(&m, "clfer.model"), *graph = clfer_meta_get(&m, "clfer.graph");
  cJSON *desc = cJSON_Parse(model ? model : "{}");
  const cJSON *zoo = cJSON_GetObjectItemCaseSensitive(desc, "zoo"), *name = cJSON_GetObjectItemCaseSensitive(desc, "name");
  clfer_net_t *net = NULL;
  if (cJSON_IsString(zoo)) {
    int dims[4] = {0};
    static const char *const keys[4] = {"channels", "height", "width", "classes"};
    for (int i = 0; i < 4; i++) {
      if (!as_int(cJSON_GetObjectItemCaseSensitive(desc, keys[i]), &dims[i])) dims[i] = 0; /* the builder names it */
    }
    st = clfer_zoo_build(rt, zoo->valuestring, dims[0], dims[1], dims[2], dims[3], &net);
  } else if (graph) {
    st = clfer_net_from_graph_json(rt, cJSON_IsString(name) ? name->valuestring : "graph", graph, &net);
    if (!st && model) st = clfer_net_set_description(net, model);
  } else {
    st = clfer_set_error(CLFER_PARSE_ERROR, "%s: the metadata names no zoo model and holds no clfer.graph", path);
  }
  cJSON_Delete(desc);
  if (st) {
    clfer_wrap_error(st, "%s: rebuilding the model: ", path);
  } else {
    st = clfer_net_param_count(net) ? clfer_net_load_weights(net, path) : clfer_net_load(net, path, NULL, NULL, 0, 0);
  }
  if (st) {
    clfer_net_destroy(net);
    clfer_meta_free(&m);
    return st;
  }
  if (meta)
    *meta = m;
  else
    clfer_meta_free(&m);
  *out = net;
  return CLFER_OK;
}

clfer_status clfer_net_open(clfer_runtime_t *rt, const char *path, const clfer_onnx_import_options_t *onnx_options,
                            clfer_net_t **out) {
  size_t len = strlen(path);
  if (len >= 5 && strcmp(path + len - 5, ".onnx") == 0) return clfer_onnx_import(rt, path, onnx_options, out);
  return clfer_net_from_checkpoint(rt, path, out, NULL);
}
