/* ref_ops.h — plain-C references in double for the layer ops (activations, pooling, dropout's
 * Philox generator, batch norm, LRN, softmax): the tests compare the OpenCL kernels with these
 * and take finite differences through them. Written from the papers and the PyTorch/Caffe
 * definitions, independently of the kernels. */
#ifndef CLFER_TEST_REF_OPS_H
#define CLFER_TEST_REF_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "clfer/ops.h"

/* y = x > 0 ? x : slope·x */
void refop_relu(double slope, const double *x, double *y, size_t n);

/* Output size by enumerating window starts (PyTorch's rule, counted rather than computed). */
int refop_pool_out(int in, int kernel, int stride, int pad, int ceil_mode);
/* x [N,C,H,W] → y [N,C,OH,OW]; argmax (may be NULL) gets the flat h·W+w of the first maximum. */
void refop_maxpool2d(const clfer_pool2d_params_t *p, int N, int C, int H, int W, const double *x, double *y,
                     int *argmax);
void refop_avgpool2d(const clfer_pool2d_params_t *p, int N, int C, int H, int W, const double *x, double *y);
void refop_global_avgpool(int N, int C, int HW, const double *x, double *y);

/* Batch norm with batch statistics over N·HW per channel; mean and biased var returned when not
 * NULL. */
void refop_batchnorm_train(int N, int C, int HW, double eps, const double *x, const double *gamma,
                           const double *beta, double *y, double *mean, double *var);
void refop_batchnorm_eval(int N, int C, int HW, double eps, const double *x, const double *gamma,
                          const double *beta, const double *rmean, const double *rvar, double *y);

/* PyTorch LocalResponseNorm: window [c − size/2, c + (size−1)/2], scale = k + alpha/size·Σx². */
void refop_lrn(int N, int C, int HW, int size, double alpha, double beta, double k, const double *x, double *y,
               double *scale);

/* Row-wise softmax of [rows, K]. */
void refop_softmax(int rows, int K, const double *x, double *y);

/* Philox-4x32-10 exactly as Random123's philox4x32_R(10, ctr, key). */
void refop_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
/* The dropout mask clfer defines: element i uses word i%4 of Philox block i/4 with counter
 * (i/4, 0, counter_lo, counter_hi) and key (seed_lo, seed_hi); keep when its top 24 bits ≥
 * ceil(p·2^24); kept elements hold 1/(1−p). */
void refop_dropout_mask(double p, uint64_t seed, uint64_t counter, size_t n, double *mask);

#endif
