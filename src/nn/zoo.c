/* zoo.c — the model zoo, built only through the public builder API a user has. Layer names follow
 * PyTorch's state_dict conventions (nn.Sequential indices, or the Caffe/torchvision names), so a
 * PyTorch model built the same way loads a clfer checkpoint with load_state_dict. */
#include <string.h>
#include <strings.h>

#include "clfer/nn.h"

/* A growing nn.Sequential: layers named "<prefix>.<index>", every module taking an index. */
typedef struct seq {
  clfer_net_t *net;
  const char *prefix;
  int index, last;
  clfer_status st;
} seq_t;

static const char *seq_name(seq_t *s, char *buf, size_t size) {
  snprintf(buf, size, "%s.%d", s->prefix, s->index++);
  return buf;
}

#define SEQ_STEP(s, call)        \
  do {                           \
    if ((s)->st) return;         \
    char name_[64];              \
    seq_name((s), name_, sizeof name_); \
    (s)->st = (call);            \
  } while (0)

static void seq_conv(seq_t *s, int out, int k, int stride, int pad, int groups, int bias) {
  clfer_conv2d_params_t p = {k, k, stride, stride, pad, pad, groups};
  SEQ_STEP(s, clfer_net_conv2d(s->net, name_, s->last, out, &p, bias, &s->last));
}
static void seq_relu(seq_t *s) { SEQ_STEP(s, clfer_net_relu(s->net, name_, s->last, 0.0f, &s->last)); }
static void seq_maxpool(seq_t *s, int k, int stride, int pad, int ceil_mode) {
  clfer_pool2d_params_t p = {k, k, stride, stride, pad, pad, ceil_mode, 1};
  SEQ_STEP(s, clfer_net_maxpool(s->net, name_, s->last, &p, &s->last));
}
static void seq_dropout(seq_t *s, float p) { SEQ_STEP(s, clfer_net_dropout(s->net, name_, s->last, p, &s->last)); }
static void seq_dense(seq_t *s, int out) { SEQ_STEP(s, clfer_net_dense(s->net, name_, s->last, out, 1, &s->last)); }
static void seq_bn(seq_t *s) { SEQ_STEP(s, clfer_net_batchnorm(s->net, name_, s->last, NULL, &s->last)); }

/* Conv 3×3 same-padding + ReLU, `count` times. */
static void seq_conv3_relu(seq_t *s, int out, int count) {
  for (int i = 0; i < count; i++) {
    seq_conv(s, out, 3, 1, 1, 1, 1);
    seq_relu(s);
  }
}

/* Barsoum et al. 2016 (FER+), METHODS.md: VGG13 with dropout after each block, no batch norm. */
static clfer_status build_vgg13_ferplus(clfer_net_t *net, int classes) {
  seq_t f = {net, "features", 0, 0, CLFER_OK};
  static const int widths[4] = {64, 128, 256, 256}, depth[4] = {2, 2, 3, 3};
  for (int b = 0; b < 4; b++) {
    seq_conv3_relu(&f, widths[b], depth[b]);
    seq_maxpool(&f, 2, 2, 0, 0);
    seq_dropout(&f, 0.25f);
  }
  if (f.st) return f.st;
  seq_t c = {net, "classifier", 0, f.last, CLFER_OK};
  seq_dense(&c, 1024), seq_relu(&c), seq_dropout(&c, 0.5f);
  seq_dense(&c, 1024), seq_relu(&c), seq_dropout(&c, 0.5f);
  seq_dense(&c, classes);
  return c.st;
}

/* Li, Deng & Du 2017 (RAF-DB) baseDCNN; the FC-2000 ReLU output is the feature layer (LP loss). */
static clfer_status build_rafdb_basedcnn(clfer_net_t *net, int classes) {
  seq_t f = {net, "features", 0, 0, CLFER_OK};
  seq_conv3_relu(&f, 64, 1), seq_maxpool(&f, 2, 2, 0, 0);
  seq_conv3_relu(&f, 96, 1), seq_maxpool(&f, 2, 2, 0, 0);
  seq_conv3_relu(&f, 128, 2), seq_maxpool(&f, 2, 2, 0, 0);
  seq_conv3_relu(&f, 256, 2);
  if (f.st) return f.st;
  seq_t c = {net, "classifier", 0, f.last, CLFER_OK};
  seq_dense(&c, 2000), seq_relu(&c);
  if (c.st) return c.st;
  int features = c.last;
  seq_dense(&c, classes);
  if (c.st) return c.st;
  return clfer_net_set_features(net, features);
}

