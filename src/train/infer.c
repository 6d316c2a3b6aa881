/* infer.c — a trained model ready for use: rebuilt from its checkpoint's metadata, with the
 * class names and pre-processing of its recipe, run in eval mode over host batches. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clfer/batch.h"
#include "clfer/dataset.h"
#include "clfer/infer.h"
#include "clfer/labels.h"
#include "clfer/metrics.h"
#include "clfer/onnx.h"

struct clfer_model {
  clfer_runtime_t *rt;
  clfer_net_t *net;
  char path[1024];
  int c, h, w, k;
  char names[CLFER_MAX_CLASSES][64];
  const char *name_ptrs[CLFER_MAX_CLASSES];
  char preprocess[32];
  clfer_preproc_t preproc;
  int eval_resize; /* the recipe's augment.resize: images resized to it, then the centre crop (0: none) */
  int fer_data;    /* trained on FER's faces kept as stored (1), on image files resized on load (0), unknown (−1) */
  clfer_tensor_t x; /* input batch, kept for the next call of the same size */
};

clfer_status clfer_preproc_from_name(const char *name, int out_c, int out_h, int out_w, clfer_preproc_t *out) {
  clfer_preproc_t p;
  memset(&p, 0, sizeof p);
  if (!name) name = "";
  if (strcmp(name, "ferplus") == 0) {
    p = clfer_preproc_ferplus(out_h, out_w);
  } else if (strcmp(name, "minmax") == 0 || strcmp(name, "imagenet") == 0 || strcmp(name, "unit") == 0 ||
             strcmp(name, "none") == 0 || !*name) {
    /* the same as the training loop's preproc_for: v/255, optionally stretched, optionally mean/std */
    p.norm = CLFER_NORM_LINEAR;
    p.scale = 1.0f / 255.0f;
    for (int c = 0; c < 3; c++) p.mean[c] = 0.0f, p.std[c] = 1.0f;
    if (strcmp(name, "minmax") == 0) p.minmax_stretch = 1;
    if (strcmp(name, "imagenet") == 0) {
      static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
      p.minmax_stretch = 1;
      memcpy(p.mean, mean, sizeof mean);
      memcpy(p.std, std, sizeof std);
    }
  } else {
    return clfer_set_error(CLFER_INVALID_ARGUMENT,
                           "unknown pre-processing '%s' (known: ferplus, minmax, imagenet, unit)", name);
  }
  p.out_c = out_c, p.out_h = out_h, p.out_w = out_w;
  *out = p;
  return CLFER_OK;
}

static clfer_status set_classes(clfer_model_t *m, const char *list) {
  int n = 0;
  if (list && *list) {
    const char *p = list;
    while (n < CLFER_MAX_CLASSES) {
      size_t len = strcspn(p, ",");
      snprintf(m->names[n], sizeof m->names[n], "%.*s", (int)len, p);
      n++;
      if (!p[len]) break;
      p += len + 1;
    }
    if (n != m->k)
      return clfer_set_error(CLFER_CORRUPT, "%s: \"clfer.classes\" names %d classes but the model has %d outputs",
                             m->path, n, m->k);
  } else {
    for (int i = 0; i < m->k && i < CLFER_MAX_CLASSES; i++) snprintf(m->names[i], sizeof m->names[i], "%d", i);
  }
  for (int i = 0; i < m->k; i++) m->name_ptrs[i] = m->names[i];
  return CLFER_OK;
}

