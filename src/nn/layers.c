/* layers.c — one function table per layer type: shape inference and parameter creation (setup),
 * forward, backward and FLOP count, each a thin wrapper over the stateless ops in src/ops/. */
#include <string.h>

#include "net_internal.h"
#include "ops/layer_ops_util.h"

static clfer_status shape_error(const clfer__node_t *n, const char *why) {
  return clfer_set_error(CLFER_SHAPE_MISMATCH, "layer %s (%s): %s", n->name, n->vt->type, why);
}

static const clfer__node_t *in0(const clfer_net_t *net, const clfer__node_t *n) { return &net->nodes[n->inputs[0]]; }

/* Fits an int: add_node rejects a node with more values (check_output_size in net.c). */
static int in_features(const clfer__node_t *src) {
  int f = 1;
  for (int i = 0; i < src->out_ndim; i++) f *= src->out_shape[i];
  return f;
}

/* [N, features] view of a node's 2-D or 4-D tensor. */
static clfer_status as_matrix(const clfer_tensor_t *t, clfer_tensor_t *out) {
  int shape[2] = {t->shape[0], (int)(clfer_tensor_numel(t) / (size_t)t->shape[0])};
  return clfer_tensor_reshape(t, 2, shape, out);
}

static clfer_status same_shape_setup(clfer_net_t *net, clfer__node_t *n) {
  const clfer__node_t *src = in0(net, n);
  n->out_ndim = src->out_ndim;
  memcpy(n->out_shape, src->out_shape, sizeof n->out_shape);
  return CLFER_OK;
}

static clfer_status need_image_input(clfer_net_t *net, clfer__node_t *n) {
  if (in0(net, n)->out_ndim != 3) return shape_error(n, "needs a [C, H, W] input, got a flat one");
  return CLFER_OK;
}

/* ---- input ---- */

static clfer_status input_setup(clfer_net_t *net, clfer__node_t *n) { return CLFER_OK; }
static clfer_status input_forward(clfer_net_t *net, clfer__node_t *n, int train) { return CLFER_OK; }
const clfer__layer_vtable_t clfer__input_layer = {"input", input_setup, input_forward, NULL, 1, NULL};

/* ---- conv2d ---- */

static clfer_status conv_setup(clfer_net_t *net, clfer__node_t *n) {
  clfer_status st = need_image_input(net, n);
  if (st) return st;
  const clfer__node_t *src = in0(net, n);
  int c = src->out_shape[0], g = n->conv.groups;
  const clfer_conv2d_params_t *p = &n->conv;
  char why[160];
  if (n->units < 1 || p->kernel_h < 1 || p->kernel_w < 1 || p->pad_h < 0 || p->pad_w < 0) {
    snprintf(why, sizeof why,
             "%d output channels, a %dx%d kernel and pad %dx%d: need channels and kernel >= 1, pad >= 0", n->units,
             p->kernel_h, p->kernel_w, p->pad_h, p->pad_w);
    return shape_error(n, why);
  }
  if (c % g || n->units % g) {
    snprintf(why, sizeof why, "%d input and %d output channels do not divide into %d groups", c, n->units, g);
    return shape_error(n, why);
  }
  int oh = clfer_conv2d_out_size(src->out_shape[1], n->conv.kernel_h, n->conv.stride_h, n->conv.pad_h);
  int ow = clfer_conv2d_out_size(src->out_shape[2], n->conv.kernel_w, n->conv.stride_w, n->conv.pad_w);
  if (oh <= 0 || ow <= 0) {
    snprintf(why, sizeof why, "a %dx%d kernel does not fit its %dx%d input", n->conv.kernel_h, n->conv.kernel_w,
             src->out_shape[1], src->out_shape[2]);
    return shape_error(n, why);
  }
  n->out_ndim = 3;
  n->out_shape[0] = n->units, n->out_shape[1] = oh, n->out_shape[2] = ow;
  int wshape[4] = {n->units, c / g, n->conv.kernel_h, n->conv.kernel_w};
  if ((st = clfer__net_add_param(net, n, "weight", 4, wshape, 0))) return st;
  if (n->has_bias) st = clfer__net_add_param(net, n, "bias", 1, &n->units, 0);
  return st;
}

