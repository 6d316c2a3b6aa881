/* ref_conv.h — plain-C double references for conv2d and dense, used by tests and benchmarks. */
#ifndef CLFER_TEST_REF_CONV_H
#define CLFER_TEST_REF_CONV_H

/* One convolution case: shapes and parameters (shared by test_ops_conv.c and perf/bench_ops.c). */
typedef struct conv_case {
  const char *name;
  int n, c, h, w, o, k, stride, pad, groups, bias;
} conv_case_t;

int ref_conv_out(int in, int k, int stride, int pad);
/* y[n,o,oh,ow] = Σ x·w + b (b may be NULL) */
void ref_conv2d_forward(const conv_case_t *cc, const double *x, const double *w, const double *b, double *y);
/* y[n,out] = x[n,in]·wᵀ + b */
void ref_dense_forward(int n, int in, int out, const double *x, const double *w, const double *b, double *y);

#endif
