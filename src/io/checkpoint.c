/* checkpoint.c — safetensors checkpoints: an 8-byte little-endian header length, a JSON header
 * ({name: {dtype, shape, data_offsets}}, "__metadata__": {string: string}), then raw
 * little-endian data. Names and layouts are PyTorch's, so `load_state_dict(safetensors.torch.
 * load_file(path))` takes them. Writes go to a temporary file that is renamed into place. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clfer/nn.h"
#include "clfer/onnx.h"
#include "nn/net_internal.h"

#define MAX_HEADER_BYTES (64u << 20)

/* ---- metadata ---- */

void clfer_meta_set(clfer_meta_t *m, const char *key, const char *value) {
  for (int i = 0; i < m->count; i++)
    if (strcmp(m->keys[i], key) == 0) {
      free(m->values[i]);
      m->values[i] = strdup(value);
      return;
    }
  if (m->count >= 32) return;
  snprintf(m->keys[m->count], sizeof m->keys[0], "%s", key);
  m->values[m->count++] = strdup(value);
}

const char *clfer_meta_get(const clfer_meta_t *m, const char *key) {
  for (int i = 0; i < m->count; i++)
    if (strcmp(m->keys[i], key) == 0) return m->values[i] ? m->values[i] : "";
  return NULL;
}

void clfer_meta_free(clfer_meta_t *m) {
  for (int i = 0; i < m->count; i++) free(m->values[i]);
  m->count = 0;
}

/* ---- writing ---- */

typedef struct entry {
  const char *name;
  const clfer_tensor_t *tensor; /* NULL for a num_batches_tracked scalar */
  size_t bytes;
  int64_t count; /* the num_batches_tracked value */
} entry_t;

static cJSON *shape_json(const clfer_tensor_t *t) {
  cJSON *a = cJSON_CreateArray();
  for (int i = 0; t && i < t->ndim; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(t->shape[i]));
  return a;
}