clfer_status clfer_model_load(clfer_runtime_t *rt, const char *path, clfer_model_t **out) {
  *out = NULL;
  clfer_model_t *m = calloc(1, sizeof *m);
  if (!m) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory loading %s", path);
  m->rt = rt;
  snprintf(m->path, sizeof m->path, "%s", path);
  clfer_meta_t meta = {0};
  /* the zoo model "clfer.model" names, else the layers of "clfer.graph"; optimizer state skipped */
  clfer_status st = clfer_net_from_checkpoint(rt, path, &m->net, &meta);
  if (st) goto fail;
  int in[3];
  clfer_net_input_shape(m->net, in);
  m->c = in[0], m->h = in[1], m->w = in[2];
  int nd = 1, shape[3] = {0, 1, 1}, out_node = clfer_net_output_node(m->net);
  clfer_net_node_shape(m->net, out_node, &nd, shape);
  m->k = nd == 1 ? shape[0] : shape[0] * shape[1] * shape[2];
  if (m->k < 1 || m->k > CLFER_MAX_CLASSES) {
    st = clfer_set_error(CLFER_UNSUPPORTED, "%s: the model has %d outputs (1..%d classes supported)", path, m->k,
                         CLFER_MAX_CLASSES);
    goto fail;
  }
  if ((st = set_classes(m, clfer_meta_get(&meta, "clfer.classes")))) goto fail;
  const char *format = clfer_meta_get(&meta, "clfer.data_format");
  m->fer_data = !format ? -1 : strcmp(format, "ferplus") == 0 || strcmp(format, "fer2013") == 0 ||
                                   strcmp(format, "ferplus_folders") == 0;
  const char *resize = clfer_meta_get(&meta, "clfer.eval_resize");
  if (resize) {
    char *end;
    long v = strtol(resize, &end, 10);
    if (*end || v < (m->h > m->w ? m->h : m->w) || v > 8192) {
      st = clfer_set_error(CLFER_CORRUPT, "%s: \"clfer.eval_resize\" is '%s' for a %dx%d input", path, resize, m->h, m->w);
      goto fail;
    }
    m->eval_resize = (int)v;
  }
  const char *pre = clfer_meta_get(&meta, "clfer.preprocess");
  snprintf(m->preprocess, sizeof m->preprocess, "%s", pre ? pre : m->c == 1 ? "ferplus" : "unit");
  if ((st = clfer_preproc_from_name(m->preprocess, m->c, m->h, m->w, &m->preproc))) {
    clfer_wrap_error(st, "%s: ", path);
    goto fail;
  }
  clfer_meta_free(&meta);
  *out = m;
  return CLFER_OK;
fail:
  clfer_meta_free(&meta);
  clfer_model_destroy(m);
  return st;
}

void clfer_model_destroy(clfer_model_t *m) {
  if (!m) return;
  clfer_tensor_release(&m->x);
  clfer_net_destroy(m->net);
  free(m);
}

clfer_net_t *clfer_model_net(const clfer_model_t *m) { return m->net; }
const char *clfer_model_path(const clfer_model_t *m) { return m->path; }
int clfer_model_classes(const clfer_model_t *m) { return m->k; }
const char *const *clfer_model_class_names(const clfer_model_t *m) { return m->name_ptrs; }
void clfer_model_input_shape(const clfer_model_t *m, int shape[3]) {
  shape[0] = m->c, shape[1] = m->h, shape[2] = m->w;
}
const char *clfer_model_preprocess_name(const clfer_model_t *m) { return m->preprocess; }
const clfer_preproc_t *clfer_model_preproc(const clfer_model_t *m) { return &m->preproc; }

clfer_status clfer_model_set_preprocess(clfer_model_t *m, const char *name) {
  clfer_preproc_t p;
  clfer_status st = clfer_preproc_from_name(name, m->c, m->h, m->w, &p);
  if (st) return st;
  m->preproc = p;
  snprintf(m->preprocess, sizeof m->preprocess, "%s", name);
  return CLFER_OK;
}

/* The evaluation's deterministic geometry: the centre crop after augment.resize, else the plain
 * (corners-on-corners) resample. */
static clfer_augment_config_t eval_geometry(const clfer_model_t *m) {
  return m->eval_resize > 0 ? clfer_augment_config_crop(m->eval_resize, 1, 0) : clfer_augment_config_ferplus();
}