static clfer_status conv_forward(clfer_net_t *net, clfer__node_t *n, int train) {
  const clfer_tensor_t *b = n->has_bias ? &clfer__node_param(net, n, 1)->value : NULL;
  if (n->fused_relu) /* the reading ReLU's pass, fused (net.c) */
    return clfer_conv2d_relu_forward(net->rt, &n->conv, n->fused_slope, &in0(net, n)->out,
                                     &clfer__node_param(net, n, 0)->value, b, &n->out);
  return clfer_conv2d_forward(net->rt, &n->conv, &in0(net, n)->out, &clfer__node_param(net, n, 0)->value, b, &n->out);
}

static clfer_status conv_backward(clfer_net_t *net, clfer__node_t *n) {
  clfer_tensor_t dx;
  int want_dx = n->inputs[0] != 0; /* no gradient for the network input */
  clfer_status st = want_dx ? clfer__grad_begin(net, n, 0, &dx) : CLFER_OK;
  if (st) return st;
  const clfer_tensor_t *x = &in0(net, n)->out, *w = &clfer__node_param(net, n, 0)->value;
  clfer_tensor_t *dw = &clfer__node_param(net, n, 0)->grad, *db = n->has_bias ? &clfer__node_param(net, n, 1)->grad : NULL;
  /* dx_through_relu: x is a ReLU's output and dx goes on through it (net.c) */
  if ((st = want_dx && n->dx_through_relu
                ? clfer_conv2d_backward_through_relu(net->rt, &n->conv, n->through_slope, x, &n->grad, w, &dx, dw, db)
                : clfer_conv2d_backward(net->rt, &n->conv, x, &n->grad, w, want_dx ? &dx : NULL, dw, db))) {
    if (want_dx) clfer_tensor_release(&dx); /* a view of the input's gradient is left as it is */
    return st;
  }
  return want_dx ? clfer__grad_commit(net, n, 0, &dx) : CLFER_OK;
}

static double conv_flops(const clfer_net_t *net, const clfer__node_t *n) {
  const clfer__node_t *src = in0(net, n);
  return 2.0 * n->out_shape[0] * n->out_shape[1] * n->out_shape[2] * (src->out_shape[0] / n->conv.groups) *
         n->conv.kernel_h * n->conv.kernel_w;
}
const clfer__layer_vtable_t clfer__conv2d_layer = {"conv2d", conv_setup, conv_forward, conv_backward, 0, conv_flops};

/* ---- dense ---- */

static clfer_status dense_setup(clfer_net_t *net, clfer__node_t *n) {
  if (n->units < 1) return shape_error(n, "needs at least one output feature");
  int fin = in_features(in0(net, n));
  n->out_ndim = 1;
  n->out_shape[0] = n->units;
  int wshape[2] = {n->units, fin};
  clfer_status st = clfer__net_add_param(net, n, "weight", 2, wshape, 0);
  if (!st && n->has_bias) st = clfer__net_add_param(net, n, "bias", 1, &n->units, 0);
  return st;
}

static clfer_status dense_forward(clfer_net_t *net, clfer__node_t *n, int train) {
  clfer_tensor_t x;
  clfer_status st = as_matrix(&in0(net, n)->out, &x);
  if (st) return st;
  return clfer_dense_forward(net->rt, &x, &clfer__node_param(net, n, 0)->value,
                             n->has_bias ? &clfer__node_param(net, n, 1)->value : NULL, &n->out);
}

