/* gradcheck.h — central finite differences in double on the host, for checking every backward
 * pass and loss gradient against a plain-C reference written in double. */
#ifndef CLFER_TEST_GRADCHECK_H
#define CLFER_TEST_GRADCHECK_H

#include <stddef.h>

/* A scalar function of n doubles (typically Σ r ⊙ reference_forward(x) for fixed random r). */
typedef double (*gradcheck_fn)(void *ctx, const double *x, size_t n);

/* grad[i] = (f(x + h·e_i) − f(x − h·e_i)) / 2h. x is restored on return. */
void gradcheck_numeric(gradcheck_fn f, void *ctx, double *x, size_t n, double h, double *grad);

/* Compares an analytic float gradient with a numeric double one: returns the worst
 * |a−n| / (atol + rtol·|n|) and its index. */
double gradcheck_compare(const float *analytic, const double *numeric, size_t n, double atol, double rtol,
                         size_t *worst);

#endif