clfer_status clfer_net_save(clfer_net_t *net, const char *path, const clfer_meta_t *meta,
                            const clfer_named_tensor_t *extra, int n_extra) {
  clfer_status st = CLFER_OK;
  int n_bn = 0;
  for (int i = 0; i < net->n_nodes; i++) n_bn += net->nodes[i].vt == &clfer__batchnorm_layer;
  int n_entries = net->n_params + n_bn + n_extra;
  entry_t *entries = calloc((size_t)n_entries + 1, sizeof *entries);
  char (*bn_names)[96] = calloc((size_t)n_bn + 1, sizeof *bn_names);
  cJSON *header = cJSON_CreateObject();
  char *header_text = NULL, *graph = NULL, tmp[1100] = "";
  float *host = NULL;
  FILE *f = NULL;
  if (!entries || !bn_names || !header) {
    st = clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory saving %s", path);
    goto done;
  }
  int k = 0, b = 0;
  for (int i = 0; i < net->n_params; i++)
    entries[k++] =
        (entry_t){net->params[i].name, &net->params[i].value, clfer_tensor_numel(&net->params[i].value) * 4, 0};
  for (int i = 0; i < net->n_nodes; i++)
    if (net->nodes[i].vt == &clfer__batchnorm_layer) {
      snprintf(bn_names[b], sizeof bn_names[b], "%s.num_batches_tracked", net->nodes[i].name);
      entries[k++] = (entry_t){bn_names[b++], NULL, 8, net->nodes[i].batches_tracked};
    }
  for (int i = 0; i < n_extra; i++)
    entries[k++] = (entry_t){extra[i].name, extra[i].tensor, clfer_tensor_numel(extra[i].tensor) * 4, 0};

  cJSON *md = cJSON_AddObjectToObject(header, "__metadata__");
  cJSON_AddStringToObject(md, "format", "pt");
  cJSON_AddStringToObject(md, "clfer.model", net->description[0] ? net->description : "{}");
  graph = clfer_net_graph_json(net); /* enough to rebuild models that have no zoo name */
  cJSON_AddStringToObject(md, "clfer.graph", graph ? graph : "[]");
  for (int i = 0; meta && i < meta->count; i++) cJSON_AddStringToObject(md, meta->keys[i], meta->values[i] ? meta->values[i] : "");
  size_t offset = 0;
  for (int i = 0; i < n_entries; i++) {
    cJSON *t = cJSON_AddObjectToObject(header, entries[i].name);
    cJSON_AddStringToObject(t, "dtype", entries[i].tensor ? "F32" : "I64");
    cJSON_AddItemToObject(t, "shape", shape_json(entries[i].tensor));
    cJSON *off = cJSON_AddArrayToObject(t, "data_offsets");
    cJSON_AddItemToArray(off, cJSON_CreateNumber((double)offset));
    cJSON_AddItemToArray(off, cJSON_CreateNumber((double)(offset + entries[i].bytes)));
    offset += entries[i].bytes;
  }
  header_text = cJSON_PrintUnformatted(header);
  if (!header_text) {
    st = clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory saving %s", path);
    goto done;
  }
  size_t hlen = strlen(header_text), padded = (hlen + 7) / 8 * 8; /* data stays 8-byte aligned */
  snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0 || !(f = fdopen(fd, "wb"))) {
    if (fd >= 0) close(fd);
    st = clfer_set_error(CLFER_IO_ERROR, "cannot write checkpoint %s: %s", path, strerror(errno));
    tmp[0] = '\0';
    goto done;
  }
  unsigned char len8[8];
  for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
  int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(header_text, 1, hlen, f) == hlen;
  for (size_t i = hlen; i < padded && ok; i++) ok = fputc(' ', f) != EOF;
  for (int i = 0; i < n_entries && ok; i++) {
    if (!entries[i].tensor) {
      unsigned char le[8]; /* safetensors is little-endian */
      for (int j = 0; j < 8; j++) le[j] = (unsigned char)((uint64_t)entries[i].count >> (8 * j));
      ok = fwrite(le, 1, 8, f) == 8;
      continue;
    }
    float *grown = realloc(host, entries[i].bytes ? entries[i].bytes : 4);
    if (!grown) {
      st = clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory saving %s", entries[i].name);
      goto done;
    }
    host = grown;
    if ((st = clfer_tensor_download(entries[i].tensor, host))) goto done;
    ok = fwrite(host, 1, entries[i].bytes, f) == entries[i].bytes;
  }
  ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
  ok = (fclose(f) == 0) && ok;
  f = NULL;
  if (!ok || rename(tmp, path) != 0) {
    st = clfer_set_error(CLFER_IO_ERROR, "cannot write checkpoint %s: %s", path, strerror(errno));
    goto done;
  }
  tmp[0] = '\0';
done:
  if (f) fclose(f);
  if (tmp[0]) unlink(tmp);
  free(host);
  free(header_text);
  free(graph);
  cJSON_Delete(header);
  free(entries);
  free(bn_names);
  return st;
}

/* ---- reading ---- */

typedef struct file_header {
  cJSON *json;
  size_t data_start, data_size;
} file_header_t;

static clfer_status read_header(const char *path, FILE *f, file_header_t *h) {
  memset(h, 0, sizeof *h);
  unsigned char len8[8];
  if (fseek(f, 0, SEEK_END) != 0) return clfer_set_error(CLFER_IO_ERROR, "%s: cannot seek", path);
  long size = ftell(f);
  rewind(f);
  if (size < 8 || fread(len8, 1, 8, f) != 8)
    return clfer_set_error(CLFER_CORRUPT, "%s: not a safetensors file (%ld bytes, too short for a header)", path, size);
  uint64_t hlen = 0;
  for (int i = 0; i < 8; i++) hlen |= (uint64_t)len8[i] << (8 * i);
  if (hlen == 0 || hlen > MAX_HEADER_BYTES || 8 + hlen > (uint64_t)size)
    return clfer_set_error(CLFER_CORRUPT, "%s: header length %llu does not fit the file (%ld bytes): truncated or not safetensors",
                           path, (unsigned long long)hlen, size);
  char *text = malloc(hlen + 1);
  if (!text) return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of host memory", path);
  if (fread(text, 1, hlen, f) != hlen) {
    free(text);
    return clfer_set_error(CLFER_CORRUPT, "%s: truncated header", path);
  }
  text[hlen] = '\0';
  h->json = cJSON_Parse(text);
  free(text);
  if (!cJSON_IsObject(h->json)) {
    cJSON_Delete(h->json);
    h->json = NULL;
    return clfer_set_error(CLFER_CORRUPT, "%s: header is not a JSON object", path);
  }
  h->data_start = 8 + (size_t)hlen;
  h->data_size = (size_t)size - h->data_start;
  return CLFER_OK;
}