static clfer_status dense_backward(clfer_net_t *net, clfer__node_t *n) {
  clfer_tensor_t x, dx, dx2;
  clfer_status st = as_matrix(&in0(net, n)->out, &x);
  if (!st)
    st = clfer_dense_backward_weights(net->rt, &x, &n->grad, &clfer__node_param(net, n, 0)->grad,
                                      n->has_bias ? &clfer__node_param(net, n, 1)->grad : NULL);
  if (st || n->inputs[0] == 0) return st;
  if ((st = clfer__grad_begin(net, n, 0, &dx))) return st;
  if ((st = as_matrix(&dx, &dx2))) return st;
  if ((st = clfer_dense_backward_data(net->rt, &n->grad, &clfer__node_param(net, n, 0)->value, &dx2))) return st;
  return clfer__grad_commit(net, n, 0, &dx);
}

static double dense_flops(const clfer_net_t *net, const clfer__node_t *n) {
  return 2.0 * n->units * in_features(in0(net, n));
}
const clfer__layer_vtable_t clfer__dense_layer = {"dense", dense_setup, dense_forward, dense_backward, 0, dense_flops};

/* ---- relu ---- */

static clfer_status relu_forward(clfer_net_t *net, clfer__node_t *n, int train) {
  return clfer_relu_forward(net->rt, n->slope, &in0(net, n)->out, &n->out);
}
static clfer_status relu_backward(clfer_net_t *net, clfer__node_t *n) {
  clfer__node_t *src = clfer__input(net, n, 0);
  if (n->out_is_input && src->vt == &clfer__batchnorm_layer) {
    /* a batch norm fused with this ReLU masks the gradient itself: it takes this one as it is
     * (its only reader is this ReLU, so it has none yet) */
    src->grad = n->grad, src->has_grad = 1;
    n->grad = (clfer_tensor_t){0}, n->has_grad = 0;
    return CLFER_OK;
  }
  if (n->grad_premasked) { /* the conv reading this ReLU carried its gradient through it (net.c) */
    if (src->has_grad) return clfer_add(net->rt, &src->grad, &n->grad, &src->grad);
    src->grad = n->grad, src->has_grad = 1;
    n->grad = (clfer_tensor_t){0}, n->has_grad = 0;
    return CLFER_OK;
  }
  clfer_tensor_t dx;
  clfer_status st = clfer__grad_begin(net, n, 0, &dx);
  if (!st) st = clfer_relu_backward(net->rt, n->slope, &n->out, &n->grad, &dx);
  return st ? st : clfer__grad_commit(net, n, 0, &dx);
}
static double numel_flops(const clfer_net_t *net, const clfer__node_t *n) { return in_features(n); }
const clfer__layer_vtable_t clfer__relu_layer = {"relu", same_shape_setup, relu_forward, relu_backward, 0, numel_flops};

/* ---- pooling ---- */

static clfer_status pool_setup(clfer_net_t *net, clfer__node_t *n) {
  clfer_status st = need_image_input(net, n);
  if (st) return st;
  const clfer__node_t *src = in0(net, n);
  const clfer_pool2d_params_t *p = &n->pool;
  int oh = clfer_pool2d_out_size(src->out_shape[1], p->kernel_h, p->stride_h, p->pad_h, p->ceil_mode);
  int ow = clfer_pool2d_out_size(src->out_shape[2], p->kernel_w, p->stride_w, p->pad_w, p->ceil_mode);
  if (oh <= 0 || ow <= 0) return shape_error(n, "the pooling window does not fit its input");
  n->out_ndim = 3;
  n->out_shape[0] = src->out_shape[0], n->out_shape[1] = oh, n->out_shape[2] = ow;
  return CLFER_OK;
}