clfer_status clfer_model_prepare(const clfer_model_t *m, const clfer_image_t *img, float *out) {
  /* the size the training data had when the evaluation matrix was applied: FER faces as stored,
   * image files resized on load (to augment.resize when set); unknown: downscale only */
  int h = img->height, w = img->width, load_h = m->eval_resize > 0 ? m->eval_resize : m->h,
      load_w = m->eval_resize > 0 ? m->eval_resize : m->w;
  if (m->fer_data == 0 || (m->fer_data < 0 && (m->eval_resize > 0 || h > m->h || w > m->w))) h = load_h, w = load_w;
  uint8_t *px = malloc((size_t)h * w * m->c);
  if (!px) return clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory preparing an image");
  clfer_status st = clfer_image_convert(img, w, h, m->c, px);
  if (!st) {
    float mat[6];
    clfer_augment_config_t geometry = eval_geometry(m);
    st = clfer_augment_base_matrix(&geometry, h, w, m->h, m->w, mat);
    if (!st) st = clfer_preprocess_host(px, h, w, m->c, mat, &m->preproc, out);
  }
  free(px);
  return st;
}

clfer_status clfer_model_find_layer(const clfer_model_t *m, const char *name, int *node) {
  *node = clfer_net_find(m->net, name);
  if (*node > 0) return CLFER_OK;
  char known[1024] = "";
  for (int i = 1; i < clfer_net_node_count(m->net); i++) {
    const char *n = clfer_net_node_name(m->net, i);
    if (strlen(known) + strlen(n) + 3 >= sizeof known) {
      strcat(known, "...");
      break;
    }
    if (i > 1) strcat(known, ", ");
    strcat(known, n);
  }
  return clfer_set_error(CLFER_NOT_FOUND, "no layer '%s' in %s (%s; layers: %s)", name, clfer_net_name(m->net),
                         m->path, known);
}

int clfer_model_node_size(const clfer_model_t *m, int node) {
  int nd = 1, shape[3] = {0, 1, 1};
  clfer_net_node_shape(m->net, node, &nd, shape);
  return nd == 1 ? shape[0] : shape[0] * shape[1] * shape[2];
}

clfer_status clfer_model_run(clfer_model_t *m, const float *inputs, int n, float *logits, int feature_node,
                             float *features) {
  if (n < 1) return CLFER_OK;
  clfer_status st;
  if (!m->x.buf || m->x.shape[0] != n) {
    clfer_tensor_release(&m->x);
    int shape[4] = {n, m->c, m->h, m->w};
    if ((st = clfer_tensor_create(m->rt, 4, shape, &m->x))) return st;
  }
  /* eval-mode forward frees what later layers no longer read, except the features node */
  if (feature_node >= 0 && (st = clfer_net_set_features(m->net, feature_node))) return st;
  const clfer_tensor_t *y;
  if ((st = clfer_tensor_upload(&m->x, inputs)) || (st = clfer_net_forward(m->net, &m->x, 0, 0, &y))) return st;
  if (logits && (st = clfer_tensor_download(y, logits))) return st;
  if (feature_node >= 0) {
    const clfer_tensor_t *f = clfer_net_activation(m->net, feature_node);
    if (!f)
      return clfer_set_error(CLFER_INTERNAL, "layer %s kept no output", clfer_net_node_name(m->net, feature_node));
    if ((st = clfer_tensor_download(f, features))) return st;
  }
  return CLFER_OK;
}

void clfer_softmax_rows(const float *logits, int n, int k, float *probs) {
  for (int i = 0; i < n; i++) {
    const float *z = logits + (size_t)i * k;
    float *p = probs + (size_t)i * k;
    double mx = z[0], sum = 0;
    for (int c = 1; c < k; c++) mx = fmax(mx, z[c]);
    for (int c = 0; c < k; c++) sum += exp(z[c] - mx);
    for (int c = 0; c < k; c++) p[c] = (float)(exp(z[c] - mx) / sum);
  }
}

int clfer_argmax(const float *v, int k) {
  int best = 0;
  for (int i = 1; i < k; i++)
    if (v[i] > v[best]) best = i;
  return best;
}

/* ---- datasets ---- */

