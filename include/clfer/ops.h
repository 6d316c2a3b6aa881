/* clfer/ops.h — one stateless function per operation and direction. Conventions:
 * - tensors are float32 NCHW (dense layers [N, features]); parameters follow PyTorch's layouts
 *   (conv weight [O, C/groups, KH, KW], linear weight [out, in]);
 * - outputs are overwritten (never accumulated): the graph sums gradients with clfer_add;
 * - shapes are checked and a mismatch is CLFER_SHAPE_MISMATCH naming the op and both shapes;
 * - scratch space comes from the runtime's tensor pool, so repeated calls allocate nothing;
 * - every launch goes through clfer_launch / clfer_sgemm with its FLOP and byte counts. */
#ifndef CLFER_OPS_H
#define CLFER_OPS_H

#include "clfer/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- convolution (im2col + CLBlast GEMM; Winograd F(4×4, 3×3) for wide 3×3 stride-1 layers) */

typedef struct clfer_conv2d_params {
  int kernel_h, kernel_w;
  int stride_h, stride_w; /* 0 is taken as 1 */
  int pad_h, pad_w;
  int groups; /* 0 is taken as 1; in and out channels must divide by it */
} clfer_conv2d_params_t;

/* Output spatial size; 0 when the window does not fit or a size is invalid (kernel < 1, pad < 0). */
int clfer_conv2d_out_size(int in, int kernel, int stride, int pad);

/* y[N,O,OH,OW] = conv(x[N,C,H,W], w[O,C/g,KH,KW]) + b[O] (b may be NULL). */
clfer_status clfer_conv2d_forward(clfer_runtime_t *rt, const clfer_conv2d_params_t *p, const clfer_tensor_t *x,
                                  const clfer_tensor_t *w, const clfer_tensor_t *b, clfer_tensor_t *y);
/* The same followed by a ReLU fused into the output: y = v > 0 ? v : slope·v for each v of the
 * convolution (exactly clfer_relu_forward's values), without the ReLU's own pass over memory. The
 * backward passes stay the convolution's: apply clfer_relu_backward to dy first. */
clfer_status clfer_conv2d_relu_forward(clfer_runtime_t *rt, const clfer_conv2d_params_t *p, float slope,
                                       const clfer_tensor_t *x, const clfer_tensor_t *w, const clfer_tensor_t *b,
                                       clfer_tensor_t *y);
/* dx = ∂L/∂x from dy and w. */
clfer_status clfer_conv2d_backward_data(clfer_runtime_t *rt, const clfer_conv2d_params_t *p,
                                        const clfer_tensor_t *dy, const clfer_tensor_t *w, clfer_tensor_t *dx);
/* dw (and db unless NULL) from x and dy. */
clfer_status clfer_conv2d_backward_weights(clfer_runtime_t *rt, const clfer_conv2d_params_t *p,
                                           const clfer_tensor_t *x, const clfer_tensor_t *dy, clfer_tensor_t *dw,
                                           clfer_tensor_t *db);
/* Both in one pass over the batch (dY is re-laid out once): dw, and db unless NULL, from x and dy
 * (dw NULL: skipped, and db must be NULL too), and dx (NULL: skipped) from dy and w; at least one
 * of dw and dx. */
clfer_status clfer_conv2d_backward(clfer_runtime_t *rt, const clfer_conv2d_params_t *p, const clfer_tensor_t *x,
                                   const clfer_tensor_t *dy, const clfer_tensor_t *w, clfer_tensor_t *dx,
                                   clfer_tensor_t *dw, clfer_tensor_t *db);
/* The same for a convolution whose input x is a ReLU's output (slope as that ReLU's): dx is
 * carried through the ReLU as well, dx = x > 0 ? ∂L/∂x : slope·∂L/∂x (exactly clfer_relu_backward
 * of clfer_conv2d_backward's dx), without the ReLU's own pass over memory. Needs x and dx. */
clfer_status clfer_conv2d_backward_through_relu(clfer_runtime_t *rt, const clfer_conv2d_params_t *p, float slope,
                                                const clfer_tensor_t *x, const clfer_tensor_t *dy,
                                                const clfer_tensor_t *w, clfer_tensor_t *dx, clfer_tensor_t *dw,
                                                clfer_tensor_t *db);

/* ---- dense: y[N,out] = x[N,in] · w[out,in]ᵀ + b[out] ------------------------------------------ */

clfer_status clfer_dense_forward(clfer_runtime_t *rt, const clfer_tensor_t *x, const clfer_tensor_t *w,
                                 const clfer_tensor_t *b, clfer_tensor_t *y);
clfer_status clfer_dense_backward_data(clfer_runtime_t *rt, const clfer_tensor_t *dy, const clfer_tensor_t *w,
                                       clfer_tensor_t *dx);
clfer_status clfer_dense_backward_weights(clfer_runtime_t *rt, const clfer_tensor_t *x, const clfer_tensor_t *dy,
                                          clfer_tensor_t *dw, clfer_tensor_t *db);