static clfer_status maxpool_forward(clfer_net_t *net, clfer__node_t *n, int train) {
  clfer_tensor_t *argmax = NULL;
  if (train) {
    clfer_status st = clfer_tensor_create(net->rt, n->out.ndim, n->out.shape, &n->aux[0]);
    if (st) return st;
    argmax = &n->aux[0];
  }
  return clfer_maxpool2d_forward(net->rt, &n->pool, &in0(net, n)->out, &n->out, argmax);
}
static clfer_status maxpool_backward(clfer_net_t *net, clfer__node_t *n) {
  clfer_tensor_t dx;
  clfer_status st = clfer__grad_begin(net, n, 0, &dx);
  /* dx_through_relu: x is a ReLU's output and dx goes on through it (net.c) */
  if (!st)
    st = n->dx_through_relu ? clfer_maxpool2d_backward_through_relu(net->rt, &n->pool, n->through_slope, &n->out,
                                                                    &n->grad, &n->aux[0], &dx)
                            : clfer_maxpool2d_backward(net->rt, &n->pool, &n->grad, &n->aux[0], &dx);
  return st ? st : clfer__grad_commit(net, n, 0, &dx);
}
static double pool_flops(const clfer_net_t *net, const clfer__node_t *n) {
  return (double)in_features(n) * n->pool.kernel_h * n->pool.kernel_w;
}
const clfer__layer_vtable_t clfer__maxpool_layer = {"maxpool", pool_setup, maxpool_forward, maxpool_backward, 0,
                                                    pool_flops};

static clfer_status avgpool_forward(clfer_net_t *net, clfer__node_t *n, int train) {
  return clfer_avgpool2d_forward(net->rt, &n->pool, &in0(net, n)->out, &n->out);
}
static clfer_status avgpool_backward(clfer_net_t *net, clfer__node_t *n) {
  clfer_tensor_t dx;
  clfer_status st = clfer__grad_begin(net, n, 0, &dx);
  if (!st) st = clfer_avgpool2d_backward(net->rt, &n->pool, &n->grad, &dx);
  return st ? st : clfer__grad_commit(net, n, 0, &dx);
}
const clfer__layer_vtable_t clfer__avgpool_layer = {"avgpool", pool_setup, avgpool_forward, avgpool_backward, 0,
                                                    pool_flops};

static clfer_status gap_setup(clfer_net_t *net, clfer__node_t *n) {
  clfer_status st = need_image_input(net, n);
  if (st) return st;
  n->out_ndim = 3;
  n->out_shape[0] = in0(net, n)->out_shape[0], n->out_shape[1] = 1, n->out_shape[2] = 1;
  return CLFER_OK;
}
static clfer_status gap_forward(clfer_net_t *net, clfer__node_t *n, int train) {
  return clfer_global_avgpool_forward(net->rt, &in0(net, n)->out, &n->out);
}
static clfer_status gap_backward(clfer_net_t *net, clfer__node_t *n) {
  clfer_tensor_t dx;
  clfer_status st = clfer__grad_begin(net, n, 0, &dx);
  if (!st) st = clfer_global_avgpool_backward(net->rt, &n->grad, &dx);
  return st ? st : clfer__grad_commit(net, n, 0, &dx);
}
static double gap_flops(const clfer_net_t *net, const clfer__node_t *n) { return in_features(in0(net, n)); }
const clfer__layer_vtable_t clfer__gap_layer = {"global_avgpool", gap_setup, gap_forward, gap_backward, 0, gap_flops};

/* ---- dropout (identity in eval) ---- */

static clfer_status dropout_forward(clfer_net_t *net, clfer__node_t *n, int train) {
  if (!train || n->dropout_p == 0.0f) return clfer_tensor_copy(&n->out, &in0(net, n)->out);
  clfer_status st = clfer_tensor_create(net->rt, n->out.ndim, n->out.shape, &n->aux[0]);
  if (st) return st;
  /* one counter stream per (step, layer): fresh masks every step, reproducible for a seed */
  uint64_t counter = (net->step << 8) ^ (uint64_t)(n - net->nodes);
  return clfer_dropout_forward(net->rt, n->dropout_p, net->dropout_seed, counter, &in0(net, n)->out, &n->out,
                               &n->aux[0]);
}
static clfer_status dropout_backward(clfer_net_t *net, clfer__node_t *n) {
  clfer_tensor_t dx;
  clfer_status st = clfer__grad_begin(net, n, 0, &dx);
  if (!st) st = n->aux[0].buf ? clfer_dropout_backward(net->rt, &n->grad, &n->aux[0], &dx) : clfer_tensor_copy(&dx, &n->grad);
  return st ? st : clfer__grad_commit(net, n, 0, &dx);
}
const clfer__layer_vtable_t clfer__dropout_layer = {"dropout", same_shape_setup, dropout_forward, dropout_backward, 0,
                                                    numel_flops};