clfer_status clfer_model_read_dataset(const clfer_model_t *m, const char *format, const char *dir, int majority,
                                      clfer_store_t **out) {
  /* the training loop's reader, so evaluation sees exactly the data training saw */
  int h = m->eval_resize > 0 ? m->eval_resize : m->h, w = m->eval_resize > 0 ? m->eval_resize : m->w;
  clfer_dataset_spec_t spec = {.format = format, .dir = dir, .channels = m->c, .height = h, .width = w,
                               .class_names = (const char *const *)m->name_ptrs, .num_classes = m->k,
                               .ferplus_mode = majority ? (int)CLFER_FERPLUS_MAJORITY : -1};
  *out = NULL;
  clfer_status st = clfer_dataset_read(&spec, out);
  if (st) return st;
  int fer = strcmp(format, "ferplus") == 0 || strcmp(format, "ferplus_folders") == 0;
  if (fer && !majority && (*out)->vote_width >= 10) {
    clfer_store_destroy(*out);
    *out = NULL;
    return clfer_set_error(CLFER_INVALID_ARGUMENT,
                           "%s: FER+ data has crowd votes and no hard labels; evaluate with majority labels", dir);
  }
  return CLFER_OK;
}

void clfer_model_truth(const clfer_store_t *s, int classes, int majority, int *truth) {
  for (int i = 0; i < s->n; i++) {
    truth[i] = s->labels[i] >= 0 && s->labels[i] < classes ? s->labels[i] : -1;
    if (!majority || !s->votes || s->vote_width < classes) continue;
    const float *v = s->votes + (size_t)i * s->vote_width;
    int best = clfer_argmax(v, classes);
    truth[i] = v[best] > 0 ? best : truth[i];
  }
}

clfer_status clfer_model_run_store(clfer_model_t *m, const clfer_store_t *s, const int *ids, int n, int batch_size,
                                   int feature_node, clfer_batch_fn fn, void *ctx) {
  if (n < 1) return CLFER_OK;
  if (!s->images) return clfer_set_error(CLFER_INVALID_ARGUMENT, "the data has no images (a labels-only store)");
  clfer_batcher_options_t bo = clfer_batcher_options_default();
  bo.batch_size = batch_size > 0 ? batch_size : 64;
  bo.drop_last = 0, bo.shuffle = 0, bo.augment = 0;
  bo.preproc = m->preproc;
  bo.augment_config = eval_geometry(m);
  bo.threads = clfer_batcher_default_threads(clfer_runtime_device(m->rt)->is_cpu);
  bo.subset = ids;
  bo.subset_size = n;
  clfer_batcher_t *b = NULL;
  clfer_status st = clfer_batcher_create(s->images, s->n, s->height, s->width, s->channels, NULL, 0, &bo, &b);
  if (st) return st;
  int fsize = feature_node >= 0 ? clfer_model_node_size(m, feature_node) : 0;
  float *logits = malloc((size_t)bo.batch_size * m->k * sizeof *logits);
  float *feats = fsize ? malloc((size_t)bo.batch_size * fsize * sizeof *feats) : NULL;
  if (!logits || (fsize && !feats)) {
    st = clfer_set_error(CLFER_OUT_OF_MEMORY, "out of host memory for %d outputs", bo.batch_size);
    goto done;
  }
  if ((st = clfer_batcher_start_epoch(b, 0))) goto done;
  int seen = 0;
  for (;;) {
    clfer_batch_t batch;
    if ((st = clfer_batcher_next(b, &batch)) || batch.n == 0) break;
    for (int i = 0; i < batch.n; i++)
      if (seen + i >= n || batch.sample_ids[i] != ids[seen + i]) {
        st = clfer_set_error(CLFER_INTERNAL, "batcher returned samples out of order");
        goto done;
      }
    if ((st = clfer_model_run(m, batch.data, batch.n, logits, feature_node, feats))) break;
    if ((st = fn(ctx, ids + seen, batch.n, logits, feats))) break;
    seen += batch.n;
  }
done:
  free(logits);
  free(feats);
  clfer_batcher_destroy(b);
  return st;
}