static void read_meta(const cJSON *json, clfer_meta_t *meta) {
  if (!meta) return;
  const cJSON *md = cJSON_GetObjectItemCaseSensitive(json, "__metadata__"), *item;
  cJSON_ArrayForEach(item, md) if (cJSON_IsString(item)) clfer_meta_set(meta, item->string, item->valuestring);
}

clfer_status clfer_checkpoint_meta(const char *path, clfer_meta_t *meta) {
  FILE *f = fopen(path, "rb");
  if (!f) return clfer_set_error(CLFER_IO_ERROR, "cannot open checkpoint %s: %s", path, strerror(errno));
  file_header_t h;
  clfer_status st = read_header(path, f, &h);
  fclose(f);
  if (st) return st;
  read_meta(h.json, meta);
  cJSON_Delete(h.json);
  return CLFER_OK;
}

/* A JSON number that is a whole number in [0, max] (a corrupt header may hold 4.5, -1, 1e300). */
static int as_count(const cJSON *v, double max, double *out) {
  if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= max) || v->valuedouble != floor(v->valuedouble))
    return 0;
  *out = v->valuedouble;
  return 1;
}

/* A header entry's dtype (a string), shape (an array) and data offsets [start, end) (whole numbers). */
static clfer_status entry_fields(const char *path, const file_header_t *h, const char *name, const cJSON **dtype,
                                 const cJSON **shape, double *start, double *end) {
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(h->json, name);
  const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
  *dtype = cJSON_GetObjectItemCaseSensitive(e, "dtype");
  *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
  if (!cJSON_IsString(*dtype) || !cJSON_IsArray(*shape) || cJSON_GetArraySize(offs) != 2 ||
      !as_count(cJSON_GetArrayItem(offs, 0), 9e15, start) || !as_count(cJSON_GetArrayItem(offs, 1), 9e15, end))
    return clfer_set_error(CLFER_CORRUPT, "%s: tensor %s has a malformed header entry", path, name);
  return CLFER_OK;
}

/* The entry's data must be `bytes` long and inside the data section; *begin is its start there. */
static clfer_status entry_span(const char *path, const file_header_t *h, const char *name, double start, double end,
                               size_t bytes, size_t *begin) {
  if (end - start != (double)bytes || end > (double)h->data_size)
    return clfer_set_error(CLFER_CORRUPT, "%s: tensor %s's data [%.0f, %.0f) does not fit the file's %zu data bytes (truncated?)",
                           path, name, start, end, h->data_size);
  *begin = (size_t)start;
  return CLFER_OK;
}

/* Checks one header entry against the tensor it should fill; its data starts `*begin` bytes into
 * the data section. */
