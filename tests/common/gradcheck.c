/* gradcheck.c — see gradcheck.h. */
#include "gradcheck.h"

#include <math.h>

void gradcheck_numeric(gradcheck_fn f, void *ctx, double *x, size_t n, double h, double *grad) {
  for (size_t i = 0; i < n; i++) {
    double keep = x[i];
    x[i] = keep + h;
    double up = f(ctx, x, n);
    x[i] = keep - h;
    double down = f(ctx, x, n);
    x[i] = keep;
    grad[i] = (up - down) / (2 * h);
  }
}

double gradcheck_compare(const float *analytic, const double *numeric, size_t n, double atol, double rtol,
                         size_t *worst) {
  double max_ratio = 0;
  *worst = 0;
  for (size_t i = 0; i < n; i++) {
    double a = analytic[i], g = numeric[i];
    double r = (isnan(a) || isnan(g)) ? INFINITY : fabs(a - g) / (atol + rtol * fabs(g));
    if (r > max_ratio) {
      max_ratio = r;
      *worst = i;
    }
  }
  return max_ratio;
}