/* ---- batch norm ---- */

static clfer_status bn_setup(clfer_net_t *net, clfer__node_t *n) {
  clfer_status st = clfer__bn_check_params("batchnorm", &n->bn);
  if (st) return clfer_wrap_error(st, "layer %s: ", n->name);
  same_shape_setup(net, n);
  int c = n->out_shape[0];
  if ((st = clfer__net_add_param(net, n, "weight", 1, &c, 0)) || (st = clfer__net_add_param(net, n, "bias", 1, &c, 0)) ||
      (st = clfer__net_add_param(net, n, "running_mean", 1, &c, 1)) ||
      (st = clfer__net_add_param(net, n, "running_var", 1, &c, 1)))
    return st;
  return clfer_tensor_fill(&clfer__node_param(net, n, 3)->value, 1.0f);
}
static clfer_status bn_forward(clfer_net_t *net, clfer__node_t *n, int train) {
  const clfer_tensor_t *x = &in0(net, n)->out;
  clfer_net_param_t *g = clfer__node_param(net, n, 0), *b = clfer__node_param(net, n, 1),
                    *rm = clfer__node_param(net, n, 2), *rv = clfer__node_param(net, n, 3);
  if (!train)
    return n->fused_relu ? clfer_batchnorm_relu_forward_eval(net->rt, &n->bn, n->fused_slope, x, &g->value, &b->value,
                                                             &rm->value, &rv->value, &n->out)
                         : clfer_batchnorm_forward_eval(net->rt, &n->bn, x, &g->value, &b->value, &rm->value,
                                                        &rv->value, &n->out);
  int c = n->out_shape[0];
  clfer_status st;
  if ((st = clfer_tensor_create(net->rt, 1, &c, &n->aux[0])) || (st = clfer_tensor_create(net->rt, 1, &c, &n->aux[1])))
    return st;
  if (n->fused_relu) /* the reading ReLU's pass, fused (net.c) */
    st = clfer_batchnorm_relu_forward_train(net->rt, &n->bn, n->fused_slope, x, &g->value, &b->value, &n->out,
                                            &n->aux[0], &n->aux[1], &rm->value, &rv->value);
  else
    st = clfer_batchnorm_forward_train(net->rt, &n->bn, x, &g->value, &b->value, &n->out, &n->aux[0], &n->aux[1],
                                       &rm->value, &rv->value);
  n->batches_tracked += st == CLFER_OK; /* as PyTorch counts, once per training forward */
  return st;
}
static clfer_status bn_backward(clfer_net_t *net, clfer__node_t *n) {
  clfer_tensor_t dx;
  clfer_status st = clfer__grad_begin(net, n, 0, &dx);
  const clfer_tensor_t *x = &in0(net, n)->out, *gamma = &clfer__node_param(net, n, 0)->value;
  clfer_tensor_t *dgamma = &clfer__node_param(net, n, 0)->grad, *dbeta = &clfer__node_param(net, n, 1)->grad;
  /* fused: n->grad is the ReLU's output gradient (relu_backward passed it on), n->out its output */
  if (!st)
    st = n->fused_relu ? clfer_batchnorm_relu_backward(net->rt, n->fused_slope, x, &n->out, &n->grad, gamma, &n->aux[0],
                                                       &n->aux[1], &dx, dgamma, dbeta)
                       : clfer_batchnorm_backward(net->rt, x, &n->grad, gamma, &n->aux[0], &n->aux[1], &dx, dgamma,
                                                  dbeta);
  return st ? st : clfer__grad_commit(net, n, 0, &dx);
}
static double bn_flops(const clfer_net_t *net, const clfer__node_t *n) { return 2.0 * in_features(n); }
const clfer__layer_vtable_t clfer__batchnorm_layer = {"batchnorm", bn_setup, bn_forward, bn_backward, 0, bn_flops};

