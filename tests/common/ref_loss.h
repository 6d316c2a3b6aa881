/* ref_loss.h — plain-C double references of the losses in clfer/loss.h and of PyTorch's SGD and
 * Adam update rules, for the tests: values, analytic gradients, and functions smooth enough for
 * central finite differences. Labels are ints here (−1 = missing). */
#ifndef CLFER_TEST_REF_LOSS_H
#define CLFER_TEST_REF_LOSS_H

#include <stddef.h>

/* −(1/N) Σ t·log softmax(z); grad (N·K, may be NULL) = (Σt·q − t)/N. */
double ref_xent(const double *z, const double *t, int N, int K, double *grad);
/* −(1/N) Σ log max_k t_k·q_k (rows with all-zero t skipped); grad through the arg-max. */
double ref_multilabel(const double *z, const double *t, int N, int K, double *grad);

/* ½ Σ_i ‖x_i − m_i‖² (÷N when mean), m_i = mean of the k nearest same-class samples (ties: lower
 * index). With `fixed_means` (N·D) those means are used instead of being searched — the function
 * whose derivative is the paper's eq. 4. means (N·D) and has (N) receive what was used; grad = the
 * eq. 4 gradient. Any output may be NULL. */
double ref_locality(const double *x, const int *labels, int N, int D, int k, int mean_over_batch,
                    const double *fixed_means, double *means, int *has, double *grad);

/* ½ Σ_i ‖x_i − c_{y_i}‖² (÷N when mean); labels outside [0,K) skipped. */
double ref_center(const double *x, const int *labels, const double *centres, int N, int D, int K, int mean_over_batch,
                  double *grad);
/* c_j −= α·Σ_{y_i=j}(c_j − x_i)/(1+n_j). */
void ref_center_update(const double *x, const int *labels, double *centres, int N, int D, int K, double alpha);

/* LTNet with T used as given (no projection): (1/N) Σ_n Σ_c w_c·(−log p̂^c_{y}) or, with caffe,
 * the CE of softmax(p̂^c). y is N·C (−1 = missing). dz (N·L) and dT (C·L·L) may be NULL. */
double ref_ltnet(const double *z, const int *y, const double *T, const double *w, int N, int C, int L, int caffe,
                 double *dz, double *dT);
/* Clamp to ≥ min and divide each row by its sum. */
void ref_ltnet_project(double *T, int C, int L, double min_value);

/* torch.optim.SGD for one parameter; `first` = the parameter's first step (buffer = d). */
void ref_sgd_step(double *p, const double *g, double *buf, size_t n, double lr, double momentum, double dampening,
                  double weight_decay, int nesterov, int first);
/* torch.optim.Adam / AdamW for one parameter at step t ≥ 1. */
void ref_adam_step(double *p, const double *g, double *m, double *v, size_t n, double lr, double beta1, double beta2,
                   double eps, double weight_decay, int decoupled, long t);

#endif