static clfer_status check_entry(const char *path, const file_header_t *h, const char *name, const clfer_tensor_t *t,
                                size_t *begin) {
  const cJSON *dtype, *shape;
  double start = 0, end = 0, dim;
  clfer_status st = entry_fields(path, h, name, &dtype, &shape, &start, &end);
  if (st) return st;
  if (strcmp(dtype->valuestring, "F32") != 0)
    return clfer_set_error(CLFER_UNSUPPORTED, "%s: tensor %s is %s; clfer loads F32", path, name, dtype->valuestring);
  int ndim = cJSON_GetArraySize(shape), dims[CLFER_MAX_DIMS] = {0}, same = ndim == t->ndim;
  for (int i = 0; i < ndim && i < CLFER_MAX_DIMS; i++) {
    if (!as_count(cJSON_GetArrayItem(shape, i), INT_MAX, &dim))
      return clfer_set_error(CLFER_CORRUPT, "%s: tensor %s: shape entry %d is not a whole number", path, name, i);
    dims[i] = (int)dim;
    same = same && dims[i] == t->shape[i];
  }
  if (!same) {
    char a[96], b[96];
    return clfer_set_error(CLFER_SHAPE_MISMATCH, "%s: tensor %s has shape %s in the file but %s in the model", path, name,
                           clfer_shape_str(ndim < CLFER_MAX_DIMS ? ndim : CLFER_MAX_DIMS, dims, a, sizeof a),
                           clfer_shape_str(t->ndim, t->shape, b, sizeof b));
  }
  return entry_span(path, h, name, start, end, clfer_tensor_numel(t) * 4, begin);
}

/* Checks a batch norm's num_batches_tracked entry: an I64 scalar (shape [] as PyTorch saves it, or
 * [1]) whose 8 bytes start `*begin` bytes into the data section. */
static clfer_status check_counter(const char *path, const file_header_t *h, const char *name, size_t *begin) {
  const cJSON *dtype, *shape;
  double start = 0, end = 0, dim = 1;
  clfer_status st = entry_fields(path, h, name, &dtype, &shape, &start, &end);
  if (st) return st;
  if (strcmp(dtype->valuestring, "I64") != 0 || cJSON_GetArraySize(shape) > 1 ||
      (cJSON_GetArraySize(shape) == 1 && (!as_count(cJSON_GetArrayItem(shape, 0), 1, &dim) || dim != 1)))
    return clfer_set_error(CLFER_CORRUPT, "%s: tensor %s should be one I64 count", path, name);
  return entry_span(path, h, name, start, end, 8, begin);
}

static clfer_status read_counter(const char *path, FILE *f, const file_header_t *h, const char *name, size_t begin,
                                 int64_t *count) {
  unsigned char le[8];
  if (fseek(f, (long)(h->data_start + begin), SEEK_SET) != 0 || fread(le, 1, 8, f) != 8)
    return clfer_set_error(CLFER_CORRUPT, "%s: cannot read tensor %s (truncated?)", path, name);
  uint64_t v = 0;
  for (int j = 0; j < 8; j++) v |= (uint64_t)le[j] << (8 * j);
  if (v > INT64_MAX) return clfer_set_error(CLFER_CORRUPT, "%s: tensor %s is negative", path, name);
  *count = (int64_t)v;
  return CLFER_OK;
}

/* Reads a checked entry into its tensor. */
static clfer_status read_entry(const char *path, FILE *f, const file_header_t *h, const char *name, size_t begin,
                               clfer_tensor_t *t, float **host, size_t *host_size) {
  size_t bytes = clfer_tensor_numel(t) * 4;
  if (bytes > *host_size) {
    float *grown = realloc(*host, bytes);
    if (!grown) return clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of host memory for %s", path, name);
    *host = grown;
    *host_size = bytes;
  }
  if (fseek(f, (long)(h->data_start + begin), SEEK_SET) != 0 || fread(*host, 1, bytes, f) != bytes)
    return clfer_set_error(CLFER_CORRUPT, "%s: cannot read tensor %s (truncated?)", path, name);
  return clfer_tensor_upload(t, *host);
}

static int is_known(const clfer_net_t *net, const clfer_named_tensor_t *extra, int n_extra, const char *name) {
  if (strcmp(name, "__metadata__") == 0) return 1;
  for (int i = 0; i < net->n_params; i++)
    if (strcmp(net->params[i].name, name) == 0) return 1;
  for (int i = 0; i < n_extra; i++)
    if (strcmp(extra[i].name, name) == 0) return 1;
  const char *suffix = strrchr(name, '.');
  return suffix && strcmp(suffix, ".num_batches_tracked") == 0;
}