/* ---- activations: y = x > 0 ? x : slope·x (slope 0 = ReLU) --------------------------------- */

clfer_status clfer_relu_forward(clfer_runtime_t *rt, float slope, const clfer_tensor_t *x, clfer_tensor_t *y);
/* dx = dy where y > 0, slope·dy elsewhere (y is the forward output; may alias x for slope 0). */
clfer_status clfer_relu_backward(clfer_runtime_t *rt, float slope, const clfer_tensor_t *y, const clfer_tensor_t *dy,
                                 clfer_tensor_t *dx);

/* ---- pooling ---------------------------------------------------------------------------------- */

typedef struct clfer_pool2d_params {
  int kernel_h, kernel_w;
  int stride_h, stride_w; /* 0 = kernel size */
  int pad_h, pad_w;
  int ceil_mode;          /* Caffe rounds the output size up; PyTorch down by default */
  int count_include_pad;  /* average pool: divide by the full window (Caffe, PyTorch default) */
} clfer_pool2d_params_t;

int clfer_pool2d_out_size(int in, int kernel, int stride, int pad, int ceil_mode);
/* Max pool; `argmax` (same shape as y, may be NULL in eval) receives the flat input index within
 * each [H,W] plane, stored as float (exact below 2^24). */
clfer_status clfer_maxpool2d_forward(clfer_runtime_t *rt, const clfer_pool2d_params_t *p, const clfer_tensor_t *x,
                                     clfer_tensor_t *y, clfer_tensor_t *argmax);
clfer_status clfer_maxpool2d_backward(clfer_runtime_t *rt, const clfer_pool2d_params_t *p, const clfer_tensor_t *dy,
                                      const clfer_tensor_t *argmax, clfer_tensor_t *dx);
/* The same for a max pool whose input is a ReLU's output (slope as that ReLU's): dx is carried
 * through the ReLU as well, each window's gradient times slope where its maximum y (the pool's
 * forward output, the ReLU's output at the argmax) is not > 0, without the ReLU's own pass. The
 * same numbers as clfer_relu_backward of clfer_maxpool2d_backward's dx where windows do not
 * overlap (a masked zero may be +0 where that gives −0); overlapping windows under a leaky slope
 * may round differently (the slope multiplies each window's share instead of their sum). */
clfer_status clfer_maxpool2d_backward_through_relu(clfer_runtime_t *rt, const clfer_pool2d_params_t *p, float slope,
                                                   const clfer_tensor_t *y, const clfer_tensor_t *dy,
                                                   const clfer_tensor_t *argmax, clfer_tensor_t *dx);
clfer_status clfer_avgpool2d_forward(clfer_runtime_t *rt, const clfer_pool2d_params_t *p, const clfer_tensor_t *x,
                                     clfer_tensor_t *y);
clfer_status clfer_avgpool2d_backward(clfer_runtime_t *rt, const clfer_pool2d_params_t *p, const clfer_tensor_t *dy,
                                      clfer_tensor_t *dx);
/* y[N,C,1,1] = mean over H×W. */
clfer_status clfer_global_avgpool_forward(clfer_runtime_t *rt, const clfer_tensor_t *x, clfer_tensor_t *y);
clfer_status clfer_global_avgpool_backward(clfer_runtime_t *rt, const clfer_tensor_t *dy, clfer_tensor_t *dx);

/* ---- dropout: counter-based RNG (Philox-style) keyed by (seed, counter, element) ------------ */

/* y = x·mask, mask = (u ≥ p) / (1−p); `mask` (shape of x) is kept for backward. */
clfer_status clfer_dropout_forward(clfer_runtime_t *rt, float p, uint64_t seed, uint64_t counter,
                                   const clfer_tensor_t *x, clfer_tensor_t *y, clfer_tensor_t *mask);
clfer_status clfer_dropout_backward(clfer_runtime_t *rt, const clfer_tensor_t *dy, const clfer_tensor_t *mask,
                                    clfer_tensor_t *dx);

/* ---- batch norm over N·H·W per channel (x [N,C,H,W] or [N,C]) ---------------------------------- */

typedef struct clfer_batchnorm_params {
  float eps;      /* 1e-5 */
  float momentum; /* running = (1−momentum)·running + momentum·batch (PyTorch's 0.1) */
} clfer_batchnorm_params_t;

/* Training: normalises with batch statistics, saves mean and 1/sqrt(var+eps) per channel, and
 * updates the running mean and (unbiased) running variance. */
clfer_status clfer_batchnorm_forward_train(clfer_runtime_t *rt, const clfer_batchnorm_params_t *p,
                                           const clfer_tensor_t *x, const clfer_tensor_t *gamma,
                                           const clfer_tensor_t *beta, clfer_tensor_t *y, clfer_tensor_t *save_mean,
                                           clfer_tensor_t *save_invstd, clfer_tensor_t *running_mean,
                                           clfer_tensor_t *running_var);
