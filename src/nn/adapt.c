/* adapt.c — a copy of a network with another input or class count, for fine-tuning ImageNet models
 * on faces (Ng et al.): a new classifier head of K classes, gray input with the first
 * convolution's RGB filters summed, another input size. Rebuilt from the layer description
 * (graph_json.c); parameters whose name and shape survive are copied, the others initialised. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "clfer/onnx.h"
#include "net_internal.h"

/* The description with the new input and head; shapes are dropped since they change. */
static char *adapted_json(const clfer_net_t *src, const clfer_net_adapt_options_t *o) {
  char *text = clfer_net_graph_json(src);
  cJSON *layers = text ? cJSON_Parse(text) : NULL;
  free(text);
  if (!layers) return NULL;
  int in[3];
  clfer_net_input_shape(src, in);
  if (o->channels > 0) in[0] = o->channels;
  if (o->height > 0) in[1] = o->height;
  if (o->width > 0) in[2] = o->width;
  cJSON *l;
  int i = 0;
  cJSON_ArrayForEach(l, layers) {
    if (i++ == 0)
      cJSON_ReplaceItemInObjectCaseSensitive(l, "shape", cJSON_CreateIntArray(in, 3));
    else
      cJSON_DeleteItemFromObjectCaseSensitive(l, "shape");
    if (o->classes > 0 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "output"))) {
      if (cJSON_GetObjectItemCaseSensitive(l, "out_features"))
        cJSON_ReplaceItemInObjectCaseSensitive(l, "out_features", cJSON_CreateNumber(o->classes));
      if (cJSON_GetObjectItemCaseSensitive(l, "out_channels"))
        cJSON_ReplaceItemInObjectCaseSensitive(l, "out_channels", cJSON_CreateNumber(o->classes));
    }
  }
  text = cJSON_PrintUnformatted(layers);
  cJSON_Delete(layers);
  return text;
}

/* The model description with the new sizes, so checkpoints rebuild the adapted network. */
static void adapt_description(clfer_net_t *net, const clfer_net_t *src) {
  cJSON *d = cJSON_Parse(clfer_net_description(src));
  if (!cJSON_IsObject(d)) {
    cJSON_Delete(d);
    return;
  }
  int in[3], nd, shape[3];
  clfer_net_input_shape(net, in);
  clfer_net_node_shape(net, clfer_net_output_node(net), &nd, shape);
  int classes = nd == 1 ? shape[0] : shape[0] * shape[1] * shape[2];
  const char *keys[4] = {"channels", "height", "width", "classes"};
  const int values[4] = {in[0], in[1], in[2], classes};
  for (int i = 0; i < 4; i++)
    if (cJSON_GetObjectItemCaseSensitive(d, keys[i]))
      cJSON_ReplaceItemInObjectCaseSensitive(d, keys[i], cJSON_CreateNumber(values[i]));
  char *text = cJSON_PrintUnformatted(d);
  if (text) clfer_net_set_description(net, text);
  free(text);
  cJSON_Delete(d);
}

/* [O, 3, KH, KW] -> [O, 1, KH, KW]: the RGB filters summed, so gray input g gives what RGB
 * (g, g, g) gave. */
static clfer_status sum_rgb(const clfer_tensor_t *from, clfer_tensor_t *to) {
  size_t n = clfer_tensor_numel(from), plane = (size_t)from->shape[2] * from->shape[3];
  float *a = malloc(n * sizeof *a), *b = malloc(n / 3 * sizeof *b);
  clfer_status st = a && b ? clfer_tensor_download(from, a) : clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory");
  for (int oc = 0; !st && oc < from->shape[0]; oc++)
    for (size_t k = 0; k < plane; k++)
      b[oc * plane + k] = a[(oc * 3 + 0) * plane + k] + a[(oc * 3 + 1) * plane + k] + a[(oc * 3 + 2) * plane + k];
  if (!st) st = clfer_tensor_upload(to, b);
  free(a);
  free(b);
  return st;
}

clfer_status clfer_net_adapt(clfer_net_t *src, const clfer_net_adapt_options_t *o, clfer_net_t **out, int *n_reinit) {
  *out = NULL;
  if (n_reinit) *n_reinit = 0;
  char *json = adapted_json(src, o);
  if (!json) return clfer_set_error(CLFER_OUT_OF_MEMORY, "model %s: out of host memory adapting it", clfer_net_name(src));
  clfer_net_t *net = NULL;
  clfer_status st = clfer_net_from_graph_json(src->rt, clfer_net_name(src), json, &net);
  free(json);
  if (st) return clfer_wrap_error(st, "adapting model %s: ", clfer_net_name(src));
  if ((st = clfer_net_init(net, o->init, o->seed))) goto done;
  int fresh = 0;
  for (int i = 0; i < clfer_net_param_count(net) && !st; i++) {
    clfer_net_param_t *p = clfer_net_param(net, i), *q = clfer_net_param_by_name(src, p->name);
    if (!q) {
      fresh++;
      continue;
    }
    const clfer_tensor_t *a = &q->value;
    clfer_tensor_t *b = &p->value;
    int same = a->ndim == b->ndim;
    for (int d = 0; same && d < a->ndim; d++) same = a->shape[d] == b->shape[d];
    if (same)
      st = clfer_tensor_copy(b, a);
    else if (a->ndim == 4 && a->shape[1] == 3 && b->shape[1] == 1 && a->shape[0] == b->shape[0] &&
             a->shape[2] == b->shape[2] && a->shape[3] == b->shape[3] && net->nodes[p->node].inputs[0] == 0)
      st = sum_rgb(a, b);
    else
      fresh++;
  }
  if (st) goto done;
  adapt_description(net, src);
  if (n_reinit) *n_reinit = fresh;
done:
  if (st) {
    clfer_net_destroy(net);
    return clfer_wrap_error(st, "adapting model %s: ", clfer_net_name(src));
  }
  *out = net;
  return CLFER_OK;
}