/* ---- LRN ---- */

static clfer_status lrn_setup(clfer_net_t *net, clfer__node_t *n) {
  clfer_status st = need_image_input(net, n);
  if (!st && (st = clfer__lrn_check_params("lrn", &n->lrn))) return clfer_wrap_error(st, "layer %s: ", n->name);
  return st ? st : same_shape_setup(net, n);
}
static clfer_status lrn_forward(clfer_net_t *net, clfer__node_t *n, int train) {
  clfer_status st = clfer_tensor_create(net->rt, n->out.ndim, n->out.shape, &n->aux[0]);
  return st ? st : clfer_lrn_forward(net->rt, &n->lrn, &in0(net, n)->out, &n->out, &n->aux[0]);
}
static clfer_status lrn_backward(clfer_net_t *net, clfer__node_t *n) {
  clfer_tensor_t dx;
  clfer_status st = clfer__grad_begin(net, n, 0, &dx);
  if (!st) st = clfer_lrn_backward(net->rt, &n->lrn, &in0(net, n)->out, &n->out, &n->aux[0], &n->grad, &dx);
  return st ? st : clfer__grad_commit(net, n, 0, &dx);
}
static double lrn_flops(const clfer_net_t *net, const clfer__node_t *n) { return (double)in_features(n) * (n->lrn.size + 4); }
const clfer__layer_vtable_t clfer__lrn_layer = {"lrn", lrn_setup, lrn_forward, lrn_backward, 0, lrn_flops};

/* ---- flatten (a view) ---- */

static clfer_status flatten_setup(clfer_net_t *net, clfer__node_t *n) {
  n->out_ndim = 1;
  n->out_shape[0] = in_features(in0(net, n));
  return CLFER_OK;
}
static clfer_status flatten_forward(clfer_net_t *net, clfer__node_t *n, int train) {
  clfer_status st = as_matrix(&in0(net, n)->out, &n->out);
  n->out.owned = 0;
  return st;
}
static clfer_status flatten_backward(clfer_net_t *net, clfer__node_t *n) {
  clfer_tensor_t dx, g;
  clfer_status st = clfer__grad_begin(net, n, 0, &dx);
  if (!st) st = clfer_tensor_reshape(&n->grad, dx.ndim, dx.shape, &g);
  if (!st) st = clfer_tensor_copy(&dx, &g);
  return st ? st : clfer__grad_commit(net, n, 0, &dx);
}
const clfer__layer_vtable_t clfer__flatten_layer = {"flatten", flatten_setup, flatten_forward, flatten_backward, 1, NULL};

/* ---- add (residual) ---- */