/* The i-th tensor a load fills: the model's parameters, then the extras. */
static clfer_tensor_t *load_item(clfer_net_t *net, clfer_named_tensor_t *extra, int i, const char **name) {
  if (i < net->n_params) {
    *name = net->params[i].name;
    return &net->params[i].value;
  }
  *name = extra[i - net->n_params].name;
  return extra[i - net->n_params].tensor;
}

clfer_status clfer_net_load(clfer_net_t *net, const char *path, clfer_meta_t *meta, clfer_named_tensor_t *extra,
                            int n_extra, int extra_optional) {
  FILE *f = fopen(path, "rb");
  if (!f) return clfer_set_error(CLFER_IO_ERROR, "cannot open checkpoint %s: %s", path, strerror(errno));
  file_header_t h;
  clfer_status st = read_header(path, f, &h);
  float *host = NULL;
  size_t host_size = 0, *begins = NULL;
  int64_t *counts = NULL;
  if (st) goto done;
  /* All names first, so a wrong model is reported before anything is overwritten. */
  for (int i = 0; i < net->n_params; i++)
    if (!cJSON_GetObjectItemCaseSensitive(h.json, net->params[i].name)) {
      st = clfer_set_error(CLFER_SHAPE_MISMATCH, "%s: tensor %s of model %s is missing from the checkpoint", path,
                           net->params[i].name, net->name);
      goto done;
    }
  const cJSON *item;
  cJSON_ArrayForEach(item, h.json) if (!is_known(net, extra, n_extra, item->string)) {
    st = clfer_set_error(CLFER_SHAPE_MISMATCH, "%s: tensor %s in the checkpoint is not part of model %s", path,
                         item->string, net->name);
    goto done;
  }
  /* every entry checked before any is read: a bad file leaves the model as it was */
  int n_all = net->n_params + n_extra;
  if (!(begins = calloc((size_t)n_all + 1, sizeof *begins))) {
    st = clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of host memory", path);
    goto done;
  }
  for (int i = 0; i < n_all && !st; i++) {
    const char *name;
    clfer_tensor_t *t = load_item(net, extra, i, &name);
    if (i >= net->n_params && !cJSON_GetObjectItemCaseSensitive(h.json, name)) {
      if (!extra_optional)
        st = clfer_set_error(CLFER_SHAPE_MISMATCH, "%s: tensor %s is missing from the checkpoint", path, name);
      begins[i] = SIZE_MAX; /* optional and absent */
      continue;
    }
    st = check_entry(path, &h, name, t, &begins[i]);
  }
  /* batch norms' counters: absent (an older or foreign file) counts as 0 */
  if (!st && !(counts = calloc((size_t)net->n_nodes + 1, sizeof *counts)))
    st = clfer_set_error(CLFER_OUT_OF_MEMORY, "%s: out of host memory", path);
  for (int i = 0; i < net->n_nodes && !st; i++) {
    char name[96];
    size_t begin = 0;
    snprintf(name, sizeof name, "%s.num_batches_tracked", net->nodes[i].name);
    if (net->nodes[i].vt == &clfer__batchnorm_layer && cJSON_GetObjectItemCaseSensitive(h.json, name) &&
        !(st = check_counter(path, &h, name, &begin)))
      st = read_counter(path, f, &h, name, begin, &counts[i]);
  }
  for (int i = 0; i < n_all && !st; i++) {
    const char *name;
    clfer_tensor_t *t = load_item(net, extra, i, &name);
    if (begins[i] != SIZE_MAX) st = read_entry(path, f, &h, name, begins[i], t, &host, &host_size);
  }
  if (!st) {
    for (int i = 0; i < net->n_nodes; i++)
      if (net->nodes[i].vt == &clfer__batchnorm_layer) net->nodes[i].batches_tracked = counts[i];
    read_meta(h.json, meta);
  }
done:
  free(host);
  free(begins);
  free(counts);
  cJSON_Delete(h.json);
  fclose(f);
  return st;
}