/* Ohlsen's FER2013 CNN (METHODS.md). */
static clfer_status build_ohlsen_cnn(clfer_net_t *net, int classes) {
  seq_t f = {net, "features", 0, 0, CLFER_OK};
  static const int widths[4] = {32, 64, 128, 256}, depth[4] = {2, 2, 3, 3};
  for (int b = 0; b < 4; b++) seq_conv3_relu(&f, widths[b], depth[b]), seq_maxpool(&f, 2, 2, 0, 0);
  if (f.st) return f.st;
  seq_t c = {net, "classifier", 0, f.last, CLFER_OK};
  seq_dense(&c, 1024), seq_relu(&c), seq_dropout(&c, 0.5f);
  seq_dense(&c, classes);
  return c.st;
}

/* A compact CNN for the CPU demo: three conv+BN blocks and a small classifier. */
static clfer_status build_fer_small(clfer_net_t *net, int classes) {
  seq_t f = {net, "features", 0, 0, CLFER_OK};
  static const int widths[3] = {16, 32, 64};
  for (int b = 0; b < 3; b++) {
    seq_conv(&f, widths[b], 3, 1, 1, 1, 0);
    seq_bn(&f);
    seq_relu(&f);
    seq_maxpool(&f, 2, 2, 0, 0);
  }
  if (f.st) return f.st;
  seq_t c = {net, "classifier", 0, f.last, CLFER_OK};
  seq_dense(&c, 128), seq_relu(&c), seq_dropout(&c, 0.3f);
  seq_dense(&c, classes);
  return c.st;
}

/* Named (Caffe-style) layers for the BVLC / ONNX-zoo AlexNet and Chatfield's VGG-CNN-M-2048. */
typedef struct named {
  clfer_net_t *net;
  int last;
  clfer_status st;
} named_t;

static void n_conv(named_t *s, const char *name, int out, int k, int stride, int pad, int groups) {
  if (s->st) return;
  clfer_conv2d_params_t p = {k, k, stride, stride, pad, pad, groups};
  s->st = clfer_net_conv2d(s->net, name, s->last, out, &p, 1, &s->last);
}
static void n_relu(named_t *s, const char *name) {
  if (!s->st) s->st = clfer_net_relu(s->net, name, s->last, 0.0f, &s->last);
}
static void n_lrn(named_t *s, const char *name, float k) {
  clfer_lrn_params_t p = {5, 1e-4f, 0.75f, k};
  if (!s->st) s->st = clfer_net_lrn(s->net, name, s->last, &p, &s->last);
}
static void n_pool(named_t *s, const char *name) { /* Caffe: overlapping 3/2, output rounded up */
  clfer_pool2d_params_t p = {3, 3, 2, 2, 0, 0, 1, 1};
  if (!s->st) s->st = clfer_net_maxpool(s->net, name, s->last, &p, &s->last);
}
static void n_fc(named_t *s, const char *name, int out) {
  if (!s->st) s->st = clfer_net_dense(s->net, name, s->last, out, 1, &s->last);
}
static void n_drop(named_t *s, const char *name, float p) {
  if (!s->st) s->st = clfer_net_dropout(s->net, name, s->last, p, &s->last);
}

/* Krizhevsky et al. 2012 as in BVLC Caffe / the ONNX model zoo: LRN and groups=2. */
static clfer_status build_alexnet(clfer_net_t *net, int classes) {
  named_t s = {net, 0, CLFER_OK};
  n_conv(&s, "conv1", 96, 11, 4, 0, 1), n_relu(&s, "relu1"), n_lrn(&s, "norm1", 1.0f), n_pool(&s, "pool1");
  n_conv(&s, "conv2", 256, 5, 1, 2, 2), n_relu(&s, "relu2"), n_lrn(&s, "norm2", 1.0f), n_pool(&s, "pool2");
  n_conv(&s, "conv3", 384, 3, 1, 1, 1), n_relu(&s, "relu3");
  n_conv(&s, "conv4", 384, 3, 1, 1, 2), n_relu(&s, "relu4");
  n_conv(&s, "conv5", 256, 3, 1, 1, 2), n_relu(&s, "relu5"), n_pool(&s, "pool5");
  n_fc(&s, "fc6", 4096), n_relu(&s, "relu6"), n_drop(&s, "drop6", 0.5f);
  n_fc(&s, "fc7", 4096), n_relu(&s, "relu7"), n_drop(&s, "drop7", 0.5f);
  n_fc(&s, "fc8", classes);
  return s.st;
}

/* torchvision.models.alexnet (no LRN, no groups); at 224×224 the adaptive pool is the identity,
 * so it is omitted and other input sizes simply change fc in_features. */
