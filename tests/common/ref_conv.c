/* ref_conv.c — see ref_conv.h. Direct loops, no cleverness: this is the definition. */
#include "ref_conv.h"

int ref_conv_out(int in, int k, int stride, int pad) { return (in + 2 * pad - k) / stride + 1; }

void ref_conv2d_forward(const conv_case_t *cc, const double *x, const double *w, const double *b, double *y) {
  int oh = ref_conv_out(cc->h, cc->k, cc->stride, cc->pad), ow = ref_conv_out(cc->w, cc->k, cc->stride, cc->pad);
  int cg = cc->c / cc->groups, og = cc->o / cc->groups;
  for (int n = 0; n < cc->n; n++)
    for (int o = 0; o < cc->o; o++) {
      int gi = o / og;
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
          double s = b ? b[o] : 0.0;
          for (int ci = 0; ci < cg; ci++)
            for (int ky = 0; ky < cc->k; ky++)
              for (int kx = 0; kx < cc->k; kx++) {
                int iy = oy * cc->stride - cc->pad + ky, ix = ox * cc->stride - cc->pad + kx;
                if (iy < 0 || iy >= cc->h || ix < 0 || ix >= cc->w) continue;
                int c = gi * cg + ci;
                s += x[((n * cc->c + c) * cc->h + iy) * cc->w + ix] * w[((o * cg + ci) * cc->k + ky) * cc->k + kx];
              }
          y[((n * cc->o + o) * oh + oy) * ow + ox] = s;
        }
    }
}

void ref_dense_forward(int n, int in, int out, const double *x, const double *w, const double *b, double *y) {
  for (int i = 0; i < n; i++)
    for (int o = 0; o < out; o++) {
      double s = b ? b[o] : 0.0;
      for (int j = 0; j < in; j++) s += x[i * in + j] * w[o * in + j];
      y[i * out + o] = s;
    }
}