static clfer_status add_setup(clfer_net_t *net, clfer__node_t *n) {
  const clfer__node_t *a = &net->nodes[n->inputs[0]], *b = &net->nodes[n->inputs[1]];
  if (a->out_ndim != b->out_ndim || memcmp(a->out_shape, b->out_shape, sizeof a->out_shape) != 0) {
    char sa[64], sb[64], why[200];
    snprintf(why, sizeof why, "inputs %s (%s) and %s (%s) differ", a->name,
             clfer_shape_str(a->out_ndim, a->out_shape, sa, sizeof sa), b->name,
             clfer_shape_str(b->out_ndim, b->out_shape, sb, sizeof sb));
    return shape_error(n, why);
  }
  return same_shape_setup(net, n);
}
static clfer_status add_forward(clfer_net_t *net, clfer__node_t *n, int train) {
  return clfer_add(net->rt, &net->nodes[n->inputs[0]].out, &net->nodes[n->inputs[1]].out, &n->out);
}
static clfer_status add_backward(clfer_net_t *net, clfer__node_t *n) {
  for (int i = 0; i < 2; i++) {
    clfer_tensor_t dx;
    clfer_status st = clfer__grad_begin(net, n, i, &dx);
    if (!st) st = clfer_tensor_copy(&dx, &n->grad);
    if (!st) st = clfer__grad_commit(net, n, i, &dx);
    if (st) return st;
  }
  return CLFER_OK;
}
const clfer__layer_vtable_t clfer__add_layer = {"add", add_setup, add_forward, add_backward, 0, numel_flops};

/* ---- concat along channels/features ---- */

static clfer_status concat_setup(clfer_net_t *net, clfer__node_t *n) {
  const clfer__node_t *first = in0(net, n);
  long long total = 0;
  for (int i = 0; i < n->n_inputs; i++) {
    const clfer__node_t *s = &net->nodes[n->inputs[i]];
    if (s->out_ndim != first->out_ndim || (s->out_ndim == 3 && (s->out_shape[1] != first->out_shape[1] ||
                                                                 s->out_shape[2] != first->out_shape[2])))
      return shape_error(n, "inputs differ in rank or spatial size");
    total += s->out_shape[0];
  }
  if (total > INT_MAX) return shape_error(n, "too many channels");
  same_shape_setup(net, n);
  n->out_shape[0] = (int)total;
  return CLFER_OK;
}
static clfer_status concat_forward(clfer_net_t *net, clfer__node_t *n, int train) {
  const clfer_tensor_t *xs[CLFER__MAX_INPUTS];
  for (int i = 0; i < n->n_inputs; i++) xs[i] = &net->nodes[n->inputs[i]].out;
  return clfer_concat_forward(net->rt, n->n_inputs, xs, &n->out);
}
static clfer_status concat_backward(clfer_net_t *net, clfer__node_t *n) {
  clfer_tensor_t dxs[CLFER__MAX_INPUTS];
  clfer_tensor_t *ptrs[CLFER__MAX_INPUTS];
  clfer_status st = CLFER_OK;
  for (int i = 0; i < n->n_inputs && !st; i++) {
    st = clfer__grad_begin(net, n, i, &dxs[i]);
    ptrs[i] = &dxs[i];
  }
  if (!st) st = clfer_concat_backward(net->rt, &n->grad, n->n_inputs, ptrs);
  for (int i = 0; i < n->n_inputs && !st; i++) st = clfer__grad_commit(net, n, i, &dxs[i]);
  return st;
}
const clfer__layer_vtable_t clfer__concat_layer = {"concat", concat_setup, concat_forward, concat_backward, 0, NULL};

/* ---- softmax (inference heads; training uses the fused losses) ---- */

static clfer_status softmax_setup(clfer_net_t *net, clfer__node_t *n) {
  if (in0(net, n)->out_ndim != 1) return shape_error(n, "needs a flat [features] input");
  return same_shape_setup(net, n);
}
static clfer_status softmax_forward(clfer_net_t *net, clfer__node_t *n, int train) {
  return clfer_softmax_forward(net->rt, &in0(net, n)->out, &n->out);
}
static clfer_status softmax_backward(clfer_net_t *net, clfer__node_t *n) {
  clfer_tensor_t dx;
  clfer_status st = clfer__grad_begin(net, n, 0, &dx);
  if (!st) st = clfer_softmax_backward(net->rt, &n->out, &n->grad, &dx);
  return st ? st : clfer__grad_commit(net, n, 0, &dx);
}
const clfer__layer_vtable_t clfer__softmax_layer = {"softmax", softmax_setup, softmax_forward, softmax_backward, 0,
                                                    numel_flops};