static clfer_status build_alexnet_tv(clfer_net_t *net, int classes) {
  seq_t f = {net, "features", 0, 0, CLFER_OK};
  seq_conv(&f, 64, 11, 4, 2, 1, 1), seq_relu(&f), seq_maxpool(&f, 3, 2, 0, 0);
  seq_conv(&f, 192, 5, 1, 2, 1, 1), seq_relu(&f), seq_maxpool(&f, 3, 2, 0, 0);
  seq_conv(&f, 384, 3, 1, 1, 1, 1), seq_relu(&f);
  seq_conv(&f, 256, 3, 1, 1, 1, 1), seq_relu(&f);
  seq_conv(&f, 256, 3, 1, 1, 1, 1), seq_relu(&f), seq_maxpool(&f, 3, 2, 0, 0);
  if (f.st) return f.st;
  seq_t c = {net, "classifier", 0, f.last, CLFER_OK};
  seq_dropout(&c, 0.5f), seq_dense(&c, 4096), seq_relu(&c);
  seq_dropout(&c, 0.5f), seq_dense(&c, 4096), seq_relu(&c);
  seq_dense(&c, classes);
  return c.st;
}

/* Chatfield et al. 2014, "Return of the devil in the details": VGG-CNN-M-2048. */
static clfer_status build_vgg_cnn_m_2048(clfer_net_t *net, int classes) {
  named_t s = {net, 0, CLFER_OK};
  n_conv(&s, "conv1", 96, 7, 2, 0, 1), n_relu(&s, "relu1"), n_lrn(&s, "norm1", 2.0f), n_pool(&s, "pool1");
  n_conv(&s, "conv2", 256, 5, 2, 1, 1), n_relu(&s, "relu2"), n_lrn(&s, "norm2", 2.0f), n_pool(&s, "pool2");
  n_conv(&s, "conv3", 512, 3, 1, 1, 1), n_relu(&s, "relu3");
  n_conv(&s, "conv4", 512, 3, 1, 1, 1), n_relu(&s, "relu4");
  n_conv(&s, "conv5", 512, 3, 1, 1, 1), n_relu(&s, "relu5"), n_pool(&s, "pool5");
  n_fc(&s, "fc6", 4096), n_relu(&s, "relu6"), n_drop(&s, "drop6", 0.5f);
  n_fc(&s, "fc7", 2048), n_relu(&s, "relu7"), n_drop(&s, "drop7", 0.5f);
  n_fc(&s, "fc8", classes);
  return s.st;
}

/* torchvision ResNet-18: BasicBlocks with batch norm, 1×1 downsample on stride or width change. */
static clfer_status resnet_block(clfer_net_t *net, const char *prefix, int in, int width, int stride, int downsample,
                                 int *out) {
  char name[64];
  clfer_conv2d_params_t c3 = {3, 3, stride, stride, 1, 1, 1}, c3s1 = {3, 3, 1, 1, 1, 1, 1},
                        c1 = {1, 1, stride, stride, 0, 0, 1};
  int x, shortcut = in;
  clfer_status st;
#define RB(call)                   \
  if ((st = (call))) return st;
  snprintf(name, sizeof name, "%s.conv1", prefix);
  RB(clfer_net_conv2d(net, name, in, width, &c3, 0, &x));
  snprintf(name, sizeof name, "%s.bn1", prefix);
  RB(clfer_net_batchnorm(net, name, x, NULL, &x));
  snprintf(name, sizeof name, "%s.relu1", prefix);
  RB(clfer_net_relu(net, name, x, 0.0f, &x));
  snprintf(name, sizeof name, "%s.conv2", prefix);
  RB(clfer_net_conv2d(net, name, x, width, &c3s1, 0, &x));
  snprintf(name, sizeof name, "%s.bn2", prefix);
  RB(clfer_net_batchnorm(net, name, x, NULL, &x));
  if (downsample) {
    snprintf(name, sizeof name, "%s.downsample.0", prefix);
    RB(clfer_net_conv2d(net, name, in, width, &c1, 0, &shortcut));
    snprintf(name, sizeof name, "%s.downsample.1", prefix);
    RB(clfer_net_batchnorm(net, name, shortcut, NULL, &shortcut));
  }
  snprintf(name, sizeof name, "%s.add", prefix);
  RB(clfer_net_add(net, name, x, shortcut, &x));
  snprintf(name, sizeof name, "%s.relu2", prefix);
  RB(clfer_net_relu(net, name, x, 0.0f, out));
#undef RB
  return CLFER_OK;
}