clfer_status clfer_batchnorm_forward_eval(clfer_runtime_t *rt, const clfer_batchnorm_params_t *p,
                                          const clfer_tensor_t *x, const clfer_tensor_t *gamma,
                                          const clfer_tensor_t *beta, const clfer_tensor_t *running_mean,
                                          const clfer_tensor_t *running_var, clfer_tensor_t *y);
clfer_status clfer_batchnorm_backward(clfer_runtime_t *rt, const clfer_tensor_t *x, const clfer_tensor_t *dy,
                                      const clfer_tensor_t *gamma, const clfer_tensor_t *save_mean,
                                      const clfer_tensor_t *save_invstd, clfer_tensor_t *dx, clfer_tensor_t *dgamma,
                                      clfer_tensor_t *dbeta);
/* The same three with a ReLU (leaky for slope > 0; slope finite and ≥ 0) fused on the output:
 * y = relu(bn(x)) in one pass over memory, equal to the two ops to the bit. The backward pass
 * takes that y and dL/dy, and masks dy by y's sign as clfer_relu_backward does. */
clfer_status clfer_batchnorm_relu_forward_train(clfer_runtime_t *rt, const clfer_batchnorm_params_t *p, float slope,
                                                const clfer_tensor_t *x, const clfer_tensor_t *gamma,
                                                const clfer_tensor_t *beta, clfer_tensor_t *y,
                                                clfer_tensor_t *save_mean, clfer_tensor_t *save_invstd,
                                                clfer_tensor_t *running_mean, clfer_tensor_t *running_var);
clfer_status clfer_batchnorm_relu_forward_eval(clfer_runtime_t *rt, const clfer_batchnorm_params_t *p, float slope,
                                               const clfer_tensor_t *x, const clfer_tensor_t *gamma,
                                               const clfer_tensor_t *beta, const clfer_tensor_t *running_mean,
                                               const clfer_tensor_t *running_var, clfer_tensor_t *y);
clfer_status clfer_batchnorm_relu_backward(clfer_runtime_t *rt, float slope, const clfer_tensor_t *x,
                                           const clfer_tensor_t *y, const clfer_tensor_t *dy,
                                           const clfer_tensor_t *gamma, const clfer_tensor_t *save_mean,
                                           const clfer_tensor_t *save_invstd, clfer_tensor_t *dx,
                                           clfer_tensor_t *dgamma, clfer_tensor_t *dbeta);

/* ---- local response normalisation across channels (Caffe/PyTorch LocalResponseNorm) ------- */

typedef struct clfer_lrn_params {
  int size;    /* channels in the window (5) */
  float alpha; /* 1e-4; divided by size as Caffe and PyTorch do */
  float beta;  /* 0.75 */
  float k;     /* 1 (Caffe), 2 (VGG-CNN-M) */
} clfer_lrn_params_t;

/* y = x / scale^beta with scale = k + alpha/size · Σ x²; `scale` (shape of x) kept for backward. */
clfer_status clfer_lrn_forward(clfer_runtime_t *rt, const clfer_lrn_params_t *p, const clfer_tensor_t *x,
                               clfer_tensor_t *y, clfer_tensor_t *scale);
clfer_status clfer_lrn_backward(clfer_runtime_t *rt, const clfer_lrn_params_t *p, const clfer_tensor_t *x,
                                const clfer_tensor_t *y, const clfer_tensor_t *scale, const clfer_tensor_t *dy,
                                clfer_tensor_t *dx);

/* ---- softmax over the last dimension of [N, K] ------------------------------------------------ */

clfer_status clfer_softmax_forward(clfer_runtime_t *rt, const clfer_tensor_t *x, clfer_tensor_t *y);
/* dx = y ⊙ (dy − Σ dy⊙y). */
clfer_status clfer_softmax_backward(clfer_runtime_t *rt, const clfer_tensor_t *y, const clfer_tensor_t *dy,
                                    clfer_tensor_t *dx);

/* ---- element-wise and structural -------------------------------------------------------------- */

/* y = a + b (same shapes; y may alias a or b). */
clfer_status clfer_add(clfer_runtime_t *rt, const clfer_tensor_t *a, const clfer_tensor_t *b, clfer_tensor_t *y);
/* y = alpha·x + y. */
clfer_status clfer_axpy(clfer_runtime_t *rt, float alpha, const clfer_tensor_t *x, clfer_tensor_t *y);
clfer_status clfer_scale(clfer_runtime_t *rt, float alpha, clfer_tensor_t *x);
/* Concatenate along dimension 1 (channels or features). */
clfer_status clfer_concat_forward(clfer_runtime_t *rt, int n_inputs, const clfer_tensor_t *const *xs,
                                  clfer_tensor_t *y);
clfer_status clfer_concat_backward(clfer_runtime_t *rt, const clfer_tensor_t *dy, int n_inputs,
                                   clfer_tensor_t *const *dxs);

#ifdef __cplusplus
}
#endif
#endif
