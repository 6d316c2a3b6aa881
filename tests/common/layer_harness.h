/* layer_harness.h — test plumbing for the layer-op tests: device tensors inside guard zones (a
 * sentinel before and after, checked after every op to catch out-of-bounds writes, and a non-zero
 * element offset so kernels must honour t->offset), float/double conversion, and the loss
 * Σ r ⊙ f(x) through a double reference for finite-difference gradient checks. */
#ifndef CLFER_TEST_LAYER_HARNESS_H
#define CLFER_TEST_LAYER_HARNESS_H

#include <stddef.h>

#include "clfer.h"

#define LH_GUARD 37          /* sentinel elements on each side */
#define LH_SENTINEL 1234.5f  /* a value no op here produces from the test data */

typedef struct lh_tensor {
  clfer_tensor_t base; /* owns the block */
  clfer_tensor_t t;    /* the view the op sees */
  size_t n;
} lh_tensor_t;

/* Makes a guarded tensor; uploads `data` (numel floats) when not NULL, else fills with the
 * sentinel. Asserts on failure. */
void lh_make(clfer_runtime_t *rt, int ndim, const int *shape, const float *data, lh_tensor_t *g);
/* Downloads the view into `out` (may be NULL) and asserts both guard zones are untouched. */
void lh_read(const lh_tensor_t *g, float *out, const char *what);
void lh_free(lh_tensor_t *g);

/* Heap copies (free() them). */
double *lh_to_double(const float *x, size_t n);
float *lh_to_float(const double *x, size_t n);
float *lh_uniform(size_t n, unsigned long long seed, float lo, float hi);

/* A double reference y = f(ctx, x). */
typedef void (*lh_forward_fn)(void *ctx, const double *x, double *y);
/* grad = ∂/∂x Σ_i r_i·f(x)_i by central differences with step h (x is restored). */
void lh_numeric_grad(lh_forward_fn f, void *ctx, double *x, size_t nx, const double *r, size_t ny, double h,
                     double *grad);
/* Asserts |analytic − numeric| ≤ atol + rtol·|numeric| everywhere, naming the worst element. */
void lh_assert_grad(const float *analytic, const double *numeric, size_t n, double atol, double rtol,
                    const char *what);
/* Asserts |got − want| ≤ atol + rtol·|want| everywhere. */
void lh_assert_close_d(const float *got, const double *want, size_t n, double atol, double rtol, const char *what);

#endif