static clfer_status build_resnet18(clfer_net_t *net, int classes) {
  clfer_conv2d_params_t stem = {7, 7, 2, 2, 3, 3, 1};
  clfer_pool2d_params_t pool = {3, 3, 2, 2, 1, 1, 0, 1};
  int x;
  clfer_status st;
  if ((st = clfer_net_conv2d(net, "conv1", 0, 64, &stem, 0, &x)) || (st = clfer_net_batchnorm(net, "bn1", x, NULL, &x)) ||
      (st = clfer_net_relu(net, "relu", x, 0.0f, &x)) || (st = clfer_net_maxpool(net, "maxpool", x, &pool, &x)))
    return st;
  static const int widths[4] = {64, 128, 256, 512};
  int in_width = 64;
  for (int l = 0; l < 4; l++)
    for (int b = 0; b < 2; b++) {
      char prefix[32];
      snprintf(prefix, sizeof prefix, "layer%d.%d", l + 1, b);
      int stride = (l > 0 && b == 0) ? 2 : 1;
      if ((st = resnet_block(net, prefix, x, widths[l], stride, stride != 1 || in_width != widths[l], &x))) return st;
      in_width = widths[l];
    }
  if ((st = clfer_net_global_avgpool(net, "avgpool", x, &x))) return st;
  if ((st = clfer_net_set_features(net, x))) return st;
  return clfer_net_dense(net, "fc", x, classes, 1, &x);
}

typedef struct zoo_builder {
  clfer_zoo_entry_t entry;
  clfer_status (*build)(clfer_net_t *net, int classes);
} zoo_builder_t;

static const zoo_builder_t builders[] = {
    {{"vgg13_ferplus", "VGG13 of Barsoum et al. 2016 (FER+), 64x64 gray", 1, 64, 64, 8}, build_vgg13_ferplus},
    {{"rafdb_basedcnn", "baseDCNN of Li et al. 2017 (RAF-DB), FC-2000 features", 3, 100, 100, 7}, build_rafdb_basedcnn},
    {{"ohlsen_cnn", "FER2013 CNN of Ohlsen, 48x48 gray", 1, 48, 48, 7}, build_ohlsen_cnn},
    {{"alexnet", "AlexNet, BVLC Caffe / ONNX-zoo form (LRN, groups=2)", 3, 227, 227, 1000}, build_alexnet},
    {{"alexnet_tv", "AlexNet, torchvision form", 3, 224, 224, 1000}, build_alexnet_tv},
    {{"vgg_cnn_m_2048", "VGG-CNN-M-2048 of Chatfield et al. 2014", 3, 224, 224, 1000}, build_vgg_cnn_m_2048},
    {{"resnet18", "ResNet-18, torchvision layout with batch norm", 3, 224, 224, 1000}, build_resnet18},
    {{"fer_small", "compact CNN for the CPU demo, 48x48 gray", 1, 48, 48, 8}, build_fer_small},
};
enum { N_BUILDERS = sizeof builders / sizeof builders[0] };

const clfer_zoo_entry_t *clfer_zoo_list(void) {
  static clfer_zoo_entry_t list[N_BUILDERS + 1];
  for (int i = 0; i < N_BUILDERS; i++) list[i] = builders[i].entry;
  memset(&list[N_BUILDERS], 0, sizeof list[N_BUILDERS]);
  return list;
}

clfer_status clfer_zoo_build(clfer_runtime_t *rt, const char *name, int channels, int height, int width, int classes,
                             clfer_net_t **out) {
  *out = NULL;
  for (int i = 0; i < N_BUILDERS; i++) {
    const clfer_zoo_entry_t *e = &builders[i].entry;
    if (strcasecmp(name, e->name) != 0) continue;
    clfer_net_t *net;
    clfer_status st = clfer_net_create(rt, e->name, channels > 0 ? channels : e->default_channels,
                                       height > 0 ? height : e->default_height, width > 0 ? width : e->default_width, &net);
    if (st) return st;
    if ((st = builders[i].build(net, classes > 0 ? classes : e->default_classes))) {
      clfer_net_destroy(net);
      return clfer_wrap_error(st, "building %s: ", e->name);
    }
    char desc[256];
    int in[3];
    clfer_net_input_shape(net, in);
    snprintf(desc, sizeof desc, "{\"zoo\":\"%s\",\"channels\":%d,\"height\":%d,\"width\":%d,\"classes\":%d}",
             e->name, in[0], in[1], in[2], classes > 0 ? classes : e->default_classes);
    clfer_net_set_description(net, desc);
    *out = net;
    return CLFER_OK;
  }
  char known[512] = "";
  for (int i = 0; i < N_BUILDERS; i++) {
    strncat(known, builders[i].entry.name, sizeof known - strlen(known) - 1);
    if (i + 1 < N_BUILDERS) strncat(known, ", ", sizeof known - strlen(known) - 1);
  }
  return clfer_set_error(CLFER_NOT_FOUND, "no model '%s' in the zoo (known: %s)", name, known);
}
