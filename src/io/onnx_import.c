/* onnx_import.c — builds a clfer network from an ONNX file: onnx_convert.c turns the file into a
 * layer description and host weights, clfer_net_from_graph_json builds the layers through the
 * public builder API, and the weights are uploaded by parameter name with their shapes checked. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx_internal.h"

#define MAX_ONNX_BYTES ((size_t)2 << 30) /* protobuf's own limit */

clfer_status clfer_onnx_import_memory(clfer_runtime_t *rt, const void *data, size_t size, const char *source,
                                      const clfer_onnx_import_options_t *options, clfer_net_t **out) {
  *out = NULL;
  clfer__onnx_graph_t g;
  clfer_status st = clfer__onnx_convert(data, size, source, options, &g);
  if (st) return st;
  clfer_net_t *net = NULL;
  if ((st = clfer_net_from_graph_json(rt, g.model_name, g.layers_json, &net))) {
    clfer_wrap_error(st, "%s: building the converted graph: ", source);
    goto done;
  }
  for (int i = 0; i < g.n_weights && !st; i++) {
    const clfer__onnx_weight_t *w = &g.weights[i];
    clfer_net_param_t *p = clfer_net_param_by_name(net, w->name);
    int same = p && p->value.ndim == w->ndim;
    for (int d = 0; same && d < w->ndim; d++) same = p->value.shape[d] == w->shape[d];
    if (!same) {
      char a[64] = "?", b[64] = "";
      if (p) clfer_shape_str(p->value.ndim, p->value.shape, a, sizeof a);
      st = clfer_set_error(CLFER_SHAPE_MISMATCH, "%s: weight %s %s does not match the layer's parameter (%s)", source,
                           w->name, clfer_shape_str(w->ndim, w->shape, b, sizeof b), a);
      break;
    }
    st = clfer_tensor_upload(&p->value, w->data);
  }
  if (st) goto done;
  const char *base = strrchr(source, '/');
  cJSON *d = cJSON_CreateObject();
  cJSON_AddStringToObject(d, "graph", "onnx");
  cJSON_AddStringToObject(d, "name", g.model_name);
  cJSON_AddNumberToObject(d, "channels", g.channels);
  cJSON_AddNumberToObject(d, "height", g.height);
  cJSON_AddNumberToObject(d, "width", g.width);
  cJSON_AddNumberToObject(d, "classes", g.classes);
  char src[200];
  snprintf(src, sizeof src, "%s", base ? base + 1 : source);
  cJSON_AddStringToObject(d, "source", src);
  char *desc = cJSON_PrintUnformatted(d);
  cJSON_Delete(d);
  st = desc ? clfer_net_set_description(net, desc) : clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory");
  free(desc);
done:
  clfer__onnx_graph_free(&g);
  if (st) {
    clfer_net_destroy(net);
    return st;
  }
  *out = net;
  return CLFER_OK;
}

clfer_status clfer_onnx_import(clfer_runtime_t *rt, const char *path, const clfer_onnx_import_options_t *options,
                               clfer_net_t **out) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return clfer_set_error(CLFER_IO_ERROR, "cannot open ONNX file %s: %s", path, strerror(errno));
  long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (size <= 0 || (size_t)size > MAX_ONNX_BYTES) {
    fclose(f);
    return clfer_set_error(size == 0 ? CLFER_CORRUPT : CLFER_IO_ERROR, "%s: %s", path,
                           size == 0 ? "empty file" : "cannot size the file (or over 2 GiB)");
  }
  rewind(f);
  unsigned char *data = malloc((size_t)size);
  if (!data) {
    fclose(f);
    return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of host memory for %ld bytes", path, size);
  }
  size_t got = fread(data, 1, (size_t)size, f);
  fclose(f);
  clfer_status st = got == (size_t)size ? clfer_onnx_import_memory(rt, data, (size_t)size, path, options, out)
                                        : clfer_set_error(CLFER_IO_ERROR, "%s: read %zu of %ld bytes", path, got, size);
  free(data);
  return st;
}
